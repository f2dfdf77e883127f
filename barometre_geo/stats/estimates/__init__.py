"""Model-based small-area estimates (multilevel regression and post-stratification).

Modules: ``design`` (what is known for every collectivity: kind, population,
coverage, neighbouring départements; census rows), ``laplace`` (mixed models with
département — independent and spatial (BYM) — and région random intercepts,
fitted by Laplace and integrated over their variance parameters), ``model`` (one
model per measure, post-stratified per territory with 95 % intervals).
Data contract: ``docs/contracts/stats.md``, "Small-area estimates".
"""

from .design import Auxiliary, auxiliary, departement_pairs, fixed_columns, icar_structure
from .laplace import HyperPoint, MixedFit, MixedModel, fit_mixed
from .model import MODEL_LEVELS, MeasureModel, TerritoryEstimates, fit_measure

__all__ = [
    "MODEL_LEVELS",
    "Auxiliary",
    "HyperPoint",
    "MeasureModel",
    "MixedFit",
    "MixedModel",
    "TerritoryEstimates",
    "auxiliary",
    "departement_pairs",
    "fit_measure",
    "fit_mixed",
    "fixed_columns",
    "icar_structure",
]
