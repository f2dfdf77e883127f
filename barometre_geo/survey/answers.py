"""Decoding answers: raw cells -> option ids, percentages and ticked options.

Nothing is coerced silently: a value the mapping does not know becomes NA and is
listed in ``unknown`` (column, value, count, first lines); an unreadable number or
a percentage outside 0–100 becomes NA and is listed in ``cells`` with its line.
Raw values are masked (e-mails, phones) before they reach either list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .columns import ColumnPlan, option_lookup
from .mapping import Mapping
from .text import key, map_unique, mask, parse_percentages

__all__ = ["Decoded", "decode_answers", "report_unknown"]

_SPLIT = re.compile(r"\s*(?:;|\||\r\n|\n|\r)\s*")
_NO_ANSWER = {"ne_sait_pas", "sans_reponse"}


@dataclass
class Decoded:
    """Decoded answers of one file.

    Attributes
    ----------
    columns : dict
        Data column name -> Series (Categorical of option ids, float64, or boolean).
    answered : pandas.DataFrame
        Indicator id -> bool per row: the row gives an answer to that question
        ("sans réponse" and empty cells are not answers).
    unknown : list of dict
        ``column``, ``indicator``, ``value``, ``count``, ``lines``.
    cells : list of dict
        ``line``, ``column``, ``value``, ``issue``.
    """

    columns: dict = field(default_factory=dict)
    answered: pd.DataFrame | None = None
    unknown: list = field(default_factory=list)
    cells: list = field(default_factory=list)


def decode_answers(
    cells: pd.DataFrame, lines: np.ndarray, plan: ColumnPlan, mapping: Mapping, catalogue
) -> Decoded:
    """Decode every question column of one file (see module docstring)."""
    indicators = {i.id: i for i in catalogue.indicators}
    out = Decoded()
    answered = {}
    for ind_id in plan.indicator_ids():
        ind = indicators[ind_id]
        lookup = option_lookup(ind, mapping)
        if ind.kind == "multiple_choice":
            if ind_id in plan.questions:
                pos = plan.questions[ind_id]
                cols, ans = _multi_cell(cells[pos], lines, ind, lookup, plan.headers[pos], out)
            else:
                cols, ans = _multi_columns(cells, lines, ind, plan, mapping, out)
            out.columns.update(cols)
        else:
            pos = plan.questions[ind_id]
            header = plan.headers[pos]
            if ind.kind == "percentage":
                col, ans = _percentage(cells[pos], lines, ind, lookup, header, out)
            else:
                col, ans = _choice(cells[pos], lines, ind, lookup, header, out)
            out.columns[ind.column] = col
        answered[ind_id] = ans
    for text_id, pos in plan.texts.items():  # free-text follow-ups: kept as text, masked
        text = map_unique(cells[pos], lambda v: (mask(v).strip() or None) if v.strip() else None)
        out.columns[text_id] = pd.Series(text, index=cells.index, dtype="str")
    out.answered = pd.DataFrame(answered, index=cells.index, dtype=bool)
    return out


def report_unknown(values: pd.Series, bad: pd.Series, lines, header, ind_id, out) -> None:
    """Record the unknown answer values of one column in ``out.unknown`` (value, lines)."""
    if not bad.any():
        return
    frame = pd.DataFrame(
        {"value": values[bad].to_numpy(), "line": np.asarray(lines)[bad.to_numpy()]}
    )
    for value, grp in frame.groupby("value", sort=True):
        out.unknown.append(
            {
                "column": header,
                "indicator": ind_id,
                "value": mask(value),
                "count": len(grp),
                "lines": [int(x) for x in grp["line"].head(5)],
            }
        )


def _choice(series: pd.Series, lines, ind, lookup: dict, header: str, out: Decoded):
    values = series.str.strip()
    ids = [o.id for o in ind.options]
    position = {o: i for i, o in enumerate(ids)}
    unknown = set()

    def code(v):
        if v == "":
            return -1
        opt = lookup.get(key(v))
        if opt is None:
            unknown.add(v)
        return position.get(opt, -1)

    codes = map_unique(values, code, dtype=np.int64, missing=-1)
    if unknown:
        report_unknown(values, values.isin(unknown), lines, header, ind.id, out)
    col = pd.Series(
        pd.Categorical.from_codes(codes, categories=ids, ordered=ind.kind == "scale"),
        index=series.index,
        name=ind.column,
    )
    answered = codes >= 0
    if "sans_reponse" in position:
        answered &= codes != position["sans_reponse"]
    return col, answered


def _percentage(series: pd.Series, lines, ind, lookup: dict, header: str, out: Decoded):
    values = series.str.strip()
    silent = {v for v in pd.unique(values) if v and lookup.get(key(v)) in _NO_ANSWER}
    quiet = values.isin(silent)
    numbers, issue = parse_percentages(values.where(~quiet, ""))
    bad = issue != ""
    for i in np.flatnonzero(bad.to_numpy()):
        out.cells.append(
            {
                "line": int(lines[i]),
                "column": header,
                "value": mask(values.iloc[i]),
                "issue": issue.iloc[i],
            }
        )
    numbers.name = ind.id
    return numbers, numbers.notna().to_numpy(dtype=bool)


def _multi_columns(cells, lines, ind, plan: ColumnPlan, mapping: Mapping, out: Decoded):
    ticked = {key(v) for v in mapping.checked}
    unticked = {key(v) for v in mapping.unchecked}
    states: dict[str, pd.Series] = {}
    empties: dict[str, np.ndarray] = {}
    for opt in ind.options:
        pos = plan.options.get(ind.id, {}).get(opt.id)
        name = f"{ind.column}.{opt.id}"
        if pos is None:
            states[name] = pd.arrays.BooleanArray(
                np.zeros(len(cells), dtype=bool), np.ones(len(cells), dtype=bool)
            )
            empties[name] = np.zeros(len(cells), dtype=bool)
            continue
        values = cells[pos].str.strip()
        own = {key(opt.label), key(opt.id)}
        free_text = opt.id == "autre" or key(opt.label).startswith("autre")
        unknown = set()

        def state(v, own=own, free_text=free_text, unknown=unknown):
            if v == "":
                return -1
            k = key(v)
            if k in ticked or k in own:
                return 1
            if k in unticked:
                return 0
            if free_text:
                return 1
            unknown.add(v)
            return -1

        flags = map_unique(values, state, dtype=np.int8, missing=-1)
        if unknown:
            report_unknown(values, values.isin(unknown), lines, plan.headers[pos], ind.id, out)
        states[name] = pd.arrays.BooleanArray(flags == 1, flags < 0)
        empties[name] = (values == "").to_numpy()
    answered = np.zeros(len(cells), dtype=bool)
    for arr in states.values():
        answered |= ~arr.isna()
    cols = {}
    for name, arr in states.items():
        fill = empties[name] & answered
        if fill.any():
            arr = arr.copy()
            arr[fill] = False
        cols[name] = pd.Series(arr, index=cells.index)
    return cols, answered


def _multi_cell(series: pd.Series, lines, ind, lookup: dict, header: str, out: Decoded):
    values = series.str.strip()
    ids = [o.id for o in ind.options]
    decode: dict[str, tuple] = {}
    unknown_parts: dict[str, str] = {}
    for v in pd.unique(values):
        if v == "" or lookup.get(key(v)) in _NO_ANSWER:
            continue
        found, missing = [], []
        for part in (p for p in _SPLIT.split(v) if p):
            opt = lookup.get(key(part))
            if opt is None and "," in part:
                subs = [s.strip() for s in part.split(",") if s.strip()]
                opts = [lookup.get(key(s)) for s in subs]
                found += [o for o in opts if o in ids]
                missing += [s for s, o in zip(subs, opts, strict=True) if o is None]
            elif opt in ids:
                found.append(opt)
            elif opt is None:
                missing.append(part)
        decode[v] = tuple(found) if found or not missing else None
        if missing:
            unknown_parts[v] = missing[0]
    chosen = pd.Series(map_unique(values, decode), index=values.index)
    answered = chosen.notna().to_numpy(dtype=bool)
    if unknown_parts:
        bad = values.isin(list(unknown_parts))
        report_unknown(
            values.map(lambda v: unknown_parts.get(v, v)), bad, lines, header, ind.id, out
        )
    cols = {}
    missing = ~answered
    for opt in ids:
        flags = np.array([t is not None and opt in t for t in chosen.tolist()], dtype=bool)
        cols[f"{ind.column}.{opt}"] = pd.Series(
            pd.arrays.BooleanArray(flags, missing.copy()), index=values.index
        )
    return cols, answered
