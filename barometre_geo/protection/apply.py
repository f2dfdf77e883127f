"""Small-count protection of the cells of :func:`barometre_geo.aggregate`.

The rules are explained in :mod:`barometre_geo.protection.rules`.

One protected set per edition
-----------------------------
Every publication of an edition — the maps and GeoPackages (totals), the
tables of ``barometre-geo indicators`` with any ``--by``, the comparison
fiche — derives from the same decisions, whatever it asks for. The cells are
protected in *stages*, each seeing the cells of the stages before it as
published and final:

0. the totals of every level (the maps);
1. the built-in breakdowns (:data:`EDITION_BREAKDOWNS`: stratum, profile,
   type_label, kind), always all four together — ``by="stratum"`` computes
   them all and returns its own rows;
2. any other breakdown (a column of the user's data), on top of those, one
   stage each in the order the caller gives (``aggregate``'s ``earlier_by``,
   then ``by``): a later custom table never changes an earlier one.

A stage hides only its own cells: the totals never depend on the breakdowns
asked for, the built-in breakdowns never on a custom one, so a cell hidden in
one publication is hidden in every other. A leak that earlier figures hold
alone can only be closed by earlier cells; it would break that rule and is
counted (``info["consistency_breaks"]``; none on the demo edition). A
breakdown cell holding all the answers of its total (or of an earlier cell it
nests in) is *pinned* to it: it shares that cell's fate, is never chosen as a
complement (hiding it would hide nothing), and a relation left unsafe only by
pinned and earlier cells takes another complement or is closed as earlier
stages left it.

A follow-up question (``asked_if``: types of attack after "victim") is
protected with its filter: its ``n`` counts the filter's answer, so each of
its cells is hidden wherever the filter's cell is (``info["linked"]``), then
its own relations and audit run again.

Order of work, at each stage: the nesting relations
(:func:`~barometre_geo.protection.complementary`, complement relations); the
exact audit of every indicator over all the cells published so far
(:mod:`barometre_geo.protection.leaks`), then the relations again, until
nothing is determined; the follow-ups hidden with their filters, and again.
Then the option rows of sensitive multiple-choice questions
(:func:`~barometre_geo.protection.attribute.protect_option_rows`) and the
weighted figures (:meth:`~barometre_geo.protection.leaks._Audit.weighted`),
stage by stage too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stats.cells import CellSums, total_cells
from ..stats.prepare import BUILTIN_BY
from ..stats.units import GEO_LEVELS
from .attribute import build_checks, cell_sides, protect_option_rows, short
from .leaks import _Audit
from .relations import complement_unsafe, relations
from .rules import SUPPRESSION_REASONS, complementary, primary_reasons

__all__ = ["EDITION_BREAKDOWNS", "Protection", "protect"]

#: The built-in breakdowns, always protected together (stage 1).
EDITION_BREAKDOWNS: tuple[str, ...] = BUILTIN_BY
#: Answers away from each end that a hidden part of a relation of a non-sensitive
#: indicator must hold (its homogeneity would pin its hidden cells).
T_OTHER = 1


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
    """The nesting relations of every stage, computed once, applied to any hidden set."""

    def __init__(
        self,
        cs: CellSums,
        units,
        groups,
        V,
        n,
        thr,
        sens,
        loose,
        stage,
        side=None,
        t_cell=None,
    ):
        self.cs, self.n, self.groups, self.stage = cs, n, groups, stage
        self.side = side  # answers away from each end of sensitive checks (attribute rule)
        self.resp = np.rint(cs.c_sums[:, 0]).astype(np.int64)
        t_cell = np.zeros(len(n), dtype=np.int64) if t_cell is None else t_cell
        self.tot = total_cells(cs) if (cs.c_by > 0).any() else None
        self.stages: dict[int, tuple] = {}
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
            st = np.zeros(n_rel, dtype=np.int64)  # a relation's stage: its latest cell's
            np.maximum.at(st, rel, stage[cell])
            arrays = (rel, cell, par, k_rel, res_hidden, t_rel)
            for s in np.unique(st):
                self.stages[int(s)] = _subset(arrays, st == s)
        self.geo = self.stages.get(0, _subset((np.empty(0, np.int64),) * 6, np.empty(0, bool)))
        if self.tot is not None:
            t = np.maximum(self.tot, 0)
            # a breakdown cell holding all its territory's respondents is its total: same fate
            held = _pin_key(n, self.resp)
            self.pinned = (cs.c_by > 0) & (self.tot >= 0) & (held == held[t])
            self.pin_to = t.copy()
            # likewise a cell of a later stage holding all the answers of an earlier cell it
            # nests in (a custom group equal to a stratum): hiding it would hide nothing
            for s_, (rel, cell, par, *_rest) in self.stages.items():
                if s_ == 0 or not len(rel):
                    continue
                n_par = np.bincount(rel, weights=par, minlength=int(rel.max()) + 1)
                single = n_par[rel] == 1
                parent = np.full(int(rel.max()) + 1, -1, dtype=np.int64)
                parent[rel[par & single]] = cell[par & single]
                p_of = parent[rel]
                same = ~par & (p_of >= 0) & ~self.pinned[cell]
                same &= (held[cell] == held[np.maximum(p_of, 0)]) & (stage[cell] > stage[p_of])
                self.pinned[cell[same]] = True
                self.pin_to[cell[same]] = p_of[same]
            self.eligible = (cs.c_by > 0) & ~self.pinned

    def of(self, s: int, only: np.ndarray | None = None) -> tuple:
        """Membership arrays of stage ``s``, restricted to some indicators (ids compacted)."""
        arrays = self.stages.get(s)
        if arrays is None:
            e = np.empty(0, dtype=np.int64)
            return (e, e, np.empty(0, bool), e, np.empty(0, bool), e)
        if only is None:
            return arrays
        keep_ind = np.zeros(int(self.cs.c_ind.max()) + 1, dtype=bool)
        keep_ind[only] = True
        return _subset(arrays, keep_ind[self.cs.c_ind[arrays[1]]], per_row=True)

    def run(self, hidden, info: dict, s: int = 0, only=None) -> np.ndarray:
        """Hide complements of stage ``s`` until every relation of it is safe.

        ``only``: indicators whose cells changed (relations never mix indicators).
        """
        n, cs = self.n, self.cs
        rel, cell, par, k_rel, res_hidden, t_rel = self.of(s, only)
        eligible = None
        frozen = self.stage < s
        if s > 0:
            hidden = hidden | (self.pinned & hidden[self.pin_to])
            eligible = self.eligible & (self.stage == s)
            # a pinned cell is its total: decided with it, never a complement (hiding it
            # alone would hide nothing, and would leave its relations recoverable)
            frozen = frozen | self.pinned
        if not len(rel):
            return hidden
        tot = self.tot
        if tot is not None and only is not None:
            tot = np.where(np.isin(cs.c_ind, only), tot, -1)
        geo = self.of(0, only)
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
                frozen=frozen if s > 0 else None,
                resp=self.resp,
            )
            for key in ("rounds", "added", "forced", "closed"):
                info[key] = info.get(key, 0) + step[key]
            if s == 0:
                break
            # sums of geographic relations over the groups hidden in a parent
            by_here = [b for b in range(len(self.groups)) if b > 0 and self.by_stage[b] == s]
            more = complement_unsafe(
                cs,
                hidden,
                n,
                geo[:3],
                tot,
                [g[1] for g in self.groups],
                geo[3],
                eligible,
                checked=geo[4],
                only_by=by_here,
                fixed=frozen,
            )
            more = more[~hidden[more] & ~frozen[more]]
            if not len(more):
                break
            hidden[more] = True
            info["added"] += len(more)
        return hidden


def _subset(arrays: tuple, mask: np.ndarray, per_row: bool = False) -> tuple:
    """Relations of a mask (over relations, or over membership rows), ids compacted."""
    rel, cell, par, k_rel, res_hidden, t_rel = arrays
    rows = mask if per_row else mask[rel] if len(rel) else np.zeros(0, bool)
    ids, new = np.unique(rel[rows], return_inverse=True)
    return (new.ravel(), cell[rows], par[rows], k_rel[ids], res_hidden[ids], t_rel[ids])


def _linked_cells(cs: CellSums, follows_of: list[int | None]) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (follow-up cell, filter cell) of the same territory and group."""
    if not any(f is not None for f in follows_of):
        e = np.empty(0, dtype=np.int64)
        return e, e
    n_lv = len(GEO_LEVELS)
    u = int(cs.c_unit.max()) + 1
    b = int(cs.c_by.max()) + 1
    g = int(cs.c_group.max()) + 2
    place = ((cs.c_level * u + cs.c_unit) * b + cs.c_by) * g + cs.c_group + 1
    del n_lv
    key = {}
    out_f, out_p = [], []
    filt = np.array([-1 if f is None else f for f in follows_of])
    for i in np.flatnonzero(filt >= 0):
        parent = filt[i]
        if parent not in key:
            cells = np.flatnonzero(cs.c_ind == parent)
            order = np.argsort(place[cells])
            key[parent] = (place[cells][order], cells[order])
        sk, sc = key[parent]
        mine = np.flatnonzero(cs.c_ind == i)
        if not len(sk) or not len(mine):
            continue
        pos = np.minimum(np.searchsorted(sk, place[mine]), len(sk) - 1)
        ok = sk[pos] == place[mine]
        out_f.append(mine[ok])
        out_p.append(sc[pos[ok]])
    if not out_f:
        e = np.empty(0, dtype=np.int64)
        return e, e
    return np.concatenate(out_f), np.concatenate(out_p)


def _guarded(t_cell: np.ndarray) -> np.ndarray:
    """Cells none of whose hidden figures may be recomputed: those under the attribute rule."""
    return np.asarray(t_cell) > 0


def _cell_stages(cs: CellSums, by_stage: list[int]) -> np.ndarray:
    """Stage of each cell: that of its breakdown (0 totals, 1 built-in, 2 other)."""
    return np.asarray(by_stage, dtype=np.int64)[cs.c_by]


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
    filters: list[int | None] | None = None,
    by_stage: list[int] | None = None,
) -> Protection:
    """Primary, complementary and audit-driven suppression of every cell (module docstring).

    ``t_sensitive``: attribute threshold of sensitive indicators (0: off);
    ``multiple[i]``: plan ``i`` is a multiple-choice question (its option rows
    are checked and hidden one by one); ``follows[i]``: plan ``i`` is asked
    only after a given answer to a sensitive question ("types of attack" after
    "victim of an attack"): its ``n`` counts that answer, so its cells need
    ``t`` respondents outside it (``respondents − n ≥ t``, the published
    ``respondents`` being those of the filter's cell too). ``filters[i]``:
    the plan of the question that ``i`` follows (``asked_if``), or None: its
    cells are hidden wherever the filter's are. ``by_stage[b]``: stage of
    breakdown ``b`` of ``groups`` (0 for the total, 1 built-in, 2 other).
    """
    from ..stats.units import GEO_LEVELS as levels

    n = np.rint(cs.c_sums[:, 2]).astype(np.int64)
    resp = np.rint(cs.c_sums[:, 0]).astype(np.int64)
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
    # a cell without a valid answer says that its few respondents all skipped the question
    skipped = (primary == "") & (n == 0) & (resp >= 1) & (resp < np.where(sens, k_sensitive, k))
    primary[skipped] = "small_n"
    by_stage = [0] + [1] * (len(groups) - 1) if by_stage is None else list(by_stage)
    stage = _cell_stages(cs, by_stage)
    audit = _Audit(cs, units, groups, V, n, thr, _secret(primary), w, stage=stage)
    # attribute rule of sensitive indicators: t answers away from each end
    follow = np.zeros(len(n), dtype=bool)
    if follows is not None:
        follow = np.asarray(follows, dtype=bool)[cs.c_ind]
    t_prim = np.where(sens | follow, t_sensitive, 0).astype(np.int64)
    audit.attribute = _guarded(t_prim)  # none of their hidden cells may be recomputed
    # the other indicators: no hidden part of a relation may be proven homogeneous
    t_other = 0 if loose else T_OTHER
    t_cell = np.where(sens | follow, t_sensitive, t_other).astype(np.int64)
    side, option_checks = None, []
    if (t_cell > 0).any():
        first = np.r_[0, np.cumsum([len(p.values) for p in plans])[:-1]]
        multiple = [False] * len(plans) if multiple is None else multiple
        checks = build_checks(plans, multiple, first, others=t_other > 0)
        side, option_checks = cell_sides(checks, audit.cell_matrix, len(n))
        primary[(primary == "") & (n > 0) & short(side, t_prim)] = "attribute_sensitive"
        # a follow-up's own cell: respondents outside the filter's answer (primary rule
        # only: the relations are built on valid answers, which do not add up to them)
        outside = resp - n
        primary[(primary == "") & follow & (n > 0) & (outside < t_prim)] = "attribute_sensitive"
        audit.primary = _secret(primary)
    hidden = primary != ""
    info = {
        "rounds": 0,
        "added": 0,
        "forced": 0,
        "closed": 0,
        "audit_added": 0,
        "audit_rounds": 0,
        "linked": 0,
        "consistency_breaks": 0,
    }
    rel = _Relations(cs, units, groups, V, n, thr, sens, loose, stage, side=side, t_cell=t_cell)
    rel.by_stage = by_stage
    link_f, link_p = _linked_cells(cs, filters or [None] * len(plans))
    eligible = rel.eligible if rel.tot is not None else np.zeros(len(n), dtype=bool)
    stages = sorted({int(x) for x in np.unique(stage)})
    for s in stages:
        hidden = rel.run(hidden, info, s)
        if s == 0:
            info["complementary_before_audit"] = int((hidden & (primary == "")).sum())
        todo = np.arange(len(plans))
        while len(todo):
            while len(todo):
                info["audit_rounds"] += 1
                before = hidden.copy()
                added = [c for i in todo for c in audit.fix(int(i), hidden, eligible, s)]
                if not added:
                    break
                info["audit_added"] += len(added)
                changed = np.unique(cs.c_ind[hidden & ~before])
                hidden = rel.run(hidden, info, s, only=changed)
                todo = np.unique(cs.c_ind[hidden & ~before])
            # follow-ups: hidden wherever their filter is (their n counts its answer)
            here = stage[link_f] == s
            new = here & hidden[link_p] & ~hidden[link_f]
            if rel.tot is not None:  # a pinned follow-up cell is its published total
                new &= ~(rel.pinned[link_f] & ~hidden[rel.pin_to[link_f]])
            if not new.any():
                break
            hidden[link_f[new]] = True
            info["linked"] += int(new.sum())
            todo = np.unique(cs.c_ind[link_f[new]])
            hidden = rel.run(hidden, info, s, only=todo)
    info["consistency_breaks"] = audit.breaks
    info["audit_tests"] = audit.tested
    row_hidden = row_primary = np.zeros(len(cs.m_cell), dtype=bool)
    if option_checks:
        row_hidden, row_primary, more = protect_option_rows(option_checks, rel, hidden, n, t_cell)
        info.update(more)
    weighted_hidden = np.zeros(len(n), dtype=bool)
    if w is not None:
        protected = np.flatnonzero(np.bincount(cs.c_ind, weights=thr > 1) > 0)
        before_w = np.zeros(len(n), dtype=bool)
        for s in stages:
            for i in protected:
                weighted_hidden |= audit.weighted(int(i), hidden, before_w, s)
            before_w = weighted_hidden.copy()
        info["consistency_breaks"] = audit.breaks
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


def _secret(primary: np.ndarray) -> np.ndarray:
    """Cells whose figure is a secret: hidden by a primary rule other than ``level``.

    A level the catalogue does not publish is an editorial choice, not a
    secret: its figure may follow from published ones (a commune's answer to
    a non-sensitive question from its EPCI's cells in restricted mode). Small
    groups stay protected by the audit's threshold and sensitive indicators by
    the attribute guard (none of their hidden figures may be recomputed).
    """
    return (primary != "") & (primary != "level")


def _pin_key(n: np.ndarray, resp: np.ndarray) -> np.ndarray:
    """Return what a breakdown cell must hold of its total to be pinned to it: its respondents.

    Pinned on valid answers alone, a group holding every answer but not every
    respondent would be published with its total, and its difference with the
    total would prove that the other groups' respondents skipped the question
    (an EPCI in a département, issue 12) — or, for a follow-up question, that
    the other groups hold no "yes" to its filter (a homogeneous hidden cell).
    """
    return resp
