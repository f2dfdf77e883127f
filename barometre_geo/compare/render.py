"""HTML and text renderings of a comparison fiche (:class:`~barometre_geo.Comparison`).

The page is French, self-contained (one inline stylesheet, no script, no
external resource), accessible (landmarks, one ``<section>`` per theme with
its heading, real data tables with headers and captions; the small inline SVG
charts are decorative — ``aria-hidden`` — because every number they draw is in
the table next to them) and every text coming from the data is escaped.
"""

from __future__ import annotations

import html
import math

import pandas as pd

__all__ = ["render_fragment", "render_page", "render_text"]

_W, _H, _PAD = 160, 16, 5
_POSITION_FR = {
    "au-dessus": "Au-dessus",
    "en dessous": "En dessous",
    "dans l'intervalle": "Dans l’intervalle",
}
_CSS = """
.bgeo-fiche{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;
 line-height:1.45;max-width:62rem;margin:0 auto;padding:0 1rem 2rem}
.bgeo-fiche h1{font-size:1.6rem;margin:1rem 0 .3rem}
.bgeo-fiche h2{font-size:1.25rem;border-bottom:2px solid #000091;padding-bottom:.2rem;
 margin-top:2rem}
.bgeo-fiche h3{font-size:1.02rem;margin:1.2rem 0 .2rem}
.bgeo-fiche .bg-synth{background:#ce0500;color:#fff;padding:.6rem .9rem;font-weight:600;
 border-radius:4px}
.bgeo-fiche .bg-id,.bgeo-fiche .bg-q{color:#3a3a3a;margin:.1rem 0}
.bgeo-fiche .bg-q{font-style:italic}
.bgeo-fiche .bg-badge{font-size:.75rem;background:#fee7fc;color:#6e445a;padding:0 .4rem;
 border-radius:3px;margin-left:.4rem;font-weight:500;vertical-align:middle}
.bgeo-fiche table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.3rem 0}
.bgeo-fiche th,.bgeo-fiche td{border-bottom:1px solid #ddd;padding:.25rem .4rem;text-align:left;
 vertical-align:middle}
.bgeo-fiche thead th{background:#f5f5fe;font-weight:600}
.bgeo-fiche td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.bgeo-fiche tr.bg-note td{color:#555;font-size:.8rem;border-bottom:1px solid #ddd;padding-top:0}
.bgeo-fiche .bg-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);
 white-space:nowrap}
.bgeo-fiche svg .tr{fill:#e5e5e5}.bgeo-fiche svg .ci{stroke:#6a6af4;stroke-width:4}
.bgeo-fiche svg .pt{fill:#000091}.bgeo-fiche svg .me{fill:#ce0500}
.bgeo-fiche nav ul{display:flex;flex-wrap:wrap;gap:.3rem 1rem;padding:0;list-style:none}
.bgeo-fiche a{color:#000091}.bgeo-fiche footer{margin-top:2rem;color:#555;font-size:.8rem}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _fmt(statistic: str, value, decimals: int = 1) -> str:
    from .._format import NumberFormat

    if _missing(value):
        return ""
    if statistic == "mean":
        return NumberFormat(share=False, decimals=decimals, unit="%").format(float(value))
    return NumberFormat.for_share(decimals).format(float(value))


def _count(n) -> str:
    from .._format import format_count

    return "" if _missing(n) else format_count(int(n))


def _x(statistic: str, value) -> float:
    share = float(value) / (100.0 if statistic == "mean" else 1.0)
    return _PAD + max(0.0, min(1.0, share)) * (_W - 2 * _PAD)


def _chart(row) -> str:
    """Draw the decorative dot chart: track 0–100 %, interval, peers' value, own answer."""
    row = pd.Series(row) if isinstance(row, dict) else row
    parts = [f'<rect class="tr" x="{_PAD}" y="7" width="{_W - 2 * _PAD}" height="2"/>']
    if not _missing(row.value):
        if not (_missing(row.ci_low) or _missing(row.ci_high)):
            x1, x2 = _x(row.statistic, row.ci_low), _x(row.statistic, row.ci_high)
            parts.append(f'<line class="ci" x1="{x1:.1f}" y1="8" x2="{x2:.1f}" y2="8"/>')
        parts.append(f'<circle class="pt" cx="{_x(row.statistic, row.value):.1f}" cy="8" r="4"/>')
    if not _missing(row.own_value) and row.statistic != "option_share":
        x = _x(row.statistic, row.own_value)
        parts.append(f'<path class="me" d="M{x:.1f} 2l4 6-4 6-4-6z"/>')
    return (
        f'<svg viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" aria-hidden="true" '
        f'focusable="false">{"".join(parts)}</svg>'
    )


def _value_cell(row) -> str:
    if _missing(row.value):
        return '<td class="num">non publié</td>'
    ci = ""
    if not (_missing(row.ci_low) or _missing(row.ci_high)):
        lo, hi = _fmt(row.statistic, row.ci_low, 0), _fmt(row.statistic, row.ci_high, 0)
        ci = f" <small>({_e(lo)} à {_e(hi)})</small>"
    return f'<td class="num">{_e(_fmt(row.statistic, row.value))}{ci}</td>'


def _label(row) -> str:
    """Label of the group shown, saying which group it replaces."""
    if not isinstance(row["group_label"], str):
        return f"{row['peer_label']} (aucun groupe publiable)"
    if row["group_label"] != row["peer_label"]:
        return f"{row['group_label']} (à la place de : {row['peer_label']})"
    return row["group_label"]


def _lines(rows: pd.DataFrame) -> list[tuple]:
    """Rows of one indicator with their labels, a group shown twice shown once.

    A peer group too small is replaced by a larger one, often the next group
    of the list (the département's communes by the région's): that line is
    then dropped and the next says which group it stands in for too.
    """
    records = list(rows.itertuples(index=False))
    out: list[tuple] = []
    replaced: list[str] = []
    for i, row in enumerate(records):
        d = row._asdict()
        nxt = records[i + 1]._asdict() if i + 1 < len(records) else None
        same = (
            nxt is not None
            and isinstance(d["group_label"], str)
            and d["group_label"] != d["peer_label"]
            and d["group_label"] == nxt["group_label"]
            and not (_missing(d["n"]) or _missing(nxt["n"]))
            and d["n"] == nxt["n"]
        )
        if same:
            replaced.append(d["peer_label"])
            continue
        label = _label(d)
        if replaced:
            label += f" (aussi à la place de : {', '.join(replaced)})"
            replaced = []
        out.append((row, label))
    return out


def _single(rows: pd.DataFrame) -> str:
    """Table of one indicator: one line per peer group."""
    body = []
    for row, label in _lines(rows):
        body.append(
            f'<tr><th scope="row">{_e(label)}</th><td class="num">{_count(row.n)}</td>'
            f"{_value_cell(row)}<td>{_chart(row)}</td>"
            f"<td>{_e(_POSITION_FR.get(row.position, '—'))}</td></tr>"
        )
        if row.note:
            body.append(f'<tr class="bg-note"><td colspan="5">{_e(row.note)}</td></tr>')
    head = (
        '<thead><tr><th scope="col">Groupe de comparaison</th><th scope="col">Réponses</th>'
        '<th scope="col">Valeur (IC à 95 %)</th><th scope="col"><span class="bg-sr">Graphique'
        '</span></th><th scope="col">Votre position</th></tr></thead>'
    )
    caption = f'<caption class="bg-sr">{_e(rows["label"].iloc[0])} : comparaison</caption>'
    return f"<table>{caption}{head}<tbody>{''.join(body)}</tbody></table>"


def _multiple(rows: pd.DataFrame) -> str:
    """Table of a multiple-choice indicator: options × peer levels, chart of the first group."""
    records = rows.to_dict("records")
    levels = list(dict.fromkeys(r["peer_level"] for r in records))
    cell = {(r["option"], r["peer_level"]): r for r in records}
    options = list(dict.fromkeys(r["option"] for r in records))
    heads = []
    for lv in levels:
        r = cell[(options[0], lv)]
        heads.append(f'<th scope="col">{_e(_label(r))} <small>({_count(r["n"])} rép.)</small></th>')
    body = []
    for opt in options:
        values = [cell[(opt, lv)] for lv in levels]
        cells = "".join(
            f'<td class="num">{_e(_fmt(r["statistic"], r["value"])) or "—"}</td>' for r in values
        )
        r0 = values[0]
        tick = "Oui" if r0["own_value"] == 1.0 else "Non"
        body.append(
            f'<tr><th scope="row">{_e(r0["option_label"])}</th><td>{tick}</td>'
            f"{cells}<td>{_chart(r0)}</td></tr>"
        )
    notes = [n for n in dict.fromkeys(rows["note"]) if n]
    foot = "".join(
        f'<tr class="bg-note"><td colspan="{len(levels) + 3}">{_e(n)}</td></tr>' for n in notes
    )
    head = (
        '<thead><tr><th scope="col">Option</th><th scope="col">Cochée par vous</th>'
        f'{"".join(heads)}<th scope="col"><span class="bg-sr">Graphique (premier groupe)'
        "</span></th></tr></thead>"
    )
    caption = (
        f'<caption class="bg-sr">{_e(rows["label"].iloc[0])} : part des collectivités '
        "ayant coché chaque option</caption>"
    )
    return f"<table>{caption}{head}<tbody>{''.join(body)}{foot}</tbody></table>"


def _identity(cmp) -> str:
    from .._format import format_count

    bits = [cmp.type_label]
    if cmp.population is not None:
        bits.append(f"{format_count(cmp.population)} habitants")
    if cmp.stratum:
        bits.append(f"strate : {cmp.stratum.lower()}")
    if cmp.departement:
        bits.append(f"département : {cmp.departement_nom} ({cmp.departement})")
    if cmp.region_nom:
        bits.append(f"région : {cmp.region_nom}")
    return " · ".join(bits)


def _body(cmp) -> str:
    out = []
    if cmp.synthetic:
        out.append(
            '<p class="bg-synth" role="note">Données synthétiques — édition de démonstration : '
            "ces chiffres ne sont pas ceux du Baromètre et ne décrivent pas cette collectivité."
            "</p>"
        )
    waves = ", ".join(str(w) for w in cmp.waves)
    out.append(
        f"<header><h1>Auto-positionnement numérique — {_e(cmp.nom)}</h1>"
        f'<p class="bg-id">{_e(_identity(cmp))}</p>'
        f'<p class="bg-id">Édition : {_e(cmp.edition)} — réponses de la vague {_e(waves)} '
        f"(la plus récente de chaque vague).</p></header>"
    )
    out.append(
        '<section aria-labelledby="bg-how"><h2 id="bg-how">Comment lire cette fiche</h2><p>'
        "Pour chaque question à laquelle vous avez répondu, votre réponse est placée à côté "
        "de celle de collectivités comparables : même type et même strate de population en "
        "France, même type dans votre département et dans votre région, puis l’ensemble des "
        "répondants en France. Sur les graphiques, le point bleu est la part (ou la moyenne) "
        "du groupe, le trait son intervalle de confiance à 95 %, le losange rouge votre "
        "réponse (0 % pour non, 100 % pour oui). « Au-dessus » ou « en dessous » : votre "
        "valeur sort de l’intervalle du groupe.</p><p>"
        f"Chaque chiffre repose sur au moins {cmp.k} réponses d’autres collectivités "
        f"({cmp.k_sensitive} pour les questions sensibles) ; votre propre réponse est comptée "
        "dans le chiffre du groupe, comme dans les chiffres publiés. Un groupe trop petit "
        "n’est jamais affiché : le groupe plus large utilisé à sa place est indiqué.</p>"
        "</section>"
    )
    tab = cmp.table
    themes = list(dict.fromkeys(zip(tab["theme"], tab["theme_label"], strict=True)))
    links = "".join(f'<li><a href="#bg-t-{_e(t)}">{_e(lab)}</a></li>' for t, lab in themes)
    out.append(f'<nav aria-label="Thèmes"><ul>{links}</ul></nav>')
    for theme, theme_label in themes:
        anchor = f"bg-t-{_e(theme)}"
        parts = [f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{_e(theme_label)}</h2>']
        sub = tab[tab["theme"] == theme]
        for _, rows in sub.groupby("indicator", sort=False):
            r = rows.iloc[0]
            badge = '<span class="bg-badge">question sensible</span>' if r["sensitive"] else ""
            parts.append(
                f'<article><h3>{_e(r["label"])}{badge}</h3><p class="bg-q">{_e(r["question"])}</p>'
            )
            if r["statistic"] == "option_share":
                answer = "; ".join(rows.loc[rows["own_value"] == 1.0, "option_label"].unique())
                parts.append(
                    f"<p>Votre réponse : <strong>{_e(answer or 'aucune option')}</strong></p>"
                )
                parts.append(_multiple(rows))
            else:
                parts.append(f"<p>Votre réponse : <strong>{_e(r['own_answer'])}</strong></p>")
                parts.append(_single(rows))
            parts.append("</article>")
        parts.append("</section>")
        out.append("".join(parts))
    from .._version import __version__

    out.append(
        f"<footer><p>Source : {_e(cmp.edition)}. Seuils de diffusion : {cmp.k} réponses "
        f"({cmp.k_sensitive} pour les questions sensibles), hors la vôtre. Intervalles de "
        f"confiance : Wilson (parts), Student (moyennes). Produit par barometre-geo "
        f"{_e(__version__)}.</p></footer>"
    )
    return "".join(out)


def render_fragment(cmp) -> str:
    """Return the fiche as an HTML fragment with its scoped stylesheet (notebooks)."""
    return f'<div class="bgeo-fiche"><style>{_CSS}</style>{_body(cmp)}</div>'


def render_page(cmp) -> str:
    """Return the fiche as a complete, self-contained HTML page."""
    title = f"Auto-positionnement numérique — {cmp.nom}"
    if cmp.synthetic:
        title += " (données synthétiques)"
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f'<body><main class="bgeo-fiche">{_body(cmp)}</main></body></html>\n'
    )


def render_text(cmp) -> str:
    """Plain-text summary: per theme, each indicator, own answer and peers' figures."""
    lines = [f"Auto-positionnement numérique — {cmp.nom} ({cmp.code})"]
    if cmp.synthetic:
        lines.append(
            "DONNÉES SYNTHÉTIQUES (édition de démonstration) : pas les chiffres du Baromètre."
        )
    lines.append(_identity(cmp))
    lines.append(f"Édition : {cmp.edition} — vague(s) {', '.join(map(str, cmp.waves))}")
    tab = cmp.table
    for theme_label, sub in tab.groupby("theme_label", sort=False):
        lines += ["", f"== {theme_label} =="]
        for _, rows in sub.groupby("indicator", sort=False):
            r = rows.iloc[0]
            if r["statistic"] == "option_share":
                lines.append(f"* {r['label']}")
                for _, o in rows.groupby("option", sort=False):
                    f = o.iloc[0]
                    mark = "x" if f["own_value"] == 1.0 else " "
                    value = _fmt(f["statistic"], f["value"]) or "non publié"
                    lines.append(f"    [{mark}] {f['option_label']} : {value} ({_label(f)})")
                continue
            lines.append(f"* {r['label']} — votre réponse : {r['own_answer']}")
            for f, label in _lines(rows):
                if _missing(f.value):
                    lines.append(f"    {label} : non publié")
                    continue
                ci = f"{_fmt(f.statistic, f.ci_low, 0)} à {_fmt(f.statistic, f.ci_high, 0)}"
                pos = f" — {f.position}" if isinstance(f.position, str) else ""
                lines.append(
                    f"    {label} : {_fmt(f.statistic, f.value)} ({ci}), n = {_count(f.n)}{pos}"
                )
    return "\n".join(lines) + "\n"
