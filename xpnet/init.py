"""Weight initializers.

The array API has no random module, so initial weights are drawn on the host
from one seeded generator (:func:`xpnet.backend.host_rng`) and transferred to
the backend once: the same seed gives bit-identical starting weights on every
backend. Biases start at zero, except with ``"torch"``.

=================  ==============================================  =====================
name               ``W`` drawn from                                 classic use
=================  ==============================================  =====================
``"normal"``       ``N(0, init_scale**2)`` (default scale 0.01)     the classic tutorials
``"xavier"``       ``N(0, 2 / (n_in + n_out))``                     tanh/sigmoid layers
``"glorot"``       same as ``"xavier"``
``"he"``           ``N(0, 2 / n_in)``                               ReLU layers
``"torch"``        ``U(-1/sqrt(n_in), 1/sqrt(n_in))``, ``b`` too    PyTorch's ``nn.Linear``
=================  ==============================================  =====================

``"torch"`` is ``nn.Linear``'s default, ``kaiming_uniform_(a=sqrt(5))`` for
the weight (its bound ``gain * sqrt(3 / n_in)`` with ``gain = sqrt(1/3)`` is
``1 / sqrt(n_in)``) and the same uniform for the bias: the same distribution,
drawn from the xpnet generator (``W`` then ``b``, layer by layer), not
PyTorch's numbers.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np  # host side by design: draws happen here, then one transfer

from .validation import check_choice

__all__ = ["INITIALIZERS", "init_params", "weight_std"]


def _normal(n_in: int, n_out: int, scale: float) -> float:
    return scale


def _xavier(n_in: int, n_out: int, scale: float) -> float:
    return math.sqrt(2.0 / (n_in + n_out))


def _he(n_in: int, n_out: int, scale: float) -> float:
    return math.sqrt(2.0 / n_in)


def _torch_std(n_in: int, n_out: int, scale: float) -> float:
    return 1.0 / math.sqrt(3.0 * n_in)  # the standard deviation of U(-1/sqrt(n_in), 1/sqrt(n_in))


#: The standard deviation of the initial weights, by initializer name.
INITIALIZERS: dict[str, Callable[[int, int, float], float]] = {
    "normal": _normal,
    "xavier": _xavier,
    "glorot": _xavier,
    "he": _he,
    "torch": _torch_std,
}


def _draw_normal(method: str, n_in: int, n_out: int, scale: float, rng: Any) -> tuple[Any, Any]:
    W = rng.standard_normal((n_in, n_out)) * weight_std(method, n_in, n_out, scale)
    return W, np.zeros(n_out)


def _draw_torch(method: str, n_in: int, n_out: int, scale: float, rng: Any) -> tuple[Any, Any]:
    bound = 1.0 / math.sqrt(n_in)
    return rng.uniform(-bound, bound, (n_in, n_out)), rng.uniform(-bound, bound, n_out)


_DRAWS = {"torch": _draw_torch}  # every other initializer: a zero-mean normal W and a zero b


def weight_std(method: str, n_in: int, n_out: int, init_scale: float = 0.01) -> float:
    """Standard deviation of the initial weights of an ``n_in x n_out`` layer."""
    return INITIALIZERS[check_choice("init", method, INITIALIZERS)](n_in, n_out, init_scale)


def init_params(sizes: list[int], method: str, init_scale: float, rng: Any) -> list[tuple[Any, Any]]:
    """Draw initial ``(W, b)`` for each layer as float64 NumPy arrays on the host.

    Parameters
    ----------
    sizes : list of int
        Layer widths ``[n_in, h1, ..., n_out]``.
    method : str
        ``"normal"``, ``"xavier"``/``"glorot"``, ``"he"`` or ``"torch"``.
    init_scale : float
        Standard deviation for ``"normal"``.
    rng : numpy.random.Generator
        The host generator (draws happen in layer order: ``W1, W2, ...``;
        ``W1, b1, W2, b2, ...`` for ``"torch"``).
    """
    weight_std(method, 1, 1, init_scale)  # an unknown name fails here, listing the valid ones
    key = method.lower()
    draw = _DRAWS.get(key, _draw_normal)
    return [draw(key, n_in, n_out, init_scale, rng) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
