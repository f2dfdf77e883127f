"""Default classes of an indicator's maps: natural breaks pooled across levels, rounded.

The maps of one indicator (one option of it) share one classification across
every level drawn — communes, EPCI, départements, régions — so that a colour
means the same value on each of them (:func:`indicator_classes`):

* **pooled**: the published values of every level, each level weighing the same
  (each value of a level weighs ``1 / n`` of it: 1,200 EPCI do not drown 18
  régions);
* **chosen by the data**: Fisher–Jenks natural breaks (the partition that
  minimises the weighted sum of squared deviations within classes,
  :func:`jenks_breaks`) into 5 classes, or one class per value when there are no
  more distinct values than that; fixed 20-point classes left most of the colours
  unused (27 of the 28 départements published for ``cyber_victime`` fell in the
  two lightest classes);
* **rounded**: each break moves to the nearest multiple of the largest readable
  step (10, 5, 2, 1, 0.5… points; 1-2-5 multiples for means) that keeps every
  class non-empty and moves no break by more than :data:`TOLERANCE` of the
  narrower class beside it; the first class starts at the step below the
  minimum and the last ends at the step above the maximum.

Only published values enter (suppressed cells are empty before this), so the
bounds reveal nothing a map does not already show.

:func:`jenks_breaks` is written here, vectorised with numpy, because
mapclassify's ``FisherJenks`` takes no weights and, without numba, runs the
dynamic programme in pure Python (about 0.3 s for 250 values: a build classifies
some 150 indicators and options); it solves the same problem exactly, on the
distinct values with their weights (the tests compare it with mapclassify).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from .._format import NumberFormat
from ._classify import Classification, _labels, classify
from ._data import overall_rows

__all__ = [
    "MAP_LEVELS",
    "MAX_DISTINCT",
    "TOLERANCE",
    "data_classes",
    "indicator_classes",
    "jenks_breaks",
    "resolve_classes",
    "round_breaks",
]

#: Levels whose maps share an indicator's classes, finest first.
MAP_LEVELS = ("commune", "epci", "departement", "region")
#: Above this many distinct values, the pool is summarised by as many weighted quantiles
#: (the exact programme needs a matrix of n² doubles).
MAX_DISTINCT = 400
#: A rounded break may move by at most this share of the narrower class beside it.
TOLERANCE = 0.3
_SHARE_STEPS = (0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001)


def _steps(span: float, share: bool) -> tuple[float, ...]:
    if share:
        return _SHARE_STEPS
    if not span > 0:
        return ()
    mag = 10.0 ** math.floor(math.log10(span))
    return tuple(m * mag for m in (1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001))


def round_breaks(
    bins: Sequence[float], values, *, share: bool
) -> tuple[tuple[float, ...], float, float] | None:
    """Round a scheme's upper bounds to a readable step (see the module docstring).

    Returns
    -------
    tuple or None
        ``(bins, lower, step)``, or ``None`` when no step keeps every class
        non-empty within the tolerance (the raw breaks are then kept).

    Examples
    --------
    >>> round_breaks([0.131, 0.224, 0.309, 0.452, 0.6],
    ...              [0.03, 0.12, 0.131, 0.2, 0.224, 0.3, 0.309, 0.4, 0.452, 0.55, 0.6],
    ...              share=True)
    ((0.15, 0.2, 0.3, 0.45, 0.6), 0.0, 0.05)
    """
    y = np.asarray(values, dtype="float64")
    y = y[np.isfinite(y)]
    raw = np.asarray(bins, dtype="float64")
    if not y.size or raw.size < 2:
        return None
    vmin, vmax = float(y.min()), float(y.max())
    edges = np.r_[vmin, raw]
    widths = np.diff(edges)
    for step in _steps(vmax - vmin, share):
        lo = math.floor(vmin / step + 1e-9) * step
        hi = math.ceil(vmax / step - 1e-9) * step
        if share:
            lo, hi = max(lo, 0.0), min(hi, 1.0)
        inner = np.round(raw[:-1] / step) * step
        cand = np.r_[lo, inner, hi]
        if not np.all(np.diff(cand) > 1e-12):
            continue
        moved = np.abs(inner - raw[:-1])
        room = np.minimum(widths[:-1], widths[1:]) * TOLERANCE
        if np.any(moved > room + 1e-12):
            continue
        tol = 1e-9 * max(1.0, abs(hi))
        idx = np.searchsorted(cand[1:-1] + tol, y, side="left")
        if np.bincount(idx, minlength=len(cand) - 1).min() == 0:
            continue
        out = tuple(float(round(v, 10)) for v in cand[1:])
        return out, float(round(lo, 10)), step
    return None


def jenks_breaks(values, k: int, weights=None) -> np.ndarray:
    """Fisher–Jenks natural breaks of weighted values: the upper bound of each of ``k`` classes.

    The partition of the sorted values into ``k`` runs that minimises the sum
    over classes of the weighted squared deviations from the class mean (Fisher
    1958, Jenks 1977), by dynamic programming over the distinct values, each
    step a numpy operation on an ``n × n`` matrix.

    Examples
    --------
    >>> jenks_breaks([1, 2, 3, 10, 11, 12, 30], 3).tolist()
    [3.0, 12.0, 30.0]

    A heavy value pulls the breaks towards it:

    >>> y = [1, 3, 5, 7, 9, 11]
    >>> jenks_breaks(y, 2).tolist(), jenks_breaks(y, 2, weights=[1, 1, 1, 1, 1, 40]).tolist()
    ([5.0, 11.0], [7.0, 11.0])
    """
    y = np.asarray(values, dtype="float64")
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype="float64")
    order = np.argsort(y, kind="stable")
    y, w = y[order], w[order]
    y, inverse = np.unique(y, return_inverse=True)
    w = np.bincount(inverse, weights=w)
    n = len(y)
    if k >= n:
        return y.copy()
    z = y - np.average(y, weights=w)  # centred: fewer cancellations in s2 - s1²/ww
    cw = np.r_[0.0, np.cumsum(w)]
    c1 = np.r_[0.0, np.cumsum(w * z)]
    c2 = np.r_[0.0, np.cumsum(w * z * z)]
    j = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    ww = cw[i + 1] - cw[j]
    s1 = c1[i + 1] - c1[j]
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = np.where(j <= i, (c2[i + 1] - c2[j]) - s1 * s1 / ww, np.inf)
    best = cost[0].copy()  # one class holding values 0..i
    starts = []
    cols = np.arange(n)
    for _ in range(1, k):
        cand = best[:-1, None] + cost[1:, :]  # last class starting at value j (1..n-1)
        arg = np.argmin(cand, axis=0)
        best = cand[arg, cols]
        starts.append(arg + 1)
    uppers, i_end = [y[-1]], n - 1
    for start in reversed(starts):
        first = int(start[i_end])
        uppers.append(y[first - 1])
        i_end = first - 1
    return np.asarray(sorted(uppers), dtype="float64")


def _pool(levels_values: Sequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All finite values; the pool's distinct values and weights (each level summing to 1)."""
    kept, weights = [], []
    for v in levels_values:
        v = np.asarray(v, dtype="float64").ravel()
        v = v[np.isfinite(v)]
        if v.size:
            kept.append(v)
            weights.append(np.full(v.size, 1.0 / v.size))
    if not kept:
        return np.array([]), np.array([]), np.array([])
    values, w = np.concatenate(kept), np.concatenate(weights)
    y, inverse = np.unique(values, return_inverse=True)
    w = np.bincount(inverse, weights=w)
    if len(y) > MAX_DISTINCT:  # weighted quantiles summarise the pool
        cum = (np.cumsum(w) - w / 2) / w.sum()
        probs = np.linspace(0, 1, MAX_DISTINCT)
        y = np.unique(np.interp(probs, cum, y))
        w = np.ones_like(y)
    return values, y, w


def data_classes(
    levels_values: Sequence,
    *,
    fmt: NumberFormat | None = None,
    k: int = 5,
    levels: Sequence[str] = (),
) -> Classification | None:
    r"""Classes pooled over several levels' values, rounded (see the module docstring).

    Parameters
    ----------
    levels_values : sequence of array-like
        The published values of each level (NaN = none).
    fmt : NumberFormat, optional
        Shares (0–1) by default; a mean's format otherwise.
    k : int, default 5
    levels : sequence of str
        Names of the levels, recorded in :attr:`Classification.levels`.

    Returns
    -------
    Classification or None
        ``None`` when no value is finite.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> departements, regions = rng.beta(2, 9, 100), rng.beta(2, 9, 13)
    >>> c = data_classes([departements, regions], levels=("departement", "region"))
    >>> c.bins
    (0.1, 0.15, 0.25, 0.35, 0.5)
    >>> c.labels[0], c.labels[-1]
    ('de 0\u202f% à 10\u202f%', 'plus de 35\u202f% à 50\u202f%')
    >>> c.rounded, c.pooled, c.levels
    (True, True, ('departement', 'region'))
    """
    fmt = fmt or NumberFormat.for_share()
    values, pool, weights = _pool(levels_values)
    if not values.size:
        return None
    distinct = np.unique(values)
    pooled = len([v for v in levels_values if np.isfinite(np.asarray(v, float)).any()]) > 1
    extra = {"pooled": pooled, "levels": tuple(levels)}
    if distinct.size <= k:
        cls = classify(values, scheme="fisher_jenks", k=int(distinct.size), fmt=fmt)
        return replace(cls, **extra)
    raw = jenks_breaks(pool, k, weights)
    raw[-1] = max(raw[-1], float(values.max()))
    rounded = round_breaks(raw, values, share=fmt.share)
    if rounded is None:
        bins, lower = tuple(float(b) for b in raw), float(values.min())
    else:
        bins, lower, _ = rounded
    labels = _labels(np.asarray(bins), lower, fmt, False)
    cls = Classification("fisher_jenks", bins, lower, labels, (), fmt, exact=False,
                         rounded=rounded is not None, **extra)  # fmt: skip
    return cls.with_counts(values)


def _published(rows: pd.DataFrame) -> np.ndarray:
    ok = ~rows["suppressed"].astype("boolean").fillna(False).astype(bool)
    return pd.to_numeric(rows.loc[ok, "value"], errors="coerce").to_numpy(dtype="float64")


def indicator_classes(
    aggregates: pd.DataFrame,
    indicator: str,
    *,
    option: str | None = None,
    fmt: NumberFormat | None = None,
    levels: Sequence[str] | None = None,
    k: int = 5,
) -> Classification | None:
    """Default classes of an indicator (one option of it), pooled over its levels.

    ``levels``: default every map level (:data:`MAP_LEVELS`) with rows in
    ``aggregates``. Overall rows only (no breakdown); published values only.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"indicator": "x", "level": ["region"] * 6 + ["departement"] * 6,
    ...     "code": [str(i) for i in range(12)], "value": [.1, .2, .3, .4, .5, .6] * 2,
    ...     "n": 20, "ci_low": 0., "ci_high": 1., "participation": .1, "suppressed": False})
    >>> c = indicator_classes(t, "x")
    >>> c.levels, c.k
    (('departement', 'region'), 5)
    """
    have = set(aggregates.loc[aggregates["indicator"] == indicator, "level"].astype(str))
    wanted = set(levels or MAP_LEVELS)
    levels = [lv for lv in MAP_LEVELS if lv in wanted and lv in have]
    per_level = []
    for lv in levels:
        rows = overall_rows(aggregates, indicator, lv, option, what="indicator_classes")
        per_level.append(_published(rows))
    used = tuple(lv for lv, v in zip(levels, per_level, strict=True) if np.isfinite(v).any())
    return data_classes(per_level, fmt=fmt, k=k, levels=used)


def resolve_classes(
    classification,
    aggregates: pd.DataFrame,
    indicator: str,
    *,
    option: str | None,
    fmt: NumberFormat,
) -> Classification | None:
    """Return the classification of one map: given, picked by option, or the default.

    ``classification`` may be a :class:`Classification` (used as is), a mapping
    ``{option or None: Classification}`` (the build's, one per option), or
    ``None`` (the default).
    """
    if isinstance(classification, Classification):
        return classification
    if isinstance(classification, Mapping) and classification.get(option) is not None:
        return classification[option]
    return indicator_classes(aggregates, indicator, option=option, fmt=fmt)
