"""Peak memory of a training run against what the work needs (NumPy: tracemalloc sees its buffers).

The budget is what any implementation must hold at once: parameters, their
gradients, the optimizer state, one batch's layer outputs, the widest layer's
``dZ`` and ``dA``, and the one-hot targets ``train`` builds. On top of it
``train`` keeps one host copy of the parameters (the last finite weights, its
fallback when the loss diverges). A regression such as keeping every epoch's
parameters until the next host sync, or a temporary the size of the data set,
fails here.
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


@pytest.mark.parametrize("optimizer, state_per_param", [("sgd", 0), ("adam", 2)])
def test_peak_memory_of_a_training_run_is_near_the_budget(backend, optimizer, state_per_param):
    if backend.name != "numpy":
        pytest.skip("tracemalloc sees NumPy's buffers only")
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
    assert peak - snapshot <= 1.3 * budget, (peak, budget, snapshot)
