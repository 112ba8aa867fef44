"""Checking user data and moving it to the backend, once, before any computation.

``X`` becomes a 2-D floating array of the model's dtype on the model's
backend. ``y`` becomes the target matrix ``T`` of the output's shape
``(n, n_out)``: integer labels become one-hot rows for a softmax output, a
label vector becomes a column for a single output unit. Targets are checked
and built on the host (``y`` is small), then transferred once.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np  # host side by design: validation happens before the transfer

from .backend import Backend, dtype_name, is_library_array, require_backend, to_numpy
from .errors import InvalidArgumentError, InvalidTypeError

__all__ = ["as_features", "as_targets", "as_weights"]


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


def _on_backend(a: Any, backend: Backend, name: str) -> bool:
    """True for an array already on ``backend``; False for host data; an error for an array elsewhere."""
    if a is None:
        raise InvalidTypeError(f"{name} must be an array of numbers; got None")
    if not is_library_array(a):
        return backend.is_numpy and isinstance(a, np.ndarray)
    require_backend(backend, "the model", **{name: a})
    return True


def as_features(X: Any, n_features: int, backend: Backend, dtype: Any, name: str = "X",
                share: Callable[[int], tuple[int, int]] | None = None) -> Any:
    """Validate ``X`` (n_samples, n_features) and return it on ``backend`` as ``dtype``.

    ``share(n) -> (lo, hi)`` (data-parallel training) limits the check for NaN
    and infinity to rows ``lo:hi``: each rank checks its share, and the ranks
    agree on the outcome, so none reads the whole of a memory-mapped ``X``.

    Raises
    ------
    InvalidArgumentError
        Wrong rank or width, no rows, or a NaN/infinity in ``X``.
    InvalidTypeError
        Not numeric.
    BackendMismatchError
        ``X`` is an array of a backend other than NumPy and the model's.
    """
    on_device = _on_backend(X, backend, name)
    if on_device and not backend.is_numpy:
        xp = backend.xp
        _check_shape(tuple(X.shape), n_features, name)
        if not xp.isdtype(X.dtype, ("real floating", "integral")):
            raise InvalidTypeError(f"{name} must hold real numbers; got an array of dtype {X.dtype}")
        if X.dtype != dtype:
            X = xp.astype(X, dtype)
        with backend.quiet_overflow():  # an overflowing sum is handled in _all_finite
            finite = _all_finite(xp, _rows(X, share))  # one sync, before training starts
        if not finite:
            raise InvalidArgumentError(_not_finite(name, dtype))
        return X
    host = _host(X, name)
    _check_shape(host.shape, n_features, name)
    with np.errstate(over="ignore"):  # an overflow is reported just below
        host = host.astype(dtype_name(dtype), copy=False)  # check what the model will see
    with np.errstate(over="ignore", invalid="ignore"):  # handled in _all_finite
        finite = _all_finite(np, _rows(host, share))
    if not finite:
        raise InvalidArgumentError(_not_finite(name, dtype))
    return backend.asarray(host, dtype)


def _rows(X: Any, share: Callable[[int], tuple[int, int]] | None) -> Any:
    """The rows of ``X`` this process checks: all of them, or its share."""
    if share is None:
        return X
    lo, hi = share(X.shape[0])
    return X[lo:hi, :]


def _all_finite(xp: Any, X: Any) -> bool:
    """True when ``X`` holds no NaN or infinity.

    One sum in ``X``'s own dtype, which NaN and infinity reach and which needs
    no temporary the size of ``X`` (``isfinite`` would take a byte per entry:
    47 MB for MNIST's shape); NumPy sums float32 as float32 with SIMD, 7.7 ms
    for MNIST's 60,000 x 784, against 27 ms through float64. Only when the sum
    is not finite (a NaN or infinity, or finite data large enough to overflow
    it) is ``X`` checked exactly, in blocks of rows.
    """
    if math.isfinite(float(xp.sum(X))):
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
        _on_backend(y, backend, name)
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
                f"({n_out} output units); if the labels name classes rather than number them from 0, "
                "give the model its classes: MLP(..., classes=[...])"
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
            + ("; for two classes with other labels, give the model its classes: MLP(..., classes=[a, b])"
               if output == "sigmoid" and n_out == 1 else "")
        )
    return backend.asarray(T, dtype)


def as_weights(sample_weight: Any, class_weight: Any, y: Any, n_samples: int, n_out: int, output: str,
               backend: Backend, dtype: Any) -> Any:
    """The row weights ``sample_weight[i] * class_weight[label_i]`` as an ``(n, 1)`` column on ``backend``,
    or None when neither is given.

    ``sample_weight``: ``n`` finite numbers >= 0, not all 0. ``class_weight``:
    ``"balanced"`` (``n / (classes * count)`` per class present, scikit-learn's
    rule) or a dict ``{label: weight}`` (labels not in it weigh 1); it needs
    class labels, so a softmax or single-sigmoid output.
    """
    if sample_weight is None and class_weight is None:
        return None
    w = np.ones(n_samples) if sample_weight is None else _sample_weights(sample_weight, n_samples)
    if class_weight is not None:
        w = w * _class_weights(class_weight, _class_ids(y, n_samples, n_out, output), n_out)
    if not w.sum() > 0:
        raise InvalidArgumentError("the sample weights are all 0 (after class_weight); give some rows weight")
    return backend.asarray(w.reshape(-1, 1), dtype)


def _sample_weights(sample_weight: Any, n_samples: int) -> np.ndarray:
    host = _host(sample_weight, "sample_weight")
    if host.ndim != 1:
        raise InvalidArgumentError(f"sample_weight must be 1-D, one weight per row; got shape {host.shape}")
    w = host.astype(np.float64)
    if w.shape[0] != n_samples:
        raise InvalidArgumentError(f"sample_weight has {w.shape[0]} weights but X has {n_samples} rows")
    if not np.isfinite(w).all() or (w < 0).any():
        raise InvalidArgumentError("sample_weight must hold finite numbers >= 0")
    return w


def _class_ids(y: Any, n_samples: int, n_out: int, output: str) -> np.ndarray:
    """Each row's class (0 .. k-1) from labels or one-hot rows: what class weights are looked up by."""
    host = _host(y, "y")
    if output == "softmax" and host.ndim == 2 and host.shape[1] == n_out > 1:
        if not np.all((host == 0) | (host == 1)) or not np.all(host.sum(axis=1) == 1):
            raise InvalidArgumentError("class_weight needs class labels; y holds probability rows, not one-hot "
                                       "rows: pass sample_weight instead")
        return np.argmax(host, axis=1)
    if output not in ("softmax", "sigmoid") or (output == "sigmoid" and n_out > 1):
        raise InvalidArgumentError(
            f"class_weight needs class labels: a softmax or single-unit sigmoid output, not {output!r} with "
            f"{n_out} units; pass sample_weight instead"
        )
    return host.reshape(-1).astype(np.int64)  # as_targets has checked the labels


def _class_weights(class_weight: Any, ids: np.ndarray, n_out: int) -> np.ndarray:
    classes = max(n_out, 2)
    counts = np.bincount(ids, minlength=classes)
    if isinstance(class_weight, str) and class_weight == "balanced":
        present = counts > 0
        table = np.ones(classes)
        table[present] = ids.shape[0] / (present.sum() * counts[present])
        return table[ids]
    if not isinstance(class_weight, dict):
        raise InvalidTypeError(f"class_weight must be 'balanced' or a dict {{label: weight}}; got {class_weight!r}")
    table = np.ones(classes)
    for label, weight in class_weight.items():
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < classes:
            raise InvalidArgumentError(f"class_weight has label {label!r}; the labels are 0 .. {classes - 1}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.number)) or \
                not (np.isfinite(weight) and weight >= 0):
            raise InvalidArgumentError(f"class_weight[{label}] must be a finite number >= 0; got {weight!r}")
        table[int(label)] = float(weight)
    return table[ids]


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
