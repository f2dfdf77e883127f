"""Text rules of the resolver: normalisation, code shapes, prefixes, junk.

Everything here is pure string work, shared by the index built from the
reference (:mod:`barometre_geo.territories.lookup`) and by the parsing of the
inputs (:mod:`barometre_geo.territories.resolve`): the reference names and the inputs go
through the very same functions, so an exact match after normalisation is
symmetric by construction.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "ARTICLES",
    "CONNECTORS",
    "Prefix",
    "article_less",
    "classify_junk",
    "code_shape",
    "drop_parenthetical",
    "drop_quoted",
    "epci_core",
    "key",
    "loose_core",
    "luhn_ok",
    "quoted_parts",
    "split_prefix",
    "tail",
    "tokens",
    "value_to_text",
]

_TRANSLATE = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "´": "'",
        "œ": "oe",
        "Œ": "OE",
        "æ": "ae",
        "Æ": "AE",
        "ß": "ss",
        "&": " et ",
    }
)
_TOKEN = re.compile(r"[a-z]+|[0-9]+")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
#: Leading articles dropped by the article-less keys ("Le Mans" = "Mans").
ARTICLES = frozenset({"le", "la", "les", "l"})
#: Words between a prefix and a name ("Mairie *de la* …", "CC *du* …").
CONNECTORS = frozenset({"de", "d", "du", "des", "la", "le", "les", "l"})
_PARENTHETICAL = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")


def value_to_text(value) -> str | None:
    """Return an input value as text, or None when missing.

    Integral numbers lose their ``.0`` (``1001.0`` → ``"1001"``), the form in
    which spreadsheets hand back INSEE codes.

    Examples
    --------
    >>> value_to_text(1001.0), value_to_text(float("nan")), value_to_text(" Lyon ")
    ('1001', None, ' Lyon ')
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isnan(f):
            return None
        return str(int(f)) if f.is_integer() else repr(f)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):  # array-like values: not missing
        pass
    return str(value)


def tokens(text: str) -> list[str]:
    """Lower-case ASCII words and numbers of a text, St/Ste expanded.

    Examples
    --------
    >>> tokens("Ste-Foy-lès-Lyon"), tokens("L’Haÿ-les-Roses")
    (['sainte', 'foy', 'les', 'lyon'], ['l', 'hay', 'les', 'roses'])
    """
    ascii_text = (
        unicodedata.normalize("NFKD", text.translate(_TRANSLATE))
        .encode("ascii", "ignore")
        .decode("ascii")
        .lower()
    )
    return [_ABBREVIATIONS.get(t, t) for t in _TOKEN.findall(ascii_text)]


def key(toks: list[str] | tuple[str, ...]) -> str:
    """Return the matching key: the tokens glued (spaces, hyphens, apostrophes ignored)."""
    return "".join(toks)


def article_less(toks: list[str] | tuple[str, ...]) -> list[str]:
    """Drop leading articles: ``["le", "mans"]`` → ``["mans"]`` (never all tokens)."""
    i = 0
    while i < len(toks) - 1 and toks[i] in ARTICLES:
        i += 1
    return list(toks[i:])


def drop_parenthetical(text: str) -> str:
    """Remove parenthesised parts: ``"Bors (Canton de Charente-Sud)"`` → ``"Bors"``."""
    return _PARENTHETICAL.sub("", text).strip()


_QUOTED = re.compile(r"(?:''|\"|«|“|„)\s*([^'\"«»“”„]+?)\s*(?:''|\"|»|”|“)")


def quoted_parts(text: str) -> list[str]:
    """Parts of a name between quotes or guillemets: the EPCI's brand name.

    Examples
    --------
    >>> quoted_parts("CA de Blois ''Agglopolys''"), quoted_parts("CA de Blois «Agglopolys»")
    (['Agglopolys'], ['Agglopolys'])
    """
    return [m.group(1) for m in _QUOTED.finditer(text)]


def drop_quoted(text: str) -> str:
    """Remove the quoted parts of a name: ``"CA de Blois ''Agglopolys''"`` → ``"CA de Blois"``."""
    return " ".join(_QUOTED.sub(" ", text).split())


_WORD = re.compile(r"[^\W_]+")


def tail(text: str, n: int) -> str:
    """Return ``text`` from its ``n``-th token on (tokens counted as :func:`tokens` does).

    Shows a name as the user typed it once a prefix is removed.

    Examples
    --------
    >>> tail("Mairie de Saint-Éloi-des-Brumes", 2)
    'Saint-Éloi-des-Brumes'
    """
    seen = 0
    for m in _WORD.finditer(text):
        seen += len(tokens(m.group()))
        if seen > n:
            return text[m.start() :].strip()
    return ""


# ------------------------------------------------------------------- code shapes

_SEPARATED_DIGITS = re.compile(r"[\d\s.\u00a0\u202f-]+")
_SEPARATORS = re.compile(r"[\s.\u00a0\u202f-]")
_FLOAT_TEXT = re.compile(r"(\d+)[.,]0+")
_CORSICA = re.compile(r"2\s*([ABab])\s*(\d{3})?")


def code_shape(text: str) -> str | None:
    """Return the code a text is made of, or None if it is not a bare code.

    Digits may be grouped by spaces, dots or hyphens (``"200 069 110"``);
    ``"1001.0"`` (a spreadsheet float) gives ``"1001"``; ``"2a004"`` gives
    ``"2A004"``.

    Examples
    --------
    >>> code_shape("200 069 110"), code_shape("1001.0"), code_shape("2a 004"), code_shape("Lyon")
    ('200069110', '1001', '2A004', None)
    >>> code_shape("2b")
    '2B'
    """
    s = text.strip()
    m = _FLOAT_TEXT.fullmatch(s)
    if m:
        return m.group(1)
    if _SEPARATED_DIGITS.fullmatch(s) and any(c.isdigit() for c in s):
        return _SEPARATORS.sub("", s)
    m = _CORSICA.fullmatch(s)
    if m:
        return f"2{m.group(1).upper()}{m.group(2) or ''}"
    return None


def luhn_ok(digits: str) -> bool:
    """Luhn check of a SIREN (9 digits) or SIRET (14 digits).

    Examples
    --------
    >>> luhn_ok("200069110"), luhn_ok("200069111")
    (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# ---------------------------------------------------------------------- prefixes


@dataclass(frozen=True, slots=True)
class Prefix:
    """Level (and EPCI nature) announced by the first words of a name."""

    level: str
    nature: str | None = None


def _grammar(spec: dict[tuple[str, str | None], list[str]]) -> list[tuple[tuple[str, ...], Prefix]]:
    out = [
        (tuple(words.split()), Prefix(level, nature))
        for (level, nature), phrases in spec.items()
        for words in phrases
    ]
    return sorted(out, key=lambda item: -len(item[0]))  # longest first


_PREFIXES = _grammar(
    {
        ("commune", None): [
            "mairie",
            "commune",
            "commune nouvelle",
            "ville",
            "conseil municipal",
            "municipalite",
            "hotel de ville",
        ],
        ("departement", None): [
            "departement",
            "dept",
            "dpt",
            "conseil departemental",
            "conseil general",
            "cd",
            "cg",
        ],
        ("region", None): ["region", "conseil regional", "cr"],
        ("epci", "CC"): [
            "communaute de communes",
            "communaute de commune",
            "communaute des communes",
            "communautes de communes",
            "communaute communes",
            "comm de communes",
            "comm de com",
            "com de communes",
            "com de com",
            "cte de communes",
            "comcom",
            "com com",
            "cc",
            "cdc",
            "c c",
        ],
        ("epci", "CA"): [
            "communaute d agglomeration",
            "communaute de l agglomeration",
            "communaute d agglo",
            "communaute agglomeration",
            "comm d agglo",
            "agglomeration",
            "agglo",
            "ca",
            "cda",
            "c a",
        ],
        ("epci", "CU"): ["communaute urbaine", "cu", "c u"],
        ("epci", "MET"): ["metropole", "eurometropole"],
        ("epci", None): ["communaute", "intercommunalite", "interco", "epci"],
    }
)
_NUMBERS = {
    "deux": "2",
    "trois": "3",
    "quatre": "4",
    "cinq": "5",
    "six": "6",
    "sept": "7",
    "huit": "8",
    "neuf": "9",
    "dix": "10",
}
_PREFIXES_BY_FIRST: dict[str, list] = {}
for _words, _prefix in _PREFIXES:
    _PREFIXES_BY_FIRST.setdefault(_words[0], []).append((_words, _prefix))
_SUFFIXES = {  # longest first: the first that ends the name is removed
    ("communaute", "d", "agglomeration"): "CA",
    ("communaute", "de", "communes"): "CC",
    ("communaute", "urbaine"): "CU",
    ("agglo",): "CA",
    ("agglomeration",): "CA",
    ("metropole",): "MET",
    ("communaute",): None,
}


def split_prefix(toks: list[str]) -> tuple[Prefix | None, list[str]]:
    """Split ``["mairie", "de", "la", "x"]`` into the prefix and ``["la", "x"]``.

    The connector after the prefix becomes the article it contains
    (``du`` → ``le``, ``des`` → ``les``, ``de la`` → ``la``), so that
    "Mairie du Mans" gives "le mans".

    Examples
    --------
    >>> p, rest = split_prefix(tokens("Mairie du Mans"))
    >>> p.level, rest
    ('commune', ['le', 'mans'])
    >>> p, rest = split_prefix(tokens("CC du Pays de Mormal"))
    >>> p.level, p.nature, rest
    ('epci', 'CC', ['le', 'pays', 'de', 'mormal'])
    """
    for words, prefix in _PREFIXES_BY_FIRST.get(toks[0], ()) if toks else ():
        n = len(words)
        if len(toks) > n and tuple(toks[:n]) == words:
            rest = toks[n:]
            if rest[0] == "du":
                rest = ["le", *rest[1:]]
            elif rest[0] == "des":
                rest = ["les", *rest[1:]]
            elif rest[0] in ("de", "d") and len(rest) > 1:
                rest = rest[1:]
            return prefix, rest
    return None, toks


def epci_core(toks: list[str]) -> tuple[str | None, str]:
    """Return the nature and core key of an EPCI name: prefix, connectors and suffix removed.

    Number words become digits ("Deux Vallées" = "2 Vallées").

    Examples
    --------
    >>> epci_core(tokens("Communauté de communes du Pays de Mormal"))
    ('CC', 'paysdemormal')
    >>> epci_core(tokens("Valence Romans Agglo"))
    ('CA', 'valenceromans')
    """
    return _epci_core(tuple(toks))


@functools.lru_cache(maxsize=1 << 16)  # the resolver tries it tier after tier
def _epci_core(toks: tuple[str, ...]) -> tuple[str | None, str]:
    toks = list(toks)
    prefix, rest = split_prefix(toks)
    nature = prefix.nature if prefix is not None and prefix.level == "epci" else None
    if prefix is not None and prefix.level != "epci":
        rest = toks
    elif prefix is not None:  # "CA Agglo Pays d'Issoire": the legal form written twice
        again, after = split_prefix(rest)
        if again is not None and again.level == "epci" and again.nature in (None, nature):
            rest = after
    for words, suffix_nature in _SUFFIXES.items():
        n = len(words)
        if len(rest) > n and tuple(rest[-n:]) == words:
            rest = rest[:-n]
            nature = nature or suffix_nature
            break
    i = 0
    while i < len(rest) - 1 and rest[i] in CONNECTORS:
        i += 1
    return nature, key([_NUMBERS.get(w, w) for w in rest[i:]])


def loose_core(toks: list[str]) -> tuple[str | None, str]:
    """:func:`epci_core` without any article or connector, wherever it stands.

    "CA de l'Espace sud Martinique" and "CA de l'Espace Sud de la Martinique" have
    the same loose core; the resolver tries it after the exact core.

    Examples
    --------
    >>> loose_core(tokens("CA de l'Espace Sud de la Martinique"))
    ('CA', 'espacesudmartinique')
    """
    return _loose_core(tuple(toks))


@functools.lru_cache(maxsize=1 << 16)
def _loose_core(toks: tuple[str, ...]) -> tuple[str | None, str]:
    toks = list(toks)
    nature, _ = epci_core(toks)
    prefix, rest = split_prefix(toks)
    if prefix is not None and prefix.level != "epci":
        rest = toks
    elif prefix is not None:
        again, after = split_prefix(rest)
        if again is not None and again.level == "epci" and again.nature in (None, nature):
            rest = after
    for words in _SUFFIXES:
        n = len(words)
        if len(rest) > n and tuple(rest[-n:]) == words:
            rest = rest[:-n]
            break
    kept = [_NUMBERS.get(w, w) for w in rest if w not in CONNECTORS] or rest
    return nature, key(kept)


# -------------------------------------------------------------------------- junk

_PLACEHOLDERS = frozenset(
    "na nan none null nil nc nr nd so neant inconnu inconnue aucun aucune vide "
    "nonrenseigne nonrenseignee nonconnu sansobjet x xx xxx".split()
)
_TEST_WORDS = frozenset(
    "test tests testing essai essais demo dummy fake bidon toto titi tata tutu "
    "foo azerty qwerty asdf lorem ipsum".split()
)
_SYNDICAT_WORDS = frozenset(
    "syndicat syndicats sivom sivu sivos smictom sictom sitom smirtom sdis sdea siaep "
    "sidec syder petr pnr gip sem spl semop epf epage eptb ept regie opac oph".split()
)
_SYNDICAT_PHRASES = (
    " syndicat mixte ",
    " etablissement public ",
    " parc naturel ",
    " pole metropolitain ",
    " pole d equilibre ",
    " office public ",
)
_OTHER_ORGS: dict[str, str] = {
    " association ": "association",
    " asso ": "association",
    " ccas ": "centre communal d'action sociale",
    " cias ": "centre intercommunal d'action sociale",
    " centre communal d action sociale ": "centre communal d'action sociale",
    " centre de gestion ": "centre de gestion",
    " cdg ": "centre de gestion",
    " ehpad ": "établissement médico-social",
    " hopital ": "hôpital",
    " chu ": "hôpital",
    " college ": "établissement scolaire",
    " lycee ": "établissement scolaire",
    " ecole ": "établissement scolaire",
    " universite ": "université",
    " prefecture ": "services de l'État",
    " ministere ": "services de l'État",
    " dinum ": "services de l'État",
    " office de tourisme ": "office de tourisme",
    " entreprise ": "entreprise",
    " sarl ": "entreprise",
    " sas ": "entreprise",
}


def _join_initials(toks: list[str]) -> list[str]:
    """Glue runs of single letters: an acronym written with dots ("S.I.V.O.M.")."""
    out: list[str] = []
    run: list[str] = []
    for t in [*toks, ""]:
        if len(t) == 1 and t.isalpha():
            run.append(t)
            continue
        out += ["".join(run)] if len(run) > 1 else run
        run = []
        if t:
            out.append(t)
    return out


def classify_junk(text: str, toks: list[str]) -> tuple[str, str | None] | None:
    """Return ``(reason_code, what)`` when a text names no collectivity, else None.

    Codes (see :data:`barometre_geo.territories.reasons.REASON_CODES`): ``empty``,
    ``test_row``, ``not_a_collectivity`` (``what`` says which organisation or
    address), ``syndicat``. Only called after the whole text failed to match a
    reference name, so a real commune name can never be classified as junk.

    Examples
    --------
    >>> classify_junk("TEST DECLIC", tokens("TEST DECLIC"))
    ('test_row', None)
    >>> classify_junk("SIVOM de la vallée", tokens("SIVOM de la vallée"))
    ('syndicat', None)
    >>> classify_junk("S.I.V.O.M. de la vallée", tokens("S.I.V.O.M. de la vallée"))
    ('syndicat', None)
    >>> classify_junk("CCAS de Lyon", tokens("CCAS de Lyon"))
    ('not_a_collectivity', "centre communal d'action sociale")
    """
    if "@" in text:
        return "not_a_collectivity", "adresse e-mail"
    lowered = text.lower()
    if "http://" in lowered or "https://" in lowered or "www." in lowered:
        return "not_a_collectivity", "adresse web"
    k = key(toks)
    if not toks or k in _PLACEHOLDERS or set(k) == {"0"}:
        return "empty", None
    toks = _join_initials(toks)  # "S.I.V.O.M." -> "sivom"
    if _TEST_WORDS.intersection(toks) or (len(k) >= 2 and len(set(k)) == 1):
        return "test_row", None
    padded = f" {' '.join(toks)} "
    if _SYNDICAT_WORDS.intersection(toks) or any(p in padded for p in _SYNDICAT_PHRASES):
        return "syndicat", None
    for phrase, label in _OTHER_ORGS.items():
        if phrase in padded:
            return "not_a_collectivity", label
    return None
