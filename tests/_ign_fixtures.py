"""Small ADMIN EXPRESS / cartiflette look-alikes built from the embedded reference.

A few départements of the embedded COG 2025 reference are written with the
layer and field names IGN uses in each edition, so that the readers can be
checked against known answers (the embedded values). Upper levels are the
union of the communes written, so the layers of a fixture are consistent.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

# Corse (2 départements, a whole région), Finistère (two islands without EPCI,
# one EPCI spanning 22), Rhône (Métropole de Lyon, its arrondissements),
# La Réunion and Mayotte (two overseas projections)
DEPS = ["2A", "2B", "29", "69", "974", "976"]
# a commune of the Métropole du Grand Paris style: an EPT listed before its EPCI
EPT_SIREN = "200057990"
EPT_COMMUNES = ["69029", "69034"]

# field names per edition: role -> name
V3 = {
    "layers": {
        "commune": "COMMUNE",
        "epci": "EPCI",
        "departement": "DEPARTEMENT",
        "region": "REGION",
        "arm": "ARRONDISSEMENT_MUNICIPAL",
    },
    "commune": {
        "code": "INSEE_COM",
        "nom": "NOM",
        "population": "POPULATION",
        "epci": "SIREN_EPCI",
        "departement": "INSEE_DEP",
        "region": "INSEE_REG",
    },
    "commune_extra": {
        "NOM_M": "nom_upper",
        "STATUT": "statut",
        "INSEE_CAN": "can",
        "INSEE_ARR": "arr",
    },
    "epci": {"code": "CODE_SIREN", "nom": "NOM", "nature": "NATURE"},
    "departement": {"code": "INSEE_DEP", "nom": "NOM", "region": "INSEE_REG"},
    "region": {"code": "INSEE_REG", "nom": "NOM"},
    "arm": {"code": "INSEE_ARM", "commune": "INSEE_COM", "nom": "NOM"},
    "nature": {"CC": "CC", "CA": "CA", "CU": "CU", "MET": "ME", "EPT": "EPT"},
    "geometry": "geometry",
}
V2 = {
    **V3,
    "commune": {**V3["commune"], "nom": "NOM_COM", "epci": "CODE_EPCI"},
    "commune_extra": {},
    "epci": {"code": "CODE_EPCI", "nom": "NOM_EPCI", "nature": "TYPE_EPCI"},
    "departement": {**V3["departement"], "nom": "NOM_DEP"},
    "region": {**V3["region"], "nom": "NOM_REG"},
}
V4 = {
    "layers": {
        "commune": "commune",
        "epci": "epci",
        "departement": "departement",
        "region": "region",
        "arm": "arrondissement_municipal",
    },
    "commune": {
        "code": "code_insee",
        "nom": "nom_officiel",
        "population": "population",
        "epci": "codes_siren_des_epci",
        "departement": "code_insee_du_departement",
        "region": "code_insee_de_la_region",
        "siren": "code_siren",
    },
    "commune_extra": {"statut": "statut"},
    "epci": {"code": "code_siren", "nom": "nom_officiel", "nature": "nature"},
    "departement": {
        "code": "code_insee",
        "nom": "nom_officiel",
        "region": "code_insee_de_la_region",
    },
    "region": {"code": "code_insee", "nom": "nom_officiel"},
    "arm": {
        "code": "code_insee",
        "commune": "code_insee_de_la_commune_de_rattach",
        "nom": "nom_officiel",
    },
    "nature": {
        "CC": "Communauté de communes",
        "CA": "Communauté d'agglomération",
        "CU": "Communauté urbaine",
        "MET": "Métropole",
        "EPT": "Etablissement public territorial",
    },
    "geometry": "geometrie",
}
EDITIONS = {"2.x": V2, "3.x": V3, "4.x": V4}


def reference_frames(territories, deps=DEPS) -> dict[str, gpd.GeoDataFrame]:
    """The selected communes and upper levels dissolved from them (role names)."""
    t = territories
    com = t.communes[t.communes["departement"].isin(deps)].reset_index(drop=True)

    def union(key):
        groups = com.dropna(subset=[key]).groupby(key)
        return pd.Series({k: shapely.coverage_union_all(g.geometry.to_numpy()) for k, g in groups})

    epci = t.epci[t.epci["code"].isin(set(com["epci"].dropna()))].reset_index(drop=True)
    epci = epci.assign(geometry=epci["code"].map(union("epci")).to_numpy())
    dep = t.departements[t.departements["code"].isin(deps)].reset_index(drop=True)
    reg = t.regions[t.regions["code"].isin(set(dep["region"]))].reset_index(drop=True)
    reg = reg.assign(geometry=reg["code"].map(union("region")).to_numpy())
    ids = t.identifiers
    arm = ids[(ids["kind"] == "arrondissement_municipal") & ids["code"].isin(com["code"])]
    return {
        "commune": gpd.GeoDataFrame(com, geometry="geometry", crs=4326),
        "epci": gpd.GeoDataFrame(epci, geometry="geometry", crs=4326),
        "departement": gpd.GeoDataFrame(dep, geometry="geometry", crs=4326),
        "region": gpd.GeoDataFrame(reg, geometry="geometry", crs=4326),
        "arm": arm.reset_index(drop=True),
    }


def ign_layers(ref: dict, edition: str = "3.x") -> dict[str, gpd.GeoDataFrame]:
    """Layers with the IGN names of ``edition``, keyed by IGN layer name."""
    spec = EDITIONS[edition]
    c = ref["commune"]
    epci_field = c["epci"].fillna("NR").astype(object)
    ept = c["code"].isin(EPT_COMMUNES)
    epci_field[ept] = EPT_SIREN + "/" + c.loc[ept, "epci"]
    com = {
        spec["commune"]["code"]: c["code"],
        spec["commune"]["nom"]: c["nom"],
        spec["commune"]["population"]: c["population"].astype("int64"),
        spec["commune"]["epci"]: epci_field,
        spec["commune"]["departement"]: c["departement"],
        spec["commune"]["region"]: c["region"],
    }
    if "siren" in spec["commune"]:
        com[spec["commune"]["siren"]] = c["siren"]
    for name in spec["commune_extra"]:
        com[name] = c["nom"].str.upper() if name == "NOM_M" else c["nom"].map(lambda _: "Commune")
    e = ref["epci"]
    ept_row = pd.DataFrame(
        {
            "code": [EPT_SIREN],
            "nom": ["Établissement public territorial (fixture)"],
            "nature": ["EPT"],
            "geometry": [shapely.union_all(c.loc[ept].geometry.to_numpy())],
        }
    )
    e = e[["code", "nom", "nature", "geometry"]]
    if ept.any():
        e = pd.concat([e, ept_row], ignore_index=True)
    epci = {
        spec["epci"]["code"]: e["code"],
        spec["epci"]["nom"]: e["nom"],
        spec["epci"]["nature"]: e["nature"].map(spec["nature"]),
    }
    d, r, a = ref["departement"], ref["region"], ref["arm"]
    placeholder = c.geometry.iloc[0]  # geometry of the arrondissement layer: not read
    tables = {
        "commune": (com, c.geometry),
        "epci": (epci, e["geometry"]),
        "departement": (
            {
                spec["departement"]["code"]: d["code"],
                spec["departement"]["nom"]: d["nom"],
                spec["departement"]["region"]: d["region"],
            },
            d.geometry,
        ),
        "region": (
            {spec["region"]["code"]: r["code"], spec["region"]["nom"]: r["nom"]},
            r.geometry,
        ),
        "arm": (
            {
                spec["arm"]["code"]: a["key"],
                spec["arm"]["commune"]: a["code"],
                spec["arm"]["nom"]: a["nom"],
            },
            [placeholder] * len(a),
        ),
    }
    out = {}
    for level, (cols, geoms) in tables.items():
        df = pd.DataFrame({k: pd.Series(v).to_numpy() for k, v in cols.items()})
        gdf = gpd.GeoDataFrame(
            df, geometry=gpd.GeoSeries(list(geoms), crs=4326).to_numpy(), crs=4326
        )
        if spec["geometry"] != "geometry":
            gdf = gdf.rename_geometry(spec["geometry"])
        out[spec["layers"][level]] = gdf
    return out


def write_gpkg(layers: dict, path: Path) -> Path:
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return path


TERRITORY_FOLDERS = {  # as IGN names them, with the CRS of each
    "metropole": ("ADECOG_3-2_SHP_LAMB93_FXX", 2154),
    "974": ("ADECOG_3-2_SHP_RGR92UTM40S_REU", 2975),
    "976": ("ADECOG_3-2_SHP_RGM04UTM38S_MYT", 4471),
}


def write_shapefile_delivery(layers: dict, root: Path) -> Path:
    """One sub-folder per territory, each layer in the territory's own CRS."""
    dep_field = "INSEE_DEP"
    reg_of = {"metropole": None, "974": "04", "976": "06"}
    for zone, (folder, epsg) in TERRITORY_FOLDERS.items():
        target = root / "ADMIN-EXPRESS-COG" / "1_DONNEES_LIVRAISON_2025-00001" / folder
        target.mkdir(parents=True)
        com = layers["COMMUNE"]
        deps = com[dep_field]
        in_zone = (
            deps.isin(["974"])
            if zone == "974"
            else deps.isin(["976"])
            if zone == "976"
            else ~deps.isin(["974", "976"])
        )
        codes = set(com.loc[in_zone, "SIREN_EPCI"].str.split("/").explode())
        parts = {
            "COMMUNE": com[in_zone],
            "EPCI": layers["EPCI"][layers["EPCI"]["CODE_SIREN"].isin(codes)],
            "DEPARTEMENT": layers["DEPARTEMENT"][
                layers["DEPARTEMENT"]["INSEE_DEP"].isin(set(deps[in_zone]))
            ],
            "REGION": layers["REGION"][
                layers["REGION"]["INSEE_REG"].isin(set(com.loc[in_zone, "INSEE_REG"]))
            ]
            if reg_of[zone] is None
            else layers["REGION"][layers["REGION"]["INSEE_REG"] == reg_of[zone]],
        }
        for name, gdf in parts.items():
            gdf.to_crs(epsg).to_file(target / f"{name}.shp", encoding="UTF-8")
    return root


def write_cartiflette(ref: dict, path: Path) -> Path:
    c = ref["commune"]
    nature = c["epci"].map(dict(zip(ref["epci"]["code"], ref["epci"]["nature"], strict=True)))
    dep_names = dict(zip(ref["departement"]["code"], ref["departement"]["nom"], strict=True))
    reg_names = dict(zip(ref["region"]["code"], ref["region"]["nom"], strict=True))
    gdf = gpd.GeoDataFrame(
        {
            "ID": "COMMUNE_" + c["code"],
            "NOM": c["nom"],
            "INSEE_COM": c["code"],
            "STATUT": "Commune simple",
            "POPULATION": c["population"].astype("int64"),
            "AREA": "metropole",
            "INSEE_DEP": c["departement"],
            "INSEE_REG": c["region"],
            "EPCI": c["epci"].fillna("ZZZZZZZZZ"),
            "NATURE_EPCI": nature.replace({"MET": "ME"}).fillna("ZZ"),
            "LIBELLE_DEPARTEMENT": c["departement"].map(dep_names),
            "LIBELLE_REGION": c["region"].map(reg_names),
            "PAYS": "France",
        },
        geometry=c.geometry.to_numpy(),
        crs=4326,
    )
    gdf.to_parquet(path)
    return path
