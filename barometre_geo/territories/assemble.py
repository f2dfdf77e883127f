"""Turn the layers of an official source into a :class:`Territories`.

Used by :mod:`barometre_geo.territories.sources`. Two builders:

* :func:`build_from_admin_express`: the four IGN layers (COMMUNE, EPCI,
  DEPARTEMENT, REGION); the geometries of every level are IGN's own;
* :func:`build_from_communes`: a layer of communes carrying the codes and names
  of the levels above (cartiflette); EPCI, départements and régions are
  dissolved from the communes.

Both produce exactly the columns of the ``Territories`` contract
(``docs/contracts/territories.md``): populations and areas of a level are sums over its
communes, areas are measured in each zone's projection, the seat of an EPCI
is approximated by its most populous member (as the embedded build does),
SIREN of conseils départementaux and régionaux come from the embedded list
(valid since 2021). Invalid geometries are repaired with
``shapely.make_valid`` when the result is still a non-empty polygon, reported
in ``provenance["repairs"]`` and by one :class:`DataQualityWarning`.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import shapely

from ..errors import SourceError
from .crs import STORAGE_CRS, area_km2, departement_zone, region_zone
from .geometry import clean_geometries, dissolve, warn_repairs

__all__ = [
    "FP_NATURES",
    "build_from_admin_express",
    "build_from_communes",
    "normalise_nature",
]

#: Natures of the EPCI à fiscalité propre, as in the contract.
FP_NATURES = ("CC", "CA", "CU", "MET")
_NATURES = {
    "cc": "CC",
    "communaute de communes": "CC",
    "ca": "CA",
    "communaute d'agglomeration": "CA",
    "cu": "CU",
    "communaute urbaine": "CU",
    "me": "MET",
    "met": "MET",
    "metro": "MET",
    "metropole": "MET",
    "met69": "MET",
    "metlyon": "MET",
    "metropole de lyon": "MET",
    # établissements publics territoriaux of the Métropole du Grand Paris: not à fiscalité propre
    "ept": "EPT",
    "etablissement public territorial": "EPT",
}
# "not filled in" markers of IGN and INSEE
_NOT_AVAILABLE = {"", "NR", "NC", "ZZ", "ZZZZZZZZZ", "NAN", "NONE", "<NA>"}
# metropolitan départements and the five DROM; 975, 977, 978 and "NR" are out of scope
_IN_SCOPE = re.compile(r"0[1-9]|[1-8]\d|9[0-5]|2A|2B|97[12346]")
_METROPOLE_DE_LYON = "200046977"


def normalise_nature(value) -> str | None:
    """Return CC, CA, CU, MET, EPT for an IGN/INSEE nature label, None if unknown.

    Examples
    --------
    >>> normalise_nature("Communauté d’agglomération"), normalise_nature("ME")
    ('CA', 'MET')
    >>> normalise_nature("Etablissement public territorial")
    'EPT'
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).replace("’", "'")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"\s+", " ", text.strip().lower())
    return _NATURES.get(text)


# ---------------------------------------------------------------------- builders


def build_from_admin_express(layers: dict, *, cog: int, source: str, provenance: dict):
    """Build a Territories from the IGN layers read by :func:`_sources.read_layers`."""
    meta = layers["_meta"]
    where = meta["path"]
    notes: list[str] = []
    com = _prepare_communes(layers["commune"], where=where, notes=notes)

    epci = layers["epci"].copy()
    epci["code"] = _codes(epci["code"], 9)
    epci = _no_duplicates(epci, "EPCI", where)
    epci["nature_norm"] = [normalise_nature(v) for v in epci["nature"]]
    unknown = epci[epci["nature_norm"].isna()]
    if len(unknown):
        raise SourceError(
            f"{where}: {len(unknown)} EPCI have a nature not recognised: "
            f"{_pairs(unknown['code'], unknown['nature'])}. Known natures: "
            "Communauté de communes (CC), Communauté d'agglomération (CA), Communauté urbaine "
            "(CU), Métropole (ME, MET, MET69, METLYON), Etablissement public territorial (EPT). "
            "Check that the file is an ADMIN EXPRESS delivery; if IGN added a nature, "
            "report it so that barometre_geo.territories.assemble learns it."
        )
    nature = dict(zip(epci["code"], epci["nature_norm"], strict=True))
    lyon = (
        _METROPOLE_DE_LYON not in nature
        and com["epci"].astype("str").str.contains(_METROPOLE_DE_LYON, regex=False).any()
    )
    if lyon:  # a collectivité à statut particulier: a delivery may keep it out of EPCI
        nature[_METROPOLE_DE_LYON] = "MET"
        notes.append(
            "The Métropole de Lyon (200046977), named by its communes but absent from the EPCI "
            "layer, was added as an EPCI (nature MET, as INSEE lists it) dissolved from its "
            "communes."
        )
    com["epci"] = _pick_epci(com, nature, where)
    _note_without_epci(com, notes)
    used_epci = set(com["epci"].dropna())
    left_out = epci[~epci["code"].isin(used_epci)]
    if len(left_out):
        kinds = left_out["nature_norm"].value_counts().to_dict()
        notes.append(
            f"{len(left_out)} EPCI of the EPCI layer are not the EPCI à fiscalité propre of any "
            f"commune in scope and were left out (by nature: {kinds})."
        )
    epci = epci[epci["code"].isin(used_epci)]

    dep = layers["departement"].copy()
    dep["code"] = _codes(dep["code"], 2)
    dep["region"] = _codes(dep["region"], 2)
    dep = _no_duplicates(dep, "DEPARTEMENT", where)
    reg = layers["region"].copy()
    reg["code"] = _codes(reg["code"], 2)
    reg = _no_duplicates(reg, "REGION", where)
    _check_nesting(com, dep, reg, where)
    for name, layer, key in (("DEPARTEMENT", dep, "departement"), ("REGION", reg, "region")):
        extra = sorted(set(layer["code"]) - set(com[key]))
        if extra:
            notes.append(
                f"{len(extra)} rows of the {name} layer have no commune in scope and were "
                f"left out: {', '.join(map(str, extra[:10]))}."
            )
    dep = dep[dep["code"].isin(set(com["departement"]))]
    reg = reg[reg["code"].isin(set(com["region"]))]

    repairs: dict[str, list[str]] = {}
    com["geometry"] = clean_geometries(com, "commune", where, repairs)
    geoms = {}
    for level, layer in (("epci", epci), ("departement", dep), ("region", reg)):
        cleaned = clean_geometries(layer, level, where, repairs)
        geoms[level] = pd.Series(cleaned, index=layer["code"].to_numpy())
    names = {
        "epci": dict(zip(epci["code"], epci["nom"], strict=True)),
        "departement": dict(zip(dep["code"], dep["nom"], strict=True)),
        "region": dict(zip(reg["code"], reg["nom"], strict=True)),
    }
    if lyon:
        geoms["epci"] = pd.concat(
            [geoms["epci"], dissolve(com[com["epci"] == _METROPOLE_DE_LYON], "epci")]
        )
        names["epci"][_METROPOLE_DE_LYON] = "Métropole de Lyon"
    dep_region = dict(zip(dep["code"], dep["region"], strict=True))
    levels = _assemble(com, names, nature, dep_region, geoms)
    arm = layers.get("arrondissement_municipal")
    return _finish(
        levels,
        arm=arm,
        cog=cog,
        source=source,
        provenance=provenance,
        meta=meta,
        reader="admin-express",
        notes=notes,
        repairs=repairs,
    )


def build_from_communes(gdf, *, cog: int, source: str, provenance: dict):
    """Build a Territories from one layer of communes (cartiflette), dissolving the levels."""
    meta = gdf.attrs.get("_meta", {"path": source})
    where = meta["path"]
    notes: list[str] = []
    com = _prepare_communes(gdf, where=where, notes=notes)
    com["epci"] = _codes(com["epci"], 9)
    _note_without_epci(com, notes)
    com["nature_norm"] = [normalise_nature(v) for v in com["nature"]]
    bad = com[com["epci"].notna() & ~com["nature_norm"].isin(FP_NATURES)]
    if len(bad):
        raise SourceError(
            f"{where}: {len(bad)} communes have an EPCI whose nature is not recognised as an "
            f"EPCI à fiscalité propre: {_pairs(bad['code'], bad['nature'])}. Expected "
            "NATURE_EPCI among CC, CA, CU, ME, METLYON (INSEE). Check the file."
        )
    nature = (
        com.dropna(subset=["epci"]).groupby("epci")["nature_norm"].agg(lambda s: s.mode().iloc[0])
    )
    dep_region = com.groupby("departement")["region"].agg(lambda s: sorted(set(s)))
    split = dep_region[dep_region.map(len) > 1]
    if len(split):
        raise SourceError(
            f"{where}: départements whose communes name several régions: "
            f"{dict(split.head(5))}. The file mixes vintages: download it again."
        )
    repairs: dict[str, list[str]] = {}
    com["geometry"] = clean_geometries(com, "commune", where, repairs)
    geoms = {
        "epci": dissolve(com.dropna(subset=["epci"]), "epci"),
        "departement": dissolve(com, "departement"),
    }
    dep_of = dep_region.map(lambda v: v[0])
    geoms["region"] = (
        pd.Series(geoms["departement"].to_numpy(), index=geoms["departement"].index)
        .groupby(dep_of.reindex(geoms["departement"].index).to_numpy())
        .agg(lambda s: shapely.union_all(s.to_numpy()))
    )
    names = {
        "departement": com.groupby("departement")["nom_departement"].first().to_dict(),
        "region": com.groupby("region")["nom_region"].first().to_dict(),
        "epci": _embedded_epci_names(set(nature.index), notes),
    }
    levels = _assemble(com, names, nature.to_dict(), dep_of.to_dict(), geoms)
    return _finish(
        levels,
        arm=None,
        cog=cog,
        source=source,
        provenance=provenance,
        meta=meta,
        reader="cartiflette",
        notes=notes,
        repairs=repairs,
    )


# ---------------------------------------------------------------------- steps


def _codes(series: pd.Series, width: int) -> pd.Series:
    """Codes as strings, NA for "not filled in" markers, digits left-padded to ``width``."""
    if pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series):
        series = series.astype("Int64")
    s = series.astype("str").str.strip()
    s = s.where(~s.str.upper().isin(_NOT_AVAILABLE) & s.notna())
    digits = s.str.fullmatch(r"\d+").fillna(False).astype(bool)
    return s.where(~digits, s.str.zfill(width))


def _pairs(codes, values, n: int = 5) -> str:
    items = [f"{c}={v!r}" for c, v in zip(codes, values, strict=True)]
    return ", ".join(items[:n]) + (f" (and {len(items) - n} more)" if len(items) > n else "")


def _no_duplicates(df, layer: str, where: str):
    dup = df["code"][df["code"].duplicated()]
    if len(dup):
        raise SourceError(
            f"{where}: the {layer} layer has duplicated codes: "
            f"{', '.join(sorted(set(dup))[:10])}. The source mixes several deliveries or "
            "editions: pass one delivery folder or GeoPackage only."
        )
    missing = df["code"].isna()
    if missing.any():
        raise SourceError(
            f"{where}: {int(missing.sum())} rows of the {layer} layer have no code. "
            "The file is not a complete ADMIN EXPRESS delivery: download it again."
        )
    return df


def _prepare_communes(gdf, *, where: str, notes: list[str]):
    com = gdf.copy()
    com["code"] = _codes(com["code"], 5)
    com["departement"] = _codes(com["departement"], 2)
    com["region"] = _codes(com["region"], 2)
    if "siren" in com:
        com["siren"] = _codes(com["siren"], 9)
    scope = com["departement"].fillna("").str.fullmatch(_IN_SCOPE)
    if (~scope).any():
        out = com.loc[~scope]
        notes.append(
            f"{len(out)} communes outside metropolitan France and the five DROM (département "
            f"{', '.join(sorted(set(out['departement'].fillna('NR'))))}) were left out: "
            f"{', '.join(out['code'].fillna('?').head(10))}."
        )
        com = com.loc[scope].reset_index(drop=True)
    com = _no_duplicates(com, "COMMUNE", where)
    pop = pd.to_numeric(com["population"], errors="coerce")
    bad = (pop.isna() & com["population"].notna()) | (pop < 0) | (pop % 1 != 0)
    if bad.any():
        raise SourceError(
            f"{where}: invalid populations in the COMMUNE layer: "
            f"{_pairs(com.loc[bad, 'code'], com.loc[bad, 'population'])}. "
            "Populations must be whole numbers ≥ 0: fix or re-download the file."
        )
    com["population"] = pop.astype("Int64")
    no_region = com["region"].isna()
    if no_region.any():
        raise SourceError(
            f"{where}: {int(no_region.sum())} communes have no région code: "
            f"{', '.join(com.loc[no_region, 'code'].head(10))}. Re-download the file."
        )
    return com


def _pick_epci(com, nature: dict, where: str) -> pd.Series:
    """Return the EPCI à fiscalité propre of each commune (``SIREN_EPCI`` may hold ``EPT/MGP``)."""
    out, unknown, ambiguous = [], [], []
    for code, raw in zip(com["code"], com["epci"], strict=True):
        parts = [p.strip() for p in re.split(r"[/,;|]", "" if pd.isna(raw) else str(raw))]
        parts = [p.zfill(9) if p.isdigit() else p for p in parts]
        parts = [p for p in parts if p.upper() not in _NOT_AVAILABLE]
        unknown += [(code, p) for p in parts if p not in nature]
        fp = [p for p in parts if nature.get(p) in FP_NATURES]
        if len(fp) > 1:
            ambiguous.append((code, raw))
        out.append(fp[0] if len(fp) == 1 else None)
    if unknown:
        raise SourceError(
            f"{where}: {len(unknown)} communes name an EPCI absent from the EPCI layer: "
            f"{_pairs(*zip(*unknown, strict=True))}. The layers come from different editions: "
            "pass one complete delivery."
        )
    if ambiguous:
        raise SourceError(
            f"{where}: communes belonging to several EPCI à fiscalité propre: "
            f"{_pairs(*zip(*ambiguous, strict=True))}. A commune belongs to exactly one: "
            "the file is inconsistent, download it again."
        )
    return pd.Series(out, index=com.index, dtype="str")


def _note_without_epci(com, notes: list[str]) -> None:
    none = com.loc[com["epci"].isna(), "code"]
    if len(none):
        notes.append(
            f"{len(none)} communes belong to no EPCI à fiscalité propre (epci is empty): "
            f"{', '.join(none.head(10))}" + (" …" if len(none) > 10 else "") + "."
        )


def _check_nesting(com, dep, reg, where: str) -> None:
    missing = sorted(set(com["departement"]) - set(dep["code"]))
    if missing:
        raise SourceError(
            f"{where}: communes refer to départements absent from the DEPARTEMENT layer: "
            f"{', '.join(missing[:10])}. The layers come from different deliveries: pass one "
            "complete delivery (for shapefiles, the folder holding every territory)."
        )
    missing = sorted(set(com["region"]) - set(reg["code"]))
    if missing:
        raise SourceError(
            f"{where}: communes refer to régions absent from the REGION layer: "
            f"{', '.join(missing[:10])}. Pass one complete delivery."
        )
    dep_region = dict(zip(dep["code"], dep["region"], strict=True))
    wrong = com[com["departement"].map(dep_region) != com["region"]]
    if len(wrong):
        raise SourceError(
            f"{where}: {len(wrong)} communes have a région different from their département's: "
            f"{_pairs(wrong['code'], wrong['region'])}. The layers come from different "
            "editions: pass one complete delivery."
        )


def _embedded_epci_names(codes: set[str], notes: list[str]) -> dict[str, str]:
    """Names of EPCI from the embedded reference (cartiflette carries none)."""
    from .._paths import boundaries_dir

    try:
        path = boundaries_dir(2025) / "territoires.parquet"
    except SourceError:
        notes.append("EPCI names: the source has none and the embedded reference is missing.")
        return {}
    ref = pd.read_parquet(path, columns=["level", "code", "nom"], filters=[("level", "==", "epci")])
    names = dict(zip(ref["code"], ref["nom"], strict=True))
    missing = sorted(codes - set(names))
    notes.append(
        "EPCI names are not in this source: taken from the embedded COG 2025 reference by "
        f"SIREN ({len(codes) - len(missing)} found"
        + (f"; {len(missing)} unknown, left empty: {', '.join(missing[:10])})" if missing else ")")
    )
    return names


# ---------------------------------------------------------------------- assembly


def _assemble(com, names: dict, nature: dict, dep_region: dict, geoms: dict) -> dict:
    import geopandas as gpd

    com = com.copy()
    com["zone"] = com["departement"].map(departement_zone)
    com["area_km2"] = area_km2(
        gpd.GeoDataFrame(com, geometry="geometry", crs=STORAGE_CRS),
        departement_column="departement",
    ).to_numpy()
    if "siren" not in com:
        com["siren"] = pd.Series(pd.NA, index=com.index, dtype="str")
    com = com.sort_values("code", kind="stable").reset_index(drop=True)

    def totals(key: str) -> pd.DataFrame:
        g = com.dropna(subset=[key]).groupby(key, sort=True)
        out = g.agg(
            population=("population", "sum"),
            area_km2=("area_km2", "sum"),
            n_communes=("code", "size"),
        )
        return out.reset_index().rename(columns={key: "code"})

    epci = totals("epci")
    seat = com.sort_values(["population", "code"], ascending=[False, True], kind="stable")
    seat = seat.dropna(subset=["epci"]).drop_duplicates("epci").set_index("epci")
    epci["nom"] = epci["code"].map(names["epci"])
    epci["siren"] = epci["code"]
    epci["nature"] = epci["code"].map(nature)
    epci["siege"] = epci["code"].map(seat["code"])
    epci["departement"] = epci["code"].map(seat["departement"])
    epci["region"] = epci["code"].map(seat["region"])
    span = com.dropna(subset=["epci"]).groupby("epci")["departement"]
    epci["departements"] = epci["code"].map(span.agg(lambda s: " ".join(sorted(set(s)))))
    epci["zone"] = epci["departement"].map(departement_zone)

    dep = totals("departement")
    dep["nom"] = dep["code"].map(names["departement"])
    dep["region"] = dep["code"].map(dep_region)
    dep["zone"] = dep["code"].map(departement_zone)

    reg = totals("region")
    reg["nom"] = reg["code"].map(names["region"])
    reg["zone"] = reg["code"].map(region_zone)

    levels = {"commune": com, "epci": epci, "departement": dep, "region": reg}
    for level in ("epci", "departement", "region"):
        gdf = levels[level]
        gdf["geometry"] = gdf["code"].map(geoms[level]).to_numpy()
    return levels


def _finish(levels, *, arm, cog, source, provenance, meta, reader, notes, repairs):
    import geopandas as gpd

    from .reference import _COLUMNS, from_frames

    sirens = _collectivity_sirens(cog, notes)
    levels["departement"]["siren"] = levels["departement"]["code"].map(
        sirens.get("departement", {})
    )
    levels["region"]["siren"] = levels["region"]["code"].map(sirens.get("region", {}))
    out = {}
    for level, df in levels.items():
        df = df[_COLUMNS[level]].copy()
        for col in df.columns:
            if col in ("population", "n_communes"):
                df[col] = df[col].astype("Int64")
            elif col == "area_km2":
                df[col] = df[col].astype("float64")
            elif col != "geometry":
                df[col] = df[col].astype("str")
        out[level] = gpd.GeoDataFrame(df, geometry="geometry", crs=STORAGE_CRS)
    identifiers = _identifiers(out, arm, sirens.get("_rows"))
    prov_layers = {lv: m for lv, m in meta.items() if isinstance(m, list)}
    com_fields = (prov_layers.get("commune") or [{}])[0].get("fields") or {}
    if reader == "cartiflette":
        field_names = "cartiflette (INSEE_COM, NOM, EPCI, NATURE_EPCI, LIBELLE_*)"
    elif com_fields.get("code", "").lower() == "code_insee":
        field_names = "ADMIN EXPRESS 4.x (code_insee, nom_officiel, codes_siren_des_epci…)"
    elif com_fields.get("nom", "").upper() == "NOM_COM":
        field_names = "ADMIN EXPRESS 2.x (INSEE_COM, NOM_COM, CODE_EPCI…)"
    else:
        field_names = "ADMIN EXPRESS 3.x (INSEE_COM, NOM, SIREN_EPCI…)"
    repair_text = [
        f"{len(codes)} {level} geometries were invalid and repaired with shapely.make_valid "
        f"(method='structure'; polygonal parts kept): {', '.join(codes[:20])}"
        + (" …" if len(codes) > 20 else "")
        for level, codes in repairs.items()
    ]
    prov = {
        "reader": reader,
        "source": str(source),
        "path": meta.get("path"),
        "cog": cog,
        "field_names": field_names,
        "layers": prov_layers,
        "repairs": repair_text,
        "repaired_geometries": repairs,
        "notes": notes,
        **provenance,
    }
    if repairs:
        warn_repairs(repairs, meta.get("path"))
    return from_frames(out, identifiers, cog=cog, source=source, provenance=prov)


# identifiers that do not depend on the COG year (collectivités since 2021, COM codes)
_STABLE_KINDS = ("siren_", "nom_collectivite_", "perimetre_collectivite_", "collectivite_outre_mer")


def _collectivity_sirens(cog: int, notes: list[str]) -> dict:
    """SIREN of conseils départementaux/régionaux and stable identifiers (since 2021).

    Taken from the embedded reference: the SIREN, names and perimeters of the
    collectivités above the communes, and the codes of the collectivités
    d'outre-mer, which have not changed since the creation of the Collectivité
    européenne d'Alsace on 1 January 2021.
    """
    if cog < 2021:
        notes.append(
            "SIREN of départements and régions left empty: the embedded list is valid from "
            "COG 2021 (creation of the Collectivité européenne d'Alsace)."
        )
        return {}
    from .._paths import boundaries_dir

    try:
        path = boundaries_dir(2025) / "identifiants.parquet"
    except SourceError:
        return {}
    ids = pd.read_parquet(path)
    rows = ids[ids["kind"].str.startswith(_STABLE_KINDS)]
    out: dict = {"_rows": rows}
    for level in ("departement", "region"):
        sub = rows[rows["kind"] == f"siren_{level}"]
        out[level] = dict(zip(sub["code"].str.split(":").str[1], sub["key"], strict=True))
    return out


def _identifiers(levels: dict, arm, siren_rows) -> pd.DataFrame:
    frames = []
    if siren_rows is not None and len(siren_rows):
        present = {f"{lv}:{c}" for lv, gdf in levels.items() for c in gdf["code"]}
        outside = siren_rows["kind"] == "collectivite_outre_mer"  # outside any reference
        frames.append(siren_rows[outside | siren_rows["code"].isin(present)])
    if arm is not None and len(arm):
        a = pd.DataFrame(
            {
                "kind": "arrondissement_municipal",
                "key": _codes(arm["code"], 5),
                "code": _codes(arm["commune"], 5),
                "nom": arm["nom"].astype("str"),
            }
        )
        frames.append(a[a["code"].isin(set(levels["commune"]["code"]))])
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in ("kind", "key", "code", "nom")})
    out = pd.concat(frames, ignore_index=True)[["kind", "key", "code", "nom"]].astype("str")
    return out.sort_values(["kind", "key", "code"]).reset_index(drop=True)
