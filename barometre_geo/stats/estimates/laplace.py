"""Gaussian and binomial mixed models with nested random intercepts, fitted by Laplace.

The model of every small-area estimate (:mod:`barometre_geo.stats.estimates`)::

    g(E[y]) = X β + u[département] + v[région]       u ~ N(0, σ_d²), v ~ N(0, σ_r²)

with ``g`` the logit (binary answers, given as binomial counts per row) or the
identity (means, Gaussian residual of variance σ_e²); with a neighbourhood
(:attr:`MixedModel.structure`) the département effect is ``u = u_iid + s``, ``s``
an intrinsic CAR field over the adjacent départements (BYM). Fixed effects have a weak
Gaussian prior (sd 10 for the intercept, 2.5 for the others) so that a kind of
collectivity with few or no respondents has a finite, honestly uncertain
coefficient. Variance parameters have a half-normal prior (sd 1 on the logit
scale, 25 points for means): it keeps them off the boundary when the data say
little (Chung et al. 2013, blme).

Fit: for given variance parameters, the posterior mode of (β, u, v) by Newton's
method (penalised IRLS), and its Gaussian approximation with precision ``H`` (the
Hessian; exact for the Gaussian family). The log sds get their posterior from the
Laplace approximation of the marginal likelihood (lme4's ``glmer`` with
``nAGQ=1``, INLA's inner step) and their prior; the posterior of (β, u, v) is the
mixture of the Gaussian approximations over INLA's central composite design of
the log sds (:func:`fit_mixed`). Measured on the simulated census
(``benchmarks/bench_estimates.py``, 3 replicates × 13 indicators): plugging in the
mode of the variance parameters covered 86.8 % of the départements' true values
with the 95 % intervals (the mode sat on σ = 0.02 for half of the wave-2/3
indicators); integrating gave 93.2 %, and with the spatial part 94.7 %.

Why a hand-written fitter (DEVELOPERS.md: only where a library does not fit):
the build fits ~340 models (one per indicator and option) within a budget of
20 s on two cores, each with 9–15 integration points. ``statsmodels``'
``BinomialBayesMixedGLM.fit_vb`` (mean-field variational Bayes) takes 0.5–2 s
per model and under-states the posterior variance of the random effects;
PyMC/NUTS takes minutes; ``pyinla`` runs an external binary per model (~1 s).
The structure here (a dozen fixed effects, one-hot random intercepts) makes
each Newton step a sparse product and a ~130 × 130 Cholesky factorisation,
~0.2 ms. The agreement with a full Bayesian fit is checked by
``benchmarks/bench_estimates_nuts.py`` (PyMC/NUTS, the ``[bayes]`` extra).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Family", "HyperPoint", "MixedFit", "MixedModel", "fit_mixed", "prior_precision"]

Family = Literal["binomial", "gaussian"]

_SD_INTERCEPT = 10.0
_SD_FIXED = 2.5
_SD_PRIOR = {"binomial": 1.0, "gaussian": 25.0}
_LOG_SIGMA_BOUNDS = {
    "binomial": (np.log(0.005), np.log(5.0)),
    "gaussian": (np.log(0.05), np.log(100)),
}
_LOG_SIGMA_E_BOUNDS = (np.log(0.1), np.log(200))
#: Three-point Gauss–Hermite rule (standard normal): nodes and weights.
_GH_NODES = np.array([-np.sqrt(3.0), 0.0, np.sqrt(3.0)])
_GH_WEIGHTS = np.array([1 / 6, 2 / 3, 1 / 6])
#: Largest standard deviation of a log variance parameter's grid axis (flat likelihoods).
_MAX_HYPER_SD = 1.5


@dataclass(frozen=True)
class MixedModel:
    """Rows of a mixed model: fixed-effect columns and random-intercept groups.

    ``X`` (n, F), first column the intercept; ``groups`` one integer array per
    random effect (−1: the row has no such effect) with ``sizes`` levels each;
    ``y`` the sum of the answers of each row and ``n`` its number of answers
    (binomial), or one answer per row with ``n`` = 1 (Gaussian).

    ``structure`` (optional, one entry per group, ``None`` for independent
    intercepts) gives a group a spatial part: ``(V, r)``, the eigenvectors and
    eigenvalues of the scaled covariance ``R`` of an intrinsic CAR field over
    the group's levels (:func:`~barometre_geo.stats.estimates.design.icar_structure`).
    Its intercepts are then ``u = u_iid + s`` with ``u_iid ~ N(0, σ²I)`` and
    ``s ~ N(0, σ_s² R)`` (the BYM model of Besag, York & Mollié 1991, in the
    marginal form of Riebler et al. 2016: ``R`` scaled to a geometric mean
    variance of 1), one more variance parameter ``σ_s`` per structured group.
    """

    X: np.ndarray
    groups: tuple
    sizes: tuple
    y: np.ndarray
    n: np.ndarray
    structure: tuple = ()

    def structured(self) -> list:
        """Return the indices of the groups with a spatial part."""
        return [k for k, st in enumerate(self.structure) if st is not None]

    def matrix(self):
        """Sparse design ``[X | Z_1 | Z_2 …]`` (CSR)."""
        from scipy import sparse

        n_rows = self.X.shape[0]
        blocks = [sparse.csr_matrix(self.X)]
        for g, q in zip(self.groups, self.sizes, strict=True):
            ok = g >= 0
            rows = np.flatnonzero(ok)
            blocks.append(sparse.csr_matrix((np.ones(len(rows)), (rows, g[ok])), shape=(n_rows, q)))
        return sparse.hstack(blocks, format="csr")


@dataclass(frozen=True)
class HyperPoint:
    """One point of the integration over the variance parameters.

    ``weight`` (the points of a fit sum to 1) is the posterior mass of the
    variance parameters ``sigma`` / ``sigma_e`` given to the Gaussian
    approximation (mode ``theta``, lower Cholesky factor ``chol`` of the
    precision) of (β, u, v) at those parameters.
    """

    weight: float
    theta: np.ndarray
    chol: np.ndarray
    sigma: tuple
    sigma_e: float


@dataclass(frozen=True)
class MixedFit:
    """Posterior mode and Gaussian approximation of a fitted :class:`MixedModel`.

    ``theta`` stacks (β, u_1, u_2 …); ``chol`` is the lower Cholesky factor of
    the posterior precision ``H`` at the mode; ``sigma`` the standard deviations
    of the random effects and ``sigma_e`` the residual one (Gaussian, else NaN),
    at the posterior mode of the variance parameters. ``points``
    (:class:`HyperPoint`) integrate over the variance parameters: the
    posterior of (β, u, v) is their weighted mixture (one point, the mode,
    when the fit was not integrated).
    """

    family: str
    theta: np.ndarray
    chol: np.ndarray
    sigma: tuple
    sigma_e: float
    n_fixed: int
    sizes: tuple
    converged: bool
    log_marginal: float
    points: tuple = ()

    @property
    def beta(self) -> np.ndarray:
        """Fixed effects."""
        return self.theta[: self.n_fixed]

    def effects(self, k: int) -> np.ndarray:
        """Predicted random intercepts of the k-th random effect."""
        start = self.n_fixed + sum(self.sizes[:k])
        return self.theta[start : start + self.sizes[k]]


def _prior_diag(n_fixed: int, sizes, sigma) -> np.ndarray:
    fixed = np.full(n_fixed, 1 / _SD_FIXED**2)
    fixed[0] = 1 / _SD_INTERCEPT**2
    parts = [fixed] + [np.full(q, 1 / s**2) for q, s in zip(sizes, sigma, strict=True)]
    return np.concatenate(parts)


def prior_precision(model: MixedModel, sigma, *, derivatives: bool = True) -> tuple:
    """Prior precision of (β, u…) for the random-effect sds ``sigma``.

    ``sigma`` holds one sd per group, then one per structured group
    (:meth:`MixedModel.structured`). Returns the precision — a vector (its
    diagonal) when no group is structured, else a dense matrix —, its
    log-determinant, and per sd the derivative of the precision with respect
    to its log: ``(slice, block)`` with ``block`` the derivative's diagonal, or
    for a structured group ``(dense block, tr(Λ⁻¹ block))`` on the group's slice.
    """
    F = model.X.shape[1]
    k = len(model.sizes)
    sigma = np.asarray(sigma, dtype=float)
    lam = _prior_diag(F, model.sizes, sigma[:k])
    logdet = float(np.sum(np.log(lam)))
    offsets = np.cumsum([F, *model.sizes])[:-1]
    derivs: list = [None] * len(sigma)
    for g, (off, q) in enumerate(zip(offsets, model.sizes, strict=True)):
        derivs[g] = (slice(off, off + q), np.full(q, -2.0 / sigma[g] ** 2))
    structured = model.structured()
    if not structured:
        return lam, logdet, derivs
    Lam = np.diag(lam)
    for j, g in enumerate(structured):
        V, r = model.structure[g]
        off, q = offsets[g], model.sizes[g]
        sl = slice(off, off + q)
        s_iid, s_sp = sigma[g], sigma[k + j]
        c = s_iid**2 + s_sp**2 * r  # covariance eigenvalues of u = u_iid + s
        Lam[sl, sl] = (V / c) @ V.T
        logdet += float(np.sum(np.log(lam[sl])) * -1 - np.sum(np.log(c)))
        if not derivatives:
            continue
        for h, d in ((g, -2 * s_iid**2 / c**2), (k + j, -2 * s_sp**2 * r / c**2)):
            derivs[h] = (sl, ((V * d) @ V.T, float(np.sum(c * d))))
    return Lam, logdet, derivs


class _Ops:
    """Products with the design ``[X | Z_1 | Z_2 …]`` exploiting its one-hot blocks."""

    def __init__(self, model: MixedModel):
        self.X = np.ascontiguousarray(model.X, dtype=float)
        self.F = self.X.shape[1]
        self.sizes = tuple(int(q) for q in model.sizes)
        self.offsets = np.cumsum([self.F, *self.sizes])[:-1]
        self.P = self.F + sum(self.sizes)
        # −1 (no effect) points at a padding slot holding 0
        self.g = [np.where(g >= 0, g, q) for g, q in zip(model.groups, self.sizes, strict=True)]
        self.has = [g >= 0 for g in model.groups]
        self.pairs = [(a, b) for a in range(len(self.sizes)) for b in range(a + 1, len(self.sizes))]
        # rows sorted by group, for one np.add.reduceat per block of the Gram matrix
        self.sorted = []
        for g, has in zip(model.groups, self.has, strict=True):
            rows = np.flatnonzero(has)
            order = rows[np.argsort(g[rows], kind="stable")]
            levels, starts = np.unique(g[order], return_index=True)
            self.sorted.append((order, levels, starts))

    def eta(self, theta: np.ndarray) -> np.ndarray:
        out = self.X @ theta[: self.F]
        for k, (off, q) in enumerate(zip(self.offsets, self.sizes, strict=True)):
            out = out + np.append(theta[off : off + q], 0.0)[self.g[k]]
        return out

    def eta_linear(self, theta: np.ndarray) -> np.ndarray:
        """Return ``A θ`` (same as :meth:`eta`)."""
        return self.eta(theta)

    def rmatvec(self, r: np.ndarray) -> np.ndarray:
        parts = [self.X.T @ r]
        for g, q in zip(self.g, self.sizes, strict=True):
            parts.append(np.bincount(g, weights=r, minlength=q + 1)[:q])
        return np.concatenate(parts)

    def gram(self, w: np.ndarray) -> np.ndarray:
        """``Aᵀ diag(w) A`` as a dense (P, P) array."""
        H = np.zeros((self.P, self.P))
        F = self.F
        Xw = self.X * w[:, None]
        H[:F, :F] = self.X.T @ Xw
        for k, (off, q) in enumerate(zip(self.offsets, self.sizes, strict=True)):
            g = self.g[k]
            order, levels, starts = self.sorted[k]
            if len(order):
                block = np.add.reduceat(Xw[order], starts, axis=0)
                H[levels + off, :F] = block
                H[:F, levels + off] = block.T
            idx = np.arange(off, off + q)
            H[idx, idx] = np.bincount(g, weights=w, minlength=q + 1)[:q]
        for a, b in self.pairs:
            qa, qb = self.sizes[a], self.sizes[b]
            key = self.g[a] * (qb + 1) + self.g[b]
            cross = np.bincount(key, weights=w, minlength=(qa + 1) * (qb + 1))
            cross = cross.reshape(qa + 1, qb + 1)[:qa, :qb]
            oa, ob = self.offsets[a], self.offsets[b]
            H[oa : oa + qa, ob : ob + qb] = cross
            H[ob : ob + qb, oa : oa + qa] = cross.T
        return H


def _times(lam: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Prior precision (diagonal vector or dense matrix) times ``theta``."""
    return lam * theta if lam.ndim == 1 else lam @ theta


def _plus(H: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """``H`` plus the prior precision (diagonal vector or dense matrix), in place."""
    if lam.ndim == 1:
        H[np.diag_indices_from(H)] += lam
    else:
        H += lam
    return H


def _newton(ops, y, n, lam, theta, family, sigma_e, *, tol=1e-7, max_iter=50):
    """Posterior mode for fixed variance parameters: (theta, chol of H, loglik, converged)."""
    from scipy.linalg import cho_factor, cho_solve

    resid_w = 1.0 / sigma_e**2 if family == "gaussian" else None
    ok = False
    for _ in range(max_iter):
        eta = ops.eta(theta)
        if family == "binomial":
            p = 1.0 / (1.0 + np.exp(-eta))
            w = n * p * (1 - p)
            grad = ops.rmatvec(y - n * p) - _times(lam, theta)
        else:
            w = n * resid_w
            grad = ops.rmatvec((y - eta) * resid_w) - _times(lam, theta)
        H = _plus(ops.gram(w), lam)
        c = cho_factor(H, lower=True, check_finite=False)
        step = cho_solve(c, grad, check_finite=False)
        theta = theta + step
        if family == "gaussian" or np.max(np.abs(step)) < tol:
            ok = True
            break
    eta = ops.eta(theta)
    if family == "binomial":
        ll = float(np.sum(y * eta - n * np.logaddexp(0.0, eta)))
        if not ok:  # converged: the last step was below tol, its Hessian stands
            p = 1.0 / (1.0 + np.exp(-eta))
            H = _plus(ops.gram(n * p * (1 - p)), lam)
            c = cho_factor(H, lower=True, check_finite=False)
    else:
        r = y - eta
        ll = float(-0.5 * np.sum(r * r) / sigma_e**2 - np.sum(n) * np.log(sigma_e))
    return theta, np.tril(c[0]), ll, ok


def _leverages(ops: _Ops, C: np.ndarray) -> np.ndarray:
    """``diag(A C Aᵀ)`` for the design ``A`` of ``ops`` (C symmetric, (P, P))."""
    F = ops.F
    X = ops.X
    h = np.sum((X @ C[:F, :F]) * X, axis=1)
    idx = []
    for k, off in enumerate(ops.offsets):
        pos = np.where(ops.has[k], off + ops.g[k], -1)
        idx.append(pos)
        ok = pos >= 0
        cf = np.zeros((len(X), F))
        cf[ok] = C[pos[ok], :F]
        h += 2 * np.sum(X * cf, axis=1) + np.where(ok, C[pos, pos], 0.0)
    for a, b in ops.pairs:
        ok = (idx[a] >= 0) & (idx[b] >= 0)
        h += np.where(ok, 2 * C[idx[a], idx[b]], 0.0)
    return h


def _objective(log_s, ops, y, n, model, family, state, grad=True):
    """Minus the Laplace log marginal likelihood and its gradient in the log sds.

    The gradient is exact for the Laplace approximation: it differentiates
    ``−½ log|H|`` through the mode too (the third-derivative term of the
    binomial family, through the leverages of the rows).
    """
    from scipy.linalg import cho_solve

    k = len(log_s) - (family == "gaussian")  # random-effect sds
    sigma = np.exp(log_s[:k])
    sigma_e = float(np.exp(log_s[k])) if family == "gaussian" else 1.0
    lam, lam_logdet, derivs = prior_precision(model, sigma, derivatives=grad)
    theta, L, ll, ok = _newton(ops, y, n, lam, state["theta"], family, sigma_e)
    state.update(theta=theta, L=L, ll=ll, ok=ok)
    quad = float(theta @ _times(lam, theta))
    log_prior_norm = 0.5 * lam_logdet
    logdet = np.sum(np.log(np.diag(L)))  # ½ log|H|
    sd = _SD_PRIOR[family]
    hyper = -0.5 * np.sum(sigma**2) / sd**2
    if family == "gaussian":
        hyper += -0.5 * sigma_e**2 / sd**2
    # posterior density of the log sds: the Jacobian of σ = exp(ψ) (the half-normal
    # prior is on σ), which also keeps the mode off σ = 0 when the data say little
    jac = float(np.sum(log_s))
    value = ll - 0.5 * quad + log_prior_norm - logdet + hyper + jac
    # gradient: for D = dΛ/dψ_j, −½ θᵀDθ + ½ tr(Λ⁻¹D) − ½ tr(C D) − ½ Σ w₁ h (A dθ),
    # with dθ = −C D θ (the mode moves with ψ_j)
    if not grad:
        return -value, None
    C = cho_solve((L, True), np.eye(len(theta)), check_finite=False)
    h = _leverages(ops, C)
    grad = np.zeros(len(log_s))
    dtheta = np.zeros((len(theta), len(log_s)))
    state["dtheta"] = dtheta
    eta = ops.eta(theta)
    if family == "binomial":
        p = 1.0 / (1.0 + np.exp(-eta))
        w1 = n * p * (1 - p) * (1 - 2 * p)
    for j, (sl, D) in enumerate(derivs):
        th = theta[sl]
        if not isinstance(D, tuple):  # independent intercepts: D = −2Λ on the block
            D_th = D * th
            g = -0.5 * th @ D_th - sl.stop + sl.start - 0.5 * np.sum(np.diag(C)[sl] * D)
        else:  # spatial part: D = V diag(d) Vᵀ, tr(Λ⁻¹D) = Σ c·d (see prior_precision)
            D, tr_cov_d = D
            D_th = D @ th
            g = -0.5 * th @ D_th + 0.5 * tr_cov_d - 0.5 * np.sum(C[sl, sl] * D)
        g -= sigma[j] ** 2 / sd**2
        d_theta = -C[:, sl] @ D_th  # how the mode moves with ψ_j
        dtheta[:, j] = d_theta
        if family == "binomial":
            g -= 0.5 * np.sum(w1 * ops.eta_linear(d_theta) * h)
        grad[j] = g
    if family == "gaussian":
        r = y - eta
        grad[k] = np.sum(r * r) / sigma_e**2 - np.sum(n) + np.sum(n * h) / sigma_e**2
        grad[k] -= sigma_e**2 / sd**2
    grad += 1.0  # Jacobian
    return -value, -grad


def fit_mixed(
    model: MixedModel,
    *,
    family: Family = "binomial",
    start: np.ndarray | None = None,
    integrate: bool = True,
) -> MixedFit:
    """Fit a :class:`MixedModel`: variance parameters by Laplace, then integrate over them.

    The log standard deviations ψ have the posterior ``p(ψ | y) ∝ p̃(y | ψ) p(ψ)``
    (``p̃`` the Laplace approximation of the marginal likelihood, the half-normal
    prior on σ carried to ψ with its Jacobian). Its mode is found by L-BFGS-B with
    the exact gradient; with ``integrate`` the posterior of (β, u, v) is then a
    mixture of the Gaussian approximations at the points of INLA's central
    composite design along the axes of the Hessian of ``−log p(ψ | y)`` at the
    mode (:func:`_design`: 9 points for two variance parameters, 15 for three,
    3 for one), each weighted by the posterior density of its ψ — INLA's
    integration over the hyperparameters (Rue, Martino & Chopin 2009). Plugging
    in the mode alone makes intervals too
    narrow where the data say little about the variances (a few hundred answers
    over 101 départements), and moves the estimates away from the full
    Bayesian posterior mean.

    Parameters
    ----------
    model : MixedModel
    family : {"binomial", "gaussian"}
    start : array, optional
        Log standard deviations to start from (random effects, then the
        residual for the Gaussian family).
    integrate : bool, default True
        Integrate over the variance parameters (else one point, the mode).

    Returns
    -------
    MixedFit

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = rng.integers(0, 20, 2000)
    >>> u = rng.normal(0, 0.5, 20)
    >>> y = (rng.random(2000) < 1 / (1 + np.exp(-(-0.5 + u[g])))).astype(float)
    >>> m = MixedModel(np.ones((2000, 1)), (g,), (20,), y, np.ones(2000))
    >>> fit = fit_mixed(m)
    >>> round(float(fit.beta[0]), 1), 0.2 < fit.sigma[0] < 0.9, len(fit.points)
    (-0.5, True, 3)
    >>> round(sum(p.weight for p in fit.points), 6)
    1.0
    """
    from scipy.optimize import minimize

    ops = _Ops(model)
    y = np.asarray(model.y, dtype=float)
    n = np.asarray(model.n, dtype=float)
    k = len(model.sizes) + len(model.structured())  # random-effect sds
    n_hyper = k + (family == "gaussian")
    lo, hi = _LOG_SIGMA_BOUNDS[family]
    if start is not None and len(start) != n_hyper:
        start = None
    if start is None:
        start = np.full(n_hyper, np.log(0.3) if family == "binomial" else np.log(5.0))
        if family == "gaussian":
            start[-1] = np.log(max(float(np.std(y)), 1.0))
    state = {"theta": np.zeros(ops.P)}
    if family == "gaussian":
        state["theta"][0] = float(np.mean(y)) if len(y) else 0.0
    bounds = [(lo, hi)] * k + ([_LOG_SIGMA_E_BOUNDS] if family == "gaussian" else [])
    args = (ops, y, n, model, family, state)
    res = minimize(
        _objective,
        np.clip(start, [b[0] for b in bounds], [b[1] for b in bounds]),
        args=args,
        method="L-BFGS-B",
        jac=True,
        bounds=bounds,
        options={"maxiter": 60, "ftol": 1e-10, "gtol": 1e-3},
    )
    log_s = res.x
    f0, g0 = _objective(log_s, *args)  # the mode at the optimum
    dtheta = state["dtheta"]
    theta, L, ok = state["theta"], state["L"], bool(state["ok"])

    def point(ls, weight):
        return HyperPoint(
            weight=weight,
            theta=state["theta"],
            chol=state["L"],
            sigma=tuple(float(s) for s in np.exp(ls[:k])),
            sigma_e=float(np.exp(ls[k])) if family == "gaussian" else float("nan"),
        )

    centre = point(log_s, 1.0)
    points = (centre,)
    if integrate:
        points = _hyper_points(log_s, f0, g0, dtheta, centre, args, bounds) or points
    return MixedFit(
        family=family,
        theta=theta,
        chol=L,
        sigma=centre.sigma,
        sigma_e=centre.sigma_e,
        n_fixed=model.X.shape[1],
        sizes=tuple(model.sizes),
        converged=ok and bool(res.success or res.status == 0),
        log_marginal=-float(f0),
        points=points,
    )


def _design(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Integration design in standardised coordinates: points (m, d) and base weights.

    One variance parameter: the three-point Gauss–Hermite rule. More: INLA's
    central composite design (Rue, Martino & Chopin 2009, §6.5) — the mode,
    the 2d axial points and the 2^d corners, all on the sphere of radius
    ``f0 √d`` (``f0`` = 1.1), the non-central ones weighted
    ``1 / ((m − 1)(f0² − 1)(1 + exp(−d f0² / 2)))``; each point's weight is
    then multiplied by the posterior density there (relative to the mode).
    """
    import itertools

    if d == 1:
        return _GH_NODES[:, None], _GH_WEIGHTS / np.exp(-0.5 * _GH_NODES**2)
    f0 = 1.1
    r = f0 * np.sqrt(d)
    axial = np.vstack([np.eye(d) * r, -np.eye(d) * r])
    corners = np.array(list(itertools.product((-1.0, 1.0), repeat=d))) * f0
    z = np.vstack([np.zeros((1, d)), axial, corners])
    m = len(z)
    delta = 1.0 / ((m - 1) * (f0**2 - 1) * (1 + np.exp(-d * f0**2 / 2)))
    return z, np.r_[1.0, np.full(m - 1, delta)]


def _hyper_points(log_s, f0, g0, dtheta, centre, args, bounds, *, step=0.02) -> tuple:
    """Integration points over the log sds around their posterior mode (see :func:`fit_mixed`).

    Weights: the design's base weight (:func:`_design`) times the posterior
    density of the point relative to the mode.
    """
    state = args[-1]
    d = len(log_s)
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    # Hessian of −log p(ψ | y) by differences of the exact gradient (``g0`` at the mode)
    Hs = np.zeros((d, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = step if log_s[j] + step <= hi[j] else -step
        Hs[:, j] = (_objective(log_s + e, *args)[1] - g0) / e[j]
    Hs = 0.5 * (Hs + Hs.T)
    vals, vecs = np.linalg.eigh(Hs)
    sd = 1.0 / np.sqrt(np.maximum(vals, 1.0 / _MAX_HYPER_SD**2))
    scale = vecs * sd  # ψ = ψ* + scale @ z
    k = len(centre.sigma)
    z_all, base = _design(d)
    pts, logw = [], []
    for z, b in zip(z_all, base, strict=True):
        if not np.any(z):
            pts.append(centre)
            logw.append(np.log(b))
            continue
        ls = log_s + scale @ z
        if np.any(ls < lo) or np.any(ls > hi):
            continue
        # warm start: the mode moved to first order (``dtheta``, implicit derivative)
        state["theta"] = centre.theta + dtheta @ (ls - log_s)
        f, _ = _objective(ls, *args, grad=False)
        if not np.isfinite(f):
            continue
        pts.append(
            HyperPoint(
                weight=0.0,
                theta=state["theta"],
                chol=state["L"],
                sigma=tuple(float(s) for s in np.exp(ls[:k])),
                sigma_e=float(np.exp(ls[k])) if d > k else float("nan"),
            )
        )
        logw.append(np.log(b) - (f - f0))
    logw = np.asarray(logw)
    w = np.exp(logw - logw.max())
    w /= w.sum()
    keep = w > 1e-4
    w = w[keep] / w[keep].sum()
    pts = [p for p, kp in zip(pts, keep, strict=True) if kp]
    return tuple(
        HyperPoint(float(wi), p.theta, p.chol, p.sigma, p.sigma_e)
        for wi, p in zip(w, pts, strict=True)
    )
