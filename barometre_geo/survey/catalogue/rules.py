"""The rules of the indicator catalogue, checked in one place.

:func:`read_catalogue` turns a catalogue YAML file into a
:class:`~barometre_geo.catalogue.Catalogue`, checking every entry: ids,
themes and waves, options and option sets, statistic against answer kind,
positive ⊆ valid ⊆ options, universes and publication levels (a sensitive
indicator is never published where it would point at one collectivity),
published figures in range, filter questions and report items.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from ...errors import SchemaError, UnknownValueError
from .model import (
    AskedIf,
    Catalogue,
    Edition,
    FreeText,
    FrozenMap,
    Indicator,
    Option,
    Published,
    ReportItem,
    Theme,
    Wave,
)
from .vocabulary import (
    KINDS,
    NON_SUBSTANTIVE,
    PUBLISH_LEVELS,
    RESPONDENT_KINDS,
    STATISTICS,
    STATISTICS_BY_KIND,
    UNIVERSES,
    YES_NO_OPTIONS,
)
from .yamlfile import Entry as _Entry
from .yamlfile import french_typography, parse_yaml

__all__ = ["FORMAT", "read_catalogue"]

#: Version of the catalogue file format this code reads.
FORMAT = 1
_TOP = ("format", "edition", "option_sets", "themes", "indicators", "report_items")
_EDITION = ("id", "number", "name", "title", "organisers", "programme", "total_responses")
_EDITION += ("waves", "notes")
_WAVE = ("number", "start", "end", "responses")
_THEME = ("id", "wave", "label", "description")
_OPTION = ("id", "label", "exclusive")
_INDICATOR = ("id", "theme", "wave", "label", "question", "kind", "options", "statistic")
_INDICATOR += ("positive", "valid", "universe", "sensitive", "levels", "unit", "published")
_INDICATOR += ("source", "note", "asked_if", "free_text", "column")
_PUBLISHED = ("value", "options", "by_kind", "precision", "source")
_PRECISIONS = ("exact", "about", "below", "above")
_REPORT_KINDS = ("chart", "list", "figure", "text")
_OWN_LEVEL = {"communes": "commune", "epci": "epci", "departements": "departement"}
_OWN_LEVEL |= {"regions": "region"}


# --------------------------------------------------------------------------- sections
def _edition(path: Path, node: Any) -> Edition:
    e = _Entry(path, node, "edition", _EDITION)
    waves = []
    for k, raw in enumerate(e.get("waves", "list")):
        w = _Entry(path, raw, f"edition wave #{k + 1}", _WAVE)
        wave = Wave(
            w.get("number", "int"),
            w.get("start", "date"),
            w.get("end", "date"),
            w.get("responses", "int"),
        )
        if wave.number != k + 1:
            w.fail(
                "number",
                f"wave number {wave.number} at position {k + 1}",
                "Number the waves 1, 2, 3… in order.",
            )
        if wave.end < wave.start:
            w.fail(
                "end",
                f"ends ({wave.end}) before it starts ({wave.start})",
                "Swap or correct the dates.",
            )
        if wave.responses < 0:
            w.fail("responses", f"negative count {wave.responses}", "Give the published count.")
        waves.append(wave)
    if not waves:
        e.fail("waves", "no wave", "List at least one wave with its dates and responses.")
    total = e.get("total_responses", "int")
    if total < 0:
        e.fail("total_responses", f"negative count {total}", "Give the published total.")
    organisers = e.get("organisers", "list")
    notes = e.get("notes", "list", [])
    for field, values in (("organisers", organisers), ("notes", notes)):
        if not all(isinstance(v, str) and v.strip() for v in values):
            e.fail(field, "every item must be a non-empty text", "Quote each item.")
    return Edition(
        id=str(e.get("id", "text")),
        number=e.get("number", "int"),
        name=e.text("name"),
        title=e.text("title"),
        organisers=tuple(french_typography(o) for o in organisers),
        programme=e.text("programme"),
        total_responses=total,
        waves=tuple(waves),
        notes=tuple(french_typography(n) for n in notes),
    )


def _options(path: Path, raw: Any, owner: str) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not raw:
        raise SchemaError(
            f"{path}, line {getattr(raw, 'line', '?')}, {owner}: options must be a non-empty "
            'list of {id, label}. Write `- {id: oui, label: "Oui"}` lines, or the name '
            "of an option set."
        )
    out, seen = [], set()
    for k, item in enumerate(raw):
        o = _Entry(path, item, f"{owner}, option #{k + 1}", _OPTION)
        oid = o.identifier()
        if oid in seen:
            o.fail("id", f"option {oid!r} appears twice", "Give each option its own id.")
        seen.add(oid)
        out.append(Option(oid, o.text("label"), o.get("exclusive", "bool", False)))
    return tuple(out)


def _themes(path: Path, raw: Any, waves: tuple[Wave, ...]) -> tuple[Theme, ...]:
    if not isinstance(raw, list) or not raw:
        raise SchemaError(f"{path}: themes must be a non-empty list. List the questionnaires.")
    valid_waves = (0, *(w.number for w in waves))
    out: dict[str, Theme] = {}
    for k, item in enumerate(raw):
        t = _Entry(path, item, f"theme #{k + 1}", _THEME)
        tid = t.identifier()
        t.name = f"theme {tid!r}"
        if tid in out:
            t.fail("id", f"theme {tid!r} is defined twice", "Merge or rename one of them.")
        wave = t.get("wave", "int")
        if wave not in valid_waves:
            t.fail(
                "wave",
                f"wave {wave} is not a wave of the edition",
                f"Use one of {', '.join(map(str, valid_waves))} (0: identification block).",
                UnknownValueError,
            )
        out[tid] = Theme(tid, t.text("label"), wave, t.text("description"))
    empty = [w.number for w in waves if not any(t.wave == w.number for t in out.values())]
    if empty:
        raise SchemaError(
            f"{path}: edition wave {empty[0]} has no theme. Give each wave its "
            "questionnaires (theme `wave:` field) or remove the wave."
        )
    return tuple(out.values())


def _default_levels(universe: str, sensitive: bool) -> tuple[str, ...]:
    out = [lv for lv in PUBLISH_LEVELS if _level_fits(lv, universe)]
    if sensitive:
        out = [lv for lv in out if lv not in ("commune", "epci", _OWN_LEVEL.get(universe))]
    return tuple(out)


def _level_fits(level: str, universe: str) -> bool:
    kinds = set(UNIVERSES[universe])
    if level == "commune":
        return "commune" in kinds
    if level == "epci":
        return bool(kinds & {"commune", "epci"})
    return True


def _published(path: Path, raw: Any, owner: str, ind: dict) -> Published:
    p = _Entry(path, raw, f"{owner}, published", _PUBLISHED)
    stat = ind["statistic"]
    top = 100.0 if stat == "mean" else 1.0
    unit = "a mean in % (0 to 100)" if stat == "mean" else "a share between 0 and 1"
    value = p.get("value", "number", None)
    if value is not None and stat == "share_per_option":
        p.fail(
            "value",
            "a multiple-choice indicator has no headline figure",
            "Publish per-option shares under `options: {option_id: share}`.",
        )
    if value is not None and not 0 <= value <= top:
        p.fail("value", f"{value} is out of range", f"Write {unit} (26 % is 0.26).")
    options = p.get("options", "map", {})
    if options and stat == "mean":
        p.fail("options", "a mean has no per-option figure", "Remove `options`.")
    p.subset("options", options, ind["valid"], "the valid options of the indicator")
    for key, share in options.items():
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            p.fail(
                "options",
                f"share {share!r} of option {key!r} is not in 0–1",
                "Write shares between 0 and 1 (26 % is 0.26).",
            )
    if ind["kind"] != "multiple_choice" and sum(options.values()) > 1 + 1e-9:
        p.fail(
            "options",
            f"shares of a single-answer question add up to {sum(options.values()):.3f} > 1",
            "Check the published figures.",
        )
    by_kind = p.get("by_kind", "map", {})
    if by_kind and stat == "share_per_option":
        p.fail("by_kind", "per-kind figures need a headline figure", "Remove `by_kind`.")
    p.subset("by_kind", by_kind, RESPONDENT_KINDS, "the respondent kinds")
    for key, v in by_kind.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= top:
            p.fail("by_kind", f"figure {v!r} for {key!r} is out of range", f"Write {unit}.")
    if value is None and not options and not by_kind:
        p.fail(None, "no figure", "Give `value`, `options` or `by_kind`, or drop `published`.")
    return Published(
        value=float(value) if value is not None else None,
        options=FrozenMap((k, float(v)) for k, v in options.items()),
        by_kind=FrozenMap((k, float(v)) for k, v in by_kind.items()),
        precision=p.choice("precision", _PRECISIONS, "exact"),
        source=p.text("source"),
    )


def _indicator(path, item, k, themes, option_sets, done) -> Indicator:
    e = _Entry(path, item, f"indicator #{k + 1}", _INDICATOR)
    iid = e.identifier()
    e.name = f"indicator {iid!r}"
    if iid in done:
        e.fail(
            "id",
            "the id is used twice",
            "Ids are stable references: rename the new entry, never the old one.",
        )
    theme_id = e.choice("theme", tuple(themes))
    theme = themes[theme_id]
    if not iid.startswith(theme.id + "_"):
        e.fail(
            "id",
            f"id {iid!r} does not start with its theme {theme.id!r}",
            f"Rename it {theme.id}_… (ids are prefixed by their theme).",
        )
    wave = e.get("wave", "int")
    if wave != theme.wave:
        e.fail(
            "wave",
            f"wave {wave} but theme {theme.id!r} belongs to wave {theme.wave}",
            f"Set `wave: {theme.wave}` or move the indicator to a theme of wave {wave}.",
        )
    kind = e.choice("kind", KINDS)
    if kind == "percentage":
        if e.has("options"):
            e.fail("options", "a percentage question has no options", "Remove `options`.")
        options: tuple[Option, ...] = ()
    else:
        raw = e.node.get("options")
        if isinstance(raw, str):
            if raw not in option_sets:
                sets = ", ".join(option_sets) or "(none defined)"
                e.fail(
                    "options",
                    f"unknown option set {raw!r}",
                    f"Valid option sets: {sets}.",
                    UnknownValueError,
                )
            options = option_sets[raw]
        elif isinstance(raw, list) and raw:
            options = _options(path, raw, e.name)
        else:
            e.fail(
                "options",
                f"a {kind!r} question needs options, got {raw!r}",
                "Give a list of {id, label} or the name of an option set.",
            )
    ids = tuple(o.id for o in options)
    if kind == "yes_no":
        e.subset("options", ids, YES_NO_OPTIONS, "the yes/no options")
        missing = [x for x in ("oui", "non", "sans_reponse") if x not in ids]
        if missing:
            e.fail(
                "options",
                f"a yes/no question lacks {', '.join(missing)}",
                "Use the option set oui_non or oui_non_nsp.",
            )
    if kind == "multiple_choice" and "sans_reponse" in ids:
        e.fail(
            "options",
            "a multiple-choice question has no 'sans_reponse' option",
            "Remove it: a question left blank is NA on every option.",
        )
    if kind != "multiple_choice" and any(o.exclusive for o in options):
        e.fail(
            "options",
            "`exclusive` only applies to multiple-choice options",
            "Remove `exclusive: true` (a single answer excludes the others anyway).",
        )
    if kind == "scale":
        substantive = [o for o in ids if o not in NON_SUBSTANTIVE]
        tail = ids[len(substantive) :]
        if len(substantive) < 2 or any(o not in NON_SUBSTANTIVE for o in tail):
            e.fail(
                "options",
                "a scale needs at least two ordered options, then the "
                f"non-substantive ones ({', '.join(NON_SUBSTANTIVE)}) last",
                "List the options from the lowest to the highest level.",
            )
    statistic = e.choice("statistic", STATISTICS)
    if statistic not in STATISTICS_BY_KIND[kind]:
        e.fail(
            "statistic",
            f"{statistic!r} does not fit a {kind!r} question",
            f"Use {' or '.join(STATISTICS_BY_KIND[kind])}.",
        )
    default_valid = tuple(o for o in ids if o != "sans_reponse")
    valid = e.ids("valid", default_valid)
    e.subset("valid", valid, ids, "the options of the indicator")
    if "sans_reponse" in valid or (options and not valid):
        e.fail(
            "valid",
            "the denominator must be non-empty and exclude 'sans_reponse'",
            "List the answers that count, or drop `valid` for the default.",
        )
    positive = e.ids("positive", ())
    if statistic == "share" and not positive:
        e.fail(
            "positive",
            "a share needs the options counted as positive",
            "Add e.g. `positive: [oui]`.",
        )
    if statistic in ("mean", "share_per_option") and positive:
        e.fail(
            "positive", f"a {statistic!r} statistic has no positive options", "Remove `positive`."
        )
    e.subset("positive", positive, valid, "the valid options (positive ⊆ valid)")
    universe = e.choice("universe", tuple(UNIVERSES), "all")
    sensitive = e.get("sensitive", "bool", False)
    levels = e.ids("levels", _default_levels(universe, sensitive))
    for lv in levels:
        if lv not in PUBLISH_LEVELS:
            e.fail(
                "levels",
                f"unknown level {lv!r}",
                f"Valid levels: {', '.join(PUBLISH_LEVELS)}.",
                UnknownValueError,
            )
        if not _level_fits(lv, universe):
            e.fail(
                "levels",
                f"level {lv!r} cannot be mapped for universe {universe!r}",
                "Remove it: no respondent of that universe sits at that level.",
            )
    if not levels:
        e.fail("levels", "no level", "List where it may be published, e.g. [region, france].")
    own = _OWN_LEVEL.get(universe)
    exposed = [lv for lv in levels if lv in ("commune", "epci") or lv == own]
    if sensitive and exposed:
        e.fail(
            "levels",
            f"a sensitive indicator may not be published at {exposed[0]!r} "
            "(it would point at single collectivities)",
            f"Use levels: [{', '.join(_default_levels(universe, True))}].",
        )
    asked_if = None
    if e.has("asked_if"):
        a = _Entry(path, e.get("asked_if", "map"), f"{e.name}, asked_if", ("indicator", "options"))
        ref = a.get("indicator", "text")
        if ref not in done:
            a.fail(
                "indicator",
                f"{ref!r} is not an indicator defined above this one",
                "Point at the filter question, defined earlier in the file.",
            )
        parent = done[ref]
        if parent.wave not in (0, wave):
            a.fail(
                "indicator",
                f"{ref!r} belongs to wave {parent.wave}, not {wave}",
                "A filter question must be asked in the same wave.",
            )
        when = a.ids("options")
        a.subset("options", when, parent.option_ids, f"the options of {ref!r}")
        if not when:
            a.fail("options", "no option", f"List the answers of {ref!r} that lead here.")
        asked_if = AskedIf(ref, when)
    free_text = None
    if e.has("free_text"):
        f = _Entry(path, e.get("free_text", "map"), f"{e.name}, free_text", ("id", "question"))
        fid = f.identifier()
        if not fid.startswith(theme.id + "_") or fid in done or fid == iid:
            f.fail(
                "id",
                f"free-text id {fid!r} must be new and start with {theme.id}_",
                f"Rename it, e.g. {iid}_texte.",
            )
        free_text = FreeText(fid, f.text("question"))
    column = e.get("column", "text", iid)
    used = {i.column: i.id for i in done.values()}
    used |= {i.free_text.id: i.id for i in done.values() if i.free_text}
    if column in used or iid in used:
        e.fail(
            "column" if e.has("column") else "id",
            f"column {column!r} is already used by {used.get(column, used.get(iid))!r}",
            "Give each indicator its own column.",
        )
    ind = {"statistic": statistic, "kind": kind, "valid": valid}
    published = (
        _published(path, e.get("published", "map"), e.name, ind) if e.has("published") else None
    )
    return Indicator(
        id=iid,
        theme=theme.id,
        wave=wave,
        label=e.text("label"),
        question=e.text("question"),
        kind=kind,
        options=options,
        statistic=statistic,
        positive=positive,
        valid=valid,
        universe=universe,
        sensitive=sensitive,
        levels=levels,
        unit=e.get("unit", "text", "%"),
        published=published,
        source=e.text("source"),
        note=e.text("note", None),
        asked_if=asked_if,
        free_text=free_text,
        column=column,
    )


def _report_items(path: Path, raw: Any, known: dict) -> tuple[ReportItem, ...]:
    out = []
    fields = ("title", "section", "kind", "indicators", "note")
    for k, item in enumerate(raw):
        r = _Entry(path, item, f"report item #{k + 1}", fields)
        title = r.text("title")
        r.name = f"report item #{k + 1} ({title[:40]!r})"
        ids = r.ids("indicators")
        if not ids:
            r.fail("indicators", "maps to no indicator", "List the indicators it shows.")
        for iid in ids:
            if iid not in known:
                close = difflib.get_close_matches(iid, list(known), n=3)
                hint = f"Did you mean: {', '.join(close)}? " if close else ""
                r.fail(
                    "indicators",
                    f"unknown indicator {iid!r}",
                    f"{hint}Use ids defined under `indicators`.",
                )
        out.append(
            ReportItem(
                title, r.text("section"), r.choice("kind", _REPORT_KINDS), ids, r.text("note", None)
            )
        )
    return tuple(out)


def read_catalogue(path: Path) -> Catalogue:
    """Parse and validate a catalogue file (see :func:`barometre_geo.load_catalogue`)."""
    data = parse_yaml(path)
    if data is None:
        raise SchemaError(
            f"{path}: the file is empty. Start from barometre_geo/data/catalogue.yaml."
        )
    top = _Entry(path, data, "top level", _TOP)
    version = top.get("format", "int", fix=f"Add `format: {FORMAT}` at the top.")
    if version != FORMAT:
        top.fail(
            "format",
            f"format {version} is not supported",
            f"This barometre-geo reads format {FORMAT}: upgrade it, or convert the file.",
        )
    edition = _edition(path, top.get("edition", "map"))
    themes = {t.id: t for t in _themes(path, top.get("themes", "list"), edition.waves)}
    option_sets = {}
    for name, raw in top.get("option_sets", "map", {}).items():
        option_sets[name] = _options(path, raw, f"option set {name!r}")
    indicators: dict[str, Indicator] = {}
    raw_indicators = top.get("indicators", "list")
    for k, item in enumerate(raw_indicators):
        ind = _indicator(path, item, k, themes, option_sets, indicators)
        indicators[ind.id] = ind
    if not indicators:
        top.fail("indicators", "no indicator", "List at least one indicator.")
    items = _report_items(path, top.get("report_items", "list"), indicators)
    return Catalogue(edition, tuple(themes.values()), tuple(indicators.values()), items, str(path))
