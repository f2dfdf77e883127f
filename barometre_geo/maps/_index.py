"""``maps/index.html``: every map by theme, with its national figure and iframe snippet."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..errors import SchemaError
from ._files import atomic_write, map_path
from ._render import _env, csp_for

__all__ = ["MapRecord", "write_index"]


@dataclass(frozen=True)
class MapRecord:
    """One produced map, as listed in the index.

    Attributes
    ----------
    file : str
        File name of the page inside the output folder (as returned by
        :func:`map_path`; a plain name, no folder).
    title : str
    theme : str
        Theme label under which the map is listed.
    level : str
        Level label ("Départements"…).
    national : str
        National figure, formatted ("52,3 %"), or empty.
    description : str
    """

    file: str
    title: str
    theme: str = "Autres cartes"
    level: str = ""
    national: str = ""
    description: str = ""


def _snippet(file: str, title: str, base_url: str) -> str:
    """Return the page's ``<iframe>`` code (no inline style; the host script sets its height)."""
    from ._embed import embed_snippet

    return embed_snippet(file, title, base_url=base_url).html


def write_index(
    records: Sequence[MapRecord],
    out_dir: str | os.PathLike,
    *,
    title: str = "Cartes du Baromètre Collectivités & Numérique",
    description: str = "",
    base_url: str = "",
) -> Path:
    """Write ``index.html`` listing the maps by theme (atomically).

    Parameters
    ----------
    records : sequence of MapRecord
        The maps produced, in the order wanted within each theme.
    out_dir : path-like
        The output folder holding the maps; ``index.html`` is written there.
    base_url : str
        Public URL of the folder, used in the iframe snippets
        (e.g. ``"https://example.org/barometre/cartes/"``); default: relative.

    Raises
    ------
    SchemaError
        A record's file is not a plain name inside ``out_dir``.

    Examples
    --------
    >>> import tempfile
    >>> out = write_index([MapRecord("site.html", "Site internet", "Services", "Régions",
    ...                              "52\u202f%")], tempfile.mkdtemp())
    >>> out.name
    'index.html'
    """
    root = Path(out_dir)
    themes: dict[str, list[dict]] = {}
    for rec in records:
        path = map_path(root, rec.file)
        if path.name != rec.file:
            raise SchemaError(
                f"write_index: record file {rec.file!r} is not a safe file name "
                f"(expected {path.name!r}). Use the name returned by map_path()."
            )
        url = (base_url.rstrip("/") + "/" if base_url else "") + quote(rec.file)
        themes.setdefault(rec.theme, []).append(
            {
                "rec": rec,
                "url": url,
                "snippet": _snippet(rec.file, rec.title, base_url),
                "id": f"snippet-{sum(map(len, themes.values())) + 1}",
            }
        )
    html = (
        _env()
        .get_template("index.html")
        .render(title=title, description=description, themes=themes, n=len(records))
    )
    csp = csp_for(html)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
    return atomic_write(root / "index.html", html.replace("<!--bgeo-csp-->", meta, 1))
