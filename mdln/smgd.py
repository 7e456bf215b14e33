"""(Stochastic) momentum gradient descent on a 2-layer diagonal linear network (Section 4, Appendix D).

SMGD(γ, β), Eq. (9):  u_{k+1} = u_k − γ∇L_{B_k}(θ_k)⊙v_k + β(u_k − u_{k−1}),
                      v_{k+1} = v_k − γ∇L_{B_k}(θ_k)⊙u_k + β(v_k − v_{k−1}),   θ_k = u_k⊙v_k,
started at u_1 = u_0 = α1, v_1 = v_0 = 0.  In the w± = u ± v form (Eq. 13) each coordinate of w± is
multiplied by a scalar at every step, and Lemma 2's sums

    S± = 1/(1−β) Σ_k [ r(w±,k+1 / w±,k) + β r(w±,k / w±,k+1) ],   r(z) = (z − 1) − ln|z|,

give the asymptotic balancedness of Theorem 2:  Δ∞ = Δ0 ⊙ exp(−(S+ + S−)).

Conventions (used identically by :func:`train_mgd` and :func:`mdln.mgd_sweep`):

* a *step* is one update of Eq. (9) (one mini-batch); ``steps`` counts updates, so the returned
  iterate is θ after ``steps`` updates of (u_1, v_1) = (u_0, v_0);
* an *epoch* is ⌈n/B⌉ steps; without replacement (default) each epoch draws a fresh random
  permutation of [n] and cuts it into ⌈n/B⌉ consecutive batches (the last one smaller when B ∤ n);
  with replacement every step draws an independent uniformly random B-subset of [n];
  full batch (``batch_size=None`` or n) makes steps and epochs coincide and uses no randomness;
* the stopping test "full training loss L(θ_k) < tol" is evaluated at every epoch boundary
  (k a multiple of ⌈n/B⌉); the divergence test (L(θ_k) non-finite or > 1e12·(1 + L(θ_0))) at every
  step, and a diverged run reports the last iterate whose loss was finite (never NaN);
* an update with max_i |γ g_i| ≥ 2^52 (g the mini-batch gradient) is divergent too: it multiplies
  some w± = u ± v by more than 1/eps, so the w± form of the sweep engine can no longer represent the
  iterate (u is lost to rounding); every engine then drops that iterate like an overflowed one;
* ``seed`` is an integer in [0, 2^64) (the SplitMix64 state);
* batches come from a SplitMix64 stream seeded by ``seed``, so a sweep member and
  ``train_mgd`` with the same seed see the same batches.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_beta, check_data, check_gamma, check_int, check_positive

try:  # optional compiled kernels; every kernel has a pure-numpy twin giving the same numbers
    import numba as _numba
except ImportError:  # pragma: no cover - exercised by the fallback tests via engine="numpy"
    _numba = None

__all__ = ["MGDResult", "MGDTrajectory", "train_mgd", "lemma2_r", "STATUS_NAMES", "have_numba"]

STATUS_NAMES = ("converged", "max_steps", "diverged")
_CONVERGED, _MAX_STEPS, _DIVERGED = 0, 1, 2
DIVERGENCE_FACTOR = 1e12
UNREPRESENTABLE = 2.0 ** 52    # max |γ g_i| of an update beyond which its iterate is dropped as diverged
_M64 = (1 << 64) - 1
_GOLDEN, _MIX1, _MIX2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def have_numba():
    """True when the compiled (numba) kernels are available and not disabled by MDLN_NO_NUMBA=1."""
    return _numba is not None and os.environ.get("MDLN_NO_NUMBA") != "1"


def _resolve_engine(engine):
    if engine not in ("auto", "numba", "numpy"):
        raise ValueError(f"engine must be 'auto', 'numba' or 'numpy', got {engine!r}")
    if engine == "numba" and _numba is None:
        raise ValueError("engine='numba' needs the numba package; use engine='numpy' or 'auto'")
    if engine == "auto":
        return "numba" if have_numba() else "numpy"
    return engine


def lemma2_r(z):
    """r(z) = (z − 1) − ln|z| of Lemma 2 (positive for z > 0, z ≠ 1)."""
    z = np.asarray(z, dtype=float)
    return (z - 1.0) - np.log(np.abs(z))


@dataclass(frozen=True)
class MGDTrajectory:
    """Iterates of one SMGD run recorded at (log-spaced) steps: loss, Δ_k and θ_k."""

    steps: np.ndarray
    train_loss: np.ndarray
    delta: np.ndarray
    theta: np.ndarray


@dataclass(frozen=True)
class MGDResult:
    """Outcome of SMGD(γ, β) (Eq. 9): final weights, Δ∞ (= Δ_K), Lemma 2 sums S± up to K, status."""

    theta: np.ndarray
    u: np.ndarray
    v: np.ndarray
    delta_inf: np.ndarray
    S_plus: np.ndarray
    S_minus: np.ndarray
    crossed: bool
    steps: int
    epochs: float
    train_loss: float
    status: str
    gamma: float
    beta: float
    alpha: float
    batch_size: int
    boundary: np.ndarray = field(default=None, repr=False)
    trajectory: MGDTrajectory | None = field(default=None, repr=False)

    @property
    def lam(self):
        """λ = γ/(1−β)² (Proposition 1)."""
        return self.gamma / (1.0 - self.beta) ** 2

    @property
    def delta0(self):
        """Initial balancedness Δ0 = |u0² − v0²| = α² (u0 = α1, v0 = 0)."""
        return np.full_like(self.theta, self.alpha ** 2)

    def theorem2_delta(self, finite=False):
        """Δ0 ⊙ exp(−(S+ + S−)) (Theorem 2); ``finite=True`` adds the exact finite-K boundary term."""
        expo = self.S_plus + self.S_minus - (self.boundary if finite else 0.0)
        return self.delta0 * np.exp(-expo)

    def theorem2_error(self, finite=False):
        """max_i |Δ_K − Δ0 exp(−(S+ + S−))| / max(Δ_K, prediction) (Theorem 2 check at the final step K).

        At finite K the two sides differ exactly by a factor exp(b), b = β/(1−β) Σ± (w±,K−1 − w±,K)/w±,K
        (``boundary``), which vanishes as the iterates converge; ``finite=True`` includes it.
        """
        pred = self.theorem2_delta(finite)
        den = np.maximum(self.delta_inf, pred)
        with np.errstate(all="ignore"):
            rel = np.where(den > 0, np.abs(self.delta_inf - pred) / den, 0.0)
        return float(np.max(rel))

    def theta_tilde0(self):
        """Perturbed initialisation θ̃0 = ¼(w+,0² e^{−2S+} − w−,0² e^{−2S−}) (Theorem 2)."""
        w0 = self.alpha  # w±,0 = u0 ± v0 = α1
        return 0.25 * (w0 ** 2 * np.exp(-2 * self.S_plus) - w0 ** 2 * np.exp(-2 * self.S_minus))


# --------------------------------------------------------------------------- random batches
def _splitmix_py(s):
    """SplitMix64 on Python ints: (new state, uniform in [0, 1) with 53 bits)."""
    s = (s + _GOLDEN) & _M64
    z = s
    z = ((z ^ (z >> 30)) * _MIX1) & _M64
    z = ((z ^ (z >> 27)) * _MIX2) & _M64
    z = z ^ (z >> 31)
    return s, (z >> 11) * 2.0 ** -53


def _shuffle_py(s, perm):
    """Fisher–Yates shuffle of perm in place with the SplitMix64 stream; returns the new state."""
    for i in range(len(perm) - 1, 0, -1):
        s, u = _splitmix_py(s)
        j = int(u * (i + 1))
        perm[i], perm[j] = perm[j], perm[i]
    return s


def _subset_py(s, perm, b):
    """Uniform b-subset: partial Fisher–Yates on the identity, result in perm[:b]; returns the state."""
    n = len(perm)
    for i in range(n):
        perm[i] = i
    for i in range(b):
        s, u = _splitmix_py(s)
        j = i + int(u * (n - i))
        perm[i], perm[j] = perm[j], perm[i]
    return s


class _PyBatches:
    """Batch index stream of the conventions above (pure Python)."""

    def __init__(self, n, batch_size, replace, seed):
        self.n, self.b, self.replace = n, batch_size, replace
        self.s = seed & _M64
        self.perm = list(range(n))
        self.spe = -(-n // batch_size)

    def batch(self, k):
        """Indices of the batch used by step k (k = 0, 1, ... within the run)."""
        if self.replace:
            self.s = _subset_py(self.s, self.perm, self.b)
            return np.array(self.perm[:self.b])
        pos = k % self.spe
        if pos == 0:
            self.perm = list(range(self.n))
            self.s = _shuffle_py(self.s, self.perm)
        return np.array(self.perm[pos * self.b:min((pos + 1) * self.b, self.n)])


if _numba is not None:
    _u64 = _numba.uint64

    @_numba.njit(cache=True, error_model="numpy", inline="always")
    def _splitmix_nb(s):
        s = s + _u64(_GOLDEN)
        z = s
        z = (z ^ (z >> _u64(30))) * _u64(_MIX1)
        z = (z ^ (z >> _u64(27))) * _u64(_MIX2)
        z = z ^ (z >> _u64(31))
        return s, np.float64(z >> _u64(11)) * 1.1102230246251565e-16

    @_numba.njit(cache=True, error_model="numpy", inline="always")
    def _next_batch_nb(s, perm, k, n, b, spe, replace):
        """Refill perm for step k; returns (state, start, stop) of the batch inside perm."""
        if replace:
            for i in range(n):
                perm[i] = i
            for i in range(b):
                s, u = _splitmix_nb(s)
                j = i + np.int64(u * (n - i))
                t = perm[i]
                perm[i] = perm[j]
                perm[j] = t
            return s, 0, b
        pos = k % spe
        if pos == 0:
            for i in range(n):
                perm[i] = i
            for i in range(n - 1, 0, -1):
                s, u = _splitmix_nb(s)
                j = np.int64(u * (i + 1))
                t = perm[i]
                perm[i] = perm[j]
                perm[j] = t
        return s, pos * b, min((pos + 1) * b, n)

    @_numba.njit(cache=True, error_model="numpy")
    def _train_uv_nb(X, y, gamma, beta, alpha, b, replace, seed, max_steps, tol, rec_steps,
                     rec_loss, rec_delta, rec_theta):
        """Eq. (9) in the (u, v) form with Lemma 2's sums accumulated term by term (compiled)."""
        n, d = X.shape
        spe = (n + b - 1) // b
        full = b == n
        s = _u64(seed)
        perm = np.arange(n)
        u = np.full(d, alpha)
        v = np.zeros(d)
        up = u.copy()
        vp = v.copy()
        acc_p = np.zeros(d)
        acc_m = np.zeros(d)
        pend_p = np.zeros(d)
        pend_m = np.zeros(d)
        crossed = False
        pend_crossed = False
        lost = False
        nrec = rec_steps.shape[0]
        ir = 0
        status = 1
        k = 0
        loss0 = -1.0
        loss = 0.0
        while True:
            theta = u * v
            res = X @ theta - y
            loss = 0.5 * (res @ res) / n
            if loss0 < 0.0:
                loss0 = loss
            if lost or not (np.isfinite(loss) and loss <= 1e12 * (1.0 + loss0)):
                status = 2
                if lost or not np.isfinite(loss):
                    u = up
                    v = vp
                    theta = u * v
                    r2 = X @ theta - y
                    loss = 0.5 * (r2 @ r2) / n
                    if not np.isfinite(loss):
                        loss = 1e300
                else:
                    acc_p += pend_p
                    acc_m += pend_m
                    crossed = crossed or pend_crossed
                break
            acc_p += pend_p
            acc_m += pend_m
            crossed = crossed or pend_crossed
            while ir < nrec and rec_steps[ir] <= k:
                rec_loss[ir] = loss
                rec_delta[ir] = np.abs(u * u - v * v)
                rec_theta[ir] = theta
                ir += 1
            if k % spe == 0 and loss < tol:
                status = 0
                break
            if k >= max_steps:
                status = 1
                break
            if full:
                g = X.T @ res / n
            else:
                s, i0, i1 = _next_batch_nb(s, perm, k, n, b, spe, replace)
                idx = perm[i0:i1]
                g = X[idx].T @ res[idx] / (i1 - i0)
            lost = np.max(np.abs(gamma * g)) >= 4503599627370496.0   # UNREPRESENTABLE
            un = u - gamma * g * v + beta * (u - up)
            vn = v - gamma * g * u + beta * (v - vp)
            zp = (un + vn) / (u + v)
            zm = (un - vn) / (u - v)
            pend_p = (zp - 1.0) - np.log(np.abs(zp)) + beta * ((1.0 / zp - 1.0) + np.log(np.abs(zp)))
            pend_m = (zm - 1.0) - np.log(np.abs(zm)) + beta * ((1.0 / zm - 1.0) + np.log(np.abs(zm)))
            pend_crossed = bool(np.any(zp < 0.0) or np.any(zm < 0.0))
            up = u
            vp = v
            u = un
            v = vn
            k += 1
        return u, v, up, vp, acc_p, acc_m, crossed, k, loss, status, ir


def _train_uv_py(X, y, gamma, beta, alpha, b, replace, seed, max_steps, tol, rec_steps,
                 rec_loss, rec_delta, rec_theta):
    """Eq. (9) in the (u, v) form with Lemma 2's sums accumulated term by term (pure numpy twin)."""
    n, d = X.shape
    spe = -(-n // b)
    full = b == n
    batches = _PyBatches(n, b, replace, seed)
    u = np.full(d, alpha)
    v = np.zeros(d)
    up, vp = u.copy(), v.copy()
    acc_p, acc_m = np.zeros(d), np.zeros(d)
    pend_p, pend_m = np.zeros(d), np.zeros(d)
    crossed = pend_crossed = lost = False
    ir, nrec = 0, len(rec_steps)
    k, loss0 = 0, None
    with np.errstate(all="ignore"):
        while True:
            theta = u * v
            res = X @ theta - y
            loss = 0.5 * float(res @ res) / n
            if loss0 is None:
                loss0 = loss
            if lost or not (np.isfinite(loss) and loss <= DIVERGENCE_FACTOR * (1.0 + loss0)):
                status = _DIVERGED
                if lost or not np.isfinite(loss):
                    u, v = up, vp
                    r2 = X @ (u * v) - y
                    loss = 0.5 * float(r2 @ r2) / n
                    loss = loss if np.isfinite(loss) else 1e300
                else:
                    acc_p += pend_p
                    acc_m += pend_m
                    crossed = crossed or pend_crossed
                break
            acc_p += pend_p
            acc_m += pend_m
            crossed = crossed or pend_crossed
            while ir < nrec and rec_steps[ir] <= k:
                rec_loss[ir] = loss
                rec_delta[ir] = np.abs(u * u - v * v)
                rec_theta[ir] = theta
                ir += 1
            if k % spe == 0 and loss < tol:
                status = _CONVERGED
                break
            if k >= max_steps:
                status = _MAX_STEPS
                break
            if full:
                g = X.T @ res / n
            else:
                idx = batches.batch(k)
                g = X[idx].T @ res[idx] / len(idx)
            lost = bool(np.max(np.abs(gamma * g)) >= UNREPRESENTABLE)
            un = u - gamma * g * v + beta * (u - up)
            vn = v - gamma * g * u + beta * (v - vp)
            zp = (un + vn) / (u + v)
            zm = (un - vn) / (u - v)
            pend_p = lemma2_r(zp) + beta * lemma2_r(1.0 / zp)
            pend_m = lemma2_r(zm) + beta * lemma2_r(1.0 / zm)
            pend_crossed = bool(np.any(zp < 0.0) or np.any(zm < 0.0))
            up, vp, u, v = u, v, un, vn
            k += 1
    return u, v, up, vp, acc_p, acc_m, crossed, k, loss, status, ir


def _check_seed(seed, name="seed"):
    """A batch seed: an integer in [0, 2^64) (the SplitMix64 state), the same for every engine."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= _M64:
        raise ValueError(f"{name} must be an integer in [0, 2**64 - 1], got {seed!r}")
    return int(seed)


def _check_batch(batch_size, n):
    if batch_size is None:
        return n
    b = check_int(batch_size, "batch_size", minimum=1)
    if b > n:
        raise ValueError(f"batch_size must lie in [1, n={n}] (or be None for full batch), got {b}")
    return b


def _record_steps(record, max_steps):
    record = check_int(record, "record", minimum=0)
    if record == 0:
        return np.zeros(0, dtype=np.int64)
    pts = np.unique(np.round(np.geomspace(1, max_steps + 1, record)).astype(np.int64) - 1)
    return pts


def train_mgd(X, y, gamma, beta, alpha=0.01, batch_size=None, seed=0, max_steps=10 ** 6, tol=1e-8,
              replace=False, record=0, engine="auto"):
    """Run SMGD(γ, β) of Eq. (9) from u_1 = u_0 = α1, v_1 = v_0 = 0 with Lemma 2's S± (Theorem 2).

    ``max_steps`` counts updates (mini-batch steps; one epoch is ⌈n/B⌉ steps), ``tol`` is the full
    training loss at which the run stops (tested at epoch boundaries), ``replace`` samples batches
    with replacement, ``record > 0`` keeps that many log-spaced iterates in ``.trajectory``, and
    ``engine`` picks the compiled ('numba') or the pure-numpy kernel ('auto': numba when present).
    """
    X, y = check_data(X, y)
    gamma = check_gamma(gamma)
    beta = check_beta(beta)
    alpha = check_positive(alpha, "alpha")
    n, d = X.shape
    b = _check_batch(batch_size, n)
    seed = _check_seed(seed)
    max_steps = check_int(max_steps, "max_steps", minimum=0)
    tol = check_positive(tol, "tol")
    if not isinstance(replace, (bool, np.bool_)):
        raise ValueError(f"replace must be True or False, got {replace!r}")
    engine = _resolve_engine(engine)
    rec_steps = _record_steps(record, max_steps)
    m = len(rec_steps)
    rec_loss, rec_delta, rec_theta = np.zeros(m), np.zeros((m, d)), np.zeros((m, d))
    fn = _train_uv_nb if engine == "numba" else _train_uv_py
    u, v, up, vp, acc_p, acc_m, crossed, k, loss, status, ir = fn(
        X, y, gamma, beta, alpha, b, bool(replace), np.uint64(seed) if engine == "numba" else seed, max_steps,
        tol, rec_steps, rec_loss, rec_delta, rec_theta)
    u, v = np.array(u), np.array(v)
    theta = u * v
    traj = None
    if record:
        # close the trajectory with the final iterate
        st = np.append(rec_steps[:ir], k) if (ir == 0 or rec_steps[ir - 1] != k) else rec_steps[:ir]
        keep = len(st)
        lo = np.append(rec_loss[:ir], loss)[:keep]
        de = np.vstack([rec_delta[:ir], np.abs(u * u - v * v)])[:keep]
        th = np.vstack([rec_theta[:ir], theta])[:keep]
        traj = MGDTrajectory(steps=st, train_loss=lo, delta=de, theta=th)
    with np.errstate(all="ignore"):
        wp, wm, wpp, wmp = u + v, u - v, np.asarray(up) + np.asarray(vp), np.asarray(up) - np.asarray(vp)
        boundary = beta / (1.0 - beta) * ((wpp - wp) / wp + (wmp - wm) / wm)
    boundary = np.nan_to_num(boundary, nan=0.0, posinf=1e300, neginf=-1e300)
    return MGDResult(theta=theta, u=u, v=v, delta_inf=np.abs(u * u - v * v), boundary=boundary,
                     S_plus=np.array(acc_p) / (1.0 - beta), S_minus=np.array(acc_m) / (1.0 - beta),
                     crossed=bool(crossed), steps=int(k), epochs=int(k) / (-(-n // b)),
                     train_loss=float(loss), status=STATUS_NAMES[status], gamma=gamma, beta=beta,
                     alpha=alpha, batch_size=b, trajectory=traj)
