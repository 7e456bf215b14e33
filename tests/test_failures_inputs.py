"""Bad inputs to every public function: NaN/inf values and wrong types end in a ValueError or TypeError
that names the parameter, raised at the public function (never an AttributeError or a numpy traceback
from inside, never a silent NaN).

``PUBLIC`` holds one valid call per public callable of ``mdln`` (its re-exports) and of mdln.implicit,
data, grid, nets, dln, momentum and smgd, with the kind of each argument; the sweep replaces one argument
at a time by NaN, ±inf or a string. ``test_every_public_callable_is_swept`` keeps the table complete.
"""
import importlib
import inspect
import json
import re
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import mdln
from mdln import nets

MODULES = ("mdln.implicit", "mdln.data", "mdln.grid", "mdln.nets", "mdln.dln", "mdln.momentum", "mdln.smgd")

_DS = mdln.sparse_regression(n=5, d=8, s=2, seed=0)
X, Y, D = _DS.X, _DS.y, _DS.d
_Q = mdln.Quadratic(np.diag([1.0, 0.5]), np.zeros(2))
_TRAJ = SimpleNamespace(t=np.linspace(0.0, 1.0, 4), **{k: np.full((4, D), 0.1) for k in
                                                        ("w_plus", "w_minus", "wdot_plus", "wdot_minus")})
_TS = nets.teacher_student(n=6, d=2, teacher_width=2, student_width=3, n_test=20, seed=0)


def _linear_net():
    return nets.DeepLinearNet(X, Y, (D, 3, 1))


def _tiny_frame(gamma, beta):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(1.0, 1.0))
    fig.text(0.1, 0.5, f"{gamma:g}, {beta:g}", fontsize=20)
    return fig


_PAPER_CLAIMS = json.loads(mdln.claims.PAPER_CLAIMS.read_text(encoding="utf-8"))["claims"][:2]


# kinds: "array" (NaN, inf, str), "number" (NaN, inf, str), "int" (NaN, str), "object" and "callable" (str),
# "nan_ok" (str only: NaN marks a missing value by design, see the function's docstring)
A, N, I, O, C, NAN_OK = "array", "number", "int", "object", "callable", "nan_ok"

PUBLIC = {
    # mdln.implicit
    "implicit.hyperbolic_entropy": (dict(theta=np.ones(3), delta=1.0), dict(theta=A, delta=N)),
    "implicit.hyperbolic_entropy_grad": (dict(theta=np.ones(3), delta=1.0), dict(theta=A, delta=N)),
    "implicit.HyperbolicEntropy": (dict(delta=np.ones(3)), dict(delta=A)),
    "implicit.bregman_divergence": (dict(potential=mdln.HyperbolicEntropy(np.ones(3)), theta1=np.ones(3),
                                         theta2=np.zeros(3)), dict(potential=O, theta1=A, theta2=A)),
    "implicit.implicit_solution": (dict(X=X, y=Y, delta=0.1, theta0=np.zeros(D), tol=1e-12, max_iter=500),
                                   dict(X=A, y=A, delta=N, theta0=A, tol=N, max_iter=I)),
    "implicit.min_l1_interpolator": (dict(X=X, y=Y), dict(X=A, y=A)),
    "implicit.min_l2_interpolator": (dict(X=X, y=Y, theta0=np.zeros(D)), dict(X=A, y=A, theta0=A)),
    "implicit.prop3_bound": (dict(X=X, y=Y, delta0=0.01), dict(X=A, y=A, delta0=N)),
    "implicit.corollary2_delta": (dict(trajectory=_TRAJ, lam=0.01), dict(trajectory=O, lam=N)),
    "implicit.small_lambda_delta": (dict(trajectory=_TRAJ, lam=0.01, X=X, y=Y),
                                    dict(trajectory=O, lam=N, X=A, y=A)),
    "implicit.normalised_distance": (dict(theta=np.ones(3), reference=np.full(3, 2.0)),
                                     dict(theta=A, reference=A)),
    "implicit.dropped_term": (dict(theta_tilde0=np.full(3, 1e-4), delta=1e-3), dict(theta_tilde0=A, delta=N)),
    "implicit.prop2_demo": (dict(lam=0.5, seed=0, t_end=1.0, speed_scale=1.0),
                            dict(lam=N, seed=I, t_end=N, speed_scale=N)),
    "implicit.theorem2_predictions": (dict(X=X, y=Y, delta_inf=np.full(D, 1e-3), theta0=np.full(D, 1e-5),
                                           theta_hint=None), dict(X=A, y=A, delta_inf=A, theta0=A)),
    "implicit.linear_shift": (dict(X=X, theta_simplified=mdln.min_l2_interpolator(X, Y),
                                   delta_inf=np.full(D, 1e-2), theta0=np.full(D, 1e-5)),
                              dict(X=A, theta_simplified=A, delta_inf=A, theta0=A)),
    "implicit.kkt_shift": (dict(theta_tilde0=np.full(3, 1e-4), delta=np.full(3, 1e-3)),
                           dict(theta_tilde0=A, delta=A)),
    # θ̃0 of runs: infinite I± (a coordinate whose w± vanished) and NaN (a run without a value) are valid
    "implicit.perturbed_initialisation": (dict(w_plus0=0.1, w_minus0=0.1, i_plus=np.ones(3),
                                               i_minus=np.ones(3)),
                                          dict(w_plus0=N, w_minus0=N, i_plus=NAN_OK, i_minus=NAN_OK)),
    # mdln.data
    "data.sparse_regression": (dict(n=5, d=8, s=2, mu=1.0, sigma=1.0, seed=0),
                               dict(n=I, d=I, s=I, mu=N, sigma=N, seed=I)),
    "data.stacked_regressions": (dict(seeds=(0, 1), n=5, d=8, s=2, mu=1.0, sigma=1.0),
                                 dict(seeds=O, n=I, d=I, s=I, mu=N, sigma=N)),
    "data.figure1_quadratic": (dict(eigenvalues=(1.0, 0.1), angle=0.5), dict(eigenvalues=A, angle=N)),
    # mdln.grid
    "grid.lam_grid": (dict(gammas=[0.1, 0.2], betas=[0.0, 0.5]), dict(gammas=A, betas=A)),
    "grid.linear_beta_axes": (dict(gamma_min=1e-3, gamma_max=0.1, n_gamma=3, beta_max=0.9, n_beta=3),
                              dict(gamma_min=N, gamma_max=N, n_gamma=I, beta_max=N, n_beta=I)),
    "grid.omb_axes": (dict(n_gamma=3, n_beta=3, gamma_min=1e-3, gamma_max=0.1, one_minus_beta_min=0.01),
                      dict(n_gamma=I, n_beta=I, gamma_min=N, gamma_max=N, one_minus_beta_min=N)),
    "grid.lam_levels": (dict(gammas=np.array([1e-3, 1.0]), betas=np.array([0.0, 0.99]), levels=(0.1,)),
                        dict(gammas=A, betas=A, levels=A)),
    # η² and the λ quantification skip non-finite cells (a NaN loss is a diverged run)
    "grid.eta_squared": (dict(x=np.arange(6.0), values=np.arange(6.0) ** 2, n_bins=3),
                         dict(x=NAN_OK, values=NAN_OK, n_bins=I)),
    "grid.lambda_quantification": (dict(log_loss=np.ones((3, 3)), gammas=np.array([1e-3, 1e-2, 1e-1]),
                                        betas=np.array([0.0, 0.5, 0.9]), valid=np.ones((3, 3), bool),
                                        levels=(0.01,), n_bins=3),
                                   dict(log_loss=NAN_OK, gammas=A, betas=A, valid=O, levels=A, n_bins=I)),
    # mdln.nets
    "nets.ReluNet": (dict(X=_TS.student.X, y=_TS.student.y, width=3), dict(X=A, y=A, width=I)),
    "nets.DeepLinearNet": (dict(X=X, y=Y, widths=(D, 3, 1)), dict(X=A, y=A, widths=O)),
    "nets.teacher_student": (dict(n=6, d=2, teacher_width=2, student_width=3, n_test=20, seed=0),
                             dict(n=I, d=I, teacher_width=I, student_width=I, n_test=I, seed=I)),
    "nets.relu_init": (dict(width=3, d=2, rng=np.random.default_rng(0)), dict(width=I, d=I, rng=O)),
    "nets.deep_linear_init": (dict(widths=(D, 3, 1), rng=np.random.default_rng(0), std=0.1),
                              dict(widths=O, rng=O, std=N)),
    "nets.train_grid": (dict(net=_linear_net(), w0=np.full(3 * D + 3, 0.1), gammas=[0.01], betas=[0.5],
                             max_steps=5, tol=None, blowup=1e8, chunk=None),
                        dict(net=O, w0=A, gammas=A, betas=A, max_steps=I, blowup=N)),
    # mdln.dln
    "dln.dln_loss": (dict(X=X, y=Y, u=np.ones(D), v=np.ones(D)), dict(X=A, y=A, u=A, v=A)),
    "dln.dln_grad": (dict(X=X, y=Y, u=np.ones(D), v=np.ones(D)), dict(X=A, y=A, u=A, v=A)),
    "dln.loss_grad": (dict(X=X, y=Y, theta=np.ones(D)), dict(X=A, y=A, theta=A)),
    "dln.balancedness": (dict(u=np.ones(3), v=np.ones(3)), dict(u=A, v=A)),
    "dln.to_w": (dict(u=np.ones(3), v=np.ones(3)), dict(u=A, v=A)),
    "dln.from_w": (dict(w_plus=np.ones(3), w_minus=np.ones(3)), dict(w_plus=A, w_minus=A)),
    "dln.theta_from_w": (dict(w_plus=np.ones(3), w_minus=np.ones(3)), dict(w_plus=A, w_minus=A)),
    "dln.train_mgf": (dict(X=X, y=Y, lam=0.01, alpha=0.01, t_max=1.0, max_steps=100),
                      dict(X=A, y=A, lam=N, alpha=N, t_max=N, max_steps=I)),
    "dln.train_gf": (dict(X=X, y=Y, alpha=0.01, t_max=1.0), dict(X=A, y=A, alpha=N, t_max=N)),
    "dln.mirror_flow_check": (dict(X=X, y=Y, lam=0.01, t_eval=np.array([0.0, 0.5, 1.0]), alpha=0.01),
                              dict(X=A, y=A, lam=N, t_eval=A, alpha=N)),
    "dln.theorem1_integrals": (dict(trajectory=_TRAJ, lam=0.01, X=X, y=Y),
                               dict(trajectory=O, lam=N, X=A, y=A)),
    "dln.theorem1_integrals_no_sign_change": (dict(trajectory=_TRAJ, lam=0.01), dict(trajectory=O, lam=N)),
    "dln.stacked_dln_grad": (dict(X=X, y=Y), dict(X=A, y=A)),
    "dln.stacked_dln_hess": (dict(X=X, y=Y), dict(X=A, y=A)),
    # mdln.momentum
    "momentum.lam": (dict(gamma=0.1, beta=0.5), dict(gamma=N, beta=N)),
    "momentum.step": (dict(gamma=0.1, beta=0.5), dict(gamma=N, beta=N)),
    "momentum.alt_lam": (dict(gamma=0.1, beta=0.5), dict(gamma=N, beta=N)),
    "momentum.accelerate": (dict(gamma=0.1, beta=0.5, rho=2.0), dict(gamma=N, beta=N, rho=N)),
    "momentum.Quadratic": (dict(H=np.eye(2), w_star=np.zeros(2)), dict(H=A, w_star=A)),
    "momentum.mgd": (dict(grad=_Q.grad, w0=np.ones(2), gamma=0.1, beta=0.5, n_steps=5),
                     dict(grad=C, w0=A, gamma=N, beta=N, n_steps=I)),
    "momentum.gd": (dict(grad=_Q.grad, w0=np.ones(2), gamma=0.1, n_steps=5),
                    dict(grad=C, w0=A, gamma=N, n_steps=I)),
    "momentum.mgf": (dict(grad=_Q.grad, w0=np.ones(2), lam=0.1, t=np.array([0.0, 1.0])),
                     dict(grad=C, w0=A, lam=N, t=A)),
    "momentum.gf": (dict(grad=_Q.grad, w0=np.ones(2), t=np.array([0.0, 1.0])), dict(grad=C, w0=A, t=A)),
    "momentum.mgd_init_velocity": (dict(w0=np.ones(2), w1=np.ones(2), gamma=0.1, beta=0.5),
                                   dict(w0=A, w1=A, gamma=N, beta=N)),
    "momentum.discretisation_gap": (dict(grad=_Q.grad, w0=np.ones(2), gamma=0.1, beta=0.5, n_steps=5,
                                         w_star=np.zeros(2)),
                                    dict(grad=C, w0=A, gamma=N, beta=N, n_steps=I, w_star=A)),
    "momentum.mgf_quadratic": (dict(q=_Q, w0=np.ones(2), lam=0.1, t=np.array([0.0, 1.0])),
                               dict(q=O, w0=A, lam=N, t=A)),
    "momentum.mgd_quadratic": (dict(q=_Q, w0=np.ones(2), gamma=0.1, beta=0.5, n_steps=5),
                               dict(q=O, w0=A, gamma=N, beta=N, n_steps=I)),
    "momentum.relative_gap": (dict(W=np.ones((3, 2)), Wc=np.zeros((3, 2)), w0=np.ones(2), w_star=np.zeros(2)),
                              dict(W=A, Wc=A, w0=A, w_star=A)),
    "momentum.gap_vs_step": (dict(grad=_Q.grad, w0=np.ones(2), lam=0.5, eps_values=[0.1], horizon=1.0,
                                  w_star=np.zeros(2)),
                             dict(grad=C, w0=A, lam=N, eps_values=A, horizon=N, w_star=A)),
    "momentum.mgf_lipschitz": (dict(H=np.eye(2), lam=0.5), dict(H=A, lam=N)),
    "momentum.acceleration_gap": (dict(grad=_Q.grad, w0=np.ones(2), gamma=0.01, beta=0.5, rho=2, horizon=1.0),
                                  dict(grad=C, w0=A, gamma=N, beta=N, rho=N, horizon=N)),
    "momentum.central_difference_params": (dict(lam=0.5, eps=0.1), dict(lam=N, eps=N)),
    "momentum.central_difference_iterates": (dict(grad=_Q.grad, w0=np.ones(2), lam=0.5, eps=0.1, n_steps=5),
                                             dict(grad=C, w0=A, lam=N, eps=N, n_steps=I)),
    # mdln.smgd
    "smgd.train_mgd": (dict(X=X, y=Y, gamma=0.05, beta=0.5, alpha=0.01, seed=0, max_steps=10, tol=1e-8,
                            engine="numpy"),
                       dict(X=A, y=A, gamma=N, beta=N, alpha=N, seed=I, max_steps=I, tol=N)),
    "smgd.mgd_sweep": (dict(X=X[None], y=Y[None], gammas=[0.05], betas=[0.5], alpha=0.01, max_steps=10,
                            tol=1e-8, engine="numpy", cache=False),
                       dict(X=A, y=A, gammas=A, betas=A, alpha=N, max_steps=I, tol=N)),
    "smgd.lemma2_r": (dict(z=np.array([0.5, 2.0])), dict(z=A)),
    # NaN entries of Δ∞ and θ̃0 are diverged runs, which count as false (see its docstring)
    "smgd.corollary3_holds": (dict(delta_inf=np.full(3, 1e-5), theta_tilde0=np.full(3, 1e-6), alpha=0.01),
                              dict(delta_inf=NAN_OK, theta_tilde0=NAN_OK, alpha=N)),
    # mdln.figures.sec4 (re-exported by mdln): a Figure 4 result object is expected
    "figures.sec4.lambda_collapse": (None, dict(res=O)),
    # mdln.lemmas: Lemma 1 on a short trajectory, Lemma 2 on three iterates, a 3-step SMGD loop
    "lemmas.lemma1_integrals": (dict(trajectory=_TRAJ, lam=0.1, X=X, y=Y, mpv=True, with_lambda=True),
                                dict(trajectory=O, lam=N, X=A, y=A, mpv=O, with_lambda=O)),
    "lemmas.endpoint_integrals": (dict(trajectory=_TRAJ, lam=0.1, X=X, y=Y),
                                  dict(trajectory=O, lam=N, X=A, y=A)),
    "lemmas.lemma2_sums": (dict(w_plus=np.full((3, 2), 0.1), w_minus=np.full((3, 2), 0.2), beta=0.5),
                           dict(w_plus=A, w_minus=A, beta=N)),
    "lemmas.lemma2_sums_telescoped": (dict(w_plus=np.full((3, 2), 0.1), w_minus=np.full((3, 2), 0.2),
                                           beta=0.5), dict(w_plus=A, w_minus=A, beta=N)),
    "lemmas.momentum_gd_iterates": (dict(X=X, y=Y, gamma=0.05, beta=0.5, steps=3, alpha=0.01,
                                         batches=lambda k: [k % 5]),
                                    dict(X=A, y=A, gamma=N, beta=N, steps=I, alpha=N, batches=C)),
    # experiment configs validate their fields; the runs reject a bad argument before computing (no valid
    # call here: even the 'test' preset trains for seconds to minutes)
    "experiments.lemma_forms.LemmaFormsConfig": (
        dict(lams=(0.02,), mgd=((0.05, 0.5, 0),), mgd_steps=10, rtol=1e-9),
        dict(lams=A, mgd=O, mgd_steps=I, rtol=N, data=O)),
    "experiments.lemma_forms.run_lemma_forms": (None, dict(config=O)),
    "experiments.holdout.HoldoutConfig": (
        dict(level=0.01, max_rate=0.05, alpha=0.01, train_n=10, train_d=15, train_s=3, train_mu=1.0,
             train_seeds=(0,), mgf_lams=(0.01, 0.3), mgd_train_seeds=(1,), gammas=(0.1,), betas=(0.0, 0.5),
             mgd_lam_range=(1e-3, 1.0), batch_size=5, batch_seed=0, max_steps=10, tol=1e-8, n_heldout=1,
             heldout_seed=0, heldout_seed_base=1000),
        dict(level=N, max_rate=N, alpha=N, train_n=I, train_d=I, train_s=I, train_mu=N, train_seeds=O,
             mgf_lams=A, mgd_train_seeds=O, gammas=A, betas=A, mgd_lam_range=A, batch_size=I, batch_seed=I,
             max_steps=I, tol=N, n_heldout=I, heldout_seed=I, heldout_seed_base=I)),
    "experiments.holdout.run_holdout": (None, dict(config=O, progress=O, problems=O)),
    # mdln.claims: a claim definition; evaluating no claim is the one instant valid call
    "claims.Claim": (dict(name="c", paper_ref="Eq. (1)", kind=mdln.claims.Kind.THEOREM, statement="s",
                          measure=lambda fidelity: None, threshold=0.1, direction="below", reason="r",
                          detects="d", judge="worst"),
                     dict(kind=O, measure=C, threshold=N, direction=O, judge=O)),
    "claims.evaluate_claims": (dict(fidelity="test", names=[]), dict(fidelity=O, names=O)),
    # mdln.figures.claims: the committed paper-fidelity claims (dicts) as results
    "figures.claims.claims_table": (dict(results=_PAPER_CLAIMS, paper=_PAPER_CLAIMS),
                                    dict(results=O, paper=O)),
    "figures.claims.glue_verdicts": (dict(results=_PAPER_CLAIMS, prefix="verdict_"), dict(results=O)),
    # mdln.widgets: a 1 × 2 grid of tiny frames
    "widgets.scrubber2d": (dict(draw_frame=_tiny_frame, gammas=[0.1], betas=[0.0, 0.5], dpi=50, max_mb=1.0),
                           dict(draw_frame=C, gammas=A, betas=A, dpi=N, max_mb=N)),
}

# Public callables that take no array or number, or are records the library builds itself.
NOT_SWEPT = {
    "have_numba": "takes no argument",
    "one_blas_thread": "a context manager; takes no argument",
    "Lemma1Integrals": "a frozen result record that lemma1_integrals fills in; not built from user data",
    "CellStatus": "a mixin of per-cell masks for grid results; takes no argument",
    "scrubber": "a widget: takes a drawing callback (tests/test_widgets.py)",
    "slider": "a widget: takes a drawing callback (tests/test_widgets.py)",
}
_CONFIG_FIGURES = re.compile(r"^(fig\w+|d2_table|stochastic_batches|Fig\w+Config|D2Config|StochasticConfig)$")



def _resolve(qualname):
    mod, _, name = qualname.rpartition(".")
    return getattr(importlib.import_module(f"mdln.{mod}"), name)


def _bad_values(kind, valid):
    if kind == A:
        base = np.array(valid, dtype=float)
        nan, inf = base.copy(), base.copy()
        nan.flat[0], inf.flat[-1] = np.nan, -np.inf
        return [("nan", nan), ("inf", inf), ("str", "abc")]
    if kind == N:
        return [("nan", float("nan")), ("inf", float("inf")), ("str", "abc")]
    if kind == I:
        return [("nan", float("nan")), ("str", "abc")]
    return [("str", "abc")]


def _cases():
    out = []
    for qualname, (valid, kinds) in PUBLIC.items():
        for param, kind in kinds.items():
            for label, bad in _bad_values(kind, None if valid is None else valid.get(param)):
                cid = f"{qualname}:{param}={label}"
                out.append(pytest.param(qualname, param, label, bad, id=cid))
    return out


@pytest.mark.parametrize("qualname,param,label,bad", _cases())
def test_bad_input_names_the_parameter(qualname, param, label, bad):
    """NaN/inf give a ValueError, wrong types a ValueError or TypeError; the message names ``param``."""
    fn = _resolve(qualname)
    valid, _ = PUBLIC[qualname]
    kwargs = dict(valid or {})
    kwargs[param] = bad
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError if label in ("nan", "inf") else (ValueError, TypeError)) as info:
            fn(**kwargs)
    # a config names its field as 'HoldoutConfig.level'
    assert re.search(rf"(?<![\w.])(?:[A-Z]\w*Config\.)?{re.escape(param)}\b", str(info.value)), \
        f"{type(info.value).__name__}: {info.value}"


@pytest.mark.parametrize("qualname", [q for q, (v, _) in PUBLIC.items() if v is not None])
def test_the_valid_call_of_the_sweep_succeeds(qualname):
    """The sweep's reference calls are valid, so each failure above is caused by the one bad argument."""
    valid, _ = PUBLIC[qualname]
    with np.errstate(all="ignore"):
        _resolve(qualname)(**valid)


def test_every_public_callable_is_swept():
    swept = {q.rpartition(".")[2] for q in PUBLIC}
    names = {n for n in dir(mdln) if not n.startswith("_") and callable(getattr(mdln, n))}
    for modname in MODULES:
        names |= set(importlib.import_module(modname).__all__)
    missing = []
    for name in sorted(names):
        obj = getattr(mdln, name, None)
        if obj is None:
            obj = next(getattr(importlib.import_module(m), name) for m in MODULES
                       if hasattr(importlib.import_module(m), name))
        if not callable(obj) or name in swept or name in NOT_SWEPT or _CONFIG_FIGURES.match(name):
            continue
        if inspect.isclass(obj) and (issubclass(obj, BaseException) or _is_record(obj)):
            continue
        missing.append(name)
    assert not missing, f"public callables missing from the sweep: {missing}"


def _is_record(cls):
    """A result record (a frozen dataclass the library fills in), or an enum: not built by users from data."""
    import enum
    if issubclass(cls, enum.Enum):
        return True
    params = getattr(cls, "__dataclass_params__", None)
    return params is not None and params.frozen and cls.__name__.endswith(
        ("Result", "Trajectory", "Run", "Check", "Demo", "Regression", "Student"))
