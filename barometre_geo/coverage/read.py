"""Reading structures files (CSV, JSON, GeoJSON, GeoPackage) into raw records.

This module only parses layouts and normalises field names; resolving the
members to communes is done by :mod:`barometre_geo.coverage.structures`. Each record
keeps where it came from (file and line, or record number) so that every
problem can be reported precisely.

Accepted field names (case and accents ignored) and their aliases:

==============  ===============================================================
field           aliases
==============  ===============================================================
``id``          ``identifiant``, ``uuid``
``nom``         ``name``, ``structure``, ``nom_structure``, ``nom_de_la_structure``,
                ``raison_sociale``, ``denomination``, ``libelle``
``siren``
``siret``
``type``        ``forme``, ``forme_juridique``, ``categorie``, ``nature``
``statut``      ``status``
``url``         ``site``, ``site_web``
``membres``     ``members``, ``adherents``, ``collectivites``,
                ``communes_membres``, ``communes_adherentes``,
                ``collectivites_adherentes``, ``liste_membres``; ``membre``,
                ``member``, ``adherent`` (one member per row: long layout)
``departements````departement``, ``dep``, ``deps``
``regions``     ``region``, ``reg``
``exclus``      ``exclusions``, ``exclues``, ``sauf``
``geometry``    ``geometrie``, ``wkt``, ``geom`` (WKT text in CSV)
==============  ===============================================================
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputFileError, SchemaError

__all__ = ["RawStructure", "load_records", "source_name"]

_ALIASES = {
    "id": ("id", "identifiant", "uuid"),
    "nom": (
        "nom",
        "name",
        "structure",
        "nom_structure",
        "nom_de_la_structure",
        "raison_sociale",
        "denomination",
        "libelle",
    ),
    "siren": ("siren",),
    "siret": ("siret",),
    "type": ("type", "forme", "forme_juridique", "categorie", "nature"),
    "statut": ("statut", "status"),
    "url": ("url", "site", "site_web"),
    "membres": (
        "membres",
        "members",
        "adherents",
        "collectivites",
        "communes_membres",
        "communes_adherentes",
        "collectivites_adherentes",
        "liste_membres",
    ),
    "membre": ("membre", "member", "adherent"),
    "departements": ("departements", "departement", "dep", "deps"),
    "regions": ("regions", "region", "reg"),
    "exclus": ("exclus", "exclusions", "exclues", "sauf"),
    "geometry": ("geometry", "geometrie", "wkt", "geom"),
}
_LOOKUP = {alias: canon for canon, aliases in _ALIASES.items() for alias in aliases}
_LIST_FIELDS = ("membres", "departements", "regions", "exclus")
_SCALAR_FIELDS = ("id", "nom", "siren", "siret", "type", "statut", "url")
_TERRITORY_FIELDS = ("membres", "membre", "departements", "regions", "geometry")


@dataclass
class RawStructure:
    """One structure as read, before resolution."""

    where: str
    id: str | None = None
    nom: str | None = None
    siren: str | None = None
    siret: str | None = None
    type: str | None = None
    statut: str | None = None
    url: str | None = None
    membres: list = field(default_factory=list)
    departements: list = field(default_factory=list)
    regions: list = field(default_factory=list)
    exclus: list = field(default_factory=list)
    geometry: object = None  # shapely geometry in EPSG:4326, or None
    issues: list = field(default_factory=list)  # (field, value, issue, message)


def _canon(name: str) -> str:
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    try:
        import pandas as pd

        if value is pd.NA:
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(value, str) and not value.strip()


def _split(value, separators: str) -> list:
    """Turn a cell or JSON value into a list of member values."""
    if _blank(value):
        return []
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend([v] if isinstance(v, dict) else _split(v, separators))
        return out
    if isinstance(value, (int, float)):
        return [value]
    if isinstance(value, dict):
        return [value]
    parts = re.split(f"[{re.escape(separators)}\n]", str(value))
    return [p.strip() for p in parts if p.strip()]


def _scalar(value) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


#: French wording of GEOS' validity reasons (``shapely.is_valid_reason``), by prefix.
_INVALID_FR = {
    "Self-intersection": "le contour se recoupe",
    "Ring Self-intersection": "un anneau se recoupe",
    "Too few points": "trop peu de points",
    "Hole lies outside shell": "un trou est hors du contour",
    "Holes are nested": "des trous sont imbriqués",
    "Interior is disconnected": "l’intérieur est coupé en morceaux",
    "Nested shells": "des contours sont imbriqués",
    "Duplicate Rings": "des anneaux sont en double",
    "Invalid Coordinate": "une coordonnée est invalide",
    "Ring is not closed": "un anneau n’est pas fermé",
}


def _invalid_fr(reason: str) -> str:
    import re

    for prefix, text in _INVALID_FR.items():
        if reason.startswith(prefix):
            point = re.search(r"\[([-\d.eE]+) ([-\d.eE]+)", reason)
            return text + (f" au point ({point[1]}, {point[2]})" if point else "")
    return "géométrie invalide"


def _close_rings(value):
    """Repeat the first point of each unclosed ring of a GeoJSON (Multi)Polygon."""
    if not isinstance(value, dict):
        return value

    def close(ring):
        if isinstance(ring, list) and len(ring) >= 3 and ring[0] != ring[-1]:
            return [*ring, ring[0]]
        return ring

    kind, coords = value.get("type"), value.get("coordinates")
    if kind == "Polygon" and isinstance(coords, list):
        return {**value, "coordinates": [close(r) for r in coords]}
    if kind == "MultiPolygon" and isinstance(coords, list):
        return {**value, "coordinates": [[close(r) for r in p] for p in coords]}
    return value


def _geometry(value, where: str):
    """Parse a GeoJSON mapping, WKT text or shapely geometry (EPSG:4326), repairing it.

    Returns ``(geometry or None, issues)``: an unclosed ring is closed, an
    invalid polygon (self-intersection…) repaired with :func:`shapely.make_valid`,
    each reported (French, no raw GEOS message); an unreadable geometry is
    left out and reported. Never raises on the geometry's content.
    """
    import shapely

    if _blank(value):
        return None, []
    issues = []
    if isinstance(value, shapely.Geometry):
        geom = value
    else:
        is_json = isinstance(value, dict)
        text = json.dumps(value) if is_json else str(value)
        try:
            geom = shapely.from_geojson(text) if is_json else shapely.from_wkt(text)
        except (shapely.errors.ShapelyError, ValueError, TypeError):
            try:
                geom = (
                    shapely.from_geojson(json.dumps(_close_rings(value)))
                    if is_json
                    else shapely.from_wkt(text, on_invalid="fix")
                )
            except (shapely.errors.ShapelyError, ValueError, TypeError):
                geom = None
            if geom is None or geom.is_empty:
                return None, [
                    (
                        "geometry",
                        text[:60],
                        "unreadable_geometry",
                        f"géométrie illisible ({where}) : ni un WKT ni une géométrie GeoJSON "
                        "complets ; elle est ignorée. Donnez un polygone en longitude/latitude "
                        "(EPSG:4326), par exemple « POLYGON ((1 45, 2 45, 2 46, 1 45)) ».",
                    )
                ]
            issues.append(
                (
                    "geometry",
                    "polygone",
                    "invalid_geometry",
                    f"anneau non fermé ({where}) : le dernier point doit répéter le premier ; "
                    "refermé automatiquement, vérifiez le polygone.",
                )
            )
    if not shapely.is_valid(geom):
        reason = str(shapely.is_valid_reason(geom))
        geom = shapely.make_valid(geom)
        issues.append(
            (
                "geometry",
                "polygone",
                "invalid_geometry",
                f"polygone invalide ({where}) : {_invalid_fr(reason)} ; réparé avec "
                "shapely.make_valid (vérifiez le territoire obtenu).",
            )
        )
    return geom, issues


def _from_mapping(row: dict, where: str, separators: str) -> RawStructure:
    raw = RawStructure(where=where)
    for key, value in row.items():
        canon = _LOOKUP.get(_canon(key))
        if canon is None:
            continue
        if canon in _SCALAR_FIELDS:
            setattr(raw, canon, _scalar(value))
        elif canon in _LIST_FIELDS:
            getattr(raw, canon).extend(_split(value, separators))
        elif canon == "membre":
            raw.membres.extend(_split(value, separators))
        elif canon == "geometry":
            raw.geometry, problems = _geometry(value, where)
            raw.issues.extend(problems)
    return raw


#: Every accepted field name (canonical form), for the closest-name hints.
_KNOWN = sorted(_LOOKUP)


def unknown_fields(names, where: str, counts: dict | None = None) -> list[dict]:
    """Issues for the field names no alias knows: the closest known name, or "not used".

    A name close to a known one (``exlus`` → ``exclus``) is a warning: the
    coverage would silently miss what that column says. Others (``services``,
    ``nom_avec_article`` of the OPSN directory) are listed as unused (info).

    Examples
    --------
    >>> [(i["value"], i["severity"]) for i in unknown_fields(["nom", "exlus", "services"], "f")]
    [('exlus', 'warning'), ('services', 'info')]
    """
    import difflib

    out = []
    for name in names:
        canon = _canon(name)
        if not canon or canon in _LOOKUP or canon in ("properties", "type_geometrie"):
            continue
        close = difflib.get_close_matches(canon, _KNOWN, n=1, cutoff=0.75)
        n = (counts or {}).get(name)
        rows = f" ({n} enregistrement{'s' if n > 1 else ''})" if n else ""
        if close:
            canon_close = _LOOKUP[close[0]]
            message = (
                f"colonne « {name} » inconnue{rows}, ignorée : vouliez-vous dire « {close[0]} »"
                + (f" (champ {canon_close})" if canon_close != close[0] else "")
                + " ? Renommez-la, sinon ce qu’elle dit ne compte pas dans la couverture."
            )
            severity = "warning"
        else:
            message = (
                f"colonne « {name} » non utilisée{rows} (champs reconnus : "
                + ", ".join(_ALIASES)
                + ")."
            )
            severity = "info"
        out.append(
            {
                "where": where,
                "field": str(name),
                "value": close[0] if close else "",
                "issue": "unknown_column",
                "severity": severity,
                "message": message,
            }
        )
    return out


def _check_columns(columns, source: str) -> bool:
    """Raise if a table lacks a name column or any territory column; return long layout."""
    canon = {_LOOKUP.get(_canon(c)) for c in columns}
    found = ", ".join(map(str, columns))
    if not canon & {"nom", "id", "siren", "siret"}:
        raise SchemaError(
            f"{source}: no column naming the structures (found: {found}). "
            "Add a 'nom' column (or 'siren'/'siret'/'id').",
            fr=f"{source} : aucune colonne ne nomme les structures (trouvées : {found}). "
            "Ajoutez une colonne « nom » (ou « siren », « siret », « id »).",
        )
    if not canon & set(_TERRITORY_FIELDS):
        close = [i for i in unknown_fields(columns, source) if i["severity"] == "warning"]
        hint = "".join(f" « {i['field']} » : « {i['value']} » ?" for i in close)
        raise SchemaError(
            f"{source}: no territory column (found: {found}).{hint} "
            "Add at least one of 'membres' (INSEE codes or SIREN separated by ';' or '|', "
            "or ',' in a ';'-delimited file), "
            "'departements', 'regions' or 'wkt' (polygon), or use one row per member "
            "with a 'membre' column.",
            fr=f"{source} : aucune colonne de territoire (trouvées : {found}).{hint} Ajoutez "
            "au moins l’une de « membres » (codes INSEE ou SIREN séparés par « ; » ou « | »), "
            "« departements », « regions » ou « wkt » (polygone), ou une ligne par membre "
            "avec une colonne « membre ».",
        )
    return "membre" in canon


def _group_long(raws: list[RawStructure]) -> list[RawStructure]:
    """Merge the rows of the long layout (one row per structure and member)."""
    groups: dict[str, RawStructure] = {}
    counts: dict[int, int] = {}
    for raw in raws:
        key = raw.id or raw.siren or raw.siret or raw.nom
        if key is None:
            groups[f"\0{raw.where}"] = raw
            continue
        first = groups.get(key)
        if first is None:
            groups[key] = raw
            continue
        for name in _SCALAR_FIELDS:
            mine, theirs = getattr(first, name), getattr(raw, name)
            if mine is None:
                setattr(first, name, theirs)
            elif theirs is not None and theirs != mine:
                first.issues.append(
                    (
                        name,
                        theirs,
                        "conflicting_value",
                        f"{raw.where}: {name}={theirs!r} differs from {mine!r} "
                        f"({first.where}); the first value is kept.",
                    )
                )
        for name in _LIST_FIELDS:
            getattr(first, name).extend(getattr(raw, name))
        first.issues.extend(raw.issues)
        if raw.geometry is not None:
            first.geometry = (
                raw.geometry if first.geometry is None else first.geometry.union(raw.geometry)
            )
        counts[id(first)] = counts.get(id(first), 1) + 1
    out = list(groups.values())
    for raw in out:
        if counts.get(id(raw), 1) > 1:
            raw.where = f"{raw.where} (and {counts[id(raw)] - 1} more row(s))"
    return out


# ------------------------------------------------------------------- formats


def _read_text(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise InputFileError(
        f"{path}: neither UTF-8 nor Windows-1252 text. Save the file as UTF-8 "
        "(in a spreadsheet: « CSV UTF-8 »).",
        fr=f"{path} : ni UTF-8 ni Windows-1252. Enregistrez le fichier en UTF-8 (dans un "
        "tableur : « CSV UTF-8 »).",
    )


def _read_csv(path: Path) -> tuple[list[RawStructure], str, list[dict]]:
    """Read a CSV with the survey reader: damaged lines are reported, never merged."""
    from ..survey.read import read_table

    text, _ = _read_text(path)  # undecodable: the structures file's own message
    if not text.strip():
        raise InputFileError(
            f"{path}: the file is empty. Give a header line then one row per structure.",
            fr=f"{path} : le fichier est vide. Donnez une ligne d’en-tête puis une ligne par "
            "structure.",
        )
    table = read_table(path)
    name = path.name
    issues = [
        {
            "where": f"{name}, line {d.line}",
            "field": "ligne",
            "value": str(d.line),
            "issue": "damaged_row",
            "severity": "warning",
            "message": f"{name}, ligne {d.line} ignorée : {d.detail}",
        }
        for d in table.damaged
    ]
    issues += [
        {
            "where": name,
            "field": "fichier",
            "value": "",
            "issue": "reading_note",
            "severity": "info",
            "message": f"{name} : {note}",
        }
        for note in table.notes
    ]
    long = _check_columns(table.headers, name)
    issues += unknown_fields(table.headers, name)
    separators = "".join(x for x in ";|," if x != table.delimiter)
    raws = []
    for line, row in zip(table.lines.tolist(), table.cells.itertuples(index=False), strict=True):
        record = dict(zip(table.headers, row, strict=True))
        raws.append(_from_mapping(record, f"{name}, line {line}", separators))
    return (_group_long(raws) if long else raws), table.encoding or "", issues


def _records_from_json(doc, source: str) -> list:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        return [
            {**(f.get("properties") or {}), "geometry": f.get("geometry")}
            for f in doc.get("features", [])
        ]
    if isinstance(doc, dict) and isinstance(doc.get("structures"), list):
        return doc["structures"]
    raise SchemaError(
        f"{source}: unrecognised JSON layout (top level is a {type(doc).__name__}"
        f"{' with keys ' + ', '.join(list(doc)[:6]) if isinstance(doc, dict) else ''}). "
        'Give a list of structures, an object {"structures": [...]}, or a GeoJSON '
        "FeatureCollection."
    )


def _read_json(path: Path) -> tuple[list[RawStructure], list[dict]]:
    text, _ = _read_text(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"{path}, line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg}). "
            "Fix the syntax (a missing comma or quote is the usual cause).",
            fr=f"{path}, ligne {exc.lineno}, colonne {exc.colno} : JSON invalide ({exc.msg}). "
            "Corrigez la syntaxe (une virgule ou un guillemet manquant, le plus souvent).",
        ) from None
    return _from_records(_records_from_json(doc, path.name), path.name)


def _from_records(records: list, source: str) -> tuple[list[RawStructure], list[dict]]:
    raws, keys = [], {}
    for i, rec in enumerate(records, start=1):
        where = f"{source}, record {i}"
        if not isinstance(rec, dict):
            raise InputFileError(
                f"{where}: expected an object with 'nom' and a territory, got "
                f"{type(rec).__name__} {str(rec)[:40]!r}. Give one object per structure.",
                fr=f"{source}, enregistrement {i} : un objet avec « nom » et un territoire est "
                f"attendu, pas {type(rec).__name__} {str(rec)[:40]!r}. Donnez un objet par "
                "structure.",
            )
        for key in rec:
            keys[key] = keys.get(key, 0) + 1
        raws.append(_from_mapping(rec, where, ";|,"))
    return raws, unknown_fields(list(keys), source, keys)


def _read_frame(df, source: str, *, row: str) -> tuple[list[RawStructure], list[dict]]:
    import pandas as pd

    long = _check_columns(list(df.columns), source)
    geometry_name = df.geometry.name if hasattr(df, "crs") else None
    issues = unknown_fields([c for c in df.columns if c != geometry_name], source)
    if geometry_name is not None:
        if df.crs is None:
            raise InputFileError(
                f"{source}: the polygons have no CRS. Set it (e.g. "
                "gdf.set_crs('EPSG:2154')) or write the layer with its CRS.",
                fr=f"{source} : les polygones n’ont pas de système de coordonnées. Indiquez-le "
                "(par exemple gdf.set_crs('EPSG:2154')) ou écrivez la couche avec son SCR.",
            )
        df = df.to_crs(4326)
        df = pd.DataFrame(df).rename(columns={geometry_name: "geometry"})
    raws = [
        _from_mapping(rec, f"{source}, {row} {i}", ";|,")
        for i, rec in enumerate(df.to_dict("records"), start=0 if row == "row" else 1)
    ]
    return (_group_long(raws) if long else raws), issues


def load_records(source, *, layer=None) -> tuple[list[RawStructure], str, dict]:
    """Read any accepted input into raw structures.

    Returns
    -------
    (list of RawStructure, source label, metadata dict)
        The label names a file by its name only (reports are published);
        ``metadata["issues"]`` lists the file-level problems (unknown
        columns, damaged CSV lines) as dicts ``where, field, value, issue,
        severity, message``.
    """
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        raws, issues = _read_frame(source, "DataFrame", row="row")
        return raws, "DataFrame", {"issues": issues}
    if isinstance(source, (list, tuple)):
        raws, issues = _from_records(list(source), "records")
        return raws, "records", {"issues": issues}
    if not isinstance(source, (str, os.PathLike)):
        raise InputFileError(
            f"Cannot read structures from a {type(source).__name__}. Give a path "
            "(.csv, .json, .geojson, .gpkg), a list of dicts or a (Geo)DataFrame.",
            fr=f"Impossible de lire des structures depuis un {type(source).__name__}. Donnez "
            "un chemin (.csv, .json, .geojson, .gpkg), une liste de dict ou un (Geo)DataFrame.",
        )
    path = Path(source)
    if not path.is_file():
        raise InputFileError(
            f"{path}: no such file. Check the path (current folder: {Path.cwd()}).",
            fr=f"{path} : fichier introuvable. Vérifiez le chemin (dossier courant : "
            f"{Path.cwd()}).",
        )
    suffix = path.suffix.lower()
    meta: dict = {}
    if suffix in (".csv", ".txt", ".tsv"):
        raws, meta["encoding"], meta["issues"] = _read_csv(path)
    elif suffix in (".json", ".geojson"):
        raws, meta["issues"] = _read_json(path)
    elif suffix == ".gpkg":
        import pyogrio

        try:
            layers = [name for name, _ in pyogrio.list_layers(path)]
        except Exception as exc:  # not a GeoPackage: GDAL's many error types
            raise InputFileError(
                f"{path}: not a readable GeoPackage ({type(exc).__name__}). Open it in QGIS "
                "and save it again, or give a CSV or GeoJSON file.",
                fr=f"{path} : GeoPackage illisible ({type(exc).__name__}). Ouvrez-le dans QGIS "
                "et enregistrez-le à nouveau, ou donnez un fichier CSV ou GeoJSON.",
            ) from None
        if layer is None:
            layer = layers[0]
        elif layer not in layers:
            raise SchemaError(
                f"{path}: no layer {layer!r}. Layers in the file: {', '.join(layers)}.",
                fr=f"{path} : pas de couche {layer!r}. Couches du fichier : {', '.join(layers)}.",
            )
        gdf = pyogrio.read_dataframe(path, layer=layer)
        raws, meta["issues"] = _read_frame(gdf, f"{path.name} (layer {layer})", row="feature")
        meta["layer"] = layer
    else:
        raise InputFileError(
            f"{path}: unsupported file type {suffix!r}. Use .csv, .json, .geojson or .gpkg.",
            fr=f"{path} : type de fichier {suffix!r} non lu. Utilisez .csv, .json, .geojson ou "
            ".gpkg.",
        )
    return raws, path.name, meta


def source_name(source: str) -> str:
    """Return the structures file's name alone, for what is published (no machine folder).

    Examples
    --------
    >>> source_name("/srv/data/operators.json"), source_name("records")
    ('operators.json', 'records')
    """
    text = str(source)
    return os.path.basename(text) if ("/" in text or os.sep in text) else text
