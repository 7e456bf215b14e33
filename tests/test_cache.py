"""The on-disk cache: keys derive from every parameter; a hit returns the stored arrays."""
import numpy as np
import pytest

from mdln import cache


def test_key_depends_on_every_parameter():
    base = {"a": 1, "b": 0.5, "X": np.arange(6.0).reshape(2, 3), "name": "x"}
    k0 = cache.cache_key("ns", base)
    assert k0 == cache.cache_key("ns", dict(base))
    assert k0 != cache.cache_key("other", base)
    for change in ({"a": 2}, {"b": 0.5000001}, {"X": np.arange(6.0).reshape(3, 2)}, {"name": "y"}):
        assert cache.cache_key("ns", {**base, **change}) != k0
    X2 = base["X"].copy()
    X2[0, 0] += 1e-12
    assert cache.cache_key("ns", {**base, "X": X2}) != k0


def test_cached_arrays_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.linspace(0, 1, 5), "n": np.array(3)}

    a = cache.cached_arrays("t", {"p": 1}, compute)
    b = cache.cached_arrays("t", {"p": 1}, compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(a["x"], b["x"])
    cache.cached_arrays("t", {"p": 2}, compute)
    assert len(calls) == 2
    monkeypatch.setenv("MDLN_NO_CACHE", "1")
    cache.cached_arrays("t", {"p": 1}, compute)
    assert len(calls) == 3


def test_unhashable_parameter_is_rejected():
    with pytest.raises(TypeError, match="cannot hash"):
        cache.cache_key("ns", {"f": object()})
