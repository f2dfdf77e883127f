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
``structures_voisines``    neighbouring structures (no geometry)
``communes_proches``       each structure's prospects (no geometry)
``participation``,         crossing with the survey, when responses were
``accord_declaration``     given (no geometry)
``metadonnees``            every layer, its CRS and its description, every
                           column, the COG, the parameters and the source
``layer_styles``           QGIS styles (:mod:`.style`): the HTML map's colours,
                           uncovered communes hatched, zones outlined
=========================  =================================================

Geometry columns are named ``geom`` and polygons written as multipolygons,
as in the indicator GeoPackages. As they are too: GeoPackage 1.2, the rates per
EPCI, département and région on the indicators' generalised geometry
(:func:`~barometre_geo.maps._generalise.generalised_level`), no R-tree under 100
features, and the standard ``gpkg_metadata`` documents QGIS shows (one per table
and one for the file, :mod:`barometre_geo.maps._gpkg_meta`).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
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
    "structures_voisines": "Paires de structures voisines (territoires contigus ou partagés)",
    "metadonnees": "Couches, colonnes, sources, paramètres (cle, valeur)",
}


def _split_by_zone(gdf, name: str, geometry=None):
    """Yield (layer name, projected GeoDataFrame, epsg) per zone.

    ``geometry``: zone → polygons by code, already projected (the generalised
    geometry of :func:`barometre_geo.maps.generalised_level`), else the rows' own.
    """
    zones = gdf["zone"].astype(str).to_numpy()
    for zone in ["metropole", *sorted(set(zones) - {"metropole"})]:
        mask = zones == zone
        if not mask.any():
            continue
        epsg = ZONE_CRS[zone]
        layer = name if zone == "metropole" else f"{name}_{zone}"
        sub = gdf.loc[mask]
        if geometry is None:
            yield layer, sub.to_crs(epsg), epsg
        else:
            geoms = geometry[zone].reindex(sub["code"].astype(str)).to_numpy()
            yield layer, sub.set_geometry(geoms, crs=epsg), epsg


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Make a table writable: no geometry, no object columns holding non-strings."""
    out = pd.DataFrame(df).drop(columns=["geometry"], errors="ignore").copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].astype("string")
    return out


@contextmanager
def _one_fsync(path: Path):
    """SQLite skips its per-statement fsyncs; the file is flushed once at the end."""
    from ..maps._files import fast_gpkg_writes

    with fast_gpkg_writes():
        yield
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def write_gpkg(result, path) -> Path:
    """Write a coverage result to a GeoPackage (see the module docstring for layers).

    Styled for QGIS (``layer_styles``: the colours of the HTML map, uncovered
    communes hatched; :mod:`.style`), with French column aliases and a
    ``metadonnees`` table describing every layer and column. The file is
    written next to ``path`` then renamed, so a failed write never leaves a
    half-written GeoPackage; an existing file is replaced.

    Returns
    -------
    pathlib.Path
    """
    import pyogrio

    from ..maps._generalise import generalised_level, tolerance_text
    from ..maps._gpkg import GEOMETRY_COLUMN, write_layer
    from ..maps._gpkg_meta import finish_gpkg
    from ..maps._qgis import layer_styles_frame
    from .colors import categories
    from .style import column_rows, layer_styles, metadata_rows

    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise InputFileError(f"{path}: a GeoPackage path must end in .gpkg (e.g. couverture.gpkg).")
    if not path.parent.is_dir():
        raise InputFileError(
            f"{path.parent}: no such folder. Create it first (mkdir -p {path.parent})."
        )
    tmp = path.with_name(f".{path.stem}.part.gpkg")
    tmp.unlink(missing_ok=True)
    when = datetime.now(UTC).replace(microsecond=0)
    catalogue: list[dict] = []
    styles: list[dict] = []
    columns: dict[str, None] = {}
    cats = categories(result)

    def write(df, layer, epsg=None, name=""):
        description = _DESCRIPTIONS.get(name, "")
        write_layer(
            df,
            tmp,
            layer,
            epsg=epsg,
            title=f"Couverture OPSN — {layer}",
            description=description,
            use_arrow=True,  # a third faster than row by row for these string columns
        )
        columns.update(dict.fromkeys(c for c in df.columns if c != "geometry"))
        if epsg:
            styles.extend(layer_styles(result, name, layer, df.columns, cats))
        catalogue.append(
            {
                "layer": layer,
                "crs": f"EPSG:{epsg}" if epsg else "",
                "features": len(df),
                "description": description,
                "bounds": tuple(df.total_bounds) if epsg and len(df) else None,
            }
        )

    try:
        with _one_fsync(tmp):
            spatial = [
                ("communes", result.communes),
                ("taux_epci", result.rates_at("epci")),
                ("taux_departement", result.rates_at("departement")),
                ("taux_region", result.rates_at("region")),
                ("zones_non_couvertes", result.zones),
                ("chevauchements", result.overlaps),
            ]
            for name, gdf in spatial:
                # rates per EPCI, département, région: the indicators' generalised geometry
                level = name.removeprefix("taux_") if name.startswith("taux_") else None
                geometry = generalised_level(result.territories, level) if level else None
                for layer, projected, epsg in _split_by_zone(gdf, name, geometry):
                    write(projected, layer, epsg, name)
            national = result.rates[result.rates["level"].isin(["france", "france_metropolitaine"])]
            national = pd.concat([national, result.rates[result.rates["level"] == "outre_mer"]])
            write(_plain(national), "taux_france", name="taux_france")
            write(_plain(result.structures), "structures", name="structures")
            write(_plain(result.neighbours), "structures_voisines", name="structures_voisines")
            write(_plain(result.nearby), "communes_proches", name="communes_proches")
            if result.survey is not None:
                write(_plain(result.survey.participation), "participation", name="participation")
                if result.survey.agreement is not None:
                    accord = result.survey.agreement.reset_index()
                    accord.columns = [str(c) for c in accord.columns]
                    write(_plain(accord), "accord_declaration", name="accord_declaration")
            meta = metadata_rows(result, when)
            meta.append(
                (
                    "geometrie",
                    "communes, zones, chevauchements : contours du référentiel ; taux : "
                    + tolerance_text(["epci", "departement", "region"])
                    + " ; superficies mesurées sur les contours du référentiel",
                )
            )
            meta += [
                (
                    f"couche:{c['layer']}",
                    f"{c['crs'] or 'sans géométrie'} ; {c['features']} entité(s) ; "
                    f"{c['description']}",
                )
                for c in catalogue
            ]
            meta += column_rows(columns)
            write(pd.DataFrame(meta, columns=["cle", "valeur"]), "metadonnees", name="metadonnees")
            frame = layer_styles_frame(styles, geometry_column=GEOMETRY_COLUMN, when=when)
            pyogrio.write_dataframe(
                frame, tmp, layer="layer_styles", driver="GPKG", layer_options={"FID": "id"}
            )
            finish_gpkg(
                tmp, _standard_metadata(result, catalogue), when=f"{when:%Y-%m-%dT%H:%M:%S}.000Z"
            )
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, *(tmp.with_name(tmp.name + s) for s in ("-journal", "-wal"))):
            leftover.unlink(missing_ok=True)
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


def _standard_metadata(result, catalogue) -> list:
    """Documents of ``gpkg_metadata`` (shown by QGIS's Metadata tab): the file, each table."""
    from ..maps._gpkg_meta import LayerMetadata

    cog = result.parameters["cog"]
    abstract = (
        "Couverture du territoire par les structures de mutualisation (OPSN) : communes "
        "desservies, parts couvertes par EPCI, département, région, zones non couvertes. "
        f"Référentiel : COG {cog} (INSEE, IGN ADMIN EXPRESS, Licence Ouverte 2.0)."
    )
    common = {
        "keywords": {"mots-clés": ["OPSN", "mutualisation", "collectivités territoriales"]},
        "licenses": [
            "Référentiel territorial (INSEE COG, IGN ADMIN EXPRESS) : Licence Ouverte 2.0."
        ],
        "history": ["Produit par barometre-geo (coverage)."],
    }
    docs = [
        LayerMetadata(
            None,
            identifier="barometre-geo:couverture",
            title="Couverture par les structures de mutualisation (OPSN)",
            abstract=abstract,
            **common,
        )
    ]
    for c in catalogue:
        docs.append(
            LayerMetadata(
                c["layer"],
                identifier=f"barometre-geo:couverture:{c['layer']}",
                title=f"Couverture OPSN — {c['layer']}",
                abstract=f"{c['description'] or c['layer']}.\n{abstract}",
                crs=c["crs"] or None,
                extent=c["bounds"],
                **common,
            )
        )
    return docs
