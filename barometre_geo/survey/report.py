"""The ingest report: what happened to every input row, cell and column.

Built by :func:`barometre_geo.read_responses`; never holds personal data (raw
values are masked before they get here, personal columns are named, not shown).
Its tables link file and line to collectivities and to raw answers: the
detailed form (:meth:`IngestReport.to_text`, :meth:`IngestReport.to_dict`) is
private and says so (:data:`PRIVATE_NOTICE`);
:func:`barometre_geo.survey.publish.public_text` and
:func:`~barometre_geo.survey.publish.public_dict` give what may be published.
Its tables keep each file as the user passed it (``file``); what it prints,
serialises or shows in a notebook names each file by its name only
(:func:`file_names`), so a published report never exposes anybody's folders.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from pathlib import PurePath

import pandas as pd

__all__ = ["PRIVATE_NOTICE", "REASONS", "STATES", "IngestReport", "common_folder", "file_names"]

#: First line of every detailed (row-level) report.
PRIVATE_NOTICE = (
    "RAPPORT DÉTAILLÉ — PRIVÉ : il relie des lignes des exports à des réponses. "
    "Ne le publiez pas et ne le joignez pas au dossier de sortie."
)

STATES = ("accepted", "superseded", "rejected")
#: Rejection reasons (``rows.reason``) and their French labels.
REASONS = {
    "test_row": "ligne de test",
    "empty": "réponse vide",
    "out_of_scope": "organisation hors champ",
    "unresolved": "collectivité non identifiée",
    "ambiguous": "collectivité ambiguë",
    "unknown_wave": "vague inconnue",
    "damaged": "ligne endommagée",
    "truncated": "ligne tronquée",
}
_STATE_FR = {"accepted": "acceptées", "superseded": "remplacées", "rejected": "rejetées"}


def _n(x) -> str:
    return f"{int(x):,}".replace(",", "\u202f")


def _w(x, word: str) -> str:
    """``3 acceptées``, ``1 acceptée``: a count and its (French) word, plural from 2."""
    return f"{_n(x)} {word if int(x) >= 2 else word.removesuffix('s')}"


def _states_text(r) -> str:
    return (
        f"{_w(r['rows'], 'lignes')} — {_w(r['accepted'], 'acceptées')}, "
        f"{_w(r['superseded'], 'remplacées')}, {_w(r['rejected'], 'rejetées')}"
    )


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _parents(files: Iterable[str]) -> tuple[list[str], tuple[str, ...]]:
    """Distinct files (first-seen order) and the parts of their deepest common folder."""
    unique = list(dict.fromkeys(str(f) for f in files))
    parents = [PurePath(f).parts[:-1] for f in unique]
    common: tuple[str, ...] = parents[0] if parents else ()
    for p in parents[1:]:
        n = 0
        while n < min(len(common), len(p)) and common[n] == p[n]:
            n += 1
        common = common[:n]
    return unique, common


def file_names(files: Iterable[str]) -> dict[str, str]:
    """Name to show for each file: its name, or the shortest path telling homonyms apart.

    Homonyms get the fewest trailing folders that distinguish them, relative to
    the folder common to every file. Reports show these names, never the
    folders above (a published report must not expose a user's directories).

    Examples
    --------
    >>> list(file_names(["/home/ana/exports/vague1.csv", "/home/ana/exports/v2.xlsx"]).values())
    ['vague1.csv', 'v2.xlsx']
    >>> list(file_names(["/data/nord/v1.csv", "/data/sud/v1.csv", "/data/v2.csv"]).values())
    ['nord/v1.csv', 'sud/v1.csv', 'v2.csv']
    """
    unique, common = _parents(files)
    rel = {f: PurePath(f).parts[len(common) :] or (f,) for f in unique}
    depth = dict.fromkeys(unique, 1)
    while True:
        shown = {f: PurePath(*rel[f][-depth[f] :]).as_posix() for f in unique}
        seen: dict[str, list[str]] = {}
        for f, name in shown.items():
            seen.setdefault(name, []).append(f)
        clash = [f for same in seen.values() if len(same) > 1 for f in same]
        deeper = [f for f in clash if depth[f] < len(rel[f])]
        if not deeper:  # every name distinct (or the same path written twice)
            return shown
        for f in deeper:
            depth[f] += 1


def common_folder(files: Iterable[str]) -> str | None:
    """Folder holding every file, relative to the working folder when inside it.

    None when it is the working folder itself (the names say it all).

    Examples
    --------
    >>> common_folder(["exports/vague1.csv", "exports/vague2.csv"])
    'exports'
    >>> common_folder(["vague1.csv"]) is None
    True
    """
    _, common = _parents(files)
    if not common:
        return None
    folder = PurePath(*common)
    if folder.is_absolute():
        try:
            folder = PurePath(os.path.relpath(folder))
        except ValueError:  # another drive (Windows)
            return str(folder)
        if folder.parts[:1] == ("..",):
            return str(PurePath(*common))
    return None if str(folder) == "." else folder.as_posix()


@dataclass(frozen=True, repr=False)
class IngestReport:
    """Account of an ingest: every input row ends accepted, superseded or rejected.

    Attributes
    ----------
    rows : pandas.DataFrame
        One row per non-blank input row: ``file`` (the path as passed to
        :func:`~barometre_geo.read_responses`; :meth:`file_names` gives the
        name the report shows), ``line`` (1-based line in the file),
        ``state`` (accepted | superseded | rejected), ``reason`` (see
        :data:`REASONS`; empty unless rejected), ``detail`` (French),
        ``candidates`` (codes, for ambiguous rows), ``suggestions`` (up to 3
        ``"code nom"`` for the rows left ambiguous or unresolved, to confirm in the
        mapping's ``corrections:``), ``typed`` (the identifier such a correction keys
        on), ``response_id`` (of the
        response the row feeds or was superseded by), ``wave``, ``code``,
        ``collectivity`` (key of the collectivity), ``answers`` (number of
        questions answered) and ``themes`` (questionnaires answered).
    cells : pandas.DataFrame
        Rejected cells: ``file``, ``line``, ``column``, ``value``, ``issue``.
    unknown_values : pandas.DataFrame
        ``file``, ``column``, ``indicator`` (``"type"`` for a type-of-collectivity
        label the mapping does not know), ``value`` (masked), ``count``, ``lines``
        (first five lines). Each of these cells is NA in the data.
    dropped_columns : pandas.DataFrame
        Personal-data columns dropped at read: ``file``, ``column`` (names only).
    ignored_columns : pandas.DataFrame
        Columns not used: ``file``, ``column``, ``why``.
    files : pandas.DataFrame
        ``file``, ``format``, ``encoding``, ``delimiter``, ``sheet``, ``rows``,
        ``blank_rows``, ``questions`` (number of questions recognised).
    themes : pandas.DataFrame
        ``theme``, ``label``, ``wave`` of the questionnaires of the catalogue.
    edition : str
    synthetic : bool
    conflicts : pandas.DataFrame
        Contradictory answers of the same collectivity and wave, per pair of
        files: ``file`` (the row kept), ``other_file`` (the row superseded),
        ``responses`` (superseded rows answering a question differently),
        ``answers`` (questions answered differently), ``rule`` (which one is
        kept, French). Counts only: no collectivity, no answer.
    """

    rows: pd.DataFrame
    cells: pd.DataFrame = field(
        default_factory=lambda: _empty(["file", "line", "column", "value", "issue"])
    )
    unknown_values: pd.DataFrame = field(
        default_factory=lambda: _empty(["file", "column", "indicator", "value", "count", "lines"])
    )
    dropped_columns: pd.DataFrame = field(default_factory=lambda: _empty(["file", "column"]))
    ignored_columns: pd.DataFrame = field(default_factory=lambda: _empty(["file", "column", "why"]))
    files: pd.DataFrame = field(default_factory=lambda: _empty(["file", "rows"]))
    themes: pd.DataFrame = field(default_factory=lambda: _empty(["theme", "label", "wave"]))
    edition: str = ""
    synthetic: bool = False
    conflicts: pd.DataFrame = field(
        default_factory=lambda: _empty(["file", "other_file", "responses", "answers", "rule"])
    )

    # ------------------------------------------------------------ tables
    def file_names(self) -> dict[str, str]:
        """Name the report shows for each file (``file`` as passed → name).

        The file's name, or the shortest path telling homonyms apart (see
        :func:`file_names`): :meth:`to_text`, :meth:`to_dict` and the notebook
        display show these, never the folders above.
        """
        listed = list(self.files["file"]) if len(self.files) else []
        return file_names([*listed, *self.rows["file"]])

    def _named(self, frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
        """``frame`` with its ``file`` column or index replaced by the names shown."""
        if "file" in frame.columns:
            return frame.assign(file=frame["file"].map(lambda f: names.get(str(f), f)))
        if frame.index.name == "file":
            out = frame.copy()
            out.index = pd.Index([names.get(str(f), f) for f in frame.index], name="file")
            return out
        return frame

    def _states(self, frame: pd.DataFrame, by: str) -> pd.DataFrame:
        counts = pd.crosstab(frame[by], frame["state"]) if len(frame) else pd.DataFrame()
        out = pd.DataFrame(index=pd.Index(counts.index, name=by))
        for s in STATES:
            out[s] = counts[s] if s in counts else 0
        out.insert(0, "rows", out[list(STATES)].sum(axis=1))
        return out.astype("int64")

    def by_file(self) -> pd.DataFrame:
        """Rows per file and state, with rejected cells and unknown values.

        ``rows == accepted + superseded + rejected`` on every line.
        """
        order = list(self.files["file"]) if len(self.files) else sorted(set(self.rows["file"]))
        out = self._states(self.rows, "file").reindex(order, fill_value=0)
        out.index.name = "file"
        out["cells_rejected"] = self.cells.groupby("file").size().reindex(order, fill_value=0)
        unknown = (
            self.unknown_values.groupby("file")["count"].sum() if len(self.unknown_values) else {}
        )
        out["unknown_values"] = pd.Series(unknown, dtype="int64").reindex(order, fill_value=0)
        return out.astype("int64")

    def by_questionnaire(self) -> pd.DataFrame:
        """Rows per questionnaire (theme) and state.

        A row counts for a questionnaire when it answers at least one of its
        questions, so a row answering the three questionnaires of a wave counts
        once in each.
        """
        long = self.rows[["state", "themes"]].copy()
        long["theme"] = long["themes"].str.split()
        long = long.explode("theme").dropna(subset=["theme"])
        counts = (
            self._states(long, "theme")
            if len(long)
            else self._states(long.assign(theme=[]), "theme")
        )
        themes = self.themes.set_index("theme")
        order = [t for t in themes.index if t in counts.index] + [
            t for t in counts.index if t not in themes.index
        ]
        out = counts.reindex(order)
        out.insert(0, "wave", themes["wave"].reindex(order).astype("Int64"))
        out.insert(0, "label", themes["label"].reindex(order).fillna(""))
        return out

    def by_wave(self) -> pd.DataFrame:
        """Responses and distinct collectivities per wave, and overall.

        ``responses`` counts accepted wave responses; ``collectivities`` the
        distinct collectivities behind them. The last row (``"total"``) sums
        responses across waves but counts each collectivity once — e.g. the
        first edition published 2,174 + 629 + 587 = 3,390 wave responses from
        3,117 collectivities.
        """
        acc = self.rows[self.rows["state"] == "accepted"]
        rows = []
        waves = sorted(w for w in self.rows["wave"].dropna().unique())
        for w in waves:
            sub = acc[acc["wave"] == w]
            rows.append(
                {
                    "wave": str(int(w)),
                    "rows": int((self.rows["wave"] == w).sum()),
                    "responses": sub["response_id"].nunique(),
                    "collectivities": sub["collectivity"].nunique(),
                }
            )
        rows.append(
            {
                "wave": "total",
                "rows": len(self.rows),
                "responses": acc["response_id"].nunique(),
                "collectivities": acc["collectivity"].nunique(),
            }
        )
        return pd.DataFrame(rows).set_index("wave")

    def by_reason(self) -> pd.DataFrame:
        """Rejected rows per reason, with the French label."""
        rej = self.rows[self.rows["state"] == "rejected"]
        counts = rej.groupby("reason").size()
        out = pd.DataFrame(
            {"label": [REASONS.get(r, r) for r in counts.index], "rows": counts.values}
        )
        out.index = pd.Index(counts.index, name="reason")
        return out

    # ------------------------------------------------------------ exports
    def to_dict(self) -> dict:
        """Return the detailed (private) report as JSON-serialisable dicts and lists.

        Files are named as the report shows them (:meth:`file_names`), without
        their folders. It links file and line to collectivities (``rows``) and
        to raw answers (``cells``, ``unknown_values``): it is private
        (``private`` true, ``notice``); publish
        :func:`barometre_geo.survey.publish.public_dict` instead.

        Examples
        --------
        >>> import json
        >>> report = IngestReport(rows=_empty(IngestReport.ROW_COLUMNS))
        >>> sorted(report.to_dict())[:3]
        ['by_file', 'by_questionnaire', 'by_reason']
        """
        names = self.file_names()

        def records(frame: pd.DataFrame, index: bool = True) -> list[dict]:
            frame = self._named(frame, names)
            frame = frame.reset_index() if index else frame
            return json.loads(frame.to_json(orient="records", force_ascii=False))

        return {
            "private": True,
            "notice": PRIVATE_NOTICE,
            "edition": self.edition,
            "synthetic": self.synthetic,
            "summary": self.summary(),
            "files": records(self.files, index=False),
            "by_file": records(self.by_file()),
            "by_questionnaire": records(self.by_questionnaire()),
            "by_wave": records(self.by_wave()),
            "by_reason": records(self.by_reason()),
            "rows": records(self.rows.drop(columns=["collectivity"]), index=False),
            "cells": records(self.cells, index=False),
            "unknown_values": records(self.unknown_values, index=False),
            "dropped_columns": records(self.dropped_columns, index=False),
            "ignored_columns": records(self.ignored_columns, index=False),
            "conflicts": records(self.conflicts, index=False),
        }

    ROW_COLUMNS = (
        "file",
        "line",
        "state",
        "reason",
        "detail",
        "candidates",
        "suggestions",
        "typed",
        "response_id",
        "wave",
        "code",
        "collectivity",
        "answers",
        "themes",
    )

    def summary(self) -> dict:
        """Return the counts of rows per state, responses, collectivities and problems."""
        states = self.rows["state"].value_counts()
        total = self.by_wave().loc["total"]
        return {
            "rows": len(self.rows),
            **{s: int(states.get(s, 0)) for s in STATES},
            "responses": int(total["responses"]),
            "collectivities": int(total["collectivities"]),
            "cells_rejected": len(self.cells),
            "unknown_values": int(self.unknown_values["count"].sum())
            if len(self.unknown_values)
            else 0,
            "dropped_columns": len(self.dropped_columns),
            "conflicts": int(self.conflicts["responses"].sum()) if len(self.conflicts) else 0,
            "corrected": len(self.corrected()),
        }

    def to_text(self, *, limit: int = 20, folder: bool = False) -> str:
        """Return the detailed (private) report as French text (``barometre-geo validate``).

        Files are named by their name only (:meth:`file_names`). It lists
        rejected rows, unknown answers and rejected cells with their lines, so
        it starts with :data:`PRIVATE_NOTICE`: publish
        :func:`barometre_geo.survey.publish.public_text` instead.

        Parameters
        ----------
        limit : int, default 20
            Maximum number of rejected rows, unknown values and cells listed.
        folder : bool, default False
            Also state, once at the top, the folder holding the files (relative
            to the working folder when inside it; omitted when it is the
            working folder). For a local reader only: never publish it.
        """
        s = self.summary()
        names = self.file_names()
        synth = " — DONNÉES SYNTHÉTIQUES (démonstration)" if self.synthetic else ""
        out = [PRIVATE_NOTICE, f"Rapport d’import — édition {self.edition}{synth}"]
        where = common_folder(names) if folder else None
        if where is not None:
            out.append(f"Fichiers lus dans le dossier {where}")
        out += [
            f"{_w(s['rows'], 'lignes')} lue{'s' if s['rows'] > 1 else ''} : "
            f"{_w(s['accepted'], 'acceptées')}, {_w(s['superseded'], 'remplacées')} par une "
            f"réponse plus récente ou plus complète, {_w(s['rejected'], 'rejetées')}.",
        ]
        if s["corrected"]:
            out.append(
                f"{_w(s['corrected'], 'lignes')} identifiée{'s' if s['corrected'] > 1 else ''} "
                "par correction du mapping (corrections:)."
            )
        out += [
            "",
            "Par fichier :",
        ]
        for f, r in self._named(self.by_file(), names).iterrows():
            out.append(f"  {f} : {_states_text(r)}")
        out += self._notes_text(names)
        out += ["", "Par questionnaire (lignes ayant répondu à au moins une question) :"]
        for t, r in self.by_questionnaire().iterrows():
            wave = "" if pd.isna(r["wave"]) else f" (vague {int(r['wave'])})"
            out.append(f"  {r['label'] or t}{wave} : {_states_text(r)}")
        out += ["", "Par vague (réponses acceptées / collectivités distinctes) :"]
        for w, r in self.by_wave().iterrows():
            name = "Ensemble" if w == "total" else f"Vague {w}"
            out.append(
                f"  {name} : {_w(r['responses'], 'réponses')}, "
                f"{_w(r['collectivities'], 'collectivités')}"
            )
        out += self._conflicts_text()
        rej = self._named(self.rows[self.rows["state"] == "rejected"], names)
        if len(rej):
            out += ["", f"Lignes rejetées ({_n(len(rej))}) :"]
            for r in self.by_reason().itertuples():
                out.append(f"  {r.label} : {_n(r.rows)}")
            for r in rej.head(limit).itertuples():
                out.append(
                    f"  - {r.file} ligne {r.line} : {REASONS.get(r.reason, r.reason)} — {r.detail}"
                )
                suggested = getattr(r, "suggestions", ()) or ()
                if len(suggested):
                    out.append(f"      suggestions : {' ; '.join(suggested)}")
            out += self._more(len(rej), limit, "rows")
            out += self._corrections_text(rej, limit)
        if len(self.unknown_values):
            uv = self._named(self.unknown_values, names)
            out += [
                "",
                "Valeurs de réponse inconnues, laissées vides "
                f"({_w(uv['count'].sum(), 'cellules')}) :",
            ]
            for r in uv.head(limit).itertuples():
                lines = ", ".join(str(x) for x in r.lines)
                out.append(
                    f"  - {r.file}, « {r.column} » : « {r.value} » ×{r.count} (lignes {lines})"
                )
            out += self._more(len(uv), limit, "unknown_values")
            out.append(
                "  Ajoutez ces réponses au vocabulaire de votre fichier de mapping (values:)."
            )
        if len(self.cells):
            out += ["", f"Cellules rejetées ({_n(len(self.cells))}) :"]
            for r in self._named(self.cells.head(limit), names).itertuples():
                out.append(
                    f"  - {r.file} ligne {r.line}, « {r.column} » : « {r.value} » — {r.issue}"
                )
            out += self._more(len(self.cells), limit, "cells")
        if len(self.dropped_columns):
            out += ["", "Colonnes de données personnelles supprimées à la lecture :"]
            dropped = self._named(self.dropped_columns, names)
            for f, grp in dropped.groupby("file", sort=False):
                out.append(f"  {f} : " + ", ".join(f"« {c} »" for c in grp["column"]))
        if len(self.ignored_columns):
            out += ["", f"Colonnes non utilisées ({_n(len(self.ignored_columns))}) :"]
            for r in self._named(self.ignored_columns.head(limit), names).itertuples():
                out.append(f"  - {r.file}, « {r.column} » : {r.why}")
            out += self._more(len(self.ignored_columns), limit, "ignored_columns")
        return "\n".join(out)

    def _conflicts_text(self) -> list[str]:
        """Lines on the contradictory answers, per pair of files."""
        if not len(self.conflicts):
            return []
        total = int(self.conflicts["responses"].sum())
        out = [
            "",
            f"Réponses contradictoires d’une même collectivité à une même vague ({_n(total)}) :",
        ]
        for r in self.conflicts.itertuples():
            pair = r.file if r.file == r.other_file else f"{r.file} / {r.other_file}"
            out.append(
                f"  - {pair} : {_w(r.responses, 'réponses')} en désaccord "
                f"({_w(r.answers, 'questions')} répondues différemment) ; {r.rule}."
            )
        out.append(
            "  Vérifiez ces fichiers (deux exports de la même vague ?), ou gardez-en un seul."
        )
        return out

    def _notes_text(self, names: dict[str, str]) -> list[str]:
        """Lines of the reading notes per file (encodings, multi-line rows, padded rows)."""
        if "notes" not in self.files.columns:
            return []
        out = []
        for f, notes in zip(self.files["file"], self.files["notes"], strict=True):
            for note in notes if isinstance(notes, list | tuple) else ():
                out.append(f"  {names.get(str(f), f)} : {note}")
        return ["", "Lecture des fichiers :", *out] if out else []

    def _corrections_text(self, rej: pd.DataFrame, limit: int) -> list[str]:
        """How to confirm a suggestion: the ``corrections:`` section to paste in the mapping."""
        if "suggestions" not in rej.columns:
            return []
        with_one = [
            len(s or ()) > 0 and bool(t)
            for s, t in zip(rej["suggestions"], rej["typed"], strict=True)
        ]
        sugg = rej[with_one]
        if not len(sugg):
            return []
        out = [
            "",
            "Pour confirmer une collectivité, recopiez la ligne voulue dans votre fichier de "
            "mapping (les deux valeurs entre guillemets), puis relancez "
            "« barometre-geo validate » : la ligne sera identifiée « par correction ».",
            "corrections:",
        ]
        seen = set()
        for r in sugg.itertuples():
            if r.typed in seen:
                continue
            seen.add(r.typed)
            code, _, nom = r.suggestions[0].partition(" ")
            typed = str(r.typed).replace('"', "'")
            out.append(f'  "{typed}": "{code}"   # {nom} ? ({r.file} ligne {r.line})')
            if len(seen) >= limit:
                break
        return out

    def corrected(self) -> pd.DataFrame:
        """Return the rows identified by the mapping's ``corrections:`` (file, line, detail)."""
        rows = self.rows
        mask_ = rows["detail"].astype(str).str.startswith("identifiée par correction")
        return rows.loc[mask_ & (rows["state"] != "rejected"), ["file", "line", "detail"]]

    @staticmethod
    def _more(n: int, limit: int, attr: str) -> list[str]:
        return [f"  … et {_n(n - limit)} autres (voir report.{attr})"] if n > limit else []

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"<IngestReport {self.edition}: {s['rows']:,} rows = {s['accepted']:,} accepted + "
            f"{s['superseded']:,} superseded + {s['rejected']:,} rejected; {s['responses']:,} "
            f"responses from {s['collectivities']:,} collectivities; {s['cells_rejected']:,} "
            f"cells rejected, {s['unknown_values']:,} unknown values>"
        )

    def _repr_html_(self) -> str:
        s = self.summary()
        names = self.file_names()

        def table(frame: pd.DataFrame) -> str:
            return self._named(frame, names).to_html(border=0, escape=True, max_rows=20)

        synth = " <em>(données synthétiques)</em>" if self.synthetic else ""
        parts = [
            f"<div><strong>Rapport d’import — édition {escape(str(self.edition))}</strong>{synth}",
            f"<p>{_n(s['rows'])} lignes : {_n(s['accepted'])} acceptées, "
            f"{_n(s['superseded'])} remplacées, {_n(s['rejected'])} rejetées — "
            f"{_n(s['responses'])} réponses de {_n(s['collectivities'])} collectivités.</p>",
            "<h4>Par fichier</h4>" + table(self.by_file()),
            "<h4>Par vague</h4>" + table(self.by_wave()),
        ]
        if len(self.by_reason()):
            parts.append("<h4>Rejets</h4>" + table(self.by_reason()))
        if len(self.unknown_values) or len(self.cells):
            parts.append(f"<p><em>{escape(PRIVATE_NOTICE)}</em></p>")
        if len(self.unknown_values):
            parts.append("<h4>Valeurs inconnues</h4>" + table(self.unknown_values))
        if len(self.cells):
            parts.append("<h4>Cellules rejetées</h4>" + table(self.cells))
        if len(self.dropped_columns):
            parts.append("<h4>Données personnelles supprimées</h4>" + table(self.dropped_columns))
        return "".join(parts) + "</div>"
