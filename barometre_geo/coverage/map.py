"""The coverage map: structures in colours that neighbours never share, one view per structure.

Built with :func:`barometre_geo.maps.categorical_map`:

* communes served by one structure take its colour (:mod:`.colors`: the
  structures' adjacency graph coloured so that neighbours differ), communes
  served by several are « Plusieurs structures », uncovered ones are hatched
  (they recede behind the structures at national scale) and the uncovered
  zones (:mod:`.zones`) are outlined, thin, over them;
* the legend is compact: one entry per structure, searchable, folded on small
  screens, scrolling within the map; an entry opens the structure's view;
* one view per structure (``couverture.html?structure=<cle>``, the key of
  :func:`~.prospects.structure_keys`): its territory, its figures, its
  prospects (adjacent first, then distance, population) and the EPCI they
  belong to, and links to its prospect lists (:mod:`.lists`);
* tooltips and the data table: commune, INSEE code, SIREN, département,
  EPCI and its SIREN, structures, population, answered the barometer
  (waves), uncovered zone, nearest structure and distance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._format import NumberFormat, format_count, format_number
from .colors import UNCOVERED, categories
from .prospects import structure_labels
from .zones import ZONE_ID_SCHEME

__all__ = ["coverage_map", "structure_views"]

_KM = NumberFormat(share=False, decimals=1, unit="km")
_NO_EPCI = pd.DataFrame(
    columns=[
        "EPCI",
        "SIREN de l'EPCI",
        "Prospects",
        "dont limitrophes",
        "Population des prospects",
        "Communes non couvertes / communes de l'EPCI",
    ]
)


def _members(result) -> dict[str, np.ndarray]:
    ids = result.communes["structure_ids"].fillna("").str.split()
    long = ids.explode().dropna()
    long = long[long != ""]
    pos = pd.Series(np.arange(len(ids)), index=ids.index).loc[long.index].to_numpy()
    return {k: np.sort(pos[long.to_numpy() == k]) for k in pd.unique(long)}


def _pct(x) -> str:
    return "" if x is None or x != x else f"{format_number(100 * x)}\u202f%"


def _figures(s, answered: bool, dep_names: dict) -> list[tuple[str, str]]:
    deps = ", ".join(f"{dep_names.get(d, d)} ({d})" for d in str(s["departements"]).split())
    out = [
        ("Communes desservies", format_count(s["n_communes"])),
        ("Population desservie", f"{format_count(s['population'])} hab."),
        (
            "Part de ses départements",
            f"{_pct(s['share_communes_departements'])} des communes, "
            f"{_pct(s['share_population_departements'])} de la population ({deps})",
        ),
        ("Communes partagées avec une autre structure", format_count(s["n_shared"])),
    ]
    if answered:
        n = int(s["n_respondents"])
        out.append(
            (
                "Communes de son territoire ayant répondu au baromètre",
                f"{format_count(n)} ({_pct(n / s['n_communes'])})",
            )
        )
    out.append(
        (
            "Communes non couvertes limitrophes",
            f"{format_count(s['n_adjacent_uncovered'])} "
            f"({format_count(s['population_adjacent_uncovered'])} hab.)",
        )
    )
    text = format_count(s["n_prospects"])
    if answered:
        text += f", dont {format_count(s['n_prospects_answered'])} ayant répondu au baromètre"
    out.append(("Communes non couvertes à prospecter", text))
    return out


def _prospect_table(rows: pd.DataFrame, answered: bool) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "Rang": rows["rank"].astype(str),
            "Commune": rows["nom"],
            "Code INSEE": rows["commune"],
            "SIREN": rows["siren"].fillna(""),
            "Département": rows["departement"],
            "EPCI": rows["epci_nom"].fillna(""),
            "Population": [format_count(x) for x in rows["population"]],
            "Limitrophe": np.where(rows["adjacent"], "oui", "non"),
            "Distance (km)": [format_number(x) for x in rows["distance_km"]],
        }
    )
    if answered:
        waves = rows["answered_waves"].fillna("")
        table["A répondu (vagues)"] = np.where(waves == "", "non", waves)
    return table


def _epci_counts(communes: pd.DataFrame) -> tuple[dict, dict]:
    """Communes and uncovered communes of each EPCI."""
    total = communes.groupby("epci").size()
    free = communes[~communes["covered"]].groupby("epci").size()
    return total.to_dict(), free.to_dict()


def _epci_tables(nearby: pd.DataFrame, counts: tuple[dict, dict]) -> dict[str, pd.DataFrame]:
    """Per structure, the EPCI of its prospects (one groupby for all structures)."""
    total, free = counts
    agg = (
        nearby.groupby(["structure", "epci", "epci_nom"], sort=False, dropna=False)
        .agg(
            n=("commune", "size"),
            adjacent=("adjacent", "sum"),
            population=("population", "sum"),
            distance=("distance_km", "min"),
        )
        .reset_index()
        .sort_values(
            ["structure", "adjacent", "distance", "population"],
            ascending=[True, False, True, False],
            kind="stable",
        )
    )
    table = pd.DataFrame(
        {
            "EPCI": agg["epci_nom"].fillna("").to_numpy(dtype=object),
            "SIREN de l'EPCI": agg["epci"].fillna("").to_numpy(dtype=object),
            "Prospects": [format_count(x) for x in agg["n"]],
            "dont limitrophes": [format_count(x) for x in agg["adjacent"]],
            "Population des prospects": [format_count(x) for x in agg["population"]],
            "Communes non couvertes / communes de l'EPCI": [
                f"{format_count(free.get(e, 0))} / {format_count(total.get(e, 0))}"
                for e in agg["epci"]
            ],
        }
    )
    return {
        k: table.iloc[idx].reset_index(drop=True)
        for k, idx in agg.reset_index(drop=True).groupby("structure", sort=False).indices.items()
    }


def structure_views(result, *, labels: dict[str, str] | None = None, lists: bool = False):
    """One :class:`~barometre_geo.maps.View` per structure with a territory.

    Parameters
    ----------
    result : CoverageResult
    labels : dict, optional
        Legend label of each structure id (its entry opens the view).
    lists : bool
        Link the prospect lists (:func:`.lists.write_lists` writes them next to the page).

    Returns
    -------
    barometre_geo.maps.ViewSet
    """
    from ..maps._views import View, ViewSet, ViewTable
    from .lists import list_paths

    per = result.structures
    labels = labels or structure_labels(result.structures)
    members = _members(result)
    epci_counts = _epci_counts(result.communes)
    answered = not result.communes["answered_waves"].isna().all()
    code_pos = pd.Series(np.arange(len(result.communes)), index=result.communes["code"])
    deps = result.territories.departements
    dep_names = dict(zip(deps["code"], deps["nom"], strict=True))
    views = []
    nearby = result.nearby
    prospects = _prospect_table(nearby, answered)
    epci = _epci_tables(nearby, epci_counts)
    features = code_pos.loc[nearby["commune"]].to_numpy()
    rows_of = nearby.groupby("structure", sort=False).indices
    none = np.zeros(0, dtype=np.int64)
    for _, s in per[per["n_communes"] > 0].iterrows():
        idx = rows_of.get(s["id"], none)
        links = []
        if lists:
            csv, xlsx = list_paths(s["cle"])
            fcsv, fxlsx = list_paths(None)
            links = [
                ("Ses prospects (CSV)", csv),
                ("Ses prospects (XLSX)", xlsx),
                ("Communes non couvertes de France (CSV)", fcsv),
                ("Communes non couvertes de France (XLSX)", fxlsx),
            ]
        views.append(
            View(
                key=str(s["cle"]),
                label=labels[s["id"]],
                members=members.get(s["id"], np.zeros(0, np.int64)),
                category=labels[s["id"]],
                figures=_figures(s, answered, dep_names),
                links=links,
                tables=(
                    ViewTable(
                        "Communes non couvertes à prospecter (limitrophes d’abord, puis par "
                        "distance et population)",
                        prospects.iloc[idx].reset_index(drop=True),
                        features=features[idx],
                        numeric=("Rang", "Population", "Distance (km)"),
                    ),
                    ViewTable(
                        "EPCI de ces communes",
                        epci.get(s["id"], _NO_EPCI),
                        numeric=("Prospects", "dont limitrophes", "Population des prospects"),
                    ),
                ),
                notes=(
                    "Prospects : les communes non couvertes limitrophes de son territoire, "
                    "toutes celles de ses départements, puis les "
                    f"{result.parameters['nearest']} plus proches à moins de "
                    f"{format_number(result.parameters['max_distance_km'])} km. Distances "
                    "entre contours de communes, dans la projection de chaque territoire.",
                ),
            )
        )
    return ViewSet(
        param="structure",
        label="Structure",
        views=tuple(views),
        all_label="Toutes les structures (vue d’ensemble)",
        related_label="Ses prospects",
    )


def _frame(result):
    com = result.communes
    zones = dict(zip(result.zones["zone_id"], result.zones["nom"], strict=True))
    zone = com["uncovered_zone"].astype("object")
    gdf = com[["nom", "code", "siren", "epci", "epci_nom", "population", "geometry"]].copy()
    gdf["categorie"] = com["categorie"]
    gdf["departement_label"] = com["departement"] + " — " + com["departement_nom"].fillna("")
    gdf["structures"] = com["structures"].replace("", "aucune")
    gdf["zone_label"] = [
        f"{z} — {zones.get(z, '')}" if isinstance(z, str) else "" for z in zone.to_numpy()
    ]
    gdf["zone_id"] = zone.fillna("").to_numpy()
    gdf["nearest"] = com["nearest_structures_nom"].fillna("")
    gdf["nearest_km"] = com["nearest_km"]
    gdf["answered"] = com["answered_waves"].fillna("").replace("", "non")
    return gdf


def coverage_map(
    result,
    *,
    title: str | None = None,
    basemap="plan_ign",
    assets="inline",
    lists: bool = False,
    notes=(),
):
    """Return the coverage map (see the module docstring).

    Parameters
    ----------
    result : CoverageResult
    title : str, optional
    basemap, assets
        As for :func:`barometre_geo.maps.categorical_map`.
    lists : bool
        The prospect lists are written next to the page (``couverture/``):
        each structure's view links them.
    notes : sequence of str
        Extra lines under the map (e.g. « données synthétiques »).
    """
    from ..maps import Field, LegendSpec, Outline, categorical_map

    per = result.structures
    labels = structure_labels(per)
    gdf = _frame(result)
    styles = categories(result)
    colors = {label: color or "#ffffff" for label, color in styles}
    answered = not result.communes["answered_waves"].isna().all()
    fields = [
        Field("nom", "Commune", kind="text"),
        Field("code", "Code INSEE", kind="text"),
        Field("siren", "SIREN", kind="text"),
        Field("departement_label", "Département", kind="text"),
        Field("epci_nom", "EPCI", kind="text"),
        Field("epci", "SIREN de l'EPCI", kind="text"),
        Field("structures", "Structure(s)", kind="text", main=True),
        Field("population", "Population"),
    ]
    if answered:
        fields.append(Field("answered", "A répondu au baromètre (vagues)", kind="text"))
    fields += [
        Field("zone_label", "Zone non couverte", kind="text"),
        Field("nearest", "Structure la plus proche", kind="text"),
        Field("nearest_km", "Distance à la structure", fmt=_KM),
    ]
    fr = result.national()
    source = Path(str(result.parameters["source"])).name
    description = (
        f"{format_count(fr['n_covered'])} communes couvertes sur "
        f"{format_count(fr['n_communes'])} ({format_number(100 * fr['share_communes'])} %) ; "
        f"{format_count(len(result.zones))} zones non couvertes. Choisissez une structure "
        "pour voir son territoire, les communes non couvertes à côté d’elle et les "
        f"télécharger. Structures : {source}, COG {result.parameters['cog']}."
    )
    return categorical_map(
        gdf,
        "categorie",
        title=title or "Couverture par les structures de mutualisation",
        description=description,
        categories=[label for label, _ in styles],
        colors=colors,
        hatched=(UNCOVERED,),
        fields=fields,
        legend=LegendSpec(title="Structure de mutualisation", compact=True),
        outlines=(
            Outline(
                "zone_id",
                "Zone non couverte",
                color="#4d4d4d",
                weight=0.9,
                note="Z14-01 : la zone non couverte la plus peuplée du Calvados (14).",
            ),
        ),
        views=structure_views(result, labels=labels, lists=lists),
        basemap=basemap,
        assets=assets,
        notes=(
            "Deux structures voisines (territoires contigus ou partagés) n’ont jamais la même "
            "couleur (palettes Okabe–Ito et Tol, lisibles par les daltoniens) ; les communes "
            "desservies par plusieurs structures sont en indigo, les communes non couvertes "
            "hachurées.",
            "Zones non couvertes : communes non couvertes contiguës (arête commune) d’un même "
            f"département. {ZONE_ID_SCHEME}",
            *(
                (
                    "« A répondu au baromètre » : DONNÉES SYNTHÉTIQUES de démonstration, pas "
                    "les réponses réelles.",
                )
                if result.parameters.get("synthetic_responses")
                else ()
            ),
            *notes,
        ),
    )
