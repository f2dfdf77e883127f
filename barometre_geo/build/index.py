"""What ``index.html`` lists, from what the build produced (:func:`index_records`).

The maps stage draws the index (:func:`barometre_geo.maps.write_index`); the build
decides its content: one entry per indicator — its pages per level and option, and
the levels where nothing is published with the reason (from
:func:`~barometre_geo.build.indicator.plan_pages`) —, the participation maps first,
the themes in the catalogue's order, the coverage map last; and the texts above it
(:func:`~barometre_geo.build.text.index_description`).
"""

from __future__ import annotations

from ..maps import MapRecord
from .indicator import LEVEL_TITLES

__all__ = ["index_records"]


def _level_label(level) -> str:
    return LEVEL_TITLES.get(level or "", "")


def index_records(records: list[dict], entries: list[dict], catalogue) -> list[MapRecord]:
    """Return the index's records: other maps (participation, coverage) and indicator entries.

    ``records`` are the build's file records (``kind == "carte"`` ones that are not an
    indicator's are listed alone); ``entries`` the indicator entries of
    :func:`~barometre_geo.build.indicator.render_indicator` (one per page or level
    not published).
    """
    order = {th.label: i for i, th in enumerate(catalogue.themes)}

    def rank(theme: str) -> int:
        return order.get(theme, -1 if "Participation" in theme else len(order))

    alone = [
        MapRecord(
            file=r["path"],
            title=r["title"],
            theme=r["theme"],
            level=_level_label(r["level"]),
            national=r.get("national", ""),
            entry=r["path"],
            entry_title=r["title"],
        )
        for r in records
        if r["kind"] == "carte" and not r.get("indicator")
    ]
    # an entry holds MapRecord's fields (render_indicator writes them so)
    per_indicator = [MapRecord(**{**e, "level": _level_label(e["level"])}) for e in entries]
    both = alone + per_indicator
    return sorted(both, key=lambda r: rank(r.theme))  # stable: the build's order within a theme
