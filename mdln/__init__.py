"""mdln: the executable companion to *Leveraging Continuous Time to Understand Momentum When
Training Diagonal Linear Networks* (Papazov, Pesme, Flammarion, AISTATS 2024).

Public names are re-exported here so notebooks write ``mdln.lam(...)``.
"""
from .momentum import (DivergenceError, Quadratic, accelerate, alt_lam, discretisation_gap, gd, gf, lam,
                       mgd, mgd_init_velocity, mgf, step)
from .data import SparseRegression, sparse_regression
from .fig_appendix_a import FigAConfig, central_difference_iterates, central_difference_params, figA
from .nets import DeepLinearNet, GridRun, ReluNet, TeacherStudent, teacher_student, train_grid
from .fig_nets import Fig2Config, Fig6Config, fig2, fig6
from .smgd import MGDResult, MGDTrajectory, lemma2_r, train_mgd
from .sweep import SweepResult, mgd_sweep

__version__ = "0.1.0"
