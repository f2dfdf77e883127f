"""Benchmark: global Moran's I and LISA of every indicator at département and EPCI level.

Measured in the same run, on the demo edition's public aggregates (every
indicator, options of multiple-choice questions as their own variables):

* ``spatial_autocorrelation(level=["departement", "epci"])`` (queen weights
  built once per level by vertex hashing, cut per indicator; vectorised
  global permutations; esda's local Moran), 999 permutations;
* what a user would write: for each variable, the territories with a value,
  ``libpysal.weights.Queen.from_dataframe`` rebuilt each time, then
  ``esda.Moran`` and ``esda.Moran_Local`` (999 permutations). It is run on the
  variables where ours computes something (≥ 30 territories with neighbours),
  and it does not drop islands nor overseas territories — ours does;
* the weights alone: our queen pairs vs ``Queen.from_dataframe`` on the 1,230
  metropolitan EPCI.

The esda/libpysal import (about 2 s, esda imports scikit-learn) is paid once
before timing. Target: all indicators × 2 levels in a few seconds.

    .venv/bin/python benchmarks/bench_spatial.py [--repeat 3] [--naive-epci 20]
"""

from __future__ import annotations

import argparse
import time
import warnings

from _timing import timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--naive-epci", type=int, default=0, help="EPCI variables for the naive loop (0: all)"
    )
    args = parser.parse_args()

    t0 = time.perf_counter()
    import esda
    import libpysal
    import pandas as pd

    import barometre_geo as bg
    from barometre_geo.stats.contiguity import queen_pairs

    print(f"import esda + libpysal: {time.perf_counter() - t0:.1f} s (once)")
    t = bg.load_territories()
    responses = bg.load_demo()
    table = bg.aggregate(responses, level=["epci", "departement", "france"], weights=None)

    rows = []
    ours, stats = timed(
        lambda: bg.spatial_autocorrelation(table, t, level=["departement", "epci"]), args.repeat
    )
    m = stats.moran
    done = m[m["moran_i"].notna()]
    rows.append(
        (
            "spatial_autocorrelation(), 2 levels",
            ours,
            f"{len(m)} variables, {len(done)} computed, {len(stats.lisa):,} LISA rows",
        )
    )

    def naive(level: str, limit: int):
        gdf = t.level(level)
        sub = done[done["level"] == level]
        if limit:
            sub = sub.head(limit)
        head = table[(table["level"] == level) & (table["by"] == "total")]
        n = 0
        for r in sub.itertuples(index=False):
            sel = head[head["indicator"] == r.indicator]
            if pd.isna(r.option):
                sel = sel[sel["option"].isna()]
            else:
                sel = sel[sel["option"] == r.option]
            sel = sel[~sel["suppressed"] & sel["value"].notna()]
            g = gdf.merge(sel[["code", "value"]].astype({"code": str}), on="code")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                w = libpysal.weights.Queen.from_dataframe(g, use_index=False, silence_warnings=True)
                esda.Moran(g["value"].to_numpy(), w, permutations=999)
                esda.Moran_Local(g["value"].to_numpy(), w, permutations=999, seed=1)
            n += 1
        return n

    for level, limit in (("departement", 0), ("epci", args.naive_epci)):
        sec_n, n = timed(lambda level=level, limit=limit: naive(level, limit), 1)
        rows.append(
            (f"naive loop ({level}), weights rebuilt per variable", sec_n, f"{n} variables")
        )

    epci = t.epci[t.epci["zone"] == "metropole"].reset_index(drop=True)
    sec_q, (i, _) = timed(lambda: queen_pairs(epci.geometry.to_numpy()), args.repeat)
    rows.append(("queen pairs, 1,230 EPCI (vertex hashing)", sec_q, f"{len(i):,} pairs"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal reports the 4 island EPCI
        sec_l, w = timed(
            lambda: libpysal.weights.Queen.from_dataframe(epci, use_index=False), args.repeat
        )
    rows.append(("Queen.from_dataframe, 1,230 EPCI", sec_l, f"{int(w.s0) // 2:,} pairs"))

    width = max(len(r[0]) for r in rows)
    print(f"median of {args.repeat} runs (naive loops: 1 run)\n")
    for name, sec, what in rows:
        print(f"{name:<{width}}  {sec:7.2f} s  {what}")
    per = ours / max(len(done), 1)
    print(f"\nours: {per * 1000:.0f} ms per computed variable (weights, Moran, LISA, tables)")


if __name__ == "__main__":
    main()
