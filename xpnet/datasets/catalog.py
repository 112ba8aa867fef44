"""The built-in data sets by name: load, NAMES, REAL_NAMES, ALL_NAMES."""

from __future__ import annotations

import inspect

from ..errors import InvalidArgumentError
from ..validation import check_choice
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
    InvalidArgumentError
        If ``name`` is not one of :data:`ALL_NAMES` (the message lists them),
        ``kwargs`` holds an argument the function does not take, or the
        function rejects one of its values.
    InvalidTypeError
        If ``name`` is not a string.
    MissingDependencyError
        ``"digits"`` without scikit-learn installed.

    Examples
    --------
    >>> X, y = load("moons", n_samples=10, seed=1)
    >>> X.shape, y.shape
    ((10, 2), (10,))
    """
    function = _LOADERS[check_choice("data set name", name, ALL_NAMES, ignore_case=False)]
    try:
        inspect.signature(function).bind(**kwargs)
    except TypeError:
        accepted = ", ".join(inspect.signature(function).parameters)
        unknown = ", ".join(sorted(set(kwargs) - set(inspect.signature(function).parameters)))
        raise InvalidArgumentError(
            f"data set {name!r} takes no argument {unknown}; its arguments are {accepted}"
        ) from None
    return function(**kwargs)
