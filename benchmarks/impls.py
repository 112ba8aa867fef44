"""The implementations under test, one function each.

Every ``run_*`` function takes a :class:`~benchmarks.workloads.Workload`, the
host data ``(X, y)`` and where to run, and returns ``(seconds, loss_first,
loss_last)``: the wall-clock seconds of each timed repeat, and the training
loss (:func:`~benchmarks.workloads.eval_loss`, the same float64 evaluator for
everyone) of the initial and of the trained weights. The ceiling trains
nothing and returns ``None`` losses.

What is timed: the training call only (for xpnet, all of ``xpnet.train``:
argument checks, the one-hot targets, its per-epoch metrics). Building the
model, drawing or loading the initial weights and moving the data to the
device happen before the clock starts. Every repeat starts from the same
initial weights. A shorter warm-up run of the same code comes first. On a GPU
the device is synchronized before the clock starts and before it stops.
"""

from __future__ import annotations

import gc
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .workloads import Workload, eval_loss, initial_params, matmul_shapes

__all__ = ["Impl", "implementations", "run_ceiling", "run_plain", "run_sklearn", "run_torch", "run_xpnet"]

Result = tuple[list[float], "float | None", "float | None"]


# -- timing ----------------------------------------------------------------------
def _measure(w: Workload, prepare: Callable[[Workload], Any], train: Callable[[Any, Workload], Any],
             sync: Callable[[], None]) -> tuple[list[float], Any]:
    """Warm up on ``w.warmup()``, then time ``w.repeats`` runs of ``train(prepare(w), w)``.

    Returns the seconds of each repeat and the state after the last one.
    """
    warm = w.warmup()
    train(prepare(warm), warm)
    sync()
    times = []
    state = None
    for _ in range(w.repeats):
        state = prepare(w)
        gc.collect()
        sync()
        t0 = time.perf_counter()
        state = train(state, w)
        sync()
        times.append(time.perf_counter() - t0)
    return times, state


def _no_sync() -> None:
    pass


# -- where arrays live ------------------------------------------------------------
@dataclass
class _Lib:
    """An array library on a device: how to move host data there, and how to wait for it."""

    name: str  # numpy, cupy, torch
    device: str  # cpu, cuda
    module: Any
    to_device: Callable[[np.ndarray], Any]
    to_host: Callable[[Any], np.ndarray]
    sync: Callable[[], None]
    matmul_out: Callable[[Any, Any, Any], Any]
    empty: Callable[[tuple], Any]


def _lib(name: str, device: str) -> _Lib:
    if name == "numpy":
        return _Lib("numpy", "cpu", np, np.asarray, np.asarray, _no_sync,
                    lambda a, b, c: np.matmul(a, b, out=c),
                    lambda shape: np.full(shape, 0.01, np.float32))
    if name == "cupy":
        import cupy

        import xpnet

        sync = xpnet.get_backend("cupy").synchronize
        return _Lib("cupy", "cuda", cupy, cupy.asarray, cupy.asnumpy, sync,
                    lambda a, b, c: cupy.matmul(a, b, out=c),
                    lambda shape: cupy.full(shape, 0.01, cupy.float32))
    if name == "torch":
        import torch

        dev = torch.device(device)

        def sync() -> None:
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)

        return _Lib("torch", device, torch, lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(dev),
                    lambda t: t.detach().cpu().numpy(), sync,
                    lambda a, b, c: torch.mm(a, b, out=c),
                    lambda shape: torch.full(shape, 0.01, dtype=torch.float32, device=dev))
    raise ValueError(f"unknown library {name!r}")


# -- xpnet ----------------------------------------------------------------------
def run_xpnet(w: Workload, X: np.ndarray, y: np.ndarray, backend: str = "numpy") -> Result:
    """xpnet through its public API: ``xpnet.MLP`` + ``xpnet.train``.

    ``backend`` is an xpnet backend spec (``"numpy"``, ``"cupy"``, ``"torch"``,
    ``"torch:cuda"``). ``X`` is moved to the backend before timing (NumPy needs
    no move); ``y`` is given as host integer labels, as users pass it, so the
    one-hot targets xpnet builds (on the host, transferred once per call) are
    part of the timed ``xpnet.train`` call. ``shuffle=False``: every
    implementation sees the same batches in the same order.
    """
    import xpnet

    be = xpnet.get_backend(backend)
    Xd = X if be.name == "numpy" else be.asarray(X)
    init = initial_params(w)

    def prepare(wl: Workload):
        model = xpnet.MLP(list(w.sizes), hidden=w.hidden, output=w.output, init=w.init, seed=0, backend=be)
        # copies: on NumPy set_params keeps the arrays it is given, and nothing may alias `init`
        return model.set_params([(W.copy(), b.copy()) for W, b in init])

    def train(model, wl: Workload):
        n = wl.n_rows
        xpnet.train(model, Xd[:n] if n < Xd.shape[0] else Xd, y[:n], epochs=wl.epochs,
                    batch_size=None if wl.full_batch else wl.batch, lr=wl.lr, shuffle=False, backend=be)
        return model

    times, model = _measure(w, prepare, train, be.synchronize)
    trained = [(xpnet.to_numpy(W), xpnet.to_numpy(b)) for W, b in model.params]
    return times, eval_loss(w, init, X, y), eval_loss(w, trained, X, y)


# -- the ceiling: matmuls only -------------------------------------------------------
def run_ceiling(w: Workload, X: np.ndarray, y: np.ndarray, library: str = "numpy",
                device: str = "cpu") -> Result:
    """Only the matrix products of the same training steps (:func:`~benchmarks.workloads.matmul_shapes`).

    Per step and layer: ``Z = A_prev @ W``, ``dW = A_prev.T @ dZ`` and (but for
    the first layer) ``dA_prev = dZ @ W.T``, each written into a preallocated
    buffer (``out=``), the first layer reading the real batch (a view of ``X``
    on the device). No bias, activation, loss or update: nothing that trains
    these shapes can be faster on this library and device.
    """
    lib = _lib(library, device)
    Xd = lib.to_device(X)
    sizes = w.sizes
    Ws = [lib.empty((i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    dWs = [lib.empty((i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    bufs: dict[int, tuple[list, list, list]] = {}

    def buffers(m: int):
        if m not in bufs:
            Z = [lib.empty((m, o)) for o in sizes[1:]]  # layer outputs, also the next layer's input
            dZ = [lib.empty((m, o)) for o in sizes[1:]]
            dA = [lib.empty((m, i)) for i in sizes[1:-1]]  # dA[l-1]: gradient of layer l's input
            bufs[m] = (Z, dZ, dA)
        return bufs[m]

    for m in set(w.batch_sizes()) | set(w.warmup().batch_sizes()):
        buffers(m)
    mm = lib.matmul_out
    L = len(Ws)

    def train(_, wl: Workload):
        n, bs = wl.n_rows, wl.batch
        for _epoch in range(wl.epochs):
            for s in range(0, n, bs):
                A0 = Xd[s:min(s + bs, n)]
                Z, dZ, dA = bufs[A0.shape[0]]
                A = A0
                for l in range(L):  # forward
                    mm(A, Ws[l], Z[l])
                    A = Z[l]
                for l in range(L - 1, -1, -1):  # backward
                    A_prev = A0 if l == 0 else Z[l - 1]
                    G = dZ[l] if l == L - 1 else dA[l]  # stands in for dZ of layer l
                    mm(A_prev.T, G, dWs[l])
                    if l > 0:
                        mm(G, Ws[l].T, dA[l - 1])

    # the products above are exactly matmul_shapes(): forward and dW per layer, dA but for the first
    assert len(matmul_shapes(sizes, 1)) == 3 * L - 1
    times, _ = _measure(w, lambda wl: None, train, lib.sync)
    return times, None, None


# -- the classic tutorial implementation ------------------------------------------------
def run_plain(w: Workload, X: np.ndarray, y: np.ndarray, library: str = "numpy") -> Result:
    """A from-scratch MLP written the way the classic tutorials write it.

    Column layout (``X`` is ``(n_features, m)``, ``W`` is ``(n_out, n_in)``,
    ``b`` is ``(n_out, 1)``), parameters, caches and gradients in dicts keyed
    ``"W1"``, ``"dW1"``, ..., ``np.dot`` (``cp.dot`` on the GPU: the module is
    passed in as ``np``, the "import cupy as np" trick), a new array for every
    intermediate, the cost computed every step and kept every 100 epochs,
    ReLU's backward by masked assignment (``dZ[Z <= 0] = 0``). Mini-batches are
    column slices taken in order (no shuffle), like every other implementation.
    """
    lib = _lib(library, "cuda" if library == "cupy" else "cpu")
    xnp = lib.module  # numpy or cupy, used as "np" below
    init = initial_params(w)
    n_out = w.sizes[-1]
    XT = lib.to_device(X).T  # (n_features, n): a transposed view, as in the tutorials
    if w.output == "softmax":
        Y_host = np.zeros((n_out, X.shape[0]), np.float32)
        Y_host[y, np.arange(X.shape[0])] = 1.0
    else:
        Y_host = y.astype(np.float32).reshape(1, -1)
    Y = lib.to_device(Y_host)
    hidden, output = w.hidden, w.output

    def prepare(wl: Workload):
        parameters = {}
        for l, (W, b) in enumerate(init, start=1):
            parameters["W" + str(l)] = lib.to_device(np.ascontiguousarray(W.T))
            parameters["b" + str(l)] = lib.to_device(b.reshape(-1, 1).copy())
        return parameters

    def train(parameters, wl: Workload):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return plain_model(XT[:, :wl.n_rows], Y[:, :wl.n_rows], parameters, wl.lr, wl.epochs,
                               wl.batch, hidden, output, xnp)[0]

    times, parameters = _measure(w, prepare, train, lib.sync)
    L = len(init)
    trained = [(lib.to_host(parameters["W" + str(l)]).T, lib.to_host(parameters["b" + str(l)]).reshape(-1))
               for l in range(1, L + 1)]
    return times, eval_loss(w, init, X, y), eval_loss(w, trained, X, y)


def plain_model(X, Y, parameters, learning_rate, num_epochs, mini_batch_size, hidden, output, np):
    """The tutorial training loop (``np`` is NumPy or CuPy)."""
    costs = []
    m = X.shape[1]
    for i in range(num_epochs):
        minibatches = [(X[:, k:k + mini_batch_size], Y[:, k:k + mini_batch_size])
                       for k in range(0, m, mini_batch_size)]
        for minibatch_X, minibatch_Y in minibatches:
            AL, caches = L_model_forward(minibatch_X, parameters, hidden, output, np)
            cost = compute_cost(AL, minibatch_Y, output, np)
            grads = L_model_backward(AL, minibatch_Y, caches, hidden, np)
            parameters = update_parameters(parameters, grads, learning_rate)
        if i % 100 == 0:
            costs.append(cost)
    return parameters, costs


def L_model_forward(X, parameters, hidden, output, np):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L + 1):
        A_prev = A
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        Z = np.dot(W, A_prev) + b
        if l < L:
            A = np.tanh(Z) if hidden == "tanh" else np.maximum(0, Z)
        elif output == "sigmoid":
            A = 1 / (1 + np.exp(-Z))
        else:
            expZ = np.exp(Z - np.max(Z, axis=0, keepdims=True))
            A = expZ / np.sum(expZ, axis=0, keepdims=True)
        caches.append(((A_prev, W, b), (Z, A)))
    return A, caches


def compute_cost(AL, Y, output, np):
    m = Y.shape[1]
    if output == "sigmoid":
        cost = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
    else:
        cost = -np.sum(Y * np.log(AL)) / m
    return np.squeeze(cost)


def L_model_backward(AL, Y, caches, hidden, np):
    grads = {}
    L = len(caches)
    dZ = AL - Y  # sigmoid + cross-entropy, softmax + cross-entropy
    for l in reversed(range(L)):
        (A_prev, W, _b), _ = caches[l]
        m = A_prev.shape[1]
        grads["dW" + str(l + 1)] = 1.0 / m * np.dot(dZ, A_prev.T)
        grads["db" + str(l + 1)] = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
        if l > 0:
            dA_prev = np.dot(W.T, dZ)
            _, (Z, A) = caches[l - 1]
            if hidden == "tanh":
                dZ = dA_prev * (1 - np.power(A, 2))
            else:
                dZ = np.array(dA_prev, copy=True)
                dZ[Z <= 0] = 0
    return grads


def update_parameters(parameters, grads, learning_rate):
    L = len(parameters) // 2
    for l in range(L):
        parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * grads["dW" + str(l + 1)]
        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * grads["db" + str(l + 1)]
    return parameters


# -- PyTorch eager -----------------------------------------------------------------------
def run_torch(w: Workload, X: np.ndarray, y: np.ndarray, device: str = "cpu") -> Result:
    """PyTorch eager: ``nn.Sequential`` of ``nn.Linear`` + activation, autograd, ``torch.optim.SGD``.

    ``CrossEntropyLoss`` on the logits (softmax output) or ``BCEWithLogitsLoss``
    (sigmoid output); the same initial weights; the data on the device before
    timing; ``opt.zero_grad(); loss_fn(model(xb), yb).backward(); opt.step()``
    per batch with the library's defaults (no ``torch.compile``, no ``inference_mode``).
    """
    import torch
    from torch import nn

    lib = _lib("torch", device)
    dev = torch.device(device)
    init = initial_params(w)
    Xt = lib.to_device(X)
    if w.output == "softmax":
        yt, loss_fn = lib.to_device(y), nn.CrossEntropyLoss()
    else:
        yt, loss_fn = lib.to_device(y.astype(np.float32).reshape(-1, 1)), nn.BCEWithLogitsLoss()
    act = {"relu": nn.ReLU, "tanh": nn.Tanh}[w.hidden]

    def prepare(wl: Workload):
        torch.manual_seed(0)
        layers: list[nn.Module] = []
        for l, (n_in, n_out) in enumerate(zip(w.sizes[:-1], w.sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            if l < len(w.sizes) - 2:
                layers.append(act())
        model = nn.Sequential(*layers).to(dev)
        with torch.no_grad():
            for lin, (W, b) in zip([m for m in model if isinstance(m, nn.Linear)], init):
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                lin.bias.copy_(torch.from_numpy(b))
        return model, torch.optim.SGD(model.parameters(), lr=w.lr)

    def train(state, wl: Workload):
        model, opt = state
        n, bs = wl.n_rows, wl.batch
        for _epoch in range(wl.epochs):
            for s in range(0, n, bs):
                xb, yb = Xt[s:s + bs], yt[s:s + bs]
                opt.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
        return state

    times, (model, _) = _measure(w, prepare, train, lib.sync)
    lins = [m for m in model if isinstance(m, nn.Linear)]
    trained = [(lib.to_host(m.weight).T, lib.to_host(m.bias)) for m in lins]
    return times, eval_loss(w, init, X, y), eval_loss(w, trained, X, y)


# -- scikit-learn ---------------------------------------------------------------------------
def run_sklearn(w: Workload, X: np.ndarray, y: np.ndarray) -> Result:
    """scikit-learn's ``MLPClassifier`` with plain SGD (float32 data stays float32).

    ``solver="sgd"``, constant ``learning_rate_init=lr``, ``momentum=0``,
    ``alpha=0``, ``shuffle=False``, ``max_iter=epochs`` with the convergence
    test disabled (``tol=0``, ``n_iter_no_change`` > epochs). The same initial
    weights are put in by replacing the estimator's ``_init_coef`` (a private
    method; if a future version drops it, sklearn's own initialization is used).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    init = initial_params(w)

    def prepare(wl: Workload):
        est = MLPClassifier(hidden_layer_sizes=tuple(w.sizes[1:-1]), activation=w.hidden, solver="sgd",
                            learning_rate="constant", learning_rate_init=w.lr, batch_size=wl.batch,
                            max_iter=wl.epochs, shuffle=False, momentum=0.0, nesterovs_momentum=False,
                            alpha=0.0, tol=0.0, n_iter_no_change=wl.epochs + 1, early_stopping=False,
                            random_state=0)
        if hasattr(MLPClassifier, "_init_coef"):
            pending = iter(init)

            def _init_coef(fan_in, fan_out, dtype):
                W, b = next(pending)
                assert W.shape == (fan_in, fan_out)
                return W.astype(dtype, copy=True), b.astype(dtype, copy=True)

            est._init_coef = _init_coef
        return est

    def train(est, wl: Workload):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)  # batch_size > n_samples is clipped
            est.fit(X[:wl.n_rows], y[:wl.n_rows])
        return est

    times, est = _measure(w, prepare, train, _no_sync)
    trained = list(zip(est.coefs_, est.intercepts_))
    return times, eval_loss(w, init, X, y), eval_loss(w, trained, X, y)


# -- the registry --------------------------------------------------------------------------
@dataclass(frozen=True)
class Impl:
    """One implementation on one library and device.

    ``name`` is ``xpnet``, ``ceiling``, ``plain``, ``torch`` or ``sklearn``;
    ``library`` the array library it computes with (its ceiling is that
    library's); ``backend`` how xpnet/torch spell the place (``"torch:cuda"``).
    """

    name: str
    library: str
    device: str
    backend: str
    run: Callable[[Workload, np.ndarray, np.ndarray], Result]

    @property
    def key(self) -> str:
        return f"{self.name}:{self.library}"

    def matches(self, selectors: list[str] | None) -> bool:
        """``--impls`` filter: ``xpnet`` (every library), ``xpnet:numpy``, or ``:numpy`` (all on NumPy).

        ``torch`` selects PyTorch eager only; ``:torch`` everything computed with PyTorch.
        """
        if not selectors:
            return True
        return any(s in (self.name, self.key) or s == ":" + self.library for s in selectors)


def _importable(module: str) -> str | None:
    try:
        __import__(module)
    except Exception as exc:  # ImportError, or a broken install (missing CUDA libs, ...)
        return f"{module} not importable ({type(exc).__name__}: {exc})"
    return None


def implementations(device: str) -> tuple[list[Impl], list[str]]:
    """The implementations usable on ``device`` (``"cpu"``/``"cuda"``) and why the others are skipped."""
    from functools import partial

    impls: list[Impl] = []
    skipped: list[str] = []
    if device == "cpu":
        impls.append(Impl("ceiling", "numpy", "cpu", "numpy",
                          partial(run_ceiling, library="numpy", device="cpu")))
        impls.append(Impl("xpnet", "numpy", "cpu", "numpy", partial(run_xpnet, backend="numpy")))
        impls.append(Impl("plain", "numpy", "cpu", "numpy", partial(run_plain, library="numpy")))
        why = _importable("torch")
        if why is None:
            impls.append(Impl("ceiling", "torch", "cpu", "torch:cpu",
                              partial(run_ceiling, library="torch", device="cpu")))
            impls.append(Impl("xpnet", "torch", "cpu", "torch:cpu", partial(run_xpnet, backend="torch")))
            impls.append(Impl("torch", "torch", "cpu", "torch:cpu", partial(run_torch, device="cpu")))
        else:
            skipped.append(f"torch (cpu): {why}")
        why = _importable("sklearn")
        if why is None:
            impls.append(Impl("sklearn", "numpy", "cpu", "sklearn", run_sklearn))
        else:
            skipped.append(f"sklearn: {why}")
        return impls, skipped
    if device != "cuda":
        raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")
    import xpnet

    try:
        xpnet.get_backend("cupy")
    except xpnet.BackendUnavailableError as exc:
        skipped.append(f"cupy: {exc}")
    else:
        impls.append(Impl("ceiling", "cupy", "cuda", "cupy",
                          partial(run_ceiling, library="cupy", device="cuda")))
        impls.append(Impl("xpnet", "cupy", "cuda", "cupy", partial(run_xpnet, backend="cupy")))
        impls.append(Impl("plain", "cupy", "cuda", "cupy", partial(run_plain, library="cupy")))
    why = _importable("torch")
    if why is None:
        import torch

        if torch.cuda.is_available():
            impls.append(Impl("ceiling", "torch", "cuda", "torch:cuda",
                              partial(run_ceiling, library="torch", device="cuda")))
            impls.append(Impl("xpnet", "torch", "cuda", "torch:cuda",
                              partial(run_xpnet, backend="torch:cuda")))
            impls.append(Impl("torch", "torch", "cuda", "torch:cuda", partial(run_torch, device="cuda")))
        else:
            skipped.append("torch (cuda): torch.cuda.is_available() is False (a CPU-only build, or no GPU)")
    else:
        skipped.append(f"torch (cuda): {why}")
    return impls, skipped
