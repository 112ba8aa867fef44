"""Reading ``(X, y)`` from a NumPy ``.npz`` archive, without pickle."""

from __future__ import annotations

import zipfile
import zlib

import numpy as np

from ..errors import DataFormatError, InvalidTypeError
from ..validation import check_path
from .targets import check_target, labels_from_floats, labels_from_integers

__all__ = ["load_npz"]


def load_npz(path, x_key="X", y_key="y", *, target="classes"):
    """Read ``(X, y)`` from a NumPy ``.npz`` archive (as written by ``numpy.savez``).

    Parameters
    ----------
    path : str or os.PathLike
        The archive.  It is opened with ``allow_pickle=False``: arrays of
        Python objects are refused, so loading a file cannot run code.
    x_key, y_key : str, default "X" and "y"
        The names of the feature and label arrays in the archive
        (``numpy.savez(path, X=X, y=y)``); ``y_key=None`` reads an archive
        without labels (``y`` is then ``None``).
    target : {"classes", "auto", "values"}, default "classes"
        What the labels are: integer class labels (int64; floats must be
        whole numbers), ``"auto"`` (int64 when every value is a whole number,
        otherwise float64 regression targets) or ``"values"`` (float64
        regression targets).

    Returns
    -------
    X : numpy.ndarray of float64, shape (n_samples, n_features)
        The features; a 1-D array is refused (reshape it to one column).
    y : numpy.ndarray of int64 or float64, shape (n_samples,), or None
        The labels (see ``target``); a column ``(n, 1)`` is flattened.

    Raises
    ------
    DataFormatError
        Not an ``.npz`` archive, a missing key (the message lists the keys
        present), object arrays, non-numeric or NaN/infinite data, a wrong
        rank, labels that are not integers or do not fit int64 exactly
        (naming the index and the value), or ``X`` and ``y`` of different
        lengths.
    InvalidTypeError
        ``x_key`` or ``y_key`` is not a string.
    DataNotFoundError
        ``path`` does not exist.
    """
    path = check_path("path", path, what=".npz file")
    target = check_target(target)
    if not isinstance(x_key, str):
        raise InvalidTypeError(f"x_key must be a str naming an array, got {type(x_key).__name__} {x_key!r}")
    if y_key is not None and not isinstance(y_key, str):
        raise InvalidTypeError(
            "y_key must be a str naming an array, or None for no labels, got "
            f"{type(y_key).__name__} {y_key!r}"
        )
    name = repr(str(path))
    wanted = [("x_key", x_key)] + ([("y_key", y_key)] if y_key is not None else [])
    arrays = _read_arrays(path, name, wanted, text_labels=target == "labels")
    X = _features(arrays[0], name, x_key)
    if y_key is None:
        return X, None
    return X, _labels(arrays[1], name, x_key, y_key, X.shape[0], target)


def _read_arrays(path, name, wanted, text_labels=False):
    """The arrays named by ``wanted`` (``[(argument, key), ...]``), each numeric (``y`` may be text
    with ``text_labels``)."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataFormatError(f"{name} is not a NumPy .npz archive ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataFormatError(
            f"{name} is a single .npy array, not an .npz archive; save X and y together with "
            "numpy.savez(path, X=X, y=y)"
        )
    arrays = []
    with archive:
        keys = list(archive.files)
        for argument, key in wanted:
            if key not in keys:
                raise DataFormatError(
                    f"{name} has no array {key!r} ({argument}); it holds "
                    f"{', '.join(map(repr, keys)) or 'nothing'}; pass {argument}= with one of those names"
                )
            try:
                arrays.append(archive[key])
            except ValueError as exc:  # object arrays need pickle, which is refused
                raise DataFormatError(
                    f"{name}: array {key!r} cannot be read without pickle ({exc}); save numeric arrays"
                ) from None
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                raise DataFormatError(f"{name}: array {key!r} cannot be read ({exc})") from None
    for (argument, key), arr in zip(wanted, arrays):
        if arr.dtype.kind not in "biuf" and not (text_labels and argument == "y_key" and arr.dtype.kind in "US"):
            raise DataFormatError(f"{name}: array {key!r} has dtype {arr.dtype}; it must hold real numbers")
    return arrays


def _features(X, name, x_key):
    if X.ndim != 2:
        raise DataFormatError(
            f"{name}: array {x_key!r} has shape {X.shape}; features must be 2-D (n_samples, n_features)"
            + ("; save X.reshape(-1, 1) for a single feature" if X.ndim == 1 else "")
        )
    X = np.ascontiguousarray(X, dtype=np.float64)
    if not np.all(np.isfinite(X)):
        i, j = np.argwhere(~np.isfinite(X))[0]
        raise DataFormatError(f"{name}: {x_key}[{i}, {j}] is {X[i, j].item()}; features must be finite")
    return X


def _labels(y, name, x_key, y_key, n_rows, target):
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataFormatError(
            f"{name}: array {y_key!r} has shape {y.shape}; labels must be 1-D (n_samples,) "
            "integer classes (convert one-hot rows with argmax(axis=1))"
        )
    if y.shape[0] != n_rows:
        raise DataFormatError(f"{name}: {x_key!r} has {n_rows} rows but {y_key!r} has {y.shape[0]} labels")

    def where(i):
        return f"{name}: {y_key}[{i}]"

    if y.dtype.kind in "US":  # text labels (target="labels")
        y = y.astype(str)
    elif y.dtype.kind == "f":
        y = labels_from_floats(y.astype(np.float64), target, where)
    else:
        y = labels_from_integers(y, target, where)
    return np.ascontiguousarray(y)
