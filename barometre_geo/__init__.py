"""barometre-geo: geography of the Baromètre Collectivités & Numérique.

Territorial reference (COG 2025, embedded, offline), resolution of messy
identifiers, survey ingest, honest indicators at every level, coverage of
mutualisation structures (OPSN) and embeddable maps.

Importing the package does no I/O, no network and creates no cache.
"""

from ._show_versions import show_versions
from ._version import __version__
from .catalogue import Catalogue, Indicator, load_catalogue
from .territories import LEVELS, Territories, load_territories

__all__ = [
    "LEVELS",
    "Catalogue",
    "Indicator",
    "Territories",
    "__version__",
    "load_catalogue",
    "load_territories",
    "show_versions",
]
