"""Appendix A experiments: the central-difference discretisation of MGF and its λ' = (1+β)γ/(2(1−β)²).

Discretising λẅ + ẇ + ∇F(w) = 0 with a *central* first-order difference instead of the backward one of
Eq. (2) again gives MGD(γ, β), with the same step ε = γ/(1−β) but λ' = (1+β)γ/(2(1−β)²) = λ − ε/2.
This module compares MGF(λ) and MGF(λ') against MGD(γ, β) as β varies at fixed λ, on the 2D quadratic
of Figure 1 and on the 2-layer diagonal linear network of Section 3. The scheme itself
(``central_difference_params``, ``central_difference_iterates``) lives in :mod:`mdln.momentum`, the
stacked network gradient and Hessian in :mod:`mdln.dln`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .._checks import check_beta, check_int, check_positive, check_vector, fidelity_preset
from ..cache import cached_arrays
from ..data import figure1_quadratic
from ..dln import stacked_dln_grad, stacked_dln_hess
from ..momentum import one_blas_thread
from ..momentum import DivergenceError, Quadratic, alt_lam, mgd, mgf, step
from .config import DataConfig

__all__ = ["FigAConfig", "FigAResult", "run_figA", "QuadraticPaths", "quadratic_paths"]


@dataclass(frozen=True)
class FigAConfig:
    """MGF(λ) and MGF(λ') against MGD(γ, β) at fixed λ = γ/(1−β)², as β varies (Appendix A)."""

    betas: tuple = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95)
    shown_beta: float = 0.5        # β whose trajectories are drawn
    # the 2D quadratic of Figure 1: H = R diag(eigenvalues) Rᵀ, R a rotation by `angle`, w* = 0
    quad_eigenvalues: tuple = (1.0, 0.1)
    quad_angle: float = float(np.pi / 6)
    quad_w0: tuple = (-1.5, 1.0)
    quad_lam: float = 1.0
    quad_horizon: float = 40.0
    # the diagonal linear network of Section 3 on the paper's sparse regression data (one replication)
    data: DataConfig = DataConfig(seeds=(0,))
    dln_lam: float = 0.1
    dln_horizon: float = 200.0
    n_times: int = 201             # comparison times on [0, horizon] (each rounded to the MGD grid kε)

    def __post_init__(self):
        if len(self.betas) < 1:
            raise ValueError("betas must contain at least one momentum value in [0, 1)")
        for b in self.betas:
            check_beta(b, "betas")
        check_beta(self.shown_beta, "shown_beta")
        if self.shown_beta not in self.betas:
            raise ValueError(f"shown_beta must be one of betas={self.betas}, got {self.shown_beta!r}")
        if not isinstance(self.data, DataConfig) or len(self.data.seeds) != 1:
            raise ValueError(f"data must be a DataConfig with one seed, got {self.data!r}")
        for name in ("quad_lam", "quad_horizon", "dln_lam", "dln_horizon"):
            check_positive(getattr(self, name), name)
        if len(self.quad_eigenvalues) != 2 or min(self.quad_eigenvalues) <= 0:
            raise ValueError(f"quad_eigenvalues must be two positive numbers, got {self.quad_eigenvalues!r}")
        check_vector(np.asarray(self.quad_w0, dtype=float), "quad_w0", dim=2)
        check_int(self.n_times, "n_times", minimum=2)

    @classmethod
    def preset(cls, fidelity="book"):
        """Fidelity presets: 'test' (seconds), 'book' (the notebook), 'paper' (more β values)."""
        return fidelity_preset(cls, fidelity,
                               test=dict(betas=(0.5, 0.9), quad_horizon=10.0, dln_horizon=20.0, n_times=21),
                               paper=dict(betas=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95,
                                                 0.98)))

    def quadratic(self) -> Quadratic:
        """The 2D quadratic F(w) = ½ wᵀHw of Figure 1 (:func:`mdln.data.figure1_quadratic`)."""
        return figure1_quadratic(self.quad_eigenvalues, self.quad_angle)


@dataclass(frozen=True)
class FigAResult:
    """Per β: γ, ε, λ', the max trajectory gaps of MGF(λ) and MGF(λ') to MGD, and final test losses."""

    config: FigAConfig
    betas: np.ndarray
    quad_gamma: np.ndarray
    quad_eps: np.ndarray
    quad_lam_prime: np.ndarray
    quad_gap_lam: np.ndarray        # max_k ‖w_k − w_λ(kε)‖ / ‖w0 − w*‖
    quad_gap_lamp: np.ndarray       # same against MGF(λ')
    quad_gap_lamp2: np.ndarray      # MGD started at w_1 = w_0 − ε²∇F(w_0)/(2λ'), against MGF(λ')
    quad_diverged: np.ndarray
    dln_gamma: np.ndarray
    dln_eps: np.ndarray
    dln_lam_prime: np.ndarray
    dln_gap_lam: np.ndarray         # max_k ‖θ_k − θ_λ(kε)‖ / ‖θ*‖, θ = u⊙v
    dln_gap_lamp: np.ndarray
    dln_gap_lamp2: np.ndarray
    dln_diverged: np.ndarray
    dln_test_mgd: np.ndarray        # population loss of θ at the horizon
    dln_test_lam: np.ndarray
    dln_test_lamp: np.ndarray
    dln_train_mgd: np.ndarray
    quad_path_mgd: np.ndarray       # trajectories at shown_beta
    quad_path_lam: np.ndarray
    quad_path_lamp: np.ndarray
    dln_times: np.ndarray
    dln_test_path_mgd: np.ndarray   # population loss along the run at shown_beta
    dln_test_path_lam: np.ndarray
    dln_test_path_lamp: np.ndarray

    def summary(self):
        """Measured claims: λ'/λ = (1+β)/2, gap sizes, test-loss agreement (Appendix A)."""
        ok_q, ok_d = ~self.quad_diverged, ~self.dln_diverged
        return {
            "betas": [float(b) for b in self.betas],
            "quad_lam": float(self.config.quad_lam),
            "dln_lam": float(self.config.dln_lam),
            "max_ratio_error": float(np.max(np.abs(
                np.concatenate([self.quad_lam_prime / self.config.quad_lam,
                                self.dln_lam_prime / self.config.dln_lam])
                - np.tile((1.0 + self.betas) / 2.0, 2)))),
            "quad_gap_lam_max": float(np.max(self.quad_gap_lam[ok_q])) if ok_q.any() else float("inf"),
            "quad_gap_lamp_max": float(np.max(self.quad_gap_lamp[ok_q])) if ok_q.any() else float("inf"),
            "quad_gap_lam_at_largest_beta": float(self.quad_gap_lam[-1]),
            "quad_gap_lamp_at_largest_beta": float(self.quad_gap_lamp[-1]),
            "dln_gap_lam_max": float(np.max(self.dln_gap_lam[ok_d])) if ok_d.any() else float("inf"),
            "dln_gap_lamp_max": float(np.max(self.dln_gap_lamp[ok_d])) if ok_d.any() else float("inf"),
            "dln_gap_lam_at_largest_beta": float(self.dln_gap_lam[-1]),
            "dln_gap_lamp_at_largest_beta": float(self.dln_gap_lamp[-1]),
            "quad_gap_lamp2_at_largest_beta": float(self.quad_gap_lamp2[-1]),
            "dln_gap_lamp2_at_largest_beta": float(self.dln_gap_lamp2[-1]),
            "quad_order_lam": _order(self.quad_eps, self.quad_gap_lam, ok_q),
            "quad_order_lamp": _order(self.quad_eps, self.quad_gap_lamp, ok_q),
            "quad_order_lamp2": _order(self.quad_eps, self.quad_gap_lamp2, ok_q),
            "dln_order_lam": _order(self.dln_eps, self.dln_gap_lam, ok_d),
            "dln_order_lamp": _order(self.dln_eps, self.dln_gap_lamp, ok_d),
            "dln_order_lamp2": _order(self.dln_eps, self.dln_gap_lamp2, ok_d),
            "dln_test_rel_diff_lam_max": _max_rel(self.dln_test_lam, self.dln_test_mgd, ok_d),
            "dln_test_rel_diff_lamp_max": _max_rel(self.dln_test_lamp, self.dln_test_mgd, ok_d),
            "n_diverged": int(self.quad_diverged.sum() + self.dln_diverged.sum()),
        }

    def report(self):
        """The measured gaps as two short text tables (quadratic, network), 2 significant digits."""
        s = self.summary()
        lines = [f"lambda'/lambda == (1+beta)/2 to 1e-14: {s['max_ratio_error'] < 1e-14} | "
                 f"MGD runs diverged: {s['n_diverged']}"]
        for name, pre in (("quadratic", "quad"), ("diagonal network", "dln")):
            lam = self.config.quad_lam if pre == "quad" else self.config.dln_lam
            lines += ["", f"{name}, lambda = {lam:g}: max distance of MGD to each flow (relative)",
                      " beta    eps    MGF(lambda)  MGF(lambda')  MGF(lambda'), 2nd-order start"]
            eps, g1, g2, g3 = (getattr(self, f"{pre}_{k}")
                               for k in ("eps", "gap_lam", "gap_lamp", "gap_lamp2"))
            for j, b in enumerate(self.betas):
                lines.append(f"{b:5.2f}  {eps[j]:6.2g}  {g1[j]:11.2g}  {g2[j]:12.2g}  {g3[j]:12.2g}")
            orders = [s[f"{pre}_order_{k}"] for k in ("lam", "lamp", "lamp2")]
            if None not in orders:
                lines.append(f"{'order in eps':>13}  {orders[0]:11.1f}  {orders[1]:12.1f}  {orders[2]:12.1f}")
        lines += ["", "network test loss at the horizon, largest relative difference to MGD:",
                  f"  MGF(lambda) {100 * s['dln_test_rel_diff_lam_max']:.1f}%, "
                  f"MGF(lambda') {100 * s['dln_test_rel_diff_lamp_max']:.1f}%"]
        return "\n".join(lines)

    def arrays(self):
        """Every array field, by name."""
        return {k: v for k, v in self.__dict__.items() if isinstance(v, np.ndarray)}


@dataclass(frozen=True)
class QuadraticPaths:
    """MGD(γ, β) iterates at fixed λ and the flows MGF(λ), MGF(λ') on a fine time grid (Appendix A)."""

    beta: float
    gamma: float
    eps: float
    lam: float
    lam_prime: float
    diverged: bool
    mgd: np.ndarray        # (K+1, 2) iterates w_k at times kε; empty if MGD diverged
    times: np.ndarray
    flow_lam: np.ndarray   # MGF(λ) at ``times``
    flow_lamp: np.ndarray  # MGF(λ') at ``times``


def quadratic_paths(beta, config: FigAConfig | None = None, n_fine=801) -> QuadraticPaths:
    """MGD(λ(1−β)², β), MGF(λ) and MGF(λ') on the Figure 1 quadratic over the config's horizon (App. A)."""
    cfg = FigAConfig() if config is None else config
    beta = check_beta(beta)
    n_fine = check_int(n_fine, "n_fine", minimum=2)
    q = cfg.quadratic()
    w0 = np.asarray(cfg.quad_w0, dtype=float)
    gamma = cfg.quad_lam * (1.0 - beta) ** 2
    eps, lam_p = step(gamma, beta), alt_lam(gamma, beta)
    try:
        W, diverged = mgd(q.grad, w0, gamma, beta, int(round(cfg.quad_horizon / eps))), False
    except DivergenceError:
        W, diverged = np.zeros((0, 2)), True
    t = np.linspace(0.0, cfg.quad_horizon, n_fine)
    return QuadraticPaths(beta=beta, gamma=gamma, eps=eps, lam=cfg.quad_lam, lam_prime=lam_p,
                          diverged=diverged,
                          mgd=W, times=t, flow_lam=mgf(q.grad, w0, cfg.quad_lam, t, jac=q.hess),
                          flow_lamp=mgf(q.grad, w0, lam_p, t, jac=q.hess))


def _order(eps, gap, ok):
    """Observed order p in gap ∝ ε^p between the two smallest steps (None with fewer than two)."""
    e, g = eps[ok], gap[ok]
    if len(e) < 2:
        return None
    i, j = np.argsort(e)[:2]
    return float(np.log(g[j] / g[i]) / np.log(e[j] / e[i]))


def _max_rel(a, b, ok):
    if not ok.any():
        return float("inf")
    return float(np.max(np.abs(a[ok] - b[ok]) / np.abs(b[ok])))


def _nearest_steps(times, eps, n_steps):
    return np.unique(np.clip(np.rint(np.asarray(times) / eps).astype(int), 0, n_steps))


def _compare(grad, hess, w0, lam, betas, horizon, n_times, observe):
    """MGD(λ(1−β)², β) against MGF(λ) and MGF(λ'), compared through ``observe`` at ~n_times times kε."""
    nb = len(betas)
    out = {k: np.zeros(nb) for k in ("gamma", "eps", "lam_prime", "gap_lam", "gap_lamp", "gap_lamp2")}
    out["diverged"] = np.zeros(nb, dtype=bool)
    runs, all_times = [], []
    grid = np.linspace(0.0, horizon, n_times)
    for j, beta in enumerate(betas):
        gamma = lam * (1.0 - beta) ** 2
        eps = step(gamma, beta)
        n_steps = int(round(horizon / eps))
        ks = _nearest_steps(grid, eps, n_steps)
        out["gamma"][j], out["eps"][j], out["lam_prime"][j] = gamma, eps, alt_lam(gamma, beta)
        # second-order start of the central scheme: w_1 = w_0 − ε²∇F(w_0)/(2λ') (MGF(λ') with ẇ(0) = 0)
        w1 = w0 - eps ** 2 / (2.0 * out["lam_prime"][j]) * grad(w0)
        try:
            W = mgd(grad, w0, gamma, beta, n_steps)[ks]
            W2 = mgd(grad, w0, gamma, beta, n_steps, w1=w1)[ks]
        except DivergenceError:
            W = W2 = None
            out["diverged"][j] = True
        runs.append((ks * eps, W, W2))
        all_times.append(ks * eps)
    # MGF(λ) does not depend on β: one solve, evaluated at the union of every β's comparison times
    t_union = np.unique(np.concatenate(all_times))
    W_lam = mgf(grad, w0, lam, t_union, jac=hess, rtol=1e-8, atol=1e-10)
    paths = {}
    for j, (t, W, W2) in enumerate(runs):
        W_l = W_lam[np.searchsorted(t_union, t)]
        W_p = mgf(grad, w0, out["lam_prime"][j], t, jac=hess, rtol=1e-8, atol=1e-10)
        if W is None:
            out["gap_lam"][j] = out["gap_lamp"][j] = out["gap_lamp2"][j] = np.inf
        else:
            O, Ol, Op = observe(W), observe(W_l), observe(W_p)
            out["gap_lam"][j] = np.max(np.linalg.norm(O - Ol, axis=1))
            out["gap_lamp"][j] = np.max(np.linalg.norm(O - Op, axis=1))
            out["gap_lamp2"][j] = np.max(np.linalg.norm(observe(W2) - Op, axis=1))
        paths[j] = (t, W, W_l, W_p)
    return out, paths


def _figA_compute(cfg: FigAConfig):
    betas = np.asarray(cfg.betas, dtype=float)
    i = int(np.flatnonzero(betas == cfg.shown_beta)[0])
    res = {"betas": betas}
    # quadratic
    q = cfg.quadratic()
    w0 = np.asarray(cfg.quad_w0, dtype=float)
    qo, qp = _compare(q.grad, q.hess, w0, cfg.quad_lam, betas, cfg.quad_horizon, cfg.n_times, lambda W: W)
    scale = np.linalg.norm(w0 - q.w_star)
    for k, v in qo.items():
        res[f"quad_{k}"] = v / scale if k.startswith("gap") else v
    # the shown paths: MGD iterates every step, both flows on a fine grid
    paths = quadratic_paths(float(betas[i]), cfg)
    res["quad_path_mgd"] = paths.mgd
    res["quad_path_lam"], res["quad_path_lamp"] = paths.flow_lam, paths.flow_lamp
    # diagonal network
    data = cfg.data.dataset(cfg.data.seeds[0])
    d = cfg.data.d
    w0 = np.concatenate([cfg.data.alpha * np.ones(d), np.zeros(d)])
    theta = lambda W: W[:, :d] * W[:, d:]
    do, dp = _compare(stacked_dln_grad(data.X, data.y), stacked_dln_hess(data.X, data.y), w0, cfg.dln_lam,
                      betas, cfg.dln_horizon, cfg.n_times, theta)
    scale = np.linalg.norm(data.theta_star)
    for k, v in do.items():
        res[f"dln_{k}"] = v / scale if k.startswith("gap") else v
    nb = len(betas)
    for k in ("test_mgd", "test_lam", "test_lamp", "train_mgd"):
        res[f"dln_{k}"] = np.full(nb, np.inf)
    for j in range(nb):
        t, W, W_l, W_p = dp[j]
        res["dln_test_lam"][j] = data.test_loss(theta(W_l[-1:]))[0]
        res["dln_test_lamp"][j] = data.test_loss(theta(W_p[-1:]))[0]
        if W is not None:
            res["dln_test_mgd"][j] = data.test_loss(theta(W[-1:]))[0]
            res["dln_train_mgd"][j] = data.train_loss(theta(W[-1:])[0])
    t, W, W_l, W_p = dp[i]
    res["dln_times"] = t
    res["dln_test_path_lam"] = data.test_loss(theta(W_l))
    res["dln_test_path_lamp"] = data.test_loss(theta(W_p))
    res["dln_test_path_mgd"] = np.full(len(t), np.inf) if W is None else data.test_loss(theta(W))
    return res


def _single_threaded(fn, *args):
    """Run ``fn`` with one BLAS thread: the implicit solver factorises many small matrices, which
    multi-threaded BLAS makes ~10× slower on a busy 2-core machine."""
    with one_blas_thread():
        return fn(*args)


def run_figA(config: FigAConfig | None = None, progress=False) -> FigAResult:
    """The Appendix A comparison of λ and λ' as β varies (cached on disk)."""
    cfg = FigAConfig() if config is None else config
    if not isinstance(cfg, FigAConfig):
        raise ValueError(f"config must be a FigAConfig, got {type(cfg).__name__}")
    params = dict(asdict(cfg))
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=1, desc="Appendix A: MGF(λ), MGF(λ') vs MGD")
    arrays = cached_arrays("figA", params, lambda: _single_threaded(_figA_compute, cfg))
    if progress:
        bar.update(1)
        bar.close()
    return FigAResult(config=cfg, **{k: np.asarray(v) for k, v in arrays.items()})
