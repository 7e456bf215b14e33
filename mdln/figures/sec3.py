"""Section 3 figures: MGF(λ) on diagonal linear networks (Figures 3, 8, 9; Appendix C, F.2.1), drawn only.

Every number comes from :mod:`mdln.experiments.sec3` (the sweep, the statistics, the tables, the study of
where θ̃0 ≈ 0 holds); this module draws a result: ``plot_fig3``, ``plot_fig8``, ``plot_fig9``,
``plot_simplification``, and the views of the Δ slider (ψ_Δ between ℓ1 and ℓ2) and the λ slider, shared
by the live widgets and the kernel-free scrubbers. ``fig3(config)`` and its siblings return the
experiment's result extended with ``.plot()``. Names of the experiments are re-exported here.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..experiments.sec3 import (DELTA_GRID, MEASURES, SLIDER_LAMS, D2LinkConfig, D2LinkResult,
                                Fig3Config, Fig3Result, Fig8Config, Fig8Result, Fig9Config, Fig9Result,
                                SimplificationConfig, SimplificationResult, Theorem1FormsConfig,
                                Theorem1FormsResult, chapter_runs, corollary2_table, d2_link, delta_path,
                                delta_theta, lambda_path, linearised_shift, mgf_points, run_d2_link, run_fig3,
                                run_fig8, run_fig9, run_simplification, run_theorem1_forms,
                                small_lambda_table, theorem1_forms_table, theorem1_table)
from ..implicit import Prop2Demo, prop2_demo

__all__ = ["mgf_points", "Fig3Config", "Fig3Result", "fig3", "plot_fig3", "Fig8Config", "Fig8Result", "fig8",
           "plot_fig8", "Fig9Config", "Fig9Result", "fig9", "plot_fig9", "prop2_demo", "Prop2Demo",
           "corollary2_table", "small_lambda_table", "DELTA_GRID", "delta_path", "draw_delta_frame",
           "delta_widget", "SLIDER_LAMS", "lambda_path", "draw_lambda_frame", "lambda_widget", "delta_view",
           "lambda_view", "theorem1_table", "linearised_shift", "SimplificationConfig",
           "SimplificationResult", "fig3b", "plot_simplification", "d2_link", "D2LinkConfig", "D2LinkResult",
           "run_d2_link", "theorem1_forms_table", "Theorem1FormsConfig", "Theorem1FormsResult", "run_theorem1_forms",
           "precompute", "delta_test_correlations", "delta_test_correlations_by_mu",
           "simplification_table", "Fig3Figure", "Fig8Figure", "Fig9Figure", "SimplificationFigure", "FIGURES"]

_COLORS = {"test": "#1b4f8a", "delta": "#c0392b", "l1": "#2a7f62"}   # dark blue / red / green


def _with_plot(cls, result):
    """``result`` as an instance of ``cls``, its subclass that adds ``.plot()`` (same fields)."""
    return cls(**{f.name: getattr(result, f.name) for f in dataclasses.fields(result)})


def _shade_never_vanished(ax, lams, vanished):
    """Grey the λ-intervals where no replication's balancedness vanished (Corollary 2 applies)."""
    never = ~np.any(vanished, axis=0)
    for i in range(len(lams) - 1):
        if never[i] and never[i + 1]:
            ax.axvspan(lams[i], lams[i + 1], color="0.85", lw=0, zorder=0)


def _band(ax, x, Y, color, label, log=True):
    """Mean line (geometric if ``log``) and a band of ± one standard deviation (of log Y if ``log``)."""
    if log:
        L = np.log(Y)
        m, sd = np.exp(L.mean(axis=0)), L.std(axis=0)
        lo, hi = m * np.exp(-sd), m * np.exp(sd)
    else:
        m, sd = Y.mean(axis=0), Y.std(axis=0)
        lo, hi = m - sd, m + sd
    ax.plot(x, m, "-o", ms=3, color=color, label=label)
    if Y.shape[0] > 1:
        ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0)
    return m


# ------------------------------------------------------------------------------------ Figure 3
def _plot_fig3_axes(ax, res, marker_lam=None):
    lams = res.lams
    _shade_never_vanished(ax, lams, res.vanished)
    m = _band(ax, lams, res.test_loss, _COLORS["test"], "test loss")
    ax.axhline(m[0], color=_COLORS["test"], ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel(r"$\lambda$")
    ax.set_ylabel("test loss", color=_COLORS["test"])
    ax2 = ax.twinx()
    _band(ax2, lams, res.delta_norm, _COLORS["delta"], r"$\|\Delta_\infty\|_2$")
    ax2.set_ylabel(r"$\|\Delta_\infty\|_2$", color=_COLORS["delta"])
    ax2.set_yscale("log")
    b = float(np.min(res.prop3_bound))
    ax.axvline(b, color="k", ls="--", lw=1)
    ax.annotate(f"Prop. 3 bound\nλ={b:.1e}", xy=(b, 0.97), xycoords=("data", "axes fraction"),
                xytext=(8, -4), textcoords="offset points", fontsize=9, va="top")
    bad = ~np.all(res.converged, axis=0)
    if np.any(bad):   # runs that did not reach the train-loss tolerance are marked, never hidden
        ax.plot(lams[bad], m[bad], "kx", ms=9, mew=2, label="not converged")
        ax.legend(fontsize=9, loc="lower right")
    if marker_lam is not None:
        j = int(np.argmin(np.abs(lams - marker_lam)))
        ax.plot([lams[j]], [m[j]], "*", ms=14, color="#f1c40f", mec="k", zorder=5)
    ax.set_title(r"MGF($\lambda$) on a diagonal network (grey: $\Delta_t$ never vanished)", fontsize=9)


def plot_fig3(result: Fig3Result, ax=None, marker_lam=None):
    """Figure 3: geometric mean (line) and ×/÷ one geometric s.d. (band) of test loss and ‖Δ∞‖₂ vs λ."""
    import matplotlib.pyplot as plt
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
    _plot_fig3_axes(ax, result, marker_lam)
    return fig if fig is not None else ax.figure


class Fig3Figure(Fig3Result):
    """A Figure 3 result that draws itself (:func:`plot_fig3`)."""

    def plot(self, ax=None, marker_lam=None):
        """Figure 3 (:func:`plot_fig3`)."""
        return plot_fig3(self, ax, marker_lam)


def fig3(config=None, progress=False) -> Fig3Figure:
    """Figure 3 (Section 3.3): :func:`mdln.experiments.sec3.run_fig3`, with ``.plot()``."""
    return _with_plot(Fig3Figure, run_fig3(config, progress=progress))


# ------------------------------------------------------------------------------------ Figure 8
def plot_fig8(result: Fig8Result):
    """Figure 8: test loss, ‖Δ∞‖₂ and ‖θ‖₁ against λ, mean and spread over replications."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.2))
    for ax, Y, c, lab in zip(axes, [result.test_loss, result.delta_norm, result.l1_norm],
                             ["test", "delta", "l1"], ["test loss", r"$\|\Delta_\infty\|_2$",
                                                       r"$\|\theta^{MGF}\|_1$"]):
        _shade_never_vanished(ax, result.lams, result.vanished)
        _band(ax, result.lams, Y, _COLORS[c], lab, log=(c != "l1"))
        ax.set_yscale("log" if c != "l1" else "linear")
        ax.set_xlabel(r"$\lambda$")
        ax.set_title(lab, fontsize=10)
    fig.suptitle(f"MGF(λ), μ = {result.config.data.mu:g} (grey: " + r"$\Delta_t$" + " never vanished)",
                 fontsize=10)
    fig.tight_layout()
    return fig


class Fig8Figure(Fig8Result):
    """A Figure 8 result that draws itself (:func:`plot_fig8`)."""

    def plot(self):
        """Figure 8 (:func:`plot_fig8`)."""
        return plot_fig8(self)


def fig8(config=None, progress=False) -> Fig8Figure:
    """Figure 8 (Appendix F.2.1): :func:`mdln.experiments.sec3.run_fig8`, with ``.plot()``."""
    return _with_plot(Fig8Figure, run_fig8(config, progress=progress))


# ------------------------------------------------------------------------------------ Figure 9
def plot_fig9(result: Fig9Result):
    """Figure 9: three panels, one curve per μ (mean over replications; hollow markers: Δ_t vanished)."""
    import matplotlib.pyplot as plt
    from matplotlib import cm
    from matplotlib.lines import Line2D
    fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.4))
    cols = cm.viridis(np.linspace(0.0, 0.85, len(result.mus)))
    lams = result.lams
    for i, mu in enumerate(result.mus):
        van = np.any(result.vanished[i], axis=0)
        for ax, Y in zip(axes, [result.test_loss[i], result.delta_norm[i], result.l1_norm[i]]):
            m = np.exp(np.mean(np.log(Y), axis=0))
            ax.plot(lams, m, "-", color=cols[i], label=f"μ = {mu:g}")
            ax.plot(lams[~van], m[~van], "o", ms=4, color=cols[i])
            ax.plot(lams[van], m[van], "o", ms=4, mfc="none", color=cols[i])
            bad = ~np.all(result.converged[i], axis=0)
            ax.plot(lams[bad], m[bad], "kx", ms=8, mew=2)   # not converged: marked
    for ax, lab in zip(axes, ["test loss", r"$\|\Delta_\infty\|_2$", r"$\|\theta^{MGF}\|_1$"]):
        ax.set_yscale("log" if ax is not axes[2] else "linear")
        ax.set_xlabel(r"$\lambda$")
        ax.set_title(lab, fontsize=10)
    extra = [Line2D([], [], marker="o", ls="", mfc="none", c="0.4", label=r"$\Delta_t$ vanished")]
    if not np.all(result.converged):
        extra.append(Line2D([], [], marker="x", ls="", c="k", mew=2, label="not converged"))
    axes[0].legend(handles=axes[0].get_legend_handles_labels()[0] + extra, fontsize=9)
    fig.suptitle(r"MGF(λ) for several data means μ (filled: $\Delta_t$ never vanished)", fontsize=10)
    fig.tight_layout()
    return fig


class Fig9Figure(Fig9Result):
    """A Figure 9 result that draws itself (:func:`plot_fig9`)."""

    def plot(self):
        """Figure 9 (:func:`plot_fig9`)."""
        return plot_fig9(self)


def fig9(config=None, progress=False) -> Fig9Figure:
    """Figure 9 (Appendix F.2.1): :func:`mdln.experiments.sec3.run_fig9`, with ``.plot()``."""
    return _with_plot(Fig9Figure, run_fig9(config, progress=progress))


# ------------------------------------------------- Theorem 1 in full and where θ̃0 ≈ 0 holds
_MEASURE_LABELS = {"dropped_term": r"$\max_i|\mathrm{arcsinh}(2\tilde\theta_{0,i}/\Delta_{\infty,i})|$",
                   "ratio": r"$\max_i|\tilde\theta_{0,i}|/\Delta_{\infty,i}$",
                   "linearised": r"first-order shift $\|P(Da)\|/\|\theta\|$"}


def plot_simplification(result: SimplificationResult):
    """Simplified-form distance against the three measures (colour: λ; open: random support)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import LogLocator, NullFormatter
    r = result
    fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.4), sharey=True)
    lams = np.unique(r.lam)
    cols = plt.cm.viridis(np.linspace(0, 0.9, len(lams)))
    for ax, k in zip(axes, MEASURES):
        for la, c in zip(lams, cols):
            for rnd, mk in ((False, "o"), (True, "s")):
                sel = (r.lam == la) & (r.random_support == rnd)
                ok = sel & r.converged
                ax.scatter(getattr(r, k)[ok], r.distance[ok], s=16, marker=mk,
                           facecolors=c if not rnd else "none", edgecolors=c,
                           label=f"λ = {la:g}" if not rnd else None)
                nc = sel & ~r.converged
                if nc.any():
                    ax.scatter(getattr(r, k)[nc], r.distance[nc], marker="x", c="k", s=30)
        ax.axhline(0.01, color="k", ls="--", lw=0.8)
        thr = r.rule(k)["threshold"]
        if np.isfinite(thr):
            ax.axvline(thr, color="#c0392b", ls=":", lw=1)
        if k == "linearised":
            xs = np.logspace(np.log10(r.linearised.min()), np.log10(r.linearised.max()), 10)
            ax.plot(xs, xs, color="0.4", lw=0.8, label="y = x")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(LogLocator(numticks=5))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(_MEASURE_LABELS[k], fontsize=9)
        ax.tick_params(labelsize=9)
    axes[0].set_ylabel(r"distance to argmin$_S\,\psi_{\Delta_\infty}$", fontsize=9)
    h, lab = axes[0].get_legend_handles_labels()
    h += [Line2D([], [], marker="o", ls="", mfc="0.5", mec="0.5"),
          Line2D([], [], marker="s", ls="", mfc="none", mec="0.5"),
          Line2D([], [], marker="x", ls="", c="k"), Line2D([], [], ls=":", c="#c0392b")]
    lab += ["θ* on first s", "θ* random support", "not converged", "rule threshold"]
    fig.legend(h, lab, loc="lower center", ncol=5, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.17, 1, 1))
    return fig


class SimplificationFigure(SimplificationResult):
    """A result of the θ̃0 ≈ 0 study that draws itself (:func:`plot_simplification`)."""

    def plot(self):
        """The study's figure (:func:`plot_simplification`)."""
        return plot_simplification(self)


def fig3b(config=None, progress=False) -> SimplificationFigure:
    """Theorem 1 in full and where θ̃0 ≈ 0 holds: :func:`mdln.experiments.sec3.run_simplification`, with
    ``.plot()``."""
    return _with_plot(SimplificationFigure, run_simplification(config, progress=progress))


# ------------------------------------------------------------------------------- tables and statistics
def _log_corr(a, b):
    """Pearson correlation of log a and log b (flattened)."""
    return float(np.corrcoef(np.log(np.ravel(a)), np.log(np.ravel(b)))[0, 1])


def delta_test_correlations(result: Fig3Result):
    """corr(log ‖Δ∞‖₂, log test loss) over all runs pooled, and across λ within each data set (Figure 8)."""
    per = np.array([_log_corr(dn, tl) for dn, tl in zip(result.delta_norm, result.test_loss)])
    return dict(pooled=_log_corr(result.delta_norm, result.test_loss), per_dataset=per)


def delta_test_correlations_by_mu(result: Fig9Result):
    """corr(log ‖Δ∞‖₂, log test loss) across λ for each data mean μ, over its data sets (Figure 9)."""
    norms = np.linalg.norm(result.delta_inf, axis=-1)
    return {float(mu): _log_corr(norms[k], result.test_loss[k]) for k, mu in enumerate(result.mus)}


def simplification_table(result: SimplificationResult):
    """The study of where θ̃0 ≈ 0 holds as one HTML output: its summary lines and the rule's table.

    The endpoint-form distance is printed as a bound (it sits at the solver's rounding level).
    """
    from ..text import below, html_table
    sb = result.summary()
    before = [f"{sb['n_runs']} runs on {sb['n_datasets']} data sets; w± changed sign in "
              f"{sb['n_vanished']}; every run converged: {sb['all_converged']}.",
              f"Full prediction (endpoint form of I±): distance {below(sb['max_distance_full'], 2)} on "
              f"every run. Simplified: worst {sb['max_distance']:.3f}, {sb['n_distance_over_1pc']} runs "
              "at or above 1%."]
    rows = [[k, f"{sb[k + ':threshold']:.3g}", sb[k + ":n_below"], f"{sb[k + ':spearman']:.2f}",
             f"{sb[k + ':min_ratio']:.1e} to {sb[k + ':max_ratio']:.1e}"] for k in MEASURES]
    return html_table(rows, ["measure", "threshold", "runs below", "Spearman", "distance / measure"],
                      before=before)


# ------------------------------------------------------------------------------- the Δ slider
def _freeze_ticks(fig):
    """Fix every axis' major ticks where they are and drop minor ticks: redraws skip the tick search."""
    from matplotlib.ticker import FixedLocator, NullLocator
    for ax in fig.axes:
        for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = min(lim), max(lim)
            ticks = [t for t in axis.get_majorticklocs() if lo <= t <= hi]
            axis.set_major_locator(FixedLocator(ticks))
            axis.set_minor_locator(NullLocator())


def delta_view(fig, path=None):
    """Build the Δ-slider figure once; return ``update(log10_delta)`` that moves its artists (set_data).

    ``path`` is a :func:`delta_path` result (default: the slider's grid ``mdln.experiments.sec3.DELTA_GRID``).
    """
    path = delta_path(DELTA_GRID) if path is None else path
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=[1.6, 1]))
    d = path["l1"].size
    idx = np.arange(d)
    ax1.plot(idx, path["l2"], "s", mfc="none", color="#7f7f7f", ms=5, label="min-ℓ2")
    ax1.plot(idx, path["l1"], "D", mfc="none", color="#2a7f62", ms=6, label="min-ℓ1")
    stems = ax1.vlines(idx, 0, np.zeros(d), color="#1b4f8a", lw=2)
    (dots,) = ax1.plot(idx, np.zeros(d), "o", color="#1b4f8a", ms=3, label=r"argmin$_S\,\psi_\Delta$")
    ax1.axhline(0, color="k", lw=0.5)
    lo = min(path["l1"].min(), path["l2"].min(), path["thetas"].min())
    hi = max(path["l1"].max(), path["l2"].max(), path["thetas"].max())
    ax1.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
    ax1.set_xlabel("coordinate i", fontsize=10)
    # a full-height placeholder, so that tight_layout leaves room for the title's superscript
    title = ax1.set_title(_delta_title(-8.5, 9.999), fontsize=10)
    ax1.legend(fontsize=9, loc="upper right")
    l1s = np.abs(path["thetas"]).sum(axis=1)
    ax2.plot(path["log10_delta"], l1s, "-", color="#1b4f8a")
    ax2.axhline(np.abs(path["l1"]).sum(), color="#2a7f62", ls="--", lw=1, label="min ℓ1")
    ax2.axhline(np.abs(path["l2"]).sum(), color="#7f7f7f", ls=":", lw=1, label="‖min-ℓ2‖₁")
    (marker,) = ax2.plot([0.0], [0.0], "o", color="#c0392b")
    ax2.set_xlabel(r"$\log_{10}\Delta$", fontsize=10)
    ax2.set_ylabel(r"$\|\theta\|_1$", fontsize=10)
    ax2.legend(fontsize=9)
    for ax in (ax1, ax2):
        ax.tick_params(labelsize=9)
    fig.tight_layout()
    _freeze_ticks(fig)

    def update(log10_delta):
        th = delta_theta(float(log10_delta), path)
        stems.set_segments([np.array([[i, 0.0], [i, v]]) for i, v in zip(idx, th)])
        dots.set_ydata(th)
        marker.set_data([float(log10_delta)], [np.abs(th).sum()])
        title.set_text(_delta_title(log10_delta, np.abs(th).sum()))
    return update


def _delta_title(log10_delta, l1):
    """The Δ slider's title: Δ as a power of ten (mathtext, "Δ = 10⁻⁶·⁵"), and ‖θ‖₁."""
    return rf"$\Delta = 10^{{{float(log10_delta):g}}}$: ‖θ‖₁ = {float(l1):.3f}"


def draw_delta_frame(fig, log10_delta, path=None):
    """One frame: argmin_S ψ_Δ against the min-ℓ1 and min-ℓ2 interpolators and θ*; ‖·‖₁ against log Δ."""
    delta_view(fig, path)(log10_delta)


def delta_widget():
    """ipywidgets: a log Δ slider over the precomputed path (49 positions), artists moved in place."""
    from .. import widgets
    fig = widgets.agg_figure((8.6, 3.4))
    update = delta_view(fig)

    def draw(delta):
        update(np.round(np.log10(delta), 2))
        return fig
    return widgets.slider(draw, continuous_update=True,
                          readout=lambda delta: f"Δ = {delta:.3g}  (log₁₀ Δ = {np.log10(delta):+.2f})",
                          delta=widgets.log(1e-8, 1e4, 0.25, 1e-4, readout=False))


# ------------------------------------------------------------------------------- the λ slider
def lambda_view(fig, fig3_result=None, lams=SLIDER_LAMS):
    """Build the λ-slider figure (2×2) once; return ``update(lam)`` moving its artists (set_data).

    ``fig3_result`` (a :class:`Fig3Result`; default: Figure 3's runs on replication 0) is drawn in the
    fourth panel, with the slider's λ marked.
    """
    paths = {float(la): lambda_path(la) for la in lams}
    axes = fig.subplots(2, 2).ravel()
    p0 = paths[float(lams[0])]
    star = p0["theta_star"] != 0
    d = p0["theta"].shape[1]
    th_lines, de_lines = [], []
    for i in range(d):
        c = "#1b4f8a" if star[i] else "0.6"
        th_lines.append(axes[0].plot([], [], color=c, lw=1.2 if star[i] else 0.6)[0])
        de_lines.append(axes[1].plot([], [], color=c, lw=1.2 if star[i] else 0.6)[0])
    axes[0].axhline(p0["theta_star"].max(), color="k", ls="--", lw=0.8)
    t_max = max(float(p["t"][-1]) for p in paths.values())
    th_all = np.concatenate([p["theta"].ravel() for p in paths.values()])
    for ax in axes[:2]:
        ax.set_xscale("log")
        ax.set_xlim(1e-2, t_max)
        ax.set_xlabel("t", fontsize=10)
    axes[0].set_ylim(th_all.min() - 0.05, th_all.max() + 0.05)
    axes[0].set_title(r"$\theta_t$ (blue: support of $\theta^*$)", fontsize=10)
    axes[1].set_yscale("log")
    axes[1].set_ylim(1e-9, 1e-2)
    axes[1].set_title(r"$\Delta_t$ per coordinate", fontsize=10)
    # without momentum Δ_t is conserved: every coordinate's line is the same flat line at Δ_0
    conserved = axes[1].text(0.5, 0.3, "", transform=axes[1].transAxes, ha="center", va="center",
                             fontsize=9, color="#1b4f8a",
                             bbox=dict(boxstyle="round", fc="white", ec="0.7", alpha=0.9))
    idx = np.arange(d)
    stems = axes[2].vlines(idx, 0, np.zeros(d), color="#1b4f8a", lw=2)
    axes[2].plot(idx, p0["theta_star"], "x", color="#c0392b", ms=5, label=r"$\theta^*$")
    fin = np.array([p["theta_final"] for p in paths.values()])
    axes[2].set_ylim(min(0.0, fin.min()) - 0.03, fin.max() + 0.05)
    axes[2].axhline(0, color="k", lw=0.5)
    axes[2].set_xlabel("coordinate i", fontsize=10)
    axes[2].legend(fontsize=9)
    final_title = axes[2].set_title("", fontsize=10)
    res = run_fig3(Fig3Config(seeds=(0,))) if fig3_result is None else fig3_result
    _plot_fig3_axes(axes[3], res)
    (marker,) = axes[3].plot([np.nan], [np.nan], "*", ms=14, color="#f1c40f", mec="k", zorder=5)
    fig3_title = axes[3].title
    mean_test = np.exp(np.mean(np.log(res.test_loss), axis=0))
    for ax in fig.axes:
        ax.tick_params(labelsize=9)
    fig.tight_layout()
    _freeze_ticks(fig)

    def update(lam):
        p = paths[min(paths, key=lambda la: abs(la - float(lam)))]
        t = np.maximum(p["t"], 1e-2)
        for i in range(d):
            th_lines[i].set_data(t, p["theta"][:, i])
            de_lines[i].set_data(t, p["delta"][:, i])
        conserved.set_text(_conserved_note(p["delta"][0]) if float(lam) == 0 else "")
        stems.set_segments([np.array([[i, 0.0], [i, v]]) for i, v in zip(idx, p["theta_final"])])
        final_title.set_text(f"final θ (test loss {float(p['test_loss']):.2g})")
        j = int(np.argmin(np.abs(res.lams - float(lam))))
        marker.set_data([res.lams[j]], [mean_test[j]])
        fig3_title.set_text(f"λ = {float(lam):g} on Figure 3"
                            + (r" ($\Delta_t$ vanished)" if bool(p["vanished"]) else ""))
    return update


def _conserved_note(delta0):
    """The λ slider's note at λ = 0, where Δ_t never moves: all d lines lie on one another at Δ_0."""
    d0 = np.unique(np.round(np.log10(np.asarray(delta0, float)), 6))
    level = rf"$10^{{{d0[0]:g}}}$" if d0.size == 1 else "its $\\Delta_0$"
    return (f"λ = 0: gradient flow conserves $\\Delta_t$,\nso all {np.size(delta0)} lines lie on top of\n"
            f"each other, flat at $\\Delta_0$ = {level}")


def draw_lambda_frame(fig, lam, fig3_result=None):
    """One frame for MGF(λ): θ_t coordinates, Δ_t per coordinate, final θ vs θ*, and λ on Figure 3."""
    lambda_view(fig, fig3_result)(lam)


def lambda_widget(fig3_result=None):
    """ipywidgets: a λ slider over the 14 precomputed Figure 3 runs, artists moved in place."""
    from .. import widgets
    fig = widgets.agg_figure((9.0, 5.8))
    update = lambda_view(fig, fig3_result)

    def draw(lam):
        update(lam)
        return fig
    return widgets.slider(draw, continuous_update=True, readout=lambda lam: f"λ = {lam:g}",
                          lam=widgets.choice(SLIDER_LAMS, 0.1, readout=False))


# ------------------------------------------------------------------------------- the chapter's runs
def precompute(progress=True):
    """Compute (or load from the disk cache) every run chapter 3 shows, with a progress bar cleared when done.

    In a notebook the bar is a widget that ``clear_output`` removes once done, so no progress text stays in
    the stored outputs; later cells then read the cache and take seconds. The runs are
    :func:`mdln.experiments.sec3.chapter_runs`.
    """
    tasks = chapter_runs(progress=progress)
    it = tasks
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(tasks, desc="chapter 3", leave=False)
    for name, task in it:
        if progress:
            it.set_postfix_str(name)
        task()
    if progress:
        try:
            from IPython import get_ipython
            from IPython.display import clear_output
            if get_ipython() is not None:
                clear_output()
        except ImportError:  # pragma: no cover
            pass


FIGURES = {
    "fig3b": dict(fn=fig3b, config=SimplificationConfig, experiment=run_simplification,
                  plot=plot_simplification,
                  title="Theorem 1 in full, and where θ̃0 ≈ 0 holds: distance to argmin ψ_Δ∞ vs the dropped "
                        "term",
                  seconds={"test": 4, "book": 80, "paper": 400}),
    "fig3": dict(fn=fig3, config=Fig3Config, experiment=run_fig3, plot=plot_fig3,
                 title="MGF(λ) on a diagonal network: test loss and ‖Δ∞‖₂ against λ (μ = 1)",
                 seconds={"test": 3, "book": 50, "paper": 110}),
    "fig8": dict(fn=fig8, config=Fig8Config, experiment=run_fig8, plot=plot_fig8,
                 title="MGF(λ), μ = 1: test loss, ‖Δ∞‖₂ and ‖θ‖₁ against λ",
                 seconds={"test": 3, "book": 50, "paper": 110}),
    "fig9": dict(fn=fig9, config=Fig9Config, experiment=run_fig9, plot=plot_fig9,
                 title="MGF(λ) for data means μ ∈ {0, 0.5, 1, 1.5}: test loss, ‖Δ∞‖₂, ‖θ‖₁",
                 seconds={"test": 4, "book": 35, "paper": 450}),
}
