"""Calibration weights by raking (iterative proportional fitting) with trimming.

Participation in the Baromètre is voluntary and skewed: some régions and the
territories of active OPSN answer far more than others. Calibration weights
make the respondents of each kind reproduce the known number of collectivities
per région and per population stratum of the territorial reference, so that a
weighted share estimates the share among *all* collectivities, not only among
respondents. The published report is unweighted; :func:`barometre_geo.aggregate`
keeps the unweighted figure as ``value`` and puts the weighted one next to it.

Why our own ~60 lines of numpy rather than a library: raking on two margins is a
short loop of ``bincount`` calls; ``samplics`` and Meta's ``balance`` do it too
but pull in heavy, tightly pinned stacks (statsmodels, scikit-learn…) for
nothing more, and ``ipfn`` works on contingency tables, not on unit weights.

Algorithm (:func:`rake`)
-------------------------
1. Start from the base weights scaled to the target total.
2. One sweep: for each margin in turn, multiply the weights of each category by
   ``target / current total`` (Deming & Stephan 1940).
3. Trimming (optional): clip the weights to ``[lo, hi] × d`` (``d``: the base
   weights scaled to the target total, i.e. bounds on the calibration factor
   ``g = w / d`` as in Deville & Särndal 1992; with equal base weights, bounds
   relative to the mean weight) and go on sweeping — the classic "trim and
   re-rake" loop, whose fixed point meets the margins within the bounds.
4. Stop when the largest relative margin error is below ``tol`` (converged) or
   after ``max_iter`` sweeps (not converged: the bounds and margins are
   incompatible — widen the bounds or merge categories).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import SchemaError
from .strata import assign_strata, parse_strata

__all__ = ["CalibrationWeights", "RakingResult", "calibration_weights", "rake"]

# EPCI nature in two classes: CU and métropoles are too few to be a raking margin
_NATURE_CLASS = {"CC": "CC", "CA": "CA, CU, MET", "CU": "CA, CU, MET", "MET": "CA, CU, MET"}


@dataclass(frozen=True, repr=False)
class RakingResult:
    """Weights and convergence report of one raking.

    Attributes
    ----------
    weights : pandas.Series
        One weight per unit, aligned with the input's index.
    converged : bool
        Margins met within ``tol`` with every weight inside the bounds.
    iterations : int
        Number of sweeps over the margins.
    max_margin_error : float
        Largest ``|Σw − target| / target`` over the categories of every margin.
    trimmed : int
        Number of weights sitting on a trimming bound at the end.
    dropped : tuple
        ``(margin, category, target)`` of target categories without any unit:
        they cannot be represented and were left out.
    """

    weights: pd.Series
    converged: bool
    iterations: int
    max_margin_error: float
    trimmed: int = 0
    dropped: tuple = field(default_factory=tuple)

    def summary(self) -> dict:
        """Convergence and weight summary as a flat dict.

        Keys: ``n``, ``converged``, ``iterations``, ``max_margin_error``,
        ``trimmed``, ``sum_weights``, ``min``, ``mean``, ``max``, ``cv`` (coefficient
        of variation), ``n_eff`` (Kish effective sample size ``(Σw)²/Σw²``) and
        ``deff`` (Kish design effect due to weighting, ``n/n_eff = 1 + cv²``).
        """
        w = self.weights.to_numpy(dtype=float)
        n = len(w)
        s, s2 = float(w.sum()), float((w * w).sum())
        n_eff = s * s / s2 if s2 > 0 else float("nan")
        mean = s / n if n else float("nan")
        return {
            "n": n,
            "converged": self.converged,
            "iterations": self.iterations,
            "max_margin_error": self.max_margin_error,
            "trimmed": self.trimmed,
            "sum_weights": s,
            "min": float(w.min()) if n else float("nan"),
            "mean": mean,
            "max": float(w.max()) if n else float("nan"),
            "cv": float(w.std() / mean) if n else float("nan"),
            "n_eff": n_eff,
            "deff": n / n_eff if n_eff and n_eff == n_eff else float("nan"),
        }

    def __repr__(self) -> str:
        s = self.summary()
        state = "converged" if self.converged else "NOT converged"
        return (
            f"<RakingResult {state} in {s['iterations']} sweeps: n={s['n']}, "
            f"weights {s['min']:.3g}–{s['max']:.3g} (mean {s['mean']:.3g}), "
            f"n_eff={s['n_eff']:.1f}, deff={s['deff']:.2f}, "
            f"max margin error {s['max_margin_error']:.2g}>"
        )


def rake(
    data: pd.DataFrame,
    targets: Mapping[str, Mapping],
    *,
    base_weights=None,
    bounds: tuple[float, float] | None = (0.3, 3.0),
    tol: float = 1e-6,
    max_iter: int = 1000,
) -> RakingResult:
    """Calibrate unit weights to known margins by raking, with optional trimming.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per responding unit, one column per margin variable (its
        category for that unit).
    targets : mapping
        ``{column: {category: known total}}``. Every margin must have the same
        grand total once categories without respondents are dropped.
    base_weights : array-like, optional
        Design weights to start from (default 1).
    bounds : (float, float) or None, default (0.3, 3.0)
        Bounds of the adjustment factor ``w / d``, where ``d`` are the base
        weights scaled to the target total (with equal base weights: bounds
        relative to the mean weight); ``None`` for no trimming.
    tol : float, default 1e-6
        Convergence threshold on the largest relative margin error.
    max_iter : int, default 1000
        Maximum number of sweeps.

    Returns
    -------
    RakingResult

    Examples
    --------
    >>> import pandas as pd
    >>> sample = pd.DataFrame({"region": ["A", "A", "A", "B"], "size": ["s", "l", "s", "l"]})
    >>> r = rake(sample, {"region": {"A": 60, "B": 40}, "size": {"s": 50, "l": 50}}, bounds=None)
    >>> r.converged, r.weights.round(1).tolist()
    (True, [25.0, 10.0, 25.0, 40.0])
    """
    if not len(data):
        raise SchemaError("rake() got no unit to weight. Pass at least one row in `data`.")
    missing = [c for c in targets if c not in data.columns]
    if missing:
        raise SchemaError(
            f"Margin column(s) {missing} are absent from the data (columns: {list(data.columns)}). "
            "Name each margin in `targets` after a column of `data`."
        )
    base = (
        np.ones(len(data)) if base_weights is None else np.asarray(base_weights, dtype=float).copy()
    )
    if base.shape != (len(data),) or not np.all(np.isfinite(base)) or (base <= 0).any():
        raise ValueError(
            "base_weights must be finite, positive and one per row of `data`. "
            "Pass None to start from equal weights."
        )
    codes, tgt, dropped = [], [], []
    for col, spec in targets.items():
        spec = pd.Series(dict(spec), dtype=float)
        values = data[col]
        if values.isna().any():
            raise SchemaError(
                f"{int(values.isna().sum())} unit(s) have no value in margin column {col!r}. "
                "Drop them or give them a category before raking."
            )
        unknown = sorted(set(values.astype(str)) - set(spec.index.astype(str)))
        if unknown:
            raise SchemaError(
                f"Margin {col!r}: categories {unknown[:5]} of the data have no target. "
                "Add their known totals to `targets` or drop those units."
            )
        present = set(values.astype(str))
        spec.index = spec.index.astype(str)
        for cat, total in spec.items():
            if cat not in present and total > 0:
                dropped.append((col, cat, float(total)))
        spec = spec[spec.index.isin(present)]
        codes.append(pd.Categorical(values.astype(str), categories=list(spec.index)).codes)
        tgt.append(spec.to_numpy())
    totals = [t.sum() for t in tgt]
    if max(totals) - min(totals) > tol * max(totals):
        detail = ", ".join(f"{c}: {t:,.0f}" for c, t in zip(targets, totals, strict=True))
        raise SchemaError(
            f"Raking needs margins with the same grand total, got {detail} "
            f"(after dropping categories without respondents: {dropped[:5]}). "
            "Compute every margin on the same reference units, leaving out the units of "
            "categories nobody answered in (calibration_weights() does this)."
        )
    total = float(totals[0])
    w = base * total / base.sum()
    lo = hi = None
    if bounds is not None:
        if not 0 < float(bounds[0]) <= 1 <= float(bounds[1]):
            raise ValueError(
                f"bounds={bounds!r} must satisfy 0 < low ≤ 1 ≤ high (they bound w / d, whose "
                "mean is 1), e.g. (0.3, 3.0)."
            )
        lo, hi = float(bounds[0]) * w, float(bounds[1]) * w  # bounds of w / d
    error, it = np.inf, 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported)
        for c, t in zip(codes, tgt, strict=True):
            current = np.bincount(c, weights=w, minlength=len(t))
            w = w * (t / current)[c]
        if lo is not None:
            w = np.clip(w, lo, hi)
        error = max(
            float(np.max(np.abs(np.bincount(c, weights=w, minlength=len(t)) - t) / t))
            for c, t in zip(codes, tgt, strict=True)
        )
        if error < tol:
            break
    trimmed = 0 if lo is None else int(np.sum(np.isclose(w, lo) | np.isclose(w, hi)))
    return RakingResult(
        weights=pd.Series(w, index=data.index, name="weight"),
        converged=bool(error < tol),
        iterations=it,
        max_margin_error=float(error),
        trimmed=trimmed,
        dropped=tuple(dropped),
    )


# ----------------------------------------------------------------- calibration


@dataclass(frozen=True, repr=False)
class CalibrationWeights:
    """Calibration weights of a set of responses, with one report row per raking.

    Attributes
    ----------
    weights : pandas.Series
        One weight per response, indexed like ``responses.data``. Weights of a
        kind of collectivity sum to the number of such collectivities in the
        reference (expansion weights), within each wave.
    report : pandas.DataFrame
        One row per wave × weighting group (``commune``, ``epci``,
        ``departement``, ``region``, ``other``): method, margins, the
        :meth:`RakingResult.summary` figures, and what could not be represented.
    strata : tuple of int
        Population class bounds used for the stratum margin.
    """

    weights: pd.Series
    report: pd.DataFrame
    strata: tuple[int, ...]

    @property
    def converged(self) -> bool:
        """Whether every raking converged (True when there was nothing to weight)."""
        return "converged" not in self.report or bool(self.report["converged"].all())

    @property
    def fallbacks(self) -> int:
        """Number of rakings that met one margin only (both were infeasible)."""
        if "margins" not in self.report:
            return 0
        return int(self.report["margins"].str.contains("fallback").sum())

    def __repr__(self) -> str:
        r = self.report
        return (
            f"<CalibrationWeights: {len(self.weights):,} responses, {len(r)} rakings, "
            f"{'all converged' if self.converged else 'NOT all converged'}, "
            f"{self.fallbacks} on one margin only, "
            f"design effect {r['deff'].min():.2f}–{r['deff'].max():.2f}>"
        )


def _reference_units(territories) -> dict[str, pd.DataFrame]:
    """Existing collectivities per weighting group, with their margin variables."""
    c = territories.communes
    e = territories.epci
    ids = territories.identifiers
    csp = ids[ids["kind"] == "siren_collectivite_a_statut_particulier"]["code"].astype(str)
    lv = csp.str.split(":", n=1)

    def level_count(kind: str, level: str) -> int:
        return int((ids["kind"] == kind).sum() + (lv.str[0] == level).sum())

    return {
        "commune": pd.DataFrame(
            {"region": c["region"].astype(str).to_numpy(), "population": c["population"]}
        ),
        "epci": pd.DataFrame(
            {
                "region": e["region"].astype(str).to_numpy(),
                "nature": e["nature"].map(_NATURE_CLASS).astype(str).to_numpy(),
            }
        ),
        "departement": pd.DataFrame(
            {"total": ["all"] * level_count("siren_departement", "departement")}
        ),
        "region": pd.DataFrame({"total": ["all"] * level_count("siren_region", "region")}),
    }


def _weighting_group(data: pd.DataFrame) -> pd.Series:
    kind = data["kind"].astype("str")
    level = data["level"].astype("str") if "level" in data else pd.Series("", index=data.index)
    group = kind.where(kind.isin(["commune", "epci", "departement", "region"]), "other")
    csp = kind == "collectivite_a_statut_particulier"
    group = group.where(~csp | ~level.isin(["commune", "epci", "departement", "region"]), level)
    return group


def calibration_weights(
    responses,
    territories=None,
    *,
    strata: Sequence[int] | None = None,
    bounds: tuple[float, float] | None = (0.1, 10.0),
    tol: float = 1e-6,
    max_iter: int = 1000,
) -> CalibrationWeights:
    """Rake each wave's respondents to the territorial reference.

    Weighting groups, each raked separately within each wave:

    * communes: margins population stratum and région, targets = number of
      communes of the reference; base weights post-stratified on the stratum
      (``N_s / n_s``), so that ``bounds`` limit the région adjustment;
    * EPCI: margins legal nature (CC, or CA/CU/métropole — the last two are
      too few apart) and région of the seat, targets = number of EPCI; base
      weights post-stratified on the nature;
    * départements and régions (conseils, and the collectivités à statut
      particulier exercising their powers): one weight ``N / n`` each;
    * syndicats and unplaced responses: weight 1 (no reference count exists).

    Categories nobody answered in (a région without any responding commune in
    a wave) cannot be represented: their collectivities are left out of the
    targets and reported (``uncovered`` column), never silently spread.

    Parameters
    ----------
    responses : Responses
        Object with a ``data`` table following the Responses contract.
    territories : Territories, optional
        Reference (default: the embedded COG 2025).
    strata : sequence of int, optional
        Upper bounds of the population classes (default
        ``(500, 1000, 3500, 10000, 50000)``).
    bounds : (float, float) or None, default (0.1, 10)
        Bounds of the calibration factor ``g = w / d`` over the post-stratified
        base weight ``d``: the région margin may divide a weight by 10 or
        multiply it by 10 at most. Tighter bounds, e.g. (0.3, 3), lower the
        variance but may be infeasible: with the Baromètre's skew (overseas
        communes over-represented, g ≈ 0.15) the margins cannot then be met,
        which the report and a warning say.
    tol, max_iter
        Passed to :func:`rake`.

    Returns
    -------
    CalibrationWeights

    Notes
    -----
    When both margins of a group cannot be met within ``bounds`` (too few
    respondents for their pattern, e.g. 45 EPCI in wave 3), the group is
    raked on the région alone, else post-stratified on its first margin; the
    report's ``margins`` says so ("fallback") and :attr:`CalibrationWeights.fallbacks`
    counts them. Nothing is spread silently.
    """
    if territories is None:
        from ..territories.load import load_territories

        territories = load_territories()
    bounds_ = parse_strata(strata)
    data = responses.data
    for col in ("kind", "region"):
        if col not in data.columns:
            raise SchemaError(
                f"responses.data has no {col!r} column, needed for weighting. "
                "Read the responses with barometre_geo.read_responses()."
            )
    ref = _reference_units(territories)
    ref["commune"]["stratum"] = assign_strata(ref["commune"]["population"], bounds_).astype(str)
    pop = territories.communes.set_index("code")["population"]
    nature = territories.epci.set_index("code")["nature"]
    group = _weighting_group(data)
    waves = data["wave"] if "wave" in data.columns else pd.Series(0, index=data.index)
    weights = pd.Series(1.0, index=data.index, name="weight")
    rows = []
    for (wave, grp), idx in data.groupby([waves, group], sort=True).groups.items():
        sub = data.loc[idx]
        row = {"wave": wave, "group": grp, "responses": len(sub), "uncovered": 0}
        if grp == "other":
            row.update(method="weight 1 (no reference count)", margins="")
            result = RakingResult(pd.Series(1.0, index=idx), True, 0, 0.0)
        elif grp in ("departement", "region"):
            units = ref[grp]
            row.update(method="N / n", margins="total")
            frame = pd.DataFrame({"total": ["all"] * len(sub)}, index=idx)
            result = rake(frame, {"total": {"all": len(units)}}, bounds=None, tol=tol)
        else:
            if grp == "commune":
                frame = pd.DataFrame(
                    {
                        "region": sub["region"].astype("str"),
                        "stratum": assign_strata(
                            sub["commune"].map(pop).astype("Float64"), bounds_
                        ).astype(str),
                    },
                    index=idx,
                )
                margins = ["stratum", "region"]
            else:
                frame = pd.DataFrame(
                    {
                        "region": sub["region"].astype("str"),
                        "nature": sub["epci"].map(nature).map(_NATURE_CLASS).astype("str"),
                    },
                    index=idx,
                )
                margins = ["nature", "region"]
            placed = frame.notna().all(axis=1) & ~frame.isin(["nan", "<NA>"]).any(axis=1)
            units = ref[grp]
            covered = np.ones(len(units), dtype=bool)
            for m in margins:
                covered &= units[m].isin(set(frame.loc[placed, m])).to_numpy()
            units = units[covered]
            targets = {m: units[m].value_counts().to_dict() for m in margins}
            row.update(method="raking", margins=" × ".join(margins))
            row["uncovered"] = int((~covered).sum())
            row["unplaced"] = int((~placed).sum())
            if placed.any():
                # base weights: post-stratification on the first margin (N_s / n_s);
                # the bounds then limit what the région margin changes. When both
                # margins cannot be met (too few respondents for their cross-pattern),
                # fall back to one margin, and say so in the report.
                first = frame.loc[placed, margins[0]]
                base = first.map(pd.Series(targets[margins[0]]) / first.value_counts())
                for used in (margins, margins[1:], margins[:1]):
                    result = rake(
                        frame.loc[placed, used],
                        {m: targets[m] for m in used},
                        base_weights=base.to_numpy(dtype=float),
                        bounds=bounds,
                        tol=tol,
                        max_iter=max_iter,
                    )
                    if result.converged:
                        break
                if used != margins:
                    row.update(
                        method="raking" if len(used) > 1 else "post-stratification",
                        margins=" × ".join(used) + f" (fallback: {' × '.join(margins)} "
                        "cannot be met)",
                    )
                extra = pd.Series(result.weights.mean(), index=frame.index[~placed])
                result = RakingResult(
                    pd.concat([result.weights, extra]).loc[idx],
                    result.converged,
                    result.iterations,
                    result.max_margin_error,
                    result.trimmed,
                    result.dropped,
                )
            else:
                result = RakingResult(pd.Series(1.0, index=idx), False, 0, float("nan"))
        weights.loc[idx] = result.weights.to_numpy()
        row.update(result.summary())
        rows.append(row)
    report = pd.DataFrame(rows)
    if "unplaced" not in report:
        report["unplaced"] = 0
    report["unplaced"] = report["unplaced"].fillna(0).astype(int)
    return CalibrationWeights(weights=weights, report=report, strata=bounds_)
