"""Gradient checking by central differences in float64."""

from __future__ import annotations

from typing import Any

import numpy as np  # host side: perturbations are made here and moved one array at a time

from .backend import host_rng, to_numpy
from .errors import InvalidTypeError
from .model import MLP, forward
from .validation import check_int, check_number

__all__ = ["gradcheck"]


def gradcheck(model: MLP, X: Any, y: Any, eps: float = 1e-6, max_entries: int | None = None,
              seed: int = 0) -> list[tuple[float, float]]:
    """Compare backpropagation with central differences, in float64, for every parameter.

    For each entry ``p`` of each ``W`` and ``b`` the numerical gradient is
    ``(L(p + eps) - L(p - eps)) / (2 eps)``; the analytic one comes from
    :meth:`MLP.gradients`. Both are computed on a float64 copy of ``model`` on
    the model's backend (the model itself is left untouched).

    Parameters
    ----------
    model : MLP
    X, y : arrays
        A (small) batch, as for :meth:`MLP.gradients`.
    eps : float
        Finite-difference step.
    max_entries : int or None
        Check at most this many randomly chosen entries per parameter array
        (``None``: all of them). Large layers need it: each entry costs two
        forward passes.
    seed : int
        Seed for choosing the entries.

    Returns
    -------
    list of (float, float)
        ``(error_W, error_b)`` per layer, each the relative error
        ``|g_backprop - g_numeric| / (|g_backprop| + |g_numeric|)`` over the
        checked entries (0.0 when both are exactly zero). Values around 1e-7 or
        below mean the backward pass is right.

    Notes
    -----
    The relative error is only meaningful when the gradient is well above the
    rounding noise of the loss (about ``1e-16 * loss / eps``). With tiny
    initial weights (``init="normal"``, scale 0.01) some gradients are ~1e-7
    and the default ``eps`` reports errors near 1e-4 for a correct backward
    pass; use ``eps=1e-4`` or check after a few training steps.
    """
    if not isinstance(model, MLP):
        raise InvalidTypeError(f"model must be an xpnet.MLP; got {type(model).__name__}")
    eps = check_number("eps", eps, low=0.0, low_open=True)
    max_entries = check_int("max_entries", max_entries, low=1, allow_none=True)
    m64 = model.astype("float64")
    _, grads = m64.gradients(X, y)
    Xd = m64._X(X)
    T = m64._T(y, Xd.shape[0])
    be = m64.backend
    rng = host_rng(seed)

    def loss_with(l: int, j: int, value: np.ndarray) -> float:
        pairs = list(m64._params)
        pair = list(pairs[l])
        pair[j] = be.asarray(value, m64.dtype)
        pairs[l] = tuple(pair)
        top = forward(pairs, Xd, m64.activations)[-1]
        return float(m64.loss_fn.value(top.Z, top.A, T))

    errors = []
    for l, (W, b) in enumerate(m64._params):
        pair_errors = []
        for j, P in enumerate((W, b)):
            host = to_numpy(P).astype(np.float64)
            flat = host.reshape(-1)
            analytic = to_numpy(grads[l][j]).reshape(-1)
            entries = np.arange(flat.size)
            if max_entries is not None and flat.size > max_entries:
                entries = np.sort(rng.choice(flat.size, size=max_entries, replace=False))
            numeric = np.empty(entries.size)
            for k, i in enumerate(entries):
                plus, minus = flat.copy(), flat.copy()
                plus[i] += eps
                minus[i] -= eps
                numeric[k] = (loss_with(l, j, plus.reshape(host.shape))
                              - loss_with(l, j, minus.reshape(host.shape))) / (2 * eps)
            a = analytic[entries]
            denom = np.linalg.norm(a) + np.linalg.norm(numeric)
            pair_errors.append(0.0 if denom == 0 else float(np.linalg.norm(a - numeric) / denom))
        errors.append((pair_errors[0], pair_errors[1]))
    return errors
