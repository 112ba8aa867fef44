"""The checkpoint header, field by field: small checks gathered in tables, one row per piece of state."""

from __future__ import annotations


import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np  # host side by design: files hold NumPy arrays

from ..errors import XpnetError
from .files import MAX_LAYERS
from ..optim import OPTIMIZERS


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _plain_json(value: Any) -> Any:
    """``value`` with tuples as lists and NumPy arrays and scalars as Python lists and numbers.

    (The state of an MT19937, Philox or SFC64 generator holds arrays.)
    """
    if isinstance(value, dict):
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    return value


# -- the checkpoint header, field by field ------------------------------------------
# A check takes a value and a context and returns None when the value is what ``train`` writes,
# else what is wrong with it. The context holds the whole header ("header") and the number of
# parameter arrays ("n_params"). A table maps each key of a dict to (required, check), checked in
# the table's order (so a later check may rely on an earlier field, e.g. train.epoch); ``_table``
# makes the check of such a dict. A new piece of state (a callback's own dict under one key) is one
# more row, with ``_table({...})`` of its own fields as its check. Keys no table names are ignored.
Check = Callable[[Any, dict], "str | None"]

#: Step and epoch counts: exact in float64 (the optimizers use them as floats), and beyond any run.
MAX_COUNT = 2**53


def _table(fields: dict[str, tuple[bool, Check]]) -> Check:
    """The check of a dict whose keys ``fields`` maps to ``(required, check)``.

    Its problems read ``.key: what is wrong`` (``.key.inner: ...`` for a nested table).
    """
    def check(value: Any, ctx: dict) -> str | None:
        if not isinstance(value, dict):
            return f"must be a dict; got {_show(value)}"
        for key, (required, field_check) in fields.items():
            problem = field_check(value[key], ctx) if key in value else "missing" if required else None
            if problem:
                return f".{key}{problem}" if problem.startswith(".") else f".{key}: {problem}"
        return None
    return check


def _show(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float range
        return False


def _epoch(ctx: dict) -> int:
    return ctx["header"]["train"]["epoch"]  # checked before any check that calls this


def _int_in(low: int, high: float | Callable[[dict], int] = MAX_COUNT) -> Check:
    def check(value: Any, ctx: dict) -> str | None:
        top = high(ctx) if callable(high) else high
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an int; got {_show(value)}"
        return None if low <= value <= top else f"must be in [{low}, {top}]; got {_show(value)}"
    return check


def _number_in(low: float = -math.inf, high: float = math.inf, high_open: bool = False) -> Check:
    def check(value: Any, ctx: dict) -> str | None:
        if not _finite(value):
            return f"must be a finite number; got {_show(value)}"
        inside = low <= value and (value < high if high_open else value <= high)
        return None if inside else f"must be in [{low}, {high}{')' if high_open else ']'}; got {value!r}"
    return check


def _optional(check: Check) -> Check:
    return lambda value, ctx: None if value is None else check(value, ctx)


def _boolean(value: Any, ctx: dict) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false; got {_show(value)}"


def _series(low: float = -math.inf, high: float = math.inf,
            length: Callable[[dict], tuple[int, int]] = lambda ctx: (_epoch(ctx), _epoch(ctx))) -> Check:
    """A list of finite floats (as ``History`` keeps them) in [low, high] whose length is in the
    range ``length(ctx)`` gives."""
    in_range = _number_in(low, high)

    def values(v: Any, ctx: dict) -> str | None:
        return in_range(v, ctx) if isinstance(v, float) else f"must be a float; got {_show(v)}"

    def check(value: Any, ctx: dict) -> str | None:
        if not isinstance(value, list):
            return f"must be a list of numbers; got {_show(value)}"
        shortest, longest = length(ctx)
        if not shortest <= len(value) <= longest:
            wanted = shortest if shortest == longest else f"{shortest} to {longest}"
            return f"has {len(value)} entries, not {wanted} (after {_epoch(ctx)} epochs)"
        bad = next((i for i, v in enumerate(value) if values(v, ctx)), None)
        return None if bad is None else f"entry {bad}: {values(value[bad], ctx)}"
    return check


def _classifier(ctx: dict) -> bool:
    return ctx["header"]["model"]["output"] in ("sigmoid", "softmax")  # accuracy is kept for these


def _accuracies(ctx: dict) -> tuple[int, int]:
    n = _epoch(ctx) if _classifier(ctx) else 0
    return n, n


def _validations(ctx: dict) -> tuple[int, int]:
    return 0, _epoch(ctx)  # validation data may join (or leave) a resumed run


def _val_accuracies(ctx: dict) -> tuple[int, int]:
    n = len(ctx["header"]["train"]["history"]["val_loss"]) if _classifier(ctx) else 0
    return n, n


def _early_stopping(value: Any, ctx: dict) -> str | None:
    """None, or [patience, min_delta, monitor] as train writes it."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3:
        return f"must be null or [patience, min_delta, monitor]; got {_show(value)}"
    patience, min_delta, monitor = value
    if monitor not in ("loss", "val_loss"):
        return f"monitor must be 'loss' or 'val_loss'; got {_show(monitor)}"
    return _int_in(1)(patience, ctx) or _number_in(0)(min_delta, ctx)


_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def _rng_state(value: Any, ctx: dict) -> str | None:
    """The state of a NumPy bit generator, exactly as NumPy writes it (read back to compare)."""
    if not isinstance(value, dict) or value.get("bit_generator") not in _BIT_GENERATORS:
        return f"must be the state of a NumPy bit generator ({', '.join(_BIT_GENERATORS)})"
    if not _words(value) or value.get("has_uint32", 0) not in (0, 1):
        return "holds a value that is no machine word"
    generator = getattr(np.random, value["bit_generator"])()
    try:
        generator.state = value
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        return f"is no {value['bit_generator']} state ({exc})"
    return None if _plain_json(generator.state) == value else f"is no {value['bit_generator']} state"


def _words(value: Any, depth: int = 0) -> bool:
    """True if ``value`` nests (shallowly) only strings and integers in [0, 2**128)."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return depth < 3 and len(value) <= 1024 and all(_words(v, depth + 1) for v in value)
    if isinstance(value, str):
        return True
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**128


def _optimizer(value: Any, ctx: dict) -> str | None:
    """{"name": str, "hyperparams": {str: number, bool, null or a short list of numbers}}."""
    name = value.get("name") if isinstance(value, dict) else None
    if not isinstance(name, str) or not 0 < len(name) <= 100:
        return f"must be {{'name': ..., 'hyperparams': {{...}}}}; got {_show(value)}"
    hyper = value.get("hyperparams")
    if not isinstance(hyper, dict):
        return f"hyperparams must be a dict; got {_show(hyper)}"
    for key, v in hyper.items():
        plain = v is None or isinstance(v, bool) or _finite(v)
        if not plain and not (isinstance(v, list) and len(v) <= 8 and all(_finite(x) for x in v)):
            return (f"hyperparameter {key!r} must be a finite number, a bool or a list of numbers; "
                    f"got {_show(v)}")
    return None


def _expected_opt_state(spec: dict) -> tuple[dict[str, str] | None, str | None]:
    """What a built-in optimizer keeps in its state, entry by entry: "count", "none" or "arrays".

    Asked of the optimizer itself (built from the saved hyperparameters, state
    made for a one-element stand-in). ``(None, None)`` for an optimizer that
    is not built in; ``(None, problem)`` when the hyperparameters do not build it.
    """
    factory = OPTIMIZERS.get(spec["name"])
    if factory is None:
        return None, None
    try:
        state = factory(**spec["hyperparams"]).init([np.zeros(1)])
    except (XpnetError, TypeError, ValueError) as exc:
        return None, f"its hyperparameters do not make a {spec['name']} optimizer ({exc})"
    return {k: "arrays" if isinstance(v, list) else "none" if v is None else "rate" if isinstance(v, float)
            else "count" for k, v in state.items()}, None


def _opt_state(value: Any, ctx: dict) -> str | None:
    """Each entry a count, null or {"arrays": one per parameter}; for a built-in optimizer
    exactly the entries it keeps, each of the right kind, and the step count ``t`` no less
    than the epochs (every epoch takes at least one step)."""
    if not isinstance(value, dict):
        return f"must be a dict; got {_show(value)}"
    expected, problem = _expected_opt_state(ctx["header"]["optimizer"])
    if problem:
        return problem
    if expected is not None and set(value) - {"lr"} == set(expected) - {"lr"}:
        expected = {k: v for k, v in expected.items() if k in value}  # written before the rate was kept
    if expected is not None and set(value) != set(expected):
        return f"has entries {sorted(value)}; the optimizer keeps {sorted(expected)}"
    for key, entry in value.items():
        kind = expected[key] if expected else ("arrays" if isinstance(entry, dict) else "none" if entry is None
                                               else "rate" if isinstance(entry, float) else "count")
        problem = _state_entry(kind, entry, ctx, low=_epoch(ctx) if expected and key == "t" else 0)
        if problem:
            return f"entry {key!r} {problem}"
    return None


def _state_entry(kind: str, entry: Any, ctx: dict, low: int) -> str | None:
    if kind == "arrays":
        if entry != {"arrays": ctx["n_params"]} or isinstance(entry["arrays"], bool):
            return f"must be {{'arrays': {ctx['n_params']}}} (one array per parameter); got {_show(entry)}"
        return None
    if kind == "none":
        return None if entry is None else f"must be null; got {_show(entry)}"
    if kind == "rate":
        return _positive(entry, ctx)
    problem = _int_in(low)(entry, ctx)
    return f"{problem} (a step count: at least one step per epoch)" if problem and low else problem


def _positive(value: Any, ctx: dict) -> str | None:
    return _number_in(0)(value, ctx) or (None if value > 0 else f"must be positive; got {value!r}")


def _arrays(value: Any, ctx: dict, exact: bool = False) -> str | None:
    """``{"arrays": [shape, ...]}``: a callback's list of arrays, bounded by the model's size (the
    parameters' own shapes when ``exact``, for a copy of the weights)."""
    shapes = value.get("arrays") if isinstance(value, dict) else None
    if not isinstance(shapes, list) or not 0 < len(shapes) <= 2 * MAX_LAYERS or not all(
            isinstance(sh, list) and len(sh) <= 2 and all(_int_in(0)(d, ctx) is None for d in sh) for sh in shapes):
        return f"must be {{'arrays': [shape, ...]}}; got {_show(value)}"
    if exact and shapes != ctx["shapes"]:
        return f"must hold arrays of the parameters' shapes {ctx['shapes']}; got {shapes}"
    if sum(math.prod(sh) for sh in shapes) > 4 * sum(math.prod(sh) for sh in ctx["shapes"]):
        return "declares more data than four copies of the model's parameters"
    return None


def _callback_value(value: Any, ctx: dict, depth: int = 0) -> str | None:
    """Any other callback's state value: JSON numbers (finite), strings, bools, null, short lists and
    dicts of those, or a list of arrays."""
    if isinstance(value, dict) and set(value) == {"arrays"}:
        return _arrays(value, ctx)
    if value is None or isinstance(value, (bool, str)) or _finite(value):
        return None
    if isinstance(value, (list, dict)) and depth < 4 and len(value) <= 10_000:
        items = value.values() if isinstance(value, dict) else value
        return next((p for v in items if (p := _callback_value(v, ctx, depth + 1))), None)
    return f"holds {_show(value)} (only finite numbers, strings, bools and lists of them are saved)"


def _callbacks(value: Any, ctx: dict) -> str | None:
    if not isinstance(value, dict) or len(value) > 100:
        return f"must be a dict of callback states; got {_show(value)}"
    for key, state in value.items():
        if not isinstance(key, str) or not _NAME.match(key) or not isinstance(state, dict) or not all(
                isinstance(f, str) and _NAME.match(f) for f in state):
            return f"{key!r} must be a callback's name and its state, a dict of named fields"
        table = CALLBACK_TABLES.get(key)
        problem = (_table(table)(state, ctx) if table else
                   next((f".{f}: {p}" for f, v in state.items() if (p := _callback_value(v, ctx))), None))
        if problem:
            return f".{key}{problem}" if problem.startswith(".") else f".{key}: {problem}"
    return None


#: ``History.as_dict()``: one loss per epoch; accuracies for classifiers; validation series for the
#: epochs that had validation data (val_loss before val_accuracy, whose length it sets).
HISTORY_FIELDS: dict[str, tuple[bool, Check]] = {
    "loss": (True, _series()),
    "accuracy": (True, _series(0, 1, _accuracies)),
    "val_loss": (True, _series(length=_validations)),
    "val_accuracy": (True, _series(0, 1, _val_accuracies)),
    "lr": (False, _series(0)),
    "best_epoch": (False, _optional(_int_in(0, lambda ctx: _epoch(ctx) - 1))),
    "stopped_early": (False, _boolean),
    "seconds": (False, _number_in(0)),
}

#: Early stopping's state (``EarlyStopping.state_dict``).
EARLY_STOPPING_FIELDS: dict[str, tuple[bool, Check]] = {
    "patience": (True, _int_in(1)),
    "min_delta": (True, _number_in(0)),
    "monitor": (True, lambda v, ctx: None if v in ("loss", "val_loss") else f"must be 'loss' or 'val_loss'; "
                                                                           f"got {_show(v)}"),
    "best": (False, _optional(_number_in())),
    "wait": (False, _int_in(0, _epoch)),
    "best_epoch": (False, _optional(_int_in(0, lambda ctx: _epoch(ctx) - 1))),
    "best_params": (False, _optional(lambda v, ctx: _arrays(v, ctx, exact=True))),
}

#: ``ReduceLROnPlateau.state_dict``.
PLATEAU_FIELDS: dict[str, tuple[bool, Check]] = {
    "best": (False, _optional(_number_in())),
    "wait": (True, _int_in(0, _epoch)),
    "cooling": (True, _int_in(0)),
}

#: The state of the built-in callbacks that keep any, checked field by field; others generically.
CALLBACK_TABLES = {"EarlyStopping": EARLY_STOPPING_FIELDS, "ReduceLROnPlateau": PLATEAU_FIELDS}


#: The training state ``train`` saves (``header["train"]``); epoch first, the others rely on it.
TRAIN_FIELDS: dict[str, tuple[bool, Check]] = {
    "epoch": (True, _int_in(0)),
    "history": (True, _table(HISTORY_FIELDS)),
    "rng": (True, _rng_state),
    "batch_size": (False, _optional(_int_in(1))),
    "shuffle": (False, _boolean),
    "dropout": (False, _number_in(0, 1, high_open=True)),
    "seed": (False, _optional(_int_in(0, math.inf))),  # any int NumPy seeds with; only compared
    "lr_schedule": (False, _optional(lambda v, ctx: None if isinstance(v, str) and len(v) < 1000
                                     else f"must be a schedule's description; got {_show(v)}")),
    "lr_factor": (False, lambda v, ctx: _positive(v, ctx)),
    "callbacks": (False, lambda v, ctx: _callbacks(v, ctx)),
}


#: A checkpoint's header beyond the model (checked by ``_checked_config``); train first.
CHECKPOINT_FIELDS: dict[str, tuple[bool, Check]] = {
    "train": (True, _table(TRAIN_FIELDS)),
    "optimizer": (True, _optimizer),
    "opt_state": (True, _opt_state),
    "has_best": (False, _boolean),
}
