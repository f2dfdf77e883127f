"""Benchmark: the calibrated demo edition, cold and cached, against the quick generator.

Each measure runs in a fresh subprocess (time and peak RSS from ``resource``),
with its own empty cache folder unless said otherwise:

* ``write_demo_exports``: drawing the edition and writing the three wave files;
* ``load_demo`` cold: the same, then reading them back with ``read_responses``
  (what the main job does on a fresh machine);
* ``load_demo`` cached: files already in the cache, a new process reads them;
* the alternative a user would pick for "some data to demo":
  ``barometre_geo.testing.random_responses(3390)`` — in memory, no files, no
  reader, not calibrated.

Then, outside the timings, how many of the 47 published national figures each
reproduces within ±2 points (``aggregate(level="france")``).

Targets (idle machine): load_demo cold ≤ 8 s, cached ≤ 4 s.

    .venv/bin/python benchmarks/bench_demo.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_COLD, TARGET_WARM = 8.0, 4.0

RUNNER = """
import json, os, resource, sys, time
os.environ["BAROMETRE_GEO_CACHE"] = sys.argv[1]
t0 = time.perf_counter()
{code}
elapsed = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"seconds": elapsed, "peak_mb": usage.ru_maxrss / 1024, "result": RESULT}}))
"""

CASES = {
    "write_demo_exports": (
        "import barometre_geo as bg\n"
        "files = bg.write_demo_exports(os.path.join(sys.argv[1], 'out'))\n"
        "RESULT = len(files)"
    ),
    "load_demo (cold)": ("import barometre_geo as bg\nr = bg.load_demo()\nRESULT = len(r.data)"),
    "load_demo (cached)": ("import barometre_geo as bg\nr = bg.load_demo()\nRESULT = len(r.data)"),
    "random_responses (alternative)": (
        "from barometre_geo.testing import random_responses\n"
        "r = random_responses(3390, seed=1)\nRESULT = len(r.data)"
    ),
}


def _run(code: str, cache: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", RUNNER.format(code=code), cache],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _within_two_points(responses) -> tuple[int, int]:
    from barometre_geo.indicators.aggregate import aggregate

    t = aggregate(responses, level="france", by="kind", options=True, weights=None,
                  mode="restricted")  # fmt: skip
    t = t[t["level"] == "france"]
    ok = total = 0
    for ind in responses.catalogue:
        pub = ind.published
        if pub is None:
            continue
        targets = [(None, "total", pub.value)] if pub.value is not None else []
        targets += [(o, "total", v) for o, v in pub.options.items()]
        targets += [(None, k, v) for k, v in pub.by_kind.items()]
        for option, group, value in targets:
            rows = t[t["indicator"] == ind.id]
            rows = rows[rows["by"] == "total"] if group == "total" else rows[rows["group"] == group]
            rows = rows[rows["option"].isna()] if option is None else rows[rows["option"] == option]
            total += 1
            tol = 2.0 if ind.kind == "percentage" else 0.02
            got = float(rows["value"].iloc[0]) if len(rows) else float("nan")
            ok += bool(abs(got - value) <= tol or (pub.precision == "below" and got < value))
    return ok, total


def main() -> None:
    import os

    import barometre_geo as bg
    from barometre_geo.testing import random_responses

    with tempfile.TemporaryDirectory() as tmp:
        shared = str(Path(tmp) / "shared")  # the cold run fills it, the cached run reads it
        caches = {
            "write_demo_exports": str(Path(tmp) / "a"),
            "load_demo (cold)": shared,
            "load_demo (cached)": shared,
            "random_responses (alternative)": str(Path(tmp) / "b"),
        }
        results = {name: _run(code, caches[name]) for name, code in CASES.items()}
        os.environ["BAROMETRE_GEO_CACHE"] = shared
        demo_ok = _within_two_points(bg.load_demo())
        quick_ok = _within_two_points(random_responses(3390, seed=1))
    print(f"{'case':<32}{'seconds':>9}{'peak MB':>10}")
    for name, res in results.items():
        print(f"{name:<32}{res['seconds']:>9.2f}{res['peak_mb']:>10.0f}")
    print(f"published figures within ±2 points: load_demo {demo_ok[0]}/{demo_ok[1]}, "
          f"random_responses {quick_ok[0]}/{quick_ok[1]}")  # fmt: skip
    cold = results["load_demo (cold)"]["seconds"]
    warm = results["load_demo (cached)"]["seconds"]
    print(f"targets: cold ≤ {TARGET_COLD} s ({'ok' if cold <= TARGET_COLD else 'MISSED'}), "
          f"cached ≤ {TARGET_WARM} s ({'ok' if warm <= TARGET_WARM else 'MISSED'})")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
