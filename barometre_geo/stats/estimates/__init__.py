"""Model-based small-area estimates (multilevel regression and post-stratification).

Modules: ``design`` (what is known for every collectivity: kind, population,
coverage; census rows), ``laplace`` (mixed models with département and région
random intercepts, fitted by Laplace), ``model`` (one model per measure,
post-stratified per territory with 95 % intervals).
Data contract: ``docs/contracts/stats.md``, "Small-area estimates".
"""

from .design import Auxiliary, auxiliary, fixed_columns
from .laplace import MixedFit, MixedModel, fit_mixed
from .model import MODEL_LEVELS, MeasureModel, TerritoryEstimates, fit_measure

__all__ = [
    "MODEL_LEVELS",
    "Auxiliary",
    "MeasureModel",
    "MixedFit",
    "MixedModel",
    "TerritoryEstimates",
    "auxiliary",
    "fit_measure",
    "fit_mixed",
    "fixed_columns",
]
