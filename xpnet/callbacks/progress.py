"""Progress: lines printed every few epochs, and the live display (a tqdm bar or status lines)."""

from __future__ import annotations

import sys
from typing import Any, Callable, Mapping

from ..progress import Progress
from .base import Callback

__all__ = ["ProgressLines", "ProgressBar"]


class ProgressLines(Callback):
    """Print one line of metrics every ``every`` epochs and after the last one
    (``train(verbose=True)``: about ten lines; ``verbose=k``: every k epochs).

    Lines go to ``write`` (stdout by default; through a live bar's ``write`` when
    there is one, so the bar is not torn). Messages of other callbacks (early
    stopping's "stopped after epoch ...") go there too.
    """

    def __init__(self, every: int, write: Callable[[str], None] | None = None) -> None:
        self.every = int(every)
        self.write = write or (lambda line: print(line, file=sys.stdout, flush=True))

    def sync_at(self, epoch: int, run: Any) -> bool:
        return (epoch + 1) % self.every == 0 or epoch == run.epochs - 1

    def on_train_begin(self, run: Any) -> None:
        run.log = self.write

    def on_epoch_end(self, run: Any, epoch: int, logs: Mapping[str, float]) -> None:
        if self.sync_at(epoch, run):
            self.write(format_line(epoch, run.epochs, logs))


def format_line(epoch: int, epochs: int, logs: Mapping[str, float]) -> str:
    """``epoch  5/20  loss 0.312000  accuracy 0.9000  val_loss ...`` (epochs counted from 1)."""
    width = len(str(epochs))
    parts = [f"epoch {epoch + 1:>{width}}/{epochs}", f"loss {logs['loss']:.6f}"]
    for name, fmt in (("accuracy", ".4f"), ("val_loss", ".6f"), ("val_accuracy", ".4f")):
        if name in logs:
            parts.append(f"{name} {logs[name]:{fmt}}")
    return "  ".join(parts)


class ProgressBar(Callback):
    """Draw a :class:`xpnet.progress.Progress` display, updated at host syncs only.

    When it is drawn, the metrics are read every ``every`` epochs
    (``max(1, min(sync_every, epochs // 100))`` from :func:`xpnet.train`),
    never per batch. ``close=False`` leaves a display the caller passed in open.
    """

    def __init__(self, display: Progress, every: int = 1, close: bool = True) -> None:
        self.display, self.close = display, close
        self.every = int(every) if display.active else 0

    def on_sync(self, run: Any) -> None:
        self.display.update(run.epoch, run.history.latest())

    def on_train_end(self, run: Any) -> None:
        self._finish()

    def on_exception(self, run: Any, exc: BaseException) -> None:
        self._finish()

    def _finish(self) -> None:
        if self.close:
            self.display.close()
