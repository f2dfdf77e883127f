"""Small-count protection: primary and complementary suppression of cells.

A *cell* is one indicator × territory × breakdown group; all the option rows of
a cell share its fate (hiding one option of a single-choice question would be
undone by ``1 − Σ others``). :func:`barometre_geo.aggregate` calls
:func:`primary_reasons` then :func:`complementary` on every cell of every level
at once, whatever levels the caller asked for, so that two calls cannot be
combined to undo the protection.

Primary suppression (public mode)
---------------------------------
* ``level``: the catalogue does not publish the indicator at that level;
* ``sensitive_level``: a sensitive indicator, at commune or EPCI level;
* ``small_n``: fewer than ``k`` valid answers (default 5);
* ``small_n_sensitive``: a sensitive indicator with fewer than ``k_sensitive``
  answers (default 10, never below ``k``);
* ``attribute_sensitive``: a sensitive indicator with fewer than ``t``
  answers on one side (see "Attribute disclosure" below).

In ``restricted`` mode (the collectivities' own platform) non-sensitive
indicators are shown at every level without threshold; sensitive ones keep the
rules above, except that they are never shown per commune (and per EPCI only
from ``k_sensitive`` answers).

Complementary suppression
-------------------------
Published totals are sums over respondents, so a hidden cell can be recovered
by difference. Every exact nesting gives a linear *relation*
``Σ parents = Σ children + residual`` — parent and children are cells of the
same indicator and breakdown group, the residual gathers the respondents of the
parents that no child holds (the conseil régional's own answer in a région
= Σ départements + residual, responses without territory in France = Σ régions
+ residual). Relations are built for every pair of levels where the finer
territory lies wholly inside the coarser one (commune ⊂ EPCI, département,
région…; EPCI ⊂ département when all its member communes are in it; a group
of départements joined by EPCI straddling them is one multi-parent relation)
and between each breakdown group and its territory's total.

The residual is never published, so it counts as hidden whenever it holds
answers. In each relation let ``U`` be the hidden cells holding answers. The
relation is safe when

* ``|U| ≠ 1`` (one unknown in one linear equation is recovered) — except when
  that one unknown is the residual alone holding ``k`` answers or more: it is
  then a group as large as a published cell, learning its sum discloses
  nothing the threshold protects (the syndicats, without a population
  stratum, are France's residual in the table by stratum and a published cell
  of the table by kind; the attribute rule below still applies to it), and
* when no parent is hidden, the hidden children and the residual together hold
  0 or at least ``k`` answers (their sum is learnt by difference).

With every parent published, a third condition: when the hidden part holds no
valid answer but 1 to ``k − 1`` respondents (a conseil régional alone in its
région's residual, that skipped the question), publishing the relation says
that they all skipped it — unsafe too (``resp``: respondents per cell).

An unsafe relation hides its published child with the fewest answers (a
parent when no child is left). Hiding only grows, so the loop stops; it runs
until no relation is unsafe. Breakdown cells are protected after, and without
changing, the totals (``frozen``: the cells of earlier *stages*, see
:mod:`barometre_geo.protection.apply`), so the figures of a territory do not
depend on which breakdowns were asked for; a breakdown cell identical to its
total (all respondents in one group) is never chosen as a complement.

Relations are found on the answers themselves (:mod:`barometre_geo.protection.relations`):
an EPCI straddling two départements nests in one of them when all its
respondents live there; a département may lie inside the Métropole du Grand
Paris; a stratum cell may lie inside the "agent" cell. Two more rules close
chains of relations: a hidden parent holding ``k`` answers or more is held to
the same mass rule as a published one (it can be learnt from a coarser level
and substituted), hidden parents of one multi-parent relation count as one
unknown (their sum is learnt), and for each breakdown the *complement*
relations — sums of the geographic relations of the total and of the groups
published in a parent — are checked too.

Audit of linked tables
----------------------
The relations are local. With several breakdowns published together (kind
and stratum of one territory, across every level) the tables are *linked*: a
combination of cells of different breakdowns may isolate a respondent that
no relation sees — in Guadeloupe, total − communes − "50 000 habitants et
plus" was the small CC de Marie-Galante. So, after the relations,
:func:`barometre_geo.aggregate` audits every indicator over *all* its
published cells at once (every level, the total and every breakdown;
:mod:`barometre_geo.protection.audit`):

* a reader combining published figures linearly learns the sum over a group
  ``G`` of respondents exactly when ``1_G`` lies in the row space of the
  cells × respondents matrix, i.e. when ``Σ_{i ∈ G} z_i = 0`` for every
  vector ``z`` of its null space. Three random null vectors decide it with
  probability one (a chance zero of one sample is discarded by the others).
  The null space is sampled by nested dissection — components of the rows up
  to the département, then the régions, then the zones and France, each stage
  carrying up only the directions later rows see — so the cost grows with the
  number of territories;
* searched: every group of at most four *atoms* (respondents that no
  published cell tells apart) holding 1 to ``k − 1`` answers — with
  ``k ≤ 5``, every group of fewer than ``k`` respondents —, found by
  meet-in-the-middle on sorted sums after keeping only the atoms whose part in
  their région is itself determined there; and every cell hidden by a primary
  rule, whatever its size (a sensitive cell below ``k_sensitive``, a level the
  catalogue does not publish);
* for sensitive questions and their follow-ups, every hidden cell too (a
  complement recomputed exactly is a figure the reader has: cyber_pca in
  Occitanie, 500–999 inhabitants, 8 of 26, came back from the tables by kind
  and stratum), unless it holds the same respondents as a published cell;
* when something is determined, more cells are hidden: among the published
  cells of the territories holding the group, the *class* (cells holding the
  same respondents, such as a région and France when the région is all the
  data) with the smallest ``n`` whose hiding alone makes the group
  undetermined; else classes are hidden by increasing ``n`` until it is, then
  those not needed are shown again. Cells of the current stage only (the
  totals, then the breakdowns; ``protection/leaks.py``) — so the totals of a
  territory do not depend on the breakdowns asked for. The relations then run
  again, and the audit again on the indicators that changed, until nothing is
  determined;
* termination: hiding only grows and each round hides at least one published
  cell; with every breakdown cell of an indicator hidden, its totals are back
  to a state the audit passed (or the totals themselves run out), so the loop
  stops. Soundness: the audit uses the criterion of
  :func:`barometre_geo.testing.assert_no_disclosure` (checked against it on
  random matrices and editions). It does not enumerate groups of five atoms
  or more, which matter only when a threshold exceeds 5 (``k_sensitive`` = 10):
  for those, primary cells are still checked exactly and the relations' mass
  rule covers nested groups of any size.

Measured on the demo edition (3,390 responses, 74 indicators, all levels, the
four breakdowns, k = 5): the relations alone left linked-table leaks in 10
indicators; the audit closes them by hiding 11 more cells (17,284 → 17,295
complementary cells, ``benchmarks/bench_aggregate.py``). On small random
editions (20–300 answers, three breakdowns, k = 3 and 5) the relations alone
leaked in 33 of 360 indicator × edition cases; none leak after the audit.

Attribute disclosure (sensitive indicators)
-------------------------------------------
A published cell of ``cyber_pca`` with 12 answers and 0 % tells everyone that
all 12 respondents — whose identity the participation map shows — have no
continuity plan. So, with ``t = t_sensitive`` (default 3, an argument of
:func:`barometre_geo.aggregate`; 0 disables it), a figure of a sensitive
indicator is published only with at least ``t`` valid answers away from each
end, at every level (France and zones included: they hold hundreds of answers,
the rule seldom bites there, and an overseas zone can be small):

* a yes/no share (or the positive share of a single choice): ``t`` "Oui" and
  ``t`` not "Oui" ("je ne sais pas" is not "Oui"). Option rows of a single
  choice share their cell's fate, decided by that headline share alone, so
  that ``options=True`` changes no decision (two calls must agree); a
  distribution without positive options checks each substantive option;
* a mean of a percentage: ``t`` answers above 0 % and ``t`` below 100 %;
* a multiple-choice option: ``t`` ticked and ``t`` not ticked. Only that
  *option row* is hidden (options are independent sums, ``n`` stays
  published on the others): one rare option would otherwise hide most cells;
* non-substantive options (``ne_sait_pas``, ``non_concerne``) are not checked;
* a question asked only after a sensitive answer ("types of attack" after
  "victim of an attack": catalogue ``asked_if``): its ``n`` counts that
  answer and its ``respondents`` are the filter's, so its cell needs ``t``
  respondents outside it (``respondents − n ≥ t``). Primary rule only: the
  relations are built on valid answers, which do not add up to respondents.

Failing cells get the primary reason ``attribute_sensitive``, published as
``secret_sensitive`` like the complements of sensitive indicators (a map
saying "too homogeneous" would give the answer away; ``aggregate(...,
detailed_reasons=True)`` keeps them apart for an analyst's checks) (hidden cells
also enter the audit as primary cells: never determined). Complementary: in
each relation whose parents are all published, the hidden part (hidden
children and residual) learnt by difference must hold no answer or at least
``t`` on each side; else one more cell is hidden, preferring one that adds
answers on the short side. Option rows get the same relations, option by
option, after the cells (``k`` 0: their ``n`` is published, the ticks are
what is protected; hidden rows say ``attribute_sensitive`` or
``complementary``). A follow-up's cell is hidden wherever its filter's is
(its ``n`` counts the filter's answer; :mod:`barometre_geo.protection.apply`).
Homogeneity deduced only by combining several relations with whole-number
bounds (linked tables, "count ≥ follow-up n") is what the integer audit looks
for (:mod:`barometre_geo.protection.linked`); the protection does not run it.
Weighted figures are not covered. Demo (every level and
breakdown, ``benchmarks/bench_aggregate.py``): 835 cells and 518 option rows
hidden by the rule (147 more option rows as complements);
``tests/test_protection_attribute.py`` checks every
published figure and every "published parent − published children" of the
demo independently.

Weighted figures
----------------
A weighted share reveals ``Σ w·y`` over its cell, and calibration weights can
be recomputed by anyone who knows who answered (participation is public, the
raking is documented). Next to the unweighted share it is a second figure of
the same cell: with two weight classes in a cell (communes and an EPCI of the
same stratum) the two give each class's sum. Publishing every weighted figure
of the demo lets such a reader isolate 20 to 40 groups of fewer than 5
respondents *in every indicator*. So where the threshold applies (public mode;
sensitive indicators in restricted mode) the weighted figures
(``value_weighted``, ``ci_*_weighted``, ``deff``) of a published cell are
shown only

* on the national and zone rows (``france``, ``france_metropolitaine``,
  ``outre_mer``; total and breakdowns), the calibrated estimates, as long as
  the audit *with* their weighted rows ``w ⊙ 1_cell`` finds nothing (else
  withheld, cell class by cell class as above — the unweighted cells are
  never hidden for them);
* elsewhere, when the weighted row is a combination of the published
  unweighted cells (it then tells nothing new: weights constant over the
  cell, e.g. communes of one stratum in one région).

Otherwise they are NA on a published row (``attrs["barometre_geo"]
["weighted_withheld"]`` counts the cells); ``value``, the report's figure, is
unaffected. Demo (headline rows): weighted figures stay on every national
and zone total and on 370 of 389 national kind and stratum rows, on 1,395 of
1,853 région × stratum rows, on 4 of 788 région totals.

Per-option rows share their cell's respondents: every option share is a sum
over the same set, so auditing the cells covers them.

What is published for a suppressed cell: no value, no interval, no weighted
value, no design effect and no exact ``n`` (``n`` is NA; ``reason`` says why,
e.g. ``small_n`` means "fewer than k"). Publishing ``n`` would let a reader
recompute the hidden shares' denominators by difference. Participation columns
(``respondents``, ``participation``, ``population_share``) stay published: who
answered the survey is public by design of the Baromètre (participation maps),
what they answered is what is protected.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from ..errors import UnknownValueError

__all__ = [
    "MODES",
    "SUPPRESSED_COLUMNS",
    "SUPPRESSION_REASONS",
    "Mode",
    "check_t_sensitive",
    "complementary",
    "parse_mode",
    "primary_reasons",
]

Mode = Literal["public", "restricted"]
#: Publication modes.
MODES: tuple[str, ...] = get_args(Mode)

#: Reason codes of the ``reason`` column, with their French labels.
SUPPRESSION_REASONS: dict[str, str] = {
    "level": "indicateur non publié à cet échelon",
    "sensitive_level": "indicateur sensible, non publié à cet échelon",
    "small_n": "moins de k réponses (secret statistique)",
    "small_n_sensitive": "indicateur sensible : moins de k_sensible réponses",
    "attribute_sensitive": (
        "indicateur sensible : réponses trop homogènes (moins de t réponses d'un côté)"
    ),
    "complementary": "secret induit : masqué pour empêcher un calcul par différence",
    "secret_sensitive": (
        "indicateur sensible : secret statistique (motif non publié, il renseignerait "
        "sur les réponses)"
    ),
}


def describe_reasons() -> str:
    """Return every reason code with its French label, for data dictionaries.

    Examples
    --------
    >>> describe_reasons().split(" ; ")[0]
    'level = indicateur non publié à cet échelon'
    """
    return " ; ".join(f"{code} = {label}" for code, label in SUPPRESSION_REASONS.items())


#: Default attribute threshold of sensitive indicators (answers on each side).
T_SENSITIVE = 3

#: Reasons of sensitive indicators published as ``secret_sensitive`` (unless
#: ``aggregate(detailed_reasons=True)``): "too homogeneous" would itself say that
#: (nearly) every respondent gave the same answer; merged with the complements, a
#: reader cannot tell which hidden cell is which.
SECRET_REASONS: tuple[str, ...] = ("attribute_sensitive", "complementary")

#: Columns left empty (NA) on suppressed rows of the aggregate table: nothing that
#: could reveal the cell (the single source for the writers and the maps).
SUPPRESSED_COLUMNS: tuple[str, ...] = (
    "n",
    "value",
    "ci_low",
    "ci_high",
    "value_weighted",
    "ci_low_weighted",
    "ci_high_weighted",
    "deff",
    "low_reliability",
)

_FINE_LEVELS = ("commune", "epci")


def parse_mode(mode: str) -> str:
    """Validate a publication mode.

    Examples
    --------
    >>> parse_mode("Public")
    'public'
    """
    value = str(mode).strip().lower()
    if value not in MODES:
        raise UnknownValueError(
            f"Unknown mode {mode!r}. Valid modes: {', '.join(MODES)} "
            "('public' for open data, 'restricted' for the collectivities' own platform).",
            fr=f"Mode {mode!r} inconnu. Modes possibles : {', '.join(MODES)} (« public » pour "
            "les données ouvertes, « restricted » pour la plateforme des collectivités).",
        )
    return value


def check_thresholds(k: int, k_sensitive: int) -> tuple[int, int]:
    """Validate the thresholds: ``1 ≤ k ≤ k_sensitive``.

    Examples
    --------
    >>> check_thresholds(5, 10)
    (5, 10)
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise UnknownValueError(
            f"k={k!r} must be an integer ≥ 1 (default 5).",
            fr=f"k={k!r} doit être un entier ≥ 1 (5 par défaut).",
        )
    if isinstance(k_sensitive, bool) or not isinstance(k_sensitive, int | np.integer):
        raise UnknownValueError(
            f"k_sensitive={k_sensitive!r} must be an integer (default 10).",
            fr=f"k_sensitive={k_sensitive!r} doit être un entier (10 par défaut).",
        )
    if k_sensitive < k:
        raise UnknownValueError(
            f"k_sensitive={k_sensitive} is below k={k}: sensitive indicators can never use a "
            f"lower threshold than the others. Pass k_sensitive >= {k}.",
            fr=f"k_sensitive={k_sensitive} est inférieur à k={k} : un indicateur sensible ne "
            f"peut pas avoir un seuil plus bas que les autres. Donnez k_sensitive >= {k}.",
        )
    return int(k), int(k_sensitive)


def check_t_sensitive(t_sensitive: int) -> int:
    """Validate the attribute threshold of sensitive indicators: an integer ≥ 0 (0 disables).

    Examples
    --------
    >>> check_t_sensitive(3)
    3
    """
    if (
        isinstance(t_sensitive, bool)
        or not isinstance(t_sensitive, int | np.integer)
        or t_sensitive < 0
    ):
        raise UnknownValueError(
            f"t_sensitive={t_sensitive!r} must be an integer ≥ 0 (default 3; 0 disables the "
            "attribute rule of sensitive indicators)."
        )
    return int(t_sensitive)


def primary_reasons(
    n: np.ndarray,
    level: np.ndarray,
    sensitive: np.ndarray,
    level_allowed: np.ndarray,
    *,
    k: int = 5,
    k_sensitive: int = 10,
    mode: str = "public",
) -> np.ndarray:
    """Reason code of the primary suppression of each cell (``""`` when shown).

    Parameters
    ----------
    n : array of int
        Valid answers per cell.
    level : array of str
        Level of each cell (``commune``, ``epci``, ``departement``…).
    sensitive : array of bool
        Whether the cell's indicator is flagged sensitive in the catalogue.
    level_allowed : array of bool
        Whether the catalogue publishes the indicator at that level.
    k, k_sensitive, mode
        Thresholds and publication mode.

    Examples
    --------
    >>> import numpy as np
    >>> primary_reasons(
    ...     np.array([3, 12, 8, 40]),
    ...     np.array(["departement", "departement", "region", "commune"]),
    ...     np.array([False, True, True, True]),
    ...     np.array([True, True, True, True]),
    ... ).tolist()
    ['small_n', '', 'small_n_sensitive', 'sensitive_level']
    """
    k, k_sensitive = check_thresholds(k, k_sensitive)
    mode = parse_mode(mode)
    n = np.asarray(n)
    level = np.asarray(level).astype(str)
    sensitive = np.asarray(sensitive, dtype=bool)
    out = np.full(len(n), "", dtype=object)
    fine = np.isin(level, _FINE_LEVELS)
    if mode == "public":
        out[~sensitive & (n < k)] = "small_n"
        out[sensitive & (n < k_sensitive)] = "small_n_sensitive"
        out[sensitive & fine] = "sensitive_level"
    else:
        out[sensitive & (n < k_sensitive)] = "small_n_sensitive"
        out[sensitive & (level == "commune")] = "sensitive_level"
    out[~np.asarray(level_allowed, dtype=bool)] = "level"
    return out


def complementary(
    n: np.ndarray,
    hidden: np.ndarray,
    rel: np.ndarray,
    cell: np.ndarray,
    is_parent: np.ndarray,
    k_rel: np.ndarray,
    *,
    eligible: np.ndarray | None = None,
    residual_hidden: np.ndarray | None = None,
    side: np.ndarray | None = None,
    t_rel: np.ndarray | None = None,
    frozen: np.ndarray | None = None,
    resp: np.ndarray | None = None,
    max_rounds: int = 10_000,
) -> tuple[np.ndarray, dict]:
    """Complementary suppression over linear relations (see the module docstring).

    Parameters
    ----------
    n : array of int
        Valid answers per cell.
    hidden : array of bool
        Cells already hidden (primary suppression, or frozen earlier decisions).
    rel, cell, is_parent : arrays
        Membership of cells in relations: row ``i`` says cell ``cell[i]`` is a
        parent (``is_parent[i]``) or a child of relation ``rel[i]``; relation
        ids are ``0 … R−1``.
    k_rel : array of int
        Threshold of each relation (that of its indicator).
    eligible : array of bool, optional
        Cells that may be hidden as complements (default all). When an unsafe
        relation has no eligible cell left, any published cell of it is
        hidden: safety comes before consistency (counted in ``forced``).
    side : array of float (cells × columns), optional
        Answers away from each end of the checks of sensitive indicators
        (``attribute_counts``; NaN where a cell has no such check).
    t_rel : array of int, optional
        Attribute threshold of each relation (0: no attribute rule). When all
        parents are published and some answers are hidden, the hidden part
        (hidden children and residual) must hold at least ``t`` answers in
        every column of ``side``.
    frozen : array of bool, optional
        Cells decided by an earlier stage (the totals, when the breakdowns are
        protected): never hidden here. A relation whose cells that may still
        be hidden are all hidden tells nothing beyond those earlier cells,
        which their own stage made safe: it is closed (``closed`` counts them).
    resp : array of int, optional
        Respondents per cell (published, valid answer or not). With all
        parents published, a hidden part holding no valid answer but 1 to
        ``k − 1`` respondents says that they all skipped the question: unsafe
        (``n = 0`` is published only for a group where it reveals nothing).
    max_rounds : int
        Safety net against a bug; the loop needs at most one round per cell.

    Returns
    -------
    hidden : numpy.ndarray of bool
        Hidden cells after complementary suppression.
    info : dict
        ``rounds``, ``added`` (cells hidden here), ``forced``, ``closed``.

    Examples
    --------
    A région (cell 0) = two départements (cells 1, 2) + the conseil régional's
    own answer (residual of 1). Department 1 has 3 answers, so it is hidden;
    department 2 must then be hidden too:

    >>> import numpy as np
    >>> hidden, info = complementary(
    ...     n=np.array([20, 3, 16]),
    ...     hidden=np.array([False, True, False]),
    ...     rel=np.array([0, 0, 0]),
    ...     cell=np.array([0, 1, 2]),
    ...     is_parent=np.array([True, False, False]),
    ...     k_rel=np.array([5]),
    ... )
    >>> hidden.tolist(), info["added"]
    ([False, True, True], 1)
    """
    n = np.asarray(n, dtype=np.int64)
    hidden = np.asarray(hidden, dtype=bool).copy()
    rel = np.asarray(rel, dtype=np.int64)
    cell = np.asarray(cell, dtype=np.int64)
    par = np.asarray(is_parent, dtype=bool)
    k_rel = np.asarray(k_rel, dtype=np.int64)
    n_rel = len(k_rel)
    eligible = np.ones(len(n), dtype=bool) if eligible is None else np.asarray(eligible, bool)
    frozen = np.zeros(len(n), dtype=bool) if frozen is None else np.asarray(frozen, bool)
    start = hidden.copy()
    info = {"rounds": 0, "added": 0, "forced": 0, "closed": 0}
    if not len(rel):
        return hidden, info
    nm = n[cell]
    n_par = np.bincount(rel, weights=np.where(par, nm, 0), minlength=n_rel)
    n_ch = np.bincount(rel, weights=np.where(par, 0, nm), minlength=n_rel)
    n_res = np.rint(n_par - n_ch).astype(np.int64)
    if (n_res < 0).any():
        bad = int(np.flatnonzero(n_res < 0)[0])
        raise RuntimeError(
            f"Relation {bad}: children hold more answers than their parents "
            f"({int(n_ch[bad])} > {int(n_par[bad])}); the nesting is wrong. This is a bug: "
            "please report it."
        )
    has_res = n_res > 0
    if residual_hidden is not None:
        has_res &= np.asarray(residual_hidden, dtype=bool)
    n_res = np.where(has_res, n_res, 0)
    if resp is not None:  # respondents of the residual (answers or not)
        rm = np.asarray(resp, dtype=np.int64)[cell]
        r_par = np.bincount(rel, weights=np.where(par, rm, 0), minlength=n_rel)
        r_ch = np.bincount(rel, weights=np.where(par, 0, rm), minlength=n_rel)
        r_res = np.maximum(np.rint(r_par - r_ch).astype(np.int64), 0)
        if residual_hidden is not None:
            r_res = np.where(np.asarray(residual_hidden, dtype=bool), r_res, 0)
    # parents holding k answers or more: hidden or not, what their children leave
    # unknown must hold 0 or ≥ k answers (a hidden parent can be substituted by its
    # children in another relation, see the module docstring)
    big = n_par >= k_rel
    attr = _AttributeRule(side, t_rel, rel, cell, par, has_res, n_rel)
    alive = np.ones(n_rel, dtype=bool)  # relations still worth checking
    for rounds in range(1, max_rounds + 1):
        m = alive[rel]
        r, c, p = rel[m], cell[m], par[m]
        h = hidden[c] & (n[c] > 0)
        hp = np.bincount(r, weights=h & p, minlength=n_rel)
        hc = np.bincount(r, weights=h & ~p, minlength=n_rel)
        nh = np.bincount(r, weights=np.where(h & ~p, n[c], 0), minlength=n_rel)
        unknown = np.minimum(hp, 1) + hc + has_res  # hidden parents: their sum is one unknown
        # the residual alone, with k answers or more, is a group like a published cell
        bare = (hp == 0) & (hc == 0) & (n_res >= k_rel)
        unsafe = alive & (
            ((unknown == 1) & ~bare) | (big & (hc + has_res > 0) & (nh + n_res < k_rel))
        )
        if resp is not None:
            # a hidden part without a valid answer: its 1 to k − 1 respondents all skipped
            hr = np.bincount(r, weights=np.where(hidden[c] & ~p, rm[m], 0), minlength=n_rel)
            skip = hr + r_res
            unsafe |= alive & (hp == 0) & (nh + n_res == 0) & (skip >= 1) & (skip < k_rel)
        short = attr.short(alive & ~unsafe & (hp == 0) & (hc + has_res > 0), m, h & ~p)
        unsafe |= short.any(axis=1)
        if not unsafe.any():
            info["rounds"] = rounds
            break
        # candidates: published cells holding answers of unsafe relations, by priority
        cand = unsafe[r] & ~hidden[c] & (n[c] > 0) & ~frozen[c]
        stuck = unsafe & (np.bincount(r, weights=cand, minlength=n_rel) == 0)
        if stuck.any():
            if not frozen.any():
                raise RuntimeError(
                    f"{int(stuck.sum())} relation(s) cannot be made safe (every cell already "
                    "hidden). This is a bug: please report it."
                )
            # every cell of this stage hidden: only earlier (safe) cells are left
            info["closed"] += int(stuck.sum())
            alive &= ~stuck
            unsafe &= ~stuck
            if not unsafe.any():
                continue
        rr, cc = r[cand], c[cand]
        prio = np.where(p[cand], 1, 0) + np.where(eligible[cc], 0, 2)
        useless = attr.useless(short, rr, cc)  # adds nothing where the relation is short
        order = np.lexsort((cc, n[cc], useless, prio, rr))
        rr, cc, prio = rr[order], cc[order], prio[order]
        first = np.flatnonzero(np.r_[True, rr[1:] != rr[:-1]])
        chosen = cc[first]
        info["forced"] += int((prio[first] >= 2).sum())
        hidden[np.unique(chosen)] = True
        # a relation whose every cell holding answers is hidden can never become unsafe again
        open_any = np.bincount(r, weights=~hidden[c] & (n[c] > 0), minlength=n_rel)
        alive &= open_any > 0
    else:  # pragma: no cover - guarded by the monotone loop
        raise RuntimeError("complementary suppression did not stabilise; please report it.")
    info["added"] = int((hidden & ~start).sum())
    return hidden, info


class _AttributeRule:
    """Answers away from each end in the hidden part of each relation (``complementary``).

    Only the membership rows of relations with ``t > 0`` are kept (sensitive
    indicators): the rule costs nothing for the others.
    """

    def __init__(self, side, t_rel, rel, cell, par, has_res, n_rel):
        self.on = side is not None and t_rel is not None and bool(np.any(np.asarray(t_rel) > 0))
        if not self.on:
            return
        self.side = np.nan_to_num(np.asarray(side, dtype=float), nan=0.0)
        self.t = np.asarray(t_rel, dtype=float)
        self.keep = self.t[rel] > 0
        self.n_rel = n_rel
        r, c = rel[self.keep], cell[self.keep]
        self.r = r
        used = ~np.isnan(np.asarray(side, dtype=float)[c])
        self.v = np.where(used, self.side[c], 0.0)
        par = par[self.keep]
        cols = range(self.v.shape[1])

        def per_rel(w: np.ndarray) -> np.ndarray:  # (rows × columns) → (relations × columns)
            return np.stack([np.bincount(r, weights=w[:, j], minlength=n_rel) for j in cols], 1)

        par_side = per_rel(np.where(par[:, None], self.v, 0.0))
        # what the residual holds: parents minus children (only where it is hidden)
        res = par_side - per_rel(np.where(par[:, None], 0.0, self.v))
        self.res = np.where(has_res[:, None], np.rint(res), 0.0)
        rel_used = per_rel(used.astype(float))
        # a side the published parents hold no answer of: the hidden part holds none of it
        # either, and the parents say so themselves (a homogeneous published cell)
        self.rel_used = (rel_used > 0) & (self.t[:, None] > 0) & (np.rint(par_side) > 0)

    def short(self, active: np.ndarray, m: np.ndarray, hidden_child: np.ndarray) -> np.ndarray:
        """(relations × columns): hidden part below ``t`` on that side, in active relations.

        ``m`` selects the membership rows in play, ``hidden_child`` is given on them.
        """
        if not self.on:
            return np.zeros((len(active), 1), dtype=bool)
        hid_rows = np.zeros(len(m), dtype=bool)
        hid_rows[m] = hidden_child
        hid_rows = hid_rows[self.keep] & m[self.keep]
        hid = np.stack(
            [
                np.bincount(self.r, weights=np.where(hid_rows, col, 0), minlength=self.n_rel)
                for col in self.v.T
            ],
            axis=1,
        )
        return (hid + self.res < self.t[:, None]) & self.rel_used & active[:, None]

    def useless(self, short: np.ndarray, rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
        """Candidates that add nothing to the sides their relation is short of."""
        if not self.on:
            return np.zeros(len(rr), dtype=bool)
        s = short[rr]
        return ~(s & (self.side[cc] > 0)).any(axis=1) & s.any(axis=1)
