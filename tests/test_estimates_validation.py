"""The simulated census (small version of benchmarks/bench_estimates.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from barometre_geo.demo.census import sample_census, simulate_census, truth
from barometre_geo.demo.validation import summarise, validate_estimates

INDICATORS = (("inclusion_cnfs", None), ("services_dispositif_recueil", None),
              ("communication_modes", "reseaux_sociaux"))  # fmt: skip


@pytest.fixture(scope="module")
def census(territories):
    return simulate_census(7, territories=territories)


def test_census_answers_every_collectivity(census):
    ind = census.catalogue.get("inclusion_cnfs")
    value, n = truth(census, ind, None, "france")
    assert n[0] > 30_000  # every commune, EPCI and council with a valid answer
    assert value[0] == pytest.approx(0.26, abs=0.005)  # the published share, on the census


def test_sample_reads_the_census(census):
    sample, rows = sample_census(census, 3)
    waves = sample.data["wave"].value_counts().sort_index().tolist()
    assert waves[0] > 2000 and 500 < waves[1] < 700  # the demo's wave sizes, syndicats aside
    ans = pd.Series(np.asarray(census.answers["inclusion_cnfs"], dtype=object)[rows])
    got = sample.data["inclusion_cnfs"].astype(object)
    w1 = sample.data["wave"].to_numpy() == 1
    assert got[w1].fillna("-").tolist() == ans[w1].fillna("-").tolist()


@pytest.mark.slow
def test_model_beats_direct_on_the_simulated_census(census):
    res = validate_estimates(census, [11, 12], indicators=INDICATORS)
    table = summarise(res)
    dep = table.loc["departement"]
    assert dep.loc["model", "RMSE (pts)"] < 0.75 * dep.loc["direct", "RMSE (pts)"]
    assert dep.loc["model", "publiés"] > 0.95 > dep.loc["direct", "publiés"]
    assert 0.8 < dep.loc["model", "couverture IC 95 %"] <= 1.0
    assert table.loc[("epci", "model"), "publiés"] > 0.8
