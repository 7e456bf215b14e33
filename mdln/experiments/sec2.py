"""Section 2 experiments: MGD against MGF on a 2D quadratic (Figure 1), discretisation gaps, the
acceleration rule (Corollary 1), the three optimisation regimes, and the paths the Section 2 sliders show."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .._checks import check_config, fidelity_preset
from ..cache import cached_arrays
from ..data import figure1_quadratic
from ..momentum import (Quadratic, accelerate, acceleration_gap, gap_vs_step, gd, lam, mgd, mgd_quadratic,
                        mgf, mgf_lipschitz, mgf_quadratic, relative_gap, step)

__all__ = ["Fig1Config", "Fig1Result", "run_fig1", "quadratic_of", "RegimesResult", "run_regimes",
           "mgd_mgf_paths", "AccelerationPaths", "acceleration_paths"]


@dataclass(frozen=True)
class Fig1Config:
    """Figure 1 on F(w) = ½ wᵀHw, H with the given eigenvalues rotated by ``angle`` (Section 2)."""

    eigenvalues: tuple = (1.0, 0.1)
    angle: float = float(np.pi / 6)
    w0: tuple = (-1.5, 1.0)
    gamma_gd: float = 0.1          # left panel: GD(γ) against GF
    gamma: float = 0.01            # middle/right panels: MGD(γ, β)
    beta: float = 0.9
    rho: float = 2.0               # right panel: MGD(ρ²γ, 1 − ρ(1 − β))
    horizon: float = 40.0          # continuous time shown
    gap_lam: float = 1.0           # gap against ε at this fixed λ ...
    gap_eps: tuple = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)   # ... over two decades of ε
    gap_horizon: float = 20.0
    check_rhos: tuple = (2.0, 4.0)

    def __post_init__(self):
        check_config(self, dict(eigenvalues="pos2", angle="real", w0="real2", gamma_gd="pos", gamma="pos",
                                beta="beta", rho="pos", horizon="pos", gap_lam="pos", gap_eps="pos+",
                                gap_horizon="pos", check_rhos="pos+"))
        for r in (self.rho, *self.check_rhos):
            accelerate(self.gamma, self.beta, r)   # ρ ≤ 1/(1 − β), so that β̂ = 1 − ρ(1 − β) ≥ 0

    @classmethod
    def preset(cls, fidelity="book"):
        """Fidelity presets: 'test' (seconds), 'book', 'paper' (same as book: Figure 1 is cheap)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(horizon=10.0, gap_eps=(0.02, 0.05, 0.1, 0.2), gap_horizon=5.0),
                               paper=dict())


def quadratic_of(config: Fig1Config) -> Quadratic:
    """The 2D quadratic of Figure 1 for this config (:func:`mdln.data.figure1_quadratic`); w* = 0."""
    return figure1_quadratic(config.eigenvalues, config.angle)


@dataclass(frozen=True)
class Fig1Result:
    """Trajectories and measured gaps of Figure 1 (Proposition 1, Corollary 1)."""

    config: Fig1Config
    gd_path: np.ndarray
    gf_path: np.ndarray
    mgd_path: np.ndarray
    mgf_path: np.ndarray
    fast_path: np.ndarray          # MGD(ρ²γ, 1 − ρ(1 − β)), exact rule
    approx_path: np.ndarray        # MGD(ρ²γ, β^ρ), the paper's approximation
    gd_slow_loss: np.ndarray       # GD(γ_gd) losses
    gd_fast_loss: np.ndarray       # GD(ρ²γ_gd) losses
    gap_eps: np.ndarray
    gap_values: np.ndarray
    gap_slope: float
    gap_bound: np.ndarray          # Grönwall-type exp(L T) ε bound
    gaps: dict = field(default_factory=dict)

    def summary(self):
        """Measured claims: discretisation gaps, log-log slope, acceleration gaps."""
        out = dict(self.gaps)
        out["gap_loglog_slope"] = self.gap_slope
        out["gap_lam"] = self.config.gap_lam
        return out

    def arrays(self):
        """Raw numbers."""
        return {k: v for k, v in asdict(self).items() if isinstance(v, np.ndarray)}

    def accelerated(self):
        """(γ̂, β̂) = (ρ²γ, 1 − ρ(1 − β)) of the acceleration rule at the config's ρ (Corollary 1)."""
        return accelerate(self.config.gamma, self.config.beta, self.config.rho)


def _fig1_compute(cfg: Fig1Config):
    q = quadratic_of(cfg)
    w0 = np.array(cfg.w0, dtype=float)
    n_gd = int(round(cfg.horizon / cfg.gamma_gd))
    gd_path = gd(q.grad, w0, cfg.gamma_gd, n_gd)
    gf_path = mgf(q.grad, w0, 0.0, cfg.gamma_gd * np.arange(n_gd + 1), jac=q.hess)
    eps = step(cfg.gamma, cfg.beta)
    n = int(round(cfg.horizon / eps))
    mgd_path = mgd(q.grad, w0, cfg.gamma, cfg.beta, n)
    mgf_path = mgf(q.grad, w0, lam(cfg.gamma, cfg.beta), eps * np.arange(n + 1), jac=q.hess)
    g_hat, b_hat = accelerate(cfg.gamma, cfg.beta, cfg.rho)
    n_hat = int(round(cfg.horizon / step(g_hat, b_hat)))
    fast_path = mgd(q.grad, w0, g_hat, b_hat, n_hat)
    approx_path = mgd(q.grad, w0, g_hat, cfg.beta ** cfg.rho, n_hat)
    n_loss = int(round(cfg.horizon / cfg.gamma_gd))
    gd_slow_loss = q.value(gd(q.grad, w0, cfg.gamma_gd, n_loss))
    gd_fast_loss = q.value(gd(q.grad, w0, cfg.rho ** 2 * cfg.gamma_gd, n_loss))
    gap_eps = np.array(cfg.gap_eps, dtype=float)
    gap_values = gap_vs_step(q.grad, w0, cfg.gap_lam, gap_eps, cfg.gap_horizon, q.w_star, jac=q.hess)
    out = dict(gd_path=gd_path, gf_path=gf_path, mgd_path=mgd_path, mgf_path=mgf_path,
               fast_path=fast_path, approx_path=approx_path, gd_slow_loss=gd_slow_loss,
               gd_fast_loss=gd_fast_loss, gap_eps=gap_eps, gap_values=gap_values)
    out["gap_gd_gf"] = np.array(relative_gap(gd_path, gf_path, w0, q.w_star))
    out["gap_mgd_mgf"] = np.array(relative_gap(mgd_path, mgf_path, w0, q.w_star))
    out["accel_rhos"] = np.array(cfg.check_rhos, dtype=float)
    out["accel_gaps"] = np.array([acceleration_gap(q.grad, w0, cfg.gamma, cfg.beta, r, cfg.horizon)
                                  for r in cfg.check_rhos])
    return out


def run_fig1(config: Fig1Config | None = None, progress=False) -> Fig1Result:
    """Figure 1 (Section 2): (M)GD against (M)GF and the acceleration rule on a 2D quadratic (cached)."""
    cfg = Fig1Config() if config is None else config
    a = cached_arrays("fig1", asdict(cfg), lambda: _fig1_compute(cfg))
    slope = float(np.polyfit(np.log(a["gap_eps"]), np.log(a["gap_values"]), 1)[0])
    # Grönwall-type bound exp(L_f T) ε on the Proposition 1 gap
    L_f = mgf_lipschitz(quadratic_of(cfg).H, cfg.gap_lam)
    bound = np.exp(L_f * cfg.gap_horizon) * a["gap_eps"]
    gaps = {"gap_gd_gf": float(a["gap_gd_gf"]), "gap_mgd_mgf": float(a["gap_mgd_mgf"]),
            "lipschitz_L_f": float(L_f), "bound_factor_exp_LT": float(np.exp(L_f * cfg.gap_horizon))}
    for r, g in zip(a["accel_rhos"], a["accel_gaps"]):
        gaps[f"accel_gap_rho{int(r)}"] = float(g)
    keys = ("gd_path", "gf_path", "mgd_path", "mgf_path", "fast_path", "approx_path", "gd_slow_loss",
            "gd_fast_loss", "gap_eps", "gap_values")
    return Fig1Result(config=cfg, **{k: a[k] for k in keys}, gap_slope=slope, gap_bound=bound, gaps=gaps)


# --------------------------------------------------------------------------- regimes
@dataclass(frozen=True)
class RegimesResult:
    """The three optimisation regimes of Section 2 on the Figure 1 quadratic."""

    config: Fig1Config
    betas_large: tuple
    losses_large: list              # MGD(γ, β) losses for β → 1 (γ fixed)
    gammas_small: tuple
    gap_gd_equiv: np.ndarray        # ‖MGD(γ, β) − GD(γ/(1−β))‖ max relative gap, per γ
    losses_momentum: dict
    example_mgd: np.ndarray = None  # losses of MGD(γ, 0.5) and GD(2γ) at the largest γ
    example_gd: np.ndarray = None

    def summary(self):
        """Gaps between MGD(γ, β) and GD(γ/(1−β)) as γ → 0."""
        return {f"gd_equiv_gap_gamma{g:g}": float(v) for g, v in zip(self.gammas_small, self.gap_gd_equiv)}

    def arrays(self):
        """Raw numbers: the γ → 0 gaps, the example losses and the β → 1 losses (one array per β)."""
        out = dict(gammas_small=np.array(self.gammas_small), gap_gd_equiv=self.gap_gd_equiv,
                   betas_large=np.array(self.betas_large), example_mgd=self.example_mgd,
                   example_gd=self.example_gd)
        out.update({f"losses_beta{b:g}": np.asarray(L) for b, L in zip(self.betas_large, self.losses_large)})
        return out


def run_regimes(config: Fig1Config | None = None) -> RegimesResult:
    """The three regimes of Section 2 (β → 1; γ → 0; the momentum regime)."""
    cfg = Fig1Config() if config is None else config
    q = quadratic_of(cfg)
    w0 = np.array(cfg.w0, dtype=float)
    n = 3000
    betas = (0.9, 0.97, 0.99, 0.995)
    losses_large = [q.value(mgd(q.grad, w0, cfg.gamma, b, n)) for b in betas]
    beta = 0.5
    gammas = (0.1, 0.03, 0.01, 0.003)
    gaps = []
    for g in gammas:
        m = int(round(20.0 / step(g, beta)))
        W = mgd(q.grad, w0, g, beta, m)
        G = gd(q.grad, w0, step(g, beta), m)   # GD at the effective step ε = γ/(1−β)
        gaps.append(np.max(np.linalg.norm(W - G, axis=1)) / np.linalg.norm(w0))
    momentum = {}
    for g, b in [(0.01, 0.9), (0.04, 0.8), (0.16, 0.6)]:
        momentum[f"MGD({g:g}, {b:g}), $\\varepsilon$={step(g, b):.2g}"] = q.value(mgd(q.grad, w0, g, b, 400))
    m = int(round(20.0 / step(gammas[0], beta)))
    example_mgd = q.value(mgd(q.grad, w0, gammas[0], beta, m))
    example_gd = q.value(gd(q.grad, w0, step(gammas[0], beta), m))
    return RegimesResult(config=cfg, betas_large=betas, losses_large=losses_large, gammas_small=gammas,
                         gap_gd_equiv=np.array(gaps), losses_momentum=momentum, example_mgd=example_mgd,
                         example_gd=example_gd)


# --------------------------------------------------------------------------- the sliders' paths
def mgd_mgf_paths(gamma, beta, config: Fig1Config | None = None, max_steps=4000):
    """(t, W, Wc): MGD(γ, β) iterates and MGF(λ) at the times t = kε on the Figure 1 quadratic, by the closed
    forms, up to the config's horizon (at most ``max_steps`` steps) (Proposition 1)."""
    cfg = Fig1Config() if config is None else config
    q = quadratic_of(cfg)
    w0 = np.array(cfg.w0, dtype=float)
    eps = step(gamma, beta)
    n = max(2, min(int(round(cfg.horizon / eps)), max_steps))
    t = eps * np.arange(n + 1)
    return t, mgd_quadratic(q, w0, gamma, beta, n), mgf_quadratic(q, w0, lam(gamma, beta), t)


@dataclass(frozen=True)
class AccelerationPaths:
    """MGD(γ, β) of a config over its horizon (n steps), the set-up of the acceleration rule (Corollary 1)."""

    config: Fig1Config
    n: int
    path: np.ndarray

    def accelerated(self, rho):
        """(γ̂, β̂, Ŵ): MGD(ρ²γ, 1 − ρ(1 − β)) over the same n steps."""
        cfg = self.config
        g_hat, b_hat = accelerate(cfg.gamma, cfg.beta, rho)
        w0 = np.array(cfg.w0, dtype=float)
        return g_hat, b_hat, mgd_quadratic(quadratic_of(cfg), w0, g_hat, b_hat, self.n)


def acceleration_paths(config: Fig1Config | None = None) -> AccelerationPaths:
    """MGD(γ, β) on the Figure 1 quadratic over the config's horizon, by the closed form (Corollary 1)."""
    cfg = Fig1Config() if config is None else config
    n = int(round(cfg.horizon / step(cfg.gamma, cfg.beta)))
    return AccelerationPaths(config=cfg, n=n,
                             path=mgd_quadratic(quadratic_of(cfg), np.array(cfg.w0, dtype=float), cfg.gamma,
                                                cfg.beta, n))
