"""Territorial reference: communes, EPCI, départements, régions, and the resolver.

Stage 1 of the pipeline; it imports no other stage.

Takes
    Nothing (the embedded COG 2025 in ``boundaries/``), or an IGN ADMIN
    EXPRESS / cartiflette file, or the name of a pinned download.
Gives
    :class:`Territories` (four nesting GeoDataFrames in EPSG:4326 and an
    identifier table) and :func:`resolve` / :func:`resolve_column`, which turn
    messy identifiers (INSEE and postal codes, SIREN, SIRET, names) into
    territories of that reference, never guessing.

Modules
-------
``reference``   the :class:`Territories` container, levels and their columns
``load``        :func:`load_territories` (embedded, local file, download)
``sources``     readers of official sources; ``assemble`` turns their layers into a
                :class:`Territories`; ``geometry`` checks and repairs their polygons
``editions``    the catalogue of downloadable editions (data: ``territory_sources.json``)
``download``    pinned downloads into the cache, with pooch (:func:`download_territory_source`);
                ``archives`` extracts them safely (a pooch processor)
``crs``         projected systems per zone (Lambert-93, UTM of the DROM), areas
``adjacency``   rook adjacency of a polygon coverage and its components
``resolve``     :func:`resolve`, :func:`resolve_column`; ``readings`` (what a text
                may designate), ``lookup`` (look-up tables), ``reasons`` (French
                reasons and stable codes), ``text`` (normalisation rules)

Data contract: ``docs/contracts/territories.md``.
"""

from .download import download_territory_source, territory_sources
from .load import load_territories
from .reference import LEVELS, Level, Territories, parse_level
from .resolve import REASON_CODES, resolve, resolve_column

__all__ = [
    "LEVELS",
    "REASON_CODES",
    "Level",
    "Territories",
    "download_territory_source",
    "load_territories",
    "parse_level",
    "resolve",
    "resolve_column",
    "territory_sources",
]
