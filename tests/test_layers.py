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
    "mdln.experiments.holdout": CORE,
    "mdln.lemmas": CORE, "mdln.experiments.lemma_forms": CORE,
    "mdln.text": WIDGETS,
    "mdln.widgets": WIDGETS,
    "mdln.figures": FIGURES, "mdln.figures.plotting": FIGURES, "mdln.figures.sec2": FIGURES,
    "mdln.figures.sec3": FIGURES, "mdln.figures.sec4": FIGURES, "mdln.figures.nets": FIGURES,
    "mdln.figures.appendix_a": FIGURES, "mdln.figures.theorems": FIGURES, "mdln.theorems": FIGURES,
    "mdln.figures.open_questions": FIGURES, "mdln.figures.claims": FIGURES,
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
    return {m: cache.direct_imports(m, cache.parse_module(m)) - {m} for m in _modules()}


def _third_party(module):
    tops = set()
    for node in ast.walk(cache.parse_module(module)):
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


# ----------------------------------------------------------------------------- the package face
# Names notebooks reach as ``mdln.<name>`` from the presentation layer: a contract, kept lazy (PEP 562).
PRESENTATION_NAMES = ["figures", "widgets", "theorems", "scrubber", "slider",
                      "Fig2Config", "Fig3Config", "Fig4Config", "Fig6Config", "Fig7Config", "Fig8Config",
                      "Fig9Config", "FigAConfig", "fig2", "fig3", "fig4", "fig6", "fig7", "fig8", "fig9",
                      "figA",
                      "lambda_collapse", "d2_table", "stochastic_batches"]
PRESENTATION_MODULES = ("mdln.figures", "mdln.widgets", "mdln.theorems", "mdln.text", "mdln.__main__")


def _face_imports():
    """Modules the package face (mdln/__init__.py) imports at its top level (its functions excluded)."""
    found = set()
    for node in cache.parse_module("mdln").body:
        if isinstance(node, ast.ImportFrom):
            base = ("mdln" + (f".{node.module}" if node.module else "")) if node.level else node.module
            found |= {f"{base}.{a.name}" if cache.module_path(f"{base}.{a.name}") else base
                      for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_the_package_face_imports_the_core_only():
    found = _face_imports()
    mdln_modules = {m for m in found if m.split(".")[0] == "mdln"}
    others = {m.split(".")[0] for m in found} - {"mdln"}
    assert mdln_modules, "mdln/__init__.py imports no core module?"
    not_core = sorted(m for m in mdln_modules if LAYER_OF.get(m) != CORE)
    assert not not_core, f"mdln/__init__.py imports {not_core} eagerly: make them lazy (LAZY_NAMES)"
    assert not others & PRESENTATION_LIBS, others


def test_import_mdln_loads_no_presentation_module():
    code = ("import sys, mdln\n"
            f"print(sorted(k for k in sys.modules if k.startswith({PRESENTATION_MODULES!r}) "
            f"or k.split('.')[0] in {sorted(PRESENTATION_LIBS)!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PKG.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


def test_every_lazy_name_resolves_and_is_listed():
    """In a fresh interpreter: each lazy name is its module's object, appears in dir(mdln), and the
    names notebooks use from the presentation layer are all there."""
    code = ("import importlib, json, types, mdln\n"
            "out = {}\n"
            "for name, where in sorted(mdln.LAZY_NAMES.items()):\n"
            "    eager = name in vars(mdln)\n"
            "    obj = getattr(mdln, name)\n"
            "    module = importlib.import_module(where, 'mdln')\n"
            "    want = module if where == '.' + name else getattr(module, name)\n"
            "    out[name] = dict(eager=eager, same=obj is want and obj is not None,\n"
            "                     is_module=isinstance(obj, types.ModuleType), in_dir=name in dir(mdln))\n"
            "try:\n"
            "    mdln.no_such_name\n"
            "    missing = 'no error'\n"
            "except AttributeError as exc:\n"
            "    missing = str(exc)\n"
            "print(json.dumps(dict(names=out, missing=missing)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PKG.parent)
    assert out.returncode == 0, out.stderr
    import json
    got = json.loads(out.stdout)
    names = got["names"]
    assert not [n for n in PRESENTATION_NAMES if n not in names], "presentation names must stay reachable"
    assert all(r["same"] and r["in_dir"] for r in names.values()), names
    # lazy means not loaded before the first access (modules imported as a side effect excepted)
    assert not [n for n, r in names.items() if r["eager"] and not r["is_module"]], names
    assert "no_such_name" in got["missing"]
