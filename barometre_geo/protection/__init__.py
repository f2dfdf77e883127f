"""Statistical disclosure control: what of the cells may be published.

Stage 4 of the pipeline; it imports territories, survey and stats, never the
outputs (maps, tables) that publish its decisions.

Takes
    Cell sums and their linear relations (nestings of territories and
    breakdowns, option rows) from :mod:`barometre_geo.stats`.
Gives
    A decision per cell: published or hidden, with its reason code
    (``rules.SUPPRESSION_REASONS``), weighted figures withheld or not.

Modules
-------
``rules``       thresholds, modes, reason codes, primary and complementary suppression
``attribute``   attribute disclosure of sensitive indicators (t answers on each side)
``relations``   linear relations between cells, found from the data
``audit``       fast exact audit used while protecting (null space of published sums)
``leaks``       the exact audit per indicator and the cells hidden to close each leak
``apply``       the protection of one aggregate computation, stage by stage (:func:`protect`)
``disclosure``  the independent audit analysts run (:func:`assert_no_disclosure`)
``bounds``      the reader's model of a family and the exchange screen of hidden figures
``integer``     exact integer programs (HiGHS) of the figures the screen leaves undecided
``linked``      the integer audit of every published table of an edition together

Data contract: ``docs/contracts/protection.md``.
"""

from .disclosure import assert_no_disclosure
from .rules import (
    MODES,
    SECRET_REASONS,
    SUPPRESSED_COLUMNS,
    SUPPRESSION_REASONS,
    T_SENSITIVE,
    describe_reasons,
    parse_mode,
)

__all__ = [
    "MODES",
    "SECRET_REASONS",
    "SUPPRESSED_COLUMNS",
    "SUPPRESSION_REASONS",
    "T_SENSITIVE",
    "assert_no_disclosure",
    "describe_reasons",
    "parse_mode",
]
