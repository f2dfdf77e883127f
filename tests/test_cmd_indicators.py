import re

import pandas as pd
import pytest

import barometre_geo as bg
from barometre_geo.cli import main


def test_needs_files_or_demo(tmp_path, capsys):
    assert main(["indicators", "--out", str(tmp_path)]) == 2
    assert "Donnez des fichiers d’export ou --demo" in capsys.readouterr().err
    assert main(["--lang", "en", "indicators", "--out", str(tmp_path)]) == 2
    assert "Give export files or --demo" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_to_open_data_tables(tmp_path, capsys):
    out = tmp_path / "sortie"
    some = ["inclusion_cnfs", "cyber_pca", "outils_materiel_reconditionne", "communication_modes"]
    code = main(["indicators", "--demo", "--out", str(out), "--level", "region,france",
                 "--indicators", ",".join(some), "--compare"])  # fmt: skip
    text = capsys.readouterr().out
    # exit 1 ("done, with problems to look at") exactly when a national figure is hidden by
    # the secret (see test_demo.HIDDEN_NATIONAL), else 0
    hidden = "masqué (secret statistique)" in text
    assert code == (1 if hidden else 0), text
    assert "masquées" in text
    # --compare checks the published figures of those indicators only (value, options,
    # by kind): test_demo.test_compare_published_matches_every_figure checks them all
    pubs = [bg.load_catalogue().get(i).published for i in some]
    n_figures = sum((p.value is not None) + len(p.options) + len(p.by_kind) for p in pubs)
    found = re.search(r"Chiffres nationaux publiés retrouvés : (\d+)/(\d+)", text)
    assert found and int(found.group(2)) == n_figures >= 4, text
    table = pd.read_csv(out / "indicateurs.csv", dtype={"code": str})
    assert set(table["indicator"]) == set(some)
    assert set(table["level"]) == {"region", "france", "france_metropolitaine", "outre_mer"}
    assert set(table["by"]) == {"total"}
    assert (out / "dictionnaire.md").is_file() and (out / "indicateurs.parquet").is_file()


def test_export_files_by_profile(territories, tmp_path, capsys):
    """``--by`` on export files: each group's rows next to the totals, the same n in all."""
    from _exports import IDENT, make_row, question_headers, write_csv

    catalogue = bg.load_catalogue()
    headers = IDENT + question_headers(catalogue, (2,))  # infra_saas: wave 2
    c = territories.communes
    codes = c.loc[c["departement"].isin(["38", "01"]), "code"].tolist()[:160]
    roles = [o.label for o in catalogue.get("profil_fonction").options[:2]]
    rows = [
        make_row(catalogue, headers, {"Code INSEE": code, "Type de collectivité": "Commune",
                 "Date de soumission": "2024-01-10 10:00"},
                 {"infra_saas": ["Oui", "Non"][i % 2], "profil_fonction": roles[i // 2 % 2]})
        for i, code in enumerate(codes)
    ]  # fmt: skip
    path = write_csv(tmp_path / "vague2.csv", headers, rows)
    out = tmp_path / "sortie"
    code = main(["indicators", str(path), "--out", str(out), "--level", "region,france",
                 "--by", "profile", "--indicators", "infra_saas"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out / "indicateurs.csv", dtype={"code": str})
    assert set(table["by"]) == {"total", "profile"}
    fr = table[(table["level"] == "france") & table["option"].isna()]
    groups = fr[fr["by"] == "profile"].set_index("group")
    assert groups["n"].to_dict() == {"agent": 80, "elu": 80}
    assert fr.loc[fr["by"] == "total", "n"].tolist() == [160]
    assert fr.loc[fr["by"] == "total", "value"].tolist() == [0.5]  # a share, 0–1


def test_bad_level_is_a_usage_error(tmp_path, capsys):
    code = main(["indicators", "--demo", "--out", str(tmp_path), "--level", "canton"])
    assert code == 2
    assert "Niveaux possibles : commune, epci" in capsys.readouterr().err


def test_bad_thresholds_are_a_usage_error(tmp_path, capsys):
    code = main(["indicators", "--demo", "--out", str(tmp_path), "--k-sensitive", "2"])
    assert code == 2
    assert "Donnez k_sensitive >= 5" in capsys.readouterr().err
