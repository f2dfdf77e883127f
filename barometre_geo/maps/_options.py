"""Small typed option objects of the HTML maps (no ``**kwds`` dicts).

* :class:`Basemap`: background tiles (Plan IGN by default, ``none``,
  OpenStreetMap, CartoDB), resolved through xyzservices.
* :class:`MapStyle`: strokes, opacity, simplification and quantisation.
* :class:`LegendSpec`: legend title, subtitle, labels of the cells without value.
* :class:`Field`: one tooltip line and table column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from .._format import NumberFormat
from ..errors import SchemaError, UnknownValueError

__all__ = [
    "ASSETS",
    "BASEMAPS",
    "Assets",
    "Basemap",
    "Field",
    "LegendSpec",
    "MapStyle",
    "Outline",
    "parse_assets",
]

BasemapName = Literal["plan_ign", "osm", "cartodb", "none"]
#: Basemaps accepted by :class:`Basemap`.
BASEMAPS: tuple[str, ...] = get_args(BasemapName)

Assets = Literal["inline", "local", "cdn"]
#: How Leaflet's JavaScript and CSS reach the page.
ASSETS: tuple[str, ...] = get_args(Assets)

_PROVIDERS = {
    "plan_ign": ("GeoportailFrance", "plan"),
    "osm": ("OpenStreetMap", "Mapnik"),
    "cartodb": ("CartoDB", "Positron"),
}
# xyzservices' attribution for the Géoplateforme misses a space between two HTML
# attributes; Plan IGN is credited to IGN, its producer.
_IGN_ATTRIBUTION = (
    '<a href="https://www.ign.fr/" target="_blank" rel="noopener">IGN</a> – Plan IGN '
    '(<a href="https://geoservices.ign.fr/" target="_blank" rel="noopener">Géoplateforme</a>)'
)
_LABELS = {"plan_ign": "Plan IGN", "osm": "OpenStreetMap", "cartodb": "CartoDB Positron"}


def parse_assets(assets: str) -> str:
    """Validate an ``assets`` mode (``"inline"``, ``"local"`` or ``"cdn"``)."""
    value = str(assets).strip().lower()
    if value not in ASSETS:
        raise UnknownValueError(
            f"Unknown assets mode {assets!r}. Valid modes: {', '.join(ASSETS)}.",
            fr=f"Mode de ressources {assets!r} inconnu. Modes possibles : {', '.join(ASSETS)}.",
        )
    return value


@dataclass(frozen=True)
class Basemap:
    """Background tiles of a map.

    Attributes
    ----------
    name : {"plan_ign", "osm", "cartodb", "none"}
        ``plan_ign``: IGN's Plan IGN from the Géoplateforme (open, no key),
        ``xyzservices.providers.GeoportailFrance.plan``; ``osm``:
        OpenStreetMap; ``cartodb``: CartoDB Positron (needs ``api_key``);
        ``none``: no tiles — the page then needs no network at all.
    api_key : str, optional
        Key for providers that need one.
    opacity : float, default 1

    Examples
    --------
    >>> Basemap("plan_ign").tiles()["url"][:23]
    'https://data.geopf.fr/w'
    >>> Basemap.parse("none").tiles() is None
    True
    """

    name: str = "plan_ign"
    api_key: str | None = None
    opacity: float = 1.0

    def __post_init__(self):
        name = str(self.name).strip().lower()
        if name not in BASEMAPS:
            raise UnknownValueError(
                f"Unknown basemap {self.name!r}. Valid basemaps: {', '.join(BASEMAPS)}."
            )
        object.__setattr__(self, "name", name)

    @classmethod
    def parse(cls, value: Basemap | str | None) -> Basemap:
        """Accept a :class:`Basemap`, a name or ``None`` (= ``"none"``)."""
        if isinstance(value, Basemap):
            return value
        return cls("none" if value is None else value)

    @property
    def label(self) -> str:
        """French label shown in the layer control."""
        return _LABELS.get(self.name, "")

    def tiles(self) -> dict | None:
        """URL template, attribution and zoom range, or ``None`` for ``"none"``."""
        if self.name == "none":
            return None
        import xyzservices.providers as xyz

        group, variant = _PROVIDERS[self.name]
        provider = xyz[group][variant]
        if provider.requires_token() and not self.api_key:
            raise UnknownValueError(
                f"Basemap {self.name!r} ({provider.name}) needs an API key: pass "
                f"Basemap({self.name!r}, api_key='...'), or use basemap 'plan_ign', 'osm' "
                "or 'none'."
            )
        if self.api_key:
            provider = provider.copy()
            provider["apikey"] = self.api_key
        url = provider.build_url(fill_subdomain=False, scale_factor="{r}")
        attribution = _IGN_ATTRIBUTION if self.name == "plan_ign" else provider.html_attribution
        return {
            "url": url,
            "attribution": attribution,
            "max_zoom": int(provider.get("max_zoom", 18)),
            "subdomains": provider.get("subdomains", "abc"),
            "origin": url.split("/")[2],
        }


@dataclass(frozen=True)
class MapStyle:
    """Drawing options of a polygon layer.

    Attributes
    ----------
    stroke_color : str
        Colour of the borders between territories.
    stroke_weight : float
        Border width in pixels (``0``: no border, the fastest to draw).
        Default ``None``: 0.6 px up to 2,000 features; above (communes), no
        border at national scale — sub-pixel borders of 35,000 polygons cost
        a second of drawing and show nothing — and 0.5 px from zoom 8 on.
    fill_opacity : float
    highlight_color : str
        Border of the territory under the pointer.
    outline_weight : float
        Border width of outlined categories (highlighted zones).
    simplify : float, optional
        Coverage simplification tolerance in degrees (``0``: none). Default:
        0.008° (~0.7 km) above 5,000 features (communes), 0.005° above 500
        (EPCI), 0.01° otherwise (départements, régions).
    quantum : float, optional
        Coordinate grid in degrees; default ``simplify / 16`` (≥ 0.00005°).
    insets : bool, default True
        Draw the overseas départements and, for layers finer than the
        département, Île-de-France in insets beside metropolitan France
        (:mod:`~._layout`); ``False``: the main map alone.
    """

    stroke_color: str = "#ffffff"
    stroke_weight: float | None = None
    fill_opacity: float = 0.85
    highlight_color: str = "#1e1e1e"
    outline_weight: float = 2.0
    simplify: float | None = None
    quantum: float | None = None
    insets: bool = True

    def tolerance(self, n: int) -> float:
        """Simplification tolerance for a layer of ``n`` features."""
        if self.simplify is not None:
            if self.simplify < 0:
                raise SchemaError(
                    f"MapStyle.simplify must be ≥ 0, got {self.simplify}. Use 0 to skip."
                )
            return float(self.simplify)
        return 0.008 if n > 5000 else 0.005 if n > 500 else 0.01

    def grid(self, n: int) -> float:
        """Quantisation step for a layer of ``n`` features."""
        if self.quantum is not None:
            if self.quantum <= 0:
                raise SchemaError(f"MapStyle.quantum must be > 0, got {self.quantum}. Try 1e-4.")
            return float(self.quantum)
        return max(self.tolerance(n) / 16, 5e-5)

    def weight(self, n: int) -> float:
        """Border width for a layer of ``n`` features."""
        if self.stroke_weight is not None:
            return float(self.stroke_weight)
        return 0.6 if n <= 2000 else 0.0

    def zoom_weight(self, n: int) -> float:
        """Border width from zoom 8 on (0.5 px for large default layers)."""
        return self.weight(n) if self.stroke_weight is not None or n <= 2000 else 0.5


@dataclass(frozen=True)
class LegendSpec:
    """Legend of a layer (French).

    Attributes
    ----------
    title : str
        Legend title, e.g. "Part des collectivités disposant d'un site".
    subtitle : str
        Second line, e.g. the unit or the classification ("Seuils fixes").
    min_n : int
        The suppression threshold, quoted in "Effectif insuffisant (moins de
        5 réponses)".
    no_data_label, suppressed_label : str, optional
        Override the labels of territories without answer / suppressed.
    counts : bool
        Show the number of territories per class.
    note : str
        A last line under the classes.
    compact : bool
        For long legends (a class per structure): a button folds the legend
        (folded at first on maps under 600 px wide), a search box filters
        its entries, and the list scrolls within the height the map leaves
        it — the legend never runs past the map.
    """

    title: str = ""
    subtitle: str = ""
    min_n: int = 5
    no_data_label: str | None = None
    suppressed_label: str | None = None
    counts: bool = True
    note: str = ""
    compact: bool = False

    @property
    def no_data(self) -> str:
        """Label of territories without any answer."""
        return self.no_data_label or "Pas de réponse"

    @property
    def suppressed(self) -> str:
        """Label of territories whose value is not published (too few answers by default)."""
        if self.suppressed_label:
            return self.suppressed_label
        plural = "réponse" if self.min_n <= 1 else "réponses"
        return f"Effectif insuffisant (moins de {self.min_n} {plural})"

    @property
    def suppressed_short(self) -> str:
        """Short form of :attr:`suppressed`, in the tooltip and the data table."""
        label = self.suppressed
        return "effectif insuffisant" if label.startswith("Effectif insuffisant") else label.lower()


@dataclass(frozen=True)
class Outline:
    """Outlines of groups of territories drawn over a map (e.g. uncovered zones).

    The territories sharing a value of ``column`` are dissolved (on the map's
    own simplified geometry, so outlines fall exactly on the territories'
    borders) and drawn as an outline only, not interactive: the tooltips stay
    those of the territories. The legend shows ``label`` and ``note``.

    Attributes
    ----------
    column : str
        Group of each territory (empty or missing: not outlined).
    label : str
        Legend label.
    color : str
    weight : float
        Line width in pixels.
    note : str
        Legend note (e.g. how the groups are named).
    """

    column: str
    label: str
    color: str = "#3a3a3a"
    weight: float = 1.2
    note: str = ""


FieldKind = Literal["text", "number", "range", "class"]


@dataclass(frozen=True)
class Field:
    """One line of the tooltip and one column of the data table.

    Attributes
    ----------
    column : str or tuple of two str
        Column of the data (two columns ``(low, high)`` for ``kind="range"``).
    label : str
        French label.
    kind : {"text", "number", "range", "class"}
        ``class`` shows the class label of the feature (no column needed).
    fmt : NumberFormat, optional
        Format of ``number`` and ``range`` fields (default: integer count).
    main : bool
        The mapped value: shows "effectif insuffisant" / "pas de réponse"
        instead of an empty cell.
    """

    column: str | tuple[str, str] = ""
    label: str = ""
    kind: str = "number"
    fmt: NumberFormat | None = None
    main: bool = False

    def __post_init__(self):
        if self.kind not in get_args(FieldKind):
            raise UnknownValueError(
                f"Unknown field kind {self.kind!r}. Valid kinds: {', '.join(get_args(FieldKind))}."
            )
        if self.kind == "range" and not (isinstance(self.column, tuple) and len(self.column) == 2):
            raise SchemaError(
                f"Field {self.label!r}: kind='range' needs column=(low_column, high_column), "
                f"got {self.column!r}."
            )

    @property
    def columns(self) -> tuple[str, ...]:
        """Data columns this field reads."""
        if self.kind == "class":
            return ()
        return self.column if isinstance(self.column, tuple) else (self.column,)

    @property
    def number_format(self) -> NumberFormat:
        """Format of the numbers (integer count by default)."""
        return self.fmt or NumberFormat(share=False, decimals=0, unit="")
