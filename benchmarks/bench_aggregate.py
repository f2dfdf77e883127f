"""Benchmark: every indicator × every level × every breakdown of the demo edition.

Measured in the same run, on the same responses (the calibrated demo edition,
≈3,400 wave responses × 74 indicators; ``--random`` for the quick generator):

* ``aggregate`` without weights: all five levels (+ métropole / outre-mer), the
  total and four breakdowns (stratum, profile, type_label, kind), intervals,
  participation and the full small-count protection (nesting rules, then the
  exact linked-table audit);
* ``aggregate`` with calibration weights (raking per wave and kind, included);
* the alternative a user would write: a plain pandas ``groupby`` loop over
  indicators × levels × breakdowns giving ``n`` and the share (or mean) per
  group — no interval, no universe, no protection.

Target (idle 2-core machine): ``aggregate`` ≤ 10 s. Also printed: suppressed
cells per reason with the nesting rules only (the protection before the audit)
and with the audit, and how many weighted figures are withheld.

    .venv/bin/python benchmarks/bench_aggregate.py [--random] [--repeat 3]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from _timing import timed

TARGET = 10.0
LEVELS = ["commune", "epci", "departement", "region", "france"]
BY = ["stratum", "profile", "type_label", "kind"]


def pandas_loop(responses) -> pd.DataFrame:
    """What an analyst writes: one groupby per indicator, level and breakdown."""
    from barometre_geo.stats.strata import assign_strata

    d = responses.data.copy()
    d["stratum"] = np.asarray(assign_strata(d["population"]).astype(str))
    d["france"] = "FR"
    out = []
    for ind in responses.catalogue.indicators:
        cols = [c for c in ind.columns if c in d]
        if len(cols) != len(ind.columns):
            continue
        rows = d[d["kind"].isin(ind.universe_kinds)]
        if ind.wave:
            rows = rows[rows["wave"] == ind.wave]
        if ind.kind == "multiple_choice":
            answered = rows[cols].notna().any(axis=1)
            values = {c: rows.loc[answered, c].astype(float) for c in cols}
            base = rows[answered]
        elif ind.kind == "percentage":
            base = rows[rows[cols[0]].notna()]
            values = {ind.id: base[cols[0]].astype(float)}
        else:
            base = rows[rows[cols[0]].isin(ind.valid)]
            values = {ind.id: base[cols[0]].isin(ind.positive).astype(float)}
        for level in LEVELS:
            for by in [None, *BY]:
                if by is not None and level == "commune":
                    continue
                keys = [level] if by is None else [level, by]
                for name, v in values.items():
                    g = v.groupby([base[k] for k in keys], observed=True).agg(["count", "mean"])
                    g["indicator"] = name
                    out.append(g.reset_index())
    return pd.concat(out, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--random", action="store_true", help="random_responses(3400) instead")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import barometre_geo as bg

    if args.random:
        from barometre_geo.testing import random_responses

        responses, source = random_responses(3400, seed=1), "random_responses(3400)"
    else:
        responses, source = bg.load_demo(), "demo edition (load_demo)"
    territories = bg.load_territories()
    bg.aggregate(responses, level="france", indicators="inclusion_cnfs", weights=None)  # warm-up
    n_ind = len(responses.indicators())
    print(f"{source}: {len(responses.data):,} responses, {n_ind} indicators")
    print(f"levels {LEVELS}, breakdowns total + {BY}; best of {args.repeat}\n")

    def run(weights):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bg.aggregate(
                responses, level=LEVELS, by=BY, weights=weights, territories=territories
            )

    t_plain, table = timed(lambda: run(None), args.repeat, stat="min")
    t_w, table_w = timed(lambda: run("calibration"), args.repeat, stat="min")
    t_pd, loop = timed(lambda: pandas_loop(responses), args.repeat, stat="min")
    meta = table.attrs["barometre_geo"]
    width = 58
    print(f"{'what':<{width}}{'seconds':>9}{'rows':>12}")
    print(f"{'aggregate (no weights, full protection)':<{width}}{t_plain:>9.2f}{len(table):>12,}")
    print(f"{'aggregate (calibration weights, raking included)':<{width}}{t_w:>9.2f}"
          f"{len(table_w):>12,}")  # fmt: skip
    print(f"{'pandas groupby loop (n and share only, no protection)':<{width}}{t_pd:>9.2f}"
          f"{len(loop):>12,}")  # fmt: skip
    prot = meta["protection"]
    print(
        f"\nprotection: {prot['rounds']} rounds of the nesting rules, {prot['audit_rounds']} "
        f"audit rounds ({prot['audit_tests']} candidate cells tried)"
    )
    print("suppressed cells (every level and breakdown) per reason:")
    print(f"  {'reason':<22}{'nesting rules only':>20}{'with the audit':>16}")
    for reason, count in sorted(meta["suppressed_cells"].items()):
        before = prot["complementary_before_audit"] if reason == "complementary" else count
        print(f"  {reason:<22}{before:>20,}{count:>16,}")
    shown = int(table_w["value_weighted"].notna().sum())
    published = int((~table_w["suppressed"]).sum())
    print(
        f"weighted figures (calibration): shown on {shown:,} of {published:,} published rows; "
        f"{table_w.attrs['barometre_geo']['weighted_withheld']:,} published cells withheld "
        "(before: shown on every published row)"
    )
    verdict = "OK" if max(t_plain, t_w) <= TARGET else "OVER"
    print(f"target ≤ {TARGET:.0f} s on an idle 2-core machine: {verdict} (machine may be shared)")


if __name__ == "__main__":
    main()
