"""The paper's figures, drawn: one module per section, and their static registry.

``sec2`` (Section 2: Figure 1 and the regimes), ``sec3`` (Section 3 and Appendix D: Figures 3, 8, 9),
``sec4`` (Section 4: Figures 4 and 7), ``nets`` (Appendix F: Figures 2 and 6), ``appendix_a``
(Appendix A) and ``theorems`` (the Theorem 2 maps). Each exposes
``FIGURES = {name: dict(fn, config, title, seconds, experiment, plot)}``; a figure is
``Config.preset(fidelity)`` → ``experiment(config)`` (the core run, :mod:`mdln.experiments`) → a frozen
result → ``plot(result)``. This package is presentation: it sits above the core (``mdln.experiments``,
``mdln.momentum``, ``mdln.dln``, ``mdln.smgd``, ...) and above ``mdln.widgets``, which it imports and
which never import it; the CLI (``mdln.__main__``) and the notebooks sit above it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from .._checks import FIDELITIES, check_fidelity
from . import appendix_a, nets, open_questions, sec2, sec3, sec4

__all__ = ["FigureSpec", "registry", "get_figure", "FIDELITIES"]

_MODULES = (sec2, sec3, sec4, nets, appendix_a, open_questions)   # paper order; a static import, no importlib


@dataclass(frozen=True)
class FigureSpec:
    """One reproducible figure: its figure function, config class, title, expected seconds, and the
    (experiment, plot) pair it is made of: ``experiment(config)`` → result, ``plot(result)`` → figure."""

    name: str
    fn: Callable
    config: type
    title: str
    seconds: dict
    module: str
    experiment: Optional[Callable] = None
    plot: Optional[Callable] = None

    def make_config(self, fidelity: str):
        """The config preset at ``fidelity`` ('test', 'book' or 'paper')."""
        return self.config.preset(check_fidelity(fidelity))

    def run(self, config, progress=False):
        """The result at ``config``: the core ``experiment`` when the module names one, else ``fn``."""
        return (self.experiment or self.fn)(config, progress=progress)

    def draw(self, result):
        """The figure of ``result``: ``plot(result)`` when the module names one, else ``result.plot()``."""
        return self.plot(result) if self.plot is not None else result.plot()


def registry() -> dict:
    """All figures, in paper order, keyed by name ('fig1', 'fig2', ...)."""
    specs = {}
    for mod in _MODULES:
        mod_name = mod.__name__.rsplit(".", 1)[-1]
        for name, entry in getattr(mod, "FIGURES", {}).items():
            specs[name] = FigureSpec(name=name, fn=entry["fn"], config=entry["config"], title=entry["title"],
                                     seconds=dict(entry.get("seconds", {})), module=mod_name,
                                     experiment=entry.get("experiment"), plot=entry.get("plot"))
    return dict(sorted(specs.items(), key=lambda kv: _order(kv[0])))


def _order(name):
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 10 ** 6, name)


def get_figure(name: str) -> FigureSpec:
    """The figure called ``name``; ValueError listing the known names otherwise."""
    reg = registry()
    if name not in reg:
        raise ValueError(f"unknown figure {name!r}; known figures: {', '.join(reg)}")
    return reg[name]
