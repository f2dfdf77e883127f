"""Indicator tables: every indicator at every level, protected, and their open-data files.

Stage 5 of the pipeline: it ties statistics and protection together.

Takes
    :class:`~barometre_geo.Responses`, the catalogue and the territories.
Gives
    The Aggregates table of :func:`aggregate` (one row per indicator ×
    territory × breakdown group × option, columns ``AGGREGATE_COLUMNS``) and its
    files (:func:`write_aggregates`: CSV, Parquet, French data dictionary);
    :func:`compare_published` puts national figures next to the published ones;
    :func:`attach_figures` adds figure columns (modelled estimates) that follow
    the table's hidden cells (``publication``).

Data contract: ``docs/contracts/indicators.md``.
"""

from .aggregate import AGGREGATE_COLUMNS, AGGREGATE_LEVELS, SUPPRESSED_COLUMNS, aggregate
from .publication import PUBLISHED_KEY, attach_figures, published_key
from .tables import compare_published, write_aggregates

__all__ = [
    "AGGREGATE_COLUMNS",
    "AGGREGATE_LEVELS",
    "PUBLISHED_KEY",
    "SUPPRESSED_COLUMNS",
    "aggregate",
    "attach_figures",
    "compare_published",
    "published_key",
    "write_aggregates",
]
