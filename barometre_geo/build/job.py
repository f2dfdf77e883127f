"""The main job: every map, GeoPackage, table and report of an edition, in one folder.

:func:`build` reads the territorial reference, the survey exports (default:
the synthetic demo edition, through the real reader), the structures file
(default: the illustrative one shipped with the package), computes every
indicator with small-count protection and writes, into ``maps/``:

* ``index.html``: every map by theme, with its national figure and the
  ``<iframe>`` snippet to embed it;
* per indicator, one HTML page per level (``<indicator>.<level>[.<option>].html``)
  and one GeoPackage (``geopackages/<indicator>.gpkg``), plus static maps
  (``statiques/``) when asked;
* participation (``participation.commune.html``, ``participation.departement.html``),
  coverage (``couverture.html``, ``geopackages/couverture.gpkg``, ``rapports/couverture*``);
* ``donnees/``: the results table (CSV, Parquet, data dictionary, metadata);
* ``rapports/import.txt`` / ``.json``: the ingest report;
* ``LISEZMOI.txt`` (the summary), ``parametres.toml`` (replays the run) and
  ``manifest.json`` (every file with its size and sha256, the settings, the
  versions and the checksums of the inputs).

Everything is written into a staging folder next to the target, then swapped
in (see :mod:`barometre_geo.build.swap`).
"""

from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .settings import BuildSettings, resolve_settings
from .text import Steps, index_description, readme

__all__ = ["BuildResult", "OutputFile", "build"]


@dataclass(frozen=True)
class OutputFile:
    """One file written by :func:`build` (an entry of ``manifest.json``).

    ``empty`` marks a map page that says there is nothing publishable at its level.
    """

    path: str
    kind: str
    format: str
    size: int
    sha256: str
    indicator: str | None = None
    level: str | None = None
    option: str | None = None
    empty: bool = False


@dataclass(frozen=True, repr=False)
class BuildResult:
    """What :func:`build` produced.

    Attributes
    ----------
    out_dir : pathlib.Path
        The output folder (``index.html`` and ``manifest.json`` inside).
    files : tuple of OutputFile
        Every file written, ``manifest.json`` excepted.
    settings : BuildSettings
        The effective settings (also in ``parametres.toml``).
    synthetic : bool
        The figures come from the synthetic demo edition.
    edition : str
    indicators : tuple of str
        Indicators computed and mapped.
    absent : tuple of str
        Selected indicators that the exports do not contain.
    ingest : dict
        Counts of the ingest report (``IngestReport.summary()``).
    rejected : dict
        Rejected input rows per reason (French label → count).
    coverage : dict
        National coverage figures (``CoverageResult.national()``).
    problems : tuple of str
        What needs looking at (French); not empty ⇒ :attr:`exit_code` 1.
    warnings : tuple of str
        Warnings raised while reading and computing (also in the manifest).
    elapsed : float
        Seconds.
    masked : int
        Cells hidden by the statistical secrecy.
    not_published : int
        Levels (or options at a level) of the indicators with nothing publishable:
        no page, listed « non publié à ce niveau » in the index.
    kept : tuple of str
        Files of the output folder that were not the previous build's (the
        user's): kept through the rebuild.
    replaced : tuple of str
        Files of the user's replaced by a file of the build (``force`` only).
    cleaned : tuple of str
        What was tidied before the work (stale staging folders; French).
    skipped : tuple of str
        Analyses the exports cannot feed (a question they lack), skipped: one French
        line each, also in the ingest report and the manifest.
    """

    out_dir: Path
    files: tuple[OutputFile, ...]
    settings: BuildSettings
    synthetic: bool
    edition: str
    indicators: tuple[str, ...]
    absent: tuple[str, ...] = ()
    ingest: dict = field(default_factory=dict)
    rejected: dict = field(default_factory=dict)
    coverage: dict = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    elapsed: float = 0.0
    masked: int = 0
    not_published: int = 0
    kept: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    cleaned: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    @property
    def manifest(self) -> Path:
        """Path of ``manifest.json``."""
        return self.out_dir / "manifest.json"

    @property
    def index(self) -> Path:
        """Path of ``index.html``."""
        return self.out_dir / "index.html"

    @property
    def exit_code(self) -> int:
        """0 when nothing needs looking at, 1 when :attr:`problems` is not empty."""
        return 1 if self.problems else 0

    def _count(self, kind: str, fmt: str | None = None) -> int:
        return sum(f.kind == kind and (fmt is None or f.format == fmt) for f in self.files)

    def summary(self) -> str:
        """Short French summary: what was produced, what was rejected and why, where to look."""
        from .text import summary

        return summary(self)

    def __repr__(self) -> str:
        return (
            f"<BuildResult {self.out_dir}: {len(self.indicators)} indicators, "
            f"{self._count('carte')} HTML maps, {self._count('geopackage')} GeoPackages, "
            f"{len(self.problems)} problem(s){', SYNTHETIC' if self.synthetic else ''}>"
        )


def _select(settings: BuildSettings, catalogue, present: list[str]):
    """Return the indicators to map (catalogue order) and the selected ones not in the exports."""
    if settings.indicators or settings.themes:
        chosen = {i for i in settings.indicators} | {
            ind.id for ind in catalogue if ind.theme in settings.themes
        }
    else:
        chosen = {ind.id for ind in catalogue}
    selected = [ind.id for ind in catalogue if ind.id in chosen]
    have = set(present)
    return [i for i in selected if i in have], [i for i in selected if i not in have]


def build(
    responses=None,
    *,
    mapping=None,
    structures=None,
    territories: str | None = None,
    out=None,
    indicators=None,
    themes=None,
    levels=None,
    k: int | None = None,
    k_sensitive: int | None = None,
    mode: str | None = None,
    assets: str | None = None,
    inline: bool | None = None,
    weights: bool | None = None,
    estimates: str | None = None,
    static: str | None = None,
    basemap: str | None = None,
    style: str | None = None,
    base_url: str | None = None,
    jobs: int | None = None,
    force: bool | None = None,
    territoires=None,
    config=None,
    progress: bool = False,
    detailed_report=None,
) -> BuildResult:
    """Build every map, GeoPackage, table and report into one folder (default ``maps/``).

    Every argument left to ``None`` comes from ``config`` (a ``run.toml``),
    else from the defaults: with no argument at all the build runs offline on
    the embedded COG 2025 reference, the synthetic demo edition and the
    illustrative structures file.

    Parameters
    ----------
    responses : path-like or list of path-like, optional
        Survey exports (one per wave); default the synthetic demo edition.
    mapping : path-like, optional
        Mapping file of the exports (see docs/contracts/survey.md, "Mapping files").
    structures : path-like, optional
        Structures file (OPSN); default the illustrative file of the package.
    territories : str, default ``"embedded"``
        Territorial source, as :func:`barometre_geo.load_territories`.
    out : path-like, default ``"maps"``
        Output folder, replaced atomically. An existing folder must be a
        previous build (``manifest.json``) or empty, unless ``force``.
    indicators, themes : list of str, optional
        Map these indicators and every indicator of these themes (union);
        default all.
    levels : list of str, default all four
        Among ``commune``, ``epci``, ``departement``, ``region`` (intersected
        with each indicator's published levels).
    k, k_sensitive : int, default 5 and max(10, k)
        Small-count thresholds.
    mode : {"public", "restricted"}, default ``"public"``
    assets : {"local", "inline", "cdn"}, default ``"local"``
        Where the pages find Leaflet. ``local``: one copy in the folder's
        ``assets/`` (the folder works offline and wherever it is published,
        under a strict CSP); ``inline``: in every page (~150 kB more per page;
        each page works alone, e.g. sent by e-mail); ``cdn``: jsDelivr (SRI).
    inline : bool, optional
        ``True`` is ``assets="inline"``.
    weights : bool, default True
        Calibration-weighted figures next to the unweighted ones in the table
        and GeoPackages (the maps always show the unweighted figure).
    estimates : {"model", "direct"}, default ``"model"``
        ``model``: model-based small-area estimates next to the direct figures
        (tables, GeoPackages), drawn by the département and EPCI maps with their
        uncertainty and a "compared with France" view; ``direct``: direct only.
    static : {"png", "svg"}, optional
        Also draw static maps (``statiques/``), without basemap.
    basemap : str, default ``"plan_ign"``
        Background of the HTML maps (``none`` for no tiles at all).
    style : {"standard", "dsfr"}, default ``"standard"``
        ``dsfr``: the DSFR's colour tokens, typography and sequential palette.
    base_url : str, optional
        Public address of the folder once published, for absolute iframe
        snippets in the index (without it they are relative, and each
        published page shows its own code, built from its address).
    jobs : int, default 2
        Worker processes for the per-indicator outputs (Linux; else 1).
    force : bool, default False
        Replace an output folder that is not a previous build.
    territoires : list of str, default ``["toutes"]``
        A page per territory: every région and département (``"toutes"``), none
        (``"aucune"``) or these (``"reg-84"``, ``"dep-69"``, ``"971"``, a name).
    config : path-like, optional
        ``run.toml`` holding any of the settings above (unknown keys refused).
    progress : bool, default False
        Show progress bars on a terminal.
    detailed_report : path-like, optional
        Private folder, outside ``out``, where the detailed ingest report
        (``import-detaille.txt`` / ``.json``: rejected rows, unknown answers
        and rejected cells with their lines) is written. It links lines of
        the exports to answers: never publish it. Not a setting of
        ``run.toml`` (a path of the machine would end in ``parametres.toml``);
        ``rapports/`` of the output holds the public report, counts only.

    Returns
    -------
    BuildResult

    Raises
    ------
    InputFileError, SchemaError, UnknownValueError
        Unusable inputs or settings (nothing is written or replaced).

    Examples
    --------
    >>> import barometre_geo as bg, tempfile
    >>> r = bg.build(out=tempfile.mkdtemp() + "/cartes", indicators=["cyber_pca"],
    ...              levels=["region"], jobs=1)
    >>> r.synthetic, r.exit_code, (r.out_dir / "index.html").is_file()
    (True, 0, True)
    """
    start = time.perf_counter()
    if responses is not None and isinstance(responses, str | os.PathLike):
        responses = [responses]
    settings = resolve_settings(
        config,
        responses=responses,
        mapping=mapping,
        structures=structures,
        territories=territories,
        out=out,
        indicators=indicators,
        themes=themes,
        levels=levels,
        k=k,
        k_sensitive=k_sensitive,
        mode=mode,
        assets=assets,
        inline=inline,
        weights=weights,
        estimates=estimates,
        static=static,
        basemap=basemap,
        style=style,
        base_url=base_url,
        jobs=jobs,
        force=force,
        territoires=territoires,
    )
    from ..errors import message
    from .indicator import fast_gpkg_writes
    from .swap import check_target, discard, staging_folder, swap_in

    inputs = [*settings.responses, settings.mapping, settings.structures]
    target = check_target(settings.out, force=settings.force, inputs=inputs, config=config)
    private = None
    if detailed_report is not None:
        from .extras import check_detailed_folder

        private = check_detailed_folder(detailed_report, target.path)
    steps = Steps(progress)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        state = _compute(settings, steps)
    state["warnings"] = list(dict.fromkeys(_portable_text(message(w.message)) for w in caught))
    staging = staging_folder(target)
    try:
        with fast_gpkg_writes():
            result = _write_all(settings, state, staging.path, target.path, steps, start)
        steps.step("Remplacement du dossier de sortie")
        swapped = swap_in(staging, target)
    except BaseException:
        discard(staging)
        raise
    if private is not None:
        from .extras import write_detailed_report

        write_detailed_report(state["responses"], private)
    from dataclasses import replace

    return replace(result, kept=swapped.kept, replaced=swapped.replaced, cleaned=target.cleaned)


_ABSOLUTE = None


def _portable_text(text: str) -> str:
    r"""Return a message with the absolute folders of this machine cut off (names kept).

    Examples
    --------
    >>> _portable_text("/home/ana/data/structures.json, record 3: see https://a.fr/b/c")
    'structures.json, record 3: see https://a.fr/b/c'
    """
    import re

    global _ABSOLUTE
    if _ABSOLUTE is None:
        _ABSOLUTE = re.compile(r"(?<![\w.:/~-])/(?:[^\s/:;,'\"«»()]+/)+([^\s/:;,'\"«»()]+)")
    return _ABSOLUTE.sub(r"\1", text)


def _compute(settings: BuildSettings, steps: Steps) -> dict:
    """Read the inputs and compute the aggregates (nothing written yet)."""
    from ..errors import InputFileError
    from ..indicators.aggregate import aggregate
    from ..survey.catalogue import load_catalogue
    from ..territories.load import load_territories

    steps.step("Référentiel territorial")
    t = load_territories(source=settings.territories)
    from .territory import resolve_places

    places = resolve_places(settings, t)  # an unknown territory stops here: nothing written
    catalogue = load_catalogue()
    steps.step("Lecture des réponses" + (" (démo synthétique)" if settings.demo else ""))
    if settings.demo:
        from ..demo.edition import load_demo

        responses = load_demo(territories=None if settings.territories == "embedded" else t)
    else:
        from ..survey.responses import read_responses

        responses = read_responses(
            list(settings.responses), mapping=settings.mapping, territories=t
        )
    if not len(responses.data):
        s = responses.report.summary()
        why = "; ".join(f"{r.label}: {r.rows}" for r in responses.report.by_reason().itertuples())
        why_fr = " ; ".join(
            f"{r.label} : {r.rows}" for r in responses.report.by_reason().itertuples()
        )
        raise InputFileError(
            f"No response accepted in the exports: {s['rows']} row(s) read, all rejected "
            f"({why or 'none'}). Nothing was written. `barometre-geo validate FILE…` lists "
            "each row and why it was rejected.",
            fr=f"Aucune réponse acceptée dans les exports : {s['rows']} ligne(s) lue(s), toutes "
            f"rejetées ({why_fr or 'aucune'}). Rien n’a été écrit. `barometre-geo validate "
            "FICHIER…` donne chaque ligne et la raison de son rejet.",
        )
    selected, absent = _select(settings, catalogue, responses.indicators())
    if not selected:
        listed = f"{', '.join(absent[:10])}{' …' if len(absent) > 10 else ''}"
        raise InputFileError(
            f"None of the selected indicators is in the exports ({listed}). Check the "
            "--indicator/--theme filters, or the mapping file if the exports name the "
            "questions differently (`barometre-geo validate FILE` lists the columns read).",
            fr=f"Aucun des indicateurs choisis n’est dans les exports ({listed}). Vérifiez les "
            "filtres --indicator/--theme, ou le fichier de correspondance si les exports "
            "nomment les questions autrement (`barometre-geo validate FICHIER` liste les "
            "colonnes lues).",
        )
    steps.step("Structures de mutualisation")
    if settings.structures:
        from ..coverage.structures import read_structures

        structures = read_structures(settings.structures, territories=t)
    else:
        from ..coverage.structures import load_demo_structures

        structures = load_demo_structures(t)
    steps.step(f"Calcul de {len(selected)} indicateurs")
    table = aggregate(
        responses,
        level=[*settings.levels, "france"],
        indicators=selected,
        territories=t,
        k=settings.k,
        k_sensitive=settings.k_sensitive,
        mode=settings.mode,
        weights="calibration" if settings.weights else None,
        estimates=settings.estimates,
        covered=structures.members["commune"] if settings.estimates == "model" else None,
    )
    from .skips import skipped_analyses

    return {
        "territories": t,
        "catalogue": catalogue,
        "responses": responses,
        "selected": selected,
        "absent": absent,
        "skipped": skipped_analyses(responses, catalogue, absent),
        "table": table,
        "structures": structures,
        "places": places,
    }


def _write_all(settings, state, root: Path, target: Path, steps: Steps, start: float):
    from .._show_versions import show_versions
    from .._version import __version__
    from ..errors import message
    from ..maps import write_index
    from ..maps._index import TerritoryLink
    from . import extras as extra
    from .index import index_records
    from .indicator import _Job, render_all
    from .swap import GENERATOR

    t, catalogue, responses = state["territories"], state["catalogue"], state["responses"]
    table = state["table"]
    assets = settings.assets
    records: list[dict] = []

    meta = table.attrs.get("barometre_geo", {})
    small = {
        "barometre_geo": {k: meta[k] for k in ("k", "k_sensitive", "mode", "weights") if k in meta}
    }

    def rows_of(indicator: str):
        rows = table[table["indicator"] == indicator]
        rows.attrs = small  # the full attrs would be deep-copied by every pandas operation
        return rows

    job = _Job(
        tables={i: rows_of(i) for i in state["selected"]},
        territories=t,
        catalogue=catalogue,
        levels=settings.levels,
        out=root,
        synthetic=bool(responses.synthetic),
        edition=str(responses.edition),
        k=settings.k,
        k_sensitive=settings.k_sensitive,
        basemap=settings.basemap,
        assets=assets,
        static=settings.static,
        mode=settings.mode,
        style=settings.style,
    )
    (root / "geopackages").mkdir(exist_ok=True)
    if assets == "local":  # one copy of Leaflet for every page of the folder
        from ..maps._assets import write_leaflet

        for path in write_leaflet(root):
            records.append(extra._record(path, root, "asset", path.suffix.lstrip(".")))
    from ..maps._embed import EMBED_SCRIPT, write_embed_script

    path = write_embed_script(root)  # the host pages' script (iframe height), CSP-safe
    records.append(extra._record(path, root, "asset", "js"))
    if settings.static:
        (root / "statiques").mkdir(exist_ok=True)

    def meanwhile():  # in this process, while the workers draw the indicators
        out = extra.write_participation(
            responses, t, root, basemap=settings.basemap, assets=assets, style=settings.style,
            catalogue=catalogue,
        )  # fmt: skip
        paths = _tables(table, responses, catalogue, root / "donnees")
        out += [extra._record(Path(p), root, "table", Path(p).suffix.lstrip(".")) for p in paths]
        out += extra.write_ingest_report(responses, root, state["skipped"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cov_records, cov = extra.write_coverage(
                state["structures"], t, responses, root, basemap=settings.basemap, assets=assets
            )
        return out + cov_records, cov, [_portable_text(message(w.message)) for w in caught]

    steps.step("Cartes et GeoPackages par indicateur ; participation, tableaux, couverture")
    with steps.bar(len(state["selected"]), "Cartes et GeoPackages") as bar:
        ind_records, ind_index, ind_warnings, (other, cov, cov_warnings) = render_all(
            job,
            state["selected"],
            jobs=settings.jobs,
            on_done=lambda _: bar.update(1),
            meanwhile=meanwhile,
        )
    records += other + ind_records
    for w in cov_warnings + ind_warnings:
        if w not in state["warnings"]:
            state["warnings"].append(w)

    synthetic = bool(responses.synthetic)
    places = state["places"]
    steps.step(f"Pages par territoire ({len(places)})")
    with steps.bar(len(places), "Pages par territoire") as bar:
        terr_records = _territory_pages(
            settings, state, job, ind_records, root, lambda _: bar.update(1)
        )
    records += terr_records

    steps.step("Index, manifeste")
    write_index(
        index_records(records, ind_index, catalogue),
        root,
        territories=[
            TerritoryLink(r["path"], r["title"], r["code"], r["level"], r["region"])
            for r in terr_records
        ],
        title="Cartes du Baromètre Collectivités & Numérique"
        + (" — DÉMO SYNTHÉTIQUE" if synthetic else ""),
        description=index_description(settings, responses, synthetic),
        base_url=settings.base_url,
        embed_script=EMBED_SCRIPT,
    )
    records.append({"path": "index.html", "kind": "index", "format": "html"})
    (root / "parametres.toml").write_text(settings.to_toml(target), encoding="utf-8")
    records.append({"path": "parametres.toml", "kind": "parametres", "format": "toml"})

    report = responses.report
    rejected = report.by_reason()
    problems = []
    asked = [i for i in state["absent"] if i in settings.indicators]
    if asked:
        problems.append(
            "indicateur(s) demandé(s) absent(s) des exports : "
            + ", ".join(asked)
            + " (vérifiez le fichier de correspondance)."
        )
    if len(cov.report.warnings):
        problems.append(
            f"{len(cov.report.warnings)} problème(s) dans le fichier des structures "
            "(membres inconnus, structures sans territoire, colonnes mal nommées, lignes ou "
            "géométries endommagées) : voir rapports/structures-problemes.csv."
        )
    masked = int(table["suppressed"].sum())
    result = BuildResult(
        out_dir=target,
        files=tuple(_output_file(root, r) for r in records),
        settings=settings,
        synthetic=synthetic,
        edition=str(responses.edition),
        indicators=tuple(state["selected"]),
        absent=tuple(state["absent"]),
        ingest=dict(report.summary()),
        rejected={str(row["label"]): int(row["rows"]) for _, row in rejected.iterrows()},
        coverage=cov.national(),
        problems=tuple(problems),
        warnings=tuple(state["warnings"]),
        elapsed=time.perf_counter() - start,
        masked=masked,
        not_published=sum(not e["file"] for e in ind_index),
        skipped=tuple(state["skipped"]),
    )
    (root / "LISEZMOI.txt").write_text(readme(result), encoding="utf-8")
    lis = _output_file(root, {"path": "LISEZMOI.txt", "kind": "lisezmoi", "format": "txt"})
    result = _replace_files(result, (*result.files, lis))
    steps.step(None)
    manifest = {
        "generator": GENERATOR,
        "barometre_geo_version": __version__,
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "elapsed_s": round(result.elapsed, 2),
        "timings_s": steps.timings,
        "synthetic": synthetic,
        "edition": result.edition,
        "settings": settings.portable(target)[0],
        "replay": f"barometre-geo build --config {target.name}/parametres.toml",
        "versions": _portable_versions(show_versions(as_dict=True)),
        "inputs": extra.input_checksums(settings, t, responses, catalogue, settings.mapping),
        "aggregates": {
            k: meta.get(k) for k in ("k", "k_sensitive", "mode", "weights", "suppressed_cells")
        },
        "indicators": list(result.indicators),
        "indicators_absent": list(result.absent),
        "ingest": result.ingest,
        "rejected": result.rejected,
        "problems": list(result.problems),
        "warnings": list(result.warnings),
        "skipped_analyses": list(result.skipped),
        "exit_code": result.exit_code,
        "files": [f.__dict__ for f in result.files],
    }
    (root / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, default=extra._json_default),
        encoding="utf-8",
    )
    return result


def _territory_pages(settings, state, job, ind_records, root: Path, on_done) -> list[dict]:
    """Write the territory pages (in ``settings.jobs`` processes); return their records."""
    from ..maps._style import style_palette
    from ..maps._territory import cell_index
    from .territory import TerritoryJob, render_territories

    if not state["places"]:
        return []
    responses, t = state["responses"], state["territories"]
    levels = [lv for lv in settings.levels if lv != "commune" or settings.mode == "restricted"]
    source = (
        f"Source : {state['catalogue'].edition.name}, édition {responses.edition} ; "
        f"référentiel COG {t.cog} (INSEE, IGN, Licence Ouverte 2.0) ; traitements barometre-geo."
    )
    tjob = TerritoryJob(
        tables=job.tables,
        cells=cell_index(state["table"], levels=levels),
        territories=t,
        catalogue=state["catalogue"],
        levels=tuple(levels),
        out=root,
        synthetic=bool(responses.synthetic),
        source=source,
        k=settings.k,
        k_sensitive=settings.k_sensitive,
        base_url=settings.base_url,
        map_levels=tuple(settings.levels),
        palette=style_palette(settings.style),
        pages={
            (r["indicator"], r["level"], r["option"]): r["path"]
            for r in ind_records
            if r["kind"] == "carte"
        },
    )
    return render_territories(tjob, state["places"], jobs=settings.jobs, on_done=on_done)


def _portable_versions(versions: dict) -> dict:
    """``show_versions`` without this machine's folders (interpreter and PROJ data paths)."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in versions.items()}
    system = out.get("system", {})
    if system.get("executable"):
        system["executable"] = Path(system["executable"]).name
    for group in out.values():
        if isinstance(group, dict):
            for key, value in list(group.items()):
                if isinstance(value, str) and os.path.isabs(value) and key != "executable":
                    group[key] = Path(value).name
    return out


def _replace_files(result: BuildResult, files) -> BuildResult:
    from dataclasses import replace

    return replace(result, files=tuple(files))


def _output_file(root: Path, rec: dict) -> OutputFile:
    from .extras import sha256_file

    path = root / rec["path"]
    return OutputFile(
        path=rec["path"],
        kind=rec["kind"],
        format=rec["format"],
        size=path.stat().st_size,
        sha256=sha256_file(path),
        indicator=rec.get("indicator"),
        level=rec.get("level"),
        option=rec.get("option"),
        empty=bool(rec.get("empty", False)),
    )


def _tables(table, responses, catalogue, folder: Path) -> list[str]:
    from .._tables import write_csv
    from ..indicators.tables import compare_published, write_aggregates

    paths = list(write_aggregates(table, folder).values())
    if responses.synthetic or str(responses.edition) == catalogue.edition.id:
        cmp = compare_published(table, catalogue)
        if len(cmp):
            path = folder / "comparaison-chiffres-publies.csv"
            write_csv(cmp, path)
            paths.append(str(path))
    return paths
