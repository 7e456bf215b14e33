"""Tests of mdln.grid: the one (γ, β) layout, λ on the grid, λ level lines, η² and the λ quantification."""
import numpy as np
import pytest

import mdln


def test_grid_layout_is_gamma_by_beta():
    gammas, betas = mdln.grid.linear_beta_axes(1e-3, 0.1, 5, 0.9, 4)
    L = mdln.grid.lam_grid(gammas, betas)
    assert L.shape == (5, 4)
    for i, j in ((0, 0), (4, 3), (2, 1)):
        assert L[i, j] == pytest.approx(mdln.lam(gammas[i], betas[j]), rel=1e-15)
    levels = mdln.grid.lam_levels(gammas, betas)
    assert np.all((levels > L.min()) & (levels < L.max()))
    np.testing.assert_allclose(np.log10(levels), np.round(np.log10(levels)))
