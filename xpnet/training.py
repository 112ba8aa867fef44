"""``xpnet.train``: from data to a trained model in one call.

:func:`train` checks every argument, picks the device, moves the data there
once, builds the callbacks its keywords ask for (early stopping, checkpoints,
progress) and hands the run to the loop (:mod:`xpnet.loop`). Whatever
happens, the model ends with the run's weights: the trained ones, the best
ones after early stopping, the last completed step after Ctrl-C or SIGTERM,
the last finite ones after divergence.
"""

from __future__ import annotations

import numbers
import os
import time
from typing import Any, Callable

from .backend import Backend, get_backend, host_copies, host_rng, infer_backend, require_backend
from .callbacks import (Callback, Checkpoint, DivergenceGuard, EarlyStopping, ProgressBar, ProgressLines,
                        RecordHistory)
from .callbacks.base import as_callbacks
from .callbacks.divergence import all_finite
from .data import as_features, as_targets, as_weights
from .distributed import data_parallel
from .errors import InvalidArgumentError, InvalidTypeError, TrainingDivergedError
from .history import History
from .labels import prepare_training
from .loop import Run, fit, train_step
from .model import MLP, pairs_of
from .optim import Optimizer, get_optimizer
from .progress import Progress
from .schedules import check_rate, describe
from .validation import check_bool, check_int, check_number

__all__ = ["train", "train_step", "History", "EarlyStopping", "TrainingDivergedError"]


def train(model: MLP, X: Any, y: Any, epochs: int = 100, batch_size: int | None = None,
          optimizer: str | Optimizer = "sgd", lr: float | Callable[[int], float] | None = None,
          momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0, dropout: float = 0.0,
          shuffle: bool = True, seed: int = 0, backend: Any = None,
          validation_data: tuple[Any, Any] | None = None,
          early_stopping: int | EarlyStopping | None = None, verbose: bool | int = False,
          sync_every: int = 100, checkpoint: str | os.PathLike | None = None,
          checkpoint_every: int = 1, resume: bool = False,
          progress: bool | Progress | None = None, callbacks: list[Callback] | None = None,
          sample_weight: Any = None, class_weight: Any = None, optimizer_state: dict | None = None,
          comm: Any = None) -> History:
    """Train ``model`` in place on ``(X, y)`` and return its :class:`History`.

    Parameters
    ----------
    model : MLP
        The network; its parameters are replaced by the trained ones.
    X : array (n_samples, n_features)
        NumPy data (moved to the device once) or an array of a library on its device.
    y : array
        Labels ``(n,)``, a column ``(n, 1)`` or one-hot ``(n, n_out)``.
        ``X``, ``y``, the validation data and ``sample_weight`` may be pandas
        DataFrames/Series. Text labels (``"cat"``, ``"dog"``) on a model without
        ``classes`` teach it its classes (sorted); a model with classes takes
        only those labels (see :mod:`xpnet.labels`).
    epochs : int
        Passes over the data (in total, for a resumed run).
    batch_size : int or None
        Rows per step; ``None`` is full-batch gradient descent (one step per epoch).
    optimizer : str or Optimizer
        ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``,
        ``"adam"``, ``"adamw"``, or an :class:`xpnet.optim.Optimizer`.
    lr : float, schedule or None
        Learning rate; ``None`` uses the optimizer's ``torch.optim`` default (1e-3
        for SGD and Adam). A schedule (:mod:`xpnet.schedules`, or any callable of
        the 0-based epoch) is evaluated on the host at the start of every epoch
        and recorded in ``history.lr``.
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
    backend : str, module, Backend or None
        Where to train (``"cupy:1"``, ``"torch:cuda"``, ...). ``None``: where
        ``X``, ``y`` and the validation data live if they are arrays of a
        library, else the model's backend. Training elsewhere than the model
        trains a moved copy and writes the trained parameters back into ``model``.
    validation_data : (X_val, y_val) or None
        Evaluated after every epoch (``history.val_loss``, ``val_accuracy``).
    early_stopping : int, EarlyStopping or None
        Patience in epochs, or an :class:`EarlyStopping`; monitors
        ``val_loss`` when validation data is given, else ``loss``, and
        restores the best weights.
    verbose : bool or int
        ``True`` prints about 10 progress lines; an int ``k`` prints every ``k`` epochs.
    sync_every : int
        Epochs between host reads of the metrics when no callback needs them sooner.
    checkpoint, checkpoint_every, resume
        Write a training checkpoint to this ``.npz`` path every
        ``checkpoint_every`` epochs and at the end (a :class:`Checkpoint`);
        ``resume=True`` continues from it if the file exists.
    progress : bool, Progress or None
        A live display on stderr (a tqdm bar when tqdm is installed, else a
        line every second), drawn only when stderr is a terminal. ``None``:
        shown when ``verbose`` is set; an :class:`xpnet.progress.Progress` to
        choose the stream or force it into a log (you close that one).
    callbacks : list of Callback
        More callbacks (:mod:`xpnet.callbacks`), called after the divergence
        guard and before the ones the keywords above build.
    sample_weight : array (n_samples,) or None
        Row weights (finite, >= 0): the training loss and its gradient are the
        weighted mean over each batch's rows (``history.loss`` over the epoch's).
    class_weight : "balanced", dict or None
        Weights per class label, multiplied into ``sample_weight``:
        ``"balanced"`` gives each class ``n / (classes * count)``; a dict maps
        labels to weights (others weigh 1). Validation metrics are unweighted.
    optimizer_state : dict or None
        The optimizer state to start from (``history.optimizer_state`` of an
        earlier run with the same optimizer and model): how ``partial_fit``
        continues Adam's moments from one call to the next.
    comm : mpi4py communicator or None
        Data-parallel training (:mod:`xpnet.distributed`): every rank of the
        communicator makes this same call with the whole ``X`` (a memory-mapped
        file is fine: each rank reads only its rows); ``batch_size`` is the
        global batch, each rank computes the gradient of its share of every
        batch and one allreduce per step sums them. Parameters and history are
        the same on every rank and equal a one-process run's up to rounding.
        Rank 0 alone prints and writes checkpoints; the live ``progress``
        display is not drawn (``verbose`` lines are). A GPU spec without an
        index in ``backend`` (``"cupy"``, ``"torch:cuda"``) gives each rank
        GPU ``local rank % GPUs``. A failure on one rank during training ends
        every rank (``MPI_Abort``), naming the rank.

    Returns
    -------
    History
        Per-epoch ``loss`` (mean over the epoch's rows), ``accuracy``, ``lr``
        and, with validation data, ``val_loss``/``val_accuracy``;
        ``history.optimizer_state`` is the optimizer's state at the end.

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C or SIGTERM, after writing the parameters of the last completed
        step into ``model``; its ``history`` attribute holds every completed epoch.
    TrainingDivergedError
        A metric or the weights became NaN or infinite; the model keeps the last
        weights that were checked finite.
    """
    if not isinstance(model, MLP):
        raise InvalidTypeError(f"model must be an xpnet.MLP; got {type(model).__name__}")
    epochs, sync_every, checkpoint_every = (check_int(name, value, low=1) for name, value in
                                            (("epochs", epochs), ("sync_every", sync_every),
                                             ("checkpoint_every", checkpoint_every)))
    batch_size = check_int("batch_size", batch_size, low=1, allow_none=True)
    shuffle, resume = check_bool("shuffle", shuffle), check_bool("resume", resume)
    dropout = check_number("dropout", dropout, low=0.0, high=1.0, high_open=True)
    if resume and checkpoint is None:
        raise InvalidArgumentError("resume=True needs checkpoint=PATH (the file to continue from)")
    opt, schedule = _optimizer(optimizer, lr, momentum, nesterov, weight_decay)
    X_val, y_val = _validation_pair(validation_data)
    X, y, X_val, y_val, sample_weight, class_weight, classes = prepare_training(  # pandas; class labels
        model, X, y, X_val, y_val, sample_weight, class_weight)
    arrays = {"X": X, "y": y, "X_val": X_val, "y_val": y_val}
    parallel = data_parallel(comm)  # None on one process; checks the type, no communication
    if parallel is None:
        be = _resolve_backend(model, backend, arrays)
    elif progress not in (None, False):
        raise InvalidArgumentError("the live progress display is not drawn in a data-parallel run (comm=); "
                                   "leave progress=None and use verbose= for rank 0's progress lines")
    listeners = _callbacks(callbacks, early_stopping, verbose, progress if parallel is None else False, epochs,
                           sync_every, checkpoint, checkpoint_every, resume, root=parallel is None or parallel.is_root)
    settings = {"batch_size": batch_size, "shuffle": bool(shuffle), "dropout": float(dropout),
                "seed": seed if isinstance(seed, int) else None,
                "lr_schedule": None if schedule is None else describe(schedule)}
    run_args = dict(epochs=epochs, batch_size=batch_size, shuffle=bool(shuffle), dropout=float(dropout),
                    rng=host_rng(seed), lr=schedule, sync_every=sync_every, callbacks=listeners,
                    settings=settings, parallel=parallel)
    inputs = (X, y, X_val, y_val, sample_weight, class_weight, optimizer_state, classes)
    if parallel is None:
        with be.activate():  # CuPy: the model's GPU is current for the whole run
            run, net = _new_run(model, be, opt, schedule, inputs, run_args)
            return _drive(run, model, net)
    parallel.connect()  # the first communication
    with parallel.agreement() as agreed:  # every rank raises alike if one fails here or was called differently
        be = _resolve_backend(model, backend, arrays, rank=parallel.local_rank)
        with be.activate():
            run, net = _new_run(model, be, opt, schedule, inputs, run_args)
        agreed.expect(**_call_of(run))
    with be.activate():
        parallel.start(run)  # rank 0's initial weights, optimizer state and random generator
        return _drive(run, model, net)


def _new_run(model: MLP, be: Backend, opt: Optimizer, schedule: Any, inputs: tuple, run_args: dict
             ) -> tuple[Run, MLP]:
    """The model and the data on the device, checked, and the :class:`Run` that trains them."""
    X, y, X_val, y_val, sample_weight, class_weight, optimizer_state, classes = inputs
    parallel = run_args["parallel"]
    share = None if parallel is None else parallel.share  # a rank checks its share of the rows
    net = model.to(be)
    Xd, Td = _on_device(net, X, y, "X", "y", share)
    data = (Xd, Td, as_weights(sample_weight, class_weight, y, Xd.shape[0], net.sizes[-1], net.output.name,
                               be, net.dtype))
    val = None if X_val is None and y_val is None else _on_device(net, X_val, y_val, "X_val", "y_val", share)
    model.classes = net.classes = classes  # learned from y (text labels), or the model's own
    # the run's own copy: updates happen in place, and arrays the caller holds never change. The
    # model takes the copy at once (its old arrays are freed unless the caller holds them).
    params = [be.xp.asarray(a, copy=True) for pair in net.params for a in pair]
    net._params = pairs_of(params)
    opt_state = opt.init(params) if optimizer_state is None else _moved_state(optimizer_state, opt, params, net)
    if schedule is not None and "lr" not in opt_state:
        raise InvalidArgumentError(
            f"optimizer {opt.name!r} keeps no learning rate in its state (state['lr']), so "
            f"lr={describe(schedule)} cannot schedule it; use a built-in optimizer or add 'lr' to its state"
        )
    return Run(net, data, val, opt, opt_state, **run_args), net


def _call_of(run: Run) -> dict:
    """What every rank of a data-parallel run must have alike: the arguments that shape the run
    (the seed aside: every rank takes rank 0's generator) and the data's shapes."""
    X, T, W = run.data
    config = run.model.config()
    return {**{k: v for k, v in run.settings.items() if k != "seed"},
            **{k: config[k] for k in ("sizes", "hidden", "output", "loss", "dtype")},
            "epochs": run.epochs, "sync_every": run.sync_every, "optimizer": run.optimizer.name,
            "hyperparams": repr(sorted(run.optimizer.hyperparams.items())),
            "X": tuple(X.shape), "y": tuple(T.shape), "sample_weight": W is not None,
            "validation_data": None if run.val is None else (tuple(run.val[0].shape), tuple(run.val[1].shape)),
            "callbacks": [type(cb).__name__ for cb in run.callbacks]}


def _drive(run: Run, model: MLP, net: MLP) -> History:
    """Run the loop; whatever happens, put the run's weights into ``model``."""
    start = time.perf_counter()
    try:
        with run.parallel.guard():  # data-parallel: a failure of one rank ends every rank (none waits forever)
            fit(run)
    except KeyboardInterrupt as interrupt:
        run.record_pending()  # every completed epoch, including one whose last step just finished
        _finish(run, model, net, start, check=True)
        why = f" ({interrupt})" if str(interrupt) else ""
        stopped = KeyboardInterrupt(f"training interrupted{why}; the model holds the last completed step")
        stopped.history = run.history  # type: ignore[attr-defined]  # every completed epoch
        raise stopped from None
    except BaseException:
        _finish(run, model, net, start, check=True)
        raise
    _finish(run, model, net, start, check=False)
    return run.history


def _moved_state(state: Any, opt: Optimizer, params: list, net: MLP) -> dict:
    """An optimizer state from an earlier run, checked against this optimizer and moved to the device."""
    fresh = opt.init(params)
    if not isinstance(state, dict) or set(state) != set(fresh):
        raise InvalidArgumentError(
            f"optimizer_state does not belong to optimizer {opt.name!r} (its keys are "
            f"{sorted(state) if isinstance(state, dict) else type(state).__name__}, {opt.name!r} keeps "
            f"{sorted(fresh)}); pass the history.optimizer_state of a run with the same optimizer"
        )
    moved = {}
    for key, value in state.items():
        if isinstance(fresh[key], list):
            if not isinstance(value, list) or [tuple(a.shape) for a in value] != [tuple(a.shape) for a in params]:
                raise InvalidArgumentError(f"optimizer_state[{key!r}] does not match the model's parameter shapes")
            # updated in place: the run's own copy
            value = [net.backend.xp.asarray(net.backend.asarray(a, net.dtype), copy=True) for a in value]
        moved[key] = value
    return moved


def _finish(run: Run, model: MLP, net: MLP, start: float, check: bool) -> None:
    """Write the run's weights into ``model``; after an exception, only finite ones (the guard's copy)."""
    params = run.params
    if check and not all_finite(host_copies(params)):
        guard = next(cb for cb in run.callbacks if isinstance(cb, DivergenceGuard))
        params = [run.backend.asarray(a, net.dtype) for a in guard.snapshot]
    if net is model:
        model._params = pairs_of(params)
    else:
        model.set_params(pairs_of(params))
    run.backend.synchronize(*params)
    run.history.seconds = time.perf_counter() - start
    run.history.optimizer_state = run.opt_state


# -- arguments -----------------------------------------------------------------------------
def _optimizer(optimizer: Any, lr: Any, momentum: Any, nesterov: Any, weight_decay: Any
               ) -> tuple[Optimizer, Callable[[int], float] | None]:
    """The optimizer, and the learning-rate schedule when ``lr`` is one (the optimizer starts at its epoch-0 rate)."""
    schedule = lr if callable(lr) else None
    first = check_rate(schedule, 0) if schedule is not None else lr
    return get_optimizer(optimizer, lr=first, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay), schedule


def _validation_pair(validation_data: Any) -> tuple[Any, Any]:
    if validation_data is None:
        return None, None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise InvalidArgumentError("validation_data must be a pair (X_val, y_val)")
    return validation_data[0], validation_data[1]


def _resolve_backend(model: MLP, backend: Any, data: dict, rank: int | None = None) -> Backend:
    """Where to train: ``backend=`` if given (every array must be host data or there already), else
    where the arrays of ``data`` live, else the model's backend. Raises before any computation.
    ``rank`` (a data-parallel run: the rank on its node) picks the GPU of a spec without an index."""
    if backend is not None:
        be = get_backend(backend, rank=rank)
        require_backend(be, f"training (backend={backend!r})", **data)
        return be
    inferred = infer_backend(**data)
    return model.backend if inferred.is_numpy else inferred


def _on_device(net: MLP, X: Any, y: Any, x_name: str, y_name: str, share: Any = None) -> tuple:
    """``(X, T)`` checked and on the device: features of the model's dtype, the target matrix."""
    Xd = as_features(X, net.sizes[0], net.backend, net.dtype, name=x_name, share=share)
    return Xd, as_targets(y, Xd.shape[0], net.sizes[-1], net.output.name, net.backend, net.dtype,
                          name=y_name, x_name=x_name)


# -- callbacks from keywords -----------------------------------------------------------------
def _callbacks(callbacks: Any, early_stopping: Any, verbose: Any, progress: Any, epochs: int, sync_every: int,
               checkpoint: Any, checkpoint_every: int, resume: bool, root: bool = True) -> list:
    """The run's callbacks: [checkpoint], the divergence guard, the history, the user's, then the
    ones the keywords ask for. Checkpoint comes first so that a resumed state is in place before
    any other callback starts; it writes at each sync after every epoch-end hook has run.
    ``root=False`` (ranks other than 0 of a data-parallel run): the same callbacks, so that every
    rank syncs at the same epochs, but they neither print nor write."""
    user = as_callbacks(callbacks)
    stopper = _early_stopping(early_stopping)
    if stopper is not None and any(isinstance(cb, EarlyStopping) for cb in user):
        raise InvalidArgumentError("early stopping was asked for twice: pass early_stopping= or an "
                                   "EarlyStopping in callbacks=, not both")
    every = _print_interval(verbose, epochs)
    display = _progress_display(progress, verbose, epochs)
    lines = None if not every else ProgressLines(every) if root else ProgressLines(every, write=_silent)
    bar = None
    if display.active:
        bar = ProgressBar(display, max(1, min(sync_every, epochs // 100)), close=display is not progress)
        if lines is not None:
            lines.write = display.write  # a line that does not tear the live bar
    elif display is not progress:
        display.close()
    saver = None if checkpoint is None else Checkpoint(checkpoint, checkpoint_every, resume, write=root)
    ordered = [saver, DivergenceGuard(), RecordHistory(), *user, stopper, lines, bar]
    return [cb for cb in ordered if cb is not None]


def _silent(line: str) -> None:
    """Where the progress lines of ranks other than 0 go."""


def _early_stopping(early_stopping: Any) -> EarlyStopping | None:
    if isinstance(early_stopping, numbers.Integral) and not isinstance(early_stopping, bool):
        return EarlyStopping(patience=int(early_stopping))
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise InvalidTypeError(
            f"early_stopping must be None, a patience (int) or xpnet.EarlyStopping; got {early_stopping!r}"
        )
    return early_stopping


def _print_interval(verbose: bool | int, epochs: int) -> int:
    if verbose is True or verbose is False:
        return max(1, epochs // 10) if verbose else 0
    if isinstance(verbose, numbers.Integral) and verbose > 0:
        return int(verbose)
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
