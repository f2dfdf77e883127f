"""Words of the GeoPackages: column names and descriptions, the metadata of every table.

* :data:`DESCRIPTIONS`: French alias and description of each column;
  :func:`column_docs`, :func:`aliases` apply them to a layer's columns
  (option groups suffixed ``_<option>``; extra columns of the table too);
* :func:`metadata_table`: the ``metadonnees`` table (``cle``, ``valeur``),
  for any reader;
* :func:`standard_metadata`: the documents of the standard ``gpkg_metadata``
  table (:mod:`._gpkg_meta`), one per table and one for the file, shown by
  QGIS in Layer Properties › Metadata.

Values are stored in the unit the metadata states (:func:`unit_scale`):
shares in % (0–100), means in their unit; participation in %.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from .._version import __version__
from ..protection.rules import describe_reasons
from ._generalise import tolerance_text
from ._gpkg_meta import LayerMetadata
from ._meta import reference_text

__all__ = [
    "DESCRIPTIONS",
    "aliases",
    "column_docs",
    "in_value_unit",
    "metadata_table",
    "method_text",
    "standard_metadata",
    "unit_scale",
    "unit_text",
]

DESCRIPTIONS = {
    "code": ("Code", "code INSEE (SIREN pour un EPCI)"),
    "nom": ("Nom", "nom officiel"),
    "departement": ("Département", "code du département"),
    "region": ("Région", "code de la région"),
    "population": ("Population", "population municipale (INSEE)"),
    "area_km2": ("Superficie (km²)", "superficie en km², mesurée dans la projection de la zone"),
    "value": ("Valeur", "valeur publiée, non pondérée ({unit}) ; NULL si masquée ou sans réponse"),
    "ci_low": ("IC 95 % bas", "borne basse de l'intervalle de confiance à 95 %"),
    "ci_high": ("IC 95 % haut", "borne haute de l'intervalle de confiance à 95 %"),
    "value_weighted": (
        "Valeur pondérée",
        "estimation pondérée (calage) ; NULL là où elle révélerait des réponses",
    ),
    "ci_low_weighted": ("IC 95 % bas (pondéré)", "borne basse, taille effective de Kish"),
    "ci_high_weighted": ("IC 95 % haut (pondéré)", "borne haute, taille effective de Kish"),
    "suppressed": ("Masquée", "vrai : secret statistique (motif : reason) ; valeur NULL"),
    "reason": (
        "Motif du masquage",
        describe_reasons(),
    ),
    "low_reliability": ("Fiabilité faible", "moins de 30 réponses ou IC de plus de ±15 points"),
    "model_value": (
        "Estimation modélisée",
        "part des collectivités ({unit}) prédite par le modèle multiniveau (MRP) ; NULL si "
        "seule la classe est publiée ou secrète",
    ),
    "model_ci_low": ("IC 95 % bas (modèle)", "borne basse de l'intervalle de l'estimation"),
    "model_ci_high": ("IC 95 % haut (modèle)", "borne haute de l'intervalle de l'estimation"),
    "model_class_low": ("Classe modélisée (bas)", "borne basse de la classe de l'estimation"),
    "model_class_high": ("Classe modélisée (haut)", "borne haute de la classe de l'estimation"),
    "model_publication": (
        "Publication (modèle)",
        "value : valeur ; class : classe seule (peu de réponses) ; hidden : secret",
    ),
    "model_uncertain": ("Estimation incertaine", "l'intervalle à 95 % couvre plusieurs classes"),
    "model_vs_france": (
        "Comparaison avec la France",
        "above / below : significativement au-dessus / en dessous ; similar : non distinguable",
    ),
    "classe": ("Classe", "numéro de la classe de la carte (1 = la plus basse) ; NULL sans valeur"),
    "classe_libelle": (
        "Libellé de la classe",
        "classe de la carte, « Pas de réponse », « Secret statistique » ou « Effectif "
        "insuffisant » (toutes les cases masquées l'étant faute de réponses)",
    ),
    "n": ("Réponses", "nombre de réponses valides ; NULL si masquée"),
    "deff": ("Effet de plan", "effet de plan de Kish de la pondération"),
    "participation": ("Participation", "répondants / collectivités de l'univers, en %"),
    "population_share": (
        "Part de la population",
        "population des communes répondantes / population, en %",
    ),
}


def unit_scale(ctx) -> float:
    """Factor from the table's values to the GeoPackage's unit: shares 0–1 are stored in %."""
    return 100.0 if ctx.fmt.share else 1.0


def in_value_unit(col: str) -> bool:
    """Whether a column is in the value's unit: values, intervals, a model's estimate.

    Examples
    --------
    >>> [in_value_unit(c) for c in ("value_weighted", "model_ci_low", "model_class_high", "n")]
    [True, True, True, False]
    """
    stem = col.removeprefix("model_")
    return stem.startswith(("value", "ci_low", "ci_high", "class_low", "class_high"))


def aliases(columns: Sequence[str], option_labels: dict[str, str]) -> dict[str, str]:
    out = {}
    for col in columns:
        base, label = col, ""
        for opt, text in option_labels.items():
            if col.endswith(f"_{opt}") and col[: -len(opt) - 1] in DESCRIPTIONS:
                base, label = col[: -len(opt) - 1], f" — {text}"
        if base in DESCRIPTIONS:
            out[col] = DESCRIPTIONS[base][0] + label
    return out


def method_text(indicator) -> str:
    """French description of what the value of ``indicator`` counts.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> method_text(bg.load_catalogue().get("outils_materiel_reconditionne"))
    'moyenne des réponses (en %)'
    """
    ind = indicator
    return {
        "share": "part des réponses valides égales à : " + ", ".join(ind.positive),
        "distribution": "répartition des réponses valides entre les options"
        + (" ; titre : part de " + ", ".join(ind.positive) if ind.positive else ""),
        "share_per_option": "part des répondants ayant coché chaque option",
        "mean": "moyenne des réponses (en %)",
    }[ind.statistic]


def metadata_table(
    ctx, territories, levels, catalog, columns, classes, when, simplify=True
) -> pd.DataFrame:
    """Return the ``metadonnees`` table: one row per key (see the maps contract)."""
    ind, cat = ctx.indicator, ctx.catalogue
    ed = cat.edition
    theme = cat.theme(ind.theme)
    wave = ed.wave(ind.wave) if ind.wave else None
    method = method_text(ind)
    prov = getattr(territories, "provenance", {}) or {}
    meta = [
        ("titre", ind.label),
        ("indicateur", ind.id),
        ("question", ind.question),
        ("theme", f"{theme.id} — {theme.label}"),
        ("vague", f"{ind.wave}" + (f" ({wave.start} – {wave.end})" if wave else " (profil)")),
        ("edition", f"{ed.name}, édition {ctx.edition}"),
        ("donnees_synthetiques", ctx.synthetic_text),
        ("univers", f"{ind.universe} ({', '.join(ind.universe_kinds)})"),
        ("statistique", f"{ind.statistic} : {method}"),
        ("unite", unit_text(ctx) + " : valeurs et intervalles ; participation en %"),
        ("niveaux", ", ".join(levels)),
        (
            "intervalle_confiance",
            "95 % ; Wilson pour les parts, Student pour les moyennes ; valeurs pondérées : "
            "taille d'échantillon effective de Kish",
        ),
        ("ponderation", ctx.weights),
        ("seuil_k", str(ctx.k)),
        ("seuil_k_sensible", str(ctx.k_sensitive)),
        ("indicateur_sensible", "oui" if ind.sensitive else "non"),
        ("seuil_applique", str(ctx.threshold)),
        ("mode_publication", ctx.mode),
        ("source_enquete", ctx.survey_text()),
        ("source_rapport", ind.source),
        ("referentiel", reference_text(territories)),
        ("referentiel_provenance", json.dumps(prov, ensure_ascii=False, default=str)),
        ("palette", "ColorBrewer (Cynthia Brewer, Apache-2.0), gris / hachuré : sans valeur"),
        (
            "projections",
            "Métropole : EPSG:2154 (Lambert-93) ; outre-mer : une couche par département "
            "suffixée de son code, dans sa projection (971/972 EPSG:5490, 973 EPSG:2972, "
            "974 EPSG:2975, 976 EPSG:4471) ; superficies en km² mesurées dans ces projections.",
        ),
        (
            "geometrie",
            (
                "généralisée pour la cartographie thématique, frontières communes "
                "conservées, coordonnées au mètre : " + tolerance_text(levels)
                if simplify
                else "contours du référentiel, coordonnées au mètre"
            )
            + " ; superficies (area_km2) mesurées sur les contours du référentiel",
        ),
        ("genere_le", when.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("barometre_geo_version", __version__),
    ]
    if ind.published is not None and ind.published.value is not None:
        meta.append(("valeur_nationale_publiee", ctx.fmt.format(ind.published.value)))
    meta += [(f"classes:{key}", text) for key, text in classes]
    meta += [(f"couche:{c['layer']}", c["text"]) for c in catalog]
    meta += [(f"colonne:{c}", d) for c, d in columns.items()]
    return pd.DataFrame(meta, columns=["cle", "valeur"])


def unit_text(ctx) -> str:
    if ctx.fmt.share:
        return "en %, de 0 à 100"
    return f"en {ctx.fmt.unit}" if ctx.fmt.unit else "sans unité"


def column_docs(columns: Sequence[str], ctx, option_labels) -> dict[str, str]:
    out = {}
    unit = unit_text(ctx)
    for col in columns:
        if col in ("geometry", "zone"):
            continue
        base, label = col, ""
        for opt, text in option_labels.items():
            stem = col[: -len(opt) - 1]
            if col.endswith(f"_{opt}") and (stem in DESCRIPTIONS or in_value_unit(stem)):
                base, label = stem, f" (option « {text} »)"
        if base in DESCRIPTIONS:
            text = DESCRIPTIONS[base][1].format(unit=unit)
        elif base.startswith(("classe", "classe_libelle")):
            continue
        else:  # an extra column of the aggregates table (a model estimate…)
            text = "colonne du tableau des indicateurs" + (
                f" ({unit})" if in_value_unit(base) else ""
            )
        if in_value_unit(base) and unit not in text:
            text += f" ({unit})"
        out[col] = text + label
    return out


def standard_metadata(ctx, territories, described, levels, *, simplify=True) -> list:
    """Documents of ``gpkg_metadata``: one per table written, one for the file.

    ``described`` lists ``(table, title, description, crs, bounds)`` per table.
    """
    ind, cat = ctx.indicator, ctx.catalogue
    ed = cat.edition
    theme = cat.theme(ind.theme)
    wave = ed.wave(ind.wave) if ind.wave else None
    period = (
        (str(wave.start), str(wave.end))
        if wave
        else (str(ed.waves[0].start), str(ed.waves[-1].end))
    )
    unit = unit_text(ctx)
    synthetic = (
        "DONNÉES SYNTHÉTIQUES de démonstration : ces chiffres ne sont pas des résultats de "
        "l'enquête, ne les publiez pas.\n"
        if ctx.synthetic
        else ""
    )
    common = (
        f"{synthetic}Question : {ind.question}\n"
        f"Valeur : {method_text(ind)} ({unit}), non pondérée ; univers : {ind.universe}.\n"
        f"Secret statistique : aucune valeur sous {ctx.threshold} réponses "
        f"(mode {ctx.mode}) ; les cases masquées ont une valeur NULL (colonne reason).\n"
        f"{ctx.survey_text()}\n{reference_text(territories)}"
    )
    geometry = (
        "Géométrie généralisée (" + tolerance_text(levels) + "), frontières communes conservées"
        if simplify
        else "Géométrie : contours du référentiel"
    )
    history = [
        f"Produit par barometre-geo {__version__} (indicateur {ind.id}).",
        geometry + " ; superficies mesurées sur les contours du référentiel.",
    ]
    keywords = {
        "thème": [theme.label],
        "mots-clés": [ed.name, "collectivités territoriales", "numérique", ind.id],
    }
    rights = [
        "Secret statistique : ne pas recalculer une valeur masquée à partir d'autres "
        "cellules ou tableaux.",
        ctx.survey_text(),
    ]
    licenses = [
        "Référentiel territorial (INSEE COG, IGN ADMIN EXPRESS) : Licence Ouverte 2.0 (Etalab)."
    ]
    docs = [
        LayerMetadata(
            None,
            identifier=f"barometre-geo:{ind.id}",
            title=ind.label,
            abstract=f"{ind.label} ({theme.label}).\n{common}",
            keywords={**keywords, "niveau": list(levels)},
            rights=rights,
            licenses=licenses,
            history=history,
            period=period,
        )
    ]
    for table, title, description, crs, bounds in described:
        docs.append(
            LayerMetadata(
                table,
                identifier=f"barometre-geo:{ind.id}:{table}",
                title=title,
                abstract=f"{description}.\n{common}",
                keywords={**keywords, "couche": [table]},
                rights=rights,
                licenses=licenses,
                history=history,
                crs=crs,
                extent=bounds,
                period=period,
            )
        )
    return docs
