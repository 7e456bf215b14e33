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

from ._checks import check_int, check_positive, fidelity_preset
from .cache import cached_arrays
from .data import sparse_regression
from .smgd import train_mgd
from .sweep import mgd_sweep

__all__ = ["Fig4Config", "Fig4Result", "fig4", "Fig7Config", "Fig7Result", "fig7", "lambda_collapse",
           "eta_squared", "D2Config", "d2_table", "StochasticConfig", "stochastic_batches",
           "draw_smgd_frame", "smgd_widget", "plot_collapse", "plot_stochastic", "heatmap", "FIGURES"]

_VERSION = "fig4-v1"


def _datasets(cfg):
    dss = [sparse_regression(n=cfg.n, d=cfg.d, s=cfg.s, mu=cfg.mu, sigma=cfg.sigma, seed=int(s))
           for s in cfg.seeds]
    return dss, np.stack([d.X for d in dss]), np.stack([d.y for d in dss])


def _grid(cfg):
    gammas = np.logspace(np.log10(cfg.gamma_min), np.log10(cfg.gamma_max), cfg.n_gamma)
    betas = np.linspace(0.0, cfg.beta_max, cfg.n_beta)
    return gammas, betas


def eta_squared(x, values, n_bins=10):
    """Correlation ratio η²: share of the variance of ``values`` explained by equal-width bins of x."""
    x, values = np.asarray(x, float).ravel(), np.asarray(values, float).ravel()
    ok = np.isfinite(x) & np.isfinite(values)
    x, values = x[ok], values[ok]
    if values.size < 3 or np.ptp(values) == 0:
        return float("nan")
    edges = np.linspace(x.min(), x.max(), n_bins + 1)
    idx = np.clip(np.digitize(x, edges[1:-1]), 0, n_bins - 1)
    tot = np.sum((values - values.mean()) ** 2)
    within = sum(np.sum((values[idx == b] - values[idx == b].mean()) ** 2) for b in np.unique(idx))
    return float(1.0 - within / tot)


def _implicit(X, y, delta):
    from .implicit import implicit_solution
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
    max_epochs: int = 200_000
    tol: float = 1e-8
    distances: bool = True

    def __post_init__(self):
        from ._checks import check_config
        check_config(self, dict(n="int1", d="int1", s="int1", mu="real", sigma="nonneg", seeds="seeds",
                                alpha="pos", gamma_min="pos", gamma_max="pos", n_gamma="int1", beta_max="beta",
                                n_beta="int1", max_epochs="int1", tol="pos", distances="bool"),
                     ordered=[("s", "d"), ("gamma_min", "gamma_max")])

    @classmethod
    def preset(cls, fidelity="book"):
        """'test' (seconds), 'book' (14 × 14 grid, 2·10⁵ epochs), 'paper' (20 × 20, 10⁶ epochs)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(n=10, d=15, s=3, seeds=(0,), gamma_min=0.05, gamma_max=3.0, n_gamma=4,
                                         n_beta=3, beta_max=0.9, max_epochs=20_000),
                               paper=dict(n_gamma=20, n_beta=20, max_epochs=10 ** 6))


@dataclass(frozen=True)
class Fig4Result:
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
        return self.gammas[:, None] / (1.0 - self.betas[None, :]) ** 2

    @property
    def cell_diverged(self):
        """(G, Bt): some replication diverged."""
        return np.any(self.status == 2, axis=-1)

    @property
    def cell_crossed(self):
        """(G, Bt): some (non-diverged) replication had w± change sign."""
        return np.any(self.crossed & (self.status != 2), axis=-1)

    @property
    def cell_converged(self):
        """(G, Bt): every replication reached train loss < tol."""
        return np.all(self.status == 0, axis=-1)

    def cell_mean(self, name, log=True):
        """Replication mean of log₁₀(field) (or of the field), NaN where a replication diverged."""
        a = getattr(self, name)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log10(a) if log else a
        m = np.mean(v, axis=-1)
        return np.where(self.cell_diverged, np.nan, m)

    def summary(self):
        """Measured claims: Theorem 2 / Corollary 3 residuals, distances, λ-collapse, best λ."""
        conv = self.status == 0
        calm = conv & ~self.crossed
        lt = self.cell_mean("test_loss")
        i, j = np.unravel_index(np.nanargmin(lt), lt.shape)
        out = dict(
            runs=int(self.status.size), converged=int(conv.sum()), diverged=int((self.status == 2).sum()),
            max_steps=int((self.status == 1).sum()), crossed=int((self.crossed & (self.status != 2)).sum()),
            theorem2_worst=float(np.nanmax(np.where(self.status != 2, self.theorem2_error, np.nan))),
            theorem2_worst_converged=float(np.max(self.theorem2_error[conv])) if conv.any() else float("nan"),
            theorem2_worst_finite=float(np.nanmax(np.where(self.status != 2, self.theorem2_error_finite,
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

    def plot(self, marker=None):
        """Three heatmaps (log test loss, ‖Δ∞‖₂, ‖θ‖₁) with λ lines; ``marker=(γ, β)`` adds a star."""
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.9), constrained_layout=True)
        panels = [("test_loss", "log$_{10}$ test loss"), ("delta_norm", r"log$_{10}\,\|\Delta_\infty\|_2$"),
                  ("l1", r"log$_{10}\,\|\theta\|_1$")]
        for ax, (name, title) in zip(axes, panels):
            v = self.cell_mean(name)
            lo, hi = np.nanpercentile(v, [1, 99]) if np.isfinite(v).any() else (None, None)
            heatmap(ax, self, v, title, marker=marker, vmin=lo, vmax=hi)   # robust colour range
        return fig


def _edges(c, log):
    c = np.log10(c) if log else np.asarray(c, float)
    mid = 0.5 * (c[1:] + c[:-1])
    e = np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])
    return 10 ** e if log else e


def heatmap(ax, res, values, title, marker=None, cmap="viridis", vmin=None, vmax=None):
    """One (β, γ) heatmap with λ level lines, hatched diverged cells, dots on sign-change cells."""
    ge, be = _edges(res.gammas, True), _edges(res.betas, False)
    m = np.ma.masked_invalid(values)
    pc = ax.pcolormesh(be, ge, m, cmap=cmap, shading="flat", vmin=vmin, vmax=vmax)
    ax.figure.colorbar(pc, ax=ax, shrink=0.9)
    div = res.cell_diverged
    from matplotlib.patches import Rectangle
    for gi, bj in zip(*np.nonzero(div)):
        ax.add_patch(Rectangle((be[bj], ge[gi]), be[bj + 1] - be[bj], ge[gi + 1] - ge[gi], facecolor="0.8",
                               edgecolor="0.3", hatch="///", lw=0))
    B, G = np.meshgrid(res.betas, res.gammas)
    cr = res.cell_crossed & ~div
    ax.plot(B[cr], G[cr], "o", color="w", ms=3.2, mec="k", mew=0.4, label="w± changed sign")
    nc = ~res.cell_converged & ~div
    if nc.any():
        ax.plot(B[nc], G[nc], "x", color="0.75", ms=2.5, mew=0.6, label="not converged")
    bb = np.linspace(be[0], be[-1], 200)
    gg = np.geomspace(ge[0], ge[-1], 200)
    BB, GG = np.meshgrid(bb, gg)
    L = np.log10(GG / (1 - BB) ** 2)
    lv = np.arange(np.ceil(L.min()), np.floor(L.max()) + 1)
    cs = ax.contour(BB, GG, L, levels=lv, colors="w", linewidths=0.8, linestyles="--")
    ax.clabel(cs, fmt=lambda v: f"λ=1e{int(v)}", fontsize=7)
    if marker is not None:
        ax.plot([marker[1]], [marker[0]], "*", color="#D55E00", ms=13, mec="k")
    ax.set_yscale("log")
    ax.set_xlabel(r"momentum $\beta$")
    ax.set_ylabel(r"step size $\gamma$")
    ax.set_title(title)
    return pc


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
            for idx in zip(*np.nonzero(sw.status == 0)):
                r = idx[2]
                try:
                    ref = _implicit(dss[r].X, dss[r].y, sw.delta_inf[idx])
                    nd[idx] = np.linalg.norm(sw.theta[idx] - ref) / np.linalg.norm(ref)
                except Exception:   # solver failure: leave NaN (reported in the count)
                    pass
        return dict(norm_dist=nd)
    extra = cached_arrays("fig4-dist", dict(cfg=dataclasses.asdict(cfg), version=_VERSION), compute)
    test_loss = np.stack([dss[r].test_loss(sw.theta[:, :, r]) for r in range(len(dss))], axis=-1)
    a2 = cfg.alpha ** 2
    with np.errstate(all="ignore"):
        cor3 = np.all(sw.delta_inf < a2, axis=-1)
        tt0 = np.max(np.abs(0.25 * a2 * (np.exp(-2 * sw.S_plus) - np.exp(-2 * sw.S_minus))), axis=-1)
        cor3 = cor3 & (tt0 < a2)
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
    """Each Figure 4 quantity against λ for every non-diverged (γ, β) cell, coloured by log₁₀ γ."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.6), constrained_layout=True)
    ok = res.cell_converged
    nc = ~res.cell_diverged & ~ok
    lam = res.lam[ok]
    gam = np.log10(np.broadcast_to(res.gammas[:, None], res.lam.shape)[ok])
    eta = lambda_collapse(res)
    for ax, (name, lab) in zip(axes, [("test_loss", "log$_{10}$ test loss"),
                                      ("delta_norm", r"log$_{10}\,\|\Delta_\infty\|_2$"),
                                      ("l1", r"log$_{10}\,\|\theta\|_1$")]):
        ax.scatter(res.lam[nc], res.cell_mean(name)[nc], s=10, marker="x", color="0.7", lw=0.6,
                   label="epoch budget ran out")
        sc = ax.scatter(lam, res.cell_mean(name)[ok], c=gam, s=12, cmap="viridis", label="converged")
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda = \gamma/(1-\beta)^2$")
        ax.set_ylabel(lab)
        ax.set_title(f"η² on log λ: {eta[name + '_lam']:.3f}, on log γ: {eta[name + '_gamma']:.3f}",
                     fontsize=9)
        ax.legend(fontsize=7)
    fig.colorbar(sc, ax=axes[-1], label=r"log$_{10}\gamma$")
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
        from ._checks import check_config
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
            ok &= np.all(self.fig4.status[:, :, ridx] == 0, axis=-1)
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

    def plot(self):
        """Two heatmaps (MGD, MGF(λ)) on one colour scale and a scatter with the correlation."""
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.9), constrained_layout=True)
        both = np.concatenate([self.mgd_cells[np.isfinite(self.mgd_cells)],
                               self.mgf_cells[np.isfinite(self.mgf_cells)]])
        vmin, vmax = float(both.min()), float(both.max())
        heatmap(axes[0], self.fig4, self.mgd_cells, "MGD(γ, β): log$_{10}$ test loss", vmin=vmin, vmax=vmax)
        heatmap(axes[1], self.fig4, self.mgf_cells, "MGF(λ = γ/(1−β)²): log$_{10}$ test loss",
                vmin=vmin, vmax=vmax)
        ok = np.isfinite(self.mgd_cells) & np.isfinite(self.mgf_cells)
        conv = self._cells(True)
        sc = axes[2].scatter(self.mgf_cells[ok & conv], self.mgd_cells[ok & conv],
                             c=np.log10(self.fig4.lam[ok & conv]), s=14, cmap="cividis", label="MGD converged")
        axes[2].scatter(self.mgf_cells[ok & ~conv], self.mgd_cells[ok & ~conv], s=12, marker="x",
                        color="0.6", lw=0.7, label="epoch budget ran out")
        axes[2].legend(fontsize=7, loc="upper left")
        fig.colorbar(sc, ax=axes[2], label=r"log$_{10}\lambda$")
        axes[2].plot([vmin, vmax], [vmin, vmax], "k--", lw=0.8)
        axes[2].set_xlabel("MGF(λ): log$_{10}$ test loss")
        axes[2].set_ylabel("MGD(γ, β): log$_{10}$ test loss")
        axes[2].set_title(f"correlation {self.correlation(False):.3f} (all), "
                          f"{self.correlation(True):.3f} (MGD converged)", fontsize=9)
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
        from .dln import train_mgf
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
    arr = cached_arrays("fig7-mgf", dict(cfg=dataclasses.asdict(cfg), lams=lams, version=_VERSION), compute)
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
        from ._checks import check_config
        check_config(self, dict(lam="pos", ratios="pos+", horizon="pos", n="int1", d="int1", s="int1",
                                seed="int0", alpha="pos"), ordered=[("s", "d")], within={"ratios": 1.0})


def _mgf_log_integrals(X, y, lam, alpha, horizon):
    """MGF(λ) on [0, T] with I± = ∫(ẇ±/w±)² dt carried as extra states (Eq. 12)."""
    from scipy.integrate import solve_ivp
    n, d = X.shape
    H = X.T @ X / n
    bvec = X.T @ y / n

    def f(_t, z):
        wp, wm, vp, vm = z[:d], z[d:2 * d], z[2 * d:3 * d], z[3 * d:4 * d]
        g = H @ (0.25 * (wp * wp - wm * wm)) - bvec
        return np.concatenate([vp, vm, -(vp + g * wp) / lam, -(vm - g * wm) / lam, (vp / wp) ** 2,
                               (vm / wm) ** 2])
    z0 = np.concatenate([np.full(2 * d, alpha), np.zeros(4 * d)])
    sol = solve_ivp(f, (0.0, horizon), z0, method="RK45", rtol=1e-9, atol=1e-13)   # not stiff at λ ≥ 1e-2
    if sol.status != 0:
        raise RuntimeError(f"MGF integration failed: {sol.message}")
    z = sol.y[:, -1]
    w = z[:2 * d]
    if np.any(np.sign(sol.y[:2 * d]) != np.sign(w)[:, None]):
        raise RuntimeError("w± changed sign along MGF: D.2 compares non-crossing runs only")
    return z[4 * d:5 * d], z[5 * d:]


def d2_table(config=None):
    """Rows (ε, γ, β, steps, ‖S‖, ‖λI‖, gap to λI, gap to (1+β)/2·λI), S = S+ + S− over [0, T]."""
    cfg = D2Config() if config is None else config
    ds = sparse_regression(n=cfg.n, d=cfg.d, s=cfg.s, seed=cfg.seed)

    def compute():
        Ip, Im = _mgf_log_integrals(ds.X, ds.y, cfg.lam, cfg.alpha, cfg.horizon)
        rows = []
        for q in cfg.ratios:
            eps = cfg.lam * q
            gamma, beta = eps ** 2 / cfg.lam, 1.0 - q
            K = int(round(cfg.horizon / eps))
            r = train_mgd(ds.X, ds.y, gamma, beta, alpha=cfg.alpha, max_steps=K, tol=1e-300)
            if r.crossed:
                raise RuntimeError(f"MGD(ε={eps}) changed sign: D.2 compares non-crossing runs only")
            S = r.S_plus + r.S_minus
            C = cfg.lam * (Ip + Im)
            rows.append([eps, gamma, beta, K, np.linalg.norm(S), np.linalg.norm(C),
                         np.linalg.norm(S - C) / np.linalg.norm(C),
                         np.linalg.norm(S - 0.5 * (1 + beta) * C) / np.linalg.norm(0.5 * (1 + beta) * C)])
        return dict(rows=np.array(rows))
    return cached_arrays("d2-table", dict(cfg=dataclasses.asdict(cfg), version=_VERSION), compute)["rows"]


# ------------------------------------------------------------------------------ stochastic batches
@dataclass(frozen=True)
class StochasticConfig:
    """SMGD with B ∈ batch_sizes on a small (γ, β) grid (Section 4)."""

    batch_sizes: tuple = (1, 5, 20)
    fig4: Fig4Config = Fig4Config(n_gamma=6, n_beta=6, seeds=(0, 1), gamma_min=3e-3, max_epochs=20_000)
    replace: bool = False

    def __post_init__(self):
        from ._checks import check_config
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
        ok = sw.status != 2
        cell = np.where(np.all(ok, -1), np.mean(np.log10(tl), -1), np.nan)
        dn = np.where(np.all(ok, -1), np.mean(np.log10(np.linalg.norm(sw.delta_inf, axis=-1)), -1), np.nan)
        lam = np.log10(sw.lam)
        gam = np.log10(np.broadcast_to(gammas[:, None], lam.shape))
        out[B] = dict(sweep=sw, log_test=cell, log_delta=dn,
                      converged=int((sw.status == 0).sum()), diverged=int((sw.status == 2).sum()),
                      runs=int(sw.status.size), crossed=int((sw.crossed & ok).sum()),
                      theorem2_worst=float(np.nanmax(np.where(ok, sw.theorem2_error(), np.nan))),
                      eta2_delta_lam=eta_squared(lam, dn, 6), eta2_delta_gamma=eta_squared(gam, dn, 6),
                      median_log_test=float(np.nanmedian(cell)))
    return out


def plot_stochastic(out):
    """log₁₀ test loss and log₁₀‖Δ∞‖ against λ, one colour per batch size."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), constrained_layout=True)
    colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
    for (B, v), c in zip(out.items(), colours):
        lam = v["sweep"].lam
        axes[0].scatter(lam.ravel(), v["log_test"].ravel(), s=12, color=c, label=f"B = {B}", alpha=0.8)
        axes[1].scatter(lam.ravel(), v["log_delta"].ravel(), s=12, color=c, label=f"B = {B}", alpha=0.8)
    for ax, lab in zip(axes, ["log$_{10}$ test loss", r"log$_{10}\,\|\Delta_\infty\|_2$"]):
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda = \gamma/(1-\beta)^2$")
        ax.set_ylabel(lab)
        ax.legend(fontsize=8)
    return fig


# ---------------------------------------------------------------------------------------- widget
@lru_cache(maxsize=256)
def _widget_run(gamma, beta, n, d, s, seed, alpha, max_steps):
    ds = sparse_regression(n=n, d=d, s=s, seed=seed)
    return ds, train_mgd(ds.X, ds.y, gamma, beta, alpha=alpha, max_steps=max_steps, record=80)


def draw_smgd_frame(fig, value, fig4_result, max_steps=200_000, seed=0):
    """One frame at (γ, β): training curve, Δ_k per coordinate, final θ against θ*, Figure 4 marker."""
    gamma, beta = float(value[0]), float(value[1])
    c = fig4_result.config
    ds, r = _widget_run(gamma, beta, c.n, c.d, c.s, int(seed), c.alpha, int(max_steps))
    tr = r.trajectory
    axs = fig.subplots(1, 4, gridspec_kw=dict(width_ratios=[1, 1, 1, 1.25]))
    st = np.maximum(tr.steps, 1)
    axs[0].loglog(st, np.maximum(tr.train_loss, 1e-300), color="#0072B2")
    axs[0].axhline(c.tol, color="0.5", ls=":", lw=0.8)
    axs[0].set_xlabel("step k")
    axs[0].set_title("train loss")
    axs[1].loglog(st, np.maximum(tr.delta, 1e-300), lw=0.6, color="#009E73", alpha=0.7)
    axs[1].axhline(c.alpha ** 2, color="k", ls="--", lw=0.8)
    axs[1].set_xlabel("step k")
    axs[1].set_title(r"$\Delta_k$ per coordinate ($\Delta_0$ dashed)")
    axs[2].stem(np.arange(c.d), r.theta, linefmt="C1-", markerfmt="C1.", basefmt=" ")
    axs[2].plot(np.arange(c.d), ds.theta_star, "k_", ms=8)
    axs[2].set_title(r"final $\theta$ (−: $\theta^\star$)")
    axs[2].set_xlabel("coordinate")
    heatmap(axs[3], fig4_result, fig4_result.cell_mean("test_loss"), "log$_{10}$ test loss",
            marker=(gamma, beta))
    fig.suptitle(f"γ = {gamma:.3g}, β = {beta:.3g}: λ = {gamma / (1 - beta) ** 2:.3g}, "
                 f"ε = {gamma / (1 - beta):.3g}; {r.status} after {r.steps} steps, "
                 f"test loss {ds.test_loss(r.theta):.2e}" + (", w± changed sign" if r.crossed else ""),
                 fontsize=9)
    return r


def smgd_widget(fig4_result, max_steps=200_000):
    """ipywidgets: γ (log slider) and β sliders redrawing :func:`draw_smgd_frame`; λ and ε shown live."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display
    gs, bs = fig4_result.gammas, fig4_result.betas
    g = w.FloatLogSlider(value=0.01, base=10, min=np.log10(gs[0]), max=np.log10(gs[-1]), step=0.05,
                         description="γ", continuous_update=False)
    b = w.FloatSlider(value=0.5, min=0.0, max=float(bs[-1]), step=0.05, description="β",
                      continuous_update=False)
    info = w.HTML()
    out = w.Output()

    def redraw(*_):
        lam_, eps = g.value / (1 - b.value) ** 2, g.value / (1 - b.value)
        info.value = f"λ = γ/(1−β)² = <b>{lam_:.3g}</b>, ε = γ/(1−β) = {eps:.3g}"
        with out:
            out.clear_output(wait=True)
            fig = plt.figure(figsize=(14, 3.4))
            draw_smgd_frame(fig, (g.value, b.value), fig4_result, max_steps=max_steps)
            fig.tight_layout()
            plt.show()
    g.observe(redraw, "value")
    b.observe(redraw, "value")
    redraw()
    box = w.VBox([w.HBox([g, b, info]), out])
    display(box)
    return box


FIGURES = {
    "fig4": dict(fn=fig4, config=Fig4Config,
                 title="MGD(γ, β) on a diagonal network: test loss, ‖Δ∞‖₂, ‖θ‖₁ over (γ, β) follow λ",
                 seconds={"test": 2, "book": 55, "paper": 310}),   # measured on the shared 2-core box
    "fig7": dict(fn=fig7, config=Fig7Config,
                 title="MGD(γ, β) test loss beside MGF(λ = γ/(1−β)²)",
                 seconds={"test": 6, "book": 80, "paper": 600}),
}
