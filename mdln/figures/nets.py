"""Figures 2 and 6 drawn: log₁₀ test (and train) loss over (γ, β) with the λ = γ/(1−β)² level lines.

The experiments (configs, runs, the η² quantification) live in :mod:`mdln.experiments.nets`; here
``plot_fig2``/``plot_fig6`` draw a result, ``fig2``/``fig6`` return the result extended by ``.plot()``,
``quantification_report`` prints a quantification and ``transient_progress`` hides progress bars in
Jupyter. Heatmap coordinates: (log₁₀ γ, −log₁₀(1−β)), where the λ lines are straight.
"""
from __future__ import annotations

import contextlib
import dataclasses

import numpy as np

from .. import nets
from ..experiments.nets import (Fig2Config, Fig2Result, Fig6Config, Fig6Result, grid_axes,
                                lambda_quantification, run_fig2, run_fig6)
from .plotting import cell_edges, heatmap

__all__ = ["transient_progress", "Fig2Config", "Fig2Result", "fig2", "plot_fig2", "Fig6Config", "Fig6Result",
           "fig6", "plot_fig6", "lambda_quantification", "quantification_report", "grid_axes", "FIGURES"]


def quantification_report(q, label="log10 test loss"):
    """Plain-text table of a ``lambda_quantification`` dict (few digits, stable under BLAS noise: a line's
    mean log10 train loss near the float64 floor moves in its second decimal between OpenBLAS kernels)."""
    lines = [f"share of the variance of {label} explained by one coordinate alone",
             f"(eta^2, {q['n_bins']} bins, {q['n_valid_cells']} cells):",
             f"  log lambda      : {q['r2_log_lam']:.2f}",
             f"  log gamma       : {q['r2_log_gamma']:.2f}",
             f"  log(1 - beta)   : {q['r2_log_one_minus_beta']:.2f}",
             f"  log eps (step)  : {q['r2_log_eps']:.2f}",
             f"spread of {label} along the {q['n_lines_used']} lambda lines: {q['spread_along']:.2g}",
             f"  across lines: {q['spread_across']:.2g}   ratio: {q['spread_ratio']:.2g}"]
    lines += [f"  along lambda = {lam:<6g}: mean {m:6.1f}, sd {sd:.1g}"
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
    """:func:`mdln.figures.plotting.heatmap` in (log γ, −log(1−β)) coordinates; arrays (γ, β).

    The λ labels are outlined and moved onto coloured (converged) cells where their line crosses any, so
    none is white on grey or under the hatching; the β axis, spaced as −log₁₀(1−β), says so.
    """
    mesh = heatmap(ax, gammas, betas, values, title, diverged=status == nets.DIVERGED,
                   capped=status == nets.STEP_CAP, coords="omb", lam_levels=levels, valid=valid,
                   cbar_label=cbar_label, capped_style="dot" if mark_cap else None)
    _place_lambda_labels(ax, gammas, betas, status)
    ax.set_ylabel("momentum β (spaced as −log(1−β))")
    return mesh


def _label_spot(lam, xe, ye, status):
    """(x, y) on the line x = log₁₀λ − 2y for its label: inside the axes, on the best cell it crosses
    (converged over step cap over diverged), nearest the middle of those; None if it barely enters."""
    y = np.linspace(ye[0], ye[-1], 200)
    x = np.log10(lam) - 2 * y
    w, h = xe[-1] - xe[0], ye[-1] - ye[0]
    ok = (x > xe[0] + 0.05 * w) & (x < xe[-1] - 0.05 * w) & (y > ye[0] + 0.04 * h) & (y < ye[-1] - 0.04 * h)
    if ok.sum() < 3:
        return None
    x, y = x[ok], y[ok]
    gi = np.clip(np.searchsorted(xe, x) - 1, 0, status.shape[0] - 1)
    bj = np.clip(np.searchsorted(ye, y) - 1, 0, status.shape[1] - 1)
    st = status[gi, bj]
    rank = np.where(st == nets.CONVERGED, 2, np.where(st == nets.STEP_CAP, 1, 0))
    best = np.flatnonzero(rank == rank.max())
    k = best[np.argmin(np.abs(best - best.mean()))]
    return x[k], y[k]


def _place_lambda_labels(ax, gammas, betas, status):
    """Outline the heatmap's "λ=…" labels (white on a black stroke) and move each to :func:`_label_spot`."""
    from matplotlib import patheffects
    xe = cell_edges(np.log10(gammas))
    ye = cell_edges(-np.log10(1 - np.asarray(betas, float)))
    for t in list(ax.texts):
        if not t.get_text().startswith("λ="):
            continue
        spot = _label_spot(float(t.get_text()[2:]), xe, ye, np.asarray(status))
        if spot is None:
            t.remove()
            continue
        t.set_position(spot)
        t.set_horizontalalignment("center")
        t.set_verticalalignment("center")
        t.set_clip_on(True)
        t.set_path_effects([patheffects.withStroke(linewidth=2.5, foreground="black")])


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


def plot_fig2(res, ax=None):
    """Figure 2: heatmap of log₁₀ test loss over (γ, β) with λ level lines."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.6, 5.4)) if ax is None else (ax.figure, ax)
    with np.errstate(divide="ignore"):
        ll = np.log10(res.test_loss)
    _heatmap(ax, res.gammas, res.betas, ll, res.status,
             "Teacher–student ReLU net: test loss after training to $L \\leq 10^{-5}$",
             "log$_{10}$ test loss", res.lam_levels, res.status == nets.CONVERGED, mark_cap=True)
    _status_legend(fig, True, int(np.sum(res.status == nets.DIVERGED)),
                   int(np.sum(res.status == nets.STEP_CAP)))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def plot_fig6(res, axes=None):
    """Figure 6: test and train loss heatmaps over (γ, β) with λ level lines."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 4.4)) if axes is None else (axes[0].figure, axes)
    with np.errstate(divide="ignore"):
        for ax, loss, name in ((axes[0], res.test_loss, "test"), (axes[1], res.train_loss, "train")):
            _heatmap(ax, res.gammas, res.betas, np.log10(loss), res.status,
                     f"{name} loss after {res.config.epochs} epochs",
                     f"log$_{{10}}$ {name} loss", res.lam_levels, res.status != nets.DIVERGED)
    _status_legend(fig, False, int(np.sum(res.status == nets.DIVERGED)),
                   div_label="diverged in ≥ 1 replication")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


@dataclasses.dataclass(frozen=True)
class _Fig2(Fig2Result):
    """A Figure 2 result that draws itself (:func:`plot_fig2`)."""

    def plot(self):
        """Figure 2 (:func:`plot_fig2`)."""
        return plot_fig2(self)


@dataclasses.dataclass(frozen=True)
class _Fig6(Fig6Result):
    """A Figure 6 result that draws itself (:func:`plot_fig6`)."""

    def plot(self):
        """Figure 6 (:func:`plot_fig6`)."""
        return plot_fig6(self)


def _with_plot(cls, res):
    return cls(**{f.name: getattr(res, f.name) for f in dataclasses.fields(res)})


def fig2(config=None, progress=False):
    """Figure 2: :func:`mdln.experiments.nets.run_fig2`, its result extended by ``.plot()``."""
    return _with_plot(_Fig2, run_fig2(config, progress=progress))


def fig6(config=None, progress=False):
    """Figure 6: :func:`mdln.experiments.nets.run_fig6`, its result extended by ``.plot()``."""
    return _with_plot(_Fig6, run_fig6(config, progress=progress))


FIGURES = {
    "fig2": dict(fn=fig2, config=Fig2Config, experiment=run_fig2, plot=plot_fig2,
                 title="Teacher–student ReLU net: test loss over (γ, β) with the λ = γ/(1−β)² level lines",
                 seconds={"test": 2, "book": 20, "paper": 520}),
    "fig6": dict(fn=fig6, config=Fig6Config, experiment=run_fig6, plot=plot_fig6,
                 title="Deep linear net: test and train loss over (γ, β) against the λ level lines",
                 seconds={"test": 1, "book": 35, "paper": 140}),
}
