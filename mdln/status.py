"""One status vocabulary for every trainer of the book (Sections 2–4, Appendix F).

Every run ends in one of these ways: the training loss reached the tolerance (``CONVERGED``), the step
budget ran out first (``STEP_CAP``), the iterates blew up (``DIVERGED``), the ODE solver gave up
(``SOLVER_FAILED``), or, for checks that need Δ_t > 0 throughout (Theorem 1 without sign changes), some
Δ_t,i vanished (``SIGN_CHANGE``). Every result carries ``status: Status`` and a ``message`` that says
why, like scipy's ``OptimizeResult``. Arrays of runs hold the
integer codes; single-run results print the names of ``STATUS_NAMES``. The divergence test of the
discrete trainers is shared: a run diverges when its loss is non-finite or exceeds
``DIVERGENCE_FACTOR``·(1 + L(θ0)), or (SMGD, Section 4) when an update multiplies some coordinate by
``UNREPRESENTABLE`` or more, which rounding can no longer follow.
"""
from __future__ import annotations

import numbers
from enum import IntEnum

import numpy as np

__all__ = ["Status", "STATUS_NAMES", "CONVERGED", "STEP_CAP", "DIVERGED", "SOLVER_FAILED", "SIGN_CHANGE",
           "TRAINER_STATUSES", "DIVERGENCE_FACTOR",
           "UNREPRESENTABLE", "status_name"]


class Status(IntEnum):
    """How a run ended; the integer codes are the ones stored in status arrays."""

    CONVERGED = 0
    STEP_CAP = 1
    DIVERGED = 2
    SOLVER_FAILED = 3
    SIGN_CHANGE = 4

    def __str__(self):
        return STATUS_NAMES[self]

    def __format__(self, spec):
        """Formats as its name (``f"{status:>10}"`` gives '  step_cap'), on every Python version."""
        return format(STATUS_NAMES[self], spec)


CONVERGED, STEP_CAP, DIVERGED = Status.CONVERGED, Status.STEP_CAP, Status.DIVERGED
SOLVER_FAILED, SIGN_CHANGE = Status.SOLVER_FAILED, Status.SIGN_CHANGE
STATUS_NAMES = ("converged", "step_cap", "diverged", "solver_failed", "sign_change")   # STATUS_NAMES[code]
_CODES = tuple(int(s) for s in Status)

# The ends of a discrete or ODE training run that summaries count (sign changes are a property of a check)
TRAINER_STATUSES = (Status.CONVERGED, Status.STEP_CAP, Status.DIVERGED)

DIVERGENCE_FACTOR = 1e12        # diverged: L(θ_k) > DIVERGENCE_FACTOR·(1 + L(θ_0)) or non-finite
UNREPRESENTABLE = 2.0 ** 52     # diverged: an update with max_i |γ g_i| ≥ 2^52 (w± lost to rounding)


def status_name(code):
    """The printed name of a status code (``STATUS_NAMES[code]``), with a ValueError for unknown codes."""
    if isinstance(code, (bool, np.bool_)) or not isinstance(code, (numbers.Integral, np.integer)) \
            or int(code) not in _CODES:
        raise ValueError(f"status code must be one of {list(_CODES)}, got {code!r}")
    return STATUS_NAMES[int(code)]
