"""The protected publication of an edition, and the figures attached to it.

Every output of an edition derives from one set of protection decisions
(:mod:`barometre_geo.protection.apply`, "One protected set per edition"):
the totals are decided first and never depend on the breakdowns asked for,
the built-in breakdowns are decided together, any other breakdown on top. So
``aggregate(level=…)`` for the maps, ``aggregate(by="stratum")`` for a table
and ``aggregate(by=["type_label", …])`` for the comparison fiche hide the
same cells wherever they overlap (:func:`published_key` names a cell across
them).

New figure columns — the model-based small-area estimates per EPCI,
département and région computed in :mod:`barometre_geo.stats`, or any figure
an analyst derives per cell — join that publication through
:func:`attach_figures`: a figure is kept only on a published row of the
protected table, so a modelled figure never shows a cell the direct figures
hide (it would reveal it: a model's estimate of a one-respondent cell is
close to that respondent's answer). Checks of their own (the small-area
estimates' "flip audit") come on top; they may hide more, never less.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import SchemaError

__all__ = ["PUBLISHED_KEY", "attach_figures", "published_key"]

#: Columns naming a row of a protected table (a cell, and its option row).
PUBLISHED_KEY: tuple[str, ...] = ("indicator", "level", "code", "by", "group", "option")


def published_key(frame: pd.DataFrame, on: Sequence[str] = PUBLISHED_KEY) -> pd.MultiIndex:
    """Return the key of each row (NA option, missing ``by``/``group``: the total row).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"indicator": ["cyber_pca"], "level": ["region"], "code": ["84"]})
    >>> list(published_key(f))
    [('cyber_pca', 'region', '84', 'total', 'Ensemble', '')]
    """
    cols = []
    for c in on:
        if c in frame.columns:
            col = frame[c].astype(object).where(frame[c].notna(), "")
        elif c == "by":
            col = pd.Series("total", index=frame.index)
        elif c == "group":
            col = pd.Series("Ensemble", index=frame.index)
        else:
            col = pd.Series("", index=frame.index)
        cols.append(col.astype(str).to_numpy())
    return pd.MultiIndex.from_arrays(cols, names=list(on))


def attach_figures(
    table: pd.DataFrame,
    figures: pd.DataFrame,
    *,
    columns: Sequence[str],
    on: Sequence[str] = PUBLISHED_KEY,
) -> pd.DataFrame:
    """Add figure columns to a protected table; NA wherever the table hides the cell.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`barometre_geo.aggregate` (its ``suppressed`` column
        is the edition's decision for each row).
    figures : pandas.DataFrame
        One row per cell with the key columns ``on`` (missing ``by``,
        ``group``, ``option``: the total row) and the ``columns`` to add
        (e.g. a modelled estimate and its interval).
    columns : sequence of str
        Columns of ``figures`` to add. They must not already be in ``table``.
    on : sequence of str
        Key columns (default :data:`PUBLISHED_KEY`).

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``columns`` added (``attrs`` kept): the value of the
        figure on published rows, NA on suppressed rows and on rows without a
        figure. Figures of cells the table does not hold are dropped.

    Raises
    ------
    SchemaError
        A column is missing, already in the table, or a cell has two figures.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"indicator": ["x", "x"], "level": ["region"] * 2, "code": ["84", "93"],
    ...                   "by": ["total"] * 2, "group": ["Ensemble"] * 2, "option": [None] * 2,
    ...                   "suppressed": [False, True]})
    >>> f = pd.DataFrame({"indicator": ["x", "x"], "level": ["region"] * 2, "code": ["84", "93"],
    ...                   "estimate": [0.41, 0.12]})
    >>> attach_figures(t, f, columns=["estimate"])["estimate"].tolist()
    [0.41, nan]
    """
    columns = list(columns)
    missing = [c for c in columns if c not in figures.columns]
    if missing:
        raise SchemaError(f"attach_figures: the figures lack column(s) {missing}.")
    clash = [c for c in columns if c in table.columns]
    if clash:
        raise SchemaError(
            f"attach_figures: column(s) {clash} are already in the table; rename the figures' "
            "columns (e.g. 'value_model')."
        )
    if "suppressed" not in table.columns:
        raise SchemaError(
            "attach_figures: the table has no 'suppressed' column; pass the output of "
            "barometre_geo.aggregate()."
        )
    fkey = published_key(figures, on)
    dup = fkey.duplicated()
    if dup.any():
        raise SchemaError(
            f"attach_figures: {int(dup.sum())} cell(s) have two figures (first: "
            f"{fkey[dup][0]}). Give one row per cell."
        )
    pos = fkey.get_indexer(published_key(table, on))
    hidden = table["suppressed"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    out = table.copy()
    for c in columns:
        values = figures[c].to_numpy()
        col = pd.Series(values[np.maximum(pos, 0)], index=table.index)
        out[c] = col.where((pos >= 0) & ~hidden)
    out.attrs = table.attrs
    return out
