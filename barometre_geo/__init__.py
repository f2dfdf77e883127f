"""barometre-geo: geography of the Baromètre Collectivités & Numérique.

Territorial reference (COG 2025, embedded, offline), resolution of messy
identifiers, survey ingest, honest indicators at every level, coverage of
mutualisation structures (OPSN) and embeddable maps.

Importing the package does no I/O, no network and creates no cache.
"""

from ._download import download_territory_source, territory_sources
from ._show_versions import show_versions
from ._version import __version__
from .catalogue import Catalogue, Indicator, load_catalogue
from .coverage import CoverageResult, coverage
from .structures import Structures, load_demo_structures, read_structures
from .territories import LEVELS, Territories, load_territories

__all__ = [
    "LEVELS",
    "Catalogue",
    "CoverageResult",
    "Indicator",
    "Structures",
    "Territories",
    "__version__",
    "coverage",
    "download_territory_source",
    "load_catalogue",
    "load_demo_structures",
    "load_territories",
    "read_structures",
    "show_versions",
    "territory_sources",
]
