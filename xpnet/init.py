"""Weight initializers.

The array API has no random module, so initial weights are drawn on the host
from one seeded generator (:func:`xpnet.backend.host_rng`) and transferred to
the backend once: the same seed gives bit-identical starting weights on every
backend. Biases start at zero.

=================  ==============================================  =====================
name               ``W`` drawn from                                 classic use
=================  ==============================================  =====================
``"normal"``       ``N(0, init_scale**2)`` (default scale 0.01)     the classic tutorials
``"xavier"``       ``N(0, 2 / (n_in + n_out))``                     tanh/sigmoid layers
``"glorot"``       same as ``"xavier"``
``"he"``           ``N(0, 2 / n_in)``                               ReLU layers
=================  ==============================================  =====================
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


INITIALIZERS: dict[str, Callable[[int, int, float], float]] = {
    "normal": _normal,
    "xavier": _xavier,
    "glorot": _xavier,
    "he": _he,
}


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
        ``"normal"``, ``"xavier"``/``"glorot"`` or ``"he"``.
    init_scale : float
        Standard deviation for ``"normal"``.
    rng : numpy.random.Generator
        The host generator (draws happen in layer order: ``W1, W2, ...``).
    """
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        std = weight_std(method, n_in, n_out, init_scale)
        W = rng.standard_normal((n_in, n_out)) * std
        params.append((W, np.zeros(n_out)))
    return params
