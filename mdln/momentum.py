"""Momentum gradient descent and momentum gradient flow on any gradient (Section 2, Appendix A).

MGD(γ, β):  w_{k+1} = w_k − γ∇F(w_k) + β(w_k − w_{k−1}).
MGF(λ):     λẅ_t + ẇ_t + ∇F(w_t) = 0.
Proposition 1 links them: λ = γ/(1−β)², discretisation step ε = √(λγ) = γ/(1−β); the discretisation
gap (``discretisation_gap``, ``gap_vs_step``) measures it, Corollary 1 (``accelerate``,
``acceleration_gap``) follows. Appendix A: the central-difference scheme (``alt_lam``,
``central_difference_params``, ``central_difference_iterates``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.integrate import solve_ivp

from ._checks import (check_beta, check_finite_array, check_gamma, check_int, check_lam,
                      check_positive, check_real, check_vector)
from .status import DIVERGENCE_FACTOR, Status

__all__ = [
    "lam", "step", "alt_lam", "accelerate", "mgd", "gd", "mgf", "gf", "mgd_init_velocity",
    "DivergenceError", "Quadratic", "discretisation_gap", "mgf_quadratic", "SolverBudgetError",
    "mgd_quadratic", "relative_gap", "gap_vs_step", "mgf_lipschitz", "acceleration_gap",
    "central_difference_params", "central_difference_iterates", "one_blas_thread",
]


try:   # the solvers factorise small dense matrices: a multi-threaded BLAS is ~10x slower on a busy machine
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover
    _threadpool_limits = None


def one_blas_thread():
    """Context manager limiting BLAS to one thread (a no-op without threadpoolctl)."""
    import contextlib
    return _threadpool_limits(1, user_api="blas") if _threadpool_limits else contextlib.nullcontext()




class DivergenceError(FloatingPointError):
    """Raised when MGD iterates stop being finite or an MGF solution blows up (the run diverged)."""

    status = Status.DIVERGED


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
    """λ' = (1+β)γ / (2(1−β)²) of the central-difference scheme (Appendix A); elementwise on arrays."""
    gamma, beta, scalar = _gamma_beta_arrays(gamma, beta)
    with np.errstate(over="ignore"):
        out = (1.0 + beta) * gamma / (2.0 * (1.0 - beta) ** 2)
    return _finite_out(out, "alt_lam = (1 + beta)*gamma/(2(1 - beta)**2)", gamma, beta, scalar)


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
    """An ODE solve stopped because its budget (``max_seconds`` or ``max_evals``) ran out.

    ``status`` is ``Status.STEP_CAP`` (a budget ran out), ``budget`` the name of the parameter that did.
    """

    status = Status.STEP_CAP

    def __init__(self, message, budget, t_reached):
        super().__init__(message)
        self.budget = budget          # 'max_seconds' or 'max_evals'
        self.t_reached = t_reached    # the end time the solve was asked to reach


def mgf(grad: Callable, w0, lam, t, v0=None, jac: Callable | None = None, rtol=1e-10, atol=1e-12,
        max_seconds=600.0, max_evals=10 ** 7):
    """Solution of MGF(λ): λẅ + ẇ + ∇F(w) = 0, w(0) = w0, ẇ(0) = v0, at times ``t`` (Section 2).

    λ = 0 is gradient flow. The ODE is stiff for small λ, so it is integrated with the implicit
    Radau IIA method; ``jac(w)`` (the Hessian of F) gives it an exact Jacobian.
    Returns an array of shape (len(t), dim). A runaway solve raises :class:`SolverBudgetError`
    (``budget`` 'max_seconds' or 'max_evals') after ``max_seconds`` of wall-clock time or ``max_evals``
    gradient evaluations. A solution that blows up raises :class:`DivergenceError` as soon as an accepted
    step has max_i |w_i| > ``DIVERGENCE_FACTOR``·(1 + max_i |w0_i|) (``mdln.status``), instead of
    following the growth until floating point overflows (e.g. gradient flow on F(w) = −w²/2).
    """
    lam_ = check_lam(lam)
    w0 = check_vector(np.atleast_1d(w0), "w0")
    d = w0.shape[0]
    v0 = np.zeros(d) if v0 is None else check_vector(np.atleast_1d(v0), "v0", dim=d)
    t = check_finite_array(np.atleast_1d(t), "t", ndim=1)
    if t[0] < 0 or np.any(np.diff(t) < 0):
        raise ValueError("t must be non-decreasing times >= 0")
    grad = _checked_grad(grad, w0, finite=True)
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
    fun, seen = _watched(fun, d)
    limit = DIVERGENCE_FACTOR * (1.0 + float(np.max(np.abs(w0))))

    def blow_up(_t, y):   # evaluated on accepted steps only; crosses 0 when |w| passes the limit
        return limit - float(np.max(np.abs(y[:d])))
    blow_up.terminal = True
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            sol = solve_ivp(fun, (0.0, t_end), y0, method="Radau", t_eval=t, jac=jfun, rtol=rtol, atol=atol,
                            events=blow_up)
    except _OutOfBudget as e:
        what = f"max_seconds={max_seconds!r} s" if e.args[0] == "max_seconds" else f"max_evals={max_evals!r}"
        raise SolverBudgetError(f"mgf(lam={lam_!r}): the solve ran out of its budget ({what}) before "
                                f"t = {t_end!r}; raise {e.args[0]} or shorten t", e.args[0], t_end) from None
    except ValueError as exc:   # scipy's "array must not contain infs or NaNs" from inside the solver
        raise _flow_failure(lam_, seen, w0, str(exc)) from None
    if sol.status == 1:
        name = f"MGF(lam={lam_!r})" if lam_ > 0 else "gradient flow"
        raise DivergenceError(f"{name} diverged: max_i |w_i| passed DIVERGENCE_FACTOR·(1 + max_i |w0_i|) = "
                              f"{limit:.3g} at t ≈ {sol.t_events[0][0]:.3g} (before t = {t_end!r})")
    if sol.status != 0 or not np.all(np.isfinite(sol.y)):
        raise _flow_failure(lam_, seen, w0, sol.message)
    return sol.y[:d].T.copy()


def _watched(fun, d):
    """The ODE right-hand side, recording the largest |w| met and the first non-finite evaluation."""
    seen = {"max": 0.0, "t": 0.0}

    def f(t_, y):
        out = fun(t_, y)
        w = y[:d]
        if np.all(np.isfinite(w)):
            seen["max"] = max(seen["max"], float(np.max(np.abs(w))))
            seen["t"] = max(seen["t"], float(t_))
        if "bad" not in seen and not (np.all(np.isfinite(y)) and np.all(np.isfinite(out))):
            seen["bad"] = np.all(np.isfinite(y)) and float(np.max(np.abs(w))) < 1e100
        return out
    return f, seen


def _flow_failure(lam_, seen, w0, message):
    """A DivergenceError saying whether grad returned NaN/inf at a finite point or the flow blew up."""
    name = f"MGF(lam={lam_!r})" if lam_ > 0 else "gradient flow"
    if seen.get("bad"):
        return DivergenceError(f"{name}: grad returned non-finite values (NaN or inf) at a finite point "
                               f"(t ≈ {seen['t']:.3g}); F is not defined or not differentiable there")
    if "bad" in seen or seen["max"] > 1e8 * max(1.0, float(np.max(np.abs(w0)))):
        return DivergenceError(f"{name} diverged: |w| reached {seen['max']:.3g} by t ≈ {seen['t']:.3g}")
    return DivergenceError(f"{name}: the ODE solver could not continue past t ≈ {seen['t']:.3g} ({message}); "
                           f"|w| had reached {seen['max']:.3g} — the flow may blow up in finite time")


def gf(grad: Callable, w0, t, jac: Callable | None = None, rtol=1e-10, atol=1e-12, max_seconds=600.0,
       max_evals=10 ** 7):
    """Gradient flow ẇ = −∇F(w): MGF(0) (Section 2); budgets and blow-up detection as in :func:`mgf`."""
    return mgf(grad, w0, 0.0, t, jac=jac, rtol=rtol, atol=atol, max_seconds=max_seconds, max_evals=max_evals)


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

    def _point(self, w):
        w = check_finite_array(w, "w")
        if w.shape[-1:] != self.w_star.shape:
            raise ValueError(f"w must have shape ({self.w_star.shape[0]},) (or (..., {self.w_star.shape[0]})), "
                             f"got {w.shape}")
        return w

    def value(self, w):
        """F(w)."""
        r = self._point(w) - self.w_star
        return 0.5 * np.einsum("...i,ij,...j->...", r, self.H, r)

    def grad(self, w):
        """∇F(w) = H(w − w*)."""
        r = self._point(w) - self.w_star
        return self.H @ r if r.ndim == 1 else r @ self.H.T

    def hess(self, w):
        """∇²F(w) = H (w is checked like ``grad``'s, though H does not depend on it)."""
        self._point(w)
        return self.H


def mgf_quadratic(q: Quadratic, w0, lam, t, v0=None):
    """Closed-form MGF(λ) on the quadratic ``q``: λẅ + ẇ + H(w − w*) = 0 mode by mode (Section 2).

    With H = Q diag(h) Qᵀ, each mode z = Qᵀ(w − w*) solves λz̈ + ż + hz = 0, so
    z(t) = e^{−t/(2λ)} [z0 cosh(st) + (ż0 + z0/(2λ)) sinh(st)/s], s² = (1 − 4λh)/(4λ²):
    overdamped (s real), critically damped (s = 0: sinh(st)/s = t) or oscillating (s imaginary).
    λ = 0 is gradient flow, z(t) = z0 e^{−ht}. Same output as ``mgf(q.grad, w0, lam, t, v0)``,
    shape (len(t), dim), without an ODE solver.
    """
    if not isinstance(q, Quadratic):
        raise ValueError(f"q must be a mdln.Quadratic, got {type(q).__name__}")
    lam_ = check_lam(lam)
    d = q.H.shape[0]
    w0 = check_vector(np.atleast_1d(w0), "w0", dim=d)
    v0 = np.zeros(d) if v0 is None else check_vector(np.atleast_1d(v0), "v0", dim=d)
    t = check_finite_array(np.atleast_1d(t), "t", ndim=1)
    if np.any(t < 0):
        raise ValueError("t must be times >= 0")
    h, Q = np.linalg.eigh(q.H)
    z0, y0 = Q.T @ (w0 - q.w_star), Q.T @ v0
    T = t[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        if lam_ == 0.0:
            Z = z0 * np.exp(-h * T)
        else:
            Z = _mgf_modes(h, z0, y0, lam_, T)
    return q.w_star + Z @ Q.T


def mgd_quadratic(q: Quadratic, w0, gamma, beta, n_steps):
    """MGD(γ, β) from w1 = w0 on a quadratic, mode by mode: z_{k+1} = (1+β−γh)z_k − βz_{k−1} (Eq. (1)).

    The same iterates as ``mgd(q.grad, w0, gamma, beta, n_steps)`` (to rounding), computed as a linear
    recursion with ``scipy.signal.lfilter`` instead of a Python loop; diverging runs give inf/nan.
    """
    from scipy.signal import lfilter, lfiltic
    if not isinstance(q, Quadratic):
        raise ValueError(f"q must be a mdln.Quadratic, got {type(q).__name__}")
    gamma, beta = _gamma_beta(gamma, beta)
    n_steps = check_int(n_steps, "n_steps", minimum=0)
    w0 = check_vector(np.atleast_1d(w0), "w0", dim=q.H.shape[0])
    h, Q = np.linalg.eigh(q.H)
    z0 = Q.T @ (w0 - q.w_star)
    Z = np.empty((n_steps + 1, len(h)))
    Z[:2] = z0
    if n_steps >= 2:
        x = np.zeros(n_steps - 1)
        with np.errstate(over="ignore", invalid="ignore"):
            for i, hi in enumerate(h):
                a = [1.0, -(1.0 + beta - gamma * hi), beta]
                Z[2:, i], _ = lfilter([1.0], a, x, zi=lfiltic([1.0], a, [z0[i], z0[i]]))
    return q.w_star + Z[: n_steps + 1] @ Q.T


def _mgf_modes(h, z0, y0, lam_, T):
    """z(T) per mode of λz̈ + ż + hz = 0 (see ``mgf_quadratic``), overflow-free for small λ."""
    a = 0.5 / lam_
    disc = 1.0 - 4.0 * lam_ * h                     # sign decides the damping regime
    root = np.sqrt(np.abs(disc))
    s = a * root
    b = y0 + a * z0                                 # coefficient of sinh(st)/s
    Z = np.empty((T.shape[0], h.shape[0]))
    over = disc > 0
    if np.any(over):
        # e^{−at}cosh(st) = ½e^{(s−a)t}(1 + e^{−2st}), e^{−at}sinh(st)/s = e^{(s−a)t}(1 − e^{−2st})/(2s),
        # with s − a = −2h/(1 + √disc) computed without cancellation.
        so, ho = s[over], h[over]
        decay = np.exp(-2.0 * ho / (1.0 + root[over]) * T)
        e2 = np.exp(-2.0 * so * T)
        sinh_s = -np.expm1(-2.0 * so * T) / (2.0 * so)
        Z[:, over] = decay * (0.5 * (1.0 + e2) * z0[over] + sinh_s * b[over])
    rest = ~over                                     # oscillating (disc < 0) or critical (disc = 0)
    if np.any(rest):
        w = s[rest]
        env = np.exp(-a * T)
        c = np.cos(w * T)
        sin_w = np.where(w > 0, np.sin(w * T) / np.where(w > 0, w, 1.0), T)
        Z[:, rest] = env * (c * z0[rest] + sin_w * b[rest])
    return Z


def relative_gap(W, Wc, w0, w_star):
    """max_k ‖w_k − w(kε)‖ / ‖w0 − w*‖ between two paths sampled at the same times (Proposition 1)."""
    w0 = check_vector(np.atleast_1d(w0), "w0")
    w_star = check_vector(np.atleast_1d(w_star), "w_star", dim=w0.shape[0])
    W = check_finite_array(W, "W", ndim=2)
    Wc = check_finite_array(Wc, "Wc", ndim=2)
    if W.shape != Wc.shape or W.shape[1] != w0.shape[0]:
        raise ValueError(f"W and Wc must have one shape (m, {w0.shape[0]}), got {W.shape} and {Wc.shape}")
    scale = np.linalg.norm(w0 - w_star)
    if not scale > 0:
        raise ValueError("w0 must differ from w_star: the gap is relative to ‖w0 − w*‖, which is 0")
    return float(np.max(np.linalg.norm(W - Wc, axis=1)) / scale)


def discretisation_gap(grad, w0, gamma, beta, n_steps, w_star, jac=None, flow="mgf"):
    """max_k ‖w_k − w(kε)‖ / ‖w0 − w*‖ between MGD(γ, β) and MGF(λ) at times kε (Proposition 1).

    ``flow="gf"`` compares with gradient flow instead (GD(γ) is its Euler discretisation, ε = γ).
    """
    w_star = check_vector(np.atleast_1d(w_star), "w_star")
    if flow not in ("mgf", "gf"):
        raise ValueError(f"flow must be 'mgf' or 'gf', got {flow!r}")
    w0_ = check_vector(np.atleast_1d(w0), "w0", dim=w_star.shape[0])
    if not np.linalg.norm(w0_ - w_star) > 0:
        raise ValueError("w0 must differ from w_star: the gap is relative to ‖w0 − w*‖, which is 0")
    W = mgd(grad, w0, gamma, beta, n_steps)
    eps = step(gamma, beta)
    lam_ = lam(gamma, beta) if flow == "mgf" else 0.0
    Wc = mgf(grad, w0, lam_, eps * np.arange(n_steps + 1), jac=jac)
    return relative_gap(W, Wc, w0_, w_star)


def mgf_lipschitz(H, lam):
    """Lipschitz constant L_f = ‖A‖₂ of MGF(λ)'s vector field (w, v) ↦ (v, −(v + H(w − w*))/λ) on a quadratic.

    Grönwall's lemma then bounds the Proposition 1 gap on [0, T] by a constant times e^{L_f T} ε.
    """
    H = check_finite_array(H, "H", ndim=2)
    lam_ = check_positive(lam, "lam")
    d = H.shape[0]
    A = np.block([[np.zeros((d, d)), np.eye(d)], [-H / lam_, -np.eye(d) / lam_]])
    return float(np.linalg.norm(A, 2))


def gap_vs_step(grad, w0, lam, eps_values, horizon, w_star, jac=None):
    """Discretisation gap of MGD(ε²/λ, 1 − ε/λ) against MGF(λ) on [0, horizon], per ε, λ fixed (Prop. 1).

    Proposition 1 bounds it by O(ε); the gap shrinks linearly as ε → 0.
    """
    lam_ = check_positive(lam, "lam")
    horizon = check_positive(horizon, "horizon")
    gaps = []
    for eps in np.atleast_1d(check_finite_array(eps_values, "eps_values")).ravel():
        if not 0 < eps <= lam_:
            raise ValueError(f"eps must lie in (0, lam={lam_}] so that beta = 1 - eps/lam is in [0, 1), got {eps}")
        gaps.append(discretisation_gap(grad, w0, eps ** 2 / lam_, 1.0 - eps / lam_, int(round(horizon / eps)),
                                       w_star, jac=jac))
    return np.array(gaps)


def acceleration_gap(grad, w0, gamma, beta, rho, horizon):
    """max_k ‖ŵ_k − w_{ρk}‖ / path length, ŵ = MGD(ρ²γ, 1−ρ(1−β)), w = MGD(γ, β) (Corollary 1)."""
    rho_ = check_real(rho, "rho")
    if rho_ != int(rho_) or rho_ < 1:
        raise ValueError(f"rho must be an integer >= 1 to compare w_(rho k) with w_hat_k, got {rho}")
    rho = int(rho_)
    horizon = check_positive(horizon, "horizon")
    g_hat, b_hat = accelerate(gamma, beta, rho)
    n_hat = int(round(horizon / step(g_hat, b_hat)))
    W = mgd(grad, w0, gamma, beta, rho * n_hat)
    W_hat = mgd(grad, w0, g_hat, b_hat, n_hat)
    path = np.sum(np.linalg.norm(np.diff(W, axis=0), axis=1))
    return float(np.max(np.linalg.norm(W_hat - W[::rho], axis=1)) / path)


def central_difference_params(lam, eps):
    """(γ, β) = (ε²/(λ(1+ε/2λ)), (1−ε/2λ)/(1+ε/2λ)) of the central-difference scheme (Appendix A)."""
    lam_ = check_positive(lam, "lam")
    eps = check_positive(eps, "eps")
    if eps > 2.0 * lam_:
        raise ValueError(f"eps must lie in (0, 2*lam] = (0, {2.0 * lam_!r}] so that beta >= 0, got {eps!r}")
    r = eps / (2.0 * lam_)
    return eps ** 2 / (lam_ * (1.0 + r)), (1.0 - r) / (1.0 + r)


def central_difference_iterates(grad, w0, lam, eps, n_steps):
    """Iterates of λ(w_{k+1}−2w_k+w_{k−1})/ε² + (w_{k+1}−w_{k−1})/(2ε) + ∇F(w_k) = 0, w_1 = w_0 (App. A)."""
    lam_ = check_positive(lam, "lam")
    eps = check_positive(eps, "eps")
    n_steps = check_int(n_steps, "n_steps", minimum=0)
    w0 = check_vector(np.atleast_1d(w0), "w0")
    grad = _diverge_guard(grad, w0, f"central difference (lam={lam_}, eps={eps})")
    out = np.empty((n_steps + 1, w0.shape[0]))
    out[0] = w0
    if n_steps >= 1:
        out[1] = w0
    a, b = lam_ / eps ** 2, 1.0 / (2.0 * eps)
    for k in range(1, n_steps):
        # (a + b) w_{k+1} = 2a w_k − (a − b) w_{k−1} − ∇F(w_k), solved literally as written in Appendix A
        g = grad(out[k])
        with np.errstate(over="ignore", invalid="ignore"):
            out[k + 1] = (2.0 * a * out[k] - (a - b) * out[k - 1] - g) / (a + b)
        if not np.all(np.isfinite(out[k + 1])):
            raise DivergenceError(f"central difference (lam={lam_}, eps={eps}) diverged at step {k + 1}: "
                                  f"iterates are no longer finite")
    return out


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


def _checked_grad(grad, w0, finite=False):
    """grad as a float-array function, probed at w0; errors name w0 (the caller's parameter), not grad's."""
    if not callable(grad):
        raise ValueError(f"grad must be a callable returning an array of shape {w0.shape}")
    owner = getattr(grad, "__self__", None)
    if isinstance(owner, Quadratic) and w0.shape != owner.w_star.shape:
        raise ValueError(f"w0 must have shape {owner.w_star.shape} (the dimension of the quadratic whose "
                         f"gradient is grad), got {w0.shape}")
    try:
        g = np.asarray(grad(w0), dtype=float)
    except (ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"grad(w0) failed for w0 of shape {w0.shape}: {exc}") from exc
    if g.shape != w0.shape:
        raise ValueError(f"grad(w0) must have shape {w0.shape}, got {g.shape}")
    if finite and not np.all(np.isfinite(g)):
        raise ValueError("grad(w0) must be finite, got NaN or inf at the initial point w0")
    return lambda w: np.asarray(grad(w), dtype=float)


def _diverge_guard(grad, w0, name):
    """grad (checked on w0) that raises DivergenceError once an iterate or its gradient is not finite."""
    grad = _checked_grad(grad, w0, finite=True)
    calls = [0]

    def g(w):
        calls[0] += 1
        with np.errstate(over="ignore", invalid="ignore"):
            out = grad(w)
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(out))):
            what = "iterates" if not np.all(np.isfinite(w)) else "grad values"
            raise DivergenceError(f"{name} stopped at step {calls[0]}: {what} are no longer finite "
                                  f"(the iteration diverged or left the domain of F)")
        return out
    return g


def _checked_jac(jac, w0):
    if not callable(jac):
        raise ValueError("jac must be a callable returning the Hessian of F, shape (dim, dim)")
    try:
        H = np.asarray(jac(w0), dtype=float)
    except (ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"jac(w0) failed for w0 of shape {w0.shape}: {exc}") from exc
    d = w0.shape[0]
    if H.shape != (d, d):
        raise ValueError(f"jac(w0) must have shape ({d}, {d}), got {H.shape}")
    return lambda w: np.asarray(jac(w), dtype=float)
