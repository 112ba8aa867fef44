"""The command line's option values: parsing (argparse types) and their meaning (schedules, sizes).

Each ``argparse`` type here turns the text of one option into a Python value
or raises ``argparse.ArgumentTypeError`` with the option's expected form, which
argparse prints as ``xpnet train: error: argument --x: ...`` (exit status 2).
"""

from __future__ import annotations

import argparse
import math
from typing import Any, Callable

from .. import schedules
from ..callbacks import ReduceLROnPlateau
from ..errors import XpnetError

__all__ = [
    "column",
    "int_list",
    "name_list",
    "size",
    "batch_size",
    "header",
    "delimiter",
    "lr_schedule",
    "Schedule",
    "SCHEDULE_FORMS",
]


def column(text: str) -> int | str | None:
    """``--label-column``/``--index-column``: a position (negative counts from the end), a header name,
    or ``none``."""
    if text.strip().lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def int_list(text: str) -> list[int]:
    """``32,32``: comma-separated positive integers."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers like 32,32; got {text!r}"
        )
    return values


def name_list(text: str) -> str | list[str]:
    """``relu`` (one name for every hidden layer) or ``relu,tanh`` (one per hidden layer)."""
    names = [v.strip() for v in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"expected a name or comma-separated names like relu,tanh; got {text!r}"
        )
    return names[0] if len(names) == 1 else names


def size(text: str) -> float | int:
    """``--test-size``/``--validation-size``: a fraction in (0, 1), a row count >= 1, or 0 for none."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value == 0:
        return 0
    if 0 < value < 1:
        return value
    if math.isfinite(value) and value >= 1 and value.is_integer():
        return int(value)
    raise argparse.ArgumentTypeError(
        f"expected a fraction in (0, 1) such as 0.2, a row count such as 50, or 0; got {text!r}"
    )


def batch_size(text: str) -> int | str:
    """``--batch-size``: a row count, or ``full`` (every row in one step)."""
    if text.strip().lower() in ("full", "all", "none"):
        return "full"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of rows such as 64, or full; got {text!r}"
        ) from None


def header(text: str) -> bool | str:
    """``--header yes|no|auto``."""
    choices = {"yes": True, "no": False, "auto": "auto", "true": True, "false": False}
    if text.lower() not in choices:
        raise argparse.ArgumentTypeError(f"expected yes, no or auto; got {text!r}")
    return choices[text.lower()]


def delimiter(text: str) -> str | None:
    """``--delimiter``: one character, ``tab``/``\\t``, or ``space``/``whitespace`` (runs of blanks)."""
    named = {"tab": "\t", "\\t": "\t", "space": None, "whitespace": None, "comma": ",", "semicolon": ";"}
    if text.lower() in named:
        return named[text.lower()]
    if len(text) != 1:
        raise argparse.ArgumentTypeError(
            f"expected one character such as ';', or tab or whitespace; got {text!r}"
        )
    return text


# -- learning-rate schedules ------------------------------------------------------------
#: Each form of ``--lr-schedule``: (name, its arguments, what it does). LR is --lr, EPOCHS --epochs.
SCHEDULE_FORMS = (
    ("step:STEP[:GAMMA]", "multiply the rate by GAMMA (default 0.1) every STEP epochs"),
    ("exp:GAMMA", "multiply the rate by GAMMA every epoch"),
    ("inverse-time:RATE[:EVERY]", "LR / (1 + RATE * floor(epoch / EVERY)), EVERY default 1"),
    ("cosine[:WARMUP]", "linear warmup over WARMUP epochs (default 0), then a half cosine to 0 at --epochs"),
    ("invscaling[:POWER]", "scikit-learn's: LR / (samples seen + 1) ** POWER (default 0.5)"),
    (
        "plateau[:FACTOR[:PATIENCE]]",
        "multiply by FACTOR (default 0.1) when the validation loss (the training "
        "loss without --validation-size) has not improved for PATIENCE epochs "
        "(default 10)",
    ),
)


class Schedule:
    """A parsed ``--lr-schedule``: ``build(lr, epochs, samples)`` gives ``(lr, callbacks)`` for ``train``."""

    def __init__(self, text: str, kind: str, args: list[float]) -> None:
        self.text, self.kind, self.args = text, kind, args

    def build(self, lr: float, epochs: int, samples: int) -> tuple[Any, list]:
        a = self.args
        try:
            if self.kind == "plateau":
                return lr, [ReduceLROnPlateau(factor=_arg(a, 0, 0.1), patience=int(_arg(a, 1, 10)))]
            make: dict[str, Callable[[], Any]] = {
                "step": lambda: schedules.StepDecay(lr, int(a[0]), _arg(a, 1, 0.1)),
                "exp": lambda: schedules.ExponentialDecay(lr, a[0]),
                "inverse-time": lambda: schedules.InverseTimeDecay(lr, a[0], int(_arg(a, 1, 1))),
                "cosine": lambda: schedules.CosineDecay(lr, epochs, int(_arg(a, 0, 0))),
                "invscaling": lambda: schedules.InverseScaling(lr, samples, _arg(a, 0, 0.5)),
            }
            return make[self.kind](), []
        except XpnetError as exc:
            raise XpnetError(f"--lr-schedule {self.text}: {exc}") from None


def _arg(args: list[float], i: int, default: float) -> float:
    return args[i] if len(args) > i else default


#: name -> (fewest, most arguments, which must be whole numbers)
_ARITY = {
    "step": (1, 2, {0}),
    "exp": (1, 1, set()),
    "inverse-time": (1, 2, {1}),
    "cosine": (0, 1, {0}),
    "invscaling": (0, 1, set()),
    "plateau": (0, 2, {1}),
}


def lr_schedule(text: str) -> Schedule:
    """``--lr-schedule``: one of :data:`SCHEDULE_FORMS`."""
    kind, *parts = text.strip().lower().split(":")
    kind = {"exponential": "exp", "inverse_time": "inverse-time"}.get(kind, kind)
    if kind not in _ARITY:
        raise argparse.ArgumentTypeError(
            f"unknown schedule {text!r}; expected one of {', '.join(form for form, _ in SCHEDULE_FORMS)}"
        )
    low, high, whole = _ARITY[kind]
    form = next(f for f, _ in SCHEDULE_FORMS if f.startswith(kind))
    try:
        args = [float(p) for p in parts]
    except ValueError:
        args = None
    if args is not None and not all(math.isfinite(v) for v in args):
        args = None
    if (
        args is None
        or not low <= len(args) <= high
        or any(args[i] != int(args[i]) for i in whole if i < len(args))
    ):
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected {form}, with numbers (whole numbers for counts of "
            "epochs), e.g. step:30:0.1, exp:0.95, cosine:5, plateau:0.5:10"
        )
    return Schedule(text, kind, args)
