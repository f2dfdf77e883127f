"""Answers of the synthetic demo edition, calibrated on the accepted rows.

Every answer comes from a latent score per respondent and question::

    score = lam * maturity + beta * size + gamma * spatial + delta * served
            + région and département noise of the question + consistency bonuses

(:mod:`barometre_geo.demo.targets` sets the coefficients), plus logistic noise.
The categories are then cut from the ordered scores with *exact* counts —
``round(target * n)`` among the rows that answer — which is a logistic model
whose intercepts are calibrated on the realised sample: the national shares of
the published figures are reproduced by construction, while larger, better
served collectivities and some regions score higher.

``size`` is the standardised log population; ``spatial`` a smooth field (a
sum of plane waves of 250–800 km) plus a région and a département effect, so
maps show regional patterns, not flat noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .targets import PERCENTAGE_TARGETS, SPECS

__all__ = ["Answers", "covariates", "draw_answers", "draw_profiles", "percentage_targets"]

_SIDE = ("non_concerne", "ne_sait_pas")
_ORDINAL = ("oui", "oui_partiellement", "prevu", "non")
_SKIP = 0.015
_EXPLICIT_NO_ANSWER = 0.3  # share of skipped cells written "Sans réponse" where it exists


class Answers(dict):
    """indicator id -> answers aligned on the responses.

    Categorical: object array of option ids (None = blank). Multiple choice:
    ``{option: bool array}`` plus ``"__answered__"``. Percentage: float array
    (NaN = blank).
    """


def covariates(rng, units: pd.DataFrame) -> pd.DataFrame:
    """Draw the covariates of each collectivity.

    ``size`` (standardised log population), ``spatial`` (smooth field + région +
    département effects) and ``maturity`` (its general digital maturity, shared by
    all its answers).
    """
    pop = units["population"].fillna(10_000).clip(lower=20).to_numpy(dtype=float)
    size = np.clip((np.log(pop) - np.log(800)) / 1.4, -2.5, 4.0)
    x, y = units["x"].to_numpy(dtype=float), units["y"].to_numpy(dtype=float)
    k = 8
    theta = rng.uniform(0, np.pi, k)
    length = rng.uniform(250, 800, k)
    phase = rng.uniform(0, 2 * np.pi, k)
    waves = np.cos(
        2 * np.pi * (np.outer(x, np.cos(theta)) + np.outer(y, np.sin(theta))) / length + phase
    )
    field = waves.sum(axis=1) * np.sqrt(2 / k) * 0.45
    regions = sorted(units["region"].dropna().astype(str).unique())
    deps = sorted(units["departement"].dropna().astype(str).unique())
    reg_eff = dict(zip(regions, rng.normal(0, 0.3, len(regions)), strict=True))
    dep_eff = dict(zip(deps, rng.normal(0, 0.25, len(deps)), strict=True))
    spatial = (
        field
        + units["region"].astype(str).map(reg_eff).fillna(0).to_numpy()
        + units["departement"].astype(str).map(dep_eff).fillna(0).to_numpy()
    )
    return pd.DataFrame(
        {"size": size, "spatial": spatial, "maturity": rng.normal(0, 1, len(units))},
        index=units.index,
    )


def _exact_top(y: np.ndarray, n: int) -> np.ndarray:
    """Boolean mask of the ``n`` largest values of ``y``."""
    out = np.zeros(len(y), dtype=bool)
    if n > 0:
        out[np.argsort(-y, kind="stable")[:n]] = True
    return out


def draw_profiles(rng, units: pd.DataFrame, resp: pd.DataFrame, cov: pd.DataFrame) -> np.ndarray:
    """Draw ``agent``/``elu`` per response.

    Exactly 24 % élus among the collectivities' latest responses (the published
    profile, counted once per collectivity) and among the earlier ones.
    """
    u = resp["unit"].to_numpy()
    kind = units["kind"].to_numpy(dtype=object)[u]
    score = 0.9 - 0.9 * cov["size"].to_numpy()[u]
    score += np.select(
        [kind == "departement", kind == "region", kind == "syndicat", kind == "epci"],
        [-1.5, -1.5, -0.3, -0.3],
        0.0,
    )
    y = score + rng.logistic(0, 1, len(u))
    elu = np.zeros(len(u), dtype=bool)
    for group in (resp["latest"].to_numpy(), ~resp["latest"].to_numpy()):
        idx = np.flatnonzero(group)
        elu[idx] = _exact_top(y[idx], round(0.24 * len(idx)))
    return np.where(elu, "elu", "agent").astype(object)


def _counts(ind, spec: dict, n: int) -> dict[str, int]:
    """Exact number of answers per option among ``n`` answering rows."""
    t = dict(spec.get("t", {}))
    pub = ind.published
    if pub is not None:
        bound = pub.precision in ("below", "above")
        single = len(ind.positive) == 1
        if pub.value is not None and single and not (bound and ind.positive[0] in t):
            t[ind.positive[0]] = pub.value
        for o, v in pub.options.items():
            t[o] = v
    n_nc = round(t.pop("non_concerne", 0.0) * n) if "non_concerne" in ind.option_ids else 0
    nv = n - n_nc
    rest = spec.get("rest") or next(
        (o for o in ("non", "oui", *reversed(ind.valid)) if o in ind.valid and o not in t), None
    )
    counts = {"non_concerne": n_nc} if n_nc else {}
    for o in ind.valid:
        if o == rest:
            continue
        if o not in t:
            raise ValueError(f"demo spec of {ind.id}: no target share for option {o!r}")
        counts[o] = round(t[o] * nv)
    counts[rest] = nv - sum(v for k, v in counts.items() if k != "non_concerne")
    if counts[rest] < 0:
        raise ValueError(f"demo spec of {ind.id}: target shares sum above 1")
    return counts


class _Model:
    """Latent scores of one question over the responses."""

    def __init__(self, rng, base: dict, answers, spec):
        self.rng, self.spec, self.answers = rng, spec, answers
        self.cov, self.served = base["cov"], base["served"]
        self.reg, self.dep, self.elu = base["reg"], base["dep"], base["elu"]

    @staticmethod
    def base(resp, cov) -> dict:
        """Covariates aligned on the responses (computed once)."""
        u = resp["unit"].to_numpy()
        return {
            "cov": {c: cov[c].to_numpy()[u] for c in ("size", "spatial", "maturity")},
            "served": resp["served"].to_numpy(dtype=float),
            "reg": pd.Categorical(resp["region"].astype(str)).codes,
            "dep": pd.Categorical(resp["departement"].astype(str)).codes,
            "elu": (resp["profile"] == "elu").to_numpy(dtype=float),
        }

    def score(self, option: str | None = None) -> np.ndarray:
        s = dict(self.spec)
        s.update(self.spec.get("opt", {}).get(option, {}))
        c = self.cov
        out = (
            s.get("lam", 1.0) * c["maturity"]
            + s.get("beta", 0.5) * c["size"]
            + s.get("gamma", 1.0) * c["spatial"]
            + s.get("delta", 0.0) * self.served
        )
        out = out + self.rng.normal(0, 0.2, self.reg.max() + 2)[self.reg + 1]
        out = out + self.rng.normal(0, 0.15, self.dep.max() + 2)[self.dep + 1]
        for (other, opt), value in self.spec.get("bonus", {}).items():
            out = out + value * (self.answers.get(other) == opt)
        return out

    def noisy(self, option: str | None = None) -> np.ndarray:
        return self.score(option) + self.rng.logistic(0, 1, len(self.reg))

    def side(self, option: str) -> np.ndarray:
        s = self.spec.get("opt", {}).get(option, {})
        c = self.cov
        base = -0.6 * c["maturity"] + s.get("beta", -0.4) * c["size"] + 0.7 * self.elu
        return base + self.rng.logistic(0, 1, len(self.reg))


def _asked(ind, resp, answers, stop_theme) -> np.ndarray:
    kinds = resp["kind"].to_numpy(dtype=object)
    asked = np.isin(kinds, list(ind.universe_kinds))
    if ind.wave:
        asked &= (resp["wave"].to_numpy() == ind.wave) & (stop_theme[ind.theme] > 0)
    if ind.asked_if is not None:
        prev = answers[ind.asked_if.indicator]
        if isinstance(prev, dict):
            hit = np.zeros(len(resp), dtype=bool)
            for o in ind.asked_if.options:
                hit |= prev[o]
        else:
            hit = np.isin(prev.astype(str), list(ind.asked_if.options))
        asked &= hit
    return asked


def _half_unit(value: float) -> float:
    """Half the last published digit of a share: 0.369 (36,9 %) -> 0.0005."""
    text = f"{round(value * 100, 6):g}"
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0 ** -(decimals + 2)


def _fits(ind, spec, n: int) -> bool:
    """Whether ``n`` answering rows can show every published share of ``ind`` as published."""
    pub = ind.published
    if ind.kind == "multiple_choice":
        return all(abs(round(v * n) / n - v) < _half_unit(v) for v in pub.options.values())
    counts = _counts(ind, spec, n)
    nv = n - counts.get("non_concerne", 0)
    wanted = dict(pub.options)
    if pub.value is not None and pub.precision in ("exact", "about") and len(ind.positive) == 1:
        wanted[ind.positive[0]] = pub.value
    return all(abs(counts[o] / nv - v) < _half_unit(v) for o, v in wanted.items())


def fit_precision(ind, spec, rows: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Leave a few more rows blank where needed to show published figures exactly.

    ``round(target * n) / n`` must round to the published figure at its published
    precision (36,9 % needs the right ``n``). Returns the rows that answer and
    those left blank.
    """
    if ind.published is None or ind.kind == "percentage" or not len(rows):
        return rows, rows[:0]
    for drop in range(min(30, len(rows) - 1)):
        if _fits(ind, spec, len(rows) - drop):
            break
    else:
        return rows, rows[:0]
    gone = np.sort(rng.choice(rows, size=drop, replace=False)) if drop else rows[:0]
    return np.setdiff1d(rows, gone), gone


def _categorical(ind, spec, model: _Model, rows: np.ndarray, out: np.ndarray) -> None:
    n = len(rows)
    counts = _counts(ind, spec, n)
    free = np.ones(n, dtype=bool)
    for o in _SIDE:
        if counts.get(o):
            y = np.where(free, model.side(o)[rows], -np.inf)
            pick = _exact_top(y, counts[o])
            out[rows[pick]] = o
            free &= ~pick
    order = spec.get("order")
    if order is None or spec.get("ordinal"):
        if order is None:
            order = (
                [o for o in _ORDINAL if o in counts]
                if ind.kind == "yes_no"
                else list(reversed(ind.order))
            )
        else:
            order = [*order, spec["rest"]]
        y = model.noisy()[rows]
        if "requires" in spec:
            other, opts = spec["requires"]
            ok = np.isin(model.answers[other][rows].astype(str), list(opts))
            y = np.where(ok, y, y - 1e6)
        idx = np.flatnonzero(free)
        ranked = idx[np.argsort(-y[idx], kind="stable")]
        start = 0
        for o in order:
            c = counts.get(o, 0)
            out[rows[ranked[start : start + c]]] = o
            start += c
        return
    for o in order:
        y = np.where(free, model.noisy(o)[rows], -np.inf)
        pick = _exact_top(y, counts[o])
        out[rows[pick]] = o
        free &= ~pick
    out[rows[free]] = spec["rest"]


def _multiple(ind, spec, model: _Model, rows: np.ndarray, n_resp: int) -> dict:
    n = len(rows)
    t = dict(spec.get("t", {}))
    if ind.published is not None:
        t.update(ind.published.options)
    missing = [o for o in ind.option_ids if o not in t]
    if missing:
        raise ValueError(f"demo spec of {ind.id}: no target share for options {missing}")
    ticks = {o: np.zeros(n, dtype=bool) for o in ind.option_ids}
    exclusive = [o.id for o in ind.options if o.exclusive]
    open_rows = np.ones(n, dtype=bool)
    for o in exclusive:
        y = -model.noisy(o)[rows]
        ticks[o] = _exact_top(y, round(t[o] * n))
        open_rows &= ~ticks[o]
    spread = spec.get("spread", 0.0)
    any_tick = np.zeros(n, dtype=bool)
    others = sorted((o for o in ind.option_ids if o not in exclusive), key=lambda o: -t[o])
    for o in others:
        y = model.noisy(o)[rows] + spread * ~any_tick
        ticks[o] = _exact_top(np.where(open_rows, y, -np.inf), round(t[o] * n))
        any_tick |= ticks[o]
    filler = spec.get("filler") or (exclusive[0] if exclusive else "autre")
    empty = open_rows & ~any_tick
    ticks[filler] = ticks[filler] | empty
    out = {o: np.zeros(n_resp, dtype=bool) for o in ind.option_ids}
    for o in ind.option_ids:
        out[o][rows] = ticks[o]
    answered = np.zeros(n_resp, dtype=bool)
    answered[rows] = True
    out["__answered__"] = answered
    return out


def percentage_targets(catalogue) -> dict[str, float]:
    """Return the published means of the reconditioned-hardware question (all, by kind)."""
    pub = catalogue.get("outils_materiel_reconditionne").published
    return {"all": float(pub.value), **{k: float(v) for k, v in pub.by_kind.items()}}


def _human(values: np.ndarray) -> np.ndarray:
    """Round like respondents do: whole numbers below 10, multiples of 5 above."""
    return np.where(values < 10, np.round(values), np.round(values / 5) * 5).clip(0, 100)


def _calibrate_mean(raw: np.ndarray, zero: np.ndarray, target: float) -> np.ndarray:
    """Scale the non-zero values so that the rounded values' mean is ``target`` (to 0.01)."""
    if not len(raw):
        return raw
    lo, hi = 0.0, 50.0
    for _ in range(60):
        k = (lo + hi) / 2
        if np.where(zero, 0, _human(raw * k)).mean() < target:
            lo = k
        else:
            hi = k
    values = np.where(zero, 0.0, _human(raw * lo))
    gap = target * len(values) - values.sum()  # spread the rest on the largest answers
    for i in np.argsort(-values, kind="stable"):
        step = float(np.clip(gap, -values[i], 100 - values[i]))
        values[i] = round(values[i] + step, 1)
        gap = target * len(values) - values.sum()
        if abs(gap) < 0.05:
            break
    return values


def _percentage(ind, model: _Model, rows, kinds, targets, out) -> None:
    score = model.noisy()[rows]
    zero = _exact_top(-score, round(PERCENTAGE_TARGETS["zero_share"] * len(rows)))
    raw = np.exp(model.rng.normal(np.log(9), 0.7, len(rows)) + 0.25 * model.score()[rows])
    kind = kinds[rows]
    groups = {k: kind == k for k in ("commune", "departement", "region")}
    groups["other"] = np.isin(kind, PERCENTAGE_TARGETS["other_kinds"])
    mean = {k: targets[k] for k in ("commune", "departement", "region")}
    n_other = int(groups["other"].sum())
    if n_other:
        known = sum(mean[k] * int(groups[k].sum()) for k in mean)
        mean["other"] = float(np.clip((targets["all"] * len(rows) - known) / n_other, 2, 30))
    for k, sel in groups.items():
        if sel.any():
            idx = np.flatnonzero(sel)
            z = zero[idx] & (k == "commune")  # councils all declare some share
            out[rows[idx]] = _calibrate_mean(raw[idx], z, mean[k])


def draw_answers(rng, catalogue, resp: pd.DataFrame, cov: pd.DataFrame, blanks: set) -> Answers:
    """Answers to every question of the catalogue for the accepted responses.

    ``resp`` has ``unit``, ``wave``, ``kind``, ``region``, ``departement``, ``served``,
    ``profile``, ``stop`` (questionnaires of its wave completed, 1–3);
    ``blanks`` holds ``(row, indicator)`` cells kept out of the calibration (they
    receive a defect in the export). Profile questions other than
    ``profil_mutualisation`` are filled by the writer from the identification.
    """
    answers = Answers()
    n = len(resp)
    kinds = resp["kind"].to_numpy(dtype=object)
    stop = resp["stop"].to_numpy()
    stop_theme = {}
    for t in catalogue.themes:
        if t.wave:
            pos = [q.id for q in catalogue.questionnaires if q.wave == t.wave].index(t.id)
            stop_theme[t.id] = (stop > pos).astype(int)
    targets = percentage_targets(catalogue)
    base = _Model.base(resp, cov)
    for ind in catalogue.indicators:
        if ind.column in ("kind", "profile"):
            continue
        spec = SPECS.get(ind.id, {})
        model = _Model(rng, base, answers, spec)
        asked = _asked(ind, resp, answers, stop_theme)
        skip_p = spec.get("skip", _SKIP) * np.exp(-spec.get("skip_beta", 0.0) * model.cov["size"])
        skipped = asked & (rng.random(n) < np.clip(skip_p, 0, 0.9))
        planned = np.zeros(n, dtype=bool)
        for row, ind_id in blanks:
            planned[row] |= ind_id == ind.id
        rows, gone = fit_precision(ind, spec, np.flatnonzero(asked & ~skipped & ~planned), rng)
        skipped[gone] = True
        if ind.kind == "multiple_choice":
            answers[ind.id] = _multiple(ind, spec, model, rows, n)
        elif ind.kind == "percentage":
            values = np.full(n, np.nan)
            _percentage(ind, model, rows, kinds, targets, values)
            answers[ind.id] = values
        else:
            values = np.full(n, None, dtype=object)
            _categorical(ind, spec, model, rows, values)
            if "sans_reponse" in ind.option_ids:
                explicit = skipped & (rng.random(n) < _EXPLICIT_NO_ANSWER)
                values[explicit] = "sans_reponse"
            answers[ind.id] = values
    return answers
