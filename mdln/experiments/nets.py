"""Figures 2 and 6: does λ = γ/(1−β)² alone govern the test loss of non-diagonal networks?
(Section 2, Figure 2: ReLU teacher–student; Appendix F.1, Figure 6: deep linear network.)

Grids are log-spaced in γ and in 1−β (β from 0 to 1 − (1−β)_min, :func:`mdln.grid.omb_axes`, re-exported
here as ``grid_axes``), so that the λ level lines log γ = log λ + 2 log(1−β) are straight lines of the
plotted coordinates (log₁₀ γ, −log₁₀(1−β)). Arrays are (γ, β): rows γ, columns β (:mod:`mdln.grid`).

The quantification of the visual claim (:func:`mdln.grid.lambda_quantification`, re-exported here):

* ``r2_log_lam`` / ``r2_log_gamma`` / ``r2_log_one_minus_beta``: the share of the variance of log₁₀ test
  loss (over the valid cells) explained by ONE coordinate alone — the correlation ratio η² of binned
  means: 1 − (within-bin sum of squares)/(total sum of squares), with ``n_bins`` equal-width bins of that
  coordinate (same number of bins for all three; with N cells, chance alone gives about
  (n_bins − 1)/(N − 1)).
* ``r2_log_eps``: the same for the discretisation step ε = γ/(1−β) (an extra: it sets the speed along
  the MGF(λ) path, so it should matter for the train loss after a fixed number of epochs).
* ``line_means`` / ``line_stds``: mean and standard deviation of log₁₀ test loss along each drawn λ line
  (``line_lams``) crossing at least 3 valid interpolation points;
* ``spread_along``: pooled standard deviation of log₁₀ test loss along each drawn λ level line
  (bilinear interpolation of the cell values, only through valid cells); ``spread_across``: standard
  deviation of the per-line means. λ governs the loss if ``spread_along`` ≪ ``spread_across``.

Core layer: the heatmaps are drawn by :mod:`mdln.figures.nets`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .. import nets
from .._checks import check_config, check_int, check_positive, fidelity_preset
from ..cache import cached_arrays
from ..grid import lam_grid, lam_levels as _level_lines, lambda_quantification, omb_axes as grid_axes
from .config import DataConfig

__all__ = ["Fig2Config", "Fig2Result", "run_fig2", "Fig6Config", "Fig6Result", "run_fig6",
           "lambda_quantification",
           "grid_axes", "QUANTIFICATION_KEYS"]

QUANTIFICATION_KEYS = ("r2_log_lam", "r2_log_gamma", "r2_log_one_minus_beta", "r2_log_eps", "spread_along",
                       "spread_across", "spread_ratio")


@dataclass(frozen=True)
class Fig2Config:
    """Figure 2 settings; defaults are the book fidelity (16×16 grid, step cap 3·10⁴)."""

    n_gamma: int = 16
    n_beta: int = 16
    gamma_min: float = 10 ** -1.5
    gamma_max: float = 10 ** 0.25
    one_minus_beta_min: float = 10 ** -1.5
    tol: float = 1e-5
    max_steps: int = 30_000
    n: int = 15
    d: int = 2
    teacher_width: int = 5
    student_width: int = 20
    n_test: int = 10_000
    seed: int = 0
    lam_levels: tuple = ()
    n_bins: int = 8
    small_gamma: float = 0.5      # the quantification is also reported on the cells with γ ≤ small_gamma

    def __post_init__(self):
        check_config(self, dict(n_gamma="int1", n_beta="int1", gamma_min="pos", gamma_max="pos",
                                one_minus_beta_min="omb", tol="pos", max_steps="int1", n="int1", d="int1",
                                teacher_width="int1", student_width="int1", n_test="int1", seed="int0",
                                lam_levels="pos*", n_bins="int2", small_gamma="pos"),
                     ordered=[("gamma_min", "gamma_max")])

    @classmethod
    def preset(cls, fidelity="book"):
        """Configuration for "test" (seconds), "book" (the notebook) or "paper" (large grid, large cap)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(n_gamma=5, n_beta=4, max_steps=3000, n_test=500, gamma_min=0.1,
                                         gamma_max=1.0),
                               paper=dict(n_gamma=30, n_beta=30, gamma_min=1e-2, max_steps=300_000))


@dataclass(frozen=True)
class Fig2Result:
    """Final test/train loss, steps and status of the student on the (γ, β) grid (rows γ, columns β)."""

    config: Fig2Config
    gammas: np.ndarray
    betas: np.ndarray
    test_loss: np.ndarray
    train_loss: np.ndarray
    steps: np.ndarray
    status: np.ndarray
    lam_levels: np.ndarray

    @property
    def lam(self):
        """λ = γ/(1−β)² on the (γ, β) grid (Proposition 1)."""
        return lam_grid(self.gammas, self.betas)

    def quantification(self, gamma_max=None):
        """η² of log test loss on log λ / log γ / log(1−β) alone and spreads along vs across λ lines,
        over the converged cells (with γ ≤ gamma_max if given)."""
        valid = self.status == nets.CONVERGED
        if gamma_max is not None:
            valid &= (self.gammas <= check_positive(gamma_max, "gamma_max"))[:, None]
        with np.errstate(divide="ignore"):
            ll = np.log10(self.test_loss)
        return lambda_quantification(ll, self.gammas, self.betas, valid, self.lam_levels, self.config.n_bins)

    def summary(self):
        """Measured claims as JSON-able numbers."""
        conv = self.status == nets.CONVERGED
        q = self.quantification()
        out = {k: (float(v) if isinstance(v, float) else v) for k, v in q.items()}
        qs = self.quantification(self.config.small_gamma)
        out.update({f"small_gamma_{k}": float(qs[k]) for k in QUANTIFICATION_KEYS})
        out.update(small_gamma=float(self.config.small_gamma), small_gamma_n_valid_cells=qs["n_valid_cells"])
        out.update(n_cells=int(self.status.size), n_converged=int(conv.sum()),
                   n_step_cap=int(np.sum(self.status == nets.STEP_CAP)),
                   n_diverged=int(np.sum(self.status == nets.DIVERGED)), max_steps=int(self.config.max_steps),
                   max_steps_taken_converged=int(self.steps[conv].max()) if conv.any() else 0,
                   **_loss_range(self.test_loss, conv, self.lam_levels))
        return out

    def arrays(self):
        """Raw arrays."""
        return dict(gammas=self.gammas, betas=self.betas, test_loss=self.test_loss,
                    train_loss=self.train_loss, steps=self.steps, status=self.status,
                    lam_levels=self.lam_levels)


def run_fig2(config=None, progress=False):
    """Figure 2: test loss of a ReLU student trained by MGD(γ, β) to train loss 1e-5 (Section 2, App. F.1)."""
    config, gammas, betas, levels = _grid_of(config, Fig2Config)

    def compute():
        ts = nets.teacher_student(n=config.n, d=config.d, teacher_width=config.teacher_width,
                                  student_width=config.student_width, n_test=config.n_test, seed=config.seed)
        G, B = np.meshgrid(gammas, betas)
        run = nets.train_grid(ts.student, ts.w0, G.ravel(), B.ravel(), config.max_steps, tol=config.tol,
                              progress=progress)
        test = ts.test_loss(run.w)
        test[run.diverged] = np.inf
        shape = G.shape
        return dict(test_loss=test.reshape(shape), train_loss=run.train_loss.reshape(shape),
                    steps=run.steps.reshape(shape), status=run.status.reshape(shape))

    arr = {k: v.T for k, v in _cached("fig2", config, compute).items()}    # computed (β, γ), stored (γ, β)
    return Fig2Result(config=config, gammas=gammas, betas=betas, lam_levels=levels, **arr)


# ---------------------------------------------------------------------------------------------------
# Figure 6: deep linear network
@dataclass(frozen=True)
class Fig6Config:
    """Figure 6 settings; defaults are the book fidelity (12×12 grid, 1000 epochs, 2 replications)."""

    n_gamma: int = 12
    n_beta: int = 12
    gamma_min: float = 1e-3
    gamma_max: float = 10 ** -1.5
    one_minus_beta_min: float = 1e-2
    epochs: int = 1000
    n_reps: int = 2
    widths: tuple = (30, 60, 120, 60, 1)
    init_std: float = 0.1
    n: int = 20
    s: int = 5
    mu: float = 1.0
    sigma: float = 1.0
    seed: int = 0
    lam_levels: tuple = ()
    n_bins: int = 8

    def __post_init__(self):
        check_config(self, dict(n_gamma="int1", n_beta="int1", gamma_min="pos", gamma_max="pos",
                                one_minus_beta_min="omb", epochs="int1", n_reps="int1", widths="int1+",
                                init_std="pos", n="int1", s="int1", mu="real", sigma="nonneg", seed="int0",
                                lam_levels="pos*", n_bins="int2"), ordered=[("gamma_min", "gamma_max")])
        if len(self.widths) < 2 or self.widths[-1] != 1 or self.s > self.widths[0]:
            raise ValueError(f"Fig6Config.widths must be (d, ..., 1) with d >= s={self.s}, "
                             f"got {self.widths!r}")

    @property
    def data(self):
        """The data of the replications: d = widths[0], seeds seed, seed + 1, ... (App. F.1)."""
        return DataConfig(n=self.n, d=self.widths[0], s=self.s, mu=self.mu, sigma=self.sigma,
                          seeds=tuple(self.seed + r for r in range(self.n_reps)))

    @classmethod
    def preset(cls, fidelity="book"):
        """Configuration for "test" (seconds), "book" (the notebook) or "paper" (5 replications)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(n_gamma=3, n_beta=3, epochs=50, n_reps=2, widths=(30, 8, 6, 1)),
                               paper=dict(n_gamma=20, n_beta=20, n_reps=5))


@dataclass(frozen=True)
class Fig6Result:
    """Test/train loss of the deep linear network, averaged over replications, on the (γ, β) grid."""

    config: Fig6Config
    gammas: np.ndarray
    betas: np.ndarray
    test_loss: np.ndarray        # (n_gamma, n_beta) mean over replications; +inf where any diverged
    train_loss: np.ndarray
    test_loss_reps: np.ndarray   # (n_reps, n_gamma, n_beta)
    train_loss_reps: np.ndarray
    status_reps: np.ndarray
    lam_levels: np.ndarray

    @property
    def status(self):
        """DIVERGED where any replication diverged, else STEP_CAP (every run does ``epochs`` steps)."""
        return np.where(np.any(self.status_reps == nets.DIVERGED, axis=0), nets.DIVERGED, nets.STEP_CAP)

    def quantification(self, which="test"):
        """η² of log loss (``which`` = "test" or "train") on log λ / log γ / log(1−β); line spreads."""
        loss = {"test": self.test_loss, "train": self.train_loss}[which]
        with np.errstate(divide="ignore"):
            ll = np.log10(loss)
        return lambda_quantification(ll, self.gammas, self.betas, self.status != nets.DIVERGED,
                                     self.lam_levels,
                                     self.config.n_bins)

    def summary(self):
        """Measured claims as JSON-able numbers (test-loss quantification, then train-loss η²)."""
        ok = self.status != nets.DIVERGED
        out = {k: (float(v) if isinstance(v, float) else v) for k, v in self.quantification("test").items()}
        tr = self.quantification("train")
        out.update({f"train_{k}": float(tr[k]) for k in QUANTIFICATION_KEYS})
        out.update(n_cells=int(ok.size), n_diverged=int((~ok).sum()), n_reps=int(self.config.n_reps),
                   **_loss_range(self.test_loss, ok, self.lam_levels))
        return out

    def arrays(self):
        """Raw arrays."""
        return dict(gammas=self.gammas, betas=self.betas, test_loss=self.test_loss,
                    train_loss=self.train_loss, test_loss_reps=self.test_loss_reps,
                    train_loss_reps=self.train_loss_reps,
                    status_reps=self.status_reps, lam_levels=self.lam_levels)


def run_fig6(config=None, progress=False):
    """Figure 6: deep linear network (30, 60, 120, 60, 1), MGD(γ, β), sparse regression (App. F.1)."""
    config, gammas, betas, levels = _grid_of(config, Fig6Config)
    n_reps = check_int(config.n_reps, "n_reps", minimum=1)
    epochs = check_int(config.epochs, "epochs", minimum=1)
    init_std = check_positive(config.init_std, "init_std")

    data = config.data

    def compute():
        G, B = np.meshgrid(gammas, betas)
        tests, trains, stats = [], [], []
        for r in range(n_reps):
            ds = data.dataset(data.seeds[r])
            net = nets.DeepLinearNet(ds.X, ds.y, config.widths)
            w0 = nets.deep_linear_init(net.widths, np.random.default_rng([config.seed, r, 6]), init_std)
            run = nets.train_grid(net, w0, G.ravel(), B.ravel(), epochs, progress=progress)
            test = ds.test_loss(net.end_to_end(run.w))
            test[run.diverged] = np.inf
            tests.append(test.reshape(G.shape))
            trains.append(run.train_loss.reshape(G.shape))
            stats.append(run.status.reshape(G.shape))
        return dict(test_loss_reps=np.array(tests), train_loss_reps=np.array(trains),
                    status_reps=np.array(stats))

    arr = {k: np.swapaxes(v, -1, -2) for k, v in _cached("fig6", config, compute).items()}   # to (γ, β)
    div = np.any(arr["status_reps"] == nets.DIVERGED, axis=0)
    mean = lambda a: np.where(div, np.inf, np.mean(np.where(div, 0.0, a), axis=0))
    return Fig6Result(config=config, gammas=gammas, betas=betas, test_loss=mean(arr["test_loss_reps"]),
                      train_loss=mean(arr["train_loss_reps"]), lam_levels=levels, **arr)


def _loss_range(test_loss, ok, lam_levels):
    """Smallest and largest log₁₀ test loss over the ``ok`` cells (NaN if none) and the λ levels."""
    lo, hi = (float(np.log10(test_loss[ok].min())), float(np.log10(test_loss[ok].max()))) if ok.any() else \
        (float("nan"), float("nan"))
    return dict(log10_test_loss_min=lo, log10_test_loss_max=hi, lam_levels=[float(x) for x in lam_levels])


def _grid_of(config, cls):
    """(config, γ axis, β axis, λ levels) of a Fig2Config/Fig6Config (defaults when ``config`` is None)."""
    config = cls() if config is None else config
    if not isinstance(config, cls):
        raise ValueError(f"config must be a {cls.__name__}, got {type(config).__name__}")
    gammas, betas = grid_axes(config.n_gamma, config.n_beta, config.gamma_min, config.gamma_max,
                              config.one_minus_beta_min)
    return config, gammas, betas, _level_lines(gammas, betas, config.lam_levels)


def _cached(namespace, config, compute):
    params = dict(dataclasses.asdict(config))
    return cached_arrays(namespace, params, compute)


