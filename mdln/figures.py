"""The registry of paper figures: each is defined once, as a function of a small config.

Every figure module exposes ``FIGURES = {name: dict(fn, config, title, seconds)}``; this module
collects them so the notebooks and ``python -m mdln`` share one definition per figure.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from ._checks import FIDELITIES

__all__ = ["FigureSpec", "registry", "get_figure", "FIDELITIES"]

_MODULES = ("fig_sec2", "fig_sec3", "fig_sec4", "fig_nets", "fig_appendix_a")


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
    for mod_name in _MODULES:
        mod = importlib.import_module(f"mdln.{mod_name}")
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
