"""Lower the learning rate when a metric stops improving."""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..errors import InvalidArgumentError
from ..schedules import _positive
from .base import Callback

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved by ``min_delta``
    for ``patience`` epochs (Keras's ``ReduceLROnPlateau``).

    Parameters
    ----------
    monitor : str or None
        ``"loss"``, ``"val_loss"``, or None (``"val_loss"`` with validation data, else ``"loss"``).
    factor : float
        In (0, 1): the new rate is ``max(rate * factor, min_lr)``.
    patience : int
        Epochs without improvement before a reduction.
    min_delta : float
        Smallest decrease that counts as an improvement.
    cooldown : int
        Epochs to wait after a reduction before counting again.
    min_lr : float
        The rate never goes below this.
    stop_below : float or None
        When a reduction is due and the rate is already at or below this, stop
        the run instead (scikit-learn's ``learning_rate="adaptive"`` stops at 1e-6).

    It multiplies what the schedule (or constant ``lr``) gives, from the next
    epoch on; the factor, its counters and the best value are kept in
    checkpoints. Reads the metrics after every epoch.
    """

    def __init__(self, monitor: str | None = None, factor: float = 0.1, patience: int = 10,
                 min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 stop_below: float | None = None) -> None:
        if monitor not in (None, "loss", "val_loss"):
            raise InvalidArgumentError(f"monitor must be 'loss' or 'val_loss'; got {monitor!r}")
        self.factor = _positive("factor", factor)
        if self.factor >= 1.0:
            raise InvalidArgumentError(f"factor must be in (0, 1); got {factor!r}")
        self.patience = _positive("patience", patience, integer=True)
        self.min_delta = _positive("min_delta", min_delta, allow_zero=True)
        self.cooldown = _positive("cooldown", cooldown, integer=True, allow_zero=True)
        self.min_lr = _positive("min_lr", min_lr, allow_zero=True)
        self.stop_below = None if stop_below is None else _positive("stop_below", stop_below)
        self.monitor = monitor
        self.best, self.wait, self.cooling = math.inf, 0, 0

    def sync_at(self, epoch: int, run: Any) -> bool:
        return True

    def on_train_begin(self, run: Any) -> None:
        if run.epoch == 0:
            self.best, self.wait, self.cooling = math.inf, 0, 0
        self.watching = self.monitor or ("val_loss" if run.has_validation else "loss")
        if self.watching == "val_loss" and not run.has_validation:
            raise InvalidArgumentError("ReduceLROnPlateau on 'val_loss' needs validation_data")

    def on_epoch_end(self, run: Any, epoch: int, logs: Mapping[str, float]) -> None:
        current = logs[self.watching]
        if self.cooling:
            self.cooling -= 1
            self.wait = 0
        if current < self.best - self.min_delta:
            self.best, self.wait = current, 0
            return
        if self.cooling:
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        rate = logs["lr"]
        if self.stop_below is not None and rate <= self.stop_below:
            run.stop_training = run.history.stopped_early = True
            run.log(f"learning rate {rate:g} is at or below {self.stop_below:g} and {self.watching} stopped "
                    f"improving: stopped after epoch {epoch + 1}")
            return
        new = max(rate * self.factor, self.min_lr)
        if new < rate:
            run.lr_factor *= new / rate
            run.log(f"epoch {epoch + 1}: {self.watching} stopped improving, learning rate {rate:g} -> {new:g}")
        self.wait, self.cooling = 0, self.cooldown

    def state_dict(self) -> dict:
        return {"best": self.best if math.isfinite(self.best) else None, "wait": self.wait,
                "cooling": self.cooling}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        best = state["best"]
        self.best = math.inf if best is None else float(best)
        self.wait, self.cooling = int(state["wait"]), int(state["cooling"])
