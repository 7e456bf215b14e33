"""Unusable caches (read-only, a file in the way, damaged or foreign entries): the computation still
returns the right arrays, warning once and running uncached, or recomputing and storing a good entry."""
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import mdln
from mdln import cache
from mdln.smgd import have_numba


def _compute_factory(calls):
    def compute():
        calls.append(1)
        return {"x": np.linspace(0, 1, 5), "n": np.array(3)}
    return compute


def _entry(folder, ns, params):
    return Path(folder) / f"{ns}-{cache.cache_key(ns, params)}.npz"


@pytest.mark.parametrize("case", ["readonly_dir", "dir_is_file", "dir_uncreatable", "entry_is_dir",
                                  "entry_missing_array", "entry_wrong_shape", "entry_of_other_key",
                                  "entry_tampered_manifest"])
def test_unusable_caches_run_uncached_or_recompute(tmp_path, monkeypatch, case):
    monkeypatch.setattr(cache, "_WARNED", set(), raising=False)
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setenv("MDLN_CACHE_DIR", str(folder))
    monkeypatch.delenv("MDLN_NO_CACHE", raising=False)
    ns, params = "t", {"p": 1}
    path = _entry(folder, ns, params)
    expect_warning = case in ("readonly_dir", "dir_is_file", "dir_uncreatable", "entry_is_dir")
    if case == "readonly_dir":
        folder.chmod(0o555)
        if os.geteuid() == 0:   # root writes anyway: simulate the refusal the kernel gives other users
            def refuse(*a, **k):
                raise PermissionError(13, "Permission denied")
            monkeypatch.setattr(cache.tempfile, "mkstemp", refuse)
    elif case == "dir_is_file":
        blocker = tmp_path / "a_file"
        blocker.write_text("x")
        monkeypatch.setenv("MDLN_CACHE_DIR", str(blocker))
    elif case == "dir_uncreatable":
        monkeypatch.setenv("MDLN_CACHE_DIR", "/proc/self/mdln-cache")
    elif case == "entry_is_dir":
        path.mkdir()
    elif case == "entry_missing_array":
        np.savez(path, x=np.linspace(0, 1, 5))
    elif case == "entry_wrong_shape":
        np.savez(path, x=np.zeros(3), n=np.array(3))
    elif case == "entry_of_other_key":
        cache.cached_arrays(ns, {"p": 2}, lambda: {"x": np.zeros(5), "n": np.array(7)})
        os.replace(_entry(folder, ns, {"p": 2}), path)
    elif case == "entry_tampered_manifest":
        cache.cached_arrays(ns, params, lambda: {"x": np.zeros(5), "n": np.array(7)})
        with np.load(path) as z:
            kept = {k: z[k] for k in z.files if k != "n"}
        kept["x"] = np.zeros(4)
        np.savez(path, **kept)
    calls = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a = cache.cached_arrays(ns, params, _compute_factory(calls))
            b = cache.cached_arrays(ns, params, _compute_factory(calls))
    finally:
        folder.chmod(0o755)
    for r in (a, b):
        np.testing.assert_array_equal(r["x"], np.linspace(0, 1, 5))
        assert int(r["n"]) == 3
    msgs = [str(w.message) for w in caught if "mdln cache" in str(w.message)]
    if expect_warning:
        assert len(msgs) == 1, msgs     # warned once, ran uncached (computed each time)
        assert len(calls) == 2
    else:
        assert msgs == [] and len(calls) == 1    # a miss, recomputed, stored, then a hit
        with np.load(path) as z:
            assert str(z["__mdln_key__"]) == cache.cache_key(ns, params)


@pytest.mark.skipif(not have_numba(), reason="needs both engines")
def test_cache_key_includes_the_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("MDLN_NO_CACHE", raising=False)
    ds = mdln.sparse_regression(n=8, d=6, s=2, seed=0)
    for eng in ("numpy", "numba"):
        mdln.mgd_sweep(ds.X, ds.y, [0.05], [0.5], max_steps=50, engine=eng)
    assert len(list(tmp_path.glob("mgd_sweep-*.npz"))) == 2
