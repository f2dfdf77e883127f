"""Which territory a page is about: ``reg-84``, ``dep-69``, ``971``, or a name.

The same vocabulary as the maps' deep links (``?territoire=…``):

* ``reg-84`` a région, ``dep-69`` / ``dep-2A`` a département, ``971`` … ``976``
  an overseas département (each is its own région: ``reg-01`` is ``971``);
* a bare code of two characters is a département (``69``, ``2A``) — unless it is
  also a région's code (``84`` is Auvergne-Rhône-Alpes and Vaucluse): then it is
  refused with both readings, never guessed;
* a name, accents and case ignored (``Rhône``, ``auvergne-rhone-alpes``).

:func:`parse_place` returns a :class:`Place`; :func:`all_places` every région and
département of the reference, one page each (the five DROM once).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..errors import UnknownValueError
from ..territories.crs import REGION_ZONE

__all__ = ["Place", "all_places", "parse_place"]

_DROM_OF_REGION = dict(REGION_ZONE)  # "01" -> "971"…


@dataclass(frozen=True)
class Place:
    """A région or a département, as a territory page sees it.

    ``key`` is the deep-link form (``reg-84``, ``dep-69``, ``971``), ``region``
    the code of the région a metropolitan département belongs to (else empty).
    """

    kind: str  # "region" | "departement"
    code: str
    name: str
    region: str = ""

    @property
    def key(self) -> str:
        """``reg-84``, ``dep-69``, ``971``."""
        if self.kind == "region":
            return f"reg-{self.code}"
        return self.code if self.code in _DROM_OF_REGION.values() else f"dep-{self.code}"

    @property
    def file(self) -> str:
        """File name of the page: ``territoire.reg-84.html``, ``territoire.dep-2a.html``."""
        return f"territoire.{self.key.lower()}.html"


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text).replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _tables(territories):
    reg = territories.regions[["code", "nom"]].astype(str)
    dep = territories.departements[["code", "nom", "region"]].astype(str)
    return dict(zip(reg["code"], reg["nom"], strict=True)), {
        c: (n, r) for c, n, r in zip(dep["code"], dep["nom"], dep["region"], strict=True)
    }


def _departement(code: str, deps) -> Place:
    name, region = deps[code]
    drom = code in _DROM_OF_REGION.values()
    return Place("departement", code, name, "" if drom else region)


def all_places(territories) -> list[Place]:
    """Every région, then every département (overseas ones once, as départements).

    Examples
    --------
    >>> import barometre_geo as bg
    >>> places = all_places(bg.load_territories())
    >>> len(places), places[0].key, places[-1].key
    (114, 'reg-11', '976')
    """
    regions, deps = _tables(territories)
    out = [Place("region", c, n) for c, n in regions.items() if c not in _DROM_OF_REGION]
    return out + [_departement(c, deps) for c in deps]


def parse_place(text: str, territories) -> Place:
    """Read a territory designation (see the module docstring).

    Raises
    ------
    UnknownValueError
        Unknown code or name (close names listed), or a bare code that is both a
        région's and a département's (both readings given).

    Examples
    --------
    >>> import barometre_geo as bg
    >>> t = bg.load_territories()
    >>> parse_place("reg-84", t).name, parse_place("Rhône", t).key, parse_place("reg-01", t).key
    ('Auvergne-Rhône-Alpes', 'dep-69', '971')
    """
    import difflib

    regions, deps = _tables(territories)
    raw = str(text).strip()
    low = raw.lower()
    match = re.fullmatch(r"(reg|dep)-(\w{2,3})", low)
    if match:
        kind, code = match.group(1), match.group(2).upper()
        if kind == "reg" and code in regions:
            if code in _DROM_OF_REGION:
                return _departement(_DROM_OF_REGION[code], deps)
            return Place("region", code, regions[code])
        if kind == "dep" and code in deps:
            return _departement(code, deps)
    elif raw.upper() in deps:
        code = raw.upper()
        if code in regions and code not in _DROM_OF_REGION.values():
            raise UnknownValueError(
                f"Territory {raw!r} is ambiguous: région {regions[code]} (reg-{code}) or "
                f"département {deps[code][0]} (dep-{code}). Write reg-{code} or dep-{code}.",
                fr=f"Territoire {raw!r} ambigu : région {regions[code]} (reg-{code}) ou "
                f"département {deps[code][0]} (dep-{code}). Écrivez reg-{code} ou dep-{code}.",
            )
        return _departement(code, deps)
    names = {_norm(n): ("region", c) for c, n in regions.items()}
    names.update({_norm(n): ("departement", c) for c, (n, _) in deps.items()})
    hit = names.get(_norm(raw))
    if hit and hit[0] == "region" and hit[1] not in _DROM_OF_REGION:
        return Place("region", hit[1], regions[hit[1]])
    if hit and hit[0] == "region":  # an overseas région: its département
        return _departement(_DROM_OF_REGION[hit[1]], deps)
    if hit:
        return _departement(hit[1], deps)
    close = difflib.get_close_matches(_norm(raw), list(names), n=3, cutoff=0.6)
    hint = f" Close: {', '.join(close)}." if close else ""
    hint_fr = f" Proche(s) : {', '.join(close)}." if close else ""
    raise UnknownValueError(
        f"Unknown territory {raw!r}.{hint} Give a région (reg-84), a département (dep-69, "
        "dep-2A), an overseas département (971…976) or a name (« Rhône »).",
        fr=f"Territoire {raw!r} inconnu.{hint_fr} Donnez une région (reg-84), un département "
        "(dep-69, dep-2A), un département d’outre-mer (971…976) ou un nom (« Rhône »).",
    )
