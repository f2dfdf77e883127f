"""Text helpers of the ingest: matching keys, personal data, percentages, dates."""

from __future__ import annotations

import pandas as pd
import pytest

from barometre_geo.survey.text import (
    is_personal_header,
    key,
    looks_personal,
    mask,
    parse_dates,
    parse_percentages,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Disposez-vous d’un RSSI ?", "disposez vous d'un rssi?"),
        (
            "Non, mais c’est prévu dans les 12 prochains mois",
            "non mais c'est prevu dans les 12 PROCHAINS mois",
        ),
        ("Sans\u00a0réponse", "  sans   REPONSE "),
        ("Œuvre", "oeuvre"),
        ("Question\u202f?", "question ?"),
    ],
)
def test_key_ignores_case_accents_apostrophes_spaces_punctuation(a, b):
    assert key(a) == key(b)


def test_key_keeps_words_apart():
    assert key("Oui, partiellement") != key("Oui")
    assert key(None) == "" and key(float("nan")) == ""


@pytest.mark.parametrize(
    "header",
    [
        "Adresse e-mail",
        "Courriel",
        "Email",
        "Téléphone",
        "Tél.",
        "N° de portable",
        "Nom du répondant",
        "Prénom",
        "Nom et prénom",
        "Adresse IP",
        "ipaddr",
    ],
)
def test_personal_headers(header):
    assert is_personal_header(header)


@pytest.mark.parametrize(
    "header",
    [
        "Nom de la collectivité",
        "Code INSEE",
        "Fonction du répondant",
        "Nom",
        "Département",
        "Type de collectivité",
        "SIREN",
    ],
)
def test_not_personal_headers(header):
    assert not is_personal_header(header)


def test_personal_content_and_mask():
    assert looks_personal(["", "contact: j.dupont+barometre@ville-exemple.fr"])
    assert looks_personal(["+33 6 12 34 56 78"]) and looks_personal(["05.59.12.34.56"])
    assert looks_personal(["0612345678"])
    assert not looks_personal(
        ["21640102700017", "216 401 027 00017", "64445", "8,2 %", "2025-02-28"]
    )
    assert mask("Appelez le 06 12 34 56 78 ou a.b@c.fr") == (
        "Appelez le [téléphone masqué] ou [courriel masqué]"
    )


def test_percentages():
    values = pd.Series(["8,2 %", "8.2%", "8,2", " 12 ", "", "0", "100", "140", "-3", "env. 10"])
    num, issue = parse_percentages(values)
    assert num.tolist()[:4] == [8.2, 8.2, 8.2, 12.0]
    assert pd.isna(num[4]) and issue[4] == ""
    assert num[5] == 0 and num[6] == 100
    assert pd.isna(num[7]) and issue[7] == "pourcentage hors de 0–100"
    assert pd.isna(num[8]) and issue[8] == "pourcentage hors de 0–100"
    assert pd.isna(num[9]) and issue[9] == "pas un nombre"
    assert num.dtype == "float64"


def test_dates_in_every_platform_format():
    values = pd.Series(
        [
            "2025-02-28",
            "2025-02-28 14:03:27",
            "2025-02-28T13:03:00Z",
            "2025-02-28T14:03:00+01:00",
            "28/02/2025 14:03",
            "28/02/2025",
            "28-02-2025 14:03:27",
            "28.02.25",
            "ven, 28/02/2025 - 14:03",
            "28/02/2025 à 14h03",
            "45716.5854166667",
            "",
        ]
    )
    d, issue = parse_dates(values)
    s = [str(x) for x in d]
    assert s[0] == "2025-02-28 00:00:00"
    assert s[1] == "2025-02-28 14:03:27"
    assert s[2] == s[3] == "2025-02-28 14:03:00"  # converted to Paris time
    assert s[4] == s[8] == s[9] == "2025-02-28 14:03:00"
    assert s[5] == s[7] == "2025-02-28 00:00:00"
    assert s[6] == "2025-02-28 14:03:27"
    assert s[10] == "2025-02-28 14:03:00"  # Excel serial date
    assert pd.isna(d[11]) and issue[11] == ""
    assert (issue[:11] == "").all()


def test_month_first_only_when_the_column_shows_it():
    d, _ = parse_dates(pd.Series(["02/28/2025", "03/01/2025"]))
    assert [str(x.date()) for x in d] == ["2025-02-28", "2025-03-01"]
    d, _ = parse_dates(pd.Series(["2/28/2025 2:03:00 PM"]))
    assert str(d[0]) == "2025-02-28 14:03:00"
    d, _ = parse_dates(pd.Series(["03/01/2025"]))
    assert str(d[0].date()) == "2025-01-03"  # day first by default (French)


def test_unreadable_dates_are_flagged():
    d, issue = parse_dates(pd.Series(["hier", "31/02/2025", "2025-13-01", "12345"]))
    assert d.isna().all()
    assert issue.tolist() == ["date illisible"] * 4
