"""Section 2 figures, drawn only: MGD against MGF on a 2D quadratic (Figure 1), the acceleration rule
(Corollary 1), the three optimisation regimes, and the γ/β and ρ sliders.

The numbers come from :mod:`mdln.experiments.sec2`; this module draws them: ``plot_fig1``,
``plot_speedups``, ``plot_regimes`` and the slider views shared by the live widgets and the scrubbers.
``fig1(config)`` and ``regimes(config)`` return the experiment's result extended with ``.plot()``.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..experiments.sec2 import (Fig1Config, Fig1Result, RegimesResult, acceleration_paths, mgd_mgf_paths,
                                quadratic_of, run_fig1, run_regimes)
from ..momentum import acceleration_gap, accelerate, gap_vs_step, lam, mgd_quadratic, step
from ..text import power_of_ten

__all__ = ["Fig1Config", "Fig1Result", "fig1", "plot_fig1", "plot_speedups", "quadratic_of", "gap_vs_step",
           "acceleration_gap", "RegimesResult", "regimes", "plot_regimes", "draw_mgd_mgf_frame",
           "draw_acceleration_frame", "mgd_mgf_widget", "acceleration_widget", "mgd_quadratic", "MgdMgfView",
           "AccelerationView", "mgd_mgf_live", "acceleration_live", "power10_text", "FIGURES",
           "EXPLORER_GAMMAS", "EXPLORER_BETAS", "SLIDER_FIGSIZE", "mgd_mgf_figure", "mgd_mgf_explorer"]

_C = {"gd": "#0072B2", "flow": "#000000", "mgd": "#D55E00", "fast": "#009E73", "approx": "#CC79A7"}


def _with_plot(cls, result):
    """``result`` as an instance of ``cls``, its subclass that adds drawing methods (same fields)."""
    return cls(**{f.name: getattr(result, f.name) for f in dataclasses.fields(result)})


def power10_text(x, digits=2):
    """x as plain text 'm·10ⁿ' with unicode superscripts (for prose numbers glued into Markdown)."""
    x = float(x)
    if not np.isfinite(x) or x == 0:
        return f"{x:g}"
    e = int(np.floor(np.log10(abs(x))))
    m = f"{x / 10 ** e:.{digits}g}"
    if m.lstrip("-") == "10":
        m, e = m.replace("10", "1"), e + 1
    return f"{m}·{power_of_ten(e)}"


def _setting(result):
    """(config, the Figure 1 quadratic, γ̂, β̂ of the acceleration rule (Corollary 1), ρ) for the plots."""
    cfg = result.config
    g_hat, b_hat = result.accelerated()
    return cfg, quadratic_of(cfg), g_hat, b_hat, int(cfg.rho)


def plot_fig1(result):
    """Figure 1 of the paper (three path panels) and the gap against ε, laid out 2×2 for the column."""
    import matplotlib.pyplot as plt
    cfg, q, g_hat, b_hat, rho = _setting(result)
    fig, axes = plt.subplots(2, 2, figsize=(9.0, 8.0))
    axes = axes.ravel()
    for ax in axes[:3]:
        _contours(ax, q, result.mgd_path)
    every = max(1, len(result.gd_path) // 40)
    ax = axes[0]
    ax.plot(*result.gf_path.T, color=_C["flow"], lw=1.5, label="GF")
    ax.plot(*result.gd_path.T, "o", ms=4, markevery=every, color=_C["gd"],
            label=f"GD($\\gamma$={cfg.gamma_gd:g}), every {every}th")
    ax.set_title("(a) GD($\\gamma$) follows GF", fontsize=11)
    every = max(1, len(result.mgd_path) // 40)
    ax = axes[1]
    ax.plot(*result.mgf_path.T, color=_C["flow"], lw=1.5,
            label=f"MGF($\\lambda$={lam(cfg.gamma, cfg.beta):.3g})")
    ax.plot(*result.mgd_path.T, "o", ms=4, markevery=every, color=_C["mgd"],
            label=f"MGD({cfg.gamma:g}, {cfg.beta:g}), every {every}th")
    ax.set_title("(b) MGD($\\gamma,\\beta$) follows MGF($\\lambda$)", fontsize=11)
    ax = axes[2]
    # the three kinds sit on one path: draw them at interleaved positions along it, so each is visible
    m = max(3, len(result.fast_path) // 24)
    ax.plot(*result.mgd_path.T, color=_C["mgd"], lw=0.8, alpha=0.6)
    ax.plot(*result.mgd_path.T, "o", ms=5, markevery=rho * m, color=_C["mgd"],
            label=f"MGD($\\gamma$, {cfg.beta:g}): $w_{{{rho}k}}$")
    ax.plot(*result.fast_path.T, "s", ms=6, mfc="none", mew=1.3, markevery=(m // 3, m), ls="none",
            color=_C["fast"], label=f"MGD({cfg.rho ** 2:g}$\\gamma$, {b_hat:.3g}) exact: $\\hat w_k$")
    ax.plot(*result.approx_path.T, "x", ms=6, mew=1.5, markevery=(2 * m // 3, m), ls="none",
            color=_C["approx"],
            label=f"MGD({cfg.rho ** 2:g}$\\gamma$, $\\beta^{{{rho}}}$={cfg.beta ** cfg.rho:.3g})")
    ax.set_title(f"(c) same path, {rho}$\\times$ fewer steps", fontsize=11)
    for ax, loc in zip(axes[:3], ("upper right", "upper right", "lower left")):
        ax.legend(fontsize=9, loc=loc)
    ax = axes[3]
    ax.loglog(result.gap_eps, result.gap_values, "o-", color=_C["mgd"], label="measured")
    ref = result.gap_values[0] * result.gap_eps / result.gap_eps[0]
    ax.loglog(result.gap_eps, ref, "--", color="gray", label="slope 1")
    ax.set_xlabel("$\\varepsilon = \\gamma/(1-\\beta)$")
    ax.set_ylabel("$\\max_k\\|w_k - w(k\\varepsilon)\\| / \\|w_0-w^\\star\\|$")
    ax.set_title(f"(d) gap at $\\lambda$={cfg.gap_lam:g}: slope {result.gap_slope:.2f}", fontsize=11)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def plot_speedups(result):
    """Loss against iteration: ρ² times the step gives ρ× with momentum, ρ²× for GD (Corollary 1)."""
    import matplotlib.pyplot as plt
    cfg, q, g_hat, b_hat, rho = _setting(result)
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6))
    ax = axes[0]
    n = len(result.fast_path)
    ax.semilogy(np.maximum(q.value(result.mgd_path[:n]), 1e-300), color=_C["mgd"],
                label=f"MGD({cfg.gamma:g}, {cfg.beta:g})")
    ax.semilogy(np.maximum(q.value(result.fast_path), 1e-300), color=_C["fast"],
                label=f"MGD({cfg.rho ** 2 * cfg.gamma:g}, {b_hat:.3g})")
    ax.set_xlabel("iteration $k$")
    ax.set_ylabel("$F(w_k)$")
    ax.set_title(f"momentum: $\\gamma\\to{rho ** 2}\\gamma$ gives {rho}$\\times$", fontsize=11)
    ax.legend(fontsize=9)
    ax = axes[1]
    k = len(result.gd_slow_loss)
    ax.semilogy(np.maximum(result.gd_slow_loss, 1e-300), color=_C["gd"], label=f"GD({cfg.gamma_gd:g})")
    ax.semilogy(np.maximum(result.gd_fast_loss, 1e-300), color=_C["fast"],
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


class Fig1Figure(Fig1Result):
    """A Figure 1 result that draws itself (:func:`plot_fig1`, :func:`plot_speedups`)."""

    def plot(self):
        """Figure 1 (:func:`plot_fig1`)."""
        return plot_fig1(self)

    def plot_speedups(self):
        """Loss against iteration under the acceleration rule (:func:`plot_speedups`)."""
        return plot_speedups(self)


def fig1(config: Fig1Config | None = None, progress=False) -> Fig1Figure:
    """Figure 1 (Section 2): :func:`mdln.experiments.sec2.run_fig1`, with ``.plot()``."""
    return _with_plot(Fig1Figure, run_fig1(config, progress=progress))


# --------------------------------------------------------------------------- regimes
def plot_regimes(result):
    """One panel per regime, plus an example of the γ → 0 regime; 2×2 for the column."""
    import matplotlib.pyplot as plt
    cfg = result.config
    fig, axes = plt.subplots(2, 2, figsize=(9.0, 6.8))
    cols = ["#0072B2", "#E69F00", "#D55E00", "#CC79A7"]
    ax = axes[0, 0]
    for b, L, c in zip(result.betas_large, result.losses_large, cols):
        ax.semilogy(np.maximum(L, 1e-300), color=c, lw=1,
                    label=f"$\\beta$={b:g}, $\\lambda$={lam(cfg.gamma, b):.3g}")
    ax.set_ylim(1e-12, 10)
    ax.set_xlabel("iteration $k$")
    ax.set_ylabel("$F(w_k)$")
    ax.set_title(f"(a) $\\beta\\to1$, $\\gamma$={cfg.gamma:g}: oscillation, slow", fontsize=11)
    ax.legend(fontsize=9)
    ax = axes[0, 1]
    for (name, L), c in zip(result.losses_momentum.items(), cols):
        ax.semilogy(np.maximum(L, 1e-300), color=c, lw=1, label=name)
    ax.set_ylim(1e-12, 10)
    ax.set_xlabel("iteration $k$")
    ax.set_title("(b) momentum regime: $\\lambda$=1, three $\\varepsilon$", fontsize=11)
    ax.legend(fontsize=9)
    ax = axes[1, 0]
    ax.loglog(result.gammas_small, result.gap_gd_equiv, "o-", color=_C["mgd"])
    ax.set_xlabel("$\\gamma$ (with $\\beta$=0.5 fixed)")
    ax.set_ylabel("max gap to GD($\\gamma/(1-\\beta)$)")
    ax.set_title("(c) $\\gamma\\to0$: MGD $\\approx$ GD($\\gamma/(1-\\beta)$)", fontsize=11)
    ax = axes[1, 1]
    g = result.gammas_small[0]
    ax.semilogy(np.maximum(result.example_mgd, 1e-300), color=_C["mgd"], lw=2.5, alpha=0.6,
                label=f"MGD({g:g}, 0.5)")
    ax.semilogy(np.maximum(result.example_gd, 1e-300), "--", color=_C["gd"], label=f"GD({g / 0.5:g})")
    ax.set_xlabel("iteration $k$")
    ax.set_ylabel("$F(w_k)$")
    ax.set_title(f"(d) $\\gamma$={g:g}: the two losses", fontsize=11)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig




class RegimesFigure(RegimesResult):
    """The three regimes, drawing themselves (:func:`plot_regimes`)."""

    def plot(self):
        """One panel per regime (:func:`plot_regimes`)."""
        return plot_regimes(self)


def regimes(config: Fig1Config | None = None) -> RegimesFigure:
    """The three regimes of Section 2: :func:`mdln.experiments.sec2.run_regimes`, with ``.plot()``."""
    return _with_plot(RegimesFigure, run_regimes(config))


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
        self.fig = fig
        ax, ax2 = _slider_axes(fig, self.q)
        # the flow is drawn over the iterates (thin, on top): where the dots are dense (small ε, e.g.
        # β = 0) they would otherwise hide it
        (self.dots,) = ax.plot([], [], "o", ms=3.5, color=_C["mgd"], alpha=0.55, mew=0,
                               label="MGD($\\gamma,\\beta$)")
        (self.flow,) = ax.plot([], [], color=_C["flow"], lw=1.1, zorder=3, label="MGF($\\lambda$)")
        ax.legend(fontsize=10, loc="lower right")
        self.title = _title_text(ax)
        (self.loss_dots,) = ax2.plot([], [], "o", ms=3, color=_C["mgd"], alpha=0.55, mew=0, label="MGD")
        (self.loss_flow,) = ax2.plot([], [], color=_C["flow"], lw=1.1, zorder=3, label="MGF")
        ax2.set_xlim(0, self.cfg.horizon)
        ax2.set_xlabel("time $t = k\\varepsilon$")
        ax2.set_ylabel("$F$")
        ax2.legend(fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 0.93))

    def update(self, params):
        """Draw (γ, β): MGD over MGF, both by their closed forms (:func:`mgd_mgf_paths`); returns (W, Wc)."""
        gamma, beta = params
        t, W, Wc = mgd_mgf_paths(gamma, beta, self.cfg)
        self.flow.set_data(*Wc.T)
        self.dots.set_data(*W.T)
        self.loss_dots.set_data(t, np.maximum(self.q.value(W), 1e-300))
        self.loss_flow.set_data(t, np.maximum(self.q.value(Wc), 1e-300))
        self.title.set_text(f"$\\gamma$={gamma:.3g}, $\\beta$={beta:.3g}: $\\lambda$={lam(gamma, beta):.3g}, "
                            f"$\\varepsilon$={step(gamma, beta):.3g}")
        return W, Wc


class AccelerationView:
    """The ρ slider figure: MGD(γ, β) against MGD(ρ²γ, 1 − ρ(1 − β)) (Corollary 1), updated in place."""

    def __init__(self, fig, config: Fig1Config | None = None):
        self.cfg = cfg = Fig1Config() if config is None else config
        self.q = quadratic_of(cfg)
        self.paths = acceleration_paths(cfg)
        self.n, self.W = self.paths.n, self.paths.path
        ax, ax2 = _slider_axes(fig, self.q)
        ax.plot(*self.W.T, "o", ms=2, color=_C["mgd"], label=f"MGD({cfg.gamma:g}, {cfg.beta:g})")
        (self.fast,) = ax.plot([], [], "s", ms=4, mfc="none", color=_C["fast"],
                               label="MGD($\\hat\\gamma,\\hat\\beta$)")
        ax.legend(fontsize=10, loc="lower right")
        self.title = _title_text(ax)
        ax2.plot(np.maximum(self.q.value(self.W), 1e-300), color=_C["mgd"], label="MGD($\\gamma,\\beta$)")
        (self.fast_loss,) = ax2.plot([], [], color=_C["fast"], label="MGD($\\hat\\gamma,\\hat\\beta$)")
        ax2.set_xlim(0, self.n)
        ax2.set_xlabel("iteration $k$")
        ax2.set_ylabel("$F(w_k)$")
        ax2.legend(fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 0.93))

    def update(self, rho):
        """Draw MGD(ρ²γ, 1 − ρ(1 − β)) for this ρ (:meth:`mdln.experiments.sec2.AccelerationPaths.accelerated`); returns (W, Ŵ)."""
        g_hat, b_hat, W_hat = self.paths.accelerated(rho)
        m = int(np.ceil(self.n / rho))
        self.fast.set_data(*W_hat[:m + 1].T)
        self.fast_loss.set_data(np.arange(self.n + 1), np.maximum(self.q.value(W_hat), 1e-300))
        self.title.set_text(f"$\\rho$={rho:g}: same path ($\\lambda$={lam(g_hat, b_hat):.3g}), "
                            f"step $\\varepsilon\\times${rho:g}")
        return self.W, W_hat


# The kernel-free (γ, β) explorer. Multiplying γ by 4 and 1 − β by 2 keeps λ, so the grid holds runs of
# equal-λ pairs: λ = 1 at (0.01, 0.9), (0.04, 0.8), (0.16, 0.6), (0.64, 0.2); λ = 4 at (0.04, 0.9), ...
EXPLORER_GAMMAS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64)
EXPLORER_BETAS = (0.0, 0.2, 0.6, 0.8, 0.9, 0.95, 0.975)
# the sliders' frames: 700 px at dpi 100 with text >= 10 pt, so it shows >= 7 px tall on a 400 px phone
SLIDER_FIGSIZE = (7.0, 3.2)


def mgd_mgf_figure(gamma, beta, config: Fig1Config | None = None, figsize=SLIDER_FIGSIZE):
    """A new Agg figure (outside pyplot) of MGD(γ, β) over MGF(λ) on the Figure 1 quadratic (Proposition 1)."""
    from .. import widgets
    fig = widgets.agg_figure(figsize, dpi=100)
    MgdMgfView(fig, config).update((gamma, beta))
    return fig


def mgd_mgf_explorer(gammas=EXPLORER_GAMMAS, betas=EXPLORER_BETAS, config: Fig1Config | None = None, dpi=100):
    """The kernel-free (γ, β) explorer of MGD against MGF: :func:`mdln.widgets.scrubber2d` over the grid
    (Proposition 1: equal λ, same path). One figure is updated in place for every frame."""
    from .. import widgets
    fig = widgets.agg_figure(SLIDER_FIGSIZE, dpi=dpi)
    view = MgdMgfView(fig, config)

    def draw(gamma, beta):
        view.update((gamma, beta))
        return fig
    return widgets.scrubber2d(draw, gammas, betas, dpi=dpi,
                              alt="MGD(γ, β) iterates over the MGF(λ) path, and their losses")


def draw_mgd_mgf_frame(fig, params, config: Fig1Config | None = None):
    """Draw MGD(γ, β) iterates over the MGF(λ) path on the Figure 1 quadratic; params = (γ, β)."""
    return MgdMgfView(fig, config).update(params)


def draw_acceleration_frame(fig, rho, config: Fig1Config | None = None):
    """Draw MGD(γ, β) against MGD(ρ²γ, 1 − ρ(1 − β)) (Corollary 1) and their losses."""
    return AccelerationView(fig, config).update(rho)


def mgd_mgf_live(config: Fig1Config | None = None, figsize=SLIDER_FIGSIZE, dpi=100):
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


def acceleration_live(config: Fig1Config | None = None, figsize=SLIDER_FIGSIZE, dpi=100):
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
    "fig1": dict(fn=fig1, config=Fig1Config, experiment=run_fig1, plot=plot_fig1,
                 title="MGD vs MGF and GD vs GF on a 2D quadratic, the acceleration rule, gap vs step",
                 seconds={"test": 2, "book": 6, "paper": 6}),
}
