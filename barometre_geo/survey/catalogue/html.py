"""French HTML table of a catalogue for notebooks, grouped by theme."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from .vocabulary import KIND_LABELS, LEVEL_LABELS, PUBLISH_LEVELS, STATISTIC_LABELS, UNIVERSE_LABELS

if TYPE_CHECKING:  # pragma: no cover
    from .model import Catalogue, Indicator

__all__ = ["catalogue_html", "format_percent"]

_NBSP = "\u00a0"
_PRECISION = {"exact": "", "about": "≈" + _NBSP, "below": "<" + _NBSP, "above": ">" + _NBSP}


def format_percent(value: float, *, share: bool = True) -> str:
    """Format a share (0–1) or a percentage (0–100) the French way.

    Examples
    --------
    >>> format_percent(0.369) == "36,9" + chr(0xA0) + "%"
    True
    >>> format_percent(8.2, share=False) == "8,2" + chr(0xA0) + "%"
    True
    """
    pct = value * 100 if share else value
    text = f"{pct:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}{_NBSP}%"


def _short(label: str) -> str:
    """Drop the examples in parentheses of an option label, for compact cells."""
    return label.split(" (")[0]


def _published(ind: Indicator) -> str:
    pub = ind.published
    if pub is None:
        return ""
    share = ind.statistic != "mean"
    prefix = _PRECISION[pub.precision]
    parts = []
    if pub.value is not None:
        parts.append(prefix + format_percent(pub.value, share=share))
    parts += [
        f"{_short(ind.option(o).label)}{_NBSP}: {prefix}{format_percent(v)}"
        for o, v in pub.options.items()
    ]
    parts += [
        f"{LEVEL_LABELS.get(k, k.replace('_', ' ').capitalize())}{_NBSP}: "
        f"{prefix}{format_percent(v, share=share)}"
        for k, v in pub.by_kind.items()
    ]
    return " ; ".join(parts)


def _row(ind: Indicator) -> str:
    if ind.levels == PUBLISH_LEVELS:
        levels = "Tous niveaux"
    else:
        levels = ", ".join(LEVEL_LABELS[lv] for lv in ind.levels)
    if ind.sensitive:
        levels += " <em>(sensible)</em>"
    calcul = STATISTIC_LABELS[ind.statistic]
    if ind.positive and ind.statistic in ("share", "distribution"):
        calcul += " «" + _NBSP + " ou ".join(_short(ind.option(o).label) for o in ind.positive)
        calcul += _NBSP + "»"
    cells = [
        f"<code>{escape(ind.id)}</code>",
        f"<span title='{escape(ind.question, quote=True)}'>{escape(ind.label)}</span>",
        escape(KIND_LABELS[ind.kind]),
        escape(calcul),
        escape(UNIVERSE_LABELS[ind.universe]),
        levels if ind.sensitive else escape(levels),
        escape(_published(ind)),
    ]
    return "<tr>" + "".join(f"<td style='text-align:left'>{c}</td>" for c in cells) + "</tr>"


def catalogue_html(cat: Catalogue) -> str:
    """Return a French HTML table of the indicators, one group per theme."""
    head = (
        "Identifiant",
        "Libellé (survoler : question)",
        "Réponse",
        "Calcul",
        "Répondants",
        "Publication",
        "Chiffre publié",
    )
    body = []
    for theme in cat.themes:
        rows = [_row(i) for i in cat.indicators if i.theme == theme.id]
        if not rows:
            continue
        wave = f"Vague {theme.wave}" if theme.wave else "Chaque vague (identification)"
        n = len(rows)
        title = f"{wave} · {theme.label} ({n} indicateur{'s' if n > 1 else ''})"
        body.append(
            f"<tr><th colspan='{len(head)}' style='text-align:left' "
            f"title='{escape(theme.description, quote=True)}'>{escape(title)}</th></tr>"
        )
        body += rows
    ed = cat.edition
    n_sens = sum(i.sensitive for i in cat.indicators)
    caption = (
        f"{escape(ed.name)} — édition {escape(ed.id)} : {len(cat)} indicateurs, "
        f"dont {n_sens} sensibles ; {ed.total_responses}{_NBSP}réponses publiées"
    )
    return (
        "<div><table>"
        f"<caption style='text-align:left'><strong>{caption}</strong></caption>"
        "<thead><tr>"
        + "".join(f"<th style='text-align:left'>{h}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></div>"
    )
