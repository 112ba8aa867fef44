"""Label and target columns as read from files, shared by the CSV and NPZ readers.

``target`` says what the column holds:

* ``"classes"`` (the default): integer class labels, returned as int64. A
  value that is not a whole number is an error, not rounded.
* ``"auto"``: int64 when every value is a whole number, otherwise float64
  regression targets, returned as they are.
* ``"values"``: regression targets, always float64.
* ``"labels"``: labels of any kind: numbers as ``"auto"`` reads them, or,
  when some label is not a number, every label as text (a NumPy ``str``
  array such as ``["cat", "dog", ...]``), the class names a model encodes
  (``model.classes``).

Integers are never silently changed: a label read as a floating-point number
must be below ``2**53`` in magnitude (beyond that, float64 cannot hold every
integer, so ``9007199254740993`` would already have become
``9007199254740992``), and an integer array must fit int64 (``uint64``'s
largest values do not). Such labels are refused with a
:class:`~xpnet.errors.DataFormatError` naming the file, the place and the
value, never wrapped around to ``-9223372036854775808``.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataFormatError
from ..validation import check_choice

__all__ = ["TARGETS", "EXACT_FLOAT_INTEGERS", "check_target", "labels_from_floats", "labels_from_integers"]

#: What a label column may hold (the ``target`` argument of the readers).
TARGETS = ("classes", "auto", "values", "labels")

#: Below this magnitude, float64 holds every integer exactly.
EXACT_FLOAT_INTEGERS = 2.0**53

_INT64_MAX = int(np.iinfo(np.int64).max)


def check_target(target):
    return check_choice("target", target, TARGETS)


def labels_from_floats(values, target, where, written=None):
    """A float64 label column as int64 labels or float64 targets, following ``target``.

    ``where(i)`` names the place of row ``i`` in messages ("'a.csv', line 3,
    label column 4"); ``written(i)``, when given, is the value as written in
    the file, shown for a label too large to be exact.
    """
    finite = np.isfinite(values)
    if not np.all(finite):
        i = int(np.argmin(finite))
        what = "labels" if target == "classes" else "labels and targets"
        raise DataFormatError(f"{where(i)} holds {values[i].item()!r}; {what} must be finite numbers")
    if target == "values":
        return values
    whole = values == np.round(values)
    if not np.all(whole):
        if target in ("auto", "labels"):
            return values
        i = int(np.argmin(whole))
        raise DataFormatError(
            f"{where(i)} holds {values[i].item()!r}, not an integer class label; labels must be whole "
            "numbers 0 .. k-1 (map names such as 'setosa' to numbers first; pass target='values' "
            "for regression targets)"
        )
    exact = np.abs(values) < EXACT_FLOAT_INTEGERS
    if not np.all(exact):
        i = int(np.argmin(exact))
        shown = written(i) if written is not None else repr(values[i].item())
        raise DataFormatError(
            f"{where(i)} holds {shown}, beyond 2**53 = 9007199254740992: as a floating-point number it "
            "may already have been rounded to another integer, so it cannot be read as a label; "
            "number the classes 0 .. k-1 (or pass target='values' for regression targets)"
        )
    return values.astype(np.int64)


def labels_from_integers(values, target, where):
    """An integer (or bool) label array as int64 labels (float64 for ``target="values"``)."""
    if target == "values":
        return values.astype(np.float64)
    if values.dtype.kind == "u" and values.size and int(values.max()) > _INT64_MAX:
        i = int(np.argmax(values > _INT64_MAX))
        raise DataFormatError(
            f"{where(i)} holds {int(values[i])}, too large for an int64 label (at most "
            f"{_INT64_MAX}); number the classes 0 .. k-1"
        )
    return values.astype(np.int64)
