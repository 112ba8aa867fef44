"""The callbacks the estimators train with: scikit-learn's ``invscaling`` across fits, validation scores,
the adaptive rate carried between ``partial_fit`` calls, and keeping the best weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import to_numpy
from ..callbacks import Callback, EarlyStopping, ReduceLROnPlateau
from ..model import forward, pairs_of
from ..schedules import InverseScaling


class _InverseScalingFrom(InverseScaling):
    """:class:`~xpnet.schedules.InverseScaling` after ``seen`` samples of earlier fits.

    scikit-learn sets the rate to ``lr / (t + 1) ** power_t`` at the end of every
    epoch, ``t`` counting every sample seen so far (``t_``), and a new optimizer
    (``fit``, also with ``warm_start``) starts at ``lr``: epoch ``e`` of this run
    trains at ``lr / (seen + e * samples + 1) ** power_t``, except a fresh
    optimizer's first epoch. ``partial_fit`` continues its optimizer (``fresh=False``).
    """

    def __init__(self, lr: float, samples: int, power_t: float, seen: int, fresh: bool) -> None:
        super().__init__(lr, samples, power_t)
        self.seen, self.fresh = int(seen), bool(fresh)

    def rate(self, epoch: int) -> float:
        t = self.seen + epoch * self.samples
        if t == 0 or (epoch == 0 and self.fresh):
            return self.lr
        return self.lr / (t + 1) ** self.power_t


class _ValidationScores(Callback):
    """The estimator's ``score`` (accuracy or R^2, with the validation rows' weights) of the
    validation set after every epoch: ``validation_scores_``.

    ``score(A, T, weights)`` turns the network's output on the host into the score.
    It reads the weights after every epoch (a host sync per epoch, as early stopping does).
    """

    def __init__(self, X: Any, T: np.ndarray, weights: np.ndarray | None, score) -> None:
        self.X, self.T, self.weights, self.score = X, T, weights, score
        self.scores: list[float] = []
        self._X = None

    def sync_at(self, epoch: int, run: Any) -> bool:
        return True

    def on_train_begin(self, run: Any) -> None:
        self._X, self.scores = run.backend.asarray(self.X, run.model.dtype), []

    def on_epoch_end(self, run: Any, epoch: int, logs: Any) -> None:
        top = forward(pairs_of(run.params), self._X, run.model.activations)[-1]
        self.scores.append(self.score(to_numpy(top.A), self.T, self.weights))

    def on_train_end(self, run: Any) -> None:
        self._X = None


class _CarriedPlateau(ReduceLROnPlateau):
    """scikit-learn's ``learning_rate="adaptive"``, continued across ``partial_fit`` calls.

    A :class:`~xpnet.callbacks.ReduceLROnPlateau` whose counters and rate factor
    start from ``carried`` (what :attr:`carried` was at the end of the last run).
    """

    def __init__(self, carried: dict | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.carried = carried

    def on_train_begin(self, run: Any) -> None:
        super().on_train_begin(run)
        if self.carried is not None:
            self.load_state_dict(self.carried)
            run.lr_factor = self.carried["lr_factor"]

    def on_train_end(self, run: Any) -> None:
        self.carried = {**self.state_dict(), "lr_factor": run.lr_factor}


class _KeepBest(EarlyStopping):
    """Restore the weights of the lowest validation loss without ending the run
    (with ``learning_rate="adaptive"`` the learning-rate plateau ends it)."""

    def __init__(self, min_delta: float) -> None:
        super().__init__(patience=np.iinfo(np.int64).max, min_delta=min_delta, monitor="val_loss")

    def on_train_end(self, run: Any) -> None:
        if self.best_params is not None:
            run.params = [run.backend.asarray(a, run.model.dtype) for a in self.best_params]
