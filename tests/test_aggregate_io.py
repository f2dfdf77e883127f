import json
import warnings

import pandas as pd
import pytest

import barometre_geo as bg
from barometre_geo.errors import SchemaError
from barometre_geo.indicators.aggregate import AGGREGATE_COLUMNS
from barometre_geo.indicators.tables import DICTIONARY, _tolerance
from barometre_geo.testing import make_responses, random_responses


@pytest.fixture(scope="module")
def table():
    r = random_responses(500, seed=11)
    return bg.aggregate(r, level=["departement", "france"], by="profile", weights=None)


def test_write_aggregates(table, tmp_path):
    paths = bg.write_aggregates(table, tmp_path / "out")
    csv = pd.read_csv(paths["csv"], dtype={"code": str})
    assert list(csv.columns) == list(AGGREGATE_COLUMNS) and len(csv) == len(table)
    assert csv["value"].isna().sum() == table["value"].isna().sum()
    back = pd.read_parquet(paths["parquet"])
    pd.testing.assert_frame_equal(back, table, check_categorical=False, check_dtype=False)
    dico = pd.read_csv(paths["dictionary_csv"])
    assert dico["colonne"].tolist() == list(AGGREGATE_COLUMNS)
    assert dico["description"].str.len().min() > 10
    md = open(paths["dictionary_md"], encoding="utf-8").read()
    assert "| `participation` |" in md and "Seuil : 5 réponses" in md
    meta = json.loads(open(paths["metadata"], encoding="utf-8").read())
    assert meta["k"] == 5 and meta["mode"] == "public"


def test_every_column_is_described():
    from barometre_geo.indicators.modelled import MODEL_COLUMNS

    assert set(DICTIONARY) == set(AGGREGATE_COLUMNS) | set(MODEL_COLUMNS)


def test_write_aggregates_needs_an_aggregate_table(tmp_path):
    with pytest.raises(SchemaError, match=r"lacks the aggregate column\(s\).*unchanged columns"):
        bg.write_aggregates(pd.DataFrame({"a": [1]}), tmp_path)


def test_tolerance_of_a_published_figure():
    assert _tolerance(0.26) == pytest.approx(0.005)
    assert _tolerance(0.369) == pytest.approx(0.0005)
    assert _tolerance(8.2) == pytest.approx(0.05)


def test_compare_published_on_a_handmade_edition(territories):
    # 26 % of CNFS: 13 "oui" out of 50 valid answers
    codes = territories.communes["code"].head(52).tolist()
    answers = ["oui"] * 13 + ["non"] * 37 + [None, "sans_reponse"]
    r = make_responses({"inclusion_cnfs": answers}, codes=codes, territories=territories)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = bg.compare_published(r)
    row = cmp[cmp["indicator"] == "inclusion_cnfs"].iloc[0]
    assert row["published"] == 0.26 and row["computed"] == pytest.approx(0.26)
    assert row["matches"] and row["n"] == 50 and row["difference"] == pytest.approx(0)
    absent = cmp[cmp["indicator"] == "demat_bulletins_paie"].iloc[0]
    assert absent["note"] == "indicateur absent des réponses" and not absent["matches"]


def test_compare_published_needs_options_rows(territories):
    r = make_responses(
        {"cyber_pca": ["non"] * 33 + ["oui"] * 17},
        codes=territories.communes["code"].head(50).tolist(),
        territories=territories,
    )
    t = bg.aggregate(r, level="france", indicators="cyber_pca", weights=None)
    cmp = bg.compare_published(t)
    row = cmp[cmp["indicator"] == "cyber_pca"].iloc[0]
    assert row["figure"] == "option" and row["option"] == "non"
    assert "options=True" in row["note"]
    t2 = bg.aggregate(r, level="france", indicators="cyber_pca", weights=None, options=True)
    row2 = bg.compare_published(t2).query("indicator == 'cyber_pca'").iloc[0]
    assert row2["computed"] == pytest.approx(0.66) and row2["matches"]
    # restricted to some indicators: only theirs are compared (an unknown id is refused)
    only = bg.compare_published(t2, indicators=["cyber_pca"])
    assert set(only["indicator"]) == {"cyber_pca"} and len(only) < len(bg.compare_published(t2))
    with pytest.raises(bg.errors.UnknownValueError, match="cyber_pcaa"):
        bg.compare_published(t2, indicators="cyber_pcaa")
