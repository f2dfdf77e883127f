"""barometre-geo: geography of the Baromètre Collectivités & Numérique.

Territorial reference (COG 2025, embedded, offline), resolution of messy
identifiers, survey ingest, honest indicators at every level, coverage of
mutualisation structures (OPSN) and embeddable maps.

Importing the package does no I/O, no network and creates no cache.
"""

from ._show_versions import show_versions
from ._version import __version__

# Each stage's public names. The functions `aggregate`, `build`, `compare` and `coverage`
# are bound eagerly: a lazy name would be shadowed by the sub-package or module of the
# same name once it is imported. None of these imports geopandas, folium or matplotlib.
from .build import BuildResult, build
from .compare import Comparison, PeerGroups, compare, peer_groups
from .coverage import CoverageResult, Structures, coverage, load_demo_structures, read_structures
from .indicators import aggregate
from .survey.catalogue import Catalogue, Indicator, load_catalogue
from .territories import (
    LEVELS,
    Territories,
    download_territory_source,
    load_territories,
    resolve,
    resolve_column,
    territory_sources,
)

# Map names resolve on first access (PEP 562): `import barometre_geo` stays light.
_LAZY_MAPS = (
    "MapDocument",
    "MapRecord",
    "categorical_map",
    "choropleth",
    "classify",
    "indicator_map",
    "static_map",
    "write_index",
    "write_indicator_gpkg",
)

# Survey ingest names, also resolved on first access.
_LAZY_RESPONSES = (
    "IngestReport",
    "Mapping",
    "Responses",
    "default_mapping",
    "load_mapping",
    "read_responses",
)

# Statistics on aggregates (weighting, outputs), resolved on first access.
_LAZY_STATS = {
    "calibration_weights": ".stats.weighting",
    "rake": ".stats.weighting",
    "compare_published": ".indicators.tables",
    "write_aggregates": ".indicators.tables",
    "SpatialStats": ".stats.spatial",
    "lisa_map": ".maps",
    "spatial_autocorrelation": ".stats.spatial",
}

# Synthetic demo edition, resolved on first access.
_LAZY_DEMO = ("load_demo", "write_demo_exports")


def __getattr__(name: str):
    if name in _LAZY_MAPS or name == "maps":
        import importlib

        maps = importlib.import_module(".maps", __name__)
        return maps if name == "maps" else getattr(maps, name)
    if name in _LAZY_RESPONSES:
        import importlib

        return getattr(importlib.import_module(".survey", __name__), name)
    if name in _LAZY_STATS:
        import importlib

        return getattr(importlib.import_module(_LAZY_STATS[name], __name__), name)
    if name in _LAZY_DEMO:
        import importlib

        return getattr(importlib.import_module(".demo", __name__), name)
    raise AttributeError(f"module 'barometre_geo' has no attribute {name!r}")


__all__ = [
    "LEVELS",
    "BuildResult",
    "Catalogue",
    "Comparison",
    "CoverageResult",
    "Indicator",
    "IngestReport",
    "MapDocument",
    "MapRecord",
    "Mapping",
    "PeerGroups",
    "Responses",
    "SpatialStats",
    "Structures",
    "Territories",
    "__version__",
    "aggregate",
    "build",
    "calibration_weights",
    "categorical_map",
    "choropleth",
    "classify",
    "compare",
    "compare_published",
    "coverage",
    "default_mapping",
    "download_territory_source",
    "indicator_map",
    "lisa_map",
    "load_catalogue",
    "load_demo",
    "load_demo_structures",
    "load_mapping",
    "load_territories",
    "peer_groups",
    "rake",
    "read_responses",
    "read_structures",
    "resolve",
    "resolve_column",
    "show_versions",
    "spatial_autocorrelation",
    "static_map",
    "territory_sources",
    "write_aggregates",
    "write_demo_exports",
    "write_index",
    "write_indicator_gpkg",
]
