"""The divergence guard: a run whose loss or weights stop being finite ends with the last finite weights."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ..backend import host_copies, to_numpy
from ..errors import TrainingDivergedError
from .base import Callback

__all__ = ["DivergenceGuard", "all_finite"]


def all_finite(host_arrays: list) -> bool:
    """True when NumPy arrays hold no NaN or infinity: their minimum and maximum (NaN propagates through
    both, infinity shows in one) are finite. No temporaries: a float64 sum of a float32 array casts
    it through a 64 KB buffer at every check."""
    with np.errstate(over="ignore", invalid="ignore"):
        return all(math.isfinite(a.min()) and math.isfinite(a.max()) for a in host_arrays if a.size)


class DivergenceGuard(Callback):
    """Raise :class:`xpnet.TrainingDivergedError` when a metric becomes NaN or infinite, or the weights do.

    :func:`xpnet.train` always runs it first. At each host sync it checks every
    epoch's metrics and, for the newest epoch, the weights themselves (an update
    can overflow after the loss of its batch was computed), and keeps a host copy
    of the weights that passed. On divergence the run's weights go back to that
    copy before the error propagates, so the model never holds NaN or infinity.
    The copy lives in host memory: it takes no device memory.
    """

    def on_train_begin(self, run: Any) -> None:
        self.snapshot, self.good_epochs = host_copies(run.params), run.epoch

    def on_epoch_end(self, run: Any, epoch: int, logs: Mapping[str, float]) -> None:
        if not all(map(math.isfinite, logs.values())):
            bad = next(name for name, value in logs.items() if not math.isfinite(value))
            self._fail(run, f"the {bad} became {logs[bad]} in epoch {epoch + 1}")
        if epoch == run.epoch - 1:  # the newest epoch: run.params are its weights
            host = [to_numpy(a) for a in run.params]  # one transfer each (NumPy: the arrays themselves)
            if not all_finite(host):
                self._fail(run, f"the weights overflowed in the last step of epoch {epoch + 1} "
                                "(its loss, computed before that step, was still finite)")
            # into the old snapshot's memory: the host never holds two snapshots at once
            self.snapshot, self.good_epochs = host_copies(host, into=self.snapshot), run.epoch

    def _fail(self, run: Any, what: str) -> None:
        run.params = [run.backend.asarray(a, run.model.dtype) for a in self.snapshot]
        kept = (f"weights it had after epoch {self.good_epochs}, the last check with finite metrics and weights"
                if self.good_epochs else "weights it started with")
        raise TrainingDivergedError(
            f"{what}; the model keeps the {kept}; lower the learning rate (lr), standardize X, "
            "or use optimizer='adam'"
        )
