"""Failures of mdln.dln: shapes and values of the diagonal-network arguments are checked, naming them."""

import numpy as np
import pytest

import mdln
from _raises import assert_raises_case


_DS = mdln.sparse_regression(n=5, d=8, s=2)

CASES = {
    "dln_loss_short_u": (lambda: mdln.dln_loss(_DS.X, _DS.y, np.ones(1), np.ones(8)), ValueError,
                         r"u must have shape \(8,\)"),
    "dln_grad_short_v": (lambda: mdln.dln_grad(_DS.X, _DS.y, np.ones(8), np.ones(7)), ValueError,
                         r"v must have shape \(8,\)"),
    "loss_grad_bad_y": (lambda: mdln.loss_grad(_DS.X, _DS.y[:-1], np.ones(8)), ValueError, "y must have shape"),
    "loss_grad_theta_str": (lambda: mdln.loss_grad(_DS.X, _DS.y, "abc"), ValueError, "theta must be"),
    "to_w_shapes": (lambda: mdln.to_w([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "same shape"),
    "balancedness_nan": (lambda: mdln.balancedness([1.0, np.nan], [1.0, 2.0]), ValueError, "u must contain only"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_dln_names_the_problem(case):
    assert_raises_case(CASES[case])
