"""Crossing the coverage of mutualisation structures with the survey responses.

* Participation: responding communes / communes, in covered and uncovered
  territory, nationally and per région, with Wilson 95 % intervals, the
  difference with Newcombe's hybrid score interval and a two-proportion
  z-test (pooled). A simple, unadjusted comparison: covered communes differ
  from uncovered ones in size and region too; read the per-région rows.
* Agreement: each responding commune's declared membership of a
  mutualisation structure (latest non-empty answer) against the spatial
  coverage: 3×2 table, agreement rate and Cohen's kappa on the oui/non answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SchemaError, UnknownValueError

__all__ = ["DECLARED_COLUMN", "SurveyCrossing", "answered_waves", "survey_crossing"]

#: Profile question: does the collectivity belong to a mutualisation structure?
DECLARED_COLUMN = "profil_mutualisation"
_DECLARED = ("oui", "non", "ne_sait_pas")
_NO_ANSWER = ("sans_reponse",)
_Z = 1.959963984540054


@dataclass(frozen=True, repr=False, eq=False)
class SurveyCrossing:
    """Participation and declared membership against the spatial coverage.

    Attributes
    ----------
    participation : pandas.DataFrame
        One row per scope (``FR`` then each région): ``code``, ``nom``, and for
        ``covered`` and ``uncovered``: ``communes_*``, ``responding_*``,
        ``rate_*``, ``ci_low_*``, ``ci_high_*``; then ``difference``
        (covered − uncovered), ``difference_ci_low``, ``difference_ci_high``,
        ``z`` and ``p_value`` (two-sided).
    agreement : pandas.DataFrame or None
        Counts of responding communes, index ``declared`` (oui, non,
        ne_sait_pas), columns ``couverte`` and ``non_couverte``.
    agreement_rate : float or None
        Share of oui/non answers that match the spatial coverage.
    kappa, kappa_ci_low, kappa_ci_high : float or None
        Cohen's kappa on the oui/non answers, with an approximate 95 % interval.
    n_respondents : int
        Distinct responding communes.
    declared_column : str or None
        The profile column used.
    """

    participation: pd.DataFrame
    agreement: pd.DataFrame | None
    agreement_rate: float | None
    kappa: float | None
    kappa_ci_low: float | None
    kappa_ci_high: float | None
    n_respondents: int
    declared_column: str | None

    def __repr__(self) -> str:
        fr = self.participation.iloc[0]
        text = (
            f"<SurveyCrossing: participation {fr['rate_covered']:.1%} covered vs "
            f"{fr['rate_uncovered']:.1%} uncovered (p={fr['p_value']:.2g})"
        )
        if self.kappa is not None:
            text += f", agreement {self.agreement_rate:.1%}, kappa {self.kappa:.2f}"
        return text + ">"


def wilson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share and Wilson 95 % score interval (NaN where ``n == 0``).

    Examples
    --------
    >>> p, lo, hi = wilson(np.array([5]), np.array([10]))
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.2366, 0.7634)
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + _Z**2 / (2 * n)) / (1 + _Z**2 / n)
        half = _Z / (1 + _Z**2 / n) * np.sqrt(p * (1 - p) / n + _Z**2 / (4 * n**2))
    return p, centre - half, centre + half


def _difference(k1, n1, k2, n2) -> dict:
    p1, l1, u1 = (float(x[0]) for x in wilson([k1], [n1]))
    p2, l2, u2 = (float(x[0]) for x in wilson([k2], [n2]))
    out = {"difference": p1 - p2, "difference_ci_low": math.nan, "difference_ci_high": math.nan}
    out.update(z=math.nan, p_value=math.nan)
    if n1 == 0 or n2 == 0:
        return out
    d = p1 - p2
    out["difference_ci_low"] = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    out["difference_ci_high"] = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se > 0:
        out["z"] = d / se
        out["p_value"] = math.erfc(abs(out["z"]) / math.sqrt(2))
    return out


def _frame(responses) -> pd.DataFrame:
    data = getattr(responses, "data", responses)
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(
            f"responses must be a Responses object or a DataFrame, got {type(data).__name__}. "
            "Read the exports with barometre_geo.read_responses()."
        )
    missing = [c for c in ("kind", "commune") if c not in data.columns]
    if missing:
        raise SchemaError(
            f"responses lack the column(s) {', '.join(missing)} of the Responses contract "
            "(see docs/contracts/survey.md, 'Responses'). Read the exports with "
            "read_responses(), or add "
            "'kind' (commune, epci…) and 'commune' (INSEE code) columns."
        )
    return data


def _commune_rows(data: pd.DataFrame, codes) -> pd.DataFrame:
    """Commune responses (``kind == "commune"``), their codes checked against ``codes``."""
    rows = data[(data["kind"] == "commune") & data["commune"].notna()]
    unknown = sorted(set(rows["commune"]) - set(codes))
    if unknown:
        raise SchemaError(
            f"{len(unknown)} responding commune code(s) are not in the territorial reference "
            f"(first 5: {', '.join(unknown[:5])}). The responses were resolved against another "
            "COG: read them with read_responses(..., territories=) using the same Territories."
        )
    return rows


def answered_waves(codes, responses) -> np.ndarray:
    """Waves each commune answered, as text (« 1, 3 »; empty when it did not answer).

    Parameters
    ----------
    codes : sequence of str
        INSEE codes of the communes (``territories.communes["code"]``).
    responses : Responses or pandas.DataFrame
        Only commune responses count. Without a ``wave`` column, a commune
        that answered gets « oui ».

    Examples
    --------
    >>> df = pd.DataFrame({"kind": ["commune"] * 3, "commune": ["01001", "01001", "01002"],
    ...                    "wave": [3, 1, 2]})
    >>> answered_waves(["01001", "01002", "01003"], df).tolist()
    ['1, 3', '2', '']
    """
    codes = pd.Index(codes)
    rows = _commune_rows(_frame(responses), codes)
    out = np.full(len(codes), "", dtype=object)
    if not len(rows):
        return out
    if "wave" in rows.columns:
        waves = rows.groupby("commune")["wave"].agg(
            lambda w: ", ".join(str(int(x)) for x in sorted(set(w.dropna())))
        )
    else:
        waves = pd.Series("oui", index=pd.unique(rows["commune"]))
    out[codes.get_indexer(waves.index)] = waves.to_numpy()
    return out


def _declared(rows: pd.DataFrame, column: str) -> pd.Series:
    """Latest non-empty declared answer per commune."""
    if column not in rows.columns:
        like = [c for c in rows.columns if "mutualis" in c or "structure" in c]
        raise SchemaError(
            f"responses have no column {column!r}. Pass declared_column= the profile column "
            f"holding the declared membership (candidates: {', '.join(like) or 'none'}), "
            "or declared_column=None to skip the agreement table."
        )
    values = rows[column].astype("string").str.strip().str.lower()
    values = values.mask(values.isin(_NO_ANSWER))
    bad = sorted(set(values.dropna()) - set(_DECLARED))
    if bad:
        raise UnknownValueError(
            f"column {column!r} holds {', '.join(map(repr, bad[:5]))}; valid values: "
            f"{', '.join(_DECLARED)} (NA = no answer). Recode the column to these option ids."
        )
    ordered = rows.assign(_v=values).dropna(subset=["_v"])
    if "submitted_at" in ordered.columns:
        ordered = ordered.sort_values("submitted_at", kind="stable")
    return ordered.groupby("commune")["_v"].last()


def survey_crossing(
    communes: pd.DataFrame, responses, *, declared_column: str | None, regions: pd.DataFrame
) -> SurveyCrossing:
    """Cross the coverage of each commune with the responses.

    Parameters
    ----------
    communes : pandas.DataFrame
        Commune coverage (``code``, ``region``, ``covered``).
    responses : Responses or pandas.DataFrame
        Following the Responses contract; only commune responses are used.
    declared_column : str or None
        Profile column with the declared membership (``oui``/``non``/``ne_sait_pas``).
    regions : pandas.DataFrame
        ``territories.regions`` (codes and names).
    """
    rows = _commune_rows(_frame(responses), communes["code"])
    responding = communes["code"].isin(set(rows["commune"])).to_numpy()
    covered = communes["covered"].to_numpy(dtype=bool)
    scopes = [("FR", "France", np.ones(len(communes), dtype=bool))]
    reg = communes["region"].to_numpy()
    names = dict(zip(regions["code"], regions["nom"], strict=True))
    scopes += [(r, names.get(r, r), reg == r) for r in sorted(pd.unique(reg))]
    out = []
    for code, nom, scope in scopes:
        row = {"code": code, "nom": nom}
        counts = {}
        for group, mask in (("covered", scope & covered), ("uncovered", scope & ~covered)):
            n, k = int(mask.sum()), int((mask & responding).sum())
            p, lo, hi = (float(x[0]) for x in wilson([k], [n]))
            row.update(
                {
                    f"communes_{group}": n,
                    f"responding_{group}": k,
                    f"rate_{group}": p,
                    f"ci_low_{group}": lo,
                    f"ci_high_{group}": hi,
                }
            )
            counts[group] = (k, n)
        row.update(_difference(*counts["covered"], *counts["uncovered"]))
        out.append(row)
    participation = pd.DataFrame(out)

    agreement = rate = kappa = k_lo = k_hi = None
    if declared_column is not None:
        declared = _declared(rows, declared_column)
        cov = communes.set_index("code")["covered"]
        spatial = np.where(cov.reindex(declared.index).to_numpy(dtype=bool), "couverte", "")
        spatial = np.where(spatial == "", "non_couverte", spatial)
        agreement = (
            pd.crosstab(pd.Categorical(declared.to_numpy(), _DECLARED), spatial)
            .reindex(index=list(_DECLARED), columns=["couverte", "non_couverte"], fill_value=0)
            .astype("int64")
        )
        agreement.index.name, agreement.columns.name = "declared", "spatial"
        a = agreement.loc[["oui", "non"]].to_numpy(dtype=float)
        n2 = a.sum()
        if n2 > 0:
            po = (a[0, 0] + a[1, 1]) / n2
            pe = (a[0].sum() * a[:, 0].sum() + a[1].sum() * a[:, 1].sum()) / n2**2
            rate = float(po)
            if pe < 1:
                kappa = float((po - pe) / (1 - pe))
                se = math.sqrt(po * (1 - po) / (n2 * (1 - pe) ** 2))
                k_lo, k_hi = kappa - _Z * se, kappa + _Z * se
    return SurveyCrossing(
        participation=participation,
        agreement=agreement,
        agreement_rate=rate,
        kappa=kappa,
        kappa_ci_low=k_lo,
        kappa_ci_high=k_hi,
        n_respondents=int(responding.sum()),
        declared_column=declared_column,
    )
