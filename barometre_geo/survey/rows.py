"""From decoded files to responses: states of the rows and identification.

Every input row ends in exactly one state, decided in this order:

1. ``rejected`` — ``test_row`` (test column ticked, or a test word in the name),
   ``empty`` (no question of the questionnaires answered), ``out_of_scope`` (type
   of organisation out of the survey, or a syndicat whose département is
   unknown), ``unknown_wave``, ``unresolved`` / ``ambiguous`` (collectivity not
   identified);
2. ``superseded`` — the same collectivity answered the same questionnaire of the
   same wave in a row that ``keep`` prefers (:mod:`._ingest_dedup`);
3. ``accepted`` — the others.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import replace

import numpy as np
import pandas as pd

from .dedup import build_data, conflicts, deduplicate
from .identify import declared_kind, identify, normalise_departement, profile_of, territory_columns
from .report import IngestReport, file_names
from .text import key, keys, map_unique, mask

__all__ = ["assemble"]

_WAVE = re.compile(r"(?<!\d)([1-3])(?!\d)")
_ROLES = [
    "nom",
    "type",
    "type_question",
    "siren",
    "insee",
    "code",
    "code_postal",
    "departement",
    "fonction",
    "wave",
    "test",
]
_EXCEPTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_UNDECIDED = ("ambiguous", "unresolved")  # rows given suggestions in the report


def _concat(parts, get, empty) -> pd.Series:
    return pd.concat(
        [(get(p) if get(p) is not None else empty(p)).reset_index(drop=True) for p in parts],
        ignore_index=True,
    )


def _concat_columns(parts, names: list[str]) -> pd.DataFrame:
    """Question columns of every file, one frame; a column absent from a file is NA there."""
    blanks = {}
    for name in names:
        template = next(p["decoded"].columns[name] for p in parts if name in p["decoded"].columns)
        blanks[name] = template.iloc[:0].reset_index(drop=True)
    frames = []
    for p in parts:
        cols = p["decoded"].columns
        frames.append(
            pd.DataFrame(
                {
                    name: cols[name].reset_index(drop=True)
                    if name in cols
                    else blanks[name].reindex(range(p["n"]))
                    for name in names
                },
                index=pd.RangeIndex(p["n"]),
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=names)


def _official_exceptions(territories, markers: tuple[str, ...]) -> list[str]:
    """Keys of official names that contain a test word (Neauphe-sous-Essai)."""
    cache = _EXCEPTIONS.setdefault(territories, {})
    if markers not in cache:
        names = keys(pd.concat([territories.communes["nom"], territories.epci["nom"]]))
        cache[markers] = [f" {k} " for k in names if any(m in f" {k} " for m in markers)]
    return cache[markers]


def _test_rows(names: pd.Series, test_col: pd.Series, mapping, territories):
    """Test rows: test column ticked, or a test word in the name (official names excepted)."""
    markers = tuple(f" {key(m)} " for m in mapping.test_markers if key(m))
    exceptions = _official_exceptions(territories, markers)

    def is_test(k):
        k = f" {k} "
        for e in exceptions:
            k = k.replace(e, " ")
        return any(m in k for m in markers)

    ticked = {key(v) for v in mapping.checked}
    codes, uniques = pd.factorize(names)
    flags = np.array([is_test(k) for k in keys(pd.Series(uniques)).tolist()] + [False])
    by_name = flags[codes]
    by_column = map_unique(test_col, lambda v: key(v) in ticked).astype(bool)
    return by_name, by_column


def _issue(parts, rows: dict, i: int, role: str, value, issue: str) -> dict:
    """Return the rejected cell of row ``i``, under the header its file gives the role."""
    file = rows["file"][i]
    header = next((p["headers"].get(role) for p in parts if p["file"] == file), role)
    return {
        "file": file,
        "line": int(rows["line"][i]),
        "column": header,
        "value": mask(value),
        "issue": issue,
    }


def _questionnaires(answered: pd.DataFrame, substantive, inds, themes):
    """Questions answered per row, bit mask and names of the questionnaires answered."""
    n = len(answered)
    answers = answered[substantive].to_numpy().sum(axis=1).astype(np.int64)
    theme_mask = np.zeros(n, dtype=np.int64)
    names = np.full(n, "", dtype=object)
    for bit, t in enumerate(themes):
        hit = answered[[i for i in substantive if inds[i].theme == t]].to_numpy().any(axis=1)
        theme_mask |= hit.astype(np.int64) << bit
        names[hit] = names[hit] + " " + t
    return answers, theme_mask, np.array([s.strip() for s in names], dtype=object)


def _waves(answered: pd.DataFrame, substantive, inds, raw: pd.Series, mapping):
    """Wave of each row: the mapping's, else the wave column, else the answers' only wave.

    Returns the waves (0 where several waves are answered and no wave is given), the
    per-wave hits, and the mask of unreadable wave cells.
    """
    hits = np.column_stack(
        [
            answered[[i for i in substantive if inds[i].wave == w]].to_numpy().any(axis=1)
            for w in (1, 2, 3)
        ]
    )
    inferred = np.where(hits.sum(axis=1) == 1, hits.argmax(axis=1) + 1, 0)
    raw = raw.str.strip()
    column = raw.str.extract(_WAVE)[0].astype(float).fillna(0).astype(int).to_numpy()
    unreadable = (raw != "").to_numpy() & (column == 0)
    if mapping.wave:
        return np.full(len(raw), int(mapping.wave)), hits, np.zeros(len(raw), dtype=bool)
    return np.where(column > 0, column, inferred), hits, unreadable


def _other_waves(parts, rows, answered, values, substantive, inds, mapping, issues) -> np.ndarray:
    """Blank and report the answers to questions of another wave than the mapping's ``wave:``.

    A mapping saying ``wave: 1`` states that every row answers wave 1. An answer to a
    question of wave 2 in such a file cannot be placed without a guess (a merged export?
    a wrong declaration?): it is not counted, and each such cell is listed in the ingest
    report with the fix (no ``wave:``, the wave then read from the answers, or a wave
    column). Rows left with no answer are then rejected as empty. Returns the mask of
    the rows whose answers were blanked.
    """
    declared = int(mapping.wave) if mapping.wave else 0
    other = [i for i in substantive if declared and inds[i].wave not in (0, declared)]
    blanked = np.zeros(len(answered), dtype=bool)
    if not other:
        return blanked
    header_of = {}
    for p in parts:
        plan = p["plan"]
        for ind in other:
            pos = plan.questions.get(ind)
            if pos is None and plan.options.get(ind):
                pos = next(iter(plan.options[ind].values()))
            header_of[(p["file"], ind)] = plan.headers[pos] if pos is not None else ind
    for ind in other:
        hit = answered[ind].to_numpy()
        w = inds[ind].wave
        for i in np.flatnonzero(hit):
            issues.append(
                {
                    "file": rows["file"][i],
                    "line": int(rows["line"][i]),
                    "column": header_of.get((rows["file"][i], ind), ind),
                    "value": ind,
                    "issue": (
                        f"question de la vague {w} dans un fichier déclaré vague {declared} "
                        f"(mapping « wave: {declared} ») : réponse non comptée — si le fichier "
                        "mêle les vagues, retirez « wave: » du mapping (la vague se lit alors "
                        "dans les réponses) ou ajoutez une colonne de vague"
                    ),
                }
            )
        if hit.any():
            blanked |= hit
            answered[ind] = False
            for col in (*inds[ind].columns, *_text_of(inds[ind])):
                if col in values.columns:
                    values[col] = values[col].mask(hit)
    return blanked


def _text_of(ind) -> tuple[str, ...]:
    return (ind.free_text.id,) if ind.free_text else ()


def _data_columns(parts, inds: dict, ordered: list[str], special: list[str]) -> list[str]:
    """Question columns in catalogue order, each free-text follow-up after its question."""
    texts = {t for p in parts for t in p["plan"].texts}
    out = []
    for i in ordered:
        if inds[i].column not in special:
            out += list(inds[i].columns)
        out += [t for t in _text_of(inds[i]) if t in texts]
    owned = {t for i in ordered for t in _text_of(inds[i])}
    return out + sorted(texts - owned)


def assemble(parts, *, catalogue, mapping, territories, keep, edition, synthetic):
    """Return ``(data, report)`` from the decoded files (see module docstring)."""
    n = sum(p["n"] for p in parts)
    inds = {i.id: i for i in catalogue.indicators}
    found_ids = {i for p in parts for i in p["plan"].indicator_ids()}
    ordered = [i for i in inds if i in found_ids]
    substantive = [i for i in ordered if inds[i].theme != "profil"]
    roles = {
        r: _concat(
            parts, lambda p, r=r: p["roles"].get(r), lambda p: pd.Series([""] * p["n"], dtype="str")
        )
        for r in _ROLES
    }
    shown = file_names(p["file"] for p in parts)  # the report names files without folders
    rows = {
        "file": np.concatenate([np.full(p["n"], p["file"], dtype=object) for p in parts]),
        "name": np.concatenate([np.full(p["n"], shown[p["file"]], dtype=object) for p in parts]),
        "line": np.concatenate([np.asarray(p["lines"], dtype=np.int64) for p in parts]),
        "dates": _concat(parts, lambda p: p["dates"], None),
        "reason": np.full(n, "", dtype=object),
        "detail": np.full(n, "", dtype=object),
    }
    answered = pd.concat(
        [p["decoded"].answered.reindex(columns=ordered, fill_value=False) for p in parts],
        ignore_index=True,
    ).astype(bool)
    special = [inds[i].column for i in ordered if inds[i].column in ("kind", "profile")]
    data_cols = _data_columns(parts, inds, ordered, special)
    values = _concat_columns(parts, data_cols + special)
    issues = [dict(i, file=p["file"]) for p in parts for i in p["issues"]]

    # ---- answers to another wave's questions in files declared for one wave: not counted
    blanked = _other_waves(parts, rows, answered, values, substantive, inds, mapping, issues)

    # ---- questionnaires answered, completeness, wave
    themes = [t.id for t in catalogue.themes if t.wave > 0]
    rows["answers"], rows["theme_mask"], rows["themes"] = _questionnaires(
        answered, substantive, inds, themes
    )
    wave, wave_hits, unreadable = _waves(answered, substantive, inds, roles["wave"], mapping)
    for i in np.flatnonzero(unreadable):  # the wave is then inferred from the answers
        issues.append(
            _issue(
                parts, rows, i, "wave", roles["wave"].iat[i], "vague illisible (1, 2 ou 3 attendu)"
            )
        )

    # ---- declared kind, profile, département hint
    # declared kind: the type question's option, else a `types` label in its text or in
    # the free "type" column, else a "*" pattern in the name (Syndicat…)
    type_text = roles["type_question"].where(roles["type_question"] != "", roles["type"])
    has_type = bool((type_text != "").any())
    declared = declared_kind(type_text if has_type else None, roles["nom"], mapping.types)
    if "kind" in special:
        asked = values["kind"].astype(object)
        declared = asked.where(asked.notna(), declared)
    profile = profile_of(roles["fonction"], mapping.profiles)
    if "profile" in special:
        asked = values["profile"].astype(object)
        profile = asked.where(asked.isin(["agent", "elu"]), profile)
    dept, bad_dept = normalise_departement(roles["departement"], territories)
    for i in np.flatnonzero(bad_dept.to_numpy()):
        issues.append(
            _issue(
                parts, rows, i, "departement", roles["departement"].iat[i], "département inconnu"
            )
        )

    # ---- rejections before identification
    reason, detail = rows["reason"], rows["detail"]

    def reject(sel, code, text):
        sel = sel & (reason == "")
        reason[sel], detail[sel] = code, text

    by_name, by_column = _test_rows(roles["nom"], roles["test"], mapping, territories)
    test_header = next((p["headers"]["test"] for p in parts if "test" in p["headers"]), "test")
    reject(by_column, "test_row", f"colonne « {test_header} » cochée")
    for i in np.flatnonzero(by_name & (reason == "")):
        reason[i] = "test_row"
        detail[i] = f"mot de test dans le nom « {mask(roles['nom'].iat[i])} »"
    if mapping.wave:
        reject(
            (rows["answers"] == 0) & blanked,
            "empty",
            f"aucune question de la vague {mapping.wave} déclarée par le mapping renseignée (ses "
            "réponses à une autre vague ne sont pas comptées : voir les cellules rejetées)",
        )
    reject(rows["answers"] == 0, "empty", "aucune question des questionnaires renseignée")
    for i in np.flatnonzero((declared == "hors_champ").to_numpy() & (reason == "")):
        reason[i] = "out_of_scope"
        detail[i] = f"type « {mask(type_text.iat[i])} » hors du champ de l’enquête"
    for i in np.flatnonzero((wave == 0) & (reason == "")):
        waves = ", ".join(str(w + 1) for w in np.flatnonzero(wave_hits[i]))
        reason[i] = "unknown_wave"
        detail[i] = (
            f"réponses à plusieurs vagues ({waves}) sans colonne de vague : ajoutez-la au mapping "
            "(columns: wave: …) ou fixez la vague (wave: 1)"
        )

    # ---- identification, syndicats, territory columns
    found = _identify_rows(roles, declared, dept, territories, reason, detail, mapping)
    terr = territory_columns(found, territories)
    _syndicats(found, terr, roles, type_text, declared, dept, territories, reason, detail)
    status = found["status"].to_numpy(dtype=object)
    pending = (reason == "") & (status != "resolved") & (status != "syndicat")
    reason[pending] = np.where(status[pending] == "ambiguous", "ambiguous", "unresolved")
    ok = reason == ""
    collectivity = np.full(n, None, dtype=object)
    kinds = found["kind"].to_numpy(dtype=object)
    codes = found["key"].to_numpy(dtype=object)
    collectivity[ok] = [f"{k}:{c}" for k, c in zip(kinds[ok], codes[ok], strict=True)]

    # ---- de-duplication and data
    rows["state"] = np.where(ok, "accepted", "rejected").astype(object)
    rid = np.full(n, None, dtype=object)
    rid[ok] = [f"{edition}:v{w}:{c}" for w, c in zip(wave[ok], collectivity[ok], strict=True)]
    rows["response_id"] = rid
    primary, merged = deduplicate(rows, keep)
    keep_idx = np.flatnonzero(primary)
    ident = pd.DataFrame(
        {
            "response_id": rid,
            "edition": edition,
            "wave": wave.astype(np.int64),
            "submitted_at": rows["dates"].to_numpy(dtype="datetime64[us]"),
            "source_file": rows["file"],
            "source_line": rows["line"],
            "kind": kinds,
            "type_label": terr["type_label"].to_numpy(dtype=object),
            "siren": terr["siren"].to_numpy(dtype=object),
            "code": found["code"].to_numpy(dtype=object),
            "level": found["level"].to_numpy(dtype=object),
            "commune": terr["commune"].to_numpy(dtype=object),
            "epci": terr["epci"].to_numpy(dtype=object),
            "departement": terr["departement"].to_numpy(dtype=object),
            "region": terr["region"].to_numpy(dtype=object),
            "population": terr["population"].astype("Int64").array,
            "profile": profile.to_numpy(dtype=object),
            "fonction": roles["fonction"].to_numpy(dtype=object),
        }
    )

    def theme_columns(i):
        for t in rows["themes"][i].split():
            yield [
                c
                for ind in substantive
                if inds[ind].theme == t
                for c in (*inds[ind].columns, *_text_of(inds[ind]))
                if c in values.columns
            ]

    data = build_data(ident, values[data_cols], keep_idx, merged, theme_columns)
    report_rows = pd.DataFrame(
        {
            "file": rows["file"],
            "line": rows["line"],
            "state": rows["state"],
            "reason": reason,
            "detail": detail,
            "candidates": list(found["candidates"]),
            "suggestions": [
                tuple(f"{c} {nom}" for _, c, nom in s) if why in _UNDECIDED else ()
                for s, why in zip(found["suggestions"], reason, strict=True)
            ],
            "typed": [
                mask(t) if t and why in _UNDECIDED else ""
                for t, why in zip(found["typed"], reason, strict=True)
            ],
            "response_id": np.where(rows["state"] == "rejected", None, rid),
            "wave": pd.array(np.where(wave > 0, wave, 0), dtype="Int64"),
            "code": found["code"].to_numpy(dtype=object),
            "collectivity": collectivity,
            "answers": rows["answers"],
            "themes": rows["themes"],
        }
    )
    report_rows.loc[report_rows["wave"] == 0, "wave"] = pd.NA
    report_rows = _with_damaged(parts, report_rows)
    contradictions = conflicts(
        rows, answered, values, {i: list(inds[i].columns) for i in substantive}, keep
    )
    report = _report(parts, report_rows, issues, catalogue, edition, synthetic)
    return data, replace(report, conflicts=contradictions)


def _with_damaged(parts, report_rows: pd.DataFrame) -> pd.DataFrame:
    """Add the damaged lines of the CSV files as rejected rows, in file and line order."""
    damaged = [(p["file"], d) for p in parts for d in p.get("damaged", ())]
    if not damaged:
        return report_rows
    extra = pd.DataFrame(
        {
            "file": [f for f, _ in damaged],
            "line": np.array([d.line for _, d in damaged], dtype=np.int64),
            "state": "rejected",
            "reason": [d.reason for _, d in damaged],
            "detail": [d.detail for _, d in damaged],
            "candidates": [()] * len(damaged),
            "suggestions": [()] * len(damaged),  # as on every other row (never NaN)
            "typed": "",
            "response_id": None,
            "wave": pd.array([pd.NA] * len(damaged), dtype="Int64"),
            "code": None,
            "collectivity": None,
            "answers": np.zeros(len(damaged), dtype=np.int64),
            "themes": "",
        }
    )
    order = {p["file"]: i for i, p in enumerate(parts)}
    out = pd.concat([report_rows, extra], ignore_index=True)
    rank = out["file"].map(order).to_numpy()
    return out.iloc[np.lexsort((out["line"].to_numpy(), rank))].reset_index(drop=True)


def _identify_rows(roles, declared, dept, territories, reason, detail, mapping) -> pd.DataFrame:
    """Resolve the rows not rejected yet; ``key`` is the code part of the collectivity key."""
    n = len(reason)
    found = pd.DataFrame(
        {
            c: np.full(n, None, dtype=object)
            for c in ("status", "kind", "code", "level", "nom", "key")
        }
    )
    found["candidates"] = [()] * n
    found["suggestions"] = [()] * n
    found["typed"] = ""
    todo = np.flatnonzero(reason == "")
    if not len(todo):
        return found
    ids = {
        r: roles[r].iloc[todo].reset_index(drop=True)
        for r in ("siren", "insee", "code", "code_postal", "nom")
        if (roles[r] != "").any()
    }
    sub = identify(
        ids,
        declared.iloc[todo].reset_index(drop=True),
        dept.iloc[todo].reset_index(drop=True),
        territories,
        pd.RangeIndex(len(todo)),
        holds=mapping.holds,
        corrections=mapping.corrections,
    )
    for c in ("status", "kind", "code", "level", "nom"):
        arr = found[c].to_numpy(dtype=object, copy=True)
        arr[todo] = sub[c].to_numpy(dtype=object)
        found[c] = arr
    found["key"] = found["code"]
    cand, sugg = list(found["candidates"]), list(found["suggestions"])
    typed = found["typed"].to_numpy(dtype=object, copy=True)
    for j, i in enumerate(todo):
        cand[i] = tuple(sub["candidates"].iat[j])
        sugg[i] = tuple(sub["suggestions"].iat[j])
        typed[i] = sub["typed"].iat[j]
    found["candidates"], found["suggestions"], found["typed"] = cand, sugg, typed
    detail[todo] = np.where(
        sub["status"].to_numpy() == "resolved",
        sub["corrected"].to_numpy(dtype=object),  # accepted through the mapping's corrections
        sub["detail"].to_numpy(dtype=object),
    )
    return found


def _syndicats(found, terr, roles, type_text, declared, dept, territories, reason, detail) -> None:
    """Keep syndicats whose département is known (from the column or their commune)."""
    todo = np.flatnonzero((declared == "syndicat").to_numpy() & (reason == ""))
    if not len(todo):
        return
    region_of = territories.departements.set_index("code")["region"]
    siren = roles["siren"].str.replace(r"\D", "", regex=True).str[:9]
    for i in todo:
        d = terr["departement"].iat[i] if pd.notna(terr["departement"].iat[i]) else dept.iat[i]
        if d is None or pd.isna(d):
            reason[i] = "out_of_scope"
            detail[i] = (
                "syndicat dont le département est inconnu (renseignez la colonne département)"
            )
            continue
        s = siren.iat[i] if len(siren.iat[i]) == 9 else None
        name = key(roles["nom"].iat[i])[:60]
        if s is None and not name:
            continue  # left unresolved: nothing identifies it
        for col, value in (
            ("status", "syndicat"),
            ("kind", "syndicat"),
            ("code", s),
            ("level", None),
            ("key", s or f"{d}:{name}"),
            ("candidates", ()),
        ):
            found.iat[i, found.columns.get_loc(col)] = value
        for col, value in (
            ("siren", s),
            ("commune", None),
            ("epci", None),
            ("departement", d),
            ("region", region_of.get(d)),
            ("type_label", type_text.iat[i][:80] or "Syndicat"),
        ):
            terr.iat[i, terr.columns.get_loc(col)] = value
        terr.iat[i, terr.columns.get_loc("population")] = pd.NA
        detail[i] = ""


def _report(parts, rows, issues, catalogue, edition, synthetic) -> IngestReport:
    cells = pd.DataFrame(issues, columns=["file", "line", "column", "value", "issue"])
    cells["value"] = cells["value"].map(mask)
    cells = cells.sort_values(["file", "line"], kind="stable").reset_index(drop=True)
    unknown = pd.DataFrame(
        [dict(u, file=p["file"]) for p in parts for u in p["decoded"].unknown],
        columns=["file", "column", "indicator", "value", "count", "lines"],
    )
    dropped = pd.DataFrame(
        [{"file": p["file"], "column": h} for p in parts for h in p["plan"].personal],
        columns=["file", "column"],
    )
    ignored = pd.DataFrame(
        [{"file": p["file"], "column": h, "why": w} for p in parts for h, w in p["plan"].ignored],
        columns=["file", "column", "why"],
    )
    themes = pd.DataFrame(
        [{"theme": t.id, "label": t.label, "wave": t.wave} for t in catalogue.themes if t.wave > 0]
    )
    return IngestReport(
        rows=rows,
        cells=cells,
        unknown_values=unknown,
        dropped_columns=dropped,
        ignored_columns=ignored,
        files=pd.DataFrame([p["info"] for p in parts]),
        themes=themes,
        edition=edition,
        synthetic=synthetic,
    )
