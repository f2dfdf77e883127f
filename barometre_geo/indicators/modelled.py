"""Modelled columns of the indicator table: small-area estimates next to the direct figures.

``aggregate(..., estimates="model")`` adds :data:`MODEL_COLUMNS` to the overall
rows (``by == "total"``) of the EPCI, département, région, France and zone
levels: one mixed model per measure (:mod:`barometre_geo.stats.estimates`),
post-stratified on the indicator's universe, and published at the tier the flip
rule allows (:mod:`barometre_geo.protection.modelled`).

The modelled figures are **shares of collectivities** (each collectivity of the
universe counts once); the direct ``value`` is the share of the respondents.
They are not benchmarked: the France row carries both, so the gap between the
model's national share of collectivities and the published share of respondents
is in the table (``model_value`` − ``value`` on the ``france`` row), as is the
calibration-weighted direct figure (``value_weighted``), an estimate of the same
share of collectivities.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

__all__ = ["MODEL_COLUMNS", "MODEL_METHOD", "Fits", "model_columns", "start_fits"]

#: Columns added by ``aggregate(..., estimates="model")``, in order.
MODEL_COLUMNS: tuple[str, ...] = (
    "model_value",
    "model_ci_low",
    "model_ci_high",
    "model_class_low",
    "model_class_high",
    "model_publication",
    "model_uncertain",
    "model_vs_france",
    "estimator",
)
#: Description of the model (attrs and dictionary).
MODEL_METHOD = (
    "MRP: régression logistique multiniveau (moyennes : linéaire) sur le type de collectivité, "
    "la population (log), la couverture par une structure de mutualisation, avec effets "
    "aléatoires département (dont une part spatiale : les départements voisins se "
    "ressemblent) et région ; post-stratifiée sur toutes les collectivités de l'univers (COG)"
)
_MODEL_LEVELS = ("epci", "departement", "region")
_OUT_LEVEL = {"france_metropolitaine": ("zone", 0), "outre_mer": ("zone", 1)}


def _class_bounds(cls: np.ndarray, family: str) -> tuple[np.ndarray, np.ndarray]:
    from ..protection.modelled import MODEL_MEAN_BREAKS, MODEL_SHARE_BREAKS

    b = np.asarray(MODEL_SHARE_BREAKS if family == "binomial" else MODEL_MEAN_BREAKS)
    low = np.concatenate([[0.0], b[:-1]])
    return low[cls], b[cls]


def start_fits(
    plans: list,
    inds: list,
    prep,
    geo,
    *,
    covered,
    k: int,
    k_sensitive: int,
    levels,
    dep_pairs=None,
) -> Fits:
    """Start fitting the models of every indicator; :func:`model_columns` collects them.

    Called before the direct table is protected: the models of the indicators that
    are not sensitive need nothing from it, and are fitted by the workers while this
    process protects the direct figures. Those of sensitive indicators wait for the
    hidden direct cells (:meth:`Fits.results`).

    Parameters
    ----------
    plans, inds : list
        The indicator plans (:func:`barometre_geo.stats.prepare.indicator_measures`)
        and catalogue indicators, in the same order.
    prep, geo
        Prepared responses and reference units.
    covered : iterable of str or pandas.Series, optional
        Communes served by a mutualisation structure (coverage covariate).
    k, k_sensitive : int
        Thresholds of the flip rule.
    levels : sequence of str
        The levels of the table; the models serve those of :data:`_MODEL_LEVELS`
        where someone answered, and France.
    dep_pairs : tuple of arrays, optional
        Neighbouring départements (:func:`barometre_geo.stats.estimates.design.
        departement_pairs`): the département effects get a spatial part.
    """
    from ..stats.estimates.design import auxiliary
    from ..stats.estimates.model import MODEL_LEVELS

    wanted = {lv for lv in levels if lv not in _MODEL_LEVELS or (prep.units[lv] >= 0).any()}
    todo = []
    for i, ind in enumerate(inds):
        if ind.column in ("kind", "profile"):
            continue  # the respondents' own profile, not a property of collectivities
        lvs = [lv for lv in _MODEL_LEVELS if lv in ind.levels and lv in wanted]
        if lvs or "france" in wanted:
            todo.append((i, tuple(lvs)))
    aux = auxiliary(geo, prep, covered=covered, dep_pairs=dep_pairs)
    n_units = {lv: geo.units(lv) for lv in MODEL_LEVELS}
    _STATE.update(aux=aux, plans=plans, units=prep.units, n_units=n_units, k=k,
                  k_sensitive=k_sensitive)  # fmt: skip
    # longest first (one fit per option, the EPCI screen the costliest part): the two
    # workers finish together
    cost = [len(plans[i].options) * (2 if "epci" in lvs else 1) for i, lvs in todo]
    fits = Fits(plans=plans, inds=inds, geo=geo, todo=todo)
    fits.start(cost)
    return fits


class Fits:
    """The model fits of an indicator table, started by :func:`start_fits`."""

    def __init__(self, *, plans, inds, geo, todo):
        self.plans, self.inds, self.geo, self.todo = plans, inds, geo, todo
        self.pool, self.pending, self.order = None, {}, []
        self.t0 = time.perf_counter()

    def start(self, cost: list) -> None:
        """Submit the fits of the indicators that are not sensitive (workers, if any)."""
        self.order = np.argsort(-np.asarray(cost, dtype=float), kind="stable").tolist()
        self.pool = _pool(len(self.todo))
        if self.pool is None:
            return
        for j in self.order:
            i, lvs = self.todo[j]
            if not self.plans[i].sensitive:
                self.pending[j] = self.pool.apply_async(_model_plan, ((i, lvs, None),))

    def results(self, hidden: dict) -> list:
        """Return every fit, in the order of ``todo``; ``hidden``: :func:`model_columns`."""
        tasks = {}
        for j in self.order:
            i, lvs = self.todo[j]
            if j not in self.pending:
                mine = {m: v for (p, m), v in hidden.items() if p == i}
                tasks[j] = (i, lvs, mine if self.plans[i].sensitive else None)
        if self.pool is None:
            return [_model_plan(tasks[j]) for j in range(len(self.todo))]
        for j, task in tasks.items():
            self.pending[j] = self.pool.apply_async(_model_plan, (task,))
        return [self.pending[j].get() for j in range(len(self.todo))]

    def close(self) -> None:
        """Stop the workers (at once if the fits are not all collected) and free the state."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None
        _STATE.clear()


def model_columns(
    table: pd.DataFrame, fits: Fits, *, hidden: dict | None = None
) -> tuple[dict, dict, pd.DataFrame]:
    """Modelled columns aligned on ``table``, a report for ``attrs``, and the missing EPCI rows.

    The direct table has EPCI rows only where someone answered; a modelled
    figure exists for every EPCI, so the rows of the others are returned too
    (``respondents`` 0, direct figures hidden as ``small_n``, like a
    département without answer), with their modelled columns.

    Parameters
    ----------
    table : pandas.DataFrame
        The direct table of :func:`~barometre_geo.aggregate` (rows and order kept).
    fits : Fits
        The fits started by :func:`start_fits` (closed here).
    hidden : dict, optional
        Hidden direct cells of the sensitive measures
        (:func:`barometre_geo.protection.modelled.hidden_direct_units`): the model
        leaves out their answers, and the zone and France modelled figures are
        hidden where the direct ones are.
    """
    from ..protection.modelled import PUBLICATIONS, publication_keys

    plans, inds, geo = fits.plans, fits.inds, fits.geo
    n = len(table)
    cols = {
        "model_value": np.full(n, np.nan),
        "model_ci_low": np.full(n, np.nan),
        "model_ci_high": np.full(n, np.nan),
        "model_class_low": np.full(n, np.nan),
        "model_class_high": np.full(n, np.nan),
        "model_publication": np.full(n, -1),
        "model_uncertain": np.full(n, -1),
        "model_vs_france": np.full(n, -2),
    }
    total = (table["by"] == "total").to_numpy()
    level = table["level"].astype(str).to_numpy()
    code = table["code"].astype(str).to_numpy()
    ind_col = table["indicator"].astype(str).to_numpy()
    opt_col = table["option"].astype(object).where(table["option"].notna(), None).to_numpy()
    # rows and units of each (indicator, option, model level)
    unit = np.full(n, -1)
    key_lv = np.full(n, "", dtype=object)
    for lv in _MODEL_LEVELS:
        m = total & (level == lv)
        unit[m] = geo.index[lv].get_indexer(pd.Index(code[m], dtype=object))
        key_lv[m] = lv
    m = total & (level == "france")
    unit[m], key_lv[m] = 0, "france"
    for lv, (klv, u) in _OUT_LEVEL.items():
        m = total & (level == lv)
        unit[m], key_lv[m] = u, klv
    sel = np.flatnonzero((unit >= 0) & (key_lv != ""))
    frame = pd.DataFrame(
        {"i": sel, "ind": ind_col[sel], "opt": pd.Series(opt_col[sel]).fillna("").to_numpy(),
         "lv": key_lv[sel], "u": unit[sel]}
    )  # fmt: skip
    index = {key: (g["u"].to_numpy(), g["i"].to_numpy()) for key, g in frame.groupby(
        ["ind", "opt", "lv"], sort=False)}  # fmt: skip
    report: dict = {"method": MODEL_METHOD, "measures": 0, "not_fitted": [], "tiers": {}}
    tiers = {lv: np.zeros(3, dtype=np.int64) for lv in _MODEL_LEVELS}
    extra: list = []
    try:
        results = fits.results(hidden or {})
        for (i, levels), measures in zip(fits.todo, results, strict=True):
            plan, ind = plans[i], inds[i]
            for m, option, out in measures:
                if out is None:
                    report["not_fitted"].append(f"{plan.id}:{option or ''}")
                    continue
                report["measures"] += 1
                family, nat, per_level = out
                for lv in (*levels, "zone", "france"):
                    e, tier = per_level[lv]
                    if lv in _MODEL_LEVELS:
                        for t_ in range(3):
                            tiers[lv][t_] += int(np.sum(tier == t_))
                    hit = index.get((plan.id, option or "", lv))
                    us, rows = hit if hit is not None else (np.array([], int), np.array([], int))
                    if lv == "epci":
                        missing = np.setdiff1d(np.flatnonzero(e.universe > 0), us)
                        if len(missing):
                            extra.append(_epci_rows(plan, ind, option, m, missing, e, tier, nat,
                                                    family, geo, table))  # fmt: skip
                    t_ = tier[us]
                    keep = t_ >= 0
                    us, rows, t_ = us[keep], rows[keep], t_[keep]
                    keys, _ = publication_keys(
                        e.value[us], e.ci_low[us], e.ci_high[us], nat, family
                    )
                    lo_c, hi_c = _class_bounds(keys[:, 3], family)
                    cols["model_publication"][rows] = t_
                    shown, full = t_ <= 1, t_ == 0
                    cols["model_class_low"][rows[shown]] = lo_c[shown]
                    cols["model_class_high"][rows[shown]] = hi_c[shown]
                    cols["model_uncertain"][rows[shown]] = np.where(t_ == 1, 1, keys[:, 4])[shown]
                    cols["model_value"][rows[full]] = e.value[us[full]]
                    cols["model_ci_low"][rows[full]] = e.ci_low[us[full]]
                    cols["model_ci_high"][rows[full]] = e.ci_high[us[full]]
                    cols["model_vs_france"][rows[full]] = keys[full, 5]
    finally:
        fits.close()
    report["seconds"] = round(time.perf_counter() - fits.t0, 2)
    report["tiers"] = {
        lv: dict(zip(PUBLICATIONS, map(int, c), strict=True)) for lv, c in tiers.items() if c.sum()
    }
    extra_frame = pd.concat(extra, ignore_index=True) if extra else None
    pubcode = cols.pop("model_publication")
    unsure = cols.pop("model_uncertain")
    vs = cols.pop("model_vs_france")
    out = {**cols, **_categoricals(pubcode, unsure, vs)}
    return out, report, extra_frame


_STATE: dict = {}
#: Worker processes fitting the models (fork only; 1 elsewhere or for few indicators).
MODEL_JOBS = 2


def _model_plan(task) -> list:
    """Fit, estimate and protect every measure of one indicator (runs in a worker)."""
    from ..protection.modelled import hidden_answers, publish_modelled
    from ..stats.estimates.model import fit_measure, single_thread, small_territory_answers

    i, levels, hidden = task  # hidden: {measure: secret} of a sensitive indicator
    st = _STATE
    plan, aux, units = st["plans"][i], st["aux"], st["units"]
    k_eff = st["k_sensitive"] if plan.sensitive else st["k"]
    out, start = [], None
    with single_thread():
        small = small_territory_answers(aux, plan.V, k_eff)
        for m, option in enumerate(plan.options):
            secret = (hidden or {}).get(m)  # sensitive: the hidden direct cells
            exclude = small if secret is None else small | hidden_answers(secret, units, plan.V)
            mm = fit_measure(
                aux, kinds=plan.kinds, y=plan.values[m], valid=plan.V, is_mean=plan.is_mean,
                n_units=st["n_units"], start=start, exclude=exclude,
            )  # fmt: skip
            if mm is None:
                out.append((m, option, None))
                continue
            start = np.log([*mm.fit.sigma, *([mm.fit.sigma_e] if plan.is_mean else [])])
            est = mm.estimates((*levels, "zone", "france"))
            unit_of = {lv: units[lv][mm.rows] for lv in _MODEL_LEVELS}
            pub = publish_modelled(mm, est, unit_of=unit_of, k=k_eff, levels=list(levels))
            per_level = {}
            for lv in (*levels, "zone", "france"):
                e = est[lv]
                e.grad = None  # large, and not needed past the protection
                if lv in pub:
                    tier = pub[lv].tier
                else:  # France and zones: the threshold alone, like a direct figure
                    u = units[lv][mm.rows]
                    cnt = np.bincount(u[u >= 0], minlength=len(e.value))
                    tier = np.where(np.isfinite(e.value), np.where(cnt >= k_eff, 0, 2), -1)
                    if secret is not None and lv in secret:  # the direct figure's fate
                        tier = np.where(secret[lv][: len(tier)] & (tier >= 0), 2, tier)
                per_level[lv] = (e, tier)
            out.append((m, option, (mm.family, float(est["france"].value[0]), per_level)))
    return out


def _pool(n_tasks: int):
    """Return a pool of forked model workers, or None (one task, or no fork: in process)."""
    import multiprocessing as mp

    jobs = min(MODEL_JOBS, n_tasks)
    if jobs < 2 or "fork" not in mp.get_all_start_methods():
        return None
    import os
    import signal

    # the workers are forked with SIGINT and SIGTERM blocked: they reach their
    # initializer (default SIGTERM) before any signal, even one sent at once
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        return mp.get_context("fork").Pool(jobs, initializer=_init_worker, initargs=(os.getpid(),))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _init_worker(parent: int) -> None:
    """Prepare a model-fitting worker.

    They die with their parent (:func:`~barometre_geo._workers.die_with_parent`)
    and take back the default SIGTERM, which ``Pool.terminate`` sends when the
    pool closes: a worker must not inherit the command line's SIGTERM handler
    (it raised in the worker and printed a traceback after a build, or left the
    pool hanging); Ctrl-C is the parent's to handle. Forked with both signals
    blocked (:func:`_run`), it unblocks them once its handlers are set.
    """
    import signal

    from .._workers import die_with_parent

    die_with_parent(parent)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def _categoricals(pub: np.ndarray, unsure: np.ndarray, vs: np.ndarray) -> dict:
    """Publication tier, cue, comparison and estimator columns from their integer codes."""
    from ..protection.modelled import PUBLICATIONS

    u = pd.array(unsure == 1, dtype="boolean")
    u[unsure < 0] = pd.NA
    return {
        "model_publication": pd.Categorical.from_codes(pub, categories=list(PUBLICATIONS)),
        "model_uncertain": u,
        "model_vs_france": pd.Categorical.from_codes(
            np.where(vs >= -1, vs + 1, -1), categories=["below", "similar", "above"]
        ),
        "estimator": pd.Categorical.from_codes(np.where(pub >= 0, 0, -1), categories=["mrp"]),
    }


def _epci_rows(plan, ind, option, m, units, e, tier, nat, family, geo, table) -> pd.DataFrame:
    """Rows of EPCI without respondents: direct figures hidden, modelled columns filled."""
    from ..protection.modelled import publication_keys

    n = len(units)
    t_ = tier[units]
    keys, _ = publication_keys(e.value[units], e.ci_low[units], e.ci_high[units], nat, family)
    lo_c, hi_c = _class_bounds(keys[:, 3], family)
    shown, full = (t_ >= 0) & (t_ <= 1), t_ == 0
    statistic = "mean" if plan.is_mean else ("share" if option is None else "option_share")
    frame = pd.DataFrame({
        "indicator": plan.id, "level": "epci", "code": geo.codes["epci"][units],
        "nom": geo.names["epci"][units], "by": "total", "group": "Ensemble",
        "option": option, "statistic": statistic,
        "n": pd.array([pd.NA] * n, dtype="Int64"),
        "universe_count": pd.array(e.universe[units].astype(np.int64), dtype="Int64"),
        "respondents": pd.array(np.zeros(n, dtype=np.int64), dtype="Int64"),
        "participation": 0.0,
        "population_share": 0.0 if "commune" in plan.kinds else np.nan,
        "suppressed": True, "reason": "small_n",
        "low_reliability": pd.array([pd.NA] * n, dtype="boolean"),
        "model_value": np.where(full, e.value[units], np.nan),
        "model_ci_low": np.where(full, e.ci_low[units], np.nan),
        "model_ci_high": np.where(full, e.ci_high[units], np.nan),
        "model_class_low": np.where(shown, lo_c, np.nan),
        "model_class_high": np.where(shown, hi_c, np.nan),
        "_publication": t_, "_uncertain": np.where(shown, np.where(t_ == 1, 1, keys[:, 4]), -1),
        "_vs": np.where(full, keys[:, 5], -2), "_rank": m,
    })  # fmt: skip
    return frame


def add_rows(table: pd.DataFrame, more: pd.DataFrame | None, geo) -> pd.DataFrame:
    """Insert the EPCI rows of :func:`model_columns` in the table's order."""
    if more is None or not len(more):
        return table

    more = more.copy()
    pub = more.pop("_publication").to_numpy()
    uns = more.pop("_uncertain").to_numpy()
    vs = more.pop("_vs").to_numpy()
    rank = more.pop("_rank").to_numpy()
    for name, col in _categoricals(pub, uns, vs).items():
        more[name] = col
    for c in table.columns:
        if c not in more:
            more[c] = np.nan  # direct figures of a territory without answer
    ind_order = list(table["indicator"].cat.categories)
    lv_order = list(table["level"].cat.categories)

    def codes_of(values, categories) -> np.ndarray:
        """Codes of ``values`` (categorical or not) among ``categories`` (−1 elsewhere)."""
        if isinstance(values.dtype, pd.CategoricalDtype):  # per category, then taken
            pos = pd.Index(categories).get_indexer(values.cat.categories.astype(object))
            return np.where(values.cat.codes >= 0, pos[values.cat.codes], -1)
        return pd.Index(categories).get_indexer(values.astype(object))

    def keys(frame, tail):
        level = codes_of(frame["level"], lv_order)
        unit = np.zeros(len(frame), dtype=np.int64)
        for name in ("commune", "epci", "departement", "region"):
            if name not in lv_order:
                continue
            m = level == lv_order.index(name)
            unit[m] = codes_of(frame["code"][m], geo.index[name])
        return tail, unit, level, codes_of(frame["indicator"], ind_order)

    k_old = keys(table, np.arange(len(table)))
    k_new = keys(more, rank)
    order = np.lexsort(tuple(np.concatenate([a, b]) for a, b in zip(k_old, k_new, strict=True)))
    more = more[list(table.columns)]
    for c in table.columns:  # keep the categorical columns categorical: one set of categories
        if isinstance(table[c].dtype, pd.CategoricalDtype) and more[c].dtype != table[c].dtype:
            cats = table[c].cat.categories.union(pd.Index(more[c].dropna().astype(str).unique()))
            table = table.assign(**{c: table[c].cat.set_categories(cats)})
            more = more.assign(**{c: pd.Categorical(more[c].astype(object), categories=cats)})
    out = pd.concat([table, more], ignore_index=True)
    out = out.iloc[order].reset_index(drop=True)
    out.attrs = table.attrs
    return out
