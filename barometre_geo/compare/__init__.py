"""A collectivity's answers next to similar collectivities (« fiche d'auto-positionnement »).

Takes
    :class:`~barometre_geo.Responses`, a collectivity (code, SIREN or name) and
    the same protection settings as the published tables.
Gives
    :class:`Comparison`: the collectivity's own answers and, for each indicator,
    the published figure of its peer groups (same type and stratum in its
    département, région, France), rendered as text or HTML (``render``).

Modules: ``fiche`` (:func:`compare`, :func:`peer_groups`), ``find`` (the
collectivity and its rows), ``rows`` (rows of the fiche), ``render``.
Data contract: ``docs/contracts/compare.md``.
"""

from .fiche import COMPARISON_COLUMNS, PEER_LEVELS, Comparison, PeerGroups, compare, peer_groups

__all__ = [
    "COMPARISON_COLUMNS",
    "PEER_LEVELS",
    "Comparison",
    "PeerGroups",
    "compare",
    "peer_groups",
]
