"""compare(): a collectivity next to its peers — groups, protection, outputs, CLI."""

from __future__ import annotations

import dataclasses
import json
import sys
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import barometre_geo as bg
from barometre_geo.cli import main
from barometre_geo.compare.fiche import COMPARISON_COLUMNS, PEER_LEVELS, compare, peer_groups
from barometre_geo.errors import SchemaError, UnknownValueError
from barometre_geo.testing import make_responses

# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return bg.load_demo(cache_dir=tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def demo_commune(demo):
    """A commune of the demo that answered the three waves."""
    d = demo.data
    waves = d[d["kind"] == "commune"].groupby("code", observed=True)["wave"].nunique()
    return str(waves[waves == 3].index[0])


@pytest.fixture(scope="module")
def demo_peers(demo, territories):
    """The demo's peer figures, computed once for every demo fiche of this module.

    ``compare`` without ``peers`` computes the same ones (``peer_groups`` on the
    indicators answered): ``test_peers_are_reusable_and_give_the_same_fiche``.
    """
    return peer_groups(demo, territories=territories)


@pytest.fixture(scope="module")
def demo_fiche(demo, demo_commune, territories, demo_peers):
    return compare(demo_commune, demo, territories=territories, peers=demo_peers)


def _communes(territories, dep, lo, hi, n):
    c = territories.communes
    codes = c[(c["departement"] == dep) & c["population"].between(lo, hi - 1)]["code"].tolist()
    assert len(codes) >= n, (dep, lo, hi)
    return codes[:n]


def _cc(territories, dep, lo, hi, n):
    e = territories.epci
    pick = (e["nature"] == "CC") & (e["departement"] == dep) & e["population"].between(lo, hi - 1)
    codes = e[pick]["code"].tolist()
    assert len(codes) >= n, (dep, lo, hi)
    return codes[:n]


@pytest.fixture(scope="module")
def small(territories):
    """Communes only: Ain (01) has the target and 4 others, Isère (38) 30 communes."""
    ain = _communes(territories, "01", 0, 500, 5)
    isere = _communes(territories, "38", 0, 500, 30)
    codes = ain + isere
    answers = (["oui", "non", "oui"] * 20)[: len(codes)]
    return make_responses({"infra_saas": answers}, codes=codes, territories=territories), ain, isere


@pytest.fixture(scope="module")
def crossing(territories):
    """Communes and CC: the same stratum as the 10 000–49 999 communes holds only 3 CC
    (the type × stratum cell is a difference of 3 answers from the stratum cell)."""
    codes = (
        _communes(territories, "01", 0, 500, 30)
        + _communes(territories, "22", 0, 500, 30)
        + _communes(territories, "01", 10000, 50000, 8)
        + _communes(territories, "44", 10000, 50000, 8)
        + _cc(territories, "01", 10000, 50000, 3)
        + _cc(territories, "44", 50000, 10**8, 3)
    )
    answers = (["oui", "non", "oui"] * 40)[: len(codes)]
    return make_responses({"infra_saas": answers}, codes=codes, territories=territories)


# ----------------------------------------------------------------------------- the table


def test_demo_fiche_has_every_answered_indicator_and_peer_level(demo, demo_fiche, demo_commune):
    tab = demo_fiche.table
    assert tuple(tab.columns) == COMPARISON_COLUMNS
    assert demo_fiche.waves == (1, 2, 3) and demo_fiche.kind == "commune"
    assert demo_fiche.synthetic and demo_fiche.code == demo_commune
    # every indicator of the three waves it answered, but never the identification ones
    assert "profil_type_collectivite" not in set(tab["indicator"])
    assert {1, 2, 3} == {bg.load_catalogue().get(i).wave for i in tab["indicator"]} - {0}
    per = tab.groupby(["indicator", "option"], dropna=False, observed=True)["peer_level"]
    assert (per.apply(tuple) == PEER_LEVELS).all()
    shown = tab[tab["value"].notna()]
    assert len(shown) > 0.9 * len(tab)
    assert shown[["ci_low", "ci_high", "n"]].notna().all().all()
    assert ((shown["ci_low"] <= shown["value"]) & (shown["value"] <= shown["ci_high"])).all()


def test_demo_figures_match_a_direct_computation(demo, demo_fiche):
    """A shown share is the share of positive answers among the group's valid answers."""
    from barometre_geo.stats.intervals import wilson

    cat = demo.catalogue
    tab = demo_fiche.table
    rows = tab[(tab["group_level"] == "region") & (tab["statistic"] == "share")]
    row = rows[rows["indicator"].map(lambda i: cat.get(i).wave > 0)].iloc[0]
    ind = cat.get(row["indicator"])
    d = demo.data
    same = (d["type_label"] == demo_fiche.type_label) & (d["region"] == demo_fiche.region)
    same &= d["wave"] == ind.wave  # one response per collectivity and wave
    answers = d.loc[same, ind.column].astype(object)
    valid = answers[answers.isin(ind.valid)]
    share = valid.isin(ind.positive).mean()
    assert row["n"] == len(valid)
    assert row["value"] == pytest.approx(share)
    lo, hi = wilson(np.array([share]), np.array([len(valid)]))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo[0], hi[0]))
    own = d.loc[(d["code"] == demo_fiche.code) & (d["wave"] == ind.wave), ind.column].iloc[0]
    assert row["own_answer"] == ind.option(own).label
    assert row["own_value"] == float(own in ind.positive)


def test_every_shown_group_holds_k_answers_besides_the_collectivity(demo_fiche):
    tab = demo_fiche.table
    shown = tab[tab["value"].notna()]
    k = np.where(shown["sensitive"], demo_fiche.k_sensitive, demo_fiche.k)
    counted = shown["note"].str.contains("n’entre pas").map({True: 0, False: 1})
    assert (shown["n"].to_numpy() - counted.to_numpy() >= k).all()
    # sensitive questions: never a group below k_sensitive + own answer
    sens = shown[shown["sensitive"]]
    assert len(sens) and (sens["n"] >= demo_fiche.k_sensitive + 1).all()


def test_position_against_the_interval(demo_fiche):
    tab = demo_fiche.table
    rows = tab[tab["position"].notna()]
    above = rows["position"] == "au-dessus"
    below = rows["position"] == "en dessous"
    within = rows["position"] == "dans l'intervalle"
    assert (rows.loc[above, "own_value"] > rows.loc[above, "ci_high"]).all()
    assert (rows.loc[below, "own_value"] < rows.loc[below, "ci_low"]).all()
    inside = rows.loc[within]
    assert (
        (inside["own_value"] >= inside["ci_low"]) & (inside["own_value"] <= inside["ci_high"])
    ).all()
    assert (above | below | within).all()


def test_merges_upward_when_the_departement_group_is_small(small, territories):
    responses, ain, isere = small
    fiche = compare(ain[0], responses, territories=territories)
    tab = fiche.table.set_index("peer_level")
    # Ain: 5 communes answered; aggregate() publishes 5 answers, but only 4 are others'
    dep = tab.loc["departement"]
    assert dep["group_level"] == "region" and dep["n"] == 35
    assert "Communes — Ain (01) : moins de 5 réponses d’autres collectivités" in dep["note"]
    assert tab.loc["region", "group_level"] == "region" and tab.loc["region", "note"] == ""
    assert tab.loc["strate", "group_level"] == "strate"
    # an Isère commune keeps its département (30 answers)
    other = compare(isere[0], responses, territories=territories).table.set_index("peer_level")
    assert other.loc["departement", "group_level"] == "departement"
    assert other.loc["departement", "n"] == 30
    # the same check with k=3 lets the Ain group through (4 others ≥ 3)
    loose = compare(ain[0], responses, territories=territories, k=3).table
    assert loose.set_index("peer_level").loc["departement", "group_level"] == "departement"
    # the text and the page show the région group once, standing in for the département too
    text = fiche.to_text()
    region_lines = [ln for ln in text.splitlines() if ln.strip().startswith("Communes — Auvergne")]
    assert len(region_lines) == 1
    assert "(aussi à la place de : Communes — Ain (01))" in region_lines[0]
    html = fiche.to_html()
    assert html.count("aussi à la place de : Communes — Ain (01)") == 1


def test_type_stratum_crossing_is_checked_against_the_stratum(crossing, territories):
    peers = peer_groups(crossing, territories=territories)
    t = peers.table
    from barometre_geo.stats.strata import stratum_labels

    group = f"Commune · {stratum_labels()[4]}"  # 10 000 to 49 999 inhabitants
    cell = t[(t["by"] == "type_strate") & (t["group"] == group)]
    # the stratum minus communes leaves 3 CC: aggregate() protects the crossing on top of
    # the edition's tables by stratum (one protected set, issue 12), so it hides it…
    assert cell["suppressed"].iloc[0] and cell["reason"].iloc[0] == "complementary"
    target = _communes(territories, "44", 10000, 50000, 1)[0]
    fiche = compare(target, crossing, territories=territories, peers=peers).table
    strate = fiche.set_index("peer_level").loc["strate"]
    # …and the fiche uses the type in France instead
    assert strate["group_level"] == "type_france"
    assert "secret induit" in strate["note"]
    # the communes under 500 are the whole stratum, which the edition's table by stratum
    # publishes (its complement by difference, the 16 communes of 10 000–49 999 in the
    # table by kind, is a group of k answers or more): the crossing, the same
    # respondents, is published with it, and the fiche uses it
    small_commune = _communes(territories, "01", 0, 500, 1)[0]
    ok = compare(small_commune, crossing, territories=territories, peers=peers).table
    by_stratum = bg.aggregate(crossing, level="france", by="stratum", territories=territories,
                              weights=None)  # fmt: skip
    under_500 = by_stratum[by_stratum["group"] == stratum_labels()[0]]
    assert not under_500["suppressed"].any()
    strate = ok.set_index("peer_level").loc["strate"]
    assert strate["group_level"] == "strate" and strate["n"] == under_500["n"].iloc[0]


def test_fiches_disclose_nothing_beyond_the_public_tables(crossing, territories):
    """Exact audit: with its own answer, public tables and every fiche, no collectivity
    learns a group of fewer than 5 other answers that the public tables did not give."""
    from barometre_geo.protection.disclosure import _incidence, disclosed_groups
    from barometre_geo.stats.strata import assign_strata

    public = bg.aggregate(
        crossing,
        level=["commune", "epci", "departement", "region", "france"],
        by=["stratum", "type_label"],
        territories=territories,
        weights=None,
    )
    A_pub, rows = _incidence(public, crossing, territories)["infra_saas"]
    d = crossing.data.iloc[rows].reset_index(drop=True)
    stratum = pd.Series(assign_strata(d["population"])).astype(str)
    peers = peer_groups(crossing, territories=territories)

    def members(group, f):
        same = d["type_label"] == f.type_label
        return {
            "strate": same & (stratum == f.stratum),
            "departement": same & (d["departement"] == f.departement),
            "region": same & (d["region"] == f.region),
            "type_france": same,
            "france": pd.Series(True, index=d.index),
        }[group]

    cells = {}
    for code in d["code"]:
        f = compare(code, crossing, territories=territories, peers=peers)
        for group in f.table["group_level"].dropna().unique():
            v = members(group, f).to_numpy(dtype=float)
            cells[v.tobytes()] = v
    A_fiches = np.array(list(cells.values()))
    assert len(A_fiches) >= 4
    for i in range(0, len(rows), 3):
        own = np.zeros(len(rows))
        own[i] = 1
        before = set(disclosed_groups(np.vstack([A_pub, own]), max_size=4))
        after = set(disclosed_groups(np.vstack([A_pub, A_fiches, own]), max_size=4))
        assert after <= before, (i, after - before)


def test_peers_are_reusable_and_give_the_same_fiche(small, territories):
    responses, ain, _ = small
    peers = peer_groups(responses, territories=territories)
    a = compare(ain[1], responses, territories=territories, peers=peers).table
    b = compare(ain[1], responses, territories=territories).table
    pd.testing.assert_frame_equal(a, b)


def test_other_kinds_of_collectivity(demo, territories, demo_peers):
    d = demo.data
    dep_council = str(d.loc[d["kind"] == "departement", "code"].iloc[0])
    f = compare(f"Département {dep_council}", demo, territories=territories, peers=demo_peers)
    assert f.kind == "departement" and f.type_label == "Département"
    # alone in its département: that group is never shown
    assert (
        f.table.loc[f.table["peer_level"] == "departement", "group_level"] != "departement"
    ).all()
    region = str(d.loc[d["kind"] == "region", "siren"].iloc[0])
    f = compare(region, demo, territories=territories, peers=demo_peers)
    assert "departement" not in set(f.table["peer_level"])  # a région has no département
    syndicat = str(d.loc[d["kind"] == "syndicat", "siren"].iloc[0])
    f = compare(syndicat, demo, territories=territories, peers=demo_peers)
    assert f.kind == "syndicat" and f.level is None and f.stratum is None
    assert "strate" not in set(f.table["peer_level"])


def test_wave_filter(demo, demo_fiche, demo_commune, territories, demo_peers):
    f = compare(demo_commune, demo, territories=territories, wave=2, peers=demo_peers)
    cat = demo.catalogue
    assert f.waves == (2,)
    assert {cat.get(i).wave for i in f.table["indicator"]} <= {0, 2}


# ----------------------------------------------------------------------------- errors


def test_ambiguous_name_lists_the_candidates(demo, territories):
    with pytest.raises(
        UnknownValueError, match=r"ambiguous.*38544 Vienne.*département 86 Vienne.*departement='38'"
    ):
        compare("Vienne", demo, territories=territories)


def test_ambiguous_name_settled_by_the_departement(demo, territories, demo_peers):
    d = demo.data
    answered = d.loc[d["code"] == "97411"]
    assert len(answered)  # the demo's Saint-Denis de La Réunion
    f = compare("Saint-Denis", demo, territories=territories, departement="974", peers=demo_peers)
    assert f.code == "97411"


def test_unresolved_code(demo, territories):
    with pytest.raises(
        UnknownValueError,
        match=r"Cannot identify the collectivity 'Atlantide'.*Pass its INSEE code",
    ):
        compare("Atlantide", demo, territories=territories)


def test_empty_code(demo, territories):
    with pytest.raises(UnknownValueError, match=r"needs a collectivity.*Pass its INSEE code"):
        compare("  ", demo, territories=territories)


def test_collectivity_that_did_not_answer(small, territories):
    responses, _, _ = small
    with pytest.raises(
        UnknownValueError,
        match=r"Bourg-en-Bresse \(commune 01053.*not answered.*wave 2: 35 responses.*Check the",
    ) as err:
        compare("01053", responses, territories=territories)
    # it names communes of its département that did answer, to try instead
    _, ain, _ = small
    listed = str(err.value).split("In département 01, these answered, for instance: ")[1]
    assert [c.split()[0] for c in listed.split(", ")] == sorted(
        ain, key=lambda c: -territories.communes.set_index("code").loc[c, "population"]
    )[:3]


def test_wave_it_did_not_answer(small, territories):
    responses, ain, _ = small
    with pytest.raises(
        UnknownValueError, match=r"did not answer wave 3 \(it answered wave\(s\) 2\)\. Pass wave=2"
    ):
        compare(ain[0], responses, territories=territories, wave=3)
    with pytest.raises(UnknownValueError, match=r"must be a wave number.*or None"):
        compare(ain[0], responses, territories=territories, wave="2")


def test_no_comparable_answer(territories):
    r = make_responses({"infra_saas": [None] * 6}, codes=_communes(territories, "01", 0, 500, 6),
                       waves=2, territories=territories)  # fmt: skip
    with pytest.raises(
        UnknownValueError, match=r"answered no comparable question.*Check the reader's mapping"
    ):
        compare(r.data["code"].iloc[0], r, territories=territories)
    with pytest.raises(UnknownValueError, match=r"answered no comparable question.*Pass wave=None"):
        compare(r.data["code"].iloc[0], r, territories=territories, wave=2)


def test_peers_with_other_thresholds(small, territories):
    responses, ain, _ = small
    peers = peer_groups(responses, territories=territories, k=3)
    with pytest.raises(
        UnknownValueError, match=r"peers were computed with k=3.*Pass the same thresholds"
    ):
        compare(ain[0], responses, territories=territories, peers=peers)


def test_peers_lacking_an_indicator(territories):
    codes = _communes(territories, "01", 0, 500, 8)
    r = make_responses({"infra_saas": ["oui"] * 8, "infra_wifi_territorial": ["non"] * 8},
                       codes=codes, territories=territories)  # fmt: skip
    peers = peer_groups(r, territories=territories, indicators="infra_saas")
    with pytest.raises(
        SchemaError,
        match=r"peers lack the indicator\(s\) \['infra_wifi_territorial'\].*indicators=None",
    ):
        compare(codes[0], r, territories=territories, peers=peers)


def test_not_responses(territories):
    with pytest.raises(SchemaError, match=r"expects a Responses object.*read_responses"):
        compare("01001", pd.DataFrame(), territories=territories)
    with pytest.raises(SchemaError, match=r"expects a Responses object.*read_responses"):
        peer_groups(pd.DataFrame(), territories=territories)


def test_responses_without_identification_columns(small, territories):
    responses, ain, _ = small
    broken = dataclasses.replace(responses, data=responses.data.drop(columns=["type_label"]))
    with pytest.raises(
        SchemaError, match=r"lacks the column\(s\) \['type_label'\].*read_responses"
    ):
        compare(ain[0], broken, territories=territories)


def test_peer_groups_without_indicator_columns(small, territories):
    responses, _, _ = small
    bare = dataclasses.replace(responses, data=responses.data.drop(columns=["infra_saas"]))
    with pytest.raises(SchemaError, match=r"no column of the indicators asked for.*read_responses"):
        peer_groups(bare, territories=territories)
    with pytest.raises(UnknownValueError, match=r"infra_saa"):
        peer_groups(responses, territories=territories, indicators="infra_saa")


def test_bad_thresholds(small, territories):
    responses, ain, _ = small
    with pytest.raises(UnknownValueError, match=r"Pass k_sensitive >= 5"):
        compare(ain[0], responses, territories=territories, k_sensitive=3)


# ----------------------------------------------------------------------------- outputs


class _Checker(HTMLParser):
    VOID = frozenset({"meta", "br", "rect", "line", "circle", "path", "img", "input", "link"})

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def test_html_page(demo_fiche, tmp_path):
    page = demo_fiche.to_html()
    checker = _Checker()
    checker.feed(page)
    assert not checker.errors and checker.stack == []
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page
    assert "Données synthétiques" in page and "<script" not in page
    assert "http://" not in page and "https://" not in page  # self-contained
    themes = demo_fiche.table["theme"].unique()
    sections = [
        a
        for t, a in checker.tags
        if t == "section" and a.get("aria-labelledby", "").startswith("bg-t-")
    ]
    assert len(sections) == len(themes)
    svgs = [a for t, a in checker.tags if t == "svg"]
    assert len(svgs) >= demo_fiche.table["indicator"].nunique()
    assert all(a.get("aria-hidden") == "true" for a in svgs)
    path = demo_fiche.save(tmp_path / "sous" / "fiche.html")
    assert path.read_text(encoding="utf-8") == page
    assert sorted(p.name for p in path.parent.iterdir()) == ["fiche.html"]


def test_html_escapes_data_and_real_data_has_no_banner(demo_fiche):
    evil = dataclasses.replace(
        demo_fiche,
        nom='<img src=x onerror="alert(1)">',
        synthetic=False,
        edition="Édition <b>1</b> & co",
    )
    page = evil.to_html()
    assert "<img" not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "Édition &lt;b&gt;1&lt;/b&gt; &amp; co" in page
    assert "Données synthétiques" not in page
    fragment = evil._repr_html_()
    assert fragment.startswith('<div class="bgeo-fiche"><style>') and "<img" not in fragment


def test_save_to_a_folder(demo_fiche, tmp_path):
    with pytest.raises(UnknownValueError, match=r"is a folder: give a file name"):
        demo_fiche.save(tmp_path)


def test_text_and_dict(demo_fiche):
    text = demo_fiche.to_text()
    assert text.startswith(f"Auto-positionnement numérique — {demo_fiche.nom}")
    assert "DONNÉES SYNTHÉTIQUES" in text
    data = json.loads(json.dumps(demo_fiche.to_dict()))
    assert data["code"] == demo_fiche.code and len(data["rows"]) == len(demo_fiche.table)
    assert set(data["rows"][0]) == set(COMPARISON_COLUMNS)
    assert "Comparison" in repr(demo_fiche) and "DONNÉES SYNTHÉTIQUES" in repr(demo_fiche)


# ----------------------------------------------------------------------------- CLI


def test_cli_demo_by_default(demo, demo_commune, demo_peers, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("barometre_geo.demo.edition.load_demo", lambda: demo)
    asked = []

    def computed_once(responses, **kw):  # the CLI's peer figures are the library's own
        asked.append(kw)
        assert responses.data is demo.data and set(kw["indicators"]) <= set(demo_peers.indicators)
        return demo_peers

    monkeypatch.setattr(sys.modules["barometre_geo.compare.fiche"], "peer_groups", computed_once)
    out = tmp_path / "fiche.html"
    assert main(["compare", demo_commune, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "Données synthétiques : édition de démonstration" in captured.err
    assert "Fiche écrite" in captured.out and out.is_file()
    assert main(["compare", demo_commune, "--json", "--wave", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["waves"] == [1] and data["synthetic"] is True
    assert [(a["k"], a["k_sensitive"]) for a in asked] == [(5, 10), (5, 10)]


def test_cli_text_on_export_files(territories, tmp_path, capsys):
    from _exports import IDENT, make_row, question_headers, write_csv

    catalogue = bg.load_catalogue()
    headers = IDENT + question_headers(catalogue, (1,))
    codes = _communes(territories, "38", 0, 500, 12)
    rows = [
        make_row(catalogue, headers, {"Code INSEE": c, "Type de collectivité": "Commune",
                 "Date de soumission": "2024-01-10 10:00"}, {"infra_saas": "Oui"})
        for c in codes
    ]  # fmt: skip
    path = write_csv(tmp_path / "vague1.csv", headers, rows)
    code = main(["compare", codes[0], "--responses", str(path)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "Données synthétiques" not in out.err
    assert "Auto-positionnement numérique" in out.out and "Communes — Isère (38)" in out.out


def test_cli_errors(demo, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("barometre_geo.demo.edition.load_demo", lambda: demo)
    assert main(["compare", "Vienne"]) == 2
    assert "--departement 38" in capsys.readouterr().err
    assert main(["compare", "01001", "--demo", "--responses", str(tmp_path / "x.csv")]) == 2
    assert "pas les deux" in capsys.readouterr().err
    assert main(["compare", "01001", "--mapping", "m.yaml"]) == 2
    assert "ajoutez --responses FICHIER" in capsys.readouterr().err
    assert main(["--lang", "en", "compare", "01001", "--k", "0"]) == 2
    assert "k=0 must be an integer" in capsys.readouterr().err


def test_doctests():
    import doctest
    import importlib

    for name in ("barometre_geo.compare.fiche", "barometre_geo.compare.find"):
        module = importlib.import_module(name)
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
