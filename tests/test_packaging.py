"""The wheel: it holds every module of the source tree, nothing else, and declares every library mdln imports.

The wheel is built offline from a copy of the sources (``pip wheel --no-deps --no-build-isolation``, with
the setuptools already installed), so the repository gets no ``build/`` or ``*.egg-info`` folder.
"""
import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PKG = REPO / "mdln"


def _source_modules():
    return sorted(p.relative_to(REPO).as_posix() for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Path of a wheel built from a copy of the package sources."""
    pytest.importorskip("setuptools")
    src = tmp_path_factory.mktemp("src")
    shutil.copy(REPO / "pyproject.toml", src)
    shutil.copy(REPO / "README.md", src)
    shutil.copytree(PKG, src / "mdln", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "--no-index", "-q", "-w", str(out), str(src)], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    (whl,) = out.glob("mdln-*.whl")
    return whl


def _wheel_names(whl):
    with zipfile.ZipFile(whl) as z:
        return z.namelist()


def _metadata(whl):
    with zipfile.ZipFile(whl) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(z.read(name).decode())


def test_the_wheel_holds_every_module_of_the_source_tree(wheel):
    names = _wheel_names(wheel)
    in_wheel = sorted(n for n in names if n.endswith(".py"))
    assert "mdln/figures/__init__.py" in _source_modules()        # the sub-packages are really checked
    missing = sorted(set(_source_modules()) - set(in_wheel))
    assert not missing, f"modules left out of the wheel: {missing}"
    assert in_wheel == _source_modules(), sorted(set(in_wheel) - set(_source_modules()))


def test_the_wheel_holds_the_package_only(wheel):
    stray = [n for n in _wheel_names(wheel) if n.split("/")[0] != "mdln" and ".dist-info/" not in n]
    assert not stray, stray


def _imported_distributions():
    """Distribution of every third-party module that an mdln module imports (at its top or lazily)."""
    tops = set()
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                tops |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                tops.add(node.module.split(".")[0])
    tops -= set(sys.stdlib_module_names) | {"mdln", "__future__"}
    dists = importlib.metadata.packages_distributions()
    unknown = sorted(t for t in tops if t not in dists)
    assert not unknown, f"imported by mdln but not installed here: {unknown}"
    return {t: {d.lower() for d in dists[t]} for t in tops}


def _requirement_name(req):
    return re.split(r"[\s;\[<>=!~(]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


# Imported only inside the function that needs it, and declared in this extra instead of the dependencies
OPTIONAL_IMPORTS = {"dask": "cluster"}


def test_every_runtime_import_is_a_declared_dependency(wheel):
    meta = _metadata(wheel)
    reqs = meta.get_all("Requires-Dist") or []
    required = {_requirement_name(r) for r in reqs if "extra ==" not in r}
    for top, extra in OPTIONAL_IMPORTS.items():
        assert any(_requirement_name(r) == top and f'extra == "{extra}"' in r for r in reqs), (top, extra)
        required.add(top)
    imported = _imported_distributions()
    assert {"numpy", "scipy", "numba", "matplotlib", "ipywidgets"} <= set().union(*imported.values())
    undeclared = {t: sorted(ds) for t, ds in imported.items() if not ds & required}
    assert not undeclared, f"imported by mdln, missing from [project] dependencies: {undeclared}"


def test_the_book_and_test_extras_are_declared(wheel):
    meta = _metadata(wheel)
    extras = set(meta.get_all("Provides-Extra") or [])
    assert {"book", "test"} <= extras, extras
    book = {_requirement_name(r) for r in meta.get_all("Requires-Dist") or [] if "extra == \"book\"" in r}
    assert "jupyter-book" in book, book
