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
through :func:`barometre_geo._format.neutralise_formula`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._format import neutralise_formulas

__all__ = [
    "FRANCE_LIST",
    "LABELS",
    "PROSPECTS_DIR",
    "france_list",
    "list_paths",
    "prospect_list",
    "write_lists",
]

#: Folder of the per-structure lists, relative to the output folder.
PROSPECTS_DIR = "couverture/prospects"
#: Stem of the France-wide list, relative to the output folder.
FRANCE_LIST = "couverture/communes-non-couvertes"

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

    safe = neutralise_formulas(table)
    csv_path, xlsx_path = (root / p for p in paths)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    safe.to_csv(csv_path, index=False, lineterminator="\n", encoding="utf-8")
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
    """Write every structure's prospect list and the France list under ``root``.

    Returns
    -------
    list of pathlib.Path
        The files written (CSV then XLSX, structures in file order, France last).
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
    return written
