"""Loss functions, written once against the array API.

Every loss is the mean over the rows (samples) of a per-row loss summed over
the output units. A loss sees the output layer's pre-activation ``z``, its
activation ``a`` and the target matrix ``t`` (same shape as ``a``; integer
labels are turned into one-hot rows before they get here) and gives

* ``value(z, a, t)``: the mean loss, a 0-D array (it stays on the device),
* ``grad(z, a, t)``: ``dL/da``, for the general chain rule.

Output activation and loss come in matched pairs whose gradient with respect
to ``z`` collapses to ``(a - t) / n``; the model uses that shortcut, which is
both cheaper and numerically stable, whenever the pair matches:

====================  ====================  ===============================
output activation     matched loss          value computed from
====================  ====================  ===============================
sigmoid               binary_cross_entropy  logits, ``log1p(exp(-|z|))``
softmax               cross_entropy         logits, through log-sum-exp
identity              mse                   ``a``
====================  ====================  ===============================

``mse`` is half the squared error, ``sum((a - t)**2) / (2 n)``, the classic
convention (and scikit-learn's) that makes its gradient ``(a - t) / n``. It
pairs with any output activation through the chain rule (sigmoid + squared
error is the classic XOR program). The cross-entropies need their own output.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple


from .backend import array_namespace
from .errors import InvalidArgumentError, InvalidTypeError
from .validation import check_choice

__all__ = [
    "Loss",
    "LOSSES",
    "get_loss",
    "matched_loss",
    "binary_cross_entropy",
    "cross_entropy",
    "mse",
]


class Loss(NamedTuple):
    """A loss: ``value(z, a, t)``, ``grad(z, a, t) = dL/da``, and its matched output."""

    name: str
    value: Callable[[Any, Any, Any], Any]
    grad: Callable[[Any, Any, Any], Any]
    matched_output: str
    #: Output activations this loss is defined for (None: any).
    outputs: tuple[str, ...] | None


def _n_rows(a) -> int:
    return a.shape[0]


# -- binary cross-entropy (sigmoid outputs) ----------------------------------
def binary_cross_entropy(z, a, t):
    """Mean binary cross-entropy of sigmoid outputs, computed from the logits ``z``.

    Uses ``max(z, 0) - z t + log1p(exp(-|z|))``, which equals
    ``-t log(a) - (1 - t) log(1 - a)`` but stays finite for any logit.
    """
    xp = array_namespace(z)
    per_unit = xp.maximum(z, 0.0) - z * t + xp.log1p(xp.exp(-xp.abs(z)))
    return xp.sum(per_unit) / _n_rows(z)


def _bce_grad(z, a, t):
    return (a - t) / (a * (1.0 - a) * _n_rows(a))


# -- softmax cross-entropy ---------------------------------------------------
def cross_entropy(z, a, t):
    """Mean softmax cross-entropy ``-sum(t * log_softmax(z))``, via log-sum-exp of ``z``."""
    xp = array_namespace(z)
    shifted = z - xp.max(z, axis=-1, keepdims=True)
    log_probs = shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))
    return -xp.sum(t * log_probs) / _n_rows(z)


def _ce_grad(z, a, t):
    return -t / (a * _n_rows(a))


# -- squared error -------------------------------------------------------------
def mse(z, a, t):
    """Half the mean (over rows) squared error, ``sum((a - t)**2) / (2 n)``."""
    xp = array_namespace(a)
    d = a - t
    return xp.sum(d * d) / (2 * _n_rows(a))


def _mse_grad(z, a, t):
    return (a - t) / _n_rows(a)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("binary_cross_entropy", binary_cross_entropy, _bce_grad, "sigmoid", ("sigmoid",)),
        Loss("cross_entropy", cross_entropy, _ce_grad, "softmax", ("softmax",)),
        Loss("mse", mse, _mse_grad, "identity", None),
    )
}
_ALIASES = {
    "bce": "binary_cross_entropy",
    "log_loss": "binary_cross_entropy",
    "binary_crossentropy": "binary_cross_entropy",
    "softmax_cross_entropy": "cross_entropy",
    "categorical_cross_entropy": "cross_entropy",
    "categorical_crossentropy": "cross_entropy",
    "ce": "cross_entropy",
    "squared_error": "mse",
    "mean_squared_error": "mse",
}
_MATCHED = {"sigmoid": "binary_cross_entropy", "softmax": "cross_entropy"}


def matched_loss(output: str) -> Loss:
    """The loss that ``loss=None`` picks for an output activation name."""
    return LOSSES[_MATCHED.get(output, "mse")]


def get_loss(spec: str | Loss | None, output: str) -> Loss:
    """Resolve ``loss=`` for a model whose output activation is ``output``.

    Raises
    ------
    InvalidArgumentError
        Unknown name (the valid ones are listed) or a cross-entropy paired with
        an output it is not defined for.
    """
    if spec is None:
        return matched_loss(output)
    if isinstance(spec, Loss):
        loss = spec
    elif isinstance(spec, str):
        loss = LOSSES[check_choice("loss", spec, LOSSES, aliases=_ALIASES)]
    else:
        raise InvalidTypeError(f"loss must be a loss name or None; got {type(spec).__name__}")
    if loss.outputs is not None and output not in loss.outputs:
        raise InvalidArgumentError(
            f"loss {loss.name!r} needs output activation {' or '.join(map(repr, loss.outputs))}, "
            f"but the model's output is {output!r}; use output={loss.outputs[0]!r} or loss='mse'"
        )
    return loss
