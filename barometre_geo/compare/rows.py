"""Rows of a comparison fiche: peer cells, the fate of each group, own answers.

Used by :func:`barometre_geo.compare`; the rules are in its module docstring
(:mod:`barometre_geo.compare.fiche`): a group is shown when :func:`aggregate`
published it, it holds ``k`` answers besides the collectivity's own, and (type
× stratum) the parts obtained by difference hold 0 or ``k`` answers; else the
next larger group of the chain replaces it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "CHAIN",
    "PEER_LEVELS",
    "PEER_LEVEL_LABELS",
    "SEP",
    "TYPE_STRATE",
    "cells_of",
    "fiche_rows",
    "group_labels",
    "own_answer",
]

#: Peer groups of a fiche, in display order.
PEER_LEVELS: tuple[str, ...] = ("strate", "departement", "region", "france")
#: French headers of the peer groups.
PEER_LEVEL_LABELS: dict[str, str] = {
    "strate": "Même type et même strate de population (France)",
    "departement": "Même type, même département",
    "region": "Même type, même région",
    "france": "Ensemble des répondants (France)",
}
#: Groups tried, in order, for each peer level (larger groups replace small ones).
CHAIN: dict[str, tuple[str, ...]] = {
    "strate": ("strate", "type_france", "france"),
    "departement": ("departement", "region", "type_france", "france"),
    "region": ("region", "type_france", "france"),
    "france": ("france",),
}
#: Breakdown column type × stratum added to the responses for :func:`aggregate`.
TYPE_STRATE = "type_strate"
SEP = " · "
_PLURAL = {
    "Commune": "Communes",
    "Communauté de communes": "Communautés de communes",
    "Communauté d’agglomération": "Communautés d’agglomération",
    "Communauté d'agglomération": "Communautés d’agglomération",
    "Communauté urbaine": "Communautés urbaines",
    "Métropole": "Métropoles",
    "Département": "Départements",
    "Région": "Régions",
    "Syndicat ou autre groupement": "Syndicats et autres groupements",
}


def group_labels(type_label, stratum, dep, dep_nom, reg_nom) -> dict[str, str]:
    """French label of each group that exists for the collectivity (``{group: label}``)."""
    plural = _PLURAL.get(type_label, f"Collectivités de type « {type_label} »")
    out = {"type_france": f"{plural} — France", "france": "Ensemble des répondants — France"}
    if stratum:
        s = stratum[0].lower() + stratum[1:] if stratum.startswith("Moins") else stratum
        out["strate"] = f"{plural} de {s} (France)"
    if dep:
        out["departement"] = f"{plural} — {dep_nom} ({dep})"
    if reg_nom:
        out["region"] = f"{plural} — {reg_nom}"
    return out


def cells_of(peers, type_label, stratum, dep, reg) -> dict:
    """``{(group, indicator, option): row}`` of the collectivity's peer cells."""
    tab = peers.table
    lv, by, grp = (tab[c].astype(str).to_numpy() for c in ("level", "by", "group"))
    code = tab["code"].astype(str).to_numpy()
    masks = {
        "departement": (lv == "departement") & (code == str(dep)) & (grp == type_label),
        "region": (lv == "region") & (code == str(reg)) & (grp == type_label),
        "type_france": (lv == "france") & (by == "type_label") & (grp == type_label),
        "strate": (lv == "france") & (by == TYPE_STRATE) & (grp == f"{type_label}{SEP}{stratum}"),
        "france": (lv == "france") & (by == "total"),
    }
    out = {}
    cols = ["indicator", "option", "n", "value", "ci_low", "ci_high", "suppressed", "reason"]
    for name, m in masks.items():
        if (name == "departement" and dep is None) or (name == "region" and reg is None):
            continue
        if name == "strate" and stratum is None:
            continue
        sub = tab.loc[m, cols]
        for row in sub.itertuples(index=False):
            opt = None if pd.isna(row.option) else str(row.option)
            out[(name, str(row.indicator), opt)] = row
    return out


def _reason_fr(reason: str, k: int, k_sensitive: int) -> str:
    """French reason of a suppressed cell, with the thresholds spelled out."""
    from ..protection.rules import SUPPRESSION_REASONS

    if reason == "small_n":
        return f"moins de {k} réponses"
    if reason == "small_n_sensitive":
        return f"question sensible, moins de {k_sensitive} réponses"
    if reason == "complementary":
        return "secret induit, masqué pour empêcher un calcul par différence"
    return SUPPRESSION_REASONS.get(reason, "masqué")


def _lattice_ok(counts: dict, type_label: str, stratum: str, thr: int) -> bool:
    """Parts of France obtained by difference around the type × stratum cell: 0 or ≥ thr."""
    t, s = counts["types"].index(type_label), counts["strata"].index(stratum)
    n_ts = int(counts["n_ts"][t, s])
    parts = (
        int(counts["n_t"][t]) - n_ts,
        int(counts["n_s"][s]) - n_ts,
        counts["n_all"] - int(counts["n_t"][t]) - int(counts["n_s"][s]) + n_ts,
    )
    return all(p == 0 or p >= thr for p in parts)


def own_answer(ind, data: pd.DataFrame, row: int):
    """``(answered, label, value by option)`` of the collectivity for one indicator."""
    from .._format import NumberFormat

    column = ind.column or ind.id
    if ind.kind == "multiple_choice":
        ticks = {o: data[f"{column}.{o}"].iloc[row] for o in ind.option_ids}
        if all(pd.isna(v) for v in ticks.values()):
            return False, None, {}
        chosen = [ind.option(o).label for o, v in ticks.items() if not pd.isna(v) and bool(v)]
        label = " ; ".join(chosen) or "aucune option cochée"
        return True, label, {o: float(not pd.isna(v) and bool(v)) for o, v in ticks.items()}
    raw = data[column].iloc[row]
    if pd.isna(raw):
        return False, None, {}
    if ind.kind == "percentage":
        fmt = NumberFormat(share=False, decimals=1, unit=ind.unit or "%")
        return True, fmt.format(float(raw)), {None: float(raw)}
    raw = str(raw)
    value = {None: float(raw in ind.positive)} if raw in ind.valid and ind.positive else {}
    return True, ind.option(raw).label, {**value, "_choice": raw}


def _position(own: float, lo: float, hi: float) -> str | None:
    if any(x is None or pd.isna(x) for x in (own, lo, hi)):
        return None
    if own > hi:
        return "au-dessus"
    if own < lo:
        return "en dessous"
    return "dans l'intervalle"


def fiche_rows(answered, peers, cells, labels, type_label, stratum, cat) -> list[tuple]:
    """One tuple per indicator (× option) × peer level, in ``COMPARISON_COLUMNS`` order."""
    heads = {}  # (group, indicator) -> a row of the cell (every option shares its fate)
    for (g, i, _), c in cells.items():
        heads.setdefault((g, i), c)
    out = []
    for ind, row, plan, (_, own_label, own_values) in answered:
        thr = peers.k_sensitive if ind.sensitive else peers.k
        counted = int(bool(plan.V[row]))
        fate: dict[str, str | None] = {}  # group -> None (shown) or why not

        def why_not(group: str, ind=ind, thr=thr, counted=counted, fate=fate) -> str | None:
            if group in fate:
                return fate[group]
            cell = heads.get((group, ind.id))
            if group not in labels:
                reason = "sans objet"
            elif cell is None:
                reason = "aucune réponse"
            elif bool(cell.suppressed):
                reason = _reason_fr(str(cell.reason), peers.k, peers.k_sensitive)
            elif int(cell.n) - counted < thr:
                reason = f"moins de {thr} réponses d’autres collectivités"
            elif group == "strate" and not _lattice_ok(
                peers.counts[ind.id], type_label, stratum, thr
            ):
                reason = f"calcul par différence possible sur moins de {thr} réponses"
            else:
                reason = None
            fate[group] = reason
            return reason

        if ind.statistic in ("share", "mean"):
            options = [None]
        elif ind.statistic == "share_per_option":
            options = list(ind.option_ids)
        elif "_choice" in own_values and own_values["_choice"] in ind.valid:
            options = [own_values["_choice"]]
        else:
            options = [None] if ind.positive else []
        for opt in options:
            own_value = own_values.get(opt, np.nan) if ind.statistic != "distribution" else np.nan
            if ind.kind == "multiple_choice":
                answer = "coché" if own_values.get(opt) == 1.0 else "non coché"
            else:
                answer = own_label
            for level in PEER_LEVELS:
                chain = [g for g in CHAIN[level] if g in labels]
                if level != "france" and CHAIN[level][0] not in labels:
                    continue  # no such group for this collectivity (e.g. a région's département)
                used, skipped = None, []
                for g in chain:
                    reason = why_not(g)
                    if reason is None:
                        used = g
                        break
                    skipped.append(f"{labels[g]} : {reason}")
                cell = cells.get((used, ind.id, opt)) if used else None
                if cell is not None and bool(cell.suppressed):  # this option's row alone hidden
                    why = _reason_fr(str(cell.reason), peers.k, peers.k_sensitive)
                    skipped.append(f"{labels[used]} : {why}")
                    cell = used = None
                note = "" if not skipped else "Non affiché — " + " ; ".join(skipped) + "."
                if used is None:
                    note += " Aucun groupe publiable."
                elif ind.statistic == "distribution" and opt is not None:
                    note = (note + " Part des collectivités ayant donné la même réponse.").strip()
                if not counted:
                    note = (note + " Votre réponse n’entre pas dans le calcul.").strip()
                statistic = (
                    "mean" if ind.statistic == "mean" else "option_share" if opt else "share"
                )
                value = np.nan if cell is None else float(cell.value)
                lo = np.nan if cell is None else float(cell.ci_low)
                hi = np.nan if cell is None else float(cell.ci_high)
                out.append(
                    (
                        ind.id,
                        ind.label,
                        ind.question,
                        ind.theme,
                        cat.theme(ind.theme).label,
                        bool(ind.sensitive),
                        statistic,
                        opt,
                        None if opt is None else ind.option(opt).label,
                        answer,
                        own_value,
                        level,
                        labels.get(CHAIN[level][0]),
                        used,
                        None if used is None else labels[used],
                        None if cell is None else int(cell.n),
                        value,
                        lo,
                        hi,
                        _position(own_value, lo, hi) if counted else None,
                        note.strip(),
                    )
                )
    return out
