"""What an OPSN acts on: its prospects, its figures, and the nearest structure of each commune.

Used by :func:`barometre_geo.coverage.coverage`:

* :func:`structure_keys`: the key of each structure in URLs and file names
  (its SIREN when it has a valid, unique one; else its id, as a slug);
* :func:`prospect_table`: the ``nearby`` table, one row per (structure,
  uncovered commune) ranked as an OPSN would work through it — adjacent
  communes first, then by distance, then by population;
* :func:`structure_table`: per structure, its territory, its share of the
  départements it serves, its respondents and its prospects;
* :func:`nearest_columns`: the nearest structure of each uncovered commune
  (the France-wide prospect list).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "nearest_columns",
    "prospect_table",
    "structure_keys",
    "structure_labels",
    "structure_table",
]


def structure_keys(data: pd.DataFrame) -> pd.Series:
    """Key of each structure for ``?structure=`` and file names (index: structure id).

    The SIREN when it is a 9-digit number held by one structure only, else
    the id as a slug (``-2``, ``-3``… appended on a clash).

    Examples
    --------
    >>> d = pd.DataFrame({"id": ["a", "b", "Syndicat C"], "siren": ["253514491", None, None]})
    >>> structure_keys(d).tolist()
    ['253514491', 'b', 'syndicat-c']
    """
    from ..maps._files import slugify

    siren = data["siren"].astype("string").fillna("").str.strip()
    ok = siren.str.fullmatch(r"\d{9}") & ~siren.duplicated(keep=False)
    keys, seen = [], set()
    for sid, s, good in zip(data["id"], siren, ok, strict=True):
        key = s if good else (slugify(str(sid)) or "structure")
        base, k = key, 1
        while key in seen:
            k += 1
            key = f"{base}-{k}"
        seen.add(key)
        keys.append(key)
    return pd.Series(keys, index=data["id"].to_numpy(), name="cle")


def structure_labels(data: pd.DataFrame) -> dict[str, str]:
    """Label of each structure on maps and in styles: its name, with its key if two share it.

    Examples
    --------
    >>> d = pd.DataFrame({"id": ["a", "b", "c"], "nom": ["Syndicat", "Syndicat", "Agence"],
    ...                   "siren": [None, None, None]})
    >>> structure_labels(d)
    {'a': 'Syndicat (a)', 'b': 'Syndicat (b)', 'c': 'Agence'}
    """
    keys = structure_keys(data)
    dup = data["nom"].duplicated(keep=False).to_numpy()
    return {
        i: (f"{n} ({keys[i]})" if d else str(n))
        for i, n, d in zip(data["id"], data["nom"], dup, strict=True)
    }


def prospect_table(near: pd.DataFrame, structures, c: pd.DataFrame, nearest: int) -> pd.DataFrame:
    """Rank the uncovered communes near each structure (the ``nearby`` table).

    ``near`` comes from :func:`~.nearby.nearby_uncovered`; ``c`` is the
    commune table of the result (row positions as in ``near["pos"]``). Kept:
    every adjacent commune, every commune of the départements the structure
    serves, and the ``nearest`` closest others. Order: adjacent first, then
    distance, then population (largest first), then code.
    """
    names = dict(zip(structures.data["id"], structures.data["nom"], strict=True))
    pop = c["population"].fillna(0).astype("int64").to_numpy()
    near = near.assign(
        population=pop[near["pos"].to_numpy()], code=c["code"].to_numpy()[near["pos"]]
    )
    near = near.sort_values(
        ["distance_km", "population", "code"], ascending=[True, False, True], kind="stable"
    )
    other = ~near["adjacent"] & ~near["home"]
    kept = near[other].groupby("structure", sort=False).head(nearest)
    table = pd.concat([near[~other], kept])
    order = pd.Categorical(table["structure"], categories=list(structures.data["id"]))
    table = table.assign(_o=order).sort_values(
        ["_o", "adjacent", "distance_km", "population", "code"],
        ascending=[True, False, True, False, True],
        kind="stable",
    )
    pos = table["pos"].to_numpy()

    def col(name):
        return c[name].to_numpy()[pos]

    return pd.DataFrame(
        {
            "structure": table["structure"].to_numpy(),
            "nom_structure": table["structure"].map(names).to_numpy(),
            "rank": table.groupby("structure", sort=False).cumcount().to_numpy() + 1,
            "commune": col("code"),
            "siren": col("siren"),
            "nom": col("nom"),
            "departement": col("departement"),
            "departement_nom": col("departement_nom"),
            "epci": col("epci"),
            "epci_nom": col("epci_nom"),
            "population": table["population"].to_numpy(),
            "adjacent": table["adjacent"].to_numpy(dtype=bool),
            "distance_km": table["distance_km"].to_numpy(dtype=float).round(3),
            "in_departements": table["home"].to_numpy(dtype=bool),
            "answered_waves": col("answered_waves"),
            "uncovered_zone": col("uncovered_zone"),
        }
    )


def structure_table(structures, c: pd.DataFrame, members: pd.DataFrame, nearby: pd.DataFrame):
    """Per structure: territory, share of its départements, respondents, prospects."""
    d = structures.data.set_index("id")
    pos_all = members["pos"].to_numpy()
    pop = c["population"].fillna(0).astype("int64").to_numpy()
    answered = c["answered_waves"].fillna("").to_numpy() != ""
    m = pd.DataFrame(
        {
            "id": members["structure"].to_numpy(),
            "population": pop[pos_all],
            "area_km2": c["area_km2"].to_numpy()[pos_all],
            "shared": (c["n_structures"].to_numpy()[pos_all] > 1).astype("int64"),
            "respondents": answered[pos_all].astype("int64"),
        }
    ).groupby("id")

    def total(series, fill=0, dtype="int64"):
        return series.reindex(d.index).fillna(fill).astype(dtype).to_numpy()

    a = nearby[nearby["adjacent"]].groupby("structure")
    per = pd.DataFrame({"id": d.index, "cle": structure_keys(structures.data).to_numpy()})
    per["nom"] = d["nom"].to_numpy()
    for name in ("siren", "type", "statut"):
        per[name] = d[name].to_numpy()
    per["n_communes"] = d["n_communes"].to_numpy()
    per["population"] = total(m["population"].sum())
    per["area_km2"] = total(m["area_km2"].sum(), 0.0, "float64")
    per["departements"] = d["departements"].to_numpy()
    # its share of the départements it serves
    dep = c["departement"].to_numpy()
    dep_communes = pd.Series(1, index=dep).groupby(level=0).sum()
    dep_pop = pd.Series(pop, index=dep).groupby(level=0).sum()
    codes = [str(x).split() for x in d["departements"].fillna("")]
    per["n_communes_departements"] = [int(dep_communes.reindex(k).sum()) for k in codes]
    per["population_departements"] = [int(dep_pop.reindex(k).sum()) for k in codes]
    with np.errstate(invalid="ignore", divide="ignore"):
        per["share_communes_departements"] = per["n_communes"] / per["n_communes_departements"]
        per["share_population_departements"] = per["population"] / per["population_departements"]
    per["n_shared"] = total(m["shared"].sum())
    per["n_respondents"] = total(m["respondents"].sum())
    if c["answered_waves"].isna().all():  # no responses given: unknown, not zero
        per["n_respondents"] = pd.array([pd.NA] * len(per), dtype="Int64")
    per["n_adjacent_uncovered"] = total(a.size())
    per["population_adjacent_uncovered"] = total(a["population"].sum())
    nearest = nearby.groupby("structure")["distance_km"].min()
    per["nearest_uncovered_km"] = nearest.reindex(d.index).to_numpy()
    g = nearby.groupby("structure")
    per["n_prospects"] = total(g.size())
    per["n_prospects_answered"] = total(
        g["answered_waves"].agg(lambda w: (w.fillna("") != "").sum())
    )
    return per


def nearest_columns(found: pd.DataFrame, names: dict, n: int) -> dict[str, np.ndarray]:
    """Columns of the nearest structure of each uncovered commune (NA when covered).

    ``found`` comes from :func:`~.nearby.nearest_structure`; ``n`` is the
    number of communes.
    """
    ids = np.full(n, None, dtype=object)
    noms = np.full(n, None, dtype=object)
    km = np.full(n, np.nan)
    adjacent = pd.array([pd.NA] * n, dtype="boolean")
    approx = pd.array([pd.NA] * n, dtype="boolean")
    pos = found["pos"].to_numpy(dtype=np.int64)
    ordered = [sorted(s, key=lambda x: (names[x], x)) for s in found["structures"]]
    ids[pos] = [" ".join(s) for s in ordered]
    noms[pos] = [" ; ".join(names[x] for x in s) for s in ordered]
    km[pos] = found["distance_km"].to_numpy(dtype=float).round(3)
    adjacent[pos] = found["adjacent"].to_numpy(dtype=bool)
    approx[pos] = found["approx"].to_numpy(dtype=bool)
    return {
        "nearest_structures": pd.array(ids, dtype="string"),
        "nearest_structures_nom": pd.array(noms, dtype="string"),
        "nearest_km": km,
        "nearest_adjacent": adjacent,
        "nearest_approx": approx,
    }
