"""Coverage of the territory by mutualisation structures (OPSN…), beside the survey.

Takes
    A structures file (the OPSN directory ``operators.json`` as is, CSV,
    GeoJSON, GeoPackage), the territories and optionally the responses.
Gives
    :class:`Structures` (each structure's communes, every entry accounted for)
    and :class:`CoverageResult`: shares covered per level, overlaps, uncovered
    zones, uncovered communes near each structure, the crossing with the survey;
    its GeoPackage and HTML map (``export``).

Modules
-------
``read``        structures files into raw records; ``territory`` a structure's
                territory to communes; ``structures`` :func:`read_structures`
``measure``     :func:`coverage`; ``zones`` uncovered zones and neighbours;
                ``survey`` crossing with the responses; ``export`` GeoPackage, map

Data contract: ``docs/contracts/coverage.md``.
"""

from .measure import CoverageResult, coverage
from .structures import Structures, StructuresReport, load_demo_structures, read_structures

__all__ = [
    "CoverageResult",
    "Structures",
    "StructuresReport",
    "coverage",
    "load_demo_structures",
    "read_structures",
]
