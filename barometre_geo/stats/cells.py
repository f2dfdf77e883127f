"""Vectorised sums per cell and the linear relations between cells.

A *cell* is one indicator × level × territory × breakdown group. Sums of every
indicator and measure are computed for all cells of one (level, breakdown) at
once with a single ``numpy.add.reduceat`` over a matrix holding one column per
indicator mask and per measure, so the cost barely depends on the number of
indicators.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .units import GEO_LEVELS, Geo

__all__ = ["CellSums", "Spec", "cell_sums", "total_cells"]

_COARSE_ALWAYS = ("departement", "region", "zone", "france")


@dataclass
class Spec:
    """What to sum: masks per indicator and values per measure (all length N)."""

    R: np.ndarray  # (N, I) respondent counted (universe, wave, de-duplicated)
    Rk: np.ndarray  # (N, I) respondent of a kind with a reference count
    V: np.ndarray  # (N, I) valid answer
    P: np.ndarray  # (N, I) population of the responding commune (0 otherwise)
    Y: np.ndarray  # (N, M) measure value, 0 where not valid
    measure_ind: np.ndarray  # (M,) indicator of each measure
    is_mean: np.ndarray  # (I,) whether the indicator is a mean (needs Σy²)
    w: np.ndarray  # (N,) weights (1 when none)
    weighted: bool


@dataclass
class CellSums:
    """One element per cell (``c_*``) and per measure row (``m_*``)."""

    c_ind: np.ndarray
    c_level: np.ndarray
    c_unit: np.ndarray
    c_by: np.ndarray
    c_group: np.ndarray
    c_sums: np.ndarray  # (C, 6): R, Rk, V, P, VW, VW2
    m_cell: np.ndarray
    m_measure: np.ndarray
    m_sums: np.ndarray  # (Mrows, 4): Y, Y2, WY, WY2


class _Layout:
    """Columns of the summed matrix: blocks per indicator, per measure, per mean measure."""

    def __init__(self, spec: Spec):
        self.n_ind = spec.R.shape[1]
        self.n_meas = spec.Y.shape[1]
        self.weighted = bool(spec.weighted)
        self.square = np.flatnonzero(spec.is_mean[spec.measure_ind])  # measures needing Σy²
        w = spec.w[:, None]
        blocks = [spec.R, spec.Rk, spec.V, spec.P]
        if self.weighted:
            blocks += [spec.V * w, spec.V * w * w]
        self.meas0 = sum(b.shape[1] for b in blocks)
        blocks.append(spec.Y)
        if self.weighted:
            blocks.append(spec.Y * w)
        self.sq0 = sum(b.shape[1] for b in blocks)
        ysq = spec.Y[:, self.square]
        blocks.append(ysq * ysq)
        if self.weighted:
            blocks.append(ysq * ysq * w)
        self.matrix = np.hstack(blocks).astype(np.float64)
        self.sq_pos = np.full(self.n_meas, -1, dtype=np.int64)
        self.sq_pos[self.square] = np.arange(len(self.square))

    def cell_cols(self, sums: np.ndarray, ki: np.ndarray, ii: np.ndarray) -> np.ndarray:
        """(cells, 6): R, Rk, V, P, VW, VW2 (VW = VW2 = V when unweighted)."""
        n = self.n_ind
        j_of = [0, 1, 2, 3, 4, 5] if self.weighted else [0, 1, 2, 3, 2, 2]
        return np.stack([sums[ki, j * n + ii] for j in j_of], axis=1)

    def meas_cols(self, sums: np.ndarray, mk: np.ndarray, mm: np.ndarray) -> np.ndarray:
        """(rows, 4): Σy, Σy², Σwy, Σwy² (y² = y for 0/1 measures)."""
        m0, n_m = self.meas0, self.n_meas
        y = sums[mk, m0 + mm]
        wy = sums[mk, m0 + n_m + mm] if self.weighted else y
        pos = self.sq_pos[mm]
        has = pos >= 0
        n_sq = len(self.square)
        y2, wy2 = y.copy(), wy.copy()
        y2[has] = sums[mk[has], self.sq0 + pos[has]]
        wy2[has] = sums[mk[has], self.sq0 + (n_sq if self.weighted else 0) + pos[has]]
        return np.stack([y, y2, wy, wy2], axis=1)


def cell_sums(
    spec: Spec,
    geo: Geo,
    units: dict[str, np.ndarray],
    groups: list[tuple[np.ndarray, int]],
    *,
    with_groups_at_commune: bool = False,
) -> CellSums:
    """Sum every column per cell, for every level and breakdown.

    ``units[level]`` gives each response's unit (−1: not counted there);
    ``groups`` lists, per breakdown (index 0 is the total), the group code of
    each response (−1: none) and the number of groups. Each (level,
    breakdown) is one sparse one-hot × dense product.
    """
    from scipy import sparse

    lay = _Layout(spec)
    A = lay.matrix
    n_ind = spec.R.shape[1]
    if len(spec.measure_ind) and (np.diff(spec.measure_ind) < 0).any():
        raise RuntimeError("measures must be grouped by indicator (internal error)")
    per_ind = np.bincount(spec.measure_ind, minlength=n_ind)
    first = np.r_[0, np.cumsum(per_ind)[:-1]].astype(np.int64)
    out_c: list[tuple] = []
    for li, level in enumerate(GEO_LEVELS):
        u = units[level]
        n_units = geo.units(level)
        for bi, (g, n_groups) in enumerate(groups):
            if bi > 0 and level == "commune" and not with_groups_at_commune:
                continue
            key = np.where((u >= 0) & (g >= 0), u * n_groups + g, -1)
            rows = np.flatnonzero(key >= 0)
            keys, inv = np.unique(key[rows], return_inverse=True)
            onehot = sparse.csr_matrix(
                (np.ones(len(rows)), (inv.ravel(), rows)), shape=(len(keys), len(key))
            )
            sums = np.asarray(onehot @ A)
            if bi == 0 and level in _COARSE_ALWAYS:
                dense = np.zeros((n_units, A.shape[1]))
                dense[keys] = sums
                keys, sums = np.arange(n_units), dense
                emit = np.ones((len(keys), n_ind), dtype=bool)
            else:
                emit = sums[:, :n_ind] > 0
            ki, ii = np.nonzero(emit)
            reps = per_ind[ii]
            mk = np.repeat(ki, reps)
            offs = np.arange(len(mk)) - np.repeat(np.cumsum(reps) - reps, reps)
            mm = np.repeat(first[ii], reps) + offs
            out_c.append(
                (
                    ii,
                    np.full(len(ki), li),
                    keys[ki] // n_groups,
                    np.full(len(ki), bi),
                    keys[ki] % n_groups,
                    lay.cell_cols(sums, ki, ii),
                    np.repeat(np.arange(len(ki)), reps),
                    mm,
                    lay.meas_cols(sums, mk, mm),
                )
            )
    offsets = np.cumsum([0] + [len(o[0]) for o in out_c])[:-1]
    return CellSums(
        c_ind=np.concatenate([o[0] for o in out_c]).astype(np.int64),
        c_level=np.concatenate([o[1] for o in out_c]).astype(np.int64),
        c_unit=np.concatenate([o[2] for o in out_c]).astype(np.int64),
        c_by=np.concatenate([o[3] for o in out_c]).astype(np.int64),
        c_group=np.concatenate([o[4] for o in out_c]).astype(np.int64),
        c_sums=np.concatenate([o[5] for o in out_c]),
        m_cell=np.concatenate([o[6] + off for o, off in zip(out_c, offsets, strict=True)]).astype(
            np.int64
        ),
        m_measure=np.concatenate([o[7] for o in out_c]).astype(np.int64),
        m_sums=np.concatenate([o[8] for o in out_c]),
    )


def total_cells(cs: CellSums) -> np.ndarray:
    """Index of the total cell of each cell's territory (−1 for total cells)."""
    n_lv = len(GEO_LEVELS)
    max_u = int(cs.c_unit.max()) + 1 if len(cs.c_unit) else 1
    key = (cs.c_ind * n_lv + cs.c_level) * max_u + cs.c_unit
    tot = np.flatnonzero(cs.c_by == 0)
    order = tot[np.argsort(key[tot])]
    sk = key[order]
    pos = np.minimum(np.searchsorted(sk, key), max(len(sk) - 1, 0))
    out = np.where(sk[pos] == key, order[pos], -1) if len(sk) else np.full(len(key), -1)
    out[cs.c_by == 0] = -1
    return out
