"""Compact geometry for the HTML maps: coverage simplification and encoding.

Simplification uses :func:`shapely.coverage_simplify`, which simplifies the
edges shared by neighbouring polygons once, so the simplified communes still
tile the territory: no slivers, no gaps. Results are cached in-process per
geometry content and tolerance (the commune coverage takes ~2 s to simplify).

Encoding: rings are oriented (exteriors counter-clockwise, holes clockwise),
coordinates are quantised on a grid of ``quantum`` degrees, the
closing vertex of each ring is dropped, and the whole coordinate stream is
written as zig-zag deltas in base-64 variable-length quantities (the VLQ of
source maps: 5 bits per character plus a continuation bit), one ASCII string
for all features. Ring sizes and rings per feature are VLQ strings too. The
page's script (``templates/bgeo.js``) decodes them in a few lines. The
alphabet (``A–Z a–z 0–9 - _``) needs no escaping in JSON or HTML.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import numpy as np

from ..errors import SchemaError

__all__ = [
    "ALPHABET",
    "EncodedGeometry",
    "decode_vlq",
    "encode_geometry",
    "encode_vlq",
    "simplify_coverage",
]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ALPHA = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)

_CACHE: dict[tuple, np.ndarray] = {}
_CACHE_MAX = 16
_LOCK = threading.Lock()


def encode_vlq(values) -> str:
    """Encode signed integers as a base-64 VLQ string (vectorised).

    Examples
    --------
    >>> encode_vlq([0, 1, -1, 15, 16, -1000])
    'ACBegBv-B'
    >>> decode_vlq(encode_vlq([0, 1, -1, 15, 16, -1000])).tolist()
    [0, 1, -1, 15, 16, -1000]
    """
    v = np.asarray(values, dtype=np.int64)
    if v.size == 0:
        return ""
    if np.abs(v).max() >= 2**30:
        raise SchemaError(
            f"Integer {int(np.abs(v).max())} too large to encode (limit 2**30). "
            "Use a coarser quantum for the geometry."
        )
    z = (v << 1) ^ (v >> 63)  # zig-zag: sign in the lowest bit
    chunks = (z[:, None] >> (5 * np.arange(7))) & 31
    nbits = np.maximum(1, np.ceil(np.log2(z.astype(np.float64) + 1) / 5)).astype(np.int64)
    keep = np.arange(7)[None, :] < nbits[:, None]
    more = np.arange(7)[None, :] < (nbits - 1)[:, None]
    digits = (chunks | (more * 32))[keep]
    return _ALPHA[digits].tobytes().decode("ascii")


def decode_vlq(text: str) -> np.ndarray:
    """Decode a base-64 VLQ string back to integers (reference for the JS decoder)."""
    lookup = np.full(128, -1, dtype=np.int64)
    lookup[_ALPHA] = np.arange(64)
    d = lookup[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
    if (d < 0).any():
        raise SchemaError("Invalid character in encoded geometry.")
    out, value, shift = [], 0, 0
    for c in d.tolist():
        value |= (c & 31) << shift
        shift += 5
        if not c & 32:
            out.append((value >> 1) ^ -(value & 1))
            value, shift = 0, 0
    return np.asarray(out, dtype=np.int64)


def _fingerprint(geoms: np.ndarray) -> str:
    import shapely

    h = hashlib.blake2b(digest_size=16)
    h.update(np.ascontiguousarray(shapely.get_num_coordinates(geoms)).tobytes())
    h.update(np.ascontiguousarray(shapely.get_coordinates(geoms)).tobytes())
    return h.hexdigest()


def simplify_coverage(geoms, tolerance: float) -> np.ndarray:
    """Simplify a polygon coverage, keeping shared edges shared (cached in-process).

    The result's rings are oriented (exteriors counter-clockwise, holes
    clockwise), as :func:`encode_geometry` wants them.

    Parameters
    ----------
    geoms : array-like of shapely geometries
        Polygons forming a coverage (no overlaps), e.g. a level of
        :func:`barometre_geo.load_territories`.
    tolerance : float
        Tolerance in the geometries' units (degrees here); ``0`` returns the
        input unchanged.

    Examples
    --------
    >>> import barometre_geo as bg, shapely
    >>> g = bg.load_territories().departements.geometry.values
    >>> s = simplify_coverage(g, 0.01)
    >>> bool(shapely.get_num_coordinates(s).sum() < shapely.get_num_coordinates(g).sum())
    True
    """
    import shapely

    arr = np.asarray(geoms, dtype=object)
    if tolerance <= 0:
        return arr
    key = (_fingerprint(arr), float(tolerance))
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    try:
        out = shapely.orient_polygons(shapely.coverage_simplify(arr, tolerance))
    except shapely.errors.GEOSException as exc:
        raise SchemaError(
            f"Coverage simplification failed ({exc}): the polygons do not form a valid "
            "coverage. Repair them with shapely.coverage_clean, or pass "
            "MapStyle(simplify=0) to skip simplification."
        ) from None
    with _LOCK:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = out
    return out


@dataclass(frozen=True)
class EncodedGeometry:
    """Features encoded for the page.

    Attributes
    ----------
    coords : str
        VLQ stream of interleaved (lat, lon) deltas in ``quantum`` units.
    ring_sizes : str
        VLQ of the number of vertices of each ring.
    feature_rings : str
        VLQ of the number of rings of each feature (0 for empty geometries).
    quantum : float
        Grid step in degrees.
    n_features, n_vertices : int
    bounds : tuple of float
        ``(south, west, north, east)`` of the features.
    """

    coords: str
    ring_sizes: str
    feature_rings: str
    quantum: float
    n_features: int
    n_vertices: int
    bounds: tuple[float, float, float, float]

    def to_js(self) -> dict:
        """Plain-data form embedded in the page."""
        return {
            "q": self.quantum,
            "c": self.coords,
            "r": self.ring_sizes,
            "f": self.feature_rings,
            "n": self.n_features,
        }


def encode_geometry(geoms, *, quantum: float = 1e-4, orient: bool = True) -> EncodedGeometry:
    """Encode polygons into compact strings (see the module docstring).

    ``orient=False`` skips orienting the rings, for polygons already oriented
    (those of :func:`simplify_coverage`).

    Examples
    --------
    >>> import shapely
    >>> enc = encode_geometry([shapely.box(2.0, 48.0, 2.5, 48.5)], quantum=0.1)
    >>> decode_vlq(enc.coords).tolist()  # lat, lon of 4 vertices, as deltas
    [480, 25, 5, 0, 0, -5, -5, 0]
    >>> decode_vlq(enc.ring_sizes).tolist(), decode_vlq(enc.feature_rings).tolist()
    ([4], [1])
    """
    import shapely

    arr = np.asarray(geoms, dtype=object)
    n = len(arr)
    # exteriors counter-clockwise, holes clockwise: the page fills many features in
    # one path with the non-zero rule (holes stay holes, enclaves stay filled)
    if orient:
        arr = shapely.orient_polygons(arr)
    polys, poly_idx = shapely.get_parts(arr, return_index=True)
    kinds = shapely.get_type_id(polys)
    if polys.size and not np.isin(kinds, (3,)).all():
        bad = int(np.flatnonzero(~np.isin(kinds, (3,)))[0])
        raise SchemaError(
            f"Feature {int(poly_idx[bad])} has a {polys[bad].geom_type} part: "
            "choropleth maps draw polygons only. Keep only (Multi)Polygon geometries."
        )
    rings, ring_part = shapely.get_rings(polys, return_index=True)
    ring_feature = poly_idx[ring_part]
    xy, vert_ring = shapely.get_coordinates(rings, return_index=True)
    q = np.empty((len(xy), 2), dtype=np.int64)
    q[:, 0] = np.round(xy[:, 1] / quantum)  # lat first, as Leaflet wants
    q[:, 1] = np.round(xy[:, 0] / quantum)
    # keep a vertex unless it closes its ring or repeats the previous one (after rounding)
    last_of_ring = np.r_[vert_ring[1:] != vert_ring[:-1], True]
    same_as_prev = np.r_[False, (q[1:] == q[:-1]).all(axis=1) & (vert_ring[1:] == vert_ring[:-1])]
    keep = ~last_of_ring & ~same_as_prev
    q, vert_ring = q[keep], vert_ring[keep]
    ring_sizes = np.bincount(vert_ring, minlength=len(rings))
    ok = ring_sizes >= 3  # rings collapsed by the quantisation are dropped
    drop_vert = ~ok[vert_ring]
    q = q[~drop_vert]
    ring_sizes, ring_feature = ring_sizes[ok], ring_feature[ok]
    feature_rings = np.bincount(ring_feature, minlength=n)
    deltas = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    if len(xy):
        b = shapely.total_bounds(arr)
        bounds = (float(b[1]), float(b[0]), float(b[3]), float(b[2]))
    else:
        bounds = (41.0, -5.5, 51.5, 10.0)
    return EncodedGeometry(
        coords=encode_vlq(deltas.ravel()),
        ring_sizes=encode_vlq(ring_sizes),
        feature_rings=encode_vlq(feature_rings),
        quantum=float(quantum),
        n_features=n,
        n_vertices=len(q),
        bounds=bounds,
    )
