"""Section 3 figures and checks: MGF(λ) on diagonal linear networks (Figures 3, 8, 9; Appendix C, F.2.1).

* ``mgf_points``: the cached (μ, replication, λ) sweep every figure here reads: θ_MGF, Δ∞, vanished,
  train/test loss, ‖θ‖₁ and the Theorem 1 normalised distance to θGF_Δ∞ = argmin_S ψ_Δ∞.
* Figure 3 (test loss and ‖Δ∞‖₂ against λ, μ = 1), Figure 8 (+ ‖θ‖₁), Figure 9 (μ ∈ {0, .5, 1, 1.5}).
* ``prop2_demo`` (Alvarez; computed in :mod:`mdln.implicit`), ``corollary2_table``, ``small_lambda_table`` (Appendix C.5), the Δ slider
  (ψ_Δ between ℓ1 and ℓ2) and the λ slider, with the frame-drawing functions shared by the live widgets
  and the kernel-free scrubbers.
Replications are independent datasets ``sparse_regression(seed=s)``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._checks import check_lam, check_positive, fidelity_preset
from ..cache import cached_arrays
from ..data import sparse_regression
from ..dln import train_mgf
from ..implicit import (Prop2Demo, corollary2_delta, implicit_solution, linear_shift, min_l1_interpolator,
                       min_l2_interpolator, normalised_distance, prop2_demo, prop3_bound, small_lambda_delta)

__all__ = ["mgf_points", "Fig3Config", "Fig3Result", "fig3", "Fig8Config", "Fig8Result", "fig8",
           "Fig9Config", "Fig9Result", "fig9", "prop2_demo", "Prop2Demo", "corollary2_table",
           "small_lambda_table", "delta_path", "draw_delta_frame", "delta_widget", "lambda_path",
           "draw_lambda_frame", "lambda_widget", "delta_view", "lambda_view", "theorem1_table", "linearised_shift", "SimplificationConfig",
           "SimplificationResult", "fig3b", "d2_link", "theorem1_forms_table", "precompute", "FIGURES"]

_BOOK_LAMS = (0.0, 1e-3, 0.01, 0.03, 0.05, 0.07, 0.1, 0.12, 0.15, 0.21, 0.3, 0.5, 0.7, 1.0)
_PAPER_LAMS = tuple(sorted(set((0.0,) + tuple(np.round(np.logspace(-4, -1.5, 6), 6))
                               + tuple(np.round(np.linspace(0.04, 1.0, 33), 4)))))
_COLORS = {"test": "#1b4f8a", "delta": "#c0392b", "l1": "#2a7f62"}   # dark blue / red / green


# ------------------------------------------------------------------------------- the cached sweep
def _point(mu, seed, lam, alpha, n, d, s, sigma, support="first"):
    def compute():
        ds = sparse_regression(n=n, d=d, s=s, mu=mu, sigma=sigma, seed=seed, support=support)
        r = train_mgf(ds.X, ds.y, lam, alpha=alpha, trajectory=True)
        ref = implicit_solution(ds.X, ds.y, r.delta_inf)
        tt0 = r.theta_tilde0(ds.X, ds.y)
        full = implicit_solution(ds.X, ds.y, r.delta_inf, theta0=tt0)
        return dict(theta=r.theta, delta_inf=r.delta_inf, vanished=np.array(r.vanished),
                    converged=np.array(r.converged), train_loss=np.array(r.train_loss),
                    test_loss=np.array(ds.test_loss(r.theta)), t=np.array(r.t),
                    nd=np.array(float(normalised_distance(r.theta, ref))),
                    nd_full=np.array(float(normalised_distance(r.theta, full))), theta_tilde0=tt0)
    params = dict(mu=float(mu), seed=int(seed), lam=float(lam), alpha=float(alpha), n=int(n), d=int(d),
                  s=int(s), sigma=float(sigma))
    if support != "first":
        params["support"] = support
    return cached_arrays("sec3-point", params, compute)


def _point_job(args):
    return _point(*args)


def mgf_points(mus, seeds, lams, alpha=0.01, n=20, d=30, s=5, sigma=1.0, progress=False, n_jobs=2,
               support="first"):
    """MGF(λ) runs over μ × replication × λ (each cached on disk): dict of arrays (n_mu, n_seed, n_lam, ...)."""
    mus, seeds, lams = list(mus), list(seeds), [check_lam(x) for x in lams]
    jobs = [(float(m), int(sd), float(la), float(alpha), n, d, s, float(sigma), support)
            for m in mus for sd in seeds for la in lams]
    if n_jobs > 1 and len(jobs) > 4:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=mp.get_context("fork")) as ex:
            it = ex.map(_point_job, jobs, chunksize=2)
            if progress:
                from tqdm.auto import tqdm
                it = tqdm(it, total=len(jobs), desc="MGF(λ) runs", leave=False)
            out = list(it)
    else:
        it = jobs
        if progress:
            from tqdm.auto import tqdm
            it = tqdm(jobs, desc="MGF(λ) runs", leave=False)
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
        from .._checks import check_config
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
    full_distance: np.ndarray = None
    theta_tilde0: np.ndarray = None

    def summary(self):
        """Measured claims: λ*, λmax, gain over GF, the shaded zone, Prop. 3, Theorem 1 distances."""
        out = _lambda_stats(self.lams, self.test_loss, self.delta_norm, self.vanished)
        pos = self.lams > 0
        out.update(prop3_bound_min=float(np.min(self.prop3_bound)),
                   prop3_holds=bool(not np.any(self.vanished[:, self.lams <= np.min(self.prop3_bound)])),
                   max_normalised_distance=float(np.max(self.normalised_distance[:, pos])) if pos.any() else 0.0,
                   max_full_distance=float(np.max(self.full_distance)),
                   worst_train_loss=float(np.max(self.train_loss)),
                   all_converged=bool(np.all(self.converged)),
                   n_runs=int(self.test_loss.size))
        return out

    def arrays(self):
        """Raw numbers."""
        return dict(lams=self.lams, test_loss=self.test_loss, train_loss=self.train_loss,
                    delta_inf=self.delta_inf, theta=self.theta, vanished=self.vanished,
                    converged=self.converged, normalised_distance=self.normalised_distance,
                    prop3_bound=self.prop3_bound, full_distance=self.full_distance,
                    theta_tilde0=self.theta_tilde0)

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
                xytext=(8, -4), textcoords="offset points", fontsize=9, va="top")
    bad = ~np.all(res.converged, axis=0)
    if np.any(bad):   # runs that did not reach the train-loss tolerance are marked, never hidden
        ax.plot(lams[bad], m[bad], "kx", ms=9, mew=2, label="not converged")
        ax.legend(fontsize=9, loc="lower right")
    if marker_lam is not None:
        j = int(np.argmin(np.abs(lams - marker_lam)))
        ax.plot([lams[j]], [m[j]], "*", ms=14, color="#f1c40f", mec="k", zorder=5)
    ax.set_title(r"MGF($\lambda$) on a diagonal network (grey: $\Delta_t$ never vanished)", fontsize=9)


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
                      normalised_distance=p["nd"], prop3_bound=_prop3_bounds(cfg), full_distance=p["nd_full"],
                      theta_tilde0=p["theta_tilde0"])


def theorem1_table(res):
    """Rows (λ, max full-theorem distance, max and mean simplified distance, max dropped term, vanished count).

    Full: θ^MGF against argmin_S D_ψΔ∞(·, θ̃0) (Theorem 1); simplified: against argmin_S ψ_Δ∞ (Eq. 8).
    """
    from ..implicit import dropped_term
    rows = []
    for j, la in enumerate(res.lams):
        if la == 0:
            continue
        nd = res.normalised_distance[:, j]
        drop = max(dropped_term(res.theta_tilde0[k, j], res.delta_inf[k, j]) for k in range(nd.size))
        rows.append((float(la), float(res.full_distance[:, j].max()), float(nd.max()), float(nd.mean()),
                     float(drop), int(res.vanished[:, j].sum())))
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
        fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.2))
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
        fig.suptitle(f"MGF(λ), μ = {self.config.mu:g} (grey: " + r"$\Delta_t$" + " never vanished)", fontsize=10)
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
        from .._checks import check_config
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
        fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.4))
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
        from matplotlib.lines import Line2D
        extra = [Line2D([], [], marker="o", ls="", mfc="none", c="0.4", label=r"$\Delta_t$ vanished")]
        if not np.all(self.converged):
            extra.append(Line2D([], [], marker="x", ls="", c="k", mew=2, label="not converged"))
        axes[0].legend(handles=axes[0].get_legend_handles_labels()[0] + extra, fontsize=9)
        fig.suptitle(r"MGF(λ) for several data means μ (filled: $\Delta_t$ never vanished)", fontsize=10)
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
    params = dict(lam=float(lam), seed=int(seed), mu=float(mu), alpha=float(alpha), refine=int(refine))
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
_DELTA_GRID = tuple(np.round(np.arange(-8.0, 4.001, 0.25), 2))   # the slider's positions (log10 Δ)


def delta_path(log10_deltas=tuple(np.arange(-8.0, 4.01, 1.0)), seed=0):
    """argmin_S ψ_Δ for Δ on a log grid, with min-ℓ1 and min-ℓ2 interpolators (Eq. 7, App. E; cached)."""
    log10_deltas = tuple(float(x) for x in log10_deltas)

    def compute():
        ds = sparse_regression(seed=seed)
        thetas = np.array([implicit_solution(ds.X, ds.y, 10.0 ** ld) for ld in log10_deltas])
        return dict(log10_delta=np.array(log10_deltas, float), thetas=thetas,
                    l1=min_l1_interpolator(ds.X, ds.y), l2=min_l2_interpolator(ds.X, ds.y),
                    theta_star=ds.theta_star)
    return cached_arrays("sec3-deltapath", dict(log10_deltas=list(log10_deltas), seed=int(seed)), compute)


def _delta_theta(log10_delta, path):
    """argmin_S ψ_Δ: read from the precomputed path when Δ is on its grid, else one dual Newton solve."""
    k = int(np.argmin(np.abs(path["log10_delta"] - log10_delta)))
    if abs(path["log10_delta"][k] - log10_delta) < 1e-9:
        return path["thetas"][k]
    ds = sparse_regression()
    return implicit_solution(ds.X, ds.y, 10.0 ** float(log10_delta))


def delta_view(fig, path=None):
    """Build the Δ-slider figure once; return ``update(log10_delta)`` that moves its artists (set_data)."""
    path = delta_path(_DELTA_GRID) if path is None else path
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
    title = ax1.set_title("", fontsize=10)
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
        th = _delta_theta(float(log10_delta), path)
        stems.set_segments([np.array([[i, 0.0], [i, v]]) for i, v in zip(idx, th)])
        dots.set_ydata(th)
        marker.set_data([float(log10_delta)], [np.abs(th).sum()])
        title.set_text(f"Δ = 1e{float(log10_delta):+.2f}: ‖θ‖₁ = {np.abs(th).sum():.3f}")
    return update


def draw_delta_frame(fig, log10_delta, path=None):
    """One frame: argmin_S ψ_Δ against the min-ℓ1 and min-ℓ2 interpolators and θ*; ‖·‖₁ against log Δ."""
    delta_view(fig, path)(log10_delta)


def _freeze_ticks(fig):
    """Fix every axis' major ticks where they are and drop minor ticks: redraws skip the tick search."""
    from matplotlib.ticker import FixedLocator, NullLocator
    for ax in fig.axes:
        for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = min(lim), max(lim)
            ticks = [t for t in axis.get_majorticklocs() if lo <= t <= hi]
            axis.set_major_locator(FixedLocator(ticks))
            axis.set_minor_locator(NullLocator())


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
_SLIDER_LAMS = _BOOK_LAMS


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
    return cached_arrays("sec3-lampath", dict(lam=float(lam), seed=int(seed), n_times=int(n_times)), compute)


def lambda_view(fig, fig3_result=None, lams=_SLIDER_LAMS):
    """Build the λ-slider figure (2×2) once; return ``update(lam)`` moving its artists (set_data)."""
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
    idx = np.arange(d)
    stems = axes[2].vlines(idx, 0, np.zeros(d), color="#1b4f8a", lw=2)
    axes[2].plot(idx, p0["theta_star"], "x", color="#c0392b", ms=5, label=r"$\theta^*$")
    fin = np.array([p["theta_final"] for p in paths.values()])
    axes[2].set_ylim(min(0.0, fin.min()) - 0.03, fin.max() + 0.05)
    axes[2].axhline(0, color="k", lw=0.5)
    axes[2].set_xlabel("coordinate i", fontsize=10)
    axes[2].legend(fontsize=9)
    final_title = axes[2].set_title("", fontsize=10)
    res = fig3(Fig3Config(seeds=(0,))) if fig3_result is None else fig3_result
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
        stems.set_segments([np.array([[i, 0.0], [i, v]]) for i, v in zip(idx, p["theta_final"])])
        final_title.set_text(f"final θ (test loss {float(p['test_loss']):.2g})")
        j = int(np.argmin(np.abs(res.lams - float(lam))))
        marker.set_data([res.lams[j]], [mean_test[j]])
        fig3_title.set_text(f"λ = {float(lam):g} on Figure 3" + (r" ($\Delta_t$ vanished)" if bool(p["vanished"]) else ""))
    return update


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
                          lam=widgets.choice(_SLIDER_LAMS, 0.1, readout=False))


# ------------------------------------------------- Theorem 1 in full and where θ̃0 ≈ 0 holds (issue 13)
linearised_shift = linear_shift
"""‖δθ‖/‖θ‖: first-order change of argmin_S D_ψΔ(·, θ̃0) when θ̃0 is dropped (Theorem 1 vs Eq. 8); the same
measure as chapter 4's, :func:`mdln.implicit.linear_shift`."""


@dataclass(frozen=True)
class SimplificationConfig:
    """Where θ̃0 ≈ 0 holds: MGF(λ) over λ × data sets, half with θ* on a random support (issue 13, item 3)."""

    lams: tuple = (0.01, 0.03, 0.05, 0.1, 0.21, 0.5)
    seeds: tuple = tuple(range(10))
    random_seeds: tuple = tuple(range(10, 20))
    mu: float = 1.0
    alpha: float = 0.01
    n: int = 20
    d: int = 30
    s: int = 5
    sigma: float = 1.0

    @classmethod
    def preset(cls, fidelity):
        """'test' (2 λ, 2 data sets), 'book' (6 λ × 20 data sets), 'paper' (12 λ × 40 data sets)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(lams=(0.03, 0.3), seeds=(0,), random_seeds=(10,)),
                               paper=dict(lams=(0.001, 0.01, 0.03, 0.05, 0.07, 0.1, 0.15, 0.21, 0.3, 0.5, 0.7, 1.0),
                                          seeds=tuple(range(20)), random_seeds=tuple(range(20, 40))))


_MEASURES = ("dropped_term", "ratio", "linearised")
_MEASURE_LABELS = {"dropped_term": r"$\max_i|\mathrm{arcsinh}(2\tilde\theta_{0,i}/\Delta_{\infty,i})|$",
                   "ratio": r"$\max_i|\tilde\theta_{0,i}|/\Delta_{\infty,i}$",
                   "linearised": r"first-order shift $\|P(Da)\|/\|\theta\|$"}


@dataclass(frozen=True)
class SimplificationResult:
    """Per run (data set × λ): both distances and three measures of the dropped term (flattened arrays)."""

    config: SimplificationConfig
    lam: np.ndarray
    random_support: np.ndarray
    vanished: np.ndarray
    converged: np.ndarray
    simplified_distance: np.ndarray
    full_distance: np.ndarray
    dropped_term: np.ndarray
    ratio: np.ndarray
    linearised: np.ndarray

    def rule(self, measure, level=0.01):
        """Largest c with every run of measure < c within ``level``; runs below c; Spearman ρ (log-log)."""
        from scipy.stats import spearmanr
        m, dist = getattr(self, measure), self.simplified_distance
        bad = dist >= level
        c = float(np.min(m[bad])) if bad.any() else float("inf")
        return dict(threshold=c, n_below=int(np.sum(m < c)), n_runs=int(m.size), n_over_level=int(bad.sum()),
                    spearman=float(spearmanr(m, dist).statistic),
                    max_ratio=float(np.max(dist / m)), min_ratio=float(np.min(dist / m)))

    def summary(self):
        """Worst distances and the rule for each measure."""
        out = dict(n_runs=int(self.lam.size), n_datasets=len(self.config.seeds) + len(self.config.random_seeds),
                   max_full_distance=float(np.max(self.full_distance)),
                   max_simplified_distance=float(np.max(self.simplified_distance)),
                   n_simplified_over_1pc=int(np.sum(self.simplified_distance >= 0.01)),
                   n_vanished=int(np.sum(self.vanished)), all_converged=bool(np.all(self.converged)))
        for k in _MEASURES:
            for kk, v in self.rule(k).items():
                out[f"{k}:{kk}"] = v
        return out

    def arrays(self):
        """Raw numbers, one entry per run."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "config"}

    def report(self):
        """The summary as printable lines (≤ 90 columns)."""
        sb = self.summary()
        lines = [f"{sb['n_runs']} runs on {sb['n_datasets']} data sets; all converged: {sb['all_converged']}; "
                 f"w+- changed sign in {sb['n_vanished']}",
                 f"worst full-theorem distance {sb['max_full_distance']:.1e}; worst simplified "
                 f"{sb['max_simplified_distance']:.3f}; simplified >= 1%: {sb['n_simplified_over_1pc']} runs",
                 f"{'measure':>13} {'threshold':>9} {'runs below':>10} {'Spearman':>8} {'dist/measure':>17}"]
        for k in _MEASURES:
            lines.append(f"{k:>13} {sb[k + ':threshold']:9.3g} {sb[k + ':n_below']:10d} "
                         f"{sb[k + ':spearman']:8.2f} {sb[k + ':min_ratio']:8.1e}-{sb[k + ':max_ratio']:.1e}")
        return "\n".join(lines)

    def glue_strings(self, prefix):
        """Preformatted numbers for the chapter's prose, keyed ``prefix + name``."""
        sb = self.summary()
        out = {"max_full_distance": f"{sb['max_full_distance']:.0e}",
               "max_simplified_distance": f"{sb['max_simplified_distance']:.3f}",
               "n_runs": f"{sb['n_runs']}", "n_simplified_over_1pc": f"{sb['n_simplified_over_1pc']}",
               "n_vanished": f"{sb['n_vanished']}",
               "simp_never": f"{np.max(self.simplified_distance[~self.vanished]):.1e}"}
        for k in _MEASURES:
            out.update({f"{k}_thr": f"{sb[k + ':threshold']:.2g}", f"{k}_below": f"{sb[k + ':n_below']}",
                        f"{k}_rho": f"{sb[k + ':spearman']:.2f}", f"{k}_lo": f"{sb[k + ':min_ratio']:.2g}",
                        f"{k}_hi": f"{sb[k + ':max_ratio']:.2g}"})
        return {prefix + k: v for k, v in out.items()}

    def plot(self):
        """Simplified-form distance against the three measures (colour: λ; open: random support)."""
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.4), sharey=True)
        lams = np.unique(self.lam)
        cols = plt.cm.viridis(np.linspace(0, 0.9, len(lams)))
        for ax, k in zip(axes, _MEASURES):
            for la, c in zip(lams, cols):
                for rnd, mk in ((False, "o"), (True, "s")):
                    sel = (self.lam == la) & (self.random_support == rnd)
                    ok = sel & self.converged
                    ax.scatter(getattr(self, k)[ok], self.simplified_distance[ok], s=16, marker=mk,
                               facecolors=c if not rnd else "none", edgecolors=c,
                               label=f"λ = {la:g}" if not rnd else None)
                    nc = sel & ~self.converged
                    if nc.any():
                        ax.scatter(getattr(self, k)[nc], self.simplified_distance[nc], marker="x", c="k", s=30)
            ax.axhline(0.01, color="k", ls="--", lw=0.8)
            thr = self.rule(k)["threshold"]
            if np.isfinite(thr):
                ax.axvline(thr, color="#c0392b", ls=":", lw=1)
            if k == "linearised":
                xs = np.logspace(np.log10(self.linearised.min()), np.log10(self.linearised.max()), 10)
                ax.plot(xs, xs, color="0.4", lw=0.8, label="y = x")
            ax.set_xscale("log")
            ax.set_yscale("log")
            from matplotlib.ticker import LogLocator, NullFormatter
            ax.xaxis.set_major_locator(LogLocator(numticks=5))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel(_MEASURE_LABELS[k], fontsize=9)
            ax.tick_params(labelsize=9)
        axes[0].set_ylabel(r"distance to argmin$_S\,\psi_{\Delta_\infty}$", fontsize=9)
        h, lab = axes[0].get_legend_handles_labels()
        from matplotlib.lines import Line2D
        h += [Line2D([], [], marker="o", ls="", mfc="0.5", mec="0.5"), Line2D([], [], marker="s", ls="", mfc="none", mec="0.5"),
              Line2D([], [], marker="x", ls="", c="k"), Line2D([], [], ls=":", c="#c0392b")]
        lab += ["θ* on first s", "θ* random support", "not converged", "rule threshold"]
        fig.legend(h, lab, loc="lower center", ncol=5, fontsize=9, frameon=False)
        fig.tight_layout(rect=(0, 0.17, 1, 1))
        return fig


def fig3b(config=None, progress=False):
    """Distance of θ^MGF to argmin_S ψ_Δ∞ (Eq. 8) against measures of the dropped θ̃0 (Theorem 1, issue 13)."""
    cfg = SimplificationConfig() if config is None else config
    cols = {k: [] for k in ("lam", "random_support", "vanished", "converged", "simplified_distance",
                            "full_distance", "dropped_term", "ratio", "linearised")}
    from ..implicit import dropped_term
    for support, seeds in (("first", cfg.seeds), ("random", cfg.random_seeds)):
        if not seeds:
            continue
        p = mgf_points([cfg.mu], seeds, cfg.lams, cfg.alpha, cfg.n, cfg.d, cfg.s, cfg.sigma, progress=progress,
                       support=support)
        for i, sd in enumerate(seeds):
            ds = sparse_regression(n=cfg.n, d=cfg.d, s=cfg.s, mu=cfg.mu, sigma=cfg.sigma, seed=int(sd),
                                   support=support)
            for j, la in enumerate(cfg.lams):
                th, dl, tt0 = p["theta"][0, i, j], p["delta_inf"][0, i, j], p["theta_tilde0"][0, i, j]
                cols["lam"].append(float(la))
                cols["random_support"].append(support == "random")
                cols["vanished"].append(bool(p["vanished"][0, i, j]))
                cols["converged"].append(bool(p["converged"][0, i, j]))
                cols["simplified_distance"].append(float(p["nd"][0, i, j]))
                cols["full_distance"].append(float(p["nd_full"][0, i, j]))
                cols["dropped_term"].append(dropped_term(tt0, dl))
                cols["ratio"].append(float(np.max(np.abs(tt0) / dl)))
                cols["linearised"].append(linearised_shift(ds.X, th, dl, tt0))
    return SimplificationResult(config=cfg, **{k: np.array(v) for k, v in cols.items()})


def theorem1_forms_table(lams=(0.001, 0.01, 0.03, 0.05), seeds=(0, 1, 2), mu=1.0):
    """Rows (λ, seed, vanished, max|I_traj − I_end|, full distance with each form, simplified distance).

    I_traj = λ∫(ẇ±/w±)² (Lemma 1 without sign changes), I_end = the C.3.1 endpoint form (Theorem 1).
    """
    rows = []
    for la in lams:
        for sd in seeds:
            def compute(la=la, sd=sd):
                ds = sparse_regression(mu=mu, seed=sd)
                r = train_mgf(ds.X, ds.y, la, trajectory=True)
                ends = r.integrals(ds.X, ds.y)
                out = dict(vanished=np.array(r.vanished), diff=np.array(np.nan), full_traj=np.array(np.nan),
                           full_end=np.array(float(normalised_distance(r.theta, r.theorem1_solution(ds.X, ds.y)))),
                           simplified=np.array(float(normalised_distance(
                               r.theta, implicit_solution(ds.X, ds.y, r.delta_inf)))))
                if not r.vanished:
                    traj = r.integrals()
                    out["diff"] = np.array(float(max(np.max(np.abs(traj[0] - ends[0])),
                                                     np.max(np.abs(traj[1] - ends[1])))))
                    full = implicit_solution(ds.X, ds.y, r.delta_inf, theta0=r.theta_tilde0())
                    out["full_traj"] = np.array(float(normalised_distance(r.theta, full)))
                return out
            p = cached_arrays("sec3-forms", dict(lam=float(la), seed=int(sd), mu=float(mu)),
                              compute)
            rows.append((float(la), int(sd), bool(p["vanished"]), float(p["diff"]), float(p["full_traj"]),
                         float(p["full_end"]), float(p["simplified"])))
    return rows


def d2_link(lam=0.1, eps=(0.05, 0.025, 0.0125), seed=0, mu=1.0, n=20, d=30, s=5, alpha=0.01, tol=1e-10):
    """Appendix D.2 at fixed λ: MGD(γ = ε²/λ, β = 1 − ε/λ) has λ = γ/(1−β)² and step ε; as ε → 0 its S±
    approach MGF's I±. Rows per ε: max |a_MGD − a_MGF| with a = arcsinh(2θ̃0/Δ∞), and the full-theorem
    distance of θ^MGF with θ̃0 built from MGD's S± (both on MGF's Δ∞)."""
    from ..implicit import dropped_term, kkt_shift
    from ..smgd import train_mgd
    lam = check_positive(lam, "lam")
    eps = tuple(float(check_positive(e, "eps")) for e in eps)
    if any(e >= lam for e in eps):
        raise ValueError(f"every eps must lie in (0, lam = {lam}) so that β = 1 − ε/λ ∈ (0, 1)")

    def mgf_part():
        ds = sparse_regression(n=n, d=d, s=s, mu=mu, seed=seed)
        r = train_mgf(ds.X, ds.y, lam, alpha=alpha, trajectory=True)
        ip, im = r.integrals(ds.X, ds.y)
        return dict(theta=r.theta, delta_inf=r.delta_inf, I_plus=ip, I_minus=im, tt0=r.theta_tilde0(ds.X, ds.y),
                    vanished=np.array(r.vanished))
    base = dict(lam=float(lam), seed=int(seed), mu=float(mu), n=int(n), d=int(d), s=int(s), alpha=float(alpha))
    m = cached_arrays("sec3-d2-mgf", base, mgf_part)
    ds = sparse_regression(n=n, d=d, s=s, mu=mu, seed=seed)
    a_mgf = kkt_shift(m["tt0"], m["delta_inf"])
    rows = []
    for e in eps:
        def mgd_part(e=e):
            r = train_mgd(ds.X, ds.y, e * e / lam, 1.0 - e / lam, alpha=alpha, tol=tol, max_steps=2 * 10 ** 7)
            return dict(S_plus=r.S_plus, S_minus=r.S_minus, tt0=r.theta_tilde0(), theta=r.theta,
                        delta_inf=r.delta_inf, status=np.array(str(r.status)), steps=np.array(r.steps))
        g = cached_arrays("sec3-d2-mgd", dict(base, eps=e, tol=float(tol)), mgd_part)
        full = implicit_solution(ds.X, ds.y, m["delta_inf"], theta0=g["tt0"])
        rows.append(dict(eps=e, gamma=e * e / lam, beta=1.0 - e / lam, mgd_status=str(g["status"]),
                         steps=int(g["steps"]), vanished=bool(m["vanished"]),
                         a_error=float(np.max(np.abs(kkt_shift(g["tt0"], m["delta_inf"]) - a_mgf))),
                         delta_error=float(np.max(np.abs(np.log(g["delta_inf"] / m["delta_inf"])))),
                         full_distance=float(normalised_distance(m["theta"], full)),
                         dropped_mgf=dropped_term(m["tt0"], m["delta_inf"])))
    return rows


def precompute(progress=True):
    """Compute (or load from the disk cache) every run chapter 3 shows, with a progress bar cleared at the end.

    In a notebook the bar is a widget that ``clear_output`` removes once done, so no progress text stays in
    the stored outputs; later cells then read the cache and take seconds.
    """
    tasks = [("Figure 3 runs", lambda: fig3(progress=progress)),
             ("Figure 9 runs", lambda: fig9(progress=progress)),
             ("where θ̃0 ≈ 0 holds (120 runs)", lambda: fig3b(progress=progress)),
             ("Theorem 1, two forms of I±", theorem1_forms_table),
             ("Appendix D.2 (MGD, ε → 0)", lambda: d2_link(lam=0.1, eps=(0.05, 0.025, 0.0125), n=10, d=15, s=3,
                                                        tol=1e-10)),
             ("Corollary 2 / App. C.5 runs", lambda: (corollary2_table(), small_lambda_table())),
             ("slider runs", lambda: ([lambda_path(la) for la in _SLIDER_LAMS], delta_path(_DELTA_GRID)))]
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
    "fig3b": dict(fn=fig3b, config=SimplificationConfig,
                  title="Theorem 1 in full, and where θ̃0 ≈ 0 holds: distance to argmin ψ_Δ∞ vs the dropped term",
                  seconds={"test": 4, "book": 80, "paper": 400}),
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
