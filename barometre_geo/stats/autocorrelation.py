"""Moran's I and LISA of every variable of one level (see :mod:`barometre_geo.stats.spatial`).

Weights are built once per level (:func:`~._spatial_weights.level_graph`) and
cut per variable to its units with a published value; one ``libpysal`` W is
made per distinct set of units and reused by the variables sharing it.
"""

from __future__ import annotations

import warnings
import zlib
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SchemaError

__all__ = ["GlobalMoran", "compute_level", "global_moran"]

_QUADRANT = np.array(["", "HH", "LH", "LL", "HL"], dtype=object)  # esda's q: 1 HH … 4 HL

#: French labels of the LISA clusters (``cluster`` codes HH, LL, HL, LH, ns).
CLUSTER_LABELS: dict[str, str] = {
    "HH": "Haut-Haut",
    "LL": "Bas-Bas",
    "HL": "Haut-Bas",
    "LH": "Bas-Haut",
    "ns": "Non significatif",
}
_NOT_COMPUTED = {
    "suppressed": "Non calculé : valeur masquée (secret statistique)",
    "no_data": "Non calculé : pas de réponse",
    "island": "Non calculé : aucun voisin avec une valeur",
    "overseas": "Non calculé : outre-mer (pas de voisin)",
    "not_computed": "Non calculé : indicateur non calculé à cet échelon",
}
#: Columns of :attr:`SpatialStats.moran`.
GLOBAL_COLUMNS: tuple[str, ...] = (
    "indicator",
    "option",
    "label",
    "level",
    "weights",
    "n_units",
    "n_islands",
    "n_overseas",
    "n_missing",
    "moran_i",
    "expected_i",
    "z",
    "p_value",
    "permutations",
    "significant",
    "interpretation",
)
#: Columns of :attr:`SpatialStats.lisa`.
LISA_COLUMNS: tuple[str, ...] = (
    "indicator",
    "option",
    "level",
    "code",
    "nom",
    "value",
    "lag",
    "local_i",
    "p_value",
    "significant",
    "cluster",
    "cluster_label",
)
_LEVEL_PLURAL = {"departement": "départements", "epci": "EPCI"}


@contextmanager
def _seeded(seed: int):
    """Seed NumPy's legacy global generator (esda draws from it), then restore its state."""
    state = np.random.get_state()  # noqa: NPY002 - esda's permutations use the legacy API
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _seed_of(seed: int, *key) -> int:
    text = "\x1f".join(str(k) for k in key).encode("utf-8")
    return int(np.random.SeedSequence([seed, zlib.crc32(text)]).generate_state(1)[0])


def _fr(x: float, decimals: int = 2) -> str:
    from .._format import format_number

    return format_number(x, decimals)


def _labels() -> dict:
    try:
        from ..survey.catalogue import load_catalogue

        return {i.id: i.label for i in load_catalogue().indicators}
    except Exception:  # a broken catalogue file must not stop the statistics: ids are shown
        return {}


def _interpretation(level: str, n: int, reason: str, moran, alpha: float, min_units: int) -> str:

    plural = _LEVEL_PLURAL[level]
    if reason == "too_few":
        return (
            f"Non calculé : {n} {plural} de métropole avec une valeur publiée et au moins un "
            f"voisin (il en faut au moins {min_units})."
        )
    if reason == "constant":
        return f"Non calculé : les {n} {plural} ont tous la même valeur."
    i, p = moran.I, moran.p_sim
    stat = f"I = {_fr(i, 3)}, p = {_fr(p, 3)}, {n} {plural}"
    if p > alpha:
        return (
            f"Pas d’autocorrélation spatiale significative au seuil de {_fr(alpha * 100, 1)} % "
            f"({stat}) : la répartition ne se distingue pas d’un hasard spatial."
        )
    if i > moran.EI:
        return (
            f"Autocorrélation spatiale positive significative ({stat}) : les {plural} "
            "voisins ont des valeurs proches (regroupements)."
        )
    return (
        f"Autocorrélation spatiale négative significative ({stat}) : les {plural} voisins "
        "ont des valeurs opposées (effet damier)."
    )


@dataclass(frozen=True)
class GlobalMoran:
    """Global Moran's I with its permutation inference (the attributes of :class:`esda.Moran`)."""

    I: float  # noqa: E741 - esda's name
    EI: float
    sim: np.ndarray
    EI_sim: float
    z_sim: float
    p_sim: float


def global_moran(y: np.ndarray, w, permutations: int, seed: int) -> GlobalMoran:
    """Moran's I of ``y`` (row-standardised ``w``) and its permutation test, vectorised.

    The statistic is :class:`esda.Moran`'s; the permutations are those esda
    draws after ``numpy.random.seed(seed)`` (``permutation(z)`` in a loop), made
    from a private ``RandomState`` and evaluated in one sparse product instead of
    ``permutations`` Python calls: the same ``sim``, ``p_sim`` and ``z_sim`` (a test
    compares them with esda's), without touching NumPy's global generator.
    """
    import esda

    moran = esda.Moran(y, w, transformation="r", permutations=0)
    n = len(y)
    z = y - y.mean()
    rs = np.random.RandomState(seed)  # the legacy stream esda draws from
    perm = np.stack([rs.permutation(n) for _ in range(permutations)])
    zp = z[perm]
    lag = np.asarray(w.sparse @ zp.T).T
    sim = n / w.s0 * (zp * lag).sum(axis=1) / (z @ z)
    larger = int((sim >= moran.I).sum())
    larger = min(larger, permutations - larger)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_sim = (moran.I - sim.mean()) / sim.std()
    return GlobalMoran(
        I=float(moran.I),
        EI=float(moran.EI),
        sim=sim,
        EI_sim=float(sim.mean()),
        z_sim=float(z_sim),
        p_sim=(larger + 1.0) / (permutations + 1.0),
    )


def _folded_p(sim: np.ndarray, observed: np.ndarray, permutations: int) -> np.ndarray:
    """Pseudo p-value of each observed statistic in the direction it lies (esda, GeoDa).

    ``(min(#{sim ≥ obs}, P − #{sim ≥ obs}) + 1) / (P + 1)``: the share of
    permutations at least as extreme, on the side of the observed value.
    """
    larger = (sim >= observed).sum(axis=0)
    larger = np.minimum(larger, permutations - larger)
    return (larger + 1.0) / (permutations + 1.0)


def _threshold(p: np.ndarray, alpha: float, correction: str) -> float:
    if correction == "fdr":
        import esda

        return float(esda.fdr(p, alpha))
    if correction == "bonferroni":
        return alpha / len(p)
    return alpha


def compute_level(variables, territories, level: str, params: dict):
    """Return the global rows and the LISA rows of every variable at ``level``."""
    import esda
    from libpysal.weights import W

    from .contiguity import level_graph

    graph = level_graph(territories, level, params["weights"], params["k_neighbors"])
    gdf = territories.level(level)
    codes = gdf["code"].astype(str).to_numpy()
    noms = gdf["nom"].astype(str).to_numpy()
    overseas = (gdf["zone"] != "metropole").to_numpy()
    metro = pd.Index(codes).get_indexer(graph.codes)
    index = pd.Index(codes)
    labels = _labels()
    perms, alpha, min_units = params["permutations"], params["significance"], params["min_units"]
    col = params["column"]
    cache: dict = {}
    out_global, parts = [], []
    for ind, opt, rows in variables:
        pos = index.get_indexer(rows["code"].astype(str))
        if (pos < 0).any():
            bad = sorted(set(rows["code"].astype(str)[pos < 0]))[:5]
            raise SchemaError(
                f"{len(bad)}+ code(s) of level {level!r} are not in the territories (first: "
                f"{bad}). Aggregates and territories must use the same COG year: pass the "
                "Territories the table was computed with."
            )
        hidden = rows["suppressed"].fillna(False).astype(bool).to_numpy()
        values = pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float)
        value = np.full(len(codes), np.nan)
        ok = ~hidden & np.isfinite(values)
        value[pos[ok]] = values[ok]
        suppressed = np.zeros(len(codes), dtype=bool)
        suppressed[pos[hidden]] = True
        status = np.where(suppressed, "suppressed", "no_data").astype(object)
        has = np.isfinite(value)
        status[has & overseas] = "overseas"
        keep = has[metro]
        used, neighbours = graph.subgraph(keep)
        island = np.zeros(len(codes), dtype=bool)
        island[metro[keep & ~used]] = True
        status[island] = "island"
        n_units = int(used.sum())
        y = value[metro[used]]
        reason = ""
        if n_units < min_units:
            reason = "too_few"
        elif np.ptp(y) == 0:
            reason = "constant"
        lag, local, p_loc = (np.full(len(codes), np.nan) for _ in range(3))
        sig = np.zeros(len(codes), dtype=bool)
        cluster = np.full(len(codes), None, dtype=object)
        label = np.array([_NOT_COMPUTED[s] for s in status], dtype=object)
        moran = None
        if reason:
            why = (
                f"Non calculé : moins de {min_units} territoires avec une valeur"
                if reason == "too_few"
                else "Non calculé : valeurs toutes identiques"
            )
            label[metro[used]] = why
        else:
            key = used.tobytes()
            if key not in cache:
                cache[key] = W(neighbours, silence_warnings=True)
            w = cache[key]
            moran = global_moran(y, w, perms, _seed_of(params["seed"], level, ind, opt, "global"))
            seed_local = _seed_of(params["seed"], level, ind, opt, "local")
            with _seeded(seed_local), warnings.catch_warnings():
                # esda announces a change of the default alternative of crand; the
                # pseudo p-value is computed below from the simulations, whatever it is
                warnings.filterwarnings("ignore", "The alternative hypothesis", DeprecationWarning)
                # esda's z_sim divides by the spread of a unit's simulations, zero when all
                # its neighbours are equal: z_sim is not used (p-values come from `sim`)
                warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
                lm = esda.Moran_Local(
                    y, w, transformation="r", permutations=perms, seed=seed_local,
                    keep_simulations=True, n_jobs=1,
                )  # fmt: skip
            p_sim = _folded_p(np.asarray(lm.sim), np.asarray(lm.Is), perms)
            where = metro[used]
            lag[where] = np.asarray(w.sparse @ y).ravel()
            local[where] = lm.Is
            p_loc[where] = p_sim
            significant = p_sim <= _threshold(p_sim, alpha, params["correction"])
            sig[where] = significant
            code = np.where(significant, _QUADRANT[np.asarray(lm.q, dtype=np.int64)], "ns")
            cluster[where] = code
            label[where] = [CLUSTER_LABELS[c] for c in code]
        out_global.append(
            {
                "indicator": ind,
                "option": opt,
                "label": labels.get(ind),
                "level": level,
                "weights": params["weights"],
                "n_units": n_units,
                "n_islands": int(island.sum() + (has & overseas).sum()),
                "n_overseas": int((has & overseas).sum()),
                "n_missing": int((~has).sum()),
                "moran_i": np.nan if moran is None else float(moran.I),
                "expected_i": np.nan if moran is None else float(moran.EI),
                "z": np.nan if moran is None else float(moran.z_sim),
                "p_value": np.nan if moran is None else float(moran.p_sim),
                "permutations": perms,
                "significant": None if moran is None else bool(moran.p_sim <= alpha),
                "interpretation": _interpretation(level, n_units, reason, moran, alpha, min_units),
            }
        )
        parts.append((ind, opt, value, lag, local, p_loc, sig, cluster, label))
    return _global_frame(out_global), _lisa_frame(parts, level, codes, noms)


def _global_frame(rows: list[dict]) -> pd.DataFrame:

    frame = pd.DataFrame(rows, columns=list(GLOBAL_COLUMNS))
    for c in ("n_units", "n_islands", "n_overseas", "n_missing", "permutations"):
        frame[c] = frame[c].astype("int64")
    frame["significant"] = frame["significant"].astype("boolean")
    for c in ("indicator", "option", "label", "level", "weights", "interpretation"):
        frame[c] = frame[c].astype("str")
    return frame


def _lisa_frame(parts, level: str, codes: np.ndarray, noms: np.ndarray) -> pd.DataFrame:

    n, m = len(codes), len(parts)
    unit = np.tile(np.arange(n), m)

    def stack(k: int) -> np.ndarray:
        return np.concatenate([p[k] for p in parts]) if parts else np.zeros(0)

    frame = pd.DataFrame(
        {
            "indicator": pd.Categorical(
                np.repeat(np.array([p[0] for p in parts], dtype=object), n)
            ),
            "option": pd.array(
                np.repeat(np.array([p[1] for p in parts], dtype=object), n), dtype="str"
            ),
            "level": pd.Categorical([level] * (n * m)),
            "code": pd.Categorical.from_codes(unit, categories=pd.Index(codes, dtype="str")),
            "nom": pd.array(noms[unit], dtype="str"),
            "value": stack(2),
            "lag": stack(3),
            "local_i": stack(4),
            "p_value": stack(5),
            "significant": stack(6).astype(bool),
            "cluster": pd.array(stack(7), dtype="str"),
            "cluster_label": pd.array(stack(8), dtype="str"),
        }
    )
    return frame[list(LISA_COLUMNS)]
