"""Integer bounds of hidden cells: what a reader can prove from published figures.

The exact audit (:mod:`barometre_geo.protection.audit`) finds the groups of
respondents whose sum the published figures *determine* linearly. A reader
knows more than linear equations: answers are whole numbers between 0 and
the number of respondents, every valid answer of a single choice picks one
option, a follow-up question is asked only after a given answer of its
filter (``asked_if``: its ``n`` counts that answer — "count ≥ follow-up
n"). With those, integer linear programming bounds every hidden figure; the
published figures of an edition (maps, tables with any breakdown, the
follow-ups) all enter one system.

This module models one *family* — an indicator and the follow-ups linked to it
by ``asked_if`` — as the reader sees it (:class:`Family`) and decides, for
every hidden figure, whether the published ones pin it:

* ``single``: the hidden count (``oui`` answers, an option ticked, a sum of
  percentages) takes one value in every solution;
* ``zero`` / ``all``: every solution has no positive answer, or only
  positive answers, among the cell's valid ones (homogeneous);
* ``n_zero``: the cell's respondents gave no valid answer in every solution
  (a group that skipped the question).

Most hidden figures are cleared at once by :func:`screen`: two respondents in
the same published cells can exchange their answers without changing any
published figure (the *swap* of a feasible solution, the true one); when one
of them is in the hidden cell and the other is not, the hidden figure moves.
What is left is solved exactly by :func:`barometre_geo.protection.integer.solve`
(``scipy.optimize.milp``, HiGHS), maximising and minimising each figure.
:mod:`barometre_geo.protection.linked` builds the families from published
tables and runs both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["FINDINGS", "Family", "Figure", "Indicator", "screen"]

#: Kinds of finding, with their French description.
FINDINGS = {
    "single": "valeur masquée retrouvée exactement",
    "zero": "aucune réponse positive prouvée (case homogène)",
    "all": "uniquement des réponses positives prouvées (case homogène)",
    "n_zero": "absence de réponse valide prouvée",
}


@dataclass
class Indicator:
    """One indicator of a family, as the reader models it.

    ``kind``: ``choice`` (each valid answer picks one column of ``X``),
    ``multiple`` (columns ticked independently) or ``mean`` (one column, a
    percentage). ``R`` (respondents) is public; ``V`` and ``X`` are the true
    answers (N × columns). ``cellm``: cell of each respondent in each family
    of cells (level × breakdown), −1 none. ``attribute``: hidden cells must
    not be pinned whatever their size (sensitive questions and their
    follow-ups); else only groups of fewer than ``k`` respondents.
    """

    id: str
    kind: str
    R: np.ndarray
    V: np.ndarray
    X: np.ndarray
    options: list
    cellm: np.ndarray
    attribute: bool
    k: int


@dataclass
class Family:
    """Linked indicators, their cells and published figures (see the module docstring).

    Cells (``c_*``, family-wide ids): indicator, published ``n`` (NaN hidden),
    published respondents. Rows (``r_*``): cell, the columns of ``X`` they
    sum (the positive options of a headline share, one option), published
    count or sum (NaN hidden). ``gates``: ``(follow-up, filter, columns)``: a
    respondent answers the follow-up only if the filter's answer is in those
    columns.
    """

    indicators: list[Indicator]
    c_ind: np.ndarray
    c_n: np.ndarray
    c_resp: np.ndarray
    r_cell: np.ndarray
    r_cols: list
    r_value: np.ndarray
    gates: list = field(default_factory=list)

    @property
    def n_resp(self) -> int:
        """Respondent rows of the family."""
        return len(self.indicators[0].R)


@dataclass(frozen=True)
class Figure:
    """A hidden figure to examine: a row's count (``row`` ≥ 0) or a cell's ``n``."""

    what: str  # single | zero | all | n_zero
    cell: int
    row: int = -1


def _members(fam: Family) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per cell: (respondents, indicator) — from the cell matrices."""
    n_cells = len(fam.c_ind)
    rows, cells = [], []
    for ind in fam.indicators:
        r, f = np.nonzero(ind.cellm >= 0)
        rows.append(r)
        cells.append(ind.cellm[r, f])
    r = np.concatenate(rows) if rows else np.empty(0, np.int64)
    c = np.concatenate(cells) if cells else np.empty(0, np.int64)
    order = np.argsort(c, kind="stable")
    r, c = r[order], c[order]
    bounds = np.searchsorted(c, np.arange(n_cells + 1))
    return [(r[bounds[i] : bounds[i + 1]], fam.c_ind[i]) for i in range(n_cells)]


def _quantity(fam: Family, row: int) -> np.ndarray:
    """Return the true value of a row's figure per respondent (its columns summed)."""
    ind = fam.indicators[fam.c_ind[fam.r_cell[row]]]
    return ind.X[:, fam.r_cols[row]].sum(axis=1) * ind.V


def _published_keys(fam: Family) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Additive hashes of the published cells holding each respondent.

    ``h(r) = Σ w_P`` over the published cells ``P`` holding ``r`` (random
    64-bit weights, wrapping sums): two respondents in the same published
    cells have the same hash, and ``h(a) − h(b) + h(c) − h(d) = 0`` says that
    moving an answer from ``b`` to ``a`` and another from ``d`` to ``c``
    leaves every published figure unchanged (see :func:`_cycles`). Returns
    the whole-family hash (every published cell or row of every indicator,
    and which questions were asked), the hash per indicator (cells with a
    published ``n`` or row) and per row (cells whose row of the same columns
    is published).
    """
    n = fam.n_resp
    n_cells = len(fam.c_ind)
    rng = np.random.default_rng(0)
    weight = rng.integers(1, 2**63, size=n_cells, dtype=np.uint64)
    pub_row = ~np.isnan(fam.r_value)
    has_pub = ~np.isnan(fam.c_n)
    np.logical_or.at(has_pub, fam.r_cell, pub_row)

    def hashed(cellm: np.ndarray, keep: np.ndarray, w: np.ndarray) -> np.ndarray:
        h = np.zeros(n, dtype=np.uint64)
        for f in range(cellm.shape[1]):
            c = cellm[:, f]
            on = c >= 0
            on[on] = keep[c[on]]
            h += np.where(on, w[np.maximum(c, 0)], np.uint64(0))
        return h

    per_ind = [hashed(ind.cellm, has_pub, weight) for ind in fam.indicators]
    asked = rng.integers(1, 2**63, size=len(fam.indicators), dtype=np.uint64)
    whole = np.zeros(n, dtype=np.uint64)
    for j, ind in enumerate(fam.indicators):
        whole += per_ind[j] + np.where(ind.R, asked[j], np.uint64(0))
    colsets: dict = {}
    for j, cols in enumerate(fam.r_cols):
        key = (int(fam.c_ind[fam.r_cell[j]]), tuple(int(c) for c in cols))
        colsets.setdefault(key, []).append(j)
    per_row: list = [None] * len(fam.r_cols)
    for (i, _cols), rows in colsets.items():
        keep = np.zeros(n_cells, dtype=bool)
        keep[fam.r_cell[rows]] = pub_row[rows]
        key = hashed(fam.indicators[i].cellm, keep, weight)
        for j in rows:
            per_row[j] = key
    return whole, per_ind, per_row


def _groups(key: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group of each respondent (−1 where not ``ok``) and the hash of each group."""
    g = np.full(len(key), -1, dtype=np.int64)
    if not ok.any():
        return g, np.empty(0, dtype=np.uint64)
    hashes, inv = np.unique(key[ok], return_inverse=True)
    g[ok] = inv.ravel()
    return g, hashes


def _moves(cellm: np.ndarray, key: np.ndarray, ok: np.ndarray, q: np.ndarray, n_cells: int):
    """Whether exchanging two respondents of a group raises / lowers each cell's sum of ``q``.

    Respondents exchange answers only with others of the same group (same
    published cells, ``ok``). ``q`` binary (0/1), or any number (then both
    arrays say "can move").
    """
    up = np.zeros(n_cells, dtype=bool)
    down = np.zeros(n_cells, dtype=bool)
    g_all, hashes = _groups(key, ok)
    if not len(hashes):
        return up, down
    rows = np.flatnonzero(ok)
    g = g_all[rows]
    n_g = len(hashes)
    qv = q[rows]
    binary = np.isin(qv, (0, 1)).all()
    if binary:
        tot1 = np.bincount(g, weights=qv, minlength=n_g)
        tot0 = np.bincount(g, weights=1 - qv, minlength=n_g)
    else:
        lo = np.full(n_g, np.inf)
        hi = np.full(n_g, -np.inf)
        np.minimum.at(lo, g, qv)
        np.maximum.at(hi, g, qv)
        size = np.bincount(g, minlength=n_g)
    for f in range(cellm.shape[1]):
        c = cellm[rows, f]
        m = c >= 0
        if not m.any():
            continue
        pair = c[m].astype(np.int64) * n_g + g[m]
        keys, inv = np.unique(pair, return_inverse=True)
        inv = inv.ravel()
        pc, pg = keys // n_g, keys % n_g
        if binary:
            in1 = np.bincount(inv, weights=qv[m], minlength=len(keys))
            in0 = np.bincount(inv, weights=1 - qv[m], minlength=len(keys))
            np.logical_or.at(up, pc, (in0 > 0) & (tot1[pg] - in1 > 0))
            np.logical_or.at(down, pc, (in1 > 0) & (tot0[pg] - in0 > 0))
        else:
            cnt = np.bincount(inv, minlength=len(keys))
            move = (cnt < size[pg]) & (hi[pg] > lo[pg])
            np.logical_or.at(up, pc, move)
            np.logical_or.at(down, pc, move)
    return up, down


def _cycles(key: np.ndarray, holders_a: np.ndarray, holders_b: np.ndarray):
    """Find the groups that can take answer *b* (or give it) in a four-respondent exchange.

    Respondents ``r1`` (group ``x``, answer a) and ``r2`` (group ``y``,
    answer b) exchange answers, and so do ``r3`` (``x'``, a) and ``r4``
    (``y'``, b). Every published figure is unchanged when
    ``h(x) − h(y) + h(x') − h(y') = 0`` (the hashes of
    :func:`_published_keys`; the four groups distinct) — the classic
    rectangle of a two-way table whose margins are published and interior
    hidden. Returns the group ids (of ``_groups(key, holders_a | holders_b)``)
    that can gain b (``x``, ``x'``) and lose it (``y``, ``y'``), and the groups.
    """
    ok = holders_a | holders_b
    g, hashes = _groups(key, ok)
    n_g = len(hashes)
    gain = np.zeros(n_g, dtype=bool)
    lose = np.zeros(n_g, dtype=bool)
    ga = np.unique(g[holders_a])
    gb = np.unique(g[holders_b])
    if len(ga) < 2 or len(gb) < 2 or len(ga) * len(gb) > 4_000_000:
        return gain, lose, g
    x = np.repeat(ga, len(gb))
    y = np.tile(gb, len(ga))
    keep = x != y
    x, y = x[keep], y[keep]
    d = hashes[x] - hashes[y]  # wraps: exact arithmetic modulo 2**64
    order = np.argsort(d, kind="stable")
    sd = d[order]
    want = np.uint64(0) - d
    lo = np.searchsorted(sd, want, side="left")
    hi = np.searchsorted(sd, want, side="right")
    found = np.zeros(len(d), dtype=bool)
    for k in range(4):  # the first few partners (the undo (y, x) is one of them)
        at = lo + k
        live = (at < hi) & ~found
        if not live.any():
            break
        t = np.flatnonzero(live)
        p = order[at[t]]
        distinct = (x[p] != x[t]) & (x[p] != y[t]) & (y[p] != x[t]) & (y[p] != y[t])
        found[t[distinct]] = True
    gain[x[found]] = True
    lose[y[found]] = True
    return gain, lose, g


def _cycle_cells(cellm, g, gain, lose, holders_a, holders_b, single, n_cells):
    """Cells lying in one group that hold a respondent of a group able to gain / lose b."""
    up = np.zeros(n_cells, dtype=bool)
    down = np.zeros(n_cells, dtype=bool)
    ga = (g >= 0) & holders_a
    gb = (g >= 0) & holders_b
    ga[ga] = gain[g[ga]]
    gb[gb] = lose[g[gb]]
    for f in range(cellm.shape[1]):
        c = cellm[:, f]
        up[c[ga & (c >= 0)]] = True
        down[c[gb & (c >= 0)]] = True
    return up & single, down & single


def _single_group(fam: Family, key: np.ndarray, n_cells: int) -> np.ndarray:
    """Cells whose respondents all share one published signature (of ``key``)."""
    lo = np.full(n_cells, np.iinfo(np.int64).max)
    hi = np.full(n_cells, -1)
    _, g = np.unique(key, return_inverse=True)
    g = g.ravel().astype(np.int64)
    for ind in fam.indicators:
        r, f = np.nonzero(ind.cellm >= 0)
        c = ind.cellm[r, f]
        np.minimum.at(lo, c, g[r])
        np.maximum.at(hi, c, g[r])
    return (lo == hi) & (hi >= 0)


def _gate_masks(fam: Family):
    """Return, per indicator, who may exchange answers of it without breaking a gate."""
    can_whole = [ind.R.copy() for ind in fam.indicators]  # exchange its whole answer
    can_valid = [ind.V.copy() for ind in fam.indicators]  # exchange among valid answers
    for f, i, cols in fam.gates:
        follow, filt = fam.indicators[f], fam.indicators[i]
        gate = (filt.X[:, cols].sum(axis=1) > 0) & filt.V
        # a follow-up's answer may only move between respondents whose filter opens it
        can_whole[f] &= gate
        # a filter's answer may only move where no follow-up answer depends on it
        can_whole[i] &= ~follow.V
        can_valid[i] &= ~follow.V
    return can_whole, can_valid


def _answer_class(ind: Indicator) -> np.ndarray:
    """Return an integer per respondent naming its whole answer (−1 invalid)."""
    if ind.kind == "mean":
        _, cls = np.unique(ind.X[:, 0], return_inverse=True)
        return np.where(ind.V, cls.ravel(), -1)
    bits = (ind.X > 0).astype(np.int64) @ (1 << np.arange(ind.X.shape[1], dtype=np.int64))
    return np.where(ind.V, bits, -1)


def screen(fam: Family, examine: np.ndarray | None = None) -> tuple[list[Figure], dict]:
    """Hidden figures the exchanges of the true answers do not clear (module docstring).

    Two respondents in the same published cells exchange answers (of the
    whole family, of one indicator, among valid answers, of one option); four
    respondents exchange pairwise around a rectangle of published margins
    (:func:`_cycles`). Each exchange is a solution: the figures it moves are
    not pinned. ``examine``: the cells to check (default all). Returns the
    figures left to :func:`solve` and counts: ``examined`` (hidden figures
    checked), ``cleared``.
    """
    n_cells = len(fam.c_ind)
    examine = np.ones(n_cells, dtype=bool) if examine is None else np.asarray(examine, bool)
    whole, per_ind, per_row = _published_keys(fam)
    can_whole, can_valid = _gate_masks(fam)
    v_true = np.zeros(n_cells)
    for ind in fam.indicators:
        r, f = np.nonzero(ind.cellm >= 0)
        np.add.at(v_true, ind.cellm[r, f], ind.V[r])
    todo: list[Figure] = []
    examined = 0
    for j, ind in enumerate(fam.indicators):
        mine = (fam.c_ind == j) & examine
        single = _single_group(fam, per_ind[j], n_cells) & mine
        cls = _answer_class(ind)
        v = ind.V.astype(float)
        # validity moves (whole answers): plain exchanges, then rectangles invalid ↔ valid class
        v_up, _ = _moves(ind.cellm, whole, ind.R, v, n_cells)
        u, _ = _moves(ind.cellm, per_ind[j], can_whole[j], v, n_cells)
        v_up |= u

        def rectangles(key, elig, a_mask, b_mask, cellm=ind.cellm, single=single):
            gain, lose, g = _cycles(key, elig & a_mask, elig & b_mask)
            a, b = elig & a_mask, elig & b_mask
            return _cycle_cells(cellm, g, gain, lose, a, b, single, n_cells)

        need_v = mine & np.isnan(fam.c_n) & (fam.c_resp >= 1) & (v_true == 0)
        if need_v.any():
            for b in np.unique(cls[cls >= 0]):
                if not (need_v & ~v_up).any():
                    break
                u, _ = rectangles(per_ind[j], can_whole[j], cls == -1, cls == b)
                v_up |= u
        # n_zero: hidden cells of 1 to k − 1 respondents
        small = mine & np.isnan(fam.c_n) & (fam.c_resp >= 1) & (fam.c_resp < ind.k)
        examined += int(small.sum())
        for c in np.flatnonzero(small & (v_true == 0) & ~v_up):
            todo.append(Figure("n_zero", int(c)))
        # hidden rows of this indicator
        rows_j = np.flatnonzero(
            np.isnan(fam.r_value)
            & (fam.c_ind[fam.r_cell] == j)
            & (fam.c_resp[fam.r_cell] >= 1)
            & examine[fam.r_cell]
        )
        if not ind.attribute:
            rows_j = rows_j[fam.c_resp[fam.r_cell[rows_j]] < ind.k]
        by_cols: dict = {}
        for row in rows_j:
            by_cols.setdefault(tuple(int(c) for c in fam.r_cols[row]), []).append(row)
        for cols, rows in by_cols.items():
            rows = np.asarray(rows)
            examined += len(rows)
            q = _quantity(fam, rows[0])
            if ind.kind == "mean":
                pos, neg = (q > 0) * v, (q < 100) * v
            else:
                pos, neg = q, v - q
            valid_key = per_row[rows[0]]
            moves = {}
            for name, vec in (("q", q), ("pos", pos), ("neg", neg)):
                up = np.zeros(n_cells, dtype=bool)
                down = np.zeros(n_cells, dtype=bool)
                kinds = ((whole, ind.R), (per_ind[j], can_whole[j]), (valid_key, can_valid[j]))
                for key, elig in kinds:
                    uu, dd = _moves(ind.cellm, key, elig, vec, n_cells)
                    up |= uu
                    down |= dd
                moves[name] = [up, down]
            # rectangles among valid answers: an answer without the figure ↔ one with it
            cells = fam.r_cell[rows]
            open_ = ~(moves["q"][0][cells] & moves["q"][1][cells])
            if open_.any() and ind.kind != "mean":
                has = np.zeros(len(cls), dtype=bool)
                has[cls >= 0] = ((cls[cls >= 0][:, None] >> np.asarray(cols)) & 1).any(axis=1)
                valid = can_valid[j] & (cls >= 0)
                for a in np.unique(cls[valid & ~has]):
                    for b in np.unique(cls[valid & has]):
                        uu, dd = rectangles(valid_key, valid, cls == a, cls == b)
                        for name in ("q", "pos"):
                            moves[name][0] |= uu
                            moves[name][1] |= dd
                        moves["neg"][0] |= dd
                        moves["neg"][1] |= uu
            q_true, pos_true, neg_true = (np.zeros(n_cells) for _ in range(3))
            r, f = np.nonzero(ind.cellm >= 0)
            c_all = ind.cellm[r, f]
            np.add.at(q_true, c_all, q[r])
            np.add.at(pos_true, c_all, pos[r])
            np.add.at(neg_true, c_all, neg[r])
            can_answer = (v_true > 0) | v_up
            for row, c in zip(rows, cells, strict=True):
                if not can_answer[c]:
                    continue  # no valid answer possible: the n_zero check speaks for it
                if not (moves["q"][0][c] or moves["q"][1][c]):
                    todo.append(Figure("single", int(c), int(row)))
                if pos_true[c] == 0 and not moves["pos"][0][c]:
                    todo.append(Figure("zero", int(c), int(row)))
                if neg_true[c] == 0 and not moves["neg"][0][c]:
                    todo.append(Figure("all", int(c), int(row)))
    cleared = examined - len({(t.cell, t.row) for t in todo})
    return todo, {"examined": examined, "cleared": cleared}


# ------------------------------------------------------------------------ MILP
