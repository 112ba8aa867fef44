"""Loss functions, written once against the array API.

The cross-entropies are the mean over the rows (samples) of a per-row loss
summed over the output units; the regression losses (``mse``, ``huber``,
``absolute_error``) are means over rows and output units alike, as PyTorch's
``MSELoss``, ``HuberLoss`` and ``L1Loss`` and scikit-learn's squared error
are, so their size does not grow with the number of outputs. A loss sees the
output layer's pre-activation ``z``, its activation ``a`` and the target
matrix ``t`` (same shape as ``a``; integer labels are turned into one-hot rows
before they get here) and gives

* ``value(z, a, t, w=None)``: the mean loss, a 0-D array (it stays on the device),
* ``grad(z, a, t, w=None)``: ``dL/da``, for the general chain rule.

``w`` (optional) is a column ``(n, 1)`` of row weights that sum to 1 (each
row's sample weight over the batch's total): the loss is then the weighted
mean over rows, ``sum(w_i * loss_i)``, and its gradient is scaled to match,
as PyTorch's weighted losses and scikit-learn's ``sample_weight`` do. Without
``w`` every row weighs ``1 / n``.

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
from .validation import check_choice

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


def _mean(xp, per_entry, w, over_units: bool):
    """The mean over rows (weighted by the normalized column ``w`` when given) of ``per_entry`` summed
    over the output units, or averaged over them when ``over_units``."""
    units = per_entry.shape[1] if over_units else 1
    if w is None:
        return xp.sum(per_entry) / (per_entry.shape[0] * units)
    total = xp.sum(per_entry * w)
    return total / units if over_units else total


def _per_row(g, w, over_units: bool):
    """``g`` (a gradient of the per-entry losses) divided as :func:`_mean` divides: ``dL/da`` of the mean."""
    units = g.shape[1] if over_units else 1
    if w is None:
        return g / (g.shape[0] * units)
    return g * w / units if over_units else g * w


# -- binary cross-entropy (sigmoid outputs) ----------------------------------
def binary_cross_entropy(z, a, t, w=None):
    """Mean binary cross-entropy of sigmoid outputs, computed from the logits ``z``.

    Uses ``max(z, 0) - z t + log1p(exp(-|z|))``, which equals
    ``-t log(a) - (1 - t) log(1 - a)`` but stays finite for any logit.
    """
    xp = array_namespace(z)
    per_unit = xp.maximum(z, 0.0) - z * t + xp.log1p(xp.exp(-xp.abs(z)))
    return xp.sum(per_unit) / z.shape[0] if w is None else _mean(xp, per_unit, w, False)


def _bce_grad(z, a, t, w=None):
    if w is None:
        return (a - t) / (a * (1.0 - a) * a.shape[0])
    return _per_row((a - t) / (a * (1.0 - a)), w, False)


# -- softmax cross-entropy ---------------------------------------------------
def cross_entropy(z, a, t, w=None):
    """Mean softmax cross-entropy ``-sum(t * log_softmax(z))``, via log-sum-exp of ``z``."""
    xp = array_namespace(z)
    shifted = z - xp.max(z, axis=-1, keepdims=True)
    log_probs = shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))
    return -(xp.sum(t * log_probs) / z.shape[0] if w is None else _mean(xp, t * log_probs, w, False))


def _ce_grad(z, a, t, w=None):
    if w is None:
        return -t / (a * a.shape[0])
    return _per_row(-t / a, w, False)


# -- squared error -------------------------------------------------------------
def mse(z, a, t, w=None):
    """Half the mean (over rows and outputs) squared error, ``sum((a - t)**2) / (2 n k)``."""
    xp = array_namespace(a)
    d = a - t
    return _mean(xp, d * d, w, True) / 2


def _mse_grad(z, a, t, w=None):
    return _per_row(a - t, w, True)


# -- huber ---------------------------------------------------------------------
def huber(z, a, t, w=None):
    """Mean Huber loss with ``delta=1`` (PyTorch's ``HuberLoss``), over rows and outputs.

    Per entry ``m * (|d| - m / 2)`` with ``m = min(|d|, delta)``: ``d**2 / 2``
    up to ``delta``, ``delta * (|d| - delta / 2)`` beyond, without a branch.
    """
    xp = array_namespace(a)
    d = xp.abs(a - t)
    m = xp.minimum(d, HUBER_DELTA)
    return _mean(xp, m * (d - 0.5 * m), w, True)


def _huber_grad(z, a, t, w=None):
    xp = array_namespace(a)
    return _per_row(xp.maximum(xp.minimum(a - t, HUBER_DELTA), -HUBER_DELTA), w, True)


# -- absolute error --------------------------------------------------------------
def absolute_error(z, a, t, w=None):
    """Mean absolute error ``sum(|a - t|) / (n k)`` (PyTorch's ``L1Loss``)."""
    xp = array_namespace(a)
    return _mean(xp, xp.abs(a - t), w, True)


def _absolute_error_grad(z, a, t, w=None):
    # sign(0) = 0, PyTorch's subgradient at the kink
    return _per_row(array_namespace(a).sign(a - t), w, True)


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
        loss = LOSSES[check_choice("loss", spec, LOSSES, aliases=_ALIASES)]
    else:
        raise InvalidTypeError(f"loss must be a loss name or None; got {type(spec).__name__}")
    if loss.outputs is not None and output not in loss.outputs:
        raise InvalidArgumentError(
            f"loss {loss.name!r} needs output activation {' or '.join(map(repr, loss.outputs))}, "
            f"but the model's output is {output!r}; use output={loss.outputs[0]!r} or loss='mse'"
        )
    return loss
