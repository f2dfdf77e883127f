"""Modelled figures on the territory pages: estimate, interval, comparison with France.

A territory page (:mod:`._territory`) gives, for each indicator with modelled
figures (``aggregate(..., estimates="model")``, contract:
``docs/contracts/indicators.md``), next to the direct figures:

* a table of the modelled estimates of the place, its région and France — the
  estimate, its 95 % interval, the comparison with France and the tier of
  publication (per answer option, for the place, on multiple-choice questions);
* a table of the modelled estimates of its first sub-level (the départements of a
  région, the EPCI of a département), as the national modelled maps draw them;
* a small map of that sub-level (:func:`model_maps`), drawn as the national
  modelled map draws it: the fixed classes of the modelled figures, a pale fill
  where the figure is uncertain (its interval spans more than one class, or only
  its class is published), the secret hatch where the flip rule hides it. The
  page's direct map then draws the next level down (communes), if any.

Each figure reads exactly as on the modelled map (:mod:`._modelled`): the same
tier words (:func:`~._modelled.tier_text`), the same comparison words
(:func:`~._modelled.vs_text`), the class label of the map's fixed classes when only
the class is published, the map's « secret » label when the flip rule hides it.

Only the published table is read, and only what its tier publishes: the index
(:func:`model_cells`) keeps the class bounds of a ``class`` figure and nothing but
the tier of a ``hidden`` one, whatever numbers the table holds in those rows.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from .._format import NumberFormat, format_count
from ._data import LEVEL_LABELS, value_format
from ._modelled import (
    class_index,
    class_lows,
    model_classes,
    secret_label,
    tier_text,
    vs_text,
)

__all__ = [
    "MODEL_LEVELS",
    "PUBLISHED",
    "model_block",
    "model_cell_texts",
    "model_cells",
    "model_map_level",
    "model_maps",
]

#: Levels whose modelled figures the pages show (the modelled maps draw EPCI and
#: départements; régions and France are the place's context).
MODEL_LEVELS = ("epci", "departement", "region", "france")
#: What a column of the pages' modelled tables says (French).
REFERENCE_TEXT = "référence de la comparaison"
_NAN = float("nan")
#: What each publication tier lets the pages read of a modelled figure (the tiers of
#: :mod:`barometre_geo.protection.modelled`, drawn so by the modelled maps).
PUBLISHED = {
    "value": ("model_value", "model_ci_low", "model_ci_high", "model_class_low", "model_vs_france"),
    "class": ("model_class_low",),
    "hidden": (),
}


def model_cells(table: pd.DataFrame, indicator, level, code, option) -> dict[str, dict]:
    """Index the modelled figures of the overall rows, as their tier publishes them.

    ``table`` holds the overall rows (``indicator``, ``level``, ``code``, ``option``:
    their arrays, aligned on it, ``code`` ``"FR"`` at level ``france``). Returns
    indicator → ``{(level, code, option): (tier, value, ci_low, ci_high, class_low,
    vs_france)}``: ``value`` figures keep everything, ``class`` figures their class
    bound only, ``hidden`` ones their tier only (:data:`PUBLISHED`), whatever the
    table holds in their other columns; rows without a tier are left out.
    Empty when the table has no modelled columns.
    """
    if "model_publication" not in table.columns:
        return {}
    tier = table["model_publication"].astype("object").to_numpy(dtype=object)
    keep = np.isin(level, MODEL_LEVELS) & np.array([isinstance(t, str) for t in tier], dtype=bool)
    if not keep.any():
        return {}
    num = {c: pd.to_numeric(table[c], errors="coerce").to_numpy(dtype="float64") for c in _NUMBERS}
    vs = table["model_vs_france"].astype("object").to_numpy(dtype=object)
    out: dict[str, dict] = {}
    for i in np.flatnonzero(keep):
        t = tier[i]
        shown = PUBLISHED.get(t, ())
        vs_i = vs[i] if "model_vs_france" in shown and isinstance(vs[i], str) else None
        cell = (t, *(num[c][i] if c in shown else _NAN for c in _NUMBERS), vs_i)
        out.setdefault(indicator[i], {})[(level[i], code[i], option[i])] = cell
    return out


_NUMBERS = ("model_value", "model_ci_low", "model_ci_high", "model_class_low")


@lru_cache(maxsize=8)
def _class_labels(mean: bool, fmt: NumberFormat) -> tuple[str, ...]:
    """Labels of the modelled maps' fixed classes (what a class-only figure shows)."""
    from ..protection.modelled import MODEL_MEAN_BREAKS, MODEL_SHARE_BREAKS

    breaks = MODEL_MEAN_BREAKS if mean else MODEL_SHARE_BREAKS
    return tuple(model_classes(np.asarray(breaks, dtype=float), mean=mean, fmt=fmt).labels)


def _class_position(class_low: float, mean: bool) -> int:
    """:func:`~._modelled.class_index` of one figure (a page reads thousands, one by one)."""
    return bisect_right(class_lows(mean), class_low + 1e-9) - 1


def model_cell_texts(cell, *, fmt: NumberFormat, mean: bool, min_n: int, reference=False):
    """Texts of one modelled figure: estimate, interval, comparison, tier (map's words).

    ``cell``: an entry of :func:`model_cells` or ``None`` (no estimate);
    ``reference``: the France row (the comparison's reference).

    Examples
    --------
    >>> from barometre_geo._format import NumberFormat
    >>> f = NumberFormat.for_share()
    >>> t = model_cell_texts(("value", 0.4567, 0.41, 0.5, 0.4, "above"), fmt=f, mean=False,
    ...                      min_n=5)
    >>> t["value"], t["vs"]
    ('45,7\u202f%', 'Significativement au-dessus de la France')
    >>> model_cell_texts(("class", float("nan"), float("nan"), float("nan"), 0.2, None),
    ...                  fmt=f, mean=False, min_n=5)["value"]
    'plus de 20\u202f% à 40\u202f%'
    """
    if cell is None:
        none = tier_text(None)
        return {"value": none, "ci": "", "vs": "", "tier": none, "state": "nd"}
    # what the cell holds is what its tier publishes (model_cells reads PUBLISHED)
    tier, value, low, high, class_low, vs = cell
    texts = {"ci": "", "vs": vs_text(vs, tier), "tier": tier_text(tier), "state": "value"}
    if value == value:
        texts["value"] = fmt.format(value)
        if low == low and high == high:
            texts["ci"] = f"{fmt.format(low)} – {fmt.format(high)}"
        if reference:
            texts["vs"] = REFERENCE_TEXT
    elif class_low == class_low:
        texts["value"] = _class_labels(mean, fmt)[_class_position(class_low, mean)]
        texts["state"] = "class"
    else:
        texts["value"] = secret_label(min_n).lower()
        texts["state"] = "hidden"
    return texts


def model_block(ind, cells: dict, ctx: dict, groups: list, heads: list) -> dict | None:
    """Return the modelled part of an indicator's section of a territory page, or ``None``.

    ``cells``: the indicator's entry of :func:`~._territory.cell_index`; ``groups``
    the options shown (``[None]``: headline); ``heads``: ``(name, level, code)`` of
    the place, its région and France.
    """
    model = cells.get("model")
    if not model:
        return None
    fmt = value_format(ind)
    mean = ind.kind == "percentage"
    min_n = ctx["k_sensitive"] if ind.sensitive else ctx["k"]
    labels = {o.id: o.label for o in ind.options}

    def texts(level, code, g, reference=False):
        cell = model.get((level, code, g))
        return model_cell_texts(cell, fmt=fmt, mean=mean, min_n=min_n, reference=reference)

    options = groups != [None]
    name, level, code = heads[0]
    if options:  # the place's figure per answer option
        rows = [{"name": labels.get(g, g), **texts(level, code, g)} for g in groups
                if (level, code, g) in model]  # fmt: skip
    else:
        rows = [{"name": n, "own": lv == level, **texts(lv, c, None, reference=lv == "france")}
                for n, lv, c in heads if (lv, c, None) in model]  # fmt: skip
    sub = _sub_table(ind, model, ctx, groups, texts)
    if not rows and sub is None:
        return None
    return {
        "rows": rows,
        "body": _rows_markup(rows),
        "options": options,
        "first": "Réponse" if options else "Territoire",
        "caption": f"{ind.label} — estimation modélisée : " + _names([r["name"] for r in rows])
        if not options
        else f"{ind.label} — estimation modélisée par réponse : {name}",
        "sub": sub,
        "sensitive": ind.sensitive,
    }


def _sub_table(ind, model, ctx, groups, texts) -> dict | None:
    """Return the modelled figures of the place's first sub-level (as its national map)."""
    levels = [lv for lv in ctx["levels"] if lv in ind.levels]
    if not levels or levels[0] not in MODEL_LEVELS:
        return None
    level = levels[0]
    codes = ctx["members"].get(level, [])
    names = ctx["geometry"].names.get(level, {})
    rows, counts = [], {"value": 0, "class": 0, "hidden": 0, "none": 0}
    for c in codes:
        cells = [texts(level, c, g) for g in groups]
        states = {t["state"] for t in cells}
        if states <= {"nd"}:
            counts["none"] += 1
        elif states <= {"hidden", "nd"}:
            counts["hidden"] += 1
        else:
            counts["value" if "value" in states else "class"] += 1
            rows.append({"name": names.get(c, c), "cells": cells})
    if not rows and not counts["hidden"]:
        return None
    label = LEVEL_LABELS[level]
    shown = counts["value"] + counts["class"]
    summary = f"{label[:1].upper() + label[1:]} — estimations modélisées : {shown} publiée(s) sur "
    summary += format_count(len(codes))
    extra = []
    if counts["class"]:
        extra.append(f"dont {counts['class']} en classe seule")
    if counts["hidden"]:
        extra.append(f"{counts['hidden']} secrète(s)")
    if counts["none"]:
        extra.append(f"{counts['none']} sans estimation")
    labels = {o.id: o.label for o in ind.options}
    return {
        "summary": summary + (f" ({' ; '.join(extra)})" if extra else ""),
        "caption": f"{ind.label} — estimation modélisée par {_IN[level]}",
        "columns": [labels.get(g, g) for g in groups] if groups != [None] else [],
        "rows": rows,
        "body": _sub_markup(rows, per_option=groups != [None]),
    }


def value_markup(c: dict) -> str:
    """``<td>`` of one figure's value, its state as class (direct and modelled tables)."""
    return f'<td class="v {escape(c["state"])}">{escape(c["value"])}</td>'


def _cells_markup(c: dict, full: bool) -> str:
    """``<td>`` of one modelled figure: its value, and (``full``) interval, comparison, tier."""
    out = value_markup(c)
    if full:
        out += (f'<td class="ci">{escape(c["ci"])}</td><td>{escape(c["vs"])}</td>'
                f'<td class="tier">{escape(c["tier"])}</td>')  # fmt: skip
    return out


def _rows_markup(rows: list[dict]) -> Markup:
    """Body of the table of the place's modelled figures (rows of :func:`model_block`).

    Written here rather than by the template: a département page holds thousands of
    these cells, and the template engine's per-cell lookups were most of its time.
    """
    own = ' class="own"'
    return Markup("".join(
        f'<tr{own if r.get("own") else ""}><th scope="row">{escape(r["name"])}</th>'
        f"{_cells_markup(r, True)}</tr>\n"
        for r in rows
    ))  # fmt: skip


def _sub_markup(rows: list[dict], *, per_option: bool) -> Markup:
    """Body of the sub-level table (:func:`_sub_table`): one value per option, or the full row."""
    return Markup("".join(
        f'<tr><th scope="row">{escape(r["name"])}</th>'
        + ("".join(value_markup(c) for c in r["cells"]) if per_option
           else _cells_markup(r["cells"][0], True))
        + "</tr>\n"
        for r in rows
    ))  # fmt: skip


def model_map_level(ind, cells: dict, ctx: dict) -> str | None:
    """Return the sub-level a page draws modelled (its first one, with modelled figures)."""
    model = cells.get("model")
    levels = [lv for lv in ctx["levels"] if lv in ind.levels]
    if not model or not levels or levels[0] not in MODEL_LEVELS:
        return None
    level = levels[0]
    codes = ctx["members"].get(level, [])
    if level not in ctx["geometry"].features or not codes:
        return None
    return level


def model_maps(ind, cells: dict, ctx: dict, groups: list, level: str) -> list[dict]:
    """Small maps of the modelled figures of the place's sub-level ``level``, one per option.

    Each territory is filled as on the national modelled map (:mod:`._modelled`):
    the colour of its fixed class, pale (``fill-opacity``, the map's cue factor)
    when the figure is uncertain or published as a class only, the secret hatch
    when hidden, the no-data dots without an estimate. Only what each tier
    publishes is read (:func:`model_cells`). An option whose figures are all
    secret or absent in the area gets no map.
    """
    from ..protection.modelled import classes_of
    from ._modelled import _CUE_FACTOR
    from ._palettes import get_palette

    model = cells["model"]
    mean = ind.kind == "percentage"
    fmt = value_format(ind)
    min_n = ctx["k_sensitive"] if ind.sensitive else ctx["k"]
    labels = {o.id: o.label for o in ind.options}
    family = "gaussian" if mean else "binomial"
    names = _class_labels(mean, fmt)
    colors = get_palette(ctx.get("palette", "Blues"), kind="sequential").for_k(len(names))
    feats = ctx["geometry"].features[level]
    place = ctx["place"]
    out = []
    for g in groups:
        cells_g = [model.get((level, c, g)) for c in feats]
        num = np.array([cell[1:5] if cell else (np.nan,) * 4 for cell in cells_g], dtype=float)
        num = num.reshape(len(cells_g), 4)
        value, low, high, class_low = num.T
        cls = class_index(class_low, mean=mean)
        unsure = np.isnan(value) | (classes_of(low, family) != classes_of(high, family))
        drawn = int((cls >= 0).sum())
        uses = []
        for c, cell, i, u in zip(feats, cells_g, cls.tolist(), unsure.tolist(), strict=True):
            if i >= 0:
                uses.append((f"g-{level}-{c}", colors[i], _CUE_FACTOR if u else 1.0))
            else:
                hidden = cell is not None and cell[0] == "hidden"
                uses.append((f"g-{level}-{c}", "url(#bg-sup)" if hidden else "url(#bg-nd)", 1.0))
        if not drawn:
            continue
        legend = [{"fill": col, "label": lab, "opacity": 1.0}
                  for col, lab in zip(colors, names, strict=True)]  # fmt: skip
        legend += [
            {"fill": colors[len(colors) // 2], "opacity": _CUE_FACTOR,
             "label": "Estimation incertaine (couleur pâle : intervalle sur plusieurs classes, "
                      "ou classe seule publiée)"},
            {"fill": "url(#bg-sup)", "label": secret_label(min_n), "opacity": 1.0},
            {"fill": "url(#bg-nd)", "label": "Pas d'estimation", "opacity": 1.0},
        ]  # fmt: skip
        option = labels.get(g, g) + " — " if g else ""
        out.append(
            {
                "caption": f"{option}{'e' if option else 'E'}stimation modélisée par {_IN[level]}",
                "uses": uses,
                "legend": legend,
                "alt": f"Carte : {ind.label}, {option}estimation modélisée par {_IN[level]}, "
                f"{place.name}",
            }
        )
    return out


def _names(names: list[str]) -> str:
    return names[0] if len(names) < 2 else ", ".join(names[:-1]) + " et " + names[-1]


_IN = {"departement": "département", "epci": "EPCI", "region": "région"}
