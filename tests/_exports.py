"""Build small realistic survey exports for the ingest tests (written under tmp_path).

Headers follow the barometer's own export format (docs/contracts/survey.md, "Responses"):
identification columns, personal columns (to check they are dropped), then the
catalogue questions, multiple choice as LimeSurvey ``Question ? [Option]`` columns.
"""

from __future__ import annotations

import csv

IDENT = [
    "ID de la réponse",
    "Date de soumission",
    "Nom de la collectivité",
    "SIREN",
    "Code INSEE",
    "Département",
    "Type de collectivité",
    "Fonction du répondant",
    "Nom du répondant",
    "Adresse e-mail",
    "Téléphone",
]
EMAILS = ["jeanne.martin@mairie-exemple.fr", "p.durand@cc-exemple.fr", "dgs@ville-test.fr"]
PHONES = ["06 12 34 56 78", "+33 5 59 00 11 22", "0559001122"]
NAMES = ["Jeanne Martin", "Pierre Durand", "Zoé Lefèvre-Ânier"]


def question_headers(catalogue, waves=(1,), profile=True) -> list[str]:
    """Headers of the questions of some waves (LimeSurvey layout for multiple choice)."""
    out = []
    for ind in catalogue.indicators:
        if ind.wave in waves or (profile and ind.wave == 0):
            if ind.kind == "multiple_choice":
                out += [f"{ind.question} [{o.label}]" for o in ind.options]
            else:
                out.append(ind.question)
    return out


def make_row(catalogue, headers, ident: dict, answers: dict, *, person: int = 0) -> dict:
    """One export row: ``ident`` by header, ``answers`` by indicator id.

    An answer is a raw cell text, or for multiple choice a list of option ids
    (ticked with ``"Oui"``, others left empty) or a dict option id -> cell text.
    Indicators of the headers without an answer get their first option's label.
    """
    row = {h: "" for h in headers}
    row.update(
        {
            "Nom du répondant": NAMES[person % 3],
            "Adresse e-mail": EMAILS[person % 3],
            "Téléphone": PHONES[person % 3],
        }
    )
    row.update({k: v for k, v in ident.items()})
    present = set(headers)
    for ind in catalogue.indicators:
        value = answers.get(ind.id, _default(ind))
        if ind.kind == "multiple_choice":
            cells = value if isinstance(value, dict) else {o: "Oui" for o in value}
            for o in ind.options:
                h = f"{ind.question} [{o.label}]"
                if h in present:
                    row[h] = cells.get(o.id, "")
        elif ind.question in present:
            row[ind.question] = value
    return row


def _default(ind):
    if ind.kind == "multiple_choice":
        return [ind.options[0].id]
    if ind.kind == "percentage":
        return "10"
    if ind.id == "profil_type_collectivite":
        return ""
    if ind.id == "profil_fonction":
        return ""
    return ind.options[0].label


def write_csv(path, headers, rows, *, delimiter=";", encoding="utf-8", extra_header=None):
    """Write rows (dicts by header) as a CSV export; returns the path."""
    with open(path, "w", encoding=encoding, newline="", errors="strict") as f:
        w = csv.writer(f, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        w.writerow(extra_header or headers)
        for r in rows:
            w.writerow([r.get(h, "") for h in headers])
    return path


def write_xlsx(path, headers, rows):
    """Write rows as an .xlsx export with openpyxl; returns the path."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Réponses"
    ws.append(headers)
    for r in rows:
        ws.append([r.get(h, "") or None for h in headers])
    wb.save(path)
    return path
