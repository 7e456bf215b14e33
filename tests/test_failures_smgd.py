"""Failures of mdln.smgd: empty grids and non-numeric arguments are a ValueError naming them."""

import pytest

import mdln
from _raises import assert_raises_case


_DS = mdln.sparse_regression(n=5, d=8, s=2)

CASES = {
    "lemma2_r_str": (lambda: mdln.lemma2_r("abc"), ValueError, "z must be a real"),
    "mgd_sweep_no_gamma": (lambda: mdln.mgd_sweep(_DS.X, _DS.y, [], [0.5], max_steps=10, cache=False),
                           ValueError, "gammas must hold at least one"),
    "mgd_sweep_no_beta": (lambda: mdln.mgd_sweep(_DS.X, _DS.y, [0.1], [], max_steps=10, cache=False),
                          ValueError, "betas must hold at least one"),
    "mgd_sweep_no_gamma_numpy": (lambda: mdln.mgd_sweep(_DS.X, _DS.y, [], [0.5], max_steps=10, cache=False,
                                                        engine="numpy"), ValueError, "gammas must hold"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_smgd_names_the_problem(case):
    assert_raises_case(CASES[case])
