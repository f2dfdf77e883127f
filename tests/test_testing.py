import numpy as np
import pytest

import barometre_geo as bg
from barometre_geo.errors import SchemaError, UnknownValueError
from barometre_geo.testing import assert_aggregates_consistent, make_responses, random_responses


def test_make_responses_builds_the_contract(territories):
    r = make_responses(
        {
            "cyber_protections": [("antivirus", "pare_feu"), None, ()],
            "inclusion_cnfs": ["oui", None, "non"],
        },
        codes=["01001", "region:84", "syndicat:01"],
        profiles=["agent", "elu", None],
        territories=territories,
    )
    d = r.data
    assert r.synthetic and len(r) == 3
    assert d["kind"].tolist() == ["commune", "region", "syndicat"]
    assert d["region"].tolist() == ["84", "84", "84"]
    assert (
        d["population"].iloc[0] == territories.communes.set_index("code").loc["01001", "population"]
    )
    assert str(d["inclusion_cnfs"].dtype) == "category"
    assert d["cyber_protections.antivirus"].tolist()[0] is True
    assert d["cyber_protections.antivirus"].isna().tolist() == [False, True, False]


def test_make_responses_errors(territories):
    with pytest.raises(SchemaError, match=r"cannot tell the kind of code 'abc'. Give a commune"):
        make_responses({}, codes=["abc"], territories=territories)
    with pytest.raises(SchemaError, match=r"commune code '99999' is not in the territorial"):
        make_responses({}, codes=["99999"], territories=territories)
    with pytest.raises(UnknownValueError, match=r"unknown kind 'mairie'. Valid kinds"):
        make_responses({}, codes=["01001"], kinds=["mairie"], territories=territories)
    with pytest.raises(UnknownValueError, match=r"unknown option\(s\) \['peut-être'\]"):
        make_responses({"cyber_pca": ["peut-être"]}, codes=["01001"], territories=territories)
    with pytest.raises(UnknownValueError, match=r"unknown option 'x'. Valid options: antivirus"):
        make_responses({"cyber_protections": [("x",)]}, codes=["01001"], territories=territories)
    with pytest.raises(ValueError, match="has 2 values for 1 respondents: give one value"):
        make_responses({"cyber_pca": ["oui", "non"]}, codes=["01001"], territories=territories)
    with pytest.raises(ValueError, match=r"another wave than the question's .*Pass waves="):
        make_responses({"cyber_pca": ["oui"]}, codes=["01001"], waves=2, territories=territories)
    with pytest.raises(ValueError, match="waves has 2 values for 1 respondents"):
        make_responses({}, codes=["01001"], waves=[1, 2], territories=territories)


def test_random_responses_shape():
    r = random_responses(600, seed=5, no_territory=3)
    d = r.data
    assert len(d) == 600 and d["region"].isna().sum() == 3
    shares = d["kind"].value_counts(normalize=True)
    assert 0.8 < shares["commune"] < 0.95
    # answers only in the wave of their question, and only where asked
    w2 = d["outils_materiel_reconditionne"].notna()
    assert (d.loc[w2, "wave"] == 2).all() and w2.any()
    asked = d["inclusion_actions_mediation"] == "oui"
    typ = d["inclusion_actions_types.autre"].notna()
    assert not (typ & ~asked).any()


def test_assert_aggregates_consistent_finds_leaks():
    r = random_responses(300, seed=6)
    t = bg.aggregate(r, level="region", indicators="inclusion_cnfs", weights=None)
    assert_aggregates_consistent(t, k=5)
    leak = t.copy()
    i = leak.index[leak["suppressed"]][0]
    leak.loc[i, "value"] = 0.5
    with pytest.raises(AssertionError, match="are suppressed but leak a figure"):
        assert_aggregates_consistent(leak)
    bad = t.copy()
    j = bad.index[~bad["suppressed"]][0]
    bad.loc[j, "ci_low"] = bad.loc[j, "value"] + 0.1
    with pytest.raises(AssertionError, match="have a value outside their interval"):
        assert_aggregates_consistent(bad)
    few = t.copy()
    few.loc[j, "n"] = 2
    with pytest.raises(AssertionError, match="published with fewer than k=5 answers"):
        assert_aggregates_consistent(few, k=5)
    with pytest.raises(
        AssertionError, match=r"columns missing from the aggregate table: \['nom'\]"
    ):
        assert_aggregates_consistent(t.drop(columns=["nom"]))
    assert np.isfinite(t["value"].dropna()).all()
