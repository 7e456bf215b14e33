"""Failures of mdln.momentum: a diverging recurrence or flow is a DivergenceError saying so, a bad grad a
ValueError naming it."""

import numpy as np
import pytest

import mdln
from _raises import assert_raises_case


def _q():
    return mdln.Quadratic(np.eye(2), np.zeros(2))


CASES = {
    "central_difference_diverges": (lambda: mdln.central_difference_iterates(lambda w: -w, [1.0], 0.1, 0.5, 10 ** 5),
                                    mdln.DivergenceError, "no longer finite"),
    "central_difference_nan_grad": (lambda: mdln.central_difference_iterates(
        lambda w: np.sqrt(w - 1.0), [2.0], 0.1, 0.1, 1000), mdln.DivergenceError, "grad values"),
    "central_difference_grad_shape": (lambda: mdln.central_difference_iterates(lambda w: w[:1], [1.0, 2.0], 0.1,
                                                                                0.1, 5), ValueError, "grad"),
    "mgf_nan_grad": (lambda: mdln.mgf(lambda w: np.where(w > 1.5, np.nan, -1.0 + 0 * w), [1.0], 0.1, [0, 5]),
                     mdln.DivergenceError, "grad returned non-finite"),
    "mgf_nan_at_w0": (lambda: mdln.mgf(lambda w: np.full_like(w, np.nan), [1.0, 2.0], 0.1, [0, 1]),
                      ValueError, "grad\\(w0\\) must be finite"),
    "mgf_diverging_flow": (lambda: mdln.mgf(lambda w: -w, [1.0, 2.0], 0.1, np.linspace(0, 2000, 5), rtol=1e-4,
                                            atol=1e-4),
                           mdln.DivergenceError, "diverged"),
    "gf_blow_up": (lambda: mdln.gf(lambda w: -w ** 3, [1.0], [0, 10]), mdln.DivergenceError, "blow up"),
    "quadratic_grad_size": (lambda: _q().grad([1.0, 2.0, 3.0]), ValueError, "w must have shape"),
    "gap_w0_is_wstar": (lambda: mdln.discretisation_gap(_q().grad, [0.0, 0.0], 0.1, 0.5, 10, [0.0, 0.0]),
                        ValueError, "w0 must differ from w_star"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_momentum_names_the_problem(case):
    assert_raises_case(CASES[case])
