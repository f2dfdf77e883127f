"""Identifying the collectivity behind each response row.

Identifier columns are tried in order of reliability — SIREN/SIRET, INSEE code,
postal code, then the name typed by hand — through the resolver
(:func:`barometre_geo.resolve.resolve`), with the département column as a hint and
the declared type of collectivity as a check. Syndicats (absent from the
territorial reference) are kept when their département is known. The territory
columns of the responses (``commune``, ``epci``, ``departement``, ``region``,
``population``, ``siren``, ``type_label``) are then read from the reference.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..territories import reasons as why
from .text import key, keys, map_keys, map_unique, mask

__all__ = [
    "CSP",
    "declared_kind",
    "identify",
    "normalise_departement",
    "profile_of",
    "territory_columns",
    "unknown_types",
]

CSP = "collectivite_a_statut_particulier"
_ORDER = ("siren", "insee", "code_postal", "nom")
_CODE_ROLES = ("siren", "insee", "code_postal")
_NATURE = {
    "CC": "Communauté de communes",
    "CA": "Communauté d’agglomération",
    "CU": "Communauté urbaine",
    "MET": "Métropole",
    "METRO": "Métropole",
}
_LEVEL_LABEL = {"commune": "Commune", "departement": "Département", "region": "Région"}
#: How the report names each identifier column and kind of collectivity.
_ROLE_FR = {"siren": "SIREN", "insee": "code INSEE", "code_postal": "code postal", "nom": "nom"}
_KIND_FR = {
    "commune": "commune",
    "epci": "EPCI",
    "departement": "département",
    "region": "région",
    CSP: "collectivité à statut particulier",
}
_RESOLVED = ("kind", "code", "level", "nom", "status", "reason", "reason_code", "candidates")
_DEPT_PREFIX = re.compile(r"^\s*(\d{1,3}|2\s*[ABab])(?:\b|$)")


# ---------------------------------------------------------------------- hints


def normalise_departement(values: pd.Series, territories) -> tuple[pd.Series, pd.Series]:
    """Turn département cells (``64``, ``1``, ``2A``, ``Pyrénées-Atlantiques (64)``) into codes.

    Returns the codes (NA when empty or unknown) and a mask of unknown non-empty cells.
    """
    deps = territories.departements
    by_key = {key(n): c for c, n in zip(deps["code"], deps["nom"], strict=True)}
    codes = set(deps["code"])

    def code_of(v):
        text = str(v).strip()
        if not text:
            return None
        code = None
        m = _DEPT_PREFIX.match(text)
        if m:
            c = m.group(1).replace(" ", "").upper()
            c = c.zfill(2) if c.isdigit() and len(c) < 2 else c
            code = c if c in codes else None
        if code is None:
            k = key(re.sub(r"\(.*?\)|^\s*\d+\s*-?", " ", text))
            code = by_key.get(k) or by_key.get(key(text))
        return code if code is not None else ""

    mapped = map_unique(values, code_of)
    unknown = pd.Series(mapped == "", index=values.index)
    mapped[unknown.to_numpy()] = None
    return pd.Series(mapped, index=values.index, dtype=object), unknown


def unknown_types(type_values: pd.Series, types: dict) -> pd.Series:
    """Mask of non-empty "type of collectivity" cells that no ``types`` label matches."""
    kinds = declared_kind(type_values, pd.Series([""] * len(type_values)), types)
    return (type_values.str.strip() != "") & kinds.isna().to_numpy()


def declared_kind(type_values: pd.Series | None, names: pd.Series, types: dict) -> pd.Series:
    """Kind declared by the "type of collectivity" cells (or a ``*`` pattern in the name)."""
    exact: dict[str, str] = {}
    prefixes: list[tuple[str, str]] = []
    for kind, labels in types.items():
        for label in labels:
            if label.endswith("*"):
                prefixes.append((key(label[:-1]), kind))
            else:
                exact.setdefault(key(label), kind)

    def classify(k: str, allow_exact: bool) -> str | None:
        if not k:
            return None
        if allow_exact and k in exact:
            return exact[k]
        for p, kind in prefixes:
            if k == p or k.startswith(p + " "):
                return kind
        return None

    from_name = map_keys(names, lambda k: classify(k, False))
    if type_values is None:
        return pd.Series(from_name, index=names.index, dtype=object)
    result = map_keys(type_values, lambda k: classify(k, True))
    return pd.Series(np.where(pd.isna(result), from_name, result), index=names.index, dtype=object)


def profile_of(fonction: pd.Series, profiles: dict) -> pd.Series:
    """``agent``/``elu``/NA from the respondent's function (agent phrases first)."""
    order = [(p, "agent") for p in profiles.get("agent", ())]
    order += [(p, "elu") for p in profiles.get("elu", ())]
    patterns = [(re.compile(rf"(?:^| ){re.escape(key(p))}(?: |$)"), prof) for p, prof in order]

    def profile(k):
        return next((prof for rx, prof in patterns if k and rx.search(k)), None)

    return pd.Series(map_keys(fonction, profile), index=fonction.index, dtype=object)


# ---------------------------------------------------------------------- resolution


def _resolve_unique(territories, values: pd.Series, hints: pd.Series) -> pd.DataFrame:
    """Resolve each distinct (value, hint) pair once; return results aligned on ``values``."""
    from ..territories.resolve import resolve

    pairs = pd.DataFrame({"v": values.to_numpy(), "h": hints.to_numpy()})
    pairs["h"] = pairs["h"].astype(object).where(pairs["h"].notna(), "")
    uniq = pairs.drop_duplicates().reset_index(drop=True)
    uniq = uniq[uniq["v"].str.strip() != ""].reset_index(drop=True)
    if len(uniq):
        res = resolve(
            territories,
            uniq["v"].tolist(),
            departement=[h or None for h in uniq["h"]],
        ).reset_index(drop=True)
        res["v"], res["h"] = uniq["v"], uniq["h"]
    else:
        res = pd.DataFrame(columns=["v", "h", *_RESOLVED[:-1]])
        res["candidates"] = pd.Series(dtype=object)
    merged = pairs.merge(res, on=["v", "h"], how="left")
    merged.index = values.index
    return merged


def _recheck_with_name(territories, res, codes: pd.Series, names: pd.Series, dept) -> pd.DataFrame:
    """Let the name written next to a code arbitrate when it does not name the same commune.

    A postal code typed in the INSEE column is often also the INSEE code of another
    commune (64230: Gan's INSEE code, Lescar's postal code). Where the name of the
    row does not contain the name of the commune the code reads as, the resolver
    reads ``"code name"`` again: resolved, it wins; ambiguous (code and name
    contradict each other), the row becomes ambiguous; unresolved (a generic or
    junk name), the reading of the code alone stays.
    """
    found = res["nom"].fillna("").astype(str)
    doubt = (res["status"] == "resolved").to_numpy() & (names.str.strip() != "").to_numpy()
    if not doubt.any():
        return res
    name_keys = pd.Series("", index=names.index, dtype=object)
    name_keys[doubt] = " " + keys(names[doubt]) + " "
    found_keys = pd.Series("", index=names.index, dtype=object)
    found_keys[doubt] = " " + keys(found[doubt]) + " "
    same = np.array([f in n for f, n in zip(found_keys, name_keys, strict=True)], dtype=bool)
    doubt &= ~same
    if not doubt.any():
        return res
    combined = (codes.str.strip() + " " + names.str.strip()).where(doubt, "")
    again = _resolve_unique(territories, combined, dept)
    take = doubt & again["status"].isin(["resolved", "ambiguous"]).to_numpy()
    out = res.copy()
    for col in _RESOLVED:
        out[col] = out[col].astype(object)
        out.loc[take, col] = again.loc[take, col].astype(object)
    out["contradiction"] = take & (again["status"] == "ambiguous").to_numpy()
    return out


def _resolve_postal(territories, values: pd.Series, names, dept: pd.Series) -> pd.DataFrame:
    """Read a postal-code column as postal codes (never as INSEE codes).

    One commune: resolved. Several: the département hint, then the name written on
    the row (read by the resolver next to the code) choose; else ambiguous.
    """
    idf = territories.identifiers
    table = idf[idf["kind"] == "code_postal"].groupby("key")["code"].agg(tuple).to_dict()
    cog = getattr(territories, "cog", 2025)
    com = territories.communes.set_index("code")
    dep_of, nom_of = com["departement"].to_dict(), com["nom"].to_dict()
    digits = values.str.replace(r"\D", "", regex=True)
    digits = digits.where(digits.str.len() != 4, "0" + digits)
    hints = dept.astype(object).where(dept.notna(), "")
    empty = (values.str.strip() == "").to_numpy()

    def read(cp: str, hint: str):
        cands = tuple(table.get(cp, ()))
        if hint:
            cands = tuple(c for c in cands if dep_of.get(c) == hint) or cands
        if not cands:
            code, reason = why.postal_unknown(cp, cog)
            return ("unresolved", "unknown", None, None, None, reason, code, ())
        if len(cands) == 1:
            return ("resolved", "commune", cands[0], "commune", nom_of[cands[0]], "", "", ())
        code, reason = why.postal_shared(cp, cands)
        return ("ambiguous", "commune", None, "commune", None, reason, code, cands)

    pair = digits.astype(str) + "|" + hints.astype(str)
    readings = map_unique(pair, lambda p: read(*p.split("|")))
    cols = ["status", "kind", "code", "level", "nom", "reason", "reason_code", "candidates"]
    out = pd.DataFrame(
        [
            (None, None, None, None, None, "", "", ()) if e else r
            for r, e in zip(readings, empty, strict=True)
        ],
        columns=cols,
        index=values.index,
        dtype=object,
    )
    out.insert(0, "h", dept.to_numpy(dtype=object))
    out.insert(0, "v", values.to_numpy(dtype=object))
    names = names if names is not None else pd.Series("", index=values.index)
    todo = (out["status"] == "ambiguous").to_numpy() & (names.str.strip() != "").to_numpy()
    if todo.any():
        combined = (digits + " " + names.str.strip()).where(todo, "")
        again = _resolve_unique(territories, combined, dept)
        fits = (
            np.array(
                [
                    a == "resolved" and c in cands
                    for a, c, cands in zip(
                        again["status"], again["code"], out["candidates"], strict=True
                    )
                ],
                dtype=bool,
            )
            & todo
        )
        for col in ("kind", "code", "level", "nom", "status"):
            out.loc[fits, col] = again.loc[fits, col].astype(object)
        out.loc[fits, "reason"] = ""
        out.loc[fits, "reason_code"] = ""
        out.loc[fits, "candidates"] = pd.Series([()] * int(fits.sum()), index=out.index[fits])
    return out


def identify(
    ids: dict[str, pd.Series], declared: pd.Series, dept: pd.Series, territories, index
) -> pd.DataFrame:
    """Identify every row; return one row per input row.

    Columns: ``status`` (resolved | ambiguous | unresolved), ``kind``, ``code``,
    ``level``, ``nom``, ``detail`` (French, masked), ``candidates``.
    The common case is vectorised; only problem rows are explained one by one.
    """
    n = len(index)
    roles = [r for r in _ORDER if r in ids]
    decl = declared.to_numpy(dtype=object)
    free = np.array([d is None or d in ("syndicat", "hors_champ", CSP) for d in decl], dtype=bool)
    cols, fits = {}, {}
    fitted = np.zeros(n, dtype=bool)
    for r in roles:
        values = ids[r]
        if r == "nom":  # names (slowest, least sure) only where no code fits
            values = values.where(~fitted, "")
        if r == "code_postal":
            res = _resolve_postal(territories, values, ids.get("nom"), dept)
        else:
            res = _resolve_unique(territories, values, dept)
            if r == "insee" and "nom" in ids:
                res = _recheck_with_name(territories, res, values, ids["nom"], dept)
        c = cols[r] = {col: v.to_numpy(dtype=object) for col, v in res.items()}
        ok = c["status"] == "resolved"
        same = (c["kind"] == decl) | ((c["kind"] == CSP) & (c["level"] == decl))
        fits[r] = ok & (free | same)
        if r == "nom" and "contradiction" in cols.get("insee", {}):
            fits[r] &= ~cols["insee"]["contradiction"].astype(bool)  # code and name disagree
        fitted |= fits[r]
    chosen = np.full(n, None, dtype=object)
    for r in reversed(roles):
        chosen = np.where(fits[r], r, chosen)
    conflict = np.zeros(n, dtype=bool)
    code_roles = [r for r in roles if r in _CODE_ROLES]
    for a_i, a in enumerate(code_roles):
        for b in code_roles[a_i + 1 :]:
            both = fits[a] & fits[b]
            conflict |= both & (
                (cols[a]["code"] != cols[b]["code"]) | (cols[a]["kind"] != cols[b]["kind"])
            )
    out = pd.DataFrame(
        {
            "status": np.where(chosen != None, "resolved", "unresolved").astype(object),  # noqa: E711
            "kind": np.full(n, None, dtype=object),
            "code": np.full(n, None, dtype=object),
            "level": np.full(n, None, dtype=object),
            "nom": np.full(n, None, dtype=object),
            "detail": np.full(n, "", dtype=object),
            "candidates": [()] * n,
        },
        index=index,
    )
    for field in ("kind", "code", "level", "nom"):
        values = out[field].to_numpy(dtype=object, copy=True)
        for r in roles:
            sel = chosen == r
            values[sel] = cols[r][field][sel]
        out[field] = values
    for i in np.flatnonzero(conflict | (chosen == None)):  # noqa: E711
        status, candidates, detail = _explain(i, roles, cols, decl[i], bool(conflict[i]))
        out.iloc[i, out.columns.get_loc("status")] = status
        out.iloc[i, out.columns.get_loc("detail")] = detail
        out.iat[i, out.columns.get_loc("candidates")] = candidates
        if status != "resolved":
            for field in ("kind", "code", "level", "nom"):
                out.iat[i, out.columns.get_loc(field)] = None
    return out


def _explain(i: int, roles, cols: dict, declared, conflict: bool):
    """Status, candidates and French detail of a row that is not plainly resolved."""
    resolved, ambiguous, reasons = [], [], []
    for role in roles:
        c = cols[role]
        status = c["status"][i]
        if not isinstance(status, str):
            continue
        if status == "resolved":
            resolved.append((role, c["kind"][i], c["code"][i], c["level"][i], c["nom"][i]))
            continue
        if status == "ambiguous":
            ambiguous += [x for x in (c["candidates"][i] or ()) if x not in ambiguous]
        reasons.append(f"{_ROLE_FR[role]} « {mask(c['v'][i])} » : {mask(c['reason'][i])}")

    def show(rs):
        return ", ".join(
            f"{_ROLE_FR[r[0]]} → {_KIND_FR.get(r[1], r[1])} {r[2]} ({r[4]})" for r in rs
        )

    contradicted = "contradiction" in cols.get("insee", {}) and cols["insee"]["contradiction"][i]
    if contradicted:  # the INSEE code and the name written next to it disagree
        names = [r for r in resolved if r[0] == "nom"]
        cands = tuple(dict.fromkeys([*ambiguous, *(r[2] for r in names)]))
        also = f" ; {show(names)}" if names else ""
        return "ambiguous", cands, " ; ".join(reasons) + also
    if conflict:
        codes = [r for r in resolved if r[0] in _CODE_ROLES]
        cands = tuple(dict.fromkeys(r[2] for r in codes))
        return "ambiguous", cands, "identifiants contradictoires : " + show(codes)
    if resolved:  # identifiers point to a collectivity of another kind than declared
        cands = tuple(dict.fromkeys(r[2] for r in resolved))
        said = _KIND_FR.get(declared, declared)
        return "ambiguous", cands, f"type déclaré « {said} » mais " + show(resolved)
    if not reasons:
        reasons = ["aucun identifiant (SIREN, code INSEE, code postal ou nom) renseigné"]
    status = "ambiguous" if ambiguous else "unresolved"
    return status, tuple(ambiguous), " ; ".join(reasons)


# ---------------------------------------------------------------------- territory columns


def territory_columns(found: pd.DataFrame, territories) -> pd.DataFrame:
    """Return the territory columns of resolved rows (``found`` from :func:`identify`).

    ``siren``, ``type_label``, ``commune``, ``epci``, ``departement``, ``region``,
    ``population``, read from the reference at the level of the resolved code.
    """
    com = territories.communes.set_index("code")
    epci = territories.epci.set_index("code")
    dep = territories.departements.set_index("code")
    reg = territories.regions.set_index("code")
    idf = territories.identifiers
    csp = idf[idf["kind"] == "siren_collectivite_a_statut_particulier"]
    csp_siren = dict(zip(csp["code"], csp["key"], strict=True))
    csp_name = dict(zip(csp["code"], csp["nom"], strict=True))
    level, code = found["level"], found["code"]
    out = pd.DataFrame(index=found.index)
    for col in ("siren", "type_label", "commune", "epci", "departement", "region"):
        out[col] = pd.Series(None, index=found.index, dtype=object)
    out["population"] = pd.Series(pd.NA, index=found.index, dtype="Int64")

    def fill(mask_, table, cols: dict, label=None):
        if not mask_.any():
            return
        rows = table.reindex(code[mask_])
        for target, source in cols.items():
            out.loc[mask_, target] = (
                code[mask_].to_numpy() if source == "code" else rows[source].to_numpy()
            )
        out.loc[mask_, "population"] = rows["population"].to_numpy()
        if label is not None:
            out.loc[mask_, "type_label"] = label(rows)

    fill(
        level == "commune",
        com,
        {
            "commune": "code",
            "epci": "epci",
            "departement": "departement",
            "region": "region",
            "siren": "siren",
        },
        lambda r: "Commune",
    )
    fill(
        level == "epci",
        epci,
        {"epci": "code", "departement": "departement", "region": "region", "siren": "siren"},
        lambda r: r["nature"].map(_NATURE).fillna("EPCI à fiscalité propre").to_numpy(),
    )
    fill(
        level == "departement",
        dep,
        {"departement": "code", "region": "region", "siren": "siren"},
        lambda r: "Département",
    )
    fill(level == "region", reg, {"region": "code", "siren": "siren"}, lambda r: "Région")
    is_csp = (found["kind"] == CSP).to_numpy()
    if is_csp.any():
        keys = (level[is_csp].astype(str) + ":" + code[is_csp].astype(str)).tolist()
        out.loc[is_csp, "siren"] = [csp_siren.get(k) for k in keys]
        out.loc[is_csp, "type_label"] = [
            csp_name.get(k, "Collectivité à statut particulier") for k in keys
        ]
    return out
