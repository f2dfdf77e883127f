"""Find the collectivity of a comparison fiche and its own responses.

:func:`find_collectivity` reads what a user types (INSEE code, SIREN, name)
through the resolver (:meth:`Territories.resolve`) and then looks for that
territory's responses; syndicats, which the resolver does not resolve (they
are not territorial collectivities), are found by their SIREN in the
responses themselves. Every failure says which candidates or waves exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import UnknownValueError

__all__ = ["Target", "find_collectivity", "own_rows"]

_LEVEL_FR = {
    "commune": "commune",
    "epci": "EPCI",
    "departement": "département",
    "region": "région",
}


@dataclass(frozen=True)
class Target:
    """The collectivity of a fiche: what was typed, how it resolved, its response rows."""

    input: str
    kind: str
    level: str | None
    code: str
    nom: str
    method: str
    rows: np.ndarray  # positions in responses.data, every wave


def _text(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _column(data: pd.DataFrame, name: str) -> np.ndarray:
    if name not in data:
        return np.full(len(data), None, dtype=object)
    col = data[name].astype(object)
    return col.where(col.notna(), None).to_numpy(dtype=object)


def _waves_text(data: pd.DataFrame) -> str:
    if "wave" not in data or not len(data):
        return "no response at all"
    counts = pd.to_numeric(data["wave"], errors="coerce").value_counts().sort_index()
    return ", ".join(f"wave {int(w)}: {int(n):,} responses" for w, n in counts.items())


def _candidates(res: pd.Series, territories, data: pd.DataFrame) -> tuple[str, str]:
    """Readable list of the candidates of an ambiguous input (those who answered marked).

    Also returns the département of the first candidate, as an example of hint.
    """
    answered = set(zip(_column(data, "level"), _column(data, "code"), strict=True))
    out, hint = [], ""
    for cand in res["candidates"] or ():
        level, code = cand.split(":", 1) if ":" in cand else (res["level"], cand)
        level = level if isinstance(level, str) else None
        nom = ""
        if level in _LEVEL_FR:
            table = territories.level(level)
            hit = table.loc[table["code"] == code]
            if len(hit):
                nom = str(hit["nom"].iloc[0])
                if level in ("commune", "epci"):
                    nom += f", département {hit['departement'].iloc[0]}"
                    hint = hint or str(hit["departement"].iloc[0])
                elif level == "departement":
                    hint = hint or code
        flag = " [a répondu]" if (level, code) in answered else ""
        out.append(f"{_LEVEL_FR.get(level, level or '?')} {code} {nom}".strip() + flag)
    return "; ".join(out), hint or "01"


def _nearby(level: str, code: str, data: pd.DataFrame, territories) -> str:
    """Sentence naming up to 3 collectivities of the same level and département that answered."""
    if level not in ("commune", "epci") or "departement" not in data:
        return ""
    table = territories.level(level)
    hit = table.loc[table["code"] == code, "departement"]
    if not len(hit):
        return ""
    dep = str(hit.iloc[0])
    same = data.loc[(data["level"] == level) & (data["departement"] == dep)]
    if not len(same):
        return f" No {_LEVEL_FR[level]} of département {dep} answered."
    if "population" in same:
        same = same.sort_values("population", ascending=False, kind="stable")
    codes = list(dict.fromkeys(same["code"].astype(str)))[:3]
    names = table.set_index("code")["nom"]
    listed = ", ".join(f"{c} {names.get(c, '')}".strip() for c in codes)
    return f" In département {dep}, these answered, for instance: {listed}."


def find_collectivity(code, data: pd.DataFrame, territories, *, departement=None) -> Target:
    """Resolve ``code`` and find the rows of ``data`` answered by that collectivity.

    Raises
    ------
    UnknownValueError
        Empty, unresolved or ambiguous ``code`` (candidates listed), or a
        collectivity without any response (the waves present are listed).
    """
    typed = _text(code)
    if typed is None:
        raise UnknownValueError(
            f"compare() needs a collectivity, got {code!r}. Pass its INSEE code (communes, "
            "départements, régions), its SIREN (EPCI, syndicats) or its official name, "
            "e.g. compare('01053', responses)."
        )
    # documented as an INSEE code, a SIREN or a name: a 5-digit code is never a postal code
    res = territories.resolve([typed], departement=departement, holds="insee").iloc[0]
    levels, codes = _column(data, "level"), _column(data, "code")
    if res["status"] == "ambiguous":
        listed, hint = _candidates(res, territories, data)
        why = f" (resolver: « {res['reason']} »)" if res["reason_code"] == "contradiction" else ""
        raise UnknownValueError(
            f"The collectivity {typed!r} is ambiguous{why}. Candidates: {listed}. "
            f"Pass its INSEE code or SIREN instead, or its département "
            f"(departement={hint!r}, --departement {hint})."
        )
    if res["status"] == "resolved":
        level, found = str(res["level"]), str(res["code"])
        mask = (levels == level) & (codes == found)
        if not mask.any():
            raise UnknownValueError(
                f"{res['nom']} ({_LEVEL_FR.get(level, level)} {found}, read from {typed!r}) "
                f"has not answered this edition (the responses hold {_waves_text(data)}). "
                "Check the code (barometre_geo.resolve), or read the exports of the wave(s) it "
                "answered with read_responses([...])." + _nearby(level, found, data, territories)
            )
        first = int(np.flatnonzero(mask)[0])
        return Target(
            input=typed,
            kind=str(data["kind"].iloc[first]),
            level=level,
            code=found,
            nom=str(res["nom"]),
            method=str(res["method"]),
            rows=np.flatnonzero(mask),
        )
    # syndicats are not resolved (not territorial collectivities): their SIREN in the data
    digits = re.sub(r"[\s.]", "", typed)
    if re.fullmatch(r"\d{9}", digits):
        sirens = _column(data, "siren")
        mask = (sirens == digits) | (codes == digits)
        if mask.any():
            first = int(np.flatnonzero(mask)[0])
            return Target(
                input=typed,
                kind=str(data["kind"].iloc[first]),
                level=None,
                code=digits,
                nom=f"{data['type_label'].iloc[first]} (SIREN {digits})",
                method="siren_reponses",
                rows=np.flatnonzero(mask),
            )
    raise UnknownValueError(
        f"Cannot identify the collectivity {typed!r} (resolver: « {res['reason']} »). Pass its "
        "INSEE code (communes, départements, régions), its SIREN (EPCI, syndicats) or its exact "
        "official name (barometre_geo.resolve shows how a value is read)."
    )


def own_rows(target: Target, data: pd.DataFrame, wave: int | None) -> dict[int, int]:
    """Latest response of the collectivity per wave: ``{wave: row position}``.

    Raises
    ------
    UnknownValueError
        ``wave`` is not a wave the collectivity answered (those it answered are listed).
    """
    rows = target.rows
    waves = pd.to_numeric(data["wave"].iloc[rows], errors="coerce").to_numpy()
    order = (
        pd.to_datetime(data["submitted_at"].iloc[rows], errors="coerce").to_numpy()
        if "submitted_at" in data
        else np.arange(len(rows))
    )
    frame = pd.DataFrame({"wave": waves, "order": order, "pos": rows})
    latest = frame.sort_values(["order", "pos"], na_position="first").drop_duplicates(
        "wave", keep="last"
    )
    per_wave = {int(w): int(p) for w, p in zip(latest["wave"], latest["pos"], strict=True)}
    if wave is not None:
        if isinstance(wave, bool) or not isinstance(wave, int | np.integer):
            raise UnknownValueError(
                f"wave={wave!r} must be a wave number (1, 2 or 3) or None for every wave."
            )
        if int(wave) not in per_wave:
            answered = ", ".join(str(w) for w in sorted(per_wave))
            raise UnknownValueError(
                f"{target.nom} did not answer wave {wave} (it answered wave(s) {answered}). "
                f"Pass wave={min(per_wave)} or wave=None for every wave it answered."
            )
        per_wave = {int(wave): per_wave[int(wave)]}
    return dict(sorted(per_wave.items()))
