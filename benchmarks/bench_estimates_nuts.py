"""The Laplace fit of the small-area model against a full Bayesian fit (PyMC, NUTS).

For three indicators of the demo edition, the model of
``barometre_geo.stats.estimates`` (same rows, design, priors: intercept
N(0, 10²), other fixed effects N(0, 2.5²), half-normal(1) standard deviations of
the département (independent and spatial BYM parts) and région intercepts) is
fitted twice: by the package's Laplace approximation integrated over the
variance parameters, and by PyMC's NUTS (4 chains, 1,000 draws each after
1,000 tuning steps, non-centred random effects). Both are post-stratified on
the same census of collectivities; the table gives, over the 101 départements,
the largest and mean absolute difference (points) between the Laplace estimate
and the NUTS posterior mean and median, the NUTS interval coverage of the
Laplace estimate, the ratio of the interval widths, the convergence of NUTS
(largest R-hat, smallest bulk ESS, divergences) and the timings side by side.

    pip install -e ".[bayes]"          # PyMC
    python benchmarks/bench_estimates_nuts.py [--draws 1000] [--chains 4] [--tune 1000]

Goal (issue 13): within 1 point on every département (the Laplace estimate is
the mean of its mixture, so it is compared with the NUTS posterior mean; the
median is printed too).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

INDICATORS = ("inclusion_cnfs", "cyber_pca", "services_dispositif_recueil")


def _prepare(ind_id: str):
    import barometre_geo as bg
    from barometre_geo.stats.estimates.design import auxiliary, departement_pairs
    from barometre_geo.stats.estimates.model import (
        MODEL_LEVELS,
        fit_measure,
        small_territory_answers,
    )
    from barometre_geo.stats.prepare import _dedup_latest, indicator_measures, prepare_rows
    from barometre_geo.stats.units import build_geo

    r = bg.load_demo()
    t = bg.load_territories()
    covered = set(bg.load_demo_structures(t).members["commune"])
    geo = build_geo(t)
    prep = prepare_rows(r.data, geo)
    aux = auxiliary(geo, prep, covered=covered, dep_pairs=departement_pairs(t))
    ind = r.catalogue.get(ind_id)
    plan = indicator_measures(ind, r.data, prep.kind, options=False, dedup=_dedup_latest(r.data))
    k = 10 if ind.sensitive else 5
    t0 = time.perf_counter()
    mm = fit_measure(
        aux, kinds=plan.kinds, y=plan.values[0], valid=plan.V, is_mean=plan.is_mean,
        n_units={lv: geo.units(lv) for lv in MODEL_LEVELS},
        exclude=small_territory_answers(aux, plan.V, k),
    )  # fmt: skip
    est = mm.estimates(("departement",))["departement"]
    return mm, est, time.perf_counter() - t0


def _nuts(mm, draws: int, chains: int, seed: int, tune: int = 1000):
    import arviz as az
    import pymc as pm

    m = mm.model
    F = m.X.shape[1]
    q_d, q_r = m.sizes
    dep, reg = m.groups
    with pm.Model():
        beta = pm.Normal("beta", 0.0, np.r_[10.0, np.full(F - 1, 2.5)], shape=F)
        s_d = pm.HalfNormal("s_d", 1.0)
        s_r = pm.HalfNormal("s_r", 1.0)
        z_d = pm.Normal("z_d", 0.0, 1.0, shape=q_d)
        z_r = pm.Normal("z_r", 0.0, 1.0, shape=q_r)
        u_dep = z_d * s_d
        names = ["beta", "s_d", "s_r"]
        if m.structure and m.structure[0] is not None:  # BYM: + σ_s V diag(√r) z
            V, r = m.structure[0]
            s_s = pm.HalfNormal("s_s", 1.0)
            z_s = pm.Normal("z_s", 0.0, 1.0, shape=q_d)
            u_dep = u_dep + s_s * pm.math.dot(V * np.sqrt(r), z_s)
            names.append("s_s")
        u_dep = pm.Deterministic("u", u_dep)
        u = pm.math.concatenate([u_dep, np.zeros(1)])
        v = pm.math.concatenate([z_r * s_r, np.zeros(1)])
        eta = (
            pm.math.dot(m.X, beta)
            + u[np.where(dep >= 0, dep, q_d)]
            + v[np.where(reg >= 0, reg, q_r)]
        )
        pm.Bernoulli("y", logit_p=eta, observed=m.y.astype(int))
        trace = pm.sample(draws=draws, tune=tune, chains=chains, cores=min(chains, 2),
                          random_seed=seed, progressbar=False, target_accept=0.95)  # fmt: skip
    post = trace.posterior
    summ = az.summary(trace, var_names=[*names, "u"], kind="diagnostics")
    diag = (float(summ["r_hat"].max()), float(summ["ess_bulk"].min()),
            int(trace.sample_stats["diverging"].values.sum()))  # fmt: skip
    beta = post["beta"].values.reshape(-1, F)
    u = post["u"].values.reshape(-1, q_d)
    v = (post["z_r"].values * post["s_r"].values[..., None]).reshape(-1, q_r)
    return beta, u, v, diag


def _post_stratify(mm, beta, u, v) -> np.ndarray:
    """Département values of each draw: (draws, départements)."""
    c = mm.census
    q_d, q_r = mm.fit.sizes
    t = c.units["departement"]
    ok = t >= 0
    n_t = c.n_units["departement"]
    out = np.empty((len(beta), n_t))
    dep = np.where(c.dep >= 0, c.dep, q_d)
    reg = np.where(c.reg >= 0, c.reg, q_r)
    for i in range(len(beta)):
        eta = c.X @ beta[i] + np.append(u[i], 0.0)[dep] + np.append(v[i], 0.0)[reg]
        p = 1 / (1 + np.exp(-eta))
        out[i] = np.bincount(t[ok], weights=p[ok], minlength=n_t) / c.counts["departement"]
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--tune", type=int, default=1000)
    args = p.parse_args()
    print(f"{'indicator':<30}{'max |Δ| mean':>13}{'mean |Δ|':>10}{'max |Δ| med':>12}"
          f"{'in NUTS 95 %':>13}{'width L/N':>10}{'R-hat':>7}{'ESS':>6}{'div':>5}"
          f"{'Laplace s':>10}{'NUTS s':>8}")  # fmt: skip
    worst = worst_med = 0.0
    for ind in INDICATORS:
        mm, est, t_lap = _prepare(ind)
        t0 = time.perf_counter()
        beta, u, v, (rhat, ess, div) = _nuts(mm, args.draws, args.chains, seed=2025,
                                             tune=args.tune)  # fmt: skip
        t_nuts = time.perf_counter() - t0
        draws = _post_stratify(mm, beta, u, v)
        ok = np.isfinite(est.value)
        med = np.median(draws, axis=0)[ok]
        mean = draws.mean(axis=0)[ok]
        lo, hi = np.percentile(draws, [2.5, 97.5], axis=0)
        d_med = np.abs(est.value[ok] - med) * 100
        d_mean = np.abs(est.value[ok] - mean) * 100
        inside = np.mean((lo[ok] <= est.value[ok]) & (est.value[ok] <= hi[ok]))
        # Laplace interval without its finite-population part, as NUTS's (model only)
        se_model = np.sqrt(np.maximum(est.se[ok] ** 2 - _fp_var(mm)[ok], 0))
        width = np.median(2 * 1.96 * se_model / (hi[ok] - lo[ok]))
        worst, worst_med = max(worst, d_mean.max()), max(worst_med, d_med.max())
        print(f"{ind:<30}{d_mean.max():>13.2f}{d_mean.mean():>10.2f}{d_med.max():>12.2f}"
              f"{inside:>13.0%}{width:>10.2f}{rhat:>7.3f}{ess:>6.0f}{div:>5d}"
              f"{t_lap:>10.2f}{t_nuts:>8.0f}")  # fmt: skip
    verdict = "met" if worst <= 1 else "NOT met"
    print(
        "\nGoal: the Laplace estimate within 1 point of the NUTS posterior mean on every "
        f"département — {verdict} (worst {worst:.2f} points; {worst_med:.2f} from the median)."
    )


def _fp_var(mm) -> np.ndarray:
    """Finite-population variance of each département's share (mixture over the points)."""
    pts = mm.points()
    parts = [mm._point_values(("departement",), p.theta, p.sigma_e)["departement"][1] for p in pts]
    return sum(p.weight * v for p, v in zip(pts, parts, strict=True))


if __name__ == "__main__":
    main()
