"""French number formatting for legends, tooltips and tables.

French typography: decimal comma, thousands grouped with a narrow no-break
space (U+202F, the "espace fine insécable" that browsers' ``fr-FR`` locale
uses too), the unit after a narrow no-break space ("8,2 %"), a true minus sign.
Trailing zero decimals are dropped ("20 %", not "20,0 %") so legend bounds
read naturally.

The same rule runs in the page's JavaScript: Python ships values already
rounded to integers (:meth:`NumberFormat.to_int`), and the script only places
the decimal comma and the spaces, so both sides print identical strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["NNBSP", "NumberFormat", "format_count", "format_number"]

#: Narrow no-break space, the French thousands separator and unit spacer.
NNBSP = "\u202f"
_MINUS = "\u2212"


def _group(digits: str) -> str:
    out = []
    while len(digits) > 3:
        out.append(digits[-3:])
        digits = digits[:-3]
    out.append(digits)
    return NNBSP.join(reversed(out))


@lru_cache(maxsize=8192)
def _from_int(i: int, decimals: int) -> str:
    """Format the integer ``i`` meaning ``i / 10**decimals`` (trailing zeros dropped).

    Cached: maps and pages print hundreds of thousands of values, mostly the same
    few thousand rounded ones.
    """
    neg = i < 0
    s = str(abs(int(i))).rjust(decimals + 1, "0")
    whole, frac = (s[:-decimals], s[-decimals:]) if decimals else (s, "")
    frac = frac.rstrip("0")
    text = _group(whole) + ("," + frac if frac else "")
    return (_MINUS if neg and text.strip("0,") else "") + text


def format_number(value: float, decimals: int = 1) -> str:
    """Format a number the French way, dropping trailing zero decimals.

    Examples
    --------
    >>> format_number(1234.56)
    '1\u202f234,6'
    >>> format_number(20.0), format_number(-3.25, 2)
    ('20', '−3,25')
    """
    return _from_int(round(float(value) * 10**decimals), decimals)


def format_count(value: int) -> str:
    """Format an integer count with French digit grouping.

    Examples
    --------
    >>> format_count(34875)
    '34\u202f875'
    """
    return _group(str(int(value))) if value >= 0 else _MINUS + _group(str(-int(value)))


@dataclass(frozen=True)
class NumberFormat:
    """How the values of a map are printed.

    Attributes
    ----------
    share : bool
        Values are shares in 0–1, printed as percentages (× 100).
    decimals : int
        Decimals kept (trailing zeros are dropped).
    unit : str
        Unit printed after the number: ``"%"`` for shares, ``"pt"`` for gaps
        in percentage points, or any label (``"jours"``); empty for none.

    Examples
    --------
    >>> NumberFormat.for_share().format(0.082)
    '8,2\u202f%'
    >>> NumberFormat(share=False, decimals=2, unit="").format(2.5)
    '2,5'
    """

    share: bool = True
    decimals: int = 1
    unit: str = "%"

    @classmethod
    def for_share(cls, decimals: int = 1) -> NumberFormat:
        """Percentages of shares in 0–1."""
        return cls(share=True, decimals=decimals, unit="%")

    @property
    def scale(self) -> int:
        """Factor turning a value into the integer shipped to the page."""
        return (100 if self.share else 1) * 10**self.decimals

    def to_int(self, values) -> np.ndarray:
        """Round values to the integers shipped to the page.

        Returns a float array of whole numbers; ``NaN`` stays ``NaN`` (shipped
        as JSON ``null``).
        """
        arr = np.asarray(values, dtype="float64") * self.scale
        return np.round(arr)

    def format(self, value: float) -> str:
        """Format one value (``NaN`` gives an empty string)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        # round(float * scale): the same float64 product and half-to-even rounding as
        # to_int's np.round, without building an array per value (~10 times faster)
        text = _from_int(round(float(value) * self.scale), self.decimals)
        return f"{text}{NNBSP}{self.unit}" if self.unit else text

    def to_js(self) -> dict:
        """Describe the format for the page's script (``dec``, ``unit``)."""
        return {"dec": self.decimals, "unit": self.unit}
