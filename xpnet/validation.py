"""Argument checks, one module for every part of xpnet.

Each ``check_*`` function returns the argument in a plain Python form (an
``int``, a ``float``, a ``bool``, the canonical name, a :class:`~pathlib.Path`)
or raises an :class:`~xpnet.errors.XpnetError` whose message names the
argument, says what was expected and what came::

    lr must be in (0.0, inf), i.e. positive; got -0.1
    lr must be a number in (0.0, inf), i.e. positive; got str '0.1'
    epochs must be a positive int; got str '10'
    unknown optimizer 'lbfgs'; expected one of sgd, momentum, ...

Which error:

* :class:`~xpnet.errors.InvalidTypeError` (a ``TypeError``): the wrong type,
  such as a string or ``None`` where a number is needed;
* :class:`~xpnet.errors.InvalidArgumentError` (a ``ValueError``): the right
  type but a wrong value: out of range, NaN or infinite, an unknown name;
* :class:`~xpnet.errors.InvalidKindError`, which is both: a near miss, such as
  a bool where a number is needed, a float where an int is needed (``2.0`` as
  well as ``2.5``), or anything but ``True``/``False`` for a flag.

NumPy scalars are accepted wherever Python numbers are (``np.int64(3)``,
``np.float32(0.1)``); bools are never numbers. A NumPy float32 (or float16)
scalar is read as the shortest decimal that rounds to it, the number it
prints as, so ``np.float32(0.1)`` means exactly ``0.1``.

This module imports nothing but the standard library.
"""

from __future__ import annotations

import math
import numbers
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from .errors import (
    DataNotFoundError,
    InvalidArgumentError,
    InvalidKindError,
    InvalidTypeError,
)

__all__ = ["check_int", "check_number", "check_bool", "check_choice", "check_path", "check_output_path"]

_SHOWN = 60  # longest shown value, in characters


# -- how values are shown ---------------------------------------------------------
def _is_numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy"


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or (_is_numpy(value) and type(value).__name__ in ("bool", "bool_"))


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _shown(value: Any) -> str:
    """A value as a message shows it: ``-0.1``, ``nan``, ``'abc'`` (NumPy scalars as they print)."""
    return _short(str(value) if _is_numpy(value) else repr(value))


def _came(value: Any) -> str:
    """What came, with its type: ``str '0.1'``, ``NoneType None``, ``float32 0.5``."""
    return f"{type(value).__name__} {_shown(value)}"


# -- numbers --------------------------------------------------------------------
def _int_expected(low: int | None, high: int | None, allow_none: bool) -> str:
    if low is not None and high is not None:
        text = f"an int in {low} .. {high}"
    elif low == 1:
        text = "a positive int"
    elif low == 0:
        text = "a non-negative int"
    elif low is not None:
        text = f"an int >= {low}"
    elif high is not None:
        text = f"an int <= {high}"
    else:
        text = "an int"
    return text + (" or None" if allow_none else "")


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None,
              allow_none: bool = False) -> int | None:
    """``value`` as a Python ``int`` in ``low .. high`` (both included, either optional).

    ``None`` passes through when ``allow_none``. A bool or a float (even a
    whole one such as ``2.0``) raises :class:`InvalidKindError`; any other
    non-integer :class:`InvalidTypeError`; an int out of range
    :class:`InvalidArgumentError`.
    """
    if value is None and allow_none:
        return None
    expected = _int_expected(low, high, allow_none)
    if _is_bool(value) or (isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)):
        raise InvalidKindError(f"{name} must be {expected}; got {_came(value)}")
    if not isinstance(value, numbers.Integral):
        raise InvalidTypeError(f"{name} must be {expected}; got {_came(value)}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise InvalidArgumentError(f"{name} must be {expected}; got {_shown(value)}")
    return value


def _interval(low, high, low_open, high_open, finite) -> str:
    """The bounds in words: ``in (0.0, inf), i.e. positive``, ``in [0.0, 1.0)``; "" for none."""
    if low is None and high is None:
        return ""
    left = "(" if low_open or (low is None and finite) else "["
    right = ")" if high_open or (high is None and finite) else "]"
    lo = "-inf" if low is None else repr(float(low))
    hi = "inf" if high is None else repr(float(high))
    text = f"in {left}{lo}, {hi}{right}"
    if low == 0 and high is None:
        text += ", i.e. positive" if low_open else ", i.e. non-negative"
    return text


def _as_float(value: Any) -> float:
    """A real number as a Python float; NumPy float16/float32 scalars through their printed decimal."""
    if _is_numpy(value) and getattr(value, "dtype", None) is not None and value.dtype.kind == "f" \
            and value.dtype.itemsize < 8:
        return float(str(value))
    return float(value)


def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, finite: bool = True,
                 allow_none: bool = False) -> float | None:
    """``value`` as a Python ``float`` within the given bounds.

    ``low``/``high`` are included unless ``low_open``/``high_open``; a missing
    bound is unlimited. NaN is always refused, infinity too unless
    ``finite=False`` (and the bound allows it). ``None`` passes through when
    ``allow_none``. A bool raises :class:`InvalidKindError`; a string, ``None``
    or another non-real :class:`InvalidTypeError`; a number out of range
    :class:`InvalidArgumentError`.
    """
    if value is None and allow_none:
        return None
    bounds = _interval(low, high, low_open, high_open, finite)
    if bounds:  # a number is told its bounds, anything else that a number is needed
        wanted, number = bounds, f"a number {bounds}"
    else:
        wanted, number = ("finite", "a finite number") if finite else ("a number, not NaN", "a number")
    if allow_none:
        wanted, number = wanted + " (or None)", number + " (or None)"
    if _is_bool(value):
        raise InvalidKindError(f"{name} must be {number}; got {_came(value)}")
    if not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{name} must be {number}; got {_came(value)}")
    try:
        x = _as_float(value)
    except OverflowError:  # an int beyond the float range
        raise InvalidArgumentError(f"{name} must be {wanted}; got {_shown(value)}, too large") from None
    ok = not math.isnan(x) and (math.isfinite(x) or not finite)
    if low is not None:
        ok = ok and (x > low if low_open else x >= low)
    if high is not None:
        ok = ok and (x < high if high_open else x <= high)
    if not ok:
        raise InvalidArgumentError(f"{name} must be {wanted}; got {_shown(value)}")
    return x


# -- flags, names, paths ------------------------------------------------------------
def check_bool(name: str, value: Any, *, allow_none: bool = False) -> bool | None:
    """``value`` as a Python ``bool``: only ``True``/``False`` (and NumPy bools) are flags.

    Anything else (``1``, ``"yes"``, ``None`` unless ``allow_none``) raises
    :class:`InvalidKindError`.
    """
    if value is None and allow_none:
        return None
    if _is_bool(value):
        return bool(value)
    expected = "True, False or None" if allow_none else "True or False"
    raise InvalidKindError(f"{name} must be {expected}; got {_came(value)}")


def _key(text: str, ignore_case: bool) -> str:
    return text.lower().replace("-", "_") if ignore_case else text


def check_choice(name: str, value: Any, choices: Iterable[str], *,
                 aliases: Mapping[str, str] | None = None, ignore_case: bool = True) -> str:
    """The entry of ``choices`` that ``value`` names; ``aliases`` maps other names to entries.

    With ``ignore_case`` (the default) names match regardless of case, and
    ``-`` matches ``_``. A non-string raises :class:`InvalidTypeError`, an
    unknown name :class:`InvalidArgumentError`; both messages list the valid
    names. ``name`` is the phrase the messages use ("optimizer", "hidden
    activation").
    """
    choices = tuple(choices)
    listed = ", ".join(map(str, choices))
    if not isinstance(value, str):
        raise InvalidTypeError(f"{name} must be one of {listed}; got {_came(value)}")
    table = {_key(alias, ignore_case): target for alias, target in (aliases or {}).items()}
    table.update({_key(choice, ignore_case): choice for choice in choices})
    found = table.get(_key(value, ignore_case))
    if found is None:
        raise InvalidArgumentError(f"unknown {name} {_shown(value)}; expected one of {listed}")
    return found


def _file_name(name: str, value: Any, what: str) -> str:
    """A ``str`` or ``os.PathLike`` file name as text; other types and an empty name refused."""
    text = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
    if not isinstance(text, str):
        raise InvalidTypeError(f"{name} must be a file name (str or os.PathLike); got {_came(value)}")
    if not text:
        raise InvalidArgumentError(f"{name} must name a {what}; got an empty string")
    return text


def check_path(name: str, value: Any, *, what: str = "file", must_exist: bool = True) -> Path:
    """``value`` (a ``str`` or ``os.PathLike``) as a :class:`~pathlib.Path`.

    With ``must_exist`` (for an input file) it must name an existing regular
    file, or :class:`~xpnet.errors.DataNotFoundError` (a ``FileNotFoundError``)
    says what is there instead; ``what`` names the file in that message
    ("CSV file"). Bytes, ``None`` and other types raise
    :class:`InvalidTypeError`, an empty name :class:`InvalidArgumentError`.
    """
    text = _file_name(name, value, what)
    path = Path(text)
    if must_exist and not path.is_file():
        where = ("does not exist" if not path.exists() else "is a directory, not a file" if path.is_dir()
                 else "is not a regular file")
        raise DataNotFoundError(f"{what} {text!r} {where}")
    return path


def check_output_path(name: str, value: Any, *, what: str = "file") -> Path:
    """``value`` as a :class:`~pathlib.Path` that a file can be written to, checked now.

    Refused with :class:`InvalidArgumentError`, before anything is computed: an
    existing directory or special file (a device, FIFO or socket), a missing
    folder, a name or path longer than the file system allows, and a folder
    nothing can be created in (no permission, a read-only or pseudo file system
    such as /proc): that is tried by creating and removing an empty file.
    """
    text = _file_name(name, value, what)
    path = Path(text)
    fail = lambda why: InvalidArgumentError(f"cannot write {name}={text!r}: {why}")  # noqa: E731
    folder = path.parent
    if not folder.is_dir():
        raise fail(f"the folder {str(folder)!r} does not exist")
    _check_lengths(path, folder, fail)  # first: a name too long makes every other test raise
    if path.is_dir():
        raise fail("it is an existing directory; name a file in it")
    if path.exists() and not path.is_file():
        raise fail("it is not a regular file (a device, FIFO or socket)")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".xpnet-probe-"):
            pass
    except OSError as exc:
        raise fail(f"nothing can be created in {str(folder)!r} ({exc.strerror or exc})") from None
    return path


def _check_lengths(path: Path, folder: Path, fail: Any) -> None:
    limits = {}
    for key, default in (("PC_NAME_MAX", 255), ("PC_PATH_MAX", 4096)):
        try:
            limits[key] = os.pathconf(folder, key)
        except (OSError, ValueError):
            limits[key] = default
    if len(os.fsencode(path.name)) > limits["PC_NAME_MAX"]:
        raise fail(f"the name is longer than the file system allows ({limits['PC_NAME_MAX']} bytes)")
    if len(os.fsencode(os.path.abspath(path))) >= limits["PC_PATH_MAX"]:
        raise fail(f"the path is longer than the file system allows ({limits['PC_PATH_MAX']} bytes)")
