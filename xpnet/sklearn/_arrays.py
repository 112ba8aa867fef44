"""Where the estimators' arrays live: scikit-learn's array API dispatch, host copies, rows, sample weights."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import sklearn

from ..backend import Backend, backend_of, is_library_array, to_numpy
from ..errors import InvalidArgumentError, InvalidTypeError


def _dispatch_backend(X: Any) -> Backend | None:
    """The backend of ``X`` when array API dispatch is on and ``X`` is a non-NumPy array.

    ``None`` means "NumPy mode": the input is converted to NumPy and the
    outputs are NumPy arrays.
    """
    if not sklearn.get_config().get("array_api_dispatch", False):
        return None
    return backend_of(X) if is_library_array(X) else None


def _placement(be: Backend | None) -> str:
    """Where an input lives, for the same-namespace-and-device check: a backend spec, or "numpy"."""
    return "numpy" if be is None else be.spec


def _describe(placement: str) -> str:
    return "NumPy (or array-like)" if placement == "numpy" else f"{placement.split(':')[0]} arrays on {placement}"


def _as_host(a: Any) -> Any:
    """Arrays of a non-NumPy library as NumPy arrays; everything else unchanged."""
    return to_numpy(a) if is_library_array(a) else a


def _take_rows(X: Any, idx: np.ndarray) -> Any:
    if isinstance(X, np.ndarray):
        return X[idx]
    be = backend_of(X)
    return be.xp.take(X, be.asarray(idx), axis=0)


def _map_state(state: Any, fn) -> Any:
    """Apply ``fn`` to every array in an optimizer state (dicts, lists, scalars, None)."""
    if isinstance(state, dict):
        return {k: _map_state(v, fn) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_map_state(v, fn) for v in state)
    if state is None or isinstance(state, (numbers.Number, str)):
        return state
    return fn(state)


def _sample_weights(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """``sample_weight`` as a host float64 vector of ``n_samples`` finite weights >= 0, not all 0.

    A single number weighs every row alike (as scikit-learn's ``_check_sample_weight``).
    Raises an :class:`~xpnet.errors.XpnetError` (a ``ValueError``/``TypeError``) naming the fix.
    """
    if sample_weight is None:
        return None
    w = np.asarray(_as_host(sample_weight))
    if w.dtype.kind not in "biuf":
        raise InvalidTypeError(f"sample_weight must hold real numbers, one per row of X; got dtype {w.dtype}")
    w = np.full(n_samples, float(w)) if w.ndim == 0 else w.astype(np.float64)
    if w.shape != (n_samples,):
        raise InvalidArgumentError(
            f"sample_weight must have shape ({n_samples},), one weight per row of X; got shape {w.shape}"
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise InvalidArgumentError("sample_weight must hold finite numbers >= 0 (no NaN, infinity or negatives)")
    if not w.any():
        raise InvalidArgumentError("sample_weight is zero for every row; give at least one sample a non-zero weight")
    return w
