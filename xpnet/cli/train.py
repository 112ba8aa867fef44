"""``xpnet train``: data, task and split; the network; one ``xpnet.train`` call; the report."""

from __future__ import annotations

import argparse

import numpy as np

from .. import distributed
from ..errors import XpnetError
from ..io import save
from ..model import MLP
from ..training import train
from .data import Data, decide_task, load_data, split
from .parser import defaults_for
from .report import check_outputs, figures, require_matplotlib

__all__ = ["run"]

_CONFIGURABLE = ("hidden_sizes", "hidden", "init", "optimizer", "lr", "epochs", "batch_size")


def _settings(args: argparse.Namespace) -> dict:
    """The data set's defaults, overridden by the options given."""
    cfg = defaults_for(args)
    for key in _CONFIGURABLE:
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    if cfg["batch_size"] == "full":
        cfg["batch_size"] = None
    return cfg


def _check_before_training(args: argparse.Namespace, data: Data, kind: str) -> None:
    """What would fail only after a long run is refused now."""
    if args.boundary is not None and data.X.shape[1] != 2:
        raise XpnetError(f"--boundary draws data with 2 features; {data.name} has {data.X.shape[1]}")
    if args.class_weight is not None and kind != "classify":
        raise XpnetError(
            "--class-weight weighs classes; this is a regression (use --task classify for classes)"
        )


def run(args: argparse.Namespace) -> int:
    comm = distributed.world()  # `mpiexec -n N xpnet train ...`: data-parallel, rank 0 prints and writes
    with distributed.cli_run(comm, show_traceback=args.traceback):
        return _train(args, comm)


def _train(args: argparse.Namespace, comm: object) -> int:
    check_outputs(args, "save", "plot", "boundary")
    if args.plot is not None or args.boundary is not None:
        require_matplotlib()
    if args.label_column is None:
        raise XpnetError("train needs labels: --label-column none leaves none (pass the label column)")
    data = load_data(args, args.label_column)
    task = decide_task(args.task, data.y)
    _check_before_training(args, data, task.kind)
    (X, y), val, test = split(
        data.X, data.y, args.test_size, args.validation_size, args.seed, stratify=task.kind == "classify"
    )
    cfg = _settings(args)
    model = MLP(
        [X.shape[1], *cfg["hidden_sizes"], task.n_out],
        hidden=cfg["hidden"],
        output=task.output,
        init=cfg["init"],
        seed=args.seed,
        dtype=args.dtype,
        backend=args.backend,
        classes=task.classes,
    )
    lr, callbacks = cfg["lr"], []
    if args.lr_schedule is not None:
        lr, callbacks = args.lr_schedule.build(cfg["lr"], cfg["epochs"], X.shape[0])
    if not args.quiet:
        held = "".join(
            f", {len(part[0])} {what}"
            for part, what in ((val, "for validation"), (test, "for the test"))
            if part
        )
        schedule = "" if args.lr_schedule is None else f" ({args.lr_schedule.text})"
        print(
            f"training {model} on {data.name} ({X.shape[0]} samples{held}), {task.describe(data.y)}; "
            f"{cfg['optimizer']} lr={cfg['lr']}{schedule} for {cfg['epochs']} epochs"
        )
    history = train(
        model,
        X,
        y,
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        optimizer=cfg["optimizer"],
        lr=lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        dropout=args.dropout,
        seed=args.seed,
        validation_data=val,
        early_stopping=args.early_stopping,
        class_weight=args.class_weight,
        callbacks=callbacks,
        verbose=not args.quiet,
        progress=False if args.no_progress else None,
        backend=None if comm is None else args.backend,
        comm=comm,
    )
    _report(data.name, model, history, X, y, test)
    if comm is not None and comm.Get_rank() != 0:
        return 0
    if args.save is not None:
        save(model, args.save)
        print(f"saved the model to {args.save}")
    figures(args, model, history, X, y)
    return 0


def _report(name: str, model: MLP, history, X: np.ndarray, y: np.ndarray, test: tuple | None) -> None:
    """One line for the training rows; one more for the test rows when some were held out."""
    classifier = model.output.name in ("sigmoid", "softmax")
    metric = "accuracy" if classifier else "R^2"

    def shown(value: float) -> str:
        return f"{value:.1%}" if classifier else f"{value:.4f}"

    print(
        f"{name}: final loss {history.loss[-1]:.4f}, training {metric} {shown(model.score(X, y))} "
        f"({history.epochs} epochs in {history.seconds:.2f} s on {model.backend.spec})"
    )
    if test is not None:
        X_test, y_test = test
        print(
            f"{name}: test loss {model.loss(X_test, y_test):.4f}, "
            f"test {metric} {shown(model.score(X_test, y_test))} "
            f"({len(X_test)} held-out samples)"
        )
