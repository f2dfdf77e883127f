"""Per-indicator outputs of ``barometre-geo build``: HTML maps, GeoPackage, static maps.

:func:`plan_pages` decides the pages of one indicator: one per level asked
and published by the catalogue; headline indicators get one map per level,
per-option indicators (multiple choice, distributions without headline) one
map per option. A level where nothing is publishable (every cell below the
threshold: communes in public mode, a sensitive indicator in a small export)
gets **one** page that says so, not one per option.

:func:`render_indicator` writes the pages, the GeoPackage (levels with a
publishable value only: an all-masked layer says nothing and would weigh
tens of MB at commune level) and, when asked, the static maps, into the
staging folder; it returns one record per file. :func:`render_all` runs it
for every indicator, in worker processes (``fork``, so the territories and
the simplified geometries already in memory are shared) when ``jobs > 1``.

Files are written without ``fsync`` and GeoPackages with
``OGR_SQLITE_SYNCHRONOUS=OFF`` (4–5× faster here): the whole staging folder
is flushed once before it is swapped in (:mod:`barometre_geo.build.swap`).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..maps._data import LEVEL_LABELS as IN_TITLES  # "communes", "EPCI à fiscalité propre"…
from ..maps._files import fast_gpkg_writes  # the staging folder is flushed once

__all__ = ["Page", "fast_gpkg_writes", "plan_pages", "render_all", "render_indicator"]

NATIONAL_LEVELS = ("france", "france_metropolitaine", "outre_mer")
LEVEL_TITLES = {
    "commune": "Communes",
    "epci": "EPCI à fiscalité propre",
    "departement": "Départements",
    "region": "Régions",
}


@dataclass(frozen=True)
class Page:
    """One HTML page of an indicator."""

    indicator: str
    level: str
    option: str | None
    file: str
    title: str
    publishable: bool


@dataclass(frozen=True)
class _Job:
    """What every worker needs, shared before the fork (or pickled)."""

    tables: dict  # indicator id -> its rows of the aggregates table
    territories: object
    catalogue: object
    levels: tuple[str, ...]
    out: Path
    synthetic: bool
    edition: str
    k: int
    k_sensitive: int
    basemap: str
    assets: str
    static: str | None
    style: str = "standard"


_JOB: _Job | None = None


def _overall(rows: pd.DataFrame) -> pd.DataFrame:
    by = rows["by"].astype("object")
    return rows[by.isna() | by.isin(("", "total"))]


def plan_pages(rows: pd.DataFrame, indicator, levels) -> list[Page]:
    """Pages of one indicator at ``levels`` (see module docstring).

    ``rows`` are the indicator's rows of the aggregates table.
    """
    rows = _overall(rows)
    pages = []
    labels = {o.id: o.label for o in indicator.options}
    for level in levels:
        if level not in indicator.levels:
            continue
        at = rows[rows["level"] == level]
        if not len(at):
            continue
        headline = at["option"].isna()
        if headline.any():
            options = [None]
            at = at[headline]
        else:
            present = set(at["option"].dropna().astype(str))
            options = [o.id for o in indicator.options if o.id in present]
        shown = (~at["suppressed"].astype(bool)) & at["value"].notna()
        stem = f"{indicator.id}.{level}"
        title = f"{indicator.label} — {IN_TITLES[level]}"
        if not shown.any():
            pages.append(Page(indicator.id, level, options[0], stem, title, False))
            continue
        for opt in options:
            if opt is None:
                pages.append(Page(indicator.id, level, None, stem, title, True))
            else:
                ok = bool(shown[at["option"] == opt].any())
                pages.append(
                    Page(
                        indicator.id,
                        level,
                        opt,
                        f"{stem}.{opt}",
                        f"{indicator.label} : {labels.get(opt, opt)} — {IN_TITLES[level]}",
                        ok,
                    )
                )
    return pages


def _description(indicator, job: _Job) -> str:
    text = indicator.question
    if job.synthetic:
        text += (
            " — DONNÉES SYNTHÉTIQUES de démonstration : ces chiffres ne sont pas des "
            "résultats de l’enquête, ne les publiez pas."
        )
    return text


def _classification(rows: pd.DataFrame, ind, fmt, levels) -> dict:
    """Return the classes of each map of an indicator: ``{option or None: Classification}``.

    One classification per headline / option, pooled over every level of the
    build (:func:`barometre_geo.maps._breaks.indicator_classes`: natural breaks,
    each level weighing the same, rounded bounds; one class per value when there
    are at most 5): the same colour means the same value on the maps of every
    level, in the HTML pages, the GeoPackage and the static maps.
    """
    from ..maps._breaks import indicator_classes
    from ..maps._modelled import model_classes

    rows = _overall(rows)
    headline = [None] if rows["option"].isna().any() else []
    options = headline + list(rows["option"].dropna().astype(str).unique())
    # a build drawing modelled maps: the model's fixed classes on every level (its
    # class-only figures are protected against those bounds)
    modelled = "model_value" in rows.columns and rows["model_value"].notna().any()
    out = {}
    for opt in options:
        if modelled:
            mine = rows[rows["option"].isna()] if opt is None else rows[rows["option"] == opt]
            values = np.concatenate([mine["model_value"].dropna(), mine["value"].dropna()])
            out[opt] = model_classes(values, mean=ind.kind == "percentage", fmt=fmt)
            continue
        cls = indicator_classes(rows, ind.id, option=opt, fmt=fmt, levels=levels)
        if cls is not None:
            out[opt] = cls
    return out


def render_indicator(indicator_id: str, job: _Job | None = None) -> dict:
    """Write the pages, GeoPackage and static maps of one indicator.

    Returns ``{"records": [one dict per file], "warnings": [messages]}``.
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = _render(indicator_id, job or _JOB)
    from ..errors import message

    return {
        "records": records,
        "warnings": [f"{indicator_id} : {message(w.message)}" for w in caught],
    }


def _render(indicator_id: str, job: _Job) -> list[dict]:
    from ..maps import indicator_map, map_path, static_map, write_indicator_gpkg
    from ..maps._data import value_format

    ind = job.catalogue.get(indicator_id)
    rows = job.tables[indicator_id]
    fmt = value_format(ind)
    classification = _classification(rows, ind, fmt, job.levels)
    from ..maps._style import style_palette

    palette = style_palette(job.style)
    common = {  # the GeoPackage and the static maps say the same as the HTML map
        "catalogue": job.catalogue,
        "edition": job.edition,
        "synthetic": job.synthetic,
        "k": job.k,
        "k_sensitive": job.k_sensitive,
        "classification": classification,
        "fmt": fmt,
        "palette": palette,
    }
    threshold = job.k_sensitive if ind.sensitive else job.k
    theme = job.catalogue.theme(ind.theme).label
    description = _description(ind, job)
    records = []
    national = rows["level"].isin(NATIONAL_LEVELS)
    by_level = {lv: rows[national | (rows["level"] == lv)] for lv in job.levels}
    for page in plan_pages(rows, ind, job.levels):
        doc = indicator_map(
            by_level[page.level],
            job.territories,
            indicator=ind.id,
            level=page.level,
            option=page.option,
            title=page.title if page.publishable else f"{ind.label} — {IN_TITLES[page.level]}",
            description=description,
            fmt=fmt,
            classification=classification,
            palette=palette,
            min_n=threshold,
            basemap=job.basemap,
            assets=job.assets,
            edition=job.edition,
            synthetic=job.synthetic,
            page_style=job.style,
        )
        path = map_path(job.out, page.file)
        path.write_text(doc.html, encoding="utf-8", newline="\n")
        records.append(
            {
                "path": path.name,
                "kind": "carte",
                "format": "html",
                "indicator": ind.id,
                "level": page.level,
                "option": page.option if page.publishable else None,
                "title": doc.title,
                "theme": theme,
                "national": doc.national if page.publishable else "",
                "empty": bool(doc.empty),
                "n_features": int(doc.n_features),
            }
        )
        if job.static and not doc.empty:
            sm = static_map(
                by_level[page.level],
                job.territories,
                indicator=ind.id,
                level=page.level,
                option=page.option,
                out_dir=job.out / "statiques",
                format=job.static,
                title=page.title,
                basemap="none",
                **common,
            )
            records.append(
                {
                    "path": f"statiques/{sm.path.name}",
                    "kind": "carte_statique",
                    "format": job.static,
                    "indicator": ind.id,
                    "level": page.level,
                    "option": page.option,
                }
            )
    gpkg_levels = _publishable_levels(rows, ind, job.levels)
    if gpkg_levels:
        path = write_indicator_gpkg(
            rows[national | rows["level"].isin(gpkg_levels)],
            job.territories,
            indicator=ind.id,
            out_dir=job.out / "geopackages",
            levels=gpkg_levels,
            **common,
        )
        records.append(
            {
                "path": f"geopackages/{path.name}",
                "kind": "geopackage",
                "format": "gpkg",
                "indicator": ind.id,
                "level": " ".join(gpkg_levels),
                "option": None,
            }
        )
    return records


def _publishable_levels(rows: pd.DataFrame, ind, levels) -> list[str]:
    rows = _overall(rows)
    shown = rows[(~rows["suppressed"].astype(bool)) & rows["value"].notna()]
    have = set(shown["level"].astype(str))
    return [lv for lv in levels if lv in ind.levels and lv in have]


def _init_worker(parent: int | None = None) -> None:
    import signal

    if parent is not None:
        from .._workers import die_with_parent

        die_with_parent(parent)
    # Ctrl-C is the parent's to handle (it cancels the pending indicators and
    # deletes the staging folder): workers finish their indicator quietly
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # forked while the parent held them back
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})  # the worker's whole life


def _run_one(indicator_id: str) -> dict:
    return render_indicator(indicator_id)


def render_all(
    job: _Job,
    indicators: list[str],
    *,
    jobs: int,
    on_done: Callable[[str], None] | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> tuple[list[dict], list[str], object]:
    """Render every indicator, in ``jobs`` processes (fork, Linux) or in this one.

    ``meanwhile`` runs in this process while the workers render (the other
    outputs of the build), or first when rendering sequentially.

    Returns the file records, in the order of ``indicators`` whatever the order
    of completion, the warnings raised, and what ``meanwhile`` returned.
    """
    global _JOB
    results: dict[str, dict] = {}
    other = None

    def done(ind: str, out: dict) -> None:
        results[ind] = out
        if on_done:
            on_done(ind)

    parallel = jobs > 1 and len(indicators) > 1 and sys.platform.startswith("linux")
    if not parallel:
        other = meanwhile() if meanwhile else None
        for ind in indicators:
            done(ind, render_indicator(ind, job))
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        from .swap import held_signals

        # warm the in-process caches (simplified geometries per level) before forking
        done(indicators[0], render_indicator(indicators[0], job))
        _JOB = job
        pool, futures = None, {}
        try:
            with held_signals():  # a pool half started by Ctrl-C/SIGTERM cannot be shut down
                pool = ProcessPoolExecutor(
                    max_workers=jobs,
                    mp_context=multiprocessing.get_context("fork"),
                    initializer=_init_worker,
                    initargs=(os.getpid(),),
                )
                futures = {pool.submit(_run_one, ind): ind for ind in indicators[1:]}
            other = meanwhile() if meanwhile else None
            for fut in as_completed(futures):
                done(futures[fut], fut.result())
        except BaseException:
            for fut in futures:  # do not start the others: the build is abandoned
                fut.cancel()
            raise
        finally:
            if pool is not None:  # wait for the running ones: they write into the staging
                pool.shutdown(wait=True, cancel_futures=True)
            _JOB = None
    records = [rec for ind in indicators for rec in results[ind]["records"]]
    return records, [w for ind in indicators for w in results[ind]["warnings"]], other
