"""Indicator tables: every indicator at every level, protected, and their open-data files.

Stage 5 of the pipeline: it ties statistics and protection together.

Takes
    :class:`~barometre_geo.Responses`, the catalogue and the territories.
Gives
    The Aggregates table of :func:`aggregate` (one row per indicator ×
    territory × breakdown group × option, columns ``AGGREGATE_COLUMNS``) and its
    files (:func:`write_aggregates`: CSV, Parquet, French data dictionary);
    :func:`compare_published` puts national figures next to the published ones.

Data contract: ``docs/contracts/indicators.md``.
"""

from .aggregate import AGGREGATE_COLUMNS, AGGREGATE_LEVELS, SUPPRESSED_COLUMNS, aggregate
from .tables import compare_published, write_aggregates

__all__ = [
    "AGGREGATE_COLUMNS",
    "AGGREGATE_LEVELS",
    "SUPPRESSED_COLUMNS",
    "aggregate",
    "compare_published",
    "write_aggregates",
]
