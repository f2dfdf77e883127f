"""Overlays of a categorical map: outlines of groups of territories.

:func:`outline_layers` dissolves the territories of each group of an
:class:`~._options.Outline` on the map's simplified geometry (a coverage:
:func:`shapely.coverage_union_all` is exact there), so the outlines fall on
the drawn borders at every zoom, and ships them as non-interactive layers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import SchemaError
from ._geometry import encode_geometry
from ._layers import layer_spec
from ._options import Field, LegendSpec, MapStyle, Outline

__all__ = ["outline_layers"]


def outline_layers(
    outlines: Sequence[Outline], data: pd.DataFrame, simplified: np.ndarray, style: MapStyle
) -> list[dict]:
    """Return the layer payloads of the outlines (one layer per :class:`Outline`).

    Parameters
    ----------
    data : pandas.DataFrame
        The map's features (rows in the order of ``simplified``).
    simplified : numpy.ndarray
        Their simplified polygons (a coverage).
    """
    import shapely

    layers = []
    for k, o in enumerate(outlines):
        if o.column not in data.columns:
            raise SchemaError(
                f"Outline {o.label!r}: column {o.column!r} not found "
                f"(columns: {', '.join(map(str, data.columns))}). Pass an existing column."
            )
        group = data[o.column].astype("string").fillna("").to_numpy(dtype=object)
        names = sorted(set(group) - {""})
        geoms = [shapely.coverage_union_all(simplified[group == g]) for g in names]
        layers.append(
            layer_spec(
                layer_id=f"outline-{k}",
                name=o.label,
                data=pd.DataFrame({"label": names}),
                geometry=encode_geometry(
                    np.asarray(geoms, dtype=object), quantum=style.grid(len(data))
                ),
                cls=np.zeros(len(names), dtype=np.int64),
                classes=[{"label": o.label, "color": None, "outline": o.color}],
                fields=[Field("label", o.label, kind="text")],
                legend=LegendSpec(title=o.label, note=o.note, compact=True),
                style=MapStyle(stroke_weight=0, outline_weight=o.weight),
                interactive=False,
            )
        )
    return layers
