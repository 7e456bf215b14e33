"""The 2-layer diagonal linear network θ = u⊙v and momentum gradient flow on it (Section 3, Appendix B).

F(u, v) = L(u⊙v) with L(θ) = ‖Xθ − y‖²/(2n) (Eq. 3). In the w± = u ± v coordinates (Appendix B, Eq. 12)
MGF(λ) reads λẅ± + ẇ± ± ∇L(θ)⊙w± = 0, θ = (w+² − w−²)/4 and Δ = |u² − v²| = |w+⊙w−|.
``train_mgf`` integrates that system with an implicit BDF method and an analytic Jacobian (the system is
stiff for small λ: its fast modes relax at rate 1/λ while interpolation takes t ≈ 1e4–1e5).
Discrete-time MGD lives in ``mdln.smgd``; it can import the loss, gradient and balancedness from here.
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from ._bdf import BDF_ALPHA, BDF_CHUNK, BDF_ERRC, BDF_GAMMA, BOUND, EVENT, TOO_SMALL, compile_notice, kernels
from ._checks import check_data, check_finite_array, check_int, check_lam, check_positive, check_vector
from .status import Status

from .momentum import one_blas_thread
from .implicit import perturbed_initialisation   # Theorems 1 and 2 share θ̃0; re-exported here

__all__ = [
    "dln_loss", "dln_grad", "loss_grad", "balancedness", "to_w", "from_w", "theta_from_w",
    "MGFResult", "MGFTrajectory", "train_mgf", "train_gf", "MirrorFlowCheck", "mirror_flow_check",
    "theorem1_integrals", "theorem1_integrals_no_sign_change", "perturbed_initialisation",
    "stacked_dln_grad", "stacked_dln_hess",
]

from ._checks import check_model_args, check_pair   # noqa: E402 - argument checks of the exported helpers


def _model_args(X, y, **vectors):
    """check_model_args (types and shapes) plus a finiteness scan of every array, each error naming it."""
    out = check_model_args(X, y, **vectors)
    for name, arr in zip(("X", "y") + tuple(vectors), out):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return out


def _loss(X, y, u, v):
    r = X @ (u * v) - y
    return 0.5 * float(r @ r) / X.shape[0]


def _grad_uv(X, y, u, v):
    g = X.T @ (X @ (u * v) - y) / X.shape[0]    # ∇L(u⊙v)
    return g * v, g * u


def loss_grad(X, y, theta):
    """∇L(θ) = Xᵀ(Xθ − y)/n of the square loss (Eq. 3)."""
    X, y, theta = _model_args(X, y, theta=theta)
    return X.T @ (X @ theta - y) / X.shape[0]


def dln_loss(X, y, u, v):
    """F(u, v) = L(u⊙v) = ‖X(u⊙v) − y‖²/(2n) (Section 3)."""
    return _loss(*_model_args(X, y, u=u, v=v))


def dln_grad(X, y, u, v):
    """∇F(u, v) = (∇L(θ)⊙v, ∇L(θ)⊙u) with θ = u⊙v (Section 3)."""
    return _grad_uv(*_model_args(X, y, u=u, v=v))


def stacked_dln_grad(X, y):
    """w = (u, v) ↦ ∇F(u, v) as one vector, built on :func:`dln_grad` (Section 3; for ``mdln.mgd``/``mgf``)."""
    X, y = check_data(X, y)
    d = X.shape[1]

    def grad(w):
        gu, gv = _grad_uv(X, y, w[:d], w[d:])
        return np.concatenate([gu, gv])
    return grad


def stacked_dln_hess(X, y):
    """Hessian ∇²F(u, v) of F(u, v) = L(u⊙v) on w = (u, v), for the implicit ODE solver (Section 3)."""
    X, y = check_data(X, y)
    n, d = X.shape
    H = X.T @ X / n

    def hess(w):
        u, v = w[:d], w[d:]
        g = X.T @ (X @ (u * v) - y) / n
        J = np.empty((2 * d, 2 * d))
        J[:d, :d] = v[:, None] * H * v[None, :]
        J[d:, d:] = u[:, None] * H * u[None, :]
        J[:d, d:] = np.diag(g) + v[:, None] * H * u[None, :]
        J[d:, :d] = J[:d, d:].T
        return J
    return hess


def balancedness(u, v):
    """Balancedness Δ = |u² − v²| (coordinate-wise, Section 3)."""
    u, v = check_pair(u, v)
    return np.abs(u * u - v * v)


def to_w(u, v):
    """(w+, w−) = (u + v, u − v) (Appendix B)."""
    u, v = check_pair(u, v)
    return u + v, u - v


def _from_w(w_plus, w_minus):
    return 0.5 * (w_plus + w_minus), 0.5 * (w_plus - w_minus)


def _theta_from_w(w_plus, w_minus):
    return 0.25 * (w_plus * w_plus - w_minus * w_minus)


def from_w(w_plus, w_minus):
    """(u, v) = ((w+ + w−)/2, (w+ − w−)/2) (Appendix B)."""
    return _from_w(*check_pair(w_plus, w_minus, names=("w_plus", "w_minus")))


def theta_from_w(w_plus, w_minus):
    """θ = (w+² − w−²)/4 (Appendix B)."""
    return _theta_from_w(*check_pair(w_plus, w_minus, names=("w_plus", "w_minus")))


@dataclass(frozen=True)
class MGFTrajectory:
    """A dense MGF trajectory in w± coordinates: times ``t`` (m,), ``w_plus`` etc. of shape (m, d)."""

    t: np.ndarray
    w_plus: np.ndarray
    w_minus: np.ndarray
    wdot_plus: np.ndarray
    wdot_minus: np.ndarray

    @property
    def theta(self):
        """θ_t = (w+² − w−²)/4 along the run."""
        return _theta_from_w(self.w_plus, self.w_minus)

    @property
    def delta(self):
        """Δ_t = |w+ w−| along the run."""
        return np.abs(self.w_plus * self.w_minus)


@dataclass(frozen=True)
class MGFResult:
    """Outcome of MGF(λ) on a diagonal linear network (Eq. 4).

    ``status``: CONVERGED (train loss below ``tol``), STEP_CAP (a budget ran out: ``max_steps``, t reached
    ``t_max`` — then ``reached_t_max`` is True — or ``max_seconds``), SOLVER_FAILED (the BDF solver
    could not continue); ``message`` says which and when.
    """

    theta: np.ndarray
    u: np.ndarray
    v: np.ndarray
    delta0: np.ndarray
    delta_inf: np.ndarray
    train_loss: float
    vanished: bool
    sign_changes: np.ndarray
    t: float
    status: Status
    lam: float
    n_steps: int
    trajectory: MGFTrajectory | None = field(default=None, repr=False)
    message: str = ""
    reached_t_max: bool = False

    @property
    def converged(self):
        """True when the train loss went below ``tol``."""
        return self.status == Status.CONVERGED

    @property
    def code(self):
        """The status (a :class:`mdln.status.Status`; kept for callers of the former string status)."""
        return self.status

    def integrals(self, X=None, y=None):
        """(I+, I−) of Lemma 1 / Theorem 1 from the dense trajectory (``train_mgf(..., trajectory=True)``).

        Without X, y: I± = λ∫₀ᵀ(ẇ±/w±)² dt, valid only while w± keep their sign (Appendix C.4). With X, y:
        the sign-change-proof form I± = ln|w±,0/w±,T| ∓ ∫₀ᵀ∇L(θ_s)(1 − e^{−(T−s)/λ}) ds (Appendix C.3.1).
        """
        if self.trajectory is None:
            raise ValueError("trajectory is None: run train_mgf(..., trajectory=True) to get I± and θ̃0")
        if X is None and y is None:
            return theorem1_integrals_no_sign_change(self.trajectory, self.lam)
        if X is None or y is None:
            raise ValueError("X and y must be given together (or both omitted)")
        return theorem1_integrals(self.trajectory, self.lam, X, y)

    def theta_tilde0(self, X=None, y=None):
        """Perturbed initialisation θ̃0 = ¼(w+,0² e^{−2I+} − w−,0² e^{−2I−}) (Theorem 1); I± from ``integrals``."""
        i_plus, i_minus = self.integrals(X, y)
        tr = self.trajectory
        return perturbed_initialisation(tr.w_plus[0], tr.w_minus[0], i_plus, i_minus)

    def theorem1_solution(self, X, y):
        """argmin_{θ∈S} D_{ψ_Δ∞}(θ, θ̃0), the full prediction of Theorem 1 (θ̃0 from the C.3.1 form)."""
        from .implicit import implicit_solution
        return implicit_solution(X, y, self.delta_inf, theta0=self.theta_tilde0(X, y))


def _system(X, y, lam):
    """Right-hand side and Jacobian of Eq. (12) as a first-order system in (w+, w−, ẇ+, ẇ−)."""
    n, d = X.shape
    H = X.T @ X / n
    b = X.T @ y / n
    eye = np.eye(d)
    if lam == 0.0:
        def fun(_t, s):
            wp, wm = s[:d], s[d:]
            g = H @ (0.25 * (wp * wp - wm * wm)) - b
            return np.concatenate([-g * wp, g * wm])

        def jac(_t, s):
            wp, wm = s[:d], s[d:]
            g = H @ (0.25 * (wp * wp - wm * wm)) - b
            J = np.empty((2 * d, 2 * d))
            J[:d, :d] = -(np.diag(g) + 0.5 * wp[:, None] * H * wp[None, :])
            J[:d, d:] = 0.5 * wp[:, None] * H * wm[None, :]
            J[d:, :d] = 0.5 * wm[:, None] * H * wp[None, :]
            J[d:, d:] = np.diag(g) - 0.5 * wm[:, None] * H * wm[None, :]
            return J
        return fun, jac

    inv = 1.0 / lam

    def fun(_t, s):
        wp, wm = s[:d], s[d:2 * d]
        g = H @ (0.25 * (wp * wp - wm * wm)) - b
        out = np.empty(4 * d)
        out[:2 * d] = s[2 * d:]
        np.multiply(g, wp, out=out[2 * d:3 * d])
        np.multiply(g, wm, out=out[3 * d:])
        out[3 * d:] *= -1.0
        out[2 * d:] += s[2 * d:]
        out[2 * d:] *= -inv
        return out

    def jac(_t, s):
        wp, wm = s[:d], s[d:2 * d]
        g = H @ (0.25 * (wp * wp - wm * wm)) - b
        J = np.zeros((4 * d, 4 * d))
        J[:d, 2 * d:3 * d] = eye
        J[d:2 * d, 3 * d:] = eye
        J[2 * d:3 * d, :d] = -(np.diag(g) + 0.5 * wp[:, None] * H * wp[None, :]) * inv
        J[2 * d:3 * d, d:2 * d] = (0.5 * wp[:, None] * H * wm[None, :]) * inv
        J[3 * d:, :d] = (0.5 * wm[:, None] * H * wp[None, :]) * inv
        J[3 * d:, d:2 * d] = (np.diag(g) - 0.5 * wm[:, None] * H * wm[None, :]) * inv
        J[2 * d:3 * d, 2 * d:3 * d] = -eye * inv
        J[3 * d:, 3 * d:] = -eye * inv
        return J
    return fun, jac


def _init(X, y, lam, alpha, u0, v0):
    X, y = check_data(X, y)
    lam = check_lam(lam)
    d = X.shape[1]
    alpha = check_positive(alpha, "alpha")
    if u0 is None:
        u0 = alpha * np.ones(d)
    else:
        u0 = check_vector(u0, "u0", dim=d)
    v0 = np.zeros(d) if v0 is None else check_vector(v0, "v0", dim=d)
    if np.any(u0 * u0 == v0 * v0):
        raise ValueError("u0, v0 must satisfy |u0² − v0²| > 0 on every coordinate (Section 3, footnote 2)")
    return X, y, lam, u0, v0


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _end_of_run(code, s_end, n_steps, max_steps, elapsed, max_seconds, t_max, t_end, tol):
    """(status, message, reached_t_max) after a chunk of BDF steps, or None to go on."""
    if code == EVENT:
        return Status.CONVERGED, f"train loss below tol = {tol:.3g} at t = {t_end:.6g}", False
    if code == BOUND:
        return Status.STEP_CAP, f"t reached t_max = {t_max:.6g} before the train loss went below tol", True
    if code == TOO_SMALL:
        return (Status.SOLVER_FAILED, f"required step size is less than spacing between numbers at "
                f"t = {t_end:.6g}", False)
    if not np.all(np.isfinite(s_end)):
        return Status.SOLVER_FAILED, f"the state is no longer finite at t ≈ {t_end:.6g}", False
    if n_steps >= max_steps:
        return Status.STEP_CAP, f"max_steps = {max_steps} accepted steps reached at t = {t_end:.6g}", False
    if elapsed > max_seconds:
        return (Status.STEP_CAP, f"wall-clock budget max_seconds = {max_seconds:g} s ran out at "
                f"t = {t_end:.6g}", False)
    return None


def train_mgf(X, y, lam, alpha=0.01, u0=None, v0=None, tol=1e-20, t_max=1e7, rtol=1e-8, atol=1e-12,
              trajectory=False, refine=4, max_steps=10 ** 6, max_seconds=600.0):
    """Integrate MGF(λ) (Eq. 4) from (u0, v0) = (α1, 0) with zero speed until L(θ_t) < ``tol``.

    Integrates Eq. (12) in w± coordinates with a compiled variable-order BDF (scipy's algorithm) and the
    analytic Jacobian; a terminal event stops it when the train loss reaches ``tol``. ``vanished`` is
    True when some w±,i changed sign, i.e. Δ_t hit 0: signs are checked at every accepted step and at
    ``refine`` points inside each step of the solver's dense output. ``trajectory=True`` also returns
    the dense trajectory on that refined grid. Budgets end a run with ``Status.STEP_CAP`` and a message
    naming which: ``max_steps`` accepted steps, ``max_seconds`` of wall-clock time (runaway solves,
    e.g. a huge α), or t reaching ``t_max`` (then ``reached_t_max`` is True).

    Without numba, or with the environment variable MDLN_NO_NUMBA=1, the same BDF code runs as plain
    Python (``mdln._bdf.kernels``), far slower. Compiled and Python runs perform the same floating-point
    operations in the same order: on the problems tested (λ from 0 to 1, with and without sign changes)
    they agree bitwise (θ, Δ∞, t, step count, status, sign changes), and the tests require a relative
    difference of at most 1e-12 on θ and Δ∞. The first compiled call of a process whose numba cache is
    cold prints a one-line notice on stderr (about a minute of compilation).
    """
    X, y, lam, u0, v0 = _init(X, y, lam, alpha, u0, v0)
    tol = check_positive(tol, "tol")
    t_max = check_positive(t_max, "t_max")
    rtol = check_positive(rtol, "rtol")
    atol = check_positive(atol, "atol")
    trajectory = _check_bool(trajectory, "trajectory")
    refine = check_int(refine, "refine", minimum=1)
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    max_seconds = check_positive(max_seconds, "max_seconds")
    n, d = X.shape
    wp0, wm0 = to_w(u0, v0)
    s0 = np.concatenate([wp0, wm0] + ([] if lam == 0.0 else [np.zeros(2 * d)]))
    N = s0.size
    H = X.T @ X / n
    bv = X.T @ y / n
    log_tol = np.log(tol) + np.log(0.5)   # stop strictly below tol (the event root is located to rounding)
    compiled = os.environ.get("MDLN_NO_NUMBA") != "1"
    init, chunk_fn = kernels(compiled)
    D, A, LU = np.zeros((8, N)), np.zeros((2 * d, 2 * d)), np.zeros((2 * d, 2 * d))
    piv = np.zeros(2 * d, np.int64)
    fs, ist = np.zeros(5), np.zeros(8, np.int64)
    sgn = np.sign(s0[:2 * d])
    cnt = np.zeros(2 * d, np.int64)
    s_end = s0.copy()
    grid_ts, grid_ss = [np.zeros(1)], [s0[None, :].copy()]
    initial_loss = dln_loss(X, y, u0, v0)
    start = time.perf_counter()
    end = None
    if initial_loss < tol:
        end = (Status.CONVERGED, f"the initial train loss {initial_loss:.3g} is already below tol = {tol:.3g}",
               False)
    else:
        notice = compile_notice() if compiled else contextlib.nullcontext()
        with np.errstate(all="ignore"), one_blas_thread(), notice:
            init(H, bv, lam, s0, d, t_max, rtol, atol, D, A, fs, ist)
            fs[3] = np.log(initial_loss) - log_tol
            while end is None:
                nmax = min(BDF_CHUNK, max_steps - int(ist[2]))
                m = nmax * (refine + 1) if trajectory else 0
                gt, gs = np.zeros(m), np.zeros((m, N))
                ist[7] = 0
                code = chunk_fn(X, y, H, bv, lam, d, rtol, atol, t_max, log_tol, refine, nmax, D, A, LU, piv, fs,
                                ist, sgn, cnt, s_end, gt, gs, BDF_ALPHA, BDF_GAMMA, BDF_ERRC)
                if trajectory:
                    grid_ts.append(gt[:ist[7]])
                    grid_ss.append(gs[:ist[7]])
                end = _end_of_run(code, s_end, int(ist[2]), max_steps, time.perf_counter() - start,
                                  max_seconds, t_max, float(fs[4]), tol)
    status, message, reached_t_max = end
    if not np.all(np.isfinite(s_end)):   # a failed run reports its last finite state
        s_end = D[0] if np.all(np.isfinite(D[0])) else s0
    t_end = float(fs[4]) if ist[2] > 0 else 0.0
    sign_changes = cnt.copy()
    wp, wm = s_end[:d], s_end[d:2 * d]
    u, v = _from_w(wp, wm)
    theta = _theta_from_w(wp, wm)
    traj = None
    if trajectory:
        grid = np.concatenate(grid_ts)
        S = np.concatenate(grid_ss).T
        if lam == 0.0:
            G = H @ _theta_from_w(S[:d], S[d:]) - bv[:, None]
            pp, pm = -G * S[:d], G * S[d:]
        else:
            pp, pm = S[2 * d:3 * d], S[3 * d:]
        traj = MGFTrajectory(t=grid, w_plus=S[:d].T.copy(), w_minus=S[d:2 * d].T.copy(),
                             wdot_plus=np.asarray(pp).T.copy(), wdot_minus=np.asarray(pm).T.copy())
    return MGFResult(theta=theta, u=u, v=v, delta0=np.abs(wp0 * wm0), delta_inf=np.abs(wp * wm),
                     train_loss=_loss(X, y, u, v), vanished=bool(np.any(sign_changes > 0)),
                     sign_changes=sign_changes, t=t_end, status=status, lam=lam,
                     n_steps=int(ist[2]), trajectory=traj, message=message, reached_t_max=reached_t_max)


def train_gf(X, y, alpha=0.01, u0=None, v0=None, tol=1e-20, t_max=1e7, **kwargs):
    """Gradient flow on the diagonal network: MGF(0) (Section 3.1)."""
    return train_mgf(X, y, 0.0, alpha=alpha, u0=u0, v0=v0, tol=tol, t_max=t_max, **kwargs)


@dataclass(frozen=True)
class MirrorFlowCheck:
    """ξ_t = ∇Φ_t(θ_t) along an MGF run and its relative distance to span(x_1..x_n) (Proposition 4)."""

    t: np.ndarray
    xi: np.ndarray
    span_distance: np.ndarray
    max_relative_distance: float
    identity_error: float
    uncorrected_relative_distance: float
    status: Status
    message: str = ""


def mirror_flow_check(X, y, lam, t_eval, alpha=0.01, u0=None, v0=None, rtol=1e-12, atol=1e-14):
    """Check Proposition 4 along MGF(λ) while w± keep their sign (Appendix C.2, C.4).

    With ρ± = ln|w±| and h± = (ẇ±/w±)², integrating λρ̈ + λρ̇² + ρ̇ ± ∇L = 0 gives
    ξ_t := ∇ψ_{Δt}(θ_t) − φ_t = −∫₀ᵗ ∇L(θ_s)(1 − e^{−(t−s)/λ}) ds, where ∇ψ_{Δt}(θ_t) = ½ ln|w+/w−|
    and φ_t = ½ ln|w+,0/w−,0| − (λ/2)∫₀ᵗ (h+ − h−)(1 − e^{−(t−s)/λ}) ds. The integrals are carried as
    extra ODE states; ξ_t is computed from the weights and φ_t only, then projected on span(x_i).
    ``identity_error`` is max ‖ξ_t + ∫∇L(1 − e^{−(t−s)/λ})‖/‖ξ_t‖ (the integrated Prop. 4 identity).
    """
    X, y, lam, u0, v0 = _init(X, y, lam, alpha, u0, v0)
    if lam == 0.0:
        raise ValueError("lam must be > 0 for the momentum mirror flow check (use lam > 0)")
    t_eval = check_vector(np.atleast_1d(check_finite_array(t_eval, "t_eval")), "t_eval")
    if t_eval[0] < 0 or np.any(np.diff(t_eval) <= 0):
        raise ValueError("t_eval must be increasing times >= 0")
    rtol = check_positive(rtol, "rtol")
    atol = check_positive(atol, "atol")
    n, d = X.shape
    base_fun, base_jac = _system(X, y, lam)
    inv = 1.0 / lam
    H = X.T @ X / n
    b = X.T @ y / n
    # Extra states: E (∫k(1−e)), B (∫k e), G (∫∇L), C (∫∇L e), k = h+ − h−.
    D = 4 * d

    def fun(t, s):
        base = base_fun(t, s[:D])
        wp, wm, pp, pm = s[:d], s[d:2 * d], s[2 * d:3 * d], s[3 * d:D]
        B, C = s[D + d:D + 2 * d], s[D + 3 * d:D + 4 * d]
        k = (pp / wp) ** 2 - (pm / wm) ** 2
        g = H @ (0.25 * (wp * wp - wm * wm)) - b
        return np.concatenate([base, B * inv, k - B * inv, g, g - C * inv])

    def jac(t, s):
        J = np.zeros((D + 4 * d, D + 4 * d))
        J[:D, :D] = base_jac(t, s[:D])
        wp, wm, pp, pm = s[:d], s[d:2 * d], s[2 * d:3 * d], s[3 * d:D]
        i = np.arange(d)
        J[D + i, D + d + i] = inv
        rB = D + d + i
        J[rB, i] = -2 * pp ** 2 / wp ** 3
        J[rB, d + i] = 2 * pm ** 2 / wm ** 3
        J[rB, 2 * d + i] = 2 * pp / wp ** 2
        J[rB, 3 * d + i] = -2 * pm / wm ** 2
        J[rB, D + d + i] = -inv
        dg = np.concatenate([0.5 * H * wp[None, :], -0.5 * H * wm[None, :]], axis=1)
        J[D + 2 * d:D + 3 * d, :2 * d] = dg
        J[D + 3 * d:, :2 * d] = dg
        J[D + 3 * d + i, D + 3 * d + i] = -inv
        J[np.abs(J) < 1e-150] = 0.0   # subnormal entries make the LU factorisation ~100x slower
        return J

    wp0, wm0 = to_w(u0, v0)

    sign0 = np.sign(np.concatenate([wp0, wm0]))

    def crossing(_t, s):
        return float(np.min(sign0 * s[:2 * d]))
    crossing.terminal = True
    crossing.direction = -1
    s0 = np.concatenate([wp0, wm0, np.zeros(2 * d), np.zeros(4 * d)])
    with one_blas_thread():
        sol = solve_ivp(fun, (0.0, float(t_eval[-1])), s0, method="BDF", jac=jac, t_eval=t_eval, rtol=rtol,
                        atol=atol, events=crossing, dense_output=True)
    status, message = _mirror_status(sol, sign0, 2 * d)
    S = sol.y
    wp, wm = S[:d], S[d:2 * d]
    E, G, C = S[D:D + d], S[D + 2 * d:D + 3 * d], S[D + 3 * d:]
    grad_psi = 0.5 * np.log(np.abs(wp / wm))
    phi = 0.5 * np.log(np.abs(wp0 / wm0))[:, None] - 0.5 * lam * E
    xi = (grad_psi - phi).T
    Q, _ = np.linalg.qr(X.T)
    resid = xi - (xi @ Q) @ Q.T
    norms = np.linalg.norm(xi, axis=1)
    dist = np.linalg.norm(resid, axis=1)
    mask = norms > 0
    rel = float(np.max(dist[mask] / norms[mask])) if np.any(mask) else 0.0
    integrated = -(G - C).T
    ident = float(np.max(np.linalg.norm(xi - integrated, axis=1)[mask] / norms[mask])) if np.any(mask) else 0.0
    # Control: without the perturbation φ_t, ∇ψ_{Δt}(θ_t) alone is not in the span.
    gp = grad_psi.T
    gres = np.linalg.norm(gp - (gp @ Q) @ Q.T, axis=1)
    gn = np.linalg.norm(gp, axis=1)
    unc = float(np.max(gres[gn > 0] / gn[gn > 0])) if np.any(gn > 0) else 0.0
    return MirrorFlowCheck(t=sol.t, xi=xi, span_distance=dist, max_relative_distance=rel,
                           identity_error=ident, uncorrected_relative_distance=unc, status=status,
                           message=message)


def _mirror_status(sol, sign0, m):
    """(Status, message) of the mirror-flow solve: CONVERGED to the last time, SIGN_CHANGE, SOLVER_FAILED.

    Near a zero of w±,i the integrand (ẇ±/w±)² of the extra states is singular, so the solver usually
    gives up just before the crossing event: a failure where some w±,i has shrunk below 1e-3 of its
    start (while moving towards 0) is reported as the sign change it is.
    """
    if sol.status == 0:
        return Status.CONVERGED, f"integrated to t = {sol.t[-1]:.6g} with every w± keeping its sign"
    if sol.status == 1:
        return Status.SIGN_CHANGE, f"some w±,i reached 0 at t = {sol.t_events[0][0]:.6g} (Δ_t vanished)"
    if sol.sol is not None:
        t_fail = float(sol.sol.t_max)
        s = sol.sol(t_fail)
        ratio = sign0 * s[:m] / np.abs(sol.sol(0.0)[:m])
        if np.all(np.isfinite(ratio)) and np.min(ratio) < 1e-3:
            return (Status.SIGN_CHANGE, f"some w±,i shrank to {np.min(ratio):.1e} of its start by t = "
                    f"{t_fail:.6g}, where the solver stopped ({sol.message}): Δ_t vanishes there")
    return Status.SOLVER_FAILED, str(sol.message)


# ------------------------------------------------------------------ Theorem 1 in full: I± and θ̃0
def _check_trajectory(trajectory):
    names = ("t", "w_plus", "w_minus", "wdot_plus", "wdot_minus")
    if not all(hasattr(trajectory, k) for k in names):
        raise ValueError("trajectory must be an MGFTrajectory (train_mgf(..., trajectory=True).trajectory)")
    t = check_finite_array(trajectory.t, "trajectory.t", ndim=1)
    if t.size < 2 or np.any(np.diff(t) < 0):
        raise ValueError("trajectory.t must hold at least 2 non-decreasing times")
    for k in names[1:]:
        a = check_finite_array(getattr(trajectory, k), f"trajectory.{k}", ndim=2)
        if a.shape[0] != t.size:
            raise ValueError(f"trajectory.{k} must have {t.size} rows (one per time), got shape {a.shape}")
    return t


def theorem1_integrals_no_sign_change(trajectory, lam):
    """I± = λ∫₀ᵀ (ẇ±,t/w±,t)² dt (Lemma 1 with Λ± = 0 and sgn ≡ 1, Appendix C.4), trapezoidal rule.

    Swapping the integrals of Ω± (∫_s^∞ e^{−(t−s)/λ} dt = λ) gives this single trajectory integral; it
    is valid only when no w±,i changes sign (Δ_t > 0), otherwise ValueError.
    """
    lam = check_lam(lam)
    t = _check_trajectory(trajectory)
    wp, wm = np.asarray(trajectory.w_plus), np.asarray(trajectory.w_minus)
    if np.any(wp * wp[0] <= 0) or np.any(wm * wm[0] <= 0):
        raise ValueError("trajectory: some w± changes sign (Δ_t vanished); use theorem1_integrals(…, X, y)")
    i_plus = lam * np.trapezoid((np.asarray(trajectory.wdot_plus) / wp) ** 2, t, axis=0)
    i_minus = lam * np.trapezoid((np.asarray(trajectory.wdot_minus) / wm) ** 2, t, axis=0)
    return i_plus, i_minus


def theorem1_integrals(trajectory, lam, X, y):
    """I± = ln|w±,0 / w±,T| ∓ ∫₀ᵀ ∇L(θ_s)(1 − e^{−(T−s)/λ}) ds, i.e. w±,0² e^{−2I±} = α±,T² (App. C.3.1).

    α±,t = w±,t exp(∓ξ_t) with ξ_t = −∫₀ᵗ∇L(θ_s)(1 − e^{−(t−s)/λ}) ds; Theorem 1 defines I± through
    α±,∞² = w±,0² e^{−2I±}. This form holds with or without sign changes (it only needs w±,T ≠ 0, i.e.
    Δ_T > 0); the integral uses the trapezoidal rule on the dense trajectory, truncated at its last time T.
    """
    lam = check_lam(lam)
    X, y = check_data(X, y)
    t = _check_trajectory(trajectory)
    wp, wm = np.asarray(trajectory.w_plus), np.asarray(trajectory.w_minus)
    if wp.shape[1] != X.shape[1]:
        raise ValueError(f"X must have {wp.shape[1]} columns (the trajectory's dimension), got {X.shape[1]}")
    if np.any(wp[-1] == 0) or np.any(wm[-1] == 0):
        raise ValueError("trajectory: Δ_T has a zero coordinate (Assumption 2 fails), I± is undefined")
    grad = (_theta_from_w(wp, wm) @ X.T - y) @ X / X.shape[0]
    weight = 1.0 - np.exp(-(t[-1] - t) / lam) if lam > 0 else np.ones_like(t)
    g_int = np.trapezoid(grad * weight[:, None], t, axis=0)
    i_plus = np.log(np.abs(wp[0] / wp[-1])) - g_int
    i_minus = np.log(np.abs(wm[0] / wm[-1])) + g_int
    return i_plus, i_minus
