"""QGIS styles and metadata of ``couverture.gpkg``, as for the indicator GeoPackages.

* ``communes[_zone]``: a ``categorizedSymbol`` style on ``categorie`` with the
  colours of the HTML map (:func:`.colors.categories`: neighbouring
  structures never alike, « Plusieurs structures » indigo) and the uncovered
  communes hatched;
* ``zones_non_couvertes[_zone]``: outlines; ``chevauchements``: indigo outlines;
* ``taux_epci``, ``taux_departement``, ``taux_region``: the share of communes
  covered in five fixed classes (0–20–…–100 %, greens);
* French aliases of the columns (attribute table), and the ``metadonnees``
  rows describing every column (``colonne:<name>``).
"""

from __future__ import annotations

from .._version import __version__
from .colors import SEVERAL_COLOR, categories
from .zones import ZONE_ID_SCHEME

__all__ = ["COLUMNS", "column_rows", "layer_styles", "metadata_rows"]

#: French alias and description of the columns of the layers.
COLUMNS: dict[str, tuple[str, str]] = {
    "code": ("Code", "code INSEE de la commune (SIREN pour un EPCI, code du département…)"),
    "siren": ("SIREN", "SIREN de la commune, de l'EPCI ou de la structure"),
    "nom": ("Nom", "nom officiel"),
    "epci": ("SIREN de l'EPCI", "EPCI à fiscalité propre de la commune"),
    "epci_nom": ("EPCI", "nom de l'EPCI à fiscalité propre"),
    "departement": ("Département", "code du département"),
    "departement_nom": ("Nom du département", "nom du département"),
    "region": ("Région", "code de la région"),
    "population": ("Population", "population municipale (INSEE)"),
    "area_km2": ("Superficie (km²)", "mesurée dans la projection de la zone"),
    "covered": ("Couverte", "desservie par au moins une structure"),
    "n_structures": ("Nombre de structures", "structures desservant la commune"),
    "structures": ("Structure(s)", "noms des structures, séparés par « ; »"),
    "structure_ids": ("Identifiants des structures", "identifiants, séparés par des espaces"),
    "categorie": (
        "Catégorie (carte)",
        "structure desservant la commune, « Plusieurs structures » ou « Non couverte »",
    ),
    "answered_waves": (
        "A répondu au baromètre (vagues)",
        "vagues auxquelles la commune a répondu ; vide : pas de réponse ; NULL : sans réponses",
    ),
    "uncovered_zone": ("Zone non couverte", ZONE_ID_SCHEME),
    "nearest_structures": ("Structure(s) la(les) plus proche(s)", "identifiants des structures"),
    "nearest_structures_nom": ("Structure la plus proche", "noms (ex æquo séparés par « ; »)"),
    "nearest_km": (
        "Distance à la structure (km)",
        "entre les contours ; au-delà de 2 km, contours simplifiés à 500 m, arrondie au km",
    ),
    "nearest_adjacent": ("Limitrophe de la structure", "partage une arête avec son territoire"),
    "nearest_approx": ("Distance approchée", "vrai : distance arrondie au km (au-delà de 2 km)"),
    "zone_id": ("Identifiant de zone", ZONE_ID_SCHEME),
    "commune_principale": ("Commune principale", "la plus peuplée de la zone"),
    "n_communes": ("Communes", "nombre de communes"),
    "communes": ("Codes des communes", "codes INSEE, séparés par des espaces"),
    "n_covered": ("Communes couvertes", "nombre de communes desservies"),
    "share_communes": ("Part des communes couvertes", "de 0 à 1"),
    "population_covered": ("Population couverte", "population des communes desservies"),
    "share_population": ("Part de la population couverte", "de 0 à 1"),
    "area_covered_km2": ("Superficie couverte (km²)", "superficie des communes desservies"),
    "share_area": ("Part de la superficie couverte", "de 0 à 1"),
    "n_overlap": ("Communes en chevauchement", "desservies par au moins deux structures"),
    "zone": ("Zone", "métropole ou code du département d'outre-mer (projection)"),
}
_SHARE_COLORS = ("#c7e9c0", "#a1d99b", "#74c476", "#31a354", "#006d2c")  # ColorBrewer Greens


def _aliases(columns) -> dict[str, str]:
    return {c: COLUMNS[c][0] for c in columns if c in COLUMNS}


def layer_styles(result, name: str, layer: str, columns, cats=None) -> list[dict]:
    """Styles of one written layer (``name`` its family, ``layer`` its name in the file).

    ``cats``: :func:`.colors.categories` of the result, when already computed.
    """
    from ..maps import NumberFormat, classify
    from ..maps._qgis_styles import categorized_qml, outline_qml, shares_qml

    aliases = _aliases(columns)
    if name == "communes":
        cats = [(label, label, color) for label, color in (cats or categories(result))]
        qml = categorized_qml(column="categorie", categories=cats, aliases=aliases)
        what = "Structures (couleurs de la carte web), communes non couvertes hachurées"
    elif name == "zones_non_couvertes":
        qml = outline_qml(color="#4d4d4d", width_mm=0.4, aliases=aliases)
        what = "Zones non couvertes (contours)"
    elif name == "chevauchements":
        qml = outline_qml(color=SEVERAL_COLOR, width_mm=0.5, aliases=aliases, display_field="nom_a")
        what = "Chevauchements (contours indigo)"
    elif name.startswith("taux_"):
        c = classify([0.0, 1.0], fmt=NumberFormat.for_share())
        qml = shares_qml(
            column="share_communes",
            bounds=[c.lower, *c.bins],
            colors=_SHARE_COLORS,
            labels=c.labels,
            aliases=aliases,
        )
        what = "Part des communes couvertes"
    else:
        return []
    return [{"layer": layer, "name": "Carte", "qml": qml, "default": True, "description": what}]


def column_rows(columns) -> list[tuple[str, str]]:
    """``colonne:<name>`` rows of the metadata for the documented columns."""
    return [(f"colonne:{c}", f"{COLUMNS[c][0]} — {COLUMNS[c][1]}") for c in columns if c in COLUMNS]


def metadata_rows(result, when) -> list[tuple[str, str]]:
    """Head rows of the ``metadonnees`` table (the layers and columns follow)."""
    from pathlib import Path

    from ..maps._meta import reference_text

    p = result.parameters
    synthetic = p.get("synthetic_responses")
    return [
        ("titre", "Couverture par les structures de mutualisation (OPSN)"),
        ("cog", str(p["cog"])),
        ("referentiel", reference_text(result.territories)),
        ("source_structures", Path(str(p["source"])).name),
        ("nearest", str(p["nearest"])),
        ("max_distance_km", str(p["max_distance_km"])),
        (
            "reponses",
            "aucune"
            if synthetic is None
            else "DONNÉES SYNTHÉTIQUES de démonstration"
            if synthetic
            else "exports de l'enquête",
        ),
        ("zones", ZONE_ID_SCHEME),
        (
            "couleurs",
            "Structures voisines de couleurs différentes (Okabe–Ito puis Tol « muted ») ; "
            "« Plusieurs structures » indigo ; communes non couvertes hachurées ; parts "
            "couvertes : ColorBrewer Greens",
        ),
        ("genere_le", when.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("barometre_geo_version", __version__),
        (
            "projections",
            "Métropole : EPSG:2154 (Lambert-93) ; outre-mer : une couche par département "
            "suffixée de son code, dans sa projection (971/972 EPSG:5490, 973 EPSG:2972, "
            "974 EPSG:2975, 976 EPSG:4471). Superficies en km² mesurées dans ces projections.",
        ),
    ]
