"""Safe output paths and atomic writes of the map pages, their assets and GeoPackages."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import SchemaError

__all__ = ["atomic_write", "fast_gpkg_writes", "map_path", "slugify"]


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


@contextmanager
def fast_gpkg_writes():
    """Let SQLite skip fsync on GeoPackage writes (flush the file or folder once, after).

    GDAL's configuration is process-wide: the previous value is restored on exit,
    so that a notebook calling :func:`barometre_geo.build` keeps its own setting.
    """
    import pyogrio

    key = "OGR_SQLITE_SYNCHRONOUS"
    before = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({key: before})
