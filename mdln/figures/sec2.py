"""Section 2 figures: MGD against MGF on a 2D quadratic (Figure 1), discretisation gaps,
the acceleration rule (Corollary 1) and the three optimisation regimes."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .._checks import fidelity_preset
from ..cache import cached_arrays
from ..data import figure1_quadratic
from ..momentum import (Quadratic, accelerate, acceleration_gap, gap_vs_step, gd, lam, mgd, mgd_quadratic, mgf,
                        mgf_lipschitz, mgf_quadratic, relative_gap, step)

__all__ = ["Fig1Config", "Fig1Result", "fig1", "quadratic_of", "gap_vs_step", "acceleration_gap",
           "RegimesResult", "regimes", "draw_mgd_mgf_frame", "draw_acceleration_frame",
           "mgd_mgf_widget", "acceleration_widget", "mgd_quadratic", "MgdMgfView", "AccelerationView",
           "mgd_mgf_live", "acceleration_live", "power10_text", "FIGURES"]

_C = {"gd": "#0072B2", "flow": "#000000", "mgd": "#D55E00", "fast": "#009E73", "approx": "#CC79A7"}


@dataclass(frozen=True)
class Fig1Config:
    """Figure 1 on F(w) = ½ wᵀHw, H with the given eigenvalues rotated by ``angle`` (Section 2)."""

    eigenvalues: tuple = (1.0, 0.1)
    angle: float = float(np.pi / 6)
    w0: tuple = (-1.5, 1.0)
    gamma_gd: float = 0.1          # left panel: GD(γ) against GF
    gamma: float = 0.01            # middle/right panels: MGD(γ, β)
    beta: float = 0.9
    rho: float = 2.0               # right panel: MGD(ρ²γ, 1 − ρ(1 − β))
    horizon: float = 40.0          # continuous time shown
    gap_lam: float = 1.0           # gap against ε at this fixed λ ...
    gap_eps: tuple = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)   # ... over two decades of ε
    gap_horizon: float = 20.0
    check_rhos: tuple = (2.0, 4.0)

    def __post_init__(self):
        from .._checks import check_config
        check_config(self, dict(eigenvalues="pos2", angle="real", w0="real2", gamma_gd="pos", gamma="pos",
                                beta="beta", rho="pos", horizon="pos", gap_lam="pos", gap_eps="pos+",
                                gap_horizon="pos", check_rhos="pos+"))
        for r in (self.rho, *self.check_rhos):
            accelerate(self.gamma, self.beta, r)   # ρ ≤ 1/(1 − β), so that β̂ = 1 − ρ(1 − β) ≥ 0

    @classmethod
    def preset(cls, fidelity="book"):
        """Fidelity presets: 'test' (seconds), 'book', 'paper' (same as book: Figure 1 is cheap)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(horizon=10.0, gap_eps=(0.02, 0.05, 0.1, 0.2), gap_horizon=5.0),
                               paper=dict())


def power10_text(x, digits=2):
    """x as plain text 'm·10ⁿ' with unicode superscripts (for prose numbers glued into Markdown)."""
    x = float(x)
    if not np.isfinite(x) or x == 0:
        return f"{x:g}"
    e = int(np.floor(np.log10(abs(x))))
    m = f"{x / 10 ** e:.{digits}g}"
    if m.lstrip("-") == "10":
        m, e = m.replace("10", "1"), e + 1
    sup = str(e).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{m}·10{sup}"


def quadratic_of(config: Fig1Config) -> Quadratic:
    """The 2D quadratic of Figure 1 for this config (:func:`mdln.data.figure1_quadratic`), minimiser w* = 0."""
    return figure1_quadratic(config.eigenvalues, config.angle)


@dataclass(frozen=True)
class Fig1Result:
    """Trajectories and measured gaps of Figure 1."""

    config: Fig1Config
    gd_path: np.ndarray
    gf_path: np.ndarray
    mgd_path: np.ndarray
    mgf_path: np.ndarray
    fast_path: np.ndarray          # MGD(ρ²γ, 1 − ρ(1 − β)), exact rule
    approx_path: np.ndarray        # MGD(ρ²γ, β^ρ), the paper's approximation
    gd_slow_loss: np.ndarray       # GD(γ_gd) losses
    gd_fast_loss: np.ndarray       # GD(ρ²γ_gd) losses
    gap_eps: np.ndarray
    gap_values: np.ndarray
    gap_slope: float
    gap_bound: np.ndarray          # Grönwall-type exp(L T) ε bound
    gaps: dict = field(default_factory=dict)

    def summary(self):
        """Measured claims: discretisation gaps, log-log slope, acceleration gaps."""
        out = dict(self.gaps)
        out["gap_loglog_slope"] = self.gap_slope
        out["gap_lam"] = self.config.gap_lam
        return out

    def arrays(self):
        """Raw numbers."""
        return {k: v for k, v in asdict(self).items() if isinstance(v, np.ndarray)}

    def _setting(self):
        """(config, the Figure 1 quadratic, γ̂, β̂ of the acceleration rule (Corollary 1), ρ) for the plots."""
        cfg = self.config
        g_hat, b_hat = accelerate(cfg.gamma, cfg.beta, cfg.rho)
        return cfg, quadratic_of(cfg), g_hat, b_hat, int(cfg.rho)

    def plot(self):
        """Figure 1 of the paper (three path panels) and the gap against ε, laid out 2×2 for the column."""
        import matplotlib.pyplot as plt
        cfg, q, g_hat, b_hat, rho = self._setting()
        fig, axes = plt.subplots(2, 2, figsize=(9.0, 8.0))
        axes = axes.ravel()
        for ax in axes[:3]:
            _contours(ax, q, self.mgd_path)
        every = max(1, len(self.gd_path) // 40)
        ax = axes[0]
        ax.plot(*self.gf_path.T, color=_C["flow"], lw=1.5, label="GF")
        ax.plot(*self.gd_path.T, "o", ms=4, markevery=every, color=_C["gd"],
                label=f"GD($\\gamma$={cfg.gamma_gd:g}), every {every}th")
        ax.set_title("(a) GD($\\gamma$) follows GF", fontsize=11)
        every = max(1, len(self.mgd_path) // 40)
        ax = axes[1]
        ax.plot(*self.mgf_path.T, color=_C["flow"], lw=1.5,
                label=f"MGF($\\lambda$={lam(cfg.gamma, cfg.beta):.3g})")
        ax.plot(*self.mgd_path.T, "o", ms=4, markevery=every, color=_C["mgd"],
                label=f"MGD({cfg.gamma:g}, {cfg.beta:g}), every {every}th")
        ax.set_title("(b) MGD($\\gamma,\\beta$) follows MGF($\\lambda$)", fontsize=11)
        ax = axes[2]
        # the three kinds sit on one path: draw them at interleaved positions along it, so each is visible
        m = max(3, len(self.fast_path) // 24)
        ax.plot(*self.mgd_path.T, color=_C["mgd"], lw=0.8, alpha=0.6)
        ax.plot(*self.mgd_path.T, "o", ms=5, markevery=rho * m, color=_C["mgd"],
                label=f"MGD($\\gamma$, {cfg.beta:g}): $w_{{{rho}k}}$")
        ax.plot(*self.fast_path.T, "s", ms=6, mfc="none", mew=1.3, markevery=(m // 3, m), ls="none",
                color=_C["fast"], label=f"MGD({cfg.rho ** 2:g}$\\gamma$, {b_hat:.3g}) exact: $\\hat w_k$")
        ax.plot(*self.approx_path.T, "x", ms=6, mew=1.5, markevery=(2 * m // 3, m), ls="none",
                color=_C["approx"],
                label=f"MGD({cfg.rho ** 2:g}$\\gamma$, $\\beta^{{{rho}}}$={cfg.beta ** cfg.rho:.3g})")
        ax.set_title(f"(c) same path, {rho}$\\times$ fewer steps", fontsize=11)
        for ax, loc in zip(axes[:3], ("upper right", "upper right", "lower left")):
            ax.legend(fontsize=9, loc=loc)
        ax = axes[3]
        ax.loglog(self.gap_eps, self.gap_values, "o-", color=_C["mgd"], label="measured")
        ref = self.gap_values[0] * self.gap_eps / self.gap_eps[0]
        ax.loglog(self.gap_eps, ref, "--", color="gray", label="slope 1")
        ax.set_xlabel("$\\varepsilon = \\gamma/(1-\\beta)$")
        ax.set_ylabel("$\\max_k\\|w_k - w(k\\varepsilon)\\| / \\|w_0-w^\\star\\|$")
        ax.set_title(f"(d) gap at $\\lambda$={cfg.gap_lam:g}: slope {self.gap_slope:.2f}", fontsize=11)
        ax.legend(fontsize=9)
        fig.tight_layout()
        return fig

    def plot_speedups(self):
        """Loss against iteration: ρ² times the step gives ρ× with momentum, ρ²× for GD (Corollary 1)."""
        import matplotlib.pyplot as plt
        cfg, q, g_hat, b_hat, rho = self._setting()
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6))
        ax = axes[0]
        n = len(self.fast_path)
        ax.semilogy(np.maximum(q.value(self.mgd_path[:n]), 1e-300), color=_C["mgd"],
                    label=f"MGD({cfg.gamma:g}, {cfg.beta:g})")
        ax.semilogy(np.maximum(q.value(self.fast_path), 1e-300), color=_C["fast"],
                    label=f"MGD({cfg.rho ** 2 * cfg.gamma:g}, {b_hat:.3g})")
        ax.set_xlabel("iteration $k$")
        ax.set_ylabel("$F(w_k)$")
        ax.set_title(f"momentum: $\\gamma\\to{rho ** 2}\\gamma$ gives {rho}$\\times$", fontsize=11)
        ax.legend(fontsize=9)
        ax = axes[1]
        k = len(self.gd_slow_loss)
        ax.semilogy(np.maximum(self.gd_slow_loss, 1e-300), color=_C["gd"], label=f"GD({cfg.gamma_gd:g})")
        ax.semilogy(np.maximum(self.gd_fast_loss, 1e-300), color=_C["fast"],
                    label=f"GD({cfg.rho ** 2 * cfg.gamma_gd:g})")
        ax.set_ylim(1e-14, 10)
        ax.set_xlim(0, k)
        ax.set_xlabel("iteration $k$")
        ax.set_title(f"GD: $\\gamma\\to{rho ** 2}\\gamma$ gives {rho ** 2}$\\times$", fontsize=11)
        ax.legend(fontsize=9)
        fig.tight_layout()
        return fig


def _contours(ax, q, path):
    lo = np.min(path, axis=0) - 0.3
    hi = np.max(path, axis=0) + 0.3
    xs, ys = np.meshgrid(np.linspace(lo[0], hi[0], 120), np.linspace(lo[1], hi[1], 120))
    Z = q.value(np.stack([xs, ys], axis=-1))
    ax.contour(xs, ys, Z, levels=12, colors="lightgray", linewidths=0.7)
    ax.plot(*q.w_star, "*", color="k", ms=8)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")


def _fig1_compute(cfg: Fig1Config):
    q = quadratic_of(cfg)
    w0 = np.array(cfg.w0, dtype=float)
    n_gd = int(round(cfg.horizon / cfg.gamma_gd))
    gd_path = gd(q.grad, w0, cfg.gamma_gd, n_gd)
    gf_path = mgf(q.grad, w0, 0.0, cfg.gamma_gd * np.arange(n_gd + 1), jac=q.hess)
    eps = step(cfg.gamma, cfg.beta)
    n = int(round(cfg.horizon / eps))
    mgd_path = mgd(q.grad, w0, cfg.gamma, cfg.beta, n)
    mgf_path = mgf(q.grad, w0, lam(cfg.gamma, cfg.beta), eps * np.arange(n + 1), jac=q.hess)
    g_hat, b_hat = accelerate(cfg.gamma, cfg.beta, cfg.rho)
    n_hat = int(round(cfg.horizon / step(g_hat, b_hat)))
    fast_path = mgd(q.grad, w0, g_hat, b_hat, n_hat)
    approx_path = mgd(q.grad, w0, g_hat, cfg.beta ** cfg.rho, n_hat)
    n_loss = int(round(cfg.horizon / cfg.gamma_gd))
    gd_slow_loss = q.value(gd(q.grad, w0, cfg.gamma_gd, n_loss))
    gd_fast_loss = q.value(gd(q.grad, w0, cfg.rho ** 2 * cfg.gamma_gd, n_loss))
    gap_eps = np.array(cfg.gap_eps, dtype=float)
    gap_values = gap_vs_step(q.grad, w0, cfg.gap_lam, gap_eps, cfg.gap_horizon, q.w_star, jac=q.hess)
    out = dict(gd_path=gd_path, gf_path=gf_path, mgd_path=mgd_path, mgf_path=mgf_path,
               fast_path=fast_path, approx_path=approx_path, gd_slow_loss=gd_slow_loss,
               gd_fast_loss=gd_fast_loss, gap_eps=gap_eps, gap_values=gap_values)
    out["gap_gd_gf"] = np.array(relative_gap(gd_path, gf_path, w0, q.w_star))
    out["gap_mgd_mgf"] = np.array(relative_gap(mgd_path, mgf_path, w0, q.w_star))
    out["accel_rhos"] = np.array(cfg.check_rhos, dtype=float)
    out["accel_gaps"] = np.array([acceleration_gap(q.grad, w0, cfg.gamma, cfg.beta, r, cfg.horizon)
                                  for r in cfg.check_rhos])
    return out


def fig1(config: Fig1Config | None = None, progress=False) -> Fig1Result:
    """Figure 1 (Section 2): (M)GD against (M)GF and the acceleration rule on a 2D quadratic."""
    cfg = Fig1Config() if config is None else config
    a = cached_arrays("fig1", asdict(cfg), lambda: _fig1_compute(cfg))
    slope = float(np.polyfit(np.log(a["gap_eps"]), np.log(a["gap_values"]), 1)[0])
    # Grönwall-type bound exp(L_f T) ε on the Proposition 1 gap
    L_f = mgf_lipschitz(quadratic_of(cfg).H, cfg.gap_lam)
    bound = np.exp(L_f * cfg.gap_horizon) * a["gap_eps"]
    gaps = {"gap_gd_gf": float(a["gap_gd_gf"]), "gap_mgd_mgf": float(a["gap_mgd_mgf"]),
            "lipschitz_L_f": float(L_f), "bound_factor_exp_LT": float(np.exp(L_f * cfg.gap_horizon))}
    for r, g in zip(a["accel_rhos"], a["accel_gaps"]):
        gaps[f"accel_gap_rho{int(r)}"] = float(g)
    keys = ("gd_path", "gf_path", "mgd_path", "mgf_path", "fast_path", "approx_path", "gd_slow_loss",
            "gd_fast_loss", "gap_eps", "gap_values")
    return Fig1Result(config=cfg, **{k: a[k] for k in keys}, gap_slope=slope, gap_bound=bound, gaps=gaps)


# --------------------------------------------------------------------------- regimes
@dataclass(frozen=True)
class RegimesResult:
    """The three optimisation regimes of Section 2 on the Figure 1 quadratic."""

    config: Fig1Config
    betas_large: tuple
    losses_large: list              # MGD(γ, β) losses for β → 1 (γ fixed)
    gammas_small: tuple
    gap_gd_equiv: np.ndarray        # ‖MGD(γ, β) − GD(γ/(1−β))‖ max relative gap, per γ
    losses_momentum: dict
    example_mgd: np.ndarray = None  # losses of MGD(γ, 0.5) and GD(2γ) at the largest γ
    example_gd: np.ndarray = None

    def summary(self):
        """Gaps between MGD(γ, β) and GD(γ/(1−β)) as γ → 0."""
        return {f"gd_equiv_gap_gamma{g:g}": float(v) for g, v in zip(self.gammas_small, self.gap_gd_equiv)}

    def plot(self):
        """One panel per regime, plus an example of the γ → 0 regime; 2×2 for the column."""
        import matplotlib.pyplot as plt
        cfg = self.config
        fig, axes = plt.subplots(2, 2, figsize=(9.0, 6.8))
        cols = ["#0072B2", "#E69F00", "#D55E00", "#CC79A7"]
        ax = axes[0, 0]
        for b, L, c in zip(self.betas_large, self.losses_large, cols):
            ax.semilogy(np.maximum(L, 1e-300), color=c, lw=1,
                        label=f"$\\beta$={b:g}, $\\lambda$={lam(cfg.gamma, b):.3g}")
        ax.set_ylim(1e-12, 10)
        ax.set_xlabel("iteration $k$")
        ax.set_ylabel("$F(w_k)$")
        ax.set_title(f"(a) $\\beta\\to1$, $\\gamma$={cfg.gamma:g}: oscillation, slow", fontsize=11)
        ax.legend(fontsize=9)
        ax = axes[0, 1]
        for (name, L), c in zip(self.losses_momentum.items(), cols):
            ax.semilogy(np.maximum(L, 1e-300), color=c, lw=1, label=name)
        ax.set_ylim(1e-12, 10)
        ax.set_xlabel("iteration $k$")
        ax.set_title("(b) momentum regime: $\\lambda$=1, three $\\varepsilon$", fontsize=11)
        ax.legend(fontsize=9)
        ax = axes[1, 0]
        ax.loglog(self.gammas_small, self.gap_gd_equiv, "o-", color=_C["mgd"])
        ax.set_xlabel("$\\gamma$ (with $\\beta$=0.5 fixed)")
        ax.set_ylabel("max gap to GD($\\gamma/(1-\\beta)$)")
        ax.set_title("(c) $\\gamma\\to0$: MGD $\\approx$ GD($\\gamma/(1-\\beta)$)", fontsize=11)
        ax = axes[1, 1]
        g = self.gammas_small[0]
        ax.semilogy(np.maximum(self.example_mgd, 1e-300), color=_C["mgd"], lw=2.5, alpha=0.6,
                    label=f"MGD({g:g}, 0.5)")
        ax.semilogy(np.maximum(self.example_gd, 1e-300), "--", color=_C["gd"], label=f"GD({g / 0.5:g})")
        ax.set_xlabel("iteration $k$")
        ax.set_ylabel("$F(w_k)$")
        ax.set_title(f"(d) $\\gamma$={g:g}: the two losses", fontsize=11)
        ax.legend(fontsize=9)
        fig.tight_layout()
        return fig


def regimes(config: Fig1Config | None = None) -> RegimesResult:
    """Compute the three regimes of Section 2 (β → 1; γ → 0; the momentum regime)."""
    cfg = Fig1Config() if config is None else config
    q = quadratic_of(cfg)
    w0 = np.array(cfg.w0, dtype=float)
    n = 3000
    betas = (0.9, 0.97, 0.99, 0.995)
    losses_large = [q.value(mgd(q.grad, w0, cfg.gamma, b, n)) for b in betas]
    beta = 0.5
    gammas = (0.1, 0.03, 0.01, 0.003)
    gaps = []
    for g in gammas:
        m = int(round(20.0 / step(g, beta)))
        W = mgd(q.grad, w0, g, beta, m)
        G = gd(q.grad, w0, step(g, beta), m)   # GD at the effective step ε = γ/(1−β)
        gaps.append(np.max(np.linalg.norm(W - G, axis=1)) / np.linalg.norm(w0))
    momentum = {}
    for g, b in [(0.01, 0.9), (0.04, 0.8), (0.16, 0.6)]:
        momentum[f"MGD({g:g}, {b:g}), $\\varepsilon$={step(g, b):.2g}"] = q.value(mgd(q.grad, w0, g, b, 400))
    m = int(round(20.0 / step(gammas[0], beta)))
    example_mgd = q.value(mgd(q.grad, w0, gammas[0], beta, m))
    example_gd = q.value(gd(q.grad, w0, step(gammas[0], beta), m))
    return RegimesResult(config=cfg, betas_large=betas, losses_large=losses_large, gammas_small=gammas,
                         gap_gd_equiv=np.array(gaps), losses_momentum=momentum, example_mgd=example_mgd,
                         example_gd=example_gd)


# --------------------------------------------------------------------------- sliders
_BOX = ((-1.8, 0.8), (-0.7, 1.6))     # holds every slider path from w0 = (-1.5, 1) (γ ≤ 1, β ≤ 0.98)


def _slider_axes(fig, q):
    """Two panels side by side: the path over fixed contours (left) and the loss (right)."""
    ax = fig.add_subplot(1, 2, 1)
    (x0, x1), (y0, y1) = _BOX
    xs, ys = np.meshgrid(np.linspace(x0, x1, 100), np.linspace(y0, y1, 100))
    ax.contour(xs, ys, q.value(np.stack([xs, ys], axis=-1)), levels=12, colors="lightgray", linewidths=0.7)
    ax.plot(*q.w_star, "*", color="k", ms=8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.set_yscale("log")
    ax2.set_ylim(1e-12, 10)
    return ax, ax2


def _title_text(ax):
    """A title as plain axes text: it stays put when blitted (a real title is re-placed at each draw)."""
    return ax.text(0.5, 1.03, "", transform=ax.transAxes, ha="center", va="bottom", fontsize=10)


class MgdMgfView:
    """The γ/β slider figure: MGD(γ, β) iterates over the MGF(λ) path (Proposition 1), updated in place."""

    def __init__(self, fig, config: Fig1Config | None = None):
        self.cfg = Fig1Config() if config is None else config
        self.q = quadratic_of(self.cfg)
        self.w0 = np.array(self.cfg.w0, dtype=float)
        self.fig = fig
        ax, ax2 = _slider_axes(fig, self.q)
        (self.flow,) = ax.plot([], [], color=_C["flow"], lw=1.5, label="MGF($\\lambda$)")
        (self.dots,) = ax.plot([], [], "o", ms=2.5, color=_C["mgd"], label="MGD($\\gamma,\\beta$)")
        ax.legend(fontsize=9, loc="lower right")
        self.title = _title_text(ax)
        (self.loss_dots,) = ax2.plot([], [], "o", ms=2, color=_C["mgd"], label="MGD")
        (self.loss_flow,) = ax2.plot([], [], color=_C["flow"], label="MGF")
        ax2.set_xlim(0, self.cfg.horizon)
        ax2.set_xlabel("time $t = k\\varepsilon$")
        ax2.set_ylabel("$F$")
        ax2.legend(fontsize=9)
        fig.tight_layout(rect=(0, 0, 1, 0.93))

    def update(self, params):
        """Recompute for (γ, β) with the closed-form MGF and the vectorised MGD; returns (W, Wc)."""
        gamma, beta = params
        eps, lam_ = step(gamma, beta), lam(gamma, beta)
        n = max(2, min(int(round(self.cfg.horizon / eps)), 4000))
        t = eps * np.arange(n + 1)
        W = mgd_quadratic(self.q, self.w0, gamma, beta, n)
        Wc = mgf_quadratic(self.q, self.w0, lam_, t)
        self.flow.set_data(*Wc.T)
        self.dots.set_data(*W.T)
        self.loss_dots.set_data(t, np.maximum(self.q.value(W), 1e-300))
        self.loss_flow.set_data(t, np.maximum(self.q.value(Wc), 1e-300))
        self.title.set_text(f"$\\gamma$={gamma:.3g}, $\\beta$={beta:.3g}: $\\lambda$={lam_:.3g}, "
                            f"$\\varepsilon$={eps:.3g}")
        return W, Wc


class AccelerationView:
    """The ρ slider figure: MGD(γ, β) against MGD(ρ²γ, 1 − ρ(1 − β)) (Corollary 1), updated in place."""

    def __init__(self, fig, config: Fig1Config | None = None):
        self.cfg = cfg = Fig1Config() if config is None else config
        self.q = quadratic_of(cfg)
        self.w0 = np.array(cfg.w0, dtype=float)
        self.n = int(round(cfg.horizon / step(cfg.gamma, cfg.beta)))
        self.W = mgd_quadratic(self.q, self.w0, cfg.gamma, cfg.beta, self.n)
        ax, ax2 = _slider_axes(fig, self.q)
        ax.plot(*self.W.T, "o", ms=2, color=_C["mgd"], label=f"MGD({cfg.gamma:g}, {cfg.beta:g})")
        (self.fast,) = ax.plot([], [], "s", ms=4, mfc="none", color=_C["fast"],
                               label="MGD($\\hat\\gamma,\\hat\\beta$)")
        ax.legend(fontsize=9, loc="lower right")
        self.title = _title_text(ax)
        ax2.plot(np.maximum(self.q.value(self.W), 1e-300), color=_C["mgd"], label="MGD($\\gamma,\\beta$)")
        (self.fast_loss,) = ax2.plot([], [], color=_C["fast"], label="MGD($\\hat\\gamma,\\hat\\beta$)")
        ax2.set_xlim(0, self.n)
        ax2.set_xlabel("iteration $k$")
        ax2.set_ylabel("$F(w_k)$")
        ax2.legend(fontsize=9)
        fig.tight_layout(rect=(0, 0, 1, 0.93))

    def update(self, rho):
        """Recompute MGD(ρ²γ, 1 − ρ(1 − β)) for this ρ; returns (W, Ŵ)."""
        cfg = self.cfg
        g_hat, b_hat = accelerate(cfg.gamma, cfg.beta, rho)
        W_hat = mgd_quadratic(self.q, self.w0, g_hat, b_hat, self.n)
        m = int(np.ceil(self.n / rho))
        self.fast.set_data(*W_hat[:m + 1].T)
        self.fast_loss.set_data(np.arange(self.n + 1), np.maximum(self.q.value(W_hat), 1e-300))
        self.title.set_text(f"$\\rho$={rho:g}: same path ($\\lambda$={lam(g_hat, b_hat):.3g}), "
                            f"step $\\varepsilon\\times${rho:g}")
        return self.W, W_hat


def draw_mgd_mgf_frame(fig, params, config: Fig1Config | None = None):
    """Draw MGD(γ, β) iterates over the MGF(λ) path on the Figure 1 quadratic; params = (γ, β)."""
    return MgdMgfView(fig, config).update(params)


def draw_acceleration_frame(fig, rho, config: Fig1Config | None = None):
    """Draw MGD(γ, β) against MGD(ρ²γ, 1 − ρ(1 − β)) (Corollary 1) and their losses."""
    return AccelerationView(fig, config).update(rho)


def mgd_mgf_live(config: Fig1Config | None = None, figsize=(9.0, 3.4), dpi=100):
    """The γ/β widget's figure and frame: ``draw(gamma, beta)`` updates it and returns its PNG."""
    from .. import widgets
    fig = widgets.agg_figure(figsize, dpi)
    view = MgdMgfView(fig, config)
    png = widgets.BlitPNG(fig, [view.flow, view.dots, view.loss_dots, view.loss_flow, view.title])

    def draw(gamma, beta):
        view.update((gamma, beta))
        return png()
    return fig, draw


def acceleration_text(rho, config: Fig1Config | None = None):
    """The ρ widget's readout: γ̂ = ρ²γ, β̂ = 1 − ρ(1 − β), the unchanged λ and ε̂ (Corollary 1)."""
    cfg = Fig1Config() if config is None else config
    g_hat, b_hat = accelerate(cfg.gamma, cfg.beta, rho)
    return (f"γ̂ = ρ²γ = {g_hat:.4g}, β̂ = 1−ρ(1−β) = {b_hat:.4g}; "
            f"<b>λ = {lam(g_hat, b_hat):.4g}</b> (unchanged), ε̂ = {step(g_hat, b_hat):.4g}")


def acceleration_live(config: Fig1Config | None = None, figsize=(9.0, 3.4), dpi=100):
    """The ρ widget's figure and frame: ``draw(rho)`` updates it and returns its PNG."""
    from .. import widgets
    fig = widgets.agg_figure(figsize, dpi)
    view = AccelerationView(fig, config)
    png = widgets.BlitPNG(fig, [view.fast, view.fast_loss, view.title])

    def draw(rho):
        view.update(rho)
        return png()
    return fig, draw


def mgd_mgf_widget(config: Fig1Config | None = None):
    """ipywidgets: γ (log) and β sliders, λ and ε shown live, MGD over MGF redrawn (Proposition 1)."""
    from .. import widgets
    cfg = Fig1Config() if config is None else config
    return widgets.slider(mgd_mgf_live(cfg)[1], gamma=widgets.log(1e-3, 1.0, 0.05, cfg.gamma),
                          beta=widgets.linear(0.0, 0.98, 0.01, cfg.beta))


def acceleration_widget(config: Fig1Config | None = None):
    """ipywidgets: a ρ slider for the acceleration rule (Corollary 1), λ and ε̂ shown live."""
    from .. import widgets
    cfg = Fig1Config() if config is None else config
    rho_max = min(1.0 / (1.0 - cfg.beta), 8.0)
    return widgets.slider(acceleration_live(cfg)[1], readout=lambda rho: acceleration_text(rho, cfg),
                          rho=widgets.linear(1.0, rho_max, 0.5, 2.0))


FIGURES = {
    "fig1": dict(fn=fig1, config=Fig1Config,
                 title="MGD vs MGF and GD vs GF on a 2D quadratic, the acceleration rule, gap vs step",
                 seconds={"test": 2, "book": 6, "paper": 6}),
}
