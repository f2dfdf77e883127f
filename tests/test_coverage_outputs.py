"""What an OPSN takes away: prospect lists (CSV, XLSX), formula-safe cells.

Hand-checked on the 4 × 4 grid of ``_coverage_grid.py``; the real OPSN sample
goes through the command line in ``test_coverage.py::test_cli_on_the_real_sample``.
"""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest
from _coverage_grid import GRID_STRUCTURES, grid_territories

from barometre_geo._xlsx import xlsx_bytes
from barometre_geo.coverage import lists as lists_module
from barometre_geo.coverage.lists import (
    DICTIONARY,
    france_list,
    list_paths,
    prospect_list,
    write_lists,
)
from barometre_geo.coverage.measure import coverage
from barometre_geo.coverage.structures import read_structures
from barometre_geo.errors import UnknownValueError

HOSTILE = '=HYPERLINK("http://example.invalid","clic")'


@pytest.fixture(scope="module")
def grid():
    return grid_territories()


@pytest.fixture(scope="module")
def result(grid):
    structures = [*GRID_STRUCTURES[:3], {**GRID_STRUCTURES[3], "nom": HOSTILE}]
    answers = pd.DataFrame(
        {
            "kind": ["commune", "commune", "commune"],
            "commune": ["01006", "01006", "01001"],
            "wave": [3, 1, 2],
        }
    )
    s = read_structures(structures, territories=grid)
    return coverage(s, grid, responses=answers, declared_column=None)


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    root = tmp_path_factory.mktemp("listes")
    return root, write_lists(result, root)


def test_prospect_list_columns_order_and_facts(result, grid):
    table = prospect_list(result, "s1")
    assert list(table.columns) == [
        "Rang", "Code INSEE", "SIREN de la commune", "Commune", "Département",
        "Nom du département", "SIREN de l'EPCI", "EPCI", "Population", "Limitrophe",
        "Distance (km)", "Dans ses départements", "A répondu au baromètre (vagues)",
        "Zone non couverte",
    ]  # fmt: skip
    # adjacent first (by population: 9 then 6), then the rest of its département by distance
    assert list(table["Code INSEE"]) == ["01009", "01006", "01015", "01016"]
    assert list(table["Limitrophe"]) == ["oui", "oui", "non", "non"]
    row = table.set_index("Code INSEE").loc["01006"]
    siren = grid.communes.set_index("code").loc["01006", "siren"]
    assert row["SIREN de la commune"] == siren and row["SIREN de l'EPCI"] == "200000008"
    assert row["A répondu au baromètre (vagues)"] == "1, 3"
    assert table.set_index("Code INSEE").loc["01009", "A répondu au baromètre (vagues)"] == "non"
    assert table["Distance (km)"].is_monotonic_increasing
    # by key too; an unknown structure names the valid keys
    assert prospect_list(result, "s1").equals(table)
    with pytest.raises(UnknownValueError, match=r"Unknown structure 'nope'.*s1, s2.*structures"):
        prospect_list(result, "nope")


def test_france_list_has_every_uncovered_commune_with_its_nearest_structure(result):
    table = france_list(result).set_index("Code INSEE")
    assert set(table.index) == {"01006", "01009", "01015", "01016", "97402", "97403"}
    assert table.loc["01009", "Structure la plus proche"] == "Agence 3 ; Syndicat 1"
    assert table.loc["97403", "Distance à la structure (km)"] == 5
    assert table.loc["97403", "Distance approchée (au km)"] == "oui"
    assert table.loc["01009", "Limitrophe de la structure"] == "oui"


def test_files_csv_and_xlsx_say_the_same(written, result):
    root, paths = written
    rel = sorted(p.relative_to(root).as_posix() for p in paths)
    expected = sorted([*list_paths("s1"), *list_paths("s2"), *list_paths("s3")])
    assert rel == sorted([*expected, *list_paths("s4"), *list_paths(None), DICTIONARY])
    assert list_paths(None) == (
        "couverture/communes-non-couvertes.csv",
        "couverture/communes-non-couvertes.xlsx",
    )
    csv = pd.read_csv(root / "couverture/prospects/s1.csv", dtype=str)
    ws = openpyxl.load_workbook(root / "couverture/prospects/s1.xlsx").active
    rows = list(ws.values)
    assert list(rows[0]) == list(csv.columns)
    assert [r[1] for r in rows[1:]] == list(csv["Code INSEE"])  # codes stay text: "01009"
    assert rows[1][8] == 900 and isinstance(rows[1][8], int)  # population is a number
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:N5"
    assert ws["A1"].font.b


def test_formula_like_text_is_neutralised_in_csv_and_xlsx(written):
    root, _ = written
    csv = pd.read_csv(root / "couverture/communes-non-couvertes.csv", dtype=str)
    names = set(csv["Structure la plus proche"])
    assert "'" + HOSTILE in names and HOSTILE not in names
    ws = openpyxl.load_workbook(root / "couverture/communes-non-couvertes.xlsx").active
    cells = [c.value for row in ws.iter_rows() for c in row]
    assert "'" + HOSTILE in cells
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)


def test_the_formula_check_fails_without_the_rule(result, tmp_path, monkeypatch):
    """Switch the guard off: the hostile cell reaches the file (the test above can fail)."""
    import barometre_geo._tables as tables_module

    monkeypatch.setattr(lists_module, "safe_table", lambda frame: frame)
    monkeypatch.setattr(tables_module, "safe_table", lambda frame: frame)
    write_lists(result, tmp_path)
    csv = pd.read_csv(tmp_path / "couverture/communes-non-couvertes.csv", dtype=str)
    assert HOSTILE in set(csv["Structure la plus proche"])


def test_dictionary_explains_every_column_and_the_zone_ids(written, result):
    root, _ = written
    text = (root / DICTIONARY).read_text(encoding="utf-8")
    for header in [*prospect_list(result, "s1").columns, *france_list(result).columns]:
        assert f"| {header} |" in text, header
    assert "Z14-01" in text and "Identifiant « Z<département>-<rang> »" in text
    assert "couverture.html?structure=<clé>" in text


def test_lists_without_responses_have_no_answer_column(grid):
    r = coverage(read_structures(GRID_STRUCTURES, territories=grid), grid)
    assert "A répondu au baromètre (vagues)" not in prospect_list(r, "s1").columns
    assert "A répondu au baromètre (vagues)" not in france_list(r).columns


def test_xlsx_writer_cells():
    data = xlsx_bytes(
        ["texte", "nombre", "vide"],
        [["-1", -1, None], ["a\x00b\x07c", 2.5, float("nan")], [True, pd.NA, ""]],
        sheet="Feuille",
    )
    ws = openpyxl.load_workbook(io.BytesIO(data))["Feuille"]
    assert [list(r) for r in ws.values] == [
        ["texte", "nombre", "vide"],
        ["-1", -1, None],
        ["abc", 2.5, None],  # characters XML cannot hold are dropped
        ["oui", None, None],
    ]
    assert ws.freeze_panes is None  # no header option: a plain sheet


# ------------------------------------------------------------- styled GeoPackage


@pytest.fixture(scope="module")
def gpkg(result, tmp_path_factory):
    return result.to_gpkg(tmp_path_factory.mktemp("gpkg") / "couverture.gpkg")


def _styles(path) -> pd.DataFrame:
    import sqlite3

    with sqlite3.connect(path) as db:
        return pd.read_sql("SELECT * FROM layer_styles", db)


def test_geopackage_is_styled_like_the_web_map(result, gpkg):
    import xml.etree.ElementTree as ET

    from barometre_geo.coverage.colors import SEVERAL_COLOR, categories
    from barometre_geo.maps._qgis import qgis_color

    styles = _styles(gpkg).set_index("f_table_name")
    assert set(styles.index) == {
        "communes", "communes_974", "taux_epci", "taux_epci_974", "taux_departement",
        "taux_departement_974", "taux_region", "taux_region_974", "zones_non_couvertes",
        "zones_non_couvertes_974", "chevauchements",
    }  # fmt: skip
    assert (styles["f_geometry_column"] == "geom").all() and styles["useAsDefault"].all()
    root = ET.fromstring(styles.loc["communes", "styleQML"].split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "categorie"
    cats = [(c.get("value"), c.get("symbol")) for c in renderer.find("categories")]
    expected = categories(result)
    assert [v for v, _ in cats] == [label for label, _ in expected]
    symbols = {s.get("name"): s for s in renderer.find("symbols")}
    for (value, sym), (_, color) in zip(cats, expected, strict=True):
        fill = symbols[sym].find("layer[@class='SimpleFill']/prop[@k='color']").get("v")
        hatched = symbols[sym].find("layer[@class='LinePatternFill']") is not None
        assert hatched == (color is None), value  # only « Non couverte » is hatched
        assert color is None or fill == qgis_color(color)
    assert dict(expected)["Plusieurs structures"] == SEVERAL_COLOR
    # French aliases in the attribute table
    aliases = {a.get("field"): a.get("name") for a in root.find("aliases")}
    assert aliases["siren"] == "SIREN" and aliases["uncovered_zone"] == "Zone non couverte"
    zones = ET.fromstring(styles.loc["zones_non_couvertes", "styleQML"].split("\n", 1)[1])
    assert zones.find("renderer-v2").get("type") == "singleSymbol"


def test_geopackage_metadata_like_the_indicator_geopackages(gpkg):
    import pyogrio

    layers = dict(pyogrio.list_layers(gpkg))
    assert layers["layer_styles"] is None and layers["structures_voisines"] is None
    info = pyogrio.read_info(gpkg, layer="communes")
    assert info["geometry_name"] == "geom" and info["geometry_type"] == "MultiPolygon"
    meta = pyogrio.read_dataframe(gpkg, layer="metadonnees").set_index("cle")["valeur"]
    assert meta["zones"].startswith("Identifiant « Z<département>-<rang> »")
    assert meta["source_structures"] == "records"  # read from a list; a file: its name only
    assert meta["colonne:nearest_km"].startswith("Distance à la structure (km) — ")
    assert meta["couche:communes_974"].startswith("EPSG:2975 ; 3 entité(s)")
    assert "barometre_geo_version" in meta and meta["reponses"] == "exports de l'enquête"


QGIS_CATEGORIES = r"""
out["categories"] = [[c.value(), c.symbol().color().name(),
                      [s.layerType() for s in c.symbol().symbolLayers()]] for c in r.categories()]
out["alias"] = lyr.attributeAlias(lyr.fields().indexOf("siren"))
"""


@pytest.mark.slow
def test_qgis_opens_couverture_gpkg_styled(result, gpkg, tmp_path):
    """Debian's QGIS (python3-qgis) applies the default style: categories, hatch, aliases."""
    from _qgis import run_qgis, system_qgis

    from barometre_geo.coverage.colors import categories

    exe = system_qgis()
    if exe is None:
        pytest.skip("QGIS Python bindings not installed (apt-get install python3-qgis)")
    got = run_qgis(exe, QGIS_CATEGORIES, gpkg, "communes", tmp_path)
    assert got["valid"] and got["renderer"] == "categorizedSymbol" and got["alias"] == "SIREN"
    expected = categories(result)
    assert [c[0] for c in got["categories"]] == [label for label, _ in expected]
    assert [c[1] for c in got["categories"][:-1]] == [color for _, color in expected[:-1]]
    assert got["categories"][-1][2] == ["SimpleFill", "LinePatternFill"]  # hatched
    # every commune falls in the category of its « categorie » column
    com = result.communes[result.communes["zone"] == "metropole"]
    index = {label: str(i) for i, (label, _) in enumerate(expected)}
    assert got["keys"] == com["categorie"].map(index).value_counts().to_dict()
