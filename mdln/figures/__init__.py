"""The paper's figures, one module per section, and their static registry.

``sec2`` (Section 2: Figure 1 and the regimes), ``sec3`` (Section 3 and Appendix D: Figures 3, 8, 9),
``sec4`` (Section 4: Figures 4 and 7), ``nets`` (Appendix F: Figures 2 and 6) and ``appendix_a``
(Appendix A). Each exposes ``FIGURES = {name: dict(fn, config, title, seconds)}``; a figure is
``Config.preset(fidelity)`` → ``figN(config)`` → a frozen result. This package sits above the core
modules (``mdln.momentum``, ``mdln.dln``, ``mdln.smgd``, ...) and below ``mdln.widgets`` and the CLI.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .._checks import FIDELITIES
from . import appendix_a, nets, sec2, sec3, sec4

__all__ = ["FigureSpec", "registry", "get_figure", "FIDELITIES"]

_MODULES = (sec2, sec3, sec4, nets, appendix_a)   # paper order; a static import, no importlib


@dataclass(frozen=True)
class FigureSpec:
    """One reproducible figure: its compute function, config class, one-line title, expected seconds."""

    name: str
    fn: Callable
    config: type
    title: str
    seconds: dict
    module: str

    def make_config(self, fidelity: str):
        """The config preset at ``fidelity`` ('test', 'book' or 'paper')."""
        if fidelity not in FIDELITIES:
            raise ValueError(f"fidelity must be one of {', '.join(FIDELITIES)}; got {fidelity!r}")
        return self.config.preset(fidelity)


def registry() -> dict:
    """All figures, in paper order, keyed by name ('fig1', 'fig2', ...)."""
    specs = {}
    for mod in _MODULES:
        mod_name = mod.__name__.rsplit(".", 1)[-1]
        for name, entry in getattr(mod, "FIGURES", {}).items():
            specs[name] = FigureSpec(name=name, fn=entry["fn"], config=entry["config"], title=entry["title"],
                                     seconds=dict(entry.get("seconds", {})), module=mod_name)
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
