"""Exact integer programs of the hidden figures the exchange screen leaves undecided.

:func:`barometre_geo.protection.bounds.screen` clears most hidden figures by
exchanging two respondents' answers. For the others, :func:`solve` writes the
reader's integer program of the family (:class:`_Model`: atoms of respondents,
counts of valid answers and of each option, the published figures as
equalities, "count >= follow-up n" as inequalities) and asks HiGHS
(``scipy.optimize.milp``) for a solution in which the hidden figure moves off
its true value (or off 0 / all / no valid answer). Found: the figure is not
pinned. Proven infeasible: a finding. Out of time: undecided, counted apart.
Small programs are solved locally first (:data:`LOCAL_SIZE` atoms around the
cell), the whole family only when the local one cannot move the figure.

Before the programs of each figure, a few *bulk* programs of the whole family
decide most figures at once (:meth:`_Model.push`: maximise how many open
figures a solution moves). Their solutions clear, once checked exactly, every
figure they move; the linear relaxation's optimum below 1, over figures that
can only move one way from their true value (:func:`_one_sided`), proves all
of them pinned.
"""

from __future__ import annotations

import logging

import numpy as np

from .bounds import Family, Figure, _members

__all__ = ["LOCAL_SIZE", "solve"]

_log = logging.getLogger(__name__)


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

    def push(
        self, Q, s0: np.ndarray, gap: np.ndarray, *, integer: bool, time_limit: float
    ) -> tuple[np.ndarray, np.ndarray, float, bool]:
        """Maximise how many requirements a solution meets, at once.

        ``Q x ≥ s0 + gap`` (one row per requirement, ``s0`` its value at the
        true answers, ``gap`` > 0) meets a requirement; ``y`` in [0, 1] with
        ``gap·y ≤ Q x − s0`` counts it, and the program maximises ``Σ y`` over
        the whole program. ``y ≥ 0`` keeps ``Q x ≥ s0`` for every row: when
        that holds in every solution (:func:`_one_sided`), an optimum below 1
        of the linear relaxation proves that no solution meets any row.
        Returns ``(x, y, Σ y, optimal)``; ``x`` as the solver gives it, to be
        checked (:meth:`checked`) before it is read as a proof. Raises
        ``TimeoutError`` when no solution is found in time.
        """
        from scipy import sparse
        from scipy.optimize import Bounds, LinearConstraint, milp

        m = Q.shape[0]
        big = sparse.vstack(
            [
                sparse.hstack([self.A, sparse.csr_matrix((self.A.shape[0], m))]),
                sparse.hstack([Q, -sparse.diags(gap)]),
            ]
        ).tocsr()
        res = milp(
            np.r_[np.zeros(self.nv), -np.ones(m)],
            constraints=LinearConstraint(
                big, np.r_[self.lo, s0], np.r_[self.hi, np.full(m, np.inf)]
            ),
            integrality=np.r_[self.integ if integer else np.zeros(self.nv), np.zeros(m)],
            bounds=Bounds(np.r_[self.lb, np.zeros(m)], np.r_[self.ub, np.ones(m)]),
            options={"time_limit": time_limit, "disp": False},
        )
        if res.x is None:
            raise TimeoutError
        return res.x[: self.nv], res.x[self.nv :], float(-res.fun), res.status == 0

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


def _one_sided(model: _Model, Q, s0: np.ndarray, figs: list[Figure]) -> np.ndarray:
    """Tell, per row of ``Q`` (one requirement each), whether ``Q x ≥ s0`` in every solution.

    True when the variables' bounds alone say it (a count that is 0, or at its
    most, at the true answers: ``zero``, ``n_zero``, a ``single`` at an end),
    or for ``all`` of a single choice or of one column (the program's own
    rows: the options of an answer sum to it, a column is at most ``top`` per
    valid answer). :meth:`_Model.push` proves a pin in bulk only on such rows.
    """
    qp, qn = Q.maximum(0), Q.minimum(0)
    box = qp @ model.lb + qn @ model.ub
    sided = box >= s0 - 1e-9
    fam = model.fam
    for t, fig in enumerate(figs):
        if fig.what == "all" and not sided[t]:
            ind = fam.indicators[fam.c_ind[fig.cell]]
            sided[t] = ind.kind == "choice" or len(fam.r_cols[fig.row]) == 1
    return sided


def solve(
    fam: Family,
    figures: list[Figure],
    *,
    time_limit: float = 30.0,
    budget: float | None = None,
    local_size: int | None = LOCAL_SIZE,
    bulk: bool = True,
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

    ``bulk`` (default): first, programs of the whole family deciding many
    figures at once (:meth:`_Model.push`). (1) The linear relaxation,
    maximising how many of the one-sided requirements (:func:`_one_sided`)
    a solution meets, again without those it moves, until its optimum is
    below 1: the requirements left are then met by no solution of the
    relaxation — pinned, as each one's own relaxation would prove (those it
    moves, even fractionally, are dropped from the proof, not cleared). (2) Integer
    programs maximising how many open figures move (one way per figure),
    while each clears enough. Every solution is checked
    (:meth:`_Model.checked`) before it clears anything. The figures left
    take the programs of each figure (the whole program at once for those
    a bulk integer program sought to move: mostly pinned, the local program
    would only add a program).
    """
    import time

    from scipy import sparse

    counts = {"lp": 0, "milp": 0, "lifted": 0, "decided": 0, "local": 0, "reused": 0}
    counts.update(bulk=0, bulk_cleared=0, bulk_pinned=0)
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

    def reuse(x: np.ndarray) -> int:
        hit = np.zeros(n_req, dtype=bool)
        hit[alt_of[Q @ x >= target - 1e-7]] = True
        new = int((hit & open_).sum())
        state[hit & open_] = 1
        open_[hit] = False
        return new

    def left() -> float:
        return np.inf if budget is None else budget - (time.perf_counter() - start)

    tried = np.zeros(n_req, dtype=bool)  # a bulk integer program sought to move it
    if bulk:
        s0 = Q @ model.truth
        gap = target - s0
        first = np.r_[0, np.cumsum(np.bincount(alt_of, minlength=n_req))[:-1]]
        sided = _one_sided(model, Q, s0, [figures[figs_of[g][0]] for g in alt_of])
        # 1. the linear relaxation, maximising how many figures move: its optimum
        # below 1 proves every one-sided figure left pinned (one program for all)
        n_alts = np.bincount(alt_of, minlength=n_req)
        P = np.flatnonzero(sided & (n_alts[alt_of] == 1))
        while len(P) and left() > 0:
            try:
                x, y, z, optimal = model.push(
                    Q[P], s0[P], gap[P], integer=False, time_limit=min(time_limit, left())
                )
            except TimeoutError:
                break
            counts["lp"] += 1
            counts["bulk"] += 1
            _log.debug(
                "bulk LP: %d figures, optimum %.2f (optimal %s), %d moved, %.1f s",
                len(P), z, optimal, int((y > 1e-6).sum()), time.perf_counter() - start,
            )  # fmt: skip
            ok = model.checked(x)
            if ok is not None:
                counts["bulk_cleared"] += reuse(ok)
            if not optimal:
                break
            if z < 0.5:
                pin = np.unique(alt_of[P])
                pin = pin[open_[pin]]
                state[pin] = 2
                open_[pin] = False
                counts["bulk_pinned"] += len(pin)
                break
            P = P[(y < 1e-6) & open_[alt_of[P]]]
        # 2. integer programs moving as many open figures as they can: every
        # solution is checked, and clears the figures it moves
        rng = np.random.default_rng(0)
        while open_.any() and left() > 0:
            g = np.flatnonzero(open_)
            pick = first[g] + rng.integers(0, n_alts[g])
            pick = np.where(sided[first[g]], first[g], pick)
            try:
                x, _, _, _ = model.push(
                    Q[pick], s0[pick], gap[pick], integer=True,
                    time_limit=min(time_limit, left()),
                )  # fmt: skip
            except TimeoutError:
                break
            counts["milp"] += 1
            counts["bulk"] += 1
            tried[g] = True
            ok = model.checked(x)
            n = reuse(ok) if ok is not None else 0
            counts["bulk_cleared"] += n
            _log.debug(
                "bulk MILP: %d open, %d cleared, %.1f s", len(g), n, time.perf_counter() - start
            )
            if n < max(2, 0.01 * len(g)):
                break

    counts["bulk_seconds"] = time.perf_counter() - start
    for g in range(n_req):
        if not open_[g]:
            continue
        if budget is not None and time.perf_counter() - start > budget:
            break
        local = None  # figures a bulk program could not move are mostly pinned: whole program
        if local_size is not None and not tried[g]:
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
                    counts["reused"] += reuse(x) - 1
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
