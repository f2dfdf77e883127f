"""Mapping files: format, validation, default mapping, header matching."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

import barometre_geo as bg
from barometre_geo.errors import InputFileError, SchemaError
from barometre_geo.survey.columns import option_lookup, plan_columns
from barometre_geo.survey.mapping import ROLES, SCHEMA, Mapping, default_mapping, load_mapping
from barometre_geo.survey.text import key


@pytest.fixture(scope="module")
def catalogue():
    return bg.load_catalogue()


@pytest.fixture(scope="module")
def default(catalogue):
    return default_mapping(catalogue)


def _yaml(tmp_path, text: str, name="m.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_default_mapping_lists_every_question_and_role(catalogue, default):
    for ind in catalogue.indicators:
        assert default.columns[ind.id][0] == ind.question
    for role in (
        "date",
        "nom",
        "siren",
        "insee",
        "departement",
        "fonction",
        "email",
        "phone",
        "name",
    ):
        assert default.columns[role], role
    assert default.source == "default" and not default.synthetic
    assert "oui" in default.values and "sans_reponse" in default.values
    assert "Données synthétiques" in default.columns["synthetic"]


def test_default_mapping_file_has_no_duplicate_header_across_targets(default):
    seen = {}
    for target, headers in default.columns.items():
        for h in headers:
            assert seen.setdefault(key(h), target) == target, (h, target, seen[key(h)])


def test_to_dict_round_trips_through_yaml(tmp_path, catalogue, default):
    text = yaml.safe_dump(default.to_dict(), allow_unicode=True, sort_keys=False)
    again = load_mapping(_yaml(tmp_path, text), catalogue=catalogue)
    assert again.columns == default.columns
    assert again.values == default.values
    assert again.types == default.types and again.profiles == default.profiles
    assert again.checked == default.checked and again.test_markers == default.test_markers


def test_user_mapping_extends_the_default(tmp_path, catalogue, default):
    path = _yaml(
        tmp_path,
        "mapping_version: 1\n"
        "edition: '2026'\n"
        "wave: 2\n"
        "read: {encoding: cp1252, delimiter: ';', sheet: 0}\n"
        "columns:\n"
        "  insee: Code commune (INSEE)\n"
        '  cyber_pca: ["PCA ?", Plan de continuité]\n'
        "  nom: Code INSEE\n"  # re-assigns a default header to another role
        "values:\n"
        "  oui: [Oui tout à fait, yes, Y]\n"
        "indicator_values:\n"
        "  donnees_plan_rgpd: {prevu: [En cours de rédaction]}\n"
        "types:\n"
        "  hors_champ: [Office de tourisme]\n",
    )
    m = load_mapping(path, catalogue=catalogue)
    assert m.name == "m" and m.source == str(path)
    assert m.columns["insee"][0] == "Code commune (INSEE)"
    assert "Code INSEE" not in m.columns["insee"] and m.columns["nom"][0] == "Code INSEE"
    assert m.columns["cyber_pca"][:2] == ("PCA ?", "Plan de continuité")
    assert m.columns["cyber_pca"][-1] == default.columns["cyber_pca"][0]
    assert m.values["oui"][:3] == ("Oui tout à fait", "yes", "Y")  # YAML 'yes' stays text
    assert set(default.values["oui"]) <= set(m.values["oui"])
    assert m.indicator_values["donnees_plan_rgpd"]["prevu"] == ("En cours de rédaction",)
    assert "Office de tourisme" in m.types["hors_champ"]
    assert (m.edition, m.wave, m.encoding, m.delimiter, m.sheet) == ("2026", 2, "cp1252", ";", 0)
    assert "Mapping 'm'" in repr(m)


def test_extends_none_starts_empty(catalogue):
    m = load_mapping(
        {"mapping_version": 1, "extends": "none", "columns": {"insee": "INSEE"}},
        catalogue=catalogue,
    )
    assert m.columns == {"insee": ("INSEE",)}
    assert m.values == {}


def test_mapping_instance_is_returned_as_is(default):
    assert load_mapping(default) is default


def test_schema_describes_every_top_level_key():
    assert SCHEMA["required"] == ["mapping_version"]
    assert {"columns", "values", "types", "profiles", "read"} <= set(SCHEMA["properties"])


def test_missing_mapping_file(tmp_path, catalogue):
    with pytest.raises(
        InputFileError, match=r"nope\.yaml: mapping file not found.*omit the mapping"
    ):
        load_mapping(tmp_path / "nope.yaml", catalogue=catalogue)


def test_invalid_yaml_names_line_and_column(tmp_path, catalogue):
    path = _yaml(tmp_path, "mapping_version: 1\ncolumns:\n  insee: [Code\n  nom: x\n")
    with pytest.raises(
        InputFileError, match=r"m\.yaml: line \d+, column \d+: invalid YAML.*Quote texts"
    ):
        load_mapping(path, catalogue=catalogue)


def test_non_utf8_mapping(tmp_path, catalogue):
    path = tmp_path / "m.yaml"
    path.write_bytes("mapping_version: 1\nname: Déclic\n".encode("cp1252"))
    with pytest.raises(InputFileError, match=r"not UTF-8\. Save it as UTF-8"):
        load_mapping(path, catalogue=catalogue)


def test_top_level_must_be_a_mapping(tmp_path, catalogue):
    with pytest.raises(
        SchemaError, match=r"must be a YAML mapping starting with 'mapping_version: 1'"
    ):
        load_mapping(_yaml(tmp_path, "- a\n- b\n"), catalogue=catalogue)


def test_schema_errors_are_all_listed_with_fixes(tmp_path, catalogue):
    path = _yaml(
        tmp_path,
        "colums: {insee: x}\nwave: 4\nsynthetic: maybe\nread: {delimiter: ':'}\n"
        "values: {oui: [Oui, {a: 1}]}\ntypes: {comune: [Commune]}\n",
    )
    with pytest.raises(SchemaError) as info:
        load_mapping(path, catalogue=catalogue)
    msg = str(info.value)
    assert "missing required key 'mapping_version'" in msg
    assert "colums: unknown key (did you mean 'columns'?)" in msg
    assert "wave: 4 is not one of [1, 2, 3]" in msg
    assert "synthetic: expected boolean, found 'maybe'" in msg
    assert "read.delimiter: ':' is not one of" in msg
    assert "values.oui[1]: expected a text" in msg
    assert "types.comune: unknown key (did you mean 'commune'?)" in msg
    assert "Fix these keys" in msg
    with pytest.raises(
        SchemaError, match=r"Fix these keys \(format: docs/contracts/survey\.md, 'Mapping files'"
    ):
        load_mapping(path, catalogue=catalogue)


def test_unknown_ids_give_the_closest_ones(catalogue):
    doc = {
        "mapping_version": 1,
        "columns": {"cyber_pka": "PCA ?", "communication_reseaux_sociaux.fb": "FB", "insse": "x"},
        "values": {"ouii": ["Oui"]},
        "indicator_values": {"cyber_pcaa": {"oui": ["O"]}, "cyber_pca": {"peut_etre": ["?"]}},
    }
    with pytest.raises(SchemaError) as info:
        load_mapping(doc, catalogue=catalogue)
    msg = str(info.value)
    assert (
        "columns: target 'cyber_pka' is not in the catalogue. Closest: cyber_pra, cyber_pca" in msg
    )
    assert (
        "option of communication_reseaux_sociaux 'fb' is not in the catalogue. Valid: autre, "
        in msg
    )
    assert "'insse' is not in the catalogue. Closest: insee" in msg
    assert "values: option id 'ouii'" in msg
    assert "indicator_values: indicator 'cyber_pcaa'" in msg
    assert (
        "option of cyber_pca 'peut_etre' is not in the catalogue. Valid: ne_sait_pas, non, " in msg
    )
    with pytest.raises(SchemaError, match=r"Fix: use the ids of barometre_geo\.load_catalogue\(\)"):
        load_mapping(doc, catalogue=catalogue)


def test_bad_source_type(catalogue):
    with pytest.raises(SchemaError, match=r"got int\. Pass mapping='my_mapping\.yaml'"):
        load_mapping(12, catalogue=catalogue)


# ------------------------------------------------------------------ header matching


def _plan(headers, rows, mapping, catalogue):
    cells = pd.DataFrame(rows, columns=range(len(headers)), dtype="str")
    return plan_columns(headers, cells, mapping, catalogue)


def test_plan_matches_roles_questions_and_limesurvey_options(catalogue, default):
    q = catalogue.get("communication_reseaux_sociaux").question
    headers = [
        "CODE  insee",
        "nom de la collectivite :",
        catalogue.get("cyber_pca").question.replace("’", "'").upper(),
        f"{q} [Facebook]",
        f"{q.replace('’', chr(39))}   [LinkedIn]",
        f"{q} [Mastodon]",
        "Adresse e-mail",
        "Tél. portable",
        "Contact",
        "Commentaire libre",
        "lastpage",
        "SIRET",
        "SIREN",
    ]
    rows = [
        [
            "64445",
            "Pau",
            "Oui",
            "Oui",
            "",
            "",
            "a@b.fr",
            "0600000000",
            "06 12 34 56 78",
            "rien",
            "3",
            "1",
            "2",
        ]
    ]
    plan = _plan(headers, rows, default, catalogue)
    assert plan.roles["insee"] == 0 and plan.roles["nom"] == 1
    assert plan.roles["siren"] == 11  # SIRET first: the second siren column is ignored
    assert plan.questions == {"cyber_pca": 2}
    assert plan.options == {"communication_reseaux_sociaux": {"facebook": 3, "linkedin": 4}}
    assert plan.personal == ["Adresse e-mail", "Tél. portable", "Contact"]
    why = dict(plan.ignored)
    assert why[f"{q} [Mastodon]"] == "option inconnue de la question communication_reseaux_sociaux"
    assert why["Commentaire libre"] == "colonne non reconnue"
    assert why["lastpage"] == "ignorée par le mapping"
    assert why["SIREN"] == "deuxième colonne pour le rôle siren"
    assert plan.indicator_ids() == ["cyber_pca", "communication_reseaux_sociaux"]


def test_option_lookup_knows_labels_short_labels_vocabulary_and_types(catalogue, default):
    fonction = option_lookup(catalogue.get("profil_fonction"), default)
    assert fonction[key("Agent territorial")] == "agent"
    assert fonction[key("Élu local (maire, adjoint au numérique, conseiller délégué…)")] == "elu"
    pca = option_lookup(catalogue.get("cyber_pca"), default)
    assert pca[key("Y")] == "oui" and pca[key("NSP")] == "ne_sait_pas"
    assert pca[key("N/A")] == "sans_reponse"
    assert key("Oui, partiellement") not in pca  # not coerced to "oui"
    distant = option_lookup(catalogue.get("outils_acces_distant"), default)
    assert distant[key("Oui, partiellement")] == "oui_partiellement"
    rgaa = option_lookup(catalogue.get("communication_rgaa"), default)
    assert rgaa[key("Non, mais c’est prévu dans les 12 prochains mois")] == "prevu"
    kind = option_lookup(catalogue.get("profil_type_collectivite"), default)
    assert kind[key("Communauté d'agglomération")] == "epci"
    assert kind[key("Syndicat ou autre groupement")] == "syndicat"
    recrut = option_lookup(catalogue.get("strategie_difficultes_recrutement"), default)
    assert recrut[key("Non concerné")] == "non_concerne"


def test_roles_are_fixed(default):
    assert set(ROLES) >= {"siren", "insee", "nom", "email", "phone", "name"}
    assert isinstance(default, Mapping)


def test_the_shipped_schema_is_a_valid_json_schema_and_the_default_mapping_follows_it():
    import jsonschema

    from barometre_geo._paths import package_data
    from barometre_geo.survey.mapping import _read_yaml, schema_errors

    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    doc = _read_yaml(package_data("mapping.yaml"))
    assert schema_errors(doc) == []
    assert "wave: expected integer, found True" in schema_errors({**doc, "wave": True})
