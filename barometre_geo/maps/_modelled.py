"""Map of a modelled indicator: estimate by class, uncertainty cue, comparison with France.

:func:`modelled_map` draws the model-based estimates of
``aggregate(..., estimates="model")`` (contract: ``docs/contracts/indicators.md``)
as a page with two views the reader switches between (radio buttons):

* **Estimation modélisée** — each territory in the class of its modelled
  estimate (fixed classes, :data:`barometre_geo.protection.modelled.MODEL_SHARE_BREAKS`);
  a *lighter fill* where the 95 % interval spans more than one class, or where
  only the class is published (the legend says so); territories whose figure the
  flip rule hides are hatched as secret;
* **Comparaison avec la France** — significantly above, not distinguishable
  from, or significantly below the modelled national share of collectivities
  (the 95 % interval of the territory entirely above or below it), as INSEE's
  local statistics do.

Tooltips and the table give the modelled estimate and its interval, the direct
figure, its interval and number of answers, the comparison and the tier of
publication. The sentence under the map says that the figure is modelled and how.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .._format import NumberFormat, format_count
from ..errors import SchemaError
from ._choropleth import _finish, _geometry, _prepare
from ._data import LEVEL_LABELS, join_rows, overall_rows
from ._document import MapDocument
from ._geometry import encode_vlq
from ._layers import NO_DATA, SUPPRESSED, layer_spec
from ._options import Basemap, Field, LegendSpec, MapStyle
from ._palettes import get_palette

__all__ = [
    "COMPARISON_COLORS",
    "MODEL_NOTE",
    "MODEL_SOURCE",
    "class_index",
    "class_lows",
    "modelled_map",
    "secret_label",
    "tier_text",
    "vs_text",
]

#: Colours of the comparison with France (below, not distinguishable, above).
COMPARISON_COLORS = ("#2166ac", "#e0e0e0", "#b2182b")
_COMPARISON_LABELS = (
    "Significativement en dessous de la France",
    "Non distinguable de la France",
    "Significativement au-dessus de la France",
)
_CUE_FACTOR = 0.35
#: The sentence under every modelled map (French).
MODEL_NOTE = (
    "Estimation modélisée : part des collectivités du territoire (chacune compte pour une), "
    "prédite par un modèle multiniveau à partir des réponses — type de collectivité, "
    "population, couverture par une structure de mutualisation, effets du département et de "
    "la région — puis appliquée à toutes les collectivités du territoire ; elle suppose que "
    "ces caractéristiques expliquent qui a répondu."
)
#: What the source line adds under a modelled map (``_captions.SourceLine.modelled``).
MODEL_SOURCE = "estimations modélisées par un modèle multiniveau (voir la note sous la carte)"
_TIER_TEXT = {
    "value": "valeur et intervalle",
    "class": "classe seule (peu de réponses : la valeur exacte pourrait trahir une réponse)",
    "hidden": "secret (la classe pourrait trahir une réponse)",
}
_VS_TEXT = dict(zip(("below", "similar", "above"), _COMPARISON_LABELS, strict=True))
MODEL_COLUMNS_NEEDED = ("model_value", "model_ci_low", "model_ci_high", "model_class_low",
                        "model_publication", "model_uncertain", "model_vs_france")  # fmt: skip


def model_classes(values, *, mean: bool, fmt: NumberFormat):
    """Return the :class:`~._classify.Classification` of the modelled figures' fixed classes.

    The class-only tier of :mod:`barometre_geo.protection.modelled` is screened
    against these bounds (:data:`~barometre_geo.protection.modelled.MODEL_SHARE_BREAKS`,
    ``MODEL_MEAN_BREAKS``), so a build drawing modelled maps uses them on every
    level of the indicator (the same colour means the same value everywhere).
    ``values``: the values to count per class (any level).
    """
    from ..protection.modelled import MODEL_MEAN_BREAKS, MODEL_SHARE_BREAKS
    from ._classify import classify

    breaks = MODEL_MEAN_BREAKS if mean else MODEL_SHARE_BREAKS
    values = np.clip(np.asarray(values, dtype=float), 0.0, breaks[-1])
    return classify(values, scheme="user_defined", bins=breaks, fmt=fmt)


def tier_text(tier) -> str:
    """Return the publication tier of a modelled figure, as the map's tooltip words it.

    ``tier``: ``model_publication`` (``value``, ``class``, ``hidden``; anything
    else: no estimate). The territory pages quote the same words.

    Examples
    --------
    >>> tier_text("class")
    'classe seule (peu de réponses : la valeur exacte pourrait trahir une réponse)'
    >>> tier_text(None)
    "pas d'estimation"
    """
    return _TIER_TEXT.get(tier if isinstance(tier, str) else "", "pas d'estimation")


def vs_text(vs, tier) -> str:
    """Return the comparison with France of a modelled figure, as the map words it.

    Only a figure published with its value is compared (``tier == "value"``).

    Examples
    --------
    >>> vs_text("above", "value")
    'Significativement au-dessus de la France'
    >>> vs_text("above", "class")
    'non publiée'
    """
    return _VS_TEXT.get(vs, "non publiée") if tier == "value" else "non publiée"


def secret_label(min_n: int) -> str:
    """Legend label of a modelled figure the flip rule hides (its short form: lower case)."""
    return f"Secret (estimation qui pourrait trahir une réponse, moins de {min_n} réponses)"


@lru_cache(maxsize=2)
def class_lows(mean: bool) -> tuple[float, ...]:
    """Lower bounds of the modelled figures' fixed classes (``model_class_low``'s values)."""
    from ..protection.modelled import MODEL_MEAN_BREAKS, MODEL_SHARE_BREAKS

    breaks = MODEL_MEAN_BREAKS if mean else MODEL_SHARE_BREAKS
    return (0.0, *breaks[:-1])


def class_index(class_low, *, mean: bool) -> np.ndarray:
    """Index of each figure's fixed class from its ``model_class_low`` (``-1``: NaN).

    Examples
    --------
    >>> class_index([0.0, 0.2, 0.8, float("nan")], mean=False).tolist()
    [0, 1, 4, -1]
    """
    low = np.asarray(class_low, dtype=float)
    cls = np.searchsorted(np.asarray(class_lows(mean)), low + 1e-9, side="right") - 1
    return np.where(np.isfinite(low), cls, NO_DATA).astype(np.int64)


def _published(tier: np.ndarray) -> np.ndarray:
    """Which figures are published with their estimate and interval (tier ``value``)."""
    return tier == "value"


def _direct_texts(merged: pd.DataFrame, fmt: NumberFormat, min_n: int) -> list[str]:
    """Return the direct figure of every territory, as the tooltip and the table say it.

    Read from the columns (a loop over ``iterrows`` built a row Series per
    territory: most of the time of an EPCI page).
    """
    n_rows = len(merged)
    sup = merged["suppressed"].to_numpy(dtype=bool)
    value = merged["value"].to_numpy(dtype=float)
    if "respondents" in merged.columns:
        nobody = merged["respondents"].to_numpy(dtype=float) == 0
    else:
        nobody = np.ones(n_rows, dtype=bool)
    n = merged["n"].to_numpy(dtype=float)
    lo, hi = merged["ci_low"].to_numpy(dtype=float), merged["ci_high"].to_numpy(dtype=float)
    hidden = f"non publiée (moins de {min_n} réponses ou secret)"
    out = []
    for i in range(n_rows):
        if sup[i] or not np.isfinite(value[i]):
            out.append("pas de réponse" if nobody[i] else hidden)
            continue
        k = int(n[i])
        text = f"{fmt.format(value[i])} ({k} réponse{'s' if k > 1 else ''}"
        if np.isfinite(lo[i]) and np.isfinite(hi[i]):
            text += f", IC à 95 % {fmt.format(lo[i])} à {fmt.format(hi[i])}"
        out.append(text + ")")
    return out


def modelled_map(
    aggregates: pd.DataFrame,
    gdf,
    *,
    indicator: str,
    level: str,
    title: str,
    fmt: NumberFormat,
    mean: bool,
    min_n: int,
    option: str | None = None,
    description: str = "",
    national: str = "",
    national_model: float | None = None,
    palette: str = "Blues",
    style: MapStyle | None = None,
    basemap: Basemap | str | None = "plan_ign",
    assets: str = "inline",
    notes=(),
    source: str = "",
    page_style: str = "standard",
    territories=None,
) -> MapDocument:
    """Draw the modelled estimates of one indicator at one level (two views, see module).

    ``gdf`` holds the level's polygons (``code``, ``nom``). ``national`` is the
    formatted direct national figure (the report's); ``national_model`` the
    modelled national share of collectivities, quoted by the comparison view.
    ``source``, ``page_style``, ``territories``: as :func:`~._choropleth.choropleth`.

    Raises
    ------
    SchemaError
        The table has no modelled columns (aggregate without ``estimates="model"``).
    """
    from ..protection.modelled import MODEL_MEAN_BREAKS, MODEL_SHARE_BREAKS

    missing = [c for c in MODEL_COLUMNS_NEEDED if c not in aggregates.columns]
    if missing:
        raise SchemaError(
            f"modelled_map: the table lacks the modelled columns {missing[:3]}… Compute it "
            "with barometre_geo.aggregate(..., estimates='model'), or draw the direct "
            "figures (estimates='direct')."
        )
    style = style or MapStyle()
    gdf = _prepare(gdf, ["code"], "modelled_map")
    rows = overall_rows(aggregates, indicator, level, option, what="modelled_map")
    numeric = ("model_value", "model_ci_low", "model_ci_high", "model_class_low", "value",
               "ci_low", "ci_high", "n", "respondents", "suppressed")  # fmt: skip
    merged = join_rows(gdf, rows, level=level, columns=numeric, what="modelled_map")
    extra = rows[["code", "model_publication", "model_uncertain", "model_vs_france"]].astype(object)
    extra = extra.assign(code=extra["code"].astype(str)).set_index("code")
    codes = merged["code"].astype(str)
    tier = codes.map(extra["model_publication"]).to_numpy(dtype=object)
    unsure = codes.map(extra["model_uncertain"]).to_numpy(dtype=object)
    vs = codes.map(extra["model_vs_france"]).to_numpy(dtype=object)
    tier = np.array([t if isinstance(t, str) else None for t in tier], dtype=object)
    # only what the tier publishes, even from a table that leaked the rest (as the
    # direct maps empty suppressed cells): the estimate and interval of "value" figures
    for col in ("model_value", "model_ci_low", "model_ci_high"):
        merged[col] = merged[col].where(_published(tier))
    breaks = np.asarray(MODEL_MEAN_BREAKS if mean else MODEL_SHARE_BREAKS)
    cls = class_index(merged["model_class_low"].to_numpy(float), mean=mean)
    cls = np.where(tier == "hidden", SUPPRESSED, cls)
    cls = np.where(tier == None, NO_DATA, cls).astype(np.int64)  # noqa: E711
    cue = np.array([u is True for u in unsure]) & (cls >= 0)
    n_cue = int(cue.sum())
    if not (cls >= 0).any():
        from ._choropleth import empty_map

        return empty_map(title, "Aucune estimation modélisée publiable à cette échelle.",
                         description=description, notes=notes, source=source,
                         page_style=page_style)  # fmt: skip
    # texts of the tooltips and the table
    merged["_vs"] = [vs_text(v, t) for v, t in zip(vs, tier, strict=True)]
    merged["_tier"] = [tier_text(t) for t in tier]
    merged["_direct"] = _direct_texts(merged, fmt, min_n)
    fields = [
        Field("nom", "Nom", kind="text"),
        Field("code", "Code", kind="text"),
        Field("model_value", "Estimation modélisée", kind="number", fmt=fmt, main=True),
        Field(
            ("model_ci_low", "model_ci_high"), "Intervalle à 95 % (modèle)", kind="range", fmt=fmt
        ),
        Field(kind="class", label="Classe"),
        Field("_direct", "Estimation directe", kind="text"),
        Field("_vs", "Comparaison avec la France", kind="text"),
        Field("_tier", "Publication", kind="text"),
    ]
    colors = get_palette(palette, kind="sequential").for_k(len(breaks))
    labels = list(model_classes(merged["model_value"], mean=mean, fmt=fmt).labels)
    secret = secret_label(min_n)
    legend = LegendSpec(
        title=title, min_n=min_n, subtitle="Estimation modélisée",
        no_data_label="Pas d'estimation", suppressed_label=secret,
        note="Couleur pâle : estimation incertaine — l'intervalle à 95 % couvre plusieurs "
             "classes, ou seule la classe est publiée (peu de réponses).",
    )  # fmt: skip
    simplified, geometry = _geometry(merged, style)
    layer = layer_spec(
        layer_id="modele", name="Estimation modélisée", data=merged, geometry=geometry,
        cls=cls, classes=[{"label": lab, "color": c} for lab, c in
                          zip(labels, colors, strict=True)],
        fields=fields, legend=legend, style=style,
    )  # fmt: skip
    layer["unsure"] = encode_vlq(cue.astype(np.int64))
    layer["legend"]["cue"] = {
        "label": "Estimation incertaine (couleur pâle)",
        "color": colors[len(colors) // 2],
        "factor": _CUE_FACTOR,
        "n": n_cue,
        "count": format_count(n_cue),
    }
    # the comparison view
    vs_cls = np.array(
        [("below", "similar", "above").index(v) if t == "value" and isinstance(v, str) else NO_DATA
         for v, t in zip(vs, tier, strict=True)], dtype=np.int64,
    )  # fmt: skip
    vs_cls = np.where(tier == "hidden", SUPPRESSED, vs_cls)
    ref = ""
    if national_model is not None:
        ref = f" (part modélisée des collectivités : {fmt.format(national_model)})"
    cmp_legend = LegendSpec(
        title="Comparaison avec la France" + ref, min_n=min_n,
        subtitle="Intervalle à 95 % entièrement au-dessus ou en dessous",
        no_data_label="Non comparée (classe seule ou pas d'estimation)", suppressed_label=secret,
    )  # fmt: skip
    cmp_layer = layer_spec(
        layer_id="comparaison", name="Comparaison avec la France", data=merged,
        geometry=geometry, cls=vs_cls,
        classes=[{"label": lab, "color": c} for lab, c in
                 zip(_COMPARISON_LABELS, COMPARISON_COLORS, strict=True)],
        fields=fields, legend=cmp_legend, style=style, field_data=layer["fields"],
    )  # fmt: skip
    notes = [MODEL_NOTE, *notes]
    doc = _finish(
        gdf=merged, simplified=simplified, layers=[layer, cmp_layer], title=title,
        description=description, notes=notes, basemap=basemap, assets=assets,
        classification=None, national=national, modes=True, style=style, source=source,
        page_style=page_style, territories=territories,
    )  # fmt: skip
    return doc


def level_title(name: str, level: str) -> str:
    """Return "name — level label"."""
    return f"{name} — {LEVEL_LABELS[level]}"
