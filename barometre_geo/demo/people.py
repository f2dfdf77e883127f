"""Fictional respondents of the demo edition: functions, names, e-mails, phones.

Functions follow the study report ("DGS, DSI, agents en charge du numérique,
chargés de mission…; maires, adjoints au numérique, conseillers délégués…")
and are all classified as intended by the default mapping's ``profiles``
(checked by the tests). Names are common French first names and surnames;
e-mails use the reserved ``example.invalid`` domain and phones the range
01 99 00 00 00 – 01 99 99 99 99 that ARCEP keeps for fiction: nothing here
reaches a real person.
"""

from __future__ import annotations

import unicodedata

import numpy as np

__all__ = ["FUNCTIONS", "fake_people", "function_of"]

# (kind group, profile) -> [(function, weight)]
FUNCTIONS: dict[tuple[str, str], list[tuple[str, float]]] = {
    ("petite_commune", "agent"): [
        ("Secrétaire de mairie", 8), ("Secrétaire générale de mairie", 3),
        ("Adjoint administratif", 2), ("Agent administratif polyvalent", 1),
        ("Agent d'accueil", 1),
    ],
    ("petite_commune", "elu"): [
        ("Maire", 8), ("Maire adjoint", 2), ("Première adjointe", 2),
        ("Adjoint au maire", 2), ("Conseiller municipal délégué au numérique", 1),
    ],
    ("commune", "agent"): [
        ("DGS", 5), ("Directrice générale des services", 2), ("Secrétaire générale", 2),
        ("Responsable informatique", 2), ("Chargée de communication", 2),
        ("Agent chargé du numérique", 2), ("Conseiller numérique", 1),
    ],
    ("commune", "elu"): [
        ("Maire", 4), ("Adjoint au numérique", 4), ("Adjointe à la communication", 2),
        ("Conseiller délégué au numérique", 2), ("Conseillère municipale déléguée", 1),
    ],
    ("grande_commune", "agent"): [
        ("DSI", 4), ("Directeur des systèmes d'information", 2), ("DGS", 2),
        ("Chef de projet transformation numérique", 2), ("Chargé de mission numérique", 3),
        ("RSSI", 1), ("DPO", 1), ("Responsable du service informatique", 2),
        ("Directrice générale adjointe ressources", 1),
    ],
    ("grande_commune", "elu"): [
        ("Adjoint au numérique", 5), ("Conseillère municipale déléguée au numérique", 3),
        ("Maire", 1), ("Adjointe à la transition numérique", 2),
    ],
    ("epci", "agent"): [
        ("DGS", 3), ("DSI mutualisée", 2), ("Chargé de mission numérique", 3),
        ("Chef de projet SIG", 1), ("Conseillère numérique", 1),
        ("Responsable des systèmes d'information", 2),
        ("Chargée de mission inclusion numérique", 1),
    ],
    ("epci", "elu"): [
        ("Vice-président au numérique", 4), ("Président", 2),
        ("Conseiller communautaire délégué au numérique", 2), ("Vice-présidente", 1),
    ],
    ("conseil", "agent"): [
        ("DSI", 3), ("Directeur de la transformation numérique", 2),
        ("Chargée de mission inclusion numérique", 2), ("RSSI", 1), ("DGA ressources", 1),
        ("Cheffe de projet données", 1),
    ],
    ("conseil", "elu"): [
        ("Vice-présidente déléguée au numérique", 3), ("Conseiller départemental délégué", 1),
        ("Conseillère régionale", 1),
    ],
    ("syndicat", "agent"): [
        ("Directeur", 3), ("Responsable informatique", 2), ("Chargée de mission", 2),
        ("Secrétaire", 2),
    ],
    ("syndicat", "elu"): [("Président du syndicat", 3), ("Vice-président", 1)],
}  # fmt: skip

_FIRST = (
    "Marie", "Jean", "Nathalie", "Philippe", "Isabelle", "Michel", "Sylvie", "Alain",
    "Catherine", "Patrick", "Sandrine", "Christophe", "Valérie", "Stéphane", "Céline",
    "Frédéric", "Sophie", "Laurent", "Aurélie", "Nicolas", "Émilie", "Julien", "Camille",
    "Thomas", "Élodie", "Sébastien", "Hélène", "Olivier", "Chloé", "Mathieu",
)  # fmt: skip
_LAST = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
    "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
    "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure",
)  # fmt: skip


def _group(kind: str, population: float) -> str:
    if kind == "commune":
        if population < 1000:
            return "petite_commune"
        return "commune" if population < 10_000 else "grande_commune"
    if kind in ("departement", "region", "collectivite_a_statut_particulier"):
        return "conseil"
    return kind


def function_of(rng, kinds, populations, profiles) -> list[str]:
    """Draw a plausible function for each respondent of these kinds, sizes and profiles."""
    groups = [(_group(k, p), pr) for k, p, pr in zip(kinds, populations, profiles, strict=True)]
    out = [""] * len(groups)
    for g in sorted(set(groups)):
        idx = [i for i, x in enumerate(groups) if x == g]
        options = FUNCTIONS[g]
        weights = np.array([w for _, w in options], dtype=float)
        picks = rng.choice(len(options), size=len(idx), p=weights / weights.sum())
        for i, k in zip(idx, picks, strict=True):
            out[i] = options[int(k)][0]
    return out


def _ascii(text: str) -> str:
    s = unicodedata.normalize("NFKD", text)
    return "".join(c for c in s if not unicodedata.combining(c)).lower().replace(" ", "-")


def fake_people(rng, n: int) -> list[tuple[str, str, str]]:
    """``n`` (name, e-mail, phone) of fictional people (example.invalid, 01 99 fiction range)."""
    first = rng.integers(len(_FIRST), size=n)
    last = rng.integers(len(_LAST), size=n)
    digits = rng.integers(0, 100, size=(n, 3))
    out = []
    for f, la, d in zip(first, last, digits, strict=True):
        a, b = _FIRST[f], _LAST[la]
        phone = "01 99 " + " ".join(f"{x:02d}" for x in d)
        out.append((f"{a} {b}", f"{_ascii(a)}.{_ascii(b)}@example.invalid", phone))
    return out
