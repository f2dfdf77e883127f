"""Maps of the barometer: classification, palettes and embeddable HTML maps.

* :func:`classify`, :func:`classify_pooled` → :class:`Classification`
  (mapclassify schemes, French labels, counts);
* :func:`get_palette`, :func:`list_palettes` (ColorBrewer, Okabe–Ito, as data);
* :func:`choropleth`, :func:`indicator_map`, :func:`categorical_map` →
  :class:`MapDocument` (``.save``, ``.to_html``, notebook display);
* :func:`write_index` and :class:`MapRecord` for ``maps/index.html``;
  :func:`map_path` for safe output file names;
* :func:`embed_snippet` (→ :class:`Snippet`), :func:`map_url`, :func:`frame_src`,
  :func:`write_embed_script`: embedding a map in a site under a strict CSP
  (deep links ``?territoire=``, ``?embed=carte``, height fitted by the host script);
* :func:`indicator_classes`, :func:`data_classes`: the maps' default classes
  (natural breaks pooled across levels, rounded);
* :func:`write_indicator_gpkg`: one GeoPackage per indicator, styled for QGIS;
* :func:`static_map` → :class:`StaticMap`: PNG / SVG maps with overseas insets
  (:class:`BasemapWarning` when the background tiles are unreachable).

Options are small frozen dataclasses: :class:`Basemap`, :class:`MapStyle`,
:class:`LegendSpec`, :class:`Field`, :class:`NumberFormat`, :class:`Outline`
(groups outlined over a categorical map) and :class:`ViewSet` / :class:`View` /
:class:`ViewTable` (selectable views of a categorical map, ``?<param>=<key>``).
Importing this package does not import folium, matplotlib or contextily
(only rendering does).
"""

from .._format import NumberFormat, format_count, format_number
from ._breaks import data_classes, indicator_classes
from ._choropleth import categorical_map, choropleth, empty_map
from ._classify import (
    SCHEMES,
    Classification,
    ClassificationWarning,
    classify,
    classify_pooled,
    share_breaks,
)
from ._document import MapDocument
from ._embed import Snippet, embed_snippet, frame_src, map_url, write_embed_script
from ._files import map_path, slugify
from ._gpkg import write_indicator_gpkg
from ._index import MapRecord, write_index
from ._indicator import indicator_map
from ._lisa import lisa_map
from ._options import BASEMAPS, Basemap, Field, LegendSpec, MapStyle, Outline
from ._palettes import Palette, get_palette, list_palettes
from ._static import FORMATS, StaticMap, static_map
from ._static_basemap import STATIC_BASEMAPS, BasemapWarning
from ._style import PAGE_STYLES
from ._views import View, ViewSet, ViewTable

__all__ = [
    "BASEMAPS",
    "FORMATS",
    "PAGE_STYLES",
    "SCHEMES",
    "STATIC_BASEMAPS",
    "Basemap",
    "BasemapWarning",
    "Classification",
    "ClassificationWarning",
    "Field",
    "LegendSpec",
    "MapDocument",
    "MapRecord",
    "MapStyle",
    "NumberFormat",
    "Outline",
    "Palette",
    "Snippet",
    "StaticMap",
    "View",
    "ViewSet",
    "ViewTable",
    "categorical_map",
    "choropleth",
    "classify",
    "classify_pooled",
    "data_classes",
    "embed_snippet",
    "empty_map",
    "format_count",
    "format_number",
    "frame_src",
    "get_palette",
    "indicator_classes",
    "indicator_map",
    "lisa_map",
    "list_palettes",
    "map_path",
    "map_url",
    "share_breaks",
    "slugify",
    "static_map",
    "write_embed_script",
    "write_index",
    "write_indicator_gpkg",
]
