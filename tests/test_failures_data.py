"""Failures of mdln.data: a parameter of the wrong type or range is a ValueError naming it."""

import numpy as np
import pytest

import mdln
from _raises import assert_raises_case


CASES = {
    "sparse_regression_mu_str": (lambda: mdln.sparse_regression(mu="abc"), ValueError, "mu must be a real"),
    "sparse_regression_mu_none": (lambda: mdln.sparse_regression(mu=None), ValueError, "mu must be a real"),
    "sparse_regression_mu_list": (lambda: mdln.sparse_regression(mu=[1, 2]), ValueError, "mu must be a scalar"),
    "sparse_regression_s_above_d": (lambda: mdln.sparse_regression(d=3, s=4), ValueError, "s must lie in"),
    "sparse_regression_support": (lambda: mdln.sparse_regression(support="last"), ValueError, "support must be"),
    "stacked_regressions_str": (lambda: mdln.data.stacked_regressions("01"), ValueError, "seeds must be"),
    "stacked_regressions_negative": (lambda: mdln.data.stacked_regressions([0, -1]), ValueError,
                                     "seeds entries must be an integer >= 0"),
    "figure1_quadratic_negative": (lambda: mdln.data.figure1_quadratic((1.0, -0.1)), ValueError,
                                   "eigenvalues must be > 0"),
    "test_loss_wrong_dimension": (lambda: mdln.sparse_regression(n=5, d=8, s=2).test_loss(np.ones(7)),
                                  ValueError, "theta must have last dimension 8"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_data_names_the_problem(case):
    assert_raises_case(CASES[case])
