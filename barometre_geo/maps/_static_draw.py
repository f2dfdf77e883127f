"""Drawing blocks of the static maps: projected paths, layers, insets, scale bar.

Polygons are drawn as one compound path per style (each class, no answer,
suppressed), built in a few vectorised shapely calls from the simplified
coverage (:func:`~._geometry.simplify_coverage`, shared with the HTML maps
and cached): exteriors counter-clockwise and holes clockwise, so that the
non-zero fill rule leaves enclaves to the territory inside them. For 35,000
communes this is several times faster than ``GeoDataFrame.plot``
(``benchmarks/bench_maps_static.py``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..territories.crs import ZONE_CRS
from ._geometry import simplify_coverage
from ._palettes import NEUTRAL_INK, NO_DATA_PATTERN, SUPPRESSED_COLOR, SUPPRESSED_HATCH

__all__ = [
    "DOTS",
    "HATCH",
    "ZonePaths",
    "draw_layer",
    "draw_outlines",
    "frame",
    "paths_of",
    "project_zones",
    "scale_bar",
]

#: Hatch of suppressed territories (matplotlib pattern), in the HTML map's dark ink.
HATCH = "//////"
#: Dots of territories without an answer, in the same ink (3:1 from every class).
DOTS = "...."
NO_DATA, SUPPRESSED = -1, -2


def paths_of(geoms) -> list:
    """One matplotlib ``Path`` per (multi)polygon, holes included (empty → empty path).

    Examples
    --------
    >>> import shapely
    >>> outer = shapely.box(0, 0, 4, 4)
    >>> p = paths_of([outer.difference(shapely.box(1, 1, 2, 2))])[0]
    >>> p.codes.tolist()  # MOVETO, LINETO…, CLOSEPOLY per ring
    [1, 2, 2, 2, 79, 1, 2, 2, 2, 79]
    """
    import shapely
    from matplotlib.path import Path

    arr = shapely.orient_polygons(np.asarray(geoms, dtype=object))
    polys, poly_feature = shapely.get_parts(arr, return_index=True)
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    xy, vert_ring = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(xy), Path.LINETO, dtype=Path.code_type)
    if len(xy):
        start = np.r_[True, vert_ring[1:] != vert_ring[:-1]]
        codes[start] = Path.MOVETO
        codes[np.r_[start[1:], True]] = Path.CLOSEPOLY
    feature = poly_feature[ring_poly][vert_ring]
    cut = np.searchsorted(feature, np.arange(len(arr) + 1))
    return [Path(xy[a:b], codes[a:b]) for a, b in itertools.pairwise(cut)]


@dataclass(frozen=True)
class ZonePaths:
    """Territories of one zone, projected: row positions, paths, bounds, EPSG."""

    zone: str
    rows: np.ndarray
    paths: list
    bounds: tuple[float, float, float, float]
    epsg: int


def project_zones(geoms, zones, tolerance: float) -> dict[str, ZonePaths]:
    """Simplify the coverage once (cached), then project each zone to its CRS."""
    import geopandas as gpd
    import shapely

    simplified = simplify_coverage(np.asarray(geoms, dtype=object), tolerance)
    zones = np.asarray(zones, dtype=object).astype(str)
    out = {}
    for zone in ["metropole", *sorted(set(zones) - {"metropole"})]:
        rows = np.flatnonzero(zones == zone)
        if not len(rows):
            continue
        projected = gpd.GeoSeries(simplified[rows], crs=4326).to_crs(ZONE_CRS[zone]).values
        b = shapely.total_bounds(np.asarray(projected))
        out[zone] = ZonePaths(zone, rows, paths_of(projected), tuple(map(float, b)), ZONE_CRS[zone])
    return out


def draw_layer(ax, paths, cls, colors, *, edgecolor="#ffffff", linewidth=0.0, rasterized=False):
    """Add the classed, no-answer and suppressed territories of ``paths`` to ``ax``.

    ``cls`` holds the class index per path (``-1`` no answer, ``-2``
    suppressed, as in the HTML layers). Each style is drawn as one compound
    path: Agg fills (and hatches) it once instead of once per territory —
    hatching 7,000 communes one by one takes seconds, as one path 0.2 s.
    """
    from matplotlib.collections import PathCollection
    from matplotlib.path import Path

    cls = np.asarray(cls)
    styles = [(i, color, None) for i, color in enumerate(colors)]
    styles += [(NO_DATA, NO_DATA_PATTERN["bg"], DOTS), (SUPPRESSED, SUPPRESSED_COLOR, HATCH)]
    for value, face, hatch in styles:
        idx = np.flatnonzero(cls == value)
        if not len(idx):
            continue
        edge = edgecolor
        if hatch and linewidth > 0:  # white on white would hide the shape
            edge = SUPPRESSED_HATCH
        col = PathCollection(
            [Path.make_compound_path(*(paths[i] for i in idx))],
            facecolors=face,
            edgecolors=edge if linewidth > 0 else "none",
            linewidths=linewidth,
            transform=ax.transData,
            zorder=2,
        )
        if hatch:
            col.set_hatch(hatch)
            col.set_hatchcolor(NEUTRAL_INK)
            col.set_hatch_linewidth(0.5)
        col.set_rasterized(rasterized)
        ax.add_collection(col, autolim=False)


def draw_outlines(ax, paths, *, color="#4d4d4d", linewidth=0.3, zorder=3):
    """Draw the borders of ``paths`` (e.g. départements over communes)."""
    from matplotlib.collections import PathCollection

    col = PathCollection(
        paths,
        facecolors="none",
        edgecolors=color,
        linewidths=linewidth,
        transform=ax.transData,
        zorder=zorder,
    )
    ax.add_collection(col, autolim=False)


def frame(ax, bounds, *, margin: float = 0.03) -> None:
    """Frame ``ax`` on ``bounds`` (projected metres), equal aspect, no ticks."""
    x0, y0, x1, y1 = bounds
    w, h = (x1 - x0) * (1 + 2 * margin), (y1 - y0) * (1 + 2 * margin)
    # widen the shorter side so that the data fill the axes box at equal scale
    pos = ax.get_position()
    fw, fh = ax.figure.get_size_inches()
    box = (pos.height * fh) / (pos.width * fw)
    if h / w < box:
        h = w * box
    else:
        w = h / box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])


def scale_bar(ax, *, length_km: float = 100, fontsize: float = 7) -> None:
    """Draw a scale bar of ``length_km`` in the lower-right corner (axes in metres)."""
    from matplotlib.patches import Rectangle

    ax.apply_aspect()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width = length_km * 1000
    x = x1 - (x1 - x0) * 0.04 - width
    y = y0 + (y1 - y0) * 0.035
    h = (y1 - y0) * 0.006
    for i in range(2):
        ax.add_patch(
            Rectangle(
                (x + i * width / 2, y),
                width / 2,
                h,
                facecolor=("#333333", "#ffffff")[i],
                edgecolor="#333333",
                linewidth=0.5,
                zorder=5,
            )
        )
    for pos, text in ((x, "0"), (x + width, f"{length_km:g} km")):
        ax.text(pos, y + 2.2 * h, text, ha="center", va="bottom", fontsize=fontsize, zorder=5)
