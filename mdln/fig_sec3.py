"""Section 3 figures and checks: MGF(λ) on diagonal linear networks (Figures 3, 8, 9; Appendix C, F.2.1).

* ``mgf_points``: the cached (μ, replication, λ) sweep every figure here reads: θ_MGF, Δ∞, vanished,
  train/test loss, ‖θ‖₁ and the Theorem 1 normalised distance to θGF_Δ∞ = argmin_S ψ_Δ∞.
* Figure 3 (test loss and ‖Δ∞‖₂ against λ, μ = 1), Figure 8 (+ ‖θ‖₁), Figure 9 (μ ∈ {0, .5, 1, 1.5}).
* ``prop2_demo`` (Alvarez), ``corollary2_table``, ``small_lambda_table`` (Appendix C.5), the Δ slider
  (ψ_Δ between ℓ1 and ℓ2) and the λ slider, with the frame-drawing functions shared by the live widgets
  and the kernel-free scrubbers.
Replications are independent datasets ``sparse_regression(seed=s)``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ._checks import check_lam, check_positive, fidelity_preset
from .cache import cached_arrays
from .data import sparse_regression
from .dln import train_mgf
from .implicit import (corollary2_delta, implicit_solution, min_l1_interpolator, min_l2_interpolator,
                       normalised_distance, prop3_bound, small_lambda_delta)

__all__ = ["mgf_points", "Fig3Config", "Fig3Result", "fig3", "Fig8Config", "Fig8Result", "fig8",
           "Fig9Config", "Fig9Result", "fig9", "prop2_demo", "Prop2Demo", "corollary2_table",
           "small_lambda_table", "delta_path", "draw_delta_frame", "delta_widget", "lambda_path",
           "draw_lambda_frame", "lambda_widget", "theorem1_table", "FIGURES"]

_VERSION = "sec3-v2"
_BOOK_LAMS = (0.0, 1e-3, 0.01, 0.03, 0.05, 0.07, 0.1, 0.12, 0.15, 0.21, 0.3, 0.5, 0.7, 1.0)
_PAPER_LAMS = tuple(sorted(set((0.0,) + tuple(np.round(np.logspace(-4, -1.5, 6), 6))
                               + tuple(np.round(np.linspace(0.04, 1.0, 33), 4)))))
_COLORS = {"test": "#1b4f8a", "delta": "#c0392b", "l1": "#2a7f62"}   # dark blue / red / green


# ------------------------------------------------------------------------------- the cached sweep
def _point(mu, seed, lam, alpha, n, d, s, sigma):
    def compute():
        ds = sparse_regression(n=n, d=d, s=s, mu=mu, sigma=sigma, seed=seed)
        r = train_mgf(ds.X, ds.y, lam, alpha=alpha)
        ref = implicit_solution(ds.X, ds.y, r.delta_inf)
        return dict(theta=r.theta, delta_inf=r.delta_inf, vanished=np.array(r.vanished),
                    converged=np.array(r.converged), train_loss=np.array(r.train_loss),
                    test_loss=np.array(ds.test_loss(r.theta)), t=np.array(r.t),
                    nd=np.array(float(normalised_distance(r.theta, ref))))
    params = dict(mu=float(mu), seed=int(seed), lam=float(lam), alpha=float(alpha), n=int(n), d=int(d),
                  s=int(s), sigma=float(sigma), version=_VERSION)
    return cached_arrays("sec3-point", params, compute)


def _point_job(args):
    return _point(*args)


def mgf_points(mus, seeds, lams, alpha=0.01, n=20, d=30, s=5, sigma=1.0, progress=False, n_jobs=2):
    """MGF(λ) runs over μ × replication × λ (each cached on disk): dict of arrays (n_mu, n_seed, n_lam, ...)."""
    mus, seeds, lams = list(mus), list(seeds), [check_lam(x) for x in lams]
    jobs = [(float(m), int(sd), float(la), float(alpha), n, d, s, float(sigma))
            for m in mus for sd in seeds for la in lams]
    if n_jobs > 1 and len(jobs) > 4:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=mp.get_context("fork")) as ex:
            it = ex.map(_point_job, jobs, chunksize=2)
            if progress:
                from tqdm.auto import tqdm
                it = tqdm(it, total=len(jobs), desc="MGF(λ) runs")
            out = list(it)
    else:
        it = jobs
        if progress:
            from tqdm.auto import tqdm
            it = tqdm(jobs, desc="MGF(λ) runs")
        out = [_point_job(j) for j in it]
    shape = (len(mus), len(seeds), len(lams))
    return {k: np.stack([o[k] for o in out]).reshape(shape + np.shape(out[0][k])) for k in out[0]}


# ------------------------------------------------------------------------------------ Figure 3
def _lambda_stats(lams, test, delta_norm, vanished):
    """λ*, λmax and the gain over GF from mean test losses over replications (λ[0] must be 0 = GF)."""
    mean_test = np.exp(np.mean(np.log(test), axis=0))
    i_star = int(np.argmin(mean_test))
    gf = mean_test[0]
    beyond = np.nonzero((np.arange(len(lams)) > i_star) & (mean_test >= gf))[0]
    if beyond.size:   # interpolate the crossing linearly in log test loss
        j = beyond[0]
        a, b = np.log(mean_test[j - 1]) - np.log(gf), np.log(mean_test[j]) - np.log(gf)
        lam_max = float(lams[j - 1] + (lams[j] - lams[j - 1]) * (-a) / (b - a)) if b != a else float(lams[j])
    else:
        lam_max = float("inf")
    never = ~np.any(vanished, axis=0)
    zone = float(lams[np.nonzero(never & (np.asarray(lams) > 0))[0].max()]) if np.any(never[1:]) else 0.0
    first_van = np.nonzero(~never)[0]
    return dict(lambda_star=float(lams[i_star]), lambda_max=lam_max, gain_over_gf=float(gf / mean_test[i_star]),
                gf_test_loss=float(gf), best_test_loss=float(mean_test[i_star]),
                lambda_nonvanishing_max=zone,
                lambda_first_vanishing=float(lams[first_van[0]]) if first_van.size else float("inf"),
                lambda_star_vanished=bool(not never[i_star]),
                delta_norm_at_star=float(np.mean(delta_norm, axis=0)[i_star]))


@dataclass(frozen=True)
class Fig3Config:
    """Figure 3: test loss and ‖Δ∞‖₂ of MGF(λ), λ ∈ [0, 1], μ = 1, u0 = α1, v0 = 0 (Section 3.3)."""

    lams: tuple = _BOOK_LAMS
    seeds: tuple = (0, 1, 2, 3, 4)
    mu: float = 1.0
    alpha: float = 0.01
    n: int = 20
    d: int = 30
    s: int = 5
    sigma: float = 1.0

    def __post_init__(self):
        from ._checks import check_config
        check_config(self, dict(lams="lams0", seeds="seeds", mu="real", alpha="pos", n="int1", d="int1",
                                s="int1", sigma="nonneg"), ordered=[("s", "d")])

    @classmethod
    def preset(cls, fidelity):
        """'test' (3 λ, 1 replication), 'book' (14 λ, 5 replications) or 'paper' (39 λ, 5 replications)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(lams=(0.0, 0.05, 0.2), seeds=(0,)),
                               paper=dict(lams=_PAPER_LAMS))


class _RunNorms:
    """‖Δ∞‖₂ and ‖θ‖₁ per run, for results holding ``delta_inf`` and ``theta`` (Figures 3, 8, 9)."""

    @property
    def delta_norm(self):
        """‖Δ∞‖₂ per run."""
        return np.linalg.norm(self.delta_inf, axis=-1)

    @property
    def l1_norm(self):
        """‖θ‖₁ per run."""
        return np.abs(self.theta).sum(axis=-1)


@dataclass(frozen=True)
class Fig3Result(_RunNorms):
    """Figure 3 data: arrays of shape (n_seed, n_lam) (d-vectors last)."""

    config: Fig3Config
    lams: np.ndarray
    test_loss: np.ndarray
    train_loss: np.ndarray
    delta_inf: np.ndarray
    theta: np.ndarray
    vanished: np.ndarray
    converged: np.ndarray
    normalised_distance: np.ndarray
    prop3_bound: np.ndarray

    def summary(self):
        """Measured claims: λ*, λmax, gain over GF, the shaded zone, Prop. 3, Theorem 1 distances."""
        out = _lambda_stats(self.lams, self.test_loss, self.delta_norm, self.vanished)
        pos = self.lams > 0
        out.update(prop3_bound_min=float(np.min(self.prop3_bound)),
                   prop3_holds=bool(not np.any(self.vanished[:, self.lams <= np.min(self.prop3_bound)])),
                   max_normalised_distance=float(np.max(self.normalised_distance[:, pos])) if pos.any() else 0.0,
                   worst_train_loss=float(np.max(self.train_loss)),
                   all_converged=bool(np.all(self.converged)),
                   n_runs=int(self.test_loss.size))
        return out

    def arrays(self):
        """Raw numbers."""
        return dict(lams=self.lams, test_loss=self.test_loss, train_loss=self.train_loss,
                    delta_inf=self.delta_inf, theta=self.theta, vanished=self.vanished,
                    converged=self.converged, normalised_distance=self.normalised_distance,
                    prop3_bound=self.prop3_bound)

    def plot(self, ax=None, marker_lam=None):
        """Figure 3: geometric mean (line) and ×/÷ one geometric s.d. (band) of test loss and ‖Δ∞‖₂ vs λ."""
        import matplotlib.pyplot as plt
        fig = None
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.4, 3.8))
        _plot_fig3_axes(ax, self, marker_lam)
        return fig if fig is not None else ax.figure


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


def _plot_fig3_axes(ax, res, marker_lam=None):
    lams = res.lams
    never = ~np.any(res.vanished, axis=0)
    # Shade the λ-intervals where no replication's balancedness vanished (Corollary 2 applies).
    for i in range(len(lams) - 1):
        if never[i] and never[i + 1]:
            ax.axvspan(lams[i], lams[i + 1], color="0.85", lw=0, zorder=0)
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
                xytext=(8, -4), textcoords="offset points", fontsize=7, va="top")
    bad = ~np.all(res.converged, axis=0)
    if np.any(bad):   # runs that did not reach the train-loss tolerance are marked, never hidden
        ax.plot(lams[bad], m[bad], "kx", ms=9, mew=2, label="not converged")
    if marker_lam is not None:
        j = int(np.argmin(np.abs(lams - marker_lam)))
        ax.plot([lams[j]], [m[j]], "*", ms=14, color="#f1c40f", mec="k", zorder=5)
    ax.set_title("MGF(λ) on a diagonal network (grey: Δ_t never vanished)", fontsize=9)


def _fig3_like(cfg):
    pts = mgf_points([cfg.mu], cfg.seeds, cfg.lams, cfg.alpha, cfg.n, cfg.d, cfg.s, cfg.sigma)
    return pts


def _prop3_bounds(cfg):
    out = []
    for sd in cfg.seeds:
        ds = sparse_regression(n=cfg.n, d=cfg.d, s=cfg.s, mu=cfg.mu, sigma=cfg.sigma, seed=int(sd))
        out.append(prop3_bound(ds.X, ds.y, cfg.alpha ** 2 * np.ones(cfg.d)))
    return np.array(out)


def fig3(config=None, progress=False):
    """Compute Figure 3 (cached per run): MGF(λ) over λ and replications at μ = 1 (Section 3.3)."""
    cfg = Fig3Config() if config is None else config
    pts = mgf_points([cfg.mu], cfg.seeds, cfg.lams, cfg.alpha, cfg.n, cfg.d, cfg.s, cfg.sigma, progress=progress)
    p = {k: v[0] for k, v in pts.items()}
    return Fig3Result(config=cfg, lams=np.array(cfg.lams, dtype=float), test_loss=p["test_loss"],
                      train_loss=p["train_loss"], delta_inf=p["delta_inf"], theta=p["theta"],
                      vanished=p["vanished"].astype(bool), converged=p["converged"].astype(bool),
                      normalised_distance=p["nd"], prop3_bound=_prop3_bounds(cfg))


def theorem1_table(res):
    """Rows (λ, max and mean normalised distance over replications, vanished count) (Theorem 1, F.2.1)."""
    rows = []
    for j, la in enumerate(res.lams):
        if la == 0:
            continue
        nd = res.normalised_distance[:, j]
        rows.append((float(la), float(nd.max()), float(nd.mean()), int(res.vanished[:, j].sum())))
    return rows


# ------------------------------------------------------------------------------------ Figure 8
@dataclass(frozen=True)
class Fig8Config(Fig3Config):
    """Figure 8: test loss, ‖Δ∞‖₂ and ‖θ_MGF‖₁ against λ at μ = 1 (Appendix F.2.1)."""


@dataclass(frozen=True)
class Fig8Result(Fig3Result):
    """Figure 8 data (same runs as Figure 3)."""

    def summary(self):
        """Figure 3's claims plus the ℓ1 norm at GF and at λ*, and corr(log ‖Δ∞‖, log test loss)."""
        out = super().summary()
        l1 = self.l1_norm.mean(axis=0)
        i_star = int(np.argmin(np.exp(np.mean(np.log(self.test_loss), axis=0))))
        out.update(l1_gf=float(l1[0]), l1_at_star=float(l1[i_star]),
                   corr_delta_test=float(np.corrcoef(np.log(self.delta_norm.ravel()),
                                                     np.log(self.test_loss.ravel()))[0, 1]))
        return out

    def plot(self):
        """Figure 8: three panels against λ, mean and spread over replications."""
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
        for ax, Y, c, lab in zip(axes, [self.test_loss, self.delta_norm, self.l1_norm],
                                 ["test", "delta", "l1"], ["test loss", r"$\|\Delta_\infty\|_2$",
                                                           r"$\|\theta^{MGF}\|_1$"]):
            never = ~np.any(self.vanished, axis=0)
            for i in range(len(self.lams) - 1):
                if never[i] and never[i + 1]:
                    ax.axvspan(self.lams[i], self.lams[i + 1], color="0.85", lw=0, zorder=0)
            _band(ax, self.lams, Y, _COLORS[c], lab, log=(c != "l1"))
            ax.set_yscale("log" if c != "l1" else "linear")
            ax.set_xlabel(r"$\lambda$")
            ax.set_title(lab, fontsize=10)
        fig.suptitle(f"MGF(λ), μ = {self.config.mu:g} (grey: Δ_t never vanished)", fontsize=10)
        fig.tight_layout()
        return fig


def fig8(config=None, progress=False):
    """Compute Figure 8 (the Figure 3 runs, plus ‖θ‖₁) (Appendix F.2.1)."""
    cfg = Fig8Config() if config is None else config
    r = fig3(cfg, progress=progress)
    return Fig8Result(**{f.name: getattr(r, f.name) for f in dataclasses.fields(r)})


# ------------------------------------------------------------------------------------ Figure 9
_BOOK_LAMS9 = (0.0, 0.01, 0.03, 0.05, 0.07, 0.1, 0.15, 0.21, 0.3, 0.5, 0.7, 1.0)


@dataclass(frozen=True)
class Fig9Config:
    """Figure 9: test loss, ‖Δ∞‖₂ and ‖θ‖₁ against λ for μ ∈ {0, 0.5, 1, 1.5} (Appendix F.2.1)."""

    mus: tuple = (0.0, 0.5, 1.0, 1.5)
    lams: tuple = _BOOK_LAMS9
    seeds: tuple = (0,)
    alpha: float = 0.01
    n: int = 20
    d: int = 30
    s: int = 5
    sigma: float = 1.0

    def __post_init__(self):
        from ._checks import check_config
        check_config(self, dict(mus="real+", lams="lams0", seeds="seeds", alpha="pos", n="int1", d="int1",
                                s="int1", sigma="nonneg"), ordered=[("s", "d")])

    @classmethod
    def preset(cls, fidelity):
        """'test' (2 μ, 3 λ, 1 replication), 'book' (4 μ, 12 λ, 1 replication), 'paper' (39 λ, 5 repl.)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(mus=(0.0, 1.0), lams=(0.0, 0.05, 0.2), seeds=(0,)),
                               paper=dict(lams=_PAPER_LAMS, seeds=(0, 1, 2, 3, 4)))


@dataclass(frozen=True)
class Fig9Result(_RunNorms):
    """Figure 9 data: arrays of shape (n_mu, n_seed, n_lam) (d-vectors last)."""

    config: Fig9Config
    mus: np.ndarray
    lams: np.ndarray
    test_loss: np.ndarray
    delta_inf: np.ndarray
    theta: np.ndarray
    vanished: np.ndarray
    normalised_distance: np.ndarray
    converged: np.ndarray

    def per_mu(self):
        """Per μ: λ*, λmax, gain over GF and the spread of the mean test loss across λ (max/min)."""
        rows = {}
        for i, mu in enumerate(self.mus):
            st = _lambda_stats(self.lams, self.test_loss[i], self.delta_norm[i], self.vanished[i])
            mt = np.exp(np.mean(np.log(self.test_loss[i]), axis=0))
            st["test_loss_range"] = float(mt.max() / mt.min())
            st["l1_range"] = float(self.l1_norm[i].mean(0).max() - self.l1_norm[i].mean(0).min())
            rows[f"{mu:g}"] = st
        return rows

    def summary(self):
        """Per-μ measured claims (flattened) and the worst Theorem 1 distance."""
        out = {}
        for mu, st in self.per_mu().items():
            for k in ("lambda_star", "lambda_max", "gain_over_gf", "test_loss_range"):
                out[f"mu={mu}:{k}"] = st[k]
        out["max_normalised_distance"] = float(np.max(self.normalised_distance[..., self.lams > 0]))
        out["all_converged"] = bool(np.all(self.converged))
        return out

    def arrays(self):
        """Raw numbers."""
        return dict(mus=self.mus, lams=self.lams, test_loss=self.test_loss, delta_inf=self.delta_inf,
                    theta=self.theta, vanished=self.vanished, normalised_distance=self.normalised_distance,
                    converged=self.converged)

    def plot(self):
        """Figure 9: three panels, one curve per μ (mean over replications; hollow markers: Δ_t vanished)."""
        import matplotlib.pyplot as plt
        from matplotlib import cm
        fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.3))
        cols = cm.viridis(np.linspace(0.0, 0.85, len(self.mus)))
        for i, mu in enumerate(self.mus):
            van = np.any(self.vanished[i], axis=0)
            for ax, Y in zip(axes, [self.test_loss[i], self.delta_norm[i], self.l1_norm[i]]):
                m = np.exp(np.mean(np.log(Y), axis=0))
                ax.plot(self.lams, m, "-", color=cols[i], label=f"μ = {mu:g}")
                ax.plot(self.lams[~van], m[~van], "o", ms=4, color=cols[i])
                ax.plot(self.lams[van], m[van], "o", ms=4, mfc="none", color=cols[i])
                bad = ~np.all(self.converged[i], axis=0)
                ax.plot(self.lams[bad], m[bad], "kx", ms=8, mew=2)   # not converged: marked
        for ax, lab in zip(axes, ["test loss", r"$\|\Delta_\infty\|_2$", r"$\|\theta^{MGF}\|_1$"]):
            ax.set_yscale("log" if ax is not axes[2] else "linear")
            ax.set_xlabel(r"$\lambda$")
            ax.set_title(lab, fontsize=10)
        axes[0].legend(fontsize=8)
        fig.suptitle("MGF(λ) for several data means μ (filled: Δ_t never vanished)", fontsize=10)
        fig.tight_layout()
        return fig


def fig9(config=None, progress=False):
    """Compute Figure 9 (cached per run): MGF(λ) for μ ∈ {0, 0.5, 1, 1.5} (Appendix F.2.1)."""
    cfg = Fig9Config() if config is None else config
    p = mgf_points(cfg.mus, cfg.seeds, cfg.lams, cfg.alpha, cfg.n, cfg.d, cfg.s, cfg.sigma, progress=progress)
    return Fig9Result(config=cfg, mus=np.array(cfg.mus, float), lams=np.array(cfg.lams, float),
                      test_loss=p["test_loss"], delta_inf=p["delta_inf"], theta=p["theta"],
                      vanished=p["vanished"].astype(bool), normalised_distance=p["nd"],
                      converged=p["converged"].astype(bool))


# ----------------------------------------------------------------------------- Proposition 2 demo
@dataclass(frozen=True)
class Prop2Demo:
    """MGF(λ) on least squares from (θ0, θ̇0): limit vs projections of θ0 + λθ̇0 and of θ0 (Prop. 2)."""

    lam: float
    theta_limit: np.ndarray
    predicted: np.ndarray
    gf_projection: np.ndarray
    distance: float
    distance_to_gf_projection: float
    train_loss: float


def prop2_demo(lam=0.5, seed=0, t_end=400.0, speed_scale=1.0):
    """Proposition 2 (Alvarez): MGF(λ) on L(θ) = ‖Xθ−y‖²/2n with θ̇0 ≠ 0 → proj_S(θ0 + λθ̇0)."""
    from .momentum import mgf
    from ._checks import check_real
    lam = check_positive(lam, "lam")
    speed_scale, t_end = check_real(speed_scale, "speed_scale"), check_positive(t_end, "t_end")
    ds = sparse_regression(seed=seed)
    X, y = ds.X, ds.y
    n = X.shape[0]
    rng = np.random.default_rng(1000 + seed)
    theta0 = rng.standard_normal(ds.d)
    vel0 = speed_scale * rng.standard_normal(ds.d)
    H = X.T @ X / n
    grad = lambda th: X.T @ (X @ th - y) / n
    from .dln import _one_blas_thread
    with _one_blas_thread():
        W = mgf(grad, theta0, lam, np.array([0.0, t_end]), v0=vel0, jac=lambda th: H, rtol=1e-12, atol=1e-14)
    lim = W[-1]
    pred = min_l2_interpolator(X, y, theta0=theta0 + lam * vel0)
    gfp = min_l2_interpolator(X, y, theta0=theta0)
    r = X @ lim - y
    return Prop2Demo(lam=lam, theta_limit=lim, predicted=pred, gf_projection=gfp,
                     distance=float(np.linalg.norm(lim - pred)),
                     distance_to_gf_projection=float(np.linalg.norm(lim - gfp)),
                     train_loss=0.5 * float(r @ r) / n)


# --------------------------------------------------------------- Corollary 2 and Appendix C.5
def _traj_point(lam, seed, mu=1.0, alpha=0.01, refine=8):
    def compute():
        ds = sparse_regression(mu=mu, seed=seed)
        r = train_mgf(ds.X, ds.y, lam, alpha=alpha, trajectory=True, refine=refine)
        out = dict(delta_inf=r.delta_inf, delta0=r.delta0, vanished=np.array(r.vanished))
        if not r.vanished and lam > 0:
            out["cor2"] = corollary2_delta(r.trajectory, lam)
            out["small"] = small_lambda_delta(r.trajectory, lam, ds.X, ds.y)
        else:
            out["cor2"] = np.full(ds.d, -1.0)
            out["small"] = np.full(ds.d, -1.0)
        return out
    params = dict(lam=float(lam), seed=int(seed), mu=float(mu), alpha=float(alpha), refine=int(refine),
                  version=_VERSION)
    return cached_arrays("sec3-traj", params, compute)


def corollary2_table(lams=(1e-3, 0.01, 0.03, 0.05, 0.07), seed=0):
    """Rows (λ, vanished, max_i |Cor.2 Δ∞,i / simulated Δ∞,i − 1| or None where Δ_t vanished) (Cor. 2)."""
    rows = []
    for la in lams:
        p = _traj_point(la, seed)
        van = bool(p["vanished"])
        err = None if van else float(np.max(np.abs(p["cor2"] / p["delta_inf"] - 1)))
        rows.append((float(la), van, err))
    return rows


def small_lambda_table(lams=(1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.05), seed=0):
    """Arrays λ, mean log(Δ∞/Δ0) simulated and from the C.5 approximation (nan where Δ_t vanished)."""
    sim, approx = [], []
    for la in lams:
        p = _traj_point(la, seed)
        sim.append(float(np.mean(np.log(p["delta_inf"] / p["delta0"]))))
        approx.append(float("nan") if bool(p["vanished"]) else float(np.mean(np.log(p["small"] / p["delta0"]))))
    return np.array(lams, float), np.array(sim), np.array(approx)


# ------------------------------------------------------------------------------- the Δ slider
def delta_path(log10_deltas=tuple(np.arange(-8.0, 4.01, 1.0)), seed=0):
    """argmin_S ψ_Δ for Δ on a log grid, with min-ℓ1 and min-ℓ2 interpolators (Eq. 7, App. E)."""
    ds = sparse_regression(seed=seed)
    thetas = np.array([implicit_solution(ds.X, ds.y, 10.0 ** ld) for ld in log10_deltas])
    return dict(log10_delta=np.array(log10_deltas, float), thetas=thetas,
                l1=min_l1_interpolator(ds.X, ds.y), l2=min_l2_interpolator(ds.X, ds.y),
                theta_star=ds.theta_star)


def draw_delta_frame(fig, log10_delta, path=None):
    """One frame: argmin_S ψ_Δ against the min-ℓ1 and min-ℓ2 interpolators and θ*; ‖·‖₁ against log Δ."""
    path = delta_path() if path is None else path
    ds = sparse_regression()
    th = implicit_solution(ds.X, ds.y, 10.0 ** float(log10_delta))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=[1.6, 1]))
    idx = np.arange(th.size)
    ax1.plot(idx, path["l2"], "s", mfc="none", color="#7f7f7f", ms=5, label="min-ℓ2")
    ax1.plot(idx, path["l1"], "D", mfc="none", color="#2a7f62", ms=6, label="min-ℓ1")
    ax1.vlines(idx, 0, th, color="#1b4f8a", lw=2)
    ax1.plot(idx, th, "o", color="#1b4f8a", ms=3, label=r"argmin$_S\,\psi_\Delta$")
    ax1.axhline(0, color="k", lw=0.5)
    ax1.set_xlabel("coordinate i")
    ax1.set_title(f"Δ = 1e{float(log10_delta):+.1f}: ‖θ‖₁ = {np.abs(th).sum():.3f}", fontsize=9)
    ax1.legend(fontsize=7, loc="upper right")
    l1s = np.abs(path["thetas"]).sum(axis=1)
    ax2.plot(path["log10_delta"], l1s, "-", color="#1b4f8a")
    ax2.axhline(np.abs(path["l1"]).sum(), color="#2a7f62", ls="--", lw=1, label="min ℓ1")
    ax2.axhline(np.abs(path["l2"]).sum(), color="#7f7f7f", ls=":", lw=1, label="‖min-ℓ2‖₁")
    ax2.plot([log10_delta], [np.abs(th).sum()], "o", color="#c0392b")
    ax2.set_xlabel(r"$\log_{10}\Delta$")
    ax2.set_ylabel(r"$\|\theta\|_1$")
    ax2.legend(fontsize=7)
    fig.tight_layout()


def delta_widget():
    """ipywidgets: a log Δ slider redrawing ``draw_delta_frame`` (each frame is one dual Newton solve)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    path = delta_path()
    out = widgets.Output()
    slider = widgets.FloatLogSlider(value=1e-4, base=10, min=-8, max=4, step=0.25, description="Δ")

    def redraw(change=None):
        with out:
            out.clear_output(wait=True)
            fig = plt.figure(figsize=(8, 3.2))
            draw_delta_frame(fig, np.log10(slider.value), path)
            plt.show()
    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, out])


# ------------------------------------------------------------------------------- the λ slider
_SLIDER_LAMS = (0.0, 0.01, 0.05, 0.1, 0.15, 0.21, 0.3, 0.5, 1.0)


def lambda_path(lam, seed=0, n_times=240):
    """One MGF(λ) run sampled at log-spaced times: θ_t, Δ_t, final θ, θ* (cached) (Section 3)."""
    lam = check_lam(lam)

    def compute():
        ds = sparse_regression(seed=seed)
        r = train_mgf(ds.X, ds.y, lam, trajectory=True, refine=1)
        tr = r.trajectory
        times = np.concatenate([[0.0], np.logspace(-2, np.log10(max(r.t, 1.0)), n_times - 1)])
        idx = np.clip(np.searchsorted(tr.t, times), 0, len(tr.t) - 1)
        return dict(t=tr.t[idx], theta=tr.theta[idx], delta=tr.delta[idx], theta_final=r.theta,
                    theta_star=ds.theta_star, vanished=np.array(r.vanished),
                    test_loss=np.array(ds.test_loss(r.theta)))
    return cached_arrays("sec3-lampath", dict(lam=float(lam), seed=int(seed), n_times=int(n_times),
                                              version=_VERSION), compute)


def draw_lambda_frame(fig, lam, fig3_result=None):
    """One frame for MGF(λ): θ_t coordinates, Δ_t per coordinate, final θ vs θ*, and λ on Figure 3."""
    p = lambda_path(lam)
    axes = fig.subplots(1, 4, gridspec_kw=dict(width_ratios=[1, 1, 1, 1.2]))
    t = np.maximum(p["t"], 1e-2)
    star = p["theta_star"] != 0
    for i in range(p["theta"].shape[1]):
        c = "#1b4f8a" if star[i] else "0.6"
        axes[0].plot(t, p["theta"][:, i], color=c, lw=1 if star[i] else 0.6)
        axes[1].plot(t, p["delta"][:, i], color=c, lw=1 if star[i] else 0.6)
    axes[0].axhline(p["theta_star"].max(), color="k", ls="--", lw=0.8)
    axes[0].set_xscale("log")
    axes[0].set_title(r"$\theta_t$ (blue: support of $\theta^*$)", fontsize=8)
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_ylim(1e-9, 1e-2)
    axes[1].set_title(r"$\Delta_t$ per coordinate", fontsize=8)
    for ax in axes[:2]:
        ax.set_xlabel("t")
    idx = np.arange(p["theta_final"].size)
    axes[2].vlines(idx, 0, p["theta_final"], color="#1b4f8a", lw=2)
    axes[2].plot(idx, p["theta_star"], "x", color="#c0392b", ms=4, label=r"$\theta^*$")
    axes[2].set_title(f"final θ (test loss {float(p['test_loss']):.2g})", fontsize=8)
    axes[2].legend(fontsize=7)
    res = fig3(Fig3Config(seeds=(0,))) if fig3_result is None else fig3_result
    _plot_fig3_axes(axes[3], res, marker_lam=lam)
    axes[3].set_title(f"λ = {lam:g}" + (" (Δ_t vanished)" if bool(p["vanished"]) else ""), fontsize=8)
    fig.tight_layout()


def lambda_widget(fig3_result=None):
    """ipywidgets: a λ slider over precomputed runs redrawing ``draw_lambda_frame``."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    res = fig3(Fig3Config(seeds=(0,))) if fig3_result is None else fig3_result
    out = widgets.Output()
    slider = widgets.SelectionSlider(options=list(_SLIDER_LAMS), value=0.1, description="λ")

    def redraw(change=None):
        with out:
            out.clear_output(wait=True)
            fig = plt.figure(figsize=(12, 3.0))
            draw_lambda_frame(fig, slider.value, res)
            plt.show()
    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, out])


FIGURES = {
    "fig3": dict(fn=fig3, config=Fig3Config,
                 title="MGF(λ) on a diagonal network: test loss and ‖Δ∞‖₂ against λ (μ = 1)",
                 seconds={"test": 3, "book": 50, "paper": 110}),
    "fig8": dict(fn=fig8, config=Fig8Config,
                 title="MGF(λ), μ = 1: test loss, ‖Δ∞‖₂ and ‖θ‖₁ against λ",
                 seconds={"test": 3, "book": 50, "paper": 110}),
    "fig9": dict(fn=fig9, config=Fig9Config,
                 title="MGF(λ) for data means μ ∈ {0, 0.5, 1, 1.5}: test loss, ‖Δ∞‖₂, ‖θ‖₁",
                 seconds={"test": 4, "book": 35, "paper": 450}),
}
