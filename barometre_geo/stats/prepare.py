"""Row-level preparation for :func:`barometre_geo.aggregate`.

Checks the geography of each response against the reference, gives it a unit
at every level, a group in every breakdown, and turns every indicator into
masks (respondent, valid answer) and measures (positive answer, option chosen,
value) — the inputs of :mod:`barometre_geo.stats.cells`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import SchemaError, UnknownValueError
from .strata import assign_strata, stratum_labels
from .units import GEO_LEVELS, Geo

__all__ = ["BUILTIN_BY", "Prepared", "by_groups", "indicator_measures", "prepare_rows"]

#: Breakdowns every Responses table supports (``strate`` is an alias of ``stratum``).
BUILTIN_BY: tuple[str, ...] = ("stratum", "profile", "type_label", "kind")
_BY_ALIASES = {"strate": "stratum", "strata": "stratum", "profil": "profile", "type": "type_label"}
#: Columns that are identifiers or geography, never breakdowns.
RESERVED = {
    "response_id",
    "edition",
    "wave",
    "submitted_at",
    "source_file",
    "source_line",
    "siren",
    "code",
    "level",
    "commune",
    "epci",
    "departement",
    "region",
    "population",
    "fonction",
}
# finest level at which each kind of respondent may carry a code
_FINEST = {"commune": 0, "epci": 1, "departement": 2, "region": 3, "syndicat": 2}
_KINDS = (
    "commune",
    "epci",
    "departement",
    "region",
    "collectivite_a_statut_particulier",
    "syndicat",
)


@dataclass
class Prepared:
    """Row-level arrays (length N)."""

    units: dict
    kind: np.ndarray
    commune_pop: np.ndarray
    population: np.ndarray
    without_territory: dict = field(default_factory=dict)


def _str(values) -> pd.Series:
    s = pd.Series(values).astype(object)
    return s.where(s.notna(), None)


def prepare_rows(data: pd.DataFrame, geo: Geo) -> Prepared:
    """Give each response its unit at every level, after checking its geography."""
    missing = [c for c in ("kind", "commune", "epci", "departement", "region") if c not in data]
    if missing:
        raise SchemaError(
            f"responses.data lacks the column(s) {missing} (territory codes and kind of each "
            "response, see docs/contracts/survey.md 'Responses'). Read the exports with "
            "barometre_geo.read_responses() or build test data with "
            "barometre_geo.testing.make_responses()."
        )
    kind = _str(data["kind"]).to_numpy(dtype=object)
    bad = sorted({str(k) for k in kind if k not in _KINDS})
    if bad:
        raise SchemaError(
            f"Unknown respondent kind(s) {bad[:5]} in responses.data['kind']. Valid kinds: "
            f"{', '.join(_KINDS)}. Fix the reader's mapping of the collectivity type."
        )
    ids = data["response_id"] if "response_id" in data else pd.Series(data.index, index=data.index)
    units: dict[str, np.ndarray] = {}
    for li, level in enumerate(("commune", "epci", "departement", "region")):
        codes = _str(data[level])
        finest = pd.Series(kind).map(_FINEST).to_numpy(dtype=float)
        too_fine = codes.notna().to_numpy() & (finest > li)
        if too_fine.any():
            i = int(np.flatnonzero(too_fine)[0])
            raise SchemaError(
                f"{int(too_fine.sum())} response(s) of a kind that does not count at {level} "
                f"level carry a {level} code (first: response {ids.iloc[i]!r}, kind "
                f"{kind[i]!r}, {level}={codes.iloc[i]!r}). A {kind[i]}'s answer counts at its "
                f"own level and above only: leave {level!r} empty for it."
            )
        idx = geo.index[level].get_indexer(codes.astype(object))
        unknown = codes.notna().to_numpy() & (idx < 0)
        if unknown.any():
            sample = sorted(set(codes[unknown].astype(str)))[:5]
            raise SchemaError(
                f"{int(unknown.sum())} response(s) have a {level} code absent from the territorial "
                f"reference (first: {sample}). Read the responses with the same territories as "
                f"aggregate() (territories=...), or fix the codes."
            )
        units[level] = idx.astype(np.int64)
    # the coarser codes must be those of the reference (they define the nesting)
    for fine, coarse in (
        ("commune", "epci"),
        ("commune", "departement"),
        ("departement", "region"),
    ):
        f, c = units[fine], units[coarse]
        expect = geo.up_strict[(fine, coarse)][np.maximum(f, 0)]
        wrong = (f >= 0) & (expect >= 0) & (c != expect)
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise SchemaError(
                f"{int(wrong.sum())} response(s) have a {coarse} code inconsistent with their "
                f"{fine} (first: response {ids.iloc[i]!r}, {fine} {geo.codes[fine][f[i]]} is in "
                f"{coarse} {geo.codes[coarse][expect[i]]}, not "
                f"{geo.codes[coarse][c[i]] if c[i] >= 0 else 'none'}). Derive the coarser codes "
                "from the reference."
            )
    e, d = units["epci"], units["departement"]
    seat = geo.up_seat[("epci", "departement")][np.maximum(e, 0)]
    wrong = (e >= 0) & (units["commune"] < 0) & (d >= 0) & (d != seat)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise SchemaError(
            f"{int(wrong.sum())} EPCI response(s) are attributed to another département than "
            f"the seat's (first: response {ids.iloc[i]!r}, EPCI {geo.codes['epci'][e[i]]}). "
            "An EPCI counts in the département and région of its seat: use the reference's "
            "epci['departement']."
        )
    reg = units["region"]
    units["zone"] = np.where(reg >= 0, geo.up_strict[("region", "zone")][np.maximum(reg, 0)], -1)
    units["france"] = np.zeros(len(data), dtype=np.int64)
    # population of each collectivity, from the reference where it has one
    com = units["commune"]
    commune_pop = np.where(
        (com >= 0) & (kind == "commune"), geo.population["commune"][np.maximum(com, 0)], 0.0
    )
    population = np.full(len(data), np.nan)
    if "population" in data:
        population = pd.to_numeric(data["population"], errors="coerce").to_numpy(dtype=float)
    epci_pop = geo.ref.loc[geo.ref["kind"] == "epci", "population"].to_numpy()
    is_c, is_e = (com >= 0) & (kind == "commune"), (e >= 0) & (kind == "epci")
    population = np.where(is_c, geo.population["commune"][np.maximum(com, 0)], population)
    population = np.where(is_e, epci_pop[np.maximum(e, 0)], population)
    nowhere = reg < 0
    without = pd.Series(kind[nowhere]).value_counts().to_dict()
    return Prepared(
        units=units,
        kind=kind,
        commune_pop=commune_pop,
        population=population,
        without_territory={str(k): int(v) for k, v in without.items()},
    )


# -------------------------------------------------------------------- breakdowns


def parse_by(by, data: pd.DataFrame, indicator_columns: set[str], *, what: str = "by") -> list[str]:
    """Validate the breakdowns: built-in names or categorical columns of the data.

    ``what``: the argument's name in the messages (``by``, ``earlier_by``).
    """
    if by is None:
        return []
    items = [by] if isinstance(by, str) else list(by)
    extra = sorted(
        c
        for c in data.columns
        if c not in RESERVED
        and c not in indicator_columns
        and c not in BUILTIN_BY
        and (
            isinstance(data[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(data[c])
            or pd.api.types.is_string_dtype(data[c])
            or data[c].dtype == object
        )
    )
    valid = [*BUILTIN_BY, *extra]
    out = []
    for item in items:
        name = _BY_ALIASES.get(str(item), str(item))
        if name not in valid:
            raise UnknownValueError(
                f"Unknown breakdown {what}={item!r}. Valid breakdowns: {', '.join(valid)} "
                "(a categorical column of responses.data may be used, e.g. a coverage column).",
                fr=f"Ventilation {what}={item!r} inconnue. Ventilations possibles : "
                f"{', '.join(valid)} (ou une colonne catégorielle de responses.data).",
            )
        if name != "stratum" and name not in data:
            raise SchemaError(
                f"Breakdown {what}={name!r} needs a {name!r} column in responses.data, which is "
                "absent. Add the column or choose another breakdown."
            )
        if name not in out:
            out.append(name)
    return out


def by_groups(
    name: str, data: pd.DataFrame, prep: Prepared, strata
) -> tuple[np.ndarray, list[str]]:
    """Group code of each response (−1: none) and the group labels."""
    if name == "stratum":
        cat = assign_strata(prep.population, strata)
        return np.asarray(cat.codes, dtype=np.int64), stratum_labels(strata)
    col = data[name]
    if name == "kind":
        labels = [k for k in _KINDS if (col == k).any()]
        values = _str(col)
    elif isinstance(col.dtype, pd.CategoricalDtype):
        labels = [str(c) for c in col.cat.categories]
        values = _str(col.astype(object).map(lambda v: None if pd.isna(v) else str(v)))
    else:
        values = _str(col.astype(object).map(lambda v: None if pd.isna(v) else str(v)))
        labels = sorted({v for v in values if v is not None})
    codes = pd.Index(labels).get_indexer(values.astype(object))
    return np.asarray(codes, dtype=np.int64), labels


# -------------------------------------------------------------------- indicators


@dataclass
class IndicatorPlan:
    """Masks and measures of one indicator."""

    id: str
    R: np.ndarray
    V: np.ndarray
    options: list  # option id or None (headline), one per measure
    values: list  # np.ndarray per measure, 0 where not valid
    is_mean: bool
    strict: bool
    sensitive: bool
    levels: tuple
    kinds: tuple


def _dedup_latest(data: pd.DataFrame) -> np.ndarray:
    """Mask keeping one response per collectivity (the latest) for every-wave questions."""
    n = len(data)
    if "siren" in data:
        key = _str(data["siren"])
    else:
        key = pd.Series([None] * n, dtype=object)
    if "code" in data:
        alt = _str(data["kind"]).astype(str) + ":" + _str(data["code"]).astype(str)
        key = key.where(key.notna(), alt.where(_str(data["code"]).notna(), None))
    key = key.where(key.notna(), pd.Series([f"#row{i}" for i in range(n)], dtype=object))
    order = (
        pd.to_datetime(data["submitted_at"], errors="coerce").to_numpy()
        if "submitted_at" in data
        else np.arange(n)
    )
    frame = pd.DataFrame({"key": key.to_numpy(), "order": order, "pos": np.arange(n)})
    keep = frame.sort_values(["order", "pos"], na_position="first").drop_duplicates(
        "key", keep="last"
    )["pos"]
    mask = np.zeros(n, dtype=bool)
    mask[keep.to_numpy()] = True
    return mask


def indicator_measures(
    ind, data: pd.DataFrame, kind: np.ndarray, *, options: bool, dedup: np.ndarray | None
) -> IndicatorPlan:
    """Masks (respondent, valid) and measures of one catalogue indicator."""
    len(data)
    R = np.isin(kind, list(ind.universe_kinds))
    if ind.wave > 0 and "wave" in data:
        R &= pd.to_numeric(data["wave"], errors="coerce").to_numpy() == ind.wave
    elif ind.wave == 0 and dedup is not None:
        R &= dedup
    column = ind.column or ind.id
    opts: list = []
    vals: list = []
    if ind.kind == "multiple_choice":
        cols = [f"{column}.{o}" for o in ind.option_ids]
        block = pd.DataFrame({c: data[c] for c in cols})
        answered = block.notna().any(axis=1).to_numpy()
        V = R & answered
        for o, c in zip(ind.option_ids, cols, strict=True):
            opts.append(o)
            vals.append(np.where(V, block[c].fillna(False).astype(bool).to_numpy(), False))
        is_mean = False
    elif ind.kind == "percentage":
        x = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
        V = R & ~np.isnan(x)
        opts.append(None)
        vals.append(np.where(V, x, 0.0))
        is_mean = True
    else:
        raw = _str(data[column].astype(object))
        present = raw.notna().to_numpy()
        known = raw.isin(list(ind.option_ids)).to_numpy()
        if (present & ~known).any():
            bad = sorted(set(raw[present & ~known].astype(str)))[:5]
            raise SchemaError(
                f"Column {column!r} (indicator {ind.id!r}) holds values that are not option "
                f"ids of the catalogue: {bad}. Valid options: {', '.join(ind.option_ids)}. "
                "Decode the answers with the reader's mapping."
            )
        V = R & raw.isin(list(ind.valid)).to_numpy()
        if ind.statistic == "share" or ind.positive:
            opts.append(None)
            vals.append(V & raw.isin(list(ind.positive)).to_numpy())
        if ind.statistic == "distribution" or options:
            for o in ind.valid:
                opts.append(o)
                vals.append(V & (raw == o).to_numpy())
        is_mean = False
    kinds = tuple(ind.universe_kinds)
    return IndicatorPlan(
        id=ind.id,
        R=R,
        V=V,
        options=opts,
        values=[np.asarray(v, dtype=float) for v in vals],
        is_mean=is_mean,
        strict="commune" in kinds,
        sensitive=bool(ind.sensitive),
        levels=tuple(ind.levels),
        kinds=kinds,
    )


def geo_level_index(level: str) -> int:
    """Position of a level in :data:`GEO_LEVELS`."""
    return GEO_LEVELS.index(level)
