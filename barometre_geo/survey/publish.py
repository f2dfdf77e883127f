"""What of the ingest report may be published: counts, never a row next to an answer.

The ingest report (:class:`~barometre_geo.survey.report.IngestReport`) accounts
for every input row: its ``rows`` table maps file and line to the
collectivity, its ``cells`` and ``unknown_values`` tables map file and line to
raw answer values. Published together, they say what a given collectivity
answered — e.g. a commune's « Oui en partie » to ``cyber_pra``, a sensitive
question never published below the département. So the report has two forms:

* the **public** form (:func:`public_dict`, :func:`public_text`; what
  ``barometre-geo build`` writes into ``rapports/``): counts per file, state,
  questionnaire, wave and reason; unknown answers and rejected cells *by
  column*, with their counts and a few example values (none for a sensitive
  question) but no line, no row, no collectivity; the personal-data and
  ignored columns by name. Nothing in it names a row, so nothing can be joined
  to another published file by file and line;
* the **detailed** form (:meth:`IngestReport.to_text`,
  :meth:`IngestReport.to_dict`): every rejected row, unknown answer and
  rejected cell with its file and line. It says it is private
  (:data:`PRIVATE_NOTICE`, defined in :mod:`~barometre_geo.survey.report`);
  ``barometre-geo validate`` prints it on the
  terminal of the person who holds the exports, and ``barometre-geo build
  --rapport-detaille DIR`` writes it into ``DIR``, outside the published
  folder, only when asked.
"""

from __future__ import annotations

import re

import pandas as pd

from .report import PRIVATE_NOTICE, REASONS, _n, _states_text, _w

__all__ = [
    "EXAMPLES",
    "PRIVATE_NOTICE",
    "PUBLIC_NOTICE",
    "public_dict",
    "public_text",
]

#: Example values shown per column in the public report.
EXAMPLES = 3

#: Note of the public report: where the detail is.
PUBLIC_NOTICE = (
    "Version publiable : des comptes, aucune ligne ni collectivité à côté d'une réponse. "
    "Le détail ligne par ligne (privé) : barometre-geo validate FICHIERS, ou "
    "barometre-geo build --rapport-detaille DOSSIER (hors du dossier publié)."
)


def _sensitive_ids() -> set[str]:
    """Ids of the sensitive indicators of the packaged catalogue."""
    from .catalogue import load_catalogue

    return {ind.id for ind in load_catalogue().indicators if ind.sensitive}


def _by_column(frame: pd.DataFrame, keys: list[str], names: dict, sensitive: set[str]) -> list:
    """Rows of ``frame`` summed per ``keys``: count, distinct values, examples, no line."""
    if not len(frame):
        return []
    data = frame.assign(file=frame["file"].map(lambda f: names.get(str(f), str(f))))
    if "count" not in data:
        data = data.assign(count=1)
    out = []
    for key, grp in data.groupby(keys, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        rec = {k: (None if pd.isna(v) else v) for k, v in zip(keys, key, strict=True)}
        values = grp.groupby("value", sort=False)["count"].sum().sort_values(ascending=False)
        hide = str(rec.get("indicator")) in sensitive
        rec["count"] = int(grp["count"].sum())
        rec["distinct_values"] = len(values)
        rec["examples"] = [] if hide else [str(v) for v in values.index[:EXAMPLES]]
        if hide:
            rec["note"] = "indicateur sensible : valeurs non reproduites"
        out.append(rec)
    return out


def _cells(report) -> pd.DataFrame:
    """Rejected cells with the indicator of their column when the report knows it."""
    cells = report.cells
    if not len(cells) or "indicator" in cells:
        return cells
    known = report.unknown_values[["file", "column", "indicator"]].drop_duplicates(
        ["file", "column"]
    )
    return cells.merge(known, on=["file", "column"], how="left")


_LINES = (
    re.compile(r"\s*\(lignes? \d[^)]*\)"),  # « (lignes 3, 5) »
    re.compile(r"\s*;\s*lignes? \d[^)]*"),  # « …, ignorés ; lignes 3, 5) »
)


def _without_lines(note: str) -> str:
    """Return a reading note without its list of lines (the public form names no line).

    Examples
    --------
    >>> _without_lines("2 lignes plus courtes que l’en-tête, complétées (lignes 3, 7).")
    '2 lignes plus courtes que l’en-tête, complétées.'
    >>> _without_lines("1 ligne avec des cellules vides (séparateurs, ignorés ; ligne 4) : voyez")
    '1 ligne avec des cellules vides (séparateurs, ignorés) : voyez'
    """
    for pattern in _LINES:
        note = pattern.sub("", note)
    return note


def _public_files(report, names: dict) -> pd.DataFrame:
    """Return the files table, its reading notes without their lines."""
    files = report._named(report.files, names)
    if "notes" in files.columns:
        files = files.assign(
            notes=[
                [_without_lines(str(n)) for n in notes] if isinstance(notes, list | tuple) else []
                for notes in files["notes"]
            ]
        )
    return files


def public_dict(report) -> dict:
    """Return the publishable form of an ingest report, as JSON-serialisable dicts and lists.

    Counts per file, state, questionnaire, wave and rejection reason; unknown
    answers and rejected cells per column (count, number of distinct values,
    up to :data:`EXAMPLES` examples — none for a sensitive question); personal
    and ignored columns by name. No line number, row, response id or
    collectivity: nothing can be joined to another published file.

    Examples
    --------
    >>> from barometre_geo.survey.report import IngestReport, _empty
    >>> d = public_dict(IngestReport(rows=_empty(IngestReport.ROW_COLUMNS)))
    >>> "rows" in d, d["public"]
    (False, True)
    """
    names = report.file_names()
    sensitive = _sensitive_ids()

    def records(frame: pd.DataFrame) -> list[dict]:
        import json

        frame = report._named(frame, names).reset_index()
        return json.loads(frame.to_json(orient="records", force_ascii=False))

    files = _public_files(report, names)
    return {
        "public": True,
        "notice": PUBLIC_NOTICE,
        "edition": report.edition,
        "synthetic": report.synthetic,
        "summary": report.summary(),
        "files": records(files.set_index("file")) if len(files) else [],
        "by_file": records(report.by_file()),
        "by_questionnaire": records(report.by_questionnaire()),
        "by_wave": records(report.by_wave()),
        "by_reason": records(report.by_reason()),
        "unknown_values": _by_column(
            report.unknown_values, ["file", "column", "indicator"], names, sensitive
        ),
        "cells": _by_column(
            _cells(report), ["file", "column", "indicator", "issue"], names, sensitive
        ),
        "dropped_columns": records(report.dropped_columns.set_index("file"))
        if len(report.dropped_columns)
        else [],
        "ignored_columns": records(report.ignored_columns.set_index("file"))
        if len(report.ignored_columns)
        else [],
        # contradictory answers per pair of files: counts, no collectivity, no answer
        "conflicts": records(report._named(report.conflicts, names).set_index("file"))
        if len(report.conflicts)
        else [],
    }


def public_text(report, *, limit: int = 20) -> str:
    """Return the publishable form of an ingest report, as French text.

    Same content as :func:`public_dict`: counts, and unknown answers and
    rejected cells per column without their lines.
    """
    d = public_dict(report)
    s = d["summary"]
    synth = " — DONNÉES SYNTHÉTIQUES (démonstration)" if report.synthetic else ""
    out = [
        f"Rapport d’import — édition {report.edition}{synth}",
        PUBLIC_NOTICE,
        "",
        f"{_w(s['rows'], 'lignes')} lue{'s' if s['rows'] > 1 else ''} : "
        f"{_w(s['accepted'], 'acceptées')}, {_w(s['superseded'], 'remplacées')} par une "
        f"réponse plus récente ou plus complète, {_w(s['rejected'], 'rejetées')}.",
        "",
        "Par fichier :",
    ]
    for r in d["by_file"]:
        out.append(f"  {r['file']} : {_states_text(r)}")
    notes = [f"  {f['file']} : {n}" for f in d["files"] for n in f.get("notes") or ()]
    if notes:
        out += ["", "Lecture des fichiers :", *notes]
    out += ["", "Par questionnaire (lignes ayant répondu à au moins une question) :"]
    for r in d["by_questionnaire"]:
        wave = "" if r.get("wave") is None else f" (vague {int(r['wave'])})"
        out.append(f"  {r['label'] or r['theme']}{wave} : {_states_text(r)}")
    out += ["", "Par vague (réponses acceptées / collectivités distinctes) :"]
    for r in d["by_wave"]:
        name = "Ensemble" if r["wave"] == "total" else f"Vague {r['wave']}"
        out.append(
            f"  {name} : {_w(r['responses'], 'réponses')}, "
            f"{_w(r['collectivities'], 'collectivités')}"
        )
    out += report._conflicts_text()
    if d["by_reason"]:
        out += ["", f"Lignes rejetées ({_n(s['rejected'])}) :"]
        for r in d["by_reason"]:
            out.append(f"  {REASONS.get(r['reason'], r['label'])} : {_n(r['rows'])}")

    def column_lines(items: list[dict], what: str) -> list[str]:
        lines = []
        for r in items[:limit]:
            issue = f" — {r['issue']}" if r.get("issue") else ""
            if r["examples"]:
                ex = ", ".join(f"« {v} »" for v in r["examples"])
                more = r["distinct_values"] - len(r["examples"])
                ex = f" : {ex}" + (f" et {more} autre(s)" if more > 0 else "")
            else:
                ex = f" ({r['note']})" if r.get("note") else ""
            lines.append(f"  - {r['file']}, « {r['column']} »{issue} : {_w(r['count'], what)}{ex}")
        if len(items) > limit:
            lines.append(f"  … et {_n(len(items) - limit)} autres colonnes")
        return lines

    if d["unknown_values"]:
        total = sum(r["count"] for r in d["unknown_values"])
        out += ["", f"Valeurs de réponse inconnues, laissées vides ({_w(total, 'cellules')}) :"]
        out += column_lines(d["unknown_values"], "cellules")
        out.append("  Ajoutez ces réponses au vocabulaire de votre fichier de mapping (values:).")
    if d["cells"]:
        total = sum(r["count"] for r in d["cells"])
        out += ["", f"Cellules rejetées ({_n(total)}) :"]
        out += column_lines(d["cells"], "cellules")
    if d["dropped_columns"]:
        out += ["", "Colonnes de données personnelles supprimées à la lecture :"]
        dropped = pd.DataFrame(d["dropped_columns"])
        for f, grp in dropped.groupby("file", sort=False):
            out.append(f"  {f} : " + ", ".join(f"« {c} »" for c in grp["column"]))
    if d["ignored_columns"]:
        out += ["", f"Colonnes non utilisées ({_n(len(d['ignored_columns']))}) :"]
        for r in d["ignored_columns"][:limit]:
            out.append(f"  - {r['file']}, « {r['column']} » : {r['why']}")
        if len(d["ignored_columns"]) > limit:
            out.append(f"  … et {_n(len(d['ignored_columns']) - limit)} autres")
    return "\n".join(out)
