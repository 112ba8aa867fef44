"""The seeded, generated data sets: xor, flower, moons, circles, spirals, blobs, teacher."""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError
from ..validation import check_int, check_number
from ._common import class_sizes, finish, grouped_labels, rng_for

__all__ = ["NAMES", "GENERATORS", "xor", "flower", "moons", "circles", "spirals", "blobs", "teacher"]


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
    n_repeats = check_int("n_repeats", n_repeats, low=1)
    check_int("seed", seed, low=0, allow_none=True)
    base_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    base_y = np.array([0, 1, 1, 0], dtype=np.int64)
    return finish(np.tile(base_X, (n_repeats, 1)), np.tile(base_y, n_repeats))


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
    n_samples = check_int("n_samples", n_samples, low=2)
    if n_samples % 2:
        raise InvalidArgumentError(
            f"n_samples must be even (half the points per class), got {n_samples}; "
            f"use {n_samples - 1} or {n_samples + 1}"
        )
    noise = check_number("noise", noise, low=0.0)
    petals = check_int("petals", petals, low=1)
    rng = rng_for(seed)
    n = n_samples // 2
    amplitude = 4.0
    parts = []
    for j in range(2):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, n) + noise * rng.standard_normal(n)
        r = amplitude * np.sin(petals * t) + noise * rng.standard_normal(n)
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    return finish(np.concatenate(parts), grouped_labels([n, n]))


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
    n_samples = check_int("n_samples", n_samples, low=2)
    noise = check_number("noise", noise, low=0.0)
    rng = rng_for(seed)
    n0, n1 = class_sizes(n_samples, 2)
    s0 = np.linspace(0.0, np.pi, n0)
    s1 = np.linspace(0.0, np.pi, n1)
    upper = np.column_stack([np.cos(s0), np.sin(s0)])
    lower = np.column_stack([1.0 - np.cos(s1), 0.5 - np.sin(s1)])
    X = np.concatenate([upper, lower])
    X = X + noise * rng.standard_normal(X.shape)
    return finish(X, grouped_labels([n0, n1]))


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
    n_samples = check_int("n_samples", n_samples, low=2)
    noise = check_number("noise", noise, low=0.0)
    factor = check_number("factor", factor, low=0.0, high=1.0, low_open=True, high_open=True)
    rng = rng_for(seed)
    n0, n1 = class_sizes(n_samples, 2)
    s0 = np.linspace(0.0, 2.0 * np.pi, n0, endpoint=False)
    s1 = np.linspace(0.0, 2.0 * np.pi, n1, endpoint=False)
    outer = np.column_stack([np.cos(s0), np.sin(s0)])
    inner = factor * np.column_stack([np.cos(s1), np.sin(s1)])
    X = np.concatenate([outer, inner])
    X = X + noise * rng.standard_normal(X.shape)
    return finish(X, grouped_labels([n0, n1]))


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
    n_classes = check_int("n_classes", n_classes, low=2)
    n_samples = check_int("n_samples", n_samples, low=n_classes)
    noise = check_number("noise", noise, low=0.0)
    rng = rng_for(seed)
    sizes = class_sizes(n_samples, n_classes)
    parts = []
    for k, n in enumerate(sizes):
        r = np.linspace(0.0, 1.0, n)
        theta = np.linspace(4.0 * k, 4.0 * (k + 1), n) + noise * rng.standard_normal(n)
        parts.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
    return finish(np.concatenate(parts), grouped_labels(sizes))


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
    centers = check_int("centers", centers, low=1)
    n_samples = check_int("n_samples", n_samples, low=centers)
    n_features = check_int("n_features", n_features, low=1)
    cluster_std = check_number("cluster_std", cluster_std, low=0.0)
    rng = rng_for(seed)
    sizes = class_sizes(n_samples, centers)
    means = rng.uniform(-10.0, 10.0, size=(centers, n_features))
    y = grouped_labels(sizes)
    X = means[y] + cluster_std * rng.standard_normal((n_samples, n_features))
    return finish(X, y)


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
    n_samples = check_int("n_samples", n_samples, low=1)
    n_features = check_int("n_features", n_features, low=1)
    n_classes = check_int("n_classes", n_classes, low=2)
    hidden = check_int("hidden", hidden, low=1)
    noise = check_number("noise", noise, low=0.0)
    rng = rng_for(seed)
    X = rng.standard_normal((n_samples, n_features))
    w1 = rng.normal(0.0, 1.0 / math.sqrt(n_features), size=(n_features, hidden))
    w2 = rng.normal(0.0, 1.0 / math.sqrt(hidden), size=(hidden, n_classes))
    logits = np.tanh(X @ w1) @ w2
    scores = logits - np.median(logits, axis=0)
    scores = scores + _balancing_offsets(scores)
    if noise > 0.0:
        scores = scores + noise * rng.gumbel(size=scores.shape)
    y = np.argmax(scores, axis=1)
    return finish(X, y)


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
    targets = class_sizes(n, k)
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


#: The generators by name, in a fixed order.
GENERATORS = {
    "xor": xor,
    "flower": flower,
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
    "blobs": blobs,
    "teacher": teacher,
}

#: Names of the generated data sets, in a fixed order.
NAMES = tuple(GENERATORS)
