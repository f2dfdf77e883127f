"""Reading raw exports: encodings, delimiters, multi-line cells, Excel, errors."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest

from barometre_geo.errors import InputFileError
from barometre_geo.survey.read import read_table

HEADER = ["Nom de la collectivité", "Disposez-vous d’un site internet ?", "Commentaire"]


def _write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_semicolon_cp1252_with_multiline_cells_gives_exact_lines(tmp_path):
    text = (
        "Nom de la collectivité;Disposez-vous d’un site internet ?;Commentaire\r\n"
        'Mairie de Pau;Oui;"Sur deux\r\nlignes"\r\n'
        "\r\n"
        'Lescar;Non;"trois\nlignes\nici"\r\n'
        "Billère;Oui;fin\r\n"
    )
    t = read_table(_write(tmp_path / "v1.csv", text, "cp1252"))
    assert t.encoding == "cp1252"
    assert t.delimiter == ";"
    assert t.headers == HEADER
    assert t.cells[0].tolist() == ["Mairie de Pau", "Lescar", "Billère"]
    assert t.cells[1].tolist()[0] == "Oui"
    assert t.lines.tolist() == [2, 5, 8]
    assert t.blank_rows == 1
    # cross-check with the csv module's own line counter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    starts, prev = [], 0
    for rec in reader:
        if any(rec):
            starts.append(prev + 1)
        prev = reader.line_num
    assert starts[1:] == t.lines.tolist()


def test_comma_utf8_bom_with_quoted_commas(tmp_path):
    text = (
        '\ufeffNom,"Votre collectivité a-t-elle, depuis deux ans, formé ses agents ?",Part\n'
        'Pau,"Oui, partiellement","8,2 %"\n'
        "Lescar,Non,8.2%\n"
    )
    t = read_table(_write(tmp_path / "v.csv", text))
    assert (t.encoding, t.delimiter) == ("utf-8-sig", ",")
    assert t.headers[0] == "Nom"  # no BOM left in the first header
    assert t.cells[1].tolist() == ["Oui, partiellement", "Non"]
    assert t.cells[2].tolist() == ["8,2 %", "8.2%"]


def test_semicolon_file_with_commas_in_headers_is_not_read_as_comma(tmp_path):
    text = (
        "Nom;Question, avec virgule ?;Autre, encore, une\nPau;Oui, partiellement;x\nLescar;Non;y\n"
    )
    t = read_table(_write(tmp_path / "v.csv", text))
    assert t.delimiter == ";"
    assert t.headers == ["Nom", "Question, avec virgule ?", "Autre, encore, une"]


def test_tab_utf16_excel_unicode_text(tmp_path):
    text = "Nom\tSite ?\nPau\tOui\n"
    path = tmp_path / "v.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    t = read_table(path)
    assert (t.encoding, t.delimiter) == ("utf-16", "\t")
    assert t.cells.values.tolist() == [["Pau", "Oui"]]


def test_na_texts_stay_text_and_short_rows_are_padded(tmp_path):
    t = read_table(_write(tmp_path / "v.csv", "a;b;c\nN/A;NA;\nx;y\n"))
    assert t.cells.values.tolist() == [["N/A", "NA", ""], ["x", "y", ""]]
    assert t.notes == (
        "1 ligne plus courte que l’en-tête, complétée par des cellules vides (ligne 3).",
    )


def test_trailing_empty_cells_beyond_header_are_tolerated(tmp_path):
    t = read_table(_write(tmp_path / "v.csv", "a;b\n1;2\n3;4;;\n5;6\n"))
    assert t.cells.values.tolist() == [["1", "2"], ["3", "4"], ["5", "6"]]
    assert t.lines.tolist() == [2, 3, 4]


def test_xlsx_numbers_percentages_dates_and_blank_rows(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Réponses"
    ws.append([None])
    ws.append(["Nom", "Part", "Date", "Code INSEE", "Coché"])
    ws.append(["Pau", 0.082, dt.datetime(2025, 2, 28, 14, 3), 1001, True])
    ws["B3"].number_format = "0.0%"
    ws.append([])
    ws.append(["Lescar", 12.5, None, "01001", None])
    path = tmp_path / "v.xlsx"
    wb.save(path)
    t = read_table(path)
    assert t.sheet == "Réponses" and t.encoding is None
    assert t.headers == ["Nom", "Part", "Date", "Code INSEE", "Coché"]
    assert t.cells.values.tolist() == [
        ["Pau", "8.2 %", "2025-02-28 14:03:00", "1001", "Oui"],
        ["Lescar", "12.5", "", "01001", ""],
    ]
    assert t.lines.tolist() == [3, 5]
    assert t.blank_rows == 1


def test_xlsx_sheet_by_name_and_missing_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["notes"])
    ws = wb.create_sheet("Vague 2")
    ws.append(["Nom", "Q"])
    ws.append(["Pau", "Oui"])
    path = tmp_path / "v.xlsx"
    wb.save(path)
    assert read_table(path, sheet="Vague 2").cells.values.tolist() == [["Pau", "Oui"]]
    assert read_table(path, sheet=1).sheet == "Vague 2"
    with pytest.raises(InputFileError, match=r"no sheet 'Vague 3'.*Sheet, Vague 2.*Set 'sheet:'"):
        read_table(path, sheet="Vague 3")


def test_xlsx_empty_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    path = tmp_path / "empty.xlsx"
    wb.save(path)
    with pytest.raises(InputFileError, match=r"empty\.xlsx: sheet 'Sheet' is empty.*'sheet:'"):
        read_table(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match=r"nope\.csv: file not found\. Check the path"):
        read_table(tmp_path / "nope.csv")


def test_folder_instead_of_a_file(tmp_path):
    with pytest.raises(InputFileError, match=r"is a folder, not an export file\. Pass the files"):
        read_table(tmp_path)


def test_empty_file(tmp_path):
    with pytest.raises(
        InputFileError, match=r"empty\.csv: the file is empty\. Export the responses"
    ):
        read_table(_write(tmp_path / "empty.csv", "  \n"))


def test_old_excel_format_is_refused_with_a_fix(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0junk")
    with pytest.raises(
        InputFileError, match=r"old\.xls: the \.xls format.*save it as 'Excel workbook"
    ):
        read_table(path)


def test_corrupt_xlsx(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputFileError, match=r"broken\.xlsx: not a readable \.xlsx.*save it again"):
        read_table(path)


def test_undecodable_file_names_the_line_and_the_fix(tmp_path):
    path = tmp_path / "weird.csv"
    # 0x81 is undefined in cp1252 and invalid in UTF-8
    path.write_bytes(b"Nom;Q\nPau;Oui\nL\x81scar;Non\n")
    with pytest.raises(
        InputFileError,
        match=r"weird\.csv: cannot decode.*not utf-8 \(byte 0x81 on line 3\).*not cp1252.*"
        r"Re-save it as 'CSV UTF-8'.*encoding: latin-1",
    ):
        read_table(path)


def test_forced_encoding_and_unknown_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("Nom;Q\nL\x81scar;Non\n".encode("latin-1"))
    assert read_table(path, encoding="latin-1").cells[0].tolist() == ["L\x81scar"]
    with pytest.raises(InputFileError, match=r"unknown encoding 'klingon'.*Use 'utf-8', 'cp1252'"):
        read_table(path, encoding="klingon")


def test_utf16_without_bom_is_refused(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("Nom;Q\nPau;Oui\n".encode("utf-16-le"))
    with pytest.raises(InputFileError, match=r"u16\.csv: the file contains NUL bytes.*'CSV UTF-8'"):
        read_table(path)


def test_row_with_extra_cells_is_rejected_alone_with_its_line(tmp_path):
    path = _write(tmp_path / "ragged.csv", 'a;b\n1;"x\ny"\n3;4;5\n6;7\n')
    t = read_table(path)
    assert t.cells.values.tolist() == [["1", "x\ny"], ["6", "7"]]
    assert t.lines.tolist() == [2, 5]
    [d] = t.damaged
    assert (d.line, d.reason) == (4, "damaged")
    assert "3 cellules au lieu de 2" in d.detail and "entre guillemets" in d.detail


def test_unclosed_quote_rejects_its_line_and_reads_the_next_ones(tmp_path):
    path = _write(tmp_path / "quote.csv", 'a;b\n1;2\n3;"4\n5;6\n')
    t = read_table(path)
    assert t.cells.values.tolist() == [["1", "2"], ["5", "6"]]
    assert t.lines.tolist() == [2, 4]
    [d] = t.damaged
    assert (d.line, d.reason) == (3, "damaged")
    assert "guillemet ouvert dans la colonne 2 « b »" in d.detail and "Corrigez" in d.detail


def test_lone_quote_inside_an_unquoted_cell_is_kept(tmp_path):
    t = read_table(_write(tmp_path / "inch.csv", 'a;b\n1;écran 24"\n3;4\n'))
    assert t.cells[1].tolist() == ['écran 24"', "4"]


def test_duplicate_and_empty_headers_are_kept_by_position(tmp_path):
    t = read_table(_write(tmp_path / "dup.csv", "Q;Q;\n1;2;3\n"))
    assert t.headers == ["Q", "Q", "(colonne 3 sans titre)"]
    assert isinstance(t.cells, pd.DataFrame) and t.cells.shape == (1, 3)
    assert np.asarray(t.lines).tolist() == [2]


def test_bom_only_file_has_no_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + b"\n")
    with pytest.raises(
        InputFileError, match=r"bom\.csv: no header line found\. Export the responses"
    ):
        read_table(path)


def test_huge_cells_in_a_ragged_file(tmp_path):
    huge = "x" * 200_000  # beyond the csv module's default field limit
    path = tmp_path / "huge.csv"
    path.write_text(f'a;b\n1;2;\n3;"{huge}"\n', encoding="utf-8")
    t = read_table(path)
    assert t.cells[1].str.len().tolist() == [1, 200_000]
    import csv

    assert csv.field_size_limit() == 131072  # the global limit is restored


def test_unclosed_quote_after_a_lenient_complaint(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('a;b\n1;"x"y\n3;4\n5;"6\n7;8\n', encoding="utf-8")
    t = read_table(path)
    assert t.cells.values.tolist() == [["1", "xy"], ["3", "4"], ["7", "8"]]
    assert [(d.line, d.reason) for d in t.damaged] == [(4, "damaged")]
    assert t.lines.tolist() == [2, 3, 5]


STRAY_THEN_MULTILINE = (
    "a;b;c;d;e;f\n"
    "1;x;y;z;w;\n"
    '"2;x;y;z;w;\n'  # stray quote on the second-to-last row
    '3;x;y;z;w;"Réponses données avec la secrétaire.\nPoint à revoir."\n'
)


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (None, [(3, "damaged")]),  # the last row is read, multi-line cell included
        ("3;x", [(3, "damaged"), (4, "truncated")]),  # cut before the multi-line cell
        ("Point", [(3, "damaged"), (4, "truncated")]),  # cut inside the multi-line cell
    ],
)
def test_stray_quote_before_a_last_row_with_a_multiline_cell(tmp_path, cut, expected):
    """Issue 12: the stray quote reaching the end of the file is not the truncated last row."""
    text = STRAY_THEN_MULTILINE
    if cut is not None:
        text = text[: text.index(cut, text.index("\n3;")) + len(cut)]
    t = read_table(_write(tmp_path / "stray.csv", text))
    assert [(d.line, d.reason) for d in t.damaged] == expected
    rows = [["1", "x", "y", "z", "w", ""]]
    if cut is None:
        rows.append(
            ["3", "x", "y", "z", "w", "Réponses données avec la secrétaire.\nPoint à revoir."]
        )
    assert t.cells.values.tolist() == rows
    assert t.lines.tolist() == [2, 4][: len(rows)]
    assert len(t.cells) + len(t.damaged) == 3  # every row a spreadsheet shows


def test_genuine_last_row_cut_inside_its_multiline_cell_stays_one_truncated_row(tmp_path):
    t = read_table(_write(tmp_path / "cut.csv", 'a;b;c;d;e;f\n1;x;y;z;w;\n2;x;y;z;w;"p;r\nq'))
    assert [(d.line, d.end, d.reason) for d in t.damaged] == [(3, 4, "truncated")]
    assert t.lines.tolist() == [2]
