"""JavaScript and CSS of the pages: Leaflet from a pinned package, ours from templates.

Leaflet comes from the PyPI package ``xstatic-leaflet`` (the XStatic
packaging of upstream Leaflet, byte-identical to npm's ``leaflet@1.9.3``
``dist/`` files, which is also the version folium 0.20 links), read with
:mod:`importlib.resources` at render time — never hand-copied into this
repository. Three modes:

* ``inline``: written into the page (the images its CSS refers to become
  ``data:`` URIs): one self-contained file;
* ``local``: written once into ``assets/leaflet-<version>/`` beside the pages
  (:func:`write_leaflet`), which link it by a relative URL: a folder of maps
  that works offline and wherever the folder is published, without a copy of
  Leaflet per page;
* ``cdn``: the page links jsDelivr with a Subresource Integrity hash computed
  from the packaged file, so a tampered CDN copy is refused by the browser.

Our own scripts and stylesheet (``templates/bgeo-canvas.js``, ``bgeo.js``,
``bgeo-page.js``, ``bgeo.css``) are always inlined (a few tens of kB);
``bgeo-views.js`` only in the pages with views or compact legends
(:func:`._render.page_script`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

__all__ = [
    "PAGE_SCRIPTS",
    "bgeo_css",
    "bgeo_js",
    "compact",
    "leaflet_assets",
    "leaflet_folder",
    "leaflet_version",
    "write_leaflet",
]

_CDN = "https://cdn.jsdelivr.net/npm/leaflet@{version}/dist/{name}"
_SOURCE_MAP = re.compile(r"//# sourceMappingURL=\S+\s*$")


def _leaflet_files():
    try:
        return resources.files("xstatic.pkg.leaflet").joinpath("data")
    except ModuleNotFoundError:  # pragma: no cover - dependency declared in pyproject
        from ..errors import SourceError

        raise SourceError(
            "The Leaflet assets package is missing. Install it with "
            "`pip install 'xstatic-leaflet>=1.9.3,<1.10'` (a dependency of barometre-geo)."
        ) from None


@cache
def leaflet_version() -> str:
    """Version of the packaged Leaflet (e.g. ``"1.9.3"``)."""
    from xstatic.pkg import leaflet

    return leaflet.VERSION


def _sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


@cache
def _leaflet_sources() -> dict[str, bytes]:
    """Leaflet's files as packaged, read once: ``leaflet.js``, ``leaflet.css``, ``images/*.png``."""
    data = _leaflet_files()
    files = {name: data.joinpath(name).read_bytes() for name in ("leaflet.js", "leaflet.css")}
    for image in sorted(data.joinpath("images").iterdir(), key=lambda p: p.name):
        if image.name.endswith(".png"):
            files[f"images/{image.name}"] = image.read_bytes()
    return files


def _page_js() -> str:
    """leaflet.js without its sourceMappingURL comment (devtools would fetch a missing file)."""
    return _SOURCE_MAP.sub("", _leaflet_sources()["leaflet.js"].decode("utf-8"))


@cache
def leaflet_assets(mode: str) -> dict:
    """Leaflet's JS and CSS for a page.

    Returns
    -------
    dict
        ``inline``: ``{"js": code, "css": code}``; ``local``: ``{"js_url",
        "css_url"}`` relative to the page's folder; ``cdn``: ``{"js_url",
        "js_sri", "css_url", "css_sri", "origin"}``.
    """
    if mode == "local":
        folder = leaflet_folder()
        return {"js_url": f"{folder}/leaflet.js", "css_url": f"{folder}/leaflet.css"}
    files = _leaflet_sources()
    css = files["leaflet.css"]
    if mode == "cdn":
        version = leaflet_version()
        return {
            "js_url": _CDN.format(version=version, name="leaflet.js"),
            "js_sri": _sri(files["leaflet.js"]),
            "css_url": _CDN.format(version=version, name="leaflet.css"),
            "css_sri": _sri(css),
            "origin": "https://cdn.jsdelivr.net",
        }

    def inline_image(match: re.Match) -> str:
        uri = base64.b64encode(files[match.group(1)]).decode("ascii")
        return f"url(data:image/png;base64,{uri})"

    css_text = re.sub(r"url\((images/[\w.-]+\.png)\)", inline_image, css.decode("utf-8"))
    return {"js": _page_js(), "css": css_text}


def leaflet_folder() -> str:
    """Folder of Leaflet's files in ``local`` mode, relative to the pages (POSIX)."""
    return f"assets/leaflet-{leaflet_version()}"


def write_leaflet(folder) -> list:
    """Write Leaflet's JS, CSS and images under ``folder`` (``local`` mode); return the paths.

    Files already there with the same content are left alone, so every page
    saved into a folder may call it; each file is written atomically (a
    temporary file renamed), so concurrent writers never leave a partial file.

    Examples
    --------
    >>> import tempfile
    >>> [p.name for p in write_leaflet(tempfile.mkdtemp())][:2]
    ['leaflet.js', 'leaflet.css']
    """
    from pathlib import Path

    from ._files import atomic_write

    dest = Path(folder) / leaflet_folder()
    files = {**_leaflet_sources(), "leaflet.js": _page_js().encode("utf-8")}
    out = []
    for name, content in files.items():
        path = dest / name
        if not (path.is_file() and path.read_bytes() == content):
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, content)
        out.append(path)
    return out


def _template(name: str) -> str:
    return resources.files("barometre_geo.maps").joinpath(f"templates/{name}").read_text("utf-8")


#: Our page scripts, in load order: drawing (canvas), map layer, page around the map.
PAGE_SCRIPTS = ("bgeo-canvas.js", "bgeo.js", "bgeo-page.js")


def compact(text: str) -> str:
    r"""Drop comment-only lines, blank lines and indentation of our JS/CSS (~25 % lighter).

    Only whole-line comments go (``//…`` lines and ``/* … */`` blocks opening a
    line): the code itself is untouched, line by line (no string or regular
    expression of our files spans lines).

    Examples
    --------
    >>> compact("/* head\n * more */\nvar a = 1;  // keep\n\n  // gone\n  f(a);")
    'var a = 1;  // keep\nf(a);'
    """
    out, block = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if block:
            block = "*/" not in stripped
            continue
        if stripped.startswith("/*"):
            block = "*/" not in stripped
            continue
        if stripped and not stripped.startswith("//"):
            out.append(stripped)
    return "\n".join(out)


@cache
def bgeo_js() -> str:
    """Our map scripts (:data:`PAGE_SCRIPTS` from ``templates/``), as one compact inline block."""
    return compact("\n".join(_template(name) for name in PAGE_SCRIPTS))


@cache
def bgeo_css() -> str:
    """Our page stylesheet (``templates/bgeo.css``), compact."""
    return compact(_template("bgeo.css"))
