"""Downloadable editions of the territorial boundaries: a catalogue that is data.

The editions are listed in ``barometre_geo/data/territory_sources.json`` (the
xyzservices pattern), read by a small typed loader and tested entry by entry:
what the file is, where it is published, its format, CRS, licence and, once
computed on the real file, its sha256. Downloading them is
:mod:`barometre_geo.territories.download`'s job.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from .._paths import package_data
from ..errors import UnknownValueError

__all__ = [
    "ARCHIVES",
    "CATALOGUE_PATH",
    "FORMATS",
    "TerritorySource",
    "get_source",
    "load_catalogue",
    "territory_sources",
]

Format = Literal["gpkg", "shp", "geoparquet"]
Archive = Literal["7z", "zip"]
FORMATS: tuple[str, ...] = get_args(Format)
ARCHIVES: tuple[str, ...] = get_args(Archive)

#: Catalogue file read by :func:`load_catalogue` by default.
CATALOGUE_PATH = package_data("territory_sources.json")


@dataclass(frozen=True)
class TerritorySource:
    """One downloadable edition of the territorial boundaries.

    Attributes
    ----------
    id : str
        Name passed as ``load_territories(source=id)``.
    title, provider, product, product_version, edition : str
        What the file is (``edition`` is the publisher's own name for it).
    cog : int
        Year of the Code officiel géographique the edition follows.
    vintage : str
        Plain-language vintage and resolution.
    url : str
        Download address.
    filename : str
        Name of the downloaded file in the cache.
    archive : {"7z", "zip"} or None
        Archive type, ``None`` for a bare data file.
    format : {"gpkg", "shp", "geoparquet"}
        Format of the data (inside the archive if any).
    crs : str
        CRS of the data as published.
    sha256 : str or None
        Pinned checksum, ``None`` when not computed yet (see the module notes).
    size : int or None
        Size in bytes of the downloaded file, when known.
    licence, homepage, notes : str
        Licence, where to read about it, how its URL and fields were confirmed.
    """

    id: str
    title: str
    provider: str
    product: str
    product_version: str
    edition: str
    cog: int
    vintage: str
    url: str
    filename: str
    archive: str | None
    format: str
    crs: str
    sha256: str | None
    size: int | None
    licence: str
    homepage: str
    notes: str = ""

    def to_dict(self) -> dict:
        """Return the entry as a plain dict (JSON-serialisable)."""
        return asdict(self)


# ---------------------------------------------------------------------- catalogue


def load_catalogue(path: str | os.PathLike | None = None) -> tuple[TerritorySource, ...]:
    """Read and validate a catalogue of editions (default: the shipped one).

    Parameters
    ----------
    path : path-like, optional
        A JSON file with the layout of ``barometre_geo/data/territory_sources.json``.

    Returns
    -------
    tuple of TerritorySource

    Raises
    ------
    SchemaError
        An entry lacks a field or has a value outside the allowed ones.

    Examples
    --------
    >>> ids = [s.id for s in load_catalogue()]
    >>> "admin-express-cog-2025" in ids
    True
    """
    return _load_catalogue(str(path if path is not None else CATALOGUE_PATH))


@lru_cache(maxsize=8)
def _load_catalogue(path: str) -> tuple[TerritorySource, ...]:
    from ..errors import SchemaError

    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    names = {f.name for f in fields(TerritorySource)}
    required = names - {"notes"}
    out = []
    for i, item in enumerate(raw.get("sources", [])):
        where = f"{path}, entry {i} ({item.get('id', '?')})"
        missing = sorted(required - set(item))
        unknown = sorted(set(item) - names)
        if missing or unknown:
            raise SchemaError(
                f"{where}: missing fields {missing}, unknown fields {unknown}. "
                f"Each entry needs exactly: {', '.join(sorted(names))}."
            )
        if item["format"] not in FORMATS:
            raise SchemaError(
                f"{where}: format {item['format']!r}; valid formats: {', '.join(FORMATS)}."
            )
        if item["archive"] is not None and item["archive"] not in ARCHIVES:
            raise SchemaError(
                f"{where}: archive {item['archive']!r}; valid: {', '.join(ARCHIVES)} or null."
            )
        out.append(TerritorySource(**item))
    ids = [s.id for s in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise SchemaError(f"{path}: duplicated ids {dupes}; every id must be unique.")
    return tuple(out)


def territory_sources(*, as_frame: bool = False):
    """List the downloadable editions of the territorial boundaries.

    Each can be passed as ``load_territories(cog, source=id)``: it is
    downloaded once into the cache (see :func:`download_territory_source`).

    Parameters
    ----------
    as_frame : bool, default False
        Return a :class:`pandas.DataFrame` (one row per edition) instead of a
        tuple of ``TerritorySource``.

    Returns
    -------
    tuple of TerritorySource or pandas.DataFrame

    Examples
    --------
    >>> import barometre_geo as bg
    >>> [s.id for s in bg.territory_sources()][:2]
    ['admin-express-cog-2025', 'admin-express-cog-carto-2025']
    >>> bg.territory_sources(as_frame=True).loc["admin-express-cog-2025", "archive"]
    '7z'
    """
    entries = load_catalogue()
    if not as_frame:
        return entries
    import pandas as pd

    return pd.DataFrame([e.to_dict() for e in entries]).set_index("id")


def get_source(name: str, catalogue: tuple[TerritorySource, ...] | None = None) -> TerritorySource:
    """Return the edition named ``name``, listing the valid names if unknown.

    Examples
    --------
    >>> get_source("admin-express-cog-2025").format
    'gpkg'
    """
    entries = catalogue if catalogue is not None else load_catalogue()
    for entry in entries:
        if entry.id == name:
            return entry
    raise UnknownValueError(
        f"Unknown territorial source {name!r}. Valid names: "
        f"{', '.join(e.id for e in entries)}; or 'embedded'; or the path of a local "
        "ADMIN EXPRESS GeoPackage, shapefile folder, .7z/.zip archive or GeoParquet file."
    )
