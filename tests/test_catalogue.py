import doctest
import pickle
import re
import subprocess
import sys

import pytest

import barometre_geo as bg
from barometre_geo.errors import InputFileError, SchemaError, UnknownValueError
from barometre_geo.survey.catalogue import (
    NON_SUBSTANTIVE,
    PUBLISH_LEVELS,
    RESPONDENT_KINDS,
    STATISTICS_BY_KIND,
    UNIVERSES,
)
from barometre_geo.survey.catalogue import html as _catalogue_html
from barometre_geo.survey.catalogue import load as _catalogue_load
from barometre_geo.survey.catalogue import model as _catalogue_model
from barometre_geo.survey.catalogue import vocabulary as catalogue
from barometre_geo.survey.catalogue import yamlfile as _catalogue_yaml
from barometre_geo.survey.catalogue.yamlfile import french_typography

REPORT_NAME = "000_511edd3c394c276f.txt"  # the study report, in shared/seeds/
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def cat():
    return bg.load_catalogue()


# --------------------------------------------------------------------------- structure
def test_nine_questionnaires_in_three_waves(cat):
    by_wave = {}
    for t in cat.questionnaires:
        by_wave.setdefault(t.wave, []).append(t.id)
    assert by_wave == {
        1: ["inclusion", "cyber", "communication"],
        2: ["infra", "outils", "donnees"],
        3: ["demat", "services", "strategie"],
    }
    assert cat.theme("profil").wave == 0 and not cat.theme("profil").questionnaire
    assert len(cat.themes) == 10


def test_edition_metadata(cat):
    ed = cat.edition
    assert ed.total_responses == 3117
    assert [(w.number, w.responses) for w in ed.waves] == [(1, 2174), (2, 629), (3, 587)]
    assert [(str(w.start), str(w.end)) for w in ed.waves] == [
        ("2023-11-01", "2024-02-07"),
        ("2024-02-19", "2025-02-26"),
        ("2025-02-27", "2025-05-23"),
    ]
    assert ed.wave(2).label == "Vague 2 (19/02/2024 – 26/02/2025)"
    assert "Association Déclic" in ed.organisers
    assert any("DINUM" in o for o in ed.organisers)


def test_indicator_count(cat):
    thematic = [i for i in cat if i.wave > 0]
    assert 60 <= len(thematic) <= 90
    for theme in cat.questionnaires:
        assert len(cat.filter(theme=theme.id)) >= 5, theme.id


def test_ids_unique_snake_case_and_prefixed(cat):
    ids = [i.id for i in cat]
    assert len(ids) == len(set(ids))
    for i in cat:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", i.id)
        assert i.id.startswith(i.theme + "_")
        assert i.wave == cat.theme(i.theme).wave


def test_columns_unique(cat):
    cols = [c for i in cat for c in i.columns]
    assert len(cols) == len(set(cols))
    mc = cat.get("communication_reseaux_sociaux")
    assert mc.columns[0] == "communication_reseaux_sociaux.facebook"
    assert cat.get("profil_type_collectivite").columns == ("kind",)
    assert cat.get("profil_fonction").columns == ("profile",)


ENGLISH = re.compile(r"\b(the|and|your|you|with|which|does|have)\b", re.IGNORECASE)
FRENCH = re.compile(
    r"\b(de|des|du|la|le|les|votre|vos|vous|un|une|à|au|aux|en|quel|quels|quelle|quelles|qui)\b",
    re.IGNORECASE,
)


def _assert_typography(text):
    assert text == text.strip() and "  " not in text, text
    assert "'" not in text, f"straight apostrophe in {text!r}"
    assert not re.search(r" [?!;:%]", text), f"breaking space before punctuation in {text!r}"


def test_french_text(cat):
    for i in cat:
        assert i.label[0].isupper() and not i.label.endswith((".", "?")), i.id
        assert len(i.label) <= 60, f"{i.id}: label too long for a map title"
        assert i.question[0].isupper() and i.question.endswith(NBSP + "?"), i.id
        assert FRENCH.search(i.question) and not ENGLISH.search(i.question), i.id
        assert not ENGLISH.search(i.label), i.id
        texts = [i.label, i.question, i.source] + [o.label for o in i.options]
        texts += [i.note] if i.note else []
        for text in texts:
            _assert_typography(text)
        for o in i.options:
            assert o.label[0].isupper(), (i.id, o.id)
    for t in cat.themes:
        _assert_typography(t.label)
        _assert_typography(t.description)


def test_typography_is_applied_at_load():
    assert french_typography("Qu'en  dites-vous ?\n") == "Qu’en dites-vous" + NBSP + "?"
    assert french_typography("« juste suffisant »") == f"«{NBSP}juste suffisant{NBSP}»"
    assert french_typography("36,9 % de 1 000") == f"36,9{NBSP}% de 1{NBSP}000"


# --------------------------------------------------------------------------- options
def test_options_by_kind(cat):
    for i in cat:
        ids = i.option_ids
        assert len(ids) == len(set(ids)), i.id
        if i.kind == "percentage":
            assert ids == () and i.valid == () and i.positive == ()
            continue
        assert ids, i.id
        for o in ids:
            assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", o)
        if i.kind == "yes_no":
            assert {"oui", "non", "sans_reponse"} <= set(ids), i.id
            assert set(ids) <= set(catalogue.YES_NO_OPTIONS), i.id
        if i.kind == "multiple_choice":
            assert "sans_reponse" not in ids, i.id
        else:
            assert not any(o.exclusive for o in i.options), i.id


def test_positive_within_valid_within_options(cat):
    for i in cat:
        assert set(i.positive) <= set(i.valid) <= set(i.option_ids), i.id
        assert "sans_reponse" not in i.valid, i.id
    assert cat.get("cyber_pca").valid == ("oui", "non", "ne_sait_pas")
    assert cat.get("strategie_difficultes_recrutement").valid == ("oui", "non")


def test_scales_are_ordered(cat):
    scales = [i for i in cat if i.kind == "scale"]
    assert scales
    for i in scales:
        assert len(i.order) >= 2
        n = len(i.order)
        assert i.option_ids[:n] == i.order
        assert all(o in NON_SUBSTANTIVE for o in i.option_ids[n:])
    assert cat.get("strategie_comprehension_enjeux").order == (
        "insuffisante",
        "juste_suffisante",
        "satisfaisante",
        "tres_satisfaisante",
    )
    assert cat.get("cyber_pca").order == ()


def test_statistic_consistent_with_kind(cat):
    for i in cat:
        assert i.statistic in STATISTICS_BY_KIND[i.kind], i.id
        if i.statistic == "share":
            assert i.positive, i.id
        if i.statistic in ("mean", "share_per_option"):
            assert not i.positive, i.id


def test_asked_if_points_upward_in_same_wave(cat):
    order = {i.id: k for k, i in enumerate(cat)}
    filtered = [i for i in cat if i.asked_if]
    assert len(filtered) >= 10
    for i in filtered:
        parent = cat.get(i.asked_if.indicator)
        assert order[parent.id] < order[i.id]
        assert parent.wave in (0, i.wave)
        assert set(i.asked_if.options) <= set(parent.option_ids)


# --------------------------------------------------------------------------- universes, levels
def test_universes_and_levels(cat):
    for i in cat:
        assert i.universe in UNIVERSES, i.id
        assert set(i.universe_kinds) <= set(RESPONDENT_KINDS)
        assert i.levels and set(i.levels) <= set(PUBLISH_LEVELS), i.id
        if "commune" in i.levels:
            assert "commune" in i.universe_kinds, i.id
    for iid in (
        "demat_registre_alerte",
        "demat_recensement_citoyen",
        "services_listes_electorales",
    ):
        assert cat.get(iid).universe == "communes"
    assert cat.get("demat_urbanisme").universe == "communes_epci"


SENSITIVE = {
    "cyber_victime",
    "cyber_types_attaques",
    "cyber_protections",
    "cyber_pca",
    "cyber_pra",
    "cyber_rssi",
    "outils_vpn",
}


def test_sensitive_never_published_at_commune_or_epci(cat):
    assert {i.id for i in cat.filter(sensitive=True)} == SENSITIVE
    for i in cat.filter(sensitive=True):
        assert not {"commune", "epci"} & set(i.levels), i.id
        assert "france" in i.levels
    # profile answers identify the respondent of a small commune
    assert "commune" not in cat.get("profil_fonction").levels


def test_default_levels_follow_universe(cat):
    assert cat.get("inclusion_cnfs").levels == PUBLISH_LEVELS
    assert cat.get("demat_registre_alerte").levels == PUBLISH_LEVELS


# --------------------------------------------------------------------------- published figures
# Every figure of shared/docs/published-figures.md: (indicator, key, value); key None is
# the headline value, "kind:x" a figure per kind of collectivity, else an option.
PUBLISHED = [
    ("profil_type_collectivite", "commune", 0.88),
    ("profil_fonction", "agent", 0.76),
    ("profil_fonction", "elu", 0.24),
    ("inclusion_lieux_mediation", None, 0.26),
    ("inclusion_cnfs", None, 0.26),
    ("inclusion_lieux_types", "maisons_france_services", 0.22),
    ("inclusion_lieux_types", "mediatheques", 0.19),
    ("inclusion_lieux_types", "bibliotheques", 0.13),
    ("inclusion_lieux_types", "espaces_publics_numeriques", 0.11),
    ("inclusion_lieux_types", "centres_sociaux", 0.10),
    ("inclusion_actions_types", "accompagnement_demarches", 0.77),
    ("inclusion_actions_types", "culture_numerique", 0.50),
    ("inclusion_actions_types", "diagnostic_competences", 0.19),
    ("cyber_formation_agents", None, 0.50),
    ("cyber_formation_elus", None, 0.25),
    ("cyber_sensibilisation", "non", 0.43),
    ("cyber_pca", "non", 0.66),
    ("cyber_rssi", "non", 0.73),
    ("communication_modes", "site_internet", 0.76),
    ("communication_retransmission", None, 0.26),
    ("communication_reseaux_sociaux", "facebook", 0.98),
    ("communication_reseaux_sociaux", "instagram", 0.31),
    ("communication_reseaux_sociaux", "linkedin", 0.25),
    ("communication_reseaux_sociaux", "x", 0.13),
    ("infra_saas", None, 0.39),
    ("outils_materiel_reconditionne", None, 8.2),
    ("outils_materiel_reconditionne", "kind:region", 13.4),
    ("outils_materiel_reconditionne", "kind:departement", 13.2),
    ("outils_materiel_reconditionne", "kind:commune", 8.1),
    ("outils_charte_teletravail", None, 0.33),
    ("outils_acces_distant", None, 0.50),
    ("donnees_open_data", None, 0.26),
    ("donnees_projet_ia", None, 0.06),
    ("demat_bulletins_paie", None, 0.22),
    ("demat_urbanisme", None, 0.76),
    ("demat_publication_actes", None, 0.66),
    ("demat_recensement_citoyen", None, 0.60),
    ("demat_registre_alerte", None, 0.40),
    ("demat_coffre_fort", None, 0.14),
    ("services_prestations_payantes", None, 0.369),
    ("services_en_ligne", "reservation_documents", 0.61),
    ("services_en_ligne", "portail_famille", 0.58),
    ("services_listes_electorales", None, 0.52),
    ("services_en_ligne", "inscription_scolaire", 0.32),
    ("strategie_feuille_de_route", None, 0.22),
    ("strategie_connaissance_pix", None, 0.32),
    ("strategie_connaissance_reen", None, 0.22),
]


@pytest.mark.parametrize(("iid", "key", "value"), PUBLISHED)
def test_published_figure_present(cat, iid, key, value):
    pub = cat.get(iid).published
    assert pub is not None and pub.source
    if key is None:
        got = pub.value
    elif key.startswith("kind:"):
        got = pub.by_kind[key[5:]]
    else:
        got = pub.options[key]
    assert got == pytest.approx(value)


def test_published_words_carry_their_precision(cat):
    assert cat.get("outils_charte_teletravail").published.precision == "about"
    assert cat.get("outils_acces_distant").published.precision == "below"
    assert cat.get("cyber_pca").published.precision == "exact"


def test_published_in_range(cat):
    listed = {(iid, key) for iid, key, _ in PUBLISHED}
    for i in cat:
        pub = i.published
        if pub is None:
            continue
        top = 100 if i.statistic == "mean" else 1
        if pub.value is not None:
            assert 0 <= pub.value <= top
            assert (i.id, None) in listed, f"{i.id}: published value not in published-figures"
        for o, v in pub.options.items():
            assert o in i.valid and 0 <= v <= 1
            assert (i.id, o) in listed
        if i.kind != "multiple_choice":
            assert sum(pub.options.values()) <= 1
        for k, v in pub.by_kind.items():
            assert k in RESPONDENT_KINDS and 0 <= v <= top


# --------------------------------------------------------------------------- report items
KEY_RESULTS = [
    "Présence d'un conseiller nationale France services",
    "Présence d'actions de médiation",
    "Présence de lieux de médiation numérique",
    "Lieux les plus cités",
    "Actions les plus citées",
    "Collectivités victimes de cyberattaques",
    "Protections aux risques cyber",
    "Types d'attaques évoqués",
    "Collectivités disposant d'un plan de continuité d'activités",
    "Collectivités disposant d'un plan de reprise d'activités",
    "Présence dans la collectivité d'un RSSI interne ou mutualisé",
    "Agents et élus formés à la cybersécurité (ces deux dernières années)",
    "Audit d'accessibilité du site web réalisé",
    "Retransmission des réunions en ligne",
    "Outil participation citoyenne en ligne",
    "Mise en conformité RGAA du site web initiée",
    "Panorama des modes de communication",
    "Panorama des réseaux sociaux privilégiés",
    "Évaluer l'organisation et les conditions techniques du télétravail",
    "Types d'outils utilisés",
    "Interlocuteur assurant le support logiciel",
    "Pourcentage de matériel numérique reconditionné",
    "Existence d'un datacenter",
    "Existence d'une offre d'hébergement/cloud",
    "Solutions logicielles disponibles en SaaS",
    "Service Wifi territorial disponible",
    "Réseau public d'objets connectés disponible",
    "Plan d'action RGPD",
    "Projet s'appuyant sur un traitement par IA",
    "Mise en place d'un réseau de capteurs de données",
    "Jeux de données disponibles en open data",
    "Mise à disposition des données en open data",
    "Marchés publics",
    "Mise en œuvre de la dématérialisation de démarches",
    "Autres types de dématérialisation",
    "Module RDV CNI/Passeport",
    "Module RDV (hors CNI/Passeport)",
    "Dispositif de recueil (DR) pour les CNI/Passeport",
    "Prestations payantes proposées en ligne : 36,9 %",
    "Paiement en ligne pour ces prestations",
    "Services en ligne proposés aux usagers",
    "Formations ou actions de sensibilisation proposées aux agents",
    "Compréhension des enjeux numériques",
    "Thèmes des formations proposées",
    "Identification des difficultés de recrutements",
    "Connaissance de Pix Territoires : 32 %",
    "Déploiement de l'offre Pix Territoires",
    "Approche en matière de stratégie numérique",
    "Feuille de route",
    "Nature de la gouvernance de la FDR",
    "Présence d'un élu en charge du numérique",
    "Gestion des services informatiques",
    "Types de logiciels libres utilisés",
    "Connaissance de la loi REEN : 22 %",
    "Stratégie / actions en faveur du numérique responsable",
    "Actions menées",
    "Proportion agent / élus",
    "Participation",
    "Situés sur un territoire disposant d'une structure de mutualisation",
    "3117 Total de réponses",
    "Moyenne globale 8,2 %",
]


def test_every_key_result_of_the_report_is_mapped(cat):
    titles = {r.title for r in cat.report_items}
    missing = [t for t in KEY_RESULTS if french_typography(t) not in titles]
    assert not missing


def test_report_items_map_to_existing_indicators(cat):
    assert len(cat.report_items) >= len(KEY_RESULTS)
    for r in cat.report_items:
        assert r.kind in ("chart", "list", "figure", "text")
        assert r.indicators and all(i in cat for i in r.indicators), r.title
        assert r.section.startswith("p. ")


def test_every_indicator_comes_from_the_report(cat):
    shown = {i for r in cat.report_items for i in r.indicators}
    press_only = {"cyber_sensibilisation"}  # published by the press, not by the report
    assert {i.id for i in cat} - shown == press_only


def test_report_item_titles_are_printed_in_the_report(cat, shared_data):
    report_path = shared_data.parent / "seeds" / REPORT_NAME
    if not report_path.is_file():
        pytest.skip(f"study report not found at {report_path}")

    def norm(text):
        text = text.replace("*", "").replace("’", "'").lower()
        return re.sub(r"\s+", "", text).rstrip(".")

    report = norm(report_path.read_text(encoding="utf-8"))
    absent = [r.title for r in cat.report_items if norm(r.title) not in report]
    assert not absent


# --------------------------------------------------------------------------- API
def test_get_and_errors(cat):
    assert cat.get("cyber_pca").label == "Plan de continuité d’activité (PCA)"
    with pytest.raises(UnknownValueError, match=r"'cyber_pcaa'.*Did you mean: cyber_pca.*to_frame"):
        cat.get("cyber_pcaa")
    with pytest.raises(UnknownValueError, match=r"Valid ids: profil_type_collectivite, .*to_frame"):
        cat.get("zzzz")
    with pytest.raises(UnknownValueError, match=r"no option 'peut_etre'.*Valid options: oui, non"):
        cat.get("cyber_pca").option("peut_etre")
    with pytest.raises(UnknownValueError, match=r"no option 'x'.*none: a percentage"):
        cat.get("outils_materiel_reconditionne").option("x")
    with pytest.raises(UnknownValueError, match=r"Unknown theme 'cybe'.*Valid themes: profil"):
        cat.theme("cybe")
    with pytest.raises(UnknownValueError, match=r"Unknown wave 4.*Valid waves: 1, 2, 3"):
        cat.edition.wave(4)


def test_filter(cat):
    w1 = cat.filter(wave=1)
    assert {i.wave for i in w1} == {1} and len(w1) == 20
    assert len(cat.filter(wave=[0, 1])) == len(w1) + 3
    cyber = cat.filter(theme="cyber")
    assert {i.theme for i in cyber} == {"cyber"}
    assert all(set(r.indicators) & {i.id for i in cyber} for r in cyber.report_items)
    assert len(cat.filter(theme=["cyber", "outils"], sensitive=True)) == len(SENSITIVE)
    assert not any(i.sensitive for i in cat.filter(sensitive=False))
    with pytest.raises(UnknownValueError, match=r"Unknown theme 'cybersecurite'.*Valid themes"):
        cat.filter(theme="cybersecurite")
    with pytest.raises(UnknownValueError, match=r"Unknown wave 7.*Valid waves: 0, 1, 2, 3"):
        cat.filter(wave=7)
    with pytest.raises(UnknownValueError, match=r"sensitive must be True, False or None"):
        cat.filter(sensitive="oui")


def test_protocols_and_frame(cat):
    assert len(cat) == len(cat.indicators) == len(list(cat))
    assert "cyber_pca" in cat and cat.get("cyber_pca") in cat and "nope" not in cat
    assert "74 indicators" in repr(cat) and "9 questionnaires in 3 waves" in repr(cat)
    assert repr(cat.get("cyber_pca")).startswith("Indicator('cyber_pca', wave=1")
    df = cat.to_frame()
    assert len(df) == len(cat) and df["id"].is_unique
    assert {"id", "theme", "wave", "label", "question", "kind", "statistic", "universe"} <= set(
        df.columns
    )
    assert df["wave"].dtype == "int64" and df["published_value"].dtype == "float64"
    assert df.loc[df["id"] == "cyber_pca", "published_options"].item() == {"non": 0.66}


def test_repr_html_is_french_and_grouped(cat):
    html = cat._repr_html_()
    assert html.count("<th colspan=") == 10
    assert "Vague 1 · Cybersécurité (9 indicateurs)" in html
    assert "Chaque vague (identification) · Profil du répondant" in html
    assert "Département, Région, France <em>(sensible)</em>" in html
    assert "36,9" + NBSP + "%" in html
    assert "Non" + NBSP + ": 66" + NBSP + "%" in html
    assert "≈" + NBSP + "33" + NBSP + "%" in html
    assert "Région" + NBSP + ": 13,4" + NBSP + "%" in html
    assert "Tous niveaux" in html and "Agent territorial" + NBSP + ": 76" in html
    assert "<script" not in html
    small = cat.filter(theme="cyber")._repr_html_()
    assert small.count("<th colspan=") == 1


def test_format_percent():
    assert _catalogue_html.format_percent(0.26) == "26" + NBSP + "%"
    assert _catalogue_html.format_percent(13.4, share=False) == "13,4" + NBSP + "%"


def test_pickle_and_hash(cat):
    again = pickle.loads(pickle.dumps(cat.get("outils_materiel_reconditionne")))
    assert again == cat.get("outils_materiel_reconditionne")
    assert hash(again) == hash(cat.get("outils_materiel_reconditionne"))
    assert again.published.by_kind["region"] == 13.4
    assert len(again.published.by_kind) == 3 and "13.4" in repr(again.published.by_kind)
    with pytest.raises(TypeError):
        again.published.options["x"] = 1  # read-only
    with pytest.raises(AttributeError, match="read-only"):
        again.published.options._data = {}


def test_loaded_lazily_and_cached(tmp_path):
    code = (
        "import sys, barometre_geo;"
        "print('barometre_geo.survey.catalogue.rules' in sys.modules, 'yaml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    assert bg.load_catalogue() is bg.load_catalogue()
    path = tmp_path / "c.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    first = bg.load_catalogue(path)
    assert bg.load_catalogue(str(path)) is first
    path.write_text(MINIMAL.replace('label: "Niveau"', 'label: "Niveau atteint"'), "utf-8")
    assert bg.load_catalogue(path).get("outils_niveau").label == "Niveau atteint"


def test_docstring_examples():
    for module in (_catalogue_model, _catalogue_load, _catalogue_yaml, _catalogue_html):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, module.__name__


# --------------------------------------------------------------------------- loader errors
MINIMAL = """\
format: 1
edition:
  id: "test"
  number: 1
  name: "Baromètre de test"
  title: "Étude de test"
  organisers: ["Association Déclic"]
  programme: "Programme TNT"
  total_responses: 30
  waves:
    - {number: 1, start: 2023-11-01, end: 2024-02-07, responses: 20}
    - {number: 2, start: 2024-02-19, end: 2025-02-26, responses: 10}
option_sets:
  oui_non:
    - {id: oui, label: "Oui"}
    - {id: non, label: "Non"}
    - {id: sans_reponse, label: "Sans réponse"}
themes:
  - {id: cyber, wave: 1, label: "Cybersécurité", description: "Se protéger."}
  - {id: outils, wave: 2, label: "Outils internes", description: "Équipement."}
indicators:
  - id: cyber_pca
    theme: cyber
    wave: 1
    label: "Plan de continuité d'activité"
    question: "Avez-vous un PCA ?"
    kind: yes_no
    options: oui_non
    statistic: share
    positive: [oui]
    sensitive: true
    levels: [departement, region, france]
    published: {options: {non: 0.66}, source: "Rapport"}
    source: "p. 8"
  - id: cyber_outils
    theme: cyber
    wave: 1
    label: "Outils de protection"
    question: "Quels outils utilisez-vous ?"
    kind: multiple_choice
    options:
      - {id: antivirus, label: "Antivirus"}
      - {id: aucun, label: "Aucun", exclusive: true}
    statistic: share_per_option
    asked_if: {indicator: cyber_pca, options: [oui]}
    source: "p. 8"
  - id: outils_reconditionne
    theme: outils
    wave: 2
    label: "Matériel reconditionné"
    question: "Quelle part de matériel reconditionné ?"
    kind: percentage
    statistic: mean
    published: {value: 8.2, by_kind: {commune: 8.1}, source: "Rapport"}
    source: "p. 11"
  - id: outils_niveau
    theme: outils
    wave: 2
    label: "Niveau"
    question: "Quel niveau ?"
    kind: scale
    options:
      - {id: bas, label: "Bas"}
      - {id: haut, label: "Haut"}
      - {id: sans_reponse, label: "Sans réponse"}
    statistic: distribution
    source: "p. 11"
report_items:
  - {title: "PCA", section: "p. 8", kind: chart, indicators: [cyber_pca]}
"""


def _write(tmp_path, text, name="catalogue.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_catalogue_loads(tmp_path):
    cat = bg.load_catalogue(_write(tmp_path, MINIMAL))
    assert len(cat) == 4 and cat.path.endswith("catalogue.yaml")
    pca = cat.get("cyber_pca")
    assert pca.label == "Plan de continuité d’activité"
    assert pca.question == "Avez-vous un PCA" + NBSP + "?"
    assert pca.universe == "all" and pca.unit == "%" and pca.column == "cyber_pca"
    assert pca.valid == ("oui", "non")
    outils = cat.get("cyber_outils")
    assert outils.levels == PUBLISH_LEVELS and outils.option("aucun").exclusive
    assert outils.asked_if.indicator == "cyber_pca"
    assert cat.get("outils_reconditionne").published.by_kind == {"commune": 8.1}


def _case(old, new, count=1):
    assert MINIMAL.count(old) >= 1, old
    return MINIMAL.replace(old, new, count)


PCA_LEVELS = "    levels: [departement, region, france]\n"
THEMES = MINIMAL[MINIMAL.index("themes:\n") : MINIMAL.index("indicators:\n")]
ERRORS = [
    # YAML itself
    (
        "syntax",
        _case('label: "Niveau"', "label: Niveau: bas"),
        InputFileError,
        r"line 59, column \d+: invalid YAML .*Fix the syntax there",
    ),
    (
        "duplicate key",
        _case("    theme: cyber\n", "    theme: cyber\n    theme: outils\n"),
        SchemaError,
        r"line 24: key 'theme' appears twice .*first at line 23.*Keep only one",
    ),
    (
        "boolean key",
        _case("    kind: yes_no\n", "    kind: yes_no\n    yes: 1\n"),
        SchemaError,
        r"key True is not text. Quote it",
    ),
    ("empty", "", SchemaError, r"the file is empty. Start from"),
    (
        "not a mapping",
        "- a\n- b\n",
        SchemaError,
        r"top level must be a mapping of fields, got a list \[.a., .b.\]. Write it as `field",
    ),
    # top level
    (
        "format",
        _case("format: 1", "format: 2"),
        SchemaError,
        r"field 'format': format 2 is not supported. This barometre-geo reads format 1",
    ),
    (
        "no format",
        _case("format: 1\n", ""),
        SchemaError,
        r"missing required field 'format'. Add `format: 1` at the top",
    ),
    (
        "unknown top field",
        _case("format: 1\n", "format: 1\nextra: 3\n"),
        SchemaError,
        r"field 'extra': unknown field 'extra'. Valid fields: format, edition",
    ),
    (
        "themes not a list",
        _case(THEMES, "themes: 3\n"),
        SchemaError,
        r"field 'themes': expected a list such as \[a, b\]",
    ),
    (
        "no indicator",
        MINIMAL.split("indicators:")[0] + "indicators: []\nreport_items: []\n",
        SchemaError,
        r"field 'indicators': no indicator. List at least one indicator",
    ),
    (
        "report items not a list",
        MINIMAL.split("report_items:")[0] + "report_items: {}\n",
        SchemaError,
        r"field 'report_items': expected a list",
    ),
    # edition
    (
        "wave order",
        _case("{number: 2, start", "{number: 3, start"),
        SchemaError,
        r"edition wave #2, field 'number': wave number 3 at position 2. Number the waves 1, 2, 3",
    ),
    (
        "wave dates",
        _case("end: 2024-02-07", "end: 2023-02-07"),
        SchemaError,
        r"ends \(2023-02-07\) before it starts \(2023-11-01\). Swap or correct the dates",
    ),
    (
        "bad date",
        _case("start: 2023-11-01", 'start: "2023-13-01"'),
        SchemaError,
        r"field 'start': expected a date written YYYY-MM-DD",
    ),
    (
        "negative responses",
        _case("responses: 20", "responses: -2"),
        SchemaError,
        r"negative count -2. Give the published count",
    ),
    (
        "negative total",
        _case("total_responses: 30", "total_responses: -1"),
        SchemaError,
        r"negative count -1. Give the published total",
    ),
    (
        "no wave",
        _case(
            "  waves:\n    - {number: 1, start: 2023-11-01, end: 2024-02-07, responses: 20}\n"
            "    - {number: 2, start: 2024-02-19, end: 2025-02-26, responses: 10}\n",
            "  waves: []\n",
        ),
        SchemaError,
        r"field 'waves': no wave. List at least one wave",
    ),
    (
        "empty organiser",
        _case('["Association Déclic"]', '["Déclic", ""]'),
        SchemaError,
        r"field 'organisers': every item must be a non-empty text. Quote each item",
    ),
    (
        "wave without theme",
        _case(
            "responses: 10}\n",
            "responses: 10}\n    - {number: 3, start: 2025-02-27, end: 2025-05-23, responses: 5}\n",
        ),
        SchemaError,
        r"edition wave 3 has no theme. Give each wave its questionnaires",
    ),
    # themes
    (
        "theme wave",
        _case("{id: outils, wave: 2", "{id: outils, wave: 5"),
        UnknownValueError,
        r"theme 'outils', field 'wave': wave 5 is not a wave of the edition. Use one of 0, 1, 2",
    ),
    (
        "duplicate theme",
        _case("{id: outils, wave: 2", "{id: cyber, wave: 2"),
        SchemaError,
        r"theme 'cyber' is defined twice. Merge or rename",
    ),
    (
        "empty themes",
        _case(THEMES, "themes: []\n"),
        SchemaError,
        r"themes must be a non-empty list",
    ),
    # indicator fields
    (
        "unknown field",
        _case('    label: "Niveau"', '    lable: "Niveau"'),
        SchemaError,
        r"line 59, indicator 'outils_niveau', field 'lable': unknown field 'lable'. "
        r"Did you mean 'label'\? Valid fields: id, theme",
    ),
    (
        "missing field",
        _case('    source: "p. 11"\nreport', "report"),
        SchemaError,
        r"indicator 'outils_niveau', field 'source': missing required field 'source'. Add",
    ),
    (
        "not a mapping entry",
        _case("indicators:\n", "indicators:\n  - just text\n"),
        SchemaError,
        r"indicator #1 must be a mapping of fields, got text .just text.. Write it as",
    ),
    (
        "number entry",
        _case("indicators:\n", "indicators:\n  - 3\n"),
        SchemaError,
        r"indicator #1 must be a mapping of fields, got int 3",
    ),
    (
        "wrong type",
        _case('    wave: 2\n    label: "Niveau"', '    wave: deux\n    label: "N"'),
        SchemaError,
        r"field 'wave': expected a whole number, got 'deux'. Correct the value",
    ),
    (
        "bad id",
        _case("id: outils_niveau", "id: Outils-Niveau"),
        SchemaError,
        r"field 'id': 'Outils-Niveau' is not a snake_case id. Use lower-case ASCII",
    ),
    (
        "prefix",
        _case("id: outils_niveau", "id: niveau_outils"),
        SchemaError,
        r"id 'niveau_outils' does not start with its theme 'outils'. Rename it outils_",
    ),
    (
        "duplicate id",
        _case("id: outils_niveau", "id: outils_reconditionne"),
        SchemaError,
        r"indicator 'outils_reconditionne', field 'id': the id is used twice. Ids are stable",
    ),
    (
        "unknown theme",
        _case(
            '    theme: outils\n    wave: 2\n    label: "Niveau"',
            '    theme: outil\n    wave: 2\n    label: "Niveau"',
        ),
        UnknownValueError,
        r"field 'theme': unknown value 'outil'. Did you mean 'outils'\? Valid values: cyber, out",
    ),
    (
        "wave mismatch",
        _case('    wave: 2\n    label: "Niveau"', '    wave: 1\n    label: "N"'),
        SchemaError,
        r"wave 1 but theme 'outils' belongs to wave 2. Set `wave: 2`",
    ),
    (
        "unknown kind",
        _case("kind: scale", "kind: echelle"),
        UnknownValueError,
        r"field 'kind': unknown value 'echelle'. Valid values: yes_no, single_choice",
    ),
    (
        "unknown statistic",
        _case("statistic: distribution", "statistic: repartition"),
        UnknownValueError,
        r"field 'statistic': unknown value 'repartition'.*Valid values: share",
    ),
    (
        "statistic vs kind",
        _case("statistic: share_per_option", "statistic: share"),
        SchemaError,
        r"'share' does not fit a 'multiple_choice' question. Use share_per_option",
    ),
    (
        "unknown universe",
        _case("    sensitive: true", "    universe: toutes\n    sensitive: true"),
        UnknownValueError,
        r"field 'universe': unknown value 'toutes'. Valid values: all, communes",
    ),
    # options
    (
        "unknown option set",
        _case("options: oui_non\n", "options: oui_non_nsp\n"),
        UnknownValueError,
        r"unknown option set 'oui_non_nsp'. Valid option sets: oui_non",
    ),
    (
        "no options",
        _case("options: oui_non\n", "options: []\n"),
        SchemaError,
        r"a 'yes_no' question needs options, got \[\]. Give a list of \{id, label\}",
    ),
    (
        "options on percentage",
        _case("    kind: percentage\n", "    kind: percentage\n    options: oui_non\n"),
        SchemaError,
        r"a percentage question has no options. Remove `options`",
    ),
    (
        "duplicate option",
        _case('{id: haut, label: "Haut"}', '{id: bas, label: "Haut"}'),
        SchemaError,
        r"option 'bas', field 'id': option 'bas' appears twice. Give each option its own",
    ),
    (
        "option set not a list",
        _case("  oui_non:\n    - {id: oui", "  oui_non: 3\n  x:\n    - {id: oui"),
        SchemaError,
        r"option set 'oui_non': options must be a non-empty list of \{id, label\}",
    ),
    (
        "yes_no lacks non",
        _case('    - {id: non, label: "Non"}\n', ""),
        SchemaError,
        r"a yes/no question lacks non. Use the option set oui_non or oui_non_nsp",
    ),
    (
        "yes_no odd option",
        _case('{id: non, label: "Non"}', '{id: peut_etre, label: "Non"}'),
        SchemaError,
        r"'peut_etre' not among the yes/no options. Use only: oui, oui_partiellement",
    ),
    (
        "multiple with sans_reponse",
        _case(
            '{id: aucun, label: "Aucun", exclusive: true}',
            '{id: sans_reponse, label: "Sans réponse"}',
        ),
        SchemaError,
        r"has no 'sans_reponse' option. Remove it: a question left blank is NA on every option",
    ),
    (
        "exclusive on scale",
        _case('{id: haut, label: "Haut"}', '{id: haut, label: "Haut", exclusive: true}'),
        SchemaError,
        r"`exclusive` only applies to multiple-choice options. Remove `exclusive: true`",
    ),
    (
        "scale too short",
        _case('      - {id: haut, label: "Haut"}\n', ""),
        SchemaError,
        r"a scale needs at least two ordered options.*lowest to the highest level",
    ),
    (
        "scale tail",
        _case(
            '      - {id: haut, label: "Haut"}\n      - {id: sans_reponse, label: '
            '"Sans réponse"}\n',
            '      - {id: ne_sait_pas, label: "NSP"}\n      - {id: haut, label: "Haut"}\n',
        ),
        SchemaError,
        r"non-substantive ones .* last. List the options",
    ),
    # valid / positive
    (
        "valid with sans_reponse",
        _case(
            "    positive: [oui]\n", "    positive: [oui]\n    valid: [oui, non, sans_reponse]\n"
        ),
        SchemaError,
        r"exclude 'sans_reponse'. List the answers that count",
    ),
    (
        "valid unknown",
        _case("    positive: [oui]\n", "    positive: [oui]\n    valid: [oui, nsp]\n"),
        SchemaError,
        r"field 'valid': 'nsp' not among the options of the indicator. Use only: oui",
    ),
    (
        "valid repeats",
        _case("    positive: [oui]\n", "    positive: [oui]\n    valid: [oui, oui]\n"),
        SchemaError,
        r"field 'valid': repeats oui. List each id once",
    ),
    (
        "valid not ids",
        _case("    positive: [oui]\n", "    positive: [oui]\n    valid: [1, 2]\n"),
        SchemaError,
        r"expected a list of ids, got 1. Write ids as text",
    ),
    (
        "positive outside valid",
        _case("    positive: [oui]\n", "    positive: [oui]\n    valid: [non]\n"),
        SchemaError,
        r"field 'positive': 'oui' not among the valid options \(positive ⊆ valid\). Use only: non",
    ),
    (
        "share without positive",
        _case("    positive: [oui]\n", ""),
        SchemaError,
        r"a share needs the options counted as positive. Add e.g. `positive: \[oui\]`",
    ),
    (
        "positive on mean",
        _case("    statistic: mean\n", "    statistic: mean\n    positive: [x]\n"),
        SchemaError,
        r"a 'mean' statistic has no positive options. Remove `positive`",
    ),
    # levels
    (
        "unknown level",
        _case(PCA_LEVELS, "    levels: [departement, pays]\n"),
        UnknownValueError,
        r"unknown level 'pays'. Valid levels: commune, epci, departement, region, france",
    ),
    (
        "no level",
        _case(PCA_LEVELS, "    levels: []\n"),
        SchemaError,
        r"field 'levels': no level. List where it may be published",
    ),
    (
        "sensitive at commune",
        _case(PCA_LEVELS, "    levels: [commune, france]\n"),
        SchemaError,
        r"may not be published at 'commune' .*Use levels: \[departement, region, france\]",
    ),
    (
        "sensitive at own level",
        _case(PCA_LEVELS, "    universe: departements\n    levels: [departement, france]\n"),
        SchemaError,
        r"may not be published at 'departement' .*Use levels: \[region, france\]",
    ),
    (
        "level outside universe",
        _case(
            "    statistic: mean\n",
            "    statistic: mean\n    universe: regions\n    levels: [commune]\n",
        ),
        SchemaError,
        r"level 'commune' cannot be mapped for universe 'regions'. Remove it",
    ),
    # published
    (
        "published percent",
        _case("{non: 0.66}", "{non: 66}"),
        SchemaError,
        r"share 66 of option 'non' is not in 0–1. Write shares between 0 and 1 \(26 % is 0.26\)",
    ),
    (
        "published value range",
        _case("{value: 8.2,", "{value: 820,"),
        SchemaError,
        r"field 'value': 820 is out of range. Write a mean in % \(0 to 100\)",
    ),
    (
        "published option unknown",
        _case("{non: 0.66}", "{nan: 0.66}"),
        SchemaError,
        r"'nan' not among the valid options of the indicator. Use only: oui, non",
    ),
    (
        "published sum",
        _case("{non: 0.66}", "{non: 0.66, oui: 0.5}"),
        SchemaError,
        r"shares of a single-answer question add up to 1.160 > 1. Check the published",
    ),
    (
        "published mean options",
        _case("{value: 8.2,", "{value: 8.2, options: {x: 0.1},"),
        SchemaError,
        r"a mean has no per-option figure. Remove `options`",
    ),
    (
        "published per option value",
        _case("    asked_if:", '    published: {value: 0.5, source: "R"}\n    asked_if:'),
        SchemaError,
        r"has no headline figure. Publish per-option shares under `options",
    ),
    (
        "published per option by kind",
        _case(
            "    asked_if:", '    published: {by_kind: {commune: 0.5}, source: "R"}\n    asked_if:'
        ),
        SchemaError,
        r"per-kind figures need a headline figure. Remove `by_kind`",
    ),
    (
        "published kind unknown",
        _case("{commune: 8.1}", "{ville: 8.1}"),
        SchemaError,
        r"'ville' not among the respondent kinds. Use only: commune, epci",
    ),
    (
        "published kind range",
        _case("{commune: 8.1}", "{commune: 108}"),
        SchemaError,
        r"figure 108 for 'commune' is out of range. Write a mean in %",
    ),
    (
        "published empty",
        _case("{options: {non: 0.66}, source:", "{source:"),
        SchemaError,
        r"published: no figure. Give `value`, `options` or `by_kind`, or drop `published`",
    ),
    (
        "published precision",
        _case("{options: {non: 0.66},", "{options: {non: 0.66}, precision: environ,"),
        UnknownValueError,
        r"field 'precision': unknown value 'environ'. Valid values: exact, about, below, above",
    ),
    (
        "published no source",
        _case('{options: {non: 0.66}, source: "Rapport"}', "{options: {non: 0.66}}"),
        SchemaError,
        r"missing required field 'source'",
    ),
    # asked_if, free text, column
    (
        "asked_if unknown",
        _case("{indicator: cyber_pca,", "{indicator: cyber_pra,"),
        SchemaError,
        r"'cyber_pra' is not an indicator defined above this one. Point at the filter question",
    ),
    (
        "asked_if option",
        _case("options: [oui]}", "options: [peut_etre]}"),
        SchemaError,
        r"'peut_etre' not among the options of 'cyber_pca'",
    ),
    (
        "asked_if empty",
        _case("options: [oui]}", "options: []}"),
        SchemaError,
        r"field 'options': no option. List the answers of 'cyber_pca' that lead here",
    ),
    (
        "asked_if other wave",
        _case(
            "    statistic: distribution\n",
            "    statistic: distribution\n    asked_if: {indicator: cyber_pca, options: [oui]}\n",
        ),
        SchemaError,
        r"'cyber_pca' belongs to wave 1, not 2. A filter question must be asked in the same wave",
    ),
    (
        "free text id",
        _case(
            "    statistic: distribution\n",
            '    statistic: distribution\n    free_text: {id: cyber_x, question: "Laquelle ?"}\n',
        ),
        SchemaError,
        r"free-text id 'cyber_x' must be new and start with outils_. Rename it",
    ),
    (
        "column reused",
        _case(
            "    statistic: distribution\n", "    statistic: distribution\n    column: cyber_pca\n"
        ),
        SchemaError,
        r"column 'cyber_pca' is already used by 'cyber_pca'. Give each indicator its own column",
    ),
    # report items
    (
        "report unknown indicator",
        _case("indicators: [cyber_pca]}", "indicators: [cyber_pcb]}"),
        SchemaError,
        r"unknown indicator 'cyber_pcb'. Did you mean: cyber_pca\? Use ids defined",
    ),
    (
        "report no indicator",
        _case("indicators: [cyber_pca]}", "indicators: []}"),
        SchemaError,
        r"report item #1 \('PCA'\), field 'indicators': maps to no indicator. List the indicators",
    ),
    (
        "report kind",
        _case("kind: chart", "kind: graphique"),
        UnknownValueError,
        r"unknown value 'graphique'. Valid values: chart, list, figure, text",
    ),
]


@pytest.mark.parametrize(("text", "exc", "match"), [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])  # fmt: skip
def test_loader_errors(tmp_path, text, exc, match):
    path = _write(tmp_path, text)
    with pytest.raises(exc, match=match) as info:
        bg.load_catalogue(path)
    assert str(path) in str(info.value)


def test_error_names_file_line_entry_field(tmp_path):
    text = _case('    label: "Niveau"', '    label: ""')
    path = _write(tmp_path, text)
    line = text.splitlines().index('    label: ""') + 1
    msg = f"{path}, line {line}, indicator 'outils_niveau', field 'label': expected a non-empty"
    with pytest.raises(SchemaError, match=re.escape(msg) + r".*Correct the value"):
        bg.load_catalogue(path)


def test_file_errors(tmp_path):
    with pytest.raises(InputFileError, match=r"not found or unreadable.*Pass the path of an"):
        bg.load_catalogue(tmp_path / "absent.yaml")
    with pytest.raises(InputFileError, match=r"is a directory. Pass the path of the YAML file"):
        bg.load_catalogue(tmp_path)
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("format: 1\n# Cybersécurité\n".encode("latin-1"))
    with pytest.raises(InputFileError, match=r"line 2: byte .* is not UTF-8. Save the catalogue"):
        bg.load_catalogue(latin)
