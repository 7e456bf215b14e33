"""Theorem 2 in full against the paper's simplification, over families of MGD runs (issue 13).

Section 4, Theorem 2 (proof in Appendix D.1): SMGD (9) converges to

    θ^MGD = argmin_{θ ∈ S} D_{ψ_Δ∞}(θ, θ̃0),   θ̃0 = ¼(w²₊,₀ e^{−2S₊} − w²₋,₀ e^{−2S₋}),

with Δ∞ = Δ0 ⊙ exp(−(S₊ + S₋)) and Lemma 2's sums S±.  The paper then drops θ̃0 (Eq. 10; Appendix
F.2.2, "insignificance of θ̃0") and predicts argmin_S ψ_Δ∞.  For every run this module forms both
predictions,

* full:        ``implicit_solution(X, y, Δ∞, theta0=θ̃0)``  (Theorem 2 as stated),
* simplified:  ``implicit_solution(X, y, Δ∞)``              (Eq. 10, Appendix F.2.2),

their normalised distances ‖θ^MGD − θ_pred‖₂/‖θ_pred‖₂ (Appendix F.2.1), and three measures of what
the simplification drops: ``dropped_term`` = max_i |arcsinh(2θ̃0,i/Δ∞,i)| (the shift of the KKT
condition, shared with chapter 3), max_i |θ̃0,i|/Δ∞,i, and ``shift``, the first-order displacement of
the solution that the dropped term causes (:func:`linear_shift`).

Δ∞ is the balancedness Δ_K at the stopping step K and θ̃0 is formed from S± summed up to K (the runs'
own ``S_plus``/``S_minus``), so the full prediction is exact up to the stopping tolerance (and the
momentum boundary factor): the full-theorem distance goes to 0 with the train-loss tolerance
(:func:`tolerance_study`), while the simplified one levels off at a run-dependent value
(:func:`dropped_term_study` maps where it is below 1%).

Layer: this module sits in the *upper* layer, beside :mod:`mdln.figures`: it checks Theorem 2 over the
run families the figures define (``check_fig4`` takes a :class:`mdln.figures.sec4.Fig4Config`, the plots
use :func:`mdln.figures.plotting.result_heatmap`). No core module imports it. The mathematics it
applies lives in the core: θ̃0 in :func:`mdln.implicit.perturbed_initialisation`, both predictions and the
first-order shift in :func:`mdln.implicit.theorem2_predictions` and :func:`mdln.implicit.linear_shift`
(re-exported here), the data and the grid in :mod:`mdln.data` and :mod:`mdln.grid`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ._checks import check_data, check_int, check_positive
from .cache import cached_arrays
from .data import sparse_regression, stacked_regressions
from .figures.plotting import result_heatmap
from .figures.sec4 import Fig4Config, Fig4Result, StochasticConfig
from .grid import CellStatus, linear_beta_axes
from .dln import perturbed_initialisation
from .status import Status
from .implicit import _RESID, kkt_shift, linear_shift, theorem2_predictions

__all__ = ["theta_tilde0", "theorem2_predictions", "linear_shift", "Theorem2Check", "check_runs",
           "check_run", "check_sweep", "check_fig4", "check_stochastic", "ToleranceStudy",
           "tolerance_study", "DroppedTermStudy", "dropped_term_study", "simplification_rule", "plot_distance_heatmaps",
           "plot_dropped_scatter", "TOLERANCE_RUNS"]



def theta_tilde0(S_plus, S_minus, alpha):
    """θ̃0 = ¼(w²₊,₀ e^{−2S₊} − w²₋,₀ e^{−2S₋}) with w±,0 = α (Theorem 2); any leading shape."""
    with np.errstate(over="ignore", invalid="ignore"):
        return perturbed_initialisation(alpha, alpha, S_plus, S_minus)


def _one(X, y, theta, delta, tt0):
    """Both distances, the three dropped-term measures, both residuals for one run (NaN if undefined)."""
    out = np.full(8, np.nan)
    with np.errstate(all="ignore"):
        ok = np.all(np.isfinite(theta)) and np.all(np.isfinite(tt0)) and np.all(delta > 0) \
            and np.all(np.isfinite(delta))
        if not ok:
            return out
        out[2] = float(np.max(np.abs(kkt_shift(tt0, delta))))
        out[3] = float(np.max(np.abs(tt0) / delta))
        try:
            full, simp = theorem2_predictions(X, y, delta, tt0, theta_hint=theta)
        except (ValueError, np.linalg.LinAlgError):   # solver failure: left NaN, counted in summary()
            return out
        out[5], out[6] = np.linalg.norm(X @ full - y), np.linalg.norm(X @ simp - y)
        if out[5] <= _RESID:
            out[0] = np.linalg.norm(theta - full) / np.linalg.norm(full)
        if out[6] <= _RESID:
            out[1] = np.linalg.norm(theta - simp) / np.linalg.norm(simp)
            out[4] = linear_shift(X, simp, delta, tt0)
            if out[5] <= _RESID:
                out[7] = np.linalg.norm(full - simp) / np.linalg.norm(simp)
    return out


@dataclass(frozen=True)
class Theorem2Check(CellStatus):
    """Theorem 2 (full) and Eq. 10 (simplified) per run; arrays share the runs' shape, e.g. (G, Bt, R).

    ``dist_full``/``dist_simplified``: ‖θ^MGD − θ_pred‖/‖θ_pred‖; ``dropped``: max_i |arcsinh(2θ̃0/Δ∞)|;
    ``ratio``: max_i |θ̃0,i|/Δ∞,i; ``shift``: :func:`linear_shift`; ``resid_*``: ‖Xθ_pred − y‖ of the
    predictions (a distance is NaN where its residual exceeds 1e-9); ``gap``: ‖θ_full − θ_simplified‖ /
    ‖θ_simplified‖, the error of the simplification itself, free of the stopping tolerance; ``status``: 0 converged, 1 budget
    ran out, 2 diverged (as in :mod:`mdln.smgd`). ``gammas``/``betas`` are set for grids.
    """

    family: str
    dist_full: np.ndarray
    dist_simplified: np.ndarray
    dropped: np.ndarray
    ratio: np.ndarray
    shift: np.ndarray
    resid_full: np.ndarray
    resid_simplified: np.ndarray
    gap: np.ndarray
    theta_tilde0_max: np.ndarray
    train_loss: np.ndarray
    crossed: np.ndarray
    status: np.ndarray
    tol: float
    gammas: np.ndarray | None = None
    betas: np.ndarray | None = None

    # heatmap interface of mdln.figures.plotting.result_heatmap: per-cell masks from CellStatus (mdln/grid.py)
    @property
    def converged(self):
        """Runs that reached the train-loss tolerance and whose two predictions exist."""
        return (self.status == Status.CONVERGED) & np.isfinite(self.dist_full) & np.isfinite(self.dist_simplified)

    def cell_worst(self, name):
        """(G, Bt) worst (max over replications) of a per-run field; NaN unless every run converged."""
        v = np.where(self.converged, getattr(self, name), np.nan)
        with np.errstate(invalid="ignore"):
            m = np.max(v, axis=-1)
        return np.where(self.cell_converged, m, np.nan)

    def summary(self):
        """Worst/median of both distances over converged runs, all / without / with sign changes."""
        conv = self.converged
        out = dict(family=self.family, runs=int(self.status.size),
                   converged=int(np.sum(self.status == Status.CONVERGED)),
                   step_cap=int(np.sum(self.status == Status.STEP_CAP)),
                   diverged=int(np.sum(self.status == Status.DIVERGED)),
                   solver_failed=int(np.sum((self.status == Status.CONVERGED) & ~conv)), tol=float(self.tol),
                   train_loss_max=float(np.max(self.train_loss[conv])) if conv.any() else float("nan"))
        for tag, sel in (("all", conv), ("calm", conv & ~self.crossed), ("crossed", conv & self.crossed)):
            out[f"n_{tag}"] = int(sel.sum())
            for name in ("dist_full", "dist_simplified"):
                v = getattr(self, name)[sel]
                out[f"{name}_max_{tag}"] = float(v.max()) if v.size else float("nan")
                out[f"{name}_median_{tag}"] = float(np.median(v)) if v.size else float("nan")
            out[f"simplified_below_1pct_{tag}"] = int(np.sum(self.dist_simplified[sel] < 0.01))
        return out

    def arrays(self):
        """Per-run arrays as a dict."""
        return {f.name: np.asarray(getattr(self, f.name)) for f in dataclasses.fields(self)
                if f.name not in ("family", "tol") and getattr(self, f.name) is not None}


def check_runs(X, y, theta, delta_inf, S_plus, S_minus, alpha, status, crossed, train_loss, tol,
               family="", gammas=None, betas=None, cache=True):
    """Theorem2Check for stacked runs: theta etc. of shape (..., R, d), X (R, n, d) or (n, d)."""
    theta, delta_inf = np.asarray(theta, float), np.asarray(delta_inf, float)
    S_plus, S_minus = np.asarray(S_plus, float), np.asarray(S_minus, float)
    X, y = np.asarray(X, float), np.asarray(y, float)
    if X.ndim == 2:
        check_data(X, y)
        X, y = X[None], y[None]
    lead = theta.shape[:-1]
    R = X.shape[0]
    if lead[-1:] != (R,) and R != 1:
        raise ValueError(f"theta must have shape (..., R={R}, d), got {theta.shape}")
    status = np.asarray(status)
    tt0 = theta_tilde0(S_plus, S_minus, alpha)

    def compute():
        res = np.full(lead + (8,), np.nan)
        for idx in np.ndindex(*lead):
            if status[idx] == Status.DIVERGED:
                continue
            r = idx[-1] if R > 1 else 0
            res[idx] = _one(X[r], y[r], theta[idx], delta_inf[idx], tt0[idx])
        return dict(res=res)
    params = dict(X=X, y=y, theta=theta, delta=delta_inf, sp=S_plus, sm=S_minus, alpha=float(alpha),
                  status=status.astype(np.int64))
    res = cached_arrays("thm2-check", params, compute, use_cache=cache)["res"]
    with np.errstate(invalid="ignore"):
        ttm = np.max(np.abs(tt0), axis=-1)
    return Theorem2Check(family=family, dist_full=res[..., 0], dist_simplified=res[..., 1], dropped=res[..., 2],
                         ratio=res[..., 3], shift=res[..., 4], resid_full=res[..., 5],
                         resid_simplified=res[..., 6], gap=res[..., 7], theta_tilde0_max=ttm,
                         train_loss=np.asarray(train_loss, float), crossed=np.asarray(crossed, bool),
                         status=status.astype(np.int64), tol=float(tol), gammas=gammas, betas=betas)


def check_run(res, X, y, family="single run", tol=float("nan")):
    """Theorem2Check (0-d arrays) for one :class:`mdln.MGDResult` of ``train_mgd(X, y, ..., tol=tol)``."""
    X, y = check_data(X, y)
    st = int(res.code)
    c = check_runs(X, y, res.theta[None], res.delta_inf[None], res.S_plus[None], res.S_minus[None], res.alpha,
                   np.array([st]), np.array([res.crossed]), np.array([res.train_loss]), tol, family=family,
                   cache=False)
    return dataclasses.replace(c, **{k: v[0] for k, v in c.arrays().items()
                                     if k not in ("gammas", "betas")})


def check_sweep(sweep, X, y, tol, family="sweep", cache=True):
    """Theorem2Check of shape (G, Bt, R) for a :class:`mdln.SweepResult` run on X (R, n, d), y (R, n)."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    if X.ndim == 2:
        X, y = X[None], y[None]
    return check_runs(X, y, sweep.theta, sweep.delta_inf, sweep.S_plus, sweep.S_minus, sweep.alpha,
                      sweep.status, sweep.crossed, sweep.train_loss, tol, family=family,
                      gammas=sweep.gammas, betas=sweep.betas, cache=cache)


def _fig4_sweep(cfg, batch_size=None, seeds=0, max_steps=None, replace=False):
    """The (cached) sweep behind fig4(cfg) (or a stochastic variant) and its stacked data."""
    from .smgd import mgd_sweep
    _, X, y = stacked_regressions(cfg.seeds, n=cfg.n, d=cfg.d, s=cfg.s, mu=cfg.mu, sigma=cfg.sigma)
    gammas, betas = linear_beta_axes(cfg.gamma_min, cfg.gamma_max, cfg.n_gamma, cfg.beta_max, cfg.n_beta)
    sw = mgd_sweep(X, y, gammas, betas, seeds=seeds, batch_size=batch_size, replace=replace, alpha=cfg.alpha,
                   max_steps=cfg.max_epochs if max_steps is None else max_steps, tol=cfg.tol)
    return sw, X, y


def check_fig4(config=None, family=None):
    """Theorem2Check over the Figure 4 grid: ``config`` a Fig4Config, a Fig4Result or a fidelity name."""
    if config is None or isinstance(config, str):
        config = Fig4Config.preset(config or "book")
    elif isinstance(config, Fig4Result):
        config = config.config
    sw, X, y = _fig4_sweep(config)
    fam = family or f"Figure 4 grid ({config.n_gamma}×{config.n_beta}×{len(config.seeds)})"
    return check_sweep(sw, X, y, config.tol, family=fam)


def check_stochastic(config=None):
    """{B: Theorem2Check} for the stochastic-batch sweeps of :func:`mdln.figures.sec4.stochastic_batches`."""
    cfg = StochasticConfig() if config is None else config
    c4 = cfg.fig4
    out = {}
    for B in cfg.batch_sizes:
        spe = -(-c4.n // B)
        sw, X, y = _fig4_sweep(c4, batch_size=B, seeds=list(range(len(c4.seeds))), replace=cfg.replace,
                               max_steps=c4.max_epochs * spe)
        out[B] = check_sweep(sw, X, y, c4.tol, family=f"stochastic B = {B}" if B < c4.n else "full batch")
    return out


# ------------------------------------------------------------------------------------ tolerance
TOLERANCE_RUNS = ((0.01, 0.0, None), (0.1, 0.0, None), (0.05, 0.5, None), (0.1, 0.8, None), (0.02, 0.9, None),
                  (0.05, 0.5, 5), (0.01, 0.5, 1))
"""(γ, β, B) of the tolerance study on seed 4242, (n, d, s) = (20, 30, 5), μ = 1 (issue 13)."""


@dataclass(frozen=True)
class ToleranceStudy:
    """Both distances per run (rows) and train-loss tolerance (columns)."""

    runs: tuple
    tols: np.ndarray
    dist_full: np.ndarray
    dist_simplified: np.ndarray
    crossed: np.ndarray
    steps: np.ndarray
    status: np.ndarray
    dropped: np.ndarray

    def markdown(self):
        """The table as Markdown: one row per run, full / simplified distance per tolerance."""
        head = "| γ | β | B | sign change | " + " | ".join(f"full, tol {t:.0e}" for t in self.tols) + \
            " | simplified (tightest tol) |"
        lines = [head, "|" + "---|" * (len(self.tols) + 5)]
        for i, (g, b, B) in enumerate(self.runs):
            cells = [f"{v:.1e}" if self.status[i, j] == Status.CONVERGED else f"({v:.1e}, not converged)"
                     for j, v in enumerate(self.dist_full[i])]
            lines.append(f"| {g:g} | {b:g} | {'n' if B is None else B} | {'yes' if self.crossed[i].any() else 'no'} | "
                         + " | ".join(cells) + f" | {self.dist_simplified[i, -1]:.1e} |")
        return "\n".join(lines)


def tolerance_study(runs=TOLERANCE_RUNS, tols=(1e-8, 1e-12, 1e-16), seed=4242, n=20, d=30, s=5, mu=1.0,
                    alpha=0.01, max_steps=2 * 10 ** 7, cache=True):
    """Theorem 2 (full) and Eq. 10 distances of ``train_mgd`` runs stopped at each train-loss tolerance."""
    from .smgd import train_mgd
    tols = np.array([check_positive(t, "tols") for t in tols])
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    ds = sparse_regression(n=n, d=d, s=s, mu=mu, seed=seed)

    def compute():
        sh = (len(runs), len(tols))
        out = dict(full=np.full(sh, np.nan), simp=np.full(sh, np.nan), crossed=np.zeros(sh, bool),
                   steps=np.zeros(sh, np.int64), status=np.zeros(sh, np.int64), dropped=np.full(sh, np.nan))
        for i, (g, b, B) in enumerate(runs):
            for j, t in enumerate(tols):
                r = train_mgd(ds.X, ds.y, g, b, alpha=alpha, batch_size=B, tol=t, max_steps=max_steps)
                c = check_run(r, ds.X, ds.y, tol=t)
                out["full"][i, j], out["simp"][i, j] = c.dist_full, c.dist_simplified
                out["crossed"][i, j], out["steps"][i, j] = r.crossed, r.steps
                out["status"][i, j], out["dropped"][i, j] = c.status, c.dropped
        return out
    params = dict(runs=[[g, b, -1 if B is None else B] for g, b, B in runs], tols=tols, seed=seed, n=n, d=d,
                  s=s, mu=mu, alpha=alpha, max_steps=max_steps)
    a = cached_arrays("thm2-tol", params, compute, use_cache=cache)
    return ToleranceStudy(runs=tuple(runs), tols=tols, dist_full=a["full"], dist_simplified=a["simp"],
                          crossed=a["crossed"], steps=a["steps"], status=a["status"], dropped=a["dropped"])


# ------------------------------------------------------------------------------- dropped term map
@dataclass(frozen=True)
class DroppedTermStudy:
    """Simplified-form distance against the dropped-term measures over many data sets and (γ, β)."""

    check: Theorem2Check
    support: np.ndarray       # (R,) "first" / "random"
    seeds: np.ndarray         # (R,)

    def rule(self, measure="dropped", level=0.01):
        """:func:`simplification_rule` on this study's runs."""
        return simplification_rule([self.check], measure, level)

    def summary(self):
        """The rule for each measure and the worst simplified distance (random vs first support)."""
        c = self.check
        ok = c.converged
        rnd = np.broadcast_to(self.support == "random", c.status.shape)
        out = dict(runs=int(c.status.size), converged=int(ok.sum()), datasets=int(self.seeds.size),
                   random_support=int(np.sum(self.support == "random")),
                   worst_first=float(np.max(c.dist_simplified[ok & ~rnd])),
                   worst_random=float(np.max(c.dist_simplified[ok & rnd])),
                   worst_full=float(np.max(c.dist_full[ok])))
        for m in ("dropped", "ratio", "shift"):
            out.update({f"{m}_{k}": v for k, v in self.rule(m).items() if k != "measure"})
        return out


def simplification_rule(checks, measure="dropped", level=0.01):
    """Largest m* such that every converged run with measure < m* has simplified distance < ``level``.

    Also: how many runs lie below / above m*, how many above exceed ``level``, the Spearman rank
    correlation of the measure with the simplified distance and with ``gap`` (the simplification's own
    error), and the spread (std of log₁₀(gap/measure)): near 0 means the runs fall on one curve.
    """
    m = np.concatenate([np.ravel(getattr(c, measure)[c.converged]) for c in checks])
    dist = np.concatenate([np.ravel(c.dist_simplified[c.converged]) for c in checks])
    gap = np.concatenate([np.ravel(c.gap[c.converged]) for c in checks])
    ok = np.isfinite(m) & np.isfinite(dist)
    m, dist, gap = m[ok], dist[ok], gap[ok]
    bad = dist >= level
    thr = float(np.min(m[bad])) if bad.any() else float("inf")
    below = m < thr
    g = np.isfinite(gap)
    return dict(measure=measure, level=level, threshold=thr, runs=int(m.size), below=int(below.sum()),
                below_max_dist=float(dist[below].max()) if below.any() else float("nan"),
                above=int((~below).sum()), above_over_level=int(np.sum(dist[~below] >= level)),
                spearman_dist=_spearman(m, dist), spearman_gap=_spearman(m[g], gap[g]),
                log_ratio_spread=_spread(m[g], gap[g]))


def _spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def _spread(m, dist):
    """Spread (std of log₁₀ dist − log₁₀ m) among runs with m > 0: 0 means one straight curve."""
    ok = (m > 0) & (dist > 0)
    return float(np.std(np.log10(dist[ok]) - np.log10(m[ok])))


def dropped_term_study(seeds=tuple(range(20)), random_from=10, n=20, d=30, s=5, mu=1.0, alpha=0.01,
                       n_gamma=6, n_beta=6, gamma_min=1e-3, gamma_max=10 ** -0.5, beta_max=0.95,
                       max_epochs=200_000, tol=1e-8):
    """MGD over a (γ, β) grid on many data sets (seeds ≥ ``random_from`` get a random support for θ*)."""
    from .smgd import mgd_sweep
    seeds = np.asarray(seeds, dtype=np.int64)
    support = np.array(["random" if sd >= random_from else "first" for sd in seeds])
    dss = [sparse_regression(n=n, d=d, s=s, mu=mu, seed=int(sd), support=str(sp)) for sd, sp in zip(seeds, support)]
    X, y = np.stack([q.X for q in dss]), np.stack([q.y for q in dss])
    gammas, betas = linear_beta_axes(gamma_min, gamma_max, n_gamma, beta_max, n_beta)
    sw = mgd_sweep(X, y, gammas, betas, seeds=0, alpha=alpha, max_steps=max_epochs, tol=tol)
    c = check_sweep(sw, X, y, tol, family=f"{len(seeds)} data sets × {n_gamma}×{n_beta} grid")
    return DroppedTermStudy(check=c, support=support, seeds=seeds)


# ------------------------------------------------------------------------------------- plotting
def plot_distance_heatmaps(check):
    """Two heatmaps (β on x, γ on y): worst log₁₀ distance to the full (Theorem 2) and to the simplified prediction."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), constrained_layout=True)
    vals = [np.log10(check.cell_worst("dist_full")), np.log10(check.cell_worst("dist_simplified"))]
    lo = np.nanmin([np.nanmin(v) for v in vals])
    hi = np.nanmax([np.nanmax(v) for v in vals])
    titles = ["full Theorem 2: log$_{10}$ distance", r"simplified ($\tilde\theta_0 = 0$): log$_{10}$ distance"]
    for ax, v, t in zip(axes, vals, titles):
        ax.set_facecolor("0.85")
        result_heatmap(ax, check, v, t, cmap="magma", vmin=lo, vmax=hi)
        ax.title.set_fontsize(10)
    handles = [Patch(facecolor="0.85", label="not every run converged"),
               Patch(facecolor="0.8", hatch="///", edgecolor="0.3", label="diverged")]
    handles += axes[0].get_legend_handles_labels()[0][:1]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=9)
    return fig


def plot_dropped_scatter(checks, measure="dropped", level=0.01, y="dist_simplified"):
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
    ax.set_ylabel("distance of θ$^{MGD}$ to argmin$_S\\,\\psi_{\\Delta_\\infty}$" if y == "dist_simplified"
                  else "distance between the two predictions")
    ax.legend(fontsize=8)
    return fig
