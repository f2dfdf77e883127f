"""Downloading an edition of the territorial boundaries once, into the cache, with pooch.

The network part is `pooch <https://www.fatiando.org/pooch/>`_'s
:func:`pooch.retrieve` (as geodatasets, xarray and scikit-image do): known
sha256, a temporary file in the cache folder renamed atomically once complete
and verified, an explicit timeout, then the archive processor
:class:`~barometre_geo.territories.archives.Extract`. What this module adds:

* cache folder: argument > ``BAROMETRE_GEO_CACHE`` > OS cache dir
  (:func:`barometre_geo._paths.cache_dir`), one sub-folder per edition:
  ``<cache>/territory-sources/<id>/``;
* ``record.json`` remembers the URL, the sha256 of the download, where the data
  are and their own sha256: later calls reuse the cache without any network
  access, after checking that the data still have that sha256;
* errors that say what to do (timeout, cut connection, HTTP error, offline,
  checksum mismatch), in place of the HTTP library's exceptions.

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
import json
import os
import re
from pathlib import Path

from .._paths import cache_dir as _cache_dir
from ..errors import DownloadError, OfflineError
from .archives import Extract, data_digest, extract_archive, locate_data, sha256_of
from .editions import (
    ARCHIVES,
    CATALOGUE_PATH,
    FORMATS,
    TerritorySource,
    get_source,
    load_catalogue,
    territory_sources,
)

__all__ = [
    "ALLOW_UNVERIFIED_ENV",
    "ARCHIVES",
    "CATALOGUE_PATH",
    "FORMATS",
    "TerritorySource",
    "download_territory_source",
    "edition_dir",
    "extract_archive",
    "fetch",
    "get_source",
    "load_catalogue",
    "locate_data",
    "read_record",
    "territory_sources",
]

#: Environment variable allowing unpinned downloads (``1``/``true``/``yes``).
ALLOW_UNVERIFIED_ENV = "BAROMETRE_GEO_ALLOW_UNVERIFIED"
_SUBDIR = "territory-sources"


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
        return _reuse(entry, folder, record)

    target = folder / entry.filename
    if target.is_file():  # left by an interrupted extraction, or put there by the user
        digest, size = sha256_of(target), target.stat().st_size
        origin = "file found in the cache folder"
        _check_hash(entry, digest, target, origin="the file found at")
        data = Path(Extract(entry)(str(target)))
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
        data, digest, size = _download(entry, target, timeout=timeout)
        origin = entry.url

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


def _reuse(entry: TerritorySource, folder: Path, record: dict) -> Path:
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


def _env_allows_unverified() -> bool:
    return os.environ.get(ALLOW_UNVERIFIED_ENV, "").strip().lower() in {"1", "true", "yes"}


class _Counting:
    """File wrapper counting the bytes pooch's downloader writes (for error messages)."""

    def __init__(self, fh):
        self.fh, self.size = fh, 0

    def write(self, chunk: bytes) -> int:
        self.size += len(chunk)
        return self.fh.write(chunk)

    def flush(self) -> None:
        self.fh.flush()


def _download(entry: TerritorySource, target: Path, *, timeout: float) -> tuple[Path, str, int]:
    """Download ``entry`` to ``target`` with pooch; return (data path, sha256, size)."""
    import pooch
    import requests

    http = pooch.HTTPDownloader(
        timeout=timeout, progressbar=False, headers={"User-Agent": _user_agent()}
    )
    written = {"size": 0}

    def downloader(url: str, output_file: str, pup) -> None:
        with open(output_file, "w+b") as fh:
            counting = _Counting(fh)
            try:
                http(url, counting, pup)
            except requests.exceptions.RequestException as exc:
                raise _network_error(entry, exc, counting.size, timeout, target) from exc
            finally:
                written["size"] = counting.size

    known = f"sha256:{entry.sha256}" if entry.sha256 else None
    extract = _KeepDigest(Extract(entry))
    try:
        data = pooch.retrieve(
            entry.url,
            known_hash=known,
            fname=entry.filename,
            path=target.parent,
            downloader=downloader,
            processor=extract,
            progressbar=False,
        )
    except ValueError as exc:  # pooch: the downloaded file's hash does not match
        got = re.search(r"got '?([0-9a-f]{64})", str(exc))
        raise DownloadError(
            f"sha256 mismatch for {entry.id!r} ({entry.url}, saved at {target}): expected "
            f"{entry.sha256}, got {got.group(1) if got else 'another hash'}. The file was "
            "removed. The download was corrupted or the publisher replaced the file: load "
            f"again to retry; if it persists, check {entry.homepage} and report it (the "
            "catalogue entry must be updated)."
        ) from exc
    return Path(data), extract.digest, written["size"]


class _KeepDigest:
    """Processor wrapper keeping the sha256 of the verified download before extraction."""

    def __init__(self, inner: Extract):
        self.inner, self.digest = inner, ""

    def __call__(self, fname: str, action: str, pup) -> str:
        self.digest = sha256_of(Path(fname))
        return self.inner(fname, action, pup)


def _network_error(entry, exc, size: int, timeout: float, target: Path) -> Exception:
    """Turn a ``requests`` exception into an error that says what to do."""
    import requests

    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        r = exc.response
        return DownloadError(
            f"Downloading {entry.id!r} from {entry.url} failed: HTTP {r.status_code} "
            f"{r.reason}. The file may have moved: check {entry.homepage}, download it "
            "yourself and pass source='path/to/the/file' (a .7z/.zip archive is accepted as is)."
        )
    if isinstance(exc, requests.exceptions.Timeout) or _caused_by(exc, TimeoutError):
        return DownloadError(
            f"Downloading {entry.id!r} from {entry.url} timed out (no answer for {timeout:g} s). "
            "The server is slow or the connection unstable: retry with a larger timeout, "
            "e.g. load_territories(..., timeout=600)."
        )
    incomplete = _incomplete_read(exc)
    if incomplete is not None:
        got, expected = incomplete
        return DownloadError(
            f"Download of {entry.url} stopped after {got:,} of {expected:,} bytes. "
            "The connection was cut: load again to restart the download."
        )
    if isinstance(exc, requests.exceptions.ConnectionError) and size == 0:
        return OfflineError(
            f"Cannot download {entry.id!r}: {entry.url} is unreachable ({_reason(exc)}) and "
            f"nothing is cached in {target.parent}. To fix: connect to the internet and load "
            f"again; or, on a connected machine, download {entry.url} and put the file at "
            f"{target} (it is extracted at the next load, after a sha256 check when one is "
            "pinned); or extract it yourself and pass source='path/to/the/file'. "
            "load_territories() without source works offline."
        )
    return DownloadError(
        f"Download of {entry.url} was interrupted after {size:,} bytes ({_reason(exc)}): the "
        "connection was cut. Load again to restart the download."
    )


def _causes(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        nested = [a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)]
        exc = exc.__cause__ or exc.__context__ or (nested[0] if nested else None)


def _caused_by(exc: BaseException, kind: type) -> bool:
    return any(isinstance(e, kind) for e in _causes(exc))


def _incomplete_read(exc: BaseException) -> tuple[int, int] | None:
    for e in _causes(exc):
        partial, expected = getattr(e, "partial", None), getattr(e, "expected", None)
        if isinstance(partial, int) and isinstance(expected, int):  # urllib3: read, remaining
            return partial, partial + expected
    return None


def _reason(exc: BaseException) -> str:
    last = list(_causes(exc))[-1]
    return f"{type(last).__name__}: {last}"


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


def _user_agent() -> str:
    from .._version import __version__

    return f"barometre-geo/{__version__} (+https://example.invalid/barometre-geo)"
