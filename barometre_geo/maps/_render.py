"""Page assembly: folium frame, compact layers, Content-Security-Policy.

folium builds the frame: a :class:`branca.element.Figure` whose template is
ours (``templates/page.html``: ``lang="fr"``, title, description, data table,
escaped text), a :class:`folium.Map` subclass whose header drops folium's
viewport meta (it forbids zooming the page, which WCAG 1.4.4 does not allow),
a :class:`folium.TileLayer` for the basemap, and one
:class:`folium.elements.MacroElement` that hands the page data to
``bgeo.draw``. folium's default CDN links (Leaflet, jQuery, Bootstrap, Font
Awesome) are replaced per map instance by Leaflet alone, inline or from the
CDN with SRI (see :mod:`._assets`).

The page carries a ``<meta http-equiv="Content-Security-Policy">`` listing
the sha256 of each inline script and style block, so it runs without
``'unsafe-inline'``; :attr:`MapDocument.csp` gives the same policy for an
HTTP header.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from .._version import __version__
from ._assets import bgeo_css, bgeo_js, leaflet_assets, leaflet_version

__all__ = [
    "ZONE_BOXES",
    "ZONE_LABELS",
    "Page",
    "csp_for",
    "json_for_script",
    "page_script",
    "render_page",
    "render_template",
    "zones_of",
]

ZONE_LABELS = {
    "metropole": "France métropolitaine",
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "976": "Mayotte",
}
_FALLBACK_BOUNDS = [[41.3, -5.2], [51.1, 9.6]]  # metropolitan France


@dataclass
class Page:
    """Everything the page template needs besides the folium elements.

    ``source`` is the source line under the map (kept in the map-only variant);
    ``insets`` the inset frames (``{"id", "label"}``, see :mod:`._layout`);
    ``style`` the page style (:mod:`._style`); ``extra_js`` optional scripts
    inlined after ours (:func:`page_script`); ``legend_in_map``: the legends are
    controls inside the map (compact legends of many classes) rather than a
    column beside it.
    """

    title: str
    description: str = ""
    notes: tuple[str, ...] = ()
    empty: str = ""
    source: str = ""
    insets: tuple[dict, ...] = ()
    style: str = "standard"
    data: dict = field(default_factory=dict)
    data_id: str = "bgeo-data"
    table_id: str = "bgeo-table"
    css: str = ""
    bgeo_js: str = ""
    data_json: str = ""
    generator: str = ""
    extra_js: tuple[str, ...] = ()
    legend_in_map: bool = False


def page_script(name: str) -> str:
    """Text of an optional page script of ``templates/`` (e.g. ``bgeo-views.js``), compact."""
    from ._assets import _template, compact

    return compact(_template(name))


def json_for_script(obj) -> str:
    r"""Return JSON safe inside a ``<script>`` element (``<``, ``>``, ``&`` escaped).

    Examples
    --------
    >>> json_for_script({"nom": "</script><b>"})
    '{"nom":"\\u003c/script\\u003e\\u003cb\\u003e"}'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


#: Bounding boxes (west, south, east, north) that tell the zones apart.
ZONE_BOXES = {
    "metropole": (-6.0, 41.0, 10.0, 51.6),
    "971": (-62.0, 15.7, -60.8, 16.7),
    "972": (-61.4, 14.2, -60.7, 15.0),
    "973": (-55.0, 1.9, -51.3, 6.0),
    "974": (55.1, -21.5, 56.0, -20.7),
    "976": (44.8, -13.2, 45.5, -12.5),
}


def zones_of(geoms) -> list[dict]:
    """Bounds of each zone (metropolitan France, each DROM) present, metropole first.

    A feature belongs to the zone whose box holds the centre of its bounds,
    so any GeoDataFrame of French territories works, whatever its columns.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> [z["id"] for z in zones_of(bg.load_territories().regions.geometry.values)]
    ['metropole', '971', '972', '973', '974', '976']
    """
    import shapely

    arr = np.asarray(geoms, dtype=object)
    b = shapely.bounds(arr)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    zones = []
    for zid, (w, s, e, n) in ZONE_BOXES.items():
        mask = (cx >= w) & (cx <= e) & (cy >= s) & (cy <= n)
        if not mask.any():
            continue
        zb = shapely.total_bounds(arr[mask])
        zones.append(
            {"id": zid, "label": ZONE_LABELS[zid], "bounds": [[zb[1], zb[0]], [zb[3], zb[2]]]}
        )
    return zones


@cache
def _env():
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("barometre_geo.maps", "templates"),
        autoescape=select_autoescape(["html"]),
    )


def render_template(name: str, **context) -> str:
    """Render a page template and put its own CSP (hashes of its inline blocks) in it.

    The template marks the place of the ``<meta>`` with ``<!--bgeo-csp-->``.
    """
    html = _env().get_template(name).render(**context)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{csp_for(html)}">'
    return html.replace("<!--bgeo-csp-->", meta, 1)


@cache
def _classes():
    """Build the folium subclasses on first use (folium is imported lazily)."""
    import folium
    from branca.element import Element, Figure
    from folium.elements import MacroElement
    from folium.template import Template

    class _Figure(Figure):
        def __init__(self, page: Page):
            super().__init__()
            self._children.clear()  # no meta http-equiv: our template sets the charset
            self.header._children.clear()
            self.page = page
            self._template = _env().get_template("page.html")

        def render(self, **kwargs) -> str:
            for child in self._children.values():
                child.render(**kwargs)
            return self._template.render(this=self, page=self.page, kwargs=kwargs)

    class _Map(folium.Map):
        _template = Template(
            """
            {% macro header(this, kwargs) %}
            <script>L_NO_TOUCH = false; L_DISABLE_3D = false;</script>
            {% endmacro %}
            {% macro html(this, kwargs) %}
            <div class="folium-map" id={{ this.get_name()|tojson }}></div>
            {% endmacro %}
            {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }}, {
                center: {{ this.location|tojson }}, crs: L.CRS.{{ this.crs }},
                ...{{ this.options|tojavascript }}
            });
            L.control.scale({imperial: false}).addTo({{ this.get_name() }});
            {% endmacro %}
            """
        )

    class _Draw(MacroElement):
        _template = Template(
            """
            {% macro script(this, kwargs) %}
            bgeo.draw({{ this._parent.get_name() }},
                JSON.parse(document.getElementById({{ this.data_id|tojson }}).textContent));
            {% endmacro %}
            """
        )

        def __init__(self, data_id: str):
            super().__init__()
            self._name = "BgeoDraw"
            self.data_id = data_id

    class _Raw(Element):
        def __init__(self, html: str):
            super().__init__()
            self.raw = html

        def render(self, **kwargs) -> str:
            return self.raw

    return _Figure, _Map, _Draw, _Raw


def _asset_elements(mode: str) -> list[str]:
    assets = leaflet_assets(mode)
    if mode == "inline":
        return [f"<style>{assets['css']}</style>", f"<script>{assets['js']}</script>"]
    if mode == "local":  # same folder: no SRI (file:// pages cannot use CORS)
        return [
            f'<link rel="stylesheet" href="{assets["css_url"]}">',
            f'<script src="{assets["js_url"]}"></script>',
        ]
    return [
        f'<link rel="stylesheet" href="{assets["css_url"]}" integrity="{assets["css_sri"]}" '
        'crossorigin="anonymous">',
        f'<script src="{assets["js_url"]}" integrity="{assets["js_sri"]}" '
        'crossorigin="anonymous"></script>',
    ]


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def csp_for(
    html: str,
    *,
    tile_origin: str | None = None,
    cdn_origin: str | None = None,
    local: bool = False,
) -> str:
    """Content-Security-Policy allowing exactly the page's inline blocks.

    Scripts and styles are allowed by the sha256 of each inline block (no
    ``'unsafe-inline'``, no ``'unsafe-eval'``); images from ``data:`` URIs
    (Leaflet's control icons, inlined) and from the tile server; nothing else.
    ``local``: Leaflet's files beside the page (``'self'``), ``cdn_origin``:
    from that CDN.
    """
    scripts = sorted({_sha256(s) for s in _INLINE_SCRIPT.findall(html)})
    styles = sorted({_sha256(s) for s in _INLINE_STYLE.findall(html)})
    extra = [f"https://{cdn_origin}"] if cdn_origin else []
    if local:
        extra = ["'self'"]
    img = ["data:"] + (["'self'"] if local else [])
    img += [f"https://{tile_origin}"] if tile_origin else []
    parts = [
        "default-src 'none'",
        "script-src " + " ".join(scripts + extra),
        "style-src " + " ".join(styles + extra),
        "img-src " + " ".join(img),
        "base-uri 'none'",
        "form-action 'none'",
    ]
    return "; ".join(parts)


def render_page(page: Page, *, tiles: dict | None, basemap_label: str, assets: str) -> tuple:
    """Render the page HTML and its CSP.

    Returns
    -------
    tuple of (str, str)
        The HTML and the Content-Security-Policy it embeds.
    """
    import folium

    from ._style import style_css

    figure_cls, map_cls, draw_cls, raw_cls = _classes()
    page.css = bgeo_css() + style_css(page.style)
    page.bgeo_js = bgeo_js()
    page.generator = (
        f"barometre-geo {__version__} (folium {folium.__version__}, Leaflet {leaflet_version()})"
    )
    fig = figure_cls(page)
    cdn_origin = None
    if not page.empty:
        data = dict(page.data)
        data.update(basemap_label=basemap_label, table_id=page.table_id)
        page.data_json = json_for_script(data)
        m = map_cls(
            location=[46.6, 2.4],
            zoom_start=5,
            tiles=None,
            prefer_canvas=True,
            control_scale=False,
            min_zoom=2,
            max_zoom=(tiles or {}).get("max_zoom", 18),
            zoom_snap=0.25,
        )
        m.default_js, m.default_css = [], []
        fig.add_child(m)
        for i, html in enumerate(_asset_elements(assets)):
            fig.header.add_child(raw_cls(html), name=f"leaflet_{i}")
        if tiles:
            folium.TileLayer(
                tiles=tiles["url"],
                attr=tiles["attribution"],
                name=basemap_label,
                max_zoom=tiles["max_zoom"],
                subdomains=tiles["subdomains"],
                overlay=False,
                control=False,
            ).add_to(m)
        draw_cls(page.data_id).add_to(m)
        if assets == "cdn":
            cdn_origin = leaflet_assets("cdn")["origin"].removeprefix("https://")
    # the HTML parser turns CR LF into LF before hashing inline blocks (leaflet.css has CR LF)
    html = fig.render().replace("\r\n", "\n").replace("\r", "\n")
    tile_origin = tiles["origin"].replace("{s}", "*") if tiles else None
    local = assets == "local" and not page.empty
    csp = csp_for(html, tile_origin=tile_origin, cdn_origin=cdn_origin, local=local)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
    return html.replace("<!--bgeo-csp-->", meta, 1), csp
