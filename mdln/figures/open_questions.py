"""Figures and page text of the open-questions chapter (Proposition 3, Section 4, Section 3.3).

``plot_prop3``, ``plot_smgd_thresholds`` and ``plot_lam_star`` draw an
:class:`~mdln.experiments.open_questions.OpenQuestionsResult`; ``texts(summary)`` turns a summary (the
live one or the one stored in a JSON file) into the strings a page glues, verdicts included, each
computed from a measurement and the threshold it states. Okabe–Ito colours, text ≥ 9 pt.
"""
from __future__ import annotations

import math

import numpy as np

from ..experiments.open_questions import KINDS, OpenQuestionsConfig, run
from ..text import html_table, sci

__all__ = ["plot_prop3", "plot_smgd_thresholds", "plot_lam_star", "plot_open_questions", "open_questions",
           "texts", "tables", "law_table", "BOUND_EXPONENTS", "OKABE_ITO", "FIGURES"]

# Proposition 3's bound n·α²/‖y‖² (Δ0 = α²1) as a law in log10 quantities (FEATURES): its exponents
BOUND_EXPONENTS = {"log α": 2.0, "log n": 1.0, "log ‖y‖": -2.0}
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def plot_prop3(result, axes=None):
    """λ_c against Proposition 3's bound (log–log, decade diagonals) and the histogram of log10(λ_c/bound)."""
    import matplotlib.pyplot as plt
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    ax, bx = axes
    found = [(p, m) for p, m in zip(result.problems, result.mgf) if m.found]
    for c, kind in zip(OKABE_ITO, KINDS):
        pts = np.array([(m.bound, m.lam_c) for p, m in found if p.kind == kind])
        if len(pts):
            ax.loglog(pts[:, 0], pts[:, 1], "o", color=c, label=kind, ms=5)
    lo = min(m.bound for _, m in found) / 3
    hi = max(m.lam_c for _, m in found) * 3
    xs = np.array([lo, hi])
    for k, ls in ((0, "-"), (2, "--"), (4, ":")):
        ax.loglog(xs, xs * 10 ** k, ls, color="0.5", lw=0.8, label=f"λ_c = 10^{k} · bound")
    ax.set_xlim(lo, hi)
    ax.set_ylim(min(m.lam_c for _, m in found) / 3, hi)
    ax.set_xlabel("Proposition 3's bound n·min Δ0/‖y‖²", fontsize=9)
    ax.set_ylabel("λ_c (first vanishing of Δ_t)", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    dec = [m.decades_loose for _, m in found]
    bx.hist(dec, bins=np.arange(0, math.ceil(max(dec)) + 0.5, 0.5), color=OKABE_ITO[0], edgecolor="w")
    bx.yaxis.get_major_locator().set_params(integer=True)
    bx.set_xlabel("log10(λ_c / bound)  [decades]", fontsize=9)
    bx.set_ylabel("data sets", fontsize=9)
    return axes


def plot_smgd_thresholds(result, ax=None):
    """λ_c(β, B) of SMGD over MGF's λ_c on the same data, one line per batch size (log scale)."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.6), constrained_layout=True)
    rows = result.smgd_table()
    sizes = sorted({b for _, b, _, _, _ in rows})
    for c, b in zip(OKABE_ITO, sizes):
        for j, i in enumerate(sorted({i for i, bb, _, _, _ in rows if bb == b})):
            pts = np.array([(beta, lc / lm) for ii, bb, beta, lc, lm in rows if ii == i and bb == b])
            full = b == result.problems[i].n
            ok = np.isfinite(pts[:, 1])
            ax.semilogy(pts[ok, 0], pts[ok, 1], "o-", color=c, lw=1, ms=4, alpha=0.8,
                        label=(f"B = {'n' if full else b}" if j == 0 else None))
    ax.axhline(1.0, color="0.3", lw=0.8, ls="--")
    ax.set_xlabel("β", fontsize=9)
    ax.set_ylabel("λ_c(β, B) SMGD / λ_c MGF", fontsize=9)
    ax.legend(fontsize=8)
    return ax


def plot_lam_star(result, axes=None):
    """‖Δ∞‖/‖Δ0‖ and the test loss against λ/λ_c, one line per data set; λ = λ_c dashed (Section 3.3)."""
    import matplotlib.pyplot as plt
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    ax, bx = axes
    for k, (p, m, tl) in enumerate(zip(result.problems, result.mgf, result.test_losses)):
        if not m.found:
            continue
        x = m.scan_lams / m.lam_c
        c = OKABE_ITO[KINDS.index(p.kind)]
        ax.loglog(x, m.scan_delta_norm / (math.sqrt(p.d) * p.alpha ** 2), "-", color=c, lw=1, alpha=0.8,
                  label=p.kind if k < 3 else None)
        bx.loglog(x, tl / tl[0], "-", color=c, lw=1, alpha=0.8)
        bx.plot(x[int(np.argmin(tl))], tl.min() / tl[0], "o", color=c, ms=4)
    for a in axes:
        a.axvline(1.0, color="0.3", lw=0.8, ls="--")
        a.set_xlabel("λ / λ_c", fontsize=9)
    ax.set_ylabel("‖Δ∞‖ / ‖Δ0‖", fontsize=9)
    bx.set_ylabel("test loss / test loss at the smallest λ", fontsize=9)
    ax.legend(fontsize=8)
    return axes


def plot_open_questions(result):
    """The chapter's three figures on one page (the CLI's ``open-questions.png``)."""
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(13, 7), constrained_layout=True)
    grid = fig.add_gridspec(2, 3)
    plot_prop3(result, axes=(fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])))
    plot_smgd_thresholds(result, ax=fig.add_subplot(grid[0, 2]))
    plot_lam_star(result, axes=(fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])))
    return fig


def open_questions(config=None, progress=False):
    """The open-questions study (:func:`mdln.experiments.open_questions.run`), serially."""
    return run(OpenQuestionsConfig.preset("book") if config is None else config, progress=progress)


def _f(x):
    return float(x) if not isinstance(x, str) else float(x)   # JSON stores inf/nan as strings


def _sig(x, digits=2):
    """A number at ``digits`` significant digits, in plain or scientific form."""
    x = _f(x)
    if not math.isfinite(x):
        return "none"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def texts(doc):
    """Page strings of a result document (``to_json(result)`` or the stored JSON): numbers at stable precision
    and the verdict sentences, each computed from a measurement and its stated threshold."""
    s = doc["summary"]
    per = doc["problems"]
    ratio_delta = [_f(p["lam_delta"]) / _f(p["lam_c"]) for p in per if math.isfinite(_f(p["lam_c"]))]
    out = dict(
        n_problems=str(s["n_problems"]), n_found=str(s["n_found"]), n_nonmonotone=str(s["n_nonmonotone"]),
        decades_median=f"{_f(s['decades_median']):.1f}", decades_min=f"{_f(s['decades_min']):.1f}",
        decades_max=f"{_f(s['decades_max']):.1f}", decades_q25=f"{_f(s['decades_q25']):.1f}",
        decades_q75=f"{_f(s['decades_q75']):.1f}", first_time_max=f"{_f(s['first_time_max']):.1f}",
        lam_star_over_c=_sig(s["lam_star_over_c_median"]), n_lam_star_past_c=str(s["n_lam_star_past_c"]),
        n_lam_star_eval=str(s["n_lam_star_eval"]), n_lam_delta_eq_star=str(s["n_lam_delta_eq_star"]),
        lam_delta_over_c=_sig(np.median(ratio_delta)) if ratio_delta else "none",
        horizon=f"{_f(doc['config']['horizon']):g}", mgf_rtol=sci(_f(doc["config"]["mgf_rtol"])),
        lam_step=f"{math.log10(_f(doc['config']['mgf_lams'][1]) / _f(doc['config']['mgf_lams'][0])):.2g}",
        batch_sizes="{" + ", ".join("n" if b is None else str(b) for b in doc["config"]["batch_sizes"]) + "}",
        betas="{" + ", ".join(f"{_f(b):g}" for b in doc["config"]["betas"]) + "}",
        n_smgd_problems=str(doc["config"]["n_smgd_problems"]),
        n_late=str(sum(_f(p["time"]) > _f(doc["config"]["horizon"])
                       for p in per[:doc["config"]["n_smgd_problems"]])),
        n_late_all=str(sum(_f(p["time"]) > _f(doc["config"]["horizon"]) for p in per)),
        n_lam_star_edge=str(sum(_f(p["lam_star"]) >= _f(doc["config"]["mgf_lams"][-1]) for p in per)),
        lam_max=_sig(doc["config"]["mgf_lams"][-1]),
    )
    if "r2_test" in s:
        r2, thr = _f(s["r2_test"]), _f(s["r2_threshold"])
        out.update(r2_test=f"{r2:.2f}", r2_bound_form=f"{_f(s['r2_test_bound_form']):.2f}",
                   r2_threshold=f"{thr:.1f}", law_n_train=str(s["law_n_train"]), law_n_test=str(s["law_n_test"]),
                   coef_alpha=f"{_f(s['law_coef']['log α']):+.2f}", coef_n=f"{_f(s['law_coef']['log n']):+.2f}",
                   coef_y=f"{_f(s['law_coef']['log ‖y‖']):+.2f}")
        gaps = {k: abs(_f(c) - BOUND_EXPONENTS.get(k, 0.0)) for k, c in s["law_coef"].items()}
        far = max(gaps, key=gaps.get)
        out.update(coef_furthest=far.removeprefix("log "), coef_furthest_gap=f"{gaps[far]:.1f}")
        if not s.get("law_enough", True):
            out["law_verdict"] = (f"too few data sets to judge a law: {s['law_n_train']} training data sets "
                                  f"for {len(s['law_coef']) + 1} parameters (we ask for two per parameter)")
        elif s["law_predicts"]:
            out["law_verdict"] = (f"a log-linear law in these quantities predicts λ_c: held-out R² = {r2:.2f} "
                                  f"≥ {thr:.1f}")
        else:
            out["law_verdict"] = f"no clear law: held-out R² = {r2:.2f} < {thr:.1f}"
        rb = _f(s["r2_test_bound_form"])
        out["bound_form_verdict"] = (f"the bound's form predicts λ_c up to a constant factor (held-out R² = {rb:.2f} "
                                     f"≥ {thr:.1f})" if rb >= thr else
                                     f"the bound's form does not predict λ_c, even up to a constant factor "
                                     f"(held-out R² = {rb:.2f} < {thr:.1f})")
    if "smgd_n_thresholds" in s:
        spread, lvl = _f(s["smgd_spread_median"]), _f(s["smgd_level_threshold"])
        out.update(smgd_n=str(s["smgd_n_thresholds"]), smgd_found=str(s["smgd_n_found"]),
                   smgd_spread_median=f"{spread:.2f}", smgd_spread_max=f"{_f(s['smgd_spread_max']):.2f}",
                   smgd_level=f"{lvl:.1f}", smgd_below=str(s["smgd_n_below_mgf"]),
                   smgd_compared=str(s["smgd_n_compared"]), smgd_min_ratio=_sig(s["smgd_min_ratio_to_mgf"]),
                   smgd_nonmonotone=str(s["smgd_n_nonmonotone"]),
                   smgd_shift=", ".join(f"B = {k}: {_f(v):+.2f}" for k, v in s["smgd_shift_by_b"].items()))
        out["smgd_verdict"] = (
            f"the SMGD threshold follows λ: the median spread of log10 λ_c over β is {spread:.2f} ≤ {lvl:.1f} "
            "decades" if s["smgd_follows_lam"] else
            f"the SMGD threshold does not follow λ: the median spread of log10 λ_c over β is {spread:.2f} "
            f"> {lvl:.1f} decades")
        shift1 = s["smgd_shift_by_b"].get("1")
        res = math.log10(1.0 + _f(doc["config"]["smgd_rtol"]))   # the bisection's resolution in decades
        if shift1 is None:
            out["smgd_b_verdict"] = "no B = 1 threshold to compare"
        elif abs(_f(shift1)) <= res:
            out["smgd_b_verdict"] = (f"batch size 1 and full batch change sign at the same λ within the "
                                     f"bisection's resolution ({res:.2f} decades)")
        else:
            out["smgd_b_verdict"] = (f"batch size 1 changes sign at {'smaller' if _f(shift1) < 0 else 'larger'} "
                                     f"λ than full batch, by a median factor {10 ** abs(_f(shift1)):.2f} "
                                     f"(resolution {res:.2f} decades)")
        out["smgd_none"] = str(s["smgd_n_thresholds"] - s["smgd_n_found"])
        run = s["smgd_smallest_run"]
        if run is None:
            out["smgd_smallest"] = "no SMGD run changed sign"
            out["smgd_smallest_decades"] = "none"
        else:
            prob = per[run["problem"]]
            out["smgd_smallest"] = (f"λ = {_sig(s['smgd_smallest_lam'], 3)} (data set {run['problem']}, "
                                    f"{prob['problem']['kind']}, n = {prob['problem']['n']}, "
                                    f"B = {run['batch_size']}, β = {_f(run['beta']):g}, "
                                    f"γ = {_sig(run['gamma'], 3)}, batch seed {run['seed']})")
            out["smgd_smallest_decades"] = f"{math.log10(_f(s['smgd_smallest_lam']) / _f(prob['bound'])):.1f}"
    return out


def _fidelity_table(rows, texts_by_fidelity):
    """One row per (label, text of t) in ``rows``, one column per fidelity, as HTML."""
    return html_table([[label, *(cell(t) for t in texts_by_fidelity.values())] for label, cell in rows],
                      ["", *texts_by_fidelity])


def tables(texts_by_fidelity):
    """The chapter's three tables (Proposition 3, SMGD thresholds, λ*), one column per fidelity, as HTML."""
    prop3 = [("data sets with λ_c on the grid", lambda t: f"{t['n_found']}/{t['n_problems']}"),
             ("median log10(λ_c/bound)", lambda t: t["decades_median"]),
             ("quartiles", lambda t: f"{t['decades_q25']} to {t['decades_q75']}"),
             ("range", lambda t: f"{t['decades_min']} to {t['decades_max']}"),
             ("non-monotone scans", lambda t: t["n_nonmonotone"])]
    smgd = [("(data set, B, β) with a threshold", lambda t: f"{t['smgd_found']}/{t['smgd_n']}"),
            ("median spread of log10 λ_c over β", lambda t: t["smgd_spread_median"]),
            ("largest spread", lambda t: t["smgd_spread_max"]),
            ("median log10 λ_c(B)/λ_c(n)", lambda t: t["smgd_shift"]),
            ("below MGF's λ_c", lambda t: f"{t['smgd_below']}/{t['smgd_compared']}"),
            ("smallest ratio to MGF's λ_c", lambda t: t["smgd_min_ratio"]),
            ("non-monotone scans", lambda t: t["smgd_nonmonotone"])]
    star = [("λ* past λ_c", lambda t: f"{t['n_lam_star_past_c']}/{t['n_lam_star_eval']}"),
            ("median λ*/λ_c", lambda t: t["lam_star_over_c"]),
            ("λ* = λ_Δ", lambda t: t["n_lam_delta_eq_star"]),
            ("λ* at the grid's top", lambda t: t["n_lam_star_edge"]),
            ("median λ_Δ/λ_c", lambda t: t["lam_delta_over_c"])]
    return tuple(_fidelity_table(rows, texts_by_fidelity) for rows in (prop3, smgd, star))


def _exponent(v):
    return "0" if v == 0 else f"{v:+g}"


def law_table(doc):
    """The fitted exponents of the log10 λ_c law beside Proposition 3's, as HTML."""
    coef = doc["summary"].get("law_coef", {})
    return html_table([[k, f"{_f(c):+.2f}", _exponent(BOUND_EXPONENTS.get(k, 0.0))] for k, c in coef.items()],
                      ["log10 quantity", "fitted exponent", "exponent in the bound n·α²/‖y‖²"])


FIGURES = {"open-questions": dict(
    fn=open_questions, config=OpenQuestionsConfig, experiment=open_questions, plot=plot_open_questions,
    title="Open questions: λ_c against Proposition 3, SMGD's thresholds, where λ* sits (chapter 6)",
    seconds={"test": 15, "book": 80, "paper": 2200})}
