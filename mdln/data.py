"""Data of the paper: the 2D quadratic of Figure 1 (Section 2) and the noiseless sparse regression of
Section 3 (also used in Section 4 and Appendix F), one data set or a stack of replications."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_finite_array, check_int, check_nonneg, check_real, check_vector
from .momentum import Quadratic

__all__ = ["SparseRegression", "sparse_regression", "stacked_regressions", "figure1_quadratic"]


def figure1_quadratic(eigenvalues=(1.0, 0.1), angle=float(np.pi / 6)) -> Quadratic:
    """F(w) = ½ wᵀHw of Figure 1: H = R diag(eigenvalues) Rᵀ, R the rotation by ``angle``, w* = 0."""
    eigenvalues = check_vector(eigenvalues, "eigenvalues", dim=2)
    if np.any(eigenvalues <= 0):
        raise ValueError(f"eigenvalues must be > 0 (a positive definite H), got {tuple(eigenvalues)}")
    angle = check_real(angle, "angle")
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    return Quadratic(R @ np.diag(eigenvalues) @ R.T, np.zeros(2))


@dataclass(frozen=True)
class SparseRegression:
    """A dataset x_i ~ N(μ1, σ²I), y_i = ⟨x_i, θ*⟩ with θ* s-sparse of entries 1/√s (Section 3)."""

    X: np.ndarray
    y: np.ndarray
    theta_star: np.ndarray
    mu: float
    sigma: float
    seed: int

    @property
    def n(self):
        """Number of samples."""
        return self.X.shape[0]

    @property
    def d(self):
        """Dimension."""
        return self.X.shape[1]

    def covariance(self):
        """Second-moment matrix E[xxᵀ] = σ²I + μ²11ᵀ of the uncentered Gaussian design."""
        d = self.d
        return self.sigma ** 2 * np.eye(d) + self.mu ** 2 * np.ones((d, d))

    def test_loss(self, theta):
        """Population loss ½ E[(⟨x, θ⟩ − ⟨x, θ*⟩)²] = ½ (θ−θ*)ᵀ(σ²I + μ²11ᵀ)(θ−θ*), exactly."""
        theta = check_finite_array(theta, "theta")
        if theta.shape[-1] != self.d:
            raise ValueError(f"theta must have last dimension {self.d}, got shape {theta.shape}")
        r = theta - self.theta_star
        return 0.5 * (self.sigma ** 2 * np.sum(r * r, axis=-1) + self.mu ** 2 * np.sum(r, axis=-1) ** 2)

    def train_loss(self, theta):
        """Empirical loss L(θ) = (1/2n) Σ (y_i − ⟨x_i, θ⟩)² (Eq. 3)."""
        theta = check_vector(theta, "theta", dim=self.d)
        r = self.X @ theta - self.y
        return 0.5 * float(r @ r) / self.n


def sparse_regression(n=20, d=30, s=5, mu=1.0, sigma=1.0, seed=0, support="first"):
    """Noiseless sparse regression data of Section 3: x_i ~ N(μ1, σ²I), y = Xθ*, θ* = (1/√s) 1_{[s]}.

    ``support='random'`` puts the s nonzero entries of θ* on random coordinates (same X as 'first').
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    s = check_int(s, "s", minimum=1)
    if s > d:
        raise ValueError(f"s must lie in [1, d={d}], got {s}")
    mu = check_real(mu, "mu")
    sigma = check_nonneg(sigma, "sigma")
    seed = check_int(seed, "seed", minimum=0)
    if support not in ("first", "random"):
        raise ValueError(f"support must be 'first' or 'random', got {support!r}")
    rng = np.random.default_rng(seed)
    X = mu + sigma * rng.standard_normal((n, d))
    theta_star = np.zeros(d)
    idx = np.arange(s) if support == "first" else np.sort(rng.choice(d, size=s, replace=False))
    theta_star[idx] = 1.0 / np.sqrt(s)
    return SparseRegression(X=X, y=X @ theta_star, theta_star=theta_star, mu=mu, sigma=sigma, seed=seed)


def stacked_regressions(seeds, n=20, d=30, s=5, mu=1.0, sigma=1.0):
    """Replications ``sparse_regression(seed=s)`` for s in ``seeds``, and their X (R, n, d), y (R, n) stacked."""
    if isinstance(seeds, (str, bytes)) or not np.iterable(seeds) or len(seeds) == 0:
        raise ValueError(f"seeds must be a non-empty sequence of integers >= 0, got {seeds!r}")
    seeds = [check_int(sd, "seeds entries", minimum=0) for sd in seeds]
    dss = [sparse_regression(n=n, d=d, s=s, mu=mu, sigma=sigma, seed=sd) for sd in seeds]
    return dss, np.stack([q.X for q in dss]), np.stack([q.y for q in dss])
