"""Training: minibatches, shuffling, epochs, validation, early stopping, history.

:func:`train_step` is one step of gradient descent and reads in pipeline
order: forward -> loss -> backward -> optimizer update. :func:`train` drives
it over epochs. Data moves to the backend once; each epoch's shuffle order
and dropout masks are drawn on the host from the seeded generator and moved
once per epoch. Per-batch metrics stay on the device; the host reads them
once per epoch when it needs them (early stopping, progress lines) and
otherwise once every ``sync_every`` epochs, so the GPU never waits on Python
inside an epoch.
"""

from __future__ import annotations

import math
import numbers
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from .backend import (Backend, array_namespace as _namespace, get_backend, host_copies, host_rng,
                      infer_backend, require_backend, to_numpy)
from .data import as_features, as_targets
from .errors import InvalidArgumentError, InvalidTypeError, XpnetError
from .io import InvalidFileError, check_writable, load_checkpoint, save_checkpoint
from .model import MLP, backward, forward, output_delta
from .optim import Optimizer, get_optimizer
from .progress import Progress

__all__ = ["train", "train_step", "History", "EarlyStopping", "TrainingDivergedError"]


class TrainingDivergedError(XpnetError, FloatingPointError):
    """The training loss became NaN or infinite; the model keeps its last finite weights."""


@dataclass
class History:
    """Per-epoch metrics of a :func:`train` run (plain Python floats).

    ``accuracy`` and ``val_accuracy`` are empty for regression outputs;
    ``val_*`` are empty without ``validation_data``.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    #: Epoch (0-based) whose weights the model holds after early stopping, else None.
    best_epoch: int | None = None
    #: True when early stopping ended the run before ``epochs``.
    stopped_early: bool = False
    #: Wall-clock seconds of the run.
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self.loss)

    def as_dict(self) -> dict[str, Any]:
        """The history as a plain dict (for JSON)."""
        return {"loss": self.loss, "accuracy": self.accuracy, "val_loss": self.val_loss,
                "val_accuracy": self.val_accuracy, "best_epoch": self.best_epoch,
                "stopped_early": self.stopped_early, "seconds": self.seconds}


@dataclass
class EarlyStopping:
    """Stop when the monitored loss has not improved by ``min_delta`` for ``patience`` epochs.

    Parameters
    ----------
    patience : int
        Epochs without improvement to wait before stopping.
    min_delta : float
        Smallest decrease that counts as an improvement.
    monitor : str
        ``"val_loss"`` (default when validation data is given) or ``"loss"``.
    restore_best : bool
        Put back the weights of the best epoch when training ends.
    """

    patience: int = 10
    min_delta: float = 0.0
    monitor: str | None = None
    restore_best: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.patience, bool) or not isinstance(self.patience, int) or self.patience < 1:
            raise InvalidArgumentError(f"patience must be a positive int; got {self.patience!r}")
        if not self.min_delta >= 0:
            raise InvalidArgumentError(f"min_delta must be >= 0; got {self.min_delta!r}")
        if self.monitor not in (None, "loss", "val_loss"):
            raise InvalidArgumentError(f"monitor must be 'loss' or 'val_loss'; got {self.monitor!r}")


def train_step(params: list, opt_state: dict, X: Any, T: Any, model: MLP, optimizer: Optimizer,
               masks: Sequence[Any] | None = None, *, inplace: bool = False) -> tuple[list, dict, Any, Any]:
    """One gradient-descent step on a batch; returns ``(params, opt_state, loss, output)``.

    ``params`` is the flat list ``[W1, b1, W2, b2, ...]``; ``loss`` is a 0-D
    array on the device. ``inplace=True`` applies the optimizer's in-place
    ``update`` (what :func:`train` does, on arrays it owns): the arrays of
    ``params`` and ``opt_state`` are overwritten where the library allows it.
    """
    pairs = list(zip(params[0::2], params[1::2]))
    layers = forward(pairs, X, model.activations, masks)                      # forward
    top = layers[-1]
    loss = model.loss_fn.value(top.Z, top.A, T)                                # loss
    dZ = output_delta(top, T, model.output, model.loss_fn)
    grads = backward(pairs, layers, dZ, model.activations, masks)             # backward
    flat_grads = [g for pair in grads for g in pair]
    rule = optimizer.update if inplace and optimizer.update is not None else optimizer.step
    params, opt_state = rule(params, flat_grads, opt_state)                   # update
    return params, opt_state, loss, top.A


def _n_correct(A: Any, T: Any, output: str, xp: Any) -> Any:
    """Correct predictions in a batch, a 0-D device array (for sigmoid outputs: correct
    units, which the host divides by the units to get a per-row figure); None for regression."""
    if output == "softmax":
        hits = xp.argmax(A, axis=1) == xp.argmax(T, axis=1)
    elif output == "sigmoid":
        hits = (A > 0.5) == (T > 0.5)
    else:
        return None
    return xp.sum(xp.astype(hits, A.dtype))  # exact up to 2**24 hits a batch in float32


def _check_positive_int(name: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidArgumentError(f"{name} must be a positive int{' or None' if allow_none else ''}; got {value!r}")


def _resolve_backend(model: MLP, backend: Any, data: dict) -> Backend:
    """Where to train: ``backend=`` if given (every array must be host data or there already), else
    where the arrays of ``data`` live, else the model's backend. Raises before any computation."""
    if backend is not None:
        be = get_backend(backend)
        require_backend(be, f"training (backend={backend!r})", **data)
        return be
    inferred = infer_backend(**data)
    return model.backend if inferred.is_numpy else inferred


def _evaluate(params: list, X: Any, T: Any, model: MLP) -> list:
    """Validation loss (and the count of correct predictions for classifiers) as 0-D device arrays."""
    pairs = list(zip(params[0::2], params[1::2]))
    top = forward(pairs, X, model.activations)[-1]
    metrics = [model.loss_fn.value(top.Z, top.A, T)]
    correct = _n_correct(top.A, T, model.output.name, _namespace(X))
    if correct is not None:
        metrics.append(correct)
    return metrics


def train(model: MLP, X: Any, y: Any, epochs: int = 100, batch_size: int | None = None,
          optimizer: str | Optimizer = "sgd", lr: float | None = None, momentum: float = 0.0,
          nesterov: bool = False, weight_decay: float = 0.0, dropout: float = 0.0,
          shuffle: bool = True, seed: int = 0, backend: Any = None,
          validation_data: tuple[Any, Any] | None = None,
          early_stopping: int | EarlyStopping | None = None, verbose: bool | int = False,
          sync_every: int = 100, checkpoint: str | os.PathLike | None = None,
          checkpoint_every: int = 1, resume: bool = False,
          progress: bool | Progress | None = None) -> History:
    """Train ``model`` in place on ``(X, y)`` and return its :class:`History`.

    Parameters
    ----------
    model : MLP
        The network; its parameters are replaced by the trained ones.
    X : array (n_samples, n_features)
        NumPy data (moved to the backend once) or an array of the backend.
    y : array
        Labels ``(n,)``, a column ``(n, 1)`` or one-hot ``(n, n_out)``.
    epochs : int
        Passes over the data.
    batch_size : int or None
        Rows per step; ``None`` is full-batch gradient descent (one step per epoch).
    optimizer : str or Optimizer
        ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``,
        ``"adam"``, ``"adamw"``, or an :class:`xpnet.optim.Optimizer`.
    lr : float or None
        Learning rate; ``None`` uses the optimizer's ``torch.optim`` default (1e-3 for SGD and Adam).
    momentum, nesterov, weight_decay : float, bool, float
        As in ``torch.optim``; ``weight_decay`` is L2 added to the gradient
        (decoupled for AdamW, whose default of 0.01 applies when this is 0).
    dropout : float
        Probability of zeroing each hidden unit during training (inverted
        dropout: survivors are scaled by ``1 / (1 - dropout)``); 0 disables it.
    shuffle : bool
        Reshuffle the rows every epoch (minibatch training only).
    seed : int
        Seed of the host generator for shuffles and dropout masks.
    backend : str, module or None
        Where to train. ``None``: where ``X``/``y`` live if they are arrays of a
        non-NumPy library, else the model's backend. Training on another
        backend than the model's trains a moved copy and writes the trained
        parameters back into ``model`` at the end.
    validation_data : (X_val, y_val) or None
        Evaluated after every epoch (``history.val_loss``, ``val_accuracy``).
    early_stopping : int, EarlyStopping or None
        Patience in epochs, or an :class:`EarlyStopping`; monitors
        ``val_loss`` when validation data is given, else ``loss``, and
        restores the best weights.
    verbose : bool or int
        ``True`` prints about 10 progress lines; an int ``k`` prints every ``k`` epochs.
    progress : bool, Progress or None
        A live progress display on stderr (a tqdm bar when tqdm is installed,
        else a line every second), drawn only when stderr is a terminal.
        ``None`` (default): shown when ``verbose`` is set; ``True``/``False``:
        on/off whatever ``verbose`` says; an :class:`xpnet.progress.Progress`
        to choose the stream, force it into a log, or refuse tqdm (you close
        that one). It is updated at host syncs only: when it is drawn, the
        metrics are read every ``max(1, min(sync_every, epochs // 100))``
        epochs, never per batch.
    sync_every : int
        Epochs between host reads of the metrics when nothing else needs them.
    checkpoint : path or None
        Write a training checkpoint (model, optimizer state, epoch, random
        generator state, history) to this ``.npz`` file every
        ``checkpoint_every`` epochs and at the end. Each write goes to a
        temporary file that is renamed over the old one, so the file on disk
        is always complete.
    checkpoint_every : int
        Epochs between checkpoints.
    resume : bool
        Continue from ``checkpoint`` if that file exists (else start fresh),
        up to ``epochs`` in total. The run must use the same model
        architecture, optimizer and batch settings; the result is the same as
        a run that was never interrupted.

    Returns
    -------
    History
        Per-epoch ``loss`` (mean over the epoch's batches, weighted by rows),
        ``accuracy`` and, with validation data, ``val_loss``/``val_accuracy``.

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C, after writing the parameters of the last completed step into
        ``model``; its ``history`` attribute holds every completed epoch.
    TrainingDivergedError
        The loss became NaN or infinite; the model keeps the last weights whose
        epoch loss was finite.
    """
    if not isinstance(model, MLP):
        raise InvalidTypeError(f"model must be an xpnet.MLP; got {type(model).__name__}")
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size, allow_none=True)
    _check_positive_int("sync_every", sync_every)
    _check_positive_int("checkpoint_every", checkpoint_every)
    epochs, sync_every = int(epochs), int(sync_every)
    batch_size = None if batch_size is None else int(batch_size)
    if resume and checkpoint is None:
        raise InvalidArgumentError("resume=True needs checkpoint=PATH (the file to continue from)")
    if checkpoint is not None:
        check_writable(checkpoint, "checkpoint")
    if shuffle not in (True, False):
        raise InvalidTypeError(f"shuffle must be True or False; got {shuffle!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise InvalidArgumentError(f"dropout must be in [0, 1); got {dropout!r}")
    if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping(patience=early_stopping)
    elif early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise InvalidTypeError(
            f"early_stopping must be None, a patience (int) or xpnet.EarlyStopping; got {early_stopping!r}"
        )
    opt = get_optimizer(optimizer, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    if validation_data is not None and (not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2):
        raise InvalidArgumentError("validation_data must be a pair (X_val, y_val)")
    X_val, y_val = validation_data if validation_data is not None else (None, None)
    be = _resolve_backend(model, backend, {"X": X, "y": y, "X_val": X_val, "y_val": y_val})
    with be.activate():  # CuPy: the model's GPU is current for the whole run
        return _train(model, be, X, y, X_val, y_val, epochs, batch_size, opt, dropout, shuffle, seed,
                      early_stopping, verbose, sync_every, checkpoint, checkpoint_every, resume, progress)


def _train(model, be, X, y, X_val, y_val, epochs, batch_size, opt, dropout, shuffle, seed, early_stopping,
           verbose, sync_every, checkpoint, checkpoint_every, resume, progress) -> History:
    net = model.to(be)

    # data -> backend, once
    Xd = as_features(X, net.sizes[0], be, net.dtype)
    n = Xd.shape[0]
    T = as_targets(y, n, net.sizes[-1], net.output.name, be, net.dtype)
    val = None
    if X_val is not None or y_val is not None:
        Xv = as_features(X_val, net.sizes[0], be, net.dtype, name="X_val")
        val = (Xv, as_targets(y_val, Xv.shape[0], net.sizes[-1], net.output.name,
                              be, net.dtype, name="y_val", x_name="X_val"))
    rng = host_rng(seed)
    classify = net.output.name in ("sigmoid", "softmax")
    monitor = None
    if early_stopping is not None:
        monitor = early_stopping.monitor or ("val_loss" if val is not None else "loss")
        if monitor == "val_loss" and val is None:
            raise InvalidArgumentError("early stopping on 'val_loss' needs validation_data")
    every = _print_interval(verbose, epochs)
    bar = _progress_display(progress, verbose, epochs)
    bar_every = max(1, min(sync_every, epochs // 100)) if bar.active else 0

    # the run's own copy: updates happen in place, and arrays the caller holds never change. The
    # model takes the copy at once (its old arrays are freed unless the caller holds them).
    params = [be.xp.asarray(a, copy=True) for pair in net.params for a in pair]
    net._params = list(zip(params[0::2], params[1::2]))
    opt_state = opt.init(params)
    history = History()
    best, best_params, wait, start = math.inf, None, 0, 0
    settings = {"batch_size": batch_size, "shuffle": bool(shuffle), "dropout": float(dropout),
                "seed": seed if isinstance(seed, int) else None,
                "early_stopping": None if early_stopping is None else [early_stopping.patience,
                                                                       early_stopping.min_delta, monitor]}
    if resume and checkpoint is not None and os.path.exists(checkpoint):
        saved = _resume(checkpoint, net, opt, settings, rng)
        params, opt_state, history, start = saved["params"], saved["opt_state"], saved["history"], saved["epoch"]
        best, wait, best_params = saved["best"], saved["wait"], saved["best_params"]
        if saved["stopped_early"]:
            start = epochs
    # accuracy = correct / (rows x units per prediction), divided on the host at each sync
    per_row = net.sizes[-1] if net.output.name == "sigmoid" else 1
    pending = _Pending(history, classify, params, n * per_row, None if val is None else val[0].shape[0] * per_row)
    t0 = time.perf_counter()
    # quiet_overflow: divergence is checked at each sync instead of per operation
    with be.quiet_overflow(), be.keep_host_memory(), _HoldInterrupts() as hold:
        try:
            for epoch in range(start, epochs):
                params, opt_state, metrics = _run_epoch(params, opt_state, Xd, T, net, opt, rng,
                                                        batch_size, shuffle, dropout, hold)
                if val is not None:
                    metrics += _evaluate(params, val[0], val[1], net)
                pending.add(metrics, params)
                last = epoch == epochs - 1
                shows = bool(every) and ((epoch + 1) % every == 0 or last)
                saves = checkpoint is not None and ((epoch + 1) % checkpoint_every == 0 or last)
                draws = bool(bar_every) and (epoch + 1) % bar_every == 0
                if not (monitor or last or shows or saves or draws or len(pending.rows) >= sync_every):
                    continue
                pending.flush()  # the one host sync for every epoch since the last one
                bar.update(epoch + 1, _latest(history))
                if shows:
                    _print_progress(history, epoch, epochs, bar.write)
                if monitor is not None:
                    current = history.val_loss[-1] if monitor == "val_loss" else history.loss[-1]
                    if current < best - early_stopping.min_delta:
                        best, best_params, wait = current, host_copies(params), 0
                        history.best_epoch = epoch
                    else:
                        wait += 1
                        history.stopped_early = wait >= early_stopping.patience
                if saves or history.stopped_early and checkpoint is not None:
                    state = {**settings, "epoch": epoch + 1, "rng": rng.bit_generator.state,
                             "history": history.as_dict(), "best": best if math.isfinite(best) else None,
                             "wait": wait}
                    save_checkpoint(checkpoint, net, params, opt, opt_state, state, best_params)
                if history.stopped_early:
                    break
        except (KeyboardInterrupt, _Interrupted) as stop:
            # Keep what completed: the history gets every finished epoch; the parameters
            # are those of the last completed step (a step replaces the whole list at once).
            params = getattr(stop, "params", params)
            pending.flush(check=False)
            _write_back(model, net, params)
            history.seconds = time.perf_counter() - t0
            stopped = KeyboardInterrupt("training interrupted; the model holds the last completed step")
            stopped.history = history  # type: ignore[attr-defined]  # every completed epoch
            raise stopped from None
        except TrainingDivergedError:
            _write_back(model, net, [be.asarray(a, net.dtype) for a in pending.last_good])
            raise
        finally:
            if bar is not progress:  # a display the caller passed in is the caller's to close
                bar.close()
    if best_params is not None and early_stopping.restore_best:
        params = [be.asarray(a, net.dtype) for a in best_params]
    _write_back(model, net, params)
    be.synchronize(*params)
    history.seconds = time.perf_counter() - t0
    return history


def _resume(path: Any, net: MLP, opt: Optimizer, settings: dict, rng: Any) -> dict:
    """Load a checkpoint for ``train(resume=True)``; check it belongs to this run; move it to the backend."""
    saved = load_checkpoint(path)
    train_state = saved["train"]
    arch = ("sizes", "hidden", "output", "loss", "dtype")  # init and seed only matter before training
    if any(saved["config"][k] != net.config()[k] for k in arch):
        raise InvalidArgumentError(
            f"checkpoint {path} holds a different model ({saved['config']['sizes']}, "
            f"{saved['config']['dtype']}); resume with the same architecture and dtype, or start fresh"
        )
    hyper = {k: list(v) if isinstance(v, tuple) else v for k, v in opt.hyperparams.items()}
    if saved["optimizer"] != {"name": opt.name, "hyperparams": hyper}:
        raise InvalidArgumentError(
            f"checkpoint {path} was written with optimizer {saved['optimizer']}; resume with the same "
            "optimizer and hyperparameters, or start fresh"
        )
    for key, value in settings.items():
        if train_state.get(key) != (list(value) if isinstance(value, tuple) else value):
            raise InvalidArgumentError(
                f"checkpoint {path} was written with {key}={train_state.get(key)!r}, this run has "
                f"{key}={value!r}; resume with the same settings, or start fresh"
            )
    try:
        rng.bit_generator.state = train_state["rng"]
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidFileError(f"{path}: bad random-generator state ({exc})") from None
    if set(saved["opt_state"]) != set(opt.init(saved["params"])):
        raise InvalidFileError(f"{path}: the optimizer state does not match optimizer {opt.name!r}")
    be, dtype = net.backend, net.dtype
    move = lambda arrays: None if arrays is None else [be.asarray(a, dtype) for a in arrays]  # noqa: E731
    h = train_state.get("history") or {}
    history = History(loss=list(h.get("loss", [])), accuracy=list(h.get("accuracy", [])),
                      val_loss=list(h.get("val_loss", [])), val_accuracy=list(h.get("val_accuracy", [])),
                      best_epoch=h.get("best_epoch"), stopped_early=bool(h.get("stopped_early")))
    best = train_state.get("best")
    return {
        "params": move(saved["params"]),
        "opt_state": {k: move(v) if isinstance(v, list) else v for k, v in saved["opt_state"].items()},
        "history": history,
        "epoch": int(train_state.get("epoch", 0)),
        "best": math.inf if best is None else float(best),
        "wait": int(train_state.get("wait", 0)),
        "best_params": saved["best_params"],  # host copies, as train keeps them
        "stopped_early": history.stopped_early,
    }


def _run_epoch(params: list, opt_state: dict, X: Any, T: Any, net: MLP, opt: Optimizer, rng: Any,
               batch_size: int | None, shuffle: bool, dropout: float,
               hold: "_HoldInterrupts") -> tuple[list, dict, list]:
    """One pass over the data; returns the new params and state and the epoch's metrics (on the device).

    The shuffle order and dropout masks are drawn on the host and moved once.
    Each step updates ``params`` in place; ``hold`` keeps a Ctrl-C from landing
    inside one, so an interrupt always finds a completed step.
    """
    be, xp = net.backend, net.backend.xp
    n = X.shape[0]
    bs = n if batch_size is None else min(batch_size, n)
    order = be.asarray(rng.permutation(n)) if shuffle and bs < n else None
    keep = 1.0 - dropout
    masks_epoch = None
    if dropout > 0 and len(net.sizes) > 2:
        masks_epoch = [be.asarray(rng.random((n, h)) < keep) for h in net.sizes[1:-1]]
    losses, corrects = [], []  # per-batch 0-D device arrays, reduced once per epoch
    try:
        for start in range(0, n, bs):
            stop = min(start + bs, n)
            if order is not None:
                idx = order[start:stop]
                Xb, Tb = xp.take(X, idx, axis=0), xp.take(T, idx, axis=0)
            else:
                Xb, Tb = (X, T) if bs == n else (X[start:stop, :], T[start:stop, :])
            masks = None
            if masks_epoch is not None:
                masks = [xp.astype(m[start:stop, :], net.dtype) * (1.0 / keep) for m in masks_epoch]
            hold.busy = True
            params, opt_state, loss, A = train_step(params, opt_state, Xb, Tb, net, opt, masks, inplace=True)
            hold.busy = False
            if hold.pending:
                hold.release()
            losses.append(loss)
            correct = _n_correct(A, Tb, net.output.name, xp)
            if correct is not None:
                corrects.append(correct)
    except KeyboardInterrupt:
        raise _Interrupted(params) from None
    metrics = [_epoch_mean(losses, bs, n - (len(losses) - 1) * bs, n, xp)]
    if corrects:
        metrics.append(corrects[0] if len(corrects) == 1 else xp.sum(xp.stack(corrects)))
    return params, opt_state, metrics


def _epoch_mean(batch_means: list, rows: int, last_rows: int, n: int, xp: Any) -> Any:
    """Mean over the epoch's rows of per-batch means (only the last batch can be short), O(1) device ops."""
    if len(batch_means) == 1:
        return batch_means[0]
    return (xp.sum(xp.stack(batch_means[:-1])) * rows + batch_means[-1] * last_rows) / n


class _Interrupted(Exception):
    """Ctrl-C inside an epoch, carrying the parameters of the last completed step."""

    def __init__(self, params: list) -> None:
        super().__init__("interrupted")
        self.params = params


class _HoldInterrupts:
    """Hold a Ctrl-C that arrives while ``busy`` (inside a training step) until the step is done.

    Installed for the whole of :func:`train` in the main thread (the only one
    Python delivers SIGINT to) when the current handler is a Python callable;
    it costs two attribute writes per step. A signal outside a step goes
    straight to the previous handler; one inside a step is replayed on
    :meth:`release`, right after the step. (``io._interrupts_deferred``, which
    blocks SIGINT around a file write, would do the same job per step, but at
    about 3 µs a step against 0.03: 5% of the tiny benchmark's step.)
    """

    def __init__(self) -> None:
        self.busy = self.pending = False
        self._previous: Any = None
        self._frame: Any = None

    def __enter__(self) -> "_HoldInterrupts":
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.busy:
            self.pending, self._frame = True, frame
        else:
            self._previous(signum, frame)

    def release(self) -> None:
        """Deliver the held signal (normally: raise KeyboardInterrupt)."""
        self.pending = False
        if self._previous is not None:
            self._previous(signal.SIGINT, self._frame)


class _Pending:
    """Per-epoch metrics kept on the device until the next host sync.

    ``last_good`` holds host copies of the parameters at the last sync whose
    metrics were all finite (the weights a diverged run falls back to); being
    on the host, they take no device memory.
    """

    def __init__(self, history: History, classify: bool, params: list, n: int, n_val: int | None) -> None:
        self.history, self.classify, self.has_val = history, classify, n_val is not None
        # what each metric column is divided by on the host: counts of correct predictions become accuracies
        self.scale = [1, n, 1, n_val] if classify else [1, 1]
        self.rows: list[list] = []  # one list of 0-D device arrays per epoch
        self.newest = params
        self.last_good, self.good_epochs = host_copies(params), history.epochs

    def add(self, metrics: list, params: list) -> None:
        self.rows.append(metrics)
        self.newest = params

    def flush(self, check: bool = True) -> None:
        """Copy the pending metrics to the history in one transfer; raise on NaN/inf."""
        if not self.rows:
            return
        width = len(self.rows[0])
        flat = [m for row in self.rows for m in row]
        xp = _namespace(flat[0])
        stacked = to_numpy(xp.stack(flat)).reshape(-1, width)  # every metric: a 0-D array, model's dtype
        self.rows = []
        stacked = stacked / stacked.dtype.type(self.scale[:width])  # float division on the host: exact counts
        if not check or math.isfinite(stacked.sum(dtype="float64")):  # NaN and inf reach the sum
            _record(self.history, stacked.T.tolist(), self.classify, self.has_val)
            self.last_good, self.good_epochs = host_copies(self.newest), self.history.epochs
            return
        for row in stacked.tolist():
            if not all(math.isfinite(v) for v in row):
                raise TrainingDivergedError(
                    f"the loss became {row[0]} at epoch {self.history.epochs}; the model keeps the "
                    + (f"weights it had after epoch {self.good_epochs - 1}, the last check with finite "
                       "metrics" if self.good_epochs else "weights it started with")
                    + "; lower the learning rate (lr), standardize X, or use optimizer='adam'"
                )
            _record(self.history, [[v] for v in row], self.classify, self.has_val)


def _record(history: History, columns: list[list[float]], classify: bool, has_val: bool) -> None:
    """Append epochs to the history from its metric columns (loss, [accuracy], [val_loss, [val_accuracy]])."""
    it = iter(columns)
    history.loss.extend(next(it))
    if classify:
        history.accuracy.extend(next(it))
    if has_val:
        history.val_loss.extend(next(it))
        if classify:
            history.val_accuracy.extend(next(it))


def _write_back(model: MLP, net: MLP, params: list) -> None:
    pairs = list(zip(params[0::2], params[1::2]))
    if net is model:
        model._params = pairs
    else:
        model.set_params(pairs)


def _print_interval(verbose: bool | int, epochs: int) -> int:
    if verbose is True:
        return max(1, epochs // 10)
    if not verbose:
        return 0
    if isinstance(verbose, int) and verbose > 0:
        return verbose
    raise InvalidArgumentError(f"verbose must be a bool or a positive int; got {verbose!r}")


def _progress_display(progress: bool | Progress | None, verbose: bool | int, epochs: int) -> Progress:
    """The live display for ``train(progress=...)``; inactive unless stderr is a terminal."""
    if isinstance(progress, Progress):
        return progress
    if progress is None:
        progress = bool(verbose)
    if not isinstance(progress, bool):
        raise InvalidTypeError(
            f"progress must be None, a bool or an xpnet.progress.Progress; got {progress!r}"
        )
    return Progress(epochs, enabled=progress)


def _latest(history: History) -> dict[str, float]:
    """The newest value of each recorded metric (host floats, already synced)."""
    series = (("loss", history.loss), ("accuracy", history.accuracy),
              ("val_loss", history.val_loss), ("val_accuracy", history.val_accuracy))
    return {name: values[-1] for name, values in series if values}


def _print_progress(history: History, epoch: int, epochs: int, write: Any = None) -> None:
    width = len(str(epochs))
    parts = [f"epoch {epoch + 1:>{width}}/{epochs}", f"loss {history.loss[-1]:.6f}"]
    if history.accuracy:
        parts.append(f"accuracy {history.accuracy[-1]:.4f}")
    if history.val_loss:
        parts.append(f"val_loss {history.val_loss[-1]:.6f}")
    if history.val_accuracy:
        parts.append(f"val_accuracy {history.val_accuracy[-1]:.4f}")
    line = "  ".join(parts)
    if write is None:
        print(line, file=sys.stdout, flush=True)
    else:
        write(line)  # Progress.write: a line that does not tear a live bar
