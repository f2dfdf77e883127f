"""What an indicator's map says in words: its source line, what its value counts, its classes.

Every indicator page and static map carries, under the map, the source line

    Source : Baromètre Collectivités & Numérique, 1re édition (2023-2025), vague 1
    (collecte du 01/11/2023 au 07/02/2024), 2 174 réponses ; COG 2025 ;
    traitements barometre-geo 0.9

(:class:`SourceLine`), and a legend whose title says what the value counts
(:func:`value_meaning`: "Part des collectivités répondantes ayant répondu « Oui »
(hors « Sans réponse »)"), whose subtitle names the
classification (:func:`classes_text`) and where the national value is marked
beside its class (:func:`national_mark`).

The number of responses is the national row's ``n`` (valid answers to this
question). Collection dates come from the catalogue only when the table's
edition is the catalogue's: another edition's dates are unknown and said so.
``modelled`` is the hook for model-based figures (small-area estimates): a
sentence appended to the source line, and to the legend through
``LegendSpec.note``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._format import NumberFormat, format_count
from .._version import __version__
from ._classify import Classification
from ._data import SCHEME_LABELS, national_rows

__all__ = [
    "MapTexts",
    "SourceLine",
    "classes_text",
    "map_texts",
    "national_mark",
    "national_n",
    "source_line",
    "value_meaning",
]

_WHO = {
    "all": "collectivités répondantes",
    "communes": "communes répondantes",
    "epci": "intercommunalités répondantes",
    "communes_epci": "communes et intercommunalités répondantes",
    "departements": "départements répondants",
    "regions": "régions répondantes",
    "departements_regions": "départements et régions répondants",
}


_SHORT_LEVELS = {"commune": "communes", "epci": "EPCI", "departement": "départements",
                 "region": "régions"}  # fmt: skip


def _quoted(labels) -> str:
    return " ou ".join(f"« {label} »" for label in labels)


def value_meaning(indicator, option: str | None = None, catalogue=None) -> str:
    r"""Return a French sentence saying what the mapped value counts (the legend's title).

    Examples
    --------
    >>> import barometre_geo as bg
    >>> c = bg.load_catalogue()
    >>> value_meaning(c.get("cyber_pca"))
    'Part des collectivités répondantes ayant répondu « Oui » (hors « Sans réponse »)'
    >>> text = value_meaning(c.get("inclusion_actions_types"), "acces_internet", c)
    >>> print(text.replace(" citant", "\ncitant"))
    Part des collectivités répondantes ayant répondu « Oui » à « Actions de médiation numérique »
    citant « Accès au réseau Internet (postes en libre accès, wifi) »
    """
    if indicator is None:
        return "Valeur"
    who = _WHO.get(indicator.universe, "collectivités répondantes")
    if indicator.asked_if is not None and catalogue is not None:
        ai = indicator.asked_if
        parent = catalogue.get(ai.indicator)
        labels = [parent.option(o).label for o in ai.options]
        who += f" ayant répondu {_quoted(labels)} à « {parent.label} »"
    if indicator.statistic == "mean":
        unit = f" (en {indicator.unit})" if indicator.unit else ""
        return f"Moyenne des réponses des {who}{unit}"
    if option is not None:
        label = indicator.option(option).label
        verb = "citant" if indicator.kind == "multiple_choice" else "ayant répondu"
        text = f"Part des {who} {verb} « {label} »"
    else:
        labels = [indicator.option(p).label for p in indicator.positive]
        text = f"Part des {who}" + (f" ayant répondu {_quoted(labels)}" if labels else "")
    if indicator.kind != "multiple_choice":
        out = [o.label for o in indicator.options if o.id not in indicator.valid]
        if out:
            text += " (hors " + ", ".join(f"« {label} »" for label in out) + ")"
    return text


def classes_text(classification: Classification | None) -> str:
    r"""Return the legend subtitle naming the classification (method, rounding, shared levels).

    Examples
    --------
    >>> from barometre_geo.maps._breaks import data_classes
    >>> import numpy as np
    >>> values = np.linspace(0.05, 0.62, 40)
    >>> c = data_classes([values, values[::3]], levels=("departement", "region"))
    >>> print(classes_text(c).replace(", ", ",\n"))
    Classes : seuils naturels (Fisher-Jenks) arrondis,
    identiques aux 2 échelles (départements,
    régions)
    """
    if classification is None or not classification.k:
        return ""
    if classification.exact:
        text = "une classe par valeur"
    else:
        text = SCHEME_LABELS.get(classification.scheme, classification.scheme)
        if classification.rounded:
            text += " arrondis"
    levels = [_SHORT_LEVELS.get(lv, lv) for lv in classification.levels]
    if len(levels) > 1:
        text += f", identiques aux {len(levels)} échelles ({', '.join(levels)})"
    return f"Classes : {text}"


def national_n(aggregates: pd.DataFrame, indicator: str, option: str | None) -> int | None:
    """``n`` of the national (``france``) row of an indicator/option, if published."""
    rows = national_rows(aggregates, indicator)
    rows = rows[rows["level"] == "france"]
    if "option" in rows.columns:
        rows = rows[rows["option"].isna()] if option is None else rows[rows["option"] == option]
    if len(rows) != 1 or bool(rows["suppressed"].iloc[0]) or "n" not in rows:
        return None
    n = pd.to_numeric(rows["n"], errors="coerce").iloc[0]
    return int(n) if pd.notna(n) else None


def national_mark(
    classification: Classification | None, value: float | None, fmt: NumberFormat
) -> dict | None:
    """Return the national value as the legend marks it: ``{"label", "class"}`` (or None).

    Examples
    --------
    >>> from barometre_geo.maps import classify
    >>> national_mark(classify([0.1, 0.5, 0.9]), 0.52, NumberFormat())
    {'label': 'France : 52\u202f%', 'class': 2}
    """
    if classification is None or value is None or not np.isfinite(value) or not classification.k:
        return None
    idx = int(classification.assign([value])[0]) if _inside(classification, value) else -1
    if idx < 0:
        return None
    return {"label": f"France : {fmt.format(value)}", "class": idx}


def _inside(cls: Classification, value: float) -> bool:
    tol = 1e-9 * max(1.0, abs(cls.bins[-1]))
    if value < cls.lower - tol or value > cls.bins[-1] + tol:
        return False
    if cls.exact:
        return bool(np.min(np.abs(np.asarray(cls.bins) - value)) <= tol)
    return True


@dataclass(frozen=True)
class SourceLine:
    """The source line of a map (see the module docstring).

    Attributes
    ----------
    survey : str
        The survey's name.
    edition : str
        "1re édition (2023-2025)", or the table's edition id.
    wave : str
        "vague 1 (collecte du 01/11/2023 au 07/02/2024)", "toutes vagues (…)", or
        the wave without dates for another edition than the catalogue's.
    responses : int or None
        Valid answers nationally (the ``france`` row's ``n``).
    cog : str
        The territorial reference's year.
    synthetic : bool or None
        The figures come from the synthetic demo edition.
    modelled : str
        A sentence for model-based figures (empty: direct estimates).
    """

    survey: str
    edition: str
    wave: str
    responses: int | None
    cog: str
    synthetic: bool | None = None
    modelled: str = ""

    def text(self) -> str:
        """Return the French line."""
        head = f"Source : {self.survey}, {self.edition}"
        if self.synthetic:
            head += " — DONNÉES SYNTHÉTIQUES de démonstration"
        parts = [head, self.wave] if self.wave else [head]
        if self.responses is not None:
            plural = "réponse" if self.responses <= 1 else "réponses"
            parts.append(f"{format_count(self.responses)} {plural}")
        text = ", ".join(parts)
        text += f" ; COG {self.cog or 'non précisé'} ; traitements barometre-geo {__version__}"
        if self.modelled:
            text += f" ; {self.modelled}"
        return text + "."


def _ordinal(n: int) -> str:
    return "1re" if n == 1 else f"{n}e"


def _dates(start, end) -> str:
    return f"collecte du {start:%d/%m/%Y} au {end:%d/%m/%Y}"


def source_line(
    indicator,
    catalogue,
    *,
    edition: str | None = None,
    synthetic: bool | None = None,
    responses: int | None = None,
    cog: str = "",
    modelled: str = "",
    wave: int | None = None,
) -> SourceLine:
    r"""Build the :class:`SourceLine` of an indicator's map.

    ``indicator`` gives the wave (``None`` and ``wave=0``: a page on every wave,
    e.g. participation); ``responses`` the number of responses quoted.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> c = bg.load_catalogue()
    >>> line = source_line(c.get("cyber_pca"), c, responses=2174, cog="2025").text()
    >>> print(line.replace(", vague", ",\nvague").replace(" ; COG", ";\nCOG"))
    Source : Baromètre Collectivités & Numérique, 1re édition (2023-2025),
    vague 1 (collecte du 01/11/2023 au 07/02/2024), 2...174 réponses;
    COG 2025 ; traitements barometre-geo ...
    >>> source_line(c.get("cyber_pca"), c, edition="2027", cog="2025").wave
    'vague 1 (dates de collecte non précisées)'
    """
    ed = catalogue.edition
    same = edition is None or str(edition) == ed.id
    edition_text = f"{_ordinal(ed.number)} édition ({ed.id})" if same else f"édition {edition}"
    wave = ""
    number = getattr(indicator, "wave", None) if indicator is not None else wave
    if number is not None:
        if number == 0:
            wave = "toutes vagues"
            if same and ed.waves:
                wave += f" ({_dates(ed.waves[0].start, ed.waves[-1].end)})"
        else:
            wave = f"vague {number}"
            known = [w for w in ed.waves if w.number == number] if same else []
            wave += (
                f" ({_dates(known[0].start, known[0].end)})"
                if known
                else (" (dates de collecte non précisées)")
            )
    return SourceLine(
        survey=ed.name,
        edition=edition_text,
        wave=wave,
        responses=responses,
        cog=str(cog or ""),
        synthetic=synthetic,
        modelled=modelled,
    )


@dataclass(frozen=True)
class MapTexts:
    """Legend and source texts of one indicator map (:func:`map_texts`)."""

    legend_title: str
    legend_subtitle: str
    source: str
    national_value: float | None


def map_texts(
    aggregates: pd.DataFrame,
    territories,
    *,
    indicator: str,
    entry,
    option: str | None,
    classification: Classification | None,
    edition: str | None = None,
    synthetic: bool | None = None,
    catalogue=None,
    modelled: str = "",
) -> MapTexts:
    """Return what the legend and the source line of an indicator map say.

    ``entry`` is the catalogue entry (``None`` outside the catalogue: the legend
    says "Valeur" and the source line only the reference and the treatment).
    Edition and synthetic flag: the arguments, else ``aggregates.attrs``.
    """
    meta = aggregates.attrs.get("barometre_geo", {}) if hasattr(aggregates, "attrs") else {}
    meta = meta if isinstance(meta, dict) else {}
    if synthetic is None and isinstance(meta.get("synthetic"), bool):
        synthetic = meta["synthetic"]
    edition = edition or meta.get("edition")
    nat = national_rows(aggregates, indicator)
    nat = nat[nat["level"] == "france"]
    if "option" in nat.columns:
        nat = nat[nat["option"].isna()] if option is None else nat[nat["option"] == option]
    value = None
    if len(nat) == 1 and not bool(nat["suppressed"].iloc[0]):
        v = pd.to_numeric(nat["value"], errors="coerce").iloc[0]
        value = float(v) if pd.notna(v) else None
    cog = str(getattr(territories, "cog", "") or "")
    if entry is not None:
        if catalogue is None:
            from ..survey.catalogue import load_catalogue

            catalogue = load_catalogue()
        line = source_line(
            entry,
            catalogue,
            edition=edition,
            synthetic=synthetic,
            responses=national_n(aggregates, indicator, option),
            cog=cog,
            modelled=modelled,
        ).text()
    else:
        line = (
            f"COG {cog or 'non précisé'} ; traitements barometre-geo {__version__}"
            + (f" ; {modelled}" if modelled else "")
            + "."
        )
    return MapTexts(
        legend_title=value_meaning(entry, option, catalogue),
        legend_subtitle=classes_text(classification),
        source=line,
        national_value=value,
    )
