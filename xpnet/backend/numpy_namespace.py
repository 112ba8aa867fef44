"""The NumPy namespace the math code gets: ``array_api_compat.numpy`` with thinner ``sum``, ``astype``
and ``stack`` (a library fast path), and the memoized ``array_namespace``."""

from __future__ import annotations

import functools
import importlib
import types
from typing import Any

import array_api_compat
import numpy as np


def _fast_numpy_namespace() -> Any:
    """``array_api_compat.numpy`` with thinner ``sum``, ``astype`` and ``stack``.

    The compat wrappers check arguments on every call (a few microseconds),
    which is most of the cost of a reduction over a small array; these
    go straight to NumPy and give the same results. Everything else is the
    compat namespace itself.
    """
    compat = importlib.import_module("array_api_compat.numpy")
    fast = types.ModuleType(compat.__name__, compat.__doc__)
    fast.__dict__.update({k: v for k, v in vars(compat).items() if not k.startswith("__")})
    fast.__array_api_version__ = compat.__array_api_version__

    def sum(x, /, *, axis=None, dtype=None, keepdims=False):  # noqa: A001 - the standard's name
        if axis == 0 and x.ndim == 2 and dtype is None and not keepdims and column_sums_by_product(x):
            return _ones(x.shape[0], x.dtype) @ x
        return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)

    def astype(x, dtype, /, *, copy=True, device=None):
        return x.astype(dtype, copy=copy)

    def stack(arrays, /, *, axis=0):
        if axis == 0 and len(arrays) > 0 and all(a.ndim == 0 for a in arrays):
            # training's per-epoch metrics: np.stack takes ~2 us per 0-D array, np.array ~0.1
            return np.array(arrays)
        return compat.stack(arrays, axis=axis)

    fast.sum, fast.astype, fast.stack = sum, astype, stack
    return fast


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def column_sums_by_product(x: np.ndarray) -> bool:
    """True when the column sums of the 2-D NumPy array ``x`` (the bias gradient) are taken as ``ones @ x``.

    NumPy reduces a C-ordered array over axis 0 one short row at a time (6.4 us for
    400x4, 790 us for 60000x4, against 2.8 and 40 us for the BLAS product, which
    also rounds less). The fast namespace's ``sum`` and the NumPy training step
    (:mod:`.numpy_step`) both follow this rule, so they give the same numbers.
    """
    return x.shape[0] >= 64 and x.shape[1] >= 2 and x.dtype in _FLOATS


@functools.lru_cache(maxsize=16)
def _ones(n: int, dtype: Any) -> np.ndarray:
    """A read-only vector of ``n`` ones (a few batch sizes are in use at a time)."""
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


_NUMPY_XP = _fast_numpy_namespace()
_NAMESPACES: dict[type, Any] = {np.ndarray: _NUMPY_XP}


def array_namespace(*arrays: Any) -> Any:
    """``array_api_compat.array_namespace``, memoized on the type of a single array.

    The math code asks for the namespace of its arguments several times per
    step; for one array the answer depends only on its type, and the cache turns
    a few microseconds of inspection into a dictionary lookup.
    """
    if len(arrays) == 1:
        kind = type(arrays[0])
        xp = _NAMESPACES.get(kind)
        if xp is None:
            xp = _NAMESPACES[kind] = array_api_compat.array_namespace(arrays[0])
        return xp
    return array_api_compat.array_namespace(*arrays)
