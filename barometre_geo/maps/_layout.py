"""Composite layout of the HTML maps: overseas and Île-de-France insets, deep-link places.

The main map is a Leaflet map in Web Mercator showing metropolitan France (its
zone buttons still zoom it to any overseas département). Beside it, one small
Leaflet map per overseas département present (**insets**, labelled, each fitted
to its territory — Guyane and Mayotte at very different scales, each with its own
scale bar: Web Mercator is conformal and barely stretched at these latitudes)
and, when the layer is finer than the département, an **Île-de-France** zoom.
The insets draw the same features as the main map from the same decoded arrays
(``templates/bgeo-canvas.js``), with the same classes; hovering them shows the
same tooltip, and their caption button (or a click) shows the territory on the
main map. This is the "France entière, DROM rapprochés" layout of INSEE and
cartiflette, without moving any territory: coordinates stay true, so the
basemap, the scale bars and the table agree.

:func:`insets_of` decides the insets of a layer; :func:`places_of` gives the
régions and départements that a deep link (``?territoire=84``,
``?territoire=dep-69``) can open, with their bounds.
"""

from __future__ import annotations

import numpy as np

from ._render import ZONE_BOXES, ZONE_LABELS

__all__ = ["IDF_BOX", "IDF_MIN_FEATURES", "insets_of", "places_of"]

#: Frame of the Île-de-France inset (west, south, east, north), degrees: the région.
IDF_BOX = (1.44, 48.11, 3.57, 49.25)
#: An Île-de-France inset is drawn when at least this many features lie in its frame
#: (EPCI: ~60, communes: ~1,270; départements: 8, so none).
IDF_MIN_FEATURES = 20


def insets_of(geoms, zones: list[dict]) -> list[dict]:
    """Insets of a layer (see module docstring), in display order.

    ``zones`` are :func:`~._render.zones_of`'s (metropole first). Overseas
    insets need metropolitan France on the map (a map of one DROM needs none);
    the Île-de-France inset needs :data:`IDF_MIN_FEATURES` features centred in
    :data:`IDF_BOX`.

    Returns
    -------
    list of dict
        ``id``, ``label``, ``bounds`` (``[[south, west], [north, east]]``, fitted),
        ``box`` (``[west, south, east, north]``: the features drawn), ``select``
        (``"centre"``: features whose box centre is in ``box``; ``"touch"``: every
        feature overlapping it).

    Examples
    --------
    >>> import barometre_geo as bg
    >>> t = bg.load_territories()
    >>> from barometre_geo.maps._render import zones_of
    >>> g = t.epci.geometry.values
    >>> [i["id"] for i in insets_of(g, zones_of(g))]
    ['idf', '971', '972', '973', '974', '976']
    >>> g = t.departements.geometry.values
    >>> [i["id"] for i in insets_of(g, zones_of(g))]
    ['971', '972', '973', '974', '976']
    """
    import shapely

    ids = [z["id"] for z in zones]
    if "metropole" not in ids or len(ids) < 2:
        return []
    out = []
    arr = np.asarray(geoms, dtype=object)
    b = shapely.bounds(arr)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    w, s, e, n = IDF_BOX
    in_idf = (cx >= w) & (cx <= e) & (cy >= s) & (cy <= n)
    if int(in_idf.sum()) >= IDF_MIN_FEATURES:
        out.append(
            {
                "id": "idf",
                "label": "Île-de-France",
                "bounds": [[s, w], [n, e]],
                "box": [w, s, e, n],
                "select": "touch",
            }
        )
    for z in zones:
        if z["id"] == "metropole":
            continue
        out.append(
            {
                "id": z["id"],
                "label": ZONE_LABELS[z["id"]],
                "bounds": z["bounds"],
                "box": list(ZONE_BOXES[z["id"]]),
                "select": "centre",
            }
        )
    return out


def _bounds_by(codes: np.ndarray, bounds: np.ndarray) -> dict[str, list[float]]:
    """``{code: [south, west, north, east]}`` of the features of each code (4 decimals)."""
    ok = np.isfinite(bounds).all(axis=1) & (codes != "")
    codes, bounds = codes[ok], bounds[ok]
    keys, inverse = np.unique(codes, return_inverse=True)
    lo = np.full((len(keys), 2), np.inf)
    hi = np.full((len(keys), 2), -np.inf)
    np.minimum.at(lo, inverse, bounds[:, :2])
    np.maximum.at(hi, inverse, bounds[:, 2:])
    boxes = np.round(np.c_[lo[:, 1], lo[:, 0], hi[:, 1], hi[:, 0]], 4).tolist()
    return dict(zip(keys.tolist(), boxes, strict=True))


def places_of(gdf, territories=None) -> dict:
    """Régions and départements a deep link can open: ``{"reg"|"dep": {code: [nom, s, w, n, e]}}``.

    From ``territories`` (a :class:`~barometre_geo.Territories`: every région and
    département, named) when given, else from ``gdf`` itself: its own features when
    it is a région or département layer (``nom``), and the ``region`` /
    ``departement`` columns of finer layers (named by their code).

    Examples
    --------
    >>> import barometre_geo as bg
    >>> t = bg.load_territories()
    >>> p = places_of(t.communes, t)
    >>> p["reg"]["84"][0], p["dep"]["69"][0]
    ('Auvergne-Rhône-Alpes', 'Rhône')
    """
    import shapely

    out: dict[str, dict] = {"reg": {}, "dep": {}}
    if territories is not None and hasattr(territories, "level"):
        sources = (("reg", territories.regions, "code"), ("dep", territories.departements, "code"))
    else:
        sources = []
        is_level = "nom" in gdf.columns and "code" in gdf.columns
        if "region" in gdf.columns:
            sources.append(("reg", gdf, "region"))
        elif is_level and "departement" not in gdf.columns:
            sources.append(("reg", gdf, "code"))  # a région layer
        if "departement" in gdf.columns:
            sources.append(("dep", gdf, "departement"))
        elif is_level and "region" in gdf.columns:
            sources.append(("dep", gdf, "code"))  # a département layer
    for kind, frame, col in sources:
        if col not in frame.columns:
            continue
        bounds = shapely.bounds(np.asarray(frame.geometry.values, dtype=object))
        codes = frame[col].astype("object").where(frame[col].notna(), "").astype(str).to_numpy()
        names = {}
        if col == "code" and "nom" in frame.columns:
            names = dict(zip(codes.tolist(), frame["nom"].astype(str).tolist(), strict=True))
        for code, box in _bounds_by(codes, bounds).items():
            out[kind][code] = [names.get(code, code), *box]
    return out
