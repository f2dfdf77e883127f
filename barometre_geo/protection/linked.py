"""Integer audit of every published table of an edition together (:func:`audit_bounds`).

A reader holds every table an edition publishes — the maps' totals, the
tables by stratum and by kind, the GeoPackages — and knows who answered
(participation is public). :func:`audit_bounds` joins them into one system
per family of linked questions (an indicator and its ``asked_if``
follow-ups), with the true answers of the responses, and asks
:mod:`barometre_geo.protection.bounds` which hidden figures the published ones
pin (``single``, ``zero``, ``all``, ``n_zero``):

* sensitive questions and the follow-ups of sensitive questions: every hidden
  figure;
* other questions: hidden figures of groups of fewer than ``k`` respondents,
  unless a published figure of a group holding them already says it (0 %, or
  100 % of respondents that all answered: a homogeneous published cell is
  allowed for a non-sensitive question, and its subgroups follow).

Tables that disagree — a cell hidden in one and published in another — are
read as the reader reads them: published.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .bounds import FINDINGS, Family, Figure, Indicator, screen
from .integer import solve

__all__ = ["BoundsReport", "audit_bounds", "published_union"]

_log = logging.getLogger(__name__)
_KEYS = ["indicator", "level", "code", "by", "group"]
#: Columns whose answer the reader knows without the survey: the respondent's kind
#: (from the reference), which the tables by kind publish anyway.
PUBLIC_ANSWERS = frozenset({"kind"})


@dataclass(frozen=True)
class BoundsReport:
    """What :func:`audit_bounds` examined and found.

    Attributes
    ----------
    published_cells : int
        Cells (indicator × territory × group) with a published ``n`` or figure.
    hidden_cells : int
    examined : int
        Hidden figures checked (all hidden figures of sensitive questions and
        their follow-ups; groups of fewer than ``k`` elsewhere), within the
        levels and cells asked for.
    cleared : int
        Of those, cleared by exchanging the answers of respondents.
    decided : int
        Of the others, decided exactly (linear or integer programs).
    lp, milp : int
        Programs solved.
    findings : pandas.DataFrame
        One row per pinned figure: ``indicator``, ``level``, ``code``, ``by``,
        ``group``, ``option``, ``finding`` (``single``, ``zero``, ``all``,
        ``n_zero``), ``description`` (French), ``respondents``.
    undecided : pandas.DataFrame
        Figures left undecided (time limit or budget), same columns: the
        audit does not vouch for them.
    seconds : float
    public : tuple of str
        Indicators not examined because their answer is public: the
        respondent's kind (``profil_type_collectivite``), which the reader
        knows from the reference (a commune is a commune) and the tables by
        kind publish — a pin of it tells nothing.
    """

    published_cells: int
    hidden_cells: int
    examined: int
    cleared: int
    decided: int
    lp: int
    milp: int
    findings: pd.DataFrame = field(repr=False)
    undecided: pd.DataFrame = field(repr=False)
    seconds: float
    public: tuple = ()

    @property
    def ok(self) -> bool:
        """True when every examined figure is decided and none is pinned."""
        return not len(self.findings) and not len(self.undecided)


def published_union(tables) -> pd.DataFrame:
    """Rows of several tables, each once, published wherever one table publishes it.

    What a reader holding every table knows. ``attrs`` of the first table.
    """
    if isinstance(tables, pd.DataFrame):
        return tables
    tables = list(tables)
    keys = [*_KEYS, "option"]
    allr = pd.concat(tables, ignore_index=True)
    order = allr["suppressed"].astype(bool).to_numpy().argsort(kind="stable")
    allr = allr.iloc[order]
    key = allr[keys].astype(object).where(allr[keys].notna(), "").astype(str)
    out = allr[~key.duplicated().to_numpy()].reset_index(drop=True)
    out.attrs = tables[0].attrs
    return out


def _merge(tables) -> pd.DataFrame:
    """Return the union of the tables (:func:`published_union`): keys as text, n as float."""
    cols = [*_KEYS, "option", "statistic", "n", "value", "respondents", "suppressed"]
    rows = published_union(tables)[cols].copy()
    for c in [*_KEYS, "option", "statistic"]:
        rows[c] = rows[c].astype(object).where(rows[c].notna(), "").astype(str)
    rows["n"] = pd.to_numeric(rows["n"], errors="coerce").astype(float)
    rows["suppressed"] = rows["suppressed"].astype(bool)
    return rows.reset_index(drop=True)


def _families(inds, catalogue) -> list[list[str]]:
    """Return the indicators joined by ``asked_if`` (filters first)."""
    parent = {i: i for i in inds}

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i in inds:
        asked = getattr(catalogue.get(i), "asked_if", None)
        if asked is not None and asked.indicator in parent:
            parent[root(i)] = root(asked.indicator)
    groups: dict = {}
    for i in inds:
        groups.setdefault(root(i), []).append(i)
    order = {i: n for n, i in enumerate(inds)}
    return [
        sorted(g, key=lambda i: (catalogue.get(i).asked_if is not None, order[i]))
        for g in groups.values()
    ]


class _Reader:
    """Responses prepared once: units, breakdown groups, measures of each indicator."""

    def __init__(self, responses, territories, strata):
        from ..stats.prepare import _dedup_latest, prepare_rows
        from ..stats.units import build_geo

        if territories is None:
            from ..territories.load import load_territories

            territories = load_territories()
        self.data = responses.data
        self.catalogue = responses.catalogue
        self.geo = build_geo(territories)
        self.prep = prepare_rows(self.data, self.geo)
        self.dedup = _dedup_latest(self.data)
        self.strata = strata
        self._groups: dict = {}

    def groups(self, name: str) -> np.ndarray:
        """Group label of each response for a breakdown (None: no group)."""
        if name not in self._groups:
            from ..stats.prepare import by_groups

            g, labels = by_groups(name, self.data, self.prep, self.strata)
            lab = np.array([*labels, None], dtype=object)
            self._groups[name] = lab[g]
        return self._groups[name]

    def unit_codes(self, level: str) -> np.ndarray:
        """Code of each response's unit at a published level (None: none)."""
        from ..stats.units import ZONE_CODES, ZONE_LEVELS

        if level in ZONE_LEVELS:
            u = self.prep.units["zone"]
            z = int(np.flatnonzero(ZONE_LEVELS == level)[0])
            return np.where(u == z, ZONE_CODES[z], None)
        u = self.prep.units[level]
        codes = np.asarray(self.geo.codes[level], dtype=object)
        return np.where(u >= 0, codes[np.maximum(u, 0)], None)

    def indicator(self, ind_id: str):
        """(kind, R, V, X, columns) of one indicator, from the responses."""
        from ..stats.prepare import indicator_measures

        ind = self.catalogue.get(ind_id)
        plan = indicator_measures(ind, self.data, self.prep.kind, options=True, dedup=self.dedup)
        if ind.kind == "multiple_choice":
            kind = "multiple"
        elif ind.kind == "percentage":
            kind = "mean"
        else:
            kind = "choice"
        cols = [o for o in plan.options if o is not None] or [None]
        X = np.stack([plan.values[plan.options.index(o)] for o in cols], axis=1)
        return ind, kind, plan.R, plan.V, X, cols


def _build(family: list[str], rows: pd.DataFrame, reader: _Reader, k: int, k_sens: int):
    """Build the :class:`Family` of some linked indicators from their published rows."""
    cat = reader.catalogue
    cells = rows.drop_duplicates(_KEYS)[[*_KEYS, "respondents"]].reset_index(drop=True)
    cell_id = pd.MultiIndex.from_frame(cells[_KEYS])
    row_cell = cell_id.get_indexer(pd.MultiIndex.from_frame(rows[_KEYS]))
    indicators, c_ind = [], np.full(len(cells), -1, dtype=np.int64)
    local = {name: j for j, name in enumerate(family)}
    sens_family = any(cat.get(i).sensitive for i in family)
    for j, name in enumerate(family):
        ind, kind, R, V, X, cols = reader.indicator(name)
        mine = np.flatnonzero(cells["indicator"].to_numpy() == name)
        c_ind[mine] = j
        fams = cells.iloc[mine].groupby(["level", "by"], sort=False).groups
        cellm = np.full((len(R), max(len(fams), 1)), -1, dtype=np.int64)
        for f, ((level, by), idx) in enumerate(fams.items()):
            sub = cells.loc[idx]
            codes = reader.unit_codes(level)
            if by == "total":
                labels = np.full(len(R), "Ensemble", dtype=object)
            else:
                labels = reader.groups(by)
            key = pd.MultiIndex.from_arrays([codes.astype(object), labels.astype(object)])
            want = pd.MultiIndex.from_arrays([sub["code"], sub["group"]])
            pos = want.get_indexer(key)
            hit = (pos >= 0) & R
            cellm[hit, f] = np.asarray(sub.index)[pos[hit]]
        attribute = bool(ind.sensitive) or (sens_family and ind.asked_if is not None)
        indicators.append(
            Indicator(
                id=name,
                kind=kind,
                R=R,
                V=V,
                X=X,
                options=cols,
                cellm=cellm,
                attribute=attribute,
                k=k_sens if ind.sensitive else k,
            )
        )
    # published n per cell (any row), published counts per row
    n_pub = rows.groupby(row_cell)["n"].max().reindex(range(len(cells)))
    c_n = n_pub.to_numpy(dtype=float)
    r_cols, r_value = [], np.full(len(rows), np.nan)
    for t, r in enumerate(rows.itertuples(index=False)):
        ind = indicators[c_ind[row_cell[t]]]
        entry = cat.get(r.indicator)
        if r.option:
            cols = [ind.options.index(r.option)]
        elif ind.kind == "mean":
            cols = [0]
        else:
            cols = [ind.options.index(o) for o in entry.positive]
        r_cols.append(np.asarray(cols, dtype=np.int64))
        if not r.suppressed and not np.isnan(r.n) and r.value == r.value:
            val = float(r.value) * float(r.n)
            r_value[t] = val if ind.kind == "mean" else float(np.rint(val))
    gates = []
    for name in family:
        asked = cat.get(name).asked_if
        if asked is None or asked.indicator not in local:
            continue
        f, i = local[name], local[asked.indicator]
        cols = [indicators[i].options.index(o) for o in asked.options]
        gates.append((f, i, np.asarray(cols, dtype=np.int64)))
    fam = Family(
        indicators=indicators,
        c_ind=c_ind,
        c_n=c_n,
        c_resp=cells["respondents"].to_numpy(dtype=float),
        r_cell=np.asarray(row_cell, dtype=np.int64),
        r_cols=r_cols,
        r_value=r_value,
        gates=gates,
    )
    _check_truth(fam, cells)
    return fam, cells, rows


def _check_truth(fam: Family, cells: pd.DataFrame) -> None:
    """Check that the published figures are those of the responses (else: wrong ones given)."""
    n_true = np.zeros(len(fam.c_ind))
    for ind in fam.indicators:
        r, f = np.nonzero(ind.cellm >= 0)
        np.add.at(n_true, ind.cellm[r, f], ind.V[r])
    pub = ~np.isnan(fam.c_n)
    bad = pub & (np.abs(n_true - np.nan_to_num(fam.c_n)) > 0.5)
    if bad.any():
        c = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"The table says n = {fam.c_n[c]:g} for {tuple(cells.iloc[c][_KEYS])} but the "
            f"responses give {n_true[c]:g}: pass the responses (and territories, strata) "
            "the table was computed from."
        )


def _same_as_published(fam: Family, published: np.ndarray) -> np.ndarray:
    """Hidden cells holding the same respondents as a published cell of their indicator.

    A stratum or kind cell holding all its territory's respondents *is* its
    total: hidden or not, its figures are the total's, published.
    """
    rng = np.random.default_rng(7)
    weight = rng.integers(1, 2**62, size=fam.n_resp, dtype=np.uint64)
    h = np.zeros(len(fam.c_ind), dtype=np.uint64)
    for ind in fam.indicators:
        r, f = np.nonzero(ind.cellm >= 0)
        np.add.at(h, ind.cellm[r, f], weight[r])
    key = h ^ fam.c_ind.astype(np.uint64)
    return ~published & np.isin(key, key[published])


def _published_rows(fam: Family) -> dict:
    """Return the published rows of each cell by their columns: ``{(cell, cols): [rows]}``."""
    out: dict = {}
    for row in np.flatnonzero(~np.isnan(fam.r_value)):
        key = (int(fam.r_cell[row]), tuple(int(c) for c in fam.r_cols[row]))
        out.setdefault(key, []).append(int(row))
    return out


def _parents(fam: Family) -> np.ndarray:
    """Per cell and family of cells of its indicator: the one cell holding all its respondents.

    ``(cells × families)``, −1 where the cell's respondents lie in several cells
    of that family (or none).
    """
    n_cells = len(fam.c_ind)
    width = max(ind.cellm.shape[1] for ind in fam.indicators)
    lo = np.full((n_cells, width), np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full((n_cells, width), -2, dtype=np.int64)
    for ind in fam.indicators:
        r, f0 = np.nonzero(ind.cellm >= 0)
        c = ind.cellm[r, f0]
        for f in range(ind.cellm.shape[1]):
            v = ind.cellm[r, f]
            np.minimum.at(lo[:, f], c, v)
            np.maximum.at(hi[:, f], c, v)
    return np.where((lo == hi) & (hi >= 0), hi, -1)


def _implied(fam: Family, fig: Figure, parents: np.ndarray, pub_rows: dict) -> bool:
    """Tell whether a published homogeneous cell holding the group already says the pin.

    ``parents``: :func:`_parents`; ``pub_rows``: :func:`_published_rows` of the family.
    """
    ind = fam.indicators[fam.c_ind[fig.cell]]
    if ind.attribute or fig.what == "n_zero":
        return False
    cols = tuple(int(c) for c in fam.r_cols[fig.row])
    for f in range(ind.cellm.shape[1]):
        parent = int(parents[fig.cell, f])
        if parent < 0 or parent == fig.cell:
            continue
        for row in pub_rows.get((parent, cols), ()):
            val, n = fam.r_value[row], fam.c_n[parent]
            if val == 0 and fig.what in ("zero", "single"):
                return True
            if val == n and fig.what == "all":
                return True
            if val == n and n == fam.c_resp[parent] and fig.what == "single":
                return True
    return False


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Return the rows of several families, each once (an empty table with the columns)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns].drop_duplicates().reset_index(drop=True)


def _figure_rows(figs: list[Figure], fcells: pd.DataFrame, frows: pd.DataFrame) -> pd.DataFrame:
    """Rows of the report for some figures of a family (cell keys, option, finding)."""
    cell = np.array([f.cell for f in figs], dtype=np.int64)
    row = np.array([f.row for f in figs], dtype=np.int64)
    what = [f.what for f in figs]
    out = fcells.iloc[cell][_KEYS].reset_index(drop=True)
    option = frows["option"].to_numpy(dtype=object)[np.maximum(row, 0)] if len(frows) else []
    out["option"] = np.where(row >= 0, option, "") if len(figs) else []
    out["finding"] = what
    out["description"] = [FINDINGS[w] for w in what]
    out["respondents"] = fcells["respondents"].to_numpy()[cell].astype(int)
    return out


def audit_bounds(
    tables,
    responses,
    *,
    territories=None,
    k: int | None = None,
    k_sensitive: int | None = None,
    levels=None,
    indicators=None,
    cells: pd.DataFrame | None = None,
    time_limit: float = 30.0,
    budget: float | None = None,
) -> BoundsReport:
    """Integer audit of every published table of an edition together.

    Parameters
    ----------
    tables : pandas.DataFrame or list of DataFrame
        Outputs of :func:`barometre_geo.aggregate` published together (the
        maps' totals, tables by stratum and kind…), from the same responses.
        Every published figure of the tables enters the reader's system.
    responses : Responses
        The responses the tables were computed from (the audit needs the true
        answers to build the reader's system and to clear figures fast).
    territories : Territories, optional
        The reference used by ``aggregate`` (default: embedded COG 2025).
    k, k_sensitive : int, optional
        Thresholds (default: the tables' ``attrs``, else 5 and 10).
    levels, indicators : list of str, optional
        Examine the hidden cells of these levels / indicators only (default
        all); the published figures of every level still count.
    cells : pandas.DataFrame, optional
        Examine these cells only (columns ``indicator``, ``level``, ``code``,
        ``by``, ``group``).
    time_limit : float
        Seconds per program; a program not solved in time leaves its figure
        undecided.
    budget : float, optional
        Seconds for the exact phase of the whole audit; the figures left then
        are undecided (:attr:`BoundsReport.undecided`).

    Returns
    -------
    BoundsReport
    """
    start = time.perf_counter()
    tables = [tables] if isinstance(tables, pd.DataFrame) else list(tables)
    meta = tables[0].attrs.get("barometre_geo", {}) if tables else {}
    k = int(k if k is not None else meta.get("k", 5))
    k_sens = int(k_sensitive if k_sensitive is not None else meta.get("k_sensitive", 10))
    rows = _merge(tables)
    reader = _Reader(responses, territories, meta.get("strata"))
    inds = list(dict.fromkeys(rows["indicator"]))
    found_rows, undecided_rows = [], []
    totals = {"examined": 0, "cleared": 0, "decided": 0, "lp": 0, "milp": 0}
    published = hidden = 0
    wanted = None
    if cells is not None:
        wanted = set(map(tuple, cells[_KEYS].astype(str).to_numpy()))
    public = []
    for family in _families(inds, reader.catalogue):
        if all(reader.catalogue.get(i).column in PUBLIC_ANSWERS for i in family):
            public += family
            continue
        sub = rows[rows["indicator"].isin(family)].reset_index(drop=True)
        fam, fcells, frows = _build(family, sub, reader, k, k_sens)
        pub_cell = ~np.isnan(fam.c_n)
        np.logical_or.at(pub_cell, fam.r_cell, ~np.isnan(fam.r_value))
        published += int(pub_cell.sum())
        hidden += int((~pub_cell).sum())
        examine = np.ones(len(fcells), dtype=bool)
        if levels is not None:
            examine &= fcells["level"].isin(list(levels)).to_numpy()
        if indicators is not None:
            examine &= fcells["indicator"].isin(list(indicators)).to_numpy()
        if wanted is not None:
            examine &= np.array([tuple(r) in wanted for r in fcells[_KEYS].to_numpy()])
        examine &= ~_same_as_published(fam, pub_cell)
        if not examine.any():
            continue
        todo, counts = screen(fam, examine)
        if todo:
            parents, pub_rows = _parents(fam), _published_rows(fam)
            todo = [t for t in todo if not (t.row >= 0 and _implied(fam, t, parents, pub_rows))]
        left = None if budget is None else max(0.0, budget - (time.perf_counter() - start))
        found, open_, more = solve(fam, todo, time_limit=time_limit, budget=left)
        _log.debug(
            "%s: %d to solve, %d pinned, %d undecided, %.1f s in; %s",
            family[0], len(todo), len(found), len(open_), time.perf_counter() - start, more,
        )  # fmt: skip
        totals["examined"] += counts["examined"]
        totals["cleared"] += counts["cleared"]
        for key in ("decided", "lp", "milp"):
            totals[key] += more[key]
        found_rows.append(_figure_rows(found, fcells, frows))
        undecided_rows.append(_figure_rows(open_, fcells, frows))
    columns = [*_KEYS, "option", "finding", "description", "respondents"]
    return BoundsReport(
        published_cells=published,
        hidden_cells=hidden,
        findings=_concat(found_rows, columns),
        undecided=_concat(undecided_rows, columns),
        seconds=time.perf_counter() - start,
        public=tuple(public),
        **totals,
    )
