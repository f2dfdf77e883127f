"""Benchmark: the 114 territory pages with and without their modelled figures.

Run:  .venv/bin/python benchmarks/bench_territory_pages.py [--table PARQUET]
(default: maps/donnees/indicateurs.parquet, written by `barometre-geo build`)

Reads the published table of a default build (``barometre-geo build`` writes it to
``maps/donnees/indicateurs.parquet``) and renders, in this process (one core), the
page of every région and département twice in the same run:

* **direct only**: the table without its modelled columns (what the pages were
  before they showed the modelled figures, and what ``--estimates direct`` gives);
* **with modelled**: the table as published (the build's default).

Prints, for both: the time of ``cell_index`` (once per build) and of the 114
pages, their total size, and the size and gzip size of the largest page and of a
département page (Gironde). The build renders the pages in ``--jobs`` processes:
its wall time for them is about this time divided by the jobs.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

from _timing import timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="maps/donnees/indicateurs.parquet", type=Path)
    args = parser.parse_args()
    if not args.table.is_file():
        raise SystemExit(
            f"{args.table} not found: run `barometre-geo build` first, or give --table PATH."
        )
    import warnings

    import pandas as pd

    import barometre_geo as bg
    from barometre_geo.errors import BarometreGeoWarning
    from barometre_geo.indicators.modelled import MODEL_COLUMNS
    from barometre_geo.maps._places import all_places
    from barometre_geo.maps._territory import cell_index, territory_page

    warnings.simplefilter("ignore", BarometreGeoWarning)  # one-value classes of small levels
    t = bg.load_territories()
    table = pd.read_parquet(args.table)
    places = all_places(t)
    levels = ["epci", "departement", "region"]  # a public build: no commune tables
    variants = {
        "direct only": table.drop(columns=[c for c in MODEL_COLUMNS if c in table.columns]),
        "with modelled": table,
    }
    print(f"{len(places)} pages from {args.table} ({len(table):,} rows)")
    print(f"{'':14s} {'cell_index':>10s} {'pages':>8s} {'total':>9s} {'largest':>22s} "
          f"{'Gironde (gzip)':>20s}")  # fmt: skip
    for label, tab in variants.items():
        index_s, cells = timed(lambda tab=tab: cell_index(tab, levels=levels), 1)

        def render(tab=tab, cells=cells):
            classes = {}
            return [territory_page(tab, t, place=p, cells=cells, classes=classes, levels=levels,
                                   synthetic=True) for p in places]  # fmt: skip

        pages_s, pages = timed(render, 1)
        total = sum(p.size for p in pages)
        big = max(pages, key=lambda p: p.size)
        gironde = next(p for p in pages if p.place.key == "dep-33")
        gz = len(gzip.compress(gironde.html.encode("utf-8")))
        print(f"{label:14s} {index_s:9.1f}s {pages_s:7.1f}s {total / 1e6:7.1f}MB "
              f"{big.place.key:>8s} {big.size / 1e3:8.0f} kB "
              f"{gironde.size / 1e3:7.0f} kB ({gz / 1e3:4.0f} kB)")  # fmt: skip


if __name__ == "__main__":
    main()
