"""python -m mdln: help, list, every figure at test fidelity, and one-line errors for bad arguments."""
import json
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from mdln.__main__ import main
from mdln.cache import code_key
from mdln.figures import registry


def _run(*args):
    return subprocess.run([sys.executable, "-m", "mdln", *args], capture_output=True, text=True, timeout=300)


def test_help_explains_the_commands():
    r = _run("--help")
    assert r.returncode == 0
    for word in ("reproduce", "list", "fidelity", "paper"):
        assert word in r.stdout
    r = _run("reproduce", "--help")
    assert r.returncode == 0 and "--no-cache" in r.stdout and "--jobs" in r.stdout


def test_list_names_every_figure(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    reg = registry()
    assert {"fig1", "fig2", "fig3", "fig4", "fig6", "fig7", "fig8", "fig9"} <= set(reg)
    for name, spec in reg.items():
        assert name in out and spec.title in out


def test_reproduce_one_figure_at_test_fidelity(tmp_path, monkeypatch):
    """The CLI's interface and files on one figure (the figure tests cover every figure's computation)."""
    from mdln import claims as C
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path / "cache"))
    # the claims that read Figure 4's own result only (the others also run the Theorem 2 studies)
    own = tuple(c for c in C.CLAIMS if c.figures == ("fig4",) and c.experiments == ("mdln.experiments.sec4",))
    monkeypatch.setattr(C, "CLAIMS", own)
    out = tmp_path / "results"
    t0 = time.perf_counter()
    assert main(["reproduce", "fig4", "--fidelity", "test", "--out", str(out), "--quiet"]) == 0
    elapsed = time.perf_counter() - t0
    assert sorted(p.name for p in out.iterdir()) == ["claims.json", "fig4.json", "fig4.npz", "fig4.png"]
    doc = json.loads((out / "claims.json").read_text())
    assert [c["name"] for c in doc["claims"]] == [c.name for c in own] and len(own) >= 2
    assert doc["fidelity"] == "test" and re.match(r"\d{4}-\d\d-\d\d$", doc["date"])
    assert doc["code_keys"] == {"mdln.experiments.sec4": code_key("mdln.experiments.sec4")}
    for c in doc["claims"]:
        assert c["verdict"] in ("holds", "holds where", "fails") and c["fidelity"] == "test"
    png = (out / "fig4.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    summary = json.loads((out / "fig4.json").read_text())
    assert summary["figure"] == "fig4" and summary["fidelity"] == "test"
    assert summary["title"] == registry()["fig4"].title
    assert isinstance(summary["claims"], dict) and summary["claims"]["runs"] > 0
    assert 0 < summary["wall_seconds"] <= elapsed          # a cold cache: the figure computes
    with np.load(out / "fig4.npz") as z:
        assert json.loads(str(z["config_json"])) == summary["config"]
        assert str(z["fidelity"]) == "test"
        assert {"test_loss", "status", "gammas", "betas"} <= set(z.files)


def test_claims_command_writes_the_evaluated_claims(tmp_path, capsys):
    path = tmp_path / "sub" / "claims.json"
    assert main(["claims", "--fidelity", "test", "--names", "figure1_paths", "acceleration_rule",
                 "--out", str(path)]) == 0
    doc = json.loads(path.read_text())
    assert [c["name"] for c in doc["claims"]] == ["figure1_paths", "acceleration_rule"]
    assert "claims: 2 (" in capsys.readouterr().out
    assert main(["claims", "--fidelity", "test", "--names", "nope", "--out", str(path)]) == 2


@pytest.mark.parametrize("args,message", [
    (["reproduce", "fig99"], "unknown figure 'fig99'"),
    (["reproduce", "fig1", "--fidelity", "huge"], "unknown fidelity 'huge'"),
    (["reproduce", "fig1", "--jobs", "0"], "--jobs must be an integer >= 1"),
    (["reproduce", "fig1", "--jobs", "two"], "invalid int value"),
    (["bogus"], "invalid choice"),
    (["claims", "--fidelity", "huge"], "unknown fidelity 'huge'"),
    ([], "required"),
])
def test_bad_arguments_give_one_line_and_exit_2(args, message):
    r = _run(*args)
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in r.stderr


def test_unwritable_out_is_reported(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    r = _run("reproduce", "fig1", "--fidelity", "test", "--out", str(blocker / "sub"))
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot write to --out" in lines[0]
