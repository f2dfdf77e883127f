"""Aggregates-shaped tables for the map export tests (GeoPackage, static maps).

They follow the contract of docs/contracts/indicators.md and the dtypes that
``barometre_geo.aggregate`` returns: categorical identifiers, ``by="total"``
and ``group="Ensemble"`` on overall rows, nullable ``n`` hidden on suppressed
rows, ``option`` empty on headline rows. ``leak=True`` writes values into the
suppressed rows, as a faulty table would: the exports must not ship them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = (
    "indicator", "level", "code", "nom", "by", "group", "option", "statistic", "n", "value",
    "ci_low", "ci_high", "value_weighted", "ci_low_weighted", "ci_high_weighted", "deff",
    "universe_count", "respondents", "participation", "population_share", "suppressed",
    "reason", "low_reliability",
)  # fmt: skip
NATIONAL = (("france", "FR", "France"), ("france_metropolitaine", "FR-M", "Métropole"),
            ("outre_mer", "FR-DROM", "Outre-mer"))  # fmt: skip


def _rows(indicator, level, codes, names, option, rng, *, mean, suppress, leak, weighted):
    m = len(codes)
    n = rng.integers(1, 60, m).astype(float)
    value = rng.uniform(0, 100, m) if mean else rng.uniform(0, 1, m)
    half = (15.0 if mean else 0.15) / np.sqrt(np.maximum(n, 1))
    hi = 100.0 if mean else 1.0
    sup = (rng.uniform(0, 1, m) < suppress) if suppress else np.zeros(m, bool)
    df = pd.DataFrame(
        {
            "indicator": indicator,
            "level": level,
            "code": list(codes),
            "nom": list(names),
            "by": "total",
            "group": "Ensemble",
            "option": option,
            "statistic": "mean" if mean else ("option_share" if option else "share"),
            "n": n,
            "value": value,
            "ci_low": np.clip(value - half, 0, hi),
            "ci_high": np.clip(value + half, 0, hi),
            "value_weighted": value * 0.95 if weighted else np.nan,
            "ci_low_weighted": np.clip(value - 2 * half, 0, hi) if weighted else np.nan,
            "ci_high_weighted": np.clip(value + 2 * half, 0, hi) if weighted else np.nan,
            "deff": 1.4 if weighted else np.nan,
            "universe_count": 50,
            "respondents": n,
            "participation": n / 50,
            "population_share": n / 60,
            "suppressed": sup,
            "reason": np.where(sup, "small_n", None),
            "low_reliability": pd.array(n < 30, dtype="boolean"),
        }
    )
    if not leak:
        cols = ["n", "value", "ci_low", "ci_high", "value_weighted", "ci_low_weighted",
                "ci_high_weighted", "deff", "low_reliability"]  # fmt: skip
        df.loc[sup, cols] = None
    return df


def make_table(
    territories,
    *,
    indicator: str = "cyber_pca",
    levels=("departement", "region"),
    options=(),
    headline: bool = True,
    mean: bool = False,
    suppress: float = 0.2,
    leak: bool = False,
    weighted: bool = True,
    seed: int = 0,
    only: dict | None = None,
    attrs: dict | None = None,
) -> pd.DataFrame:
    """A table of one indicator at ``levels`` plus the national rows and a breakdown.

    ``only`` maps a level to the codes that get a row (the others: no answer).
    """
    rng = np.random.default_rng(seed)
    groups = ([None] if headline else []) + list(options)
    parts = []
    for level in levels:
        gdf = territories.level(level)
        keep = gdf if not only or level not in only else gdf[gdf["code"].isin(only[level])]
        for opt in groups:
            parts.append(_rows(indicator, level, keep["code"], keep["nom"], opt, rng, mean=mean,
                               suppress=suppress, leak=leak, weighted=weighted))  # fmt: skip
        # a breakdown the exports must ignore
        strata = _rows(indicator, level, keep["code"], keep["nom"], groups[0], rng, mean=mean,
                       suppress=0, leak=leak, weighted=weighted)  # fmt: skip
        parts.append(strata.assign(by="stratum", group="moins de 500 habitants", value=0.999))
    for level, code, name in NATIONAL:
        for opt in groups:
            parts.append(_rows(indicator, level, [code], [name], opt, rng, mean=mean, suppress=0,
                               leak=leak, weighted=weighted))  # fmt: skip
    df = pd.concat(parts, ignore_index=True)[list(COLUMNS)]
    for col in ("indicator", "level", "code", "nom", "by", "group", "option", "statistic",
                "reason"):  # fmt: skip
        df[col] = df[col].astype("category")
    for col in ("n", "universe_count", "respondents"):
        df[col] = pd.array(df[col].round(), dtype="Int64")
    df["low_reliability"] = df["low_reliability"].astype("boolean")
    df.loc[df["suppressed"] & df["value"].isna(), "low_reliability"] = pd.NA
    df.attrs["barometre_geo"] = {"k": 5, "k_sensitive": 10, "mode": "public",
                                 "weights": "calibration" if weighted else "none",
                                 **(attrs or {})}  # fmt: skip
    return df
