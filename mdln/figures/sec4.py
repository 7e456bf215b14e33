"""Section 4 figures, drawn from :mod:`mdln.experiments.sec4` results (Figures 4 and 7, Appendix D.2).

* Figure 4 (:func:`plot_fig4`): the (γ, β) heatmaps of log₁₀ test loss, ‖Δ∞‖₂ and ‖θ‖₁ after MGD, with
  λ = γ/(1−β)² level lines, diverged cells hatched, sign-change cells marked, and the runs at the cap;
* the λ-collapse (:func:`plot_collapse`), Figure 7 (:func:`plot_fig7`), the stochastic batches
  (:func:`plot_stochastic`);
* the (γ, β) explorer: :class:`SMGDFrame`, drawn by ``smgd_widget`` (live) and ``draw_smgd_frame``
  (kernel-free scrubber frames).

``fig4(config)``/``fig7(config)`` run the experiment and return its result with a ``.plot()``; every
computation lives in the core (:mod:`mdln.experiments.sec4`), so editing a plot here keeps the cache.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..experiments.sec4 import (WIDGET_STEPS, D2Config, D2Result, Fig4Config, Fig4Result, Fig7Config,
                                Fig7Result, StochasticConfig, StochasticResult, eta_squared, lambda_collapse,
                                run_d2, run_fig4, run_fig7, run_stochastic, widget_run)
from ..momentum import lam as lam_of, step
from ..status import Status
from .plotting import CAPPED_FACE, result_heatmap as heatmap

__all__ = ["Fig4Config", "Fig4Result", "fig4", "Fig7Config", "Fig7Result", "fig7", "lambda_collapse",
           "eta_squared", "D2Config", "D2Result", "d2_table", "StochasticConfig", "StochasticResult",
           "stochastic_batches", "draw_smgd_frame", "smgd_widget", "SMGDFrame", "WIDGET_STEPS",
           "status_legend", "plot_fig4", "plot_fig7", "plot_collapse", "plot_stochastic", "heatmap",
           "heatmap_image", "FIGURES", "path_grid", "path_run", "smgd_path_frame", "PATH_HORIZON",
           "floored", "floor_band", "band_level", "DELTA_FLOOR", "d2_glue", "d2_html", "theorem2_runs_html",
           "stochastic_html", "stochastic_glue"]

_PANELS = [("test_loss", "log$_{10}$ test loss"), ("delta_norm", r"log$_{10}\,\|\Delta_\infty\|_2$"),
           ("l1", r"log$_{10}\,\|\theta\|_1$")]


def _axes_grid(axes, shape, figsize):
    """(figure, axes) of a new constrained figure, or of the given ``axes``."""
    if axes is not None:
        axes = np.asarray(axes)
        return axes.flat[0].figure, axes
    import matplotlib.pyplot as plt
    return plt.subplots(*shape, figsize=figsize, constrained_layout=True)


DELTA_FLOOR = -12     # log₁₀‖Δ∞‖ below this is shown in a marked band, not on the axis (underflow)


def band_level(values, floor=DELTA_FLOOR):
    """Where values below ``floor`` are drawn: one unit under the lowest value above it (or under the floor)."""
    v = np.asarray(values, float)
    real = v[np.isfinite(v) & (v >= floor)]
    return (float(real.min()) if real.size else float(floor)) - 1.0


def floored(values, floor=DELTA_FLOOR, level=None):
    """(values with those below ``floor`` moved to the band ``level``, how many were moved)."""
    v = np.asarray(values, float)
    low = np.isfinite(v) & (v < floor)
    level = band_level(v, floor) if level is None else level
    return np.where(low, level, v), int(low.sum())


def floor_band(ax, count, level, floor=DELTA_FLOOR, what="cells"):
    """Mark the band at ``level`` holding the values below 10^floor, with their count (axis not stretched)."""
    if not count:
        return
    from ..text import power_of_ten
    ax.axhspan(level - 0.4, level + 0.4, facecolor="0.93", edgecolor="0.6", hatch="//", lw=0, zorder=0)
    ax.text(0.02, level + 0.45, f"{count} {what} below {power_of_ten(floor)}, drawn in this band",
            transform=ax.get_yaxis_transform(), ha="left", va="bottom", fontsize=9, color="0.25")
    lo, hi = ax.get_ylim()
    ax.set_ylim(level - 0.5, hi)


# --------------------------------------------------------------------------------------- Figure 4
def status_legend(fig, max_epochs=None, capped=True):
    """One legend under the figure: diverged (hatched), capped (greyed), sign changes, λ lines."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    cap = f"{max_epochs:.0e}".replace("e+0", "e") if max_epochs else ""
    h = [Patch(facecolor="0.8", edgecolor="0.3", hatch="///", label="diverged")]
    if capped:
        h.append(Patch(facecolor=CAPPED_FACE, edgecolor="0.35", hatch="..",
                       label=f"epoch cap {cap} reached (values not final)" if cap else "epoch cap reached"))
    h += [Line2D([], [], ls="", marker="o", color="w", mec="k", ms=6, label="w± changed sign"),
          Line2D([], [], ls="--", color="0.4", label="λ = γ/(1−β)² = 10^k")]
    fig.legend(handles=h, loc="outside lower center", ncol=2, fontsize=9, frameon=False)


def plot_fig4(res, axes=None, marker=None):
    """Figure 4, 2×2: log test loss, ‖Δ∞‖₂, ‖θ‖₁ heatmaps and the number of capped runs per cell."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    fig, axes = _axes_grid(axes, (2, 2), (9, 7.4))
    for ax, (name, title) in zip(axes.flat, _PANELS):
        v = res.cell_mean(name)
        if name == "l1":                    # ‖θ‖₁ spans a few percent: its own units, not log₁₀
            v, title = 10 ** v, r"$\|\theta\|_1$ (geometric mean over data sets)"
        vc = v[res.cell_converged]          # colour range set by the converged cells (robust)
        vc = vc[np.isfinite(vc)] if vc.size and np.isfinite(vc).any() else v[np.isfinite(v)]
        lo, hi = np.percentile(vc, [1, 99]) if vc.size else (None, None)
        heatmap(ax, res, v, title, marker=marker, vmin=lo, vmax=hi)   # robust colour range
    R = res.status.shape[-1]
    greys = ListedColormap(plt.get_cmap("Greys")(np.linspace(0.0, 0.6, R + 1)))
    heatmap(axes.flat[3], res, res.capped_counts(), f"runs (of {R}) stopped at the epoch cap", cmap=greys,
            vmin=-0.5, vmax=R + 0.5, grey_capped=False, line_colour="0.2")
    status_legend(fig, res.config.max_epochs)
    return fig


def plot_collapse(res, axes=None):
    """2×2: each Figure 4 quantity against λ per non-diverged cell (coloured by log₁₀ γ) and the η² bars."""
    fig, axes = _axes_grid(axes, (2, 2), (9, 6.8))
    ok = res.cell_converged
    nc = ~res.cell_diverged & ~ok
    lam = res.lam[ok]
    gam = np.log10(np.broadcast_to(res.gammas[:, None], res.lam.shape)[ok])
    eta = lambda_collapse(res)
    for ax, (name, lab) in zip(axes.flat, _PANELS):
        v = res.cell_mean(name)
        if name == "l1":
            v, lab = 10 ** v, r"$\|\theta\|_1$ (geometric mean)"
        level = band_level(v[ok | nc])
        v, _ = floored(v, level=level)
        ax.scatter(res.lam[nc], v[nc], s=14, marker="x", color="0.65", lw=0.8, label="epoch cap reached")
        sc = ax.scatter(lam, v[ok], c=gam, s=16, cmap="viridis", label="converged")
        if name != "l1":
            floor_band(ax, int(np.sum((res.cell_mean(name) < DELTA_FLOOR) & (ok | nc))), level)
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda = \gamma/(1-\beta)^2$")
        ax.set_ylabel(lab)
        ax.legend(fontsize=9)
    fig.colorbar(sc, ax=axes.flat[1], label=r"log$_{10}\gamma$")
    ax = axes.flat[3]
    x = np.arange(3)
    ax.bar(x - 0.2, [eta[n + "_lam"] for n, _ in _PANELS], 0.4, color="#0072B2", label="binned on log λ")
    ax.bar(x + 0.2, [eta[n + "_gamma"] for n, _ in _PANELS], 0.4, color="#E69F00", label="binned on log γ")
    ax.set_xticks(x, ["test loss", "‖Δ∞‖₂", "‖θ‖₁"])
    ax.set_ylim(0, 1.25)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_ylabel("η² (share of variance explained)")
    ax.legend(fontsize=9, loc="upper center", ncol=2)
    return fig


@dataclasses.dataclass(frozen=True)
class _Fig4(Fig4Result):
    """A Figure 4 result that draws itself (:func:`plot_fig4`)."""

    def plot(self, marker=None):
        """Figure 4 (:func:`plot_fig4`)."""
        return plot_fig4(self, marker=marker)

    def glue_strings(self, prefix="ch4_"):
        """The chapter's Figure 4 numbers as prose strings (run counts, Theorem 2 bounds, best cell, η²)."""
        from ..text import below_power, sci
        s, cr, eta = self.summary(), self.capped_runs(), lambda_collapse(self)
        conv = self.status == Status.CONVERGED
        calm, crossed, live = conv & ~self.crossed, conv & self.crossed, self.status != Status.DIVERGED
        G, Bt, R = self.status.shape

        def worst(a, sel, floor):     # a bound, floored at rounding level so that it is kernel-stable
            return below_power(max(float(a[sel].max()), floor)) if sel.any() else "–"
        out = {"R": R, "grid": f"{G} × {Bt}", "cap": sci(self.config.max_epochs, 1), "runs": s["runs"],
               "converged": s["converged"], "capped": s["step_cap"], "diverged": s["diverged"],
               "crossed": s["crossed"], "cells": G * Bt, "capped_cells": int(self.cell_capped.sum()),
               "capped_eps_med": sci(cr["eps_median"]) if cr["n"] else "–",
               "capped_time": sci(cr["eps_median"] * self.config.max_epochs, 1) if cr["n"] else "–",
               "capped_loss": sci(cr["train_loss_median"]) if cr["n"] else "–",
               "capped_loss_max": sci(cr["train_loss_max"]) if cr["n"] else "–",
               "n_calm": int(calm.sum()), "n_crossed": int(crossed.sum()), "n_live": int(live.sum()),
               "thm2_calm": worst(self.theorem2_error, calm, 1e-10),
               "thm2_crossed": worst(self.theorem2_error, crossed, 0.0),
               "thm2_b_all": worst(self.theorem2_error_finite, live, 1e-10),
               "cor3_holds": s["corollary3_holds"], "cor3_runs": s["corollary3_runs"],
               "max_beta_factor": f"{self.betas[-1] / (1 - self.betas[-1]):.0f}",
               "beta_max": f"{self.betas[-1]:.2f}", "gamma_star": f"{s['gamma_star']:.2g}",
               "beta_star": f"{s['beta_star']:.2g}", "lambda_star": f"{s['lambda_star']:.2g}",
               "best_log_test": f"{s['log10_test_loss_best']:.1f}",
               "conv_cells": int(self.cell_converged.sum()),
               "conv_lam_min": f"{self.lam[self.cell_converged].min():.2g}" if self.cell_converged.any()
               else "–"}
        for name in ("delta_norm", "test_loss", "l1"):
            for axis in ("lam", "gamma"):
                out[f"eta_{name}_{axis}"] = f"{eta[f'{name}_{axis}']:.2f}"
        return {prefix + k: str(v) for k, v in out.items()}


def fig4(config=None, progress=False):
    """Figure 4: :func:`mdln.experiments.sec4.run_fig4`, its result extended by ``.plot()``."""
    res = run_fig4(config, progress=progress)
    return _Fig4(**{f.name: getattr(res, f.name) for f in dataclasses.fields(res)})


# --------------------------------------------------------------------------------------- Figure 7
def plot_fig7(res, axes=None):
    """Figure 7, 2×2: MGD and MGF(λ) heatmaps on one colour scale, a scatter, and both against λ."""
    fig, axes = _axes_grid(axes, (2, 2), (9, 7.6))
    axes = np.asarray(axes).reshape(2, 2)
    both = np.concatenate([res.mgd_cells[np.isfinite(res.mgd_cells)],
                           res.mgf_cells[np.isfinite(res.mgf_cells)]])
    vmin, vmax = float(both.min()), float(both.max())
    heatmap(axes[0, 0], res.fig4, res.mgd_cells, "MGD(γ, β): log$_{10}$ test loss", vmin=vmin, vmax=vmax,
            capped=res.capped())
    heatmap(axes[0, 1], res.fig4, res.mgf_cells, "MGF(λ = γ/(1−β)²): log$_{10}$ test loss",
            vmin=vmin, vmax=vmax, grey_capped=False)
    ok = np.isfinite(res.mgd_cells) & np.isfinite(res.mgf_cells)
    conv = res.cells(True)
    ax = axes[1, 0]
    sc = ax.scatter(res.mgf_cells[ok & conv], res.mgd_cells[ok & conv],
                    c=np.log10(res.fig4.lam[ok & conv]), s=16, cmap="cividis", label="MGD converged")
    ax.scatter(res.mgf_cells[ok & ~conv], res.mgd_cells[ok & ~conv], s=14, marker="x",
               color="0.6", lw=0.8, label="MGD at the epoch cap")
    ax.legend(fontsize=9, loc="upper left")
    fig.colorbar(sc, ax=ax, label=r"log$_{10}\lambda$")
    ax.plot([vmin, vmax], [vmin, vmax], "k--", lw=0.8)
    ax.set_xlabel("MGF(λ): log$_{10}$ test loss")
    ax.set_ylabel("MGD(γ, β): log$_{10}$ test loss")
    ax.set_title(f"correlation {res.correlation(False):.2f} (all cells), "
                 f"{res.correlation(True):.2f} (converged)", fontsize=10)
    ax = axes[1, 1]
    lam = res.fig4.lam
    ax.scatter(lam[ok & conv], res.mgd_cells[ok & conv], s=14, color="#0072B2", label="MGD, converged")
    ax.scatter(lam[ok & ~conv], res.mgd_cells[ok & ~conv], s=14, marker="x", color="0.6", lw=0.8,
               label="MGD at the epoch cap")
    ax.plot(res.lams, res.mgf_log_test.mean(axis=1), "-o", color="#D55E00", ms=4, label="MGF(λ)")
    ax.set_xscale("log")
    ax.set_xlabel(r"$\lambda = \gamma/(1-\beta)^2$")
    ax.set_ylabel("log$_{10}$ test loss")
    ax.legend(fontsize=9)
    status_legend(fig, res.config.fig4.max_epochs)
    return fig


@dataclasses.dataclass(frozen=True)
class _Fig7(Fig7Result):
    """A Figure 7 result that draws itself (:func:`plot_fig7`)."""

    def plot(self):
        """Figure 7 (:func:`plot_fig7`)."""
        return plot_fig7(self)

    def glue_strings(self, prefix="ch4_"):
        """Figure 7's correlations and mean gaps (decades) over converged and all non-diverged cells."""
        s = self.summary()
        out = {"n_lam7": str(len(self.lams))}
        for tag in ("converged", "all"):
            out.update({f"corr_{tag}": f"{s['correlation_' + tag]:.2f}",
                        f"gap_{tag}": f"{s['mean_abs_gap_decades_' + tag]:.2f}",
                        f"cells7_{tag}": str(s["cells_" + tag])})
        return {prefix + k: v for k, v in out.items()}


def fig7(config=None, progress=False):
    """Figure 7: :func:`mdln.experiments.sec4.run_fig7`, result (and its Figure 4) extended by ``.plot()``."""
    cfg = Fig7Config.preset("book") if config is None else config
    if not isinstance(cfg, Fig7Config):
        raise TypeError(f"fig7: config must be a Fig7Config, got {type(cfg).__name__}")
    res = run_fig7(cfg, progress=progress, fig4_result=fig4(cfg.fig4, progress=progress))
    return _Fig7(**{f.name: getattr(res, f.name) for f in dataclasses.fields(res)})


# ------------------------------------------------------------------------ Appendix D.2, batches
def d2_table(config=None):
    """Appendix D.2 rows (ε, γ, β, steps, ‖S‖, ‖λI‖, gaps to λI and (1+β)/2·λI): ``run_d2(config).rows``."""
    return run_d2(config).rows


def d2_glue(rows, prefix="ch4_"):
    """Appendix D.2 in prose: the gap to λI over (1−β)/2 (range) and the (1+β)/2-corrected gap at both ends."""
    ratio = rows[:, 6] / ((1 - rows[:, 2]) / 2)
    out = {"d2_ratio_lo": f"{ratio.min():.2f}", "d2_ratio_hi": f"{ratio.max():.2f}",
           "d2_gap_first": f"{rows[0, 7]:.2g}", "d2_gap_last": f"{rows[-1, 7]:.2g}",
           "d2_eps_first": f"{rows[0, 0]:.3g}", "d2_eps_last": f"{rows[-1, 0]:.3g}"}
    return {prefix + k: v for k, v in out.items()}


def d2_html(rows):
    """The Appendix D.2 table as HTML (3 significant digits, kernel-stable)."""
    from ..text import html_table
    body = [[f"{e:.3g}", f"{g:.3g}", f"{b:.4g}", f"{int(K):,}", f"{nS:.3f}", f"{nC:.3f}", f"{gap:.2g}",
             f"{gh:.2g}"] for e, g, b, K, nS, nC, gap, gh in rows]
    return html_table(body, ["ε", "γ", "β", "steps", "‖S‖", "‖λI‖", "gap to λI", "gap to (1+β)/2·λI"])


def theorem2_runs_html(runs, labels):
    """One HTML table of single runs: status, epochs, sign changes, Theorem 2's residual (raw, with b)."""
    from ..text import below, html_table
    rows = [[lab, r.status.name.lower().replace("_", " "), f"{r.epochs:,.0f}", "yes" if r.crossed else "no",
             below(max(r.theorem2_error(), 1e-10)), below(max(r.theorem2_error(finite=True), 1e-10))]
            for lab, r in zip(labels, runs)]
    return html_table(rows, ["run", "status", "epochs", "w± changed sign", "Δ_K vs Δ0·e^−(S₊+S₋)",
                             "with boundary factor"])


def stochastic_html(sto):
    """The stochastic-batch table as HTML: run counts, Theorem 2's raw residual bound, η², median test loss."""
    from ..text import below, html_table
    rows = [[B, f"{v['converged']}/{v['runs']}", v["diverged"], v["crossed"], below(v["theorem2_worst"]),
             f"{v['eta2_delta_lam']:.2f}", f"{v['eta2_delta_gamma']:.2f}", f"{v['median_log_test']:.1f}"]
            for B, v in sto.items()]
    return html_table(rows, ["B", "converged", "diverged", "sign changes", "Theorem 2 (raw)",
                             "η² on log λ", "η² on log γ", "median log₁₀ test loss"])


def stochastic_glue(sto, prefix="ch4_"):
    """Grid, cap, Theorem 2's worst raw residual and the share of capped runs of the stochastic sweeps."""
    from ..text import below_power, sci
    c4 = sto.config.fig4
    n_cap = sum(v["runs"] - v["converged"] - v["diverged"] for v in sto.values())
    n_runs = sum(v["runs"] for v in sto.values())
    out = {"sto_grid": f"{c4.n_gamma} × {c4.n_beta}", "sto_cap": sci(c4.max_epochs, 1),
           "sto_datasets": str(len(c4.seeds)), "sto_batches": ", ".join(str(B) for B in sto.keys()),
           "sto_thm2_worst": below_power(max(v["theorem2_worst"] for v in sto.values())),
           "sto_capped_share": f"{100 * n_cap / n_runs:.0f}%",
           "sto_gamma_wins": ", ".join(f"B = {B}" for B, v in sto.items()
                                       if v["eta2_delta_gamma"] > v["eta2_delta_lam"]) or "no B",
           "sto_lam_wins": ", ".join(f"B = {B}" for B, v in sto.items()
                                     if v["eta2_delta_gamma"] <= v["eta2_delta_lam"]) or "no B",
           "sto_medians": ", ".join(f"{v['median_log_test']:.1f} (B = {B})" for B, v in sto.items())}
    return {prefix + k: v for k, v in out.items()}


def stochastic_batches(config=None, progress=False):
    """Per batch size B, a dict: :func:`mdln.experiments.sec4.run_stochastic` (its result reads as one)."""
    return run_stochastic(config, progress=progress)


def plot_stochastic(res, axes=None):
    """log₁₀ test loss and log₁₀‖Δ∞‖ against λ, one colour per batch size; open marks: cap reached."""
    fig, axes = _axes_grid(axes, (1, 2), (9, 3.9))
    colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
    low = {"log_test": 0, "log_delta": 0}
    level = {k: band_level(np.concatenate([np.ravel(v[k]) for v in res.values()])) for k in low}
    for (B, v), c in zip(res.items(), colours):
        sw = v["sweep"]
        lam = sw.lam
        conv = np.all(sw.status == Status.CONVERGED, axis=-1)
        for ax, key in zip(axes.flat, ["log_test", "log_delta"]):
            y, n_low = floored(v[key], level=level[key])
            low[key] += n_low
            ax.scatter(lam[conv], y[conv], s=18, color=c, label=f"B = {B}", alpha=0.85)
            ax.scatter(lam[~conv], y[~conv], s=18, facecolor="none", edgecolor=c, alpha=0.85, lw=0.8)
    for ax, key in zip(axes.flat, ["log_test", "log_delta"]):
        floor_band(ax, low[key], level[key])
    for ax, lab in zip(axes.flat, ["log$_{10}$ test loss", r"log$_{10}\,\|\Delta_\infty\|_2$"]):
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda = \gamma/(1-\beta)^2$")
        ax.set_ylabel(lab)
        ax.legend(fontsize=9, title="filled: all runs converged\nopen: epoch cap reached", title_fontsize=9)
    return fig


# ---------------------------------------------------------------------------------------- widget
class SMGDFrame:
    """The (γ, β) explorer: a 2×2 figure built once, then updated with ``set_data`` (no axes rebuilt).

    Panels: train loss, Δ_k per coordinate, final θ against θ*, and the Figure 4 heatmap whose marker
    moves to (γ, β); the nearest Figure 4 cell's result (already computed, full budget) is quoted in the
    title, so the live run needs only ``max_steps`` steps.
    """

    def __init__(self, fig, fig4_result, max_steps=WIDGET_STEPS, seed=0):
        self.fig, self.res, self.max_steps, self.seed = fig, fig4_result, int(max_steps), int(seed)
        c = fig4_result.config
        self.cfg = c
        self.ds = c.data.dataset(self.seed)
        self.axes = fig.subplots(2, 2)
        self._build_panels(c)
        self.pixel_of = None
        self.title = fig.suptitle("γ\nβ", fontsize=10)   # two-line placeholder: the layout keeps room for it
        self.update((0.01, 0.5))
        fig.set_layout_engine("constrained")
        fig.canvas.draw()
        fig.set_layout_engine("none")      # layout computed once; redraws only move data
        a3 = self.axes.flat[3]
        bb = a3.get_window_extent()
        img, self.pixel_of = heatmap_image(fig4_result, fig.dpi, bb.width / fig.dpi, bb.height / fig.dpi)
        a3.imshow(img, interpolation="antialiased", aspect="auto", zorder=1)
        self.update((0.01, 0.5))

    def _build_panels(self, c):
        from matplotlib.collections import LineCollection
        a0, a1, a2, a3 = self.axes.flat
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
        self.marker, = a3.plot([], [], "*", color="#D55E00", ms=15, mec="k", zorder=5)

    def nearest_cell(self, gamma, beta):
        """Figure 4 summary at the grid cell nearest to (γ, β) (log γ, β distance)."""
        return self.res.nearest_cell(gamma, beta)

    def update(self, value):
        """Redraw for ``value = (γ, β)``: one budgeted ``train_mgd`` run (cached) and ``set_data``."""
        gamma, beta = float(value[0]), float(value[1])
        c = self.cfg
        ds, r = widget_run(c, gamma, beta, self.seed, self.max_steps)
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
        if self.pixel_of is not None:
            px, py = self.pixel_of(gamma, beta)
            self.marker.set_data([px], [py])
        cut = r.code == Status.STEP_CAP
        self.cut_text.set_text(f"cut short at the {self.max_steps:,}-step budget" if cut else "")
        self.title.set_text(self._title(gamma, beta, ds, r, cut))
        return r

    def _title(self, gamma, beta, ds, r, cut):
        cell = self.nearest_cell(gamma, beta)
        lam, eps = lam_of(gamma, beta), step(gamma, beta)
        live = (f"{r.status} after {r.steps} steps" if not cut else f"stopped at {r.steps} steps (budget)")
        fig4_txt = (f"Figure 4 cell ({cell['gamma']:.2g}, {cell['beta']:.2g}): "
                    + (f"log test loss {cell['log_test']:.2f}" if np.isfinite(cell["log_test"])
                       else "diverged")
                    + (f", {cell['capped']}/{cell['runs']} runs at the epoch cap" if cell["capped"] else ""))
        return (f"γ = {gamma:.3g}, β = {beta:.3g}: λ = {lam:.3g}, ε = {eps:.3g}; {live}, "
                f"test loss {ds.test_loss(r.theta):.2e}" + (", w± changed sign" if r.crossed else "")
                + "\n" + fig4_txt)


_HEATMAP_IMAGES = {}


def heatmap_image(res, dpi, width=4.5, height=3.3):
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


# ------------------------------------------------------------------- (γ, β) scrubber, one frame
PATH_HORIZON = 1000.0     # continuous time t = kε of each scrubber run (steps K = ⌈T/ε⌉)


def path_grid(n=5, gamma_max=0.2):
    """(γ, β) axes of the two-slider scrubber, both increasing: γ doubles, (1−β)² halves, step to step.

    γ_i = γ_max·2^(i−n+1) and 1−β_j = 2^(−j/2), so λ = γ/(1−β)² = γ_max·2^(i+j−n+1): the pairs (i, j) and
    (i+1, j−1) share λ, and every anti-diagonal of the grid is one λ line, walked with ε = γ/(1−β) ×√2.
    """
    k = np.arange(int(n))
    return gamma_max * 2.0 ** (k - int(n) + 1), 1.0 - 2.0 ** (-k / 2)


def path_run(fig4_result, gamma, beta, horizon=PATH_HORIZON, seed=0):
    """(data set, MGDResult) of MGD(γ, β) on Figure 4's data set ``seed`` up to continuous time ``horizon``."""
    K = int(np.ceil(horizon / step(gamma, beta)))
    return widget_run(fig4_result.config, float(gamma), float(beta), int(seed), K)


def _frame_map(ax, res, gamma, beta):
    """Figure 4's test-loss map, light enough for 49 embedded frames: flat cells, λ lines, a star."""
    from .plotting import plain_heatmap
    v = res.cell_mean("test_loss")
    plain_heatmap(ax, res.gammas, res.betas, np.where(res.cell_converged, v, np.nan),
                  "Figure 4: log$_{10}$ test loss\n(white: capped or diverged)", marker=(gamma, beta),
                  labels=False)


def smgd_path_frame(gamma, beta, fig4_result, horizon=PATH_HORIZON, seed=0, dpi=100, figsize=(6.8, 2.9)):
    """One scrubber frame at (γ, β), a new Figure: θ_k and Δ_k against t = kε, and (γ, β) on Figure 4.

    Runs MGD (full batch, Figure 4's data set ``seed``) until train loss 10⁻⁸ or t = ``horizon``; the θ
    panel ends with θ⋆'s coordinates, the Figure 4 panel marks the pair with a star on its λ line.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    ds, r = path_run(fig4_result, gamma, beta, horizon, seed)
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")   # 25 frames stay under ~1.6 MB
    FigureCanvasAgg(fig)
    a0, a1, a2 = fig.subplots(1, 3, width_ratios=[1, 1, 1.25])
    eps = step(gamma, beta)
    tr = r.trajectory
    t = np.maximum(tr.steps, 1) * eps
    on = ds.theta_star != 0
    fin = np.all(np.isfinite(tr.theta), axis=1) & np.all(np.isfinite(tr.delta), axis=1)
    off = tr.theta[fin][:, ~on]      # off-support coordinates as one band: light to embed 36 times
    a0.fill_between(t[fin], off.min(axis=1), off.max(axis=1), color="0.8", lw=0, label="other $i$")
    a0.plot(t[fin], tr.theta[fin][:, on], color="#0072B2", lw=1.1)
    a0.plot(np.full(on.sum(), horizon * 1.6), ds.theta_star[on], "k_", ms=9, mew=1.6,
            label=r"$\theta^\star_i$")
    a0.set_ylim(-0.25, 0.75)
    a0.legend(fontsize=9, loc="upper left", handlelength=1)
    a0.set_title(r"$\theta_k$ (blue: $\theta^\star_i \neq 0$)", fontsize=10)
    a1.plot(t[fin], np.maximum(tr.delta[fin], 1e-300), color="#009E73", lw=0.7)
    a1.axhline(fig4_result.config.alpha ** 2, color="k", ls="--", lw=0.8)
    a1.set_yscale("log")
    a1.set_ylim(1e-9, 1e-1)
    a1.set_title(r"$\Delta_k$ (dashed: $\Delta_0$)", fontsize=10)
    for ax in (a0, a1):
        ax.set_xscale("log")
        ax.set_xlim(1e-1, horizon * 2.5)
        ax.set_xlabel(r"time $t = k\varepsilon$")
    _frame_map(a2, fig4_result, gamma, beta)
    ended = {Status.CONVERGED: f"train loss 10⁻⁸ at t = {r.steps * eps:.0f}",
             Status.STEP_CAP: f"stopped at t = {horizon:g}", Status.DIVERGED: "diverged"}[r.status]
    fig.suptitle(f"γ = {gamma:.3g}, β = {beta:.3g}:  λ = γ/(1−β)² = {lam_of(gamma, beta):.3g},  "
                 f"ε = γ/(1−β) = {eps:.3g}\n{ended}" + (";  w± changed sign" if r.crossed else ""),
                 fontsize=10)
    return fig


FIGURES = {
    "fig4": dict(fn=fig4, config=Fig4Config, experiment=run_fig4, plot=plot_fig4,
                 title="MGD(γ, β) on a diagonal network: test loss, ‖Δ∞‖₂, ‖θ‖₁ over (γ, β) follow λ",
                 seconds={"test": 2, "book": 90, "paper": 310}),   # book at 10⁶ epochs: ~50 s CPU, 2 threads
    "fig7": dict(fn=fig7, config=Fig7Config, experiment=run_fig7, plot=plot_fig7,
                 title="MGD(γ, β) test loss beside MGF(λ = γ/(1−β)²)",
                 seconds={"test": 6, "book": 100, "paper": 600}),
}
