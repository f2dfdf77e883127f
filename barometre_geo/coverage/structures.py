"""Mutualisation structures (OPSN…) and the communes they serve.

:func:`read_structures` reads a structures file and resolves each structure's
territory to a set of communes of the territorial reference.

Territory rule
--------------
A structure's territory is given by any mix of

* **members** (``membres``): INSEE codes of communes, SIREN of communes, EPCI,
  départements or régions (a SIRET stands for its SIREN); a member EPCI covers
  all its communes, a member département or région covers all its communes;
* **départements served** (``departements``) and **régions served** (``regions``);
* **polygons** (``geometry``): a commune belongs to the structure when at least
  half of its area (measured in its zone's projection) lies in the polygons;
* **exclusions** (``exclus``): communes, EPCI or départements removed at the end.

The exact rule, applied per structure:

1. *Fine* communes are those of the commune and EPCI members and of the polygons.
2. *Broad* départements are the départements served, member départements and
   the départements of régions served or member régions.
3. In each broad département, if at least one fine commune lies in it, the
   member list **narrows** it: only the fine communes count there (reported as
   ``narrowed``, severity ``info``); otherwise all its communes count.
4. Fine communes outside the broad départements always count.
5. Exclusions are removed last.

Members go through the shared resolver (:func:`barometre_geo.resolve.resolve`):
current and former INSEE codes, SIREN/SIRET (Luhn-checked), names ("Mairie du
Port", "CC du Pays de Mormal"), with the structure's département as hint when
it serves exactly one; ambiguous and unresolved members are reported, never
guessed. Bare two- or three-character codes in ``membres`` are départements
(the resolver would call ``"24"`` ambiguous with the région Centre-Val de
Loire): give régions in the ``regions`` field. ``departements`` and
``regions`` accept codes, names and the SIREN of the conseil départemental or
régional.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import pandas as pd

from .._paths import package_data
from ..errors import DataQualityWarning
from .read import load_records
from .territory import check_siren, territory

__all__ = ["Structures", "StructuresReport", "load_demo_structures", "read_structures"]

DEMO_FILE = "structures-illustratives.json"

#: Problems of the file rather than of a member, and how the warning names them.
_FILE_ISSUES = {
    "unknown_column": ("misspelt column(s) ignored", "colonne(s) mal nommée(s) ignorée(s)"),
    "invalid_geometry": ("invalid polygon(s) repaired", "polygone(s) invalide(s) réparé(s)"),
    "unreadable_geometry": (
        "unreadable geometry(ies) left out",
        "géométrie(s) illisible(s) ignorée(s)",
    ),
    "damaged_row": ("damaged line(s) left out", "ligne(s) endommagée(s) ignorée(s)"),
}

_ISSUE_COLUMNS = ["structure", "nom", "where", "field", "value", "issue", "severity", "message"]
_DATA_COLUMNS = [
    "id",
    "nom",
    "siren",
    "siret",
    "type",
    "statut",
    "url",
    "n_communes",
    "departements",
    "territoire",
    "where",
]


@dataclass(frozen=True, repr=False, eq=False)
class StructuresReport:
    """What went wrong (or was interpreted) while reading a structures file.

    Attributes
    ----------
    issues : pandas.DataFrame
        One row per problem: ``structure`` (id), ``nom``, ``where`` (file and
        line or record), ``field``, ``value``, ``issue`` (``unknown_member``,
        ``ambiguous_member``, ``unknown_departement``, ``unknown_region``,
        ``no_territory``, ``malformed_siret``, ``invalid_siren``,
        ``not_polygon``, ``polygon_outside``, ``excluded_outside``,
        ``conflicting_value``, ``duplicate_id``, ``missing_name``, ``narrowed``;
        for the file: ``unknown_column`` — a warning when close to a known
        name, naming it —, ``invalid_geometry`` (repaired with
        ``shapely.make_valid``), ``unreadable_geometry``, ``damaged_row``,
        ``reading_note``),
        ``severity`` (``warning`` or ``info``) and a French ``message``.
    source : str
        The file or object read.
    """

    issues: pd.DataFrame
    source: str

    @property
    def unknown_members(self) -> pd.DataFrame:
        """Members, départements or régions that could not be resolved."""
        kinds = ["unknown_member", "ambiguous_member", "unknown_departement", "unknown_region"]
        return self.issues[self.issues["issue"].isin(kinds)].reset_index(drop=True)

    @property
    def without_territory(self) -> tuple[str, ...]:
        """Names of the structures with no usable territory."""
        return tuple(self.issues.loc[self.issues["issue"] == "no_territory", "nom"])

    @property
    def warnings(self) -> pd.DataFrame:
        """Issues of severity ``warning`` (data left out or doubtful)."""
        return self.issues[self.issues["severity"] == "warning"].reset_index(drop=True)

    def to_dict(self) -> dict:
        """Return a JSON-serialisable summary."""
        return {
            "source": self.source,
            "unknown_members": len(self.unknown_members),
            "without_territory": list(self.without_territory),
            "counts": {k: int(v) for k, v in self.issues["issue"].value_counts().items()},
            "issues": self.issues.astype(object)
            .where(self.issues.notna(), None)
            .to_dict("records"),
        }

    def to_text(self, *, limit: int = 10) -> str:
        """Return a short French summary of the warnings."""
        w = self.warnings
        if w.empty:
            return "Aucun problème de lecture."
        lines = [f"{len(w)} problème(s) de lecture :"]
        for r in w.head(limit).itertuples():
            who = r.nom if isinstance(r.nom, str) and r.nom else "fichier"
            lines.append(f"  - {who} : {r.message}")
        if len(w) > limit:
            lines.append(f"  … et {len(w) - limit} autre(s) (voir Structures.report.issues).")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<StructuresReport {self.source}: {len(self.unknown_members)} unknown member(s), "
            f"{len(self.without_territory)} structure(s) without territory>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td>{escape(str(r.nom))}</td><td>{escape(str(r.issue))}</td>"
            f"<td>{escape(str(r.message))}</td></tr>"
            for r in self.warnings.head(50).itertuples()
        )
        return (
            f"<div><strong>Lecture des structures</strong> <small>({escape(self.source)})"
            f"</small><table><thead><tr><th>Structure</th><th>Problème</th><th>Détail</th>"
            f"</tr></thead><tbody>{rows}</tbody></table></div>"
        )


@dataclass(frozen=True, repr=False, eq=False)
class Structures:
    """Mutualisation structures and the communes each one serves.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per structure: ``id``, ``nom``, ``siren``, ``siret``, ``type``,
        ``statut``, ``url``, ``n_communes`` (0 when no usable territory),
        ``departements`` (space-separated codes), ``territoire`` (French
        description of how the territory was given), ``where``.
    members : pandas.DataFrame
        One row per (structure, commune): ``structure`` (id), ``commune``
        (INSEE code) and ``via`` (``commune``, ``epci``, ``polygone``,
        ``departement``, ``region``): how the commune entered the territory.
    report : StructuresReport
        Unknown members, structures without territory, malformed SIRET…
    source : str
        The file or object read.
    cog : int
        COG year of the reference the members were resolved against.
    """

    data: pd.DataFrame
    members: pd.DataFrame
    report: StructuresReport
    source: str
    cog: int

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        used = int((self.data["n_communes"] > 0).sum())
        return (
            f"<Structures {self.source}: {len(self.data)} structures ({used} with a territory), "
            f"{self.members['commune'].nunique():,} communes served, COG {self.cog}>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        cols = ["nom", "type", "n_communes", "territoire"]
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(str(getattr(r, c)))}</td>" for c in cols) + "</tr>"
            for r in self.data.head(100).itertuples()
        )
        return (
            f"<div><strong>Structures de mutualisation</strong> <small>({escape(self.source)}, "
            f"COG {self.cog})</small><table><thead><tr><th>Nom</th><th>Type</th>"
            f"<th>Communes</th><th>Territoire</th></tr></thead><tbody>{rows}</tbody></table>"
            f"{self.report._repr_html_()}</div>"
        )


# -------------------------------------------------------------------- reading


class _Issues:
    """Collects report rows for the structure being read."""

    def __init__(self):
        self.rows: list[tuple] = []
        self.ident = self.nom = self.where = None

    def __call__(self, field, value, issue, message, *, severity="warning"):
        self.rows.append(
            (self.ident, self.nom, self.where, field, str(value), issue, severity, message)
        )


def read_structures(path_or_records, *, territories=None, layer: str | None = None) -> Structures:
    """Read mutualisation structures and resolve the communes each one serves.

    Parameters
    ----------
    path_or_records : path-like, list of dict or (Geo)DataFrame
        A ``.csv``, ``.json``, ``.geojson`` or ``.gpkg`` file, a list of
        records or a table. Layouts (see docs/contracts/coverage.md):

        * JSON list of objects, e.g. the OPSN directory
          (``nom``, ``siret``, ``statut``, ``departements``…);
        * JSON ``{"structures": [...]}`` whose objects may also carry
          ``membres``, ``regions``, ``exclus``, ``type`` and a GeoJSON
          ``geometry``; a GeoJSON FeatureCollection (properties as above);
        * CSV, one row per structure (``membres`` as a ``;``- or
          ``|``-separated list), or one row per (structure, member) with a
          ``membre`` column; delimiter ``,``, ``;`` or tab, UTF-8 or
          Windows-1252; polygons as WKT in a ``wkt`` column;
        * GeoPackage: one feature per structure (polygon, any CRS), attributes
          as in CSV.
    territories : Territories, optional
        Reference to resolve against (default: the embedded COG 2025).
    layer : str, optional
        GeoPackage layer (default: the first one).

    Returns
    -------
    Structures
        Structures whose territory cannot be resolved are kept (with
        ``n_communes == 0``) and reported by name in ``report``.

    Warns
    -----
    DataQualityWarning
        When members are unknown or structures have no usable territory.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> s = bg.read_structures(
    ...     [
    ...         {"nom": "Syndicat test", "departements": ["2A"]},
    ...         {"nom": "Agence test", "membres": "242010056;2A041"},  # CA du Pays Ajaccien
    ...     ]
    ... )
    >>> s.data[["nom", "n_communes"]].to_dict("records")
    [{'nom': 'Syndicat test', 'n_communes': 124}, {'nom': 'Agence test', 'n_communes': 11}]
    """
    if territories is None:
        from ..territories.load import load_territories

        territories = load_territories()
    raws, source, meta = load_records(path_or_records, layer=layer)
    add = _Issues()
    for issue in meta.get("issues", ()):  # file-level: unknown columns, damaged lines
        add.ident, add.nom, add.where = "", "", issue["where"]
        add(
            issue["field"],
            issue["value"],
            issue["issue"],
            issue["message"],
            severity=issue["severity"],
        )
    rows, member_frames, seen_ids = [], [], set()
    codes = territories.communes["code"].to_numpy()
    for n, raw in enumerate(raws, start=1):
        ident = raw.id or raw.siren or raw.siret or raw.nom
        nom = raw.nom or raw.siren or raw.siret or raw.id or f"structure {n}"

        add.ident, add.nom, add.where = ident, nom, raw.where
        if raw.nom is None:
            add("nom", "", "missing_name", f"structure sans nom ({raw.where}) : ajoutez « nom ».")
        if ident is None:
            ident = add.ident = f"structure-{n}"
        if ident in seen_ids:
            new = f"{ident}-{n}"
            add("id", ident, "duplicate_id", f"identifiant {ident!r} en double : renommé {new!r}.")
            ident = add.ident = new
        seen_ids.add(ident)
        for fld, value, issue, message in raw.issues:
            add(fld, value, issue, message)
        siren, siret = check_siren(raw, add)
        members, described = territory(territories, raw, add)
        if not members:
            add(
                "territoire",
                "",
                "no_territory",
                f"« {nom} » n'a aucun territoire utilisable ({described}) : ajoutez des "
                "membres, des départements, des régions ou un polygone.",
            )
        positions = sorted(members)
        member_frames.append(
            pd.DataFrame(
                {
                    "structure": ident,
                    "commune": codes[positions] if positions else [],
                    "via": [members[i] for i in positions],
                }
            )
        )
        deps = sorted(set(territories.communes["departement"].to_numpy()[positions]))
        rows.append(
            (
                ident,
                nom,
                siren,
                siret,
                raw.type,
                raw.statut,
                raw.url,
                len(positions),
                " ".join(deps),
                described,
                raw.where,
            )
        )
    data = pd.DataFrame(rows, columns=_DATA_COLUMNS)
    data["n_communes"] = data["n_communes"].astype("int64")
    members_df = (
        pd.concat(member_frames, ignore_index=True)
        if member_frames
        else pd.DataFrame({"structure": [], "commune": [], "via": []})
    ).astype({"structure": "str", "commune": "str", "via": "str"})
    report = StructuresReport(pd.DataFrame(add.rows, columns=_ISSUE_COLUMNS), source)
    if not data.empty and len(report.unknown_members) + len(report.without_territory):
        names = ", ".join(report.without_territory[:5]) or "-"
        warnings.warn(
            DataQualityWarning(
                f"{source}: {len(report.unknown_members)} unknown member(s) and "
                f"{len(report.without_territory)} structure(s) without territory ({names}); "
                "they are left out of the coverage. See Structures.report.issues for the "
                "details and how to fix them.",
                fr=f"{source} : {len(report.unknown_members)} membre(s) inconnu(s) et "
                f"{len(report.without_territory)} structure(s) sans territoire ({names}), "
                "laissés hors de la couverture ; le détail et la façon de corriger sont dans le "
                "rapport des structures.",
            ),
            stacklevel=2,
        )
    other = report.warnings[report.warnings["issue"].isin(_FILE_ISSUES)]
    if len(other):
        counts = other["issue"].value_counts()
        warnings.warn(
            DataQualityWarning(
                f"{source}: "
                + ", ".join(f"{n} {_FILE_ISSUES[k][0]}" for k, n in counts.items())
                + ". See Structures.report.issues for the details and how to fix them.",
                fr=f"{source} : "
                + ", ".join(f"{n} {_FILE_ISSUES[k][1]}" for k, n in counts.items())
                + " ; le détail et la façon de corriger sont dans le rapport des structures.",
            ),
            stacklevel=2,
        )
    return Structures(data, members_df, report, source, int(territories.cog))


def load_demo_structures(territories=None) -> Structures:
    """Load the *illustrative* structures shipped with the package.

    They are **not** the real list of OPSN: a deterministic, documented
    sample (``barometre_geo/data/structures-illustratives.md``) giving a
    realistic mix of departmental syndicates, EPCI-level members, a regional
    structure, overlaps and uncovered areas, for demos and tests.

    Examples
    --------
    >>> s = load_demo_structures()
    >>> len(s) > 10, s.report.warnings.empty
    (True, True)
    """
    return read_structures(os.fspath(package_data(DEMO_FILE)), territories=territories)
