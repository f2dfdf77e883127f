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

import csv
import io
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


def _geometry(value, where: str):
    """Parse a GeoJSON mapping, WKT text or shapely geometry (EPSG:4326)."""
    import shapely

    if _blank(value):
        return None
    if isinstance(value, shapely.Geometry):
        return value
    try:
        if isinstance(value, dict):
            return shapely.from_geojson(json.dumps(value))
        return shapely.from_wkt(str(value))
    except shapely.errors.ShapelyError as exc:
        raise InputFileError(
            f"{where}: cannot read the geometry {str(value)[:60]!r} ({exc}). "
            "Give a GeoJSON geometry (JSON) or WKT text (CSV) in longitude/latitude "
            "(EPSG:4326), e.g. 'POLYGON ((1 45, 2 45, 2 46, 1 45))'."
        ) from exc


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
            raw.geometry = _geometry(value, where)
    return raw


def _check_columns(columns, source: str) -> bool:
    """Raise if a table lacks a name column or any territory column; return long layout."""
    canon = {_LOOKUP.get(_canon(c)) for c in columns}
    if not canon & {"nom", "id", "siren", "siret"}:
        raise SchemaError(
            f"{source}: no column naming the structures (found: {', '.join(map(str, columns))}). "
            "Add a 'nom' column (or 'siren'/'siret'/'id')."
        )
    if not canon & set(_TERRITORY_FIELDS):
        raise SchemaError(
            f"{source}: no territory column (found: {', '.join(map(str, columns))}). "
            "Add at least one of 'membres' (INSEE codes or SIREN separated by ';' or '|', "
            "or ',' in a ';'-delimited file), "
            "'departements', 'regions' or 'wkt' (polygon), or use one row per member "
            "with a 'membre' column."
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
        "(in a spreadsheet: « CSV UTF-8 »)."
    )


def _read_csv(path: Path) -> tuple[list[RawStructure], str]:
    text, encoding = _read_text(path)
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        raise InputFileError(
            f"{path}: the file is empty. Give a header line then one row per structure."
        )
    delimiter = max(",;\t", key=first.count)
    separators = "".join(s for s in ";|," if s != delimiter)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    long = _check_columns(reader.fieldnames or [], str(path))
    raws = []
    for row in reader:
        if None in row:
            raise InputFileError(
                f"{path}, line {reader.line_num}: {len(row[None])} more cell(s) than columns "
                f"({row[None][:3]!r}). Quote the cells that contain the delimiter "
                f"{delimiter!r}, or separate members with "
                f"{' or '.join(repr(s) for s in separators[:2])}."
            )
        if all(_blank(v) for v in row.values()):
            continue
        raws.append(_from_mapping(row, f"{path}, line {reader.line_num}", separators))
    return (_group_long(raws) if long else raws), encoding


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


def _read_json(path: Path) -> list[RawStructure]:
    text, _ = _read_text(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"{path}, line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg}). "
            "Fix the syntax (a missing comma or quote is the usual cause)."
        ) from exc
    return _from_records(_records_from_json(doc, str(path)), str(path))


def _from_records(records: list, source: str) -> list[RawStructure]:
    raws = []
    for i, rec in enumerate(records, start=1):
        where = f"{source}, record {i}"
        if not isinstance(rec, dict):
            raise InputFileError(
                f"{where}: expected an object with 'nom' and a territory, got "
                f"{type(rec).__name__} {str(rec)[:40]!r}. Give one object per structure."
            )
        raws.append(_from_mapping(rec, where, ";|,"))
    return raws


def _read_frame(df, source: str, *, row: str) -> list[RawStructure]:
    import pandas as pd

    long = _check_columns(list(df.columns), source)
    geometry_name = df.geometry.name if hasattr(df, "crs") else None
    if geometry_name is not None:
        if df.crs is None:
            raise InputFileError(
                f"{source}: the polygons have no CRS. Set it (e.g. "
                "gdf.set_crs('EPSG:2154')) or write the layer with its CRS."
            )
        df = df.to_crs(4326)
        df = pd.DataFrame(df).rename(columns={geometry_name: "geometry"})
    raws = [
        _from_mapping(rec, f"{source}, {row} {i}", ";|,")
        for i, rec in enumerate(df.to_dict("records"), start=0 if row == "row" else 1)
    ]
    return _group_long(raws) if long else raws


def load_records(source, *, layer=None) -> tuple[list[RawStructure], str, dict]:
    """Read any accepted input into raw structures.

    Returns
    -------
    (list of RawStructure, source label, metadata dict)
    """
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return _read_frame(source, "DataFrame", row="row"), "DataFrame", {}
    if isinstance(source, (list, tuple)):
        return _from_records(list(source), "records"), "records", {}
    if not isinstance(source, (str, os.PathLike)):
        raise InputFileError(
            f"Cannot read structures from a {type(source).__name__}. Give a path "
            "(.csv, .json, .geojson, .gpkg), a list of dicts or a (Geo)DataFrame."
        )
    path = Path(source)
    if not path.is_file():
        raise InputFileError(
            f"{path}: no such file. Check the path (current folder: {Path.cwd()})."
        )
    suffix = path.suffix.lower()
    meta: dict = {}
    if suffix in (".csv", ".txt", ".tsv"):
        raws, meta["encoding"] = _read_csv(path)
    elif suffix in (".json", ".geojson"):
        raws = _read_json(path)
    elif suffix == ".gpkg":
        import pyogrio

        layers = [name for name, _ in pyogrio.list_layers(path)]
        if layer is None:
            layer = layers[0]
        elif layer not in layers:
            raise SchemaError(
                f"{path}: no layer {layer!r}. Layers in the file: {', '.join(layers)}."
            )
        gdf = pyogrio.read_dataframe(path, layer=layer)
        raws = _read_frame(gdf, f"{path} (layer {layer})", row="feature")
        meta["layer"] = layer
    else:
        raise InputFileError(
            f"{path}: unsupported file type {suffix!r}. Use .csv, .json, .geojson or .gpkg."
        )
    return raws, str(path), meta


def source_name(source: str) -> str:
    """Return the structures file's name alone, for what is published (no machine folder).

    Examples
    --------
    >>> source_name("/srv/data/operators.json"), source_name("records")
    ('operators.json', 'records')
    """
    text = str(source)
    return os.path.basename(text) if ("/" in text or os.sep in text) else text
