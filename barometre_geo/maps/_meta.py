"""What the maps, the GeoPackage and the static map say about an indicator and its sources.

:func:`indicator_context` checks the indicator against the aggregates table
and the catalogue once, and gathers what the GeoPackage and the static map
print or store: the catalogue entry, the number format, the suppression
thresholds, the survey edition and whether its data are synthetic.
:func:`map_context` gives the HTML map the same number format and legend
threshold, leniently (an indicator outside the catalogue, e.g. an analyst's
own column, gets the table's ``statistic`` and the defaults).
:func:`reference_text` and :func:`survey_text` are the French source lines.

Thresholds, edition and the synthetic flag are read, in this order, from the
arguments, from ``aggregates.attrs["barometre_geo"]`` (where
:func:`~barometre_geo.aggregate.aggregate` records ``k``, ``k_sensitive``,
``mode`` and the weights), then from defaults (``k`` 5, ``k_sensitive`` 10,
the catalogue's edition). An unknown synthetic flag is said to be unknown,
never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._format import NumberFormat
from ..errors import InputFileError, SchemaError, UnknownValueError
from ..territories.reference import LEVELS, parse_level
from ._data import value_format

__all__ = [
    "COUNT_REASONS",
    "IndicatorContext",
    "MapContext",
    "check_output",
    "indicator_context",
    "map_context",
    "published_levels",
    "reference_text",
    "suppressed_label",
]

_DEFAULT_K, _DEFAULT_K_SENSITIVE = 5, 10

#: Reasons that are the count itself: only cells hidden for them may be labelled
#: "too few answers" (``protection.SUPPRESSION_REASONS``).
COUNT_REASONS = ("small_n",)
#: Label of hidden cells whose reason is not (only) the count.
SECRET_LABEL = "Secret statistique"


def suppressed_label(threshold: int, *, sensitive: bool, reasons) -> str:
    """Legend label of the hidden territories of a map, true of every one of them.

    « Effectif insuffisant (moins de k réponses) » only when every hidden cell
    of a non-sensitive indicator was hidden for its count (``small_n``);
    else « Secret statistique »: a complementary cell may hold many answers,
    and for a sensitive indicator the reason itself is not published (17 of
    the 35 hidden sensitive cells of one map had 10 respondents or more).

    Examples
    --------
    >>> suppressed_label(5, sensitive=False, reasons={"small_n"})
    'Effectif insuffisant (moins de 5 réponses)'
    >>> suppressed_label(5, sensitive=False, reasons={"small_n", "complementary"})
    'Secret statistique'
    >>> suppressed_label(10, sensitive=True, reasons={"small_n_sensitive"})
    'Secret statistique'
    """
    reasons = {str(r) for r in reasons if r is not None and r == r}
    if not sensitive and reasons and reasons <= set(COUNT_REASONS):
        plural = "réponse" if threshold <= 1 else "réponses"
        return f"Effectif insuffisant (moins de {threshold} {plural})"
    return SECRET_LABEL


def hidden_reasons(rows: pd.DataFrame) -> frozenset:
    """Reason codes of the suppressed rows of a table (empty if it has no ``reason``)."""
    if rows is None or "reason" not in rows or "suppressed" not in rows:
        return frozenset({"unknown"})  # unknown reasons: never claim "too few answers"
    sup = rows["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return frozenset(rows.loc[sup, "reason"].dropna().astype(str))


@dataclass(frozen=True)
class IndicatorContext:
    """An indicator checked against the table and the catalogue (see module docstring)."""

    indicator: object  # barometre_geo.catalogue.Indicator
    catalogue: object
    fmt: NumberFormat
    k: int
    k_sensitive: int
    edition: str
    synthetic: bool | None
    mode: str
    weights: str
    reasons: frozenset = frozenset({"unknown"})

    @property
    def threshold(self) -> int:
        """Minimum number of answers of a published cell of this indicator."""
        return self.k_sensitive if self.indicator.sensitive else self.k

    @property
    def suppressed_label(self) -> str:
        """Legend label of the suppressed cells (the HTML map's, :func:`suppressed_label`)."""
        return suppressed_label(
            self.threshold, sensitive=bool(self.indicator.sensitive), reasons=self.reasons
        )

    @property
    def synthetic_text(self) -> str:
        """``oui``, ``non`` or ``non précisé``."""
        return {True: "oui", False: "non"}.get(self.synthetic, "non précisé")

    def survey_text(self) -> str:
        """French source line of the survey figures."""
        ed = self.catalogue.edition
        organisers = ", ".join(ed.organisers)
        text = f"Source : {ed.name} ({organisers}), édition {self.edition}"
        if self.synthetic:
            text += " — DONNÉES SYNTHÉTIQUES (démonstration, pas des résultats réels)"
        return text + "."


def _attrs(aggregates: pd.DataFrame) -> dict:
    meta = aggregates.attrs.get("barometre_geo", {}) if hasattr(aggregates, "attrs") else {}
    return meta if isinstance(meta, dict) else {}


def _thresholds(aggregates: pd.DataFrame, k: int | None, k_sensitive: int | None):
    """``k`` and ``k_sensitive``: arguments, else the table's attrs, else 5 and 10."""
    meta = _attrs(aggregates)
    k = int(k if k is not None else meta.get("k", _DEFAULT_K))
    k_sensitive = int(
        k_sensitive if k_sensitive is not None else meta.get("k_sensitive", _DEFAULT_K_SENSITIVE)
    )
    return k, max(k, k_sensitive)


@dataclass(frozen=True)
class MapContext:
    """Number format and legend threshold of an indicator's HTML map (:func:`map_context`)."""

    indicator: object | None  # the catalogue entry, None outside the catalogue
    fmt: NumberFormat
    threshold: int
    sensitive: bool
    reasons: frozenset = frozenset({"unknown"})

    @property
    def suppressed_label(self) -> str:
        """Legend label of the hidden territories (:func:`suppressed_label`)."""
        return suppressed_label(self.threshold, sensitive=self.sensitive, reasons=self.reasons)

    @property
    def label(self) -> str | None:
        """The catalogue's label of the indicator (None outside the catalogue)."""
        return getattr(self.indicator, "label", None)


_SENSITIVE_REASONS = ("sensitive_level", "small_n_sensitive")


def map_context(
    aggregates: pd.DataFrame,
    indicator: str,
    *,
    catalogue=None,
    fmt: NumberFormat | None = None,
    min_n: int | None = None,
) -> MapContext:
    """Return the number format and suppression threshold of an indicator, as elsewhere.

    In this order: the arguments; the catalogue entry (``statistic``,
    ``unit``, ``sensitive``) with the thresholds of
    ``aggregates.attrs["barometre_geo"]`` (``k``, or ``k_sensitive`` for a
    sensitive indicator), as :func:`indicator_context`; for an indicator
    outside the catalogue, the table's ``statistic`` column (``mean`` → a
    number without unit) and its suppression reasons (a ``*sensitive*`` reason
    → ``k_sensitive``); then shares and ``k``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"indicator": ["cyber_pca"]})
    >>> t.attrs["barometre_geo"] = {"k": 5, "k_sensitive": 12}
    >>> c = map_context(t, "cyber_pca")
    >>> c.threshold, c.sensitive, c.fmt.format(0.5)
    (12, True, '50 %')
    >>> map_context(t, "my_column").threshold
    5
    """
    if catalogue is None:
        from ..survey.catalogue import load_catalogue

        catalogue = load_catalogue()
    entry = catalogue.get(indicator) if indicator in catalogue else None
    k, k_sensitive = _thresholds(aggregates, None, None)
    rows = aggregates[aggregates["indicator"] == indicator] if "indicator" in aggregates else None
    if entry is not None:
        sensitive = bool(entry.sensitive)
        default_fmt = value_format(entry)
    else:
        reasons = set()
        if rows is not None and "reason" in rows:
            reasons = set(rows["reason"].dropna().astype(str))
        sensitive = bool(reasons & set(_SENSITIVE_REASONS))
        stats = set()
        if rows is not None and "statistic" in rows:
            stats = set(rows["statistic"].dropna().astype(str))
        mean = stats == {"mean"}
        default_fmt = NumberFormat(share=False, decimals=1, unit="") if mean else None
    return MapContext(
        indicator=entry,
        fmt=fmt or default_fmt or NumberFormat.for_share(),
        threshold=int(min_n) if min_n is not None else (k_sensitive if sensitive else k),
        sensitive=sensitive,
        reasons=hidden_reasons(rows),
    )


def check_output(out_dir, path, *, what: str, kind: str) -> Path | None:
    """Check that exactly one of ``out_dir``/``path`` is given, and ``path``'s folder exists.

    Raises
    ------
    SchemaError
        Both or neither given.
    InputFileError
        The folder of ``path`` does not exist.
    """
    if (out_dir is None) == (path is None):
        raise SchemaError(
            f"{what}: pass exactly one of out_dir= (a folder: the file is named after the "
            f"indicator) or path= ({kind})."
        )
    if path is None:
        return None
    path = Path(path)
    if not path.parent.is_dir():
        raise InputFileError(
            f"{path.parent}: no such folder. Create it first (mkdir -p {path.parent})."
        )
    return path


def indicator_context(
    aggregates: pd.DataFrame,
    territories,
    *,
    indicator: str,
    catalogue=None,
    edition: str | None = None,
    synthetic: bool | None = None,
    k: int | None = None,
    k_sensitive: int | None = None,
    fmt: NumberFormat | None = None,
    what: str,
) -> IndicatorContext:
    """Check ``indicator`` and gather the context of its outputs.

    Raises
    ------
    SchemaError
        ``aggregates`` is not a table with an ``indicator`` column, or
        ``territories`` is not a :class:`~barometre_geo.Territories`.
    UnknownValueError
        The indicator has no row in the table (the message lists those that
        have), or is not in the catalogue (close ids listed).
    """
    if not isinstance(aggregates, pd.DataFrame) or "indicator" not in aggregates.columns:
        raise SchemaError(
            f"{what}: expected the aggregates table (a DataFrame with an 'indicator' column, "
            f"contract in docs/contracts/indicators.md), got {type(aggregates).__name__}. "
            "Pass the output of barometre_geo.aggregate()."
        )
    present = sorted(set(aggregates["indicator"].dropna().astype(str)))
    if indicator not in present:
        listed = ", ".join(present[:20]) + (" …" if len(present) > 20 else "")
        raise UnknownValueError(
            f"{what}: indicator {indicator!r} has no row in the aggregates table. "
            f"Valid indicators: {listed or '(none: the table is empty)'}. "
            "Aggregate it first: aggregate(responses, indicators=[...])."
        )
    if not hasattr(territories, "level"):
        raise SchemaError(
            f"{what} needs the Territories the aggregates were computed with (every level, "
            f"the zones and the provenance), got {type(territories).__name__}. Pass "
            "barometre_geo.load_territories()."
        )
    if catalogue is None:
        from ..survey.catalogue import load_catalogue

        catalogue = load_catalogue()
    ind = catalogue.get(indicator)  # UnknownValueError with the closest ids
    meta = _attrs(aggregates)
    k, k_sensitive = _thresholds(aggregates, k, k_sensitive)
    if synthetic is None and isinstance(meta.get("synthetic"), bool):
        synthetic = meta["synthetic"]
    return IndicatorContext(
        indicator=ind,
        catalogue=catalogue,
        fmt=fmt or value_format(ind),
        k=k,
        k_sensitive=k_sensitive,
        edition=str(edition or meta.get("edition") or catalogue.edition.id),
        synthetic=synthetic,
        mode=str(meta.get("mode", "public")),
        weights=str(meta.get("weights", "non précisé")),
        reasons=hidden_reasons(aggregates[aggregates["indicator"] == indicator]),
    )


def published_levels(
    aggregates: pd.DataFrame, ctx: IndicatorContext, levels: Sequence[str] | None, *, what: str
) -> list[str]:
    """Territorial levels to write: asked (or all published ones) with rows in the table.

    Raises
    ------
    UnknownValueError
        A level unknown, or where the indicator is never published (sensitive…).
    SchemaError
        An asked level without rows, or no published level with rows.
    """
    ind = ctx.indicator
    allowed = tuple(lv for lv in LEVELS if lv in ind.levels)
    rows = aggregates[aggregates["indicator"] == ind.id]
    have = set(rows["level"].dropna().astype(str))
    if levels is None:
        out = [lv for lv in allowed if lv in have]
        if not out:
            raise SchemaError(
                f"{what}: indicator {ind.id!r} has no row at any level where it is published "
                f"({', '.join(allowed)}); the table has {', '.join(sorted(have)) or 'none'}. "
                f"Aggregate it at those levels: aggregate(responses, level={list(allowed)})."
            )
        return out
    out = []
    for item in [levels] if isinstance(levels, str) else levels:
        lv = parse_level(item)  # UnknownValueError listing the four levels
        if lv not in allowed:
            why = " (sensitive indicator)" if ind.sensitive else ""
            raise UnknownValueError(
                f"{what}: indicator {ind.id!r} is not published at level {lv!r}{why}. "
                f"Valid levels for it: {', '.join(allowed) or 'france only'}."
            )
        if lv not in have:
            raise SchemaError(
                f"{what}: the aggregates table has no row of {ind.id!r} at level {lv!r}. "
                f"Aggregate at that level: aggregate(responses, level=[{lv!r}, ...])."
            )
        if lv not in out:
            out.append(lv)
    return out


def reference_text(territories) -> str:
    """French source line of the territorial reference (contours).

    Examples
    --------
    >>> import barometre_geo as bg
    >>> reference_text(bg.load_territories())[:47]
    'Contours : COG 2025 (INSEE), IGN ADMIN EXPRESS '
    """
    cog = getattr(territories, "cog", "")
    source = str(getattr(territories, "source", ""))
    via = "référentiel embarqué de barometre-geo" if source == "embedded" else Path(source).name
    return f"Contours : COG {cog} (INSEE), IGN ADMIN EXPRESS (Licence Ouverte 2.0), via {via}."
