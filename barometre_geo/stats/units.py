"""Territorial units, nesting maps and reference counts used by :mod:`aggregate`.

Levels, from the finest: ``commune``, ``epci``, ``departement``, ``region``,
``zone`` (France métropolitaine / outre-mer, published as the levels
``france_metropolitaine`` and ``outre_mer``) and ``france``.

* Nesting (for small-count protection) is *strict*: a unit nests in a coarser
  one when all its communes lie inside it. An EPCI straddling two
  départements nests in neither; the départements it joins form a
  *component* (a multi-parent relation). For indicators asked to EPCI only,
  an EPCI cell holds its own answer only and nests in the département and
  région of its seat (``up_seat``).
* Existing collectivities (the universe of participation rates): every
  commune and EPCI of the reference; the conseils départementaux and
  régionaux listed in the identifiers (``siren_departement``,
  ``siren_region``); and the collectivités à statut particulier that exercise
  the powers of a département or a région (CeA, Mayotte, Corse, Guyane,
  Martinique), counted where they are attributed. The Ville de Paris and the
  Métropole de Lyon are already counted as a commune and an EPCI. Syndicats
  have no reference list: they are never in ``universe_count``.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["GEO_LEVELS", "Geo", "build_geo"]

GEO_LEVELS: tuple[str, ...] = ("commune", "epci", "departement", "region", "zone", "france")
ZONE_CODES = np.array(["FR-METRO", "FR-DROM"], dtype=object)
ZONE_NAMES = np.array(["France métropolitaine", "Outre-mer (DROM)"], dtype=object)
ZONE_LEVELS = np.array(["france_metropolitaine", "outre_mer"], dtype=object)
FRANCE_CODE = "FR"
REFERENCE_KINDS = ("commune", "epci", "departement", "region", "collectivite_a_statut_particulier")

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True, eq=False)
class Geo:
    """Units of every level and how they nest (arrays indexed by unit number)."""

    codes: dict
    names: dict
    population: dict
    up_strict: dict
    up_seat: dict
    components: dict
    ref: pd.DataFrame
    index: dict

    def units(self, level: str) -> int:
        """Return the number of units of a level."""
        return len(self.codes[level])


def _uf_components(n: int, edges: list[np.ndarray]) -> np.ndarray:
    """Label the connected components (union-find) of units joined by ``edges``."""
    parent = np.arange(n)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for group in edges:
        roots = [find(int(u)) for u in group]
        for r in roots[1:]:
            parent[find(r)] = find(roots[0])
    roots = np.array([find(i) for i in range(n)])
    sizes = np.bincount(roots, minlength=n)
    joined = sizes[roots] > 1
    comp = np.full(n, -1, dtype=np.int64)
    _, comp[joined] = np.unique(roots[joined], return_inverse=True)
    return comp


def build_geo(territories) -> Geo:
    """Build (and cache per Territories object) the units and nesting maps."""
    try:
        return _CACHE[territories]
    except (KeyError, TypeError):
        pass
    geo = _build(territories)
    try:
        _CACHE[territories] = geo
    except TypeError:  # pragma: no cover - unhashable stand-ins
        pass
    return geo


def _build(t) -> Geo:
    c, e, d, r = t.communes, t.epci, t.departements, t.regions
    codes = {
        "commune": c["code"].astype(str).to_numpy(dtype=object),
        "epci": e["code"].astype(str).to_numpy(dtype=object),
        "departement": d["code"].astype(str).to_numpy(dtype=object),
        "region": r["code"].astype(str).to_numpy(dtype=object),
        "zone": ZONE_CODES,
        "france": np.array([FRANCE_CODE], dtype=object),
    }
    names = {
        "commune": c["nom"].astype(str).to_numpy(dtype=object),
        "epci": e["nom"].astype(str).to_numpy(dtype=object),
        "departement": d["nom"].astype(str).to_numpy(dtype=object),
        "region": r["nom"].astype(str).to_numpy(dtype=object),
        "zone": ZONE_NAMES,
        "france": np.array(["France"], dtype=object),
    }
    index = {lv: pd.Index(v, dtype=object) for lv, v in codes.items()}

    def ix(level: str, values) -> np.ndarray:
        return index[level].get_indexer(pd.Series(values, dtype=object).astype(object))

    region_zone = np.where(r["zone"].astype(str).to_numpy() == "metropole", 0, 1)
    c_epci = ix("epci", c["epci"].where(c["epci"].notna(), None))
    c_dep = ix("departement", c["departement"])
    c_reg = ix("region", c["region"])
    n_c, n_e = len(c), len(e)
    up_strict: dict = {
        ("commune", "epci"): c_epci,
        ("commune", "departement"): c_dep,
        ("commune", "region"): c_reg,
        ("commune", "zone"): region_zone[c_reg],
        ("commune", "france"): np.zeros(n_c, dtype=np.int64),
    }
    members = pd.DataFrame({"epci": c_epci, "dep": c_dep, "reg": c_reg})
    members = members[members["epci"] >= 0]
    for coarse, col in (("departement", "dep"), ("region", "reg")):
        g = members.groupby("epci")[col]
        only = np.where(g.nunique() == 1, g.first(), -1)
        arr = np.full(n_e, -1, dtype=np.int64)
        arr[g.nunique().index.to_numpy()] = only
        up_strict[("epci", coarse)] = arr
    e_reg_seat = ix("region", e["region"])
    e_dep_seat = ix("departement", e["departement"])
    up_strict[("epci", "zone")] = region_zone[e_reg_seat]
    up_strict[("epci", "france")] = np.zeros(n_e, dtype=np.int64)
    d_reg = ix("region", d["region"])
    up_strict[("departement", "region")] = d_reg
    up_strict[("departement", "zone")] = region_zone[d_reg]
    up_strict[("departement", "france")] = np.zeros(len(d), dtype=np.int64)
    up_strict[("region", "zone")] = region_zone
    up_strict[("region", "france")] = np.zeros(len(r), dtype=np.int64)
    up_strict[("zone", "france")] = np.zeros(2, dtype=np.int64)
    up_seat = dict(up_strict)
    up_seat[("epci", "departement")] = e_dep_seat
    up_seat[("epci", "region")] = e_reg_seat

    # EPCI straddling départements (régions) join them into components
    components = {}
    for coarse, col in (("departement", "dep"), ("region", "reg")):
        straddling = up_strict[("epci", coarse)] < 0
        spans = members[straddling[members["epci"].to_numpy()]].groupby("epci")[col].unique()
        comp = _uf_components(len(codes[coarse]), list(spans))
        comp_epci = comp[e_dep_seat if coarse == "departement" else e_reg_seat]
        components[coarse] = (comp, comp_epci)

    pop_c = c["population"].astype("float64").fillna(0).to_numpy()
    population = {
        "commune": pop_c,
        "epci": np.bincount(c_epci[c_epci >= 0], weights=pop_c[c_epci >= 0], minlength=n_e),
        "departement": np.bincount(c_dep, weights=pop_c, minlength=len(d)),
        "region": np.bincount(c_reg, weights=pop_c, minlength=len(r)),
        "zone": np.bincount(region_zone[c_reg], weights=pop_c, minlength=2),
        "france": np.array([pop_c.sum()]),
    }
    ref = _reference(t, ix, up_strict, up_seat, c_epci, c_dep, c_reg, region_zone, pop_c)
    return Geo(codes, names, population, up_strict, up_seat, components, ref, index)


def _reference(t, ix, up_strict, up_seat, c_epci, c_dep, c_reg, region_zone, pop_c):
    """One row per existing collectivity: kind, population, unit at every level."""
    e, d, r = t.epci, t.departements, t.regions
    frames = []
    n_c = len(pop_c)
    frames.append(
        pd.DataFrame(
            {
                "kind": "commune",
                "population": pop_c,
                "commune": np.arange(n_c),
                "epci": c_epci,
                "departement": c_dep,
                "region": c_reg,
                "zone": region_zone[c_reg],
            }
        )
    )
    n_e = len(e)
    frames.append(
        pd.DataFrame(
            {
                "kind": "epci",
                "population": e["population"].astype("float64").fillna(0).to_numpy(),
                "commune": -1,
                "epci": np.arange(n_e),
                "departement": up_seat[("epci", "departement")],
                "region": up_seat[("epci", "region")],
                "zone": up_strict[("epci", "zone")],
            }
        )
    )
    ids = t.identifiers
    spec = ids["code"].astype(str).str.split(":", n=1, expand=True)
    ids = ids.assign(_level=spec[0], _code=spec[1] if spec.shape[1] > 1 else "")
    wanted = (ids["kind"].isin(["siren_departement", "siren_region"])) | (
        (ids["kind"] == "siren_collectivite_a_statut_particulier")
        & ids["_level"].isin(["departement", "region"])
    )
    upper = ids[wanted]
    kind = np.where(
        upper["kind"] == "siren_departement",
        "departement",
        np.where(upper["kind"] == "siren_region", "region", "collectivite_a_statut_particulier"),
    )
    is_dep = (upper["_level"] == "departement").to_numpy()
    dep = np.where(is_dep, ix("departement", upper["_code"]), -1)
    reg = np.where(
        is_dep,
        up_strict[("departement", "region")][np.maximum(dep, 0)],
        ix("region", upper["_code"]),
    )
    pop_dep = d["population"].astype("float64").fillna(0).to_numpy()
    pop_reg = r["population"].astype("float64").fillna(0).to_numpy()
    frames.append(
        pd.DataFrame(
            {
                "kind": kind,
                "population": np.where(is_dep, pop_dep[np.maximum(dep, 0)], pop_reg[reg]),
                "commune": -1,
                "epci": -1,
                "departement": dep,
                "region": reg,
                "zone": region_zone[reg],
            }
        )
    )
    ref = pd.concat(frames, ignore_index=True)
    ref["france"] = 0
    for col in ("commune", "epci", "departement", "region", "zone", "france"):
        ref[col] = ref[col].astype(np.int64)
    return ref
