"""The API page (book/api.md): document this book's own ``mdln`` and read its plain-text docstrings as such.

1. The book's root goes first on ``sys.path``, so autodoc documents the ``mdln`` next to ``_config.yml``
   (the tree being built), not another copy installed elsewhere.
2. mdln's docstrings are plain text with a little reStructuredText (````code````, ``:func:``): they write
   absolute values and norms as ``|x|`` and continue formulas on indented lines. reStructuredText would
   read ``|x|`` as an undefined substitution and a dedent after an indented line as a broken list, so
   pipes outside inline literals are escaped and a blank line goes before every dedent.
3. A docstring may name an object by its package-face name (``:class:`mdln.MGDResult```, re-exported by
   ``mdln/__init__.py``) or by a name its module imports from another (``:func:`linear_shift``` in
   ``mdln.theorems``): such a reference resolves to the object where it is defined and documented
   (``mdln.smgd.MGDResult``, ``mdln.implicit.linear_shift``).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

_LITERAL = re.compile(r"(``.+?``)")


def _escape_pipes(line: str) -> str:
    parts = _LITERAL.split(line)
    return "".join(p if p.startswith("``") else p.replace("|", r"\|") for p in parts)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def plain_text_to_rst(lines: list[str]) -> list[str]:
    """The docstring's lines with pipes escaped and a blank line before each dedent."""
    out = []
    for line in lines:
        prev = out[-1] if out else ""
        if line.strip() and prev.strip() and _indent(line) < _indent(prev):
            out.append("")
        out.append(_escape_pipes(line))
    return out


def _process_docstring(app, what, name, obj, options, lines):
    if name == "mdln" or name.startswith("mdln."):
        lines[:] = plain_text_to_rst(lines)


def _defining_target(target: str, context_module):
    """``module.qualname`` where the object that ``target`` names is defined, or None.

    ``target`` is a package-face name (``mdln.MGDResult``) or, inside the docstrings of ``context_module``,
    a bare name that module imports from another one (``linear_shift`` in ``mdln.theorems``).
    """
    import importlib
    if target.startswith("mdln.") and target.count(".") == 1:
        where, name = "mdln", target.split(".", 1)[1]
    elif context_module and context_module.startswith("mdln") and "." not in target:
        where, name = context_module, target
    else:
        return None
    try:
        obj = getattr(importlib.import_module(where), name, None)
    except ImportError:
        return None
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not (module and qualname) or module == where:
        return None
    return f"{module}.{qualname}"


def _reexport_reference(app, env, node, contnode):
    """Resolve a reference to a re-exported name to the object where it is defined and documented."""
    if node.get("refdomain") != "py":
        return None
    real = _defining_target(node.get("reftarget", ""), node.get("py:module"))
    if real is None:
        return None
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"], real, node,
                                             contnode)


def setup(app):
    root = str(Path(app.srcdir).resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    app.connect("autodoc-process-docstring", _process_docstring)
    app.connect("missing-reference", _reexport_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
