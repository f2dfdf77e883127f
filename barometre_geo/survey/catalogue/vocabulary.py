"""Fixed vocabularies of the catalogue: answer kinds, statistics, universes, levels, labels.

Every fixed choice of ``catalogue.yaml`` is a ``Literal`` here with its tuple of
valid values (the parser lists them in its errors) and its French label.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "KINDS",
    "KIND_LABELS",
    "LEVEL_LABELS",
    "NON_SUBSTANTIVE",
    "PUBLISH_LEVELS",
    "RESPONDENT_KINDS",
    "STATISTICS",
    "STATISTICS_BY_KIND",
    "STATISTIC_LABELS",
    "UNIVERSES",
    "UNIVERSE_LABELS",
    "YES_NO_OPTIONS",
]

Kind = Literal["yes_no", "single_choice", "multiple_choice", "percentage", "scale"]
Statistic = Literal["share", "mean", "share_per_option", "distribution"]
Universe = Literal[
    "all", "communes", "epci", "communes_epci", "departements", "regions", "departements_regions"
]
PublishLevel = Literal["commune", "epci", "departement", "region", "france"]
Precision = Literal["exact", "about", "below", "above"]
ReportItemKind = Literal["chart", "list", "figure", "text"]

#: Answer kinds of a question.
KINDS: tuple[str, ...] = get_args(Kind)
#: How answers become a figure.
STATISTICS: tuple[str, ...] = get_args(Statistic)
#: Levels where an indicator may be published, from the finest.
PUBLISH_LEVELS: tuple[str, ...] = get_args(PublishLevel)
#: Kinds of respondent (the ``kind`` column of the responses).
RESPONDENT_KINDS: tuple[str, ...] = (
    "commune",
    "epci",
    "departement",
    "region",
    "collectivite_a_statut_particulier",
    "syndicat",
)
#: Respondent kinds asked each question, per universe.
UNIVERSES: dict[str, tuple[str, ...]] = {
    "all": RESPONDENT_KINDS,
    "communes": ("commune",),
    "epci": ("epci",),
    "communes_epci": ("commune", "epci"),
    "departements": ("departement",),
    "regions": ("region",),
    "departements_regions": ("departement", "region"),
}
#: Statistics allowed for each answer kind.
STATISTICS_BY_KIND: dict[str, tuple[str, ...]] = {
    "yes_no": ("share", "distribution"),
    "single_choice": ("share", "distribution"),
    "scale": ("distribution", "share"),
    "multiple_choice": ("share_per_option",),
    "percentage": ("mean",),
}
#: Options that are not an answer on the substance (excluded from a scale's order).
NON_SUBSTANTIVE: tuple[str, ...] = ("ne_sait_pas", "non_concerne", "sans_reponse")
#: Option ids a ``yes_no`` question may use.
YES_NO_OPTIONS: tuple[str, ...] = (
    "oui",
    "oui_partiellement",
    "prevu",
    "non",
    "non_concerne",
    "ne_sait_pas",
    "sans_reponse",
)

KIND_LABELS = {
    "yes_no": "Oui / non",
    "single_choice": "Choix unique",
    "multiple_choice": "Choix multiple",
    "percentage": "Pourcentage",
    "scale": "Échelle",
}
STATISTIC_LABELS = {
    "share": "Part",
    "mean": "Moyenne",
    "share_per_option": "Part par modalité",
    "distribution": "Répartition",
}
UNIVERSE_LABELS = {
    "all": "Tous les répondants",
    "communes": "Communes",
    "epci": "Intercommunalités",
    "communes_epci": "Communes et intercommunalités",
    "departements": "Départements",
    "regions": "Régions",
    "departements_regions": "Départements et régions",
}
LEVEL_LABELS = {
    "commune": "Commune",
    "epci": "EPCI",
    "departement": "Département",
    "region": "Région",
    "france": "France",
}
