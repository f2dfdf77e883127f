"""Public ingest report: counts only, never a row or a collectivity next to an answer.

Issue 12, item 1: ``maps/rapports/import.json`` used to map file and line to the
collectivity (``rows``) and to raw answers (``unknown_values``, ``cells``):
joined, they gave a commune's « Oui en partie » to ``cyber_pra``. The public
report has no line; the detailed one says it is private and goes to a folder
outside the output only when asked.
"""

from __future__ import annotations

import json
import re

import pytest
from _answer_links import answer_links, truth

import barometre_geo as bg
from barometre_geo.build.extras import (
    check_detailed_folder,
    write_detailed_report,
    write_ingest_report,
)
from barometre_geo.cli import main
from barometre_geo.errors import InputFileError
from barometre_geo.survey.publish import PRIVATE_NOTICE, PUBLIC_NOTICE, public_dict, public_text


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def demo(cache):
    return bg.load_demo(cache_dir=cache)


@pytest.fixture(scope="module")
def rows(demo):
    paths = list(dict.fromkeys(demo.report.rows["file"].astype(str)))
    return truth(paths, demo.report)


def _keys(node, found=None):
    found = set() if found is None else found
    if isinstance(node, dict):
        found |= set(node)
        for v in node.values():
            _keys(v, found)
    elif isinstance(node, list):
        for v in node:
            _keys(v, found)
    return found


def test_public_report_names_no_row(demo):
    data = public_dict(demo.report)
    assert data["public"] is True and data["notice"] == PUBLIC_NOTICE
    assert not _keys(data) & {"line", "lines", "response_id", "collectivity", "code", "candidates"}
    assert not isinstance(data.get("rows"), list)  # no row-level section
    # unknown answers are still reported, by column, with counts
    (pra,) = [u for u in data["unknown_values"] if u["indicator"] == "cyber_pra"]
    assert pra["count"] == 1 and pra["examples"] == []  # sensitive: no example value
    (elu,) = [u for u in data["unknown_values"] if u["indicator"] == "strategie_elu_numerique"]
    assert elu["examples"] == ["Peut-être"]
    text = public_text(demo.report)
    assert not re.search(r"\blignes? \d", text)
    assert "« Peut-être »" in text and "Oui en partie" not in text
    assert sum(c["count"] for c in data["cells"]) == len(demo.report.cells)


def test_detailed_report_says_it_is_private(demo):
    assert demo.report.to_text().splitlines()[0] == PRIVATE_NOTICE
    data = demo.report.to_dict()
    assert data["private"] is True and data["notice"] == PRIVATE_NOTICE
    assert data["rows"] and data["unknown_values"][0]["lines"]


def test_scan_finds_the_join_of_the_detailed_report_and_not_of_the_public_one(demo, rows, tmp_path):
    """The rule switched off (the detailed report published) is caught by the scan."""
    assert len(rows) == 3390 + 14  # every accepted or superseded input row
    public = tmp_path / "public"
    write_ingest_report(demo, public)
    assert answer_links(public, rows) == []
    leaked = tmp_path / "leaked"
    (leaked / "rapports").mkdir(parents=True)
    write_detailed_report(demo, leaked / "rapports")
    found = answer_links(leaked, rows)
    assert any("vague-1.csv line 1009" in f and "Oui en partie" in f for f in found), found
    # the two routes: the JSON's sections joined by line, and the text's lines
    assert {f.split(":")[0] for f in found} >= {"demo-synthetique-vague-1.csv line 1009"}


def test_detailed_folder_must_lie_outside_the_output(tmp_path):
    out = tmp_path / "maps"
    for inside in (out, out / "prive", out / "a" / "b"):
        with pytest.raises(InputFileError, match="hors du dossier de sortie"):
            check_detailed_folder(inside, out)
    (tmp_path / "fichier").write_text("x")
    with pytest.raises(InputFileError, match="n'est pas un dossier"):
        check_detailed_folder(tmp_path / "fichier", out)
    assert check_detailed_folder(tmp_path / "prive", out) == tmp_path / "prive"
    assert check_detailed_folder(tmp_path, out) == tmp_path  # the output inside it: fine


@pytest.mark.slow
def test_build_writes_the_detailed_report_only_where_asked(
    demo, cache, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("BAROMETRE_GEO_CACHE", str(cache))  # the demo files, written once
    monkeypatch.chdir(tmp_path)
    code = main(["build", "--indicator", "cyber_pca", "--level", "region", "--jobs", "1",
                 "--quiet", "--out", "cartes", "--rapport-detaille", "prive"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "Rapport détaillé (PRIVÉ" in out
    private = sorted(p.name for p in (tmp_path / "prive").iterdir())
    assert private == ["import-detaille.json", "import-detaille.txt"]
    assert (
        (tmp_path / "prive" / "import-detaille.txt")
        .read_text(encoding="utf-8")
        .startswith(PRIVATE_NOTICE)
    )
    published = {p.name for p in (tmp_path / "cartes").rglob("*")}
    assert not published & set(private)
    manifest = (tmp_path / "cartes" / "manifest.json").read_text(encoding="utf-8")
    assert "detaille" not in manifest and "prive" not in manifest
    report = json.loads((tmp_path / "cartes" / "rapports" / "import.json").read_text("utf-8"))
    assert report["public"] is True and "rows" not in report
    # inside the output: refused before anything is written
    code = main(["build", "--indicator", "cyber_pca", "--level", "region", "--jobs", "1",
                 "--quiet", "--out", "autres", "--rapport-detaille", "autres/prive"])  # fmt: skip
    assert code == 2 and not (tmp_path / "autres").exists()
    assert "hors du dossier de sortie" in capsys.readouterr().err


def test_validate_prints_the_private_report_and_public_on_demand(demo, capsys):
    (first,) = [f for f in dict.fromkeys(demo.report.rows["file"].astype(str)) if "vague-1" in f]
    assert main(["validate", first]) == 0
    out = capsys.readouterr().out
    assert out.startswith(PRIVATE_NOTICE) and "(lignes 1009)" in out
    assert main(["validate", "--public", first]) == 0
    out = capsys.readouterr().out
    assert PUBLIC_NOTICE in out and "1009" not in out and PRIVATE_NOTICE not in out
