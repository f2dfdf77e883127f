"""Territory pages (barometre_geo.maps._territory): places, SVG maps, content, secrecy."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from _agg_tables import make_table
from test_maps_browser import browser  # noqa: F401  (the shared chromium fixture)

from barometre_geo.errors import UnknownValueError
from barometre_geo.maps._places import all_places, parse_place
from barometre_geo.maps._svgmap import area_geometry
from barometre_geo.maps._territory import cell_index, map_classes, territory_page

# ---------------------------------------------------------------- places


def test_places_read_codes_names_and_refuse_ambiguity(territories):
    assert parse_place("reg-84", territories).name == "Auvergne-Rhône-Alpes"
    assert parse_place("dep-69", territories).key == parse_place("rhone", territories).key
    assert parse_place("69", territories).name == "Rhône"  # not a région's code
    assert parse_place("2a", territories).key == "dep-2A"
    # an overseas département is its own région: one page
    assert {parse_place(x, territories).key for x in ("971", "reg-01", "Guadeloupe")} == {"971"}
    assert parse_place("Ain", territories).key == "dep-01"  # the département, not région 01
    with pytest.raises(
        UnknownValueError,
        match=r"'84' is ambiguous: région Auvergne-Rhône-Alpes \(reg-84\) or département "
        r"Vaucluse \(dep-84\)\. Write reg-84 or dep-84",
    ):
        parse_place("84", territories)
    with pytest.raises(UnknownValueError, match=r"Unknown territory 'Bretgne'.*bretagne.*reg-84"):
        parse_place("Bretgne", territories)
    places = all_places(territories)
    assert len(places) == 13 + 96 + 5 and len({p.file for p in places}) == 114
    assert parse_place("dep-2A", territories).file == "territoire.dep-2a.html"


# ---------------------------------------------------------------- SVG geometry


@pytest.fixture(scope="module")
def table(territories):
    # seed 0 (reference of 1 January 2025): Bretagne published, two of its départements
    # suppressed (values leaked)
    return make_table(territories, levels=("epci", "departement", "region"), leak=True, seed=0)


def test_area_geometry_clips_to_the_area(territories):
    place = parse_place("dep-69", territories)
    epci = territories.communes.loc[territories.communes["departement"] == "69", "epci"]
    codes = sorted(set(epci.dropna().astype(str)))
    straddling = {"200071389"} & set(codes) or {codes[0]}
    geo = area_geometry(territories, kind=place.kind, code=place.code, levels=("epci",),
                        members={"epci": codes}, clip={"epci": straddling})  # fmt: skip
    assert set(geo.features["epci"]) == set(codes)
    width, height = 1000, geo.height
    for d in geo.features["epci"].values():
        xs, ys = _points(d)
        # inside the frame: clipped features never leave it
        assert (
            xs.min() >= -2 and xs.max() <= width + 2 and ys.min() >= -2 and ys.max() <= height + 2
        )
    assert geo.outline and geo.context


def _points(d: str):
    """Absolute points of path data written by path_data (M x y then l dx dy …)."""
    xs, ys = [], []
    for ring in re.findall(r"M[^M]+", d):
        nums = [int(v) for v in re.findall(r"-?\d+", ring)]
        x, y = nums[0], nums[1]
        xs.append(x)
        ys.append(y)
        for dx, dy in zip(nums[2::2], nums[3::2], strict=True):
            x, y = x + dx, y + dy
            xs.append(x)
            ys.append(y)
    return np.asarray(xs), np.asarray(ys)


# ---------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def bretagne(table, territories):
    cells = cell_index(table)
    pages = {("cyber_pca", "departement", None): "cyber_pca.departement.html"}
    place = parse_place("reg-53", territories)
    return territory_page(table, territories, place=place, cells=cells, k=5, k_sensitive=10,
                          synthetic=True, pages=pages)  # fmt: skip


def test_page_shows_the_territory_next_to_france(bretagne, table):
    html = bretagne.html
    assert bretagne.place.file == "territoire.reg-53.html" and bretagne.n_indicators == 1
    assert "<h1>Bretagne</h1>" in html and "DONNÉES SYNTHÉTIQUES" in html
    rows = table[(table["by"] == "total")].set_index(["level", "code"])
    reg, fr = rows.loc[("region", "53")], rows.loc[("france", "FR")]
    assert not reg["suppressed"] and not fr["suppressed"]
    assert f">{_pct(reg['value'])}</td>" in html and f">{_pct(fr['value'])}</td>" in html
    assert html.index('<th scope="row">Bretagne</th>') < html.index('<th scope="row">France')
    assert 'href="cyber_pca.departement.html?territoire=reg-53"' in html


def _pct(v: float) -> str:
    return f"{100 * v:.1f}".replace(".", ",").removesuffix(",0") + "\u202f%"


def test_suppressed_cells_never_show_a_value(bretagne, table):
    # the table leaks values into suppressed rows: the page must not carry them
    sub = table[(table["by"] == "total") & table["level"].isin(["departement", "epci"])]
    codes = set(table.loc[table["level"] == "departement", "code"].astype(str))
    bzh = sub[sub["code"].astype(str).isin({"22", "29", "35", "56"} & codes) & sub["suppressed"]]
    html = bretagne.html
    assert len(bzh) == 2 and bzh["value"].notna().all()
    for value in bzh["value"]:
        assert _pct(value) not in html
    # listed as not publishable, hatched on the map
    assert "Départements : 2 publié(s) sur 4 (2 sans valeur publiable)" in html
    assert html.count('fill="url(#bg-sup)"/>') >= 2


def test_maps_use_the_national_classes_and_colours(bretagne, table, territories):
    html = bretagne.html
    cls, colors = map_classes(table, indicator="cyber_pca", level="departement", option=None,
                              classification=None, fmt=None or _share())  # fmt: skip
    figure = re.search(r'<svg class="map".*?</svg>', html, re.S).group(0)
    svg = ET.fromstring(figure.replace('href="', 'xlink="'))
    fills = {u.get("xlink")[1:]: u.get("fill") for u in svg.iter("use")}
    rows = table[(table["level"] == "departement") & (table["by"] == "total")]
    rows = rows.set_index(rows["code"].astype(str))
    for dep in ("22", "29", "35", "56"):
        r = rows.loc[dep]
        want = (
            "url(#bg-sup)"
            if r["suppressed"]
            else colors[int(cls.assign(np.array([r["value"]]))[0])]
        )
        assert fills[f"g-departement-{dep}"] == want, dep
    # the map is an image with a text alternative; every use points at a defined path
    assert svg.get("role") == "img" and "Bretagne" in svg.get("aria-label")
    defined = set(re.findall(r'<path id="([^"]+)"', html))
    assert set(fills) <= defined


def _share():
    from barometre_geo.maps import NumberFormat

    return NumberFormat.for_share()


def test_page_is_self_contained_under_its_csp_and_printable(bretagne):
    html = bretagne.html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?:', html)  # nothing external
    assert " style=" not in html  # no inline style attribute (CSP)
    assert "@media print" in html and 'id="imprimer"' in html
    snippet = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)
    assert "territoire.reg-53.html" in snippet and "style" not in snippet
    assert "--base-url" in html  # no public address known: says how to give it


def test_clipped_epci_are_said_so(territories):
    table = make_table(territories, indicator="inclusion_cnfs", suppress=0.0, seed=3,
                       levels=("epci", "departement", "region"))  # fmt: skip
    page = territory_page(table, territories, place=parse_place("dep-69", territories),
                          cells=cell_index(table), k=5, k_sensitive=10)  # fmt: skip
    # a map of the EPCI of the Rhône, those straddling the département cut at its edge
    assert page.n_maps == 1 and "par EPCI" in page.html
    assert "sont coupés à sa limite" in page.html


# ---------------------------------------------------------------- modelled figures (demo)


@pytest.fixture(scope="module")
def demo_model(tmp_path_factory, territories):
    """The demo's published table with its modelled columns (two indicators, ~10 s)."""
    import barometre_geo as bg

    demo = bg.load_demo(cache_dir=tmp_path_factory.mktemp("demo"))
    covered = set(bg.load_demo_structures(territories).members["commune"])
    return bg.aggregate(
        demo, level=["epci", "departement", "region", "france"], territories=territories,
        indicators=["inclusion_cnfs", "cyber_pca"], estimates="model", covered=covered,
    )  # fmt: skip


def _model_page(table, territories, key):
    place = parse_place(key, territories)
    return territory_page(table, territories, place=place, cells=cell_index(table), k=5,
                          k_sensitive=10, synthetic=True)  # fmt: skip


def _row(table, level, code, indicator):
    rows = table[(table["by"] == "total") & table["option"].isna()]
    rows = rows[(rows["level"] == level) & (rows["indicator"] == indicator)]
    return rows.set_index(rows["code"].astype(str)).loc[code]


def _section(html: str, indicator: str) -> str:
    return re.search(rf'<article class="ind" id="i-{indicator}".*?</article>', html, re.S).group(0)


def _cells(html: str, name: str) -> list[str]:
    """Texts of the cells of the row headed ``name`` in the modelled tables of ``html``."""
    tables = re.findall(r'<table class="model">.*?</table>', html, re.S)
    for t in tables:
        m = re.search(rf'<th scope="row">{re.escape(name)}</th>(.*?)</tr>', t, re.S)
        if m:
            return [_unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", m.group(1), re.S)]
    raise AssertionError(f"no modelled row for {name}")


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


@pytest.mark.slow
def test_departement_page_gives_its_modelled_figures(demo_model, territories):
    from barometre_geo.maps._modelled import tier_text, vs_text

    page = _model_page(demo_model, territories, "dep-33")
    html = _section(page.html, "inclusion_cnfs")
    fmt = _share()
    assert "estimation modélisée : Gironde, Nouvelle-Aquitaine et France</caption>" in html
    heads = (("departement", "33", "Gironde"), ("region", "75", "Nouvelle-Aquitaine"),
             ("france", "FR", "France"))  # fmt: skip
    for level, code, name in heads:
        r = _row(demo_model, level, code, "inclusion_cnfs")
        assert r["model_publication"] == "value"
        value, ci, vs, tier = _cells(html, name)
        assert value == fmt.format(r["model_value"])
        assert ci == f"{fmt.format(r['model_ci_low'])} – {fmt.format(r['model_ci_high'])}"
        assert tier == tier_text("value") == "valeur et intervalle"
        want = "référence de la comparaison" if level == "france" else vs_text(
            r["model_vs_france"], "value")  # fmt: skip
        assert vs == want and (level == "france" or vs.startswith(("Signif", "Non disting")))
    # the EPCI of the département, each at its tier: value, class only, or counted as secret
    codes = sorted(set(territories.communes.loc[territories.communes["departement"] == "33",
                                                "epci"].dropna()))  # fmt: skip
    epci = territories.epci.set_index("code")["nom"]
    tiers = {c: _row(demo_model, "epci", c, "inclusion_cnfs") for c in codes}
    seen = {t["model_publication"] for t in tiers.values()}
    assert {"value", "class", "hidden"} <= seen, seen  # the demo's Gironde has all three
    for c, r in tiers.items():
        if r["model_publication"] == "hidden":
            assert f'<th scope="row">{_escape(epci[c])}</th>' not in html.split("<details")[1]
            continue
        value, ci, vs, tier = _cells(html, _escape(epci[c]))
        assert tier == tier_text(r["model_publication"])
        if r["model_publication"] == "value":
            assert value == fmt.format(r["model_value"]) and ci and vs != "non publiée"
        else:  # class only: the class of the modelled map, nothing more
            lo = 100 * r["model_class_low"]
            assert value.endswith(f"{lo + 20:.0f}\u202f%") and str(int(lo)) in value
            assert ci == "" and vs == "non publiée"
    n_hidden = sum(r["model_publication"] == "hidden" for r in tiers.values())
    assert f"{n_hidden} secrète(s)" in html


@pytest.mark.slow
def test_departement_map_draws_the_modelled_figures_with_their_cue(demo_model, territories):
    """The EPCI map of a département page: modelled classes, pale when unsure, secret hatched."""
    from barometre_geo.maps._palettes import get_palette
    from barometre_geo.protection.modelled import MODEL_SHARE_BREAKS, classes_of

    html = _section(_model_page(demo_model, territories, "dep-33").html, "inclusion_cnfs")
    fig = re.search(r"<figure>(?:(?!</figure>).)*?[eE]stimation modélisée par EPCI.*?</figure>",
                    html, re.S)  # fmt: skip
    assert fig, "no modelled map"
    fig = fig.group(0)
    assert (
        "Estimation incertaine (couleur pâle" in fig and "par EPCI (estimation directe)" not in html
    )
    drawn = {m.group(1): (m.group(2), m.group(3))
             for m in re.finditer(r'<use href="#g-epci-(\w+)" fill="([^"]+)"'
                                  r'(?: fill-opacity="([^"]+)")?/>', fig)}  # fmt: skip
    colors = get_palette("Blues", kind="sequential").for_k(len(MODEL_SHARE_BREAKS))
    seen = set()
    for code, (fill, opacity) in drawn.items():
        r = _row(demo_model, "epci", code, "inclusion_cnfs")
        tier = r["model_publication"]
        seen.add(tier)
        if tier == "hidden":
            assert fill == "url(#bg-sup)", code
            continue
        i = int(classes_of(r["model_class_low"] + 1e-6, "binomial"))
        assert fill == colors[i], code
        lo, hi = (classes_of(r[c], "binomial") for c in ("model_ci_low", "model_ci_high"))
        unsure = tier == "class" or lo != hi
        assert (opacity is not None) == unsure, (code, tier, opacity)
    assert {"value", "class", "hidden"} <= seen, seen


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _texts(column) -> list[str]:
    """Decode a text column of a map's payload (``_layers.text_column``/``coded_text_column``)."""
    from barometre_geo.maps._geometry import decode_vlq

    if isinstance(column, list):
        return column
    if "sep" in column:
        return column["s"].split(column["sep"])
    codes = np.cumsum(decode_vlq(column["i"]))
    return [column["dict"][i] for i in codes]


@pytest.mark.slow
def test_coarsened_departement_reads_as_on_the_modelled_map(demo_model, territories):
    """Corse-du-Sud's cyber_pca: class only, worded and classed as the national map."""
    import json

    from barometre_geo.maps import indicator_map

    r = _row(demo_model, "departement", "2A", "cyber_pca")
    assert r["model_publication"] == "class" and np.isnan(r["model_value"])
    doc = indicator_map(demo_model, territories, indicator="cyber_pca", level="departement",
                        basemap="none")  # fmt: skip
    data = json.loads(re.search(r'id="bgeo-data">(.*?)</script>', doc.html, re.S).group(1))
    layer = data["layers"][0]
    i = list(territories.departements["code"]).index("2A")
    from barometre_geo.maps._geometry import decode_vlq

    cls = int(decode_vlq(layer["cls"])[i])
    fields = {f["label"]: f for f in layer["fields"]}
    on_map = {"class": layer["legend"]["classes"][cls]["label"],
              "tier": _texts(fields["Publication"]["data"])[i],
              "vs": _texts(fields["Comparaison avec la France"]["data"])[i]}  # fmt: skip
    value, ci, vs, tier = _cells(_section(_model_page(demo_model, territories, "dep-2A").html,
                                          "cyber_pca"), "Corse-du-Sud")  # fmt: skip
    assert (value, tier, vs) == (on_map["class"], on_map["tier"], on_map["vs"])
    assert ci == "" and "classe seule" in tier and value.startswith("de 0")


def _modelled_map(html: str, indicator: str) -> dict[str, str]:
    """EPCI code → fill on the modelled EPCI map of ``indicator``'s section."""
    fig = re.search(r"<figure>(?:(?!</figure>).)*?[eE]stimation modélisée par EPCI.*?</figure>",
                    _section(html, indicator), re.S).group(0)  # fmt: skip
    return dict(re.findall(r'<use href="#g-epci-(\w+)" fill="([^"]+)"', fig))


@pytest.mark.slow
def test_coarsened_figures_never_show_what_their_tier_hides(demo_model, territories, monkeypatch):
    """A table leaking numbers into class-only and hidden rows: the pages show none of them."""
    from barometre_geo.maps import _territory_model
    from barometre_geo.maps._modelled import secret_label

    leaky = demo_model.copy()
    corse = ((leaky["indicator"] == "cyber_pca") & (leaky["level"] == "departement")
             & (leaky["code"] == "2A") & (leaky["by"] == "total")).to_numpy()  # fmt: skip
    leaky.loc[corse, "model_publication"] = "hidden"  # as if the flip rule hid its class
    coarse = leaky["model_publication"].isin(["class", "hidden"]).to_numpy()
    hidden = (leaky["model_publication"] == "hidden").to_numpy()
    leaky.loc[coarse, ["model_value", "model_ci_low", "model_ci_high"]] = (0.7777, 0.6111, 0.9222)
    leaky.loc[coarse, "model_vs_france"] = "above"
    leaky.loc[hidden, "model_class_low"] = 0.6
    leaks = ("77,8", "61,1", "92,2")
    for key in ("dep-33", "dep-2A"):  # EPCI hidden and class only; a class-only département
        html = _model_page(leaky, territories, key).html
        assert not any(x in html for x in leaks), key
        if key == "dep-33":  # the small map draws the hidden EPCI secret, not in their class
            fills = _modelled_map(html, "inclusion_cnfs")
            hidden_here = [c for c in fills if _row(leaky, "epci", c, "inclusion_cnfs")[
                "model_publication"] == "hidden"]  # fmt: skip
            assert hidden_here and all(fills[c] == "url(#bg-sup)" for c in hidden_here)
    value, ci, vs, tier = _cells(_section(html, "cyber_pca"), "Corse-du-Sud")
    assert (value, ci, vs) == (secret_label(10).lower(), "", "non publiée")
    assert tier == "secret (la classe pourrait trahir une réponse)"
    # the rule switched off (every tier read in full): the leaked numbers are published
    monkeypatch.setattr(_territory_model, "PUBLISHED", dict.fromkeys(
        ("value", "class", "hidden"), _territory_model.PUBLISHED["value"]))  # fmt: skip
    fills = _modelled_map(_model_page(leaky, territories, "dep-33").html, "inclusion_cnfs")
    assert all(fills[c] != "url(#bg-sup)" for c in hidden_here)
    html = _model_page(leaky, territories, "dep-2A").html
    assert all(x in html for x in leaks)
    assert _cells(_section(html, "cyber_pca"), "Corse-du-Sud")[0] == "77,8\u202f%"


@pytest.mark.slow
def test_modelled_tables_are_accessible_and_the_page_keeps_its_csp(demo_model, territories):
    html = _model_page(demo_model, territories, "dep-33").html
    tables = re.findall(r'<table class="model">.*?</table>', html, re.S)
    assert len(tables) >= 3  # cyber_pca, inclusion_cnfs, its EPCI
    for t in tables:
        assert re.search(r"<caption[^>]*>[^<]+</caption>", t)
        ths = re.findall(r"<th(?:\s[^>]*)?>", t)  # not <thead>
        assert ths and all('scope="col"' in th or 'scope="row"' in th for th in ths)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and " style=" not in html
    assert "Les <strong>estimations modélisées</strong>" in html and "modèle multiniveau" in html


@pytest.mark.slow
@pytest.mark.browser
def test_modelled_tables_in_the_browser(demo_model, territories, browser, tmp_path):  # noqa: F811
    """No CSP violation nor script error; the EPCI's modelled table opens and reads aloud."""
    path = _model_page(demo_model, territories, "dep-33").save(tmp_path)
    from test_index_browser import _open

    page, errors = _open(browser, path)
    page.wait_for_selector("#imprimer", state="visible")  # the page's script ran
    details = page.locator("details.model").first
    table = details.locator("table.model")
    assert not table.is_visible()
    details.locator("summary").click()
    assert table.is_visible()
    caption = table.locator("caption").inner_text()
    assert caption.endswith("estimation modélisée par EPCI")
    headers = table.locator("thead th").all_inner_texts()
    assert headers == ["Territoire", "Estimation modélisée", "IC 95 % (modèle)",
                       "Comparaison avec la France", "Publication"]  # fmt: skip
    assert table.locator("tbody th[scope=row]").count() == table.locator("tbody tr").count() > 5
    page.close()
    assert errors == []
