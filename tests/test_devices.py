"""Devices: specs, identity, transfers and placement checks, on array-api-strict's simulated devices.

array-api-strict's ``device1``/``device2`` behave like a GPU for these purposes:
an implicit conversion to NumPy and any device mix raise. The transfer counter
below wraps the library's real entry points that cross the host/device
boundary, so it counts what really moves, whatever path xpnet takes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import xpnet
from xpnet.backend import backend_of, get_backend

strict = pytest.importorskip("array_api_strict")
CPU, DEV1, DEV2 = strict.Device("CPU_DEVICE"), strict.Device("device1"), strict.Device("device2")


class Transfers:
    """Counts host->device and device->host crossings of array-api-strict arrays on non-host devices."""

    def __init__(self) -> None:
        self.to_device: list[tuple] = []   # shapes of host data placed on a device
        self.to_host: list[tuple] = []     # shapes of device arrays read by the host

    @contextlib.contextmanager
    def watching(self, monkeypatch):
        real_asarray, Array = strict.asarray, type(strict.asarray(0.0))
        real_to_device = Array.to_device

        def asarray(obj, /, *args, device=None, **kwargs):
            if device not in (None, CPU) and not isinstance(obj, Array):
                self.to_device.append(np.shape(obj))
            return real_asarray(obj, *args, device=device, **kwargs)

        def to_device(a, device, /, *args, **kwargs):
            if a.device != CPU and device == CPU:
                self.to_host.append(tuple(a.shape))
            return real_to_device(a, device, *args, **kwargs)

        def reader(name):
            real = getattr(Array, name)

            def read(a, *args, **kwargs):
                if a.device != CPU:
                    self.to_host.append((name,))
                return real(a, *args, **kwargs)
            return read

        with monkeypatch.context() as m:
            m.setattr(strict, "asarray", asarray)
            m.setattr(Array, "to_device", to_device)
            for name in ("__float__", "__int__", "__bool__", "__index__", "__complex__", "__dlpack__"):
                m.setattr(Array, name, reader(name))
            yield self


def _data(n=60, d=3, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)


def _run(spec, X, y, monkeypatch, **kwargs):
    model = xpnet.MLP([3, 8, 6, 3], output="softmax", seed=0, dtype="float64", backend=spec)
    be = model.backend
    Xd, yd = be.asarray(X), be.asarray(y)
    counter = Transfers()
    with counter.watching(monkeypatch):
        history = xpnet.train(model, Xd, yd, **kwargs)
    return model, history, counter


@pytest.mark.parametrize("batch_size", [10, 30])
def test_transfers_per_run_per_epoch_and_per_sync_and_none_per_batch(monkeypatch, batch_size):
    """On device1, with X and y already there: X is checked for NaN/inf with one read and the
    labels y are read once and come back once as one-hot targets (checked and built on the host);
    then per epoch the shuffle order and one dropout mask per hidden layer go to the device, and
    per host sync the stacked metrics and the snapshot of the parameters (6 arrays, the weights a
    diverged run falls back to) come back. The same counts at 6 and 2 batches an epoch: nothing
    moves per batch."""
    X, y = _data()
    epochs, sync_every = 6, 3
    _, history, counter = _run("array_api_strict:device1", X, y, monkeypatch, epochs=epochs,
                               batch_size=batch_size, dropout=0.2, sync_every=sync_every, lr=0.1)
    assert history.epochs == epochs
    per_epoch = [(60,), (60, 8), (60, 6)]  # the shuffle order, two dropout masks
    assert counter.to_device == [(60, 3)] + per_epoch * epochs
    syncs = epochs // sync_every
    snapshot = [(3, 8), (8,), (8, 6), (6,), (6, 3), (3,)]
    metrics = [(sync_every * 2,)]  # loss and correct count of each epoch since the last sync
    assert counter.to_host == [("__float__",), (60,)] + snapshot + (metrics + snapshot) * syncs


def test_host_data_moves_once_and_validation_data_once(monkeypatch):
    X, y = _data()
    model = xpnet.MLP([3, 8, 3], output="softmax", seed=0, backend="array_api_strict:device1")
    counter = Transfers()
    with counter.watching(monkeypatch):
        xpnet.train(model, X, y, epochs=4, batch_size=20, shuffle=False, validation_data=(X[:7], y[:7]),
                    sync_every=4)
    assert counter.to_device == [(60, 3), (60, 3), (7, 3), (7, 3)]  # X, one-hot T, X_val, T_val
    assert len([t for t in counter.to_host if t == (16,)]) == 1  # 4 epochs x 4 metrics, one read


def test_device1_gives_the_host_devices_numbers_bit_for_bit(monkeypatch):
    X, y = _data()
    kwargs = dict(epochs=5, batch_size=16, dropout=0.25, optimizer="adam", lr=0.01,
                  validation_data=(X[:9], y[:9]), seed=3)
    results = []
    for spec in ("array_api_strict", "array_api_strict:device1"):
        model, history, _ = _run(spec, X, y, monkeypatch, **{**kwargs, "validation_data": (X[:9], y[:9])})
        assert backend_of(model.params[0][0]) is get_backend(spec)
        results.append((history.as_dict(), [xpnet.to_numpy(a) for pair in model.params for a in pair]))
    (h0, p0), (h1, p1) = results
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert h0[key] == h1[key]
    for a, b in zip(p0, p1):
        np.testing.assert_array_equal(a, b)


def test_inputs_on_two_devices_are_refused_before_computing_naming_each():
    X, y = _data()
    model = xpnet.MLP([3, 8, 3], output="softmax", backend="array_api_strict:device1")
    before = [xpnet.to_numpy(a) for pair in model.params for a in pair]
    X1, y2 = strict.asarray(X, device=DEV1), strict.asarray(y, device=DEV2)
    with pytest.raises(xpnet.BackendMismatchError,
                       match="X is a array_api_strict array on array_api_strict:device1, "
                             "y is a array_api_strict array on array_api_strict:device2"):
        xpnet.train(model, X1, y2, epochs=1)
    with pytest.raises(xpnet.BackendMismatchError, match="X_val is a .* on array_api_strict:device2"):
        xpnet.train(model, X1, strict.asarray(y, device=DEV1), validation_data=(strict.asarray(X, device=DEV2), y))
    with pytest.raises(xpnet.BackendMismatchError, match="X is .* on array_api_strict:device1 but training "
                                                         r"\(backend='array_api_strict'\) is on array_api_strict;"):
        xpnet.train(model, X1, y, backend="array_api_strict")
    with pytest.raises(xpnet.BackendMismatchError, match="model.to\\('array_api_strict:device2'\\)"):
        model.forward(strict.asarray(X, device=DEV2))
    for a, b in zip(before, (xpnet.to_numpy(a) for pair in model.params for a in pair)):
        np.testing.assert_array_equal(a, b)


def test_data_on_a_device_trains_there_and_writes_back_into_a_host_model():
    X, y = _data()
    model = xpnet.MLP([3, 8, 3], output="softmax", seed=0, dtype="float64")
    ref = xpnet.MLP([3, 8, 3], output="softmax", seed=0, dtype="float64", backend="array_api_strict")
    h = xpnet.train(model, strict.asarray(X, device=DEV1), strict.asarray(y, device=DEV1), epochs=3, lr=0.1)
    h_ref = xpnet.train(ref, X, y, epochs=3, lr=0.1)
    assert model.backend.is_numpy and h.loss == h_ref.loss


def test_moves_between_devices_of_one_library_never_touch_the_host(monkeypatch):
    model = xpnet.MLP([3, 4, 2], output="softmax", seed=0, backend="array_api_strict:device1")
    host = [xpnet.to_numpy(a) for pair in model.params for a in pair]
    counter = Transfers()
    with counter.watching(monkeypatch):
        moved = model.to("array_api_strict:device2")
    assert counter.to_host == [] and counter.to_device == []
    assert all(a.device == DEV2 for pair in moved.params for a in pair)
    for a, b in zip(host, (xpnet.to_numpy(a) for pair in moved.params for a in pair)):
        np.testing.assert_array_equal(a, b)


def test_moves_between_libraries_are_exact_and_own_their_memory():
    torch = pytest.importorskip("torch")
    t = torch.arange(6.0, dtype=torch.float64).reshape(2, 3)
    for spec in ("numpy", "array_api_strict", "array_api_strict:device1"):
        be = get_backend(spec)
        moved = be.asarray(t)
        assert backend_of(moved) is be
        np.testing.assert_array_equal(xpnet.to_numpy(moved), t.numpy())
    on_numpy = get_backend("numpy").asarray(t)
    t += 1  # the moved copy does not share the tensor's memory
    assert on_numpy[0, 0] == 0.0


def test_torch_device_names_normalize_to_one_backend():
    torch = pytest.importorskip("torch")
    be = get_backend("torch:cpu:0")
    assert be is get_backend("torch") is get_backend("torch:cpu") is get_backend("torch", device=torch.device("cpu", 0))
    model = xpnet.MLP([3, 4, 3], output="softmax", backend="torch:cpu:0")
    X, y = _data()
    Xt, yt = be.asarray(X), be.asarray(y)  # tensors report device 'cpu', the spec said 'cpu:0'
    xpnet.train(model, Xt, yt, epochs=2)
    assert tuple(model.forward(Xt).shape) == (60, 3)


def test_specs_and_their_errors():
    assert get_backend("array_api_strict:device1").spec == "array_api_strict:device1"
    assert get_backend("array_api_strict").spec == "array_api_strict"
    assert get_backend("numpy:cpu") is get_backend("numpy")
    assert get_backend("array_api_strict", device=DEV2) is get_backend("array_api_strict:device2")
    assert backend_of(strict.ones(2, device=DEV2)) is get_backend("array_api_strict:device2")
    assert not get_backend("array_api_strict:device1").is_host and get_backend("array_api_strict").is_host
    for bad, match in [("array_api_strict:device9", "no device 'device9'.*device1"),
                       ("numpy:cuda", "host CPU only"), ("cupyy:1", "unknown backend")]:
        with pytest.raises(xpnet.InvalidArgumentError, match=match):
            get_backend(bad)
    with pytest.raises(xpnet.InvalidArgumentError, match="names a device already"):
        get_backend("array_api_strict:device1", device=DEV2)


def test_torch_and_jax_device_specs():
    if importlib.util.find_spec("torch"):
        with pytest.raises(xpnet.InvalidArgumentError, match="not a PyTorch device"):
            get_backend("torch:nope")
    if importlib.util.find_spec("jax"):
        import jax

        cpu = jax.devices("cpu")[0]
        assert get_backend("jax:cpu") is get_backend("jax:cpu:0") is get_backend("jax", device=cpu)
        assert get_backend("jax:cpu").spec == "jax:cpu:0" and get_backend("jax:cpu").is_host
        assert backend_of(jax.numpy.ones(2)) is get_backend("jax:cpu")
        with pytest.raises(xpnet.BackendUnavailableError, match="jax:cpu:5.*1 cpu device"):
            get_backend("jax:cpu:5")


def test_synchronize_waits_on_every_backend(backend, xp):
    a = backend.asarray(np.ones((4, 4)))
    b = a @ a
    backend.synchronize(b)  # returns once b is computed; a no-op on synchronous libraries
    np.testing.assert_array_equal(xpnet.to_numpy(b), np.full((4, 4), 4.0))


def test_info_lists_every_device_of_every_library():
    out = subprocess.run([sys.executable, "-m", "xpnet", "info"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for line in ("numpy", "array_api_strict:device1", "array_api_strict:device2", "simulated accelerator"):
        assert line in out.stdout
    assert "cupy" in out.stdout  # listed even where unusable, with the reason
