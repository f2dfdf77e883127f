"""Unit tests of barometre_geo.maps (no browser: see test_maps_browser.py)."""

from __future__ import annotations

import doctest
import importlib
import json
import os
import re

import mapclassify
import numpy as np
import pandas as pd
import pytest
import shapely

from barometre_geo import maps
from barometre_geo.errors import SchemaError, UnknownValueError
from barometre_geo.maps import (
    Basemap,
    Field,
    LegendSpec,
    MapRecord,
    MapStyle,
    NumberFormat,
    categorical_map,
    choropleth,
    classify,
    classify_pooled,
    get_palette,
    indicator_map,
    list_palettes,
    map_path,
    write_index,
)
from barometre_geo.maps._breaks import data_classes
from barometre_geo.maps._files import atomic_write
from barometre_geo.maps._geometry import decode_vlq, encode_geometry, encode_vlq, simplify_coverage
from barometre_geo.maps._options import parse_assets

MODULES = [
    "maps._classify",
    "maps._palettes",
    "_format",
    "maps._geometry",
    "maps._options",
    "maps._document",
    "maps._files",
    "maps._layers",
    "maps._render",
    "maps._choropleth",
    "maps._indicator",
    "maps._index",
    "maps._places",
    "maps._svgmap",
    "maps._territory",
    "maps._territory_model",
    "maps._modelled",
    "maps._generalise",
    "maps._gpkg_meta",
    "maps._gpkg_docs",
    "maps._qgis",
    "_show_versions",
    "build.indicator",
    "maps._assets",
    "maps._breaks",
    "maps._captions",
    "maps._embed",
    "maps._layout",
    "maps._style",
]


def payload(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="bgeo-data">(.*?)</script>', html, re.S)
    assert m, "no data block in the page"
    return json.loads(m.group(1))


def aggregates(gdf, *, level, rng, indicator="site", k_sup=5):
    n = len(gdf)
    v = rng.beta(2, 2, n)
    nn = rng.integers(1, 60, n)
    sup = nn < k_sup
    return pd.DataFrame(
        {
            "indicator": indicator,
            "level": level,
            "code": gdf["code"].to_numpy(),
            "value": np.where(sup, np.nan, v),
            "n": nn,
            "ci_low": np.where(sup, np.nan, np.clip(v - 0.1, 0, 1)),
            "ci_high": np.where(sup, np.nan, np.clip(v + 0.1, 0, 1)),
            "participation": rng.random(n),
            "suppressed": sup,
        }
    )


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    mod = importlib.import_module(f"barometre_geo.{name}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# ---------------------------------------------------------------- classification


def test_default_share_breaks_are_fixed():
    c = classify([0.05, 0.31, 0.47, 0.52, 0.98, np.nan])
    assert c.scheme == "user_defined"
    assert c.bins == (0.2, 0.4, 0.6, 0.8, 1.0)
    assert c.lower == 0.0
    assert c.counts == (1, 1, 2, 0, 1)
    assert c.labels[0] == "de 0\u202f% à 20\u202f%"
    assert c.labels[-1] == "plus de 80\u202f% à 100\u202f%"


def test_default_for_means_is_fisher_jenks():
    c = classify([1.0, 1.1, 1.2, 3.0, 3.1, 5.0], k=3, fmt=NumberFormat(share=False, unit=""))
    assert c.scheme == "fisher_jenks"
    assert c.bins == (1.2, 3.1, 5.0)


@pytest.mark.filterwarnings("ignore:Numba not installed")
@pytest.mark.parametrize(
    "scheme", ["quantiles", "equal_interval", "fisher_jenks", "natural_breaks"]
)
def test_schemes_match_mapclassify(scheme):
    y = np.random.default_rng(3).gamma(2.0, 1.0, 300)
    c = classify(y, scheme=scheme, k=4, fmt=NumberFormat(share=False, unit=""))
    cls = {
        "quantiles": mapclassify.Quantiles,
        "equal_interval": mapclassify.EqualInterval,
        "fisher_jenks": mapclassify.FisherJenks,
    }
    if scheme in cls:
        assert np.allclose(c.bins, cls[scheme](y, k=4).bins)
    assert c.k == 4 and sum(c.counts) == 300
    assert (c.assign(y) == mapclassify.UserDefined(y, bins=list(c.bins)).yb).all()


def test_natural_breaks_is_reproducible_and_leaves_global_rng_alone():
    y = np.random.default_rng(4).random(200)
    np.random.seed(123)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    a = classify(y, scheme="natural_breaks", k=5)
    b = classify(y, scheme="natural_breaks", k=5)
    assert a.bins == b.bins
    assert (np.random.get_state()[1] == before).all()  # noqa: NPY002


def test_fisher_jenks_on_many_values_is_deterministic_and_close():
    y = np.random.default_rng(5).normal(size=20_000)
    a = classify(y, scheme="fisher_jenks", k=5, fmt=NumberFormat(share=False, unit=""))
    b = classify(y, scheme="fisher_jenks", k=5, fmt=NumberFormat(share=False, unit=""))
    assert a.bins == b.bins and a.bins[-1] == y.max()
    assert sum(a.counts) == 20_000


def test_user_defined_and_k():
    c = classify([1, 5, 9], scheme="user_defined", bins=[3, 6, 10], fmt=NumberFormat(share=False))
    assert c.counts == (1, 1, 1) and c.k == 3
    assert classify([0.1, 0.9], k=4).bins == (0.25, 0.5, 0.75, 1.0)


def test_labels_gain_decimals_when_bounds_would_print_alike():
    c = classify([0.1, 0.10002, 0.5], scheme="user_defined", bins=[0.10001, 0.10004, 1.0])
    assert c.labels == (
        "de 0\u202f% à 10,001\u202f%",
        "plus de 10,001\u202f% à 10,004\u202f%",
        "plus de 10,004\u202f% à 100\u202f%",
    )


def test_unknown_scheme_lists_valid_ones():
    with pytest.raises(UnknownValueError, match=r"Valid schemes: quantiles, equal_interval"):
        classify([1, 2], scheme="jenks")


def test_user_defined_errors():
    with pytest.raises(SchemaError, match=r"needs bins: pass bins=\[upper bound"):
        classify([0.1], scheme="user_defined")
    with pytest.raises(SchemaError, match=r"must increase strictly.*Sort them"):
        classify([0.1], scheme="user_defined", bins=[0.5, 0.2])
    with pytest.raises(SchemaError, match=r"above the last bin.*Add an upper bound"):
        classify([0.1, 2.0], scheme="user_defined", bins=[0.5, 1.0])


def test_share_k_out_of_range():
    with pytest.raises(UnknownValueError, match=r"between 2 and 9.*Pass k=2"):
        classify([0.1], k=12)


def test_non_numeric_and_empty_values():
    with pytest.raises(SchemaError, match=r"non-numeric.*Pass numbers"):
        classify(["a", "b"])
    with pytest.warns(maps.ClassificationWarning, match=r"No finite value.*NaN means no value"):
        c = classify([np.nan, np.nan], scheme="quantiles")
    assert c.k == 0 and c.counts == () and c.assign([np.nan]).tolist() == [-1]


def test_few_distinct_values_warn_and_reduce_k():
    with pytest.warns(maps.ClassificationWarning, match=r"Pass a smaller k"):
        c = classify([0.0, 1.0, 1.0, 0.0], scheme="quantiles", k=5)
    assert c.k == 2 and c.counts == (2, 2)


def test_assign_outside_range_raises():
    c = classify([0.1, 0.2, 0.3], scheme="quantiles", k=2)
    with pytest.raises(SchemaError, match=r"outside the classification's range.*classify_pooled"):
        c.assign([0.9])


def test_pooled_matches_mapclassify_pooled():
    rng = np.random.default_rng(6)
    y = np.column_stack([rng.random(50), rng.random(50) + 0.5])
    ours = classify_pooled([y[:, 0], y[:, 1]], scheme="quantiles", k=4)
    ref = mapclassify.Pooled(y, classifier="Quantiles", k=4)
    assert np.allclose(ours[0].bins, ref.global_classifier.bins)
    for o, r in zip(ours, ref.col_classifiers, strict=True):
        assert o.pooled and list(o.counts) == r.counts.tolist()


def test_pooled_handles_missing_values_and_lengths():
    a, b = classify_pooled([[0.1, np.nan], [0.9, 0.5, 0.3]], scheme="equal_interval", k=2)
    assert a.bins == b.bins == (0.5, 0.9) and a.counts == (1, 0) and b.counts == (2, 1)
    with pytest.raises(SchemaError, match=r"at least one column"):
        classify_pooled([])


# ---------------------------------------------------------------- palettes, format


def test_every_palette_is_well_formed():
    names = list_palettes()
    assert {"Blues", "YlGnBu", "RdBu", "PuOr", "OkabeIto"} <= set(names)
    for name in names:
        pal = get_palette(name)
        assert pal.kind in ("sequential", "diverging", "qualitative")
        lo, hi = pal.k_range
        assert lo <= 3 and hi >= 8
        for k, colors in pal.colors.items():
            assert len(colors) == k and len(set(colors)) == k
            assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colors)
        if pal.kind != "qualitative":
            assert pal.colorblind_safe
    assert get_palette("Blues").colors[5][0] == "#eff3ff"  # ColorBrewer Blues, 5 classes
    # maps start one step darker: the 5 darkest of the 6-colour scheme
    assert get_palette("Blues").for_k(5) == get_palette("Blues").colors[6][1:]


def test_palette_errors():
    with pytest.raises(UnknownValueError, match=r"Valid palettes: .*Blues"):
        get_palette("viridis")
    with pytest.raises(UnknownValueError, match=r"Valid qualitative palettes: Dark2"):
        get_palette("Blues", kind="qualitative")
    with pytest.raises(UnknownValueError, match=r"Use k between 1 and 9"):
        get_palette("Blues").for_k(12)
    with pytest.raises(UnknownValueError, match=r"Valid kinds: sequential"):
        list_palettes("pastel")


@pytest.mark.parametrize(
    ("value", "fmt", "text"),
    [
        (0.2, NumberFormat.for_share(), "20\u202f%"),
        (0.082, NumberFormat.for_share(), "8,2\u202f%"),
        (0.08249, NumberFormat.for_share(2), "8,25\u202f%"),
        (-0.032, NumberFormat(share=True, decimals=1, unit="pt"), "\u22123,2\u202fpt"),
        (12345.678, NumberFormat(share=False, unit="jours"), "12\u202f345,7\u202fjours"),
        (-0.0001, NumberFormat.for_share(), "0\u202f%"),
        (float("nan"), NumberFormat.for_share(), ""),
    ],
)
def test_french_number_format(value, fmt, text):
    assert fmt.format(value) == text


# ---------------------------------------------------------------- geometry


def test_vlq_round_trip():
    v = np.random.default_rng(7).integers(-(2**29), 2**29, 5000)
    v[:5] = [0, -1, 1, 15, -16]
    assert (decode_vlq(encode_vlq(v)) == v).all()
    with pytest.raises(SchemaError, match=r"too large.*coarser quantum"):
        encode_vlq([2**31])
    with pytest.raises(SchemaError, match=r"Invalid character"):
        decode_vlq("A*")


def test_encode_geometry_reconstructs_quantised_rings():
    poly = shapely.Polygon(
        [(0, 0), (4, 0), (4, 4), (0, 4)], holes=[[(1, 1), (2, 1), (2, 2), (1, 2)]]
    )
    multi = shapely.MultiPolygon([shapely.box(10, 10, 11, 11), shapely.box(12, 10, 13, 11)])
    enc = encode_geometry([poly, multi, shapely.Polygon()], quantum=0.5)
    d = decode_vlq(enc.coords).reshape(-1, 2).cumsum(axis=0) * 0.5
    assert decode_vlq(enc.feature_rings).tolist() == [2, 2, 0]
    assert decode_vlq(enc.ring_sizes).tolist() == [4, 4, 4, 4]
    assert d[:4].tolist() == [[0, 0], [0, 4], [4, 4], [4, 0]]  # (lat, lon), closing vertex dropped
    assert enc.n_features == 3 and enc.n_vertices == 16


def test_encode_geometry_rejects_points():
    with pytest.raises(SchemaError, match=r"Point part.*Keep only"):
        encode_geometry([shapely.Point(0, 0)])


def test_coverage_simplify_keeps_a_valid_coverage_and_caches(territories):
    deps = territories.departements
    geoms = deps.geometry.values[deps["region"].to_numpy() == "84"]
    s = simplify_coverage(geoms, 0.01)
    assert shapely.coverage_is_valid(s)
    assert shapely.get_num_coordinates(s).sum() < shapely.get_num_coordinates(geoms).sum() / 2
    assert simplify_coverage(geoms, 0.01) is s  # cached
    assert simplify_coverage(geoms, 0) is not s


def test_invalid_coverage_error(monkeypatch):
    def boom(*args, **kwargs):
        raise shapely.errors.GEOSException("TopologyException: side location conflict")

    monkeypatch.setattr(shapely, "coverage_simplify", boom)
    with pytest.raises(SchemaError, match=r"do not form a valid coverage.*coverage_clean"):
        simplify_coverage([shapely.box(0, 0, 1, 1)], 0.123)


# ---------------------------------------------------------------- options, paths


def test_basemaps():
    plan = Basemap().tiles()
    assert "GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2" in plan["url"] and plan["origin"] == "data.geopf.fr"
    assert "IGN" in plan["attribution"]
    assert Basemap("osm").tiles()["origin"] == "tile.openstreetmap.org"
    assert Basemap("cartodb", api_key="k").tiles()["origin"] == "{s}.basemaps.cartocdn.com"
    with pytest.raises(UnknownValueError, match=r"needs an API key: pass Basemap"):
        Basemap("cartodb").tiles()
    with pytest.raises(UnknownValueError, match=r"Valid basemaps: plan_ign, osm, cartodb, none"):
        Basemap("google")
    with pytest.raises(UnknownValueError, match=r"Valid modes: inline, local, cdn"):
        parse_assets("intranet")
    assert parse_assets(" Local ") == "local"


def test_option_errors():
    with pytest.raises(SchemaError, match=r"must be ≥ 0.*Use 0 to skip"):
        MapStyle(simplify=-1).tolerance(10)
    with pytest.raises(SchemaError, match=r"must be > 0.*Try 1e-4"):
        MapStyle(quantum=0).grid(10)
    with pytest.raises(SchemaError, match=r"needs column=\(low_column, high_column\)"):
        Field("ci_low", "IC", kind="range")
    with pytest.raises(UnknownValueError, match=r"Valid kinds: text, number, range, class"):
        Field("x", "X", kind="percent")
    assert LegendSpec(min_n=5).suppressed == "Effectif insuffisant (moins de 5 réponses)"


@pytest.mark.parametrize(
    "name", ["../evil", "..", "/etc/passwd", "a/b", "sub\\x", "C:\\maps\\x", "C:x", "///", "…"]
)
def test_map_path_refuses_escaping_names(tmp_path, name):
    with pytest.raises(SchemaError, match=r"(plain file name|no letter or digit)"):
        map_path(tmp_path, name)


def test_map_path_slugs_inside_the_folder(tmp_path):
    p = map_path(tmp_path, "Équipement numérique.région")
    assert p.parent == tmp_path.resolve() and p.name == "equipement-numerique.region.html"


def test_atomic_write_leaves_no_temp_file(tmp_path):
    path = atomic_write(tmp_path / "a.html", "<p>é</p>")
    assert path.read_text(encoding="utf-8") == "<p>é</p>"
    with pytest.raises(TypeError):
        atomic_write(tmp_path / "b.html", 123)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html"]
    assert atomic_write(tmp_path / "c.png", b"\x89PNG").read_bytes() == b"\x89PNG"  # bytes as is


def test_atomic_write_gives_the_usual_file_mode(tmp_path):
    # a préfecture copies the page to its web server: it must be world-readable (umask 022)
    old = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "a.html", "x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


# ---------------------------------------------------------------- choropleth


@pytest.fixture
def regions(territories):
    r = territories.regions.copy()
    r["part"] = np.linspace(0.05, 0.95, len(r))
    return r


def test_choropleth_page(regions):
    regions.loc[0, "nom"] = "<script>alert(1)</script>"
    doc = choropleth(regions, "part", title="Titre <b>&", description="Une description.")
    html = doc.html
    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html
    assert "<title>Titre &lt;b&gt;&amp;</title>" in html
    assert "<script>alert(1)</script>" not in html
    assert "user-scalable=no" not in html  # zooming stays allowed (WCAG 1.4.4)
    assert 'http-equiv="Content-Security-Policy"' in html and "'unsafe-inline'" not in doc.csp
    assert "img-src data: https://data.geopf.fr" in doc.csp
    assert not re.search(r"<script[^>]+src=", html) and "<link" not in html  # inline mode
    data = payload(html)
    layer = data["layers"][0]
    assert data["basemap_label"] == "Plan IGN"
    assert [z["id"] for z in data["zones"]] == ["metropole", "971", "972", "973", "974", "976"]
    assert decode_vlq(layer["cls"]).tolist() == doc.classification.assign(regions["part"]).tolist()
    assert [f["label"] for f in layer["fields"]] == ["Nom", "Code", "Titre <b>&", "Classe"]
    names = layer["fields"][0]["data"]
    assert names["s"].split(names["sep"])[0] == "<script>alert(1)</script>"
    assert layer["legend"]["classes"][0]["color"] == get_palette("Blues").for_k(5)[0]
    assert doc.n_features == 18 and doc.size == len(html.encode())
    assert "srcdoc=" in doc._repr_html_() and "<script>" not in doc._repr_html_()


def test_choropleth_cdn_and_no_basemap(regions):
    doc = choropleth(regions, "part", title="T", basemap="none", assets="cdn")
    assert 'integrity="sha384-' in doc.html and "cdn.jsdelivr.net/npm/leaflet@1.9.3" in doc.html
    assert "geopf" not in doc.html and "img-src data:;" in doc.csp + ";"
    assert "https://cdn.jsdelivr.net" in doc.csp


def test_choropleth_suppressed_and_missing(regions):
    regions["sup"] = False
    regions.loc[[1, 2], "sup"] = True
    regions.loc[3, "part"] = np.nan
    doc = choropleth(regions, "part", title="T", suppressed="sup", basemap="none")
    layer = payload(doc.html)["layers"][0]
    cls = decode_vlq(layer["cls"])
    assert cls[1] == cls[2] == -2 and cls[3] == -1
    assert layer["legend"]["suppressed"]["n"] == 2 and layer["legend"]["no_data"]["n"] == 1
    value = layer["fields"][2]["data"]
    assert value[1] is None and value[2] is None  # never shipped


NAME = Field("nom", "N", kind="text")


def test_choropleth_reprojects_and_errors(regions):
    doc = choropleth(regions.to_crs(2154), "part", title="T", basemap="none")
    assert payload(doc.html)["zones"][0]["bounds"][0][0] == pytest.approx(41.3, abs=0.1)
    with pytest.raises(SchemaError, match=r"needs a GeoDataFrame.*Pass e.g."):
        choropleth(pd.DataFrame(regions.drop(columns="geometry")), "part", title="T")
    with pytest.raises(SchemaError, match=r"'nope' not found.*Pass an existing column"):
        choropleth(regions, "nope", title="T")
    with pytest.raises(SchemaError, match=r"no CRS.*set_crs"):
        choropleth(regions.set_crs(None, allow_override=True), "part", title="T")
    with pytest.raises(SchemaError, match=r"must be numeric.*categorical_map"):
        choropleth(regions, "nom", title="T")
    with pytest.raises(SchemaError, match=r"first field must be the territory's name"):
        choropleth(regions, "part", title="T", fields=[Field("part", "V")])
    with pytest.raises(SchemaError, match=r"reads column 'x'.*Fix the Field"):
        choropleth(regions, "part", title="T", fields=[NAME, Field("x")])
    with pytest.raises(SchemaError, match=r"'nom' must be numeric.*Field\(kind='text'\)"):
        choropleth(regions, "part", title="T", fields=[NAME, Field("nom")])


def test_choropleth_without_values_is_an_empty_page(regions):
    regions["part"] = np.nan
    doc = choropleth(regions, "part", title="T")
    assert doc.empty and "Aucune valeur publiable" in doc.html
    assert "application/json" not in doc.html


def test_diverging_palette(regions):
    regions["gap"] = np.linspace(-0.2, 0.2, len(regions))
    c = classify(regions["gap"], scheme="user_defined", bins=[-0.1, -0.02, 0.02, 0.1, 0.2])
    doc = choropleth(regions, "gap", title="Écart", classification=c, palette="RdBu")
    colors = [k["color"] for k in payload(doc.html)["layers"][0]["legend"]["classes"]]
    assert colors == list(get_palette("RdBu").for_k(5))


# ---------------------------------------------------------------- indicator_map


def test_indicator_map(territories):
    rng = np.random.default_rng(8)
    agg = aggregates(territories.departements, level="departement", rng=rng)
    agg.loc[0, ["suppressed", "value"]] = [True, 0.77]  # a leaked value must not be shown
    nat = pd.DataFrame([{"indicator": "site", "level": "france", "code": "FR", "value": 0.523,
                         "n": 900, "ci_low": 0.5, "ci_high": 0.55, "participation": 0.3,
                         "suppressed": False}])  # fmt: skip
    doc = indicator_map(pd.concat([agg, nat]), territories, indicator="site", level="Départements")
    assert doc.national == "52,3\u202f%" and "Valeur nationale : 52,3\u202f%." in doc.html
    layer = payload(doc.html)["layers"][0]
    labels = [f["label"] for f in layer["fields"]]
    assert labels == ["Nom", "Code", "Valeur", "Classe", "Réponses",
                      "Intervalle de confiance à 95 %", "Participation"]  # fmt: skip
    cls = decode_vlq(layer["cls"])
    assert cls[0] == -2 and layer["fields"][2]["data"][0] is None
    assert (cls == -2).sum() == agg["suppressed"].sum()
    # no reason column: the label never claims "too few answers" (issue 12)
    assert layer["legend"]["suppressed"]["label"] == "Secret statistique"
    assert layer["legend"]["suppressed"]["short"] == "secret statistique"
    counted = pd.concat([agg.assign(reason=np.where(agg["suppressed"], "small_n", None)), nat])
    doc = indicator_map(counted, territories, indicator="site", level="departement")
    assert _legend(doc)["suppressed"]["label"] == "Effectif insuffisant (moins de 5 réponses)"
    mixed = counted.assign(reason=counted["reason"].where(counted.index != 0, "complementary"))
    doc = indicator_map(mixed, territories, indicator="site", level="departement")
    assert _legend(doc)["suppressed"]["label"] == "Secret statistique"


def test_indicator_map_draws_territories_without_rows(territories):
    agg = aggregates(territories.regions, level="region", rng=np.random.default_rng(9)).iloc[:3]
    agg["suppressed"] = False
    agg["value"] = 0.5
    doc = indicator_map(agg, territories.regions, indicator="site", level="region")
    cls = decode_vlq(payload(doc.html)["layers"][0]["cls"])
    assert len(cls) == 18 and (cls == -1).sum() == 15


def test_indicator_map_empty_page(territories):
    agg = aggregates(territories.regions, level="region", rng=np.random.default_rng(10))
    agg["suppressed"], agg["value"] = True, np.nan
    doc = indicator_map(agg, territories, indicator="site", level="region", min_n=5)
    assert doc.empty and "18 territoire(s) — secret statistique." in doc.html  # no reason column
    counted = agg.assign(reason="small_n")
    doc = indicator_map(counted, territories, indicator="site", level="region", min_n=5)
    assert (
        doc.empty and "18 territoire(s) — effectif insuffisant (moins de 5 réponses)." in doc.html
    )
    none = indicator_map(agg, territories, indicator="autre", level="region")
    assert none.empty and "aucune réponse" in none.html


def test_indicator_map_errors(territories):
    agg = aggregates(territories.regions, level="region", rng=np.random.default_rng(11))
    with pytest.raises(SchemaError, match=r"lacks column.*participation.*barometre_geo.aggregate"):
        indicator_map(
            agg.drop(columns="participation"), territories, indicator="site", level="region"
        )
    with pytest.raises(SchemaError, match=r"appear twice.*Keep one row per territory"):
        indicator_map(pd.concat([agg, agg]), territories, indicator="site", level="region")
    bad = agg.assign(code=agg["code"].where(agg.index > 0, "99"))
    with pytest.raises(SchemaError, match=r"not in the territories.*same COG year"):
        indicator_map(bad, territories, indicator="site", level="region")
    opts = pd.concat([agg.assign(option="a"), agg.assign(option="b")])
    with pytest.raises(SchemaError, match=r"one row per option.*Pass option="):
        indicator_map(opts, territories, indicator="site", level="region")
    assert not indicator_map(opts, territories, indicator="site", level="region", option="a").empty
    with pytest.raises(UnknownValueError, match=r"Valid levels"):
        indicator_map(agg, territories, indicator="site", level="canton")


def test_indicator_map_reads_aggregate_tables(territories):
    """Overall rows of aggregate() have by="total"; a headline sits next to its options."""
    from _agg_tables import make_table

    table = make_table(territories, indicator="strategie_approche", levels=("region",),
                       options=("aucune",), suppress=0, seed=12)  # fmt: skip
    doc = indicator_map(table, territories, indicator="strategie_approche", level="region")
    rows = table[(table["level"] == "region") & (table["by"] == "total") & table["option"].isna()]
    # default classes: the headline's published values (one level here), rounded bounds
    expected = data_classes([rows["value"]], levels=("region",))
    assert doc.classification == expected and sum(expected.counts) == len(rows)
    assert payload(doc.html)["layers"][0]["fields"][2]["data"] == [
        int(v) for v in NumberFormat().to_int(rows["value"])
    ]
    national = table[(table["level"] == "france") & table["option"].isna()]["value"].iloc[0]
    assert doc.national == NumberFormat().format(national)
    one = indicator_map(table, territories, indicator="strategie_approche", level="region",
                        option="aucune")  # fmt: skip
    assert one.national != doc.national


def _legend(doc) -> dict:
    return payload(doc.html)["layers"][0]["legend"]


def test_indicator_map_quotes_the_sensitive_threshold_of_the_table(territories):
    from _agg_tables import make_table

    # cyber_pca is sensitive: the legend quotes k_sensitive from the table's attrs
    table = make_table(territories, indicator="cyber_pca", levels=("region",), seed=13,
                       attrs={"k": 5, "k_sensitive": 12})  # fmt: skip
    doc = indicator_map(table, territories, indicator="cyber_pca", level="region")
    # a sensitive indicator: « secret statistique », never "too few answers" (issue 12: 17 of
    # the 35 hidden cells of such a map had 10 respondents or more)
    assert _legend(doc)["suppressed"]["label"] == "Secret statistique"
    assert doc.title == "Plan de continuité d’activité (PCA) — régions"
    # the static map and the GeoPackage say the same
    from barometre_geo.maps._meta import indicator_context

    ctx = indicator_context(table, territories, indicator="cyber_pca", what="test")
    assert ctx.suppressed_label == _legend(doc)["suppressed"]["label"]
    # a non-sensitive indicator quotes k; an explicit min_n wins
    other = make_table(territories, indicator="inclusion_cnfs", levels=("region",), seed=14,
                       attrs={"k": 7, "k_sensitive": 12})  # fmt: skip
    doc = indicator_map(other, territories, indicator="inclusion_cnfs", level="region")
    assert _legend(doc)["suppressed"]["label"] == "Effectif insuffisant (moins de 7 réponses)"
    doc = indicator_map(other, territories, indicator="inclusion_cnfs", level="region", min_n=3)
    assert _legend(doc)["suppressed"]["label"] == "Effectif insuffisant (moins de 3 réponses)"
    # without attrs: 5 and 10, as the other outputs
    table.attrs = {}
    everything_hidden = table.assign(suppressed=True, value=np.nan)
    doc = indicator_map(everything_hidden, territories, indicator="cyber_pca", level="region")
    assert doc.empty and "territoire(s) — secret statistique." in doc.html


def test_indicator_map_formats_a_mean_with_its_unit(territories):
    from _agg_tables import make_table

    ind = "outils_materiel_reconditionne"  # a mean, in %
    table = make_table(territories, indicator=ind, levels=("departement",), mean=True, seed=15)
    doc = indicator_map(table, territories, indicator=ind, level="departement")
    assert doc.classification.scheme == "fisher_jenks" and doc.classification.bins[-1] > 1
    value = payload(doc.html)["layers"][0]["fields"][2]
    assert value["fmt"] == NumberFormat(share=False, decimals=1, unit="%").to_js()
    rows = table[(table["level"] == "france") & table["option"].isna()]
    assert doc.national == NumberFormat(share=False, unit="%").format(rows["value"].iloc[0])


def test_indicator_map_outside_the_catalogue_reads_the_table(territories):
    rng = np.random.default_rng(16)
    agg = aggregates(territories.regions, level="region", rng=rng, indicator="mon_indicateur")
    agg["value"] = agg["value"] * 40  # a mean of days, say
    agg["statistic"] = "mean"
    agg.loc[[0, 1], ["suppressed", "value"]] = [True, np.nan]
    agg["reason"] = np.where(agg["suppressed"], "small_n_sensitive", None)
    agg.attrs["barometre_geo"] = {"k": 5, "k_sensitive": 11}
    doc = indicator_map(agg, territories, indicator="mon_indicateur", level="region")
    assert doc.title == "mon_indicateur — régions"
    assert doc.classification.scheme == "fisher_jenks" and not doc.classification.fmt.share
    assert _legend(doc)["suppressed"]["label"] == "Secret statistique"  # sensitive reasons
    doc = indicator_map(
        agg.assign(reason=np.where(agg["suppressed"], "small_n", None)),
        territories,
        indicator="mon_indicateur",
        level="region",
    )
    assert _legend(doc)["suppressed"]["label"] == "Effectif insuffisant (moins de 5 réponses)"


# ---------------------------------------------------------------- categorical, index


def test_categorical_map(territories):
    d = territories.departements.copy()
    d["structure"] = d["region"].map({"84": "OPSN <A>", "93": "OPSN B", "76": "OPSN C"})
    d["hors"] = d["structure"].isna()
    doc = categorical_map(
        d, "structure", title="Couverture", highlight="hors", highlight_label="Non couvert",
        legend=LegendSpec(title="Structure", no_data_label="Non couverte"),
        colors={"OPSN B": "#123456"},
    )  # fmt: skip
    layers = payload(doc.html)["layers"]
    assert [lay["id"] for lay in layers] == ["categories", "highlight"]
    classes = layers[0]["legend"]["classes"]
    assert classes[0]["label"] == "OPSN C"  # most frequent first
    assert {c["label"]: c["color"] for c in classes}["OPSN B"] == "#123456"
    assert layers[1]["geom"]["n"] == int(d["hors"].sum())
    assert layers[1]["legend"]["classes"][0]["outline"] == "#b2182b"


def test_categorical_map_errors(territories):
    d = territories.departements.copy()
    d["cat"] = d["code"]
    with pytest.raises(SchemaError, match=r"101 categories without a colour.*group rare"):
        categorical_map(d, "cat", title="T")
    with pytest.raises(SchemaError, match=r"not in categories.*Add them"):
        categorical_map(d, "cat", title="T", categories=["01"])


def test_write_index(tmp_path):
    recs = [
        MapRecord("site.departement.html", "Site <internet>", "Services", "Départements", "52 %"),
        MapRecord("a.html", "A", "Autre thème"),
    ]
    out = write_index(recs, tmp_path, base_url="https://example.org/cartes/")
    html = out.read_text(encoding="utf-8")
    assert out == tmp_path / "index.html"
    assert "Site &lt;internet&gt;" in html and "<internet>" not in html
    assert html.index("Services") < html.index("Autre thème")
    assert "&lt;iframe src=&#34;https://example.org/cartes/site.departement.html&#34;" in html
    assert 'http-equiv="Content-Security-Policy"' in html
    with pytest.raises(SchemaError, match=r"plain file name"):
        write_index([MapRecord("../x.html", "X")], tmp_path)
    with pytest.raises(SchemaError, match=r"not a safe file name.*map_path"):
        write_index([MapRecord("Mon Fichier.html", "X")], tmp_path)


def test_local_assets_are_written_once_beside_the_page(territories, tmp_path):
    from barometre_geo.maps._assets import leaflet_folder, leaflet_version, write_leaflet

    regions = territories.regions.copy()
    regions["part"] = np.linspace(0.05, 0.95, len(regions))
    doc = choropleth(regions, "part", title="Local", basemap="none", assets="local")
    assert doc.assets == "local" and leaflet_folder() == f"assets/leaflet-{leaflet_version()}"
    assert f'<script src="{leaflet_folder()}/leaflet.js"></script>' in doc.html
    assert "integrity=" not in doc.html  # same folder: no SRI/CORS (file:// pages)
    assert "script-src" in doc.csp and "'self'" in doc.csp
    doc.save(tmp_path / "a.html")
    files = write_leaflet(tmp_path)
    names = sorted(p.relative_to(tmp_path / leaflet_folder()).as_posix() for p in files)
    assert names[:2] == ["images/layers-2x.png", "images/layers.png"]
    assert {"leaflet.js", "leaflet.css"} <= set(names)
    js = (tmp_path / leaflet_folder() / "leaflet.js").read_text(encoding="utf-8")
    assert "sourceMappingURL" not in js and f'version="{leaflet_version()}"' in js
    before = {p: p.stat().st_mtime_ns for p in files}
    doc.save(tmp_path / "b.html")  # a second page: the same files, left alone
    assert {p: p.stat().st_mtime_ns for p in files} == before
    # the notebook display cannot find the folder: it says so instead of a blank map
    assert "assets='inline'" in doc._repr_html_()
    # inline and cdn pages write nothing beside them
    inline = choropleth(regions, "part", title="Inline", basemap="none")
    inline.save(tmp_path / "x" / "c.html")
    assert not (tmp_path / "x" / "assets").exists()
