"""What the data-set modules share: the ``(X, y)`` convention and the seeded generator."""

from __future__ import annotations

import numpy as np

from ..validation import check_int


def rng_for(seed):
    """``numpy.random.default_rng(seed)`` for a seed that is a non-negative int (or None)."""
    return np.random.default_rng(check_int("seed", seed, low=0, allow_none=True))


def class_sizes(n_samples, n_classes):
    """Split ``n_samples`` over ``n_classes``; the first classes get the extras."""
    base, extra = divmod(n_samples, n_classes)
    return [base + (1 if k < extra else 0) for k in range(n_classes)]


def grouped_labels(sizes):
    """Grouped labels ``[0]*sizes[0] + [1]*sizes[1] + ...`` as int64."""
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def finish(X, y):
    """Return ``X`` as C-contiguous float64 and ``y`` as 1-D int64."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.int64).reshape(-1)
    return X, y
