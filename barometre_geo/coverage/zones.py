"""Geometry of coverage: uncovered zones and overlaps (distances: :mod:`.nearby`).

Used by :func:`barometre_geo.coverage.coverage`; works on row positions of
``territories.communes`` (a valid polygonal coverage).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..territories.adjacency import components

__all__ = ["ZONE_ID_SCHEME", "overlap_pairs", "uncovered_zones"]


def _join(values) -> str:
    return " ".join(sorted(set(values)))


def _union(geoms):
    import shapely

    return shapely.coverage_union_all(np.asarray(geoms, dtype=object))


#: How zone ids read; quoted in the map legend, the GeoPackage and the data dictionary.
ZONE_ID_SCHEME = (
    "Identifiant « Z<département>-<rang> » : zone non couverte du département, numérotée "
    "par population décroissante dans ce département (Z14-01 : la plus peuplée du Calvados)."
)


def _zone_name(dep_name: str, dep: str, top: str, n: int) -> str:
    """« Calvados (14) : Caen et 12 autres communes »."""
    rest = "" if n == 1 else f" et {n - 1} autre" + (" commune" if n == 2 else "s communes")
    return f"{dep_name} ({dep}) : {top}{rest}"


def uncovered_zones(
    communes, covered: np.ndarray, i: np.ndarray, j: np.ndarray, *, departement_names=None
):
    """Dissolve contiguous uncovered communes of one département into zones.

    Two uncovered communes are in the same zone when a chain of uncovered
    communes of their département links them edge to edge (rook adjacency):
    zones never cross a département boundary, so that each zone is in the
    hands of one set of local actors (préfecture, conseil départemental,
    OPSN of the département) and stays small enough to act on.

    Parameters
    ----------
    communes : geopandas.GeoDataFrame
        ``territories.communes``.
    covered : numpy.ndarray of bool
        Covered flag per commune (row position).
    i, j : numpy.ndarray
        Rook adjacency pairs of the communes (row positions).
    departement_names : mapping, optional
        Département code → name, for the zone names (default: the code).

    Returns
    -------
    (geopandas.GeoDataFrame, numpy.ndarray)
        The zones sorted by population (ids in :data:`ZONE_ID_SCHEME`), and
        for each commune the id of its zone (``None`` when covered).
    """
    import geopandas as gpd

    names = dict(departement_names or {})
    dep_all = communes["departement"].astype(str).to_numpy()
    free = np.flatnonzero(~covered)
    local = np.full(len(communes), -1, dtype=np.int64)
    local[free] = np.arange(len(free))
    both = ~covered[i] & ~covered[j] & (dep_all[i] == dep_all[j])
    labels = components(len(free), local[i[both]], local[j[both]])
    sub = communes.iloc[free]
    pop = sub["population"].fillna(0).astype("int64").to_numpy()
    frame = pd.DataFrame(
        {
            "label": labels,
            "pos": free,
            "code": sub["code"].to_numpy(),
            "nom": sub["nom"].to_numpy(),
            "population": pop,
            "area_km2": sub["area_km2"].to_numpy(),
            "departement": dep_all[free],
            "region": sub["region"].to_numpy(),
            "zone": sub["zone"].to_numpy(),
        }
    )
    geoms = communes.geometry.to_numpy()
    # one sort for every zone: its communes by code, its main commune first by population
    frame = frame.sort_values(["label", "code"], kind="stable", ignore_index=True)
    groups = frame.groupby("label", sort=True)
    top = frame.sort_values(
        ["label", "population", "code"], ascending=[True, False, True], kind="stable"
    ).drop_duplicates("label")
    agg = groups.agg(
        n_communes=("code", "size"),
        population=("population", "sum"),
        area_km2=("area_km2", "sum"),
        first=("code", "first"),
    )
    top = top.set_index("label").loc[agg.index]
    codes = frame["code"].to_numpy()
    positions = frame["pos"].to_numpy()
    index = groups.indices
    rows = []
    for label, t, a in zip(agg.index, top.itertuples(), agg.itertuples(), strict=True):
        idx = index[label]
        dep = t.departement
        rows.append(
            {
                "nom": _zone_name(names.get(dep, dep), dep, t.nom, a.n_communes),
                "commune_principale": t.nom,
                "n_communes": a.n_communes,
                "population": int(a.population),
                "area_km2": float(a.area_km2),
                "departement": dep,
                "departement_nom": names.get(dep, dep),
                "region": t.region,
                "zone": t.zone,
                "communes": " ".join(codes[idx]),
                "first": a.first,
                "positions": positions[idx],
                "geometry": _union(geoms[positions[idx]]),
            }
        )
    cols = ["zone_id", "nom", "commune_principale", "n_communes", "population", "area_km2"]
    cols += ["departement", "departement_nom", "region", "zone", "communes", "geometry"]
    zone_of = np.full(len(communes), None, dtype=object)
    if not rows:
        return gpd.GeoDataFrame(columns=cols, geometry="geometry", crs=communes.crs), zone_of
    zones = pd.DataFrame(rows).sort_values(
        ["population", "area_km2", "first"], ascending=[False, False, True], ignore_index=True
    )
    rank = zones.groupby("departement", sort=False).cumcount() + 1
    width = zones.groupby("departement")["departement"].transform("size").astype(str).str.len()
    zones["zone_id"] = [
        f"Z{d}-{k:0{max(2, w)}d}" for d, k, w in zip(zones["departement"], rank, width, strict=True)
    ]
    for zid, positions in zip(zones["zone_id"], zones["positions"], strict=True):
        zone_of[positions] = zid
    zones["population"] = zones["population"].astype("int64")
    return gpd.GeoDataFrame(zones[cols], geometry="geometry", crs=communes.crs), zone_of


def overlap_pairs(communes, members: pd.DataFrame, names: dict):
    """Pairs of structures serving the same communes, with the shared area dissolved.

    ``members`` has columns ``structure`` and ``pos`` (commune row position).
    One row per pair and zone (a pair overlapping in metropolitan France and
    overseas gets one row for each, so that each row has one projection).
    """
    import geopandas as gpd

    cols = ["structure_a", "nom_a", "structure_b", "nom_b", "n_communes", "population"]
    cols += ["area_km2", "departements", "zone", "communes", "geometry"]
    multi = members.groupby("pos")["structure"].transform("size") > 1
    m = members.loc[multi, ["structure", "pos"]]
    pairs = m.merge(m, on="pos", suffixes=("_a", "_b"))
    pairs = pairs[pairs["structure_a"] < pairs["structure_b"]]
    if pairs.empty:
        return gpd.GeoDataFrame(columns=cols, geometry="geometry", crs=communes.crs)
    geoms = communes.geometry.to_numpy()
    pop = communes["population"].fillna(0).astype("int64").to_numpy()
    area = communes["area_km2"].to_numpy()
    code = communes["code"].to_numpy()
    dep = communes["departement"].to_numpy()
    rows = []
    pairs = pairs.assign(zone=communes["zone"].to_numpy()[pairs["pos"].to_numpy()])
    for (a, b, zone), g in pairs.groupby(["structure_a", "structure_b", "zone"], sort=True):
        pos = np.sort(g["pos"].to_numpy())
        rows.append(
            {
                "structure_a": a,
                "nom_a": names[a],
                "structure_b": b,
                "nom_b": names[b],
                "n_communes": len(pos),
                "population": int(pop[pos].sum()),
                "area_km2": float(area[pos].sum()),
                "departements": _join(dep[pos]),
                "zone": zone,
                "communes": " ".join(code[pos]),
                "geometry": _union(geoms[pos]),
            }
        )
    out = pd.DataFrame(rows).sort_values(["n_communes", "structure_a"], ascending=[False, True])
    return gpd.GeoDataFrame(out[cols].reset_index(drop=True), geometry="geometry", crs=communes.crs)
