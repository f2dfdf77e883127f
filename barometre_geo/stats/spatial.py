"""Spatial autocorrelation of the indicators: global Moran's I and local clusters (LISA).

:func:`spatial_autocorrelation` reads an :func:`~barometre_geo.aggregate`
table and, for each indicator at département and/or EPCI level, computes

* **global Moran's I** (:class:`esda.Moran`): is the indicator higher where
  the neighbours' is higher? With its expectation under spatial randomness
  ``−1/(n−1)``, a permutation pseudo p-value and the z-score of the
  permutation distribution;
* **local Moran** (:class:`esda.Moran_Local`, conditional permutations):
  for each territory, "Haut-Haut" / "Bas-Bas" clusters, "Haut-Bas" /
  "Bas-Haut" outliers, or "Non significatif".

Weights are row-standardised (queen contiguity by default; rook; or k nearest
neighbours), built once per level from the territory polygons
(:mod:`barometre_geo.stats.contiguity`) and cut per indicator.

What is used, what is not
-------------------------
* Only **published** values: suppressed cells are never used (a LISA on them
  would leak them), even if a table carried their value; the table must come
  from ``aggregate(mode="public")``.
* **Missing values** (suppressed, or no answer) are dropped and the weights are
  rebuilt on the remaining units; those territories are reported as "Non
  calculé" — nothing is imputed.
* **Islands**: a territory left without any neighbour (sea islands such as
  Belle-Île's EPCI, or every neighbour missing) is left out and reported.
* **Overseas**: the DROM have no contiguity neighbour and distances across
  oceans mean nothing, so the statistics are computed on metropolitan France;
  overseas territories with a value are counted among the islands and
  reported "Non calculé (outre-mer)", with every weights choice.
* **Too few units**: below ``min_units`` territories (default 30) neither
  Moran's I nor the LISA are computed, and the interpretation says why; the
  same when every value is equal.

Multiple testing
----------------
Each LISA is one test per territory: at the 5 % level about 5 % of
territories look significant by chance. ``correction="fdr"`` controls the
false discovery rate (Benjamini–Hochberg cut-off of :func:`esda.fdr`;
when it rejects nothing it falls back to Bonferroni), ``"bonferroni"`` the
family-wise error. The global p-values are not corrected across indicators:
with 100 indicators, about 5 are "significant" at 5 % by chance.

Permutations are seeded per indicator (``seed`` and the indicator's name), so
results do not depend on which other indicators are computed. esda draws them
from NumPy's legacy global generator: its state is saved and restored around
each call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from ..errors import SchemaError, UnknownValueError
from .autocorrelation import (
    CLUSTER_LABELS,
    GLOBAL_COLUMNS,
    LISA_COLUMNS,
)

__all__ = [
    "CLUSTER_LABELS",
    "GLOBAL_COLUMNS",
    "LISA_COLORS",
    "LISA_COLUMNS",
    "SPATIAL_LEVELS",
    "SpatialStats",
    "spatial_autocorrelation",
]

Weights = Literal["queen", "rook", "knn"]
Correction = Literal["none", "fdr", "bonferroni"]
#: Levels at which spatial statistics are computed.
SPATIAL_LEVELS: tuple[str, ...] = ("departement", "epci")
#: LISA map colours (ColorBrewer RdYlBu ends, as splot draws them); non-significant
#: territories white, to stand apart from the grey of those not computed.
LISA_COLORS: dict[str, str] = {
    "Haut-Haut": "#d7191c",
    "Bas-Bas": "#2c7bb6",
    "Haut-Bas": "#fdae61",
    "Bas-Haut": "#abd9e9",
    "Non significatif": "#ffffff",
}
DEFAULT_SEED = 2025


@dataclass(frozen=True)
class SpatialStats:
    """Global and local spatial autocorrelation of indicators (see :func:`spatial_autocorrelation`).

    Attributes
    ----------
    moran : pandas.DataFrame
        One row per indicator (× option) × level, columns :data:`GLOBAL_COLUMNS`:
        ``n_units`` used, ``n_islands`` left out for lack of neighbour
        (overseas included, also counted in ``n_overseas``), ``n_missing``
        without published value; ``moran_i``, ``expected_i``, ``z`` (of the
        permutation distribution), ``p_value`` (permutation pseudo p-value),
        ``significant`` and a French ``interpretation`` (NA statistics when not
        computed, and the interpretation says why).
    lisa : pandas.DataFrame
        One row per indicator (× option) × territory of the level (all of
        them, overseas included), columns :data:`LISA_COLUMNS`; ``lag`` is the
        mean of the neighbours' values, ``cluster`` a code (HH, LL, HL, LH,
        ns; NA when not computed) and ``cluster_label`` its French label or
        why it was not computed. Joins to ``territories.level(level)`` on ``code``.
    parameters : dict
        weights, k_neighbors, permutations, seed, significance, correction,
        min_units, column, levels.
    """

    moran: pd.DataFrame
    lisa: pd.DataFrame
    parameters: dict

    def lisa_frame(self, territories, *, indicator: str, option=None, level=None):
        """Territories of the level (GeoDataFrame) with the LISA columns of one indicator."""
        level, rows = _lisa_rows(self, indicator, option, level)
        gdf = territories.level(level)
        cols = [c for c in LISA_COLUMNS if c not in ("indicator", "option", "level", "nom")]
        return gdf.merge(rows[cols].assign(code=rows["code"].astype(str)), on="code", how="left")

    def _repr_html_(self) -> str:
        cols = ["indicator", "option", "level", "n_units", "moran_i", "p_value", "interpretation"]
        return self.moran[cols].to_html(index=False, na_rep="", float_format="{:.3f}".format)


def _parse(value, valid: tuple, name: str, hint: str = "") -> str:
    text = str(value).strip().lower()
    if text not in valid:
        raise UnknownValueError(
            f"Unknown {name}={value!r}. Valid values: {', '.join(valid)}.{hint}"
        )
    return text


def _levels(level) -> list[str]:
    items = [level] if isinstance(level, str) else list(level or [])
    if not items:
        raise UnknownValueError(
            f"spatial_autocorrelation() needs a level: {', '.join(SPATIAL_LEVELS)}."
        )
    hint = " Régions are too few (13 in metropolitan France) for Moran's I."
    return list(dict.fromkeys(_parse(x, SPATIAL_LEVELS, "level", hint) for x in items))


def _check_int(value, name: str, minimum: int, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise UnknownValueError(
            f"{name}={value!r} must be an integer ≥ {minimum} (default {default})."
        )
    return int(value)


def _check_table(aggregates, column: str) -> pd.DataFrame:
    if not isinstance(aggregates, pd.DataFrame):
        raise SchemaError(
            f"spatial_autocorrelation() expects the table of barometre_geo.aggregate(), got "
            f"{type(aggregates).__name__}."
        )
    needed = ["indicator", "level", "code", column, "suppressed"]
    missing = [c for c in needed if c not in aggregates.columns]
    if missing:
        raise SchemaError(
            f"The aggregates table lacks column(s) {missing} (contract 'Aggregates' in "
            "docs/contracts/indicators.md). Pass the output of barometre_geo.aggregate()."
        )
    mode = aggregates.attrs.get("barometre_geo", {}).get("mode", "public")
    if mode != "public":
        raise SchemaError(
            f"The aggregates table was computed in {mode!r} mode: its small cells are not "
            "protected, and spatial statistics are published. Compute it with "
            "aggregate(..., mode='public')."
        )
    keep = [c for c in ("indicator", "level", "code", "by", "option", column, "suppressed")
            if c in aggregates.columns]  # fmt: skip
    table = aggregates[keep]
    table.attrs = {}  # pandas deep-copies attrs on every slice: drop them once
    return table


def _variables(
    table: pd.DataFrame, level: str, wanted
) -> list[tuple[str, str | None, pd.DataFrame]]:
    """List ``(indicator, option, rows)`` per variable: headline rows, else one per option."""
    rows = table[table["level"].astype(str) == level].reset_index(drop=True)
    if "by" in rows.columns:
        by = rows["by"].astype(object)
        rows = rows[by.isna() | by.isin(["", "total"])]
    if wanted is not None:
        rows = rows[rows["indicator"].astype(str).isin(wanted)]
    out = []
    option = rows["option"].astype(object) if "option" in rows.columns else None
    for ind, sub in rows.groupby(rows["indicator"].astype(str), sort=False):
        if option is None:
            out.append((ind, None, sub))
            continue
        opt = option.loc[sub.index]
        if opt.isna().any():
            out.append((ind, None, sub[opt.isna().to_numpy()]))
        else:
            for o, s in sub.groupby(opt.astype(str), sort=False):
                out.append((ind, o, s))
    return out


def spatial_autocorrelation(
    aggregates: pd.DataFrame,
    territories=None,
    *,
    level: str | Sequence[str] = "departement",
    indicators: str | Sequence[str] | None = None,
    weights: Weights = "queen",
    k_neighbors: int = 6,
    permutations: int = 999,
    seed: int = DEFAULT_SEED,
    significance: float = 0.05,
    correction: Correction = "none",
    min_units: int = 30,
    column: Literal["value", "value_weighted"] = "value",
) -> SpatialStats:
    """Compute global Moran's I and local clusters (LISA) of indicators per territory.

    Parameters
    ----------
    aggregates : pandas.DataFrame
        Output of :func:`barometre_geo.aggregate` (public mode) with rows at
        the requested level(s). Headline rows are used; indicators with rows
        per option only (multiple choice) give one variable per option.
    territories : Territories, optional
        The reference the table was computed with (default: embedded COG 2025).
    level : {"departement", "epci"} or list of them
    indicators : str or list of str, optional
        Default: every indicator of the table.
    weights : {"queen", "rook", "knn"}
        Contiguity by shared vertex (queen, default) or shared edge (rook), or
        the ``k_neighbors`` nearest territories.
    permutations : int, default 999
        Permutations of the pseudo p-values (at least 99).
    seed : int
        Seed of the permutations (results are reproducible).
    significance : float, default 0.05
        Level of the tests.
    correction : {"none", "fdr", "bonferroni"}
        Multiple-testing correction of the local tests (see the module docstring).
    min_units : int, default 30
        Minimum number of territories with a value and a neighbour.
    column : {"value", "value_weighted"}
        Unweighted (published) or calibration-weighted values.

    Returns
    -------
    SpatialStats

    Examples
    --------
    >>> import barometre_geo as bg
    >>> from barometre_geo.testing import random_responses
    >>> r = random_responses(3000, seed=4, indicators=["infra_saas"])
    >>> table = bg.aggregate(r, level="departement", indicators="infra_saas", weights=None)
    >>> stats = bg.spatial_autocorrelation(table, permutations=99)
    >>> row = stats.moran.iloc[0]
    >>> row["indicator"], row["level"], bool(row["n_units"] >= 30)
    ('infra_saas', 'departement', True)
    >>> row["interpretation"][:45]  # a mild regional effect, not significant here
    'Pas d’autocorrélation spatiale significative '
    """
    levels = _levels(level)
    weights = _parse(weights, get_args(Weights), "weights")
    correction = _parse(correction, get_args(Correction), "correction")
    column = _parse(column, ("value", "value_weighted"), "column")
    permutations = _check_int(permutations, "permutations", 99, 999)
    k_neighbors = _check_int(k_neighbors, "k_neighbors", 1, 6)
    min_units = _check_int(min_units, "min_units", 3, 30)
    seed = _check_int(seed, "seed", 0, DEFAULT_SEED)
    if not isinstance(significance, float | int) or not 0 < significance < 1:
        raise UnknownValueError(
            f"significance={significance!r} must be a number between 0 and 1 (default 0.05)."
        )
    table = _check_table(aggregates, column)
    wanted = None
    if indicators is not None:
        wanted = [indicators] if isinstance(indicators, str) else list(indicators)
        known = set(table["indicator"].astype(str))
        absent = [w for w in wanted if w not in known]
        if absent:
            raise UnknownValueError(
                f"Indicator(s) {absent} are not in the aggregates table. Valid indicators: "
                f"{', '.join(sorted(known)[:20])}{'…' if len(known) > 20 else ''}."
            )
    if territories is None:
        from ..territories.load import load_territories

        territories = load_territories()
    from .autocorrelation import compute_level

    params = {
        "levels": levels,
        "weights": weights,
        "k_neighbors": k_neighbors,
        "permutations": permutations,
        "seed": seed,
        "significance": float(significance),
        "correction": correction,
        "min_units": min_units,
        "column": column,
    }
    moran, lisa = [], []
    for lv in levels:
        variables = _variables(table, lv, wanted)
        if not variables:
            raise SchemaError(
                f"The aggregates table has no row at level {lv!r}. Compute it with "
                f"aggregate(..., level=[{', '.join(repr(x) for x in levels)}, 'france'])."
            )
        g, loc = compute_level(variables, territories, lv, params)
        moran.append(g)
        lisa.append(loc)
    return SpatialStats(
        moran=pd.concat(moran, ignore_index=True),
        lisa=pd.concat(lisa, ignore_index=True),
        parameters=params,
    )


def _lisa_rows(stats: SpatialStats, indicator: str, option, level):
    lisa = stats.lisa
    rows = lisa[lisa["indicator"].astype(str) == indicator]
    if not len(rows):
        known = ", ".join(sorted(set(lisa["indicator"].astype(str)))[:15])
        raise UnknownValueError(
            f"Indicator {indicator!r} is not in these spatial statistics. Valid: {known}."
        )
    levels = list(dict.fromkeys(rows["level"].astype(str)))
    if level is None:
        if len(levels) > 1:
            raise UnknownValueError(
                f"{indicator!r} was computed at levels {levels}: pass level='{levels[0]}' "
                "or another one."
            )
        level = levels[0]
    if level not in levels:
        raise UnknownValueError(
            f"{indicator!r} was not computed at level {level!r}. Valid levels: {levels}."
        )
    rows = rows[rows["level"].astype(str) == level]
    opts = rows["option"].dropna().astype(str).unique().tolist()
    if option is None and opts:
        raise UnknownValueError(
            f"{indicator!r} has one variable per option: pass option=… among {opts}."
        )
    if option is not None:
        if option not in opts:
            raise UnknownValueError(
                f"{indicator!r} has no option {option!r} here. Valid options: {opts or 'none'}."
            )
        rows = rows[rows["option"].astype(str) == option]
    return level, rows
