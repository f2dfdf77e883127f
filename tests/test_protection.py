import doctest
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import barometre_geo as bg
from barometre_geo.errors import UnknownValueError
from barometre_geo.protection import rules as protection
from barometre_geo.protection.disclosure import disclosed_groups
from barometre_geo.protection.rules import (
    SUPPRESSION_REASONS,
    check_thresholds,
    complementary,
    parse_mode,
    primary_reasons,
)
from barometre_geo.testing import assert_aggregates_consistent, assert_no_disclosure, make_responses

LEVELS = ["commune", "epci", "departement", "region", "france"]


def test_doctests():
    assert doctest.testmod(protection).failed == 0


# ------------------------------------------------------------------ primary


def test_primary_public():
    reasons = primary_reasons(
        np.array([4, 5, 9, 10, 50, 50, 50]),
        np.array(["region", "region", "region", "region", "commune", "epci", "region"]),
        np.array([False, False, True, True, False, True, False]),
        np.array([True, True, True, True, True, True, False]),
    )
    assert reasons.tolist() == [
        "small_n",
        "",
        "small_n_sensitive",
        "",
        "",
        "sensitive_level",
        "level",
    ]


def test_primary_restricted_shows_communes_but_never_sensitive_ones():
    reasons = primary_reasons(
        np.array([1, 1, 12, 9]),
        np.array(["commune", "commune", "epci", "epci"]),
        np.array([False, True, True, True]),
        np.ones(4, dtype=bool),
        mode="restricted",
    )
    assert reasons.tolist() == ["", "sensitive_level", "", "small_n_sensitive"]


def test_thresholds_and_mode_errors():
    with pytest.raises(ValueError, match="Pass k_sensitive >= 5"):
        check_thresholds(5, 4)
    with pytest.raises(ValueError, match=r"k=True must be an integer ≥ 1 \(default 5\)"):
        check_thresholds(True, 10)
    with pytest.raises(ValueError, match=r"k_sensitive='10' must be an integer \(default 10\)"):
        check_thresholds(5, "10")
    with pytest.raises(UnknownValueError, match="Valid modes: public, restricted"):
        parse_mode("private")
    assert set(SUPPRESSION_REASONS) >= {"small_n", "complementary", "sensitive_level"}


# ------------------------------------------------------------------ complementary


def run(n, hidden, members, k=5, **kw):
    rel = np.array([m[0] for m in members])
    cell = np.array([m[1] for m in members])
    par = np.array([m[2] for m in members])
    k_rel = np.full(int(rel.max()) + 1, k)
    return complementary(np.array(n), np.array(hidden), rel, cell, par, k_rel, **kw)


def test_last_child_is_hidden_with_the_one_below_k():
    # région 30 = départements 3 (hidden) + 12 + 15: hide the next smallest, 12
    hidden, info = run(
        [30, 3, 12, 15], [False, True, False, False], [(0, 0, 1), (0, 1, 0), (0, 2, 0), (0, 3, 0)]
    )
    assert hidden.tolist() == [False, True, True, False] and info["added"] == 1


def test_residual_of_the_parent_is_protected():
    # région 28 = départements 12 + 15 + the conseil régional's own answer (1)
    hidden, _ = run([28, 12, 15], [False, False, False], [(0, 0, 1), (0, 1, 0), (0, 2, 0)])
    assert hidden.tolist() == [False, True, False]


def test_a_residual_of_k_answers_alone_is_learnt_like_a_cell():
    # France 34 = strata 12 + 15 + the syndicats (7, no stratum): learning the syndicats'
    # sum by difference is learning a group of k answers or more — nothing to hide
    hidden, _ = run([34, 12, 15], [False, False, False], [(0, 0, 1), (0, 1, 0), (0, 2, 0)])
    assert hidden.tolist() == [False, False, False]
    # below k (4), it is the secret of a small group: a child is hidden with it
    hidden, _ = run([31, 12, 15], [False, False, False], [(0, 0, 1), (0, 1, 0), (0, 2, 0)])
    assert hidden.tolist() == [False, True, False]


def test_two_hidden_children_below_k_together_need_a_third():
    hidden, _ = run(
        [30, 1, 2, 12, 15],
        [False, True, True, False, False],
        [(0, 0, 1), (0, 1, 0), (0, 2, 0), (0, 3, 0), (0, 4, 0)],
    )
    assert hidden.tolist() == [False, True, True, True, False]


def test_hidden_parent_with_published_children_hides_one():
    # a complementary-hidden EPCI must not be the sum of its published communes
    hidden, _ = run([20, 10, 10], [True, False, False], [(0, 0, 1), (0, 1, 0), (0, 2, 0)])
    assert hidden.sum() == 2


def test_cascade_across_relations():
    # hiding a département (relation 0) makes it unsafe in its own relation (1)
    hidden, info = run(
        [40, 3, 37, 30, 7],
        [False, True, False, False, False],
        [(0, 0, 1), (0, 1, 0), (0, 2, 0), (1, 2, 1), (1, 3, 0), (1, 4, 0)],
    )
    assert hidden.tolist() == [False, True, True, False, True]
    assert info["rounds"] >= 2


def test_ineligible_cells_are_forced_only_when_nothing_else_works():
    hidden, info = run(
        [30, 3, 12, 15],
        [False, True, False, False],
        [(0, 0, 1), (0, 1, 0), (0, 2, 0), (0, 3, 0)],
        eligible=np.array([True, True, False, True]),
    )
    assert hidden.tolist() == [False, True, False, True] and info["forced"] == 0
    hidden, info = run(
        [30, 3, 27],
        [False, True, False],
        [(0, 0, 1), (0, 1, 0), (0, 2, 0)],
        eligible=np.array([False, True, False]),
    )
    assert hidden.sum() == 2 and info["forced"] == 1


def test_inconsistent_nesting_is_a_bug_report():
    with pytest.raises(RuntimeError, match="children hold more answers than their parents"):
        run([5, 10], [False, False], [(0, 0, 1), (0, 1, 0)])


# ------------------------------------------------------------------ in aggregate


@pytest.fixture(scope="module")
def ain(territories):
    c = territories.communes
    codes = c.loc[c["departement"] == "01", "code"].head(40).tolist()
    rng = np.random.default_rng(1)
    return make_responses(
        {
            "cyber_pca": rng.choice(["oui", "non"], size=len(codes)).tolist(),
            "inclusion_cnfs": rng.choice(["oui", "non"], size=len(codes)).tolist(),
        },
        codes=codes,
        territories=territories,
    )


def agg(r, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return bg.aggregate(r, weights=None, **kw)


def test_suppressed_rows_leak_nothing(ain):
    t = agg(ain, level=LEVELS, by="profile")
    s = t[t["suppressed"]]
    assert len(s) and s["reason"].notna().all()
    for col in ("n", "value", "ci_low", "ci_high", "value_weighted", "deff", "low_reliability"):
        assert s[col].isna().all(), col
    assert_aggregates_consistent(t, k=5)


def test_public_communes_are_never_shown(ain):
    t = agg(ain, level="commune")
    assert t["suppressed"].all()
    assert set(t["reason"].astype(str)) <= {"small_n", "sensitive_level", "level"}


def test_restricted_mode_shows_commune_answers_of_non_sensitive_indicators(ain):
    t = agg(ain, level="commune", mode="restricted")
    cnfs = t[t["indicator"] == "inclusion_cnfs"]
    pca = t[t["indicator"] == "cyber_pca"]
    assert not cnfs["suppressed"].any() and (cnfs["n"] == 1).all()
    # hidden by the catalogue (levels: département and up) and by the sensitivity rule
    assert pca["suppressed"].all() and pca["reason"].isin(["level", "sensitive_level"]).all()


def test_sensitive_threshold(ain):
    t = agg(ain, level=["epci", "departement"], indicators="cyber_pca", k_sensitive=50)
    assert t["suppressed"].all()  # 40 answers < 50, and never per EPCI
    assert (t.loc[t["level"] == "epci", "reason"] == "level").all()  # catalogue levels
    shown = agg(ain, level="departement", indicators="cyber_pca", k_sensitive=30)
    assert not shown.loc[shown["code"] == "01", "suppressed"].any()


def test_suppressed_n_is_not_published_but_participation_is(ain):
    t = agg(ain, level="epci", indicators="inclusion_cnfs")
    hidden = t[t["suppressed"]]
    assert hidden["n"].isna().all() and (hidden["respondents"] > 0).all()


# ------------------------------------------------------------------ property tests


def random_responses_in(territories, seed: int):
    """A small random edition in one région: communes, EPCI, councils, syndicats."""
    rng = np.random.default_rng(seed)
    c = territories.communes
    reg = rng.choice(["84", "75", "76", "44", "94", "11", "01"])
    deps = c.loc[c["region"] == reg, "departement"].unique()
    deps = rng.choice(deps, size=min(len(deps), int(rng.integers(1, 4))), replace=False)
    pool = c.loc[c["departement"].isin(deps), "code"].to_numpy(dtype=object)
    codes = list(rng.choice(pool, size=min(int(rng.integers(15, 90)), len(pool)), replace=False))
    ep = territories.epci.loc[territories.epci["departement"].isin(deps), "code"]
    codes += list(rng.choice(ep.to_numpy(dtype=object), size=min(len(ep), 4), replace=False))
    sirens = territories.departements.set_index("code")["siren"]
    codes += [f"departement:{d}" for d in deps if pd.notna(sirens[d]) and rng.random() < 0.5]
    codes += [f"syndicat:{d}" for d in deps if rng.random() < 0.3]
    if pd.notna(territories.regions.set_index("code").loc[reg, "siren"]) and rng.random() < 0.5:
        codes.append(f"region:{reg}")
    codes += [None] * int(rng.integers(0, 3))
    n = len(codes)
    return make_responses(
        {
            "inclusion_cnfs": rng.choice(["oui", "non", None], size=n, p=[0.45, 0.45, 0.1]),
            "cyber_pca": rng.choice(["oui", "non", "ne_sait_pas"], size=n).tolist(),
        },
        codes=codes,
        profiles=rng.choice(["agent", "elu", None], size=n, p=[0.6, 0.35, 0.05]).tolist(),
        extra={"couverture": rng.choice(["couvert", "non_couvert"], size=n).tolist()},
        territories=territories,
    )


def members(r, table):
    """Valid respondents (positions) of every published cell, computed with pandas."""
    from barometre_geo.stats.prepare import by_groups, prepare_rows
    from barometre_geo.stats.units import build_geo

    d = r.data
    prep = prepare_rows(d, build_geo(bg.load_territories()))
    groups = {}
    for name in set(table["by"].astype(str)) - {"total"}:
        g, labels = by_groups(name, d, prep, None)
        groups[name] = np.where(g >= 0, np.array([*labels, ""], dtype=object)[g], None)
    zone = np.where(d["region"].isin(["01", "02", "03", "04", "06"]), "FR-DROM", "FR-METRO")
    zone = np.where(d["region"].isna(), None, zone)
    where = {
        "commune": d["commune"], "epci": d["epci"], "departement": d["departement"],
        "region": d["region"], "france_metropolitaine": zone, "outre_mer": zone,
        "france": np.full(len(d), "FR", dtype=object),
    }  # fmt: skip
    out = {}
    for ind in set(table["indicator"].astype(str)):
        i = r.catalogue.get(ind)
        valid = d[i.column or i.id].isin(list(i.valid)).to_numpy()
        cells = table[table["indicator"] == ind].drop_duplicates(["level", "code", "by", "group"])
        for c in cells.itertuples(index=False):
            m = valid & (np.asarray(where[str(c.level)], dtype=object) == str(c.code))
            if c.by != "total":
                m &= groups[str(c.by)] == str(c.group)
            out[(ind, str(c.level), str(c.code), str(c.by), str(c.group))] = (
                frozenset(np.flatnonzero(m)),
                bool(c.suppressed),
                int(c.respondents) if pd.notna(c.respondents) else 0,
            )
    return out


CHILD_LEVELS = {
    "epci": [["commune"]],
    "departement": [["epci"], ["commune"]],
    "region": [["departement"]],
    "france_metropolitaine": [["region"]],
    "outre_mer": [["region"]],
    "france": [["france_metropolitaine", "outre_mer"]],
}


def assert_no_child_recoverable(cells, k):
    """The brief's property, generalised: for every published parent and every family of
    its children (finer level, same group; groups of one breakdown under their total),
    the hidden children and the respondents no child holds are 0 or ≥ 2 unknowns
    holding 0 or ≥ k answers — so no child can be recomputed by difference. One
    unknown is allowed when it is the residual alone holding k answers or more (a
    group as large as a published cell; the exact audit still checks every smaller
    group).

    The reader knows who responded (the respondents of every cell are published),
    not who answered the question: a hidden child whose respondents all skipped it
    is an unknown too (its n = 0 is the secret the skip rule keeps)."""
    by_key = {}
    for key, (resp, hid, n_resp) in cells.items():
        by_key.setdefault((key[0], key[1], key[3]), []).append((key, resp, hid, n_resp))
    for key, (parent, p_hidden, p_resp) in cells.items():
        if p_hidden or not parent:
            continue
        ind, level, code, by, group = key
        families = []
        for finer in CHILD_LEVELS.get(level, []):
            fam = [c for lv in finer for c in by_key.get((ind, lv, by), []) if c[0][4] == group]
            families.append((fam, False))
        if by == "total":
            for other in {k[3] for k in cells if k[3] != "total"}:
                fam = [c for c in by_key.get((ind, level, other), []) if c[0][2] == code]
                families.append((fam, True))
        for fam, same_territory in families:
            kids = [
                (resp, hid)
                for _, resp, hid, n_resp in fam
                if (resp or (hid and n_resp > 0)) and resp <= parent
            ]
            if not kids:
                continue  # no cell at that level (breakdowns are not given per commune)
            covered = frozenset().union(*[resp for resp, _ in kids]) if kids else frozenset()
            hidden = [resp for resp, hid in kids if hid]
            residual = len(parent - covered)
            # the groups of one territory: its respondents without a group (NA) may have
            # answered, as far as the reader knows — an unknown too, even with no answer
            silent = same_territory and p_resp > sum(c[3] for c in fam)
            unknowns = len(hidden) + (residual > 0 or (silent and bool(hidden)))
            mass = sum(len(h) for h in hidden) + residual
            if unknowns == 1 and not hidden and residual >= k:
                continue  # the residual alone: a group of k answers or more, like a cell
            assert unknowns != 1, f"{key}: one unknown child, recoverable by difference"
            assert mass == 0 or mass >= k, f"{key}: hidden children hold {mass} < {k} answers"


def aggregate_quietly(r, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.errors.DataQualityWarning)  # no-territory rows
        return bg.aggregate(r, level=LEVELS, weights=None, **kw)


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    k=st.sampled_from([3, 5]),
    by=st.sampled_from(
        [None, "profile", "stratum", ["profile", "couverture"], ["stratum", "kind", "profile"]]
    ),
)
@example(seed=7824, k=3, by="profile")  # a breakdown cell pinned to its total was hidden
@example(seed=160652, k=3, by=["stratum", "kind", "profile"])
@example(seed=73676, k=3, by="profile")  # respondents without a profile: an unknown
def test_no_child_can_be_recomputed_by_difference(seed, k, by):
    territories = bg.load_territories()
    r = random_responses_in(territories, seed)
    t = aggregate_quietly(r, by=by, k=k, k_sensitive=max(k, 5), territories=territories)
    assert_aggregates_consistent(t, k=k)
    assert_no_child_recoverable(members(r, t), k)


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), k=st.sampled_from([3, 5]))
def test_no_linear_combination_isolates_fewer_than_k(seed, k):
    """Exact audit (null space of the cell × respondent matrix) at every level."""
    territories = bg.load_territories()
    r = random_responses_in(territories, seed)
    t = aggregate_quietly(r, k=k, territories=territories)
    assert_no_disclosure(t, r, k=k, territories=territories)


def test_audit_catches_a_leak(ain, territories):
    t = agg(ain, level=LEVELS, indicators="inclusion_cnfs")
    assert_no_disclosure(t, ain, k=5, territories=territories)
    leaky = t.copy()
    small = leaky.index[(leaky["level"] == "epci") & (leaky["reason"] == "small_n")][:1]
    leaky.loc[small, "suppressed"] = False  # publish an EPCI with fewer than k answers
    leaky.loc[small, "n"] = 1  # any published n > 0
    with pytest.raises(AssertionError, match=r"determine the answers of .* protection is broken"):
        assert_no_disclosure(leaky, ain, k=5, territories=territories)


def test_disclosed_groups_on_small_matrices():
    assert disclosed_groups(np.array([[1, 1, 1, 1], [1, 1, 1, 0]]), max_size=2) == [(3,)]
    # the child of 3 respondents is itself a group below k = 5
    assert disclosed_groups(np.array([[1, 1, 1, 1], [1, 1, 1, 0]])) == [(3,), (0, 1, 2)]
    assert disclosed_groups(np.array([[1] * 6, [1] * 4 + [0] * 2]), max_size=2) == [(4, 5)]
    safe = np.array([[1] * 10, [1] * 5 + [0] * 5])
    assert disclosed_groups(safe, max_size=4) == []
    assert disclosed_groups(np.eye(3)) == [(0,), (1,), (2,)]


GUADELOUPE = ["97130", "97110", "97131", "97133", "97126", "97108", "97111", "97102", "97112"]


@pytest.fixture(scope="module")
def guadeloupe(territories):
    """10 communes, 3 large EPCI, the small CC de Marie-Galante, both councils."""
    codes = [*GUADELOUPE, "97104", "200018653", "200041507", "200044691", "249710047"]
    codes += ["departement:971", "region:01"]
    return make_responses({"inclusion_cnfs": ["oui", "non"] * 8}, codes=codes)


@pytest.mark.parametrize("by", ["kind", "stratum"])
def test_one_breakdown_passes_the_exact_audit(guadeloupe, territories, by):
    t = aggregate_quietly(guadeloupe, by=by, k=3, territories=territories)
    assert_no_disclosure(t, guadeloupe, k=3, territories=territories)


def test_two_breakdowns_together_do_not_leak(guadeloupe, territories):
    """Linked tables: total − communes − "50 000 habitants et plus" once isolated the small
    CC de Marie-Galante in Guadeloupe; the audit hides that stratum at the three levels
    holding the same respondents (région, outre-mer, France) and nothing else (the
    département's cell then follows by the nesting rules)."""
    t = aggregate_quietly(guadeloupe, by=["kind", "stratum"], k=3, territories=territories)
    assert_no_disclosure(t, guadeloupe, k=3, territories=territories)
    big = t[(t["by"] == "stratum") & t["group"].astype(str).str.startswith("50")]
    hidden = set(big.loc[big["suppressed"], "level"].astype(str))
    assert hidden >= {"france", "outre_mer", "region"}
    # three cells per indicator published at the département level (the linked tables
    # leak through its cell); none for the type of collectivity (région and France only)
    cat = bg.load_catalogue()
    by_dep = [i for i in t["indicator"].unique() if "departement" in cat.get(i).levels]
    assert 0 < len(by_dep) < t["indicator"].nunique()
    assert t.attrs["barometre_geo"]["protection"]["audit_added"] == 3 * len(by_dep)


def test_breakdown_cells_are_not_hidden_beyond_need(territories):
    """12 + 10 communes in the two smallest strata, 8 + 2 in the next ones: only the
    2 (primary) and the 8 (complement) are hidden in the Ain, whose communes carry
    no breakdown cells (a regression: their relation once hid every stratum)."""
    c = territories.communes[territories.communes["departement"] == "01"]
    pop = c["population"].astype(float)
    codes = (
        c.loc[pop < 500, "code"].head(12).tolist()
        + c.loc[(pop >= 500) & (pop < 1000), "code"].head(10).tolist()
        + c.loc[(pop >= 1000) & (pop < 3500), "code"].head(8).tolist()
        + c.loc[(pop >= 3500) & (pop < 10000), "code"].head(2).tolist()
    )
    r = make_responses({"inclusion_cnfs": ["oui", "non"] * 16}, codes=codes)
    t = agg(r, level="departement", indicators="inclusion_cnfs", by="stratum")
    ain = t[(t["code"] == "01") & (t["by"] == "stratum")]
    shown = dict(zip(ain["group"].astype(str), ~ain["suppressed"], strict=True))
    assert shown == {
        "Moins de 500 habitants": True,
        "500 à 999 habitants": True,
        "1\u202f000 à 3\u202f499 habitants": False,
        "3\u202f500 à 9\u202f999 habitants": False,
    }


# ------------------------------------------------------------------ linked tables: the audit


def test_audit_engine_doctests():
    from barometre_geo.protection import audit as _protection_audit

    assert doctest.testmod(_protection_audit).failed == 0


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    k=st.integers(2, 5),
    drop=st.booleans(),
)
@example(seed=1530, k=3, drop=True)  # every row dropped: an empty system
def test_audit_engine_agrees_with_the_svd_audit(seed, k, drop):
    """Null samples by nested dissection + meet-in-the-middle find exactly the groups the
    plain SVD audit finds, on random cells × respondents matrices (rows spread over three
    stages), also when some rows of the last stage are left out."""
    from scipy import sparse

    from barometre_geo.protection.audit import NullSampler, atoms, small_groups

    rng = np.random.default_rng(seed)
    A = (rng.random((int(rng.integers(3, 20)), int(rng.integers(4, 30)))) < 0.3).astype(float)
    stage = rng.integers(0, 3, len(A))
    last = np.flatnonzero(stage == stage.max())
    dropped = last[rng.random(len(last)) < 0.5] if drop else np.empty(0, dtype=int)
    atom, first, mass = atoms(A.T.astype(np.int64))
    ns = NullSampler(sparse.csr_matrix(A[:, first]), stage, seed=seed).samples(
        dropped if len(dropped) else None
    )
    kept = np.delete(A, dropped, axis=0)
    assert np.abs(kept[:, first] @ ns.z).max(initial=0.0) < 1e-9  # no row kept: nothing to check
    mine = {tuple(np.flatnonzero(np.isin(atom, g))) for g in small_groups(ns, mass, k)}
    assert mine == set(disclosed_groups(kept, max_size=min(k - 1, 4)))


INDICATORS = ["inclusion_cnfs", "cyber_pca", "profil_type_collectivite"]


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    size=st.integers(20, 160),
    k=st.sampled_from([3, 5]),
    by=st.sampled_from(
        [
            ["kind", "stratum"],
            ["stratum", "kind", "profile"],
            ["stratum", "profile", "type_label", "kind"],
        ]
    ),
)
def test_linked_breakdowns_pass_the_exact_audit(territories, seed, size, k, by):
    """Several breakdowns published together on tiny random editions (the relations alone
    leaked in about one case in ten): nothing below k can be traced back."""
    r = bg.testing.random_responses(size, seed=seed, indicators=INDICATORS)
    t = aggregate_quietly(r, by=by, k=k, k_sensitive=max(k, 5), territories=territories)
    assert_aggregates_consistent(t, k=k)
    assert_no_disclosure(t, r, k=k, territories=territories)


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), size=st.integers(40, 200), k=st.sampled_from([3, 5]))
def test_weighted_figures_pass_the_exact_audit(territories, seed, size, k):
    """Published weighted values count as Σ w·y over their cell (calibration weights can be
    recomputed): with them too, nothing below k can be traced back."""
    from barometre_geo.stats.weighting import calibration_weights

    r = bg.testing.random_responses(size, seed=seed, indicators=INDICATORS[:2])
    weights = calibration_weights(r, territories)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.errors.DataQualityWarning)
        t = bg.aggregate(
            r, level=LEVELS, by=["kind", "stratum"], k=k, weights=weights, territories=territories
        )
    assert_no_disclosure(t, r, k=k, territories=territories, weights=weights)
    national = t["level"].isin(["france", "france_metropolitaine", "outre_mer"])
    assert t.loc[~t["suppressed"] & national, "value_weighted"].notna().any()


def test_weighted_values_without_the_rule_would_leak(monkeypatch, territories):
    """The audit with weights has teeth: publishing every weighted value of a small
    edition lets a reader who recomputes the weights isolate respondents."""
    from barometre_geo.protection import apply as _aggregate_protect
    from barometre_geo.stats.weighting import calibration_weights

    r = bg.testing.random_responses(80, seed=3, indicators=["inclusion_cnfs"])
    weights = calibration_weights(r, territories)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bg.errors.DataQualityWarning)
            return bg.aggregate(
                r, level=LEVELS, by=["kind", "stratum"], weights=weights, territories=territories
            )

    safe = run()
    assert safe.attrs["barometre_geo"]["weighted_withheld"] > 0
    assert_no_disclosure(safe, r, territories=territories, weights=weights)
    monkeypatch.setattr(
        _aggregate_protect._Audit,
        "weighted",
        lambda self, i, hidden, *a: np.zeros(len(self.n), bool),
    )
    with pytest.raises(AssertionError, match="protection is broken"):
        assert_no_disclosure(run(), r, territories=territories, weights=weights)


def test_audit_weights_must_match_the_responses(ain, territories):
    t = agg(ain, level="departement", indicators="inclusion_cnfs")
    with pytest.raises(ValueError, match="pass the weights given to aggregate"):
        assert_no_disclosure(t, ain, territories=territories, weights=np.ones(3))


def test_a_leak_that_cannot_be_closed_is_a_bug_report(monkeypatch, guadeloupe, territories):
    from barometre_geo.protection import apply as _aggregate_protect

    monkeypatch.setattr(
        _aggregate_protect._Audit,
        "candidates",
        lambda self, i, members, allowed, near=True: np.empty(0, dtype=np.int64),
    )
    with pytest.raises(RuntimeError, match=r"cannot be closed .* This is a bug: please report it"):
        aggregate_quietly(guadeloupe, by=["kind", "stratum"], k=3, territories=territories)


def test_the_maps_hide_the_columns_the_table_empties():
    from barometre_geo.indicators.aggregate import SUPPRESSED_COLUMNS
    from barometre_geo.maps._data import HIDDEN_COLUMNS

    assert HIDDEN_COLUMNS is protection.SUPPRESSED_COLUMNS is SUPPRESSED_COLUMNS


def test_an_unweighted_leak_in_the_weighted_audit_is_a_bug_report(
    monkeypatch, guadeloupe, territories
):
    from barometre_geo.protection import apply as _aggregate_protect

    monkeypatch.setattr(_aggregate_protect._Audit, "fix", lambda self, i, hidden, eligible, *a: [])
    weights = pd.Series(1.0, index=guadeloupe.data.index)
    with pytest.raises(RuntimeError, match=r"leak of the unweighted cells\. This is a bug"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bg.errors.DataQualityWarning)
            bg.aggregate(
                guadeloupe, level=LEVELS, by=["kind", "stratum"], k=3, weights=weights,
                territories=territories,
            )  # fmt: skip
