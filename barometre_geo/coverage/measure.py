"""Coverage of the territory by mutualisation structures (OPSN…).

:func:`coverage` answers, from a :class:`~barometre_geo.structures.Structures`:

* which communes are served, by how many structures and which ones;
* the share of communes, population and area covered per EPCI, département,
  région and France, and how many communes are served by several structures;
* the **uncovered zones**: contiguous uncovered communes (sharing an edge)
  dissolved into polygons, sorted by population;
* for each structure, the uncovered communes adjacent to its territory and
  the nearest other ones (km, in each zone's projection, never across oceans);
* with survey responses, participation in covered vs uncovered territory and
  the agreement between declared membership and the spatial coverage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import SchemaError, UnknownValueError
from .read import source_name
from .survey import DECLARED_COLUMN, SurveyCrossing

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from ..territories.reference import Territories
    from .structures import Structures, StructuresReport

__all__ = ["DECLARED_COLUMN", "CoverageResult", "SurveyCrossing", "coverage"]

RATE_LEVELS = ("epci", "departement", "region", "france", "france_metropolitaine", "outre_mer")
_NATIONAL = {
    "france": ("FR", "France"),
    "france_metropolitaine": ("FRM", "France métropolitaine"),
    "outre_mer": ("DROM", "Outre-mer"),
}


@dataclass(frozen=True, repr=False, eq=False)
class CoverageResult:
    """Coverage of the territory by mutualisation structures.

    Attributes
    ----------
    communes : geopandas.GeoDataFrame
        Every commune (EPSG:4326): ``code``, ``siren``, ``nom``, ``epci``,
        ``epci_nom``, ``departement``, ``departement_nom``, ``region``,
        ``zone``, ``population``, ``area_km2``, ``covered``,
        ``n_structures``, ``structures`` (names, `` ; ``-separated),
        ``structure_ids``, ``categorie`` (the serving structure's name — with
        its key when two share a name —, « Plusieurs structures » or « Non
        couverte », for maps and styles), ``answered_waves``
        (« 1, 3 »; empty: did not answer; NA: no responses given),
        ``uncovered_zone``; for uncovered communes, their nearest
        structure(s): ``nearest_structures`` (ids), ``nearest_structures_nom``,
        ``nearest_km``, ``nearest_adjacent``, ``nearest_approx`` (see
        :mod:`~barometre_geo.coverage.nearby`).
    rates : pandas.DataFrame
        One row per territory of each level in :data:`RATE_LEVELS`: ``level``,
        ``code``, ``nom``, ``n_communes``, ``n_covered``, ``share_communes``,
        ``population``, ``population_covered``, ``share_population``,
        ``area_km2``, ``area_covered_km2``, ``share_area``, ``n_overlap``
        (communes served by two structures or more), ``n_structures``.
    zones : geopandas.GeoDataFrame
        Uncovered zones (contiguous uncovered communes of one département)
        sorted by population: ``zone_id`` (``Z14-01``: see
        :data:`~barometre_geo.coverage.zones.ZONE_ID_SCHEME`), ``nom``,
        ``commune_principale``, ``n_communes``, ``population``, ``area_km2``,
        ``departement``, ``departement_nom``, ``region``, ``zone``,
        ``communes`` (space-separated codes).
    overlaps : geopandas.GeoDataFrame
        One row per pair of structures serving common communes.
    structures : pandas.DataFrame
        Per structure: ``id``, ``cle`` (key in URLs and file names),
        ``nom``, ``siren``, ``type``, ``statut``, ``n_communes``,
        ``population``, ``area_km2``, ``departements``, its share of them
        (``n_communes_departements``, ``population_departements``,
        ``share_communes_departements``, ``share_population_departements``),
        ``n_shared``, ``n_respondents``, ``n_adjacent_uncovered``,
        ``population_adjacent_uncovered``, ``nearest_uncovered_km``,
        ``n_prospects``, ``n_prospects_answered``.
    nearby : pandas.DataFrame
        The prospects of each structure, ranked (adjacent first, then
        distance, then population): ``structure``, ``nom_structure``,
        ``rank``, ``commune``, ``siren``, ``nom``, ``departement``,
        ``departement_nom``, ``epci``, ``epci_nom``, ``population``,
        ``adjacent`` (shares an edge with the territory), ``distance_km``,
        ``in_departements``, ``answered_waves``, ``uncovered_zone``. Every
        adjacent commune, every uncovered commune of the départements it
        serves, then the ``nearest`` closest others within ``max_distance_km``.
    neighbours : pandas.DataFrame
        Neighbouring structures (``structure_a < structure_b``): ``shared``
        (communes served by both), ``edges`` (commune edges between them).
    survey : SurveyCrossing or None
        Crossing with the responses, when given.
    report : StructuresReport
        The reading report of the structures.
    parameters : dict
        COG, structures source, ``nearest``, ``max_distance_km``,
        ``synthetic_responses`` (the responses are the synthetic demo; None without).
    territories : Territories
        The reference used (geometries of the levels for exports).
    """

    communes: gpd.GeoDataFrame
    rates: pd.DataFrame
    zones: gpd.GeoDataFrame
    overlaps: gpd.GeoDataFrame
    structures: pd.DataFrame
    nearby: pd.DataFrame
    neighbours: pd.DataFrame
    survey: SurveyCrossing | None
    report: StructuresReport
    parameters: dict
    territories: Territories = field(repr=False)

    def national(self, level: str = "france") -> dict:
        """Return the shares of one national row as a dict.

        Examples
        --------
        >>> import barometre_geo as bg
        >>> r = bg.coverage(bg.load_demo_structures())
        >>> 0 < r.national()["share_communes"] < 1
        True
        """
        row = self.rates[self.rates["level"] == level].iloc[0]
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}

    def rates_at(self, level: str) -> gpd.GeoDataFrame:
        """Return the rates of one level with the territories' geometries.

        Parameters
        ----------
        level : {"epci", "departement", "region"}
        """
        import geopandas as gpd

        from ..territories.reference import parse_level

        lv = parse_level(level, allowed=("epci", "departement", "region"))
        geo = self.territories.level(lv)[["code", "geometry"]]
        # the zone (projection) of each territory, from its communes
        zone = self.communes.groupby(lv)["zone"].first().rename_axis("code").reset_index()
        sub = self.rates[self.rates["level"] == lv].merge(zone, on="code", how="left")
        sub = sub.merge(geo, on="code", how="left")
        return gpd.GeoDataFrame(sub, geometry="geometry", crs=geo.crs)

    def summary(self, *, top: int = 5) -> dict:
        """Return a JSON-serialisable summary (national shares, top zones, report)."""
        zones = self.zones.head(top)
        out = {
            "cog": self.parameters["cog"],
            "structures_source": source_name(self.parameters["source"]),
            "structures": len(self.structures),
            "structures_with_territory": int((self.structures["n_communes"] > 0).sum()),
            "unknown_members": len(self.report.unknown_members),
            "without_territory": list(self.report.without_territory),
            "national": {lv: self.national(lv) for lv in _NATIONAL},
            "uncovered_zones": len(self.zones),
            "top_uncovered_zones": [
                {k: z[k] for k in ("zone_id", "nom", "n_communes", "population", "departement")}
                | {"area_km2": round(float(z["area_km2"]), 1), "population": int(z["population"])}
                for _, z in zones.iterrows()
            ],
        }
        if self.survey is not None:
            fr = self.survey.participation.iloc[0]
            out["survey"] = {
                k: (None if pd.isna(fr[k]) else float(fr[k]))
                for k in ("rate_covered", "rate_uncovered", "difference", "p_value")
            } | {
                "agreement_rate": self.survey.agreement_rate,
                "kappa": self.survey.kappa,
                "respondents": self.survey.n_respondents,
            }
        return out

    def to_text(self, *, top: int = 5) -> str:
        """Return a short French summary."""
        return _text(self, top=top)

    def to_gpkg(self, path):
        """Write the coverage to a GeoPackage; returns the path.

        Metropolitan layers in Lambert-93, one layer per overseas département
        in its own projection, non-spatial tables and a ``metadonnees`` table
        listing every layer and its CRS (see :mod:`barometre_geo.coverage.export`).
        """
        from .export import write_gpkg

        return write_gpkg(self, path)

    def to_map(self, *, title: str | None = None, basemap="plan_ign", assets="inline", lists=False):
        """Return the coverage map as a :class:`barometre_geo.maps.MapDocument`.

        Communes coloured by the structure serving them (neighbouring structures
        never share a colour), « Plusieurs structures » where they overlap,
        uncovered communes hatched and uncovered zones outlined; a compact,
        searchable legend; one view per structure (``?structure=<cle>``) with
        its figures and prospects. Same machinery and options as the indicator
        maps (``basemap``, ``assets``); ``lists=True`` links each view to the
        prospect lists written next to the page (:mod:`~barometre_geo.coverage.lists`).
        See :mod:`barometre_geo.coverage.map`.
        """
        from .map import coverage_map

        return coverage_map(self, title=title, basemap=basemap, assets=assets, lists=lists)

    def prospects(self, structure: str | None = None) -> pd.DataFrame:
        """Return a prospect list with its French headers, as written to CSV and XLSX.

        Parameters
        ----------
        structure : str, optional
            A structure's id or key (``structures["cle"]``): its prospects,
            adjacent first, then by distance and population. ``None``: every
            uncovered commune of France with its nearest structure.

        Examples
        --------
        >>> import barometre_geo as bg
        >>> r = bg.coverage([{"nom": "Syndicat de Corse-du-Sud", "departements": ["2A"]}])
        >>> r.prospects("syndicat-de-corse-du-sud")["Département"].unique().tolist()
        ['2B']
        """
        from .lists import france_list, prospect_list

        return france_list(self) if structure is None else prospect_list(self, structure)

    def to_lists(self, folder) -> list:
        """Write every prospect list (CSV, XLSX) and their dictionary under ``folder``.

        ``couverture/prospects/<cle>.csv|.xlsx``, ``couverture/communes-non-couvertes``
        and ``couverture/dictionnaire.md`` (see :mod:`barometre_geo.coverage.lists`),
        next to where ``to_html(..., lists=True)`` links them. Returns the paths.
        """
        from .lists import write_lists

        return write_lists(self, folder)

    def to_html(self, path, **options):
        """Write :meth:`to_map` to an HTML file (atomic); returns the path."""
        from .export import write_html

        return write_html(self, path, **options)

    def __repr__(self) -> str:
        fr = self.national()
        return (
            f"<CoverageResult: {fr['n_covered']:,}/{fr['n_communes']:,} communes covered "
            f"({fr['share_communes']:.1%}), population {fr['share_population']:.1%}, "
            f"{len(self.zones):,} uncovered zones>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(self.to_text())}</pre>"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %".replace(".", ",")


def _dec(x: float, spec: str = ".2g") -> str:
    return format(x, spec).replace(".", ",")


def _num(x) -> str:
    return f"{int(x):,}".replace(",", "\u202f")


def _text(r: CoverageResult, *, top: int) -> str:
    s = r.summary(top=top)
    lines = [
        f"Couverture par les structures de mutualisation — COG {s['cog']}",
        f"Structures lues : {s['structures']} ({s['structures_with_territory']} avec un "
        f"territoire) — source : {s['structures_source']}",
    ]
    if s["unknown_members"] or s["without_territory"]:
        lines.append(
            f"Membres inconnus : {s['unknown_members']} ; sans territoire : "
            f"{', '.join(s['without_territory']) or 'aucune'}"
        )
    for lv, label in (("france", "France"), ("france_metropolitaine", "Métropole")):
        n = s["national"][lv]
        lines.append(
            f"{label} : {_num(n['n_covered'])} communes couvertes sur {_num(n['n_communes'])} "
            f"({_pct(n['share_communes'])}), population {_pct(n['share_population'])}, "
            f"superficie {_pct(n['share_area'])} ; {_num(n['n_overlap'])} en chevauchement"
        )
    lines.append(
        f"Zones non couvertes : {_num(s['uncovered_zones'])} (communes non couvertes contiguës "
        "d'un même département ; Z14-01 = la plus peuplée du Calvados) ; les plus peuplées :"
    )
    for z in s["top_uncovered_zones"]:
        lines.append(
            f"  {z['zone_id']}  {z['nom']} — {_num(z['n_communes'])} "
            f"commune{'s' if z['n_communes'] > 1 else ''}, "
            f"{_num(z['population'])} hab., {_num(z['area_km2'])} km²"
        )
    if "survey" in s:
        v = s["survey"]
        lines.append(
            f"Participation : {_pct(v['rate_covered'])} des communes couvertes ont répondu, "
            f"{_pct(v['rate_uncovered'])} des non couvertes (p = {_dec(v['p_value'])})"
        )
        if v["kappa"] is not None:
            lines.append(
                f"Accord déclaré / couverture : {_pct(v['agreement_rate'])}, "
                f"kappa = {_dec(v['kappa'], '.2f')}"
            )
    return "\n".join(lines)


def _positions(structures, communes) -> np.ndarray:
    pos = pd.Index(communes["code"]).get_indexer(structures.members["commune"])
    if (pos < 0).any():
        bad = structures.members.loc[pos < 0, "commune"].unique()
        raise SchemaError(
            f"{len(bad)} commune code(s) of the structures are not in the territorial reference "
            f"(first 5: {', '.join(map(str, bad[:5]))}). Read the structures with "
            "read_structures(..., territories=t) using the same Territories as coverage()."
        )
    return pos


def _rates(c: pd.DataFrame, members: pd.DataFrame, territories) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "n_communes": 1,
            "n_covered": c["covered"].astype("int64"),
            "population": c["population"].fillna(0).astype("int64"),
            "area_km2": c["area_km2"],
            "n_overlap": (c["n_structures"] > 1).astype("int64"),
        }
    )
    frame["population_covered"] = frame["population"].where(c["covered"], 0)
    frame["area_covered_km2"] = frame["area_km2"].where(c["covered"], 0.0)
    keys = {
        "epci": c["epci"],
        "departement": c["departement"],
        "region": c["region"],
        "france": pd.Series("FR", index=c.index),
        "france_metropolitaine": pd.Series("FRM", index=c.index).where(c["zone"] == "metropole"),
        "outre_mer": pd.Series("DROM", index=c.index).where(c["zone"] != "metropole"),
    }
    served = c.iloc[members["pos"].to_numpy()].reset_index(drop=True)
    served["structure"] = members["structure"].to_numpy()
    out = []
    for level in RATE_LEVELS:
        key = keys[level]
        sums = frame.groupby(key.rename("code"), dropna=True).sum()
        skey = keys[level].iloc[members["pos"].to_numpy()].reset_index(drop=True)
        sums["n_structures"] = (
            served.groupby(skey.rename("code"))["structure"].nunique().reindex(sums.index)
        )
        if level in _NATIONAL:
            names = {_NATIONAL[level][0]: _NATIONAL[level][1]}
        else:
            lv = territories.level(level)
            names = dict(zip(lv["code"], lv["nom"], strict=True))
        sums = sums.reset_index()
        sums.insert(0, "level", level)
        sums.insert(2, "nom", sums["code"].map(names))
        out.append(sums)
    rates = pd.concat(out, ignore_index=True)
    rates["n_structures"] = rates["n_structures"].fillna(0).astype("int64")
    rates["share_communes"] = rates["n_covered"] / rates["n_communes"]
    rates["share_population"] = rates["population_covered"] / rates["population"].where(
        rates["population"] > 0
    )
    rates["share_area"] = rates["area_covered_km2"] / rates["area_km2"]
    cols = ["level", "code", "nom", "n_communes", "n_covered", "share_communes", "population"]
    cols += ["population_covered", "share_population", "area_km2", "area_covered_km2"]
    cols += ["share_area", "n_overlap", "n_structures"]
    return rates[cols]


def _joined(members: pd.DataFrame, names: dict, count: np.ndarray):
    """Names (`` ; ``-joined) and ids (space-joined) of the structures of each commune."""
    by = members.assign(nom=members["structure"].map(names)).sort_values(["pos", "nom"])
    noms = np.full(len(count), "", dtype=object)
    ids = np.full(len(count), "", dtype=object)
    single = by[count[by["pos"].to_numpy()] == 1]
    noms[single["pos"].to_numpy()] = single["nom"].to_numpy()
    ids[single["pos"].to_numpy()] = single["structure"].to_numpy()
    multi = by[count[by["pos"].to_numpy()] > 1].groupby("pos")
    for pos, g in multi:
        noms[pos] = " ; ".join(g["nom"])
        ids[pos] = " ".join(g["structure"])
    return noms, ids


def _epci_names(territories) -> dict:
    epci = territories.epci
    return dict(zip(epci["code"], epci["nom"], strict=True))


def _check_params(nearest, max_distance_km) -> None:
    if isinstance(nearest, bool) or not isinstance(nearest, (int, np.integer)) or nearest < 0:
        raise UnknownValueError(
            f"nearest={nearest!r}: give the number of nearest uncovered communes to list per "
            "structure, an integer >= 0 (0 lists only the adjacent ones and those of the "
            "départements it serves)."
        )
    if not isinstance(max_distance_km, (int, float)) or not 0 < max_distance_km <= 500:
        raise UnknownValueError(
            f"max_distance_km={max_distance_km!r}: give a distance in km, > 0 and <= 500 "
            "(nearest communes are searched within it, in the zone's projection)."
        )


def coverage(
    structures: Structures,
    territories: Territories | None = None,
    *,
    responses=None,
    declared_column: str | None = DECLARED_COLUMN,
    nearest: int = 10,
    max_distance_km: float = 30.0,
) -> CoverageResult:
    """Compute the coverage of the territory by mutualisation structures.

    Parameters
    ----------
    structures : Structures, path-like or records
        From :func:`read_structures` (anything else is read with it).
    territories : Territories, optional
        Reference (default: the embedded COG 2025); must be the one the
        structures were resolved against. Uncovered zones use the rook
        adjacency of its commune coverage (communes sharing an edge).
    responses : Responses or pandas.DataFrame, optional
        Survey responses (Responses contract) to cross with the coverage.
    declared_column : str or None, default ``"profil_mutualisation"``
        Profile column with the declared membership (``oui``, ``non``,
        ``ne_sait_pas``); ``None`` skips the agreement table.
    nearest : int, default 10
        Number of nearest non-adjacent uncovered communes listed per structure.
    max_distance_km : float, default 30
        Search radius for those communes.

    Returns
    -------
    CoverageResult

    Examples
    --------
    >>> import barometre_geo as bg
    >>> s = bg.read_structures([{"nom": "Syndicat de Corse-du-Sud", "departements": ["2A"]}])
    >>> r = bg.coverage(s)
    >>> r.rates.set_index(["level", "code"]).loc[("departement", "2A"), "share_communes"]
    np.float64(1.0)
    >>> r.nearby["commune"].str[:2].unique().tolist()  # neighbours in Haute-Corse only
    ['2B']
    """
    from ..territories.adjacency import rook_pairs
    from ..territories.load import load_territories
    from .colors import structure_pairs
    from .nearby import Graph, Projected, nearby_uncovered, nearest_structure
    from .prospects import nearest_columns, prospect_table, structure_labels, structure_table
    from .structures import Structures, read_structures
    from .survey import answered_waves, survey_crossing
    from .zones import overlap_pairs, uncovered_zones

    _check_params(nearest, max_distance_km)
    if territories is None:
        territories = load_territories()
    if not isinstance(structures, Structures):
        structures = read_structures(structures, territories=territories)
    if structures.cog != territories.cog:
        raise SchemaError(
            f"The structures were resolved against COG {structures.cog}, the territories are "
            f"COG {territories.cog}. Read them again with read_structures(..., territories=t)."
        )
    src = territories.communes
    members = structures.members.assign(pos=_positions(structures, src))
    names = dict(zip(structures.data["id"], structures.data["nom"], strict=True))
    n = len(src)
    count = np.bincount(members["pos"], minlength=n)
    covered = count > 0
    c = src[["code", "siren", "nom", "epci", "departement", "region", "zone"]].copy()
    c["population"] = src["population"]
    deps = territories.departements
    dep_names = dict(zip(deps["code"], deps["nom"], strict=True))
    c.insert(c.columns.get_loc("epci") + 1, "epci_nom", c["epci"].map(_epci_names(territories)))
    c.insert(
        c.columns.get_loc("departement") + 1, "departement_nom", c["departement"].map(dep_names)
    )
    c["area_km2"] = src["area_km2"]
    c["covered"] = covered
    c["n_structures"] = count.astype("int64")
    c["structures"], c["structure_ids"] = _joined(members, names, count)
    labels = structure_labels(structures.data)
    c["categorie"] = np.where(
        count == 0,
        "Non couverte",
        np.where(count > 1, "Plusieurs structures", c["structure_ids"].map(labels)),
    )

    c["answered_waves"] = pd.array(
        answered_waves(c["code"], responses) if responses is not None else [pd.NA] * n,
        dtype="string",
    )
    i, j, outer = rook_pairs(src.geometry.to_numpy())
    zones, zone_of = uncovered_zones(src, covered, i, j, departement_names=dep_names)
    c["uncovered_zone"] = pd.array(zone_of, dtype="string")
    graph = Graph(src, members, covered, i, j, outer, Projected(src))
    found = nearest_structure(graph)
    for name, values in nearest_columns(found, names, n).items():
        c[name] = values
    import geopandas as gpd

    communes = gpd.GeoDataFrame(c, geometry=src.geometry.to_numpy(), crs=src.crs)
    rates = _rates(c, members, territories)
    overlaps = overlap_pairs(src, members, names)
    served = structures.data["departements"].fillna("").str.split()
    home = dict(zip(structures.data["id"], served, strict=True))
    near = nearby_uncovered(graph, nearest=nearest, max_distance_km=max_distance_km, home=home)
    nearby = prospect_table(near, structures, c, nearest)
    per_structure = structure_table(structures, c, members, nearby)
    survey = None
    if responses is not None:
        survey = survey_crossing(
            c, responses, declared_column=declared_column, regions=territories.regions
        )
    return CoverageResult(
        communes=communes,
        rates=rates,
        zones=zones,
        overlaps=overlaps,
        structures=per_structure,
        nearby=nearby,
        neighbours=structure_pairs(members, i, j),
        survey=survey,
        report=structures.report,
        parameters={
            "cog": int(territories.cog),
            "source": structures.source,
            "nearest": int(nearest),
            "max_distance_km": float(max_distance_km),
            "synthetic_responses": (
                bool(getattr(responses, "synthetic", False)) if responses is not None else None
            ),
        },
        territories=territories,
    )
