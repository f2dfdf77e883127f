"""Look-up tables of the resolver, built once per :class:`~barometre_geo.Territories`.

A candidate is a tuple ``(kind, level, code, method)``: the kind of
collectivity, the level and code of the territory it is attributed to, and the
method that found it. Tables map a code or a normalised name key to a tuple of
candidates. They are cached per ``Territories`` object in a
``WeakKeyDictionary`` (the dataclass is frozen and never mutated) and by a
hash of the columns they read.
"""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass, field

from .text import (
    article_less,
    drop_parenthetical,
    drop_quoted,
    epci_core,
    key,
    loose_core,
    quoted_parts,
    tokens,
)

__all__ = ["CSP", "Cand", "ResolverIndex", "get_index"]

CSP = "collectivite_a_statut_particulier"
Cand = tuple[str, str, str, str]

#: Usual short names of régions, accepted after a "Région" prefix only.
REGION_ALIASES = {
    "sud": "93",
    "regionsud": "93",
    "sudprovencealpescotedazur": "93",
    "paca": "93",
    "aura": "84",
    "idf": "11",
    "centre": "24",
    "bfc": "27",
    "hdf": "32",
}
_ARRONDISSEMENT = re.compile(r"^(.*) (\d+)(?:er|e) Arrondissement$")


@dataclass(eq=False)
class ResolverIndex:
    """Every table the resolver reads (see module docstring)."""

    cog: int = 2025  # vintage of the reference, named in the reasons
    commune: dict[str, Cand] = field(default_factory=dict)
    secondary: dict[str, tuple[Cand, ...]] = field(default_factory=dict)
    ancien: dict[str, tuple[Cand, ...]] = field(default_factory=dict)
    legacy: dict[str, tuple[Cand, ...]] = field(default_factory=dict)
    postal: dict[str, tuple[Cand, ...]] = field(default_factory=dict)
    # code of the collectivités d'outre-mer -> (commune whose INSEE code it is or "",
    # communes whose postal code it is)
    outre_mer: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    siren: dict[str, tuple[Cand, ...]] = field(default_factory=dict)
    departement: dict[str, Cand] = field(default_factory=dict)
    region: dict[str, Cand] = field(default_factory=dict)
    region_alias: dict[str, Cand] = field(default_factory=dict)
    # name tiers, in the order they are tried
    alias: dict[str, tuple[Cand, ...]] = field(default_factory=dict)
    exact: dict[str, tuple[Cand, ...]] = field(default_factory=dict)
    article: dict[str, tuple[Cand, ...]] = field(default_factory=dict)
    old_name: dict[str, tuple[Cand, ...]] = field(default_factory=dict)
    sigle: dict[str, tuple[Cand, ...]] = field(default_factory=dict)
    epci_core: dict[str, tuple[Cand, ...]] = field(default_factory=dict)
    epci_loose: dict[str, tuple[Cand, ...]] = field(default_factory=dict)  # no connector
    old_core: dict[str, tuple[Cand, ...]] = field(default_factory=dict)  # former EPCI names
    old_loose: dict[str, tuple[Cand, ...]] = field(default_factory=dict)
    nature: dict[str, str] = field(default_factory=dict)
    seat: dict[str, str] = field(default_factory=dict)  # EPCI -> its seat commune
    commune_epci: dict[str, str] = field(default_factory=dict)
    departement_key: dict[str, str] = field(default_factory=dict)
    # attributes of candidates
    depts: dict[tuple[str, str], frozenset] = field(default_factory=dict)
    csp_depts: dict[tuple[str, str], frozenset] = field(default_factory=dict)
    nom: dict[tuple[str, str], str] = field(default_factory=dict)
    csp_nom: dict[tuple[str, str], str] = field(default_factory=dict)
    csp_self: frozenset = frozenset()
    # Paris, Lyon, Marseille: city key -> (commune code, numbers of its arrondissements)
    plm: dict[str, tuple[str, frozenset]] = field(default_factory=dict)

    def departements_of(self, cand: Cand) -> frozenset:
        """Départements a candidate lies in (all those a CSP or an EPCI spans)."""
        if cand[0] == CSP:
            return self.csp_depts[(cand[1], cand[2])]
        return self.depts[(cand[1], cand[2])]

    def name_of(self, cand: Cand) -> str:
        """Official name of the collectivity or territory of a candidate."""
        if cand[0] == CSP:
            return self.csp_nom[(cand[1], cand[2])]
        return self.nom[(cand[1], cand[2])]

    def as_collectivity(self, cand: Cand) -> Cand:
        """Paris (75056) and the Métropole de Lyon are collectivités à statut particulier."""
        if (cand[1], cand[2]) in self.csp_self and cand[0] != CSP:
            return (CSP, cand[1], cand[2], cand[3])
        return cand


_INDEXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_BY_CONTENT: dict[str, ResolverIndex] = {}
_LOCK = threading.Lock()
_FINGERPRINT_COLUMNS = {
    "communes": ["code", "nom", "departement", "siren", "epci"],
    "epci": ["code", "nom", "departements", "nature", "siege"],
    "departements": ["code", "nom", "region"],
    "regions": ["code", "nom"],
    "identifiers": ["kind", "key", "code", "nom"],
}


def get_index(territories) -> ResolverIndex:
    """Return the (cached) look-up tables of a ``Territories``.

    Cached per object, and by content: ``load_territories()`` returns fresh
    copies, whose tables are built once (about a second) and then found by a
    hash of the columns they read (a few tens of milliseconds).
    """
    with _LOCK:
        index = _INDEXES.get(territories)
        if index is None:
            fingerprint = _fingerprint(territories)
            index = _BY_CONTENT.get(fingerprint)
            if index is None:
                index = _build(territories)
                if len(_BY_CONTENT) >= 4:  # a few references at most
                    _BY_CONTENT.pop(next(iter(_BY_CONTENT)))
                _BY_CONTENT[fingerprint] = index
            _INDEXES[territories] = index
        return index


def _fingerprint(t) -> str:
    import pandas as pd

    h = hashlib.blake2b(digest_size=16)
    h.update(str(getattr(t, "cog", "")).encode())
    for attr, columns in _FINGERPRINT_COLUMNS.items():
        frame = getattr(t, attr)
        present = [c for c in columns if c in frame.columns]
        h.update(repr(present).encode())
        h.update(pd.util.hash_pandas_object(frame[present], index=False).to_numpy().tobytes())
    return h.hexdigest()


class _Multi:
    """Key → ordered unique candidates."""

    def __init__(self):
        self.data: dict[str, list[Cand]] = defaultdict(list)

    def add(self, k: str, cand: Cand) -> None:
        if not k:
            return
        lst = self.data[k]
        if all(c[1:3] != cand[1:3] for c in lst):
            lst.append(cand)

    def freeze(self) -> dict[str, tuple[Cand, ...]]:
        return {k: tuple(v) for k, v in self.data.items()}


def _build(t) -> ResolverIndex:
    ix = ResolverIndex(cog=int(getattr(t, "cog", 2025)))
    com, epci, dep, reg, ids = t.communes, t.epci, t.departements, t.regions, t.identifiers
    by_kind = {k: g for k, g in ids.groupby("kind", sort=False)}

    def rows(kind: str):
        g = by_kind.get(kind)
        return [] if g is None else zip(g["key"], g["code"], g["nom"], strict=True)

    # ---------------------------------------------------------------- attributes
    dep_region = dict(zip(dep["code"], dep["region"], strict=True))
    region_depts: dict[str, set] = defaultdict(set)
    for d, r in dep_region.items():
        region_depts[r].add(d)
    for code, nom, d in zip(com["code"], com["nom"], com["departement"], strict=True):
        ix.depts[("commune", code)] = frozenset((d,))
        ix.nom[("commune", code)] = nom
    for code, nom, span, nature in zip(
        epci["code"], epci["nom"], epci["departements"], epci["nature"], strict=True
    ):
        ix.depts[("epci", code)] = frozenset(str(span).split())
        ix.nom[("epci", code)] = nom
        ix.nature[code] = nature
    if "siege" in epci.columns:
        seats = zip(epci["code"], epci["siege"], strict=True)
        ix.seat = {c: s for c, s in seats if isinstance(s, str)}
    ix.commune_epci = {
        c: e for c, e in zip(com["code"], com["epci"], strict=True) if isinstance(e, str)
    }
    for code, nom in zip(dep["code"], dep["nom"], strict=True):
        ix.depts[("departement", code)] = frozenset((code,))
        ix.nom[("departement", code)] = nom
    for code, nom in zip(reg["code"], reg["nom"], strict=True):
        ix.depts[("region", code)] = frozenset(region_depts[code])
        ix.nom[("region", code)] = nom

    # ---------------------------------------------------------------- codes
    for code in com["code"]:
        ix.commune[code] = ("commune", "commune", code, "code_insee")
    # codes of COG 2025 entities below the commune, then former codes
    secondary, ancien, legacy = _Multi(), _Multi(), _Multi()
    for kind in ("arrondissement_municipal", "commune_deleguee", "commune_associee"):
        for k, code, _ in rows(kind):
            if k not in ix.commune:  # a current code always means the current commune
                secondary.add(k, ("commune", "commune", code, kind))
    for k, code, _ in rows("ancien_code"):
        if k in ix.commune:
            continue
        cand = ("commune", "commune", code, "ancien_code")
        if k in secondary.data:  # sources disagreeing on a code make it ambiguous
            secondary.add(k, cand)
        elif k[:2] != code[:2] and k[:2] != "20":
            # a code of another département: the Seine and Seine-et-Oise, dissolved in
            # 1968 (75001 was Alfortville's). No such code exists in COG 2019-2023
            # (checked in tests), so it ranks after the postal code (75001: Paris 1er).
            legacy.add(k, cand)
        else:
            ancien.add(k, cand)
    ix.secondary, ix.ancien, ix.legacy = secondary.freeze(), ancien.freeze(), legacy.freeze()
    postal = _Multi()
    for k, code, _ in rows("code_postal"):
        postal.add(k, ("commune", "commune", code, "code_postal"))
    ix.postal = postal.freeze()
    com_insee: dict[str, str] = {}
    com_postal: dict[str, list[str]] = defaultdict(list)
    for k, code, nom in rows("collectivite_outre_mer"):
        if k == code:  # its INSEE code (the key of its postal codes is another number)
            com_insee[k] = nom
        elif nom not in com_postal[k]:
            com_postal[k].append(nom)
    for k in com_insee.keys() | com_postal.keys():
        ix.outre_mer[k] = (com_insee.get(k, ""), tuple(com_postal.get(k, ())))
    for code in dep["code"]:
        ix.departement[code] = ("departement", "departement", code, "code_departement")
    for code in reg["code"]:
        ix.region[code] = ("region", "region", code, "code_region")
    for k, code in REGION_ALIASES.items():
        ix.region_alias[k] = ("region", "region", code, "alias")

    # ---------------------------------------------------------------- CSP
    csp_self = set()
    csp_cands: dict[str, Cand] = {}
    covers: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for siren, target, _ in rows("perimetre_collectivite_a_statut_particulier"):
        covers[siren].append(tuple(target.split(":", 1)))
    for siren, target, nom in rows("siren_collectivite_a_statut_particulier"):
        level, code = target.split(":", 1)
        ix.csp_nom[(level, code)] = nom
        spanned = covers.get(siren) or [(level, code)]  # perimeter: the CeA spans 67 and 68
        ix.csp_depts[(level, code)] = frozenset().union(
            *(ix.depts[c] for c in spanned if c in ix.depts)
        )
        if level in ("commune", "epci"):
            csp_self.add((level, code))
        csp_cands[siren] = (CSP, level, code, "siren")
    ix.csp_self = frozenset(csp_self)

    # ---------------------------------------------------------------- SIREN
    siren = _Multi()
    for s, cand in csp_cands.items():
        siren.add(s, cand)
    for s, code in zip(com["siren"], com["code"], strict=True):
        siren.add(s, ix.as_collectivity(("commune", "commune", code, "siren")))
    for code in epci["code"]:
        siren.add(code, ix.as_collectivity(("epci", "epci", code, "siren")))
    for kind, level in (("siren_departement", "departement"), ("siren_region", "region")):
        for s, target, _ in rows(kind):
            siren.add(s, (level, level, target.split(":", 1)[1], "siren"))
    # a superseded EPCI whose communes went to several EPCI has several successors: its
    # SIREN is then ambiguous among them (never the first one listed)
    current = set(siren.data)
    for s, code, _ in rows("epci_predecesseur"):
        if s not in current:
            siren.add(s, ("epci", "epci", code, "epci_predecesseur"))
    ix.siren = siren.freeze()

    # ---------------------------------------------------------------- names
    alias, exact, article, old, sigle, core, loose, old_core, old_loose = (
        _Multi() for _ in range(9)
    )

    def add_name(name: str, cand: Cand, *, tier_exact=exact, tier_article=article) -> None:
        for variant in {name, drop_parenthetical(name)}:
            toks = tokens(variant)
            tier_exact.add(key(toks), cand)
            tier_article.add(key(article_less(toks)), cand)

    for k, target, nom in rows("nom_collectivite_a_statut_particulier"):
        level, code = target.split(":", 1)
        alias.add(key(tokens(k)), (CSP, level, code, "alias"))
        alias.add(key(tokens(nom)), (CSP, level, code, "alias"))
    for code, nom in zip(com["code"], com["nom"], strict=True):
        add_name(nom, ix.as_collectivity(("commune", "commune", code, "nom")))
    for _, code, nom in rows("arrondissement_municipal"):
        cand = ix.as_collectivity(("commune", "commune", code, "nom_arrondissement"))
        add_name(nom, cand)
        m = _ARRONDISSEMENT.match(nom)
        if m:
            city, n = key(tokens(m.group(1))), m.group(2)
            numbers = ix.plm.get(city, (code, frozenset()))[1]
            ix.plm[city] = (code, numbers | {int(n)})
            for suffix in ("", "e", "er", "eme", "ere"):
                for arr in ("", "arrondissement", "arr", "ardt"):
                    exact.add(f"{city}{n}{suffix}{arr}", cand)
    epci_names = [(code, nom) for code, nom in zip(epci["code"], epci["nom"], strict=True)]
    epci_names += [(code, nom) for _, code, nom in rows("nom_epci") if code in ix.nature]
    for code, nom in epci_names:
        # long and DGCL short names alike: "CC des Deux Vallées" is the short name of
        # one EPCI and the abbreviated long name of another, so compare nature + core
        cand = ix.as_collectivity(("epci", "epci", code, "nom"))
        for variant in _variants(nom):
            toks = tokens(variant)
            core.add(epci_core(toks)[1], cand)
            loose.add(loose_core(toks)[1], cand)
        for inner in re.findall(r"\(([^()]*)\)", nom) + quoted_parts(nom):
            # acronyms ("CAPI") and brand names between quotes ("Agglopolys")
            sigle.add(key(tokens(inner)), (cand[0], "epci", code, "sigle_epci"))
    for code, nom in zip(dep["code"], dep["nom"], strict=True):
        add_name(nom, ("departement", "departement", code, "nom"))
        ix.departement_key[key(article_less(tokens(nom)))] = code
    for code, nom in zip(reg["code"], reg["nom"], strict=True):
        add_name(nom, ("region", "region", code, "nom"))
    for kind in ("commune_deleguee", "commune_associee"):
        for _, code, nom in rows(kind):
            cand = ix.as_collectivity(("commune", "commune", code, "nom_ancien"))
            add_name(nom, cand, tier_exact=old, tier_article=old)
    former = [(nom, code) for _, code, nom in rows("epci_predecesseur")]
    former += [(name, code) for name, code, _ in rows("nom_epci_ancien") if code in ix.nature]
    for nom, code in former:  # superseded EPCI, and former names of those still there
        cand = ("epci", "epci", code, "nom_ancien")
        add_name(nom, cand, tier_exact=old, tier_article=old)
        for variant in _variants(nom):
            old_core.add(epci_core(tokens(variant))[1], cand)
            old_loose.add(loose_core(tokens(variant))[1], cand)
    ix.alias, ix.exact, ix.old_name, ix.sigle = (
        alias.freeze(),
        exact.freeze(),
        old.freeze(),
        sigle.freeze(),
    )
    ix.epci_core = core.freeze()
    ix.epci_loose = loose.freeze()
    ix.old_core = old_core.freeze()
    ix.old_loose = old_loose.freeze()
    ix.article = article.freeze()
    return ix


def _variants(name: str) -> set[str]:
    """Return a name, without its parenthesised acronym and without its quoted brand name."""
    bare = drop_parenthetical(name)
    return {v for v in (name, bare, drop_quoted(name), drop_quoted(bare)) if v.strip()}
