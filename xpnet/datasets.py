"""Built-in, seeded, generated data sets.

This module sits at the data edge of :mod:`xpnet`: everything here is plain
host-side NumPy and nothing here depends on the rest of the package.  Move the
arrays to an accelerator (or another array namespace) yourself after
generating them.

Conventions shared by every generator
-------------------------------------
* Each generator accepts a ``seed`` argument (default ``0``) and draws all of
  its randomness from ``np.random.default_rng(seed)``; the global NumPy random
  state is never used or modified.  The same seed always gives identical
  arrays.
* Each generator returns ``(X, y)`` where ``X`` is a C-contiguous ``float64``
  array of shape ``(n_samples, n_features)`` (one sample per row) and ``y`` is
  a 1-D ``int64`` array of class labels ``0 .. k-1``.
* Nothing is shuffled: the points come grouped by class (all of class 0 first,
  then class 1, ...), except for :func:`teacher`, whose labels are a function
  of randomly drawn inputs.  Shuffle (or split with a permutation) before
  mini-batch training or a train/test split.
* When ``n_samples`` does not divide evenly among the classes, the first
  classes get one extra point each.
* Invalid arguments raise :class:`ValueError` with a message naming the
  argument, what was expected and what was given.

Real data
---------
Besides the generators, the module reads real data into the same
``(X float64, y int64)`` convention:

* :func:`digits`: the 8x8 handwritten digits that scikit-learn ships
  (1,797 images, no download; needs ``pip install scikit-learn``).
* :func:`load_mnist`: MNIST or Fashion-MNIST from the standard IDX files in a
  directory (``.gz`` or not), optionally downloaded once and verified against
  the published MD5 checksums.
* :func:`load_csv` and :func:`load_npz`: your own data from a CSV or ``.npz``
  file.
* :func:`train_test_split`: a seeded (optionally stratified) split.

Errors about files are :class:`xpnet.XpnetError` subclasses that are also the
built-in type a Python user expects: :class:`DataFormatError` (a
``ValueError``, naming the file and the row/column or header field at fault),
:class:`ChecksumError`, :class:`DataNotFoundError` (a ``FileNotFoundError``),
:class:`DownloadError` (an ``OSError``) and :class:`MissingDependencyError`
(an ``ImportError`` saying what to install).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import math
import numbers
import os
import struct
import urllib.request
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .errors import (
    ChecksumError,
    DataFormatError,
    DataNotFoundError,
    DownloadError,
    InvalidArgumentError,
    MissingDependencyError,
)

__all__ = [
    "NAMES",
    "xor",
    "flower",
    "moons",
    "circles",
    "spirals",
    "blobs",
    "teacher",
    "one_hot",
    "standardize",
    "load",
    "ALL_NAMES",
    "REAL_NAMES",
    "digits",
    "load_mnist",
    "read_idx",
    "load_csv",
    "load_npz",
    "train_test_split",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "MNIST_CHECKSUMS",
    "DataFormatError",
    "ChecksumError",
    "DataNotFoundError",
    "DownloadError",
    "MissingDependencyError",
]


# ---------------------------------------------------------------------------
# Argument checking helpers
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------


def xor(n_repeats=1, seed=0):
    """The four XOR points, optionally repeated.

    Parameters
    ----------
    n_repeats : int, default 1
        How many times the block of four points is repeated; must be >= 1.
    seed : int, default 0
        Accepted for a signature uniform with the other generators; unused,
        because this data set involves no randomness.

    Returns
    -------
    X : numpy.ndarray of float64, shape (4 * n_repeats, 2)
        Rows ``(0, 0), (0, 1), (1, 0), (1, 1)`` repeated ``n_repeats`` times.
    y : numpy.ndarray of int64, shape (4 * n_repeats,)
        Labels ``0, 1, 1, 0`` repeated ``n_repeats`` times.

    Examples
    --------
    >>> X, y = xor()
    >>> X.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    n_repeats = _check_int("n_repeats", n_repeats, 1)
    base_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    base_y = np.array([0, 1, 1, 0], dtype=np.int64)
    return _finish(np.tile(base_X, (n_repeats, 1)), np.tile(base_y, n_repeats))


def flower(n_samples=400, noise=0.2, petals=4, seed=0):
    """The two-class "planar flower" data set.

    For class ``j`` in ``{0, 1}`` with ``N = n_samples // 2`` points::

        t = linspace(j * 3.12, (j + 1) * 3.12, N) + noise * normal(N)
        r = 4 * sin(petals * t) + noise * normal(N)
        point = (r * sin(t), r * cos(t))

    Parameters
    ----------
    n_samples : int, default 400
        Total number of points; must be even and >= 2 (half per class).
    noise : float, default 0.2
        Standard deviation of the Gaussian noise added to both the angle and
        the radius; must be >= 0.
    petals : int, default 4
        Angular frequency of the radius; must be >= 1.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_samples, 2)
        Points grouped by class (class 0 first), not shuffled.
    y : numpy.ndarray of int64, shape (n_samples,)
        Labels 0 and 1.

    Notes
    -----
    The random draws are made class by class, angle noise before radius
    noise, so with ``noise=0`` the points lie exactly on the curve
    ``|r| = 4 |sin(petals * t)|``.
    """
    n_samples = _check_int("n_samples", n_samples, 2)
    if n_samples % 2:
        raise ValueError(
            f"n_samples must be even (half the points per class), got {n_samples}; "
            f"use {n_samples - 1} or {n_samples + 1}"
        )
    noise = _check_real("noise", noise)
    petals = _check_int("petals", petals, 1)
    rng = np.random.default_rng(seed)
    n = n_samples // 2
    amplitude = 4.0
    parts = []
    for j in range(2):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, n) + noise * rng.standard_normal(n)
        r = amplitude * np.sin(petals * t) + noise * rng.standard_normal(n)
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    return _finish(np.concatenate(parts), _labels([n, n]))


def moons(n_samples=200, noise=0.1, seed=0):
    """Two interleaving half circles.

    Class 0 lies on the upper half of the unit circle, ``(cos s, sin s)`` for
    ``s`` in ``[0, pi]``; class 1 on the lower half circle shifted to
    ``(1 - cos s, 0.5 - sin s)``.  Gaussian noise with standard deviation
    ``noise`` is added to both coordinates.

    Parameters
    ----------
    n_samples : int, default 200
        Total number of points; must be >= 2.  Class 0 gets the extra point
        when ``n_samples`` is odd.
    noise : float, default 0.1
        Standard deviation of the coordinate noise; must be >= 0.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_samples, 2)
        Points grouped by class (class 0 first), not shuffled.
    y : numpy.ndarray of int64, shape (n_samples,)
        Labels 0 and 1.
    """
    n_samples = _check_int("n_samples", n_samples, 2, " (one point per class at least)")
    noise = _check_real("noise", noise)
    rng = np.random.default_rng(seed)
    n0, n1 = _class_sizes(n_samples, 2)
    s0 = np.linspace(0.0, np.pi, n0)
    s1 = np.linspace(0.0, np.pi, n1)
    upper = np.column_stack([np.cos(s0), np.sin(s0)])
    lower = np.column_stack([1.0 - np.cos(s1), 0.5 - np.sin(s1)])
    X = np.concatenate([upper, lower])
    X = X + noise * rng.standard_normal(X.shape)
    return _finish(X, _labels([n0, n1]))


def circles(n_samples=200, noise=0.05, factor=0.5, seed=0):
    """Two concentric circles.

    Class 0 lies on the unit circle, class 1 on the circle of radius
    ``factor``; angles are evenly spaced over ``[0, 2 pi)``.  Gaussian noise
    with standard deviation ``noise`` is added to both coordinates.

    Parameters
    ----------
    n_samples : int, default 200
        Total number of points; must be >= 2.  Class 0 (outer circle) gets
        the extra point when ``n_samples`` is odd.
    noise : float, default 0.05
        Standard deviation of the coordinate noise; must be >= 0.
    factor : float, default 0.5
        Radius of the inner circle relative to the outer one; must satisfy
        ``0 < factor < 1``.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_samples, 2)
        Points grouped by class (outer circle first), not shuffled.
    y : numpy.ndarray of int64, shape (n_samples,)
        Labels 0 (outer) and 1 (inner).
    """
    n_samples = _check_int("n_samples", n_samples, 2, " (one point per class at least)")
    noise = _check_real("noise", noise)
    factor = _check_real("factor", factor, 0.0, strict=True, maximum=1.0)
    rng = np.random.default_rng(seed)
    n0, n1 = _class_sizes(n_samples, 2)
    s0 = np.linspace(0.0, 2.0 * np.pi, n0, endpoint=False)
    s1 = np.linspace(0.0, 2.0 * np.pi, n1, endpoint=False)
    outer = np.column_stack([np.cos(s0), np.sin(s0)])
    inner = factor * np.column_stack([np.cos(s1), np.sin(s1)])
    X = np.concatenate([outer, inner])
    X = X + noise * rng.standard_normal(X.shape)
    return _finish(X, _labels([n0, n1]))


def spirals(n_samples=300, n_classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms, one per class (the CS231n toy data set).

    For class ``k`` with ``N_k`` points::

        r = linspace(0, 1, N_k)
        theta = linspace(4 k, 4 (k + 1), N_k) + noise * normal(N_k)
        point = (r * sin(theta), r * cos(theta))

    Parameters
    ----------
    n_samples : int, default 300
        Total number of points; must be >= ``n_classes``.  The first classes
        get the extra points when it does not divide evenly.
    n_classes : int, default 3
        Number of arms / classes; must be >= 2.
    noise : float, default 0.2
        Standard deviation of the angular noise; must be >= 0.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_samples, 2)
        Points grouped by class (class 0 first), not shuffled.
    y : numpy.ndarray of int64, shape (n_samples,)
        Labels ``0 .. n_classes - 1``.
    """
    n_classes = _check_int("n_classes", n_classes, 2)
    n_samples = _check_int(
        "n_samples", n_samples, n_classes, f" (at least one point per class, n_classes={n_classes})"
    )
    noise = _check_real("noise", noise)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n_samples, n_classes)
    parts = []
    for k, n in enumerate(sizes):
        r = np.linspace(0.0, 1.0, n)
        theta = np.linspace(4.0 * k, 4.0 * (k + 1), n) + noise * rng.standard_normal(n)
        parts.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
    return _finish(np.concatenate(parts), _labels(sizes))


def blobs(n_samples=300, n_features=2, centers=3, cluster_std=1.0, seed=0):
    """Isotropic Gaussian clusters, one per class.

    The cluster centres are drawn uniformly from the box ``[-10, 10]^d``
    (``d = n_features``); each point is its class centre plus Gaussian noise
    with standard deviation ``cluster_std`` in every coordinate.

    Parameters
    ----------
    n_samples : int, default 300
        Total number of points; must be >= ``centers``.  The first clusters
        get the extra points when it does not divide evenly.
    n_features : int, default 2
        Dimension of the points; must be >= 1.
    centers : int, default 3
        Number of clusters (classes); must be >= 1.
    cluster_std : float, default 1.0
        Standard deviation of each cluster; must be >= 0.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_samples, n_features)
        Points grouped by cluster (cluster 0 first), not shuffled.
    y : numpy.ndarray of int64, shape (n_samples,)
        Labels ``0 .. centers - 1``.
    """
    centers = _check_int("centers", centers, 1)
    n_samples = _check_int(
        "n_samples", n_samples, centers, f" (at least one point per cluster, centers={centers})"
    )
    n_features = _check_int("n_features", n_features, 1)
    cluster_std = _check_real("cluster_std", cluster_std)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n_samples, centers)
    means = rng.uniform(-10.0, 10.0, size=(centers, n_features))
    y = _labels(sizes)
    X = means[y] + cluster_std * rng.standard_normal((n_samples, n_features))
    return _finish(X, y)


def teacher(n_samples=1000, n_features=20, n_classes=2, hidden=32, noise=0.0, seed=0):
    """A learnable synthetic classification task labelled by a random network.

    Inputs are standard normal.  A random "teacher" network with one tanh
    hidden layer (no biases; weights normal with standard deviation
    ``1 / sqrt(fan_in)``) maps each input to ``n_classes`` logits.  Each
    logit column has its median over the sample subtracted, and then per-class
    offsets ``b`` are tuned (a few rounds of coordinate updates) so that every
    class wins on its share of the points; the label is::

        y = argmax(logits - median(logits, axis=0) + b + noise * gumbel)

    With ``noise=0`` the classes come out as evenly sized as
    ``n_samples`` allows in all but degenerate cases (e.g. ``hidden=1`` with
    many classes, where the sizes can differ more; no empty class has been
    seen there either for ``n_samples >= 10 * n_classes``).  Median centring alone is not enough
    for more than two classes: it can leave a class empty.

    With ``noise=0`` the labels are a deterministic, smooth function of
    ``X``, so a student network of similar size can fit them; larger
    ``noise`` blurs the decision boundaries (Gumbel noise makes the labels
    samples from ``softmax(centred_logits / noise)``).

    Parameters
    ----------
    n_samples : int, default 1000
        Number of points; must be >= 1.  For ``n_samples >= 10 * n_classes``
        the classes are reasonably balanced and none is empty.
    n_features : int, default 20
        Input dimension; must be >= 1.
    n_classes : int, default 2
        Number of classes; must be >= 2.
    hidden : int, default 32
        Width of the teacher's hidden layer; must be >= 1.
    noise : float, default 0.0
        Scale of the Gumbel noise added to the logits; must be >= 0.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``; it determines both the inputs
        and the teacher's weights.

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_samples, n_features)
        Inputs in random order (not grouped by class).
    y : numpy.ndarray of int64, shape (n_samples,)
        Labels ``0 .. n_classes - 1``.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_features = _check_int("n_features", n_features, 1)
    n_classes = _check_int("n_classes", n_classes, 2)
    hidden = _check_int("hidden", hidden, 1)
    noise = _check_real("noise", noise)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    w1 = rng.normal(0.0, 1.0 / math.sqrt(n_features), size=(n_features, hidden))
    w2 = rng.normal(0.0, 1.0 / math.sqrt(hidden), size=(hidden, n_classes))
    logits = np.tanh(X @ w1) @ w2
    scores = logits - np.median(logits, axis=0)
    scores = scores + _balancing_offsets(scores)
    if noise > 0.0:
        scores = scores + noise * rng.gumbel(size=scores.shape)
    y = np.argmax(scores, axis=1)
    return _finish(X, y)


def _balancing_offsets(scores, rounds=25):
    """Per-class offsets that make ``argmax(scores + offsets)`` near balanced.

    Block coordinate updates: for each class in turn, choose its offset so
    that, with the other offsets fixed, it wins exactly its share of the
    points (the ones where its score beats the best rival by the largest
    margin).  Median centring alone balances two classes well but can leave
    a class empty when there are more; a few rounds of these updates fix it.
    """
    n, k = scores.shape
    offsets = np.zeros(k)
    targets = _class_sizes(n, k)
    for _ in range(rounds):
        counts = np.bincount(np.argmax(scores + offsets, axis=1), minlength=k)
        if np.array_equal(counts, targets):
            break
        for c in range(k):
            shifted = scores + offsets
            rivals = np.delete(shifted, c, axis=1).max(axis=1)
            margin = np.sort(scores[:, c] - rivals)[::-1]  # descending
            want = targets[c]
            if want == 0:
                continue
            if want == n:
                offsets[c] = -margin[-1] + 1.0
                continue
            # place the threshold midway between the want-th and next margin
            offsets[c] = -0.5 * (margin[want - 1] + margin[want])
    return offsets


# ---------------------------------------------------------------------------
# Utilities
# ---------------------------------------------------------------------------


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
    ValueError
        If ``y`` is not 1-D, holds non-integer or negative values, or holds a
        label ``>= n_classes``; or if ``n_classes`` is not an integer >= 1.

    Examples
    --------
    >>> one_hot([0, 2, 1]).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(
            f"y must be a 1-D array of integer class labels, got an array of shape {arr.shape}; "
            "flatten it (e.g. y.reshape(-1)) or pass class indices, not one-hot rows"
        )
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
        raise ValueError(
            f"y must hold integer class labels, got dtype {arr.dtype}; "
            "convert it with y.astype(np.int64)"
        )
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            bad = arr[~(np.isfinite(arr) & (arr == np.round(arr)))][0].item()
            raise ValueError(
                f"y must hold integer class labels, got non-integer value {bad!r}; "
                "round or map the labels to 0 .. k-1 first"
            )
    if arr.size and arr.min() < 0:
        raise ValueError(
            f"y must hold labels >= 0, got negative label {arr.min().item()!r}; "
            "map the labels to 0 .. k-1 first"
        )
    labels = arr.astype(np.int64)
    if n_classes is None:
        if labels.size == 0:
            raise ValueError(
                "n_classes is required when y is empty (cannot infer it from max(y) + 1); "
                "pass n_classes explicitly"
            )
        n_classes = int(labels.max()) + 1
    else:
        n_classes = _check_int("n_classes", n_classes, 1)
        if labels.size and labels.max() >= n_classes:
            raise ValueError(
                f"y holds label {int(labels.max())} but n_classes={n_classes}; labels must be "
                f"< n_classes, so pass n_classes >= {int(labels.max()) + 1} or omit it"
            )
    out = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


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
    ValueError
        If ``X`` is not 2-D, is empty when fitting, if only one of ``mean``
        and ``std`` is given, or if their shapes do not match ``X``.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"X must be a 2-D array of shape (n_samples, n_features), got shape {X.shape}; "
            "reshape a single feature with X.reshape(-1, 1)"
        )
    if (mean is None) != (std is None):
        raise ValueError(
            "mean and std must be given together (to reuse a previous fit) or both omitted "
            f"(to fit on X), got mean={'None' if mean is None else 'array'} and "
            f"std={'None' if std is None else 'array'}"
        )
    if mean is None:
        if X.shape[0] == 0:
            raise ValueError("X must have at least one row to fit mean and std, got shape "
                             f"{X.shape}")
        mean = X.mean(axis=0)
        std = X.std(axis=0)
    else:
        mean = np.asarray(mean, dtype=np.float64)
        std = np.asarray(std, dtype=np.float64)
        for name, value in (("mean", mean), ("std", std)):
            if value.shape != (X.shape[1],):
                raise ValueError(
                    f"{name} must have shape ({X.shape[1]},) to match X with {X.shape[1]} "
                    f"columns, got shape {value.shape}"
                )
        if np.any(std < 0):
            raise ValueError(f"std must be >= 0 in every column, got {std}")
    eps = np.finfo(np.float64).eps
    constant = (std == 0) | (std <= 16 * eps * np.abs(mean))
    std = np.where(constant, 1.0, std)
    Xs = np.ascontiguousarray((X - mean) / std)
    return Xs, mean.copy(), std


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


# ---------------------------------------------------------------------------
# scikit-learn's handwritten digits
# ---------------------------------------------------------------------------


def digits(n_samples=None, n_classes=10, scale=True, seed=0):
    """The 8x8 handwritten digits shipped with scikit-learn (real data, no download).

    1,797 grey-scale images of the digits 0-9 (about 180 per class) from the
    UCI "Optical Recognition of Handwritten Digits" data set, as loaded by
    :func:`sklearn.datasets.load_digits`.

    Parameters
    ----------
    n_samples : int, optional
        Return a random subset of this many images (drawn without replacement
        with ``seed``, kept in the original order); ``None`` returns all of
        them in scikit-learn's order.
    n_classes : int, default 10
        Keep only the digits ``0 .. n_classes - 1``; must be in ``2 .. 10``.
    scale : bool, default True
        Divide the pixel values (integers 0-16) by 16 so ``X`` lies in
        ``[0, 1]``; ``False`` keeps the raw counts.
    seed : int, default 0
        Seed for the subset drawn when ``n_samples`` is given; unused
        otherwise (the data set itself is fixed).

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_samples, 64)
        One flattened 8x8 image per row (row-major pixels).
    y : numpy.ndarray of int64, shape (n_samples,)
        The digit shown, ``0 .. n_classes - 1``.

    Raises
    ------
    MissingDependencyError
        scikit-learn is not installed (an ``ImportError``).
    ValueError
        ``n_classes`` outside ``2 .. 10`` or ``n_samples`` larger than the
        available images.
    """
    n_classes = _check_int("n_classes", n_classes, 2)
    if n_classes > 10:
        raise InvalidArgumentError(f"n_classes must be an integer in 2 .. 10, got {n_classes}")
    if n_samples is not None:
        n_samples = _check_int("n_samples", n_samples, 1)
    if not isinstance(scale, (bool, np.bool_)):
        raise InvalidArgumentError(f"scale must be True or False, got {scale!r}")
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise MissingDependencyError("digits needs scikit-learn: pip install scikit-learn") from None
    bunch = load_digits(n_class=n_classes)
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.int64)
    if n_samples is not None:
        if n_samples > X.shape[0]:
            raise InvalidArgumentError(
                f"n_samples must be <= {X.shape[0]} (the digits 0..{n_classes - 1} available), "
                f"got {n_samples}"
            )
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(X.shape[0], size=n_samples, replace=False))
        X, y = X[keep], y[keep]
    if scale:
        X = X / 16.0
    return _finish(X, y)


# ---------------------------------------------------------------------------
# IDX files (MNIST, Fashion-MNIST)
# ---------------------------------------------------------------------------

#: IDX type codes -> big-endian NumPy dtypes (the format stores everything big-endian).
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: The standard file names of each split, as published (the ``.gz`` files are downloaded).
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

#: Base URLs tried in order by ``load_mnist(..., download=True)``.
MNIST_MIRRORS = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
}

#: Published checksums of the ``.gz`` files: ``(algorithm, hex digest)``, the MD5 sums
#: that torchvision and the Fashion-MNIST repository publish. A download is used only
#: when its digest matches; a file without an entry here cannot be downloaded.
MNIST_CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": ("md5", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "train-labels-idx1-ubyte.gz": ("md5", "d53e105ee54ea40749a09fcbcd1e9432"),
        "t10k-images-idx3-ubyte.gz": ("md5", "9fb629c4189551a2d022fa330f9573f3"),
        "t10k-labels-idx1-ubyte.gz": ("md5", "ec29112dd5afa0611ce80d1b7f02629c"),
    },
    "fashion": {
        "train-images-idx3-ubyte.gz": ("md5", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        "train-labels-idx1-ubyte.gz": ("md5", "25c81989df183df01b3e8a0aad5dffbe"),
        "t10k-images-idx3-ubyte.gz": ("md5", "bef4ecab320f06d8554ea6380940ec79"),
        "t10k-labels-idx1-ubyte.gz": ("md5", "bb300cfdad3c16e7a12a480ee83cd310"),
    },
}


def _read_bytes(path):
    """The (decompressed, for ``.gz``) bytes of ``path``; a broken gzip is a DataFormatError."""
    if path.name.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read()
        except (OSError, EOFError, zlib.error) as exc:
            raise DataFormatError(f"{str(path)!r} is not a valid gzip file ({exc})") from None
    return path.read_bytes()


def read_idx(path):
    """Read one IDX file (the MNIST format), plain or gzip-compressed.

    The header is two zero bytes, a type code (``0x08`` unsigned byte,
    ``0x09`` signed byte, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32,
    ``0x0E`` float64), the number of dimensions, then each dimension as a
    big-endian uint32; the data follow in row-major, big-endian order.

    Parameters
    ----------
    path : str or os.PathLike
        The file; a name ending in ``.gz`` is decompressed.

    Returns
    -------
    numpy.ndarray
        Of the stored shape, in native byte order (``uint8`` for MNIST).

    Raises
    ------
    DataFormatError
        A wrong magic number, an unknown type code, a truncated header or
        data, or trailing bytes; the message names the file.
    DataNotFoundError
        ``path`` does not exist.
    """
    path = _require_file(path, "IDX file")
    raw = _read_bytes(path)
    name = repr(str(path))
    if len(raw) < 4:
        raise DataFormatError(f"{name} is truncated: {len(raw)} bytes, too short for an IDX header")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in _IDX_DTYPES:
        raise DataFormatError(
            f"{name} is not an IDX file: wrong magic number 0x{raw[:4].hex()} (expected 0x0000 "
            f"followed by a type code in {sorted(hex(c) for c in _IDX_DTYPES)} and the rank, "
            "e.g. 0x00000803 for images, 0x00000801 for labels)"
        )
    if ndim == 0:
        raise DataFormatError(f"{name} declares 0 dimensions; an IDX file needs at least one")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFormatError(
            f"{name} is truncated: its header declares {ndim} dimensions ({header} bytes) "
            f"but the file has {len(raw)} bytes"
        )
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    found = len(raw) - header
    if found < expected:
        raise DataFormatError(
            f"{name} is truncated: dimensions {dims} need {expected} bytes of {dtype.name} data "
            f"but only {found} follow the header"
        )
    if found > expected:
        raise DataFormatError(
            f"{name} has {found - expected} unexpected trailing bytes after the {expected} bytes "
            f"of data its dimensions {dims} declare"
        )
    data = np.frombuffer(raw, dtype=dtype, count=math.prod(dims), offset=header)
    return data.reshape(dims).astype(dtype.newbyteorder("="))


def _find_idx(directory, stem):
    """The first existing file for ``stem`` (plain, .gz, or the 'name.idx3-ubyte' spelling)."""
    dotted = stem.replace("-idx", ".idx", 1)
    for candidate in (stem, stem + ".gz", dotted, dotted + ".gz"):
        path = directory / candidate
        if path.is_file():
            return path
    return None


def _digest(path, algorithm):
    h = hashlib.new(algorithm, usedforsecurity=False) if algorithm == "md5" else hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _checksum_for(variant, filename):
    entry = MNIST_CHECKSUMS.get(variant, {}).get(filename)
    if not entry or not entry[1]:
        raise ChecksumError(
            f"no published checksum is known for {variant} file {filename!r}, so xpnet will not "
            "download it unverified; download it yourself into the directory (load_mnist reads "
            "files that are already there) or add its digest to xpnet.datasets.MNIST_CHECKSUMS"
        )
    return entry


def _verify(path, variant, filename):
    algorithm, expected = _checksum_for(variant, filename)
    actual = _digest(path, algorithm)
    if actual.lower() != expected.lower():
        raise ChecksumError(
            f"{str(path)!r} has {algorithm} {actual}, but the published {algorithm} of {variant} "
            f"{filename!r} is {expected}; the file is corrupt or not the original"
        )


def _download(directory, variant, filename, timeout=60.0):
    """Fetch ``filename`` from the variant's mirrors into ``directory``, verified; return its path."""
    algorithm, expected = _checksum_for(variant, filename)  # refuse before any traffic if unknown
    target = directory / filename
    partial = directory / (filename + ".part")
    failures, mismatch = [], False
    for base in MNIST_MIRRORS[variant]:
        url = base + filename
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as out:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
        except OSError as exc:  # URLError, HTTPError, timeouts, connection resets
            failures.append(f"{url}: {exc}")
            partial.unlink(missing_ok=True)
            continue
        actual = _digest(partial, algorithm)
        if actual.lower() != expected.lower():
            failures.append(f"{url} sent a file with {algorithm} {actual}, not the published {expected}")
            mismatch = True
            partial.unlink(missing_ok=True)
            continue
        os.replace(partial, target)
        return target
    detail = "; ".join(failures)
    if mismatch:
        raise ChecksumError(
            f"no mirror delivered {variant} {filename!r} with its published checksum, so nothing was "
            f"kept: {detail}"
        )
    raise DownloadError(
        f"could not download {variant} {filename!r} from any mirror ({detail}); download it by "
        f"hand into {str(directory)!r} and call load_mnist without download=True"
    )


def load_mnist(directory, kind="train", variant="mnist", download=False):
    """MNIST or Fashion-MNIST from the standard IDX files in ``directory``.

    Looks for ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``
    (``kind="train"``, 60,000 images) or ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte`` (``kind="test"``, 10,000 images), each plain or
    with ``.gz`` (the ``train-images.idx3-ubyte`` spelling is accepted too).
    Both variants use the same file names, so keep them in separate
    directories.

    Parameters
    ----------
    directory : str or os.PathLike
        Where the files are (created when downloading).
    kind : {"train", "test"}
        Which split to read.
    variant : {"mnist", "fashion"}
        Which data set: the digits, or Zalando's Fashion-MNIST.  Only matters
        for downloading (the mirrors and checksums differ).
    download : bool, default False
        Fetch the four ``.gz`` files of the variant that are not already in
        ``directory`` from :data:`MNIST_MIRRORS` (tried in order) with
        :mod:`urllib`, and verify every ``.gz`` file against the published MD5
        in :data:`MNIST_CHECKSUMS` before it is used.  A file whose checksum
        does not match is never used (a mismatching download is deleted).

    Returns
    -------
    X : numpy.ndarray of float64, shape (n, rows * cols)
        Pixel intensities scaled to ``[0, 1]``, one flattened image per row
        (``(n, 784)`` for the 28x28 images of MNIST and Fashion-MNIST).
    y : numpy.ndarray of int64, shape (n,)
        Labels ``0 .. 9``.

    Raises
    ------
    DataNotFoundError
        A file is missing and ``download`` is False.
    DataFormatError
        A malformed file (wrong magic number, type other than unsigned byte,
        wrong rank, truncated data) or images and labels whose counts differ;
        the message names the file(s).
    ChecksumError
        A ``.gz`` file does not match its published checksum (``download=True``).
    DownloadError
        No mirror could deliver a missing file.
    """
    if kind not in MNIST_FILES:
        raise InvalidArgumentError(f"kind must be 'train' or 'test', got {kind!r}")
    if variant not in MNIST_MIRRORS:
        raise InvalidArgumentError(f"variant must be 'mnist' or 'fashion', got {variant!r}")
    if not isinstance(download, (bool, np.bool_)):
        raise InvalidArgumentError(f"download must be True or False, got {download!r}")
    try:
        directory = Path(os.fspath(directory))
    except TypeError:
        raise InvalidArgumentError(
            f"directory must be a str or os.PathLike, got {directory!r} of type {type(directory).__name__}"
        ) from None
    if download:
        directory.mkdir(parents=True, exist_ok=True)
        for stems in MNIST_FILES.values():
            for stem in stems:
                existing = _find_idx(directory, stem)
                if existing is None:
                    _download(directory, variant, stem + ".gz")
                elif existing.name == stem + ".gz":
                    _verify(existing, variant, existing.name)
    paths = []
    for stem in MNIST_FILES[kind]:
        path = _find_idx(directory, stem)
        if path is None:
            raise DataNotFoundError(
                f"no {stem!r} (or {stem + '.gz'!r}) in {str(directory)!r}; put the {variant} IDX "
                "files there or pass download=True"
            )
        paths.append(path)
    images_path, labels_path = paths
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    for path, arr, rank, what in ((images_path, images, 3, "images (n, rows, cols)"),
                                  (labels_path, labels, 1, "labels (n,)")):
        if arr.dtype != np.uint8:
            raise DataFormatError(
                f"{str(path)!r} holds {arr.dtype} data; MNIST {what} are unsigned bytes (type code 0x08)"
            )
        if arr.ndim != rank:
            raise DataFormatError(
                f"{str(path)!r} has {arr.ndim} dimensions {arr.shape}; MNIST {what} have {rank}"
            )
    if images.shape[0] != labels.shape[0]:
        raise DataFormatError(
            f"count mismatch: {str(images_path)!r} holds {images.shape[0]} images but "
            f"{str(labels_path)!r} holds {labels.shape[0]} labels"
        )
    X = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
    return _finish(X, labels)


# ---------------------------------------------------------------------------
# CSV and NPZ files
# ---------------------------------------------------------------------------


def _open_text(path):
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _split_rows(path, delimiter, limit=None):
    """``[(line_number, [cells])]`` of the non-blank lines (at most ``limit``), cells stripped."""
    rows = []
    try:
        with _open_text(path) as fh:
            if delimiter is None:
                for number, line in enumerate(fh, start=1):
                    cells = line.split()
                    if cells:
                        rows.append((number, cells))
                        if limit is not None and len(rows) >= limit:
                            break
            else:
                reader = csv.reader(fh, delimiter=delimiter)
                for cells in reader:
                    if not cells or (len(cells) == 1 and not cells[0].strip()):
                        continue  # a blank line
                    rows.append((reader.line_num, [c.strip() for c in cells]))
                    if limit is not None and len(rows) >= limit:
                        break
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{str(path)!r} is not UTF-8 text ({exc})") from None
    except csv.Error as exc:
        raise DataFormatError(f"{str(path)!r} is not valid CSV ({exc})") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"could not read {str(path)!r} ({exc})") from None
    return rows


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _integral_labels(values, where):
    """``values`` (float64) as int64 labels, or a DataFormatError naming the first bad one."""
    bad = ~np.isfinite(values) | (values != np.round(values))
    if np.any(bad):
        i = int(np.argmax(bad))
        raise DataFormatError(
            f"{where(i)} holds {values[i].item()!r}, not an integer class label; labels must be whole "
            "numbers 0 .. k-1 (map names such as 'setosa' to numbers first)"
        )
    return values.astype(np.int64)


def load_csv(path, label_column=-1, delimiter=",", skip_header="auto"):
    """Read labelled data from a CSV file: one sample per row, all cells numbers.

    Parameters
    ----------
    path : str or os.PathLike
        The file (UTF-8; a name ending in ``.gz`` is decompressed).  Blank
        lines are skipped; cells may be quoted.
    label_column : int or str, default -1
        The column holding the integer class labels: a position (negative
        counts from the end, so the default is the last column) or, for a
        file with a header, its name.  Every other column is a feature.
    delimiter : str or None, default ","
        The cell separator (``";"``, ``"\\t"``, ...); ``None`` splits on runs
        of whitespace.
    skip_header : "auto", bool, default "auto"
        Whether the first row is a header of column names.  ``"auto"``
        treats it as one when any of its cells is not a number.

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_rows, n_columns - 1)
    y : numpy.ndarray of int64, shape (n_rows,)

    Raises
    ------
    DataFormatError
        A cell that is not a number (naming its line and column), rows of
        different lengths (naming the first that differs), non-integer labels,
        or a file without data rows.
    InvalidArgumentError
        ``label_column`` names no column of the file.
    DataNotFoundError
        ``path`` does not exist.
    """
    path = _require_file(path, "CSV file")
    if skip_header not in ("auto", True, False):
        raise InvalidArgumentError(f"skip_header must be 'auto', True or False, got {skip_header!r}")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise InvalidArgumentError(
            f"delimiter must be a single character such as ',' or ';' (or None for whitespace), "
            f"got {delimiter!r}"
        )
    if isinstance(label_column, (bool, np.bool_)) or not isinstance(label_column, (numbers.Integral, str)):
        raise InvalidArgumentError(
            f"label_column must be a column position (int) or a header name (str), got {label_column!r}"
        )
    name = repr(str(path))
    head = _split_rows(path, delimiter, limit=2)  # enough to see the header and the width
    if not head:
        raise DataFormatError(f"{name} holds no data rows")
    header = None
    if skip_header is True or (skip_header == "auto" and not all(map(_is_number, head[0][1]))):
        header, head = head[0][1], head[1:]
    if not head:
        raise DataFormatError(f"{name} holds a header row but no data rows")
    width = len(header) if header is not None else len(head[0][1])
    if width < 2:
        raise DataFormatError(
            f"{name} has {width} column; it needs at least one feature column and the label column"
        )

    def column_name(j):
        return f"column {j + 1}" + (f" ({header[j]!r})" if header is not None else "")

    if isinstance(label_column, str):
        if header is None:
            raise InvalidArgumentError(
                f"label_column={label_column!r} is a column name, but {name} has no header row; "
                "pass a position such as -1 (or skip_header=True if the first row is a header)"
            )
        if label_column not in header:
            raise InvalidArgumentError(
                f"label_column {label_column!r} is not a column of {name}; its columns are "
                f"{', '.join(map(repr, header))}"
            )
        j_label = header.index(label_column)
    else:
        j_label = int(label_column)
        if not -width <= j_label < width:
            raise InvalidArgumentError(
                f"label_column={j_label} is out of range for {name}, whose rows have {width} columns "
                f"(valid: {-width} .. {width - 1})"
            )
        j_label %= width

    first_data_line = head[0][0]
    data = _parse_fast(path, delimiter, skiprows=first_data_line - 1, width=width)
    line_numbers = None  # the fast parser keeps none; they are found again on an error
    if data is None:  # something is wrong (or unusual): parse cell by cell and say exactly where
        rows = [r for r in _split_rows(path, delimiter) if r[0] >= first_data_line]
        data = np.empty((len(rows), width), dtype=np.float64)
        for i, (line, cells) in enumerate(rows):
            if len(cells) != width:
                source = "the header" if header is not None else f"line {first_data_line}"
                raise DataFormatError(
                    f"ragged rows in {name}: line {line} has {len(cells)} cells but {source} has {width}"
                )
            for j, cell in enumerate(cells):
                try:
                    data[i, j] = float(cell)
                except ValueError:
                    shown = "an empty cell" if cell == "" else repr(cell)
                    raise DataFormatError(
                        f"{name}, line {line}, {column_name(j)}: {shown} is not a number"
                    ) from None
        line_numbers = [line for line, _ in rows]

    def where(i):
        lines = line_numbers
        if lines is None:  # only on this error path: find the lines again
            lines = [r[0] for r in _split_rows(path, delimiter) if r[0] >= first_data_line]
        return f"{name}, line {lines[i]}, label {column_name(j_label)}"

    y = _integral_labels(data[:, j_label], where)
    X = np.delete(data, j_label, axis=1)
    return _finish(X, y)


def _parse_fast(path, delimiter, skiprows, width):
    """NumPy's C parser for the well-formed common case; None to fall back to the careful one."""
    try:
        data = np.loadtxt(path, delimiter=delimiter, skiprows=skiprows, comments=None,
                          dtype=np.float64, ndmin=2, quotechar='"' if delimiter is not None else None,
                          encoding="utf-8-sig")
    except (ValueError, OSError, EOFError, UnicodeDecodeError, zlib.error):
        return None
    return data if data.ndim == 2 and data.shape[1] == width and data.shape[0] > 0 else None


def load_npz(path, x_key="X", y_key="y"):
    """Read ``(X, y)`` from a NumPy ``.npz`` archive (as written by ``numpy.savez``).

    Parameters
    ----------
    path : str or os.PathLike
        The archive.  It is opened with ``allow_pickle=False``: arrays of
        Python objects are refused, so loading a file cannot run code.
    x_key, y_key : str, default "X" and "y"
        The names of the feature and label arrays in the archive
        (``numpy.savez(path, X=X, y=y)``).

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_samples, n_features)
        The features; a 1-D array is refused (reshape it to one column).
    y : numpy.ndarray of int64, shape (n_samples,)
        The labels; a column ``(n, 1)`` is flattened; floats must be whole
        numbers.

    Raises
    ------
    DataFormatError
        Not an ``.npz`` archive, a missing key (the message lists the keys
        present), object arrays, non-numeric or NaN/infinite data, a wrong
        rank, non-integer labels, or ``X`` and ``y`` of different lengths.
    DataNotFoundError
        ``path`` does not exist.
    """
    path = _require_file(path, ".npz file")
    name = repr(str(path))
    for key_name, key in (("x_key", x_key), ("y_key", y_key)):
        if not isinstance(key, str):
            raise InvalidArgumentError(f"{key_name} must be a str naming an array, got {key!r}")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataFormatError(f"{name} is not a NumPy .npz archive ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataFormatError(
            f"{name} is a single .npy array, not an .npz archive; save X and y together with "
            "numpy.savez(path, X=X, y=y)"
        )
    with archive:
        keys = list(archive.files)
        arrays = []
        for key_name, key in (("x_key", x_key), ("y_key", y_key)):
            if key not in keys:
                raise DataFormatError(
                    f"{name} has no array {key!r} ({key_name}); it holds "
                    f"{', '.join(map(repr, keys)) or 'nothing'}; pass {key_name}= with one of those names"
                )
            try:
                arrays.append(archive[key])
            except ValueError as exc:  # object arrays need pickle, which is refused
                raise DataFormatError(
                    f"{name}: array {key!r} cannot be read without pickle ({exc}); save numeric arrays"
                ) from None
    X, y = arrays
    for key, arr in ((x_key, X), (y_key, y)):
        if arr.dtype.kind not in "biuf":
            raise DataFormatError(f"{name}: array {key!r} has dtype {arr.dtype}; it must hold real numbers")
    if X.ndim != 2:
        raise DataFormatError(
            f"{name}: array {x_key!r} has shape {X.shape}; features must be 2-D (n_samples, n_features)"
            + ("; save X.reshape(-1, 1) for a single feature" if X.ndim == 1 else "")
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataFormatError(
            f"{name}: array {y_key!r} has shape {y.shape}; labels must be 1-D (n_samples,) "
            "integer classes (convert one-hot rows with argmax(axis=1))"
        )
    if X.shape[0] != y.shape[0]:
        raise DataFormatError(
            f"{name}: {x_key!r} has {X.shape[0]} rows but {y_key!r} has {y.shape[0]} labels"
        )
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        i, j = np.argwhere(~np.isfinite(X))[0]
        raise DataFormatError(f"{name}: {x_key}[{i}, {j}] is {X[i, j].item()}; features must be finite")
    y = _integral_labels(y.astype(np.float64), lambda i: f"{name}: {y_key}[{i}]")
    return _finish(X, y)


# ---------------------------------------------------------------------------
# Splitting
# ---------------------------------------------------------------------------


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
    ValueError
        Lengths differ, fewer than two rows, or a ``test_size`` that would
        leave a part empty.
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
    if isinstance(test_size, (bool, np.bool_)) or not isinstance(test_size, numbers.Real):
        raise InvalidArgumentError(
            f"test_size must be a fraction in (0, 1) or a row count, got {test_size!r}"
        )
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise InvalidArgumentError(f"test_size must be a row count in 1 .. {n - 1}, got {n_test}")
    else:
        fraction = float(test_size)
        if not 0.0 < fraction < 1.0:
            raise InvalidArgumentError(f"test_size must be a fraction in (0, 1), got {fraction}")
        n_test = min(max(int(round(fraction * n)), 1), n - 1)
    rng = np.random.default_rng(seed)
    if not stratify:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        if y.ndim != 1:
            raise InvalidArgumentError(f"stratify=True needs 1-D class labels y, got shape {y.shape}")
        classes, inverse = np.unique(y, return_inverse=True)
        counts = np.bincount(inverse, minlength=len(classes))
        want = counts * (n_test / n)
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
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
    return X[train], X[test], y[train], y[test]


# ---------------------------------------------------------------------------
# Lookup by name
# ---------------------------------------------------------------------------

_GENERATORS = {
    "xor": xor,
    "flower": flower,
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
    "blobs": blobs,
    "teacher": teacher,
}

#: Names of the generated data sets, in a fixed order.
NAMES = tuple(_GENERATORS)

#: Names of the real (not generated) data sets that :func:`load` knows.
REAL_NAMES = ("digits",)

#: Every name accepted by :func:`load`: the generated ones first, then the real ones.
ALL_NAMES = NAMES + REAL_NAMES

_LOADERS = {**_GENERATORS, "digits": digits}


def load(name, **kwargs):
    """Generate (or, for ``"digits"``, read) a built-in data set by name.

    Parameters
    ----------
    name : str
        One of :data:`ALL_NAMES`: the generators ``"xor"``, ``"flower"``,
        ``"moons"``, ``"circles"``, ``"spirals"``, ``"blobs"``, ``"teacher"``
        (:data:`NAMES`), then the real ``"digits"`` (:data:`REAL_NAMES`).
    **kwargs
        Passed on to the function (for example ``n_samples`` or ``seed``).

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_samples, n_features)
    y : numpy.ndarray of int64, shape (n_samples,)
        Whatever the named function returns.

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`ALL_NAMES` (the message lists them), or
        if the function rejects one of ``kwargs``' values.
    MissingDependencyError
        ``"digits"`` without scikit-learn installed.

    Examples
    --------
    >>> X, y = load("moons", n_samples=10, seed=1)
    >>> X.shape, y.shape
    ((10, 2), (10,))
    """
    try:
        function = _LOADERS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown data set name {name!r}; expected one of: {', '.join(ALL_NAMES)}"
        ) from None
    return function(**kwargs)
