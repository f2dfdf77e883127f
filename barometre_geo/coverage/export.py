"""Exports of a :class:`~barometre_geo.coverage.CoverageResult`: GeoPackage and HTML map.

GeoPackage layout
-----------------
A GeoPackage layer has one CRS. Metropolitan features are written in
Lambert-93 (EPSG:2154) in layers without suffix; each overseas département's
features go to the same layer name suffixed with its code, in its own
projection (``communes_974`` in EPSG:2975…), so that areas and distances
measured in a GIS are right everywhere. Layers:

=========================  =================================================
``communes[_zone]``        every commune, covered or not, its structures
``taux_epci[_zone]``       rates per EPCI (also ``taux_departement``,
                           ``taux_region``)
``zones_non_couvertes``    uncovered zones (dissolved contiguous communes)
``chevauchements``         pairs of structures serving the same communes
``taux_france``            national rates (no geometry)
``structures``             per structure: size, neighbours (no geometry)
``communes_proches``       uncovered communes near each structure (no geometry)
``participation``,         crossing with the survey, when responses were
``accord_declaration``     given (no geometry)
``metadonnees``            every layer, its CRS and its description, the COG,
                           the parameters and the source (no geometry)
=========================  =================================================
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ..errors import InputFileError
from ..territories.crs import ZONE_CRS

__all__ = ["coverage_map", "write_gpkg", "write_html"]

_DESCRIPTIONS = {
    "communes": "Communes : couverture, nombre et noms des structures",
    "taux_epci": "Part des communes, de la population et de la superficie couvertes, par EPCI",
    "taux_departement": "Parts couvertes par département",
    "taux_region": "Parts couvertes par région",
    "zones_non_couvertes": (
        "Zones non couvertes : communes non couvertes contiguës (arête commune) d'un même "
        "département, fusionnées ; identifiant Z<département>-<rang par population>"
    ),
    "chevauchements": "Paires de structures desservant les mêmes communes",
    "taux_france": "Parts couvertes : France, France métropolitaine, outre-mer",
    "structures": "Par structure : communes, population, communes non couvertes voisines",
    "communes_proches": "Communes non couvertes voisines ou proches de chaque structure (km)",
    "participation": "Taux de participation à l'enquête, territoire couvert ou non",
    "accord_declaration": "Adhésion déclarée par les répondants / couverture spatiale",
}


def _split_by_zone(gdf, name: str):
    """Yield (layer name, projected GeoDataFrame, epsg) per zone."""
    zones = gdf["zone"].astype(str).to_numpy()
    for zone in ["metropole", *sorted(set(zones) - {"metropole"})]:
        mask = zones == zone
        if not mask.any():
            continue
        epsg = ZONE_CRS[zone]
        layer = name if zone == "metropole" else f"{name}_{zone}"
        yield layer, gdf.loc[mask].to_crs(epsg), epsg


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Make a table writable: no geometry, no object columns holding non-strings."""
    out = pd.DataFrame(df).drop(columns=["geometry"], errors="ignore").copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].astype("string")
    return out


def write_gpkg(result, path) -> Path:
    """Write a coverage result to a GeoPackage (see the module docstring for layers).

    The file is written next to ``path`` then renamed, so a failed write never
    leaves a half-written GeoPackage; an existing file is replaced.

    Returns
    -------
    pathlib.Path
    """
    import pyogrio

    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise InputFileError(f"{path}: a GeoPackage path must end in .gpkg (e.g. couverture.gpkg).")
    if not path.parent.is_dir():
        raise InputFileError(
            f"{path.parent}: no such folder. Create it first (mkdir -p {path.parent})."
        )
    tmp = path.with_name(f".{path.stem}.part.gpkg")
    tmp.unlink(missing_ok=True)
    catalogue: list[dict] = []

    def write(df, layer, epsg=None, description=""):
        pyogrio.write_dataframe(df, tmp, layer=layer, driver="GPKG")
        catalogue.append(
            {
                "layer": layer,
                "crs": f"EPSG:{epsg}" if epsg else "",
                "features": len(df),
                "description": description,
            }
        )

    try:
        spatial = [
            ("communes", result.communes),
            ("taux_epci", result.rates_at("epci")),
            ("taux_departement", result.rates_at("departement")),
            ("taux_region", result.rates_at("region")),
            ("zones_non_couvertes", result.zones),
            ("chevauchements", result.overlaps),
        ]
        for name, gdf in spatial:
            for layer, projected, epsg in _split_by_zone(gdf, name):
                write(projected, layer, epsg, _DESCRIPTIONS[name])
        national = result.rates[result.rates["level"].isin(["france", "france_metropolitaine"])]
        national = pd.concat([national, result.rates[result.rates["level"] == "outre_mer"]])
        write(_plain(national), "taux_france", description=_DESCRIPTIONS["taux_france"])
        write(_plain(result.structures), "structures", description=_DESCRIPTIONS["structures"])
        write(_plain(result.nearby), "communes_proches", None, _DESCRIPTIONS["communes_proches"])
        if result.survey is not None:
            write(
                _plain(result.survey.participation),
                "participation",
                None,
                _DESCRIPTIONS["participation"],
            )
            if result.survey.agreement is not None:
                accord = result.survey.agreement.reset_index()
                accord.columns = [str(c) for c in accord.columns]
                write(
                    _plain(accord), "accord_declaration", None, _DESCRIPTIONS["accord_declaration"]
                )
        meta = [
            ("titre", "Couverture par les structures de mutualisation (OPSN)"),
            ("cog", str(result.parameters["cog"])),
            ("source_structures", str(result.parameters["source"])),
            ("nearest", str(result.parameters["nearest"])),
            ("max_distance_km", str(result.parameters["max_distance_km"])),
            ("genere_le", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
            (
                "projections",
                "Métropole : EPSG:2154 (Lambert-93) ; outre-mer : une couche par département "
                "suffixée de son code, dans sa projection (971/972 EPSG:5490, 973 EPSG:2972, "
                "974 EPSG:2975, 976 EPSG:4471). Superficies en km² mesurées dans ces projections.",
            ),
        ]
        meta += [
            (
                f"couche:{c['layer']}",
                f"{c['crs'] or 'sans géométrie'} ; {c['features']} entité(s) ; {c['description']}",
            )
            for c in catalogue
        ]
        write(pd.DataFrame(meta, columns=["cle", "valeur"]), "metadonnees")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


#: Colour of communes served by several structures (Paul Tol's indigo, outside Okabe-Ito).
SEVERAL_COLOR = "#332288"
SEVERAL = "Plusieurs structures"


def _category_colors(result, categories: list[str]) -> dict[str, str]:
    """Give neighbouring structures different colours (greedy graph colouring).

    More structures than a qualitative palette has colours are normal, so a
    colour is reused by structures that never touch; the tooltip names them.
    """
    from ..maps._palettes import get_palette
    from ..territories.adjacency import rook_pairs

    palette = list(get_palette("OkabeIto", kind="qualitative").for_k(8))
    cat = result.communes["categorie"].to_numpy()
    i, j, _ = rook_pairs(result.communes.geometry.to_numpy())
    differ = cat[i] != cat[j]
    pairs = set(zip(cat[i][differ].tolist(), cat[j][differ].tolist(), strict=True))
    neighbours: dict[str, set] = {c: set() for c in categories}
    for a, b in pairs:
        if a in neighbours and b in neighbours:
            neighbours[a].add(b)
            neighbours[b].add(a)
    colors = {SEVERAL: SEVERAL_COLOR}
    for c in categories:
        if c in colors:
            continue
        taken = [colors[n] for n in neighbours[c] if n in colors]
        # more coloured neighbours than colours: take the colour they use least
        colors[c] = min(palette, key=lambda p, t=taken: (t.count(p), palette.index(p)))
    return colors


def coverage_map(result, *, title: str | None = None, basemap="plan_ign", assets="inline"):
    """Return the coverage map: communes coloured by serving structure, uncovered outlined.

    Built with :func:`barometre_geo.maps.categorical_map` (the machinery of the
    indicator maps). Communes served by one structure take its colour
    (neighbouring structures always differ), communes served by several are
    « Plusieurs structures », uncovered ones are « Non couverte » and drawn
    again, outlined, in a « Zone non couverte » layer. Tooltips: commune, code,
    structures, population, uncovered zone.
    """
    from .._format import format_count, format_number
    from ..maps import Field, LegendSpec, categorical_map

    com = result.communes
    counts = com.loc[com["n_structures"] == 1, "categorie"].value_counts()
    categories = list(counts.index) + ([SEVERAL] if (com["n_structures"] > 1).any() else [])
    gdf = com[["nom", "code", "structures", "population", "uncovered_zone", "geometry"]].copy()
    gdf["categorie"] = com["categorie"].where(com["covered"], None)
    gdf["non_couverte"] = ~com["covered"]
    gdf["structures"] = gdf["structures"].replace("", "aucune")
    gdf["uncovered_zone"] = gdf["uncovered_zone"].fillna("")
    fr = result.national()
    description = (
        f"{format_count(fr['n_covered'])} communes couvertes sur "
        f"{format_count(fr['n_communes'])} ({format_number(100 * fr['share_communes'])} %) ; "
        f"{format_count(len(result.zones))} zones non couvertes. Structures : "
        f"{Path(str(result.parameters['source'])).name}, COG {result.parameters['cog']}."
    )
    return categorical_map(
        gdf,
        "categorie",
        title=title or "Couverture par les structures de mutualisation",
        description=description,
        categories=categories,
        colors=_category_colors(result, categories),
        highlight="non_couverte",
        highlight_label="Zone non couverte",
        fields=[
            Field("nom", "Commune", kind="text"),
            Field("code", "Code INSEE", kind="text"),
            Field("structures", "Structure(s)", kind="text", main=True),
            Field("population", "Population"),
            Field("uncovered_zone", "Zone non couverte", kind="text"),
        ],
        legend=LegendSpec(title="Structure de mutualisation", no_data_label="Non couverte"),
        basemap=basemap,
        assets=assets,
    )


def write_html(result, path, **options) -> Path:
    """Write the coverage map (:func:`coverage_map`) to an HTML file."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InputFileError(
            f"{path.parent}: no such folder. Create it first (mkdir -p {path.parent})."
        )
    return coverage_map(result, **options).save(path)
