"""Map of one indicator at one level, from the Aggregates table.

:func:`indicator_map` takes the tidy table of ``barometre_geo.aggregate``
(contract "Aggregates" in DEVELOPERS.md), keeps the rows of one indicator and
level (overall rows: no breakdown), joins them to the territories and draws
the choropleth with the full tooltip: name, code, value, class, number of
answers, 95 % confidence interval and participation. Suppressed cells are
hatched ("Effectif insuffisant"), territories without answer grey.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..errors import SchemaError
from ..territories import parse_level
from ._choropleth import choropleth, empty_map
from ._classify import Classification
from ._format import NumberFormat
from ._options import Basemap, Field, LegendSpec, MapStyle

__all__ = ["REQUIRED_COLUMNS", "indicator_map"]

#: Columns of the aggregates table that :func:`indicator_map` reads.
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
_LEVEL_LABELS = {
    "commune": "communes",
    "epci": "EPCI à fiscalité propre",
    "departement": "départements",
    "region": "régions",
}


def _rows(aggregates: pd.DataFrame, indicator: str, level: str, option) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in aggregates.columns]
    if missing:
        raise SchemaError(
            f"indicator_map: the aggregates table lacks column(s) {', '.join(missing)} "
            "(contract 'Aggregates' in DEVELOPERS.md). Pass the output of "
            "barometre_geo.aggregate()."
        )
    rows = aggregates[(aggregates["indicator"] == indicator) & (aggregates["level"] == level)]
    for col in ("by", "group"):  # overall rows only, not the breakdowns
        if col in rows.columns:
            rows = rows[rows[col].isna() | (rows[col].astype("object") == "")]
    if "option" in rows.columns:
        if option is None:
            opts = rows["option"].dropna().unique()
            if len(opts):
                raise SchemaError(
                    f"indicator_map: indicator {indicator!r} has one row per option "
                    f"({', '.join(map(str, opts[:6]))}). Pass option='…' to map one of them."
                )
        else:
            rows = rows[rows["option"] == option]
    dup = rows["code"][rows["code"].duplicated()]
    if len(dup):
        raise SchemaError(
            f"indicator_map: {len(dup)} territory code(s) appear twice for {indicator!r} at "
            f"level {level!r} (first: {dup.iloc[0]!r}). Keep one row per territory "
            "(filter 'by'/'option')."
        )
    return rows


def indicator_map(
    aggregates: pd.DataFrame,
    territories,
    *,
    indicator: str,
    level: str,
    title: str | None = None,
    description: str = "",
    option: str | None = None,
    fmt: NumberFormat | None = None,
    classification: Classification | None = None,
    palette: str = "Blues",
    min_n: int = 5,
    style: MapStyle | None = None,
    basemap: Basemap | str | None = "plan_ign",
    assets: str = "inline",
    notes=(),
):
    """Draw one indicator at one level from an aggregates table.

    Parameters
    ----------
    aggregates : pandas.DataFrame
        Tidy aggregates (columns :data:`REQUIRED_COLUMNS`, ``nom`` optional).
        A row at level ``france`` of the same indicator gives the national
        figure shown under the map and in the index.
    territories : Territories or geopandas.GeoDataFrame
        The reference (its level ``level`` is drawn), or the level's polygons.
        Every territory is drawn: those without a row are "Pas de réponse".
    indicator, level : str
    title : str, optional
        Default: "{indicator} — {level}".
    option : str, optional
        For per-option indicators, the option mapped.
    fmt : NumberFormat, optional
        Default: shares in percent.
    classification : Classification, optional
        E.g. from :func:`classify_pooled` to share breaks across waves.
    min_n : int, default 5
        The suppression threshold quoted in the legend.

    Returns
    -------
    MapDocument
        An empty page that says so when no cell is publishable.

    Raises
    ------
    SchemaError
        Missing columns, duplicated codes, codes unknown to the territories.

    Examples
    --------
    >>> import barometre_geo as bg, pandas as pd
    >>> t = bg.load_territories()
    >>> agg = pd.DataFrame({"indicator": "site", "level": "region", "code": t.regions["code"],
    ...     "value": 0.5, "n": 40, "ci_low": 0.35, "ci_high": 0.65, "participation": 0.2,
    ...     "suppressed": False})
    >>> doc = indicator_map(agg, t, indicator="site", level="region", basemap="none")
    >>> doc.n_features, doc.empty
    (18, False)
    """
    level = parse_level(level)
    gdf = territories.level(level) if hasattr(territories, "level") else territories
    fmt = fmt or (classification.fmt if classification else NumberFormat.for_share())
    title = title or f"{indicator} — {_LEVEL_LABELS[level]}"
    rows = _rows(aggregates, indicator, level, option)
    unknown = sorted(set(rows["code"].astype(str)) - set(gdf["code"].astype(str)))
    if unknown:
        raise SchemaError(
            f"indicator_map: {len(unknown)} code(s) of level {level!r} are not in the territories "
            f"(first 5: {unknown[:5]}). Aggregates and territories must use the same COG year: "
            "aggregate with the same Territories."
        )
    keep = [c for c in ("code", "value", "n", "ci_low", "ci_high", "participation", "suppressed")]
    data = rows[keep].assign(code=rows["code"].astype(str))
    merged = gdf.assign(code=gdf["code"].astype(str)).merge(data, on="code", how="left")
    merged["suppressed"] = merged["suppressed"].astype("boolean").fillna(False).astype(bool)
    for col in ("value", "ci_low", "ci_high", "participation", "n"):
        merged[col] = pd.to_numeric(merged[col], errors="coerce").astype("float64")
    # never show a suppressed value, even if the table leaked one
    merged.loc[merged["suppressed"], ["value", "ci_low", "ci_high"]] = np.nan

    national = ""
    nat = aggregates[(aggregates["indicator"] == indicator) & (aggregates["level"] == "france")]
    if option is not None and "option" in nat.columns:
        nat = nat[nat["option"] == option]
    if "by" in nat.columns:
        nat = nat[nat["by"].isna()]
    if len(nat) == 1 and not bool(nat["suppressed"].iloc[0]) and pd.notna(nat["value"].iloc[0]):
        national = fmt.format(float(nat["value"].iloc[0]))
    notes = list(notes)
    if national:
        notes.insert(0, f"Valeur nationale : {national}.")
    legend = LegendSpec(title=title, min_n=min_n, subtitle="")
    n_sup = int(merged["suppressed"].sum())
    if not np.isfinite(merged["value"].to_numpy()).any():
        doc = empty_map(
            title,
            f"Aucune valeur publiable pour cet indicateur à l'échelle des {_LEVEL_LABELS[level]}"
            + (
                f" : {n_sup} territoire(s) ont moins de {min_n} réponses (effectif insuffisant)."
                if n_sup
                else " : aucune réponse."
            ),
            description=description,
            notes=notes,
        )
        return replace(doc, national=national)
    share = NumberFormat.for_share()
    fields = [
        Field("nom", "Nom", kind="text"),
        Field("code", "Code", kind="text"),
        Field("value", "Valeur", kind="number", fmt=fmt, main=True),
        Field(kind="class", label="Classe"),
        Field("n", "Réponses", kind="number"),
        Field(("ci_low", "ci_high"), "Intervalle de confiance à 95 %", kind="range", fmt=fmt),
        Field("participation", "Participation", kind="number", fmt=share),
    ]
    return choropleth(
        merged,
        "value",
        title=title,
        description=description,
        classification=classification,
        fmt=fmt,
        palette=palette,
        suppressed="suppressed",
        fields=fields,
        legend=legend,
        style=style,
        basemap=basemap,
        assets=assets,
        notes=notes,
        national=national,
    )
