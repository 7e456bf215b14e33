"""Lemma 1's I± and Lemma 2's S± computed from their own definitions (Sections 3–4, App. A, C.3.2, D.1).

The book's full checks of Theorems 1 and 2 use forms that hold for *any* trajectory (the C.3.1 endpoint
form of I±, the telescoped S±). Here the quantities are formed as the lemmas define them, so comparing
them with those forms tests the theorems:

* Lemma 1: I± = Ω± + Λ±, Ω± = ∫₀^∞ m.p.v.∫₀ᵗ (ẇ±,s/w±,s)² e^{−(t−s)/λ} sgn(w±,t w±,s) ds dt with the
  modified principal value (Eq. 11) at each vanishing time of w±,i, and Λ± of Eq. (19) (the ∇L memory
  term over pairs (s, t) of opposite sign, the parities P± and the pair sums Q±). Near a zero T of
  w±,i the integrand behaves as sgn(x)(1 − x/λ)/x² (x = s − T; ẅ/ẇ = −1/λ at T by Eq. 16); that part
  is integrated in closed form (its m.p.v. over |x| < ρ and, for the outer integral over t, the Cauchy
  principal value that the odd 1/(T − t) singularity of the inner integral needs), the bounded rest by
  Gauss–Legendre quadrature on panels graded towards each zero, on a quintic Hermite interpolant of the
  trajectory (w, ẇ from the run, ẅ from Eq. 16).
* Lemma 2: S± = 1/(1−β) Σ_k [r(w±,k+1/w±,k) + β r(w±,k/w±,k+1)], r(z) = (z − 1) − ln|z|, term by term,
  sign-changing steps (z < 0) included.

Core layer: numpy and scipy only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_beta, check_callable, check_data, check_finite_array, check_gamma, check_positive

__all__ = ["Lemma1Integrals", "lemma1_integrals", "lemma2_sums", "lemma2_sums_telescoped",
           "endpoint_integrals", "momentum_gd_iterates"]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(6)
_GRADING = 10             # panels graded geometrically (halving) towards each zero
_INNER = 2.0 ** -_GRADING  # |x| < INNER·ρ: the bounded rest is its Taylor value (Eq. 16 to third order)


@dataclass(frozen=True)
class Lemma1Integrals:
    """I± = Ω± + Λ± of Lemma 1 / Eq. (19) with their parts, per coordinate, and the vanishing times."""

    i_plus: np.ndarray
    i_minus: np.ndarray
    omega_plus: np.ndarray
    omega_minus: np.ndarray
    lambda_plus: np.ndarray
    lambda_minus: np.ndarray
    parity_plus: np.ndarray
    parity_minus: np.ndarray
    q_plus: np.ndarray
    q_minus: np.ndarray
    zeros_plus: tuple
    zeros_minus: tuple
    consistency: float

    @property
    def n_zeros(self):
        """Number of vanishing times of all w±,i together."""
        return int(sum(len(z) for z in self.zeros_plus + self.zeros_minus))


# --------------------------------------------------------------------------------- input checks
def _check_lam_positive(lam):
    lam = check_positive(lam, "lam")
    if not np.isfinite(lam):
        raise ValueError(f"lam must be finite and > 0 (Lemma 1 needs λ > 0), got {lam!r}")
    return lam


def _trajectory_arrays(trajectory, d):
    """(t, w+, w−, ẇ+, ẇ−) of an MGFTrajectory, checked, with repeated times dropped."""
    names = ("t", "w_plus", "w_minus", "wdot_plus", "wdot_minus")
    if not all(hasattr(trajectory, k) for k in names):
        raise TypeError("trajectory must be an MGFTrajectory (train_mgf(..., trajectory=True).trajectory)")
    t = check_finite_array(trajectory.t, "trajectory.t", ndim=1)
    if t.size < 2 or np.any(np.diff(t) < 0):
        raise ValueError("trajectory.t must hold at least 2 non-decreasing times")
    out = [t]
    for k in names[1:]:
        a = check_finite_array(getattr(trajectory, k), f"trajectory.{k}", ndim=2)
        if a.shape != (t.size, d):
            raise ValueError(f"trajectory.{k} must have shape ({t.size}, {d}) (times × X's columns), "
                             f"got {a.shape}")
        out.append(a)
    keep = np.concatenate([[True], np.diff(t) > 0])
    if keep.sum() < 2:
        raise ValueError("trajectory.t must span a positive time interval")
    return [a[keep] for a in out]


# ------------------------------------------------------------------------ quintic Hermite interpolant
def _quintic_coefficients(t, w, wd, wdd):
    """Per-interval coefficients c0..c5 in τ ∈ [0, 1] of the quintic matching w, ẇ, ẅ at both ends."""
    h = np.diff(t)[:, None]
    p0, p1 = w[:-1], w[1:]
    m0, m1 = wd[:-1] * h, wd[1:] * h
    a0, a1 = wdd[:-1] * h * h, wdd[1:] * h * h
    dp = p1 - p0
    c3 = 10 * dp - 6 * m0 - 4 * m1 - 1.5 * a0 + 0.5 * a1
    c4 = -15 * dp + 8 * m0 + 7 * m1 + 1.5 * a0 - a1
    c5 = 6 * dp - 3 * m0 - 3 * m1 - 0.5 * a0 + 0.5 * a1
    return np.stack([p0, m0, 0.5 * a0, c3, c4, c5])      # (6, m−1, d)


def _evaluate(t, coef, s, columns=None):
    """(w, ẇ) of the interpolant at times s (k,), all columns or the given ones: arrays (k, d')."""
    j = np.clip(np.searchsorted(t, s, side="right") - 1, 0, t.size - 2)
    h = (t[j + 1] - t[j])[:, None]
    tau = ((s - t[j])[:, None]) / h
    c = coef[:, j] if columns is None else coef[:, :, columns][:, j]
    w = c[5]
    dw = 5 * c[5]
    for k in (4, 3, 2, 1, 0):
        w = w * tau + c[k]
        if k > 0:
            dw = dw * tau + k * c[k]
    return w, dw / h


def _zeros(t, coef, w, wd):
    """Vanishing times (sign changes) of each column of w on the interpolant: list of sorted arrays."""
    out = []
    for i in range(w.shape[1]):
        wi, si = w[:, i], np.sign(wd[:, i])
        cand = np.nonzero((wi[:-1] * wi[1:] <= 0) | (si[:-1] * si[1:] < 0))[0]
        found = []
        for j in cand:
            c = coef[:, j, i][::-1]
            for r in np.roots(c) if np.any(c[:-1] != 0) else ():
                if abs(r.imag) > 1e-7 or not -1e-9 <= r.real <= 1 + 1e-9:
                    continue
                tau = min(max(r.real, 0.0), 1.0)
                for _ in range(3):   # Newton polish on the polynomial
                    dp = np.polyval(np.polyder(c), tau)
                    if dp != 0:
                        tau = min(max(tau - np.polyval(c, tau) / dp, 0.0), 1.0)
                found.append(t[j] + tau * (t[j + 1] - t[j]))
        z = np.unique(np.array(found, float))
        z = z[(z > t[0]) & (z < t[-1])]
        if z.size > 1:   # a root on a grid time is found from both sides of it
            z = z[np.concatenate([[True], np.diff(z) > 1e-12 * t[-1]])]
        out.append(_crossings(t, coef, i, z))
    return out


def _crossings(t, coef, i, z):
    """The roots z of column i across which the interpolant changes sign (touches and duplicates dropped)."""
    if z.size == 0:
        return z
    edges = np.concatenate([[t[0]], 0.5 * (z[1:] + z[:-1]), [t[-1]]])
    signs = np.sign(_evaluate(t, coef, edges, [i])[0][:, 0])
    return z[signs[1:] * signs[:-1] < 0]


# --------------------------------------------------------------------------- the analytic parts
def _window_constants(rho, lam):
    """(u, C) of the model sgn(x)(1 − x/λ)/x² on |x| < ρ: its Ω contribution inside the window (outer
    p.v. over t, inner m.p.v. over s, Eq. 11) and C with m.p.v.∫ model·e^{x/λ} dx = C (Appendix A)."""
    e = rho / lam
    u = -4.0 * np.exp(-e) * np.sinh(0.5 * e) ** 2 / e
    C = -2.0 * np.sinh(e) / (e * lam)
    return u, C


def _memory(s, zeros, sign_after, lam, T):
    """V(s) = ∫_s^T σ(t) e^{−(t−s)/λ} dt for one coordinate, σ = sgn(w_t) piecewise constant."""
    ends = np.concatenate([zeros, [T]])
    v_at = np.zeros(ends.size)         # V at each segment end (V(T) = 0), filled backwards
    for k in range(ends.size - 2, -1, -1):
        dt = ends[k + 1] - ends[k]
        v_at[k] = sign_after[k + 1] * lam * -np.expm1(-dt / lam) + np.exp(-dt / lam) * v_at[k + 1]
    seg = np.searchsorted(zeros, s, side="right")      # segment index 0..N
    nxt = ends[seg]
    gap = nxt - s
    return sign_after[seg] * lam * -np.expm1(-gap / lam) + np.exp(-gap / lam) * v_at[seg]


def _panels(t, zeros_all, rhos_all, lam):
    """Panel breakpoints: the grid, every zero, panels graded towards it and λ-spaced around it."""
    pts = [t]
    T = t[-1]
    for T0, rho in zip(zeros_all, rhos_all):
        grade = rho * 2.0 ** -np.arange(_GRADING + 1)
        far = lam * 2.0 ** np.arange(0, 7)
        pts.append(np.concatenate([[T0], T0 - grade, T0 + grade, T0 - far, T0 + far]))
    b = np.unique(np.concatenate(pts))
    return b[(b >= t[0]) & (b <= T)]


def _nodes(breaks):
    """Gauss–Legendre nodes and weights on every panel."""
    a, b = breaks[:-1], breaks[1:]
    half = 0.5 * (b - a)
    s = (0.5 * (a + b))[:, None] + half[:, None] * _GL_NODES[None, :]
    wts = half[:, None] * _GL_WEIGHTS[None, :]
    return s.ravel(), wts.ravel()


def _pair_sum(zeros, lam):
    """Q = −2 Σ_{i<j} (−1)^{j−i} (1 − e^{−(T_j − T_i)/λ}) over one coordinate's vanishing times."""
    q = 0.0
    for i in range(zeros.size):
        for j in range(i + 1, zeros.size):
            q += (-1.0) ** (j - i) * -np.expm1(-(zeros[j] - zeros[i]) / lam)
    return -2.0 * q


# ---------------------------------------------------------------------------------- Lemma 1
def _states(trajectory, lam, X, y):
    X, y = check_data(X, y)
    lam = _check_lam_positive(lam)
    n, d = X.shape
    t, wp, wm, dp, dm = _trajectory_arrays(trajectory, d)
    if np.any(wp[-1] == 0) or np.any(wm[-1] == 0):
        raise ValueError("trajectory: Δ_T has a zero coordinate (Assumption 2 fails), I± is undefined")
    H, b = X.T @ X / n, X.T @ y / n
    g = (0.25 * (wp * wp - wm * wm)) @ H - b                     # ∇L(θ_t) at the grid times
    # ẅ from Eq. (16) where the grid spacing is at most λ; on the long steps of the slow phase that form
    # would multiply the solver's error in ẇ by 1/λ, so there ẅ comes from second-order differences of ẇ
    step = np.maximum(np.diff(t, prepend=t[0]), np.diff(t, append=t[-1]))[:, None]
    ddp = np.where(step <= lam, -(dp + g * wp) / lam, np.gradient(dp, t, axis=0))
    ddm = np.where(step <= lam, -(dm - g * wm) / lam, np.gradient(dm, t, axis=0))
    return X, y, lam, t, (wp, dp, ddp), (wm, dm, ddm), H, b


def _grad_at(cp, cm, t, s, H, b):
    wp, _ = _evaluate(t, cp, s)
    wm, _ = _evaluate(t, cm, s)
    return (0.25 * (wp * wp - wm * wm)) @ H - b


def _one_sign(t, coef, zeros, s, wts, w, wd, g_nodes, g_at, lam, sign, mpv=True, with_lambda=True):
    """(Ω, Λ, P, Q, consistency) for one of w± (sign = +1 or −1), all coordinates; w, ẇ at the nodes s."""
    T = t[-1]
    d = coef.shape[2]
    omega, lam_term = np.zeros(d), np.zeros(d)
    parity, q = np.zeros(d), np.zeros(d)
    worst = 0.0
    decay = -np.expm1(-(T - s) / lam)
    for i in range(d):
        z = zeros[i]
        sig = np.sign(w[:, i])
        w0 = coef[0, 0, i]
        s_first = np.sign(w0)
        sign_after = s_first * (-1.0) ** np.arange(z.size + 1)
        V = _memory(s, z, sign_after, lam, T)
        with np.errstate(divide="ignore", invalid="ignore"):
            R = sig * (wd[:, i] / w[:, i]) ** 2
        extra = 0.0
        for k, T0 in enumerate(z):
            rho = _rho(z, k, T, lam)
            x = s - T0
            inside = np.abs(x) < rho
            sp = sign_after[k + 1]
            model = np.sign(x[inside]) * (1.0 - x[inside] / lam) / x[inside] ** 2
            R[inside] -= sp * model
            tiny = np.abs(x) < _INNER * rho
            gi = g_at[k][i] if g_at is not None else 0.0
            r0 = 5.0 / (12.0 * lam ** 2) - sign * 2.0 * gi / (3.0 * lam)   # Taylor value (Eq. 16)
            R[tiny] = sp * np.sign(x[tiny]) * r0
            u, C = _window_constants(rho, lam)
            if not mpv:   # the plain principal value instead of Eq. (11): C and u without the m.p.v. jump
                C = C + 2.0 / lam
                u = u + _plain_window_shift(rho, lam)
            v_after = float(_memory(np.array([T0 + rho]), z, sign_after, lam, T)[0])
            extra += u + sp * C * np.exp(-rho / lam) * v_after
            # consistency of the interpolant with ẅ/ẇ = −1/λ at the zero (Eq. 16)
            j = min(max(np.searchsorted(t, T0, side="right") - 1, 0), t.size - 2)
            hj = t[j + 1] - t[j]
            c = coef[:, j, i]
            tau = (T0 - t[j]) / hj
            d1 = np.polyval(np.polyder(c[::-1]), tau) / hj
            d2 = np.polyval(np.polyder(c[::-1], 2), tau) / hj ** 2
            worst = max(worst, abs(lam * d2 / d1 + 1.0))
        omega[i] = float(np.sum(wts * R * V)) + extra
        if with_lambda:
            N = 0.5 * (lam * decay - sig * V)      # ∫_s^T 1{w_t w_s < 0} e^{−(t−s)/λ} dt
            lam_term[i] = -sign * 2.0 / lam * float(np.sum(wts * g_nodes[:, i] * N))
        parity[i] = z.size % 2
        q[i] = _pair_sum(z, lam)
    if with_lambda:
        lam_term = lam_term + parity + q
    return omega, lam_term, parity, q, worst


def _plain_window_shift(rho, lam):
    """u(p.v.) − u(m.p.v.): the window's Ω part when Eq. (11)'s factors e^{±δ/λ} are left out."""
    e = rho / lam
    # with the plain p.v. the inner integral gains 2e^{−η}/λ·1{η > 0} (η = x/λ): ∫₀^e 2e^{−η} dη
    return 2.0 * -np.expm1(-e)


def _rho(z, k, T, lam):
    """Half-width of the window around the k-th zero: ≤ λ/2, a third of the gaps to its neighbours."""
    lo = z[k] - (z[k - 1] if k > 0 else 0.0)
    hi = (z[k + 1] if k + 1 < z.size else T) - z[k]
    return min(0.5 * lam, lo / 3.0, hi / 3.0)


def lemma1_integrals(trajectory, lam, X, y, mpv=True, with_lambda=True) -> Lemma1Integrals:
    """I± = Ω± + Λ± from Lemma 1's definition (m.p.v. Eq. 11 at each zero of w±,i, Λ± of Eq. 19).

    ``trajectory`` is ``train_mgf(X, y, lam, trajectory=True).trajectory``; integrals are truncated at its
    last time T. The outer integral of Ω± is a Cauchy principal value at each vanishing time T_k (the
    inner m.p.v. behaves as 1/(T_k − t) there, on both sides), which Lemma 1 writes as a plain ∫.
    ``mpv=False`` (plain principal value) and ``with_lambda=False`` (Λ± dropped) are deliberately wrong
    variants, for showing that the comparison with the endpoint form detects errors.
    """
    X, y, lam, t, P, M, H, b = _states(trajectory, lam, X, y)
    if not isinstance(mpv, (bool, np.bool_)) or not isinstance(with_lambda, (bool, np.bool_)):
        raise TypeError("mpv and with_lambda must be True or False")
    cp = _quintic_coefficients(t, *P)
    cm = _quintic_coefficients(t, *M)
    zp, zm = _zeros(t, cp, P[0], P[1]), _zeros(t, cm, M[0], M[1])
    T = t[-1]
    zeros_all, rhos = [], []
    for zs in (zp, zm):
        for z in zs:
            for k in range(z.size):
                zeros_all.append(z[k])
                rhos.append(_rho(z, k, T, lam))
    s, wts = _nodes(_panels(t, np.array(zeros_all), np.array(rhos), lam))
    at_p, at_m = _evaluate(t, cp, s), _evaluate(t, cm, s)
    g_nodes = (0.25 * (at_p[0] ** 2 - at_m[0] ** 2)) @ H - b
    out = []
    for coef, zs, sign, (w, wd) in ((cp, zp, 1.0, at_p), (cm, zm, -1.0, at_m)):
        g_at = {}
        for i, z in enumerate(zs):
            for k in range(z.size):
                g_at.setdefault(k, {})[i] = float(_grad_at(cp, cm, t, np.array([z[k]]), H, b)[0, i])
        out.append(_one_sign(t, coef, zs, s, wts, w, wd, g_nodes, g_at, lam, sign, mpv=mpv,
                             with_lambda=with_lambda))
    (op, lp, pp, qp, ep), (om, lm, pm, qm, em) = out
    return Lemma1Integrals(i_plus=op + lp, i_minus=om + lm, omega_plus=op, omega_minus=om,
                           lambda_plus=lp, lambda_minus=lm, parity_plus=pp, parity_minus=pm, q_plus=qp,
                           q_minus=qm, zeros_plus=tuple(zp), zeros_minus=tuple(zm),
                           consistency=float(max(ep, em)))


def endpoint_integrals(trajectory, lam, X, y):
    """I± = ln|w±,0/w±,T| ∓ ∫₀ᵀ∇L(θ_s)(1 − e^{−(T−s)/λ}) ds (Appendix C.3.1) by the same quadrature."""
    X, y, lam, t, P, M, H, b = _states(trajectory, lam, X, y)
    cp = _quintic_coefficients(t, *P)
    cm = _quintic_coefficients(t, *M)
    T = t[-1]
    far = T - lam * 2.0 ** np.arange(0, 7)
    breaks = np.unique(np.concatenate([t, far[far > t[0]]]))
    s, wts = _nodes(breaks)
    g = _grad_at(cp, cm, t, s, H, b)
    gi = np.sum((wts * -np.expm1(-(T - s) / lam))[:, None] * g, axis=0)
    wp, wm = P[0], M[0]
    return np.log(np.abs(wp[0] / wp[-1])) - gi, np.log(np.abs(wm[0] / wm[-1])) + gi


# ---------------------------------------------------------------------------------- Lemma 2
def _check_iterates(w, name):
    w = check_finite_array(w, name)
    if w.ndim == 1:
        w = w[:, None]
    if w.ndim != 2 or w.shape[0] < 2:
        raise ValueError(f"{name} must have shape (K, d) with K ≥ 2 iterates (w_1, …, w_K), got {w.shape}")
    if np.any(w == 0):
        raise ValueError(f"{name} has a zero entry: r(z) of Lemma 2 needs w±,k ≠ 0")
    return w


def lemma2_sums(w_plus, w_minus, beta):
    """S± = 1/(1−β) Σ_k [r(w±,k+1/w±,k) + β r(w±,k/w±,k+1)], r(z) = (z−1) − ln|z| (Lemma 2), term by term.

    ``w_plus``, ``w_minus``: the iterates w±,1, …, w±,K, shape (K, d); sums truncated at K.
    """
    beta = check_beta(beta)
    out = []
    for w, name in ((w_plus, "w_plus"), (w_minus, "w_minus")):
        w = _check_iterates(w, name)
        z = w[1:] / w[:-1]
        r = (z - 1.0) - np.log(np.abs(z))
        rinv = (1.0 / z - 1.0) + np.log(np.abs(z))
        out.append(np.sum(r + beta * rinv, axis=0) / (1.0 - beta))
    if out[0].shape != out[1].shape:
        raise ValueError("w_plus and w_minus must have the same shape")
    return out[0], out[1]


def lemma2_sums_telescoped(w_plus, w_minus, beta):
    """S± = [Σ(z − 1) + βΣ(1/z − 1)]/(1 − β) − ln|w±,K/w±,1| (Lemma 2 with Σ ln|z| telescoped)."""
    beta = check_beta(beta)
    out = []
    for w, name in ((w_plus, "w_plus"), (w_minus, "w_minus")):
        w = _check_iterates(w, name)
        z = w[1:] / w[:-1]
        out.append((np.sum(z - 1.0, axis=0) + beta * np.sum(1.0 / z - 1.0, axis=0)) / (1.0 - beta)
                   - np.log(np.abs(w[-1] / w[0])))
    return out[0], out[1]


def momentum_gd_iterates(X, y, gamma, beta, steps, alpha=0.01, batches=None):
    """Iterates (w+, w−) of SMGD (Eq. 9) in (u, v), u_1 = u_0 = α1, v = 0: a plain numpy loop, K = steps+1.

    ``batches``: a callable k ↦ indices of the batch of step k (default: full batch).
    """
    X, y = check_data(X, y)
    gamma = check_gamma(gamma)
    beta = check_beta(beta)
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an integer ≥ 1, got {steps!r}")
    alpha = check_positive(alpha, "alpha")
    if batches is not None:
        check_callable(batches, "batches")
    n, d = X.shape
    u = np.full(d, alpha)
    v = np.zeros(d)
    up, vp = u.copy(), v.copy()
    wp, wm = np.empty((steps + 1, d)), np.empty((steps + 1, d))
    wp[0], wm[0] = u + v, u - v
    for k in range(steps):
        idx = slice(None) if batches is None else batches(k)
        Xb, yb = X[idx], y[idx]
        g = Xb.T @ (Xb @ (u * v) - yb) / Xb.shape[0]
        un = u - gamma * g * v + beta * (u - up)
        vn = v - gamma * g * u + beta * (v - vp)
        up, vp, u, v = u, v, un, vn
        wp[k + 1], wm[k + 1] = u + v, u - v
    return wp, wm
