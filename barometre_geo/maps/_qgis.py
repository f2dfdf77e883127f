"""QGIS layer styles stored in a GeoPackage (``layer_styles`` table).

QGIS looks for a table ``layer_styles`` in a GeoPackage when it opens a
layer, and applies the row whose ``f_table_name`` and ``f_geometry_column``
match the layer (``f_table_schema`` empty), ``useAsDefault`` first, the most
recent ``update_time`` next (``QgsOgrProviderMetadata::loadStyle``). The
table's columns are those QGIS itself creates (``saveStyle`` of the same
file): ``f_table_catalog, f_table_schema, f_table_name, f_geometry_column,
styleName, styleQML, styleSLD, useAsDefault, description, owner, ui,
update_time``; it is an OGR attribute table, registered in ``gpkg_contents``.

:func:`graduated_qml` writes a ``graduatedSymbol`` renderer (the structure
read by ``QgsGraduatedSymbolRenderer::create``: ``<ranges>`` of
``<range lower upper symbol label render>`` and ``<symbols>`` of fill
symbols) with the classes and palette colours of the HTML map. QGIS does not
draw features whose classified value is NULL, so the renderer classifies an
expression: ``-2`` for suppressed cells (white, hatched in dark ink: a
``LinePatternFill`` over a ``SimpleFill``), ``-1`` for territories without
answer (white, dotted in the same ink: a ``PointPatternFill``), the value
otherwise — the HTML map's textures, 3:1 from every class. Values are in %
(shares stored 0–100, ``scale=100`` on classes made in 0–1) or a mean's unit,
never negative: the two sentinels never collide with a value. Ranges are closed on both sides
and the first match wins, which reproduces the right-closed classes of
:class:`~._classify.Classification`. Symbol layer properties are written
both as ``<Option type="Map">`` (QGIS ≥ 3.16) and as legacy ``<prop k v>``
(read by every QGIS 3), as QGIS 3.16–3.26 did themselves. Field aliases
give the attribute table French column names.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime

import pandas as pd

from ._classify import Classification
from ._palettes import NEUTRAL_INK, NO_DATA_PATTERN, SUPPRESSED_COLOR, SUPPRESSED_HATCH

__all__ = [
    "LAYER_STYLES_COLUMNS",
    "NO_DATA_VALUE",
    "SUPPRESSED_VALUE",
    "class_expression",
    "finish_qml",
    "graduated_qml",
    "layer_styles_frame",
    "qgis_color",
]

#: Columns of the ``layer_styles`` table, as QGIS creates it.
LAYER_STYLES_COLUMNS = (
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
)
#: Classified value of suppressed cells and of territories without answer.
SUPPRESSED_VALUE, NO_DATA_VALUE = -2.0, -1.0
_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
_QGIS_VERSION = "3.34.0-Prizren"  # the long-term release the styles were written for


def qgis_color(hex_color: str, alpha: int = 255) -> str:
    """Return QGIS's ``r,g,b,a`` colour string for ``#rrggbb``.

    Examples
    --------
    >>> qgis_color("#08519c")
    '8,81,156,255'
    """
    h = hex_color.lstrip("#")
    return ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


def _quote(field: str) -> str:
    return '"' + field.replace('"', '""') + '"'


def class_expression(value: str, suppressed: str) -> str:
    """QGIS expression classified by the renderer (sentinels for the empty cells).

    Examples
    --------
    >>> class_expression("value", "suppressed")
    'CASE WHEN "suppressed" THEN -2 WHEN "value" IS NULL THEN -1 ELSE "value" END'
    """
    return (
        f"CASE WHEN {_quote(suppressed)} THEN {SUPPRESSED_VALUE:g} "
        f"WHEN {_quote(value)} IS NULL THEN {NO_DATA_VALUE:g} ELSE {_quote(value)} END"
    )


def _options(parent: ET.Element, props: Mapping[str, str]) -> None:
    """Write symbol layer properties as an Option map and as legacy ``prop`` elements."""
    opt = ET.SubElement(parent, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(opt, "Option", name=key, type="QString", value=str(value))
    for key, value in props.items():
        ET.SubElement(parent, "prop", k=key, v=str(value))


def _symbol(parent: ET.Element, name: str, kind: str = "fill") -> ET.Element:
    return ET.SubElement(
        parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )


def _fill_layer(symbol: ET.Element, color: str, outline: str, outline_width: float) -> None:
    layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill"}, enabled="1", locked="0")
    layer.set("pass", "0")
    _options(
        layer,
        {
            "color": qgis_color(color),
            "joinstyle": "bevel",
            "outline_color": qgis_color(outline),
            "outline_style": "solid" if outline_width > 0 else "no",
            "outline_width": f"{outline_width:g}",
            "outline_width_unit": "MM",
            "style": "solid",
        },
    )


def _texture_layer(symbol, name, kind, props, sub_kind, sub_class, sub_props) -> None:
    """Add a pattern fill layer (``kind``) drawing a sub-symbol (``@name@1``)."""
    layer = ET.SubElement(symbol, "layer", {"class": kind}, enabled="1", locked="0")
    layer.set("pass", "0")
    _options(layer, props)
    sub_symbol = _symbol(layer, f"@{name}@1", kind=sub_kind)
    sub = ET.SubElement(sub_symbol, "layer", {"class": sub_class}, enabled="1", locked="0")
    sub.set("pass", "0")
    _options(sub, sub_props)


def _hatch_layer(symbol: ET.Element, name: str) -> None:
    width = {"line_width": "0.2", "line_width_unit": "MM"}
    hatch = {"angle": "45", "color": qgis_color(SUPPRESSED_HATCH), "distance": "1.2",
             "distance_unit": "MM", **width, "offset": "0", "offset_unit": "MM"}  # fmt: skip
    line = {"capstyle": "square", "joinstyle": "bevel",
            "line_color": qgis_color(SUPPRESSED_HATCH), "line_style": "solid", **width}  # fmt: skip
    _texture_layer(symbol, name, "LinePatternFill", hatch, "line", "SimpleLine", line)


def _dots_layer(symbol: ET.Element, name: str) -> None:
    grid = {"distance_x": "1.1", "distance_x_unit": "MM", "distance_y": "1.1",
            "distance_y_unit": "MM", "displacement_x": "0.55", "displacement_x_unit": "MM",
            "displacement_y": "0", "displacement_y_unit": "MM", "offset_x": "0",
            "offset_y": "0"}  # fmt: skip
    dot = {"color": qgis_color(NEUTRAL_INK), "name": "circle", "outline_style": "no",
           "size": "0.35", "size_unit": "MM"}  # fmt: skip
    _texture_layer(symbol, name, "PointPatternFill", grid, "marker", "SimpleMarker", dot)


def _num(x: float) -> str:
    """Shortest text that reads back as the same double (QGIS compares the values)."""
    return repr(float(x))


def graduated_qml(
    *,
    value: str,
    suppressed: str,
    classification: Classification | None,
    colors: Sequence[str],
    no_data_label: str,
    suppressed_label: str,
    outline: str = "#ffffff",
    outline_width: float = 0.1,
    aliases: Mapping[str, str] | None = None,
    display_field: str = "nom",
    scale: float = 1.0,
) -> str:
    r"""Return a QML document with a ``graduatedSymbol`` renderer.

    Parameters
    ----------
    value, suppressed : str
        Columns of the value and of the suppression flag.
    classification : Classification or None
        Classes of the value (``None``: only the two neutral styles).
    colors : sequence of str
        ``#rrggbb`` colour of each class, from low to high.
    no_data_label, suppressed_label : str
        Legend labels of the grey and hatched styles.
    outline, outline_width : str, float
        Border colour and width (mm; ``0``: no border).
    aliases : mapping of str to str, optional
        French names of the columns in the attribute table (style category
        ``Fields``; without it the style is ``Symbology`` only, and loading it
        keeps the layer's aliases).
    display_field : str
        Field naming the features (Identify, tooltips).
    scale : float, default 1
        Factor from the classification's values to the stored ones (100 when
        shares classified in 0–1 are stored in %).

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from barometre_geo.maps import classify
    >>> c = classify([0.1, 0.5, 0.9])
    >>> qml = graduated_qml(value="value", suppressed="suppressed", classification=c,
    ...     colors=["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
    ...     no_data_label="Pas de réponse", suppressed_label="Effectif insuffisant")
    >>> r = ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")
    >>> r.get("type"), len(r.find("ranges"))
    ('graduatedSymbol', 7)
    """
    categories = "Symbology|Fields" if aliases else "Symbology"
    root = ET.Element("qgis", version=_QGIS_VERSION, styleCategories=categories)
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        type="graduatedSymbol",
        attr=class_expression(value, suppressed),
        graduatedMethod="GraduatedColor",
        symbollevels="0",
        forceraster="0",
        enableorderby="0",
        referencescale="-1",
    )
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    items: list[tuple[float, float, str, str | None]] = []
    if classification is not None:
        bounds = [classification.lower * scale, *(b * scale for b in classification.bins)]
        for i, label in enumerate(classification.labels):
            items.append((bounds[i], bounds[i + 1], label, colors[i]))
    items.append((NO_DATA_VALUE, NO_DATA_VALUE, no_data_label, "dots"))
    items.append((SUPPRESSED_VALUE, SUPPRESSED_VALUE, suppressed_label, None))
    for i, (lower, upper, label, color) in enumerate(items):
        ET.SubElement(
            ranges,
            "range",
            lower=_num(lower),
            upper=_num(upper),
            symbol=str(i),
            label=label,
            render="true",
        )
        sym = _symbol(symbols, str(i))
        textured = color is None or color == "dots"
        # textured cells get a dark border: white on white would hide their shape
        edge = SUPPRESSED_HATCH if textured else outline
        fill = NO_DATA_PATTERN["bg"] if color == "dots" else color or SUPPRESSED_COLOR
        _fill_layer(sym, fill, edge, outline_width)
        if color is None:
            _hatch_layer(sym, str(i))
        elif color == "dots":
            _dots_layer(sym, str(i))
    source = ET.SubElement(renderer, "source-symbol")
    _fill_layer(_symbol(source, "0"), NO_DATA_PATTERN["bg"], outline, outline_width)
    ET.SubElement(renderer, "classificationMethod", id="Fixed")  # keep our classes
    return finish_qml(root, aliases, display_field)


def finish_qml(root: ET.Element, aliases: Mapping[str, str] | None, display_field: str) -> str:
    """Add the field aliases, the display field and the geometry type; return the QML text."""
    if aliases:
        al = ET.SubElement(root, "aliases")
        for i, (field, name) in enumerate(aliases.items()):
            ET.SubElement(al, "alias", field=field, index=str(i), name=name)
    ET.SubElement(root, "previewExpression").text = _quote(display_field)
    ET.SubElement(root, "layerGeometryType").text = "2"  # polygons
    # no indentation: a QML per layer and option, in every GeoPackage of the build
    return _DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


def layer_styles_frame(
    styles: Sequence[Mapping], *, geometry_column: str, when: datetime
) -> pd.DataFrame:
    """Rows of the ``layer_styles`` table.

    Parameters
    ----------
    styles : sequence of mapping
        ``{"layer", "name", "qml", "default", "description"}`` per style; one
        default per layer.
    geometry_column : str
        Geometry column of the layers (QGIS matches it).
    when : datetime
        ``update_time`` of every row (timezone-aware).
    """
    rows = [
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": s["layer"],
            "f_geometry_column": geometry_column,
            "styleName": s["name"][:30],
            "styleQML": s["qml"],
            "styleSLD": "",
            "useAsDefault": bool(s["default"]),
            "description": s.get("description", ""),
            "owner": "",
            "ui": None,
            "update_time": when,
        }
        for s in styles
    ]
    frame = pd.DataFrame(rows, columns=list(LAYER_STYLES_COLUMNS))
    frame["ui"] = frame["ui"].astype("object")
    frame["update_time"] = pd.to_datetime(frame["update_time"], utc=True)
    return frame
