"""Failure modes (issue 12): each group of bad inputs, interrupts and damaged caches ends with what a user
expects — a ValueError naming the argument, a clear status, or one line and a non-zero exit."""
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import mdln
from mdln import cache
from mdln.figures import registry
from mdln.smgd import have_numba

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------ group 1: Ctrl-C
@pytest.mark.parametrize("jobs,target,when", [(2, "group", "figure"), (2, "main", "work"), (1, "group", "work")])
def test_group1_ctrl_c_stops_with_one_line_and_exit_130(tmp_path, jobs, target, when):
    out, cdir = tmp_path / "out", tmp_path / "cache"
    env = {**os.environ, "MDLN_CACHE_DIR": str(cdir), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "mdln", "reproduce", "all", "--fidelity", "test", "--jobs",
                             str(jobs), "--out", str(out), "--quiet"], env=env, cwd=REPO,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        ready = (lambda: list(out.glob("*.json"))) if when == "figure" else (lambda: cdir.exists())
        while not ready() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)    # real work: interrupt once the first figure is complete or computing
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
    assert len(written) == int(m.group(1)) >= (1 if when == "figure" else 0)
    for name in written:   # every reported figure complete, nothing half-written
        assert {p.name for p in out.glob(f"{name}.*")} == {f"{name}.json", f"{name}.npz", f"{name}.png"}
    assert not [p for p in out.iterdir() if p.suffix == ".tmp"]
    assert not list(cdir.glob("*.tmp"))
    for entry in cdir.glob("*.npz"):   # every cache entry complete and readable
        with np.load(entry) as z:
            [z[k] for k in z.files]
    for _ in range(30):   # workers (and the fork server) gone within a few seconds; zombies do not count
        alive = subprocess.run(["ps", "-o", "stat=,args=", "-s", str(proc.pid)], capture_output=True,
                               text=True).stdout
        running = [ln for ln in alive.splitlines() if ln.strip() and not ln.strip().startswith("Z")]
        if not running:
            break
        time.sleep(0.1)
    assert not running, f"processes still running after the interrupt: {running}"


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
    import matplotlib.pyplot as plt
    from mdln import figures
    from mdln.__main__ import reproduce_one

    class Tiny:   # a figure that computes in no time: what matters here is how its files are written
        def __init__(self, config, progress=False):
            self.config = config

        def arrays(self):
            return {"x": np.arange(1000.0)}

        def summary(self):
            return {"sum": 499500.0}

        def plot(self):
            fig, ax = plt.subplots(figsize=(2, 2))
            ax.plot(np.arange(10.0))
            return fig

    tiny = figures.FigureSpec(name="fig1", fn=Tiny, config=Fig1Config, title="tiny", seconds={}, module="test")
    monkeypatch.setattr(figures, "get_figure", lambda name: tiny)
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


# ------------------------------------------------------------------------------ group 2: implicit solver
def _overdetermined():
    rng = np.random.default_rng(0)
    return rng.standard_normal((40, 5)), rng.standard_normal(40)


@pytest.mark.parametrize("case", ["no_interpolator", "no_interpolator_theta0", "l2_no_interpolator",
                                  "delta_1e-200", "delta_1e-300"])
def test_group2_implicit_solver_never_returns_a_non_answer(case):
    if case.startswith("delta"):
        ds = mdln.sparse_regression()
        with pytest.raises(mdln.implicit.ImplicitSolveError, match=r"did not reach an interpolator.*‖Xθ − y‖"):
            mdln.implicit_solution(ds.X, ds.y, float(case.split("_")[1]))
        return
    X, y = _overdetermined()
    with pytest.raises(ValueError, match=r"no interpolator: y is not in the range of X \(shape 40×5"):
        if case == "no_interpolator":
            mdln.implicit_solution(X, y, 0.1)
        elif case == "no_interpolator_theta0":
            mdln.implicit_solution(X, y, 0.1, theta0=np.ones(5))
        else:
            mdln.min_l2_interpolator(X, y)


def test_group2_successful_solves_still_return_theta():
    ds = mdln.sparse_regression()
    for delta in (1e-100, 1e-8, 1.0, 1e6):
        theta = mdln.implicit_solution(ds.X, ds.y, delta)
        assert theta.shape == (ds.d,) and np.linalg.norm(ds.X @ theta - ds.y) < 1e-10
    assert np.linalg.norm(ds.X @ mdln.min_l2_interpolator(ds.X, ds.y) - ds.y) < 1e-10


# ------------------------------------------------------------------------------ group 3: configs
from mdln.figures.nets import Fig2Config, Fig6Config                       # noqa: E402
from mdln.figures.sec2 import Fig1Config                                   # noqa: E402
from mdln.figures.sec3 import Fig3Config, Fig8Config, Fig9Config           # noqa: E402
from mdln.figures.sec4 import D2Config, Fig4Config, Fig7Config, StochasticConfig   # noqa: E402

BAD_CONFIGS = [
    (Fig3Config, dict(lams=(0.05, 0.2), seeds=(0,)), "lams must start with 0"),
    (Fig8Config, dict(lams=(0.1, 0.0)), "lams must start with 0"),
    (Fig9Config, dict(lams=(0.2,)), "lams must start with 0"),
    (Fig3Config, dict(lams=(0.0, 0.2, 0.1)), "strictly increasing"),
    (Fig3Config, dict(lams=()), "lams must not be empty"),
    (Fig3Config, dict(seeds=()), "seeds must not be empty"),
    (Fig3Config, dict(seeds=(0, 0)), "must not repeat"),
    (Fig3Config, dict(alpha=-0.01), "alpha must be > 0"),
    (Fig3Config, dict(mu=float("nan")), "mu must be finite"),
    (Fig3Config, dict(s=40), "s must be <="),
    (Fig9Config, dict(mus=()), "mus must not be empty"),
    (Fig9Config, dict(sigma=-1.0), "sigma must be >= 0"),
    (Fig1Config, dict(gap_eps=()), "gap_eps must not be empty"),
    (Fig1Config, dict(eigenvalues=(1.0, -0.1)), "eigenvalues entries must be > 0"),
    (Fig1Config, dict(beta=1.0), "beta must lie in"),
    (Fig1Config, dict(rho=50.0), "rho"),
    (Fig1Config, dict(horizon=float("inf")), "horizon must be finite"),
    (Fig2Config, dict(n_gamma=0), "n_gamma must be an integer >= 1"),
    (Fig2Config, dict(lam_levels=(0.1, -1.0)), "lam_levels entries must be > 0"),
    (Fig2Config, dict(n_bins=1), "n_bins must be an integer >= 2"),
    (Fig6Config, dict(widths=()), "widths must not be empty"),
    (Fig6Config, dict(widths=(30, 8, 2)), "widths must be"),
    (Fig6Config, dict(epochs=0), "epochs must be an integer >= 1"),
    (Fig4Config, dict(n_gamma=0), "n_gamma must be an integer >= 1"),
    (Fig4Config, dict(seeds=()), "seeds must not be empty"),
    (Fig4Config, dict(beta_max=1.0), "beta_max must lie in"),
    (Fig4Config, dict(gamma_min=1.0, gamma_max=0.1), "gamma_min must be <="),
    (Fig4Config, dict(tol=0.0), "tol must be > 0"),
    (Fig7Config, dict(n_lam=0), "n_lam must be an integer >= 1"),
    (Fig7Config, dict(mgf_seeds=(7,)), "subset of fig4.seeds"),
    (D2Config, dict(ratios=()), "ratios must not be empty"),
    (D2Config, dict(ratios=(1.0, 2.0)), "ratios must not exceed 1.0"),
    (D2Config, dict(lam=0.0), "lam must be > 0"),
    (StochasticConfig, dict(batch_sizes=(0, 5)), "batch_sizes entries must be an integer >= 1"),
    (StochasticConfig, dict(batch_sizes=()), "batch_sizes must not be empty"),
    (StochasticConfig, dict(batch_sizes=(50,)), "batch_sizes must lie in"),
]


@pytest.mark.parametrize("cls,kwargs,match", BAD_CONFIGS, ids=[f"{c.__name__}-{'-'.join(k)}-{i}"
                                                                for i, (c, k, _) in enumerate(BAD_CONFIGS)])
def test_group3_configs_are_validated_at_construction(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_group3_every_preset_validates():
    for spec in registry().values():
        for fidelity in ("test", "book", "paper"):
            spec.make_config(fidelity)
    D2Config(), StochasticConfig()


# ------------------------------------------------------------------------------ group 5 (overflow, ours)
@pytest.mark.parametrize("theta,delta", [(1e160, 1e-160), (-1e160, 1e-160), (1e300, 1e-10), (1.0, 1e-320)])
def test_group5_hyperbolic_entropy_does_not_overflow(theta, delta):
    val = mdln.hyperbolic_entropy([theta], delta)
    grad = mdln.hyperbolic_entropy_grad([theta], delta)
    # |θ| ≫ Δ: ψ = ¼(2|θ| a − 2|θ|) to rounding, a = ½·∇ψ·2 = log(4|θ|/Δ)
    a = np.log(4.0) + np.log(abs(theta)) - np.log(delta)
    assert np.isfinite(val) and np.isfinite(grad).all()
    np.testing.assert_allclose(grad, [0.5 * np.sign(theta) * a], rtol=1e-12)
    np.testing.assert_allclose(val, 0.25 * (2 * abs(theta) * a - 2 * abs(theta)), rtol=1e-12)
    pot = mdln.HyperbolicEntropy(np.array([delta]))
    assert np.isfinite(mdln.bregman_divergence(pot, [theta], [theta / 2]))


# ------------------------------------------------------------------------------ group 9: helpers
def _q():
    return mdln.Quadratic(np.eye(2), np.zeros(2))


_DS = mdln.sparse_regression(n=5, d=8, s=2)

HELPER_CASES = {
    "central_difference_diverges": (lambda: mdln.central_difference_iterates(lambda w: -w, [1.0], 0.1, 0.5, 10 ** 5),
                                    mdln.DivergenceError, "no longer finite"),
    "central_difference_nan_grad": (lambda: mdln.central_difference_iterates(
        lambda w: np.sqrt(w - 1.0), [2.0], 0.1, 0.1, 1000), mdln.DivergenceError, "grad values"),
    "central_difference_grad_shape": (lambda: mdln.central_difference_iterates(lambda w: w[:1], [1.0, 2.0], 0.1,
                                                                                0.1, 5), ValueError, "grad"),
    "mgf_nan_grad": (lambda: mdln.mgf(lambda w: np.where(w > 1.5, np.nan, -1.0 + 0 * w), [1.0], 0.1, [0, 5]),
                     mdln.DivergenceError, "grad returned non-finite"),
    "mgf_nan_at_w0": (lambda: mdln.mgf(lambda w: np.full_like(w, np.nan), [1.0, 2.0], 0.1, [0, 1]),
                      ValueError, "grad\\(w0\\) must be finite"),
    "mgf_diverging_flow": (lambda: mdln.mgf(lambda w: -w, [1.0, 2.0], 0.1, np.linspace(0, 2000, 5), rtol=1e-4,
                                            atol=1e-4),
                           mdln.DivergenceError, "diverged"),
    "gf_blow_up": (lambda: mdln.gf(lambda w: -w ** 3, [1.0], [0, 10]), mdln.DivergenceError, "blow up"),
    "quadratic_grad_size": (lambda: _q().grad([1.0, 2.0, 3.0]), ValueError, "w must have shape"),
    "gap_w0_is_wstar": (lambda: mdln.discretisation_gap(_q().grad, [0.0, 0.0], 0.1, 0.5, 10, [0.0, 0.0]),
                        ValueError, "w0 must differ from w_star"),
    "sparse_regression_mu_str": (lambda: mdln.sparse_regression(mu="abc"), ValueError, "mu must be a real"),
    "sparse_regression_mu_none": (lambda: mdln.sparse_regression(mu=None), ValueError, "mu must be a real"),
    "sparse_regression_mu_list": (lambda: mdln.sparse_regression(mu=[1, 2]), ValueError, "mu must be a scalar"),
    "dln_loss_short_u": (lambda: mdln.dln_loss(_DS.X, _DS.y, np.ones(1), np.ones(8)), ValueError,
                         r"u must have shape \(8,\)"),
    "dln_grad_short_v": (lambda: mdln.dln_grad(_DS.X, _DS.y, np.ones(8), np.ones(7)), ValueError,
                         r"v must have shape \(8,\)"),
    "loss_grad_bad_y": (lambda: mdln.loss_grad(_DS.X, _DS.y[:-1], np.ones(8)), ValueError, "y must have shape"),
    "loss_grad_theta_str": (lambda: mdln.loss_grad(_DS.X, _DS.y, "abc"), ValueError, "theta must be"),
    "to_w_shapes": (lambda: mdln.to_w([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "same shape"),
    "balancedness_nan": (lambda: mdln.balancedness([1.0, np.nan], [1.0, 2.0]), ValueError, "u must contain only"),
    "lemma2_r_str": (lambda: mdln.lemma2_r("abc"), ValueError, "z must be a real"),
    "small_lambda_delta_dims": (lambda: mdln.small_lambda_delta(
        SimpleNamespace(t=np.arange(3.0), **{k: np.ones((3, 4)) for k in ("w_plus", "w_minus", "wdot_plus",
                                                                           "wdot_minus")}), 0.1, _DS.X, _DS.y),
        ValueError, "coordinates but X has"),
    "prop3_bound_y0": (lambda: mdln.prop3_bound(_DS.X, np.zeros(5), 0.01), None, None),
    "mgd_sweep_no_gamma": (lambda: mdln.mgd_sweep(_DS.X, _DS.y, [], [0.5], max_steps=10, cache=False),
                           ValueError, "gammas must hold at least one"),
    "mgd_sweep_no_beta": (lambda: mdln.mgd_sweep(_DS.X, _DS.y, [0.1], [], max_steps=10, cache=False),
                          ValueError, "betas must hold at least one"),
    "mgd_sweep_no_gamma_numpy": (lambda: mdln.mgd_sweep(_DS.X, _DS.y, [], [0.5], max_steps=10, cache=False,
                                                        engine="numpy"), ValueError, "gammas must hold"),
    "prop2_demo_nan_speed": (lambda: mdln.prop2_demo(speed_scale=float("nan")), ValueError,
                             "speed_scale must be finite"),
}


@pytest.mark.parametrize("case", list(HELPER_CASES))
def test_group9_helpers_name_the_problem(case):
    fn, exc, match = HELPER_CASES[case]
    if exc is None:    # prop3_bound with y = 0: θ0 = 0 already interpolates, no λ makes Δ vanish
        assert fn() == float("inf")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(exc, match=match):
            fn()
