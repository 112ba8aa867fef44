"""The record of a training run: per-epoch metrics as host floats.

The schema is defined once, here: :data:`METRICS` names the per-epoch series
in the order the training loop computes them on the device, ``lr`` is the
learning rate each epoch used (a host value), and three scalars say how the run
ended. Checkpoints, the scikit-learn adapter, plots and progress lines all read
and write a history through :meth:`History.as_dict` and :meth:`History.from_dict`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["History", "METRICS", "SERIES"]

#: Metrics computed on the device, in the loop's column order (accuracies only for classifiers,
#: ``val_*`` only with validation data).
METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
#: Every per-epoch series of a history: the metrics and the learning rate.
SERIES = (*METRICS, "lr")


@dataclass(repr=False)
class History:
    """Per-epoch metrics of a :func:`xpnet.train` run, as plain Python floats.

    Every series is a list with one value per completed epoch; epoch ``i`` of
    the run is index ``i`` (counted from 0: ``history.loss[0]`` is the first
    epoch's loss). Progress lines count from 1 ("epoch 1/100").
    ``accuracy`` and ``val_accuracy`` are empty for regression outputs,
    ``val_*`` without validation data.

    Attributes
    ----------
    loss, accuracy, val_loss, val_accuracy : list of float
        The epoch's mean training loss over its rows (weighted, with sample
        weights), the fraction of correct predictions, and the same on the
        validation data, measured after the epoch.
    lr : list of float
        The learning rate each epoch used (a schedule's value, or the constant rate).
    best_epoch : int or None
        Index of the epoch whose weights the model holds after early stopping, else None.
    stopped_early : bool
        True when a callback (early stopping) ended the run before ``epochs``.
    seconds : float
        Wall-clock seconds of the run.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0
    #: The optimizer's state at the end of the run (arrays on the training device), for
    #: ``train(..., optimizer_state=...)`` to continue from; not part of :meth:`as_dict`.
    optimizer_state: dict | None = field(default=None, compare=False)

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self.loss)

    def append(self, logs: Mapping[str, float]) -> None:
        """Record one epoch: ``logs`` maps series names (:data:`SERIES`) to host floats."""
        for name in SERIES:
            if name in logs:
                getattr(self, name).append(logs[name])

    def latest(self) -> dict[str, float]:
        """The newest value of each recorded metric (not the learning rate)."""
        return {name: getattr(self, name)[-1] for name in METRICS if getattr(self, name)}

    def as_dict(self) -> dict[str, Any]:
        """The history as a plain dict (JSON-ready)."""
        return {**{name: list(getattr(self, name)) for name in SERIES},
                "best_epoch": self.best_epoch, "stopped_early": self.stopped_early, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "History":
        """The inverse of :meth:`as_dict` (missing series are empty)."""
        return cls(**{name: [float(v) for v in data.get(name) or []] for name in SERIES},
                   best_epoch=data.get("best_epoch"), stopped_early=bool(data.get("stopped_early")),
                   seconds=float(data.get("seconds") or 0.0))

    def __repr__(self) -> str:
        parts = [f"epochs={self.epochs}"]
        for name in METRICS:
            values = getattr(self, name)
            if values:
                parts.append(f"{name} {_short(values[0])} -> {_short(values[-1])}")
        if self.best_epoch is not None:
            parts.append(f"best_epoch={self.best_epoch}")
        if self.stopped_early:
            parts.append("stopped early")
        parts.append(f"{self.seconds:.2f} s")
        return f"History({', '.join(parts)})"


def _short(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)
