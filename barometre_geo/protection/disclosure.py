"""Exact audit of an aggregate table: can published figures isolate < k respondents.

Every published cell of an indicator is a sum over a set of respondents (its
valid answers). A reader who combines published cells linearly — parent minus
children, one level against another, one breakdown against another — learns
``Σ_{i ∈ G} y_i`` for a group ``G`` exactly when the indicator vector ``1_G``
lies in the row space of the cell × respondent incidence matrix ``A``, i.e.
when it is orthogonal to the null space ``Z`` of ``A``: ``Σ_{i ∈ G} Z_i = 0``.

:func:`assert_no_disclosure` finds every such group of 1 to ``min(k − 1, 4)``
respondents (singletons, then pairs, triples and quadruples by
meet-in-the-middle on a random projection of ``Z``, each candidate verified on
the full vectors). It assumes the worst reader: one who knows which
respondents gave a valid answer in each cell. It is exact but costs
``O(N²)`` memory: use it on test-sized data (a few hundred responses).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["assert_no_disclosure", "disclosed_groups"]


def _incidence(table: pd.DataFrame, responses, territories, weights=None) -> dict:
    """Return the published cells × valid respondents incidence matrix per indicator.

    With ``weights`` (one per row of ``responses.data``), every published cell
    whose weighted value is shown adds the row ``w ⊙ 1_cell`` (scaled to 1):
    the weighted share reveals ``Σ w·y`` over the cell.
    """
    from ..stats.prepare import _dedup_latest, by_groups, indicator_measures, prepare_rows
    from ..stats.units import GEO_LEVELS, ZONE_LEVELS, build_geo

    if territories is None:
        from ..territories.load import load_territories

        territories = load_territories()
    data = responses.data
    geo = build_geo(territories)
    prep = prepare_rows(data, geo)
    meta = table.attrs.get("barometre_geo", {})
    strata = meta.get("strata")
    catalogue = responses.catalogue
    pub = table[~table["suppressed"].to_numpy(dtype=bool) & (table["n"].fillna(0) > 0)]
    keys = ["indicator", "level", "code", "by", "group"]
    cells = pub[keys].astype(str).drop_duplicates()
    shown_w = set()
    if weights is not None and "value_weighted" in pub:
        has_w = pub[pub["value_weighted"].notna()][keys].astype(str).drop_duplicates()
        shown_w = set(map(tuple, has_w.to_numpy()))
    groups = {}
    for name in cells["by"].unique():
        if name != "total":
            g, labels = by_groups(name, data, prep, strata)
            groups[name] = np.where(g >= 0, np.array([*labels, ""], dtype=object)[g], None)
    dedup = _dedup_latest(data)
    out = {}
    for ind_id, sub in cells.groupby("indicator", sort=False):
        ind = catalogue.get(ind_id)
        plan = indicator_measures(ind, data, prep.kind, options=False, dedup=dedup)
        rows = np.flatnonzero(plan.V)
        A = np.zeros((len(sub), len(rows)))
        for j, cell in enumerate(sub.itertuples(index=False)):
            if cell.level in ZONE_LEVELS:
                lv, unit = "zone", int(np.flatnonzero(ZONE_LEVELS == cell.level)[0])
            else:
                lv = cell.level
                unit = int(geo.index[lv].get_loc(cell.code))
            assert lv in GEO_LEVELS
            member = prep.units[lv][rows] == unit
            if cell.by != "total":
                member &= groups[cell.by][rows] == cell.group
            A[j] = member
        if shown_w:
            w = np.asarray(weights, dtype=float)[rows]
            extra = [
                A[j] * w / w[A[j] > 0].max()
                for j, cell in enumerate(sub.itertuples(index=False))
                if tuple(cell) in shown_w and A[j].any()
            ]
            A = np.vstack([A, *extra]) if extra else A
        out[ind_id] = (A, rows)
    return out


def disclosed_groups(A: np.ndarray, *, max_size: int = 4, seed: int = 0) -> list[tuple[int, ...]]:
    """Find groups of at most ``max_size`` columns of ``A`` whose sum ``A`` determines.

    Examples
    --------
    A parent (respondents 0–3) and a child (0–2) published: respondent 3 is
    disclosed by difference.

    >>> import numpy as np
    >>> disclosed_groups(np.array([[1, 1, 1, 1], [1, 1, 1, 0]]), max_size=2)
    [(3,)]
    >>> disclosed_groups(np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]]), max_size=2)
    [(4, 5)]
    """
    A = np.asarray(A, dtype=float)
    n = A.shape[1]
    if n == 0 or not A.any():
        return []
    _, s, vt = np.linalg.svd(A, full_matrices=True)
    rank = int((s > 1e-9 * max(s.max(), 1)).sum())
    Z = vt[rank:].T  # (n, d): null space of A
    if Z.shape[1] == 0:
        return [(i,) for i in range(n) if A[:, i].any()]
    touched = A.any(axis=0)
    tol = 1e-7
    found: list[tuple[int, ...]] = []

    def zero(idx) -> bool:
        return bool(np.linalg.norm(Z[list(idx)].sum(axis=0)) < tol)

    for i in range(n):
        if touched[i] and zero((i,)):
            found.append((i,))
    if max_size < 2:
        return found
    rng = np.random.default_rng(seed)
    proj = Z @ rng.normal(size=Z.shape[1])
    proj[~touched] = np.nan  # respondents in no published cell cannot be disclosed
    iu, ju = np.triu_indices(n, 1)
    ok = touched[iu] & touched[ju]
    iu, ju = iu[ok], ju[ok]
    pair = proj[iu] + proj[ju]
    seen = {f for f in found}
    eps = 1e-6

    def near(values: np.ndarray, targets: np.ndarray):
        order = np.argsort(values)
        sv = values[order]
        lo = np.searchsorted(sv, targets - eps)
        hi = np.searchsorted(sv, targets + eps)
        for t, (a, b) in enumerate(zip(lo, hi, strict=True)):
            for pos in range(a, b):
                yield t, order[pos]

    def keep(group) -> None:
        g = tuple(sorted({int(x) for x in group}))
        if len(g) == len(group) and g not in seen and not any(set(f) <= set(g) for f in seen):
            if zero(g):
                seen.add(g)
                found.append(g)

    for t in np.flatnonzero(np.abs(pair) < eps):
        keep((iu[t], ju[t]))
    if max_size >= 3:
        singles = np.flatnonzero(touched)
        for t, s_ in near(proj[singles], -pair):
            keep((iu[t], ju[t], singles[s_]))
    if max_size >= 4:
        for t, u in near(pair, -pair):
            if t < u:
                keep((iu[t], ju[t], iu[u], ju[u]))
    return found


def assert_no_disclosure(
    table,
    responses,
    *,
    k: int = 5,
    territories=None,
    weights=None,
    exact: bool = True,
    bounds: bool = False,
    levels=None,
    time_limit: float = 30.0,
) -> None:
    """Assert that no published figure can be traced back to fewer than ``k`` respondents.

    Parameters
    ----------
    table : pandas.DataFrame or list of DataFrame
        Output of :func:`barometre_geo.aggregate` (ideally at every level,
        with the breakdowns to publish, as readers can combine them); a list:
        every table an edition publishes, audited together (a cell published
        in one is published).
    responses : Responses
        The responses the table was computed from.
    k : int, default 5
        Threshold; groups of 1 to ``min(k − 1, 4)`` respondents are searched.
    territories : Territories, optional
        Reference used by ``aggregate`` (default: embedded COG 2025).
    weights : CalibrationWeights, Series or array, optional
        The weights given to ``aggregate`` (e.g. ``calibration_weights(responses)``):
        each published weighted value then also counts, as ``Σ w·y`` over its
        cell (a reader who knows who answered can recompute calibration
        weights). Default: weighted values are not audited.
    exact : bool, default True
        The linear audit: groups of fewer than ``k`` respondents whose sum the
        published figures determine (SVD; ``O(N²)`` memory: test-sized data).
    bounds : bool, default False
        Also the integer audit (:func:`barometre_geo.protection.linked.audit_bounds`):
        with whole answers, "count ≥ follow-up n" and every table together, no
        hidden figure may be pinned to a single value or to a homogeneous one
        (0 or all) — every hidden figure of a sensitive question and of its
        follow-ups, groups of fewer than ``k`` respondents elsewhere — nor a
        group of 1 to ``k − 1`` respondents be proven to have skipped the
        question. A figure the audit cannot decide in time fails it too.
    levels : list of str, optional
        Levels whose hidden cells the integer audit examines (default all).
    time_limit : float
        Seconds per integer program.

    Raises
    ------
    AssertionError
        Naming the indicator and the response ids of the disclosed group, or
        the pinned hidden figures.
    """
    tables = [table] if isinstance(table, pd.DataFrame) else list(table)
    if bounds:
        from .linked import audit_bounds

        report = audit_bounds(
            tables, responses, territories=territories, k=k, levels=levels, time_limit=time_limit
        )
        if not report.ok:
            shown = pd.concat([report.findings, report.undecided.assign(finding="undecided")])
            first = shown.iloc[0]
            raise AssertionError(
                f"{len(report.findings)} hidden figure(s) pinned and {len(report.undecided)} "
                f"undecided by the integer audit; first: {first['indicator']} "
                f"{first['level']} {first['code']} {first['by']}={first['group']} "
                f"{first['option'] or ''}: {first['finding']}. The protection is broken."
            )
    if not exact:
        return
    ids = responses.data.get("response_id", pd.Series(responses.data.index))
    if weights is not None:
        series = getattr(weights, "weights", weights)
        if isinstance(series, pd.Series):
            series = series.reindex(responses.data.index)
        weights = np.asarray(series, dtype=float)
        if weights.shape != (len(responses.data),):
            raise ValueError(
                f"weights has {weights.size} values for {len(responses.data)} responses: pass "
                "the weights given to aggregate(), one per row of responses.data."
            )
    from .linked import published_union

    merged = published_union(tables)
    for ind_id, (A, rows) in _incidence(merged, responses, territories, weights).items():
        groups = disclosed_groups(A, max_size=min(k - 1, 4))
        if groups:
            g = groups[0]
            raise AssertionError(
                f"Indicator {ind_id!r}: the published cells determine the answers of "
                f"{len(g)} respondent(s) {[str(ids.iloc[rows[i]]) for i in g]} "
                f"({len(groups)} such group(s) of fewer than {k}). The protection is broken."
            )
