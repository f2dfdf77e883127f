"""Classes and colours: degenerate data, every palette size, legend contrast.

``classify`` with 0, 1, 2 distinct values, all NaN, constant values, fewer
values than ``k``; every palette for every ``k`` from 1; the contrast of the
"Pas de réponse" grey with the classes and the legend; and the three outputs
of an indicator (HTML map, GeoPackage + QGIS style, static map) agreeing on
such data, neutral styles included.
"""

from __future__ import annotations

import re
import sqlite3
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pyogrio
import pytest
from _agg_tables import make_table
from PIL import Image

from barometre_geo.errors import SchemaError, UnknownValueError
from barometre_geo.maps import (
    SCHEMES,
    ClassificationWarning,
    NumberFormat,
    classify,
    classify_pooled,
    get_palette,
    indicator_map,
    list_palettes,
    static_map,
    write_indicator_gpkg,
)
from barometre_geo.maps._palettes import (
    NEUTRAL_INK,
    NO_DATA_COLOR,
    NO_DATA_PATTERN,
    SUPPRESSED_COLOR,
    SUPPRESSED_HATCH,
    SUPPRESSED_PATTERN,
    color_difference,
    contrast_ratio,
    pattern_contrast,
)
from barometre_geo.maps._qgis import NO_DATA_VALUE, qgis_color

MEAN = NumberFormat(share=False, decimals=1, unit="%")
DATA_SCHEMES = [s for s in SCHEMES if s != "user_defined"]


# ---------------------------------------------------------------- classify


P = "\u202f%"  # a narrow no-break space, then the unit


@pytest.mark.parametrize("scheme", DATA_SCHEMES)
@pytest.mark.parametrize(
    ("values", "k", "bins", "labels", "counts"),
    [
        pytest.param([7.0], 5, (7.0,), (f"7{P}",), (1,), id="one-value"),
        pytest.param([7.0] * 6 + [np.nan], 5, (7.0,), (f"7{P}",), (6,), id="constant"),
        pytest.param(
            [7.0, 40.0, 7.0], 5, (7.0, 40.0), (f"7{P}", f"40{P}"), (2, 1), id="two-values"
        ),
        pytest.param(
            [3.0, 9.5, 12.25],
            5,
            (3.0, 9.5, 12.25),
            (f"3{P}", f"9,5{P}", f"12,2{P}"),
            (1, 1, 1),
            id="fewer-values-than-k",
        ),
        pytest.param(  # as many values as classes; labels gain decimals to differ
            [12.21, 12.24, 90.0],
            3,
            (12.21, 12.24, 90.0),
            (f"12,21{P}", f"12,24{P}", f"90{P}"),
            (1, 1, 1),
            id="k-values",
        ),
    ],
)
def test_few_distinct_values_give_one_class_per_value(scheme, values, k, bins, labels, counts):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = classify(values, scheme=scheme, k=k, fmt=MEAN)
    n_distinct = len(set(v for v in values if v == v))
    assert [type(w.message) for w in caught] == ([ClassificationWarning] if n_distinct < k else [])
    assert (c.k, c.bins, c.labels, c.counts, c.exact) == (len(bins), bins, labels, counts, True)
    assert c.lower == bins[0]
    assert c.assign(values).tolist() == [bins.index(v) if v == v else -1 for v in values]
    assert c.to_dict()["exact"] is True


@pytest.mark.parametrize("values", [[], [np.nan, np.nan], [np.inf, -np.inf, np.nan]])
def test_no_finite_value_gives_a_classification_without_class(values):
    with pytest.warns(ClassificationWarning, match=r"no class.*NaN means no value"):
        c = classify(values, scheme="quantiles", fmt=MEAN)
    assert (c.k, c.bins, c.labels, c.counts) == (0, (), (), ())
    assert c.assign([np.nan, np.nan]).tolist() == [-1, -1]
    assert c.to_dict()["lower"] is None and c.to_dict()["k"] == 0
    with pytest.raises(SchemaError, match=r"without class.*Classify these values: classify"):
        c.assign([1.0])
    # shares keep their fixed classes, empty
    share = classify([np.nan])
    assert share.k == 5 and share.counts == (0,) * 5


def test_exact_classes_refuse_values_between_them():
    c = classify([10.0, 30.0], k=2, fmt=MEAN)
    assert c.assign([10.0, 30.0, np.nan]).tolist() == [0, 1, -1]
    with pytest.raises(SchemaError, match=r"not among the values.*10\u202f%, 30\u202f%.*together"):
        c.assign([20.0])
    with pytest.raises(SchemaError, match=r"outside the classification's range.*classify_pooled"):
        c.assign([31.0])


def test_ties_at_the_minimum_label_the_first_class_by_its_value():
    c = classify([0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6], k=5, fmt=MEAN)
    assert not c.exact and c.lower == c.bins[0] == 0.0
    assert c.labels[0] == "0\u202f%" and c.labels[1] == "plus de 0\u202f% à 1\u202f%"
    assert c.counts[0] == 5


def test_pooled_columns_with_two_values_share_exact_classes():
    with pytest.warns(ClassificationWarning, match=r"Only 2 distinct"):
        a, b = classify_pooled([[5.0, np.nan], [5.0, 8.0, 8.0]], scheme="quantiles", fmt=MEAN)
    assert a.bins == b.bins == (5.0, 8.0) and a.exact and b.exact
    assert a.counts == (1, 0) and b.counts == (1, 2)


@pytest.mark.parametrize("k", [0, -1, 2.5, "trois"])
def test_k_must_be_a_whole_number_of_classes(k):
    with pytest.raises(UnknownValueError, match=r"whole number of classes ≥ 1.*Pass k=5"):
        classify([1.0, 2.0], scheme="quantiles", k=k, fmt=MEAN)


# ---------------------------------------------------------------- palettes for every k


@pytest.mark.parametrize("name", list_palettes())
def test_every_palette_gives_every_k_from_one(name):
    pal = get_palette(name)
    lo, hi = pal.k_range
    assert lo == 1 and hi == max(pal.colors)
    assert pal.for_k(0) == ()
    for k in range(1, hi + 1):
        colors = pal.for_k(k)
        assert len(colors) == k and len(set(colors)) == k
        assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colors)
    smallest = pal.colors[min(pal.colors)]
    if pal.kind == "sequential":  # the dark end: away from the grey "Pas de réponse"
        assert pal.for_k(1) == smallest[-1:] and pal.for_k(2) == smallest[-2:]
    elif pal.kind == "diverging":
        assert pal.for_k(2) == (smallest[0], smallest[-1]) and pal.for_k(1) == smallest[-1:]
    with pytest.raises(UnknownValueError, match=rf"Use k between 1 and {hi}"):
        pal.for_k(hi + 1)


# ---------------------------------------------------------------- contrast


def test_contrast_measures_match_their_definitions():
    # WCAG 2: the grey #767676 is the lightest with 4.5:1 on white; black/white 21:1
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#123456", "#123456") == 1.0
    # CIE76 in L*a*b* (D65): white L* 100, pure red about (53.2, 80.1, 67.2)
    assert color_difference("#000000", "#ffffff") == pytest.approx(100.0, abs=0.01)
    assert color_difference("#ff0000", "#000000") == pytest.approx(
        np.hypot(53.24, np.hypot(80.09, 67.20)), abs=0.1
    )


SEQUENTIAL = [n for n in list_palettes("sequential") if n != "Greys"]


@pytest.mark.parametrize("name", list_palettes())
def test_no_answer_and_suppressed_textures_are_3_to_1_from_every_class(name):
    """WCAG 1.4.11: 'Pas de réponse' and 'Effectif insuffisant' stand out from every class
    of every palette at 3:1 or more (one of the texture's two colours does)."""
    pal = get_palette(name)
    for k in range(1, pal.k_range[1] + 1):
        for color in pal.for_k(k):
            for pattern in (NO_DATA_PATTERN, SUPPRESSED_PATTERN):
                assert pattern_contrast(pattern, color) >= 3, (k, color, pattern["kind"])


def test_the_texture_rule_holds_for_any_colour_and_fails_for_a_flat_grey():
    # any fill whatsoever is 3:1 from the white or from the ink (16 levels per channel)
    steps = [f"{v:02x}" for v in range(0, 256, 17)]
    worst = min(
        pattern_contrast(NO_DATA_PATTERN, f"#{r}{g}{b}")
        for r in steps
        for g in steps
        for b in steps
    )
    assert worst >= 3
    # switched off (the former flat grey "Pas de réponse"): 1.09:1 from the lightest Blues class
    flat = {"bg": NO_DATA_COLOR, "fg": NO_DATA_COLOR}
    lightest = get_palette("Blues").for_k(5)[0]
    assert pattern_contrast(flat, lightest) == pytest.approx(1.09, abs=0.01)
    assert min(pattern_contrast(flat, c) for c in get_palette("Blues").for_k(5)) < 3


@pytest.mark.parametrize("name", SEQUENTIAL)
def test_lightest_class_stands_out_from_the_white_legend(name):
    pal = get_palette(name)
    for k in range(3, 7):
        assert contrast_ratio(pal.for_k(k)[0], "#ffffff") >= 1.2, k
    if name != "DSFR":  # ColorBrewer's: one step darker than their 5
        assert pal.for_k(5) == pal.colors[6][1:]


def test_neutral_styles_stand_out_from_the_legend_and_each_other():
    assert NO_DATA_PATTERN["kind"] != SUPPRESSED_PATTERN["kind"]  # dots, hatching
    assert contrast_ratio(SUPPRESSED_HATCH, SUPPRESSED_COLOR) >= 4.5  # hatching lines
    assert contrast_ratio(NEUTRAL_INK, NO_DATA_PATTERN["bg"]) >= 4.5  # dots
    # the swatch borders of the HTML legend (#767676) have 3:1 on white
    assert contrast_ratio("#767676", "#ffffff") >= 3
    # categorical maps keep a flat grey "no category", distinct from white
    assert color_difference(NO_DATA_COLOR, SUPPRESSED_COLOR) >= 15


# ---------------------------------------------------------------- the three outputs agree


def _mean_table(territories, codes_values: dict[str, float]):
    """A mean indicator at département level: the given values, other départements no row."""
    table = make_table(
        territories,
        indicator="outils_materiel_reconditionne",
        levels=("departement",),
        mean=True,
        suppress=0,
        only={"departement": list(codes_values)},
        seed=4,
    )
    dep = (table["level"] == "departement") & (table["by"] == "total")
    table.loc[dep, "value"] = table.loc[dep, "code"].astype(str).map(codes_values).to_numpy()
    table.loc[dep, "ci_low"] = table.loc[dep, "value"] - 1
    table.loc[dep, "ci_high"] = table.loc[dep, "value"] + 1
    return table


def _payload(html: str) -> dict:
    import json

    m = re.search(r'<script type="application/json" id="bgeo-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


@pytest.mark.parametrize(
    "codes_values",
    [
        {"29": 40.0},  # one territory
        {"29": 40.0, "35": 40.0, "22": 40.0},  # constant
        {"29": 12.5, "35": 40.0, "22": 40.0, "56": 12.5},  # two distinct values
        {"29": 12.5, "35": 20.0, "22": 40.0},  # fewer values than the 5 classes
    ],
    ids=["one", "constant", "two", "three"],
)
def test_html_geopackage_and_static_map_agree(territories, tmp_path, codes_values):
    table = _mean_table(territories, codes_values)
    distinct = sorted(set(codes_values.values()))
    ind = "outils_materiel_reconditionne"
    # the default classes choose one class per value (no warning: nothing was asked)
    doc = indicator_map(table, territories, indicator=ind, level="departement", basemap="none")
    gpkg = write_indicator_gpkg(table, territories, indicator=ind, out_dir=tmp_path)
    png = static_map(table, territories, indicator=ind, level="departement",
                     out_dir=tmp_path, basemap="none", dpi=60)  # fmt: skip
    c = doc.classification
    labels = tuple(MEAN.format(v) for v in distinct)
    colors = get_palette("Blues").for_k(len(distinct))
    assert c.exact and c.bins == tuple(distinct) and c.labels == labels
    # HTML: legend labels and colours
    legend = _payload(doc.html)["layers"][0]["legend"]["classes"]
    assert [(x["label"], x["color"]) for x in legend] == list(zip(labels, colors, strict=True))
    # GeoPackage: the class column, its label, the QGIS ranges and colours
    df = pyogrio.read_dataframe(gpkg, layer="departement", read_geometry=False)
    shown = df[df["value"].notna()]
    assert shown["classe_libelle"].tolist() == [MEAN.format(v) for v in shown["value"]]
    assert (shown["classe"].astype(int) - 1).tolist() == c.assign(shown["value"]).tolist()
    con = sqlite3.connect(gpkg)
    try:
        (qml,), meta = (
            con.execute(
                "SELECT styleQML FROM layer_styles WHERE f_table_name = 'departement'"
            ).fetchone(),
            dict(con.execute("SELECT cle, valeur FROM metadonnees").fetchall()),
        )
    finally:
        con.close()
    renderer = ET.fromstring(qml).find("renderer-v2")
    rng = [(float(r.get("lower")), float(r.get("upper")), r.get("label"), r.get("symbol"))
           for r in renderer.find("ranges")]  # fmt: skip
    assert [r[2] for r in rng[: len(distinct)]] == list(labels)
    for _, _, _, sym in rng[: len(distinct)]:
        fill = renderer.find(f"symbols/symbol[@name='{sym}']/layer/prop[@k='color']").get("v")
        assert fill == qgis_color(colors[int(sym)])
    for value, classe in df[["value", "classe"]].itertuples(index=False):  # as QGIS evaluates
        v = -1 if np.isnan(value) else value
        hit = next(i for i, (lo, hi, *_) in enumerate(rng) if lo <= v <= hi)
        assert (hit + 1 if hit < len(distinct) else None) == (None if np.isnan(classe) else classe)
    assert meta["classes:departement"] == "une classe par valeur : " + " ; ".join(labels)
    # the dotted "Pas de réponse" of the other départements, the same everywhere
    assert _payload(doc.html)["layers"][0]["legend"]["no_data"]["pattern"] == NO_DATA_PATTERN
    dots = next(r[3] for r in rng if r[0] == r[1] == NO_DATA_VALUE)
    symbol = renderer.find(f"symbols/symbol[@name='{dots}']")
    assert symbol.find("layer/prop[@k='color']").get("v") == qgis_color(NO_DATA_PATTERN["bg"])
    assert symbol.find("layer[@class='PointPatternFill']") is not None
    # static map: same classes, each class colour drawn, and the dark ink of the dots
    assert png.classification.labels == labels and png.classification.bins == c.bins
    with Image.open(png.path) as img:
        pixels = {tuple(p) for p in np.asarray(img.convert("RGB")).reshape(-1, 3)}
    for color in (*colors, NEUTRAL_INK):
        assert tuple(int(color[i : i + 2], 16) for i in (1, 3, 5)) in pixels
