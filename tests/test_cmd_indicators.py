import pandas as pd
import pytest

from barometre_geo.cli import main


def test_needs_files_or_demo(tmp_path, capsys):
    assert main(["indicators", "--out", str(tmp_path)]) == 2
    assert "Donnez des fichiers d’export ou --demo" in capsys.readouterr().err
    assert main(["--lang", "en", "indicators", "--out", str(tmp_path)]) == 2
    assert "Give export files or --demo" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_to_open_data_tables(tmp_path, capsys):
    out = tmp_path / "sortie"
    code = main(
        ["indicators", "--demo", "--out", str(out), "--level", "region,france",
         "--by", "profile", "--compare"]
    )  # fmt: skip
    text = capsys.readouterr().out
    # exit 1 ("done, with problems to look at") exactly when a national figure is hidden by
    # the secret (see test_demo.HIDDEN_NATIONAL), else 0
    hidden = "masqué (secret statistique)" in text
    assert code == (1 if hidden else 0), text
    assert "Chiffres nationaux publiés retrouvés" in text and "masquées" in text
    table = pd.read_csv(out / "indicateurs.csv", dtype={"code": str})
    assert set(table["level"]) == {"region", "france", "france_metropolitaine", "outre_mer"}
    assert set(table["by"]) == {"total", "profile"}
    assert (out / "dictionnaire.md").is_file() and (out / "indicateurs.parquet").is_file()


def test_bad_level_is_a_usage_error(tmp_path, capsys):
    code = main(["indicators", "--demo", "--out", str(tmp_path), "--level", "canton"])
    assert code == 2
    assert "Niveaux possibles : commune, epci" in capsys.readouterr().err


def test_bad_thresholds_are_a_usage_error(tmp_path, capsys):
    code = main(["indicators", "--demo", "--out", str(tmp_path), "--k-sensitive", "2"])
    assert code == 2
    assert "Donnez k_sensitive >= 5" in capsys.readouterr().err
