"""Statistics: cells of every indicator, intervals, calibration weights, spatial statistics.

Stage 3 of the pipeline; it imports the territories and survey stages.

Takes
    :class:`~barometre_geo.Responses` and the territorial reference.
Gives
    Raw (unprotected) cell sums per indicator × territory × breakdown group
    (``cells``), on the territorial units and nestings of ``units``; 95 %
    intervals (``intervals``: Wilson, Student, Kish's effective size);
    population strata (``strata``); calibration weights by raking
    (``weighting``); Moran's I and LISA (``spatial``, ``autocorrelation``,
    ``contiguity``). Protection (:mod:`barometre_geo.protection.rules`) decides what
    of it is published; :func:`barometre_geo.aggregate` assembles the table.

Public names: :func:`calibration_weights`, :func:`rake`,
:func:`spatial_autocorrelation`, :class:`SpatialStats`.
Data contract: ``docs/contracts/stats.md``.
"""

from .spatial import SpatialStats, spatial_autocorrelation
from .weighting import CalibrationWeights, RakingResult, calibration_weights, rake

__all__ = [
    "CalibrationWeights",
    "RakingResult",
    "SpatialStats",
    "calibration_weights",
    "rake",
    "spatial_autocorrelation",
]
