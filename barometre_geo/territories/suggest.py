"""Suggestions for identifiers the resolver could not settle: candidates to confirm.

The resolver never guesses (:mod:`barometre_geo.territories.resolve`); the ingest
report still helps the user fix a row: for an ambiguous value, its candidates
(those in the département given first); for an unresolved name, the names of the
reference closest to it (:func:`difflib.get_close_matches` on the normalised
names, in the département given when there is one). A suggestion is never applied:
the user confirms it in the mapping file (``corrections:``).
"""

from __future__ import annotations

import difflib
import weakref

from .lookup import get_index
from .readings import parse_departement
from .text import article_less, code_shape, key, split_prefix, tokens

__all__ = ["suggest"]

_NAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _names(territories) -> dict:
    """Normalised names -> (level, code), per département (``""``: all), cached."""
    cached = _NAMES.get(territories)
    if cached is None:
        cached = {}
        com = territories.communes
        epci = territories.epci
        for code, nom, dep in zip(com["code"], com["nom"], com["departement"], strict=True):
            k = key(article_less(tokens(nom)))
            for d in ("", dep):
                cached.setdefault(d, {}).setdefault(k, []).append(("commune", code, nom))
        for code, nom, deps in zip(epci["code"], epci["nom"], epci["departements"], strict=True):
            _, body = split_prefix(tokens(nom))
            k = key(article_less(body))
            for d in ("", *str(deps).split()):
                cached.setdefault(d, {}).setdefault(k, []).append(("epci", code, nom))
        _NAMES[territories] = cached
    return cached


def suggest(territories, text, *, candidates=(), departement=None, n: int = 3) -> list:
    """Up to ``n`` territories a value may designate, for the user to confirm.

    Parameters
    ----------
    territories : Territories
    text : str
        The value as typed (a name, or a code).
    candidates : sequence of str, optional
        Candidates the resolver gave (ambiguous rows: codes, or ``level:code``);
        they are the suggestions, those in ``departement`` first.
    departement : str, optional
        Département of the row (code or name), narrowing the suggestions.
    n : int, default 3

    Returns
    -------
    list of (level, code, nom)

    Examples
    --------
    >>> import barometre_geo as bg
    >>> t = bg.load_territories()
    >>> suggest(t, "Saint-Maur-des-Fosées", departement="94")
    [('commune', '94068', 'Saint-Maur-des-Fossés')]
    >>> suggest(t, "60200", candidates=("60200", "60159"))
    [('commune', '60200', 'Domfront'), ('commune', '60159', 'Compiègne')]
    """
    ix = get_index(territories)
    deps = parse_departement(str(departement), ix) if departement else None
    if candidates:
        out = []
        for c in candidates:
            level, _, code = str(c).rpartition(":")
            level = level or ("epci" if len(code) == 9 else "commune")
            if (level, code) not in ix.nom:
                continue
            inside = deps is None or not ix.depts.get((level, code), frozenset()).isdisjoint(deps)
            out.append((not inside, level, code, ix.nom[(level, code)]))
        out.sort(key=lambda x: x[0])  # stable: the resolver's order within each group
        return [x[1:] for x in out[:n]]
    if not text or code_shape(str(text)) is not None:
        return []
    _, body = split_prefix(tokens(str(text)))
    k = key(article_less(body))
    if len(k) < 3:
        return []
    names = _names(territories)
    pools = [names.get(d, {}) for d in sorted(deps)] if deps else [names[""]]
    found = []
    for pool in pools:
        for match in difflib.get_close_matches(k, pool.keys(), n=n, cutoff=0.8):
            found += pool[match]
    return list(dict.fromkeys(found))[:n]
