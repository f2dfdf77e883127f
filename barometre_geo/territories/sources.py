"""Read official territorial sources: IGN ADMIN EXPRESS (COG, COG CARTO), cartiflette.

:func:`load_source` is what ``load_territories(source=...)`` calls for any
source other than ``"embedded"``. It accepts:

* the id of a downloadable edition (``barometre_geo.territory_sources()``),
  downloaded once into the cache (:mod:`barometre_geo.territories.download`);
* a local ADMIN EXPRESS GeoPackage (one file, any CRS);
* a folder holding an ADMIN EXPRESS delivery: the shapefiles of every
  territory in their sub-folders, each in its own CRS (FXX Lambert-93
  EPSG:2154, GLP/MTQ EPSG:5490, GUF EPSG:2972, REU EPSG:2975, MYT EPSG:4471),
  or one GeoPackage per territory; a ``.shp`` file stands for its folder;
* a ``.7z`` or ``.zip`` archive as IGN delivers it (extracted into the cache);
* a cartiflette GeoParquet of communes (``.parquet``).

Layer names are matched case-insensitively, fields by the names IGN used in
each major edition (confirmed from public code that reads them, see
``docs/contracts/territories.md``):

==============  =====================  ====================  =============================
layer / role    2.x                    3.x                   4.x (GeoPackage, 2025 on)
==============  =====================  ====================  =============================
commune code    INSEE_COM              INSEE_COM             code_insee
commune name    NOM_COM                NOM                   nom_officiel
EPCI of commune CODE_EPCI              SIREN_EPCI            codes_siren_des_epci
département     INSEE_DEP              INSEE_DEP             code_insee_du_departement
région          INSEE_REG              INSEE_REG             code_insee_de_la_region
EPCI code       CODE_EPCI              CODE_SIREN            code_siren
EPCI nature     TYPE_EPCI              NATURE                nature
==============  =====================  ====================  =============================

Everything is reprojected to EPSG:4326; areas are measured in each zone's
projection (:mod:`barometre_geo.territories.crs`). Building the levels is in
:mod:`barometre_geo.territories.assemble`.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputFileError, SchemaError, SourceError

__all__ = ["FIELDS", "load_source"]

#: Accepted field names per layer and role (matched case-insensitively).
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "commune": {
        "code": ("INSEE_COM", "code_insee"),
        "nom": ("NOM", "NOM_COM", "nom_officiel"),
        "population": ("POPULATION",),
        "epci": ("SIREN_EPCI", "CODE_EPCI", "codes_siren_des_epci"),
        "departement": ("INSEE_DEP", "code_insee_du_departement"),
        "region": ("INSEE_REG", "code_insee_de_la_region"),
    },
    "epci": {
        "code": ("CODE_SIREN", "CODE_EPCI"),
        "nom": ("NOM", "NOM_EPCI", "nom_officiel"),
        "nature": ("NATURE", "TYPE_EPCI"),
    },
    "departement": {
        "code": ("INSEE_DEP", "code_insee"),
        "nom": ("NOM", "NOM_DEP", "nom_officiel"),
        "region": ("INSEE_REG", "code_insee_de_la_region"),
    },
    "region": {
        "code": ("INSEE_REG", "code_insee"),
        "nom": ("NOM", "NOM_REG", "nom_officiel"),
    },
}
#: Optional fields, read when present.
OPTIONAL: dict[str, dict[str, tuple[str, ...]]] = {"commune": {"siren": ("code_siren",)}}
#: Arrondissements municipaux (optional layer; gives identifiers).
ARM_FIELDS = {
    "code": ("INSEE_ARM", "code_insee"),
    "commune": ("INSEE_COM", "code_insee_de_la_commune_de_rattach"),
    "nom": ("NOM", "NOM_ARM", "nom_officiel"),
}
#: cartiflette GeoParquet of communes (cartiflette/prepare.py of its pipeline).
CARTIFLETTE_FIELDS = {
    "code": ("INSEE_COM",),
    "nom": ("NOM",),
    "population": ("POPULATION",),
    "epci": ("EPCI",),
    "nature": ("NATURE_EPCI",),
    "departement": ("INSEE_DEP",),
    "region": ("INSEE_REG",),
    "nom_departement": ("LIBELLE_DEPARTEMENT",),
    "nom_region": ("LIBELLE_REGION",),
}
_LAYER_NAMES = {
    "commune": "COMMUNE",
    "epci": "EPCI",
    "departement": "DEPARTEMENT",
    "region": "REGION",
    "arrondissement_municipal": "ARRONDISSEMENT_MUNICIPAL",
}
_ARCHIVE_SUFFIXES = {".7z": "7z", ".zip": "zip"}
_DATA_SUFFIXES = {".gpkg", ".shp", ".parquet", ".geoparquet"}
_EDITION_YEAR = re.compile(
    r"(?:ADMIN-EXPRESS-COG(?:-CARTO)?_\d+-\d+__[^/\\]*?_|ADE-?COG(?:-?CARTO|C)?_\d+-\d+_[^/\\]*?-ED)"
    r"(\d{4})-\d{2}-\d{2}"
)


@dataclass
class Part:
    """One piece of a layer: a shapefile, or a layer of a GeoPackage."""

    file: Path
    layer: str | None  # None for a shapefile
    fields: list[str] = field(default_factory=list)
    crs: str | None = None

    @property
    def label(self) -> str:
        return str(self.file) if self.layer is None else f"{self.file} (layer {self.layer})"


# ---------------------------------------------------------------------- entry point

_MEMO: dict[tuple, object] = {}
_MEMO_SIZE = 2  # sources kept in memory per process (the most recent ones)
_LOCK = threading.Lock()


def load_source(
    source: str | os.PathLike,
    *,
    cog: int,
    cache_dir: str | os.PathLike | None = None,
    timeout: float = 60.0,
):
    """Load a :class:`~barometre_geo.territories.Territories` from an official source.

    Parameters
    ----------
    source : str or path-like
        Id of a downloadable edition, or the path of a local GeoPackage,
        delivery folder, archive or cartiflette GeoParquet (see the module notes).
    cog : int
        COG year of the source. Checked against the catalogue entry or the IGN
        file name when they tell it.
    cache_dir : path-like, optional
        Cache folder for downloads and extracted archives.
    timeout : float
        Network timeout in seconds.

    Returns
    -------
    Territories

    Raises
    ------
    InputFileError
        The path does not exist or is not a supported kind of file.
    SchemaError
        A layer or field is missing (the message lists what was found).
    SourceError
        Inconsistent content (codes, nesting, geometries that cannot be repaired).
    DownloadError, OfflineError
        See :func:`barometre_geo.download_territory_source`.
    """
    from . import download as _download

    extra: dict = {}
    label = str(source)
    if isinstance(source, str) and not _looks_like_path(source):
        entry = _download.get_source(source)
        if entry.cog != cog:
            raise SourceError(
                f"Source {entry.id!r} is the COG {entry.cog} edition, but cog={cog} was asked. "
                f"Call load_territories({entry.cog}, source={entry.id!r}) "
                f"(command line: --cog {entry.cog})."
            )
        path = _download.fetch(entry, cache_dir=cache_dir, timeout=timeout)
        record = _download.read_record(_download.edition_dir(entry, cache_dir)) or {}
        extra["download"] = {k: record.get(k) for k in ("url", "sha256", "pinned", "size")}
        extra["catalogue_entry"] = entry.id
    else:
        path = Path(source).expanduser()
        if not path.exists():
            raise InputFileError(
                f"Territorial source {str(source)!r} not found. Pass the path of an existing "
                "ADMIN EXPRESS GeoPackage, delivery folder or archive, or one of the names "
                "listed by barometre_geo.territory_sources(), or 'embedded'.",
                fr=f"Source territoriale {str(source)!r} introuvable. Donnez le chemin d’un "
                "GeoPackage ADMIN EXPRESS, d’un dossier de livraison ou d’une archive, l’un des "
                "noms de barometre_geo.territory_sources(), ou 'embedded'.",
            )
        _check_edition_year(path, cog)
        if path.is_file() and path.suffix.lower() in _ARCHIVE_SUFFIXES:
            path = _extract_local(path, cache_dir)
        elif path.is_file() and path.suffix.lower() == ".shp":
            path = path.parent
        elif path.is_file() and path.suffix.lower() not in _DATA_SUFFIXES:
            raise InputFileError(
                f"{path}: unsupported file type {path.suffix!r}. Pass an ADMIN EXPRESS "
                "GeoPackage (.gpkg), shapefile folder, .7z/.zip archive, or a cartiflette "
                "GeoParquet (.parquet)."
            )
    return _load_path(path, cog=cog, label=label, extra=extra)


def _looks_like_path(value: str) -> bool:
    return (
        os.sep in value
        or "/" in value
        or value.startswith(("~", "."))
        or Path(value).suffix.lower() in _DATA_SUFFIXES | set(_ARCHIVE_SUFFIXES)
        or Path(value).exists()
    )


def _check_edition_year(path: Path, cog: int) -> None:
    match = _EDITION_YEAR.search(str(path))
    if match and int(match.group(1)) != cog:
        year = int(match.group(1))
        raise SourceError(
            f"{path} is the IGN edition of {year} (COG {year}), but cog={cog} was asked. "
            f"Call load_territories({year}, source=...) (command line: --cog {year}), or pass "
            "the edition of the year you want."
        )


def _extract_local(archive: Path, cache_dir) -> Path:
    """Extract a local archive into the cache once; return the folder to read."""
    import hashlib

    from .._paths import cache_dir as resolve_cache
    from . import download as _download

    stat = archive.stat()
    key = hashlib.sha256(f"{archive.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    dest = (
        resolve_cache(cache_dir)
        / "territory-sources"
        / "local"
        / (f"{archive.stem}-{key.hexdigest()[:12]}")
    )
    if not dest.is_dir():
        dest.parent.mkdir(parents=True, exist_ok=True)
        _download.extract_archive(archive, dest, kind=_ARCHIVE_SUFFIXES[archive.suffix.lower()])
    return dest


def _load_path(path: Path, *, cog: int, label: str, extra: dict):
    from .assemble import build_from_admin_express, build_from_communes
    from .reference import _copy

    if path.is_file() and path.suffix.lower() in {".parquet", ".geoparquet"}:
        key = ("parquet", str(path.resolve()), _signature([path]), cog)
        builder = lambda: build_from_communes(  # noqa: E731
            _read_cartiflette(path), cog=cog, source=label, provenance=extra
        )
    else:
        parts = discover(path)
        files = sorted({p.file for ps in parts.values() for p in ps})
        key = ("admin-express", str(path.resolve()), _signature(files), cog)
        builder = lambda: build_from_admin_express(  # noqa: E731
            read_layers(parts, path), cog=cog, source=label, provenance=extra
        )
    with _LOCK:
        if key not in _MEMO:
            _MEMO[key] = builder()
            while len(_MEMO) > _MEMO_SIZE:  # full-resolution references are large
                _MEMO.pop(next(iter(_MEMO)))
        return _copy(_MEMO[key])


def _signature(files) -> tuple:
    return tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)


# ---------------------------------------------------------------------- discovery


def discover(path: Path) -> dict[str, list[Part]]:
    """Find the pieces of each ADMIN EXPRESS layer in a GeoPackage or folder.

    Raises
    ------
    SchemaError
        A required layer is missing; the message lists the layers found.
    """
    found: dict[str, list[Part]] = {}
    if path.is_file():
        files = [path]
    else:
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in {".shp", ".gpkg"}
        )
    for f in files:
        if f.suffix.lower() == ".shp":
            _check_companions(f)
            found.setdefault(f.stem.upper(), []).append(Part(f, None))
        else:
            for name in _gpkg_layers(f):
                found.setdefault(name.upper(), []).append(Part(f, name))
    wanted = [lv for lv in ("commune", "epci", "departement", "region")]
    missing = [_LAYER_NAMES[lv] for lv in wanted if _LAYER_NAMES[lv] not in found]
    if missing:
        shown = ", ".join(sorted(found)) or "none"
        what = "GeoPackage" if path.is_file() else "folder (searched recursively for .shp/.gpkg)"
        raise SchemaError(
            f"{path}: the ADMIN EXPRESS layer(s) {', '.join(missing)} are missing from this "
            f"{what}. Layers found: {shown}. An ADMIN EXPRESS COG (or COG CARTO) delivery "
            "has the layers COMMUNE, EPCI, DEPARTEMENT and REGION (any case): pass the "
            "GeoPackage or the delivery folder as downloaded from IGN "
            "(see barometre_geo.territory_sources())."
        )
    out = {lv: found[_LAYER_NAMES[lv]] for lv in wanted}
    if "ARRONDISSEMENT_MUNICIPAL" in found:
        out["arrondissement_municipal"] = found["ARRONDISSEMENT_MUNICIPAL"]
    return out


def _check_companions(shp: Path) -> None:
    siblings = {p.name.lower() for p in shp.parent.iterdir()}
    missing = [ext for ext in (".shx", ".dbf") if (shp.stem + ext).lower() not in siblings]
    if missing:
        raise InputFileError(
            f"{shp} cannot be read: its {' and '.join(missing)} file is missing. The .shp, "
            ".shx, .dbf (and .prj) files of a shapefile must sit together: extract the "
            "whole IGN archive again."
        )


def _gpkg_layers(path: Path) -> list[str]:
    import warnings

    import pyogrio

    with warnings.catch_warnings(record=True) as gdal_warnings:
        warnings.simplefilter("always")
        try:
            return [str(name) for name, _ in pyogrio.list_layers(path)]
        except Exception as exc:  # GDAL raises DataSourceError and friends
            detail = "; ".join([str(w.message) for w in gdal_warnings] + [str(exc)])
            raise InputFileError(
                f"{path} cannot be opened as a GeoPackage ({detail}). The file is damaged or "
                "incomplete: download it again."
            ) from exc


# ---------------------------------------------------------------------- reading


def resolve_fields(
    available: list[str], spec: dict[str, tuple[str, ...]], *, where: str, level: str
) -> dict[str, str]:
    """Map each role of ``spec`` to the actual field name (case-insensitive).

    Raises
    ------
    SchemaError
        Some roles have none of their accepted names among ``available``.

    Examples
    --------
    >>> resolve_fields(["code_insee", "nom_officiel", "population"], FIELDS["commune"],
    ...                where="x.gpkg", level="commune")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    barometre_geo.errors.SchemaError: x.gpkg: the commune layer lacks the field(s) epci ...
    >>> resolve_fields(["INSEE_REG", "NOM"], FIELDS["region"], where="x", level="region")
    {'code': 'INSEE_REG', 'nom': 'NOM'}
    """
    lower = {f.lower(): f for f in available}
    out, missing = {}, []
    for role, names in spec.items():
        hit = next((lower[n.lower()] for n in names if n.lower() in lower), None)
        if hit is None:
            missing.append(f"{role} ({' or '.join(names)})")
        else:
            out[role] = hit
    if missing:
        raise SchemaError(
            f"{where}: the {level} layer lacks the field(s) {'; '.join(missing)}. "
            f"Fields found: {', '.join(available) or 'none'}. Pass an ADMIN EXPRESS COG or "
            "COG CARTO delivery from IGN (editions 2.x, 3.x or 4.x), whose fields are "
            "documented in barometre_geo.territories.sources, or rename the fields accordingly."
        )
    return out


def read_layers(parts: dict[str, list[Part]], path: Path) -> dict:
    """Read every layer, rename its fields to roles, reproject to EPSG:4326.

    Returns
    -------
    dict
        ``{level: GeoDataFrame}`` with role columns, plus ``"_meta"``: per level
        the pieces read, their CRS and the field names used.
    """
    import geopandas as gpd
    import pandas as pd

    layers: dict = {"_meta": {}}
    for level, pieces in parts.items():
        spec = ARM_FIELDS if level == "arrondissement_municipal" else FIELDS[level]
        optional = OPTIONAL.get(level, {})
        frames, meta = [], []
        for part in pieces:
            info = _info(part)
            try:
                mapping = resolve_fields(info["fields"], spec, where=part.label, level=level)
            except SchemaError:
                if level == "arrondissement_municipal":  # optional layer: skip if unusual
                    frames = []
                    break
                raise
            lower = {f.lower(): f for f in info["fields"]}
            for role, names in optional.items():
                hit = next((lower[n.lower()] for n in names if n.lower() in lower), None)
                if hit:
                    mapping[role] = hit
            geometry = level != "arrondissement_municipal"
            gdf = _read(part, list(mapping.values()), geometry=geometry)
            gdf = gdf.rename(columns={v: k for k, v in mapping.items()})
            if geometry:
                if gdf.crs is None:
                    raise SourceError(
                        f"{part.label} has no coordinate reference system (for a shapefile: "
                        "no .prj file next to it). Its coordinates cannot be placed on the "
                        "map: restore the .prj delivered by IGN, or pass the complete delivery."
                    )
                crs = gdf.crs.to_string()
                if gdf.crs.to_epsg() != 4326:
                    gdf = gdf.to_crs(4326)
            else:
                crs = None
            frames.append(gdf)
            meta.append({"file": part.label, "crs": crs, "features": len(gdf), "fields": mapping})
        if not frames:
            continue
        if frames and geometry:
            layers[level] = gpd.GeoDataFrame(
                pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326"
            )
        else:
            layers[level] = pd.concat(frames, ignore_index=True)
        layers["_meta"][level] = meta
    layers["_meta"]["path"] = str(path)
    return layers


def _info(part: Part) -> dict:
    import pyogrio

    info = _gdal(part, pyogrio.read_info, part.file, layer=part.layer)
    return {"fields": [str(f) for f in info["fields"]], "crs": info.get("crs")}


def _read(part: Part, columns: list[str], *, geometry: bool = True):
    import pyogrio

    return _gdal(
        part,
        pyogrio.read_dataframe,
        part.file,
        layer=part.layer,
        columns=columns,
        read_geometry=geometry,
        use_arrow=True,
    )


def _gdal(part: Part, func, *args, **kwargs):
    """Call a pyogrio reader, turning GDAL errors into one actionable error."""
    try:
        return func(*args, **kwargs)
    except Exception as exc:  # DataSourceError, DataLayerError, GDAL's own
        raise InputFileError(
            f"{part.label} cannot be read ({exc}). The file is damaged or incomplete "
            "(for a shapefile, the .shp, .shx and .dbf must sit together): download it again."
        ) from exc


def _read_cartiflette(path: Path):
    """Read a cartiflette GeoParquet of communes, with role columns."""
    import geopandas as gpd
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:
        raise InputFileError(
            f"{path} cannot be read as (Geo)Parquet ({exc}). The file is damaged or "
            "incomplete: download it again."
        ) from exc
    names = [n for n in schema.names if n != "geometry"]
    mapping = resolve_fields(names, CARTIFLETTE_FIELDS, where=str(path), level="commune")
    if "geometry" not in schema.names:
        raise SchemaError(
            f"{path}: no 'geometry' column; fields found: {', '.join(schema.names)}. "
            "Pass a cartiflette GeoParquet of communes (see barometre_geo.territory_sources())."
        )
    gdf = gpd.read_parquet(path, columns=[*mapping.values(), "geometry"])
    if gdf.crs is None:
        raise SourceError(
            f"{path} has no CRS in its GeoParquet metadata: its coordinates cannot be "
            "placed on the map. Download it again from cartiflette."
        )
    if gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    gdf = gdf.rename(columns={v: k for k, v in mapping.items()})
    gdf.attrs["_meta"] = {
        "path": str(path),
        "commune": [
            {"file": str(path), "crs": "EPSG:4326", "features": len(gdf), "fields": mapping}
        ],
    }
    return gdf
