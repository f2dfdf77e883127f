"""Helpers for analysts' own tests: build small responses, check aggregate tables.

* :func:`make_responses` builds a valid :class:`~barometre_geo.Responses` from a
  dict of answers and the territory codes of the respondents.
* :func:`random_responses` draws a synthetic edition of any size, skewed like
  the real participation (over-represented Sud-Ouest and Rhône-Alpes), with
  regional differences in the answers. It is *not* the calibrated demo
  edition; use it for tests and benchmarks.
* :func:`assert_aggregates_consistent` checks the invariants of an
  :func:`~barometre_geo.aggregate` table; :func:`assert_no_disclosure` proves
  that no published figure can be traced back to fewer than ``k`` respondents
  (see :mod:`barometre_geo.protection.disclosure`).

Examples
--------
>>> from barometre_geo.testing import make_responses
>>> r = make_responses(
...     {"cyber_pca": ["oui", "non", None]}, codes=["01001", "01002", "200000172"]
... )
>>> r.data[["kind", "epci", "departement"]].astype(str).values.tolist()
[['commune', '200069193', '01'], ['commune', '240100883', '01'], ['epci', '200000172', '74']]
>>> r.data["cyber_pca"].tolist()
['oui', 'non', nan]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import SchemaError, UnknownValueError
from ..protection.disclosure import assert_no_disclosure

__all__ = [
    "assert_aggregates_consistent",
    "assert_no_disclosure",
    "make_responses",
    "random_responses",
]

_NATURE = {
    "CC": "Communauté de communes",
    "CA": "Communauté d'agglomération",
    "CU": "Communauté urbaine",
    "MET": "Métropole",
}


def _defaults(catalogue, territories):
    if catalogue is None:
        from ..survey.catalogue import load_catalogue

        catalogue = load_catalogue()
    if territories is None:
        from ..territories.load import load_territories

        territories = load_territories()
    return catalogue, territories


def _geography(codes, kinds, territories) -> pd.DataFrame:
    """Territory columns of each respondent from its code (see make_responses)."""
    com = territories.communes.set_index("code")
    epci = territories.epci.set_index("code")
    dep = territories.departements.set_index("code")
    reg = territories.regions.set_index("code")
    rows = []
    for i, raw in enumerate(codes):
        kind = None if kinds is None else kinds[i]
        code = None if raw is None or (isinstance(raw, float) and np.isnan(raw)) else str(raw)
        if code and ":" in code:
            prefix, code = code.split(":", 1)
            kind = kind or prefix
        if kind is None:
            if code is None:
                kind = "syndicat"
            elif re.fullmatch(r"\d{9}", code):
                kind = "epci"
            elif re.fullmatch(r"\d{5}|2[AB]\d{3}", code):
                kind = "commune"
            else:
                raise SchemaError(
                    f"Respondent {i}: cannot tell the kind of code {raw!r}. Give a commune INSEE "
                    "code, an EPCI SIREN, 'departement:01', 'region:84', 'syndicat:01' or None."
                )
        r = dict.fromkeys(["commune", "epci", "departement", "region"])
        r.update(kind=kind, code=code, level=None, population=None, type_label=None, siren=None)
        table = {"commune": com, "epci": epci, "departement": dep, "region": reg}
        if kind == "syndicat":
            r["type_label"] = "Syndicat"
            if code is not None:
                r["departement"], r["region"] = code, dep.loc[code, "region"]
                r["code"], r["level"] = code, "departement"
        elif kind in table:
            if code not in table[kind].index:
                raise SchemaError(
                    f"Respondent {i}: {kind} code {code!r} is not in the territorial reference "
                    f"(COG {territories.cog}). Use a current code."
                )
            row = table[kind].loc[code]
            r["level"] = kind
            r[kind] = code
            r["siren"] = row.get("siren")
            r["population"] = row.get("population")
            if kind == "commune":
                r["epci"] = row["epci"] if pd.notna(row["epci"]) else None
                r["departement"], r["region"] = row["departement"], row["region"]
                r["type_label"] = "Commune"
            elif kind == "epci":
                r["departement"], r["region"] = row["departement"], row["region"]
                r["type_label"] = _NATURE.get(row["nature"], "EPCI à fiscalité propre")
            elif kind == "departement":
                r["region"] = row["region"]
                r["type_label"] = "Département"
            else:
                r["type_label"] = "Région"
        else:
            raise UnknownValueError(
                f"Respondent {i}: unknown kind {kind!r}. Valid kinds: commune, epci, "
                "departement, region, syndicat."
            )
        rows.append(r)
    return pd.DataFrame(rows)


def _answer_columns(catalogue, answers: Mapping, n: int) -> dict[str, pd.Series]:
    cols: dict[str, pd.Series] = {}
    for ind_id, values in answers.items():
        ind = catalogue.get(ind_id)
        values = list(values)
        if len(values) != n:
            raise ValueError(
                f"answers[{ind_id!r}] has {len(values)} values for {n} respondents: give one "
                "value (None for no answer) per code."
            )
        col = ind.column or ind.id
        opts = list(ind.option_ids)
        if ind.kind == "multiple_choice":
            for v in values:
                for o in v or ():
                    if o not in opts:
                        raise UnknownValueError(
                            f"answers[{ind_id!r}]: unknown option {o!r}. Valid options: "
                            f"{', '.join(opts)}."
                        )
            for o in opts:
                cols[f"{col}.{o}"] = pd.array(
                    [None if v is None else (o in v) for v in values], dtype="boolean"
                )
        elif ind.kind == "percentage":
            cols[col] = pd.Series([np.nan if v is None else float(v) for v in values])
        else:
            bad = sorted({str(v) for v in values if v is not None and v not in opts})
            if bad:
                raise UnknownValueError(
                    f"answers[{ind_id!r}]: unknown option(s) {bad}. Valid options: "
                    f"{', '.join(opts)}."
                )
            cols[col] = pd.Categorical(values, categories=opts)
    return cols


def make_responses(
    answers: Mapping[str, Sequence],
    *,
    codes: Sequence,
    kinds: Sequence[str] | None = None,
    waves: int | Sequence[int] | None = None,
    profiles: Sequence | None = None,
    extra: Mapping[str, Sequence] | None = None,
    catalogue=None,
    territories=None,
    edition: str = "test",
):
    """Build a valid :class:`~barometre_geo.Responses` from answers and territory codes.

    Parameters
    ----------
    answers : mapping
        ``{indicator id: one value per respondent}``: option ids (or None) for
        yes/no, single-choice and scale questions, a number in 0–100 for
        percentages, a collection of option ids (or None) for multiple choice.
    codes : sequence
        One per respondent: a commune INSEE code, an EPCI SIREN,
        ``"departement:01"``, ``"region:84"``, ``"syndicat:01"`` (a syndicat
        in that département) or ``None`` (a syndicat without territory).
        Coarser codes, populations and type labels come from the reference.
    kinds : sequence of str, optional
        Respondent kinds, when the codes do not say it.
    waves : int or sequence of int, optional
        Wave of each response; default the wave of the first answered indicator.
    profiles : sequence, optional
        ``"agent"``, ``"elu"`` or None per respondent (default all agents).
    extra : mapping, optional
        More columns (e.g. a coverage column to use as a breakdown).
    catalogue, territories : optional
        Default: the packaged catalogue and the embedded COG 2025.
    edition : str

    Returns
    -------
    Responses
        Flagged ``synthetic``.
    """
    from ..survey.responses import IngestReport, Responses

    catalogue, territories = _defaults(catalogue, territories)
    n = len(codes)
    geo = _geography(list(codes), None if kinds is None else list(kinds), territories)
    if waves is None:
        first = [catalogue.get(a).wave for a in answers if catalogue.get(a).wave > 0]
        waves = first[0] if first else 1
    wave = np.full(n, waves) if np.ndim(waves) == 0 else np.asarray(list(waves))
    if len(wave) != n:
        raise ValueError(f"waves has {len(wave)} values for {n} respondents: give one per code.")
    profile = ["agent"] * n if profiles is None else list(profiles)
    data = pd.DataFrame(
        {
            "response_id": [f"R{i:05d}" for i in range(n)],
            "edition": edition,
            "wave": wave.astype(np.int64),
            "submitted_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="h"),
            "source_file": "synthetic",
            "source_line": np.arange(2, n + 2),
        }
    )
    for col in ("kind", "type_label", "siren", "code", "level"):
        data[col] = pd.array(geo[col].to_numpy(dtype=object), dtype="str")
    for col in ("commune", "epci", "departement", "region"):
        data[col] = pd.array(geo[col].to_numpy(dtype=object), dtype="str")
    data["population"] = pd.array(geo["population"].to_numpy(dtype=object), dtype="Int64")
    data["profile"] = pd.array(profile, dtype="str")
    for name, col in _answer_columns(catalogue, answers, n).items():
        data[name] = col
    for ind_id in answers:
        ind = catalogue.get(ind_id)
        cols = [c for c in ind.columns if c in data]
        given = data[cols].notna().any(axis=1).to_numpy() if cols else np.zeros(n, bool)
        wrong = given & (ind.wave > 0) & (wave != ind.wave)
        if wrong.any():
            raise ValueError(
                f"answers[{ind_id!r}]: {int(wrong.sum())} answer(s) in responses of another "
                f"wave than the question's (wave {ind.wave}). Pass waves=... so that those "
                "respondents answered that wave, or None for the others."
            )
    for name, values in (extra or {}).items():
        data[name] = list(values)
    rows = pd.DataFrame(
        {
            "file": "synthetic",
            "line": data["source_line"],
            "state": "accepted",
            "reason": "",
            "detail": "",
            "candidates": "",
            "response_id": data["response_id"],
            "wave": data["wave"],
            "code": data["code"],
            "collectivity": data["kind"].astype(str) + ":" + data["code"].astype(str),
            "answers": 0,
            "themes": "",
        }
    )
    report = IngestReport(rows=rows, edition=edition, synthetic=True)
    return Responses(data=data, report=report, catalogue=catalogue, edition=edition, synthetic=True)


def random_responses(
    n: int = 3400,
    *,
    seed: int = 0,
    indicators: Sequence[str] | None = None,
    catalogue=None,
    territories=None,
    no_territory: int = 0,
):
    """Draw a random synthetic edition shaped like the Baromètre's participation.

    Waves follow the published 2,174 / 629 / 587 split; 88 % of respondents are
    communes (over-represented in Nouvelle-Aquitaine, Auvergne-Rhône-Alpes and
    Occitanie), the rest EPCI, départements, régions and syndicats; 76 % agents.
    Each indicator gets a random national level shifted per région and by
    population, so maps and breakdowns have something to show. ``asked_if``
    filters and universes are respected.

    Examples
    --------
    >>> r = random_responses(300, seed=2)
    >>> len(r.data), sorted(r.data["wave"].unique().tolist())
    (300, [1, 2, 3])
    """
    from .random_answers import draw_answers, draw_respondents

    catalogue, territories = _defaults(catalogue, territories)
    rng = np.random.default_rng(seed)
    codes, waves = draw_respondents(rng, n, territories, no_territory=no_territory)
    inds = catalogue.indicators if indicators is None else [catalogue.get(i) for i in indicators]
    base = make_responses(
        {},
        codes=codes,
        waves=waves,
        profiles=np.where(rng.random(n) < 0.76, "agent", "elu").tolist(),
        catalogue=catalogue,
        territories=territories,
        edition="synthetic",
    )
    data = draw_answers(rng, base.data, inds, catalogue)
    from ..survey.responses import Responses

    return Responses(
        data=data, report=base.report, catalogue=catalogue, edition="synthetic", synthetic=True
    )


def assert_aggregates_consistent(
    table: pd.DataFrame, *, k: int | None = None, catalogue=None
) -> None:
    """Check the invariants of an :func:`~barometre_geo.aggregate` table.

    Published rows have ``n ≥ 1`` (``≥ k`` when given), ``ci_low ≤ value ≤
    ci_high``, shares in 0–1 and means in 0–100, participation and population
    share in 0–1; suppressed rows carry no ``n``, value, interval, weighted
    value or design effect; every option share of a single-choice cell sums
    to 1.

    Raises
    ------
    AssertionError
        Naming the first offending rows.
    """
    from ..indicators.aggregate import AGGREGATE_COLUMNS, SUPPRESSED_COLUMNS

    missing = [c for c in AGGREGATE_COLUMNS if c not in table.columns]
    assert not missing, f"columns missing from the aggregate table: {missing}"

    def check(mask, what: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            raise AssertionError(
                f"{int(mask.sum())} row(s) {what}; first:\n"
                + table.loc[
                    mask,
                    [
                        "indicator",
                        "level",
                        "code",
                        "by",
                        "group",
                        "option",
                        "n",
                        "value",
                        "ci_low",
                        "ci_high",
                        "suppressed",
                    ],
                ]
                .head()
                .to_string()
            )

    sup = table["suppressed"].to_numpy(dtype=bool)
    leak = table[list(SUPPRESSED_COLUMNS)].notna().any(axis=1).to_numpy()
    check(sup & leak, "are suppressed but leak a figure")
    check(sup & table["reason"].isna().to_numpy(), "are suppressed without a reason")
    pub = ~sup & table["n"].notna().to_numpy()
    n = table["n"].astype("Float64").fillna(0).to_numpy(dtype=float)
    if k is not None:
        check(pub & (n < k) & (n > 0), f"are published with fewer than k={k} answers")
    v, lo, hi = (table[c].to_numpy(dtype=float) for c in ("value", "ci_low", "ci_high"))
    has = pub & ~np.isnan(v)
    eps = 1e-9
    check(has & ((lo > v + eps) | (hi < v - eps)), "have a value outside their interval")
    mean = (table["statistic"] == "mean").to_numpy()
    check(has & ~mean & ((v < -eps) | (v > 1 + eps)), "have a share outside 0–1")
    check(has & mean & ((v < -eps) | (v > 100 + eps)), "have a mean outside 0–100")
    for col in ("participation", "population_share"):
        x = table[col].to_numpy(dtype=float)
        check(x > 1 + eps, f"have a {col} above 1")
    opt = table[has & (table["statistic"] == "option_share").to_numpy()]
    if len(opt):
        if catalogue is None:
            from ..survey.catalogue import load_catalogue

            catalogue = load_catalogue()
        single = {i.id for i in catalogue.indicators if i.kind != "multiple_choice"}
        opt = opt[opt["indicator"].astype(str).isin(single)]
        keys = ["indicator", "level", "code", "by", "group"]
        sums = opt.groupby(keys, observed=True)["value"].sum()
        bad = sums[(sums - 1).abs() > 1e-9]
        assert not len(bad), f"option shares of single-choice cells do not sum to 1: {bad.head()}"
