"""Section 4 figures: (stochastic) MGD on diagonal linear networks (Figures 4 and 7, Appendix D.2).

* Figure 4: the (γ, β) heatmaps of log₁₀ test loss, ‖Δ∞‖₂ and ‖θ‖₁ after MGD, with λ = γ/(1−β)² level
  lines, diverged cells hatched, sign-change cells marked; Theorem 2 and Corollary 3 checked on every
  run; the normalised distance ‖θ_MGD − θ_GF,Δ∞‖/‖θ_GF,Δ∞‖ to argmin_S ψ_Δ∞ (Appendix F.2.2).
* the λ-collapse quantified (``lambda_collapse``): share of the variance of each quantity explained by
  log λ alone versus log γ alone (correlation ratio η² of binned means, equal-width bins).
* Figure 7: log test loss of MGD(γ, β) beside MGF(λ = γ/(1−β)²). MGF is solved on a λ grid per
  replication and its log test loss interpolated (linearly in log λ) at every cell's λ.
* Appendix D.2: S± against (1+β)/2 · λ∫(ẇ±/w±)² as ε → 0 at fixed λ, over the same horizon.
* stochastic batches B ∈ {1, 5, n} and the (γ, β) widget with its kernel-free frames.

Replications are independent datasets ``sparse_regression(seed=s)`` for s in ``seeds``; ``max_epochs``
counts epochs (full batch: steps). Cells are averaged over replications (means of log₁₀ values).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._checks import fidelity_preset
from ..cache import cached_arrays
from ..grid import CellStatus, eta_squared, lam_grid, linear_beta_axes
from ..data import sparse_regression, stacked_regressions
from ..dln import perturbed_initialisation, train_mgf
from ..momentum import lam as lam_of, step
from .plotting import CAPPED_FACE as _CAPPED_FACE, result_heatmap as heatmap
from ..smgd import corollary3_holds, mgd_sweep, train_mgd
from ..status import Status

__all__ = ["Fig4Config", "Fig4Result", "fig4", "Fig7Config", "Fig7Result", "fig7", "lambda_collapse",
           "eta_squared", "D2Config", "d2_table", "StochasticConfig", "stochastic_batches",
           "draw_smgd_frame", "smgd_widget", "SMGDFrame", "WIDGET_STEPS", "status_legend", "plot_collapse",
           "plot_stochastic", "heatmap", "FIGURES"]



def _datasets(cfg):
    """The replications of a Fig4Config: ``sparse_regression(seed=s)`` for s in cfg.seeds, stacked."""
    return stacked_regressions(cfg.seeds, n=cfg.n, d=cfg.d, s=cfg.s, mu=cfg.mu, sigma=cfg.sigma)


def _grid(cfg):
    """(γ, β) axes of a Fig4Config (:func:`mdln.grid.linear_beta_axes`)."""
    return linear_beta_axes(cfg.gamma_min, cfg.gamma_max, cfg.n_gamma, cfg.beta_max, cfg.n_beta)


def _implicit(X, y, delta):
    from ..implicit import implicit_solution
    return implicit_solution(X, y, delta)


# --------------------------------------------------------------------------------------- Figure 4
@dataclass(frozen=True)
class Fig4Config:
    """Figure 4: MGD(γ, β) over a (γ, β) grid, full batch, u0 = α1, v0 = 0 (Appendix F.2.2)."""

    n: int = 20
    d: int = 30
    s: int = 5
    mu: float = 1.0
    sigma: float = 1.0
    seeds: tuple = (0, 1, 2, 3, 4)
    alpha: float = 0.01
    gamma_min: float = 1e-3
    gamma_max: float = 10 ** -0.5
    n_gamma: int = 14
    beta_max: float = 0.95
    n_beta: int = 14
    max_epochs: int = 10 ** 6          # the paper's cap (Appendix F.2.2)
    tol: float = 1e-8
    distances: bool = False   # simplified-form distances here; both forms per run: mdln.theorems.check_fig4

    def __post_init__(self):
        from .._checks import check_config
        check_config(self, dict(n="int1", d="int1", s="int1", mu="real", sigma="nonneg", seeds="seeds",
                                alpha="pos", gamma_min="pos", gamma_max="pos", n_gamma="int1", beta_max="beta",
                                n_beta="int1", max_epochs="int1", tol="pos", distances="bool"),
                     ordered=[("s", "d"), ("gamma_min", "gamma_max")])

    @classmethod
    def preset(cls, fidelity="book"):
        """'test' (seconds), 'book' (14 × 14 grid, 10⁶ epochs), 'paper' (20 × 20, 10⁶ epochs)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(n=10, d=15, s=3, seeds=(0,), gamma_min=0.05, gamma_max=3.0, n_gamma=4,
                                         n_beta=3, beta_max=0.9, max_epochs=20_000),
                               paper=dict(n_gamma=20, n_beta=20, max_epochs=10 ** 6))


@dataclass(frozen=True)
class Fig4Result(CellStatus):
    """Figure 4 data: per-run arrays of shape (G, Bt, R) plus the grid."""

    config: Fig4Config
    gammas: np.ndarray
    betas: np.ndarray
    test_loss: np.ndarray
    delta_norm: np.ndarray
    l1: np.ndarray
    train_loss: np.ndarray
    status: np.ndarray
    crossed: np.ndarray
    steps: np.ndarray
    theorem2_error: np.ndarray
    theorem2_error_finite: np.ndarray
    cor3_ok: np.ndarray
    theta_tilde0_max: np.ndarray
    norm_dist: np.ndarray
    theta: np.ndarray
    delta_inf: np.ndarray

    @property
    def lam(self):
        """λ = γ/(1−β)² on the (G, Bt) grid."""
        return lam_grid(self.gammas, self.betas)


    def cell_mean(self, name, log=True):
        """Replication mean of log₁₀(field) (or of the field), NaN where a replication diverged."""
        a = getattr(self, name)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log10(a) if log else a
        m = np.mean(v, axis=-1)
        return np.where(self.cell_diverged, np.nan, m)

    def summary(self):
        """Measured claims: Theorem 2 / Corollary 3 residuals, distances, λ-collapse, best λ."""
        conv = self.status == Status.CONVERGED
        calm = conv & ~self.crossed
        lt = self.cell_mean("test_loss")
        i, j = np.unravel_index(np.nanargmin(lt), lt.shape)
        out = dict(
            runs=int(self.status.size), converged=int(conv.sum()), diverged=int((self.status == Status.DIVERGED).sum()),
            step_cap=int((self.status == Status.STEP_CAP).sum()),
            crossed=int((self.crossed & (self.status != Status.DIVERGED)).sum()),
            theorem2_worst=float(np.nanmax(np.where(self.status != Status.DIVERGED, self.theorem2_error, np.nan))),
            theorem2_worst_converged=float(np.max(self.theorem2_error[conv])) if conv.any() else float("nan"),
            theorem2_worst_finite=float(np.nanmax(np.where(self.status != Status.DIVERGED, self.theorem2_error_finite,
                                                           np.nan))),
            corollary3_runs=int(calm.sum()), corollary3_holds=int(np.sum(self.cor3_ok & calm)),
            lambda_star=float(self.lam[i, j]), gamma_star=float(self.gammas[i]), beta_star=float(self.betas[j]),
            log10_test_loss_best=float(lt[i, j]), log10_test_loss_corner=float(lt[0, 0]),
        )
        nd = self.norm_dist[conv]
        nd = nd[np.isfinite(nd)]
        out["norm_dist_max"] = float(nd.max()) if nd.size else float("nan")
        out["norm_dist_median"] = float(np.median(nd)) if nd.size else float("nan")
        out["norm_dist_count"] = int(nd.size)
        out.update({f"collapse_{k}": v for k, v in lambda_collapse(self).items()})
        return out

    def arrays(self):
        """Raw arrays (per run) and the grid."""
        return {f.name: np.asarray(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "config"}

    @property
    def cell_capped(self):
        """(G, Bt): some (non-diverged) replication stopped at the epoch cap before train loss < tol."""
        return np.any(self.status == Status.STEP_CAP, axis=-1) & ~self.cell_diverged

    def capped_runs(self):
        """Runs stopped at the epoch cap: count, median step ε = γ/(1−β) and their train losses (Section 4)."""
        cap = self.status == Status.STEP_CAP
        eps = np.broadcast_to(step(self.gammas[:, None], self.betas[None, :])[..., None], self.status.shape)
        if not cap.any():
            return dict(n=0, eps_median=float("nan"), train_loss_median=float("nan"),
                        train_loss_max=float("nan"))
        return dict(n=int(cap.sum()), eps_median=float(np.median(eps[cap])),
                    train_loss_median=float(np.median(self.train_loss[cap])),
                    train_loss_max=float(np.max(self.train_loss[cap])))

    def plot(self, marker=None):
        """2×2: log test loss, ‖Δ∞‖₂, ‖θ‖₁ heatmaps and the number of capped runs per cell."""
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(2, 2, figsize=(9, 7.4), constrained_layout=True)
        panels = [("test_loss", "log$_{10}$ test loss"), ("delta_norm", r"log$_{10}\,\|\Delta_\infty\|_2$"),
                  ("l1", r"log$_{10}\,\|\theta\|_1$")]
        for ax, (name, title) in zip(axes.flat, panels):
            v = self.cell_mean(name)
            vc = v[self.cell_converged]          # colour range set by the converged cells (robust)
            vc = vc[np.isfinite(vc)] if vc.size and np.isfinite(vc).any() else v[np.isfinite(v)]
            lo, hi = np.percentile(vc, [1, 99]) if vc.size else (None, None)
            heatmap(ax, self, v, title, marker=marker, vmin=lo, vmax=hi)   # robust colour range
        R = self.status.shape[-1]
        capped = np.where(self.cell_diverged, np.nan, np.sum(self.status == Status.STEP_CAP, axis=-1).astype(float))
        from matplotlib.colors import ListedColormap
        greys = ListedColormap(plt.get_cmap("Greys")(np.linspace(0.0, 0.6, R + 1)))
        heatmap(axes[1, 1], self, capped, f"runs (of {R}) stopped at the epoch cap", cmap=greys,
                vmin=-0.5, vmax=R + 0.5, grey_capped=False, line_colour="0.2")
        status_legend(fig, self.config.max_epochs)
        return fig


def status_legend(fig, max_epochs=None, capped=True):
    """One legend under the figure: diverged (hatched), capped (greyed), sign changes, λ lines."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    cap = f"{max_epochs:.0e}".replace("e+0", "e") if max_epochs else ""
    h = [Patch(facecolor="0.8", edgecolor="0.3", hatch="///", label="diverged")]
    if capped:
        h.append(Patch(facecolor=_CAPPED_FACE, edgecolor="0.35", hatch="..",
                       label=f"epoch cap {cap} reached (values not final)" if cap else "epoch cap reached"))
    h += [Line2D([], [], ls="", marker="o", color="w", mec="k", ms=6, label="w± changed sign"),
          Line2D([], [], ls="--", color="0.4", label="λ = γ/(1−β)² = 10^k")]
    fig.legend(handles=h, loc="outside lower center", ncol=2, fontsize=9, frameon=False)


def fig4(config=None, progress=False):
    """Figure 4: MGD(γ, β) over the grid, with Theorem 2, Corollary 3 and normalised distances."""
    cfg = Fig4Config.preset("book") if config is None else config
    dss, X, y = _datasets(cfg)
    gammas, betas = _grid(cfg)
    sw = mgd_sweep(X, y, gammas, betas, seeds=0, alpha=cfg.alpha, max_steps=cfg.max_epochs, tol=cfg.tol,
                   progress=progress)

    def compute():
        nd = np.full(sw.status.shape, np.nan)
        if cfg.distances:
            for idx in zip(*np.nonzero(sw.status == Status.CONVERGED)):
                r = idx[2]
                try:
                    ref = _implicit(dss[r].X, dss[r].y, sw.delta_inf[idx])
                    nd[idx] = np.linalg.norm(sw.theta[idx] - ref) / np.linalg.norm(ref)
                except Exception:   # solver failure: leave NaN (reported in the count)
                    pass
        return dict(norm_dist=nd)
    extra = cached_arrays("fig4-dist", dict(cfg=dataclasses.asdict(cfg)), compute)
    test_loss = np.stack([dss[r].test_loss(sw.theta[:, :, r]) for r in range(len(dss))], axis=-1)
    with np.errstate(all="ignore"):
        tt0_runs = perturbed_initialisation(cfg.alpha, cfg.alpha, sw.S_plus, sw.S_minus)
        tt0 = np.max(np.abs(tt0_runs), axis=-1)
    cor3 = corollary3_holds(sw.delta_inf, tt0_runs, cfg.alpha)
    return Fig4Result(config=cfg, gammas=gammas, betas=betas, test_loss=test_loss,
                      delta_norm=np.linalg.norm(sw.delta_inf, axis=-1), l1=np.sum(np.abs(sw.theta), axis=-1),
                      train_loss=sw.train_loss, status=sw.status, crossed=sw.crossed, steps=sw.steps,
                      theorem2_error=np.nan_to_num(sw.theorem2_error(), nan=np.inf),
                      theorem2_error_finite=np.nan_to_num(sw.theorem2_error(finite=True), nan=np.inf),
                      cor3_ok=cor3, theta_tilde0_max=tt0, norm_dist=extra["norm_dist"], theta=sw.theta,
                      delta_inf=sw.delta_inf)


def lambda_collapse(res, n_bins=10, converged_only=True):
    """η² of each quantity (cell means) on log λ alone versus on log γ alone.

    Cells: those where every replication converged (default), else all non-diverged cells.
    """
    ok = res.cell_converged if converged_only else ~res.cell_diverged
    lam = np.log10(res.lam)[ok]
    gam = np.log10(np.broadcast_to(res.gammas[:, None], res.lam.shape))[ok]
    out = {}
    for name in ("delta_norm", "test_loss", "l1"):
        v = res.cell_mean(name)[ok]
        out[f"{name}_lam"] = eta_squared(lam, v, n_bins)
        out[f"{name}_gamma"] = eta_squared(gam, v, n_bins)
    return out


def plot_collapse(res):
    """2×2: each Figure 4 quantity against λ per non-diverged cell (coloured by log₁₀ γ) and the η² bars."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.8), constrained_layout=True)
    ok = res.cell_converged
    nc = ~res.cell_diverged & ~ok
    lam = res.lam[ok]
    gam = np.log10(np.broadcast_to(res.gammas[:, None], res.lam.shape)[ok])
    eta = lambda_collapse(res)
    names = [("test_loss", "log$_{10}$ test loss"), ("delta_norm", r"log$_{10}\,\|\Delta_\infty\|_2$"),
             ("l1", r"log$_{10}\,\|\theta\|_1$")]
    for ax, (name, lab) in zip(axes.flat, names):
        ax.scatter(res.lam[nc], res.cell_mean(name)[nc], s=14, marker="x", color="0.65", lw=0.8,
                   label="epoch cap reached")
        sc = ax.scatter(lam, res.cell_mean(name)[ok], c=gam, s=16, cmap="viridis", label="converged")
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda = \gamma/(1-\beta)^2$")
        ax.set_ylabel(lab)
        ax.legend(fontsize=9)
    fig.colorbar(sc, ax=axes[0, 1], label=r"log$_{10}\gamma$")
    ax = axes[1, 1]
    x = np.arange(3)
    ax.bar(x - 0.2, [eta[n + "_lam"] for n, _ in names], 0.4, color="#0072B2", label="binned on log λ")
    ax.bar(x + 0.2, [eta[n + "_gamma"] for n, _ in names], 0.4, color="#E69F00", label="binned on log γ")
    ax.set_xticks(x, ["test loss", "‖Δ∞‖₂", "‖θ‖₁"])
    ax.set_ylim(0, 1.25)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_ylabel("η² (share of variance explained)")
    ax.legend(fontsize=9, loc="upper center", ncol=2)
    return fig


# --------------------------------------------------------------------------------------- Figure 7
@dataclass(frozen=True)
class Fig7Config:
    """Figure 7: MGD(γ, β) test loss against MGF(λ) interpolated on a λ grid (Appendix F.1)."""

    fig4: Fig4Config = Fig4Config()
    n_lam: int = 9
    mgf_seeds: tuple = (0, 1)
    mgf_tol: float = 1e-8

    def __post_init__(self):
        from .._checks import check_config
        if not isinstance(self.fig4, Fig4Config):
            raise ValueError(f"Fig7Config.fig4 must be a Fig4Config, got {type(self.fig4).__name__}")
        check_config(self, dict(n_lam="int1", mgf_seeds="seeds", mgf_tol="pos"))
        if not set(self.mgf_seeds) <= set(self.fig4.seeds):
            raise ValueError(f"Fig7Config.mgf_seeds must be a subset of fig4.seeds={self.fig4.seeds!r}, "
                             f"got {self.mgf_seeds!r}")

    @classmethod
    def preset(cls, fidelity="book"):
        """'test', 'book' (MGF on 9 λ for 2 datasets), 'paper' (15 λ, all 5 datasets)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(fig4=Fig4Config.preset("test"), n_lam=3, mgf_seeds=(0,)),
                               paper=dict(fig4=Fig4Config.preset("paper"), n_lam=15, mgf_seeds=(0, 1, 2, 3, 4)))


@dataclass(frozen=True)
class Fig7Result:
    """MGD and MGF(λ) log₁₀ test losses on the (γ, β) grid (means over ``mgf_seeds``)."""

    config: Fig7Config
    fig4: Fig4Result
    lams: np.ndarray
    mgf_log_test: np.ndarray     # (n_lam, R') log10 test loss of MGF(λ)
    mgd_cells: np.ndarray        # (G, Bt) mean log10 test loss of MGD over mgf_seeds
    mgf_cells: np.ndarray        # (G, Bt) interpolated MGF at the cell's λ

    def _cells(self, converged_only):
        ok = np.isfinite(self.mgd_cells) & np.isfinite(self.mgf_cells)
        if converged_only:
            ridx = [list(self.config.fig4.seeds).index(s) for s in self.config.mgf_seeds]
            ok &= np.all(self.fig4.status[:, :, ridx] == Status.CONVERGED, axis=-1)
        return ok

    def correlation(self, converged_only=True):
        """Pearson correlation of the two heatmaps over cells where MGD converged (or all non-diverged)."""
        ok = self._cells(converged_only)
        return float(np.corrcoef(self.mgd_cells[ok], self.mgf_cells[ok])[0, 1]) if ok.sum() > 2 else float("nan")

    def summary(self):
        """Correlations and mean absolute gaps (decades) between MGD and MGF(λ)."""
        out = {}
        for tag, conv in (("converged", True), ("all", False)):
            ok = self._cells(conv)
            out[f"correlation_{tag}"] = self.correlation(conv)
            out[f"cells_{tag}"] = int(ok.sum())
            out[f"mean_abs_gap_decades_{tag}"] = float(np.mean(np.abs(self.mgd_cells - self.mgf_cells)[ok]))
        return out

    def arrays(self):
        """Raw arrays."""
        return dict(lams=self.lams, mgf_log_test=self.mgf_log_test, mgd_cells=self.mgd_cells,
                    mgf_cells=self.mgf_cells)

    def capped(self):
        """(G, Bt): some MGD run of ``mgf_seeds`` stopped at the epoch cap (cell not diverged)."""
        ridx = [list(self.config.fig4.seeds).index(s) for s in self.config.mgf_seeds]
        return np.any(self.fig4.status[:, :, ridx] == Status.STEP_CAP, axis=-1) & np.isfinite(self.mgd_cells)

    def plot(self):
        """2×2: MGD and MGF(λ) heatmaps on one colour scale, a scatter, and both against λ."""
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(2, 2, figsize=(9, 7.6), constrained_layout=True)
        both = np.concatenate([self.mgd_cells[np.isfinite(self.mgd_cells)],
                               self.mgf_cells[np.isfinite(self.mgf_cells)]])
        vmin, vmax = float(both.min()), float(both.max())
        cap = self.capped()
        heatmap(axes[0, 0], self.fig4, self.mgd_cells, "MGD(γ, β): log$_{10}$ test loss", vmin=vmin, vmax=vmax,
                capped=cap)
        heatmap(axes[0, 1], self.fig4, self.mgf_cells, "MGF(λ = γ/(1−β)²): log$_{10}$ test loss",
                vmin=vmin, vmax=vmax, grey_capped=False)
        ok = np.isfinite(self.mgd_cells) & np.isfinite(self.mgf_cells)
        conv = self._cells(True)
        ax = axes[1, 0]
        sc = ax.scatter(self.mgf_cells[ok & conv], self.mgd_cells[ok & conv],
                        c=np.log10(self.fig4.lam[ok & conv]), s=16, cmap="cividis", label="MGD converged")
        ax.scatter(self.mgf_cells[ok & ~conv], self.mgd_cells[ok & ~conv], s=14, marker="x",
                   color="0.6", lw=0.8, label="MGD at the epoch cap")
        ax.legend(fontsize=9, loc="upper left")
        fig.colorbar(sc, ax=ax, label=r"log$_{10}\lambda$")
        ax.plot([vmin, vmax], [vmin, vmax], "k--", lw=0.8)
        ax.set_xlabel("MGF(λ): log$_{10}$ test loss")
        ax.set_ylabel("MGD(γ, β): log$_{10}$ test loss")
        ax.set_title(f"correlation {self.correlation(False):.2f} (all cells), "
                     f"{self.correlation(True):.2f} (converged)", fontsize=10)
        ax = axes[1, 1]
        lam = self.fig4.lam
        ax.scatter(lam[ok & conv], self.mgd_cells[ok & conv], s=14, color="#0072B2", label="MGD, converged")
        ax.scatter(lam[ok & ~conv], self.mgd_cells[ok & ~conv], s=14, marker="x", color="0.6", lw=0.8,
                   label="MGD at the epoch cap")
        ax.plot(self.lams, self.mgf_log_test.mean(axis=1), "-o", color="#D55E00", ms=4, label="MGF(λ)")
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda = \gamma/(1-\beta)^2$")
        ax.set_ylabel("log$_{10}$ test loss")
        ax.legend(fontsize=9)
        status_legend(fig, self.config.fig4.max_epochs)
        return fig


def fig7(config=None, progress=False):
    """Figure 7: MGD(γ, β) after training beside MGF(λ = γ/(1−β)²) (Section 3 solver)."""
    cfg = Fig7Config.preset("book") if config is None else config
    f4 = fig4(cfg.fig4, progress=progress)
    lam = f4.lam
    ok = ~f4.cell_diverged
    lams = np.geomspace(lam[ok].min(), lam[ok].max(), cfg.n_lam)
    c4 = cfg.fig4
    seeds = [s for s in cfg.mgf_seeds if s in c4.seeds]
    if not seeds:
        raise ValueError("mgf_seeds must be a subset of fig4.seeds")

    def compute():
        from ..dln import train_mgf
        out = np.zeros((len(lams), len(seeds)))
        it = [(i, k) for i in range(len(lams)) for k in range(len(seeds))]
        if progress:
            from tqdm.auto import tqdm
            it = tqdm(it, desc="MGF(λ) solves")
        for i, k in it:
            ds = sparse_regression(n=c4.n, d=c4.d, s=c4.s, mu=c4.mu, sigma=c4.sigma, seed=int(seeds[k]))
            r = train_mgf(ds.X, ds.y, float(lams[i]), alpha=c4.alpha, tol=cfg.mgf_tol)
            out[i, k] = np.log10(ds.test_loss(r.theta))
        return dict(mgf=out)
    arr = cached_arrays("fig7-mgf", dict(cfg=dataclasses.asdict(cfg), lams=lams), compute)
    mgf = arr["mgf"]
    ridx = [list(c4.seeds).index(s) for s in seeds]
    with np.errstate(divide="ignore"):
        mgd_cells = np.mean(np.log10(f4.test_loss[:, :, ridx]), axis=-1)
    mgd_cells = np.where(ok, mgd_cells, np.nan)
    mgf_mean = mgf.mean(axis=1)
    mgf_cells = np.where(ok, np.interp(np.log10(lam), np.log10(lams), mgf_mean), np.nan)
    return Fig7Result(config=cfg, fig4=f4, lams=lams, mgf_log_test=mgf, mgd_cells=mgd_cells,
                      mgf_cells=mgf_cells)


# ------------------------------------------------------------------------------------ Appendix D.2
@dataclass(frozen=True)
class D2Config:
    """Appendix D.2: discrete sums S± against (1+β)/2·λ∫₀ᵀ(ẇ±/w±)² at fixed λ, ε = λ·ratios."""

    lam: float = 0.01
    ratios: tuple = (1.0, 0.5, 0.25, 0.125, 0.0625)   # ε/λ = 1 − β
    horizon: float = 300.0
    n: int = 20
    d: int = 30
    s: int = 5
    seed: int = 0
    alpha: float = 0.01

    def __post_init__(self):
        from .._checks import check_config
        check_config(self, dict(lam="pos", ratios="pos+", horizon="pos", n="int1", d="int1", s="int1",
                                seed="int0", alpha="pos"), ordered=[("s", "d")], within={"ratios": 1.0})


def _mgf_log_integrals(X, y, lam, alpha, horizon):
    """λ∫₀ᵀ(ẇ±/w±)² dt of MGF(λ) on [0, T] (Appendix D.2) from ``train_mgf``'s dense Eq. (12) trajectory."""
    r = train_mgf(X, y, lam, alpha=alpha, tol=1e-300, t_max=horizon, trajectory=True, refine=16, rtol=1e-10,
                  atol=1e-14)
    if not r.reached_t_max:
        raise RuntimeError(f"MGF integration to T = {horizon} failed: {r.status}")
    if r.vanished:
        raise RuntimeError("w± changed sign along MGF: D.2 compares non-crossing runs only")
    return r.integrals()


def d2_table(config=None):
    """Rows (ε, γ, β, steps, ‖S‖, ‖λI‖, gap to λI, gap to (1+β)/2·λI), S = S+ + S− over [0, T]."""
    cfg = D2Config() if config is None else config
    ds = sparse_regression(n=cfg.n, d=cfg.d, s=cfg.s, seed=cfg.seed)

    def compute():
        lam_Ip, lam_Im = _mgf_log_integrals(ds.X, ds.y, cfg.lam, cfg.alpha, cfg.horizon)
        rows = []
        for q in cfg.ratios:
            eps = cfg.lam * q
            gamma, beta = eps ** 2 / cfg.lam, 1.0 - q
            K = int(round(cfg.horizon / eps))
            r = train_mgd(ds.X, ds.y, gamma, beta, alpha=cfg.alpha, max_steps=K, tol=1e-300)
            if r.crossed:
                raise RuntimeError(f"MGD(ε={eps}) changed sign: D.2 compares non-crossing runs only")
            S = r.S_plus + r.S_minus
            C = lam_Ip + lam_Im
            rows.append([eps, gamma, beta, K, np.linalg.norm(S), np.linalg.norm(C),
                         np.linalg.norm(S - C) / np.linalg.norm(C),
                         np.linalg.norm(S - 0.5 * (1 + beta) * C) / np.linalg.norm(0.5 * (1 + beta) * C)])
        return dict(rows=np.array(rows))
    return cached_arrays("d2-table", dict(cfg=dataclasses.asdict(cfg)), compute)["rows"]


# ------------------------------------------------------------------------------ stochastic batches
@dataclass(frozen=True)
class StochasticConfig:
    """SMGD with B ∈ batch_sizes on a small (γ, β) grid (Section 4)."""

    batch_sizes: tuple = (1, 5, 20)
    fig4: Fig4Config = Fig4Config(n_gamma=6, n_beta=6, seeds=(0, 1), gamma_min=3e-3, max_epochs=20_000)
    replace: bool = False

    def __post_init__(self):
        from .._checks import check_config
        if not isinstance(self.fig4, Fig4Config):
            raise ValueError(f"StochasticConfig.fig4 must be a Fig4Config, got {type(self.fig4).__name__}")
        check_config(self, dict(batch_sizes="int1+", replace="bool"))
        if max(self.batch_sizes) > self.fig4.n:
            raise ValueError(f"StochasticConfig.batch_sizes must lie in [1, fig4.n={self.fig4.n}], "
                             f"got {self.batch_sizes!r}")


def stochastic_batches(config=None, progress=False):
    """Per batch size: sweep results, Theorem 2 residuals, λ-collapse η² and test losses."""
    cfg = StochasticConfig() if config is None else config
    c4 = cfg.fig4
    dss, X, y = _datasets(c4)
    gammas, betas = _grid(c4)
    out = {}
    for B in cfg.batch_sizes:
        spe = -(-c4.n // B)
        sw = mgd_sweep(X, y, gammas, betas, seeds=list(range(len(dss))), batch_size=B, replace=cfg.replace,
                       alpha=c4.alpha, max_steps=c4.max_epochs * spe, tol=c4.tol, progress=progress)
        tl = np.stack([dss[r].test_loss(sw.theta[:, :, r]) for r in range(len(dss))], axis=-1)
        ok = sw.status != Status.DIVERGED
        cell = np.where(np.all(ok, -1), np.mean(np.log10(tl), -1), np.nan)
        dn = np.where(np.all(ok, -1), np.mean(np.log10(np.linalg.norm(sw.delta_inf, axis=-1)), -1), np.nan)
        lam = np.log10(sw.lam)
        gam = np.log10(np.broadcast_to(gammas[:, None], lam.shape))
        out[B] = dict(sweep=sw, log_test=cell, log_delta=dn,
                      converged=int((sw.status == Status.CONVERGED).sum()),
                      diverged=int((sw.status == Status.DIVERGED).sum()),
                      runs=int(sw.status.size), crossed=int((sw.crossed & ok).sum()),
                      theorem2_worst=float(np.nanmax(np.where(ok, sw.theorem2_error(), np.nan))),
                      eta2_delta_lam=eta_squared(lam, dn, 6), eta2_delta_gamma=eta_squared(gam, dn, 6),
                      median_log_test=float(np.nanmedian(cell)))
    return out


def plot_stochastic(out):
    """log₁₀ test loss and log₁₀‖Δ∞‖ against λ, one colour per batch size; open marks: cap reached."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.9), constrained_layout=True)
    colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
    for (B, v), c in zip(out.items(), colours):
        sw = v["sweep"]
        lam = sw.lam
        conv = np.all(sw.status == Status.CONVERGED, axis=-1)
        for ax, key in zip(axes, ["log_test", "log_delta"]):
            ax.scatter(lam[conv], v[key][conv], s=18, color=c, label=f"B = {B}", alpha=0.85)
            ax.scatter(lam[~conv], v[key][~conv], s=18, facecolor="none", edgecolor=c, alpha=0.85, lw=0.8)
    for ax, lab in zip(axes, ["log$_{10}$ test loss", r"log$_{10}\,\|\Delta_\infty\|_2$"]):
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda = \gamma/(1-\beta)^2$")
        ax.set_ylabel(lab)
        ax.legend(fontsize=9, title="filled: all runs converged\nopen: epoch cap reached", title_fontsize=9)
    return fig


# ---------------------------------------------------------------------------------------- widget
WIDGET_STEPS = 50_000   # step budget per live redraw (~0.1 s of train_mgd); the plot says when a run is cut


@lru_cache(maxsize=512)
def _widget_run(gamma, beta, n, d, s, seed, alpha, max_steps):
    ds = sparse_regression(n=n, d=d, s=s, seed=seed)
    return ds, train_mgd(ds.X, ds.y, gamma, beta, alpha=alpha, max_steps=max_steps, record=60)


class SMGDFrame:
    """The (γ, β) explorer: a 2×2 figure built once, then updated with ``set_data`` (no axes rebuilt).

    Panels: train loss, Δ_k per coordinate, final θ against θ*, and the Figure 4 heatmap whose marker
    moves to (γ, β); the nearest Figure 4 cell's result (already computed, full budget) is quoted in the
    title, so the live run needs only ``max_steps`` steps.
    """

    def __init__(self, fig, fig4_result, max_steps=WIDGET_STEPS, seed=0):
        from matplotlib.collections import LineCollection
        self.fig, self.res, self.max_steps, self.seed = fig, fig4_result, int(max_steps), int(seed)
        c = fig4_result.config
        self.cfg = c
        self.ds = sparse_regression(n=c.n, d=c.d, s=c.s, seed=self.seed)
        ax = fig.subplots(2, 2)
        self.axes = ax
        a0, a1, a2, a3 = ax.flat
        self.loss_line, = a0.plot([], [], color="#0072B2")
        a0.axhline(c.tol, color="0.5", ls=":", lw=0.9)
        a0.set_xscale("log")
        a0.set_yscale("log")
        a0.set_xlabel("step k")
        a0.set_ylabel("train loss")
        self.cut_text = a0.text(0.03, 0.14, "", transform=a0.transAxes, color="#D55E00", fontsize=9)
        self.delta_lines = LineCollection([], lw=0.7, color="#009E73", alpha=0.7)
        a1.add_collection(self.delta_lines)
        a1.axhline(c.alpha ** 2, color="k", ls="--", lw=0.8)
        a1.set_xscale("log")
        a1.set_yscale("log")
        a1.set_xlabel("step k")
        a1.set_ylabel(r"$\Delta_k$ per coordinate")
        a1.set_title(r"dashed: $\Delta_0 = \alpha^2$", fontsize=9)
        x = np.arange(c.d)
        self.stems = LineCollection([], color="C1", lw=1.0)
        a2.add_collection(self.stems)
        self.theta_pts, = a2.plot(x, np.zeros(c.d), "o", color="C1", ms=3.5, label=r"final $\theta$")
        a2.plot(x, self.ds.theta_star, "k_", ms=9, mew=1.5, label=r"$\theta^\star$")
        a2.axhline(0, color="0.6", lw=0.5)
        a2.set_xlim(-1, c.d)
        a2.set_xlabel("coordinate i")
        a2.legend(fontsize=9, loc="upper right")
        # the heatmap is drawn once off-screen (at the panel's size, after the layout) and shown as an image:
        # redraws cost an imshow, not ~200 hatched patches and contours; the marker moves in its pixels
        a3.set_axis_off()
        self._to_px = None
        self.marker, = a3.plot([], [], "*", color="#D55E00", ms=15, mec="k", zorder=5)
        self.title = fig.suptitle("γ\nβ", fontsize=10)   # two-line placeholder: the layout keeps room for it
        self.update((0.01, 0.5))
        fig.set_layout_engine("constrained")
        fig.canvas.draw()
        fig.set_layout_engine("none")      # layout computed once; redraws only move data
        bb = a3.get_window_extent()
        img, self._to_px = _heatmap_image(fig4_result, fig.dpi, bb.width / fig.dpi, bb.height / fig.dpi)
        a3.imshow(img, interpolation="antialiased", aspect="auto", zorder=1)
        self.update((0.01, 0.5))

    def nearest_cell(self, gamma, beta):
        """Figure 4 summary at the grid cell nearest to (γ, β) (log γ, β distance)."""
        r = self.res
        i = int(np.argmin(np.abs(np.log10(r.gammas) - np.log10(gamma))))
        j = int(np.argmin(np.abs(r.betas - beta)))
        st = r.status[i, j]
        return dict(gamma=float(r.gammas[i]), beta=float(r.betas[j]), log_test=float(r.cell_mean("test_loss")[i, j]),
                    converged=int(np.sum(st == Status.CONVERGED)), capped=int(np.sum(st == Status.STEP_CAP)),
                    diverged=int(np.sum(st == Status.DIVERGED)),
                    runs=int(st.size))

    def update(self, value):
        """Redraw for ``value = (γ, β)``: one budgeted ``train_mgd`` run (cached) and ``set_data``."""
        gamma, beta = float(value[0]), float(value[1])
        c = self.cfg
        ds, r = _widget_run(gamma, beta, c.n, c.d, c.s, self.seed, c.alpha, self.max_steps)
        tr = r.trajectory
        st = np.maximum(tr.steps, 1).astype(float)
        loss = np.maximum(tr.train_loss, 1e-300)
        a0, a1, a2, _ = self.axes.flat
        self.loss_line.set_data(st, loss)
        xmax = max(float(st[-1]), 10.0)
        fin = loss[np.isfinite(loss)]
        a0.set_xlim(1, xmax * 1.2)
        a0.set_ylim(min(fin.min(), c.tol) / 5, fin.max() * 5)
        de = np.maximum(tr.delta, 1e-300)
        self.delta_lines.set_segments([np.column_stack([st, de[:, i]]) for i in range(de.shape[1])])
        okd = de[np.isfinite(de)]
        a1.set_xlim(1, xmax * 1.2)
        a1.set_ylim(min(okd.min(), c.alpha ** 2) / 3, max(okd.max(), c.alpha ** 2) * 3)
        th = np.where(np.isfinite(r.theta), r.theta, np.nan)
        x = np.arange(c.d)
        self.theta_pts.set_ydata(th)
        self.stems.set_segments([[(i, 0.0), (i, t)] for i, t in zip(x, np.nan_to_num(th))])
        lo = np.nanmin(np.concatenate([th, ds.theta_star, [0.0]]))
        hi = np.nanmax(np.concatenate([th, ds.theta_star, [0.0]]))
        pad = 0.08 * (hi - lo if hi > lo else 1.0)
        a2.set_ylim(lo - pad, hi + pad)
        if self._to_px is not None:
            px, py = self._to_px(gamma, beta)
            self.marker.set_data([px], [py])
        cut = r.code == Status.STEP_CAP
        self.cut_text.set_text(f"cut short at the {self.max_steps:,}-step budget" if cut else "")
        cell = self.nearest_cell(gamma, beta)
        lam, eps = lam_of(gamma, beta), step(gamma, beta)
        live = (f"{r.status} after {r.steps} steps" if not cut else f"stopped at {r.steps} steps (budget)")
        fig4_txt = (f"Figure 4 cell ({cell['gamma']:.2g}, {cell['beta']:.2g}): "
                    + (f"log test loss {cell['log_test']:.2f}" if np.isfinite(cell["log_test"]) else "diverged")
                    + (f", {cell['capped']}/{cell['runs']} runs at the epoch cap" if cell["capped"] else ""))
        self.title.set_text(f"γ = {gamma:.3g}, β = {beta:.3g}: λ = {lam:.3g}, ε = {eps:.3g}; {live}, "
                            f"test loss {ds.test_loss(r.theta):.2e}" + (", w± changed sign" if r.crossed else "")
                            + "\n" + fig4_txt)
        return r


_HEATMAP_IMAGES = {}


def _heatmap_image(res, dpi, width=4.5, height=3.3):
    """Figure 4 test-loss heatmap rendered once to RGBA, with a map (γ, β) → image pixel (x, row)."""
    width, height = max(float(width), 2.0), max(float(height), 1.5)
    key = (id(res), float(dpi), round(width, 2), round(height, 2))
    if key not in _HEATMAP_IMAGES:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        f = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
        FigureCanvasAgg(f)
        ax = f.add_subplot()
        heatmap(ax, res, res.cell_mean("test_loss"), "Figure 4: log$_{10}$ test loss (greyed: cap)")
        f.canvas.draw()
        img = np.asarray(f.canvas.buffer_rgba()).copy()
        H = img.shape[0]
        tr = ax.transData.frozen()

        def to_px(gamma, beta):
            x, y = tr.transform((beta, gamma))
            return x, H - y
        if len(_HEATMAP_IMAGES) > 8:
            _HEATMAP_IMAGES.clear()
        _HEATMAP_IMAGES[key] = (img, to_px, res)   # res kept alive so id(res) stays unique
    img, to_px, _ = _HEATMAP_IMAGES[key]
    return img, to_px


def draw_smgd_frame(fig, value, fig4_result, max_steps=WIDGET_STEPS, seed=0):
    """One frame at (γ, β) on an empty figure (the precomputed slider): builds an :class:`SMGDFrame`."""
    return SMGDFrame(fig, fig4_result, max_steps=max_steps, seed=seed).update(value)


def smgd_widget(fig4_result, max_steps=WIDGET_STEPS, show=True):
    """ipywidgets γ (log) and β sliders; λ and ε shown live; the figure is updated, not rebuilt.

    Displays the box too when ``show`` (the chapter's cell ends with ``;``).
    """
    from IPython.display import display
    from .. import widgets
    gs, bs = fig4_result.gammas, fig4_result.betas
    fig = widgets.agg_figure((9, 6.6))   # outside pyplot: no later plt.show() picks it up
    frame = SMGDFrame(fig, fig4_result, max_steps=max_steps)

    def draw(gamma, beta):
        frame.update((gamma, beta))
        return fig
    box = widgets.slider(draw, gamma=widgets.log(gs[0], gs[-1], 0.05, float(np.clip(0.01, gs[0], gs[-1]))),
                         beta=widgets.linear(0.0, float(bs[-1]), 0.05, min(0.5, float(bs[-1]))))
    if show:
        display(box)
    return box


FIGURES = {
    "fig4": dict(fn=fig4, config=Fig4Config,
                 title="MGD(γ, β) on a diagonal network: test loss, ‖Δ∞‖₂, ‖θ‖₁ over (γ, β) follow λ",
                 seconds={"test": 2, "book": 90, "paper": 310}),   # book at 10⁶ epochs: ~50 s CPU, 2 threads
    "fig7": dict(fn=fig7, config=Fig7Config,
                 title="MGD(γ, β) test loss beside MGF(λ = γ/(1−β)²)",
                 seconds={"test": 6, "book": 100, "paper": 600}),
}
