"""Static maps (barometre_geo.maps.static_map): PNG / SVG, insets, legend, basemap fallback.

No test uses the network: basemaps are either off, served by a fake contextily
module, or served by a tile server on 127.0.0.1.
"""

from __future__ import annotations

import doctest
import importlib
import io
import threading
import warnings
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from _agg_tables import make_table
from PIL import Image

from barometre_geo.errors import DownloadError, InputFileError, SchemaError, UnknownValueError
from barometre_geo.maps import BasemapWarning, get_palette, indicator_map, static_map
from barometre_geo.maps import _static_basemap as basemaps
from barometre_geo.maps._static import _MAIN, RASTER_ABOVE
from barometre_geo.maps._static_draw import paths_of

SVG = "{http://www.w3.org/2000/svg}"
DROM = ("Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte")


@pytest.mark.parametrize(
    "name", ["_data", "_meta", "_qgis", "_gpkg", "_static", "_static_draw", "_static_basemap"]
)
def test_doctests(name):
    mod = importlib.import_module(f"barometre_geo.maps.{name}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.fixture(scope="module")
def table(territories):
    return make_table(territories, leak=True, seed=2)


def rgb(hex_color):
    return tuple(int(hex_color[i : i + 2], 16) for i in (1, 3, 5))


def main_map_colors(path):
    """Colours (and their pixel counts) inside the metropolitan map's axes."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    x, y, dx, dy = _MAIN
    box = (int(x * w), int((1 - y - dy) * h), int((x + dx) * w), int((1 - y) * h))
    arr = np.asarray(img.crop(box)).reshape(-1, 3)
    colors, counts = np.unique(arr, axis=0, return_counts=True)
    return {tuple(int(v) for v in c): int(n) for c, n in zip(colors, counts, strict=True)}


# ---------------------------------------------------------------- PNG


def test_png_has_the_html_map_classes_and_colours(table, territories, tmp_path):
    m = static_map(
        table,
        territories,
        indicator="cyber_pca",
        level="departement",
        out_dir=tmp_path,
        basemap="none",
        dpi=100,
    )
    assert m.path == tmp_path / "cyber_pca.departement.png" and m.format == "png"
    assert m.title == "Plan de continuité d’activité (PCA) — départements"
    assert m.insets == DROM and m.basemap == ""
    with Image.open(m.path) as img:
        assert img.size == (1000, 800)
        assert img.info["Title"] == m.title and img.info["Source"] == m.source
        assert img.info["Software"].startswith("barometre-geo")
    doc = indicator_map(
        table, territories, indicator="cyber_pca", level="departement", basemap="none", min_n=10
    )
    assert m.classification.bins == doc.classification.bins
    assert m.classification.counts == doc.classification.counts
    rows = table[(table["level"] == "departement") & (table["by"] == "total")]
    assert m.n_suppressed == int(rows["suppressed"].sum()) and m.n_no_data == 0
    # the metropolitan map shows the colour of every class present there, and no other
    seen = main_map_colors(m.path)
    metro = territories.departements["zone"].to_numpy() == "metropole"
    values = rows.set_index(rows["code"].astype(str)).loc[
        territories.departements["code"], ["value", "suppressed"]
    ]
    shown = values["value"].where(~values["suppressed"]).to_numpy()
    present = set(m.classification.assign(shown[metro])) - {-1}
    for i, color in enumerate(get_palette("Blues").for_k(5)):
        assert (seen.get(rgb(color), 0) > 50) == (i in present), (i, color)
    # hatching of the suppressed départements: anti-aliased #767676 lines on white
    hatch = sum(n for (r, g, b), n in seen.items() if r == g == b and 100 <= r <= 200)
    assert hatch > 500
    assert "Effectif insuffisant" not in m.source and "Fond" not in m.source


def test_commune_map_has_an_ile_de_france_inset(territories, tmp_path):
    table = make_table(
        territories,
        indicator="inclusion_cnfs",
        levels=("commune",),
        seed=3,
        only={"commune": territories.communes["code"].iloc[::7]},
    )
    m = static_map(
        table,
        territories,
        indicator="inclusion_cnfs",
        level="commune",
        path=tmp_path / "cnfs.png",
        basemap="none",
        dpi=60,
    )
    assert m.insets == (*DROM, "Île-de-France")
    assert m.n_features == len(territories.communes)
    assert m.n_no_data == len(territories.communes) - len(territories.communes["code"][::7])


def test_synthetic_flag_and_national_figure(table, territories, tmp_path):
    synthetic = table.copy()
    synthetic.attrs = {"barometre_geo": {**table.attrs["barometre_geo"], "synthetic": True}}
    m = static_map(
        synthetic,
        territories,
        indicator="cyber_pca",
        level="region",
        out_dir=tmp_path,
        basemap="none",
        dpi=50,
    )
    assert "DONNÉES SYNTHÉTIQUES" in m.source
    real = static_map(
        table,
        territories,
        indicator="cyber_pca",
        level="region",
        out_dir=tmp_path,
        name="reel",
        synthetic=False,
        basemap="none",
        dpi=50,
    )
    assert "SYNTHÉTIQUES" not in real.source and real.path.name == "reel.png"
    assert "Contours : COG 2025" in real.source and "barometre-geo" in real.source


def test_nothing_publishable_still_draws_the_map(territories, tmp_path):
    table = make_table(territories, levels=("region",), suppress=1.0, seed=4)
    m = static_map(
        table,
        territories,
        indicator="cyber_pca",
        level="region",
        out_dir=tmp_path,
        basemap="none",
        dpi=50,
    )
    assert m.classification is None and m.n_suppressed == 18
    assert m.size > 10_000


# ---------------------------------------------------------------- SVG


def test_svg_keeps_text_and_is_reproducible(table, territories, tmp_path):
    a = static_map(
        table,
        territories,
        indicator="cyber_pca",
        level="region",
        path=tmp_path / "a.svg",
        basemap="none",
    )
    b = static_map(
        table,
        territories,
        indicator="cyber_pca",
        level="region",
        path=tmp_path / "b.svg",
        basemap="none",
    )
    assert a.format == "svg" and a.path.read_bytes() == b.path.read_bytes()
    root = ET.parse(a.path).getroot()
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "Pas de réponse" in texts and "Guadeloupe" in texts
    assert a.classification.labels[0] in texts
    assert not list(root.iter(f"{SVG}image"))  # 18 régions stay vector paths
    assert root.find(f"{SVG}title").text == a.title


def test_large_svg_layers_are_embedded_as_images(territories, tmp_path):
    table = make_table(
        territories,
        indicator="inclusion_cnfs",
        levels=("commune",),
        seed=5,
        only={"commune": territories.communes["code"].iloc[::50]},
    )
    assert len(territories.communes) > RASTER_ABOVE
    m = static_map(
        table,
        territories,
        indicator="inclusion_cnfs",
        level="commune",
        out_dir=tmp_path,
        format="svg",
        basemap="none",
        dpi=40,
    )
    root = ET.parse(m.path).getroot()
    assert len(list(root.iter(f"{SVG}image"))) == 6  # métropole + 5 DROM; IDF stays vector
    assert m.size < 5_000_000


# ---------------------------------------------------------------- basemap


class FakeContextily:
    """Stands for contextily: records calls, draws a flat image or raises."""

    def __init__(self, error=None):
        self.error, self.calls = error, []

    def add_basemap(self, ax, **kw):
        self.calls.append(kw)
        if self.error and len(self.calls) >= 2:  # fail on an inset: the main tiles are removed
            raise self.error
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        ax.imshow(np.full((4, 4, 3), 200, np.uint8), extent=(x0, x1, y0, y1), zorder=0)


def test_basemap_auto_falls_back_with_a_warning(table, territories, tmp_path, monkeypatch):
    fake = FakeContextily(ConnectionError("Name or service not known"))
    monkeypatch.setattr(basemaps, "_contextily", lambda: fake)
    with pytest.warns(
        BasemapWarning,
        match=r"unreachable within 2 s.*drawn without it.*"
        r"basemap='none'",
    ) as rec:
        m = static_map(
            table,
            territories,
            indicator="cyber_pca",
            level="region",
            out_dir=tmp_path,
            timeout=2,
            dpi=50,
        )
    assert rec[0].filename == __file__  # stacklevel points at the caller
    assert m.basemap == "" and "Fond" not in m.source
    assert fake.calls[0]["crs"] == "EPSG:2154" and fake.calls[1]["crs"] == "EPSG:5490"
    assert fake.calls[0]["timeout"] == 2


def test_named_basemap_failure_raises(table, territories, tmp_path, monkeypatch):
    monkeypatch.setattr(basemaps, "_contextily", lambda: FakeContextily(OSError("offline")))
    with pytest.raises(DownloadError, match=r"could not be fetched.*basemap='none'.*'auto'"):
        static_map(
            table,
            territories,
            indicator="cyber_pca",
            level="region",
            out_dir=tmp_path,
            basemap="osm",
            dpi=50,
        )
    assert list(tmp_path.iterdir()) == []


def test_basemap_drawn_is_credited(table, territories, tmp_path, monkeypatch):
    fake = FakeContextily()
    monkeypatch.setattr(basemaps, "_contextily", lambda: fake)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = static_map(
            table, territories, indicator="cyber_pca", level="region", out_dir=tmp_path, dpi=50
        )
    assert m.basemap == "Fond : © IGN – Plan IGN" and m.source.count("Fond : © IGN") == 1
    assert [c["crs"] for c in fake.calls] == [
        "EPSG:2154",
        "EPSG:5490",
        "EPSG:5490",
        "EPSG:2972",
        "EPSG:2975",
        "EPSG:4471",
    ]
    assert fake.calls[0]["source"].name == "GeoportailFrance.plan"


class _Tiles(BaseHTTPRequestHandler):
    """A green tile for any /{z}/{x}/{y}.png; 404 under /missing/."""

    def do_GET(self):
        buf = io.BytesIO()
        Image.new("RGB", (256, 256), (170, 210, 170)).save(buf, format="PNG")
        self.send_response(404 if self.path.startswith("/missing/") else 200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(buf.getvalue())

    def log_message(self, *args):
        pass


@pytest.fixture
def tile_server(tmp_path, monkeypatch):
    import tempfile

    # contextily creates its tile cache in the temp folder when imported: keep it in tmp_path
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.mark.slow
def test_real_contextily_with_a_local_tile_server(table, territories, tmp_path, tile_server):
    import xyzservices

    port = tile_server.server_address[1]
    url = f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"
    provider = xyzservices.TileProvider(name="local", url=url, attribution="Tuiles")
    m = static_map(
        table,
        territories,
        indicator="cyber_pca",
        level="region",
        out_dir=tmp_path / "out",
        basemap=provider,
        dpi=60,
    )
    assert m.basemap == "Fond : Tuiles" and "Fond : Tuiles." in m.source
    seen = main_map_colors(m.path)
    assert seen.get((170, 210, 170), 0) > 1000  # the tiles around France
    missing = xyzservices.TileProvider(
        name="missing", url=url.replace("/{z}", "/missing/{z}"), attribution="Tuiles"
    )
    with pytest.raises(DownloadError, match=r"'missing' could not be fetched.*HTTPError"):
        static_map(
            table,
            territories,
            indicator="cyber_pca",
            level="region",
            out_dir=tmp_path / "out",
            basemap=missing,
            dpi=60,
        )


# ---------------------------------------------------------------- errors


def test_errors(table, territories, tmp_path):
    def call(**kw):
        args = {"indicator": "cyber_pca", "level": "region", "basemap": "none"}
        if "path" not in kw:
            args["out_dir"] = tmp_path
        static_map(kw.pop("data", table), kw.pop("terr", territories), **(args | kw))

    with pytest.raises(UnknownValueError, match=r"unknown format 'pdf'.*Valid formats: png, svg"):
        call(format="pdf")
    with pytest.raises(UnknownValueError, match=r"unknown format 'tif'.*Valid formats"):
        call(path=tmp_path / "a.tif")
    with pytest.raises(SchemaError, match=r"a.png does not end in \.svg.*pass format='png'"):
        call(path=tmp_path / "a.png", format="svg")
    with pytest.raises(UnknownValueError, match=r"Unknown level 'canton'.*Valid levels"):
        call(level="canton")
    with pytest.raises(UnknownValueError, match=r"not published at level 'commune'.*Valid levels"):
        call(level="commune")
    with pytest.raises(UnknownValueError, match=r"'site' has no row.*Valid indicators: cyber_pca"):
        call(indicator="site")
    with pytest.raises(UnknownValueError, match=r"Unknown basemap 'google'.*Valid basemaps: auto"):
        call(basemap="google")
    with pytest.raises(SchemaError, match=r"Unsafe map name '\.\./evil'.*plain file name"):
        call(name="../evil")
    with pytest.raises(SchemaError, match=r"Unsafe map name '/tmp/x'"):
        call(name="/tmp/x")
    with pytest.raises(SchemaError, match=r"exactly one of out_dir=.*or path="):
        call(path=tmp_path / "a.png", out_dir=tmp_path)
    with pytest.raises(InputFileError, match=r"no such folder.*mkdir -p"):
        call(path=tmp_path / "no" / "a.png")
    with pytest.raises(SchemaError, match=r"needs the Territories.*load_territories"):
        call(terr=territories.regions)
    with pytest.raises(UnknownValueError, match=r"no option 'tiktok'.*Valid options: oui"):
        call(option="tiktok")
    opts = make_table(
        territories,
        indicator="communication_reseaux_sociaux",
        levels=("region",),
        options=("facebook", "x"),
        headline=False,
    )
    rs = {"data": opts, "indicator": "communication_reseaux_sociaux"}
    with pytest.raises(SchemaError, match=r"one row per option \(facebook, x\).*Pass option="):
        call(**rs)
    assert list(tmp_path.iterdir()) == []
    fb = static_map(opts, territories, indicator="communication_reseaux_sociaux", level="region",
                    option="facebook", out_dir=tmp_path, basemap="none", dpi=40)  # fmt: skip
    assert fb.path.name == "communication_reseaux_sociaux.region.facebook.png"
    assert fb.title.startswith("Réseaux sociaux utilisés : Facebook")


def test_paths_keep_holes_and_empty_geometries():
    """Render the paths with Agg (non-zero fill rule): holes and gaps stay empty."""
    import shapely
    from matplotlib.figure import Figure

    from barometre_geo.maps._static_draw import draw_layer

    # hole given clockwise or counter-clockwise: orient_polygons normalises it
    outer = shapely.Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10)], [[(4, 4), (6, 4), (6, 6), (4, 6)]]
    )
    multi = shapely.MultiPolygon([shapely.box(12, 0, 14, 4), shapely.box(16, 0, 18, 4)])
    paths = paths_of([outer, shapely.Polygon(), multi])
    assert len(paths) == 3 and len(paths[1].vertices) == 0
    fig = Figure(figsize=(2, 1), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    draw_layer(ax, paths, np.array([0, 0, 0]), ["#000000"])
    ax.set_xlim(0, 20)
    ax.set_ylim(0, 10)
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor="white")
    img = np.asarray(Image.open(buf).convert("L"))

    def px(x, y):  # data coordinates -> grey level (0 black, 255 white)
        return int(img[int((10 - y) * 10), int(x * 10)])

    assert px(2, 2) == 0 and px(5, 5) == 255  # polygon filled, hole empty
    assert px(13, 2) == 0 and px(17, 2) == 0 and px(15, 2) == 255  # parts, not the gap
