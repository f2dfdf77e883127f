"""Map of the LISA clusters of one indicator: :func:`lisa_map`.

The statistics come from :func:`barometre_geo.spatial_autocorrelation`
(:mod:`barometre_geo.stats.spatial`); this module only draws them.
"""

from __future__ import annotations

from .._format import NumberFormat
from ..errors import UnknownValueError
from ..stats.autocorrelation import _LEVEL_PLURAL, _NOT_COMPUTED, _fr
from ..stats.spatial import LISA_COLORS, SpatialStats, _lisa_rows

__all__ = ["lisa_map"]


def _value_format(indicator: str):
    """Return the number format of an indicator (percent of shares, or the mean's unit)."""
    from ._data import value_format

    try:
        from ..survey.catalogue import load_catalogue

        return value_format(load_catalogue().get(indicator))
    except UnknownValueError:  # not a catalogue indicator: plain numbers
        return NumberFormat(share=False, decimals=2, unit="")


def lisa_map(
    stats: SpatialStats,
    territories=None,
    *,
    indicator: str,
    option: str | None = None,
    level: str | None = None,
    title: str | None = None,
    basemap="plan_ign",
    assets: str = "inline",
):
    """Draw the LISA clusters of one indicator with :func:`~barometre_geo.maps.categorical_map`.

    Haut-Haut red, Bas-Bas blue, Haut-Bas orange, Bas-Haut light blue, non
    significant white; territories not computed (no published value, island,
    overseas) in the grey "no data" style, with their reason in the tooltip.
    The notes give global Moran's I and the multiple-testing setting.

    Returns
    -------
    MapDocument
    """
    from ._choropleth import categorical_map
    from ._options import Field, LegendSpec

    if territories is None:
        from ..territories.load import load_territories

        territories = load_territories()
    level, _ = _lisa_rows(stats, indicator, option, level)
    gdf = stats.lisa_frame(territories, indicator=indicator, option=option, level=level)
    computed = gdf["cluster"].notna()
    gdf["groupe"] = gdf["cluster_label"].where(computed, None)
    gdf["statut"] = gdf["cluster_label"].fillna(_NOT_COMPUTED["not_computed"])
    m = stats.moran
    g = m[(m["indicator"] == indicator) & (m["level"] == level)]
    if option is not None:
        g = g[g["option"] == option]
    g = g.iloc[0]
    label = g["label"] if isinstance(g["label"], str) else indicator
    if option is not None:
        label = f"{label} — {option}"
    p = stats.parameters
    corr = {"none": "sans correction", "fdr": "correction FDR", "bonferroni": "Bonferroni"}
    pct = _value_format(indicator)
    notes = [
        str(g["interpretation"]),
        f"Moran local, {p['permutations']} permutations (graine {p['seed']}), seuil "
        f"{_fr(p['significance'] * 100, 1)} % {corr[p['correction']]}, voisinage "
        f"{p['weights']}. Outre-mer, îles et valeurs masquées non calculés.",
    ]
    fields = [
        Field("nom", "Nom", kind="text"),
        Field("code", "Code", kind="text"),
        Field("value", "Valeur", fmt=pct),
        Field("lag", "Moyenne des voisins", fmt=pct),
        Field("p_value", "p (permutations)", fmt=NumberFormat(share=False, decimals=3, unit="")),
        Field("statut", "Groupe", kind="text"),
    ]
    return categorical_map(
        gdf,
        "groupe",
        title=title or f"Regroupements spatiaux (LISA) — {label} — {_LEVEL_PLURAL[level]}",
        categories=list(LISA_COLORS),
        colors=LISA_COLORS,
        fields=fields,
        legend=LegendSpec(title="Groupe LISA", no_data_label="Non calculé"),
        basemap=basemap,
        assets=assets,
        notes=notes,
    )
