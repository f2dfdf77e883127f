"""The HTML maps in a real browser: headless Debian chromium driven by Playwright.

Pages are loaded from file:// with every http(s) request refused (no network).
Skipped when chromium or playwright is missing, unless
BAROMETRE_GEO_REQUIRE_BROWSER=1 (set by .ci/run), where that is a failure.
Screenshots go to tmp_path and, if BAROMETRE_GEO_ARTIFACTS is set, to
test-artifacts/ at the repository root.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from barometre_geo._format import _from_int
from barometre_geo.maps import LegendSpec, categorical_map, choropleth, indicator_map
from barometre_geo.maps._geometry import simplify_coverage

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REPO = Path(__file__).resolve().parents[1]


def _unavailable(reason: str):
    if os.environ.get("BAROMETRE_GEO_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (BAROMETRE_GEO_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1100, "height": 860},
        )
        yield ctx
        ctx.close()


def wait_ready(target, timeout_s: float = 60) -> None:
    """Wait until the map is drawn (``window.__bgeo.ready``), polling from here.

    ``wait_for_function`` evaluates its predicate with ``eval`` when it polls, which the
    page's Content-Security-Policy refuses; ``evaluate`` goes through the DevTools
    protocol and is not subject to it.
    """
    import time

    end = time.monotonic() + timeout_s
    while not target.evaluate("!!(window.__bgeo && window.__bgeo.ready)"):
        assert time.monotonic() < end, "the map never got ready"
        time.sleep(0.05)


class Loaded:
    def __init__(self, page, errors, requests, dialogs):
        self.page, self.errors, self.requests, self.dialogs = page, errors, requests, dialogs


@pytest.fixture
def open_page(browser):
    pages = []

    def _open(path: Path, *, frame: bool = False) -> Loaded:
        page = browser.new_page()
        errors, requests, dialogs = [], [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        def dialog(d):
            dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)

        def route(r):
            if r.request.url.startswith(("http:", "https:")):
                requests.append(r.request.url)
                r.abort()
            else:
                r.continue_()

        page.route("**/*", route)
        page.goto(path.as_uri())
        target = page.frames[1] if frame else page
        wait_ready(target)
        pages.append(page)
        return Loaded(page, errors, requests, dialogs)

    yield _open
    for p in pages:
        p.close()


def _screenshot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("BAROMETRE_GEO_ARTIFACTS"):
        out = REPO / "test-artifacts"
        out.mkdir(exist_ok=True)
        shutil.copy(path, out / path.name)
    return path


def _aggregates(gdf, level, seed=0):
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


def _hover(loaded, lat: float, lon: float, expect: str | None = None) -> str:
    """Move the mouse over (lat, lon) and return the tooltip text.

    ``expect``: a text the new tooltip must contain; waits for it (the previous
    tooltip stays visible until the canvas handles the move, so reading at once is racy).
    """
    page = loaded.page
    x, y = page.evaluate(
        "([lat, lon]) => { const p = window.__bgeo.map.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lat, lon],
    )
    box = page.locator(".folium-map").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    tip = page.locator(".bgeo-tip")
    tip.wait_for(state="visible", timeout=5000)
    if expect is not None:
        from playwright.sync_api import expect as pw_expect

        pw_expect(tip).to_contain_text(expect, timeout=5000)
    return tip.inner_text()


def _inside_point(territories, level: str, code: str) -> tuple[float, float]:
    gdf = territories.level(level)
    simplified = simplify_coverage(gdf.geometry.values, 0.01)
    pt = shapely.point_on_surface(simplified[np.flatnonzero(gdf["code"] == code)[0]])
    return pt.y, pt.x


@pytest.mark.slow
def test_commune_map_inline_offline(territories, open_page, tmp_path):
    communes = territories.communes
    doc = indicator_map(
        _aggregates(communes, "commune"), territories, indicator="site", level="commune",
        title="Site internet — communes", basemap="none",
    )  # fmt: skip
    path = doc.save(tmp_path / "communes.html")
    loaded = open_page(path)
    page = loaded.page
    assert loaded.errors == [] and loaded.requests == []
    assert page.evaluate("window.__bgeo.nFeatures") == len(communes) == 34875
    assert page.evaluate("window.__bgeo.layers[0].nDrawn") == 34875
    assert page.locator(".bgeo-legend").is_visible()
    assert "Secret statistique" in page.locator(".bgeo-legend").inner_text()  # no reason column
    assert page.locator(".bgeo-table tbody tr").count() == 50
    assert "Lignes 1 à 50 sur 34\u202f875" in page.locator(".bgeo-pager-status").inner_text()
    _screenshot(page, tmp_path, "map-commune")
    # borders are drawn only once zoomed in (sub-pixel at national scale)
    weight = "window.__bgeo.layers[0].weight()"
    assert page.evaluate(weight) == 0
    page.evaluate("window.__bgeo.map.setView([45.76, 4.84], 10, {animate: false})")
    assert page.evaluate(weight) == 0.5
    assert "Lyon" in _hover(loaded, 45.7578, 4.8351, expect="Lyon")
    _screenshot(page, tmp_path, "map-commune-lyon")


def test_departement_map_tooltip_table_and_zones(territories, open_page, tmp_path):
    agg = _aggregates(territories.departements, "departement", seed=1)
    agg.loc[agg["code"] == "33", ["suppressed", "value", "n"]] = [False, 0.4567, 42]
    agg.loc[agg["code"] == "24", ["suppressed", "value", "ci_low", "ci_high", "n"]] = [
        True, np.nan, np.nan, np.nan, 3,
    ]  # fmt: skip
    doc = indicator_map(agg, territories, indicator="site", level="departement",
                        title="Site internet — départements", basemap="none")  # fmt: skip
    loaded = open_page(doc.save(tmp_path / "dep.html"))
    page = loaded.page
    assert loaded.errors == [] and loaded.requests == []
    assert page.evaluate("window.__bgeo.nFeatures") == 101
    text = _hover(loaded, *_inside_point(territories, "departement", "33"), expect="Gironde")
    label = doc.classification.labels[int(doc.classification.assign([0.4567])[0])]
    for part in ("Gironde", "33", "45,7\u202f%", label, "Réponses", "42"):
        assert part in text
    text = _hover(loaded, *_inside_point(territories, "departement", "24"), expect="Dordogne")
    assert "Dordogne" in text and "secret statistique" in text
    _screenshot(page, tmp_path, "map-departement")
    # the data table: suppressed cells spelled out, sortable by value
    page.fill(".bgeo-table input", "dordogne")
    row = page.locator(".bgeo-table tbody tr").first.inner_text()
    assert "Dordogne" in row and "secret statistique" in row
    page.fill(".bgeo-table input", "")
    page.get_by_role("button", name="Valeur").click()
    assert page.locator("th[aria-sort=ascending]").count() == 1
    first = page.locator(".bgeo-table tbody tr").first.locator("td").nth(1).inner_text()
    lowest = agg.loc[~agg["suppressed"], "value"].min()
    assert first == f"{_from_int(round(lowest * 1000), 1)}\u202f%"
    # keyboard: jump to La Réunion with the zone buttons
    button = page.locator(".bgeo-zones button", has_text="La Réunion")
    button.focus()
    page.keyboard.press("Enter")
    lat, lng = page.evaluate("(c => [c.lat, c.lng])(window.__bgeo.map.getCenter())")
    assert -21.5 < lat < -20.7 and 55.0 < lng < 56.0
    _screenshot(page, tmp_path, "map-departement-reunion")


def test_region_map_escapes_script_names(territories, open_page, tmp_path):
    regions = territories.regions.copy()
    regions.loc[regions["code"] == "75", "nom"] = "<script>alert(1)</script>"
    regions.loc[regions["code"] == "76", "nom"] = '<img src=x onerror="alert(2)">'
    regions["part"] = np.linspace(0.05, 0.95, len(regions))
    doc = choropleth(regions, "part", title="<script>alert(3)</script>", basemap="none")
    loaded = open_page(doc.save(tmp_path / "reg.html"))
    page = loaded.page
    assert loaded.errors == [] and loaded.dialogs == []
    text = _hover(loaded, *_inside_point(territories, "region", "75"))
    assert "<script>alert(1)</script>" in text
    assert page.locator("h1").inner_text() == "<script>alert(3)</script>"
    page.fill(".bgeo-table input", "img")
    cell = page.locator(".bgeo-table tbody th").first.inner_text()
    assert cell == '<img src=x onerror="alert(2)">'
    assert page.locator(".bgeo-table tbody img").count() == 0
    assert loaded.dialogs == []
    _screenshot(page, tmp_path, "map-region")


def test_works_inside_an_iframe(territories, open_page, tmp_path):
    regions = territories.regions.copy()
    regions["part"] = np.linspace(0.05, 0.95, len(regions))
    choropleth(regions, "part", title="Dans un cadre", basemap="none").save(tmp_path / "m.html")
    parent = tmp_path / "parent.html"
    parent.write_text(
        '<!DOCTYPE html><html lang="fr"><body><h1>Site tiers</h1>'
        '<iframe src="m.html" title="Carte" width="900" height="640"></iframe></body></html>',
        encoding="utf-8",
    )
    loaded = open_page(parent, frame=True)
    frame = loaded.page.frames[1]
    assert loaded.errors == []
    assert frame.evaluate("window.__bgeo.nFeatures") == 18
    assert frame.locator(".bgeo-legend").is_visible()
    _screenshot(loaded.page, tmp_path, "map-iframe")


def test_layer_toggle_toggles_its_legend(territories, open_page, tmp_path):
    d = territories.departements.copy()
    d["structure"] = d["region"].map({"84": "OPSN A", "93": "OPSN B", "76": "OPSN C"})
    d["hors"] = d["structure"].isna()
    doc = categorical_map(
        d, "structure", title="Couverture", highlight="hors", highlight_label="Non couvert",
        legend=LegendSpec(title="Structure", no_data_label="Non couverte"), basemap="osm",
    )  # fmt: skip
    loaded = open_page(doc.save(tmp_path / "cov.html"))
    page = loaded.page
    # tiles are refused here (no network): the only errors allowed are failed tile loads
    assert all("ERR_FAILED" in e for e in loaded.errors)
    assert loaded.requests and all("tile.openstreetmap.org" in u for u in loaded.requests)
    assert page.locator(".bgeo-legend").count() == 2
    box = page.get_by_role("checkbox", name="Non couvert")
    box.focus()
    page.keyboard.press("Space")
    assert page.locator(".bgeo-legend").count() == 1
    assert page.locator(".bgeo-legend-title").all_inner_texts() == ["Structure"]
    box.click()
    assert page.locator(".bgeo-legend").count() == 2
    _screenshot(page, tmp_path, "map-categorical")


def test_js_formatting_matches_python(open_page, territories, tmp_path):
    regions = territories.regions.copy()
    regions["part"] = 0.5
    doc = choropleth(regions, "part", title="T", basemap="none")
    loaded = open_page(doc.save(tmp_path / "f.html"))
    cases = [(0, 1), (5, 1), (-32, 1), (1234567, 2), (200, 0), (-1, 3), (100, 2)]
    js = loaded.page.evaluate("(cs) => cs.map(([i, d]) => window.__bgeo.format(i, d))", cases)
    assert js == [_from_int(i, d) for i, d in cases]


def test_local_assets_folder_works_offline_and_in_an_iframe(territories, open_page, tmp_path):
    """assets="local": Leaflet once in assets/ beside the pages, the pages link it."""
    regions = territories.regions.copy()
    regions["part"] = np.linspace(0.05, 0.95, len(regions))
    site = tmp_path / "site"
    doc = choropleth(regions, "part", title="Local", basemap="none", assets="local")
    doc.save(site / "carte.html")
    assert "<script>" not in doc.html.split("leaflet.js")[0][-200:]  # linked, not inlined
    assert "'self'" in doc.csp and "unsafe-inline" not in doc.csp
    assert (site / "assets").is_dir()
    parent = site / "parent.html"
    parent.write_text(
        '<!DOCTYPE html><html lang="fr"><body><iframe src="carte.html" title="Carte" '
        'width="900" height="640"></iframe></body></html>',
        encoding="utf-8",
    )
    for path, frame in ((site / "carte.html", False), (parent, True)):
        loaded = open_page(path, frame=frame)
        target = loaded.page.frames[1] if frame else loaded.page
        assert loaded.errors == [] and loaded.requests == []
        assert target.evaluate("window.__bgeo.nFeatures") == 18
        assert target.locator(".bgeo-legend").is_visible()
        # Leaflet's CSS came from assets/ (its rules apply: the zoom control is styled)
        assert (
            target.evaluate(
                "getComputedStyle(document.querySelector('.leaflet-control-zoom')).position"
            )
            != "static"
        )
