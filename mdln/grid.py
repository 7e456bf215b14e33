"""The (γ, β, replication) grid of Section 4 and Appendix F.2.2: per-cell status of a run array.

Figure 4 (`mdln.figures.sec4.Fig4Result`) and the Theorem 2 checks (`mdln.theorems.Theorem2Check`) both hold
arrays of shape (G, Bt, R) with a trainer status per run (0 converged, 1 step cap, 2 diverged, as
`mdln.status.Status`) and a sign-change flag; this mixin turns them into per-cell masks once.
"""
from __future__ import annotations

import numpy as np

from .status import Status

__all__ = ["CellStatus"]


class CellStatus:
    """Per-(γ, β)-cell masks of a result with ``status`` and ``crossed`` arrays of shape (G, Bt, R)."""

    @property
    def cell_diverged(self):
        """(G, Bt): some replication diverged."""
        return np.any(self.status == Status.DIVERGED, axis=-1)

    @property
    def cell_crossed(self):
        """(G, Bt): some non-diverged replication had w± change sign."""
        return np.any(self.crossed & (self.status != Status.DIVERGED), axis=-1)

    @property
    def cell_converged(self):
        """(G, Bt): every replication reached train loss < tol."""
        return np.all(self.status == Status.CONVERGED, axis=-1)
