"""Section 4 experiments: (stochastic) MGD on diagonal linear networks (Figures 4 and 7, Appendix D.2).

* Figure 4 (:func:`run_fig4`): MGD(γ, β) over a (γ, β) grid; per run the test loss, ‖Δ∞‖₂, ‖θ‖₁,
  Theorem 2's residual and Corollary 3; optionally the normalised distance ‖θ_MGD − θ_GF,Δ∞‖/‖θ_GF,Δ∞‖ to
  argmin_S ψ_Δ∞ (Appendix F.2.2).
* the λ-collapse quantified (:func:`lambda_collapse`): share of the variance of each quantity explained by
  log λ alone versus log γ alone (correlation ratio η² of binned means, equal-width bins).
* Figure 7 (:func:`run_fig7`): log test loss of MGD(γ, β) beside MGF(λ = γ/(1−β)²). MGF is solved on a λ
  grid per replication and its log test loss interpolated (linearly in log λ) at every cell's λ.
* Appendix D.2 (:func:`run_d2`): S± against (1+β)/2 · λ∫(ẇ±/w±)² as ε → 0 at fixed λ, same horizon.
* stochastic batches B ∈ {1, 5, n} (:func:`run_stochastic`) and the budgeted run behind the (γ, β) widget
  (:func:`widget_run`).

Replications are independent data sets ``config.data.dataset(seed)`` for seed in ``data.seeds``;
``max_epochs`` counts epochs (full batch: steps). Cells are averaged over replications (means of log₁₀).
Core layer: numpy only; drawing lives in :mod:`mdln.figures.sec4`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._checks import check_config, fidelity_preset
from ..cache import cached_arrays
from ..dln import perturbed_initialisation, train_mgf
from ..grid import CellStatus, eta_squared, lam_grid, linear_beta_axes
from ..implicit import implicit_solution, normalised_distance
from ..momentum import step
from ..smgd import check_executor, corollary3_holds, mgd_sweep, train_mgd
from ..status import Status
from .config import DataConfig

__all__ = ["Fig4Config", "Fig4Result", "run_fig4", "lambda_collapse", "Fig7Config", "Fig7Result", "run_fig7",
           "D2Config", "D2Result", "run_d2", "StochasticConfig", "StochasticResult", "run_stochastic",
           "widget_run", "WIDGET_STEPS", "stacked_data", "grid_axes", "eta_squared", "DATA_FIELDS",
           "with_data_fields"]

DATA_FIELDS = tuple(f.name for f in dataclasses.fields(DataConfig))


def with_data_fields(cls):
    """Let a config with a ``data: DataConfig`` field take and give DataConfig's fields by name.

    ``Fig4Config(n=10, seeds=(0,))`` builds ``data = DataConfig(n=10, seeds=(0,))`` (over ``data`` if given)
    and ``cfg.n`` reads ``cfg.data.n``: the configs of the book and of the tests keep working unchanged.
    """
    init = cls.__init__

    def __init__(self, *args, **kwargs):
        given = {k: kwargs.pop(k) for k in DATA_FIELDS if k in kwargs}
        if "seed" in kwargs and "seed" not in {f.name for f in dataclasses.fields(cls)}:
            given["seeds"] = (kwargs.pop("seed"),)
        if given:
            base = kwargs.pop("data", None)
            base = base if base is not None else cls.__dataclass_fields__["data"].default
            if not isinstance(base, DataConfig):
                raise TypeError(f"{cls.__name__}.data must be a DataConfig, got {type(base).__name__}")
            kwargs["data"] = dataclasses.replace(base, **given)
        init(self, *args, **kwargs)

    __init__.__doc__ = init.__doc__
    cls.__init__ = __init__
    for name in DATA_FIELDS:
        setattr(cls, name, property(lambda self, name=name: getattr(self.data, name),
                                    doc=f"``data.{name}`` (:class:`DataConfig`)."))
    return cls


def _check_data(cfg):
    if not isinstance(cfg.data, DataConfig):
        raise TypeError(f"{type(cfg).__name__}.data must be a DataConfig, got {type(cfg.data).__name__}")


def stacked_data(data: DataConfig, mu=None):
    """The replications of ``data`` (one per seed) and their X (R, n, d), y (R, n) stacked."""
    dss = data.datasets(mu)
    return dss, np.stack([q.X for q in dss]), np.stack([q.y for q in dss])


def grid_axes(cfg):
    """(γ, β) axes of a Fig4Config (:func:`mdln.grid.linear_beta_axes`)."""
    return linear_beta_axes(cfg.gamma_min, cfg.gamma_max, cfg.n_gamma, cfg.beta_max, cfg.n_beta)


def _check_type(value, cls, name):
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__name__}, got {type(value).__name__}")
    return value


# --------------------------------------------------------------------------------------- Figure 4
@with_data_fields
@dataclass(frozen=True)
class Fig4Config:
    """Figure 4: MGD(γ, β) over a (γ, β) grid, full batch, u0 = α1, v0 = 0 (Appendix F.2.2)."""

    data: DataConfig = DataConfig()
    gamma_min: float = 1e-3
    gamma_max: float = 10 ** -0.5
    n_gamma: int = 14
    beta_max: float = 0.95
    n_beta: int = 14
    max_epochs: int = 10 ** 6          # the paper's cap (Appendix F.2.2)
    tol: float = 1e-8
    distances: bool = False   # simplified-form distances here; both forms per run: experiments.theorems

    def __post_init__(self):
        _check_data(self)
        check_config(self, dict(gamma_min="pos", gamma_max="pos", n_gamma="int1", beta_max="beta",
                                n_beta="int1", max_epochs="int1", tol="pos", distances="bool"),
                     ordered=[("gamma_min", "gamma_max")])

    @classmethod
    def preset(cls, fidelity="book"):
        """'test' (seconds), 'book' (14 × 14 grid, 10⁶ epochs), 'paper' (20 × 20, 10⁶ epochs)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(data=DataConfig(n=10, d=15, s=3, seeds=(0,)), gamma_min=0.05,
                                         gamma_max=3.0, n_gamma=4, n_beta=3, beta_max=0.9, max_epochs=20_000),
                               paper=dict(n_gamma=20, n_beta=20, max_epochs=10 ** 6))


@dataclass(frozen=True)
class Fig4Result(CellStatus):
    """Figure 4 data: per-run arrays of shape (G, Bt, R) plus the grid.

    ``distance`` is the normalised distance to argmin_S ψ_Δ∞ (Eq. 10 with θ̃0 ≈ 0), NaN unless
    ``config.distances``; both forms per run: :func:`mdln.experiments.theorems.check_fig4`.
    """

    config: Fig4Config
    gammas: np.ndarray
    betas: np.ndarray
    test_loss: np.ndarray
    delta_norm: np.ndarray
    l1: np.ndarray
    train_loss: np.ndarray
    status: np.ndarray
    crossed: np.ndarray
    steps: np.ndarray
    theorem2_error: np.ndarray
    theorem2_error_finite: np.ndarray
    cor3_ok: np.ndarray
    theta_tilde0_max: np.ndarray
    distance: np.ndarray
    theta: np.ndarray
    delta_inf: np.ndarray

    @property
    def norm_dist(self):
        """The former name of ``distance``."""
        return self.distance

    @property
    def lam(self):
        """λ = γ/(1−β)² on the (G, Bt) grid."""
        return lam_grid(self.gammas, self.betas)

    def cell_mean(self, name, log=True):
        """Replication mean of log₁₀(field) (or of the field), NaN where a replication diverged."""
        a = getattr(self, name)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log10(a) if log else a
        m = np.mean(v, axis=-1)
        return np.where(self.cell_diverged, np.nan, m)

    @property
    def cell_capped(self):
        """(G, Bt): some (non-diverged) replication stopped at the epoch cap before train loss < tol."""
        return np.any(self.status == Status.STEP_CAP, axis=-1) & ~self.cell_diverged

    def capped_counts(self):
        """(G, Bt) number of runs stopped at the epoch cap, NaN in diverged cells."""
        counts = np.sum(self.status == Status.STEP_CAP, axis=-1).astype(float)
        return np.where(self.cell_diverged, np.nan, counts)

    def summary(self):
        """Measured claims: Theorem 2 / Corollary 3 residuals, distances, λ-collapse, best λ."""
        conv = self.status == Status.CONVERGED
        calm = conv & ~self.crossed
        live = self.status != Status.DIVERGED
        lt = self.cell_mean("test_loss")
        i, j = np.unravel_index(np.nanargmin(lt), lt.shape)
        out = dict(
            runs=int(self.status.size), converged=int(conv.sum()), diverged=int((~live).sum()),
            step_cap=int((self.status == Status.STEP_CAP).sum()),
            crossed=int((self.crossed & live).sum()),
            theorem2_worst=float(np.nanmax(np.where(live, self.theorem2_error, np.nan))),
            theorem2_worst_converged=float(np.max(self.theorem2_error[conv])) if conv.any() else float("nan"),
            theorem2_worst_finite=float(np.nanmax(np.where(live, self.theorem2_error_finite, np.nan))),
            corollary3_runs=int(calm.sum()), corollary3_holds=int(np.sum(self.cor3_ok & calm)),
            lambda_star=float(self.lam[i, j]), gamma_star=float(self.gammas[i]),
            beta_star=float(self.betas[j]),
            log10_test_loss_best=float(lt[i, j]), log10_test_loss_corner=float(lt[0, 0]),
        )
        nd = self.distance[conv]
        nd = nd[np.isfinite(nd)]
        out["distance_max"] = float(nd.max()) if nd.size else float("nan")
        out["distance_median"] = float(np.median(nd)) if nd.size else float("nan")
        out["distance_count"] = int(nd.size)
        out.update({f"collapse_{k}": v for k, v in lambda_collapse(self).items()})
        return out

    def arrays(self):
        """Raw arrays (per run) and the grid."""
        return {f.name: np.asarray(getattr(self, f.name)) for f in dataclasses.fields(self)
                if f.name != "config"}

    def capped_runs(self):
        """Runs stopped at the epoch cap: count, median step ε = γ/(1−β), their train losses (Section 4)."""
        cap = self.status == Status.STEP_CAP
        eps = np.broadcast_to(step(self.gammas[:, None], self.betas[None, :])[..., None], self.status.shape)
        if not cap.any():
            return dict(n=0, eps_median=float("nan"), train_loss_median=float("nan"),
                        train_loss_max=float("nan"))
        return dict(n=int(cap.sum()), eps_median=float(np.median(eps[cap])),
                    train_loss_median=float(np.median(self.train_loss[cap])),
                    train_loss_max=float(np.max(self.train_loss[cap])))

    def nearest_cell(self, gamma, beta):
        """Summary of the grid cell nearest to (γ, β) (distance in log γ and in β)."""
        i = int(np.argmin(np.abs(np.log10(self.gammas) - np.log10(gamma))))
        j = int(np.argmin(np.abs(self.betas - beta)))
        st = self.status[i, j]
        return dict(gamma=float(self.gammas[i]), beta=float(self.betas[j]),
                    log_test=float(self.cell_mean("test_loss")[i, j]),
                    converged=int(np.sum(st == Status.CONVERGED)), capped=int(np.sum(st == Status.STEP_CAP)),
                    diverged=int(np.sum(st == Status.DIVERGED)), runs=int(st.size))


def _distances(cfg, dss, sw):
    """Normalised distance of every converged run to argmin_S ψ_Δ∞ (NaN elsewhere or on solver failure)."""
    nd = np.full(sw.status.shape, np.nan)
    if cfg.distances:
        for idx in zip(*np.nonzero(sw.status == Status.CONVERGED)):
            r = idx[2]
            try:
                ref = implicit_solution(dss[r].X, dss[r].y, sw.delta_inf[idx])
                nd[idx] = normalised_distance(sw.theta[idx], ref)
            except Exception:   # solver failure: leave NaN (reported in the count)
                pass
    return nd


def run_fig4(config=None, progress=False, executor=None):
    """Figure 4: MGD(γ, β) over the grid, with Theorem 2, Corollary 3 and normalised distances.

    ``executor`` (a concurrent.futures.Executor) runs the sweep's member groups as tasks (mgd_sweep): the
    same numbers bit for bit, and the same cache entries, as the serial run.
    """
    cfg = Fig4Config.preset("book") if config is None else _check_type(config, Fig4Config, "config")
    dss, X, y = stacked_data(cfg.data)
    gammas, betas = grid_axes(cfg)
    sw = mgd_sweep(X, y, gammas, betas, seeds=0, alpha=cfg.alpha, max_steps=cfg.max_epochs, tol=cfg.tol,
                   progress=progress, executor=executor)
    extra = cached_arrays("fig4-dist", dict(cfg=dataclasses.asdict(cfg)),
                          lambda: dict(distance=_distances(cfg, dss, sw)))
    test_loss = np.stack([dss[r].test_loss(sw.theta[:, :, r]) for r in range(len(dss))], axis=-1)
    with np.errstate(all="ignore"):
        tt0_runs = perturbed_initialisation(cfg.alpha, cfg.alpha, sw.S_plus, sw.S_minus)
        tt0 = np.max(np.abs(tt0_runs), axis=-1)
    cor3 = corollary3_holds(sw.delta_inf, tt0_runs, cfg.alpha)
    return Fig4Result(config=cfg, gammas=gammas, betas=betas, test_loss=test_loss,
                      delta_norm=np.linalg.norm(sw.delta_inf, axis=-1), l1=np.sum(np.abs(sw.theta), axis=-1),
                      train_loss=sw.train_loss, status=sw.status, crossed=sw.crossed, steps=sw.steps,
                      theorem2_error=np.nan_to_num(sw.theorem2_error(), nan=np.inf),
                      theorem2_error_finite=np.nan_to_num(sw.theorem2_error(finite=True), nan=np.inf),
                      cor3_ok=cor3, theta_tilde0_max=tt0, distance=extra["distance"], theta=sw.theta,
                      delta_inf=sw.delta_inf)


def lambda_collapse(res, n_bins=10, converged_only=True):
    """η² of each quantity (cell means) on log λ alone versus on log γ alone (Section 4).

    Cells: those where every replication converged (default), else all non-diverged cells.
    """
    _check_type(res, Fig4Result, "lambda_collapse: res")
    ok = res.cell_converged if converged_only else ~res.cell_diverged
    lam = np.log10(res.lam)[ok]
    gam = np.log10(np.broadcast_to(res.gammas[:, None], res.lam.shape))[ok]
    out = {}
    for name in ("delta_norm", "test_loss", "l1"):
        v = res.cell_mean(name)[ok]
        out[f"{name}_lam"] = eta_squared(lam, v, n_bins)
        out[f"{name}_gamma"] = eta_squared(gam, v, n_bins)
    return out


# --------------------------------------------------------------------------------------- Figure 7
@dataclass(frozen=True)
class Fig7Config:
    """Figure 7: MGD(γ, β) test loss against MGF(λ) interpolated on a λ grid (Appendix F.1)."""

    fig4: Fig4Config = Fig4Config()
    n_lam: int = 9
    mgf_seeds: tuple = (0, 1)
    mgf_tol: float = 1e-8

    def __post_init__(self):
        if not isinstance(self.fig4, Fig4Config):
            raise ValueError(f"Fig7Config.fig4 must be a Fig4Config, got {type(self.fig4).__name__}")
        check_config(self, dict(n_lam="int1", mgf_seeds="seeds", mgf_tol="pos"))
        if not set(self.mgf_seeds) <= set(self.fig4.seeds):
            raise ValueError(f"Fig7Config.mgf_seeds must be a subset of fig4.seeds={self.fig4.seeds!r}, "
                             f"got {self.mgf_seeds!r}")

    @classmethod
    def preset(cls, fidelity="book"):
        """'test', 'book' (MGF on 9 λ for 2 datasets), 'paper' (15 λ, all 5 datasets)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(fig4=Fig4Config.preset("test"), n_lam=3, mgf_seeds=(0,)),
                               paper=dict(fig4=Fig4Config.preset("paper"), n_lam=15,
                                          mgf_seeds=(0, 1, 2, 3, 4)))

    def replication_index(self):
        """Positions of ``mgf_seeds`` among ``fig4.seeds`` (the replication axis of Figure 4's arrays)."""
        return [list(self.fig4.seeds).index(s) for s in self.mgf_seeds]


@dataclass(frozen=True)
class Fig7Result:
    """MGD and MGF(λ) log₁₀ test losses on the (γ, β) grid (means over ``mgf_seeds``)."""

    config: Fig7Config
    fig4: Fig4Result
    lams: np.ndarray
    mgf_log_test: np.ndarray     # (n_lam, R') log10 test loss of MGF(λ)
    mgd_cells: np.ndarray        # (G, Bt) mean log10 test loss of MGD over mgf_seeds
    mgf_cells: np.ndarray        # (G, Bt) interpolated MGF at the cell's λ

    def cells(self, converged_only=True):
        """(G, Bt) cells with both values; with ``converged_only``, every MGD run of mgf_seeds converged."""
        ok = np.isfinite(self.mgd_cells) & np.isfinite(self.mgf_cells)
        if converged_only:
            ok &= np.all(self.fig4.status[:, :, self.config.replication_index()] == Status.CONVERGED, axis=-1)
        return ok

    def correlation(self, converged_only=True):
        """Pearson correlation of the two heatmaps over cells where MGD converged (or all non-diverged)."""
        ok = self.cells(converged_only)
        if ok.sum() <= 2:
            return float("nan")
        return float(np.corrcoef(self.mgd_cells[ok], self.mgf_cells[ok])[0, 1])

    def summary(self):
        """Correlations and mean absolute gaps (decades) between MGD and MGF(λ)."""
        out = {}
        for tag, conv in (("converged", True), ("all", False)):
            ok = self.cells(conv)
            out[f"correlation_{tag}"] = self.correlation(conv)
            out[f"cells_{tag}"] = int(ok.sum())
            out[f"mean_abs_gap_decades_{tag}"] = float(np.mean(np.abs(self.mgd_cells - self.mgf_cells)[ok]))
        return out

    def arrays(self):
        """Raw arrays."""
        return dict(lams=self.lams, mgf_log_test=self.mgf_log_test, mgd_cells=self.mgd_cells,
                    mgf_cells=self.mgf_cells)

    def capped(self):
        """(G, Bt): some MGD run of ``mgf_seeds`` stopped at the epoch cap (cell not diverged)."""
        ridx = self.config.replication_index()
        return np.any(self.fig4.status[:, :, ridx] == Status.STEP_CAP, axis=-1) & np.isfinite(self.mgd_cells)


def _mgf_log_test(data, seed, lam, tol):
    """log₁₀ test loss of MGF(λ) on the dataset of ``seed`` (one task of mgf_log_test_losses)."""
    ds = data.dataset(int(seed))
    return np.log10(ds.test_loss(train_mgf(ds.X, ds.y, float(lam), alpha=data.alpha, tol=tol).theta))


def mgf_log_test_losses(config, lams, progress=False, executor=None):
    """(n_lam, R') log₁₀ test loss of MGF(λ) per λ in ``lams`` and seed in ``config.mgf_seeds`` (cached)."""
    data = config.fig4.data

    def compute():
        out = np.zeros((len(lams), len(config.mgf_seeds)))
        it = [(i, k) for i in range(len(lams)) for k in range(len(config.mgf_seeds))]
        if executor is not None:   # one task per (λ, seed): each a pure function of its arguments
            futures = [executor.submit(_mgf_log_test, data, config.mgf_seeds[k], lams[i], config.mgf_tol)
                       for i, k in it]
            for (i, k), f in zip(it, futures):
                out[i, k] = f.result()
            return dict(mgf=out)
        if progress:
            from tqdm.auto import tqdm
            it = tqdm(it, desc="MGF(λ) solves")
        for i, k in it:
            ds = data.dataset(int(config.mgf_seeds[k]))
            r = train_mgf(ds.X, ds.y, float(lams[i]), alpha=data.alpha, tol=config.mgf_tol)
            out[i, k] = np.log10(ds.test_loss(r.theta))
        return dict(mgf=out)
    return cached_arrays("fig7-mgf", dict(cfg=dataclasses.asdict(config), lams=lams), compute)["mgf"]


def run_fig7(config=None, progress=False, fig4_result=None, executor=None):
    """Figure 7: MGD(γ, β) after training beside MGF(λ = γ/(1−β)²) (Section 3 solver).

    ``fig4_result`` (run_fig4 of ``config.fig4``) is computed when not given. ``executor`` runs the
    sweep's groups and the MGF(λ) solves as tasks, with the serial numbers bit for bit.
    """
    cfg = Fig7Config.preset("book") if config is None else _check_type(config, Fig7Config, "config")
    executor = check_executor(executor)
    f4 = run_fig4(cfg.fig4, progress=progress, executor=executor) if fig4_result is None else fig4_result
    lam = f4.lam
    ok = ~f4.cell_diverged
    lams = np.geomspace(lam[ok].min(), lam[ok].max(), cfg.n_lam)
    mgf = mgf_log_test_losses(cfg, lams, progress, executor)
    with np.errstate(divide="ignore"):
        mgd_cells = np.mean(np.log10(f4.test_loss[:, :, cfg.replication_index()]), axis=-1)
    mgd_cells = np.where(ok, mgd_cells, np.nan)
    mgf_cells = np.where(ok, np.interp(np.log10(lam), np.log10(lams), mgf.mean(axis=1)), np.nan)
    return Fig7Result(config=cfg, fig4=f4, lams=lams, mgf_log_test=mgf, mgd_cells=mgd_cells,
                      mgf_cells=mgf_cells)


# ------------------------------------------------------------------------------------ Appendix D.2
@with_data_fields
@dataclass(frozen=True)
class D2Config:
    """Appendix D.2: discrete sums S± against (1+β)/2·λ∫₀ᵀ(ẇ±/w±)² at fixed λ, ε = λ·ratios.

    One data set: ``data.seeds`` holds its one seed (``D2Config(seed=3)`` sets it).
    """

    lam: float = 0.01
    ratios: tuple = (1.0, 0.5, 0.25, 0.125, 0.0625)   # ε/λ = 1 − β
    horizon: float = 300.0
    data: DataConfig = DataConfig(seeds=(0,))

    def __post_init__(self):
        _check_data(self)
        check_config(self, dict(lam="pos", ratios="pos+", horizon="pos"), within={"ratios": 1.0})
        if len(self.data.seeds) != 1:
            raise ValueError(f"D2Config.data.seeds must hold one seed, got {self.data.seeds!r}")

    @property
    def seed(self):
        """The seed of the one data set."""
        return self.data.seeds[0]

    @classmethod
    def preset(cls, fidelity="book"):
        """'test' (two ε on a short horizon, a small data set), 'book' and 'paper' (the defaults)."""
        return fidelity_preset(cls, fidelity, paper={},
                               test=dict(ratios=(1.0, 0.5), horizon=20.0, data=DataConfig(n=10, d=15, s=3,
                                                                                           seeds=(0,))))


@dataclass(frozen=True)
class D2Result:
    """Rows (ε, γ, β, steps, ‖S‖, ‖λI‖, gap to λI, gap to (1+β)/2·λI), S = S+ + S− over [0, T]."""

    config: D2Config
    rows: np.ndarray

    def summary(self):
        """Gap to λI over (1−β)/2 (range) and the gap to (1+β)/2·λI at the largest and smallest ε."""
        ratio = self.rows[:, 6] / ((1 - self.rows[:, 2]) / 2)
        return dict(ratio_min=float(ratio.min()), ratio_max=float(ratio.max()),
                    gap_half_first=float(self.rows[0, 7]), gap_half_last=float(self.rows[-1, 7]))

    def arrays(self):
        """The table."""
        return dict(rows=self.rows)


def mgf_log_integrals(X, y, lam, alpha, horizon):
    """λ∫₀ᵀ(ẇ±/w±)² dt of MGF(λ) on [0, T] (Appendix D.2) from ``train_mgf``'s dense Eq. (12) trajectory."""
    r = train_mgf(X, y, lam, alpha=alpha, tol=1e-300, t_max=horizon, trajectory=True, refine=16, rtol=1e-10,
                  atol=1e-14)
    if not r.reached_t_max:
        raise RuntimeError(f"MGF integration to T = {horizon} failed: {r.message}")
    if r.vanished:
        raise RuntimeError("w± changed sign along MGF: D.2 compares non-crossing runs only")
    return r.integrals()


def _d2_row(cfg, ds, q, C):
    """One row of the D.2 table: MGD at ε = λq, β = 1 − q over K = T/ε steps, against C = λI+ + λI−."""
    eps = cfg.lam * q
    gamma, beta = eps ** 2 / cfg.lam, 1.0 - q
    K = int(round(cfg.horizon / eps))
    r = train_mgd(ds.X, ds.y, gamma, beta, alpha=cfg.data.alpha, max_steps=K, tol=1e-300)
    if r.crossed:
        raise RuntimeError(f"MGD(ε={eps}) changed sign: D.2 compares non-crossing runs only")
    S = r.S_plus + r.S_minus
    return [eps, gamma, beta, K, np.linalg.norm(S), np.linalg.norm(C),
            np.linalg.norm(S - C) / np.linalg.norm(C),
            np.linalg.norm(S - 0.5 * (1 + beta) * C) / np.linalg.norm(0.5 * (1 + beta) * C)]


def run_d2(config=None):
    """Appendix D.2: the table of S± against λ∫(ẇ±/w±)², cached on disk."""
    cfg = D2Config() if config is None else _check_type(config, D2Config, "config")
    ds = cfg.data.dataset(cfg.seed)

    def compute():
        lam_Ip, lam_Im = mgf_log_integrals(ds.X, ds.y, cfg.lam, cfg.data.alpha, cfg.horizon)
        return dict(rows=np.array([_d2_row(cfg, ds, q, lam_Ip + lam_Im) for q in cfg.ratios]))
    rows = cached_arrays("d2-table", dict(cfg=dataclasses.asdict(cfg)), compute)["rows"]
    return D2Result(config=cfg, rows=rows)


# ------------------------------------------------------------------------------ stochastic batches
@dataclass(frozen=True)
class StochasticConfig:
    """SMGD with B ∈ batch_sizes on a small (γ, β) grid (Section 4)."""

    batch_sizes: tuple = (1, 5, 20)
    fig4: Fig4Config = Fig4Config(n_gamma=6, n_beta=6, seeds=(0, 1), gamma_min=3e-3, max_epochs=20_000)
    replace: bool = False

    def __post_init__(self):
        if not isinstance(self.fig4, Fig4Config):
            raise ValueError(f"StochasticConfig.fig4 must be a Fig4Config, got {type(self.fig4).__name__}")
        check_config(self, dict(batch_sizes="int1+", replace="bool"))
        if max(self.batch_sizes) > self.fig4.n:
            raise ValueError(f"StochasticConfig.batch_sizes must lie in [1, fig4.n={self.fig4.n}], "
                             f"got {self.batch_sizes!r}")

    @classmethod
    def preset(cls, fidelity="book"):
        """'test' (Figure 4's test grid, B ∈ {1, 5, n}), 'book' (the defaults), 'paper' (the same)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(batch_sizes=(1, 5, 10), fig4=Fig4Config.preset("test")),
                               paper={})

    def sweep(self, batch_size, progress=False):
        """The (cached) SMGD sweep at ``batch_size`` over the grid of ``fig4``, and its stacked data."""
        c4 = self.fig4
        dss, X, y = stacked_data(c4.data)
        gammas, betas = grid_axes(c4)
        spe = -(-c4.n // batch_size)
        sw = mgd_sweep(X, y, gammas, betas, seeds=list(range(len(dss))), batch_size=batch_size,
                       replace=self.replace, alpha=c4.alpha, max_steps=c4.max_epochs * spe, tol=c4.tol,
                       progress=progress)
        return sw, dss, X, y


def _batch_summary(sw, dss, gammas):
    """Per batch size: cell means, run counts, Theorem 2's worst residual and the λ-collapse η²."""
    tl = np.stack([dss[r].test_loss(sw.theta[:, :, r]) for r in range(len(dss))], axis=-1)
    ok = sw.status != Status.DIVERGED
    cell = np.where(np.all(ok, -1), np.mean(np.log10(tl), -1), np.nan)
    dn = np.where(np.all(ok, -1), np.mean(np.log10(np.linalg.norm(sw.delta_inf, axis=-1)), -1), np.nan)
    lam = np.log10(sw.lam)
    gam = np.log10(np.broadcast_to(gammas[:, None], lam.shape))
    return dict(sweep=sw, log_test=cell, log_delta=dn,
                converged=int((sw.status == Status.CONVERGED).sum()),
                diverged=int((sw.status == Status.DIVERGED).sum()),
                runs=int(sw.status.size), crossed=int((sw.crossed & ok).sum()),
                theorem2_worst=float(np.nanmax(np.where(ok, sw.theorem2_error(), np.nan))),
                eta2_delta_lam=eta_squared(lam, dn, 6), eta2_delta_gamma=eta_squared(gam, dn, 6),
                median_log_test=float(np.nanmedian(cell)))


@dataclass(frozen=True)
class StochasticResult:
    """Per batch size B: ``batches[B]`` = dict(sweep, log_test, log_delta, run counts, Theorem 2's worst
    residual, η² of log‖Δ∞‖ on log λ and on log γ, median log test loss). Reads like that dict."""

    config: StochasticConfig
    batches: dict

    def __getitem__(self, batch_size):
        return self.batches[batch_size]

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)

    def keys(self):
        """The batch sizes."""
        return self.batches.keys()

    def values(self):
        """The per-batch dicts."""
        return self.batches.values()

    def items(self):
        """(B, per-batch dict) pairs."""
        return self.batches.items()

    def summary(self):
        """The scalar entries per batch size, keys ``B{B}_{name}``."""
        return {f"B{B}_{k}": v for B, d in self.batches.items() for k, v in d.items()
                if isinstance(v, (int, float))}

    def arrays(self):
        """Cell means per batch size, keys ``B{B}_log_test`` and ``B{B}_log_delta``, and per-run statuses."""
        out = {}
        for B, d in self.batches.items():
            out.update({f"B{B}_log_test": d["log_test"], f"B{B}_log_delta": d["log_delta"],
                        f"B{B}_status": np.asarray(d["sweep"].status)})
        return out


def run_stochastic(config=None, progress=False):
    """Per batch size: sweep results, Theorem 2 residuals, λ-collapse η² and test losses (Section 4)."""
    cfg = StochasticConfig() if config is None else _check_type(config, StochasticConfig, "config")
    gammas, _ = grid_axes(cfg.fig4)
    out = {}
    for B in cfg.batch_sizes:
        sw, dss, _, _ = cfg.sweep(B, progress=progress)
        out[B] = _batch_summary(sw, dss, gammas)
    return StochasticResult(config=cfg, batches=out)


# ---------------------------------------------------------------------------------------- widget
WIDGET_STEPS = 50_000   # step budget per live redraw (~0.1 s of train_mgd); the plot says when a run is cut


@lru_cache(maxsize=512)
def widget_run(config, gamma, beta, seed, max_steps):
    """(data set, MGDResult) of one budgeted ``train_mgd`` run at (γ, β) on ``config.data``'s set ``seed``."""
    ds = config.data.dataset(seed)
    return ds, train_mgd(ds.X, ds.y, gamma, beta, alpha=config.alpha, max_steps=max_steps, record=60)
