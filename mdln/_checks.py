"""Argument validation shared by every public function of mdln.

Each check raises ``ValueError`` naming the argument and its allowed range, at the public
function, before any numerical work starts (never a deep numpy traceback or a silent NaN).
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_beta", "check_gamma", "check_lam", "check_positive", "check_nonneg",
    "check_finite_array", "check_vector", "check_data", "check_int", "FIDELITIES", "check_fidelity", "fidelity_preset",
    "check_real", "check_model_args", "check_pair", "check_real_array", "check_config",
    "check_finite_scalar", "check_instance", "check_callable", "check_choice", "check_fields",
]


def _as_float(value, name):
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    if not isinstance(value, (numbers.Real, np.floating, np.integer)):
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a real number, got {value!r}") from None
        if arr.ndim != 0:
            raise ValueError(f"{name} must be a scalar, got an array of shape {arr.shape}")
        value = arr.item()
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_real(value, name):
    """A finite real scalar (any sign)."""
    return _as_float(value, name)


def check_finite_scalar(value, name):
    """A finite real scalar (any sign) as a float; NaN, ±inf, bools, strings and arrays are refused."""
    return _as_float(value, name)


def check_instance(value, cls, name):
    """``value`` if it is an instance of ``cls`` (a class or a tuple of classes), else a TypeError."""
    if not isinstance(value, cls):
        names = " or ".join(c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,)))
        raise TypeError(f"{name} must be of type {names}, got {type(value).__name__}")
    return value


def check_callable(value, name):
    """``value`` if it is callable (a function such as a gradient), else a TypeError naming it."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def check_choice(value, name, choices):
    """``value`` if it is one of ``choices`` (compared with ==), else a ValueError listing them."""
    if isinstance(value, np.ndarray) or not any(value == c for c in choices):
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
    return value


def check_fields(value, name, fields, example=""):
    """``value`` if it has every attribute in ``fields`` (a result object), else a TypeError naming it."""
    missing = [f for f in fields if not hasattr(value, f)]
    if missing:
        hint = f" (e.g. {example})" if example else ""
        raise TypeError(f"{name} must be an object with fields {', '.join(fields)}{hint}; "
                        f"got {type(value).__name__} without {', '.join(missing)}")
    return value


def check_beta(beta, name="beta"):
    """Momentum parameter: β ∈ [0, 1) (Section 2)."""
    beta = _as_float(beta, name)
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {beta!r}")
    return beta


def check_gamma(gamma, name="gamma"):
    """Step size: γ > 0 (Section 2)."""
    return check_positive(gamma, name)


def check_lam(lam, name="lam"):
    """MGF parameter: λ ≥ 0 (Eq. MGF(λ))."""
    return check_nonneg(lam, name)


def check_positive(value, name):
    """A finite scalar > 0."""
    value = _as_float(value, name)
    if not value > 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def check_nonneg(value, name):
    """A finite scalar ≥ 0."""
    value = _as_float(value, name)
    if not value >= 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def check_int(value, name, minimum=0):
    """An integer ≥ ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_finite_array(a, name, ndim=None):
    """A finite float64 array, optionally of a given number of dimensions."""
    try:
        arr = np.array(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real array, got {type(a).__name__}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def check_vector(a, name, dim=None):
    """A finite 1-D float64 vector, optionally of length ``dim``."""
    arr = check_finite_array(a, name, ndim=1)
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"{name} must have shape ({dim},), got {arr.shape}")
    return arr


def check_data(X, y):
    """A design matrix X (n, d) and targets y (n,), finite and of matching shapes."""
    X = check_finite_array(X, "X", ndim=2)
    y = check_finite_array(y, "y", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X of shape {X.shape}, got {y.shape}")
    return X, y


def check_real_array(a, name):
    """A float64 array of any shape (values not scanned): a clean ValueError for non-numeric input."""
    if isinstance(a, np.ndarray) and a.dtype == np.float64:
        return a
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number or array, got {type(a).__name__}") from None


def check_pair(u, v, names=("u", "v")):
    """Two finite arrays of one shape (e.g. the weights u, v of a diagonal network)."""
    u = check_finite_array(u, names[0])
    v = check_finite_array(v, names[1])
    if u.shape != v.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {u.shape} and {v.shape}")
    return u, v


def check_model_args(X, y, **vectors):
    """X (n, d), y (n,) and vectors of shape (d,) for the losses and gradients of Section 3.

    Cheap enough for inner loops: arrays already of the right type are checked for shape only (their
    values are not scanned); anything else goes through ``check_data`` / ``check_vector``.
    """
    if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype == np.float64 and X.size
            and isinstance(y, np.ndarray) and y.dtype == np.float64 and y.shape == (X.shape[0],)):
        X, y = check_data(X, y)
    d = X.shape[1]
    out = [X, y]
    for name, v in vectors.items():
        if not (isinstance(v, np.ndarray) and v.shape == (d,)):
            v = check_vector(v, name, dim=d)
        out.append(v)
    return out


def _seq(value, label, allow_empty):
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{label} must be a tuple of values, got {value!r}")
    items = list(value)
    if not items and not allow_empty:
        raise ValueError(f"{label} must not be empty")
    return items


def _rule(value, rule, label):
    """Check one config field against ``rule`` (see ``check_config``)."""
    if rule == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{label} must be True or False, got {value!r}")
    elif rule == "real":
        check_real(value, label)
    elif rule == "pos":
        check_positive(value, label)
    elif rule == "nonneg":
        check_nonneg(value, label)
    elif rule == "beta":
        check_beta(value, label)
    elif rule == "omb":
        if not 0.0 < check_real(value, label) < 1.0:
            raise ValueError(f"{label} must lie in (0, 1), got {value!r}")
    elif rule == "unit":
        if not 0.0 < check_real(value, label) <= 1.0:
            raise ValueError(f"{label} must lie in (0, 1], got {value!r}")
    elif rule.startswith("int") and not rule.endswith("+"):
        check_int(value, label, minimum=int(rule[3:]))
    elif rule in ("pos2", "real2"):
        items = _seq(value, label, allow_empty=False)
        if len(items) != 2:
            raise ValueError(f"{label} must hold exactly 2 values, got {value!r}")
        for v in items:
            _rule(v, rule[:-1], f"{label} entries")
    elif rule in ("pos+", "pos*", "real+", "int1+", "seeds", "lams0"):
        items = _seq(value, label, allow_empty=rule == "pos*")
        each = {"pos+": "pos", "pos*": "pos", "real+": "real", "int1+": "int1", "seeds": "int0",
                "lams0": "nonneg"}[rule]
        for v in items:
            _rule(v, each, f"{label} entries")
        if rule == "seeds" and len(set(int(v) for v in items)) != len(items):
            raise ValueError(f"{label} must not repeat a seed, got {value!r}")
        if rule == "lams0":
            if float(items[0]) != 0.0:
                raise ValueError(f"{label} must start with 0 (λ = 0 is the gradient-flow baseline the "
                                 f"summaries compare against), got {tuple(value)!r}")
            if np.any(np.diff(np.asarray(items, dtype=float)) <= 0):
                raise ValueError(f"{label} must be strictly increasing, got {tuple(value)!r}")
    else:   # pragma: no cover - a typo in a rule table
        raise AssertionError(f"unknown rule {rule!r}")


def check_config(cfg, rules: dict, ordered=(), within=None):
    """Validate the fields of a figure config at construction (``__post_init__``).

    ``rules`` maps field names to: 'real', 'pos' (> 0), 'nonneg' (≥ 0), 'beta' ([0, 1)), 'omb' ((0, 1)),
    'unit' ((0, 1]), 'bool', 'intK' (integer ≥ K), 'pos+' / 'pos*' (non-empty / possibly empty tuple of
    positives), 'pos2' / 'real2' (exactly two), 'real+', 'int1+', 'seeds' (non-empty, distinct integers ≥ 0), 'lams0' (λ values from 0,
    strictly increasing). ``ordered`` lists pairs (a, b) that must satisfy a ≤ b; ``within`` maps a
    field to its maximum (a number or another field's name).
    """
    cls = type(cfg).__name__
    for name, rule in rules.items():
        _rule(getattr(cfg, name), rule, f"{cls}.{name}")
    for a, b in ordered:
        if not float(getattr(cfg, a)) <= float(getattr(cfg, b)):
            raise ValueError(f"{cls}.{a} must be <= {cls}.{b}, got {getattr(cfg, a)!r} > {getattr(cfg, b)!r}")
    for name, top in (within or {}).items():
        limit = getattr(cfg, top) if isinstance(top, str) else top
        values = getattr(cfg, name)
        for v in (values if hasattr(values, "__iter__") else [values]):
            if v > limit:
                what = f"{cls}.{top} = {limit}" if isinstance(top, str) else str(limit)
                raise ValueError(f"{cls}.{name} must not exceed {what}, got {values!r}")


FIDELITIES = ("test", "book", "paper")


def check_fidelity(fidelity):
    """``fidelity`` if it is one of 'test', 'book', 'paper'; the one place fidelity is validated."""
    if not isinstance(fidelity, str):
        raise ValueError(f"fidelity must be one of 'test', 'book', 'paper', got {fidelity!r}")
    return check_choice(fidelity, "fidelity", FIDELITIES)


def fidelity_preset(cls, fidelity, test: dict, paper: dict):
    """Config ``cls`` at ``fidelity``: 'test' and 'paper' override the defaults, which are 'book'."""
    check_fidelity(fidelity)
    return cls(**{"test": test, "book": {}, "paper": paper}[fidelity])
