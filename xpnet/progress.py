"""A progress display for long training runs.

:class:`Progress` shows how far a run has got: a tqdm bar when tqdm is
installed (``pip install tqdm``; optional), otherwise one plain line per
interval. It is drawn when its stream is a terminal, when forced, and in a
Jupyter notebook (there as tqdm's notebook widget, ``tqdm.auto``'s choice in a
kernel, when ipywidgets is installed, else as tqdm's text bar); it is quiet
in a log file, a pipe or CI, so batch jobs and captured output stay clean.

The training loop calls :meth:`Progress.update` once per host sync with the
metrics it has just read (never per batch: reading metrics is what costs a
device synchronization), and :meth:`Progress.close` at the end::

    with Progress(epochs) as bar:
        for epoch in range(epochs):
            ...
            bar.update(epoch + 1, {"loss": loss, "accuracy": accuracy})
"""

from __future__ import annotations

import numbers
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from .errors import InvalidArgumentError, MissingDependencyError
from .validation import check_bool, check_int, check_number

__all__ = ["Progress"]

#: The clock used for rates and intervals (a module attribute so tests can replace it).
_clock = time.monotonic


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (IPython's kernel app is running), where stderr is no
    terminal but what is written to it is shown under the cell. IPython is not imported here."""
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:  # an unusual IPython: no notebook display rather than an error
        return False


def _notebook_bar() -> Any:
    """tqdm's notebook widget class when it can be drawn here (it needs ipywidgets), else None."""
    try:
        from tqdm.notebook import IProgress, tqdm as notebook_tqdm
    except ImportError:
        return None
    return notebook_tqdm if IProgress is not None else None


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.4g}"
    return str(value)


def _format_metrics(metrics: Mapping[str, Any] | None, sep: str = " ") -> list[str]:
    return [f"{key}{sep}{_format_value(value)}" for key, value in (metrics or {}).items()]


def _format_seconds(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}:{secs:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class Progress:
    """Progress of a training run over ``total_epochs`` epochs.

    Parameters
    ----------
    total_epochs : int
        The number of epochs the run will do (>= 1).
    enabled : bool, default True
        ``False`` turns the display off entirely (even with ``force``).
    stream : text stream, optional
        Where to draw; ``sys.stderr`` (looked up when the object is made) by
        default.
    force : bool, default False
        Draw even when ``stream`` is not a terminal (for logs that want
        progress lines). In a Jupyter kernel the default stream is drawn
        without it: as tqdm's notebook widget where ipywidgets is installed.
    use_tqdm : bool or None, default None
        ``None``: a tqdm bar when tqdm is importable, plain lines otherwise;
        ``False``: always plain lines; ``True``: tqdm or an ImportError.
    min_interval : float, default 1.0
        Seconds between two plain lines (the first and the last update are
        always shown), and tqdm's ``mininterval``.
    desc : str, default "training"
        The label in front of the bar or line.

    Attributes
    ----------
    active : bool
        Whether anything is drawn: ``enabled and (force or stream.isatty() or
        notebook)``.
    notebook : bool
        Drawn in a Jupyter notebook: the default stream (``stream=None``) in a
        kernel. The bar is then tqdm's notebook widget when ipywidgets is
        installed (``kind`` is still ``"tqdm"``).
    kind : str or None
        ``"tqdm"``, ``"lines"``, or ``None`` when inactive.

    Notes
    -----
    ``update(epoch, metrics)`` takes the number of completed epochs
    (``1 .. total_epochs``) and a dict of scalar metrics as read on the host
    (e.g. ``{"loss": 0.31, "accuracy": 0.9}``). It does no host-device
    transfer itself.
    """

    def __init__(self, total_epochs: int, enabled: bool = True, stream: TextIO | None = None, *,
                 force: bool = False, use_tqdm: bool | None = None, min_interval: float = 1.0,
                 desc: str = "training") -> None:
        self.total = check_int("total_epochs", total_epochs, low=1)
        self.min_interval = check_number("min_interval", min_interval, low=0.0)
        use_tqdm = check_bool("use_tqdm", use_tqdm, allow_none=True)
        self.notebook = stream is None and in_notebook()
        self.stream = sys.stderr if stream is None else stream
        self.desc = str(desc)
        self.active = bool(enabled) and (bool(force) or _isatty(self.stream) or self.notebook)
        self.kind: str | None = None
        self.epoch = 0
        self.metrics: dict[str, Any] = {}
        self._bar = None
        self._tqdm = None
        self._closed = False
        self._start = _clock()
        self._last_time: float | None = None
        self._last_shown = -1
        if not self.active:
            return
        tqdm = None
        if use_tqdm is not False:
            try:
                from tqdm import tqdm
            except ImportError:
                if use_tqdm:
                    raise MissingDependencyError("the progress bar needs tqdm: pip install tqdm") from None
        widget = _notebook_bar() if tqdm is not None and self.notebook else None
        if widget is not None:
            self.kind = "tqdm"
            self._tqdm = widget
            self._bar = widget(total=self.total, desc=self.desc, unit="epoch", mininterval=self.min_interval,
                               leave=True)
        elif tqdm is not None:
            self.kind = "tqdm"
            self._tqdm = tqdm
            self._bar = tqdm(total=self.total, desc=self.desc, unit="epoch", file=self.stream,
                             mininterval=self.min_interval, dynamic_ncols=True, leave=True)
        else:
            self.kind = "lines"

    # -- the display ---------------------------------------------------------
    def update(self, epoch: int, metrics: Mapping[str, Any] | None = None) -> None:
        """Show that ``epoch`` epochs (``0 .. total_epochs``) are done, with ``metrics``."""
        epoch = check_int("epoch", epoch, low=0, high=self.total)
        if metrics is not None and not isinstance(metrics, Mapping):
            raise InvalidArgumentError(f"metrics must be a dict of name -> number; got {metrics!r}")
        self.epoch = int(epoch)
        self.metrics = dict(metrics or {})
        if not self.active or self._closed:
            return
        if self.kind == "tqdm":
            bar = self._bar
            bar.set_postfix_str(", ".join(_format_metrics(self.metrics, "=")), refresh=False)
            if self.epoch >= bar.n:
                bar.update(self.epoch - bar.n)
            else:  # went backwards (a restart): redraw at the new position
                bar.n = self.epoch
                bar.refresh()
            return
        now = _clock()
        due = (self._last_time is None or self.epoch == self.total
               or now - self._last_time >= self.min_interval)
        if due and self.epoch != self._last_shown:
            self._print_line(now)

    def _line(self, now: float) -> str:
        width = len(str(self.total))
        parts = [f"{self.desc}: epoch {self.epoch:>{width}}/{self.total} "
                 f"({100.0 * self.epoch / self.total:3.0f}%)"]
        parts += _format_metrics(self.metrics)
        elapsed = now - self._start
        timing = f"[{_format_seconds(elapsed)}"
        if 0 < self.epoch < self.total and elapsed > 0:
            left = elapsed / self.epoch * (self.total - self.epoch)
            timing += f", ~{_format_seconds(left)} left"
        parts.append(timing + "]")
        return "  ".join(parts)

    def _print_line(self, now: float) -> None:
        try:
            self.stream.write(self._line(now) + "\n")
            self.stream.flush()
        except (AttributeError, ValueError, OSError):  # a closed or odd stream: stop drawing
            self.active = False
            return
        self._last_time = now
        self._last_shown = self.epoch

    def write(self, message: str, file: TextIO | None = None) -> None:
        """Print ``message`` as its own line (to ``file``, default stdout) without tearing the bar.

        Works whether or not the display is active, so a training loop can
        send all its text through here.
        """
        target = sys.stdout if file is None else file
        if self.kind == "tqdm" and not self._closed:
            self._tqdm.write(str(message), file=target)
        else:
            print(message, file=target, flush=True)

    def close(self) -> None:
        """Finish the display (a last line / the final bar). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if not self.active:
            return
        if self.kind == "tqdm":
            self._bar.close()
        elif self.epoch != self._last_shown and self.epoch > 0:
            self._print_line(_clock())

    # -- conveniences --------------------------------------------------------
    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = self.kind or "inactive"
        return f"Progress({self.epoch}/{self.total}, {state}{', closed' if self._closed else ''})"
