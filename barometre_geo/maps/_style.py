"""Page styles of the HTML maps: ``standard`` and ``dsfr`` (the État's design system).

``standard`` is ``templates/bgeo.css`` alone: neutral colours chosen for
contrast, the system font — Marianne first in the font stack, so a reader whose
device has it (État workstations) gets it. ``dsfr`` adds the colour tokens and
typography of the Système de design de l'État (DSFR 1.x, light theme): text
``#3a3a3a`` (``text-default-grey``), titles ``#161616`` (``text-title-grey``),
secondary text ``#666666`` (``text-mention-grey``), links and active elements
``#000091`` (``text-action-high-blue-france``), borders ``#dddddd``
(``border-default-grey``), alternative background ``#f6f6f6``
(``background-alt-grey``), focus ring 2 px ``#0a76f6`` offset 2 px, Marianne
then Arial; and its maps take DSFR Chart's sequential palette (``DSFR``).

A page in an ``<iframe>`` cannot use the fonts its host loads (each document
loads its own): Marianne shows when it is installed on the reader's device. Its
licence reserves it to the État's sites, so it is not shipped here.
"""

from __future__ import annotations

from typing import Literal, get_args

from ..errors import UnknownValueError

__all__ = ["PAGE_STYLES", "PageStyle", "parse_style", "style_css", "style_palette"]

PageStyle = Literal["standard", "dsfr"]
#: Page styles accepted by the map builders (``page_style=``) and ``build --style``.
PAGE_STYLES: tuple[str, ...] = get_args(PageStyle)

_DSFR_CSS = """
/* style dsfr: colour tokens and typography of the DSFR (light theme) */
body { font-family: "Marianne", arial, sans-serif; color: #3a3a3a; line-height: 1.5; }
.bgeo-title { color: #161616; font-size: 1.5rem; line-height: 2rem; font-weight: 700; }
.bgeo-data h2, .bgeo-legend-title { color: #161616; }
.bgeo-desc, .bgeo-notes, .bgeo-source, .bgeo-legend-sub, .bgeo-legend-note,
.bgeo-legend-count { color: #666666; }
a, .leaflet-container a, .bgeo-skip { color: #000091; }
:focus-visible { outline: 2px solid #0a76f6; outline-offset: 2px; }
.bgeo-mapbox, .bgeo-empty { border-color: #dddddd; }
.bgeo-insets, .bgeo-empty, .bgeo-mapbox .leaflet-container { background: #f6f6f6; }
.bgeo-table thead th { background: #f6f6f6; color: #161616; }
.bgeo-table th, .bgeo-table td { border-bottom-color: #dddddd; }
.bgeo-zones button, .bgeo-inset button, .bgeo-pager button { color: #000091; }
.bgeo-zones button:hover, .bgeo-inset button:hover { background: #e3e3fd; }
.bgeo-legend-nat { border-color: #000091; color: #000091; }
"""


def parse_style(name: str) -> str:
    """Validate a page style (``"standard"`` or ``"dsfr"``).

    Examples
    --------
    >>> parse_style("DSFR")
    'dsfr'
    """
    value = str(name).strip().lower()
    if value not in PAGE_STYLES:
        raise UnknownValueError(
            f"Unknown page style {name!r}. Valid styles: {', '.join(PAGE_STYLES)}."
        )
    return value


def style_css(name: str) -> str:
    """CSS added to ``templates/bgeo.css`` for a page style."""
    return _DSFR_CSS if parse_style(name) == "dsfr" else ""


def style_palette(name: str) -> str:
    """Default palette of a page style's choropleths (``Blues``; ``DSFR`` for ``dsfr``)."""
    return "DSFR" if parse_style(name) == "dsfr" else "Blues"
