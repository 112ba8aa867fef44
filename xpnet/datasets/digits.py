"""scikit-learn's 8x8 handwritten digits, as (X, y)."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError, MissingDependencyError
from ..validation import check_bool, check_int
from ._common import finish, rng_for

__all__ = ["digits"]


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
    InvalidArgumentError
        ``n_classes`` outside ``2 .. 10`` or ``n_samples`` larger than the
        available images.
    """
    n_classes = check_int("n_classes", n_classes, low=2, high=10)
    n_samples = check_int("n_samples", n_samples, low=1, allow_none=True)
    scale = check_bool("scale", scale)
    rng = rng_for(seed)
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
        keep = np.sort(rng.choice(X.shape[0], size=n_samples, replace=False))
        X, y = X[keep], y[keep]
    if scale:
        X = X / 16.0
    return finish(X, y)
