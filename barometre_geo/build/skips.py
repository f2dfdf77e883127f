"""Analyses of the build that an export cannot feed: skipped, each said in one French line.

Real exports (other surveys, other platforms) never carry every question of the
catalogue. The build maps the questions an export has; every other analysis that
needs a question the export lacks is skipped — never a failure — and
:func:`skipped_analyses` says which and why, for the summary (``LISEZMOI.txt``, the
command line) and the ingest report (``rapports/import.txt``, ``import.json``).
"""

from __future__ import annotations

__all__ = ["declared_column", "skipped_analyses"]

_LIST_LIMIT = 8  # absent indicators named in the summary line; all in manifest.json


def declared_column(responses) -> str | None:
    """Column of the declared membership of a mutualisation structure, or None if absent."""
    from ..coverage.survey import DECLARED_COLUMN

    return DECLARED_COLUMN if DECLARED_COLUMN in responses.data.columns else None


def skipped_analyses(responses, catalogue, absent) -> list[str]:
    """One French line per analysis skipped for lack of a question in the exports.

    Parameters
    ----------
    responses : Responses
    catalogue : Catalogue
    absent : sequence of str
        Catalogue indicators the exports do not contain (no map for them).
    """
    from ..coverage.survey import DECLARED_COLUMN

    out = []
    if declared_column(responses) is None:
        label = catalogue.get(DECLARED_COLUMN).label if DECLARED_COLUMN in catalogue else ""
        out.append(
            "accord entre la couverture des structures et l’adhésion déclarée — les "
            f"exports n’ont pas la question « {label} » ({DECLARED_COLUMN}) ; la "
            "participation en territoire couvert et non couvert est calculée."
        )
    absent = list(absent)
    if absent:
        shown = ", ".join(absent[:_LIST_LIMIT]) + (" …" if len(absent) > _LIST_LIMIT else "")
        out.append(
            f"cartes et tableaux de {len(absent)} indicateur{'s' if len(absent) > 1 else ''} "
            f"sélectionné{'s' if len(absent) > 1 else ''} — questions absentes des exports "
            f"({shown} ; liste complète : manifest.json, indicators_absent)."
        )
    return out
