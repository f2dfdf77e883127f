"""Public map builders: :func:`choropleth`, :func:`categorical_map`.

Both take a GeoDataFrame of territory polygons (any CRS; drawn in WGS84)
and return a :class:`~._document.MapDocument`. Classes and colours are
computed here, in Python; the page only looks them up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._format import NumberFormat
from ..errors import SchemaError
from ._breaks import data_classes
from ._captions import national_mark
from ._classify import Classification
from ._document import MapDocument
from ._geometry import encode_geometry, simplify_coverage
from ._layers import NO_DATA, SUPPRESSED, layer_spec, share_repeated
from ._layout import insets_of, places_of
from ._options import Basemap, Field, LegendSpec, MapStyle, Outline, parse_assets
from ._overlays import outline_layers
from ._palettes import get_palette
from ._render import Page, page_script, render_page, zones_of
from ._style import parse_style, style_palette
from ._views import ViewSet, views_payload

__all__ = ["HATCH_BG", "HATCH_FG", "HATCH_PATTERN", "categorical_map", "choropleth", "empty_map"]

#: Hatch of the ``hatched`` categories of :func:`categorical_map` (light grey lines on
#: white, lighter than the dark ink of "Effectif insuffisant": these categories recede).
HATCH_BG, HATCH_FG = "#ffffff", "#a6a6a6"
HATCH_PATTERN = {"kind": "hatch", "bg": HATCH_BG, "fg": HATCH_FG}


def _prepare(gdf, columns: Sequence[str], what: str):
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(
            f"{what} needs a GeoDataFrame of territory polygons, got {type(gdf).__name__}. "
            "Pass e.g. barometre_geo.load_territories().departements."
        )
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise SchemaError(
            f"{what}: column(s) {', '.join(map(repr, missing))} not found "
            f"(columns: {', '.join(map(str, gdf.columns))}). Pass an existing column name."
        )
    if gdf.crs is None:
        raise SchemaError(
            f"{what}: the GeoDataFrame has no CRS. Set it first, e.g. gdf.set_crs(4326) "
            "for longitude/latitude."
        )
    if not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs(4326)
    return gdf.reset_index(drop=True)


def _default_fields(gdf, value_field: Field | None) -> list[Field]:
    name = "nom" if "nom" in gdf.columns else "code" if "code" in gdf.columns else None
    if name is None:
        raise SchemaError(
            "The map needs a name for each territory: add a 'nom' (or 'code') column, "
            "or pass fields=[Field('my_name_column', 'Nom', kind='text'), ...]."
        )
    fields = [Field(name, "Nom" if name == "nom" else "Code", kind="text")]
    if name == "nom" and "code" in gdf.columns:
        fields.append(Field("code", "Code", kind="text"))
    if value_field is not None:
        fields.append(value_field)
    fields.append(Field(kind="class", label="Classe"))
    return fields


#: Simplified and encoded geometries by (the geometry objects, tolerance, grid): a
#: build draws every indicator on the same territories of a level, whose
#: geometries a join copies by reference (the same shapely objects, immutable).
#: Each entry keeps its objects alive, so their ids name them.
_GEOMETRY_CACHE: dict = {}
_GEOMETRY_CACHE_SIZE = 16


def _geometry(gdf, style: MapStyle):
    import hashlib

    n = len(gdf)
    tolerance = style.tolerance(n)
    quantum = style.grid(n)
    objects = np.asarray(gdf.geometry.values, dtype=object)
    ids = np.fromiter(map(id, objects), dtype=np.int64, count=n)
    key = (hashlib.blake2b(ids.tobytes(), digest_size=16).digest(), n, tolerance, quantum)
    hit = _GEOMETRY_CACHE.get(key)
    if hit is not None:
        return hit[1], hit[2]
    simplified = simplify_coverage(gdf.geometry.values, tolerance)
    # simplify_coverage orients the rings (not when it returns the input: tolerance 0)
    encoded = encode_geometry(simplified, quantum=quantum, orient=tolerance <= 0)
    simplified = np.asarray(simplified, dtype=object)
    simplified.setflags(write=False)
    if len(_GEOMETRY_CACHE) >= _GEOMETRY_CACHE_SIZE:
        _GEOMETRY_CACHE.pop(next(iter(_GEOMETRY_CACHE)))
    _GEOMETRY_CACHE[key] = (objects, simplified, encoded)
    return simplified, encoded


def _finish(
    *,
    gdf,
    simplified,
    layers: list[dict],
    title: str,
    description: str,
    notes: Sequence[str],
    basemap,
    assets: str,
    classification: Classification | None,
    national: str,
    style: MapStyle | None = None,
    source: str = "",
    page_style: str = "standard",
    territories=None,
    modes: bool = False,
    extra: dict | None = None,
    scripts: tuple[str, ...] = (),
) -> MapDocument:
    style = style or MapStyle()
    basemap = Basemap.parse(basemap)
    assets = parse_assets(assets)
    zones = zones_of(simplified)
    insets = insets_of(simplified, zones) if style.insets else []
    b = gdf.total_bounds
    page = Page(
        title=title,
        description=description,
        notes=tuple(notes),
        source=source,
        insets=tuple({"id": i["id"], "label": i["label"]} for i in insets),
        style=parse_style(page_style),
        # long legends (a class per structure) fold and scroll inside the map instead
        legend_in_map=any(layer["legend"].get("compact") for layer in layers),
        data={
            "layers": share_repeated(layers),
            "zones": zones,
            "insets": insets,
            "places": places_of(gdf, territories),
            "bounds": [[b[1], b[0]], [b[3], b[2]]],
            "page_size": 50,
            **({"modes": True} if modes else {}),
            **(extra or {}),
        },
        extra_js=tuple(page_script(name) for name in scripts),
    )
    html, csp = render_page(page, tiles=basemap.tiles(), basemap_label=basemap.label, assets=assets)
    return MapDocument(
        html=html,
        title=title,
        csp=csp,
        n_features=len(gdf),
        classification=classification,
        assets=assets,
        national=national,
    )


def empty_map(
    title: str,
    message: str,
    *,
    description: str = "",
    notes=(),
    source: str = "",
    page_style: str = "standard",
) -> MapDocument:
    """Return a page without map that says why (e.g. no publishable value).

    Examples
    --------
    >>> doc = empty_map("Site internet — Communes", "Aucune valeur publiable.")
    >>> doc.empty, "Aucune valeur publiable." in doc.html
    (True, True)
    """
    page = Page(
        title=title,
        description=description,
        notes=tuple(notes),
        empty=message,
        source=source,
        style=parse_style(page_style),
    )
    html, csp = render_page(page, tiles=None, basemap_label="", assets="inline")
    return MapDocument(html=html, title=title, csp=csp, n_features=0, empty=True)


def choropleth(
    gdf,
    column: str,
    *,
    title: str,
    description: str = "",
    classification: Classification | None = None,
    fmt: NumberFormat | None = None,
    palette: str | None = None,
    suppressed: str | None = None,
    fields: Sequence[Field] | None = None,
    legend: LegendSpec | None = None,
    style: MapStyle | None = None,
    basemap: Basemap | str | None = "plan_ign",
    assets: str = "inline",
    notes: Sequence[str] = (),
    national: str = "",
    national_value: float | None = None,
    source: str = "",
    page_style: str = "standard",
    territories=None,
) -> MapDocument:
    """Draw a choropleth of ``column`` as an embeddable HTML page.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Territory polygons (a coverage), with ``nom``/``code`` columns for
        tooltips. Overseas départements get "jump to" buttons.
    column : str
        Numeric column to map; ``NaN`` draws "Pas de réponse".
    title, description : str
        Page title (``<title>`` and heading) and text description (RGAA).
    classification : Classification, optional
        Default: Fisher–Jenks natural breaks of the values, rounded to readable
        bounds (:func:`~._breaks.data_classes`; one class per value when there
        are at most 5 distinct values).
    fmt : NumberFormat, optional
        Default: shares in percent, one decimal.
    palette : str, optional
        A sequential or diverging palette (see :func:`list_palettes`); default
        ``Blues``, ``DSFR`` with ``page_style="dsfr"``.
    suppressed : str, optional
        Boolean column: ``True`` draws "Effectif insuffisant" (hatched).
    fields : sequence of Field, optional
        Tooltip lines and table columns; the first one is the name.
    legend : LegendSpec, optional
    style : MapStyle, optional
    basemap : Basemap or str, default "plan_ign"
        ``"none"`` for a page that needs no network at all.
    assets : {"inline", "local", "cdn"}, default "inline"
        ``inline``: self-contained page (works offline, on an intranet, under
        a strict CSP). ``local``: Leaflet in ``assets/`` beside the page
        (written by :meth:`MapDocument.save`; one copy for a folder of maps).
        ``cdn``: Leaflet from jsDelivr with SRI.
    notes : sequence of str
        Lines under the map (source, method).
    national : str
        National figure, already formatted, shown in the index.
    national_value : float, optional
        The national value, marked in the legend beside its class.
    source : str
        The source line under the map (kept in the map-only variant).
    page_style : {"standard", "dsfr"}
        ``dsfr``: the DSFR's colour tokens and typography (:mod:`._style`).
    territories : Territories, optional
        Régions and départements that a deep link (``?territoire=84``,
        ``?territoire=dep-69``) can open, named; default: those of the
        features' ``region`` / ``departement`` columns.

    Returns
    -------
    MapDocument

    Raises
    ------
    SchemaError
        Missing column, no CRS, non-numeric values.
    UnknownValueError
        Unknown palette, basemap or assets mode.

    Examples
    --------
    >>> import barometre_geo as bg, numpy as np
    >>> regions = bg.load_territories().regions
    >>> regions["part"] = np.linspace(0.1, 0.9, len(regions))
    >>> doc = choropleth(regions, "part", title="Exemple", basemap="none")
    >>> doc.n_features, doc.classification.labels[0]
    (18, 'de 10\u202f% à 20\u202f%')
    """
    style = style or MapStyle()
    cols = [column] + ([suppressed] if suppressed else [])
    gdf = _prepare(gdf, cols, "choropleth")
    fmt = fmt or (classification.fmt if classification else NumberFormat.for_share())
    try:
        values = pd.to_numeric(gdf[column], errors="raise").astype("float64").to_numpy()
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            f"choropleth: column {column!r} must be numeric ({exc}). Convert it first, or "
            "use categorical_map for categories."
        ) from None
    sup = np.zeros(len(gdf), bool)
    if suppressed:
        sup = gdf[suppressed].fillna(False).astype(bool).to_numpy()
    values = np.where(sup, np.nan, values)
    gdf = gdf.assign(**{column: values})  # a suppressed value never reaches the page
    legend = legend or LegendSpec(title=title)
    if not np.isfinite(values).any():
        return empty_map(
            title,
            "Aucune valeur publiable pour cette carte"
            + (
                f" : {int(sup.sum())} territoire(s) — {legend.suppressed_short}."
                if sup.any()
                else "."
            ),
            description=description,
            notes=notes,
            source=source,
            page_style=page_style,
        )
    classification = classification or data_classes([values], fmt=fmt)
    classification = classification.with_counts(values)
    cls = classification.assign(values).astype(np.int64)
    cls[np.isnan(values)] = NO_DATA
    cls[sup] = SUPPRESSED
    palette = palette or style_palette(page_style)
    kind = "diverging" if get_palette(palette).kind == "diverging" else "sequential"
    colors = get_palette(palette, kind=kind).for_k(classification.k)
    value_field = Field(column, legend.title or "Valeur", kind="number", fmt=fmt, main=True)
    fields = list(fields) if fields is not None else _default_fields(gdf, value_field)
    simplified, geometry = _geometry(gdf, style)
    classes = [
        {"label": lab, "color": c} for lab, c in zip(classification.labels, colors, strict=True)
    ]
    layer = layer_spec(
        layer_id="choropleth",
        name=title,
        data=gdf,
        geometry=geometry,
        cls=cls,
        classes=classes,
        fields=fields,
        legend=legend,
        style=style,
        national=national_mark(classification, national_value, fmt),
    )
    return _finish(
        gdf=gdf,
        simplified=simplified,
        layers=[layer],
        title=title,
        description=description,
        notes=notes,
        basemap=basemap,
        assets=assets,
        classification=classification,
        national=national,
        style=style,
        source=source,
        page_style=page_style,
        territories=territories,
    )


def categorical_map(
    gdf,
    column: str,
    *,
    title: str,
    description: str = "",
    categories: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    palette: str = "OkabeIto",
    highlight: str | None = None,
    highlight_label: str = "Zone mise en évidence",
    highlight_color: str = "#b2182b",
    fields: Sequence[Field] | None = None,
    legend: LegendSpec | None = None,
    style: MapStyle | None = None,
    basemap: Basemap | str | None = "plan_ign",
    assets: str = "inline",
    notes: Sequence[str] = (),
    source: str = "",
    page_style: str = "standard",
    territories=None,
    hatched: Sequence[str] = (),
    outlines: Sequence[Outline] = (),
    views: ViewSet | None = None,
) -> MapDocument:
    """Draw territories coloured by category, with an optional highlighted-zones layer.

    Made for coverage maps: communes coloured by the structure serving them,
    uncovered communes outlined in a second layer with its own legend (each
    layer can be toggled; its legend follows).

    Parameters
    ----------
    column : str
        Category of each territory (missing = "Pas de réponse" style, labelled
        by ``legend.no_data_label``, e.g. "Non couverte").
    categories : sequence of str, optional
        Order of the categories in the legend; default: by decreasing count.
    colors : mapping of str to str, optional
        Colour of some or all categories; the others take ``palette`` colours.
    palette : str, default "OkabeIto"
        A qualitative palette with at least as many colours as categories.
    highlight : str, optional
        Boolean column: territories drawn in the highlighted-zones layer.
    highlight_label, highlight_color : str
        Legend label and outline colour of that layer.
    hatched : sequence of str
        Categories drawn hatched (grey lines on white) instead of a colour,
        e.g. « Non couverte »: they recede behind the coloured ones.
    outlines : sequence of Outline
        Groups of territories outlined over the map (not interactive).
    views : ViewSet, optional
        Selectable views (one per structure…): a selector, ``?<param>=<key>``
        URLs, a panel under the map (see :mod:`._views`).

    Examples
    --------
    >>> import barometre_geo as bg
    >>> d = bg.load_territories().departements
    >>> d["structure"] = d["region"].map({"84": "OPSN A", "93": "OPSN B"})
    >>> d["hors"] = d["structure"].isna()
    >>> doc = categorical_map(d, "structure", title="Couverture", highlight="hors", basemap="none")
    >>> doc.n_features
    101
    """
    style = style or MapStyle()
    legend = legend or LegendSpec(title=title)
    gdf = _prepare(gdf, [column] + ([highlight] if highlight else []), "categorical_map")
    raw = gdf[column].astype("object").where(gdf[column].notna(), None)
    present = pd.Series([v for v in raw if v is not None], dtype="object").astype(str)
    if categories is None:
        categories = list(present.value_counts(sort=True).index)
    categories = [str(c) for c in categories]
    unknown = sorted(set(present) - set(categories))
    if unknown:
        raise SchemaError(
            f"categorical_map: {len(unknown)} value(s) of {column!r} are not in categories "
            f"(first: {unknown[:5]}). Add them to categories, or leave categories=None."
        )
    colors = dict(colors or {})
    free = [c for c in categories if c not in colors]
    if free:
        pal = get_palette(palette, kind="qualitative")
        lo, hi = pal.k_range
        if len(free) > hi:
            raise SchemaError(
                f"categorical_map: {len(free)} categories without a colour, palette {pal.name!r} "
                f"has {hi}. Pass colors={{category: '#rrggbb'}} for some, group rare categories "
                "into 'Autres', or choose a larger palette ('Paired' has 12)."
            )
        for cat, col in zip(free, pal.for_k(max(lo, len(free))), strict=False):
            colors[cat] = col
    index = {c: i for i, c in enumerate(categories)}
    cls = np.array([NO_DATA if v is None else index[str(v)] for v in raw], dtype=np.int64)
    cat_field = Field(column, legend.title or "Catégorie", kind="text")
    shown = gdf.assign(**{column: [legend.no_data if v is None else str(v) for v in raw]})
    fields = list(fields) if fields is not None else _default_fields(shown, cat_field)[:-1]
    simplified, geometry = _geometry(shown, style)
    layers = [
        layer_spec(
            layer_id="categories",
            name=legend.title or title,
            data=shown,
            geometry=geometry,
            cls=cls,
            classes=[
                {"label": c, "color": colors[c]}
                | ({"pattern": dict(HATCH_PATTERN)} if c in set(hatched) else {})
                for c in categories
            ],
            fields=fields,
            legend=legend,
            style=style,
            no_data_pattern=False,
        )
    ]
    layers += outline_layers(outlines, shown, simplified, style)
    extra = {}
    if views is not None:
        import shapely

        extra["views"] = views_payload(views, shapely.bounds(simplified), categories)
    scripts = ("bgeo-views.js",) if views is not None or legend.compact or outlines else ()
    if highlight:
        mask = shown[highlight].fillna(False).astype(bool).to_numpy()
        if mask.any():
            sub = shown[mask].reset_index(drop=True)
            layers.append(
                layer_spec(
                    layer_id="highlight",
                    name=highlight_label,
                    data=sub,
                    geometry=encode_geometry(simplified[mask], quantum=style.grid(len(shown))),
                    cls=np.zeros(len(sub), dtype=np.int64),
                    classes=[{"label": highlight_label, "color": None, "outline": highlight_color}],
                    fields=fields,
                    legend=LegendSpec(title=highlight_label, counts=legend.counts),
                    style=MapStyle(stroke_weight=0, outline_weight=style.outline_weight),
                    no_data_pattern=False,
                )
            )
    return _finish(
        gdf=shown,
        simplified=simplified,
        layers=layers,
        title=title,
        description=description,
        notes=notes,
        basemap=basemap,
        assets=assets,
        classification=None,
        national="",
        style=style,
        source=source,
        page_style=page_style,
        territories=territories,
        extra=extra,
        scripts=scripts,
    )
