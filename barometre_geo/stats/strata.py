"""Population strata (« strates de population ») with French labels.

The default classes are those of the Baromètre's comparison tool and of most
French local-government statistics: fewer than 500 inhabitants, 500–999,
1,000–3,499, 3,500–9,999, 10,000–49,999 and 50,000 or more. Thousands are
separated by a narrow no-break space (U+202F), as French typography wants.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import UnknownValueError

__all__ = ["DEFAULT_STRATA", "assign_strata", "parse_strata", "stratum_labels"]

#: Upper bounds (exclusive) of the default population classes.
DEFAULT_STRATA: tuple[int, ...] = (500, 1000, 3500, 10000, 50000)

_NNBSP = "\u202f"


def _fmt(value: int) -> str:
    return f"{value:,}".replace(",", _NNBSP)


def parse_strata(strata: Sequence[int] | None) -> tuple[int, ...]:
    """Validate class bounds: strictly increasing positive integers.

    Examples
    --------
    >>> parse_strata(None)
    (500, 1000, 3500, 10000, 50000)
    >>> parse_strata([2000, 10000])
    (2000, 10000)
    """
    if strata is None:
        return DEFAULT_STRATA
    try:
        bounds = tuple(int(b) for b in strata)
    except (TypeError, ValueError):
        raise UnknownValueError(
            f"strata={strata!r} is not a sequence of integers. Pass the upper bounds of the "
            "population classes, e.g. strata=(500, 1000, 3500, 10000, 50000)."
        ) from None
    increasing = all(a < b for a, b in itertools.pairwise(bounds))
    if not bounds or any(b <= 0 for b in bounds) or not increasing:
        raise UnknownValueError(
            f"strata={strata!r} must be strictly increasing positive integers, e.g. "
            "strata=(500, 1000, 3500, 10000, 50000)."
        )
    return bounds


def stratum_labels(strata: Sequence[int] | None = None) -> list[str]:
    r"""French labels of the classes defined by ``strata`` (upper bounds).

    Examples
    --------
    >>> [s.replace("\u202f", " ") for s in stratum_labels([500, 3500])]
    ['Moins de 500 habitants', '500 à 3 499 habitants', '3 500 habitants et plus']
    """
    bounds = parse_strata(strata)
    labels = [f"Moins de {_fmt(bounds[0])} habitants"]
    labels += [f"{_fmt(a)} à {_fmt(b - 1)} habitants" for a, b in itertools.pairwise(bounds)]
    labels.append(f"{_fmt(bounds[-1])} habitants et plus")
    return labels


def assign_strata(population, strata: Sequence[int] | None = None) -> pd.Categorical:
    r"""Ordered categorical of the population class of each value (NA stays NA).

    Examples
    --------
    >>> c = assign_strata([120, 500, 75000, None])
    >>> [None if pd.isna(x) else x.replace("\u202f", " ") for x in c]
    ['Moins de 500 habitants', '500 à 999 habitants', '50 000 habitants et plus', None]
    """
    bounds = parse_strata(strata)
    labels = stratum_labels(bounds)
    pop = pd.to_numeric(pd.Series(population), errors="coerce").to_numpy(dtype=float)
    codes = np.searchsorted(np.asarray(bounds, dtype=float), pop, side="right")
    codes = np.where(np.isnan(pop), -1, codes)
    return pd.Categorical.from_codes(codes, categories=labels, ordered=True)
