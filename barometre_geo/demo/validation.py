"""Validation of the small-area estimates against a simulated census.

:func:`validate_estimates` samples the census of :mod:`barometre_geo.demo.census`
as the demo edition is sampled, computes the direct and the modelled figures
through :func:`barometre_geo.aggregate` (``estimates="model"``, protection
included), and compares both with the true share (or mean) of every territory.
Per level and estimator it reports: RMSE and mean absolute error (points),
coverage of the 95 % intervals, mean interval width (points), share of the
territories published, and share of all territories drawn in their true map
class (20-point classes for shares; 5-point classes up to 20 % for means).

Where a figure is published only as a class (modelled figures of the flip
rule's ``class`` tier), it counts as published and in the class score, not in
the error, coverage and width (computed on figures published as values). The
direct RMSE is computed where a direct figure is published (territories with
enough answers), the modelled one on every territory: the last column gives
both on the same territories, those where the direct figure is published.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .census import Census, sample_census, truth

__all__ = ["VALIDATION_INDICATORS", "summarise", "validate_estimates"]

#: Indicators of the validation: yes/no shares, a sensitive share, single-choice
#: and multiple-choice option shares, a commune-only universe, a mean.
VALIDATION_INDICATORS: tuple[tuple[str, str | None], ...] = (
    ("inclusion_cnfs", None),
    ("cyber_pca", None),
    ("communication_retransmission", None),
    ("infra_offre_cloud", None),
    ("outils_teletravail", None),
    ("services_dispositif_recueil", None),
    ("demat_urbanisme", None),
    ("strategie_elu_numerique", None),
    ("infra_connexion", None),
    ("outils_support_logiciel", "structure_mutualisation"),
    ("communication_modes", "reseaux_sociaux"),
    ("strategie_logiciels_libres", "aucun"),
    ("outils_materiel_reconditionne", None),
)
_LEVELS = ("epci", "departement", "region")


def _class(values: np.ndarray, mean: bool) -> np.ndarray:
    from ..protection.modelled import classes_of

    return classes_of(values, "gaussian" if mean else "binomial")


def validate_estimates(
    census: Census,
    seeds,
    *,
    indicators=VALIDATION_INDICATORS,
    levels=_LEVELS,
    k: int = 5,
    k_sensitive: int = 10,
) -> pd.DataFrame:
    """Compare direct and modelled figures with the census truth, replicate by replicate.

    Returns one row per replicate × indicator × level × estimator (``direct``,
    ``model``) with the sums behind :func:`summarise`.
    """
    from ..indicators.aggregate import aggregate

    cat = census.catalogue
    ids = list(dict.fromkeys(i for i, _ in indicators))
    rows = []
    for seed in seeds:
        sample, _ = sample_census(census, int(seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = aggregate(
                sample, level=[*levels, "france"], indicators=ids, options=True,
                territories=census.territories, k=k, k_sensitive=k_sensitive,
                estimates="model", covered=census.served,
            )  # fmt: skip
        table = table[table["by"] == "total"]
        for iid, option in indicators:
            ind = cat.get(iid)
            mean = ind.kind == "percentage"
            scale = 1.0 if mean else 100.0
            sel = table[(table["indicator"] == iid)]
            sel = sel[sel["option"] == option] if option else sel[sel["option"].isna()]
            for lv in levels:
                if lv not in ind.levels:
                    continue
                tv, tn = truth(census, ind, option, lv)
                geo = census.geo
                part = sel[sel["level"] == lv]
                pos = geo.index[lv].get_indexer(part["code"].astype(object))
                n_t = geo.units(lv)

                def col(name, part=part, pos=pos, n_t=n_t):
                    out = np.full(n_t, np.nan)
                    out[pos] = pd.to_numeric(part[name], errors="coerce").to_numpy(float)
                    return out

                ok = np.isfinite(tv) & (tn > 0)
                true_cls = _class(tv, mean)
                pub_tier = np.full(n_t, -1)
                pub_tier[pos] = part["model_publication"].cat.codes.to_numpy()
                direct_has = ok & np.isfinite(col("value"))
                for est, value, lo, hi, shown, cls in (
                    ("direct", col("value"), col("ci_low"), col("ci_high"), None, None),
                    (
                        "model",
                        col("model_value"),
                        col("model_ci_low"),
                        col("model_ci_high"),
                        pub_tier <= 1,
                        col("model_class_low"),
                    ),
                ):
                    has = ok & np.isfinite(value)
                    err = (value - tv)[has] * scale
                    inside = (lo <= tv) & (tv <= hi)
                    published = has if shown is None else ok & shown & (pub_tier >= 0)
                    drawn = _class(value, mean)
                    if cls is not None:  # class-tier figures: their published class
                        only = ok & (pub_tier == 1)
                        drawn = np.where(only, _class(cls + 1e-9, mean), drawn)
                    right = published & (drawn == true_cls)
                    same = has & direct_has  # where a direct figure is published too
                    err_same = (value - tv)[same] * scale
                    rows.append({
                        "seed": int(seed), "indicator": iid, "option": option or "",
                        "level": lv, "estimator": est, "territories": int(ok.sum()),
                        "published": int(published.sum()), "valued": int(has.sum()),
                        "sq": float(np.sum(err**2)), "abs": float(np.sum(np.abs(err))),
                        "covered": int(np.sum(inside[has])),
                        "width": float(np.sum((hi - lo)[has]) * scale),
                        "right_class": int(right.sum()),
                        "sq_same": float(np.sum(err_same**2)), "valued_same": int(same.sum()),
                    })  # fmt: skip
    return pd.DataFrame(rows)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Return the validation table: a row per level and estimator, pooled over everything."""
    g = results.groupby(["level", "estimator"], sort=False).sum(numeric_only=True)
    out = pd.DataFrame({
        "RMSE (pts)": np.sqrt(g["sq"] / g["valued"]),
        "MAE (pts)": g["abs"] / g["valued"],
        "couverture IC 95 %": g["covered"] / g["valued"],
        "largeur IC (pts)": g["width"] / g["valued"],
        "publiés": g["published"] / g["territories"],
        "bonne classe": g["right_class"] / g["territories"],
        "RMSE là où le direct est publié": np.sqrt(g["sq_same"] / g["valued_same"]),
    })  # fmt: skip
    order = [lv for lv in ("departement", "epci", "region") if lv in out.index.get_level_values(0)]
    return out.reindex(pd.MultiIndex.from_product([order, ["direct", "model"]]))
