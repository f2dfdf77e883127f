"""Attribute disclosure of sensitive indicators (``t_sensitive``, ``attribute_sensitive``)."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pandas as pd
import pytest

import barometre_geo as bg
from barometre_geo.errors import UnknownValueError
from barometre_geo.protection import attribute as _protection_attribute
from barometre_geo.protection.rules import SUPPRESSION_REASONS, complementary
from barometre_geo.testing import make_responses

LEVELS = ["commune", "epci", "departement", "region", "france"]
#: Nesting order of the levels of the table (zones between régions and France).
RANK = {**{lv: i for i, lv in enumerate(LEVELS)}, "france_metropolitaine": 3.5, "outre_mer": 3.5}


def agg(r, **kw):
    """Aggregate with the detailed reasons (which rule hid which cell)."""
    kw.setdefault("detailed_reasons", True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.errors.DataQualityWarning)
        return bg.aggregate(r, weights=None, **kw)


def communes_of(territories, dep, size):
    c = territories.communes
    return c.loc[c["departement"] == dep, "code"].head(size).tolist()


def cell(t, level, code, indicator, option=None):
    rows = t[(t["level"] == level) & (t["code"] == code) & (t["indicator"] == indicator)]
    rows = rows[rows["by"] == "total"]
    rows = rows[rows["option"].isna()] if option is None else rows[rows["option"] == option]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_doctests():
    assert doctest.testmod(_protection_attribute).failed == 0


def test_reason_code_has_a_french_label():
    assert "moins de t réponses d'un côté" in SUPPRESSION_REASONS["attribute_sensitive"]


@pytest.fixture(scope="module")
def ain12(territories):
    codes = communes_of(territories, "01", 12)
    return lambda answers, ind="cyber_pca": make_responses(
        {ind: answers}, codes=codes, territories=territories
    )


def test_homogeneous_departement_is_hidden(ain12):
    t = agg(ain12(["non"] * 12), level="departement", indicators="cyber_pca")
    row = cell(t, "departement", "01", "cyber_pca")
    assert row["suppressed"] and row["reason"] == "attribute_sensitive"
    assert pd.isna(row["value"]) and pd.isna(row["n"])
    assert t.attrs["barometre_geo"]["t_sensitive"] == 3
    # 0 disables the rule: 12 answers ≥ k_sensitive, the cell is shown
    shown = agg(ain12(["non"] * 12), level="departement", indicators="cyber_pca", t_sensitive=0)
    row = cell(shown, "departement", "01", "cyber_pca")
    assert not row["suppressed"] and row["value"] == 0 and row["n"] == 12


def test_three_positive_answers_pass_at_t3_not_at_t4(ain12):
    r = ain12(["non"] * 9 + ["oui"] * 3)
    row = cell(
        agg(r, level="departement", indicators="cyber_pca"), "departement", "01", "cyber_pca"
    )
    assert not row["suppressed"] and row["value"] == pytest.approx(0.25)
    t4 = agg(r, level="departement", indicators="cyber_pca", t_sensitive=4)
    row = cell(t4, "departement", "01", "cyber_pca")
    assert row["suppressed"] and row["reason"] == "attribute_sensitive"


def test_ne_sait_pas_counts_on_the_not_oui_side(ain12):
    r = ain12(["oui"] * 10 + ["ne_sait_pas"] * 2)
    row = cell(
        agg(r, level="departement", indicators="cyber_pca"), "departement", "01", "cyber_pca"
    )
    assert row["reason"] == "attribute_sensitive"  # 2 answers not "Oui" < 3


def test_single_choice_options_do_not_change_the_decision(territories):
    # cyber_rssi: 4 "oui_interne", 8 "non", nobody "oui_mutualise"
    codes = communes_of(territories, "01", 12)
    answers = ["oui_interne"] * 4 + ["non"] * 8
    r = make_responses({"cyber_rssi": answers}, codes=codes, territories=territories)
    kw = dict(level=["departement", "region", "france"], indicators="cyber_rssi")
    plain, wide = agg(r, **kw), agg(r, **kw, options=True)
    head = wide[wide["option"].isna()].reset_index(drop=True)
    pd.testing.assert_series_equal(head["suppressed"], plain["suppressed"].reset_index(drop=True))
    assert not cell(wide, "departement", "01", "cyber_rssi")["suppressed"]
    assert cell(wide, "departement", "01", "cyber_rssi", "oui_mutualise")["value"] == 0


def test_mean_of_a_sensitive_percentage_needs_answers_above_0_and_below_100(territories):
    import dataclasses

    cat = bg.load_catalogue()
    ind = "outils_materiel_reconditionne"  # a percentage, flagged sensitive here
    inds = [dataclasses.replace(i, sensitive=True) if i.id == ind else i for i in cat.indicators]
    cat = dataclasses.replace(cat, indicators=inds)
    assert cat.get(ind).sensitive
    codes = communes_of(territories, "01", 12)

    def dep(values):
        r = make_responses({ind: values}, codes=codes, territories=territories, catalogue=cat)
        return cell(agg(r, level="departement", indicators=ind), "departement", "01", ind)

    assert dep([0.0] * 10 + [40.0, 100.0])["reason"] == "attribute_sensitive"  # 2 > 0 %
    assert not dep([0.0] * 9 + [40.0, 50.0, 60.0])["suppressed"]  # 3 > 0 %, 12 < 100 %
    assert dep([100.0] * 10 + [20.0, 0.0])["reason"] == "attribute_sensitive"  # 2 < 100 %


def test_non_sensitive_indicator_is_untouched(ain12):
    t = agg(ain12(["non"] * 12, "inclusion_cnfs"), level="departement")
    row = cell(t, "departement", "01", "inclusion_cnfs")
    assert not row["suppressed"] and row["value"] == 0


@pytest.mark.parametrize("bad", [-1, "3", 2.5, True])
def test_t_sensitive_is_validated(ain12, bad):
    with pytest.raises(UnknownValueError, match=r"integer ≥ 0 \(default 3; 0 disables"):
        agg(ain12(["non"] * 12), level="departement", t_sensitive=bad)


def test_multiple_choice_hides_the_option_row_only(territories):
    codes = communes_of(territories, "01", 12)
    answers = [["antivirus", "pare_feu"] if i < 6 else ["antivirus"] for i in range(12)]
    r = make_responses({"cyber_protections": answers}, codes=codes, territories=territories)
    t = agg(r, level="departement", indicators="cyber_protections")
    everyone = cell(t, "departement", "01", "cyber_protections", "antivirus")
    nobody = cell(t, "departement", "01", "cyber_protections", "aucun")
    half = cell(t, "departement", "01", "cyber_protections", "pare_feu")
    for row in (everyone, nobody):
        assert row["suppressed"] and row["reason"] == "attribute_sensitive"
        assert pd.isna(row["value"]) and pd.isna(row["n"])
    assert not half["suppressed"] and half["value"] == 0.5 and half["n"] == 12


def test_complementary_keeps_the_hidden_part_mixed():
    # a région (0) = départements 1, 2, 3 + a hidden residual of 1 answer ("Non");
    # department 1 is homogeneous (12 "Non"): hiding it with the residual would
    # leave 13 "Non", so one more department is hidden
    side = np.array([[9, 31], [0, 12], [3, 6], [6, 12]], dtype=float)  # [Oui, not Oui]
    kw = dict(
        n=np.array([40, 12, 9, 18]),
        hidden=np.array([False, True, False, False]),
        rel=np.zeros(4, dtype=int),
        cell=np.arange(4),
        is_parent=np.array([True, False, False, False]),
        k_rel=np.array([10]),
    )
    before, _ = complementary(**kw)
    assert before.tolist() == [False, True, False, False]  # 13 hidden answers ≥ k: safe
    after, info = complementary(**kw, side=side, t_rel=np.array([3]))
    assert after.tolist() == [False, True, True, False] and info["added"] == 1


def test_region_relation_hides_a_second_departement(territories):
    deps = ["18", "28", "36", "37", "41", "45"]
    codes, answers = [], []
    for d in deps:
        codes += communes_of(territories, d, 12)
        answers += ["non"] * 12 if d == "18" else ["oui"] * 5 + ["non"] * 7
    codes.append("region:24")  # the conseil régional: the région's residual
    answers.append("non")
    r = make_responses({"cyber_pca": answers}, codes=codes, territories=territories)
    t = agg(r, level=["departement", "region"], indicators="cyber_pca")
    dep = t[(t["level"] == "departement") & t["code"].isin(deps)].set_index("code")
    assert dep.loc["18", "reason"] == "attribute_sensitive"
    assert not cell(t, "region", "24", "cyber_pca")["suppressed"]
    hidden = dep.index[dep["suppressed"]].astype(str).tolist()
    assert len(hidden) == 2, hidden  # the homogeneous one and one complement
    assert dep.loc[next(h for h in hidden if h != "18"), "reason"] == "complementary"
    # what the région minus its published départements leaves: hidden ones + the council
    oui = sum(0 if h == "18" else 5 for h in hidden)
    assert oui >= 3 and 12 * len(hidden) + 1 - oui >= 3
    # without the attribute rule, the council's answer alone is hidden with one
    # département (the first of equal n): 18 + the council, 13 "Non" by difference
    t0 = agg(r, level=["departement", "region"], indicators="cyber_pca", t_sensitive=0)
    dep0 = t0[(t0["level"] == "departement") & t0["code"].isin(deps)]
    assert dep0.loc[dep0["suppressed"], "code"].astype(str).tolist() == ["18"]
    assert not cell(t0, "region", "24", "cyber_pca")["suppressed"]


# ------------------------------------------------------------------ exhaustive check on the demo


def _zone(region: pd.Series) -> pd.Series:
    drom = region.isin(["01", "02", "03", "04", "06"])
    return pd.Series(
        np.where(region.isna(), None, np.where(drom, "FR-DROM", "FR-METRO")), index=region.index
    )


def _checks(data: pd.DataFrame, ind) -> list[tuple[str | None, pd.Series, pd.Series]]:
    """(option, valid mask, positive mask) of each check, written from the catalogue alone."""
    rows = data["kind"].isin(ind.universe_kinds)
    if ind.wave:
        rows &= data["wave"] == ind.wave
    if ind.kind == "multiple_choice":
        block = data[list(ind.columns)]
        valid = rows & block.notna().any(axis=1)
        return [
            (o, valid, block[c].fillna(False).astype(bool))
            for o, c in zip(ind.option_ids, ind.columns, strict=True)
            if o not in ("ne_sait_pas", "non_concerne", "sans_reponse")
        ]
    answer = data[ind.columns[0]]
    return [(None, rows & answer.isin(ind.valid), answer.isin(ind.positive))]


def _members(data: pd.DataFrame, row) -> np.ndarray:
    level, code = str(row["level"]), str(row["code"])
    if level == "france":
        m = np.ones(len(data), dtype=bool)
    elif level in ("france_metropolitaine", "outre_mer"):
        m = (_zone(data["region"]) == code).to_numpy().copy()
    else:
        m = (data[level].astype(object) == code).to_numpy()
    if row["by"] != "total":
        m = m & (data[str(row["by"])].astype(object) == str(row["group"])).to_numpy()
    return m


@pytest.mark.slow
def test_demo_no_published_figure_or_difference_is_homogeneous(tmp_path):
    t_min = 3
    demo = bg.load_demo(cache_dir=tmp_path)
    data = demo.data.reset_index(drop=True)
    by = ["kind", "type_label"]
    # the protection decides each family (an indicator and its follow-ups) on its own: the
    # sensitive ones' rows are the same in the whole catalogue's table
    sensitive = [i.id for i in demo.catalogue.indicators if i.sensitive]
    table = agg(demo, level=LEVELS, by=by, indicators=sensitive)
    assert table.attrs["barometre_geo"]["t_sensitive"] == t_min
    checked = differences = 0
    for ind in demo.catalogue.indicators:
        if not ind.sensitive or ind.id not in set(table["indicator"].astype(str)):
            continue
        for option, valid, positive in _checks(data, ind):
            rows = table[table["indicator"] == ind.id]
            rows = rows[rows["option"].isna() if option is None else rows["option"] == option]
            pub = rows[~rows["suppressed"] & (rows["n"] > 0)]
            v, y = valid.to_numpy(), positive.to_numpy()
            cells = []
            for _, row in pub.iterrows():
                m = _members(data, row) & v
                assert m.sum() == row["n"], (ind.id, option, row["level"], row["code"])
                cells.append((row, m))
                yes = int((m & y).sum())
                assert min(yes, int(m.sum()) - yes) >= t_min, (ind.id, option, row["code"])
                checked += 1
            # published parent minus its published children, family by family
            for prow, pm in cells:
                families: dict[tuple, np.ndarray] = {}
                for crow, cm in cells:
                    same_group = crow["by"] == prow["by"] and crow["group"] == prow["group"]
                    finer, coarser = RANK[str(crow["level"])], RANK[str(prow["level"])]
                    geographic = same_group and finer < coarser
                    breakdown = (
                        prow["by"] == "total"
                        and crow["by"] != "total"
                        and crow["level"] == prow["level"]
                        and crow["code"] == prow["code"]
                    )
                    if (geographic or breakdown) and not (cm & ~pm).any():
                        key = (str(crow["level"]), str(crow["by"]))
                        families[key] = families.get(key, np.zeros(len(pm), bool)) | cm
                for union in families.values():
                    rest = pm & ~union
                    if rest.any():
                        differences += 1
                        yes = int((rest & y).sum())
                        assert min(yes, int(rest.sum()) - yes) >= t_min, (
                            ind.id,
                            option,
                            prow["level"],
                            prow["code"],
                            prow["by"],
                            prow["group"],
                        )
    assert checked > 500 and differences > 100, (checked, differences)


def _victims(territories, n_victims, n_others):
    codes = communes_of(territories, "01", n_victims + n_others)
    kinds = [{"rancongiciel"}, {"rancongiciel", "vol_donnees"}, {"fraude_virement"}]
    types = [kinds[i % 3] for i in range(n_victims)] + [None] * n_others
    answers = {"cyber_victime": ["oui"] * n_victims + ["non"] * n_others,
               "cyber_types_attaques": types}  # fmt: skip
    return make_responses(answers, codes=codes, territories=territories)


def test_follow_up_of_a_sensitive_question_needs_t_respondents_outside_it(territories):
    """cyber_types_attaques is asked of victims only: its n is the number of victims, and
    the respondents (published on every row) are those of cyber_victime's cell."""
    ind = ["cyber_victime", "cyber_types_attaques"]
    # 12 respondents, all victims: respondents − n = 0 gives every one away
    t = agg(_victims(territories, 12, 0), level="departement", indicators=ind)
    rows = t[(t["code"] == "01") & (t["by"] == "total")].set_index(["indicator", "option"])
    types = rows.loc["cyber_types_attaques"]
    assert types["suppressed"].all() and set(types["reason"]) == {"attribute_sensitive"}
    assert rows.loc["cyber_victime", "reason"].eq("attribute_sensitive").all()
    # 3 respondents outside it: the follow-up is published (its cell; options on their own)
    t = agg(_victims(territories, 12, 3), level="departement", indicators=ind)
    types = t[(t["code"] == "01") & (t["by"] == "total") & (t["indicator"] == ind[1])]
    assert not types["suppressed"].all()
    shown = types[~types["suppressed"]]
    assert (shown["respondents"] - shown["n"] >= 3).all() and (shown["n"] == 12).all()
    # t_sensitive=4: 3 outside are too few
    t = agg(_victims(territories, 12, 3), level="departement", indicators=ind, t_sensitive=4)
    types = t[(t["code"] == "01") & (t["by"] == "total") & (t["indicator"] == ind[1])]
    assert set(types["reason"]) == {"attribute_sensitive"}


def test_published_reason_does_not_say_which_sensitive_cell_is_homogeneous(territories):
    """ "Too homogeneous" on a map would tell that (nearly) everyone answered alike:
    published tables merge it with the complements of sensitive indicators."""
    ind = ["cyber_victime", "cyber_types_attaques"]
    r = _victims(territories, 12, 0)
    detailed = agg(r, level=["departement", "region"], indicators=ind)
    public = agg(r, level=["departement", "region"], indicators=ind, detailed_reasons=False)
    assert (detailed["reason"] == "attribute_sensitive").any()
    assert not public["reason"].isin(["attribute_sensitive"]).any()
    sens = public["indicator"].isin(ind)
    assert not public.loc[sens, "reason"].isin(["complementary"]).any()
    merged = detailed["reason"].isin(["attribute_sensitive", "complementary"])
    assert (public.loc[merged, "reason"] == "secret_sensitive").all()
    assert (
        public.loc[~merged, "reason"].astype(str) == detailed.loc[~merged, "reason"].astype(str)
    ).all()
    assert "motif non publié" in SUPPRESSION_REASONS["secret_sensitive"]
