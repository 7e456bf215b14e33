"""Momentum gradient descent and momentum gradient flow on any gradient (Section 2, Appendix A).

MGD(γ, β):  w_{k+1} = w_k − γ∇F(w_k) + β(w_k − w_{k−1}).
MGF(λ):     λẅ_t + ẇ_t + ∇F(w_t) = 0.
Proposition 1 links them: λ = γ/(1−β)², discretisation step ε = √(λγ) = γ/(1−β).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.integrate import solve_ivp

from ._checks import (check_beta, check_finite_array, check_gamma, check_int, check_lam,
                      check_positive, check_vector)

__all__ = [
    "lam", "step", "alt_lam", "accelerate", "mgd", "gd", "mgf", "gf", "mgd_init_velocity",
    "DivergenceError", "Quadratic", "discretisation_gap", "SolverBudgetError",
]


class DivergenceError(FloatingPointError):
    """Raised when MGD iterates stop being finite (the run diverged)."""


def lam(gamma, beta):
    """Intrinsic parameter λ = γ/(1−β)² of MGD(γ, β) (Proposition 1); elementwise on arrays."""
    gamma, beta, scalar = _gamma_beta_arrays(gamma, beta)
    with np.errstate(over="ignore"):
        out = gamma / (1.0 - beta) ** 2
    return _finite_out(out, "lam = gamma/(1 - beta)**2", gamma, beta, scalar)


def step(gamma, beta):
    """Discretisation step ε = √(λγ) = γ/(1−β) of MGD(γ, β) (Proposition 1); elementwise on arrays."""
    gamma, beta, scalar = _gamma_beta_arrays(gamma, beta)
    with np.errstate(over="ignore"):
        out = gamma / (1.0 - beta)
    return _finite_out(out, "step = gamma/(1 - beta)", gamma, beta, scalar)


def alt_lam(gamma, beta):
    """λ' = (1+β)γ / (2(1−β)²) of the central-difference discretisation (Appendix A)."""
    gamma, beta = _gamma_beta(gamma, beta)
    with np.errstate(over="ignore"):
        out = (1.0 + beta) * gamma / (2.0 * (1.0 - beta) ** 2)
    return _finite_out(out, "alt_lam = (1 + beta)*gamma/(2(1 - beta)**2)", gamma, beta, True)


def accelerate(gamma, beta, rho):
    """Acceleration rule (γ̂, β̂) = (ρ²γ, 1−ρ(1−β)): same λ, step ε̂ = ρε (Corollary 1)."""
    gamma, beta = _gamma_beta(gamma, beta)
    rho = check_positive(rho, "rho")
    beta_hat = 1.0 - rho * (1.0 - beta)
    if not 0.0 <= beta_hat < 1.0:
        raise ValueError(
            f"rho={rho!r} gives beta_hat = 1 - rho*(1 - beta) = {beta_hat!r}, outside [0, 1); "
            f"rho must lie in (0, {1.0 / (1.0 - beta)!r}] for beta={beta!r}")
    gamma_hat = rho ** 2 * gamma
    if not np.isfinite(gamma_hat):
        raise ValueError(f"gamma_hat = rho**2 * gamma overflows for gamma={gamma!r}, rho={rho!r}; "
                         f"rho**2 * gamma must stay below {np.finfo(float).max:.3g}")
    return gamma_hat, beta_hat


def _gamma_beta_arrays(gamma, beta):
    """γ > 0 and β ∈ [0, 1), scalars (checked as before) or arrays checked elementwise (broadcast)."""
    if np.ndim(gamma) == 0 and np.ndim(beta) == 0:
        g, b = _gamma_beta(gamma, beta)
        return g, b, True
    g = check_finite_array(gamma, "gamma")
    b = check_finite_array(beta, "beta")
    if np.any(g <= 0):
        raise ValueError(f"gamma must be > 0 elementwise, got min {float(g.min())!r}")
    if np.any((b < 0) | (b >= 1)):
        raise ValueError(f"beta must lie in [0, 1) elementwise, got range [{float(b.min())!r}, {float(b.max())!r}]")
    try:
        g, b = np.broadcast_arrays(g, b)
    except ValueError:
        raise ValueError(f"gamma and beta must broadcast together, got shapes {np.shape(gamma)} "
                         f"and {np.shape(beta)}") from None
    return g, b, False


def _finite_out(value, what, gamma, beta, scalar):
    """Refuse an overflowed λ/ε instead of returning inf (the parameters are too large)."""
    with np.errstate(over="ignore"):
        value = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(value)):
        bad = ~np.isfinite(value)
        gb = (gamma, beta) if scalar else (float(np.asarray(gamma)[bad][0]), float(np.asarray(beta)[bad][0]))
        raise ValueError(f"{what} overflows for gamma={gb[0]!r}, beta={gb[1]!r}: gamma and 1 - beta "
                         f"must keep it below {np.finfo(float).max:.3g}")
    return float(value) if scalar else value


def mgd_init_velocity(w0, w1, gamma, beta):
    """Initial speed ẇ(0) = (w1 − w0)/√(λγ) matching MGD's (w0, w1) (Proposition 1)."""
    w0 = check_vector(np.atleast_1d(w0), "w0")
    w1 = check_vector(np.atleast_1d(w1), "w1", dim=w0.shape[0])
    return (w1 - w0) / step(gamma, beta)


def mgd(grad: Callable, w0, gamma, beta, n_steps, w1=None):
    """Iterates w_0..w_{n_steps} of MGD(γ, β) from (w0, w1), w1 = w0 by default (Section 2)."""
    gamma, beta = _gamma_beta(gamma, beta)
    n_steps = check_int(n_steps, "n_steps", minimum=0)
    w0 = check_vector(np.atleast_1d(w0), "w0")
    w1 = w0.copy() if w1 is None else check_vector(np.atleast_1d(w1), "w1", dim=w0.shape[0])
    grad = _checked_grad(grad, w0)
    out = np.empty((n_steps + 1, w0.shape[0]))
    out[0] = w0
    if n_steps >= 1:
        out[1] = w1
    for k in range(1, n_steps):
        with np.errstate(over="ignore", invalid="ignore"):
            out[k + 1] = out[k] - gamma * grad(out[k]) + beta * (out[k] - out[k - 1])
        if not np.all(np.isfinite(out[k + 1])):
            raise DivergenceError(
                f"MGD(gamma={gamma}, beta={beta}) diverged at step {k + 1}: iterates are no longer finite")
    return out


def gd(grad: Callable, w0, gamma, n_steps):
    """Iterates of gradient descent with step γ: MGD(γ, 0) with w1 = w0 − γ∇F(w0) (Section 2)."""
    gamma = check_gamma(gamma)
    w0 = check_vector(np.atleast_1d(w0), "w0")
    g = _checked_grad(grad, w0)
    return mgd(grad, w0, gamma, 0.0, n_steps, w1=w0 - gamma * g(w0))


class SolverBudgetError(RuntimeError):
    """An ODE solve stopped because its budget (``max_seconds`` or ``max_evals``) ran out."""

    def __init__(self, message, status, t_reached):
        super().__init__(message)
        self.status = status          # 'max_seconds' or 'max_evals'
        self.t_reached = t_reached    # last time the solver evaluated the flow at


def mgf(grad: Callable, w0, lam, t, v0=None, jac: Callable | None = None, rtol=1e-10, atol=1e-12,
        max_seconds=600.0, max_evals=10 ** 7):
    """Solution of MGF(λ): λẅ + ẇ + ∇F(w) = 0, w(0) = w0, ẇ(0) = v0, at times ``t`` (Section 2).

    λ = 0 is gradient flow. The ODE is stiff for small λ, so it is integrated with the implicit
    Radau IIA method; ``jac(w)`` (the Hessian of F) gives it an exact Jacobian.
    Returns an array of shape (len(t), dim). A runaway solve raises :class:`SolverBudgetError`
    (status 'max_seconds' or 'max_evals') after ``max_seconds`` of wall-clock time or ``max_evals``
    gradient evaluations.
    """
    lam_ = check_lam(lam)
    w0 = check_vector(np.atleast_1d(w0), "w0")
    d = w0.shape[0]
    v0 = np.zeros(d) if v0 is None else check_vector(np.atleast_1d(v0), "v0", dim=d)
    t = check_finite_array(np.atleast_1d(t), "t", ndim=1)
    if t[0] < 0 or np.any(np.diff(t) < 0):
        raise ValueError("t must be non-decreasing times >= 0")
    grad = _checked_grad(grad, w0)
    hess = None if jac is None else _checked_jac(jac, w0)
    rtol = check_positive(rtol, "rtol")
    atol = check_positive(atol, "atol")
    max_seconds = check_positive(max_seconds, "max_seconds")
    max_evals = check_int(max_evals, "max_evals", minimum=1)
    t_end = float(t[-1])
    if t_end == 0.0:
        return np.tile(w0, (len(t), 1))
    grad = _budgeted(grad, max_seconds, max_evals)

    if lam_ == 0.0:
        fun = lambda _t, w: -grad(w)
        jfun = None if hess is None else (lambda _t, w: -hess(w))
        y0 = w0
    else:
        def fun(_t, y):
            w, v = y[:d], y[d:]
            return np.concatenate([v, -(v + grad(w)) / lam_])
        jfun = None
        if hess is not None:
            eye = np.eye(d)
            def jfun(_t, y):
                J = np.zeros((2 * d, 2 * d))
                J[:d, d:] = eye
                J[d:, :d] = -hess(y[:d]) / lam_
                J[d:, d:] = -eye / lam_
                return J
        y0 = np.concatenate([w0, v0])
    try:
        sol = solve_ivp(fun, (0.0, t_end), y0, method="Radau", t_eval=t, jac=jfun, rtol=rtol, atol=atol)
    except _OutOfBudget as e:
        what = f"max_seconds={max_seconds!r} s" if e.args[0] == "max_seconds" else f"max_evals={max_evals!r}"
        raise SolverBudgetError(f"mgf(lam={lam_!r}): the solve ran out of its budget ({what}) before "
                                f"t = {t_end!r}; raise {e.args[0]} or shorten t", e.args[0], t_end) from None
    if sol.status != 0:
        raise RuntimeError(f"mgf: the ODE solver failed: {sol.message}")
    return sol.y[:d].T.copy()


def gf(grad: Callable, w0, t, jac: Callable | None = None, rtol=1e-10, atol=1e-12):
    """Gradient flow ẇ = −∇F(w): MGF(0) (Section 2)."""
    return mgf(grad, w0, 0.0, t, jac=jac, rtol=rtol, atol=atol)


@dataclass(frozen=True)
class Quadratic:
    """F(w) = ½ (w − w*)ᵀ H (w − w*): the test function of Figure 1."""

    H: np.ndarray
    w_star: np.ndarray

    def __post_init__(self):
        H = check_finite_array(self.H, "H", ndim=2)
        if H.shape[0] != H.shape[1]:
            raise ValueError(f"H must be square, got shape {H.shape}")
        if not np.allclose(H, H.T):
            raise ValueError("H must be symmetric")
        object.__setattr__(self, "H", H)
        object.__setattr__(self, "w_star", check_vector(self.w_star, "w_star", dim=H.shape[0]))

    def value(self, w):
        """F(w)."""
        r = np.asarray(w) - self.w_star
        return 0.5 * np.einsum("...i,ij,...j->...", r, self.H, r)

    def grad(self, w):
        """∇F(w) = H(w − w*)."""
        return self.H @ (np.asarray(w) - self.w_star)

    def hess(self, w):
        """∇²F(w) = H."""
        return self.H


def discretisation_gap(grad, w0, gamma, beta, n_steps, w_star, jac=None, flow="mgf"):
    """max_k ‖w_k − w(kε)‖ / ‖w0 − w*‖ between MGD(γ, β) and MGF(λ) at times kε (Proposition 1).

    ``flow="gf"`` compares with gradient flow instead (GD(γ) is its Euler discretisation, ε = γ).
    """
    w_star = check_vector(np.atleast_1d(w_star), "w_star")
    if flow not in ("mgf", "gf"):
        raise ValueError(f"flow must be 'mgf' or 'gf', got {flow!r}")
    W = mgd(grad, w0, gamma, beta, n_steps)
    eps = step(gamma, beta)
    lam_ = lam(gamma, beta) if flow == "mgf" else 0.0
    Wc = mgf(grad, w0, lam_, eps * np.arange(n_steps + 1), jac=jac)
    scale = np.linalg.norm(np.asarray(w0, dtype=float) - w_star)
    return float(np.max(np.linalg.norm(W - Wc, axis=1)) / scale)


def _gamma_beta(gamma, beta):
    return check_gamma(gamma), check_beta(beta)


class _OutOfBudget(Exception):
    pass


def _budgeted(grad, max_seconds, max_evals):
    """grad that raises _OutOfBudget once the wall-clock or evaluation budget of a solve is spent."""
    import time
    start, count = time.perf_counter(), [0]

    def g(w):
        count[0] += 1
        if count[0] > max_evals:
            raise _OutOfBudget("max_evals")
        if count[0] % 64 == 0 and time.perf_counter() - start > max_seconds:
            raise _OutOfBudget("max_seconds")
        return grad(w)
    return g


def _checked_grad(grad, w0):
    if not callable(grad):
        raise ValueError(f"grad must be a callable returning an array of shape {w0.shape}")
    g = np.asarray(grad(w0), dtype=float)
    if g.shape != w0.shape:
        raise ValueError(f"grad(w0) must have shape {w0.shape}, got {g.shape}")
    return lambda w: np.asarray(grad(w), dtype=float)


def _checked_jac(jac, w0):
    if not callable(jac):
        raise ValueError("jac must be a callable returning the Hessian of F, shape (dim, dim)")
    H = np.asarray(jac(w0), dtype=float)
    d = w0.shape[0]
    if H.shape != (d, d):
        raise ValueError(f"jac(w0) must have shape ({d}, {d}), got {H.shape}")
    return lambda w: np.asarray(jac(w), dtype=float)
