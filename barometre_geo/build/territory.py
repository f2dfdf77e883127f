"""Territory pages of ``barometre-geo build``: one per région and département.

:func:`resolve_places` reads the ``territoires`` setting against the reference
(before anything is written: an unknown or ambiguous territory is a usage error);
:func:`render_territories` writes ``territoire.<key>.html`` for each place, in
worker processes (``fork``: the territories, the cell index of the table and the
projected geometry caches of the parent are shared), after the indicators' pages
so that each indicator links to its national maps opened on the territory.

Each page's maps use the classes and colours of the national maps: the classes
are computed from the indicator's own rows with the classification the build
gives its national maps (:func:`~barometre_geo.build.indicator._classification`),
once per process (:class:`_Classes`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TerritoryJob", "render_territories", "resolve_places"]


def resolve_places(settings, territories) -> list:
    """Return the places of the ``territoires`` setting (``toutes``: every région, département).

    Raises
    ------
    UnknownValueError
        A territory unknown to the reference, or ambiguous (both readings given).
    """
    from ..maps._places import all_places, parse_place

    asked = [t.lower() for t in settings.territoires]
    if asked == ["aucune"]:
        return []
    if asked == ["toutes"] or not asked:
        return all_places(territories)
    places = [parse_place(t, territories) for t in settings.territoires]
    return list({p.key: p for p in places}.values())


@dataclass(frozen=True)
class TerritoryJob:
    """What every worker needs (shared before the fork)."""

    tables: dict  # indicator id -> its rows of the aggregates table
    cells: dict  # maps._territory.cell_index of the table
    territories: object
    catalogue: object
    levels: tuple[str, ...]
    out: Path
    synthetic: bool
    source: str
    k: int
    k_sensitive: int
    base_url: str
    pages: dict  # (indicator, level, option) -> file of the national map
    map_levels: tuple[str, ...] = ()  # the levels the national maps' classes pool (default levels)
    palette: str = "Blues"  # the national maps' palette (DSFR with the dsfr style)


class _Classes(dict):
    """Classes of the national maps, computed on first use from the indicator's rows.

    The classes of an indicator's headline / option are pooled over the build's
    levels (:func:`~barometre_geo.build.indicator._classification`), as on its
    national maps, GeoPackage and static maps: computed once per indicator.
    """

    def __init__(self, job: TerritoryJob):
        super().__init__()
        self.job = job
        self._pooled: dict[str, tuple] = {}

    def __missing__(self, key):
        from ..maps._data import value_format
        from ..maps._territory import map_classes
        from .indicator import _classification

        indicator, level, option = key
        if indicator not in self._pooled:
            ind = self.job.catalogue.get(indicator)
            fmt = value_format(ind)
            rows = self.job.tables[indicator]
            levels = self.job.map_levels or self.job.levels
            self._pooled[indicator] = (fmt, _classification(rows, ind, fmt, levels))
        fmt, pooled = self._pooled[indicator]
        self[key] = map_classes(
            self.job.tables[indicator],
            indicator=indicator,
            level=level,
            option=option,
            classification=pooled.get(option),
            fmt=fmt,
            palette=self.job.palette,
        )
        return self[key]


_JOB: TerritoryJob | None = None
_CLASSES: _Classes | None = None


def _render_one(place) -> dict:
    from ..maps._territory import territory_page

    global _CLASSES
    job = _JOB
    if _CLASSES is None or _CLASSES.job is not job:
        _CLASSES = _Classes(job)
    page = territory_page(
        None,
        job.territories,
        place=place,
        catalogue=job.catalogue,
        levels=job.levels,
        classes=_CLASSES,
        k=job.k,
        k_sensitive=job.k_sensitive,
        pages=job.pages,
        base_url=job.base_url,
        synthetic=job.synthetic,
        source=job.source,
        cells=job.cells,
    )
    path = page.save(job.out)
    return {
        "path": path.name,
        "kind": "territoire",
        "format": "html",
        "level": place.kind,
        "title": place.name,
        "code": place.code,
        "region": place.region,
        "n_maps": page.n_maps,
    }


def _init_worker(parent: int | None = None) -> None:
    import signal

    if parent is not None:
        from .._workers import die_with_parent

        die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    if hasattr(signal, "pthread_sigmask"):  # forked while the parent held them back
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def render_territories(
    job: TerritoryJob,
    places: list,
    *,
    jobs: int,
    on_done: Callable[[str], None] | None = None,
) -> list[dict]:
    """Write the page of every place; return one record per file, in the order of ``places``."""
    global _JOB
    if not places:
        return []
    _JOB = job
    try:
        parallel = jobs > 1 and len(places) > 1 and sys.platform.startswith("linux")
        if not parallel:
            out = []
            for place in places:
                out.append(_render_one(place))
                if on_done:
                    on_done(place.key)
            return out
        from .pool import forked_pool

        def submit(pool):
            return [pool.submit(_render_one, place) for place in places]

        with forked_pool(jobs, _init_worker, submit) as futures:
            out = []
            for fut in futures:
                out.append(fut.result())
                if on_done:
                    on_done(out[-1]["path"])
            return out
    finally:
        _JOB = None
