"""Early stopping: end the run when the monitored loss stops improving, and restore the best weights."""

from __future__ import annotations

import math
import numbers
from typing import Any, Mapping

import numpy as np

from ..backend import host_copies
from ..errors import InvalidArgumentError, InvalidTypeError
from .base import Callback

__all__ = ["EarlyStopping"]


class EarlyStopping(Callback):
    """Stop when the monitored loss has not improved by ``min_delta`` for ``patience`` epochs.

    Parameters
    ----------
    patience : int
        Epochs without improvement to wait before stopping.
    min_delta : float
        Smallest decrease that counts as an improvement.
    monitor : str or None
        ``"val_loss"`` or ``"loss"``; None: ``"val_loss"`` when the run has
        validation data, else ``"loss"``.
    restore_best : bool
        Put back the weights of the best epoch when training ends.

    Reads the metrics after every epoch (a host sync per epoch). Keeps the best
    weights as a host copy, and its counters, in checkpoints. With verbose
    output, says when it stopped the run and which epoch's weights it restored.
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, monitor: str | None = None,
                 restore_best: bool = True) -> None:
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 1:
            raise InvalidArgumentError(f"patience must be a positive int; got {patience!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real):
            raise InvalidTypeError(f"min_delta must be a number >= 0; got {min_delta!r}")
        if not (math.isfinite(min_delta) and min_delta >= 0):
            raise InvalidArgumentError(f"min_delta must be a finite number >= 0; got {min_delta!r}")
        if monitor not in (None, "loss", "val_loss"):
            raise InvalidArgumentError(f"monitor must be 'loss' or 'val_loss'; got {monitor!r}")
        if restore_best not in (True, False):
            raise InvalidTypeError(f"restore_best must be True or False; got {restore_best!r}")
        self.patience, self.min_delta = int(patience), float(min_delta)
        self.monitor, self.restore_best = monitor, bool(restore_best)
        self._reset()

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, monitor={self.monitor!r}, "
                f"restore_best={self.restore_best})")

    def _reset(self) -> None:
        self.best, self.wait, self.best_epoch, self.best_params = math.inf, 0, None, None
        self.watching = self.monitor

    def sync_at(self, epoch: int, run: Any) -> bool:
        return True

    def on_train_begin(self, run: Any) -> None:
        if run.epoch == 0:
            self._reset()
        self.watching = self.monitor or ("val_loss" if run.has_validation else "loss")
        if self.watching == "val_loss" and not run.has_validation:
            raise InvalidArgumentError("early stopping on 'val_loss' needs validation_data")

    def on_epoch_end(self, run: Any, epoch: int, logs: Mapping[str, float]) -> None:
        current = logs[self.watching]
        if current < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = current, epoch, 0
            self.best_params = host_copies(run.params)
            run.history.best_epoch = epoch
        else:
            self.wait += 1
            if self.wait >= self.patience:
                run.stop_training = run.history.stopped_early = True

    def on_train_end(self, run: Any) -> None:
        if run.history.stopped_early:
            run.log(f"early stopping: {self.watching} did not improve by more than {self.min_delta:g} for "
                    f"{self.patience} epochs; stopped after epoch {run.epoch}"
                    + (f", restored the weights of epoch {self.best_epoch + 1} ({self.watching} {self.best:.6g})"
                       if self.restore_best and self.best_params is not None else ""))
        if self.restore_best and self.best_params is not None:
            run.params = [run.backend.asarray(a, run.model.dtype) for a in self.best_params]

    # -- checkpoints ------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"patience": self.patience, "min_delta": self.min_delta, "monitor": self.watching,
                "best": self.best if math.isfinite(self.best) else None, "wait": self.wait,
                "best_epoch": self.best_epoch, "best_params": self.best_params}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        saved = (state["patience"], state["min_delta"], state["monitor"])
        mine = (self.patience, self.min_delta, self.monitor or state["monitor"])
        if saved != mine:
            raise InvalidArgumentError(
                f"the checkpoint was written with early stopping (patience, min_delta, monitor) = {saved}, "
                f"this run has {mine}; resume with the same settings, or start fresh"
            )
        best = state["best"]
        self.best = math.inf if best is None else float(best)
        self.wait, self.best_epoch = int(state["wait"]), state["best_epoch"]
        params = state.get("best_params")
        self.best_params = None if params is None else [np.asarray(a) for a in params]
