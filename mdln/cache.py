"""On-disk cache for results that take more than a few seconds.

Keys are SHA-256 digests of *every* parameter (arrays hashed by dtype, shape and bytes), a
namespace and the **code key** of the computation: a digest of the module that defines ``compute`` and
of every mdln module it imports, transitively, as parsed code (``ast``) with docstrings stripped. That is
the one invalidation mechanism for mdln's own code (no hand-bumped version strings): a change in data,
grid, seed or in code the result depends on never reuses a stale result, while editing a docstring, a
comment, or a module the computation does not import (a widget, a plot) keeps the cache. The key also
holds the versions of the numerical libraries the results come from (numpy, scipy and numba, "none" when
numba is absent; `library_versions`), so upgrading one of them recomputes.

Each entry's manifest lists every array's name, dtype, shape and content hash (SHA-256 of dtype, shape
and bytes). An entry whose numbers do not match its manifest (edited, swapped or corrupted on disk) is a
miss: it is recomputed and overwritten, with one warning naming it.

The cache lives in ``<repo>/.mdln_cache`` (git-ignored, never committed) unless ``MDLN_CACHE_DIR`` says
otherwise; ``MDLN_NO_CACHE=1`` disables it.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import os
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["cache_dir", "cache_key", "cached_arrays", "code_key", "code_dependencies", "content_hash",
           "clear_code_keys", "module_path", "parse_module", "direct_imports", "library_versions",
           "remove_stale_temporaries"]


def _cache_path() -> Path:
    env = os.environ.get("MDLN_CACHE_DIR")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parent.parent
    return repo / ".mdln_cache" if (repo / "pyproject.toml").exists() else Path.home() / ".cache" / "mdln"


def cache_dir() -> Path:
    """Folder of the on-disk cache (created on demand); OSError if it cannot be created."""
    path = _cache_path()
    path.mkdir(parents=True, exist_ok=True)
    return path


_WARNED = set()


def _warn_once(what: str, message: str, stacklevel: int = 3) -> None:
    """One ``UserWarning`` per problem and process (a run with 1000 cached calls warns once)."""
    if what not in _WARNED:
        _WARNED.add(what)
        warnings.warn(f"mdln cache: {message}", stacklevel=stacklevel)


def _usable_dir():
    """The cache folder, or None (after one warning) when it cannot be created or is not a folder."""
    try:
        path = cache_dir()
    except OSError as exc:
        env = os.environ.get("MDLN_CACHE_DIR")
        where = f"MDLN_CACHE_DIR={env!r}" if env else "the default cache folder"
        _warn_once(("dir", env), f"cannot use {where} ({exc.strerror or exc}); running uncached")
        return None
    return path


def _canonical(obj):
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        return {"__array__": hashlib.sha256(arr.tobytes()).hexdigest(), "dtype": str(arr.dtype),
                "shape": list(arr.shape)}
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return repr(float(obj))
    if isinstance(obj, (np.integer, int, bool, np.bool_)):
        return int(obj) if not isinstance(obj, (bool, np.bool_)) else bool(obj)
    if obj is None or isinstance(obj, str):
        return obj
    raise TypeError(f"cannot hash a parameter of type {type(obj).__name__} into a cache key")


_PACKAGE_DIR = Path(__file__).resolve().parent      # .../mdln
_PACKAGE = _PACKAGE_DIR.name


def module_path(name: str):
    """Source file of the mdln module ``name`` ('mdln.figures.sec4'), or None if it is not one."""
    parts = name.split(".")
    if parts[0] != _PACKAGE:
        return None
    base = _PACKAGE_DIR.joinpath(*parts[1:])
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def parse_module(name: str):
    path = module_path(name)
    return None if path is None else ast.parse(path.read_text(), filename=str(path))


def direct_imports(name: str, tree) -> set:
    """The mdln modules that ``name`` imports anywhere (top level or inside functions)."""
    is_pkg = module_path(name).name == "__init__.py"
    package = name if is_pkg else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:    # ``from .figures import sec4`` names a module itself
                if module_path(f"{base}.{alias.name}") is not None:
                    found.add(f"{base}.{alias.name}")
            if node.module is not None or not node.level:
                found.add(base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    # the package's own __init__ only re-exports names: depending on it would make every module depend
    # on every other one
    return {m for m in found if m != _PACKAGE and module_path(m) is not None}


def code_dependencies(module: str) -> list:
    """``module`` and every mdln module it imports, transitively (sorted names)."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        tree = parse_module(name)
        if tree is None:
            continue
        seen.add(name)
        todo.extend(direct_imports(name, tree) - seen)
    return sorted(seen)


def _strip_docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                                       ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


_CODE_KEYS = {}


def code_key(module) -> str:
    """Digest of the code a result computed in ``module`` depends on (see the module docstring).

    ``module`` is a module name; a name outside mdln (a test's own helper) or None gives ''.
    """
    if not module or module_path(module) is None:
        return ""
    if module not in _CODE_KEYS:
        h = hashlib.sha256()
        for name in code_dependencies(module):
            h.update(name.encode())
            h.update(ast.dump(_strip_docstrings(parse_module(name))).encode())
        _CODE_KEYS[module] = h.hexdigest()[:16]
    return _CODE_KEYS[module]


_LIBRARIES = ("numpy", "scipy", "numba")


@lru_cache(maxsize=None)
def _dist_version(name: str) -> str:
    """Installed version of the distribution ``name`` (read from its metadata, not imported), or 'none'."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def clear_code_keys() -> None:
    """Forget the code keys and library versions this process computed (they are read once per process)."""
    _CODE_KEYS.clear()
    _dist_version.cache_clear()


def library_versions() -> dict:
    """Versions of the numerical libraries every cache key holds: numpy, scipy, numba ('none' if absent)."""
    return {name: _dist_version(name) for name in _LIBRARIES}


def cache_key(namespace: str, params: dict, module=None) -> str:
    """Hex digest of the namespace, every parameter, the code key of ``module`` and `library_versions`."""
    blob = json.dumps({"ns": namespace, "params": _canonical(params), "code": code_key(module),
                       "libraries": library_versions()}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


_KEY_FIELD = "__mdln_key__"
_MANIFEST_FIELD = "__mdln_manifest__"


def content_hash(arr: np.ndarray) -> str:
    """SHA-256 hex digest of an array's dtype, shape and bytes (C order)."""
    arr = np.ascontiguousarray(arr)
    h = hashlib.sha256(f"{arr.dtype.str}|{arr.shape}|".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def _layout(arrays: dict) -> dict:
    return {k: [str(v.dtype), list(v.shape)] for k, v in arrays.items()}


def _manifest(arrays: dict) -> str:
    """JSON of every array's name → [dtype, shape, content hash]."""
    return json.dumps({k: [str(v.dtype), list(v.shape), content_hash(v)] for k, v in sorted(arrays.items())},
                      sort_keys=True)


def _load_entry(path: Path, key: str):
    """The arrays of a valid entry for ``key``, or None (a miss) for anything else at ``path``.

    Valid means: a readable .npz, written for this very key, holding exactly the arrays (names, dtypes,
    shapes) its manifest lists, with the content hashes it lists. A truncated or foreign file, a folder,
    an entry of another key or with a missing or reshaped array is a silent miss; an entry whose numbers
    differ from its manifest's hashes is a miss with one warning naming it. The caller recomputes (and
    overwrites the entry if it can).
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except Exception:   # noqa: BLE001 - IsADirectoryError, BadZipFile, ValueError, EOFError, ...
        return None
    stored_key = data.pop(_KEY_FIELD, None)
    manifest = data.pop(_MANIFEST_FIELD, None)
    if stored_key is None or manifest is None or str(stored_key) != key:
        return None
    try:
        listed = json.loads(str(manifest))
        layout = {k: v[:2] for k, v in listed.items()}
        hashes = {k: str(v[2]) for k, v in listed.items()}
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return None
    if layout != _layout(data):
        return None
    changed = sorted(k for k, v in data.items() if content_hash(v) != hashes[k])
    if changed:
        _warn_once(("content", str(path)), f"entry {path.name} does not match its content hashes "
                   f"(array{'s' if len(changed) > 1 else ''} {', '.join(changed)}); recomputing it",
                   stacklevel=4)
        return None
    return data


def remove_stale_temporaries(pgids=None) -> int:
    """Delete temporary entry files left by killed writers; returns how many were removed.

    Each temporary name carries its writer's process group id. With ``pgids`` only those groups'
    files go (the CLI passes the workers it has just stopped); otherwise every file whose group has
    no live process left.
    """
    folder = _cache_path()
    if not folder.is_dir():
        return 0
    removed = 0
    for tmp in folder.glob("*.tmp"):
        parts = tmp.name.split(".")
        try:
            pgid = int(parts[-2])
        except (IndexError, ValueError):
            continue
        if pgids is not None:
            stale = pgid in set(pgids)
        else:
            try:
                os.killpg(pgid, 0)
                stale = False
            except ProcessLookupError:
                stale = True
            except OSError:
                stale = False
        if stale:
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def cached_arrays(namespace: str, params: dict, compute: Callable[[], dict], use_cache: bool = True) -> dict:
    """Return ``compute()`` (a dict of arrays), loading it from / saving it to the cache by key.

    The key covers ``namespace``, ``params`` and the code key of the module that defines ``compute``
    (pass a function or lambda defined where the computation lives).

    A cache that cannot be used (folder not creatable, not a folder, read-only) gives one warning and
    the run goes on uncached; an unusable entry is a miss (see ``_load_entry``).
    """
    if not use_cache or os.environ.get("MDLN_NO_CACHE") == "1":
        return compute()
    folder = _usable_dir()
    if folder is None:
        return compute()
    key = cache_key(namespace, params, getattr(compute, "__module__", None))
    path = folder / f"{namespace}-{key}.npz"
    if path.exists():
        hit = _load_entry(path, key)
        if hit is not None:
            return hit
    result = compute()
    arrays = {k: np.asarray(v) for k, v in result.items()}
    if _KEY_FIELD in arrays or _MANIFEST_FIELD in arrays:
        raise ValueError(f"compute() must not return the reserved names {_KEY_FIELD}, {_MANIFEST_FIELD}")
    _store(path, key, arrays)
    return arrays


def _store(path: Path, key: str, arrays: dict) -> None:
    """Write the entry atomically (temporary file + rename); on failure warn once and go on."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.stem}.", suffix=f".{os.getpgrp()}.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays, **{_KEY_FIELD: np.array(key),
                                      _MANIFEST_FIELD: np.array(_manifest(arrays))})
        os.replace(tmp, path)
    except OSError as exc:
        _warn_once(("write", str(path.parent)), f"cannot write entries to {str(path.parent)!r} "
                   f"({exc.strerror or exc}); results are not cached")
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
