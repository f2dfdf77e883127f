"""Indicators at every territorial level, with honest statistics and protection.

:func:`aggregate` turns :class:`~barometre_geo.Responses` into one tidy table:
one row per indicator × territory × breakdown group (× option), with the number
of valid answers, the value (a share in 0–1, or a mean in %), its 95 %
confidence interval, participation, an optional weighted estimate and the
flags of small-count protection.

Geography
---------
A commune's answer counts in its commune, EPCI, département, région and
France; an EPCI's in its EPCI (alone, not in any commune), the département
and région of its seat, and France; a département's or a région's council's
at its own level and above; a syndicat's in its département and région when
known. Responses without territory count in France only (and are reported).
The ``france`` level also gives ``france_metropolitaine`` and ``outre_mer``
(the five DROM) rows.

Universes
---------
Each indicator is asked to some kinds of collectivity (catalogue ``universe``):
only those respondents count, and ``universe_count`` counts the existing
collectivities of those kinds in the territory (see
:mod:`barometre_geo.stats.units`; syndicats have no reference list and are
left out of ``universe_count`` and of the ``participation`` numerator).

Statistics
----------
Wilson intervals for shares, Student t for means (see
:mod:`barometre_geo.stats.intervals`); weighted estimates use Kish's effective sample
size. ``low_reliability`` flags published figures with fewer than 30 answers
or an interval wider than ±15 points.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import DataQualityWarning, SchemaError, UnknownValueError
from ..protection.apply import EDITION_BREAKDOWNS, protect
from ..protection.rules import (
    SECRET_REASONS,
    SUPPRESSED_COLUMNS,
    SUPPRESSION_REASONS,
    T_SENSITIVE,
    check_t_sensitive,
    check_thresholds,
    parse_mode,
)
from ..stats.cells import Spec, cell_sums
from ..stats.intervals import kish, mean_interval, wilson
from ..stats.prepare import _dedup_latest as dedup_latest
from ..stats.prepare import by_groups, indicator_measures, parse_by, prepare_rows
from ..stats.strata import assign_strata, parse_strata
from ..stats.units import GEO_LEVELS, build_geo

__all__ = ["AGGREGATE_COLUMNS", "AGGREGATE_LEVELS", "SUPPRESSED_COLUMNS", "aggregate"]

#: Levels accepted by ``aggregate(level=...)``.
AGGREGATE_LEVELS: tuple[str, ...] = ("commune", "epci", "departement", "region", "france")
#: Columns of the table returned by :func:`aggregate`, in order.
AGGREGATE_COLUMNS: tuple[str, ...] = (
    "indicator",
    "level",
    "code",
    "nom",
    "by",
    "group",
    "option",
    "statistic",
    "n",
    "value",
    "ci_low",
    "ci_high",
    "value_weighted",
    "ci_low_weighted",
    "ci_high_weighted",
    "deff",
    "universe_count",
    "respondents",
    "participation",
    "population_share",
    "suppressed",
    "reason",
    "low_reliability",
)
TOTAL_BY, TOTAL_GROUP = "total", "Ensemble"
LOW_RELIABILITY_N = 30
LOW_RELIABILITY_HALF_WIDTH = 0.15  # of the full range: 15 points of % for shares and means


def _parse_levels(level) -> list[str]:
    from ..territories.reference import parse_level

    items = [level] if isinstance(level, str) else list(level or [])
    if not items:
        raise UnknownValueError(
            f"aggregate() needs at least one level. Valid levels: {', '.join(AGGREGATE_LEVELS)}."
        )
    out = []
    for item in items:
        lv = parse_level(item, allowed=AGGREGATE_LEVELS)
        if lv not in out:
            out.append(lv)
    return out


#: Values of ``aggregate(estimates=...)``.
ESTIMATES: tuple[str, ...] = ("direct", "model")


def _parse_estimates(value) -> str:
    if value not in ESTIMATES:
        raise UnknownValueError(
            f"Unknown estimates={value!r}. Valid values: {', '.join(ESTIMATES)} ('model' adds "
            "the model-based small-area estimates next to the direct ones)."
        )
    return value


def _unpack(responses):
    data = getattr(responses, "data", None)
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(
            f"aggregate() expects a Responses object (with a .data table), got "
            f"{type(responses).__name__}. Use barometre_geo.read_responses(...) or "
            "barometre_geo.testing.make_responses(...)."
        )
    catalogue = getattr(responses, "catalogue", None)
    if catalogue is None:
        from ..survey.catalogue import load_catalogue

        catalogue = load_catalogue()
    return data, catalogue


def _follows_sensitive(ind, catalogue) -> bool:
    """Return whether the indicator is asked only after an answer to a sensitive question."""
    asked = getattr(ind, "asked_if", None)
    return asked is not None and bool(catalogue.get(asked.indicator).sensitive)


def _filters(inds: list, catalogue, data: pd.DataFrame) -> list:
    """Return the filters (``asked_if``) of the chosen indicators not chosen, recursively.

    A follow-up is protected with its filter (its ``n`` counts the filter's
    answer): computing one without the other would give it other decisions
    than in a table holding both. Filters whose columns the data lack are left
    out (nothing of them is published).
    """
    have = {i.id for i in inds}
    cols = set(data.columns)
    out: list = []
    todo = list(inds)
    while todo:
        ind = todo.pop()
        asked = getattr(ind, "asked_if", None)
        if asked is None or asked.indicator in have:
            continue
        parent = catalogue.get(asked.indicator)
        if all(c in cols for c in parent.columns):
            have.add(parent.id)
            out.append(parent)
            todo.append(parent)
    return out


def _edition_breakdowns(bys: list[str], data: pd.DataFrame, earlier: list[str]) -> list[str]:
    """Breakdowns to compute: every built-in one whenever one is asked, then the others.

    The built-in breakdowns are protected together (stage 1 of
    :mod:`barometre_geo.protection.apply`) so that a table by stratum and
    another by kind come from the same decisions. The custom ones follow, the
    edition's earlier ones (``earlier``) first, each in its own stage
    (:func:`_by_stages`). The requested ones are returned, the others only
    take part in the protection.
    """
    if not bys:
        return []
    out = [b for b in EDITION_BREAKDOWNS if b == "stratum" or b in data.columns]
    out += [b for b in earlier if b not in out]
    return out + [b for b in bys if b not in out]


def _by_stages(computed: list[str]) -> list[int]:
    """Protection stage of the total and of each computed breakdown.

    0: the totals; 1: the built-in breakdowns, together; then one stage per
    custom breakdown, in order. A custom table is thus protected on top of
    everything published before it and never changes it: ``by=["a", "b"]``
    gives the rows of ``by="a"`` and of ``by="b", earlier_by="a"``.
    """
    out, nxt = [0], 2
    for b in computed:
        if b in EDITION_BREAKDOWNS:
            out.append(1)
        else:
            out.append(nxt)
            nxt += 1
    return out


def _output_cells(cs, n_out: int, computed: list[str], bys: list[str]) -> np.ndarray:
    """Cells of the requested indicators and breakdowns (the others protect only)."""
    keep_by = np.array([True] + [b in bys for b in computed])
    return (cs.c_ind < n_out) & keep_by[cs.c_by]


def _select(catalogue, data: pd.DataFrame, indicators) -> tuple[list, list[str]]:
    cols = set(data.columns)

    def present(ind) -> bool:
        return all(c in cols for c in ind.columns)

    if indicators is None:
        chosen = [i for i in catalogue.indicators if present(i)]
        missing = [i.id for i in catalogue.indicators if not present(i)]
        if not chosen:
            raise SchemaError(
                "responses.data has no column of any catalogue indicator. Read the exports "
                "with read_responses() (it names the columns after the catalogue ids)."
            )
        return chosen, missing
    items = [indicators] if isinstance(indicators, str) else list(indicators)
    chosen = []
    for item in items:
        ind = catalogue.get(item)  # UnknownValueError listing close or valid ids
        if not present(ind):
            absent = [c for c in ind.columns if c not in cols]
            raise SchemaError(
                f"Indicator {ind.id!r} is in the catalogue but responses.data lacks its "
                f"column(s) {absent[:5]} (wave {ind.wave} not read?). Read that wave's export "
                "or leave the indicator out."
            )
        if ind not in chosen:
            chosen.append(ind)
    return chosen, []


def _weights(weights, responses, data, territories, strata) -> tuple[np.ndarray | None, dict]:
    if weights is None:
        return None, {"weights": "none"}
    if isinstance(weights, str):
        if weights != "calibration":
            if weights in data.columns:
                w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
                meta = {"weights": f"column {weights}"}
            else:
                raise UnknownValueError(
                    f"Unknown weights={weights!r}. Valid values: 'calibration' (raking to the "
                    "territorial reference), None (no weighted estimates), a column of "
                    "responses.data, a CalibrationWeights or a Series aligned on responses.data."
                )
        else:
            from ..stats.weighting import calibration_weights

            cw = calibration_weights(responses, territories, strata=strata)
            w = cw.weights.to_numpy(dtype=float)
            meta = {
                "weights": "calibration",
                "calibration_converged": cw.converged,
                "calibration_fallbacks": cw.fallbacks,
            }
    else:
        series = getattr(weights, "weights", weights)
        if isinstance(series, pd.Series):
            if not series.index.equals(data.index):
                series = series.reindex(data.index)
            w = series.to_numpy(dtype=float)
        else:
            w = np.asarray(series, dtype=float)
        meta = {"weights": "custom"}
    if w.shape != (len(data),) or not np.all(np.isfinite(w)) or (w <= 0).any():
        raise SchemaError(
            "weights must give one finite positive weight per response (aligned on "
            f"responses.data's index); got {np.size(w)} values for {len(data)} responses, "
            f"{int(np.sum(~np.isfinite(w)))} missing. Use calibration_weights(responses)."
        )
    return w, meta


def aggregate(
    responses,
    *,
    level: str | Sequence[str],
    indicators: str | Sequence[str] | None = None,
    by: str | Sequence[str] | None = None,
    territories=None,
    k: int = 5,
    k_sensitive: int = 10,
    mode: str = "public",
    weights="calibration",
    strata: Sequence[int] | None = None,
    options: bool = False,
    t_sensitive: int = T_SENSITIVE,
    detailed_reasons: bool = False,
    estimates: str = "direct",
    covered=None,
    earlier_by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Compute indicators per territory, with confidence intervals and protection.

    Parameters
    ----------
    responses : Responses
        Output of :func:`barometre_geo.read_responses` (or of
        :func:`barometre_geo.testing.make_responses`).
    level : str or list of str
        ``commune``, ``epci``, ``departement``, ``region``, ``france`` (which
        adds ``france_metropolitaine`` and ``outre_mer`` rows).
    indicators : str or list of str, optional
        Catalogue ids; default every indicator present in the data.
    by : str or list of str, optional
        Breakdowns, each giving its own rows next to the total (``by="total"``):
        ``stratum`` (population classes, alias ``strate``), ``profile`` (agent /
        élu), ``type_label``, ``kind``, or any categorical column of
        ``responses.data`` (e.g. a coverage column). Not at commune level, where
        each commune answers once per wave. Custom breakdowns are protected
        one after the other, in the order given, on top of the totals and the
        built-in breakdowns (see ``earlier_by``).
    territories : Territories, optional
        Reference (default: the embedded COG 2025).
    k : int, default 5
        Minimum number of valid answers of a published figure.
    k_sensitive : int, default 10
        Minimum for indicators flagged sensitive (never below ``k``).
    mode : {"public", "restricted"}
        ``public`` (default) for open data; ``restricted`` shows non-sensitive
        indicators at every level without threshold (collectivities' platform).
    weights : "calibration", None, str, Series or CalibrationWeights
        Weights of the ``*_weighted`` columns: ``"calibration"`` (default)
        rakes the respondents to the reference (:func:`calibration_weights`);
        ``None`` leaves those columns empty. The unweighted ``value`` is the
        published figure in every case.
    strata : sequence of int, optional
        Upper bounds of the population classes (default 500, 1 000, 3 500,
        10 000, 50 000).
    options : bool, default False
        Also give one row per option for ``share`` indicators (the catalogue's
        ``distribution`` and ``share_per_option`` indicators always have them).
    t_sensitive : int, default 3
        Attribute rule of sensitive indicators: a figure is published only
        with at least ``t_sensitive`` answers away from each end ("Oui" and
        not "Oui"; an option ticked and not ticked — else that option row
        alone is hidden; > 0 % and < 100 %), also for what nested figures
        leave by difference (see :mod:`barometre_geo.protection.rules`). 0
        disables it.
    detailed_reasons : bool, default False
        ``reason`` of the hidden cells of sensitive indicators: by default
        ``secret_sensitive`` for those hidden by the attribute rule
        (``attribute_sensitive``) and their complements (``complementary``)
        alike — "too homogeneous" would itself say that (nearly) every
        respondent gave the same answer. ``True`` keeps the two apart, for an
        analyst's own checks: never publish such a table.
    estimates : {"direct", "model"}, default "direct"
        ``"model"`` adds the model-based small-area estimates next to the direct
        ones (:data:`~barometre_geo.indicators.modelled.MODEL_COLUMNS`) on the
        overall rows of the EPCI, département, région, France and zone levels:
        a multilevel model per indicator and option, post-stratified on every
        collectivity of the universe (a share of collectivities), with a 95 %
        interval, published at the tier the flip rule allows (``value``,
        ``class`` or ``hidden``; see :mod:`barometre_geo.protection.modelled`).
    covered : iterable of str or pandas.Series, optional
        Codes of the communes served by a mutualisation structure (e.g.
        ``structures.members["commune"]``): a covariate of the model.
    earlier_by : str or list of str, optional
        Custom breakdowns of the same edition already published, in the order
        they were: their cells are protected first (as they were, the
        decisions are deterministic) and the requested breakdowns on top of
        them, so that no combination of the tables recovers a hidden cell.
        Without it, two custom tables published apart are each protected
        against the totals and built-in breakdowns only: publish them in one
        call, or name the earlier ones here.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`AGGREGATE_COLUMNS` (documented in French by
        :func:`barometre_geo.write_aggregates`'s dictionary). ``attrs["barometre_geo"]``
        holds a JSON-able report: thresholds, responses without territory,
        indicators absent from the data, suppressed cells per reason.

    Warns
    -----
    DataQualityWarning
        When responses have no territory (they count in France only).

    Examples
    --------
    >>> import barometre_geo as bg
    >>> from barometre_geo.testing import random_responses
    >>> r = random_responses(400, seed=1)
    >>> t = bg.aggregate(r, level="region", indicators="cyber_pca", weights=None)
    >>> t[["indicator", "level", "code", "n", "value", "suppressed"]].shape[1]
    6
    """
    levels = _parse_levels(level)
    estimates = _parse_estimates(estimates)
    mode = parse_mode(mode)
    k, k_sensitive = check_thresholds(k, k_sensitive)
    t_sensitive = check_t_sensitive(t_sensitive)
    strata = parse_strata(strata)
    data, catalogue = _unpack(responses)
    inds, missing = _select(catalogue, data, indicators)
    n_out = len(inds)
    inds = inds + _filters(inds, catalogue, data)  # protected with their follow-ups
    all_cols = {c for i in catalogue.indicators for c in i.columns}
    bys = parse_by(by, data, all_cols)
    earlier = parse_by(earlier_by, data, all_cols, what="earlier_by")
    computed = _edition_breakdowns(bys, data, earlier)
    if territories is None:
        from ..territories.load import load_territories

        territories = load_territories()
    geo = build_geo(territories)
    prep = prepare_rows(data, geo)
    w, wmeta = _weights(weights, responses, data, territories, strata)
    dedup = dedup_latest(data) if any(i.wave == 0 for i in inds) else None
    plans = [indicator_measures(i, data, prep.kind, options=options, dedup=dedup) for i in inds]
    n_rows = len(data)
    R = np.stack([p.R for p in plans], axis=1).astype(float)
    spec = Spec(
        R=R,
        Rk=R * (prep.kind != "syndicat")[:, None],
        V=np.stack([p.V for p in plans], axis=1).astype(float),
        P=R * prep.commune_pop[:, None],
        Y=np.stack([v for p in plans for v in p.values], axis=1),
        measure_ind=np.repeat(np.arange(len(plans)), [len(p.values) for p in plans]),
        is_mean=np.array([p.is_mean for p in plans]),
        w=np.ones(n_rows) if w is None else w,
        weighted=w is not None,
    )
    groups = [(np.zeros(n_rows, dtype=np.int64), 1)]
    labels = [[TOTAL_GROUP]]
    for name in computed:
        g, lab = by_groups(name, data, prep, strata)
        groups.append((g, max(len(lab), 1)))
        labels.append(lab)
    fits = None
    if estimates == "model":  # the workers fit the models while this process protects
        from ..stats.estimates.design import departement_pairs
        from .modelled import start_fits

        fits = start_fits(plans[:n_out], inds[:n_out], prep, geo, covered=covered, k=k,
                          k_sensitive=k_sensitive, levels=levels,
                          dep_pairs=departement_pairs(territories))  # fmt: skip
    try:
        cs = cell_sums(spec, geo, prep.units, groups)
        ids = [i.id for i in inds]
        prot = protect(
            cs,
            plans,
            prep.units,
            groups,
            spec.V > 0,
            k=k,
            k_sensitive=k_sensitive,
            mode=mode,
            w=w,
            t_sensitive=t_sensitive,
            multiple=[i.kind == "multiple_choice" for i in inds],
            follows=[_follows_sensitive(i, catalogue) for i in inds],
            filters=[
                ids.index(i.asked_if.indicator)
                if i.asked_if is not None and i.asked_if.indicator in ids
                else None
                for i in inds
            ],
            by_stage=_by_stages(computed),
        )
        table = _assemble(
            cs, plans, geo, prep, computed, labels, prot, w, strata, levels, n_out=n_out, bys=bys
        )
        plans, inds = plans[:n_out], inds[:n_out]
        model_report = None
        if fits is not None:
            from ..protection.modelled import hidden_direct_units
            from .modelled import add_rows, model_columns

            extra, model_report, more = model_columns(
                table, fits, hidden=hidden_direct_units(cs, prot, plans)
            )
            for name, col in extra.items():
                table[name] = col
            table = add_rows(table, more, geo)
    finally:
        if fits is not None:
            fits.close()  # at once on an error: no worker left behind
    if not detailed_reasons:
        sens = table["indicator"].isin([p_.id for p_ in inds if p_.sensitive])
        secret = sens & table["reason"].isin(SECRET_REASONS)
        table["reason"] = table["reason"].mask(secret, "secret_sensitive")
    out_cells = _output_cells(cs, n_out, computed, bys)
    reason = prot.reason[out_cells]
    names = np.array(list(SUPPRESSION_REASONS))
    counts = pd.Series(names[reason[reason >= 0]]).value_counts()
    withheld = int((prot.weighted_hidden & ~prot.hidden)[out_cells].sum()) if w is not None else 0
    edition = getattr(responses, "edition", None)
    synthetic = getattr(responses, "synthetic", None)
    table.attrs["barometre_geo"] = {
        "edition": None if edition is None else str(edition),
        "synthetic": None if synthetic is None else bool(synthetic),
        "levels": levels,
        "by": bys,
        "k": k,
        "k_sensitive": k_sensitive,
        "t_sensitive": t_sensitive,
        "mode": mode,
        "strata": list(strata),
        **wmeta,
        "responses": int(n_rows),
        "without_territory": prep.without_territory,
        "indicators": [p.id for p in plans],
        "indicators_absent": missing,
        "suppressed_cells": {str(a): int(b) for a, b in counts.items()},
        "weighted_withheld": withheld,
        "protection": prot.info,
    }
    if model_report is not None:
        table.attrs["barometre_geo"]["model"] = model_report
    if prep.without_territory:
        total = sum(prep.without_territory.values())
        detail = ", ".join(f"{kd}: {c}" for kd, c in prep.without_territory.items())
        warnings.warn(
            f"{total} response(s) have no territory ({detail}): they count in the France "
            "totals only, where their indicator's universe includes them. See "
            "table.attrs['barometre_geo']['without_territory'].",
            DataQualityWarning,
            stacklevel=2,
        )
    return table


def _universe_counts(cs, plans, geo, bys, labels, strata):
    """Existing collectivities of each cell's universe (NA where unknown)."""
    count = np.full(len(cs.c_ind), np.nan)
    pop = np.full(len(cs.c_ind), np.nan)
    ref = geo.ref
    ref_kind = ref["kind"].to_numpy(dtype=object)
    ref_stratum = np.asarray(assign_strata(ref["population"], strata).codes, dtype=np.int64)
    com = ref_kind == "commune"
    universes = sorted({p.kinds for p in plans})
    u_of = np.array([universes.index(p.kinds) for p in plans])[cs.c_ind]
    for ui, kinds in enumerate(universes):
        in_u = np.isin(ref_kind, list(kinds))
        for li, level in enumerate(GEO_LEVELS):
            unit = ref[level].to_numpy()
            n_units = geo.units(level)
            for bi in range(len(bys) + 1):
                m = (u_of == ui) & (cs.c_level == li) & (cs.c_by == bi)
                if not m.any():
                    continue
                name = "total" if bi == 0 else bys[bi - 1]
                key = cs.c_unit[m]
                ok = in_u & (unit >= 0)
                if name == "total":
                    cnt = np.bincount(unit[ok], minlength=n_units)
                    p = geo.population[level]
                elif name == "stratum":
                    g = len(labels[bi])
                    ok &= ref_stratum >= 0
                    cnt = np.bincount(unit[ok] * g + ref_stratum[ok], minlength=n_units * g)
                    c_ok = com & (unit >= 0) & (ref_stratum >= 0)
                    p = np.bincount(
                        unit[c_ok] * g + ref_stratum[c_ok],
                        weights=ref["population"].to_numpy()[c_ok],
                        minlength=n_units * g,
                    )
                    key = key * g + cs.c_group[m]
                elif name == "kind":
                    lab = np.array(labels[bi], dtype=object)
                    g = len(lab)
                    code = pd.Index(lab).get_indexer(ref_kind)
                    ok &= code >= 0
                    cnt = np.bincount(unit[ok] * g + code[ok], minlength=n_units * g).astype(float)
                    no_ref = np.isin(lab, ["syndicat"])
                    cnt[np.tile(no_ref, n_units)] = np.nan
                    p = np.where(
                        np.tile(lab == "commune", n_units),
                        np.repeat(geo.population[level], g),
                        np.nan,
                    )
                    key = key * g + cs.c_group[m]
                else:
                    continue
                count[m] = cnt[key]
                if "commune" in kinds:
                    pop[m] = p[key]
    return count, pop


def _categorical(idx: np.ndarray, values) -> pd.Categorical:
    """Categorical of ``values[idx]`` (−1: NA) with unique categories, built from codes."""
    values = np.asarray(values, dtype=object)
    cats, inverse = np.unique(values.astype(str), return_inverse=True)
    codes = np.where(idx >= 0, inverse[np.maximum(idx, 0)], -1)
    return pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype="str"))


def _assemble(cs, plans, geo, prep, computed, labels, prot, w, strata, levels, *, n_out, bys):
    hidden, reason = prot.hidden, prot.reason
    n_all = cs.c_sums[:, 2]
    universe_count, terr_pop = _universe_counts(cs, plans, geo, computed, labels, strata)
    with np.errstate(divide="ignore", invalid="ignore"):
        participation = np.where(universe_count > 0, cs.c_sums[:, 1] / universe_count, np.nan)
        pop_share = np.where(terr_pop > 0, cs.c_sums[:, 3] / terr_pop, np.nan)
    n_eff_all, deff_all = kish(cs.c_sums[:, 4], cs.c_sums[:, 5], n_all)
    # requested levels, in output order
    wanted = [GEO_LEVELS.index(lv) for lv in levels]
    if "france" in levels:
        wanted.append(GEO_LEVELS.index("zone"))
    sel = np.flatnonzero(
        np.isin(cs.c_level[cs.m_cell], wanted) & _output_cells(cs, n_out, computed, bys)[cs.m_cell]
    )
    c = cs.m_cell[sel]
    # position of each computed breakdown in the requested ones (the others are not shown)
    out_by = np.array([0] + [1 + bys.index(b) if b in bys else -1 for b in computed])
    out_level = np.array([0, 1, 2, 3, -1, 4])[cs.c_level[c]]
    out_level = np.where(out_level < 0, 5 + cs.c_unit[c], out_level)
    order = np.lexsort(
        (cs.m_measure[sel], cs.c_group[c], out_by[cs.c_by[c]], cs.c_unit[c], out_level, cs.c_ind[c])
    )
    sel, c, out_level = sel[order], c[order], out_level[order]
    mm, ms = cs.m_measure[sel], cs.m_sums[sel]
    ind = cs.c_ind[c]
    is_mean = np.array([p.is_mean for p in plans])[ind]
    nn = n_all[c]
    n_eff = n_eff_all[c]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(nn > 0, ms[:, 0] / nn, np.nan)
        var = np.where(nn > 1, (ms[:, 1] - nn * value**2) / (nn - 1), np.nan)
        sw = cs.c_sums[c, 4]
        vw = np.where(sw > 0, ms[:, 2] / sw, np.nan)
        varw = np.where(nn > 1, (ms[:, 3] / sw - vw**2) * nn / (nn - 1), np.nan)
    lo, hi = wilson(value, nn)
    lo_w, hi_w = wilson(vw, n_eff)
    if is_mean.any():
        m = is_mean
        sd = np.sqrt(np.maximum(var[m], 0))
        lo[m], hi[m] = mean_interval(value[m], sd, nn[m], lower=0, upper=100)
        sdw = np.sqrt(np.maximum(varw[m], 0))
        lo_w[m], hi_w[m] = mean_interval(vw[m], sdw, n_eff[m], lower=0, upper=100)
    dff = deff_all[c]
    if w is None:
        vw, lo_w, hi_w, dff = (np.full(len(c), np.nan) for _ in range(4))
    scale = np.where(is_mean, 100.0, 1.0)
    low_rel = (nn < LOW_RELIABILITY_N) | ((hi - lo) / 2 > LOW_RELIABILITY_HALF_WIDTH * scale)
    # option rows of sensitive multiple-choice questions hidden alone
    row_hid = prot.row_hidden[sel] & ~hidden[c]
    hid = hidden[c] | row_hid
    names = list(SUPPRESSION_REASONS)
    reason_row = reason[c].copy()
    reason_row[row_hid] = np.where(
        prot.row_primary[sel][row_hid],
        names.index("attribute_sensitive"),
        names.index("complementary"),
    )
    for arr in (value, lo, hi, vw, lo_w, hi_w, dff):
        arr[hid] = np.nan
    for arr in (vw, lo_w, hi_w, dff):  # weighted figures that would reveal answers
        arr[prot.weighted_hidden[c]] = np.nan
    # identifiers, as categoricals built from integer codes
    offsets = np.cumsum([0] + [geo.units(lv) for lv in GEO_LEVELS])
    all_codes = np.concatenate([geo.codes[lv] for lv in GEO_LEVELS])
    all_names = np.concatenate([geo.names[lv] for lv in GEO_LEVELS])
    glob = offsets[cs.c_level[c]] + cs.c_unit[c]
    g_off = np.cumsum([0] + [len(lab) for lab in labels])
    glob_group = np.where(cs.c_group[c] >= 0, g_off[cs.c_by[c]] + cs.c_group[c], -1)
    all_labels = [x for lab in labels for x in lab]
    option_of = [o for p in plans for o in p.options]
    opt_vals = sorted({o for o in option_of if o is not None})
    opt_code = np.array([-1 if o is None else opt_vals.index(o) for o in option_of])[mm]
    statistic = np.where(is_mean, 1, np.where(opt_code < 0, 0, 2))
    n_int = pd.array(np.rint(nn).astype(np.int64), dtype="Int64")
    n_int[hid] = pd.NA
    low = pd.array(low_rel, dtype="boolean")
    low[hid] = pd.NA
    uc = universe_count[c]
    uc_int = pd.array(np.where(np.isnan(uc), 0, uc).astype(np.int64), dtype="Int64")
    uc_int[np.isnan(uc)] = pd.NA
    out_levels = [*AGGREGATE_LEVELS, "france_metropolitaine", "outre_mer"]
    cols = {
        "indicator": pd.Categorical.from_codes(ind, categories=[p.id for p in plans[:n_out]]),
        "level": pd.Categorical.from_codes(out_level, categories=out_levels),
        "code": _categorical(glob, all_codes),
        "nom": _categorical(glob, all_names),
        "by": pd.Categorical.from_codes(out_by[cs.c_by[c]], categories=["total", *bys]),
        "group": _categorical(glob_group, all_labels).remove_unused_categories(),
        "option": pd.Categorical.from_codes(opt_code, categories=opt_vals or ["-"]),
        "statistic": pd.Categorical.from_codes(
            statistic, categories=["share", "mean", "option_share"]
        ),
        "n": n_int,
        "value": value,
        "ci_low": lo,
        "ci_high": hi,
        "value_weighted": vw,
        "ci_low_weighted": lo_w,
        "ci_high_weighted": hi_w,
        "deff": dff,
        "universe_count": uc_int,
        "respondents": pd.array(np.rint(cs.c_sums[c, 0]).astype(np.int64), dtype="Int64"),
        "participation": participation[c],
        "population_share": pop_share[c],
        "suppressed": hid,
        "reason": pd.Categorical.from_codes(reason_row, categories=names),
        "low_reliability": low,
    }
    return pd.DataFrame(cols)
