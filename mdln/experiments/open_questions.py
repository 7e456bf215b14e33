"""Three questions the paper leaves open, measured (Proposition 3, Section 4, Section 3.3 / Appendix C.5).

1. How loose is Proposition 3?  ``mgf_sign_change_lambda`` finds the smallest λ at which some Δ_t,i of
   MGF(λ) vanishes (a log-grid scan, then bisection to a relative tolerance) and compares it with the
   bound n·min_i Δ0,i/‖y‖²; a least-squares fit of log λ_c on simple data quantities is judged on
   held-out data sets.
2. Do SMGD iterates keep their sign for small λ?  ``smgd_sign_change_gamma`` finds, for one (β, B), the
   smallest γ at which some w±,k changes sign in a run of stated length (continuous time ≥ ``horizon``).
3. Where does λ* sit?  The scan of question 1 also records ‖Δ∞‖ and the test loss on its λ grid.

``run(config, executor=None)`` runs the independent tasks (one per data set, one per (data set, B, β))
through any ``concurrent.futures.Executor`` (``None``: serially); each task is a pure function of its
arguments, cached on disk, so the results are bit-identical whichever executor runs them.
"""
from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .._checks import check_beta, check_data, check_fidelity, check_positive
from ..cache import cached_arrays
from ..dln import train_mgf
from ..implicit import prop3_bound
from ..smgd import check_executor, mgd_sweep

__all__ = ["Problem", "problems", "design", "SignChangeLambda", "mgf_sign_change_lambda", "SMGDSignChange",
           "smgd_sign_change_gamma", "first_vanishing", "LawFit", "fit_law", "OpenQuestionsConfig",
           "OpenQuestionsResult", "run", "switches_once", "KINDS", "FEATURES", "R2_THRESHOLD", "LEVEL_SET_DECADES"]

KINDS = ("gaussian", "toeplitz", "rademacher")
FEATURES = ("log α", "log n", "log d", "log s", "log ‖y‖", "log eig_max", "log eig_min")
R2_THRESHOLD = 0.5        # a fit "predicts" log λ_c when its held-out R² reaches this
LEVEL_SET_DECADES = 0.3   # the SMGD threshold "follows λ" when log10 λ_c spreads over β by at most this


# ---------------------------------------------------------------- data
def design(kind, n, d, mu=1.0, sigma=1.0, rho=0.5, seed=0):
    """X (n, d): rows μ1 + σz with z Gaussian N(0, I), Toeplitz-correlated N(0, [ρ^|i−j|]) or Rademacher."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    rng = np.random.default_rng(seed)
    if kind == "rademacher":
        z = rng.choice(np.array([-1.0, 1.0]), size=(n, d))
    else:
        z = rng.standard_normal((n, d))
        if kind == "toeplitz":
            idx = np.arange(d)
            z = z @ np.linalg.cholesky(rho ** np.abs(idx[:, None] - idx[None, :])).T
    return mu + sigma * z


@dataclass(frozen=True)
class Problem:
    """One noiseless sparse regression y = Xθ* (Section 3), θ* = 1/√s on its support, and the scale α."""

    kind: str = "gaussian"
    n: int = 20
    d: int = 30
    s: int = 5
    mu: float = 1.0
    sigma: float = 1.0
    rho: float = 0.5
    alpha: float = 0.01
    support: str = "first"
    seed: int = 0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.support not in ("first", "random"):
            raise ValueError(f"support must be 'first' or 'random', got {self.support!r}")
        if not 1 <= self.s <= self.d:
            raise ValueError(f"s must lie in [1, d={self.d}], got {self.s}")
        check_positive(self.alpha, "alpha")

    def data(self):
        """(X, y, θ*) of this problem."""
        X = design(self.kind, self.n, self.d, self.mu, self.sigma, self.rho, self.seed)
        theta_star = np.zeros(self.d)
        rng = np.random.default_rng([self.seed, 1])
        idx = np.arange(self.s) if self.support == "first" else rng.choice(self.d, self.s, replace=False)
        theta_star[idx] = 1.0 / np.sqrt(self.s)
        return X, X @ theta_star, theta_star

    def covariance(self):
        """E[xxᵀ] = σ²C + μ²11ᵀ, C = I (Gaussian, Rademacher) or [ρ^|i−j|] (Toeplitz): the test loss's."""
        idx = np.arange(self.d)
        c = self.rho ** np.abs(idx[:, None] - idx[None, :]) if self.kind == "toeplitz" else np.eye(self.d)
        return self.sigma ** 2 * c + self.mu ** 2

    def test_loss(self, theta):
        """Population loss ½(θ−θ*)ᵀE[xxᵀ](θ−θ*)."""
        r = np.asarray(theta) - self.data()[2]
        return 0.5 * float(r @ self.covariance() @ r)

    def features(self):
        """The data quantities of FEATURES (log10): α, n, d, s, ‖y‖ and the extreme nonzero eigenvalues."""
        X, y, _ = self.data()
        ev = np.linalg.eigvalsh(X.T @ X / self.n)
        ev = ev[ev > 1e-10 * ev[-1]]
        return np.log10([self.alpha, self.n, self.d, self.s, np.linalg.norm(y), ev[-1], ev[0]])


def problems(count, seed=0):
    """``count`` problems, each drawn from the grids below with its own seed (n, d, s, μ, σ, α, kind, support)."""
    rng = np.random.default_rng([seed, 2024])
    out = []
    for i in range(count):
        d = int(rng.choice([20, 30, 50]))
        out.append(Problem(kind=KINDS[i % 3], n=int(rng.choice([10, 20, 40])), d=d,
                           s=int(rng.choice([2, 5, 10])), mu=float(rng.choice([0.0, 1.0])),
                           sigma=float(rng.choice([0.5, 1.0, 2.0])), rho=float(rng.choice([0.3, 0.7])),
                           alpha=float(rng.choice([0.003, 0.01, 0.03, 0.1])),
                           support=("first", "random")[int(rng.integers(2))], seed=int(seed * 1000 + i)))
    return out


# ---------------------------------------------------------------- MGF: the smallest λ with a vanishing Δ
def first_vanishing(trajectory):
    """(t, i, side) of the first sign change of some w±,i on a dense MGF trajectory (side +1: w+, −1: w−);
    None when no coordinate changes sign on the trajectory's grid."""
    best = None
    for side, w in ((1, trajectory.w_plus), (-1, trajectory.w_minus)):
        flipped = np.sign(w) != np.sign(w[0])
        if flipped.any():
            k = int(np.argmax(flipped.any(axis=1)))
            if best is None or k < best[0]:
                best = (k, int(np.argmax(flipped[k])), side)
    return None if best is None else (float(trajectory.t[best[0]]), best[1], best[2])


@dataclass(frozen=True)
class SignChangeLambda:
    """λ_c: the smallest λ at which MGF(λ)'s Δ_t vanishes somewhere, bracketed in (lam_lo, lam_c].

    ``lam_c`` is the smallest λ seen to vanish (inf when none on the grid did), ``bound`` Proposition 3's
    n·min Δ0/‖y‖²; ``time``, ``coordinate``, ``side`` locate the first vanishing at λ = lam_c; ``monotone``
    says whether the scan's vanishing flags switch once from False to True. The scan's ‖Δ∞‖ and θ∞ serve
    the λ* question (Section 3.3).
    """

    lam_c: float
    lam_lo: float
    bound: float
    time: float
    coordinate: int
    side: int
    monotone: bool
    scan_lams: np.ndarray
    scan_vanished: np.ndarray
    scan_delta_norm: np.ndarray
    scan_theta: np.ndarray
    n_runs: int
    rtol: float

    @property
    def found(self):
        """True when some λ of the scan made Δ_t vanish."""
        return bool(np.isfinite(self.lam_c))

    @property
    def decades_loose(self):
        """log10(λ_c / bound): how many decades Proposition 3's bound sits below λ_c."""
        return float(np.log10(self.lam_c / self.bound))


def switches_once(flags):
    """True when a boolean sequence is False…False True…True."""
    flags = np.asarray(flags, bool)
    return bool(np.all(np.diff(flags.astype(int)) >= 0))


def mgf_sign_change_lambda(X, y, alpha=0.01, lams=None, rtol=1e-2, **mgf_kwargs):
    """λ_c of MGF(λ) (Eq. 4): scan ``lams`` (default 1e-4…10, half decades), bisect in log λ to ``rtol``.

    Proposition 3 guarantees no vanishing for λ ≤ bound, so when the smallest scanned λ already vanishes
    the bisection starts from the bound. Bisection assumes one switch; ``monotone`` reports the scan.
    """
    X, y = check_data(X, y)
    alpha = check_positive(alpha, "alpha")
    rtol = check_positive(rtol, "rtol")
    lams = np.geomspace(1e-4, 10.0, 11) if lams is None else np.asarray(lams, dtype=float)
    if lams.ndim != 1 or lams.size < 1 or np.any(lams <= 0) or np.any(np.diff(lams) <= 0):
        raise ValueError("lams must be a strictly increasing 1-D sequence of positive λ values")
    bound = prop3_bound(X, y, np.full(X.shape[1], alpha ** 2))

    def mgf(lam, trajectory=False):
        return train_mgf(X, y, float(lam), alpha=alpha, trajectory=trajectory, **mgf_kwargs)
    runs = [mgf(lam) for lam in lams]
    vanished = np.array([r.vanished for r in runs])
    delta_norm = np.array([np.linalg.norm(r.delta_inf) for r in runs])
    thetas = np.array([r.theta for r in runs])
    n_runs = len(runs)
    if not vanished.any():
        return SignChangeLambda(math.inf, float(lams[-1]), bound, math.nan, -1, 0, switches_once(vanished), lams,
                                vanished, delta_norm, thetas, n_runs, rtol)
    k = int(np.argmax(vanished))
    lo, hi = (float(lams[k - 1]) if k > 0 else min(bound, float(lams[0]) / 2)), float(lams[k])
    hi_run = None
    while hi / lo > 1.0 + rtol:
        mid = math.sqrt(lo * hi)
        r = mgf(mid, trajectory=True)
        n_runs += 1
        if r.vanished:
            hi, hi_run = mid, r
        else:
            lo = mid
    if hi_run is None:
        hi_run = mgf(hi, trajectory=True)
        n_runs += 1
    t, i, side = first_vanishing(hi_run.trajectory)
    return SignChangeLambda(hi, lo, bound, t, i, side, switches_once(vanished), lams, vanished, delta_norm,
                            thetas, n_runs, rtol)


# ---------------------------------------------------------------- SMGD: the smallest γ with a sign change
@dataclass(frozen=True)
class SMGDSignChange:
    """γ_c(β, B): the smallest γ at which some w±,k of SMGD(γ, β) with batch size B changes sign within
    continuous time ``horizon`` (k·γ/(1−β) ≥ horizon steps), bracketed in (gamma_lo, gamma_c]; diverged
    runs do not count as sign changes. ``runs_*`` list every run made (scan then bisection)."""

    beta: float
    batch_size: int
    seed: int
    gamma_c: float
    gamma_lo: float
    monotone: bool
    runs_gamma: np.ndarray
    runs_crossed: np.ndarray
    runs_diverged: np.ndarray
    horizon: float
    rtol: float

    @property
    def lam_c(self):
        """λ_c = γ_c/(1−β)² (Proposition 1)."""
        return self.gamma_c / (1.0 - self.beta) ** 2

    @property
    def runs_lam(self):
        """λ of every run."""
        return self.runs_gamma / (1.0 - self.beta) ** 2


def _smgd_runs(X, y, gammas, beta, batch_size, seed, alpha, horizon, tol):
    """(crossed, diverged) of SMGD runs at ``gammas`` (one sweep, at least ``horizon`` of time each)."""
    cap = int(math.ceil(horizon * (1.0 - beta) / float(np.min(gammas))))
    sw = mgd_sweep(X, y, gammas, [beta], seeds=seed, alpha=alpha, batch_size=batch_size, max_steps=cap,
                   tol=tol, cache=False, n_threads=1)
    return sw.crossed[:, 0, 0] & ~sw.diverged[:, 0, 0], sw.diverged[:, 0, 0]


def smgd_sign_change_gamma(X, y, beta, batch_size=None, seed=0, alpha=0.01, lams=None, rtol=5e-2,
                           horizon=20.0, tol=1e-8):
    """γ_c(β, B) of SMGD (Eq. 9): scan γ = λ(1−β)² over ``lams``, then bisect in log γ to ``rtol``."""
    X, y = check_data(X, y)
    beta = check_beta(beta)
    rtol = check_positive(rtol, "rtol")
    horizon = check_positive(horizon, "horizon")
    lams = np.geomspace(1e-3, 1.0, 7) if lams is None else np.asarray(lams, dtype=float)
    gammas = lams * (1.0 - beta) ** 2
    crossed, diverged = _smgd_runs(X, y, gammas, beta, batch_size, seed, alpha, horizon, tol)
    g_all, c_all, d_all = list(gammas), list(crossed), list(diverged)
    b = X.shape[0] if batch_size is None else int(batch_size)
    monotone = switches_once(crossed[~diverged])    # diverged runs carry no sign information
    if not crossed.any():
        return SMGDSignChange(beta, b, seed, math.inf, float(gammas[-1]), monotone, np.array(g_all),
                              np.array(c_all), np.array(d_all), horizon, rtol)
    k = int(np.argmax(crossed))
    lo, hi = (float(gammas[k - 1]) if k > 0 else float(gammas[0]) / 10), float(gammas[k])
    while hi / lo > 1.0 + rtol:
        mid = math.sqrt(lo * hi)
        c, dv = _smgd_runs(X, y, np.array([mid]), beta, batch_size, seed, alpha, horizon, tol)
        g_all.append(mid), c_all.append(bool(c[0])), d_all.append(bool(dv[0]))
        if c[0]:
            hi = mid
        else:
            lo = mid
    return SMGDSignChange(beta, b, seed, hi, lo, monotone, np.array(g_all), np.array(c_all),
                          np.array(d_all), horizon, rtol)


# ---------------------------------------------------------------- a law for λ_c?
@dataclass(frozen=True)
class LawFit:
    """Least-squares fit of log10 λ_c on FEATURES (train part), judged by R² on held-out problems."""

    coef: np.ndarray
    intercept: float
    r2_train: float
    r2_test: float
    r2_test_bound_form: float
    n_train: int
    n_test: int
    threshold: float

    @property
    def enough(self):
        """At least two training problems per fitted parameter (fewer interpolate the training set)."""
        return bool(self.n_train >= 2 * (self.coef.size + 1))

    @property
    def predicts(self):
        """The computed verdict: enough training problems and held-out R² ≥ threshold."""
        return bool(self.enough and self.r2_test >= self.threshold)


def _r2(y, pred):
    ss = float(np.sum((y - np.mean(y)) ** 2))
    return 1.0 - float(np.sum((y - pred) ** 2)) / ss if ss > 0 else math.nan


def fit_law(features, log_lam_c, log_bound, train_fraction=2 / 3, seed=0, threshold=R2_THRESHOLD):
    """Fit log10 λ_c = a + b·features on a seeded random split; also the bound's form log10 bound + c."""
    F, z, lb = np.asarray(features, float), np.asarray(log_lam_c, float), np.asarray(log_bound, float)
    perm = np.random.default_rng(seed).permutation(len(z))
    m = int(round(train_fraction * len(z)))
    tr, te = perm[:m], perm[m:]
    A = np.column_stack([np.ones(len(z)), F])
    sol = np.linalg.lstsq(A[tr], z[tr], rcond=None)[0]
    c = float(np.mean(z[tr] - lb[tr]))
    return LawFit(coef=sol[1:], intercept=float(sol[0]), r2_train=_r2(z[tr], A[tr] @ sol),
                  r2_test=_r2(z[te], A[te] @ sol), r2_test_bound_form=_r2(z[te], lb[te] + c),
                  n_train=len(tr), n_test=len(te), threshold=threshold)


# ---------------------------------------------------------------- the experiment
@dataclass(frozen=True)
class OpenQuestionsConfig:
    """Sizes of the three studies: problems for MGF (λ_c, λ*), and for SMGD batch sizes and β grid."""

    n_problems: int = 12
    mgf_lams: tuple = tuple(float(x) for x in np.geomspace(1e-3, 10.0, 9))
    mgf_rtol: float = 2e-2
    n_smgd_problems: int = 1
    batch_sizes: tuple = (1, 2, 5, None)
    betas: tuple = (0.0, 0.5, 0.9)
    smgd_decades: tuple = (-1.0, -0.5, 0.0, 0.5, 1.0)
    smgd_rtol: float = 0.1
    horizon: float = 20.0
    seed: int = 0

    @classmethod
    def preset(cls, fidelity):
        """'test' (seconds), 'book' (the chapter, about a minute and a half), 'paper' (the full study)."""
        check_fidelity(fidelity)
        if fidelity == "test":
            return cls(n_problems=3, mgf_lams=(1e-3, 1e-2, 1e-1, 1.0), mgf_rtol=0.2, n_smgd_problems=1,
                       batch_sizes=(2, None), betas=(0.0, 0.5), smgd_decades=(-1.0, 0.0, 1.0), smgd_rtol=0.3,
                       horizon=5.0)
        if fidelity == "paper":
            return cls(n_problems=60, mgf_lams=tuple(float(x) for x in np.geomspace(1e-4, 10.0, 21)),
                       mgf_rtol=1e-3, n_smgd_problems=20, smgd_decades=(-1.5, -1.0, -0.5, 0.0, 0.5, 1.0),
                       smgd_rtol=5e-2)
        return cls()

    def problems(self):
        """The problems of the MGF study (the first ``n_smgd_problems`` also serve the SMGD study)."""
        if self.n_problems < self.n_smgd_problems:
            raise ValueError("n_smgd_problems must not exceed n_problems")
        return problems(self.n_problems, self.seed)


@dataclass(frozen=True)
class OpenQuestionsResult:
    """The three studies: one SignChangeLambda per problem, SMGD thresholds per (problem, B, β)."""

    config: OpenQuestionsConfig
    problems: tuple
    mgf: tuple
    smgd: tuple            # (problem index, SMGDSignChange) pairs
    test_losses: np.ndarray = field(repr=False)

    def law(self):
        """The log λ_c law on FEATURES, over the problems with a finite λ_c."""
        ok = [i for i, m in enumerate(self.mgf) if m.found]
        F = np.array([self.problems[i].features() for i in ok])
        z = np.log10([self.mgf[i].lam_c for i in ok])
        lb = np.log10([self.mgf[i].bound for i in ok])
        return fit_law(F, z, lb, seed=self.config.seed)

    def lam_star(self):
        """Per problem: (λ*, λ_Δ) on the scan grid, λ* = argmin test loss, λ_Δ = argmin ‖Δ∞‖ (Section 3.3)."""
        out = []
        for m, tl in zip(self.mgf, self.test_losses):
            out.append((float(m.scan_lams[int(np.argmin(tl))]), float(m.scan_lams[int(np.argmin(m.scan_delta_norm))])))
        return np.array(out)

    def arrays(self):
        """Per problem: λ_c, Proposition 3's bound, the first vanishing's time, λ* and λ_Δ; the SMGD rows."""
        rows = np.array(self.smgd_table(), dtype=float).reshape(-1, 5)
        ls = self.lam_star()
        return dict(lam_c=np.array([m.lam_c for m in self.mgf]), bound=np.array([m.bound for m in self.mgf]),
                    first_time=np.array([m.time for m in self.mgf]), lam_star=ls[:, 0], lam_delta=ls[:, 1],
                    smgd_problem=rows[:, 0].astype(int), smgd_batch=rows[:, 1].astype(int),
                    smgd_beta=rows[:, 2], smgd_lam_c=rows[:, 3], smgd_mgf_lam_c=rows[:, 4])

    def summary(self):
        """The headline numbers, plain JSON-able values (verdicts computed from stated thresholds)."""
        dec = np.array([m.decades_loose for m in self.mgf if m.found])
        law = self.law() if len(dec) >= 4 else None
        ls = self.lam_star()
        lam_c = np.array([m.lam_c for m in self.mgf])
        fin = np.isfinite(lam_c)
        star_over_c = ls[fin, 0] / lam_c[fin]
        out = dict(
            n_problems=len(self.mgf), n_found=int(fin.sum()),
            n_nonmonotone=int(sum(not m.monotone for m in self.mgf)),
            decades_median=float(np.median(dec)), decades_min=float(np.min(dec)), decades_max=float(np.max(dec)),
            decades_q25=float(np.quantile(dec, 0.25)), decades_q75=float(np.quantile(dec, 0.75)),
            first_time_max=float(max(m.time for m in self.mgf if m.found)),
            lam_star_over_c_median=float(np.median(star_over_c)),
            n_lam_star_past_c=int(np.sum(star_over_c > 1.0)), n_lam_star_eval=int(fin.sum()),
            n_lam_delta_eq_star=int(np.sum(ls[:, 0] == ls[:, 1])),
        )
        if law is not None:
            out.update(r2_test=law.r2_test, r2_train=law.r2_train, r2_test_bound_form=law.r2_test_bound_form,
                       law_predicts=law.predicts, law_enough=law.enough, r2_threshold=law.threshold, law_n_train=law.n_train,
                       law_n_test=law.n_test, law_coef=dict(zip(FEATURES, map(float, law.coef))))
        out.update(self.smgd_summary())
        return out

    def smgd_table(self):
        """Rows (problem, B, β, λ_c SMGD, λ_c MGF) over the SMGD runs."""
        return [(i, r.batch_size, r.beta, r.lam_c, self.mgf[i].lam_c) for i, r in self.smgd]

    def smgd_summary(self):
        """SMGD counts: level set over β, the move with B, below MGF's λ_c, the smallest λ with a change."""
        if not self.smgd:
            return {}
        rows = self.smgd_table()
        groups = {}
        for i, b, beta, lc, _ in rows:
            groups.setdefault((i, b), []).append(lc)
        spreads = [float(np.ptp(np.log10(v))) for v in groups.values() if np.all(np.isfinite(v))]
        by_b = {}
        full = {(i, beta): lc for i, b, beta, lc, _ in rows if b == self.problems[i].n}
        for i, b, beta, lc, _ in rows:
            ref = full.get((i, beta), math.inf)
            if np.isfinite(lc) and np.isfinite(ref):
                by_b.setdefault(int(b) if b != self.problems[i].n else "n", []).append(float(np.log10(lc / ref)))
        below = [lc < lm for _, _, _, lc, lm in rows if np.isfinite(lc) and np.isfinite(lm)]
        best = None
        for i, r in self.smgd:
            lam = r.runs_lam
            for j in np.flatnonzero(r.runs_crossed):
                if best is None or lam[j] < best[0]:
                    best = (float(lam[j]), i, r.batch_size, r.beta, float(r.runs_gamma[j]), r.seed)
        ratio_min = min((lc / lm for _, _, _, lc, lm in rows if np.isfinite(lc) and np.isfinite(lm)), default=math.nan)
        return dict(
            smgd_n_thresholds=len(rows), smgd_n_found=int(sum(np.isfinite(r[3]) for r in rows)),
            smgd_spread_median=float(np.median(spreads)) if spreads else math.nan,
            smgd_spread_max=float(np.max(spreads)) if spreads else math.nan,
            smgd_follows_lam=bool(spreads and np.median(spreads) <= LEVEL_SET_DECADES),
            smgd_level_threshold=LEVEL_SET_DECADES,
            smgd_shift_by_b={str(k): float(np.median(v)) for k, v in by_b.items()},
            smgd_n_below_mgf=int(sum(below)), smgd_n_compared=len(below),
            smgd_min_ratio_to_mgf=float(ratio_min),
            smgd_n_nonmonotone=int(sum(not r.monotone for _, r in self.smgd)),
            smgd_smallest_lam=None if best is None else best[0],
            smgd_smallest_run=None if best is None else dict(problem=best[1], batch_size=best[2], beta=best[3],
                                                               gamma=best[4], seed=best[5]),
        )


# ---------------------------------------------------------------- tasks (pure, cached, picklable)
def _mgf_arrays(problem, lams, rtol):
    X, y, _ = problem.data()
    r = mgf_sign_change_lambda(X, y, alpha=problem.alpha, lams=lams, rtol=rtol)
    out = {k: np.asarray(v) for k, v in asdict(r).items()}
    out["test_loss"] = np.array([problem.test_loss(th) for th in r.scan_theta])
    return out


def mgf_task(problem, lams, rtol, use_cache=True):
    """One problem's λ_c and scan (cached): a dict of arrays."""
    params = dict(problem=asdict(problem), lams=[float(x) for x in lams], rtol=float(rtol))
    return cached_arrays("open_questions_mgf", params, lambda: _mgf_arrays(problem, lams, rtol), use_cache)


def _smgd_arrays(problem, beta, batch_size, seed, lams, rtol, horizon):
    X, y, _ = problem.data()
    r = smgd_sign_change_gamma(X, y, beta, batch_size=batch_size, seed=seed, alpha=problem.alpha, lams=lams,
                               rtol=rtol, horizon=horizon)
    return {k: np.asarray(v) for k, v in asdict(r).items()}


def smgd_task(problem, beta, batch_size, seed, lams, rtol, horizon, use_cache=True):
    """One (problem, β, B)'s γ_c (cached): a dict of arrays."""
    params = dict(problem=asdict(problem), beta=float(beta), batch_size=batch_size, seed=int(seed),
                  lams=[float(x) for x in lams], rtol=float(rtol), horizon=float(horizon))
    return cached_arrays("open_questions_smgd", params,
                         lambda: _smgd_arrays(problem, beta, batch_size, seed, lams, rtol, horizon), use_cache)


def _call(args):
    fn, a, kw = args
    return fn(*a, **kw)


def _map(jobs, executor, progress):
    """Results of ``jobs`` ((fn, args, kwargs) triples) in order, through ``executor`` (None: serially)."""
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(jobs))
    out = []
    if executor is None:
        for job in jobs:
            out.append(_call(job))
            if bar is not None:
                bar.update()
    else:
        futures = [executor.submit(_call, job) for job in jobs]
        for f in futures:
            out.append(f.result())
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    return out


def _scalar(a):
    return a.item() if np.ndim(a) == 0 else a


def run(config: OpenQuestionsConfig, executor=None, progress=False, use_cache=True) -> OpenQuestionsResult:
    """Run the three studies; tasks go through ``executor`` (any concurrent.futures.Executor; None: serial)."""
    executor = check_executor(executor)
    probs = config.problems()
    mg = _map([(mgf_task, (p, config.mgf_lams, config.mgf_rtol), dict(use_cache=use_cache)) for p in probs],
              executor, progress)
    mgf = tuple(SignChangeLambda(**{k: _scalar(a[k]) for k in SignChangeLambda.__dataclass_fields__}) for a in mg)
    jobs, where = [], []
    for i, p in enumerate(probs[:config.n_smgd_problems]):
        anchor = mgf[i].lam_c if mgf[i].found else 0.1
        lams = tuple(float(anchor * 10 ** e) for e in config.smgd_decades)
        for b in config.batch_sizes:
            for beta in config.betas:
                jobs.append((smgd_task, (p, beta, b, p.seed, lams, config.smgd_rtol, config.horizon),
                             dict(use_cache=use_cache)))
                where.append(i)
    sm = _map(jobs, executor, progress)
    smgd = tuple((i, SMGDSignChange(**{k: _scalar(a[k]) for k in SMGDSignChange.__dataclass_fields__}))
                 for i, a in zip(where, sm))
    return OpenQuestionsResult(config=config, problems=tuple(probs), mgf=mgf, smgd=smgd,
                               test_losses=np.array([a["test_loss"] for a in mg]))


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return float(obj) if np.isfinite(obj) else str(obj)
    if isinstance(obj, (np.integer, np.bool_)):
        return obj.item()
    return obj


def to_json(result: OpenQuestionsResult) -> dict:
    """Summary, config and per-problem numbers as JSON-able values."""
    per = [dict(problem=asdict(p), lam_c=m.lam_c, bound=m.bound, decades=m.decades_loose if m.found else None,
                time=m.time, coordinate=m.coordinate, side=m.side, monotone=m.monotone,
                lam_star=float(ls[0]), lam_delta=float(ls[1]))
           for p, m, ls in zip(result.problems, result.mgf, result.lam_star())]
    smgd = [dict(problem=i, batch_size=b, beta=beta, lam_c=lc, lam_c_mgf=lm) for i, b, beta, lc, lm in
            result.smgd_table()]
    return _jsonable(dict(config=asdict(result.config), summary=result.summary(), problems=per, smgd=smgd))


def main(argv=None):
    """``python -m mdln.experiments.open_questions --fidelity paper --out DIR``: run, write a JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fidelity", default="book", choices=("test", "book", "paper"))
    ap.add_argument("--out", default=".")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: 2 at paper fidelity)")
    ap.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                    help="run the tasks on this Dask cluster instead of local processes")
    args = ap.parse_args(argv)
    config = OpenQuestionsConfig.preset(args.fidelity)
    workers = args.workers if args.workers is not None else (2 if args.fidelity == "paper" else 0)
    import multiprocessing
    import os
    import time
    from concurrent.futures import ProcessPoolExecutor
    start = time.perf_counter()
    if args.scheduler:
        from dask.distributed import Client
        with Client(args.scheduler) as client:
            result = run(config, executor=client.get_executor(), progress=True)
    elif workers > 0:   # spawned workers: forking after numba's OpenMP-parallel kernels ran is unsafe
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as ex:
            result = run(config, executor=ex, progress=True)
    else:
        result = run(config, progress=True)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"open_questions_{args.fidelity}.json")
    doc = to_json(result)
    doc["run"] = dict(wall_time_s=round(time.perf_counter() - start, 1),
                      executor="dask" if args.scheduler else f"{workers} processes" if workers > 0 else "serial")
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False)
    print(path)


if __name__ == "__main__":
    main()
