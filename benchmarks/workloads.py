"""The benchmark workloads: data, network shapes, step counts and FLOP counts.

Every workload is float32, uses fixed seeds and the same initial weights for
every implementation that lets us set them (drawn by :func:`xpnet.init.init_params`
exactly as ``xpnet.MLP(..., seed=0)`` draws them), and feeds every
implementation the same batches in the same order (no shuffling, so that the
timings compare the same arithmetic and the final losses can be compared too).

=========  ===================  ==================  ======  =======  ==============
name       data                 network             batch   lr       steps
=========  ===================  ==================  ======  =======  ==============
tiny       flower, 400 x 2      2-4-1 tanh/sigmoid  full    1.2      10,000
mnist-mlp  teacher, 60,000x784  784-512-512-10      128     0.01     one epoch (469)
           (10 classes)         ReLU/softmax
wide       the same             784-2048-2048-10    1024    0.01     one epoch (59)
sweep      the same             784-512-512-10      32 ...  0.01     one epoch each
                                                    8192
=========  ===================  ==================  ======  =======  ==============

The "teacher" data (:func:`xpnet.datasets.teacher`) has MNIST's shape: standard
normal inputs labelled by a random one-hidden-layer tanh network, so a student
MLP can learn it and the loss must fall within one epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

__all__ = [
    "SWEEP_BATCHES",
    "WORKLOAD_GROUPS",
    "Workload",
    "eval_loss",
    "initial_params",
    "load_data",
    "make_workloads",
    "matmul_shapes",
]

#: Batch sizes of the full sweep.
SWEEP_BATCHES = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
#: Workload groups accepted by ``--workloads``.
WORKLOAD_GROUPS = ("tiny", "mnist-mlp", "wide", "sweep")
#: Rows of the evaluation subset on which ``loss_first``/``loss_last`` are computed.
EVAL_ROWS = 4096


@dataclass(frozen=True)
class Workload:
    """One timed training job.

    Attributes
    ----------
    name : str
        ``"tiny"``, ``"mnist-mlp"``, ``"wide"`` or ``"sweep"``.
    data : str
        ``"flower"`` or ``"teacher"``.
    n_rows : int
        Training rows.
    sizes : tuple of int
        Layer widths, input first.
    hidden, output : str
        Activation names (xpnet's spelling).
    init : str
        xpnet initializer (``"normal"`` with std 0.01 for the classic tiny net, ``"he"`` otherwise).
    lr : float
        SGD learning rate (no momentum, no weight decay).
    batch : int
        Rows per step (``n_rows`` for full batch).
    epochs : int
        Passes over the data (10,000 full-batch steps for tiny).
    repeats : int
        Timed repeats (the median is reported); a warm-up run comes first.
    warmup_steps : int
        Steps of the (shorter) warm-up run.
    """

    name: str
    data: str
    n_rows: int
    sizes: tuple[int, ...]
    hidden: str
    output: str
    init: str
    lr: float
    batch: int
    epochs: int
    repeats: int
    warmup_steps: int
    notes: str = field(default="", compare=False)

    @property
    def full_batch(self) -> bool:
        return self.batch >= self.n_rows

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.n_rows / self.batch)

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    def batch_sizes(self) -> list[int]:
        """Rows of every step of one epoch (the last batch may be shorter)."""
        return [min(self.batch, self.n_rows - s) for s in range(0, self.n_rows, self.batch)]

    def flops(self) -> int:
        """Matmul FLOPs of the whole run: ``2*m*k*n`` per product, as in :func:`matmul_shapes`."""
        per_epoch = sum(2 * m * k * n for b in self.batch_sizes()
                        for (_, m, k, n) in matmul_shapes(self.sizes, b))
        return self.epochs * per_epoch

    def warmup(self) -> Workload:
        """The warm-up run: the same code path, ``warmup_steps`` steps, one repeat."""
        if self.full_batch:
            return replace(self, epochs=max(1, min(self.epochs, self.warmup_steps)), repeats=1)
        rows = min(self.n_rows, self.warmup_steps * self.batch)
        return replace(self, n_rows=rows, epochs=1, repeats=1)

    def label(self) -> str:
        return f"{self.name} b={self.batch}" if self.name == "sweep" else self.name


def matmul_shapes(sizes, m: int) -> list[tuple[str, int, int, int]]:
    """The matrix products of one training step on a batch of ``m`` rows.

    Returns ``(kind, M, K, N)`` for an ``(M, K) @ (K, N)`` product, per layer
    ``l`` with ``W`` of shape ``(n_in, n_out)``:

    * ``"fwd"``: ``Z = A_prev @ W``, ``(m, n_in) @ (n_in, n_out)``, every layer;
    * ``"dW"``: ``dW = A_prev.T @ dZ``, ``(n_in, m) @ (m, n_out)``, every layer;
    * ``"dA"``: ``dA_prev = dZ @ W.T``, ``(m, n_out) @ (n_out, n_in)``, every
      layer but the first (nobody needs the gradient of the input).
    """
    out = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        out.append(("fwd", m, n_in, n_out))
        out.append(("dW", n_in, m, n_out))
        if l > 0:
            out.append(("dA", m, n_out, n_in))
    return out


def make_workloads(groups, quick: bool = False, repeats: int | None = None,
                   sweep_batches=None) -> list[Workload]:
    """The workloads of ``groups`` (names from :data:`WORKLOAD_GROUPS`), in that order.

    ``quick`` shrinks every workload to a smoke test that runs in seconds:
    2,000 rows (wide: 2,048), 50 tiny steps, a sweep of two batch sizes.
    ``repeats`` overrides the default of 3 timed repeats (1 with ``quick``).
    """
    rows = 2_000 if quick else 60_000
    out: list[Workload] = []
    for g in groups:
        if g == "tiny":
            out.append(Workload("tiny", "flower", 400, (2, 4, 1), "tanh", "sigmoid", "normal", 1.2,
                                batch=400, epochs=50 if quick else 10_000,
                                repeats=repeats or 3, warmup_steps=20 if quick else 500))
        elif g == "mnist-mlp":
            out.append(Workload("mnist-mlp", "teacher", rows, (784, 512, 512, 10), "relu", "softmax", "he",
                                0.01, batch=128, epochs=1, repeats=repeats or 3,
                                warmup_steps=5 if quick else 20))
        elif g == "wide":
            out.append(Workload("wide", "teacher", 2_048 if quick else rows, (784, 2048, 2048, 10), "relu",
                                "softmax", "he", 0.01, batch=1024, epochs=1,
                                repeats=repeats or 3, warmup_steps=1 if quick else 3))
        elif g == "sweep":
            batches = sweep_batches or ((128, 1024) if quick else SWEEP_BATCHES)
            for b in batches:
                out.append(Workload("sweep", "teacher", rows, (784, 512, 512, 10), "relu", "softmax", "he",
                                    0.01, batch=b, epochs=1, repeats=repeats or 3,
                                    warmup_steps=2 if quick else max(2, min(20, 4096 // b))))
        else:
            raise ValueError(f"unknown workload {g!r}; expected one of {', '.join(WORKLOAD_GROUPS)}")
    if quick:
        out = [replace(w, repeats=repeats or 1) for w in out]
    return out


@lru_cache(maxsize=4)
def load_data(data: str, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: float32 C-contiguous features and int64 labels, generated with seed 0."""
    from xpnet import datasets

    if data == "flower":
        X, y = datasets.flower(n_rows, seed=0)
    elif data == "teacher":
        X, y = datasets.teacher(n_rows, n_features=784, n_classes=10, hidden=64, seed=0)
    else:
        raise ValueError(f"unknown data {data!r}")
    return np.ascontiguousarray(X, dtype=np.float32), np.ascontiguousarray(y, dtype=np.int64)


def initial_params(w: Workload) -> list[tuple[np.ndarray, np.ndarray]]:
    """Host float32 ``[(W (n_in, n_out), b (n_out,)), ...]``, the same as ``xpnet.MLP(..., seed=0)``'s."""
    from xpnet.backend import host_rng
    from xpnet.init import init_params

    return [(W.astype(np.float32), b.astype(np.float32))
            for W, b in init_params(list(w.sizes), w.init, 0.01, host_rng(0))]


def eval_loss(w: Workload, params, X: np.ndarray, y: np.ndarray) -> float:
    """Mean training loss of ``params`` (host arrays, ``W`` as ``(n_in, n_out)``) on the first
    :data:`EVAL_ROWS` rows, in float64, with a stable log-sum-exp (independent of every
    implementation under test)."""
    A = X[:EVAL_ROWS].astype(np.float64)
    t = y[:EVAL_ROWS]
    for l, (W, b) in enumerate(params):
        Z = A @ np.asarray(W, np.float64) + np.asarray(b, np.float64).reshape(-1)
        if l < len(params) - 1:
            A = np.tanh(Z) if w.hidden == "tanh" else np.maximum(Z, 0.0)
    if w.output == "sigmoid":
        z = Z[:, 0]
        return float(np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))))
    zmax = Z.max(axis=1, keepdims=True)
    lse = zmax[:, 0] + np.log(np.exp(Z - zmax).sum(axis=1))
    return float(np.mean(lse - Z[np.arange(len(t)), t]))
