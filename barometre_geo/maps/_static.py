"""Static maps of an indicator (PNG, SVG) for reports and websites: :func:`static_map`.

The map shows the same rows, classes, colours and legend as the HTML map
(:func:`~._indicator.indicator_map`): a legend titled by what the value counts,
the classification named, French class labels with the number of territories,
the national value marked beside its class, "Pas de réponse" dotted,
"Effectif insuffisant (moins de k réponses)" hatched (both 3:1 from every
class). Metropolitan France is drawn in Lambert-93 (EPSG:2154), each overseas
département in an inset in its own projection, labelled; commune and EPCI maps
add an Île-de-France inset (its territories are a few pixels wide at national
scale). Title, question, national figure, and the source line of the HTML map
(:class:`~._captions.SourceLine`: survey, edition, wave and dates of collection,
responses, COG, treatment; flagged when synthetic), then the contours' licence
and the basemap credit.

Rendering uses matplotlib's Agg (PNG) or SVG canvases on a bare
:class:`~matplotlib.figure.Figure`: no pyplot, no display, no global state.
Files are written atomically. In SVG, layers of more than
:data:`RASTER_ABOVE` polygons are embedded as images (the legend and texts
stay vector text): 35,000 commune outlines as SVG paths weigh tens of MB.
"""

from __future__ import annotations

import io
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._format import NumberFormat, format_count
from .._version import __version__
from ..errors import SchemaError, UnknownValueError
from ..territories.reference import parse_level
from ._breaks import resolve_classes
from ._captions import classes_text, national_mark, national_n, source_line, value_meaning
from ._classify import Classification
from ._data import (
    LEVEL_LABELS,
    classes_and_colors,
    join_rows,
    national_rows,
    overall_rows,
)
from ._files import atomic_write, map_path
from ._meta import check_output, indicator_context, published_levels, reference_text
from ._options import MapStyle
from ._palettes import NEUTRAL_INK, NO_DATA_PATTERN, SUPPRESSED_COLOR
from ._render import ZONE_LABELS
from ._static_basemap import draw_tiles, parse_basemap
from ._static_draw import DOTS, HATCH, draw_layer, draw_outlines, frame, project_zones, scale_bar

__all__ = ["FORMATS", "RASTER_ABOVE", "StaticMap", "static_map"]

#: Output formats of :func:`static_map`.
FORMATS: tuple[str, ...] = ("png", "svg")
#: In SVG, layers with more polygons than this are embedded as an image.
RASTER_ABOVE = 5000
_WHAT = "static_map"
_IDF = "11"  # code of the Île-de-France région
# figure layout (fractions of the figure): overseas column | metropole | legend and IDF
_SIZE = (10.0, 8.0)
_MAIN = (0.165, 0.075, 0.565, 0.775)
_INSET_X, _INSET_W, _INSET_H, _INSET_TOP, _INSET_GAP = 0.012, 0.14, 0.118, 0.82, 0.037
_LEGEND_AT = (0.745, 0.85)
_IDF_BOX = (0.76, 0.085, 0.225, 0.30)
_SOURCE_SIZE = 6.4


@dataclass(frozen=True)
class StaticMap:
    """A static map written to disk.

    Attributes
    ----------
    path : pathlib.Path
    format : {"png", "svg"}
    title : str
    source : str
        The source line printed under the map.
    basemap : str
        Credit of the tiles drawn, or empty when none was drawn.
    classification : Classification or None
        ``None`` when no value is publishable.
    n_features, n_no_data, n_suppressed : int
        Territories drawn, without answer, suppressed.
    insets : tuple of str
        Labels of the insets drawn (overseas départements, Île-de-France).
    """

    path: Path
    format: str
    title: str
    source: str
    basemap: str
    classification: Classification | None
    n_features: int
    n_no_data: int
    n_suppressed: int
    insets: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """File size in bytes."""
        return self.path.stat().st_size


def _parse_format(format: str | None, path: Path | None) -> str:
    if format is None:
        suffix = path.suffix.lower().lstrip(".") if path is not None else "png"
        format = suffix or "png"
    value = str(format).strip().lower().lstrip(".")
    if value not in FORMATS:
        raise UnknownValueError(
            f"{_WHAT}: unknown format {format!r}. Valid formats: {', '.join(FORMATS)}."
        )
    return value


def _target(path, out_dir, name, indicator, level, option, format) -> tuple[Path, str]:
    path = check_output(out_dir, path, what=_WHAT, kind="a .png or .svg file")
    if path is not None:
        fmt = _parse_format(format, path)
        if path.suffix.lower() != f".{fmt}":
            raise SchemaError(
                f"{_WHAT}: {path} does not end in .{fmt} (format {fmt!r}). Give the path the "
                f"matching suffix, or pass format={path.suffix.lower().lstrip('.')!r}."
            )
        return path, fmt
    fmt = _parse_format(format, None)
    stem = name or ".".join(p for p in (indicator, level, option) if p)
    return map_path(out_dir, stem, suffix=f".{fmt}"), fmt


def _legend_title(ctx, option: str | None, cls: Classification | None) -> str:
    head = "\n".join(textwrap.wrap(value_meaning(ctx.indicator, option, ctx.catalogue), 36))
    if cls is not None:
        head += "\n" + "\n".join(textwrap.wrap(classes_text(cls), 40))
    return head


def _national_value(aggregates, ctx, option) -> float | None:
    rows = national_rows(aggregates, ctx.indicator.id)
    rows = rows[rows["level"] == "france"]
    if "option" in rows.columns:
        rows = rows[rows["option"].isna()] if option is None else rows[rows["option"] == option]
    if len(rows) != 1 or bool(rows["suppressed"].iloc[0]):
        return None
    value = float(rows["value"].iloc[0])
    return value if np.isfinite(value) else None


def _national(aggregates, ctx, option, fmt: NumberFormat) -> str:
    rows = national_rows(aggregates, ctx.indicator.id)
    rows = rows[rows["level"] == "france"]
    if "option" in rows.columns:
        rows = rows[rows["option"].isna()] if option is None else rows[rows["option"] == option]
    if len(rows) != 1 or bool(rows["suppressed"].iloc[0]):
        return ""
    r = rows.iloc[0]
    if not np.isfinite(float(r["value"])):
        return ""
    text = f"France entière : {fmt.format(float(r['value']))}"
    low, high = float(r["ci_low"]), float(r["ci_high"])
    if np.isfinite(low) and np.isfinite(high):
        text += f" (IC à 95\u202f% : {fmt.format(low)} – {fmt.format(high)})"
    return text + (f", {format_count(int(r['n']))} réponses" if np.isfinite(float(r["n"])) else "")


def _legend(fig, cls, colors, counts, ctx, option, n_no, n_sup, mark):
    from matplotlib.patches import Patch

    handles = []
    if cls is not None:
        for i, (label, color, count) in enumerate(zip(cls.labels, colors, counts, strict=True)):
            text = f"{label} ({format_count(count)})"
            if mark and mark["class"] == i:  # the national value, on the scale
                text += f"\n◆ {mark['label']}"
            handles.append(Patch(facecolor=color, edgecolor="#999999", linewidth=0.4, label=text))
    dots = Patch(facecolor=NO_DATA_PATTERN["bg"], edgecolor="#999999", linewidth=0.4, hatch=DOTS,
                 label=f"Pas de réponse ({format_count(n_no)})")  # fmt: skip
    dots.set_hatchcolor(NEUTRAL_INK)
    handles.append(dots)
    sup_label = textwrap.fill(f"{ctx.suppressed_label} ({format_count(n_sup)})", 30)
    sup = Patch(facecolor=SUPPRESSED_COLOR, edgecolor="#999999", linewidth=0.4, hatch=HATCH,
                label=sup_label)  # fmt: skip
    sup.set_hatchcolor(NEUTRAL_INK)
    handles.append(sup)
    leg = fig.legend(
        handles=handles,
        title=_legend_title(ctx, option, cls),
        loc="upper left",
        bbox_to_anchor=_LEGEND_AT,
        fontsize=7.6,
        title_fontsize=8,
        frameon=False,
        handlelength=1.7,
        handleheight=1.15,
        labelspacing=0.55,
        borderaxespad=0.0,
    )
    leg._legend_box.align = "left"


def _keep_together(text: str) -> str:
    """Put a no-break space before French ``:`` and ``;``: lines never start with them.

    textwrap only breaks at ASCII whitespace.
    """
    return text.replace(" :", "\u00a0:").replace(" ;", "\u00a0;")


def _texts(fig, title, question, national, synthetic, source, note):
    y = 0.975
    fig.text(0.02, y, title, fontsize=13.5, fontweight="bold", va="top", color="#1a1a1a")
    y -= 0.034
    for line in textwrap.wrap(question, 110)[:2]:
        fig.text(0.02, y, line, fontsize=8.3, va="top", color="#444444")
        y -= 0.019
    if national:
        fig.text(0.02, y, national, fontsize=8.3, va="top", color="#1a1a1a", fontweight="bold")
        y -= 0.019
    if synthetic:
        fig.text(0.02, y, "DONNÉES SYNTHÉTIQUES — démonstration, pas des résultats de l’enquête",
                 fontsize=8.3, va="top", color="#b2182b", fontweight="bold")  # fmt: skip
    # characters per line: figure width over DejaVu Sans' mean advance (~0.56 em)
    width = int(fig.get_figwidth() * 72 * 0.95 / (_SOURCE_SIZE * 0.56))
    lines = textwrap.wrap(_keep_together(source), width)
    if note:
        lines = textwrap.wrap(_keep_together(note), width) + lines
    step = _SOURCE_SIZE * 1.45 / 72 / fig.get_figheight()
    for i, line in enumerate(reversed(lines)):
        fig.text(0.02, 0.01 + step * i, line, fontsize=_SOURCE_SIZE, color="#555555",
                 va="bottom")  # fmt: skip


def static_map(
    aggregates,
    territories,
    *,
    indicator: str,
    level: str,
    path: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    name: str | None = None,
    format: str | None = None,
    option: str | None = None,
    title: str | None = None,
    catalogue=None,
    edition: str | None = None,
    synthetic: bool | None = None,
    k: int | None = None,
    k_sensitive: int | None = None,
    classification: Classification | None = None,
    palette: str = "Blues",
    fmt: NumberFormat | None = None,
    basemap="auto",
    timeout: float = 5.0,
    dpi: int = 200,
    modelled: str = "",
) -> StaticMap:
    """Draw one indicator at one level as a PNG or SVG file.

    Parameters
    ----------
    aggregates : pandas.DataFrame
        Output of :func:`barometre_geo.aggregate` (contract "Aggregates").
    territories : Territories
        The reference the aggregates were computed with.
    indicator, level : str
        Catalogue id; ``commune``, ``epci``, ``departement`` or ``region``
        (a level where the indicator is published).
    path, out_dir : path-like
        Exactly one: the file (``.png`` / ``.svg``), or a folder where the
        file is named ``<indicator>.<level>[.<option>].<format>`` (or
        ``name``), never outside the folder.
    name : str, optional
        File name in ``out_dir`` (a plain name: no folder, no ``..``).
    format : {"png", "svg"}, optional
        Default: the suffix of ``path``, else ``png``.
    option : str, optional
        For per-option indicators, the option mapped.
    title : str, optional
        Default: "<label> — <level>".
    catalogue, edition, synthetic, k, k_sensitive
        As :func:`write_indicator_gpkg`.
    classification : Classification or dict, optional
        Default: the HTML map's (natural breaks pooled over the levels of
        ``aggregates``, rounded: :func:`~._breaks.indicator_classes`); a dict
        ``{option or None: Classification}`` gives one per option.
    palette : str
    fmt : NumberFormat, optional
        Default: percent for shares, the unit for means.
    basemap : {"auto", "none", "plan_ign", "osm", "cartodb"} or TileProvider
        ``auto`` (default) draws Plan IGN when reachable within ``timeout``
        seconds, else warns (:class:`BasemapWarning`) and draws none;
        ``none`` needs no network; a named basemap raises when unreachable.
    timeout : float
        Network timeout of each tile request (seconds).
    dpi : int
        Resolution of PNG files (and of embedded images in SVG).
    modelled : str
        A sentence for model-based figures, appended to the source line.

    Returns
    -------
    StaticMap

    Raises
    ------
    UnknownValueError
        Unknown format, level, basemap or indicator (valid values listed).
    SchemaError
        Unsafe file name, suffix not matching the format, missing columns,
        rows only per option (pass ``option``), codes of another COG.
    InputFileError
        The folder of ``path`` does not exist.
    DownloadError
        A named basemap could not be fetched.

    Examples
    --------
    >>> import barometre_geo as bg, pandas as pd, tempfile
    >>> t = bg.load_territories()
    >>> agg = pd.DataFrame({"indicator": "cyber_pca", "level": "region",
    ...     "code": t.regions["code"], "value": 0.5, "n": 40, "ci_low": 0.35, "ci_high": 0.65,
    ...     "participation": 0.2, "suppressed": False})
    >>> m = static_map(agg, t, indicator="cyber_pca", level="region",
    ...                out_dir=tempfile.mkdtemp(), basemap="none")
    >>> m.path.name, m.n_features, m.classification.counts
    ('cyber_pca.region.png', 18, (18,))
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    level = parse_level(level)
    tiles = parse_basemap(basemap)
    target, fmt_name = _target(path, out_dir, name, indicator, level, option, format)
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
    published_levels(aggregates, ctx, [level], what=_WHAT)
    if option is not None:
        ctx.indicator.option(option)  # UnknownValueError listing the options
    gdf = territories.level(level).reset_index(drop=True)
    rows = overall_rows(aggregates, indicator, level, option, what=_WHAT)
    merged = join_rows(gdf, rows, level=level, columns=("value", "n", "suppressed"), what=_WHAT)
    values = merged["value"].to_numpy()
    sup = merged["suppressed"].to_numpy()
    classification = resolve_classes(
        classification, aggregates, indicator, option=option, fmt=ctx.fmt
    )
    cls, colors = classes_and_colors(
        values, classification=classification, fmt=ctx.fmt, palette=palette
    )
    idx = cls.assign(values).astype(np.int64) if cls is not None else np.full(len(values), -1)
    idx[sup] = -2
    n_no, n_sup = int((idx == -1).sum()), int((idx == -2).sum())

    option_label = f" : {ctx.indicator.option(option).label}" if option else ""
    title = title or f"{ctx.indicator.label}{option_label} — {LEVEL_LABELS[level]}"
    note = ""
    if cls is None:
        note = f"Aucune valeur publiable à l'échelle des {LEVEL_LABELS[level]} : " + (
            f"{n_sup} territoire(s) — {ctx.suppressed_label.lower()}."
            if n_sup
            else "aucune réponse."
        )
    rc = {
        "font.family": "DejaVu Sans",
        "svg.fonttype": "none",
        "svg.hashsalt": "barometre-geo",
        "hatch.linewidth": 0.5,
        "axes.linewidth": 0.5,
    }
    with mpl.rc_context(rc):
        fig = Figure(figsize=_SIZE, dpi=dpi)
        raster = fmt_name == "svg" and len(gdf) > RASTER_ABOVE
        axes_crs = _draw_map(fig, territories, gdf, level, idx, colors, raster)
        credit = ""
        if tiles is not None and draw_tiles(axes_crs, tiles, timeout=timeout):
            credit = tiles.credit
        main = axes_crs[0][0]
        counts = cls.counts if cls is not None else ()
        mark = national_mark(cls, _national_value(aggregates, ctx, option), ctx.fmt)
        _legend(fig, cls, colors, counts, ctx, option, n_no, n_sup, mark)
        scale_bar(main)
        line = source_line(
            ctx.indicator,
            ctx.catalogue,
            edition=ctx.edition,
            synthetic=ctx.synthetic,
            responses=national_n(aggregates, indicator, option),
            cog=str(getattr(territories, "cog", "") or ""),
            modelled=modelled,
        )
        source = " ".join(
            s
            for s in (
                line.text(),
                "Valeurs non pondérées ; intervalles de confiance à 95\u202f%.",
                reference_text(territories),
                f"{credit}." if credit else "",
            )
            if s
        )
        national = _national(aggregates, ctx, option, ctx.fmt)
        _texts(fig, title, ctx.indicator.question, national, ctx.synthetic, source, note)
        buf = io.BytesIO()
        meta = {"Title": title, "Description": ctx.indicator.question}
        if fmt_name == "png":
            meta |= {"Source": source, "Software": f"barometre-geo {__version__}"}
        else:
            meta |= {"Creator": f"barometre-geo {__version__}", "Rights": source, "Date": None}
        fig.savefig(buf, format=fmt_name, dpi=dpi, metadata=meta, facecolor="white")
    atomic_write(target, buf.getvalue())
    return StaticMap(
        path=target,
        format=fmt_name,
        title=title,
        source=source,
        basemap=credit,
        classification=cls,
        n_features=len(gdf),
        n_no_data=n_no,
        n_suppressed=n_sup,
        insets=tuple(ax.get_title() for ax, _ in axes_crs[1:]),
    )


def _draw_map(fig, territories, gdf, level, idx, colors, raster) -> list:
    """Draw metropolitan France, the overseas insets and the IDF inset; return (axes, epsg)."""
    from matplotlib.patches import Rectangle

    n = len(gdf)
    zones = project_zones(gdf.geometry.values, gdf["zone"], MapStyle().tolerance(n))
    fine = level in ("commune", "epci")
    edge, lw = ("#ffffff", 0.0 if level == "commune" else 0.12) if fine else ("#ffffff", 0.45)
    outlines = None
    if fine:
        dep = territories.departements
        outlines = project_zones(dep.geometry.values, dep["zone"], MapStyle().tolerance(len(dep)))
    axes_crs = []
    main = fig.add_axes(_MAIN)
    overseas = [z for z in zones if z != "metropole"]
    y = _INSET_TOP
    for zone in ["metropole", *overseas]:
        zp = zones[zone]
        if zone == "metropole":
            ax = main
        else:
            y -= _INSET_H
            ax = fig.add_axes((_INSET_X, y, _INSET_W, _INSET_H))
            ax.set_title(ZONE_LABELS[zone], fontsize=7.5, pad=2, color="#333333")
            y -= _INSET_GAP
        draw_layer(ax, zp.paths, idx[zp.rows], colors, edgecolor=edge, linewidth=lw,
                   rasterized=raster)  # fmt: skip
        if outlines is not None and zone in outlines:
            draw_outlines(ax, outlines[zone].paths, linewidth=0.3 if zone == "metropole" else 0.4)
        frame(ax, zp.bounds, margin=0.02 if zone == "metropole" else 0.08)
        for spine in ax.spines.values():
            spine.set_visible(zone != "metropole")
            spine.set_color("#999999")
        axes_crs.append((ax, zp.epsg))
    if level in ("commune", "epci") and "metropole" in zones:
        in_idf = np.flatnonzero(gdf["region"].astype(str).to_numpy() == _IDF)
        if len(in_idf):
            sub = gdf.iloc[in_idf]
            zp = project_zones(sub.geometry.values, sub["zone"], 0.001)["metropole"]
            ax = fig.add_axes(_IDF_BOX)
            ax.set_title("Île-de-France", fontsize=7.5, pad=2, color="#333333")
            draw_layer(ax, zp.paths, idx[in_idf], colors, edgecolor="#ffffff", linewidth=0.1)
            dep = territories.departements
            dep = dep[dep["region"].astype(str) == _IDF]
            draw_outlines(ax, project_zones(dep.geometry.values, dep["zone"], 0.001)[
                "metropole"].paths, linewidth=0.5)  # fmt: skip
            frame(ax, zp.bounds, margin=0.02)
            for spine in ax.spines.values():
                spine.set_color("#999999")
            x0, y0, x1, y1 = zp.bounds
            main.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False,
                                     edgecolor="#333333", linewidth=0.6, zorder=4))  # fmt: skip
            axes_crs.append((ax, zp.epsg))
    return axes_crs
