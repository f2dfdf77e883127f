"""Benchmark: barometre_geo.maps vs GeoDataFrame.explore() on the same synthetic values.

Run:  .venv/bin/python benchmarks/bench_maps.py [--no-explore]
(explore() needs matplotlib: .venv/bin/pip install matplotlib)

For the national commune-level map (34,875 polygons) prints, for both: HTML
size, build time (warm: the second build in this process) and display time in
headless Chromium (navigation start to the layer drawn: ``window.__bgeo.ready``
for ours; for explore(), every GeoJSON path in the DOM). Then the sizes of the
département and région maps. Pages are displayed offline: explore()'s CDN links
are answered from the local Leaflet files, its other CDN assets refused (they
only style markers and popups), and no tiles are drawn (basemap none / tiles=None).
"""

from __future__ import annotations

import argparse
import tempfile
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


def display_time(ctx, path: Path, ready_js: str, timeout_ms: int = 180_000) -> float:
    leaflet = resources.files("xstatic.pkg.leaflet").joinpath("data")
    page = ctx.new_page()

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
    page.wait_for_function(ready_js, timeout=timeout_ms, polling=50)
    t = page.evaluate("performance.now()") / 1000
    page.close()
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-explore", action="store_true", help="skip GeoDataFrame.explore()")
    args = parser.parse_args()
    t = bg.load_territories()
    out = Path(tempfile.mkdtemp(prefix="bench_maps_"))
    communes = t.communes
    agg = synthetic(communes, "commune")

    def ours():
        return maps.indicator_map(agg, t, indicator="site", level="commune", basemap="none")

    doc, ours_build = warm(ours)
    ours_path = doc.save(out / "ours.html")
    rows = {"barometre_geo.maps": [doc.size, ours_build, ours_path]}

    if not args.no_explore:
        gdf = communes.merge(agg[["code", "value", "n"]], on="code", how="left")

        def explore():
            m = gdf.explore(column="value", tiles=None, scheme="UserDefined",
                            classification_kwds={"bins": [0.2, 0.4, 0.6, 0.8, 1.0]},
                            tooltip=["nom", "code", "value", "n"], cmap="Blues")  # fmt: skip
            path = out / "explore.html"
            m.save(str(path))
            return path

        explore_path, explore_build = warm(explore)
        rows["GeoDataFrame.explore()"] = [explore_path.stat().st_size, explore_build, explore_path]

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="bench_chromium_"),
            executable_path="/usr/bin/chromium",
            headless=True,
            args=ARGS,
            viewport={"width": 1100, "height": 860},
        )
        ready = {
            "barometre_geo.maps": "window.__bgeo && window.__bgeo.ready",
            "GeoDataFrame.explore()": "document.readyState === 'complete' && "
            f"document.querySelectorAll('path.leaflet-interactive').length >= {len(communes)}",
        }
        for name, row in rows.items():
            display_time(ctx, row[2], ready[name])  # warm the browser cache
            row.append(display_time(ctx, row[2], ready[name]))
        ctx.close()

    print(f"National commune-level map ({len(communes):,} polygons), same synthetic values")
    print(f"{'':26}{'HTML size':>12}{'build (warm)':>15}{'display':>10}")
    for name, (size, build, _, disp) in rows.items():
        print(f"{name:26}{size / 1e6:>9.2f} MB{build:>13.2f} s{disp:>8.2f} s")
    print("\nOther levels (barometre_geo.maps, basemap none)")
    print(f"{'':26}{'inline':>12}{'cdn':>12}{'build':>10}")
    for level in ("departement", "region", "epci"):
        a = synthetic(t.level(level), level)
        sizes = []
        for assets in ("inline", "cdn"):
            d, dt = warm(
                lambda a=a, level=level, assets=assets: maps.indicator_map(
                    a, t, indicator="site", level=level, basemap="none", assets=assets
                )
            )
            sizes.append(d.size)
        print(f"{level:26}{sizes[0] / 1e3:>9.0f} kB{sizes[1] / 1e3:>9.0f} kB{dt:>8.2f} s")
    print(f"\nPages written to {out}")


if __name__ == "__main__":
    main()
