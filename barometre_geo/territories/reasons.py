"""Reasons of the resolver's unresolved and ambiguous rows: French text and stable codes.

The ``reason`` column of :func:`barometre_geo.resolve.resolve` is user-facing data
(the ingest report, ``barometre-geo validate``, the structures report and the
comparison fiche show it to French analysts, like a map label): French, short,
saying what was tried and how to fix it. ``reason_code`` is its stable,
machine-readable category (:data:`REASON_CODES`): programs test the code, never
the French text. Every sentence of the resolver is written here, in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .text import luhn_ok

__all__ = [
    "AMBIGUOUS_CODES",
    "REASON_CODES",
    "ambiguous",
    "contradiction",
    "empty",
    "invalid_siren",
    "junk",
    "malformed_code",
    "outside_reference",
    "postal_shared",
    "postal_unknown",
    "quote",
    "unknown_code",
    "unknown_name",
    "unknown_siren",
    "wrong_kind",
]

#: Categories of the ``reason_code`` column (resolved rows: ``""``) and their French label.
REASON_CODES = {
    "empty": "vide ou valeur de remplissage (N/A, néant, 00000…)",
    "test_row": "ligne de test (test, essai, démo…)",
    "not_a_collectivity": "pas une collectivité (e-mail, site web, association, CCAS…)",
    "syndicat": "syndicat ou établissement public, hors de la référence",
    "invalid_siren": "SIREN dont la clé de contrôle (Luhn) est fausse",
    "invalid_siret": "SIRET dont la clé de contrôle (Luhn) est fausse",
    "unknown_siren": "SIREN valide d'aucune collectivité de la référence",
    "unknown_code": "code INSEE, postal, de département ou de région inconnu",
    "malformed_code": "nombre de chiffres d'aucun code (5, 9 ou 14 attendus)",
    "outside_reference": "collectivité d'outre-mer, hors de la référence",
    "wrong_kind": "valeur d'une autre nature que celle déclarée pour la colonne",
    "unknown_name": "aucun nom de la référence ne correspond (comparaison exacte)",
    "ambiguous_name": "homonymes : plusieurs territoires portent ce nom",
    "ambiguous_code": "code partagé (code postal, ancien code, département ou région)",
    "ambiguous_reading": "code lisible de deux façons (code INSEE ou code postal)",
    "contradiction": "le code ou le nom contredit le département indiqué ou le nom voisin",
}
#: Codes of ambiguous rows; the others are those of unresolved rows.
AMBIGUOUS_CODES = frozenset(
    {"ambiguous_name", "ambiguous_code", "ambiguous_reading", "contradiction"}
)
#: How each declaration of a column (``holds``) is named in the reasons.
_HOLDS_FR = {
    "insee": "codes INSEE (COG, SIREN, SIRET)",
    "postal": "codes postaux",
    "siren": "SIREN ou SIRET",
    "siret": "SIREN ou SIRET",
    "name": "noms",
}
_SHAPE_FR = {
    "insee": "un code INSEE ou postal",
    "departement": "un code de département ou de région",
    "siren": "un SIREN",
    "siret": "un SIRET",
    "": "un nombre",
}

_FIX_ID = "saisissez le code INSEE, le SIREN ou le nom de la collectivité"
_LEVEL = {  # singular, plural, feminine
    "commune": ("commune", "communes", True),
    "epci": ("EPCI", "EPCI", False),
    "departement": ("département", "départements", False),
    "region": ("région", "régions", True),
}


def quote(text: str, limit: int = 60) -> str:
    """Return ``« text »``, blanks collapsed, cut at ``limit`` characters.

    Examples
    --------
    >>> quote("  Saint-Éloi-des-Brumes ")
    '« Saint-Éloi-des-Brumes »'
    """
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"« {text} »"


def _grouped(digits: str) -> str:
    """``200069111`` → ``200 069 111``; a SIRET keeps its 5-digit establishment number."""
    siren = " ".join(digits[i : i + 3] for i in range(0, 9, 3))
    return siren if len(digits) == 9 else f"{siren} {digits[9:]}"


def _codes(codes: Sequence[str], limit: int = 4) -> str:
    """``("commune:38544", "departement:86")`` → ``"commune 38544, département 86"``."""

    def one(c: str) -> str:
        level, _, code = str(c).rpartition(":")
        return f"{_LEVEL[level][0]} {code}" if level in _LEVEL else code

    shown = ", ".join(one(c) for c in codes[:limit])
    return shown + (", …" if len(codes) > limit else "")


def _count(levels: Iterable[str]) -> str:
    """``["commune", "commune", "departement"]`` → ``"2 communes et 1 département"``."""
    counts: dict[str, int] = {}
    for level in levels:
        counts[level] = counts.get(level, 0) + 1
    parts = []
    for level, n in counts.items():
        one, many, _ = _LEVEL.get(level, ("territoire", "territoires", False))
        parts.append(f"{n} {one if n == 1 else many}")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]


# ------------------------------------------------------------------- unresolved


def empty(text: str | None = None) -> tuple[str, str]:
    """Reason of a missing value, or of a placeholder (``N/A``, ``néant``, ``00000``)."""
    if text is None or not text.strip():
        return "empty", f"vide : aucune valeur — {_FIX_ID}"
    return "empty", f"vide : {quote(text)} est une valeur de remplissage — {_FIX_ID}"


def junk(code: str, what: str | None, text: str) -> tuple[str, str]:
    """Reason of a text that names no collectivity (see ``classify_junk``)."""
    if code == "empty":
        return empty(text)
    if code == "test_row":
        return code, (
            f"ligne de test : {quote(text)} ressemble à un essai (test, essai, démo, lettre "
            "répétée…) — retirez la ligne ou saisissez la vraie collectivité"
        )
    if code == "syndicat":
        return code, (
            "syndicat ou établissement public : pas une collectivité territoriale de la "
            "référence (communes, EPCI à fiscalité propre, départements, régions) — si c'est "
            "un EPCI à fiscalité propre, donnez son SIREN"
        )
    # not_a_collectivity: the value itself is not repeated (an e-mail is personal data)
    return code, f"pas une collectivité : {what} — {_FIX_ID}"


def invalid_siren(digits: str) -> tuple[str, str]:
    """Reason of a SIREN (9 digits) or SIRET (14) whose Luhn check digit is wrong.

    A SIRET is checked as a whole, then its SIREN (its first 9 digits).
    """
    if len(digits) == 14:
        if luhn_ok(digits):
            return "invalid_siret", (
                f"SIRET {_grouped(digits)} invalide : la clé de contrôle (Luhn) de son SIREN "
                f"{_grouped(digits[:9])} est fausse — vérifiez la saisie"
            )
        return "invalid_siret", (
            f"SIRET {_grouped(digits)} invalide : la clé de contrôle (Luhn) est fausse — "
            "vérifiez la saisie, ou donnez le SIREN (ses 9 premiers chiffres)"
        )
    return "invalid_siren", (
        f"SIREN {_grouped(digits)} invalide : la clé de contrôle (Luhn) est fausse — "
        "vérifiez la saisie"
    )


def unknown_siren(digits: str, cog: int) -> tuple[str, str]:
    """Reason of a valid SIREN (or SIRET's SIREN) of no collectivity of the reference."""
    what = f"SIREN {_grouped(digits)}"
    if len(digits) == 14:
        what = f"SIRET {_grouped(digits)} (SIREN {_grouped(digits[:9])})"
    return "unknown_siren", (
        f"{what} inconnu : ni commune, ni EPCI à fiscalité propre, ni département, ni région, "
        f"ni collectivité à statut particulier du COG {cog} (un syndicat, un autre organisme "
        "public ?) — vérifiez la saisie, ou donnez le code INSEE ou le nom"
    )


def unknown_code(code: str, what: str, cog: int, *, zero: bool = False) -> tuple[str, str]:
    """Reason of a code designating nothing (``what``: insee, insee_or_postal, a level, code)."""
    restored = " ; zéro initial rétabli" if zero else ""
    if what == "insee_or_postal":
        return "unknown_code", (
            f"inconnu : aucune commune n'a le code INSEE ou postal {code} (COG {cog}, anciens "
            f"codes compris{restored}) — vérifiez le code ou donnez le nom"
        )
    if what == "insee":
        return "unknown_code", (
            f"inconnu : aucune commune n'a le code INSEE {code} (COG {cog}) — vérifiez le code "
            "ou donnez le nom"
        )
    if what in ("departement", "region"):
        one = "aucun département" if what == "departement" else "aucune région"
        return "unknown_code", (
            f"inconnu : {one} n'a le code {code} — vérifiez le code (départements : 01, 2A, "
            "971… ; régions : 11, 84…)"
        )
    return "unknown_code", (
        f"inconnu : {code} n'est le code d'aucun département ni d'aucune région — vérifiez le "
        "code (départements : 01, 2A, 971… ; régions : 11, 84…)"
    )


def malformed_code(n_digits: int) -> tuple[str, str]:
    """Reason of a number of digits that no code has."""
    return "malformed_code", (
        f"format inconnu : {n_digits} chiffres, ni un code INSEE ou postal (5), ni un SIREN (9), "
        "ni un SIRET (14) — vérifiez la saisie"
    )


def outside_reference(
    code: str, nom: str, *, hint: bool = False, postal: Sequence[str] = ()
) -> tuple[str, str]:
    """Reason of a code in a collectivité d'outre-mer (975–989).

    ``nom``: the commune whose INSEE code it is ("" if none); ``postal``: those
    whose postal code it is. ``hint``: the code is the département given beside
    the value (``departement=``), ``nom`` its collectivité.
    """
    if hint:
        return "outside_reference", (
            f"hors référence : le département indiqué, {code}, est la collectivité "
            f"d'outre-mer {nom}, que la référence (départements et régions, DROM compris) "
            "ne couvre pas"
        )
    others = [p for p in postal if p != nom]
    if nom and others:
        what = f"le code INSEE de {nom} et le code postal de {', '.join(others[:3])}"
    elif nom:
        what = f"le code INSEE de {nom}"
    else:
        what = f"le code postal de {', '.join(others[:3]) or '?'}"
    return "outside_reference", (
        f"hors référence : {code} est {what}, dans une collectivité d'outre-mer, que la "
        "référence (départements et régions, DROM compris) ne couvre pas"
    )


def wrong_kind(code: str, holds: str, shape: str) -> tuple[str, str]:
    """Reason of a bare code whose shape is not what its column is declared to hold."""
    if holds == "name":
        seen = f"{code} est {_SHAPE_FR.get(shape, 'un code')}, pas un nom"
    else:
        what = _SHAPE_FR.get(shape, "un nombre")
        seen = f"{code} ({len(code)} caractères) n'en est pas : c'est {what}"
    return "wrong_kind", (
        f"nature inattendue : la colonne est déclarée contenir des {_HOLDS_FR[holds]} ; "
        f"{seen} — corrigez la valeur, ou déclarez la colonne « auto » (holds: du mapping)"
    )


def unknown_name(name: str, level: str | None = None) -> tuple[str, str]:
    """Reason of a name matching none; ``level`` when a prefix announced one ("Mairie de")."""
    who = {
        "commune": "aucune commune ne s'appelle",
        "epci": "aucun EPCI à fiscalité propre ne s'appelle",
        "departement": "aucun département ne s'appelle",
        "region": "aucune région ne s'appelle",
    }.get(level, "aucune commune, aucun EPCI, département ou région ne s'appelle")
    return "unknown_name", (
        f"inconnu : {who} {quote(name)} (comparaison exacte, sans tenir compte des accents, "
        "majuscules, tirets ni articles) — vérifiez l'orthographe ou donnez le code INSEE ou "
        "le SIREN"
    )


def postal_unknown(code: str, cog: int) -> tuple[str, str]:
    """Reason of a postal code (read as such) of no commune."""
    return "unknown_code", (
        f"inconnu : aucune commune n'a le code postal {code} (COG {cog}) — vérifiez le code, ou "
        "donnez le code INSEE ou le nom"
    )


def postal_shared(code: str, codes: Sequence[str]) -> tuple[str, str]:
    """Reason of a postal code shared by several communes."""
    return "ambiguous_code", (
        f"ambigu : le code postal {code} est partagé par {len(codes)} communes "
        f"({_codes(codes)}) — donnez le code INSEE, le nom ou le département"
    )


# -------------------------------------------------------------------- ambiguous


def ambiguous(
    what: str,
    subject: str,
    codes: Sequence[str],
    levels: Sequence[str],
    names: Sequence[str],
    methods: Sequence[str] = (),
) -> tuple[str, str]:
    """Reason of several candidates for one reading.

    ``what`` is the reading (``name``, ``postal``, ``former``, ``insee_or_postal``,
    ``former_or_postal``, ``code``, ``siren``, ``insee``); ``codes``, ``levels``,
    ``names`` and ``methods`` (how each was found: ``code_insee``, ``code_postal``…)
    describe the candidates, in order.
    """
    n, listed = len(codes), _codes(codes)
    if what == "name":
        same = len(set(names)) == 1
        told = f"s'appellent {names[0]}" if same else f"correspondent à {quote(subject)}"
        kinds = set(levels)
        if kinds == {"commune"}:
            fix = "indiquez le département ou donnez le code INSEE"
        elif kinds == {"epci"}:
            fix = "indiquez le département ou donnez le SIREN"
        else:
            fix = "donnez le code (INSEE, SIREN, département ou région) plutôt que le nom"
        return "ambiguous_name", f"ambigu : {_count(levels)} {told} ({listed}) — {fix}"
    if what == "postal":
        return postal_shared(subject, codes)
    if what == "former":
        text = (
            f"ambigu : l'ancien code {subject} correspond aujourd'hui à {n} communes ({listed}) "
            "— donnez le code INSEE actuel ou le nom"
        )
    elif what in ("insee_or_postal", "former_or_postal"):
        methods = list(methods) or [""] * n
        found = list(zip(codes, names, methods, strict=True))
        side = [(c, nom) for c, nom, m in found if m != "code_postal"]
        post = [(c, nom) for c, nom, m in found if m == "code_postal"]

        def listing(pairs) -> str:
            shown = ", ".join(f"{nom} ({c})" for c, nom in pairs[:3])
            return shown + (", …" if len(pairs) > 3 else "")

        label = "le code INSEE" if what == "insee_or_postal" else "un ancien code INSEE"
        return "ambiguous_reading", (
            f"ambigu : {subject} est {label} de {listing(side)} et le code postal de "
            f"{listing(post)} — déclarez ce que contient la colonne (holds: insee ou postal "
            "dans le mapping), ou donnez le nom ou le département"
        )
    elif what == "code" and set(levels) == {"departement"}:  # "20": Corse-du-Sud or Haute-Corse
        named = " et ".join(f"{nom} ({c})" for c, nom in zip(codes, names, strict=True))
        text = f"ambigu : {subject} désigne {n} départements, {named} — écrivez " + " ou ".join(
            codes
        )
    elif what == "code":
        parts = [
            f"{'la' if _LEVEL[lv][2] else 'le'} {_LEVEL[lv][0]} {nom}"
            for lv, nom in zip(levels, names, strict=True)
        ]
        text = (
            f"ambigu : {subject} désigne {' et '.join(parts)} — écrivez « Département {subject} » "
            f"ou « Région {subject} »"
        )
    elif what == "siren":
        text = (
            f"ambigu : le SIREN {_grouped(subject)} est celui d'un EPCI disparu dont les communes "
            f"sont aujourd'hui dans {n} EPCI ({listed}) — donnez le SIREN de l'EPCI actuel ou "
            "le nom de la commune"
        )
    else:
        text = f"ambigu : {n} candidats pour {quote(subject)} ({listed}) — donnez un code"
    return "ambiguous_code", text


def contradiction(
    subject: str, found: Sequence[tuple[str, str, str, str]], hint: Sequence[str], named: bool
) -> tuple[str, str]:
    """Reason of a value whose readings contradict the département hint or the name beside it.

    ``found``: (level, code, name, départements) of the first reading's candidates;
    ``hint``: the départements indicated (empty when only the name contradicts);
    ``named``: a name written next to the code contradicts it.
    """
    if len(found) > 3:
        mixed = len({lv for lv, *_ in found}) > 1
        codes = [f"{lv}:{c}" if mixed else c for lv, c, *_ in found]
        shown = f"{_count(lv for lv, *_ in found)} ({_codes(codes, limit=3)})"
    else:
        shown = " et ".join(
            f"{c} {nom} (dép. {deps})"
            if lv in ("commune", "epci")
            else f"{_LEVEL[lv][0]} {c} {nom}"
            for lv, c, nom, deps in found
        )
    against, fix = [], []
    if hint:
        against.append(f"le département indiqué ({'/'.join(hint)})")
        fix.append("le département")
    if named:
        against.append("le nom écrit à côté du code")
        fix.append("le nom")
    return "contradiction", (
        f"contradiction : {quote(subject)} désigne {shown}, ce qui contredit "
        f"{' et '.join(against)} — corrigez la valeur ou {' ou '.join(fix)}"
    )
