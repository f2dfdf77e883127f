"""What the map page says and how it is embedded, without a browser: the source line,
the legend's wording, the default classes pooled across levels, the insets and deep-link
places, the embedding code, the page's skip links and CSP-safe scripts."""

from __future__ import annotations

import re

import numpy as np
import pytest
from _agg_tables import make_table

from barometre_geo.errors import SchemaError, UnknownValueError
from barometre_geo.maps import indicator_map, static_map
from barometre_geo.maps._assets import bgeo_js
from barometre_geo.maps._breaks import data_classes, indicator_classes, jenks_breaks, round_breaks
from barometre_geo.maps._captions import national_mark, source_line, value_meaning
from barometre_geo.maps._embed import check_base_url, embed_snippet, frame_src, map_url
from barometre_geo.maps._layout import insets_of, places_of
from barometre_geo.maps._render import zones_of
from barometre_geo.maps._style import parse_style


@pytest.fixture(scope="module")
def catalogue():
    from barometre_geo import load_catalogue

    return load_catalogue()


@pytest.fixture(scope="module")
def table(territories):
    return make_table(territories, indicator="inclusion_cnfs", levels=("epci", "departement",
                      "region"), suppress=0.1, seed=7)  # fmt: skip


# ---------------------------------------------------------------- source line, legend


def test_source_line_names_survey_edition_wave_dates_responses_and_cog(catalogue):
    ind = catalogue.get("cyber_pca")
    text = source_line(ind, catalogue, responses=2174, cog="2025", synthetic=False).text()
    assert text.startswith(
        "Source : Baromètre Collectivités & Numérique, 1re édition (2023-2025), vague 1 "
        "(collecte du 01/11/2023 au 07/02/2024), 2\u202f174 réponses ; COG 2025 ; "
        "traitements barometre-geo "
    )
    # wave 0 (asked at every wave): the whole collection
    prof = source_line(catalogue.get("profil_mutualisation"), catalogue, cog="2025")
    assert prof.wave == "toutes vagues (collecte du 01/11/2023 au 23/05/2025)"
    # another edition: its dates are not the catalogue's, said so rather than guessed
    other = source_line(ind, catalogue, edition="2026-2027", cog="2025")
    assert other.edition == "édition 2026-2027" and "non précisées" in other.wave
    # synthetic data and model-based figures are said on the line itself
    syn = source_line(ind, catalogue, synthetic=True, cog="2025", modelled="estimations FH")
    assert "DONNÉES SYNTHÉTIQUES" in syn.text() and syn.text().endswith("; estimations FH.")


def test_legend_says_what_the_value_counts(catalogue):
    assert value_meaning(catalogue.get("cyber_pca")) == (
        "Part des collectivités répondantes ayant répondu « Oui » (hors « Sans réponse »)"
    )
    communes = next(i for i in catalogue if i.universe == "communes" and i.statistic == "share")
    assert value_meaning(communes).startswith("Part des communes répondantes")
    mean = next(i for i in catalogue if i.statistic == "mean")
    assert value_meaning(mean).startswith("Moyenne des réponses des ")
    assert value_meaning(None) == "Valeur"


def test_national_value_is_marked_in_its_class():
    c = data_classes([np.linspace(0.05, 0.62, 40)])
    mark = national_mark(c, 0.33, c.fmt)
    assert mark["label"] == "France : 33\u202f%"
    assert c.lower < 0.33 <= c.bins[mark["class"]]
    assert mark["class"] == 0 or c.bins[mark["class"] - 1] < 0.33
    assert national_mark(c, 0.95, c.fmt) is None  # outside the classes: not marked
    assert national_mark(c, None, c.fmt) is None


def test_indicator_page_carries_source_legend_and_skip_links(table, territories):
    doc = indicator_map(table, territories, indicator="inclusion_cnfs", level="departement",
                        basemap="none", edition="2023-2025", synthetic=False)  # fmt: skip
    html = doc.html
    assert re.search(r'class="bgeo-source">Source : Baromètre Collectivités &amp; Numérique, 1re '
                     r"édition \(2023-2025\), vague 1 \(collecte du 01/11/2023", html)  # fmt: skip
    n = int(table.query("level == 'france' and by == 'total'")["n"].iloc[0])
    assert f"{n:,} réponses ; COG 2025".replace(",", "\u202f") in html
    legend = re.search(r'id="bgeo-data">(.*?)</script>', html, re.S).group(1)
    assert "Part des collectivités répondantes ayant répondu « Oui »" in legend
    assert "seuils naturels (Fisher-Jenks) arrondis, identiques aux 3 échelles" in legend
    assert '<a class="bgeo-skip bgeo-skip-table" href="#bgeo-table-h">' in html
    assert '<h2 id="bgeo-table-h" tabindex="-1">' in html
    # an empty page says so, with its source line and a skip link too
    empty = indicator_map(table.assign(suppressed=True, value=np.nan), territories,
                          indicator="inclusion_cnfs", level="region", basemap="none")  # fmt: skip
    assert empty.empty and 'class="bgeo-skip" href="#bgeo-contenu"' in empty.html
    assert 'class="bgeo-source">Source :' in empty.html


def test_inline_scripts_never_close_their_element():
    # a "</script" inside the page's script would end it and break the page
    assert "</script" not in bgeo_js().lower()


# ---------------------------------------------------------------- classes


def test_default_classes_are_pooled_over_levels_and_the_same_on_each_page(table, territories):
    pooled = indicator_classes(table, "inclusion_cnfs")
    assert pooled.levels == ("epci", "departement", "region") and pooled.pooled
    for level in ("epci", "departement", "region"):
        doc = indicator_map(table, territories, indicator="inclusion_cnfs", level=level,
                            basemap="none")  # fmt: skip
        assert doc.classification.bins == pooled.bins and doc.classification.lower == pooled.lower
    # every published value of every level fits the classes
    shown = table[~table["suppressed"] & table["level"].isin(["epci", "departement", "region"])]
    assert (pooled.assign(shown["value"]) >= 0).all()


def test_each_level_weighs_the_same_in_the_pool():
    rng = np.random.default_rng(1)
    many = rng.uniform(0.0, 0.5, 2000)  # 2,000 territories between 0 and 50 %
    few = rng.uniform(0.5, 0.9, 18)  # 18 between 50 and 90 %
    c = data_classes([many, few])
    # the few get breaks of their own (inner breaks above 50 %): two with each level
    # weighing the same, one at most with each value weighing the same
    assert sum(b > 0.5 for b in c.bins[:-1]) >= 2
    assert sum(b > 0.5 for b in jenks_breaks(np.r_[many[:400], few], 5)[:-1]) <= 1


@pytest.mark.parametrize("n", [7, 60, 400])
def test_jenks_breaks_are_mapclassify_s_fisher_jenks(n):
    import warnings

    import mapclassify

    y = np.random.default_rng(n).gamma(2.0, 1.0, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # numba missing: slow pure Python
        expected = mapclassify.FisherJenks(y, k=5).bins
    np.testing.assert_allclose(jenks_breaks(y, 5), expected)
    # a weight is a repetition: the same breaks as the values repeated
    w = np.random.default_rng(1).integers(1, 4, n)
    np.testing.assert_allclose(jenks_breaks(y, 4, weights=w), jenks_breaks(np.repeat(y, w), 4))


def test_rounded_bounds_are_readable_and_keep_every_class():
    values = np.r_[np.linspace(0.031, 0.118, 9), np.linspace(0.14, 0.22, 12), 0.41, 0.47]
    c = data_classes([values])
    assert c.rounded and all(round(b * 100, 6) == round(b * 100) for b in c.bins)
    assert min(c.counts) > 0 and c.lower <= values.min() and c.bins[-1] >= values.max()
    # no step can keep every class: the raw breaks stay (and say they are not rounded)
    assert round_breaks([0.1001, 0.1002, 0.5], [0.1, 0.1001, 0.1002, 0.5], share=True) is None
    # few distinct values: one class per value
    assert data_classes([[0.25, 0.5, 0.5]]).exact


# ---------------------------------------------------------------- layout, deep links, embedding


def test_insets_rule(territories):
    def ids(gdf):
        g = gdf.geometry.values
        return [i["id"] for i in insets_of(g, zones_of(g))]

    assert ids(territories.communes) == ["idf", "971", "972", "973", "974", "976"]
    assert ids(territories.regions) == ["971", "972", "973", "974", "976"]
    # a map of one région or one DROM has no inset
    assert ids(territories.departements[territories.departements["region"] == "84"]) == []
    assert ids(territories.departements[territories.departements["code"] == "974"]) == []


def test_places_of_deep_links(territories):
    p = places_of(territories.epci)  # without Territories: codes from the columns
    assert set(p["reg"]) == set(territories.regions["code"])
    assert p["dep"]["69"][0] == "69"  # named by its code
    named = places_of(territories.epci, territories)
    assert named["dep"]["69"][0] == "Rhône" and named["reg"]["01"][0] == "Guadeloupe"
    s, w, n, e = named["dep"]["69"][1:]
    assert 45 < s < n < 46.5 and 4 < w < e < 5.3


def test_embed_snippet_is_csp_safe_and_absolute(territories):
    s = embed_snippet("x.html", 'Carte "PCA"', base_url="https://ex.gouv.fr/cartes",
                      variant="carte", territoire="dep-69")  # fmt: skip
    assert "style=" not in s.html and "<script>" not in s.html
    assert 'src="https://ex.gouv.fr/cartes/x.html?embed=carte&amp;territoire=dep-69"' in s.html
    assert 'title="Carte &quot;PCA&quot;"' in s.html and "data-barometre-geo" in s.html
    assert s.absolute and s.frame_src == "https://ex.gouv.fr"
    rel = embed_snippet("x.html", "Carte")
    assert not rel.absolute and rel.url == "x.html" and rel.frame_src == ""
    assert map_url("x.html", territoire="971") == "x.html?territoire=971"
    assert frame_src("https://a.fr:8443/c/") == "https://a.fr:8443"


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("www.exemple.gouv.fr/cartes", "not an absolute http.s. address.*https://www"),
        ("ftp://exemple.gouv.fr/", "not an absolute http.s. address"),
        ("https://exemple.gouv.fr/?x=1", "has a query or fragment.*folder's address only"),
    ],
)
def test_bad_base_url_is_refused_with_the_fix(value, match):
    with pytest.raises(SchemaError, match=match):
        check_base_url(value)


def test_unknown_variant_and_style_list_the_valid_ones():
    with pytest.raises(UnknownValueError, match="Valid variants: page, carte"):
        map_url("x.html", variant="plein")
    with pytest.raises(UnknownValueError, match="Valid styles: standard, dsfr"):
        parse_style("marianne")


# ---------------------------------------------------------------- static map


def test_static_map_has_the_source_line_and_ile_de_france_at_epci_level(table, territories,
                                                                        tmp_path):  # fmt: skip
    m = static_map(table, territories, indicator="inclusion_cnfs", level="epci",
                   out_dir=tmp_path, basemap="none", dpi=40)  # fmt: skip
    assert "Île-de-France" in m.insets and len(m.insets) == 6
    assert "vague 1" in m.source and "COG 2025" in m.source
    assert m.classification.bins == indicator_classes(table, "inclusion_cnfs").bins
    dep = static_map(table, territories, indicator="inclusion_cnfs", level="departement",
                     out_dir=tmp_path, basemap="none", dpi=40)  # fmt: skip
    assert "Île-de-France" not in dep.insets
