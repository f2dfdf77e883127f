"""read_responses on small realistic exports: formats, answers, identification, states."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _exports import EMAILS, IDENT, NAMES, PHONES, make_row, question_headers, write_csv, write_xlsx

import barometre_geo as bg
from barometre_geo.errors import InputFileError, SchemaError, UnknownValueError
from barometre_geo.survey.responses import read_responses


@pytest.fixture(scope="module")
def catalogue():
    return bg.load_catalogue()


@pytest.fixture(scope="module")
def w1(catalogue):
    """Headers of a wave-1 export."""
    return IDENT + question_headers(catalogue, (1,))


def luhn(partial: str) -> str:
    """Complete a SIREN/SIRET with its Luhn check digit."""
    for d in "0123456789":
        digits = [int(c) for c in reversed(partial + d)]
        total = sum(
            x if i % 2 == 0 else (x * 2 - 9 if x * 2 > 9 else x * 2) for i, x in enumerate(digits)
        )
        if total % 10 == 0:
            return partial + d
    raise AssertionError


def ident(nom="", insee="", siren="", dep="", typ="", fonction="", date="", **extra):
    out = {
        "Nom de la collectivité": nom,
        "Code INSEE": insee,
        "SIREN": siren,
        "Département": dep,
        "Type de collectivité": typ,
        "Fonction du répondant": fonction,
        "Date de soumission": date,
    }
    out.update(extra)
    return out


def read(tmp_path, territories, headers, rows, name="vague1.csv", **kw):
    path = write_csv(tmp_path / name, headers, rows)
    return read_responses(path, territories=territories, **kw)


# ---------------------------------------------------------------- formats


def test_same_export_in_three_formats_gives_the_same_responses(
    tmp_path, territories, catalogue, w1
):
    rows = [
        make_row(
            catalogue,
            w1,
            ident("Mairie de Pau", "64445", typ="Commune", fonction="DGS", date="28/01/2024 14:03"),
            {"inclusion_cnfs": "Oui"},
        ),
        make_row(
            catalogue,
            w1,
            ident(
                "CA Pau Béarn Pyrénées",
                siren="200 067 254",
                typ="Communauté d’agglomération",
                fonction="Vice-présidente",
                date="2024-01-10 09:00:00",
            ),
            {},
            person=1,
        ),
        make_row(
            catalogue,
            w1,
            ident(
                "Lescar",
                dep="Pyrénées-Atlantiques (64)",
                typ="Commune",
                fonction="Secrétaire de mairie",
                date="05/01/2024",
            ),
            {"outils_materiel_reconditionne": "8,2 %"},
            person=2,
        ),
    ]
    a = write_csv(tmp_path / "v1_cp1252.csv", w1, rows, delimiter=";", encoding="cp1252")
    b = write_csv(tmp_path / "v1_bom.csv", w1, rows, delimiter=",", encoding="utf-8-sig")
    c = write_xlsx(tmp_path / "v1.xlsx", w1, rows)
    frames = []
    for path in (a, b, c):
        r = read_responses(path, territories=territories)
        info = r.report.files.iloc[0]
        frames.append(r.data.drop(columns=["source_file", "response_id"]))
        assert r.report.summary()["accepted"] == 3, r.report.to_text()
    assert (r.report.files["format"].tolist(), r.report.files["sheet"].tolist()) == (
        ["xlsx"],
        ["Réponses"],
    )
    assert info["rows"] == 3
    pd.testing.assert_frame_equal(frames[0], frames[1])
    pd.testing.assert_frame_equal(frames[0], frames[2])
    d = frames[0]
    assert d["code"].tolist() == ["64445", "200067254", "64335"]
    assert d["kind"].tolist() == ["commune", "epci", "commune"]
    assert d["profile"].tolist() == ["agent", "elu", "agent"]
    assert d["submitted_at"].astype(str).tolist() == [
        "2024-01-28 14:03:00",
        "2024-01-10 09:00:00",
        "2024-01-05 00:00:00",
    ]
    assert d["inclusion_cnfs"].tolist()[0] == "oui"


def test_multiline_cells_keep_exact_lines(tmp_path, territories, catalogue, w1):
    headers = [*w1, "Commentaire"]
    pct = catalogue.get("cyber_pca").question
    rows = [
        make_row(catalogue, headers, ident("Pau", "64445", Commentaire="Très\nbien\nfait"), {}),
        make_row(
            catalogue,
            headers,
            ident("Lescar\r\n(Béarn)", "64335", date="hier", Commentaire="a;b\r\nc"),
            {"cyber_pca": "Peut-être"},
        ),
    ]
    r = read(tmp_path, territories, headers, rows)
    assert r.report.rows["line"].tolist() == [2, 5]
    assert r.data["source_line"].tolist() == [2, 5]
    cell = r.report.cells.iloc[0]
    assert (cell["line"], cell["column"], cell["value"], cell["issue"]) == (
        5,
        "Date de soumission",
        "hier",
        "date illisible",
    )
    unknown = r.report.unknown_values.iloc[0]
    assert (unknown["column"], unknown["value"], unknown["count"], unknown["lines"]) == (
        pct,
        "Peut-être",
        1,
        [5],
    )
    assert pd.isna(r.data.loc[1, "submitted_at"]) and r.data.loc[1, "code"] == "64335"
    assert pd.isna(r.data.loc[1, "cyber_pca"])


# ---------------------------------------------------------------- answers


CYBER_PCA = [
    ("Oui", "oui"),
    (" OUI ", "oui"),
    ("oui", "oui"),
    ("Y", "oui"),
    ("Non", "non"),
    ("Je ne sais pas", "ne_sait_pas"),
    ("Ne sait pas", "ne_sait_pas"),
    ("NSP", "ne_sait_pas"),
    ("Sans réponse", "sans_reponse"),
    ("N/A", "sans_reponse"),
    ("", None),
    ("Oui, partiellement", None),
    ("Non, mais c’est prévu dans les 12 prochains mois", None),
]


def _communes(territories, n, dep="64"):
    c = territories.communes
    return c[c["departement"] == dep].head(n)[["code", "nom"]].values.tolist()


def test_every_answer_variant(tmp_path, territories, catalogue, w1):
    communes = _communes(territories, len(CYBER_PCA))
    rows = []
    for (code, nom), (text, _) in zip(communes, CYBER_PCA, strict=True):
        rows.append(
            make_row(
                catalogue,
                w1,
                ident(nom, code),
                {
                    "cyber_pca": text,
                    "communication_rgaa": "Non, mais c'est prévu dans les 12 prochains mois",
                    "cyber_rssi": "Oui, mutualisé",
                },
            )
        )
    r = read(tmp_path, territories, w1, rows)
    assert r.report.summary()["accepted"] == len(CYBER_PCA)
    got = r.data.set_index("code")["cyber_pca"]
    for (code, _), (text, expected) in zip(communes, CYBER_PCA, strict=True):
        value = got[code]
        assert (None if pd.isna(value) else value) == expected, text
    assert list(r.data["cyber_pca"].cat.categories) == ["oui", "non", "ne_sait_pas", "sans_reponse"]
    assert (r.data["communication_rgaa"] == "prevu").all()  # typographic or straight apostrophe
    assert (r.data["cyber_rssi"] == "oui_mutualise").all()
    unknown = r.report.unknown_values.set_index("value")
    assert set(unknown.index) == {
        "Oui, partiellement",
        "Non, mais c’est prévu dans les 12 prochains mois",
    }
    assert (unknown["indicator"] == "cyber_pca").all() and (unknown["count"] == 1).all()
    assert unknown.loc["Oui, partiellement", "lines"] == [13]


def test_scale_is_an_ordered_categorical(tmp_path, territories, catalogue):
    headers = IDENT + question_headers(catalogue, (3,))
    rows = [
        make_row(
            catalogue,
            headers,
            ident("Pau", "64445"),
            {"strategie_comprehension_enjeux": "Juste suffisante"},
        )
    ]
    r = read(tmp_path, territories, headers, rows, name="v3.csv")
    col = r.data["strategie_comprehension_enjeux"]
    assert col.cat.ordered and col.iloc[0] == "juste_suffisante"
    assert r.data["wave"].tolist() == [3]


def test_percentages(tmp_path, territories, catalogue):
    headers = IDENT + question_headers(catalogue, (2,))
    q = catalogue.get("outils_materiel_reconditionne").question
    texts = ["8,2 %", "8.2%", "8,2", "12", "140", "Je ne sais pas", "env. 10", "", "100 %"]
    communes = _communes(territories, len(texts))
    rows = [
        make_row(catalogue, headers, ident(nom, code), {"outils_materiel_reconditionne": t})
        for (code, nom), t in zip(communes, texts, strict=True)
    ]
    r = read(tmp_path, territories, headers, rows, name="v2.csv")
    values = r.data.set_index("code")["outils_materiel_reconditionne"]
    got = [values[c] for c, _ in communes]
    assert got[:4] == [8.2, 8.2, 8.2, 12.0] and got[8] == 100.0
    assert all(np.isnan(got[i]) for i in (4, 5, 6, 7))
    assert r.data["outils_materiel_reconditionne"].dtype == "float64"
    cells = r.report.cells[["line", "column", "value", "issue"]].values.tolist()
    assert cells == [
        [6, q, "140", "pourcentage hors de 0–100"],
        [8, q, "env. 10", "pas un nombre"],
    ]
    assert r.report.unknown_values.empty  # "Je ne sais pas" is a non-answer, not unknown


def test_limesurvey_multiple_choice(tmp_path, territories, catalogue, w1):
    q = catalogue.get("communication_reseaux_sociaux")
    rows = [
        make_row(
            catalogue,
            w1,
            ident("Pau", "64445"),
            {
                q.id: {
                    "facebook": "Y",
                    "instagram": "",
                    "linkedin": "N",
                    "x": "X",
                    "autre": "Mastodon",
                }
            },
        ),
        make_row(catalogue, w1, ident("Lescar", "64335"), {q.id: {}}),  # not answered
        make_row(
            catalogue,
            w1,
            ident("Billère", "64129"),
            {q.id: {"facebook": "1", "youtube": "peut-être"}},
        ),
        make_row(catalogue, w1, ident("Bayonne", "64102"), {q.id: {"facebook": "Facebook"}}),
    ]
    r = read(tmp_path, territories, w1, rows)
    d = r.data.set_index("code")
    cols = [f"{q.id}.{o}" for o in ("facebook", "instagram", "linkedin", "x", "youtube", "autre")]
    assert [d.loc["64445", c] for c in cols] == [True, False, False, True, False, True]
    assert d.loc["64335", cols].isna().all()  # unanswered question: NA on every option
    assert d.loc["64129", f"{q.id}.facebook"] and not d.loc["64129", f"{q.id}.instagram"]
    assert pd.isna(d.loc["64129", f"{q.id}.youtube"])  # unknown value stays NA
    assert d.loc["64102", f"{q.id}.facebook"]  # the option label itself ticks
    assert all(str(r.data[c].dtype) == "boolean" for c in cols)
    u = r.report.unknown_values
    assert u[["column", "value", "lines"]].values.tolist() == [
        [f"{q.question} [YouTube]", "peut-être", [4]]
    ]
    assert "Mastodon" not in r.report.to_text()  # free text of "Autre" is not kept


def test_multiple_choice_in_one_cell(tmp_path, territories, catalogue):
    q = catalogue.get("communication_reseaux_sociaux")
    headers = [
        "Code INSEE",
        "Nom de la collectivité",
        q.question,
        catalogue.get("cyber_pca").question,
    ]
    rows = [
        {
            "Code INSEE": "64445",
            q.question: "Facebook;Instagram;",
            catalogue.get("cyber_pca").question: "Oui",
        },
        {"Code INSEE": "64335", q.question: "LinkedIn, X (ex-Twitter)"},
        {"Code INSEE": "64129", q.question: "Facebook;Bluesky"},
        {"Code INSEE": "64102", q.question: ""},
    ]
    r = read(tmp_path, territories, headers, rows)
    d = r.data.set_index("code")
    assert d.loc["64445", [f"{q.id}.facebook", f"{q.id}.instagram", f"{q.id}.x"]].tolist() == [
        True,
        True,
        False,
    ]
    assert d.loc["64335", [f"{q.id}.linkedin", f"{q.id}.x", f"{q.id}.facebook"]].tolist() == [
        True,
        True,
        False,
    ]
    assert d.loc["64129", f"{q.id}.facebook"] and not d.loc["64129", f"{q.id}.instagram"]
    assert r.report.unknown_values["value"].tolist() == ["Bluesky"]
    assert "64102" not in d.index  # nothing answered at all: rejected as empty
    assert r.report.rows.set_index("line").loc[5, "reason"] == "empty"


# ---------------------------------------------------------------- duplicates


def _dup_rows(catalogue, w1):
    full = ident("Pau", "64445", date="10/01/2024 10:00", fonction="DGS")
    later = ident("Commune de Pau", "64445", date="20/01/2024 10:00", fonction="Maire")
    blank = {i.id: "" for i in catalogue.indicators if i.kind != "multiple_choice" and i.wave == 1}
    return [
        make_row(catalogue, w1, full, {"cyber_pca": "Oui"}),
        make_row(catalogue, w1, later, {**blank, "cyber_pca": "Non", "cyber_pra": "Non"}),
        make_row(catalogue, w1, ident("Lescar", "64335"), {}),
    ]


@pytest.mark.parametrize(
    ("keep", "line", "pca", "superseded_line"),
    [("latest_complete", 2, "oui", 3), ("latest", 3, "non", 2), ("first", 2, "oui", 3)],
)
def test_duplicates_are_superseded(
    tmp_path, territories, catalogue, w1, keep, line, pca, superseded_line
):
    r = read(tmp_path, territories, w1, _dup_rows(catalogue, w1), keep=keep)
    pau = r.data[r.data["code"] == "64445"]
    assert len(pau) == 1 and pau["source_line"].item() == line and pau["cyber_pca"].item() == pca
    rows = r.report.rows.set_index("line")
    assert rows.loc[superseded_line, "state"] == "superseded"
    assert rows.loc[superseded_line, "response_id"] == pau["response_id"].item()
    # the report names the file, not its folder
    assert rows.loc[superseded_line, "detail"] == f"remplacée par la ligne {line} de vague1.csv"
    assert r.report.summary()["superseded"] == 1


def test_ties_on_completeness_go_to_the_latest_date(tmp_path, territories, catalogue, w1):
    rows = [
        make_row(catalogue, w1, ident("Pau", "64445", date="2024-02-01"), {"cyber_pca": "Non"}),
        make_row(catalogue, w1, ident("Pau", "64445", date="2024-01-01"), {"cyber_pca": "Oui"}),
    ]
    r = read(tmp_path, territories, w1, rows)
    assert r.data["cyber_pca"].tolist() == ["non"]


def test_invalid_keep(tmp_path, territories):
    with pytest.raises(UnknownValueError, match=r"keep='last'.*latest_complete, latest, first"):
        read_responses(tmp_path / "x.csv", territories=territories, keep="last")


def test_a_file_per_questionnaire_is_merged_into_one_response(tmp_path, territories, catalogue):
    inc = IDENT + [
        h
        for h in question_headers(catalogue, (1,), profile=False)
        if any(h.startswith(i.question) for i in catalogue.filter(theme="inclusion"))
    ]
    cyb = IDENT + [
        h
        for h in question_headers(catalogue, (1,), profile=False)
        if any(h.startswith(i.question) for i in catalogue.filter(theme="cyber"))
    ]
    a = write_csv(
        tmp_path / "inclusion.csv",
        inc,
        [
            make_row(
                catalogue, inc, ident("Pau", "64445", date="2024-01-05"), {"inclusion_cnfs": "Oui"}
            ),
        ],
    )
    b = write_csv(
        tmp_path / "cyber.csv",
        cyb,
        [
            make_row(
                catalogue, cyb, ident("Pau", "64445", date="2024-01-09"), {"cyber_pca": "Non"}
            ),
            make_row(
                catalogue, cyb, ident("Pau", "64445", date="2024-01-02"), {"cyber_pca": "Oui"}
            ),
        ],
    )
    r = read_responses([a, b], territories=territories)
    assert len(r.data) == 1
    row = r.data.iloc[0]
    assert (row["inclusion_cnfs"], row["cyber_pca"]) == ("oui", "non")
    assert str(row["submitted_at"]) == "2024-01-09 00:00:00"
    states = r.report.rows[["file", "line", "state"]].values.tolist()
    assert states == [[str(a), 2, "accepted"], [str(b), 2, "accepted"], [str(b), 3, "superseded"]]
    q = r.report.by_questionnaire()
    assert q.loc["inclusion", ["rows", "accepted"]].tolist() == [1, 1]
    assert q.loc["cyber", ["rows", "accepted", "superseded"]].tolist() == [2, 1, 1]
    assert "communication" not in q.index


# ---------------------------------------------------------------- rejections


def test_test_rows_empty_rows_and_out_of_scope(tmp_path, territories, catalogue, w1):
    blank = {i.id: ([] if i.kind == "multiple_choice" else "") for i in catalogue.indicators}
    rows = [
        make_row(catalogue, w1, ident("TEST Déclic", "64445"), {}),
        make_row(catalogue, w1, ident("Pau", "64445", **{"Réponse de test": "Oui"}), {}),
        make_row(catalogue, w1, ident("Neauphe-sous-Essai", dep="61"), {}),
        make_row(catalogue, w1, ident("Lescar", "64335"), blank),
        make_row(
            catalogue, w1, ident("Association des maires du 64", typ="Association", dep="64"), {}
        ),
        make_row(
            catalogue, w1, ident("Syndicat mixte La Fibre64", typ="Syndicat mixte", dep="64"), {}
        ),
        make_row(catalogue, w1, ident("SIVU des écoles", typ="SIVU"), {}),
        make_row(
            catalogue,
            w1,
            ident("SIVOM de la vallée", siren=luhn("20001234"), typ="SIVOM", insee="64445"),
            {},
        ),
    ]
    headers = [*w1, "Réponse de test"]
    r = read(tmp_path, territories, headers, rows)
    rows_ = r.report.rows.set_index("line")
    assert rows_["reason"].to_dict() == {
        2: "test_row",
        3: "test_row",
        4: "",
        5: "empty",
        6: "out_of_scope",
        7: "",
        8: "out_of_scope",
        9: "",
    }
    assert rows_.loc[8, "detail"].startswith("syndicat dont le département est inconnu")
    assert rows_.loc[2, "detail"] == "mot de test dans le nom « TEST Déclic »"
    assert rows_.loc[3, "detail"] == "colonne « Réponse de test » cochée"
    assert rows_.loc[6, "detail"] == "type « Association » hors du champ de l’enquête"
    syn = r.data[r.data["kind"] == "syndicat"].set_index("source_line")
    assert syn.loc[7, ["departement", "region", "type_label"]].tolist() == [
        "64",
        "75",
        "Syndicat mixte",
    ]
    assert syn.loc[7, ["siren", "level", "code", "population"]].isna().all()
    assert syn.loc[9, ["siren", "code", "departement"]].tolist() == [luhn("20001234")] * 2 + ["64"]
    c = territories.communes
    neauphe = c.loc[c["nom"] == "Neauphe-sous-Essai", "code"].item()
    assert r.data.set_index("source_line").loc[4, "code"] == neauphe  # not a test row


def test_type_question_free_text_and_out_of_scope(tmp_path, territories, catalogue):
    kind_q = catalogue.get("profil_type_collectivite").question
    mut = catalogue.get("profil_mutualisation")
    headers = [*IDENT, kind_q, mut.question, mut.free_text.question,
               *question_headers(catalogue, (2,), profile=False)]  # fmt: skip
    rows = [
        make_row(
            catalogue,
            headers,
            ident("Pau", "64445"),
            {
                "profil_type_collectivite": "Commune",
                "profil_mutualisation": "Oui",
            }
            | {mut.free_text.question: ""},
        ),
        make_row(
            catalogue,
            headers,
            ident("Association Numérique Rurale", dep="64"),
            {"profil_type_collectivite": "Association"},
        ),
        make_row(
            catalogue,
            headers,
            ident("Lescar", "64335"),
            {"profil_type_collectivite": "Intercommunalité (EPCI à fiscalité propre)"},
        ),
    ]
    rows[0][mut.free_text.question] = "La Fibre64 — contact : dsi@lafibre64.fr"
    r = read(tmp_path, territories, headers, rows, name="v2.csv")
    states = r.report.rows.set_index("line")
    assert states.loc[3, "reason"] == "out_of_scope"
    assert states.loc[3, "detail"] == "type « Association » hors du champ de l’enquête"
    assert states.loc[4, "reason"] == "ambiguous"  # declared EPCI, identified as a commune
    assert r.report.unknown_values.empty  # Association is a known out-of-scope label
    assert r.data[mut.free_text.id].tolist() == ["La Fibre64 — contact : [courriel masqué]"]
    cols = list(r.data.columns)
    assert cols.index(mut.free_text.id) == cols.index("profil_mutualisation") + 1


def test_unknown_type_labels_are_reported_and_not_used(tmp_path, territories, catalogue, w1):
    rows = [
        make_row(catalogue, w1, ident("Pau", "64445", typ="Collectivité locale"), {}),
        make_row(catalogue, w1, ident("Lescar", "64335", typ="Collectivité locale"), {}),
        make_row(catalogue, w1, ident("Billère", "64129", typ="commune "), {}),
    ]
    r = read(tmp_path, territories, w1, rows)
    assert r.report.summary()["accepted"] == 3
    u = r.report.unknown_values
    assert u[["column", "indicator", "value", "count", "lines"]].values.tolist() == [
        ["Type de collectivité", "type", "Collectivité locale", 2, [2, 3]]
    ]


def test_unresolved_and_ambiguous_collectivities(tmp_path, territories, catalogue, w1):
    siret = luhn("2164044590001")
    rows = [
        make_row(catalogue, w1, ident("Saint-Martin"), {}),
        make_row(catalogue, w1, ident("Sainte-Colombe", dep="Rhône"), {}),
        make_row(catalogue, w1, ident("Commune imaginaire"), {}),
        make_row(catalogue, w1, ident("x", insee="1001"), {}),
        make_row(catalogue, w1, ident("Mairie", insee="64000"), {}),
        make_row(
            catalogue, w1, ident("", siren=f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"), {}
        ),
        make_row(catalogue, w1, ident("CC du Pays de Mormal", typ="Commune"), {}),
        make_row(catalogue, w1, ident("", siren="216404459", insee="64335"), {}),
        make_row(catalogue, w1, ident(""), {}),
    ]
    r = read(tmp_path, territories, w1, rows)
    rows_ = r.report.rows.set_index("line")
    assert rows_.loc[2, "reason"] == "ambiguous" and len(rows_.loc[2, "candidates"]) > 2
    assert rows_.loc[2, "detail"].startswith(
        "nom « Saint-Martin » : ambigu : 4 communes s'appellent Saint-Martin ("
    )
    assert rows_.loc[2, "detail"].endswith("— indiquez le département ou donnez le code INSEE")
    assert rows_.loc[3, "state"] == "accepted" and rows_.loc[3, "code"] == "69189"
    assert rows_.loc[4, "reason"] == "unresolved"
    assert rows_.loc[4, "detail"].startswith(
        "nom « Commune imaginaire » : inconnu : aucune commune ne s'appelle « imaginaire »"
    )
    assert rows_.loc[4, "detail"].endswith(
        "vérifiez l'orthographe ou donnez le code INSEE ou le SIREN"
    )
    assert rows_.loc[5, "code"] == "01001" and rows_.loc[6, "code"] == "64445"
    assert rows_.loc[7, "code"] == "64445"
    assert rows_.loc[8, "reason"] == "ambiguous"
    assert rows_.loc[8, "detail"].startswith("type déclaré « commune » mais nom → EPCI")
    assert rows_.loc[9, "reason"] == "ambiguous" and set(rows_.loc[9, "candidates"]) == {
        "64445",
        "64335",
    }
    assert rows_.loc[9, "detail"].startswith(
        "identifiants contradictoires : SIREN → commune 64445 (Pau), code INSEE → commune 64335"
    )
    assert rows_.loc[10, "reason"] == "unresolved"
    assert (
        rows_.loc[10, "detail"]
        == "aucun identifiant (SIREN, code INSEE, code postal ou nom) renseigné"
    )
    assert r.report.by_reason()["rows"].to_dict() == {"ambiguous": 3, "unresolved": 2}


def test_postal_codes_and_codes_contradicting_the_name(tmp_path, territories, catalogue, w1):
    headers = [*w1, "Code postal"]
    rows = [
        make_row(catalogue, headers, ident("Mairie de Lescar", **{"Code postal": "64230"}), {}),
        make_row(catalogue, headers, ident("", **{"Code postal": "64230"}), {}),
        make_row(catalogue, headers, ident("", **{"Code postal": "1280"}), {}),
        make_row(catalogue, headers, ident("", **{"Code postal": "99999"}), {}),
        make_row(catalogue, headers, ident("Lescar", insee="64230"), {}),  # a postal code as INSEE
        make_row(catalogue, headers, ident("Lescar", insee="64445"), {}),  # code and name disagree
        make_row(catalogue, headers, ident("Mairie", insee="64445"), {}),  # generic name: the code
        make_row(catalogue, headers, ident("Gan", insee="64230"), {}),
    ]
    r = read(tmp_path, territories, headers, rows)
    rows_ = r.report.rows.set_index("line")
    assert rows_.loc[2, "code"] == "64335"
    assert rows_.loc[3, "reason"] == "ambiguous" and "64335" in rows_.loc[3, "candidates"]
    assert len(rows_.loc[3, "candidates"]) == 15
    assert rows_.loc[3, "detail"].startswith(
        "code postal « 64230 » : ambigu : le code postal 64230 est partagé par 15 communes (64037, "
    )
    assert rows_.loc[3, "detail"].endswith("— donnez le code INSEE, le nom ou le département")
    c = territories.identifiers
    only = c[(c["kind"] == "code_postal") & (c["key"] == "01280")]["code"].item()
    assert rows_.loc[4, "code"] == only  # leading zero restored
    assert rows_.loc[5, "reason"] == "unresolved"
    assert rows_.loc[5, "detail"] == (
        "code postal « 99999 » : inconnu : aucune commune n'a le code postal 99999 (COG 2025) — "
        "vérifiez le code, ou donnez le code INSEE ou le nom"
    )
    assert rows_.loc[6, "code"] == "64335"
    assert rows_.loc[7, "reason"] == "ambiguous"
    assert "ce qui contredit le nom écrit à côté du code" in rows_.loc[7, "detail"]
    assert rows_.loc[8, "code"] == "64445"
    assert rows_.loc[9, "code"] == "64230"


def test_territory_columns_of_each_kind(tmp_path, territories, catalogue, w1):
    rows = [
        make_row(catalogue, w1, ident("Pau", "64445"), {}),
        make_row(catalogue, w1, ident("", siren="200067254"), {}),
        make_row(
            catalogue, w1, ident("Département des Pyrénées-Atlantiques", typ="Département"), {}
        ),
        make_row(catalogue, w1, ident("Région Bretagne", typ="Région"), {}),
        make_row(catalogue, w1, ident("Métropole de Lyon", siren="200046977"), {}),
        make_row(catalogue, w1, ident("Ville de Paris", insee="75056"), {}),
    ]
    r = read(tmp_path, territories, w1, rows)
    cols = [
        "kind",
        "type_label",
        "siren",
        "code",
        "level",
        "commune",
        "epci",
        "departement",
        "region",
    ]
    got = r.data[cols].astype(object).where(r.data[cols].notna(), None).values.tolist()
    assert got == [
        ["commune", "Commune", "216404459", "64445", "commune", "64445", "200067254", "64", "75"],
        [
            "epci",
            "Communauté d’agglomération",
            "200067254",
            "200067254",
            "epci",
            None,
            "200067254",
            "64",
            "75",
        ],
        ["departement", "Département", "226400018", "64", "departement", None, None, "64", "75"],
        ["region", "Région", "233500016", "53", "region", None, None, None, "53"],
        [
            "collectivite_a_statut_particulier",
            "Métropole de Lyon",
            "200046977",
            "200046977",
            "epci",
            None,
            "200046977",
            "69",
            "84",
        ],
        [
            "collectivite_a_statut_particulier",
            "Ville de Paris",
            "217500016",
            "75056",
            "commune",
            "75056",
            "200054781",
            "75",
            "11",
        ],
    ]
    pop = dict(zip(r.data["code"], r.data["population"], strict=True))
    c = territories.communes.set_index("code")
    assert pop["64445"] == c.loc["64445", "population"]
    assert pop["53"] == territories.regions.set_index("code").loc["53", "population"]
    assert str(r.data["population"].dtype) == "Int64"


def test_profile_from_the_function_or_the_profile_question(tmp_path, territories, catalogue, w1):
    cases = [
        ("DGS", "", "agent"),
        ("Maire", "", "elu"),
        ("Adjoint administratif", "", "agent"),
        ("Adjoint au maire", "", "elu"),
        ("Conseiller numérique France services", "", "agent"),
        ("Conseillère déléguée au numérique", "", "elu"),
        ("Bénévole", "", None),
        ("Maire", "Agent territorial", "agent"),
    ]
    communes = _communes(territories, len(cases))
    rows = [
        make_row(catalogue, w1, ident(nom, code, fonction=f), {"profil_fonction": p})
        for (code, nom), (f, p, _) in zip(communes, cases, strict=True)
    ]
    r = read(tmp_path, territories, w1, rows)
    got = r.data.set_index("code")["profile"]
    assert [None if pd.isna(got[c]) else got[c] for c, _ in communes] == [e for *_, e in cases]
    assert "profil_fonction" not in r.data and "profil_type_collectivite" not in r.data


# ---------------------------------------------------------------- waves and counts


def test_counts_add_up_and_responses_differ_from_collectivities(
    tmp_path, territories, catalogue, w1
):
    w2 = IDENT + question_headers(catalogue, (2,))
    a = write_csv(
        tmp_path / "vague1.csv",
        w1,
        [
            make_row(catalogue, w1, ident("Pau", "64445"), {}),
            make_row(catalogue, w1, ident("Pau", "64445"), {}),
            make_row(catalogue, w1, ident("Lescar", "64335"), {}),
            make_row(catalogue, w1, ident("Test", "64335"), {}),
        ],
    )
    b = write_csv(
        tmp_path / "vague2.csv",
        w2,
        [
            make_row(catalogue, w2, ident("Pau", "64445"), {}),
            make_row(catalogue, w2, ident("Inconnue-sur-Mer"), {}),
        ],
        delimiter=",",
    )
    r = read_responses([a, b], territories=territories)
    rep = r.report
    by_file = rep.by_file()
    assert by_file[["rows", "accepted", "superseded", "rejected"]].values.tolist() == [
        [4, 2, 1, 1],
        [2, 1, 0, 1],
    ]
    assert (by_file["rows"] == by_file[["accepted", "superseded", "rejected"]].sum(axis=1)).all()
    q = rep.by_questionnaire()
    assert (q["rows"] == q[["accepted", "superseded", "rejected"]].sum(axis=1)).all()
    assert q.loc["inclusion", "rows"] == 4 and q.loc["infra", "rows"] == 2
    assert q.loc["infra", "wave"] == 2
    w = rep.by_wave()
    assert w.loc["1", ["responses", "collectivities"]].tolist() == [2, 2]
    assert w.loc["2", ["responses", "collectivities"]].tolist() == [1, 1]
    assert w.loc["total", ["rows", "responses", "collectivities"]].tolist() == [6, 3, 2]
    assert sorted(r.data["wave"].tolist()) == [1, 1, 2]
    text = rep.to_text()
    assert "Ensemble : 3 réponses, 2 collectivités" in text
    assert "6 lignes lues : 3 acceptées, 1 remplacée" in text


def test_reports_name_files_without_their_folders(tmp_path, territories, catalogue, w1):
    """Published reports show file names; the full paths stay in the Python object."""
    w2 = IDENT + question_headers(catalogue, (2,))
    (tmp_path / "nord").mkdir()
    (tmp_path / "sud").mkdir()
    files = [
        write_csv(tmp_path / "nord" / "vague1.csv", w1, [
            make_row(catalogue, w1, ident("Pau", "64445"), {"cyber_pca": "Peut-être"}),
            make_row(catalogue, w1, ident("Pau", "64445"), {}),
            make_row(catalogue, w1, ident("Test", "64335"), {}),
        ]),
        write_csv(tmp_path / "sud" / "vague1.csv", w1, [
            make_row(catalogue, w1, ident("Lescar", "64335"), {}),
        ]),
        write_csv(tmp_path / "sud" / "vague2.csv", w2, [
            make_row(catalogue, w2, ident("Pau", "64445"), {}),
        ]),
    ]  # fmt: skip
    from barometre_geo.survey.publish import public_dict, public_text

    rep = read_responses(files, territories=territories).report
    shown = ["nord/vague1.csv", "sud/vague1.csv", "vague2.csv"]  # homonyms: their folder only
    assert rep.file_names() == dict(zip(map(str, files), shown, strict=True))
    assert rep.rows["file"].unique().tolist() == [str(f) for f in files]  # as passed
    outputs = {
        "to_text": rep.to_text(limit=100),
        "to_dict": json.dumps(rep.to_dict(), ensure_ascii=False),
        "html": rep._repr_html_(),
        "public_text": public_text(rep, limit=100),
        "public_dict": json.dumps(public_dict(rep), ensure_ascii=False),
    }
    for where, out in outputs.items():
        assert str(tmp_path) not in out, where
        assert all(name in out for name in shown), where
    text = outputs["to_text"]
    assert "  nord/vague1.csv : 3 lignes — 1 acceptée, 1 remplacée, 1 rejetée" in text
    assert "  - nord/vague1.csv ligne 4 : ligne de test" in text
    superseded = rep.rows.loc[rep.rows["state"] == "superseded", "detail"].tolist()
    assert len(superseded) == 1 and superseded[0].endswith(" de nord/vague1.csv")
    assert "  - nord/vague1.csv, « " in text  # the unknown answer "Peut-être"
    assert "Fichiers lus dans le dossier" not in text  # the folder is stated only on request
    d = rep.to_dict()
    assert [f["file"] for f in d["files"]] == shown
    assert {r["file"] for r in d["rows"]} == set(shown)
    # folder=True states the common folder once, for the local reader
    folder = rep.to_text(folder=True)
    assert folder.count(str(tmp_path)) == 1
    assert folder.splitlines()[2] == f"Fichiers lus dans le dossier {tmp_path}"


def test_file_names_and_common_folder(tmp_path, monkeypatch):
    from barometre_geo.survey.report import common_folder, file_names

    assert file_names(["a/x/v.csv", "b/x/v.csv", "b/w.csv"]) == {
        "a/x/v.csv": "a/x/v.csv",
        "b/x/v.csv": "b/x/v.csv",
        "b/w.csv": "w.csv",
    }
    assert file_names(["v.csv", "d/v.csv"]) == {"v.csv": "v.csv", "d/v.csv": "d/v.csv"}
    assert file_names(["/e/v1.csv", "/e/v1.csv"]) == {"/e/v1.csv": "v1.csv"}
    assert file_names([]) == {}
    assert common_folder(["v1.csv", "v2.csv"]) is None
    assert common_folder(["a/v1.csv", "b/v2.csv"]) is None
    monkeypatch.chdir(tmp_path)
    assert common_folder([str(tmp_path / "exports" / "v1.csv")]) == "exports"
    assert common_folder([str(tmp_path / "v1.csv")]) is None  # the working folder itself
    outside = tmp_path.parent / "ailleurs"
    assert common_folder([str(outside / "v1.csv")]) == str(outside)


def test_wave_column_and_rows_answering_several_waves(tmp_path, territories, catalogue):
    headers = [*IDENT, "Vague", *question_headers(catalogue, (1, 2))]
    blank2 = {
        i.id: ([] if i.kind == "multiple_choice" else "")
        for i in catalogue.indicators
        if i.wave == 2
    }
    blank1 = {
        i.id: ([] if i.kind == "multiple_choice" else "")
        for i in catalogue.indicators
        if i.wave == 1
    }
    rows = [
        make_row(catalogue, headers, ident("Pau", "64445", Vague="Vague 2"), {}),
        make_row(catalogue, headers, ident("Lescar", "64335"), blank2),
        make_row(catalogue, headers, ident("Billère", "64129"), blank1),
        make_row(catalogue, headers, ident("Bayonne", "64102"), {}),
        make_row(catalogue, headers, ident("Anglet", "64024", Vague="quatre"), blank1),
        make_row(catalogue, headers, ident("Biarritz", "64122", Vague="V?"), {}),
    ]
    r = read(tmp_path, territories, headers, rows)
    rows_ = r.report.rows.set_index("line")
    assert rows_.loc[[2, 3, 4, 6], "wave"].tolist() == [2, 1, 2, 2]
    assert rows_.loc[5, "reason"] == "unknown_wave" and pd.isna(rows_.loc[5, "wave"])
    assert (
        "plusieurs vagues (1, 2)" in rows_.loc[5, "detail"]
        and "columns: wave" in rows_.loc[5, "detail"]
    )
    assert r.report.cells[["line", "column", "issue"]].values.tolist() == [
        [6, "Vague", "vague illisible (1, 2 ou 3 attendu)"],
        [7, "Vague", "vague illisible (1, 2 ou 3 attendu)"],
    ]
    assert rows_.loc[7, "reason"] == "unknown_wave"


def test_fixed_wave_from_the_mapping(tmp_path, territories, catalogue, w1):
    rows = [make_row(catalogue, w1, ident("Pau", "64445"), {})]
    r = read(
        tmp_path,
        territories,
        w1,
        rows,
        mapping={"mapping_version": 1, "wave": 1, "edition": "essai"},
    )
    assert r.data["wave"].tolist() == [1]
    assert r.edition == "essai" and r.data["response_id"].tolist() == ["essai:v1:commune:64445"]
    # declared for another wave than its questions': not counted in it, each cell reported
    r = read(tmp_path, territories, w1, rows, mapping={"mapping_version": 1, "wave": 2})
    assert r.data.empty and r.report.rows["reason"].tolist() == ["empty"]
    assert len(r.report.cells) > 0
    assert (
        r.report.cells["issue"]
        .str.startswith("question de la vague 1 dans un fichier déclaré vague 2")
        .all()
    )


# ---------------------------------------------------------------- personal data


def test_personal_data_never_leaks(tmp_path, territories, catalogue, w1):
    headers = [*w1, "Contact", "Remarques"]
    rows = [
        make_row(
            catalogue,
            [*w1, "Contact", "Remarques"],
            ident(
                "Pau", "64445", fonction="DGS - 06 98 76 54 32", Contact=EMAILS[1], Remarques="RAS"
            ),
            {"cyber_pca": f"voir {EMAILS[2]}"},
            person=0,
        ),
        make_row(catalogue, headers, ident(f"Mairie {PHONES[1]}", Contact=PHONES[2]), {}, person=1),
        make_row(catalogue, headers, ident("Lescar", "64335", date=EMAILS[0]), {}, person=2),
    ]
    r = read(tmp_path, territories, headers, rows)
    secrets = EMAILS + PHONES + NAMES + ["06 98 76 54 32"]
    outputs = {
        "repr(report)": repr(r.report),
        "to_text": r.report.to_text(limit=1000),
        "to_dict": json.dumps(r.report.to_dict(), ensure_ascii=False),
        "html": r.report._repr_html_() + r._repr_html_(),
        "repr(responses)": repr(r),
        "data": r.data.to_csv(),
        "report frames": "".join(
            f.to_csv()
            for f in (
                r.report.rows,
                r.report.cells,
                r.report.unknown_values,
                r.report.ignored_columns,
            )
        ),
    }
    for where, text in outputs.items():
        for secret in secrets:
            assert secret not in text, (secret, where)
    assert r.report.dropped_columns["column"].tolist() == [
        "Nom du répondant",
        "Adresse e-mail",
        "Téléphone",
        "Contact",
    ]
    assert "[courriel masqué]" in outputs["to_text"] and "[téléphone masqué]" in outputs["to_text"]
    assert r.data.set_index("code").loc["64445", "fonction"] == "DGS - [téléphone masqué]"
    assert "Remarques" in r.report.ignored_columns["column"].tolist()


# ---------------------------------------------------------------- synthetic flag


def test_synthetic_exports_are_flagged_and_never_mixed_with_real_ones(
    tmp_path, territories, catalogue, w1
):
    headers = [*w1, "Données synthétiques"]
    demo = write_csv(
        tmp_path / "demo.csv",
        headers,
        [
            make_row(
                catalogue, headers, ident("Pau", "64445", **{"Données synthétiques": "oui"}), {}
            ),
        ],
    )
    real = write_csv(
        tmp_path / "real.csv", w1, [make_row(catalogue, w1, ident("Pau", "64445"), {})]
    )
    r = read_responses(demo, territories=territories)
    assert r.synthetic and r.report.synthetic
    assert "SYNTHETIC" in repr(r) and "DONNÉES SYNTHÉTIQUES" in r.report.to_text()
    assert not read_responses(real, territories=territories).synthetic
    flagged = read_responses(
        real, territories=territories, mapping={"mapping_version": 1, "synthetic": True}
    )
    assert flagged.synthetic
    with pytest.raises(
        SchemaError,
        match=r"Synthetic \(demo\) and real exports.*demo\.csv.*real\.csv.*separate calls",
    ):
        read_responses([demo, real], territories=territories)


# ---------------------------------------------------------------- errors


def test_no_identification_column(tmp_path, territories, catalogue):
    q = catalogue.get("cyber_pca").question
    path = write_csv(
        tmp_path / "noid.csv",
        ["Code commune INSEE", q],
        [{"Code commune INSEE": "64445", q: "Oui"}],
    )
    with pytest.raises(
        SchemaError,
        match=r"noid\.csv: no column identifies the collectivity\. Expected one of: « SIREN ».*"
        r"Closest headers found: « Code commune INSEE ».*Fix: add your header to your mapping file "
        r"under columns: \(e\.g\. columns: \{insee: \"Code commune INSEE\"\}\)",
    ):
        read_responses(path, territories=territories)
    r = read_responses(
        path,
        territories=territories,
        mapping={"mapping_version": 1, "columns": {"insee": "Code commune INSEE"}},
    )
    assert r.data["code"].tolist() == ["64445"]


def test_no_question_column(tmp_path, territories):
    path = write_csv(
        tmp_path / "noq.csv",
        ["Code INSEE", "Disposez-vous d'un PCA informatique ?"],
        [{"Code INSEE": "64445"}],
    )
    with pytest.raises(
        SchemaError,
        match=r"noq\.csv: none of the 2 columns is a question of the catalogue.*Closest headers: "
        r"« Disposez-vous d'un PCA informatique \? ».*"
        r"Fix: map them in your mapping file under columns:",
    ):
        read_responses(path, territories=territories)


def test_no_file_and_missing_file(tmp_path, territories):
    with pytest.raises(
        SchemaError, match=r"needs at least one export file.*read_responses\(\['vague1\.csv'"
    ):
        read_responses([], territories=territories)
    with pytest.raises(InputFileError, match=r"absent\.csv: file not found\. Check the path"):
        read_responses(tmp_path / "absent.csv", territories=territories)


def test_repr_and_html(tmp_path, territories, catalogue, w1):
    r = read(tmp_path, territories, w1, [make_row(catalogue, w1, ident("Pau", "64445"), {})])
    assert repr(r).startswith("<Responses 2023-2025: 1 responses (wave 1: 1) from 1 collectivities")
    assert "<IngestReport 2023-2025: 1 rows = 1 accepted + 0 superseded + 0 rejected" in repr(
        r.report
    )
    assert "Rapport d’import" in r._repr_html_() and "<table" in r.report._repr_html_()
    assert len(r) == 1 and "cyber_pca" in r.indicators()


@pytest.mark.parametrize(
    "name",
    [
        "barometre_geo.survey.responses",
        "barometre_geo.survey.text",
        "barometre_geo.survey.mapping",
        "barometre_geo.survey.report",
    ],
)
def test_doctests(name, tmp_path, monkeypatch):
    import doctest
    import importlib
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # examples write under tmp_path
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
