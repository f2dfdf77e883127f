"""Finding and closing the leaks of the published cells, indicator by indicator.

The exact audit of :mod:`barometre_geo.protection.audit` run while protecting
(:class:`_Audit`): the published cells of one indicator as a matrix over its
atoms (:class:`_System`), null samples of it (:class:`_View`), the groups and
primary cells they determine (targets), and the cells to hide to close each
leak (:meth:`_Audit.fix`); then the weighted figures (:meth:`_Audit.weighted`).
The order of work is :func:`barometre_geo.protection.apply.protect`'s.

Every decision is taken *by stage* (``stage`` of each cell: 0 the totals, 1
the built-in breakdowns, 2 the other breakdowns): the cells published at a
stage are those of that stage and below, and only cells of that stage may be
hidden, so a stage never changes what an earlier one decided.
"""

from __future__ import annotations

import numpy as np

from ..stats.units import GEO_LEVELS
from .audit import NullSampler, atoms, recoverable, small_groups
from .relations import _Families

__all__ = ["DISSECTION", "MAX_TESTS", "NATIONAL"]

#: Step of the nested dissection of the null space for each level of ``GEO_LEVELS``.
DISSECTION = np.array([0, 0, 0, 1, 2, 2])
#: Levels whose weighted figures may be published (zones and France).
NATIONAL = np.array([lv in ("zone", "france") for lv in GEO_LEVELS])
#: Candidate cells tried per leak before falling back on the smallest one.
MAX_TESTS = 12


class _View:
    """Null samples of one set of published rows, at the level of atoms and respondents."""

    def __init__(self, system: _System, ns):
        self.system, self.ns = system, ns
        self.atom, self.mass = system.atom, system.mass
        # respondent-level samples: an atom's value split at random among its respondents
        rng = np.random.default_rng(system.seed)
        atom, mass = self.atom, self.mass
        noise = rng.normal(size=(len(atom), ns.z.shape[1]))
        mean = np.zeros((len(mass), noise.shape[1]))
        np.add.at(mean, atom, noise)
        mean /= mass[:, None]
        mean[~ns.touched] = 0
        self.zr = ns.z[atom] / mass[atom, None] + noise - mean[atom]
        free = ~ns.touched[atom]  # in no published cell: never determined
        self.zr[free] = noise[free]

    @property
    def cell_key(self) -> dict:
        return self.system.cell_key

    def determined(self, members: np.ndarray) -> bool:
        """Whether the sum over these respondents (local positions) is determined."""
        return bool(recoverable(self.zr[members].sum(axis=0)[None])[0])


class _System:
    """Published cells of one indicator as a matrix over its atoms, with null samples.

    With weights, the weighted rows ``w ⊙ 1_cell`` of the published national and
    zone cells are included (last stage): :meth:`view` samples the null space
    without them (the unweighted audit) or without some of them.
    """

    def __init__(self, audit: _Audit, i: int, pub: np.ndarray, *, weighted: bool = True):
        from scipy import sparse

        cellm = audit.cell_matrix(i)
        on = cellm >= 0
        show = np.zeros(cellm.shape, dtype=bool)
        show[on] = pub[cellm[on]]
        sig = np.where(show, cellm, -1)
        wpub = pub & audit.weighable if audit.w is not None and weighted else None
        weighted = wpub is not None and bool(wpub[cellm[on]].any())
        self.has_w = wpub is not None
        if weighted:
            wshow = np.zeros(cellm.shape, dtype=bool)
            wshow[on] = wpub[cellm[on]]
            wcls = audit.weight_class[audit.rows[i]]
            sig = np.hstack([sig, np.where(wshow.any(axis=1), wcls, -1)[:, None]])
        self.atom, first, self.mass = atoms(sig)
        asig = sig[first][:, : cellm.shape[1]]
        a_idx, f_idx = np.nonzero(asig >= 0)
        cid = asig[a_idx, f_idx]
        ucell, row = np.unique(cid, return_inverse=True)
        row = row.ravel()
        shape = (len(ucell), len(self.mass))
        m = sparse.csr_matrix((np.ones(len(cid)), (row, a_idx)), shape=shape)
        stage = DISSECTION[audit.cs.c_level[ucell]]
        self.w_cells = np.empty(0, dtype=np.int64)
        if weighted:
            keep = wpub[cid]
            self.w_cells, wrow = np.unique(cid[keep], return_inverse=True)
            w_at = audit.w[audit.rows[i][first]]
            mw = sparse.csr_matrix(
                (w_at[a_idx[keep]], (wrow.ravel(), a_idx[keep])),
                shape=(len(self.w_cells), shape[1]),
            )
            scale = np.asarray(abs(mw).max(axis=1).todense()).ravel()
            mw = sparse.diags(1 / np.where(scale > 0, scale, 1)) @ mw
            m = sparse.vstack([m, mw]).tocsr()
            stage = np.r_[stage, np.full(len(self.w_cells), DISSECTION.max())]
        # cells with the same respondents are one row for the reader: key them
        probe = np.random.default_rng(0).normal(size=(shape[1], 2))
        self.probe = probe
        keys = list(map(tuple, np.round(m[: len(ucell)] @ probe, 9)))
        self.cell_key = dict(zip(ucell.tolist(), keys, strict=True))
        self.published_keys = set(keys)
        self.n_rows = len(ucell)
        self.seed = i
        self.sampler = NullSampler(m, stage, seed=i)

    @property
    def u(self) -> _View:
        """The samples without the weighted rows (a new view at each access).

        Not stored: a view holds its system, and a system holding its view would be a
        reference cycle that keeps every tested system's dense matrices alive until the
        cyclic garbage collector runs (24 GB on the demo's national table by kind).
        """
        return self.view()

    def view(self, withheld: np.ndarray | None = None) -> _View:
        """Sample without the weighted rows (``withheld`` None), or without those of some cells."""
        w_rows = self.n_rows + np.arange(len(self.w_cells))
        if withheld is not None:
            w_rows = w_rows[withheld[self.w_cells]]
        return _View(self, self.sampler.samples(drop=w_rows if len(w_rows) else None))


class _Audit:
    """Exact disclosure audit of the published cells, indicator by indicator."""

    def __init__(self, cs, units, groups, V, n, thr, primary, w=None, stage=None):
        self.cs, self.n, self.thr, self.primary = cs, n, thr, primary
        self.stage = (cs.c_by > 0).astype(np.int64) if stage is None else stage
        self.breaks = 0
        self.clean: dict[tuple, tuple] = {}
        self.attribute = np.zeros(len(n), dtype=bool)  # cells under the attribute rule
        self.fam = _Families(cs, units, groups, V.shape[1])
        self.families = [
            (li, b) for li in range(len(GEO_LEVELS)) for b in range(len(groups)) if li > 0 or b == 0
        ]
        self.units = units
        self.rows = [np.flatnonzero(V[:, i]) for i in range(V.shape[1])]
        self._cellm: dict[int, np.ndarray] = {}
        self.w = w
        self.weighable = NATIONAL[cs.c_level] & (thr > 1)
        if w is not None:
            scale = np.maximum(np.abs(w), 1e-300)
            self.weight_class = np.unique(
                np.round(np.log(scale) * 1e9).astype(np.int64), return_inverse=True
            )[1].ravel()
        order = np.argsort(cs.c_ind, kind="stable")
        self.cells_of = np.split(order, np.cumsum(np.bincount(cs.c_ind, minlength=V.shape[1]))[:-1])
        self.k_ind = np.ones(V.shape[1], dtype=np.int64)
        np.maximum.at(self.k_ind, cs.c_ind, thr)
        self.tested = 0

    def cell_matrix(self, i: int) -> np.ndarray:
        """Cell of each valid respondent of indicator ``i`` in every family (−1: none)."""
        if i not in self._cellm:
            rows = self.rows[i]
            cols = []
            for li, b in self.families:
                key = self.fam.row_keys(li, b)[rows]
                c = self.fam.cell(li, b, np.full(len(rows), i), key)
                cols.append(np.where(key >= 0, c, -1))
            self._cellm[i] = (
                np.stack(cols, axis=1) if cols else np.zeros((len(rows), 0), dtype=np.int64)
            )
        return self._cellm[i]

    def targets(
        self, i: int, system: _System, hidden: np.ndarray, upto: int = 0
    ) -> list[np.ndarray]:
        """Respondent sets (local positions) that the published cells determine but must not.

        Groups of fewer than the threshold's respondents, and the cells of
        stages ``≤ upto`` hidden by a primary rule — or hidden at all, for the
        indicators under the attribute rule (sensitive questions and their
        follow-ups: no hidden figure of theirs may be recomputed, a complement
        included). Cells of later stages are not published yet: taking them
        in would make the totals depend on the breakdowns asked for.
        """
        out = []
        for g in small_groups(system.ns, system.mass, int(self.k_ind[i])):
            out.append(np.flatnonzero(np.isin(system.atom, g)))
        # cells hidden by a primary rule must not be recomputable
        cellm = self.cell_matrix(i)
        on = cellm >= 0
        hid = np.zeros(cellm.shape, dtype=bool)
        c_on = cellm[on]
        guard = self.primary[c_on] | self.attribute[c_on]
        hid[on] = hidden[c_on] & guard & (self.n[c_on] > 0) & (self.stage[c_on] <= upto)
        r, f = np.nonzero(hid)
        if len(r):
            cells, inv = np.unique(cellm[r, f], return_inverse=True)
            inv = inv.ravel()
            sums = np.zeros((len(cells), system.zr.shape[1]))
            np.add.at(sums, inv, system.zr[r])
            sys_ = system.system
            for j in np.flatnonzero(recoverable(sums)):
                rows = np.sort(r[inv == j])
                if not self.primary[cells[j]] and self._is_published(sys_, rows):
                    continue  # the same respondents as a published cell: no secret
                out.append(rows)
        unique = {tuple(t.tolist()): t for t in out}
        # respondents, not atoms, decide the order: the same whatever splits the atoms
        return [unique[key] for key in sorted(unique, key=lambda t: (len(t), t))]

    @staticmethod
    def _is_published(system: _System, rows: np.ndarray) -> bool:
        """Whether these respondents are exactly those of a published cell."""
        atoms_, count = np.unique(system.atom[rows], return_counts=True)
        if not np.array_equal(count, system.mass[atoms_]):
            return False  # it cuts an atom: no published cell is that set
        key = tuple(np.round(system.probe[atoms_].sum(axis=0), 9))
        return key in system.published_keys

    def candidates(
        self, i: int, members: np.ndarray, allowed: np.ndarray, *, near: bool = True
    ) -> np.ndarray:
        """Return the allowed cells of ``i`` in a territory holding one of ``members``, by n."""
        cs = self.cs
        cand = np.flatnonzero(allowed & (cs.c_ind == i))
        if not len(cand) or not near:
            return cand[np.lexsort((cand, self.n[cand]))]
        rows = self.rows[i][members]
        close = np.zeros(len(cand), dtype=bool)
        for li, level in enumerate(GEO_LEVELS):
            at = cs.c_level[cand] == li
            if at.any():
                close[at] = np.isin(cs.c_unit[cand[at]], self.units[level][rows])
        cand = cand[close]
        return cand[np.lexsort((cand, self.n[cand]))]

    def classes(self, view: _View, cand: np.ndarray, allowed: np.ndarray, among) -> list:
        """Group candidate cells holding the same respondents (hidden together or useless).

        ``among``: the cells whose rows are in play (published cells, or those with
        a weighted row). A class with such a cell that may not be hidden is
        dropped: hiding the others would not change what the reader knows.
        """
        key = view.cell_key
        blocked = {key[c] for c in among if c in key and not allowed[c]}
        out: dict[tuple, list[int]] = {}
        for c in cand.tolist():
            if c in key and key[c] not in blocked:
                out.setdefault(key[c], []).append(c)
        return [np.array(v) for v in out.values()]

    def _closes(self, i, members, hidden, cells, make) -> _System | None:
        trial = hidden.copy()
        trial[cells] = True
        self.tested += 1
        s = make(trial)
        return None if s.determined(members) else s

    def block(self, i, members, hidden, allowed, view, make, among=None) -> tuple[list, _View]:
        """Cells to hide so that ``members`` is no longer determined.

        The class of cells (same respondents) with the smallest ``n`` whose
        hiding alone closes the leak, among the allowed cells of the
        territories holding the group; else classes are hidden one by one
        until it closes, then those not needed are shown again.
        """
        among = view.cell_key if among is None else among
        near = self.classes(view, self.candidates(i, members, allowed), allowed, among)
        cache: list = []

        def every() -> list:  # every allowed class of the indicator, by n (built when needed)
            if not cache:
                far = self.candidates(i, members, allowed, near=False)
                cache.append(self.classes(view, far, allowed, among))
            return cache[0]

        def national(cls) -> bool:
            return bool(NATIONAL[self.cs.c_level[cls]].all())

        # the national figures (France, its two zones) are the last complements tried: a
        # group that only they hold (syndicats without a région) is hidden as well by a
        # région or a zone of the same equation, found among the other cells by n
        has_national = any(national(c) for c in near)
        classes = near
        if has_national:
            local = [c for c in near if not national(c)]
            seen = {tuple(c.tolist()) for c in local}
            others = [c for c in every() if not national(c) and tuple(c.tolist()) not in seen]
            classes = local + others[: max(0, MAX_TESTS - len(local))]
            classes += [c for c in near if national(c)]
        for cls in classes[:MAX_TESTS]:
            closed = self._closes(i, members, hidden, cls, make)
            if closed is not None:
                return cls.tolist(), closed

        # sets of classes: without the national figures first (they are kept whenever a set
        # of other cells closes the leak), then with them
        def _local(pool):  # at most 2 × MAX_TESTS classes: each one tried is a new system
            return [c for c in pool if not national(c)][: 2 * MAX_TESTS]

        pools = (
            (_local(classes), _local(every()), classes, every())
            if has_national
            else (classes, every())
        )
        for pool in pools:
            chosen: list[np.ndarray] = []
            for cls in pool:
                chosen.append(cls)
                closed = self._closes(i, members, hidden, np.concatenate(chosen), make)
                if closed is not None:
                    for j in range(len(chosen) - 2, -1, -1):  # keep an irredundant set
                        rest = chosen[:j] + chosen[j + 1 :]
                        again = self._closes(i, members, hidden, np.concatenate(rest), make)
                        if again is not None:
                            chosen, closed = rest, again
                    return np.concatenate(chosen).tolist(), closed
        raise RuntimeError(
            f"Indicator {i}: a leak found by the audit cannot be closed (no cell left to "
            "hide). This is a bug: please report it."
        )

    def fix(self, i: int, hidden: np.ndarray, eligible: np.ndarray, upto: int = 0) -> list[int]:
        """Hide cells of indicator ``i`` until its audit is clean; return the cells hidden.

        The published cells are those of stages ``≤ upto``; only cells of stage
        ``upto`` that are ``eligible`` (breakdown cells: not pinned to their
        total) may be hidden. A leak that the earlier stages already hold alone
        — a cell of stage ``upto`` hidden by a primary rule that earlier
        figures determine — can only be closed by their cells: that breaks the
        rule that a stage never changes an earlier one, and is counted in
        ``breaks`` (none on the demo edition; tests check it).
        Hidden-cell decisions never depend on the weights (the atoms are those
        of the unweighted cells).
        """
        n, stage = self.n, self.stage
        added: list[int] = []

        # with a threshold of 5 or less, every group of fewer respondents has at most four
        # atoms however the weights split them: the system with the weighted rows finds the
        # same leaks, and the weighted step reuses it; above, the atoms must be the unweighted
        # ones so that the weights never change which cells are hidden
        with_w = self.w is not None and self.k_ind[i] <= 5

        def make(h, lower=False, weighted=False):
            pub = ~h & (n > 0) & ((stage < upto) if lower else (stage <= upto))
            return _System(self, i, pub, weighted=weighted).u

        system = make(hidden, weighted=with_w)
        while True:
            todo = self.targets(i, system, hidden, upto)
            if not todo:
                if with_w:
                    self.clean[(i, upto)] = (system.system, hidden[self.cells_of[i]].copy())
                return added
            members = todo[0]
            if upto > 0 and make(hidden, lower=True).determined(members):
                self.breaks += 1
                allowed = ~hidden & (n > 0) & (stage < upto)
                cells, _ = self.block(
                    i, members, hidden, allowed, system, lambda h: make(h, lower=True)
                )
                closed = None
            else:
                allowed = ~hidden & (n > 0) & (stage == upto)
                if upto > 0:
                    allowed &= eligible
                cells, closed = self.block(i, members, hidden, allowed, system, make)
            hidden[cells] = True
            added += cells
            system = closed if closed is not None else make(hidden)

    def weighted(self, i: int, hidden: np.ndarray, withheld_before: np.ndarray, upto: int = 0):
        """Return the published cells of stage ``upto`` of ``i`` whose weighted figures are hidden.

        A weighted figure reveals ``Σ w·y`` over the cell, and a reader who
        knows who answered can recompute the calibration weights: it is one
        more row of the audit (``w ⊙ 1_cell``). National and zone rows keep
        theirs while the audit with those rows stays clean; any cell keeps its
        own when its weighted row is a combination of the published unweighted
        cells (it then tells nothing more). Cells of earlier stages keep the
        decision ``withheld_before`` took for them.
        """
        cs, n, stage = self.cs, self.n, self.stage
        mine = cs.c_ind == i
        pub = ~hidden & (n > 0) & (stage <= upto)
        cached = self.clean.get((i, upto))
        if cached is not None and np.array_equal(cached[1], hidden[self.cells_of[i]]):
            full = cached[0]
        else:
            full = _System(self, i, pub)
        base = full.u
        withheld = np.ones(len(n), dtype=bool)
        withheld[full.w_cells] = False
        earlier = stage < upto
        withheld[earlier] |= withheld_before[earlier]

        def make(wh):
            return full.view(wh)

        system = make(withheld)
        while True:
            todo = self.targets(i, system, hidden, upto)
            if not todo:
                break
            members = todo[0]
            if base.determined(members):  # the unweighted audit ran first
                raise RuntimeError(
                    f"Indicator {i}: the weighted audit found a leak of the unweighted cells. "
                    "This is a bug: please report it."
                )
            free = ~withheld & (stage == upto)
            if not free[full.w_cells].any():
                free = ~withheld  # earlier stages alone leak: counted, as for the cells
                self.breaks += 1
            cells, system = self.block(
                i, members, withheld, free, system, make, among=full.w_cells.tolist()
            )
            withheld[cells] = True
        # cells whose weighted row is a combination of the published unweighted ones
        cellm = self.cell_matrix(i)
        r, f = np.nonzero(cellm >= 0)
        c = cellm[r, f]
        keep = pub[c] & (stage[c] == upto)
        r, c = r[keep], c[keep]
        cells, inv = np.unique(c, return_inverse=True)
        wz = self.w[self.rows[i][r], None] * base.zr[r]
        sums = np.zeros((len(cells), wz.shape[1]))
        size = np.zeros((len(cells), wz.shape[1]))
        np.add.at(sums, inv.ravel(), wz)
        np.add.at(size, inv.ravel(), np.abs(wz))
        implied = (np.abs(sums) <= 1e-9 * np.maximum(size, 1e-300)).all(axis=1)
        out = pub & mine & withheld & (stage == upto)
        out[cells[implied]] = False
        return out
