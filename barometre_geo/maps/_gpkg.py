"""One GeoPackage per indicator, styled for QGIS (:func:`write_indicator_gpkg`).

Layout
------
================================  ============================================
``commune``, ``epci``,            every territory of the level in metropolitan
``departement``, ``region``       France, Lambert-93 (EPSG:2154)
``<level>_971`` … ``_976``        the same level in each overseas département,
                                  in its own projection (971/972 EPSG:5490,
                                  973 EPSG:2972, 974 EPSG:2975, 976 EPSG:4471)
``france``                        national rows (France, métropole, outre-mer;
                                  no geometry)
``metadonnees``                   indicator, question, method, thresholds,
                                  sources and licences, classes, layers and
                                  columns (``cle``, ``valeur``; no geometry)
``layer_styles``                  QGIS styles, applied when a layer is opened
================================  ============================================

Why one layer per overseas département: a GeoPackage layer has one CRS, and
no single projection keeps areas and distances right from Dunkerque to
Mayotte. Each layer is in the official projection of its zone (the one
:mod:`barometre_geo.territories.crs` measures ``area_km2`` in), so QGIS's planimetric
measures, buffers and distances are right everywhere — the layout of the
coverage GeoPackage too. National figures are a table, not a polygon: a
France polygon drawn under the other layers would hide them, and it would
span six CRS.

Per-option indicators (multiple choice, distributions) get one group of
columns per option in the same layer (``value_<option>``,
``ci_low_<option>``…), next to the headline columns when the indicator has a
headline (``value``…). One layer per option would multiply the layers by the
number of options on top of the six zones; with columns, one layer shows
every option in the attribute table and the field calculator. Each option
has its own QGIS style in ``layer_styles``, stored with the metropolitan
layer of its level (Layer Properties › Symbology › Style › Load Style ›
From database; QGIS lists them for the overseas layers too, under "other
styles", and they apply there unchanged); the headline (else the first
option) is the default style of every layer.

Cells never leak: on a suppressed row, the value, its confidence intervals
(weighted or not), ``deff``, ``n`` and ``low_reliability`` are NULL.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .._format import NumberFormat
from ..errors import InputFileError
from ..territories.crs import ZONE_CRS
from ._breaks import resolve_classes
from ._classify import Classification
from ._data import (
    HIDDEN_COLUMNS,
    LEVEL_LABELS,
    classes_and_colors,
    join_rows,
    national_rows,
    overall_rows,
    scheme_label,
)
from ._files import map_path
from ._generalise import generalised_level
from ._gpkg_docs import (
    aliases,
    column_docs,
    in_value_unit,
    metadata_table,
    standard_metadata,
    unit_scale,
)
from ._gpkg_meta import GPKG_VERSION, finish_gpkg
from ._meta import check_output, indicator_context, published_levels
from ._qgis import graduated_qml, layer_styles_frame
from ._render import ZONE_LABELS

__all__ = ["GEOMETRY_COLUMN", "write_indicator_gpkg", "write_layer"]

#: Name of the geometry column of every spatial layer (QGIS matches styles on it).
GEOMETRY_COLUMN = "geom"
_WHAT = "write_indicator_gpkg"
# statistics of one cell, per option group (suffix) — in this order
_CELL = (
    "value",
    "ci_low",
    "ci_high",
    "value_weighted",
    "ci_low_weighted",
    "ci_high_weighted",
    "suppressed",
    "reason",
    "low_reliability",
    "model_value",
    "model_ci_low",
    "model_ci_high",
    "model_class_low",
    "model_class_high",
    "model_publication",
    "model_uncertain",
    "model_vs_france",
)
_SHARED = ("n", "deff", "participation", "population_share")
_TEXT_CELL = ("model_publication", "model_vs_france")  # text (``reason`` too)


def write_layer(df, path, layer, *, epsg=None, title, description, use_arrow=True) -> None:
    """Write one layer of a GeoPackage: identifier, description, geometry column.

    ``epsg``: None for a table without geometry; multi-geometries are promoted,
    and a layer of fewer than 100 features gets no R-tree (a few overseas
    polygons: the index would outweigh them). The first layer written creates
    the file in :data:`~barometre_geo.maps._gpkg_meta.GPKG_VERSION`. Written
    through Arrow (faster for the wide indicator layers; same fields, types and
    values as row by row).
    """
    import pyogrio

    opts = {"IDENTIFIER": title, "DESCRIPTION": description}
    if epsg:
        opts["GEOMETRY_NAME"] = GEOMETRY_COLUMN
        if len(df) < 100:
            opts["SPATIAL_INDEX"] = "NO"
    pyogrio.write_dataframe(
        df,
        path,
        layer=layer,
        driver="GPKG",
        promote_to_multi=bool(epsg),
        layer_options=opts,
        dataset_options=None if Path(path).exists() else {"VERSION": GPKG_VERSION},
        use_arrow=use_arrow,
    )


def _target(out_dir, path) -> Path | None:
    path = check_output(out_dir, path, what=_WHAT, kind="a .gpkg file")
    if path is not None and path.suffix.lower() != ".gpkg":
        raise InputFileError(f"{path}: a GeoPackage path must end in .gpkg (e.g. cyber_pca.gpkg).")
    return path


def _option_order(aggregates: pd.DataFrame, ind) -> tuple[bool, list[str]]:
    """Whether headline rows exist, and the options with rows, in catalogue order."""
    rows = aggregates[aggregates["indicator"] == ind.id]
    if "option" not in rows.columns:
        return True, []
    present = set(rows["option"].dropna().astype(str))
    order = [o for o in ind.option_ids if o in present] + sorted(present - set(ind.option_ids))
    return bool(rows["option"].isna().any()), order


def _extra_columns(rows: pd.DataFrame, extra: Sequence[str]) -> tuple[str, ...]:
    """Cell columns beyond :data:`_CELL`: ``value_*``/``ci_*`` ones and those asked."""
    auto = [c for c in rows.columns if in_value_unit(c) and c not in _CELL]
    return tuple(dict.fromkeys([*auto, *(c for c in extra if c in rows.columns)]))


def _block(gdf, rows, level, classification, ctx, palette, suffix, extra=()):
    """Columns of one cell group (headline or option) and its classes.

    Values are classified as the HTML map classifies them (shares 0–1), then
    written in the unit the metadata states (shares in %).
    """
    cell = (*_CELL, *_extra_columns(rows, extra))
    merged = join_rows(  # on the codes alone: the geometry is the table's, added once
        gdf[["code"]],
        rows,
        level=level,
        columns=(*cell, *_SHARED),
        hidden=HIDDEN_COLUMNS,
        what=_WHAT,
    )
    values = merged["value"].to_numpy()
    cls, colors = classes_and_colors(
        values, classification=classification, fmt=ctx.fmt, palette=palette
    )
    idx = cls.assign(values) if cls is not None else np.full(len(values), -1)
    sup = merged["suppressed"].to_numpy()
    labels = np.where(sup, ctx.suppressed_label, "Pas de réponse").astype(object)
    if cls is not None:
        labels[idx >= 0] = np.asarray(cls.labels, dtype=object)[idx[idx >= 0]]
    scale = unit_scale(ctx)
    out = pd.DataFrame(index=merged.index)
    for col in cell:
        if col not in merged.columns:
            continue
        if col.endswith("_weighted") and not merged[col].notna().any():
            continue  # aggregated without weights
        series = merged[col]
        if col == "model_uncertain":
            series = series.astype("boolean")
        elif col == "reason" or not pd.api.types.is_numeric_dtype(series):
            series = series.astype("object").where(series.notna(), None)
        elif in_value_unit(col):
            series = series * scale
        out[f"{col}{suffix}"] = series
    out[f"classe{suffix}"] = pd.array(np.where(idx >= 0, idx + 1, 0), dtype="Int16")
    out.loc[idx < 0, f"classe{suffix}"] = pd.NA
    out[f"classe_libelle{suffix}"] = labels
    shared = merged[[c for c in _SHARED if c in merged.columns]].copy()
    for col in ("participation", "population_share"):  # shares of the universe, in %
        if col in shared.columns:
            shared[col] = shared[col] * 100.0
    return out, shared, cls, colors


def _level_table(aggregates, gdf, level, ctx, options, headline, classification, palette, extra=()):
    base_cols = ["code", "nom"] + [c for c in ("departement", "region") if c in gdf and c != "code"]
    base = gdf[[*base_cols, "population", "area_km2", "zone", "geometry"]].reset_index(drop=True)
    base = base.assign(code=base["code"].astype(str))
    blocks, shared, styles = [], None, []
    groups = ([None] if headline else []) + list(options)
    for opt in groups:
        rows = overall_rows(aggregates, ctx.indicator.id, level, opt, what=_WHAT)
        suffix = "" if opt is None else f"_{opt}"
        # the HTML map's classes: pooled over the levels of the table, one per option
        chosen = resolve_classes(classification, aggregates, ctx.indicator.id, option=opt,
                                 fmt=ctx.fmt)  # fmt: skip
        block, sh, cls, colors = _block(gdf, rows, level, chosen, ctx, palette, suffix, extra)
        blocks.append(block)
        shared = sh if shared is None else shared.combine_first(sh)
        styles.append((opt, suffix, cls, colors))
    if shared is not None:
        shared = shared.assign(n=pd.array(shared["n"].round(), dtype="Int64"))
    first, rest = blocks[0], blocks[1:]
    table = pd.concat([base, first, shared, *rest], axis=1)
    return table, styles


def _zones(table: pd.DataFrame, level: str, geometry: dict[str, pd.Series]):
    """Yield ``(zone, layer, GeoDataFrame)`` per zone, in its projection, generalised."""
    import geopandas as gpd

    zones = table["zone"].astype(str).to_numpy()
    for zone in ["metropole", *sorted(set(zones) - {"metropole"})]:
        mask = zones == zone
        if mask.any():
            sub = table.loc[mask].drop(columns=["zone", "geometry"]).reset_index(drop=True)
            geoms = geometry[zone].reindex(sub["code"].astype(str)).to_numpy()
            name = level if zone == "metropole" else f"{level}_{zone}"
            yield zone, name, gpd.GeoDataFrame(sub, geometry=geoms, crs=ZONE_CRS[zone])


def _style_rows(layer, level, table_cols, styles, ctx, option_labels) -> list[dict]:
    outline = 0.0 if level in ("commune", "epci") else 0.15
    names = aliases(table_cols, option_labels)
    rows = []
    for i, (opt, suffix, cls, colors) in enumerate(styles):
        name = "Carte" if opt is None else option_labels.get(opt, opt)
        qml = graduated_qml(
            value=f"value{suffix}",
            suppressed=f"suppressed{suffix}",
            classification=cls,
            colors=colors,
            no_data_label="Pas de réponse",
            suppressed_label=ctx.suppressed_label,
            outline_width=outline,
            aliases=names if i == 0 else None,  # the default style names the fields once
            scale=unit_scale(ctx),
        )
        what = ctx.indicator.label + ("" if opt is None else f" — {name}")
        rows.append(
            {"layer": layer, "name": name, "qml": qml, "default": i == 0, "description": what}
        )
    return rows


def write_indicator_gpkg(
    aggregates: pd.DataFrame,
    territories,
    *,
    indicator: str,
    out_dir: str | os.PathLike | None = None,
    path: str | os.PathLike | None = None,
    levels: Sequence[str] | None = None,
    catalogue=None,
    edition: str | None = None,
    synthetic: bool | None = None,
    k: int | None = None,
    k_sensitive: int | None = None,
    classification: Classification | dict | None = None,
    palette: str = "Blues",
    fmt: NumberFormat | None = None,
    simplify: bool = True,
    extra_columns: Sequence[str] = (),
) -> Path:
    """Write one indicator to a GeoPackage styled for QGIS (layout in the module docstring).

    Parameters
    ----------
    aggregates : pandas.DataFrame
        Output of :func:`barometre_geo.aggregate` (contract "Aggregates").
    territories : Territories
        The reference the aggregates were computed with.
    indicator : str
        Catalogue id.
    out_dir, path : path-like
        Exactly one: a folder (file ``<indicator>.gpkg`` inside it, never
        outside) or a ``.gpkg`` path. An existing file is replaced.
    levels : sequence of str, optional
        Levels to write; default every level where the indicator is published
        and the table has rows.
    catalogue : Catalogue, optional
        Default :func:`barometre_geo.load_catalogue`.
    edition, synthetic : optional
        Survey edition and whether its data are synthetic (default: the
        table's ``attrs``, then the catalogue's edition and "non précisé").
    k, k_sensitive : int, optional
        Suppression thresholds quoted in the legend and the metadata
        (default: the table's ``attrs``, then 5 and 10).
    classification : Classification or dict, optional
        Classes of every layer, or ``{option or None: Classification}``
        (default: those of the HTML map: natural breaks pooled over the
        table's levels, rounded, per option).
    palette : str
        Sequential or diverging palette (:func:`list_palettes`).
    fmt : NumberFormat, optional
        Default: percent for shares, the indicator's unit for means.
    simplify : bool, default True
        Generalised geometry (:mod:`~barometre_geo.maps._generalise`: EPCI,
        départements and régions simplified at 1.2 km, shared borders kept):
        a 1,250-EPCI layer weighs 0.8 MB instead of 5.5 MB. ``False`` writes
        the reference's contours as they are.
    extra_columns : sequence of str, optional
        Further cell columns of the table to carry with each option group
        (text or numbers). Columns named ``value*``, ``ci_low*``,
        ``ci_high*`` (a model estimate…) are carried anyway, in the unit of
        ``value``.

    Returns
    -------
    pathlib.Path
        Written atomically (temporary file in the same folder, then renamed).

    Raises
    ------
    UnknownValueError
        Indicator absent from the table or the catalogue; unknown level or
        level where the indicator is not published.
    SchemaError
        Missing columns, no rows at an asked level, codes of another COG,
        unsafe file name, ``out_dir`` and ``path`` both or neither given.
    InputFileError
        ``path`` does not end in ``.gpkg`` or its folder does not exist.

    Examples
    --------
    >>> import barometre_geo as bg, pandas as pd, pyogrio, tempfile
    >>> t = bg.load_territories()
    >>> agg = pd.DataFrame({"indicator": "cyber_pca", "level": "region",
    ...     "code": t.regions["code"], "value": 0.5, "n": 40, "ci_low": 0.35, "ci_high": 0.65,
    ...     "participation": 0.2, "suppressed": False})
    >>> out = write_indicator_gpkg(agg, t, indicator="cyber_pca", out_dir=tempfile.mkdtemp())
    >>> [name for name, _ in pyogrio.list_layers(out)][:3]
    ['region', 'region_971', 'region_972']
    """
    import pyogrio

    ctx = indicator_context(
        aggregates,
        territories,
        indicator=indicator,
        catalogue=catalogue,
        edition=edition,
        synthetic=synthetic,
        k=k,
        k_sensitive=k_sensitive,
        fmt=fmt,
        what=_WHAT,
    )
    target = _target(out_dir, path) or map_path(out_dir, indicator, suffix=".gpkg")
    levels = published_levels(aggregates, ctx, levels, what=_WHAT)
    headline, options = _option_order(aggregates, ctx.indicator)
    option_labels = {o.id: o.label for o in ctx.indicator.options if o.id in options}
    when = datetime.now(UTC).replace(microsecond=0)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part.gpkg")
    catalog, styles, classes, columns, described = [], [], [], {}, []

    def write(df, layer, *, epsg=None, title, description):
        write_layer(df, tmp, layer, epsg=epsg, title=title, description=description)
        crs = f"EPSG:{epsg}" if epsg else "sans géométrie"
        catalog.append({"layer": layer, "text": f"{crs} ; {len(df)} entité(s) ; {description}"})
        bounds = tuple(df.total_bounds) if epsg and len(df) else None
        described.append((layer, title, description, f"EPSG:{epsg}" if epsg else None, bounds))

    try:
        for level in levels:
            table, level_styles = _level_table(
                aggregates,
                territories.level(level),
                level,
                ctx,
                options,
                headline,
                classification,
                palette,
                extra_columns,
            )
            columns.update(column_docs(table.columns, ctx, option_labels))
            for opt, _, cls, _ in level_styles:
                key = level if opt is None else f"{level}:{opt}"
                text = " ; ".join(cls.labels) if cls is not None else "aucune valeur publiable"
                scheme = scheme_label(cls) if cls is not None else ""
                classes.append((key, f"{scheme} : {text}" if cls is not None else text))
            geometry = generalised_level(territories, level, simplify=simplify)
            for zone, layer, projected in _zones(table, level, geometry):
                where = "métropole" if zone == "metropole" else ZONE_LABELS[zone]
                write(
                    projected,
                    layer,
                    epsg=ZONE_CRS[zone],
                    title=f"{ctx.indicator.label} — {LEVEL_LABELS[level]} ({where})",
                    description=f"{LEVEL_LABELS[level][0].upper()}{LEVEL_LABELS[level][1:]} "
                    f"({where}) : {indicator}",
                )
                # every layer gets its default style, the metropolitan one the others too
                shown = level_styles if zone == "metropole" else level_styles[:1]
                styles += _style_rows(layer, level, projected.columns, shown, ctx, option_labels)
        nat = _national_table(aggregates, ctx, headline, options, extra_columns)
        if len(nat):
            write(
                nat,
                "france",
                title=f"{ctx.indicator.label} — France",
                description="France, France métropolitaine, outre-mer (sans géométrie)",
            )
        meta = metadata_table(ctx, territories, levels, catalog, columns, classes, when, simplify)
        write(
            meta,
            "metadonnees",
            title=f"{ctx.indicator.label} — métadonnées",
            description="Indicateur, méthode, seuils, sources, licences, couches, colonnes",
        )
        frame = layer_styles_frame(styles, geometry_column=GEOMETRY_COLUMN, when=when)
        pyogrio.write_dataframe(
            frame, tmp, layer="layer_styles", driver="GPKG", layer_options={"FID": "id"}
        )
        finish_gpkg(
            tmp,
            standard_metadata(ctx, territories, described, levels, simplify=simplify),
            when=when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        )
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, *(tmp.with_name(tmp.name + s) for s in ("-journal", "-wal"))):
            leftover.unlink(missing_ok=True)
    return target


def _national_table(aggregates, ctx, headline, options, extra=()) -> pd.DataFrame:
    rows = national_rows(aggregates, ctx.indicator.id)
    if not len(rows):
        return pd.DataFrame()
    keys = rows[["level", "code"]].astype(str).drop_duplicates()
    base = keys.assign(nom=[_national_name(lv) for lv in keys["level"]]).reset_index(drop=True)
    parts = [base]
    cell = (*_CELL, *_extra_columns(rows, extra))
    for i, opt in enumerate(([None] if headline else []) + list(options)):
        if "option" not in rows.columns:
            sub = rows
        else:
            sub = rows[rows["option"].isna()] if opt is None else rows[rows["option"] == opt]
        sub = sub.assign(level=sub["level"].astype(str), code=sub["code"].astype(str))
        merged = base[["level", "code"]].merge(sub, on=["level", "code"], how="left")
        merged["suppressed"] = merged["suppressed"].astype("boolean").fillna(False).astype(bool)
        for col in HIDDEN_COLUMNS:
            if col in merged.columns:
                merged[col] = merged[col].astype("object").where(~merged["suppressed"], None)
        suffix = "" if opt is None else f"_{opt}"
        cols = [c for c in (*cell, *(_SHARED if i == 0 else ())) if c in merged.columns]
        block = merged[cols].rename(columns={c: f"{c}{suffix}" for c in cols if c not in _SHARED})
        for src, col in zip(cols, block.columns, strict=True):
            if src == "model_uncertain":
                block[col] = block[col].astype("boolean")
                continue
            if src in ("reason", "suppressed", *_TEXT_CELL) or src in extra:
                if src == "reason" or not pd.api.types.is_numeric_dtype(block[col]):
                    block[col] = block[col].astype("object").where(block[col].notna(), None)
                continue
            number = pd.to_numeric(block[col], errors="coerce")
            if in_value_unit(src):
                number = number * unit_scale(ctx)
            elif src in ("participation", "population_share"):
                number = number * 100.0
            block[col] = number
        parts.append(block)
    return pd.concat(parts, axis=1)


def _national_name(level: str) -> str:
    return {
        "france": "France",
        "france_metropolitaine": "France métropolitaine",
        "outre_mer": "Outre-mer (DROM)",
    }.get(level, level)
