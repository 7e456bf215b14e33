"""Theorem 2 in full against the simplification, drawn: the distance maps and the dropped-term scatter.

The checks are computed by :mod:`mdln.experiments.theorems`; these functions only draw a
:class:`~mdln.experiments.theorems.Theorem2Check` (Section 4, Appendix F.2.2).
"""
from __future__ import annotations

import numpy as np

from .plotting import result_heatmap

__all__ = ["plot_distance_heatmaps", "plot_dropped_scatter"]


def plot_distance_heatmaps(check):
    """Two heatmaps (β on x, γ on y): worst log₁₀ distance to the full (Theorem 2), simplified predictions."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), constrained_layout=True)
    vals = [np.log10(check.cell_worst("distance_full")), np.log10(check.cell_worst("distance"))]
    lo = np.nanmin([np.nanmin(v) for v in vals])
    hi = np.nanmax([np.nanmax(v) for v in vals])
    titles = ["full Theorem 2: log$_{10}$ distance",
              r"simplified ($\tilde\theta_0 = 0$): log$_{10}$ distance"]
    for ax, v, t in zip(axes, vals, titles):
        ax.set_facecolor("0.85")
        result_heatmap(ax, check, v, t, cmap="magma", vmin=lo, vmax=hi)
        ax.title.set_fontsize(10)
    handles = [Patch(facecolor="0.85", label="not every run converged"),
               Patch(facecolor="0.8", hatch="///", edgecolor="0.3", label="diverged")]
    handles += axes[0].get_legend_handles_labels()[0][:1]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=9)
    return fig


def plot_dropped_scatter(checks, measure="dropped", level=0.01, y="distance"):
    """Simplified-form distance (or ``y="gap"``) against a dropped-term measure, one colour per family."""
    import matplotlib.pyplot as plt
    labels = {"dropped": r"dropped term $\max_i|\mathrm{arcsinh}(2\tilde\theta_{0,i}/\Delta_{\infty,i})|$",
              "ratio": r"$\max_i|\tilde\theta_{0,i}|/\Delta_{\infty,i}$",
              "shift": "first-order shift of the solution"}
    fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
    for c, col in zip(checks, colours):
        ok = c.converged
        x, dist, cr = getattr(c, measure)[ok], getattr(c, y)[ok], c.crossed[ok]
        ax.scatter(x[~cr], dist[~cr], s=10, color=col, marker="o", label=f"{c.family}, no sign change")
        ax.scatter(x[cr], dist[cr], s=12, color=col, marker="^", alpha=0.6, label=f"{c.family}, sign changes")
    ax.axhline(level, color="k", ls=":", lw=0.8)
    if measure == "shift":
        lim = np.array(ax.get_xlim())
        ax.plot(lim, lim, color="0.5", lw=0.8, label="distance = shift")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(labels[measure])
    ax.set_ylabel("distance of θ$^{MGD}$ to argmin$_S\\,\\psi_{\\Delta_\\infty}$" if y == "distance"
                  else "distance between the two predictions")
    ax.legend(fontsize=8)
    return fig
