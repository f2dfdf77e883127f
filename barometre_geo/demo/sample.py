"""Respondents of the synthetic demo edition: which collectivities answered which wave.

The design reproduces the published profile of the first edition
(``shared/docs/published-figures.md``) *by construction*:

* exact numbers of accepted responses per wave and kind (:data:`WAVE_PLAN`):
  2,174 / 629 / 587 responses, 3,117 distinct collectivities (273 responses of
  waves 2–3 come from collectivities that answered an earlier wave), 88 %
  communes;
* exact strata of the responding communes (60 % under 1,000 inhabitants, 25 %
  of 1,000–5,000), with the real population of the COG;
* responses per région near :data:`REGION_TARGETS` (Nouvelle-Aquitaine and
  Auvergne-Rhône-Alpes in the 400–600 band, Occitanie next), by raking the
  inclusion probabilities of the communes to the région and stratum totals
  and drawing exact counts per (région, stratum) cell;
* higher participation where a mutualisation structure serves the commune
  (the illustrative structures) and in some départements (a random
  mobilisation effect).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..territories.text import luhn_ok

__all__ = ["REGION_TARGETS", "WAVE_PLAN", "WAVE_WINDOWS", "draw_respondents", "rank_pick"]

#: kind -> ((responses in waves 1, 2, 3), (wave-2 responses of wave-1 respondents,
#: wave-3 responses of earlier respondents)). 3,390 responses, 273 repeats.
WAVE_PLAN: dict[str, tuple[tuple[int, int, int], tuple[int, int]]] = {
    "commune": ((1913, 553, 517), (120, 116)),
    "epci": ((160, 48, 44), (10, 9)),
    "departement": ((26, 12, 10), (5, 4)),
    "region": ((6, 5, 3), (2, 2)),
    "collectivite_a_statut_particulier": ((2, 0, 2), (0, 1)),
    "syndicat": ((67, 11, 11), (2, 2)),
}

#: Responses per région, all kinds and waves (sum 3,390): Nouvelle-Aquitaine and
#: Auvergne-Rhône-Alpes in the 400–600 band, Occitanie over-represented, the others
#: in 200–400 or 0–200 (Paroles d'élus; Localtis, Oct 2025).
REGION_TARGETS: dict[str, int] = {
    "75": 530, "84": 480, "76": 360, "44": 290, "27": 250, "32": 240, "53": 230,
    "24": 210, "28": 200, "52": 190, "11": 150, "93": 140, "94": 35, "04": 30,
    "01": 20, "02": 15, "03": 12, "06": 8,
}  # fmt: skip

#: (first day, last day) of each wave (study report, p. 5).
WAVE_WINDOWS = {
    1: ("2023-11-01", "2024-02-07"),
    2: ("2024-02-19", "2025-02-26"),
    3: ("2025-02-27", "2025-05-23"),
}

_STRATA = (1000, 5000)  # upper bounds of the first two strata of the published profile
_STRATUM_SHARES = (0.60, 0.25, 0.15)
_SERVED_FACTOR = 2.2  # "là où il y a un OPSN, il y a des réponses"
_EXCLUDED = {"commune": {"75056"}, "epci": {"200046977"}}  # Paris, Lyon: statut particulier
_CSP = ("200094332", "200076958", "200055507", "200052678", "200046977", "229850003")


def rank_pick(rng, weights: np.ndarray, n: int) -> np.ndarray:
    """Draw ``n`` indices without replacement, with probability increasing with ``weights``.

    Efraimidis–Spirakis keys (``log(u) / w``): the ``n`` largest are drawn.
    """
    w = np.asarray(weights, dtype=float)
    keys = np.log(rng.random(len(w))) / np.maximum(w, 1e-12)
    return np.sort(np.argsort(-keys, kind="stable")[:n])


def _member(values: pd.Series, allowed) -> np.ndarray:
    """``values.isin(allowed)`` as a numpy mask (faster on Arrow-backed strings)."""
    allowed = set(allowed)
    return np.fromiter((v in allowed for v in values.to_numpy(dtype=object)), bool, len(values))


def _largest_remainder(expected: np.ndarray, total: int, cap: np.ndarray) -> np.ndarray:
    """Integers summing to ``total``, close to ``expected`` and never above ``cap``."""
    expected = np.minimum(expected * total / max(expected.sum(), 1e-12), cap)
    out = np.minimum(np.floor(expected).astype(np.int64), cap)
    while out.sum() < total:
        room = out < cap
        gap = np.where(room, expected - out, -np.inf)
        out[int(np.argmax(gap))] += 1
    return out


def _centres(t) -> pd.DataFrame:
    """Approximate centre (km east, km north) of every commune, from its bounds."""
    b = t.communes.geometry.bounds
    lon = (b["minx"] + b["maxx"]).to_numpy() / 2
    lat = (b["miny"] + b["maxy"]).to_numpy() / 2
    return pd.DataFrame({"x": lon * 111.32 * np.cos(np.radians(46.5)), "y": lat * 110.57},
                        index=t.communes["code"].to_numpy())  # fmt: skip


def _commune_pool(rng, t, served: np.ndarray, dep_eff: dict, n_total: int) -> np.ndarray:
    """Positions of ``n_total`` distinct responding communes (strata and régions raked)."""
    c = t.communes
    pop = c["population"].astype("float64").fillna(0).to_numpy()
    stratum = np.digitize(pop, _STRATA)
    regions = sorted(REGION_TARGETS)
    reg_ix = pd.Categorical(c["region"].astype(str), categories=regions).codes
    share = n_total / sum(REGION_TARGETS.values())
    reg_target = np.array([REGION_TARGETS[r] * share for r in regions])
    strat_target = np.array([round(s * n_total) for s in _STRATUM_SHARES])
    strat_target[0] += n_total - strat_target.sum()
    eligible = ~_member(c["code"], _EXCLUDED["commune"]) & (reg_ix >= 0)
    dep = c["departement"].astype(str).map(dep_eff).fillna(0.0).to_numpy()
    base = np.where(served, _SERVED_FACTOR, 1.0) * np.exp(dep) * eligible
    a, b = np.ones(len(regions)), np.ones(3)
    for _ in range(60):  # raking of the inclusion probabilities, capped at 0.9
        pi = np.minimum(0.9, base * a[reg_ix] * b[stratum])
        a *= reg_target / np.maximum(np.bincount(reg_ix, pi, len(regions)), 1e-9)
        pi = np.minimum(0.9, base * a[reg_ix] * b[stratum])
        b *= strat_target / np.maximum(np.bincount(stratum, pi, 3), 1e-9)
    pi = np.minimum(0.9, base * a[reg_ix] * b[stratum])
    picked = []
    for s in range(3):
        in_s = stratum == s
        expected = np.bincount(reg_ix[in_s], pi[in_s], len(regions))
        cap = np.bincount(reg_ix[in_s & eligible], minlength=len(regions))
        counts = _largest_remainder(expected, int(strat_target[s]), cap)
        for r, n in enumerate(counts):
            pos = np.flatnonzero(in_s & (reg_ix == r) & eligible)
            picked.append(pos[rank_pick(rng, pi[pos], int(n))])
    return np.sort(np.concatenate(picked))


def _region_weight(regions: pd.Series, pool_counts: pd.Series) -> np.ndarray:
    """Weight making a kind's respondents follow :data:`REGION_TARGETS` across régions."""
    target = regions.astype(str).map(REGION_TARGETS).fillna(0).astype(float)
    per_unit = regions.astype(str).map(pool_counts).fillna(1).astype(float)
    return (target / per_unit).to_numpy()


def _units(rng, t, served_communes: set, dep_eff: dict) -> pd.DataFrame:
    """One row per distinct responding collectivity: kind, code, siren, nom, territory."""
    c = t.communes
    served = _member(c["code"], served_communes)
    distinct = {k: sum(n) - sum(r) for k, (n, r) in WAVE_PLAN.items()}
    frames = []
    pos = _commune_pool(rng, t, served, dep_eff, distinct["commune"])
    com = c.iloc[pos]
    frames.append(pd.DataFrame({
        "kind": "commune", "code": com["code"], "siren": com["siren"], "nom": com["nom"],
        "departement": com["departement"], "region": com["region"],
        "population": com["population"].astype("float64"), "served": served[pos],
    }))  # fmt: skip
    share_served = pd.Series(served, index=c.index).groupby(c["epci"]).mean()
    e = t.epci[~_member(t.epci["code"], _EXCLUDED["epci"])].reset_index(drop=True)
    e_served = e["code"].map(share_served).fillna(0).to_numpy() >= 0.5
    w = _region_weight(e["region"], e["region"].astype(str).value_counts())
    w = w * np.where(e_served, _SERVED_FACTOR, 1.0) * e["population"].astype(float) ** 0.25
    pick = e.iloc[rank_pick(rng, w, distinct["epci"])]
    frames.append(pd.DataFrame({
        "kind": "epci", "code": pick["code"], "siren": pick["siren"], "nom": pick["nom"],
        "departement": pick["departement"], "region": pick["region"],
        "population": pick["population"].astype("float64"), "served": e_served[pick.index],
    }))  # fmt: skip
    dep_served = pd.Series(served, index=c.index).groupby(c["departement"]).mean()
    for kind, table in (("departement", t.departements), ("region", t.regions)):
        pool = table[table["siren"].notna()].reset_index(drop=True)
        regions = pool["code"] if kind == "region" else pool["region"]
        w = _region_weight(regions, regions.astype(str).value_counts()) + 1.0
        pick = pool.iloc[rank_pick(rng, w, distinct[kind])]
        frames.append(pd.DataFrame({
            "kind": kind, "code": pick["code"], "siren": pick["siren"], "nom": pick["nom"],
            "departement": pick["code"] if kind == "departement" else None,
            "region": pick["code"] if kind == "region" else pick["region"],
            "population": pick["population"].astype("float64"),
            "served": pick["code"].map(dep_served).fillna(0).to_numpy() >= 0.5
            if kind == "departement" else False,
        }))  # fmt: skip
    frames.append(_csp_units(rng, t, distinct["collectivite_a_statut_particulier"]))
    frames.append(_syndicats(rng, t, frames[0], distinct["syndicat"]))
    units = pd.concat(frames, ignore_index=True)
    units["population"] = units["population"].astype("float64")
    units["served"] = units["served"].astype(bool)
    return units


def _csp_units(rng, t, n: int) -> pd.DataFrame:
    idf = t.identifiers
    csp = idf[(idf["kind"] == "siren_collectivite_a_statut_particulier") & idf["key"].isin(_CSP)]
    csp = csp.sort_values("key").reset_index(drop=True).iloc[rank_pick(rng, np.ones(len(csp)), n)]
    level_code = csp["code"].str.split(":", n=1, expand=True)
    deps = t.departements.set_index("code")
    regs = t.regions.set_index("code")
    epci = t.epci.set_index("code")
    rows = []
    for (level, code), (_, r) in zip(
        level_code.itertuples(index=False), csp.iterrows(), strict=True
    ):
        table = {"departement": deps, "region": regs, "epci": epci}[level]
        rec = table.loc[code]
        rows.append({
            "kind": "collectivite_a_statut_particulier", "code": code, "siren": r["key"],
            "nom": r["nom"],
            "departement": code if level == "departement" else rec.get("departement"),
            "region": code if level == "region" else rec["region"],
            "population": float(rec["population"]), "served": False,
        })  # fmt: skip
    return pd.DataFrame(rows)


_SYNDICAT_NAMES = (
    "Syndicat intercommunal à vocation multiple {lieu}",
    "Syndicat mixte numérique {lieu}",
    "SIVU informatique {lieu}",
    "Syndicat intercommunal des eaux {lieu}",
    "Syndicat mixte du bassin {lieu}",
    "Syndicat intercommunal scolaire {lieu}",
    "SIVOM {lieu}",
    "Syndicat d'énergie {lieu}",
)


def fake_siren(rng, prefix: str, taken: set) -> str:
    """Draw a 9-digit number with a valid Luhn key, absent from ``taken`` (then added)."""
    while True:
        body = prefix + "".join(str(d) for d in rng.integers(0, 10, 8 - len(prefix)))
        for last in range(10):
            s = f"{body}{last}"
            if luhn_ok(s) and s not in taken:
                taken.add(s)
                return s


def _syndicats(rng, t, communes: pd.DataFrame, n: int) -> pd.DataFrame:
    """Fictional syndicats, in départements where communes answered (weighted by them)."""
    counts = communes["departement"].astype(str).value_counts().sort_index()
    deps = rng.choice(counts.index.to_numpy(), size=n, p=(counts / counts.sum()).to_numpy())
    com = t.communes
    taken = set(com["siren"].dropna()) | set(t.epci["siren"].dropna())
    region_of = dict(zip(t.departements["code"], t.departements["region"], strict=True))
    codes = com["code"].to_numpy(dtype=object)
    names = com["nom"].to_numpy(dtype=object)
    by_dep = pd.Series(np.arange(len(com))).groupby(com["departement"].to_numpy(dtype=object))
    members = {d: idx.to_numpy() for d, idx in by_dep}
    rows = []
    for d in deps:
        local = members[d]
        seat = local[int(rng.integers(len(local)))]
        template = _SYNDICAT_NAMES[int(rng.integers(len(_SYNDICAT_NAMES)))]
        rows.append({
            "kind": "syndicat", "code": None, "siren": fake_siren(rng, "25", taken),
            "nom": template.format(lieu=f"de {names[seat]}"), "departement": d,
            "region": region_of[d], "population": np.nan, "served": False, "seat": codes[seat],
        })  # fmt: skip
    return pd.DataFrame(rows)


def _assign_waves(rng, units: pd.DataFrame) -> pd.DataFrame:
    """One row per response: each collectivity's waves, following :data:`WAVE_PLAN`."""
    out = []
    for kind, ((n1, n2, n3), (r2, r3)) in WAVE_PLAN.items():
        idx = np.flatnonzero((units["kind"] == kind).to_numpy())
        order = idx[rng.permutation(len(idx))]
        w1, rest = order[:n1], order[n1:]
        new2, new3 = rest[: n2 - r2], rest[n2 - r2 :]
        again2 = w1[np.sort(rng.permutation(len(w1))[:r2])]
        w2 = np.concatenate([again2, new2])
        earlier = np.concatenate([w1, new2])
        again3 = earlier[np.sort(rng.permutation(len(earlier))[:r3])]
        w3 = np.concatenate([again3, new3])
        assert len(new3) == n3 - r3, kind
        for wave, members in ((1, w1), (2, w2), (3, w3)):
            out.append(pd.DataFrame({"unit": members, "wave": wave}))
    resp = pd.concat(out, ignore_index=True)
    return resp


def _dates(rng, waves: np.ndarray) -> np.ndarray:
    """Submission times: many answers soon after each launch, on working days and hours."""
    out = np.empty(len(waves), dtype="datetime64[s]")
    for w, (start, end) in WAVE_WINDOWS.items():
        sel = np.flatnonzero(waves == w)
        first, last = np.datetime64(start, "D"), np.datetime64(end, "D")
        span = int((last - first).astype(int))
        day = np.floor(rng.beta(1.1, 2.2, len(sel)) * span).astype(int)
        dates = first + day.astype("timedelta64[D]")
        weekday = (dates.astype("datetime64[D]").view("int64") + 3) % 7  # 0 = Monday
        shift = np.where(weekday >= 5, 7 - weekday, 0) * (rng.random(len(sel)) < 0.85)
        dates = np.minimum(dates + shift.astype("timedelta64[D]"), last)
        seconds = (rng.normal(11.5, 2.6, len(sel)).clip(7.5, 19.5) * 3600).astype(int)
        seconds += rng.integers(0, 60, len(sel))
        out[sel] = dates.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    return out


def draw_respondents(rng, territories, served_communes: set) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw the collectivities and their responses.

    Returns
    -------
    units : pandas.DataFrame
        One row per distinct collectivity: ``kind``, ``code``, ``siren``, ``nom``,
        ``departement``, ``region``, ``population``, ``served``, ``seat`` (syndicats),
        ``x``, ``y`` (km, for the spatial effect).
    responses : pandas.DataFrame
        One row per accepted response: ``unit`` (row of ``units``), ``wave``,
        ``submitted_at``, ``latest`` (the collectivity's last response), sorted by wave
        and time.
    """
    t = territories
    dep_codes = sorted(t.departements["code"].astype(str))
    dep_eff = dict(zip(dep_codes, rng.normal(0, 0.45, len(dep_codes)), strict=True))
    units = _units(rng, t, served_communes, dep_eff)
    centres = _centres(t)
    anchor = units["code"].where(units["kind"] == "commune")
    seats = t.epci.set_index("code")["siege"]
    anchor = anchor.fillna(units["code"].map(seats)).fillna(units.get("seat"))
    dep_mean = centres.groupby(t.communes["departement"].to_numpy()).mean()
    reg_mean = centres.groupby(t.communes["region"].to_numpy()).mean()
    xy = centres.reindex(anchor.to_numpy()).reset_index(drop=True)
    for level, means in (("departement", dep_mean), ("region", reg_mean)):
        fill = means.reindex(units[level].astype(str).to_numpy()).reset_index(drop=True)
        xy = xy.fillna(fill)
    units["x"], units["y"] = xy["x"].to_numpy(), xy["y"].to_numpy()
    resp = _assign_waves(rng, units)
    resp["submitted_at"] = _dates(rng, resp["wave"].to_numpy())
    resp = resp.sort_values(["wave", "submitted_at", "unit"], kind="stable").reset_index(drop=True)
    last = resp.groupby("unit")["wave"].transform("max")
    resp["latest"] = (resp["wave"] == last).to_numpy()
    return units, resp
