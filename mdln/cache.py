"""On-disk cache for results that take more than a few seconds.

Keys are SHA-256 digests of *every* parameter (arrays hashed by dtype, shape and bytes), a
namespace and a fingerprint of the mdln source files, so a change in data, grid, seed or code never
reuses a stale result. The cache lives in ``<repo>/.mdln_cache`` (git-ignored, never committed) unless
``MDLN_CACHE_DIR`` says otherwise; ``MDLN_NO_CACHE=1`` disables it.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["cache_dir", "cache_key", "cached_arrays", "code_fingerprint"]


def cache_dir() -> Path:
    """Folder of the on-disk cache (created on demand)."""
    env = os.environ.get("MDLN_CACHE_DIR")
    if env:
        path = Path(env)
    else:
        repo = Path(__file__).resolve().parent.parent
        path = repo / ".mdln_cache" if (repo / "pyproject.toml").exists() else Path.home() / ".cache" / "mdln"
    path.mkdir(parents=True, exist_ok=True)
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


_FINGERPRINT = None


def code_fingerprint() -> str:
    """Digest of every mdln source file: any change to the code invalidates every cached result."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        h = hashlib.sha256()
        for p in sorted(Path(__file__).resolve().parent.glob("*.py")):
            h.update(p.name.encode())
            h.update(p.read_bytes())
        _FINGERPRINT = h.hexdigest()[:16]
    return _FINGERPRINT


def cache_key(namespace: str, params: dict) -> str:
    """Hex digest derived from the namespace, every parameter and the code fingerprint."""
    blob = json.dumps({"ns": namespace, "params": _canonical(params), "code": code_fingerprint()},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def cached_arrays(namespace: str, params: dict, compute: Callable[[], dict], use_cache: bool = True) -> dict:
    """Return ``compute()`` (a dict of arrays), loading it from / saving it to the cache by key."""
    if not use_cache or os.environ.get("MDLN_NO_CACHE") == "1":
        return compute()
    path = cache_dir() / f"{namespace}-{cache_key(namespace, params)}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as f:
                return {k: f[k] for k in f.files}
        except Exception:  # a truncated or foreign file: recompute
            path.unlink(missing_ok=True)
    result = compute()
    arrays = {k: np.asarray(v) for k, v in result.items()}
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return arrays
