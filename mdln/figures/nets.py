"""Figures 2 and 6: does λ = γ/(1−β)² alone govern the test loss of non-diagonal networks?
(Section 2, Figure 2: ReLU teacher–student; Appendix F.1, Figure 6: deep linear network.)

Grids are log-spaced in γ and in 1−β (β from 0 to 1 − (1−β)_min), so that the λ level lines
log γ = log λ + 2 log(1−β) are straight lines of the plotted coordinates (log₁₀ γ, −log₁₀(1−β)).

The quantification of the visual claim (``lambda_quantification``):

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
"""
from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass

import numpy as np

from .. import nets
from .._checks import check_int, check_positive, fidelity_preset
from ..cache import cached_arrays
from ..data import sparse_regression

__all__ = ["transient_progress", "Fig2Config", "Fig2Result", "fig2", "Fig6Config", "Fig6Result", "fig6", "lambda_quantification",
           "quantification_report", "grid_axes", "FIGURES"]

_VERSION = "nets-1"
_Q_KEYS = ("r2_log_lam", "r2_log_gamma", "r2_log_one_minus_beta", "r2_log_eps", "spread_along", "spread_across",
           "spread_ratio")


def grid_axes(n_gamma, n_beta, gamma_min, gamma_max, one_minus_beta_min):
    """(γ values log-spaced, β values with 1−β log-spaced from 1 down to one_minus_beta_min)."""
    n_gamma = check_int(n_gamma, "n_gamma", minimum=2)
    n_beta = check_int(n_beta, "n_beta", minimum=2)
    gamma_min = check_positive(gamma_min, "gamma_min")
    gamma_max = check_positive(gamma_max, "gamma_max")
    if not gamma_max > gamma_min:
        raise ValueError(f"gamma_max must be > gamma_min={gamma_min!r}, got {gamma_max!r}")
    omb = check_positive(one_minus_beta_min, "one_minus_beta_min")
    if not omb < 1.0:
        raise ValueError(f"one_minus_beta_min must lie in (0, 1), got {omb!r}")
    gammas = np.logspace(np.log10(gamma_min), np.log10(gamma_max), n_gamma)
    betas = 1.0 - np.logspace(0.0, np.log10(omb), n_beta)
    betas[0] = 0.0
    return gammas, betas


def _level_lines(gammas, betas, levels):
    """λ levels to draw: the given ones, or the decades whose line crosses the grid interior."""
    if levels:
        lv = np.array([check_positive(x, "lam_levels") for x in levels])
    else:
        lo = np.log10(gammas[0]) - 2 * np.log10(1 - betas[0])
        hi = np.log10(gammas[-1]) - 2 * np.log10(1 - betas[-1])
        ks = np.arange(np.ceil(lo + 0.25), np.floor(hi - 0.25) + 1)
        lv = 10.0 ** ks
    return lv


def _line_points(gammas, betas, lam, n=60):
    """Points (x = log₁₀γ, y = −log₁₀(1−β)) of the λ level line inside the grid's cell-centre box."""
    x0, x1 = np.log10(gammas[0]), np.log10(gammas[-1])
    y_all = -np.log10(1 - betas)
    y = np.linspace(y_all[0], y_all[-1], n)
    x = np.log10(lam) - 2 * y
    inside = (x >= x0) & (x <= x1)
    return x[inside], y[inside]


def lambda_quantification(log_loss, gammas, betas, valid, levels, n_bins=8):
    """η² of log loss on log λ, log γ, log(1−β) alone, and its spread along vs across λ lines (Section 2)."""
    from scipy.interpolate import RegularGridInterpolator

    log_loss = np.asarray(log_loss, dtype=float)
    valid = np.asarray(valid, dtype=bool) & np.isfinite(log_loss)
    n_bins = check_int(n_bins, "n_bins", minimum=2)
    G, B = np.meshgrid(gammas, betas)
    coords = {"log_lam": np.log10(G / (1 - B) ** 2), "log_gamma": np.log10(G), "log_one_minus_beta":
              np.log10(1 - B), "log_eps": np.log10(G / (1 - B))}
    y = log_loss[valid]
    out = {"n_valid_cells": int(valid.sum()), "n_bins": n_bins}
    total = float(np.sum((y - y.mean()) ** 2)) if y.size else 0.0
    for name, z in coords.items():
        z = z[valid]
        if y.size < 2 or total == 0.0 or np.ptp(z) == 0.0:
            out[f"r2_{name}"] = 0.0
            continue
        edges = np.linspace(z.min(), z.max(), n_bins + 1)
        which = np.clip(np.searchsorted(edges, z, side="right") - 1, 0, n_bins - 1)
        within = sum(float(np.sum((y[which == b] - y[which == b].mean()) ** 2))
                     for b in range(n_bins) if np.any(which == b))
        out[f"r2_{name}"] = 1.0 - within / total
    grid = np.where(valid, log_loss, np.nan)
    ys = -np.log10(1 - betas)
    interp = RegularGridInterpolator((ys, np.log10(gammas)), grid, bounds_error=False, fill_value=np.nan)
    means, variances, counts, used = [], [], [], []
    for lam in levels:
        x, yy = _line_points(gammas, betas, lam)
        vals = interp(np.column_stack([yy, x])) if x.size else np.array([])
        vals = vals[np.isfinite(vals)]
        if vals.size >= 3:
            means.append(vals.mean())
            variances.append(vals.var())
            counts.append(vals.size)
            used.append(float(lam))
    out["line_lams"] = used
    out["line_means"] = [float(m) for m in means]
    out["line_stds"] = [float(np.sqrt(v)) for v in variances]
    if len(means) >= 2:
        out["spread_along"] = float(np.sqrt(np.average(variances, weights=counts)))
        out["spread_across"] = float(np.std(means))
        out["spread_ratio"] = out["spread_along"] / out["spread_across"] if out["spread_across"] > 0 else \
            float("inf")
    else:
        out["spread_along"] = out["spread_across"] = out["spread_ratio"] = float("nan")
    out["n_lines_used"] = len(means)
    return out


def quantification_report(q, label="log10 test loss"):
    """Plain-text table of a ``lambda_quantification`` dict (few digits, stable under BLAS noise)."""
    lines = [f"share of the variance of {label} explained by one coordinate alone",
             f"(eta^2, {q['n_bins']} bins, {q['n_valid_cells']} cells):",
             f"  log lambda      : {q['r2_log_lam']:.2f}",
             f"  log gamma       : {q['r2_log_gamma']:.2f}",
             f"  log(1 - beta)   : {q['r2_log_one_minus_beta']:.2f}",
             f"  log eps (step)  : {q['r2_log_eps']:.2f}",
             f"spread of {label} along the {q['n_lines_used']} lambda lines: {q['spread_along']:.2g}",
             f"  across lines: {q['spread_across']:.2g}   ratio: {q['spread_ratio']:.2g}"]
    lines += [f"  along lambda = {lam:<6g}: mean {m:6.2f}, sd {sd:.2g}"
              for lam, m, sd in zip(q["line_lams"], q["line_means"], q["line_stds"])]
    return "\n".join(lines)


@contextlib.contextmanager
def transient_progress():
    """Text progress bars for a long computation in Jupyter, wiped from the cell when it ends.

    Inside the block, the ``progress=True`` bars of ``train_grid``/``figA`` are plain-text tqdm bars on
    stderr (a widget bar would leave its model in the notebook's metadata); on exit the cell's output
    is cleared, so a re-executed notebook stores nothing for it. Use it alone in a cell (tagged
    ``nbval-ignore-output``: nbval sees the bars, the stored notebook does not).
    """
    import tqdm.auto
    import tqdm.std
    saved = tqdm.auto.tqdm
    tqdm.auto.tqdm = tqdm.std.tqdm
    try:
        yield
    finally:
        tqdm.auto.tqdm = saved
        try:
            from IPython import get_ipython
            from IPython.display import clear_output
        except ImportError:
            return
        if get_ipython() is not None and hasattr(get_ipython(), "kernel"):
            clear_output()


# ---------------------------------------------------------------------------------------------------
# plotting
def _heatmap(ax, gammas, betas, values, status, title, cbar_label, levels, valid, mark_cap=False):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    x = np.log10(gammas)
    y = -np.log10(1 - betas)
    xe = np.concatenate([[1.5 * x[0] - 0.5 * x[1]], 0.5 * (x[1:] + x[:-1]), [1.5 * x[-1] - 0.5 * x[-2]]])
    ye = np.concatenate([[1.5 * y[0] - 0.5 * y[1]], 0.5 * (y[1:] + y[:-1]), [1.5 * y[-1] - 0.5 * y[-2]]])
    div = status == nets.DIVERGED
    # grey background: cells not drawn (diverged: hatched; step cap with mark_cap: dotted)
    ax.set_facecolor("0.82")
    hide = div | ~np.isfinite(values) | ((status == nets.STEP_CAP) if mark_cap else False)
    masked = np.ma.masked_where(hide, values)
    ok = valid & np.isfinite(values)      # colour limits from the valid cells; others saturate
    vmin, vmax = (values[ok].min(), values[ok].max()) if ok.any() else (None, None)
    extend = "neither"
    if ok.any() and np.any(masked.compressed() > vmax):
        extend = "max"
    if ok.any() and np.any(masked.compressed() < vmin):
        extend = "both" if extend == "max" else "min"
    mesh = ax.pcolormesh(xe, ye, masked, cmap="viridis", shading="flat", vmin=vmin, vmax=vmax)
    plt.colorbar(mesh, ax=ax, label=cbar_label, extend=extend)
    for i, j in zip(*np.nonzero(div)):
        ax.add_patch(Rectangle((xe[j], ye[i]), xe[j + 1] - xe[j], ye[i + 1] - ye[i], fill=False, hatch="///",
                               edgecolor="0.45", linewidth=0.0))
    if mark_cap:
        cap = status == nets.STEP_CAP
        ax.plot(x[np.nonzero(cap)[1]], y[np.nonzero(cap)[0]], ".", color="0.3", ms=3, ls="none")
    for lam in levels:
        yy = np.linspace(ye[0], ye[-1], 100)
        xx = np.log10(lam) - 2 * yy
        ok = (xx >= xe[0]) & (xx <= xe[-1])
        if ok.sum() < 2:
            continue
        ax.plot(xx[ok], yy[ok], "--", color="white", lw=1.2)
        k = np.flatnonzero(ok)[int(0.65 * ok.sum())]
        ax.text(xx[k], yy[k], f"λ={lam:g}", color="white", fontsize=9, ha="left", va="bottom")
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    xt = np.arange(np.ceil(xe[0]), np.floor(xe[-1]) + 1)
    ax.set_xticks(xt, [f"$10^{{{int(t)}}}$" for t in xt])
    bt = [b for b in (0.0, 0.5, 0.8, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999) if ye[0] <= -np.log10(1 - b) <= ye[-1]]
    ax.set_yticks([-np.log10(1 - b) for b in bt], [f"{b:g}" for b in bt])
    ax.set_xlabel("step size γ")
    ax.set_ylabel("momentum β")
    ax.set_title(title, fontsize=10)
    return mesh


def _status_legend(fig, mark_cap, n_div, n_cap=0, div_label="diverged"):
    """Legend under the heatmaps: what the hatched and grey-dotted (not converged) cells are."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    handles = [Patch(facecolor="0.82", edgecolor="0.45", hatch="///", label=f"{div_label} ({n_div} cells)")]
    if mark_cap:
        handles.append(Line2D([], [], marker="s", ms=11, mfc="0.82", mec="0.82", ls="none",
                              label=f"step cap, not converged ({n_cap} cells, dot)"))
    handles.append(Line2D([], [], ls="--", color="0.35", label="level lines of λ = γ/(1−β)²"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9, frameon=False)


# ---------------------------------------------------------------------------------------------------
# Figure 2: teacher–student ReLU network
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
        from .._checks import check_config
        check_config(self, dict(n_gamma="int1", n_beta="int1", gamma_min="pos", gamma_max="pos",
                                one_minus_beta_min="omb", tol="pos", max_steps="int1", n="int1", d="int1",
                                teacher_width="int1", student_width="int1", n_test="int1", seed="int0",
                                lam_levels="pos*", n_bins="int2", small_gamma="pos"),
                     ordered=[("gamma_min", "gamma_max")])

    @classmethod
    def preset(cls, fidelity="book"):
        """Configuration for "test" (seconds), "book" (the notebook) or "paper" (large grid, large cap)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(n_gamma=5, n_beta=4, max_steps=3000, n_test=500, gamma_min=0.1, gamma_max=1.0),
                               paper=dict(n_gamma=30, n_beta=30, gamma_min=1e-2, max_steps=300_000))


@dataclass(frozen=True)
class Fig2Result:
    """Final test/train loss, steps and status of the student on the (β, γ) grid (rows β, columns γ)."""

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
        """λ = γ/(1−β)² on the grid (Proposition 1)."""
        G, B = np.meshgrid(self.gammas, self.betas)
        return G / (1 - B) ** 2

    def quantification(self, gamma_max=None):
        """η² of log test loss on log λ / log γ / log(1−β) alone and spreads along vs across λ lines,
        over the converged cells (with γ ≤ gamma_max if given)."""
        valid = self.status == nets.CONVERGED
        if gamma_max is not None:
            valid &= (self.gammas <= check_positive(gamma_max, "gamma_max"))[None, :]
        with np.errstate(divide="ignore"):
            ll = np.log10(self.test_loss)
        return lambda_quantification(ll, self.gammas, self.betas, valid, self.lam_levels, self.config.n_bins)

    def summary(self):
        """Measured claims as JSON-able numbers."""
        conv = self.status == nets.CONVERGED
        q = self.quantification()
        out = {k: (float(v) if isinstance(v, float) else v) for k, v in q.items()}
        qs = self.quantification(self.config.small_gamma)
        out.update({f"small_gamma_{k}": float(qs[k]) for k in _Q_KEYS})
        out.update(small_gamma=float(self.config.small_gamma), small_gamma_n_valid_cells=qs["n_valid_cells"])
        out.update(n_cells=int(self.status.size), n_converged=int(conv.sum()),
                   n_step_cap=int(np.sum(self.status == nets.STEP_CAP)),
                   n_diverged=int(np.sum(self.status == nets.DIVERGED)), max_steps=int(self.config.max_steps),
                   max_steps_taken_converged=int(self.steps[conv].max()) if conv.any() else 0,
                   log10_test_loss_min=float(np.log10(self.test_loss[conv].min())) if conv.any() else float("nan"),
                   log10_test_loss_max=float(np.log10(self.test_loss[conv].max())) if conv.any() else float("nan"),
                   lam_levels=[float(x) for x in self.lam_levels])
        return out

    def arrays(self):
        """Raw arrays."""
        return dict(gammas=self.gammas, betas=self.betas, test_loss=self.test_loss, train_loss=self.train_loss,
                    steps=self.steps, status=self.status, lam_levels=self.lam_levels)

    def plot(self):
        """Heatmap of log₁₀ test loss over (γ, β) with λ level lines (Figure 2)."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7.6, 5.4))
        with np.errstate(divide="ignore"):
            ll = np.log10(self.test_loss)
        _heatmap(ax, self.gammas, self.betas, ll, self.status,
                 "Teacher–student ReLU net: test loss after training to $L \\leq 10^{-5}$",
                 "log$_{10}$ test loss", self.lam_levels, self.status == nets.CONVERGED, mark_cap=True)
        _status_legend(fig, True, int(np.sum(self.status == nets.DIVERGED)),
                       int(np.sum(self.status == nets.STEP_CAP)))
        fig.tight_layout(rect=(0, 0.07, 1, 1))
        return fig


def fig2(config=None, progress=False):
    """Figure 2: test loss of a ReLU student trained by MGD(γ, β) to train loss 1e-5 (Section 2, App. F.1)."""
    config = Fig2Config() if config is None else config
    if not isinstance(config, Fig2Config):
        raise ValueError(f"config must be a Fig2Config, got {type(config).__name__}")
    gammas, betas = grid_axes(config.n_gamma, config.n_beta, config.gamma_min, config.gamma_max,
                              config.one_minus_beta_min)
    levels = _level_lines(gammas, betas, config.lam_levels)

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

    arr = _cached("fig2", config, compute)
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
        from .._checks import check_config
        check_config(self, dict(n_gamma="int1", n_beta="int1", gamma_min="pos", gamma_max="pos",
                                one_minus_beta_min="omb", epochs="int1", n_reps="int1", widths="int1+",
                                init_std="pos", n="int1", s="int1", mu="real", sigma="nonneg", seed="int0",
                                lam_levels="pos*", n_bins="int2"), ordered=[("gamma_min", "gamma_max")])
        if len(self.widths) < 2 or self.widths[-1] != 1 or self.s > self.widths[0]:
            raise ValueError(f"Fig6Config.widths must be (d, ..., 1) with d >= s={self.s}, got {self.widths!r}")

    @classmethod
    def preset(cls, fidelity="book"):
        """Configuration for "test" (seconds), "book" (the notebook) or "paper" (5 replications)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(n_gamma=3, n_beta=3, epochs=50, n_reps=2, widths=(30, 8, 6, 1)),
                               paper=dict(n_gamma=20, n_beta=20, n_reps=5))


@dataclass(frozen=True)
class Fig6Result:
    """Test/train loss of the deep linear network, averaged over replications, on the (β, γ) grid."""

    config: Fig6Config
    gammas: np.ndarray
    betas: np.ndarray
    test_loss: np.ndarray        # (n_beta, n_gamma) mean over replications; +inf where any diverged
    train_loss: np.ndarray
    test_loss_reps: np.ndarray   # (n_reps, n_beta, n_gamma)
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
        return lambda_quantification(ll, self.gammas, self.betas, self.status != nets.DIVERGED, self.lam_levels,
                                     self.config.n_bins)

    def summary(self):
        """Measured claims as JSON-able numbers (test-loss quantification, then train-loss η²)."""
        ok = self.status != nets.DIVERGED
        out = {k: (float(v) if isinstance(v, float) else v) for k, v in self.quantification("test").items()}
        tr = self.quantification("train")
        out.update({f"train_{k}": float(tr[k]) for k in _Q_KEYS})
        out.update(n_cells=int(ok.size), n_diverged=int((~ok).sum()), n_reps=int(self.config.n_reps),
                   log10_test_loss_min=float(np.log10(self.test_loss[ok].min())) if ok.any() else float("nan"),
                   log10_test_loss_max=float(np.log10(self.test_loss[ok].max())) if ok.any() else float("nan"),
                   lam_levels=[float(x) for x in self.lam_levels])
        return out

    def arrays(self):
        """Raw arrays."""
        return dict(gammas=self.gammas, betas=self.betas, test_loss=self.test_loss, train_loss=self.train_loss,
                    test_loss_reps=self.test_loss_reps, train_loss_reps=self.train_loss_reps,
                    status_reps=self.status_reps, lam_levels=self.lam_levels)

    def plot(self):
        """Test and train loss heatmaps over (γ, β) with λ level lines (Figure 6)."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(9.0, 4.4))
        with np.errstate(divide="ignore"):
            for ax, loss, name in ((axes[0], self.test_loss, "test"), (axes[1], self.train_loss, "train")):
                _heatmap(ax, self.gammas, self.betas, np.log10(loss), self.status,
                         f"{name} loss after {self.config.epochs} epochs",
                         f"log$_{{10}}$ {name} loss", self.lam_levels, self.status != nets.DIVERGED)
        _status_legend(fig, False, int(np.sum(self.status == nets.DIVERGED)),
                       div_label="diverged in ≥ 1 replication")
        fig.tight_layout(rect=(0, 0.07, 1, 1))
        return fig


def fig6(config=None, progress=False):
    """Figure 6: deep linear network (30, 60, 120, 60, 1) trained by MGD(γ, β) on sparse regression (App. F.1)."""
    config = Fig6Config() if config is None else config
    if not isinstance(config, Fig6Config):
        raise ValueError(f"config must be a Fig6Config, got {type(config).__name__}")
    gammas, betas = grid_axes(config.n_gamma, config.n_beta, config.gamma_min, config.gamma_max,
                              config.one_minus_beta_min)
    levels = _level_lines(gammas, betas, config.lam_levels)
    n_reps = check_int(config.n_reps, "n_reps", minimum=1)
    epochs = check_int(config.epochs, "epochs", minimum=1)
    init_std = check_positive(config.init_std, "init_std")

    def compute():
        G, B = np.meshgrid(gammas, betas)
        tests, trains, stats = [], [], []
        for r in range(n_reps):
            ds = sparse_regression(n=config.n, d=config.widths[0], s=config.s, mu=config.mu, sigma=config.sigma,
                                   seed=config.seed + r)
            net = nets.DeepLinearNet(ds.X, ds.y, config.widths)
            w0 = nets.deep_linear_init(net.widths, np.random.default_rng([config.seed, r, 6]), init_std)
            run = nets.train_grid(net, w0, G.ravel(), B.ravel(), epochs, progress=progress)
            test = ds.test_loss(net.end_to_end(run.w))
            test[run.diverged] = np.inf
            tests.append(test.reshape(G.shape))
            trains.append(run.train_loss.reshape(G.shape))
            stats.append(run.status.reshape(G.shape))
        return dict(test_loss_reps=np.array(tests), train_loss_reps=np.array(trains), status_reps=np.array(stats))

    arr = _cached("fig6", config, compute)
    div = np.any(arr["status_reps"] == nets.DIVERGED, axis=0)
    mean = lambda a: np.where(div, np.inf, np.mean(np.where(div, 0.0, a), axis=0))
    return Fig6Result(config=config, gammas=gammas, betas=betas, test_loss=mean(arr["test_loss_reps"]),
                      train_loss=mean(arr["train_loss_reps"]), lam_levels=levels, **arr)


def _cached(namespace, config, compute):
    params = dict(dataclasses.asdict(config), version=_VERSION)
    return cached_arrays(namespace, params, compute)


FIGURES = {
    "fig2": dict(fn=fig2, config=Fig2Config,
                 title="Teacher–student ReLU net: test loss over (γ, β) with the λ = γ/(1−β)² level lines",
                 seconds={"test": 2, "book": 20, "paper": 520}),
    "fig6": dict(fn=fig6, config=Fig6Config,
                 title="Deep linear net: test and train loss over (γ, β) against the λ level lines",
                 seconds={"test": 1, "book": 35, "paper": 140}),
}
