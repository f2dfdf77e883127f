"""The indicator catalogue: every question of the barometer and how it becomes a figure.

The catalogue is data (``barometre_geo/data/catalogue.yaml``, the xyzservices
pattern): the edition and its waves, the nine questionnaires and the profile
block, each indicator (question, answer kind, options, statistic, universe,
sensitivity, publication levels, published national figure) and each result of
the study report with the indicators that reproduce it.

Modules
-------
``vocabulary``
    Fixed choices (answer kinds, statistics, universes, levels) and their French labels.
``model``
    Frozen dataclasses: :class:`Catalogue`, :class:`Indicator`, :class:`Option`…
``yamlfile``
    YAML reading with line numbers and duplicate-key detection.
``rules``
    Every rule of the file, checked in one place (:func:`~.rules.read_catalogue`).
``load``
    :func:`load_catalogue`: read once, cached until the file changes.
``html``
    French HTML table for notebooks (``Catalogue._repr_html_``).

Public names: :func:`load_catalogue`, :class:`Catalogue`, :class:`Indicator`
(re-exported by :mod:`barometre_geo`); the data contract is in
``docs/contracts/survey.md``.
"""

from .load import default_path, load_catalogue
from .model import (
    AskedIf,
    Catalogue,
    Edition,
    FreeText,
    Indicator,
    Option,
    Published,
    ReportItem,
    Theme,
    Wave,
)
from .vocabulary import (
    KINDS,
    NON_SUBSTANTIVE,
    PUBLISH_LEVELS,
    RESPONDENT_KINDS,
    STATISTICS,
    STATISTICS_BY_KIND,
    UNIVERSES,
)

__all__ = [
    "KINDS",
    "NON_SUBSTANTIVE",
    "PUBLISH_LEVELS",
    "RESPONDENT_KINDS",
    "STATISTICS",
    "STATISTICS_BY_KIND",
    "UNIVERSES",
    "AskedIf",
    "Catalogue",
    "Edition",
    "FreeText",
    "Indicator",
    "Option",
    "Published",
    "ReportItem",
    "Theme",
    "Wave",
    "default_path",
    "load_catalogue",
]
