"""Attribute disclosure of sensitive indicators: checks, side counts, option rows.

The rule is explained in :mod:`barometre_geo.protection.rules` ("Attribute
disclosure"). Here:

* :func:`build_checks` turns each sensitive indicator into *checks*: per valid
  answer, whether it lies away from the low end (``Oui``, ticked, > 0 %) and
  away from the high end (not ``Oui``, not ticked, < 100 %);
* :func:`side_counts` counts, per cell, the answers away from each end;
* :func:`cell_sides` gathers the checks whose cell shares its fate (yes/no
  shares, means, single-choice options) into one array per cell;
* :func:`protect_option_rows` hides the option rows of multiple-choice
  questions (primary rule, then the nesting relations option by option).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rules import complementary

__all__ = ["Check", "build_checks", "cell_sides", "protect_option_rows", "side_counts"]

#: Options that say nothing about the collectivity ("je ne sais pas"): never checked.
_NON_SUBSTANTIVE = ("ne_sait_pas", "non_concerne", "sans_reponse")


@dataclass(frozen=True)
class Check:
    """One published share (or mean) of a sensitive indicator, over its valid answers.

    ``measure`` is −1 when the whole cell shares the check's fate, else the
    global index of the option's measure row (multiple choice: hidden alone).
    """

    ind: int
    measure: int
    away_low: np.ndarray  # per valid answer: "Oui", ticked, > 0 %
    away_high: np.ndarray  # per valid answer: not "Oui", not ticked, < 100 %


def build_checks(
    plans, multiple: list[bool], first: np.ndarray, others: bool = False
) -> list[Check]:
    """Return the checks of every sensitive indicator (``first[i]``: its first measure).

    ``others``: also the cell-scope checks of the other indicators (their
    headline share, or the options of a distribution), for the homogeneity of
    hidden parts (:data:`barometre_geo.protection.apply.T_OTHER`).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> import numpy as np
    >>> plan = NS(sensitive=True, is_mean=False, V=np.array([True, True, False]),
    ...           options=[None], values=[np.array([1.0, 0.0, 0.0])])
    >>> [c.away_low.tolist() for c in build_checks([plan], [False], np.array([0]))]
    [[True, False]]
    """
    out: list[Check] = []
    for i, plan in enumerate(plans):
        if not plan.sensitive and not others:
            continue
        valid = np.flatnonzero(plan.V)
        # single choice: the headline share decides (so that ``options=True`` changes no
        # cell's fate); each substantive option only without a headline (distribution)
        headline = None in plan.options and not multiple[i]
        for j, opt in enumerate(plan.options):
            if opt in _NON_SUBSTANTIVE or (headline and opt is not None):
                continue
            y = np.asarray(plan.values[j])[valid]
            top = 100.0 if plan.is_mean else 1.0
            scope = int(first[i]) + j if multiple[i] and opt is not None else -1
            if scope >= 0 and not plan.sensitive:
                continue  # option rows alone: sensitive questions only
            out.append(Check(i, scope, y > 0, y < top))
    return out


def side_counts(check: Check, cellm: np.ndarray, n_cells: int) -> np.ndarray:
    """Answers away from the low end and away from the high end, per cell (cells × 2).

    ``cellm``: cell of each valid answer in every family (answers × families, −1 none).

    Examples
    --------
    >>> import numpy as np
    >>> c = Check(0, -1, np.array([True, False, False]), np.array([False, True, True]))
    >>> side_counts(c, np.array([[0, 1], [0, 1], [0, -1]]), 2).tolist()
    [[1.0, 2.0], [1.0, 1.0]]
    """
    out = np.zeros((n_cells, 2))
    r, f = np.nonzero(cellm >= 0)
    c = cellm[r, f]
    out[:, 0] = np.bincount(c, weights=check.away_low[r], minlength=n_cells)
    out[:, 1] = np.bincount(c, weights=check.away_high[r], minlength=n_cells)
    return out


def cell_sides(checks, cellm_of, n_cells: int) -> tuple[np.ndarray, list[tuple[Check, np.ndarray]]]:
    """Side counts of the cell-scope checks (cells × 2·max checks, NaN: none) and row-scope ones.

    ``cellm_of(i)`` gives the cell matrix of indicator ``i``'s valid answers.
    """
    cell_scope = [c for c in checks if c.measure < 0]
    per_ind = np.bincount([c.ind for c in cell_scope]) if cell_scope else np.zeros(1, int)
    width = 2 * int(per_ind.max())
    sides = np.full((n_cells, max(width, 2)), np.nan)
    slot: dict[int, int] = {}
    rows = []
    for check in checks:
        counts = side_counts(check, cellm_of(check.ind), n_cells)
        if check.measure >= 0:
            rows.append((check, counts))
            continue
        j = slot.get(check.ind, 0)
        slot[check.ind] = j + 1
        mine = np.unique(cellm_of(check.ind)[cellm_of(check.ind) >= 0])
        sides[mine, 2 * j : 2 * j + 2] = counts[mine]
    return sides, rows


def short(sides: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Cells with fewer than ``t`` answers on one side of one of their checks."""
    with np.errstate(invalid="ignore"):
        return ((sides < np.asarray(t, dtype=float)[:, None]) & ~np.isnan(sides)).any(axis=1)


def protect_option_rows(rows, relations, hidden, n, t_cell) -> tuple[np.ndarray, np.ndarray, dict]:
    """Hide option rows of multiple-choice questions (primary rule, then relations).

    For each row-scope check, an option row of a published cell with fewer
    than ``t`` answers ticked or not ticked is hidden (its cell, and ``n``,
    stay published); then :func:`~barometre_geo.protection.complementary`
    runs on the option's ticks over the nesting relations of ``relations``
    (:class:`barometre_geo.protection.apply._Relations`, stage by stage) with
    ``k`` 0: the cells' ``n`` are published, the ticks are what is protected.
    Returns the hidden measure rows, those hidden by the primary rule, and
    counts.
    """
    cs = relations.cs
    row_hidden = np.zeros(len(cs.m_cell), dtype=bool)
    row_primary = np.zeros(len(cs.m_cell), dtype=bool)
    info = {"option_rows": 0, "option_rows_complementary": 0}
    stages = sorted(relations.stages)
    for check, counts in rows:
        only = np.array([check.ind])
        mine = cs.c_ind == check.ind
        prim = mine & ~hidden & (n > 0) & short(counts, t_cell)
        h = hidden | prim
        for s in stages:  # stage by stage: a later stage never hides an earlier row
            rel, cell, par, _k, res_hidden, t_rel = relations.of(s, only)
            if s > 0:
                h = h | (relations.pinned & h[relations.pin_to])
            if not len(rel):
                continue
            h, _ = complementary(
                n,
                h,
                rel,
                cell,
                par,
                np.zeros(len(t_rel), dtype=np.int64),
                eligible=(relations.eligible & (relations.stage == s)) if s > 0 else None,
                residual_hidden=res_hidden,
                side=counts,
                t_rel=t_rel,
                frozen=((relations.stage < s) | relations.pinned) if s > 0 else None,
            )
        at = (cs.m_measure == check.measure) & (h & ~hidden)[cs.m_cell]
        row_hidden |= at
        row_primary |= at & prim[cs.m_cell]
    info["option_rows"] = int(row_primary.sum())
    info["option_rows_complementary"] = int((row_hidden & ~row_primary).sum())
    return row_hidden, row_primary, info
