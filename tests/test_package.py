import subprocess
import sys

import barometre_geo as bg

PUBLIC = sorted(bg.__all__)


def test_public_api_is_pinned():
    assert PUBLIC == sorted(
        [
            "Catalogue",
            "Indicator",
            "LEVELS",
            "CoverageResult",
            "Structures",
            "Territories",
            "__version__",
            "coverage",
            "download_territory_source",
            "load_catalogue",
            "load_demo_structures",
            "load_territories",
            "read_structures",
            "resolve",
            "resolve_column",
            "show_versions",
            "territory_sources",
            # maps (resolved lazily: folium is imported only when a map is rendered)
            "MapDocument",
            "MapRecord",
            "categorical_map",
            "choropleth",
            "classify",
            "indicator_map",
            "static_map",
            "write_index",
            "write_indicator_gpkg",
            # survey ingest (resolved lazily)
            "IngestReport",
            "Mapping",
            "Responses",
            "default_mapping",
            "load_mapping",
            "read_responses",
            # statistics: aggregate (eager, see __init__), weighting and outputs (lazy)
            "aggregate",
            "calibration_weights",
            "compare_published",
            "rake",
            "write_aggregates",
            # comparison with similar collectivities (eager, like aggregate)
            "Comparison",
            "PeerGroups",
            "compare",
            "peer_groups",
            # spatial statistics (resolved lazily: esda is imported only when computing)
            "SpatialStats",
            "lisa_map",
            "spatial_autocorrelation",
            # the main job (eager, like aggregate: build.py imports nothing heavy)
            "BuildResult",
            "build",
            # synthetic demo edition (resolved lazily)
            "load_demo",
            "write_demo_exports",
        ]
    )


def test_statistics_names_resolve():
    from barometre_geo.indicators import tables as _aggregate_io
    from barometre_geo.indicators.aggregate import aggregate
    from barometre_geo.stats import weighting

    assert bg.aggregate is aggregate  # the function, not the submodule of the same name
    from barometre_geo.compare.fiche import compare

    assert bg.compare is compare  # idem
    assert bg.calibration_weights is weighting.calibration_weights
    assert bg.rake is weighting.rake
    assert bg.write_aggregates is _aggregate_io.write_aggregates
    assert bg.compare_published is _aggregate_io.compare_published
    from barometre_geo.stats import spatial

    for name in ("SpatialStats", "spatial_autocorrelation"):
        assert getattr(bg, name) is getattr(spatial, name)
    from barometre_geo import maps

    assert bg.lisa_map is maps.lisa_map  # drawn by the maps stage (stats never imports maps)
    assert bg.build.__module__ == "barometre_geo.build.job"  # the function, not the package
    assert bg.coverage.__module__ == "barometre_geo.coverage.measure"


def test_demo_names_resolve_lazily():
    from barometre_geo.demo import edition as demo

    for name in ("load_demo", "write_demo_exports"):
        assert getattr(bg, name) is getattr(demo, name)


def test_ingest_names_resolve_lazily():
    from barometre_geo.survey import responses

    for name in ("IngestReport", "Mapping", "Responses", "default_mapping", "load_mapping",
                 "read_responses"):  # fmt: skip
        assert getattr(bg, name) is getattr(responses, name)
        assert name in dir(responses)


def test_map_names_resolve_lazily():
    from barometre_geo import maps

    for name in ("MapDocument", "MapRecord", "categorical_map", "choropleth", "classify",
                 "indicator_map", "static_map", "write_index", "write_indicator_gpkg"):  # fmt: skip
        assert getattr(bg, name) is getattr(maps, name)
    assert bg.maps is maps


def test_import_does_no_heavy_work():
    code = (
        "import sys, barometre_geo;"
        "mods = ('geopandas', 'folium', 'matplotlib', 'esda', 'playwright');"
        "heavy = [m for m in mods if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_import_creates_no_cache(tmp_path):
    env = {"BAROMETRE_GEO_CACHE": str(tmp_path / "cache"), "PATH": ""}
    subprocess.run([sys.executable, "-c", "import barometre_geo"], env=env, check=True)
    assert not (tmp_path / "cache").exists()


def test_show_versions(capsys):
    info = bg.show_versions(as_dict=True)
    assert info["packages"]["barometre-geo"] == bg.__version__
    assert info["libraries"]["GEOS"]
    bg.show_versions()
    assert "GEOS" in capsys.readouterr().out
