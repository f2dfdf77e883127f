"""Colours of the structures on the coverage map: neighbours never share one.

The structures' adjacency graph (:func:`structure_pairs`: two structures are
neighbours when a commune of one shares an edge with a commune of the other,
or when they serve a commune together) is coloured with mapclassify's
``greedy(strategy="balanced")`` — the topological colouring of QGIS, ported
by mapclassify and fed a libpysal ``W`` built from those pairs: most
connected structures first, each takes the least used colour its neighbours
do not have, a new colour is added only when none is free. So neighbouring
structures always differ and the colours are used evenly (the former greedy
pass put 12 of 36 structures in one blue).

Palette (:data:`STRUCTURE_COLORS`, colour-blind safe): Okabe–Ito without its
black, then Paul Tol's "muted" scheme without its indigo, which marks the
communes served by several structures (:data:`SEVERAL_COLOR`). Fifteen
colours: the balanced colouring of the demo and of the OPSN sample needs
seven. A graph needing more (fifteen structures all serving one place) gets
colours reused and a :class:`ColorReuseWarning` naming the pairs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import BarometreGeoWarning

__all__ = [
    "SEVERAL",
    "SEVERAL_COLOR",
    "STRUCTURE_COLORS",
    "UNCOVERED",
    "ColorReuseWarning",
    "categories",
    "structure_colors",
    "structure_pairs",
]

#: Okabe & Ito (2008) without black, then Tol's muted scheme without indigo.
STRUCTURE_COLORS = (
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#f0e442",
    "#0072b2",
    "#d55e00",
    "#cc79a7",
    "#88ccee",
    "#44aa99",
    "#117733",
    "#999933",
    "#ddcc77",
    "#cc6677",
    "#882255",
    "#aa4499",
)
#: Colour of the communes served by several structures (Tol's indigo, in no structure's palette).
SEVERAL_COLOR = "#332288"
SEVERAL = "Plusieurs structures"
#: Category of the communes no structure serves (hatched on the map and in QGIS).
UNCOVERED = "Non couverte"


class ColorReuseWarning(BarometreGeoWarning):
    """More colours were needed than the palette has: some neighbours share a colour."""


def structure_pairs(members: pd.DataFrame, i: np.ndarray, j: np.ndarray) -> pd.DataFrame:
    """Neighbouring structures: an edge between their communes, or a commune in common.

    Parameters
    ----------
    members : pandas.DataFrame
        ``structure`` and ``pos`` (commune row position).
    i, j : numpy.ndarray
        Rook adjacency pairs of the communes.

    Returns
    -------
    pandas.DataFrame
        ``structure_a < structure_b``, ``shared`` (communes served by both),
        ``edges`` (commune edges between a commune of each).
    """
    m = members[["pos", "structure"]]
    edges = pd.DataFrame({"pos": np.concatenate([i, j]), "nb": np.concatenate([j, i])})
    touch = edges.merge(m, on="pos").merge(
        m.rename(columns={"pos": "nb", "structure": "other"}), on="nb"
    )
    touch = touch[touch["structure"] < touch["other"]]  # each commune edge once (i < j)
    shared = m.merge(m.rename(columns={"structure": "other"}), on="pos")
    shared = shared[shared["structure"] < shared["other"]]
    out = pd.concat(
        [
            touch.groupby(["structure", "other"]).size().rename("edges"),
            shared.groupby(["structure", "other"]).size().rename("shared"),
        ],
        axis=1,
    ).fillna(0)
    out = out.astype("int64").reset_index()
    out.columns = ["structure_a", "structure_b", "edges", "shared"]
    return out[["structure_a", "structure_b", "shared", "edges"]]


def structure_colors(ids, pairs: pd.DataFrame) -> dict[str, str]:
    """Colour of each structure (id → ``#rrggbb``), neighbours never alike.

    Parameters
    ----------
    ids : sequence of str
        The structures to colour (those drawn on the map).
    pairs : pandas.DataFrame
        :func:`structure_pairs` (``CoverageResult.neighbours``).

    Examples
    --------
    >>> pairs = pd.DataFrame({"structure_a": ["a", "a", "b"], "structure_b": ["b", "c", "c"]})
    >>> colors = structure_colors(["a", "b", "c", "d"], pairs)
    >>> len({colors["a"], colors["b"], colors["c"]})
    3
    """
    import geopandas as gpd
    from libpysal.weights import W
    from mapclassify import greedy

    # sorted: greedy() sorts its result by id, then relabels it with the frame's index
    ids = sorted({str(x) for x in ids})
    if not ids:
        return {}
    known = set(ids)
    neighbours: dict[str, list[str]] = {x: [] for x in ids}
    for a, b in zip(pairs["structure_a"], pairs["structure_b"], strict=True):
        if a in known and b in known and a != b:
            neighbours[a].append(b)
            neighbours[b].append(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal: "islands" (structures touching none)
        w = W(neighbours, id_order=ids, silence_warnings=True)
    frame = gpd.GeoDataFrame({"id": ids}, geometry=[None] * len(ids), index=ids)
    codes = greedy(frame, strategy="balanced", balance="count", min_colors=7, sw=w)
    colors = {x: STRUCTURE_COLORS[int(codes[x]) % len(STRUCTURE_COLORS)] for x in ids}
    clash = [(a, b) for a in ids for b in neighbours[a] if a < b and colors[a] == colors[b]]
    if clash:
        warnings.warn(
            f"{len(clash)} pair(s) of neighbouring structures share a colour (more than "
            f"{len(STRUCTURE_COLORS)} colours needed), e.g. {clash[0][0]} and {clash[0][1]}; "
            "the map's tooltips and legend still name each structure.",
            ColorReuseWarning,
            stacklevel=2,
        )
    return colors


def categories(result) -> list[tuple[str, str | None]]:
    """Return the map's categories in legend order, with their colour (None: hatched).

    Structures with a territory by name, then « Plusieurs structures » (when
    some commune has two), then « Non couverte ». The HTML map and the QGIS
    styles of ``couverture.gpkg`` both use this list.
    """
    from .prospects import structure_labels

    per = result.structures
    labels = structure_labels(per)
    drawn = per.loc[per["n_communes"] > 0, "id"]
    colors = structure_colors(drawn, result.neighbours)
    out = sorted(((labels[i], colors[i]) for i in drawn), key=lambda t: t[0].casefold())
    if (result.communes["n_structures"] > 1).any():
        out.append((SEVERAL, SEVERAL_COLOR))
    out.append((UNCOVERED, None))
    return out
