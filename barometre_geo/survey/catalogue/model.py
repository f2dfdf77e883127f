"""The indicator catalogue of the Baromètre Collectivités & Numérique.

The catalogue is data: ``barometre_geo/data/catalogue.yaml`` lists the edition
(waves, dates, response counts), the nine thematic questionnaires plus the
identification block (``profil``), every indicator named in the study report
(question, answer kind, options, how it becomes a figure, who was asked,
whether it is sensitive, where it may be published, the national figure
published) and every result of the report with the indicators that reproduce
it. :func:`load_catalogue` reads and validates that file in one place
(:mod:`barometre_geo.survey.catalogue.yamlfile`) and returns a :class:`Catalogue` of
frozen dataclasses. Nothing is read at import time.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from ...errors import UnknownValueError
from .vocabulary import (
    NON_SUBSTANTIVE,
    UNIVERSES,
    Kind,
    Precision,
    ReportItemKind,
    Statistic,
    Universe,
)

__all__ = [
    "AskedIf",
    "Catalogue",
    "Edition",
    "FreeText",
    "Indicator",
    "Option",
    "Published",
    "ReportItem",
    "Theme",
    "Wave",
]


class FrozenMap(Mapping):
    """A read-only, hashable and picklable mapping (published figures)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping | Iterable = ()):
        object.__setattr__(self, "_data", dict(data))

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._data.items())))

    def __eq__(self, other) -> bool:
        return isinstance(other, Mapping) and dict(self._data) == dict(other)

    def __reduce__(self):
        return (FrozenMap, (self._data,))

    def __setattr__(self, name, value):
        raise AttributeError("FrozenMap is read-only")

    def __repr__(self) -> str:
        return repr(self._data)


@dataclass(frozen=True)
class Option:
    """One answer option: stable ``id`` and French ``label``.

    ``exclusive`` marks a multiple-choice option that cannot be ticked with
    another one ("Aucun de ces outils").
    """

    id: str
    label: str
    exclusive: bool = False


@dataclass(frozen=True)
class Theme:
    """A thematic questionnaire (``wave`` 1–3) or the identification block (``wave`` 0)."""

    id: str
    label: str
    wave: int
    description: str

    @property
    def questionnaire(self) -> bool:
        """True for the nine thematic questionnaires, False for ``profil``."""
        return self.wave > 0


@dataclass(frozen=True)
class Wave:
    """A collection wave: dates and published number of responses."""

    number: int
    start: dt.date
    end: dt.date
    responses: int

    @property
    def label(self) -> str:
        """French label, e.g. ``"Vague 1 (01/11/2023 – 07/02/2024)"``."""
        return f"Vague {self.number} ({self.start:%d/%m/%Y} – {self.end:%d/%m/%Y})"


@dataclass(frozen=True)
class Edition:
    """The edition of the barometer described by the catalogue."""

    id: str
    number: int
    name: str
    title: str
    organisers: tuple[str, ...]
    programme: str
    total_responses: int
    waves: tuple[Wave, ...]
    notes: tuple[str, ...] = ()

    def wave(self, number: int) -> Wave:
        """Return a wave by number (error lists the valid numbers)."""
        for w in self.waves:
            if w.number == number:
                return w
        valid = ", ".join(str(w.number) for w in self.waves)
        raise UnknownValueError(f"Unknown wave {number!r}. Valid waves: {valid}.")


@dataclass(frozen=True)
class Published:
    """National figures published for an indicator (none is weighted).

    Attributes
    ----------
    value : float or None
        Headline figure: a share in 0–1 (``share``, ``distribution``) or a mean
        in % (``mean``).
    options : Mapping[str, float]
        Published shares (0–1) of single options among valid answers, e.g.
        ``{"non": 0.66}`` for "66 % without a PCA", or the per-option shares of
        a multiple-choice question.
    by_kind : Mapping[str, float]
        Headline figure per kind of respondent (``commune``, ``region``…).
    precision : {"exact", "about", "below", "above"}
        ``about`` for "about one third", ``below`` for "under half".
    source : str
        Where the figure was published.
    """

    value: float | None
    options: Mapping[str, float]
    by_kind: Mapping[str, float]
    precision: Precision
    source: str


@dataclass(frozen=True)
class AskedIf:
    """Filter question: asked only to respondents who chose one of ``options`` of ``indicator``."""

    indicator: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class FreeText:
    """A free-text follow-up (kept as text, never turned into a figure)."""

    id: str
    question: str


@dataclass(frozen=True, repr=False)
class Indicator:
    """One indicator: a closed question and how it becomes a figure.

    Field meanings are in docs/contracts/survey.md ("Catalogue"). ``column`` is the
    column of the responses holding the answers (the id, except for profile
    items carried by ``kind`` and ``profile``).
    """

    id: str
    theme: str
    wave: int
    label: str
    question: str
    kind: Kind
    options: tuple[Option, ...]
    statistic: Statistic
    positive: tuple[str, ...]
    valid: tuple[str, ...]
    universe: Universe
    sensitive: bool
    levels: tuple[str, ...]
    unit: str
    published: Published | None
    source: str
    note: str | None = None
    asked_if: AskedIf | None = None
    free_text: FreeText | None = None
    column: str = ""

    @property
    def option_ids(self) -> tuple[str, ...]:
        """Ids of the options, in order."""
        return tuple(o.id for o in self.options)

    @property
    def order(self) -> tuple[str, ...]:
        """Substantive options of a ``scale`` from lowest to highest (else empty)."""
        if self.kind != "scale":
            return ()
        return tuple(o for o in self.option_ids if o not in NON_SUBSTANTIVE)

    @property
    def universe_kinds(self) -> tuple[str, ...]:
        """Respondent kinds asked this question."""
        return UNIVERSES[self.universe]

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns of the responses table: one, or ``"{column}.{option}"`` per option."""
        if self.kind == "multiple_choice":
            return tuple(f"{self.column}.{o}" for o in self.option_ids)
        return (self.column,)

    def option(self, option_id: str) -> Option:
        """Return one option by id (error lists the valid ids)."""
        for o in self.options:
            if o.id == option_id:
                return o
        raise UnknownValueError(
            f"Indicator {self.id!r} has no option {option_id!r}. "
            f"Valid options: {', '.join(self.option_ids) or '(none: a percentage)'}."
        )

    def __repr__(self) -> str:
        flag = ", sensitive" if self.sensitive else ""
        return (
            f"Indicator({self.id!r}, wave={self.wave}, kind={self.kind!r}, "
            f"statistic={self.statistic!r}{flag}, label={self.label!r})"
        )


@dataclass(frozen=True)
class ReportItem:
    """A result of the study report (chart, list, figure or text) and its indicators."""

    title: str
    section: str
    kind: ReportItemKind
    indicators: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True, repr=False, eq=False)
class Catalogue:
    """The edition, its themes, indicators and report items.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> cat = bg.load_catalogue()
    >>> cat.get("cyber_pca").published.options["non"]
    0.66
    >>> [t.id for t in cat.themes if t.wave == 2]
    ['infra', 'outils', 'donnees']
    >>> len(cat.filter(theme="cyber", sensitive=True)) > 0
    True
    """

    edition: Edition
    themes: tuple[Theme, ...]
    indicators: tuple[Indicator, ...]
    report_items: tuple[ReportItem, ...] = ()
    path: str = ""
    _by_id: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_id", {i.id: i for i in self.indicators})

    # ------------------------------------------------------------------ access
    def get(self, indicator_id: str) -> Indicator:
        """Return an indicator by id; an unknown id lists the close or valid ids.

        Examples
        --------
        >>> import barometre_geo as bg
        >>> bg.load_catalogue().get("demat_bulletins_paie").published.value
        0.22
        """
        try:
            return self._by_id[indicator_id]
        except (KeyError, TypeError):
            pass
        ids = list(self._by_id)
        close = difflib.get_close_matches(str(indicator_id), ids, n=5, cutoff=0.6)
        hint = f"Did you mean: {', '.join(close)}?" if close else f"Valid ids: {', '.join(ids)}."
        raise UnknownValueError(
            f"Unknown indicator {indicator_id!r}. {hint} "
            "List them with load_catalogue().to_frame()['id']."
        )

    def theme(self, theme_id: str) -> Theme:
        """Return a theme by id; an unknown id lists the valid ones."""
        for t in self.themes:
            if t.id == theme_id:
                return t
        valid = ", ".join(t.id for t in self.themes)
        raise UnknownValueError(f"Unknown theme {theme_id!r}. Valid themes: {valid}.")

    @property
    def questionnaires(self) -> tuple[Theme, ...]:
        """The thematic questionnaires (themes of waves 1 and more)."""
        return tuple(t for t in self.themes if t.questionnaire)

    def filter(
        self,
        *,
        theme: str | Iterable[str] | None = None,
        wave: int | Iterable[int] | None = None,
        sensitive: bool | None = None,
    ) -> Catalogue:
        """Return the catalogue restricted to some themes, waves or sensitivity.

        Parameters
        ----------
        theme : str or list of str, optional
            Theme ids (``"cyber"``…); unknown ids raise with the valid list.
        wave : int or list of int, optional
            Waves (0 is the identification block asked in every wave).
        sensitive : bool, optional
            Keep only sensitive (True) or non-sensitive (False) indicators.

        Examples
        --------
        >>> import barometre_geo as bg
        >>> sorted({i.theme for i in bg.load_catalogue().filter(wave=1)})
        ['communication', 'cyber', 'inclusion']
        """
        keep = list(self.indicators)
        if theme is not None:
            wanted = {theme} if isinstance(theme, str) else set(theme)
            for t in wanted:
                self.theme(t)
            keep = [i for i in keep if i.theme in wanted]
        if wave is not None:
            waves = {wave} if isinstance(wave, int) else set(wave)
            valid = sorted({t.wave for t in self.themes})
            bad = sorted(str(w) for w in waves if w not in valid)
            if bad:
                raise UnknownValueError(
                    f"Unknown wave {', '.join(bad)}. Valid waves: "
                    f"{', '.join(map(str, valid))} (0 is the identification block)."
                )
            keep = [i for i in keep if i.wave in waves]
        if sensitive is not None:
            if not isinstance(sensitive, bool):
                raise UnknownValueError(
                    f"sensitive must be True, False or None, not {sensitive!r}."
                )
            keep = [i for i in keep if i.sensitive is sensitive]
        ids = {i.id for i in keep}
        items = tuple(r for r in self.report_items if ids.intersection(r.indicators))
        return Catalogue(self.edition, self.themes, tuple(keep), items, self.path)

    def to_frame(self):
        """Return one row per indicator as a :class:`pandas.DataFrame`.

        Examples
        --------
        >>> import barometre_geo as bg
        >>> df = bg.load_catalogue().to_frame()
        >>> df.loc[df["id"] == "infra_saas", "published_value"].item()
        0.39
        """
        import pandas as pd

        labels = {t.id: t.label for t in self.themes}
        rows = [
            {
                "id": i.id,
                "theme": i.theme,
                "theme_label": labels[i.theme],
                "wave": i.wave,
                "label": i.label,
                "question": i.question,
                "kind": i.kind,
                "statistic": i.statistic,
                "options": i.option_ids,
                "positive": i.positive,
                "valid": i.valid,
                "universe": i.universe,
                "sensitive": i.sensitive,
                "levels": i.levels,
                "unit": i.unit,
                "published_value": i.published.value if i.published else None,
                "published_options": dict(i.published.options) if i.published else {},
                "asked_if": i.asked_if.indicator if i.asked_if else None,
                "column": i.column,
                "source": i.source,
                "note": i.note,
            }
            for i in self.indicators
        ]
        df = pd.DataFrame(rows)
        df["wave"] = df["wave"].astype("int64")
        df["published_value"] = df["published_value"].astype("float64")
        return df

    # ------------------------------------------------------------------ protocol
    def __len__(self) -> int:
        return len(self.indicators)

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self.indicators)

    def __contains__(self, item) -> bool:
        key = item.id if isinstance(item, Indicator) else item
        return key in self._by_id

    def __repr__(self) -> str:
        n_q = len(self.questionnaires)
        n_w = len(self.edition.waves)
        n_s = sum(i.sensitive for i in self.indicators)
        return (
            f"<Catalogue {self.edition.name} {self.edition.id}: {len(self)} indicators "
            f"({n_s} sensitive), {n_q} questionnaires in {n_w} waves + profile>"
        )

    def _repr_html_(self) -> str:
        from .html import catalogue_html

        return catalogue_html(self)
