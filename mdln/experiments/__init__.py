"""The book's experiments, in the core layer: each computes, none draws.

One module per section of the paper (``sec2``, ``sec3``, ``sec4``, ``nets`` for Appendix F,
``appendix_a``, and ``theorems`` for the Theorem 2 studies over Figure 4's runs). An experiment is
``Config.preset(fidelity)`` → ``run(config)`` (cached on disk) → a frozen ``Result`` with ``arrays()``
and ``summary()``. A config holds one :class:`~mdln.experiments.config.DataConfig` and is passed whole
to the functions below it. Drawing lives in :mod:`mdln.figures`, which imports this package, never the
reverse; so the cache key of a result covers the experiment and the core it calls, not its plots.
"""
from .config import FIDELITIES, DataConfig, check_fidelity

__all__ = ["DataConfig", "FIDELITIES", "check_fidelity"]
from . import appendix_a, sec2, sec3  # noqa: E402  (Sections 2 and 3, Appendix A)

__all__ += ["appendix_a", "sec2", "sec3"]
