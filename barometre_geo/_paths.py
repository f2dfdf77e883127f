"""Where embedded data and the user cache live.

Embedded data are found inside the installed wheel (``barometre_geo/_boundaries``,
``barometre_geo/data``) or, in a checkout, at the top-level ``boundaries/``.
The cache directory follows the documented override order:
argument > ``BAROMETRE_GEO_CACHE`` environment variable > OS cache dir.
Nothing here runs at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import SourceError

__all__ = ["CACHE_ENV", "boundaries_dir", "cache_dir", "package_data"]

CACHE_ENV = "BAROMETRE_GEO_CACHE"
_PKG = Path(__file__).resolve().parent


def boundaries_dir(cog: int = 2025) -> Path:
    """Return the folder holding the embedded reference of a COG year."""
    candidates = [
        _PKG / "_boundaries" / f"cog{cog}",  # installed wheel
        _PKG.parent / "boundaries" / f"cog{cog}",  # checkout / editable install
    ]
    for path in candidates:
        if (path / "territoires.parquet").is_file():
            return path
    raise SourceError(
        f"The embedded territorial reference for COG {cog} was not found "
        f"(looked in: {', '.join(str(c) for c in candidates)}). Only COG 2025 is embedded; "
        "for another year pass source='path/to/ADMIN-EXPRESS-COG.gpkg'. In a checkout, "
        "rebuild it with `python boundaries/build.py`."
    )


def package_data(name: str) -> Path:
    """Return the path of a data file shipped in ``barometre_geo/data``."""
    return _PKG / "data" / name


def cache_dir(path: str | os.PathLike | None = None, *, create: bool = False) -> Path:
    """Resolve the cache directory: argument > environment variable > OS default.

    Parameters
    ----------
    path : path-like, optional
        Explicit cache folder; wins over everything else.
    create : bool
        Create the folder if missing (never done at import time).
    """
    if path is not None:
        out = Path(path)
    elif os.environ.get(CACHE_ENV):
        out = Path(os.environ[CACHE_ENV])
    else:
        import platformdirs

        out = Path(platformdirs.user_cache_dir("barometre-geo", appauthor=False))
    if create:
        out.mkdir(parents=True, exist_ok=True)
    return out
