"""Geometry checks of official sources: polygons only, repairs, dissolves.

Used by :mod:`barometre_geo.territories.assemble`. An invalid polygon is repaired with
``shapely.make_valid(method="structure")`` when the result keeps a non-empty
polygonal part; anything else (points, lines, collapsed rings, missing
geometries) is a :class:`~barometre_geo.errors.SourceError` naming the codes.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pandas as pd
import shapely

from ..errors import DataQualityWarning, SourceError

__all__ = ["clean_geometries", "dissolve", "polygonal", "warn_repairs"]

_PKG = os.path.dirname(os.path.abspath(__file__))
_TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


def clean_geometries(df, level: str, where: str, repairs: dict) -> np.ndarray:
    """Check polygons, repair invalid ones; raise when not polygons or irreparable."""
    geoms = np.asarray(df["geometry"].to_numpy(), dtype=object)
    codes = df["code"].to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise SourceError(
            f"{where}: {int(empty.sum())} {level} have no geometry: "
            f"{', '.join(map(str, codes[empty][:10]))}. The file is incomplete: download it again."
        )
    types = shapely.get_type_id(geoms)
    not_polygon = ~np.isin(types, [3, 6, 7])
    if not_polygon.any():
        kinds = sorted({shapely.get_type_id(g) for g in geoms[not_polygon]})
        names = [_TYPE_NAMES[k] for k in kinds]
        raise SourceError(
            f"{where}: {int(not_polygon.sum())} {level} geometries are not polygons "
            f"({', '.join(names)}: {', '.join(map(str, codes[not_polygon][:10]))}) and cannot be "
            "repaired. Pass the polygon layers of ADMIN EXPRESS (not the chef-lieu points)."
        )
    todo = ~shapely.is_valid(geoms) | (types == 7)
    if not todo.any():
        return geoms
    fixed = shapely.make_valid(geoms[todo], method="structure", keep_collapsed=False)
    fixed = np.array([polygonal(g) for g in fixed], dtype=object)
    lost = shapely.is_empty(fixed) | ~shapely.is_valid(fixed)
    if lost.any():
        raise SourceError(
            f"{where}: {int(lost.sum())} {level} geometries are invalid and cannot be repaired "
            f"into polygons: {', '.join(map(str, codes[todo][lost][:10]))}. "
            "Download the file again; if it persists, report it to IGN."
        )
    out = geoms.copy()
    out[todo] = fixed
    repairs[level] = [str(c) for c in codes[todo]]
    return out


def polygonal(geom):
    """Keep the polygonal parts of a geometry (an empty polygon when there are none)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else shapely.Polygon()


def dissolve(com, key: str) -> pd.Series:
    """Union of the commune geometries per value of column ``key``."""
    return (
        pd.Series(com["geometry"].to_numpy(), index=com.index)
        .groupby(com[key].to_numpy())
        .agg(lambda s: shapely.union_all(s.to_numpy()))
    )


def warn_repairs(repairs: dict[str, list[str]], path) -> None:
    """Emit one DataQualityWarning summarising the repaired geometries."""
    warnings.warn(
        f"{sum(map(len, repairs.values()))} invalid geometries of {path} were "
        "repaired with shapely.make_valid ("
        + "; ".join(f"{lv}: {len(c)}, e.g. {', '.join(c[:5])}" for lv, c in repairs.items())
        + "). Details in Territories.provenance['repairs'].",
        DataQualityWarning,
        stacklevel=_user_stacklevel(),
    )


def _user_stacklevel() -> int:
    """Stack level of the first frame outside barometre_geo (for warnings)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PKG):
        frame, level = frame.f_back, level + 1
    return level
