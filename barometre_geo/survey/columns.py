"""Matching the headers of one export to mapping targets; dropping personal data.

The result, a :class:`ColumnPlan`, says for every column of a file whether it is an
identification role, a question (or one option of a multiple-choice question), a
personal-data column (dropped at once) or an ignored column, and why.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import pandas as pd

from .mapping import PERSONAL_ROLES, ROLES, Mapping
from .text import is_personal_header, key, looks_personal

__all__ = ["ColumnPlan", "closest_headers", "option_lookup", "plan_columns"]

_PAREN = re.compile(r"\s*\([^()]*\)")
_SUFFIX = re.compile(r"^(?P<question>.*?)\s*\[(?P<option>[^\[\]]*)\]\s*$")


@dataclass
class ColumnPlan:
    """What each column of one export is.

    Attributes
    ----------
    roles : dict
        Role -> column position.
    questions : dict
        Indicator id -> column position (single-column questions, including
        multiple choice written as one cell ``Facebook;Instagram``).
    options : dict
        Multiple-choice indicator id -> {option id -> column position}.
    texts : dict
        Free-text follow-up id (catalogue ``free_text``) -> column position.
    personal : list of str
        Headers of personal-data columns, dropped.
    ignored : list of (str, str)
        (header, why) of columns not used.
    headers : list of str
        Every header, by position.
    """

    roles: dict = field(default_factory=dict)
    questions: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)
    personal: list = field(default_factory=list)
    ignored: list = field(default_factory=list)
    headers: list = field(default_factory=list)

    def indicator_ids(self) -> list[str]:
        """Ids of the questions found, in file order."""
        pos = {i: p for i, p in self.questions.items()}
        pos.update({i: min(d.values()) for i, d in self.options.items()})
        return sorted(pos, key=pos.get)


def option_lookup(indicator, mapping: Mapping) -> dict[str, str]:
    """Return ``key(text) -> option id`` for the options of one indicator.

    Option ids and labels of the catalogue, then the global vocabulary (for
    options the indicator has), then the indicator's own vocabulary, which wins.
    """
    ids = [o.id for o in indicator.options]
    out: dict[str, str] = {}
    for o in indicator.options:
        out.setdefault(key(o.label), o.id)
        out.setdefault(key(o.id), o.id)
    for o in indicator.options:  # "Agent territorial (DGS, DSI…)" also as "Agent territorial"
        out.setdefault(key(_PAREN.sub(" ", o.label)), o.id)
    no_answer = ("sans_reponse",) if ids else ("sans_reponse", "ne_sait_pas")  # percentages
    for opt, answers in mapping.values.items():
        if opt in ids or opt in no_answer:
            for a in answers:
                out.setdefault(key(a), opt)
    if getattr(indicator, "column", "") == "kind":  # the type question: labels of `types`
        for kind, labels in mapping.types.items():
            if kind in ids or kind == "hors_champ":  # out of scope: known, not an option
                for label in labels:
                    if not label.endswith("*"):
                        out.setdefault(key(label), kind)
    for opt, answers in mapping.indicator_values.get(indicator.id, {}).items():
        for a in answers:
            out[key(a)] = opt
    return out


def plan_columns(
    headers: list[str], cells: pd.DataFrame, mapping: Mapping, catalogue
) -> ColumnPlan:
    """Match the headers of one file to roles and catalogue questions.

    Personal-data columns are recognised by mapping role, by header
    (mail, courriel, téléphone, nom du répondant…) and, for columns matched
    to nothing, by content (an e-mail address or a phone number in a cell).
    """
    indicators = {i.id: i for i in catalogue.indicators}
    free_texts = {i.free_text.id for i in catalogue.indicators if i.free_text}
    by_header: dict[str, str] = {}
    for target, texts in mapping.columns.items():
        for text in texts:
            by_header.setdefault(key(text), target)
    questions_mc = {
        key(text): ind_id
        for ind_id, texts in mapping.columns.items()
        if ind_id in indicators and indicators[ind_id].kind == "multiple_choice"
        for text in texts
    }
    ignore = {key(h) for h in mapping.ignore}
    plan = ColumnPlan(headers=list(headers))
    for pos, header in enumerate(headers):
        k = key(header)
        target = by_header.get(k)
        if target is not None:
            _assign(plan, pos, header, target, indicators, free_texts)
            continue
        m = _SUFFIX.match(header)
        if m and key(m["question"]) in questions_mc:
            ind_id = questions_mc[key(m["question"])]
            opt = option_lookup(indicators[ind_id], mapping).get(key(m["option"]))
            if opt is not None and opt != "sans_reponse":
                _assign(plan, pos, header, f"{ind_id}.{opt}", indicators, free_texts)
            else:
                plan.ignored.append((header, f"option inconnue de la question {ind_id}"))
            continue
        if is_personal_header(header):
            plan.personal.append(header)
        elif k in ignore:
            plan.ignored.append((header, "ignorée par le mapping"))
        elif looks_personal(pd.unique(cells[pos])):
            plan.personal.append(header)
        else:
            plan.ignored.append((header, "colonne non reconnue"))
    return plan


def _assign(plan: ColumnPlan, pos: int, header: str, target: str, indicators: dict, texts) -> None:
    if target in PERSONAL_ROLES:
        plan.personal.append(header)
    elif target in texts:
        if target in plan.texts:
            plan.ignored.append((header, f"deuxième colonne pour le texte libre {target}"))
        else:
            plan.texts[target] = pos
    elif target in ROLES:
        if target in plan.roles:
            plan.ignored.append((header, f"deuxième colonne pour le rôle {target}"))
        else:
            plan.roles[target] = pos
    elif target in indicators:
        if target in plan.questions or target in plan.options:
            plan.ignored.append((header, f"deuxième colonne pour la question {target}"))
        else:
            plan.questions[target] = pos
    else:
        ind_id, _, opt = target.partition(".")
        slot = plan.options.setdefault(ind_id, {})
        if ind_id in plan.questions or opt in slot:
            plan.ignored.append((header, f"deuxième colonne pour {target}"))
        else:
            slot[opt] = pos


def closest_headers(expected, headers: list[str], n: int = 3) -> list[str]:
    """Return the headers of a file closest to the expected texts (for error messages).

    Closeness is the best of the character similarity and the share of words in
    common, so that a short header is found close to a long question.
    """
    expected_keys = [key(t) for t in expected]
    expected_words = [set(k.split()) for k in expected_keys]
    scored = []
    for h in dict.fromkeys(headers):
        k = key(h)
        words = set(k.split())
        best = 0.0
        for ek, ew in zip(expected_keys, expected_words, strict=True):
            common = len(words & ew) / max(1, min(len(words), len(ew)))
            ratio = difflib.SequenceMatcher(None, k, ek).ratio()
            best = max(best, ratio, common * 0.9)
        if best >= 0.5:
            scored.append((best, h))
    return [h for _, h in sorted(scored, key=lambda x: -x[0])[:n]]
