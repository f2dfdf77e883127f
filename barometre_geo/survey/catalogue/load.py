"""Reading the catalogue file: :func:`load_catalogue` (cached until the file changes)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from ..._paths import package_data
from ...errors import InputFileError
from .model import Catalogue

__all__ = ["default_path", "load_catalogue"]


def default_path() -> Path:
    """Return the path of the catalogue shipped with the package."""
    return package_data("catalogue.yaml")


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, size: int) -> Catalogue:
    from .rules import read_catalogue

    return read_catalogue(Path(path))


def load_catalogue(path: str | os.PathLike | None = None) -> Catalogue:
    """Read and validate an indicator catalogue.

    Parameters
    ----------
    path : path-like, optional
        A catalogue YAML file; default the one shipped with the package. The
        file is read on first use (never at import) and cached until it changes.

    Returns
    -------
    Catalogue

    Raises
    ------
    InputFileError
        The file is missing, not UTF-8 or not valid YAML (line and column given).
    SchemaError
        An entry breaks the catalogue rules (file, line, entry and field given).
    UnknownValueError
        A field takes a value outside its fixed list (the valid values are listed).

    Examples
    --------
    >>> import barometre_geo as bg
    >>> cat = bg.load_catalogue()
    >>> cat.get("strategie_comprehension_enjeux").order
    ('insuffisante', 'juste_suffisante', 'satisfaisante', 'tres_satisfaisante')
    >>> cat.edition.wave(3).responses
    587
    """
    p = Path(path) if path is not None else default_path()
    try:
        st = p.stat()
    except OSError as exc:
        raise InputFileError(
            f"Catalogue file not found or unreadable: {p} ({exc.strerror}). Pass the path "
            "of an existing catalogue YAML file, or no path for the packaged catalogue."
        ) from exc
    if not p.is_file():
        raise InputFileError(
            f"Catalogue path {p} is a directory. Pass the path of the YAML file itself, "
            "e.g. barometre_geo/data/catalogue.yaml."
        )
    return _load_cached(str(p.resolve()), st.st_mtime_ns, st.st_size)
