"""Theorem 2 in full against the paper's simplification (Section 4, Appendix D.1 and F.2.2): one name space.

The computations live in the core, :mod:`mdln.experiments.theorems` (checks, tolerance and dropped-term
studies, the simplification rule); the plots in :mod:`mdln.figures.theorems`. This presentation module
re-exports both, so that ``from mdln import theorems as T`` gives the chapters one place to call.
"""
from __future__ import annotations

from .experiments.theorems import (TOLERANCE_RUNS, DroppedTermConfig, DroppedTermStudy, Theorem2Check,
                                   ToleranceConfig, ToleranceStudy, check_fig4, check_run, check_runs,
                                   check_stochastic, check_sweep, dropped_term_study, linear_shift,
                                   simplification_rule, theorem2_predictions, theta_tilde0, tolerance_study)
from .figures.theorems import plot_distance_heatmaps, plot_dropped_scatter

__all__ = ["theta_tilde0", "theorem2_predictions", "linear_shift", "Theorem2Check", "check_runs",
           "check_run", "check_sweep", "check_fig4", "check_stochastic", "ToleranceConfig", "ToleranceStudy",
           "tolerance_study", "DroppedTermConfig", "DroppedTermStudy", "dropped_term_study",
           "simplification_rule", "plot_distance_heatmaps", "plot_dropped_scatter", "TOLERANCE_RUNS"]
