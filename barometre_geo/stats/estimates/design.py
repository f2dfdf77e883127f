"""What the model knows about every collectivity: the census side of small-area estimation.

Only what is known for the whole universe from the COG and the inputs enters
the model (never anything from how an edition was produced):

* the kind of collectivity (commune, EPCI, conseil départemental or régional,
  collectivité à statut particulier; syndicats among respondents only);
* the population of the COG, as the standardised log population of communes
  (linear and quadratic terms) and of EPCI (linear);
* coverage by a mutualisation structure, from the structures file given to
  the build: 1 for a member commune, the share of member communes for an EPCI
  or a council (``covered=None``: no coverage term);
* the département and the région (random intercepts, in
  :mod:`~barometre_geo.stats.estimates.laplace`).

The census rows are those of :attr:`barometre_geo.stats.units.Geo.ref` — the
existing collectivities that ``universe_count`` counts — so that a modelled
territory is post-stratified on exactly the universe of its direct figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Auxiliary", "auxiliary", "departement_pairs", "fixed_columns", "icar_structure"]

from ..prepare import _KINDS


@dataclass(frozen=True)
class Auxiliary:
    """Covariates of every collectivity (``ref_*``) and every response (``resp_*``).

    ``*_kind`` object arrays, ``*_zc`` / ``*_ze`` the standardised log population
    of a commune / an EPCI (0 for other kinds), ``*_served`` in 0–1 (NaN-free),
    ``*_dep`` / ``*_reg`` unit numbers (−1: none). ``ref_units[level]`` gives each
    reference row's territory at ``epci``, ``departement``, ``region``, ``zone``
    and ``france`` (−1: not counted there). ``covered`` says whether a
    coverage term is known.
    """

    ref_kind: np.ndarray
    ref_zc: np.ndarray
    ref_ze: np.ndarray
    ref_served: np.ndarray
    ref_dep: np.ndarray
    ref_reg: np.ndarray
    ref_units: dict
    resp_kind: np.ndarray
    resp_zc: np.ndarray
    resp_ze: np.ndarray
    resp_served: np.ndarray
    resp_dep: np.ndarray
    resp_reg: np.ndarray
    n_dep: int
    n_reg: int
    covered: bool
    dep_structure: tuple | None = None


def _standardise(values: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    x = np.log(np.maximum(values[mask], 1.0))
    return (float(x.mean()), float(x.std()) or 1.0) if len(x) else (0.0, 1.0)


def departement_pairs(territories) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of départements sharing an edge (rook), as positions in ``territories.departements``.

    Computed from the département polygons of the reference (a valid polygonal
    coverage: :func:`barometre_geo.territories.adjacency.rook_pairs`); the
    overseas départements have no neighbour, Corse-du-Sud and Haute-Corse only
    each other.
    """
    from ...territories.adjacency import rook_pairs

    deps = territories.departements
    if "geometry" not in deps or not len(deps):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    i, j, _ = rook_pairs(deps.geometry.to_numpy())
    return i, j


def icar_structure(n: int, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Eigenvectors and eigenvalues of the scaled covariance of an intrinsic CAR field.

    The field over ``n`` units with neighbour pairs ``(i, j)`` has precision
    ``Q = D − W`` (Besag 1974); its covariance ``R`` is the pseudo-inverse of
    ``Q``, i.e. the field sums to zero on each connected component, and a unit
    without neighbour (an island) has none (its own intercept only). ``R`` is
    scaled so that the geometric mean of the variances of the units with
    neighbours is 1 (Sørbye & Rue 2014), which makes its sd comparable with the
    independent one. Returns ``(V, r)`` with ``R = V diag(r) Vᵀ``, or ``None``
    without any pair.

    Examples
    --------
    >>> V, r = icar_structure(3, np.array([0]), np.array([1]))  # 0 – 1, and an island
    >>> np.round(V @ np.diag(r) @ V.T, 3)
    array([[ 1., -1.,  0.],
           [-1.,  1.,  0.],
           [ 0.,  0.,  0.]])
    """
    if len(i) == 0:
        return None
    Q = np.zeros((n, n))
    np.add.at(Q, (i, j), -1.0)
    np.add.at(Q, (j, i), -1.0)
    Q[np.diag_indices(n)] = -Q.sum(axis=1)
    vals, V = np.linalg.eigh(Q)
    tol = 1e-9 * max(float(vals.max()), 1.0)
    r = np.where(vals > tol, 1.0 / np.where(vals > tol, vals, 1.0), 0.0)
    var = (V * r) @ V.T
    d = np.diag(var)
    linked = np.diag(Q) > 0
    scale = float(np.exp(np.mean(np.log(d[linked]))))
    return V, r / scale


def auxiliary(geo, prep, covered=None, *, dep_pairs=None) -> Auxiliary:
    """Covariates of the reference and of the responses.

    Parameters
    ----------
    geo : Geo
        :func:`barometre_geo.stats.units.build_geo` of the reference.
    prep : Prepared
        :func:`barometre_geo.stats.prepare.prepare_rows` of the responses.
    covered : iterable of str or pandas.Series, optional
        Codes of the communes served by a mutualisation structure (a set, a list
        or a Series of codes such as ``structures.members["commune"]``), or a
        boolean Series indexed by commune code. ``None``: no coverage term.
    dep_pairs : tuple of arrays, optional
        Neighbouring départements (:func:`departement_pairs`, unit numbers): the
        département intercepts get a spatial (BYM) part. ``None``: independent
        intercepts only.
    """
    ref = geo.ref
    kind = ref["kind"].to_numpy(dtype=object)
    pop = ref["population"].to_numpy(dtype=float)
    is_c, is_e = kind == "commune", kind == "epci"
    mc, sc = _standardise(pop, is_c)
    me, se = _standardise(pop, is_e)

    def zc(p, m):
        return np.where(m, np.clip((np.log(np.maximum(p, 1.0)) - mc) / sc, -4, 5), 0.0)

    def ze(p, m):
        return np.where(m, np.clip((np.log(np.maximum(p, 1.0)) - me) / se, -4, 5), 0.0)

    n_com = geo.units("commune")
    com_served = np.zeros(n_com)
    if covered is not None:
        if isinstance(covered, pd.Series) and pd.api.types.is_bool_dtype(covered.dtype):
            codes = covered.index[covered.fillna(False).to_numpy(dtype=bool)]
        else:  # commune codes (a set, a list, a Series of codes such as members["commune"])
            codes = [str(c) for c in covered if isinstance(c, str) or pd.notna(c)]
        idx = geo.index["commune"].get_indexer(pd.Index(codes, dtype=object))
        com_served[idx[idx >= 0]] = 1.0
    c_units = {lv: geo.up_strict[("commune", lv)] for lv in ("epci", "departement", "region")}

    def share(level: str) -> np.ndarray:
        u = c_units[level]
        ok = u >= 0
        tot = np.bincount(u[ok], minlength=geo.units(level)).astype(float)
        hit = np.bincount(u[ok], weights=com_served[ok], minlength=geo.units(level))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(tot > 0, hit / tot, 0.0)

    sh = {lv: share(lv) for lv in ("epci", "departement", "region")}

    def served(kinds, com, epci, dep, reg):
        out = np.zeros(len(kinds))
        out = np.where((kinds == "commune") & (com >= 0), com_served[np.maximum(com, 0)], out)
        out = np.where((kinds == "epci") & (epci >= 0), sh["epci"][np.maximum(epci, 0)], out)
        by_dep = (kinds != "commune") & (kinds != "epci") & (dep >= 0)
        out = np.where(by_dep, sh["departement"][np.maximum(dep, 0)], out)
        by_reg = (kinds != "commune") & (kinds != "epci") & (dep < 0) & (reg >= 0)
        return np.where(by_reg, sh["region"][np.maximum(reg, 0)], out)

    ref_units = {lv: ref[lv].to_numpy(dtype=np.int64) for lv in ("epci", "departement", "region")}
    ref_units["zone"] = ref["zone"].to_numpy(dtype=np.int64)
    ref_units["france"] = ref["france"].to_numpy(dtype=np.int64)
    r_kind = np.asarray(prep.kind, dtype=object)
    r_pop = np.nan_to_num(np.asarray(prep.population, dtype=float), nan=1.0)
    u = prep.units
    return Auxiliary(
        ref_kind=kind,
        ref_zc=zc(pop, is_c),
        ref_ze=ze(pop, is_e),
        ref_served=served(
            kind,
            ref["commune"].to_numpy(),
            ref_units["epci"],
            ref_units["departement"],
            ref_units["region"],
        ),
        ref_dep=ref_units["departement"],
        ref_reg=ref_units["region"],
        ref_units=ref_units,
        resp_kind=r_kind,
        resp_zc=zc(r_pop, r_kind == "commune"),
        resp_ze=ze(r_pop, r_kind == "epci"),
        resp_served=served(r_kind, u["commune"], u["epci"], u["departement"], u["region"]),
        resp_dep=np.asarray(u["departement"], dtype=np.int64),
        resp_reg=np.asarray(u["region"], dtype=np.int64),
        n_dep=geo.units("departement"),
        n_reg=geo.units("region"),
        covered=covered is not None,
        dep_structure=None
        if dep_pairs is None
        else _structure(geo.units("departement"), dep_pairs),
    )


_STRUCTURES: dict = {}


def _structure(n: int, pairs) -> tuple | None:
    """:func:`icar_structure` of the département pairs, computed once per graph."""
    i, j = (np.asarray(a, dtype=np.int64) for a in pairs)
    key = (n, i.tobytes(), j.tobytes())
    if key not in _STRUCTURES:
        if len(_STRUCTURES) > 8:
            _STRUCTURES.clear()
        _STRUCTURES[key] = icar_structure(n, i, j)
    return _STRUCTURES[key]


def fixed_columns(kinds_universe, *, covered: bool) -> list[str]:
    """Names of the fixed-effect columns for a universe of kinds (intercept first).

    Examples
    --------
    >>> fixed_columns(("commune", "epci"), covered=True)
    ['intercept', 'kind:epci', 'z_commune', 'z_commune2', 'z_epci', 'served']
    """
    kinds = [k for k in _KINDS if k in kinds_universe]
    cols = ["intercept"] + [f"kind:{k}" for k in kinds[1:]]
    if "commune" in kinds:
        cols += ["z_commune", "z_commune2"]
    if "epci" in kinds:
        cols.append("z_epci")
    if covered:
        cols.append("served")
    return cols


def design_rows(columns: list[str], kind, zc, ze, served) -> np.ndarray:
    """Fixed-effect design of rows (one column per name of :func:`fixed_columns`)."""
    n = len(kind)
    out = np.empty((n, len(columns)))
    for j, c in enumerate(columns):
        if c == "intercept":
            out[:, j] = 1.0
        elif c.startswith("kind:"):
            out[:, j] = kind == c[5:]
        elif c == "z_commune":
            out[:, j] = zc
        elif c == "z_commune2":
            out[:, j] = zc * zc
        elif c == "z_epci":
            out[:, j] = ze
        elif c == "served":
            out[:, j] = served
    return out
