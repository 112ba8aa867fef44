"""Activation functions and their derivatives, written once against the array API.

Each activation is a pair of functions:

* ``forward(z) -> a``
* ``backward(da, z, a) -> dz``: the vector-Jacobian product, i.e. the
  gradient with respect to the pre-activation ``z`` given the gradient ``da``
  with respect to the activation ``a`` (both ``z`` and ``a`` are passed so
  each derivative uses whichever is cheaper and more accurate).

For elementwise activations ``backward`` is ``da * f'(z)``; softmax, which is
not elementwise, uses ``a * (da - sum(da * a))`` along each row.

Most derivatives are written in terms of the output ``a`` alone (``uses_z=False``),
so hidden pre-activations can be freed after the forward pass: ELU's is
``1 + min(a, 0)``, softplus's ``-expm1(-a)``. GELU, its tanh form and SiLU read
``z``. The array API has no ``erf``, so :func:`erfc` and :func:`erf` are written
here from a Chebyshev expansion (see :func:`erfc`).
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
    "gelu",
    "gelu_tanh",
    "elu",
    "selu",
    "silu",
    "softplus",
    "erf",
    "erfc",
    "LEAKY_RELU_SLOPE",
    "SELU_ALPHA",
    "SELU_SCALE",
]

#: Slope of leaky ReLU for negative inputs (PyTorch's default).
LEAKY_RELU_SLOPE = 0.01
#: SELU's constants, as in PyTorch (Klambauer et al., 2017).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


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


# -- erf and erfc (the array API has neither) ----------------------------------
#: erfc(x) = exp(-x**2) * K / (x + K) * h(t) for x >= 0, with t = (x - K) / (x + K) in [-1, 1)
#: and h(t) = sum(c_j T_j(t)) a Chebyshev series. h lies in [1 / (K sqrt(pi)), 1] and is smooth
#: on the whole map of [0, inf), so 24 terms give it to 6e-18 absolute, 4e-17 relative:
#: erfc keeps full relative precision far into its tail. The coefficients are the Chebyshev
#: interpolant of h at 80 nodes, computed with mpmath at 40 digits;
#: tests/test_blocks.py recomputes them (``erfc_chebyshev_coefficients``).
_ERFC_K = 4.0
_ERFC_CHEB = (
    0.40802446954913146, -0.37635823567636745, 0.14758035457222363, -0.049571317930027586,
    0.014227107557117175, -0.003443493262717524, 0.000682254183283808, -0.00010340451975756189,
    9.72854595199015e-06, 1.1988713758412045e-07, -2.1747767703449563e-07, 3.0291767735991394e-08,
    9.47991756520455e-10, -8.633411694990956e-10, 6.872156425953403e-11, 1.7034898438296277e-11,
    -3.3921306868290887e-12, -2.6158087668540244e-13, 1.212767580310864e-13, 2.114689543244809e-15,
    -4.117340933404178e-15, 6.328712721700708e-17, 1.4393110983449846e-16, -4.5614947982841305e-18,
)
#: erf(x) = 2/sqrt(pi) * sum((-1)**n x**(2n+1) / (n! (2n+1))) for |x| < 1: 20 terms reach 2e-19.
#: (From 1 on, 1 - erfc(x) is as exact: erfc(1) = 0.16 is small beside 1.)
_ERF_TAYLOR = tuple(2.0 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1))
                    for n in range(20))
#: x is split as x_hi + x_lo with x_hi = round(x * S) / S, whose square is exact for |x| < 64
#: (float64) or < 16 (float32): past those, exp(-x**2) underflows anyway.
_SPLIT_SCALE = {64: 2.0 ** 20, 32: 2.0 ** 8}


def _exp_minus_square(x, half: bool = False):
    """``exp(-x**2)`` (``exp(-x**2 / 2)`` with ``half``) without the error of rounding ``x**2``.

    Rounding ``x**2`` costs a relative error of ``x**2 * eps`` after ``exp``
    (1e-13 at x = 27); with ``x**2 = x_hi**2 + (x - x_hi)(x + x_hi)`` and an
    exact ``x_hi**2``, ``exp`` sees its argument to full precision.
    """
    xp = array_namespace(x)
    scale = _SPLIT_SCALE[xp.finfo(x.dtype).bits]
    hi = xp.round(x * scale) / scale
    f = 0.5 if half else 1.0
    return xp.exp(-f * (hi * hi)) * xp.exp(-f * ((x - hi) * (x + hi)))


def _erfcx_nonnegative(a):
    """``exp(a**2) erfc(a)`` for ``a >= 0``: the Chebyshev series, by Clenshaw's recurrence."""
    xp = array_namespace(a)
    t = (a - _ERFC_K) / (a + _ERFC_K)
    two_t = 2.0 * t
    b1, b2 = xp.zeros_like(t) + _ERFC_CHEB[-1], 0.0
    for c in _ERFC_CHEB[-2:0:-1]:
        b1, b2 = two_t * b1 - b2 + c, b1
    return (t * b1 - b2 + _ERFC_CHEB[0]) * (_ERFC_K / (a + _ERFC_K))


def _half_erfc_abs(x):
    """``erfc(|x|) / 2``."""
    a = array_namespace(x).abs(x)
    return 0.5 * _exp_minus_square(a) * _erfcx_nonnegative(a)


def erfc(x):
    """Complementary error function ``1 - erf(x)``, to a few ulps over the whole real line.

    Relative precision holds in the tail too (``erfc(26) = 5.7e-296`` to 1e-15),
    where ``1 - erf(x)`` would give 0.
    """
    xp = array_namespace(x)
    q = _half_erfc_abs(x)
    return xp.where(x < 0, 2.0 - 2.0 * q, 2.0 * q)


def erf(x):
    """Error function, to an ulp or two (a Taylor series below 1 in magnitude, ``1 - erfc`` above)."""
    xp = array_namespace(x)
    small = xp.minimum(xp.maximum(x, -1.0), 1.0)  # the series is evaluated where it converges
    s2 = small * small
    series = xp.zeros_like(small) + _ERF_TAYLOR[-1]
    for c in _ERF_TAYLOR[-2::-1]:
        series = series * s2 + c
    tail = 1.0 - 2.0 * _half_erfc_abs(x)
    return xp.where(xp.abs(x) < 1.0, small * series, xp.where(x < 0, -tail, tail))


# -- gelu ----------------------------------------------------------------------
def _normal_cdf(z):
    """``(Phi(z), exp(-z**2 / 2))``: the standard normal CDF, exact in the lower tail too, and
    the unnormalized density that GELU's derivative needs as well."""
    xp = array_namespace(z)
    a = xp.abs(z)
    density = _exp_minus_square(a, half=True)
    tail = 0.5 * density * _erfcx_nonnegative(a * math.sqrt(0.5))  # Phi(-|z|) = erfc(|z|/sqrt 2)/2
    return xp.where(z < 0, tail, 1.0 - tail), density


def gelu(z):
    """GELU ``z * Phi(z)`` with the exact normal CDF (PyTorch's default ``approximate="none"``).

    Accurate to a few ulps for every ``z``, also in the lower tail, where
    ``z * (1 + erf(z / sqrt(2))) / 2`` (PyTorch's formula) cancels: at z = -5
    that formula is off by 4e-11 relative, at z = -10 it gives 0 for -7.6e-23.
    """
    return z * _normal_cdf(z)[0]


def _gelu_backward(da, z, a):
    # d/dz z Phi(z) = Phi(z) + z phi(z), phi(z) = exp(-z**2 / 2) / sqrt(2 pi)
    cdf, density = _normal_cdf(z)
    return da * (cdf + z * (density * (1.0 / math.sqrt(2.0 * math.pi))))


# -- sigmoid pairs for silu and gelu_tanh ------------------------------------------
def _sigmoid_pair(z):
    """``(sigmoid(z), sigmoid(-z))``, both to full relative precision in their tails.

    From ``e = exp(-|z|)``, which never overflows: the small one is ``e / (1 + e)``
    (so it underflows to 0 exactly where the true value does), the large one ``1 / (1 + e)``.
    """
    xp = array_namespace(z)
    e = xp.exp(-xp.abs(z))
    d = 1.0 + e
    large, small = 1.0 / d, e / d
    positive = z >= 0
    return xp.where(positive, large, small), xp.where(positive, small, large)


# -- gelu_tanh -----------------------------------------------------------------
_GELU_TANH_C = math.sqrt(2.0 / math.pi)
_GELU_TANH_CUBIC = 0.044715


def gelu_tanh(z):
    """GELU's tanh approximation (PyTorch's ``approximate="tanh"``).

    ``z (1 + tanh(u)) / 2`` with ``u = sqrt(2/pi) (z + 0.044715 z**3)``, computed
    as ``z * sigmoid(2u)`` (the same function) so the lower tail does not cancel.
    """
    return z * _sigmoid_pair(2.0 * _gelu_tanh_u(z))[0]


def _gelu_tanh_u(z):
    return _GELU_TANH_C * (z + _GELU_TANH_CUBIC * (z * z * z))


def _gelu_tanh_backward(da, z, a):
    # d/dz z s(2u) = s + z s (1 - s) 2 u'(z), u' = sqrt(2/pi) (1 + 3 * 0.044715 z**2)
    s, one_minus_s = _sigmoid_pair(2.0 * _gelu_tanh_u(z))
    du = (2.0 * _GELU_TANH_C) * (1.0 + (3.0 * _GELU_TANH_CUBIC) * (z * z))
    return da * (s + z * (s * one_minus_s) * du)


# -- elu -----------------------------------------------------------------------
def elu(z):
    """ELU with alpha 1: ``z`` for ``z > 0``, ``expm1(z)`` otherwise (``max(z, 0) + expm1(min(z, 0))``)."""
    xp = array_namespace(z)
    return xp.maximum(z, 0.0) + xp.expm1(xp.minimum(z, 0.0))


def _elu_backward(da, z, a):
    # 1 for z > 0; exp(z) = 1 + a otherwise (a <= 0 exactly there)
    return da * (1.0 + array_namespace(a).minimum(a, 0.0))


# -- selu ----------------------------------------------------------------------
_SELU_SCALE_ALPHA = SELU_SCALE * SELU_ALPHA  # PyTorch's negative coefficient, rounded the same way


def selu(z):
    """SELU: ``scale * z`` for ``z > 0``, ``scale * alpha * expm1(z)`` otherwise (PyTorch's constants)."""
    xp = array_namespace(z)
    return SELU_SCALE * xp.maximum(z, 0.0) + _SELU_SCALE_ALPHA * xp.expm1(xp.minimum(z, 0.0))


def _selu_backward(da, z, a):
    # scale for z > 0; scale * alpha * exp(z) = a + scale * alpha otherwise (a <= 0 exactly there)
    xp = array_namespace(a)
    return da * xp.where(a > 0, SELU_SCALE, a + _SELU_SCALE_ALPHA)


# -- silu ----------------------------------------------------------------------
def silu(z):
    """SiLU (swish) ``z * sigmoid(z)``; exactly 0 where the true value underflows."""
    return z * _sigmoid_pair(z)[0]


def _silu_backward(da, z, a):
    # s + z s (1 - s)
    s, one_minus_s = _sigmoid_pair(z)
    return da * (s + z * (s * one_minus_s))


# -- softplus ------------------------------------------------------------------
def softplus(z):
    """Softplus ``log(1 + exp(z))`` as ``max(z, 0) + log1p(exp(-|z|))``: no overflow, exact tails.

    PyTorch returns ``z`` itself above its threshold 20; this is the exact value
    (they differ by at most ``exp(-20) / 20 = 1e-10`` relative).
    """
    xp = array_namespace(z)
    return xp.maximum(z, 0.0) + xp.log1p(xp.exp(-xp.abs(z)))


def _softplus_backward(da, z, a):
    # sigmoid(z) = 1 - exp(-a), since exp(a) = 1 + exp(z); -expm1(-a) keeps the lower tail exact
    return da * -array_namespace(a).expm1(-a)


ACTIVATIONS: dict[str, Activation] = {
    act.name: act
    for act in (
        Activation("identity", identity, _identity_backward, uses_z=False),
        Activation("sigmoid", sigmoid, _sigmoid_backward, uses_z=False),
        Activation("tanh", tanh, _tanh_backward, uses_z=False),
        Activation("relu", relu, _relu_backward, uses_z=False),
        Activation("leaky_relu", leaky_relu, _leaky_relu_backward, uses_z=False),
        Activation("softmax", softmax, _softmax_backward, uses_z=False),
        Activation("gelu", gelu, _gelu_backward, uses_z=True),
        Activation("gelu_tanh", gelu_tanh, _gelu_tanh_backward, uses_z=True),
        Activation("elu", elu, _elu_backward, uses_z=False),
        Activation("selu", selu, _selu_backward, uses_z=False),
        Activation("silu", silu, _silu_backward, uses_z=True),
        Activation("softplus", softplus, _softplus_backward, uses_z=False),
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
