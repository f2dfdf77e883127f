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
from barometre_geo.coverage.lists import france_list, list_paths, prospect_list, write_lists
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
    assert rel == sorted([*expected, *list_paths("s4"), *list_paths(None)])
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
    monkeypatch.setattr(lists_module, "neutralise_formulas", lambda frame: frame)
    write_lists(result, tmp_path)
    csv = pd.read_csv(tmp_path / "couverture/communes-non-couvertes.csv", dtype=str)
    assert HOSTILE in set(csv["Structure la plus proche"])


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
