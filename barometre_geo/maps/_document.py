"""The rendered map page (:class:`MapDocument`): display, save, and the assets it needs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from html import escape
from pathlib import Path

from ._classify import Classification
from ._files import atomic_write, map_path, slugify

__all__ = ["MapDocument", "atomic_write", "map_path", "slugify"]


@dataclass(frozen=True, repr=False)
class MapDocument:
    """A rendered, self-describing HTML map page.

    Attributes
    ----------
    html : str
        The full page.
    title : str
    csp : str
        The Content-Security-Policy the page embeds (also usable as an HTTP
        header by the site hosting it).
    n_features : int
        Number of territories drawn.
    classification : Classification or None
        Classes of the main layer (``None`` for categorical and empty maps).
    empty : bool
        The page says there is nothing to map (no publishable value).
    assets : str
        ``"inline"`` (self-contained), ``"local"`` (Leaflet in
        ``assets/leaflet-<version>/`` beside the page, written by
        :meth:`save`) or ``"cdn"``.
    national : str
        National figure, formatted ("52,3 %"), or empty.
    """

    html: str
    title: str
    csp: str
    n_features: int
    classification: Classification | None = None
    empty: bool = False
    assets: str = "inline"
    national: str = ""

    def to_html(self) -> str:
        """Return the page."""
        return self.html

    @property
    def size(self) -> int:
        """Size of the page in bytes (UTF-8)."""
        return len(self.html.encode("utf-8"))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path`` atomically (temp file + rename). Returns the path.

        To build the path from an indicator id inside an output folder, use
        :func:`map_path`, which refuses names escaping the folder. A ``local``
        page also gets Leaflet's files in ``assets/`` beside it (written once
        per folder).
        """
        if self.assets == "local" and not self.empty:
            from ._assets import write_leaflet

            write_leaflet(Path(path).parent)
        return atomic_write(path, self.html)

    def _repr_html_(self) -> str:
        # The page runs in its own iframe (srcdoc): its scripts, ids and CSP
        # cannot clash with the notebook's. A "local" page has no folder to
        # find Leaflet in: shown by a note instead of a blank map.
        if self.assets == "local" and not self.empty:
            return (
                f"<p>{escape(self.title)} : carte en mode <code>assets='local'</code>, "
                "à enregistrer (<code>.save(chemin)</code>) puis ouvrir dans un navigateur ; "
                "<code>assets='inline'</code> l’affiche dans le notebook.</p>"
            )
        return (
            f'<iframe srcdoc="{escape(self.html, quote=True)}" title="{escape(self.title)}" '
            'width="100%" height="720" style="border:0" loading="lazy"></iframe>'
        )

    def __repr__(self) -> str:
        kind = "empty" if self.empty else f"{self.n_features:,} features"
        return f"<MapDocument {self.title!r}: {kind}, {self.size / 1e3:,.0f} kB, {self.assets}>"
