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
What is left is solved exactly by :func:`solve` (``scipy.optimize.milp``,
HiGHS), maximising and minimising each figure. :mod:`barometre_geo.protection.linked`
builds the families from published tables and runs both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Family", "Figure", "Indicator", "screen", "solve"]

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


class _Model:
    """The reader's integer program of one family, over atoms of respondents.

    Atoms: respondents in the same published cells, in the same cells to
    examine (``cells``) and asked the same questions. Per atom and indicator,
    integer counts: valid answers ``V``, and one per column of ``X`` (options
    picked, ticked; a sum of percentages for a mean, continuous).
    """

    def __init__(self, fam: Family, cells: np.ndarray):
        from scipy import sparse

        self.fam = fam
        pub = ~np.isnan(fam.c_n)
        np.logical_or.at(pub, fam.r_cell, ~np.isnan(fam.r_value))
        keep = pub.copy()
        keep[cells] = True
        parts = []
        for ind in fam.indicators:
            cm = np.where(ind.cellm >= 0, ind.cellm, -1)
            on = cm >= 0
            on[on] = keep[cm[on]]
            parts.append(np.where(on, cm, -1))
        parts.append(np.stack([ind.R for ind in fam.indicators], axis=1).astype(np.int64))
        sig = np.hstack(parts)
        _, atom = np.unique(sig, axis=0, return_inverse=True)
        atom = atom.ravel()
        n_atoms = int(atom.max()) + 1 if len(atom) else 0
        self.n_atoms = n_atoms
        self.atom = atom
        atom_of_var = []
        # cell → atoms (only kept cells are unions of atoms)
        self.atoms_of: dict[int, np.ndarray] = {}
        for ind in fam.indicators:
            r, f = np.nonzero(ind.cellm >= 0)
            c = ind.cellm[r, f]
            m = keep[c]
            pairs = np.unique(np.stack([c[m], atom[r[m]]], axis=1), axis=0)
            if len(pairs):
                split = np.flatnonzero(np.diff(pairs[:, 0])) + 1
                for chunk in np.split(pairs, split):
                    self.atoms_of[int(chunk[0, 0])] = chunk[:, 1]
        self.var_v, self.var_x = [], []
        lb, ub, integ = [], [], []
        true = []
        nv = 0
        for ind in fam.indicators:
            cap = np.bincount(atom, weights=ind.R, minlength=n_atoms)
            n_cols = ind.X.shape[1]
            top = 100.0 if ind.kind == "mean" else 1.0
            self.var_v.append(nv + np.arange(n_atoms))
            atom_of_var += [np.arange(n_atoms), np.repeat(np.arange(n_atoms), n_cols)]
            nv += n_atoms
            self.var_x.append(nv + np.arange(n_atoms * n_cols).reshape(n_atoms, n_cols))
            nv += n_atoms * n_cols
            lb += [np.zeros(n_atoms), np.zeros(n_atoms * n_cols)]
            ub += [cap, np.repeat(cap * top, n_cols)]
            integ += [np.ones(n_atoms), np.full(n_atoms * n_cols, float(ind.kind != "mean"))]
            xv = ind.X * ind.V[:, None]
            true += [
                np.bincount(atom, weights=ind.V, minlength=n_atoms),
                np.stack(
                    [np.bincount(atom, weights=xv[:, o], minlength=n_atoms) for o in range(n_cols)],
                    axis=1,
                ).ravel(),
            ]
        self.lb, self.ub, self.integ = np.concatenate(lb), np.concatenate(ub), np.concatenate(integ)
        self.truth = np.concatenate(true)
        self.atom_of_var = np.concatenate(atom_of_var)
        self.nv = nv
        A_rows, lo, hi = [], [], []

        def add_block(cols: np.ndarray, coef: np.ndarray, low, high) -> None:
            """Rows of equal length: ``cols`` and ``coef`` are (rows × terms)."""
            A_rows.append((cols, coef))
            lo.append(np.broadcast_to(low, (len(cols),)).astype(float))
            hi.append(np.broadcast_to(high, (len(cols),)).astype(float))

        for j, ind in enumerate(fam.indicators):
            v, x = self.var_v[j], self.var_x[j]
            asked = self.ub[v] > 0
            if ind.kind == "choice":
                cols = np.hstack([x[asked], v[asked, None]])
                coef = np.hstack([np.ones(x[asked].shape), -np.ones((asked.sum(), 1))])
                add_block(cols, coef, 0.0, 0.0)
            else:
                top = 100.0 if ind.kind == "mean" else 1.0
                xa, va = x[asked], v[asked]
                cols = np.stack([xa.ravel(), np.repeat(va, xa.shape[1])], axis=1)
                coef = np.tile([1.0, -top], (len(cols), 1))
                add_block(cols, coef, -np.inf, 0.0)
        for f, i, gcols in fam.gates:
            vf, xi = self.var_v[f], self.var_x[i]
            asked = self.ub[vf] > 0
            cols = np.hstack([vf[asked, None], xi[asked][:, gcols]])
            coef = np.hstack([np.ones((asked.sum(), 1)), -np.ones((asked.sum(), len(gcols)))])
            add_block(cols, coef, -np.inf, 0.0)
        eq_c, eq_b = [], []
        for c in np.flatnonzero(~np.isnan(fam.c_n)):
            at = self.atoms_of[int(c)]
            eq_c.append(self.var_v[fam.c_ind[c]][at])
            eq_b.append(fam.c_n[c])
        for row in np.flatnonzero(~np.isnan(fam.r_value)):
            eq_c.append(self.row_vars(row))
            eq_b.append(fam.r_value[row])
        data, ri, ci = [], [], []
        n_rows = 0
        for cols, coef in A_rows:
            r = n_rows + np.repeat(np.arange(len(cols)), cols.shape[1])
            ri.append(r)
            ci.append(cols.ravel())
            data.append(coef.ravel())
            n_rows += len(cols)
        for cols, b in zip(eq_c, eq_b, strict=True):
            ri.append(np.full(len(cols), n_rows))
            ci.append(cols)
            data.append(np.ones(len(cols)))
            tol = 0.0 if float(b).is_integer() else 1e-6 * max(1.0, abs(b))
            lo.append(np.array([b - tol]))
            hi.append(np.array([b + tol]))
            n_rows += 1
        self.A = sparse.csr_matrix(
            (np.concatenate(data), (np.concatenate(ri), np.concatenate(ci))), shape=(n_rows, nv)
        )
        self.lo, self.hi = np.concatenate(lo), np.concatenate(hi)

    def row_vars(self, row: int) -> np.ndarray:
        """Variables summed by a row's figure (its cell's atoms × its columns)."""
        fam = self.fam
        c = int(fam.r_cell[row])
        return self.var_x[fam.c_ind[c]][self.atoms_of[c]][:, fam.r_cols[row]].ravel()

    def requirement(self, fig: Figure, atoms: np.ndarray | None = None) -> list:
        """Return what would clear a figure: ``Σ coef·x ≥ target`` (alternatives).

        ``atoms``: the atoms standing for the cell (default: the cell's own;
        for a cell of one respondent, that respondent's atom — every member of
        an atom plays the same part, so the atom moves iff the respondent can).
        """
        fam = self.fam
        c = fig.cell
        j = fam.c_ind[c]
        at = self.atoms_of[c] if atoms is None else atoms
        v = self.var_v[j][at]
        kind = fam.indicators[j].kind
        step = 1e-3 if kind == "mean" else 1.0
        top = 100.0 if kind == "mean" else 1.0
        if fig.what == "n_zero":
            return [(v, np.ones(len(v)), 1.0)]
        x = self.var_x[j][at][:, fam.r_cols[fig.row]].ravel()
        ones = np.ones(len(x))
        t = float(self.truth[x].sum())
        if fig.what == "zero":
            return [(x, ones, step)]
        if fig.what == "all":
            cols = np.r_[v, x]
            return [(cols, np.r_[np.full(len(v), top), -ones], step)]
        out = [(x, ones, t + step)] if t + step <= float(self.ub[x].sum()) + 1e-9 else []
        if t > 0:
            out.append((x, -ones, step - t))
        return out

    def neighbourhood(self, atoms: np.ndarray, size: int) -> np.ndarray:
        """Atoms sharing a published cell of at most ``size`` respondents with ``atoms``.

        Returns a boolean mask over atoms (``atoms`` included): the free part of
        a local program (:meth:`alternative`).
        """
        if not hasattr(self, "_pub_atoms"):
            fam = self.fam
            pub = ~np.isnan(fam.c_n)
            np.logical_or.at(pub, fam.r_cell, ~np.isnan(fam.r_value))
            small = [c for c in np.flatnonzero(pub) if int(c) in self.atoms_of]
            size_of = np.bincount(self.atom, minlength=self.n_atoms)
            self._pub_atoms = {int(c): self.atoms_of[int(c)] for c in small}
            self._pub_size = {c: int(size_of[a].sum()) for c, a in self._pub_atoms.items()}
            pairs = [(a, c) for c, at in self._pub_atoms.items() for a in at]
            self._cells_of_atom: dict = {}
            for a, c in pairs:
                self._cells_of_atom.setdefault(int(a), []).append(c)
        free = np.zeros(self.n_atoms, dtype=bool)
        free[atoms] = True
        for a in np.asarray(atoms).tolist():
            for c in self._cells_of_atom.get(int(a), ()):
                if self._pub_size[c] <= size:
                    free[self._pub_atoms[c]] = True
        return free

    def alternative(
        self, req, free: np.ndarray | None, *, integer: bool, time_limit: float
    ) -> np.ndarray | None:
        """Return a solution meeting ``req``, closest to the true answers (or None).

        Closest in L1 distance: the program looks for a small change of the
        true answers (an exchange between a few respondents). Atoms outside
        ``free`` keep their true answers: the program is then built on the free
        atoms' variables only (every constraint they do not enter holds at the
        true answers), and a solution of it is a solution of the whole; its
        infeasibility proves nothing. ``integer=False`` solves the linear
        relaxation: its solution proves the figure movable when integral, and
        its infeasibility (of the whole program) proves the figure pinned.
        Returns the values of every variable (the true ones outside ``free``).
        """
        from scipy import sparse
        from scipy.optimize import Bounds, LinearConstraint, milp

        cols, coef, target = req
        if free is None:
            idx = np.arange(self.nv)
            A, lo, hi = self.A, self.lo, self.hi
        else:
            on = free[self.atom_of_var]
            idx = np.flatnonzero(on)
            if not hasattr(self, "_Acsc"):
                self._Acsc = self.A.tocsc()
                self._Atruth = self.A @ self.truth
            sub = self._Acsc[:, idx].tocsr()
            rows = np.flatnonzero(np.diff(sub.indptr) > 0)
            A = sub[rows]
            inside = A @ self.truth[idx]
            lo = self.lo[rows] - (self._Atruth[rows] - inside)
            hi = self.hi[rows] - (self._Atruth[rows] - inside)
        n = len(idx)
        pos = np.full(self.nv, -1, dtype=np.int64)
        pos[idx] = np.arange(n)
        if (pos[cols] < 0).any():
            raise ValueError("the requirement's variables must be free")
        row = sparse.csr_matrix(
            (coef, (np.zeros(len(cols), dtype=np.int64), pos[cols])), shape=(1, n)
        )
        eye = sparse.identity(n, format="csr")
        big = sparse.vstack(
            [
                sparse.hstack([A, sparse.csr_matrix((A.shape[0], 2 * n))]),
                sparse.hstack([row, sparse.csr_matrix((1, 2 * n))]),
                sparse.hstack([eye, -eye, eye]),  # x − p + m = truth
            ]
        ).tocsr()
        truth = self.truth[idx]
        res = milp(
            np.r_[np.zeros(n), np.ones(2 * n)],
            constraints=LinearConstraint(big, np.r_[lo, target, truth], np.r_[hi, np.inf, truth]),
            integrality=np.r_[self.integ[idx] if integer else np.zeros(n), np.zeros(2 * n)],
            bounds=Bounds(
                np.r_[self.lb[idx], np.zeros(2 * n)], np.r_[self.ub[idx], np.full(2 * n, np.inf)]
            ),
            options={"time_limit": time_limit, "disp": False},
        )
        if res.status == 2:  # infeasible: no solution meets req (under these bounds)
            return None
        if res.x is None:
            raise TimeoutError
        x = self.truth.copy()
        x[idx] = res.x[:n]
        return x

    def checked(self, x: np.ndarray) -> np.ndarray | None:
        """Return ``x`` with its integer variables rounded if it then solves the whole program.

        A solver's solution carries tolerances (1e-6 on integrality): the
        rounded one is checked against every constraint and bound of the
        reader's program (integer counts: exact sums), so that only a true
        solution is read as the proof that a figure moves. None otherwise.
        """
        x = x.copy()
        integ = self.integ > 0
        if (np.abs(x - np.round(x))[integ] > 1e-6).any():
            return None
        x[integ] = np.round(x[integ])
        if (x < self.lb - 1e-9).any() or (x > self.ub + 1e-9).any():
            return None
        ax = self.A @ x
        tol = 1e-7 * np.maximum(1.0, np.abs(ax))
        ok = bool((ax >= self.lo - tol).all() and (ax <= self.hi + tol).all())
        return x if ok else None


def _moved(model: _Model, req, free, time_limit: float, counts: dict) -> np.ndarray | None:
    """Return a solution of the whole program meeting ``req`` (None: the program is infeasible).

    The linear relaxation first, its solution kept when integral, else the
    integer program. ``free``: see :meth:`_Model.alternative` (a local
    program's infeasibility means only that it found nothing). Raises
    ``TimeoutError`` when a program is not solved in time or its solution
    does not check.
    """
    x = model.alternative(req, free, integer=False, time_limit=time_limit)
    counts["lp"] += 1
    if x is None:
        return None
    ok = model.checked(x)
    if ok is not None:
        return ok
    x = model.alternative(req, free, integer=True, time_limit=time_limit)
    counts["milp"] += 1
    if x is None:
        return None
    ok = model.checked(x)
    if ok is None:
        raise TimeoutError  # never read a solution that does not check as a proof
    return ok


#: Published cells of at most this many respondents join a figure's local program.
LOCAL_SIZE = 400


def solve(
    fam: Family,
    figures: list[Figure],
    *,
    time_limit: float = 30.0,
    budget: float | None = None,
    local_size: int | None = LOCAL_SIZE,
) -> tuple[list, list, dict]:
    """Decide figures exactly; return the pinned ones, the undecided ones and counts.

    A figure of one respondent stands for that respondent's atom (every
    member of an atom plays the same part); figures with the same
    requirement (the same cells' respondents, columns and kind) are decided
    once. For each, the solution closest to the true answers that moves it
    is sought (:meth:`_Model.alternative`): first on a local program (the
    figure's atoms and those sharing a published cell of at most
    ``local_size`` respondents with them, the others keeping their true
    answers), then on the whole program; the linear relaxation first — the
    whole program's infeasibility proves the figure pinned, an integral
    solution proves it movable —, else the integer program. Every solution
    found, once checked against the whole program (:meth:`_Model.checked`),
    also clears the other figures it moves (``reused``). A program not
    solved within ``time_limit`` seconds, or figures left when ``budget``
    seconds are spent, are *undecided*: returned apart, never counted as safe.
    """
    import time

    from scipy import sparse

    counts = {"lp": 0, "milp": 0, "lifted": 0, "decided": 0, "local": 0, "reused": 0}
    if not figures:
        return [], [], counts
    start = time.perf_counter()
    members = _members(fam)
    multi = [f.cell for f in figures if len(members[f.cell][0]) > 1]
    model = _Model(fam, np.unique(np.asarray(multi, dtype=np.int64)))
    groups: dict = {}
    reqs, atoms_of_group, figs_of = [], [], []
    for i, fig in enumerate(figures):
        mem = members[fig.cell][0]
        at = np.array([int(model.atom[mem[0]])]) if len(mem) == 1 else None
        req = model.requirement(fig, at)
        key = tuple(
            (tuple(np.asarray(c).tolist()), tuple(np.asarray(v).tolist()), round(float(t), 9))
            for c, v, t in req
        )
        if key not in groups:
            groups[key] = len(reqs)
            reqs.append(req)
            atoms_of_group.append(at if at is not None else model.atoms_of[fig.cell])
            figs_of.append([])
        figs_of[groups[key]].append(i)
    n_req = len(reqs)
    counts["lifted"] = len(figures) - n_req
    # every alternative of every requirement, one row: Q x ≥ target clears it
    alt_of, data, ri, ci, target = [], [], [], [], []
    for g, req in enumerate(reqs):
        for cols, coef, t in req:
            ri.append(np.full(len(cols), len(alt_of)))
            ci.append(np.asarray(cols))
            data.append(np.asarray(coef, dtype=float))
            target.append(t)
            alt_of.append(g)
    Q = sparse.csr_matrix(
        (np.concatenate(data), (np.concatenate(ri), np.concatenate(ci))),
        shape=(len(alt_of), model.nv),
    )
    target, alt_of = np.asarray(target, dtype=float), np.asarray(alt_of, dtype=np.int64)
    open_ = np.ones(n_req, dtype=bool)
    state = np.zeros(n_req, dtype=np.int8)  # 0 open, 1 cleared, 2 pinned, 3 undecided

    def reuse(x: np.ndarray) -> None:
        hit = np.zeros(n_req, dtype=bool)
        hit[alt_of[Q @ x >= target - 1e-7]] = True
        counts["reused"] += int((hit & open_).sum()) - 1
        state[hit & open_] = 1
        open_[hit] = False

    for g in range(n_req):
        if not open_[g]:
            continue
        if budget is not None and time.perf_counter() - start > budget:
            break
        local = None
        if local_size is not None:
            local = model.neighbourhood(atoms_of_group[g], local_size)
            if local.all():
                local = None
        pinned, timed_out = True, False
        try:
            for req in reqs[g]:
                x = None
                if local is not None:
                    try:
                        x = _moved(model, req, local, time_limit, counts)
                    except TimeoutError:
                        x = None  # the whole program decides
                    counts["local"] += x is not None
                if x is None:
                    x = _moved(model, req, None, time_limit, counts)
                if x is not None:
                    reuse(x)
                    pinned = False
                    break
        except TimeoutError:
            timed_out = True
        if open_[g]:
            open_[g] = False
            state[g] = 3 if timed_out else (2 if pinned else 1)
    found, undecided = [], []
    for g in range(n_req):
        if state[g] == 2:
            found += [figures[i] for i in figs_of[g]]
        elif state[g] in (0, 3):
            undecided += [figures[i] for i in figs_of[g]]
        if state[g] in (1, 2):
            counts["decided"] += len(figs_of[g])
    return found, undecided, counts
