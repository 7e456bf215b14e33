"""The simplification θ̃0 ≈ 0 (Eq. 8, Eq. 10) and its rule, validated on data sets the fit never saw.

The book states when dropping θ̃0 from Theorems 1–2 is harmless: the simplified prediction
argmin_S ψ_Δ∞ is "within 1%" of the trained θ (normalised distance below ``level``)

* first clause: when Δ_t stays positive (no w± changes sign; Corollaries 2–3 bound |θ̃0| by α²);
* second clause: when the first-order shift ‖δθ‖/‖θ‖ that the dropped term causes is below a threshold.

The threshold was read off the very runs it was then quoted for. Here it is fitted on ONE family, the
book's own (Gaussian X with mean μ = 1, θ* on the first s coordinates, (n, d, s) = (20, 30, 5),
:func:`mdln.data.sparse_regression` seeds ``train_seeds``), as the largest shift m* such that every
converged training run with shift < m* is within ``level`` (:func:`fit_threshold`, the book's own rule:
``SimplificationResult.rule`` / :func:`mdln.experiments.theorems.simplification_rule`). It is then judged
on held-out problems (:func:`heldout_problems`: Gaussian, Toeplitz-correlated and Rademacher X of
:func:`mdln.experiments.open_questions.design`, random supports, other (n, d, s, μ), problem seeds from
``heldout_seed_base`` on, which no training set uses): the false-assurance rate is the share of the
held-out runs the rule calls "within 1%" whose distance is ≥ ``level``.

Per algorithm: MGF(λ) (Theorem 1; measures as in :func:`mdln.experiments.sec3.run_simplification`, the
shift :func:`mdln.experiments.sec3.linearised_shift` at θ^MGF), MGD full batch and SMGD with batch size
B < n (Theorem 2; measures as in :func:`mdln.experiments.theorems.check_sweep`, the shift
:func:`mdln.implicit.linear_shift` at the simplified solution). Everything is seeded and cached per run.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from .._checks import check_config, fidelity_preset
from ..cache import cached_arrays, code_key
from ..dln import train_mgf
from ..implicit import dropped_term, implicit_solution, normalised_distance
from ..smgd import mgd_sweep
from ..status import Status
from .config import DataConfig
from .open_questions import KINDS, Problem
from .sec3 import linearised_shift
from .theorems import check_sweep

__all__ = ["HoldoutConfig", "HoldoutResult", "AlgorithmHoldout", "run_holdout", "heldout_problems",
           "fit_threshold", "assurance", "ALGORITHMS", "to_json", "main"]

ALGORITHMS = ("mgf", "mgd", "smgd")
"""MGF(λ) (Theorem 1), MGD full batch and SMGD with B < n (Theorem 2)."""

_NS = (10, 20, 30)
_DS = (30, 40, 50)
_SS = (2, 3, 5, 8)
_MUS = (0.0, 0.5, 1.0, 1.5)
_RHOS = (0.3, 0.7)


# ------------------------------------------------------------------------------------ the rule
def _as_1d(a, name, dtype=float):
    arr = np.asarray(a, dtype=dtype)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    return arr


def _check_level(level):
    if not (isinstance(level, (int, float, np.floating)) and 0 < float(level) < 1):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    return float(level)


def fit_threshold(measure, distance, level=0.01):
    """Largest m* with every run of measure < m* within ``level`` (distance < level): the smallest measure
    among runs at or beyond ``level`` (inf when none is). NaN entries are ignored (Appendix F.2.2 rule)."""
    m, dist = _as_1d(measure, "measure"), _as_1d(distance, "distance")
    if m.shape != dist.shape:
        raise ValueError(f"measure and distance must have the same shape, got {m.shape} and {dist.shape}")
    level = _check_level(level)
    ok = np.isfinite(m) & np.isfinite(dist)
    if not ok.any():
        raise ValueError("fit_threshold needs at least one run with a finite measure and distance")
    bad = ok & (dist >= level)
    return float(np.min(m[bad])) if bad.any() else math.inf


def assurance(says, distance, level=0.01):
    """Counts of a rule that says "within ``level``" on the runs where ``says`` is True.

    Returns dict: n_runs, n_says (coverage of the rule), n_wrong (says but distance ≥ level), rate
    (n_wrong/n_says, NaN when the rule says nothing), n_within (runs truly within), n_right, coverage
    (n_says/n_runs) and true_coverage (n_right/n_within), worst (index of the largest distance among the
    runs the rule vouches for, −1 when none).
    """
    s = _as_1d(says, "says", dtype=bool)
    dist = _as_1d(distance, "distance")
    if s.shape != dist.shape:
        raise ValueError(f"says and distance must have the same shape, got {s.shape} and {dist.shape}")
    if not np.all(np.isfinite(dist)):
        raise ValueError("distance must be finite (drop unconverged runs first)")
    level = _check_level(level)
    within = dist < level
    n_says, n_wrong = int(s.sum()), int(np.sum(s & ~within))
    n_within, n_right = int(within.sum()), int(np.sum(s & within))
    worst = int(np.flatnonzero(s)[np.argmax(dist[s])]) if n_says else -1
    return dict(n_runs=int(s.size), n_says=n_says, n_wrong=n_wrong,
                rate=n_wrong / n_says if n_says else math.nan, n_within=n_within, n_right=n_right,
                coverage=n_says / s.size if s.size else math.nan,
                true_coverage=n_right / n_within if n_within else math.nan, worst=worst)


def _fit(measure, distance, level):
    """:func:`fit_threshold`, NaN when no training run is usable (the rule then says nothing)."""
    ok = np.isfinite(measure) & np.isfinite(distance)
    return fit_threshold(measure, distance, level) if ok.any() else math.nan


def _wilson_upper(k, n, z=1.959963984540054):
    """Upper end of the 95% Wilson score interval of a proportion k/n (NaN when n = 0)."""
    if n == 0:
        return math.nan
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float((centre + half) / (1 + z * z / n))


# ------------------------------------------------------------------------------------ config
@dataclass(frozen=True)
class HoldoutConfig:
    """The fit family, the held-out problems and the runs of the three algorithms (all seeded).

    Training family: ``sparse_regression(n, d, s, mu=train_mu, seed)`` for ``seed`` in ``train_seeds``
    (MGF) or ``mgd_train_seeds`` (MGD, SMGD), support 'first'. Held-out: ``n_heldout`` problems of
    :func:`heldout_problems`. MGF runs at every λ of ``mgf_lams``; MGD and SMGD at every (γ, β) of
    ``gammas`` × ``betas`` with λ = γ/(1−β)² in ``mgd_lam_range``, stopped at train loss ``tol`` or after
    ``max_steps`` updates, SMGD with batch size ``batch_size`` (batch stream seed ``batch_seed``).
    The rule is reliable when its held-out false-assurance rate is at most ``max_rate``.
    """

    level: float = 0.01
    max_rate: float = 0.05
    alpha: float = 0.01
    train_n: int = 20
    train_d: int = 30
    train_s: int = 5
    train_mu: float = 1.0
    train_seeds: tuple = (0, 1, 2, 3)
    mgf_lams: tuple = (0.001, 0.01, 0.05, 0.1, 0.3, 0.7)
    mgd_train_seeds: tuple = (0, 1)
    gammas: tuple = (0.03, 0.06, 0.1, 0.15, 0.2, 0.3)
    betas: tuple = (0.0, 0.3, 0.5, 0.7)
    mgd_lam_range: tuple = (1e-3, 1.0)
    batch_size: int = 5
    batch_seed: int = 0
    max_steps: int = 40_000
    tol: float = 1e-8
    n_heldout: int = 4
    heldout_seed: int = 0
    heldout_seed_base: int = 100_000

    def __post_init__(self):
        check_config(self, dict(level="unit", max_rate="unit", alpha="pos", train_n="int1", train_d="int1",
                                train_s="int1", train_mu="real", train_seeds="seeds", mgf_lams="pos+",
                                mgd_train_seeds="seeds", gammas="pos+", betas="real+",
                                mgd_lam_range="pos2", batch_size="int1", batch_seed="int0",
                                max_steps="int1", tol="pos", n_heldout="int1", heldout_seed="int0",
                                heldout_seed_base="int0"),
                     ordered=[("train_s", "train_d")])
        if not self.level < 1:
            raise ValueError(f"HoldoutConfig.level must lie in (0, 1), got {self.level!r}")
        for b in self.betas:
            if not 0 <= b < 1:
                raise ValueError(f"HoldoutConfig.betas must lie in [0, 1), got {self.betas!r}")
        lo, hi = self.mgd_lam_range
        if not lo < hi:
            raise ValueError(f"HoldoutConfig.mgd_lam_range must be (low, high) with low < high, "
                             f"got {self.mgd_lam_range!r}")
        if self.batch_size >= self.train_n or self.batch_size >= min(_NS):
            raise ValueError(f"HoldoutConfig.batch_size must be below every n (training n = {self.train_n}, "
                             f"held-out n >= {min(_NS)}), got {self.batch_size}")
        if self.heldout_seed_base <= max(self.train_seeds + self.mgd_train_seeds):
            raise ValueError("HoldoutConfig.heldout_seed_base must exceed every training seed")

    @classmethod
    def preset(cls, fidelity):
        """'test' (seconds; small training data), 'book' (4 held-out sets), 'paper' (30 sets)."""
        return fidelity_preset(
            cls, fidelity,
            test=dict(train_n=10, train_d=15, train_s=3, train_seeds=(1, 3), mgf_lams=(0.01, 0.3),
                      mgd_train_seeds=(3,), gammas=(0.15, 0.25), betas=(0.0, 0.5), max_steps=30_000,
                      n_heldout=3),
            paper=dict(train_seeds=tuple(range(10)), mgd_train_seeds=tuple(range(4)),
                       mgf_lams=(0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7),
                       max_steps=80_000, n_heldout=30))

    def train_data(self, seeds):
        """The training family's data sets (the book's: Gaussian X, θ* on the first s coordinates)."""
        dc = DataConfig(n=self.train_n, d=self.train_d, s=self.train_s, mu=self.train_mu,
                        alpha=self.alpha, seeds=tuple(seeds))
        return dc.datasets()

    def mgd_pairs(self):
        """The (γ, β) grid (G, Bt) and the mask of cells with λ = γ/(1−β)² inside ``mgd_lam_range``."""
        g, b = np.asarray(self.gammas, float), np.asarray(self.betas, float)
        lam = g[:, None] / (1 - b[None, :]) ** 2
        return g, b, (lam >= self.mgd_lam_range[0]) & (lam <= self.mgd_lam_range[1])


def heldout_problems(count, seed=0, seed_base=100_000, alpha=0.01):
    """``count`` problems the fit never sees: kinds cycle through Gaussian, Toeplitz, Rademacher X;
    random supports; (n, d, s, μ, ρ) drawn from small grids (d ≥ n + 10, s ≤ n/2); problem seeds
    ``seed_base + i``."""
    if not (isinstance(count, (int, np.integer)) and count >= 1):
        raise ValueError(f"count must be an integer >= 1, got {count!r}")
    rng = np.random.default_rng([int(seed), 20])
    out = []
    for i in range(int(count)):
        n = int(rng.choice(_NS))
        d = int(rng.choice([x for x in _DS if x >= n + 10]))
        s = int(rng.choice([x for x in _SS if x <= n // 2]))
        out.append(Problem(kind=KINDS[i % len(KINDS)], n=n, d=d, s=s, mu=float(rng.choice(_MUS)),
                           sigma=1.0, rho=float(rng.choice(_RHOS)), alpha=float(alpha), support="random",
                           seed=int(seed_base) + i))
    return tuple(out)


# ------------------------------------------------------------------------------------ runs
_MGF_KEYS = ("converged", "sign_change", "distance", "distance_full", "shift", "dropped")


def _mgf_run(X, y, lam, alpha):
    """One MGF(λ) run measured as :func:`mdln.experiments.sec3.run_simplification` measures it."""
    r = train_mgf(X, y, lam, alpha=alpha, trajectory=True)
    out = dict(converged=np.array(r.status == Status.CONVERGED), sign_change=np.array(bool(r.vanished)),
               distance=np.array(np.nan), distance_full=np.array(np.nan), shift=np.array(np.nan),
               dropped=np.array(np.nan))
    if r.status != Status.CONVERGED:
        return out
    tt0 = r.theta_tilde0(X, y)
    out["distance"] = np.array(float(normalised_distance(r.theta, implicit_solution(X, y, r.delta_inf))))
    out["distance_full"] = np.array(float(normalised_distance(
        r.theta, implicit_solution(X, y, r.delta_inf, theta0=tt0))))
    out["shift"] = np.array(float(linearised_shift(X, r.theta, r.delta_inf, tt0)))
    out["dropped"] = np.array(float(dropped_term(tt0, r.delta_inf)))
    return out


def _mgf_cached(tag, data_params, X, y, lam, alpha):
    params = dict(data=data_params, lam=float(lam), alpha=float(alpha))
    return cached_arrays(f"holdout-mgf-{tag}", params, lambda: _mgf_run(X, y, float(lam), float(alpha)))


def _mgd_runs(config, X, y, batch_size):
    """Theorem 2 check of the (γ, β) grid on stacked data X (R, n, d): flattened per-run columns."""
    gammas, betas, keep = config.mgd_pairs()
    sw = mgd_sweep(X, y, gammas, betas, seeds=config.batch_seed, alpha=config.alpha, batch_size=batch_size,
                   max_steps=config.max_steps, tol=config.tol, n_threads=1)
    c = check_sweep(sw, X, y, config.tol)
    shape = c.status.shape                      # (G, Bt, R)
    gi, bi, ri = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), np.arange(shape[2]), indexing="ij")
    sel = np.broadcast_to(keep[:, :, None], shape)
    g, b = gammas[gi], betas[bi]
    return dict(replication=ri[sel], gamma=g[sel], beta=b[sel], lam=(g / (1 - b) ** 2)[sel],
                status=c.status[sel], converged=c.converged[sel], sign_change=c.crossed[sel],
                distance=c.distance[sel], distance_full=c.distance_full[sel], shift=c.shift[sel],
                dropped=c.dropped[sel])


# ------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class AlgorithmHoldout:
    """One algorithm: the threshold fitted on the training runs, the rule judged on the held-out runs.

    Per-run arrays (``train_*`` for the training family, the rest for held-out runs, one entry per run):
    ``problem`` (index into ``HoldoutResult.problems``), ``lam``, ``gamma``/``beta`` (NaN for MGF),
    ``converged``, ``sign_change``, ``distance`` (to argmin_S ψ_Δ∞), ``distance_full`` (Theorems 1–2 in
    full), ``shift`` (first-order shift ‖δθ‖/‖θ‖), ``dropped`` (max|arcsinh(2θ̃0/Δ∞)|).
    """

    algorithm: str
    level: float
    max_rate: float
    threshold: float
    n_train_sets: int
    train_lam: np.ndarray
    train_converged: np.ndarray
    train_sign_change: np.ndarray
    train_distance: np.ndarray
    train_shift: np.ndarray
    n_heldout_sets: int
    problem: np.ndarray
    lam: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    converged: np.ndarray
    sign_change: np.ndarray
    distance: np.ndarray
    distance_full: np.ndarray
    shift: np.ndarray
    dropped: np.ndarray

    @property
    def usable(self):
        """Held-out runs that converged with finite distance and shift (the runs the rule is judged on)."""
        return self.converged & np.isfinite(self.distance) & np.isfinite(self.shift)

    def clause(self, which):
        """:func:`assurance` of one clause on the usable held-out runs: 'shift' (shift < threshold),
        'first' (no sign change) or 'either' (the book's rule: no sign change, or shift < threshold)."""
        u = self.usable
        says = {"shift": self.shift < self.threshold, "first": ~self.sign_change,
                "either": (self.shift < self.threshold) | ~self.sign_change}
        if which not in says:
            raise ValueError(f"which must be one of {tuple(says)}, got {which!r}")
        out = assurance(says[which][u], self.distance[u], self.level)
        idx = np.flatnonzero(u)
        out["worst"] = int(idx[out["worst"]]) if out["worst"] >= 0 else -1
        out["rate_upper95"] = _wilson_upper(out["n_wrong"], out["n_says"])
        return out

    def at_threshold(self, threshold):
        """The same runs judged with another threshold (e.g. a value a chapter quotes)."""
        if not isinstance(threshold, (int, float, np.floating)) or not threshold >= 0:
            raise ValueError(f"threshold must be a number >= 0, got {threshold!r}")
        return dataclasses.replace(self, threshold=float(threshold))

    # the clean fields a claim reads
    @property
    def n_heldout_runs(self):
        """Usable held-out runs."""
        return int(self.usable.sum())

    @property
    def n_says_within(self):
        """Held-out runs with shift below the fitted threshold (the rule says "within 1%")."""
        return self.clause("shift")["n_says"]

    @property
    def n_wrong(self):
        """Of those, the runs whose distance is ≥ level (false assurance)."""
        return self.clause("shift")["n_wrong"]

    @property
    def rate(self):
        """False-assurance rate n_wrong / n_says_within of the fitted threshold (NaN when it says nothing)."""
        return self.clause("shift")["rate"]

    @property
    def worst_distance(self):
        """Largest distance among the runs the threshold vouches for (NaN when none)."""
        w = self.clause("shift")["worst"]
        return float(self.distance[w]) if w >= 0 else math.nan

    @property
    def reliable(self):
        """The fitted threshold says something and its held-out false-assurance rate is ≤ max_rate."""
        c = self.clause("shift")
        return bool(c["n_says"] > 0 and c["rate"] <= self.max_rate)

    @property
    def first_clause_reliable(self):
        """"No sign change ⇒ within level" says something and its false-assurance rate is ≤ max_rate."""
        c = self.clause("first")
        return bool(c["n_says"] > 0 and c["rate"] <= self.max_rate)

    @property
    def first_clause_rate(self):
        """False-assurance rate of "no sign change ⇒ within level" on the held-out runs."""
        return self.clause("first")["rate"]

    def summary(self):
        """Flat dict of plain numbers: threshold, counts, rates, worst cases, per clause."""
        out = dict(algorithm=self.algorithm, level=self.level, max_rate=self.max_rate,
                   threshold=self.threshold, n_train_sets=self.n_train_sets,
                   n_train_runs=int(np.sum(self.train_converged & np.isfinite(self.train_distance))),
                   n_train_sign_change=int(np.sum(self.train_converged & self.train_sign_change)),
                   n_heldout_sets=self.n_heldout_sets, n_heldout_runs=self.n_heldout_runs,
                   n_heldout_unconverged=int(np.sum(~self.usable)),
                   n_heldout_sign_change=int(np.sum(self.usable & self.sign_change)),
                   max_distance_full=float(np.max(self.distance_full[self.usable]))
                   if self.usable.any() else math.nan,
                   reliable=self.reliable)
        for tag, which in (("", "shift"), ("first_clause_", "first"), ("either_", "either")):
            c = self.clause(which)
            out.update({f"{tag}n_says_within": c["n_says"], f"{tag}n_wrong": c["n_wrong"],
                        f"{tag}rate": c["rate"], f"{tag}rate_upper95": c["rate_upper95"],
                        f"{tag}coverage": c["coverage"], f"{tag}true_coverage": c["true_coverage"],
                        f"{tag}worst_distance": float(self.distance[c["worst"]]) if c["worst"] >= 0
                        else math.nan, f"{tag}worst_run": c["worst"],
                        f"{tag}reliable": bool(c["n_says"] > 0 and c["rate"] <= self.max_rate)})
        return out

    def arrays(self):
        """Per-run arrays (training and held-out)."""
        return {f.name: np.asarray(getattr(self, f.name)) for f in dataclasses.fields(self)
                if isinstance(getattr(self, f.name), np.ndarray)}


@dataclass(frozen=True)
class HoldoutResult:
    """The rule per algorithm (:class:`AlgorithmHoldout`) and the held-out problems it was judged on."""

    config: HoldoutConfig
    problems: tuple
    mgf: AlgorithmHoldout
    mgd: AlgorithmHoldout
    smgd: AlgorithmHoldout
    status: Status = Status.CONVERGED
    message: str = ""

    def algorithm(self, name):
        """The :class:`AlgorithmHoldout` of 'mgf', 'mgd' or 'smgd'."""
        if name not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {name!r}")
        return getattr(self, name)

    def worst_params(self, name, which="shift"):
        """Parameters of the worst run the clause vouches for (problem fields, λ, γ, β, distance, shift)."""
        a = self.algorithm(name)
        w = a.clause(which)["worst"]
        if w < 0:
            return None
        p = self.problems[int(a.problem[w])]
        out = dict(kind=p.kind, n=p.n, d=p.d, s=p.s, mu=p.mu, rho=p.rho, support=p.support, seed=p.seed,
                   lam=float(a.lam[w]), distance=float(a.distance[w]), shift=float(a.shift[w]),
                   sign_change=bool(a.sign_change[w]))
        if name != "mgf":
            out.update(gamma=float(a.gamma[w]), beta=float(a.beta[w]),
                       batch_size=self.config.batch_size if name == "smgd" else p.n)
        return out

    @property
    def reliable(self):
        """Per algorithm: is the fitted threshold reliable at ``config.max_rate``?"""
        return {k: self.algorithm(k).reliable for k in ALGORITHMS}

    def summary(self):
        """Flat dict ``<algorithm>_<field>`` of plain values, plus the worst cases' parameters."""
        out = dict(level=self.config.level, max_rate=self.config.max_rate,
                   n_heldout_sets=len(self.problems))
        for k in ALGORITHMS:
            for f, v in self.algorithm(k).summary().items():
                if f != "algorithm":
                    out[f"{k}_{f}"] = v
            out[f"{k}_worst_params"] = self.worst_params(k, "shift")
            out[f"{k}_first_clause_worst_params"] = self.worst_params(k, "first")
        return out

    def arrays(self):
        """Per-run arrays ``<algorithm>_<field>`` and the held-out problems' parameters."""
        out = {}
        for k in ALGORITHMS:
            out.update({f"{k}_{f}": v for f, v in self.algorithm(k).arrays().items()})
        for f in ("kind", "n", "d", "s", "mu", "rho", "seed"):
            out[f"problem_{f}"] = np.array([getattr(p, f) for p in self.problems])
        return out

    def lines(self):
        """The summary as printable lines (≤ 80 characters)."""
        cfg = self.config
        out = [f"held-out: {len(self.problems)} problems; 'within' = distance < {cfg.level:g}; "
               f"reliable: rate <= {cfg.max_rate:g}",
               f"{'':6}{'threshold':>10}{'says':>6}{'wrong':>6}{'rate':>7}{'worst':>8}"
               f"{'no-cross':>9}{'wrong':>6}{'worst':>8}"]
        for k in ALGORITHMS:
            s = self.algorithm(k).summary()
            out.append(f"{k:6}{s['threshold']:10.3g}{s['n_says_within']:6d}{s['n_wrong']:6d}"
                       f"{_pct(s['rate']):>7}{_pct(s['worst_distance']):>8}"
                       f"{s['first_clause_n_says_within']:9d}{s['first_clause_n_wrong']:6d}"
                       f"{_pct(s['first_clause_worst_distance']):>8}")
        return out


def _pct(x):
    return "-" if not np.isfinite(x) else f"{100 * x:.1f}%"


# ------------------------------------------------------------------------------------ the experiment
def _steps(config):
    """Number of progress ticks of :func:`run_holdout` (MGF runs, then one per MGD/SMGD sweep)."""
    return len(config.train_seeds) * len(config.mgf_lams) + config.n_heldout * (len(config.mgf_lams) + 2) + 2


def _mgf_part(config, probs, tick):
    cols = {k: [] for k in ("lam",) + _MGF_KEYS}
    for ds in config.train_data(config.train_seeds):
        dp = dict(n=config.train_n, d=config.train_d, s=config.train_s, mu=config.train_mu, seed=ds.seed)
        for la in config.mgf_lams:
            r = _mgf_cached("train", dp, ds.X, ds.y, la, config.alpha)
            cols["lam"].append(float(la))
            for k in _MGF_KEYS:
                cols[k].append(r[k])
            tick()
    train = {k: np.array(v) for k, v in cols.items()}
    conv = train["converged"].astype(bool)
    thr = _fit(train["shift"][conv], train["distance"][conv], config.level)
    held = {k: [] for k in ("problem", "lam") + _MGF_KEYS}
    for i, p in enumerate(probs):
        X, y, _ = p.data()
        for la in config.mgf_lams:
            r = _mgf_cached("heldout", asdict(p), X, y, la, config.alpha)
            held["problem"].append(i)
            held["lam"].append(float(la))
            for k in _MGF_KEYS:
                held[k].append(r[k])
            tick()
    h = {k: np.array(v) for k, v in held.items()}
    nan = np.full(h["lam"].shape, np.nan)
    return AlgorithmHoldout(
        algorithm="mgf", level=config.level, max_rate=config.max_rate, threshold=thr,
        n_train_sets=len(config.train_seeds), train_lam=train["lam"], train_converged=conv,
        train_sign_change=train["sign_change"].astype(bool), train_distance=train["distance"],
        train_shift=train["shift"], n_heldout_sets=len(probs), problem=h["problem"].astype(np.int64),
        lam=h["lam"], gamma=nan, beta=nan, converged=h["converged"].astype(bool),
        sign_change=h["sign_change"].astype(bool), distance=h["distance"], distance_full=h["distance_full"],
        shift=h["shift"], dropped=h["dropped"])


def _mgd_part(config, probs, name, tick):
    dss = config.train_data(config.mgd_train_seeds)
    X, y = np.stack([q.X for q in dss]), np.stack([q.y for q in dss])
    batch = None if name == "mgd" else config.batch_size
    train = _mgd_runs(config, X, y, batch)
    tick()
    conv = train["converged"]
    thr = _fit(train["shift"][conv], train["distance"][conv], config.level)
    parts = []
    for i, p in enumerate(probs):
        Xp, yp, _ = p.data()
        r = _mgd_runs(config, Xp[None], yp[None], batch)
        r["problem"] = np.full(r["lam"].shape, i, dtype=np.int64)
        parts.append(r)
        tick()
    h = {k: np.concatenate([q[k] for q in parts]) for k in parts[0]}
    return AlgorithmHoldout(
        algorithm=name, level=config.level, max_rate=config.max_rate, threshold=thr,
        n_train_sets=len(config.mgd_train_seeds), train_lam=train["lam"], train_converged=conv,
        train_sign_change=train["sign_change"], train_distance=train["distance"], train_shift=train["shift"],
        n_heldout_sets=len(probs), problem=h["problem"], lam=h["lam"], gamma=h["gamma"], beta=h["beta"],
        converged=h["converged"], sign_change=h["sign_change"], distance=h["distance"],
        distance_full=h["distance_full"], shift=h["shift"], dropped=h["dropped"])


def run_holdout(config=None, progress=False, problems=None) -> HoldoutResult:
    """Fit each algorithm's threshold on the training family, judge the rule on held-out problems (cached
    per run: MGF per (data set, λ), MGD/SMGD per data set's (γ, β) sweep).

    ``problems`` (a tuple of :class:`~mdln.experiments.open_questions.Problem`) replaces the config's
    held-out draw; the fit never reads it.
    """
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"run_holdout: progress must be True or False, got {progress!r}")
    cfg = HoldoutConfig.preset("book") if config is None else config
    if not isinstance(cfg, HoldoutConfig):
        raise TypeError(f"run_holdout: config must be a HoldoutConfig, got {type(cfg).__name__}")
    if problems is None:
        probs = heldout_problems(cfg.n_heldout, cfg.heldout_seed, cfg.heldout_seed_base, cfg.alpha)
    else:
        probs = tuple(problems)
        if not probs or not all(isinstance(p, Problem) for p in probs):
            raise TypeError("run_holdout: problems must be a non-empty sequence of open_questions.Problem")
        if any(p.n <= cfg.batch_size for p in probs):
            raise ValueError(f"run_holdout: every problem needs n > batch_size = {cfg.batch_size}")
        cfg = dataclasses.replace(cfg, n_heldout=len(probs))
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=_steps(cfg), desc="held-out rule")

    def tick():
        if bar is not None:
            bar.update()
    try:
        mgf = _mgf_part(cfg, probs, tick)
        mgd = _mgd_part(cfg, probs, "mgd", tick)
        smgd = _mgd_part(cfg, probs, "smgd", tick)
    finally:
        if bar is not None:
            bar.close()
    res = HoldoutResult(config=cfg, problems=probs, mgf=mgf, mgd=mgd, smgd=smgd)
    bad = [k for k in ALGORITHMS if not res.algorithm(k).reliable]
    bad_first = [k for k in ALGORITHMS if not res.algorithm(k).first_clause_reliable]
    msg = ("every fitted threshold is reliable" if not bad else
           f"no reliable threshold for {', '.join(bad)} (held-out false-assurance rate above "
           f"{cfg.max_rate:g} or the rule says nothing)")
    msg += ("; the first clause is reliable for every algorithm" if not bad_first else
            f"; the first clause (no sign change) is not reliable for {', '.join(bad_first)}")
    return dataclasses.replace(res, message=msg)


# ------------------------------------------------------------------------------------ file and CLI
def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return float(obj) if np.isfinite(obj) else str(float(obj))
    if isinstance(obj, (np.integer, np.bool_)):
        return obj.item()
    return obj


def to_json(result: HoldoutResult, fidelity=None) -> dict:
    """Summary, config, held-out problems, code key and date as JSON-able values."""
    return _jsonable(dict(fidelity=fidelity, date=datetime.date.today().isoformat(),
                          code_key=code_key("mdln.experiments.holdout"),
                          config=asdict(result.config), summary=result.summary(),
                          message=result.message, problems=[asdict(p) for p in result.problems]))


def main(argv=None):
    """``python -m mdln.experiments.holdout --fidelity paper --out PATH``: run, write the JSON to PATH."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fidelity", default="book", choices=("test", "book", "paper"))
    ap.add_argument("--out", default=None, help="JSON file to write (default: holdout_<fidelity>.json)")
    args = ap.parse_args(argv)
    result = run_holdout(HoldoutConfig.preset(args.fidelity), progress=True)
    path = args.out or f"holdout_{args.fidelity}.json"
    with open(path, "w") as fh:
        json.dump(to_json(result, args.fidelity), fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print("\n".join(result.lines()))
    print(path)


if __name__ == "__main__":   # run the package's module, so cached results carry its code key (not __main__'s)
    from mdln.experiments.holdout import main as _package_main
    _package_main()
