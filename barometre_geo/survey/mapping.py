"""Mapping files: which export column is which catalogue question or identification role.

A mapping is a small YAML file (format in docs/contracts/survey.md, "Mapping files") so that
a new edition or survey platform is plugged in without code. Its structure is
checked in one place against its JSON Schema (:data:`SCHEMA`, shipped as
``data/mapping.schema.json``, validated with ``jsonschema``); ids are checked
against the indicator catalogue.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .._paths import package_data
from ..errors import InputFileError, SchemaError
from ..territories.readings import HOLDS
from .text import key

__all__ = [
    "DEFAULT_HOLDS",
    "IDENTIFIER_ROLES",
    "KINDS",
    "PERSONAL_ROLES",
    "ROLES",
    "SCHEMA",
    "Mapping",
    "default_mapping",
    "load_mapping",
    "schema_errors",
]

#: Identification roles a column can play (besides catalogue indicator ids).
ROLES: tuple[str, ...] = (
    "response_ref",
    "date",
    "wave",
    "nom",
    "type",
    "siren",
    "insee",
    "code",
    "code_postal",
    "departement",
    "fonction",
    "synthetic",
    "test",
    "email",
    "phone",
    "name",
)
#: Roles identifying the collectivity, and what each holds unless ``holds:`` says otherwise:
#: ``code`` is a column of identifiers of unknown kind (INSEE and postal codes mixed…).
DEFAULT_HOLDS: dict[str, str] = {
    "siren": "siren",
    "insee": "insee",
    "code": "auto",
    "code_postal": "postal",
    "nom": "auto",
}
IDENTIFIER_ROLES: tuple[str, ...] = tuple(DEFAULT_HOLDS)
assert set(HOLDS) >= set(DEFAULT_HOLDS.values())
#: Roles holding personal data: dropped at read, never kept.
PERSONAL_ROLES: tuple[str, ...] = ("email", "phone", "name")
#: Kinds a "type of collectivity" label can map to.
KINDS: tuple[str, ...] = (
    "commune",
    "epci",
    "departement",
    "region",
    "collectivite_a_statut_particulier",
    "syndicat",
    "hors_champ",
)
MAPPING_VERSION = 1

#: JSON Schema (draft 2020-12) of a mapping file, shipped as data so that editors can check
#: mapping files too; validated by ``jsonschema`` (:func:`schema_errors`).
SCHEMA: dict = json.loads(package_data("mapping.schema.json").read_text(encoding="utf-8"))


@dataclass(frozen=True, repr=False)
class Mapping:
    """A validated mapping: export columns and answers to catalogue ids and roles.

    Build it with :func:`load_mapping` or :func:`default_mapping`. Every text
    field is a tuple of alternatives, matched ignoring case, accents and
    punctuation.

    Attributes
    ----------
    name, source : str
        Display name, and the file it was read from (``"default"`` for the default).
    columns : dict
        Target (role, indicator id, or ``"indicator.option"``) -> header texts.
    ignore : tuple of str
        Headers skipped silently.
    values : dict
        Option id -> answers, for every question.
    indicator_values : dict
        Indicator id -> {option id -> answers}, winning over ``values``.
    checked, unchecked : tuple of str
        Cell values of one-column-per-option multiple-choice layouts.
    types : dict
        Kind -> labels of the "type of collectivity" column (``*`` suffix = prefix).
    profiles : dict
        ``agent``/``elu`` -> phrases of the respondent's function.
    test_markers : tuple of str
        Whole words marking a test row in the structure name.
    holds : dict
        Identifier role -> what its column holds (:data:`~barometre_geo.resolve.HOLDS`),
        over :data:`DEFAULT_HOLDS`.
    corrections : dict
        Identifier as typed -> code it designates (INSEE code, SIREN, ``departement:69``),
        confirmed by the user from the ingest report's suggestions; applied only where the
        value alone leaves its row undecided (``"value | name"``: on the rows of that name).
    edition : str or None
    synthetic : bool
        True for demo exports (synthetic data).
    wave : int or None
        Fixed wave of every row, when files carry no wave column.
    encoding, delimiter, sheet
        Forced reading options (else detected).
    """

    name: str = "mapping"
    source: str = "default"
    columns: dict = field(default_factory=dict)
    ignore: tuple = ()
    values: dict = field(default_factory=dict)
    indicator_values: dict = field(default_factory=dict)
    checked: tuple = ()
    unchecked: tuple = ()
    types: dict = field(default_factory=dict)
    profiles: dict = field(default_factory=dict)
    test_markers: tuple = ()
    holds: dict = field(default_factory=lambda: dict(DEFAULT_HOLDS))
    corrections: dict = field(default_factory=dict)
    edition: str | None = None
    synthetic: bool = False
    wave: int | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None

    def to_dict(self) -> dict:
        """Return the mapping as a plain dict in the file format (for ``yaml.safe_dump``).

        Examples
        --------
        >>> import barometre_geo as bg
        >>> d = bg.default_mapping().to_dict()
        >>> d["mapping_version"], d["columns"]["insee"][0]
        (1, 'Code INSEE')
        """
        out: dict = {"mapping_version": MAPPING_VERSION, "name": self.name, "extends": "none"}
        for attr in ("edition", "wave"):
            if getattr(self, attr) is not None:
                out[attr] = getattr(self, attr)
        out["synthetic"] = self.synthetic
        read = {k: getattr(self, k) for k in ("encoding", "delimiter", "sheet")}
        if any(v is not None for v in read.values()):
            out["read"] = {k: v for k, v in read.items() if v is not None}
        out["columns"] = {k: list(v) for k, v in self.columns.items()}
        out["ignore"] = list(self.ignore)
        out["values"] = {k: list(v) for k, v in self.values.items()}
        out["indicator_values"] = {
            i: {o: list(v) for o, v in d.items()} for i, d in self.indicator_values.items()
        }
        for attr in ("checked", "unchecked", "test_markers"):
            out[attr] = list(getattr(self, attr))
        out["types"] = {k: list(v) for k, v in self.types.items()}
        out["profiles"] = {k: list(v) for k, v in self.profiles.items()}
        out["holds"] = dict(self.holds)
        if self.corrections:
            out["corrections"] = dict(self.corrections)
        return out

    def __repr__(self) -> str:
        n_ind = sum(1 for t in self.columns if t not in ROLES)
        return (
            f"<Mapping {self.name!r} ({self.source}): {n_ind} question columns, "
            f"{sum(1 for t in self.columns if t in ROLES)} identification roles"
            f"{', synthetic' if self.synthetic else ''}>"
        )


# ---------------------------------------------------------------------- YAML


def _yaml_loader():
    """SafeLoader where only true/false are booleans (``Oui``/``No``/``Y`` stay text)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    return Loader


def _read_yaml(path: Path) -> dict:
    import yaml

    if not path.is_file():
        raise InputFileError(
            f"{path}: mapping file not found. Check the path, or omit the mapping to use the "
            "default one (barometre_geo.default_mapping())."
        )
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_yaml_loader())
    except UnicodeDecodeError:
        raise InputFileError(
            f"{path}: the mapping file is not UTF-8. Save it as UTF-8 in your editor."
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputFileError(
            f"{path}:{where}: invalid YAML ({getattr(exc, 'problem', exc)}). Quote texts "
            'containing ": " or starting with a special character ("[", "*", "&", "?"), '
            'e.g. - "Question : précisez".'
        ) from None
    if not isinstance(doc, dict):
        raise SchemaError(
            f"{path}: a mapping file must be a YAML mapping starting with "
            f"'mapping_version: {MAPPING_VERSION}'; found {type(doc).__name__}."
        )
    return doc


# ---------------------------------------------------------------------- schema


def schema_errors(doc) -> list[str]:
    """Check a mapping document against :data:`SCHEMA`; return one line per problem.

    The validation is ``jsonschema``'s; this function only words its errors the
    way the rest of the package does (path, what was expected, the closest valid
    key), so that every problem of a file is listed at once.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA)
    out: list[str] = []
    for err in validator.iter_errors(doc):
        out.extend(_describe(err))
    return sorted(dict.fromkeys(out), key=lambda line: line.split(":")[0])


def _where(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _is_text(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, str | int | float) and str(v).strip() != ""


def _describe(err) -> list[str]:
    where, value, schema = _where(err.absolute_path), err.instance, err.schema
    kind = err.validator
    if kind == "required":
        return [
            f"{where or 'top level'}: missing required key {name!r}"
            for name in err.validator_value
            if name not in value
        ]
    if "propertyNames" in err.schema_path:  # a key outside a fixed list (types, profiles)
        return [_unknown_key(where, value, list(err.validator_value))]
    if kind == "additionalProperties":
        valid = list(schema.get("properties", {}))
        return [_unknown_key(where, k, valid) for k in value if k not in valid]
    if schema.get("x-kind") == "texts":
        items = value if isinstance(value, list) else [value]
        bad = [(i, v) for i, v in enumerate(items) if not _is_text(v)]
        return [f"{where}[{i}]: expected a text, found {v!r}" for i, v in bad]
    if kind == "type":
        types = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if "object" in types:
            return [f"{where or 'top level'}: expected a mapping of keys, found {value!r}"]
        name = schema.get("x-kind") or next(t for t in types if t != "null")
        return [f"{where}: expected {name}, found {value!r}"]
    if kind == "enum":
        valid = [v for v in err.validator_value if v is not None]
        return [f"{where}: {value!r} is not one of {valid}"]
    return [f"{where or 'top level'}: {err.message}"]


def _unknown_key(where: str, name, valid: list) -> str:
    close = difflib.get_close_matches(str(name), [str(v) for v in valid], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    sub = f"{where}.{name}" if where else str(name)
    return f"{sub}: unknown key{hint}; valid keys: {', '.join(map(str, valid))}"


def _texts(value) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(str(v).strip() for v in items if v is not None)


def _merge_lists(base: dict, extra: dict) -> dict:
    out = {k: tuple(v) for k, v in base.items()}
    for k, v in extra.items():
        out[k] = tuple(dict.fromkeys(_texts(v) + out.get(k, ())))
    return out


# ---------------------------------------------------------------------- building


def _from_document(doc: dict, source: str, base: Mapping | None) -> Mapping:
    errors = schema_errors(doc)
    corrections = doc.get("corrections") if isinstance(doc, dict) else None
    if isinstance(corrections, dict):
        unquoted = [(k, v) for k, v in corrections.items() if not isinstance(k, str)
                    or not isinstance(v, str)]  # fmt: skip
        if unquoted:
            errors = [e for e in errors if not e.startswith("corrections")]
        errors += [
            f"corrections.{k}: {k!r}: {v!r} — write both between quotes "
            f'("{k}": "{v}"): unquoted, YAML reads numbers, which lose their leading zero '
            "(01400 even reads as an octal number)"
            for k, v in unquoted
        ]
    if errors:
        raise SchemaError(
            f"{source}: invalid mapping file:\n  - "
            + "\n  - ".join(errors)
            + "\nFix these keys (format: docs/contracts/survey.md, 'Mapping files', and the JSON "
            "Schema barometre_geo/data/mapping.schema.json; start from "
            "barometre_geo.default_mapping().to_dict())."
        )
    if doc.get("extends", "default") == "none" or base is None:
        base = Mapping()
    columns = {k: tuple(v) for k, v in base.columns.items()}
    for target, headers in (doc.get("columns") or {}).items():
        new = _texts(headers)
        new_keys = {key(h) for h in new}
        # a header re-assigned by the user leaves its previous target
        for t in list(columns):
            columns[t] = tuple(h for h in columns[t] if key(h) not in new_keys)
        columns[str(target)] = tuple(dict.fromkeys(new + columns.get(str(target), ())))
    ind_values = {i: dict(d) for i, d in base.indicator_values.items()}
    for ind, opts in (doc.get("indicator_values") or {}).items():
        ind_values[str(ind)] = _merge_lists(ind_values.get(str(ind), {}), opts)
    read = doc.get("read") or {}
    return Mapping(
        name=str(doc.get("name") or Path(source).stem),
        source=source,
        columns={k: v for k, v in columns.items() if v},
        ignore=tuple(dict.fromkeys(_texts(doc.get("ignore") or []) + base.ignore)),
        values=_merge_lists(base.values, doc.get("values") or {}),
        indicator_values=ind_values,
        checked=tuple(dict.fromkeys(_texts(doc.get("checked") or []) + base.checked)),
        unchecked=tuple(dict.fromkeys(_texts(doc.get("unchecked") or []) + base.unchecked)),
        types=_merge_lists(base.types, doc.get("types") or {}),
        profiles=_merge_lists(base.profiles, doc.get("profiles") or {}),
        test_markers=tuple(
            dict.fromkeys(_texts(doc.get("test_markers") or []) + base.test_markers)
        ),
        holds={**base.holds, **{str(k): str(v) for k, v in (doc.get("holds") or {}).items()}},
        corrections={
            **base.corrections,
            **{str(k).strip(): str(v).strip() for k, v in (doc.get("corrections") or {}).items()},
        },
        edition=str(doc["edition"]) if doc.get("edition") is not None else base.edition,
        synthetic=bool(doc.get("synthetic", base.synthetic)),
        wave=doc.get("wave", base.wave),
        encoding=read.get("encoding", base.encoding),
        delimiter=read.get("delimiter", base.delimiter),
        sheet=read.get("sheet", base.sheet),
    )


def _check_ids(mapping: Mapping, catalogue) -> None:
    """Check every target and option id of the mapping against the catalogue."""
    indicators = {i.id: i for i in catalogue.indicators}
    all_options = {o.id for i in catalogue.indicators for o in i.options} | {"sans_reponse"}
    errors = []

    def unknown(what: str, value: str, valid) -> str:
        valid = sorted(valid)
        close = difflib.get_close_matches(value, valid, n=3)
        if len(valid) <= 12:
            hint = f" Valid: {', '.join(valid)}."
        else:
            hint = f" Closest: {', '.join(close)}." if close else ""
        return f"{what} {value!r} is not in the catalogue.{hint}"

    free_texts = {i.free_text.id for i in catalogue.indicators if i.free_text}
    for target in mapping.columns:
        if target in ROLES or target in indicators or target in free_texts:
            continue
        ind, _, opt = target.partition(".")
        if opt and ind in indicators and indicators[ind].kind == "multiple_choice":
            if opt not in {o.id for o in indicators[ind].options}:
                errors.append(unknown(f"columns: option of {ind}", opt, _opt_ids(indicators[ind])))
            continue
        errors.append(unknown("columns: target", target, list(ROLES) + list(indicators)))
    for opt in mapping.values:
        if opt not in all_options:
            errors.append(unknown("values: option id", opt, all_options))
    for ind, opts in mapping.indicator_values.items():
        if ind not in indicators:
            errors.append(unknown("indicator_values: indicator", ind, indicators))
            continue
        for opt in opts:
            if opt not in _opt_ids(indicators[ind]) | {"sans_reponse"}:
                errors.append(
                    unknown(f"indicator_values: option of {ind}", opt, _opt_ids(indicators[ind]))
                )
    if errors:
        raise SchemaError(
            f"{mapping.source}: the mapping names ids unknown to the catalogue:\n  - "
            + "\n  - ".join(errors)
            + "\nFix: use the ids of barometre_geo.load_catalogue().to_frame() (column 'id', and "
            "'options'), or the roles " + ", ".join(ROLES) + "."
        )


def _opt_ids(indicator) -> set[str]:
    return {o.id for o in indicator.options}


def _catalogue(catalogue):
    if catalogue is not None:
        return catalogue
    from .catalogue import load_catalogue

    return load_catalogue()


def default_mapping(catalogue=None) -> Mapping:
    """Return the mapping of the barometer's own export format.

    Column headers are the catalogue's ``question`` texts (multiple choice:
    ``question [option label]``, one column per option), plus the
    identification columns, platform synonyms and answer vocabulary of
    ``barometre_geo/data/mapping.yaml``.

    Parameters
    ----------
    catalogue : Catalogue, optional
        Default :func:`barometre_geo.load_catalogue`.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> m = bg.default_mapping()
    >>> m.columns["siren"][:2]
    ('SIREN', 'SIRET')
    """
    catalogue = _catalogue(catalogue)
    doc = _read_yaml(package_data("mapping.yaml"))
    columns = {i.id: (i.question,) for i in catalogue.indicators if i.question}
    columns.update(
        {i.free_text.id: (i.free_text.question,) for i in catalogue.indicators if i.free_text}
    )
    base = Mapping(name="catalogue", columns=columns)
    mapping = _from_document(doc, "default", base)
    _check_ids(mapping, catalogue)
    return mapping


def load_mapping(source=None, *, catalogue=None) -> Mapping:
    """Read and validate a mapping file.

    Parameters
    ----------
    source : path-like, dict, Mapping or None
        A YAML mapping file (see docs/contracts/survey.md, "Mapping files"), the same
        content as a dict, an existing :class:`Mapping` (returned as is), or
        None for :func:`default_mapping`. Unless it says ``extends: none``, a
        mapping extends the default one: list only what differs.
    catalogue : Catalogue, optional
        Catalogue the ids are checked against (default: the embedded one).

    Raises
    ------
    InputFileError
        The file is missing or not valid YAML (line and column given).
    SchemaError
        Unknown keys, wrong types, or ids absent from the catalogue (closest given).

    Examples
    --------
    >>> import barometre_geo as bg
    >>> m = bg.load_mapping({"mapping_version": 1, "columns": {"insee": "Code commune INSEE"}})
    >>> m.columns["insee"][0], "Code INSEE" in m.columns["insee"]
    ('Code commune INSEE', True)
    """
    if isinstance(source, Mapping):
        return source
    catalogue = _catalogue(catalogue)
    default = default_mapping(catalogue)
    if source is None:
        return default
    if isinstance(source, dict):
        doc, name = source, "<mapping dict>"
    elif isinstance(source, str | os.PathLike):
        doc, name = _read_yaml(Path(source)), str(source)
    else:
        raise SchemaError(
            f"mapping must be a path to a YAML file, a dict or a Mapping; got "
            f"{type(source).__name__}. Pass mapping='my_mapping.yaml'."
        )
    mapping = _from_document(doc, name, default)
    _check_ids(mapping, catalogue)
    return mapping
