"""Ctrl-C during `python -m mdln reproduce`: the run stops, prints one line and exits with 130, leaving only
complete figures and cache entries and no worker processes behind."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mdln.figures import registry

REPO = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 120      # seconds: generous, the machine may be loaded; the check is that the run stops at all


def _wait_for(condition, proc, timeout):
    """Poll ``condition`` until it holds, the process ends, or ``timeout`` seconds pass; True if it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def _running_in_session(pid):
    """Processes (not zombies) still alive in the session of ``pid``."""
    out = subprocess.run(["ps", "-o", "stat=,args=", "-s", str(pid)], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if ln.strip() and not ln.strip().startswith("Z")]


@pytest.mark.parametrize("jobs,target,when",
                         [(2, "group", "figure"), (2, "main", "work"), (1, "group", "work")])
def test_ctrl_c_stops_the_run_with_one_line_and_exit_130(tmp_path, jobs, target, when):
    out, cdir = tmp_path / "out", tmp_path / "cache"
    env = {**os.environ, "MDLN_CACHE_DIR": str(cdir), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "mdln", "reproduce", "all", "--fidelity", "test", "--jobs",
                             str(jobs), "--out", str(out), "--quiet"], env=env, cwd=REPO,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = (lambda: list(out.glob("*.json"))) if when == "figure" else (lambda: cdir.exists())
        _wait_for(ready, proc, STOP_TIMEOUT)   # real work: interrupt once a figure is complete or computing
        assert proc.poll() is None, "the run ended before it could be interrupted"
        (os.killpg if target == "group" else os.kill)(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=STOP_TIMEOUT)     # the event: the run stopped after one Ctrl-C
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    m = re.search(r"interrupted; (\d+) of (\d+) figures written", lines[0])
    assert m and int(m.group(2)) == len(registry())
    written = {p.stem for p in out.glob("*.json")}
    assert len(written) == int(m.group(1)) >= (1 if when == "figure" else 0)
    for name in written:   # every reported figure complete, nothing half-written
        assert {p.name for p in out.glob(f"{name}.*")} == {f"{name}.json", f"{name}.npz", f"{name}.png"}
    assert not [p for p in out.iterdir() if p.suffix == ".tmp"]
    assert not list(cdir.glob("*.tmp"))
    for entry in cdir.glob("*.npz"):   # every cache entry complete and readable
        with np.load(entry) as z:
            [z[k] for k in z.files]
    # workers (and the fork server) exit after the interrupt; zombies do not count
    deadline = time.monotonic() + STOP_TIMEOUT
    while _running_in_session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running_in_session(proc.pid), "processes still running after the interrupt"
