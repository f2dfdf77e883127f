"""Tables written for spreadsheets: every text cell neutralised against formula injection.

A CSV or XLSX file opened in Excel or LibreOffice runs a cell starting with
``=``, ``+``, ``-`` or ``@`` as a formula (``=HYPERLINK("http://…")``,
``=cmd|' /C calc'!A0``), and a leading tab or carriage return can hide
one (OWASP, "CSV Injection"). Text coming from an input file (a structure's
name, a member typed by hand, a free-text answer) must never reach a
spreadsheet that way. :func:`write_csv` is the one CSV writer of the package's
outputs (tables, reports, prospect lists); XLSX writers (:mod:`barometre_geo._xlsx`)
get their table from :func:`safe_table` or pass their text cells through
:func:`neutralise`. The map pages apply the same rule to the tables they let
users download (``templates/bgeo.js``, ``csvCell``).

Numbers stay numbers: only text cells are changed, by a leading apostrophe
``'``, which spreadsheets show as a text marker and which keeps the cell's
content readable. The synthetic demo exports (``demo/``) are not outputs but
imitations of third-party survey platforms' files, written as those write them.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FORMULA_STARTS", "neutralise", "safe_table", "write_csv"]

#: First characters that make a spreadsheet read a cell as a formula (or hide one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    r"""Return ``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula.

    Examples
    --------
    >>> neutralise('=HYPERLINK("http://x")'), neutralise("+33 5 59"), neutralise("Pau")
    ('\'=HYPERLINK("http://x")', "'+33 5 59", 'Pau')
    >>> neutralise(-5), neutralise(None)
    (-5, None)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_table(frame):
    """Return a copy of a DataFrame whose text cells and headers are neutralised.

    Vectorised per column (only the risky cells are rewritten): the prospect
    lists of every structure go through it.

    Examples
    --------
    >>> import pandas as pd
    >>> safe_table(pd.DataFrame({"nom": ["@cmd", "Ain"], "n": [-2, 3]})).to_dict("list")
    {'nom': ["'@cmd", 'Ain'], 'n': [-2, 3]}
    """
    import numpy as np
    import pandas as pd

    out = frame.copy()
    first = set(FORMULA_STARTS)  # one character each
    for col in out.columns:
        dtype = out[col].dtype
        if not (dtype is object or dtype == "object" or isinstance(dtype, pd.StringDtype)):
            continue
        values = out[col].to_numpy(dtype=object)
        risky = np.fromiter(
            (isinstance(v, str) and v[:1] in first for v in values), dtype=bool, count=len(values)
        )
        if risky.any():
            values = values.copy()
            values[risky] = ["'" + v for v in values[risky]]
            out[col] = pd.array(values, dtype=dtype)
    out.columns = [neutralise(c) if isinstance(c, str) else c for c in out.columns]
    return out


def write_csv(frame, path: str | os.PathLike, **options) -> Path:
    r"""Write a DataFrame as UTF-8 CSV (``\n`` line ends, no index), text cells neutralised.

    ``options`` go to :meth:`pandas.DataFrame.to_csv` (``sep``, ``float_format``…).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_csv(pd.DataFrame({"nom": ["=1+1", "Pau"], "n": [-1, 2]}), path)
    >>> path.read_text(encoding="utf-8")
    "nom,n\n'=1+1,-1\nPau,2\n"
    """
    path = Path(path)
    settings = {"index": False, "encoding": "utf-8", "lineterminator": "\n", **options}
    safe_table(frame).to_csv(path, **settings)
    return path
