"""Catalogue of downloadable editions, pinned downloads and the cache (local HTTP server)."""

import hashlib
import json
import re
import socket
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from _ign_fixtures import ign_layers, reference_frames, write_gpkg

import barometre_geo as bg
from barometre_geo.errors import DownloadError, OfflineError, SchemaError, SourceError
from barometre_geo.territories import archives as _archives
from barometre_geo.territories import download as _download
from barometre_geo.territories import editions as _editions
from barometre_geo.territories import sources as _sources

DEPS = ["974", "976"]
CATALOGUE = _download.load_catalogue()

# ---------------------------------------------------------------------- catalogue


@pytest.mark.parametrize("entry", CATALOGUE, ids=[e.id for e in CATALOGUE])
def test_every_catalogue_entry(entry):
    assert re.fullmatch(r"[a-z0-9-]+", entry.id) and str(entry.cog) in entry.id
    assert 2017 <= entry.cog <= 2030 and f"COG {entry.cog}" in entry.vintage
    assert entry.url.startswith("https://")
    assert entry.format in _download.FORMATS
    assert entry.archive in (*_download.ARCHIVES, None)
    suffix = f".{entry.archive}" if entry.archive else ".parquet"
    assert entry.filename.endswith(suffix) and "/" not in entry.filename
    assert "Licence Ouverte" in entry.licence and entry.homepage.startswith("https://")
    assert entry.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
    assert entry.size is None or entry.size > 0
    assert entry.crs == "EPSG:4326" and entry.title and entry.notes
    if entry.provider == "IGN":
        # IGN's download service: {base}/{resource}/{edition}/{edition}.7z
        assert entry.url == (
            "https://data.geopf.fr/telechargement/download/"
            f"{entry.edition.split('_')[0]}/{entry.edition}/{entry.filename}"
        )
        assert entry.filename == f"{entry.edition}.7z"
        assert entry.edition.endswith(
            f"_{entry.cog}-"
            + entry.edition.rsplit("-", 2)[1]
            + "-"
            + entry.edition.rsplit("-", 1)[1]
        )
        fmt = {"gpkg": "GPKG", "shp": "SHP"}[entry.format]
        assert f"__{fmt}_WGS84G_FRA_{entry.cog}-" in entry.edition
        assert entry.product in entry.title and entry.product_version.replace(".", "-") in (
            entry.edition
        )


def test_catalogue_ids_unique_and_listed():
    ids = [e.id for e in bg.territory_sources()]
    assert len(ids) == len(set(ids)) >= 5
    frame = bg.territory_sources(as_frame=True)
    assert list(frame.index) == ids and {"url", "sha256", "licence", "cog"} <= set(frame.columns)


def test_catalogue_rejects_bad_entries(tmp_path):
    good = CATALOGUE[0].to_dict()
    path = tmp_path / "cat.json"
    bad = dict(good, format="csv")
    path.write_text(json.dumps({"sources": [bad]}))
    with pytest.raises(SchemaError, match=r"format 'csv'; valid formats: gpkg, shp, geoparquet"):
        _download.load_catalogue(path)
    path.write_text(json.dumps({"sources": [dict(good, archive="rar")]}))
    with pytest.raises(SchemaError, match=r"archive 'rar'; valid: 7z, zip or null"):
        _download.load_catalogue(path)
    missing = {k: v for k, v in good.items() if k != "url"}
    path.write_text(json.dumps({"sources": [missing]}))
    with pytest.raises(SchemaError, match=r"missing fields \['url'\].*Each entry needs exactly"):
        _download.load_catalogue(path)
    path.write_text(json.dumps({"sources": [good, good]}))
    with pytest.raises(SchemaError, match=r"duplicated ids.*every id must be unique"):
        _download.load_catalogue(path)


@pytest.mark.network
@pytest.mark.parametrize("entry", CATALOGUE, ids=[e.id for e in CATALOGUE])
def test_catalogue_urls_answer(entry):
    import urllib.request

    req = urllib.request.Request(entry.url, method="HEAD")
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.status == 200


# ---------------------------------------------------------------------- local server


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        spec = self.server.routes.get(self.path)
        if spec is None:
            self.send_error(404, "Not Found")
            return
        body, mode = spec
        if mode == "slow-headers":
            time.sleep(2)
        self.send_response(200)
        declared = len(body) * 2 if mode == "truncated" else len(body)
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        if mode == "reset":  # half the body, then a TCP reset
            import struct

            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if mode == "stall":
            self.wfile.write(body[:100])
            self.wfile.flush()
            time.sleep(2)
        self.wfile.write(body)
        self.server.hits.append(self.path)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.routes, srv.hits = {}, []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def gpkg(territories, tmp_path_factory):
    ref = reference_frames(territories, deps=DEPS)
    return write_gpkg(ign_layers(ref, "4.x"), tmp_path_factory.mktemp("dl") / "ae.gpkg")


@pytest.fixture(scope="module")
def archives(gpkg, tmp_path_factory):
    root = tmp_path_factory.mktemp("archives")
    inner = "ADMIN-EXPRESS-COG/1_DONNEES_LIVRAISON_2025-00001/ADE-COG_4-0_GPKG_WGS84G_FRA.gpkg"
    out = {"zip": root / "ae.zip", "7z": root / "ae.7z", "parquet": None}
    with zipfile.ZipFile(out["zip"], "w", zipfile.ZIP_DEFLATED) as z:
        z.write(gpkg, inner)
    py7zr = pytest.importorskip("py7zr")
    with py7zr.SevenZipFile(out["7z"], "w") as z:
        z.write(gpkg, inner)
    return out


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def _fresh_memo():
    _sources._MEMO.clear()
    yield
    _sources._MEMO.clear()


def _catalogue(tmp_path, monkeypatch, **entries):
    """Point the catalogue at a file holding ``entries`` (id -> overrides)."""
    base = CATALOGUE[0].to_dict()
    items = []
    for name, over in entries.items():
        items.append(dict(base, id=name, title=name, size=None, **over))
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps({"sources": items}))
    monkeypatch.setattr(_editions, "CATALOGUE_PATH", path)


def _zip_source(tmp_path, monkeypatch, url, sha256, **over):
    """Catalogue with one zipped GeoPackage edition named ``test-ae``."""
    entry = dict(url=url, filename="ae.zip", archive="zip", format="gpkg", sha256=sha256)
    _catalogue(tmp_path, monkeypatch, **{"test-ae": {**entry, **over}})


def _serve(server, name, path, mode=""):
    server.routes[f"/{name}"] = (path.read_bytes(), mode)
    return f"{server.url}/{name}"


@pytest.mark.parametrize("kind", ["zip", "7z"])
def test_download_verify_extract_and_reuse_offline(server, archives, tmp_path, monkeypatch, kind):
    archive = archives[kind]
    url = _serve(server, f"ae.{kind}", archive)
    _catalogue(
        tmp_path,
        monkeypatch,
        **{
            "test-ae": dict(
                url=url, filename=f"ae.{kind}", archive=kind, format="gpkg", sha256=_sha(archive)
            )
        },
    )
    cache = tmp_path / "cache"
    t = bg.load_territories(source="test-ae", cache_dir=cache)
    assert sorted(t.departements["code"]) == DEPS
    assert t.provenance["download"]["sha256"] == _sha(archive)
    assert t.provenance["download"]["pinned"] is True
    folder = cache / "territory-sources" / "test-ae"
    record = json.loads((folder / "record.json").read_text())
    assert record["sha256"] == _sha(archive) and record["data"].endswith(".gpkg")
    assert not list(folder.glob("*.part")) and not (folder / f"ae.{kind}").exists()
    assert server.hits == [f"/ae.{kind}"]
    # the server goes away: the cache is used without any network access
    server.shutdown()
    _sources._MEMO.clear()
    again = bg.load_territories(source="test-ae", cache_dir=cache)
    assert len(again.communes) == len(t.communes)
    assert bg.download_territory_source("test-ae", cache_dir=cache) == folder / record["data"]


def test_cache_dir_from_environment(server, archives, tmp_path, monkeypatch):
    url = _serve(server, "ae.zip", archives["zip"])
    _zip_source(tmp_path, monkeypatch, url, _sha(archives["zip"]))
    monkeypatch.setenv("BAROMETRE_GEO_CACHE", str(tmp_path / "envcache"))
    path = bg.download_territory_source("test-ae")
    assert path.is_relative_to(tmp_path / "envcache" / "territory-sources" / "test-ae")


def test_bare_geoparquet_download(server, territories, tmp_path, monkeypatch):
    from _ign_fixtures import write_cartiflette

    pq = write_cartiflette(reference_frames(territories, deps=DEPS), tmp_path / "c.parquet")
    url = _serve(server, "raw.parquet", pq)
    _catalogue(
        tmp_path,
        monkeypatch,
        **{
            "test-carti": dict(
                url=url,
                filename="communes.parquet",
                archive=None,
                format="geoparquet",
                sha256=_sha(pq),
            )
        },
    )
    t = bg.load_territories(source="test-carti", cache_dir=tmp_path / "cache")
    assert t.provenance["reader"] == "cartiflette" and len(t.regions) == 2


def test_sha256_mismatch_removes_the_file(server, archives, tmp_path, monkeypatch):
    url = _serve(server, "ae.zip", archives["zip"])
    _zip_source(tmp_path, monkeypatch, url, "0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(
        DownloadError,
        match=r"sha256 mismatch.*expected 0{64}, got "
        r"[0-9a-f]{64}\. The file was removed.*load again to retry",
    ):
        bg.load_territories(source="test-ae", cache_dir=cache)
    folder = cache / "territory-sources" / "test-ae"
    assert list(folder.iterdir()) == []


def test_unpinned_needs_explicit_consent(server, archives, tmp_path, monkeypatch):
    url = _serve(server, "ae.zip", archives["zip"])
    _zip_source(tmp_path, monkeypatch, url, None)
    cache = tmp_path / "cache"
    with pytest.raises(
        DownloadError,
        match=r"No sha256 is pinned for 'test-ae'.*"
        r"allow_unverified=True\) once.*BAROMETRE_GEO_ALLOW_UNVERIFIED=1.*"
        r"pass source=",
    ):
        bg.load_territories(source="test-ae", cache_dir=cache)
    assert server.hits == []  # refused before any network access
    path = bg.download_territory_source("test-ae", cache_dir=cache, allow_unverified=True)
    folder = cache / "territory-sources" / "test-ae"
    assert path.is_relative_to(folder) and path.suffix == ".gpkg"
    record = json.loads((folder / "record.json").read_text())
    assert record["sha256"] == _sha(archives["zip"]) and record["pinned"] is False
    t = bg.load_territories(source="test-ae", cache_dir=cache)  # reused, no new download
    assert t.provenance["download"]["pinned"] is False and server.hits == ["/ae.zip"]


def test_unpinned_allowed_by_environment(server, archives, tmp_path, monkeypatch):
    url = _serve(server, "ae.zip", archives["zip"])
    _zip_source(tmp_path, monkeypatch, url, None)
    monkeypatch.setenv("BAROMETRE_GEO_ALLOW_UNVERIFIED", "1")
    t = bg.load_territories(source="test-ae", cache_dir=tmp_path / "cache")
    assert len(t.departements) == 2


def test_cached_data_changed_after_download(server, archives, tmp_path, monkeypatch):
    url = _serve(server, "ae.zip", archives["zip"])
    _zip_source(tmp_path, monkeypatch, url, _sha(archives["zip"]))
    cache = tmp_path / "cache"
    data = bg.download_territory_source("test-ae", cache_dir=cache)
    assert bg.download_territory_source("test-ae", cache_dir=cache) == data  # unchanged: reused
    with open(data, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(
        DownloadError,
        match=r"changed since they were downloaded.*Delete the "
        r"folder .* and load again",
    ):
        bg.load_territories(source="test-ae", cache_dir=cache)


def test_cached_copy_differs_from_pinned_hash(server, archives, tmp_path, monkeypatch):
    url = _serve(server, "ae.zip", archives["zip"])
    _zip_source(tmp_path, monkeypatch, url, None)
    cache = tmp_path / "cache"
    bg.download_territory_source("test-ae", cache_dir=cache, allow_unverified=True)
    _editions._load_catalogue.cache_clear()
    _zip_source(tmp_path, monkeypatch, url, "1" * 64)
    with pytest.raises(DownloadError, match=r"cached copy.*pins 1{64}\. Delete the folder"):
        bg.load_territories(source="test-ae", cache_dir=cache)


def test_timeout_waiting_for_headers(server, archives, tmp_path, monkeypatch):
    url = _serve(server, "ae.zip", archives["zip"], mode="slow-headers")
    _zip_source(tmp_path, monkeypatch, url, _sha(archives["zip"]))
    with pytest.raises(DownloadError, match=r"timed out \(no answer for 0\.3 s\).*larger timeout"):
        bg.load_territories(source="test-ae", cache_dir=tmp_path / "cache", timeout=0.3)


def test_timeout_during_body(server, archives, tmp_path, monkeypatch):
    url = _serve(server, "ae.zip", archives["zip"], mode="stall")
    _zip_source(tmp_path, monkeypatch, url, _sha(archives["zip"]))
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match=r"timed out \(no answer for 0\.3 s\).*larger timeout"):
        bg.load_territories(source="test-ae", cache_dir=cache, timeout=0.3)
    assert not list((cache / "territory-sources" / "test-ae").glob("*.part"))


def test_timeout_while_connecting(archives, tmp_path, monkeypatch):
    import requests

    def no_answer(*args, **kwargs):
        raise requests.exceptions.ConnectTimeout("timed out while connecting")

    monkeypatch.setattr(requests, "get", no_answer)
    _zip_source(tmp_path, monkeypatch, "http://192.0.2.1/ae.zip", "5" * 64)
    with pytest.raises(DownloadError, match=r"timed out \(no answer for 2 s\).*timeout=600"):
        bg.load_territories(source="test-ae", cache_dir=tmp_path / "cache", timeout=2)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("truncated", r"stopped after [\d,]+ of [\d,]+ bytes.*load again to restart"),
        ("reset", r"interrupted after [\d,]+ bytes.*Load again to restart"),
    ],
)
def test_cut_download(server, archives, tmp_path, monkeypatch, mode, message):
    url = _serve(server, "ae.zip", archives["zip"], mode=mode)
    _zip_source(tmp_path, monkeypatch, url, _sha(archives["zip"]))
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match=message):
        bg.load_territories(source="test-ae", cache_dir=cache)
    assert list((cache / "territory-sources" / "test-ae").iterdir()) == []


def test_http_error(server, tmp_path, monkeypatch):
    _zip_source(tmp_path, monkeypatch, f"{server.url}/moved.zip", "2" * 64)
    with pytest.raises(DownloadError, match=r"HTTP 404.*download it yourself and pass source="):
        bg.load_territories(source="test-ae", cache_dir=tmp_path / "cache")


def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_offline_with_nothing_cached(tmp_path, monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}/ae.zip"
    _zip_source(tmp_path, monkeypatch, url, "3" * 64)
    cache = tmp_path / "cache"
    target = cache / "territory-sources" / "test-ae" / "ae.zip"
    with pytest.raises(
        OfflineError,
        match=(
            rf"unreachable.*nothing is cached.*download {re.escape(url)} and put the file at "
            rf"{re.escape(str(target))}.*pass source='path/to/the/file'"
        ),
    ):
        bg.load_territories(source="test-ae", cache_dir=cache)


def test_file_put_in_the_cache_by_hand_is_used_offline(archives, tmp_path, monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}/ae.zip"
    _zip_source(tmp_path, monkeypatch, url, _sha(archives["zip"]))
    folder = tmp_path / "cache" / "territory-sources" / "test-ae"
    folder.mkdir(parents=True)
    (folder / "ae.zip").write_bytes(archives["zip"].read_bytes())
    t = bg.load_territories(source="test-ae", cache_dir=tmp_path / "cache")
    assert len(t.regions) == 2
    assert json.loads((folder / "record.json").read_text())["origin"].startswith("file found")


def test_file_put_by_hand_with_wrong_hash(archives, tmp_path, monkeypatch):
    _zip_source(tmp_path, monkeypatch, "http://127.0.0.1:9/ae.zip", "4" * 64)
    folder = tmp_path / "cache" / "territory-sources" / "test-ae"
    folder.mkdir(parents=True)
    (folder / "ae.zip").write_bytes(archives["zip"].read_bytes())
    with pytest.raises(DownloadError, match=r"the file found at .*ae\.zip.*was removed"):
        bg.load_territories(source="test-ae", cache_dir=tmp_path / "cache")
    assert not (folder / "ae.zip").exists()


def test_catalogue_cog_must_match(tmp_path, monkeypatch):
    _zip_source(tmp_path, monkeypatch, "http://127.0.0.1:9/ae.zip", None, cog=2025)
    with pytest.raises(
        SourceError,
        match=r"COG 2025 edition, but cog=2024.*"
        r"load_territories\(2025, source='test-ae'\)",
    ):
        bg.load_territories(2024, source="test-ae")


# ---------------------------------------------------------------------- archives


def test_local_archive_is_extracted_once(archives, tmp_path):
    cache = tmp_path / "cache"
    t = bg.load_territories(source=archives["zip"], cache_dir=cache)
    assert len(t.departements) == 2
    extracted = list((cache / "territory-sources" / "local").iterdir())
    assert len(extracted) == 1 and list(extracted[0].rglob("*.gpkg"))
    _sources._MEMO.clear()
    bg.load_territories(source=archives["zip"], cache_dir=cache)
    assert list((cache / "territory-sources" / "local").iterdir()) == extracted


def test_7z_without_py7zr(archives, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "py7zr", None)
    with pytest.raises(
        SourceError,
        match=r"needs the optional package py7zr: pip install "
        r"'barometre-geo\[ign\]'.*extract it yourself",
    ):
        bg.load_territories(source=archives["7z"], cache_dir=tmp_path / "cache")


def test_archive_escaping_its_folder(tmp_path):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../escaped.gpkg", b"x")
    with pytest.raises(SourceError, match=r"outside the extraction folder.*Download it again"):
        _archives.extract_archive(evil, tmp_path / "out")
    assert not (tmp_path / "escaped.gpkg").exists() and not (tmp_path / "out").exists()


def test_not_an_archive(tmp_path):
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"not a zip")
    with pytest.raises(SourceError, match=r"not a readable \.zip archive.*Download it again"):
        _archives.extract_archive(fake, tmp_path / "out")
    fake7 = tmp_path / "fake.7z"
    fake7.write_bytes(b"not a 7z")
    pytest.importorskip("py7zr")
    with pytest.raises(SourceError, match=r"not a readable \.7z archive.*Download it again"):
        _archives.extract_archive(fake7, tmp_path / "out7")


def test_unknown_archive_type(tmp_path):
    with pytest.raises(SourceError, match=r"unknown archive type 'rar'.*Extract it yourself"):
        _archives.extract_archive(tmp_path / "x.rar", tmp_path / "out")


def test_archive_with_two_geopackages_or_none(gpkg, tmp_path):
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.write(gpkg, "a/one.gpkg")
        z.write(gpkg, "b/two.gpkg")
    dest = _archives.extract_archive(two, tmp_path / "out")
    with pytest.raises(
        SourceError, match=r"expected one \.gpkg file.*found 2.*Extract it yourself"
    ):
        _archives.locate_data(dest, "gpkg", origin=two)
    with pytest.raises(SourceError, match=r"holds no shapefile"):
        _archives.locate_data(dest, "shp", origin=two)


@pytest.mark.parametrize(
    "name",
    [
        "barometre_geo.territories.editions",
        "barometre_geo.territories.sources",
        "barometre_geo.territories.assemble",
    ],
)
def test_doctests(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
