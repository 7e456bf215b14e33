"""Tests of mdln.status: the one status vocabulary (codes, names, the trainer statuses) and its messages."""
import numpy as np
import pytest

import mdln
from mdln import status
from mdln.status import Status


def test_codes_are_the_documented_integers():
    assert [(s.name, int(s)) for s in Status] == [("CONVERGED", 0), ("STEP_CAP", 1), ("DIVERGED", 2),
                                                  ("SOLVER_FAILED", 3), ("SIGN_CHANGE", 4)]
    assert (status.CONVERGED, status.STEP_CAP, status.DIVERGED, status.SOLVER_FAILED, status.SIGN_CHANGE) == \
        tuple(Status)


def test_names_and_printing():
    assert len(status.STATUS_NAMES) == len(Status)
    for s in Status:
        assert status.STATUS_NAMES[s] == s.name.lower() == str(s) == status.status_name(int(s))
        assert status.status_name(np.int64(s)) == str(s)      # codes read back from status arrays
    assert f"{Status.DIVERGED}" == "diverged"


def test_trainer_statuses_are_the_three_ends_of_a_run():
    assert status.TRAINER_STATUSES == (Status.CONVERGED, Status.STEP_CAP, Status.DIVERGED)
    assert Status.SOLVER_FAILED not in status.TRAINER_STATUSES
    assert Status.SIGN_CHANGE not in status.TRAINER_STATUSES


@pytest.mark.parametrize("code", [5, -1, 2.5, "converged", None])
def test_unknown_codes_are_a_value_error_listing_the_codes(code):
    with pytest.raises(ValueError, match=r"status code must be one of \[0, 1, 2, 3, 4\]"):
        status.status_name(code)


def test_status_arrays_hold_int_codes_that_compare_with_the_enum():
    arr = np.array([Status.CONVERGED, Status.DIVERGED, Status.STEP_CAP], dtype=np.int64)
    assert arr.dtype.kind == "i"
    assert (arr == Status.DIVERGED).tolist() == [False, True, False]
    assert [Status(int(c)) for c in arr] == [Status.CONVERGED, Status.DIVERGED, Status.STEP_CAP]


def test_divergence_thresholds():
    assert status.DIVERGENCE_FACTOR == 1e12
    assert status.UNREPRESENTABLE == 2.0 ** 52       # |γg| ≥ 2^52: w ± γg rounds to a multiple of 1


def test_grid_run_message_follows_the_convention():
    """A result's ``message`` says why the run(s) ended; for arrays of runs, as counts per status."""
    ds = mdln.sparse_regression(n=6, d=4, s=2, seed=0)
    net = mdln.nets.DeepLinearNet(ds.X, ds.y, (4, 2, 1))
    w0 = mdln.nets.deep_linear_init(net.widths, np.random.default_rng(0))
    run = mdln.nets.train_grid(net, w0, [0.01, 0.02], [0.0, 0.5], 3)
    counts = run.status_counts()
    assert set(counts) == {str(s) for s in status.TRAINER_STATUSES}
    assert sum(counts.values()) == 2
    for s in status.TRAINER_STATUSES:
        assert f"{counts[str(s)]} " in run.message
