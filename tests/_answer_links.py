"""Scan a published folder for (collectivity, answer) pairs — the test of issue 12, item 1.

A reader of a published folder must not learn what a given collectivity
answered below what the maps publish. Two routes are searched:

* **joins by row**: every record of every published file (a JSON object, a CSV
  row, a GeoPackage feature, a line of text) that names an input row — file
  and line, e.g. ``{"file": "vague1.csv", "line": 1015}`` or « vague1.csv
  ligne 1015 » — is grouped by that row; a row whose records, taken together,
  hold the collectivity it was read as *and* one of its raw answers is a pair
  (the attack on ``rapports/import.json``: ``rows`` gives file, line → code,
  ``unknown_values`` file, line → « Oui en partie »);
* **pairs in one record**: a record holding a respondent's code and one of
  that respondent's raw textual answers.

The truth comes from the exports themselves (each input row's cells, through
the package's reader) and from the detailed report (each row's collectivity).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import defaultdict
from pathlib import Path

_LINE_KEYS = ("line", "lines", "ligne", "lignes")
_FILE_KEYS = ("file", "fichier")
_CODE_KEYS = ("code", "collectivity", "response_id", "insee", "siren", "code_insee")
#: A file named, then its line(s) further on the same sentence. The gap is bounded: an
#: unbounded lazy gap made the scan quadratic on the one-line JSON of the map pages
#: (every « x.csv » scanned to the end of a 1 MB line: > 15 min on a default build), and
#: a name starts a token (else every position of the pages' long encoded strings was a start).
_TEXT_REF = re.compile(
    r"(?<![\w.-])([\w.-]+\.(?:csv|xlsx))\b[^\n]{0,300}?\blignes? ((?:\d+(?:, )?)+)"
)


def public_structures(structures, territories) -> dict:
    """Commune code → names of the structures covering it, from the structures file alone.

    What the coverage publishes from public inputs (no answer enters it): a respondent
    who names its structure in free text gives no secret when that name is the one the
    structures file already lists for its commune.
    """
    from barometre_geo.coverage.measure import coverage

    communes = coverage(structures, territories).communes
    return {
        str(code): {n.strip() for n in str(names).split(" ; ") if n.strip()}
        for code, names in zip(communes["code"], communes["structures"], strict=True)
        if str(names).strip() not in ("", "nan", "None")
    }


def truth(paths, report, public: dict | None = None) -> dict:
    """(file name, line) → {"codes": …, "answers": …} of every accepted or superseded row.

    ``public``: collectivity code → values published from public inputs for it
    (:func:`public_structures`), which are no answer of the respondent's to protect.
    """
    from barometre_geo.survey.columns import plan_columns
    from barometre_geo.survey.mapping import default_mapping
    from barometre_geo.survey.read import read_table

    names = report.file_names()
    rows = report.rows[report.rows["state"] != "rejected"]
    out: dict = {}
    catalogue = None
    for path in paths:
        from barometre_geo.survey.catalogue import load_catalogue

        catalogue = catalogue or load_catalogue()
        table = read_table(path)
        plan = plan_columns(table.headers, table.cells, default_mapping(), catalogue)
        skip = set(plan.roles.values()) | {
            i for i, h in enumerate(table.headers) if h in plan.personal
        }
        answer_cols = [c for c in table.cells.columns if c not in skip]
        name = names.get(str(path), Path(path).name)
        mine = rows[rows["file"].astype(str) == str(path)].set_index("line")
        for i, line in enumerate(table.lines):
            if int(line) not in mine.index:
                continue
            row = mine.loc[int(line)]
            codes = {str(row["code"]), str(row["collectivity"]), str(row["response_id"])}
            answers = {
                str(v).strip()
                for v in table.cells.iloc[i][answer_cols]
                if str(v).strip() and not str(v).strip().replace(",", ".").isdigit()
            }
            for c in codes:
                answers -= (public or {}).get(c, set())
            out[(name, int(line))] = {"codes": codes - {"nan", "None"}, "answers": answers}
    return out


def _frame(path: Path):
    """A CSV file or every feature table of a GeoPackage, as DataFrames of strings."""
    import pandas as pd

    if path.suffix.lower() == ".csv":
        yield pd.read_csv(path, dtype=str, keep_default_na=False)
        return
    con = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in con.execute("SELECT table_name FROM gpkg_contents WHERE data_type='features'")
        ]
        for t in tables:
            frame = pd.read_sql_query(f'SELECT * FROM "{t}"', con)
            keep = [
                c
                for c in frame.columns
                if frame[c].dtype != object
                or not frame[c].map(lambda v: isinstance(v, bytes)).any()
            ]
            yield frame[keep].astype(str)
    finally:
        con.close()


def _records(path: Path, answers: set[str]):
    """Yield the records of one published file that may matter, as dicts (text: one per line).

    Tables (CSV, GeoPackage) are read whole; a row is kept when it names an
    input row (file and line) or holds one of the raw answers of the exports.
    """
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix == ".json":
        stack = [json.loads(path.read_text(encoding="utf-8"))]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                yield {k: v for k, v in node.items() if not isinstance(v, dict)}
                stack.extend(v for v in node.values() if isinstance(v, dict | list))
            elif isinstance(node, list):
                stack.extend(v for v in node if isinstance(v, dict | list))
    elif suffix in (".csv", ".gpkg"):
        for frame in _frame(path):
            refs = [c for c in frame.columns if c in _LINE_KEYS] and [
                c for c in frame.columns if c in _FILE_KEYS
            ]
            if refs:
                yield from frame.to_dict("records")
                continue
            # object values: pandas' hash table (the Arrow strings' isin rebuilds the
            # answers list for every column)
            values = pd.DataFrame(frame.to_numpy(dtype=object), columns=frame.columns, dtype=object)
            hit = values.isin(answers).any(axis=1).to_numpy()
            yield from frame[hit].to_dict("records")
    elif suffix in (".txt", ".md", ".toml", ".html"):
        for line in path.read_text(encoding="utf-8").splitlines():
            yield {"_text": line}


def _line_refs(rec: dict) -> list[tuple[str, int]]:
    if "_text" in rec:
        text = rec["_text"]
        if "ligne" not in text or (".csv" not in text and ".xlsx" not in text):
            return []
        return [
            (m.group(1), int(x))
            for m in _TEXT_REF.finditer(text)
            for x in m.group(2).split(",")
            if x.strip().isdigit()
        ]
    file = next((rec[k] for k in _FILE_KEYS if rec.get(k)), None)
    if file is None:
        return []
    out = []
    for k in _LINE_KEYS:
        v = rec.get(k)
        for x in v if isinstance(v, list) else [v]:
            if isinstance(x, int) or (isinstance(x, str) and x.isdigit()):
                out.append((Path(str(file)).name, int(x)))
    return out


def _values(rec: dict) -> set[str]:
    out = set()
    for v in rec.values():
        for x in v if isinstance(v, list) else [v]:
            if x is not None:
                out.add(str(x).strip())
    return out


def answer_links(folder: Path, rows: dict) -> list[str]:
    """Return the (collectivity, answer) pairs a reader of ``folder`` can form."""
    by_row: dict = defaultdict(set)  # (file, line) -> values of the records naming it
    text_by_row: dict = defaultdict(list)
    code_owner = {c: key for key, r in rows.items() for c in r["codes"]}
    answers = set().union(*(r["answers"] for r in rows.values())) if rows else set()
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel.startswith("assets/"):
            continue
        for rec in _records(path, answers):
            for ref in _line_refs(rec):
                by_row[ref] |= _values(rec)
                if "_text" in rec:
                    text_by_row[ref].append(rec["_text"])
            if "_text" in rec:
                continue
            codes = {str(rec[k]) for k in _CODE_KEYS if rec.get(k) is not None}
            for c in codes & set(code_owner):
                hit = rows[code_owner[c]]["answers"] & _values(rec)
                if hit:
                    found.append(f"{rel}: {c} next to its answer(s) {sorted(hit)[:3]}")
    for ref, values in by_row.items():
        r = rows.get(ref)
        if r is None:
            continue
        text = " ".join(text_by_row.get(ref, []))
        has_code = bool(r["codes"] & values) or any(
            re.search(rf"\b{re.escape(c)}\b", text) for c in r["codes"]
        )
        answers = (r["answers"] & values) | {a for a in r["answers"] if f"« {a} »" in text}
        if has_code and answers:
            found.append(f"{ref[0]} line {ref[1]}: its collectivity and {sorted(answers)[:3]}")
    return found
