"""Comparison of one collectivity with similar ones (« auto-positionnement »).

:func:`compare` puts a collectivity's own answers next to the figures of its
peers, for every indicator it answered (its latest response of each wave):

* ``strate``: same type, same population stratum, in France;
* ``departement``: same type in its département (an EPCI's is its seat's);
* ``region``: same type in its région;
* ``france``: every respondent in France (the national figure of the report).

Each figure comes with its number of valid answers ``n`` and its 95 %
confidence interval (Wilson for shares, Student t for means, see
:mod:`barometre_geo.stats.intervals`). The type is the declared ``type_label``
(commune, communauté de communes, département…), the stratum the population
class of :mod:`barometre_geo.stats.strata`.

Protection
----------
The figures are cells of :func:`barometre_geo.aggregate` in **public** mode
with the breakdowns ``type_label`` and ``type_strate`` (type × stratum) at
département, région and France level, so every cell any fiche can show has
gone through the same primary and complementary suppression, nestings
between the two breakdowns included: the fiches of all collectivities
together reveal no more than that table. On top of it:

* **k others.** The collectivity's own answer is *included* in its groups'
  figures (they are the published figures of those groups), and it knows that
  answer: a group of ``n`` valid answers tells it the sum of ``n − 1`` others.
  A group is shown only when it holds at least ``k`` valid answers *besides
  the collectivity's own* (``k_sensitive`` for sensitive indicators).
* **Type × stratum crossing.** The national type × stratum cell is checked
  against the national type, the national stratum (which open data may
  publish) and France: each part obtained by difference (same type other
  strata, same stratum other types, neither) holds 0 or at least ``k``
  answers.
* **Levels.** A sensitive indicator is shown only at the levels the catalogue
  publishes it at (never per commune / EPCI anyway: the groups are
  départements, régions and France).

A group that fails is never shown: the next larger group is used
(département → région → type in France → France; stratum → type in France →
France) and the ``note`` says which one and why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SchemaError, UnknownValueError
from .rows import (
    PEER_LEVEL_LABELS,
    PEER_LEVELS,
    SEP,
    TYPE_STRATE,
    cells_of,
    fiche_rows,
    group_labels,
    own_answer,
)

__all__ = [
    "COMPARISON_COLUMNS",
    "PEER_LEVELS",
    "PEER_LEVEL_LABELS",
    "Comparison",
    "PeerGroups",
    "compare",
    "peer_groups",
]

#: Identification questions: not compared (the type defines the peers).
NOT_COMPARED = ("profil_type_collectivite", "profil_fonction")
#: Columns of :attr:`Comparison.table`.
COMPARISON_COLUMNS: tuple[str, ...] = (
    "indicator",
    "label",
    "question",
    "theme",
    "theme_label",
    "sensitive",
    "statistic",
    "option",
    "option_label",
    "own_answer",
    "own_value",
    "peer_level",
    "peer_label",
    "group_level",
    "group_label",
    "n",
    "value",
    "ci_low",
    "ci_high",
    "position",
    "note",
)


@dataclass(frozen=True)
class PeerGroups:
    """Protected peer figures of every collectivity, reusable across fiches.

    Attributes
    ----------
    table : pandas.DataFrame
        Rows of :func:`barometre_geo.aggregate` (public mode, no weights) at
        département and région level by ``type_label``, and at France level
        (total, ``type_label`` and ``type_strate``).
    counts : Mapping
        Per indicator, valid answers in France by type × stratum, type,
        stratum and in total (the crossing check of the module docstring).
    k, k_sensitive : int
    indicators : tuple of str
    strata : tuple of int
    """

    table: pd.DataFrame
    counts: Mapping[str, dict]
    k: int
    k_sensitive: int
    indicators: tuple[str, ...]
    strata: tuple[int, ...]


def _with_catalogue(responses, catalogue):
    data = getattr(responses, "data", None)
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(
            f"compare() expects a Responses object (with a .data table), got "
            f"{type(responses).__name__}. Use barometre_geo.read_responses(...) or "
            "barometre_geo.load_demo()."
        )
    missing = [c for c in ("kind", "type_label", "level", "code", "wave") if c not in data]
    if missing:
        raise SchemaError(
            f"responses.data lacks the column(s) {missing} needed to find a collectivity and "
            "its peers (contract 'Responses' in docs/contracts/survey.md). Read the exports with "
            "barometre_geo.read_responses()."
        )
    if catalogue is not None:
        responses = dataclasses.replace(responses, catalogue=catalogue)
    elif getattr(responses, "catalogue", None) is None:
        from ..survey.catalogue import load_catalogue

        responses = dataclasses.replace(responses, catalogue=load_catalogue())
    return responses


def _prepared(data, territories, strata):
    from ..stats.prepare import _dedup_latest, prepare_rows
    from ..stats.strata import assign_strata
    from ..stats.units import build_geo

    prep = prepare_rows(data, build_geo(territories))
    stratum = pd.Series(assign_strata(prep.population, strata), index=data.index)
    return prep, stratum.astype(object).where(stratum.notna(), None), _dedup_latest(data)


def _compared(catalogue, data: pd.DataFrame, indicators) -> list:
    cols = set(data.columns)
    present = [
        i
        for i in catalogue.indicators
        if i.id not in NOT_COMPARED and all(c in cols for c in i.columns)
    ]
    if indicators is None:
        return present
    wanted = [indicators] if isinstance(indicators, str) else list(indicators)
    for w in wanted:
        catalogue.get(w)  # UnknownValueError with close ids
    return [i for i in present if i.id in set(wanted)]


def peer_groups(
    responses,
    *,
    territories=None,
    k: int = 5,
    k_sensitive: int = 10,
    indicators: str | Sequence[str] | None = None,
    catalogue=None,
) -> PeerGroups:
    """Compute the protected peer figures once, to draw many fiches with :func:`compare`.

    ``compare(code, responses)`` computes them for the indicators that
    collectivity answered; an OPSN drawing the fiche of each of its members
    passes ``peers=peer_groups(responses)`` instead (same figures, computed
    once: a few seconds on a full edition).

    Examples
    --------
    >>> import barometre_geo as bg
    >>> from barometre_geo.testing import random_responses
    >>> r = random_responses(300, seed=3)
    >>> peers = bg.peer_groups(r, indicators="cyber_pca")
    >>> peers.k, sorted(peers.table["level"].astype(str).unique())
    (5, ['departement', 'france', 'region'])
    """
    from ..indicators.aggregate import aggregate
    from ..protection.rules import check_thresholds
    from ..stats.prepare import indicator_measures
    from ..stats.strata import parse_strata

    k, k_sensitive = check_thresholds(k, k_sensitive)
    responses = _with_catalogue(responses, catalogue)
    if territories is None:
        from ..territories.load import load_territories

        territories = load_territories()
    data = responses.data
    strata = parse_strata(None)
    inds = _compared(responses.catalogue, data, indicators)
    if not inds:
        raise SchemaError(
            "responses.data has no column of the indicators asked for. Read the exports "
            "with read_responses() (it names the columns after the catalogue ids)."
        )
    prep, stratum, dedup = _prepared(data, territories, strata)
    type_label = data["type_label"].astype(object)
    both = type_label.notna() & stratum.notna()
    crossed = (type_label.astype(str) + SEP + stratum.astype(str)).where(both, None)
    augmented = dataclasses.replace(
        responses, data=data.assign(**{TYPE_STRATE: pd.array(crossed, dtype="str")})
    )
    table = aggregate(
        augmented,
        level=["departement", "region", "france"],
        by=["type_label", TYPE_STRATE],
        indicators=[i.id for i in inds],
        territories=territories,
        k=k,
        k_sensitive=k_sensitive,
        mode="public",
        weights=None,
        strata=strata,
    )
    lv, by = table["level"].astype(str), table["by"].astype(str)
    keep = (lv.isin(["departement", "region"]) & (by == "type_label")) | (lv == "france")
    table = table[keep.to_numpy()].reset_index(drop=True)
    t_codes, t_labels = pd.factorize(type_label, use_na_sentinel=True)
    s_codes, s_labels = pd.factorize(stratum, use_na_sentinel=True)
    counts = {}
    for ind in inds:
        plan = indicator_measures(ind, data, prep.kind, options=False, dedup=dedup)
        v = plan.V
        t, s = t_codes[v], s_codes[v]
        ok = (t >= 0) & (s >= 0)
        n_ts = np.zeros((len(t_labels), len(s_labels)), dtype=np.int64)
        np.add.at(n_ts, (t[ok], s[ok]), 1)
        counts[ind.id] = {
            "types": list(map(str, t_labels)),
            "strata": list(map(str, s_labels)),
            "n_ts": n_ts,
            "n_t": np.bincount(t[t >= 0], minlength=len(t_labels)),
            "n_s": np.bincount(s[s >= 0], minlength=len(s_labels)),
            "n_all": int(v.sum()),
        }
    return PeerGroups(
        table=table,
        counts=counts,
        k=k,
        k_sensitive=k_sensitive,
        indicators=tuple(i.id for i in inds),
        strata=strata,
    )


@dataclass(frozen=True)
class Comparison:
    """A collectivity's answers next to its peers' figures (see :func:`compare`).

    Attributes
    ----------
    code, nom, kind, level : str
        The collectivity (``level`` None for a syndicat).
    type_label, stratum : str
        Its type and population class (``stratum`` None without population).
    population : int or None
    departement, departement_nom, region, region_nom : str or None
    waves : tuple of int
        Waves whose answers are compared.
    table : pandas.DataFrame
        Columns :data:`COMPARISON_COLUMNS`: one row per indicator (× option
        for multiple choice) × peer level. ``value`` and the interval are
        shares in 0–1 (``statistic`` ``share`` / ``option_share``) or means in
        % (``mean``); ``own_value`` is the collectivity's answer on the same
        scale (1 / 0 for yes / no and ticked / not ticked); ``position`` is
        ``au-dessus``, ``en dessous`` or ``dans l'intervalle`` (own value
        against the peers' interval; empty for single-choice answers, whose
        ``value`` is the share of peers who gave the same answer).
    k, k_sensitive : int
    edition : str
    synthetic : bool
    """

    input: str
    code: str
    nom: str
    kind: str
    level: str | None
    type_label: str
    stratum: str | None
    population: int | None
    departement: str | None
    departement_nom: str | None
    region: str | None
    region_nom: str | None
    waves: tuple[int, ...]
    table: pd.DataFrame
    k: int
    k_sensitive: int
    edition: str
    synthetic: bool

    def to_html(self) -> str:
        """Return the fiche as a self-contained French HTML page (no script)."""
        from .render import render_page

        return render_page(self)

    def save(self, path) -> Path:
        """Write :meth:`to_html` to ``path`` (written to a temporary file, then renamed)."""
        from ..maps._files import atomic_write

        path = Path(path)
        if path.is_dir():
            raise UnknownValueError(
                f"{path} is a folder: give a file name, e.g. {path / 'fiche.html'}."
            )
        return atomic_write(path, self.to_html())

    def to_text(self) -> str:
        """Return a plain-text summary for the terminal (French)."""
        from .render import render_text

        return render_text(self)

    def to_dict(self) -> dict:
        """Return a JSON-able dict: the collectivity, thresholds and the table's rows."""
        rows = self.table.astype(object).where(self.table.notna(), None).to_dict("records")
        meta = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        meta.pop("table")
        meta["waves"] = list(self.waves)
        return {**meta, "rows": rows}

    def _repr_html_(self) -> str:
        from .render import render_fragment

        return render_fragment(self)

    def __repr__(self) -> str:
        flag = " [DONNÉES SYNTHÉTIQUES]" if self.synthetic else ""
        shown = int(self.table["value"].notna().sum())
        return (
            f"<Comparison {self.nom} ({self.code}){flag}: "
            f"{self.table['indicator'].nunique()} indicators, {shown}/{len(self.table)} "
            f"peer figures shown, k={self.k}>"
        )


def compare(
    code,
    responses,
    *,
    territories=None,
    k: int = 5,
    k_sensitive: int = 10,
    wave: int | None = None,
    catalogue=None,
    departement=None,
    peers: PeerGroups | None = None,
) -> Comparison:
    """Compare one collectivity's answers with those of similar collectivities.

    Parameters
    ----------
    code : str
        INSEE code, SIREN (EPCI, syndicat) or name, read by the resolver
        (:meth:`Territories.resolve`).
    responses : Responses
        The edition (:func:`barometre_geo.read_responses`, :func:`barometre_geo.load_demo`).
    territories : Territories, optional
        Default: the embedded COG 2025.
    k, k_sensitive : int
        Minimum number of valid answers *besides the collectivity's own* of a
        shown group (sensitive indicators: ``k_sensitive``), on top of the
        public protection of :func:`barometre_geo.aggregate`.
    wave : int, optional
        Compare only that wave's questionnaires (and the identification block);
        default every wave the collectivity answered.
    catalogue : Catalogue, optional
        Default: the responses' catalogue.
    departement : str, optional
        Hint for an ambiguous name ("Saint-Denis", departement="93").
    peers : PeerGroups, optional
        Figures computed once by :func:`peer_groups` (same ``k``), to draw many fiches.

    Returns
    -------
    Comparison

    Raises
    ------
    UnknownValueError
        Unresolved or ambiguous ``code`` (candidates listed), a collectivity
        without response (waves present listed), a wave it did not answer,
        ``peers`` computed with other thresholds.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> from barometre_geo.testing import random_responses
    >>> r = random_responses(400, seed=1, indicators=["cyber_pca", "infra_saas"])
    >>> code = r.data.loc[r.data["kind"] == "commune", "code"].iloc[0]
    >>> c = bg.compare(code, r)
    >>> c.table["peer_level"].unique().tolist()
    ['strate', 'departement', 'region', 'france']
    """
    from ..protection.rules import check_thresholds
    from ..stats.prepare import indicator_measures
    from .find import find_collectivity, own_rows

    k, k_sensitive = check_thresholds(k, k_sensitive)
    responses = _with_catalogue(responses, catalogue)
    if peers is not None and (peers.k, peers.k_sensitive) != (k, k_sensitive):
        raise UnknownValueError(
            f"peers were computed with k={peers.k}, k_sensitive={peers.k_sensitive}, not "
            f"k={k}, k_sensitive={k_sensitive}. Pass the same thresholds, or recompute "
            f"peer_groups(responses, k={k}, k_sensitive={k_sensitive})."
        )
    if territories is None:
        from ..territories.load import load_territories

        territories = load_territories()
    data, cat = responses.data, responses.catalogue
    target = find_collectivity(code, data, territories, departement=departement)
    per_wave = own_rows(target, data, wave)
    strata = peers.strata if peers is not None else None
    prep, stratum_of, dedup = _prepared(data, territories, strata)
    answered = []  # (indicator, row, plan, own)
    for ind in _compared(cat, data, None):
        if ind.wave > 0 and ind.wave not in per_wave:
            continue
        plan = indicator_measures(ind, data, prep.kind, options=False, dedup=dedup)
        rows = [p for p in target.rows if plan.R[p]]
        row = per_wave[ind.wave] if ind.wave > 0 and per_wave[ind.wave] in rows else None
        row = rows[-1] if ind.wave == 0 and rows else row
        if row is None:
            continue
        own = own_answer(ind, data, row)
        if own[0]:
            answered.append((ind, row, plan, own))
    if not answered:
        fix = (
            "Pass wave=None to use every wave it answered."
            if wave is not None
            else "Check the reader's mapping of the question columns (report.unknown_values, "
            "report.ignored_columns)."
        )
        raise UnknownValueError(
            f"{target.nom} answered no comparable question in wave(s) "
            f"{', '.join(map(str, per_wave))} (identification questions are not compared). {fix}"
        )
    if peers is None:
        peers = peer_groups(
            responses,
            territories=territories,
            k=k,
            k_sensitive=k_sensitive,
            indicators=[a[0].id for a in answered],
        )
    absent = [a[0].id for a in answered if a[0].id not in peers.indicators]
    if absent:
        raise SchemaError(
            f"peers lack the indicator(s) {absent[:5]} answered by {target.nom}. Compute "
            "peer_groups(responses) on every indicator (indicators=None)."
        )
    last = list(per_wave.values())[-1]
    type_label = str(data["type_label"].iloc[last])
    stratum = stratum_of.iloc[last]
    dep = data["departement"].astype(object).iloc[last] if "departement" in data else None
    reg = data["region"].astype(object).iloc[last] if "region" in data else None
    dep, reg = (None if pd.isna(x) else str(x) for x in (dep, reg))
    noms = {
        lv: dict(zip(territories.level(lv)["code"], territories.level(lv)["nom"], strict=True))
        for lv in ("departement", "region")
    }
    dep_nom, reg_nom = noms["departement"].get(dep), noms["region"].get(reg)
    labels = group_labels(type_label, stratum, dep, dep_nom, reg_nom)
    cells = cells_of(peers, type_label, stratum, dep, reg)
    rows = fiche_rows(answered, peers, cells, labels, type_label, stratum, cat)
    table = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    for col in ("n",):
        table[col] = pd.array(table[col], dtype="Int64")
    for col in ("own_value", "value", "ci_low", "ci_high"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype("float64")
    pop = prep.population[last]
    return Comparison(
        input=target.input,
        code=target.code,
        nom=target.nom,
        kind=target.kind,
        level=target.level,
        type_label=type_label,
        stratum=stratum,
        population=None if np.isnan(pop) else int(pop),
        departement=dep,
        departement_nom=dep_nom,
        region=reg,
        region_nom=reg_nom,
        waves=tuple(per_wave),
        table=table,
        k=k,
        k_sensitive=k_sensitive,
        edition=str(getattr(responses, "edition", "")),
        synthetic=bool(getattr(responses, "synthetic", False)),
    )
