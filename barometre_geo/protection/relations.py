"""Linear relations between cells, found from the data, for complementary suppression.

A *family* of cells is one (level, breakdown): e.g. départements × profile.
For a child family and a parent family, a child cell *nests* in a parent cell
when every valid answer of the child is also in the parent — checked on the
answers themselves (per indicator), not only on the map: an EPCI straddling
two départements nests in one of them when all its respondents live there,
and a stratum cell nests in the "agent" cell when all its respondents are
agents. Each parent cell and the children of one family nesting in it form
the relation ``parent = Σ children + residual``.

EPCI cells whose respondents spread over several départements (régions) join
those into groups: one multi-parent relation ``Σ départements = Σ EPCI +
residual`` per connected group.

Families compared: adjacent levels of the same breakdown (commune in EPCI and
in département, EPCI in département, département in région, région in zone,
zone in France — the other nestings are chains of these), a département or a
région inside an EPCI (the Métropole du Grand Paris holds every respondent of
the Val-de-Marne when its council did not answer), and, at one level, each
breakdown's groups inside the total and inside the groups of another
breakdown. Commune cells are children of totals only: a commune answers once
per wave, so any commune cell lies in exactly one group of each breakdown.
"""

from __future__ import annotations

import numpy as np

from ..stats.cells import CellSums
from ..stats.units import GEO_LEVELS

__all__ = ["complement_unsafe", "relations"]

_BIG = np.iinfo(np.int64).max
#: Geographic nestings checked directly; the others follow by chaining them.
_ADJACENT = {
    ("commune", "epci"),
    ("commune", "departement"),
    ("epci", "departement"),
    ("departement", "region"),
    ("region", "zone"),
    ("zone", "france"),
}
#: An EPCI straddling départements may hold all the respondents of one of them.
_UPWARD = {("departement", "epci"), ("region", "epci")}


class _Families:
    """Row keys and cell lookup of each (level, breakdown) family."""

    def __init__(self, cs: CellSums, units: dict, groups: list, n_ind: int):
        self.cs = cs
        self.units = units
        self.groups = groups
        self.n_ind = n_ind
        self._lookup: dict = {}
        self._size: dict = {}

    def size(self, level: int, by: int) -> int:
        """Return the number of keys (units × groups) of a family."""
        if level not in self._size:
            at = self.cs.c_unit[self.cs.c_level == level]
            rows = self.units[GEO_LEVELS[level]]
            self._size[level] = 1 + max(int(rows.max()), int(at.max()) if len(at) else 0)
        return self._size[level] * self.groups[by][1]

    def row_keys(self, level: int, by: int) -> np.ndarray:
        u = self.units[GEO_LEVELS[level]]
        g, n_g = self.groups[by]
        return np.where((u >= 0) & (g >= 0), u * n_g + g, -1)

    def cell(self, level: int, by: int, ind: np.ndarray, key: np.ndarray) -> np.ndarray:
        """Cell index of (indicator, key) in a family (−1 if absent)."""
        if (level, by) not in self._lookup:
            cs = self.cs
            m = np.flatnonzero((cs.c_level == level) & (cs.c_by == by))
            n_g = self.groups[by][1]
            k = cs.c_ind[m] * self.size(level, by) + cs.c_unit[m] * n_g + cs.c_group[m]
            order = np.argsort(k)
            self._lookup[(level, by)] = (k[order], m[order])
        sk, cells = self._lookup[(level, by)]
        want = ind * self.size(level, by) + key
        if not len(sk):
            return np.full(len(want), -1)
        pos = np.minimum(np.searchsorted(sk, want), len(sk) - 1)
        return np.where(sk[pos] == want, cells[pos], -1)


def _nesting(fam: _Families, V: np.ndarray, f1, f2):
    """Child and parent cells of the children of ``f1`` nesting in ``f2`` cells.

    Also returns the (indicator, child key) of children spreading over several
    parents (for the multi-parent groups).
    """
    k1, k2 = fam.row_keys(*f1), fam.row_keys(*f2)
    rows = np.flatnonzero(k1 >= 0)
    empty = np.empty(0, dtype=np.int64)
    if not len(rows):
        return empty, empty, (empty, empty, rows)
    rows = rows[np.argsort(k1[rows], kind="stable")]
    ks = k1[rows]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    v = V[rows]
    k2r = k2[rows][:, None]
    lo = np.minimum.reduceat(np.where(v, k2r, _BIG), starts, axis=0)
    hi = np.maximum.reduceat(np.where(v, k2r, -2), starts, axis=0)
    seen = hi > -2
    j, i = np.nonzero(seen & (lo == hi) & (lo >= 0))
    child = fam.cell(*f1, i, ks[starts][j])
    parent = fam.cell(*f2, i, lo[j, i])
    ok = (child >= 0) & (parent >= 0)
    js, is_ = np.nonzero(seen & (lo != hi) & (lo >= 0))
    return child[ok], parent[ok], (is_, ks[starts][js], rows)


def relations(
    cs: CellSums,
    units: dict,
    groups: list,
    V: np.ndarray,
    *,
    phase: int,
    skip_commune_children: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Membership ``(relation, cell, is_parent)`` of the relations of one phase.

    ``phase=1``: relations among total cells; ``phase=2``: every relation
    involving a breakdown cell. ``V`` is the (rows × indicators) valid-answer
    mask; ``units``/``groups`` are the rows' units and breakdown groups.
    """
    fam = _Families(cs, units, groups, V.shape[1])
    n_by = len(groups)
    families = [(li, b) for li in range(len(GEO_LEVELS)) for b in range(n_by)]
    families = [f for f in families if f[0] > 0 or f[1] == 0]  # no breakdown of communes
    rels: list[np.ndarray] = []
    mem_cell: list[np.ndarray] = []
    mem_par: list[np.ndarray] = []
    n_rel = 0

    def add(ids_par, par, ids_chi, chi) -> None:
        nonlocal n_rel
        both = np.concatenate([ids_par, ids_chi])
        if not len(both):
            return
        uniq, inv = np.unique(both, return_inverse=True)
        rels.append(n_rel + inv.ravel())
        mem_cell.append(np.concatenate([par, chi]))
        mem_par.append(np.r_[np.ones(len(par), bool), np.zeros(len(chi), bool)])
        n_rel += len(uniq)

    n_cells = len(cs.c_ind)
    spread: dict = {}
    for f1 in families:
        for f2 in families:
            (l1, b1), (l2, b2) = f1, f2
            pair = (GEO_LEVELS[l1], GEO_LEVELS[l2])
            if f1 == f2 or (l2 < l1 and pair not in _UPWARD) or (l2 == l1 and b1 == 0):
                continue  # a total inside a group of its own territory is that group
            if l2 != l1 and (b1 != b2 or pair not in _ADJACENT | _UPWARD):
                continue  # implied by chains of the relations kept
            if (b1 != 0 or b2 != 0) != (phase == 2):
                continue
            if l1 == 0 and skip_commune_children and b2 != 0:
                continue
            child, parent, multi = _nesting(fam, V, f1, f2)
            par = np.unique(parent)
            add(par, par, parent, child)
            if GEO_LEVELS[l1] == "epci" and GEO_LEVELS[l2] == "departement":
                spread[(f1, f2)] = (child, parent, multi)
    # EPCI cells spread over several départements (régions): multi-parent groups
    for (f1, f2), (child, parent, (ind, key, _)) in spread.items():
        if not len(ind):
            continue
        _groups(fam, V, f1, f2, child, parent, ind, key, add, n_cells)
    if not rels:
        e = np.empty(0, dtype=np.int64)
        return e, e, np.empty(0, dtype=bool)
    return (
        np.concatenate(rels).astype(np.int64),
        np.concatenate(mem_cell).astype(np.int64),
        np.concatenate(mem_par),
    )


def _groups(fam, V, f1, f2, child, parent, ind, key, add, n_cells) -> None:
    """Add one relation per group of parent cells joined by spreading EPCI cells."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    k1, k2 = fam.row_keys(*f1), fam.row_keys(*f2)
    # parent cells touched by each spreading child cell
    spreading = fam.cell(*f1, ind, key)
    pairs_c, pairs_p = [], []
    for c, i, kk in zip(spreading, ind, key, strict=True):
        rows = np.flatnonzero((k1 == kk) & V[:, i])
        pk = np.unique(k2[rows])
        pc = fam.cell(*f2, np.full(len(pk), i), pk)
        pairs_c.append(np.full(len(pc), c))
        pairs_p.append(pc)
    pc_all = np.concatenate(pairs_p)
    cc_all = np.concatenate(pairs_c)
    # graph on parent cells: consecutive parents of one spreading child are joined
    a, b = [], []
    for c in np.unique(cc_all):
        ps = pc_all[cc_all == c]
        a.append(ps[:-1])
        b.append(ps[1:])
    a, b = np.concatenate(a), np.concatenate(b)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n_cells, n_cells))
    _, label = connected_components(graph, directed=False)
    par = np.unique(pc_all)
    # children: the spreading cells, and the cells nesting in one parent of a group
    in_group = np.isin(parent, par)
    kids = np.concatenate([np.unique(cc_all), child[in_group]])
    kid_label = np.concatenate(
        [label[pc_all[np.unique(cc_all, return_index=True)[1]]], label[parent[in_group]]]
    )
    add(label[par], par, kid_label, kids)


def complement_unsafe(
    cs: CellSums,
    hidden: np.ndarray,
    n: np.ndarray,
    geo_rel: tuple[np.ndarray, np.ndarray, np.ndarray],
    total_of: np.ndarray,
    n_groups: list[int],
    k_rel: np.ndarray,
    eligible: np.ndarray,
    checked: np.ndarray | None = None,
    only_by: list[int] | None = None,
    fixed: np.ndarray | None = None,
) -> np.ndarray:
    """Breakdown cells to hide so that no *complement* relation isolates a small group.

    With a territory's total and some of its groups published, the sum of its
    hidden groups and of its respondents without a group (NA) is known. The
    same holds in its parent, so for the set ``S`` of groups hidden in a
    parent, ``parent(S) = Σ child(S) + residual(S)`` is a relation the reader
    can use — a sum of the geographic relations of the total and of the
    published groups. Children whose ``S`` part is not known contribute their
    hidden cells of ``S``; the relation is unsafe when those and the residual
    hold between 1 and k − 1 answers, or are a single hidden cell (a hidden
    parent counts as one more unknown, and its relation is checked too, as it
    may be learnt from a coarser level). Returns the
    cells to hide (the smallest published group cell of ``S`` in an unknown
    child, else of another group in a known child, else of another group in
    the parent). ``only_by``: the breakdowns to check (default all).
    ``fixed``: cells decided elsewhere (earlier stages, cells pinned to their
    total), never chosen: the next candidate is taken instead.
    """
    rel, cell, is_par = geo_rel
    out: list[np.ndarray] = []
    if not len(rel):
        return np.empty(0, dtype=np.int64)
    n_rel = int(rel.max()) + 1
    for b in range(1, len(n_groups)):
        if only_by is not None and b not in only_by:
            continue
        G = n_groups[b] + 1  # last column: respondents without a group (NA)
        brk = np.flatnonzero((cs.c_by == b) & (total_of >= 0))
        tots = np.unique(total_of[brk])
        row_of = np.full(len(n), -1, dtype=np.int64)
        row_of[tots] = np.arange(len(tots))
        T = len(tots)
        ng = np.zeros((T, G))
        hid = np.zeros((T, G), dtype=bool)
        cid = np.full((T, G), -1, dtype=np.int64)
        r_, g_ = row_of[total_of[brk]], cs.c_group[brk]
        ng[r_, g_] = n[brk]
        hid[r_, g_] = hidden[brk]
        cid[r_, g_] = brk
        ng[:, -1] = np.maximum(n[tots] - ng[:, :-1].sum(axis=1), 0)
        hid[:, -1] = True
        H = hid & (ng > 0)
        m = row_of[cell] >= 0
        if not m.any():
            continue
        # children without breakdown cells (communes): every child is unknown and the
        # parent's breakdown relation already holds that mass to k — nothing to add
        no_groups = np.bincount(rel, weights=~is_par & ~m, minlength=n_rel) > 0
        r, c, p = rel[m], cell[m], is_par[m]
        t = row_of[c]
        # S: groups hidden in some parent; parents must all have their total published
        S = np.zeros((n_rel, G), dtype=bool)
        FULL = np.zeros((n_rel, G), dtype=bool)
        np.logical_or.at(S, r[p], H[t[p]])
        np.logical_or.at(FULL, r[p], ng[t[p]] > 0)
        par_hidden = np.bincount(r[p], weights=hidden[c[p]], minlength=n_rel) > 0
        has_par = np.bincount(r[p], minlength=n_rel) > 0
        active = has_par & ~no_groups & S.any(axis=1) & (S != FULL).any(axis=1)
        if checked is not None:
            active &= checked
        if not active.any():
            continue
        Sr = S[r]
        known = ~hidden[c] & ~(H[t] & ~Sr).any(axis=1)
        ch = ~p
        unk = ch & ~known
        mass_c = np.where(unk, (ng[t] * (H[t] & Sr)).sum(axis=1), 0.0)
        items_c = np.where(unk, (H[t] & Sr).sum(axis=1), 0)
        s_mass = (ng[t] * Sr).sum(axis=1)
        res = np.bincount(r, weights=np.where(p, s_mass, -s_mass), minlength=n_rel)
        res = np.rint(res)
        M = np.bincount(r, weights=mass_c, minlength=n_rel) + res
        U = np.bincount(r, weights=items_c, minlength=n_rel) + (res > 0) + par_hidden
        # a hidden parent's S part may be learnt elsewhere: same mass rule if it is big
        big = np.bincount(r, weights=np.where(p, s_mass, 0), minlength=n_rel) >= k_rel
        unsafe = active & ((big & (M > 0) & (M < k_rel)) | (U == 1))
        if not unsafe.any():
            continue
        # candidates: (a) published cells of S in unknown children, (b) other groups
        # of known children, (c) other groups of the parent (S grows to the total);
        # smallest n first, eligible before forced
        cand_rel, cand_cell, cand_key = [], [], []
        # a known child only helps if its hidden cells of S hold answers
        gain = (ng[t] * (H[t] & Sr)).sum(axis=1) > 0
        for g in range(G - 1):
            cc = cid[t, g]
            ok = unsafe[r] & (cc >= 0) & ~hidden[np.maximum(cc, 0)] & (ng[t, g] > 0)
            if fixed is not None:
                ok &= ~fixed[np.maximum(cc, 0)]
            a = ok & ch & unk & Sr[:, g]
            bb = ok & ch & known & gain & ~Sr[:, g]
            pc = ok & p & ~Sr[:, g]
            for mask, pr in ((a, 0), (bb, 1), (pc, 2)):
                idx = np.flatnonzero(mask)
                cand_rel.append(r[idx])
                cand_cell.append(cc[idx])
                cand_key.append(pr + 3 * ~eligible[cc[idx]])
        cr = np.concatenate(cand_rel)
        if not len(cr):
            continue
        cc = np.concatenate(cand_cell)
        pr = np.concatenate(cand_key)
        order = np.lexsort((cc, n[cc], pr, cr))
        cr, cc = cr[order], cc[order]
        first = np.flatnonzero(np.r_[True, cr[1:] != cr[:-1]])
        out.append(cc[first])
    return np.unique(np.concatenate(out)) if out else np.empty(0, dtype=np.int64)
