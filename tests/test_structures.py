import json
import runpy
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from _coverage_grid import grid_territories, luhn

import barometre_geo as bg
from barometre_geo.coverage.structures import DEMO_FILE, load_demo_structures, read_structures
from barometre_geo.errors import DataQualityWarning, InputFileError, SchemaError

ROOT = Path(__file__).resolve().parents[1]
EPCI2 = {f"010{k:02d}" for k in (3, 4, 7, 8, 11, 12, 15, 16)}  # eastern half of the grid


@pytest.fixture(scope="module")
def grid():
    return grid_territories()


def communes_of(s, name):
    ident = s.data.loc[s.data["nom"] == name, "id"].iloc[0]
    return set(s.members.loc[s.members["structure"] == ident, "commune"])


def issues(s, kind):
    return s.report.issues[s.report.issues["issue"] == kind]


# ------------------------------------------------------------------ real sample


def test_reads_the_real_opsn_sample_as_is(shared_data, territories):
    path = shared_data / "opsn-sample" / "operators.json"
    with pytest.warns(DataQualityWarning, match=r"3 structure\(s\) without territory.*ADICA"):
        s = read_structures(path, territories=territories)
    assert len(s) == 30
    assert set(s.report.without_territory) == {"ADICA", "ANCT", "TEST"}
    assert s.report.unknown_members.empty
    c = territories.communes
    # a département served covers all its communes
    assert communes_of(s, "Adico") == set(c.loc[c["departement"] == "60", "code"])
    deps = {"44", "49", "53", "72", "85"}
    assert communes_of(s, "e-Collectivités") == set(c.loc[c["departement"].isin(deps), "code"])
    row = s.data.set_index("nom").loc["ADM81"]
    assert row["siren"] == "378598262" and pd.isna(row["siret"])
    bad = issues(s, "malformed_siret")
    assert list(bad["nom"]) == ["ADM81"]
    assert "11 caractères" in bad["message"].iloc[0]
    assert s.data.set_index("nom").loc["Adico", "siren"] == "384452611"
    assert (s.data.set_index("nom").loc[["ADICA", "ANCT", "TEST"], "n_communes"] == 0).all()
    assert "sans territoire" not in repr(s) and "27 with a territory" in repr(s)


def test_demo_structures_are_clean_and_reproducible(territories):
    s = load_demo_structures(territories)
    assert s.report.warnings.empty
    assert len(s) >= 30
    assert (s.data["n_communes"] > 0).all()
    assert s.data["nom"].str.contains("(illustratif)", regex=False).all()
    script = runpy.run_path(str(ROOT / "tools" / "make_structures_illustratives.py"))
    shipped = (ROOT / "barometre_geo" / "data" / DEMO_FILE).read_text(encoding="utf-8")
    assert script["dumps"](script["build"](territories)) == shipped
    assert "ILLUSTRATIF" in json.loads(shipped)["metadata"]["avertissement"]
    assert (ROOT / "barometre_geo" / "data" / "structures-illustratives.md").is_file()
    vias = set(s.members["via"])
    assert vias == {"commune", "epci", "departement", "region", "polygone"}


# ------------------------------------------------------------------ territory rules


def test_member_epci_covers_its_communes(grid):
    s = read_structures([{"nom": "A", "membres": ["200000016"]}], territories=grid)
    assert communes_of(s, "A") == EPCI2
    assert set(s.members["via"]) == {"epci"}


def test_member_epci_on_the_real_reference(territories):
    s = read_structures([{"nom": "CAPA", "membres": "242010056"}], territories=territories)
    c = territories.communes
    assert communes_of(s, "CAPA") == set(c.loc[c["epci"] == "242010056", "code"])


def test_messy_members_go_through_the_resolver(territories):
    records = [
        {"nom": "Réunion", "departements": ["974"], "membres": ["Saint-Denis", "Mairie du Port"]},
        {"nom": "Sans indice", "membres": ["Saint-Denis", "242 010 056"]},
    ]
    with pytest.warns(DataQualityWarning, match=r"1 unknown member"):
        s = read_structures(records, territories=territories)
    # the département served is the hint for names, then the members narrow it
    assert communes_of(s, "Réunion") == {"97411", "97407"}
    amb = issues(s, "ambiguous_member")
    assert list(amb["nom"]) == ["Sans indice"] and "département" in amb["message"].iloc[0]
    c = territories.communes
    assert communes_of(s, "Sans indice") == set(c.loc[c["epci"] == "242010056", "code"])


def test_departement_narrowed_by_member_list(grid):
    s = read_structures(
        [{"nom": "A", "departements": ["01"], "membres": ["01001", "01002"]}], territories=grid
    )
    assert communes_of(s, "A") == {"01001", "01002"}
    info = issues(s, "narrowed")
    assert list(info["severity"]) == ["info"] and "2 commune(s)" in info["message"].iloc[0]
    # a member outside the département served does not narrow it
    s = read_structures(
        [{"nom": "B", "departements": ["01"], "membres": ["97401"]}], territories=grid
    )
    assert len(communes_of(s, "B")) == 17


def test_member_departement_region_and_siren(grid):
    records = [
        {"nom": "Dep par SIREN", "membres": ["220100010"]},
        {"nom": "Région", "regions": ["84"]},
        {"nom": "Région par nom", "regions": ["Region 84", "Atlantide"]},
        {"nom": "SIRET de commune", "membres": ["21000001400014"]},
        {"nom": "Entier", "membres": [1001]},
        {"nom": "Dep entier", "departements": [1]},
    ]
    with pytest.warns(DataQualityWarning, match="1 unknown member"):
        s = read_structures(records, territories=grid)
    assert len(communes_of(s, "Dep par SIREN")) == 16
    assert len(communes_of(s, "Région")) == 16
    assert communes_of(s, "SIRET de commune") == {"01001"}
    assert communes_of(s, "Entier") == {"01001"}
    assert len(communes_of(s, "Dep entier")) == 16
    assert list(issues(s, "unknown_region")["value"]) == ["Atlantide"]
    assert len(communes_of(s, "Région par nom")) == 16


def test_exclusions(grid):
    s = read_structures(
        [
            {"nom": "A", "membres": ["200000016"], "exclus": ["01015", "01016", "01004", "01001"]},
            {"nom": "B", "departements": ["01"], "exclus": ["200000008"]},
        ],
        territories=grid,
    )
    assert communes_of(s, "A") == {"01003", "01007", "01008", "01011", "01012"}
    assert communes_of(s, "B") == EPCI2
    out = issues(s, "excluded_outside")
    assert list(out["value"]) == ["01001"] and set(out["severity"]) == {"info"}


def test_polygon_takes_communes_with_half_their_area(grid):
    # covers commune 1 entirely, 60 % of commune 2, 40 % of commune 5
    poly = shapely.Polygon([(5.0, 46.0), (5.16, 46.0), (5.16, 46.1), (5.0, 46.14)])
    records = [
        {"nom": "P", "geometry": json.loads(shapely.to_geojson(poly))},
        {
            "nom": "Hors",
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
        },
        {"nom": "Point", "geometry": {"type": "Point", "coordinates": [5.05, 46.05]}},
    ]
    with pytest.warns(DataQualityWarning, match="2 structure"):
        s = read_structures(records, territories=grid)
    assert communes_of(s, "P") == {"01001", "01002"}
    assert set(s.members["via"]) == {"polygone"}
    assert list(issues(s, "polygon_outside")["nom"]) == ["Hors"]
    assert "longitude/latitude" in issues(s, "polygon_outside")["message"].iloc[0]
    assert list(issues(s, "not_polygon")["nom"]) == ["Point"]
    assert set(s.report.without_territory) == {"Hors", "Point"}


def test_unknown_members_reported(grid):
    with pytest.warns(DataQualityWarning, match=r"3 unknown member\(s\)"):
        s = read_structures(
            [{"nom": "A", "membres": ["01001", "99999", "Mairie de Nulle-Part", "123456789"]}],
            territories=grid,
        )
    u = s.report.unknown_members
    assert list(u["value"]) == ["99999", "Mairie de Nulle-Part", "123456789"]
    assert set(u["nom"]) == {"A"}
    assert "aucune commune ne s'appelle « Nulle-Part »" in u["message"].iloc[1]
    assert "Luhn" in u["message"].iloc[2]  # the resolver checks SIREN keys
    assert communes_of(s, "A") == {"01001"}
    assert "3 unknown member(s)" in repr(s.report)
    assert "99999" in s.report.to_text()
    d = s.report.to_dict()
    assert d["unknown_members"] == 3 and json.dumps(d)


def test_structure_without_territory_reported_by_name(grid):
    with pytest.warns(DataQualityWarning, match="Vide"):
        s = read_structures(
            [{"nom": "Vide", "departements": []}, {"nom": "B", "membres": "01001"}],
            territories=grid,
        )
    assert s.report.without_territory == ("Vide",)
    assert "ajoutez des membres" in issues(s, "no_territory")["message"].iloc[0]
    assert list(s.data["n_communes"]) == [0, 1]


def test_siren_checks_duplicates_and_missing_names(grid):
    records = [
        {"nom": "Clé fausse", "siren": "123456789", "departements": ["01"]},
        {"nom": "Double", "id": "x", "departements": ["01"]},
        {"nom": "Double bis", "id": "x", "departements": ["01"]},
        {"siren": "384452611", "departements": ["01"]},
        {"nom": "SIRET court illisible", "siret": "123", "departements": ["01"]},
    ]
    s = read_structures(records, territories=grid)
    assert list(issues(s, "invalid_siren")["nom"]) == ["Clé fausse"]
    assert list(s.data["id"]) == ["123456789", "x", "x-3", "384452611", "123"]
    assert list(issues(s, "duplicate_id")["value"]) == ["x"]
    assert list(issues(s, "missing_name")["nom"]) == ["384452611"]
    assert "SIREN non déduit" in issues(s, "malformed_siret")["message"].iloc[0]


# ------------------------------------------------------------------ layouts


def write(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_one_row_per_structure(tmp_path, grid):
    p = write(
        tmp_path / "s.csv",
        "nom,siret,type,membres,departements\n"
        "A,38445261100047,syndicat_mixte,01001;01002|200000016,\n"
        '"B, avec virgule",,agence,,974\n',
    )
    s = read_structures(p, territories=grid)
    assert communes_of(s, "A") == {"01001", "01002"} | EPCI2
    assert communes_of(s, "B, avec virgule") == {"97401", "97402", "97403"}
    assert s.data.loc[0, "type"] == "syndicat_mixte"
    assert s.data.loc[0, "where"].endswith("s.csv, line 2")


def test_csv_semicolon_delimiter_windows_1252(tmp_path, grid):
    p = write(
        tmp_path / "s.csv",
        "Nom;Membres;Régions\nSyndicat Ébène;01001|01005,01006;\nRégional;;84\n",
        encoding="cp1252",
    )
    s = read_structures(p, territories=grid)
    assert communes_of(s, "Syndicat Ébène") == {"01001", "01005", "01006"}
    assert len(communes_of(s, "Régional")) == 16


def test_csv_french_headers_from_a_spreadsheet(tmp_path, grid):
    p = write(
        tmp_path / "s.csv",
        "\ufeffNom de la structure;SIRET;Communes adhérentes\n"
        "Syndicat X;384 452 611 00047;01001, 01002 ,Commune 3\n",
    )
    s = read_structures(p, territories=grid)
    assert communes_of(s, "Syndicat X") == {"01001", "01002", "01003"}
    assert s.data.loc[0, "siret"] == "38445261100047"


def test_csv_one_row_per_member(tmp_path, grid):
    p = write(
        tmp_path / "long.csv",
        "structure,siren,type,membre\n"
        "A,384452611,syndicat,01001\n"
        "A,384452611,syndicat,200000016\n"
        "A,384452611,agence,01002\n"
        "B,,gip,97401\n",
    )
    s = read_structures(p, territories=grid)
    assert len(s) == 2
    assert communes_of(s, "A") == {"01001", "01002"} | EPCI2
    assert s.data.loc[0, "type"] == "syndicat"
    conflict = issues(s, "conflicting_value")
    assert list(conflict["value"]) == ["agence"] and "line 4" in conflict["message"].iloc[0]
    assert "(and 2 more row(s))" in s.data.loc[0, "where"]


def test_csv_wkt_polygons(tmp_path, grid):
    p = write(tmp_path / "p.csv", 'nom,wkt\nP,"POLYGON ((5 46, 5.1 46, 5.1 46.1, 5 46.1, 5 46))"\n')
    assert communes_of(read_structures(p, territories=grid), "P") == {"01001"}


def test_json_rich_layout_and_geojson(tmp_path, grid):
    doc = {
        "metadata": {"titre": "test"},
        "structures": [
            {
                "id": "a",
                "nom": "A",
                "membres": [{"code": "01001", "nom": "Commune 1"}, {"siren": luhn("21000002")}],
                "regions": [],
                "exclus": [],
            }
        ],
    }
    s = read_structures(write(tmp_path / "a.json", json.dumps(doc)), territories=grid)
    assert communes_of(s, "A") == {"01001", "01002"}
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"nom": "G", "membres": "01016"},
                "geometry": json.loads(shapely.to_geojson(shapely.box(5.0, 46.0, 5.1, 46.1))),
            }
        ],
    }
    s = read_structures(write(tmp_path / "g.geojson", json.dumps(fc)), territories=grid)
    assert communes_of(s, "G") == {"01001", "01016"}


def test_geopackage_in_another_crs(tmp_path, grid):
    gdf = gpd.GeoDataFrame(
        {"nom": ["L93"], "membres": ["97403"]},
        geometry=[shapely.box(5.2, 46.2, 5.3, 46.3)],
        crs=4326,
    ).to_crs(2154)
    gdf.to_file(tmp_path / "s.gpkg", layer="opsn")
    s = read_structures(tmp_path / "s.gpkg", territories=grid)
    assert communes_of(s, "L93") == {"01011", "97403"}
    s = read_structures(tmp_path / "s.gpkg", territories=grid, layer="opsn")
    assert len(s) == 1


def test_dataframe_input(grid):
    df = pd.DataFrame({"nom": ["A"], "membres": ["01001;01002"]})
    s = read_structures(df, territories=grid)
    assert communes_of(s, "A") == {"01001", "01002"} and s.source == "DataFrame"


def test_default_territories_and_doc_example():
    s = bg.read_structures([{"nom": "Corse-du-Sud", "departements": ["2A"]}])
    assert s.cog == 2025 and s.data.loc[0, "n_communes"] == 124


# ------------------------------------------------------------------ error paths


def test_error_missing_file(tmp_path):
    with pytest.raises(InputFileError, match=r"absent\.csv: no such file\. Check the path"):
        read_structures(tmp_path / "absent.csv")


def test_error_unknown_encoding(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes(b"nom,membres\nA\x81\x8d,01001\n")  # bytes undefined in cp1252
    with pytest.raises(
        InputFileError, match=r"neither UTF-8 nor Windows-1252.*Save the file as UTF-8"
    ):
        read_structures(p)


def test_error_unsupported_suffix(tmp_path):
    p = write(tmp_path / "s.xlsx", "x")
    with pytest.raises(InputFileError, match=r"unsupported file type '\.xlsx'\. Use \.csv"):
        read_structures(p)


def test_error_unsupported_object():
    with pytest.raises(InputFileError, match=r"Give a path .* a list of dicts"):
        read_structures(42)


def test_error_invalid_json(tmp_path):
    p = write(tmp_path / "s.json", '[{"nom": "A",\n "departements": ["01"]\n')
    with pytest.raises(
        InputFileError, match=r"s\.json, line 3, column 1: invalid JSON.*Fix the syntax"
    ):
        read_structures(p)


def test_error_json_layout(tmp_path):
    p = write(tmp_path / "s.json", '{"operateurs": []}')
    with pytest.raises(
        SchemaError, match=r"unrecognised JSON layout.*keys operateurs.*Give a list"
    ):
        read_structures(p)


def test_error_record_not_an_object(grid):
    with pytest.raises(
        InputFileError, match=r"records, record 2: expected an object.*one object per structure"
    ):
        read_structures([{"nom": "A", "membres": "01001"}, "B"], territories=grid)


def test_error_csv_without_name_column(tmp_path):
    p = write(tmp_path / "s.csv", "membres\n01001\n")
    with pytest.raises(SchemaError, match=r"no column naming the structures.*Add a 'nom' column"):
        read_structures(p)


def test_error_csv_without_territory_column(tmp_path):
    p = write(tmp_path / "s.csv", "nom,url\nA,http://a\n")
    with pytest.raises(SchemaError, match=r"no territory column.*Add at least one of 'membres'"):
        read_structures(p)


def test_csv_line_with_extra_cells_is_reported_and_left_out(tmp_path):
    p = write(tmp_path / "s.csv", "nom,membres\nA,01001,01002\nB,01001\n")
    with pytest.warns(DataQualityWarning, match=r"1 damaged line\(s\) left out"):
        s = read_structures(p)
    assert s.data["nom"].tolist() == ["B"]
    [issue] = s.report.issues[s.report.issues["issue"] == "damaged_row"].to_dict("records")
    assert issue["where"] == "s.csv, line 2" and issue["severity"] == "warning"
    assert "3 cellules au lieu de 2" in issue["message"] and "guillemets" in issue["message"]


def test_error_empty_csv(tmp_path):
    p = write(tmp_path / "s.csv", "")
    with pytest.raises(InputFileError, match=r"the file is empty\. Give a header line"):
        read_structures(p)


def test_unreadable_wkt_is_reported_without_a_raw_geos_message(tmp_path):
    p = write(tmp_path / "s.csv", "nom,wkt\nA,POLYGON((1 2\n")
    with pytest.warns(DataQualityWarning):
        s = read_structures(p)
    issues = s.report.issues.set_index("issue")
    message = issues.loc["unreadable_geometry", "message"]
    assert "géométrie illisible (s.csv, line 2)" in message and "POLYGON ((1 45" in message
    assert "Exception" not in message and "no_territory" in issues.index


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_error_geopackage_without_crs_or_layer(tmp_path):
    gdf = gpd.GeoDataFrame({"nom": ["A"]}, geometry=[shapely.box(0, 0, 1, 1)])
    gdf.to_file(tmp_path / "s.gpkg", layer="a")
    with pytest.raises(InputFileError, match=r"the polygons have no CRS\. Set it"):
        read_structures(tmp_path / "s.gpkg")
    with pytest.raises(SchemaError, match=r"no layer 'b'\. Layers in the file: a"):
        read_structures(tmp_path / "s.gpkg", layer="b")
