"""Tests of the resolver (barometre_geo.resolve) on the embedded COG 2025 reference."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import barometre_geo as bg
from barometre_geo.errors import SchemaError, UnknownValueError
from barometre_geo.territories.lookup import get_index
from barometre_geo.territories.resolve import REASON_CODES
from barometre_geo.territories.text import luhn_ok

CSP = "collectivite_a_statut_particulier"
DATA = Path(__file__).parent / "data"


def one(t, value, **kw) -> dict:
    return bg.resolve(t, [value], **kw).iloc[0].to_dict()


def ids_of(t, kind: str) -> pd.DataFrame:
    return t.identifiers[t.identifiers["kind"] == kind]


def own_or_among(result: pd.DataFrame, expected: pd.Series) -> pd.Series:
    """Row by row: resolved to the expected code, or ambiguous with it among candidates."""
    ok = []
    for code, status, cands, exp in zip(
        result["code"], result["status"], result["candidates"], expected, strict=True
    ):
        if status == "resolved":
            ok.append(code == exp)
        elif status == "ambiguous":
            ok.append(any(c == exp or c.endswith(":" + exp) for c in cands))
        else:
            ok.append(False)
    return pd.Series(ok, index=expected.index)


# ----------------------------------------------------------------------------- contract


def test_output_contract_one_row_per_input_in_order(territories):
    values = ["Lyon", None, "01001", "Lyon", float("nan"), "test", "200069110", ""]
    r = bg.resolve(territories, values)
    assert list(r.columns) == [
        "input",
        "kind",
        "code",
        "level",
        "nom",
        "method",
        "status",
        "reason",
        "reason_code",
        "candidates",
    ]
    assert isinstance(r.index, pd.RangeIndex) and len(r) == len(values)
    assert r["code"].tolist()[0] == "69123" and r["code"].tolist()[3] == "69123"
    assert r["code"].tolist()[2] == "01001" and r["code"].tolist()[6] == "200069110"
    assert set(r["status"]) <= {"resolved", "ambiguous", "unresolved"}
    assert r.loc[1, "status"] == r.loc[4, "status"] == r.loc[7, "status"] == "unresolved"
    assert r.loc[1, "reason_code"] == "empty" and pd.isna(r.loc[1, "input"])
    assert r.loc[1, "reason"].startswith("vide : aucune valeur — saisissez le code INSEE")
    resolved = r["status"] == "resolved"
    assert (r.loc[resolved, "reason"] == "").all() and (r.loc[resolved, "reason_code"] == "").all()
    assert r.loc[~resolved, "reason_code"].isin(list(REASON_CODES)).all()
    assert r["candidates"].map(lambda c: isinstance(c, tuple)).all()


def test_empty_input_gives_empty_frame(territories):
    r = bg.resolve(territories, [])
    assert len(r) == 0 and "candidates" in r.columns


def test_single_string_is_one_value(territories):
    r = bg.resolve(territories, "Val-de-Reuil")
    assert len(r) == 1 and r.loc[0, "code"] == "27701"


def test_territories_resolve_delegates(territories):
    pd.testing.assert_frame_equal(
        territories.resolve(["Lyon", "1001"]), bg.resolve(territories, ["Lyon", "1001"])
    )


def test_lookup_tables_are_cached_per_territories(territories):
    assert get_index(territories) is get_index(territories)
    # a fresh copy of the same reference reuses them; a changed one does not
    assert get_index(bg.load_territories()) is get_index(territories)
    ids = territories.identifiers.copy()
    ids.loc[ids["key"] == "75001", "code"] = "01001"
    changed = dataclasses.replace(territories, identifiers=ids)
    assert get_index(changed) is not get_index(territories)
    assert one(changed, "75001")["code"] == "01001"


def test_deduplication_keeps_row_alignment(territories):
    rng = np.random.default_rng(0)
    base = ["Sainte-Colombe", "69001", "1001", "Lyon", "test", None, "CC du Pays de Mormal"]
    hints = ["69", None, "01", "Ain", None, "69", None]
    idx = rng.integers(len(base), size=300)
    values = [base[i] for i in idx]
    deps = [hints[i] for i in idx]
    big = bg.resolve(territories, values, departement=deps)
    for j, i in enumerate(idx[:40]):
        single = bg.resolve(territories, [base[i]], departement=[hints[i]]).iloc[0]
        assert big.iloc[j].drop("input").equals(single.drop("input")), (base[i], hints[i])


# ----------------------------------------------------------------------------- INSEE codes


def test_every_current_commune_code_resolves_to_itself(territories):
    codes = territories.communes["code"]
    r = bg.resolve(territories, codes, holds="insee")  # a column declared as INSEE codes
    assert (r["status"] == "resolved").all()
    assert (r["code"].to_numpy() == codes.to_numpy()).all()
    assert (r["method"] == "code_insee").all()
    assert set(r["kind"]) == {"commune", CSP}  # Paris is the Ville de Paris
    assert r.loc[r["code"] == "75056", "kind"].item() == CSP
    # a column of unknown kind: itself, or ambiguous when also another commune's postal code
    auto = bg.resolve(territories, codes)
    assert own_or_among(auto, codes).all()
    postal = set(ids_of(territories, "code_postal")["key"])
    also = codes.isin(postal).to_numpy() & (auto["status"] == "ambiguous").to_numpy()
    assert also.sum() > 1000
    assert (auto.loc[also, "reason_code"] == "ambiguous_reading").all()
    done = auto["status"] == "resolved"
    assert (auto.loc[done, "code"] == codes[done]).all()


def test_codes_that_lost_their_leading_zero(territories):
    codes = territories.communes.loc[territories.communes["code"].str.startswith("0"), "code"]
    for variant in (codes.str[1:], codes.str[1:].astype(int), codes.str[1:].astype(float)):
        r = bg.resolve(territories, variant.tolist(), holds="insee")
        assert (r["code"].to_numpy() == codes.to_numpy()).all()
        assert (r["method"] == "code_insee+zero").all()
        assert own_or_among(bg.resolve(territories, variant.tolist()), codes).all()
    assert one(territories, "1001.0")["code"] == "01001"


def test_corsica_codes(territories):
    assert one(territories, "2A004")["nom"] == "Ajaccio"
    assert one(territories, "2a004")["code"] == "2A004"
    # old form (before 1976), unambiguous: through ancien_code
    assert one(territories, "20004")["code"] == "2A004"
    assert one(territories, 20004)["method"] == "ancien_code"
    # every current Corsican commune under its 20xxx form: itself, or ambiguous with a
    # postal code of the same digits
    corse = territories.communes.loc[territories.communes["departement"].isin(["2A", "2B"]), "code"]
    r = bg.resolve(territories, ("20" + corse.str[2:]).tolist())
    assert own_or_among(r, corse.reset_index(drop=True)).all()
    # 20150: old code of 2B150 and postal code of Corse-du-Sud communes: never guessed
    r = one(territories, "20150")
    assert r["status"] == "ambiguous" and "2B150" in r["candidates"]
    assert r["reason_code"] == "ambiguous_reading"
    assert r["reason"].startswith("ambigu : 20150 est un ancien code INSEE de ")
    assert "et le code postal de " in r["reason"]
    assert r["reason"].endswith("ou donnez le nom ou le département")
    # declared: the INSEE reading (the old code), or the postal one
    assert one(territories, "20150", holds="insee")["code"] == "2B150"
    r = one(territories, "20150", holds="postal")
    assert r["code"] != "2B150" and r["method"].startswith("code_postal")


@pytest.mark.parametrize(
    ("value", "code", "kind"),
    [("13201", "13055", "commune"), ("75112", "75056", CSP), ("69381", "69123", "commune")],
)
def test_arrondissements_municipaux(territories, value, code, kind):
    r = one(territories, value)
    assert (r["code"], r["kind"], r["method"]) == (code, kind, "arrondissement_municipal")


def test_every_arrondissement_and_delegated_code_reaches_its_commune(territories):
    for kind in ("arrondissement_municipal", "commune_deleguee", "commune_associee"):
        ids = ids_of(territories, kind)
        r = bg.resolve(territories, ids["key"].tolist())
        assert own_or_among(r, ids["code"].reset_index(drop=True)).all(), kind


def test_every_former_code_reaches_its_commune_or_is_ambiguous(territories):
    ids = ids_of(territories, "ancien_code")
    r = bg.resolve(territories, ids["key"].tolist())
    ok = own_or_among(r, ids["code"].reset_index(drop=True))
    # codes of the Seine / Seine-et-Oise (before 1968) read first as postal codes
    legacy = ids["key"].reset_index(drop=True).isin(get_index(territories).legacy)
    assert ok[~legacy].all()
    assert (r.loc[legacy, "status"] != "unresolved").all()


def test_former_code_attached_to_two_communes_is_ambiguous(territories):
    # the sources disagree: ancien code of 55245, commune associée of 55386
    r = one(territories, "55273")
    assert r["status"] == "ambiguous" and set(r["candidates"]) == {"55245", "55386"}
    assert pd.isna(r["code"]) and r["reason_code"] == "ambiguous_code"
    assert r["reason"] == (
        "ambigu : l'ancien code 55273 correspond aujourd'hui à 2 communes (55386, 55245) — "
        "donnez le code INSEE actuel ou le nom"
    )
    r = one(territories, "60455")
    assert r["status"] == "ambiguous" and set(r["candidates"]) == {"60054", "60694"}


def test_codes_of_cog_2019_to_2023_gone_since(territories):
    """Codes of COG 2019-2023 that are neither current nor délégué codes in 2025.

    Fixture derived from @etalab/decoupage-administratif 0.7.0, 1.1.1, 2.3.1 and
    3.1.1 (see tests/data/README.md).
    """
    old = pd.read_csv(DATA / "cog2019_2023_codes_disparus.csv", dtype=str, keep_default_na=False)
    assert len(old) > 300
    r = bg.resolve(territories, old["code"].tolist())
    assert (r["status"] != "unresolved").all()
    # a délégué/associated code resolves where its chef-lieu of the time resolves
    parent = bg.resolve(territories, old["parent"].tolist())
    both = (r["status"] == "resolved") & (parent["status"] == "resolved")
    assert both.sum() > 250
    assert (r.loc[both, "code"] == parent.loc[both, "code"]).all()
    # the 18 ambiguous ones are also postal codes, with the right commune among candidates
    amb = r["status"] == "ambiguous"
    assert amb.sum() < 25 and r.loc[amb, "reason"].str.contains("code postal").all()
    assert (r.loc[amb, "reason_code"] == "ambiguous_reading").all()
    # no code of 2019-2023 is ranked after postal codes as a pre-1968 code
    assert not set(old["code"]) & set(get_index(territories).legacy)


def test_pre_1968_seine_codes_rank_after_postal_codes(territories):
    r = one(territories, "75001")
    assert (r["code"], r["method"], r["kind"]) == ("75056", "code_postal", CSP)
    # Alfortville's code before 1968, chosen when the département hint says 94
    r = one(territories, "75001", departement="94")
    assert (r["code"], r["method"]) == ("94002", "ancien_code+departement")


def test_collectivites_outre_mer_are_outside_the_reference(territories):
    for value in ("97502", "97500", "98818"):
        r = one(territories, value)
        assert (r["status"], r["reason_code"]) == ("unresolved", "outside_reference")
        assert r["reason"].startswith(f"hors référence : {value} est le code ")
        assert "collectivité d'outre-mer" in r["reason"]
    assert ids_of(territories, "collectivite_outre_mer")["key"].isin(["97133"]).any()
    # 98714: INSEE code of Bora-Bora, postal code of Papeete — both named, the INSEE one
    # first; whatever the order of the identifiers (Papeete's code 98735 sorts after)
    r = one(territories, "98714")
    assert "98714 est le code INSEE de Bora-Bora et le code postal de Papeete" in r["reason"]
    assert "le code INSEE de Bora-Bora," in one(territories, "98714", holds="insee")["reason"]
    assert "le code postal de Papeete," in one(territories, "98714", holds="postal")["reason"]


def test_unknown_codes(territories):
    r = one(territories, "99999")
    assert r["reason_code"] == "unknown_code"
    assert r["reason"] == (
        "inconnu : aucune commune n'a le code INSEE ou postal 99999 (COG 2025, anciens codes "
        "compris) — vérifiez le code ou donnez le nom"
    )
    assert (
        "09999 (COG 2025, anciens codes compris ; zéro initial rétabli)"
        in one(territories, "9999")["reason"]
    )
    r = one(territories, "2A999")
    assert r["reason_code"] == "unknown_code" and r["reason"].startswith(
        "inconnu : aucune commune n'a le code INSEE 2A999 (COG 2025) — vérifiez le code"
    )
    r = one(territories, "1234567")
    assert r["reason_code"] == "malformed_code"
    assert r["reason"] == (
        "format inconnu : 7 chiffres, ni un code INSEE ou postal (5), ni un SIREN (9), ni un "
        "SIRET (14) — vérifiez la saisie"
    )
    r = one(territories, "00000")
    assert r["reason_code"] == "empty"
    assert r["reason"].startswith("vide : « 00000 » est une valeur de remplissage — saisissez")
    r = one(territories, "975")
    assert r["reason_code"] == "unknown_code"
    assert "975 n'est le code d'aucun département ni d'aucune région — vérifiez" in r["reason"]


def test_departement_and_region_codes(territories):
    assert (one(territories, "69")["code"], one(territories, "69")["level"]) == (
        "69",
        "departement",
    )
    assert one(territories, "2A")["code"] == "2A" and one(territories, "971")["code"] == "971"
    r = one(territories, "84")  # Vaucluse and Auvergne-Rhône-Alpes
    assert r["status"] == "ambiguous"
    assert r["candidates"] == ("departement:84", "region:84") and pd.isna(r["level"])
    assert one(territories, "CD69")["code"] == "69"
    assert one(territories, "Département 2A")["code"] == "2A"
    assert one(territories, "Région 53")["code"] == "53"
    r = one(territories, "Région 99")
    assert (r["status"], r["reason_code"]) == ("unresolved", "unknown_code")
    assert r["reason"].startswith("inconnu : aucune région n'a le code 99 — vérifiez le code")
    r = one(territories, "20")
    assert r["candidates"] == ("2A", "2B") and r["reason_code"] == "ambiguous_code"
    assert r["reason"] == (
        "ambigu : 20 désigne 2 départements, Corse-du-Sud (2A) et Haute-Corse (2B) — "
        "écrivez 2A ou 2B"
    )
    r = one(territories, "24")
    assert r["reason"] == (
        "ambigu : 24 désigne le département Dordogne et la région Centre-Val de Loire — "
        "écrivez « Département 24 » ou « Région 24 »"
    )
    assert one(territories, "Département 24")["code"] == "24"  # the fix it gives works
    assert one(territories, "Région 24")["level"] == "region"


# ----------------------------------------------------------------------------- SIREN / SIRET


def test_luhn():
    assert luhn_ok("200069110") and luhn_ok("21750001600019")
    assert not luhn_ok("200069111")


def test_every_commune_and_epci_siren_resolves(territories):
    com = territories.communes
    r = bg.resolve(territories, com["siren"])
    assert (r["status"] == "resolved").all() and (r["code"].to_numpy() == com["code"]).all()
    epci = territories.epci
    r = bg.resolve(territories, epci["siren"])
    assert (r["status"] == "resolved").all() and (r["code"].to_numpy() == epci["code"]).all()
    assert set(r["level"]) == {"epci"} and (r["method"] == "siren").all()


@pytest.mark.parametrize("level", ["departement", "region"])
def test_every_departement_and_region_siren_resolves(territories, level):
    gdf = territories.level(level).dropna(subset=["siren"])
    r = bg.resolve(territories, gdf["siren"])
    assert (r["code"].to_numpy() == gdf["code"].to_numpy()).all()
    assert set(r["kind"]) == {level}


@pytest.mark.parametrize("value", ["200 069 110", "200.069.110", "200-069-110", 200069110])
def test_siren_with_separators(territories, value):
    assert one(territories, value)["code"] == "200069110"


def test_siret_gives_its_siren(territories):
    r = one(territories, "217 500 016 00019")
    assert (r["code"], r["method"], r["kind"]) == ("75056", "siret", CSP)
    r = one(territories, "22350001800013")  # conseil départemental d'Ille-et-Vilaine
    assert (r["code"], r["level"], r["method"]) == ("35", "departement", "siret")


def test_superseded_epci_siren_resolves_to_its_successor(territories):
    pred = ids_of(territories, "epci_predecesseur")
    successors = pred.groupby("key")["code"].agg(tuple)
    assert (successors.str.len() == 1).sum() >= 10 and (successors.str.len() > 1).sum() >= 5
    for key, succ in successors.items():
        r = one(territories, key)
        if len(succ) == 1:  # merged into one EPCI: its SIREN is that EPCI
            assert (r["code"], r["method"], r["kind"]) == (succ[0], "epci_predecesseur", "epci")
        else:  # its communes went to several EPCI: never the first listed
            assert (r["status"], r["reason_code"]) == ("ambiguous", "ambiguous_code")
            assert set(r["candidates"]) == set(succ) and pd.isna(r["code"])


def test_invalid_and_unknown_siren(territories):
    r = one(territories, "200069111")
    assert r["status"] == "unresolved" and r["method"] == "siren"
    assert r["reason_code"] == "invalid_siren"
    assert r["reason"] == (
        "SIREN 200 069 111 invalide : la clé de contrôle (Luhn) est fausse — vérifiez la saisie"
    )
    r = one(territories, "21750001600018")
    assert (r["status"], r["reason_code"]) == ("unresolved", "invalid_siret")
    assert r["reason"] == (
        "SIRET 217 500 016 00018 invalide : la clé de contrôle (Luhn) est fausse — vérifiez la "
        "saisie, ou donnez le SIREN (ses 9 premiers chiffres)"
    )
    assert one(territories, "217500016")["code"] == "75056"  # the fix it gives works
    # a SIRET whose own key is right but whose SIREN's is wrong
    r = one(territories, "13130025265000")
    assert luhn_ok("13130025265000") and not luhn_ok("131300252")
    assert r["reason_code"] == "invalid_siret"
    assert "clé de contrôle (Luhn) de son SIREN 131 300 252 est fausse" in r["reason"]
    r = one(territories, "130025265")  # valid key, not a collectivity (DINUM)
    assert (r["kind"], r["reason_code"]) == ("unknown", "unknown_siren")
    assert r["reason"].startswith("SIREN 130 025 265 inconnu : ni commune, ni EPCI")
    assert r["reason"].endswith("vérifiez la saisie, ou donnez le code INSEE ou le nom")


# ----------------------------------------------------------------------------- special status


CSP_CASES = [
    ("Ville de Paris", "217500016", "commune", "75056"),
    ("Métropole de Lyon", "200046977", "epci", "200046977"),
    ("Collectivité européenne d'Alsace", "200094332", "departement", "67"),
    ("Collectivité de Corse", "200076958", "region", "94"),
    ("Martinique", "200055507", "region", "02"),
    ("Guyane", "200052678", "region", "03"),
    ("Mayotte", "229850003", "departement", "976"),
]


@pytest.mark.parametrize(("name", "siren", "level", "code"), CSP_CASES)
def test_collectivites_a_statut_particulier(territories, name, siren, level, code):
    for value in (name, siren, name.upper()):
        r = one(territories, value)
        assert (r["kind"], r["level"], r["code"], r["status"]) == (CSP, level, code, "resolved")


def test_every_csp_alias_resolves(territories):
    aliases = ids_of(territories, "nom_collectivite_a_statut_particulier")
    r = bg.resolve(territories, aliases["key"])
    assert (r["kind"] == CSP).all()
    assert (r["level"] + ":" + r["code"]).tolist() == aliases["code"].tolist()


def test_csp_perimeter_checks_the_hint(territories):
    # the CeA is attributed to 67 but spans 67 and 68
    r = one(territories, "CeA", departement="68")
    assert (r["code"], r["status"]) == ("67", "resolved")
    assert one(territories, "CeA", departement="69")["status"] == "ambiguous"
    assert ids_of(territories, "perimetre_collectivite_a_statut_particulier").shape[0] == 8


# ----------------------------------------------------------------------------- names


NAMES = [
    ("Mairie de Val-de-Reuil", "commune", "27701"),
    ("Commune de Saint-Fons (69)", "commune", "69199"),
    ("CC du Pays de Mormal", "epci", "200043321"),
    ("Communauté d'agglomération du Gard rhodanien", "epci", "200034692"),
    ("Département d'Ille-et-Vilaine", "departement", "35"),
    ("Région Bretagne", "region", "53"),
    ("Conseil départemental du Nord", "departement", "59"),
    ("Ville de Lyon", "commune", "69123"),
    ("SAINT ETIENNE", "commune", "42218"),
    ("St-Étienne", "commune", "42218"),
    ("Ste Foy les Lyon", "commune", "69202"),
    ("L'Haÿ-les-Roses", "commune", "94038"),
    ("L’Hay les Roses", "commune", "94038"),
    ("Mairie du Mans", "commune", "72181"),
    ("Mans", "commune", "72181"),
    ("Conseil municipal de Saint-Fons", "commune", "69199"),
    ("Comm. de communes du Pays de Mormal", "epci", "200043321"),
    ("Agglo du Gard Rhodanien", "epci", "200034692"),
    ("Rennes Métropole", "epci", "243500139"),
    ("Métropole Rennes", "epci", "243500139"),
    ("CAPI", "epci", "243800604"),
    ("Conseil régional d'Île-de-France", "region", "11"),
    ("Région Sud", "region", "93"),
    ("Saint-Fons, Rhône", "commune", "69199"),
    ("69 - Saint-Fons", "commune", "69199"),
    ("Marseille 13e", "commune", "13055"),
    ("Lyon 3e arrondissement", "commune", "69123"),
    ("Mairie de Hôpital-Camfrout", "commune", "29080"),
    ("Oncy-sur-École (91)", "commune", "91463"),
]


@pytest.mark.parametrize(("value", "level", "code"), NAMES)
def test_names_as_people_type_them(territories, value, level, code):
    r = one(territories, value)
    assert (r["status"], r["level"], r["code"]) == ("resolved", level, code), r


def test_every_commune_name_resolves_to_itself_or_is_ambiguous(territories):
    com = territories.communes
    r = bg.resolve(territories, com["nom"])
    assert own_or_among(r, com["code"]).all()
    unique = ~com["nom"].duplicated(keep=False)
    assert (r.loc[unique, "status"] == "resolved").mean() > 0.99
    # never resolved to another territory, upper-case and without accents either
    plain = com["nom"].str.upper().str.replace("Œ", "OE").str.normalize("NFKD")
    plain = plain.str.encode("ascii", "ignore").str.decode("ascii")
    assert own_or_among(bg.resolve(territories, plain), com["code"]).all()


def test_every_commune_name_with_its_departement_hint(territories):
    com = territories.communes
    r = bg.resolve(territories, com["nom"], departement=com["departement"])
    assert own_or_among(r, com["code"]).all()
    # only homonyms within one département stay ambiguous ("Bors" twice in Charente)
    assert (r["status"] == "ambiguous").sum() < 40


def test_every_epci_name_resolves_to_itself_or_is_ambiguous(territories):
    epci = territories.epci
    short = ids_of(territories, "nom_epci").set_index("code")["nom"]
    for names in (
        epci["nom"],
        epci["code"].map(short).fillna(epci["nom"]),
        epci["nom"].str.replace("Communauté de communes", "CC", regex=False),
        epci["nom"].str.replace("Communauté d'agglomération", "CA", regex=False),
    ):
        r = bg.resolve(territories, names)
        assert own_or_among(r, epci["code"]).all()
        assert (r["status"] == "resolved").mean() > 0.97


def test_epci_abbreviated_name_shared_by_two_epci_is_ambiguous(territories):
    # "CC des Deux Vallées" is the DGCL short name of 246000772 and the abbreviated
    # long name of 249100157 (short name "CC des 2 Vallées")
    for value in ("CC des Deux Vallées", "CC des 2 Vallées", "Deux Vallées"):
        r = one(territories, value)
        assert r["status"] == "ambiguous" and set(r["candidates"]) == {"246000772", "249100157"}
    r = one(territories, "CC des Deux Vallées", departement="91")
    assert r["code"] == "249100157" and r["method"] == "nom+departement"


def test_epci_nature_mismatch_is_flagged(territories):
    r = one(territories, "CC du Grand Chambéry")  # a communauté d'agglomération
    assert (r["code"], r["method"]) == ("200069110", "nom+nature")


def test_departement_and_region_names(territories):
    dep = territories.departements
    r = bg.resolve(territories, "Département " + dep["nom"])
    assert (r["code"].to_numpy() == dep["code"].to_numpy()).all()
    reg = territories.regions
    r = bg.resolve(territories, "Région " + reg["nom"])
    ok = (r["level"] == "region") & (r["code"].to_numpy() == reg["code"].to_numpy())
    assert ok.all()


def test_former_commune_and_superseded_epci_names(territories):
    deleguee = ids_of(territories, "commune_deleguee")
    row = deleguee[deleguee["key"] == "01033"].iloc[0]  # Bellegarde-sur-Valserine
    r = one(territories, row["nom"])
    assert (r["code"], r["method"]) == ("01033", "nom_ancien")
    pred = ids_of(territories, "epci_predecesseur").iloc[0]
    r = one(territories, pred["nom"])
    assert (r["code"], r["method"]) == (pred["code"], "nom_ancien")


def test_homonyms_are_never_guessed(territories):
    r = one(territories, "Sainte-Colombe")
    assert r["status"] == "ambiguous" and len(r["candidates"]) == 12
    assert pd.isna(r["code"]) and pd.isna(r["nom"]) and r["level"] == "commune"
    assert r["reason_code"] == "ambiguous_name"
    assert r["reason"].startswith("ambigu : 12 communes s'appellent Sainte-Colombe (")
    assert r["reason"].endswith(", …) — indiquez le département ou donnez le code INSEE")
    r = one(territories, "Saint-Denis")
    assert r["reason"] == (
        "ambigu : 4 communes s'appellent Saint-Denis (11339, 30247, 93066, 97411) — indiquez "
        "le département ou donnez le code INSEE"
    )
    r = one(territories, "CC des Deux Vallées")  # EPCI: the département or the SIREN
    assert r["reason"].startswith("ambigu : 2 EPCI s'appellent ")
    assert r["reason"].endswith("— indiquez le département ou donnez le SIREN")
    r = one(territories, "Saint-Martin")
    assert r["status"] == "ambiguous" and len(r["candidates"]) >= 4


@pytest.mark.parametrize(
    "hint", ["69", 69, 69.0, "Rhône", "rhone", "69 - Rhône", "Département du Rhône"]
)
def test_departement_hint_forms(territories, hint):
    r = one(territories, "Sainte-Colombe", departement=hint)
    assert (r["code"], r["method"]) == ("69189", "nom+departement")


def test_hint_with_lost_zero_and_corsica(territories):
    assert one(territories, "Ambérieu-en-Bugey", departement="1")["status"] == "resolved"
    r = bg.resolve(territories, ["Bors", "Aullène"], departement=["16", "20"])
    assert r.loc[0, "status"] == "ambiguous"  # two Bors in Charente
    assert r.loc[1, "code"] == "2A024"


def test_hint_sequence_is_aligned(territories):
    r = bg.resolve(
        territories,
        ["Sainte-Colombe", "Sainte-Colombe", "Sainte-Colombe"],
        departement=["69", None, "Gironde"],
    )
    assert r["code"].tolist()[0] == "69189" and r["code"].tolist()[2] == "33390"
    assert r.loc[1, "status"] == "ambiguous"


def test_inline_departement(territories):
    assert one(territories, "Sainte-Colombe (69)")["code"] == "69189"
    assert one(territories, "Sainte-Colombe (Rhône)")["code"] == "69189"
    assert one(territories, "Bors (Canton de Charente-Sud)")["code"] == "16053"


def test_hint_contradicting_a_code_is_not_silently_accepted(territories):
    r = one(territories, "01001", departement="69")
    assert r["status"] == "ambiguous" and r["candidates"] == ("01001",)
    assert r["reason_code"] == "contradiction"
    assert r["reason"] == (
        "contradiction : « 01001 » désigne 01001 L'Abergement-Clémenciat (dép. 01), ce qui "
        "contredit le département indiqué (69) — corrigez la valeur ou le département"
    )
    r = one(territories, "Saint-Martin (38)")  # no commune named so in Isère
    assert (r["status"], r["reason_code"]) == ("ambiguous", "contradiction")
    assert r["reason"].startswith("contradiction : « Saint-Martin » désigne ")
    assert "communes (" in r["reason"] and "contredit le département indiqué (38)" in r["reason"]


def test_cross_level_homonyms(territories):
    r = one(territories, "Vienne")
    assert r["status"] == "ambiguous" and pd.isna(r["level"]) and r["kind"] == "unknown"
    assert r["candidates"] == ("commune:38544", "departement:86")
    assert r["reason"] == (
        "ambigu : 1 commune et 1 département s'appellent Vienne (commune 38544, département 86) "
        "— donnez le code (INSEE, SIREN, département ou région) plutôt que le nom"
    )
    assert one(territories, "Vienne", departement="38")["code"] == "38544"
    r = one(territories, "Vienne", departement="86")
    assert (r["code"], r["level"]) == ("86", "departement")
    assert one(territories, "Département de la Vienne")["code"] == "86"


def test_no_fuzzy_matching(territories):
    for typo in ("Val-de-Reuill", "Lyonn", "Sainte Colombes", "Ste Foy lès Lyonnais"):
        assert one(territories, typo)["status"] == "unresolved", typo
    r = one(territories, "Lyonn")
    assert r["reason_code"] == "unknown_name"
    assert r["reason"] == (
        "inconnu : aucune commune, aucun EPCI, département ou région ne s'appelle « Lyonn » "
        "(comparaison exacte, sans tenir compte des accents, majuscules, tirets ni articles) — "
        "vérifiez l'orthographe ou donnez le code INSEE ou le SIREN"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (
            "Mairie de Saint-Éloi-des-Brumes",
            "aucune commune ne s'appelle « Saint-Éloi-des-Brumes »",
        ),
        ("Mairie du Trou Perdu", "aucune commune ne s'appelle « Trou Perdu »"),
        ("CC du Pays de Nulle Part", "aucun EPCI à fiscalité propre ne s'appelle « Pays de Nulle"),
        ("Trou Perdu (69)", "aucun EPCI, département ou région ne s'appelle « Trou Perdu »"),
        ("Conseil départemental de Nullepart", "aucun département ne s'appelle « Nullepart »"),
    ],
)
def test_unknown_name_shows_the_name_searched(territories, value, shown):
    r = one(territories, value)
    assert r["reason_code"] == "unknown_name" and shown in r["reason"]


# ----------------------------------------------------------------------------- postal codes


def test_postal_codes(territories):
    post = ids_of(territories, "code_postal").groupby("key")["code"].agg(tuple)
    # postal codes that are also INSEE codes of COG 2025 (communes, arrondissements,
    # communes déléguées/associées) have two readings of equal standing
    current = set(territories.communes["code"]) | set(get_index(territories).secondary)
    r = one(territories, "04100")  # Manosque's postal code, code of a commune déléguée
    assert (r["status"], r["reason_code"]) == ("ambiguous", "ambiguous_reading")
    assert set(r["candidates"]) == {"04120", "04112"}
    r = one(territories, "04100", holds="insee")
    assert (r["code"], r["method"]) == ("04120", "commune_deleguee")
    r = one(territories, "04100", holds="postal")
    assert (r["code"], r["nom"], r["method"]) == ("04112", "Manosque", "code_postal")
    unique = post[(post.map(len) == 1) & ~post.index.isin(current)]
    r = bg.resolve(territories, unique.index.tolist())
    expected = unique.map(lambda c: c[0]).reset_index(drop=True)
    assert own_or_among(r, expected).all()
    assert (r["method"] == "code_postal").mean() > 0.9
    shared = post[(post.map(len) > 1) & ~post.index.isin(current)]
    r = bg.resolve(territories, shared.index.tolist())
    known = ~pd.Series(shared.index).isin(get_index(territories).ancien)
    assert (r.loc[known, "status"] == "ambiguous").all()
    assert all(
        set(c) == set(e)
        for c, e in zip(r.loc[known, "candidates"], shared[known.to_numpy()], strict=True)
    )


def test_postal_code_shared_by_communes_of_two_departements(territories):
    post = ids_of(territories, "code_postal")
    dep = territories.communes.set_index("code")["departement"]
    post = post.assign(dep=post["code"].map(dep))
    post = post[~post["key"].isin(set(territories.communes["code"]))]
    counts = post.groupby(["key", "dep"]).size()
    two = counts.groupby(level="key").size() == 2
    key, lone = next(
        k
        for k, n in counts[counts.index.get_level_values(0).isin(two[two].index)].items()
        if n == 1
    )
    r = one(territories, key)
    assert r["status"] == "ambiguous"
    r = one(territories, key, departement=lone)
    assert r["status"] == "resolved" and r["method"] == "code_postal+departement"
    assert dep[r["code"]] == lone


def test_insee_code_and_postal_code_weigh_the_same(territories):
    # 01400: INSEE code of Seillonnaz, postal code of L'Abergement-Clémenciat and 9 others
    r = one(territories, "01400")
    assert (r["status"], r["reason_code"]) == ("ambiguous", "ambiguous_reading")
    assert "01400" in r["candidates"] and "01001" in r["candidates"]
    r = one(territories, "01400", holds="insee")  # a column declared as INSEE codes
    assert (r["code"], r["method"]) == ("01400", "code_insee")
    r = one(territories, "01400 L'Abergement-Clémenciat")
    assert (r["code"], r["method"]) == ("01001", "code_postal+nom")
    r = one(territories, "Lyon 69001")  # 69001: Affoux's INSEE code, Lyon 1er's postal code
    assert (r["code"], r["method"]) == ("69123", "code_postal+nom")
    assert one(territories, "69001")["status"] == "ambiguous"
    assert one(territories, "69001", holds="insee")["code"] == "69001"
    assert one(territories, "Mairie de Lyon (69001)")["code"] == "69123"
    r = one(territories, "69123 Lyon")
    assert (r["code"], r["method"]) == ("69123", "code_insee")
    r = one(territories, "01001 Lyon")
    assert (r["status"], r["reason_code"]) == ("ambiguous", "contradiction")
    assert r["reason"].endswith(
        "contredit le nom écrit à côté du code — corrigez la valeur ou le nom"
    )


def test_departement_hint_choosing_the_postal_reading(territories):
    # No 5-digit string of COG 2025 is an INSEE code in one département and a postal
    # code in another only; add one such postal code to a copy of the identifiers.
    extra = pd.DataFrame(
        {"kind": ["code_postal"], "key": ["01001"], "code": ["69123"], "nom": [""]}
    )
    t = dataclasses.replace(
        territories, identifiers=pd.concat([territories.identifiers, extra], ignore_index=True)
    )
    assert one(t, "01001")["method"] == "code_insee"
    r = one(t, "01001", departement="69")
    assert (r["code"], r["method"]) == ("69123", "code_postal+departement")


# ----------------------------------------------------------------------------- junk


FIX = "— saisissez le code INSEE, le SIREN ou le nom de la collectivité"
NOT, PAS = "not_a_collectivity", "pas une collectivité :"
TEST_ROW = "ressemble à un essai (test, essai, démo, lettre répétée…) — retirez la ligne"
SYNDICAT = (
    "syndicat ou établissement public : pas une collectivité territoriale de la référence "
    "(communes, EPCI à fiscalité propre, départements, régions) — si c'est un EPCI à fiscalité "
    "propre, donnez son SIREN"
)


@pytest.mark.parametrize(
    ("value", "code", "reason"),
    [
        ("test", "test_row", f"ligne de test : « test » {TEST_ROW}"),
        ("TEST DECLIC", "test_row", f"ligne de test : « TEST DECLIC » {TEST_ROW}"),
        ("Essai", "test_row", "ligne de test : « Essai » "),
        ("aaa", "test_row", "ligne de test : « aaa » "),
        ("N/A", "empty", f"vide : « N/A » est une valeur de remplissage {FIX}"),
        ("-", "empty", f"vide : « - » est une valeur de remplissage {FIX}"),
        ("néant", "empty", "vide : « néant » est une valeur de remplissage"),
        ("", "empty", f"vide : aucune valeur {FIX}"),
        ("   ", "empty", f"vide : aucune valeur {FIX}"),
        (None, "empty", f"vide : aucune valeur {FIX}"),
        (float("nan"), "empty", "vide : aucune valeur"),
        (pd.NA, "empty", "vide : aucune valeur"),
        # the e-mail itself is not repeated (personal data)
        ("jean.dupont@mairie-lyon.fr", NOT, f"{PAS} adresse e-mail {FIX}"),
        ("https://www.lyon.fr", NOT, f"{PAS} adresse web {FIX}"),
        ("Syndicat des eaux", "syndicat", SYNDICAT),
        ("SIVOM de la vallée (69)", "syndicat", SYNDICAT),
        ("SDIS 69", "syndicat", SYNDICAT),
        ("Association des maires ruraux", NOT, f"{PAS} association {FIX}"),
        ("CCAS de Lyon", NOT, f"{PAS} centre communal d'action sociale {FIX}"),
        ("Centre de gestion du Rhône", NOT, f"{PAS} centre de gestion {FIX}"),
        ("Test 01001", "test_row", "ligne de test : « Test 01001 » "),
    ],
)  # fmt: skip
def test_junk_is_unresolved_with_a_reason(territories, value, code, reason):
    r = one(territories, value)
    assert (r["status"], r["kind"], r["reason_code"]) == ("unresolved", "unknown", code)
    assert r["reason"].startswith(reason), r["reason"]
    assert pd.isna(r["code"]) and pd.isna(r["level"]) and r["candidates"] == ()


def test_syndicat_label_with_an_epci_siren_resolves_to_the_epci(territories):
    r = one(territories, "Syndicat mixte 200069110")
    assert (r["code"], r["kind"], r["method"]) == ("200069110", "epci", "siren")
    r = one(territories, "Syndicat mixte 210100012")
    assert (r["reason_code"], r["reason"]) == ("syndicat", SYNDICAT)


def test_reason_codes_are_listed_once_and_match_the_status(territories):
    from barometre_geo.territories.reasons import AMBIGUOUS_CODES

    assert AMBIGUOUS_CODES <= set(REASON_CODES)
    assert all(isinstance(label, str) and label for label in REASON_CODES.values())
    values = ["Vienne", "20", "69001", "01400", "Sainte-Colombe", "Lyonn", "test", "a@b.fr",
              "SIVOM", "200069111", "21750001600018", "130025265", "99999", "1234567", "97502",
              None, "N/A", "55273", "Saint-Martin (38)", "01001 Lyon",
              "60200", "60200"]  # fmt: skip
    holds = ["auto"] * 21 + ["siren"]
    r = bg.resolve(territories, values, departement=[None, None, "38"] + [None] * 19, holds=holds)
    amb, unres = r["status"] == "ambiguous", r["status"] == "unresolved"
    assert r.loc[amb, "reason_code"].isin(AMBIGUOUS_CODES).all()
    assert not r.loc[unres, "reason_code"].isin(AMBIGUOUS_CODES).any()
    # every listed code is produced by one of these values: no category the resolver never gives
    assert set(REASON_CODES) == set(r["reason_code"]) - {""}
    assert (r.loc[amb | unres, "reason"].str.len() > 20).all()
    assert not r["reason"].str.contains(r"\b(?:unknown|named|invalid|empty)\b").any()  # French


def test_names_containing_junk_words_still_resolve(territories):
    com = territories.communes
    words = com["nom"].str.contains(r"(?i)\b(?:école|hôpital|essai)\b")
    assert words.sum() > 15
    r = bg.resolve(territories, "Mairie de " + com.loc[words, "nom"])
    assert own_or_among(r, com.loc[words, "code"].reset_index(drop=True)).all()


# ----------------------------------------------------------------------------- every kind


def test_every_identifier_kind_is_exercised(territories):
    kinds = set(territories.identifiers["kind"])
    exercised = {
        "ancien_code": "55273",
        "arrondissement_municipal": "13201",
        "commune_deleguee": "01025",
        "commune_associee": "01120",
        "code_postal": "75008",
        "nom_epci": "CC Faucigny - Glières",
        "nom_epci_ancien": "CC du Pays de Lunel",
        "epci_predecesseur": "245901061",  # CC de la Haute Deûle (DGCL 2019) -> MEL
        "siren_departement": "220100010",
        "siren_region": "233500016",
        "siren_collectivite_a_statut_particulier": "200094332",
        "nom_collectivite_a_statut_particulier": "Grand Lyon",
        "perimetre_collectivite_a_statut_particulier": "CeA",
        "collectivite_outre_mer": "97701",
    }
    assert kinds == set(exercised)
    r = bg.resolve(territories, list(exercised.values()))
    assert (r["status"] != "unresolved").sum() == len(exercised) - 1  # the COM
    assert r["status"].tolist()[-1] == "unresolved"


# ----------------------------------------------------------------------------- errors


def test_unknown_hint_raises(territories):
    with pytest.raises(UnknownValueError, match=r"'Rhône-Alpes' \(row 1\).*Use a département code"):
        bg.resolve(territories, ["Lyon", "Lyon"], departement=["69", "Rhône-Alpes"])
    with pytest.raises(UnknownValueError, match=r"not départements: '99'.*or NA for no hint"):
        bg.resolve(territories, ["Lyon"], departement="99")


def test_misaligned_hints_raise(territories):
    with pytest.raises(SchemaError, match=r"departement has 1 values but there are 2.*one hint"):
        bg.resolve(territories, ["Lyon", "Bron"], departement=["69"])


def test_two_dimensional_values_raise(territories):
    df = pd.DataFrame({"a": ["Lyon"], "b": ["Bron"]})
    with pytest.raises(SchemaError, match=r"shape \(1, 2\).*use resolve_column\(territories, df"):
        bg.resolve(territories, df)


def test_resolve_column(territories):
    df = pd.DataFrame(
        {"c": ["Sainte-Colombe", "1001", None], "dep": ["Gironde", None, None]}, index=[7, 3, 9]
    )
    out = bg.resolve_column(territories, df, "c", departement_column="dep")
    assert list(out.index) == [7, 3, 9]
    assert out["code"].tolist()[:2] == ["33390", "01001"]
    joined = df.join(out)
    assert joined.loc[3, "code"] == "01001"
    out = bg.resolve_column(territories, df, "c")
    assert out.loc[7, "status"] == "ambiguous"


def test_resolve_column_errors(territories):
    df = pd.DataFrame({"c": ["Lyon"], "dep": ["Rhone-Alpes"]}, index=["r1"])
    with pytest.raises(
        SchemaError, match=r"Column 'x' not found.*\(columns: c, dep\).*Pass the name"
    ):
        bg.resolve_column(territories, df, "x")
    with pytest.raises(SchemaError, match=r"Column 'd' not found.*departement_column="):
        bg.resolve_column(territories, df, "c", departement_column="d")
    with pytest.raises(UnknownValueError, match=r"in column 'dep'.*'Rhone-Alpes' \(row r1\)"):
        bg.resolve_column(territories, df, "c", departement_column="dep")


@pytest.mark.parametrize(
    "name",
    [
        "barometre_geo.territories.resolve",
        "barometre_geo.territories.text",
        "barometre_geo.territories.readings",
        "barometre_geo.territories.lookup",
    ],
)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# ------------------------------------------------------- real data: France services


def test_france_services_sites_resolve_by_code_and_by_name(territories, shared_data):
    """The 2,845 France services sites of August 2024 (real export, COG 2024 codes)."""
    path = shared_data / "france-services" / "liste-fs-20240801.csv"
    df = pd.read_csv(path, dtype=str, encoding="utf-8")
    assert len(df) == 2845
    by_code = bg.resolve_column(
        territories, df, "insee_com", departement_column="insee_dep", holds="insee"
    )
    by_name = bg.resolve_column(territories, df, "lib_com", departement_column="insee_dep")
    assert list(by_code.index) == list(df.index)
    # every row is accounted for: resolved, or unresolved / ambiguous with a reason
    for res in (by_code, by_name):
        assert set(res["status"]) <= {"resolved", "ambiguous", "unresolved"}
        undecided = res["status"] != "resolved"
        assert (res.loc[undecided, "reason"].str.len() > 0).all()
        assert res.loc[undecided, "reason_code"].isin(REASON_CODES).all()
    # Saint-Martin (978, a collectivité d'outre-mer) is outside the reference — per row,
    # the département hint '978' does not fail the whole column
    com = df["insee_dep"] == "978"
    assert com.sum() == 2
    for res in (by_code, by_name):
        assert (res.loc[com, "status"] == "unresolved").all()
        assert (res.loc[com, "reason_code"] == "outside_reference").all()
    # codes: all but Saint-Martin and one row whose code contradicts its département
    # (76540 is Rouen, Seine-Maritime, listed under 27)
    assert (by_code["status"] == "resolved").sum() == 2842
    wrong = by_code["reason_code"] == "contradiction"
    assert list(df.loc[wrong, ["insee_com", "insee_dep"]].itertuples(index=False)) == [
        ("76540", "27")
    ]
    rouen = df.index[(df["insee_com"] == "76540") & (df["insee_dep"] == "76")]
    assert len(rouen) == 3 and (by_code.loc[rouen, "code"] == "76540").all()
    # COG 2024 codes of communes merged since reach their 2025 commune
    ok = by_code["status"] == "resolved"
    assert by_code.loc[ok, "code"].isin(territories.communes["code"]).all()
    assert (by_code.loc[ok, "method"] == "commune_deleguee").sum() >= 1
    # names agree with codes wherever both resolve, and nearly every name resolves
    both = ok & (by_name["status"] == "resolved")
    assert both.sum() >= 2830
    assert (by_name.loc[both, "code"] == by_code.loc[both, "code"]).all()
    # a commune and its département sharing a name stay ambiguous, never guessed
    mayenne = df.index[df["lib_com"] == "Mayenne"]
    assert (by_name.loc[mayenne, "status"] == "ambiguous").all()


def test_departement_hint_of_a_collectivite_d_outre_mer_is_per_row(territories):
    r = bg.resolve(territories, ["Lyon", "Marigot", "97801"], departement=["69", "978", "978"])
    assert list(r["status"]) == ["resolved", "unresolved", "unresolved"]
    assert list(r["reason_code"]) == ["", "outside_reference", "outside_reference"]
    assert "Saint-Martin" in r.loc[1, "reason"]
    with pytest.raises(bg.errors.UnknownValueError, match="'999'"):
        bg.resolve(territories, ["Lyon"], departement=["999"])
