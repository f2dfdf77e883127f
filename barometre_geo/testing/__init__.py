"""Helpers for analysts' own tests: build small responses, check aggregate tables.

* :func:`make_responses` builds a valid :class:`~barometre_geo.Responses` from a
  dict of answers and the territory codes of the respondents;
* :func:`random_responses` draws a synthetic edition of any size, skewed like
  the real participation (not the calibrated demo edition);
* :func:`assert_aggregates_consistent` checks the invariants of an
  :func:`~barometre_geo.aggregate` table; :func:`assert_no_disclosure` proves
  that no published figure can be traced back to fewer than ``k`` respondents.
"""

from .helpers import (
    assert_aggregates_consistent,
    assert_no_disclosure,
    make_responses,
    random_responses,
)

__all__ = [
    "assert_aggregates_consistent",
    "assert_no_disclosure",
    "make_responses",
    "random_responses",
]
