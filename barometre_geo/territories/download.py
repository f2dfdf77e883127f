"""Downloadable editions of the territorial boundaries, and their cache.

The editions are data, not code: ``barometre_geo/data/territory_sources.json``
(the xyzservices pattern), read by a small typed loader and tested entry by
entry. A download follows the geodatasets/pyproj pattern:

* cache folder: argument > ``BAROMETRE_GEO_CACHE`` > OS cache dir
  (:func:`barometre_geo._paths.cache_dir`), one sub-folder per edition:
  ``<cache>/territory-sources/<id>/``;
* the file is written to ``<name>.part`` while its sha256 is computed, then
  renamed atomically; an explicit ``timeout`` applies to every network wait;
* a pinned sha256 that does not match removes the file and raises
  :class:`~barometre_geo.errors.DownloadError`;
* archives (IGN ships ``.7z``) are extracted next to it, then removed;
* ``record.json`` remembers the URL, the sha256 of the download, where the data
  are and their own sha256: later calls reuse the cache without any network
  access, after checking that the data still have that sha256.

Honest rule for unpinned editions: IGN publishes no checksum we could copy, and
a sha256 is only written in the catalogue once computed on the real file. An
entry whose ``sha256`` is ``null`` is downloaded only when the user allows it
explicitly (``allow_unverified=True``, or the environment variable
``BAROMETRE_GEO_ALLOW_UNVERIFIED=1`` for the command line); the hash computed
at that first download is recorded in ``record.json`` and shown in
``Territories.provenance["download"]`` so that it can be pinned in the
catalogue. A file the user puts in the edition folder by hand is their explicit
choice: it is checked against the pinned hash when there is one, and accepted
otherwise (its hash is recorded the same way).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from .._paths import cache_dir as _cache_dir
from .._paths import package_data
from ..errors import DownloadError, OfflineError, SourceError, UnknownValueError

__all__ = [
    "ALLOW_UNVERIFIED_ENV",
    "TerritorySource",
    "download_territory_source",
    "extract_archive",
    "get_source",
    "load_catalogue",
    "territory_sources",
]

Format = Literal["gpkg", "shp", "geoparquet"]
Archive = Literal["7z", "zip"]
FORMATS: tuple[str, ...] = get_args(Format)
ARCHIVES: tuple[str, ...] = get_args(Archive)

#: Environment variable allowing unpinned downloads (``1``/``true``/``yes``).
ALLOW_UNVERIFIED_ENV = "BAROMETRE_GEO_ALLOW_UNVERIFIED"
#: Catalogue file read by :func:`load_catalogue` by default.
CATALOGUE_PATH = package_data("territory_sources.json")
_SUBDIR = "territory-sources"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class TerritorySource:
    """One downloadable edition of the territorial boundaries.

    Attributes
    ----------
    id : str
        Name passed as ``load_territories(source=id)``.
    title, provider, product, product_version, edition : str
        What the file is (``edition`` is the publisher's own name for it).
    cog : int
        Year of the Code officiel géographique the edition follows.
    vintage : str
        Plain-language vintage and resolution.
    url : str
        Download address.
    filename : str
        Name of the downloaded file in the cache.
    archive : {"7z", "zip"} or None
        Archive type, ``None`` for a bare data file.
    format : {"gpkg", "shp", "geoparquet"}
        Format of the data (inside the archive if any).
    crs : str
        CRS of the data as published.
    sha256 : str or None
        Pinned checksum, ``None`` when not computed yet (see the module notes).
    size : int or None
        Size in bytes of the downloaded file, when known.
    licence, homepage, notes : str
        Licence, where to read about it, how its URL and fields were confirmed.
    """

    id: str
    title: str
    provider: str
    product: str
    product_version: str
    edition: str
    cog: int
    vintage: str
    url: str
    filename: str
    archive: str | None
    format: str
    crs: str
    sha256: str | None
    size: int | None
    licence: str
    homepage: str
    notes: str = ""

    def to_dict(self) -> dict:
        """Return the entry as a plain dict (JSON-serialisable)."""
        return asdict(self)


# ---------------------------------------------------------------------- catalogue


def load_catalogue(path: str | os.PathLike | None = None) -> tuple[TerritorySource, ...]:
    """Read and validate a catalogue of editions (default: the shipped one).

    Parameters
    ----------
    path : path-like, optional
        A JSON file with the layout of ``barometre_geo/data/territory_sources.json``.

    Returns
    -------
    tuple of TerritorySource

    Raises
    ------
    SchemaError
        An entry lacks a field or has a value outside the allowed ones.

    Examples
    --------
    >>> ids = [s.id for s in load_catalogue()]
    >>> "admin-express-cog-2025" in ids
    True
    """
    return _load_catalogue(str(path if path is not None else CATALOGUE_PATH))


@lru_cache(maxsize=8)
def _load_catalogue(path: str) -> tuple[TerritorySource, ...]:
    from ..errors import SchemaError

    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    names = {f.name for f in fields(TerritorySource)}
    required = names - {"notes"}
    out = []
    for i, item in enumerate(raw.get("sources", [])):
        where = f"{path}, entry {i} ({item.get('id', '?')})"
        missing = sorted(required - set(item))
        unknown = sorted(set(item) - names)
        if missing or unknown:
            raise SchemaError(
                f"{where}: missing fields {missing}, unknown fields {unknown}. "
                f"Each entry needs exactly: {', '.join(sorted(names))}."
            )
        if item["format"] not in FORMATS:
            raise SchemaError(
                f"{where}: format {item['format']!r}; valid formats: {', '.join(FORMATS)}."
            )
        if item["archive"] is not None and item["archive"] not in ARCHIVES:
            raise SchemaError(
                f"{where}: archive {item['archive']!r}; valid: {', '.join(ARCHIVES)} or null."
            )
        out.append(TerritorySource(**item))
    ids = [s.id for s in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise SchemaError(f"{path}: duplicated ids {dupes}; every id must be unique.")
    return tuple(out)


def territory_sources(*, as_frame: bool = False):
    """List the downloadable editions of the territorial boundaries.

    Each can be passed as ``load_territories(cog, source=id)``: it is
    downloaded once into the cache (see :func:`download_territory_source`).

    Parameters
    ----------
    as_frame : bool, default False
        Return a :class:`pandas.DataFrame` (one row per edition) instead of a
        tuple of ``TerritorySource``.

    Returns
    -------
    tuple of TerritorySource or pandas.DataFrame

    Examples
    --------
    >>> import barometre_geo as bg
    >>> [s.id for s in bg.territory_sources()][:2]
    ['admin-express-cog-2025', 'admin-express-cog-carto-2025']
    >>> bg.territory_sources(as_frame=True).loc["admin-express-cog-2025", "archive"]
    '7z'
    """
    entries = load_catalogue()
    if not as_frame:
        return entries
    import pandas as pd

    return pd.DataFrame([e.to_dict() for e in entries]).set_index("id")


def get_source(name: str, catalogue: tuple[TerritorySource, ...] | None = None) -> TerritorySource:
    """Return the edition named ``name``, listing the valid names if unknown.

    Examples
    --------
    >>> get_source("admin-express-cog-2025").format
    'gpkg'
    """
    entries = catalogue if catalogue is not None else load_catalogue()
    for entry in entries:
        if entry.id == name:
            return entry
    raise UnknownValueError(
        f"Unknown territorial source {name!r}. Valid names: "
        f"{', '.join(e.id for e in entries)}; or 'embedded'; or the path of a local "
        "ADMIN EXPRESS GeoPackage, shapefile folder, .7z/.zip archive or GeoParquet file."
    )


# ---------------------------------------------------------------------- download


def download_territory_source(
    name: str,
    *,
    cache_dir: str | os.PathLike | None = None,
    timeout: float = 60.0,
    allow_unverified: bool = False,
) -> Path:
    """Download an edition once into the cache and return the path of its data.

    Parameters
    ----------
    name : str
        Id of the edition (see :func:`territory_sources`).
    cache_dir : path-like, optional
        Cache folder; overrides ``BAROMETRE_GEO_CACHE`` and the OS default.
    timeout : float, default 60
        Seconds to wait for the server at each step (connection, each read).
    allow_unverified : bool, default False
        Accept an edition that has no pinned sha256 in the catalogue. Its hash
        is then computed and recorded in the cache; the extracted data are
        checked against their recorded hash whenever the cache is reused.

    Returns
    -------
    pathlib.Path
        The GeoPackage, shapefile folder or GeoParquet file to read
        (``load_territories(source=name)`` does this for you).

    Raises
    ------
    DownloadError
        Checksum mismatch, HTTP error, timeout, or no pinned sha256 without
        ``allow_unverified``.
    OfflineError
        The server cannot be reached and nothing is cached.
    """
    entry = get_source(name)
    return fetch(entry, cache_dir=cache_dir, timeout=timeout, allow_unverified=allow_unverified)


def edition_dir(entry: TerritorySource, cache_dir: str | os.PathLike | None = None) -> Path:
    """Folder of an edition in the cache (not created)."""
    return _cache_dir(cache_dir) / _SUBDIR / entry.id


def read_record(folder: Path) -> dict | None:
    """Return the cache record of an edition folder, or None."""
    path = folder / "record.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def fetch(
    entry: TerritorySource,
    *,
    cache_dir: str | os.PathLike | None = None,
    timeout: float = 60.0,
    allow_unverified: bool = False,
) -> Path:
    """Return the data path of ``entry``, downloading and extracting it if needed."""
    folder = edition_dir(entry, cache_dir)
    record = read_record(folder)
    if record and (folder / record["data"]).exists():
        if entry.sha256 and record.get("sha256") != entry.sha256:
            raise DownloadError(
                f"The cached copy of {entry.id!r} in {folder} has sha256 {record.get('sha256')}, "
                f"but the catalogue pins {entry.sha256}. Delete the folder {folder} and "
                "load again to download the pinned edition."
            )
        data = folder / record["data"]
        if record.get("data_sha256") != data_digest(data):
            raise DownloadError(
                f"The cached data of {entry.id!r} at {data} changed since they were downloaded "
                "and verified (their sha256 differs from the one recorded in record.json). "
                f"Delete the folder {folder} and load again to download a fresh copy."
            )
        return data

    target = folder / entry.filename
    if target.is_file():  # left by an interrupted extraction, or put there by the user
        digest, size = _sha256(target), target.stat().st_size
        origin = "file found in the cache folder"
        _check_hash(entry, digest, target, origin="the file found at")
    else:
        if entry.sha256 is None and not (allow_unverified or _env_allows_unverified()):
            raise DownloadError(
                f"No sha256 is pinned for {entry.id!r} in the catalogue, so its download "
                f"cannot be verified (IGN publishes no checksum we could pin). To accept it "
                f"anyway, call barometre_geo.download_territory_source({entry.id!r}, "
                f"allow_unverified=True) once (or set {ALLOW_UNVERIFIED_ENV}=1 for the "
                "command line): its sha256 is then recorded in the cache, and the data are "
                f"checked against it when reused. Or download {entry.url} yourself, extract "
                "it, and pass source='path/to/the/file'."
            )
        folder.mkdir(parents=True, exist_ok=True)
        digest, size = _download(entry, target, timeout=timeout)
        origin = entry.url

    data = _materialise(entry, target, folder)
    record = {
        "id": entry.id,
        "url": entry.url,
        "origin": origin,
        "filename": entry.filename,
        "sha256": digest,
        "size": size,
        "pinned": entry.sha256 is not None,
        "downloaded_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "data": str(data.relative_to(folder)),
        "data_sha256": data_digest(data),
    }
    tmp = folder / "record.json.part"
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / "record.json")
    return data


def _env_allows_unverified() -> bool:
    return os.environ.get(ALLOW_UNVERIFIED_ENV, "").strip().lower() in {"1", "true", "yes"}


def _download(entry: TerritorySource, target: Path, *, timeout: float) -> tuple[str, int]:
    import http.client
    import urllib.error
    import urllib.request

    part = target.with_name(target.name + ".part")
    request = urllib.request.Request(entry.url, headers={"User-Agent": _user_agent()})
    h = hashlib.sha256()
    size = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp, open(part, "wb") as fh:
            expected = resp.headers.get("Content-Length")
            while chunk := resp.read(_CHUNK):
                fh.write(chunk)
                h.update(chunk)
                size += len(chunk)
        if expected is not None and int(expected) != size:
            raise DownloadError(
                f"Download of {entry.url} stopped after {size:,} of {int(expected):,} bytes. "
                "The connection was cut: load again to restart the download."
            )
    except urllib.error.HTTPError as exc:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"Downloading {entry.id!r} from {entry.url} failed: HTTP {exc.code} {exc.reason}. "
            f"The file may have moved: check {entry.homepage}, download it yourself and pass "
            "source='path/to/the/file' (a .7z/.zip archive is accepted as is)."
        ) from exc
    except TimeoutError as exc:
        part.unlink(missing_ok=True)
        raise _timed_out(entry, timeout) from exc
    except urllib.error.URLError as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc.reason, TimeoutError):  # while connecting
            raise _timed_out(entry, timeout) from exc
        raise OfflineError(
            f"Cannot download {entry.id!r}: {entry.url} is unreachable ({exc.reason}) and "
            f"nothing is cached in {target.parent}. To fix: connect to the internet and load "
            f"again; or, on a connected machine, download {entry.url} and put the file at "
            f"{target} (it is extracted at the next load, after a sha256 check when one is "
            "pinned); or extract it "
            "yourself and pass source='path/to/the/file'. "
            "load_territories() without source works offline."
        ) from exc
    except (http.client.HTTPException, ConnectionError) as exc:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"Download of {entry.url} was interrupted after {size:,} bytes ({exc!r}): the "
            "connection was cut. Load again to restart the download."
        ) from exc
    except DownloadError:
        part.unlink(missing_ok=True)
        raise
    digest = h.hexdigest()
    try:
        _check_hash(entry, digest, part, origin=f"{entry.url}, saved at")
    except DownloadError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)
    return digest, size


def _timed_out(entry: TerritorySource, timeout: float) -> DownloadError:
    return DownloadError(
        f"Downloading {entry.id!r} from {entry.url} timed out (no answer for {timeout:g} s). "
        "The server is slow or the connection unstable: retry with a larger timeout, "
        "e.g. load_territories(..., timeout=600)."
    )


def _check_hash(entry: TerritorySource, digest: str, path: Path, *, origin: str) -> None:
    if entry.sha256 is None or digest == entry.sha256:
        return
    path.unlink(missing_ok=True)
    raise DownloadError(
        f"sha256 mismatch for {entry.id!r} ({origin} {path}): expected {entry.sha256}, got "
        f"{digest}. The file was removed. The download was corrupted or the publisher "
        f"replaced the file: load again to retry; if it persists, check {entry.homepage} "
        "and report it (the catalogue entry must be updated)."
    )


def _materialise(entry: TerritorySource, target: Path, folder: Path) -> Path:
    """Extract ``target`` if it is an archive; return the data path to read."""
    if entry.archive is None:
        return target
    dest = folder / "extracted"
    if dest.exists():
        shutil.rmtree(dest)
    extract_archive(target, dest, kind=entry.archive)
    data = locate_data(dest, entry.format, origin=target)
    target.unlink()  # the archive is verified and extracted: keep only the data
    return data


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
        return _sha256(path)
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(path)).encode() + b"\0" + _sha256(f).encode())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _user_agent() -> str:
    from .._version import __version__

    return f"barometre-geo/{__version__} (+https://example.invalid/barometre-geo)"
