"""Survey responses: reading real exports into clean, identified, de-duplicated responses.

:func:`read_responses` reads one or more exports of the barometer (CSV of any
survey platform, Excel), drops personal data at once, decodes the answers with a
:class:`~barometre_geo.Mapping`, identifies every collectivity against the
territorial reference and keeps one response per collectivity and wave. Its
:class:`~barometre_geo.IngestReport` accounts for every input row, rejected cell,
unknown answer and dropped column. Nothing is lost, nobody is exposed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd

from ..errors import InputFileError, SchemaError, UnknownValueError
from .answers import decode_answers, report_unknown
from .columns import closest_headers, plan_columns
from .identify import unknown_types
from .mapping import Mapping, default_mapping, load_mapping
from .read import read_table
from .report import IngestReport
from .rows import assemble
from .text import key, parse_dates

__all__ = [
    "IngestReport",
    "Keep",
    "Mapping",
    "Responses",
    "default_mapping",
    "load_mapping",
    "read_responses",
]

Keep = Literal["latest_complete", "latest", "first"]
_ID_ROLES = ("siren", "insee", "code", "code_postal", "nom")


def _parse_keep(keep: str) -> str:
    if keep not in get_args(Keep):
        raise UnknownValueError(
            f"Unknown keep={keep!r}. Valid values: {', '.join(get_args(Keep))} "
            "(which answer to keep when a collectivity answered the same wave twice).",
            fr=f"keep={keep!r} inconnu. Valeurs possibles : {', '.join(get_args(Keep))} "
            "(la réponse gardée quand une collectivité a répondu deux fois à la même vague).",
        )
    return keep


@dataclass(frozen=True, repr=False, eq=False)
class Responses:
    """Clean responses of one edition and the report of their ingest.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per accepted response of one collectivity to one wave (columns:
        docs/contracts/survey.md, "Responses"): identification, territory codes,
        ``profile``, then one column per question (Categorical of option ids,
        float64 percentages, or one boolean column per option).
    report : IngestReport
        What happened to every input row, cell and column.
    catalogue : Catalogue
        The indicator catalogue the answers were decoded with.
    edition : str
    synthetic : bool
        True when the input files declare themselves synthetic (demo data):
        a ``synthetic: true`` mapping or a "Données synthétiques" column.
    """

    data: pd.DataFrame
    report: IngestReport
    catalogue: object
    edition: str
    synthetic: bool = False

    def indicators(self) -> list[str]:
        """Ids of the catalogue indicators present in :attr:`data`."""
        cols = set(self.data.columns)
        return [i.id for i in self.catalogue.indicators if any(c in cols for c in i.columns)]

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        waves = self.data["wave"].value_counts().sort_index()
        per_wave = ", ".join(f"wave {w}: {n:,}" for w, n in waves.items())
        s = self.report.summary()
        flag = " [SYNTHETIC DEMO DATA]" if self.synthetic else ""
        return (
            f"<Responses {self.edition}{flag}: {len(self.data):,} responses ({per_wave}) from "
            f"{s['collectivities']:,} collectivities, {len(self.indicators())} indicators; "
            f"{s['rows']:,} input rows: {s['superseded']:,} superseded, {s['rejected']:,} rejected>"
        )

    def _repr_html_(self) -> str:
        flag = " <strong>— données synthétiques</strong>" if self.synthetic else ""
        head = (
            f"<p><strong>Réponses — édition {escape(self.edition)}</strong>{flag} : "
            f"{len(self.data):,} réponses, {len(self.indicators())} indicateurs.</p>"
        ).replace(",", "\u202f")
        return f"<div>{head}{self.report._repr_html_()}</div>"


def _paths(paths) -> list[Path]:
    if isinstance(paths, str | os.PathLike):
        return [Path(paths)]
    if isinstance(paths, Iterable):
        out = [Path(p) for p in paths]
        if out:
            return out
    raise SchemaError(
        "read_responses() needs at least one export file: pass a path or a list of paths, "
        "e.g. read_responses(['vague1.csv', 'vague2.xlsx']).",
        fr="Il faut au moins un fichier d’export : donnez un chemin ou une liste de chemins.",
    )


def read_responses(
    paths,
    *,
    mapping=None,
    edition: str | None = None,
    territories=None,
    keep: Keep = "latest_complete",
    catalogue=None,
) -> Responses:
    r"""Read survey exports into clean, identified, de-duplicated responses.

    Parameters
    ----------
    paths : path-like or list of path-like
        CSV (``;`` ``,`` tab, UTF-8 with or without BOM, Windows-1252) or
        ``.xlsx`` exports. Usually one file per wave; a file may also hold
        several waves (with a wave column) or a single questionnaire.
    mapping : path-like, dict or Mapping, optional
        How columns and answers map to the catalogue (see
        :func:`barometre_geo.load_mapping`). Default: the barometer's own format.
    edition : str, optional
        Edition label; default the mapping's, else the catalogue's (``"2023-2025"``).
    territories : Territories, optional
        Territorial reference; default the embedded COG 2025.
    keep : {"latest_complete", "latest", "first"}
        When a collectivity answered the same wave twice: keep the most complete
        answer (most questions answered; ties broken by the latest date), the
        latest, or the first. Rows answering different questionnaires of the
        same wave are merged into one response.
    catalogue : Catalogue, optional
        Indicator catalogue; default :func:`barometre_geo.load_catalogue`.

    Returns
    -------
    Responses
        ``data`` (one row per response) and ``report``.

    Raises
    ------
    InputFileError
        A file is missing, unreadable, or in an unknown encoding.
    SchemaError
        A file has no identification column or no question column (the
        message gives the closest headers and the mapping key to add).
    UnknownValueError
        ``keep`` is not one of the valid values.

    Examples
    --------
    An export whose headers are the catalogue questions, with an INSEE code
    missing its leading zero and a personal column:

    >>> import pathlib, tempfile, barometre_geo as bg
    >>> q = bg.load_catalogue().get("cyber_pca").question
    >>> text = f"Code INSEE;Courriel;{q}\n64445;dgs@pau.fr;Oui\n1001;m@a.fr;NSP\n"
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp, "vague1.csv")
    ...     _ = path.write_text(text, encoding="utf-8")
    ...     r = bg.read_responses(path)
    >>> r.data[["code", "wave", "kind", "cyber_pca"]].values.tolist()
    [['64445', 1, 'commune', 'oui'], ['01001', 1, 'commune', 'ne_sait_pas']]
    >>> r.report.dropped_columns["column"].tolist()
    ['Courriel']
    >>> int(r.report.by_wave().loc["total", "responses"])
    2
    """
    keep = _parse_keep(keep)
    files = _paths(paths)
    if catalogue is None:
        from .catalogue import load_catalogue

        catalogue = load_catalogue()
    mapping = load_mapping(mapping, catalogue=catalogue)
    if territories is None:
        from ..territories.load import load_territories

        territories = load_territories()
    parts = [_read_one(p, mapping, catalogue) for p in files]
    synthetic = {p["file"]: p["synthetic"] for p in parts}
    if len(set(synthetic.values())) > 1:
        fake = ", ".join(f for f, s in synthetic.items() if s)
        real = ", ".join(f for f, s in synthetic.items() if not s)
        raise SchemaError(
            f"Synthetic (demo) and real exports cannot be read together: synthetic: {fake}; "
            f"real: {real}. Read them in separate calls to read_responses().",
            fr=f"Des exports synthétiques (démo) et réels ne peuvent pas être lus ensemble : "
            f"synthétiques : {fake} ; réels : {real}. Traitez-les séparément.",
        )
    edition = str(edition or mapping.edition or catalogue.edition.id)
    data, report = assemble(
        parts,
        catalogue=catalogue,
        mapping=mapping,
        territories=territories,
        keep=keep,
        edition=edition,
        synthetic=any(synthetic.values()),
    )
    return Responses(
        data=data,
        report=report,
        catalogue=catalogue,
        edition=edition,
        synthetic=any(synthetic.values()),
    )


def _read_one(path: Path, mapping: Mapping, catalogue) -> dict:
    """Read, plan and decode one file; personal columns never leave this function."""
    table = read_table(
        path, encoding=mapping.encoding, delimiter=mapping.delimiter, sheet=mapping.sheet
    )
    name = str(path)
    if not len(table.cells) and not table.damaged:
        where = f"sheet {table.sheet!r}" if table.sheet is not None else "file"
        where_fr = f"la feuille {table.sheet!r}" if table.sheet is not None else "le fichier"
        raise InputFileError(
            f"{path}: the {where} holds a header line but no response. Export the responses "
            "again (check the filters of the export), or leave this file out.",
            fr=f"{path} : {where_fr} ne contient qu’une ligne d’en-tête, aucune réponse. "
            "Exportez à nouveau les réponses (vérifiez les filtres de l’export), ou retirez "
            "ce fichier.",
        )
    plan = plan_columns(table.headers, table.cells, mapping, catalogue)
    personal = {i for i, h in enumerate(table.headers) if h in plan.personal}
    cells = table.cells.drop(columns=sorted(personal))
    _require(name, plan, mapping, catalogue)
    decoded = decode_answers(cells, table.lines, plan, mapping, catalogue)
    n = len(cells)

    def role(r: str) -> pd.Series | None:
        return cells[plan.roles[r]].str.strip() if r in plan.roles else None

    issues = list(decoded.cells)
    dates = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[us]")
    if "date" in plan.roles:
        dates, bad = parse_dates(role("date"))
        header = plan.headers[plan.roles["date"]]
        raw = role("date")
        for i in np.flatnonzero((bad != "").to_numpy()):
            issues.append(
                {
                    "line": int(table.lines[i]),
                    "column": header,
                    "value": raw.iloc[i],
                    "issue": bad.iloc[i],
                }
            )
    roles = {r: role(r) for r in plan.roles}
    kind_question = [i.id for i in catalogue.indicators if i.column == "kind"]
    if kind_question and kind_question[0] in plan.questions:
        # the type question of the catalogue also carries out-of-scope labels (Association)
        roles["type_question"] = cells[plan.questions[kind_question[0]]].str.strip()
    if "type" in plan.roles:  # a type label the mapping does not know: say so
        types = role("type")
        header = plan.headers[plan.roles["type"]]
        report_unknown(
            types, unknown_types(types, mapping.types), table.lines, header, "type", decoded
        )
    marker = role("synthetic")
    synthetic = bool(mapping.synthetic) or (
        marker is not None
        and marker.map(lambda v: key(v) in {"oui", "1", "true", "vrai", "yes"}).any()
    )
    return {
        "file": name,
        "n": n,
        "lines": table.lines,
        "roles": roles,
        "headers": {r: plan.headers[p] for r, p in plan.roles.items()},
        "dates": dates,
        "decoded": decoded,
        "issues": issues,
        "plan": plan,
        "synthetic": synthetic,
        "info": {
            "file": name,
            "format": "xlsx" if table.sheet is not None else "csv",
            "encoding": table.encoding,
            "delimiter": table.delimiter,
            "sheet": table.sheet,
            "rows": n + len(table.damaged),
            "blank_rows": table.blank_rows,
            "questions": len(plan.indicator_ids()),
            "physical_lines": table.physical_lines,
            "multiline_rows": table.multiline_rows,
            "damaged_rows": len(table.damaged),
            "notes": list(table.notes),
        },
        "damaged": table.damaged,
    }


def _require(name: str, plan, mapping: Mapping, catalogue) -> None:
    """Raise a SchemaError when a file lacks identification or question columns."""
    indicators = {i.id: i for i in catalogue.indicators}
    if not any(r in plan.roles for r in _ID_ROLES):
        expected = [t for r in _ID_ROLES for t in mapping.columns.get(r, ())[:2]]
        close = closest_headers(expected, plan.headers)
        wanted = ", ".join(f"« {t} »" for t in expected)
        near = ", ".join(f"« {h} »" for h in close)
        example = f'columns: {{insee: "{close[0] if close else "Code commune"}"}}'
        raise SchemaError(
            f"{name}: no column identifies the collectivity. Expected one of: {wanted}. "
            f"Closest headers found: {near or 'none'}. Fix: add your header to your mapping "
            f"file under columns: (e.g. {example}) and pass mapping='my_mapping.yaml'.",
            fr=f"{name} : aucune colonne n’identifie la collectivité. Attendu l’un de : "
            f"{wanted}. En-têtes les plus proches : {near or 'aucun'}. Corrigez : ajoutez votre "
            f"en-tête sous columns: dans votre fichier de correspondance (par exemple "
            f"{example}) et donnez-le avec --mapping.",
        )
    questions = [i for i in plan.indicator_ids() if indicators[i].theme != "profil"]
    if not questions:
        expected = [i.question for i in catalogue.indicators if i.theme != "profil"]
        close = closest_headers(expected, plan.headers)
        near = ", ".join(f"« {h} »" for h in close)
        raise SchemaError(
            f"{name}: none of the {len(plan.headers)} columns is a question of the catalogue "
            f"(headers are matched ignoring case, accents and punctuation). Closest headers: "
            f"{near or 'none'}. Fix: map them in your mapping file under columns: "
            '<indicator id>: "<header>" (ids: barometre_geo.load_catalogue().to_frame()).',
            fr=f"{name} : aucune des {len(plan.headers)} colonnes n’est une question du "
            "catalogue (en-têtes comparés sans tenir compte des majuscules, accents et "
            f"ponctuation). En-têtes les plus proches : {near or 'aucun'}. Corrigez : associez-"
            "les dans votre fichier de correspondance sous columns: <id de l’indicateur>: "
            '"<en-tête>" (liste des id : barometre_geo.load_catalogue().to_frame()).',
        )
