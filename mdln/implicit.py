"""Implicit bias of (M)GF on diagonal networks: hyperbolic entropy, Bregman projections, Δ∞ formulas.

Section 3 (Eq. 5–8), Proposition 2 (MGF on least squares), Theorem 1, Corollary 2, Proposition 3,
Appendix C.5 and Appendix E; Section 4: the two predictions of Theorem 2 (full, and simplified as in
Eq. 10) and the first-order shift the simplification causes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import linprog

from ._checks import (check_data, check_finite_array, check_int, check_lam, check_positive, check_real,
                      check_real_array, check_vector)
from .data import sparse_regression
from .momentum import one_blas_thread
from .momentum import mgf

__all__ = [
    "hyperbolic_entropy", "hyperbolic_entropy_grad", "HyperbolicEntropy", "bregman_divergence",
    "implicit_solution", "min_l1_interpolator", "min_l2_interpolator", "prop3_bound",
    "corollary2_delta", "small_lambda_delta", "normalised_distance", "dropped_term", "ImplicitSolveError",
    "Prop2Demo", "prop2_demo", "theorem2_predictions", "linear_shift", "kkt_shift", "perturbed_initialisation",
    "PREDICTION_RESIDUAL",
]

PREDICTION_RESIDUAL = 1e-9   # ‖Xθ_pred − y‖ above which a Theorem 2 prediction counts as a solver failure

_LOG4 = float(np.log(4.0))
_MAX_DZ = 4.0   # largest change of any z_i = 2(Xᵀν)_i + a_i that one step of the capped dual Newton makes


class ImplicitSolveError(RuntimeError):
    """The Bregman projection of Eq. (5) did not reach an interpolator (the residual says how far)."""


def _interp_slack(y):
    """Largest ‖Xθ − y‖ still counted as interpolating: 1e-8 relative to ‖y‖ (rounding, not fitting)."""
    return 1e-8 * max(1.0, float(np.linalg.norm(y)))


def _no_interpolator(X, y, residual):
    n, d = X.shape
    rank = int(np.linalg.matrix_rank(X))
    return ValueError(f"no interpolator: y is not in the range of X (shape {n}×{d}, rank {rank}), so the set "
                      f"S = {{θ : Xθ = y}} of Eq. (5) is empty; the least-squares fit leaves "
                      f"‖Xθ − y‖ = {residual:.3g} (an interpolator needs rank X = n, e.g. n ≤ d)")


def _check_delta(delta, d, name="delta"):
    delta = check_finite_array(delta, name)
    if delta.ndim > 1 or (delta.ndim == 1 and delta.shape[0] != d):
        raise ValueError(f"{name} must be a scalar or a vector of shape ({d},), got shape {delta.shape}")
    if np.any(delta <= 0):
        raise ValueError(f"{name} must be > 0 on every coordinate")
    return np.broadcast_to(delta, (d,)).astype(float)


def _arcsinh_ratio(theta, delta):
    """arcsinh(2θ/Δ) without overflow: where 2θ/Δ exceeds double range, arcsinh(x) = log 2x to rounding."""
    theta, delta = np.broadcast_arrays(np.asarray(theta, dtype=float), np.asarray(delta, dtype=float))
    with np.errstate(over="ignore"):
        t = 2 * theta / delta
    a = np.array(np.arcsinh(t), dtype=float)
    big = ~np.isfinite(t) & np.isfinite(theta) & (delta > 0)
    if np.any(big):
        a[big] = np.sign(theta[big]) * (_LOG4 + np.log(np.abs(theta[big])) - np.log(delta[big]))
    return a


def hyperbolic_entropy(theta, delta):
    """ψ_Δ(θ) = ¼ Σ (2θ_i arcsinh(2θ_i/Δ_i) − √(4θ_i² + Δ_i²) + Δ_i) (Eq. 6)."""
    theta = check_vector(np.atleast_1d(theta), "theta")
    delta = _check_delta(delta, theta.shape[0])
    return 0.25 * float(np.sum(2 * theta * _arcsinh_ratio(theta, delta) - np.hypot(2 * theta, delta) + delta))


def hyperbolic_entropy_grad(theta, delta):
    """∇ψ_Δ(θ) = ½ arcsinh(2θ/Δ) (Appendix C.3.3)."""
    theta = check_vector(np.atleast_1d(theta), "theta")
    delta = _check_delta(delta, theta.shape[0])
    return 0.5 * _arcsinh_ratio(theta, delta)


@dataclass(frozen=True)
class HyperbolicEntropy:
    """The potential ψ_Δ as an object with ``value`` and ``grad`` (Eq. 6)."""

    delta: np.ndarray

    def __post_init__(self):
        delta = check_finite_array(self.delta, "delta")
        if np.any(delta <= 0):
            raise ValueError("delta must be > 0 on every coordinate")
        object.__setattr__(self, "delta", delta)

    def value(self, theta):
        """ψ_Δ(θ)."""
        return hyperbolic_entropy(theta, self.delta)

    def grad(self, theta):
        """∇ψ_Δ(θ)."""
        return hyperbolic_entropy_grad(theta, self.delta)


def bregman_divergence(potential, theta1, theta2):
    """D_Φ(θ1, θ2) = Φ(θ1) − Φ(θ2) − ⟨∇Φ(θ2), θ1 − θ2⟩ (Section 3, Notations).

    ``potential`` is either a pair ``(value, grad)`` of callables or an object with ``value(θ)`` and
    ``grad(θ)`` methods, such as ``HyperbolicEntropy(delta)``.
    """
    if isinstance(potential, (tuple, list)) and len(potential) == 2 and all(map(callable, potential)):
        value, grad = potential
    elif callable(getattr(potential, "value", None)) and callable(getattr(potential, "grad", None)):
        value, grad = potential.value, potential.grad
    else:
        raise ValueError("potential must be a (value, grad) pair of callables or an object with "
                         "value(theta) and grad(theta) methods")
    theta1 = check_vector(np.atleast_1d(theta1), "theta1")
    theta2 = check_vector(np.atleast_1d(theta2), "theta2", dim=theta1.shape[0])
    return float(value(theta1) - value(theta2) - np.dot(grad(theta2), theta1 - theta2))


def perturbed_initialisation(w_plus0, w_minus0, i_plus, i_minus):
    """θ̃0 = ¼(w+,0² e^{−2I+} − w−,0² e^{−2I−}) (Theorem 1; Theorem 2 with S± in place of I±).

    Elementwise over arrays of runs: an infinite I± gives its limit, a NaN (a run without integrals,
    e.g. a diverged one) gives NaN there; the initialisations w±,0 must be finite.
    """
    w_plus0, w_minus0 = check_finite_array(w_plus0, "w_plus0"), check_finite_array(w_minus0, "w_minus0")
    i_plus, i_minus = check_real_array(i_plus, "i_plus"), check_real_array(i_minus, "i_minus")
    return 0.25 * (w_plus0 ** 2 * np.exp(-2 * i_plus) - w_minus0 ** 2 * np.exp(-2 * i_minus))


def implicit_solution(X, y, delta, theta0=None, tol=1e-12, max_iter=500):
    """argmin_{θ ∈ S} D_{ψ_Δ}(θ, θ0) (Eq. 5; θ0 = 0 gives argmin_S ψ_Δ, Eq. 7), for every Δ > 0.

    KKT: θ = (Δ/2) sinh(2Xᵀν + arcsinh(2θ0/Δ)). The multiplier ν minimises the smooth convex dual
    Φ(ν) = Σ_i (Δ_i/4) cosh(2x^(i)ᵀν + a_i) − ⟨ν, y⟩; damped Newton with backtracking solves it, with a
    continuation from a large scale down to Δ (warm starts). Newton systems are solved by QR of
    diag(√(Δ cosh z)) Xᵀ, whose condition number is the square root of the Hessian's. Where that stalls
    (Δ far below 1e-50, near the ℓ1 limit of Section 3.1 and Appendix E), a continuation in log Δ follows
    the minimiser along log Δ with an adaptive step, evaluating (Δ/2) sinh z as exp(±z + log Δ)/4 so that
    nothing overflows down to the smallest normal Δ. Stops when ‖Xθ − y‖ ≤ ``tol`` (up to rounding,
    1e-8‖y‖); ``ImplicitSolveError`` only if no interpolator is reached.
    """
    X, y = check_data(X, y)
    n, d = X.shape
    delta = _check_delta(delta, d)
    theta0 = np.zeros(d) if theta0 is None else check_vector(theta0, "theta0", dim=d)
    tol, max_iter = check_positive(tol, "tol"), check_int(max_iter, "max_iter", minimum=1)
    theta_l2 = min_l2_interpolator(X, y)
    log_top = max(0.0, float(np.log(10.0 * float(np.max(np.abs(theta_l2))))) - float(np.log(np.min(delta))))
    theta = np.full(d, np.nan)
    if log_top < 0.5 * np.log(np.finfo(float).max):   # the scale continuation below needs 10^n_stages finite
        theta = _staged_newton(X, y, delta, theta0, tol, max_iter, log_top)
    if not _residual(X, y, theta) <= tol:
        theta2 = _log_delta_continuation(X, y, delta, theta0, tol, theta_l2, max_iter)
        if _residual(X, y, theta2) < _residual(X, y, theta):
            theta = theta2
    residual = _residual(X, y, theta)
    if not residual <= max(tol, _interp_slack(y)):
        raise ImplicitSolveError(
            f"implicit_solution did not reach an interpolator: damped Newton on the dual stalled at "
            f"‖Xθ − y‖ = {residual:.3g} (Δ from {float(np.min(delta)):.3g} to {float(np.max(delta)):.3g}, "
            f"max_iter={max_iter}, tol={tol:.3g})")
    return theta


def _residual(X, y, theta):
    """‖Xθ − y‖, +inf for a non-finite θ."""
    return float(np.linalg.norm(X @ theta - y)) if np.all(np.isfinite(theta)) else float("inf")


def _staged_newton(X, y, delta, theta0, tol, max_iter, log_top):
    """Decade-by-decade continuation from scale 10^n·Δ down to Δ, then a cold start if that falls short."""
    n = X.shape[0]
    n_stages = int(np.ceil(log_top / np.log(10.0))) if log_top > 0 else 0
    scales = np.logspace(n_stages, 0, n_stages + 1) if n_stages > 0 else np.array([1.0])
    nu = np.zeros(n)
    with np.errstate(over="ignore", invalid="ignore"):
        for k, c in enumerate(scales):
            last = k == len(scales) - 1
            nu = _newton_dual(X, y, delta * c, theta0, nu,
                              tol if last else 1e-6 * max(1.0, np.linalg.norm(y)), max_iter)
        theta = _primal(X, delta, theta0, nu)
        if not _residual(X, y, theta) <= tol:
            # Fallback: a direct damped Newton solve from ν = 0 at the target scale; keep the better one.
            nu2 = _newton_dual(X, y, delta, theta0, np.zeros(n), tol, max_iter)
            theta2 = _primal(X, delta, theta0, nu2)
            if _residual(X, y, theta2) < _residual(X, y, theta):
                theta = theta2
    return theta


def _log_delta_continuation(X, y, delta, theta0, tol, theta_l2, max_iter=500):
    """argmin_S D_ψΔ(·, θ0) by lowering every Δ_i from an ℓ2-like scale c to its own value (t: 0 → 1).

    log Δ_t,i = max(log Δ_i, (1 − t) log c + t min_j log Δ_j): one common scale that descends, each
    coordinate leaving it at its target (a uniform Δ descends as a whole); a_t = arcsinh(2θ0/Δ_t)
    follows the scale, as in the Bregman projection at each Δ_t.
    """
    log_delta = np.log(delta)
    top = 10.0 * max(float(np.max(np.abs(theta_l2))), float(np.max(np.abs(theta0))), 1e-300)
    log_top, log_low = max(float(np.log(top)), float(np.max(log_delta))), float(np.min(log_delta))

    def path(t):
        ld = np.maximum(log_delta, (1.0 - t) * log_top + t * log_low)
        return ld, _arcsinh_ratio(theta0, np.exp(ld))

    span = log_top - log_low
    h0 = min(1.0, np.log(10.0) / span) if span > 0 else 1.0
    nu = _continuation(X, y, path, np.zeros(X.shape[0]), tol, h0, max_iter)
    return _polished_primal(X, y, *path(1.0), nu, tol)


def _continuation(X, y, path, nu, tol, h0=0.05, max_iter=1000, max_stages=20_000):
    """The dual minimiser ν along a path t ↦ (log Δ_t, a_t), t: 0 → 1, warm-starting Newton at each stage.

    Each stage starts from the secant predictor through the last two points (or the last point, if that
    fits better); the step in t grows after a stage that converges in a few iterations and halves after
    one that does not. Stages stop at a loose residual, the last at ``tol``; ``max_iter`` bounds the
    Newton steps of the first and last stage, and of each stage between (at most 40).
    """
    loose = 1e-6 * max(1.0, float(np.linalg.norm(y)))
    nu, res = _newton_capped(X, y, *path(0.0), nu, loose, max_iter)
    if not res <= loose:
        return nu
    t, h, prev = 0.0, h0, None
    for _ in range(max_stages):
        if t >= 1.0 or h < 1e-12:
            break
        t_next = min(1.0, t + h)
        start = nu
        if prev is not None:
            guess = nu + (nu - prev[1]) * ((t_next - t) / (t - prev[0]))
            if _residual_at(X, y, *path(t_next), guess) < _residual_at(X, y, *path(t_next), nu):
                start = guess
        nu_try, res, iters = _newton_capped(X, y, *path(t_next), start, loose, min(40, max_iter), count=True)
        if res <= loose:
            prev, nu, t = (t, nu), nu_try, t_next
            h *= 2.0 if iters <= 8 else 1.0
        else:
            h *= 0.5
    if t < 1.0:
        return nu
    return _newton_capped(X, y, *path(1.0), nu, tol, max_iter)[0]


def _residual_at(X, y, log_delta, a, nu):
    """‖Xθ(ν) − y‖ on the path point (log Δ, a), +inf if θ(ν) is not finite."""
    return _residual(X, y, _dual_parts(X, y, log_delta, a, nu)[1])


def _dual_parts(X, y, log_delta, a, nu):
    """z = 2Xᵀν + a, θ = (Δ/2) sinh z, w = (Δ/2) cosh z = dθ/dz and Φ(ν), all without overflow."""
    z = 2.0 * (X.T @ nu) + a
    with np.errstate(over="ignore", under="ignore"):
        w = np.exp(z + log_delta - _LOG4) + np.exp(-z + log_delta - _LOG4)
    return z, _scaled_sinh(z, log_delta), w, float(0.5 * np.sum(w) - nu @ y)


def _scaled_sinh(z, log_delta):
    """(Δ/2) sinh z: directly where |z| ≤ 20 (no cancellation for large Δ and small z), else as
    exp(z + log Δ − log 4) − exp(−z + log Δ − log 4), which cannot overflow for tiny Δ."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        direct = 0.5 * np.exp(log_delta) * np.sinh(np.clip(z, -20.0, 20.0))
        logged = np.exp(z + log_delta - _LOG4) - np.exp(-z + log_delta - _LOG4)
    return np.where(np.abs(z) <= 20.0, direct, logged)


def _dual_change(log_delta, z, z_new, step, y):
    """Φ(ν + δ) − Φ(ν) = Σ (Δ/2) sinh((z' + z)/2) sinh((z' − z)/2) − ⟨δ, y⟩, free of cancellation.

    Φ itself adds terms (Δ/4) cosh z that are huge next to their change when Δ is large and ν small, or
    when z is O(log 1/Δ); the product form keeps the change accurate to rounding in both cases.
    """
    mid, half = 0.5 * (z_new + z), 0.5 * (z_new - z)
    return float(np.sum(_scaled_sinh(mid, log_delta) * np.sinh(half)) - step @ y)


def _newton_step(X, w, F):
    """The dual Newton step: −(2XWXᵀ)⁻¹F, by QR of diag(√2w)Xᵀ."""
    A = np.sqrt(2.0 * w)[:, None] * X.T
    R = np.linalg.qr(A, mode="r")
    with np.errstate(all="ignore"):
        try:
            step = -solve_triangular(R, solve_triangular(R, F, trans="T"))
        except (np.linalg.LinAlgError, ValueError):
            step = np.full(F.shape, np.nan)
    if not np.all(np.isfinite(step)):
        step = -np.linalg.lstsq(A.T @ A, F, rcond=None)[0]
    return step


def _newton_capped(X, y, log_delta, a, nu, tol, max_iter, count=False):
    """Levenberg–Marquardt-damped Newton on the dual Φ, every step moving each z_i by at most ``_MAX_DZ``.

    Returns (ν, ‖Xθ − y‖), and the number of steps taken if ``count``. The damped step
    −(2X(W + μI)Xᵀ)⁻¹F is the trust-region step in z-space: near
    the ℓ1 limit W spans many decades (coordinates off the support have w ~ Δ), and a plain Newton step
    there is huge along the flat directions; μ > 0 turns those into short gradient steps while the
    well-curved directions keep their Newton step. μ grows until the step is short enough and lowers Φ
    (the change of Φ is computed without cancellation, :func:`_dual_change`), then shrinks.
    """
    z, theta, w, _ = _dual_parts(X, y, log_delta, a, nu)
    F = X @ theta - y
    res = float(np.linalg.norm(F))
    mu, iters = 0.0, 0
    for iters in range(max_iter):
        if not res > tol:
            break
        floor = 1e-16 * float(np.max(w))
        for _ in range(120):
            step = _newton_step(X, w + mu, F)
            dz = 2.0 * (X.T @ step)
            ok = np.all(np.isfinite(dz)) and float(np.max(np.abs(dz))) <= _MAX_DZ
            if ok:
                cand = _dual_parts(X, y, log_delta, a, nu + step)
                dphi = _dual_change(log_delta, z, cand[0], step, y)
                res_new = float(np.linalg.norm(X @ cand[1] - y)) if np.all(np.isfinite(cand[1])) else np.inf
                flat = 1e-13 * (float(np.sum(w)) + abs(float(nu @ y)))
                if np.isfinite(dphi) and (dphi <= 1e-4 * float(F @ step) or (dphi <= flat and res_new < res)):
                    break
            mu = max(10.0 * mu, floor)
        else:
            break
        nu = nu + step
        z, theta, w, _ = cand
        F = X @ theta - y
        res = res_new
        mu = 0.0 if mu <= floor else 0.1 * mu
    return (nu, res, iters) if count else (nu, res)


def _polished_primal(X, y, log_delta, a, nu, tol):
    """θ(ν), then Newton steps written on θ: θ + 2W Xᵀ(2XWXᵀ)⁻¹(y − Xθ), W = dθ/dz.

    Near the ℓ1 limit z is O(log 1/Δ), so rounding in z alone leaves ‖Xθ − y‖ ~ 1e-13·log(1/Δ); the
    step moves z by 2Xᵀδν (so the KKT form holds to first order) and is kept only when that is < 1e-6.
    """
    _, theta, w, _ = _dual_parts(X, y, log_delta, a, nu)
    for _ in range(3):
        F = X @ theta - y
        if not np.linalg.norm(F) > tol:
            break
        step = _newton_step(X, w, F)
        dz = 2.0 * (X.T @ step)
        if not (np.all(np.isfinite(dz)) and np.max(np.abs(dz)) < 1e-6):
            break
        cand = theta + w * dz
        if not np.linalg.norm(X @ cand - y) < np.linalg.norm(F):
            break
        theta = cand
    return theta


def _primal(X, delta, theta0, nu):
    return 0.5 * delta * np.sinh(2 * X.T @ nu + kkt_shift(theta0, delta))


def _newton_dual(X, y, delta, theta0, nu, tol, max_iter):
    a0 = kkt_shift(theta0, delta)

    def parts(nu_):
        z = 2 * X.T @ nu_ + a0
        with np.errstate(over="ignore"):
            theta = 0.5 * delta * np.sinh(z)
            phi = float(np.sum(0.25 * delta * np.cosh(z)) - nu_ @ y)
        return z, theta, phi

    z, theta, phi = parts(nu)
    for _ in range(max_iter):
        F = X @ theta - y
        if np.linalg.norm(F) <= tol:
            break
        w = np.sqrt(delta * np.cosh(z))
        A = w[:, None] * X.T
        Q, R = np.linalg.qr(A)
        try:
            step = -np.linalg.solve(R, np.linalg.solve(R.T, F))
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(A.T @ A, F, rcond=None)[0]
        slope = float(F @ step)
        t = 1.0
        improved = False
        for _ in range(60):
            nz, nth, nphi = parts(nu + t * step)
            if np.isfinite(nphi) and np.all(np.isfinite(nth)) and nphi <= phi + 1e-4 * t * slope:
                improved = True
                break
            t *= 0.5
        if not improved:
            # Objective flat to rounding: accept the full step if it lowers the residual.
            nz, nth, nphi = parts(nu + step)
            if not (np.all(np.isfinite(nth)) and np.linalg.norm(X @ nth - y) < np.linalg.norm(F)):
                break
            t = 1.0
        nu = nu + t * step
        z, theta, phi = nz, nth, nphi
    return nu


def min_l1_interpolator(X, y):
    """argmin_{θ ∈ S} ‖θ‖₁ by linear programming, θ = a − b with a, b ≥ 0 (the Δ → 0 limit of Eq. 7)."""
    X, y = check_data(X, y)
    d = X.shape[1]
    res = linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs")
    if res.status == 2:   # infeasible: y is not in the range of X
        theta = np.linalg.lstsq(X, y, rcond=None)[0]
        raise _no_interpolator(X, y, float(np.linalg.norm(X @ theta - y)))
    if res.status != 0:
        raise RuntimeError(f"min_l1_interpolator: linprog failed: {res.message}")
    return res.x[:d] - res.x[d:]


def min_l2_interpolator(X, y, theta0=None):
    """argmin_{θ ∈ S} ‖θ − θ0‖₂ (the Δ → ∞ limit of Eq. 7; gradient flow on least squares)."""
    X, y = check_data(X, y)
    d = X.shape[1]
    theta0 = np.zeros(d) if theta0 is None else check_vector(theta0, "theta0", dim=d)
    theta = theta0 + np.linalg.lstsq(X, y - X @ theta0, rcond=None)[0]
    residual = float(np.linalg.norm(X @ theta - y))
    if not residual <= _interp_slack(y):
        raise _no_interpolator(X, y, residual)
    return theta


@dataclass(frozen=True)
class Prop2Demo:
    """MGF(λ) on least squares from (θ0, θ̇0): limit vs projections of θ0 + λθ̇0 and of θ0 (Prop. 2)."""

    lam: float
    theta_limit: np.ndarray
    predicted: np.ndarray
    gf_projection: np.ndarray
    distance: float
    distance_to_gf_projection: float
    train_loss: float


def prop2_demo(lam=0.5, seed=0, t_end=400.0, speed_scale=1.0):
    """Proposition 2 (Alvarez): MGF(λ) on L(θ) = ‖Xθ−y‖²/2n with θ̇0 ≠ 0 → proj_S(θ0 + λθ̇0)."""
    lam = check_positive(lam, "lam")
    speed_scale, t_end = check_real(speed_scale, "speed_scale"), check_positive(t_end, "t_end")
    ds = sparse_regression(seed=seed)
    X, y = ds.X, ds.y
    n = X.shape[0]
    rng = np.random.default_rng(1000 + seed)
    theta0 = rng.standard_normal(ds.d)
    vel0 = speed_scale * rng.standard_normal(ds.d)
    H = X.T @ X / n
    grad = lambda th: X.T @ (X @ th - y) / n
    with one_blas_thread():
        W = mgf(grad, theta0, lam, np.array([0.0, t_end]), v0=vel0, jac=lambda th: H, rtol=1e-12, atol=1e-14)
    lim = W[-1]
    pred = min_l2_interpolator(X, y, theta0=theta0 + lam * vel0)
    gfp = min_l2_interpolator(X, y, theta0=theta0)
    r = X @ lim - y
    return Prop2Demo(lam=lam, theta_limit=lim, predicted=pred, gf_projection=gfp,
                     distance=float(np.linalg.norm(lim - pred)),
                     distance_to_gf_projection=float(np.linalg.norm(lim - gfp)),
                     train_loss=0.5 * float(r @ r) / n)


def prop3_bound(X, y, delta0):
    """λ bound n·min_i Δ0,i / ‖y‖² below which Δ_t never vanishes (Proposition 3); inf when y = 0."""
    X, y = check_data(X, y)
    delta0 = _check_delta(delta0, X.shape[1], "delta0")
    yy = float(y @ y)
    if yy == 0.0:   # θ = 0 already interpolates y = 0: no λ makes Δ_t vanish
        return float("inf")
    return X.shape[0] * float(np.min(delta0)) / yy


def _trajectory_arrays(trajectory):
    names = ("t", "w_plus", "w_minus", "wdot_plus", "wdot_minus")
    if not all(hasattr(trajectory, k) for k in names):
        raise ValueError("trajectory must have fields t, w_plus, w_minus, wdot_plus, wdot_minus "
                         "(e.g. train_mgf(..., trajectory=True).trajectory)")
    t = check_vector(trajectory.t, "trajectory.t")
    arrs = [check_finite_array(getattr(trajectory, k), f"trajectory.{k}", ndim=2) for k in names[1:]]
    if any(a.shape != arrs[0].shape or a.shape[0] != t.shape[0] for a in arrs):
        raise ValueError("trajectory arrays must all have shape (len(t), d)")
    return t, arrs


def corollary2_delta(trajectory, lam):
    """Δ0 ⊙ exp(−λ∫(ẇ+/w+)² + (ẇ−/w−)² dt) from a dense trajectory (Corollary 2, Eq. 24).

    Valid only when w± never change sign (Δ_t > 0); the integral uses the trapezoidal rule on the
    trajectory's grid (the solver steps refined by dense output).
    """
    lam = check_lam(lam)
    t, (wp, wm, pp, pm) = _trajectory_arrays(trajectory)
    if np.any(wp * wp[0] <= 0) or np.any(wm * wm[0] <= 0):
        raise ValueError("trajectory: w± change sign, Corollary 2 does not apply (Δ_t vanished)")
    h = (pp / wp) ** 2 + (pm / wm) ** 2
    integral = np.trapezoid(h, t, axis=0)
    return np.abs(wp[0] * wm[0]) * np.exp(-lam * integral)


def small_lambda_delta(trajectory, lam, X, y):
    """Small-λ approximation Δ∞ ≈ Δ0 ⊙ exp(−2λ∫∇L(θ_s)² ds) (Appendix C.5), from a trajectory.

    It concerns Δ∞ itself (first power): Corollary 2 sums (ẇ+/w+)² + (ẇ−/w−)², and each term is
    ∇L² + O(λ), hence the factor 2. Section 3.3 states Δ∞² ≈ Δ0² exp(−2λ∫∇L²), i.e. half this exponent.
    """
    lam = check_lam(lam)
    X, y = check_data(X, y)
    t, (wp, wm, _, _) = _trajectory_arrays(trajectory)
    if wp.shape[1] != X.shape[1]:
        raise ValueError(f"trajectory has d = {wp.shape[1]} coordinates but X has {X.shape[1]} columns")
    theta = 0.25 * (wp * wp - wm * wm)
    G = (theta @ X.T - y) @ X / X.shape[0]
    integral = np.trapezoid(G * G, t, axis=0)
    return np.abs(wp[0] * wm[0]) * np.exp(-2.0 * lam * integral)


def normalised_distance(theta, reference):
    """‖θ − θ_ref‖₂ / ‖θ_ref‖₂ (Appendix F.2.1)."""
    theta = check_finite_array(theta, "theta")
    reference = check_finite_array(reference, "reference")
    if theta.shape != reference.shape:
        raise ValueError(f"theta and reference must have the same shape, got {theta.shape}, {reference.shape}")
    nrm = np.linalg.norm(reference, axis=-1)
    if np.any(nrm == 0):
        raise ValueError("reference must be nonzero")
    return np.linalg.norm(theta - reference, axis=-1) / nrm


def kkt_shift(theta_tilde0, delta):
    """a = arcsinh(2θ̃0/Δ): the term θ̃0 adds to the KKT condition arcsinh(2θ/Δ) = 2Xᵀν + a (Theorems 1–2)."""
    theta_tilde0, delta = check_finite_array(theta_tilde0, "theta_tilde0"), check_finite_array(delta, "delta")
    if np.any(delta <= 0):
        raise ValueError("delta must be > 0 on every coordinate")
    try:
        np.broadcast_shapes(theta_tilde0.shape, delta.shape)
    except ValueError:
        raise ValueError(f"theta_tilde0 and delta must have broadcastable shapes, got {theta_tilde0.shape} "
                         f"and {delta.shape}") from None
    a = _arcsinh_ratio(theta_tilde0, delta)
    return a if a.ndim else float(a)


def dropped_term(theta_tilde0, delta):
    """max_i |arcsinh(2θ̃0,i/Δ_i)|: the linear term θ̃0 adds to the KKT condition of Theorems 1–2.

    The full theorems give arcsinh(2θ_i/Δ_i) = 2(Xᵀν)_i + arcsinh(2θ̃0,i/Δ_i); the paper's simplification
    (Eq. 8, θ̃0 ≈ 0) drops the last term. Shared measure for chapters 3 and 4.
    """
    theta_tilde0 = check_vector(np.atleast_1d(theta_tilde0), "theta_tilde0")
    delta = _check_delta(delta, theta_tilde0.shape[0])
    return float(np.max(np.abs(kkt_shift(theta_tilde0, delta))))


def theorem2_predictions(X, y, delta_inf, theta0, theta_hint=None):
    """(full, simplified): argmin_S D_{ψ_Δ∞}(·, θ̃0) (Theorem 2) and argmin_S ψ_Δ∞ (Eq. 10).

    Both come from :func:`mdln.implicit_solution`, whose continuation in log Δ also carries the shift
    a = arcsinh(2θ̃0/Δ) (|a| up to ~250 at β = 0.95). Should the full solve still fail, the same
    continuation follows a_t = t·a at Δ∞ (t: 0 → 1) from the simplified solution's multiplier, and
    finally (if given) a Newton solve starts at the multiplier that best explains ``theta_hint``.
    Whatever the start, the returned point satisfies the KKT form θ = (Δ/2) sinh(2Xᵀν + a), so it is
    the unique minimiser to the accuracy of its residual ‖Xθ − y‖ (checked by the caller).
    """
    X, y = check_data(X, y)
    delta_inf = _check_delta(delta_inf, X.shape[1], "delta_inf")
    theta0 = check_vector(np.atleast_1d(theta0), "theta0", dim=X.shape[1])
    simp = implicit_solution(X, y, delta_inf)
    try:
        full = implicit_solution(X, y, delta_inf, theta0=theta0)
    except ImplicitSolveError:
        full = np.full(X.shape[1], np.nan)
    if _residual(X, y, full) <= PREDICTION_RESIDUAL:
        return full, simp
    log_delta, a0 = np.log(delta_inf), kkt_shift(theta0, delta_inf)
    with np.errstate(all="ignore"):
        nu_simp = np.linalg.lstsq(2 * X.T, _arcsinh_ratio(simp, delta_inf), rcond=None)[0]
        nu = _continuation(X, y, lambda t: (log_delta, t * a0), nu_simp, 1e-13)
        cands = [full, _polished_primal(X, y, log_delta, a0, nu, 1e-13)]
        if not _residual(X, y, cands[1]) <= PREDICTION_RESIDUAL and theta_hint is not None:
            hint = check_vector(theta_hint, "theta_hint", dim=X.shape[1])
            nu = np.linalg.lstsq(2 * X.T, _arcsinh_ratio(hint, delta_inf) - a0, rcond=None)[0]
            nu = _newton_capped(X, y, log_delta, a0, nu, 1e-13, 1000)[0]
            cands.append(_polished_primal(X, y, log_delta, a0, nu, 1e-13))
    return min(cands, key=lambda c: _residual(X, y, c)), simp


def linear_shift(X, theta_simplified, delta_inf, theta0):
    """First-order displacement ‖δθ‖/‖θ_s‖ that the dropped term a = arcsinh(2θ̃0/Δ∞) causes.

    Linearising the KKT condition arcsinh(2θ/Δ) = 2Xᵀν + a about the simplified solution θ_s (a = 0)
    with W = diag(½√(4θ_s² + Δ²)) gives δθ = (I − WXᵀ(XWXᵀ)⁻¹X) W a: the part of Wa that keeps Xθ = y.
    """
    X = check_finite_array(X, "X", ndim=2)
    d = X.shape[1]
    theta_simplified = check_vector(theta_simplified, "theta_simplified", dim=d)
    if not np.any(theta_simplified):
        raise ValueError("theta_simplified must be nonzero (it normalises the shift)")
    delta_inf = _check_delta(delta_inf, d, "delta_inf")
    theta0 = check_vector(np.atleast_1d(theta0), "theta0", dim=d)
    a = kkt_shift(theta0, delta_inf)
    w = 0.5 * np.sqrt(4 * theta_simplified ** 2 + delta_inf ** 2)
    wa = w * a
    M = (X * w) @ X.T
    dth = wa - w * (X.T @ np.linalg.lstsq(M, X @ wa, rcond=None)[0])
    return float(np.linalg.norm(dth) / np.linalg.norm(theta_simplified))
