import doctest

import numpy as np
import pandas as pd
import pytest

import barometre_geo as bg
from barometre_geo.errors import SchemaError
from barometre_geo.stats import weighting
from barometre_geo.stats.weighting import calibration_weights, rake
from barometre_geo.testing import random_responses


def test_doctests():
    assert doctest.testmod(weighting).failed == 0


def sample(seed=0, n=400):
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "region": rng.choice(["A", "B", "C"], size=n, p=[0.6, 0.3, 0.1]),
            "size": rng.choice(["s", "m", "l"], size=n, p=[0.2, 0.3, 0.5]),
        }
    )
    targets = {"region": {"A": 300, "B": 400, "C": 300}, "size": {"s": 600, "m": 250, "l": 150}}
    return data, targets


def margins(data, w, col):
    return w.groupby(data[col]).sum().to_dict()


def test_rake_meets_the_margins():
    data, targets = sample()
    r = rake(data, targets, bounds=None)
    assert r.converged and r.max_margin_error < 1e-6
    for col, t in targets.items():
        got = margins(data, r.weights, col)
        assert got == pytest.approx(t, rel=1e-6)
    s = r.summary()
    assert s["n"] == 400 and s["sum_weights"] == pytest.approx(1000)
    assert s["deff"] == pytest.approx(1 + s["cv"] ** 2, rel=1e-2)
    assert s["n_eff"] == pytest.approx(400 / s["deff"])
    assert "converged" in repr(r)


def test_rake_equals_post_stratification_on_one_margin():
    data, targets = sample()
    r = rake(data, {"region": targets["region"]}, bounds=None)
    counts = data["region"].value_counts()
    expected = data["region"].map(lambda g: targets["region"][g] / counts[g])
    assert r.weights.to_numpy() == pytest.approx(expected.to_numpy())


def test_trimming_keeps_weights_in_bounds():
    data, targets = sample()
    free = rake(data, targets, bounds=None)
    mean = 1000 / len(data)
    assert free.weights.max() > 3 * mean  # the skewed sample needs large weights
    r = rake(data, targets, bounds=(0.3, 6.0))
    assert r.weights.max() <= 6 * mean + 1e-9 and r.weights.min() >= 0.3 * mean - 1e-9
    assert r.converged and r.trimmed > 0
    for col, t in targets.items():
        assert margins(data, r.weights, col) == pytest.approx(t, rel=1e-5)


def test_impossible_bounds_do_not_converge():
    data, targets = sample()
    r = rake(data, targets, bounds=(0.9, 1.1), max_iter=50)
    assert not r.converged and r.max_margin_error > 0.01 and r.iterations == 50
    assert "NOT converged" in repr(r)


def test_target_categories_without_units_are_dropped_and_reported():
    data = pd.DataFrame({"region": ["A", "A", "B"], "size": ["s", "l", "l"]})
    targets = {"region": {"A": 60, "B": 40, "C": 10}, "size": {"s": 50, "l": 50, "xl": 10}}
    r = rake(data, targets, bounds=None)
    assert r.converged and r.dropped == (("region", "C", 10.0), ("size", "xl", 10.0))
    with pytest.raises(SchemaError, match=r"same grand total.*calibration_weights\(\) does this"):
        rake(data, {"region": {"A": 60, "B": 40, "C": 10}, "size": {"s": 55, "l": 55}})


def test_rake_errors():
    data, targets = sample()
    with pytest.raises(SchemaError, match="at least one row"):
        rake(data.iloc[:0], targets)
    with pytest.raises(SchemaError, match=r"\['stratum'\] are absent.*after a column"):
        rake(data, {"stratum": {"a": 1}})
    bad = data.copy()
    bad.loc[0, "region"] = None
    with pytest.raises(SchemaError, match=r"no value in margin column 'region'. Drop them"):
        rake(bad, targets)
    with pytest.raises(SchemaError, match=r"categories \['C'\] of the data have no target"):
        rake(data, {"region": {"A": 1, "B": 1}})
    with pytest.raises(ValueError, match="base_weights must be finite, positive"):
        rake(data, targets, base_weights=np.zeros(len(data)))
    with pytest.raises(ValueError, match="must satisfy 0 < low ≤ 1 ≤ high"):
        rake(data, targets, bounds=(3, 0.3))


@pytest.fixture(scope="module")
def responses():
    return random_responses(1500, seed=7)


def test_calibration_weights_reproduce_the_reference(responses, territories):
    cw = calibration_weights(responses, territories)
    assert cw.converged and "all converged" in repr(cw)
    d = responses.data
    w = cw.weights
    assert w.index.equals(d.index) and (w > 0).all()
    rep = cw.report.set_index(["wave", "group"])
    communes = territories.communes
    for wave in (1, 2, 3):
        m = (d["wave"] == wave) & (d["kind"] == "commune")
        row = rep.loc[(wave, "commune")]
        # weights sum to the communes of the régions × strata covered by respondents
        assert w[m].sum() == pytest.approx(len(communes) - row["uncovered"], rel=1e-6)
        by_region = w[m].groupby(d.loc[m, "region"]).sum()
        ref = communes.groupby("region").size()
        # a région is fully covered when all its strata are; others are close
        assert (by_region <= ref.reindex(by_region.index) + 1e-6).all()
        assert row["deff"] >= 1 and row["n_eff"] <= row["n"]
        dep = (d["wave"] == wave) & (d["kind"] == "departement")
        if dep.any():
            assert w[dep].sum() == pytest.approx(95)  # 93 conseils + CeA + Mayotte
    syn = d["kind"] == "syndicat"
    assert (w[syn] == 1).all()
    assert set(cw.report["group"]) >= {"commune", "epci", "other"}


def test_infeasible_margins_fall_back_to_one_and_say_so(responses, territories):
    cw = calibration_weights(responses, territories, bounds=(0.95, 1.05))
    assert cw.converged and cw.fallbacks > 0 and "on one margin only" in repr(cw)
    fb = cw.report[cw.report["margins"].str.contains("fallback")]
    assert fb["margins"].str.contains("cannot be met").all()
    with pytest.raises(ValueError, match="0 < low ≤ 1 ≤ high"):
        calibration_weights(responses, territories, bounds=(1.5, 3))


def test_calibration_needs_kind_and_region(responses, territories):
    data = responses.data.drop(columns=["region"])
    r = type(responses)(data=data, report=responses.report, catalogue=responses.catalogue,
                        edition="x")  # fmt: skip
    with pytest.raises(SchemaError, match="no 'region' column, needed for weighting"):
        calibration_weights(r, territories)


def test_weighted_estimates_in_aggregate(responses, territories):
    cw = calibration_weights(responses, territories)
    t = bg.aggregate(responses, level="france", indicators="inclusion_cnfs", weights=cw,
                     territories=territories)  # fmt: skip
    fr = t[(t["level"] == "france") & (t["by"] == "total")].iloc[0]
    d = responses.data
    ok = d["inclusion_cnfs"].isin(["oui", "non", "ne_sait_pas"]) & (d["wave"] == 1)
    y = (d["inclusion_cnfs"] == "oui")[ok]
    w = cw.weights[ok]
    assert fr["value_weighted"] == pytest.approx((w * y).sum() / w.sum())
    n_eff = w.sum() ** 2 / (w**2).sum()
    assert fr["deff"] == pytest.approx(ok.sum() / n_eff)
    assert fr["ci_low_weighted"] < fr["value_weighted"] < fr["ci_high_weighted"]
    # the weighted interval is wider: it rests on the effective sample size
    assert fr["ci_high_weighted"] - fr["ci_low_weighted"] > fr["ci_high"] - fr["ci_low"]
