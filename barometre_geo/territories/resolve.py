"""Resolve messy collectivity identifiers to territories of the reference.

Survey respondents identify their collectivity in many ways: INSEE codes that
lost their leading zero, SIREN with spaces, SIRET, postal codes, "Mairie de
Val-de-Reuil", "CC du Pays de Mormal", "Département d'Ille-et-Vilaine"…
:func:`resolve` maps each of them to the territory of the COG 2025 reference it
designates, and says how (``method``) and how sure it is (``status``):

* ``resolved``: exactly one territory matches;
* ``ambiguous``: several do (homonymous communes, a postal code shared by
  several communes, a former code now split), or the text contradicts the
  département hint; ``candidates`` lists them. Nothing is guessed;
* ``unresolved``: nothing matches.

Ambiguous and unresolved rows carry a ``reason`` in French, the language of
the reports that show it (what was tried, how to fix it), and a stable
``reason_code`` for programs (:data:`REASON_CODES`: ``unknown_name``,
``invalid_siren``, ``ambiguous_name``…).

Matching is exact after normalisation (accents, case, hyphens, apostrophes,
leading articles, "St"/"Ste", prefixes such as "Mairie de" or "CC"); there is
no fuzzy matching, so a typo gives ``unresolved``, never a wrong territory.

Precedence of the readings of a 5-digit code: the current INSEE code first
(method ``code_insee``), then the codes of arrondissements municipaux, former
communes and communes déléguées/associées, then the postal code. A département
hint or a name written next to the code that contradicts a reading and agrees
with a later one selects the later one (method suffix ``+departement`` or
``+nom``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import SchemaError, UnknownValueError
from . import reasons as why
from .lookup import CSP, ResolverIndex, get_index
from .readings import HOLDS, Parsed, parse, parse_departement
from .reasons import REASON_CODES
from .text import value_to_text

__all__ = ["COLUMNS", "HOLDS", "REASON_CODES", "resolve", "resolve_column"]

#: Columns of the frame returned by :func:`resolve`.
COLUMNS = [
    "input",
    "kind",
    "code",
    "level",
    "nom",
    "method",
    "status",
    "reason",
    "reason_code",
    "candidates",
]

_Row = tuple  # (kind, code, level, nom, method, status, reason, reason_code, candidates)
_OK = "resolved"


def resolve(territories, values, *, departement=None, holds="auto", names=None) -> pd.DataFrame:
    """Resolve identifiers (codes, SIREN/SIRET, names) to territories.

    Parameters
    ----------
    territories : Territories
        The reference, from :func:`barometre_geo.load_territories`. Its look-up
        tables are built on the first call (about a second) and cached.
    values : sequence or str
        The identifiers, any mix of: INSEE codes (``"01001"``, ``1001``,
        ``1001.0``, ``"2A004"``, codes of arrondissements municipaux, former
        communes and communes déléguées since COG 2019), postal codes, SIREN
        (``"200 069 110"``) and SIRET, département or région codes, names
        ("Mairie de Val-de-Reuil", "CC du Pays de Mormal", "Région Bretagne",
        "Saint-Fons (69)", "69001 Lyon"). None, NaN and empty strings are
        accepted. A single string is resolved as a one-element sequence.
    departement : str, int or sequence, optional
        Département hint: a scalar for every value, or a sequence aligned with
        ``values`` (NA for none). Codes (``"69"``, ``"1"``, ``"01"``,
        ``"2A"``, ``"971"``; ``"20"`` means Corse-du-Sud or Haute-Corse) or
        names (``"Rhône"``). It chooses among homonyms and postal codes and
        flags codes that contradict it; it never overrides a code on its own.
    holds : str or sequence, default "auto"
        What the values are (one of :data:`HOLDS`, for all or per value):
        ``"auto"`` reads every plausible reading and leaves a value with two of
        equal standing ambiguous (``60200``: the INSEE code of Domfront and the
        postal code of Compiègne); ``"insee"`` reads the identifiers INSEE gives
        (COG codes, SIREN, SIRET), 5-digit codes as INSEE codes (the postal reading
        only when a name or département on the row rejects the INSEE one);
        ``"postal"`` reads postal codes only; ``"siren"``/``"siret"``
        reads 9- and 14-digit numbers only; ``"name"`` no bare code. A value of
        another shape is unresolved (``wrong_kind``).
    names : sequence, optional
        The name written on each row (another column: "Mairie de Compiègne"),
        aligned with ``values``: a code whose readings include the territory it
        names is resolved to it (method suffix ``+nom``); a code contradicting it
        is ambiguous (``contradiction``). Names that designate nothing are ignored.

    Returns
    -------
    pandas.DataFrame
        One row per value, in order (RangeIndex), columns ``input`` (the value
        as text), ``kind``, ``code``, ``level``, ``nom``, ``method``,
        ``status``, ``reason`` (French: what was tried and how to fix it),
        ``reason_code`` (one of :data:`REASON_CODES`), ``candidates`` (see
        docs/contracts/territories.md, Resolver). ``reason`` and ``reason_code`` are empty
        strings on resolved rows. ``candidates`` is a tuple of codes for
        ambiguous rows; when they span several levels each is written
        ``level:code``.

    Raises
    ------
    UnknownValueError
        A département hint is neither a département code nor a name.
    SchemaError
        ``values`` is not one-dimensional, or the hint, ``holds`` or ``names``
        sequence is not as long as ``values`` (aligned by position).
    UnknownValueError
        ``holds`` is not one of :data:`HOLDS`.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> t = bg.load_territories()
    >>> r = t.resolve(["1001", "200 069 110", "Ste Foy les Lyon", "Sainte-Colombe", "test"])
    >>> r["status"].tolist()
    ['resolved', 'resolved', 'resolved', 'ambiguous', 'unresolved']
    >>> r.loc[0, ["code", "nom", "method"]].tolist()
    ['01001', "L'Abergement-Clémenciat", 'code_insee+zero']
    >>> r.loc[1, ["kind", "code", "method"]].tolist()
    ['epci', '200069110', 'siren']
    >>> len(r.loc[3, "candidates"]), r.loc[3, "reason_code"], r.loc[4, "reason_code"]
    (12, 'ambiguous_name', 'test_row')
    >>> print(r.loc[3, "reason"])  # doctest: +ELLIPSIS
    ambigu : 12 communes s'appellent Sainte-Colombe (..., …) — indiquez le département ou ...
    >>> t.resolve("Sainte-Colombe", departement="Rhône").loc[0, ["code", "method"]].tolist()
    ['69189', 'nom+departement']

    A value with two readings is never read one way silently:

    >>> r = t.resolve(["60200", "60200", "60200"], names=[None, "Compiègne", None],
    ...               holds=["auto", "auto", "insee"])
    >>> r["status"].tolist(), r["reason_code"].tolist()[0]
    (['ambiguous', 'resolved', 'resolved'], 'ambiguous_reading')
    >>> r.loc[1:, ["code", "nom", "method"]].values.tolist()
    [['60159', 'Compiègne', 'code_postal+nom'], ['60200', 'Domfront', 'code_insee']]
    """
    return _resolve(territories, values, departement, where="departement", holds=holds, names=names)


def resolve_column(
    territories,
    df: pd.DataFrame,
    column: str,
    *,
    departement_column=None,
    holds="auto",
    name_column=None,
):
    """Resolve a DataFrame column (the vectorised form of :func:`resolve`).

    Parameters
    ----------
    territories : Territories
        The reference.
    df : pandas.DataFrame
        The table holding the identifiers.
    column : str
        Column of identifiers.
    departement_column : str, optional
        Column of département hints, row by row.
    holds : str, default "auto"
        What ``column`` holds (:data:`HOLDS`; see :func:`resolve`).
    name_column : str, optional
        Column of the names written on the same rows (see ``names`` of
        :func:`resolve`): a name agreeing with one reading of a code settles it.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`resolve`, indexed like ``df``: ``df.join(result)``
        adds them (rename ``df``'s own ``code`` or ``nom`` columns first).

    Raises
    ------
    SchemaError
        A column is missing from ``df``.

    Examples
    --------
    >>> import pandas as pd, barometre_geo as bg
    >>> df = pd.DataFrame(
    ...     {"commune": ["Sainte-Colombe", "75112", "Bors"], "dep": ["Rhône", None, None]},
    ...     index=[10, 11, 12],
    ... )
    >>> out = bg.resolve_column(bg.load_territories(), df, "commune", departement_column="dep")
    >>> out[["code", "status"]].to_dict("index")[10]
    {'code': '69189', 'status': 'resolved'}
    >>> out.loc[11, "kind"], out.loc[12, "candidates"]
    ('collectivite_a_statut_particulier', ('16052', '16053'))
    """
    for col in (column, departement_column, name_column):
        if col is not None and col not in df.columns:
            raise SchemaError(
                f"Column {col!r} not found in the DataFrame (columns: "
                f"{', '.join(map(str, df.columns[:20]))}). Pass the name of the column holding "
                "the identifiers (column=), the département hints (departement_column=) or "
                "the names (name_column=)."
            )
    hints = None if departement_column is None else df[departement_column].to_numpy(dtype=object)
    names = None if name_column is None else df[name_column].to_numpy(dtype=object)
    where = f"column {departement_column!r}"
    out = _resolve(
        territories,
        df[column].to_numpy(dtype=object),
        hints,
        where=where,
        labels=df.index,
        holds=holds,
        names=names,
    )
    out.index = df.index
    return out


# --------------------------------------------------------------------------- core


def _resolve(
    territories, values, departement, *, where: str, labels=None, holds="auto", names=None
) -> pd.DataFrame:
    ix = get_index(territories)
    if isinstance(values, str) or not isinstance(values, Iterable):
        values = [values]
    values = np.asarray(list(values) if not hasattr(values, "__array__") else values, dtype=object)
    if values.ndim != 1:
        raise SchemaError(
            f"values must be one-dimensional, got an array of shape {values.shape}. "
            "For a DataFrame column use resolve_column(territories, df, 'column')."
        )
    n = len(values)
    value_codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = [value_to_text(v) for v in uniques]
    hint_codes, hint_sets = _hints(departement, n, ix, where=where, labels=labels)
    holds_codes, holds_kinds = _holds(holds, n)
    name_codes, name_sets = _names(names, n, ix)

    if not hint_sets and len(holds_kinds) == 1 and not name_sets:
        # the common case: one row per distinct value (the last one: missing)
        kind = holds_kinds[0]
        rows = [_decide(parse(text, ix, full=False, holds=kind), None, ix) for text in texts]
        rows.append(_decide(parse(None, ix), None, ix))
        inverse = np.where(value_codes < 0, len(texts), value_codes)
        return _frame(texts, value_codes, rows, inverse.ravel())
    # resolve each distinct (value, hint, holds, name) once
    dims = (len(texts) + 1, len(hint_sets) + 1, len(holds_kinds), len(name_sets) + 1)
    combined = np.ravel_multi_index(
        (value_codes + 1, hint_codes + 1, holds_codes, name_codes + 1), dims
    ).astype(np.int64)
    uniques_combined, inverse = np.unique(combined, return_inverse=True)
    first: dict[tuple, Parsed] = {}  # first matching name tier only
    full: dict[tuple, Parsed] = {}  # every tier, parsed when a hint rejects the first

    def parsed_of(v: int, kind: str, tiers: bool) -> Parsed:
        cache = full if tiers else first
        if (v, kind) not in cache:
            text = texts[v] if v >= 0 else None
            cache[(v, kind)] = parse(text, ix, full=tiers, holds=kind)
        return cache[(v, kind)]

    rows = []
    parts = (p.tolist() for p in np.unravel_index(uniques_combined, dims))  # vectorised once
    for v, h, k, m in zip(*parts, strict=True):
        v, h, m = v - 1, h - 1, m - 1
        kind = holds_kinds[k]
        hint = hint_sets[h] if h >= 0 else None
        named = name_sets[m] if m >= 0 else None
        rows.append(
            _decide(
                parsed_of(v, kind, False),
                hint,
                ix,
                more=lambda v=v, kind=kind: parsed_of(v, kind, True),
                named=named,
            )
        )
    return _frame(texts, value_codes, rows, inverse.ravel())


def _holds(holds, n: int) -> tuple[np.ndarray, list[str]]:
    """Code of the declaration of each value and the distinct declarations."""
    if isinstance(holds, str) or holds is None:
        kind = _parse_holds(holds)
        return np.zeros(n, dtype=np.int64), [kind]
    raw = list(holds)
    if len(raw) != n:
        raise SchemaError(
            f"holds has {len(raw)} values but there are {n} values to resolve. Pass one "
            "declaration for all (holds='insee') or one per value."
        )
    kinds = [_parse_holds(h) for h in raw]
    distinct = list(dict.fromkeys(kinds))
    pos = {k: i for i, k in enumerate(distinct)}
    return np.array([pos[k] for k in kinds], dtype=np.int64), distinct or ["auto"]


def _parse_holds(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "auto"
    text = str(value).strip().lower()
    if text not in HOLDS:
        raise UnknownValueError(
            f"holds={value!r} is not a kind of identifier column. Valid values: "
            f"{', '.join(HOLDS)} ('auto': every reading, ambiguous when two fit)."
        )
    return text


def _names(names, n: int, ix: ResolverIndex) -> tuple[np.ndarray, list]:
    """Territories the name on each row designates (code -1: no usable name).

    A name that designates nothing (unknown, junk, empty) sets no constraint.
    """
    if names is None:
        return np.full(n, -1, dtype=np.int64), []
    raw = names.to_numpy(dtype=object) if hasattr(names, "to_numpy") else list(names)
    if isinstance(names, str) or len(raw) != n:
        raise SchemaError(
            f"names must give one name per value ({n}); got "
            f"{'a single string' if isinstance(names, str) else len(raw)}. Pass the column of "
            "names of the same rows (NA where none)."
        )
    codes, uniques = pd.factorize(np.asarray(raw, dtype=object), use_na_sentinel=True)
    sets, index = [], []
    for u in uniques:
        parsed = parse(value_to_text(u), ix, full=False, holds="name")
        cands = parsed.readings[0].cands if parsed.readings else ()
        found = frozenset(c[1:3] for c in cands) if cands else None
        index.append(len(sets) if found is not None else -1)
        if found is not None:
            sets.append(found)
    mapped = np.array([index[c] if c >= 0 else -1 for c in codes], dtype=np.int64)
    return mapped, sets


def _frame(texts, value_codes, rows, inverse) -> pd.DataFrame:
    """Assemble the output: columns built on the distinct rows, then taken per value."""
    names = COLUMNS[1:-1]
    table = np.empty((len(rows), len(names) + 1), dtype=object)
    table[:] = rows if rows else np.empty((0, len(names) + 1), dtype=object)
    text_arr = pd.array(np.array([*texts, None], dtype=object), dtype="str")
    columns = {"input": text_arr.take(np.where(value_codes < 0, len(texts), value_codes))}
    for j, name in enumerate(names):
        columns[name] = pd.array(table[:, j], dtype="str").take(inverse)
    columns["candidates"] = pd.Series(table[inverse, len(names)], dtype=object)
    return pd.DataFrame(columns)


def _hints(departement, n: int, ix: ResolverIndex, *, where: str, labels):
    """Codes of the hint of each value (-1: none) and the distinct hint sets."""
    if departement is None:
        return np.full(n, -1, dtype=np.int64), []
    scalar = isinstance(departement, str) or not isinstance(departement, Iterable)
    if scalar:
        raw = np.full(n, departement, dtype=object)
    else:
        raw = np.asarray(list(departement), dtype=object).ravel()
        if len(raw) != n:
            raise SchemaError(
                f"departement has {len(raw)} values but there are {n} values to resolve. "
                "Pass one hint per value (NA for none) or a single hint for all."
            )
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    sets, bad = [], []
    for i, u in enumerate(uniques):
        text = value_to_text(u)
        deps = parse_departement(text, ix) if text and text.strip() else None
        if deps is None and text and text.strip():
            com = _outre_mer_hint(text)
            if com is None:
                bad.append((i, text))
            else:  # a collectivité d'outre-mer: its rows are outside the reference
                deps = frozenset({_COM_HINT + com})
        sets.append(deps)
    if bad:
        examples = []
        for i, text in bad[:5]:
            pos = int(np.flatnonzero(codes == i)[0])
            label = pos if labels is None else labels[pos]
            examples.append(f"{text!r} (row {label})")
        raise UnknownValueError(
            f"{len(bad)} département hint value(s) in {where} are not départements: "
            f"{', '.join(examples)}. Use a département code ('69', '01' or '1', '2A', '971') "
            "or name ('Rhône'), or NA for no hint."
        )
    # empty strings are "no hint": map them to -1
    codes = np.array([c if c >= 0 and sets[c] is not None else -1 for c in codes], np.int64)
    return codes, sets


#: Département-like codes of the collectivités d'outre-mer, outside the reference.
_OUTRE_MER = {
    "975": "Saint-Pierre-et-Miquelon",
    "977": "Saint-Barthélemy",
    "978": "Saint-Martin",
    "984": "Terres australes et antarctiques françaises",
    "986": "Wallis-et-Futuna",
    "987": "Polynésie française",
    "988": "Nouvelle-Calédonie",
    "989": "Île de Clipperton",
}
_COM_HINT = "com:"  # marks a hint set naming a collectivité d'outre-mer


def _outre_mer_hint(text: str) -> str | None:
    """Return the code of the collectivité d'outre-mer a hint names ("978 - Saint-Martin")."""
    m = re.match(r"^\s*(9[78]\d)\b", text)
    return m.group(1) if m and m.group(1) in _OUTRE_MER else None


def _decide(
    parsed: Parsed, hint: frozenset | None, ix: ResolverIndex, more=None, named=None
) -> _Row:
    """Pick the first reading consistent with the hints and the names; build the row.

    ``more`` returns the readings of every name tier, asked for when the hint
    rejects the readings parsed so far. ``named``: territories the name written
    on the row designates (another column), a constraint like a name written
    next to the code.
    """
    if parsed.failure is not None:
        method, code, reason = parsed.failure
        return ("unknown", None, None, None, method, "unresolved", reason, code, ())
    com = next(iter(hint)) if hint is not None and len(hint) == 1 else ""
    if com.startswith(_COM_HINT):
        com = com[len(_COM_HINT) :]
        code, reason = why.outside_reference(com, _OUTRE_MER[com], hint=True)
        return ("unknown", None, None, None, "departement", "unresolved", reason, code, ())
    constraints = [c for c in (hint, parsed.inline) if c is not None]
    name_sets = [s for s in (parsed.names, named) if s is not None]

    def in_hints(c) -> bool:
        deps = ix.departements_of(c)
        return not any(deps.isdisjoint(h) for h in constraints)

    def ok(c) -> bool:
        if name_sets and any(c[1:3] not in s for s in name_sets):
            return False
        return not constraints or in_hints(c)

    readings = parsed.readings
    first = next((r for r in readings if not r.fallback), readings[0])  # no fallback reading
    if not constraints and not name_sets:
        return _row(first.cands, first, parsed.qualifier, ix)
    for i, reading in enumerate(readings):
        kept = tuple(c for c in reading.cands if ok(c))
        if kept:
            qualifier = parsed.qualifier
            if i > 0 or len(kept) < len(reading.cands):
                seen = [c for r in readings[: i + 1] for c in r.cands if c not in kept]
                if name_sets and any(c[1:3] not in s for s in name_sets for c in seen):
                    qualifier += "+nom"
                if constraints and not all(in_hints(c) for c in seen):
                    qualifier += "+departement"
            return _row(kept, reading, qualifier, ix)
    if more is not None:
        everything = more()
        if everything.readings != readings:
            return _decide(everything, hint, ix, named=named)
    # no reading agrees with the hints or the names: show the first one's candidates
    # say what the value contradicts: the département, the name, or both
    off_hint = constraints and not all(in_hints(c) for c in first.cands)
    off_name = any(c[1:3] not in s for s in name_sets for c in first.cands)
    hinted = sorted(set().union(*constraints)) if off_hint or not off_name else []
    found = [
        (c[1], c[2], ix.name_of(c), "/".join(sorted(ix.departements_of(c)))) for c in first.cands
    ]
    code, reason = why.contradiction(first.subject, found, hinted, off_name)
    kind, _, level, _, method, *_, cands = _row(first.cands, first, parsed.qualifier, ix, True)
    return (kind, None, level, None, method, "ambiguous", reason, code, cands)


def _row(cands, reading, qualifier: str, ix: ResolverIndex, force_ambiguous=False) -> _Row:
    if len(cands) == 1 and not force_ambiguous:
        kind, level, code, method = cands[0]
        if kind == CSP or (level, code) in ix.csp_self:
            nom = ix.csp_nom[(level, code)]
            return (CSP, code, level, nom, method + qualifier, _OK, "", "", ())
        return (kind, code, level, ix.nom[(level, code)], method + qualifier, _OK, "", "", ())
    cands = tuple(ix.as_collectivity(c) for c in cands)
    levels = {c[1] for c in cands}
    kinds = {c[0] for c in cands}
    method = Counter(c[3] for c in cands).most_common(1)[0][0] + qualifier
    if len(levels) == 1:
        level = next(iter(levels))
        codes = tuple(c[2] for c in cands)
    else:
        level = None
        codes = tuple(f"{c[1]}:{c[2]}" for c in cands)
    if len(kinds) == 1:
        kind = next(iter(kinds))
    else:  # Paris among communes: "commune"; across levels: "unknown"
        kind = level or "unknown"
    code, reason = why.ambiguous(
        reading.what,
        reading.subject,
        codes,
        [c[1] for c in cands],
        [ix.nom[(c[1], c[2])] for c in cands],
        [c[3] for c in cands],
    )
    return (kind, None, level, None, method, "ambiguous", reason, code, codes)
