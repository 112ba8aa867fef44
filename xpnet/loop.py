"""The training loop: a :class:`Run` (the live state callbacks see) driven epoch by epoch.

:func:`train_step` is one step of gradient descent and reads in pipeline order:
forward -> loss -> backward -> optimizer update. :func:`fit` runs epochs of
steps and hands everything optional to callbacks. Data is on the device before
the loop starts; each epoch's shuffle order and dropout masks are drawn on the
host from the seeded generator and moved once. Per-batch metrics stay on the
device; the host reads them at syncs (every ``sync_every`` epochs, after the
last epoch, and after any epoch a callback asks for), so the device never waits
on Python inside an epoch.

The run's ``parallel`` says which rows of each batch are this process's:
:class:`OneProcess` (all of them) here, :class:`xpnet.distributed.DataParallel`
(this rank's share, with the gradient summed across ranks once per step) in a
data-parallel run.

Where the backend has a faster plan for a run
(:meth:`xpnet.Backend.training_plan`: NumPy for plain SGD), the loop asks it
for each epoch instead of running :func:`_run_epoch`; the rest is the same.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Callable, Sequence

from .backend import array_namespace, to_numpy
from .callbacks.base import CallbackList
from .errors import InvalidFileError
from .history import History
from .model import MLP, backward, forward, output_delta, pairs_of
from .optim import Optimizer
from .schedules import check_rate

__all__ = ["Run", "fit", "train_step", "OneProcess"]

TINY = 1e-30  # below any positive weight total, above float32's smallest normal number
_NAN = float("nan")


def train_step(params: list, opt_state: dict, X: Any, T: Any, model: MLP, optimizer: Optimizer,
               masks: Sequence[Any] | None = None, *, inplace: bool = False,
               weights: Any = None, reduce: Callable[[list], list] | None = None) -> tuple[list, dict, Any, Any]:
    """One gradient-descent step on a batch; returns ``(params, opt_state, loss, output)``.

    ``params`` is the flat list ``[W1, b1, W2, b2, ...]``; ``loss`` is a 0-D
    array on the device. ``inplace=True`` applies the optimizer's in-place
    ``update`` (what :func:`xpnet.train` does, on arrays it owns): the arrays of
    ``params`` and ``opt_state`` are overwritten where the library allows it.
    ``weights`` (optional) is an ``(n, 1)`` column of row weights that sum to
    1: the loss and its gradient are then the weighted mean over the rows (a
    number weighs every row alike). ``reduce`` (optional) turns the flat list
    of gradients into the ones the update applies: in data-parallel training,
    their sum over the ranks, each of which weighs its rows as its share of the
    global batch.
    """
    pairs = pairs_of(params)
    layers = forward(pairs, X, model.activations, masks)                      # forward
    top = layers[-1]
    loss = (model.loss_fn.value(top.Z, top.A, T) if weights is None           # loss
            else model.loss_fn.value(top.Z, top.A, T, weights))
    dZ = output_delta(top, T, model.output, model.loss_fn, weights)
    grads = backward(pairs, layers, dZ, model.activations, masks)             # backward
    flat_grads = [g for pair in grads for g in pair]
    if reduce is not None:
        flat_grads = reduce(flat_grads)                                       # [allreduce]
    rule = optimizer.update if inplace and optimizer.update is not None else optimizer.step
    params, opt_state = rule(params, flat_grads, opt_state)                   # update
    return params, opt_state, loss, top.A


_BUILTIN_STEP = train_step


class Run:
    """One training run: the state the loop advances and callbacks read or change.

    Attributes
    ----------
    model : MLP
        The network on the training backend (it holds ``params`` while the run lasts).
    backend : Backend
    params : list
        Flat ``[W1, b1, ...]`` on the device, updated in place step by step.
    optimizer : Optimizer
    opt_state : dict
        The optimizer's state; ``opt_state["lr"]`` is the current learning rate.
    epoch : int
        Epochs completed so far (a resumed run starts above 0).
    epochs : int
        The epoch count the run goes up to.
    history : History
    stop_training : bool
        Set it to end the run after the current sync.
    lr_factor : float
        Multiplies the scheduled learning rate (``ReduceLROnPlateau`` lowers it).
    has_validation, classify : bool
    parallel : OneProcess or xpnet.distributed.DataParallel
        Which rows of each batch this process trains on; ``parallel.is_root``
        is False on the ranks of a data-parallel run that must not write.
    """

    def __init__(self, model: MLP, data: tuple, val: tuple | None, optimizer: Optimizer, opt_state: dict, *,
                 epochs: int, batch_size: int | None, shuffle: bool, dropout: float, rng: Any,
                 lr: Callable[[int], float] | None, sync_every: int, callbacks: list, settings: dict,
                 parallel: Any = None) -> None:
        self.model, self.backend = model, model.backend
        self.params = [a for pair in model.params for a in pair]
        self.data, self.val = data, val
        self.optimizer, self.opt_state = optimizer, opt_state
        self.epochs, self.epoch, self.batch_size = epochs, 0, batch_size
        self.shuffle, self.dropout, self.rng = shuffle, dropout, rng
        self.schedule, self.lr_factor, self.sync_every = lr, 1.0, sync_every
        self.settings = settings
        self.parallel = OneProcess() if parallel is None else parallel
        self.history = History()
        self.stop_training = False
        self.has_validation, self.classify = val is not None, model.output.name in ("sigmoid", "softmax")
        self.callbacks = CallbackList(callbacks)
        self.log: Callable[[str], None] = lambda message: None  # a progress callback prints there
        per_row = model.sizes[-1] if model.output.name == "sigmoid" else 1
        n_val = None if val is None else val[0].shape[0] * per_row
        self.pending = DeviceMetrics(self.classify, data[0].shape[0] * per_row, n_val, self.parallel.reduce_metrics)

    # -- the learning rate ------------------------------------------------------------
    @property
    def lr(self) -> float:
        """The learning rate of the current (or last) epoch."""
        return self.opt_state.get("lr", self.optimizer.hyperparams.get("lr", _NAN))

    def start_epoch(self) -> None:
        """Set the learning rate of epoch ``self.epoch`` (a host float: no device work)."""
        if self.schedule is not None or self.lr_factor != 1.0:
            base = self.optimizer.hyperparams["lr"] if self.schedule is None else check_rate(self.schedule, self.epoch)
            self.opt_state["lr"] = base * self.lr_factor

    # -- host syncs -----------------------------------------------------------------------
    def sync(self) -> None:
        """Read the metrics of every epoch since the last sync (one transfer) and tell the callbacks."""
        for epoch, logs in self.pending.read(self.epoch):
            self.callbacks.call("on_epoch_end", self, epoch, logs)
        self.callbacks.call("on_sync", self)

    def record_pending(self) -> None:
        """Put the completed epochs' metrics into the history without the callbacks (on an interrupt)."""
        for _, logs in self.pending.read(self.epoch):
            self.history.append(logs)

    # -- checkpoints ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """What a checkpoint keeps besides the parameters and optimizer state."""
        return {**self.settings, "epoch": self.epoch, "rng": self.rng.bit_generator.state,
                "history": self.history.as_dict(), "lr_factor": self.lr_factor,
                "callbacks": self.callbacks.states()}

    def load_state_dict(self, state: dict, params: list, opt_state: dict, where: str) -> None:
        """Continue from a checkpoint's state (already checked against this run by the caller)."""
        be, dtype = self.backend, self.model.dtype
        self.params = [be.asarray(a, dtype) for a in params]
        self.opt_state = {k: [be.asarray(a, dtype) for a in v] if isinstance(v, list) else v
                          for k, v in opt_state.items()}
        self.model._params = pairs_of(self.params)
        try:
            self.rng.bit_generator.state = state["rng"]
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise InvalidFileError(f"{where}: bad random-generator state ({exc})") from None
        self.history = History.from_dict(state.get("history") or {})
        self.epoch, self.lr_factor = int(state.get("epoch", 0)), float(state.get("lr_factor", 1.0))
        self.stop_training = self.history.stopped_early
        self.callbacks.load_states(state.get("callbacks") or {}, where)


class DeviceMetrics:
    """Per-epoch metrics kept on the device until the next host sync, with each epoch's learning rate."""

    def __init__(self, classify: bool, n: int, n_val: int | None,
                 reduce: Callable[[Any], Any] | None = None) -> None:
        self.names = ["loss", "accuracy"] if classify else ["loss"]
        if n_val is not None:
            self.names += ["val_" + name for name in self.names]
        # what each column is divided by on the host: counts of correct predictions become accuracies
        scale = {"loss": 1, "accuracy": n, "val_loss": 1, "val_accuracy": n_val}
        self.scale = [scale[name] for name in self.names]
        self.rows: list[list] = []  # one list of 0-D device arrays per epoch
        self.lrs: list[float] = []
        self.reduce = reduce  # data-parallel: the sum of every rank's host metrics (one allreduce)
        self.settle: Callable[[], None] = lambda: None  # a training plan's hook: finish the metrics before a read

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, metrics: list, lr: float) -> None:
        self.rows.append(metrics)
        self.lrs.append(lr)

    def read(self, done: int) -> list[tuple[int, dict]]:
        """``[(epoch, logs), ...]`` for the pending epochs, which end at epoch ``done - 1``: one transfer."""
        if not self.rows:
            return []
        self.settle()
        flat = [m for row in self.rows for m in row]
        xp = array_namespace(flat[0])
        stacked = to_numpy(xp.stack(flat)).reshape(len(self.rows), -1)  # 0-D arrays of the model's dtype
        if self.reduce is not None:
            stacked = self.reduce(stacked)
        stacked = stacked / stacked.dtype.type(self.scale)  # float division on the host: exact counts
        first, lrs = done - len(self.rows), self.lrs
        self.rows, self.lrs = [], []
        return [(first + i, {**dict(zip(self.names, row)), "lr": lr})
                for i, (row, lr) in enumerate(zip(stacked.tolist(), lrs))]


def fit(run: Run) -> None:
    """Run epochs until ``run.epochs`` or a stop; callbacks are told everything on the way."""
    callbacks = run.callbacks
    callbacks.call("on_train_begin", run)
    # quiet_overflow: divergence is checked at each sync instead of per operation
    with run.backend.quiet_overflow(), run.backend.keep_host_memory(), HoldInterrupts() as hold:
        try:
            run_epoch = _epoch_runner(run)
            while run.epoch < run.epochs and not run.stop_training:
                epoch = run.epoch
                run.start_epoch()
                metrics = run_epoch(run, hold)
                if run.val is not None:
                    metrics += _evaluate(run.params, run.val[0], run.val[1], run.model, run.parallel)
                run.pending.add(metrics, run.lr)
                run.epoch = epoch + 1
                hold.leave()  # the epoch's last step and its metrics are in: a held Ctrl-C lands now
                if run.epoch == run.epochs or len(run.pending) >= run.sync_every or callbacks.sync_at(epoch, run):
                    run.sync()
        except BaseException as exc:
            callbacks.call("on_exception", run, exc)
            raise
    callbacks.call("on_train_end", run)


def _epoch_runner(run: Run) -> Callable[[Run, "HoldInterrupts"], list]:
    """The backend's training plan for the run if it has one (:meth:`Backend.training_plan`: the same
    arithmetic, faster), else :func:`_run_epoch`. A ``train_step`` replaced from outside (to record
    or interrupt steps) is always the one that runs."""
    plan = run.backend.training_plan(run) if train_step is _BUILTIN_STEP else None
    if plan is None:
        return _run_epoch
    run.pending.settle = plan.settle  # it may compute some metrics late: before they are read
    return plan.run_epoch


def _run_epoch(run: Run, hold: "HoldInterrupts") -> list:
    """One pass over the data; updates ``run.params`` step by step; returns the epoch's metrics (on the device).

    The shuffle order and dropout masks are drawn on the host and moved once.
    ``hold`` keeps a Ctrl-C from landing inside a step; after the last step it
    stays held until the loop has recorded the epoch.
    """
    be, xp, net, part = run.backend, run.backend.xp, run.model, run.parallel
    X, T, W = run.data
    n = X.shape[0]
    bs = n if run.batch_size is None else min(run.batch_size, n)
    order = be.asarray(run.rng.permutation(n)) if run.shuffle and bs < n else None
    masks_epoch, scale = _epoch_masks(run, n)
    losses, corrects, totals = [], [], []  # per-batch 0-D device arrays, reduced once per epoch
    for start in range(0, n, bs):
        stop = min(start + bs, n)
        lo, hi = part.span(start, stop)  # this process's rows of the batch: all of them on one process
        Xb, Tb, Wb = _batch(X, T, W, order, lo, hi, (lo, hi) == (0, n) and order is None, xp)
        masks = None if masks_epoch is None else [xp.astype(m[lo:hi, :], net.dtype) * scale for m in masks_epoch]
        Wb, total = part.weights(Wb, W, order, start, stop, xp)
        if total is not None:
            totals.append(total)
        hold.busy = True
        run.params, run.opt_state, loss, A = train_step(run.params, run.opt_state, Xb, Tb, net, run.optimizer,
                                                        masks, inplace=True, weights=Wb, reduce=part.reduce_grads)
        if stop < n:
            hold.leave()
        losses.append(loss)
        correct = _n_correct(A, Tb, net.output.name, xp)
        if correct is not None:
            corrects.append(correct)
    metrics = [_epoch_mean(losses, bs, n - (len(losses) - 1) * bs, n, xp) if W is None
               else _weighted_mean(losses, totals, xp)]
    if corrects:
        metrics.append(corrects[0] if len(corrects) == 1 else xp.sum(xp.stack(corrects)))
    return metrics


def _epoch_masks(run: Run, n: int) -> tuple[list | None, float]:
    """This epoch's dropout masks (boolean, one per hidden layer, on the device) and the inverted-dropout
    scale ``1 / keep`` each batch's slice is multiplied by."""
    sizes, keep = run.model.sizes, 1.0 - run.dropout
    if run.dropout <= 0 or len(sizes) <= 2:
        return None, 1.0
    return [run.backend.asarray(run.rng.random((n, h)) < keep) for h in sizes[1:-1]], 1.0 / keep


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


def _batch(X: Any, T: Any, W: Any, order: Any, start: int, stop: int, whole: bool, xp: Any) -> tuple:
    """Rows ``start:stop`` of the epoch (in shuffled order when ``order`` is given) of X, T and the weights."""
    if order is not None:
        idx = order[start:stop]
        return (xp.take(X, idx, axis=0), xp.take(T, idx, axis=0),
                None if W is None else xp.take(W, idx, axis=0))
    if whole:
        return X, T, W
    return X[start:stop, :], T[start:stop, :], None if W is None else W[start:stop, :]


def _weighted_mean(batch_means: list, totals: list, xp: Any) -> Any:
    """The epoch's weighted mean loss from per-batch weighted means and their weight totals."""
    if len(batch_means) == 1:
        return batch_means[0]
    return xp.sum(xp.stack([m * t for m, t in zip(batch_means, totals)])) / xp.sum(xp.stack(totals))


def _epoch_mean(batch_means: list, rows: int, last_rows: int, n: int, xp: Any) -> Any:
    """Mean over the epoch's rows of per-batch means (only the last batch can be short), O(1) device ops."""
    if len(batch_means) == 1:
        return batch_means[0]
    return (xp.sum(xp.stack(batch_means[:-1])) * rows + batch_means[-1] * last_rows) / n


def _evaluate(params: list, X: Any, T: Any, model: MLP, part: "OneProcess") -> list:
    """Validation loss (and the count of correct predictions for classifiers) as 0-D device arrays
    (this process's share of them in a data-parallel run)."""
    n = X.shape[0]
    lo, hi = part.span(0, n)
    if (lo, hi) != (0, n):
        X, T = X[lo:hi, :], T[lo:hi, :]
    w, _ = part.weights(None, None, None, 0, n, array_namespace(X))
    top = forward(pairs_of(params), X, model.activations)[-1]
    metrics = [model.loss_fn.value(top.Z, top.A, T) if w is None else model.loss_fn.value(top.Z, top.A, T, w)]
    correct = _n_correct(top.A, T, model.output.name, array_namespace(X))
    if correct is not None:
        metrics.append(correct)
    return metrics


class OneProcess:
    """The rows of one-process training: every row of each batch is this process's, nothing is summed.

    :class:`xpnet.distributed.DataParallel` has the same members for a rank
    of a data-parallel run.
    """

    rank, size, is_root = 0, 1, True
    reduce_grads = reduce_metrics = None  # nothing to sum across processes

    def span(self, start: int, stop: int) -> tuple[int, int]:
        """This process's positions ``[lo, hi)`` of the batch at positions ``[start, stop)`` of the epoch."""
        return start, stop

    def weights(self, Wb: Any, W: Any, order: Any, start: int, stop: int, xp: Any) -> tuple[Any, Any]:
        """``(row weights for train_step, the batch's weight total or None)``: ``Wb`` normalized to sum to 1."""
        if Wb is None:
            return None, None
        total = xp.sum(Wb)
        return Wb / xp.maximum(total, TINY), total  # weights all 0: a zero loss and a zero gradient

    def guard(self) -> Any:
        """A context around the loop (data-parallel runs end every rank when one fails)."""
        return contextlib.nullcontext()


class HoldInterrupts:
    """Hold a Ctrl-C (SIGINT) or SIGTERM that arrives while ``busy`` (inside a training step) until
    :meth:`leave`, right after the step, then deliver it as a ``KeyboardInterrupt``.

    Installed for the whole of :func:`fit` in the main thread (the only one
    Python delivers signals to); it costs two attribute writes per step. A
    signal outside a step goes straight to the previous handler (SIGTERM becomes
    a ``KeyboardInterrupt`` too, so a run stopped by a job scheduler keeps its
    completed steps and its checkpoint). (``io``'s deferral around file writes
    does the same job for writes; per step it would cost about 3 µs against 0.03.)
    """

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self) -> None:
        self.busy = self.pending = False
        self._previous: dict[int, Any] = {}
        self._held: tuple | None = None

    def __enter__(self) -> "HoldInterrupts":
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                signum = getattr(signal, name, None)
                previous = None if signum is None else signal.getsignal(signum)
                if signum == signal.SIGINT and not callable(previous):
                    continue  # SIGINT ignored or handled outside Python: leave it alone
                if signum is not None and (callable(previous) or previous == signal.SIG_DFL):
                    self._previous[signum] = previous
                    signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.busy:
            self.pending, self._held = True, (signum, frame)
        else:
            self._deliver(signum, frame)

    def _deliver(self, signum: int, frame: Any) -> None:
        previous = self._previous.get(signum)
        if callable(previous):
            previous(signum, frame)  # SIGINT: normally default_int_handler, which raises KeyboardInterrupt
        else:
            raise KeyboardInterrupt(f"training stopped by {signal.Signals(signum).name}")

    def leave(self) -> None:
        """The step is complete: deliver a held signal (normally: raise KeyboardInterrupt)."""
        self.busy = False
        if self.pending:
            self.pending = False
            self._deliver(*self._held)
