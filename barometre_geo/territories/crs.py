"""Projected reference systems of French territories.

Areas and distances must be measured in a projection made for the place:
Lambert-93 for metropolitan France, the official local projections overseas.
An area computed in degrees, or in Lambert-93 for La Réunion, is a bug.

=========================  =====  ==========================================
zone                       EPSG   projection
=========================  =====  ==========================================
``metropole``              2154   RGF93 v1 / Lambert-93
``971`` Guadeloupe         5490   RGAF09 / UTM zone 20N
``972`` Martinique         5490   RGAF09 / UTM zone 20N
``973`` Guyane             2972   RGFG95 / UTM zone 22N
``974`` La Réunion         2975   RGR92 / UTM zone 40S
``976`` Mayotte            4471   RGM04 / UTM zone 38S
=========================  =====  ==========================================
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "REGION_ZONE",
    "STORAGE_CRS",
    "ZONE_CRS",
    "area_km2",
    "departement_zone",
    "project_by_zone",
    "region_zone",
    "zone_crs",
]

#: CRS of every geometry stored or returned by :func:`load_territories`.
STORAGE_CRS = "EPSG:4326"

#: EPSG code of the projection used for areas and distances, by zone.
ZONE_CRS: dict[str, int] = {
    "metropole": 2154,
    "971": 5490,
    "972": 5490,
    "973": 2972,
    "974": 2975,
    "976": 4471,
}

_OVERSEAS = ("971", "972", "973", "974", "976")

#: Zone of the five overseas régions (each is one département).
REGION_ZONE: dict[str, str] = {"01": "971", "02": "972", "03": "973", "04": "974", "06": "976"}


def departement_zone(departement: str) -> str:
    """Return the zone (``"metropole"`` or an overseas département code).

    Parameters
    ----------
    departement : str
        A département code: ``"01"``, ``"2A"``, ``"974"``…

    Returns
    -------
    str

    Examples
    --------
    >>> departement_zone("2A"), departement_zone("974")
    ('metropole', '974')
    """
    code = str(departement)
    return code if code in _OVERSEAS else "metropole"


def region_zone(region: str) -> str:
    """Return the zone of a région: ``"metropole"`` or its overseas département code.

    Examples
    --------
    >>> region_zone("53"), region_zone("04")
    ('metropole', '974')
    """
    return REGION_ZONE.get(str(region), "metropole")


def zone_crs(zone: str) -> int:
    """Return the EPSG code of the projection for a zone or a département code.

    Examples
    --------
    >>> zone_crs("metropole"), zone_crs("973"), zone_crs("35")
    (2154, 2972, 2154)
    """
    return ZONE_CRS[departement_zone(zone) if zone != "metropole" else zone]


def _zones(departements: Iterable[str]) -> np.ndarray:
    dep = pd.Series(list(departements), dtype=object).astype(str)
    return np.where(dep.isin(_OVERSEAS), dep, "metropole")


def project_by_zone(gdf, departement_column: str = "departement"):
    """Yield ``(zone, epsg, mask, projected_subset)`` for each zone present in ``gdf``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Geometries with a CRS and a column of département codes.
    departement_column : str
        Column holding the département code of each row.
    """
    zones = _zones(gdf[departement_column])
    for zone in pd.unique(zones):
        mask = zones == zone
        epsg = ZONE_CRS[zone]
        yield zone, epsg, mask, gdf.loc[mask].to_crs(epsg)


def area_km2(gdf, departement_column: str = "departement") -> pd.Series:
    """Area of each geometry in km², each measured in its zone's projection.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Polygons with a CRS (any) and a column of département codes.
    departement_column : str
        Column holding the département code of each row.

    Returns
    -------
    pandas.Series
        Aligned on ``gdf.index``.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> t = bg.load_territories()
    >>> a = area_km2(t.departements, departement_column="code")
    >>> round(float(a[t.departements["code"] == "974"].iloc[0]))
    2513
    """
    if gdf.crs is None:
        from ..errors import SourceError

        raise SourceError(
            "Cannot compute areas of geometries without a CRS. "
            "Set it first, e.g. gdf.set_crs('EPSG:4326')."
        )
    values = np.full(len(gdf), np.nan)
    for _, _, mask, projected in project_by_zone(gdf, departement_column):
        values[mask] = projected.geometry.area.to_numpy() / 1e6
    return pd.Series(values, index=gdf.index, name="area_km2")
