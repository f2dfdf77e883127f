"""Validation of the small-area estimates against a simulated census (issue 13).

The demo's answer model is drawn for every collectivity of the reference (the
truth), respondents are sampled as the demo edition samples them (same wave
sizes, same over-representation by région, size and coverage), and the direct
and modelled figures of ``barometre_geo.aggregate(..., estimates="model")``
(protection included) are compared with the truth, over R replicates and the
13 indicators of ``barometre_geo.demo.validation.VALIDATION_INDICATORS``.

    python benchmarks/bench_estimates.py            # 20 replicates (~8 min on 2 busy cores)
    python benchmarks/bench_estimates.py --replicates 3

Goals (issue 13): département modelled RMSE ≤ ½ direct; coverage 92–97 %;
≥ 95 % of départements and ≥ 90 % of EPCI published; right class ≥ 70 % of
départements.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from barometre_geo.demo.census import simulate_census
from barometre_geo.demo.validation import VALIDATION_INDICATORS, summarise, validate_estimates


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--replicates", type=int, default=20)
    p.add_argument("--census-seed", type=int, default=2025)
    args = p.parse_args()
    t0 = time.perf_counter()
    census = simulate_census(args.census_seed)
    t1 = time.perf_counter()
    res = validate_estimates(census, range(1, args.replicates + 1))
    t2 = time.perf_counter()
    table = summarise(res)
    pd.set_option("display.width", 160)
    print(
        f"Simulated census: {len(census.units):,} collectivities ({t1 - t0:.1f} s); "
        f"{args.replicates} replicates × {len(VALIDATION_INDICATORS)} indicators ({t2 - t1:.1f} s)"
    )
    print(table.round(3).to_string())
    dep = table.loc["departement"]
    epci = table.loc["epci"]
    ratio = dep.loc["model", "RMSE (pts)"] / dep.loc["direct", "RMSE (pts)"]
    same = "RMSE là où le direct est publié"
    ratio_same = dep.loc["model", same] / dep.loc["direct", same]
    print("\nGoals (issue 13), départements unless said:")
    goals = [
        ("modelled RMSE ≤ ½ direct (model on every département, direct where published)",
         f"{ratio:.2f} × direct", ratio <= 0.5),
        ("modelled RMSE ≤ ½ direct, both where the direct figure is published",
         f"{ratio_same:.2f} × direct", ratio_same <= 0.5),
        ("95 % interval coverage 92–97 %", f"{dep.loc['model', 'couverture IC 95 %']:.1%}",
         0.92 <= dep.loc["model", "couverture IC 95 %"] <= 0.97),
        ("≥ 95 % of départements published", f"{dep.loc['model', 'publiés']:.1%}",
         dep.loc["model", "publiés"] >= 0.95),
        ("≥ 90 % of EPCI published", f"{epci.loc['model', 'publiés']:.1%}",
         epci.loc["model", "publiés"] >= 0.90),
        ("right class ≥ 70 % of départements", f"{dep.loc['model', 'bonne classe']:.1%}",
         dep.loc["model", "bonne classe"] >= 0.70),
    ]  # fmt: skip
    for name, value, ok in goals:
        print(f"  {'met    ' if ok else 'NOT MET'}  {name}: {value}")
    per = res[res["estimator"] == "model"].groupby(["level", "indicator"]).sum(numeric_only=True)
    print("\nModelled RMSE (pts) per indicator and level:")
    print(((per["sq"] / per["valued"]) ** 0.5).unstack(0).round(1).to_string())


if __name__ == "__main__":
    main()
