"""Small SVG maps of one area (a région, a département) for the territory pages.

A territory page shows many maps of the same area — one per indicator (and
answer option) — in the same classes as the national maps. The geometry is
written **once** per page, as ``<path>`` elements in a hidden ``<svg><defs>``,
and every map is a list of ``<use href="#…" fill="…">`` (about 40 bytes a
territory): dozens of maps cost little more than one. The maps are plain SVG:
they print as they are (the printable version needs no script), they work under
a strict Content-Security-Policy (presentation attributes, no inline style) and
each is an image with a text alternative (the tables beside them give every
value).

:func:`area_geometry` prepares the geometry of an area:

* the area's outline and the features of each sub-level (départements, EPCI,
  communes) projected in the zone's projection (Lambert-93, or the DROM's own,
  :data:`~barometre_geo.territories.crs.ZONE_CRS`) and **clipped** to the area
  (an EPCI straddling two départements shows the part inside);
* the neighbouring départements, drawn in light grey around the area for
  context (cut by the frame);
* everything simplified for the size of the map (a tolerance of about one
  pixel of a 1000-unit wide frame: the features keep their shared borders,
  :func:`shapely.coverage_simplify`) and written as integer path data in a
  ``viewBox`` whose width is 1000 units, north up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from ..territories.crs import ZONE_CRS

__all__ = ["AreaGeometry", "area_geometry", "path_data"]

#: Width of the ``viewBox`` of every map (units of the path data).
WIDTH = 1000
_MARGIN = 0.03
_CACHE: dict[tuple, object] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class AreaGeometry:
    """Path data of one area and its sub-territories.

    Attributes
    ----------
    view_box : str
        ``"0 0 1000 h"``.
    outline : str
        Path data of the area.
    context : str
        Path data of the neighbouring départements (light grey background).
    features : dict
        Level → ``{code: path data}`` of the sub-territories (clipped to the area).
    names : dict
        Level → ``{code: name}``.
    """

    view_box: str
    outline: str
    context: str
    features: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)

    @property
    def height(self) -> int:
        """Height of the ``viewBox`` (its width is 1000)."""
        return int(self.view_box.split()[3])


def path_data(geom, transform) -> str:
    """Return SVG path data of a (multi)polygon: integer coordinates, relative moves.

    ``transform(xy) -> xy`` maps projected coordinates to the ``viewBox``.

    Examples
    --------
    >>> import shapely
    >>> path_data(shapely.box(0, 0, 10, 5), lambda xy: xy)
    'M10 0l0 5l-10 0l0-5z'
    """
    import shapely

    if geom is None or shapely.is_empty(geom):
        return ""
    out = []
    for ring in shapely.get_rings(shapely.get_parts(geom)):
        xy = np.rint(transform(shapely.get_coordinates(ring)[:-1])).astype(np.int64)
        keep = np.r_[True, (np.diff(xy, axis=0) != 0).any(axis=1)]
        xy = xy[keep]
        if len(xy) < 3:
            continue
        moves = np.diff(xy, axis=0)
        body = "".join(f"l{dx} {dy}" for dx, dy in moves.tolist()).replace(" -", "-")
        out.append(f"M{xy[0, 0]} {xy[0, 1]}{body}z")
    return "".join(out)


def _projected(territories, level: str, zone: str):
    """Return the level's features in a zone, projected (cached per process)."""
    import geopandas as gpd

    key = (id(territories), level, zone)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    gdf = territories.level(level)
    sub = gdf[gdf["zone"].astype(str) == zone]
    out = gpd.GeoDataFrame(
        {"code": sub["code"].astype(str).to_numpy(), "nom": sub["nom"].astype(str).to_numpy()},
        geometry=gpd.GeoSeries(sub.geometry.values, crs=gdf.crs).to_crs(ZONE_CRS[zone]).values,
        crs=ZONE_CRS[zone],
    )
    with _LOCK:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = out
    return out


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep the polygons of each geometry (a clip may add lines or points on the border)."""
    import shapely

    out = np.asarray(geoms, dtype=object).copy()
    for i, g in enumerate(out):
        if g is not None and shapely.get_type_id(g) == 7:  # GeometryCollection
            parts = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)]
            polys = [q for p in parts for q in shapely.get_parts(p)]
            out[i] = shapely.multipolygons(polys) if polys else shapely.Polygon()
    return out


def _simplify(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    import shapely

    geoms = _polygonal(geoms)
    try:
        return shapely.coverage_simplify(geoms, tolerance)
    except shapely.errors.GEOSException:  # clipped pieces that do not tile exactly
        return shapely.simplify(geoms, tolerance, preserve_topology=True)


def area_geometry(
    territories,
    *,
    kind: str,
    code: str,
    levels: tuple[str, ...],
    members: dict[str, list[str]],
    clip: dict[str, set[str]] | None = None,
) -> AreaGeometry:
    """Geometry of the area ``kind``/``code`` and of its sub-territories (see module docstring).

    Parameters
    ----------
    territories : Territories
        The reference (:func:`barometre_geo.load_territories`).
    kind : {"region", "departement"}
    code : str
        The area's code.
    levels : tuple of str
        Sub-levels to draw (``"departement"``, ``"epci"``, ``"commune"``).
    members : dict
        Level → codes of the sub-territories of the area.
    clip : dict, optional
        Level → codes of the features that cross the area's edge (cut to it); the
        others lie inside (nested levels, EPCI within the area) and are kept whole.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> t = bg.load_territories()
    >>> deps = t.departements
    >>> g = area_geometry(t, kind="region", code="53", levels=("departement",),
    ...                   members={"departement": ["22", "29", "35", "56"]})
    >>> sorted(g.features["departement"]), g.view_box.startswith("0 0 1000 ")
    (['22', '29', '35', '56'], True)
    """
    import shapely

    ref = territories.level(kind)
    zone = str(ref.loc[ref["code"].astype(str) == str(code), "zone"].iloc[0])
    area = _projected(territories, kind, zone)
    outline = area.geometry.values[area["code"].to_numpy() == str(code)][0]
    minx, miny, maxx, maxy = shapely.bounds(outline)
    span = max(maxx - minx, maxy - miny)
    minx, miny = minx - _MARGIN * span, miny - _MARGIN * span
    maxx, maxy = maxx + _MARGIN * span, maxy + _MARGIN * span
    scale = WIDTH / (maxx - minx)
    height = int(np.ceil((maxy - miny) * scale))
    tolerance = 0.8 / scale  # under a unit of the frame

    def transform(xy):
        return np.column_stack([(xy[:, 0] - minx) * scale, (maxy - xy[:, 1]) * scale])

    features, names = {}, {}
    for level in levels:
        layer = _projected(territories, level, zone)
        keep = layer["code"].isin([str(c) for c in members.get(level, [])]).to_numpy()
        geoms = np.asarray(layer.geometry.values[keep], dtype=object)
        codes = layer["code"].to_numpy()[keep]
        cut = np.isin(codes, list((clip or {}).get(level, ())))
        if cut.any():
            geoms[cut] = shapely.intersection(geoms[cut], outline)
        geoms = _simplify(geoms, tolerance)
        features[level] = {c: path_data(g, transform) for c, g in zip(codes, geoms, strict=True)}
        features[level] = {c: d for c, d in features[level].items() if d}
        names[level] = dict(zip(codes, layer["nom"].to_numpy()[keep], strict=True))
    deps = _projected(territories, "departement", zone)
    frame = shapely.box(minx, miny, maxx, maxy)
    near = np.asarray(deps.geometry.values[shapely.intersects(deps.geometry.values, frame)])
    ctx = _simplify(shapely.intersection(near, frame), tolerance)  # each neighbour, cut
    return AreaGeometry(
        view_box=f"0 0 {WIDTH} {height}",
        outline=path_data(_simplify(np.asarray([outline]), tolerance)[0], transform),
        context="".join(path_data(g, transform) for g in ctx),
        features=features,
        names=names,
    )
