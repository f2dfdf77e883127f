import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import barometre_geo as bg
from barometre_geo.errors import DataQualityWarning, SchemaError, UnknownValueError
from barometre_geo.indicators.aggregate import AGGREGATE_COLUMNS
from barometre_geo.testing import assert_aggregates_consistent, make_responses

DOMBES = ["01001", "01028", "01045", "01052", "01074", "01083", "01085", "01090"]
PLAINE = ["01002", "01004", "01007", "01008", "01013", "01017"]
GUADELOUPE = ["97101", "97102", "97103"]
EPCI_DOMBES = "200069193"


@pytest.fixture(scope="module")
def small(territories):
    """17 respondents: 14 communes in two EPCI of the Ain, the Dombes EPCI, the
    Ain's council, the région's council, 3 Guadeloupe communes."""
    codes = [*DOMBES, *PLAINE, EPCI_DOMBES, "departement:01", "region:84", *GUADELOUPE]
    n = len(codes)
    pca = ["oui", "non", "non", "oui", "ne_sait_pas", "oui", "non", "oui"]
    pca += ["non", "oui", "oui", "non", None, "oui", "oui", "non", "oui", "non", "oui", "oui"]
    types = [("antivirus",), ("antivirus", "pare_feu"), (), None, ("aucun",)] * 4
    assert len(pca) == len(types) == n
    answers = {"cyber_pca": pca, "inclusion_cnfs": pca, "cyber_protections": types}
    return make_responses(
        answers,
        codes=codes,
        waves=[1] * n,
        profiles=(["agent", "elu"] * 10)[:n],
        extra={"couverture": (["couvert", "non_couvert", None] * 7)[:n]},
        territories=territories,
    )


def agg(r, **kw):
    kw.setdefault("weights", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return bg.aggregate(r, **kw)


def cell(t, **kw):
    m = np.ones(len(t), dtype=bool)
    for k, v in kw.items():
        m &= (t[k].astype(object) == v).to_numpy() if v is not None else t[k].isna().to_numpy()
    out = t[m]
    assert len(out) == 1, (kw, len(out))
    return out.iloc[0]


# ------------------------------------------------------------------ contract


def test_columns_and_dtypes(small):
    t = agg(small, level=["departement", "region", "france"], indicators="inclusion_cnfs")
    assert tuple(t.columns) == AGGREGATE_COLUMNS
    assert str(t["n"].dtype) == "Int64" and t["suppressed"].dtype == bool
    assert set(t["level"].astype(str)) == {
        "departement",
        "region",
        "france",
        "france_metropolitaine",
        "outre_mer",
    }
    assert len(t[t["level"] == "departement"]) == 101  # every département, even without answers
    assert_aggregates_consistent(t, k=5)
    json.dumps(t.attrs["barometre_geo"])  # JSON-able, so to_parquet keeps it


def test_values_match_a_plain_pandas_computation(small):
    """Restricted mode shows every cell: compare with a groupby written by hand."""
    t = agg(small, level=["epci", "departement", "region", "france"], mode="restricted")
    d = small.data
    valid = d["inclusion_cnfs"].isin(["oui", "non", "ne_sait_pas"])
    yes = d["inclusion_cnfs"] == "oui"
    for level in ("epci", "departement", "region"):
        g = pd.DataFrame({"code": d[level], "v": valid, "y": yes & valid})
        g = g[g["v"]].groupby("code")["y"].agg(["sum", "count"])
        for code, row in g.iterrows():
            c = cell(t, indicator="inclusion_cnfs", level=level, code=code, by="total")
            assert c["n"] == row["count"]
            assert c["value"] == pytest.approx(row["sum"] / row["count"])
    fr = cell(t, indicator="inclusion_cnfs", level="france", by="total")
    assert fr["n"] == valid.sum() and fr["value"] == pytest.approx(yes.sum() / valid.sum())
    # multiple choice: one share per option among those who answered
    answered = d[[c for c in d if c.startswith("cyber_protections.")]].notna().any(axis=1)
    share = d.loc[answered, "cyber_protections.antivirus"].astype(bool).mean()
    o = t[(t["indicator"] == "cyber_protections") & (t["level"] == "france")]
    o = o.set_index(o["option"].astype(str))
    assert o.loc["antivirus", "value"] == pytest.approx(share)
    assert o.loc["antivirus", "n"] == answered.sum()


def test_mean_of_a_percentage_with_a_student_interval(territories):
    reco = [10.0, 0, 5, 20, 8, None, 3, 12, 0, 40, 7, 1]
    r = make_responses(
        {"outils_materiel_reconditionne": reco}, codes=[*DOMBES, *PLAINE[:4]], waves=2
    )
    t = agg(r, level="france", indicators="outils_materiel_reconditionne", mode="restricted")
    x = pd.Series(reco, dtype=float).dropna()
    m = cell(t, level="france", by="total")
    assert m["statistic"] == "mean" and m["value"] == pytest.approx(x.mean())
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=x.std(ddof=1) / len(x) ** 0.5)
    assert (m["ci_low"], m["ci_high"]) == pytest.approx((max(lo, 0), hi))


def test_wilson_interval_matches_scipy(small):
    t = agg(small, level="france", indicators="inclusion_cnfs", mode="restricted")
    c = cell(t, level="france", by="total")
    k = round(c["value"] * c["n"])
    ci = stats.binomtest(k, int(c["n"])).proportion_ci(method="wilson")
    assert (c["ci_low"], c["ci_high"]) == pytest.approx((ci.low, ci.high))


def test_geography_of_each_kind(small):
    t = agg(small, level=["commune", "epci", "departement", "region"], mode="restricted")
    n = {}
    for lv in ("commune", "epci", "departement", "region"):
        sub = t[(t["indicator"] == "cyber_pca") & (t["level"] == lv) & (t["by"] == "total")]
        n[lv] = dict(zip(sub["code"].astype(str), sub["respondents"], strict=True))
    assert n["epci"][EPCI_DOMBES] == len(DOMBES) + 1  # communes + the EPCI itself
    assert n["departement"]["01"] == len(DOMBES) + len(PLAINE) + 2  # + EPCI + council
    assert n["region"]["84"] == len(DOMBES) + len(PLAINE) + 3  # + the régional council
    assert EPCI_DOMBES not in n["commune"] and len(n["commune"]) == 17
    zones = agg(small, level="france", indicators="cyber_pca", mode="restricted")
    z = zones[zones["by"] == "total"]
    z = dict(zip(z["level"].astype(str), z["respondents"], strict=True))
    assert z["outre_mer"] == 3 and z["france_metropolitaine"] == 17 and z["france"] == 20


def test_universe_and_participation(small, territories):
    # profil_mutualisation-like universes: an indicator asked to communes only
    r = make_responses(
        {"demat_registre_alerte": ["oui", "non", "oui"]},
        codes=["01001", "01028", EPCI_DOMBES],
        territories=territories,
    )
    ind = r.catalogue.get("demat_registre_alerte")
    assert ind.universe_kinds == ("commune",)
    t = agg(r, level=["epci", "departement"], indicators=ind.id, mode="restricted")
    e = cell(t, level="epci", code=EPCI_DOMBES, by="total")
    assert e["respondents"] == 2  # the EPCI's own answer is outside the universe
    assert e["universe_count"] == 36  # communes of the Dombes
    assert e["participation"] == pytest.approx(2 / 36)
    pop = territories.communes.set_index("code")["population"]
    members = territories.communes.loc[territories.communes["epci"] == EPCI_DOMBES, "population"]
    assert e["population_share"] == pytest.approx((pop["01001"] + pop["01028"]) / members.sum())
    d = cell(t, level="departement", code="01", by="total")
    assert d["universe_count"] == 391


def test_universe_count_of_all_kinds(small, territories):
    t = agg(small, level=["departement", "france"], indicators="cyber_pca", mode="restricted")
    fr = cell(t, level="france", by="total")
    # 34,875 communes + 1,255 EPCI + 93 + 14 conseils + 5 collectivités à statut particulier
    assert fr["universe_count"] == 36242
    ain = cell(t, level="departement", code="01", by="total")
    epci_seated = int((territories.epci["departement"] == "01").sum())
    assert ain["universe_count"] == 391 + epci_seated + 1  # communes, EPCI, the council
    # the CeA (collectivité européenne d'Alsace) stands for the Bas-Rhin's council
    als = cell(t, level="departement", code="67", by="total")
    n67 = int((territories.communes["departement"] == "67").sum())
    assert als["universe_count"] == n67 + int((territories.epci["departement"] == "67").sum()) + 1
    assert ain["participation"] == pytest.approx(ain["respondents"] / ain["universe_count"])


def test_breakdowns(small):
    t = agg(
        small,
        level="departement",
        indicators="inclusion_cnfs",
        by=["strate", "profile", "couverture"],
        mode="restricted",
    )
    ain = t[t["code"] == "01"].reset_index(drop=True)
    assert set(ain["by"].astype(str)) == {"total", "stratum", "profile", "couverture"}
    strata = ain[ain["by"] == "stratum"]["group"].astype(str).tolist()
    assert "Moins de 500 habitants" in strata and "1\u202f000 à 3\u202f499 habitants" in strata
    total = cell(ain, by="total")["n"]
    prof = ain[ain["by"] == "profile"]["n"].sum()
    assert prof == total
    # universe counts per stratum come from the reference
    s = ain[ain["by"] == "stratum"]
    s = s.set_index(s["group"].astype(str))
    assert s.loc["Moins de 500 habitants", "universe_count"] > 100


def test_commune_level_has_no_breakdown(small):
    t = agg(small, level="commune", indicators="cyber_pca", by="profile", mode="restricted")
    assert set(t["by"].astype(str)) == {"total"}


def test_responses_without_territory_count_in_france_only(territories):
    r = make_responses(
        {"inclusion_cnfs": ["oui", "non", "oui"]},
        codes=["01001", None, "syndicat:01"],
        territories=territories,
    )
    with pytest.warns(DataQualityWarning, match="count in the France totals only"):
        t = bg.aggregate(
            r,
            level=["departement", "france"],
            indicators="inclusion_cnfs",
            mode="restricted",
            weights=None,
        )
    assert t.attrs["barometre_geo"]["without_territory"] == {"syndicat": 1}
    assert cell(t, level="france", by="total")["respondents"] == 3
    assert cell(t, level="france_metropolitaine", by="total")["respondents"] == 2
    assert cell(t, level="departement", code="01", by="total")["respondents"] == 2


def test_every_wave_question_counts_each_collectivity_once(territories):
    r = make_responses(
        {"profil_mutualisation": ["oui", "non", "oui"]},
        codes=["01001", "01001", "01028"],
        waves=[1, 2, 1],
        territories=territories,
    )
    t = agg(r, level="france", indicators="profil_mutualisation", mode="restricted")
    c = cell(t, level="france", by="total")
    assert c["n"] == 2 and c["value"] == pytest.approx(0.5)  # latest answer of 01001: non


def test_weighted_columns(small):
    w = pd.Series(1.0, index=small.data.index)
    t = bg.aggregate(small, level="france", indicators="inclusion_cnfs", weights=w)
    c = cell(t, level="france", by="total")
    assert c["value_weighted"] == pytest.approx(c["value"])
    assert c["deff"] == pytest.approx(1.0)
    # weights 2 for communes: Σw·y and Σy of France give the sum of the 3 other answers
    # (an EPCI and two councils), fewer than k: the weighted figures are withheld
    w2 = pd.Series(np.where(small.data["kind"] == "commune", 2.0, 1.0), index=small.data.index)
    t2 = bg.aggregate(small, level="france", indicators="inclusion_cnfs", weights=w2)
    c2 = cell(t2, level="france", by="total")
    assert not c2["suppressed"] and c2["value"] == c["value"]
    assert np.isnan(c2["value_weighted"]) and np.isnan(c2["deff"])
    assert t2.attrs["barometre_geo"]["weighted_withheld"] >= 1
    # without threshold (restricted mode, non-sensitive indicator) they are shown
    t3 = bg.aggregate(
        small, level="france", indicators="inclusion_cnfs", weights=w2, mode="restricted"
    )
    c3 = cell(t3, level="france", by="total")
    assert c3["deff"] > 1 and c3["value"] == c["value"]
    none = agg(small, level="france", indicators="inclusion_cnfs")
    assert none["value_weighted"].isna().all()


def test_default_weights_are_calibration(small):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        t = bg.aggregate(small, level="france", indicators="inclusion_cnfs")
    assert t.attrs["barometre_geo"]["weights"] == "calibration"
    assert cell(t, level="france", by="total")["value_weighted"] == pytest.approx(
        cell(t, level="france", by="total")["value_weighted"]
    )
    assert t["value_weighted"].notna().any()


def test_same_figures_whatever_the_call(small):
    """Protection is computed on every level and total, so calls cannot be combined."""
    one = agg(small, level="departement", indicators="cyber_pca")
    two = agg(small, level=["departement", "region"], indicators="cyber_pca", by="profile")
    a = one[one["by"] == "total"].reset_index(drop=True)
    b = two[(two["level"] == "departement") & (two["by"] == "total")].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_categorical=False)


def test_low_reliability(small):
    t = agg(small, level="france", indicators="inclusion_cnfs")
    c = cell(t, level="france", by="total")
    assert c["n"] < 30 and bool(c["low_reliability"])


# ------------------------------------------------------------------ errors


def test_unknown_level(small):
    with pytest.raises(UnknownValueError, match=r"Unknown level 'canton'. Valid levels: commune"):
        bg.aggregate(small, level="canton")
    with pytest.raises(UnknownValueError, match=r"needs at least one level. Valid levels"):
        bg.aggregate(small, level=[])


def test_unknown_indicator(small):
    with pytest.raises(UnknownValueError, match=r"Unknown indicator 'cyber_pcaa'.*cyber_pca"):
        bg.aggregate(small, level="france", indicators="cyber_pcaa")


def test_indicator_absent_from_the_data(small):
    with pytest.raises(SchemaError, match=r"lacks its column.*Read that wave's export"):
        bg.aggregate(small, level="france", indicators="demat_bulletins_paie")


def test_unknown_breakdown(small):
    with pytest.raises(UnknownValueError, match=r"Unknown breakdown by='taille'. Valid breakdowns"):
        bg.aggregate(small, level="france", by="taille")


def test_unknown_mode_and_thresholds(small):
    with pytest.raises(UnknownValueError, match="Valid modes: public, restricted"):
        bg.aggregate(small, level="france", mode="open")
    with pytest.raises(ValueError, match="Pass k_sensitive >= 5"):
        bg.aggregate(small, level="france", k_sensitive=3)
    with pytest.raises(ValueError, match=r"k=0 must be an integer ≥ 1"):
        bg.aggregate(small, level="france", k=0)


def test_unknown_weights(small):
    with pytest.raises(UnknownValueError, match="Valid values: 'calibration'"):
        bg.aggregate(small, level="france", weights="poids")
    bad = pd.Series(-1.0, index=small.data.index)
    with pytest.raises(SchemaError, match="one finite positive weight per response"):
        bg.aggregate(small, level="france", weights=bad)


def test_not_responses():
    with pytest.raises(SchemaError, match=r"expects a Responses object.*read_responses"):
        bg.aggregate(pd.DataFrame(), level="france")


def _with(r, **cols):
    data = r.data.copy()
    for k, v in cols.items():
        data[k] = v
    return type(r)(data=data, report=r.report, catalogue=r.catalogue, edition=r.edition)


def test_bad_geography(small):
    bad = small.data["departement"].astype(object).copy()
    bad.iloc[0] = "38"
    with pytest.raises(SchemaError, match=r"inconsistent with their commune.*from the reference"):
        bg.aggregate(_with(small, departement=bad), level="france", weights=None)
    unknown = small.data["commune"].astype(object).copy()
    unknown.iloc[0] = "99999"
    with pytest.raises(
        SchemaError, match=r"absent from the territorial reference \(first: \['99999'"
    ):
        bg.aggregate(_with(small, commune=unknown), level="france", weights=None)
    fine = small.data["commune"].astype(object).copy()
    fine.iloc[len(DOMBES) + len(PLAINE)] = "01001"  # the EPCI's row
    with pytest.raises(SchemaError, match="leave 'commune' empty for it"):
        bg.aggregate(_with(small, commune=fine), level="france", weights=None)
    kinds = small.data["kind"].astype(object).copy()
    kinds.iloc[0] = "mairie"
    with pytest.raises(SchemaError, match=r"Unknown respondent kind\(s\) \['mairie'\]"):
        bg.aggregate(_with(small, kind=kinds), level="france", weights=None)


def test_unknown_option_value(small):
    vals = small.data["cyber_pca"].astype(object).copy()
    vals.iloc[0] = "peut-être"
    with pytest.raises(SchemaError, match=r"not option ids of the catalogue.*Valid options: oui"):
        bg.aggregate(_with(small, cyber_pca=vals), level="france", weights=None)


def test_missing_geography_columns(small):
    data = small.data.drop(columns=["epci"])
    r = type(small)(data=data, report=small.report, catalogue=small.catalogue, edition="x")
    with pytest.raises(SchemaError, match=r"lacks the column\(s\) \['epci'\].*read_responses"):
        bg.aggregate(r, level="france")


def test_breakdown_column_absent(small):
    with pytest.raises(SchemaError, match="needs a 'type_label' column"):
        bg.aggregate(
            _with(small).__class__(
                data=small.data.drop(columns=["type_label"]),
                report=small.report,
                catalogue=small.catalogue,
                edition="x",
            ),
            level="france",
            by="type_label",
        )


@pytest.mark.parametrize(
    "module",
    [
        "indicators.aggregate",
        "stats.intervals",
        "stats.strata",
        "indicators.tables",
        "testing.helpers",
        "protection.disclosure",
    ],
)
def test_doctests(module):
    import doctest
    import importlib

    mod = importlib.import_module(f"barometre_geo.{module}")
    assert doctest.testmod(mod, optionflags=doctest.ELLIPSIS).failed == 0


def test_bad_strata(small):
    with pytest.raises(UnknownValueError, match=r"strictly increasing positive integers"):
        bg.aggregate(small, level="france", strata=[500, 100])
    with pytest.raises(UnknownValueError, match=r"not a sequence of integers. Pass the upper"):
        bg.aggregate(small, level="france", strata="beaucoup")


def test_epci_attributed_elsewhere_than_its_seat(small):
    dep = small.data["departement"].astype(object).copy()
    reg = small.data["region"].astype(object).copy()
    i = len(DOMBES) + len(PLAINE)  # the EPCI's row: seat in the Ain
    dep.iloc[i], reg.iloc[i] = "69", "84"
    with pytest.raises(
        SchemaError, match=r"another département than the seat's.*epci\['departement'\]"
    ):
        bg.aggregate(_with(small, departement=dep, region=reg), level="france", weights=None)


def test_no_indicator_column(small):
    data = small.data[["response_id", "wave", "commune", "epci", "departement", "region"]]
    data = data.assign(type="x")
    r = type(small)(data=data, report=small.report, catalogue=small.catalogue, edition="x")
    with pytest.raises(SchemaError, match=r"no column of any catalogue indicator.*read_responses"):
        bg.aggregate(r, level="france")
