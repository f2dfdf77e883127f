import json
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from _coverage_grid import GRID_STRUCTURES, grid_territories

import barometre_geo as bg
from barometre_geo.cli import main
from barometre_geo.coverage.measure import coverage
from barometre_geo.coverage.nearby import Graph, Projected, nearby_uncovered
from barometre_geo.coverage.structures import read_structures
from barometre_geo.errors import DataQualityWarning, InputFileError, SchemaError, UnknownValueError
from barometre_geo.territories.adjacency import components, rook_pairs

UNCOVERED = {"01006", "01009", "01015", "01016", "97402", "97403"}


@pytest.fixture(scope="module")
def grid():
    return grid_territories()


@pytest.fixture(scope="module")
def grid_result(grid):
    return coverage(read_structures(GRID_STRUCTURES, territories=grid), grid)


@pytest.fixture(scope="module")
def sample_result(territories, shared_data):
    path = shared_data / "opsn-sample"
    if not path.is_dir():
        pytest.skip(f"shared OPSN sample not found in {shared_data}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        s = read_structures(path / "operators.json", territories=territories)
    return coverage(s, territories)


def rate(result, level, code):
    return result.rates.set_index(["level", "code"]).loc[(level, code)]


# ------------------------------------------------------------- hand-checked grid


def test_commune_coverage_counts_and_names(grid_result):
    c = grid_result.communes.set_index("code")
    assert set(c.index[~c["covered"]]) == UNCOVERED
    assert c.loc["01011", "n_structures"] == 2
    assert c.loc["01011", "structures"] == "Agence 3 ; Syndicat 2"
    assert c.loc["01011", "structure_ids"] == "s3 s2"
    assert c.loc["01011", "categorie"] == "Plusieurs structures"
    assert c.loc["01001", "categorie"] == "Syndicat 1"
    assert c.loc["01006", "categorie"] == "Non couverte"
    assert c.loc["01006", "structures"] == ""
    assert grid_result.communes.crs.to_epsg() == 4326


def test_shares_hand_checked(grid, grid_result):
    d = rate(grid_result, "departement", "01")
    # communes 1..16, population 100 k; uncovered 6, 9, 15, 16
    assert (d["n_communes"], d["n_covered"], d["n_overlap"]) == (16, 12, 1)
    assert d["share_communes"] == pytest.approx(12 / 16)
    assert d["population"] == 13_600
    assert d["population_covered"] == 13_600 - 600 - 900 - 1500 - 1600
    assert d["share_population"] == pytest.approx(9000 / 13600)
    area = grid.communes.set_index("code")["area_km2"]
    covered_area = area.drop(["01006", "01009", "01015", "01016"]).loc[lambda a: a.index < "9"]
    assert d["share_area"] == pytest.approx(covered_area.sum() / area.loc[:"01016"].sum())
    assert d["n_structures"] == 3
    e = rate(grid_result, "epci", "200000008")  # 1 2 5 6 9 10 13 14
    assert (e["n_communes"], e["n_covered"]) == (8, 6)
    assert e["share_population"] == pytest.approx((100 + 200 + 500 + 1000 + 1300 + 1400) / 6000)
    fr = grid_result.national()
    assert (fr["n_communes"], fr["n_covered"]) == (19, 13)
    assert fr["population"] == 13_600 + 60
    drom = rate(grid_result, "outre_mer", "DROM")
    assert (drom["n_communes"], drom["n_covered"], drom["population_covered"]) == (3, 1, 10)
    assert rate(grid_result, "region", "04")["nom"] == "region 04"


def test_overlaps_counted(grid_result):
    o = grid_result.overlaps
    assert len(o) == 1
    row = o.iloc[0]
    assert (row["structure_a"], row["structure_b"], row["communes"]) == ("s2", "s3", "01011")
    assert row["n_communes"] == 1 and row["population"] == 1100


def test_zones_are_rook_contiguous_and_dissolved(grid, grid_result):
    z = grid_result.zones
    # 6 and 9 touch only at a corner: two zones; 15 and 16 share an edge: one zone
    assert list(z["communes"]) == ["01015 01016", "01009", "01006", "97402 97403"]
    assert list(z["zone_id"]) == ["Z01-01", "Z01-02", "Z01-03", "Z974-01"]
    assert list(z["population"]) == [3100, 900, 600, 50]
    first = z.geometry.iloc[0]
    assert first.geom_type == "Polygon"
    assert first.equals(shapely.box(5.2, 46.3, 5.4, 46.4))
    assert z.iloc[3]["departement"] == "974" and z.iloc[3]["zone"] == "974"
    assert z.iloc[0]["nom"] == "departement 01 (01) : Commune 16 et 1 autre commune"
    assert z.iloc[1]["nom"] == "departement 01 (01) : Commune 9"
    assert z.iloc[0]["commune_principale"] == "Commune 16"
    c = grid_result.communes.set_index("code")["uncovered_zone"]
    assert c["01015"] == c["01016"] == "Z01-01" and pd.isna(c["01001"])
    assert z["area_km2"].iloc[0] == pytest.approx(
        grid.communes.set_index("code").loc[["01015", "01016"], "area_km2"].sum()
    )


def test_distances_in_km_in_the_zone_projection(grid, grid_result):
    n = grid_result.nearby.set_index(["structure", "commune"])
    # adjacent uncovered communes of Syndicat 1 (cells 1, 2, 5): 6 (edge with 2 and 5), 9
    adj = n.loc["s1"]
    assert set(adj.index[adj["adjacent"]]) == {"01006", "01009"}
    assert (adj.loc[adj["adjacent"], "distance_km"] == 0).all()
    # commune 15 (row 3, col 2) is one cell away diagonally from commune 5 (row 1, col 0)
    proj = grid.communes.set_index("code").geometry.to_crs(2154)
    expected = proj["01005"].distance(proj["01015"]) / 1000
    assert adj.loc["01015", "distance_km"] == pytest.approx(expected, abs=1e-3)
    assert 8 < expected < 15
    # overseas: measured in EPSG:2975 (RGR92 / UTM 40S), not in Lambert-93
    isl = n.loc["s4"]
    assert isl.loc["97402", "adjacent"]
    utm = grid.communes.set_index("code").geometry.to_crs(2975)
    d = utm["97401"].distance(utm["97403"]) / 1000
    assert isl.loc["97403", "distance_km"] == pytest.approx(d, abs=1e-3)
    l93 = grid.communes.set_index("code").geometry.to_crs(2154)
    assert abs(l93["97401"].distance(l93["97403"]) / 1000 - d) > 0.05 * d
    # never across oceans: the island structure lists no metropolitan commune
    assert set(isl.index) == {"97402", "97403"}
    s = grid_result.structures.set_index("id")
    assert s.loc["s4", "n_adjacent_uncovered"] == 1
    assert s.loc["s4", "nearest_uncovered_km"] == 0
    assert s.loc["s1", "population_adjacent_uncovered"] == 1500


def test_nearest_and_max_distance(grid):
    s = read_structures(GRID_STRUCTURES, territories=grid)
    r = coverage(s, grid, nearest=0)
    assert (r.nearby["adjacent"] | r.nearby["in_departements"]).all()
    # the island structure serves a commune of 974: its other uncovered communes there are
    # listed whatever the distance (97403 is 5 km away, beyond max_distance_km)
    isl = coverage(s, grid, nearest=0, max_distance_km=0.5).nearby.set_index("commune")
    isl = isl[isl["structure"] == "s4"]
    assert list(isl.index) == ["97402", "97403"]
    assert list(isl["adjacent"]) == [True, False] and isl["in_departements"].all()
    assert list(isl["rank"]) == [1, 2] and isl.loc["97403", "distance_km"] > 4
    # the radius rule alone (without the départements served)
    c = grid.communes
    members = s.members.assign(pos=pd.Index(c["code"]).get_indexer(s.members["commune"]))
    covered = c["code"].isin(set(s.members["commune"])).to_numpy()
    i, j, outer = rook_pairs(c.geometry.to_numpy())

    graph = Graph(c, members, covered, i, j, outer, Projected(c))

    def near(k, km):
        out = nearby_uncovered(graph, nearest=k, max_distance_km=km)
        out["commune"] = c["code"].to_numpy()[out["pos"]]
        return out[~out["adjacent"]]

    far = near(5, 0.5)
    assert not far["home"].any()
    # within 0.5 km, only communes touching the territory at a corner (queen, not rook)
    assert (far["distance_km"] == 0).all()
    assert ("s3", "01016") in set(zip(far["structure"], far["commune"], strict=True))
    far = near(1, 500)
    assert far.groupby("structure").size().max() == 1
    assert list(far.loc[far["structure"] == "s1", "commune"]) == ["01015"]
    r = coverage(s, grid, nearest=1, max_distance_km=500)
    far = r.nearby[~r.nearby["adjacent"]]
    # s1 serves communes of département 01 only: its other uncovered communes are all listed
    assert list(far.loc[far["structure"] == "s1", "commune"]) == ["01015", "01016"]
    assert far["in_departements"].all()


def test_commune_facts_and_nearest_structure(grid_result):
    c = grid_result.communes.set_index("code")
    assert (
        c.loc["01006", "siren"]
        == grid_result.territories.communes.set_index("code").loc["01006", "siren"]
    )
    assert c.loc["01006", "epci_nom"] == "epci 200000008"
    assert c.loc["01006", "departement_nom"] == "departement 01"
    assert c["answered_waves"].isna().all()  # no responses given: unknown
    free = c[~c["covered"]]
    # 6 shares an edge with 2, 5 (s1), 7 (s2) and 10 (s3): three structures at 0 km, by name
    assert free.loc["01006", "nearest_structures"] == "s3 s1 s2"
    assert free.loc["01006", "nearest_structures_nom"] == "Agence 3 ; Syndicat 1 ; Syndicat 2"
    # 16 shares an edge with 12 (s2) and touches 11 (s2, s3) at a corner: both at 0 km
    assert free.loc["01016", "nearest_structures"] == "s3 s2"
    assert free["nearest_adjacent"].loc[["01006", "01009", "01015", "01016", "97402"]].all()
    assert (free.loc[["01006", "01009", "01015", "01016", "97402"], "nearest_km"] == 0).all()
    # 97403 is one commune (0.05°, about 5.2 km) away from the island structure: beyond
    # the exact radius, rounded to the km on simplified contours
    assert free.loc["97403", "nearest_structures"] == "s4"
    assert free.loc["97403", "nearest_km"] == 5 and free.loc["97403", "nearest_approx"]
    assert not free.loc["97403", "nearest_adjacent"]
    assert c.loc[c["covered"], "nearest_structures"].isna().all()


def test_structure_figures(grid):
    s = read_structures(GRID_STRUCTURES, territories=grid)
    answers = responses().assign(wave=[1, 1, 1, 2, 1, 3, 2, 1])
    r = coverage(s, grid, responses=answers)
    c = r.communes.set_index("code")
    assert c.loc["01003", "answered_waves"] == "1, 2" and c.loc["01016", "answered_waves"] == ""
    per = r.structures.set_index("id")
    # s1 = communes 1, 2, 5 of the 16 of département 01; 1, 2 and 5 answered
    assert per.loc["s1", "share_communes_departements"] == pytest.approx(3 / 16)
    assert per.loc["s1", "share_population_departements"] == pytest.approx(800 / 13_600)
    assert per.loc["s1", "n_respondents"] == 3
    # its prospects: 6 (answered wave 2), 9 (adjacent), 15, 16 (its département)
    near = r.nearby[r.nearby["structure"] == "s1"]
    assert list(near["commune"]) == ["01009", "01006", "01015", "01016"]  # adjacent by population
    assert per.loc["s1", "n_prospects"] == 4 and per.loc["s1", "n_prospects_answered"] == 1
    assert near.set_index("commune").loc["01006", "answered_waves"] == "2"
    assert list(per["cle"]) == ["s1", "s2", "s3", "s4"]
    without = coverage(s, grid).structures
    assert without["n_respondents"].isna().all()  # unknown without responses, not 0


# ------------------------------------------------------------- real reference


def test_sample_coverage_is_consistent(sample_result, territories):
    r = sample_result
    members = r.communes["n_structures"].sum()
    assert members == sum(r.structures["n_communes"])
    fr = r.national()
    assert fr["n_communes"] == len(territories.communes)
    assert fr["n_covered"] == int(r.communes["covered"].sum())
    # zones partition the uncovered communes
    codes = " ".join(r.zones["communes"]).split()
    assert len(codes) == len(set(codes)) == (~r.communes["covered"]).sum()
    assert r.zones["population"].sum() == fr["population"] - fr["population_covered"]
    assert r.zones["population"].is_monotonic_decreasing
    # Île-de-France has no structure in the sample: Paris is a zone of its own (cut at the
    # boundary of its département), the largest one, no longer 19 départements
    paris = r.communes.set_index("code").loc["75056", "uncovered_zone"]
    assert paris == "Z75-01" == r.zones["zone_id"].iloc[0]
    assert r.zones.iloc[0]["nom"] == "Paris (75) : Paris"
    # every zone lies in one département; ids follow the population order within it
    dep = r.communes.set_index("code")["departement"]
    for _, z in r.zones.iterrows():
        assert set(dep.loc[z["communes"].split()]) == {z["departement"]}
        assert z["zone_id"].startswith(f"Z{z['departement']}-")
    ranks = r.zones["zone_id"].str.split("-").str[1].astype(int)
    assert (ranks.groupby(r.zones["departement"]).diff().dropna() == 1).all()
    # Haute-Saône is served by two structures of the sample
    assert rate(r, "departement", "70")["n_overlap"] == rate(r, "departement", "70")["n_communes"]
    assert "ADICA" in r.to_text()


def test_zones_match_an_independent_rook_adjacency(sample_result, territories):
    """Within Normandie, zones agree with STRtree + relate_pattern adjacency."""
    c = territories.communes
    sub = c[c["region"] == "28"].reset_index(drop=True)
    g = sub.geometry.to_numpy()
    tree = shapely.STRtree(g)
    i, j = tree.query(g, predicate="touches")
    keep = i < j
    i, j = i[keep], j[keep]
    edge = shapely.relate_pattern(g[i], g[j], "****1****")
    ri, rj, _ = rook_pairs(g)
    assert set(zip(i[edge].tolist(), j[edge].tolist(), strict=True)) == set(
        zip(ri.tolist(), rj.tolist(), strict=True)
    )
    zone = sample_result.communes.set_index("code").loc[sub["code"], "uncovered_zone"].to_numpy()
    free = ~pd.isna(zone)
    dep = sub["departement"].to_numpy()
    a, b = i[edge], j[edge]
    both = free[a] & free[b]
    same = both & (dep[a] == dep[b])
    assert (zone[a][same] == zone[b][same]).all()
    # uncovered neighbours across a département boundary are in different zones
    across = both & (dep[a] != dep[b])
    assert across.any() and (zone[a][across] != zone[b][across]).all()


def test_real_distances_metropole_and_overseas(territories):
    s = bg.load_demo_structures(territories)
    r = coverage(s, territories)
    c = territories.communes.set_index("code")
    for sid, epsg in (("illustratif-974-syndicat", 2975), ("illustratif-12-syndicat", 2154)):
        near = r.nearby[(r.nearby["structure"] == sid) & ~r.nearby["adjacent"]]
        assert len(near) > 0
        mine = s.members.loc[s.members["structure"] == sid, "commune"]
        territory = shapely.union_all(c.loc[mine].geometry.to_crs(epsg).to_numpy())
        row = near.iloc[0]
        other = gpd.GeoSeries([c.loc[row["commune"], "geometry"]], crs=4326).to_crs(epsg)
        assert row["distance_km"] == pytest.approx(
            territory.distance(other.iloc[0]) / 1000, abs=1e-3
        )
        assert near["distance_km"].is_monotonic_increasing
    reunion = r.nearby[r.nearby["structure"] == "illustratif-974-syndicat"]
    assert set(reunion["departement"]) == {"974"}


def test_never_across_oceans(territories):
    s = read_structures([{"nom": "Guadeloupe", "departements": ["971"]}], territories=territories)
    r = coverage(s, territories, nearest=50, max_distance_km=500)
    assert r.nearby.empty  # Martinique is 150 km away, across the sea
    s = read_structures([{"nom": "Corse-du-Sud", "departements": ["2A"]}], territories=territories)
    r = coverage(s, territories, nearest=20, max_distance_km=60)
    assert set(r.nearby["departement"]) == {"2B"}


# ------------------------------------------------------------- survey


def responses():
    rows = [
        ("r1", "commune", "01001", "2024-01-01", "oui"),
        ("r2", "commune", "01002", "2024-01-01", "oui"),
        ("r3a", "commune", "01003", "2024-01-01", "oui"),
        ("r3b", "commune", "01003", "2025-01-01", "non"),  # latest answer wins
        ("r4", "commune", "01004", "2024-01-01", "ne_sait_pas"),
        ("r5", "commune", "01005", "2024-01-01", None),
        ("r6", "commune", "01006", "2024-01-01", "non"),
        ("r7", "epci", None, "2024-01-01", "oui"),
    ]
    df = pd.DataFrame(rows, columns=["response_id", "kind", "commune", "submitted_at", "p"])
    df["submitted_at"] = pd.to_datetime(df["submitted_at"])
    df["level"] = df["kind"]
    df["code"] = df["commune"]
    df["epci"], df["departement"], df["region"] = pd.NA, "01", "84"
    df["profil_mutualisation"] = pd.Categorical(
        df.pop("p"), categories=["oui", "non", "ne_sait_pas"]
    )
    return df


def test_participation_covered_vs_uncovered(grid):
    s = read_structures(GRID_STRUCTURES, territories=grid)
    r = coverage(s, grid, responses=responses())
    fr = r.survey.participation.iloc[0]
    assert (fr["code"], fr["communes_covered"], fr["responding_covered"]) == ("FR", 13, 5)
    assert (fr["communes_uncovered"], fr["responding_uncovered"]) == (6, 1)
    assert fr["rate_covered"] == pytest.approx(5 / 13)
    z = 1.959963984540054
    p, n = 5 / 13, 13
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert fr["ci_low_covered"] == pytest.approx(centre - half)
    pooled = 6 / 19
    zs = (5 / 13 - 1 / 6) / math.sqrt(pooled * (1 - pooled) * (1 / 13 + 1 / 6))
    assert fr["z"] == pytest.approx(zs)
    assert fr["p_value"] == pytest.approx(math.erfc(abs(zs) / math.sqrt(2)))
    assert fr["difference_ci_low"] < fr["difference"] < fr["difference_ci_high"]
    assert list(r.survey.participation["code"]) == ["FR", "04", "84"]
    assert r.survey.n_respondents == 6


def test_agreement_and_kappa(grid):
    s = read_structures(GRID_STRUCTURES, territories=grid)
    sv = coverage(s, grid, responses=responses()).survey
    a = sv.agreement
    assert a.loc["oui", "couverte"] == 2 and a.loc["non", "couverte"] == 1
    assert a.loc["non", "non_couverte"] == 1 and a.loc["ne_sait_pas", "couverte"] == 1
    assert a.to_numpy().sum() == 5
    assert sv.agreement_rate == pytest.approx(0.75)
    assert sv.kappa == pytest.approx(0.5)  # po 0.75, pe (2·3 + 2·1)/16 = 0.5
    assert sv.kappa_ci_low < 0.5 < sv.kappa_ci_high
    assert "kappa 0.50" in repr(sv)
    df = responses().rename(columns={"profil_mutualisation": "adhesion"})
    sv = coverage(s, grid, responses=df, declared_column="adhesion").survey
    assert sv.kappa == pytest.approx(0.5)
    sv = coverage(s, grid, responses=df, declared_column=None).survey
    assert sv.agreement is None and sv.kappa is None


# ------------------------------------------------------------- exports


def test_geopackage_read_back(tmp_path, grid_result, grid):
    path = tmp_path / "couverture.gpkg"
    grid_result.to_gpkg(path)
    layers = dict(pyogrio.list_layers(path))
    for name in (
        "communes",
        "communes_974",
        "taux_departement",
        "taux_departement_974",
        "zones_non_couvertes",
        "zones_non_couvertes_974",
        "chevauchements",
    ):
        assert layers[name] is not None, name
    for name in ("taux_france", "structures", "communes_proches", "metadonnees"):
        assert layers[name] is None, name
    com = pyogrio.read_dataframe(path, layer="communes")
    assert com.crs.to_epsg() == 2154 and len(com) == 16
    np.testing.assert_allclose(com.geometry.area / 1e6, com["area_km2"], rtol=1e-9)
    assert com["covered"].dtype == bool
    isl = pyogrio.read_dataframe(path, layer="communes_974")
    assert isl.crs.to_epsg() == 2975
    np.testing.assert_allclose(isl.geometry.area / 1e6, isl["area_km2"], rtol=1e-9)
    zones = pyogrio.read_dataframe(path, layer="zones_non_couvertes")
    assert list(zones["zone_id"]) == ["Z01-01", "Z01-02", "Z01-03"]
    meta = pyogrio.read_dataframe(path, layer="metadonnees").set_index("cle")["valeur"]
    assert meta["cog"] == "2025"
    assert meta["couche:communes_974"].startswith("EPSG:2975 ; 3 entité(s)")
    fr = pyogrio.read_dataframe(path, layer="taux_france")
    assert list(fr["code"]) == ["FR", "FRM", "DROM"]
    assert not list(tmp_path.glob(".*part*"))
    # standard metadata, one QGIS document a table (Layer Properties › Metadata), GeoPackage 1.2
    import sqlite3
    import xml.etree.ElementTree as ET

    con = sqlite3.connect(path)
    docs = dict(
        con.execute(
            "SELECT r.table_name, m.metadata FROM gpkg_metadata_reference r JOIN gpkg_metadata m "
            "ON m.id = r.md_file_id WHERE m.md_standard_uri = 'http://mrcc.com/qgis.dtd'"
        ).fetchall()
    )
    assert set(docs) == set(layers) - {"layer_styles"} | {None}
    assert ET.fromstring(docs["communes_974"]).find("extent/spatial").get("crs") == "EPSG:2975"
    assert "OPSN" in ET.fromstring(docs[None]).findtext("abstract")
    assert con.execute("PRAGMA user_version").fetchone() == (10200,)
    con.close()


def test_geopackage_with_survey(tmp_path, grid):
    s = read_structures(GRID_STRUCTURES, territories=grid)
    coverage(s, grid, responses=responses()).to_gpkg(tmp_path / "c.gpkg")
    accord = pyogrio.read_dataframe(tmp_path / "c.gpkg", layer="accord_declaration")
    assert list(accord["declared"]) == ["oui", "non", "ne_sait_pas"]
    part = pyogrio.read_dataframe(tmp_path / "c.gpkg", layer="participation")
    assert part.loc[0, "responding_covered"] == 5


def test_html_map_uses_the_maps_machinery(tmp_path, grid_result):
    doc = grid_result.to_map(basemap="none")
    assert doc.n_features == 19
    html = doc.html
    for text in (
        "Syndicat 1",
        "Agence 3",
        "Plusieurs structures",
        "Non couverte",
        "Zone non couverte",
        "13 communes couvertes sur 19",
        "Structure(s)",
    ):
        assert text in html, text
    path = grid_result.to_html(tmp_path / "c.html", basemap="none")
    written = path.read_text(encoding="utf-8")
    assert written.startswith("<!DOCTYPE html>") and "Syndicat 1" in written


def test_neighbouring_structures_get_different_colours(grid_result):
    from barometre_geo.coverage.colors import STRUCTURE_COLORS, structure_colors

    # s1 | s2 share the edge 2 | 3; s2 and s3 share commune 11 and the edges 7 | 11,
    # 10 | 11, 11 | 12; s1 and s3 do not touch; s4 is an island
    pairs = grid_result.neighbours
    assert pairs.to_dict("list") == {
        "structure_a": ["s1", "s2"],
        "structure_b": ["s2", "s3"],
        "shared": [0, 1],
        "edges": [1, 3],
    }
    colors = structure_colors(["s4", "s3", "s2", "s1"], pairs)
    assert colors["s1"] != colors["s2"] and colors["s2"] != colors["s3"]
    assert set(colors.values()) <= set(STRUCTURE_COLORS)
    assert len(set(colors.values())) == 4  # balanced: unused colours first


def test_summary_text_and_repr(grid_result):
    s = grid_result.summary(top=2)
    assert json.dumps(s)
    assert [z["zone_id"] for z in s["top_uncovered_zones"]] == ["Z01-01", "Z01-02"]
    text = grid_result.to_text()
    assert "13 communes couvertes sur 19 (68,4 %)" in text
    assert "<CoverageResult: 13/19 communes covered" in repr(grid_result)
    assert "Zones non couvertes" in grid_result._repr_html_()
    gdf = grid_result.rates_at("departement")
    assert set(gdf["zone"]) == {"metropole", "974"} and gdf.geometry.notna().all()


# ------------------------------------------------------------- CLI


@pytest.mark.slow
def test_cli_on_the_real_sample(tmp_path, shared_data, capsys):
    out = tmp_path / "out"
    sample = str(shared_data / "opsn-sample" / "operators.json")
    code = main(["coverage", "--structures", sample, "--out", str(out), "--no-html"])
    text = capsys.readouterr().out
    assert code == 1  # three structures without territory
    assert "Structures lues : 30 (27 avec un territoire)" in text
    assert "sans territoire : ADICA, ANCT, TEST" in text
    assert "Zones non couvertes" in text and "« ADICA » n'a aucun territoire" in text
    assert "Z75-01  Paris (75) : Paris — 1 commune, 2" in text
    assert (out / "couverture.gpkg").is_file() and (out / "structures-problemes.csv").is_file()
    assert not (out / "couverture.html").exists()
    problems = pd.read_csv(out / "structures-problemes.csv")
    assert set(problems.loc[problems["issue"] == "no_territory", "nom"]) == {
        "ADICA",
        "ANCT",
        "TEST",
    }
    # prospect lists: one per structure with a territory, and France
    lists = sorted((out / "couverture" / "prospects").glob("*.xlsx"))
    assert len(lists) == 27
    assert "Listes de prospects (CSV et XLSX) : 27 structure(s)" in text
    france = pd.read_csv(out / "couverture" / "communes-non-couvertes.csv", dtype=str)
    assert len(france) == 34_875 - 18_354
    mega = pd.read_csv(out / "couverture" / "prospects" / "253514491.csv", dtype=str)  # Mégalis
    assert mega["Limitrophe"].iloc[0] == "oui" and mega["Distance (km)"].iloc[0] == "0.0"
    assert set(mega["Département"]) <= {"22", "29", "35", "56", "44", "50", "53"}


@pytest.mark.slow
def test_cli_demo_json(tmp_path, capsys):
    code = main(
        ["coverage", "--demo", "--out", str(tmp_path), "--json", "--top", "3", "--basemap", "none"]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["structures"] >= 30 and doc["without_territory"] == []
    assert len(doc["top_uncovered_zones"]) == 3
    assert 0.4 < doc["national"]["france"]["share_communes"] < 0.8
    assert json.loads((tmp_path / "couverture-resume.json").read_text())["cog"] == 2025
    assert str(tmp_path / "couverture.html") in doc["files"]
    assert "(illustratif)" in (tmp_path / "couverture.html").read_text(encoding="utf-8")


def test_cli_errors(tmp_path, capsys):
    code = main(["coverage", "--structures", str(tmp_path / "absent.json"), "--out", str(tmp_path)])
    assert code == 2
    assert "fichier introuvable. Vérifiez le chemin" in capsys.readouterr().err
    args = ["--lang", "en", "coverage", "--structures", str(tmp_path / "absent.json")]
    assert main([*args, "--out", str(tmp_path)]) == 2
    assert "no such file. Check the path" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["coverage", "--out", str(tmp_path)])


# ------------------------------------------------------------- error paths


def test_error_cog_mismatch(grid):
    s = read_structures(GRID_STRUCTURES, territories=grid)
    other = grid_territories()
    object.__setattr__(other, "cog", 2024)
    with pytest.raises(SchemaError, match=r"COG 2025.*COG 2024\. Read them again"):
        coverage(s, other)


def test_error_codes_not_in_reference(grid, territories):
    s = read_structures([{"nom": "Ain", "departements": ["01"]}], territories=territories)
    with pytest.raises(SchemaError, match=r"not in the territorial reference.*same Territories"):
        coverage(s, grid)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"nearest": -1}, r"nearest=-1.*an integer >= 0"),
        ({"nearest": 2.5}, r"nearest=2\.5.*an integer >= 0"),
        ({"max_distance_km": 0}, r"max_distance_km=0.*> 0 and <= 500"),
        ({"max_distance_km": 1000}, r"max_distance_km=1000.*> 0 and <= 500"),
    ],
)
def test_error_parameters(grid, kwargs, match):
    with pytest.raises(UnknownValueError, match=match):
        coverage(GRID_STRUCTURES, grid, **kwargs)


def test_error_responses(grid):
    s = read_structures(GRID_STRUCTURES, territories=grid)
    with pytest.raises(SchemaError, match=r"Responses object or a DataFrame.*read_responses"):
        coverage(s, grid, responses=[1, 2])
    with pytest.raises(SchemaError, match=r"lack the column\(s\) kind.*add 'kind'"):
        coverage(s, grid, responses=responses().drop(columns="kind"))
    with pytest.raises(SchemaError, match=r"no column 'adhesion'.*declared_column=None"):
        coverage(s, grid, responses=responses(), declared_column="adhesion")
    bad = responses()
    bad["profil_mutualisation"] = bad["profil_mutualisation"].astype(str)
    bad.loc[0, "profil_mutualisation"] = "peut-être"
    with pytest.raises(UnknownValueError, match=r"'peut-être'.*valid values: oui, non.*Recode"):
        coverage(s, grid, responses=bad)
    bad = responses()
    bad.loc[0, "commune"] = "99999"
    with pytest.raises(SchemaError, match=r"1 responding commune code.*99999.*same Territories"):
        coverage(s, grid, responses=bad)


def test_error_exports(tmp_path, grid_result):
    with pytest.raises(InputFileError, match=r"no such folder\. Create it first"):
        grid_result.to_html(tmp_path / "absent" / "c.html")
    with pytest.raises(InputFileError, match=r"must end in \.gpkg"):
        grid_result.to_gpkg(tmp_path / "c.shp")
    with pytest.raises(InputFileError, match=r"no such folder\. Create it first"):
        grid_result.to_gpkg(tmp_path / "absent" / "c.gpkg")
    with pytest.raises(UnknownValueError, match="Valid levels: epci, departement, region"):
        grid_result.rates_at("commune")


# ------------------------------------------------------------- graph helpers


def test_components_against_a_plain_union_find():
    rng = np.random.default_rng(1)
    n = 500
    i, j = rng.integers(0, n, 400), rng.integers(0, n, 400)
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(i, j, strict=True):
        ra, rb = find(int(a)), find(int(b))
        parent[max(ra, rb)] = min(ra, rb)
    expected = [find(x) for x in range(n)]
    assert components(n, i, j).tolist() == expected
    chain = components(10_000, np.arange(9_999), np.arange(1, 10_000))
    assert (chain == 0).all()
