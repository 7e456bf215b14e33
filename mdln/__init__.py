"""mdln: the executable companion to *Leveraging Continuous Time to Understand Momentum When
Training Diagonal Linear Networks* (Papazov, Pesme, Flammarion, AISTATS 2024).

Public names are re-exported here so notebooks write ``mdln.lam(...)``. ``import mdln`` loads the core
only (numpy, scipy, numba; no matplotlib, no ipywidgets): the presentation layer (`mdln.figures`,
`mdln.widgets`, `mdln.theorems`) and the figure functions and configs (``mdln.fig4``,
``mdln.Fig4Config``, ``mdln.slider``, ...) are lazy attributes (PEP 562), imported on first use from
the one table ``LAZY_NAMES`` (name → module).
"""
import importlib

from . import cache, grid, status          # core modules reachable as mdln.grid, ...
from .momentum import (DivergenceError, Quadratic, accelerate, alt_lam, discretisation_gap, gd, gf, lam,
                       mgd, mgd_init_velocity, mgf, mgf_quadratic, step, SolverBudgetError,
                       central_difference_iterates, central_difference_params)
from .data import SparseRegression, sparse_regression
from .dln import (MGFResult, MGFTrajectory, MirrorFlowCheck, balancedness, dln_grad, dln_loss, from_w,
                  loss_grad, mirror_flow_check, perturbed_initialisation, theorem1_integrals,
                  theorem1_integrals_no_sign_change, theta_from_w, to_w, train_gf, train_mgf)
from .implicit import (HyperbolicEntropy, bregman_divergence, corollary2_delta, hyperbolic_entropy,
                       hyperbolic_entropy_grad, implicit_solution, min_l1_interpolator, min_l2_interpolator,
                       normalised_distance, prop3_bound, small_lambda_delta, dropped_term,
                       ImplicitSolveError, prop2_demo)
from .nets import DeepLinearNet, GridRun, ReluNet, TeacherStudent, teacher_student, train_grid
from .smgd import MGDResult, MGDTrajectory, SweepResult, have_numba, lemma2_r, mgd_sweep, train_mgd

__version__ = "0.1.0"

# The lazy names: attribute → module (relative to this package) that defines it. A name equal to the
# module's own last component (``figures`` → ``.figures``) is the module itself. One entry per name;
# when a name moves, change its module here.
LAZY_NAMES = {
    # the presentation layer and the core's experiments, as modules
    "experiments": ".experiments", "figures": ".figures", "widgets": ".widgets", "theorems": ".theorems",
    "text": ".text",
    # Section 2 (Figure 1)
    "Fig1Config": ".figures.sec2", "fig1": ".figures.sec2",
    # Section 3 and Appendix D (Figures 3, 8, 9)
    "Fig3Config": ".figures.sec3", "Fig8Config": ".figures.sec3", "Fig9Config": ".figures.sec3",
    "fig3": ".figures.sec3", "fig8": ".figures.sec3", "fig9": ".figures.sec3",
    # Section 4 (Figures 4 and 7, the λ collapse, the D² table, stochastic batches)
    "Fig4Config": ".figures.sec4", "Fig7Config": ".figures.sec4",
    "fig4": ".figures.sec4", "fig7": ".figures.sec4",
    "lambda_collapse": ".figures.sec4", "d2_table": ".figures.sec4", "stochastic_batches": ".figures.sec4",
    # Appendix F (Figures 2 and 6) and Appendix A
    "Fig2Config": ".figures.nets", "Fig6Config": ".figures.nets",
    "fig2": ".figures.nets", "fig6": ".figures.nets",
    "FigAConfig": ".figures.appendix_a", "figA": ".figures.appendix_a",
    # the widgets
    "scrubber": ".widgets", "slider": ".widgets",
    "scrubber2d": ".widgets",
}


def __getattr__(name):
    """Import a lazy name of ``LAZY_NAMES`` on first use (PEP 562)."""
    try:
        where = LAZY_NAMES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module = importlib.import_module(where, __name__)
    value = module if where == f".{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    """The eager names and the lazy ones (PEP 562)."""
    return sorted(set(globals()) | set(LAZY_NAMES))
