"""Loading the territorial reference: the embedded COG, a local file or a download.

:func:`load_territories` returns fresh copies of a cached :class:`Territories`
(see :mod:`.reference`); the embedded COG is read from ``boundaries/`` (shipped
in the wheel), any other source through :mod:`.sources`.
"""

from __future__ import annotations

import json
import os
import threading

import pandas as pd

from .._paths import boundaries_dir
from .reference import _COLUMNS, LEVELS, Territories, _copy

__all__ = ["load_territories"]

_CACHE: dict[tuple, Territories] = {}
_LOCK = threading.Lock()


def load_territories(
    cog: int = 2025,
    *,
    source: str | os.PathLike = "embedded",
    cache_dir: str | os.PathLike | None = None,
    timeout: float = 60.0,
) -> Territories:
    """Load the territorial reference.

    Parameters
    ----------
    cog : int, default 2025
        Year of the Code officiel géographique. Only 2025 is embedded.
    source : str or path-like, default ``"embedded"``
        ``"embedded"``: the reference shipped with the package (offline).
        A path: a local IGN ADMIN EXPRESS (COG) GeoPackage or shapefile folder.
        The name of a downloadable edition (see
        :func:`barometre_geo.territory_sources`): downloaded once into the cache.
    cache_dir : path-like, optional
        Cache folder for downloads; overrides ``BAROMETRE_GEO_CACHE`` and the
        OS default.
    timeout : float, default 60
        Network timeout in seconds for downloads.

    Returns
    -------
    Territories
        Fresh copies on every call: mutating them does not affect later calls.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> t = bg.load_territories()
    >>> len(t.communes), len(t.departements), len(t.regions)
    (34875, 101, 18)
    >>> t.communes.crs.to_epsg()
    4326
    """
    if str(source) == "embedded":
        key = ("embedded", int(cog))
        with _LOCK:
            if key not in _CACHE:
                _CACHE[key] = _load_embedded(int(cog))
        return _copy(_CACHE[key])
    from .sources import load_source

    return load_source(source, cog=int(cog), cache_dir=cache_dir, timeout=timeout)


def _load_embedded(cog: int) -> Territories:
    import geopandas as gpd
    import numpy as np

    folder = boundaries_dir(cog)
    allgdf = gpd.read_parquet(folder / "territoires.parquet")
    identifiers = pd.read_parquet(folder / "identifiants.parquet")
    report_path = folder / "build-report.json"
    provenance = (
        json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else {}
    )
    # boundaries/build.py writes the rows level by level: a contiguous run is sliced
    # (a view) instead of copied through a boolean mask, which is ~3x faster
    kinds = allgdf["level"].to_numpy()
    levels = {}
    for level in LEVELS:
        rows = np.flatnonzero(kinds == level)
        contiguous = len(rows) and rows[-1] - rows[0] + 1 == len(rows)
        sub = allgdf.iloc[rows[0] : rows[-1] + 1] if contiguous else allgdf.iloc[rows]
        levels[level] = sub[_COLUMNS[level]].reset_index(drop=True)
    return Territories(
        communes=levels["commune"],
        epci=levels["epci"],
        departements=levels["departement"],
        regions=levels["region"],
        identifiers=identifiers,
        cog=cog,
        source="embedded",
        provenance=provenance,
    )
