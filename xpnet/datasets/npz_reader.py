"""Reading (X, y) from a NumPy .npz archive, without pickle."""

from __future__ import annotations

import zipfile

import numpy as np

from ..errors import DataFormatError, InvalidArgumentError
from ..validation import check_path
from ._common import finish
from .csv_reader import _integral_labels

__all__ = ["load_npz"]


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
    path = check_path("path", path, what=".npz file")
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
    return finish(X, y)
