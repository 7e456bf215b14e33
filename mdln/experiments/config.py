"""What every sparse-regression experiment shares: its data (Section 3's set-up) and its fidelity."""
from __future__ import annotations

from dataclasses import dataclass

from .._checks import FIDELITIES, check_config, check_fidelity
from ..data import SparseRegression, sparse_regression

__all__ = ["DataConfig", "FIDELITIES", "check_fidelity"]


@dataclass(frozen=True)
class DataConfig:
    """The data of one experiment: x_i ~ N(μ1, σ²I), y = ⟨x, θ*⟩, θ* s-sparse of entries 1/√s (Section 3);
    the initialisation scale α (u0 = α1, v0 = 0) and the replications, one independent data set per seed.

    The defaults are the paper's: (n, d, s) = (20, 30, 5), (μ, σ) = (1, 1), α = 0.01, 5 replications.
    """

    n: int = 20
    d: int = 30
    s: int = 5
    mu: float = 1.0
    sigma: float = 1.0
    alpha: float = 0.01
    seeds: tuple = (0, 1, 2, 3, 4)
    support: str = "first"

    def __post_init__(self):
        check_config(self, dict(n="int1", d="int1", s="int1", mu="real", sigma="nonneg", alpha="pos",
                                seeds="seeds"), ordered=[("s", "d")])
        if self.support not in ("first", "random"):
            raise ValueError(f"support must be 'first' or 'random', got {self.support!r}")

    def dataset(self, seed: int, mu: float | None = None) -> SparseRegression:
        """The replication ``seed`` (μ overridden when given): ``sparse_regression`` with these fields."""
        return sparse_regression(n=self.n, d=self.d, s=self.s, mu=self.mu if mu is None else mu,
                                 sigma=self.sigma, seed=seed, support=self.support)

    def datasets(self, mu: float | None = None) -> list:
        """One data set per seed, in ``seeds`` order."""
        return [self.dataset(seed, mu) for seed in self.seeds]

    def params(self) -> dict:
        """The fields as plain JSON-able values (cache keys, result files); 'support' only when not 'first'."""
        out = dict(n=int(self.n), d=int(self.d), s=int(self.s), mu=float(self.mu), sigma=float(self.sigma),
                   alpha=float(self.alpha), seeds=[int(x) for x in self.seeds])
        if self.support != "first":
            out["support"] = self.support
        return out
