"""Identifying rows of real-world exports: declared columns, corrections, waves (issue 14).

Small exports written here (tmp_path), read through the real reader.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import barometre_geo as bg
from barometre_geo.errors import SchemaError

PCA = "Votre collectivité dispose-t-elle d’un plan de continuité d’activité (PCA) en cas d’incident informatique ?"  # noqa: E501


def write(tmp_path, rows: list[dict], name="export.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, sep=";", index=False, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A "Code" column of unknown kind mixing INSEE and postal codes, names beside."""
    tmp = tmp_path_factory.mktemp("mixed")
    return write(
        tmp,
        [
            {"Nom de la collectivité": "Mairie de Compiègne", "Code": "60200", PCA: "Oui"},
            {"Nom de la collectivité": "Commune de Domfront", "Code": "60200", PCA: "Non"},
            {"Nom de la collectivité": "Ville d'Alès", "Code": "30100", PCA: "Oui"},
            {"Nom de la collectivité": "Saint-Maur-des-Fosées", "Code": "", PCA: "Oui"},
            {
                "Nom de la collectivité": "Mairie du 8e secteur de Marseille",
                "Code": "13008",
                PCA: "Non",
            },
            {"Nom de la collectivité": "X", "Code": "30100", PCA: "Oui"},
        ],
    )


def read(path, territories, **mapping):
    mapping = {"mapping_version": 1, "wave": 1, **mapping}
    return bg.read_responses([path], mapping=mapping, territories=territories)


def test_a_code_column_of_unknown_kind_is_settled_by_the_name(mixed, territories):
    r = read(mixed, territories)
    rows = r.report.rows.set_index("line")
    assert list(r.data["code"]) == ["60159", "60200", "30007", "13055"]
    # Alès's postal code with a name of nothing: both readings offered, never one
    assert rows.loc[7, "reason"] == "ambiguous"
    assert (
        "30100 est le code INSEE de Cruviers-Lascours (30100) et le code postal"
        in (rows.loc[7, "detail"])
    )
    assert rows.loc[7, "suggestions"] == ("30100 Cruviers-Lascours", "30007 Alès")


def test_declaring_the_column_reads_it_so(mixed, territories):
    r = read(mixed, territories, holds={"code": "insee"})
    assert "30100" in set(r.data["code"])  # the X row, read as the INSEE code
    r = read(mixed, territories, holds={"code": "postal"})
    assert list(r.data["code"]).count("30007") == 1  # Ville d'Alès; the X row too (deduplicated)


def test_suggestions_and_the_corrections_section(mixed, territories):
    r = read(mixed, territories)
    text = r.report.to_text()
    assert "suggestions : 94068 Saint-Maur-des-Fossés" in text
    assert "corrections:" in text
    assert '  "Saint-Maur-des-Fosées": "94068"   # Saint-Maur-des-Fossés ?' in text
    assert '  "30100": "30100"   # Cruviers-Lascours ?' in text
    js = r.report.to_dict()
    fosees = next(row for row in js["rows"] if row["line"] == 5)
    assert fosees["suggestions"][:1] == ["94068 Saint-Maur-des-Fossés"]
    assert fosees["typed"] == "Saint-Maur-des-Fosées"
    json.dumps(js)


def test_corrections_resolve_the_rows_they_name_and_only_those(mixed, territories):
    r = read(mixed, territories, corrections={"Saint-Maur-des-Fosées": "94068", "30100": "30007"})
    rows = r.report.rows.set_index("line")
    assert (rows["state"] != "rejected").all()
    assert r.report.summary()["corrected"] == 2
    assert list(r.report.corrected()["line"]) == [5, 7]
    assert rows.loc[7, "detail"] == (
        "identifiée par correction du mapping : code « 30100 » → 30007 (Alès)"
    )
    text = r.report.to_text()
    assert "2 lignes identifiées par correction du mapping (corrections:)." in text
    # a value resolved on its own row is never changed by a correction
    r = read(mixed, territories, corrections={"60200": "60200"})
    assert "60159" in set(r.data["code"]) and r.report.summary()["corrected"] == 0


def test_unquoted_corrections_are_refused():
    with pytest.raises(SchemaError, match=r"corrections\.1400: .*write both between quotes"):
        bg.load_mapping({"mapping_version": 1, "corrections": {1400: 1001}})
    with pytest.raises(SchemaError, match=r"holds\.insee: 'postale' is not one of"):
        bg.load_mapping({"mapping_version": 1, "holds": {"insee": "postale"}})


def test_an_insee_column_with_a_postal_code_and_the_name(tmp_path, territories):
    path = write(
        tmp_path,
        [
            {"Nom de la collectivité": "Mairie de Lescar", "Code INSEE": "64230", PCA: "Oui"},
            {"Nom de la collectivité": "Mairie", "Code INSEE": "64230", PCA: "Non"},
        ],
    )
    r = read(path, territories)
    assert list(r.data["code"]) == ["64335", "64230"]  # the name settles; alone: INSEE


def test_answers_of_another_wave_are_reported_not_counted(tmp_path, territories):
    cat = bg.load_catalogue()
    dc = cat.get("infra_datacenter")  # a question of wave 2
    assert dc.wave == 2
    path = write(
        tmp_path,
        [{"Nom de la collectivité": "Mairie de Compiègne", "Code INSEE": "60159", PCA: "Oui",
          dc.question: "Oui"},
         {"Nom de la collectivité": "Lyon", "Code INSEE": "69123", PCA: "", dc.question: "Non"}],
    )  # fmt: skip
    r = read(path, territories)  # the mapping says wave: 1
    assert r.data["infra_datacenter"].isna().all() and list(r.data["code"]) == ["60159"]
    cells = r.report.cells
    assert list(cells["line"]) == [2, 3]
    assert (
        cells["issue"]
        .str.startswith(
            "question de la vague 2 dans un fichier déclaré vague 1 (mapping « wave: 1 ») : "
            "réponse non comptée"
        )
        .all()
    )
    lyon = r.report.rows.set_index("line").loc[3]
    assert (lyon["reason"], lyon["detail"][:48]) == (
        "empty",
        "aucune question de la vague 1 déclarée par le ma",
    )
    # without the declaration the wave is read from the answers: both counted, each in its own
    r = bg.read_responses([path], territories=territories)
    assert r.report.rows.set_index("line").loc[2, "reason"] == "unknown_wave"
    assert r.data.set_index("code").loc["69123", "wave"] == 2


def test_a_value_undecided_on_rows_of_different_names_is_corrected_row_by_row(
    tmp_path, territories
):
    # 69008: Ancy's INSEE code and Lyon 8e's postal code; neither Bron nor Villeurbanne
    path = write(
        tmp_path,
        [
            {"Nom de la collectivité": "Mairie de Bron", "Code": "69008", PCA: "Oui"},
            {"Nom de la collectivité": "Mairie de Villeurbanne", "Code": "69008", PCA: "Non"},
        ],
    )
    r = read(path, territories)
    rows = r.report.rows.set_index("line")
    assert list(rows["typed"]) == ["69008 | Mairie de Bron", "69008 | Mairie de Villeurbanne"]
    assert rows.loc[2, "suggestions"][0] == "69029 Bron"  # the name's commune first
    assert '  "69008 | Mairie de Bron": "69029"   # Bron ?' in r.report.to_text()
    r = read(path, territories, corrections={"69008 | Mairie de Bron": "69029"})
    rows = r.report.rows.set_index("line")
    assert list(rows["state"]) == ["accepted", "rejected"] and list(r.data["code"]) == ["69029"]
