"""Maps of modelled estimates: the uncertainty cue and the "compared with France" view.

Browser tests reuse the fixtures of ``test_maps_browser`` (headless chromium,
network refused); the table is synthetic, so no model is fitted here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_maps_browser import _hover, _inside_point, _screenshot, browser, open_page  # noqa: F401

from barometre_geo.errors import UnknownValueError
from barometre_geo.maps import indicator_map
from barometre_geo.maps._indicator import SENSITIVE_MODEL_NOTE
from barometre_geo.maps._modelled import COMPARISON_COLORS, MODEL_NOTE

IND = "inclusion_cnfs"


def _table(territories) -> pd.DataFrame:
    d = territories.departements
    n = len(d)
    rng = np.random.default_rng(4)
    v = rng.uniform(0.1, 0.5, n)
    rows = pd.DataFrame({
        "indicator": IND, "level": "departement", "code": d["code"].to_numpy(), "by": "total",
        "option": None, "n": pd.array(rng.integers(6, 40, n), dtype="Int64"), "respondents": 40,
        "value": v, "ci_low": v - 0.1, "ci_high": v + 0.1, "participation": 0.1,
        "suppressed": False, "model_value": v, "model_ci_low": v - 0.03,
        "model_ci_high": v + 0.03, "model_class_low": np.floor(v * 5) / 5,
        "model_publication": "value", "model_uncertain": pd.array([False] * n, dtype="boolean"),
        "model_vs_france": "similar",
    })  # fmt: skip

    def set_(code, **kw):
        for k, val in kw.items():
            rows.loc[rows["code"] == code, k] = val

    set_("33", model_value=0.4567, model_ci_low=0.41, model_ci_high=0.50, model_class_low=0.4,
         model_vs_france="above", value=0.52, n=31, ci_low=0.35, ci_high=0.68)  # fmt: skip
    set_("13", model_value=0.39, model_ci_low=0.31, model_ci_high=0.47, model_class_low=0.2,
         model_uncertain=True)  # fmt: skip
    set_("24", model_value=np.nan, model_ci_low=np.nan, model_ci_high=np.nan,
         model_class_low=0.0, model_publication="class", model_uncertain=True,
         model_vs_france=None, suppressed=True, value=np.nan, n=pd.NA)  # fmt: skip
    set_("2A", model_value=np.nan, model_ci_low=np.nan, model_ci_high=np.nan,
         model_class_low=np.nan, model_publication="hidden", model_uncertain=pd.NA,
         model_vs_france=None, suppressed=True, value=np.nan)  # fmt: skip
    set_("59", model_vs_france="below")
    fr = pd.DataFrame([{"indicator": IND, "level": "france", "code": "FR", "by": "total",
                        "option": None, "n": 2000, "respondents": 2100, "value": 0.26,
                        "ci_low": 0.24, "ci_high": 0.28, "participation": 0.05,
                        "suppressed": False, "model_value": 0.205, "model_ci_low": 0.19,
                        "model_ci_high": 0.22, "model_class_low": 0.2,
                        "model_publication": "value", "model_uncertain": False,
                        "model_vs_france": "similar"}])  # fmt: skip
    out = pd.concat([rows, fr], ignore_index=True)
    out["model_publication"] = pd.Categorical(
        out["model_publication"], categories=["value", "class", "hidden"]
    )
    out["model_uncertain"] = out["model_uncertain"].astype("boolean")
    return out


def test_modelled_map_by_default_for_departements_not_regions(territories):
    table = _table(territories)
    doc = indicator_map(table, territories, indicator=IND, level="departement", basemap="none")
    assert '"modes":true' in doc.html and MODEL_NOTE[:40] in doc.html
    assert "part modélisée des collectivités" in doc.html
    direct = indicator_map(table, territories, indicator=IND, level="departement",
                           basemap="none", estimates="direct")  # fmt: skip
    assert '"modes":true' not in direct.html and MODEL_NOTE[:40] not in direct.html
    assert SENSITIVE_MODEL_NOTE[:40] not in doc.html
    sensitive = table.assign(indicator="cyber_pca")  # its hidden cells: synthetic figures
    doc = indicator_map(sensitive, territories, indicator="cyber_pca", level="departement",
                        basemap="none")  # fmt: skip
    assert SENSITIVE_MODEL_NOTE[:40] in doc.html
    with pytest.raises(UnknownValueError, match="Valid values: model, direct"):
        indicator_map(table, territories, indicator=IND, level="departement", estimates="mrp")


@pytest.mark.browser
def test_uncertainty_cue_and_comparison_mode(territories, open_page, tmp_path):  # noqa: F811
    table = _table(territories)
    doc = indicator_map(table, territories, indicator=IND, level="departement", basemap="none")
    loaded = open_page(doc.save(tmp_path / "modele.html"))
    page = loaded.page
    assert loaded.errors == [] and loaded.requests == []
    codes = list(territories.departements["code"])
    opacity = page.evaluate(
        "(idx) => { const l = window.__bgeo.layers[0]; const out = {};"
        " idx.forEach(i => { out[i] = l.paint.fillOf(i).opacity; }); return out; }",
        [codes.index(c) for c in ("33", "13", "24")],
    )
    sure, unsure, class_only = (opacity[str(codes.index(c))] for c in ("33", "13", "24"))
    assert unsure < sure and class_only < sure  # the cue: a lighter fill
    legend = page.locator(".bgeo-legend").inner_text()
    assert "Estimation incertaine" in legend and "Couleur pâle" in legend
    text = _hover(loaded, *_inside_point(territories, "departement", "33"), expect="Gironde")
    for part in ("Estimation modélisée", "45,7", "Intervalle à 95 %", "Estimation directe",
                 "31 réponses", "au-dessus"):  # fmt: skip
        assert part in text, part
    text = _hover(loaded, *_inside_point(territories, "departement", "24"), expect="Dordogne")
    assert "classe seule" in text and "non publiée" in text
    _screenshot(page, tmp_path, "map-modele")
    # the comparison view: one view at a time, its own legend
    page.get_by_label("Comparaison avec la France").check()
    _until(page, "!window.__bgeo.map.hasLayer(window.__bgeo.layers[0].group)")
    legend = page.locator(".bgeo-legend").inner_text()
    assert "Comparaison avec la France" in legend and "20,5" in legend
    assert "Significativement au-dessus" in legend and "Estimation incertaine" not in legend
    color = page.evaluate("(i) => window.__bgeo.layers[1].paint.fillOf(i).color", codes.index("33"))
    assert color == COMPARISON_COLORS[2]
    # the comparison view draws the model view's decoded geometry, and its tooltips
    # read the same fields (shipped once)
    assert page.evaluate("window.__bgeo.layers[1].store === window.__bgeo.layers[0].store")
    text = _hover(loaded, *_inside_point(territories, "departement", "24"), expect="Dordogne")
    assert "classe seule" in text and "non publiée" in text
    text = _hover(loaded, *_inside_point(territories, "departement", "33"), expect="Gironde")
    assert "31 réponses" in text and "au-dessus" in text
    _screenshot(page, tmp_path, "map-modele-comparaison")
    page.get_by_label("Estimation modélisée").check()
    _until(page, "window.__bgeo.map.hasLayer(window.__bgeo.layers[0].group)")


def test_tooltips_give_the_direct_figure_its_interval_and_why_it_is_missing(territories):
    table = _table(territories)
    doc = indicator_map(table, territories, indicator=IND, level="departement", basemap="none")
    codes = list(territories.departements["code"])

    def direct_texts(html):
        fields = {f["label"]: f for f in _payload(html)["layers"][0]["fields"]}
        data = fields["Estimation directe"]["data"]
        return data["s"].split(data["sep"]) if "s" in data else data

    texts = direct_texts(doc.html)
    assert texts[codes.index("33")] == "52\u202f% (31 réponses, IC à 95 % 35\u202f% à 68\u202f%)"
    assert texts[codes.index("24")] == "non publiée (moins de 5 réponses ou secret)"
    nobody = table.assign(respondents=np.where(table["code"] == "2A", 0, 40))
    doc = indicator_map(nobody, territories, indicator=IND, level="departement", basemap="none")
    assert direct_texts(doc.html)[codes.index("2A")] == "pas de réponse"


def _until(page, expression: str, timeout_s: float = 10) -> None:
    """Poll ``expression`` with evaluate (wait_for_function's eval is refused by the CSP)."""
    import time

    end = time.monotonic() + timeout_s
    while not page.evaluate(f"!!({expression})"):
        assert time.monotonic() < end, expression
        time.sleep(0.05)


def test_model_view_of_a_direct_table_says_how_to_get_one(territories):
    from barometre_geo.errors import SchemaError

    table = _table(territories).drop(columns=["model_value"])
    with pytest.raises(SchemaError, match=r"aggregate\(\.\.\., estimates='model'\)"):
        indicator_map(table, territories, indicator=IND, level="departement", estimates="model")


def _payload(html: str) -> dict:
    import json
    import re

    m = re.search(r'<script type="application/json" id="bgeo-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def test_modelled_page_carries_its_geometry_and_columns_once(territories):
    table = _table(territories)
    doc = indicator_map(table, territories, indicator=IND, level="departement", basemap="none")
    estimate, comparison = _payload(doc.html)["layers"]
    assert estimate["geom"]["n"] == len(territories.departements)
    # the comparison view takes the estimate view's polygons and tooltip columns
    assert comparison["geom"] == {"same_as": 0} and comparison["fields"] == {"same_as": 0}
    assert comparison["cls"] != estimate["cls"]  # its own classes
    assert doc.html.count(estimate["geom"]["c"]) == 1
    # switched off (each view serialising its own copy), the page carries the polygons twice
    import barometre_geo.maps._choropleth as choropleth

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(choropleth, "share_repeated", list)
        twice = indicator_map(table, territories, indicator=IND, level="departement",
                              basemap="none")  # fmt: skip
    assert twice.html.count(estimate["geom"]["c"]) == 2
    assert doc.size < twice.size - len(estimate["geom"]["c"])


@pytest.mark.browser
def test_both_views_draw_every_territory_from_the_shared_geometry(
    territories,
    open_page,  # noqa: F811
    tmp_path,
):
    table = _table(territories)
    doc = indicator_map(table, territories, indicator=IND, level="departement", basemap="none")
    loaded = open_page(doc.save(tmp_path / "modele-partage.html"))
    page = loaded.page
    assert loaded.errors == [] and loaded.requests == []
    n = len(territories.departements)
    # one decoded store for both views
    assert page.evaluate("window.__bgeo.layers[0].store === window.__bgeo.layers[1].store")
    assert page.evaluate("window.__bgeo.layers[1].fields.length") == 8

    def painted(i: int) -> list[int]:
        # the whole of France in view (DROM included): every feature is traced
        page.evaluate(
            "(i) => { const b = window.__bgeo; b.map.setMinZoom(0);"
            " b.layers[i].canvas._drawn = false;"
            " b.layers[i].canvas.once('drawn', () => { b.layers[i].canvas._drawn = true; });"
            " b.map.fitBounds([[-21.5, -61.9], [51.2, 55.9]], {animate: false});"
            " b.layers[i].canvas._redraw(); }",
            i,
        )
        _until(page, f"window.__bgeo.layers[{i}].canvas._drawn")
        return page.evaluate(
            "(i) => [window.__bgeo.layers[i].nDrawn, window.__bgeo.layers[i].canvas.nInView,"
            " window.__bgeo.layers[i].canvas.nPainted]",
            i,
        )

    assert painted(0) == [n, n, n]
    page.get_by_label("Comparaison avec la France").check()
    _until(page, "window.__bgeo.map.hasLayer(window.__bgeo.layers[1].canvas)")
    assert painted(1) == [n, n, n]
    codes = list(territories.departements["code"])
    # the comparison view paints with its own classes on the shared polygons
    assert (
        page.evaluate("(i) => window.__bgeo.layers[1].paint.fillOf(i).color", codes.index("59"))
        == COMPARISON_COLORS[0]
    )
    text = _hover(loaded, *_inside_point(territories, "departement", "33"), expect="Gironde")
    assert "au-dessus" in text and "31 réponses" in text


def test_modelled_map_shows_only_what_the_tier_publishes(territories):
    """A table leaking an estimate into class-only and hidden rows: the map ships neither."""
    import barometre_geo.maps._modelled as modelled

    table = _table(territories)
    coarse = table["code"].isin(["24", "2A"]).to_numpy()
    table.loc[coarse, ["model_value", "model_ci_low", "model_ci_high"]] = (0.7777, 0.6111, 0.9222)

    def shipped():
        doc = indicator_map(table, territories, indicator=IND, level="departement",
                            basemap="none")  # fmt: skip
        fields = {f["label"]: f for f in _payload(doc.html)["layers"][0]["fields"]}
        codes = list(territories.departements["code"])
        estimate = fields["Estimation modélisée"]["data"]
        low, high = fields["Intervalle à 95 % (modèle)"]["data"]
        return [(estimate[codes.index(c)], low[codes.index(c)], high[codes.index(c)])
                for c in ("24", "2A", "33")]  # fmt: skip

    class_only, hidden, published = shipped()
    assert class_only == hidden == (None, None, None) and None not in published
    # switched off (every tier read as "value"), the leaked figures are shipped
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(modelled, "_published", lambda tier: np.asarray(tier != None))  # noqa: E711
        class_only, hidden, _ = shipped()
    assert class_only[0] is not None and hidden[0] is not None
