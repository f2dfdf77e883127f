"""`barometre-geo build` takes any real export: what it lacks is skipped, said, never fatal.

Issue 14, item 5. The export is written here as a survey platform gives it
(LimeSurvey-like headers, one question of the catalogue, a code column mixing INSEE
and postal codes, a personal column, a free comment).
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest

import barometre_geo as bg
from barometre_geo.build.settings import _SPEC
from barometre_geo.cli import main


@pytest.fixture(scope="module")
def one_question_export(tmp_path_factory, territories):
    folder = tmp_path_factory.mktemp("export")
    com = territories.communes
    rng = np.random.default_rng(3)
    picked = com[com["region"].isin(["84", "75"])].sample(120, random_state=3)
    postal = territories.identifiers.query("kind == 'code_postal'").drop_duplicates("code")
    cp = postal.set_index("code")["key"]
    codes = [cp.get(c, c) if i % 3 == 0 else c for i, c in enumerate(picked["code"])]
    rows = pd.DataFrame(
        {
            "ID de la réponse": range(1, len(picked) + 1),
            "Date de soumission": "2024-01-15 10:00:00",
            "Collectivité": "Mairie de " + picked["nom"].to_numpy(),
            "Code": codes,  # INSEE codes, one in three a postal code
            "PCA ?": rng.choice(["Oui", "Non", "Ne sait pas"], len(picked)),
            "Adresse e-mail du répondant": "secretariat@mairie.example",
            "Commentaire libre": "",
        }
    )
    path = folder / "export-limesurvey.csv"
    rows.to_csv(path, sep=";", index=False, encoding="utf-8")
    mapping = folder / "m.yaml"
    mapping.write_text(
        'mapping_version: 1\nwave: 1\ncolumns:\n  cyber_pca: "PCA ?"\n'
        "  nom: Collectivité\nignore: [Commentaire libre]\n",
        encoding="utf-8",
    )
    return path, mapping


@pytest.mark.slow
def test_an_export_with_one_question_builds(one_question_export, tmp_path, capsys):
    export, mapping = one_question_export
    out = tmp_path / "cartes"
    code = main(
        ["build", "--responses", str(export), "--mapping", str(mapping), "--out", str(out),
         "--level", "region", "--jobs", "1"]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text
    assert (out / "cyber_pca.region.html").is_file() and (
        out / "geopackages/cyber_pca.gpkg"
    ).is_file()
    skipped = [line for line in text.splitlines() if line.startswith("Sauté : ")]
    assert skipped[0].startswith(
        "Sauté : accord entre la couverture des structures et l’adhésion déclarée — les "
        "exports n’ont pas la question « Adhésion à une structure de mutualisation »"
    )
    assert "indicateurs sélectionnés — questions absentes des exports" in skipped[1]
    report = (out / "rapports" / "import.txt").read_text(encoding="utf-8")
    assert "Analyses sautées (questions absentes des exports) :" in report
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["exit_code"] == 0 and len(manifest["skipped_analyses"]) == 2
    assert "cyber_pca" in manifest["indicators"] and len(manifest["indicators_absent"]) > 60
    # the rows whose code was a postal code are identified by the name beside it
    ingest = json.loads((out / "rapports" / "import.json").read_text(encoding="utf-8"))
    assert ingest["summary"]["accepted"] == 120
    assert ingest["skipped_analyses"] == manifest["skipped_analyses"]


@pytest.mark.slow
def test_the_agreement_table_is_skipped_not_fatal(territories):
    """coverage(): without the profile question, the build passes declared_column=None."""
    from barometre_geo.build.skips import declared_column, skipped_analyses
    from barometre_geo.testing import random_responses

    r = random_responses(200, seed=1, indicators=["cyber_pca"])
    assert declared_column(r) is None
    lines = skipped_analyses(r, r.catalogue, ["inclusion_cnfs"])
    assert len(lines) == 2 and "profil_mutualisation" in lines[0] and "1 indicateur" in lines[1]
    full = random_responses(200, seed=1, indicators=["cyber_pca", "profil_mutualisation"])
    assert declared_column(full) == "profil_mutualisation"
    assert skipped_analyses(full, full.catalogue, []) == []
    with pytest.raises(bg.errors.SchemaError, match="declared_column=None to skip"):
        bg.coverage(bg.load_demo_structures(territories), territories, responses=r)


def test_every_build_option_has_a_command_line_flag_and_a_run_toml_key(capsys):
    """Every keyword of build() that changes what it does can be set from the command line
    and from run.toml (config and progress are how it runs, not what it builds)."""
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    help_text = capsys.readouterr().out
    options = [p for p in inspect.signature(bg.build).parameters if p not in ("config", "progress")]
    flags = {"indicators": "--indicator", "themes": "--theme", "levels": "--level",
             "weights": "--no-weights", "territoires": "--territoire",
             "detailed_report": "--rapport-detaille"}  # fmt: skip
    # the private report's folder is a command-line choice only: run.toml is replayed from
    # the published parametres.toml, which must never name a private folder
    not_in_toml = {"detailed_report"}
    for name in options:
        flag = flags.get(name, "--" + name.replace("_", "-"))
        assert flag in help_text, name
        assert (name in _SPEC) != (name in not_in_toml), name
