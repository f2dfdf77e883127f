"""Identifying the collectivity behind each response row.

Identifier columns are tried in order of reliability — SIREN/SIRET, INSEE code,
a code column of unknown kind, postal code, then the name typed by hand — through
the resolver (:func:`barometre_geo.resolve.resolve`): each column read as what it
holds (the mapping's ``holds:``, else :data:`~barometre_geo.survey.mapping.DEFAULT_HOLDS`),
with the name on the row and the département column settling codes of two
readings, and the declared type of collectivity as a check. Values the mapping
corrects (``corrections:``) are replaced by the code the user confirmed. Syndicats (absent from the
territorial reference) are kept when their département is known. The territory
columns of the responses (``commune``, ``epci``, ``departement``, ``region``,
``population``, ``siren``, ``type_label``) are then read from the reference.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .text import key, map_keys, map_unique, mask

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
_ORDER = ("siren", "insee", "code", "code_postal", "nom")
_CODE_ROLES = ("siren", "insee", "code", "code_postal")
_NAMED_ROLES = ("insee", "code", "code_postal")  # codes the name on the row may settle
_NATURE = {
    "CC": "Communauté de communes",
    "CA": "Communauté d’agglomération",
    "CU": "Communauté urbaine",
    "MET": "Métropole",
    "METRO": "Métropole",
}
_LEVEL_LABEL = {"commune": "Commune", "departement": "Département", "region": "Région"}
#: How the report names each identifier column and kind of collectivity.
_ROLE_FR = {
    "siren": "SIREN",
    "insee": "code INSEE",
    "code": "code",
    "code_postal": "code postal",
    "nom": "nom",
}
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


def _resolve_unique(
    territories, values: pd.Series, hints: pd.Series, *, holds: str = "auto", names=None
) -> pd.DataFrame:
    """Resolve each distinct (value, hint, name) once; return results aligned on ``values``."""
    from ..territories.resolve import resolve

    pairs = pd.DataFrame({"v": values.to_numpy(), "h": hints.to_numpy()})
    pairs["h"] = pairs["h"].astype(object).where(pairs["h"].notna(), "")
    pairs["n"] = "" if names is None else names.to_numpy(dtype=object)
    uniq = pairs.drop_duplicates().reset_index(drop=True)
    uniq = uniq[uniq["v"].str.strip() != ""].reset_index(drop=True)
    if len(uniq):
        res = resolve(
            territories,
            uniq["v"].tolist(),
            departement=[h or None for h in uniq["h"]],
            holds=holds,
            names=None if names is None else [n or None for n in uniq["n"]],
        ).reset_index(drop=True)
        res["v"], res["h"], res["n"] = uniq["v"], uniq["h"], uniq["n"]
    else:
        res = pd.DataFrame(columns=["v", "h", "n", *_RESOLVED[:-1], "method"])
        res["candidates"] = pd.Series(dtype=object)
    merged = pairs.merge(res, on=["v", "h", "n"], how="left")
    merged.index = values.index
    return merged


def _name_contradictions(territories, res, values, dept, holds: str) -> np.ndarray:
    """Rows whose code contradicts the name on the row (not only the département)."""
    contra = (res["reason_code"] == "contradiction").to_numpy()
    if not contra.any():
        return contra
    alone = _resolve_unique(territories, values[contra], dept[contra], holds=holds)
    out = np.zeros(len(res), dtype=bool)
    out[np.flatnonzero(contra)] = (alone["reason_code"] != "contradiction").to_numpy()
    return out


#: Separates the value and the name of a correction meant for the rows of that name only.
CORRECTION_SEPARATOR = " | "


def _corrected(
    territories, values: pd.Series, corrections: dict, names: pd.Series | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Rows whose value the mapping corrects, and the resolution of the codes it gives.

    A correction is the user's confirmation of a suggestion: the caller passes only the
    values left ambiguous or unresolved, so a value resolved on its row is never changed.
    A key ``"value | name"`` corrects the value on the rows of that name only, and wins
    over a key of the value alone.
    """
    general, specific = {}, {}
    for k, v in corrections.items():
        value, sep, name = k.partition(CORRECTION_SEPARATOR.strip())
        if sep and name.strip():
            specific[(key(value), key(name))] = v
        else:
            general[key(k)] = v
    value_keys = map_keys(values, lambda k: k)
    name_keys = map_keys(names, lambda k: k) if names is not None else [""] * len(values)
    targets = pd.Series(
        [
            (specific.get((kv, kn)) or general.get(kv)) if kv else None
            for kv, kn in zip(value_keys, name_keys, strict=True)
        ],
        index=values.index,
        dtype=object,
    )
    hit = targets.notna().to_numpy()
    if not hit.any():
        return hit, pd.DataFrame()
    from ..territories.resolve import resolve

    target = targets[hit].astype(str)
    holds = ["siren" if t.isdigit() and len(t) in (9, 14) else "insee" for t in target]
    res = resolve(territories, target.tolist(), holds=holds)
    res.index = target.index
    return hit, res


def identify(
    ids: dict[str, pd.Series],
    declared: pd.Series,
    dept: pd.Series,
    territories,
    index,
    *,
    holds: dict | None = None,
    corrections: dict | None = None,
) -> pd.DataFrame:
    """Identify every row; return one row per input row.

    Columns: ``status`` (resolved | ambiguous | unresolved), ``kind``, ``code``,
    ``level``, ``nom``, ``detail`` (French, masked), ``candidates``, ``corrected``
    (French note on the rows identified through the mapping's ``corrections:``),
    ``typed`` and ``suggestions`` (rows not resolved: the value a correction would
    key on, and up to 3 ``(level, code, nom)`` to confirm, :func:`suggest`).
    The common case is vectorised; only problem rows are explained one by one.
    """
    from .mapping import DEFAULT_HOLDS

    holds = {**DEFAULT_HOLDS, **(holds or {})}
    n = len(index)
    roles = [r for r in _ORDER if r in ids]
    decl = declared.to_numpy(dtype=object)
    free = np.array([d is None or d in ("syndicat", "hors_champ", CSP) for d in decl], dtype=bool)
    cols, fits = {}, {}
    fitted = np.zeros(n, dtype=bool)
    corrected = np.full(n, "", dtype=object)
    names = ids.get("nom")
    for r in roles:
        values = ids[r]
        if r == "nom":  # names (slowest, least sure) only where no code fits
            values = values.where(~fitted, "")
        named = names if r in _NAMED_ROLES and names is not None else None
        res = _resolve_unique(territories, values, dept, holds=holds[r], names=named)
        res["contradiction"] = (
            _name_contradictions(territories, res, values, dept, holds[r])
            if named is not None
            else np.zeros(n, dtype=bool)
        )
        if corrections:  # only where the value alone leaves the row undecided
            undecided = values.where((res["status"] != "resolved").to_numpy(), "")
            hit, fixed = _corrected(territories, undecided, corrections, names)
            for col in (*_RESOLVED, "method"):
                res[col] = res[col].astype(object)
                if hit.any():
                    res.loc[hit, col] = fixed[col].astype(object).to_numpy()
            res.loc[hit, "contradiction"] = False
            ok = hit & (res["status"] == "resolved").to_numpy()
            for i in np.flatnonzero(ok):
                if not corrected[i]:
                    corrected[i] = (
                        f"identifiée par correction du mapping : {_ROLE_FR[r]} "
                        f"« {mask(values.iat[i])} » → {res['code'].iat[i]} ({res['nom'].iat[i]})"
                    )
        c = cols[r] = {col: v.to_numpy(dtype=object) for col, v in res.items()}
        ok = c["status"] == "resolved"
        same = (c["kind"] == decl) | ((c["kind"] == CSP) & (c["level"] == decl))
        fits[r] = ok & (free | same)
        if r == "nom":  # a code and the name next to it disagree: the name decides nothing
            for code_role in _NAMED_ROLES:
                if code_role in cols:
                    fits[r] &= ~cols[code_role]["contradiction"].astype(bool)
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
            "corrected": np.where(chosen != None, corrected, ""),  # noqa: E711
            "typed": np.full(n, "", dtype=object),
            "suggestions": [()] * n,
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
        out.iat[i, out.columns.get_loc("corrected")] = ""
        if status != "resolved":
            for field in ("kind", "code", "level", "nom"):
                out.iat[i, out.columns.get_loc(field)] = None
    _suggestions(out, roles, cols, dept, territories)
    return out


_MAX_SUGGESTED = 300  # rows given name suggestions (each a fuzzy search over the names)


def _suggestions(out: pd.DataFrame, roles, cols: dict, dept: pd.Series, territories) -> None:
    """Fill ``typed`` and ``suggestions`` of the rows left ambiguous or unresolved."""
    from ..territories.suggest import suggest

    todo = np.flatnonzero((out["status"] != "resolved").to_numpy())
    searched: dict[tuple, list] = {}
    for i in todo:
        typed = ""
        for r in roles:  # the value a correction keys on: an undecided code, else the name
            value = cols[r]["v"][i]
            if isinstance(value, str) and value.strip():
                typed = typed or value.strip()
                if cols[r]["status"][i] == "ambiguous":
                    typed = value.strip()
                    break
        hint = dept.iat[i] if isinstance(dept.iat[i], str) else None
        cands = out["candidates"].iat[i]
        if cands:
            found = suggest(territories, typed, candidates=cands, departement=hint)
        elif len(searched) < _MAX_SUGGESTED or (typed, hint) in searched:
            name = cols["nom"]["v"][i] if "nom" in cols else ""
            text = name if isinstance(name, str) and name.strip() else typed
            if (text, hint) not in searched:
                searched[(text, hint)] = suggest(territories, text, departement=hint)
            found = searched[(text, hint)]
        else:
            found = []
        out.iat[i, out.columns.get_loc("typed")] = typed
        out.iat[i, out.columns.get_loc("suggestions")] = tuple(found)
    # a value left undecided on rows of different names: a correction must name the row
    typed = out["typed"].to_numpy(dtype=object)
    names = cols["nom"]["v"] if "nom" in cols else np.full(len(out), "", dtype=object)
    seen: dict[str, set] = {}
    for i in todo:
        if typed[i]:
            seen.setdefault(typed[i], set()).add(str(names[i] or "").strip())
    for i in todo:
        name = str(names[i] or "").strip()
        if typed[i] and name and name != typed[i] and len(seen[typed[i]]) > 1:
            out.iat[i, out.columns.get_loc("typed")] = f"{typed[i]}{CORRECTION_SEPARATOR}{name}"


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

    contradicted = any(cols[r]["contradiction"][i] for r in _NAMED_ROLES if r in cols)
    if contradicted:  # a code and the name written next to it disagree
        names = [r for r in resolved if r[0] == "nom"]
        cands = tuple(dict.fromkeys([*(r[2] for r in names), *ambiguous]))  # the name first
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
