"""Views of a map: pick one group of territories (a structure…) and see its panel.

A :class:`ViewSet` ships with a :func:`~._choropleth.categorical_map` page. The
page gets a selector (``<select>``, and the legend entries become buttons);
choosing a view rewrites the page's URL to ``?<param>=<key>`` (so a view can
be linked, bookmarked and embedded in an ``<iframe>`` like any map), zooms
to its territories, dims the others, outlines the features of its tables
(e.g. the communes it could serve next), and shows a panel under the map:
figures, links (downloads), tables. Opening ``page.html?<param>=<key>``
opens the view. The page script is ``templates/bgeo-views.js``, inlined only
in pages that have views (hashed in the page's CSP like every inline block).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import SchemaError
from ._geometry import encode_vlq

__all__ = ["View", "ViewSet", "ViewTable", "views_payload"]


@dataclass(frozen=True)
class ViewTable:
    """A table of a view's panel.

    Attributes
    ----------
    title : str
        Caption (French).
    frame : pandas.DataFrame
        Rows as shown, French column headers; values are shown as text
        (numbers formatted already).
    features : sequence of int, optional
        Row position of each row's territory in the map's data, to outline
        it on the map and zoom to it from the table; ``-1`` for none.
    numeric : sequence of str
        Columns aligned right (numbers).
    """

    title: str
    frame: pd.DataFrame
    features: Sequence[int] | None = None
    numeric: Sequence[str] = ()


@dataclass(frozen=True)
class View:
    """One selectable group of territories and its panel.

    Attributes
    ----------
    key : str
        Value of the URL parameter (letters, digits, ``-``, ``_``, ``.``).
    label : str
        Name in the selector and the panel title.
    members : sequence of int
        Row positions of its territories in the map's data.
    category : str, optional
        Its legend entry (clicking it opens the view).
    figures : sequence of (str, str)
        Label and formatted value of each figure.
    links : sequence of (str, str)
        Label and relative URL of each link (downloads get ``download``).
    tables : sequence of ViewTable
    notes : sequence of str
    """

    key: str
    label: str
    members: Sequence[int]
    category: str | None = None
    figures: Sequence[tuple[str, str]] = ()
    links: Sequence[tuple[str, str]] = ()
    tables: Sequence[ViewTable] = ()
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class ViewSet:
    """The views of a page.

    Attributes
    ----------
    param : str
        URL parameter (``structure`` gives ``?structure=<key>``).
    label : str
        Label of the selector (« Structure »).
    views : sequence of View
    all_label : str
        The selector's entry for the whole map (no view).
    related_label : str
        Legend of the outlined features of the tables (« Prospects »).
    """

    param: str
    label: str
    views: Sequence[View] = field(default_factory=tuple)
    all_label: str = "Toutes (vue d’ensemble)"
    related_label: str = "Territoires liés"


_KEY = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _positions(values, n: int, what: str) -> np.ndarray:
    pos = np.asarray(list(values), dtype=np.int64)
    if len(pos) and (pos.min() < -1 or pos.max() >= n):
        raise SchemaError(
            f"{what}: feature positions must be row positions of the map's data "
            f"(0 to {n - 1}, or -1 for none)."
        )
    return pos


def _cell(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def views_payload(views: ViewSet, bounds: np.ndarray, categories: Sequence[str]) -> dict:
    """Return the views as page data.

    Parameters
    ----------
    views : ViewSet
    bounds : numpy.ndarray
        ``(n, 4)`` bounds (west, south, east, north) of each feature in degrees.
    categories : sequence of str
        The map's legend categories (a view's ``category`` → its class index).
    """
    n = len(bounds)
    index = {c: i for i, c in enumerate(categories)}
    keys = [v.key for v in views.views]
    bad = [k for k in keys if not k or set(k) - _KEY]
    if bad or len(set(keys)) != len(keys):
        raise SchemaError(
            f"View keys must be unique and made of letters, digits, '-', '_', '.' "
            f"(got {bad[:3] or sorted({k for k in keys if keys.count(k) > 1})[:3]}). "
            "Use a SIREN or a slug (maps.slugify)."
        )
    out = []
    for v in views.views:
        members = np.unique(_positions(v.members, n, f"View {v.key!r}"))
        related = []
        tables = []
        for t in v.tables:
            feats = (
                _positions(t.features, n, f"View {v.key!r}, table {t.title!r}")
                if t.features is not None
                else np.full(len(t.frame), -1)
            )
            if len(feats) != len(t.frame):
                raise SchemaError(
                    f"View {v.key!r}, table {t.title!r}: {len(feats)} feature positions for "
                    f"{len(t.frame)} rows. Give one per row (-1 for none)."
                )
            related.append(feats[feats >= 0])
            tables.append(
                {
                    "title": t.title,
                    "columns": [str(c) for c in t.frame.columns],
                    "numeric": [str(c) in set(t.numeric) for c in t.frame.columns],
                    "rows": [[_cell(x) for x in row] for row in t.frame.itertuples(index=False)],
                    "features": [int(x) for x in feats],
                }
            )
        rel = np.unique(np.concatenate(related)) if related else np.zeros(0, np.int64)
        box = bounds[members] if len(members) else bounds[rel] if len(rel) else bounds[:0]
        out.append(
            {
                "key": v.key,
                "label": v.label,
                "cls": index.get(v.category, -1) if v.category is not None else -1,
                "members": encode_vlq(np.diff(members, prepend=0)),
                "related": encode_vlq(np.diff(rel, prepend=0)),
                "bounds": (
                    [
                        [float(box[:, 1].min()), float(box[:, 0].min())],
                        [float(box[:, 3].max()), float(box[:, 2].max())],
                    ]
                    if len(box)
                    else None
                ),
                "figures": [[str(a), str(b)] for a, b in v.figures],
                "links": [[str(a), str(b)] for a, b in v.links],
                "tables": tables,
                "notes": [str(x) for x in v.notes],
            }
        )
    return {
        "param": views.param,
        "label": views.label,
        "all_label": views.all_label,
        "related_label": views.related_label,
        "views": out,
    }
