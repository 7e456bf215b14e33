"""Theorem 2 in full against the simplification, drawn: the distance maps and the dropped-term scatter.

The checks are computed by :mod:`mdln.experiments.theorems`; these functions only draw a
:class:`~mdln.experiments.theorems.Theorem2Check` (Section 4, Appendix F.2.2).
"""
from __future__ import annotations

import numpy as np

from .plotting import result_heatmap

__all__ = ["plot_distance_heatmaps", "plot_dropped_scatter", "check_glue", "tolerance_html", "tolerance_glue",
           "rule_html", "rule_glue", "lemma2_half_dropped_gaps", "lemma_forms_glue", "holdout_glue"]


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


# ------------------------------------------------------------------------------ the chapter's prose
_TAGS = ("all", "calm", "crossed")


def check_glue(check, prefix="ch4_"):
    """Both distances of a Theorem 2 check in prose: median and worst, all / calm / crossed runs.

    The run count is glued for all runs only: the calm / crossed counts are the Figure 4 result's own
    (``Fig4Result.glue_strings``), glued under the same names in chapter 4.
    """
    from ..text import sci
    sm = check.summary()
    out = {}
    for name, short in (("distance_full", "full"), ("distance", "simp")):
        for tag in _TAGS:
            out[f"{short}_max_{tag}"] = sci(sm[f"{name}_max_{tag}"])
            out[f"{short}_med_{tag}"] = sci(sm[f"{name}_median_{tag}"])
    out["n_all"] = str(sm["n_all"])
    for tag in _TAGS:
        out[f"simp_ok_{tag}"] = str(sm["simplified_below_1pct_" + tag])
    return {prefix + k: v for k, v in out.items()}


def tolerance_html(study):
    """The tolerance study as HTML: full-theorem distance per tolerance, simplified at the tightest."""
    from ..status import Status
    from ..text import html_table
    head = ["γ", "β", "B", "sign change"] + [f"full, tol {t:.0e}" for t in study.tols] + ["simplified"]
    rows = []
    for i, (g, b, B) in enumerate(study.runs):
        cells = [f"{v:.0e}" + ("" if study.status[i, j] == Status.CONVERGED else " (capped)")
                 for j, v in enumerate(study.distance_full[i])]
        rows.append([f"{g:g}", f"{b:g}", "n" if B is None else B, "yes" if study.crossed[i].any() else "no",
                     *cells, f"{study.distance[i, -1]:.1e}"])
    return html_table(rows, head)


def tolerance_glue(study, prefix="ch4_"):
    """First and last tolerance, the worst full distance at each, the worst simplified distance."""
    from ..status import Status
    from ..text import sci
    ok = study.status[:, -1] == Status.CONVERGED
    out = {"tol_first": sci(study.tols[0], 1), "tol_last": sci(study.tols[-1], 1),
           "tol_full_worst_first": sci(np.nanmax(study.distance_full[:, 0])),
           "tol_full_worst_last": sci(np.nanmax(study.distance_full[ok, -1])),
           "tol_simp_worst": sci(np.nanmax(study.distance[:, -1]))}
    return {prefix + k: v for k, v in out.items()}


_MEASURES = {"dropped": "max arcsinh(2θ̃0/Δ∞)", "ratio": "max θ̃0/Δ∞", "shift": "first-order shift"}


def rule_html(study):
    """The simplification rule per dropped-term measure as HTML (threshold, runs below / above, Spearman)."""
    from ..text import html_table
    rows = []
    for m, label in _MEASURES.items():
        r = study.rule(m)
        rows.append([label, f"{r['threshold']:.2g}", r["below"], f"{r['below_max_dist']:.2g}", r["above"],
                     r["above_over_level"], f"{r['spearman_dist']:.2f}"])
    return html_table(rows, ["measure", "threshold", "runs below", "worst distance below", "runs above",
                             "above and > 1%", "Spearman"])


def rule_glue(study, prefix="ch4_"):
    """The dropped-term study in prose: data sets, worst distances, the rule for each measure."""
    from ..text import sci
    sm = study.summary()
    c = study.check
    calm = c.converged & ~c.crossed
    out = {"dt_datasets": str(sm["datasets"]), "dt_random": str(sm["random_support"]),
           "dt_runs": str(sm["converged"]), "dt_worst_first": sci(sm["worst_first"]),
           "dt_worst_random": sci(sm["worst_random"]), "dt_worst_full": sci(sm["worst_full"]),
           "dt_calm": str(int(calm.sum())), "dt_calm_max": sci(np.max(c.distance[calm]))}
    for m in _MEASURES:
        r = study.rule(m)
        out.update({f"rule_{m}_thr": sci(r["threshold"]), f"rule_{m}_below": str(r["below"]),
                    f"rule_{m}_above": str(r["above"]), f"rule_{m}_over": str(r["above_over_level"]),
                    f"rule_{m}_rho": f"{r['spearman_dist']:.2f}"})
    return {prefix + k: v for k, v in out.items()}


def lemma2_half_dropped_gaps(forms):
    """Theorem 2's Δ_K gap (finite-K boundary term kept) with Lemma 2's sums lacking their β·r(1/z) half,
    on each sign-changing SMGD run of a LemmaFormsResult: a deliberate error the Δ law must detect."""
    from ..lemmas import lemma2_sums, momentum_gd_iterates
    from ..smgd import _PyBatches
    cfg, gaps = forms.config, []
    for k in np.flatnonzero(forms.mgd_crossed):
        g, b, seed = float(forms.mgd_gamma[k]), float(forms.mgd_beta[k]), int(forms.mgd_seed[k])
        ds = cfg.data.dataset(seed)
        n = ds.X.shape[0]
        batch = n if int(forms.mgd_batch[k]) == 0 else int(forms.mgd_batch[k])
        stream = None if batch == n else _PyBatches(n, batch, False, seed).batch
        wp, wm = momentum_gd_iterates(ds.X, ds.y, g, b, int(forms.mgd_steps[k]), alpha=cfg.data.alpha,
                                      batches=stream)
        half = [s / (1 - b) for s in lemma2_sums(wp, wm, 0.0)]       # Σ r(z)/(1−β), no β·r(1/z)
        bnd = b / (1 - b) * ((wp[-2] - wp[-1]) / wp[-1] + (wm[-2] - wm[-1]) / wm[-1])
        pred = np.abs(wp[0] * wm[0]) * np.exp(-(half[0] + half[1] - bnd))
        end = np.abs(wp[-1] * wm[-1])
        gaps.append(float(np.max(np.abs(pred - end)) / np.max(end)))     # ∞-norm relative, as lemma_forms
    return np.array(gaps)


def lemma_forms_glue(forms, half_gaps, prefix="ch4_"):
    """Lemma 2's r(z) sums against the telescoped ones and Theorem 2's Δ_K from them, as prose bounds."""
    from ..text import below, sci
    m = forms.measures()
    out = {"lf_n_mgd": str(m["n_mgd"]), "lf_n_mgd_crossed": str(m["n_mgd_crossed"]),
           "lf_steps": f"{int(forms.config.mgd_steps):,}",
           "lf_rz_gap": below(m["mgd_gap_crossed"]["worst"], 2),
           "lf_delta_gap": below(m["mgd_delta_gap_crossed"]["worst"], 2),
           "lf_half_min": sci(np.min(half_gaps)), "lf_half_runs": str(len(half_gaps))}
    return {prefix + k: v for k, v in out.items()}


def holdout_glue(result, paper_summary=None, prefix="ch4_"):
    """The held-out rule for MGD and SMGD, ``result`` computed and the paper fidelity's summary read
    (default: ``book/holdout_paper.json``), for the prose."""
    import json
    from ..claims import PAPER_CLAIMS
    from ..text import sci
    if paper_summary is None:
        paper_summary = json.loads((PAPER_CLAIMS.parent / "holdout_paper.json").read_text())["summary"]
    out = {}
    for tag, s in (("book", result.summary()), ("paper", paper_summary)):
        out[f"ho_{tag}_sets"] = str(s["n_heldout_sets"])
        for alg in ("mgd", "smgd"):
            a = f"ho_{tag}_{alg}_"
            out.update({a + "thr": sci(s[f"{alg}_threshold"]), a + "says": str(s[f"{alg}_n_says_within"]),
                        a + "wrong": str(s[f"{alg}_n_wrong"]),
                        a + "first_says": str(s[f"{alg}_first_clause_n_says_within"]),
                        a + "first_wrong": str(s[f"{alg}_first_clause_n_wrong"]),
                        a + "first_rate": f"{100 * s[f'{alg}_first_clause_rate']:.0f}%",
                        a + "first_worst": f"{100 * s[f'{alg}_first_clause_worst_distance']:.0f}%"})
    return {prefix + k: v for k, v in out.items()}
