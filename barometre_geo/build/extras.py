"""Outputs of ``barometre-geo build`` besides the indicator maps.

* :func:`write_participation`: which communes answered (commune map, by the
  number of waves answered) and the participation of communes per
  département (map + CSV);
* :func:`write_coverage`: coverage of the structures (GeoPackage, HTML map with
  one view per structure, prospect lists per structure and for France in CSV
  and XLSX, text and JSON summaries, problems CSV);
* :func:`write_ingest_report`: the public ingest report as text and JSON
  (counts; no line next to an answer, no personal data: the reader drops
  names, e-mails and phones, the report masks free text);
  :func:`write_detailed_report`: the detailed one, only into a private folder
  outside the output (``--rapport-detaille``);
* :func:`sha256_file`, :func:`input_checksums`: checksums of the files read.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._tables import write_csv

__all__ = [
    "check_detailed_folder",
    "input_checksums",
    "sha256_file",
    "write_coverage",
    "write_detailed_report",
    "write_ingest_report",
    "write_participation",
]

PARTICIPATION_THEME = "Participation à l’enquête"
COVERAGE_THEME = "Couverture des structures de mutualisation (OPSN)"


def sha256_file(path: str | os.PathLike) -> str:
    """Return the hex sha256 of a file (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def _record(path: Path, root: Path, kind: str, fmt: str, **extra) -> dict:
    return {
        "path": path.relative_to(root).as_posix(),
        "kind": kind,
        "format": fmt,
        "indicator": None,
        "level": extra.pop("level", None),
        "option": None,
        **extra,
    }


def _map_record(path: Path, root: Path, doc, *, level: str, theme: str, national: str) -> dict:
    return _record(
        path,
        root,
        "carte",
        "html",
        level=level,
        title=doc.title,
        theme=theme,
        national=national,
        empty=bool(doc.empty),
        n_features=int(doc.n_features),
    )


def _synthetic_note(synthetic: bool) -> str:
    return (
        " — DONNÉES SYNTHÉTIQUES de démonstration : pas des résultats de l’enquête."
        if synthetic
        else ""
    )


def write_participation(
    responses, territories, root: Path, *, basemap, assets, style="standard", catalogue=None
) -> list[dict]:
    """Write the map of responding communes and the participation per département."""
    from ..maps import Field, LegendSpec, NumberFormat, categorical_map, choropleth, classify
    from ..maps._captions import source_line
    from ..survey.catalogue import load_catalogue

    data = responses.data
    communes = data[data["level"].astype("object") == "commune"]
    waves = communes.groupby(communes["code"].astype(str))["wave"].nunique()
    com = territories.communes[["code", "nom", "departement", "population", "geometry"]].copy()
    n_waves = com["code"].map(waves).fillna(0).astype(int)
    labels = {1: "A répondu à 1 vague", 2: "A répondu à 2 vagues", 3: "A répondu aux 3 vagues"}
    com["reponse"] = n_waves.map(labels).where(n_waves > 0, None)
    note = _synthetic_note(responses.synthetic)
    n_resp = int((n_waves > 0).sum())
    source = source_line(
        None,
        catalogue or load_catalogue(),
        edition=str(responses.edition),
        synthetic=bool(responses.synthetic),
        responses=int(responses.data["response_id"].nunique()),
        cog=str(getattr(territories, "cog", "") or ""),
        wave=0,
    ).text()
    doc = categorical_map(
        com,
        "reponse",
        title="Communes ayant répondu à l’enquête",
        description=(
            f"{n_resp:,} communes ont répondu à au moins une vague ; édition "
            f"{responses.edition}{note}"
        ).replace(",", "\u202f"),
        categories=[labels[i] for i in (1, 2, 3) if (n_waves == i).any()],
        palette="OkabeIto",
        fields=[
            Field("nom", "Commune", kind="text"),
            Field("code", "Code INSEE", kind="text"),
            Field("reponse", "Réponse", kind="text", main=True),
            Field("population", "Population"),
        ],
        legend=LegendSpec(title="Participation", no_data_label="N’a pas répondu"),
        basemap=basemap,
        assets=assets,
        source=source,
        page_style=style,
        territories=territories,
    )
    records = []
    path = root / "participation.commune.html"
    _write(path, doc.html)
    records.append(
        _map_record(path, root, doc, level="commune", theme=PARTICIPATION_THEME, national="")
    )

    # per département: communes answering / communes; other respondents counted too
    dep = territories.departements[["code", "nom", "n_communes", "geometry"]].copy()
    answered = com.loc[n_waves > 0, "departement"].value_counts()
    latest = data.drop_duplicates("response_id", keep="last")
    collectivities = latest.groupby(latest["departement"].astype("object"))["code"].nunique()
    dep["communes_repondantes"] = dep["code"].map(answered).fillna(0).astype(int)
    dep["collectivites_repondantes"] = dep["code"].map(collectivities).fillna(0).astype(int)
    dep["taux"] = dep["communes_repondantes"] / dep["n_communes"]
    national = n_resp / len(com)
    share = NumberFormat.for_share()
    doc = choropleth(
        dep,
        "taux",
        title="Participation des communes par département",
        description=(
            "Part des communes du département ayant répondu à au moins une vague de l’enquête "
            f"(édition {responses.edition}){note}"
        ),
        classification=classify(dep["taux"].to_numpy(), scheme="fisher_jenks", k=5, fmt=share),
        fmt=share,
        palette="DSFR" if style == "dsfr" else "Greens",
        fields=[
            Field("nom", "Département", kind="text"),
            Field("code", "Code", kind="text"),
            Field("taux", "Communes ayant répondu", kind="number", fmt=share, main=True),
            Field(kind="class", label="Classe"),
            Field("communes_repondantes", "Communes répondantes"),
            Field("n_communes", "Communes"),
            Field("collectivites_repondantes", "Collectivités répondantes (tous types)"),
        ],
        legend=LegendSpec(title="Part des communes ayant répondu à au moins une vague"),
        basemap=basemap,
        assets=assets,
        source=source,
        page_style=style,
        territories=territories,
        national=share.format(national),
        national_value=national,
        notes=[f"Valeur nationale : {share.format(national)} des communes."],
    )
    path = root / "participation.departement.html"
    _write(path, doc.html)
    records.append(
        _map_record(
            path, root, doc, level="departement", theme=PARTICIPATION_THEME, national=doc.national
        )
    )
    table = dep.drop(columns="geometry")[
        ["code", "nom", "n_communes", "communes_repondantes", "taux", "collectivites_repondantes"]
    ]
    path = root / "donnees" / "participation-departements.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, path)
    records.append(_record(path, root, "table", "csv", level="departement"))
    return records


def write_coverage(structures, territories, responses, root: Path, *, basemap, assets):
    """Write the coverage outputs; return ``(records, result)``.

    The agreement with the declared membership needs the profile question: without
    it, it is skipped (:func:`~barometre_geo.build.skips.skipped_analyses` says so).
    """
    from ..coverage.lists import write_lists
    from ..coverage.measure import coverage
    from .skips import declared_column

    result = coverage(
        structures, territories, responses=responses, declared_column=declared_column(responses)
    )
    records = []
    for path in write_lists(result, root):
        kind = "dictionnaire" if path.suffix == ".md" else "liste"
        records.append(_record(path, root, kind, path.suffix.lstrip("."), level="commune"))
    _point_dictionary(root)
    gpkg = root / "geopackages" / "couverture.gpkg"
    gpkg.parent.mkdir(parents=True, exist_ok=True)
    result.to_gpkg(gpkg)
    records.append(_record(gpkg, root, "geopackage", "gpkg", level="commune"))
    doc = result.to_map(basemap=basemap, assets=assets, lists=True)
    path = _write(root / "couverture.html", doc.html)
    fr = result.national()
    records.append(
        _map_record(
            path,
            root,
            doc,
            level="commune",
            theme=COVERAGE_THEME,
            national=f"{100 * fr['share_communes']:.1f}\u202f% des communes".replace(".", ","),
        )
    )
    reports = root / "rapports"
    summary = result.summary()
    path = _write(
        reports / "couverture-resume.json",
        json.dumps(summary, ensure_ascii=False, indent=2, default=_json_default),
    )
    records.append(_record(path, root, "rapport", "json"))
    text = result.to_text()
    problems = result.report.warnings
    if len(problems):
        text += "\n\n" + result.report.to_text()
        path = reports / "structures-problemes.csv"
        write_csv(problems, path)
        records.append(_record(path, root, "rapport", "csv"))
    path = _write(reports / "couverture.txt", text + "\n")
    records.append(_record(path, root, "rapport", "txt"))
    return records, result


def _point_dictionary(root: Path) -> None:
    """Add the coverage to the build's data dictionary (``donnees/dictionnaire.md``)."""
    from ..coverage.lists import DICTIONARY
    from ..coverage.zones import ZONE_ID_SCHEME

    path = root / "donnees" / "dictionnaire.md"
    if not path.is_file():
        return
    with path.open("a", encoding="utf-8") as fh:
        fh.write(
            "\n## Couverture des structures de mutualisation\n\n"
            "Zones non couvertes : communes non couvertes contiguës d'un même département. "
            f"{ZONE_ID_SCHEME} Les listes de prospects (par structure et pour la France), "
            f"leurs colonnes et la carte `couverture.html` : voir `{DICTIONARY}`.\n"
        )


def _json_default(obj):
    if isinstance(obj, np.integer | np.bool_):
        return obj.item()
    if isinstance(obj, np.floating):
        return None if np.isnan(obj) else float(obj)
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)


def write_ingest_report(responses, root: Path, skipped=()) -> list[dict]:
    """Write the public ingest report as ``rapports/import.txt`` and ``rapports/import.json``.

    Counts, and unknown answers and rejected cells per column without their
    lines (:mod:`barometre_geo.survey.publish`): nothing in them links a row
    or a collectivity to an answer. The detailed report is
    :func:`write_detailed_report`'s, outside the published folder.
    ``skipped``: the analyses of the build the exports cannot feed (one French line
    each), added after the report itself.
    """
    from ..survey.publish import public_dict, public_text

    reports = root / "rapports"
    report = responses.report
    body = public_text(report)
    if skipped:
        body += "\n\nAnalyses sautées (questions absentes des exports) :\n" + "\n".join(
            f"  - {line}" for line in skipped
        )
    text = _write(reports / "import.txt", body + "\n")
    data = {**public_dict(report), "skipped_analyses": list(skipped)}
    js = _write(
        reports / "import.json",
        json.dumps(data, ensure_ascii=False, indent=2, default=_json_default),
    )
    return [_record(text, root, "rapport", "txt"), _record(js, root, "rapport", "json")]


#: Names of the detailed (private) ingest report written by ``--rapport-detaille``.
DETAILED_NAMES = ("import-detaille.txt", "import-detaille.json")


def check_detailed_folder(folder, out) -> Path:
    """Check that the folder of the detailed report lies outside the published folder.

    The output folder may lie inside the private one (``--out prive/maps
    --rapport-detaille prive``), never the reverse: everything under the
    output folder is published.

    Raises
    ------
    InputFileError
        The folder is the output folder or inside it, or an existing file.
    """
    from ..errors import InputFileError

    private = Path(os.path.abspath(folder))
    target = Path(os.path.abspath(out))
    if private == target or target in private.parents:
        raise InputFileError(
            f"--rapport-detaille {folder}: ce dossier est dans le dossier publié "
            f"({Path(out).name}). "
            "Le rapport détaillé relie des lignes des exports à des réponses : donnez un "
            "dossier hors du dossier de sortie (par exemple ../rapport-prive)."
        )
    if private.exists() and not private.is_dir():
        raise InputFileError(
            f"--rapport-detaille {folder}: ce chemin existe et n'est pas un dossier. "
            "Donnez un dossier (il est créé s'il n'existe pas)."
        )
    return private


def write_detailed_report(responses, folder: Path) -> list[Path]:
    """Write the detailed (private) ingest report into ``folder`` (outside the output).

    ``import-detaille.txt`` and ``import-detaille.json``: every rejected row,
    unknown answer and rejected cell with its file and line, headed by
    :data:`~barometre_geo.survey.publish.PRIVATE_NOTICE`. Never listed in the
    manifest.
    """
    report = responses.report
    txt = _write(folder / DETAILED_NAMES[0], report.to_text(limit=10**9) + "\n")
    js = _write(
        folder / DETAILED_NAMES[1],
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=_json_default),
    )
    return [txt, js]


def input_checksums(settings, territories, responses, catalogue, mapping_path) -> dict:
    """sha256 of every input: reference, catalogue, mappings, exports, structures file.

    Files are named without the building machine's folders: the package's own
    files by their path in the package (``barometre_geo/data/catalogue.yaml``),
    the user's by their name (or the shortest path telling homonyms apart).
    """
    from .._paths import boundaries_dir, package_data
    from ..survey.report import file_names

    def named(paths, names=None):
        paths = [Path(p) for p in paths]
        names = names or file_names(str(p) for p in paths)
        return {names[str(p)]: sha256_file(p) for p in paths}

    def packaged(paths):
        root = Path(package_data("catalogue.yaml")).parents[1]
        out = {}
        for p in paths:
            p = Path(p)
            try:
                out[(Path(root.name) / p.relative_to(root)).as_posix()] = sha256_file(p)
            except ValueError:  # not inside the package (an editable checkout's boundaries/)
                out[(Path(p.parent.name) / p.name).as_posix()] = sha256_file(p)
        return out

    if settings.territories == "embedded":
        folder = boundaries_dir(territories.cog)
        reference = packaged(sorted(p for p in folder.iterdir() if p.is_file()))
    elif Path(settings.territories).exists():
        src = Path(settings.territories)
        reference = named(
            sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
        )
    else:  # a downloaded edition: its record carries the hashes
        reference = {settings.territories: territories.provenance.get("download")}
    exports = sorted({str(f) for f in responses.report.rows["file"].astype(str).unique()})
    mapping = packaged([package_data("mapping.yaml")])
    if mapping_path:
        mapping.update(named([mapping_path]))
    structures = (
        named([settings.structures])
        if settings.structures
        else packaged([package_data("structures-illustratives.json")])
    )
    return {
        "reference": reference,
        "catalogue": packaged([catalogue.path]),
        "mapping": mapping,
        "exports": named(exports, responses.report.file_names()) if exports else {},
        "structures": structures,
    }
