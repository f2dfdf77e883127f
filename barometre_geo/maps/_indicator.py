"""Map of one indicator at one level, from the Aggregates table.

:func:`indicator_map` takes the tidy table of ``barometre_geo.aggregate``
(contract in docs/contracts/indicators.md), keeps the rows of one indicator and
level (overall rows: no breakdown), joins them to the territories and draws
the choropleth with the full tooltip: name, code, value, class, number of
answers, 95 % confidence interval and participation. Suppressed cells are
hatched ("Effectif insuffisant"), territories without answer grey.

The number format (percent for shares, the unit of a mean) and the threshold
quoted in the legend ("moins de k réponses", ``k_sensitive`` for a sensitive
indicator) come from the catalogue and ``aggregates.attrs["barometre_geo"]``,
as for the GeoPackage and the static map (:func:`~._meta.map_context`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .._format import NumberFormat
from ..territories.reference import parse_level
from ._choropleth import choropleth, empty_map
from ._classify import Classification
from ._data import LEVEL_LABELS, REQUIRED_COLUMNS, join_rows, national_rows, overall_rows
from ._meta import map_context
from ._options import Basemap, Field, LegendSpec, MapStyle

__all__ = ["REQUIRED_COLUMNS", "indicator_map"]


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
    min_n: int | None = None,
    catalogue=None,
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
        Default: the catalogue's label and the level ("Plan de continuité
        d’activité (PCA) — départements"), else "{indicator} — {level}".
    option : str, optional
        For per-option indicators, the option mapped.
    fmt : NumberFormat, optional
        Default: the classification's, else the catalogue's (percent for
        shares, the unit of a mean), else the table's ``statistic``.
    classification : Classification, optional
        E.g. from :func:`classify_pooled` to share breaks across waves.
    min_n : int, optional
        The suppression threshold quoted in the legend. Default: the table's
        ``attrs["barometre_geo"]`` ``k``, or ``k_sensitive`` for a sensitive
        indicator (5 and 10 when the table does not say).
    catalogue : Catalogue, optional
        Default :func:`barometre_geo.load_catalogue`. Indicators outside it
        are drawn too, with the defaults.

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
    ctx = map_context(
        aggregates,
        indicator,
        catalogue=catalogue,
        fmt=fmt or (classification.fmt if classification else None),
        min_n=min_n,
    )
    fmt, min_n = ctx.fmt, ctx.threshold
    if title is None:
        name = ctx.label or indicator
        if option is not None and ctx.indicator is not None:
            known = {o.id: o.label for o in ctx.indicator.options}
            name += f" : {known.get(option, option)}"
        title = f"{name} — {LEVEL_LABELS[level]}"
    rows = overall_rows(aggregates, indicator, level, option, what="indicator_map")
    keep = ("value", "n", "ci_low", "ci_high", "participation", "suppressed")
    merged = join_rows(gdf, rows, level=level, columns=keep)

    national = ""
    nat = national_rows(aggregates, indicator)
    nat = nat[nat["level"] == "france"]
    if "option" in nat.columns:
        nat = nat[nat["option"] == option] if option is not None else nat[nat["option"].isna()]
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
            f"Aucune valeur publiable pour cet indicateur à l'échelle des {LEVEL_LABELS[level]}"
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
