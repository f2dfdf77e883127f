"""A page per territory: every published indicator of a région or a département.

:func:`territory_page` gathers, for one région or département (a
:class:`~._places.Place`), every indicator of the aggregates table:

* the territory's value next to its région's (for a département) and France's,
  with the 95 % confidence interval and the number of answers; per answer option
  for multiple-choice questions;
* its sub-territories — the départements of a région, the EPCI (and, in
  restricted mode, the communes) with at least one commune in the area — in a
  table (published values only; the others counted with the reason);
* a map of the area at the first sub-level with a published value in it, in the
  **same classes and colours as the national map** of that level
  (:func:`map_classes`), clipped to the area and zoomed on it
  (:mod:`._svgmap`); one small map per answer option. When the table has
  modelled figures of that sub-level, it is drawn **modelled** (as the national
  modelled map, :func:`~._territory_model.model_maps`) and the direct map goes
  down to the communes, if any is published;
* links to the national maps opened on the territory (``?territoire=…``), the
  code to embed the page, and a printable version (print CSS; the maps are SVG);
* when the table has modelled columns, the modelled estimates of the place, its
  région, France and its first sub-level, worded as on the modelled maps
  (:mod:`._territory_model`).

Suppressed cells never show a value: they read « secret statistique »
(hatched on the maps; the cells carry no reason, so never « effectif insuffisant »:
a complementary cell may hold many answers, :func:`._meta.suppressed_label`),
territories without answer « pas de réponse » (dotted).
The page has its own Content-Security-Policy (hashes of its inline style and
script; no external resource at all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from .._format import format_count
from ._data import LEVEL_LABELS, classes_and_colors, overall_rows, value_format
from ._files import atomic_write
from ._index import iframe_snippet
from ._meta import SECRET_LABEL
from ._palettes import NO_DATA_COLOR, SUPPRESSED_HATCH
from ._places import Place
from ._render import render_template
from ._svgmap import AreaGeometry, area_geometry
from ._territory_model import (
    model_block,
    model_cells,
    model_map_level,
    model_maps,
    value_markup,
)

__all__ = [
    "TerritoryPage",
    "cell_index",
    "map_classes",
    "sub_territories",
    "territory_page",
]

# sub-levels drawn on a page (a région's 2,000-4,000 communes are the national map's business)
_SUB_LEVELS = {"region": ("departement", "epci"), "departement": ("epci", "commune")}
_SINGULAR = {"departement": "département", "epci": "EPCI", "commune": "commune"}


@dataclass(frozen=True)
class TerritoryPage:
    """A territory page: ``html`` to write as :attr:`place`'s ``file``."""

    place: Place
    html: str
    n_indicators: int
    n_maps: int

    @property
    def size(self) -> int:
        """Bytes of the page (UTF-8)."""
        return len(self.html.encode("utf-8"))

    def save(self, folder) -> object:
        """Write the page into ``folder`` (atomically); return its path."""
        from pathlib import Path

        return atomic_write(Path(folder) / self.place.file, self.html)


_COMMUNES: dict[int, dict] = {}


def _communes(territories) -> dict:
    """Return the communes' codes, EPCI, départements, régions as arrays (once per process)."""
    key = id(territories)
    if key not in _COMMUNES:
        com = territories.communes
        _COMMUNES.clear()
        _COMMUNES[key] = {
            col: np.asarray(com[col].astype("object").where(com[col].notna(), None).tolist())
            for col in ("code", "epci", "departement", "region")
        }
    return _COMMUNES[key]


def sub_territories(territories, place: Place) -> tuple[dict[str, list[str]], set[str]]:
    """Codes of the sub-territories of ``place`` per level, and the EPCI straddling its edge.

    EPCI are those with at least one commune in the area (an EPCI straddling two
    départements is in both pages, clipped to each).
    """
    com = _communes(territories)
    here = com[place.kind] == place.code
    epci = sorted({e for e in com["epci"][here] if e is not None})
    outside = set(com["epci"][~here]) & set(epci)
    out = {"commune": com["code"][here].tolist(), "epci": epci}
    if place.kind == "region":
        out["departement"] = sorted(set(com["departement"][here]))
    return out, outside


def map_classes(aggregates, *, indicator, level, option, classification, fmt, palette="Blues"):
    """Classes and colours of the national map of ``indicator`` at ``level`` (and ``option``).

    What :func:`~barometre_geo.maps.indicator_map` draws: the published values of
    every territory of the level, classified with ``classification`` (the build's)
    or the default, coloured from ``palette``. Returns ``(None, ())`` without value.
    """
    rows = overall_rows(aggregates, indicator, level, option, what="territory_page")
    shown = ~rows["suppressed"].astype(bool).to_numpy()
    values = pd.to_numeric(rows["value"], errors="coerce").to_numpy(dtype="float64")[shown]
    return classes_and_colors(values, classification=classification, fmt=fmt, palette=palette)


# a cell: (value, ci_low, ci_high, n, suppressed)
def _fmt_cell(cell, fmt) -> dict:
    if cell is None:
        return {"value": "pas de réponse", "ci": "", "n": "", "state": "nd"}
    value, low, high, n, suppressed = cell
    if suppressed or value != value:  # NaN
        return {"value": "secret statistique", "ci": "", "n": "", "state": "sup"}
    ci = f"{fmt.format(low)} – {fmt.format(high)}" if low == low and high == high else ""
    count = format_count(int(n)) if n == n else ""
    return {"value": fmt.format(value), "ci": ci, "n": count, "state": "ok"}


def _fill(cell, cls, colors) -> str:
    if cell is None:
        return "url(#bg-nd)"
    if cell[4] or cell[0] != cell[0]:
        return "url(#bg-sup)"
    i = int(cls.assign(np.asarray([cell[0]], dtype="float64"))[0])
    return colors[i] if i >= 0 else "url(#bg-nd)"


def _legend(cls, colors, threshold: int) -> list[dict]:
    pairs = zip(colors, cls.labels, strict=True)
    items = [{"fill": c, "label": lab, "opacity": 1.0} for c, lab in pairs]
    items.append({"fill": "url(#bg-sup)", "label": SECRET_LABEL, "opacity": 1.0})
    items.append({"fill": "url(#bg-nd)", "label": "Pas de réponse", "opacity": 1.0})
    return items


def _link(file: str, place: Place, base_url: str) -> str:
    base = base_url.rstrip("/") + "/" if base_url else ""
    return f"{base}{quote(file)}?territoire={quote(place.key)}"


def _block(ind, cells: dict, ctx) -> dict | None:
    """One indicator's section of the page (tables, maps, links)."""
    place, geo = ctx["place"], ctx["geometry"]
    fmt = value_format(ind)
    threshold = ctx["k_sensitive"] if ind.sensitive else ctx["k"]
    labels = {o.id: o.label for o in ind.options}
    present = cells["options"]
    groups = [None] if None in present else [o for o in labels if o in present]
    get = lambda level, code, opt: cells["cells"].get((level, code, opt))  # noqa: E731

    heads = [(place.name, place.kind, place.code)]
    if place.region:
        heads.append((ctx["region_name"], "region", place.region))
    heads.append(("France", "france", "FR"))
    main = []
    for name, level, code in heads:
        main.append(
            {"name": name, "own": level == place.kind,
             "cells": [_fmt_cell(get(level, code, g), fmt) for g in groups]}
        )  # fmt: skip
    model = model_block(ind, cells, ctx, groups, heads)
    if model is None and all(c["state"] != "ok" for r in main for c in r["cells"]):
        return None
    subs, map_level = [], None
    modelled_level = model_map_level(ind, cells, ctx)
    maps = model_maps(ind, cells, ctx, groups, modelled_level) if modelled_level else []
    for level in ctx["levels"]:
        codes = ctx["members"].get(level, [])
        if not codes or level not in ind.levels:
            continue
        shown = cells["shown"].get(level, set())
        published = [c for c in codes if c in shown]
        names = geo.names.get(level, {})
        label = LEVEL_LABELS[level]
        subs.append(
            {
                "label": label[:1].upper() + label[1:],
                "rows": [
                    {
                        "name": names.get(c, c),
                        "cells": [_fmt_cell(get(level, c, g), fmt) for g in groups],
                    }
                    for c in published
                ],
                "hidden": len(codes) - len(published),
                "total": len(codes),
            }
        )
        drawn = level == modelled_level and maps  # drawn modelled: the direct map goes finer
        if published and map_level is None and level in geo.features and not drawn:
            map_level = level
    if map_level is not None:
        feats = geo.features[map_level]
        for g in groups:
            mine = [get(map_level, c, g) for c in feats]
            if not any(m is not None and not m[4] and m[0] == m[0] for m in mine):
                continue  # nothing published for this option in the area: no all-grey map
            cls, colors = ctx["classes"](ind, map_level, g)
            if cls is None:
                continue
            uses = [(f"g-{map_level}-{c}", _fill(get(map_level, c, g), cls, colors), 1.0)
                    for c in feats]  # fmt: skip
            caption = (labels.get(g, g) + " — " if g else "") + "par " + _SINGULAR[map_level]
            caption += " (estimation directe)" if maps else ""
            alt = f"Carte : {ind.label}" + (f", {labels.get(g, g)}" if g else "")
            maps.append(
                {
                    "caption": caption,
                    "uses": uses,
                    "legend": _legend(cls, colors, threshold),
                    "alt": f"{alt}, par {_SINGULAR[map_level]}, {place.name}",
                }
            )
    drawn_levels = {lv for lv in (map_level, modelled_level) if lv}
    clipped = bool(maps) and any(
        set(geo.features.get(lv, {})) & ctx["straddling"] for lv in drawn_levels
    )
    first = groups[0] if groups else None
    links = [
        {"label": LEVEL_LABELS[lv], "url": _link(f, place, ctx["base_url"])}
        for (i, lv, opt), f in ctx["pages"].items()
        if i == ind.id and opt == first
    ]
    return {
        "clipped": clipped,
        "id": f"i-{ind.id}",
        "title": ind.label,
        "question": ind.question,
        "columns": [labels.get(g, g) if g else "Valeur" for g in groups],
        "options": groups != [None],
        "main": main,
        "main_body": _rows_markup(main, per_option=groups != [None]),
        "subs": [{**s, "body": _rows_markup(s["rows"], per_option=groups != [None])} for s in subs],
        "maps": maps,
        "links": links,
        "sensitive": ind.sensitive,
        "threshold": threshold,
        "model": model,
    }


def territory_page(
    aggregates: pd.DataFrame,
    territories,
    *,
    place: Place,
    catalogue=None,
    levels: Sequence[str] = ("departement", "epci", "commune"),
    classification: Mapping | None = None,
    classes: dict | None = None,
    palette: str = "Blues",
    k: int | None = None,
    k_sensitive: int | None = None,
    pages: Mapping | None = None,
    base_url: str = "",
    synthetic: bool | None = None,
    source: str = "",
    geometry: AreaGeometry | None = None,
    cells: dict | None = None,
) -> TerritoryPage:
    """Build the page of one région or département (see the module docstring).

    Parameters
    ----------
    aggregates : pandas.DataFrame
        Output of :func:`barometre_geo.aggregate` (overall rows used); at least the
        rows of the area, its région and France, and — unless ``classes`` gives
        them — every territory of the mapped levels (for the national classes).
    territories : Territories
    place : Place
        From :func:`~._places.parse_place` or :func:`~._places.all_places`.
    catalogue : Catalogue, optional
        Order, labels, questions, sensitivity of the indicators.
    levels : sequence of str
        Sub-levels shown, finest last (intersected with each indicator's levels).
    classification : mapping, optional
        Indicator id → the classification the build gives its national maps.
    classes : dict, optional
        ``(indicator, level, option)`` → ``(Classification, colours)``
        (:func:`map_classes`): a cache shared by the pages of a build, filled with
        what this page computes.
    k, k_sensitive : int, optional
        Thresholds quoted in the legends (default: the table's attrs, 5 and 10).
    pages : mapping, optional
        ``(indicator, level, option)`` → file name of the national map, linked
        with ``?territoire=``.
    base_url : str
        Public URL of the folder (links and the embedding code are absolute).
    synthetic : bool, optional
        The figures come from the synthetic demo (a banner says so).
    source : str
        Source line under the title.
    geometry : AreaGeometry, optional
        Precomputed :func:`~._svgmap.area_geometry` of the place.
    cells : dict, optional
        :func:`cell_index` of ``aggregates``, shared by the pages of a build.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> from barometre_geo.maps._places import parse_place
    >>> from barometre_geo.testing import random_responses
    >>> t = bg.load_territories()
    >>> agg = bg.aggregate(random_responses(300, seed=1), indicators=["cyber_pca"],
    ...                    level=["departement", "region", "france"], weights=None)
    >>> page = territory_page(agg, t, place=parse_place("reg-53", t))
    >>> page.place.file, page.n_indicators >= 0
    ('territoire.reg-53.html', True)
    """
    if catalogue is None:
        from ..survey.catalogue import load_catalogue

        catalogue = load_catalogue()
    meta = aggregates.attrs.get("barometre_geo", {}) if hasattr(aggregates, "attrs") else {}
    k = int(k if k is not None else meta.get("k", 5))
    k_sensitive = int(k_sensitive if k_sensitive is not None else meta.get("k_sensitive", 10))
    members, straddling = sub_territories(territories, place)
    sub_levels = [lv for lv in _SUB_LEVELS[place.kind] if lv in levels]
    if geometry is None:
        geometry = area_geometry(
            territories, kind=place.kind, code=place.code, levels=tuple(sub_levels),
            members=members, clip={"epci": straddling},
        )  # fmt: skip
    table = cells if cells is not None else cell_index(aggregates)
    cache = classes if classes is not None else {}

    def get_classes(ind, level, option):
        key = (ind.id, level, option)
        try:
            return cache[key]  # the build's cache computes it from the indicator's own rows
        except KeyError:
            cache[key] = map_classes(
                aggregates, indicator=ind.id, level=level, option=option,
                classification=(classification or {}).get(ind.id), fmt=value_format(ind),
                palette=palette,
            )  # fmt: skip
        return cache[key]

    regions = territories.regions.set_index(territories.regions["code"].astype(str))["nom"]
    ctx = {
        "place": place, "geometry": geometry, "members": members, "levels": sub_levels,
        "k": k, "k_sensitive": k_sensitive, "classes": get_classes, "pages": dict(pages or {}),
        "base_url": base_url, "region_name": str(regions.get(place.region, "")),
        "straddling": straddling, "palette": palette,
    }  # fmt: skip
    themes = []
    for theme in catalogue.themes:
        blocks = []
        for ind in catalogue:
            if ind.theme != theme.id or ind.id not in table:
                continue
            block = _block(ind, table[ind.id], ctx)
            if block is not None:
                blocks.append(block)
        if blocks:
            themes.append({"id": f"t-{theme.id}", "label": theme.label, "blocks": blocks})
    for m in (m for t in themes for b in t["blocks"] for m in b["maps"]):
        m["svg"] = _uses_markup(m["uses"])
    used = {u[0] for t in themes for b in t["blocks"] for m in b["maps"] for u in m["uses"]}
    modelled = any(b["model"] for t in themes for b in t["blocks"])
    html = _render(place, themes, geometry, used, base_url, synthetic, source, modelled)
    n_maps = sum(len(b["maps"]) for t in themes for b in t["blocks"])
    n_ind = sum(len(t["blocks"]) for t in themes)
    return TerritoryPage(place=place, html=html, n_indicators=n_ind, n_maps=n_maps)


def _rows_markup(rows: list[dict], *, per_option: bool) -> Markup:
    """Body of a table of direct figures: one value per option, or value, interval and n.

    Written here rather than by the template, for speed (pages hold thousands of cells).
    """
    own = ' class="own"'
    out = []
    for r in rows:
        cells = "".join(value_markup(c) for c in r["cells"])
        if not per_option:
            c = r["cells"][0]
            cells += f'<td>{escape(c["ci"])}</td><td class="v">{escape(c["n"])}</td>'
        out.append(f'<tr{own if r.get("own") else ""}><th scope="row">{escape(r["name"])}</th>'
                   f"{cells}</tr>\n")  # fmt: skip
    return Markup("".join(out))


def _uses_markup(uses: list[tuple]) -> Markup:
    """Return the ``<use>`` elements of a small map: one per area, its fill (and pale cue).

    Written here rather than by the template, for speed (pages draw thousands).
    """
    return Markup("".join(
        f'<use href="#{escape(ref)}" fill="{escape(fill)}"'
        + (f' fill-opacity="{escape(op)}"' if op < 1 else "") + "/>"
        for ref, fill, op in uses
    ))  # fmt: skip


def cell_index(aggregates: pd.DataFrame, *, levels=None) -> dict[str, dict]:
    """Index the overall cells of the table for the territory pages.

    Indicator → ``{"cells": {(level, code, option): (value, ci_low, ci_high, n,
    suppressed)}, "shown": {level: codes with a published value}, "options": the
    options present (``None``: headline rows)}`` (``option``
    ``None`` on headline rows, code ``"FR"`` at level ``france``). Built once per
    build and shared by every page (a dict lookup per cell). ``levels``: keep
    these levels only (and ``france``). A table with modelled columns adds
    ``"model"``: :func:`~._territory_model.model_cells` (what each tier publishes).
    """
    table = aggregates.copy(deep=False)
    table.attrs = {}  # pandas deep-copies attrs at every filter: drop them once
    if levels is not None:  # e.g. no commune rows when no page shows communes
        table = table[table["level"].astype(str).isin([*levels, "france"]).to_numpy()]
    if "by" in table.columns:
        by = table["by"].astype("object")
        table = table[(by.isna() | by.isin(("", "total"))).to_numpy()]
    level = table["level"].astype(str).to_numpy(dtype=object)
    code = np.where(level == "france", "FR", table["code"].astype(str).to_numpy(dtype=object))
    option = table["option"].astype("object").to_numpy(dtype=object)
    option = np.where(pd.isna(option), None, option)
    nums = [
        pd.to_numeric(table[c], errors="coerce").to_numpy(dtype="float64")
        for c in ("value", "ci_low", "ci_high", "n")
    ]
    sup = table["suppressed"].astype(bool).to_numpy()
    out: dict[str, dict] = {}
    indicator = table["indicator"].astype(str).to_numpy(dtype=object)
    keys = zip(indicator, level, code, option, strict=True)
    for i, (ind, lv, c, opt) in enumerate(keys):
        entry = out.setdefault(ind, {"cells": {}, "shown": {}, "options": set()})
        entry["options"].add(opt)
        cell = (nums[0][i], nums[1][i], nums[2][i], nums[3][i], bool(sup[i]))
        entry["cells"][(lv, c, opt)] = cell
        if not cell[4] and cell[0] == cell[0]:
            entry["shown"].setdefault(lv, set()).add(c)
    for ind, model in model_cells(table, indicator, level, code, option).items():
        out[ind]["model"] = model
    return out


def _render(place, themes, geometry, used, base_url, synthetic, source, modelled) -> str:
    from .._version import __version__
    from ._indicator import SENSITIVE_MODEL_NOTE
    from ._modelled import MODEL_NOTE

    kind = "Région" if place.kind == "region" else "Département"
    defs = [
        {"id": ident, "d": geometry.features[ident.split("-", 2)[1]][ident.split("-", 2)[2]]}
        for ident in sorted(used)
    ]
    title = f"{kind} : {place.name} — Baromètre Collectivités & Numérique"
    return render_template(
        "territory.html",
        place=place,
        kind=kind,
        themes=themes,
        geometry=geometry,
        defs=defs,
        synthetic=synthetic,
        source=source,
        snippet=iframe_snippet(place.file, title, base_url),
        absolute=bool(base_url),
        nd_color=NO_DATA_COLOR,
        hatch=SUPPRESSED_HATCH,
        version=__version__,
        modelled=modelled,
        model_note=MODEL_NOTE,
        sensitive_model_note=SENSITIVE_MODEL_NOTE,
    )
