"""Distances between structures and uncovered communes.

Used by :func:`barometre_geo.coverage.coverage`; works on row positions of
``territories.communes`` (a valid polygonal coverage) and measures in the
projection of each zone (Lambert-93, or the overseas département's UTM
projection), never across zones (no distance across an ocean).

* :func:`nearby_uncovered`: for each structure, the uncovered communes an OPSN
  would prospect — every one adjacent to its territory (shared edge), every
  one of the départements it serves, and the ``nearest`` closest others
  within ``max_distance_km``;
* :func:`nearest_structure`: for each uncovered commune, the structure(s)
  whose territory is nearest, and the distance.

Distances are between polygons (0 for communes touching the territory, even
at a corner), on the embedded contours. For the nearest structure of every
uncovered commune (the France-wide list), distances beyond
:data:`EXACT_NEAREST_M` are measured on contours simplified at
:data:`FAR_TOLERANCE_M` (error under 1 km), rounded to the kilometre and
flagged ``approx``: exact polygon distances over tens or hundreds of km cost
seconds (``benchmarks/bench_coverage.py``) and a national list needs no more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "EXACT_NEAREST_M",
    "FAR_TOLERANCE_M",
    "Graph",
    "Projected",
    "nearby_uncovered",
    "nearest_structure",
]

#: Nearest structures within this distance (metres) are measured on the exact contours.
EXACT_NEAREST_M = 2000.0
#: Simplification (metres) of the contours for nearest structures further away.
FAR_TOLERANCE_M = 500.0
_RADII_M = (2000.0, 10000.0)


class Projected:
    """Commune polygons projected in their zone's CRS, on demand and once each."""

    def __init__(self, communes):
        self.communes = communes
        self.zones = communes["zone"].astype(str).to_numpy()
        self._geoms = np.empty(len(communes), dtype=object)
        self._done = np.zeros(len(communes), dtype=bool)

    def __getitem__(self, positions) -> np.ndarray:
        import geopandas as gpd

        from ..territories.crs import zone_crs

        positions = np.asarray(positions, dtype=np.int64)
        todo = positions[~self._done[positions]]
        if len(todo):
            todo = np.unique(todo)
            for zone in pd.unique(self.zones[todo]):
                sel = todo[self.zones[todo] == zone]
                self._geoms[sel] = (
                    gpd.GeoSeries(self.communes.geometry.to_numpy()[sel], crs=self.communes.crs)
                    .to_crs(zone_crs(zone))
                    .to_numpy()
                )
            self._done[todo] = True
        return self._geoms[positions]


@dataclass(frozen=True, eq=False)
class Graph:
    """The communes, who serves them, and how they touch.

    Attributes
    ----------
    communes : geopandas.GeoDataFrame
        ``territories.communes``.
    members : pandas.DataFrame
        ``structure`` and ``pos`` (commune row position) of each member commune.
    covered : numpy.ndarray of bool
    i, j, outer : numpy.ndarray
        Rook adjacency pairs and outer-edge flags of the communes (row positions).
    projected : Projected
        Cache of the polygons projected in their zone's CRS.
    """

    communes: object
    members: pd.DataFrame
    covered: np.ndarray
    i: np.ndarray
    j: np.ndarray
    outer: np.ndarray
    projected: Projected


def _coarse(geoms: np.ndarray) -> np.ndarray:
    """Contours simplified at :data:`FAR_TOLERANCE_M` for distances (never empty).

    Douglas–Peucker without topology repair: the simplified rings stay within
    the tolerance of the contours, all a distance needs (validity does not
    matter); a polygon that would collapse keeps its contour.
    """
    import shapely

    out = shapely.simplify(geoms, FAR_TOLERANCE_M, preserve_topology=False)
    return np.where(shapely.is_empty(out), geoms, out)


def _edges(members: pd.DataFrame, covered, i, j, outer, n: int):
    """Adjacent uncovered communes and boundary communes of each structure.

    Returns ``(sidx, structures, adj, b_s, b_pos)``: structure index of each
    member row, the structure ids, the (structure index, uncovered commune)
    pairs sharing an edge, and the (structure index, commune) pairs of member
    communes on the edge of the territory (an edge with a non-member or the
    outer edge of the coverage).
    """
    sidx, structures = pd.factorize(members["structure"])
    pos = members["pos"].to_numpy()
    key_in = sidx.astype(np.int64) * n + pos
    src = np.concatenate([i, j])
    dst = np.concatenate([j, i])
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    start = np.searchsorted(src, pos, "left")
    stop = np.searchsorted(src, pos, "right")
    counts = stop - start
    rep_s = np.repeat(sidx, counts)
    rep_src = np.repeat(pos, counts)
    offsets = np.cumsum(counts) - counts
    idx = np.arange(counts.sum()) - np.repeat(offsets, counts) + np.repeat(start, counts)
    nb = dst[idx]
    outside = ~np.isin(rep_s.astype(np.int64) * n + nb, key_in)
    free = outside & ~covered[nb]
    adj = pd.DataFrame({"s": rep_s[free], "pos": nb[free]}).drop_duplicates()
    boundary = np.unique(rep_s[outside].astype(np.int64) * n + rep_src[outside])
    boundary = np.union1d(boundary, key_in[outer[pos]])
    return sidx, structures, adj, boundary // n, boundary % n


def _nearest(edge, tree, cand_all, excluded: set, k: int, d: float):
    """Return the ``k`` candidates nearest to the polygons ``edge`` within ``d`` metres.

    Searches growing radii (2 km, 10 km, ``d``): when ``k`` candidates are found
    within a radius, the ``k`` nearest overall are among them.
    """
    import shapely

    b = shapely.bounds(edge)
    sub = shapely.STRtree(edge)
    for r in sorted({x for x in _RADII_M if x < d} | {d}):
        boxes = shapely.box(b[:, 0] - r, b[:, 1] - r, b[:, 2] + r, b[:, 3] + r)
        cand = cand_all[np.unique(tree.query(boxes)[1])]
        cand = cand[[int(c) not in excluded for c in cand]]
        if len(cand) == 0:
            continue
        (which, _), dist = sub.query_nearest(
            tree.geometries.take(np.searchsorted(cand_all, cand)),
            return_distance=True,
            all_matches=False,
        )
        cand, ok = cand[which], dist <= r
        if ok.sum() >= k or r == d:
            best = np.argsort(dist[ok], kind="stable")[:k]
            return pd.DataFrame({"pos": cand[ok][best], "distance_km": dist[ok][best] / 1000.0})
    return None


def _home(edge, candidates) -> pd.DataFrame:
    """Distance from each candidate polygon to the nearest of ``edge`` (no radius)."""
    import shapely

    (which, _), dist = shapely.STRtree(edge[1]).query_nearest(
        candidates[1], return_distance=True, all_matches=False
    )
    return pd.DataFrame({"pos": candidates[0][which], "distance_km": dist / 1000.0})


def nearby_uncovered(
    graph: Graph, *, nearest: int, max_distance_km: float, home: dict | None = None
) -> pd.DataFrame:
    """Uncovered communes an OPSN would prospect, for each structure.

    Parameters
    ----------
    graph : Graph
    nearest : int
        Number of closest other uncovered communes listed, within ``max_distance_km``.
    home : dict, optional
        Structure id → codes of the départements it serves: every uncovered
        commune there is listed too, whatever its distance.

    Returns
    -------
    pandas.DataFrame
        Columns ``structure``, ``pos``, ``distance_km``, ``adjacent`` (shares an
        edge with the territory), ``home`` (in a département it serves).
    """
    import shapely

    communes, covered, projected = graph.communes, graph.covered, graph.projected
    n = len(communes)
    _, structures, adj, b_s, b_pos = _edges(
        graph.members, covered, graph.i, graph.j, graph.outer, n
    )
    deps = communes["departement"].astype(str).to_numpy()
    zones = projected.zones
    free = np.flatnonzero(~covered)
    out = [adj.assign(distance_km=0.0, adjacent=True)]
    adj_pos = {k: set(g.tolist()) for k, g in adj.groupby("s")["pos"]}
    trees: dict = {}
    d = max_distance_km * 1000.0
    for s in np.unique(b_s):
        mine = b_pos[b_s == s]
        excluded = set(adj_pos.get(int(s), set()))
        served = (home or {}).get(structures[s], ())
        wanted = free[np.isin(deps[free], list(served))] if len(served) else free[:0]
        wanted = wanted[[int(p) not in excluded for p in wanted]]
        for zone in pd.unique(zones[mine]):
            edge = mine[zones[mine] == zone]
            geoms = projected[edge]
            cand = wanted[zones[wanted] == zone]
            if len(cand):
                found = _home((edge, geoms), (cand, projected[cand]))
                out.append(found.assign(s=s, adjacent=False))
            if nearest <= 0:
                continue
            if zone not in trees:
                cand_all = free[zones[free] == zone]
                trees[zone] = (cand_all, shapely.STRtree(projected[cand_all]))
            cand_all, tree = trees[zone]
            if len(cand_all) == 0:
                continue
            found = _nearest(geoms, tree, cand_all, excluded | set(cand.tolist()), nearest, d)
            if found is not None:
                out.append(found.assign(s=s, adjacent=False))
    res = pd.concat(out, ignore_index=True)
    res = res.drop_duplicates(["s", "pos"], keep="first")
    res["structure"] = np.asarray(structures)[res["s"].to_numpy().astype(np.int64)]
    served = {k: set(v) for k, v in (home or {}).items()}
    res["home"] = [
        deps[p] in served.get(s, ()) for s, p in zip(res["structure"], res["pos"], strict=True)
    ]
    return res[["structure", "pos", "distance_km", "adjacent", "home"]].reset_index(drop=True)


def nearest_structure(graph: Graph) -> pd.DataFrame:
    """Find the structure(s) nearest to each uncovered commune, in its zone.

    Exact polygon distances up to :data:`EXACT_NEAREST_M`; beyond, on contours
    simplified at :data:`FAR_TOLERANCE_M` metres, rounded to the km and
    flagged ``approx``. Ties (several structures at the same distance, e.g.
    a commune touching two territories) are all given.

    Returns
    -------
    pandas.DataFrame
        One row per uncovered commune with a structure in its zone: ``pos``,
        ``structures`` (tuple of ids, sorted), ``distance_km``, ``adjacent``
        (shares an edge with one of them), ``approx``.
    """
    import shapely

    communes, members, covered, projected = (
        graph.communes,
        graph.members,
        graph.covered,
        graph.projected,
    )
    i, j, outer = graph.i, graph.j, graph.outer
    n = len(communes)
    zones = projected.zones
    # rook neighbours: an uncovered commune sharing an edge with a covered one
    touch = covered[i] != covered[j]
    a = np.where(covered[i[touch]], j[touch], i[touch])  # the uncovered one
    b = np.where(covered[i[touch]], i[touch], j[touch])  # the covered one
    # the nearest point of the covered territory lies on its edge: covered
    # communes with an uncovered neighbour, or on the outer edge
    edge = np.zeros(n, dtype=bool)
    edge[b] = True
    edge |= covered & outer
    rows = []
    free = np.flatnonzero(~covered)
    for zone in pd.unique(zones[free]):
        targets = free[zones[free] == zone]
        sources = np.flatnonzero(edge & (zones == zone))
        if not len(sources):
            continue
        tree = shapely.STRtree(projected[sources])
        (q, t), dist = tree.query_nearest(
            projected[targets], max_distance=EXACT_NEAREST_M, all_matches=True, return_distance=True
        )
        rows.append(
            pd.DataFrame({"pos": targets[q], "src": sources[t], "d": dist, "approx": False})
        )
        todo = np.setdiff1d(targets, targets[q])
        if len(todo):
            far = shapely.STRtree(_coarse(projected[sources]))
            (q, t), dist = far.query_nearest(
                _coarse(projected[todo]),
                all_matches=True,
                return_distance=True,
            )
            rows.append(
                pd.DataFrame({"pos": todo[q], "src": sources[t], "d": dist, "approx": True})
            )
    cols = ["pos", "structures", "distance_km", "adjacent", "approx"]
    if not rows:
        return pd.DataFrame(columns=cols)
    found = pd.concat(rows, ignore_index=True)
    found = found[found["d"] == found.groupby("pos")["d"].transform("min")]
    # every structure of every nearest commune (ties included), then adjacency by rook edge
    pairs = members[["pos", "structure"]].rename(columns={"pos": "src"})
    hits = found.merge(pairs, on="src").drop_duplicates(["pos", "structure"])
    rook = pd.DataFrame({"pos": a, "src": b}).merge(pairs, on="src")[["pos", "structure"]]
    hits = hits.merge(rook.drop_duplicates().assign(edge=True), on=["pos", "structure"], how="left")
    hits = hits.sort_values(["pos", "structure"], kind="stable")
    best = hits.groupby("pos", sort=True).agg(
        d=("d", "first"), approx=("approx", "first"), adjacent=("edge", "any")
    )
    starts = np.flatnonzero(np.r_[True, hits["pos"].to_numpy()[1:] != hits["pos"].to_numpy()[:-1]])
    best["structures"] = [tuple(x) for x in np.split(hits["structure"].to_numpy(), starts[1:])]
    best["adjacent"] = best["adjacent"].fillna(False).astype(bool)
    km = best["d"].to_numpy() / 1000.0
    best["distance_km"] = np.where(best["approx"].to_numpy(dtype=bool), np.round(km), km)
    return best.reset_index()[cols]
