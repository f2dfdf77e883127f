"""De-duplication of the identified rows and assembly of the responses table.

The unit is the response of one collectivity to one wave (``response_id``). Rows
competing for the same response are ranked by ``keep``; the best one is accepted.
A later-ranked row that answers questionnaires none of the accepted rows answered
(a file per questionnaire) is accepted too and merged into the same response;
otherwise it is ``superseded``. The common case is vectorised: only the groups
that really hold several questionnaires go through the greedy loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .text import map_unique, mask

__all__ = ["KEEP_RULES", "build_data", "conflicts", "deduplicate"]

#: What each ``keep`` rule keeps (French, for the reports).
KEEP_RULES = {
    "latest_complete": "la réponse la plus complète est gardée (à égalité, la plus récente, "
    "puis la dernière lue)",
    "latest": "la réponse la plus récente est gardée (à égalité, la dernière lue)",
    "first": "la première réponse est gardée (la plus ancienne, puis la première lue)",
}


def _rank_order(rid_codes, answers, dates, order, keep: str) -> np.ndarray:
    stamp = dates.to_numpy(dtype="datetime64[us]").astype(np.int64)
    nat = np.isnat(dates.to_numpy(dtype="datetime64[us]"))
    if keep == "first":
        stamp = np.where(nat, np.iinfo(np.int64).max, stamp)
        return np.lexsort((order, stamp, rid_codes))
    stamp = np.where(nat, np.iinfo(np.int64).min + 1, stamp)
    if keep == "latest":
        return np.lexsort((-order, -stamp, rid_codes))
    return np.lexsort((-order, -stamp, -answers, rid_codes))


def deduplicate(rows: dict, keep: str) -> tuple[np.ndarray, np.ndarray, list]:
    """Decide superseded rows among the ``accepted`` ones.

    Parameters
    ----------
    rows : dict of arrays
        ``state`` (modified in place), ``response_id``, ``answers``, ``dates``
        (Series), ``theme_mask`` (int bit mask of questionnaires), ``detail``
        (modified in place), ``name`` (of the file, as the report shows it), ``line``.
    keep : str

    Returns
    -------
    primary : bool array
        Rows that give their identification to a response.
        ``rows["replaced_by"]`` is set: for each superseded row, the row kept
        instead (-1 elsewhere).
    merged : list of (primary row, [other accepted rows of the same response])
    """
    state, rid = rows["state"], rows["response_id"]
    ok = np.flatnonzero(state == "accepted")
    n = len(state)
    primary = np.zeros(n, dtype=bool)
    replaced_by = rows.setdefault("replaced_by", np.full(n, -1, dtype=np.int64))
    merged: list = []
    if not len(ok):
        return primary, merged
    codes, _ = pd.factorize(pd.Series(rid[ok], dtype=object))
    order_k = _rank_order(
        codes, rows["answers"][ok], rows["dates"].iloc[ok], np.arange(len(ok)), keep
    )
    ranked, sorted_codes = ok[order_k], codes[order_k]
    starts = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
    head_pos = np.maximum.accumulate(np.where(starts, np.arange(len(ranked)), 0))
    heads = ranked[head_pos]
    masks = rows["theme_mask"]
    is_head = ranked == heads
    disjoint = ~is_head & ((masks[ranked] & masks[heads]) == 0)
    primary[ranked[is_head]] = True
    group_of = np.cumsum(starts) - 1
    special = set(group_of[disjoint].tolist())
    simple = ~is_head & ~np.isin(group_of, list(special))
    for i, h in zip(ranked[simple], heads[simple], strict=True):
        state[i] = "superseded"
        replaced_by[i] = h
        rows["detail"][i] = f"remplacée par la ligne {rows['line'][h]} de {rows['name'][h]}"
    for g in sorted(special):
        members = ranked[group_of == g]
        head, taken, extra = members[0], 0, []
        for i in members:
            if i != head and masks[i] & taken:
                state[i] = "superseded"
                replaced_by[i] = head
                rows["detail"][i] = (
                    f"remplacée par la ligne {rows['line'][head]} de {rows['name'][head]}"
                )
            elif i != head:
                extra.append(int(i))
            taken |= masks[i]
        if extra:
            merged.append((int(head), extra))
    return primary, merged


def conflicts(rows: dict, answered: pd.DataFrame, values: pd.DataFrame, columns: dict, keep: str):
    """Count contradictory answers between each superseded row and the row kept instead.

    Two rows of the same collectivity and wave contradict each other when a
    question answered in both got different answers. Counted per pair of
    files (the kept row's, the superseded row's), never per collectivity:
    the table can be published.

    Parameters
    ----------
    rows : dict of arrays
        ``replaced_by`` (from :func:`deduplicate`) and ``name`` (file names shown).
    answered : DataFrame
        Bool per row and question id: the row answered the question.
    values : DataFrame
        Decoded answers per row (question columns).
    columns : dict
        Question id -> its columns in ``values`` (one per option for multiple choice).
    keep : str

    Returns
    -------
    pandas.DataFrame
        ``file`` (kept), ``other_file`` (superseded), ``responses`` (superseded
        rows contradicting the kept one), ``answers`` (questions answered
        differently), ``rule`` (French).
    """
    out_columns = ["file", "other_file", "responses", "answers", "rule"]
    lost = np.flatnonzero(rows.get("replaced_by", np.array([], dtype=np.int64)) >= 0)
    if not len(lost):
        return pd.DataFrame(columns=out_columns)
    kept = rows["replaced_by"][lost]
    differ = np.zeros(len(lost), dtype=np.int64)
    for qid, cols in columns.items():
        if qid not in answered.columns:
            continue
        both = answered[qid].to_numpy()[lost] & answered[qid].to_numpy()[kept]
        if not both.any():
            continue
        changed = np.zeros(len(lost), dtype=bool)
        for col in cols:
            if col not in values.columns:
                continue
            a = values[col].astype(object).to_numpy()
            x, y = a[lost], a[kept]
            nx, ny = pd.isna(x), pd.isna(y)
            same = nx & ny
            pair = ~nx & ~ny
            same[pair] = [bool(u == v) for u, v in zip(x[pair], y[pair], strict=True)]
            changed |= ~same
        differ += both & changed
    frame = pd.DataFrame(
        {
            "file": rows["name"][kept],
            "other_file": rows["name"][lost],
            "responses": (differ > 0).astype(np.int64),
            "answers": differ,
        }
    )
    frame = frame[frame["responses"] > 0]
    if not len(frame):
        return pd.DataFrame(columns=out_columns)
    out = frame.groupby(["file", "other_file"], sort=False)[["responses", "answers"]].sum()
    out = out.reset_index()
    out["rule"] = KEEP_RULES[keep]
    return out[out_columns]


def build_data(
    ident: pd.DataFrame, values: pd.DataFrame, keep_idx, merged, theme_columns
) -> pd.DataFrame:
    """Return the responses table: identification columns then question columns.

    ``ident`` holds the identification columns of every input row, ``values``
    the question columns; ``keep_idx`` are the primary accepted rows; ``merged``
    adds the questionnaires answered in other rows of the same response.
    """
    data = ident.iloc[keep_idx].reset_index(drop=True)
    body = values.iloc[keep_idx].reset_index(drop=True)
    row_of = {int(i): j for j, i in enumerate(keep_idx)}
    dates = ident["submitted_at"]
    for head, extra in merged:
        j = row_of[head]
        for i in extra:
            for cols in theme_columns(i):
                body.loc[j, cols] = values.loc[i, cols].to_numpy()
            d = dates.iat[i]
            if pd.notna(d) and (
                pd.isna(data.at[j, "submitted_at"]) or d > data.at[j, "submitted_at"]
            ):
                data.at[j, "submitted_at"] = d
    data = pd.concat([data, body], axis=1)
    for c in ident.columns:
        if data[c].dtype == object:
            data[c] = data[c].astype("str")
    data["fonction"] = pd.Series(
        map_unique(data["fonction"].fillna(""), lambda v: mask(v) if v.strip() else None),
        dtype="str",
    )
    return data
