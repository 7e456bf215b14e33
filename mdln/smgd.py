"""(Stochastic) momentum gradient descent on a 2-layer diagonal linear network (Section 4, Appendix D).

SMGD(γ, β), Eq. (9):  u_{k+1} = u_k − γ∇L_{B_k}(θ_k)⊙v_k + β(u_k − u_{k−1}),
                      v_{k+1} = v_k − γ∇L_{B_k}(θ_k)⊙u_k + β(v_k − v_{k−1}),   θ_k = u_k⊙v_k,
started at u_1 = u_0 = α1, v_1 = v_0 = 0.  In the w± = u ± v form (Eq. 13) each coordinate of w± is
multiplied by a scalar at every step, and Lemma 2's sums

    S± = 1/(1−β) Σ_k [ r(w±,k+1 / w±,k) + β r(w±,k / w±,k+1) ],   r(z) = (z − 1) − ln|z|,

give the asymptotic balancedness of Theorem 2:  Δ∞ = Δ0 ⊙ exp(−(S+ + S−)).

One engine runs Eq. (13) on a (γ, β, replication) grid (Figures 4, 7): a compiled numba kernel that
deals each replication's members, ordered by cost, into groups of 32 SIMD lanes run in parallel on
``n_threads`` cores (each step in named phases: loss, stop test and record, write-out and refill of
the lanes that stop, mini-batch gradient, the Eq. (13) update), and one pure-numpy twin that steps all
active members in lock-step with matrix products per replication and compacts the active set whenever
members stop. Both can record the
iterates at requested steps. :func:`mgd_sweep` runs a grid (cached on disk); :func:`train_mgd` is the
1×1×1 grid with a trajectory, so it equals the corresponding cell of :func:`mgd_sweep` bit for bit.

Conventions (shared by every run of the engine):

* a *step* is one update of Eq. (9) (one mini-batch); ``steps`` counts updates, so the returned
  iterate is θ after ``steps`` updates of (u_1, v_1) = (u_0, v_0);
* an *epoch* is ⌈n/B⌉ steps; without replacement (default) each epoch draws a fresh random
  permutation of [n] and cuts it into ⌈n/B⌉ consecutive batches (the last one smaller when B ∤ n);
  with replacement every step draws an independent uniformly random B-subset of [n];
  full batch (``batch_size=None`` or n) makes steps and epochs coincide and uses no randomness;
* the stopping test "full training loss L(θ_k) < tol" is evaluated at every epoch boundary
  (k a multiple of ⌈n/B⌉); the divergence test (L(θ_k) non-finite or > DIVERGENCE_FACTOR·(1 + L(θ_0)),
  :mod:`mdln.status`) at every step, and a diverged run reports the last iterate whose loss was finite;
* an update with max_i |γ g_i| ≥ UNREPRESENTABLE = 2^52 (g the mini-batch gradient) is divergent too:
  it multiplies some w± = u ± v by more than 1/eps, so the iterate is lost to rounding and dropped;
* the replication axis r indexes *datasets*: the paper's "5 replications" are 5 independent draws of
  (X, y), passed stacked as X of shape (R, n, d) and y of shape (R, n);
* batches come from a SplitMix64 stream seeded by ``seeds[r]`` (an integer in [0, 2^64)); all
  (γ, β) members of a replication share that stream (common random numbers). The contract, the same
  bits on every engine for every seed: the 64-bit state s starts at the seed; each draw sets
  s ← s + 0x9E3779B97F4A7C15, z ← (s ⊕ s≫30)·0xBF58476D1CE4E5B9, z ← (z ⊕ z≫27)·0x94D049BB133111EB,
  z ← z ⊕ z≫31 (all mod 2^64) and gives u = ⌊z / 2^11⌋ / 2^53 ∈ [0, 1). An epoch's permutation is
  Fisher–Yates on the identity, i = n−1, …, 1 swapping i with ⌊u(i+1)⌋; a with-replacement batch is the
  first B entries of a partial Fisher–Yates of the identity, i = 0, …, B−1 swapping i with i + ⌊u(n−i)⌋.

Lemma 2's sums are accumulated in a cheaper but exactly equivalent form: since
r(z) + βr(1/z) = (z − 1) + β(1/z − 1) − (1 − β) ln|z| and Σ_k ln|w_{k+1}/w_k| = ln|w_K/w_1|
telescopes, S± = [Σ_k (z±,k − 1) + β Σ_k (1/z±,k − 1)]/(1 − β) − ln|w±,K / w±,1|. The dynamical
content of Theorem 2 (the sum over ± of the bracket vanishes up to a boundary term) is *not*
assumed: both sums are accumulated from the actual iterates, step by step.

The grouping of the numba kernel depends only on the grid and on the machine's core count, never on
``n_threads``, and a member's arithmetic does not depend on its lane, so results are bit-for-bit
identical on one thread or on all of them.
"""
from __future__ import annotations

import os
from collections import namedtuple
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from ._checks import (check_beta, check_data, check_finite_array, check_gamma, check_int, check_positive,
                      check_real_array)
from .cache import cached_arrays
from .implicit import perturbed_initialisation
from .status import DIVERGENCE_FACTOR, STATUS_NAMES, TRAINER_STATUSES, UNREPRESENTABLE, Status

try:  # optional compiled kernel; the numpy twin gives the same numbers to rounding
    import numba as _numba
except ImportError:  # pragma: no cover - exercised by the fallback tests via engine="numpy"
    _numba = None

__all__ = ["MGDResult", "MGDTrajectory", "SweepResult", "train_mgd", "mgd_sweep", "lemma2_r",
           "corollary3_holds", "STATUS_NAMES", "have_numba"]

_CONVERGED, _STEP_CAP, _DIVERGED = int(Status.CONVERGED), int(Status.STEP_CAP), int(Status.DIVERGED)
_GRAM_MARGIN = 1e-12   # full batch: below tol + 1e-12·(1 + ½|y|²/n) the loss is recomputed from the residual
_M64 = (1 << 64) - 1
_GOLDEN, _MIX1, _MIX2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def have_numba():
    """True when the compiled (numba) kernels are available and not disabled by MDLN_NO_NUMBA=1."""
    return _numba is not None and os.environ.get("MDLN_NO_NUMBA") != "1"


def _resolve_engine(engine):
    if not isinstance(engine, str) or engine not in ("auto", "numba", "numpy"):
        raise ValueError(f"engine must be 'auto', 'numba' or 'numpy', got {engine!r}")
    if engine == "numba" and _numba is None:
        raise ValueError("engine='numba' needs the numba package; use engine='numpy' or 'auto'")
    if engine == "auto":
        return "numba" if have_numba() else "numpy"
    return engine


def lemma2_r(z):
    """r(z) = (z − 1) − ln|z| of Lemma 2 (positive for z > 0, z ≠ 1); z finite and nonzero."""
    z = _finite_reals(z, "z")
    if np.any(z == 0.0):
        raise ValueError("z must be nonzero (r(z) has ln|z|), got a zero entry")
    return (z - 1.0) - np.log(np.abs(z))


# ------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class MGDTrajectory:
    """Iterates of one SMGD run recorded at (log-spaced) steps: loss, Δ_k and θ_k."""

    steps: np.ndarray
    train_loss: np.ndarray
    delta: np.ndarray
    theta: np.ndarray


@dataclass(frozen=True)
class MGDResult:
    """Outcome of SMGD(γ, β) (Eq. 9): final weights, Δ∞ (= Δ_K), Lemma 2's S± up to K, how it ended, why."""

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
    status: Status
    message: str
    gamma: float
    beta: float
    alpha: float
    batch_size: int
    boundary: np.ndarray = field(default=None, repr=False)
    trajectory: MGDTrajectory | None = field(default=None, repr=False)

    @property
    def code(self):
        """The status (a :class:`mdln.status.Status`; kept for code written when ``status`` was its name)."""
        return self.status

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
        finite = _check_flag(finite, "finite")
        expo = self.S_plus + self.S_minus - (self.boundary if finite else 0.0)
        return self.delta0 * np.exp(-expo)

    def theorem2_error(self, finite=False):
        """max_i |Δ_K − Δ0 exp(−(S+ + S−))| / max(Δ_K, prediction) (Theorem 2 check at the final step K).

        At finite K the two sides differ exactly by a factor exp(b), b = β/(1−β) Σ± (w±,K−1 − w±,K)/w±,K
        (``boundary``), which vanishes as the iterates converge; ``finite=True`` includes it.
        """
        return float(np.max(_relative_error(self.delta_inf, self.theorem2_delta(finite))))

    def theta_tilde0(self):
        """Perturbed initialisation θ̃0 = ¼(w+,0² e^{−2S+} − w−,0² e^{−2S−}), w±,0 = α1 (Theorem 2)."""
        return perturbed_initialisation(self.alpha, self.alpha, self.S_plus, self.S_minus)

    def corollary3(self):
        """Whether Corollary 3's conclusion holds for this run (:func:`corollary3_holds`)."""
        return bool(corollary3_holds(self.delta_inf, self.theta_tilde0(), self.alpha))


@dataclass(frozen=True)
class SweepResult:
    """SMGD outcomes over the (γ, β, replication) grid; arrays have leading shape (G, Bt, R).

    ``status`` holds :class:`mdln.status.Status` codes; ``message`` counts them ("12 runs: 9 converged…")."""

    gammas: np.ndarray
    betas: np.ndarray
    theta: np.ndarray
    u: np.ndarray
    v: np.ndarray
    delta_inf: np.ndarray
    S_plus: np.ndarray
    S_minus: np.ndarray
    crossed: np.ndarray
    steps: np.ndarray
    train_loss: np.ndarray
    status: np.ndarray
    boundary: np.ndarray
    alpha: float
    batch_size: int
    n: int
    message: str = ""

    @property
    def lam(self):
        """λ = γ/(1−β)² on the (G, Bt) grid (Proposition 1)."""
        return self.gammas[:, None] / (1.0 - self.betas[None, :]) ** 2

    @property
    def converged(self):
        """Boolean (G, Bt, R): the run reached the training-loss tolerance."""
        return self.status == Status.CONVERGED

    @property
    def diverged(self):
        """Boolean (G, Bt, R): the run diverged."""
        return self.status == Status.DIVERGED

    @property
    def epochs(self):
        """Epochs run, steps/⌈n/B⌉ (G, Bt, R)."""
        return self.steps / (-(-self.n // self.batch_size))

    def status_names(self):
        """Status codes as strings (``mdln.status.STATUS_NAMES``)."""
        return np.array(STATUS_NAMES)[self.status]

    def theorem2_delta(self, finite=False):
        """Δ0 ⊙ exp(−(S+ + S−)) for every member (Theorem 2); ``finite`` adds the boundary term."""
        finite = _check_flag(finite, "finite")
        return self.alpha ** 2 * np.exp(-(self.S_plus + self.S_minus - (self.boundary if finite else 0.0)))

    def theorem2_error(self, finite=False):
        """(G, Bt, R) max_i |Δ_K − Δ0 exp(−(S+ + S−))| / max(Δ_K, prediction) (Theorem 2), NaN if diverged."""
        rel = _relative_error(self.delta_inf, self.theorem2_delta(finite))
        return np.where(self.diverged, np.nan, np.max(rel, axis=-1))

    def arrays(self):
        """All fields as a dict of arrays."""
        return {k: np.asarray(getattr(self, k)) for k in self.__dataclass_fields__}


def corollary3_holds(delta_inf, theta_tilde0, alpha):
    """Corollary 3's conclusion, per run: |θ̃0| < α² and Δ∞ < Δ0 = α² in every coordinate (last axis).

    The corollary says it holds whenever w± never changed sign; NaN entries (diverged runs) count as false.
    """
    delta_inf = _reals(delta_inf, "delta_inf")
    theta_tilde0 = _reals(theta_tilde0, "theta_tilde0")
    if delta_inf.ndim == 0 or delta_inf.shape != theta_tilde0.shape:
        raise ValueError(f"delta_inf and theta_tilde0 must be arrays of one shape (runs..., d), got "
                         f"{delta_inf.shape} and {theta_tilde0.shape}")
    a2 = check_positive(alpha, "alpha") ** 2
    with np.errstate(invalid="ignore"):
        return np.all(delta_inf < a2, axis=-1) & np.all(np.abs(theta_tilde0) < a2, axis=-1)


def _relative_error(delta, pred):
    """|Δ − prediction| / max(Δ, prediction) coordinate-wise, 0 where both underflowed (Theorem 2)."""
    den = np.maximum(delta, pred)
    with np.errstate(all="ignore"):
        return np.where(den > 0, np.abs(delta - pred) / den, 0.0)


def _weights(wp, wm, wpp, wmp, beta):
    """(u, v, θ, Δ_K, boundary) from the final and previous w± (Eq. 13; boundary term of Theorem 2)."""
    u, v = 0.5 * (wp + wm), 0.5 * (wp - wm)
    with np.errstate(all="ignore"):
        boundary = np.nan_to_num(beta / (1 - beta) * ((wpp - wp) / wp + (wmp - wm) / wm), nan=0.0,
                                 posinf=1e300, neginf=-1e300)
    return u, v, 4.0 * u * v * 0.25, np.abs(wp * wm), boundary


def _lemma2_sum(sum_z, sum_inv, beta, w, alpha):
    """S = [Σ(z − 1) + β Σ(1/z − 1)]/(1 − β) − ln|w_K/w_1| (Lemma 2, telescoped form; w_1 = α)."""
    return (sum_z + beta * sum_inv) / (1.0 - beta) - np.log(np.abs(w / alpha))


# The lane kernel's structures (numba compiles namedtuples of arrays to plain structs):
# the inputs of one replication, the grid and stopping rule, the flat output arrays by member, and the
# state of the SIMD lanes, (d, L) planes per coordinate and (L,) values per lane.
_Data = namedtuple("_Data", "X XT y H bv c0")        # data, Gram matrix H = XᵀX/n, bv = Xᵀy/n, c0 = |y|²/2n
_Config = namedtuple("_Config", "gam bet alpha b replace max_steps tol rec_steps")
_Out = namedtuple("_Out", "wp wm wpp wmp sp sm crossed steps loss status nrec rec_loss rec_delta rec_theta")
_Lanes = namedtuple("_Lanes", [
    "wp", "wm", "wpp", "wmp", "qi",      # w±_k, w±_{k−1}, 1/(w+ w−) of the current iterate
    "a0", "a1", "a2", "a3",              # Σ(z+ − 1), Σ(1/z+ − 1), Σ(z− − 1), Σ(1/z− − 1) (Lemma 2)
    "th", "g", "r", "rw", "wgt", "perm",  # workspace: θ, gradient, residual, weighted residual, batch weights
    "loss", "lossp", "loss0",            # L(θ_k), L(θ_{k−1}) (reported when θ_k is dropped), L(θ_0)
    "big",                               # max_i |γ g_i| of the last update (≥ 2^52: θ_k is not representable)
    "gam", "geff", "bet", "sgn",         # γ, γ of this update (0 on a fresh lane), β, min of w±_{k+1}w±_k
    "kk", "s", "ir", "mid",              # steps, batch stream state, iterates recorded, member (−1: idle)
    "cross", "fresh",                    # w± changed sign, lane loaded this round (no update yet)
    "stop", "back", "lrep"])             # this round's stop test: status (−1: go on), θ_k dropped, loss


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
    """Batch index stream of the conventions above (pure Python twin of ``_next_batch_nb``)."""

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


# ------------------------------------------------------------------------------- kernels
if _numba is not None:
    _u64 = _numba.uint64

    # The lane loops touch many arrays; LLVM only vectorises them when allowed enough run-time
    # alias checks (its default of 8 is too small), so raise that limit before compiling.
    try:
        import llvmlite.binding as _llb
        _llb.set_option("", "-runtime-memory-check-threshold=256")
        _llb.set_option("", "-memory-check-merge-threshold=256")
    except Exception:  # pragma: no cover - speed only
        pass
    _LANES = 32

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

    # The phases below are inlined into _run_group (numba IR inlining, the caller's flags apply). Each binds
    # the state arrays it uses once, outside its lane loops: a namedtuple field read inside a per-lane loop
    # costs a reference-count update per read, which halved the kernel's speed when tried.
    _FLAGS = dict(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
    _lemma2_sum_nb = _numba.njit(inline="always", **_FLAGS)(_lemma2_sum)

    @_numba.njit(inline="always", **_FLAGS)
    def _lanes_nb(n, d, L, alpha):
        """Fresh lane state: every lane idle at w±_1 = w±_0 = α1 with empty Lemma 2 sums."""
        return _Lanes(wp=np.full((d, L), alpha), wm=np.full((d, L), alpha), wpp=np.full((d, L), alpha),
                      wmp=np.full((d, L), alpha), qi=np.full((d, L), 1.0 / (alpha * alpha)),
                      a0=np.zeros((d, L)), a1=np.zeros((d, L)), a2=np.zeros((d, L)), a3=np.zeros((d, L)),
                      th=np.zeros((d, L)), g=np.zeros((d, L)), r=np.zeros((n, L)), rw=np.zeros((n, L)),
                      wgt=np.zeros((n, L)), perm=np.empty((L, n), np.int64), loss=np.zeros(L),
                      lossp=np.zeros(L), loss0=np.full(L, -1.0), big=np.zeros(L), gam=np.zeros(L),
                      geff=np.zeros(L), bet=np.zeros(L), sgn=np.zeros(L), kk=np.zeros(L, np.int64),
                      s=np.zeros(L, np.uint64), ir=np.zeros(L, np.int64), mid=np.full(L, -1, np.int64),
                      cross=np.zeros(L, np.bool_), fresh=np.ones(L, np.bool_), stop=np.full(L, -1, np.int64),
                      back=np.zeros(L, np.bool_), lrep=np.zeros(L))

    @_numba.njit(inline="always", **_FLAGS)
    def _load_member_nb(st, l, members, nxt, cfg):
        """Put member ``members[nxt]`` on lane l (or leave the lane idle if none is left); True if loaded."""
        if nxt < members.shape[0]:
            m = members[nxt]
            st.mid[l] = m
            st.gam[l] = cfg.gam[m]
            st.bet[l] = cfg.bet[m]
            return True
        st.mid[l] = -1
        st.gam[l] = 0.0
        st.bet[l] = 0.0
        return False

    @_numba.njit(inline="always", **_FLAGS)
    def _loss_nb(data, st, tol, full):
        """Phase 1: θ = u⊙v of every lane and L(θ) (Gram form with g = Hθ − b full batch, residual r = Xθ − y
        otherwise)."""
        X, y = data.X, data.y
        n, d = X.shape
        L = st.loss.shape[0]
        th, g, r, loss, mid, wp, wm = st.th, st.g, st.r, st.loss, st.mid, st.wp, st.wm
        for j in range(d):
            wpj = wp[j]
            wmj = wm[j]
            tj = th[j]
            for l in range(L):
                tj[l] = 0.25 * (wpj[l] - wmj[l]) * (wpj[l] + wmj[l])   # = u v, no cancellation
        if full:
            # Gram form: g = Hθ − b (one BLAS product for all lanes), L(θ) = ½θ·(g − b) + c
            np.dot(data.H, th, g)
            c0 = data.c0
            for l in range(L):
                loss[l] = c0
            for j in range(d):
                gj = g[j]
                bj = data.bv[j]
                tj = th[j]
                for l in range(L):
                    gj[l] -= bj
                    loss[l] += 0.5 * tj[l] * (gj[l] - bj)
            # the Gram form cancels to ~eps·c: near tol, the stopping test and the reported loss
            # use the residual form |Xθ − y|²/(2n), lane by lane
            for l in range(L):
                if mid[l] >= 0 and loss[l] < tol + _GRAM_MARGIN * (1.0 + c0):
                    acc = 0.0
                    for i in range(n):
                        ri = -y[i]
                        for j in range(d):
                            ri += X[i, j] * th[j, l]
                        acc += ri * ri
                    loss[l] = acc * (0.5 / n)
        else:
            # residual r = Xθ − y (BLAS), L(θ) = |r|²/(2n)
            np.dot(X, th, r)
            for l in range(L):
                loss[l] = 0.0
            for i in range(n):
                ri = r[i]
                yi = y[i]
                for l in range(L):
                    ri[l] -= yi
                    loss[l] += ri[l] * ri[l]
            for l in range(L):
                loss[l] *= 0.5 / n

    @_numba.njit(inline="always", **_FLAGS)
    def _stop_tests_nb(st, spe, cfg, out):
        """Phase 2: per lane, the stop test (``st.stop``: a status code, or −1 to go on), the iterates due at
        ``rec_steps``, the sign-change flag, and the loss to report (``st.lrep``; ``st.back``: the last update
        is dropped). Returns the number of lanes that stop."""
        L = st.loss.shape[0]
        d = st.wp.shape[0]
        loss, loss0, lossp, big, kk, mid, ir = st.loss, st.loss0, st.lossp, st.big, st.kk, st.mid, st.ir
        cross, sgn, stopc, backs, lrep = st.cross, st.sgn, st.stop, st.back, st.lrep
        wp, wm, th = st.wp, st.wm, st.th
        rec = cfg.rec_steps
        nrec = rec.shape[0]
        tol, max_steps = cfg.tol, cfg.max_steps
        nstop = 0
        for l in range(L):
            stopc[l] = -1
            if mid[l] < 0:
                continue
            lo = loss[l]
            if loss0[l] < 0.0:
                loss0[l] = lo
            stop = -1
            lost = big[l] >= UNREPRESENTABLE
            if lost or not (np.isfinite(lo) and lo <= DIVERGENCE_FACTOR * (1.0 + loss0[l])):
                stop = _DIVERGED
            elif kk[l] % spe == 0 and lo < tol:
                stop = _CONVERGED
            elif kk[l] >= max_steps:
                stop = _STEP_CAP
            if stop != _DIVERGED:
                m = mid[l]
                while ir[l] < nrec and rec[ir[l]] <= kk[l]:
                    q = ir[l]
                    out.rec_loss[m, q] = lo
                    for j in range(d):
                        out.rec_delta[m, q, j] = abs(wp[j, l] * wm[j, l])
                        out.rec_theta[m, q, j] = th[j, l]
                    ir[l] += 1
            # an iterate whose loss overflowed (or that rounding destroyed) is dropped: report the
            # last finite one, as train_mgd does
            back = stop == _DIVERGED and (lost or not np.isfinite(lo))
            if not back:
                cross[l] = cross[l] or sgn[l] < 0.0
            lossp_l = lossp[l]
            lossp[l] = lo
            if stop < 0:
                continue
            stopc[l] = stop
            backs[l] = back
            lrep[l] = (lossp_l if np.isfinite(lossp_l) else 1e300) if back else lo
            nstop += 1
        return nstop

    @_numba.njit(inline="always", **_FLAGS)
    def _write_out_nb(st, l, stop, lo, back, alpha, out):
        """Phase 3, lane l: its member's final w±, previous w±, Lemma 2's S± (``_lemma2_sum``), status and
        counters; ``back`` reports the previous iterate, the last update's Lemma 2 terms taken out again
        (recomputed from the same operands; a non-finite difference is cleaned up by _compute)."""
        wp, wm, wpp, wmp, a0, a1, a2, a3 = st.wp, st.wm, st.wpp, st.wmp, st.a0, st.a1, st.a2, st.a3
        m = st.mid[l]
        bb = st.bet[l]
        for j in range(wp.shape[0]):
            a = wp[j, l]
            c = wm[j, l]
            ap = wpp[j, l]
            cp = wmp[j, l]
            s0 = a0[j, l]
            s1 = a1[j, l]
            s2 = a2[j, l]
            s3 = a3[j, l]
            if back:
                qo = 1.0 / (ap * cp)
                qn = 1.0 / (a * c)
                dp = a - ap
                dm = c - cp
                s0 = s0 - dp * (cp * qo)
                s1 = s1 + dp * (c * qn)
                s2 = s2 - dm * (ap * qo)
                s3 = s3 + dm * (a * qn)
                a = ap
                c = cp
            out.wp[m, j] = a
            out.wm[m, j] = c
            out.wpp[m, j] = ap
            out.wmp[m, j] = cp
            out.sp[m, j] = _lemma2_sum_nb(s0, s1, bb, a, alpha)
            out.sm[m, j] = _lemma2_sum_nb(s2, s3, bb, c, alpha)
        out.crossed[m] = st.cross[l]
        out.steps[m] = st.kk[l]
        out.loss[m] = lo
        out.status[m] = stop
        out.nrec[m] = st.ir[l]

    @_numba.njit(inline="always", **_FLAGS)
    def _reset_lane_nb(st, l, alpha, seed):
        """Phase 3, lane l after its write-out: w±_1 = w±_0 = α1, empty sums, step 0, stream at seed."""
        wp, wm, wpp, wmp, qi, a0, a1, a2, a3 = st.wp, st.wm, st.wpp, st.wmp, st.qi, st.a0, st.a1, st.a2, st.a3
        for j in range(wp.shape[0]):
            wp[j, l] = alpha
            wm[j, l] = alpha
            wpp[j, l] = alpha
            wmp[j, l] = alpha
            qi[j, l] = 1.0 / (alpha * alpha)
            a0[j, l] = 0.0
            a1[j, l] = 0.0
            a2[j, l] = 0.0
            a3[j, l] = 0.0
        st.fresh[l] = True  # no update this round: the next round checks its θ_0 first
        st.kk[l] = 0
        st.s[l] = seed
        st.loss0[l] = -1.0
        st.cross[l] = False
        st.ir[l] = 0

    @_numba.njit(inline="always", **_FLAGS)
    def _minibatch_gradient_nb(data, st, b, spe, replace):
        """Phase 4 (B < n): per-lane mini-batches as row weights, g = Xᵀ(w ⊙ r)."""
        n = data.X.shape[0]
        L = st.loss.shape[0]
        wgt, perm, r, rw, s, kk, mid, fresh = st.wgt, st.perm, st.r, st.rw, st.s, st.kk, st.mid, st.fresh
        for l in range(L):
            for i in range(n):
                wgt[i, l] = 0.0
            if mid[l] < 0 or fresh[l]:
                continue
            s[l], i0, i1 = _next_batch_nb(s[l], perm[l], kk[l], n, b, spe, replace)
            for t in range(i0, i1):
                wgt[perm[l, t], l] = 1.0 / (i1 - i0)
        for i in range(n):
            ri = r[i]
            wi = wgt[i]
            rwi = rw[i]
            for l in range(L):
                rwi[l] = ri[l] * wi[l]
        np.dot(data.XT, rw, st.g)

    @_numba.njit(inline="always", **_FLAGS)
    def _update_nb(st):
        """Phase 5: Eq. (13) on every lane, Lemma 2's terms accumulated from the iterates (z = w_{k+1}/w_k);
        one division per coordinate: q = 1/(w+ w−) gives both reciprocals."""
        d, L = st.wp.shape
        geff, sgn, big, g, bet, gam = st.geff, st.sgn, st.big, st.g, st.bet, st.gam
        fresh, mid, kk = st.fresh, st.mid, st.kk
        wp, wm, wpp, wmp, qi, a0, a1, a2, a3 = st.wp, st.wm, st.wpp, st.wmp, st.qi, st.a0, st.a1, st.a2, st.a3
        for l in range(L):
            geff[l] = 0.0 if fresh[l] else gam[l]
            sgn[l] = 1.0
            big[l] = 0.0
        for j in range(d):   # max_i |γ g_i| of this update, per lane (UNREPRESENTABLE test)
            gj = g[j]
            for l in range(L):
                big[l] = max(big[l], abs(gj[l]))
        for l in range(L):
            big[l] *= geff[l]
        for j in range(d):
            gj = g[j]
            wpj = wp[j]
            wmj = wm[j]
            wppj = wpp[j]
            wmpj = wmp[j]
            qj = qi[j]
            a0j = a0[j]
            a1j = a1[j]
            a2j = a2[j]
            a3j = a3[j]
            for l in range(L):
                gg = geff[l] * gj[l]
                bb = bet[l]
                a = wpj[l]
                c = wmj[l]
                npl = a - gg * a + bb * (a - wppj[l])
                nmi = c + gg * c + bb * (c - wmpj[l])
                qo = qj[l]
                qn = 1.0 / (npl * nmi)
                dp = npl - a
                dm = nmi - c
                a0j[l] += dp * (c * qo)
                a1j[l] -= dp * (nmi * qn)
                a2j[l] += dm * (a * qo)
                a3j[l] -= dm * (npl * qn)
                sgn[l] = min(sgn[l], min(npl * a, nmi * c))
                wppj[l] = a
                wmpj[l] = c
                wpj[l] = npl
                wmj[l] = nmi
                qj[l] = qn
        for l in range(L):
            if fresh[l]:
                fresh[l] = False
            elif mid[l] >= 0:
                kk[l] += 1

    @_numba.njit(**_FLAGS)
    def _run_group(data, members, cfg, seed, out):
        """Eq. (13) for the members of one replication on _LANES SIMD lanes, Lemma 2's sums accumulated;
        a lane that stops is written out and refilled at once. Iterates at ``cfg.rec_steps`` are recorded."""
        n, d = data.X.shape
        # a single run (train_mgd) uses 4 lanes, not 32; not 1: OpenBLAS turns a one-column gemm into a
        # gemv with another summation order, and a run must equal its sweep cell bit for bit (tested)
        L = min(_LANES, max(members.shape[0], 4))
        b = cfg.b
        spe = (n + b - 1) // b
        full = b == n
        st = _lanes_nb(n, d, L, cfg.alpha)
        nxt = 0
        active = 0
        for l in range(L):
            st.s[l] = seed
            if _load_member_nb(st, l, members, nxt, cfg):
                nxt += 1
                active += 1
        stopc = st.stop
        while active > 0:
            _loss_nb(data, st, cfg.tol, full)
            if _stop_tests_nb(st, spe, cfg, out):
                for l in range(L):
                    if stopc[l] < 0:
                        continue
                    _write_out_nb(st, l, stopc[l], st.lrep[l], st.back[l], cfg.alpha, out)
                    if _load_member_nb(st, l, members, nxt, cfg):
                        nxt += 1
                    else:
                        active -= 1
                    _reset_lane_nb(st, l, cfg.alpha, seed)
            if active == 0:
                break
            if not full:
                _minibatch_gradient_nb(data, st, b, spe, cfg.replace)
            _update_nb(st)

    @_numba.njit(cache=True, error_model="numpy", parallel=True)
    def _sweep_nb(datas, groups, grep, cfg, seeds, out):
        """Groups of members (one replication each) in parallel, one group per thread at a time."""
        ng = grep.shape[0]
        for q in _numba.prange(ng):
            rr = grep[q]
            mem = groups[q]
            cnt = 0
            for t in range(mem.shape[0]):
                if mem[t] >= 0:
                    cnt += 1
            data = _Data(X=datas.X[rr], XT=datas.XT[rr], y=datas.y[rr], H=datas.H[rr], bv=datas.bv[rr],
                         c0=datas.c0[rr])
            _run_group(data, mem[:cnt], cfg, seeds[rr], out)


def _sweep_numpy(Xs, ys, gam, bet, rep, alpha, b, replace, seeds, max_steps, tol, out, progress_cb):
    """Numpy twin of the lane kernel: Eq. (13) for every active member in lock-step, products per
    replication, Lemma 2's sums in the same telescoped form, the active set compacted as members stop."""
    R, n, d = Xs.shape
    M = gam.shape[0]
    spe = -(-n // b)
    full = b == n
    rec_steps, nrec = out["rec_steps"], out["rec_steps"].shape[0]
    act = np.arange(M)
    g_, b_, rp = gam[:, None], bet[:, None], rep.copy()
    wp = np.full((M, d), alpha)
    wm = np.full((M, d), alpha)
    wpp, wmp = wp.copy(), wm.copy()
    ip, im = 1.0 / wp, 1.0 / wm
    ap, bp, am, bm = (np.zeros((M, d)) for _ in range(4))
    pap, pbp, pam, pbm = (np.zeros((M, d)) for _ in range(4))
    cr = np.zeros(M, bool)
    pcr = np.zeros(M, bool)
    streams = [_PyBatches(n, b, replace, int(seeds[r])) for r in range(R)]
    loss0 = None
    k = ir = 0
    lost = np.zeros(M, bool)

    def finish(sel, st, loss_sel):
        idx = act[sel]
        out["wp"][idx], out["wm"][idx] = wp[sel], wm[sel]
        out["wpp"][idx], out["wmp"][idx] = wpp[sel], wmp[sel]
        bb = b_[sel]
        out["sp"][idx] = _lemma2_sum(ap[sel], bp[sel], bb, wp[sel], alpha)
        out["sm"][idx] = _lemma2_sum(am[sel], bm[sel], bb, wm[sel], alpha)
        out["crossed"][idx] = cr[sel]
        out["steps"][idx] = k
        out["loss"][idx] = loss_sel
        out["status"][idx] = st
        if progress_cb is not None:
            progress_cb(len(idx))

    def member_loss(wp_, wm_, rp_):
        th = 0.25 * (wp_ - wm_) * (wp_ + wm_)
        res = np.einsum("mnd,md->mn", Xs[rp_], th) - ys[rp_]
        return res, 0.5 * np.einsum("mn,mn->m", res, res) / n

    with np.errstate(all="ignore"):
        while act.size:
            res, loss = member_loss(wp, wm, rp) if R > 1 and act.size < 8 else _grouped_loss(
                Xs, ys, wp, wm, rp, R)
            if loss0 is None:
                loss0 = loss.copy()
            bad = lost | ~(np.isfinite(loss) & (loss <= DIVERGENCE_FACTOR * (1.0 + loss0)))
            fin = np.isfinite(loss) & ~lost
            commit = ~bad | fin
            ap[commit] += pap[commit]
            bp[commit] += pbp[commit]
            am[commit] += pam[commit]
            bm[commit] += pbm[commit]
            cr[commit] |= pcr[commit]
            while ir < nrec and rec_steps[ir] <= k:   # record the iterates that did not diverge
                ok = ~bad
                idx = act[ok]
                out["rec_loss"][idx, ir] = loss[ok]
                out["rec_delta"][idx, ir] = np.abs(wp[ok] * wm[ok])
                out["rec_theta"][idx, ir] = 0.25 * (wp[ok] - wm[ok]) * (wp[ok] + wm[ok])
                out["nrec"][idx] = ir + 1
                ir += 1
            if np.any(bad & ~fin):  # revert to the previous finite iterate
                sel = bad & ~fin
                wp[sel], wm[sel] = wpp[sel], wmp[sel]
                _, l2 = member_loss(wp[sel], wm[sel], rp[sel])
                loss = loss.copy()
                loss[sel] = np.where(np.isfinite(l2), l2, 1e300)
            done = bad.copy()
            st = np.where(bad, _DIVERGED, _CONVERGED)
            if k % spe == 0:
                conv = ~bad & (loss < tol)
                done |= conv
            if k >= max_steps:
                st = np.where(done, st, _STEP_CAP)
                done[:] = True
            if np.any(done):
                finish(done, st[done], loss[done])
                keep = ~done
                act, rp, g_, b_ = act[keep], rp[keep], g_[keep], b_[keep]
                wp, wm, wpp, wmp, ip, im = wp[keep], wm[keep], wpp[keep], wmp[keep], ip[keep], im[keep]
                ap, bp, am, bm = ap[keep], bp[keep], am[keep], bm[keep]
                cr, res, loss0, lost = cr[keep], res[keep], loss0[keep], lost[keep]
                if not act.size:
                    break
            if full:
                g = np.empty_like(wp)
                for r in np.unique(rp):
                    sel = rp == r
                    g[sel] = res[sel] @ Xs[r] / n
            else:
                g = np.empty_like(wp)
                batches = {r: streams[r].batch(k) for r in range(R)}
                for r in np.unique(rp):
                    sel = rp == r
                    idx = batches[r]
                    g[sel] = res[sel][:, idx] @ Xs[r][idx] / len(idx)
            gg = g_ * g
            lost = np.max(np.abs(gg), axis=1) >= UNREPRESENTABLE
            npl = wp - gg * wp + b_ * (wp - wpp)
            nmi = wm + gg * wm + b_ * (wm - wmp)
            inp, inm = 1.0 / npl, 1.0 / nmi
            pap, pbp = (npl - wp) * ip, (wp - npl) * inp
            pam, pbm = (nmi - wm) * im, (wm - nmi) * inm
            pcr = np.any((npl * wp < 0) | (nmi * wm < 0), axis=1)
            wpp, wmp, wp, wm, ip, im = wp, wm, npl, nmi, inp, inm
            k += 1


def _grouped_loss(Xs, ys, wp, wm, rp, R):
    """Residuals Xθ − y and L(θ) of every member, one matrix product per replication."""
    th = 0.25 * (wp - wm) * (wp + wm)   # = u v without the cancellation of w+² − w−²
    res = np.empty((wp.shape[0], Xs.shape[1]))
    for r in range(R):
        sel = rp == r
        if np.any(sel):
            res[sel] = th[sel] @ Xs[r].T - ys[r]
    return res, 0.5 * np.einsum("mn,mn->m", res, res) / Xs.shape[1]


def _max_threads():
    """Cores the numba engine may use (NUMBA_NUM_THREADS, by default every core)."""
    return int(_numba.config.NUMBA_NUM_THREADS) if _numba is not None else 1


def _make_groups(gam, bet, rep, R, nthreads):
    """Split each replication's members into groups of similar total cost (members dealt round-robin
    in order of decreasing cost ~ 1/ε, ε = γ/(1−β)), padded with −1; returns (groups, replication).
    ``nthreads`` is the machine's core count (not the threads used), so the grouping, and with it
    every member's arithmetic, is the same whatever ``n_threads`` a sweep runs on."""
    per = max(1, -(-4 * nthreads // R))   # at least 4 groups per thread
    rows, reps = [], []
    for r in range(R):
        mem = np.flatnonzero(rep == r)
        mem = mem[np.argsort(gam[mem] / (1.0 - bet[mem]), kind="stable")]
        for p in range(per):
            if mem[p::per].size:
                rows.append(mem[p::per])
                reps.append(r)
    width = max(len(x) for x in rows)
    groups = np.full((len(rows), width), -1, np.int64)
    for q, x in enumerate(rows):
        groups[q, :len(x)] = x
    return groups, np.array(reps, np.int64)


# ------------------------------------------------------------------------------- argument checks
def _reals(a, name):
    """A float64 array (NaN allowed); a ValueError naming ``name`` for non-numeric input."""
    if a is None or isinstance(a, (str, bytes)) or (isinstance(a, np.ndarray) and a.dtype.kind not in "biuf"):
        raise ValueError(f"{name} must be a real number or array, got {a!r}")
    return check_real_array(a, name)


def _finite_reals(a, name):
    """A float64 array of finite values (any shape, scalars included), the ValueError naming ``name``."""
    a = _reals(a, name)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {a.item()!r}" if a.ndim == 0 else
                         f"{name} must contain only finite values (no NaN or inf)")
    return a


def _check_flag(value, name):
    """True or False (numpy booleans too), the TypeError naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _steps_text(k):
    """A step count as printed in messages: powers of ten from 10^3 as 10^k, others as digits."""
    e = len(str(k)) - 1
    return f"10^{e}" if k >= 1000 and k == 10 ** e else str(k)


def _run_message(status, steps, loss, tol, max_steps, loss0):
    """Why a run ended (``MGDResult.message``), from its status, steps, reported loss and L(θ_0)."""
    if status == Status.CONVERGED:
        return f"train loss {loss:.4g} < tol {tol:g} after {steps} steps"
    if status == Status.STEP_CAP:
        return f"step cap of {_steps_text(max_steps)} steps reached with train loss {loss:.4g} (tol {tol:g})"
    limit = DIVERGENCE_FACTOR * (1.0 + loss0)
    if loss > limit:
        return f"diverged at step {steps}: loss {loss:.4g} > 1e12·(1+L0) = {limit:.4g}"
    return (f"diverged at step {steps}: that update overflowed the loss or multiplied some w± by ≥ 2^52 "
            f"(lost to rounding); reported: the iterate before it, train loss {loss:.4g}")


def _sweep_message(status):
    """Counts of the trainer statuses of a sweep (``SweepResult.message``)."""
    counts = ", ".join(f"{int(np.sum(status == s))} {STATUS_NAMES[s]}" for s in TRAINER_STATUSES)
    return f"{status.size} runs: {counts}"


def _is_seed(seed):
    """Whether ``seed`` is an integer (not a bool) in [0, 2^64): a SplitMix64 state."""
    return (not isinstance(seed, (bool, np.bool_)) and isinstance(seed, (int, np.integer))
            and 0 <= int(seed) <= _M64)


def _check_seed(seed, name="seed"):
    """A batch seed: an integer in [0, 2^64) (the SplitMix64 state), the same for every engine."""
    if not _is_seed(seed):
        raise ValueError(f"{name} must be an integer in [0, 2**64 - 1], got {seed!r}")
    return int(seed)


def _check_seeds(seeds):
    """Batch seeds: an integer or a 1-D sequence of integers in [0, 2^64), as uint64 (seed by seed, so
    that a list mixing seeds below and above 2^63 is never promoted to float64 by numpy)."""
    bad = f"seeds must be an integer in [0, 2**64 - 1] or a 1-D sequence of them, got {seeds!r}"
    if isinstance(seeds, np.ndarray):
        if seeds.ndim > 1 or seeds.dtype.kind not in "iu":
            raise ValueError(bad)
        items = np.atleast_1d(seeds).tolist()
    elif isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        items = [seeds]
    else:
        items = list(seeds)
    if not items:
        raise ValueError(bad)
    if not all(_is_seed(s) for s in items):
        raise ValueError(bad)
    return np.array([int(s) for s in items], dtype=np.uint64)


def _check_batch(batch_size, n):
    if batch_size is None:
        return n
    b = check_int(batch_size, "batch_size", minimum=1)
    if b > n:
        raise ValueError(f"batch_size must lie in [1, n={n}] (or be None for full batch), got {b}")
    return b


def _check_replace(replace):
    if not isinstance(replace, (bool, np.bool_)):
        raise ValueError(f"replace must be True or False, got {replace!r}")
    return bool(replace)


def _check_grid(values, name, check):
    """A non-empty 1-D grid of γ or β values, each passing ``check`` (the error names ``name``)."""
    arr = _reals(values, name)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a number or a 1-D sequence, got shape {arr.shape}")
    arr = np.array([check(g, name) for g in np.atleast_1d(arr)], dtype=float)
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one value, got an empty list")
    return arr


def _record_steps(record, max_steps):
    """``record`` log-spaced steps in [0, max_steps] (duplicates removed)."""
    record = check_int(record, "record", minimum=0)
    if record == 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.round(np.geomspace(1, max_steps + 1, record)).astype(np.int64) - 1)


def _as_stack(X, y, seeds):
    X = check_finite_array(X, "X")
    y = check_finite_array(y, "y")
    if X.ndim == 2:
        X = X[None]
    if y.ndim == 1:
        y = y[None]
    if X.ndim != 3 or y.ndim != 2:
        raise ValueError(f"X must have shape (n, d) or (R, n, d) and y (n,) or (R, n); got {X.shape}, "
                         f"{y.shape}")
    if y.shape[1] != X.shape[1]:
        raise ValueError(f"y must have {X.shape[1]} samples per replication to match X, got shape {y.shape}")
    seeds = _check_seeds(seeds)
    R = max(X.shape[0], y.shape[0], seeds.size)
    for name, a in (("X", X), ("y", y), ("seeds", seeds)):
        if a.shape[0] not in (1, R):
            raise ValueError(f"{name} has {a.shape[0]} replications, expected 1 or {R}")
    X = np.ascontiguousarray(np.broadcast_to(X, (R,) + X.shape[1:]))
    y = np.ascontiguousarray(np.broadcast_to(y, (R,) + y.shape[1:]))
    seeds = np.broadcast_to(seeds, (R,)).astype(np.uint64)
    return X, y, seeds


# ------------------------------------------------------------------------------- the engine
def _compute(Xs, ys, gammas, betas, seeds, alpha, b, replace, max_steps, tol, engine, progress,
             n_threads=None, rec_steps=None, executor=None):
    """Run every (γ, β, replication) member on ``engine``; flat arrays by member (γ-major, then β, then r)."""
    R, n, d = Xs.shape
    gg, bb, rr = np.meshgrid(gammas, betas, np.arange(R), indexing="ij")
    gam, bet, rep = gg.ravel().copy(), bb.ravel().copy(), rr.ravel().astype(np.int64)
    M = gam.size
    rec_steps = np.zeros(0, np.int64) if rec_steps is None else np.ascontiguousarray(rec_steps, np.int64)
    q = rec_steps.size
    out = dict(wp=np.zeros((M, d)), wm=np.zeros((M, d)), wpp=np.zeros((M, d)), wmp=np.zeros((M, d)),
               sp=np.zeros((M, d)), sm=np.zeros((M, d)), crossed=np.zeros(M, bool),
               steps=np.zeros(M, np.int64), loss=np.zeros(M), status=np.zeros(M, np.int64),
               rec_steps=rec_steps, rec_loss=np.zeros((M, q)),
               rec_delta=np.zeros((M, q, d)), rec_theta=np.zeros((M, q, d)), nrec=np.zeros(M, np.int64))
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=M, desc="MGD sweep", unit="run")
    try:
        if engine == "numba":
            _compute_numba(Xs, ys, gam, bet, rep, alpha, b, replace, seeds, max_steps, tol, out, bar,
                           n_threads, executor)
        else:
            _sweep_numpy(Xs, ys, gam, bet, rep, alpha, b, replace, seeds, max_steps, tol, out,
                         None if bar is None else bar.update)
    finally:
        if bar is not None:
            bar.close()
    # a diverged member stops at the first iterate whose loss exceeds the threshold, which is finite
    # in practice; should an overflow still slip through, report huge finite numbers, never NaN
    div = out["status"] == _DIVERGED
    for key in ("wp", "wm", "wpp", "wmp", "sp", "sm", "loss"):
        x = out[key]
        if np.any(div) and not np.all(np.isfinite(x[div])):
            x[div] = np.nan_to_num(x[div], nan=0.0, posinf=1e300, neginf=-1e300)
    return out


def _compute_numba(Xs, ys, gam, bet, rep, alpha, b, replace, seeds, max_steps, tol, out, bar, n_threads,
                   executor=None):
    """The lane kernel on groups of members, in parallel (``prange``, dynamic scheduling)."""
    R, n, d = Xs.shape
    XTs = np.ascontiguousarray(Xs.transpose(0, 2, 1))
    Hs = np.einsum("rni,rnj->rij", Xs, Xs) / n
    bs = np.einsum("rni,rn->ri", Xs, ys) / n
    cs = 0.5 * np.einsum("rn,rn->r", ys, ys) / n
    datas = _Data(X=Xs, XT=XTs, y=ys, H=Hs, bv=bs, c0=cs)
    cfg = _Config(gam=gam, bet=bet, alpha=float(alpha), b=int(b), replace=bool(replace),
                  max_steps=int(max_steps), tol=float(tol), rec_steps=out["rec_steps"])
    res = _Out(**{k: out[k] for k in _Out._fields})
    groups, grep = _make_groups(gam, bet, rep, R, _max_threads())
    if executor is not None:
        return _submit_groups(executor, datas, groups, grep, cfg, seeds, res, bar, n_threads)
    nth = _max_threads() if n_threads is None else int(n_threads)
    # groups have similar costs (members dealt round-robin by cost); with a bar, hand them over
    # nthreads at a time so that every chunk keeps all threads busy. Chunk size 1 = dynamic
    # scheduling: a thread slowed down by another process does not hold up the rest.
    step_ = len(grep) if bar is None else nth
    old_threads, old_chunk = _numba.get_num_threads(), _numba.get_parallel_chunksize()
    _numba.set_num_threads(nth)
    _numba.set_parallel_chunksize(1)
    try:
        for c0 in range(0, len(grep), step_):
            chunk = np.arange(c0, min(c0 + step_, len(grep)))
            _sweep_nb(datas, groups[chunk], grep[chunk], cfg, seeds, res)
            if bar is not None:
                bar.update(int(np.sum(groups[chunk] >= 0)))
    finally:
        _numba.set_num_threads(old_threads)
        _numba.set_parallel_chunksize(old_chunk)


def _readonly(args):
    """Per argument, None (not an array), or whether it (or each array of a namedtuple) is read-only."""
    def flag(a):
        return (not a.flags.writeable) if isinstance(a, np.ndarray) else None
    return tuple(tuple(map(flag, a)) if isinstance(a, tuple) else flag(a) for a in args)


def _with_flags(args, flags):
    """``args`` with the read-only flags of the submitting process (numba compiles one specialisation per
    flag: a transported copy that differs would compile the kernel again in every worker)."""
    def fix(a, ro):
        if ro is None or ro == (not a.flags.writeable):
            return a
        a = a.view() if ro else a.copy()
        a.setflags(write=not ro)
        return a
    return tuple(type(a)(*map(fix, a, f)) if isinstance(a, tuple) else fix(a, f) for a, f in zip(args, flags))


def _run_groups(args, flags, shapes, n_threads):
    """One executor task: the lane kernel on some of a sweep's member groups; their members' output rows."""
    datas, groups, grep, cfg, seeds = _with_flags(args, flags)
    res = _Out(**{k: np.zeros(shape, dtype) for k, (shape, dtype) in shapes.items()})
    old_threads = _numba.get_num_threads()
    _numba.set_num_threads(min(n_threads, _max_threads()))
    try:
        _sweep_nb(datas, groups, grep, cfg, seeds, res)
    finally:
        _numba.set_num_threads(old_threads)
    mem = groups[groups >= 0]
    return mem, {k: getattr(res, k)[mem] for k in _Out._fields}


def _submit_groups(executor, datas, groups, grep, cfg, seeds, res, bar, n_threads):
    """The serial run's member groups as executor tasks, one group each: the grouping, and with it every
    member's arithmetic, is the serial one, so the results are too, bit for bit."""
    shapes = {k: (getattr(res, k).shape, getattr(res, k).dtype) for k in _Out._fields}
    tasks = [(datas, groups[q:q + 1].copy(), grep[q:q + 1].copy(), cfg, seeds) for q in range(len(grep))]
    futures = [executor.submit(_run_groups, args, _readonly(args), shapes, int(n_threads)) for args in tasks]
    for f in futures:
        mem, rows = f.result()
        for k, v in rows.items():
            getattr(res, k)[mem] = v
        if bar is not None:
            bar.update(mem.size)


def check_executor(executor):
    """``executor`` as given: None or a concurrent.futures.Executor (a TypeError otherwise)."""
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError("executor must be None or a concurrent.futures.Executor (e.g. ProcessPoolExecutor, "
                        f"dask.distributed Client(...).get_executor()), got {type(executor).__name__}")
    return executor


def mgd_sweep(X, y, gammas, betas, seeds=0, alpha=0.01, batch_size=None, replace=False,
              max_steps=10 ** 6, tol=1e-8, engine="auto", progress=False, cache=True, n_threads=None,
              executor=None):
    """SMGD (Eq. 9/13) on every (γ, β, replication) of the grid, stopping members one by one (Figure 4).

    X is (n, d) or (R, n, d) (one dataset per replication), y is (n,) or (R, n), ``seeds`` the batch
    seed(s) per replication. Results are cached on disk keyed by every argument (data included).
    ``n_threads`` (numba engine; default: every core) runs groups of members in parallel; the results
    do not depend on it, bit for bit. ``executor`` (any concurrent.futures.Executor, e.g. a process pool
    or a Dask cluster's ``Client(address).get_executor()``) runs those groups as tasks instead, on
    ``n_threads`` threads each (default 1), with the same results bit for bit (not part of the cache key);
    the numpy engine, whose lock-step products couple the members, ignores it and runs here.
    """
    gammas = _check_grid(gammas, "gammas", check_gamma)
    betas = _check_grid(betas, "betas", check_beta)
    Xs, ys, seeds = _as_stack(X, y, seeds)
    R, n, d = Xs.shape
    alpha = check_positive(alpha, "alpha")
    b = _check_batch(batch_size, n)
    max_steps = check_int(max_steps, "max_steps", minimum=0)
    tol = check_positive(tol, "tol")
    replace = _check_replace(replace)
    progress = _check_flag(progress, "progress")
    cache = _check_flag(cache, "cache")
    executor = check_executor(executor)
    eng = _resolve_engine(engine)
    nmax = _max_threads()
    task_threads = 1 if n_threads is None else check_int(n_threads, "n_threads", minimum=1)
    n_threads = nmax if n_threads is None else task_threads
    if n_threads > nmax:
        raise ValueError(f"n_threads must lie in [1, {nmax}] (NUMBA_NUM_THREADS), got {n_threads}")
    params = dict(X=Xs, y=ys, gammas=gammas, betas=betas, seeds=seeds.astype(np.uint64), alpha=alpha,
                  batch_size=b, replace=replace, max_steps=max_steps, tol=tol, engine=eng)

    def compute():
        out = _compute(Xs, ys, gammas, betas, seeds, alpha, b, replace, max_steps, tol, eng, progress,
                       n_threads if executor is None else task_threads, executor=executor)
        return {k: out[k] for k in ("wp", "wm", "wpp", "wmp", "sp", "sm", "crossed", "steps", "loss",
                                    "status")}
    arr = cached_arrays("mgd_sweep", params, compute, use_cache=cache)
    sh = (gammas.size, betas.size, R)
    status = arr["status"].reshape(sh).astype(np.int64)
    wp, wm = arr["wp"].reshape(sh + (d,)), arr["wm"].reshape(sh + (d,))
    wpp, wmp = arr["wpp"].reshape(sh + (d,)), arr["wmp"].reshape(sh + (d,))
    u, v, theta, delta_inf, boundary = _weights(wp, wm, wpp, wmp, betas[None, :, None, None])
    return SweepResult(gammas=gammas, betas=betas, theta=theta, u=u, v=v, boundary=boundary,
                       delta_inf=delta_inf, S_plus=arr["sp"].reshape(sh + (d,)),
                       S_minus=arr["sm"].reshape(sh + (d,)), crossed=arr["crossed"].reshape(sh).astype(bool),
                       steps=arr["steps"].reshape(sh).astype(np.int64), train_loss=arr["loss"].reshape(sh),
                       status=status, alpha=alpha, batch_size=b, n=n, message=_sweep_message(status))


def train_mgd(X, y, gamma, beta, alpha=0.01, batch_size=None, seed=0, max_steps=10 ** 6, tol=1e-8,
              replace=False, record=0, engine="auto"):
    """Run SMGD(γ, β) of Eq. (9) from u_1 = u_0 = α1, v_1 = v_0 = 0 with Lemma 2's S± (Theorem 2).

    ``max_steps`` counts updates (mini-batch steps; one epoch is ⌈n/B⌉ steps), ``tol`` is the full
    training loss at which the run stops (tested at epoch boundaries), ``replace`` samples batches
    with replacement, ``record > 0`` keeps that many log-spaced iterates in ``.trajectory``, and
    ``engine`` picks the compiled ('numba') or the pure-numpy engine ('auto': numba when present).
    The run is the 1×1×1 grid of :func:`mgd_sweep` (not cached): the same numbers, bit for bit.
    ``status`` is a :class:`mdln.status.Status` and ``message`` says why the run ended.
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
    replace = _check_replace(replace)
    engine = _resolve_engine(engine)
    rec_steps = _record_steps(record, max_steps)
    out = _compute(np.ascontiguousarray(X[None]), np.ascontiguousarray(y[None]), np.array([gamma]),
                   np.array([beta]), np.array([seed], np.uint64), alpha, b, replace, max_steps, tol, engine,
                   False, None, rec_steps)
    o = {k: v[0] for k, v in out.items() if k != "rec_steps"}
    u, v, theta, delta_inf, boundary = _weights(o["wp"], o["wm"], o["wpp"], o["wmp"], beta)
    k, loss, status = int(o["steps"]), float(o["loss"]), Status(int(o["status"]))
    traj = None
    if record:
        ir = int(o["nrec"])
        # close the trajectory with the final iterate
        st = np.append(rec_steps[:ir], k) if (ir == 0 or rec_steps[ir - 1] != k) else rec_steps[:ir]
        keep = len(st)
        lo = np.append(o["rec_loss"][:ir], loss)[:keep]
        de = np.vstack([o["rec_delta"][:ir], delta_inf])[:keep]
        th = np.vstack([o["rec_theta"][:ir], theta])[:keep]
        traj = MGDTrajectory(steps=st, train_loss=lo, delta=de, theta=th)
    return MGDResult(theta=theta, u=u, v=v, delta_inf=delta_inf, boundary=boundary, S_plus=o["sp"],
                     S_minus=o["sm"], crossed=bool(o["crossed"]), steps=k, epochs=k / (-(-n // b)),
                     train_loss=loss, status=status, gamma=gamma, beta=beta, alpha=alpha, batch_size=b,
                     trajectory=traj,
                     message=_run_message(status, k, loss, tol, max_steps, 0.5 * float(y @ y) / n))
