"""The navigable index (barometre_geo.maps.write_index): entries, levels not published,
territories, search data, embedding notes, Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest

from barometre_geo.maps import MapRecord, write_index
from barometre_geo.maps._index import TerritoryLink, search_text


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids, self.scripts, self._in_script = [], set(), [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a":
            self.links.append(a.get("href"))
        if "id" in a:
            self.ids.add(a["id"])
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)

    def handle_endtag(self, tag):
        self._in_script = False


RECORDS = [
    MapRecord("participation.departement.html", "Participation", "Participation à l’enquête",
              "Départements", "7,9 %", entry="participation.departement.html"),
    MapRecord("cyber_pca.departement.html", "PCA — départements", "Cybersécurité", "Départements",
              "28 %", "Votre collectivité a-t-elle un PCA ?", entry="cyber_pca",
              entry_title="Plan de continuité d’activité (PCA)", keywords="cyber_pca", share=0.28),
    MapRecord("cyber_pca.region.html", "PCA — régions", "Cybersécurité", "Régions", "28 %",
              entry="cyber_pca", entry_title="Plan de continuité d’activité (PCA)", share=0.28),
    MapRecord("", "PCA — EPCI", "Cybersécurité", "EPCI à fiscalité propre", entry="cyber_pca",
              reason="indicateur sensible : publié par départements et régions seulement"),
    MapRecord("", "PCA — communes", "Cybersécurité", "Communes", entry="cyber_pca",
              reason="indicateur sensible : publié par départements et régions seulement"),
    MapRecord("cyber_protections.region.antivirus.html", "Antivirus — régions", "Cybersécurité",
              "Régions", entry="cyber_protections", entry_title="Outils de protection",
              option="Antivirus"),
    MapRecord("", "Antivirus — départements", "Cybersécurité", "Départements",
              entry="cyber_protections", option="Antivirus",
              reason="moins de 10 réponses dans chaque territoire"),
]  # fmt: skip
PLACES = [
    TerritoryLink("territoire.reg-84.html", "Auvergne-Rhône-Alpes", "84", "region"),
    TerritoryLink("territoire.dep-69.html", "Rhône", "69", "departement", region="84"),
    TerritoryLink("territoire.971.html", "Guadeloupe", "971", "departement"),
]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    out = tmp_path_factory.mktemp("index")
    html = write_index(RECORDS, out, territories=PLACES).read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(html)
    return html, parsed


def test_one_entry_per_indicator_levels_as_links(page):
    html, parsed = page
    assert html.count('class="entry"') == 3  # participation, PCA, protections
    assert html.count("<h3>Plan de continuité d’activité (PCA)</h3>") == 1
    assert parsed.links.count("cyber_pca.departement.html") == 1
    assert parsed.links.count("cyber_pca.region.html") == 1
    assert "Valeur nationale : <strong>28 %</strong>" in html
    assert '<rect width="16.8" height="8"' in html  # the small bar: 28 % of 60 px


def test_levels_not_published_have_no_link_and_say_why(page):
    html, parsed = page
    assert not [h for h in parsed.links if h and "epci" in h]
    assert (
        "Non publié à ce niveau : EPCI à fiscalité propre et communes — indicateur sensible : "
        "publié par départements et régions seulement." in html
    )
    assert "Antivirus : <a" in html
    assert "non publié à ce niveau : départements — moins de 10 réponses" in html


def test_table_of_contents_skip_link_and_territories(page):
    html, parsed = page
    assert parsed.links[0] == "#sommaire" and "sommaire" in parsed.ids
    toc = [h for h in parsed.links if h and h.startswith("#") and h != "#sommaire"]
    assert toc[0] == "#territoires"
    assert all(t[1:] in parsed.ids for t in toc)  # every entry of the table leads somewhere
    assert {"#theme-cybersecurite", "#theme-participation-a-l-enquete", "#integrer"} <= set(toc)
    assert "territoire.reg-84.html" in parsed.links and "territoire.dep-69.html" in parsed.links
    # a département is listed under its région; an overseas département on its own
    assert html.index("territoire.reg-84.html") < html.index("territoire.dep-69.html")
    assert 'data-s="guadeloupe 971 departement"' in html


def test_search_data_and_script_allowed_by_its_hash(page):
    html, parsed = page
    assert 'data-s="plan de continuite d&#39;activite (pca) votre collectivite' in html
    (script,) = [s for s in parsed.scripts if s.strip()]
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert f"'sha256-{digest}'" in csp and "unsafe-inline" not in csp
    assert 'id="recherche" role="search" hidden' in html  # shown by the script only


def test_embedding_without_and_with_base_url(page, tmp_path):
    html, _ = page
    assert "L’adresse publique de ce dossier n’est pas connue" in html
    assert "barometre-geo build --base-url https://www.exemple.gouv.fr/cartes/" in html
    assert "style=" not in re.search(r"<textarea.*?</textarea>", html, re.S).group(0)
    out = write_index(RECORDS, tmp_path, base_url="https://cartes.exemple.gouv.fr/baro/")
    absolute = out.read_text(encoding="utf-8")
    assert 'href="https://cartes.exemple.gouv.fr/baro/cyber_pca.region.html"' in absolute
    assert "frame-src https://cartes.exemple.gouv.fr" in absolute
    assert "n’est pas connue" not in absolute


def test_search_text():
    assert search_text("Île-de-France", "Côte-d’Or") == "ile-de-france cote-d'or"
