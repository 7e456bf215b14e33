"""Appendix A figures, drawn only: MGF(λ) and MGF(λ') of the central-difference scheme against MGD(γ, β).

The numbers come from :mod:`mdln.experiments.appendix_a` (which see for the mathematics); this module
draws them: :func:`plot_figA` (2×2: quadratic paths and gaps, network test loss and gaps) and the
scrubber frame :func:`draw_quadratic_frame`. ``figA(config)`` returns the experiment's result extended
with ``.plot()``. The scheme (``central_difference_params``, ``central_difference_iterates``, in
:mod:`mdln.momentum`) and the stacked network gradient and Hessian (in :mod:`mdln.dln`) are re-exported.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..dln import stacked_dln_grad, stacked_dln_hess
from ..experiments.appendix_a import FigAConfig, FigAResult, QuadraticPaths, quadratic_paths, run_figA
from ..momentum import central_difference_iterates, central_difference_params

__all__ = ["central_difference_params", "central_difference_iterates", "stacked_dln_grad", "stacked_dln_hess",
           "QuadraticPaths", "quadratic_paths", "draw_quadratic_frame",
           "FigAConfig", "FigAResult", "figA", "plot_figA", "gap_tables", "FIGURES"]

_C = {"mgd": "#000000", "lam": "#0072B2", "lamp": "#E69F00", "start2": "#CC79A7"}  # Okabe–Ito, distinct


def plot_figA(result: FigAResult):
    """2×2 figure: quadratic paths and gaps (top), diagonal-network test loss and gaps (bottom)."""
    import matplotlib.pyplot as plt
    cfg = result.config
    fig, axes = plt.subplots(2, 2, figsize=(9.0, 8.0))
    i = int(np.flatnonzero(result.betas == cfg.shown_beta)[0])
    lp_q, lp_d = result.quad_lam_prime[i], result.dln_lam_prime[i]
    _quadratic_panel(axes[0, 0], cfg, QuadraticPaths(
        beta=float(cfg.shown_beta), gamma=float(result.quad_gamma[i]), eps=float(result.quad_eps[i]),
        lam=float(cfg.quad_lam), lam_prime=float(lp_q), diverged=bool(result.quad_diverged[i]),
        mgd=result.quad_path_mgd, times=np.linspace(0.0, cfg.quad_horizon, len(result.quad_path_lam)),
        flow_lam=result.quad_path_lam, flow_lamp=result.quad_path_lamp))
    _gap_panel(axes[0, 1], result.betas, result.quad_gap_lam, result.quad_gap_lamp, result.quad_gap_lamp2,
               result.quad_diverged, f"quadratic, λ = {cfg.quad_lam:g}",
               r"$\max_k\|w_k - w(k\varepsilon)\| / \|w_0 - w^\star\|$")
    ax = axes[1, 0]
    ax.semilogy(result.dln_times, result.dln_test_path_lam, "-", color=_C["lam"], lw=1.6,
                label=f"MGF(λ={cfg.dln_lam:g})")
    ax.semilogy(result.dln_times, result.dln_test_path_lamp, "--", color=_C["lamp"], lw=1.6,
                label=f"MGF(λ'={lp_d:.3g})")
    if not result.dln_diverged[i]:
        ax.semilogy(result.dln_times, result.dln_test_path_mgd, ":", color=_C["mgd"], lw=2.0,
                    label=f"MGD(γ={result.dln_gamma[i]:.3g}, β={cfg.shown_beta:g})")
    ax.set(xlabel="time $t = k\\varepsilon$", ylabel="test loss of $\\theta = u \\odot v$",
           title=f"diagonal network, β = {cfg.shown_beta:g}")
    ax.legend(fontsize=9)
    _gap_panel(axes[1, 1], result.betas, result.dln_gap_lam, result.dln_gap_lamp, result.dln_gap_lamp2,
               result.dln_diverged, f"diagonal network, λ = {cfg.dln_lam:g}",
               r"$\max_k\|\theta_k - \theta(k\varepsilon)\| / \|\theta^\star\|$")
    fig.tight_layout()
    return fig


def gap_tables(result: FigAResult):
    """The measured gaps of MGD to each flow as one HTML output: two tables (quadratic, network), 2 digits.

    The same numbers as ``result.report()``, laid out as HTML tables so that they fit a laptop's page.
    """
    from IPython.display import HTML

    from ..text import html_table_text
    s = result.summary()
    head = ["β", "ε", "MGF(λ)", "MGF(λ')", "MGF(λ'), 2nd-order start"]
    parts = [f"<p>λ'/λ = (1+β)/2 to 1e-14: {s['max_ratio_error'] < 1e-14}; "
             f"MGD runs diverged: {s['n_diverged']}</p>"]
    for name, pre in (("quadratic", "quad"), ("diagonal network", "dln")):
        lam = result.config.quad_lam if pre == "quad" else result.config.dln_lam
        eps, g1, g2, g3 = (getattr(result, f"{pre}_{k}") for k in ("eps", "gap_lam", "gap_lamp", "gap_lamp2"))
        rows = [[f"{b:.2f}", f"{eps[j]:.2g}", f"{g1[j]:.2g}", f"{g2[j]:.2g}", f"{g3[j]:.2g}"]
                for j, b in enumerate(result.betas)]
        orders = [s[f"{pre}_order_{k}"] for k in ("lam", "lamp", "lamp2")]
        if None not in orders:
            rows.append(["order in ε", ""] + [f"{o:.1f}" for o in orders])
        parts.append(html_table_text(rows, head, before=[
            f"{name}, λ = {lam:g}: largest distance of MGD to each flow (relative)"]))
    parts.append(f"<p>Network test loss at the horizon, largest relative difference to MGD: "
                 f"MGF(λ) {100 * s['dln_test_rel_diff_lam_max']:.1f}%, "
                 f"MGF(λ') {100 * s['dln_test_rel_diff_lamp_max']:.1f}%</p>")
    return HTML("\n".join(parts))


def draw_quadratic_frame(fig, beta, config: FigAConfig | None = None):
    """Scrubber frame: MGD(γ, β) against MGF(λ) and MGF(λ') at one β, λ fixed (Appendix A)."""
    cfg = FigAConfig() if config is None else config
    paths = quadratic_paths(beta, cfg)
    ax = fig.add_subplot(1, 1, 1)
    _quadratic_panel(ax, cfg, paths)
    fig.tight_layout()
    return paths


def _quadratic_panel(ax, cfg, p: QuadraticPaths):
    q = cfg.quadratic()
    lim = 1.15 * np.max(np.abs(np.asarray(cfg.quad_w0)))
    g = np.linspace(-lim, lim, 121)
    G = np.stack(np.meshgrid(g, g), axis=-1)
    ax.contour(g, g, q.value(G), levels=12, colors="lightgray", linewidths=0.7)
    ax.plot(*p.flow_lam.T, "-", color=_C["lam"], lw=2.4, label=f"MGF(λ={p.lam:.3g})")
    ax.plot(*p.flow_lamp.T, "--", color=_C["lamp"], lw=2.0, label=f"MGF(λ'={p.lam_prime:.3g})")
    if p.diverged:
        ax.text(0.5, 0.5, "MGD diverged", transform=ax.transAxes, ha="center", color=_C["mgd"])
    else:
        ax.plot(*p.mgd.T, "o", ms=2.5, color=_C["mgd"], label=f"MGD(γ={p.gamma:.3g}, β={p.beta:g})")
    ax.plot(0, 0, "*", color="k", ms=8)
    ax.set(xlabel="$w_1$", ylabel="$w_2$", aspect="equal", xlim=(-lim, lim), ylim=(-lim, lim),
           title=f"quadratic: β = {p.beta:g}, ε = γ/(1−β) = {p.eps:.3g}")
    ax.title.set_fontsize(11)
    ax.legend(fontsize=9, loc="lower right")


def _gap_panel(ax, betas, gap_lam, gap_lamp, gap_lamp2, diverged, title, ylabel):
    ok = ~diverged
    ax.semilogy(betas[ok], gap_lam[ok], "o-", color=_C["lam"], label="MGF(λ)")
    ax.semilogy(betas[ok], gap_lamp[ok], "s--", color=_C["lamp"], label="MGF(λ')")
    ax.semilogy(betas[ok], gap_lamp2[ok], "^:", color=_C["start2"], label="MGF(λ'), 2nd-order start")
    for b in betas[diverged]:
        ax.axvspan(b - 0.01, b + 0.01, facecolor="none", hatch="xx", edgecolor="0.4")
    if diverged.any():
        ax.plot([], [], "s", color="0.4", mfc="none", label="MGD diverged (hatched)")
    ax.set(xlabel="momentum β (γ = λ(1−β)², λ fixed)", ylabel=ylabel, title=title)
    ax.title.set_fontsize(11)
    ax.legend(fontsize=9)


class FigAFigure(FigAResult):
    """An Appendix A result that draws itself (:func:`plot_figA`)."""

    def plot(self):
        """The Appendix A figure (:func:`plot_figA`)."""
        return plot_figA(self)


def figA(config: FigAConfig | None = None, progress=False) -> FigAFigure:
    """Appendix A: :func:`mdln.experiments.appendix_a.run_figA`, with ``.plot()``."""
    r = run_figA(config, progress=progress)
    return FigAFigure(**{f.name: getattr(r, f.name) for f in dataclasses.fields(r)})


FIGURES = {
    "figA": dict(fn=figA, config=FigAConfig, experiment=run_figA, plot=plot_figA,
                 title="Appendix A: MGF(λ) and MGF(λ') (central difference) against MGD(γ, β) as β varies",
                 seconds={"test": 3, "book": 15, "paper": 30}),
}
