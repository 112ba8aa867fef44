"""Checking user data and moving it to the backend, once, before any computation.

``X`` becomes a 2-D floating array of the model's dtype on the model's
backend. ``y`` becomes the target matrix ``T`` of the output's shape
``(n, n_out)``: integer labels become one-hot rows for a softmax output, a
label vector becomes a column for a single output unit. Targets are checked
and built on the host (``y`` is small), then transferred once.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np  # host side by design: validation happens before the transfer

from .backend import Backend, backend_of, dtype_name, to_numpy
from .errors import BackendMismatchError, InvalidArgumentError, InvalidTypeError

__all__ = ["as_features", "as_targets"]


def _host(a: Any, name: str) -> np.ndarray:
    try:
        arr = to_numpy(a)
    except Exception as exc:  # ragged lists, strings, ...
        raise InvalidTypeError(f"{name} must be an array of numbers; could not read it ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise InvalidTypeError(
            f"{name} must hold real numbers; got an array of dtype {arr.dtype}"
        )
    return arr


def _same_backend(a: Any, backend: Backend, name: str) -> bool:
    """True for arrays already on ``backend``; False for host data; error otherwise."""
    if a is None:
        raise InvalidTypeError(f"{name} must be an array of numbers; got None")
    if isinstance(a, (np.ndarray, np.generic, list, tuple)) or np.isscalar(a):
        return backend.name == "numpy" and isinstance(a, np.ndarray)
    src = backend_of(a)
    if src != backend:
        raise BackendMismatchError(
            f"{name} is a {src.name} array but the model is on {backend}; pass backend="
            f"{src.name!r} to train on {src.name}, move the model with model.to({src.name!r}), "
            "or pass a NumPy array (xpnet.to_numpy(...))"
        )
    return True


def as_features(X: Any, n_features: int, backend: Backend, dtype: Any, name: str = "X") -> Any:
    """Validate ``X`` (n_samples, n_features) and return it on ``backend`` as ``dtype``.

    Raises
    ------
    InvalidArgumentError
        Wrong rank or width, no rows, or a NaN/infinity in ``X``.
    InvalidTypeError
        Not numeric.
    BackendMismatchError
        ``X`` is an array of a backend other than NumPy and the model's.
    """
    on_device = _same_backend(X, backend, name)
    if on_device and backend.name != "numpy":
        xp = backend.xp
        _check_shape(tuple(X.shape), n_features, name)
        if not xp.isdtype(X.dtype, ("real floating", "integral")):
            raise InvalidTypeError(f"{name} must hold real numbers; got an array of dtype {X.dtype}")
        if X.dtype != dtype:
            X = xp.astype(X, dtype)
        with backend.quiet_overflow():  # an overflowing sum is handled in _all_finite
            finite = _all_finite(xp, X)  # one sync, before training starts
        if not finite:
            raise InvalidArgumentError(_not_finite(name, dtype))
        return X
    host = _host(X, name)
    _check_shape(host.shape, n_features, name)
    with np.errstate(over="ignore"):  # an overflow is reported just below
        host = host.astype(dtype_name(dtype), copy=False)  # check what the model will see
    with np.errstate(over="ignore", invalid="ignore"):  # handled in _all_finite
        finite = _all_finite(np, host)
    if not finite:
        raise InvalidArgumentError(_not_finite(name, dtype))
    return backend.asarray(host, dtype)


def _all_finite(xp: Any, X: Any) -> bool:
    """True when ``X`` holds no NaN or infinity.

    One float64 sum, which NaN and infinity reach and which needs no temporary
    the size of ``X`` (``isfinite`` would take a byte per entry: 47 MB for
    MNIST's shape). Only when the sum is not finite (a NaN or infinity, or
    float64 data large enough to overflow it) is ``X`` checked exactly, in
    blocks of rows.
    """
    if math.isfinite(float(xp.sum(X, dtype=xp.float64))):
        return True
    n, block = X.shape[0], max(1, (1 << 22) // max(1, X.shape[1]))
    per_block = [xp.all(xp.isfinite(X[i:min(i + block, n), :])) for i in range(0, n, block)]
    return bool(xp.all(xp.stack(per_block)))  # one host sync, not one per block


def _not_finite(name: str, dtype: Any) -> str:
    return (f"{name} contains NaN or infinity (or values too large for {dtype_name(dtype)}); "
            "clean, impute or rescale it first")


def _check_shape(shape: tuple, n_features: int, name: str) -> None:
    if len(shape) != 2:
        hint = f" (for one sample use {name}.reshape(1, -1), for one feature {name}.reshape(-1, 1))" if len(shape) == 1 else ""
        raise InvalidArgumentError(
            f"{name} must be 2-D (n_samples, n_features={n_features}); got shape {shape}{hint}"
        )
    if shape[0] == 0:
        raise InvalidArgumentError(f"{name} has no rows; pass at least one sample")
    if shape[1] != n_features:
        raise InvalidArgumentError(
            f"{name} has {shape[1]} features (columns) but the model's input layer has "
            f"{n_features}; got shape {shape}"
        )


def as_targets(y: Any, n_samples: int, n_out: int, output: str, backend: Backend, dtype: Any,
               name: str = "y", x_name: str = "X") -> Any:
    """Turn labels/targets ``y`` into the ``(n_samples, n_out)`` target matrix on ``backend``.

    * softmax output: integer labels (shape ``(n,)`` or ``(n, 1)``) in
      ``[0, n_out)``, or one-hot/probability rows ``(n, n_out)``;
    * sigmoid output: values in [0, 1], shape ``(n,)``/``(n, 1)`` for one unit,
      ``(n, n_out)`` (multi-label) for several;
    * other outputs (regression): ``(n,)``/``(n, 1)`` for one unit, else ``(n, n_out)``.
    """
    if not isinstance(y, (np.ndarray, list, tuple)):
        _same_backend(y, backend, name)
    if y is None:
        raise InvalidTypeError(f"{name} must be an array of labels or targets; got None")
    host = _host(y, name)
    if host.ndim == 0 or host.ndim > 2:
        raise InvalidArgumentError(
            f"{name} must be 1-D labels/targets or 2-D (n_samples, {n_out}); got shape {host.shape}"
        )
    if host.shape[0] != n_samples:
        raise InvalidArgumentError(
            f"{x_name} and {name} have different lengths: {x_name} has {n_samples} rows, "
            f"{name} has {host.shape[0]}"
        )
    if host.dtype.kind == "f":
        _check_finite_targets(host, dtype, name)
    column = host.ndim == 1 or host.shape[1] == 1
    if output == "softmax" and column and n_out > 1:
        labels = host.reshape(-1)
        if host.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
            raise InvalidArgumentError(
                f"{name} holds class labels for a softmax output, so they must be integers; "
                f"got non-integer values such as {labels[labels != np.round(labels)][0]!r}"
            )
        if labels.min() < 0 or labels.max() >= n_out:  # checked before the cast to int64
            bad = labels[(labels < 0) | (labels >= n_out)][0]
            raise InvalidArgumentError(
                f"{name} has label {bad}, outside the output's range 0..{n_out - 1} "
                f"({n_out} output units)"
            )
        T = np.zeros((n_samples, n_out), dtype_name(dtype))  # exact in any float dtype: no float64 detour
        T[np.arange(n_samples), labels.astype(np.int64)] = 1.0
    elif column and n_out == 1:
        T = host.reshape(-1, 1).astype(np.float64)
    elif host.ndim == 2 and host.shape[1] == n_out:
        T = host.astype(np.float64)
    elif column:
        raise InvalidArgumentError(
            f"{name} is a single label column but the {output!r} output has {n_out} units; "
            f"pass {name} with shape ({n_samples}, {n_out})"
            + (" (for class labels use output='softmax')" if output == "sigmoid" else "")
        )
    else:
        raise InvalidArgumentError(
            f"{name} has shape {host.shape} but the output layer has {n_out} units; "
            f"expected ({n_samples},) labels or ({n_samples}, {n_out})"
        )
    if output == "softmax" and not np.allclose(T.sum(axis=1), 1.0, rtol=0, atol=1e-6):
        bad = int(np.argmax(np.abs(T.sum(axis=1) - 1.0)))
        raise InvalidArgumentError(
            f"{name} rows for a softmax output must be one-hot or probabilities summing to 1; "
            f"row {bad} sums to {T[bad].sum()}; pass integer class labels or normalize the rows"
        )
    if output in ("sigmoid", "softmax") and (T.min() < 0 or T.max() > 1):
        raise InvalidArgumentError(
            f"{name} must hold targets in [0, 1] for a {output} output (class labels or "
            f"probabilities); got values from {T.min()} to {T.max()}"
        )
    return backend.asarray(T, dtype)


def _check_finite_targets(host: np.ndarray, dtype: Any, name: str) -> None:
    """Refuse NaN or infinity in float targets, and values the model's dtype cannot hold.

    A regression target of 1e300 is finite in float64 but infinite in a
    float32 model, where it would make the loss infinite from the first step.
    """
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(host).all()
    if not finite:
        raise InvalidArgumentError(f"{name} contains NaN or infinity; clean or impute the targets first")
    target = dtype_name(dtype)
    with np.errstate(over="ignore"):
        fits = np.isfinite(host.astype(target)).all()
    if not fits:
        biggest = np.format_float_scientific(np.max(np.abs(host)), precision=2, trim="-")
        hint = " or use dtype='float64'" if target == "float32" else ""
        raise InvalidArgumentError(
            f"{name} holds values too large for the model's {target} (up to {biggest}; {target} "
            f"holds up to {float(np.finfo(target).max):.3g}); rescale the targets (e.g. standardize "
            f"them){hint}"
        )
