"""The coverage map in a real browser (headless Debian chromium, Playwright), on the demo.

The legend fits at 1280×900 and 390×844 (no entry clipped, the map stays
visible), one view per structure (``?structure=<cle>``) with its prospect
download, and no two neighbouring structures share a colour — checked against
an adjacency computed independently from the dissolved territories.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
import test_maps_browser as _mb

import barometre_geo as bg
from barometre_geo.coverage.lists import write_lists
from barometre_geo.coverage.measure import coverage

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# the browser of the map tests (module-scoped chromium, pages refusing any http request)
browser, open_page, _screenshot = _mb.browser, _mb.open_page, _mb._screenshot


@pytest.fixture
def opener(request):
    return request.getfixturevalue("open_page")


SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
OISE = "illustratif-60-association"


@pytest.fixture(scope="module")
def site(territories, tmp_path_factory):
    result = coverage(bg.load_demo_structures(territories), territories)
    root = tmp_path_factory.mktemp("couverture")
    write_lists(result, root)
    page = result.to_html(root / "couverture.html", basemap="none", lists=True)
    return result, page


def _open(opener, page, size: str, query: str = ""):
    loaded = opener(page)
    w, h = SIZES[size]
    loaded.page.set_viewport_size({"width": w, "height": h})
    loaded.page.goto(page.as_uri() + query)
    _mb.wait_ready(loaded.page)
    return loaded


_BOXES = """() => {
  const r = e => { const b = e.getBoundingClientRect();
    return {l: b.left, t: b.top, r: b.right, b: b.bottom, w: b.width, h: b.height}; };
  const map = r(document.querySelector('.folium-map'));
  const legends = [...document.querySelectorAll('.bgeo-legend')].map(r);
  const controls = [...document.querySelectorAll('.leaflet-control')].map(r);
  return {map, legends, controls};
}"""

# every legend entry, scrolled into view in its list, lies entirely inside the list
_ENTRIES = """() => {
  const ul = document.querySelector('.bgeo-legend-long ul'), out = [];
  for (const li of ul.children) {
    li.scrollIntoView({block: 'nearest'});
    const a = li.getBoundingClientRect(), u = ul.getBoundingClientRect();
    out.push({label: li.textContent, inside: a.top >= u.top - 0.5 && a.bottom <= u.bottom + 0.5
      && a.left >= u.left - 0.5 && a.right <= u.right + 0.5, h: a.height});
  }
  ul.scrollTop = 0;
  return {entries: out, scrolls: ul.scrollHeight > ul.clientHeight};
}"""


def _inside(box, outer) -> bool:
    return (
        box["l"] >= outer["l"] - 0.5
        and box["r"] <= outer["r"] + 0.5
        and box["t"] >= outer["t"] - 0.5
        and box["b"] <= outer["b"] + 0.5
    )


def _covered_share(boxes) -> float:
    """Share of the map hidden by controls (sampled on a grid: boxes may overlap)."""
    m = boxes["map"]
    xs = np.linspace(m["l"] + 1, m["r"] - 1, 80)
    ys = np.linspace(m["t"] + 1, m["b"] - 1, 80)
    hidden = np.zeros((80, 80), dtype=bool)
    for c in boxes["controls"]:
        hidden |= ((xs >= c["l"]) & (xs <= c["r"]))[None, :] & ((ys >= c["t"]) & (ys <= c["b"]))[
            :, None
        ]
    return float(hidden.mean())


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_legend_fits_and_leaves_the_map_visible(site, opener, size, tmp_path):
    result, path = site
    loaded = _open(opener, path, size)
    page = loaded.page
    assert loaded.errors == [] and loaded.requests == []
    long = page.locator(".bgeo-legend-long")
    n_structures = int((result.structures["n_communes"] > 0).sum())
    toggle = long.locator(".bgeo-legend-toggle")
    assert f"({n_structures + 2})" in toggle.inner_text()  # + overlaps + uncovered
    if size == "phone":  # folded at first: a button, the map stays visible
        assert toggle.get_attribute("aria-expanded") == "false"
        boxes = page.evaluate(_BOXES)
        assert all(_inside(b, boxes["map"]) for b in boxes["legends"])
        assert max(b["h"] for b in boxes["legends"]) < 50
        assert _covered_share(boxes) < 0.45
        _screenshot(page, tmp_path, "couverture-phone-folded")
        toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    boxes = page.evaluate(_BOXES)
    # no legend runs past the map; its title stays on screen
    assert all(_inside(b, boxes["map"]) for b in boxes["legends"]), boxes
    assert toggle.is_visible()
    got = page.evaluate(_ENTRIES)
    assert len(got["entries"]) == n_structures + 2 and got["scrolls"]
    assert all(e["inside"] and e["h"] > 10 for e in got["entries"]), got
    # the map keeps most of its area at desktop size, a good part on a phone
    assert _covered_share(boxes) < (0.35 if size == "desktop" else 0.75)
    _screenshot(page, tmp_path, f"couverture-{size}")
    # the search box narrows the list
    long.locator(".bgeo-legend-search").fill("oise")
    shown = long.locator("li:not([hidden])").all_inner_texts()
    assert shown and all("oise" in t.lower() for t in shown)


def test_structure_view_lists_its_prospects_and_downloads_them(site, opener, tmp_path):
    result, path = site
    key = result.structures.set_index("id").loc[OISE, "cle"]
    loaded = _open(opener, path, "desktop", f"?structure={key}")
    page = loaded.page
    assert loaded.errors == [] and loaded.requests == []
    assert page.evaluate("window.__bgeo.view") == key
    panel = page.locator(".bgeo-view-panel")
    nom = result.structures.set_index("id").loc[OISE, "nom"]
    assert panel.locator("h2").inner_text() == nom
    assert page.locator("#bgeo-view-select").input_value() == key
    # its territory and its prospects are drawn over the veil, in the view's pane
    rows = result.nearby[result.nearby["structure"] == OISE]
    n_members = int(result.communes["structure_ids"].str.split().map(lambda s: OISE in s).sum())
    drawn = page.evaluate(
        "(c => [c._subset.length, c.options.pane, window.__bgeo.map.hasLayer(c)])"
        "(window.__bgeo.views.canvas)"
    )
    assert drawn == [n_members + len(set(rows["commune"])), "bgeoView", True]
    # the map is zoomed on the Oise
    lat, lng = page.evaluate("(c => [c.lat, c.lng])(window.__bgeo.map.getCenter())")
    assert 49.0 < lat < 49.8 and 1.6 < lng < 3.2
    table = panel.locator(".bgeo-view-table").first
    assert table.locator("tbody tr").count() == len(rows)
    first = table.locator("tbody tr").first.locator("td").first.inner_text()
    assert first == rows.iloc[0]["nom"]
    _screenshot(page, tmp_path, "couverture-vue-oise")
    # the download is the structure's prospect list
    with page.expect_download() as dl:
        panel.get_by_role("link", name="Ses prospects (CSV)").click()
    csv = pd.read_csv(dl.value.path(), dtype=str)
    assert dl.value.suggested_filename == f"{key}.csv"
    assert list(csv["Code INSEE"]) == list(rows["commune"])
    # a legend entry opens another structure's view and rewrites the URL
    other = result.structures.set_index("id").loc["illustratif-76-syndicat"]
    page.locator(f".bgeo-legend-pick[data-view='{other['cle']}']").click()
    assert page.evaluate("location.search") == f"?structure={other['cle']}"
    assert panel.locator("h2").inner_text() == other["nom"]
    # back to France; an unknown key says so
    page.select_option("#bgeo-view-select", "")
    assert page.evaluate("location.search") == "" and panel.is_hidden()
    page.goto(path.as_uri() + "?structure=inconnue")
    _mb.wait_ready(page)
    assert "inconnue dans cette carte" in page.locator(".bgeo-view-panel").inner_text()


def test_table_filter_and_csv_download(site, opener):
    result, path = site
    loaded = _open(opener, path, "desktop")
    page = loaded.page
    status = page.locator(".bgeo-pager-status")
    page.fill(".bgeo-table input", "14")  # a code: the Calvados, not every code holding 14
    calvados = int((result.communes["departement"] == "14").sum())
    assert status.inner_text().endswith(f"sur {calvados}")
    siren = result.communes.set_index("code").loc["14118", "siren"]  # Caen
    page.fill(".bgeo-table input", siren)
    assert page.locator(".bgeo-table tbody tr").count() == 1
    page.fill(".bgeo-table input", "caen la mer")  # an EPCI's name, accents and case aside
    caen = result.communes["epci_nom"].str.contains("Caen la Mer", na=False).sum()
    assert page.locator(".bgeo-table tbody tr").count() == caen
    with page.expect_download() as dl:
        page.click(".bgeo-download")
    csv = pd.read_csv(dl.value.path(), dtype=str)
    assert len(csv) == caen and set(csv["Code INSEE"]) == set(
        result.communes.loc[
            result.communes["epci_nom"].str.contains("Caen la Mer", na=False), "code"
        ]
    )


def _independent_neighbours(result) -> set[tuple[str, str]]:
    """Structures whose dissolved territories share a border line or overlap."""
    com = result.communes.set_index("code").geometry
    terr = {}
    for sid in result.structures.loc[result.structures["n_communes"] > 0, "id"]:
        codes = result.communes.loc[
            result.communes["structure_ids"].str.split().map(lambda s, i=sid: i in s), "code"
        ]
        terr[sid] = shapely.coverage_union_all(com.loc[codes].to_numpy())
    ids = sorted(terr)
    geoms = np.array([terr[i] for i in ids], dtype=object)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    line = shapely.relate_pattern(geoms[a], geoms[b], "****1****")
    overlap = shapely.relate_pattern(geoms[a], geoms[b], "2********")
    hit = line | overlap
    return {(ids[x], ids[y]) for x, y in zip(a[hit], b[hit], strict=True)}


def test_no_two_neighbouring_structures_share_a_colour_on_the_demo(site, opener):
    from barometre_geo.coverage.prospects import structure_labels

    result, path = site
    pairs = _independent_neighbours(result)
    assert pairs == set(
        zip(result.neighbours["structure_a"], result.neighbours["structure_b"], strict=True)
    )
    loaded = _open(opener, path, "desktop")
    # the fill of the drawn communes, per legend class (what the canvas paints)
    fills = loaded.page.evaluate(
        """() => { const l = window.__bgeo.layers[0], out = {};
             for (let i = 0; i < l.cls.length; i++) { const c = l.cls[i], f = l.paint.fillOf(i);
               if (c >= 0 && f.color !== 'pattern') out[l.legend.classes[c].label] = f.color; }
             return out; }"""
    )
    labels = structure_labels(result.structures)
    drawn = {i: fills[labels[i]] for i in labels if labels[i] in fills}
    clashes = [(a, b) for a, b in pairs if a in drawn and b in drawn and drawn[a] == drawn[b]]
    assert len(pairs) > 40 and clashes == []
    # the check can fail: colouring the same structures in palette order (the rule off)
    palette = sorted(set(drawn.values()))
    naive = {i: palette[k % len(palette)] for k, i in enumerate(sorted(drawn))}
    assert any(naive[a] == naive[b] for a, b in pairs if a in naive and b in naive)
