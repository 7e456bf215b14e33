"""Tests of mdln.grid: the (γ, β) axes, λ = γ/(1−β)² on the grid, the λ level lines, η², the λ
quantification and the per-cell status masks (Sections 2 and 4, Appendix F)."""
import numpy as np
import pytest

import mdln
from mdln import grid
from mdln.status import Status


def test_lam_grid_is_gamma_over_one_minus_beta_squared_rows_gamma():
    gammas, betas = np.array([1e-3, 0.02, 0.5]), np.array([0.0, 0.3, 0.9, 0.99])
    L = grid.lam_grid(gammas, betas)
    assert L.shape == (3, 4)
    for i, g in enumerate(gammas):
        for j, b in enumerate(betas):
            assert L[i, j] == pytest.approx(g / ((1 - b) * (1 - b)), rel=1e-14)
    np.testing.assert_array_equal(L[:, 0], gammas)               # β = 0: λ = γ (gradient descent)


def test_linear_beta_axes():
    gammas, betas = grid.linear_beta_axes(1e-3, 0.1, 5, 0.9, 4)
    assert gammas[0] == pytest.approx(1e-3, rel=1e-14) and gammas[-1] == pytest.approx(0.1, rel=1e-14)
    np.testing.assert_allclose(gammas[1:] / gammas[:-1], 10 ** 0.5, rtol=1e-12)   # log-spaced, 2 decades in 4
    np.testing.assert_allclose(betas, [0.0, 0.3, 0.6, 0.9], atol=1e-15)          # evenly spaced from 0
    assert grid.linear_beta_axes(0.1, 0.1, 1, 0.0, 1)[0].tolist() == [0.1]
    for kwargs, match in [(dict(gamma_min=0.0), "gamma_min must be > 0"),
                          (dict(gamma_min=1.0), "gamma_max must be >= gamma_min"),
                          (dict(beta_max=1.0), r"beta_max must lie in \[0, 1\)"),
                          (dict(n_gamma=0), "n_gamma must be an integer >= 1")]:
        args = dict(gamma_min=1e-3, gamma_max=0.1, n_gamma=5, beta_max=0.9, n_beta=4)
        with pytest.raises(ValueError, match=match):
            grid.linear_beta_axes(**{**args, **kwargs})


def test_omb_axes_space_one_minus_beta_logarithmically():
    gammas, betas = grid.omb_axes(4, 5, 1e-3, 1.0, 1e-2)
    np.testing.assert_allclose(np.diff(np.log10(gammas)), 1.0, rtol=1e-12)
    np.testing.assert_allclose(1 - betas, [1.0, 10 ** -0.5, 0.1, 10 ** -1.5, 0.01], rtol=1e-12)
    assert betas[0] == 0.0
    # λ level lines are straight in (log γ, −log(1−β)) with slope −2: λ depends on log γ − 2 log(1−β) only
    L = grid.lam_grid(gammas, betas)
    np.testing.assert_allclose(np.log10(L), np.log10(gammas)[:, None] - 2 * np.log10(1 - betas)[None, :],
                               atol=1e-12)
    with pytest.raises(ValueError, match=r"one_minus_beta_min must lie in \(0, 1\)"):
        grid.omb_axes(4, 5, 1e-3, 1.0, 1.0)
    with pytest.raises(ValueError, match="gamma_max must be > gamma_min"):
        grid.omb_axes(4, 5, 1.0, 1.0, 0.1)


def test_lam_levels_are_the_decades_crossing_the_interior():
    gammas, betas = grid.omb_axes(6, 6, 1e-4, 1e-1, 1e-3)
    lo = np.log10(gammas[0]) - 2 * np.log10(1 - betas[0])       # λ at the two extreme corners
    hi = np.log10(gammas[-1]) - 2 * np.log10(1 - betas[-1])
    levels = grid.lam_levels(gammas, betas)
    expected = [10.0 ** k for k in range(-10, 10) if lo + 0.25 <= k <= hi - 0.25]
    np.testing.assert_allclose(levels, expected, rtol=1e-14)
    # λ runs from 1e-4 to 1e5 over the grid: the decades 1e-3 … 1e4 cross its interior
    assert levels.tolist() == sorted(levels.tolist()) and len(levels) == 8
    np.testing.assert_array_equal(grid.lam_levels(gammas, betas, (0.5, 2.0)), [0.5, 2.0])
    with pytest.raises(ValueError, match="levels must be > 0"):
        grid.lam_levels(gammas, betas, (0.5, -1.0))


def _eta_squared_by_definition(x, v, edges):
    """1 − Σ_bins Σ (v − mean_bin)² / Σ (v − mean)², bins [e_k, e_{k+1}) and the last one closed."""
    total = np.sum((v - v.mean()) ** 2)
    within = 0.0
    for k in range(len(edges) - 1):
        inside = (x >= edges[k]) & ((x < edges[k + 1]) if k < len(edges) - 2 else (x <= edges[k + 1]))
        if inside.any():
            within += np.sum((v[inside] - v[inside].mean()) ** 2)
    return 1 - within / total


def test_eta_squared_against_its_definition_and_limits():
    rng = np.random.default_rng(0)
    x, v = rng.uniform(0, 1, 200), rng.standard_normal(200)
    v = v + 3 * (x > 0.5)
    edges = np.linspace(x.min(), x.max(), 5)
    assert grid.eta_squared(x, v, 4) == pytest.approx(_eta_squared_by_definition(x, v, edges), rel=1e-12)
    # values constant on quarters of [0, 1]: the bins explain all of it (up to the bin edges)
    assert grid.eta_squared(x, np.floor(4 * x), 4) == pytest.approx(1.0, abs=1e-2)
    assert grid.eta_squared(np.full(10, 2.0), np.arange(10.0)) == 0.0     # constant x explains nothing
    assert np.isnan(grid.eta_squared(np.arange(10.0), np.ones(10)))       # nothing to explain
    assert np.isnan(grid.eta_squared([1.0, 2.0], [1.0, 3.0]))             # fewer than 3 pairs
    # non-finite pairs (diverged runs) are left out
    xn, vn = np.append(x, [np.nan, 0.5]), np.append(v, [1.0, np.inf])
    assert grid.eta_squared(xn, vn, 4) == grid.eta_squared(x, v, 4)
    with pytest.raises(ValueError, match="x and values must have the same number of entries"):
        grid.eta_squared(np.ones(3), np.ones(4))


def test_lambda_quantification_finds_a_loss_that_depends_on_lambda_alone():
    gammas, betas = grid.omb_axes(12, 12, 1e-4, 1e-1, 1e-3)
    log_lam = np.log10(grid.lam_grid(gammas, betas))
    valid = np.ones(log_lam.shape, bool)
    levels = grid.lam_levels(gammas, betas)
    on_lam = grid.lambda_quantification(np.sin(log_lam), gammas, betas, valid, levels)
    assert on_lam["r2_log_lam"] > 0.9 > on_lam["r2_log_gamma"]
    assert on_lam["spread_ratio"] < 0.05               # constant along each λ line (interpolation aside)
    assert on_lam["n_lines_used"] == len(on_lam["line_lams"]) >= 5
    gamma_only = np.log10(gammas)[:, None] + 0 * log_lam
    on_gamma = grid.lambda_quantification(gamma_only, gammas, betas, valid, levels)
    assert on_gamma["r2_log_gamma"] == pytest.approx(1.0, abs=0.02)
    assert on_gamma["spread_ratio"] > 0.5               # a γ-only loss varies along the λ lines
    half = valid.copy()
    half[:, 6:] = False
    assert grid.lambda_quantification(np.sin(log_lam), gammas, betas, half, levels)["n_valid_cells"] == 72
    with pytest.raises(ValueError, match=r"log_loss must have shape \(12, 12\)"):
        grid.lambda_quantification(np.ones((3, 3)), gammas, betas, valid, levels)


class _Runs(grid.CellStatus):
    def __init__(self, status, crossed):
        self.status, self.crossed = np.asarray(status), np.asarray(crossed)


def test_cell_status_masks():
    C, S, D = Status.CONVERGED, Status.STEP_CAP, Status.DIVERGED
    status = np.array([[[C, C], [C, S]], [[D, C], [S, S]]])               # (G=2, Bt=2, R=2)
    crossed = np.array([[[False, True], [False, False]], [[True, False], [False, False]]])
    r = _Runs(status, crossed)
    assert r.cell_converged.tolist() == [[True, False], [False, False]]
    assert r.cell_diverged.tolist() == [[False, False], [True, False]]
    # the diverged replication's crossing does not count, the converged one's does
    assert r.cell_crossed.tolist() == [[True, False], [False, False]]
