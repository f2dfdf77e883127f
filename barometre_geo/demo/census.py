"""A simulated census: the demo's answer model drawn for *every* collectivity, then sampled.

The only place where the demo's generator is the truth (see
:mod:`barometre_geo.demo.validation`): :func:`simulate_census` draws the answers
of every collectivity of the reference (communes, EPCI, councils; syndicats have
no reference list and are left out) with the demo's own model
(:func:`~barometre_geo.demo.answers.covariates`,
:func:`~barometre_geo.demo.answers.draw_answers`), and :func:`sample_census`
draws respondents as the demo edition does (:func:`~barometre_geo.demo.sample.
draw_respondents`: same wave sizes, same over-representation by région, size and
coverage, département mobilisation effects), whose answers are those of the
census. The estimators under test only ever see the sample; the census gives
the true share of every territory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Census", "CensusSample", "sample_census", "simulate_census"]

_KIND_LEVEL = {"commune": "commune", "epci": "epci", "departement": "departement",
               "region": "region"}  # fmt: skip


@dataclass
class Census:
    """Every collectivity of the reference with its answers (one row per reference row × wave)."""

    units: pd.DataFrame  # aligned on geo.ref: kind, code, departement, region, population, served
    rows: pd.DataFrame  # unit, wave (1–3)
    answers: dict  # indicator -> answers aligned on rows (demo Answers format)
    catalogue: object
    territories: object
    geo: object
    served: set


@dataclass
class CensusSample:
    """A sample of the census, read like an export (``data``, ``catalogue``)."""

    data: pd.DataFrame
    catalogue: object
    edition: str = "recensement simulé"
    synthetic: bool = True


def _units(geo, territories, served_communes: set) -> pd.DataFrame:
    """One row per reference row (``geo.ref``): kind, codes, population, served, x, y."""
    from .sample import _centres

    ref = geo.ref
    kind = ref["kind"].to_numpy(dtype=object)

    def code(level, idx):
        arr = np.asarray(geo.codes[level], dtype=object)
        return np.where(idx >= 0, arr[np.maximum(idx, 0)], None)

    com = code("commune", ref["commune"].to_numpy())
    epci = code("epci", ref["epci"].to_numpy())
    dep = code("departement", ref["departement"].to_numpy())
    reg = code("region", ref["region"].to_numpy())
    # the unit's own code: commune, EPCI, council (département / région code), CSP (its level's)
    own = np.where(kind == "commune", com, np.where(kind == "epci", epci, np.where(
        dep != None, dep, reg)))  # noqa: E711  # fmt: skip
    c = territories.communes
    member = np.fromiter((x in served_communes for x in c["code"]), bool, len(c))
    share_epci = pd.Series(member).groupby(c["epci"].to_numpy()).mean()
    share_dep = pd.Series(member).groupby(c["departement"].to_numpy()).mean()
    served = np.where(
        kind == "commune",
        np.fromiter((x in served_communes for x in com), bool, len(com)),
        np.where(
            kind == "epci",
            pd.Series(epci).map(share_epci).fillna(0).to_numpy() >= 0.5,
            (kind == "departement") & (pd.Series(dep).map(share_dep).fillna(0).to_numpy() >= 0.5),
        ),
    )
    centres = _centres(territories)
    seats = territories.epci.set_index("code")["siege"]
    anchor = pd.Series(np.where(kind == "commune", com, None), dtype=object)
    anchor = anchor.fillna(pd.Series(epci, dtype=object).map(seats))
    xy = centres.reindex(anchor.to_numpy()).reset_index(drop=True)
    for level, codes in (("departement", dep), ("region", reg)):
        means = centres.groupby(c[level].to_numpy()).mean()
        xy = xy.fillna(
            means.reindex(pd.Series(codes, dtype=object).to_numpy()).reset_index(drop=True)
        )
    return pd.DataFrame({
        "kind": kind, "code": own, "commune": com, "epci": epci, "departement": dep,
        "region": reg, "population": ref["population"].to_numpy(dtype=float),
        "served": served.astype(bool), "x": xy["x"].to_numpy(), "y": xy["y"].to_numpy(),
    })  # fmt: skip


def simulate_census(seed: int, *, territories=None, catalogue=None, structures=None) -> Census:
    """Draw every collectivity's answers to every question with the demo's model.

    Each collectivity answers each wave's questionnaire once (the questions asked
    at every wave take their wave-1 answer); national shares are those of the
    demo's targets on the whole census (the model's intercepts are calibrated on
    the rows it is given).
    """
    from ..stats.units import build_geo
    from .answers import covariates, draw_answers, draw_profiles
    from .edition import default_inputs

    territories, catalogue, structures = default_inputs(territories, catalogue, structures)
    rng = np.random.default_rng(seed)
    geo = build_geo(territories)
    served = set(structures.members["commune"])
    units = _units(geo, territories, served)
    cov = covariates(rng, units)
    n = len(units)
    rows = pd.DataFrame({"unit": np.tile(np.arange(n), 3), "wave": np.repeat([1, 2, 3], n)})
    for col in ("kind", "region", "departement", "served"):
        rows[col] = units[col].to_numpy()[rows["unit"].to_numpy()]
    rows["latest"] = rows["wave"].to_numpy() == 1
    rows["profile"] = draw_profiles(rng, units, rows, cov)
    rows["stop"] = 3
    answers = draw_answers(rng, catalogue, rows, cov, set())
    return Census(units, rows, dict(answers), catalogue, territories, geo, served)


def sample_census(census: Census, seed: int) -> tuple[CensusSample, np.ndarray]:
    """Draw respondents as the demo edition does; their answers are the census's.

    Returns the sample (syndicats, absent from the census, are left out) and, per
    sampled response, the census row it reads.
    """
    from .sample import draw_respondents

    rng = np.random.default_rng(seed)
    units_s, resp_s = draw_respondents(rng, census.territories, census.served)
    key = census.units["kind"].astype(str) + ":" + census.units["code"].astype(str)
    pos = pd.Series(np.arange(len(key)), index=key.to_numpy())
    pos = pos[~pos.index.duplicated()]
    skey = units_s["kind"].astype(str) + ":" + units_s["code"].astype(str)
    unit_of = skey.map(pos).to_numpy()
    u = unit_of[resp_s["unit"].to_numpy()]
    keep = ~pd.isna(u)
    resp_s = resp_s[keep].reset_index(drop=True)
    u = u[keep].astype(np.int64)
    n_units = len(census.units)
    wave = resp_s["wave"].to_numpy()
    row = (wave - 1) * n_units + u
    row_w1 = u  # questions of every wave: wave-1 answer
    cu = census.units.iloc[u].reset_index(drop=True)
    kind = cu["kind"].to_numpy(dtype=object)
    is_c, is_e = kind == "commune", kind == "epci"
    data = {
        "response_id": [f"s{i}" for i in range(len(u))],
        "wave": wave,
        "submitted_at": pd.to_datetime(resp_s["submitted_at"]).to_numpy(),
        "kind": kind,
        "siren": [f"{k}:{c}" for k, c in zip(kind, cu["code"], strict=True)],
        "code": cu["code"].to_numpy(dtype=object),
        "commune": np.where(is_c, cu["commune"], None),
        "epci": np.where(is_c | is_e, cu["epci"], None),
        "departement": cu["departement"].to_numpy(dtype=object),
        "region": cu["region"].to_numpy(dtype=object),
        "population": cu["population"].to_numpy(dtype=float),
        "profile": census.rows["profile"].to_numpy()[row],
    }
    for ind in census.catalogue.indicators:
        if ind.column in ("kind", "profile") or ind.id not in census.answers:
            continue
        src = row_w1 if ind.wave == 0 else row
        ans = census.answers[ind.id]
        col = ind.column or ind.id
        if isinstance(ans, dict):
            answered = ans["__answered__"][src]
            for o in ind.option_ids:
                v = pd.array(ans[o][src], dtype="boolean")
                v[~answered] = pd.NA
                data[f"{col}.{o}"] = v
        elif ind.kind == "percentage":
            data[col] = np.asarray(ans, dtype=float)[src]
        else:
            data[col] = pd.Categorical(np.asarray(ans, dtype=object)[src],
                                       categories=list(ind.option_ids))  # fmt: skip
    frame = pd.DataFrame(data)
    return CensusSample(frame, census.catalogue), row


def truth(census: Census, ind, option, level: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the true value of every territory of ``level`` and its number of valid answers.

    Share (0–1) of the collectivities of the indicator's universe with a valid
    answer that give the positive answer (or the option), or their mean (%).
    """
    geo = census.geo
    units = census.units
    in_u = units["kind"].isin(list(ind.universe_kinds)).to_numpy()
    n = len(units)
    wave = 1 if ind.wave == 0 else ind.wave
    rows = (wave - 1) * n + np.arange(n)
    ans = census.answers[ind.id]
    if isinstance(ans, dict):
        valid = ans["__answered__"][rows]
        y = ans[option][rows].astype(float)
    elif ind.kind == "percentage":
        x = np.asarray(ans, dtype=float)[rows]
        valid = ~np.isnan(x)
        y = np.nan_to_num(x)
    else:
        a = np.asarray(ans, dtype=object)[rows].astype(str)
        valid = np.isin(a, list(ind.valid))
        target = list(ind.positive) if option is None else [option]
        y = np.isin(a, target).astype(float)
    ok = in_u & valid
    t = geo.ref[level].to_numpy() if level != "france" else np.zeros(n, dtype=np.int64)
    m = ok & (t >= 0)
    n_t = geo.units(level)
    cnt = np.bincount(t[m], minlength=n_t).astype(float)
    tot = np.bincount(t[m], weights=y[m], minlength=n_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        return tot / cnt, cnt
