"""One SGD step on NumPy as a list of calls with their arrays bound: the step plan.

:func:`xpnet.loop.train_step` allocates every intermediate array and finds
its way through a few layers of Python per operation; at the size of a small
network that costs more than the arithmetic. Here the same operations are
bound once per run, each to the buffer it writes (``out=``), and a step is
``for op in ops: op()``:

* forward: ``Z = A_prev @ W`` into its buffer, ``Z += b``, the activation in place
  (a wide ReLU layer as ``max(Z, -b) + b``: see :func:`_bias_relu`; a narrow
  one against a buffer of zeros, a delta buffer cleared for it: against the
  scalar 0 NumPy's ``maximum`` takes two to four times as long);
* backward: the output delta ``(A - T) / n``, then per layer ``dA_prev = dZ @ W.T``
  into one of two alternating buffers, ``dW = A_prev.T @ dZ``, ``db`` as the
  fast namespace sums columns (:func:`column_sums_by_product`), and the
  activation's derivative in place (from the hidden output, no longer needed
  after ``dW``; ReLU's mask as bytes in the delta buffer that is free then);
* update: plain SGD, ``p -= lr * g``. Weight matrices below :data:`OWN_MIN`
  entries and every bias share one flat buffer (and their gradients another),
  so their update is two NumPy calls for the whole network. A weight matrix of
  :data:`FUSE_MIN` entries or more is updated inside its gradient product,
  ``W += -lr * A_prev.T @ dZ`` (:mod:`.blas`), after ``dA_prev`` has been
  taken from the old ``W``; one in between keeps its own array and gradient.

Every operation is the generic path's, with the same operands in the same
order (a small product through ``ndarray.dot``, which calls the BLAS routine
``@`` calls with less overhead: see :func:`_product`): the results
are equal bit for bit, except for the fused weight updates (see :mod:`.blas`).
A step whose batch lies in fixed arrays (the whole data set, or the buffers
a shuffled batch is gathered into) has them bound like every other array; a
step over the rows of ``X`` in order reads its batch through a
:class:`Batch` the plan points at each slice (``fixed=False``).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable

import numpy as np

from .numpy_namespace import _ones, column_sums_by_product

__all__ = ["FUSE_MIN", "HIDDEN", "OWN_MIN", "Batch", "Rate", "Step", "StepBuffers"]

Op = Callable[[], Any]
#: Weight matrices with at least this many entries have their SGD update fused into the gradient product
#: (at 16,384 the fused product takes as long as the product and the update apart, without the gradient).
FUSE_MIN = 1 << 14
#: Weight matrices with at least this many entries keep their own array (not copied into the flat buffer).
OWN_MIN = 1 << 12
#: The hidden activations the step computes (in place, from their output alone).
HIDDEN = ("identity", "relu", "leaky_relu", "tanh", "sigmoid")
_LEAKY_SLOPE = 0.01  # activations.LEAKY_RELU_SLOPE


class Batch:
    """The rows a step trains on: features ``X`` and targets ``T`` (views of the data or gathered copies),
    and the ``truth`` its correct predictions are counted against (see :func:`.numpy_metrics.truth_of`).
    ``fixed``: the arrays stay the same from step to step (the step binds them)."""

    __slots__ = ("X", "T", "truth", "fixed")

    def __init__(self, X: Any = None, T: Any = None, truth: Any = None, fixed: bool = False) -> None:
        self.X, self.T, self.truth, self.fixed = X, T, truth, fixed


class Rate:
    """The learning rate the update operations read, set at the start of each epoch: ``value`` as a
    0-D array of the parameters' dtype (what the generic ``lr * g`` multiplies by), ``alpha = -lr``
    for the fused products."""

    __slots__ = ("value", "alpha")

    def set(self, lr: float, dtype: Any) -> None:
        self.value, self.alpha = np.asarray(lr, dtype), -float(lr)


class StepBuffers:
    """The arrays a step writes, for batches of up to ``rows`` rows (a shorter batch uses their first rows)."""

    def __init__(self, sizes: list[int], rows: int, dtype: Any) -> None:
        hidden = max(sizes[1:-1], default=0)
        k = sizes[-1]
        self.layer_out = [np.empty((rows, width), dtype) for width in sizes[1:]]  # Z, then A in place
        self.A = np.empty((rows, k), dtype)  # the output activation
        self.delta = np.empty((rows, k), dtype)
        self.shifted = np.empty((rows, k), dtype)  # softmax: Z - max(Z)
        self.row_max, self.row_sum = np.empty((rows, 1), dtype), np.empty((rows, 1), dtype)
        # dA_prev of the backward pass, alternately; free during the forward pass, where the first is
        # leaky ReLU's scratch and the second ReLU's zeros
        self.dA = [np.empty(rows * hidden, dtype), np.empty(rows * hidden, dtype)]

    def flat(self, buffer: np.ndarray, rows: int, width: int) -> np.ndarray:
        """A C-ordered ``(rows, width)`` view of the start of a flat buffer."""
        return buffer[:rows * width].reshape(rows, width)


class Step:
    """The operations of one SGD step on batches of ``rows`` rows; call it to run them."""

    def __init__(self, net: Any, params: list, grads: list, buffers: StepBuffers, rows: int, batch: Batch,
                 rate: Rate, gemm: Any, updates: list, outputs: tuple | None = None) -> None:
        """``outputs``: arrays for the output logits and activations (default: the buffers')."""
        self.net, self.params, self.grads, self.buf = net, params, grads, buffers
        self.rows, self.batch, self.rate, self.gemm = rows, batch, rate, gemm
        self.c = lambda value: np.asarray(value, net.dtype)  # NumPy calls with a 0-D array of the dtype
        # instead of a Python number: the same float operation, without its conversion at every call
        self.Z = [out[:rows] for out in buffers.layer_out]  # hidden outputs, then the output logits
        Z, A = (self.Z[-1], buffers.A[:rows]) if outputs is None else outputs
        self.Z[-1], self.A = Z, Z if net.output.name == "identity" else A
        self.ops: list[Op] = [*self._forward(), *self._output(), *self._backward(), *self._update(updates)]
        # what the softmax output leaves for the cross-entropy (see numpy_metrics.slot_metrics)
        self.softmax = (buffers.shifted[None, :rows], buffers.row_sum[None, :rows]) if net.output.name == "softmax" \
            else None

    def __call__(self) -> None:
        for op in self.ops:
            op()

    # -- forward ----------------------------------------------------------------------------------
    def _forward(self) -> list[Op]:
        ops: list[Op] = []
        names = [a.name for a in self.net.hidden] + [None]
        if any(name == "relu" and Z.shape[1] <= _NARROW for name, Z in zip(names, self.Z)):
            ops.append(partial(self.buf.dA[1][:self.rows * max(self.net.sizes[1:-1])].fill, 0))
        for l, ((W, b), name) in enumerate(zip(self.params, names)):
            Z = self.Z[l]
            ops.append(self._on_input(lambda X, W=W, Z=Z: _product(X, W, Z)) if l == 0
                       else _product(self.Z[l - 1], W, Z))
            if name == "relu" and Z.shape[1] > _NARROW:
                ops += _bias_relu(Z, b)
                continue
            ops += _bias_add(Z, b)
            if name is not None:
                ops += self._hidden_forward(name, Z)
        return ops

    def _on_input(self, bind: Callable[[np.ndarray], Op]) -> Op:
        """The operation ``bind(X)`` makes for the batch's features ``X``: made once for a fixed batch,
        at every call for rows in order."""
        batch = self.batch
        return bind(batch.X) if batch.fixed else lambda: bind(batch.X)()

    def _hidden_forward(self, name: str, Z: np.ndarray) -> list[Op]:
        """``A = f(Z)`` in place, as :mod:`xpnet.activations` computes it."""
        if name == "relu":
            return [partial(np.maximum, Z, self.buf.flat(self.buf.dA[1], *Z.shape), out=Z)]
        if name == "leaky_relu":  # max(z, 0.01 z)
            scaled = self.buf.flat(self.buf.dA[0], *Z.shape)  # the deltas are free during the forward pass
            return [partial(np.multiply, self.c(_LEAKY_SLOPE), Z, scaled), partial(np.maximum, Z, scaled, out=Z)]
        if name == "tanh":
            return [partial(np.tanh, Z, Z)]
        if name == "sigmoid":
            return self._sigmoid(Z, Z)
        return []  # identity

    def _output(self) -> list[Op]:
        """The output activation of the logits ``Z`` into ``A`` (nothing for identity)."""
        name, Z, A = self.net.output.name, self.Z[-1], self.A
        if name == "sigmoid":
            return self._sigmoid(Z, A)
        if name == "softmax":  # exp(z - max z) / sum(exp(z - max z)), rows along the last axis
            b, n = self.buf, self.rows
            row_max, row_sum, shifted = b.row_max[:n], b.row_sum[:n], b.shifted[:n]
            return [partial(np.maximum.reduce, Z, -1, None, row_max, True), partial(np.subtract, Z, row_max, shifted),
                    partial(np.exp, shifted, A), partial(np.add.reduce, A, -1, None, row_sum, True),
                    partial(np.divide, A, row_sum, A)]
        return []

    # -- backward ---------------------------------------------------------------------------------
    def _backward(self) -> list[Op]:
        """The output delta, then each layer's gradients (or fused update) and the delta below it."""
        units = self.net.sizes[-1] if self.net.loss_fn.mean_over_units else 1
        delta, batch, A = self.buf.delta[:self.rows], self.batch, self.A
        ops: list[Op] = [partial(np.subtract, A, batch.T, delta) if batch.fixed
                         else lambda: np.subtract(A, batch.T, delta),
                         partial(np.divide, delta, self.c(self.rows * units), delta)]
        dZ = delta
        for l in range(len(self.params) - 1, -1, -1):
            dA = self.buf.flat(self.buf.dA[l % 2], self.rows, self.net.sizes[l]) if l > 0 else None
            if dA is not None:  # from W before its update
                ops.append(_product(dZ, self.params[l][0].T, dA))
            ops += self._weight_gradient(l, dZ)
            ops.append(_column_sums(dZ, self.grads[l][1]))
            if dA is not None:
                # the other delta buffer is free now (its dZ has been used): the mask's bytes go there
                free = self.buf.dA[(l + 1) % 2].view(np.bool_)[:dA.size].reshape(dA.shape)
                ops += self._hidden_backward(self.net.hidden[l - 1].name, dA, self.Z[l - 1], free)
                dZ = dA
        return ops

    def _weight_gradient(self, l: int, dZ: np.ndarray) -> list[Op]:
        """``dW = A_prev.T @ dZ`` into the gradient buffer, or ``W += -lr * A_prev.T @ dZ`` when fused."""
        W, dW = self.params[l][0], self.grads[l][0]
        if dW is not None:
            if l == 0:
                return [self._on_input(lambda X: _product(X.T, dZ, dW))]
            return [_product(self.Z[l - 1].T, dZ, dW)]
        at_b, rate = self.gemm.at_b, self.rate
        if l == 0:
            return [self._on_input(lambda X: lambda: at_b(rate.alpha, X, dZ, W))]
        A_prev = self.Z[l - 1]
        return [lambda: at_b(rate.alpha, A_prev, dZ, W)]

    def _hidden_backward(self, name: str, dA: np.ndarray, A: np.ndarray, mask: np.ndarray) -> list[Op]:
        """``dZ = dA * f'(z)`` in place in ``dA``, from the activation's output ``A`` (overwritten), as
        :mod:`xpnet.activations` computes it; ``mask``: free bytes for ReLU's mask."""
        zero, one = self.c(0.0), self.c(1.0)
        if name == "relu":  # da * (a > 0); comparing into bytes writes a quarter of what floats would
            return [partial(np.greater, A, zero, mask), partial(np.multiply, dA, mask, dA)]
        if name == "leaky_relu":  # da * ((a > 0) * (1 - 0.01) + 0.01)
            return [partial(np.greater, A, zero, A), partial(np.multiply, A, self.c(1.0 - _LEAKY_SLOPE), A),
                    partial(np.add, A, self.c(_LEAKY_SLOPE), A), partial(np.multiply, dA, A, dA)]
        if name == "tanh":  # da * (1 - a * a)
            return [partial(np.multiply, A, A, A), partial(np.subtract, one, A, A), partial(np.multiply, dA, A, dA)]
        if name == "sigmoid":  # da * a * (1 - a)
            return [partial(np.multiply, dA, A, dA), partial(np.subtract, one, A, A), partial(np.multiply, dA, A, dA)]
        return []  # identity

    # -- update -----------------------------------------------------------------------------------
    def _update(self, updates: list) -> list[Op]:
        """``p -= lr * g`` for each ``(p, g)`` of ``updates``: the flat buffers of the small parameters and
        the large weights that are not fused (the fused ones were updated in the backward pass)."""
        rate = self.rate
        return [op for p, g in updates
                for op in (lambda g=g: np.multiply(g, rate.value, g), partial(np.subtract, p, g, p))]

    def _sigmoid(self, Z: np.ndarray, out: np.ndarray) -> list[Op]:
        """``1 / (1 + exp(-max(z, floor)))`` (:func:`xpnet.activations.sigmoid`) into ``out``."""
        floor = self.c(1.0 - math.log(float(np.finfo(Z.dtype).max)))  # activations._exp_floor
        one = self.c(1.0)
        return [partial(np.maximum, Z, floor, out=out), partial(np.negative, out, out), partial(np.exp, out, out),
                partial(np.add, out, one, out), partial(np.divide, one, out, out)]


def _product(A: np.ndarray, B: np.ndarray, out: np.ndarray) -> Op:
    """``out = A @ B``: ``np.matmul`` (the generic path's ``@``), or for a small product ``A.dot(B, out)``,
    the same BLAS call with a third of the overhead. ``ndarray.dot`` clears ``out`` before BLAS overwrites
    it: a pass over the output that costs more than the call on large ones (4% of a 4096 x 512 x 512
    product with two BLAS threads)."""
    if out.size >= _DOT_MAX:
        return partial(np.matmul, A, B, out=out)
    return partial(A.dot, B, out)


_DOT_MAX = 1 << 12  # output entries


def _bias_add(Z: np.ndarray, b: np.ndarray) -> list[Op]:
    """``Z += b``, for a narrow layer without NumPy's cost per row of broadcasting ``b``.

    One unit adds ``b`` as a 0-D view. Up to :data:`_NARROW` units, ``Z`` is
    viewed as rows of ``r`` of its rows each and ``b`` repeated ``r`` times
    (refreshed from ``b`` first): the same sums, in long runs.
    """
    rows, width = Z.shape
    if width == 1:
        return [partial(np.add, Z, b.reshape(()), Z)]
    r = _rows_per_run(rows, width)
    if width > _NARROW or r == 1:
        return [partial(np.add, Z, b, Z)]
    repeated, runs = np.empty(r * width, Z.dtype), Z.reshape(rows // r, r * width)
    return [partial(np.copyto, repeated.reshape(r, width), b), partial(np.add, runs, repeated, runs)]


_NARROW = 16  # units


def _bias_relu(Z: np.ndarray, b: np.ndarray) -> list[Op]:
    """``Z = max(Z + b, 0)`` as ``max(Z, -b) + b``, which gives the same numbers: where ``Z > -b`` it is
    ``Z + b`` (a positive difference of floats never rounds to 0), elsewhere ``-b + b = +0`` (the
    generic ``max(Z + b, 0)`` differs only for an infinite ``b``, diverged weights). Two passes over ``Z``
    instead of three and no buffer of zeros to clear; ``-b`` is taken afresh each step."""
    negated = np.empty_like(b)
    return [partial(np.negative, b, negated), partial(np.maximum, Z, negated, out=Z), partial(np.add, Z, b, Z)]


def _rows_per_run(rows: int, width: int) -> int:
    """The largest divisor of ``rows`` that keeps a run of rows within 128 entries (1: none above 1):
    refreshing the repeated bias costs per repetition, the addition per run."""
    return next(r for r in range(max(1, min(rows, 128 // width)), 0, -1) if rows % r == 0)


def _column_sums(dZ: np.ndarray, db: np.ndarray) -> Op:
    """``db = sum(dZ, axis=0)`` as the fast NumPy namespace takes it (a product with ones, or a reduction)."""
    if column_sums_by_product(dZ):
        return partial(_ones(dZ.shape[0], dZ.dtype).dot, dZ, db)
    return partial(np.add.reduce, dZ, 0, None, db)
