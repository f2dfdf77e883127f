"""Per-indicator outputs of ``barometre-geo build``: HTML maps, GeoPackage, static maps.

:func:`plan_pages` decides the pages of one indicator: one per level asked
and published by the catalogue; headline indicators get one map per level,
per-option indicators (multiple choice, distributions without headline) one
map per option. A level (or an option at a level) where nothing is publishable
(every cell below the threshold: communes in public mode, a sensitive
indicator in a small export) gets **no page**: the index lists it as « non
publié à ce niveau » with the reason (:func:`not_published_reason`), as it
lists the levels the catalogue does not publish the indicator at.

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
    """One HTML page of an indicator — or a level (option) without one.

    ``publishable`` False: nothing to show, no page is written; ``reason`` says why.
    ``estimates``: what the page draws, for :func:`barometre_geo.maps.indicator_map`
    (``None``: its default — the modelled estimates at EPCI and département level
    when the table has them; ``"direct"`` where no estimate is published but direct
    figures are, so that no page is empty).
    """

    indicator: str
    level: str
    option: str | None
    file: str
    title: str
    publishable: bool
    reason: str = ""
    estimates: str | None = None


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
    mode: str = "public"
    style: str = "standard"


_JOB: _Job | None = None


def _overall(rows: pd.DataFrame) -> pd.DataFrame:
    by = rows["by"].astype("object")
    return rows[by.isna() | by.isin(("", "total"))]


def not_published_reason(rows: pd.DataFrame, *, k: int, k_sensitive: int, mode: str) -> str:
    """French reason why no cell of ``rows`` (one level, one option) is published.

    The most frequent suppression reason of the rows, with its threshold.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"suppressed": [True, True], "reason": ["small_n", "small_n"],
    ...                      "value": [None, None]})
    >>> not_published_reason(rows, k=5, k_sensitive=10, mode="public")
    'moins de 5 réponses dans chaque territoire (secret statistique)'
    """
    from ..protection.rules import SUPPRESSION_REASONS

    if not len(rows):
        return "aucune réponse à cet échelon"
    sup = rows[rows["suppressed"].astype(bool)]
    if not len(sup):
        return "aucune valeur calculable (aucune réponse valide)"
    codes = sup["reason"].dropna().astype(str).value_counts() if "reason" in sup else None
    code = str(codes.index[0]) if codes is not None and len(codes) else ""
    texts = {
        "level": f"échelon non publié en mode {mode} (secret statistique)",
        "sensitive_level": "indicateur sensible, non publié à cet échelon",
        "small_n": f"moins de {k} réponses dans chaque territoire (secret statistique)",
        "small_n_sensitive": (
            f"indicateur sensible : moins de {k_sensitive} réponses dans chaque territoire"
        ),
    }
    return texts.get(code) or SUPPRESSION_REASONS.get(code, "secret statistique")


def _catalogue_reason(indicator) -> str:
    shown = [IN_TITLES[lv] for lv in indicator.levels if lv in IN_TITLES]
    where = " et ".join([", ".join(shown[:-1]), shown[-1]]) if len(shown) > 1 else "".join(shown)
    text = f"publié par {where} seulement" if shown else "publié pour la France seulement"
    lead = "indicateur sensible : " if indicator.sensitive else "non prévu à cet échelon : "
    return lead + text


def _shown(at: pd.DataFrame, level: str) -> tuple[pd.Series, pd.Series | None]:
    """Rows of one level with a published direct figure, and with a published estimate.

    The second is ``None`` where the map draws the direct figures (no modelled
    columns, or a level other than EPCI and départements: what
    :func:`barometre_geo.maps.indicator_map` draws by default).
    """
    direct = (~at["suppressed"].astype(bool)) & at["value"].notna()
    if "model_publication" not in at.columns or level not in ("epci", "departement"):
        return direct, None
    published = at["model_publication"].isin(("value", "class"))
    return direct, (published & at["model_class_low"].notna()).astype(bool)


def _drawn(direct: pd.Series, model: pd.Series | None, mask=None) -> tuple[bool, str | None]:
    """Whether a page has something to draw, and what (``Page.estimates``)."""
    if mask is not None:
        direct, model = direct[mask], (model[mask] if model is not None else None)
    if model is not None and model.any():
        return True, None
    return bool(direct.any()), ("direct" if model is not None else None)


def plan_pages(
    rows: pd.DataFrame, indicator, levels, *, k: int = 5, k_sensitive: int = 10, mode="public"
) -> list[Page]:
    """Pages of one indicator at ``levels`` (see module docstring).

    ``rows`` are the indicator's rows of the aggregates table. Levels the
    catalogue does not publish, and levels or options where nothing is
    publishable, come back with ``publishable=False`` and their reason.
    """
    rows = _overall(rows)
    pages = []
    labels = {o.id: o.label for o in indicator.options}
    threshold = {"k": k_sensitive if indicator.sensitive else k, "k_sensitive": k_sensitive}
    for level in levels:
        stem = f"{indicator.id}.{level}"
        title = f"{indicator.label} — {IN_TITLES[level]}"
        if level not in indicator.levels:
            pages.append(
                Page(indicator.id, level, None, stem, title, False, _catalogue_reason(indicator))
            )
            continue
        at = rows[rows["level"] == level]
        headline = at["option"].isna()
        if headline.any() or not len(at):
            options = [None]
            at = at[headline]
        else:
            present = set(at["option"].dropna().astype(str))
            options = [o.id for o in indicator.options if o.id in present]
        direct, model = _shown(at, level)
        if not _drawn(direct, model)[0]:
            why = not_published_reason(at, mode=mode, **threshold)
            pages.append(Page(indicator.id, level, None, stem, title, False, why))
            continue
        for opt in options:
            if opt is None:
                ok, estimates = _drawn(direct, model)
                pages.append(Page(indicator.id, level, None, stem, title, ok, "", estimates))
                continue
            mine = at["option"] == opt
            ok, estimates = _drawn(direct, model, mine)
            why = "" if ok else not_published_reason(at[mine], mode=mode, **threshold)
            pages.append(
                Page(
                    indicator.id,
                    level,
                    opt,
                    f"{stem}.{opt}",
                    f"{indicator.label} : {labels.get(opt, opt)} — {IN_TITLES[level]}",
                    ok,
                    why,
                    estimates,
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
        records, index = _render(indicator_id, job or _JOB)
    from ..errors import message

    return {
        "records": records,
        "index": index,
        "warnings": [f"{indicator_id} : {message(w.message)}" for w in caught],
    }


def _national_share(rows: pd.DataFrame, fmt) -> float | None:
    """National headline value as a share 0–1 (the index's small bar), if it is one."""
    nat = _overall(rows)
    nat = nat[(nat["level"] == "france") & nat["option"].isna() & ~nat["suppressed"].astype(bool)]
    if not len(nat) or pd.isna(nat["value"].iloc[0]):
        return None
    value = float(nat["value"].iloc[0])
    if fmt.share:
        return value
    return value / 100 if fmt.unit == "%" else None


def _render(indicator_id: str, job: _Job) -> tuple[list[dict], list[dict]]:
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
    records, index = [], []
    national = rows["level"].isin(NATIONAL_LEVELS)
    by_level = {lv: rows[national | (rows["level"] == lv)] for lv in job.levels}
    labels = {o.id: o.label for o in ind.options}
    share = _national_share(rows, fmt)
    pages = plan_pages(rows, ind, job.levels, k=job.k, k_sensitive=job.k_sensitive, mode=job.mode)
    for page in pages:
        entry = {
            "entry": ind.id,
            "entry_title": ind.label,
            "theme": theme,
            "level": page.level,
            "option": labels.get(page.option, page.option or "") if page.option else "",
            "file": "",
            "title": page.title,
            "national": "",
            "share": share,
            "reason": page.reason,
            "description": ind.question,
            "keywords": f"{ind.id} {theme}",
        }
        index.append(entry)
        if not page.publishable:
            continue  # no page: the index says « non publié à ce niveau » and why
        doc = indicator_map(
            by_level[page.level],
            job.territories,
            indicator=ind.id,
            level=page.level,
            option=page.option,
            title=page.title,
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
            estimates=page.estimates,
        )
        path = map_path(job.out, page.file)
        path.write_text(doc.html, encoding="utf-8", newline="\n")
        entry.update(file=path.name, title=doc.title, national=doc.national)
        records.append(
            {
                "path": path.name,
                "kind": "carte",
                "format": "html",
                "indicator": ind.id,
                "level": page.level,
                "option": page.option,
                "title": doc.title,
                "theme": theme,
                "national": doc.national,
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
    return records, index


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
) -> tuple[list[dict], list[dict], list[str], object]:
    """Render every indicator, in ``jobs`` processes (fork, Linux) or in this one.

    ``meanwhile`` runs in this process while the workers render (the other
    outputs of the build), or first when rendering sequentially.

    Returns the file records, in the order of ``indicators`` whatever the order
    of completion, the index entries (one per page or level not published), the
    warnings raised, and what ``meanwhile`` returned.
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
        from concurrent.futures import as_completed

        from .pool import forked_pool

        # warm the in-process caches (simplified geometries per level) before forking
        done(indicators[0], render_indicator(indicators[0], job))
        _JOB = job
        try:

            def submit(pool):
                return {pool.submit(_run_one, ind): ind for ind in indicators[1:]}

            with forked_pool(jobs, _init_worker, submit) as futures:
                other = meanwhile() if meanwhile else None
                for fut in as_completed(futures):
                    done(futures[fut], fut.result())
        finally:
            _JOB = None
    records = [rec for ind in indicators for rec in results[ind]["records"]]
    index = [rec for ind in indicators for rec in results[ind]["index"]]
    return records, index, [w for ind in indicators for w in results[ind]["warnings"]], other
