"""Writing the demo edition in the barometer's raw export format, defects included.

One file per wave (docs/contracts/survey.md, "The barometer's own export format"), with
the formats a team really receives: wave 1 as the platform's ``;`` UTF-8 CSV,
wave 2 re-saved by Excel on Windows (``;`` Windows-1252, CRLF, day-first
dates, decimal commas, leading zeros of the codes lost, a blank line), wave 3
as an ``.xlsx`` workbook. Every row says ``Données synthétiques = oui``.

Defects that the reader must recover keep their row accepted (SIREN with
spaces, a SIRET, codes without their leading zero, a postal code in the INSEE
column, a name-only identification); the others are *extra* rows or cells
kept out of the calibration (earlier partial answers that the final one
supersedes, test rows, an association, an unknown commune, unknown answer labels,
a percentage of 140), so the accepted counts stay exact.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..territories.text import luhn_ok
from .people import fake_people, function_of

__all__ = ["FILE_FORMATS", "build_rows", "unique_postal_codes", "write_table"]

SYNTHETIC_HEADER = "Données synthétiques"
#: Title of the wave-3 workbook (file properties).
SYNTHETIC_TITLE = "Données synthétiques — démonstration, pas le baromètre réel"
IDENT = [
    SYNTHETIC_HEADER,
    "ID de la réponse",
    "Date de soumission",
    "Nom de la collectivité",
    "SIREN",
    "Code INSEE",
    "Département",
    "Fonction du répondant",
    "Nom du répondant",
    "Adresse e-mail",
    "Téléphone",
]
COMMENT = "Commentaires"
#: wave -> (file suffix, format)
FILE_FORMATS = {1: (".csv", "csv-utf8"), 2: (".csv", "csv-cp1252"), 3: (".xlsx", "xlsx")}
_TYPE_LABEL = {
    "commune": "Commune",
    "epci": "Intercommunalité (EPCI à fiscalité propre)",
    "departement": "Département",
    "region": "Région",
    "collectivite_a_statut_particulier": "Collectivité à statut particulier",
    "syndicat": "Syndicat ou autre groupement",
}
_COMMENTS = (
    "Questionnaire un peu long pour une petite commune.",
    "Nous attendons l'accompagnement de notre structure de mutualisation pour la suite.",
    "Merci pour ce baromètre.\nLes résultats nous aideront à convaincre le conseil municipal.",
    "Certaines questions ne concernent pas une commune sans agent technique.",
    "Réponses données avec la secrétaire de mairie.\nPoint à revoir avec l'intercommunalité.",
)
_OTHER_STRUCTURES = (
    "Centre de gestion",
    "Le syndicat informatique du département",
    "Notre intercommunalité (service commun)",
    "L'agence technique départementale\n(adhésion depuis 2021)",
)


def siret_of(siren: str, rng) -> str:
    """Return a SIRET of ``siren`` (establishment number with a valid Luhn key)."""
    nic = f"{int(rng.integers(1, 99)):04d}"
    return next(f"{siren}{nic}{k}" for k in range(10) if luhn_ok(f"{siren}{nic}{k}"))


def question_headers(catalogue, wave: int) -> list[tuple[str, object, str | None]]:
    """(header, indicator, option id) of the profile block and a wave's questions."""
    out = []
    for ind in catalogue.indicators:
        if ind.wave not in (0, wave):
            continue
        if ind.kind == "multiple_choice":
            out += [(f"{ind.question} [{o.label}]", ind, o.id) for o in ind.options]
        else:
            out.append((ind.question, ind, None))
        if ind.free_text is not None:
            out.append((ind.free_text.question, ind, "__free_text__"))
    return out


def unique_postal_codes(territories) -> dict[str, str]:
    """Map communes to a postal code that is theirs alone and no INSEE code."""
    idf = territories.identifiers
    kind = idf["kind"].to_numpy(dtype=object)
    keys = idf["key"].to_numpy(dtype=object)
    cp = pd.DataFrame(
        {
            "key": keys[kind == "code_postal"],
            "code": idf["code"].to_numpy(dtype=object)[kind == "code_postal"],
        }
    )
    codes = set(territories.communes["code"].to_numpy(dtype=object)) | set(
        keys[kind == "ancien_code"]
    )  # fmt: skip
    alone = cp.groupby("key")["code"].transform("nunique").to_numpy() == 1
    fresh = np.fromiter((k not in codes for k in cp["key"].to_numpy(dtype=object)), bool, len(cp))
    keep = cp[alone & fresh].sort_values(["code", "key"])
    return dict(zip(keep["code"], keep["key"], strict=True))


class _Identity:
    """Identification cells of the collectivities, with their recoverable defects."""

    def __init__(self, rng, territories, units: pd.DataFrame, postal: dict[str, str]):
        self.rng = rng
        self.units = units.to_dict("index")
        self.dep_names = dict(zip(territories.departements["code"], territories.departements["nom"],
                                  strict=True))  # fmt: skip
        self.postal = postal

    def departement_cell(self, code) -> str:
        if not isinstance(code, str):
            return ""
        r = self.rng.random()
        if r < 0.55:
            return str(code)
        name = self.dep_names.get(code, "")
        return name if r < 0.8 else f"{code} - {name}"

    def cells(self, u: int, style: str = "") -> dict[str, str]:
        """Identification of unit ``u``; ``style`` forces a defect."""
        rec = self.units[u]
        rng = self.rng
        kind, nom, siren = rec["kind"], str(rec["nom"]), str(rec["siren"])
        out = {"Département": self.departement_cell(rec["departement"])}
        if kind == "commune":
            r = rng.random()
            out["Nom de la collectivité"] = (
                nom if r < 0.55 else f"Mairie de {nom}" if r < 0.75
                else f"Commune de {nom}" if r < 0.85 else nom.upper()
            )  # fmt: skip
            has_siren = rng.random() < 0.85
            has_insee = (not has_siren) or rng.random() < 0.85
            out["SIREN"] = siren if has_siren else ""
            out["Code INSEE"] = str(rec["code"]) if has_insee else ""
        elif kind == "epci":
            out["Nom de la collectivité"] = nom
            out["SIREN"] = siren
        elif kind == "departement":
            out["Nom de la collectivité"] = f"{nom} (conseil départemental)"
            out["SIREN"] = siren
        elif kind == "region":
            out["Nom de la collectivité"] = f"Région {nom}"
            out["SIREN"] = siren
        else:  # statut particulier, syndicat
            out["Nom de la collectivité"] = nom
            out["SIREN"] = siren
        if out.get("SIREN") and not style:
            r = rng.random()
            if r < 0.03:
                style = "siren_spaces"
            elif r < 0.05:
                style = "siret"
        if style == "siren_spaces":
            out["SIREN"] = f"{siren[:3]} {siren[3:6]} {siren[6:]}"
        elif style == "siret":
            out["SIREN"] = siret_of(siren, rng)
        elif style == "postal_code":
            out["Code INSEE"] = self.postal[rec["code"]]
            out["SIREN"] = "" if rng.random() < 0.5 else out.get("SIREN", "")
        elif style == "name_only":
            out["Nom de la collectivité"] = f"Mairie de {nom}"
            out["SIREN"] = out["Code INSEE"] = ""
            out["Département"] = str(rec["departement"])
        return out


def _answer_cells(headers, answers, row: int, fmt: str, rng) -> dict[str, object]:
    cells: dict[str, object] = {}
    for header, ind, option in headers:
        if ind.column in ("kind", "profile") or option == "__free_text__":
            continue
        value = answers[ind.id]
        if ind.kind == "multiple_choice":
            if value["__answered__"][row]:
                cells[header] = "Oui" if value[option][row] else ""
        elif ind.kind == "percentage":
            x = value[row]
            if not np.isnan(x):
                text = f"{x:g}"
                if fmt == "csv-cp1252":
                    text = text.replace(".", ",") + (" %" if rng.random() < 0.15 else "")
                cells[header] = x if fmt == "xlsx" else text
        else:
            o = value[row]
            if o is not None:
                cells[header] = ind.option(o).label
    return cells


class _Context:
    """What every row needs: catalogue questions, identities, answers, defects."""

    def __init__(self, rng, catalogue, territories, units, resp, answers, plan, structures_of):
        self.rng, self.answers, self.plan, self.structures_of = rng, answers, plan, structures_of
        self.ident = _Identity(rng, territories, units, plan["postal"])
        self.resp = resp[["unit", "submitted_at", "profile"]].to_dict("records")
        units_of = resp["unit"].to_numpy()
        self.functions = function_of(
            rng,
            units["kind"].to_numpy(dtype=object)[units_of],
            units["population"].to_numpy(dtype=float)[units_of],
            resp["profile"].to_numpy(dtype=object),
        )
        self.people = fake_people(rng, len(resp))
        self.type_q = catalogue.get("profil_type_collectivite").question
        fonction = catalogue.get("profil_fonction")
        self.fonction_q = fonction.question
        self.fonction_label = {o.id: o.label for o in fonction.options}
        self.free_q = catalogue.get("profil_mutualisation").free_text.question
        self.cells = {}
        for (row, ind_id), value in plan["cells"].items():
            self.cells.setdefault(row, {})[catalogue.get(ind_id).question] = value
        self.themes = {q.wave: q.id for q in reversed(catalogue.questionnaires)}


def build_rows(rng, catalogue, territories, units, resp, answers, plan, structures_of) -> dict:
    """Rows (dicts by header) of each wave file, its header list and format.

    ``plan`` holds the defects (see :func:`barometre_geo.demo._plan_defects`);
    ``structures_of`` maps a unit to the name of a structure serving it.
    """
    ctx = _Context(rng, catalogue, territories, units, resp, answers, plan, structures_of)
    out = {}
    for wave in (1, 2, 3):
        fmt = FILE_FORMATS[wave][1]
        headers = question_headers(catalogue, wave)
        sel = np.flatnonzero(resp["wave"].to_numpy() == wave)
        rows = [_response_row(ctx, headers, int(i), fmt) for i in sel]
        rows += _extra_rows(ctx, headers, wave, fmt, rows)
        rows.sort(key=lambda r: (r["__time__"], r["__order__"]))
        for n, r in enumerate(rows, start=1):
            r["ID de la réponse"] = str(n)
            t = r.pop("__time__")
            r.pop("__order__")
            r["Date de soumission"] = (
                t.to_pydatetime() if fmt == "xlsx"
                else t.strftime("%d/%m/%Y %H:%M") if fmt == "csv-cp1252"
                else t.strftime("%Y-%m-%d %H:%M:%S")
            )  # fmt: skip
            if fmt == "csv-cp1252":  # Excel dropped the leading zeros of the codes
                for h in ("Code INSEE", "Département"):
                    v = r.get(h, "")
                    if v[:1] == "0" and v.isdigit():
                        r[h] = v.lstrip("0")
        if wave == 2:
            rows.insert(len(rows) // 2, {})  # a blank line left in the spreadsheet
        header_list = IDENT + [h for h, _, _ in headers] + [COMMENT]
        out[wave] = (header_list, rows, fmt)
    return out


def _response_row(ctx: _Context, headers, i: int, fmt: str, *, defects: bool = True) -> dict:
    rng, rec = ctx.rng, ctx.resp[i]
    u = int(rec["unit"])
    unit = ctx.ident.units[u]
    row: dict = {SYNTHETIC_HEADER: "oui", "__time__": rec["submitted_at"], "__order__": i}
    row.update(ctx.ident.cells(u, ctx.plan["identity"].get(i, "")))
    profile = rec["profile"]
    row["Fonction du répondant"] = ctx.functions[i]
    name, email, phone = ctx.people[i]
    row.update({"Nom du répondant": name, "Adresse e-mail": email, "Téléphone": phone})
    row[ctx.type_q] = _TYPE_LABEL[unit["kind"]]
    if rng.random() > 0.03:
        row[ctx.fonction_q] = ctx.fonction_label[profile]
    if ctx.answers["profil_mutualisation"][i] == "oui" and rng.random() < 0.7:
        others = _OTHER_STRUCTURES[int(rng.integers(len(_OTHER_STRUCTURES)))]
        row[ctx.free_q] = ctx.structures_of.get(u) or others
    row.update(_answer_cells(headers, ctx.answers, i, fmt, rng))
    if rng.random() < 0.04:
        row[COMMENT] = _COMMENTS[int(rng.integers(len(_COMMENTS)))]
    if defects:
        row.update(ctx.cells.get(i, {}))
        if ctx.plan["comment_email"] == i:
            row[COMMENT] = f"Contact pour la suite :\n{email}"
    return row


def _extra_rows(ctx: _Context, headers, wave: int, fmt: str, rows: list[dict]) -> list[dict]:
    """Rows that must not be accepted: earlier partial answers, tests, out of scope."""
    rng, extra = ctx.rng, []
    first_theme = ctx.themes[wave]
    for i in ctx.plan["superseded"].get(wave, ()):
        row = _response_row(ctx, headers, i, fmt, defects=False)
        for h, ind, _ in headers:  # stopped after the first questionnaire
            if ind.theme not in ("profil", first_theme):
                row.pop(h, None)
        row.pop(COMMENT, None)
        row["__time__"] = ctx.resp[i]["submitted_at"] - pd.Timedelta(
            days=int(rng.integers(1, 15)), minutes=int(rng.integers(5, 600))
        )
        row["__order__"] = -1 - len(extra)
        extra.append(row)
    for label, kind in ctx.plan["rejected"].get(wave, ()):
        template = dict(rows[int(rng.integers(len(rows)))])
        for h in ("SIREN", "Code INSEE", "Département", COMMENT):
            template.pop(h, None)
        template["Nom de la collectivité"] = label
        template[ctx.type_q] = kind
        template["__order__"] = -100 - len(extra)
        extra.append(template)
    return extra


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def write_table(path: Path, headers: list[str], rows: list[dict], fmt: str) -> None:
    """Write one wave file deterministically (byte-identical for the same rows)."""
    if fmt == "xlsx":
        from .._xlsx import xlsx_bytes

        rows = [[r.get(h) for h in headers] for r in rows]
        path.write_bytes(xlsx_bytes(headers, rows, title=SYNTHETIC_TITLE))
        return
    buf = io.StringIO(newline="")
    crlf = fmt == "csv-cp1252"
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n" if crlf else "\n")
    w.writerow(headers)
    for r in rows:
        w.writerow([_text(r.get(h, "")) for h in headers])
    path.write_bytes(buf.getvalue().encode("cp1252" if crlf else "utf-8"))
