"""Layer payloads: class index per feature, legend, tooltip/table columns.

A layer is shipped to the page as plain data (see ``templates/bgeo.js``):
the encoded geometry, a VLQ string of class indices (``-1`` no answer,
``-2`` suppressed), the legend (labels, colours, counts) and one column of
data per field. Text columns are joined with a separator absent from the
values; numbers are shipped as integers already rounded by their
:class:`~._format.NumberFormat`. Layers of one page that draw the same
territories with the same fields (the two views of a modelled map) ship their
geometry and fields once (:func:`share_repeated`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._format import NumberFormat, format_count
from ..errors import SchemaError
from ._geometry import EncodedGeometry, encode_vlq
from ._options import Field, LegendSpec, MapStyle
from ._palettes import NO_DATA_COLOR, NO_DATA_PATTERN, SUPPRESSED_PATTERN

__all__ = [
    "NO_DATA",
    "SUPPRESSED",
    "coded_text_column",
    "layer_spec",
    "share_repeated",
    "text_column",
]

NO_DATA, SUPPRESSED = -1, -2
_SEPARATORS = ("|", "~", "^", "\t", "\u001f")


def text_column(values: Sequence[str]) -> dict | list:
    """Ship a text column: one string joined by a separator absent from the values.

    Examples
    --------
    >>> text_column(["Ain", "Aisne"])
    {'sep': '|', 's': 'Ain|Aisne'}
    >>> text_column(["a|b", "c"])
    {'sep': '~', 's': 'a|b~c'}
    """
    vals = ["" if v is None or v is pd.NA or v != v else str(v) for v in values]
    for sep in _SEPARATORS:
        if not any(sep in v for v in vals):
            return {"sep": sep, "s": sep.join(vals)}
    return vals


def coded_text_column(values: Sequence[str]) -> dict | list:
    """Ship a text column, as codes into its distinct values when they repeat.

    A column of EPCI or département names repeats each value hundreds of
    times over the 34,875 communes: it ships as ``{"dict": [...], "i": VLQ}``
    (the distinct values once, then one code per feature); a column of mostly
    distinct values ships as :func:`text_column`.

    Examples
    --------
    >>> coded_text_column(["Ain", "Ain", "Aisne", "Ain", "Aisne", "Ain", "Ain", "Ain"])
    {'dict': ['Ain', 'Aisne'], 'i': 'AACBCBAA'}
    >>> coded_text_column(["a", "b"])
    {'sep': '|', 's': 'a|b'}
    """
    vals = ["" if v is None or v is pd.NA or v != v else str(v) for v in values]
    codes, uniques = pd.factorize(pd.Series(vals, dtype="object"))
    if len(vals) < 8 or len(uniques) > len(vals) / 4:
        return text_column(vals)
    deltas = np.diff(codes, prepend=0)  # runs of equal values cost one character each
    return {"dict": [str(u) for u in uniques], "i": encode_vlq(deltas)}


def _number_column(series: pd.Series, fmt: NumberFormat, where: str) -> list:
    try:
        values = pd.to_numeric(series, errors="raise").astype("float64").to_numpy()
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            f"Column {where!r} must be numeric to be shown as a number ({exc}). "
            "Convert it, or show it as Field(kind='text')."
        ) from None
    ints = fmt.to_int(values)
    return [None if not np.isfinite(v) else int(v) for v in ints]


def _field_payload(df: pd.DataFrame, fd: Field) -> dict:
    for col in fd.columns:
        if col not in df.columns:
            raise SchemaError(
                f"Field {fd.label!r} reads column {col!r}, absent from the data "
                f"(columns: {', '.join(map(str, df.columns))}). Fix the Field's column."
            )
    out = {"label": fd.label, "type": fd.kind, "main": fd.main}
    if fd.kind == "text":
        out["data"] = coded_text_column(df[fd.columns[0]].tolist())
    elif fd.kind == "number":
        out["fmt"] = fd.number_format.to_js()
        out["data"] = _number_column(df[fd.columns[0]], fd.number_format, fd.columns[0])
    elif fd.kind == "range":
        out["fmt"] = fd.number_format.to_js()
        out["data"] = [_number_column(df[c], fd.number_format, c) for c in fd.columns]
    return out


def layer_spec(
    *,
    layer_id: str,
    name: str,
    data: pd.DataFrame,
    geometry: EncodedGeometry,
    cls: np.ndarray,
    classes: Sequence[dict],
    fields: Sequence[Field],
    legend: LegendSpec,
    style: MapStyle,
    national: dict | None = None,
    no_data_pattern: bool = True,
    interactive: bool = True,
    field_data: list | None = None,
) -> dict:
    """Assemble one layer's payload.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per feature, in the geometry's order.
    cls : numpy.ndarray of int
        Class (or category) index per feature; ``-1`` no answer, ``-2`` suppressed.
    classes : sequence of dict
        ``{"label", "color"}`` (``"outline"`` optional; ``color`` None = no fill;
        ``"pattern"`` optional: a texture ``{"kind": "hatch" | "dots", "bg", "fg"}``
        drawn instead of the colour).
    fields : sequence of Field
        The first one is the tooltip title (a text field, the name).
    national : dict, optional
        The national value's mark in the legend (:func:`~._captions.national_mark`).
    no_data_pattern : bool
        Draw "no answer" dotted (indicator maps); ``False``: in :data:`NO_DATA_COLOR`.
    interactive : bool
        ``False``: no tooltip nor pointer events (an outline drawn over another layer).
    field_data : list, optional
        The ``"fields"`` payload of an earlier layer with the same ``data`` and
        ``fields`` (a second view of the same figures), reused rather than encoded again.
    """
    if not fields or fields[0].kind != "text":
        raise SchemaError(
            "The first field must be the territory's name (Field('nom', 'Nom', kind='text')): "
            "it titles the tooltip and the table rows."
        )
    cls = np.asarray(cls, dtype=np.int64)
    n = len(cls)
    counts = np.bincount(cls[cls >= 0], minlength=len(classes)) if n else np.zeros(len(classes))
    legend_classes = [{**c, "count": format_count(int(counts[i]))} for i, c in enumerate(classes)]
    n_no, n_sup = int((cls == NO_DATA).sum()), int((cls == SUPPRESSED).sum())
    return {
        "id": layer_id,
        "name": name,
        "geom": geometry.to_js(),
        "cls": encode_vlq(cls),
        "style": {
            "color": style.stroke_color,
            "weight": style.weight(n),
            "zoom_weight": style.zoom_weight(n),
            "fill_opacity": style.fill_opacity,
            "highlight": style.highlight_color,
            "outline_weight": style.outline_weight,
            "interactive": bool(interactive),
        },
        "legend": {
            "title": legend.title or name,
            "subtitle": legend.subtitle,
            "note": legend.note,
            "counts": legend.counts,
            "compact": legend.compact,
            "classes": legend_classes,
            "no_data": {
                "label": legend.no_data,
                "short": legend.no_data.lower(),
                "color": NO_DATA_COLOR,
                "pattern": dict(NO_DATA_PATTERN) if no_data_pattern else None,
                "n": n_no,
                "count": format_count(n_no),
            },
            "suppressed": {
                "label": legend.suppressed,
                "short": legend.suppressed_short,
                "pattern": dict(SUPPRESSED_PATTERN),
                "n": n_sup,
                "count": format_count(n_sup),
            },
            "national": national,
        },
        "fields": field_data
        if field_data is not None
        else [_field_payload(data, fd) for fd in fields],
    }


#: Payload keys a layer may take from an earlier layer of the page.
SHARED_KEYS = ("geom", "fields")


def share_repeated(layers: Sequence[dict]) -> list[dict]:
    """Replace a layer's geometry or fields equal to an earlier layer's by a reference.

    The two views of a modelled map (estimate, comparison with France) draw the
    same polygons with the same tooltip columns: serialised twice, they doubled
    the page. A repeated ``geom`` or ``fields`` becomes ``{"same_as": i}``, ``i``
    the index of the first layer holding it; the page's script
    (``templates/bgeo.js``, ``buildLayer``) then reuses that layer's decoded
    store and columns (decoded once, held once in memory).

    Examples
    --------
    >>> a = {"id": "a", "geom": {"c": "AAC"}, "fields": [{"label": "Nom"}]}
    >>> b = {"id": "b", "geom": {"c": "AAC"}, "fields": [{"label": "Code"}]}
    >>> [(x["geom"], x["fields"]) for x in share_repeated([a, b])][1]
    ({'same_as': 0}, [{'label': 'Code'}])
    """
    out: list[dict] = []
    for j, layer in enumerate(layers):
        layer = dict(layer)
        for key in SHARED_KEYS:
            for i in range(j):
                if key in layers[i] and layers[i][key] == layer.get(key):
                    layer[key] = {"same_as": i}
                    break
        out.append(layer)
    return out
