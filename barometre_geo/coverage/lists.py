"""Prospect lists an OPSN can act on: CSV and XLSX, French headers, formula-safe cells.

Files (relative to the output folder, next to ``couverture.html``)::

    couverture/prospects/<cle>.csv, .xlsx        one per structure with a territory
    couverture/communes-non-couvertes.csv, .xlsx every uncovered commune of France
                                                 with its nearest structure

``<cle>`` is the structure's key (:func:`~.prospects.structure_keys`: its
SIREN, else its id as a slug), the same as in the map's ``?structure=``.
Rows of a structure's list are ranked as in :attr:`CoverageResult.nearby`:
adjacent communes first, then by distance, then by population. CSV files are
UTF-8 with ``,`` separators (like the other tables of the build); the XLSX
files have a bold, frozen header with an autofilter. Every text cell goes
through :func:`barometre_geo._tables.safe_table`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._tables import safe_table, write_csv

__all__ = [
    "DICTIONARY",
    "FRANCE_LIST",
    "LABELS",
    "PROSPECTS_DIR",
    "dictionary",
    "france_list",
    "list_paths",
    "prospect_list",
    "write_lists",
]

#: Folder of the per-structure lists, relative to the output folder.
PROSPECTS_DIR = "couverture/prospects"
#: Stem of the France-wide list, relative to the output folder.
FRANCE_LIST = "couverture/communes-non-couvertes"
#: The coverage's data dictionary, relative to the output folder.
DICTIONARY = "couverture/dictionnaire.md"
_MEANINGS = {
    "rank": "rang du prospect pour la structure : limitrophes d'abord, puis par distance, "
    "puis par population",
    "commune": "code officiel géographique (INSEE) de la commune",
    "siren": "SIREN de la commune (celui des registres de membres et des factures)",
    "nom": "nom officiel",
    "departement": "code du département",
    "departement_nom": "nom du département",
    "epci": "SIREN de l'EPCI à fiscalité propre de la commune",
    "epci_nom": "nom de l'EPCI à fiscalité propre",
    "population": "population municipale (INSEE)",
    "adjacent": "oui : la commune partage une arête (pas seulement un point) avec le "
    "territoire de la structure",
    "distance_km": "distance entre les contours de la commune et le territoire de la "
    "structure, en km à 0,1 km près, mesurée dans la projection du territoire (Lambert-93, "
    "ou celle du département d'outre-mer) ; 0 pour une commune qui le touche",
    "in_departements": "oui : la commune est dans un département où la structure dessert déjà "
    "des communes",
    "answered_waves": "vagues de l'enquête auxquelles la commune a répondu (« 1, 3 ») ; non : "
    "elle n'a pas répondu (colonne absente quand aucune réponse n'a été fournie)",
    "uncovered_zone": "identifiant de la zone non couverte de la commune (voir plus bas)",
    "nearest_structures_nom": "structure(s) dont le territoire est le plus proche (ex æquo "
    "séparées par « ; »), dans la même zone (jamais au-delà d'un océan) ; vide outre-mer "
    "quand aucune structure ne dessert le département",
    "nearest_km": "distance à ce territoire en km : à 0,1 km près jusqu'à 2 km, au-delà "
    "arrondie au km (contours simplifiés à 500 m)",
    "nearest_adjacent": "oui : la commune partage une arête avec ce territoire",
    "nearest_approx": "oui : distance arrondie au km (au-delà de 2 km)",
}

#: French header of each column of the lists (and of the GeoPackage aliases), with width.
LABELS: dict[str, tuple[str, float]] = {
    "rank": ("Rang", 6),
    "commune": ("Code INSEE", 11),
    "siren": ("SIREN de la commune", 13),
    "nom": ("Commune", 28),
    "departement": ("Département", 11),
    "departement_nom": ("Nom du département", 22),
    "epci": ("SIREN de l'EPCI", 13),
    "epci_nom": ("EPCI", 40),
    "population": ("Population", 11),
    "adjacent": ("Limitrophe", 10),
    "distance_km": ("Distance (km)", 12),
    "in_departements": ("Dans ses départements", 12),
    "answered_waves": ("A répondu au baromètre (vagues)", 16),
    "uncovered_zone": ("Zone non couverte", 12),
    "nearest_structures_nom": ("Structure la plus proche", 36),
    "nearest_km": ("Distance à la structure (km)", 14),
    "nearest_adjacent": ("Limitrophe de la structure", 12),
    "nearest_approx": ("Distance approchée (au km)", 12),
}
_COMMUNE = [
    "commune",
    "siren",
    "nom",
    "departement",
    "departement_nom",
    "epci",
    "epci_nom",
    "population",
]
_PROSPECT = ["rank", *_COMMUNE, "adjacent", "distance_km", "in_departements"]
_PROSPECT += ["answered_waves", "uncovered_zone"]
_FRANCE = [*_COMMUNE, "nearest_structures_nom", "nearest_km", "nearest_adjacent"]
_FRANCE += ["nearest_approx", "answered_waves", "uncovered_zone"]


def _french(frame: pd.DataFrame, columns: list[str], *, answered: bool) -> pd.DataFrame:
    cols = [c for c in columns if answered or c != "answered_waves"]
    out = frame[cols].copy()
    for col in ("adjacent", "in_departements", "nearest_adjacent", "nearest_approx"):
        if col in out:
            out[col] = out[col].map({True: "oui", False: "non"}).astype("object")
    for col in ("distance_km", "nearest_km"):
        if col in out:
            out[col] = out[col].astype(float).round(1)
    if "answered_waves" in out:
        out["answered_waves"] = out["answered_waves"].fillna("").replace("", "non")
    out["population"] = out["population"].astype("Int64")
    out = out.astype({c: "object" for c in out.columns if out[c].dtype == "string"})
    out = out.where(out.notna(), None)
    return out.rename(columns={c: LABELS[c][0] for c in cols})


def _answered(result) -> bool:
    return not result.communes["answered_waves"].isna().all()


def prospect_list(result, structure: str) -> pd.DataFrame:
    """Return the prospects of one structure, French headers, as written to its files.

    Parameters
    ----------
    result : CoverageResult
    structure : str
        The structure's id or key (``cle``).

    Examples
    --------
    >>> import barometre_geo as bg
    >>> s = bg.read_structures([{"nom": "Syndicat de Corse-du-Sud", "departements": ["2A"]}])
    >>> table = prospect_list(bg.coverage(s), "syndicat-de-corse-du-sud")
    >>> table.columns[:4].tolist(), table["Département"].unique().tolist()
    (['Rang', 'Code INSEE', 'SIREN de la commune', 'Commune'], ['2B'])
    """
    from ..errors import UnknownValueError

    per = result.structures
    hit = per[(per["id"] == structure) | (per["cle"] == structure)]
    if hit.empty:
        raise UnknownValueError(
            f"Unknown structure {structure!r}. Valid ids or keys (first 10): "
            f"{', '.join(per['cle'].head(10))}. See CoverageResult.structures."
        )
    rows = result.nearby[result.nearby["structure"] == hit["id"].iloc[0]]
    return _french(rows, _PROSPECT, answered=_answered(result))


def france_list(result) -> pd.DataFrame:
    """Return every uncovered commune with its nearest structure(s), French headers.

    Ordered by département, then distance to the nearest structure, then
    population (largest first).
    """
    c = result.communes
    free = pd.DataFrame(c.loc[~c["covered"]].drop(columns="geometry"))
    free = free.rename(columns={"code": "commune"})
    free = free.assign(_d=free["nearest_km"].fillna(np.inf)).sort_values(
        ["departement", "_d", "population", "commune"],
        ascending=[True, True, False, True],
        kind="stable",
    )
    return _french(free, _FRANCE, answered=_answered(result))


def list_paths(cle: str | None = None) -> tuple[str, str]:
    """Relative paths (CSV, XLSX) of a structure's list, or of the France list."""
    stem = f"{PROSPECTS_DIR}/{cle}" if cle else FRANCE_LIST
    return f"{stem}.csv", f"{stem}.xlsx"


def _write(table: pd.DataFrame, root: Path, paths: tuple[str, str], *, title: str, sheet: str):
    from .._xlsx import xlsx_bytes

    safe = safe_table(table)
    csv_path, xlsx_path = (root / p for p in paths)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, csv_path)  # neutralised by write_csv
    widths = [next(w for lab, w in LABELS.values() if lab == col) for col in safe.columns]
    data = xlsx_bytes(
        list(safe.columns),
        safe.to_numpy(dtype=object).tolist(),
        sheet=sheet,
        title=title,
        header=True,
        widths=widths,
    )
    xlsx_path.write_bytes(data)
    return [csv_path, xlsx_path]


def write_lists(result, root) -> list[Path]:
    """Write every structure's prospect list, the France list and the dictionary under ``root``.

    Returns
    -------
    list of pathlib.Path
        The files written (CSV then XLSX, structures in file order, France, then
        :data:`DICTIONARY`).
    """
    root = Path(root)
    written = []
    per = result.structures
    table = _french(result.nearby, _PROSPECT, answered=_answered(result))
    rows_of = result.nearby.groupby("structure", sort=False).indices
    none = np.zeros(0, dtype=np.int64)
    for _, s in per[per["n_communes"] > 0].iterrows():
        written += _write(
            table.iloc[rows_of.get(s["id"], none)],
            root,
            list_paths(s["cle"]),
            title=f"Communes non couvertes à prospecter — {s['nom']}",
            sheet="Prospects",
        )
    written += _write(
        france_list(result),
        root,
        list_paths(None),
        title="Communes non couvertes par une structure de mutualisation",
        sheet="Communes non couvertes",
    )
    path = root / DICTIONARY
    path.write_text(dictionary(result), encoding="utf-8")
    return [*written, path]


def dictionary(result) -> str:
    """Return the coverage's data dictionary (French Markdown): files, columns, zone ids.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> text = dictionary(bg.coverage(bg.load_demo_structures()))
    >>> text.splitlines()[0]
    '# Dictionnaire des données — couverture des structures de mutualisation'
    """
    from .zones import ZONE_ID_SCHEME

    answered = _answered(result)
    p = result.parameters

    def rows(columns):
        cols = [c for c in columns if answered or c != "answered_waves"]
        return [f"| {LABELS[c][0]} | {_MEANINGS[c]} |" for c in cols]

    lines = [
        "# Dictionnaire des données — couverture des structures de mutualisation",
        "",
        f"Structures : {Path(str(p['source'])).name} ; référentiel : COG {p['cog']}.",
        "",
        "## Fichiers",
        "",
        "* `couverture.html` : carte des structures (deux structures voisines n'ont jamais la "
        "même couleur), des communes non couvertes (hachurées) et des zones non couvertes ; "
        "une vue par structure : `couverture.html?structure=<clé>` (la clé est le SIREN de la "
        "structure, à défaut son identifiant).",
        f"* `{PROSPECTS_DIR}/<clé>.csv` et `.xlsx` : les communes non couvertes à prospecter par "
        "chaque structure — toutes celles qui touchent son territoire, toutes celles des "
        f"départements où elle dessert des communes, puis les {p['nearest']} plus proches à "
        f"moins de {p['max_distance_km']:g} km.",
        f"* `{FRANCE_LIST}.csv` et `.xlsx` : toutes les communes non couvertes de France, avec "
        "la structure la plus proche ; par département, puis distance, puis population.",
        "* `couverture.gpkg` (QGIS) : les mêmes données en couches, avec les couleurs de la "
        "carte ; sa table `metadonnees` décrit chaque couche et chaque colonne.",
        "",
        "CSV : UTF-8, séparateur virgule, point décimal ; XLSX : en-tête figé et filtrable. "
        "Une cellule de texte qui commencerait par = + - @ est précédée d'une apostrophe "
        "(un tableur ne l'exécute pas).",
        "",
        "## Listes de prospects d'une structure",
        "",
        "| colonne | description |",
        "|---|---|",
        *rows(_PROSPECT),
        "",
        "## Communes non couvertes de France",
        "",
        "| colonne | description |",
        "|---|---|",
        *rows(_FRANCE),
        "",
        "## Zones non couvertes",
        "",
        "Une zone non couverte réunit les communes non couvertes contiguës (qui partagent une "
        "arête) d'un même département : une zone ne franchit jamais la limite d'un "
        f"département. {ZONE_ID_SCHEME} Son nom est celui du département et de sa commune la "
        "plus peuplée (« Calvados (14) : Caen et 12 autres communes »).",
        "",
    ]
    return "\n".join(lines)
