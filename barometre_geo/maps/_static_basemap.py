"""Background tiles of the static maps, through contextily (optional, online).

``basemap`` is ``"none"`` (no tiles, no network), ``"auto"`` (Plan IGN if the
tile server answers within ``timeout`` seconds, else no basemap and a
:class:`BasemapWarning`), a name of :data:`~._options.BASEMAPS`
(``"plan_ign"``, ``"osm"``, ``"cartodb"``: failure raises), or an
:class:`xyzservices.TileProvider`. Tiles are fetched by
``contextily.add_basemap`` and warped to each axes' projection (Lambert-93,
the overseas projections). contextily is imported only when tiles are drawn:
importing it creates a temporary tile cache.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from ..errors import BarometreGeoWarning, DownloadError, UnknownValueError
from ._options import BASEMAPS

__all__ = ["STATIC_BASEMAPS", "BasemapWarning", "Tiles", "draw_tiles", "parse_basemap"]

#: Values of ``static_map(basemap=...)`` besides an xyzservices TileProvider.
STATIC_BASEMAPS: tuple[str, ...] = ("auto", *BASEMAPS)

_PROVIDERS = {
    "plan_ign": ("GeoportailFrance", "plan", "Fond : © IGN – Plan IGN"),
    "osm": ("OpenStreetMap", "Mapnik", "Fond : © contributeurs OpenStreetMap"),
    "cartodb": ("CartoDB", "Positron", "Fond : © contributeurs OpenStreetMap, © CARTO"),
}


class BasemapWarning(BarometreGeoWarning):
    """The background tiles could not be fetched: the map was drawn without them."""


@dataclass(frozen=True)
class Tiles:
    """A tile source: the xyzservices provider, its credit line and whether failure raises."""

    provider: object
    credit: str
    strict: bool


def parse_basemap(basemap) -> Tiles | None:
    """Resolve ``basemap`` (see the module docstring); ``None`` for no tiles.

    Examples
    --------
    >>> parse_basemap("none") is None
    True
    >>> t = parse_basemap("auto"); t.credit, t.strict
    ('Fond : © IGN – Plan IGN', False)
    """
    if basemap is None:
        return None
    if hasattr(basemap, "build_url"):  # an xyzservices.TileProvider
        credit = basemap.get("attribution") or basemap.get("name", "")
        return Tiles(basemap, f"Fond : {credit}", strict=True)
    name = str(basemap).strip().lower()
    if name not in STATIC_BASEMAPS:
        raise UnknownValueError(
            f"Unknown basemap {basemap!r}. Valid basemaps: {', '.join(STATIC_BASEMAPS)}, "
            "or an xyzservices.TileProvider."
        )
    if name == "none":
        return None
    import xyzservices.providers as xyz

    group, variant, credit = _PROVIDERS["plan_ign" if name == "auto" else name]
    return Tiles(xyz[group][variant], credit, strict=name != "auto")


def _contextily():
    import contextily

    return contextily


def draw_tiles(axes_crs, tiles: Tiles, *, timeout: float) -> bool:
    """Draw ``tiles`` under each ``(axes, epsg)``; ``True`` if drawn everywhere.

    In ``auto`` mode (``tiles.strict`` false) a failure removes the tiles
    already drawn and warns (:class:`BasemapWarning`); otherwise it raises.

    Raises
    ------
    DownloadError
        A named basemap could not be fetched (offline, server error).
    """
    ctx = _contextily()
    drawn = []
    try:
        for ax, epsg in axes_crs:
            before = list(ax.images)
            with warnings.catch_warnings():
                # rasterio's own use of affine (PendingDeprecationWarning), not the user's
                warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
                ctx.add_basemap(
                    ax,
                    crs=f"EPSG:{epsg}",
                    source=tiles.provider,
                    attribution=False,
                    timeout=timeout,
                    zorder=0,
                )
            drawn += [im for im in ax.images if im not in before]
    except Exception as exc:  # requests, PIL, rasterio errors: offline or bad tiles
        for im in drawn:
            im.remove()
        name = getattr(tiles.provider, "name", str(tiles.provider))
        if tiles.strict:
            raise DownloadError(
                f"Basemap {name!r} could not be fetched ({type(exc).__name__}: {exc}). "
                "Check the network (or a proxy), or pass basemap='none' (no tiles) or "
                "basemap='auto' (tiles when reachable)."
            ) from exc
        warnings.warn(
            f"Basemap {name!r} unreachable within {timeout:g} s ({type(exc).__name__}: "
            f"{exc}); the map was drawn without it. Pass basemap='none' to skip the attempt.",
            BasemapWarning,
            stacklevel=3,
        )
        return False
    return True
