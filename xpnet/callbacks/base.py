"""The callback protocol: what a training run tells the code that watches or steers it.

A callback is an object with any of these hooks, called by :func:`xpnet.train`
with the :class:`xpnet.loop.Run` (the live training state) as first argument:

* ``on_train_begin(run)``: before the first epoch (after a resumed run's state is loaded);
* ``on_epoch_end(run, epoch, logs)``: once per epoch, in order, with that epoch's
  metrics as host floats (``logs["loss"]``, ``"accuracy"``, ``"val_loss"``,
  ``"val_accuracy"``, ``"lr"``); ``epoch`` counts from 0;
* ``on_sync(run)``: after the ``on_epoch_end`` calls of one host sync, with
  ``run.epoch`` epochs done and ``run.params`` the weights after the last of them;
* ``on_train_end(run)``: after the last epoch (or a stop), before the model gets its weights;
* ``on_exception(run, exc)``: when the run ends with an exception (Ctrl-C, divergence, ...).

Metrics stay on the device during training, so ``on_epoch_end`` is called at
host syncs: every ``sync_every`` epochs, after the last epoch, and after every
epoch for which some callback's ``sync_at(epoch)`` is true. A callback that must
act right at an epoch (see that epoch's weights, stop the run there) says so
with ``sync_at`` (or ``every = k`` for every k-th epoch); any other gets each
epoch's metrics at the next sync, in order. Setting ``run.stop_training = True``
ends the run after the current sync.

A callback with state (a patience counter, the best weights) returns it from
``state_dict()`` (JSON-ready values and lists of NumPy arrays) and takes it back
in ``load_state_dict(state)``; checkpoints save and restore every callback's
state under its ``state_key`` (its class name unless set), so a resumed run
continues exactly.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..errors import InvalidArgumentError, InvalidTypeError

__all__ = ["Callback", "CallbackList"]

HOOKS = ("on_train_begin", "on_epoch_end", "on_sync", "on_train_end", "on_exception")


class Callback:
    """Base class of training callbacks: every hook does nothing; override the ones you need.

    Attributes
    ----------
    every : int
        Read the metrics at every ``every``-th epoch as it ends (0: only at the loop's
        own syncs). ``sync_at`` uses it; override ``sync_at`` for other rules.
    state_key : str or None
        Name of this callback's state in checkpoints (default: the class name).
    """

    every: int = 0
    state_key: str | None = None

    def sync_at(self, epoch: int, run: Any) -> bool:
        """True when the host must read epoch ``epoch``'s metrics as soon as it ends."""
        return bool(self.every) and (epoch + 1) % self.every == 0

    def on_train_begin(self, run: Any) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, run: Any, epoch: int, logs: Mapping[str, float]) -> None:
        """Called for every completed epoch, at the host sync that read its metrics."""

    def on_sync(self, run: Any) -> None:
        """Called after the ``on_epoch_end`` calls of a host sync."""

    def on_train_end(self, run: Any) -> None:
        """Called once after the last epoch."""

    def on_exception(self, run: Any, exc: BaseException) -> None:
        """Called when the run ends with ``exc``; the exception propagates afterwards."""

    def state_dict(self) -> dict | None:
        """The state a checkpoint keeps (None: nothing to keep)."""
        return None

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Take back what :meth:`state_dict` returned (from a checkpoint being resumed)."""

    @property
    def key(self) -> str:
        """The name of this callback's state in a checkpoint."""
        return self.state_key or type(self).__name__


class CallbackList:
    """The callbacks of one run, called in order; checks them once when the run starts."""

    def __init__(self, callbacks: Iterable[Any]) -> None:
        self.callbacks = list(callbacks)
        keys = [cb.key for cb in self.callbacks if _has_state(cb)]
        doubled = sorted({k for k in keys if keys.count(k) > 1})
        if doubled:
            raise InvalidArgumentError(
                f"two callbacks keep their state under the same name {doubled[0]!r}; give one a "
                "different state_key (or pass each kind once)"
            )

    def __iter__(self):
        return iter(self.callbacks)

    def sync_at(self, epoch: int, run: Any) -> bool:
        for cb in self.callbacks:  # asked every epoch: the base rule with every = 0 is not even called
            rule = cb.sync_at
            if (cb.every or getattr(rule, "__func__", None) is not Callback.sync_at) and rule(epoch, run):
                return True
        return False

    def call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def states(self) -> dict[str, dict]:
        return {cb.key: state for cb in self.callbacks if (state := cb.state_dict()) is not None}

    def load_states(self, states: Mapping[str, Mapping], where: str) -> None:
        mine = {cb.key: cb for cb in self.callbacks if _has_state(cb)}
        for key, state in states.items():
            if key not in mine:
                raise InvalidArgumentError(
                    f"{where} holds the state of a {key} callback that this run does not have; "
                    "resume with the same callbacks (and train() options), or start fresh"
                )
            mine[key].load_state_dict(state)


def _has_state(cb: Any) -> bool:
    return cb.state_dict() is not None


def as_callbacks(callbacks: Any) -> list:
    """Check ``train(callbacks=...)``: None or a list of Callback objects."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback) or not isinstance(callbacks, (list, tuple)):
        raise InvalidTypeError(f"callbacks must be a list of xpnet.callbacks.Callback objects; got {callbacks!r}")
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise InvalidTypeError(
                f"callbacks must hold xpnet.callbacks.Callback objects (subclass it); got {type(cb).__name__}"
            )
    return list(callbacks)


class RecordHistory(Callback):
    """Appends each epoch's metrics to ``run.history`` (always on, right after the divergence guard)."""

    def on_epoch_end(self, run: Any, epoch: int, logs: Mapping[str, float]) -> None:
        run.history.append(logs)
