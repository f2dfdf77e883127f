"""Territory pages (barometre_geo.maps._territory): places, SVG maps, content, secrecy."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from _agg_tables import make_table

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
