"""Preparing arrays for training: one_hot, standardize, train_test_split."""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import InvalidArgumentError, InvalidTypeError
from ..validation import check_bool, check_int, check_number
from ._common import rng_for

__all__ = ["one_hot", "standardize", "train_test_split"]


def one_hot(y, n_classes=None, dtype=np.float64):
    """Encode integer class labels as one-hot rows.

    Parameters
    ----------
    y : array_like of int, shape (n,)
        Class labels in ``0 .. n_classes - 1``.  Integer arrays are expected;
        floating-point arrays are accepted only if every value is a whole
        number.
    n_classes : int, optional
        Number of columns ``k``; must be >= 1 and greater than every label.
        Defaults to ``max(y) + 1`` (and is required when ``y`` is empty).
    dtype : data-type, default numpy.float64
        Data type of the result.

    Returns
    -------
    numpy.ndarray, shape (n, k)
        C-contiguous array with ``out[i, y[i]] == 1`` and zeros elsewhere, so
        ``out.argmax(axis=1)`` gives ``y`` back.

    Raises
    ------
    InvalidArgumentError
        If ``y`` is not 1-D, holds non-integer or negative values, or holds a
        label ``>= n_classes``; or if ``n_classes`` is not an integer >= 1.

    Examples
    --------
    >>> one_hot([0, 2, 1]).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    labels = _class_labels(y)
    n_classes = check_int("n_classes", n_classes, low=1, allow_none=True)
    if n_classes is None:
        if labels.size == 0:
            raise InvalidArgumentError(
                "n_classes is required when y is empty (cannot infer it from max(y) + 1); "
                "pass n_classes explicitly"
            )
        n_classes = int(labels.max()) + 1
    elif labels.size and labels.max() >= n_classes:
        raise InvalidArgumentError(
            f"y holds label {int(labels.max())} but n_classes={n_classes}; labels must be "
            f"< n_classes, so pass n_classes >= {int(labels.max()) + 1} or omit it"
        )
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise InvalidTypeError(
            f"dtype must be a NumPy data type such as numpy.float32; got {dtype!r}"
        ) from None
    out = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


def _class_labels(y):
    """``y`` as 1-D int64 labels >= 0, or an InvalidArgumentError saying what is wrong with it."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise InvalidArgumentError(
            f"y must be a 1-D array of integer class labels, got an array of shape {arr.shape}; "
            "flatten it (e.g. y.reshape(-1)) or pass class indices, not one-hot rows"
        )
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
        raise InvalidArgumentError(
            f"y must hold integer class labels, got dtype {arr.dtype}; "
            "convert it with y.astype(np.int64)"
        )
    if arr.dtype.kind == "f":
        whole = np.isfinite(arr) & (arr == np.round(arr))
        if not np.all(whole):
            raise InvalidArgumentError(
                f"y must hold integer class labels, got non-integer value {arr[~whole][0].item()!r}; "
                "round or map the labels to 0 .. k-1 first"
            )
    if arr.size and float(arr.max()) >= 2.0**53:  # one column per class: no such label can be encoded
        raise InvalidArgumentError(
            f"y holds label {arr.max().item()!r}, too large for a class label; "
            "map the labels to 0 .. k-1 first"
        )
    if arr.size and arr.min() < 0:
        raise InvalidArgumentError(
            f"y must hold labels >= 0, got negative label {arr.min().item()!r}; "
            "map the labels to 0 .. k-1 first"
        )
    return arr.astype(np.int64)


def standardize(X, mean=None, std=None):
    """Scale each column to zero mean and unit variance.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Data in row layout.
    mean, std : array_like, shape (n_features,), optional
        A previous fit, as returned by an earlier call (for example on the
        training data); pass both to apply it to new data such as a test
        set.  When both are omitted they are computed from ``X``.

    Returns
    -------
    Xs : numpy.ndarray of float64, shape (n_samples, n_features)
        ``(X - mean) / std``, C-contiguous.
    mean : numpy.ndarray of float64, shape (n_features,)
        Column means used.
    std : numpy.ndarray of float64, shape (n_features,)
        Column scales used: the population standard deviation, with entries
        for constant columns (standard deviation 0, up to rounding) replaced
        by 1, so such columns are only centred.

    Raises
    ------
    InvalidArgumentError
        If ``X`` is not 2-D, is empty when fitting, if only one of ``mean``
        and ``std`` is given, or if their shapes do not match ``X``.
    """
    X = _float_rows(X)
    if (mean is None) != (std is None):
        raise InvalidArgumentError(
            "mean and std must be given together (to reuse a previous fit) or both omitted "
            f"(to fit on X), got mean={'None' if mean is None else 'array'} and "
            f"std={'None' if std is None else 'array'}"
        )
    if mean is None:
        if X.shape[0] == 0:
            raise InvalidArgumentError(
                f"X must have at least one row to fit mean and std, got shape {X.shape}"
            )
        mean, std = X.mean(axis=0), X.std(axis=0)
    else:
        mean, std = _previous_fit(mean, std, X.shape[1])
    eps = np.finfo(np.float64).eps
    constant = (std == 0) | (std <= 16 * eps * np.abs(mean))
    std = np.where(constant, 1.0, std)
    Xs = np.ascontiguousarray((X - mean) / std)
    return Xs, mean.copy(), std


def _float_rows(X):
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidTypeError("X must be an array of real numbers (n_samples, n_features)") from None
    if X.ndim != 2:
        raise InvalidArgumentError(
            f"X must be a 2-D array of shape (n_samples, n_features), got shape {X.shape}; "
            "reshape a single feature with X.reshape(-1, 1)"
        )
    return X


def _previous_fit(mean, std, width):
    """``mean`` and ``std`` of an earlier fit, checked against ``width`` columns."""
    fit = []
    for name, value in (("mean", mean), ("std", std)):
        try:
            value = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidTypeError(f"{name} must be an array of real numbers") from None
        if value.shape != (width,):
            raise InvalidArgumentError(
                f"{name} must have shape ({width},) to match X with {width} "
                f"columns, got shape {value.shape}"
            )
        fit.append(value)
    if np.any(fit[1] < 0):
        raise InvalidArgumentError(f"std must be >= 0 in every column, got {fit[1]}")
    return fit


def train_test_split(X, y, test_size=0.2, seed=0, stratify=False):
    """Split ``(X, y)`` into shuffled training and test parts.

    Parameters
    ----------
    X : array_like, shape (n_samples, ...)
    y : array_like, shape (n_samples, ...)
        Rows are split together.
    test_size : float or int, default 0.2
        A fraction in ``(0, 1)`` of the rows (rounded, at least one row in
        each part), or a row count in ``1 .. n_samples - 1``.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``; the same seed gives the same split.
    stratify : bool, default False
        Keep each class's share of the rows in both parts (``y`` must then
        hold 1-D class labels); each class contributes ``round(test_size *
        n_class)`` rows to the test part, adjusted so the total is the
        requested size.

    Returns
    -------
    X_train, X_test, y_train, y_test : numpy.ndarray
        In scikit-learn's order; dtypes are kept, rows are shuffled.

    Raises
    ------
    InvalidArgumentError
        Lengths differ, fewer than two rows, or a ``test_size`` that would
        leave a part empty.
    InvalidTypeError
        A ``test_size`` that is not a number.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise InvalidArgumentError("X and y must be arrays with one sample per row, got a scalar")
    n = X.shape[0]
    if y.shape[0] != n:
        raise InvalidArgumentError(f"X has {n} rows but y has {y.shape[0]}; they must match")
    if n < 2:
        raise InvalidArgumentError(f"need at least 2 rows to split, got {n}")
    n_test = _test_rows(test_size, n)
    rng = rng_for(seed)
    if check_bool("stratify", stratify):
        if y.ndim != 1:
            raise InvalidArgumentError(f"stratify=True needs 1-D class labels y, got shape {y.shape}")
        train, test = _stratified(y, n_test, rng)
    else:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def _test_rows(test_size, n):
    """How many of ``n`` rows ``test_size`` (a row count, or a fraction) puts in the test part."""
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, (bool, np.bool_)):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise InvalidArgumentError(f"test_size must be a row count in 1 .. {n - 1}, got {n_test}")
        return n_test
    fraction = check_number("test_size", test_size, low=0.0, high=1.0, low_open=True, high_open=True)
    return min(max(int(round(fraction * n)), 1), n - 1)


def _stratified(y, n_test, rng):
    """``(train, test)`` row indices keeping each class's share of the rows in both parts."""
    classes, inverse = np.unique(y, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes))
    want = counts * (n_test / y.shape[0])
    take = np.floor(want).astype(np.int64)
    # hand out the remaining test rows to the classes with the largest remainders
    short = n_test - int(take.sum())
    if short > 0:
        for k in np.argsort(-(want - take), kind="stable")[:short]:
            take[k] += 1
    test_parts, train_parts = [], []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == k))
        test_parts.append(members[:take[k]])
        train_parts.append(members[take[k]:])
    return rng.permutation(np.concatenate(train_parts)), rng.permutation(np.concatenate(test_parts))
