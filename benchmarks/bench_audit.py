"""Benchmark: the integer audit of the demo edition's published tables, next to the exact one.

The edition's tables, as published together: the totals of every level (the
maps) and the tables by the four built-in breakdowns (``barometre-geo
indicators --by stratum,profile,type_label,kind``). Measured in the same run:

* the integer audit (``protection.linked.audit_bounds``: whole answers,
  "count ≥ follow-up n", every table together): published cells, hidden
  figures examined, cleared by exchanging answers, decided by linear / integer
  programs, undecided when the budget is spent, findings, seconds;
* the exact linear audit an analyst runs (``assert_no_disclosure``, SVD of the
  cells × respondents matrix: groups of fewer than k respondents), on the same
  tables and indicators.

Target: the whole demo edition in ≤ 60 s (idle 2-core machine). The exact
phase is budgeted (``--budget``): the figures it leaves are counted as
undecided, never as passed.

    .venv/bin/python benchmarks/bench_audit.py [--indicators cyber_pca,…] [--levels …]
        [--budget 60] [--by stratum,kind]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

LEVELS = ["commune", "epci", "departement", "region", "france"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--indicators", default="", help="comma-separated ids (default all)")
    ap.add_argument("--levels", default="", help="levels whose hidden cells are examined")
    ap.add_argument("--by", default="stratum,profile,type_label,kind")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds for the exact phase")
    ap.add_argument(
        "--exact", default="", help="indicators for the SVD audit (default: 3; 'none': skip it)"
    )
    args = ap.parse_args()
    import barometre_geo as bg
    from barometre_geo.protection.linked import audit_bounds
    from barometre_geo.testing import assert_no_disclosure

    warnings.simplefilter("ignore")
    responses = bg.load_demo()
    territories = bg.load_territories()
    inds = [x for x in args.indicators.split(",") if x] or None
    by = [x for x in args.by.split(",") if x]
    t0 = time.perf_counter()
    totals = bg.aggregate(responses, level=LEVELS, indicators=inds, territories=territories)
    tables = bg.aggregate(responses, level=LEVELS, by=by, indicators=inds, territories=territories)
    t_agg = time.perf_counter() - t0
    print(f"demo edition: {len(responses.data):,} responses; tables: totals + by {by} "
          f"({len(totals) + len(tables):,} rows, computed in {t_agg:.1f} s)\n")  # fmt: skip
    levels = [x for x in args.levels.split(",") if x] or None
    t0 = time.perf_counter()
    rep = audit_bounds(
        [totals, tables], responses, territories=territories, levels=levels, budget=args.budget
    )
    t_int = time.perf_counter() - t0
    load = os.getloadavg()
    width = 52
    print("integer audit (audit_bounds)")
    for label, value in (
        ("published cells", rep.published_cells),
        ("hidden cells", rep.hidden_cells),
        ("hidden figures examined", rep.examined),
        ("  cleared by exchanging answers", rep.cleared),
        ("  decided by linear / integer programs", rep.decided),
        ("  programs solved (LP, MILP)", f"{rep.lp}, {rep.milp}"),
        ("  undecided (budget spent or time limit)", len(rep.undecided)),
        ("findings (hidden figures pinned)", len(rep.findings)),
    ):
        print(f"  {label:<{width}}{value:>12}")
    print(f"  {'seconds':<{width}}{t_int:>12.1f}")
    if rep.public:
        print(f"  not examined, public answers: {', '.join(rep.public)}")
    if len(rep.findings):
        per = rep.findings.groupby("indicator").size().sort_values(ascending=False)
        print("  findings per indicator: " + ", ".join(f"{i} {n}" for i, n in per.items()))
    print(
        f"  {'load average (1, 5, 15 min) at the end':<{width}}"
        + ", ".join(f"{x:.1f}" for x in load)
    )
    if len(rep.findings):
        print(rep.findings.head(20).to_string())
    verdict = "OK" if t_int <= 60 and not len(rep.undecided) else "OVER"
    target = "target: the whole edition in ≤ 60 s, nothing undecided"
    if args.exact == "none":
        print(f"\n{target}: {verdict} (machine may be shared)")
        return
    exact = [x for x in args.exact.split(",") if x] or (
        inds[:3] if inds else ["cyber_pca", "cyber_victime", "inclusion_cnfs"]
    )
    t0 = time.perf_counter()
    sub = [t[t["indicator"].isin(exact)] for t in (totals, tables)]
    assert_no_disclosure(sub, responses, k=5, territories=territories)
    t_exact = time.perf_counter() - t0
    print(f"\nexact linear audit (assert_no_disclosure, SVD) on {exact}: {t_exact:.1f} s")
    print(f"{target}: {verdict} (machine may be shared)")


if __name__ == "__main__":
    main()
