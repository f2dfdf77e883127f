"""Resolving a structure's territory to communes (see :mod:`barometre_geo.coverage.structures`).

Members go through :func:`barometre_geo.resolve.resolve`; départements and
régions served are looked up here (codes, names, SIREN of their conseils).
The territory rule is documented in :mod:`barometre_geo.coverage.structures`.
"""

from __future__ import annotations

import re
import unicodedata
import weakref

import pandas as pd

from ..territories.text import luhn_ok
from .read import RawStructure

__all__ = ["POLYGON_MIN_SHARE", "check_siren", "territory"]

#: Share of a commune's area that must lie in a structure's polygon.
POLYGON_MIN_SHARE = 0.5


# ---------------------------------------------------------------- identifiers


def _norm(text) -> str:
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


def check_siren(raw: RawStructure, add) -> tuple[str | None, str | None]:
    """Return (siren, siret), reporting malformed values."""
    siret = re.sub(r"[\s.]", "", raw.siret) if raw.siret else None
    siren = re.sub(r"[\s.]", "", raw.siren) if raw.siren else None
    if siret is not None and not (siret.isdigit() and len(siret) == 14):
        ok = siret.isdigit() and len(siret) > 9 and luhn_ok(siret[:9])
        add(
            "siret",
            raw.siret,
            "malformed_siret",
            f"SIRET {raw.siret!r} : {len(siret)} caractères au lieu de 14"
            + (
                f" ; SIREN {siret[:9]} déduit des 9 premiers chiffres (clé valide)."
                if ok
                else " ; SIREN non déduit. Corrigez le SIRET (14 chiffres) ou donnez le SIREN."
            ),
        )
        siren = siren or (siret[:9] if ok else None)
        siret = None
    siren = siren or (siret[:9] if siret else None)
    if siren is not None and not (siren.isdigit() and len(siren) == 9 and luhn_ok(siren)):
        add(
            "siren",
            siren,
            "invalid_siren",
            f"SIREN {siren!r} invalide (9 chiffres avec clé de Luhn attendus) : vérifiez-le.",
        )
    return siren, siret


_LOOKUPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _lookups(territories) -> dict:
    """Dictionaries of exact identifiers, built once per Territories object."""
    if territories in _LOOKUPS:
        return _LOOKUPS[territories]
    c = territories.communes
    d, r = territories.departements, territories.regions
    ids = territories.identifiers
    dep_names = {_norm(n): code for code, n in zip(d["code"], d["nom"], strict=True)}
    reg_names = {_norm(n): code for code, n in zip(r["code"], r["nom"], strict=True)}
    reg_codes = {code: code for code in r["code"]}
    for row in ids[ids["kind"].isin(["siren_departement", "siren_region"])].itertuples():
        names = dep_names if row.kind == "siren_departement" else reg_codes
        names[row.key] = str(row.code).rpartition(":")[2]  # "departement:01" -> "01"
    out = {
        "dep_codes": dict(zip(d["code"], d["nom"], strict=True)),
        "departement": {**{k: k for k in d["code"]}, **dep_names},
        "region": {**reg_codes, **reg_names},
        "communes_of": {
            "epci": c.groupby("epci").indices,
            "departement": c.groupby("departement").indices,
            "region": c.groupby("region").indices,
        },
        "deps_of_region": d.groupby("region")["code"].agg(list).to_dict(),
    }
    _LOOKUPS[territories] = out
    return out


def _clean_value(value) -> str:
    if isinstance(value, dict):
        for key in ("code", "insee", "siren", "siret", "code_insee", "id"):
            if value.get(key) not in (None, ""):
                return _clean_value(value[key])
        return str(value.get("nom", value))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if isinstance(value, int) and len(text) in (1, 4):
        text = text.zfill(len(text) + 1)
    if re.fullmatch(r"[\d\s.]+", text):
        text = re.sub(r"[\s.]", "", text)
    return text.upper() if re.fullmatch(r"\d[ab]\d{3}", text, re.IGNORECASE) else text


def _resolve_members(territories, values: list, departement=None) -> pd.DataFrame:
    """Resolve member identifiers with :func:`barometre_geo.resolve.resolve`.

    Bare département codes (``"24"``, ``"2A"``, ``"974"``) are départements
    here, before the resolver, which rightly calls ``"24"`` ambiguous between
    the Dordogne and the région Centre-Val de Loire: in a member list, régions
    go in the ``regions`` field.
    """
    from ..territories.resolve import COLUMNS, resolve

    deps = _lookups(territories)["dep_codes"]
    texts = [_clean_value(v) for v in values]
    rest = [i for i, t in enumerate(texts) if t not in deps]
    out = pd.DataFrame(
        {
            "input": list(values),
            "kind": "departement",
            "code": texts,
            "level": "departement",
            "nom": [deps.get(t) for t in texts],
            "method": "code_departement",
            "status": "resolved",
            "reason": "",
            "reason_code": "",
            "candidates": [()] * len(values),
        },
        columns=COLUMNS,
    ).astype(object)
    if rest:
        given = [values[i] if not isinstance(values[i], dict) else texts[i] for i in rest]
        # the hint only chooses among homonyms: a code elsewhere is a legitimate member
        hints = [departement if re.search(r"[^\W\d_]{2}", texts[i]) else None for i in rest]
        # a member is a territory: a 5-digit code is its INSEE code, never a postal code
        res = resolve(territories, given, departement=hints, holds="insee")
        out.iloc[rest, 1:] = res[COLUMNS[1:]].astype(object).to_numpy()
    return out


# ------------------------------------------------------------------ territory


def _polygon_communes(territories, geom) -> list[int]:
    """Row positions of the communes with at least half their area in ``geom``."""
    import numpy as np
    import shapely

    from ..territories.crs import zone_crs

    geom = shapely.make_valid(geom)
    c = territories.communes
    tree = _lookups(territories).setdefault("tree", shapely.STRtree(c.geometry.to_numpy()))
    cand = tree.query(geom, predicate="intersects")
    if len(cand) == 0:
        return []
    inside = np.zeros(len(cand), dtype=bool)
    sub = c.iloc[cand]
    for zone in sub["zone"].unique():
        mask = (sub["zone"] == zone).to_numpy()
        epsg = zone_crs(zone)
        com = sub.loc[mask].geometry.to_crs(epsg).to_numpy()
        import geopandas as gpd

        poly = gpd.GeoSeries([geom], crs=4326).to_crs(epsg).iloc[0]
        shapely.prepare(poly)
        share = shapely.area(shapely.intersection(com, poly)) / shapely.area(com)
        inside[mask] = share >= POLYGON_MIN_SHARE
    return [int(i) for i in cand[inside]]


def _describe(parts: dict[str, list]) -> str:
    labels = {
        "departements": "département(s) {}",
        "regions": "région(s) {}",
        "commune": "{} commune(s) membre(s)",
        "epci": "{} EPCI membre(s)",
        "polygone": "polygone",
        "exclus": "{} exclusion(s)",
    }
    out = []
    for key, items in parts.items():
        if not items:
            continue
        if key in ("departements", "regions"):
            out.append(labels[key].format(", ".join(sorted(items))))
        elif key == "polygone":
            out.append(labels[key])
        else:
            out.append(labels[key].format(len(items)))
    return " ; ".join(out) or "aucun territoire"


_UNKNOWN = {
    "departement": (
        "unknown_departement",
        "département {!r} inconnu : donnez son code (ex. « 2A », « 974 »).",
    ),
    "region": (
        "unknown_region",
        "région {!r} inconnue : donnez son code INSEE (ex. « 53 ») ou son nom.",
    ),
}


def _served(lk: dict, values: list, level: str, add) -> list[str]:
    """Codes of the départements or régions served; unknown ones are reported."""
    issue, text = _UNKNOWN[level]
    codes = []
    for value in values:
        code = lk[level].get(_clean_value(value)) or lk[level].get(_norm(value))
        if code is None:
            add(f"{level}s", value, issue, text.format(value))
        else:
            codes.append(code)
    return codes


def territory(territories, raw: RawStructure, add) -> tuple[dict[int, str], str]:
    """Return {commune row position: via} and a description for one structure."""
    import numpy as np

    lk = _lookups(territories)
    of = lk["communes_of"]
    deps_col = territories.communes["departement"].to_numpy()
    fine: dict[int, str] = {}
    broad: dict[str, str] = {}
    parts: dict[str, list] = {"departements": [], "regions": [], "commune": [], "epci": []}

    def serve(level: str, code: str) -> None:
        parts[f"{level}s"].append(code)
        deps = [code] if level == "departement" else lk["deps_of_region"].get(code, [])
        for dep in deps:
            broad.setdefault(dep, level)

    for level, values in (("departement", raw.departements), ("region", raw.regions)):
        for code in _served(lk, values, level, add):
            serve(level, code)

    hint = parts["departements"][0] if len(parts["departements"]) == 1 else None
    resolved = _resolve_members(territories, raw.membres, hint) if raw.membres else None
    for r in resolved.itertuples() if resolved is not None else ():
        if r.status != "resolved":
            issue = "ambiguous_member" if r.status == "ambiguous" else "unknown_member"
            add(
                "membres",
                r.input,
                issue,
                f"membre {r.input!r} non reconnu (résolveur : {r.reason}).",
            )
        elif r.level in ("commune", "epci"):
            parts[r.level].append(r.code)
            idx = [_position(territories, r.code)] if r.level == "commune" else of["epci"][r.code]
            for i in idx:
                fine.setdefault(int(i), r.level)
        else:  # departement or region
            serve(r.level, r.code)
    if raw.geometry is not None and not _is_polygonal(raw.geometry):
        add(
            "geometry",
            raw.geometry.geom_type,
            "not_polygon",
            f"géométrie {raw.geometry.geom_type} ignorée : seuls les polygones délimitent "
            "un territoire.",
        )
    elif raw.geometry is not None:
        parts["polygone"] = [1]
        found = _polygon_communes(territories, raw.geometry)
        if not found:
            add(
                "geometry",
                "polygone",
                "polygon_outside",
                "le polygone ne contient la moitié d'aucune commune : vérifiez son système de "
                "coordonnées (longitude/latitude attendues).",
            )
        for i in found:
            fine.setdefault(i, "polygone")

    members = dict(fine)
    fine_deps = set(deps_col[list(fine)]) if fine else set()
    for dep, via in broad.items():
        if dep in fine_deps:
            n = int(np.sum(deps_col[list(fine)] == dep))
            add(
                "departements",
                dep,
                "narrowed",
                f"département {dep} restreint à ses {n} commune(s) membre(s) nommée(s).",
                severity="info",
            )
            continue
        for i in of["departement"][dep]:
            members.setdefault(int(i), via)
    if raw.exclus:
        parts["exclus"] = raw.exclus
        for r in _resolve_members(territories, raw.exclus).itertuples():
            if r.status != "resolved":
                add(
                    "exclus",
                    r.input,
                    "unknown_member",
                    f"exclusion {r.input!r} non reconnue (résolveur : {r.reason}).",
                )
                continue
            drop = [_position(territories, r.code)] if r.level == "commune" else of[r.level][r.code]
            hit = [int(i) for i in drop if int(i) in members]
            if not hit:
                add(
                    "exclus",
                    r.input,
                    "excluded_outside",
                    f"exclusion {r.input!r} hors du territoire de la structure (sans effet).",
                    severity="info",
                )
            for i in hit:
                del members[i]
    return members, _describe(parts)


def _is_polygonal(geom) -> bool:
    import shapely

    if int(shapely.get_type_id(geom)) == 7:  # collection: polygonal if any part is
        return any(_is_polygonal(g) for g in shapely.get_parts(geom))
    return int(shapely.get_type_id(geom)) in (3, 6)


def _position(territories, code: str) -> int:
    """Row position of a commune code in ``territories.communes``."""
    lk = _lookups(territories)
    if "position" not in lk:
        lk["position"] = {c: i for i, c in enumerate(territories.communes["code"])}
    return lk["position"][code]
