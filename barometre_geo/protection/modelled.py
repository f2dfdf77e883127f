"""Protection of modelled figures: the flip rule, its audit and the coarser publications.

A modelled figure of a territory with few respondents can betray them: whoever
knows the model can solve for its direct part. The rule (issue 13):

    For any territory with fewer than ``k`` valid answers (``k_sensitive`` for a
    sensitive indicator) — and for every territory lying inside such a territory
    (the EPCI of a small département, the départements of a small région) —
    what is published of its modelled figure must be the same whichever answer
    any single one of those respondents gave.

What is published, by tier (:data:`PUBLICATIONS`):

``value``
    the estimate and its 95 % interval in whole points (whole percent for a
    share), its map class, whether the interval spans more than one class (the
    map's uncertainty cue) and its comparison with France (above / not
    distinguishable / below);
``class``
    only the map class (the map always draws it as uncertain, and compares it
    with nothing);
``hidden``
    nothing (the territory is drawn as secret).

:func:`publish_modelled` gives each territory the finest tier that the rule
allows, screening every flip — each respondent's answer replaced by the other
answer (a share), or by the far end of the 0–100 range (a mean) — through the
exact change of the posterior mode's score (one Newton step: the Hessian of the
logistic likelihood does not depend on the answers) propagated to the figure,
with a safety margin of half the change. :func:`flip_audit` checks a
publication the slow way: it refits the model for every flip (Newton to
convergence) and recomputes every published element. The model integrates
over its variance parameters (a weighted mixture of Gaussian approximations,
:func:`barometre_geo.stats.estimates.fit_mixed`): the screen takes one Newton
step at every integration point and adds the points' weighted changes, the
audit refits every point; both hold the points' variance parameters and
weights at their fitted values (a single answer moves them by a fraction of a
percent; they are not published).

The département and région figures meet the rule by construction: the model
leaves out the answers of départements and régions with fewer than ``k`` of them
(:func:`barometre_geo.stats.estimates.model.small_territory_answers`), so their
figures — and those of their EPCI — do not depend on them at all. What remains
to screen is an EPCI with few answers in a larger département, whose figure
moves with its answers through the département's effect.

Respondents of a territory with at least ``k`` answers are protected by the
threshold itself, as for direct figures: their flips are not screened (a
respondent of another territory moves a figure only through the shared
coefficients, by the same amount whoever they are).

Sensitive indicators keep all their rules (:func:`hidden_direct_units`)
------------------------------------------------------------------------
A département with 12 answers, all "Non", to ``cyber_pca`` has its direct cell
hidden by the attribute rule; a modelled figure fitted on those answers would be
low, and publish what the secret hides. So, for a sensitive indicator, **the
model leaves out the answers of every département, région and zone whose direct
overall figure of the same measure is hidden** — whatever the reason: fewer than
``k_sensitive`` answers, the attribute rule, a complementary cell (which could
otherwise be recovered and subtracted from its parent) or, for an option of a
multiple-choice question, its option row alone. The modelled figure of such a
territory is then *synthetic* (the types, sizes and coverage of its
collectivities, its région's and neighbours' effects): it is published with its
interval, and neither it nor any other modelled figure (région, France, the
neighbours) depends on a single answer of the hidden cell — so no combination of
published figures can give that cell back. Where the national direct figure is
hidden, no modelled figure of the measure is published. Whether a cell is hidden
is itself published by the direct table, so leaving it out tells nothing more.
:func:`hidden_cell_audit` checks it the slow way (refits with every answer of a
hidden cell flipped, one by one and all together, and compares every published
element of every territory); ``tests/test_estimates.py`` shows it finds leaks
with the rule off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "MODEL_MEAN_BREAKS",
    "MODEL_SHARE_BREAKS",
    "PUBLICATIONS",
    "SECRET_LEVELS",
    "ModelPublication",
    "flip_audit",
    "hidden_answers",
    "hidden_cell_audit",
    "hidden_direct_units",
    "publication_keys",
    "publish_modelled",
]

#: Upper bounds of the classes of modelled shares (the maps' default classes).
MODEL_SHARE_BREAKS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)
#: Upper bounds of the classes of modelled means (in %).
MODEL_MEAN_BREAKS: tuple[float, ...] = (5.0, 10.0, 15.0, 20.0, 100.0)
#: Publication tiers of a modelled figure, finest first.
PUBLICATIONS: tuple[str, ...] = ("value", "class", "hidden")
_LEVELS = ("epci", "departement", "region")
#: Levels whose hidden direct cells of a sensitive indicator the model leaves out.
SECRET_LEVELS: tuple[str, ...] = ("departement", "region", "zone", "france")


@dataclass
class ModelPublication:
    """Tier of every territory of one level (index into :data:`PUBLICATIONS`; −1: no figure)."""

    tier: np.ndarray
    audited: np.ndarray  # the rule applies (few answers, or inside such a territory)
    n: np.ndarray  # valid answers used by the model in the territory


def _scale(family: str) -> float:
    return 100.0 if family == "binomial" else 1.0


def _breaks(family: str) -> np.ndarray:
    return np.asarray(MODEL_SHARE_BREAKS if family == "binomial" else MODEL_MEAN_BREAKS)


def classes_of(values, family: str) -> np.ndarray:
    """Class index of values (right-closed classes, the first one includes 0)."""
    b = _breaks(family)
    idx = np.searchsorted(b, np.asarray(values, dtype=float) - 1e-12, side="left")
    return np.minimum(idx, len(b) - 1)


def publication_keys(value, lo, hi, national, family: str) -> tuple[np.ndarray, np.ndarray]:
    """Return what each tier publishes, as integer keys ``(n, 6)`` (value tier) and ``(n, 3)``.

    Value tier: the estimate and interval rounded to whole points, the class
    index, uncertain (interval over more than one class) and the comparison
    with France (−1, 0, 1). Class tier: the class index alone (the map always
    shows such a territory as uncertain, with no comparison).
    """
    value, lo, hi = (np.asarray(a, dtype=float) for a in (value, lo, hi))
    national = np.broadcast_to(np.asarray(national, dtype=float), value.shape)
    sc = _scale(family)
    cls = classes_of(value, family)
    unsure = classes_of(lo, family) != classes_of(hi, family)
    vs = np.where(lo > national, 1, np.where(hi < national, -1, 0))
    with np.errstate(invalid="ignore"):
        rounded = np.stack([np.floor(a * sc + 0.5) for a in (value, lo, hi)], axis=-1)
    keys = np.concatenate(
        [np.nan_to_num(rounded, nan=-1).astype(np.int64), np.stack([cls, unsure, vs], axis=-1)],
        axis=-1,
    )
    return keys, cls[..., None]


def _shifted(est, units, delta, family):
    """Value and bounds of ``units`` moved by ``delta`` on the value (interval moved alike)."""
    v = est.value[units]
    lo, hi = est.ci_low[units], est.ci_high[units]
    if family == "gaussian":
        return v + delta, lo + delta, hi + delta
    vv = np.clip(v, 1e-9, 1 - 1e-9)
    d = delta / (vv * (1 - vv))  # on the logit scale

    def move(x):
        x = np.clip(x, 1e-12, 1 - 1e-12)
        return 1 / (1 + np.exp(-(np.log(x / (1 - x)) + d)))

    return move(v), move(lo), move(hi)


def _groups(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> dict:
    """``{key: values with that key}`` for the keys in ``wanted`` (one sort)."""
    m = np.isin(keys, wanted)
    k, v = keys[m], values[m]
    order = np.argsort(k, kind="stable")
    k, v = k[order], v[order]
    uniq, starts = np.unique(k, return_index=True)
    return dict(zip(uniq.tolist(), np.split(v, starts[1:]), strict=True))


def _scopes(mm, unit_of: dict, audited_at: dict):
    """For each audited territory: (level, unit, rows, affected ``{level: units}``)."""
    from ..stats.estimates.model import MODEL_LEVELS

    atoms = mm.census.atoms
    col = {lv: MODEL_LEVELS.index(lv) for lv in _LEVELS}
    out = []
    for lv in _LEVELS:
        if lv not in audited_at:
            continue
        audited = np.flatnonzero(audited_at[lv])
        if not len(audited):
            continue
        u_rows = unit_of[lv]
        rows_of = _groups(u_rows, np.arange(len(u_rows)), audited)
        inner = {}
        for finer in _LEVELS[: _LEVELS.index(lv)]:
            pairs = np.unique(atoms[:, [col[lv], col[finer]]], axis=0)
            pairs = pairs[pairs[:, 1] >= 0]
            inner[finer] = _groups(pairs[:, 0], pairs[:, 1], audited)
        empty = np.array([], dtype=np.int64)
        for a in audited.tolist():
            affected = {lv: np.array([a])}
            for finer, groups in inner.items():
                affected[finer] = groups.get(a, empty)
            out.append((lv, a, rows_of.get(a, empty), affected))
    return out


def _flipped_answers(y: np.ndarray, family: str) -> np.ndarray:
    if family == "binomial":
        return 1.0 - y
    return np.where(y >= 50, 0.0, 100.0)


def publish_modelled(
    mm, est: dict, *, unit_of: dict, k: int, levels=_LEVELS, margin: float = 0.5
) -> dict:
    """Give every territory of ``levels`` the finest publication tier the flip rule allows.

    Parameters
    ----------
    mm : MeasureModel
        The fitted model (:func:`barometre_geo.stats.estimates.fit_measure`).
    est : dict
        Its estimates (``mm.estimates()``), with intervals, gradients and ``france``.
    unit_of : dict
        ``{level: unit of each model row}`` (−1: not counted there).
    k : int
        Threshold of the indicator (``k`` or ``k_sensitive``).
    margin : float
        Safety margin of the linear screen, as a share of each change.

    Returns
    -------
    dict
        ``{level: ModelPublication}``.
    """
    from ..stats.estimates.model import single_thread

    with single_thread():
        return _publish(mm, est, unit_of=unit_of, k=k, levels=levels, margin=margin)


def _publish(mm, est, *, unit_of, k, levels, margin):

    fam = mm.family
    nat = float(est["france"].value[0])
    out: dict = {}
    audited_at: dict = {}
    for lv in levels:
        e = est[lv]
        n_t = len(e.value)
        u = unit_of[lv]
        n = np.bincount(u[u >= 0], minlength=n_t)
        has = np.isfinite(e.value) & (e.universe > 0)
        tier = np.where(has, 0, -1)
        small = has & (n >= 1) & (n < k)
        audited_at[lv] = small
        out[lv] = ModelPublication(tier=tier, audited=small.copy(), n=n)
    scopes = _scopes(mm, unit_of, audited_at)
    if not scopes:
        return out
    # one Newton step per flipped answer: Δθ = H⁻¹ a_j Δy_j
    rows = np.unique(np.concatenate([s[2] for s in scopes]))
    y = mm.model.y
    dy = _flipped_answers(y[rows], fam) - y[rows]
    F = mm.fit.n_fixed
    q_d, q_r = mm.fit.sizes
    P = F + q_d + q_r
    A = np.zeros((len(rows), P))
    A[:, :F] = mm.model.X[rows]
    dep, reg = mm.model.groups[0][rows], mm.model.groups[1][rows]
    ok = dep >= 0
    A[np.flatnonzero(ok), F + dep[ok]] = 1.0
    ok = reg >= 0
    A[np.flatnonzero(ok), F + q_d + reg[ok]] = 1.0
    # one Newton step per integration point of the variance parameters (each with
    # its own precision), weighted: Σ_k w_k H_k⁻¹ a_j Δy_j (/ σ_e,k² for means)
    B = mm.mixture_covariance(residual=True) @ (A * dy[:, None]).T  # (P, rows)
    col_of = np.full(int(rows.max()) + 1, -1)
    col_of[rows] = np.arange(len(rows))
    d_nat_all = est["france"].grad[0] @ B
    # every (territory, flipped answer) pair of every scope, per level
    pairs: dict = {lv: ([], []) for lv in out}
    for _lv, _a, srows, affected in scopes:
        cols = col_of[srows]
        for flv, units in affected.items():
            if flv in pairs and len(units):
                pairs[flv][0].append(np.repeat(units, len(cols)))
                pairs[flv][1].append(np.tile(cols, len(units)))
    for flv, (us, cs) in pairs.items():
        if not us:
            continue
        e = est[flv]
        units, cols = np.concatenate(us), np.concatenate(cs)
        keep = np.isfinite(e.value[units])
        units, cols = units[keep], cols[keep]
        out[flv].audited[units] = True
        base_v, base_c = publication_keys(
            e.value[units], e.ci_low[units], e.ci_high[units], nat, fam
        )
        d = np.einsum("ij,ji->i", e.grad[units], B[:, cols])
        d_nat = d_nat_all[cols]
        m = margin * np.abs(d) + 1e-9
        mn = margin * np.abs(d_nat) + 1e-9
        ok_v = np.ones(len(units), dtype=bool)
        ok_c = np.ones(len(units), dtype=bool)
        for sv in (-1, 1):
            v2, lo2, hi2 = _shifted(e, units, d + sv * m, fam)
            for sn in (-1, 1):
                kv, kc = publication_keys(v2, lo2, hi2, nat + d_nat + sn * mn, fam)
                ok_v &= np.all(kv == base_v, axis=1)
                ok_c &= np.all(kc == base_c, axis=1)
        worst = np.where(ok_v, 0, np.where(ok_c, 1, 2))
        tier = out[flv].tier
        np.maximum.at(tier, units, worst)
    return out


def flip_audit(
    mm, est: dict, published: dict, *, units: dict, valid: np.ndarray, k: int
) -> list[dict]:
    """Check a publication by refitting the model for every flipped answer of the rule's scope.

    Parameters
    ----------
    mm, est
        The fitted model and its estimates (``mm.estimates()``).
    published : dict
        ``{level: ModelPublication}`` to check (e.g. from :func:`publish_modelled`).
    units : dict
        ``{level: territory of each response}`` (all responses, −1: none).
    valid : array of bool
        The responses with a valid answer to the measure.
    k : int
        Threshold: territories with 1 to ``k − 1`` valid answers are audited,
        with the territories inside them, against each of their respondents.

    Returns
    -------
    list of dict
        One per (flip, territory) whose published elements change (``level``,
        ``unit``, ``response``, ``tier``, ``before``, ``after``); empty when the
        publication meets the rule. A respondent the model leaves out is flipped
        too: nothing may change.
    """
    from ..stats.estimates.model import single_thread

    with single_thread():
        return _audit(mm, est, published, units=units, valid=valid, k=k)


def _audit(mm, est, published, *, units, valid, k):
    fam = mm.family
    nat0 = float(est["france"].value[0])
    unit_of = {lv: np.where(valid, units[lv], -1) for lv in published}
    audited_at = {}
    for lv in published:
        cnt = np.bincount(unit_of[lv][unit_of[lv] >= 0], minlength=len(published[lv].tier))
        audited_at[lv] = (cnt >= 1) & (cnt < k)
    scopes = _scopes(mm, unit_of, audited_at)
    model_row = np.full(len(valid), -1)
    model_row[mm.rows] = np.arange(len(mm.rows))
    y0 = mm.model.y
    flipped = _flipped_answers(y0, fam)
    violations = []
    for _lv, _a, responses, affected in scopes:
        affected = {lv: u for lv, u in affected.items() if lv in published and len(u)}
        subset = {**affected, "france": np.array([0])}
        for resp in responses:
            y = y0.copy()
            r = model_row[resp]
            if r >= 0:
                y[r] = flipped[r]
            theta, L = mm.refit(y)
            e2 = mm.estimates(tuple(subset), theta=theta, chol=L, subset=subset)
            nat = float(e2["france"].value[0])
            for flv, us in affected.items():
                tier = published[flv].tier[us]
                e, f = est[flv], e2[flv]
                kv0, kc0 = publication_keys(e.value[us], e.ci_low[us], e.ci_high[us], nat0, fam)
                kv1, kc1 = publication_keys(f.value[us], f.ci_low[us], f.ci_high[us], nat, fam)
                bad = ((tier == 0) & np.any(kv0 != kv1, axis=1)) | (
                    (tier == 1) & np.any(kc0 != kc1, axis=1)
                )
                for i in np.flatnonzero(bad):
                    violations.append({
                        "level": flv, "unit": int(us[i]), "response": int(resp),
                        "tier": PUBLICATIONS[int(tier[i])],
                        "before": kv0[i].tolist(), "after": kv1[i].tolist(),
                    })  # fmt: skip
    return violations


def hidden_direct_units(cs, prot, plans) -> dict:
    """Territories whose direct overall figure of a sensitive measure is hidden.

    Parameters
    ----------
    cs : CellSums
        The cells of :func:`barometre_geo.stats.cells.cell_sums`.
    prot : Protection
        Their protection (:func:`barometre_geo.protection.apply.protect`): hidden
        cells, and option rows of multiple-choice questions hidden alone.
    plans : list
        The indicator plans, in the order of the cells' indicators.

    Returns
    -------
    dict
        ``{(plan, measure): {level: bool array over the level's units}}`` for the
        measures of sensitive plans, at the levels of :data:`SECRET_LEVELS`
        (every unit of those levels has an overall cell).
    """
    from ..stats.units import GEO_LEVELS

    first = np.r_[0, np.cumsum([len(p.values) for p in plans])[:-1]].astype(np.int64)
    total = cs.c_by[cs.m_cell] == 0
    row_hidden = prot.hidden[cs.m_cell] | prot.row_hidden
    out: dict = {}
    for i, plan in enumerate(plans):
        if not plan.sensitive:
            continue
        for m in range(len(plan.values)):
            mine = total & (cs.m_measure == first[i] + m)
            per_level = {}
            for lv in SECRET_LEVELS:
                sel = mine & (cs.c_level[cs.m_cell] == GEO_LEVELS.index(lv))
                units = cs.c_unit[cs.m_cell[sel]]
                mask = np.zeros(int(units.max()) + 1 if len(units) else 0, dtype=bool)
                mask[units] = row_hidden[sel]
                per_level[lv] = mask
            out[(i, m)] = per_level
    return out


def hidden_answers(hidden: dict, units: dict, valid: np.ndarray) -> np.ndarray:
    """Mask of the valid answers that lie in a hidden direct cell (see :func:`hidden_direct_units`).

    ``hidden`` is one measure's ``{level: bool array over units}``, ``units``
    the territory of each response per level (−1: none).

    Examples
    --------
    >>> import numpy as np
    >>> hidden = {"departement": np.array([False, True]), "france": np.array([False])}
    >>> units = {"departement": np.array([0, 1, 1, -1]), "france": np.zeros(4, int)}
    >>> hidden_answers(hidden, units, np.array([True, True, False, True])).tolist()
    [False, True, False, False]
    """
    out = np.zeros(len(valid), dtype=bool)
    for lv, mask in hidden.items():
        u = np.asarray(units[lv])
        ok = (u >= 0) & (u < len(mask))
        hit = np.zeros(len(u), dtype=bool)
        hit[ok] = mask[u[ok]]
        out |= hit
    return out & np.asarray(valid, dtype=bool)


def hidden_cell_audit(
    mm, est: dict, published: dict, *, hidden: dict, units: dict, valid: np.ndarray,
    each: bool = True,
) -> list[dict]:  # fmt: skip
    """Check that no published modelled figure moves with the answers of a hidden direct cell.

    For every territory of ``hidden`` (a sensitive measure's hidden direct
    cells) holding valid answers, the model is refitted (Newton to convergence,
    variance parameters held) with all of the cell's answers flipped at once
    and, if ``each``, with each one flipped in turn; every published element
    of every territory of ``published`` (``{level: tiers}``, levels of
    :func:`barometre_geo.stats.estimates.model.MODEL_LEVELS`) is recomputed.

    Returns
    -------
    list of dict
        One per (flip, territory) whose published elements change (``cell``
        ``(level, unit)``, ``responses`` flipped, ``level``, ``unit``, ``tier``,
        ``before``, ``after``); empty when no published figure depends on the
        hidden cells. A respondent the model leaves out is flipped too: nothing
        may change.
    """
    from ..stats.estimates.model import single_thread

    with single_thread():
        return _hidden_audit(mm, est, published, hidden, units, valid, each)


def _hidden_audit(mm, est, published, hidden, units, valid, each):
    fam = mm.family
    model_row = np.full(len(valid), -1)
    model_row[mm.rows] = np.arange(len(mm.rows))
    y0 = mm.model.y
    flipped = _flipped_answers(y0, fam)
    nat0 = float(est["france"].value[0])
    shown = {lv: np.flatnonzero(np.asarray(t) >= 0) for lv, t in published.items()}
    shown = {lv: u for lv, u in shown.items() if len(u)}
    subset = {**shown, "france": np.array([0])}
    base = {}
    for lv, us in shown.items():
        e = est[lv]
        base[lv] = publication_keys(e.value[us], e.ci_low[us], e.ci_high[us], nat0, fam)
    violations: list = []
    for lv, mask in hidden.items():
        u = np.asarray(units[lv])
        for cell in np.flatnonzero(mask).tolist():
            resp = np.flatnonzero(valid & (u == cell))
            if not len(resp):
                continue
            flips = [resp] + ([np.array([r]) for r in resp] if each and len(resp) > 1 else [])
            for group in flips:
                y = y0.copy()
                r = model_row[group]
                r = r[r >= 0]
                y[r] = flipped[r]
                if len(r):
                    theta, L = mm.refit(y)
                    e2 = mm.estimates(tuple(subset), theta=theta, chol=L, subset=subset)
                else:
                    e2 = est
                nat = float(e2["france"].value[0])
                for flv, us in shown.items():
                    tier = np.asarray(published[flv])[us]
                    f = e2[flv]
                    kv1, kc1 = publication_keys(f.value[us], f.ci_low[us], f.ci_high[us], nat, fam)
                    kv0, kc0 = base[flv]
                    bad = ((tier == 0) & np.any(kv0 != kv1, axis=1)) | (
                        (tier == 1) & np.any(kc0 != kc1, axis=1)
                    )
                    for j in np.flatnonzero(bad):
                        violations.append({
                            "cell": (lv, int(cell)), "responses": group.tolist(), "level": flv,
                            "unit": int(us[j]), "tier": PUBLICATIONS[int(tier[j])],
                            "before": kv0[j].tolist(), "after": kv1[j].tolist(),
                        })  # fmt: skip
    return violations
