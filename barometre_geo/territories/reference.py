"""The territorial reference: communes, EPCI, départements, régions.

:func:`load_territories` returns a :class:`Territories` holding four
GeoDataFrames in WGS84 whose geometries nest exactly (EPCI, départements and
régions are dissolved from the commune coverage). The default is the embedded
COG 2025 reference, which works offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import pandas as pd

from ..errors import UnknownValueError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = ["LEVELS", "Level", "Territories", "from_frames", "parse_level"]

Level = Literal["commune", "epci", "departement", "region"]
#: The four territorial levels, from the finest to the coarsest.
LEVELS: tuple[str, ...] = get_args(Level)

_LEVEL_LABELS = {
    "commune": "Communes",
    "epci": "EPCI à fiscalité propre",
    "departement": "Départements",
    "region": "Régions",
}
_ATTR = {"commune": "communes", "epci": "epci", "departement": "departements", "region": "regions"}

_COLUMNS: dict[str, list[str]] = {
    "commune": [
        "code",
        "nom",
        "siren",
        "population",
        "area_km2",
        "epci",
        "departement",
        "region",
        "zone",
        "geometry",
    ],
    "epci": [
        "code",
        "nom",
        "siren",
        "nature",
        "population",
        "area_km2",
        "n_communes",
        "siege",
        "departement",
        "region",
        "departements",
        "zone",
        "geometry",
    ],
    "departement": [
        "code",
        "nom",
        "siren",
        "region",
        "population",
        "area_km2",
        "n_communes",
        "zone",
        "geometry",
    ],
    "region": ["code", "nom", "siren", "population", "area_km2", "n_communes", "zone", "geometry"],
}


def parse_level(level: str, *, allowed: tuple[str, ...] = LEVELS) -> str:
    """Validate a level name, listing the valid ones in the error.

    Examples
    --------
    >>> parse_level("Departement")
    'departement'
    """
    value = str(level).strip().lower().replace("é", "e")
    aliases = {"communes": "commune", "departements": "departement", "regions": "region"}
    value = aliases.get(value, value)
    if value not in allowed:
        raise UnknownValueError(
            f"Unknown level {level!r}. Valid levels: {', '.join(allowed)}.",
            fr=f"Niveau {level!r} inconnu. Niveaux possibles : {', '.join(allowed)}.",
        )
    return value


@dataclass(frozen=True, repr=False, eq=False)
class Territories:
    """Communes, EPCI, départements and régions of one COG year.

    Attributes
    ----------
    communes, epci, departements, regions : geopandas.GeoDataFrame
        One row per territory, geometries in EPSG:4326. Every level has ``code``,
        ``nom``, ``siren``, ``population`` and ``area_km2`` (km², measured in the
        zone's projection, see :mod:`barometre_geo.territories.crs`).
    identifiers : pandas.DataFrame
        Long table ``kind, key, code, nom`` of the identifiers the resolver
        knows besides the current codes: former codes, arrondissements
        municipaux, communes déléguées, postal codes, SIREN of collectivités.
    cog : int
        Year of the Code officiel géographique.
    source : str
        ``"embedded"`` or the path of the source read.
    provenance : dict
        Sources, versions, hashes and repairs of the reference.
    """

    communes: gpd.GeoDataFrame
    epci: gpd.GeoDataFrame
    departements: gpd.GeoDataFrame
    regions: gpd.GeoDataFrame
    identifiers: pd.DataFrame
    cog: int = 2025
    source: str = "embedded"
    provenance: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ access
    def level(self, level: str) -> gpd.GeoDataFrame:
        """Return the GeoDataFrame of a level (``"commune"``, ``"epci"``…).

        Examples
        --------
        >>> import barometre_geo as bg
        >>> len(bg.load_territories().level("region"))
        18
        """
        return getattr(self, _ATTR[parse_level(level)])

    def summary(self) -> pd.DataFrame:
        """Return counts, populations and areas per level.

        Returns
        -------
        pandas.DataFrame
            Indexed by level, columns ``label``, ``count``, ``population``,
            ``area_km2``, ``metropole``, ``outre_mer``.

        Examples
        --------
        >>> import barometre_geo as bg
        >>> s = bg.load_territories().summary()
        >>> int(s.loc["commune", "count"]), int(s.loc["departement", "count"])
        (34875, 101)
        """
        rows = []
        for level in LEVELS:
            gdf = self.level(level)
            metro = gdf["zone"] == "metropole"
            rows.append(
                {
                    "level": level,
                    "label": _LEVEL_LABELS[level],
                    "count": len(gdf),
                    "population": int(gdf["population"].sum()),
                    "area_km2": float(gdf["area_km2"].sum()),
                    "metropole": int(metro.sum()),
                    "outre_mer": int((~metro).sum()),
                }
            )
        return pd.DataFrame(rows).set_index("level")

    def resolve(self, values, *, departement=None, holds="auto", names=None) -> pd.DataFrame:
        """Resolve messy identifiers (codes, SIREN/SIRET, names) to territories.

        See :func:`barometre_geo.resolve.resolve` for the full description.
        """
        from .resolve import resolve

        return resolve(self, values, departement=departement, holds=holds, names=names)

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        s = self.summary()
        parts = ", ".join(f"{int(s.loc[lv, 'count']):,} {lv}" for lv in LEVELS)
        return f"<Territories COG {self.cog} ({self.source}): {parts}>"

    def _repr_html_(self) -> str:
        from html import escape

        s = self.summary()
        body = "".join(
            f"<tr><td>{escape(str(r.label))}</td><td style='text-align:right'>{r.count:,}</td>"
            f"<td style='text-align:right'>{r.population:,}</td>"
            f"<td style='text-align:right'>{r.area_km2:,.0f}</td></tr>"
            for r in s.itertuples()
        )
        return (
            f"<div><strong>Territoires — COG {self.cog}</strong> "
            f"<small>({escape(self.source)})</small>"
            "<table><thead><tr><th>Niveau</th><th>Nombre</th><th>Population</th>"
            f"<th>Superficie (km²)</th></tr></thead><tbody>{body}</tbody></table></div>"
        )


def _copy(t: Territories) -> Territories:
    return Territories(
        communes=t.communes.copy(),
        epci=t.epci.copy(),
        departements=t.departements.copy(),
        regions=t.regions.copy(),
        identifiers=t.identifiers.copy(),
        cog=t.cog,
        source=t.source,
        provenance=dict(t.provenance),
    )


def from_frames(
    levels: dict[str, gpd.GeoDataFrame],
    identifiers: pd.DataFrame | None = None,
    *,
    cog: int,
    source: str | Path,
    provenance: dict | None = None,
) -> Territories:
    """Assemble a :class:`Territories` from four GeoDataFrames (used by source readers)."""
    ids = (
        identifiers
        if identifiers is not None
        else pd.DataFrame(columns=["kind", "key", "code", "nom"])
    )
    return Territories(
        communes=levels["commune"],
        epci=levels["epci"],
        departements=levels["departement"],
        regions=levels["region"],
        identifiers=ids,
        cog=cog,
        source=str(source),
        provenance=provenance or {},
    )
