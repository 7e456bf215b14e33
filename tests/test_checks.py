"""Tests of mdln._checks: each helper accepts its allowed range, and refuses values outside it, NaN/inf,
bools posing as numbers and wrong types with the parameter's name in the message; numpy scalars are numbers."""
from dataclasses import dataclass

import numpy as np
import pytest

from mdln import _checks as C

NON_NUMBERS = [None, "1.0", b"1", True, np.bool_(False), [1.0, 2.0], {"a": 1}]
NON_FINITE = [float("nan"), float("inf"), -np.inf, np.float64("nan")]


def _refuses(fn, value, name, exc=ValueError):
    with pytest.raises(exc, match=name):
        fn(value, name)


# scalar checks: (helper, accepted values, refused in-type values)
SCALARS = {
    "check_real": (C.check_real, [-3.5, 0, 2, np.float32(0.25), np.int64(-4), np.array(1.5)], []),
    "check_finite_scalar": (C.check_finite_scalar, [-1e300, 0.0, np.float16(1)], []),
    "check_beta": (C.check_beta, [0, 0.0, 0.5, np.float64(0.999), 1 - 1e-16], [1.0, -1e-12, 2]),
    "check_gamma": (C.check_gamma, [1e-300, 0.1, np.int32(3)], [0.0, -0.1]),
    "check_lam": (C.check_lam, [0.0, 1e-9, 12], [-1e-300]),
    "check_positive": (C.check_positive, [5e-324, 1.0], [0, -0.0, -1]),
    "check_nonneg": (C.check_nonneg, [0, -0.0, 3.0], [-1e-300]),
}


@pytest.mark.parametrize("helper", list(SCALARS))
def test_scalar_checks_accept_their_range_as_floats(helper):
    fn, good, _ = SCALARS[helper]
    for v in good:
        out = fn(v, "p")
        assert type(out) is float and out == float(v)


@pytest.mark.parametrize("helper", list(SCALARS))
def test_scalar_checks_refuse_values_outside_the_range_naming_the_parameter(helper):
    fn, _, bad = SCALARS[helper]
    for v in bad:
        _refuses(fn, v, "my_param")


@pytest.mark.parametrize("helper", list(SCALARS))
@pytest.mark.parametrize("value", NON_FINITE + NON_NUMBERS, ids=repr)
def test_scalar_checks_refuse_nan_inf_bools_and_non_numbers(helper, value):
    _refuses(SCALARS[helper][0], value, "my_param")


def test_range_messages_state_the_range():
    with pytest.raises(ValueError, match=r"beta must lie in \[0, 1\), got 1.0"):
        C.check_beta(1.0)
    with pytest.raises(ValueError, match="gamma must be > 0"):
        C.check_gamma(0.0)
    with pytest.raises(ValueError, match="lam must be >= 0"):
        C.check_lam(-1.0)
    with pytest.raises(ValueError, match="x must be finite"):
        C.check_real(float("nan"), "x")


def test_check_int():
    assert C.check_int(3, "n") == 3 and C.check_int(np.int64(7), "n") == 7 and C.check_int(0, "n") == 0
    assert type(C.check_int(np.int8(2), "n")) is int
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 0"):
        C.check_int(0, "n", minimum=1)
    for bad in [2.0, np.float64(2), True, np.bool_(True), "2", None, float("nan")]:
        _refuses(lambda v, name: C.check_int(v, name), bad, "n_steps")


def test_check_finite_array_and_vector():
    out = C.check_finite_array([[1, 2], [3, 4]], "A", ndim=2)
    assert out.dtype == np.float64 and out.shape == (2, 2)
    src = np.ones(3)
    assert C.check_finite_array(src, "a") is not src          # a copy: callers may not alias the input
    for bad, match in [([1.0, np.nan], "a must contain only finite"),
                       ([np.inf], "a must contain only finite"),
                       ([], "a must not be empty"), ("abc", "a must be a real array"),
                       ([[1.0], [2.0, 3.0]], "a must be a real array")]:
        with pytest.raises(ValueError, match=match):
            C.check_finite_array(bad, "a")
    with pytest.raises(ValueError, match=r"A must be 2-dimensional, got shape \(3,\)"):
        C.check_finite_array(np.ones(3), "A", ndim=2)
    assert C.check_vector([1, 2, 3], "v", dim=3).shape == (3,)
    with pytest.raises(ValueError, match=r"v must have shape \(4,\), got \(3,\)"):
        C.check_vector([1, 2, 3], "v", dim=4)
    with pytest.raises(ValueError, match="v must be 1-dimensional"):
        C.check_vector(np.ones((2, 2)), "v")


def test_check_data():
    X, y = C.check_data(np.ones((3, 2)), [1, 2, 3])
    assert X.shape == (3, 2) and y.dtype == np.float64
    with pytest.raises(ValueError, match=r"y must have shape \(3,\) to match X"):
        C.check_data(np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match="X must contain only finite"):
        C.check_data(np.full((3, 2), np.nan), np.ones(3))
    with pytest.raises(ValueError, match="y must be a real array"):
        C.check_data(np.ones((3, 2)), "abc")


def test_check_real_array_keeps_nan_but_refuses_non_numbers():
    a = np.array([1.0, np.nan])
    assert C.check_real_array(a, "z") is a                  # float64 arrays pass untouched, NaN allowed
    assert C.check_real_array(3, "z").dtype == np.float64
    with pytest.raises(ValueError, match="z must be a real number or array"):
        C.check_real_array("abc", "z")


def test_check_pair_and_model_args():
    u, v = C.check_pair([1, 2], [3, 4], ("u", "v"))
    assert u.shape == v.shape == (2,)
    with pytest.raises(ValueError, match="u and v must have the same shape"):
        C.check_pair([1, 2], [3], ("u", "v"))
    with pytest.raises(ValueError, match="v must contain only finite"):
        C.check_pair([1, 2], [3, np.inf], ("u", "v"))
    X, y, th = C.check_model_args([[1.0, 2.0]], [1.0], theta=[0.0, 1.0])
    assert X.shape == (1, 2) and th.shape == (2,)
    with pytest.raises(ValueError, match=r"theta must have shape \(2,\)"):
        C.check_model_args(np.ones((1, 2)), np.ones(1), theta=np.ones(3))


def test_check_instance_callable_choice_fields():
    assert C.check_instance(3, int, "k") == 3
    with pytest.raises(TypeError, match="res must be of type int or float, got str"):
        C.check_instance("x", (int, float), "res")
    assert C.check_callable(len, "grad") is len
    with pytest.raises(TypeError, match="grad must be callable, got str"):
        C.check_callable("abc", "grad")
    assert C.check_choice("numpy", "engine", ("auto", "numpy")) == "numpy"
    with pytest.raises(ValueError, match="engine must be one of 'auto', 'numpy', got 'gpu'"):
        C.check_choice("gpu", "engine", ("auto", "numpy"))
    with pytest.raises(ValueError, match="engine must be one of"):
        C.check_choice(np.array(["auto"]), "engine", ("auto",))

    @dataclass
    class Res:
        status: int = 0
    assert isinstance(C.check_fields(Res(), "res", ("status",)), Res)
    with pytest.raises(TypeError, match=r"res must be an object with fields status, cell_converged \(e.g."):
        C.check_fields("res", "res", ("status", "cell_converged"), "fig4(...)")


def test_check_fidelity_and_presets():
    assert [C.check_fidelity(f) for f in C.FIDELITIES] == ["test", "book", "paper"]
    for bad in ["fast", "", None, 1, ["test"]]:
        with pytest.raises(ValueError, match="fidelity must be one of 'test', 'book', 'paper'"):
            C.check_fidelity(bad)

    @dataclass(frozen=True)
    class Cfg:
        n: int = 10
    assert C.fidelity_preset(Cfg, "test", dict(n=2), dict(n=99)).n == 2
    assert C.fidelity_preset(Cfg, "book", dict(n=2), dict(n=99)).n == 10
    assert C.fidelity_preset(Cfg, "paper", dict(n=2), dict(n=99)).n == 99


def test_check_config_rules():
    @dataclass(frozen=True)
    class Cfg:
        lams: tuple = (0.0, 0.1)
        seeds: tuple = (0, 1)
        beta: float = 0.5
        lo: float = 1.0
        hi: float = 2.0
        flag: bool = True

    rules = dict(lams="lams0", seeds="seeds", beta="beta", lo="pos", hi="pos", flag="bool")
    C.check_config(Cfg(), rules, ordered=[("lo", "hi")], within={"lo": "hi"})
    for kwargs, match in [(dict(lams=(0.1,)), "Cfg.lams must start with 0"),
                          (dict(lams=(0.0, 0.2, 0.1)), "strictly increasing"),
                          (dict(seeds=(1, 1)), "Cfg.seeds must not repeat"),
                          (dict(seeds=(True,)), "Cfg.seeds entries must be an integer"),
                          (dict(beta=1.0), r"Cfg.beta must lie in \[0, 1\)"),
                          (dict(lo=float("nan")), "Cfg.lo must be finite"),
                          (dict(lo=3.0), "Cfg.lo must be <= Cfg.hi"),
                          (dict(flag=1), "Cfg.flag must be True or False")]:
        with pytest.raises(ValueError, match=match):
            C.check_config(Cfg(**kwargs), rules, ordered=[("lo", "hi")])
