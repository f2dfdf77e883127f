"""Benchmark: the coverage outputs of a structures file, next to what a user would write.

Measured in the same run, on all 34,875 communes of the embedded COG 2025
reference and a structures file (default: the real OPSN sample
``../shared/data/opsn-sample/operators.json`` if present, else the
illustrative structures of the package):

* **the coverage outputs** (what ``barometre-geo coverage`` and the build
  write): ``coverage()`` (commune coverage, rates at every level, uncovered
  zones cut at département boundaries, overlaps, every uncovered commune's
  nearest structure, each structure's prospects), ``couverture.gpkg`` (styled
  for QGIS), the HTML map with one view per structure, and the prospect lists
  (CSV + XLSX per structure and for France) — wall-clock and CPU seconds,
  warm (second run in this process), each step and the total;
* what a user would pick instead: ``GeoDataFrame.explore()`` of the commune
  categories (a map without legend search, views or lists), the lists'
  XLSX with openpyxl's write-only mode, the zones with
  ``GeoDataFrame.dissolve()`` (+ ``explode()``, + a spatial join to know the
  communes of each part), rook adjacency with ``STRtree`` + ``relate_pattern``.

Target: the coverage outputs in ≤ 5 s (wall-clock, idle 2-core machine). On a
shared, loaded machine the wall-clock time grows with the load; the CPU time
printed next to it is what the work costs.

    .venv/bin/python benchmarks/bench_coverage.py [--repeat 3] [--structures FILE] [--no-explore]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import shapely
from _timing import timed

TARGET_S = 5.0
SAMPLE = Path(__file__).resolve().parents[1].parent / "shared/data/opsn-sample/operators.json"


def _clock(fn, repeat: int):
    """(median wall s, median CPU s, last result) of ``repeat`` runs."""
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--structures", default=str(SAMPLE) if SAMPLE.is_file() else None)
    parser.add_argument("--no-explore", action="store_true", help="skip GeoDataFrame.explore()")
    args = parser.parse_args()

    import geopandas as gpd

    import barometre_geo as bg
    from barometre_geo.coverage.lists import france_list, write_lists
    from barometre_geo.coverage.zones import uncovered_zones
    from barometre_geo.errors import DataQualityWarning
    from barometre_geo.territories.adjacency import rook_pairs

    t = bg.load_territories()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        s = (
            bg.read_structures(args.structures, territories=t)
            if args.structures
            else bg.load_demo_structures(t)
        )
    name = Path(args.structures).name if args.structures else "structures illustratives"
    communes = t.communes
    geoms = communes.geometry.to_numpy()
    covered = communes["code"].isin(set(s.members["commune"])).to_numpy()
    uncovered = communes[~covered]
    out = Path(tempfile.mkdtemp(prefix="bench-coverage-"))
    print(
        f"{len(communes):,} communes, {len(s)} structures ({name}), "
        f"{int((~covered).sum()):,} uncovered communes; median of {args.repeat} runs, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n"
    )

    steps = {}

    def outputs():
        w, c = time.perf_counter(), time.process_time()
        r = bg.coverage(s, t)
        took = (time.perf_counter() - w, time.process_time() - c)
        steps.setdefault("coverage()", []).append(took)
        for label, fn in (
            ("couverture.gpkg (styled)", lambda: r.to_gpkg(out / "couverture.gpkg")),
            (
                "couverture.html (views)",
                lambda: r.to_html(out / "couverture.html", basemap="none", lists=True),
            ),
            ("prospect lists (CSV + XLSX)", lambda: write_lists(r, out)),
        ):
            w, c = time.perf_counter(), time.process_time()
            fn()
            steps.setdefault(label, []).append((time.perf_counter() - w, time.process_time() - c))
        return r

    outputs()  # cold: imports, the map's geometry cache
    steps.clear()
    wall, cpu, result = _clock(outputs, args.repeat)
    rows = [("coverage outputs: all of them", wall, cpu, "")]
    n_views = int((result.structures["n_communes"] > 0).sum())
    notes = {
        "coverage()": f"{len(result.zones)} zones, {len(result.nearby):,} prospect rows",
        "couverture.html (views)": (
            f"{n_views} views, {(out / 'couverture.html').stat().st_size / 1e6:.1f} MB"
        ),
        "prospect lists (CSV + XLSX)": f"{2 * n_views + 2} files",
    }
    for label, runs in steps.items():
        rows.append(
            (
                f"  {label}",
                statistics.median(r[0] for r in runs),
                statistics.median(r[1] for r in runs),
                notes.get(label, ""),
            )
        )

    # the lists' workbooks: ours next to openpyxl's write-only mode
    from barometre_geo._xlsx import xlsx_bytes

    table = france_list(result)
    values = table.to_numpy(dtype=object).tolist()
    w, c, _ = _clock(lambda: xlsx_bytes(list(table.columns), values, header=True), args.repeat)
    rows.append(("France list XLSX: barometre_geo._xlsx", w, c, f"{len(table):,} rows"))

    def with_openpyxl():
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("Communes non couvertes")
        ws.append(list(table.columns))
        for row in values:
            ws.append(row)
        wb.save(out / "openpyxl.xlsx")

    w, c, _ = _clock(with_openpyxl, args.repeat)
    rows.append(("France list XLSX: openpyxl write-only", w, c, "no header style, no filter"))

    if not args.no_explore:
        com = result.communes[["nom", "code", "categorie", "geometry"]]
        w, c, m = _clock(lambda: com.explore(column="categorie", tiles=None), 1)
        html = m.get_root().render()
        rows.append(
            (
                "GeoDataFrame.explore(column='categorie')",
                w,
                c,
                f"{len(html.encode()) / 1e6:.0f} MB, no views, lists, search",
            )
        )
        w, c, _ = _clock(lambda: com.to_file(out / "explore.gpkg", layer="communes"), 1)
        rows.append(("GeoDataFrame.to_file() of the communes", w, c, "one layer, no style"))

    def ours():
        i, j, _ = rook_pairs(geoms)
        return uncovered_zones(communes, covered, i, j)[0]

    w, c, zones = _clock(ours, args.repeat)
    rows.append(
        ("zones: rook adjacency + components + unions", w, c, f"{len(zones)} zones, cut by dép.")
    )
    for method in ("unary", "coverage"):
        sec, parts = timed(
            lambda m=method: uncovered[["geometry"]].dissolve(method=m).explode(index_parts=False),
            args.repeat,
        )
        rows.append(
            (f"gpd dissolve(method={method!r}).explode()", sec, np.nan, f"{len(parts)} parts")
        )

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
    rows.append(("  + sjoin for communes and population per part", sec, np.nan, f"{len(pop)}"))

    def strtree_relate():
        tree = shapely.STRtree(geoms)
        a, b = tree.query(geoms, predicate="touches")
        keep = a < b
        return shapely.relate_pattern(geoms[a[keep]], geoms[b[keep]], "****1****").sum()

    sec, n_rel = timed(strtree_relate, max(1, args.repeat - 1))
    rows.append(("adjacency: STRtree touches + relate_pattern", sec, np.nan, f"{n_rel:,} pairs"))
    sec, pairs = timed(lambda: rook_pairs(geoms), args.repeat)
    rows.append(("adjacency: segment hashing (rook_pairs)", sec, np.nan, f"{len(pairs[0]):,}"))

    width = max(len(r[0]) for r in rows)
    print(f"{'step':<{width}}  {'wall s':>7}  {'CPU s':>6}  result")
    for label, w, c, note in rows:
        cpu_text = "" if c != c else f"{c:6.2f}"
        print(f"{label:<{width}}  {w:7.2f}  {cpu_text:>6}  {note}")
    verdict = "OK" if wall <= TARGET_S else "OVER TARGET (see CPU s and the load average)"
    print(
        f"\ncoverage outputs {wall:.2f} s wall, {cpu:.2f} s CPU vs target {TARGET_S:.0f} s: "
        f"{verdict}"
    )
    print(
        f"{n_views} structures with a view, {len(result.nearby):,} prospects listed "
        f"({result.nearby['commune'].nunique():,} distinct communes), "
        f"{int((~result.communes['covered']).sum()):,} uncovered communes in the France list."
    )


if __name__ == "__main__":
    main()
