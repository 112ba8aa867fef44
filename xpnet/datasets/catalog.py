"""The built-in data sets by name: load, NAMES, REAL_NAMES, ALL_NAMES."""

from __future__ import annotations

from .digits import digits
from .generated import GENERATORS, NAMES

__all__ = ["load", "NAMES", "REAL_NAMES", "ALL_NAMES"]

#: Names of the real (not generated) data sets that :func:`load` knows.
REAL_NAMES = ("digits",)

#: Every name accepted by :func:`load`: the generated ones first, then the real ones.
ALL_NAMES = NAMES + REAL_NAMES

_LOADERS = {**GENERATORS, "digits": digits}


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
