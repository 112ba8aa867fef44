"""Learning-rate schedules: the rate as a function of the epoch, evaluated on the host.

``xpnet.train(..., lr=schedule)`` takes any of these, or any callable
``f(epoch) -> float`` of the 0-based epoch. The loop evaluates it once at the
start of every epoch, on the host (a Python float, so it costs no device
sync), hands the value to the optimizer through its state (``state["lr"]``),
and records it in ``history.lr``. A schedule depends on the epoch alone, so a
resumed run gets exactly the rates of an uninterrupted one. To lower the rate
when a metric stops improving, use the callback
:class:`xpnet.callbacks.ReduceLROnPlateau` (it multiplies whatever the
schedule gives).

The formulas follow ``torch.optim.lr_scheduler`` where it has the same schedule
(``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR``), so numbers carry over.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

from .errors import InvalidArgumentError, InvalidTypeError

__all__ = ["Schedule", "StepDecay", "ExponentialDecay", "InverseTimeDecay", "CosineDecay",
           "InverseScaling", "check_rate", "describe"]


def _positive(name: str, value: Any, *, integer: bool = False, allow_zero: bool = False) -> Any:
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise InvalidTypeError(f"{name} must be {'an int' if integer else 'a number'}; got {value!r}")
    value = int(value) if integer else float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise InvalidArgumentError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite; got {value!r}")
    return value


class Schedule:
    """Base class: ``schedule(epoch)`` is the learning rate of the 0-based ``epoch``.

    Subclasses set their parameters in ``__init__`` and implement ``rate``;
    ``repr`` lists the parameters, which a checkpoint records so that a run
    resumed with another schedule is refused.
    """

    lr: float

    def rate(self, epoch: int) -> float:
        raise NotImplementedError

    def __call__(self, epoch: int) -> float:
        return self.rate(int(epoch))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]


class StepDecay(Schedule):
    """``lr * gamma ** (epoch // step_size)``: multiply by ``gamma`` every ``step_size`` epochs (``StepLR``)."""

    def __init__(self, lr: float, step_size: int, gamma: float = 0.1) -> None:
        self.lr, self.step_size = _positive("lr", lr), _positive("step_size", step_size, integer=True)
        self.gamma = _positive("gamma", gamma)

    def rate(self, epoch: int) -> float:
        return self.lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """``lr * gamma ** epoch`` (``ExponentialLR``)."""

    def __init__(self, lr: float, gamma: float) -> None:
        self.lr, self.gamma = _positive("lr", lr), _positive("gamma", gamma)

    def rate(self, epoch: int) -> float:
        return self.lr * self.gamma ** epoch


class InverseTimeDecay(Schedule):
    """``lr / (1 + decay_rate * floor(epoch / interval))``: the classic course's learning-rate decay
    (``interval=1`` decays every epoch; a larger interval gives the "scheduled" variant)."""

    def __init__(self, lr: float, decay_rate: float, interval: int = 1) -> None:
        self.lr, self.decay_rate = _positive("lr", lr), _positive("decay_rate", decay_rate, allow_zero=True)
        self.interval = _positive("interval", interval, integer=True)

    def rate(self, epoch: int) -> float:
        return self.lr / (1.0 + self.decay_rate * (epoch // self.interval))


class CosineDecay(Schedule):
    """Linear warmup to ``lr`` over ``warmup`` epochs, then a half cosine down to ``min_lr`` at
    epoch ``epochs`` (``CosineAnnealingLR`` with ``T_max = epochs - warmup``), ``min_lr`` after."""

    def __init__(self, lr: float, epochs: int, warmup: int = 0, min_lr: float = 0.0) -> None:
        self.lr, self.epochs = _positive("lr", lr), _positive("epochs", epochs, integer=True)
        self.warmup = _positive("warmup", warmup, integer=True, allow_zero=True)
        self.min_lr = _positive("min_lr", min_lr, allow_zero=True)
        if self.warmup >= self.epochs or self.min_lr >= self.lr:
            raise InvalidArgumentError(
                f"CosineDecay needs warmup < epochs and min_lr < lr; got warmup={warmup}, epochs={epochs}, "
                f"min_lr={min_lr}, lr={lr}"
            )

    def rate(self, epoch: int) -> float:
        if epoch < self.warmup:
            return self.lr * (epoch + 1) / self.warmup
        t = min(epoch - self.warmup, self.epochs - self.warmup)
        return self.min_lr + (self.lr - self.min_lr) * (1.0 + math.cos(math.pi * t / (self.epochs - self.warmup))) / 2


class InverseScaling(Schedule):
    """scikit-learn's ``learning_rate="invscaling"``: ``lr / (t + 1) ** power_t`` where ``t`` is the
    number of samples seen before the epoch (``epoch * samples``); ``lr`` for the first epoch."""

    def __init__(self, lr: float, samples: int, power_t: float = 0.5) -> None:
        self.lr, self.samples = _positive("lr", lr), _positive("samples", samples, integer=True)
        self.power_t = _positive("power_t", power_t, allow_zero=True)

    def rate(self, epoch: int) -> float:
        return self.lr if epoch == 0 else self.lr / (epoch * self.samples + 1) ** self.power_t


def check_rate(schedule: Callable[[int], Any], epoch: int) -> float:
    """``schedule(epoch)`` as a positive finite float, or an error that names the epoch."""
    value = schedule(epoch)
    if isinstance(value, bool) or not hasattr(value, "__float__"):
        raise InvalidTypeError(f"the lr schedule {describe(schedule)} gave {value!r} at epoch {epoch}; "
                               "it must return a number")
    rate = float(value)
    if not (math.isfinite(rate) and rate > 0):
        raise InvalidArgumentError(f"the lr schedule {describe(schedule)} gave {rate!r} at epoch {epoch}; "
                                   "a learning rate must be positive and finite")
    return rate


def describe(schedule: Any) -> str:
    """How a schedule is named in messages and checkpoints: its repr for built-ins, else its name."""
    if isinstance(schedule, Schedule):
        return repr(schedule)
    return getattr(schedule, "__qualname__", None) or type(schedule).__name__
