"""Writing aggregate tables (CSV, Parquet, data dictionary) and checking national figures.

* :func:`write_aggregates` writes ``indicateurs.csv`` (UTF-8, comma, point as
  decimal separator, six significant digits, empty cell for a missing value —
  the data.gouv.fr recommendations), ``indicateurs.parquet`` (full precision), the data dictionary
  ``dictionnaire.csv`` / ``dictionnaire.md`` describing every column in French,
  and ``metadonnees.json`` (thresholds, mode, suppressed cells…).
* :func:`compare_published` puts the national figures of an aggregate table
  next to those the report published (catalogue ``published``).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._tables import write_csv
from ..protection.rules import describe_reasons

__all__ = ["DICTIONARY", "compare_published", "write_aggregates"]

#: Column → (type, French description) of the aggregate table.
DICTIONARY: dict[str, tuple[str, str]] = {
    "indicator": ("texte", "Identifiant de l'indicateur dans le catalogue (ex. cyber_pca)."),
    "level": (
        "texte",
        "Échelon : commune, epci, departement, region, france, france_metropolitaine, "
        "outre_mer (les cinq DROM).",
    ),
    "code": (
        "texte",
        "Code du territoire : INSEE (commune, département, région), SIREN (EPCI), FR, "
        "FR-METRO ou FR-DROM.",
    ),
    "nom": ("texte", "Nom du territoire (COG)."),
    "by": (
        "texte",
        "Ventilation : total (ensemble des répondants), stratum (strate de population), "
        "profile (agent / élu), type_label, kind, ou une autre colonne des réponses.",
    ),
    "group": ("texte", "Modalité de la ventilation (Ensemble pour le total)."),
    "option": (
        "texte",
        "Modalité de réponse pour une part par modalité ; vide pour le chiffre de synthèse.",
    ),
    "statistic": (
        "texte",
        "share : part des réponses positives ; mean : moyenne (en %) ; option_share : part "
        "de la modalité parmi les réponses valides.",
    ),
    "n": ("entier", "Nombre de réponses valides (dénominateur). Vide si la case est masquée."),
    "value": (
        "décimal",
        "Valeur non pondérée (celle du rapport) : part entre 0 et 1, ou moyenne en %.",
    ),
    "ci_low": (
        "décimal",
        "Borne basse de l'intervalle de confiance à 95 % (Wilson pour une part, Student "
        "pour une moyenne).",
    ),
    "ci_high": ("décimal", "Borne haute de l'intervalle de confiance à 95 %."),
    "value_weighted": (
        "décimal",
        "Valeur redressée par calage (raking) sur les effectifs de collectivités par région "
        "et strate ; vide sans pondération, et vide (secret statistique) là où, rapprochée de "
        "la valeur non pondérée, elle révélerait des réponses : elle est publiée au niveau "
        "national et des zones, et ailleurs seulement quand elle se déduit des valeurs non "
        "pondérées publiées.",
    ),
    "ci_low_weighted": (
        "décimal",
        "Borne basse de l'intervalle à 95 % de la valeur redressée (taille d'échantillon "
        "effective de Kish).",
    ),
    "ci_high_weighted": ("décimal", "Borne haute de l'intervalle à 95 % de la valeur redressée."),
    "deff": ("décimal", "Effet de plan dû à la pondération (Kish : n / n effectif)."),
    "universe_count": (
        "entier",
        "Nombre de collectivités existantes interrogées par la question dans le territoire "
        "(référentiel COG ; les syndicats n'y figurent pas).",
    ),
    "respondents": (
        "entier",
        "Nombre de collectivités répondantes interrogées par la question (réponse valide ou non).",
    ),
    "participation": (
        "décimal",
        "Taux de participation : répondants (hors syndicats) / collectivités existantes.",
    ),
    "population_share": (
        "décimal",
        "Part de la population du territoire vivant dans une commune répondante (indicateurs "
        "posés aux communes).",
    ),
    "suppressed": (
        "booléen",
        "Vrai si la valeur est masquée (secret statistique) : ni valeur, ni intervalle, "
        "ni n ne sont publiés.",
    ),
    "reason": (
        "texte",
        "Motif du masquage : " + describe_reasons() + ".",
    ),
    "low_reliability": (
        "booléen",
        "Vrai si la valeur publiée est fragile : moins de 30 réponses ou intervalle de "
        "confiance plus large que ±15 points.",
    ),
    "model_value": (
        "nombre",
        "Estimation modélisée (MRP) : part des collectivités de l'univers du territoire (0–1) "
        "ou moyenne (%), prédite par un modèle multiniveau (type, population, couverture par "
        "une structure de mutualisation ; effets département, voisinage des départements et "
        "région) appliqué à toutes "
        "les collectivités. Vide si seule la classe est publiée ou si elle est secrète.",
    ),
    "model_ci_low": ("nombre", "Borne basse de l'intervalle à 95 % de l'estimation modélisée."),
    "model_ci_high": ("nombre", "Borne haute de l'intervalle à 95 % de l'estimation modélisée."),
    "model_class_low": ("nombre", "Borne basse de la classe de l'estimation modélisée."),
    "model_class_high": ("nombre", "Borne haute de la classe de l'estimation modélisée."),
    "model_publication": (
        "texte",
        "Publication de l'estimation modélisée : value (valeur, intervalle, classe), class "
        "(classe seule : territoire de peu de réponses dont la valeur exacte pourrait trahir "
        "une réponse), hidden (secret).",
    ),
    "model_uncertain": (
        "booléen",
        "Estimation incertaine : l'intervalle à 95 % couvre plusieurs classes (toujours vrai "
        "pour une classe seule).",
    ),
    "model_vs_france": (
        "texte",
        "Comparaison avec l'estimation modélisée de la France : above / below (intervalle à "
        "95 % entièrement au-dessus / en dessous), similar (non distinguable).",
    ),
    "estimator": ("texte", "Méthode de l'estimation modélisée (mrp) ; vide sans estimation."),
}


def _json_default(obj):
    if isinstance(obj, np.integer | np.floating | np.bool_):
        return obj.item()
    return str(obj)


def write_aggregates(table: pd.DataFrame, out_dir, *, name: str = "indicateurs") -> dict:
    """Write an aggregate table as CSV and Parquet with its data dictionary.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`barometre_geo.aggregate`.
    out_dir : path-like
        Folder, created if needed.
    name : str, default ``"indicateurs"``
        Stem of the table files.

    Returns
    -------
    dict
        Paths written: ``csv``, ``parquet``, ``dictionary_csv``,
        ``dictionary_md``, ``metadata``.

    Examples
    --------
    >>> import tempfile, barometre_geo as bg
    >>> from barometre_geo.testing import random_responses
    >>> t = bg.aggregate(random_responses(200, seed=3), level="region",
    ...                  indicators="inclusion_cnfs", weights=None)
    >>> paths = bg.write_aggregates(t, tempfile.mkdtemp())
    >>> sorted(paths)
    ['csv', 'dictionary_csv', 'dictionary_md', 'metadata', 'parquet']
    """
    from ..errors import SchemaError
    from .aggregate import AGGREGATE_COLUMNS

    missing = [c for c in AGGREGATE_COLUMNS if c not in table.columns]
    if missing:
        raise SchemaError(
            f"The table lacks the aggregate column(s) {missing}. Pass the output of "
            "barometre_geo.aggregate() (unchanged columns)."
        )
    out = Path(os.fspath(out_dir))
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": out / f"{name}.csv",
        "parquet": out / f"{name}.parquet",
        "dictionary_csv": out / "dictionnaire.csv",
        "dictionary_md": out / "dictionnaire.md",
        "metadata": out / "metadonnees.json",
    }
    meta = dict(table.attrs.get("barometre_geo", {}))
    plain = table.copy()
    plain.attrs = {}
    write_csv(plain, paths["csv"], float_format="%.6g")
    plain.to_parquet(paths["parquet"], index=False)
    extra = [c for c in table.columns if c not in DICTIONARY]
    rows = [
        {"colonne": c, "type": DICTIONARY[c][0], "description": DICTIONARY[c][1]}
        for c in table.columns
        if c in DICTIONARY
    ] + [{"colonne": c, "type": str(table[c].dtype), "description": ""} for c in extra]
    write_csv(pd.DataFrame(rows), paths["dictionary_csv"])
    md = [
        f"# Dictionnaire des données — {name}",
        "",
        f"{len(table):,} lignes : une par indicateur × territoire × modalité de ventilation"
        " (× modalité de réponse).".replace(",", "\u202f"),
        "",
        "| colonne | type | description |",
        "|---|---|---|",
        *[f"| `{r['colonne']}` | {r['type']} | {r['description']} |" for r in rows],
        "",
        "## Secret statistique",
        "",
        f"Seuil : {meta.get('k', '?')} réponses ({meta.get('k_sensitive', '?')} pour un "
        f"indicateur sensible), mode {meta.get('mode', '?')}. Une case masquée ne donne ni "
        "valeur, ni intervalle, ni nombre de réponses ; des cases voisines sont masquées aussi "
        "(secret induit) pour qu'aucune ne se retrouve par différence.",
        "",
    ]
    paths["dictionary_md"].write_text("\n".join(md), encoding="utf-8")
    paths["metadata"].write_text(
        json.dumps(meta, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8"
    )
    return {k: str(v) for k, v in paths.items()}


# ------------------------------------------------------------------- published


def _tolerance(value: float) -> float:
    """Half a unit of the last digit of a published figure (0.26 → 0.005, 8.2 → 0.05)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0**-decimals


def compare_published(aggregates, catalogue=None, *, indicators=None) -> pd.DataFrame:
    """Compare the national figures of a table with those the report published.

    Parameters
    ----------
    aggregates : pandas.DataFrame or Responses
        A table from :func:`barometre_geo.aggregate` holding ``level="france"``
        rows (with ``options=True`` and ``by="kind"`` for every published
        figure), or Responses, aggregated here that way.
    catalogue : Catalogue, optional
        Default: the responses' catalogue, else the packaged one.
    indicators : str or sequence of str, optional
        Compare these indicators' published figures only (Responses: only they
        are aggregated); default every indicator with a published figure.

    Returns
    -------
    pandas.DataFrame
        One row per published figure: ``indicator``, ``figure`` (``value``,
        ``option``, ``kind``), ``option``, ``kind``, ``published``,
        ``computed``, ``difference`` (computed − published, same unit: share
        in 0–1 or mean in %), ``precision`` (exact, about, below, above),
        ``matches`` (within rounding of the published figure; ±5 points for
        "about"; below/above as said), ``n``, ``note``.

    Examples
    --------
    >>> from barometre_geo.testing import random_responses
    >>> cmp = compare_published(random_responses(300, seed=4))
    >>> {"indicator", "published", "computed", "difference"} <= set(cmp.columns)
    True
    """
    if hasattr(aggregates, "data"):
        from .aggregate import aggregate

        catalogue = catalogue if catalogue is not None else aggregates.catalogue
        table = aggregate(aggregates, level="france", by="kind", options=True, weights=None,
                          indicators=indicators)  # fmt: skip
    else:
        table = aggregates
    if catalogue is None:
        from ..survey.catalogue import load_catalogue

        catalogue = load_catalogue()
    wanted_ids = None
    if indicators is not None:
        wanted_ids = {indicators} if isinstance(indicators, str) else set(indicators)
        for i in wanted_ids:
            catalogue.get(i)  # an unknown id: UnknownValueError with the close ones
    fr = table[table["level"].astype(str) == "france"]
    key = pd.MultiIndex.from_arrays(
        [
            fr["indicator"].astype(str),
            fr["by"].astype(str),
            fr["group"].astype(str),
            fr["option"].astype(object).where(fr["option"].notna(), ""),
        ]
    )
    lookup = dict(zip(key, zip(fr["value"], fr["n"], fr["suppressed"], strict=True), strict=True))
    rows = []
    for ind in catalogue.indicators:
        pub = ind.published
        if pub is None or (wanted_ids is not None and ind.id not in wanted_ids):
            continue
        wanted = []
        if pub.value is not None:
            wanted.append(("value", "", "", ("total", "Ensemble", ""), pub.value))
        for opt, v in pub.options.items():
            wanted.append(("option", opt, "", ("total", "Ensemble", opt), v))
        for kind, v in pub.by_kind.items():
            wanted.append(("kind", "", kind, ("kind", kind, ""), v))
        for figure, opt, kind, (by, group, option), published in wanted:
            hit = lookup.get((ind.id, by, group, option))
            note = ""
            computed = n = float("nan")
            if hit is None:
                note = (
                    "absent du tableau : aggregate(level='france', by='kind', options=True)"
                    if ind.id in set(fr["indicator"].astype(str))
                    else "indicateur absent des réponses"
                )
            elif hit[2]:
                note = "masqué (secret statistique)"
            else:
                computed, n = float(hit[0]), float(hit[1])
            diff = computed - published
            tol = _tolerance(published)
            if pub.precision == "about":
                ok = abs(diff) <= (0.05 if ind.statistic != "mean" else 5.0)
            elif pub.precision == "below":
                ok = computed < published
            elif pub.precision == "above":
                ok = computed > published
            else:
                ok = abs(diff) <= tol + 1e-12
            rows.append(
                {
                    "indicator": ind.id,
                    "label": ind.label,
                    "figure": figure,
                    "option": opt or None,
                    "kind": kind or None,
                    "published": float(published),
                    "computed": computed,
                    "difference": diff,
                    "precision": pub.precision,
                    "matches": bool(ok) if not math.isnan(computed) else False,
                    "n": n,
                    "note": note,
                }
            )
    out = pd.DataFrame(rows)
    if len(out):
        out["n"] = out["n"].astype("Float64").round().astype("Int64")
    return out
