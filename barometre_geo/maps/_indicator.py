"""Map of one indicator at one level, from the Aggregates table.

:func:`indicator_map` takes the tidy table of ``barometre_geo.aggregate``
(contract in docs/contracts/indicators.md), keeps the rows of one indicator and
level (overall rows: no breakdown), joins them to the territories and draws
the choropleth with the full tooltip: name, code, value, class, number of
answers, 95 % confidence interval and participation. Suppressed cells are
hatched (« Secret statistique », or « Effectif insuffisant » when every hidden
cell was hidden for its count: :func:`._meta.suppressed_label`), territories
without answer dotted ("Pas de réponse").

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
from ._breaks import resolve_classes
from ._captions import map_texts
from ._choropleth import choropleth, empty_map
from ._classify import Classification
from ._data import LEVEL_LABELS, REQUIRED_COLUMNS, join_rows, national_rows, overall_rows
from ._meta import hidden_reasons, map_context, suppressed_label
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
    classification: Classification | dict | None = None,
    palette: str | None = None,
    min_n: int | None = None,
    catalogue=None,
    style: MapStyle | None = None,
    basemap: Basemap | str | None = "plan_ign",
    assets: str = "inline",
    notes=(),
    edition: str | None = None,
    synthetic: bool | None = None,
    page_style: str = "standard",
    modelled: str = "",
    estimates: str | None = None,
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
    classification : Classification or dict, optional
        E.g. from :func:`classify_pooled` to share breaks across waves, or
        ``{option or None: Classification}``. Default: natural breaks of the
        published values of every level in ``aggregates``, pooled and rounded
        (:func:`~._breaks.indicator_classes`: the same colour means the same
        value on the indicator's maps at every level).
    min_n : int, optional
        The suppression threshold quoted in the legend. Default: the table's
        ``attrs["barometre_geo"]`` ``k``, or ``k_sensitive`` for a sensitive
        indicator (5 and 10 when the table does not say).
    catalogue : Catalogue, optional
        Default :func:`barometre_geo.load_catalogue`. Indicators outside it
        are drawn too, with the defaults.
    edition, synthetic : optional
        For the source line; default ``aggregates.attrs["barometre_geo"]``.
    page_style : {"standard", "dsfr"}
        See :func:`choropleth`.
    modelled : str
        A sentence for model-based figures, appended to the source line and
        under the legend (empty for direct estimates).
    estimates : {"model", "direct"}, optional
        ``"model"`` draws the model-based estimates of
        ``aggregate(..., estimates="model")`` (:func:`~._modelled.modelled_map`:
        estimate by class with an uncertainty cue, and a "compared with France"
        view); ``"direct"`` the direct figures. Default: ``"model"`` for the EPCI
        and département levels when the table has the modelled columns, else
        ``"direct"``.

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
        fmt=fmt or (classification.fmt if isinstance(classification, Classification) else None),
        min_n=min_n,
    )
    fmt, min_n = ctx.fmt, ctx.threshold
    if title is None:
        name = ctx.label or indicator
        if option is not None and ctx.indicator is not None:
            known = {o.id: o.label for o in ctx.indicator.options}
            name += f" : {known.get(option, option)}"
        title = f"{name} — {LEVEL_LABELS[level]}"
    mode = _parse_estimates(estimates, aggregates, level)
    if mode == "model":
        from ._modelled import MODEL_SOURCE

        texts = map_texts(
            aggregates, territories, indicator=indicator, entry=ctx.indicator, option=option,
            classification=None, edition=edition, synthetic=synthetic, catalogue=catalogue,
            modelled=modelled or MODEL_SOURCE,
        )  # fmt: skip
        known = territories if hasattr(territories, "level") else None
        return _modelled(aggregates, gdf, indicator, level, option, title, description, ctx,
                         palette, style, basemap, assets, notes, source=texts.source,
                         page_style=page_style, territories=known)  # fmt: skip
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
    label = suppressed_label(min_n, sensitive=ctx.sensitive, reasons=hidden_reasons(rows))
    if not isinstance(classification, Classification):
        classification = resolve_classes(
            classification, aggregates, indicator, option=option, fmt=fmt
        )
    texts = map_texts(
        aggregates, territories, indicator=indicator, entry=ctx.indicator, option=option,
        classification=classification, edition=edition, synthetic=synthetic,
        catalogue=catalogue, modelled=modelled,
    )  # fmt: skip
    legend = LegendSpec(
        title=texts.legend_title,
        min_n=min_n,
        subtitle=texts.legend_subtitle,
        note=modelled,
        suppressed_label=label,
    )
    n_sup = int(merged["suppressed"].sum())
    if not np.isfinite(merged["value"].to_numpy()).any():
        doc = empty_map(
            title,
            f"Aucune valeur publiable pour cet indicateur à l'échelle des {LEVEL_LABELS[level]}"
            + (f" : {n_sup} territoire(s) — {label.lower()}." if n_sup else " : aucune réponse."),
            description=description,
            notes=notes,
            source=texts.source,
            page_style=page_style,
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
        national_value=texts.national_value,
        source=texts.source,
        page_style=page_style,
        territories=territories if hasattr(territories, "level") else None,
    )


#: Values of ``indicator_map(estimates=...)``.
MAP_ESTIMATES: tuple[str, ...] = ("model", "direct")


def _parse_estimates(estimates, aggregates: pd.DataFrame, level: str) -> str:
    from ..errors import UnknownValueError

    if estimates is None:
        has = "model_value" in aggregates.columns
        return "model" if has and level in ("epci", "departement") else "direct"
    if estimates not in MAP_ESTIMATES:
        raise UnknownValueError(
            f"Unknown estimates={estimates!r}. Valid values: {', '.join(MAP_ESTIMATES)}."
        )
    return estimates


def _national_texts(aggregates, indicator, option, fmt):
    nat = national_rows(aggregates, indicator)
    nat = nat[nat["level"] == "france"]
    if "option" in nat.columns:
        nat = nat[nat["option"] == option] if option is not None else nat[nat["option"].isna()]
    direct, model = "", None
    if len(nat) == 1 and not bool(nat["suppressed"].iloc[0]) and pd.notna(nat["value"].iloc[0]):
        direct = fmt.format(float(nat["value"].iloc[0]))
    if len(nat) == 1 and "model_value" in nat.columns and pd.notna(nat["model_value"].iloc[0]):
        model = float(nat["model_value"].iloc[0])
    return direct, model


#: Under the modelled map of a sensitive indicator (French).
SENSITIVE_MODEL_NOTE = (
    "Indicateur sensible : là où le chiffre direct d'un département ou d'une région est "
    "secret, le modèle n'utilise aucune de ses réponses ; son estimation est synthétique "
    "(type, taille et couverture de ses collectivités, effet de sa région) et ne dit rien "
    "de ses répondants."
)


def _modelled(aggregates, gdf, indicator, level, option, title, description, ctx, palette,
              style, basemap, assets, notes, *, source="", page_style="standard",
              territories=None):  # fmt: skip
    from ._modelled import modelled_map
    from ._style import style_palette

    national, nat_model = _national_texts(aggregates, indicator, option, ctx.fmt)
    notes = list(notes)
    if national:
        line = f"Valeur nationale (part des répondants, estimation directe) : {national}"
        if nat_model is not None:
            line += f" ; part modélisée des collectivités : {ctx.fmt.format(nat_model)}"
        notes.insert(0, line + ".")
    if ctx.indicator is not None and ctx.indicator.sensitive:
        notes.append(SENSITIVE_MODEL_NOTE)
    mean = ctx.indicator is not None and ctx.indicator.kind == "percentage"
    doc = modelled_map(
        aggregates, gdf, indicator=indicator, level=level, option=option, title=title,
        description=description, fmt=ctx.fmt, mean=mean, min_n=ctx.threshold,
        national=national, national_model=nat_model,
        palette=palette or style_palette(page_style), style=style, basemap=basemap,
        assets=assets, notes=notes, source=source, page_style=page_style,
        territories=territories,
    )  # fmt: skip
    return replace(doc, national=national)
