"""pandas DataFrames and Series as NumPy arrays, converted once at the edge of the API.

``train`` and the :class:`~xpnet.MLP` methods pass their data through
:func:`features` (``X``, ``X_val``, ``sample_weight``) and :func:`labels`
(``y``, ``y_val``) before anything else sees it. Anything that is not a
pandas object comes back unchanged.

pandas is never imported here: an object is recognized as a DataFrame or a
Series only when pandas is already in ``sys.modules`` (it is, if the caller
made one), so xpnet works, and stays as light, without pandas.

Columns that cannot be numbers (text, dates, categories) and missing values
are refused with an :class:`~xpnet.errors.XpnetError` that names the
argument, the column and a row, never with an error from inside pandas or NumPy.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np  # host side by design: pandas data is host data

from .errors import InvalidArgumentError, InvalidTypeError

__all__ = ["is_pandas", "features", "labels"]


def _pandas() -> Any:
    return sys.modules.get("pandas")


def is_pandas(obj: Any) -> bool:
    """True for a pandas DataFrame or Series (without importing pandas)."""
    pd = _pandas()
    return pd is not None and isinstance(obj, (pd.DataFrame, pd.Series))


def _shown(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def _where(frame: Any, j: int) -> str:
    return f"column {_shown(frame.columns[j])}" if frame.ndim == 2 else "the Series"


def _check_missing(name: str, series: Any, what: str) -> None:
    missing = series.isna().to_numpy(dtype=bool)
    if missing.any():
        first = series.index[int(np.argmax(missing))]
        where = f"{name} {what}" if what else name
        raise InvalidArgumentError(
            f"{where} has {int(missing.sum())} missing value(s) (NaN/NA/None), the first in row "
            f"{_shown(first)}; drop those rows ({name}.dropna()) or fill them in first"
        )


def _numpy_dtype(dtype: Any) -> np.dtype | None:
    """The NumPy dtype of a numeric or boolean column (nullable ones included), else None."""
    pd = _pandas()
    if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
        return None
    if isinstance(dtype, pd.CategoricalDtype):
        return None
    numpy_dtype = dtype if isinstance(dtype, np.dtype) else getattr(dtype, "numpy_dtype", None)
    return None if numpy_dtype is None else np.dtype(numpy_dtype)


def features(obj: Any, name: str = "X") -> Any:
    """A DataFrame (or Series) of numbers as a NumPy array; anything else unchanged.

    Every column must be numeric or boolean (NumPy or pandas' nullable dtypes)
    and have no missing values. The array has the columns' common dtype
    (float32 columns stay float32).
    """
    if not is_pandas(obj):
        return obj
    frame = obj.to_frame() if obj.ndim == 1 else obj
    dtypes = []
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        dtype = _numpy_dtype(column.dtype)
        if dtype is None:
            raise InvalidTypeError(_not_numbers(name, obj, j, column))
        _check_missing(name, column, _where(obj, j))
        dtypes.append(dtype)
    common = np.result_type(*dtypes) if dtypes else np.dtype(np.float64)
    array = frame.to_numpy(dtype=common)
    return array.reshape(-1) if obj.ndim == 1 else array


def _not_numbers(name: str, obj: Any, j: int, column: Any) -> str:
    pd = _pandas()
    shown = f"dtype {column.dtype}"
    if len(column):
        shown += f", e.g. {_shown(column.iloc[0])} in row {_shown(column.index[0])}"
    if isinstance(column.dtype, pd.CategoricalDtype):
        fix = "encode it first (pandas.get_dummies, or .cat.codes)"
    elif pd.api.types.is_datetime64_any_dtype(column.dtype) or pd.api.types.is_timedelta64_dtype(
        column.dtype
    ):
        fix = "turn it into numbers first (e.g. seconds since a start)"
    else:
        fix = "encode it first (pandas.get_dummies for categories) or drop it"
    return f"{name} must hold numbers, but {_where(obj, j)} does not ({shown}); {fix}"


def labels(obj: Any, name: str = "y") -> Any:
    """A Series (or one-column DataFrame) of labels or targets as a 1-D NumPy array; anything else unchanged.

    Numeric and boolean columns keep their NumPy dtype; text, categories and
    other objects become an object array, which :mod:`xpnet.labels` reads as
    class labels. A DataFrame of several columns (one-hot rows, several
    targets) must be numeric, as for :func:`features`.
    """
    if not is_pandas(obj):
        return obj
    if obj.ndim == 2:
        if obj.shape[1] != 1:
            return features(obj, name)
        obj = obj.iloc[:, 0]
    _check_missing(name, obj, "")
    dtype = _numpy_dtype(obj.dtype)
    return obj.to_numpy(dtype=object if dtype is None else dtype)
