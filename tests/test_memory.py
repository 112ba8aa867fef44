"""Peak memory of a training run against what the work needs (NumPy: tracemalloc sees its buffers).

The budget is what any implementation must hold at once: parameters, their
gradients, the optimizer state, one batch's layer outputs, the widest layer's
``dZ`` and ``dA``, and the one-hot targets ``train`` builds. On top of it
``train`` keeps one host copy of the parameters (the last finite weights, its
fallback when the loss diverges). A regression such as keeping every epoch's
parameters until the next host sync, or a temporary the size of the data set,
fails here.

Plain SGD runs on NumPy's training plan (preallocated buffers, the large
weight updates fused into their products: no gradient arrays for those), and
stays within 1.15 times the budget with the snapshot counted. Adam takes the
generic path, which allocates as it goes: within 1.3 times the budget, the
snapshot not counted.
"""

import gc
import tracemalloc

import numpy as np
import pytest

import xpnet

SIZES = [64, 256, 256, 10]
N, BATCH = 4096, 256


def _budget(sizes, batch, n, state_per_param=0, itemsize=4):
    n_params = sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))
    widths = sizes[1:]
    need = (2 + state_per_param) * n_params + batch * sum(widths) + 2 * batch * max(widths) + n * sizes[-1]
    return need * itemsize, n_params * itemsize


@pytest.mark.parametrize("optimizer, state_per_param, limit, snapshot_counted",
                         [("sgd", 0, 1.15, True), ("adam", 2, 1.3, False)])
def test_peak_memory_of_a_training_run_is_near_the_budget(backend, monkeypatch, optimizer, state_per_param, limit,
                                                          snapshot_counted):
    if backend.name != "numpy":
        pytest.skip("tracemalloc sees NumPy's buffers only")
    monkeypatch.delenv("XPNET_GENERIC", raising=False)  # plain SGD: NumPy's training plan
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], N)
    model = xpnet.MLP(SIZES, output="softmax", seed=0)
    budget, snapshot = _budget(SIZES, BATCH, N, state_per_param)
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        history = xpnet.train(model, X, y, epochs=3, batch_size=BATCH, optimizer=optimizer, lr=0.01)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert history.loss[-1] < history.loss[0]
    assert peak >= budget - BATCH * sum(SIZES[1:]) * 4  # it did hold parameters, gradients, ...
    assert peak - (0 if snapshot_counted else snapshot) <= limit * budget, (peak, budget, snapshot)


def test_a_memory_mapped_data_set_is_read_in_batches_not_copied(backend, tmp_path):
    """X may be a memory-mapped .npy file (data larger than memory, on the CPU): train reads the
    batches it needs from the file and holds no copy of X, with the same numbers as in memory."""
    if backend.name != "numpy":
        pytest.skip("memory-mapped host data is trained on where it lies only on the NumPy backend")
    n, d = 20_000, 256
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d), dtype=np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    runs = []
    for data in (mapped, X):
        model = xpnet.MLP([d, 32, 2], output="softmax", seed=0)
        gc.collect()
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            history = xpnet.train(model, data, y, epochs=2, batch_size=500, lr=0.1, seed=3)
            peak = tracemalloc.get_traced_memory()[1] - start
        finally:
            tracemalloc.stop()
        runs.append((history.loss, [xpnet.to_numpy(W) for W, _ in model.params], peak))
    (loss_mapped, params_mapped, peak_mapped), (loss, params, _) = runs
    assert loss_mapped == loss and loss[-1] < loss[0]
    for a, b in zip(params_mapped, params):
        np.testing.assert_array_equal(a, b)
    assert peak_mapped < 0.2 * X.nbytes, (peak_mapped, X.nbytes)  # batches, never the whole of X
