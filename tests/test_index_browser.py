"""The index and a territory page in a real browser (headless Debian chromium, Playwright).

Keyboard path of the index (skip link, tab stops to reach any theme), its search
box, no CSP violation; a territory page: maps drawn, print layout, height posted
to a framing page. Pages are written under tmp_path and loaded from file://;
http(s) requests are refused. Skipped without chromium/playwright unless
BAROMETRE_GEO_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _agg_tables import make_table
from test_maps_browser import browser  # noqa: F401  (the shared chromium fixture)

from barometre_geo.maps import MapRecord, write_index
from barometre_geo.maps._index import TerritoryLink
from barometre_geo.maps._places import all_places, parse_place
from barometre_geo.maps._territory import cell_index, territory_page

pytestmark = pytest.mark.browser

THEMES = [
    "Participation à l’enquête", "Profil du répondant", "Inclusion numérique", "Cybersécurité",
    "Communication avec les administrés", "Infrastructures numériques du territoire",
    "Outils numériques en interne", "Service public local de la donnée",
    "Démarches de dématérialisation", "Services en ligne pour les habitants",
    "Stratégie numérique", "Couverture des structures de mutualisation (OPSN)",
]  # fmt: skip
LEVELS = ["Communes", "EPCI à fiscalité propre", "Départements", "Régions"]


def _records() -> list[MapRecord]:
    """About the default build's index: 12 themes, 72 entries, 216 pages, 72 levels without."""
    recs = []
    for t, theme in enumerate(THEMES):
        for i in range(7 if 0 < t < 11 else 1):
            ident = f"ind{t:02d}_{i}"
            title = "Plan de continuité d’activité (PCA)" if ident == "ind03_0" else ident
            for j, level in enumerate(LEVELS):
                published = j > 0 or t == 0
                file = f"{ident}.{j}.html" if published else ""
                recs.append(MapRecord(file, f"{title} — {level}", theme, level, "42 %",
                                      "Question ?", entry=ident, entry_title=title,
                                      reason="" if published else "moins de 5 réponses",
                                      share=0.42))  # fmt: skip
    return recs


def _open(browser, path: Path):  # noqa: F811
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.abort() if r.request.url.startswith("http") else r.continue_())
    page.goto(path.as_uri())
    return page, errors


@pytest.fixture(scope="module")
def index_page(tmp_path_factory, territories):
    out = tmp_path_factory.mktemp("index-browser")
    links = [
        TerritoryLink(p.file, p.name, p.code, p.kind, p.region) for p in all_places(territories)
    ]
    return write_index(_records(), out, territories=links, description="Index de test")


def test_index_keyboard_path_reaches_every_theme_in_few_tab_stops(browser, index_page):  # noqa: F811
    page, errors = _open(browser, index_page)
    toc = page.eval_on_selector_all("#sommaire a", "els => els.map(a => a.getAttribute('href'))")
    assert len(toc) == len(THEMES) + 2  # the territories, the themes, the embedding notes
    reached, n = {}, 0
    while len(reached) < len(toc) and n < 60:
        page.keyboard.press("Tab")
        n += 1
        href = page.evaluate("document.activeElement.getAttribute('href')")
        if n == 1:
            assert href == "#sommaire"  # the skip link comes first
        if href in toc:
            reached[href] = n
    assert len(reached) == len(toc) and max(reached.values()) <= 30, reached
    # following an entry of the table of contents lands in the theme
    for target in (toc[1], toc[-2]):
        page.goto(index_page.as_uri())
        for _ in range(reached[target]):
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_function(f"location.hash === {target!r}")
        page.keyboard.press("Tab")
        inside = f"document.querySelector({target!r}).contains(document.activeElement)"
        assert page.evaluate(inside), target
    # the whole page has ~300 tab stops (map links, territories): the table of contents is the way
    total = page.evaluate("document.querySelectorAll('a, input, textarea, summary').length")
    assert total > 300
    assert errors == []  # no CSP violation, no script error


def test_index_search_filters_indicators_and_territories(browser, index_page):  # noqa: F811
    page, errors = _open(browser, index_page)
    page.wait_for_selector("#q", state="visible")  # shown by the script
    visible = "el => !el.closest('[hidden]') && el.offsetParent !== null"

    def shown(selector):
        return page.eval_on_selector_all(selector, f"els => els.filter({visible}).length")

    page.fill("#q", "rhone")
    page.wait_for_function("document.getElementById('q-status').textContent.length > 0")
    assert shown("li.entry") == 0
    names = page.eval_on_selector_all(
        "#territoires a", f"els => els.filter({visible}).map(a => a.textContent)"
    )
    assert "Rhône (69)" in names and "Auvergne-Rhône-Alpes" in names
    assert "Bretagne" not in names and "Gironde (33)" not in names
    assert shown("#theme-cybersecurite") == 0  # sections without a match are hidden
    page.fill("#q", "continuite PCA")  # accents and case ignored, every word
    page.wait_for_function("document.getElementById('q-status').textContent.startsWith('1 ')")
    assert shown("li.entry") == 1 and shown("#theme-cybersecurite") == 1
    page.fill("#q", "zzzz")
    page.wait_for_function("document.getElementById('q-status').textContent === 'Aucun résultat.'")
    page.fill("#q", "")
    page.wait_for_function("document.getElementById('q-status').textContent === ''")
    assert shown("li.entry") == 72 and shown("#territoires li") == 114
    assert errors == []


@pytest.fixture(scope="module")
def territory_file(tmp_path_factory, territories):
    table = make_table(territories, indicator="inclusion_cnfs", seed=18,
                       levels=("epci", "departement", "region"))  # fmt: skip
    out = tmp_path_factory.mktemp("territory-browser")
    page = territory_page(table, territories, place=parse_place("reg-53", territories),
                          cells=cell_index(table), k=5, k_sensitive=10, synthetic=True)  # fmt: skip
    return page.save(out)


def test_territory_page_draws_its_maps_and_prints(browser, territory_file, tmp_path):  # noqa: F811
    page, errors = _open(browser, territory_file)
    page.wait_for_selector("#imprimer", state="visible")
    # every <use> of the maps resolves to a drawn path of the page
    sizes = page.eval_on_selector_all(
        "svg.map use", "els => els.map(u => u.getBBox().width * u.getBBox().height)"
    )
    assert len(sizes) >= 4 and min(sizes) > 0
    assert page.evaluate("getComputedStyle(document.querySelector('nav')).display") != "none"
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('nav')).display") == "none"
    assert page.evaluate("getComputedStyle(document.getElementById('outils')).display") == "none"
    pdf = page.pdf(path=str(tmp_path / "territoire.pdf"))
    assert pdf[:4] == b"%PDF" and len(pdf) > 10_000
    page.emulate_media(media="screen")
    page.screenshot(path=str(tmp_path / "territoire.png"), full_page=True)
    assert errors == []


def test_territory_page_posts_its_height_to_the_host(browser, territory_file, tmp_path):  # noqa: F811
    host = tmp_path / "hote.html"
    host.write_text(
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Hôte</title></head>'
        "<body><script>window.heights = []; window.addEventListener('message', e => {"
        "if (e.data && e.data.type === 'barometre-geo-height') window.heights.push(e.data.height);"
        "});</script>"
        f'<iframe src="{territory_file.as_uri()}" title="Bretagne" width="100%" height="200">'
        "</iframe></body></html>",
        encoding="utf-8",
    )
    page, errors = _open(browser, host)
    page.wait_for_function("window.heights.length > 0", timeout=20_000)
    assert page.evaluate("Math.max(...window.heights)") > 1000  # the whole page, not 200 px
    assert errors == []
