"""More QGIS styles for GeoPackages: categories, outlines, shares (``layer_styles`` QML).

Companions of :func:`~._qgis.graduated_qml` (same symbol writers, same
``<Option>`` + legacy ``<prop>`` properties read by every QGIS 3):

* :func:`categorized_qml`: a ``categorizedSymbol`` renderer (the structure
  ``QgsCategorizedSymbolRenderer::create`` reads: ``<categories>`` of
  ``<category value symbol label render>`` and ``<symbols>``), each category
  filled with its colour or hatched (white, grey lines: a ``LinePatternFill``
  over a ``SimpleFill``), as on the HTML coverage map;
* :func:`outline_qml`: a ``singleSymbol`` renderer drawing outlines only;
* :func:`shares_qml`: a ``graduatedSymbol`` renderer of a share (0–1) column
  with fixed classes, without the suppression sentinels of the indicator styles.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from ._qgis import _QGIS_VERSION, _fill_layer, _hatch_layer, _num, _options, finish_qml
from ._qgis import _symbol as _new_symbol

__all__ = ["categorized_qml", "outline_qml", "shares_qml"]


def _renderer(root: ET.Element, kind: str, **attrs) -> ET.Element:
    return ET.SubElement(
        root,
        "renderer-v2",
        type=kind,
        symbollevels="0",
        forceraster="0",
        enableorderby="0",
        referencescale="-1",
        **attrs,
    )


def _fill(parent: ET.Element, name: str, color: str | None, outline: str, width: float):
    """Add a fill symbol: ``color``, or hatched (white, grey lines) when it is None."""
    from ._palettes import SUPPRESSED_COLOR

    sym = _new_symbol(parent, name)
    _fill_layer(sym, color or SUPPRESSED_COLOR, outline, width)
    if color is None:
        _hatch_layer(sym, name)
    return sym


def categorized_qml(
    *,
    column: str,
    categories: Sequence[tuple[str, str, str | None]],
    outline: str = "#ffffff",
    outline_width: float = 0.0,
    aliases: Mapping[str, str] | None = None,
    display_field: str = "nom",
) -> str:
    r"""Return a QML document with a ``categorizedSymbol`` renderer on ``column``.

    Parameters
    ----------
    categories : sequence of (value, label, colour or None)
        ``None`` draws the category hatched.

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> qml = categorized_qml(column="categorie", categories=[("A", "A", "#e69f00"),
    ...     ("Non couverte", "Non couverte", None)])
    >>> r = ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")
    >>> r.get("type"), [c.get("value") for c in r.find("categories")]
    ('categorizedSymbol', ['A', 'Non couverte'])
    """
    root = ET.Element("qgis", version=_QGIS_VERSION, styleCategories="Symbology|Fields")
    renderer = _renderer(root, "categorizedSymbol", attr=column)
    cats = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (value, label, color) in enumerate(categories):
        ET.SubElement(cats, "category", value=value, symbol=str(i), label=label, render="true")
        _fill(symbols, str(i), color, outline, outline_width)
    _fill(ET.SubElement(renderer, "source-symbol"), "0", "#d0d0d0", outline, outline_width)
    return finish_qml(root, aliases, display_field)


def outline_qml(
    *,
    color: str,
    width_mm: float = 0.4,
    aliases: Mapping[str, str] | None = None,
    display_field: str = "nom",
) -> str:
    """Return a QML document drawing the polygons' outlines only."""
    root = ET.Element("qgis", version=_QGIS_VERSION, styleCategories="Symbology|Fields")
    renderer = _renderer(root, "singleSymbol")
    sym = _new_symbol(ET.SubElement(renderer, "symbols"), "0")
    layer = ET.SubElement(sym, "layer", {"class": "SimpleFill"}, enabled="1", locked="0")
    layer.set("pass", "0")
    from ._qgis import qgis_color

    _options(
        layer,
        {
            "color": qgis_color("#ffffff", 0),
            "joinstyle": "bevel",
            "outline_color": qgis_color(color),
            "outline_style": "solid",
            "outline_width": f"{width_mm:g}",
            "outline_width_unit": "MM",
            "style": "no",
        },
    )
    return finish_qml(root, aliases, display_field)


def shares_qml(
    *,
    column: str,
    bounds: Sequence[float],
    colors: Sequence[str],
    labels: Sequence[str],
    outline: str = "#ffffff",
    outline_width: float = 0.15,
    aliases: Mapping[str, str] | None = None,
    display_field: str = "nom",
) -> str:
    """Return a QML ``graduatedSymbol`` renderer of a share column with fixed classes.

    ``bounds`` has one more value than ``colors`` and ``labels`` (0, 0.2, … 1).
    """
    root = ET.Element("qgis", version=_QGIS_VERSION, styleCategories="Symbology|Fields")
    renderer = _renderer(root, "graduatedSymbol", attr=column, graduatedMethod="GraduatedColor")
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (color, label) in enumerate(zip(colors, labels, strict=True)):
        ET.SubElement(
            ranges,
            "range",
            lower=_num(bounds[i]),
            upper=_num(bounds[i + 1]),
            symbol=str(i),
            label=label,
            render="true",
        )
        _fill(symbols, str(i), color, outline, outline_width)
    _fill(ET.SubElement(renderer, "source-symbol"), "0", colors[0], outline, outline_width)
    ET.SubElement(renderer, "classificationMethod", id="Fixed")
    return finish_qml(root, aliases, display_field)
