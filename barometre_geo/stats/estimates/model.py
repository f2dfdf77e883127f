"""Model-based small-area estimates: one mixed model per indicator (and option), post-stratified.

For every measure of the indicator table — a share, an option share or a mean —
:func:`fit_measure` fits the mixed model of
:mod:`~barometre_geo.stats.estimates.laplace` on the valid answers (logit link
for shares, identity for means; covariates of
:mod:`~barometre_geo.stats.estimates.design`; random intercepts per département
and région), predicts every collectivity of the indicator's universe in the
reference (the census: communes, EPCI, councils), and averages the predictions
per territory (:meth:`MeasureModel.estimates`): a **share of collectivities**
(each counts once, whatever its population), as ``universe_count`` counts them.
This is multilevel regression and post-stratification (MRP).

Intervals (95 %) combine the posterior uncertainty of the model (delta method on
the Gaussian approximation, on the logit scale for shares) with the variation of
the collectivities' own answers around their expected value (finite population:
Σ p(1 − p) / N² for a share of N collectivities, σ_e² / N for a mean): the target
is the territory's actual share, which even a perfect model knows only to about
±1/√N.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from ..intervals import Z95
from .design import Auxiliary, design_rows, fixed_columns
from .laplace import HyperPoint, MixedFit, MixedModel, _newton, _Ops, fit_mixed, prior_precision

__all__ = [
    "MODEL_LEVELS",
    "MeasureModel",
    "TerritoryEstimates",
    "fit_measure",
    "single_thread",
    "small_territory_answers",
]

#: Levels with modelled estimates (``zone`` and ``france`` serve benchmarking and comparison).
MODEL_LEVELS: tuple[str, ...] = ("epci", "departement", "region", "zone", "france")


_THREADS: dict = {"depth": 0, "controller": None}


@contextlib.contextmanager
def single_thread():
    """Run BLAS on one thread: small dense solves are 10× slower with threads competing.

    Nested uses cost nothing, and the libraries are looked up once per process
    (threadpoolctl's look-up took ~3 ms a call, ~1 s for the catalogue's fits),
    after scipy's BLAS is loaded: a worker forked before it was would otherwise
    run scipy's solves on every thread (measured: 6 times slower).
    """
    if _THREADS["depth"]:
        _THREADS["depth"] += 1
        try:
            yield
        finally:
            _THREADS["depth"] -= 1
        return
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    if _THREADS["controller"] is None:
        import scipy.linalg  # noqa: F401 - its own BLAS must be loaded to be seen and limited

        _THREADS["controller"] = ThreadpoolController()
    with _THREADS["controller"].limit(limits=1):
        _THREADS["depth"] = 1
        try:
            yield
        finally:
            _THREADS["depth"] = 0


@dataclass
class _Census:
    """Census design of one universe of kinds, with the territory of each row per level."""

    columns: list
    X: np.ndarray
    dep: np.ndarray
    reg: np.ndarray
    units: dict
    counts: dict
    n_units: dict
    atom_of: np.ndarray  # atom of each census row
    atoms: np.ndarray  # (atoms, levels + 2): territory per level, then département and région
    order: np.ndarray = None  # census rows sorted by atom
    starts: np.ndarray = None  # first sorted row of each atom


_CENSUS_CACHE: dict = {}


def census_design(aux: Auxiliary, kinds: tuple, n_units: dict) -> _Census:
    """Rows of the reference in the universe ``kinds`` and their design (cached per aux)."""
    key = (id(aux), kinds)
    hit = _CENSUS_CACHE.get(key)
    if hit is not None and hit[0] is aux:
        return hit[1]
    columns = fixed_columns(kinds, covered=aux.covered)
    keep = np.isin(aux.ref_kind, list(kinds))
    X = design_rows(
        columns, aux.ref_kind[keep], aux.ref_zc[keep], aux.ref_ze[keep], aux.ref_served[keep]
    )
    units = {lv: aux.ref_units[lv][keep] for lv in MODEL_LEVELS}
    counts = {
        lv: np.bincount(u[u >= 0], minlength=n_units[lv]).astype(float) for lv, u in units.items()
    }
    dep, reg = aux.ref_dep[keep], aux.ref_reg[keep]
    # atoms: the finest cells nested in every level's territories (EPCI × département × région)
    nest = np.stack([units[lv] for lv in MODEL_LEVELS] + [dep, reg], axis=1)
    atoms, atom_of = np.unique(nest, axis=0, return_inverse=True)
    atom_of = atom_of.ravel()
    order = np.argsort(atom_of, kind="stable")
    starts = np.searchsorted(atom_of[order], np.arange(len(atoms)))
    out = _Census(columns, X, dep, reg, units, counts, dict(n_units), atom_of, atoms, order, starts)
    if len(_CENSUS_CACHE) > 32:
        _CENSUS_CACHE.clear()
    _CENSUS_CACHE[key] = (aux, out)
    return out


@dataclass
class TerritoryEstimates:
    """Modelled estimates of one level: arrays indexed by unit number (NaN: no collectivity)."""

    value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    se: np.ndarray  # standard error of the value (model + finite population)
    universe: np.ndarray  # collectivities of the universe in the territory
    grad: np.ndarray | None = None  # (territories, parameters): d value / d (β, u, v)


@dataclass
class MeasureModel:
    """One measure's fitted model, its data and its census (enough to recompute it).

    ``rows`` gives, for each model row, the response it comes from (one row
    per valid answer); :meth:`refit` recomputes the posterior mode with other
    answers (fixed variance parameters), which is what the flip audit needs.
    """

    family: str
    columns: list
    model: MixedModel
    rows: np.ndarray
    fit: MixedFit
    census: _Census
    shift: float = 0.0  # benchmarking shift of the linear predictor
    ops: object = field(default=None, repr=False)
    _cov_cache: dict = field(default_factory=dict, repr=False)

    def points(self) -> tuple:
        """Integration points over the variance parameters (:class:`HyperPoint`)."""
        if self.fit.points:
            return self.fit.points
        f = self.fit
        return (HyperPoint(1.0, f.theta, f.chol, f.sigma, f.sigma_e),)

    def refit(self, y: np.ndarray) -> tuple[list, list]:
        """Posterior modes and Cholesky factors for answers ``y``, one per integration point.

        The variance parameters of each point and the points' weights are held
        at their fitted values (warm start from each point's mode).
        """
        if self.ops is None:
            self.ops = _Ops(self.model)
        thetas, chols = [], []
        for pt in self.points():
            lam = prior_precision(self.model, pt.sigma)[0]
            theta, L, _, _ = _newton(
                self.ops, np.asarray(y, float), self.model.n, lam, pt.theta.copy(), self.family,
                pt.sigma_e if self.family == "gaussian" else 1.0,
            )  # fmt: skip
            thetas.append(theta)
            chols.append(L)
        return thetas, chols

    def linear_predictor(self, theta: np.ndarray | None = None) -> np.ndarray:
        """Linear predictor of every census row (at the mode of the variance parameters)."""
        th = self.fit.theta if theta is None else theta
        F = self.fit.n_fixed
        q_d, q_r = self.fit.sizes
        u = np.append(th[F : F + q_d], 0.0)
        v = np.append(th[F + q_d : F + q_d + q_r], 0.0)
        c = self.census
        return (
            c.X @ th[:F] + u[np.where(c.dep >= 0, c.dep, q_d)] + v[np.where(c.reg >= 0, c.reg, q_r)]
        )

    def estimates(
        self,
        levels=MODEL_LEVELS,
        *,
        theta=None,
        chol=None,
        intervals: bool = True,
        subset: dict | None = None,
    ) -> dict:
        """Post-stratify: ``{level: TerritoryEstimates}`` for every territory of each level.

        The estimate is the mean of the mixture over the integration points
        (:meth:`points`); its variance is the mixture's: the finite-population
        variance, the model variance ``gᵀ C̄ g`` (``C̄`` the points' weighted
        posterior covariance, ``g`` the gradient of the estimate with respect to
        (β, u, v), taken at the first point — the mode of the variance
        parameters) and the spread of the points' estimates. ``theta`` / ``chol``
        (lists, one per point, as :meth:`refit` gives them) replace the points'
        modes. ``subset`` (``{level: unit numbers}``) limits the intervals (and
        gradients) to those territories; the values of the others are still
        computed. ``grad`` is ``g`` (territories, parameters).
        """
        from scipy.special import expit

        pts = self.points()
        given = theta
        if theta is None:
            theta = [p.theta for p in pts]
            chol = [p.chol for p in pts]
        elif isinstance(theta, np.ndarray):
            theta, chol = [theta], [chol]  # one point at the mode's variance parameters
            pts = (HyperPoint(1.0, theta[0], chol[0], self.fit.sigma, self.fit.sigma_e),)
        w = np.array([pt.weight for pt in pts])
        w = w / w.sum()
        parts = [
            self._point_values(levels, th, pt.sigma_e) for th, pt in zip(theta, pts, strict=True)
        ]
        out = {}
        for lv in levels:
            vals = np.stack([pp[lv][0] for pp in parts])
            value = w @ vals
            var_fp = w @ np.stack([pp[lv][1] for pp in parts])
            spread = w @ (vals - value) ** 2
            N = self.census.counts[lv]
            nan = np.full(len(value), np.nan)
            out[lv] = TerritoryEstimates(value, nan, nan.copy(), var_fp + spread, N)
        if not intervals:
            return out
        if given is None:  # the fitted points (cached)
            cbar = self.mixture_covariance()
        else:
            cbar = self.mixture_covariance(chol, weights=w)
        grads = self._gradients(levels, theta[0], subset)
        for lv in levels:
            est = out[lv]
            present, G = grads[lv]
            var = np.full(len(est.value), np.nan)
            var[present] = np.sum((G @ cbar) * G, axis=1)
            var = var + est.se  # se held the finite-population variance and the spread
            grad = None
            if subset is None:
                grad = np.zeros((len(var), G.shape[1]))
                grad[present] = G
            se = np.sqrt(var)
            value = est.value
            if self.family == "binomial":
                v = np.clip(value, 1e-9, 1 - 1e-9)
                lg = np.log(v / (1 - v))
                half = Z95 * se / (v * (1 - v))
                lo, hi = expit(lg - half), expit(lg + half)
            else:
                lo = np.clip(value - Z95 * se, 0, 100)
                hi = np.clip(value + Z95 * se, 0, 100)
            out[lv] = TerritoryEstimates(value, lo, hi, se, est.universe, grad)
        return out

    def mixture_covariance(self, chol=None, *, weights=None, residual: bool = False) -> np.ndarray:
        """Weighted sum of the points' posterior covariances ``Σ w_k H_k⁻¹`` of (β, u, v).

        ``residual`` divides each by the point's residual variance σ_e² (Gaussian
        family): the operator that turns a change of the answers ``A ᵀ Δy`` into
        the mixture's change of the modes (one Newton step per point).
        """
        from scipy.linalg import cho_solve

        pts = self.points()
        key = (residual and self.family == "gaussian", weights is None and chol is None)
        if key[1] and key in self._cov_cache:
            return self._cov_cache[key]
        chol = [p.chol for p in pts] if chol is None else chol
        if weights is None:
            weights = np.array([p.weight for p in pts][: len(chol)])
        eye = np.eye(chol[0].shape[0])
        out = np.zeros_like(eye)
        for wk, L, pt in zip(weights, chol, pts, strict=False):
            scale = wk / pt.sigma_e**2 if residual and self.family == "gaussian" else wk
            out += scale * cho_solve((L, True), eye, check_finite=False)
        if key[1]:
            self._cov_cache[key] = out
        return out

    def _point_values(self, levels, theta, sigma_e) -> dict:
        """One point's ``{level: (value, finite-population variance)}``."""
        c = self.census
        eta = self.linear_predictor(theta) + self.shift
        if self.family == "binomial":
            p = 1.0 / (1.0 + np.exp(-eta))
            a_w = np.bincount(c.atom_of, weights=p * (1 - p), minlength=len(c.atoms))
        else:
            p = eta
        a_p = np.bincount(c.atom_of, weights=p, minlength=len(c.atoms))
        out = {}
        for lv in levels:
            t = c.atoms[:, MODEL_LEVELS.index(lv)]
            ok = t >= 0
            n_t = c.n_units[lv]
            N = c.counts[lv]
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.bincount(t[ok], weights=a_p[ok], minlength=n_t) / N
                if self.family == "binomial":
                    var_fp = np.bincount(t[ok], weights=a_w[ok], minlength=n_t) / N**2
                else:
                    var_fp = np.where(N > 0, sigma_e**2 / N, np.nan)
            out[lv] = (value, var_fp)
        return out

    def _gradients(self, levels, theta, subset) -> dict:
        """``{level: (territories asked, gradient of their estimates w.r.t. (β, u, v))}``."""
        c = self.census
        F = self.fit.n_fixed
        q_d, q_r = self.fit.sizes
        eta = self.linear_predictor(theta) + self.shift
        if self.family == "binomial":
            p = 1.0 / (1.0 + np.exp(-eta))
            w = p * (1 - p)
        else:
            w = np.ones(len(eta))
        a_w = np.bincount(c.atom_of, weights=w, minlength=len(c.atoms))
        # gradient of each atom's sum with respect to (β, u, v)
        ga_fix = np.add.reduceat((c.X * w[:, None])[c.order], c.starts, axis=0)
        a_dep, a_reg = c.atoms[:, -2], c.atoms[:, -1]
        out = {}
        for lv in levels:
            t = c.atoms[:, MODEL_LEVELS.index(lv)]
            N = c.counts[lv]
            present = np.flatnonzero(N > 0)
            if subset is not None:
                present = np.intersect1d(present, np.asarray(subset.get(lv, []), dtype=int))
            # rows of G: the territories asked for, in order
            pos_of = np.full(len(N), -1)
            pos_of[present] = np.arange(len(present))
            r = np.where(t >= 0, pos_of[np.maximum(t, 0)], -1)
            ok = r >= 0
            n_p = len(present)
            G = np.zeros((n_p, F + q_d + q_r))
            for j in range(F):
                G[:, j] = np.bincount(r[ok], weights=ga_fix[ok, j], minlength=n_p)
            for off, g, q in ((F, a_dep, q_d), (F + q_d, a_reg, q_r)):
                m = ok & (g >= 0)
                block = np.bincount(r[m] * q + g[m], weights=a_w[m], minlength=n_p * q)
                G[:, off : off + q] = block.reshape(n_p, q)
            out[lv] = (present, G / N[present, None])
        return out

    def benchmark(self, target: float) -> float:
        """Shift the linear predictor so that the national estimate equals ``target``.

        Returns the shift (on the logit scale for shares, in points for means);
        the national estimate is the average over every collectivity of the
        universe (a share of collectivities).
        """
        self.shift = 0.0
        eta = self.linear_predictor()
        if not np.isfinite(target):
            return 0.0
        if self.family == "gaussian":
            self.shift = float(target - eta.mean())
            return self.shift
        s = 0.0
        for _ in range(50):
            p = 1 / (1 + np.exp(-(eta + s)))
            gap = p.mean() - target
            d = np.mean(p * (1 - p))
            if d <= 0:
                break
            s -= gap / d
            if abs(gap) < 1e-10:
                break
        self.shift = float(s)
        return self.shift


def small_territory_answers(aux: Auxiliary, valid: np.ndarray, k: int) -> np.ndarray:
    """Mask of the valid answers of départements and régions with fewer than ``k`` of them.

    The model leaves them out, so that the modelled figures of those
    départements and régions (and of their EPCI) are the same whatever their
    few respondents answered: they are then *synthetic* estimates (covariates,
    région effect, the département effect at its prior), with intervals that
    say so. An EPCI's own answers are not left out (an EPCI figure depends on
    them only through its département's effect; see
    :mod:`barometre_geo.protection.modelled`).
    """
    out = np.zeros(len(valid), dtype=bool)
    for units, q in ((aux.resp_dep, aux.n_dep), (aux.resp_reg, aux.n_reg)):
        ok = valid & (units >= 0)
        cnt = np.bincount(units[ok], minlength=q)
        out |= ok & (cnt[np.maximum(units, 0)] < k)
    return out


def fit_measure(
    aux: Auxiliary,
    *,
    kinds: tuple,
    y: np.ndarray,
    valid: np.ndarray,
    is_mean: bool,
    n_units: dict,
    start: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
) -> MeasureModel | None:
    """Fit one measure's model on the valid answers (``None`` when there is no answer).

    ``y`` (0/1 for shares, 0–100 for means) and ``valid`` are aligned on the
    responses of ``aux``; responses without région are left out (they count in
    France only and carry no territory), and so are those of ``exclude`` (the
    answers of territories too small to be used, see
    :func:`small_territory_answers`).
    """
    census = census_design(aux, tuple(kinds), n_units)
    columns = census.columns
    use = valid & (aux.resp_reg >= 0)
    if exclude is not None:
        use &= ~exclude
    rows = np.flatnonzero(use)
    if len(rows) == 0:
        return None
    X = design_rows(
        columns, aux.resp_kind[rows], aux.resp_zc[rows], aux.resp_ze[rows], aux.resp_served[rows]
    )
    model = MixedModel(
        X=X,
        groups=(aux.resp_dep[rows], aux.resp_reg[rows]),
        sizes=(aux.n_dep, aux.n_reg),
        y=np.asarray(y, dtype=float)[rows],
        n=np.ones(len(rows)),
        structure=(aux.dep_structure, None) if aux.dep_structure is not None else (),
    )
    family = "gaussian" if is_mean else "binomial"
    with single_thread():
        fit = fit_mixed(model, family=family, start=start)
    return MeasureModel(family, columns, model, rows, fit, census)
