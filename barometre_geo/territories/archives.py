"""Archives of the official sources: safe extraction (``.zip``, ``.7z``) and the data inside.

:class:`Extract` is a `pooch <https://www.fatiando.org/pooch/>`_ processor (the
``processor=`` of :func:`pooch.retrieve`): it extracts a verified archive next
to it, finds the one data file of the expected format and removes the archive.
pooch's own ``Unzip`` is not used because it silently drops unsafe member names
(``..``, absolute paths) where a delivery holding them must be refused, and it
has no ``.7z`` support (IGN ships ADMIN EXPRESS as ``.7z``: read with py7zr).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from .editions import ARCHIVES, TerritorySource

__all__ = ["Extract", "data_digest", "extract_archive", "locate_data", "sha256_of"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Extract:
    """pooch processor: extract the archive of ``entry`` and return the data path to read."""

    entry: TerritorySource

    def __call__(self, fname: str, action: str | None = None, pooch=None) -> str:
        """Extract ``fname`` if it is an archive (then removed); return the data's path."""
        target = Path(fname)
        if self.entry.archive is None:
            return str(target)
        dest = target.parent / "extracted"
        if dest.exists():
            shutil.rmtree(dest)
        extract_archive(target, dest, kind=self.entry.archive)
        data = locate_data(dest, self.entry.format, origin=target)
        target.unlink()  # the archive is verified and extracted: keep only the data
        return str(data)


def extract_archive(archive: Path, dest: Path, *, kind: str | None = None) -> Path:
    """Extract a ``.7z`` or ``.zip`` archive into ``dest`` (``dest.part`` then rename).

    Raises
    ------
    SourceError
        Unknown archive type, a corrupt archive, a member escaping ``dest``, or
        ``py7zr`` missing for a ``.7z``.
    """
    archive = Path(archive)
    kind = kind or archive.suffix.lower().lstrip(".")
    if kind not in ARCHIVES:
        raise SourceError(
            f"{archive}: unknown archive type {kind!r}; valid: {', '.join(ARCHIVES)}. "
            "Extract it yourself and pass the path of the extracted file or folder."
        )
    part = dest.with_name(dest.name + ".part")
    if part.exists():
        shutil.rmtree(part)
    part.mkdir(parents=True)
    try:
        if kind == "zip":
            _extract_zip(archive, part)
        else:
            _extract_7z(archive, part)
    except Exception:
        shutil.rmtree(part, ignore_errors=True)
        raise
    os.replace(part, dest)
    return dest


def _safe_names(names: list[str], archive: Path) -> None:
    for name in names:
        p = Path(name)
        if p.is_absolute() or ".." in p.parts:
            raise SourceError(
                f"{archive}: member {name!r} would be written outside the extraction folder; "
                "the archive is not a genuine delivery. Download it again from the publisher."
            )


def _extract_zip(archive: Path, dest: Path) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(archive) as z:
            _safe_names(z.namelist(), archive)
            z.extractall(dest)
    except zipfile.BadZipFile as exc:
        raise SourceError(
            f"{archive} is not a readable .zip archive ({exc}). Download it again."
        ) from exc


def _extract_7z(archive: Path, dest: Path) -> None:
    try:
        import py7zr
    except ImportError as exc:
        raise SourceError(
            f"Reading the .7z archive {archive} needs the optional package py7zr: "
            "pip install 'barometre-geo[ign]' (or pip install py7zr). Or extract it "
            "yourself with 7-Zip and pass the path of the extracted .gpkg or folder."
        ) from exc
    try:
        with py7zr.SevenZipFile(archive, mode="r") as z:
            _safe_names(z.getnames(), archive)
            z.extractall(path=dest)
    except py7zr.exceptions.Bad7zFile as exc:
        raise SourceError(
            f"{archive} is not a readable .7z archive ({exc}). Download it again."
        ) from exc


def locate_data(folder: Path, fmt: str, *, origin: Path) -> Path:
    """Find the data of format ``fmt`` in an extracted archive."""
    if fmt == "shp":
        if not any(folder.rglob("*.shp")) and not any(folder.rglob("*.SHP")):
            raise SourceError(f"{origin}: the archive holds no shapefile (.shp).")
        return folder
    suffix = {"gpkg": ".gpkg", "geoparquet": ".parquet"}[fmt]
    found = sorted(p for p in folder.rglob("*") if p.suffix.lower() == suffix)
    if len(found) != 1:
        raise SourceError(
            f"{origin}: expected one {suffix} file in the archive, found {len(found)}"
            + (f" ({', '.join(p.name for p in found)})" if found else "")
            + ". Extract it yourself and pass the path of the file to read."
        )
    return found[0]


def data_digest(path: Path) -> str:
    """sha256 of a data file, or of every file below a folder (names and contents)."""
    if path.is_file():
        return sha256_of(path)
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(path)).encode() + b"\0" + sha256_of(f).encode())
    return h.hexdigest()


def sha256_of(path: Path) -> str:
    """Return the sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()
