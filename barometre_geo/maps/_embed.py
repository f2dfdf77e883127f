"""Embedding a map in another site: the ``<iframe>`` code, deep links, the host script.

A map page works in an ``<iframe>`` of any site, including one whose
Content-Security-Policy is strict (``default-src 'self'``):

* the code to paste (:func:`embed_snippet`) carries no inline style and no
  inline script — only attributes and a ``<script src>`` of the host script;
* the page posts its height to the page that frames it
  (``{type: "barometre-geo-height", height: n}``, ``templates/bgeo-page.js``); the
  host script (:data:`EMBED_SCRIPT`, written into ``assets/`` beside the maps by
  :func:`write_embed_script`) sets the height of the matching ``<iframe>`` through the
  DOM (no ``'unsafe-inline'`` needed). A site with ``script-src 'self'`` serves a
  copy of it from its own domain;
* ``?embed=carte`` shows the map alone (legend and source line kept, the data
  table behind a link), ``?territoire=84`` (région), ``?territoire=dep-69``
  (département), ``?territoire=971`` (an overseas département) open the map there
  (:func:`map_url` builds them);
* the host allows the maps' origin in ``frame-src`` (:func:`frame_src`).

Without the public address of the maps (``base_url``), the code can only hold a
relative address: :func:`embed_snippet` says so (``absolute=False``) so that the
index tells what to do; each published page also shows its own code, built in the
browser from the address it is served at.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from ..errors import SchemaError, UnknownValueError

__all__ = [
    "EMBED_SCRIPT",
    "EMBED_VARIANTS",
    "Snippet",
    "check_base_url",
    "embed_script",
    "embed_snippet",
    "frame_src",
    "map_url",
    "write_embed_script",
]

#: Path of the host script, relative to the maps folder.
EMBED_SCRIPT = "assets/barometre-geo-integration.js"
#: ``page``: the whole page (map, source, data table); ``carte``: the map alone.
EMBED_VARIANTS = ("page", "carte")
_HEIGHTS = {"page": 900, "carte": 560}


def check_base_url(base_url: str) -> str:
    """Check the public address of a maps folder; return it with one trailing ``/``.

    Raises
    ------
    SchemaError
        Not an absolute http(s) address, or with a query or fragment.

    Examples
    --------
    >>> check_base_url("https://www.exemple.gouv.fr/cartes")
    'https://www.exemple.gouv.fr/cartes/'
    """
    return _check_base(base_url)


def _check_base(base_url: str) -> str:
    if not base_url:
        return ""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SchemaError(
            f"base_url {base_url!r} is not an absolute http(s) address. Give the public "
            "address of the maps folder, e.g. 'https://www.exemple.gouv.fr/cartes/'."
        )
    if parts.query or parts.fragment:
        raise SchemaError(
            f"base_url {base_url!r} has a query or fragment. Give the folder's address only, "
            "e.g. 'https://www.exemple.gouv.fr/cartes/'."
        )
    return base_url.rstrip("/") + "/"


def map_url(
    file: str,
    *,
    base_url: str = "",
    variant: str = "page",
    territoire: str | None = None,
) -> str:
    """Address of a map page: absolute under ``base_url``, else relative to the folder.

    Parameters
    ----------
    file : str
        The page's file name in the maps folder (``cyber_pca.departement.html``).
    base_url : str
        Public address of the maps folder (``https://…/cartes/``), or empty.
    variant : {"page", "carte"}
        ``carte`` adds ``embed=carte`` (the map alone).
    territoire : str, optional
        Open the map on a territory: ``84`` (région), ``dep-69``, ``971``.

    Raises
    ------
    UnknownValueError
        Unknown variant.
    SchemaError
        ``base_url`` is not an absolute http(s) address of a folder.

    Examples
    --------
    >>> map_url("cyber_pca.departement.html", base_url="https://ex.fr/cartes",
    ...         variant="carte", territoire="dep-69")
    'https://ex.fr/cartes/cyber_pca.departement.html?embed=carte&territoire=dep-69'
    >>> map_url("a b.html")
    'a%20b.html'
    """
    if variant not in EMBED_VARIANTS:
        raise UnknownValueError(
            f"Unknown embed variant {variant!r}. Valid variants: {', '.join(EMBED_VARIANTS)}."
        )
    query = {}
    if variant == "carte":
        query["embed"] = "carte"
    if territoire:
        query["territoire"] = str(territoire)
    url = _check_base(base_url) + quote(file)
    return url + ("?" + urlencode(query) if query else "")


@dataclass(frozen=True)
class Snippet:
    """Code to paste into a host page (:func:`embed_snippet`).

    Attributes
    ----------
    html : str
        The ``<iframe>`` and the ``<script src>`` of the host script.
    url : str
        The map's address in the ``<iframe>``.
    absolute : bool
        ``url`` is absolute (a ``base_url`` was given). A relative address only
        works on a page of the maps folder itself.
    frame_src : str
        The ``frame-src`` source the host's CSP must allow (empty when relative).
    """

    html: str
    url: str
    absolute: bool
    frame_src: str


def embed_snippet(
    file: str,
    title: str,
    *,
    base_url: str = "",
    variant: str = "page",
    territoire: str | None = None,
    script_src: str | None = None,
) -> Snippet:
    r"""Return the ``<iframe>`` code of a map, safe under a strict CSP.

    No ``style`` attribute, no inline script: the height follows the page through
    the host script (``data-barometre-geo`` marks the frames it manages).

    Parameters
    ----------
    file, base_url, variant, territoire
        As :func:`map_url`.
    title : str
        The frame's accessible name (RGAA 2.1).
    script_src : str, optional
        Address of the host script on the host site; default the copy in the maps
        folder (``<base_url>/assets/barometre-geo-integration.js``), which a site
        with ``script-src 'self'`` loads only if the maps are on the same origin.

    Examples
    --------
    >>> s = embed_snippet("site.region.html", "Site internet", base_url="https://ex.fr/c/")
    >>> print(s.html.replace('" ', '"\n').replace(" data-", "\ndata-"))
    <iframe src="https://ex.fr/c/site.region.html"
    title="Site internet"
    width="100%"
    height="900"
    loading="lazy"
    data-barometre-geo></iframe>
    <script src="https://ex.fr/c/assets/barometre-geo-integration.js"
    defer></script>
    >>> s.absolute, s.frame_src
    (True, 'https://ex.fr')
    """
    url = map_url(file, base_url=base_url, variant=variant, territoire=territoire)
    base = _check_base(base_url)
    script = script_src or (base + EMBED_SCRIPT)
    html = (
        f'<iframe src="{escape(url, quote=True)}" title="{escape(title, quote=True)}" '
        f'width="100%" height="{_HEIGHTS[variant]}" loading="lazy" data-barometre-geo></iframe>\n'
        f'<script src="{escape(script, quote=True)}" defer></script>'
    )
    return Snippet(html=html, url=url, absolute=bool(base), frame_src=frame_src(base))


def frame_src(base_url: str) -> str:
    """Return the origin a host's CSP must allow in ``frame-src`` to show maps from ``base_url``.

    Examples
    --------
    >>> frame_src("https://cartes.exemple.gouv.fr/barometre/")
    'https://cartes.exemple.gouv.fr'
    >>> frame_src("")
    ''
    """
    base = _check_base(base_url)
    if not base:
        return ""
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def embed_script() -> str:
    """Return the host script (``templates/barometre-geo-integration.js``)."""
    from ._assets import _template

    return _template("barometre-geo-integration.js")


def write_embed_script(folder) -> Path:
    """Write the host script into ``folder/assets/`` (unchanged content is left alone).

    Examples
    --------
    >>> import tempfile
    >>> write_embed_script(tempfile.mkdtemp()).name
    'barometre-geo-integration.js'
    """
    from ._files import atomic_write

    path = Path(folder) / EMBED_SCRIPT
    content = embed_script().encode("utf-8")
    if not (path.is_file() and path.read_bytes() == content):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, content)
    return path
