"""The rendered map page, safe output paths and atomic writes."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from html import escape
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import SchemaError
from ._classify import Classification

__all__ = ["MapDocument", "atomic_write", "map_path", "slugify"]


def slugify(text: str, *, max_length: int = 80) -> str:
    """Return a safe file-name stem: ASCII lower case, digits, ``-``, ``_``, ``.``.

    Examples
    --------
    >>> slugify("Équipement numérique — Départements")
    'equipement-numerique-departements'
    """
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9._-]+", "-", ascii_text.lower()).strip("-._")
    return re.sub(r"-{2,}", "-", slug)[:max_length].strip("-._")


def map_path(out_dir: str | os.PathLike, name: str, *, suffix: str = ".html") -> Path:
    """Return the path of a page named ``name`` inside ``out_dir``, never outside it.

    ``name`` is a plain file name (an indicator id, a title): it is turned into
    a slug; absolute names, ``..`` and folder separators are refused.

    Raises
    ------
    SchemaError
        The name is absolute, contains ``..`` or a separator, or is empty once
        slugified.

    Examples
    --------
    >>> map_path("cartes", "site_internet.departement").name
    'site_internet.departement.html'
    """
    raw = str(name)
    if (
        PurePosixPath(raw).is_absolute()
        or PureWindowsPath(raw).is_absolute()
        or PureWindowsPath(raw).drive
        or ".." in re.split(r"[\\/]", raw)
        or "/" in raw
        or "\\" in raw
    ):
        raise SchemaError(
            f"Unsafe map name {name!r}: it must be a plain file name, without folder, '..' or "
            "absolute path, so that maps are written inside the output folder. Pass e.g. the "
            "indicator id ('site_internet')."
        )
    stem = slugify(raw.removesuffix(suffix))
    if not stem:
        raise SchemaError(
            f"Map name {name!r} has no letter or digit to build a file name from. "
            "Pass a name such as 'site_internet'."
        )
    root = Path(out_dir).resolve()
    path = (root / f"{stem}{suffix}").resolve()
    if path.parent != root:  # pragma: no cover - guarded by the checks above
        raise SchemaError(f"Map path {path} escapes the output folder {root}.")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, text: str | bytes) -> Path:
    """Write ``text`` (UTF-8, or ``bytes`` as is) to ``path`` atomically.

    The data go to a temporary file in the same folder, renamed over ``path``:
    readers never see a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    binary = isinstance(text, bytes)
    try:
        with (
            os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        ) as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600: give the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
