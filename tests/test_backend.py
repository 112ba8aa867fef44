"""Backend selection, transfers, clear errors for missing backends, seeded host randomness."""

import builtins
import pickle
import sys
import types

import numpy as np
import pytest

import xpnet
from xpnet import backend as B


def test_specs_resolve_to_one_backend_object(backend):
    again = xpnet.get_backend(backend.spec)
    assert again is backend and again == backend
    assert again.xp is backend.xp
    assert xpnet.get_backend(backend.name, device=backend.device) is backend  # the library's device object
    assert pickle.loads(pickle.dumps(backend)) is backend


def test_namespace_module_is_accepted(backend):
    a = backend.asarray(np.ones((2, 3)))
    xp = __import__("array_api_compat").array_namespace(a)
    assert xpnet.get_backend(xp, device=backend.device) is backend
    assert xpnet.get_backend(xp).name == backend.name  # the namespace alone: the library's default device


def test_none_infers_from_arrays(backend):
    a = backend.asarray(np.ones(3))
    assert xpnet.get_backend(None, a) == backend
    assert xpnet.get_backend(None, np.ones(3), a) == backend  # NumPy is host data, not a vote
    assert xpnet.get_backend(None).name == "numpy"
    assert xpnet.get_backend(None, np.ones(3)).name == "numpy"


def test_round_trip_is_exact(backend, rng):
    host = rng.standard_normal((5, 4))
    for dtype in ("float32", "float64"):
        a = backend.asarray(host, backend.dtype(dtype))
        back = xpnet.to_numpy(a)
        assert isinstance(back, np.ndarray)
        np.testing.assert_array_equal(back, host.astype(dtype))


def test_asarray_moves_arrays_of_another_backend(backend):
    strict = pytest.importorskip("array_api_strict")
    other = strict.asarray(np.arange(6.0).reshape(2, 3))
    moved = backend.asarray(other)
    assert xpnet.backend.backend_of(moved) == backend
    np.testing.assert_array_equal(xpnet.to_numpy(moved), np.arange(6.0).reshape(2, 3))


def test_mixed_backends_are_rejected():
    strict = pytest.importorskip("array_api_strict")
    torch = pytest.importorskip("torch")
    with pytest.raises(xpnet.BackendMismatchError, match="two backends"):
        xpnet.get_backend(None, strict.ones(2), torch.ones(2))


def test_unknown_backend_lists_valid_names():
    with pytest.raises(xpnet.InvalidArgumentError, match="numpy.*cupy.*array_api_strict.*torch.*jax"):
        xpnet.get_backend("tensorflow")
    with pytest.raises(ValueError):  # the documented errors are ValueErrors too
        xpnet.get_backend("tensorflow")
    with pytest.raises(xpnet.InvalidArgumentError):
        xpnet.get_backend(42)


@pytest.mark.parametrize("name, hint", [
    ("cupy", "xpnet\\[cuda12\\]"),
    ("torch", "pip install torch"),
    ("jax", "pip install jax"),
    ("array_api_strict", "pip install array-api-strict"),
])
def test_missing_library_says_what_to_install(monkeypatch, name, hint):
    module = "cupy" if name == "cupy" else name
    real_import = builtins.__import__

    def fake_import(mod, *args, **kwargs):
        if mod == module or mod.startswith(module + "."):
            raise ImportError(f"No module named {mod!r}")
        return real_import(mod, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    for loaded in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, loaded)
    with pytest.raises(xpnet.BackendUnavailableError, match=hint):
        xpnet.get_backend(name)
    with pytest.raises(xpnet.BackendUnavailableError):
        xpnet.MLP([2, 1], backend=name)


def test_cupy_without_gpu_says_so(monkeypatch):
    """A CuPy that is installed but finds no CUDA device gives a clear error, not a CUDA traceback."""
    class CUDARuntimeError(RuntimeError):
        pass

    def no_device():
        raise CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_device))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(xpnet.BackendUnavailableError, match="needs a CUDA GPU.*backend='numpy'"):
        xpnet.get_backend("cupy")
    fake.cuda.runtime.getDeviceCount = lambda: 0
    with pytest.raises(xpnet.BackendUnavailableError, match="no CUDA device"):
        xpnet.get_backend("cupy")


def test_available_backends_always_has_numpy():
    names = xpnet.available_backends()
    assert names[0] == "numpy"
    assert set(names) <= set(B.BACKENDS)


def test_dtypes(backend, xp):
    assert backend.dtype("float32") == xp.float32
    assert backend.dtype("float64") == xp.float64
    assert backend.dtype(np.float64) == xp.float64
    for bad in ("int32", "float16", "complex64"):
        with pytest.raises(xpnet.InvalidArgumentError, match="floating"):
            backend.dtype(bad)


def test_host_rng_is_seeded_and_validated():
    a = B.host_rng(3).standard_normal(4)
    b = B.host_rng(3).standard_normal(4)
    np.testing.assert_array_equal(a, b)
    for bad in (-1, 1.5, "x", True):
        with pytest.raises(xpnet.InvalidArgumentError, match="seed"):
            B.host_rng(bad)


def test_same_seed_same_initial_weights_on_every_backend(backend):
    ref = xpnet.MLP([3, 5, 2], output="softmax", seed=7, dtype="float64")
    other = xpnet.MLP([3, 5, 2], output="softmax", seed=7, dtype="float64", backend=backend.spec)
    for (W0, b0), (W1, b1) in zip(ref.params, other.params):
        np.testing.assert_array_equal(xpnet.to_numpy(W1), W0)
        np.testing.assert_array_equal(xpnet.to_numpy(b1), b0)
    different = xpnet.MLP([3, 5, 2], output="softmax", seed=8, dtype="float64")
    assert not np.array_equal(different.params[0][0], ref.params[0][0])


def test_to_numpy_of_host_values():
    np.testing.assert_array_equal(xpnet.to_numpy([1.0, 2.0]), np.array([1.0, 2.0]))
    assert xpnet.to_numpy(np.float32(2)).dtype == np.float32


def test_keep_host_memory_stops_page_faults_from_allocation_churn():
    """Inside keep_host_memory, freeing and retaking 16 MB arrays (what a training step does)
    reuses the same pages: next to no page faults. Nested contexts restore the defaults once."""
    resource = pytest.importorskip("resource")
    import xpnet.hostmem as B

    if B._glibc() is None:
        pytest.skip("not glibc: keep_host_memory does nothing here")
    be = xpnet.get_backend("numpy")

    def faults_per_cycle():
        def cycle():  # three 16 MB arrays taken and freed: 48 MB free at the top of the heap
            arrays = [np.ones(4 * 1024 * 1024, np.float32) for _ in range(3)]
            del arrays

        cycle(), cycle()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(10):
            cycle()
        return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10

    outside = faults_per_cycle()
    with be.keep_host_memory():
        with be.keep_host_memory():
            inside = faults_per_cycle()
        assert B._malloc_users == 1
    assert B._malloc_users == 0
    # 48 MB of fresh pages is ~12,000 small-page faults (fewer with huge pages); glibc's defaults
    # give the memory back each cycle, keep_host_memory keeps it
    assert inside < 50 and outside > 10 * max(inside, 1), (inside, outside)
    with xpnet.get_backend("array_api_strict").keep_host_memory():
        assert B._malloc_users == 1
