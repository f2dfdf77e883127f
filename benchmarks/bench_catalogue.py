"""Benchmark: loading the indicator catalogue.

Measures, each in a fresh subprocess (the first load pays the YAML parse and
every validation rule):

* ``load_catalogue()``: parse with line numbers, validate every entry, build
  the frozen dataclasses; then a second call (cached until the file changes);
* the alternative a user would write: ``yaml.safe_load`` of the same file
  (pure-Python loader, no validation, plain dicts), and the C loader
  ``yaml.load(..., Loader=yaml.CSafeLoader)``.

Target: the first load well under 0.5 s, so notebooks and the CLI never wait on it.

    .venv/bin/python benchmarks/bench_catalogue.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

TARGET_S = 0.5

CASES = {
    "load_catalogue() first call": (
        "import barometre_geo as bg",
        "cat = bg.load_catalogue()",
    ),
    "load_catalogue() cached call": (
        "import barometre_geo as bg; bg.load_catalogue()",
        "cat = bg.load_catalogue()",
    ),
    "yaml.safe_load (no validation)": (
        "import yaml; from barometre_geo._paths import package_data; "
        "text = package_data('catalogue.yaml').read_text('utf-8')",
        "data = yaml.safe_load(text)",
    ),
    "yaml CSafeLoader (no validation)": (
        "import yaml; from barometre_geo._paths import package_data; "
        "text = package_data('catalogue.yaml').read_text('utf-8')",
        "data = yaml.load(text, Loader=yaml.CSafeLoader)",
    ),
}

SCRIPT = """
import time
{setup}
t0 = time.perf_counter()
{stmt}
print(time.perf_counter() - t0)
"""


def measure(setup: str, stmt: str) -> float:
    code = SCRIPT.format(setup=setup, stmt=stmt)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'case':36s} {'median ms':>10s} {'min ms':>8s}")
    results = {}
    for name, (setup, stmt) in CASES.items():
        times = [measure(setup, stmt) for _ in range(args.repeat)]
        results[name] = statistics.median(times)
        print(f"{name:36s} {1000 * results[name]:10.1f} {1000 * min(times):8.1f}")
    first = results["load_catalogue() first call"]
    verdict = "OK" if first <= TARGET_S else "SLOW"
    print(f"\nfirst load {first:.3f} s (target ≤ {TARGET_S} s): {verdict}")


if __name__ == "__main__":
    main()
