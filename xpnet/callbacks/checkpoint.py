"""Checkpoints: the whole training state in one file, written atomically, and resuming from it."""

from __future__ import annotations

import os
from typing import Any

from ..errors import InvalidArgumentError
from .base import Callback

__all__ = ["Checkpoint"]

#: init and seed only matter before training; classes only when the model has them
_ARCHITECTURE = ("sizes", "hidden", "output", "loss", "dtype", "classes")


class Checkpoint(Callback):
    """Write a training checkpoint to ``path`` every ``every`` epochs and when the run ends or stops.

    A checkpoint holds the model, the optimizer and its state, the epoch, the
    random generator's state, the history, the batch settings and every
    callback's ``state_dict()``. Each write goes to a temporary file that is
    renamed over the old one, so the file on disk is always complete.

    With ``resume=True`` a run whose file exists continues from it, up to
    ``epochs`` in total, and ends with exactly the numbers of a run that was
    never interrupted; the run must use the same architecture, optimizer,
    batch settings and callbacks (anything else is refused, naming what
    differs). Without the file, the run starts fresh.

    In a data-parallel run, rank 0 alone writes (the file holds the global
    state, so a run resumes on any number of ranks) and, on resume, reads the
    file and sends it to the others. ``write=False``: never write (the other
    ranks' checkpoints, which :func:`xpnet.train` builds so).
    """

    def __init__(self, path: str | os.PathLike, every: int = 1, resume: bool = False, write: bool = True) -> None:
        from ..io import check_writable

        if write:
            check_writable(path, "checkpoint")
        self.path, self.every, self.resume, self.write = path, int(every), bool(resume), bool(write)

    def sync_at(self, epoch: int, run: Any) -> bool:
        return (epoch + 1) % self.every == 0

    def on_train_begin(self, run: Any) -> None:
        if not self.resume:
            return
        read = lambda: self._read(run)  # noqa: E731
        saved = run.parallel.from_root(read) if run.parallel.size > 1 else read()  # rank 0 reads, all get it
        if saved is not None:
            run.load_state_dict(saved["train"], saved["params"], saved["opt_state"], f"checkpoint {self.path}")

    def _read(self, run: Any) -> dict | None:
        """The checkpoint, checked against this run; None when there is no file."""
        from ..io import load_checkpoint

        if not os.path.exists(self.path):
            return None
        saved = load_checkpoint(self.path)
        self._check_compatible(saved, run)
        return saved

    def on_sync(self, run: Any) -> None:
        if not (self.write and run.parallel.is_root):
            return
        if run.epoch % self.every == 0 or run.epoch == run.epochs or run.stop_training:
            from ..io import save_checkpoint

            save_checkpoint(self.path, run.model, run.params, run.optimizer, run.opt_state, run.state_dict())

    def _check_compatible(self, saved: dict, run: Any) -> None:
        path, config = self.path, run.model.config()
        if any(saved["config"].get(k) != config.get(k) for k in _ARCHITECTURE):
            raise InvalidArgumentError(
                f"checkpoint {path} holds a different model ({saved['config']['sizes']}, "
                f"{saved['config']['dtype']}, classes {saved['config'].get('classes')}); resume with the same "
                "architecture, dtype and classes, or start fresh"
            )
        hyper = {k: list(v) if isinstance(v, tuple) else v for k, v in run.optimizer.hyperparams.items()}
        if saved["optimizer"] != {"name": run.optimizer.name, "hyperparams": hyper}:
            raise InvalidArgumentError(
                f"checkpoint {path} was written with optimizer {saved['optimizer']}; resume with the same "
                "optimizer and hyperparameters, or start fresh"
            )
        state = saved["train"]
        for key, value in run.settings.items():
            if state.get(key) != (list(value) if isinstance(value, tuple) else value):
                raise InvalidArgumentError(
                    f"checkpoint {path} was written with {key}={state.get(key)!r}, this run has "
                    f"{key}={value!r}; resume with the same settings, or start fresh"
                )
        if set(saved["opt_state"]) - {"lr"} != set(run.opt_state) - {"lr"}:
            raise InvalidArgumentError(f"checkpoint {path}: its optimizer state does not match optimizer "
                                       f"{run.optimizer.name!r}; resume with the same optimizer, or start fresh")
