"""Spatial weights of a territorial level, built once and cut per indicator.

Contiguity comes from the territory polygons, which form a valid polygonal
coverage (neighbours share their vertices exactly):

* ``rook``: sharing an edge, found by :func:`barometre_geo.territories.adjacency.rook_pairs`
  (segment hashing);
* ``queen``: sharing at least one vertex (an edge or a corner), found the same
  way by hashing vertices (:func:`queen_pairs`);
* ``knn``: the ``k`` nearest representative points in Lambert-93 (EPSG:2154).

Only metropolitan France is used: the overseas départements and their EPCI
have no contiguity neighbour, and distances across oceans mean nothing.
Per indicator, the units without a published value are dropped and the
weights are rebuilt on the remaining units (contiguity: the pairs between
kept units; knn: the nearest kept units) — islands appear where every
neighbour was dropped, and are reported, never kept with a zero row.

Why pairs of our own rather than ``libpysal.weights.Queen.from_dataframe``: the
weights handed to esda *are* libpysal ``W`` objects (built from these pairs in
:mod:`barometre_geo.stats.autocorrelation`); what is ours is finding the pairs
once per level on the coverage and cutting them per indicator, instead of
rebuilding a ``W`` from the polygons for every indicator (27.6 s against 2.8 s
for the whole catalogue, ``benchmarks/bench_spatial.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["LevelGraph", "level_graph", "queen_pairs"]


def queen_pairs(geoms) -> tuple[np.ndarray, np.ndarray]:
    """Return the pairs of polygons sharing at least one vertex (queen contiguity).

    Parameters
    ----------
    geoms : array of shapely Polygon/MultiPolygon
        A valid polygonal coverage (neighbours share their vertices exactly).

    Returns
    -------
    i, j : numpy.ndarray of int64
        Positions of each neighbouring pair, ``i < j``, sorted, unique.

    Examples
    --------
    Two squares sharing an edge, a third touching the second at a corner:

    >>> import shapely
    >>> squares = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(2, 1, 3, 2)]
    >>> i, j = queen_pairs(squares)
    >>> list(zip(i.tolist(), j.tolist()))
    [(0, 1), (1, 2)]
    """
    import pandas as pd
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    empty = np.zeros(0, dtype=np.int64)
    if n == 0:
        return empty, empty
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    coords, coord_of = shapely.get_coordinates(parts, return_index=True)
    vid, _ = pd.factorize(coords[:, 0] + 1j * coords[:, 1])
    owner = part_of[coord_of].astype(np.int64)
    key = np.unique(vid.astype(np.int64) * n + owner)  # (vertex, polygon), sorted by vertex
    v, o = key // n, key % n
    lo, hi = [], []
    for d in range(1, len(v)):  # polygons meeting at one vertex: a handful, so few rounds
        same = v[d:] == v[:-d]
        if not same.any():
            break
        lo.append(o[:-d][same])
        hi.append(o[d:][same])
    if not lo:
        return empty, empty
    a, b = np.concatenate(lo), np.concatenate(hi)
    pair = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
    return pair // n, pair % n


@dataclass
class LevelGraph:
    """Metropolitan units of a level and their contiguity pairs or points."""

    level: str
    weights: str
    codes: np.ndarray  # metropolitan units, in territory order
    i: np.ndarray  # contiguity pairs (positions in codes), empty for knn
    j: np.ndarray
    points: np.ndarray | None  # Lambert-93 representative points (knn)
    k_neighbors: int
    _cache: dict = field(default_factory=dict, repr=False)

    def subgraph(self, keep: np.ndarray) -> tuple[np.ndarray, dict[int, list[int]]]:
        """Units used and their neighbours among the kept units.

        Returns ``(used, neighbours)``: ``used`` marks the kept units with at
        least one kept neighbour (the others are islands), ``neighbours`` maps
        each used unit's rank among ``used`` to its neighbours' ranks.
        """
        key = keep.tobytes()
        if key in self._cache:
            return self._cache[key]
        n = len(self.codes)
        if self.points is None:
            both = keep[self.i] & keep[self.j]
            a, b = self.i[both], self.j[both]
            degree = np.bincount(np.r_[a, b], minlength=n)
            used = keep & (degree > 0)
            rank = np.cumsum(used) - 1
            neighbours: dict[int, list[int]] = {r: [] for r in range(int(used.sum()))}
            for x, y in zip(rank[a].tolist(), rank[b].tolist(), strict=True):
                neighbours[x].append(y)
                neighbours[y].append(x)
        else:
            from scipy.spatial import cKDTree

            used = keep.copy()
            pts = self.points[used]
            k = min(self.k_neighbors, len(pts) - 1)
            neighbours = {}
            if k >= 1:
                _, idx = cKDTree(pts).query(pts, k=k + 1)
                for r, row in enumerate(np.atleast_2d(idx)):
                    neighbours[r] = [int(x) for x in row if x != r][:k]
            else:
                used[:] = False
        self._cache[key] = (used, neighbours)
        return used, neighbours


def level_graph(territories, level: str, weights: str, k_neighbors: int = 6) -> LevelGraph:
    """Build the contiguity pairs (or points) of the metropolitan units of ``level``."""
    from ..territories.adjacency import rook_pairs

    gdf = territories.level(level)
    metro = (gdf["zone"] == "metropole").to_numpy()
    geoms = gdf.geometry.to_numpy()[metro]
    codes = gdf["code"].astype(str).to_numpy()[metro]
    empty = np.zeros(0, dtype=np.int64)
    points = None
    if weights == "rook":
        i, j, _ = rook_pairs(geoms)
    elif weights == "queen":
        i, j = queen_pairs(geoms)
    else:
        import geopandas as gpd
        import shapely

        projected = gpd.GeoSeries(geoms, crs=gdf.crs).to_crs(2154).to_numpy()
        points = shapely.get_coordinates(shapely.point_on_surface(projected))
        i, j = empty, empty
    return LevelGraph(
        level=level,
        weights=weights,
        codes=codes,
        i=np.asarray(i, dtype=np.int64),
        j=np.asarray(j, dtype=np.int64),
        points=points,
        k_neighbors=k_neighbors,
    )
