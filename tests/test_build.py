"""barometre-geo build: outputs, manifest, settings, atomic replacement, exit codes."""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import barometre_geo as bg
from barometre_geo.build import indicator as _build_maps
from barometre_geo.build.settings import BuildSettings, load_config, resolve_settings
from barometre_geo.cli import COMMANDS, main
from barometre_geo.errors import InputFileError, SchemaError, UnknownValueError

FAST = ["--indicator", "cyber_pca", "--indicator", "inclusion_lieux_types",
        "--indicator", "outils_materiel_reconditionne", "--level", "commune",
        "--level", "epci", "--level", "region", "--jobs", "1"]  # fmt: skip


pytestmark = pytest.mark.usefixtures("shared_demo_cache")  # the demo is generated once


@pytest.fixture(scope="module")
def built(tmp_path_factory, demo_cache):
    """A filtered build (three indicators, three levels), run once for the module."""
    out = tmp_path_factory.mktemp("build") / "maps"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BAROMETRE_GEO_CACHE", str(demo_cache))
        result = bg.build(
            out=out,
            indicators=["cyber_pca", "inclusion_lieux_types", "outils_materiel_reconditionne"],
            levels=["commune", "epci", "region"],
            territoires=["reg-84", "Rhône", "971"],
            jobs=1,
        )
    return result


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _digest(folder: Path) -> dict[str, str]:
    return {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in _tree(folder)}


# ----------------------------------------------------------------- outputs


def test_manifest_lists_every_file_with_size_and_hash(built):
    out = built.out_dir
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == _tree(out) - {"manifest.json"}  # every file listed, nothing unlisted
    for path, entry in listed.items():
        data = (out / path).read_bytes()
        assert entry["size"] == len(data), path
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), path
    assert manifest["generator"] == "barometre-geo build"
    assert manifest["versions"]["packages"]["barometre-geo"] == bg.__version__
    assert manifest["settings"] == built.settings.portable(out)[0]
    assert manifest["settings"]["out"] == "." and manifest["replay"].endswith(
        "maps/parametres.toml"
    )
    text = (out / "manifest.json").read_text(encoding="utf-8")
    assert str(out.parent) not in text and str(Path.cwd()) not in text  # no absolute path
    inputs = manifest["inputs"]
    assert len(inputs["exports"]) == 3 and all(len(h) == 64 for h in inputs["exports"].values())
    assert any(p.endswith("territoires.parquet") for p in inputs["reference"])
    assert next(iter(inputs["structures"])).endswith("structures-illustratives.json")
    assert any(p.endswith("catalogue.yaml") for p in inputs["catalogue"])


def test_pages_link_the_one_copy_of_leaflet_in_assets(built):
    from barometre_geo.maps._assets import leaflet_folder

    out = built.out_dir
    folder = out / leaflet_folder()
    assert (folder / "leaflet.js").is_file() and (folder / "leaflet.css").is_file()
    assets = {f.path for f in built.files if f.kind == "asset"}
    assert assets == {p.relative_to(out).as_posix() for p in folder.rglob("*") if p.is_file()} | {
        "assets/barometre-geo-integration.js"  # the host pages' script (iframe height)
    }
    pages = [f for f in built.files if f.kind == "carte" and not f.empty]
    assert pages
    for f in pages:
        html = (out / f.path).read_text(encoding="utf-8")
        assert f'<script src="{leaflet_folder()}/leaflet.js"></script>' in html, f.path
        assert "cdn.jsdelivr.net" not in html, f.path


def test_gdal_setting_is_restored_after_the_build(built):
    import pyogrio

    # the build writes GeoPackages without fsync, then gives the process its setting back
    assert pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS") is None


def test_outputs_per_indicator_and_level(built):
    files = {f.path: f for f in built.files}
    # headline indicator: a map per published level (cyber_pca is sensitive: région only)
    assert "cyber_pca.region.html" in files and "cyber_pca.epci.html" not in files
    # per-option indicator: a map per option where publishable; no page where nothing is
    assert "inclusion_lieux_types.region.mediatheques.html" in files
    assert not any(p.startswith("inclusion_lieux_types.commune") for p in files)
    assert not any(f.empty for f in built.files)  # no "aucune valeur publiable" page at all
    index = (built.out_dir / "index.html").read_text(encoding="utf-8")
    entry = index[index.index('id="ind-inclusion-lieux-types"') :]
    entry = entry[: entry.index("</li>\n</ul>")]
    assert "Non publié à ce niveau : communes — moins de 5 réponses" in entry
    assert built.not_published > 0 and "sans valeur publiable" in built.summary()
    # GeoPackages: levels with a publishable value only (communes are all masked in public mode)
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(built.out_dir / files[
        "geopackages/inclusion_lieux_types.gpkg"].path)}  # fmt: skip
    table = pd.read_csv(built.out_dir / "donnees" / "indicateurs.csv", dtype={"code": str})
    shown = table[(table["indicator"] == "inclusion_lieux_types") & ~table["suppressed"]]
    levels = set(shown["level"]) & {"commune", "epci", "departement", "region", "france"}
    assert {"region", "france"} <= levels and "commune" not in levels
    assert levels <= layers and "commune" not in layers
    for name in ("participation.commune.html", "participation.departement.html",
                 "couverture.html", "geopackages/couverture.gpkg", "donnees/indicateurs.csv",
                 "donnees/indicateurs.parquet", "donnees/dictionnaire.md",
                 "rapports/import.txt", "rapports/import.json", "LISEZMOI.txt",
                 "parametres.toml", "index.html"):  # fmt: skip
        assert name in files, name
    table = pd.read_csv(built.out_dir / "donnees/indicateurs.csv", dtype={"code": str})
    assert set(table["indicator"]) == set(built.indicators)
    assert table["value_weighted"].notna().any()  # weights on by default


def test_territory_pages(built):
    files = {f.path: f for f in built.files if f.kind == "territoire"}
    assert set(files) == {"territoire.reg-84.html", "territoire.dep-69.html", "territoire.971.html"}
    page = (built.out_dir / "territoire.dep-69.html").read_text(encoding="utf-8")
    assert "<h1>Rhône</h1>" in page and "Auvergne-Rhône-Alpes" in page  # next to its région
    assert re.search(r'href="inclusion_lieux_types\.region\.\w+\.html\?territoire=dep-69"', page)
    assert 'href="cyber_pca.region.html?territoire=dep-69"' in page
    index = (built.out_dir / "index.html").read_text(encoding="utf-8")
    assert 'href="territoire.reg-84.html"' in index and 'href="territoire.971.html"' in index
    manifest = json.loads((built.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["territoires"] == ["reg-84", "Rhône", "971"]


def test_territory_pages_give_the_published_modelled_figures(built):
    """The build's pages read the modelled figures of the published table, tier by tier."""
    from markupsafe import escape

    from barometre_geo.maps._data import value_format
    from barometre_geo.maps._modelled import tier_text

    table = pd.read_parquet(built.out_dir / "donnees/indicateurs.parquet")
    page = (built.out_dir / "territoire.dep-69.html").read_text(encoding="utf-8")
    ind = bg.load_catalogue().get("outils_materiel_reconditionne")  # a mean: its own classes
    com = bg.load_territories().communes
    rhone = set(com.loc[com["departement"] == "69", "epci"].dropna().astype(str))
    rows = table[(table["indicator"] == ind.id) & (table["level"] == "epci")
                 & (table["by"] == "total") & table["code"].astype(str).isin(rhone)]  # fmt: skip
    tiers = rows["model_publication"].astype(str).value_counts()
    assert tiers.get("value", 0) > 3, tiers
    fmt = value_format(ind)
    for _, r in rows.iterrows():
        head = f'<th scope="row">{escape(r["nom"])}</th>'
        if r["model_publication"] == "value":
            assert f'{head}<td class="v value">{fmt.format(r["model_value"])}</td>' in page
        elif r["model_publication"] == "class":  # the class only, the map's words
            tail = '</td><td class="ci"></td><td>non publiée</td><td class="tier">'
            tail += tier_text("class")
            assert re.search(re.escape(f'{head}<td class="v class">') + "[^<]+" + re.escape(tail),
                             page)  # fmt: skip
    assert "estimation modélisée par EPCI</caption>" in page
    assert "Les <strong>estimations modélisées</strong>" in page


def test_a_page_draws_the_estimates_when_published_else_the_direct_figures():
    ind = bg.load_catalogue().get("outils_materiel_reconditionne")

    def rows(direct: bool, model: bool) -> pd.DataFrame:
        return pd.DataFrame({
            "indicator": ind.id, "level": "departement", "code": ["01", "02"], "by": "total",
            "option": None, "value": [40.0, 50.0] if direct else [None, None],
            "suppressed": [not direct] * 2, "reason": [None if direct else "small_n"] * 2,
            "model_publication": ["class" if model else "hidden"] * 2,
            "model_class_low": [40.0, 40.0] if model else [None, None],
        })  # fmt: skip

    def page(direct: bool, model: bool):
        (p,) = _build_maps.plan_pages(rows(direct, model), ind, ["departement"])
        return p.publishable, p.estimates

    assert page(True, True) == (True, None)  # the modelled map (indicator_map's default)
    assert page(False, True) == (True, None)  # estimates published where direct figures are not
    assert page(True, False) == (True, "direct")  # no estimate published: the direct map
    assert page(False, False) == (False, None)  # nothing: no page, listed in the index
    # without modelled columns (estimates="direct"), the default (direct) map
    (p,) = _build_maps.plan_pages(
        rows(True, False).drop(columns=["model_publication", "model_class_low"]),
        ind,
        ["departement"],
    )
    assert (p.publishable, p.estimates) == (True, None)


def test_mean_with_few_distinct_values_gets_three_classes(built):
    # outils_materiel_reconditionne (a mean) has 2 distinct values at EPCI level in the demo
    page = (built.out_dir / "outils_materiel_reconditionne.epci.html").read_text(encoding="utf-8")
    assert "Aucune valeur publiable" not in page


def _legend_classes(path: Path) -> list:
    html = path.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="bgeo-data">(.*?)</script>', html, re.S).group(1))
    return [(c["label"], c["color"]) for c in data["layers"][0]["legend"]["classes"]]


def test_pages_say_their_source_and_share_classes_across_levels(built):
    out = built.out_dir
    pages = [f for f in built.files if f.kind == "carte" and f.indicator]
    for f in pages:
        html = (out / f.path).read_text(encoding="utf-8")
        assert 'class="bgeo-source">Source : Baromètre Collectivités' in html, f.path
        assert "COG 2025 ; traitements barometre-geo" in html and 'class="bgeo-skip' in html
    # the same colour means the same value on every level of an indicator (or option)
    by_map: dict = {}
    for f in pages:
        if not f.empty:
            by_map.setdefault((f.indicator, f.option), []).append(out / f.path)
    shared = [paths for paths in by_map.values() if len(paths) > 1]
    assert shared
    for paths in shared:
        assert all(_legend_classes(p) == _legend_classes(paths[0]) for p in paths), paths
    # ... and in the GeoPackage's styles of every level
    gpkg = out / "geopackages" / "outils_materiel_reconditionne.gpkg"
    with closing(sqlite3.connect(gpkg)) as con:
        qml = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles"))
    labels = [
        label for label, _ in _legend_classes(out / "outils_materiel_reconditionne.region.html")
    ]
    for layer in ("epci", "region"):
        assert re.findall(r'<range [^>]*label="([^"]*)"', qml[layer])[: len(labels)] == labels
    # embedding: the host script ships, the snippets carry no inline style
    assert "assets/barometre-geo-integration.js" in {f.path for f in built.files}
    index = (out / "index.html").read_text(encoding="utf-8")
    snippets = re.findall(r"&lt;iframe.*?&lt;/iframe&gt;", index)
    assert snippets and not any("style=" in s for s in snippets)
    assert "--base-url" in built.summary()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs).get("href"))


def test_index_links_resolve_and_synthetic_is_said(built):
    html = (built.out_dir / "index.html").read_text(encoding="utf-8")
    parser = _Links()
    parser.feed(html)
    maps = {f.path for f in built.files if f.kind in ("carte", "territoire")}
    local = [h for h in parser.links if h and not h.startswith(("http", "#"))]
    assert set(local) == maps  # every page, each once; no link to a page that is not written
    assert len(local) == len(set(local))
    assert all((built.out_dir / h).is_file() for h in local)
    assert "DÉMO SYNTHÉTIQUE" in html and "&lt;iframe" in html
    for name in ("cyber_pca.region.html", "participation.departement.html"):
        page = (built.out_dir / name).read_text(encoding="utf-8")
        assert "DONNÉES SYNTHÉTIQUES" in page
    assert "DONNÉES SYNTHÉTIQUES" in built.summary()
    assert "Ouvrez" in built.summary() and "index.html" in built.summary()
    assert "(10 pour les indicateurs sensibles, dont au moins 3 de chaque côté)" in built.summary()


def _personal_data(cache: Path) -> tuple[set[str], set[str], set[str]]:
    """E-mails, phones and names of the demo's fake respondents, from the raw exports."""
    emails, phones, names = set(), set(), set()
    for path in cache.rglob("demo-synthetique-vague-1.csv"):
        df = pd.read_csv(path, sep=";", dtype=str)
        emails |= set(df["Adresse e-mail"].dropna())
        phones |= set(df["Téléphone"].dropna())
        names |= {n for n in df["Nom du répondant"].dropna() if " " in n}
    return emails, phones, names


def _text_of(path: Path) -> str:
    """Text content of an output file (GeoPackages: every text value of every table; XLSX:
    the XML of the workbook)."""
    if path.suffix == ".gpkg":
        import sqlite3

        con = sqlite3.connect(path)
        try:
            tables = [
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            values = []
            for table in tables:
                for row in con.execute(f'SELECT * FROM "{table}"'):
                    values += [v for v in row if isinstance(v, str)]
        finally:
            con.close()
        return "\n".join(values)
    if path.suffix == ".xlsx":  # the sheets' XML (text cells are inline strings)
        import zipfile

        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith("xml"))
    return path.read_text(encoding="utf-8")


def test_no_personal_data_anywhere(built, demo_cache):
    emails, phones, names = _personal_data(demo_cache)
    assert len(emails) > 100 and len(phones) > 100 and len(names) > 100  # the check can fail
    # bounded repetitions: the pages hold long encoded-geometry strings
    email_re = re.compile(
        r"[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,6}\b"
    )
    phone_re = re.compile(r"\b0\d(?:[ .]?\d{2}){4}\b")
    name_re = re.compile(r"\b[A-ZÀ-Ý][\w'-]{1,30} [A-ZÀ-Ý][\w'-]{1,30}\b")
    digits = {re.sub(r"\D", "", p) for p in phones}
    checked = 0
    for rel in sorted(_tree(built.out_dir)):
        if rel.endswith(".parquet"):
            continue  # compressed; same rows as indicateurs.csv, checked as text
        if rel.startswith("assets/"):
            assert rel.endswith((".js", ".css", ".png")), rel
            continue  # Leaflet's files, copied from its package (compared in another test)
        text = _text_of(built.out_dir / rel)
        checked += 1
        assert not email_re.findall(text), rel
        assert not {re.sub(r"\D", "", p) for p in phone_re.findall(text)} & digits, rel
        assert not set(name_re.findall(text)) & names, rel
    assert checked > 20


def test_ingest_report_names_the_exports_without_their_folders(built, demo_cache):
    reports = built.out_dir / "rapports"
    text = (reports / "import.txt").read_text(encoding="utf-8")
    data = json.loads((reports / "import.json").read_text(encoding="utf-8"))
    names = ["demo-synthetique-vague-1.csv", "demo-synthetique-vague-2.csv",
             "demo-synthetique-vague-3.xlsx"]  # fmt: skip
    assert [f["file"] for f in data["files"]] == names
    assert [f["file"] for f in data["by_file"]] == names
    assert "rows" not in data  # public: counts, no row (issue 12; tests/test_report_public.py)
    assert all(f"\n  {n} : " in text for n in names)
    assert "collectivité non identifiée : 1" in text  # French
    assert "Fichiers lus dans le dossier" not in text  # no folder line in what the build publishes
    # no folder of the machine in any published report (the cache, the temporary folders)
    base = demo_cache.parent
    for path in sorted(reports.iterdir()):
        content = path.read_text(encoding="utf-8")
        for folder in (demo_cache, base, built.out_dir):
            assert str(folder) not in content, path.name
    assert not re.search(r"(?:^|[\s\"'(])/\w", text + json.dumps(data, ensure_ascii=False))


def _machine_folders(out: Path, *extra: Path) -> list[str]:
    """The build's own folders: output, its parent (staging), checkout, prefix, home, extra."""
    checkout = Path(bg.__file__).resolve().parents[1]
    folders = {out, out.parent, checkout, Path(sys.prefix), Path.home(), *extra}
    return sorted({os.path.abspath(f) for f in folders}, key=len, reverse=True)


def _machine_paths_in(out: Path, folders: list[str]) -> list[tuple[str, str]]:
    """Every (file, folder) such that the file holds the folder's absolute path.

    Every file is read as bytes (HTML, JSON, TOML, text, GeoPackages, CSV…); a
    Parquet file is also decoded (its pages are compressed).
    """
    import pyarrow.parquet as pq

    hits = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        blobs = [path.read_bytes()]
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            blobs.append(json.dumps(table.to_pylist(), default=str, ensure_ascii=False).encode())
            blobs.append(repr(table.schema.metadata).encode())
        for folder in folders:
            if any(folder.encode() in blob for blob in blobs):
                hits.append((path.relative_to(out).as_posix(), folder))
    return hits


def test_no_absolute_path_of_the_machine_in_any_output(built, demo_cache, tmp_path):
    folders = _machine_folders(built.out_dir, demo_cache)
    assert _machine_paths_in(built.out_dir, folders) == []
    # the check can fail: the settings with absolute paths, or a binary file holding one
    assert str(built.out_dir) in built.settings.to_toml()
    planted = tmp_path / "copie"
    shutil.copytree(built.out_dir, planted)
    gpkg = planted / "geopackages" / "cyber_pca.gpkg"
    gpkg.write_bytes(gpkg.read_bytes() + str(demo_cache).encode())
    assert _machine_paths_in(planted, [str(demo_cache)]) == [
        ("geopackages/cyber_pca.gpkg", str(demo_cache))
    ]
    # what replaced the paths still says where things are
    manifest = json.loads((built.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["replay"] == "barometre-geo build --config maps/parametres.toml"
    assert "barometre_geo/data/catalogue.yaml" in manifest["inputs"]["catalogue"]
    assert any(p.endswith("cog2025/territoires.parquet") for p in manifest["inputs"]["reference"])
    assert manifest["inputs"]["exports"] and all(
        not os.path.isabs(p) for p in manifest["inputs"]["exports"]
    )  # the exports by their name
    assert "/" not in manifest["versions"]["system"]["executable"]
    readme = (built.out_dir / "LISEZMOI.txt").read_text(encoding="utf-8")
    assert "dossier maps/" in readme and "Ouvrez index.html" in readme


# ------------------------------------------------------------------ settings


def test_settings_round_trip_through_toml(tmp_path):
    s = resolve_settings(
        responses=[str(tmp_path / "a.csv")],
        mapping=str(tmp_path / "m.yaml"),
        levels=["region", "departement"],
        themes=["cyber"],
        k=6,
        static="svg",
        inline=True,
        weights=False,
        base_url='https://ex.org/"cartes"/',
    )
    path = tmp_path / "run.toml"
    path.write_text(s.to_toml(), encoding="utf-8")
    assert resolve_settings(path) == s
    assert s.k_sensitive == 10 and resolve_settings(k=12).k_sensitive == 12


def test_config_paths_are_relative_to_the_file_and_flags_override(tmp_path):
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "run.toml"
    path.write_text('responses = ["v1.csv"]\nout = "sortie"\nk = 7\n', encoding="utf-8")
    s = resolve_settings(path, k=8)
    assert s.responses == (str(tmp_path / "conf" / "v1.csv"),)
    assert s.out == str(tmp_path / "conf" / "sortie") and s.k == 8


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("level = ['region']\n", SchemaError, r"unknown key\(s\) level\. Valid keys: .*levels"),
        ("k = 'cinq'\n", SchemaError, r"'k' must be an integer.*Example: k = 5"),
        ("levels = [1]\n", SchemaError, r"must be a list of text.*levels = \[\"departement\"\]"),
        ("k = \n", InputFileError, r"invalid TOML.*line 1.*Fix the syntax"),
        ("themes = ['cyber', 'securite']\n", UnknownValueError,
         r"Unknown theme 'securite'\. Valid themes: profil, inclusion, cyber"),
        ("indicators = ['cyber_pcaa']\n", UnknownValueError,
         r"Unknown indicator 'cyber_pcaa'\. Close: cyber_pca.*Valid indicators: profil_"),
        ("levels = ['canton']\n", UnknownValueError, r"Valid levels: commune, epci"),
        ("mode = 'open'\n", UnknownValueError, r"Valid modes: public, restricted"),
        ("static = 'gif'\n", UnknownValueError, r"Valid formats: png, svg"),
        ("basemap = 'google'\n", UnknownValueError, r"Valid basemaps: plan_ign"),
        ("jobs = 0\n", UnknownValueError, r"must be ≥ 1"),
        ("mapping = 'm.yaml'\n", InputFileError, r"without export files: pass the exports"),
        ("k = 12\nk_sensitive = 10\n", UnknownValueError, r"Pass k_sensitive >= 12"),
    ],
)  # fmt: skip
def test_bad_config_is_refused(tmp_path, text, error, match):
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(error, match=match):
        resolve_settings(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(InputFileError, match=r"configuration file not found\. Give the path"):
        load_config(tmp_path / "absent.toml")


def test_settings_fields_match_the_config_keys():
    from barometre_geo.build.settings import _EXAMPLES, _SPEC

    names = list(BuildSettings.__dataclass_fields__)
    # "inline" is a config key and a flag, read as assets = "inline"
    assert names == [k for k in _SPEC if k != "inline"]
    assert list(_SPEC) == list(_EXAMPLES)


def test_inline_is_assets_inline(tmp_path):
    assert resolve_settings().assets == "local"
    assert resolve_settings(inline=True).assets == "inline"
    assert resolve_settings(assets="cdn").assets == "cdn"
    path = tmp_path / "run.toml"
    path.write_text("inline = true\n", encoding="utf-8")
    assert resolve_settings(path).assets == "inline"
    with pytest.raises(SchemaError, match="contradict"):
        resolve_settings(assets="cdn", inline=True)
    with pytest.raises(UnknownValueError, match="Valid modes: inline, local, cdn"):
        resolve_settings(assets="intranet")


# ------------------------------------------------------- replacement, refusal


def test_rerun_replaces_the_folder_and_config_replays(built, tmp_path, capsys):
    out = tmp_path / "maps"
    shutil.copytree(built.out_dir, out)
    (out / "stale.html").write_text("old", encoding="utf-8")
    config = out / "parametres.toml"
    # replay the previous run's settings, overriding two of them on the command line
    code = main(["build", "--config", str(config), "--out", str(out),
                 "--indicator", "inclusion_cnfs", "--level", "region", "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    summary = capsys.readouterr().out
    assert "Ouvrez" in summary and "conservé(s) : stale.html" in summary
    files = _tree(out)
    assert "cyber_pca.region.html" not in files  # listed by the previous manifest: removed
    assert "inclusion_cnfs.region.html" in files
    assert (out / "stale.html").read_text(encoding="utf-8") == "old"  # not listed: the user's
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    s = manifest["settings"]
    assert s["indicators"] == ["inclusion_cnfs"] and s["levels"] == ["region"]
    assert {k: v for k, v in s.items() if k not in ("indicators", "levels", "out")} == {
        k: v
        for k, v in built.settings.as_dict().items()
        if k not in ("indicators", "levels", "out")
    }
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".maps.")]


def test_interrupted_build_leaves_the_previous_output_intact(built, tmp_path, monkeypatch):
    out = tmp_path / "maps"
    shutil.copytree(built.out_dir, out)
    before = _digest(out)
    real = _build_maps.render_indicator
    calls = []

    def failing(indicator_id, job=None):
        calls.append(indicator_id)
        if len(calls) == 2:  # after one indicator's maps and GeoPackage were written
            raise RuntimeError("injected failure")
        return real(indicator_id, job)

    monkeypatch.setattr(_build_maps, "render_indicator", failing)
    with pytest.raises(RuntimeError, match="injected failure"):
        bg.build(out=out, indicators=["cyber_pca", "inclusion_cnfs"], levels=["region"], jobs=1)
    assert len(calls) == 2
    assert _digest(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".maps.")]


def test_refuses_to_replace_an_unrelated_folder(tmp_path):
    out = tmp_path / "mes-cartes"
    out.mkdir()
    (out / "notes.txt").write_text("à garder", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"does not look like a barometre-geo build output.*"
                       r"notes\.txt.*Nothing was deleted.*pass --force"):  # fmt: skip
        bg.build(out=out, levels=["region"])
    assert (out / "notes.txt").read_text(encoding="utf-8") == "à garder"
    (out / "manifest.json").write_text('{"generator": "autre chose"}', encoding="utf-8")
    with pytest.raises(InputFileError, match="does not look like"):
        bg.build(out=out, levels=["region"])


def test_refuses_folders_holding_inputs_or_the_cwd_even_with_force(tmp_path, monkeypatch):
    export = tmp_path / "data" / "v1.csv"
    export.parent.mkdir()
    export.write_text("x", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"holds the input file .*v1\.csv.*another --out"):
        bg.build(export, out=tmp_path / "data", force=True)
    config = tmp_path / "data" / "run.toml"
    config.write_text("levels = ['region']\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"holds the input file .*run\.toml"):
        bg.build(out=tmp_path / "data", config=config, force=True)
    monkeypatch.chdir(tmp_path / "data")
    with pytest.raises(InputFileError, match=r"current directory.*--out maps"):
        bg.build(out=tmp_path, force=True)
    with pytest.raises(InputFileError, match=r"exists and is not a folder\. Choose another"):
        bg.build(out=export)
    assert export.read_text(encoding="utf-8") == "x"


def test_force_replaces_and_structures_problems_exit_1(tmp_path, capsys):
    out = tmp_path / "sortie"
    out.mkdir()
    (out / "notes.txt").write_text("x", encoding="utf-8")
    structures = tmp_path / "structures.json"
    structures.write_text(
        json.dumps([{"nom": "Syndicat Test", "departements": ["01"]},
                    {"nom": "Agence sans territoire", "membres": ["Commune imaginaire"]}]),
        encoding="utf-8",
    )  # fmt: skip
    code = main(["build", "--out", str(out), "--force", "--structures", str(structures),
                 "--indicator", "cyber_pca", "--level", "region", "--quiet"])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 1, text
    assert "À vérifier" in text and "structures-problemes.csv" in text
    assert (out / "notes.txt").read_text(encoding="utf-8") == "x"  # --force keeps other files
    assert (out / "rapports" / "structures-problemes.csv").is_file()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["exit_code"] == 1 and manifest["problems"]
    # a user's input is named relative to the output folder, never by its absolute path
    assert manifest["settings"]["structures"] == "../structures.json"
    assert list(manifest["inputs"]["structures"]) == ["structures.json"]
    assert _machine_paths_in(out, _machine_folders(out)) == []


# ----------------------------------------------------------------- CLI


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--indicator", "cyber_pcaa"], "Valid indicators: profil_type_collectivite"),
        (["--theme", "securite"], "Valid themes: profil, inclusion"),
        (["--level", "canton"], "Valid levels: commune, epci, departement, region"),
        (["--mapping", "m.yaml"], "without export files"),
        (["--responses", "absent.csv"], "absent.csv"),
        (["--config", "absent.toml"], "configuration file not found"),
        (["--mode", "ouvert"], "Valid modes: public, restricted"),
        (["--territories", "nulle-part.gpkg"], "Territorial source 'nulle-part.gpkg' not found"),
        (["--static", "gif"], "Valid formats: png, svg"),
        (["--territoire", "84"], "ambiguous: région Auvergne-Rhône-Alpes (reg-84) or dép"),
        (["--territoire", "Bretgne"], "Unknown territory 'Bretgne'"),
        (["--territoire", "toutes", "--territoire", "reg-84"], "stand alone"),
        (["--base-url", "www.exemple.gouv.fr/cartes"], "e.g. 'https://www.exemple.gouv.fr/"),
    ],
)
def test_usage_errors_exit_2_without_traceback(tmp_path, capsys, args, match, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["--lang", "en", "build", "--out", str(tmp_path / "maps"), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert match in err and "Traceback" not in err
    assert not (tmp_path / "maps").exists()


def test_internal_error_exits_3(tmp_path, capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise ZeroDivisionError("bug")

    # a bug while computing (the package attribute is the function: patch the module)
    monkeypatch.setattr(sys.modules["barometre_geo.indicators.aggregate"], "aggregate", boom)
    code = main(["build", "--out", str(tmp_path / "maps"), "--indicator", "cyber_pca",
                 "--level", "region", "--jobs", "1", "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 3 and "erreur interne : ZeroDivisionError" in err and "--debug" in err
    assert "C’est un bogue" in err
    assert not (tmp_path / "maps").exists()


@pytest.mark.parametrize("name", [name for name, _ in COMMANDS])
def test_every_command_has_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"barometre-geo {name}" in out
    if name == "build":
        assert "exit codes:" in out and "run.toml" in out


def test_public_names():
    import importlib

    module = importlib.import_module("barometre_geo.build.job")
    assert bg.build is module.build and bg.BuildResult is module.BuildResult
    assert callable(bg.build)  # the function, not the submodule of the same name


@pytest.fixture(scope="module")
def full_build(tmp_path_factory, demo_cache):
    """What a newcomer runs: `barometre-geo build` with no argument, in a fresh folder."""
    cwd = tmp_path_factory.mktemp("newcomer")
    env = {**os.environ, "BAROMETRE_GEO_CACHE": str(demo_cache)}
    exe = Path(sys.executable).with_name("barometre-geo")
    cmd = [str(exe)] if exe.is_file() else [sys.executable, "-m", "barometre_geo"]
    proc = subprocess.run([*cmd, "build"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    return proc, cwd / "maps"


@pytest.mark.slow
def test_full_default_build_from_the_command_line(full_build):
    proc, out = full_build
    assert proc.returncode == 0, proc.stderr
    assert "Ouvrez maps/index.html" in proc.stdout and "DONNÉES SYNTHÉTIQUES" in proc.stdout
    assert "\x1b[" not in proc.stderr  # no progress bar when not a terminal
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["indicators"]) == len(bg.load_catalogue())
    files = manifest["files"]
    maps = [f for f in files if f["kind"] == "carte"]
    gpkgs = [f for f in files if f["kind"] == "geopackage"]
    assert len(gpkgs) == len(manifest["indicators"]) + 1  # + couverture.gpkg
    assert {f["level"] for f in maps} == {"commune", "epci", "departement", "region"}
    assert set(_tree(out)) - {"manifest.json"} == {f["path"] for f in files}


@pytest.mark.slow
def test_no_output_of_the_default_build_pairs_a_collectivity_with_an_answer(full_build):
    """Issue 12, item 1: join every published file by row (file, line) and by record.

    The scan fails on the detailed report (``tests/test_report_public.py`` shows it
    finding the commune whose « Oui en partie » to cyber_pra the old
    ``rapports/import.json`` gave away); here it runs on every file of the default build.
    """
    from _answer_links import answer_links, public_structures, truth

    from barometre_geo.coverage.structures import load_demo_structures

    proc, out = full_build
    assert proc.returncode == 0, proc.stderr
    demo = bg.load_demo()
    # the coverage lists each commune's structures from the structures file (public)
    public = public_structures(load_demo_structures(), bg.load_territories())
    files = list(dict.fromkeys(demo.report.rows["file"].astype(str)))
    rows = truth(files, demo.report, public)
    assert len(rows) > 3000
    assert answer_links(out, rows) == []


def test_participation_counts_the_responding_communes(built):
    table = pd.read_csv(
        built.out_dir / "donnees/participation-departements.csv", dtype={"code": str}
    )
    data = bg.load_demo().data
    communes = data.loc[data["level"].astype(object) == "commune", "code"].astype(str)
    assert table["communes_repondantes"].sum() == communes.nunique()
    assert (table["taux"] - table["communes_repondantes"] / table["n_communes"]).abs().max() < 1e-12
    assert len(table) == 101 and table["n_communes"].sum() == 34875


@pytest.mark.parametrize(
    "module",
    [
        "barometre_geo.build.settings",
        pytest.param("barometre_geo.build.job", marks=pytest.mark.slow),
    ],
)
def test_doctests(module, tmp_path, monkeypatch):
    import doctest
    import importlib

    monkeypatch.chdir(tmp_path)
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
def test_ctrl_c_mid_build_exits_130_and_keeps_the_previous_output(built, tmp_path, demo_cache):
    import signal
    import time

    out = tmp_path / "maps"
    shutil.copytree(built.out_dir, out)
    before = _digest(out)
    env = {**os.environ, "BAROMETRE_GEO_CACHE": str(demo_cache)}
    cmd = [sys.executable, "-m", "barometre_geo", "build", "--out", str(out), "--theme", "cyber",
           "--theme", "inclusion", "--theme", "communication", "--jobs", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 300
    while not list(tmp_path.glob(".maps.tmp-*/geopackages/*.gpkg")):  # workers are drawing
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: every process of the group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrompu" in err and "Traceback" not in err
    assert _digest(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".maps.")]
