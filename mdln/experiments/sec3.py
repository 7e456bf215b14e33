"""Section 3 experiments: MGF(λ) on diagonal linear networks (Figures 3, 8, 9; Appendix C, D.2, F.2.1).

* :func:`mgf_points`: the cached (μ, replication, λ) sweep every experiment here reads: θ_MGF, Δ∞,
  vanished, train/test loss and the two normalised distances of Theorem 1.
* Figure 3 (test loss and ‖Δ∞‖₂ against λ, μ = 1), Figure 8 (the same runs, + ‖θ‖₁), Figure 9
  (μ ∈ {0, .5, 1, 1.5}), and where θ̃0 ≈ 0 holds (:class:`SimplificationConfig`).
* The tables of the chapter: Theorem 1 per λ, the two forms of I±, Appendix D.2 (MGD → MGF as ε → 0),
  Corollary 2 and Appendix C.5; the data of the Δ and λ sliders.

The normalised distance (:func:`mdln.implicit.normalised_distance`, ‖θ − θ_ref‖/‖θ_ref‖) appears in two
forms, with one field name each across this module:

* ``distance``: to argmin_S ψ_Δ∞ (Eq. 8, the simplified form, θ̃0 dropped);
* ``distance_full``: to argmin_S D_ψΔ∞(·, θ̃0) (Theorem 1 in full).

Replications are independent data sets ``config.data.dataset(seed)``.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

from .._checks import check_config, check_lam, check_positive, fidelity_preset
from ..cache import cached_arrays
from ..dln import train_mgf
from ..implicit import (corollary2_delta, dropped_term, implicit_solution, kkt_shift, linear_shift,
                        min_l1_interpolator, min_l2_interpolator, normalised_distance, prop3_bound,
                        small_lambda_delta)
from ..status import Status
from .config import DataConfig

__all__ = ["mgf_points", "lambda_stats", "Fig3Config", "Fig3Result", "run_fig3", "Fig8Config", "Fig8Result",
           "run_fig8", "Fig9Config", "Fig9Result", "run_fig9", "theorem1_table", "SimplificationConfig",
           "SimplificationResult", "run_simplification", "MEASURES", "Theorem1FormsConfig",
           "Theorem1FormsResult", "run_theorem1_forms", "theorem1_forms_table", "D2LinkConfig",
           "D2LinkResult", "run_d2_link", "d2_link", "corollary2_table",
           "small_lambda_table", "DELTA_GRID", "delta_path", "delta_theta", "SLIDER_LAMS", "lambda_path",
           "chapter_runs", "linearised_shift"]

BOOK_LAMS = (0.0, 1e-3, 0.01, 0.03, 0.05, 0.07, 0.1, 0.12, 0.15, 0.21, 0.3, 0.5, 0.7, 1.0)
PAPER_LAMS = tuple(sorted(set((0.0,) + tuple(np.round(np.logspace(-4, -1.5, 6), 6))
                              + tuple(np.round(np.linspace(0.04, 1.0, 33), 4)))))
DELTA_GRID = tuple(np.round(np.arange(-8.0, 4.001, 0.25), 2))
"""The Δ slider's positions (log₁₀ Δ from −8 to 4 by 0.25), precomputed by :func:`delta_path`."""
SLIDER_LAMS = BOOK_LAMS
"""The λ slider's positions: Figure 3's λ values (book fidelity), precomputed by :func:`lambda_path`."""

_DATA_FIELDS = tuple(f.name for f in dataclasses.fields(DataConfig))


# ------------------------------------------------------------------------- configs holding data
def _holds_data(cls):
    """Let ``cls(…, seeds=(0,), mu=0.5)`` set fields of its ``data`` (a DataConfig) by name, and
    ``config.seeds`` read them: the one DataConfig stays the only place these fields live."""
    init = cls.__init__
    default = cls.__dataclass_fields__["data"].default

    @functools.wraps(init)
    def __init__(self, *args, data=None, **kwargs):
        flat = {k: kwargs.pop(k) for k in _DATA_FIELDS if k in kwargs}
        data = default if data is None else data
        if not isinstance(data, DataConfig):
            raise TypeError(f"{cls.__name__}.data must be a DataConfig, got {type(data).__name__}")
        init(self, *args, data=dataclasses.replace(data, **flat) if flat else data, **kwargs)

    def __getattr__(self, name):
        if name in _DATA_FIELDS:
            return getattr(object.__getattribute__(self, "data"), name)
        raise AttributeError(f"{cls.__name__!r} object has no attribute {name!r}")

    cls.__init__ = __init__
    cls.__getattr__ = __getattr__
    return cls


def _point_params(data: DataConfig, seed, lam=None) -> dict:
    """Cache parameters of one run: the data set-up of replication ``seed`` (and λ)."""
    out = data.params()
    del out["seeds"]
    out["seed"] = int(seed)
    if lam is not None:
        out["lam"] = float(lam)
    return out


# ------------------------------------------------------------------------------- the cached sweep
def _point(data: DataConfig, seed, lam):
    def compute():
        ds = data.dataset(seed)
        r = train_mgf(ds.X, ds.y, lam, alpha=data.alpha, trajectory=True)
        ref = implicit_solution(ds.X, ds.y, r.delta_inf)
        tt0 = r.theta_tilde0(ds.X, ds.y)
        full = implicit_solution(ds.X, ds.y, r.delta_inf, theta0=tt0)
        return dict(theta=r.theta, delta_inf=r.delta_inf, vanished=np.array(r.vanished),
                    converged=np.array(r.converged), train_loss=np.array(r.train_loss),
                    test_loss=np.array(ds.test_loss(r.theta)), t=np.array(r.t),
                    distance=np.array(float(normalised_distance(r.theta, ref))),
                    distance_full=np.array(float(normalised_distance(r.theta, full))), theta_tilde0=tt0)
    return cached_arrays("sec3-point", _point_params(data, seed, lam), compute)


def _point_job(args):
    return _point(*args)


def mgf_points(data: DataConfig, lams, mus=None, progress=False, n_jobs=2):
    """MGF(λ) runs over μ × replication × λ (each cached on disk): dict of arrays (n_mu, n_seed, n_lam, ...).

    ``mus`` defaults to ``(data.mu,)``; each run is ``data.dataset(seed)`` with μ set (Section 3).
    """
    if not isinstance(data, DataConfig):
        raise TypeError(f"data must be a DataConfig, got {type(data).__name__}")
    mus = [data.mu] if mus is None else list(mus)
    lams = [check_lam(x) for x in lams]
    datas = [dataclasses.replace(data, mu=float(m)) for m in mus]
    jobs = [(dm, int(sd), float(la)) for dm in datas for sd in data.seeds for la in lams]
    if n_jobs > 1 and len(jobs) > 4:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=mp.get_context("fork")) as ex:
            it = ex.map(_point_job, jobs, chunksize=2)
            if progress:
                from tqdm.auto import tqdm
                it = tqdm(it, total=len(jobs), desc="MGF(λ) runs", leave=False)
            out = list(it)
    else:
        it = jobs
        if progress:
            from tqdm.auto import tqdm
            it = tqdm(jobs, desc="MGF(λ) runs", leave=False)
        out = [_point_job(j) for j in it]
    shape = (len(mus), len(data.seeds), len(lams))
    return {k: np.stack([o[k] for o in out]).reshape(shape + np.shape(out[0][k])) for k in out[0]}


# ------------------------------------------------------------------------------------ Figure 3
def lambda_stats(lams, test_loss, delta_norm, vanished) -> dict:
    """λ*, λmax and the gain over GF from mean test losses over replications (λ[0] must be 0 = GF)."""
    mean_test = np.exp(np.mean(np.log(test_loss), axis=0))
    i_star = int(np.argmin(mean_test))
    gf = mean_test[0]
    beyond = np.nonzero((np.arange(len(lams)) > i_star) & (mean_test >= gf))[0]
    if beyond.size:   # interpolate the crossing linearly in log test loss
        j = beyond[0]
        a, b = np.log(mean_test[j - 1]) - np.log(gf), np.log(mean_test[j]) - np.log(gf)
        lam_max = float(lams[j - 1] + (lams[j] - lams[j - 1]) * (-a) / (b - a)) if b != a else float(lams[j])
    else:
        lam_max = float("inf")
    never = ~np.any(vanished, axis=0)
    zone = float(lams[np.nonzero(never & (np.asarray(lams) > 0))[0].max()]) if np.any(never[1:]) else 0.0
    first_van = np.nonzero(~never)[0]
    return dict(lambda_star=float(lams[i_star]), lambda_max=lam_max,
                gain_over_gf=float(gf / mean_test[i_star]),
                gf_test_loss=float(gf), best_test_loss=float(mean_test[i_star]),
                lambda_nonvanishing_max=zone,
                lambda_first_vanishing=float(lams[first_van[0]]) if first_van.size else float("inf"),
                lambda_star_vanished=bool(not never[i_star]),
                delta_norm_at_star=float(np.mean(delta_norm, axis=0)[i_star]))


@_holds_data
@dataclass(frozen=True)
class Fig3Config:
    """Figure 3: test loss and ‖Δ∞‖₂ of MGF(λ), λ ∈ [0, 1], μ = 1, u0 = α1, v0 = 0 (Section 3.3).

    Fields of ``data`` may be given by name: ``Fig3Config(seeds=(0,))``.
    """

    lams: tuple = BOOK_LAMS
    data: DataConfig = DataConfig()

    def __post_init__(self):
        check_config(self, dict(lams="lams0"))

    @classmethod
    def preset(cls, fidelity):
        """'test' (3 λ, 1 replication), 'book' (14 λ, 5 replications) or 'paper' (39 λ, 5 replications)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(lams=(0.0, 0.05, 0.2), seeds=(0,)),
                               paper=dict(lams=PAPER_LAMS))


class _RunNorms:
    """‖Δ∞‖₂ and ‖θ‖₁ per run, for results holding ``delta_inf`` and ``theta`` (Figures 3, 8, 9)."""

    @property
    def delta_norm(self):
        """‖Δ∞‖₂ per run."""
        return np.linalg.norm(self.delta_inf, axis=-1)

    @property
    def l1_norm(self):
        """‖θ‖₁ per run."""
        return np.abs(self.theta).sum(axis=-1)


@dataclass(frozen=True)
class Fig3Result(_RunNorms):
    """Figure 3 data: arrays of shape (n_seed, n_lam) (d-vectors last).

    ``distance``: normalised distance of θ^MGF to argmin_S ψ_Δ∞ (Eq. 8); ``distance_full``: to
    argmin_S D_ψΔ∞(·, θ̃0) (Theorem 1); ``prop3_bound``: Proposition 3's λ bound per replication.
    """

    config: Fig3Config
    lams: np.ndarray
    test_loss: np.ndarray
    train_loss: np.ndarray
    delta_inf: np.ndarray
    theta: np.ndarray
    vanished: np.ndarray
    converged: np.ndarray
    distance: np.ndarray
    distance_full: np.ndarray
    prop3_bound: np.ndarray
    theta_tilde0: np.ndarray

    def summary(self):
        """Measured claims: λ*, λmax, gain over GF, the shaded zone, Prop. 3, Theorem 1 distances."""
        out = lambda_stats(self.lams, self.test_loss, self.delta_norm, self.vanished)
        pos = self.lams > 0
        max_distance = float(np.max(self.distance[:, pos])) if pos.any() else 0.0
        max_full = float(np.max(self.distance_full))
        out.update(prop3_bound_min=float(np.min(self.prop3_bound)),
                   prop3_holds=bool(not np.any(self.vanished[:, self.lams <= np.min(self.prop3_bound)])),
                   max_distance=max_distance, max_distance_full=max_full,
                   worst_train_loss=float(np.max(self.train_loss)),
                   all_converged=bool(np.all(self.converged)),
                   n_runs=int(self.test_loss.size))
        return out

    def arrays(self):
        """Raw numbers."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "config"}


def _prop3_bounds(data: DataConfig):
    """Proposition 3's bound on λ for each replication, at u0 = α1 (Δ0 = α²)."""
    out = []
    for sd in data.seeds:
        ds = data.dataset(int(sd))
        out.append(prop3_bound(ds.X, ds.y, data.alpha ** 2 * np.ones(data.d)))
    return np.array(out)


def run_fig3(config=None, progress=False) -> Fig3Result:
    """Figure 3 (cached per run): MGF(λ) over λ and replications at μ = ``config.data.mu`` (Section 3.3)."""
    cfg = Fig3Config() if config is None else config
    p = {k: v[0] for k, v in mgf_points(cfg.data, cfg.lams, progress=progress).items()}
    return Fig3Result(config=cfg, lams=np.array(cfg.lams, dtype=float), test_loss=p["test_loss"],
                      train_loss=p["train_loss"], delta_inf=p["delta_inf"], theta=p["theta"],
                      vanished=p["vanished"].astype(bool), converged=p["converged"].astype(bool),
                      distance=p["distance"], distance_full=p["distance_full"],
                      prop3_bound=_prop3_bounds(cfg.data), theta_tilde0=p["theta_tilde0"])


def theorem1_table(res: Fig3Result):
    """Rows (λ, max full distance, max and mean simplified distance, max dropped term, vanished count).

    Full: θ^MGF against argmin_S D_ψΔ∞(·, θ̃0) (Theorem 1); simplified: against argmin_S ψ_Δ∞ (Eq. 8).
    """
    rows = []
    for j, la in enumerate(res.lams):
        if la == 0:
            continue
        dist = res.distance[:, j]
        drop = max(dropped_term(res.theta_tilde0[k, j], res.delta_inf[k, j]) for k in range(dist.size))
        rows.append((float(la), float(res.distance_full[:, j].max()), float(dist.max()), float(dist.mean()),
                     float(drop), int(res.vanished[:, j].sum())))
    return rows


# ------------------------------------------------------------------------------------ Figure 8
@_holds_data
@dataclass(frozen=True)
class Fig8Config(Fig3Config):
    """Figure 8: test loss, ‖Δ∞‖₂ and ‖θ_MGF‖₁ against λ at μ = 1 (Appendix F.2.1)."""


@dataclass(frozen=True)
class Fig8Result(Fig3Result):
    """Figure 8 data (same runs as Figure 3)."""

    def summary(self):
        """Figure 3's claims plus the ℓ1 norm at GF and at λ*, and corr(log ‖Δ∞‖, log test loss)."""
        out = super().summary()
        l1 = self.l1_norm.mean(axis=0)
        i_star = int(np.argmin(np.exp(np.mean(np.log(self.test_loss), axis=0))))
        out.update(l1_gf=float(l1[0]), l1_at_star=float(l1[i_star]),
                   corr_delta_test=float(np.corrcoef(np.log(self.delta_norm.ravel()),
                                                     np.log(self.test_loss.ravel()))[0, 1]))
        return out


def run_fig8(config=None, progress=False) -> Fig8Result:
    """Figure 8: the Figure 3 runs, plus ‖θ‖₁ (Appendix F.2.1)."""
    r = run_fig3(Fig8Config() if config is None else config, progress=progress)
    return Fig8Result(**{f.name: getattr(r, f.name) for f in dataclasses.fields(r)})


# ------------------------------------------------------------------------------------ Figure 9
_BOOK_LAMS9 = (0.0, 0.01, 0.03, 0.05, 0.07, 0.1, 0.15, 0.21, 0.3, 0.5, 0.7, 1.0)


@_holds_data
@dataclass(frozen=True)
class Fig9Config:
    """Figure 9: test loss, ‖Δ∞‖₂ and ‖θ‖₁ against λ for μ ∈ {0, 0.5, 1, 1.5} (Appendix F.2.1).

    Each μ of ``mus`` replaces ``data.mu``.
    """

    mus: tuple = (0.0, 0.5, 1.0, 1.5)
    lams: tuple = _BOOK_LAMS9
    data: DataConfig = DataConfig(seeds=(0,))

    def __post_init__(self):
        check_config(self, dict(mus="real+", lams="lams0"))

    @classmethod
    def preset(cls, fidelity):
        """'test' (2 μ, 3 λ, 1 replication), 'book' (4 μ, 12 λ, 1 replication), 'paper' (39 λ, 5 repl.)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(mus=(0.0, 1.0), lams=(0.0, 0.05, 0.2), seeds=(0,)),
                               paper=dict(lams=PAPER_LAMS, seeds=(0, 1, 2, 3, 4)))


@dataclass(frozen=True)
class Fig9Result(_RunNorms):
    """Figure 9 data: arrays of shape (n_mu, n_seed, n_lam) (d-vectors last); ``distance`` as in Figure 3."""

    config: Fig9Config
    mus: np.ndarray
    lams: np.ndarray
    test_loss: np.ndarray
    delta_inf: np.ndarray
    theta: np.ndarray
    vanished: np.ndarray
    distance: np.ndarray
    converged: np.ndarray

    def per_mu(self):
        """Per μ: λ*, λmax, gain over GF and the spread of the mean test loss across λ (max/min)."""
        rows = {}
        for i, mu in enumerate(self.mus):
            st = lambda_stats(self.lams, self.test_loss[i], self.delta_norm[i], self.vanished[i])
            mt = np.exp(np.mean(np.log(self.test_loss[i]), axis=0))
            st["test_loss_range"] = float(mt.max() / mt.min())
            st["l1_range"] = float(self.l1_norm[i].mean(0).max() - self.l1_norm[i].mean(0).min())
            rows[f"{mu:g}"] = st
        return rows

    def summary(self):
        """Per-μ measured claims (flattened) and the worst Theorem 1 distance (simplified form)."""
        out = {}
        for mu, st in self.per_mu().items():
            for k in ("lambda_star", "lambda_max", "gain_over_gf", "test_loss_range"):
                out[f"mu={mu}:{k}"] = st[k]
        out["max_distance"] = float(np.max(self.distance[..., self.lams > 0]))
        out["all_converged"] = bool(np.all(self.converged))
        return out

    def arrays(self):
        """Raw numbers."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "config"}


def run_fig9(config=None, progress=False) -> Fig9Result:
    """Figure 9 (cached per run): MGF(λ) for μ ∈ {0, 0.5, 1, 1.5} (Appendix F.2.1)."""
    cfg = Fig9Config() if config is None else config
    p = mgf_points(cfg.data, cfg.lams, mus=cfg.mus, progress=progress)
    return Fig9Result(config=cfg, mus=np.array(cfg.mus, float), lams=np.array(cfg.lams, float),
                      test_loss=p["test_loss"], delta_inf=p["delta_inf"], theta=p["theta"],
                      vanished=p["vanished"].astype(bool), distance=p["distance"],
                      converged=p["converged"].astype(bool))


# ------------------------------------------------------- Theorem 1 in full and where θ̃0 ≈ 0 holds
linearised_shift = linear_shift
"""‖δθ‖/‖θ‖: first-order change of argmin_S D_ψΔ(·, θ̃0) when θ̃0 is dropped (Theorem 1 vs Eq. 8); the same
measure as chapter 4's, :func:`mdln.implicit.linear_shift`."""


@_holds_data
@dataclass(frozen=True)
class SimplificationConfig:
    """Where θ̃0 ≈ 0 holds: MGF(λ) over λ × data sets, θ* on the first s coordinates for ``data.seeds``
    and on a random support for ``random_seeds`` (Theorem 1 against Eq. 8)."""

    lams: tuple = (0.01, 0.03, 0.05, 0.1, 0.21, 0.5)
    data: DataConfig = DataConfig(seeds=tuple(range(10)))
    random_seeds: tuple = tuple(range(10, 20))

    def __post_init__(self):
        check_config(self, dict(lams="pos+"))

    @classmethod
    def preset(cls, fidelity):
        """'test' (2 λ, 2 data sets), 'book' (6 λ × 20 data sets), 'paper' (12 λ × 40 data sets)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(lams=(0.03, 0.3), seeds=(0,), random_seeds=(10,)),
                               paper=dict(lams=(0.001, 0.01, 0.03, 0.05, 0.07, 0.1, 0.15, 0.21, 0.3, 0.5, 0.7,
                                                1.0),
                                          seeds=tuple(range(20)), random_seeds=tuple(range(20, 40))))

    def data_sets(self):
        """(support, DataConfig) pairs: θ* on the first s coordinates, then on a random support."""
        out = [("first", self.data)]
        if self.random_seeds:
            out.append(("random", dataclasses.replace(self.data, seeds=tuple(self.random_seeds),
                                                      support="random")))
        return out


MEASURES = ("dropped_term", "ratio", "linearised")
"""The three measures of the dropped θ̃0: max|arcsinh(2θ̃0/Δ∞)|, max|θ̃0|/Δ∞, the first-order shift."""


@dataclass(frozen=True)
class SimplificationResult:
    """Per run (data set × λ), flattened: ``distance`` (to argmin_S ψ_Δ∞, Eq. 8), ``distance_full``
    (Theorem 1) and the three measures of the dropped term (:data:`MEASURES`)."""

    config: SimplificationConfig
    lam: np.ndarray
    random_support: np.ndarray
    vanished: np.ndarray
    converged: np.ndarray
    distance: np.ndarray
    distance_full: np.ndarray
    dropped_term: np.ndarray
    ratio: np.ndarray
    linearised: np.ndarray

    def rule(self, measure, level=0.01):
        """Largest c with every run of measure < c within ``level``; runs below c; Spearman ρ (log-log)."""
        from scipy.stats import spearmanr
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
        m, dist = getattr(self, measure), self.distance
        bad = dist >= level
        c = float(np.min(m[bad])) if bad.any() else float("inf")
        return dict(threshold=c, n_below=int(np.sum(m < c)), n_runs=int(m.size), n_over_level=int(bad.sum()),
                    spearman=float(spearmanr(m, dist).statistic),
                    max_ratio=float(np.max(dist / m)), min_ratio=float(np.min(dist / m)))

    def summary(self):
        """Worst distances and the rule for each measure."""
        out = dict(n_runs=int(self.lam.size),
                   n_datasets=len(self.config.data.seeds) + len(self.config.random_seeds),
                   max_distance_full=float(np.max(self.distance_full)),
                   max_distance=float(np.max(self.distance)),
                   n_distance_over_1pc=int(np.sum(self.distance >= 0.01)),
                   n_vanished=int(np.sum(self.vanished)), all_converged=bool(np.all(self.converged)))
        for k in MEASURES:
            for kk, v in self.rule(k).items():
                out[f"{k}:{kk}"] = v
        return out

    def arrays(self):
        """Raw numbers, one entry per run."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "config"}

    def report(self):
        """The summary as printable lines (≤ 90 columns)."""
        sb = self.summary()
        lines = [f"{sb['n_runs']} runs on {sb['n_datasets']} data sets; "
                 f"all converged: {sb['all_converged']}; "
                 f"w+- changed sign in {sb['n_vanished']}",
                 f"worst full-theorem distance {sb['max_distance_full']:.1e}; worst simplified "
                 f"{sb['max_distance']:.3f}; simplified >= 1%: {sb['n_distance_over_1pc']} runs",
                 f"{'measure':>13} {'threshold':>9} {'runs below':>10} {'Spearman':>8} {'dist/measure':>17}"]
        for k in MEASURES:
            lines.append(f"{k:>13} {sb[k + ':threshold']:9.3g} {sb[k + ':n_below']:10d} "
                         f"{sb[k + ':spearman']:8.2f} {sb[k + ':min_ratio']:8.1e}-{sb[k + ':max_ratio']:.1e}")
        return "\n".join(lines)

    def glue_strings(self, prefix):
        """Preformatted numbers for the chapter's prose, keyed ``prefix + name``."""
        sb = self.summary()
        out = {"max_full_distance": f"{sb['max_distance_full']:.0e}",
               "max_simplified_distance": f"{sb['max_distance']:.3f}",
               "n_runs": f"{sb['n_runs']}", "n_simplified_over_1pc": f"{sb['n_distance_over_1pc']}",
               "n_vanished": f"{sb['n_vanished']}",
               "simp_never": f"{np.max(self.distance[~self.vanished]):.1e}"}
        for k in MEASURES:
            out.update({f"{k}_thr": f"{sb[k + ':threshold']:.2g}", f"{k}_below": f"{sb[k + ':n_below']}",
                        f"{k}_rho": f"{sb[k + ':spearman']:.2f}", f"{k}_lo": f"{sb[k + ':min_ratio']:.2g}",
                        f"{k}_hi": f"{sb[k + ':max_ratio']:.2g}"})
        return {prefix + k: v for k, v in out.items()}


def run_simplification(config=None, progress=False) -> SimplificationResult:
    """Distance of θ^MGF to argmin_S ψ_Δ∞ (Eq. 8) against measures of the dropped θ̃0 (Theorem 1)."""
    cfg = SimplificationConfig() if config is None else config
    cols = {k: [] for k in ("lam", "random_support", "vanished", "converged", "distance", "distance_full",
                            "dropped_term", "ratio", "linearised")}
    for support, data in cfg.data_sets():
        p = {k: v[0] for k, v in mgf_points(data, cfg.lams, progress=progress).items()}
        for i, sd in enumerate(data.seeds):
            ds = data.dataset(int(sd))
            for j, la in enumerate(cfg.lams):
                th, dl, tt0 = p["theta"][i, j], p["delta_inf"][i, j], p["theta_tilde0"][i, j]
                cols["lam"].append(float(la))
                cols["random_support"].append(support == "random")
                cols["vanished"].append(bool(p["vanished"][i, j]))
                cols["converged"].append(bool(p["converged"][i, j]))
                cols["distance"].append(float(p["distance"][i, j]))
                cols["distance_full"].append(float(p["distance_full"][i, j]))
                cols["dropped_term"].append(dropped_term(tt0, dl))
                cols["ratio"].append(float(np.max(np.abs(tt0) / dl)))
                cols["linearised"].append(linearised_shift(ds.X, th, dl, tt0))
    return SimplificationResult(config=cfg, **{k: np.array(v) for k, v in cols.items()})


# ---------------------------------------------------------------- Theorem 1: the two forms of I±
@_holds_data
@dataclass(frozen=True)
class Theorem1FormsConfig:
    """The two forms of I± in Theorem 1 (Lemma 1's integral and the C.3.1 endpoint form), per λ × seed."""

    lams: tuple = (0.001, 0.01, 0.03, 0.05)
    data: DataConfig = DataConfig(seeds=(0, 1, 2))

    def __post_init__(self):
        check_config(self, dict(lams="pos+"))

    @classmethod
    def preset(cls, fidelity):
        """'test' (one run), 'book' and 'paper' (4 λ × 3 data sets)."""
        return fidelity_preset(cls, fidelity, test=dict(lams=(0.01,), seeds=(0,)), paper=dict())


@dataclass(frozen=True)
class Theorem1FormsResult:
    """Per run (λ-major, then seed): ``integral_gap`` = max|I_traj − I_end| (nan where w± changed sign, as
    Lemma 1's integral form then does not exist), ``distance_full_traj`` / ``distance_full_end`` (Theorem 1
    with θ̃0 from each form; the first nan where w± changed sign) and ``distance`` (Eq. 8)."""

    config: Theorem1FormsConfig
    lam: np.ndarray
    seed: np.ndarray
    vanished: np.ndarray
    integral_gap: np.ndarray
    distance_full_traj: np.ndarray
    distance_full_end: np.ndarray
    distance: np.ndarray

    def rows(self):
        """Rows (λ, seed, vanished, max|I_traj − I_end|, full distance by each form, simplified distance)."""
        return [(float(la), int(sd), bool(v), float(g), float(ft), float(fe), float(di))
                for la, sd, v, g, ft, fe, di in zip(self.lam, self.seed, self.vanished, self.integral_gap,
                                                     self.distance_full_traj, self.distance_full_end,
                                                     self.distance)]

    def summary(self):
        """Worst gap between the two forms of I±, worst full and simplified distances."""
        ok = ~self.vanished
        full = np.concatenate([self.distance_full_traj[ok], self.distance_full_end])
        return dict(n_runs=int(self.lam.size), n_vanished=int(self.vanished.sum()),
                    max_integral_gap=float(np.max(self.integral_gap[ok])) if ok.any() else float("nan"),
                    max_distance_full=float(np.max(full)), max_distance=float(np.max(self.distance)))

    def arrays(self):
        """Raw numbers, one entry per run."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "config"}


def _forms_point(data: DataConfig, seed, lam):
    def compute():
        ds = data.dataset(seed)
        r = train_mgf(ds.X, ds.y, lam, alpha=data.alpha, trajectory=True)
        ends = r.integrals(ds.X, ds.y)
        out = dict(vanished=np.array(r.vanished), integral_gap=np.array(np.nan),
                   distance_full_traj=np.array(np.nan),
                   distance_full_end=np.array(float(normalised_distance(r.theta,
                                                                        r.theorem1_solution(ds.X, ds.y)))),
                   distance=np.array(float(normalised_distance(
                       r.theta, implicit_solution(ds.X, ds.y, r.delta_inf)))))
        if not r.vanished:
            traj = r.integrals()
            out["integral_gap"] = np.array(float(max(np.max(np.abs(traj[0] - ends[0])),
                                                     np.max(np.abs(traj[1] - ends[1])))))
            full = implicit_solution(ds.X, ds.y, r.delta_inf, theta0=r.theta_tilde0())
            out["distance_full_traj"] = np.array(float(normalised_distance(r.theta, full)))
        return out
    return cached_arrays("sec3-forms", _point_params(data, seed, lam), compute)


def run_theorem1_forms(config=None) -> Theorem1FormsResult:
    """Theorem 1 with I± from Lemma 1's integral (I_traj = λ∫(ẇ±/w±)², without sign changes) and from the
    C.3.1 endpoint form (I_end), per λ × data set (each run cached)."""
    cfg = Theorem1FormsConfig() if config is None else config
    keys = ("vanished", "integral_gap", "distance_full_traj", "distance_full_end", "distance")
    cols = {k: [] for k in ("lam", "seed") + keys}
    for la in cfg.lams:
        for sd in cfg.data.seeds:
            p = _forms_point(cfg.data, int(sd), float(la))
            cols["lam"].append(float(la))
            cols["seed"].append(int(sd))
            for k in keys:
                cols[k].append(p[k])
    return Theorem1FormsResult(config=cfg, **{k: np.array(v) for k, v in cols.items()})


def theorem1_forms_table(lams=(0.001, 0.01, 0.03, 0.05), seeds=(0, 1, 2), mu=1.0):
    """:meth:`Theorem1FormsResult.rows` of :func:`run_theorem1_forms` with the configuration by keywords."""
    return run_theorem1_forms(Theorem1FormsConfig(lams=tuple(lams), seeds=tuple(seeds), mu=mu)).rows()


# --------------------------------------------------------------- Appendix D.2: MGD → MGF as ε → 0
@_holds_data
@dataclass(frozen=True)
class D2LinkConfig:
    """Appendix D.2 at fixed λ: MGD(γ = ε²/λ, β = 1 − ε/λ) for each ε against MGF(λ), on one data set,
    by default a small one ((n, d, s) = (10, 15, 3)): MGD at ε = 0.0125 takes millions of steps."""

    lam: float = 0.1
    eps: tuple = (0.05, 0.025, 0.0125)
    tol: float = 1e-10
    data: DataConfig = DataConfig(n=10, d=15, s=3, seeds=(0,))

    def __post_init__(self):
        check_positive(self.lam, "lam")
        for e in self.eps:
            check_positive(e, "eps")
        if any(e >= self.lam for e in self.eps):
            raise ValueError(f"every eps must lie in (0, lam = {self.lam}) so that β = 1 − ε/λ ∈ (0, 1)")
        check_positive(self.tol, "tol")
        if len(self.data.seeds) != 1:
            raise ValueError(f"D2LinkConfig.data.seeds must hold one seed, got {self.data.seeds!r}")

    @classmethod
    def preset(cls, fidelity):
        """'test' (two ε, tol 1e-9), 'book' and 'paper' (three ε, tol 1e-10)."""
        return fidelity_preset(cls, fidelity, test=dict(eps=(0.05, 0.025), tol=1e-9), paper=dict())


@dataclass(frozen=True)
class D2LinkResult:
    """Per ε (arrays): MGD's (γ, β), steps and status; ``a_error`` = max|a_MGD − a_MGF| with
    a = arcsinh(2θ̃0/Δ∞); ``delta_error`` = max|log(Δ∞^MGD/Δ∞^MGF)|; ``distance_full``: Theorem 1's distance
    of θ^MGF with θ̃0 from MGD's S± (on MGF's Δ∞). ``dropped_mgf``: the dropped term of MGF's own θ̃0."""

    config: D2LinkConfig
    eps: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    steps: np.ndarray
    mgd_status: tuple
    a_error: np.ndarray
    delta_error: np.ndarray
    distance_full: np.ndarray
    vanished: bool
    dropped_mgf: float

    def rows(self):
        """One dict per ε (``full_distance`` is ``distance_full``), the rows chapter 3 prints."""
        return [dict(eps=float(self.eps[j]), gamma=float(self.gamma[j]), beta=float(self.beta[j]),
                     mgd_status=self.mgd_status[j], steps=int(self.steps[j]), vanished=self.vanished,
                     a_error=float(self.a_error[j]), delta_error=float(self.delta_error[j]),
                     full_distance=float(self.distance_full[j]), dropped_mgf=self.dropped_mgf)
                for j in range(len(self.eps))]

    def summary(self):
        """The errors at the largest and smallest ε."""
        return dict(lam=float(self.config.lam), vanished=self.vanished, dropped_mgf=self.dropped_mgf,
                    a_error_first=float(self.a_error[0]), a_error_last=float(self.a_error[-1]),
                    distance_full_first=float(self.distance_full[0]),
                    distance_full_last=float(self.distance_full[-1]))

    def arrays(self):
        """The per-ε arrays."""
        return dict(eps=self.eps, gamma=self.gamma, beta=self.beta, steps=self.steps, a_error=self.a_error,
                    delta_error=self.delta_error, distance_full=self.distance_full)


def run_d2_link(config=None) -> D2LinkResult:
    """As ε → 0, MGD's S± approach MGF's I±, and so do θ̃0 and Theorem 1's prediction (Appendix D.2)."""
    from ..smgd import train_mgd
    cfg = D2LinkConfig() if config is None else config
    data, seed, lam = cfg.data, cfg.data.seeds[0], float(cfg.lam)

    def mgf_part():
        ds = data.dataset(seed)
        r = train_mgf(ds.X, ds.y, lam, alpha=data.alpha, trajectory=True)
        ip, im = r.integrals(ds.X, ds.y)
        return dict(theta=r.theta, delta_inf=r.delta_inf, I_plus=ip, I_minus=im,
                    tt0=r.theta_tilde0(ds.X, ds.y), vanished=np.array(r.vanished))
    base = _point_params(data, seed, lam)
    m = cached_arrays("sec3-d2-mgf", base, mgf_part)
    ds = data.dataset(seed)
    a_mgf = kkt_shift(m["tt0"], m["delta_inf"])
    cols = {k: [] for k in ("eps", "gamma", "beta", "steps", "mgd_status", "a_error", "delta_error",
                            "distance_full")}
    for e in (float(x) for x in cfg.eps):
        def mgd_part(e=e):
            r = train_mgd(ds.X, ds.y, e * e / lam, 1.0 - e / lam, alpha=data.alpha, tol=cfg.tol,
                          max_steps=2 * 10 ** 7)
            return dict(S_plus=r.S_plus, S_minus=r.S_minus, tt0=r.theta_tilde0(), theta=r.theta,
                        delta_inf=r.delta_inf, status=np.array(int(r.status)), steps=np.array(r.steps))
        g = cached_arrays("sec3-d2-mgd", dict(base, eps=e, tol=float(cfg.tol)), mgd_part)
        full = implicit_solution(ds.X, ds.y, m["delta_inf"], theta0=g["tt0"])
        for k, v in dict(eps=e, gamma=e * e / lam, beta=1.0 - e / lam, steps=int(g["steps"]),
                         mgd_status=Status(int(g["status"])),
                         a_error=float(np.max(np.abs(kkt_shift(g["tt0"], m["delta_inf"]) - a_mgf))),
                         delta_error=float(np.max(np.abs(np.log(g["delta_inf"] / m["delta_inf"])))),
                         distance_full=float(normalised_distance(m["theta"], full))).items():
            cols[k].append(v)
    status = tuple(cols.pop("mgd_status"))
    return D2LinkResult(config=cfg, mgd_status=status, vanished=bool(m["vanished"]),
                        dropped_mgf=dropped_term(m["tt0"], m["delta_inf"]),
                        **{k: np.array(v) for k, v in cols.items()})


def d2_link(lam=0.1, eps=(0.05, 0.025, 0.0125), seed=0, mu=1.0, n=20, d=30, s=5, alpha=0.01, tol=1e-10):
    """:meth:`D2LinkResult.rows` of :func:`run_d2_link` with the configuration given by keywords."""
    cfg = D2LinkConfig(lam=lam, eps=tuple(eps), tol=tol,
                       data=DataConfig(n=n, d=d, s=s, mu=mu, alpha=alpha, seeds=(int(seed),)))
    return run_d2_link(cfg).rows()


# --------------------------------------------------------------- Corollary 2 and Appendix C.5
def _trajectory_point(data: DataConfig, seed, lam, refine=8):
    def compute():
        ds = data.dataset(seed)
        r = train_mgf(ds.X, ds.y, lam, alpha=data.alpha, trajectory=True, refine=refine)
        out = dict(delta_inf=r.delta_inf, delta0=r.delta0, vanished=np.array(r.vanished))
        if not r.vanished and lam > 0:
            out["cor2"] = corollary2_delta(r.trajectory, lam)
            out["small"] = small_lambda_delta(r.trajectory, lam, ds.X, ds.y)
        else:
            out["cor2"] = np.full(ds.d, -1.0)
            out["small"] = np.full(ds.d, -1.0)
        return out
    return cached_arrays("sec3-traj", dict(_point_params(data, seed, lam), refine=int(refine)), compute)


def corollary2_table(lams=(1e-3, 0.01, 0.03, 0.05, 0.07), seed=0, data=None):
    """Rows (λ, vanished, max_i |Cor.2 Δ∞,i / simulated Δ∞,i − 1| or None where Δ_t vanished) (Cor. 2)."""
    data = DataConfig() if data is None else data
    rows = []
    for la in lams:
        p = _trajectory_point(data, int(seed), check_lam(la))
        van = bool(p["vanished"])
        err = None if van else float(np.max(np.abs(p["cor2"] / p["delta_inf"] - 1)))
        rows.append((float(la), van, err))
    return rows


def small_lambda_table(lams=(1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.05), seed=0, data=None):
    """Arrays λ, mean log(Δ∞/Δ0) simulated and from the C.5 approximation (nan where Δ_t vanished)."""
    data = DataConfig() if data is None else data
    sim, approx = [], []
    for la in lams:
        p = _trajectory_point(data, int(seed), check_lam(la))
        sim.append(float(np.mean(np.log(p["delta_inf"] / p["delta0"]))))
        approx.append(float("nan") if bool(p["vanished"])
                      else float(np.mean(np.log(p["small"] / p["delta0"]))))
    return np.array(lams, float), np.array(sim), np.array(approx)


# ---------------------------------------------------------------------- the Δ and λ sliders' data
def delta_path(log10_deltas=tuple(np.arange(-8.0, 4.01, 1.0)), seed=0, data=None):
    """argmin_S ψ_Δ for Δ on a log grid, with min-ℓ1 and min-ℓ2 interpolators (Eq. 7, App. E; cached)."""
    log10_deltas = tuple(float(x) for x in log10_deltas)
    data = DataConfig() if data is None else data

    def compute():
        ds = data.dataset(seed)
        thetas = np.array([implicit_solution(ds.X, ds.y, 10.0 ** ld) for ld in log10_deltas])
        return dict(log10_delta=np.array(log10_deltas, float), thetas=thetas,
                    l1=min_l1_interpolator(ds.X, ds.y), l2=min_l2_interpolator(ds.X, ds.y),
                    theta_star=ds.theta_star)
    params = dict(_point_params(data, seed), log10_deltas=list(log10_deltas))
    return cached_arrays("sec3-deltapath", params, compute)


def delta_theta(log10_delta, path, seed=0, data=None):
    """argmin_S ψ_Δ (Eq. 7): read from ``path`` (of :func:`delta_path`) when Δ is on its grid, else one
    dual Newton solve on the same data."""
    k = int(np.argmin(np.abs(path["log10_delta"] - log10_delta)))
    if abs(path["log10_delta"][k] - log10_delta) < 1e-9:
        return path["thetas"][k]
    ds = (DataConfig() if data is None else data).dataset(seed)
    return implicit_solution(ds.X, ds.y, 10.0 ** float(log10_delta))


def lambda_path(lam, seed=0, n_times=240, data=None):
    """One MGF(λ) run sampled at log-spaced times: θ_t, Δ_t, final θ, θ* (cached) (Section 3)."""
    lam = check_lam(lam)
    data = DataConfig() if data is None else data

    def compute():
        ds = data.dataset(seed)
        r = train_mgf(ds.X, ds.y, lam, alpha=data.alpha, trajectory=True, refine=1)
        tr = r.trajectory
        times = np.concatenate([[0.0], np.logspace(-2, np.log10(max(r.t, 1.0)), n_times - 1)])
        idx = np.clip(np.searchsorted(tr.t, times), 0, len(tr.t) - 1)
        return dict(t=tr.t[idx], theta=tr.theta[idx], delta=tr.delta[idx], theta_final=r.theta,
                    theta_star=ds.theta_star, vanished=np.array(r.vanished),
                    test_loss=np.array(ds.test_loss(r.theta)))
    params = dict(_point_params(data, seed, lam), n_times=int(n_times))
    return cached_arrays("sec3-lampath", params, compute)


# ------------------------------------------------------------------------------- the chapter's runs
def chapter_runs(progress=False):
    """(name, task) for every run chapter 3 shows, in the order the chapter needs them."""
    return [("Figure 3 runs", lambda: run_fig3(progress=progress)),
            ("Figure 9 runs", lambda: run_fig9(progress=progress)),
            ("where θ̃0 ≈ 0 holds (120 runs)", lambda: run_simplification(progress=progress)),
            ("Theorem 1, two forms of I±", run_theorem1_forms),
            ("Appendix D.2 (MGD, ε → 0)", lambda: run_d2_link(D2LinkConfig.preset("book"))),
            ("Corollary 2 / App. C.5 runs", lambda: (corollary2_table(), small_lambda_table())),
            ("slider runs", lambda: ([lambda_path(la) for la in SLIDER_LAMS], delta_path(DELTA_GRID)))]
