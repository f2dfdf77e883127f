"""Benchmark: national coverage of mutualisation structures with the uncovered-zone dissolve.

Measured in the same run, on all 34,875 communes of the embedded COG 2025
reference and the illustrative structures (``load_demo_structures()``):

* ``coverage()``: everything (commune coverage, rates for every level, rook
  adjacency, uncovered zones dissolved, overlaps, nearest uncovered communes
  per structure in each zone's projection);
* its zone step alone: segment-hashing rook adjacency + connected components
  + ``shapely.coverage_union_all`` per zone;
* what a user would write for the zones: ``GeoDataFrame.dissolve()`` of the
  uncovered communes then ``.explode()`` (default ``unary`` method, then the
  ``coverage`` method), which gives one polygon per connected part but not
  which communes are in it, so no population, départements or commune list
  without a further spatial join (also timed);
* the rook adjacency the brief suggests: ``STRtree.query(predicate="touches")``
  + ``relate_pattern(..., "****1****")``.

Target: ``coverage()`` ≤ 5 s.

    .venv/bin/python benchmarks/bench_coverage.py [--repeat 3]
"""

from __future__ import annotations

import argparse

import numpy as np
import shapely
from _timing import timed

TARGET_S = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import geopandas as gpd

    import barometre_geo as bg
    from barometre_geo.coverage.zones import uncovered_zones
    from barometre_geo.territories.adjacency import rook_pairs

    t = bg.load_territories()
    s = bg.load_demo_structures(t)
    communes = t.communes
    geoms = communes.geometry.to_numpy()
    covered = communes["code"].isin(set(s.members["commune"])).to_numpy()
    uncovered = communes[~covered]
    print(
        f"{len(communes):,} communes, {len(s)} illustrative structures, "
        f"{int((~covered).sum()):,} uncovered communes; median of {args.repeat} runs\n"
    )

    rows = []
    full, result = timed(lambda: bg.coverage(s, t), args.repeat)
    rows.append(("coverage(): everything", full, f"{len(result.zones)} zones"))

    i, j, _ = rook_pairs(geoms)

    def ours():
        i, j, _ = rook_pairs(geoms)
        return uncovered_zones(communes, covered, i, j)[0]

    sec, zones = timed(ours, args.repeat)
    rows.append(
        (
            "zones: rook adjacency + components + coverage_union_all",
            sec,
            f"{len(zones)} zones, with communes/population",
        )
    )
    sec, _ = timed(lambda: uncovered_zones(communes, covered, i, j), args.repeat)
    rows.append(("  of which components + unions (adjacency shared with nearby)", sec, ""))

    for method in ("unary", "coverage"):
        sec, parts = timed(
            lambda m=method: uncovered[["geometry"]].dissolve(method=m).explode(index_parts=False),
            args.repeat,
        )
        rows.append((f"gpd dissolve(method={method!r}).explode()", sec, f"{len(parts)} parts"))

    def dissolve_and_join():
        parts = uncovered[["geometry"]].dissolve(method="coverage").explode(index_parts=False)
        parts = parts.reset_index(drop=True)
        parts["part"] = parts.index
        pts = gpd.GeoDataFrame(
            uncovered[["code", "population"]],
            geometry=uncovered.geometry.representative_point(),
            crs=uncovered.crs,
        )
        joined = gpd.sjoin(pts, parts, predicate="within")
        return joined.groupby("part")["population"].sum()

    sec, pop = timed(dissolve_and_join, args.repeat)
    rows.append(("  + sjoin to get communes and population per part", sec, f"{len(pop)} parts"))

    def strtree_relate():
        tree = shapely.STRtree(geoms)
        i, j = tree.query(geoms, predicate="touches")
        keep = i < j
        return shapely.relate_pattern(geoms[i[keep]], geoms[j[keep]], "****1****").sum()

    sec, n_rel = timed(strtree_relate, max(1, args.repeat - 1))
    rows.append(("adjacency: STRtree touches + relate_pattern", sec, f"{n_rel:,} pairs"))
    sec, pairs = timed(lambda: rook_pairs(geoms), args.repeat)
    rows.append(("adjacency: segment hashing (rook_pairs)", sec, f"{len(pairs[0]):,} pairs"))

    width = max(len(r[0]) for r in rows)
    print(f"{'step':<{width}}  {'seconds':>8}  result")
    for name, sec, note in rows:
        print(f"{name:<{width}}  {sec:>8.2f}  {note}")
    verdict = "OK" if full <= TARGET_S else "OVER TARGET"
    print(f"\ncoverage() {full:.2f} s vs target {TARGET_S:.0f} s: {verdict}")
    multipart = int((shapely.get_num_geometries(uncovered.geometry.to_numpy()) > 1).sum())
    print(
        f"Parts differ from zones because {multipart} uncovered communes are multipart "
        "(islands): explode() splits them, zones keep a commune whole."
    )
    assert np.isfinite(full)


if __name__ == "__main__":
    main()
