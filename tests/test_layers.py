"""The package's layering: core below, figures and widgets above, the CLI on top.

The import graph is read from the source (``ast``, lazy imports inside functions included) with the
same resolver the cache uses for its code keys (`mdln.cache.code_dependencies`), so what these tests
see is what the cache sees.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from mdln import cache

PKG = Path(cache.__file__).resolve().parent

# Layer of every module. A module may import modules of its own layer or below, never above.
CORE, WIDGETS, FIGURES, TOP = 0, 1, 2, 3
LAYER_OF = {
    "mdln._checks": CORE, "mdln.status": CORE, "mdln.cache": CORE, "mdln.grid": CORE, "mdln.data": CORE,
    "mdln.momentum": CORE, "mdln._bdf": CORE, "mdln.dln": CORE, "mdln.implicit": CORE, "mdln.smgd": CORE,
    "mdln.nets": CORE, "mdln.claims": CORE,
    "mdln.experiments": CORE, "mdln.experiments.config": CORE, "mdln.experiments.sec2": CORE,
    "mdln.experiments.sec3": CORE, "mdln.experiments.sec4": CORE, "mdln.experiments.nets": CORE,
    "mdln.experiments.appendix_a": CORE, "mdln.experiments.theorems": CORE,
    "mdln.experiments.open_questions": CORE,
    "mdln.text": WIDGETS,
    "mdln.widgets": WIDGETS,
    "mdln.figures": FIGURES, "mdln.figures.plotting": FIGURES, "mdln.figures.sec2": FIGURES,
    "mdln.figures.sec3": FIGURES, "mdln.figures.sec4": FIGURES, "mdln.figures.nets": FIGURES,
    "mdln.figures.appendix_a": FIGURES, "mdln.theorems": FIGURES, "mdln.figures.open_questions": FIGURES,
    "mdln.__main__": TOP, "mdln._fork_group": TOP,
}
PRESENTATION_LIBS = {"matplotlib", "ipywidgets", "IPython", "PIL"}


def _modules():
    names = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts != ["mdln"]:
            names.append(".".join(parts))
    return names


def _graph():
    return {m: cache._direct_imports(m, cache._parse(m)) - {m} for m in _modules()}


def _third_party(module):
    tops = set()
    for node in ast.walk(cache._parse(module)):
        if isinstance(node, ast.Import):
            tops |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            tops.add((node.module or "").split(".")[0])
    return tops


def test_every_module_has_a_layer():
    unknown = sorted(set(_modules()) - set(LAYER_OF))
    assert not unknown, f"new modules need a layer in tests/test_layers.py: {unknown}"


def test_lower_layers_never_import_upper_ones():
    bad = [f"{m} (layer {LAYER_OF[m]}) imports {d} (layer {LAYER_OF[d]})"
           for m, deps in _graph().items() for d in sorted(deps) if LAYER_OF[d] > LAYER_OF[m]]
    assert not bad, "\n".join(bad)


def test_core_modules_do_not_import_plotting_or_widget_libraries():
    bad = {m: sorted(_third_party(m) & PRESENTATION_LIBS) for m in _modules() if LAYER_OF[m] == CORE}
    assert not {m: libs for m, libs in bad.items() if libs}


def test_the_import_graph_has_no_cycles():
    graph, state, cycles = _graph(), {}, []

    def visit(node, stack):
        state[node] = "open"
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


def test_the_core_imports_without_matplotlib_or_ipywidgets():
    core = sorted(m for m in _modules() if LAYER_OF[m] == CORE)
    code = ("import sys\n"
            f"for m in {core!r}: __import__(m)\n"
            "import mdln\n"
            f"print(sorted(k for k in sys.modules if k.split('.')[0] in {sorted(PRESENTATION_LIBS)!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PKG.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


@pytest.mark.parametrize("module", ["mdln.figures.sec2", "mdln.figures.sec4", "mdln.theorems"])
def test_the_graph_sees_the_figure_modules_dependencies(module):
    deps = _graph()[module]
    assert any(LAYER_OF[d] == CORE for d in deps), deps
