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
"""

from __future__ import annotations

import math
import numbers

import numpy as np

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

#: Names accepted by :func:`load`, in a fixed order.
NAMES = tuple(_GENERATORS)


def load(name, **kwargs):
    """Generate a built-in data set by name.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`: ``"xor"``, ``"flower"``, ``"moons"``,
        ``"circles"``, ``"spirals"``, ``"blobs"``, ``"teacher"``.
    **kwargs
        Passed on to the generator (for example ``n_samples`` or ``seed``).

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_samples, n_features)
    y : numpy.ndarray of int64, shape (n_samples,)
        Whatever the named generator returns.

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`NAMES` (the message lists them), or
        if the generator rejects one of ``kwargs``' values.

    Examples
    --------
    >>> X, y = load("moons", n_samples=10, seed=1)
    >>> X.shape, y.shape
    ((10, 2), (10,))
    """
    try:
        generator = _GENERATORS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown data set name {name!r}; expected one of: {', '.join(NAMES)}"
        ) from None
    return generator(**kwargs)
