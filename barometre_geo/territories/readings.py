"""Readings of one input text: which territories it may designate, in order.

:func:`parse` turns a text into a :class:`Parsed`: an ordered list of
*readings* (tuples of candidates, the most plausible reading first), plus the
constraints the text itself carries (a département in parentheses, a name next
to a code). :func:`barometre_geo.resolve.resolve` then keeps the first reading
consistent with the constraints and the caller's département hint.

Readings of a 5-digit code. On the INSEE side, in order: the current INSEE
code; else the code of an arrondissement municipal or of a commune déléguée or
associée (entities of COG 2025); else a former code or the old Corsican form
``20xxx``. A postal code weighs the same as any of them: when the value is also
the postal code of another commune, the two make **one** reading, ambiguous
(``ambiguous_reading``), unless the column is declared (``holds``) or the row
settles it (a name, a département). Last, codes of the Seine and Seine-et-Oise
dissolved in 1968 (``75001`` is first Paris's postal code, not Alfortville's
code before 1968).

What a column holds (:data:`HOLDS`) restricts the readings: ``insee`` (the
identifiers INSEE attributes: COG codes of communes, départements and régions,
SIREN and SIRET) keeps the INSEE side first (the postal code is read only when a
name or a département on the row rejects it), ``postal`` reads postal codes only,
``siren``/``siret`` 9- or 14-digit numbers only, ``name`` no bare code; a value of
another shape is unresolved (``wrong_kind``), never read otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import reasons as why
from .lookup import Cand, ResolverIndex
from .text import (
    article_less,
    classify_junk,
    code_shape,
    drop_parenthetical,
    epci_core,
    key,
    loose_core,
    luhn_ok,
    split_prefix,
    tail,
    tokens,
)

__all__ = ["HOLDS", "Parsed", "Reading", "parse", "parse_departement"]

#: What a column of identifiers holds (``holds=`` of the resolver; ``holds:`` of a mapping).
HOLDS: tuple[str, ...] = ("auto", "insee", "postal", "siren", "siret", "name")


@dataclass(frozen=True, slots=True)
class Reading:
    """One interpretation of a text: its candidates and what it was read as."""

    cands: tuple[Cand, ...]
    # "name", "insee", "former", "postal", "code", "siren", or "<insee|former>_or_postal"
    what: str
    subject: str  # the code or text looked up, as typed, for messages
    fallback: bool = False  # read only when a name or département rejects the others


@dataclass(frozen=True, slots=True)
class Parsed:
    """Readings of a text (most plausible first) and the constraints it carries."""

    readings: tuple[Reading, ...] = ()
    inline: frozenset | None = None  # départements named in the text: "Saint-Fons (69)"
    names: frozenset | None = None  # (level, code) named next to a code: "69001 Lyon"
    qualifier: str = ""  # "+zero" when a leading zero was restored
    failure: tuple[str, str, str] | None = None  # (method, reason_code, reason): no reading


def _fail(reason: tuple[str, str], method: str = "") -> Parsed:
    """``reason`` is ``(reason_code, French reason)`` from :mod:`._resolve_reasons`."""
    return Parsed(failure=(method, *reason))


# ------------------------------------------------------------------------ codes


def _shape(code: str) -> str:
    """Kind of bare code, for the messages of declared columns."""
    n = len(code)
    if code[:2] in ("2A", "2B"):
        return "insee" if n == 5 else "departement"
    return {4: "insee", 5: "insee", 9: "siren", 14: "siret"}.get(n, "departement" if n <= 3 else "")


_ACCEPTS = {  # shapes of bare code each declaration reads
    "auto": {"insee", "siren", "siret", "departement", ""},
    "insee": {"insee", "departement", "siren", "siret", ""},
    "postal": {"insee", ""},
    "siren": {"siren", "siret", ""},
    "siret": {"siren", "siret", ""},
    "name": set(),
}


def parse_code(code: str, ix: ResolverIndex, holds: str = "auto") -> Parsed:
    """Return the readings of a bare code (INSEE, postal, SIREN, SIRET, département, région).

    ``holds`` (one of :data:`HOLDS`) is what the column holds: a code of another
    shape is unresolved (``wrong_kind``).
    """
    qualifier = ""
    if set(code) == {"0"}:
        return _fail(why.empty(code))
    if holds != "auto":  # "auto" reads every shape
        shape = _shape(code)
        if shape not in _ACCEPTS[holds] or (holds == "postal" and not code.isdigit()):
            return _fail(why.wrong_kind(code, holds, shape), "")
    if code in ("2A", "2B"):
        return Parsed(readings=(Reading((ix.departement[code],), "code", code),))
    if code[:2] in ("2A", "2B"):
        readings = _insee_readings(code, ix, holds)
        if not readings:
            return _fail(why.unknown_code(code, "insee", ix.cog), "code_insee")
        return Parsed(readings=readings)
    n = len(code)
    if n == 4:
        code, qualifier, n = "0" + code, "+zero", 5
    if n == 5:
        readings = _insee_readings(code, ix, holds)
        if readings:
            return Parsed(readings=readings, qualifier=qualifier)
        method = "code_postal" if holds == "postal" else "code_insee"
        if code in ix.outre_mer:
            insee, postal = ix.outre_mer[code]
            if holds == "postal":
                insee = ""
            elif holds == "insee":
                postal = () if insee else postal
            return _fail(why.outside_reference(code, insee, postal=postal), method)
        if holds == "postal":
            return _fail(why.postal_unknown(code, ix.cog), method)
        what = "insee" if holds == "insee" else "insee_or_postal"
        return _fail(why.unknown_code(code, what, ix.cog, zero=bool(qualifier)), method)
    if n in (9, 14):
        what = "siren" if n == 9 else "siret"
        if n == 14 and not luhn_ok(code):
            return _fail(why.invalid_siren(code), "siret")
        cands = ix.siren.get(code[:9])
        if cands:
            if n == 14:
                cands = tuple(
                    (c[0], c[1], c[2], "siret" if c[3] == "siren" else c[3]) for c in cands
                )
            return Parsed(readings=(Reading(cands, "siren", code[:9]),))
        if not luhn_ok(code[:9]):
            return _fail(why.invalid_siren(code), what)
        return _fail(why.unknown_siren(code, ix.cog), what)
    if n <= 3:
        d = code.zfill(2) if n <= 2 else code
        if d == "20":
            cands = (ix.departement["2A"], ix.departement["2B"])
        else:
            cands = tuple(c for c in (ix.departement.get(d), ix.region.get(d)) if c)
        if cands:
            return Parsed(readings=(Reading(cands, "code", d),))
        return _fail(why.unknown_code(d, "code", ix.cog), "code_departement")
    return _fail(why.malformed_code(n))


def _insee_readings(code: str, ix: ResolverIndex, holds: str = "auto") -> tuple[Reading, ...]:
    """Return the readings of a 5-character code (see the module docstring)."""
    postal = ix.postal.get(code, ())
    if holds == "postal":
        return (Reading(postal, "postal", code),) if postal else ()
    out = []
    side: tuple[Cand, ...] = ()
    cand = ix.commune.get(code)
    if cand:  # at most one of the three: see lookup._build
        side, what = (cand,), "insee"
    elif code in ix.secondary:
        side, what = ix.secondary[code], "former"
    elif code in ix.ancien:  # includes the Corsican 20xxx of before 1976
        side, what = ix.ancien[code], "former"
    seen = {c[1:3] for c in side}
    extra = tuple(p for p in postal if p[1:3] not in seen)
    if side and extra and holds == "auto":  # equal standing: one reading
        out.append(Reading(side + extra, f"{what}_or_postal", code))
    elif side:
        out.append(Reading(side, what, code))
        if extra:  # declared INSEE: the postal code only if the row rejects the INSEE side
            out.append(Reading(extra, "postal", code, fallback=True))
    elif postal:  # no INSEE reading at all: a postal code, whatever the column says
        out.append(Reading(postal, "postal", code))
    legacy = ix.legacy.get(code)
    if legacy:
        out.append(Reading(legacy, "former", code))
    return tuple(out)


# ------------------------------------------------------------------------ names


def _name_readings(
    toks: list[str],
    ix: ResolverIndex,
    level: str | None = None,
    *,
    full: bool = True,
    subject: str | None = None,
) -> list[Reading]:
    """Name readings, tier by tier; only the first non-empty one unless ``full``.

    The later tiers matter only when a département hint may reject the first.
    ``subject`` is the name as typed (for messages).
    """
    k, ka = key(toks), key(article_less(toks))
    subject = " ".join(toks) if subject is None else subject.strip()
    out: list[Reading] = []
    prefix, _ = split_prefix(toks)
    # "Mairie de …", "Département …": no EPCI name starts so (their tiers are skipped)
    epci_tiers = level in (None, "epci") and (prefix is None or prefix.level == "epci")
    for table, kk in (
        (ix.alias, k),
        (ix.exact, k),
        (ix.article, ka),
        (None, "core"),  # EPCI names, compared as nature + core
        (None, "loose"),  # … then without any article or connector
        (ix.old_name, k),
        (ix.old_name, ka),
        (None, "old"),  # former EPCI names, as nature + core
        (None, "old_loose"),
        (ix.sigle, k),
        (None, "seat"),  # "Métropole de Montpellier": the EPCI seated there
    ):
        if table is None:
            reading = _epci_reading(toks, ix, subject, kk) if epci_tiers else None
            cands = reading.cands if reading else None
        else:
            cands = table.get(kk)
        if cands and level is not None:
            cands = tuple(c for c in cands if c[1] == level)
        if cands and (not out or out[-1].cands != cands):
            out.append(Reading(cands, "name", subject))
            if not full:
                break
    return out


def _epci_reading(
    toks: list[str], ix: ResolverIndex, subject: str, how: str = "core"
) -> Reading | None:
    """EPCI whose name has the same core ("CC du Pays de Mormal" = "Pays de Mormal").

    ``how``: ``core`` (current names), ``loose`` (the core without any article or
    connector), ``old`` and ``old_loose`` (former names), ``seat`` (a legal form and the name of the
    commune that is the EPCI's seat: "Communauté d'agglomération de Blois"). The
    nature written (CC, CA, CU, Métropole) chooses among EPCI sharing a core; if
    none has it, all are kept, their method marked ``+nature``. The seat reading
    needs the nature written, and an EPCI of that nature.
    """
    if how == "seat":
        return _seat_reading(toks, ix, subject)
    nature, core = loose_core(toks) if how.endswith("loose") else epci_core(toks)
    table = {
        "core": ix.epci_core,
        "loose": ix.epci_loose,
        "old": ix.old_core,
        "old_loose": ix.old_loose,
    }[how]
    cands = table.get(core)
    if not cands:
        return None
    if nature is not None:
        same = tuple(c for c in cands if ix.nature.get(c[2]) == nature)
        cands = same or tuple((c[0], c[1], c[2], c[3] + "+nature") for c in cands)
    return Reading(cands, "name", subject)


def _seat_reading(toks: list[str], ix: ResolverIndex, subject: str) -> Reading | None:
    """Return the EPCI of the nature written whose seat is the commune named after it."""
    prefix, rest = split_prefix(toks)
    nature = prefix.nature if prefix is not None and prefix.level == "epci" else None
    if nature is None:  # "Blois Agglo": the nature as a suffix
        nature, _ = epci_core(toks)
        if nature is None:
            return None
        suffix = toks[-1] in ("agglo", "agglomeration", "metropole")
        prefix, rest = None, toks[:-1] if suffix else []
    if not rest:
        return None
    communes = ix.exact.get(key(rest), ()) or ix.article.get(key(article_less(rest)), ())
    found = []
    for c in communes:
        if c[1] != "commune":
            continue
        epci = ix.commune_epci.get(c[2])
        if epci and ix.seat.get(epci) == c[2] and ix.nature.get(epci) == nature:
            found.append(ix.as_collectivity(("epci", "epci", epci, "nom_siege")))
    return Reading(tuple(dict.fromkeys(found)), "name", subject) if found else None


def _epci_and_member(toks: list[str], ix: ResolverIndex, subject: str) -> Reading | None:
    """Read "Agglo Pays d'Issoire Ardes": an EPCI's name, then one of its communes.

    The trailing words must name a commune that is a member of the EPCI the words
    before them name, alone: the two parts check each other (method ``+commune``).
    """
    for n in range(1, min(5, len(toks) - 1)):
        head, tail = toks[:-n], toks[-n:]
        communes = ix.exact.get(key(tail), ()) or ix.article.get(key(article_less(tail)), ())
        codes = {c[2] for c in communes if c[1] == "commune"}
        if not codes:
            continue
        readings = _name_readings(head, ix, "epci", full=False, subject=subject)
        found = readings[0].cands if readings else ()
        kept = [c for c in found if any(ix.commune_epci.get(m) == c[2] for m in codes)]
        if len(found) == 1 and kept:
            c = kept[0]
            return Reading(((c[0], c[1], c[2], c[3] + "+commune"),), "name", subject)
    return None


def _code_tokens(toks: list[str]) -> str | None:
    """``["69"]`` → ``"69"``; ``["2", "a"]`` → ``"2A"`` (a code after a prefix)."""
    joined = "".join(toks).upper()
    if joined.isdigit() or re.fullmatch(r"2[AB]", joined):
        return joined
    return None


def _prefixed_readings(
    prefix, rest: list[str], toks: list[str], ix: ResolverIndex, subject: str
) -> list[Reading]:
    level = prefix.level
    code = _code_tokens(rest)
    if level in ("departement", "region") and code is not None:
        d = code.zfill(2) if code.isdigit() and len(code) <= 2 else code
        table = ix.departement if level == "departement" else ix.region
        return [Reading((table[d],), "code", d)] if d in table else []
    out: list[Reading] = []
    if level == "region":
        alias = ix.region_alias.get(key(rest))
        if alias:
            out.append(Reading((alias,), "name", subject))
    if level == "epci":
        reading = _epci_reading(toks, ix, subject)
        if reading:
            out.append(reading)
    return out + _name_readings(rest, ix, level, subject=subject)


_TRAILING = [
    re.compile(r"^(?P<rest>.+?)\s*[(\[]\s*(?P<dep>[^()\[\]]+?)\s*[)\]]\s*$"),
    re.compile(r"^(?P<rest>.+?)\s*[,;/]\s*(?P<dep>[^,;/]+?)\s*$"),
    re.compile(r"^(?P<rest>.+?)\s+[-–—]\s+(?P<dep>.+?)\s*$"),
    re.compile(r"^(?P<rest>.+?)\s+(?P<dep>\d{2,3}|2[ABab])\s*$"),
    re.compile(r"^\s*[(\[]?\s*(?P<dep>\d{2,3}|2[ABab])\s*[)\]]?\s*[-–—:,]?\s+(?P<rest>.+)$"),
]
_EMBEDDED = re.compile(
    r"(?<![0-9A-Za-z])(\d{3}[ .]\d{3}[ .]\d{3}(?:[ .]?\d{5})?|\d{14}|\d{9}|\d{5}|2[ABab]\d{3})"
    r"(?![0-9A-Za-z])"
)


def parse_departement(text: str, ix: ResolverIndex) -> frozenset | None:
    """Départements a hint designates: ``"69"``, ``"1"``, ``"2a"``, ``"Rhône"``, ``"20"``.

    Returns None when the text is no département.
    """
    s = text.strip()
    code = code_shape(s)
    if code is not None:
        if code.isdigit() and len(code) <= 2:
            code = code.zfill(2)
        if code == "20":
            return frozenset({"2A", "2B"})
        return frozenset({code}) if code in ix.departement else None
    toks = tokens(s)
    prefix, rest = split_prefix(toks)
    if prefix is not None and prefix.level == "departement":
        toks = rest
    found = ix.departement_key.get(key(article_less(toks)))
    if found:
        return frozenset({found})
    m = re.match(r"^\s*(\d{1,3}|2[ABab])\b", s)  # "69 - Rhône"
    if m and m.group(1) != s:
        return parse_departement(m.group(1), ix)
    return None


def _parse_name(text: str, ix: ResolverIndex, *, whole_tried: bool, full: bool) -> Parsed:
    """Return the readings of a name, after the département it carries and its prefix."""
    attempts: list[tuple[frozenset | None, str]] = []
    for pattern in _TRAILING:
        m = pattern.match(text)
        if m:
            deps = parse_departement(m.group("dep"), ix)
            if deps:
                attempts.append((deps, m.group("rest")))
                break
    attempts.append((None, text))  # "Département 2A": the number is no hint
    bare = drop_parenthetical(text)
    if len(attempts) == 1 and bare and bare != text:  # "CA Rochefort Océan (CARO)"
        attempts.append((None, bare))
    for inline, rest in attempts:
        toks = tokens(rest)
        if not toks:
            continue
        if rest is not text or not whole_tried:
            readings = _name_readings(toks, ix, full=full or inline is not None, subject=rest)
            if readings:
                return Parsed(readings=tuple(readings), inline=inline)
        prefix, body = split_prefix(toks)
        if prefix is not None:
            shown = _after_prefix(rest, toks, body)
            readings = _prefixed_readings(prefix, body, toks, ix, shown)
            if readings:
                return Parsed(readings=tuple(readings), inline=inline)
    return _fail(_unknown_name(attempts[0][1], text, ix))


def _after_prefix(text: str, toks: list[str], body: list[str]) -> str:
    """Return the name typed after a prefix: "Mairie du Trou Perdu" → "Trou Perdu"."""
    n = len(toks) - len(body)
    if toks[n] in ("du", "des"):  # the connector became the article "le"/"les"
        n += 1
    return tail(text, n) or text


def _unknown_name(name: str, whole: str, ix: ResolverIndex) -> tuple[str, str]:
    """Reason of a name matching nothing, at the level its prefix announces if any.

    ``name`` is the text without the département it carries ("Trou Perdu (69)"),
    ``whole`` the full text, checked for a code after a prefix ("Région 99").
    """
    toks = tokens(whole)
    prefix, body = split_prefix(toks)
    code = _code_tokens(body) if prefix is not None else None
    if code is not None and prefix.level in ("departement", "region"):
        code = code.zfill(2) if code.isdigit() and len(code) < 2 else code
        return why.unknown_code(code, prefix.level, ix.cog)
    toks = tokens(name)
    prefix, body = split_prefix(toks)
    if prefix is None:
        return why.unknown_name(name)
    return why.unknown_name(_after_prefix(name, toks, body), prefix.level)


_PLM = re.compile(
    r"^(?:(?:mairie|maire)\s+)?(?:(?:du|des|de)\s+)?"
    r"(?P<numbers>\d+\s*(?:er|e|eme|ere)?(?:\s*(?:et|,)\s*\d+\s*(?:er|e|eme|ere)?)*)\s+"
    r"(?P<what>secteurs?|arrondissements?|arr|ardt)\s+(?:de\s+|d\s+)?(?P<city>[a-z ]+)$"
)


_PLM_WORDS = frozenset({"secteur", "secteurs", "arrondissement", "arrondissements", "arr", "ardt"})


def _plm_reading(toks: list[str], ix: ResolverIndex, subject: str) -> Reading | None:
    """Read sector and arrondissement mairies: "Mairie du 8e secteur de Marseille".

    Sector and arrondissement mairies of Paris, Lyon and Marseille stand for their
    commune (as "Marseille 13e" does); numbers that the city has not are no match.
    """
    if _PLM_WORDS.isdisjoint(toks):
        return None
    m = _PLM.match(" ".join(toks))
    if m is None:
        return None
    city = ix.plm.get(key(m.group("city").split()))
    if city is None:
        return None
    code, arrondissements = city
    numbers = {int(x) for x in re.findall(r"\d+", m.group("numbers"))}
    if m.group("what").startswith("secteur"):
        valid = numbers <= set(range(1, len(arrondissements) // 2 + 1)) and code == "13055"
    else:
        valid = numbers <= arrondissements
    if not numbers or not valid:
        return None
    cand = ix.as_collectivity(("commune", "commune", code, "nom_arrondissement"))
    return Reading((cand,), "name", subject)


def parse(text: str | None, ix: ResolverIndex, *, full: bool = True, holds: str = "auto") -> Parsed:
    """Return the readings of one input text (see module docstring).

    With ``full=False`` (no département hint given), names keep only their
    first matching tier. ``holds`` is what the column holds (:data:`HOLDS`).
    """
    if text is None or not text.strip():
        return _fail(why.empty())
    code = text if text.isascii() and text.isdigit() else code_shape(text)
    if code is not None:
        return parse_code(code, ix, holds)
    toks = tokens(text)
    if not toks:
        return _fail(why.empty(text))
    named = None
    if "@" not in text:
        plm = _plm_reading(toks, ix, text)
        if plm is not None:
            return Parsed(readings=(plm,))
        readings = _name_readings(toks, ix, full=full, subject=text)
        if readings:
            return Parsed(readings=tuple(readings))
        # a département and a prefix ("Commune de Saint-Fons (69)") before junk words,
        # which real names contain ("Oncy-sur-École", "L'Hôpital-Camfrout")
        named = _parse_name(text, ix, whole_tried=True, full=full)
        if named.readings:
            return named
        member = _epci_and_member(toks, ix, text)
        if member is not None:
            return Parsed(readings=(member,))
    junk = classify_junk(text, toks)
    embedded = _EMBEDDED.search(text)
    if junk is not None:
        if junk[0] == "syndicat" and embedded and len(code_shape(embedded.group(1))) >= 9:
            # a syndicat label with the SIREN of an EPCI: the SIREN wins
            parsed = parse_code(code_shape(embedded.group(1)), ix)
            if parsed.readings and all(c[1] == "epci" for c in parsed.readings[0].cands):
                return parsed
        return _fail(why.junk(*junk, text))
    if embedded:
        parsed = parse_code(code_shape(embedded.group(1)), ix, "auto" if holds == "name" else holds)
        rest = (text[: embedded.start()] + " " + text[embedded.end() :]).strip(" -–—,;:/()[]")
        named = _parse_name(rest, ix, whole_tried=False, full=False) if tokens(rest) else Parsed()
        if named.readings and parsed.readings:
            names = frozenset(c[1:3] for c in named.readings[0].cands)
            return Parsed(
                readings=parsed.readings,
                inline=named.inline,
                names=names,
                qualifier=parsed.qualifier,
            )
        if parsed.readings or not named.readings:
            return parsed
        return named
    return named
