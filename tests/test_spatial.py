"""spatial_autocorrelation(): Moran's I and LISA on hand-built grids and on the demo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import barometre_geo as bg
from barometre_geo.errors import SchemaError, UnknownValueError
from barometre_geo.maps import lisa_map
from barometre_geo.stats.spatial import (
    CLUSTER_LABELS,
    GLOBAL_COLUMNS,
    LISA_COLUMNS,
    spatial_autocorrelation,
)

N = 10  # grid of N × N square "départements"


class GridTerritories:
    """A stand-in reference: N × N unit squares (metropole), an island, two overseas squares."""

    def __init__(self):
        import geopandas as gpd
        import shapely

        rows = []
        for r in range(N):
            for c in range(N):
                rows.append(
                    {
                        "code": f"D{r}{c}",
                        "nom": f"Case {r}-{c}",
                        "zone": "metropole",
                        # 0.1° squares from (2° E, 46° N): shared vertices are equal floats
                        "geometry": shapely.box(
                            round(2 + 0.1 * c, 9), round(46 + 0.1 * r, 9),
                            round(2.1 + 0.1 * c, 9), round(46.1 + 0.1 * r, 9),
                        ),
                    }
                )  # fmt: skip
        rows.append({"code": "ILE", "nom": "Île", "zone": "metropole",
                     "geometry": shapely.box(0.0, 45.0, 0.1, 45.1)})  # fmt: skip
        for i, code in enumerate(("974", "976")):
            rows.append({"code": code, "nom": f"Outre-mer {code}", "zone": code,
                         "geometry": shapely.box(55 + i, -21, 55.1 + i, -20.9)})  # fmt: skip
        self.gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=4326)

    def level(self, level):
        return self.gdf.copy()


@pytest.fixture(scope="module")
def grid():
    return GridTerritories()


def table(values: dict, *, indicator="infra_saas", suppressed=(), option=None) -> pd.DataFrame:
    """An aggregates-like table at département level from ``{code: value}``."""
    codes = list(values)
    return pd.DataFrame(
        {
            "indicator": indicator,
            "level": "departement",
            "code": codes,
            "by": "total",
            "option": option,
            "value": [values[c] for c in codes],
            "suppressed": [c in suppressed for c in codes],
        }
    )


def cells(f) -> dict:
    return {f"D{r}{c}": float(f(r, c)) for r in range(N) for c in range(N)}


def rook_matrix() -> np.ndarray:
    W = np.zeros((N * N, N * N))
    for r in range(N):
        for c in range(N):
            for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                if 0 <= r + dr < N and 0 <= c + dc < N:
                    W[r * N + c, (r + dr) * N + c + dc] = 1
    return W / W.sum(axis=1, keepdims=True)


def moran_row(stats, indicator="infra_saas"):
    m = stats.moran
    return m[m["indicator"] == indicator].iloc[0]


# ----------------------------------------------------------------------------- statistics


def test_checkerboard_gives_negative_i(grid):
    t = table(cells(lambda r, c: (r + c) % 2))
    rook = spatial_autocorrelation(t, grid, weights="rook", permutations=199)
    row = moran_row(rook)
    assert tuple(rook.moran.columns) == GLOBAL_COLUMNS
    assert row["moran_i"] == pytest.approx(-1.0)  # every neighbour is of the other colour
    assert row["expected_i"] == pytest.approx(-1 / 99)
    assert row["p_value"] == pytest.approx(1 / 200) and row["z"] < -5
    assert "négative significative" in row["interpretation"] and "damier" in row["interpretation"]
    queen = moran_row(spatial_autocorrelation(t, grid, weights="queen", permutations=199))
    assert -1 < queen["moran_i"] < 0  # diagonal neighbours share the colour


def test_smooth_gradient_gives_positive_i_and_clusters(grid):
    t = table(cells(lambda r, c: r + c))
    stats = spatial_autocorrelation(t, grid, weights="rook", permutations=199)
    row = moran_row(stats)
    assert row["moran_i"] > 0.8 and row["p_value"] <= 0.01 and row["significant"]
    assert "positive significative" in row["interpretation"]
    lisa = stats.lisa.set_index("code")
    assert tuple(stats.lisa.columns) == LISA_COLUMNS
    assert lisa.loc["D00", "cluster"] == "LL" and lisa.loc["D00", "cluster_label"] == "Bas-Bas"
    assert lisa.loc["D99", "cluster"] == "HH" and lisa.loc["D99", "cluster_label"] == "Haut-Haut"
    assert set(lisa["cluster"].dropna()) <= set(CLUSTER_LABELS)


def test_known_values_against_numpy(grid):
    """Moran's I, local I and the lag equal a direct computation; the permutations are esda's."""
    import esda
    from libpysal.weights import lat2W

    from barometre_geo.stats.autocorrelation import global_moran

    y = np.random.default_rng(42).normal(size=N * N)
    t = table({f"D{k // N}{k % N}": y[k] for k in range(N * N)})
    stats = spatial_autocorrelation(t, grid, weights="rook", permutations=99)
    W = rook_matrix()
    z = y - y.mean()
    expected = (N * N) / W.sum() * (z @ W @ z) / (z @ z)
    assert moran_row(stats)["moran_i"] == pytest.approx(expected, rel=1e-12)
    lisa = stats.lisa.set_index("code").loc[[f"D{k // N}{k % N}" for k in range(N * N)]]
    assert lisa["lag"].to_numpy() == pytest.approx(W @ y)
    zs = z / y.std()
    local = (N * N - 1) * zs * (W @ zs) / (zs @ zs)
    assert lisa["local_i"].to_numpy() == pytest.approx(local)
    # the vectorised permutation test reproduces esda.Moran's draws exactly
    w = lat2W(N, N)
    state = np.random.get_state()  # noqa: NPY002 - esda uses the global generator
    np.random.seed(11)  # noqa: NPY002 - esda uses the global generator
    reference = esda.Moran(y, w, permutations=99)
    np.random.set_state(state)  # noqa: NPY002 - esda uses the global generator
    mine = global_moran(y, w, 99, 11)
    assert mine.sim == pytest.approx(reference.sim)
    assert (mine.p_sim, mine.z_sim) == pytest.approx((reference.p_sim, reference.z_sim))


def test_islands_and_overseas_are_left_out(grid):
    values = cells(lambda r, c: r + c) | {"ILE": 3.0, "974": 50.0, "976": -9.0}
    stats = spatial_autocorrelation(table(values), grid, permutations=99)
    row = moran_row(stats)
    assert row["n_units"] == N * N and row["n_islands"] == 3 and row["n_overseas"] == 2
    assert row["n_missing"] == 0
    lisa = stats.lisa.set_index("code")
    assert lisa.loc["ILE", "cluster_label"] == "Non calculé : aucun voisin avec une valeur"
    assert lisa.loc["974", "cluster_label"] == "Non calculé : outre-mer (pas de voisin)"
    assert pd.isna(lisa.loc["ILE", "cluster"]) and np.isnan(lisa.loc["974", "local_i"])
    assert lisa.loc["974", "value"] == 50.0  # the value is shown, never used
    # the statistic is that of the grid alone
    alone = spatial_autocorrelation(table(cells(lambda r, c: r + c)), grid, permutations=99)
    assert row["moran_i"] == moran_row(alone)["moran_i"]
    # k nearest neighbours: the island gets neighbours, overseas stay out
    knn = moran_row(spatial_autocorrelation(table(values), grid, weights="knn", permutations=99))
    assert knn["n_units"] == N * N + 1 and knn["n_islands"] == 2


def test_missing_and_suppressed_values_are_dropped_and_weights_rebuilt(grid):
    values = cells(lambda r, c: (r * 7 + c * 3) % 10)
    gap = {f"D{r}5" for r in range(N)}  # column 5 suppressed (with a leaked value)
    absent = {"D00"}
    t = table({k: v for k, v in values.items() if k not in absent}, suppressed=gap)
    stats = spatial_autocorrelation(t, grid, weights="rook", permutations=99)
    row = moran_row(stats)
    assert row["n_units"] == N * N - N - 1 and row["n_missing"] == N + 1 + 3  # + ILE, overseas
    lisa = stats.lisa.set_index("code")
    assert lisa.loc["D35", "cluster_label"] == "Non calculé : valeur masquée (secret statistique)"
    assert np.isnan(lisa.loc["D35", "value"])  # a suppressed value is never shown nor used
    assert lisa.loc["D00", "cluster_label"] == "Non calculé : pas de réponse"
    # D34's neighbours are D24, D44 and D33 (D35 dropped): the lag is their mean
    expected = np.mean([values["D24"], values["D44"], values["D33"]])
    assert lisa.loc["D34", "lag"] == pytest.approx(expected)
    # the same as leaving those rows out of the table
    kept = {k: v for k, v in values.items() if k not in gap | absent}
    same = spatial_autocorrelation(table(kept), grid, weights="rook", permutations=99)
    assert moran_row(same)["moran_i"] == row["moran_i"]


def test_minimum_number_of_units(grid):
    few = table({f"D0{c}": float(c) for c in range(N)})
    row = moran_row(spatial_autocorrelation(few, grid, permutations=99))
    assert np.isnan(row["moran_i"]) and pd.isna(row["significant"])
    assert "Non calculé : 10 départements" in row["interpretation"]
    assert "au moins 30" in row["interpretation"]
    ok = moran_row(spatial_autocorrelation(few, grid, permutations=99, min_units=5))
    assert np.isfinite(ok["moran_i"])
    constant = table(cells(lambda r, c: 1.0))
    row = moran_row(spatial_autocorrelation(constant, grid, permutations=99))
    assert "ont tous la même valeur" in row["interpretation"] and np.isnan(row["p_value"])


def test_reproducible_and_global_generator_untouched(grid):
    t = table(cells(lambda r, c: np.sin(r) + np.cos(c)))
    np.random.seed(0)  # noqa: NPY002 - esda uses the global generator
    before = np.random.get_state()[1].copy()  # noqa: NPY002 - esda uses the global generator
    a = spatial_autocorrelation(t, grid, permutations=99, seed=7)
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    b = spatial_autocorrelation(t, grid, permutations=99, seed=7)
    pd.testing.assert_frame_equal(a.moran, b.moran)
    pd.testing.assert_frame_equal(a.lisa, b.lisa)
    c = spatial_autocorrelation(t, grid, permutations=99, seed=8)
    assert not np.allclose(a.lisa["p_value"].dropna(), c.lisa["p_value"].dropna())


def test_multiple_testing_corrections(grid):
    y = np.random.default_rng(3).normal(size=N * N) + np.repeat(np.arange(N), N) / 3
    t = table({f"D{k // N}{k % N}": y[k] for k in range(N * N)})
    sig = {
        corr: set(
            spatial_autocorrelation(t, grid, permutations=199, correction=corr)
            .lisa.query("significant")["code"]
            .astype(str)
        )
        for corr in ("none", "fdr", "bonferroni")
    }
    assert sig["bonferroni"] <= sig["fdr"] <= sig["none"] and sig["none"]


def test_options_give_one_variable_each(grid):
    a = table(cells(lambda r, c: r), indicator="cyber_types_attaques", option="rancongiciel")
    b = table(cells(lambda r, c: c), indicator="cyber_types_attaques", option="fraude_virement")
    stats = spatial_autocorrelation(pd.concat([a, b]), grid, permutations=99)
    assert sorted(stats.moran["option"]) == ["fraude_virement", "rancongiciel"]
    assert len(stats.lisa) == 2 * len(grid.gdf)


def test_contiguity_pairs_match_libpysal(territories):
    from libpysal.graph import Graph

    from barometre_geo.stats.contiguity import queen_pairs
    from barometre_geo.territories.adjacency import rook_pairs

    d = territories.departements
    d = d[d["zone"] == "metropole"].reset_index(drop=True)
    for rook in (False, True):
        g = Graph.build_contiguity(d, rook=rook)
        adj = g.adjacency.reset_index()
        theirs = {(min(a, b), max(a, b)) for a, b, w in adj.itertuples(index=False) if w}
        i, j = rook_pairs(d.geometry.values)[:2] if rook else queen_pairs(d.geometry.values)
        assert set(zip(i.tolist(), j.tolist(), strict=True)) == theirs


# ----------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo_stats(tmp_path_factory, territories):
    demo = bg.load_demo(cache_dir=tmp_path_factory.mktemp("demo"))
    agg = bg.aggregate(demo, level=["epci", "departement", "france"], weights=None)
    return agg, spatial_autocorrelation(agg, territories, level=["departement", "epci"])


def test_demo_every_indicator_at_both_levels(demo_stats, territories):
    agg, stats = demo_stats
    m = stats.moran
    assert set(m["level"]) == {"departement", "epci"}
    assert set(m["indicator"]) == set(agg["indicator"].astype(str))
    for level in ("departement", "epci"):
        sub = m[m["level"] == level]
        total = len(territories.level(level))
        assert (sub["n_units"] + sub["n_islands"] + sub["n_missing"] == total).all()
    computed = m[m["moran_i"].notna()]
    assert len(computed) > 100 and computed["p_value"].between(0.001, 1).all()
    too_few = m[m["moran_i"].isna() & m["interpretation"].str.contains("il en faut")]
    assert (too_few["n_units"] < 30).all() and len(too_few)


def test_demo_lisa_uses_only_published_values(demo_stats):
    agg, stats = demo_stats
    lisa = stats.lisa
    head = agg[(agg["by"] == "total") & agg["level"].isin(["departement", "epci"])]
    cols = ["indicator", "option", "level", "code"]  # option rows may be hidden alone
    keys = pd.MultiIndex.from_frame(head[head["suppressed"]][cols].astype(str))
    rows = pd.MultiIndex.from_frame(lisa[cols].astype(str))
    in_hidden = rows.isin(keys)
    assert in_hidden.any()
    assert lisa.loc[in_hidden, "value"].isna().all()
    assert lisa.loc[in_hidden, "cluster"].isna().all()
    computed = lisa["cluster"].notna()
    assert lisa.loc[computed, ["value", "lag", "local_i", "p_value"]].notna().all().all()


def test_lisa_map(demo_stats, territories):
    _, stats = demo_stats
    doc = lisa_map(stats, territories, indicator="cyber_pca", level="departement", basemap="none")
    assert doc.n_features == len(territories.departements)
    html = doc.to_html()
    for label in ("Haut-Haut", "Bas-Bas", "Non significatif", "Non calculé", "#d7191c"):
        assert label in html
    assert "Regroupements spatiaux (LISA)" in html
    frame = stats.lisa_frame(territories, indicator="cyber_pca", level="departement")
    assert len(frame) == len(territories.departements) and "geometry" in frame


# ----------------------------------------------------------------------------- errors


def test_lisa_map_errors(demo_stats, territories):
    _, stats = demo_stats
    with pytest.raises(UnknownValueError, match=r"not in these spatial statistics\. Valid:"):
        lisa_map(stats, territories, indicator="nope", level="departement")
    with pytest.raises(UnknownValueError, match=r"computed at levels .*: pass level='departement'"):
        lisa_map(stats, territories, indicator="cyber_pca")
    with pytest.raises(
        UnknownValueError, match=r"was not computed at level 'region'\. Valid levels"
    ):
        lisa_map(stats, territories, indicator="cyber_pca", level="region")
    with pytest.raises(UnknownValueError, match=r"one variable per option: pass option=… among"):
        lisa_map(stats, territories, indicator="cyber_types_attaques", level="departement")
    with pytest.raises(UnknownValueError, match=r"has no option 'x' here\. Valid options"):
        lisa_map(stats, territories, indicator="cyber_types_attaques", level="departement",
                 option="x")  # fmt: skip


def test_argument_errors(grid):
    t = table(cells(lambda r, c: r))
    cases = [
        ({"level": "region"}, r"Unknown level='region'.*Valid values: departement, epci.*too few"),
        ({"level": []}, r"needs a level: departement, epci"),
        ({"weights": "bishop"}, r"Unknown weights='bishop'.*queen, rook, knn"),
        ({"correction": "holm"}, r"Unknown correction='holm'.*none, fdr, bonferroni"),
        ({"column": "n"}, r"Unknown column='n'.*value, value_weighted"),
        ({"permutations": 10}, r"permutations=10 must be an integer ≥ 99 \(default 999\)"),
        ({"k_neighbors": 0}, r"k_neighbors=0 must be an integer ≥ 1"),
        ({"min_units": 2}, r"min_units=2 must be an integer ≥ 3"),
        ({"seed": -1}, r"seed=-1 must be an integer ≥ 0"),
        ({"significance": 1.5}, r"significance=1\.5 must be a number between 0 and 1"),
        ({"indicators": ["cyber_pca"]}, r"\['cyber_pca'\] are not in the aggregates table\. Valid"),
    ]
    for kwargs, match in cases:
        with pytest.raises(UnknownValueError, match=match):
            spatial_autocorrelation(t, grid, **kwargs)


def test_table_errors(grid):
    t = table(cells(lambda r, c: r))
    with pytest.raises(SchemaError, match=r"expects the table of barometre_geo\.aggregate\(\)"):
        spatial_autocorrelation(t.to_dict(), grid)
    with pytest.raises(SchemaError, match=r"lacks column\(s\) \['suppressed'\].*aggregate\(\)"):
        spatial_autocorrelation(t.drop(columns="suppressed"), grid)
    restricted = t.copy()
    restricted.attrs["barometre_geo"] = {"mode": "restricted"}
    with pytest.raises(SchemaError, match=r"'restricted' mode.*aggregate\(\.\.\., mode='public'\)"):
        spatial_autocorrelation(restricted, grid)
    with pytest.raises(SchemaError, match=r"no row at level 'epci'.*level=\['epci', 'france'\]"):
        spatial_autocorrelation(t, grid, level="epci")
    other = table({"Z99": 1.0, **cells(lambda r, c: r)})
    with pytest.raises(SchemaError, match=r"not in the territories.*same COG year"):
        spatial_autocorrelation(other, grid)


def test_doctests():
    import doctest
    import importlib

    for name in ("barometre_geo.stats.spatial", "barometre_geo.stats.contiguity"):
        module = importlib.import_module(name)
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
