import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import shapely

import barometre_geo as bg
from barometre_geo.errors import UnknownValueError
from barometre_geo.territories.crs import area_km2, project_by_zone, zone_crs
from barometre_geo.territories.reference import parse_level

ISLANDS = {"22016", "29083", "29155", "85113"}


def test_counts(territories):
    t = territories
    assert len(t.communes) == 34875
    assert len(t.departements) == 101
    assert len(t.regions) == 18
    assert t.communes["code"].is_unique
    assert 1200 < len(t.epci) < 1300


def test_required_columns(territories):
    t = territories
    for gdf in (t.communes, t.epci, t.departements, t.regions):
        for col in ("code", "nom", "population", "area_km2", "geometry"):
            assert col in gdf.columns
        assert gdf.crs.to_epsg() == 4326
    for col in ("siren", "epci", "departement", "region"):
        assert col in t.communes.columns
    assert set(t.epci["nature"]) == {"CC", "CA", "CU", "MET"}
    assert "region" in t.departements.columns


def test_hierarchy(territories):
    c = territories.communes
    assert c["departement"].notna().all() and c["region"].notna().all()
    assert set(c.loc[c["epci"].isna(), "code"]) == ISLANDS
    assert set(c["departement"]) == set(territories.departements["code"])
    assert set(c["epci"].dropna()) == set(territories.epci["code"])
    dep_region = territories.departements.set_index("code")["region"]
    assert (c["departement"].map(dep_region) == c["region"]).all()
    # Paris, Lyon and Marseille are communes, their arrondissements are not
    assert {"75056", "69123", "13055"} <= set(c["code"])
    assert not c["code"].isin(["75101", "69381", "13201"]).any()
    assert c["siren"].str.fullmatch(r"\d{9}").all()


def test_every_commune_has_a_valid_polygon(territories):
    g = territories.communes.geometry.to_numpy()
    assert not shapely.is_empty(g).any()
    assert shapely.is_valid(g).all()
    assert set(shapely.get_type_id(g)) <= {3, 6}


@pytest.mark.slow
def test_commune_coverage_is_valid(territories):
    assert shapely.coverage_is_valid(territories.communes.geometry.to_numpy())


@pytest.mark.parametrize("level", ["epci", "departement", "region"])
def test_levels_nest_exactly(territories, level):
    t = territories
    parent = t.level(level)
    key = level
    pop = t.communes.groupby(key)["population"].sum()
    assert (parent.set_index("code")["population"] == pop.reindex(parent["code"]).to_numpy()).all()
    area = t.communes.groupby(key)["area_km2"].sum()
    np.testing.assert_allclose(
        parent.set_index("code")["area_km2"], area.reindex(parent["code"]), rtol=1e-9
    )
    assert shapely.coverage_is_valid(parent.geometry.to_numpy())


def test_departement_outline_is_union_of_its_communes(territories):
    t = territories
    for code in ("49", "2A", "974", "15"):
        dep = t.departements.set_index("code").geometry[code]
        union = shapely.union_all(
            t.communes.loc[t.communes["departement"] == code].geometry.to_numpy()
        )
        sym = shapely.symmetric_difference(dep, union)
        assert sym.area < 1e-9, code


def test_areas_use_local_projections(territories):
    d = territories.departements.set_index("code")
    # official areas (IGN): Maine-et-Loire 7 166 km², La Réunion 2 504, Guyane 83 534, Mayotte 374
    assert d.at["49", "area_km2"] == pytest.approx(7166, rel=0.01)
    assert d.at["974", "area_km2"] == pytest.approx(2504, rel=0.01)
    assert d.at["973", "area_km2"] == pytest.approx(83534, rel=0.01)
    assert d.at["976", "area_km2"] == pytest.approx(374, rel=0.03)  # simplified coastline
    # recomputed from the geometry in each zone's projection
    recomputed = area_km2(territories.departements, departement_column="code")
    np.testing.assert_allclose(recomputed, territories.departements["area_km2"], rtol=1e-6)
    # in Lambert-93 La Réunion would come out ~20 % too large: check the bug would be caught
    reunion = territories.departements[territories.departements["code"] == "974"]
    wrong = reunion.to_crs(2154).area.iloc[0] / 1e6
    assert abs(wrong - d.at["974", "area_km2"]) / d.at["974", "area_km2"] > 0.01
    assert zone_crs("971") == 5490 and zone_crs("973") == 2972 and zone_crs("976") == 4471


def test_repaired_communes(territories):
    c = territories.communes.set_index("code")
    for code in ("12218", "14581", "49126", "69114", "15031", "15035", "15047", "15171"):
        assert c.at[code, "area_km2"] > 5, code
    # the Cantal communes were cut out of Neussargues-Moissac: no overlap
    cantal = c.loc[["15031", "15035", "15047", "15171"]].geometry
    parent = c.at["15141", "geometry"]
    assert shapely.intersection(parent, shapely.union_all(cantal.to_numpy())).area < 1e-9


def test_populations(territories):
    total = int(territories.communes["population"].sum())
    assert 67_000_000 < total < 69_500_000
    s = territories.summary()
    assert (s["population"] == total).loc[["commune", "departement", "region"]].all()


def test_load_returns_independent_copies():
    a = bg.load_territories()
    a.communes.loc[0, "nom"] = "changed"
    b = bg.load_territories()
    assert b.communes.loc[0, "nom"] != "changed"


def test_parse_level_lists_valid_values():
    assert parse_level("Régions") == "region"
    with pytest.raises(UnknownValueError, match="Valid levels: commune, epci, departement, region"):
        parse_level("canton")


def test_repr(territories):
    assert "34,875 commune" in repr(territories)
    assert "<table>" in territories._repr_html_()


def test_cli_territories_json():
    out = subprocess.run(
        [sys.executable, "-m", "barometre_geo", "territories", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    assert data["levels"]["commune"]["count"] == 34875
    assert data["levels"]["region"]["outre_mer"] == 5


def test_cli_human_output():
    out = subprocess.run(
        [sys.executable, "-m", "barometre_geo", "territories"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Communes" in out.stdout and "Départements" in out.stdout


def test_summary_frame(territories):
    s = territories.summary()
    assert list(s.index) == ["commune", "epci", "departement", "region"]
    assert isinstance(s, pd.DataFrame)


@pytest.mark.slow
def test_no_gap_in_the_commune_coverage(territories):
    # the union of all communes has no hole but the Spanish enclave of Llívia
    holes = []
    for _, _epsg, _, projected in project_by_zone(territories.communes):
        union = shapely.coverage_union_all(projected.geometry.to_numpy())
        for poly in shapely.get_parts(union):
            holes += [
                shapely.Polygon(shapely.get_interior_ring(poly, i))
                for i in range(shapely.get_num_interior_rings(poly))
            ]
    assert len(holes) == 1
    assert holes[0].area == pytest.approx(12.9e6, rel=0.05)  # Llívia, 12.9 km²


def test_communes_merged_in_2025_have_their_whole_territory(territories):
    c = territories.communes.set_index("code")
    # Saint-Denis (93066) absorbed Pierrefitte-sur-Seine (93059) on 1 January 2025:
    # 12.4 + 3.4 km²
    assert c.at["93066", "area_km2"] == pytest.approx(15.8, rel=0.05)
