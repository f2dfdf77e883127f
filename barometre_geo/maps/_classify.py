"""Classification of map values into colour classes, through mapclassify.

:func:`classify` returns a frozen :class:`Classification` (upper bounds,
French labels, counts) that the HTML maps, the static maps and the
GeoPackage exports share. :func:`classify_pooled` gives several columns
(waves, editions) the same breaks so their maps compare.

Default for shares (values in 0–1): fixed breaks at 0, 20, 40, 60, 80 and
100 % (``k`` equal steps of the whole 0–100 % range). They read at a glance,
do not move when a late response arrives, are the same for every indicator,
level, wave and edition (no pooling needed to compare maps), and they do not
invent structure in commune-level shares, which are mostly 0 or 100 % (one
respondent per commune), where data-driven breaks (Fisher–Jenks, quantiles)
degenerate. Analysts can ask for any scheme. Default for other values
(means): Fisher–Jenks, the optimal breaks for the distribution at hand.

Any input gives a valid classification. With data-driven schemes, values with
no more distinct values than ``k`` (a mean over two EPCI, a constant column)
get one class per distinct value, labelled by the value itself ("12,5 %"),
with a :class:`ClassificationWarning` when fewer than ``k`` are made; no finite
value at all gives a classification without class (``k == 0``). Palettes
accept every ``k`` from 1 (:meth:`~._palettes.Palette.for_k`).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

import numpy as np

from .._format import NumberFormat
from ..errors import BarometreGeoWarning, SchemaError, UnknownValueError

__all__ = [
    "SCHEMES",
    "Classification",
    "ClassificationWarning",
    "Scheme",
    "classify",
    "classify_pooled",
    "share_breaks",
]

Scheme = Literal["quantiles", "equal_interval", "fisher_jenks", "natural_breaks", "user_defined"]
#: Classification schemes accepted by :func:`classify`.
SCHEMES: tuple[str, ...] = get_args(Scheme)

_MAPCLASSIFY = {
    "quantiles": "Quantiles",
    "equal_interval": "EqualInterval",
    "fisher_jenks": "FisherJenks",
    "natural_breaks": "NaturalBreaks",
}
# Exact Fisher-Jenks is O(k n²): mapclassify's pure-Python version (without numba)
# takes ~1 s for 1,000 values. Above this many values it runs on evenly spaced
# quantiles of the data (deterministic, min and max included).
_FJ_MAX = 500


_SHARE = NumberFormat()


class ClassificationWarning(BarometreGeoWarning):
    """The data allowed fewer classes than asked (too few distinct values, or none)."""


@dataclass(frozen=True)
class Classification:
    """Classes of a map: right-closed intervals ``(lower, bins[0]]``, ``(bins[0], bins[1]]``….

    Attributes
    ----------
    scheme : str
        One of :data:`SCHEMES`.
    bins : tuple of float
        Upper bound of each class (the first class also includes ``lower``).
    lower : float
        Lower bound of the first class.
    labels : tuple of str
        French label of each class ("de 0 % à 20 %", "plus de 20 % à 40 %"…).
    counts : tuple of int
        Number of values in each class.
    fmt : NumberFormat
        How values and bounds are printed.
    pooled : bool
        The breaks were computed on several columns (:func:`classify_pooled`).
    exact : bool
        One class per distinct value (the data had no more distinct values
        than classes asked): ``bins`` are those values, ``labels`` print them,
        and :meth:`assign` refuses any other value.
    rounded : bool
        The scheme's breaks were rounded to readable bounds (:mod:`._breaks`).
    levels : tuple of str
        Levels whose values the breaks were computed on (pooled across levels:
        the same colour means the same value on each of their maps).
    """

    scheme: str
    bins: tuple[float, ...]
    lower: float
    labels: tuple[str, ...]
    counts: tuple[int, ...]
    fmt: NumberFormat = _SHARE
    pooled: bool = False
    exact: bool = False
    rounded: bool = False
    levels: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        """Number of classes."""
        return len(self.bins)

    def assign(self, values) -> np.ndarray:
        """Return the class index of each value (``-1`` for missing values).

        Raises
        ------
        SchemaError
            A value lies outside ``[lower, bins[-1]]``; for an ``exact``
            classification, a value that is not one of its values; any finite
            value for a classification without class.

        Examples
        --------
        >>> c = classify([0.1, 0.5, 0.9])
        >>> c.assign([0.0, 0.2, 0.21, float("nan"), 1.0]).tolist()
        [0, 0, 1, -1, 4]
        """
        y = np.asarray(values, dtype="float64")
        finite = np.isfinite(y)
        if self.k == 0:
            if finite.any():
                raise SchemaError(
                    f"{int(finite.sum())} value(s) to place in a classification without "
                    "class (it was computed on no finite value). Classify these values: "
                    "classify(values)."
                )
            return np.full(y.shape, -1, dtype="int16")
        tol = 1e-9 * max(1.0, abs(self.bins[-1]), abs(self.lower))
        bad = finite & ((y < self.lower - tol) | (y > self.bins[-1] + tol))
        if bad.any():
            first = y[bad][0]
            raise SchemaError(
                f"{int(bad.sum())} value(s) lie outside the classification's range "
                f"[{self.lower}, {self.bins[-1]}] (first: {first}). Classify these values "
                "together with the others (classify_pooled) or pass wider bins "
                "(scheme='user_defined', bins=[...])."
            )
        if self.exact:
            bins = np.asarray(self.bins)
            near = np.abs(y[finite, None] - bins[None, :]).min(axis=1) <= tol
            if not near.all():
                first = y[finite][~near][0]
                raise SchemaError(
                    f"{int((~near).sum())} value(s) are not among the values this "
                    f"classification was made of ({', '.join(self.labels)}; first: {first}). "
                    "Classify these values together with the others (classify_pooled)."
                )
        out = np.full(y.shape, -1, dtype="int16")
        edges = np.asarray(self.bins[:-1])
        out[finite] = np.searchsorted(edges + tol, y[finite], side="left")
        return out

    def with_counts(self, values) -> Classification:
        """Return a copy whose counts are those of ``values``."""
        idx = self.assign(values)
        counts = tuple(int((idx == i).sum()) for i in range(self.k))
        return replace(self, counts=counts)

    def to_dict(self) -> dict:
        """Plain-data form (JSON-ready; ``lower`` is ``None`` without class)."""
        return {
            "scheme": self.scheme,
            "k": self.k,
            "bins": list(self.bins),
            "lower": self.lower if self.k else None,
            "labels": list(self.labels),
            "counts": list(self.counts),
            "pooled": self.pooled,
            "exact": self.exact,
            "rounded": self.rounded,
            "levels": list(self.levels),
        }


def share_breaks(k: int = 5) -> tuple[float, ...]:
    """Return fixed upper bounds splitting 0–100 % into ``k`` equal classes.

    Examples
    --------
    >>> share_breaks(5)
    (0.2, 0.4, 0.6, 0.8, 1.0)
    """
    if not 2 <= int(k) <= 9:
        raise UnknownValueError(f"k must be between 2 and 9 for shares, got {k}. Pass k=2…9.")
    return tuple(round(i / k, 10) for i in range(1, k + 1))


def _parse_scheme(scheme: str) -> str:
    value = str(scheme).strip().lower().replace("-", "_").replace(" ", "_")
    if value not in SCHEMES:
        raise UnknownValueError(
            f"Unknown classification scheme {scheme!r}. Valid schemes: {', '.join(SCHEMES)}."
        )
    return value


def _finite(values, what: str = "values") -> np.ndarray:
    try:
        y = np.asarray(values, dtype="float64").ravel()
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            f"Cannot classify non-numeric {what} ({exc}). Pass numbers (shares in 0–1 or means)."
        ) from None
    return y[np.isfinite(y)]


def _user_bins(y: np.ndarray, bins) -> tuple[np.ndarray, float]:
    """Upper bounds and lower bound of ``scheme='user_defined'``."""
    if bins is None or len(bins) < 1:
        raise SchemaError(
            "scheme='user_defined' needs bins: pass bins=[upper bound of each class], "
            "e.g. bins=[0.2, 0.4, 0.6, 0.8, 1.0]."
        )
    b = np.asarray(bins, dtype="float64")
    if not np.all(np.diff(b) > 0):
        raise SchemaError(f"bins must increase strictly, got {list(bins)}. Sort them.")
    lower = float(min(0.0, y.min()) if y.size else 0.0)
    if y.size and y.max() > b[-1]:
        raise SchemaError(
            f"The largest value ({y.max()}) is above the last bin ({b[-1]}). "
            "Add an upper bound at least as large as the maximum to bins."
        )
    return b, lower


def _breaks(y: np.ndarray, scheme: str, k: int) -> np.ndarray:
    """Upper bounds of a data-driven scheme for ``y`` (more than ``k`` distinct values)."""
    import mapclassify

    sample = y
    if scheme == "fisher_jenks" and y.size > _FJ_MAX:
        sample = np.quantile(y, np.linspace(0.0, 1.0, _FJ_MAX))
    cls = getattr(mapclassify, _MAPCLASSIFY[scheme])
    with warnings.catch_warnings():
        # mapclassify warns that numba is missing (we bound the sample size
        # instead) and when ties reduce k (we deduplicate the bins below).
        warnings.simplefilter("ignore", UserWarning)
        if scheme == "natural_breaks":  # k-means: seed it for reproducible maps
            # mapclassify draws from numpy's global generator: seed it, then restore it
            state = np.random.get_state()  # noqa: NPY002
            np.random.seed(0)  # noqa: NPY002
            try:
                b = cls(sample, k=k).bins
            finally:
                np.random.set_state(state)  # noqa: NPY002
        elif k == 1:
            b = np.array([y.max()])
        else:
            b = cls(sample, k=k).bins
    b = np.unique(np.asarray(b, dtype="float64"))
    b[-1] = max(b[-1], y.max())
    return b


def _texts(bounds: list[float], fmt: NumberFormat) -> list[str]:
    """Print ``bounds`` with as many more decimals (up to 3) as needed to tell them apart."""
    for extra in range(0, 4):
        f = replace(fmt, decimals=fmt.decimals + extra)
        text = [f.format(b) for b in bounds]
        if len(set(text)) == len(text):
            break
    return text


def _labels(bins: np.ndarray, lower: float, fmt: NumberFormat, exact: bool) -> tuple[str, ...]:
    if not len(bins):
        return ()
    if exact:  # one class per value: the value is the label
        return tuple(_texts(bins.tolist(), fmt))
    if lower == bins[0]:  # the first class holds one value (ties at the minimum)
        text = _texts(bins.tolist(), fmt)
        first = [text[0]]
    else:
        text = _texts([lower, *bins.tolist()], fmt)
        first, text = [f"de {text[0]} à {text[1]}"], text[1:]
    return tuple(first + [f"plus de {a} à {b}" for a, b in itertools.pairwise(text)])


def _parse_k(k) -> int:
    try:
        value = int(k)
    except (TypeError, ValueError):
        value = 0
    if value < 1 or value != k:
        raise UnknownValueError(f"k must be a whole number of classes ≥ 1, got {k!r}. Pass k=5.")
    return value


def classify(
    values,
    *,
    scheme: Scheme | None = None,
    k: int = 5,
    bins: Sequence[float] | None = None,
    fmt: NumberFormat | None = None,
) -> Classification:
    """Classify values into ``k`` classes with a mapclassify scheme.

    Parameters
    ----------
    values : array-like of float
        Values of the territories shown (``NaN`` = no value, ignored).
    scheme : {"quantiles", "equal_interval", "fisher_jenks", "natural_breaks", \
"user_defined"}, optional
        Default: fixed breaks 0–20–40–60–80–100 % for shares (``fmt.share``;
        ``k`` equal steps), Fisher–Jenks otherwise. ``natural_breaks``
        (k-means) is seeded, so the same data give the same breaks.
    k : int, default 5
        Number of classes (ignored for ``user_defined``: ``len(bins)``).
    bins : sequence of float, optional
        Upper bounds of the classes for ``user_defined``.
    fmt : NumberFormat, optional
        How bounds are printed; default: shares in percent, 1 decimal.

    Returns
    -------
    Classification

    Raises
    ------
    UnknownValueError
        Unknown scheme (the message lists the valid ones), ``k`` below 1.
    SchemaError
        Non-numeric values, missing or unsorted bins.

    Warns
    -----
    ClassificationWarning
        Fewer classes made than asked: fewer distinct values than ``k`` (one
        class per value), or no finite value (no class).

    Examples
    --------
    >>> c = classify([0.05, 0.31, 0.47, 0.52, 0.98])
    >>> c.scheme, c.counts
    ('user_defined', (1, 1, 2, 0, 1))
    >>> c.labels[1]
    'plus de 20\u202f% à 40\u202f%'
    >>> classify([1.0, 2.0, 2.5, 3.0, 4.5, 5.0], scheme="quantiles", k=3,
    ...          fmt=NumberFormat(share=False, decimals=1, unit="")).labels
    ('de 1 à 2,3', 'plus de 2,3 à 3,5', 'plus de 3,5 à 5')

    Two distinct values, three classes asked: one class per value.

    >>> c = classify([12.5, 50.0, 50.0], k=2, fmt=NumberFormat(share=False, unit="%"))
    >>> c.labels, c.counts, c.exact
    (('12,5 %', '50 %'), (1, 2), True)
    """
    fmt = fmt or NumberFormat.for_share()
    y = _finite(values)
    k = _parse_k(k)
    if scheme is None:
        scheme, bins = ("user_defined", share_breaks(k)) if fmt.share else ("fisher_jenks", None)
    scheme = _parse_scheme(scheme)
    exact = False
    if scheme == "user_defined":
        b, lower = _user_bins(y, bins)
        if fmt.share:
            lower = min(lower, 0.0)
    else:
        distinct = np.unique(y)
        if not distinct.size:
            warnings.warn(
                "No finite value to classify: the classification has no class. Check that "
                "the values are numbers (NaN means no value).",
                ClassificationWarning,
                stacklevel=2,
            )
        elif distinct.size < k:
            warnings.warn(
                f"Only {distinct.size} distinct value(s): {k} classes asked, {distinct.size} "
                "made (one per value). Pass a smaller k or scheme='user_defined' with fixed bins.",
                ClassificationWarning,
                stacklevel=2,
            )
        if distinct.size <= k:
            b, exact = distinct, bool(distinct.size)
            lower = float(distinct[0]) if distinct.size else float("nan")
        else:
            b, lower = _breaks(y, scheme, k), float(y.min())
    bins_t = tuple(float(v) for v in b)
    out = Classification(scheme, bins_t, lower, _labels(b, lower, fmt, exact), (), fmt, exact=exact)
    return out.with_counts(y)


def classify_pooled(
    columns: Sequence,
    *,
    scheme: Scheme | None = None,
    k: int = 5,
    bins: Sequence[float] | None = None,
    fmt: NumberFormat | None = None,
) -> tuple[Classification, ...]:
    """Classify several columns (waves, editions) with common breaks.

    The breaks come from the pooled values of every column, as in
    mapclassify's ``Pooled`` (global classifier, then ``UserDefined`` per
    column), extended to columns of different lengths and with missing values
    (editions with different territories, unpublished cells).

    Returns
    -------
    tuple of Classification
        One per column, same bins and labels, own counts, ``pooled=True``.

    Examples
    --------
    >>> a, b = classify_pooled([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0, 6.0]], scheme="quantiles",
    ...                        k=2, fmt=NumberFormat(share=False, unit=""))
    >>> a.bins == b.bins, a.counts, b.counts
    (True, (3, 0), (1, 3))
    """
    cols = [np.asarray(c, dtype="float64").ravel() for c in columns]
    if not cols:
        raise SchemaError("classify_pooled needs at least one column of values; got none.")
    pooled = classify(np.concatenate(cols), scheme=scheme, k=k, bins=bins, fmt=fmt)
    return tuple(replace(pooled, pooled=True).with_counts(c) for c in cols)
