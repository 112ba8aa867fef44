"""Loss functions, written once against the array API.

The cross-entropies are the mean over the rows (samples) of a per-row loss
summed over the output units; the regression losses (``mse``, ``huber``,
``absolute_error``) are means over rows and output units alike, as PyTorch's
``MSELoss``, ``HuberLoss`` and ``L1Loss`` and scikit-learn's squared error
are, so their size does not grow with the number of outputs. A loss sees the
output layer's pre-activation ``z``, its activation ``a`` and the target
matrix ``t`` (same shape as ``a``; integer labels are turned into one-hot rows
before they get here) and gives

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

``mse`` is half the mean squared error, ``sum((a - t)**2) / (2 n k)`` for
``n`` rows of ``k`` outputs (half of PyTorch's ``MSELoss``): the classic
convention (and scikit-learn's) that makes its gradient ``(a - t) / (n k)``.
With one output that is ``sum((a - t)**2) / (2 n)``, the classic XOR
numbers. It pairs with any output activation through the chain rule (sigmoid
+ squared error is the classic XOR program).

``huber`` (PyTorch's ``HuberLoss`` with ``delta=1``: ``d**2 / 2`` for
``|d| <= 1``, ``|d| - 1/2`` beyond, for ``d = a - t``) equals ``mse`` for small
errors and grows linearly for outliers; ``absolute_error`` is the mean of
``|a - t|`` (``L1Loss``). Both work with any output through the chain rule
(identity is the natural one); they have no matched shortcut. The
cross-entropies need their own output.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple


from .backend import array_namespace
from .errors import InvalidArgumentError, InvalidTypeError

__all__ = [
    "Loss",
    "LOSSES",
    "get_loss",
    "matched_loss",
    "binary_cross_entropy",
    "cross_entropy",
    "mse",
    "huber",
    "absolute_error",
    "HUBER_DELTA",
]

#: Where Huber's loss turns from quadratic to linear (PyTorch's default ``delta``).
HUBER_DELTA = 1.0


class Loss(NamedTuple):
    """A loss: ``value(z, a, t)``, ``grad(z, a, t) = dL/da``, and its matched output."""

    name: str
    value: Callable[[Any, Any, Any], Any]
    grad: Callable[[Any, Any, Any], Any]
    #: The output activation with which ``dL/dz`` is ``(a - t)`` over the loss's
    #: divisor (None: no such shortcut, always the chain rule).
    matched_output: str | None
    #: Output activations this loss is defined for (None: any).
    outputs: tuple[str, ...] | None
    #: True for a mean over output units as well as rows (divisor ``n k``), False
    #: for a per-row sum over units averaged over rows (divisor ``n``).
    mean_over_units: bool = False


def _n_rows(a) -> int:
    return a.shape[0]


def _n_entries(a) -> int:
    """Rows times output units: the divisor of the losses that are means over both."""
    return a.shape[0] * a.shape[1]


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
    """Half the mean (over rows and outputs) squared error, ``sum((a - t)**2) / (2 n k)``."""
    xp = array_namespace(a)
    d = a - t
    return xp.sum(d * d) / (2 * _n_entries(a))


def _mse_grad(z, a, t):
    return (a - t) / _n_entries(a)


# -- huber ---------------------------------------------------------------------
def huber(z, a, t):
    """Mean Huber loss with ``delta=1`` (PyTorch's ``HuberLoss``), over rows and outputs.

    Per entry ``m * (|d| - m / 2)`` with ``m = min(|d|, delta)``: ``d**2 / 2``
    up to ``delta``, ``delta * (|d| - delta / 2)`` beyond, without a branch.
    """
    xp = array_namespace(a)
    d = xp.abs(a - t)
    m = xp.minimum(d, HUBER_DELTA)
    return xp.sum(m * (d - 0.5 * m)) / _n_entries(a)


def _huber_grad(z, a, t):
    xp = array_namespace(a)
    return xp.maximum(xp.minimum(a - t, HUBER_DELTA), -HUBER_DELTA) / _n_entries(a)


# -- absolute error --------------------------------------------------------------
def absolute_error(z, a, t):
    """Mean absolute error ``sum(|a - t|) / (n k)`` (PyTorch's ``L1Loss``)."""
    xp = array_namespace(a)
    return xp.sum(xp.abs(a - t)) / _n_entries(a)


def _absolute_error_grad(z, a, t):
    # sign(0) = 0, PyTorch's subgradient at the kink
    return array_namespace(a).sign(a - t) / _n_entries(a)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("binary_cross_entropy", binary_cross_entropy, _bce_grad, "sigmoid", ("sigmoid",)),
        Loss("cross_entropy", cross_entropy, _ce_grad, "softmax", ("softmax",)),
        Loss("mse", mse, _mse_grad, "identity", None, mean_over_units=True),
        Loss("huber", huber, _huber_grad, None, None, mean_over_units=True),
        Loss("absolute_error", absolute_error, _absolute_error_grad, None, None, mean_over_units=True),
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
    "huber_loss": "huber",
    "l1": "absolute_error",
    "l1_loss": "absolute_error",
    "mae": "absolute_error",
    "mean_absolute_error": "absolute_error",
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
        key = spec.lower().replace("-", "_")
        key = _ALIASES.get(key, key)
        if key not in LOSSES:
            raise InvalidArgumentError(
                f"unknown loss {spec!r}; expected one of {', '.join(LOSSES)} or None "
                "(the loss matched to the output activation)"
            )
        loss = LOSSES[key]
    else:
        raise InvalidTypeError(f"loss must be a loss name or None; got {type(spec).__name__}")
    if loss.outputs is not None and output not in loss.outputs:
        raise InvalidArgumentError(
            f"loss {loss.name!r} needs output activation {' or '.join(map(repr, loss.outputs))}, "
            f"but the model's output is {output!r}; use output={loss.outputs[0]!r} or loss='mse'"
        )
    return loss
