"""Peak memory of an xpnet training run, against what the work itself needs.

The budget of a run is what any implementation of the same training must hold
at once:

* ``params``: every ``W`` and ``b``;
* ``optimizer``: the optimizer's state (none for plain SGD; two moments for Adam);
* ``gradients``: one gradient per parameter;
* ``activations``: one batch's layer outputs, kept from the forward pass for
  the backward pass (``batch x sum of layer widths``);
* ``deltas``: one batch's ``dZ`` and ``dA`` of the widest layer, alive together
  in the backward pass;
* ``targets``: the one-hot targets that ``xpnet.train`` builds from the labels.

The data set itself is allocated before the run and not counted. The peak is
what ``tracemalloc`` saw during one ``xpnet.train`` call on the NumPy backend
(NumPy reports its array buffers to it); the ratio ``peak / budget`` is the
figure the speed issue asks to keep within 1.15. Only the NumPy backend is
measured: other libraries allocate outside ``tracemalloc``'s view.

``xpnet.train`` also keeps a copy of the parameters of the last host sync
with finite metrics (what the model falls back to when the loss diverges).
It lives in host memory, so on a GPU it takes no device memory; on NumPy it
is part of the measured peak (``ratio`` counts it), and
``ratio_without_snapshot`` leaves it out. NumPy's training plan updates the
large weight matrices inside their gradient products, so it holds no
gradient for them: that is where the snapshot fits.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

__all__ = ["budget", "measure"]


def budget(sizes, batch: int, n_rows: int, itemsize: int = 4, state_per_param: int = 0) -> dict:
    """The bytes a training step on ``sizes`` must hold, by part (see the module docstring)."""
    widths = list(sizes[1:])
    n_params = sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))
    parts = {
        "params": n_params,
        "optimizer": state_per_param * n_params,
        "gradients": n_params,
        "activations": batch * sum(widths),
        "deltas": 2 * batch * max(widths),
        "targets": n_rows * sizes[-1],
    }
    return {k: v * itemsize for k, v in parts.items()}


def measure(w, X: np.ndarray, y: np.ndarray) -> dict:
    """Peak traced memory of ``xpnet.train`` on workload ``w`` (NumPy backend), with its budget."""
    import xpnet

    from .workloads import initial_params

    n = w.n_rows
    Xn, yn = X[:n], y[:n]
    model = xpnet.MLP(list(w.sizes), hidden=w.hidden, output=w.output, init=w.init, seed=0)
    model.set_params([(W.copy(), b.copy()) for W, b in initial_params(w)])
    batch = n if w.full_batch else w.batch
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        xpnet.train(model, Xn, yn, epochs=w.epochs, batch_size=None if w.full_batch else w.batch,
                    lr=w.lr, shuffle=False)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    parts = budget(w.sizes, batch, n, np.dtype(np.float32).itemsize)
    total = sum(parts.values())
    # train keeps a host copy of the last weights with a finite loss (its fallback when the loss
    # diverges): on a GPU backend it is in host memory, on NumPy it is part of the peak above
    snapshot = parts["params"]
    return {"backend": "numpy", "peak_bytes": int(peak), "budget_bytes": int(total), "budget": parts,
            "ratio": peak / total, "host_snapshot_bytes": snapshot,
            "ratio_without_snapshot": (peak - snapshot) / total}
