"""Random respondents and answers for :func:`barometre_geo.testing.random_responses`.

Not the calibrated demo edition: a quick generator with plausible structure
(skewed participation, regional and population effects) for tests and
benchmarks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats.strata import assign_strata

__all__ = ["draw_answers", "draw_respondents"]

_WAVES = np.array([2174, 629, 587], dtype=float)
_KINDS = ("commune", "epci", "departement", "region", "syndicat")
_KIND_P = np.array([0.88, 0.07, 0.015, 0.005, 0.03])
# over-represented régions (Localtis, Oct 2025): Nouvelle-Aquitaine, ARA, Occitanie
_REGION_BOOST = {"75": 3.0, "84": 3.0, "76": 2.5}


def _choice(rng, pool: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    size = min(size, len(pool))
    p = None if weights is None else weights / weights.sum()
    return rng.choice(pool, size=size, replace=False, p=p)


def draw_respondents(rng, n: int, territories, *, no_territory: int = 0):
    """Codes (make_responses convention) and waves of ``n`` distinct wave responses."""
    c, e = territories.communes, territories.epci
    boost_c = c["region"].map(_REGION_BOOST).fillna(1.0).to_numpy()
    pop = c["population"].astype("float64").fillna(1).clip(lower=1).to_numpy()
    w_c = boost_c * pop**0.15
    w_e = e["region"].map(_REGION_BOOST).fillna(1.0).to_numpy()
    deps = territories.departements
    dep_codes = deps["code"].astype(str).to_numpy()
    council_deps = dep_codes[deps["siren"].notna().to_numpy()]
    regs = territories.regions
    council_regs = regs.loc[regs["siren"].notna(), "code"].astype(str).to_numpy()
    n_geo = n - no_territory
    wave = rng.choice([1, 2, 3], size=n_geo, p=_WAVES / _WAVES.sum())
    kind = rng.choice(len(_KINDS), size=n_geo, p=_KIND_P)
    codes: list = []
    waves: list = []
    for wv in (1, 2, 3):
        for ki, k in enumerate(_KINDS):
            size = int(((wave == wv) & (kind == ki)).sum())
            if not size:
                continue
            if k == "commune":
                picked = list(_choice(rng, c["code"].to_numpy(dtype=object), w_c, size))
            elif k == "epci":
                picked = list(_choice(rng, e["code"].to_numpy(dtype=object), w_e, size))
            elif k == "departement":
                picked = [f"departement:{d}" for d in _choice(rng, council_deps, None, size)]
            elif k == "region":
                picked = [f"region:{r}" for r in _choice(rng, council_regs, None, size)]
            else:
                picked = [f"syndicat:{d}" for d in rng.choice(dep_codes, size=size)]
            codes += picked
            waves += [wv] * len(picked)
    codes += [None] * no_territory
    waves += list(rng.choice([1, 2, 3], size=no_territory, p=_WAVES / _WAVES.sum()))
    return codes, np.asarray(waves, dtype=np.int64)


def draw_answers(rng, data: pd.DataFrame, indicators, catalogue) -> pd.DataFrame:
    """Add random answers for ``indicators`` to a responses table."""
    n = len(data)
    region = pd.Categorical(data["region"].astype(object)).codes
    n_reg = int(region.max()) + 2
    stratum = np.asarray(assign_strata(data["population"]).codes, dtype=float)
    stratum = np.where(stratum < 0, 5, stratum) / 5 - 0.5
    kind = data["kind"].astype(str).to_numpy()
    wave = data["wave"].to_numpy()
    cols: dict[str, object] = {}
    answers: dict[str, np.ndarray] = {}  # option id chosen per row (object) for asked_if
    ordered = sorted(indicators, key=lambda i: i.asked_if is not None)
    for ind in ordered:
        col = ind.column or ind.id
        if col in ("kind", "profile"):
            continue
        asked = np.isin(kind, list(ind.universe_kinds))
        if ind.wave > 0:
            asked &= wave == ind.wave
        asked &= rng.random(n) > 0.03  # a few skip the question
        if ind.asked_if is not None:
            prev = answers.get(ind.asked_if.indicator)
            if prev is not None:
                asked &= np.isin(prev, list(ind.asked_if.options))
        z = rng.normal(0, 0.5, n_reg)[region + 1] + rng.uniform(-0.8, 0.8) * stratum
        z = z + rng.normal(0, 0.3, n)
        if ind.kind == "percentage":
            x = np.round(np.clip(rng.exponential(8.0 * np.exp(z / 2)), 0, 100), 1)
            cols[col] = np.where(asked, x, np.nan)
        elif ind.kind == "multiple_choice":
            p = rng.uniform(0.05, 0.8, len(ind.options))
            for o, po in zip(ind.option_ids, p, strict=True):
                lp = np.log(po / (1 - po)) + z
                pick = rng.random(n) < 1 / (1 + np.exp(-lp))
                cols[f"{col}.{o}"] = pd.array(np.where(asked, pick, None), dtype="boolean")
        else:
            opts = list(ind.valid)
            score = np.array([1.0 if o in ind.positive else 0.0 for o in opts])
            if ind.kind == "scale":
                order = list(ind.order)
                score = np.array(
                    [order.index(o) - len(order) / 2 if o in order else 0 for o in opts]
                )
            base = np.log(rng.dirichlet(np.full(len(opts), 2.0)))
            logits = base[None, :] + z[:, None] * score[None, :]
            prob = np.exp(logits - logits.max(axis=1, keepdims=True))
            cum = np.cumsum(prob / prob.sum(axis=1, keepdims=True), axis=1)
            idx = (rng.random(n)[:, None] > cum).sum(axis=1)
            chosen = np.array(opts, dtype=object)[np.minimum(idx, len(opts) - 1)]
            chosen = np.where(asked, chosen, None)
            answers[ind.id] = chosen
            cols[col] = pd.Categorical(chosen, categories=list(ind.option_ids))
    return pd.concat([data, pd.DataFrame(cols, index=data.index)], axis=1)
