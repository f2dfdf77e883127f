"""Exports of a :class:`~barometre_geo.coverage.CoverageResult`: GeoPackage, HTML file.

The map itself is :mod:`.map`; the prospect lists :mod:`.lists`.

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

__all__ = ["write_gpkg", "write_html"]

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


def write_html(result, path, **options) -> Path:
    """Write the coverage map (:func:`~.map.coverage_map`) to an HTML file."""
    from .map import coverage_map

    path = Path(path)
    if not path.parent.is_dir():
        raise InputFileError(
            f"{path.parent}: no such folder. Create it first (mkdir -p {path.parent})."
        )
    return coverage_map(result, **options).save(path)
