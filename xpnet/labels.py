"""Class labels of any kind: a classifier's ``classes`` and the encoding of ``y`` through them.

A classifier (a softmax output, or one sigmoid unit) learns from the label
indices ``0 .. k-1``. Labels of any other kind are the model's *classes*:

* ``MLP(..., classes=["cat", "dog"])`` or ``classes=[3, 7, 9]`` names them
  (sorted, as scikit-learn's ``LabelEncoder`` keeps ``classes_``);
* ``train`` learns them from ``y`` when ``y`` holds text (strings, a pandas
  column of categories) and the model has none yet.

With classes, every ``y`` the model sees (``train``, ``loss``, ``score``,
``gradients``, validation data) is encoded as the position of each label in
``model.classes`` (a label that is not one of them is an error), and
``predict`` returns the labels themselves, a NumPy array. Numbers on a model
without classes keep their meaning: output indices, where a label outside
``0 .. k-1`` is an error (it is more often a bug than a name).

Everything here runs on the host, once per call, before any computation.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np  # host side by design: labels are checked and encoded on the host

from .backend import is_library_array, to_numpy
from .errors import InvalidArgumentError, InvalidTypeError
from .tables import features, labels as frame_labels

__all__ = ["check_classes", "encode", "decode", "prepare_training"]

_SHOWN_CLASSES = 8


def _show(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def _shown_classes(classes: np.ndarray) -> str:
    shown = ", ".join(_show(c) for c in classes[:_SHOWN_CLASSES])
    return shown + (f", ... ({len(classes)} in all)" if len(classes) > _SHOWN_CLASSES else "")


def _kind(value: Any) -> str:
    if isinstance(value, (str, np.str_)):
        return "text"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "missing" if math.isnan(value) else "float"
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return "missing"
    return type(value).__name__


_AS = {"text": str, "bool": np.bool_, "int": np.int64, "float": np.float64}


def _from_objects(values: np.ndarray, name: str) -> np.ndarray | None:
    """An object array of labels as text, bool, int64 or float64; None when it holds other objects
    (left to the checks that follow); an error for missing labels or text mixed with numbers."""
    kinds = {_kind(v) for v in values.reshape(-1)}
    if kinds == {"int", "float"}:
        kinds = {"float"}
    if not kinds <= {*_AS, "missing"}:
        return None
    if "missing" in kinds:
        raise InvalidArgumentError(f"{name} has missing labels (None or NaN); drop or fill in those rows first")
    if len(kinds) != 1:
        raise InvalidTypeError(f"{name} must hold labels of one kind, all text or all numbers; got "
                               f"{' and '.join(sorted(kinds))}")
    try:
        return values.astype(_AS[next(iter(kinds))])
    except OverflowError:
        raise InvalidArgumentError(f"{name} holds integers too large for int64") from None


def _host(y: Any, name: str) -> np.ndarray | None:
    """``y`` as a host array (1-D or 2-D) of numbers or text; None when it is not one (left to the
    checks that follow, which say what is wrong)."""
    y = frame_labels(y, name)
    if y is None or isinstance(y, (str, bytes, dict)):
        return None
    try:
        host = np.asarray(to_numpy(y)) if is_library_array(y) else np.asarray(y)
    except (TypeError, ValueError):
        return None
    if host.ndim not in (1, 2):
        return None
    if host.dtype.kind == "U" and not isinstance(y, np.ndarray):  # a list: "a" and 1 became "a" and "1"
        host = np.asarray(y, dtype=object)
    if host.dtype.kind == "S":
        host = host.astype(str)
    if host.dtype.kind == "O":
        host = _from_objects(host, name)
    return host


def _count_problem(n: int, output: str, n_out: int) -> str | None:
    if output == "softmax":
        return None if n == n_out else f"the softmax output has {n_out} units, one per class"
    if output == "sigmoid" and n_out == 1:
        return None if n == 2 else "one sigmoid unit separates 2 classes (use output='softmax' for more)"
    return (
        f"class labels need a classifier: output 'softmax', or one 'sigmoid' unit; this model's output is "
        f"{n_out} {output!r} unit{'s' if n_out != 1 else ''}"
    )


def check_classes(classes: Any, output: str, n_out: int, what: str = "classes") -> np.ndarray | None:
    """``classes`` as a sorted, read-only NumPy array of distinct labels of one kind (None stays None).

    Raises
    ------
    InvalidArgumentError
        Duplicates, no labels, or a count that does not fit the output (the
        softmax width; 2 for one sigmoid unit; any non-classifier output).
    InvalidTypeError
        Labels of mixed kinds (text and numbers), or not labels at all.
    """
    if classes is None:
        return None
    values = _host(classes, "classes")
    if values is None or values.ndim != 1 or values.size == 0 or values.dtype.kind not in "biufU":
        raise InvalidTypeError(
            f"classes must be a non-empty list of labels (text or numbers); got {classes!r}"
        )
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise InvalidArgumentError("classes must be finite numbers (no NaN or infinity)")
    unique = np.unique(values)
    if len(unique) != len(values):
        raise InvalidArgumentError(f"classes must be distinct; got {_shown_classes(values)}")
    problem = _count_problem(len(unique), output, n_out)
    if problem is not None:
        raise InvalidArgumentError(
            f"{what} has {len(unique)} classes ({_shown_classes(unique)}) but {problem}"
        )
    unique.flags.writeable = False
    return unique


def _indices(column: np.ndarray, classes: np.ndarray, name: str) -> np.ndarray:
    """The position of each label of ``column`` in ``classes``; an error naming the first unknown one."""
    text = column.dtype.kind == "U"
    if text == (classes.dtype.kind == "U"):
        idx = np.minimum(np.searchsorted(classes, column), len(classes) - 1)
        known = classes[idx] == column
    else:
        idx, known = np.zeros(len(column), np.int64), np.zeros(len(column), bool)
    if not known.all():
        i = int(np.argmin(known))
        raise InvalidArgumentError(
            f"{name} has label {_show(column[i])} (row {i}), which is not one of the model's classes "
            f"({_shown_classes(classes)}); train a new model to add classes"
        )
    return idx.astype(np.int64)


def encode(
    y: Any, classes: np.ndarray | None, output: str, n_out: int, name: str = "y", learn: bool = False
) -> tuple[Any, np.ndarray | None]:
    """``(y, classes)``: ``y`` ready for :func:`xpnet.data.as_targets`, and the classes it was encoded by.

    Labels are encoded (as int64 positions in ``classes``) when the model has
    classes, or, with ``learn=True``, when ``y`` holds text and it has none
    (the classes are then ``y``'s distinct labels, sorted). Numbers on a model
    without classes, one-hot rows and regression targets come back as they are.
    """
    if output != "softmax" and not (output == "sigmoid" and n_out == 1):
        return frame_labels(y, name), classes
    if classes is None and is_library_array(y):
        return y, None  # numbers on a device: output indices, checked there
    host = _host(y, name)
    if host is None or (host.ndim == 2 and host.shape[1] != 1):
        return (y if host is None else host), classes  # one-hot rows, or what as_targets explains
    if classes is None:
        if host.dtype.kind != "U":
            return host, None
        if not learn:
            raise InvalidTypeError(
                f"{name} must hold real numbers; got an array of dtype {host.dtype} (text labels need a "
                "model "
                "that knows its classes: train learns them from y, or pass classes=[...] to MLP)"
            )
        classes = check_classes(np.unique(host), output, n_out, what=name)
    return _indices(host.reshape(-1), classes, name), classes


def decode(classes: np.ndarray | None, indices: Any) -> Any:
    """Predicted class indices as the model's labels (a host NumPy array); unchanged without classes."""
    return indices if classes is None else classes[to_numpy(indices)]


def _class_weight(class_weight: Any, classes: np.ndarray | None) -> Any:
    """A ``{label: weight}`` dict keyed by the model's classes, re-keyed by their positions."""
    if classes is None or not isinstance(class_weight, dict):
        return class_weight
    keyed, values = {}, classes.tolist()
    for label, weight in class_weight.items():
        key = label.item() if isinstance(label, np.generic) else label
        found = [i for i, c in enumerate(values) if isinstance(c, str) == isinstance(key, str) and c == key]
        if not found:
            raise InvalidArgumentError(
                f"class_weight has label {_show(label)}, which is not one of the model's classes "
                f"({_shown_classes(classes)})"
            )
        keyed[found[0]] = weight
    return keyed


def prepare_training(
    model: Any, X: Any, y: Any, X_val: Any, y_val: Any, sample_weight: Any, class_weight: Any
) -> tuple:
    """``train``'s data as host arrays where they came as pandas objects, and its labels encoded.

    Returns ``(X, y, X_val, y_val, sample_weight, class_weight, classes)``:
    ``classes`` are the model's, or the ones learned from ``y`` (for
    ``train`` to give the model once every check has passed).
    """
    output, n_out = model.output.name, model.sizes[-1]
    y, classes = encode(y, model.classes, output, n_out, "y", learn=True)
    if y_val is not None:
        y_val, _ = encode(y_val, classes, output, n_out, "y_val")
    return (
        features(X, "X"),
        y,
        features(X_val, "X_val"),
        y_val,
        features(sample_weight, "sample_weight"),
        _class_weight(class_weight, classes),
        classes,
    )
