"""Activation functions and their derivatives, written once against the array API.

Each activation is a pair of functions:

* ``forward(z) -> a``
* ``backward(da, z, a) -> dz``: the vector-Jacobian product, i.e. the
  gradient with respect to the pre-activation ``z`` given the gradient ``da``
  with respect to the activation ``a`` (both ``z`` and ``a`` are passed so
  each derivative uses whichever is cheaper and more accurate).

For elementwise activations ``backward`` is ``da * f'(z)``; softmax, which is
not elementwise, uses ``a * (da - sum(da * a))`` along each row.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple


from .backend import array_namespace
from .errors import InvalidArgumentError, InvalidTypeError  # noqa: F401 (documented in Raises)
from .validation import check_choice

__all__ = [
    "Activation",
    "ACTIVATIONS",
    "get_activation",
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "softmax",
    "LEAKY_RELU_SLOPE",
]

#: Slope of leaky ReLU for negative inputs (PyTorch's default).
LEAKY_RELU_SLOPE = 0.01


class Activation(NamedTuple):
    """An activation: its name, ``forward(z)`` and ``backward(da, z, a)``.

    ``uses_z=False`` says that ``backward`` reads only ``a`` (it is then called
    with ``z=None`` for hidden layers, whose pre-activations are freed right
    after the forward pass instead of being kept until the backward pass).
    """

    name: str
    forward: Callable[[Any], Any]
    backward: Callable[[Any, Any, Any], Any]
    uses_z: bool = True


# -- identity --------------------------------------------------------------
def identity(z):
    """Return ``z`` unchanged."""
    return z


def _identity_backward(da, z, a):
    return da


# -- sigmoid ---------------------------------------------------------------
def sigmoid(z):
    """Logistic sigmoid ``1 / (1 + exp(-z))``, without overflow for any ``z``.

    ``z`` is first raised to ``-log(max) + 1`` of its dtype (about -87.7 in
    float32, -708.8 in float64), so ``exp(-z)`` stays finite: no overflow
    warning, and large logits of either sign give 0 or 1. The clamp changes
    only results below the smallest normal number (1.2e-38 in float32), where
    floating point has no relative precision anyway. Five elementwise
    operations, no ``where`` (a select over an unpredictable mask is the
    slowest way to do this on NumPy).
    """
    xp = array_namespace(z)
    return 1.0 / (1.0 + xp.exp(-xp.maximum(z, _exp_floor(xp, z.dtype))))


_EXP_FLOORS: dict = {}


def _exp_floor(xp, dtype) -> float:
    """``-(log(finfo(dtype).max) - 1)``: the smallest ``z`` whose ``exp(-z)`` is safely finite."""
    key = (xp, dtype)  # the namespace first: dtypes of two libraries are never compared
    floor = _EXP_FLOORS.get(key)
    if floor is None:
        floor = _EXP_FLOORS[key] = 1.0 - math.log(float(xp.finfo(dtype).max))
    return floor


def _sigmoid_backward(da, z, a):
    return da * a * (1.0 - a)


# -- tanh ------------------------------------------------------------------
def tanh(z):
    """Hyperbolic tangent."""
    return array_namespace(z).tanh(z)


def _tanh_backward(da, z, a):
    return da * (1.0 - a * a)


# -- relu ------------------------------------------------------------------
def relu(z):
    """Rectified linear unit ``max(z, 0)``."""
    return array_namespace(z).maximum(z, 0.0)


def _relu_backward(da, z, a):
    # a > 0 exactly where z > 0; a multiply by the 0/1 mask: NumPy's where() is ~10x slower
    # on unpredictable masks
    return da * array_namespace(da).astype(a > 0, da.dtype)


# -- leaky relu --------------------------------------------------------------
def leaky_relu(z):
    """Leaky ReLU: ``z`` for ``z > 0``, ``0.01 * z`` otherwise (``max(z, 0.01 z)``)."""
    return array_namespace(z).maximum(z, LEAKY_RELU_SLOPE * z)


def _leaky_relu_backward(da, z, a):
    # a = max(z, 0.01 z) > 0 exactly where z > 0
    slope = array_namespace(da).astype(a > 0, da.dtype) * (1.0 - LEAKY_RELU_SLOPE) + LEAKY_RELU_SLOPE
    return da * slope


# -- softmax -----------------------------------------------------------------
def softmax(z):
    """Row-wise softmax, stable for any logits (the row maximum is subtracted first)."""
    xp = array_namespace(z)
    e = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


def _softmax_backward(da, z, a):
    xp = array_namespace(da)
    return a * (da - xp.sum(da * a, axis=-1, keepdims=True))


ACTIVATIONS: dict[str, Activation] = {
    act.name: act
    for act in (
        Activation("identity", identity, _identity_backward, uses_z=False),
        Activation("sigmoid", sigmoid, _sigmoid_backward, uses_z=False),
        Activation("tanh", tanh, _tanh_backward, uses_z=False),
        Activation("relu", relu, _relu_backward, uses_z=False),
        Activation("leaky_relu", leaky_relu, _leaky_relu_backward, uses_z=False),
        Activation("softmax", softmax, _softmax_backward, uses_z=False),
    )
}
_ALIASES = {"linear": "identity", "none": "identity", "logistic": "sigmoid"}


def get_activation(spec: str | Activation, argument: str = "activation") -> Activation:
    """Look up an activation by name (or pass an :class:`Activation` through).

    Raises
    ------
    InvalidArgumentError
        For an unknown name; the message lists the valid ones.
    """
    if isinstance(spec, Activation):
        return spec
    return ACTIVATIONS[check_choice(argument, spec, ACTIVATIONS, aliases=_ALIASES)]
