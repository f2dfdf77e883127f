"""``barometre-geo validate``: human and JSON reports, exit codes."""

from __future__ import annotations

import json

import pytest
from _exports import EMAILS, IDENT, NAMES, PHONES, make_row, question_headers, write_csv

import barometre_geo as bg
from barometre_geo.cli import main


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    catalogue = bg.load_catalogue()
    headers = IDENT + question_headers(catalogue, (1,))
    rows = [
        make_row(catalogue, headers, {"Nom de la collectivité": "Pau", "Code INSEE": "64445"}, {}),
        make_row(
            catalogue,
            headers,
            {"Nom de la collectivité": "Test", "Code INSEE": "64445"},
            {},
            person=1,
        ),
        make_row(
            catalogue,
            headers,
            {"Nom de la collectivité": "Saint-Martin"},
            {"cyber_pca": "Peut-être"},
            person=2,
        ),
    ]
    return write_csv(tmp_path_factory.mktemp("cli") / "vague1.csv", headers, rows)


def _no_personal_data(text: str) -> None:
    for secret in EMAILS + PHONES + NAMES:
        assert secret not in text


def test_validate_prints_the_french_report_and_exits_0_despite_rejections(export, capsys):
    assert main(["validate", str(export)]) == 0
    out = capsys.readouterr().out
    assert "Rapport d’import — édition 2023-2025" in out
    assert "3 lignes lues : 1 acceptée, 0 remplacée" in out
    assert "ligne de test : 1" in out and "collectivité ambiguë : 1" in out
    assert "« Peut-être » ×1 (lignes 4)" in out
    assert "« Adresse e-mail »" in out  # the dropped column is named, its content is not
    _no_personal_data(out)


def test_validate_json(export, capsys):
    assert main(["validate", str(export), "--json", "--keep", "first"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["rows"] == 3
    assert report["summary"]["accepted"] + report["summary"]["rejected"] == 3
    assert [r["state"] for r in report["rows"]] == ["accepted", "rejected", "rejected"]
    assert report["rows"][2]["candidates"][:1] == ["32389"]
    assert report["unknown_values"][0]["lines"] == [4]
    assert report["by_wave"][-1]["wave"] == "total"
    _no_personal_data(json.dumps(report, ensure_ascii=False))


def test_validate_names_files_and_states_their_folder_once(export, capsys, monkeypatch):
    monkeypatch.chdir(export.parent.parent)  # the folder, relative to the working folder
    assert main(["validate", str(export)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[2] == f"Fichiers lus dans le dossier {export.parent.name}"
    assert str(export.parent) not in out and "\n  vague1.csv : 3 lignes" in out
    assert main(["validate", str(export), "--json"]) == 0  # JSON: no folder at all
    out = capsys.readouterr().out
    assert export.parent.name not in out and '"file": "vague1.csv"' in out


def test_validate_with_a_mapping_file(export, tmp_path, capsys):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "mapping_version: 1\nedition: '2099'\nvalues:\n  ne_sait_pas: [Peut-être]\n",
        encoding="utf-8",
    )
    assert main(["validate", str(export), "--mapping", str(mapping)]) == 0
    out = capsys.readouterr().out
    assert "édition 2099" in out and "Peut-être" not in out


def test_validate_exits_2_on_a_missing_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "absent.csv")]) == 2
    err = capsys.readouterr().err
    assert "barometre-geo validate : erreur :" in err and "absent.csv : fichier introuvable" in err
    assert main(["--lang", "en", "validate", str(tmp_path / "absent.csv")]) == 2
    err = capsys.readouterr().err
    assert "barometre-geo validate: error:" in err and "absent.csv: file not found" in err


def test_validate_exits_2_on_an_invalid_mapping(export, tmp_path, capsys):
    mapping = tmp_path / "bad.yaml"
    mapping.write_text("mapping_version: 1\ncolumns: {insse: Code}\n", encoding="utf-8")
    assert main(["validate", str(export), "--mapping", str(mapping)]) == 2
    err = capsys.readouterr().err
    assert "'insse' is not in the catalogue. Closest: insee" in err


def test_validate_exits_2_without_an_identification_column(tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_text("Commune;Vous avez un PCA ?\nPau;Oui\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    assert "aucune colonne n’identifie la collectivité" in capsys.readouterr().err


def test_validate_is_listed_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "validate" in capsys.readouterr().out
