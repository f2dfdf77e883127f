"""Model-based small-area estimates: the fitter, the aggregate columns, the flip rule."""

from __future__ import annotations

import sys
import types
import warnings

import numpy as np
import pandas as pd
import pytest

import barometre_geo as bg
from barometre_geo.errors import UnknownValueError
from barometre_geo.protection.modelled import (
    ModelPublication,
    flip_audit,
    hidden_answers,
    hidden_cell_audit,
    publication_keys,
    publish_modelled,
)
from barometre_geo.stats.estimates import MixedModel, auxiliary, fit_measure, fit_mixed
from barometre_geo.stats.estimates.design import departement_pairs, icar_structure
from barometre_geo.stats.estimates.laplace import _objective, _Ops
from barometre_geo.stats.estimates.model import MODEL_LEVELS, small_territory_answers
from barometre_geo.stats.prepare import _dedup_latest, indicator_measures, prepare_rows
from barometre_geo.stats.units import build_geo

#: A sensitive indicator whose national direct figure is published in the demo (so it is
#: modelled), with many départements hidden (below k_sensitive, attribute rule).
SENSITIVE = "cyber_rssi"
INDICATORS = ["inclusion_cnfs", SENSITIVE, "outils_materiel_reconditionne", "infra_connexion"]
LEVELS = ["epci", "departement", "region", "france"]


def _toy(n=1500, seed=0, family="binomial", spatial=False):
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 40, n)
    r = d // 8
    u, v = rng.normal(0, 0.5, 40), rng.normal(0, 0.3, 5)
    structure = ()
    if spatial:  # 38 units on a line (neighbours i, i + 1) and two islands
        line = np.arange(37)
        structure = (icar_structure(40, line, line + 1), None)
        u = u + np.cumsum(rng.normal(0, 0.2, 40))
    x = rng.normal(size=n)
    eta = -0.4 + 0.8 * x + u[d] + v[r]
    if family == "binomial":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    else:
        y = 10 * eta + rng.normal(0, 4, n)
    X = np.column_stack([np.ones(n), x])
    return MixedModel(X, (d, r), (40, 5), y, np.ones(n), structure)


@pytest.mark.parametrize("spatial", [False, True], ids=["iid", "bym"])
@pytest.mark.parametrize("family", ["binomial", "gaussian"])
def test_laplace_gradient_is_exact(family, spatial):
    m = _toy(family=family, spatial=spatial)
    ops = _Ops(m)
    x0 = np.log([0.4, 0.3] + ([0.5] if spatial else []) + ([3.0] if family == "gaussian" else []))
    _, grad = _objective(x0, ops, m.y, m.n, m, family, {"theta": np.zeros(ops.P)})
    for j in range(len(x0)):
        e = np.zeros(len(x0))
        e[j] = 1e-5
        up = _objective(x0 + e, ops, m.y, m.n, m, family, {"theta": np.zeros(ops.P)})[0]
        down = _objective(x0 - e, ops, m.y, m.n, m, family, {"theta": np.zeros(ops.P)})[0]
        assert grad[j] == pytest.approx((up - down) / 2e-5, rel=1e-4, abs=1e-4)


def test_laplace_recovers_the_model():
    fit = fit_mixed(_toy(n=4000, seed=3))
    assert fit.converged
    assert fit.beta[1] == pytest.approx(0.8, abs=0.1)
    assert 0.3 < fit.sigma[0] < 0.75


def _effect_moments(fit, k=0):
    """Mixture mean and variance of the k-th random effect's levels."""
    F, sizes = fit.n_fixed, fit.sizes
    sl = slice(F + sum(sizes[:k]), F + sum(sizes[: k + 1]))
    mean = sum(p.weight * p.theta[sl] for p in fit.points)
    second = 0.0
    for p in fit.points:
        cov = np.linalg.inv(p.chol @ p.chol.T)
        second = second + p.weight * (np.diag(cov)[sl] + p.theta[sl] ** 2)
    return mean, second - mean**2


def test_integration_over_the_variances_widens_what_few_answers_leave_open():
    # 200 answers over 40 départements and no département effect at all: the data say
    # little about σ_d; plugging in a mode on the boundary (σ_d → 0) pooled everything
    rng = np.random.default_rng(5)
    d = rng.integers(0, 40, 200)
    y = (rng.random(200) < 0.4).astype(float)
    m = MixedModel(np.ones((200, 1)), (d, d // 8), (40, 5), y, np.ones(200))
    plug = fit_mixed(m, integrate=False)
    fit = fit_mixed(m)
    assert len(plug.points) == 1 and len(fit.points) == 9  # central composite design, 2 sds
    assert sum(p.weight for p in fit.points) == pytest.approx(1.0)
    s_d = [p.sigma[0] for p in fit.points]
    assert min(s_d) < fit.sigma[0] < max(s_d) and max(s_d) > 1.5 * fit.sigma[0]
    assert fit.sigma[0] > 0.05  # the posterior of log σ keeps its mode off the boundary
    _, var_plug = _effect_moments(plug)
    _, var = _effect_moments(fit)
    assert np.mean(var) > 1.02 * np.mean(var_plug)  # + the spread of the points


def test_spatial_part_borrows_from_neighbours():
    # a smooth field on a line of 40 départements, every third one without answers
    rng = np.random.default_rng(11)
    field = np.cumsum(rng.normal(0, 0.35, 40))
    field -= field.mean()
    d = rng.integers(0, 40, 3000)
    d = d[d % 3 != 1]
    y = (rng.random(len(d)) < 1 / (1 + np.exp(-(field[d])))).astype(float)
    line = np.arange(39)
    X = np.ones((len(d), 1))
    iid = MixedModel(X, (d,), (40,), y, np.ones(len(d)))
    bym = MixedModel(X, (d,), (40,), y, np.ones(len(d)), (icar_structure(40, line, line + 1),))
    empty = np.arange(1, 40, 3)
    err = {}
    for name, m in (("iid", iid), ("bym", bym)):
        fit = fit_mixed(m)
        u, _ = _effect_moments(fit)
        err[name] = np.sqrt(np.mean((u + fit.beta[0] - field)[empty] ** 2))
    assert err["bym"] < 0.6 * err["iid"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return bg.load_demo(cache_dir=tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def covered(territories):
    return set(bg.load_demo_structures(territories).members["commune"])


@pytest.fixture(scope="module")
def tables(demo, territories, covered):
    kw = dict(level=LEVELS, indicators=INDICATORS, territories=territories)
    direct = bg.aggregate(demo, **kw)
    model = bg.aggregate(demo, **kw, estimates="model", covered=covered)
    return direct, model


def test_model_columns_sit_next_to_the_direct_ones(tables):
    direct, model = tables
    from barometre_geo.indicators.modelled import MODEL_COLUMNS

    assert list(model.columns) == [*direct.columns, *MODEL_COLUMNS]
    # every EPCI gets a modelled row; those without answer are added, direct figures hidden
    added = (model["level"] == "epci") & (model["respondents"] == 0)
    assert added.sum() > 1000
    assert model.loc[added, "suppressed"].all() and model.loc[added, "n"].isna().all()
    assert model.loc[added, "model_publication"].notna().all()
    same = model[~added].reset_index(drop=True)
    for c in direct.columns:  # the direct figures are untouched
        a, b = direct[c], same[c]
        assert (
            a.astype(object).where(a.notna(), None).equals(b.astype(object).where(b.notna(), None))
        ), c
    tot = model[(model["by"] == "total") & (model["level"] != "commune")]
    sensitive_epci = (tot["indicator"] == SENSITIVE) & (tot["level"] == "epci")
    assert tot.loc[~sensitive_epci, "estimator"].eq("mrp").all()
    assert tot.loc[sensitive_epci, "estimator"].isna().all()
    shown = tot[tot["model_publication"] == "value"]
    v = shown["model_value"].to_numpy()
    assert np.all((shown["model_ci_low"] <= v) & (v <= shown["model_ci_high"]))
    info = model.attrs["barometre_geo"]["model"]
    assert info["measures"] == 4  # one headline measure each
    assert "post-stratifiée" in info["method"]


def test_modelled_national_share_of_collectivities_is_near_the_weighted_direct_one(tables):
    _, model = tables
    fr = model[(model["level"] == "france") & model["option"].isna()]
    for _, row in fr.iterrows():
        scale = 100 if row["indicator"] == "outils_materiel_reconditionne" else 1
        assert abs(row["model_value"] - row["value_weighted"]) < 0.04 * scale, row["indicator"]


def test_sensitive_indicator_has_no_modelled_epci_figure(demo, territories, tables, prepared):
    _, model = tables
    rows = model[(model["indicator"] == SENSITIVE) & (model["level"] == "epci")]
    assert rows["model_value"].isna().all()
    # small or hidden départements: left out of the model, synthetic, published in full —
    # except inside a région left with 1 to k − 1 answers in the model (Guadeloupe: its
    # département hidden, the région's own answer left), whose few answers the flip rule screens
    geo, prep, aux, dedup = prepared
    plan = indicator_measures(demo.catalogue.get(SENSITIVE), demo.data, prep.kind,
                              options=False, dedup=dedup)  # fmt: skip
    secret = _direct_secret(model, geo, SENSITIVE)
    left_out = small_territory_answers(aux, plan.V, 10) | hidden_answers(secret, prep.units, plan.V)
    reg = prep.units["region"][plan.V & ~left_out & (prep.units["region"] >= 0)]
    n_reg = np.bincount(reg, minlength=geo.units("region"))
    screened = set(geo.index["region"][(n_reg > 0) & (n_reg < 10)])
    region_of = territories.departements.set_index("code")["region"]
    dep = model[(model["indicator"] == SENSITIVE) & (model["level"] == "departement")]
    inside = dep["code"].astype(object).map(region_of).isin(screened).to_numpy()
    assert dep["model_publication"].notna().all()
    assert dep.loc[~inside, "model_publication"].eq("value").all()
    assert (dep.loc[~inside, "suppressed"]).sum() > 20  # hidden direct, modelled in full


def test_sensitive_indicator_with_a_hidden_national_figure_has_no_modelled_figure(
    demo, territories, covered
):
    """Its hidden national cell leaves every answer out of the model: nothing is published.

    The national cell is hidden here by a threshold above its answers
    (``k_sensitive``): the demo's own protection publishes it since France and its
    zones are the last complements the audit tries.
    """
    kw = dict(level=["departement", "region", "france"], indicators="cyber_pca",
              territories=territories, k_sensitive=5000)  # fmt: skip
    direct = bg.aggregate(demo, **kw)
    fr = direct[(direct["level"] == "france") & (direct["by"] == "total")]
    assert fr["suppressed"].all()
    model = bg.aggregate(demo, **kw, estimates="model", covered=covered)
    assert model["model_value"].isna().all() and model["model_class_low"].isna().all()
    assert model["model_publication"].isna().all() and model["estimator"].isna().all()
    assert model.attrs["barometre_geo"]["model"]["not_fitted"] == ["cyber_pca:"]


def test_model_uses_nothing_of_the_demo_generator(demo, territories, covered, monkeypatch):
    """The demo's answer model must be out of reach of the estimator."""

    class Poisoned(types.ModuleType):
        def __getattr__(self, name):
            raise AssertionError(f"the estimator read the demo generator ({self.__name__}.{name})")

    for name in ("barometre_geo.demo.answers", "barometre_geo.demo.targets"):
        monkeypatch.setitem(sys.modules, name, Poisoned(name))
    table = bg.aggregate(
        demo, level=["departement", "france"], indicators=["inclusion_cnfs"],
        territories=territories, estimates="model", covered=covered,
    )  # fmt: skip
    assert table["model_value"].notna().any()


def test_unknown_estimates_value_is_refused(demo):
    with pytest.raises(UnknownValueError, match="Valid values: direct, model"):
        bg.aggregate(demo, level="region", indicators="inclusion_cnfs", estimates="modelled")


def test_publication_keys_round_to_whole_points_and_compare_with_france():
    keys, cls = publication_keys([0.234], [0.15], [0.33], 0.40, "binomial")
    assert keys[0].tolist() == [23, 15, 33, 1, 1, -1]
    assert cls[0].tolist() == [1]


@pytest.fixture(scope="module")
def prepared(demo, territories, covered):
    geo = build_geo(territories)
    prep = prepare_rows(demo.data, geo)
    aux = auxiliary(geo, prep, covered=covered, dep_pairs=departement_pairs(territories))
    return geo, prep, aux, _dedup_latest(demo.data)


def _audit(demo, prepared, indicator, *, rule: bool):
    geo, prep, aux, dedup = prepared
    ind = demo.catalogue.get(indicator)
    plan = indicator_measures(ind, demo.data, prep.kind, options=False, dedup=dedup)
    k = 10 if ind.sensitive else 5
    mm = fit_measure(
        aux, kinds=plan.kinds, y=plan.values[0], valid=plan.V, is_mean=plan.is_mean,
        n_units={lv: geo.units(lv) for lv in MODEL_LEVELS},
        exclude=small_territory_answers(aux, plan.V, k) if rule else None,
    )  # fmt: skip
    est = mm.estimates()
    levels = [lv for lv in ("epci", "departement", "region") if lv in ind.levels]
    unit_of = {lv: prep.units[lv][mm.rows] for lv in ("epci", "departement", "region")}
    pub = publish_modelled(mm, est, unit_of=unit_of, k=k, levels=levels)
    if not rule:
        pub = {lv: ModelPublication(np.where(p.tier >= 0, 0, -1), p.audited, p.n)
               for lv, p in pub.items()}  # fmt: skip
    return pub, flip_audit(mm, est, pub, units=prep.units, valid=plan.V, k=k)


@pytest.mark.slow
@pytest.mark.parametrize("indicator", ["cyber_pca", "services_dispositif_recueil"])
def test_flip_audit_passes_on_the_demo(demo, prepared, indicator):
    pub, violations = _audit(demo, prepared, indicator, rule=True)
    assert violations == []
    assert sum(int((p.tier >= 0).sum()) for p in pub.values()) > 100


@pytest.mark.slow
def test_flip_audit_fails_with_the_rule_off(demo, prepared):
    # every figure published to the point, small départements' answers used
    _, violations = _audit(demo, prepared, "services_dispositif_recueil", rule=False)
    assert {v["level"] for v in violations} >= {"epci", "departement"}
    assert len(violations) > 100


def test_aggregate_without_coverage_still_models(demo, territories):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = bg.aggregate(demo, level=["region", "france"], indicators="inclusion_cnfs",
                         territories=territories, estimates="model")  # fmt: skip
    assert t.loc[t["level"] == "region", "model_value"].notna().all()


def test_build_setting_estimates_is_checked():
    from barometre_geo.build.settings import resolve_settings

    assert resolve_settings().estimates == "model"
    assert resolve_settings(estimates="direct").estimates == "direct"
    with pytest.raises(UnknownValueError, match=r"Valid values: model .*direct"):
        resolve_settings(estimates="mrp")


def test_coverage_covariate_reads_codes_in_any_container(territories):
    geo = build_geo(territories)
    from barometre_geo.testing import random_responses

    r = random_responses(300, seed=2)
    prep = prepare_rows(r.data, geo)
    members = bg.load_demo_structures(territories).members["commune"]
    as_set = auxiliary(geo, prep, covered=set(members))
    as_series = auxiliary(geo, prep, covered=members)  # a Series of codes (the build's)
    flags = pd.Series(True, index=pd.Index(members.unique()))
    as_flags = auxiliary(geo, prep, covered=flags)
    assert as_set.ref_served.sum() > 10_000
    np.testing.assert_array_equal(as_series.ref_served, as_set.ref_served)
    np.testing.assert_array_equal(as_flags.ref_served, as_set.ref_served)


def test_coverage_moves_the_estimates(demo, territories, covered):
    kw = dict(level=["departement"], indicators="profil_mutualisation", territories=territories,
              estimates="model")  # fmt: skip
    with_cov = bg.aggregate(demo, covered=covered, **kw)["model_value"].to_numpy()
    without = bg.aggregate(demo, **kw)["model_value"].to_numpy()
    assert np.nanmax(np.abs(with_cov - without)) > 0.01


def _direct_secret(table, geo, indicator):
    """Hidden direct overall cells of one measure, per level, read from the published table."""
    tot = table[(table["by"] == "total") & (table["indicator"] == indicator)]
    tot = tot[tot["option"].isna()]
    out = {}
    for lv in ("departement", "region", "zone", "france"):
        if lv == "zone":
            rows = tot[tot["level"].isin(["france_metropolitaine", "outre_mer"])]
            idx = np.where(rows["level"] == "france_metropolitaine", 0, 1)
        elif lv == "france":
            rows = tot[tot["level"] == "france"]
            idx = np.zeros(len(rows), dtype=int)
        else:
            rows = tot[tot["level"] == lv]
            idx = geo.index[lv].get_indexer(rows["code"].astype(object))
        mask = np.zeros(geo.units(lv), dtype=bool)
        mask[idx] = rows["suppressed"].to_numpy(bool)
        out[lv] = mask
    return out


def test_no_modelled_figure_moves_with_a_hidden_sensitive_cell(demo, territories, tables, prepared):
    """Disclosure hole of the first version: a département hidden by the attribute rule
    (e.g. every answer "Non") had its modelled figure fitted on its answers, and published."""
    geo, prep, aux, dedup = prepared
    _, model = tables
    ind = demo.catalogue.get(SENSITIVE)
    plan = indicator_measures(ind, demo.data, prep.kind, options=False, dedup=dedup)
    secret = _direct_secret(model, geo, SENSITIVE)
    detailed = bg.aggregate(demo, level="departement", indicators=SENSITIVE,
                            territories=territories, detailed_reasons=True)  # fmt: skip
    assert (detailed["reason"] == "attribute_sensitive").sum() >= 5  # the case in point
    assert secret["departement"].sum() > 20 and not secret["france"].any()
    tot = model[(model["indicator"] == SENSITIVE) & (model["by"] == "total")]
    published = {}
    for lv in ("departement", "region"):
        rows = tot[tot["level"] == lv]
        tier = np.full(geo.units(lv), -1)
        codes = rows["model_publication"].cat.codes.to_numpy()
        tier[geo.index[lv].get_indexer(rows["code"].astype(object))] = codes
        published[lv] = tier
    n_units = {lv: geo.units(lv) for lv in MODEL_LEVELS}
    small = small_territory_answers(aux, plan.V, 10)
    kw = dict(aux=aux, kinds=plan.kinds, y=plan.values[0], valid=plan.V, is_mean=False,
              n_units=n_units)  # fmt: skip
    # the rule (the build's model): what the table publishes does not move
    mm = fit_measure(**{**kw, "exclude": small | hidden_answers(secret, prep.units, plan.V)})
    est = mm.estimates()
    dep = tot[tot["level"] == "departement"]
    shown = dep["model_publication"] == "value"
    idx = geo.index["departement"].get_indexer(dep.loc[shown, "code"].astype(object))
    np.testing.assert_allclose(est["departement"].value[idx], dep.loc[shown, "model_value"])
    audit = dict(hidden=secret, units=prep.units, valid=plan.V)
    assert hidden_cell_audit(mm, est, published, **audit) == []
    # the rule off (only départements below k_sensitive left out): the hidden cells leak
    mm_off = fit_measure(**{**kw, "exclude": small})
    leaks = hidden_cell_audit(mm_off, mm_off.estimates(), published, **audit, each=False)
    cells = {v["cell"] for v in leaks}
    assert len(cells) >= 10 and {v["level"] for v in leaks} >= {"departement", "region"}


def test_model_leaves_out_every_hidden_direct_cell_of_a_sensitive_measure(
    demo, territories, monkeypatch
):
    """Every option of a sensitive question: the cells the model leaves out are those
    the published direct table hides (option rows of a multiple choice hidden alone too)."""
    import barometre_geo.indicators.modelled as modelled

    seen = {}

    def spy(table, fits, *, hidden=None):
        seen.update(hidden=hidden, plans=fits.plans)
        fits.close()
        return {}, {}, None

    monkeypatch.setattr(modelled, "model_columns", spy)
    table = bg.aggregate(demo, level=["departement", "region", "france"], options=True,
                         indicators=["cyber_protections", "cyber_rssi", "inclusion_cnfs"],
                         territories=territories, estimates="model")  # fmt: skip
    geo = build_geo(territories)
    hidden, plans = seen["hidden"], seen["plans"]
    assert {plans[i].id for i, _ in hidden} == {"cyber_protections", "cyber_rssi"}
    checked = 0
    for (i, m), per_level in hidden.items():
        rows = table[(table["indicator"] == plans[i].id) & (table["by"] == "total")]
        option = plans[i].options[m]
        rows = rows[rows["option"] == option] if option else rows[rows["option"].isna()]
        for lv in ("departement", "region"):
            part = rows[rows["level"] == lv]
            want = np.zeros(geo.units(lv), dtype=bool)
            want[geo.index[lv].get_indexer(part["code"].astype(object))] = part["suppressed"]
            np.testing.assert_array_equal(per_level[lv], want, err_msg=f"{plans[i].id}:{option}")
            checked += int(want.sum())
    # option rows hidden alone: some options of cyber_protections differ from their cell
    prot = [m for (i, m) in hidden if plans[i].id == "cyber_protections"]
    masks = [hidden[(next(i for i, p in enumerate(plans) if p.id == "cyber_protections"), m)]
             ["departement"] for m in prot]  # fmt: skip
    assert any((a != masks[0]).any() for a in masks[1:]) and checked > 100


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork")
def test_model_workers_stop_when_the_direct_protection_fails(demo, territories, monkeypatch):
    """The workers start fitting before the direct figures are protected: an error in
    between must stop them at once (no worker left fitting for a table that never comes)."""
    import multiprocessing as mp

    import barometre_geo.indicators.modelled as modelled

    agg_mod = sys.modules["barometre_geo.indicators.aggregate"]  # the package exports the function

    started = []
    real_start = modelled.start_fits

    def start(*args, **kw):
        fits = real_start(*args, **kw)
        started.append(fits.pool is not None and len(mp.active_children()) >= 2)
        return fits

    def broken(*args, **kw):
        raise RuntimeError("protection failed")

    monkeypatch.setattr(modelled, "start_fits", start)
    monkeypatch.setattr(agg_mod, "protect", broken)
    with pytest.raises(RuntimeError, match="protection failed"):
        bg.aggregate(demo, level=LEVELS, indicators=INDICATORS, territories=territories,
                     estimates="model")  # fmt: skip
    assert started == [True]  # the workers were running when the protection failed
    assert not mp.active_children()
    assert not modelled._STATE
