"""Figure configs validate their fields at construction: a ValueError naming the field and its range."""
import pytest

from mdln.figures import registry
from mdln.figures.nets import Fig2Config, Fig6Config
from mdln.figures.sec2 import Fig1Config
from mdln.figures.sec3 import Fig3Config, Fig8Config, Fig9Config
from mdln.figures.sec4 import D2Config, Fig4Config, Fig7Config, StochasticConfig


BAD_CONFIGS = [
    (Fig3Config, dict(lams=(0.05, 0.2), seeds=(0,)), "lams must start with 0"),
    (Fig8Config, dict(lams=(0.1, 0.0)), "lams must start with 0"),
    (Fig9Config, dict(lams=(0.2,)), "lams must start with 0"),
    (Fig3Config, dict(lams=(0.0, 0.2, 0.1)), "strictly increasing"),
    (Fig3Config, dict(lams=()), "lams must not be empty"),
    (Fig3Config, dict(seeds=()), "seeds must not be empty"),
    (Fig3Config, dict(seeds=(0, 0)), "must not repeat"),
    (Fig3Config, dict(alpha=-0.01), "alpha must be > 0"),
    (Fig3Config, dict(mu=float("nan")), "mu must be finite"),
    (Fig3Config, dict(s=40), "s must be <="),
    (Fig9Config, dict(mus=()), "mus must not be empty"),
    (Fig9Config, dict(sigma=-1.0), "sigma must be >= 0"),
    (Fig1Config, dict(gap_eps=()), "gap_eps must not be empty"),
    (Fig1Config, dict(eigenvalues=(1.0, -0.1)), "eigenvalues entries must be > 0"),
    (Fig1Config, dict(beta=1.0), "beta must lie in"),
    (Fig1Config, dict(rho=50.0), "rho"),
    (Fig1Config, dict(horizon=float("inf")), "horizon must be finite"),
    (Fig2Config, dict(n_gamma=0), "n_gamma must be an integer >= 1"),
    (Fig2Config, dict(lam_levels=(0.1, -1.0)), "lam_levels entries must be > 0"),
    (Fig2Config, dict(n_bins=1), "n_bins must be an integer >= 2"),
    (Fig6Config, dict(widths=()), "widths must not be empty"),
    (Fig6Config, dict(widths=(30, 8, 2)), "widths must be"),
    (Fig6Config, dict(epochs=0), "epochs must be an integer >= 1"),
    (Fig4Config, dict(n_gamma=0), "n_gamma must be an integer >= 1"),
    (Fig4Config, dict(seeds=()), "seeds must not be empty"),
    (Fig4Config, dict(beta_max=1.0), "beta_max must lie in"),
    (Fig4Config, dict(gamma_min=1.0, gamma_max=0.1), "gamma_min must be <="),
    (Fig4Config, dict(tol=0.0), "tol must be > 0"),
    (Fig7Config, dict(n_lam=0), "n_lam must be an integer >= 1"),
    (Fig7Config, dict(mgf_seeds=(7,)), "subset of fig4.seeds"),
    (D2Config, dict(ratios=()), "ratios must not be empty"),
    (D2Config, dict(ratios=(1.0, 2.0)), "ratios must not exceed 1.0"),
    (D2Config, dict(lam=0.0), "lam must be > 0"),
    (StochasticConfig, dict(batch_sizes=(0, 5)), "batch_sizes entries must be an integer >= 1"),
    (StochasticConfig, dict(batch_sizes=()), "batch_sizes must not be empty"),
    (StochasticConfig, dict(batch_sizes=(50,)), "batch_sizes must lie in"),
]


@pytest.mark.parametrize("cls,kwargs,match", BAD_CONFIGS, ids=[f"{c.__name__}-{'-'.join(k)}-{i}"
                                                                for i, (c, k, _) in enumerate(BAD_CONFIGS)])
def test_configs_are_validated_at_construction(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_every_preset_validates():
    for spec in registry().values():
        for fidelity in ("test", "book", "paper"):
            spec.make_config(fidelity)
    D2Config(), StochasticConfig()
