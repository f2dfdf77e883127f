"""Benchmark: barometre_geo.maps vs GeoDataFrame.explore() on the same synthetic values.

Run:  .venv/bin/python benchmarks/bench_maps.py [--no-explore] [--baseline DIR]
(explore() needs matplotlib: .venv/bin/pip install matplotlib)

``--baseline DIR``: also build and display the pages of another version of the
package, in the same run (same values, same browser): DIR is a source tree, e.g.
``git archive <commit> | tar -x -C DIR`` (it must hold ``barometre_geo/`` and
``boundaries/``); its pages are built in a child process importing it first.

For the national commune-level map (34,875 polygons) prints, for both: HTML
size, build time (warm: the second build in this process) and, in headless
Chromium (second load, warm browser cache):

* **display**: navigation start to the layer drawn (``window.__bgeo.ready``
  for ours; for explore(), every GeoJSON path in the DOM);
* **longest task**: the longest main-thread task (``PerformanceObserver``
  ``longtask`` entries, registered before the page's scripts run): the page
  cannot answer a click or a key for that long;
* **blocking**: total blocking time (sum of each long task's time beyond
  50 ms, Lighthouse's TBT);
* **interactive**: time to interactive — the end of the last long task before a
  quiet second (no task over 50 ms), or the display time if later;
* **JS heap**: ``JSHeapUsedSize`` (Chrome DevTools Protocol) once drawn (the
  backing stores of typed arrays are not in it: the decoded geometry of the
  national commune map adds about 6 MB of Float64Array/Int32Array).

Then the same for the EPCI, département and région maps, with the page sizes
in the build's default mode (``assets="local"``: Leaflet in ``assets/``, not
counted) and with Leaflet inlined. Pages are displayed offline: explore()'s CDN
links are answered from the local Leaflet files, its other CDN assets refused
(they only style markers and popups), and no tiles are drawn (basemap none /
tiles=None).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import timed

import barometre_geo as bg
from barometre_geo import maps

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def synthetic(gdf, level: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(gdf)
    v = rng.beta(2, 2, n)
    nn = rng.integers(1, 60, n)
    sup = nn < 5
    return pd.DataFrame(
        {
            "indicator": "site",
            "level": level,
            "code": gdf["code"].to_numpy(),
            "value": np.where(sup, np.nan, v),
            "n": nn,
            "ci_low": np.where(sup, np.nan, np.clip(v - 0.08, 0, 1)),
            "ci_high": np.where(sup, np.nan, np.clip(v + 0.08, 0, 1)),
            "participation": rng.random(n),
            "suppressed": sup,
        }
    )


def warm(fn, repeat: int = 2):
    """``(result, seconds)`` of the last of ``repeat`` runs (the first ones warm up)."""
    seconds, out = timed(fn, repeat, stat="last")
    return out, seconds


_LONGTASKS = """
window.__bench_lt = [];
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (e) { window.__bench_lt.push([e.startTime, e.duration]); });
}).observe({type: "longtask", buffered: true});
"""


def display_time(ctx, path: Path, ready_js: str, timeout_ms: int = 180_000) -> dict:
    """Load ``path``; return display, longest task, blocking, interactive (s) and heap (MB)."""
    leaflet = resources.files("xstatic.pkg.leaflet").joinpath("data")
    page = ctx.new_page()
    page.add_init_script(_LONGTASKS)  # runs before the page's scripts, whatever its CSP
    cdp = ctx.new_cdp_session(page)
    cdp.send("Performance.enable")

    def route(r):
        url = r.request.url
        if url.startswith("file:"):
            return r.continue_()
        name = url.rsplit("/", 1)[-1]
        if "leaflet@" in url and name in ("leaflet.js", "leaflet.css"):
            ctype = "text/css" if name.endswith("css") else "application/javascript"
            return r.fulfill(body=leaflet.joinpath(name).read_bytes(), content_type=ctype)
        return r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), timeout=timeout_ms)
    # polled from here: wait_for_function evaluates a string, which the page's CSP refuses
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(f"!!({ready_js})") and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    shown = page.evaluate("performance.now()") / 1000
    # wait for a quiet second: no long task ending within the last 1,000 ms
    quiet = (
        "(() => { const lt = window.__bench_lt, now = performance.now();"
        " const last = lt.length ? Math.max(...lt.map(e => e[0] + e[1])) : 0;"
        " return now - last > 1000; })()"
    )
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(quiet) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    tasks = page.evaluate("window.__bench_lt")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    page.close()
    longest = max((d for _, d in tasks), default=0.0) / 1000
    blocking = sum(max(0.0, d - 50) for _, d in tasks) / 1000
    last_end = max((s + d for s, d in tasks), default=0.0) / 1000
    return {
        "display": shown,
        "longest": longest,
        "blocking": blocking,
        "interactive": max(shown, last_end),
        "heap": metrics.get("JSHeapUsedSize", float("nan")) / 1e6,
    }


def _explore(gdf, agg, out: Path, name: str) -> Path:
    merged = gdf.merge(agg[["code", "value", "n"]], on="code", how="left")
    m = merged.explore(column="value", tiles=None, scheme="UserDefined",
                       classification_kwds={"bins": [0.2, 0.4, 0.6, 0.8, 1.0]},
                       tooltip=["nom", "code", "value", "n"], cmap="Blues")  # fmt: skip
    path = out / f"explore.{name}.html"
    m.save(str(path))
    return path


_BASELINE = """
import json, sys, time
sys.path.insert(0, {src!r})
sys.path.insert(1, {bench!r})
import barometre_geo as bg
from barometre_geo import maps
from bench_maps import synthetic, warm
assert bg.__file__.startswith({src!r}), bg.__file__
t = bg.load_territories()
out = {{}}
for level in {levels!r}:
    agg = synthetic(t.level(level), level)
    def build(assets="local", agg=agg, level=level):
        return maps.indicator_map(agg, t, indicator="site", level=level, basemap="none",
                                  assets=assets)
    doc, seconds = warm(build)
    inline = build(assets="inline")
    path = doc.save({folder!r} + "/baseline." + level + ".html")
    out[level] = [str(path), doc.size, inline.size, seconds]
print(json.dumps(out))
"""


def baseline_pages(src: Path, out: Path, levels) -> dict:
    """Build the pages of the version in ``src`` (a child process importing it first)."""
    import json
    import subprocess
    import sys

    code = _BASELINE.format(src=str(src.resolve()), bench=str(Path(__file__).parent),
                            levels=list(levels), folder=str(out))  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"baseline {src} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-explore", action="store_true", help="skip GeoDataFrame.explore()")
    parser.add_argument(
        "--levels", nargs="*", default=["commune", "epci", "departement", "region"],
        help="levels to measure (default: all four)",
    )  # fmt: skip
    parser.add_argument(
        "--baseline", metavar="DIR", type=Path,
        help="source tree of another version to measure in the same run",
    )  # fmt: skip
    args = parser.parse_args()
    t = bg.load_territories()
    out = Path(tempfile.mkdtemp(prefix="bench_maps_"))
    rows = []  # (level, tool, local size, inline size, build, path, ready js)
    ready_ours = "window.__bgeo && window.__bgeo.ready"
    before = baseline_pages(args.baseline, out, args.levels) if args.baseline else {}
    for level in args.levels:
        if level in before:
            bpath, bsize, binline, bbuild = before[level]
            rows.append([level, "baseline (--baseline)", bsize, binline, bbuild, Path(bpath),
                         ready_ours])  # fmt: skip
        gdf = t.level(level)
        agg = synthetic(gdf, level)

        def ours(agg=agg, level=level, assets="local"):
            return maps.indicator_map(
                agg, t, indicator="site", level=level, basemap="none", assets=assets
            )

        doc, build = warm(ours)
        inline = ours(assets="inline")
        path = doc.save(out / f"ours.{level}.html")
        rows.append([level, "barometre_geo.maps", doc.size, inline.size, build, path,
                     ready_ours])  # fmt: skip
        if not args.no_explore:
            epath, ebuild = warm(lambda g=gdf, a=agg, lv=level: _explore(g, a, out, lv))
            size = epath.stat().st_size
            ready = ("document.readyState === 'complete' && document.querySelectorAll("
                     f"'path.leaflet-interactive').length >= {len(gdf)}")  # fmt: skip
            rows.append([level, "GeoDataFrame.explore()", size, size, ebuild, epath, ready])

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="bench_chromium_"),
            executable_path="/usr/bin/chromium",
            headless=True,
            args=ARGS,
            viewport={"width": 1100, "height": 860},
        )
        for row in rows:
            display_time(ctx, row[5], row[6])  # warm the browser cache
            row.append(display_time(ctx, row[5], row[6]))
        ctx.close()

    print("Same synthetic values, basemap none, headless Chromium (second load)")
    head = ("level", "tool", "page", "inline", "build", "display", "longest", "blocking",
            "interactive", "JS heap")  # fmt: skip
    print(f"{head[0]:12}{head[1]:24}" + "".join(f"{h:>12}" for h in head[2:]))
    for level, tool, size, inline, build, _, _, m in rows:
        print(
            f"{level:12}{tool:24}{size / 1e6:>9.2f} MB{inline / 1e6:>9.2f} MB{build:>10.2f} s"
            f"{m['display']:>10.2f} s{m['longest']:>10.2f} s{m['blocking']:>10.2f} s"
            f"{m['interactive']:>10.2f} s{m['heap']:>9.0f} MB"
        )
    print("\npage: as the build writes it (assets='local': Leaflet in assets/, not counted);")
    print("inline: Leaflet in the page. explore() always links its assets from CDNs.")
    print(f"Pages written to {out}")


if __name__ == "__main__":
    main()
