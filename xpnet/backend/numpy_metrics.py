"""Loss and hit counts of training batches on NumPy, for a stack of batches at once.

The NumPy training step (:mod:`.numpy_step`) leaves each batch's output
logits ``Z`` and activations ``A``. These functions turn a stack of them,
shape ``(slots, rows, units)``, into each slot's mean loss and its count of
correct predictions: the numbers :mod:`xpnet.losses` and the training loop
give for one batch, elementwise operation for elementwise operation and with
the same reductions, so they are equal bit for bit (the tests check it).

A minibatch step calls them with a stack of one; a full-batch run keeps the
logits of up to a few hundred epochs and calls them once for all of those
(each NumPy call costs about a microsecond at the size of a small network,
more than the arithmetic of such an epoch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["KINDS", "slot_metrics", "truth_of"]

#: The matched output/loss pairs the NumPy step computes: (output activation, loss) -> kind.
KINDS = {("sigmoid", "binary_cross_entropy"): "bce", ("softmax", "cross_entropy"): "ce",
         ("identity", "mse"): "mse"}
_PER_SLOT = (1, 2)  # the axes of one slot: rows and units


def truth_of(kind: str, T: np.ndarray) -> Any:
    """What a prediction is compared with: ``T > 0.5`` (sigmoid units), the label of each row (softmax,
    in the smallest integer type that holds it), None (regression)."""
    if kind == "bce":
        return T > 0.5
    if kind == "ce":
        return np.argmax(T, axis=1).astype(np.min_scalar_type(T.shape[1] - 1))
    return None


def slot_metrics(kind: str, Z: np.ndarray, A: np.ndarray, T: np.ndarray, truth: Any,
                 softmax: tuple | None = None) -> tuple[Any, Any]:
    """``(losses, hits)`` of each slot of ``Z``/``A`` (``(slots, rows, units)``) against targets ``T``
    (``(rows, units)``, the same for every slot): mean losses of ``Z``'s dtype, and counts of correct
    predictions in that dtype (None for regression). ``softmax``: ``(Z - max Z, sum(exp(Z - max Z)))``
    as the softmax output computed them, which the cross-entropy then does not compute again."""
    rows = Z.shape[1]
    if kind == "bce":  # losses.binary_cross_entropy: max(z, 0) - z t + log1p(exp(-|z|)); loop._n_correct
        per_unit = np.maximum(Z, 0.0)
        per_unit -= Z * T
        tail = np.abs(Z)
        for f in (np.negative, np.exp, np.log1p):
            f(tail, out=tail)
        per_unit += tail
        return np.add.reduce(per_unit, axis=_PER_SLOT) / rows, _hits(A > 0.5, truth, _PER_SLOT, Z.dtype)
    if kind == "ce":  # losses.cross_entropy: -sum(t * (shifted - log(sum(exp(shifted))))), shifted = z - max z
        if softmax is None:
            shifted = Z - np.maximum.reduce(Z, axis=-1, keepdims=True)
            sums = np.add.reduce(np.exp(shifted), axis=-1, keepdims=True)
        else:
            shifted, sums = softmax
        log_probs = shifted - np.log(sums)
        log_probs *= T
        return -(np.add.reduce(log_probs, axis=_PER_SLOT) / rows), _hits(np.argmax(A, axis=-1), truth, 1, Z.dtype)
    d = A - T  # losses.mse: half the mean over rows and units
    d *= d
    return np.add.reduce(d, axis=_PER_SLOT) / (rows * Z.shape[2]) / 2, None


def _hits(predicted: np.ndarray, truth: Any, axes: Any, dtype: Any) -> np.ndarray:
    return np.count_nonzero(predicted == truth, axis=axes).astype(dtype)
