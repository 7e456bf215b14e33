"""Theorem 2 in full against the paper's simplification, over families of MGD runs (Section 4, App. D.1).

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

Core layer: the run families are Figure 4's (:mod:`mdln.experiments.sec4`); the mathematics lives in
:func:`mdln.implicit.perturbed_initialisation`, :func:`mdln.implicit.theorem2_predictions` and
:func:`mdln.implicit.linear_shift` (re-exported here). The plots are in :mod:`mdln.figures.theorems`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._checks import check_config, check_data, fidelity_preset
from ..cache import cached_arrays
from ..dln import perturbed_initialisation
from ..grid import CellStatus
from ..implicit import PREDICTION_RESIDUAL, kkt_shift, linear_shift, theorem2_predictions
from ..smgd import mgd_sweep, train_mgd
from ..status import Status
from .config import DataConfig
from .sec4 import Fig4Config, Fig4Result, StochasticConfig, with_data_fields, grid_axes, stacked_data

__all__ = ["theta_tilde0", "theorem2_predictions", "linear_shift", "Theorem2Check", "check_runs",
           "check_run", "check_sweep", "check_fig4", "check_stochastic", "ToleranceConfig", "ToleranceStudy",
           "tolerance_study", "DroppedTermConfig", "DroppedTermStudy", "dropped_term_study",
           "simplification_rule", "TOLERANCE_RUNS"]


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
        if out[5] <= PREDICTION_RESIDUAL:
            out[0] = np.linalg.norm(theta - full) / np.linalg.norm(full)
        if out[6] <= PREDICTION_RESIDUAL:
            out[1] = np.linalg.norm(theta - simp) / np.linalg.norm(simp)
            out[4] = linear_shift(X, simp, delta, tt0)
            if out[5] <= PREDICTION_RESIDUAL:
                out[7] = np.linalg.norm(full - simp) / np.linalg.norm(simp)
    return out


@dataclass(frozen=True)
class Theorem2Check(CellStatus):
    """Theorem 2 (full) and Eq. 10 (simplified) per run; arrays share the runs' shape, e.g. (G, Bt, R).

    ``distance_full``/``distance``: ‖θ^MGD − θ_pred‖/‖θ_pred‖; ``dropped``: max_i |arcsinh(2θ̃0/Δ∞)|;
    ``ratio``: max_i |θ̃0,i|/Δ∞,i; ``shift``: :func:`linear_shift`; ``resid_*``: ‖Xθ_pred − y‖ of the
    predictions (a distance is NaN where its residual exceeds 1e-9); ``gap``: ‖θ_full − θ_simplified‖ /
    ‖θ_simplified‖, the error of the simplification itself, free of the stopping tolerance; ``status``:
    0 converged, 1 budget ran out, 2 diverged (as in :mod:`mdln.smgd`). ``gammas``/``betas``: set for grids.
    """

    family: str
    distance_full: np.ndarray
    distance: np.ndarray
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
        ok = np.isfinite(self.distance_full) & np.isfinite(self.distance)
        return (self.status == Status.CONVERGED) & ok

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
            for name in ("distance_full", "distance"):
                v = getattr(self, name)[sel]
                out[f"{name}_max_{tag}"] = float(v.max()) if v.size else float("nan")
                out[f"{name}_median_{tag}"] = float(np.median(v)) if v.size else float("nan")
            out[f"simplified_below_1pct_{tag}"] = int(np.sum(self.distance[sel] < 0.01))
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
    return Theorem2Check(family=family, distance_full=res[..., 0], distance=res[..., 1],
                         dropped=res[..., 2],
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


def check_fig4(config=None, family=None):
    """Theorem2Check over the Figure 4 grid: ``config`` a Fig4Config, a Fig4Result or a fidelity name."""
    if config is None or isinstance(config, str):
        config = Fig4Config.preset(config or "book")
    elif isinstance(config, Fig4Result):
        config = config.config
    elif not isinstance(config, Fig4Config):
        raise TypeError(f"check_fig4: config must be a Fig4Config, a Fig4Result or a fidelity name, "
                        f"got {type(config).__name__}")
    _, X, y = stacked_data(config.data)
    gammas, betas = grid_axes(config)
    sw = mgd_sweep(X, y, gammas, betas, seeds=0, batch_size=None, replace=False, alpha=config.alpha,
                   max_steps=config.max_epochs, tol=config.tol)      # the cached sweep of run_fig4
    fam = family or f"Figure 4 grid ({config.n_gamma}×{config.n_beta}×{len(config.seeds)})"
    return check_sweep(sw, X, y, config.tol, family=fam)


def check_stochastic(config=None):
    """{B: Theorem2Check} for the stochastic-batch sweeps of :func:`mdln.experiments.sec4.run_stochastic`."""
    cfg = StochasticConfig() if config is None else config
    if not isinstance(cfg, StochasticConfig):
        raise TypeError(f"check_stochastic: config must be a StochasticConfig, got {type(cfg).__name__}")
    c4 = cfg.fig4
    out = {}
    for B in cfg.batch_sizes:
        sw, _, X, y = cfg.sweep(B)
        out[B] = check_sweep(sw, X, y, c4.tol, family=f"stochastic B = {B}" if B < c4.n else "full batch")
    return out


# ------------------------------------------------------------------------------------ tolerance
TOLERANCE_RUNS = ((0.01, 0.0, None), (0.1, 0.0, None), (0.05, 0.5, None), (0.1, 0.8, None), (0.02, 0.9, None),
                  (0.05, 0.5, 5), (0.01, 0.5, 1))
"""(γ, β, B) of the tolerance study (B = None: full batch)."""


@with_data_fields
@dataclass(frozen=True)
class ToleranceConfig:
    """The tolerance study: ``train_mgd`` runs (γ, β, B) on one data set, stopped at each train-loss tol."""

    runs: tuple = TOLERANCE_RUNS
    tols: tuple = (1e-8, 1e-12, 1e-16)
    data: DataConfig = DataConfig(seeds=(4242,))
    max_steps: int = 2 * 10 ** 7

    def __post_init__(self):
        check_config(self, dict(tols="pos+", max_steps="int1"))
        if len(self.data.seeds) != 1:
            raise ValueError(f"ToleranceConfig.data.seeds must hold one seed, got {self.data.seeds!r}")

    @classmethod
    def preset(cls, fidelity="book"):
        """'test' (two runs, two tolerances), 'book' and 'paper' (the seven runs at 1e-8, 1e-12, 1e-16)."""
        return fidelity_preset(cls, fidelity, paper={},
                               test=dict(runs=((0.1, 0.8, None), (0.05, 0.5, 5)), tols=(1e-8, 1e-10),
                                         max_steps=10 ** 6))


@dataclass(frozen=True)
class ToleranceStudy:
    """Both distances per run (rows) and train-loss tolerance (columns)."""

    runs: tuple
    tols: np.ndarray
    distance_full: np.ndarray
    distance: np.ndarray
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
                     for j, v in enumerate(self.distance_full[i])]
            crossed = 'yes' if self.crossed[i].any() else 'no'
            lines.append(f"| {g:g} | {b:g} | {'n' if B is None else B} | {crossed} | "
                         + " | ".join(cells) + f" | {self.distance[i, -1]:.1e} |")
        return "\n".join(lines)


def _tolerance_row(config, ds, gamma, beta, batch_size):
    """Per tolerance: (full distance, simplified distance, crossed, steps, status, dropped) of one run."""
    rows = []
    for t in config.tols:
        r = train_mgd(ds.X, ds.y, gamma, beta, alpha=config.data.alpha, batch_size=batch_size, tol=t,
                      max_steps=config.max_steps)
        c = check_run(r, ds.X, ds.y, tol=t)
        rows.append((c.distance_full, c.distance, r.crossed, r.steps, c.status, c.dropped))
    return rows


def tolerance_study(config=None, cache=True, **fields):
    """Theorem 2 (full) and Eq. 10 distances of ``train_mgd`` runs stopped at each train-loss tolerance.

    ``fields`` override those of ``config`` (default :class:`ToleranceConfig`), e.g. ``tols=(1e-8,)``.
    """
    config = ToleranceConfig() if config is None else config
    if not isinstance(config, ToleranceConfig):
        raise TypeError(f"tolerance_study: config must be a ToleranceConfig, got {type(config).__name__}")
    config = dataclasses.replace(config, **fields) if fields else config
    ds = config.data.dataset(config.data.seeds[0])

    def compute():
        rows = [_tolerance_row(config, ds, g, b, B) for g, b, B in config.runs]
        cols = [np.array([[row[j][k] for j in range(len(config.tols))] for row in rows]) for k in range(6)]
        return dict(full=cols[0].astype(float), simp=cols[1].astype(float), crossed=cols[2].astype(bool),
                    steps=cols[3].astype(np.int64), status=cols[4].astype(np.int64),
                    dropped=cols[5].astype(float))
    params = dict(runs=[[g, b, -1 if B is None else B] for g, b, B in config.runs], tols=list(config.tols),
                  data=config.data.params(), max_steps=config.max_steps)
    a = cached_arrays("thm2-tol", params, compute, use_cache=cache)
    return ToleranceStudy(runs=tuple(config.runs), tols=np.asarray(config.tols, float), distance_full=a["full"],
                          distance=a["simp"], crossed=a["crossed"], steps=a["steps"],
                          status=a["status"],
                          dropped=a["dropped"])


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
                   worst_first=_max_or_nan(c.distance[ok & ~rnd]),
                   worst_random=_max_or_nan(c.distance[ok & rnd]),
                   worst_full=_max_or_nan(c.distance_full[ok]))
        for m in ("dropped", "ratio", "shift"):
            out.update({f"{m}_{k}": v for k, v in self.rule(m).items() if k != "measure"})
        return out


def _max_or_nan(values):
    return float(np.max(values)) if values.size else float("nan")


def simplification_rule(checks, measure="dropped", level=0.01):
    """Largest m* such that every converged run with measure < m* has simplified distance < ``level``.

    Also: how many runs lie below / above m*, how many above exceed ``level``, the Spearman rank
    correlation of the measure with the simplified distance and with ``gap`` (the simplification's own
    error), and the spread (std of log₁₀(gap/measure)): near 0 means the runs fall on one curve.
    """
    m = np.concatenate([np.ravel(getattr(c, measure)[c.converged]) for c in checks])
    dist = np.concatenate([np.ravel(c.distance[c.converged]) for c in checks])
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


@with_data_fields
@dataclass(frozen=True)
class DroppedTermConfig:
    """MGD over a (γ, β) grid on many data sets; seeds ≥ ``random_from`` get a random support for θ*."""

    data: DataConfig = DataConfig(seeds=tuple(range(20)))
    random_from: int = 10
    n_gamma: int = 6
    n_beta: int = 6
    gamma_min: float = 1e-3
    gamma_max: float = 10 ** -0.5
    beta_max: float = 0.95
    max_epochs: int = 200_000
    tol: float = 1e-8

    def __post_init__(self):
        check_config(self, dict(random_from="int0", n_gamma="int1", n_beta="int1", gamma_min="pos",
                                gamma_max="pos", beta_max="beta", max_epochs="int1", tol="pos"),
                     ordered=[("gamma_min", "gamma_max")])

    @classmethod
    def preset(cls, fidelity="book"):
        """'test' (two data sets, one with a random support, 2 × 2 grid), 'book' and 'paper' (the defaults)."""
        return fidelity_preset(cls, fidelity, paper={},
                               test=dict(data=DataConfig(seeds=(0, 11)), n_gamma=2, n_beta=2, gamma_min=0.03,
                                         gamma_max=0.1, beta_max=0.5, max_epochs=100_000))

    def supports(self):
        """Per seed: 'random' from ``random_from`` on, else 'first'."""
        return np.array(["random" if sd >= self.random_from else "first" for sd in self.data.seeds])


def dropped_term_study(config=None, **fields):
    """The simplified-form distance against the dropped-term measures over many data sets (Appendix F.2.2).

    ``fields`` override those of ``config`` (default :class:`DroppedTermConfig`).
    """
    config = DroppedTermConfig() if config is None else config
    if not isinstance(config, DroppedTermConfig):
        raise TypeError(f"dropped_term_study: config must be a DroppedTermConfig, "
                        f"got {type(config).__name__}")
    config = dataclasses.replace(config, **fields) if fields else config
    seeds = np.asarray(config.data.seeds, dtype=np.int64)
    support = config.supports()
    dss = [dataclasses.replace(config.data, support=str(sp)).dataset(int(sd))
           for sd, sp in zip(seeds, support)]
    X, y = np.stack([q.X for q in dss]), np.stack([q.y for q in dss])
    gammas, betas = grid_axes(config)
    sw = mgd_sweep(X, y, gammas, betas, seeds=0, alpha=config.data.alpha, max_steps=config.max_epochs,
                   tol=config.tol)
    c = check_sweep(sw, X, y, config.tol,
                    family=f"{len(seeds)} data sets × {config.n_gamma}×{config.n_beta} grid")
    return DroppedTermStudy(check=c, support=support, seeds=seeds)
