"""The book's experiments, in the core layer: each computes, none draws.

One module per section of the paper (``sec2``, ``sec3``, ``sec4``, ``nets`` for Appendix F,
``appendix_a``, and ``theorems`` for the Theorem 2 studies over Figure 4's runs). An experiment is
``Config.preset(fidelity)`` → ``run(config)`` (cached on disk) → a frozen ``Result`` with ``arrays()``
and ``summary()``. A config holds one :class:`~mdln.experiments.config.DataConfig` and is passed whole
to the functions below it. Drawing lives in :mod:`mdln.figures`, which imports this package, never the
reverse; so the cache key of a result covers the experiment and the core it calls, not its plots.
"""
from .config import FIDELITIES, DataConfig, check_fidelity

from . import appendix_a, sec2, sec3  # noqa: E402  (Sections 2 and 3, Appendix A)
from .sec4 import (D2Config, D2Result, Fig4Config, Fig4Result, Fig7Config, Fig7Result, StochasticConfig,
                   StochasticResult, lambda_collapse, run_d2, run_fig4, run_fig7, run_stochastic)
from .nets import Fig2Config, Fig2Result, Fig6Config, Fig6Result, run_fig2, run_fig6
from .theorems import (DroppedTermConfig, DroppedTermStudy, Theorem2Check, ToleranceConfig, ToleranceStudy,
                       check_fig4, check_stochastic, dropped_term_study, tolerance_study)
from .holdout import AlgorithmHoldout, HoldoutConfig, HoldoutResult, run_holdout

__all__ = ["DataConfig", "FIDELITIES", "check_fidelity", "appendix_a", "sec2", "sec3",
           "Fig4Config", "Fig4Result", "run_fig4", "lambda_collapse", "Fig7Config", "Fig7Result", "run_fig7",
            "D2Config", "D2Result", "run_d2", "StochasticConfig", "StochasticResult", "run_stochastic",
            "Fig2Config", "Fig2Result", "run_fig2", "Fig6Config", "Fig6Result", "run_fig6", "Theorem2Check",
            "check_fig4", "check_stochastic", "ToleranceConfig", "ToleranceStudy", "tolerance_study",
            "DroppedTermConfig", "DroppedTermStudy", "dropped_term_study",
            "HoldoutConfig", "HoldoutResult", "AlgorithmHoldout", "run_holdout"]

from .lemma_forms import LemmaFormsConfig, LemmaFormsResult, run_lemma_forms  # noqa: E402 (Lemmas 1, 2)

__all__ += ["LemmaFormsConfig", "LemmaFormsResult", "run_lemma_forms"]
