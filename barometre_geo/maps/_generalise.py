"""Generalised geometry of the GeoPackages: one polygon per territory, per zone projection.

The GeoPackages are made for thematic maps in a GIS (national and regional
views, a département on screen): the reference's contours carry far more
vertices than such a map can show, and at 16 bytes a vertex they made an
indicator's GeoPackage weigh 8.6 MB. Each level is therefore generalised
once, in the projection of its zone (Lambert-93 for metropolitan France, the
official local projection of each DROM, :data:`~barometre_geo.territories.crs.ZONE_CRS`):

* coordinates snapped to a 1 m grid (``shapely.set_precision``);
* the coverage of the level simplified with :func:`shapely.coverage_simplify`
  (Visvalingam–Whyatt on the edges shared by neighbours, each edge once:
  no gap, no overlap, neighbours keep a common border) at the level's
  tolerance :data:`TOLERANCE_M`;
* régions are the union of the generalised départements, so that région and
  département borders coincide exactly (the one nesting that always holds;
  EPCI may straddle départements).

Communes are kept as the reference draws them (already simplified for the
embedded COG: ~30 vertices a commune). Areas (``area_km2``) are always
measured on the reference's contours, never on the generalised ones.
Results are cached in-process per geometry content, level and tolerance.
"""

from __future__ import annotations

import hashlib
import threading

import numpy as np
import pandas as pd

from ..territories.crs import ZONE_CRS

__all__ = ["GRID_M", "TOLERANCE_M", "generalised_level", "tolerance_text"]

#: Simplification tolerance per level, in metres of the zone's projection
#: (0: the reference's geometry, snapped to the grid).
TOLERANCE_M: dict[str, float] = {
    "commune": 0.0,
    "epci": 1200.0,
    "departement": 1200.0,
    "region": 1200.0,
}
#: Grid of the stored coordinates, in metres.
GRID_M = 1.0

_CACHE: dict[tuple, dict[str, pd.Series]] = {}
_CACHE_MAX = 12
_LOCK = threading.Lock()


_NAMES = {"commune": "communes", "epci": "EPCI", "departement": "départements", "region": "régions"}


def tolerance_text(levels) -> str:
    """French description of the generalisation of ``levels`` (metadata, docs).

    Examples
    --------
    >>> tolerance_text(["epci", "region"])
    'EPCI : simplifiés à 1,2 km ; régions : union des départements simplifiés à 1,2 km'
    """
    parts = []
    for lv in levels:
        tol = TOLERANCE_M.get(lv, 0.0)
        km = f"{tol / 1000:g}".replace(".", ",")
        if lv == "region" and tol > 0:
            text = f"union des départements simplifiés à {km} km"
        elif tol > 0:
            text = f"simplifiés à {km} km"
        else:
            text = "contours du référentiel"
        parts.append(f"{_NAMES.get(lv, lv)} : {text}")
    return " ; ".join(parts)


def _fingerprint(gdf) -> str:
    import shapely

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    h = hashlib.blake2b(digest_size=16)
    h.update("\x1f".join(gdf["code"].astype(str)).encode())
    h.update(np.ascontiguousarray(shapely.get_num_coordinates(geoms)).tobytes())
    h.update(np.ascontiguousarray(shapely.get_coordinates(geoms)).tobytes())
    return h.hexdigest()


def _simplify_zone(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    import shapely

    out = shapely.set_precision(geoms, GRID_M)
    if tolerance > 0:
        try:
            out = shapely.coverage_simplify(out, tolerance)
        except shapely.errors.GEOSException:  # not a clean coverage: each polygon alone
            out = shapely.set_precision(
                shapely.simplify(out, tolerance, preserve_topology=True), GRID_M
            )
    return out  # coverage_simplify keeps a subset of the (snapped) vertices


def _by_zone(gdf, tolerance: float) -> dict[str, pd.Series]:
    import geopandas as gpd

    zones = gdf["zone"].astype(str).to_numpy()
    codes = gdf["code"].astype(str).to_numpy()
    out = {}
    for zone in pd.unique(zones):
        mask = zones == zone
        projected = gpd.GeoSeries(gdf.geometry.values[mask], crs=gdf.crs).to_crs(ZONE_CRS[zone])
        geoms = _simplify_zone(np.asarray(projected.values, dtype=object), tolerance)
        out[str(zone)] = pd.Series(geoms, index=codes[mask], dtype=object)
    return out


def _regions(territories, departements: dict[str, pd.Series]) -> dict[str, pd.Series]:
    import shapely

    dep = territories.departements[["code", "region"]].astype(str)
    region_of = dict(zip(dep["code"], dep["region"], strict=True))
    out = {}
    for zone, series in departements.items():
        keys = np.asarray([region_of[c] for c in series.index])
        merged = {
            reg: shapely.coverage_union_all(series.to_numpy()[keys == reg])
            for reg in pd.unique(keys)
        }
        out[zone] = pd.Series(merged, dtype=object)
    return out


def generalised_level(territories, level: str, *, simplify: bool = True) -> dict[str, pd.Series]:
    """Geometry of every territory of ``level``, per zone, projected and generalised.

    Parameters
    ----------
    territories : Territories
        The reference (:func:`barometre_geo.load_territories`).
    level : {"commune", "epci", "departement", "region"}
    simplify : bool, default True
        ``False``: the reference's contours, projected (the grid snap only).

    Returns
    -------
    dict of str to pandas.Series
        Zone (``"metropole"``, ``"971"``…) → shapely polygons indexed by
        territory code, in the zone's projection (:data:`ZONE_CRS`).

    Examples
    --------
    >>> import barometre_geo as bg, shapely
    >>> t = bg.load_territories()
    >>> g = generalised_level(t, "departement")
    >>> sorted(g), len(g["metropole"])
    (['971', '972', '973', '974', '976', 'metropole'], 96)
    >>> full = generalised_level(t, "departement", simplify=False)["metropole"]
    >>> bool(shapely.get_num_coordinates(g["metropole"].to_numpy()).sum()
    ...      < shapely.get_num_coordinates(full.to_numpy()).sum() / 2)
    True
    """
    gdf = territories.level(level)
    tolerance = TOLERANCE_M.get(level, 0.0) if simplify else 0.0
    key = (_fingerprint(gdf), level, tolerance)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    if level == "region" and tolerance > 0:
        result = _regions(territories, generalised_level(territories, "departement"))
    else:
        result = _by_zone(gdf, tolerance)
    with _LOCK:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = result
    return result
