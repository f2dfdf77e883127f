"""The map page as a préfecture uses it, in headless chromium: insets, deep links, the
map-only variant, a cross-origin embed under a strict CSP with height messages, the phone
layout, French controls and the skip link.

Fixtures and helpers come from ``test_maps_browser`` (same chromium, no network: file://
pages, or two HTTP servers on 127.0.0.1 for the embed).
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from test_maps_browser import (
    _aggregates,
    _inside_point,
    _screenshot,
    browser,
    open_page,
    wait_ready,
)

from barometre_geo.maps import indicator_map
from barometre_geo.maps._embed import EMBED_SCRIPT, embed_script, embed_snippet

pytestmark = pytest.mark.browser
__all__ = ["browser", "open_page"]  # fixtures used here (imported, not redefined)


def _with_national(agg, value=0.31):
    row = agg.iloc[:1].copy()
    row[["level", "code", "value", "n", "ci_low", "ci_high", "suppressed"]] = [
        "france", "FR", value, 2000, value - 0.02, value + 0.02, False,
    ]  # fmt: skip
    import pandas as pd

    return pd.concat([agg, row], ignore_index=True)


@pytest.fixture(scope="module")
def site(territories, tmp_path_factory):
    """A folder of maps as the build writes it (assets in assets/): EPCI and départements."""
    folder = tmp_path_factory.mktemp("site")
    for level, seed in (("departement", 1), ("epci", 2)):
        agg = _with_national(_aggregates(territories.level(level), level, seed=seed))
        doc = indicator_map(agg, territories, indicator="site", level=level,
                            title=f"Site internet — {level}", basemap="none",
                            assets="local")  # fmt: skip
        doc.save(folder / f"site.{level}.html")
    (folder / EMBED_SCRIPT).write_text(embed_script(), encoding="utf-8")
    return folder


def _goto(open_page, path: Path, query: str = ""):
    """Open a page with a query string (file:// URLs keep it)."""
    loaded = open_page(path)
    if query:
        loaded.page.goto(path.as_uri() + query)
        wait_ready(loaded.page)
    return loaded


def _centre(page):
    return page.evaluate("(c => [c.lat, c.lng])(window.__bgeo.map.getCenter())")


def test_insets_draw_the_overseas_departements_and_ile_de_france(site, territories, open_page,
                                                                 tmp_path):  # fmt: skip
    loaded = open_page(site / "site.epci.html")
    page = loaded.page
    assert loaded.errors == [] and loaded.requests == []
    insets = page.evaluate(
        "window.__bgeo.insets.map(i => [i.id, i.layers[0].n, i.layers[0].canvas.nInView])"
    )
    assert [i[0] for i in insets] == ["idf", "971", "972", "973", "974", "976"]
    assert all(n > 0 and shown == n for _, n, shown in insets[1:])  # every feature in view
    assert insets[0][1] >= 60  # EPCI of Île-de-France and around it
    labels = page.locator(".bgeo-inset figcaption").all_inner_texts()
    assert labels == ["Île-de-France", "Guadeloupe", "Martinique", "Guyane", "La Réunion",
                      "Mayotte"]  # fmt: skip
    # hovering an inset shows the same tooltip as the main map
    code = territories.epci.loc[territories.epci["departement"] == "974", "code"].iloc[0]
    lat, lon = _inside_point(territories, "epci", code)
    x, y = page.evaluate(
        "([lat, lon]) => { const i = window.__bgeo.insets.find(i => i.id === '974');"
        " const p = i.map.latLngToContainerPoint([lat, lon]);"
        " const r = i.map.getContainer().getBoundingClientRect(); return [r.x + p.x, r.y + p.y]; }",
        [lat, lon],
    )
    page.mouse.move(x, y)
    name = territories.epci.set_index("code").loc[code, "nom"]
    from playwright.sync_api import expect

    expect(page.locator(".bgeo-tip")).to_contain_text(name, timeout=5000)
    _screenshot(page, tmp_path, "insets-epci")
    # keyboard: the inset's caption button shows La Réunion on the main map
    page.locator(".bgeo-inset-974 button").focus()
    page.keyboard.press("Enter")
    lat, lng = _centre(page)
    assert -21.5 < lat < -20.7 and 55.0 < lng < 56.0
    # the zone buttons still zoom the main map
    page.locator(".bgeo-zones button", has_text="Guyane").click()
    lat, lng = _centre(page)
    assert 1.9 < lat < 6.0 and -55.0 < lng < -51.3
    # no Île-de-France zoom on a département map (8 départements, each visible)
    dep = open_page(site / "site.departement.html").page
    drom = ["971", "972", "973", "974", "976"]
    assert dep.evaluate("window.__bgeo.insets.map(i => i.id)") == drom


def test_deep_links_open_the_map_on_a_territory(site, open_page):
    path = site / "site.departement.html"
    cases = {
        "?territoire=84": ((44.1, 46.9), (2.0, 7.2), "Auvergne-Rhône-Alpes (région 84)"),
        "?territoire=dep-69": ((45.4, 46.4), (4.2, 5.2), "Rhône (département 69)"),
        "?territoire=971": ((15.8, 16.6), (-61.9, -60.9), "Guadeloupe"),
    }
    for query, (lats, lngs, text) in cases.items():
        page = _goto(open_page, path, query).page
        lat, lng = _centre(page)
        assert lats[0] < lat < lats[1] and lngs[0] < lng < lngs[1], query
        status = page.locator("#bgeo-status").inner_text()
        assert text in status, status
    # a bare code that is also a département's: both readings said, with the other's link
    page = _goto(open_page, path, "?territoire=84").page
    assert "Vaucluse : ?territoire=dep-84" in page.locator("#bgeo-status").inner_text()
    # an unknown territory: France shown, and how to write one
    page = _goto(open_page, path, "?territoire=999").page
    status = page.locator("#bgeo-status").inner_text()
    assert "« 999 » introuvable" in status and "?territoire=dep-69" in status
    lat, lng = _centre(page)
    assert 44 < lat < 49 and 0 < lng < 5
    # the map alone: legend and source line kept, the table behind a link
    page = _goto(open_page, path, "?embed=carte&territoire=dep-69").page
    assert not page.locator(".bgeo-data").is_visible()
    assert page.locator(".bgeo-legend").is_visible() and page.locator(".bgeo-source").is_visible()
    assert page.locator(".bgeo-full-link a").is_visible()


class _Handler(http.server.SimpleHTTPRequestHandler):
    csp = ""

    def end_headers(self):
        if self.csp:
            self.send_header("Content-Security-Policy", self.csp)
        super().end_headers()

    def log_message(self, *args):  # quiet
        pass


def _serve(folder: Path, csp: str = ""):
    handler = functools.partial(type("H", (_Handler,), {"csp": csp}), directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_strict_csp_cross_origin_embed_fits_its_height(site, browser, tmp_path):
    maps, maps_url = _serve(site)
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    host, host_url = _serve(host_dir, csp=f"default-src 'self'; frame-src {maps_url}")
    try:
        full = embed_snippet("site.departement.html", "Carte complète", base_url=maps_url,
                             script_src="/js/integration.js")  # fmt: skip
        alone = embed_snippet("site.epci.html", "Carte seule", base_url=maps_url,
                              variant="carte", territoire="dep-69")  # fmt: skip
        assert "style=" not in full.html + alone.html and full.frame_src == maps_url
        (host_dir / "favicon.ico").write_bytes(b"")  # the browser asks for it
        (host_dir / "js").mkdir()
        (host_dir / "js" / "integration.js").write_text(embed_script(), encoding="utf-8")
        body = full.html + "\n" + alone.html.splitlines()[0]  # one host script for both
        (host_dir / "index.html").write_text(
            '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Préfecture</title>'
            f"</head><body><h1>Site de la préfecture</h1>{body}<p>Fin</p></body></html>",
            encoding="utf-8",
        )
        page = browser.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script(_VIOLATIONS)  # every frame, before its own scripts
        page.goto(host_url + "/index.html")
        iframes = page.locator("iframe[data-barometre-geo]")
        for i in range(2):  # loading="lazy": a frame loads once near the viewport
            iframes.nth(i).scroll_into_view_if_needed()
            iframes.nth(i).content_frame.locator(".bgeo-source").wait_for(timeout=60_000)
        frames = [f for f in page.frames if f.url.startswith(maps_url)]
        assert len(frames) == 2
        for frame in frames:
            wait_ready(frame)

        def fitted():
            heights = []
            for i, frame in enumerate(frames):
                inner = frame.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
                outer = iframes.nth(i).evaluate("f => f.getBoundingClientRect().height")
                heights.append((inner, outer))
            return heights

        page.wait_for_timeout(300)  # the messages travel between the frames
        for _ in range(30):
            heights = fitted()
            if all(abs(a - b) <= 2 for a, b in heights):
                break
            page.wait_for_timeout(200)
        assert all(abs(a - b) <= 2 for a, b in heights), heights
        assert heights[0][1] > 1200  # the whole page, its table included, not cut at 900 px
        assert heights[1][1] < heights[0][1]  # the map alone
        assert frames[1].evaluate("window.__bgeo.territoire.code") == "69"
        assert iframes.nth(0).evaluate("f => getComputedStyle(f).borderTopWidth") == "0px"
        violations = page.evaluate("window.__csp")
        for frame in frames:
            violations += frame.evaluate("window.__csp")
        assert violations == [] and errors == [], (violations, errors)
        _screenshot(page, tmp_path, "embed-strict-csp")
        # switched off: the former snippet's inline style is refused by the same policy
        (host_dir / "old.html").write_text(
            '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Ancien</title>'
            f'</head><body><iframe src="{full.url}" title="Carte" width="100%" height="720" '
            'style="border:0" loading="lazy"></iframe></body></html>',
            encoding="utf-8",
        )
        page.goto(host_url + "/old.html")
        page.wait_for_timeout(200)
        assert any("style-src" in v for v in page.evaluate("window.__csp"))
        page.close()
    finally:
        maps.shutdown()
        host.shutdown()


def test_phone_layout_french_controls_and_skip_link(site, browser, tmp_path):
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    try:
        page.goto((site / "site.epci.html").as_uri())
        wait_ready(page)
        boxes = page.evaluate(
            "Array.from(document.querySelectorAll('.bgeo-main .leaflet-control'))"
            ".filter(e => e.offsetParent).map(e => { const r = e.getBoundingClientRect();"
            " return [e.className, r.left, r.top, r.right, r.bottom]; })"
        )
        assert len(boxes) >= 3  # zoom, scale, attribution
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                apart = a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2]
                assert apart, (a, b)
        # the zone buttons are above the map, the insets and the legend under it: none
        # of them hides a territory
        main = page.locator(".bgeo-main").bounding_box()
        zones = page.locator(".bgeo-zones").bounding_box()
        assert zones["y"] + zones["height"] <= main["y"]
        bottom = main["y"] + main["height"]
        assert page.locator(".bgeo-inset-971").bounding_box()["y"] >= bottom
        assert page.locator(".bgeo-legend-slot .bgeo-legend").bounding_box()["y"] >= bottom
        _screenshot(page, tmp_path, "phone-epci")
        # French controls
        assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "Zoom avant"
        assert page.locator(".leaflet-control-zoom-out").get_attribute("title") == "Zoom arrière"
        # the first tab stop is the skip link; it leads to the table
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Aller au tableau des données"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "bgeo-table-h"
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert font.startswith("Marianne")
    finally:
        page.close()


def test_dsfr_style(territories, open_page, tmp_path):
    agg = _with_national(_aggregates(territories.regions, "region", seed=3))
    doc = indicator_map(agg, territories, indicator="site", level="region", basemap="none",
                        page_style="dsfr")  # fmt: skip
    loaded = open_page(doc.save(tmp_path / "dsfr.html"))
    page = loaded.page
    assert loaded.errors == []
    assert page.evaluate("getComputedStyle(document.querySelector('.bgeo-title')).color") == (
        "rgb(22, 22, 22)"
    )
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.bgeo-zones button')).color")
        == "rgb(0, 0, 145)"
    )
    colors = page.evaluate("window.__bgeo.layers[0].legend.classes.map(c => c.color)")
    from barometre_geo.maps import get_palette

    assert tuple(colors) == get_palette("DSFR").for_k(len(colors))
    _screenshot(page, tmp_path, "dsfr-region")


def test_national_value_and_textures_in_the_legend(site, open_page):
    page = open_page(site / "site.departement.html").page
    legend = page.locator(".bgeo-legend")
    assert "France : 31\u202f%" in legend.inner_text()
    # the mark sits in the row of the class holding 31 %
    row = legend.locator("li", has=page.locator(".bgeo-legend-nat")).inner_text()
    lg = page.evaluate("window.__bgeo.layers[0].legend")
    assert lg["classes"][lg["national"]["class"]]["label"] in row
    assert legend.locator(".bgeo-hatch").count() == 1
    style = page.evaluate("getComputedStyle(document.querySelector('.bgeo-hatch')).backgroundImage")
    assert "repeating-linear-gradient" in style
    # the source line under the map
    assert "traitements barometre-geo" in page.locator(".bgeo-source").inner_text()
    assert np.isfinite(lg["national"]["class"])
