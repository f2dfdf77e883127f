"""Settings of ``barometre-geo build``: defaults < ``run.toml`` < explicit arguments.

:class:`BuildSettings` holds everything that decides what a run produces. It is
built by :func:`resolve_settings` from three layers — the defaults, a TOML
file (``--config run.toml``, read with :mod:`tomllib`) and the explicit
arguments (CLI flags or keyword arguments of :func:`barometre_geo.build`) —
checked in one place (unknown keys, wrong types, unknown indicators, themes,
levels and modes are errors listing the valid values), and written back as
TOML by :meth:`BuildSettings.to_toml` so that a run can be replayed.

Paths in a TOML file are relative to that file's folder; paths given on the
command line are relative to the current directory. The effective settings
keep absolute paths.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import InputFileError, SchemaError, UnknownValueError

__all__ = ["MAP_LEVELS", "STATIC_FORMATS", "BuildSettings", "load_config", "resolve_settings"]

#: Territorial levels a build can map (``france`` is always computed for the national figures).
MAP_LEVELS: tuple[str, ...] = ("commune", "epci", "departement", "region")
#: Formats of ``static`` (PNG / SVG maps next to the HTML ones).
STATIC_FORMATS: tuple[str, ...] = ("png", "svg")

# key -> (python type accepted in TOML, is a path, is a list)
_SPEC: dict[str, tuple[type | tuple[type, ...], bool, bool]] = {
    "responses": (str, True, True),
    "mapping": (str, True, False),
    "structures": (str, True, False),
    "territories": (str, False, False),
    "out": (str, True, False),
    "indicators": (str, False, True),
    "themes": (str, False, True),
    "levels": (str, False, True),
    "k": (int, False, False),
    "k_sensitive": (int, False, False),
    "mode": (str, False, False),
    "assets": (str, False, False),
    "inline": (bool, False, False),
    "weights": (bool, False, False),
    "estimates": (str, False, False),
    "static": (str, False, False),
    "basemap": (str, False, False),
    "style": (str, False, False),
    "base_url": (str, False, False),
    "jobs": (int, False, False),
    "force": (bool, False, False),
    "territoires": (str, False, True),
}


@dataclass(frozen=True)
class BuildSettings:
    """Effective settings of one build (see :func:`barometre_geo.build` for each field).

    Attributes
    ----------
    responses : tuple of str
        Export files (absolute paths); empty = the synthetic demo edition.
    mapping, structures : str or None
        Mapping file of the exports; structures file (``None`` = the
        illustrative file shipped with the package).
    territories : str
        ``"embedded"``, a path or a downloadable edition id.
    out : str
        Output folder (absolute).
    indicators, themes, levels : tuple of str
        Filters (empty = every indicator / theme; levels default all four).
    k, k_sensitive : int
    mode : {"public", "restricted"}
    assets : {"local", "inline", "cdn"}
        Where the pages find Leaflet: ``assets/`` of the output folder
        (default), inlined in each page, or jsDelivr. ``inline = true`` in a
        ``run.toml`` (or ``--inline``) means ``assets = "inline"``.
    weights : bool
        Calibration-weighted figures next to the unweighted ones.
    estimates : {"model", "direct"}
        ``model`` (default): model-based small-area estimates next to the direct
        figures in the tables, and drawn by the département and EPCI maps;
        ``direct``: direct figures only.
    static : str or None
        ``"png"`` or ``"svg"``: static maps too.
    basemap : str
        Background of the HTML maps.
    style : {"standard", "dsfr"}
        Look of the pages: ``dsfr`` uses the DSFR's colour tokens, typography
        and DSFR Chart's sequential palette (maps, GeoPackage styles, static maps).
    base_url : str
        Public URL of the folder, for the iframe snippets of the index (an
        absolute http(s) address; empty: relative snippets, and each published
        page builds its own from its address).
    jobs : int
        Worker processes for the per-indicator outputs.
    force : bool
        Replace an output folder that is not a previous build.
    territoires : tuple of str
        Territory pages: ``("toutes",)`` (every région and département, the
        default), ``("aucune",)``, or designations (``reg-84``, ``dep-69``,
        ``971``, a name), resolved against the reference before anything is written.
    """

    responses: tuple[str, ...] = ()
    mapping: str | None = None
    structures: str | None = None
    territories: str = "embedded"
    out: str = "maps"
    indicators: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    levels: tuple[str, ...] = MAP_LEVELS
    k: int = 5
    k_sensitive: int = 10
    mode: str = "public"
    assets: str = "local"
    weights: bool = True
    estimates: str = "model"
    static: str | None = None
    basemap: str = "plan_ign"
    style: str = "standard"
    base_url: str = ""
    jobs: int = 2
    force: bool = False
    territoires: tuple[str, ...] = ("toutes",)

    @property
    def demo(self) -> bool:
        """True when no export is given: the synthetic demo edition is used."""
        return not self.responses

    def as_dict(self) -> dict:
        """JSON-able dict (lists for tuples), the keys of a ``run.toml``."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def portable(self, folder: str | os.PathLike) -> tuple[dict, list[str]]:
        """Return the settings with paths relative to ``folder``, and the paths cut short.

        What the build publishes (``parametres.toml``, the manifest) must not
        carry the building machine's absolute paths: each path is written
        relative to the output folder (where ``parametres.toml`` is, so that
        ``--config`` replays the run), or by its name alone when it shares
        nothing but the root with that folder (listed in the second value).

        Examples
        --------
        >>> s = BuildSettings(responses=("/srv/data/v1.csv", "/home/x/v2.csv"), out="/srv/cartes")
        >>> d, cut = s.portable("/srv/cartes")
        >>> d["responses"], d["out"], cut
        (['../data/v1.csv', 'v2.csv'], '.', ['v2.csv'])
        """
        base = Path(os.path.abspath(folder))
        cut: list[str] = []

        def rel(value: str) -> str:
            path = Path(os.path.abspath(value))
            if Path(os.path.commonpath([path, base])) == Path(path.anchor):
                cut.append(path.name)
                return path.name
            return Path(os.path.relpath(path, base)).as_posix()

        out = self.as_dict()
        for key, (_, is_path, is_list) in _SPEC.items():
            value = out.get(key)
            if value is None or not (is_path or key == "territories"):
                continue
            if key == "territories" and (value == "embedded" or not Path(value).exists()):
                continue
            out[key] = [rel(v) for v in value] if is_list else rel(value)
        return out, cut

    def to_toml(self, folder: str | os.PathLike | None = None) -> str:
        """Return the settings as a ``run.toml`` (``None`` values left out).

        With ``folder`` (the folder the file will be in), paths are written
        relative to it (:meth:`portable`); a comment names the ones to complete.

        Examples
        --------
        >>> print(BuildSettings(out="/tmp/cartes", levels=("region",)).to_toml().splitlines()[5])
        out = "/tmp/cartes"
        >>> print(BuildSettings(out="/tmp/cartes").to_toml("/tmp/cartes").splitlines()[5])
        out = "."
        """
        values, cut = self.portable(folder) if folder is not None else (self.as_dict(), [])
        lines = [
            "# barometre-geo build --config <this file>: replays the run",
            "# (chemins relatifs au dossier de ce fichier)",
        ]
        if cut:
            lines.append(
                "# à compléter : " + ", ".join(cut) + " (hors de l’arborescence du dossier de "
                "sortie : donnez leur chemin)"
            )
        lines.append("")
        for key, value in values.items():
            if value is None:
                continue
            lines.append(f"{key} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # a JSON string is a valid TOML basic string (same escapes, \uXXXX included)
    return json.dumps(str(value), ensure_ascii=False)


def load_config(path: str | os.PathLike) -> dict:
    """Read a ``run.toml`` into a dict of settings, paths made absolute.

    Raises
    ------
    InputFileError
        Missing or unreadable file, invalid TOML (line and column given).
    SchemaError
        Unknown keys (named, with the valid ones) or a value of the wrong type.
    """
    import tomllib

    path = Path(path)
    if not path.is_file():
        raise InputFileError(
            f"{path}: configuration file not found. Give the path of a TOML file such as "
            "run.toml (see `barometre-geo build --help`).",
            fr=f"{path} : fichier de paramètres introuvable. Donnez le chemin d’un fichier TOML "
            "comme run.toml (voir `barometre-geo build --help`).",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: not UTF-8 text ({exc}). Save it as UTF-8.",
            fr=f"{path} : ce n’est pas du texte UTF-8 ({exc}). Enregistrez-le en UTF-8.",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(
            f'{path}: invalid TOML: {exc}. Fix the syntax: key = "text", key = 5, '
            'key = true, key = ["a", "b"].',
            fr=f'{path} : TOML invalide : {exc}. Corrigez la syntaxe : clé = "texte", '
            'clé = 5, clé = true, clé = ["a", "b"].',
        ) from None
    unknown = sorted(set(data) - set(_SPEC))
    if unknown:
        raise SchemaError(
            f"{path}: unknown key(s) {', '.join(unknown)}. Valid keys: {', '.join(_SPEC)}. "
            "Remove or rename them.",
            fr=f"{path} : clé(s) inconnue(s) {', '.join(unknown)}. Clés possibles : "
            f"{', '.join(_SPEC)}. Supprimez-les ou renommez-les.",
        )
    return {
        key: _check_value(key, value, base=path.parent, where=str(path))
        for key, value in data.items()
    }


def _check_value(key: str, value, *, base: Path | None, where: str):
    typ, is_path, is_list = _SPEC[key]
    if key == "static" and value is False:
        return None
    items = value if is_list and isinstance(value, list) else [value]
    if is_list and isinstance(value, str):
        items = [value]
    for item in items:
        ok = isinstance(item, typ) and not (typ is int and isinstance(item, bool))
        if not ok:
            want = {str: "text", int: "an integer", bool: "true or false"}[typ]
            form = f"a list of {want}" if is_list else want
            want_fr = {str: "du texte", int: "un entier", bool: "true ou false"}[typ]
            form_fr = f"une liste ({want_fr})" if is_list else want_fr
            example = _toml_value([_EXAMPLES[key]] if is_list else _EXAMPLES[key])
            raise SchemaError(
                f"{where}: setting {key!r} must be {form}, got {value!r}. "
                f"Example: {key} = {example}.",
                fr=f"{where} : le paramètre {key!r} doit être {form_fr}, pas {value!r}. "
                f"Exemple : {key} = {example}.",
            )
    if is_path:
        items = [str(_absolute(item, base)) for item in items]
    return tuple(items) if is_list else items[0]


_EXAMPLES = {
    "responses": "vague1.csv",
    "mapping": "mon_export.yaml",
    "structures": "operators.json",
    "territories": "embedded",
    "out": "maps",
    "indicators": "cyber_pca",
    "themes": "cyber",
    "levels": "departement",
    "k": 5,
    "k_sensitive": 10,
    "mode": "public",
    "assets": "local",
    "inline": True,
    "weights": True,
    "estimates": "model",
    "static": "png",
    "basemap": "plan_ign",
    "style": "dsfr",
    "base_url": "https://www.example.gouv.fr/cartes/",
    "jobs": 2,
    "force": False,
    "territoires": "reg-84",
}


def _absolute(value: str, base: Path | None) -> Path:
    p = Path(os.path.expanduser(value))
    if not p.is_absolute():
        p = (base or Path.cwd()) / p
    return Path(os.path.abspath(p))


def resolve_settings(config: str | os.PathLike | None = None, **given) -> BuildSettings:
    """Merge the defaults, the TOML file ``config`` and the explicit values ``given``.

    ``given`` values that are ``None`` (or empty lists) are not given. Paths in
    ``given`` are relative to the current directory.

    Raises
    ------
    SchemaError, UnknownValueError, InputFileError
        See :func:`load_config`; unknown indicators, themes, levels, modes,
        basemaps or static formats (the valid values listed); bad thresholds.

    Examples
    --------
    >>> s = resolve_settings(levels=["departement"], mode="restricted")
    >>> s.levels, s.mode, s.demo
    (('departement',), 'restricted', True)
    """
    unknown = sorted(set(given) - set(_SPEC))
    if unknown:  # programming error of a caller: say which keys exist
        raise SchemaError(f"Unknown build setting(s) {unknown}. Valid: {', '.join(_SPEC)}.")
    values = load_config(config) if config is not None else {}
    for key, value in given.items():
        if value is None or (isinstance(value, list | tuple) and not value):
            continue
        if isinstance(value, Path):
            value = str(value)
        if _SPEC[key][2] and isinstance(value, list | tuple):
            value = [str(v) if isinstance(v, Path) else v for v in value]
        values[key] = _check_value(key, value, base=None, where="argument")
    if values.pop("inline", False):  # --inline, inline = true: a shortcut
        if values.get("assets", "inline") != "inline":
            raise SchemaError(
                f"inline = true and assets = {values['assets']!r} contradict each other: "
                'keep one (assets = "inline" is the same as inline = true).',
                fr=f"inline = true et assets = {values['assets']!r} se contredisent : gardez "
                'l’un des deux (assets = "inline" équivaut à inline = true).',
            )
        values["assets"] = "inline"
    if "out" not in values:
        values["out"] = str(_absolute("maps", None))
    if "k_sensitive" not in values:
        values["k_sensitive"] = max(10, int(values.get("k", 5)))
    return _validate(BuildSettings(**values))


def _validate(s: BuildSettings) -> BuildSettings:
    from ..maps import BASEMAPS
    from ..maps._embed import check_base_url
    from ..maps._options import parse_assets
    from ..maps._style import parse_style
    from ..protection.rules import check_thresholds, parse_mode
    from ..survey.catalogue import load_catalogue
    from ..territories.reference import parse_level

    cat = load_catalogue()
    ids = [ind.id for ind in cat]
    for ind in s.indicators:
        if ind not in ids:
            close = difflib.get_close_matches(ind, ids, n=3, cutoff=0.6)
            hint = f" Close: {', '.join(close)}." if close else ""
            hint_fr = f" Proche(s) : {', '.join(close)}." if close else ""
            raise UnknownValueError(
                f"Unknown indicator {ind!r}.{hint} Valid indicators: {', '.join(ids)}.",
                fr=f"Indicateur {ind!r} inconnu.{hint_fr} Indicateurs possibles : "
                f"{', '.join(ids)}.",
            )
    themes = [t.id for t in cat.themes]
    for theme in s.themes:
        if theme not in themes:
            raise UnknownValueError(
                f"Unknown theme {theme!r}. Valid themes: {', '.join(themes)}.",
                fr=f"Thème {theme!r} inconnu. Thèmes possibles : {', '.join(themes)}.",
            )
    levels = tuple(dict.fromkeys(parse_level(lv, allowed=MAP_LEVELS) for lv in s.levels))
    mode = parse_mode(s.mode)
    k, k_sensitive = check_thresholds(s.k, s.k_sensitive)
    basemap = str(s.basemap).strip().lower()
    if basemap not in BASEMAPS:
        raise UnknownValueError(
            f"Unknown basemap {s.basemap!r}. Valid basemaps: {', '.join(BASEMAPS)}.",
            fr=f"Fond de carte {s.basemap!r} inconnu. Fonds possibles : {', '.join(BASEMAPS)}.",
        )
    static = None if s.static in (None, "", "none") else str(s.static).strip().lower()
    if static is not None and static not in STATIC_FORMATS:
        raise UnknownValueError(
            f"Unknown static format {s.static!r}. Valid formats: {', '.join(STATIC_FORMATS)} "
            "(or leave it out: HTML maps only).",
            fr=f"Format statique {s.static!r} inconnu. Formats possibles : "
            f"{', '.join(STATIC_FORMATS)} (ou rien : cartes HTML seulement).",
        )
    if s.estimates not in ("model", "direct"):
        raise UnknownValueError(
            f"Unknown estimates {s.estimates!r}. Valid values: model (modelled estimates next "
            "to the direct ones, drawn by the département and EPCI maps), direct."
        )
    pages = tuple(dict.fromkeys(str(x).strip() for x in s.territoires))
    keywords = {p.lower() for p in pages} & {"toutes", "aucune"}
    if keywords and len(pages) > 1:
        raise UnknownValueError(
            f"territoires = {list(pages)}: 'toutes' (every région and département) and "
            "'aucune' (no territory page) stand alone; or list territories (reg-84, dep-69, "
            "971, a name).",
            fr=f"territoires = {list(pages)} : « toutes » (chaque région et département) et "
            "« aucune » (aucune page de territoire) vont seuls ; sinon, listez des territoires "
            "(reg-84, dep-69, 971, un nom).",
        )
    if s.jobs < 1:
        raise UnknownValueError(
            f"jobs={s.jobs} must be ≥ 1 (worker processes; default 2).",
            fr=f"jobs={s.jobs} doit être ≥ 1 (processus de calcul ; 2 par défaut).",
        )
    if s.mapping and not s.responses:
        raise InputFileError(
            f"A mapping file ({s.mapping}) was given without export files: pass the exports "
            "it describes with --responses FILE…, or drop --mapping to build the demo edition.",
            fr=f"Un fichier de correspondance ({s.mapping}) est donné sans fichier d’export : "
            "donnez les exports qu’il décrit avec --responses FICHIER…, ou retirez --mapping "
            "pour construire l’édition de démonstration.",
        )
    return BuildSettings(
        **{
            **asdict(s),
            "levels": levels,
            "mode": mode,
            "k": k,
            "k_sensitive": k_sensitive,
            "basemap": basemap,
            "static": static,
            "assets": parse_assets(s.assets),
            "territoires": tuple(p.lower() if p.lower() in keywords else p for p in pages),
            "style": parse_style(s.style),
            "base_url": check_base_url(s.base_url),
        }
    )
