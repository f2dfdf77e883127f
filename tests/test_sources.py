"""Reading ADMIN EXPRESS (2.x, 3.x, 4.x, GeoPackage or shapefiles) and cartiflette sources."""

import json
import subprocess
import sys
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _ign_fixtures import (
    DEPS,
    EPT_COMMUNES,
    EPT_SIREN,
    ign_layers,
    reference_frames,
    write_cartiflette,
    write_gpkg,
    write_shapefile_delivery,
)

import barometre_geo as bg
from barometre_geo.cli import main
from barometre_geo.errors import (
    DataQualityWarning,
    InputFileError,
    SchemaError,
    SourceError,
    UnknownValueError,
)
from barometre_geo.territories import sources as _sources
from barometre_geo.territories.reference import _COLUMNS


@pytest.fixture(scope="module")
def ref(territories):
    return reference_frames(territories)


@pytest.fixture(scope="module")
def built(ref, tmp_path_factory):
    """One file per layout, written once for the module."""
    root = tmp_path_factory.mktemp("sources")
    out = {}
    for edition in ("2.x", "3.x", "4.x"):
        out[edition] = write_gpkg(ign_layers(ref, edition), root / f"ae-{edition}.gpkg")
    out["shp"] = write_shapefile_delivery(ign_layers(ref, "3.x"), root / "shp")
    out["cartiflette"] = write_cartiflette(ref, root / "communes.parquet")
    return out


@pytest.fixture(autouse=True)
def _fresh_memo():
    _sources._MEMO.clear()
    yield
    _sources._MEMO.clear()


def _complete_epci(territories):
    e = territories.epci
    return set(e.loc[e["departements"].str.split().map(lambda s: set(s) <= set(DEPS)), "code"])


@pytest.mark.parametrize("layout", ["2.x", "3.x", "4.x", "shp", "cartiflette"])
def test_source_matches_embedded_reference(built, territories, ref, layout):
    t = bg.load_territories(source=built[layout])
    com = ref["commune"]
    # counts and codes
    assert sorted(t.communes["code"]) == sorted(com["code"])
    assert set(t.epci["code"]) == set(com["epci"].dropna())
    assert sorted(t.departements["code"]) == sorted(DEPS)
    assert sorted(t.regions["code"]) == ["04", "06", "53", "84", "94"]
    # contract: exact columns, CRS, dtypes of the embedded reference
    for level in bg.LEVELS:
        gdf = t.level(level)
        assert list(gdf.columns) == _COLUMNS[level]
        assert gdf.crs.to_epsg() == 4326
        emb = territories.level(level)
        for col in _COLUMNS[level][:-1]:
            assert gdf[col].dtype == emb[col].dtype, (level, col)
        assert shapely.is_valid(gdf.geometry.to_numpy()).all()
    # communes: same values as the embedded reference, areas within 1e-6
    c = t.communes.set_index("code").sort_index()
    e = com.set_index("code").sort_index()
    for col in ("nom", "population", "epci", "departement", "region", "zone"):
        pd.testing.assert_series_equal(c[col], e[col], check_names=False)
    np.testing.assert_allclose(c["area_km2"], e["area_km2"], rtol=1e-6)
    # the two islands of Finistère have no EPCI ("NR" / "ZZZZZZZZZ" in the source)
    assert set(c.index[c["epci"].isna()]) == {"29083", "29155"}
    assert (
        "2 communes belong to no EPCI à fiscalité propre (epci is empty): 29083, 29155."
        in (t.provenance["notes"])
    )
    # départements and complete régions equal the embedded ones
    d = t.departements.set_index("code").sort_index()
    ed = territories.departements.set_index("code").loc[d.index]
    for col in ("nom", "siren", "region", "population", "n_communes", "zone"):
        pd.testing.assert_series_equal(d[col], ed[col], check_names=False)
    np.testing.assert_allclose(d["area_km2"], ed["area_km2"], rtol=1e-6)
    r = t.regions.set_index("code")
    er = territories.regions.set_index("code")
    for code in ("04", "06", "94"):
        assert r.at[code, "population"] == er.at[code, "population"]
        assert r.at[code, "area_km2"] == pytest.approx(er.at[code, "area_km2"], rel=1e-6)
        assert r.at[code, "siren"] == er.at[code, "siren"] or (
            pd.isna(r.at[code, "siren"]) and pd.isna(er.at[code, "siren"])
        )
        assert r.at[code, "zone"] == er.at[code, "zone"]
    # complete EPCI equal the embedded ones (seat, nature, names, areas)
    ep = t.epci.set_index("code")
    ee = territories.epci.set_index("code")
    full = sorted(_complete_epci(territories) & set(ep.index))
    assert len(full) > 50
    for col in (
        "nom",
        "siren",
        "nature",
        "population",
        "n_communes",
        "siege",
        "departement",
        "region",
        "departements",
        "zone",
    ):
        pd.testing.assert_series_equal(ep.loc[full, col], ee.loc[full, col], check_names=False)
    np.testing.assert_allclose(ep.loc[full, "area_km2"], ee.loc[full, "area_km2"], rtol=1e-6)
    assert ep.at["200046977", "nature"] == "MET"  # Métropole de Lyon


@pytest.mark.parametrize("layout", ["3.x", "shp", "cartiflette"])
def test_levels_nest(built, layout):
    t = bg.load_territories(source=built[layout])
    c = t.communes
    for level, key in (("epci", "epci"), ("departement", "departement"), ("region", "region")):
        parent = t.level(level).set_index("code")
        pop = c.groupby(key)["population"].sum()
        assert (parent["population"] == pop.reindex(parent.index)).all()
        area = c.groupby(key)["area_km2"].sum()
        np.testing.assert_allclose(parent["area_km2"], area.reindex(parent.index), rtol=1e-9)
        # the outline of each parent is the union of its communes
        for code in parent.index[:5]:
            union = shapely.union_all(c.loc[c[key] == code].geometry.to_numpy())
            sym = shapely.symmetric_difference(parent.geometry[code], union).area
            assert sym < 1e-7 * max(parent.geometry[code].area, 1e-9) + 1e-9, (level, code)
    dep_region = t.departements.set_index("code")["region"]
    assert (c["departement"].map(dep_region) == c["region"]).all()


def test_ept_listed_with_the_epci_is_left_out(built):
    t = bg.load_territories(source=built["3.x"])
    c = t.communes.set_index("code")
    assert (c.loc[EPT_COMMUNES, "epci"] == "200046977").all()
    assert EPT_SIREN not in set(t.epci["code"])
    assert any("not the EPCI à fiscalité propre" in n for n in t.provenance["notes"])


def test_metropole_de_lyon_absent_from_the_epci_layer(ref, territories, tmp_path):
    layers = _layers(ref, "4.x")
    layers["epci"] = layers["epci"][layers["epci"]["code_siren"] != "200046977"]
    t = bg.load_territories(source=write_gpkg(layers, tmp_path / "ae.gpkg"))
    lyon = t.epci.set_index("code").loc["200046977"]
    emb = territories.epci.set_index("code").loc["200046977"]
    assert (lyon["nom"], lyon["nature"]) == ("Métropole de Lyon", "MET")
    assert lyon["n_communes"] == emb["n_communes"]
    assert lyon["population"] == emb["population"]
    assert shapely.symmetric_difference(lyon.geometry, emb.geometry).area < 1e-9
    assert any("Métropole de Lyon (200046977)" in n for n in t.provenance["notes"])


def test_provenance_and_identifiers(built, territories):
    t = bg.load_territories(source=built["4.x"])
    assert t.provenance["reader"] == "admin-express"
    assert t.provenance["field_names"].startswith("ADMIN EXPRESS 4.x")
    assert t.provenance["repairs"] == []
    assert t.source == str(built["4.x"])
    # 4.x carries the SIREN of communes
    emb = territories.communes.set_index("code")["siren"]
    c = t.communes.set_index("code")["siren"]
    assert (c == emb.reindex(c.index)).all()
    ids = t.identifiers
    arm = ids[ids["kind"] == "arrondissement_municipal"]
    assert len(arm) == 9 and set(arm["code"]) == {"69123"}
    sirens = ids[ids["kind"] == "siren_departement"]
    assert set(sirens["code"]) == {"departement:29", "departement:69", "departement:974"}
    assert "commune:75056" not in set(ids["code"])  # only territories present
    csp = ids[ids["kind"] == "nom_collectivite_a_statut_particulier"]
    assert {"region:94", "epci:200046977"} <= set(csp["code"])
    assert "departement:67" not in set(csp["code"])
    com = ids[ids["kind"] == "collectivite_outre_mer"]  # COM codes: outside any reference
    assert "97502" in set(com["code"])


def test_shapefiles_in_local_projections(built):
    t = bg.load_territories(source=built["shp"])
    layers = t.provenance["layers"]["commune"]
    crs = {m["file"].split("/")[-2]: m["crs"] for m in layers}
    assert crs == {
        "ADECOG_3-2_SHP_LAMB93_FXX": "EPSG:2154",
        "ADECOG_3-2_SHP_RGR92UTM40S_REU": "EPSG:2975",
        "ADECOG_3-2_SHP_RGM04UTM38S_MYT": "EPSG:4471",
    }
    # a .shp file stands for its delivery folder: loading one gives the same reference
    one = next(built["shp"].rglob("COMMUNE.shp"))
    t2 = bg.load_territories(source=one)
    assert set(t2.departements["code"]) < set(DEPS)  # only that territory's folder


def test_second_load_reuses_memo_and_returns_copies(built):
    a = bg.load_territories(source=built["3.x"])
    a.communes.loc[0, "nom"] = "changed"
    b = bg.load_territories(source=str(built["3.x"]))
    assert b.communes.loc[0, "nom"] != "changed"
    assert len(_sources._MEMO) == 1
    for layout in ("2.x", "4.x", "cartiflette"):  # only the most recent sources are kept
        bg.load_territories(source=built[layout])
    assert len(_sources._MEMO) == _sources._MEMO_SIZE


def test_cartiflette_epci_names_from_embedded(built):
    t = bg.load_territories(source=built["cartiflette"])
    assert t.provenance["reader"] == "cartiflette"
    assert t.epci["nom"].notna().all()
    assert any("taken from the embedded COG 2025 reference" in n for n in t.provenance["notes"])


# ---------------------------------------------------------------------- bad input


def _layers(ref, edition="3.x"):
    return ign_layers(ref, edition)


def test_missing_path():
    with pytest.raises(InputFileError, match=r"not found\. Pass the path.*territory_sources"):
        bg.load_territories(source="/nonexistent/ADMIN-EXPRESS.gpkg")


def test_unknown_name_lists_valid_names():
    with pytest.raises(UnknownValueError, match=r"Valid names: admin-express-cog-2025.*local"):
        bg.load_territories(source="admin-express-2025")


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "communes.csv"
    path.write_text("code\n01001\n")
    with pytest.raises(InputFileError, match=r"unsupported file type '\.csv'.*GeoPackage"):
        bg.load_territories(source=path)


def test_missing_layer_names_found_layers(ref, tmp_path):
    layers = _layers(ref)
    del layers["EPCI"], layers["REGION"]
    path = write_gpkg(layers, tmp_path / "ae.gpkg")
    with pytest.raises(
        SchemaError,
        match=r"EPCI, REGION are missing.*Layers found: ARRONDISSEMENT_MUNICIPAL, COMMUNE, "
        r"DEPARTEMENT.*pass the GeoPackage or the delivery folder",
    ):
        bg.load_territories(source=path)


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SchemaError, match=r"Layers found: none.*as downloaded from IGN"):
        bg.load_territories(source=tmp_path / "empty")


def test_missing_field_names_found_fields(ref, tmp_path):
    layers = _layers(ref)
    layers["COMMUNE"] = layers["COMMUNE"].drop(columns=["INSEE_REG"])
    path = write_gpkg(layers, tmp_path / "ae.gpkg")
    with pytest.raises(
        SchemaError,
        match=r"lacks the field\(s\) region \(INSEE_REG or code_insee_de_la_region\)\. "
        r"Fields found: INSEE_COM, NOM, .*rename the fields",
    ):
        bg.load_territories(source=path)


def test_cartiflette_missing_field(ref, tmp_path):
    path = write_cartiflette(ref, tmp_path / "c.parquet")
    gdf = gpd.read_parquet(path).drop(columns=["NATURE_EPCI"])
    gdf.to_parquet(path)
    with pytest.raises(SchemaError, match=r"nature \(NATURE_EPCI\).*rename the fields"):
        bg.load_territories(source=path)


def test_not_a_parquet(tmp_path):
    path = tmp_path / "c.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(
        InputFileError, match=r"cannot be read as \(Geo\)Parquet.*download it again"
    ):
        bg.load_territories(source=path)


def test_corrupt_geopackage(tmp_path):
    path = tmp_path / "ae.gpkg"
    path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises(
        InputFileError, match=r"cannot be opened as a GeoPackage.*download it again"
    ):
        bg.load_territories(source=path)


def test_shapefile_without_prj(ref, tmp_path):
    root = write_shapefile_delivery(_layers(ref), tmp_path / "shp")
    next(root.rglob("*REU/COMMUNE.prj")).unlink()
    with pytest.raises(SourceError, match=r"COMMUNE\.shp has no coordinate.*restore the \.prj"):
        bg.load_territories(source=root)


def test_shapefile_missing_dbf(ref, tmp_path):
    root = write_shapefile_delivery(_layers(ref), tmp_path / "shp")
    next(root.rglob("*REU/EPCI.dbf")).unlink()
    with pytest.raises(
        InputFileError,
        match=r"EPCI\.shp cannot be read: its \.dbf file is missing.*must sit together",
    ):
        bg.load_territories(source=root)


def test_damaged_shapefile(ref, tmp_path):
    root = write_shapefile_delivery(_layers(ref), tmp_path / "shp")
    next(root.rglob("*REU/REGION.shp")).write_bytes(b"garbage" * 20)
    with pytest.raises(InputFileError, match=r"REGION\.shp cannot be read.*download it again"):
        bg.load_territories(source=root)


def test_cartiflette_without_geometry(ref, tmp_path):
    path = write_cartiflette(ref, tmp_path / "c.parquet")
    pd.DataFrame(gpd.read_parquet(path).drop(columns="geometry")).to_parquet(path)
    with pytest.raises(
        SchemaError,
        match=r"no 'geometry' column; fields found: ID, NOM.*"
        r"cartiflette GeoParquet of communes",
    ):
        bg.load_territories(source=path)


def test_invalid_geometry_is_repaired_and_reported(ref, tmp_path):
    layers = _layers(ref)
    com = layers["COMMUNE"]
    i = com.index[com["INSEE_COM"] == "2A004"][0]
    g = com.geometry[i]
    minx, miny, maxx, maxy = g.bounds
    # a bow-tie over the commune: invalid, make_valid gives two triangles
    bowtie = shapely.Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])
    assert not bowtie.is_valid
    com.loc[i, "geometry"] = bowtie
    path = write_gpkg(layers, tmp_path / "ae.gpkg")
    with pytest.warns(DataQualityWarning, match=r"repaired with shapely\.make_valid.*2A004"):
        t = bg.load_territories(source=path)
    assert t.provenance["repaired_geometries"] == {"commune": ["2A004"]}
    assert "2A004" in t.provenance["repairs"][0]
    fixed = t.communes.set_index("code").geometry["2A004"]
    assert fixed.is_valid and fixed.geom_type in ("Polygon", "MultiPolygon")


def test_warning_points_at_the_caller(ref, tmp_path):
    layers = _layers(ref)
    com = layers["COMMUNE"]
    i = com.index[com["INSEE_COM"] == "2A004"][0]
    minx, miny, maxx, maxy = com.geometry[i].bounds
    com.loc[i, "geometry"] = shapely.Polygon(
        [(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)]
    )
    path = write_gpkg(layers, tmp_path / "ae.gpkg")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bg.load_territories(source=path)
    assert caught and caught[0].filename == __file__


def test_point_geometry_cannot_be_repaired(ref, tmp_path):
    layers = _layers(ref)
    layers["DEPARTEMENT"].loc[0, "geometry"] = shapely.Point(9, 42)
    layers["DEPARTEMENT"] = layers["DEPARTEMENT"].set_geometry("geometry")
    path = tmp_path / "ae.gpkg"
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG", geometry_type="Unknown")
    with pytest.raises(
        SourceError, match=r"not polygons \(Point: 29\).*cannot be repaired.*polygon layers"
    ):
        bg.load_territories(source=path)


def _set(layer, code_field, code, field, value):
    def modify(layers):
        df = layers[layer]
        if field == "POPULATION":
            df[field] = df[field].astype(str)
        df.loc[df[code_field] == code, field] = value

    return modify


def _drop(layer, field, code):
    def modify(layers):
        layers[layer] = layers[layer][layers[layer][field] != code]

    return modify


def _second_fp_epci(layers):
    com, epci = layers["COMMUNE"], layers["EPCI"]
    other = epci.loc[epci["NATURE"] == "CC", "CODE_SIREN"].iloc[0]
    i = com.index[com["INSEE_COM"] == "2A004"][0]
    com.loc[i, "SIREN_EPCI"] = f"{com.loc[i, 'SIREN_EPCI']}/{other}"


def _duplicate_first_commune(layers):
    layers["COMMUNE"] = pd.concat([layers["COMMUNE"], layers["COMMUNE"].iloc[:1]])


COLLAPSED = shapely.Polygon([(9, 42), (9.1, 42.1), (9.2, 42.2), (9, 42)])
BAD_SOURCES = {
    "collapsed polygon": (
        _set("COMMUNE", "INSEE_COM", "2B002", "geometry", COLLAPSED),
        r"cannot be repaired into polygons: 2B002.*Download the file again",
    ),
    "empty geometry": (
        _set("COMMUNE", "INSEE_COM", "2B002", "geometry", None),
        r"1 commune have no geometry: 2B002.*download it again",
    ),
    "unknown EPCI nature": (
        _set("EPCI", "NATURE", "CA", "NATURE", "Syndicat mixte"),
        r"nature not recognised.*'Syndicat mixte'.*report it",
    ),
    "EPCI missing from its layer": (
        _drop("EPCI", "NATURE", "CA"),
        r"absent from the EPCI layer.*pass one complete delivery",
    ),
    "commune in two EPCI à fiscalité propre": (
        _second_fp_epci,
        r"several EPCI à fiscalité propre: 2A004=.*download it again",
    ),
    "département missing from its layer": (
        _drop("DEPARTEMENT", "INSEE_DEP", "976"),
        r"absent from the DEPARTEMENT layer: 976.*one complete delivery",
    ),
    "région missing from its layer": (
        _drop("REGION", "INSEE_REG", "06"),
        r"absent from the REGION layer: 06.*one complete delivery",
    ),
    "commune in another région than its département": (
        _set("COMMUNE", "INSEE_COM", "2A004", "INSEE_REG", "84"),
        r"région different from their département's: 2A004.*one complete delivery",
    ),
    "duplicated commune": (
        _duplicate_first_commune,
        r"COMMUNE layer has duplicated codes.*pass one delivery",
    ),
    "layer row without code": (
        _set("REGION", "INSEE_REG", "94", "INSEE_REG", None),
        r"1 rows of the REGION layer have no code.*download it again",
    ),
    "commune without région": (
        _set("COMMUNE", "INSEE_COM", "2A004", "INSEE_REG", "NR"),
        r"1 communes have no région code: 2A004.*Re-download",
    ),
    "invalid population": (
        _set("COMMUNE", "INSEE_COM", "2A004", "POPULATION", "beaucoup"),
        r"invalid populations.*2A004='beaucoup'.*whole numbers",
    ),
}


@pytest.mark.parametrize("case", list(BAD_SOURCES))
def test_inconsistent_source(ref, tmp_path, case):
    modify, message = BAD_SOURCES[case]
    layers = _layers(ref)
    modify(layers)
    path = write_gpkg(layers, tmp_path / "ae.gpkg")
    with pytest.raises(SourceError, match=message):
        bg.load_territories(source=path)


def test_out_of_scope_communes_are_left_out(ref, tmp_path):
    layers = _layers(ref)
    com = layers["COMMUNE"]
    spm = com.iloc[:1].copy()
    spm["INSEE_COM"], spm["INSEE_DEP"], spm["INSEE_REG"], spm["SIREN_EPCI"] = (
        "97502",
        "NR",
        "NR",
        "NR",
    )
    layers["COMMUNE"] = pd.concat([com, spm], ignore_index=True)
    path = write_gpkg(layers, tmp_path / "ae.gpkg")
    t = bg.load_territories(source=path)
    assert "97502" not in set(t.communes["code"])
    assert any("97502" in n and "left out" in n for n in t.provenance["notes"])


def test_cartiflette_unknown_nature(ref, tmp_path):
    path = write_cartiflette(ref, tmp_path / "c.parquet")
    gdf = gpd.read_parquet(path)
    gdf.loc[0, "NATURE_EPCI"] = "SIVU"
    gdf.to_parquet(path)
    with pytest.raises(SourceError, match=r"not recognised as an EPCI à fiscalité propre.*SIVU"):
        bg.load_territories(source=path)


def test_cartiflette_departement_in_two_regions(ref, tmp_path):
    path = write_cartiflette(ref, tmp_path / "c.parquet")
    gdf = gpd.read_parquet(path)
    gdf.loc[gdf["INSEE_COM"] == "2A004", "INSEE_REG"] = "84"
    gdf.to_parquet(path)
    with pytest.raises(SourceError, match=r"name several régions.*download it again"):
        bg.load_territories(source=path)


def test_cartiflette_without_crs(ref, tmp_path):
    path = write_cartiflette(ref, tmp_path / "c.parquet")
    gdf = gpd.read_parquet(path).set_crs(None, allow_override=True)
    gdf.to_parquet(path)
    with pytest.raises(SourceError, match=r"no CRS in its GeoParquet metadata.*Download it again"):
        bg.load_territories(source=path)


def test_edition_year_must_match_cog(ref, tmp_path):
    folder = tmp_path / "ADMIN-EXPRESS-COG_3-2__SHP_WGS84G_FRA_2024-02-22"
    folder.mkdir()
    path = write_gpkg(_layers(ref), folder / "ae.gpkg")
    with pytest.raises(SourceError, match=r"edition of 2024.*Call load_territories\(2024"):
        bg.load_territories(source=path)
    t = bg.load_territories(2024, source=path)
    assert t.cog == 2024


# ---------------------------------------------------------------------- command line


def test_cli_reads_a_source(built, capsys):
    assert main(["territories", "--source", str(built["3.x"]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["levels"]["departement"]["count"] == len(DEPS)
    assert out["source"] == str(built["3.x"])


def test_cli_bad_source_is_one_clear_line(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "barometre_geo",
            "territories",
            "--source",
            str(tmp_path / "missing.gpkg"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "barometre-geo territories : erreur :" in proc.stderr and "introuvable" in proc.stderr


def test_cli_schema_error_exit_code(ref, tmp_path, capsys):
    layers = _layers(ref)
    del layers["REGION"]
    path = write_gpkg(layers, tmp_path / "ae.gpkg")
    assert main(["territories", "--source", str(path)]) == 2
    assert "REGION are missing" in capsys.readouterr().err
