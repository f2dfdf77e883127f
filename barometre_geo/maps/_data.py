"""Rows of one indicator from the Aggregates table, joined to the territories.

Shared by the three outputs of an indicator — the HTML map
(:func:`~._indicator.indicator_map`), the GeoPackage
(:func:`~._gpkg.write_indicator_gpkg`) and the static map
(:func:`~._static.static_map`) — so that they read the same rows, hide the
same cells and draw the same classes:

* :func:`overall_rows`: the rows of one indicator at one level without
  breakdown (``by`` empty or ``"total"``, the value ``aggregate`` writes);
* :func:`join_rows`: every territory of the level with its row (none → no
  answer), suppressed cells emptied even if the table leaked a value;
* :func:`national_rows`: the ``france`` rows of the indicator;
* :func:`value_format`, :func:`classes_and_colors`: the number format of an
  indicator and the classification + palette colours of a value column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._format import NumberFormat
from ..errors import SchemaError
from ..protection.rules import SUPPRESSED_COLUMNS
from ._classify import Classification, classify
from ._palettes import get_palette

__all__ = [
    "HIDDEN_COLUMNS",
    "LEVEL_LABELS",
    "OVERALL_BY",
    "REQUIRED_COLUMNS",
    "SCHEME_LABELS",
    "classes_and_colors",
    "join_rows",
    "national_rows",
    "overall_rows",
    "scheme_label",
    "value_format",
]

#: Columns of the aggregates table every map output reads.
REQUIRED_COLUMNS = (
    "indicator",
    "level",
    "code",
    "value",
    "n",
    "ci_low",
    "ci_high",
    "participation",
    "suppressed",
)
#: Values of ``by`` marking the overall rows (``aggregate`` writes ``"total"``).
OVERALL_BY = ("", "total")
#: Columns emptied on suppressed rows by the GeoPackage and static maps: the
#: aggregate table's own list (``protection.SUPPRESSED_COLUMNS``), not a copy.
HIDDEN_COLUMNS = SUPPRESSED_COLUMNS
#: French names of the classification schemes, for legends and metadata.
SCHEME_LABELS = {
    "user_defined": "seuils fixes",
    "quantiles": "quantiles",
    "equal_interval": "intervalles égaux",
    "fisher_jenks": "seuils naturels (Fisher-Jenks)",
    "natural_breaks": "seuils naturels (k-moyennes)",
}


def scheme_label(classification: Classification) -> str:
    """French name of how the classes were made (legends, metadata).

    Examples
    --------
    >>> scheme_label(classify([0.1, 0.5]))
    'seuils fixes'
    >>> scheme_label(classify([12.5, 50.0], k=2, fmt=NumberFormat(share=False)))
    'une classe par valeur'
    """
    if classification.exact:
        return "une classe par valeur"
    return SCHEME_LABELS.get(classification.scheme, classification.scheme)


#: French plural labels of the levels, for titles.
LEVEL_LABELS = {
    "commune": "communes",
    "epci": "EPCI à fiscalité propre",
    "departement": "départements",
    "region": "régions",
}


def _overall(rows: pd.DataFrame) -> pd.DataFrame:
    """Keep the rows without breakdown: ``by`` empty or ``"total"`` (else ``group`` empty)."""
    col = "by" if "by" in rows.columns else "group" if "group" in rows.columns else None
    if col is None:
        return rows
    return rows[rows[col].isna() | rows[col].astype("object").isin(OVERALL_BY)]


def overall_rows(
    aggregates: pd.DataFrame,
    indicator: str,
    level: str,
    option: str | None = None,
    *,
    what: str = "indicator_map",
) -> pd.DataFrame:
    """Rows of ``indicator`` at ``level``, overall (no breakdown), one option.

    ``option=None`` selects the headline rows (``option`` empty); when the
    indicator only has rows per option, it raises and lists them.

    Raises
    ------
    SchemaError
        Missing columns, rows only per option (pass ``option``), a code twice.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in aggregates.columns]
    if missing:
        raise SchemaError(
            f"{what}: the aggregates table lacks column(s) {', '.join(missing)} "
            "(contract in docs/contracts/indicators.md). Pass the output of "
            "barometre_geo.aggregate()."
        )
    rows = aggregates[(aggregates["indicator"] == indicator) & (aggregates["level"] == level)]
    rows = _overall(rows)
    if "option" in rows.columns:
        if option is None:
            headline = rows["option"].isna()
            opts = rows["option"].dropna().unique()
            if len(opts) and not headline.any():
                raise SchemaError(
                    f"{what}: indicator {indicator!r} has one row per option "
                    f"({', '.join(map(str, opts[:6]))}). Pass option='…' to map one of them."
                )
            rows = rows[headline]
        else:
            rows = rows[rows["option"] == option]
    dup = rows["code"][rows["code"].duplicated()]
    if len(dup):
        raise SchemaError(
            f"{what}: {len(dup)} territory code(s) appear twice for {indicator!r} at "
            f"level {level!r} (first: {dup.iloc[0]!r}). Keep one row per territory "
            "(filter 'by'/'option')."
        )
    return rows


#: Modelled columns kept as text (or booleans) when joined to the polygons.
_TEXT_COLUMNS = ("model_publication", "model_vs_france", "model_uncertain")


def join_rows(
    gdf,
    rows: pd.DataFrame,
    *,
    level: str,
    columns: Sequence[str],
    hidden: Sequence[str] = ("value", "ci_low", "ci_high"),
    what: str = "indicator_map",
):
    """Every territory of ``gdf`` with its row of ``rows`` (left join on ``code``).

    ``columns`` are taken from ``rows`` when present (``code`` and
    ``suppressed`` always); numbers become float64, ``suppressed`` a plain
    bool (no row: ``False``), and the ``hidden`` columns are emptied on
    suppressed rows, even if the table leaked a value.

    Raises
    ------
    SchemaError
        A code of ``rows`` is not a territory of ``gdf`` (another COG year).
    """
    unknown = sorted(set(rows["code"].astype(str)) - set(gdf["code"].astype(str)))
    if unknown:
        raise SchemaError(
            f"{what}: {len(unknown)} code(s) of level {level!r} are not in the territories "
            f"(first 5: {unknown[:5]}). Aggregates and territories must use the same COG year: "
            "aggregate with the same Territories."
        )
    keep = ["code"] + [c for c in columns if c in rows.columns and c != "code"]
    data = rows[keep].assign(code=rows["code"].astype(str))
    merged = gdf.assign(code=gdf["code"].astype(str)).merge(data, on="code", how="left")
    merged["suppressed"] = merged["suppressed"].astype("boolean").fillna(False).astype(bool)
    for col in keep:
        if col in ("code", "suppressed", "reason", "low_reliability", "nom", *_TEXT_COLUMNS):
            continue
        number = pd.to_numeric(merged[col], errors="coerce")
        text = not pd.api.types.is_numeric_dtype(merged[col])
        if text and merged[col].notna().any() and number.isna().all():
            continue  # a text column (e.g. the estimator of a model), kept as text
        merged[col] = number.astype("float64")
    sup = merged["suppressed"].to_numpy()
    for col in hidden:
        if col in merged.columns:
            if col == "low_reliability":
                merged[col] = merged[col].astype("boolean").mask(sup)
            else:
                merged.loc[sup, col] = np.nan
    return merged


def national_rows(aggregates: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """Return the overall rows of ``indicator`` at levels france, métropole and outre-mer."""
    levels = ("france", "france_metropolitaine", "outre_mer")
    rows = aggregates[(aggregates["indicator"] == indicator) & aggregates["level"].isin(levels)]
    return _overall(rows)


def value_format(indicator) -> NumberFormat:
    """Return the number format of an indicator: percent of shares, or the mean's unit.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> c = bg.load_catalogue()
    >>> value_format(c.get("cyber_pca")).format(0.5)
    '50\u202f%'
    >>> value_format(c.get("outils_materiel_reconditionne")).format(12.34)
    '12,3\u202f%'
    """
    if indicator.statistic == "mean":
        return NumberFormat(share=False, decimals=1, unit=indicator.unit or "")
    return NumberFormat.for_share()


def classes_and_colors(
    values: np.ndarray,
    *,
    classification: Classification | None,
    fmt: NumberFormat,
    palette: str,
) -> tuple[Classification | None, tuple[str, ...]]:
    """Classification of ``values`` (NaN = no value) and its palette colours, as the HTML map.

    Returns ``(None, ())`` when no value is finite (nothing to classify).
    """
    values = np.asarray(values, dtype="float64")
    if not np.isfinite(values).any():
        return None, ()
    classification = (classification or classify(values, fmt=fmt)).with_counts(values)
    kind = "diverging" if get_palette(palette).kind == "diverging" else "sequential"
    return classification, get_palette(palette, kind=kind).for_k(classification.k)
