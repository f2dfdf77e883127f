"""Small-count protection of the cells of :func:`barometre_geo.aggregate`.

The rules are explained in :mod:`barometre_geo.protection.rules`. Order of work:

1. primary suppression (:func:`~barometre_geo.protection.primary_reasons`);
2. the nesting relations, totals first then breakdowns
   (:func:`~barometre_geo.protection.complementary`, complement relations);
3. the audit of every indicator over all its published cells
   (:mod:`barometre_geo.protection.audit`): while a group of fewer than its
   threshold's respondents, or a cell hidden by a primary rule, is determined
   by the published figures, one more cell is hidden — a total only when the
   leak is there with the totals alone, else a breakdown cell — and step 2
   runs again;
4. option rows of sensitive multiple-choice questions
   (:func:`~barometre_geo.protection.attribute.protect_option_rows`): the
   attribute rule per option, then the relations option by option;
5. weighted figures (:class:`_Audit.weighted`): kept on the national and
   zone rows while the audit with their weighted rows finds nothing, and on
   any cell where they add nothing to the unweighted figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stats.cells import CellSums, total_cells
from ..stats.units import GEO_LEVELS
from .attribute import build_checks, cell_sides, protect_option_rows, short
from .audit import NullSampler, atoms, recoverable, small_groups
from .relations import _Families, complement_unsafe, relations
from .rules import SUPPRESSION_REASONS, complementary, primary_reasons

__all__ = ["Protection", "protect"]

#: Stage of the audit's nested dissection for each level of ``GEO_LEVELS``.
_STAGE = np.array([0, 0, 0, 1, 2, 2])
#: Levels whose weighted figures may be published (zones and France).
_NATIONAL = np.array([lv in ("zone", "france") for lv in GEO_LEVELS])
#: Candidate cells tried per leak before falling back on the smallest one.
_MAX_TESTS = 12


@dataclass
class Protection:
    """Decisions per cell: hidden, reason code (−1 shown), weighted figures withheld.

    ``row_hidden`` / ``row_primary``: per measure row (``cs.m_*``), option rows
    of sensitive multiple-choice questions hidden alone (their cell stays
    published), and those of them hidden by the attribute rule itself.
    """

    hidden: np.ndarray
    reason: np.ndarray
    weighted_hidden: np.ndarray
    info: dict
    row_hidden: np.ndarray
    row_primary: np.ndarray


class _Relations:
    """The nesting relations of both phases, computed once, applied to any hidden set."""

    def __init__(self, cs: CellSums, units, groups, V, n, thr, sens, loose, side=None, t_cell=None):
        self.cs, self.n, self.groups = cs, n, groups
        self.side = side  # answers away from each end of sensitive checks (attribute rule)
        t_cell = np.zeros(len(n), dtype=np.int64) if t_cell is None else t_cell
        self.tot = total_cells(cs) if (cs.c_by > 0).any() else None
        self.phases = []
        for phase in (1, 2):
            if phase == 2 and self.tot is None:
                break
            rel, cell, par = relations(cs, units, groups, V, phase=phase)
            n_rel = int(rel.max()) + 1 if len(rel) else 0
            k_rel = np.zeros(n_rel, dtype=np.int64)
            k_rel[rel] = thr[cell]
            res_hidden = np.ones(n_rel, dtype=bool)
            res_hidden[rel] = ~(loose & ~sens[cell])
            t_rel = np.zeros(n_rel, dtype=np.int64)
            t_rel[rel] = t_cell[cell]
            self.phases.append((rel, cell, par, k_rel, res_hidden, t_rel))
        if self.tot is not None:
            t = np.maximum(self.tot, 0)
            # a breakdown cell holding all its territory's answers is its total: same fate
            self.pinned = (cs.c_by > 0) & (self.tot >= 0) & (n == n[t])
            self.eligible = (cs.c_by > 0) & ~self.pinned

    def phases_of(self, only: np.ndarray | None) -> list[tuple]:
        """Membership arrays of both phases, restricted to some indicators (ids compacted)."""
        if only is None:
            return self.phases
        keep_ind = np.zeros(int(self.cs.c_ind.max()) + 1, dtype=bool)
        keep_ind[only] = True
        out = []
        for rel, cell, par, k_rel, res_hidden, t_rel in self.phases:
            m = keep_ind[self.cs.c_ind[cell]]
            ids, new = np.unique(rel[m], return_inverse=True)
            out.append((new.ravel(), cell[m], par[m], k_rel[ids], res_hidden[ids], t_rel[ids]))
        return out

    def run(self, hidden: np.ndarray, info: dict, only: np.ndarray | None = None) -> np.ndarray:
        """Hide complements until every relation is safe (see ``protection``).

        ``only``: indicators whose cells changed (relations never mix indicators).
        """
        n, cs = self.n, self.cs
        phases = self.phases_of(only)
        tot = self.tot
        if tot is not None and only is not None:
            tot = np.where(np.isin(cs.c_ind, only), tot, -1)
        for phase, (rel, cell, par, k_rel, res_hidden, t_rel) in enumerate(phases, start=1):
            eligible = None
            if phase == 2:
                hidden = hidden | (self.pinned & hidden[np.maximum(self.tot, 0)])
                eligible = self.eligible
            if not len(rel):
                continue
            while True:
                hidden, step = complementary(
                    n,
                    hidden,
                    rel,
                    cell,
                    par,
                    k_rel,
                    eligible=eligible,
                    residual_hidden=res_hidden,
                    side=self.side,
                    t_rel=t_rel,
                )
                for key in ("rounds", "added", "forced"):
                    info[key] += step[key]
                if phase == 1:
                    break
                # sums of geographic relations over the groups hidden in a parent
                more = complement_unsafe(
                    cs,
                    hidden,
                    n,
                    phases[0][:3],
                    tot,
                    [g[1] for g in self.groups],
                    phases[0][3],
                    eligible,
                    checked=phases[0][4],
                )
                more = more[~hidden[more]]
                if not len(more):
                    break
                hidden[more] = True
                info["added"] += len(more)
        return hidden


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
        stage = _STAGE[audit.cs.c_level[ucell]]
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
            stage = np.r_[stage, np.full(len(self.w_cells), _STAGE.max())]
        # cells with the same respondents are one row for the reader: key them
        probe = np.random.default_rng(0).normal(size=(shape[1], 2))
        keys = map(tuple, np.round(m[: len(ucell)] @ probe, 9))
        self.cell_key = dict(zip(ucell.tolist(), keys, strict=True))
        self.n_rows = len(ucell)
        self.seed = i
        self.sampler = NullSampler(m, stage, seed=i)
        self.u = self.view()

    def view(self, withheld: np.ndarray | None = None) -> _View:
        """Sample without the weighted rows (``withheld`` None), or without those of some cells."""
        w_rows = self.n_rows + np.arange(len(self.w_cells))
        if withheld is not None:
            w_rows = w_rows[withheld[self.w_cells]]
        return _View(self, self.sampler.samples(drop=w_rows if len(w_rows) else None))


class _Audit:
    """Exact disclosure audit of the published cells, indicator by indicator."""

    def __init__(self, cs: CellSums, units, groups, V, n, thr, primary, w=None):
        self.cs, self.n, self.thr, self.primary = cs, n, thr, primary
        self.fam = _Families(cs, units, groups, V.shape[1])
        self.families = [
            (li, b) for li in range(len(GEO_LEVELS)) for b in range(len(groups)) if li > 0 or b == 0
        ]
        self.units = units
        self.rows = [np.flatnonzero(V[:, i]) for i in range(V.shape[1])]
        self._cellm: dict[int, np.ndarray] = {}
        self.w = w
        self.weighable = _NATIONAL[cs.c_level] & (thr > 1)
        if w is not None:
            scale = np.maximum(np.abs(w), 1e-300)
            self.weight_class = np.unique(
                np.round(np.log(scale) * 1e9).astype(np.int64), return_inverse=True
            )[1].ravel()
        order = np.argsort(cs.c_ind, kind="stable")
        self.cells_of = np.split(order, np.cumsum(np.bincount(cs.c_ind, minlength=V.shape[1]))[:-1])
        self.clean: dict[int, tuple] = {}
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

    def targets(self, i: int, system: _System, hidden: np.ndarray) -> list[np.ndarray]:
        """Respondent sets (local positions) that the published cells determine but must not."""
        out = []
        for g in small_groups(system.ns, system.mass, int(self.k_ind[i])):
            out.append(np.flatnonzero(np.isin(system.atom, g)))
        # cells hidden by a primary rule must not be recomputable
        cellm = self.cell_matrix(i)
        on = cellm >= 0
        hid = np.zeros(cellm.shape, dtype=bool)
        c_on = cellm[on]
        hid[on] = hidden[c_on] & self.primary[c_on] & (self.n[c_on] > 0)
        r, f = np.nonzero(hid)
        if len(r):
            cells, inv = np.unique(cellm[r, f], return_inverse=True)
            sums = np.zeros((len(cells), system.zr.shape[1]))
            np.add.at(sums, inv.ravel(), system.zr[r])
            for j in np.flatnonzero(recoverable(sums)):
                out.append(np.sort(r[inv.ravel() == j]))
        unique = {tuple(t.tolist()): t for t in out}
        return list(unique.values())

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
        cand = self.candidates(i, members, allowed)
        classes = self.classes(view, cand, allowed, among)
        for cls in classes[:_MAX_TESTS]:
            closed = self._closes(i, members, hidden, cls, make)
            if closed is not None:
                return cls.tolist(), closed
        every = self.classes(view, self.candidates(i, members, allowed, near=False), allowed, among)
        for pool in (classes, every):
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

    def fix(self, i: int, hidden: np.ndarray, eligible: np.ndarray) -> list[int]:
        """Hide cells of indicator ``i`` until its audit is clean; return the cells hidden.

        ``eligible`` marks the breakdown cells that may be hidden (not pinned to
        their total). A leak present with the totals alone hides totals.
        """
        n, cs = self.n, self.cs
        added: list[int] = []

        def make(h, totals=False, weighted=False):
            pub = ~h & (n > 0) & ((cs.c_by == 0) if totals else True)
            return _System(self, i, pub, weighted=weighted).u

        system = make(hidden, weighted=True)
        while True:
            todo = self.targets(i, system, hidden)
            if not todo:
                self.clean[i] = (system.system, hidden[self.cells_of[i]])
                return added
            members = todo[0]
            if make(hidden, totals=True).determined(members):
                allowed = ~hidden & (n > 0) & (cs.c_by == 0)
                cells, _ = self.block(i, members, hidden, allowed, system, lambda h: make(h, True))
                closed = None
            else:
                allowed = ~hidden & (n > 0) & eligible
                cells, closed = self.block(i, members, hidden, allowed, system, make)
            hidden[cells] = True
            added += cells
            system = closed if closed is not None else make(hidden)

    def weighted(self, i: int, hidden: np.ndarray) -> np.ndarray:
        """Return the published cells of indicator ``i`` whose weighted figures are withheld.

        A weighted figure reveals ``Σ w·y`` over the cell, and a reader who
        knows who answered can recompute the calibration weights: it is one
        more row of the audit (``w ⊙ 1_cell``). National and zone rows keep
        theirs while the audit with those rows stays clean; any cell keeps its
        own when its weighted row is a combination of the published unweighted
        cells (it then tells nothing more).
        """
        cs, n = self.cs, self.n
        mine = cs.c_ind == i
        pub = ~hidden & (n > 0)
        cached = self.clean.get(i)
        if (
            cached is not None
            and cached[0].has_w
            and np.array_equal(cached[1], hidden[self.cells_of[i]])
        ):
            full = cached[0]
        else:
            full = _System(self, i, pub)
        base = full.u
        withheld = np.ones(len(n), dtype=bool)
        withheld[full.w_cells] = False

        def make(wh):
            return full.view(wh)

        system = make(withheld)
        while True:
            todo = self.targets(i, system, hidden)
            if not todo:
                break
            members = todo[0]
            if base.determined(members):  # the unweighted audit ran first
                raise RuntimeError(
                    f"Indicator {i}: the weighted audit found a leak of the unweighted cells. "
                    "This is a bug: please report it."
                )
            cells, system = self.block(
                i, members, withheld, ~withheld, system, make, among=full.w_cells.tolist()
            )
            withheld[cells] = True
        # cells whose weighted row is a combination of the published unweighted ones
        cellm = self.cell_matrix(i)
        r, f = np.nonzero(cellm >= 0)
        c = cellm[r, f]
        keep = pub[c]
        r, c = r[keep], c[keep]
        cells, inv = np.unique(c, return_inverse=True)
        wz = self.w[self.rows[i][r], None] * base.zr[r]
        sums = np.zeros((len(cells), wz.shape[1]))
        size = np.zeros((len(cells), wz.shape[1]))
        np.add.at(sums, inv.ravel(), wz)
        np.add.at(size, inv.ravel(), np.abs(wz))
        implied = (np.abs(sums) <= 1e-9 * np.maximum(size, 1e-300)).all(axis=1)
        out = pub & mine & withheld
        out[cells[implied]] = False
        return out


def protect(
    cs: CellSums,
    plans,
    units,
    groups,
    V,
    *,
    k,
    k_sensitive,
    mode,
    w=None,
    t_sensitive: int = 0,
    multiple: list[bool] | None = None,
    follows: list[bool] | None = None,
) -> Protection:
    """Primary, complementary and audit-driven suppression of every cell (module docstring).

    ``t_sensitive``: attribute threshold of sensitive indicators (0: off);
    ``multiple[i]``: plan ``i`` is a multiple-choice question (its option rows
    are checked and hidden one by one); ``follows[i]``: plan ``i`` is asked
    only after a given answer to a sensitive question ("types of attack" after
    "victim of an attack"): its ``n`` counts that answer, so its cells need
    ``t`` respondents outside it (``respondents − n ≥ t``, the published
    ``respondents`` being those of the filter's cell too). Primary rule only:
    a difference between a published parent and its published children is
    not checked for it.
    """
    from ..stats.units import GEO_LEVELS as levels

    n = np.rint(cs.c_sums[:, 2]).astype(np.int64)
    sens = np.array([p.sensitive for p in plans])[cs.c_ind]
    level_names = np.array(levels, dtype=object)[cs.c_level]
    pub_level = np.where(level_names == "zone", "france", level_names)
    allowed = np.zeros(len(n), dtype=bool)
    for i, p in enumerate(plans):
        m = cs.c_ind == i
        allowed[m] = np.isin(pub_level[m], list(p.levels))
    primary = primary_reasons(
        n, level_names, sens, allowed, k=k, k_sensitive=k_sensitive, mode=mode
    )
    loose = mode == "restricted"
    thr = np.where(sens, k_sensitive, 1 if loose else k)
    audit = _Audit(cs, units, groups, V, n, thr, primary != "", w)
    # attribute rule of sensitive indicators: t answers away from each end
    follow = np.zeros(len(n), dtype=bool)
    if follows is not None:
        follow = np.asarray(follows, dtype=bool)[cs.c_ind]
    t_cell = np.where(sens | follow, t_sensitive, 0).astype(np.int64)
    side, option_checks = None, []
    if t_sensitive > 0 and (sens.any() or follow.any()):
        first = np.r_[0, np.cumsum([len(p.values) for p in plans])[:-1]]
        multiple = [False] * len(plans) if multiple is None else multiple
        checks = build_checks(plans, multiple, first)
        side, option_checks = cell_sides(checks, audit.cell_matrix, len(n))
        primary[(primary == "") & (n > 0) & short(side, t_cell)] = "attribute_sensitive"
        # a follow-up's own cell: respondents outside the filter's answer (primary rule
        # only: the relations are built on valid answers, which do not add up to them)
        outside = np.rint(cs.c_sums[:, 0]).astype(np.int64) - n
        primary[(primary == "") & follow & (n > 0) & (outside < t_cell)] = "attribute_sensitive"
        audit.primary = primary != ""
    hidden = primary != ""
    info = {"rounds": 0, "added": 0, "forced": 0, "audit_added": 0, "audit_rounds": 0}
    rel = _Relations(cs, units, groups, V, n, thr, sens, loose, side=side, t_cell=t_cell)
    hidden = rel.run(hidden, info)
    info["complementary_before_audit"] = int((hidden & (primary == "")).sum())
    eligible = rel.eligible if rel.tot is not None else np.zeros(len(n), dtype=bool)
    todo = np.arange(len(plans))
    while len(todo):
        info["audit_rounds"] += 1
        before = hidden.copy()
        added = [c for i in todo for c in audit.fix(int(i), hidden, eligible)]
        if not added:
            break
        info["audit_added"] += len(added)
        changed = np.unique(cs.c_ind[hidden & ~before])
        hidden = rel.run(hidden, info, only=changed)
        todo = np.unique(cs.c_ind[hidden & ~before])
    info["audit_tests"] = audit.tested
    row_hidden = row_primary = np.zeros(len(cs.m_cell), dtype=bool)
    if option_checks:
        row_hidden, row_primary, more = protect_option_rows(option_checks, rel, hidden, n, t_cell)
        info.update(more)
    weighted_hidden = np.zeros(len(n), dtype=bool)
    if w is not None:
        protected = np.flatnonzero(np.bincount(cs.c_ind, weights=thr > 1) > 0)
        for i in protected:
            weighted_hidden |= audit.weighted(int(i), hidden)
    names = list(SUPPRESSION_REASONS)
    reason = np.full(len(n), -1, dtype=np.int64)
    for j, name in enumerate(names):
        reason[primary == name] = j
    reason[hidden & (reason < 0)] = names.index("complementary")
    return Protection(
        hidden=hidden,
        reason=reason,
        weighted_hidden=weighted_hidden,
        info=info,
        row_hidden=row_hidden,
        row_primary=row_primary,
    )
