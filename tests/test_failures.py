"""Failure modes (issue 12): each group of bad inputs, interrupts and damaged caches ends with what a user
expects — a ValueError naming the argument, a clear status, or one line and a non-zero exit."""
import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import mdln
from mdln import cache
from mdln.figures import registry
from mdln.smgd import have_numba

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------ group 1: Ctrl-C
@pytest.mark.parametrize("jobs,target", [(2, "group"), (2, "main"), (1, "group")])
def test_group1_ctrl_c_stops_with_one_line_and_exit_130(tmp_path, jobs, target):
    out, cdir = tmp_path / "out", tmp_path / "cache"
    env = {**os.environ, "MDLN_CACHE_DIR": str(cdir), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "mdln", "reproduce", "all", "--fidelity", "test", "--jobs",
                             str(jobs), "--out", str(out), "--quiet"], env=env, cwd=REPO,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not list(out.glob("*.json")) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)    # real work: interrupt as soon as the first figure is complete
        assert proc.poll() is None, "the run ended before it could be interrupted"
        t0 = time.time()
        (os.killpg if target == "group" else os.kill)(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=8)
        elapsed = time.time() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert elapsed < 4.0
    assert proc.returncode == 130
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    m = re.search(r"interrupted; (\d+) of (\d+) figures written", lines[0])
    assert m and int(m.group(2)) == len(registry())
    written = {p.stem for p in out.glob("*.json")}
    assert len(written) == int(m.group(1)) >= 1
    for name in written:   # every reported figure complete, nothing half-written
        assert {p.name for p in out.glob(f"{name}.*")} == {f"{name}.json", f"{name}.npz", f"{name}.png"}
    assert not [p for p in out.iterdir() if p.suffix == ".tmp"]
    assert not list(cdir.glob("*.tmp"))
    for entry in cdir.glob("*.npz"):   # every cache entry complete and readable
        with np.load(entry) as z:
            [z[k] for k in z.files]
    time.sleep(0.3)
    alive = subprocess.run(["ps", "-o", "stat=", "-g", str(proc.pid)], capture_output=True, text=True).stdout
    assert all(s.startswith("Z") for s in alive.split()), "worker processes still running"


# ------------------------------------------------------------------------------ group 7: caches
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
def test_group7_unusable_caches_run_uncached_or_recompute(tmp_path, monkeypatch, case):
    monkeypatch.setattr(cache, "_WARNED", set())
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
def test_group7_cache_key_includes_the_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("MDLN_NO_CACHE", raising=False)
    ds = mdln.sparse_regression(n=8, d=6, s=2, seed=0)
    for eng in ("numpy", "numba"):
        mdln.mgd_sweep(ds.X, ds.y, [0.05], [0.5], max_steps=50, engine=eng)
    assert len(list(tmp_path.glob("mgd_sweep-*.npz"))) == 2


# ------------------------------------------------------------------------------ group 8: output files
@pytest.mark.parametrize("which", ["npz", "png", "json"])
def test_group8_interrupted_writes_leave_no_truncated_file(tmp_path, monkeypatch, which):
    import matplotlib.figure
    from mdln.__main__ import reproduce_one
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    out.mkdir()
    reproduce_one("fig1", "test", str(out))
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def partial(target):
        fh = open(target, "wb") if isinstance(target, (str, os.PathLike)) else target
        fh.write(b"partial")
        fh.flush()
        raise OSError(28, "No space left on device")

    if which == "npz":
        monkeypatch.setattr(np, "savez_compressed", lambda file, *a, **k: partial(file))
    elif which == "png":
        monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda self, fname, *a, **k: partial(fname))
    else:
        monkeypatch.setattr(Path, "write_text", lambda self, data, *a, **k: partial(self))
    with pytest.raises(OSError, match="No space"):
        reproduce_one("fig1", "test", str(out))
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after[f"fig1.{which}"] == before[f"fig1.{which}"]    # the old complete file, not a truncated one
    assert set(after) == set(before)                            # no temporary file left behind
