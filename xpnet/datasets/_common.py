"""Helpers shared by the data-set modules: argument checks and the (X, y) convention."""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

import numpy as np

from ..errors import DataNotFoundError, InvalidArgumentError


def _check_int(name, value, minimum, hint=""):
    """Return ``value`` as a Python int, or raise a descriptive ValueError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{name} must be an integer >= {minimum}, got {value!r} "
            f"of type {type(value).__name__}{hint}"
        )
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}{hint}")
    return value


def _check_real(name, value, minimum=0.0, *, strict=False, maximum=None):
    """Return ``value`` as a finite Python float within bounds, or raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{name} must be a real number, got {value!r} of type {type(value).__name__}"
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value}")
    if strict and value <= minimum:
        raise ValueError(f"{name} must be > {minimum}, got {value}")
    if not strict and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value >= maximum:
        raise ValueError(f"{name} must be < {maximum}, got {value}")
    return value


def _class_sizes(n_samples, n_classes):
    """Split ``n_samples`` over ``n_classes``; the first classes get the extras."""
    base, extra = divmod(n_samples, n_classes)
    return [base + (1 if k < extra else 0) for k in range(n_classes)]


def _labels(sizes):
    """Grouped labels ``[0]*sizes[0] + [1]*sizes[1] + ...`` as int64."""
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def _finish(X, y):
    """Return ``X`` as C-contiguous float64 and ``y`` as 1-D int64."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.int64).reshape(-1)
    return X, y


def _require_file(path, what="data file"):
    """``path`` as a :class:`Path` to an existing regular file, or raise DataNotFoundError."""
    try:
        path = Path(os.fspath(path))
    except TypeError:
        raise InvalidArgumentError(
            f"path must be a str or os.PathLike naming a {what}, got {path!r} of type "
            f"{type(path).__name__}"
        ) from None
    if not path.is_file():
        where = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise DataNotFoundError(f"{what} {str(path)!r} {where}")
    return path
