"""Survey: the questionnaire catalogue, and real exports turned into clean responses.

Stage 2 of the pipeline; it imports :mod:`barometre_geo.territories.reference` only.

Takes
    Raw exports (CSV of any platform, ``.xlsx``), one per wave, and an optional
    YAML mapping file naming what differs from the barometer's own format.
Gives
    :class:`Responses`: one identified, de-duplicated row per collectivity and
    wave (answers decoded to catalogue option ids), and an :class:`IngestReport`
    accounting for every input row (accepted, superseded, rejected with a
    reason) and every unknown answer value.

Modules
-------
``catalogue/``  the indicator catalogue (:func:`load_catalogue`)
``mapping``     mapping files (:func:`load_mapping`, :func:`default_mapping`)
``read``        raw files into text cells; ``columns`` headers to mapping targets
                (personal data dropped here); ``answers`` cells to option ids
``identify``    the collectivity behind each row (through the resolver)
``dedup``       one response per collectivity and wave; ``rows`` the row states
``report``      the ingest report; ``text`` normalisation and personal-data rules
``responses``   :func:`read_responses` and :class:`Responses`, tying them together

Data contract: ``docs/contracts/survey.md``.
"""

from .catalogue import Catalogue, Indicator, load_catalogue
from .mapping import Mapping, default_mapping, load_mapping
from .report import IngestReport
from .responses import Responses, read_responses

__all__ = [
    "Catalogue",
    "Indicator",
    "IngestReport",
    "Mapping",
    "Responses",
    "default_mapping",
    "load_catalogue",
    "load_mapping",
    "read_responses",
]
