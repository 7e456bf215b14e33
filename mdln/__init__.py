"""mdln: the executable companion to *Leveraging Continuous Time to Understand Momentum When
Training Diagonal Linear Networks* (Papazov, Pesme, Flammarion, AISTATS 2024).

Public names are re-exported here so notebooks write ``mdln.lam(...)``.
"""
from .momentum import (DivergenceError, Quadratic, accelerate, alt_lam, discretisation_gap, gd, gf, lam,
                       mgd, mgd_init_velocity, mgf, mgf_quadratic, step, SolverBudgetError,
                       central_difference_iterates, central_difference_params)
from .data import SparseRegression, sparse_regression
from .dln import (MGFResult, MGFTrajectory, MirrorFlowCheck, balancedness, dln_grad, dln_loss, from_w, loss_grad,
                  mirror_flow_check, perturbed_initialisation, theorem1_integrals,
                  theorem1_integrals_no_sign_change, theta_from_w, to_w, train_gf, train_mgf)
from .implicit import (HyperbolicEntropy, bregman_divergence, corollary2_delta, hyperbolic_entropy,
                       hyperbolic_entropy_grad, implicit_solution, min_l1_interpolator, min_l2_interpolator,
                       normalised_distance, prop3_bound, small_lambda_delta, dropped_term,
                       ImplicitSolveError, prop2_demo)
from .figures.sec3 import Fig3Config, Fig8Config, Fig9Config, fig3, fig8, fig9
from .figures.appendix_a import FigAConfig, figA
from .nets import DeepLinearNet, GridRun, ReluNet, TeacherStudent, teacher_student, train_grid
from .figures.nets import Fig2Config, Fig6Config, fig2, fig6
from .smgd import MGDResult, MGDTrajectory, SweepResult, have_numba, lemma2_r, mgd_sweep, train_mgd
from .widgets import scrubber, slider
from .figures.sec4 import Fig4Config, Fig7Config, d2_table, fig4, fig7, lambda_collapse, stochastic_batches

__version__ = "0.1.0"
