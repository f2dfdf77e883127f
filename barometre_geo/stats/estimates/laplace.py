"""Gaussian and binomial mixed models with nested random intercepts, fitted by Laplace.

The model of every small-area estimate (:mod:`barometre_geo.stats.estimates`)::

    g(E[y]) = X β + u[département] + v[région]       u ~ N(0, σ_d²), v ~ N(0, σ_r²)

with ``g`` the logit (binary answers, given as binomial counts per row) or the
identity (means, Gaussian residual of variance σ_e²). Fixed effects have a weak
Gaussian prior (sd 10 for the intercept, 2.5 for the others) so that a kind of
collectivity with few or no respondents has a finite, honestly uncertain
coefficient. Variance parameters have a half-normal prior (sd 1 on the logit
scale, 25 points for means): it keeps them off the boundary when the data say
little (Chung et al. 2013, blme).

Fit: for given variance parameters, the posterior mode of (β, u, v) by Newton's
method (penalised IRLS); the variance parameters maximise the Laplace
approximation of the marginal likelihood (the method of lme4's ``glmer`` with
``nAGQ=1`` and of INLA's inner step), and the posterior of (β, u, v) is the
Gaussian at the mode with precision ``H`` (the Hessian). For the Gaussian
family the approximation is exact.

Why a hand-written fitter (DEVELOPERS.md: only where a library does not fit):
the build fits ~340 models (one per indicator and option) within a budget of
20 s on two cores. ``statsmodels``' ``BinomialBayesMixedGLM.fit_vb`` (mean-field
variational Bayes) takes 0.5–2 s per model and under-states the posterior
variance of the random effects; PyMC/NUTS takes minutes; ``pyinla`` runs an
external binary per model (~1 s). The structure here (a dozen fixed effects,
one-hot random intercepts) makes each Newton step a sparse product and a
~130 × 130 Cholesky factorisation, ~0.2 ms. The agreement with a full Bayesian
fit is checked by ``benchmarks/bench_estimates_nuts.py`` (PyMC/NUTS, the
``[bayes]`` extra).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Family", "MixedFit", "MixedModel", "fit_mixed"]

Family = Literal["binomial", "gaussian"]

_SD_INTERCEPT = 10.0
_SD_FIXED = 2.5
_SD_PRIOR = {"binomial": 1.0, "gaussian": 25.0}
_LOG_SIGMA_BOUNDS = {
    "binomial": (np.log(0.02), np.log(3.0)),
    "gaussian": (np.log(0.05), np.log(60)),
}


@dataclass(frozen=True)
class MixedModel:
    """Rows of a mixed model: fixed-effect columns and random-intercept groups.

    ``X`` (n, F), first column the intercept; ``groups`` one integer array per
    random effect (−1: the row has no such effect) with ``sizes`` levels each;
    ``y`` the sum of the answers of each row and ``n`` its number of answers
    (binomial), or one answer per row with ``n`` = 1 (Gaussian).
    """

    X: np.ndarray
    groups: tuple
    sizes: tuple
    y: np.ndarray
    n: np.ndarray

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
class MixedFit:
    """Posterior mode and Gaussian approximation of a fitted :class:`MixedModel`.

    ``theta`` stacks (β, u_1, u_2 …); ``chol`` is the lower Cholesky factor of
    the posterior precision ``H`` at the mode; ``sigma`` the standard deviations
    of the random effects and ``sigma_e`` the residual one (Gaussian, else NaN).
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

    @property
    def beta(self) -> np.ndarray:
        """Fixed effects."""
        return self.theta[: self.n_fixed]

    def effects(self, k: int) -> np.ndarray:
        """Predicted random intercepts of the k-th random effect."""
        start = self.n_fixed + sum(self.sizes[:k])
        return self.theta[start : start + self.sizes[k]]

    def prior_precision(self) -> np.ndarray:
        """Diagonal of the prior precision of (β, u…)."""
        return _prior_diag(self.n_fixed, self.sizes, self.sigma)


def _prior_diag(n_fixed: int, sizes, sigma) -> np.ndarray:
    fixed = np.full(n_fixed, 1 / _SD_FIXED**2)
    fixed[0] = 1 / _SD_INTERCEPT**2
    parts = [fixed] + [np.full(q, 1 / s**2) for q, s in zip(sizes, sigma, strict=True)]
    return np.concatenate(parts)


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
            grad = ops.rmatvec(y - n * p) - lam * theta
        else:
            w = n * resid_w
            grad = ops.rmatvec((y - eta) * resid_w) - lam * theta
        H = ops.gram(w)
        H[np.diag_indices_from(H)] += lam
        c = cho_factor(H, lower=True, check_finite=False)
        step = cho_solve(c, grad, check_finite=False)
        theta = theta + step
        if family == "gaussian" or np.max(np.abs(step)) < tol:
            ok = True
            break
    eta = ops.eta(theta)
    if family == "binomial":
        p = 1.0 / (1.0 + np.exp(-eta))
        ll = float(np.sum(y * eta - n * np.logaddexp(0.0, eta)))
        H = ops.gram(n * p * (1 - p))
        H[np.diag_indices_from(H)] += lam
        c = cho_factor(H, lower=True, check_finite=False)
    else:
        r = y - eta
        ll = float(-0.5 * np.sum(r * r) / sigma_e**2 - np.sum(n) * np.log(sigma_e))
    return theta, np.tril(c[0]), ll, ok


def _leverages(ops: _Ops, C: np.ndarray) -> np.ndarray:
    """``diag(A C Aᵀ)`` for the design ``A`` of ``ops`` (C symmetric, (P, P))."""
    F = ops.F
    X = ops.X
    h = np.einsum("ij,jk,ik->i", X, C[:F, :F], X)
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


def _objective(log_s, ops, y, n, model, family, state):
    """Minus the Laplace log marginal likelihood and its gradient in the log sds.

    The gradient is exact for the Laplace approximation: it differentiates
    ``−½ log|H|`` through the mode too (the third-derivative term of the
    binomial family, through the leverages of the rows).
    """
    from scipy.linalg import cho_solve

    k = len(model.sizes)
    sigma = np.exp(log_s[:k])
    sigma_e = float(np.exp(log_s[k])) if family == "gaussian" else 1.0
    lam = _prior_diag(model.X.shape[1], model.sizes, sigma)
    theta, L, ll, ok = _newton(ops, y, n, lam, state["theta"], family, sigma_e)
    state.update(theta=theta, L=L, ll=ll, ok=ok)
    quad = np.sum(lam * theta * theta)
    log_prior_norm = 0.5 * np.sum(np.log(lam))
    logdet = np.sum(np.log(np.diag(L)))  # ½ log|H|
    sd = _SD_PRIOR[family]
    hyper = -0.5 * np.sum(sigma**2) / sd**2
    if family == "gaussian":
        hyper += -0.5 * sigma_e**2 / sd**2
    value = ll - 0.5 * quad + log_prior_norm - logdet + hyper
    # gradient
    C = cho_solve((L, True), np.eye(len(theta)), check_finite=False)
    h = _leverages(ops, C)
    grad = np.zeros(len(log_s))
    eta = ops.eta(theta)
    for j, (off, q) in enumerate(zip(ops.offsets, ops.sizes, strict=True)):
        sl = slice(off, off + q)
        lam_k = lam[off]
        g = lam_k * np.sum(theta[sl] ** 2) - q + lam_k * np.trace(C[sl, sl])
        g -= sigma[j] ** 2 / sd**2
        if family == "binomial":
            d_lam_theta = np.zeros(len(theta))
            d_lam_theta[sl] = 2 * lam_k * theta[sl]
            d_theta = C @ d_lam_theta
            p = 1.0 / (1.0 + np.exp(-eta))
            w1 = n * p * (1 - p) * (1 - 2 * p)
            g -= 0.5 * np.sum(w1 * ops.eta_linear(d_theta) * h)
        grad[j] = g
    if family == "gaussian":
        r = y - eta
        grad[k] = np.sum(r * r) / sigma_e**2 - np.sum(n) + np.sum(n * h) / sigma_e**2
        grad[k] -= sigma_e**2 / sd**2
    return -value, -grad


def fit_mixed(
    model: MixedModel,
    *,
    family: Family = "binomial",
    start: np.ndarray | None = None,
) -> MixedFit:
    """Fit a :class:`MixedModel` (variance parameters by Laplace, then the mode).

    Parameters
    ----------
    model : MixedModel
    family : {"binomial", "gaussian"}
    start : array, optional
        Log standard deviations to start from (random effects, then the
        residual for the Gaussian family).

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
    >>> round(float(fit.beta[0]), 1), 0.2 < fit.sigma[0] < 0.9
    (-0.5, True)
    """
    from scipy.optimize import minimize

    ops = _Ops(model)
    y = np.asarray(model.y, dtype=float)
    n = np.asarray(model.n, dtype=float)
    k = len(model.sizes)
    n_hyper = k + (family == "gaussian")
    lo, hi = _LOG_SIGMA_BOUNDS[family]
    if start is None:
        start = np.full(n_hyper, np.log(0.3) if family == "binomial" else np.log(5.0))
        if family == "gaussian":
            start[-1] = np.log(max(float(np.std(y)), 1.0))
    state = {"theta": np.zeros(ops.P)}
    if family == "gaussian":
        state["theta"][0] = float(np.mean(y)) if len(y) else 0.0
    bounds = [(lo, hi)] * k + ([(np.log(0.1), np.log(200))] if family == "gaussian" else [])
    res = minimize(
        _objective,
        np.clip(start, [b[0] for b in bounds], [b[1] for b in bounds]),
        args=(ops, y, n, model, family, state),
        method="L-BFGS-B",
        jac=True,
        bounds=bounds,
        options={"maxiter": 60, "ftol": 1e-10, "gtol": 1e-3},
    )
    log_s = res.x
    _objective(log_s, ops, y, n, model, family, state)  # the mode at the optimum
    sigma = tuple(float(s) for s in np.exp(log_s[:k]))
    return MixedFit(
        family=family,
        theta=state["theta"],
        chol=state["L"],
        sigma=sigma,
        sigma_e=float(np.exp(log_s[k])) if family == "gaussian" else float("nan"),
        n_fixed=model.X.shape[1],
        sizes=tuple(model.sizes),
        converged=bool(state["ok"]) and bool(res.success or res.status == 0),
        log_marginal=-float(res.fun),
    )
