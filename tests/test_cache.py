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


# ----------------------------------------------------------------------------- the code key
def _fake_package(root):
    """A throw-away package 'mdln' with a → b (relative and lazy imports), c imported by nobody."""
    pkg = root / "mdln"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""root."""\nfrom .a import f\n')
    (pkg / "a.py").write_text('"""A."""\nfrom .sub.b import g\n\n\ndef f(x):\n    """Doc."""\n'
                              '    from . import c as _unused_here\n    return g(x) + 1\n')
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text('"""B."""\n\n\ndef g(x):\n    return 2 * x\n')
    (pkg / "c.py").write_text("K = 1\n")
    (pkg / "d.py").write_text("K = 2\n")
    return pkg


@pytest.fixture
def fake_pkg(tmp_path, monkeypatch):
    pkg = _fake_package(tmp_path)
    monkeypatch.setattr(cache, "_PACKAGE_DIR", pkg)
    monkeypatch.setattr(cache, "_CODE_KEYS", {})
    return pkg


def _key(module="mdln.a"):
    cache.clear_code_keys()
    return cache.code_key(module)


def test_code_dependencies_follow_relative_and_lazy_imports(fake_pkg):
    assert cache.code_dependencies("mdln.a") == ["mdln.a", "mdln.c", "mdln.sub.b"]
    assert cache.code_dependencies("mdln.sub.b") == ["mdln.sub.b"]


def test_code_key_ignores_docstrings_comments_and_unrelated_modules(fake_pkg):
    k0 = _key()
    b = fake_pkg / "sub" / "b.py"
    b.write_text('"""B, reworded."""\n\n\ndef g(x):\n    """New doc."""\n    return 2 * x   # a comment\n')
    (fake_pkg / "d.py").write_text("K = 3\n")            # nobody imports d
    (fake_pkg / "__init__.py").write_text("from .a import f\nfrom .d import K\n")
    assert _key() == k0


@pytest.mark.parametrize("edit", ["dependency", "lazy_dependency", "module_itself"])
def test_code_key_changes_with_the_code_it_depends_on(fake_pkg, edit):
    k0 = _key()
    if edit == "dependency":
        (fake_pkg / "sub" / "b.py").write_text("def g(x):\n    return 3 * x\n")
    elif edit == "lazy_dependency":
        (fake_pkg / "c.py").write_text("K = 2\n")
    else:
        (fake_pkg / "a.py").write_text("from .sub.b import g\n\n\ndef f(x):\n    return g(x) + 2\n")
    assert _key() != k0


def test_outside_modules_have_an_empty_code_key():
    assert cache.code_key(None) == "" and cache.code_key("tests.test_cache") == ""
    assert cache.cache_key("ns", {"p": 1}) == cache.cache_key("ns", {"p": 1}, module="numpy")


def test_the_sweep_cache_does_not_depend_on_widgets_or_figures():
    """Editing a plot or a widget must not throw away the Figure 4 sweep."""
    import mdln
    deps = cache.code_dependencies(mdln.mgd_sweep.__module__)
    assert not [m for m in deps if m.startswith(("mdln.figures", "mdln.widgets", "mdln.scrubber"))], deps
    assert "mdln.smgd" in deps and "mdln.cache" in deps and "mdln.dln" not in deps


def test_cached_arrays_keys_on_the_module_of_compute(tmp_path, monkeypatch):
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("MDLN_NO_CACHE", raising=False)

    def compute():
        return {"x": np.ones(2)}

    cache.cached_arrays("t", {"p": 1}, compute)
    compute.__module__ = "mdln.grid"       # the same function, now said to live in mdln.grid
    cache.cached_arrays("t", {"p": 1}, compute)
    names = sorted(p.name for p in tmp_path.glob("t-*.npz"))
    assert names == sorted([f"t-{cache.cache_key('t', {'p': 1})}.npz",
                            f"t-{cache.cache_key('t', {'p': 1}, 'mdln.grid')}.npz"])


# ----------------------------------------------------------------------------- content hashes
def test_content_hash_sees_dtype_shape_and_every_byte():
    x = np.arange(6.0)
    h = cache.content_hash(x)
    assert h == cache.content_hash(x.copy()) == cache.content_hash(x[::-1][::-1])
    y = x.copy()
    y[3] = np.nextafter(y[3], np.inf)
    others = [y, x.reshape(2, 3), x.astype(np.float32), x.view(np.int64)]
    assert len({h, *map(cache.content_hash, others)}) == 5


def _warnings_of_cache(caught):
    return [str(w.message) for w in caught if "mdln cache" in str(w.message)]


@pytest.mark.parametrize("swap", ["other_numbers", "permuted"])
def test_an_entry_with_swapped_numbers_is_recomputed_with_one_warning(tmp_path, monkeypatch, swap):
    """Same key, same manifest, same names, dtypes and shapes, other numbers: a miss, not a hit."""
    import warnings
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("MDLN_NO_CACHE", raising=False)
    monkeypatch.setattr(cache, "_WARNED", set())
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.linspace(0, 1, 5), "n": np.array(3)}

    cache.cached_arrays("t", {"p": 1}, compute)
    (path,) = tmp_path.glob("t-*.npz")
    with np.load(path) as z:
        stored = {k: z[k] for k in z.files}
    stored["x"] = stored["x"][::-1].copy() if swap == "permuted" else stored["x"] + 1.0
    np.savez(path, **stored)        # every key (the entry key and the manifest included) as written
    with np.load(path) as z:
        assert sorted(z.files) == sorted(stored)
        assert str(z["__mdln_manifest__"]) == str(stored["__mdln_manifest__"])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = cache.cached_arrays("t", {"p": 1}, compute)
        second = cache.cached_arrays("t", {"p": 1}, compute)
    assert len(calls) == 2              # recomputed once, then the rewritten entry is a hit
    for r in (first, second):
        np.testing.assert_array_equal(r["x"], np.linspace(0, 1, 5))
        assert int(r["n"]) == 3
    msgs = _warnings_of_cache(caught)
    assert len(msgs) == 1 and path.name in msgs[0] and "x" in msgs[0], msgs


def test_an_entry_without_content_hashes_is_a_silent_miss(tmp_path, monkeypatch):
    """A manifest of the layout only (no hashes) is not trusted: recomputed, no warning."""
    import json
    import warnings
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("MDLN_NO_CACHE", raising=False)
    key = cache.cache_key("t", {"p": 1})
    x = np.full(5, 7.0)
    np.savez(tmp_path / f"t-{key}.npz", x=x, __mdln_key__=np.array(key),
             __mdln_manifest__=np.array(json.dumps({"x": [str(x.dtype), [5]]})))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = cache.cached_arrays("t", {"p": 1}, lambda: {"x": np.zeros(5)})
    np.testing.assert_array_equal(r["x"], np.zeros(5))
    assert _warnings_of_cache(caught) == []


# ----------------------------------------------------------------------------- library versions
def test_library_versions_are_the_installed_ones():
    import importlib.util
    import scipy
    v = cache.library_versions()
    assert set(v) == {"numpy", "scipy", "numba"}
    assert v["numpy"] == np.__version__ and v["scipy"] == scipy.__version__
    if importlib.util.find_spec("numba") is None:
        assert v["numba"] == "none"
    else:
        import numba
        assert v["numba"] == numba.__version__


@pytest.mark.parametrize("library", ["numpy", "scipy", "numba"])
def test_key_changes_with_each_library_version(monkeypatch, library):
    k0 = cache.cache_key("ns", {"p": 1}, "mdln.grid")
    real = cache.importlib.metadata.version

    def fake(name):
        return "999.0" if name == library else real(name)

    monkeypatch.setattr(cache.importlib.metadata, "version", fake)
    cache.clear_code_keys()
    try:
        assert cache.library_versions()[library] == "999.0"
        assert cache.cache_key("ns", {"p": 1}, "mdln.grid") != k0
    finally:
        monkeypatch.undo()
        cache.clear_code_keys()
    assert cache.cache_key("ns", {"p": 1}, "mdln.grid") == k0


def test_an_absent_numba_is_keyed_as_none(monkeypatch):
    real = cache.importlib.metadata.version
    k0 = cache.cache_key("ns", {"p": 1})

    def fake(name):
        if name == "numba":
            raise cache.importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(cache.importlib.metadata, "version", fake)
    cache.clear_code_keys()
    try:
        assert cache.library_versions()["numba"] == "none"
        assert (cache.cache_key("ns", {"p": 1}) != k0) == (real("numba") != "none")
    finally:
        monkeypatch.undo()
        cache.clear_code_keys()
