"""The ``xpnet`` command line: ``train``, ``evaluate``, ``predict`` and ``info``.

``xpnet train`` alone trains the classic 2-4-1 tanh/sigmoid network on the
built-in planar flower data set and prints its progress and accuracy. Errors
print one line and exit with status 2 (``--traceback`` shows the full one).
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from . import __version__, datasets, distributed
from .backend import BACKENDS, inventory, to_numpy
from .errors import XpnetError
from .io import load, save
from .model import MLP
from .training import train
from .validation import check_output_path

#: Per-data-set defaults: hidden widths, hidden activation, optimizer, lr, epochs, init, batch size.
DEFAULTS = {
    "flower": dict(hidden_sizes=[4], hidden="tanh", optimizer="sgd", lr=1.2, epochs=10_000, init="normal",
                   batch_size=None),
    "xor": dict(hidden_sizes=[3], hidden="sigmoid", optimizer="sgd", lr=5.0, epochs=5_000, init="xavier",
                batch_size=None),
}
GENERIC = dict(hidden_sizes=[32, 32], hidden="relu", optimizer="adam", lr=0.01, epochs=200, init="he",
               batch_size=None)
FILE_DEFAULTS = dict(hidden_sizes=[64], hidden="relu", optimizer="adam", lr=1e-3, epochs=50, init="he",
                     batch_size=64)


def _add_data_options(p: argparse.ArgumentParser, default: str | None) -> None:
    p.add_argument("--dataset", default=default, choices=datasets.ALL_NAMES,
                   help=f"built-in data set{f' (default: {default})' if default else ''}")
    p.add_argument("--data", type=Path, default=None,
                   help="a .csv or .npz file with the labels in a column (or under key 'y')")
    p.add_argument("--label-column", type=_column, default=-1, metavar="COL",
                   help="label column of a CSV file: a position or a header name (default: -1, the last)")
    p.add_argument("--samples", type=int, default=None, help="number of generated samples")
    p.add_argument("--seed", type=int, default=0, help="seed of the data, initial weights and shuffles")
    p.add_argument("--backend", default="numpy", metavar="LIBRARY[:DEVICE]",
                   help=f"where to compute: {', '.join(BACKENDS)}, optionally with a device such as cupy:1, "
                        "torch:cuda:1, array_api_strict:device1 (default: numpy; `xpnet info` lists them)")


def _column(text: str) -> int | str:
    """``--label-column``: a position (negative counts from the end) or a CSV header name."""
    try:
        return int(text)
    except ValueError:
        return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xpnet", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"xpnet {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command")

    t = sub.add_parser("train", help="train a network and report its accuracy")
    _add_data_options(t, "flower")
    t.add_argument("--hidden-sizes", type=_int_list, default=None, help="hidden widths, e.g. 32,32")
    t.add_argument("--hidden", default=None, help="hidden activation (relu, tanh, sigmoid, leaky_relu, identity)")
    t.add_argument("--optimizer", default=None, help="sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw")
    t.add_argument("--lr", type=float, default=None, help="learning rate")
    t.add_argument("--epochs", type=int, default=None)
    t.add_argument("--batch-size", type=int, default=None, help="rows per step (default: full batch)")
    t.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    t.add_argument("--save", type=Path, default=None, metavar="MODEL.npz", help="write the trained model here")
    t.add_argument("--plot", type=Path, default=None, metavar="FILE.png",
                   help="write loss/accuracy curves (needs matplotlib)")
    t.add_argument("--boundary", type=Path, default=None, metavar="FILE.png",
                   help="write the decision boundary, for 2-D data (needs matplotlib)")
    t.add_argument("--quiet", action="store_true", help="print only the result line")
    t.add_argument("--no-progress", action="store_true",
                   help="no live progress bar (it is drawn only when stderr is a terminal)")

    e = sub.add_parser("evaluate", help="loss and accuracy of a saved model on a data set")
    e.add_argument("model", type=Path, help="a model file written by `xpnet train --save`")
    _add_data_options(e, None)

    p = sub.add_parser("predict", help="write a saved model's predictions as CSV")
    p.add_argument("model", type=Path, help="a model file written by `xpnet train --save`")
    _add_data_options(p, None)
    p.add_argument("--out", type=Path, default=None, help="CSV file to write (default: standard output)")
    p.add_argument("--proba", action="store_true", help="also write the output probabilities")

    sub.add_parser("info", help="show the version, installed backends and devices")
    return parser


def _int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 32,32; got {text!r}") from None


def _load_data(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, str]:
    """``(X, y, name)`` from ``--data FILE`` or ``--dataset NAME``."""
    if args.data is not None:
        suffix = args.data.suffix.lower()
        if suffix == ".npz":
            X, y = datasets.load_npz(args.data)
        elif suffix in (".csv", ".txt", ".tsv", ".gz"):
            delimiter = "\t" if args.data.name.lower().endswith((".tsv", ".tsv.gz")) else ","
            X, y = datasets.load_csv(args.data, label_column=args.label_column, delimiter=delimiter)
        else:
            raise XpnetError(f"--data {args.data}: expected a .csv or .npz file")
        return X, y, args.data.name
    if args.dataset is None:
        raise XpnetError("no data: pass --dataset NAME or --data FILE")
    kwargs = {} if args.samples is None else {"n_samples": args.samples}
    if args.dataset != "xor":
        kwargs["seed"] = args.seed
    X, y = datasets.load(args.dataset, **kwargs)
    return X, y, args.dataset


def _check_outputs(args: argparse.Namespace, *options: str) -> None:
    """Every output path is checked before any work: a long run is never lost to a bad --save."""
    for option in options:
        if getattr(args, option, None) is not None:
            check_output_path(f"--{option}", getattr(args, option))


def cmd_train(args: argparse.Namespace) -> int:
    comm = distributed.world()  # `mpiexec -n N xpnet train ...`: data-parallel, rank 0 prints and writes
    with distributed.cli_run(comm, show_traceback=args.traceback):
        return _train(args, comm)


def _train(args: argparse.Namespace, comm: object) -> int:
    _check_outputs(args, "save", "plot", "boundary")
    X, y, name = _load_data(args)
    cfg = dict(FILE_DEFAULTS if args.data is not None else DEFAULTS.get(args.dataset, GENERIC))
    for key in ("hidden_sizes", "hidden", "optimizer", "lr", "epochs", "batch_size"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    n_classes = int(y.max()) + 1
    output, n_out = ("sigmoid", 1) if n_classes <= 2 else ("softmax", n_classes)
    model = MLP([X.shape[1], *cfg["hidden_sizes"], n_out], hidden=cfg["hidden"], output=output,
                init=cfg["init"], seed=args.seed, dtype=args.dtype, backend=args.backend)
    if not args.quiet:
        print(f"training {model} on {name} ({X.shape[0]} samples), "
              f"{cfg['optimizer']} lr={cfg['lr']} for {cfg['epochs']} epochs")
    history = train(model, X, y, epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                    optimizer=cfg["optimizer"], lr=cfg["lr"], seed=args.seed, verbose=not args.quiet,
                    progress=False if args.no_progress else None,
                    backend=None if comm is None else args.backend, comm=comm)
    accuracy = float(np.mean(to_numpy(model.predict(X)) == y))
    print(f"{name}: final loss {history.loss[-1]:.4f}, training accuracy {accuracy:.1%} "
          f"({history.epochs} epochs in {history.seconds:.2f} s on {model.backend.spec})")
    if comm is not None and comm.Get_rank() != 0:
        return 0
    if args.save is not None:
        save(model, args.save)
        print(f"saved the model to {args.save}")
    if args.plot is not None or args.boundary is not None:
        from . import plot

        if args.plot is not None:
            plot.plot_history(history, args.plot)
            print(f"wrote {args.plot}")
        if args.boundary is not None:
            plot.plot_decision_boundary(model, X, y, args.boundary)
            print(f"wrote {args.boundary}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    model = load(args.model, backend=args.backend)
    X, y, name = _load_data(args)
    loss = model.loss(X, y)
    line = f"{name}: loss {loss:.6f}"
    if model.output.name in ("sigmoid", "softmax") and np.ndim(y) == 1:
        line += f", accuracy {float(np.mean(to_numpy(model.predict(X)) == y)):.2%}"
    print(f"{line} ({X.shape[0]} samples)")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    _check_outputs(args, "out")
    model = load(args.model, backend=args.backend)
    X, _, _ = _load_data(args)
    labels = to_numpy(model.predict(X))
    columns, header = [labels.reshape(len(X), -1)], ["prediction"] if labels.ndim == 1 else [
        f"prediction_{i}" for i in range(labels.shape[1])]
    if args.proba:
        proba = to_numpy(model.forward(X))
        columns.append(proba)
        header += [f"p_{i}" for i in range(proba.shape[1])]
    table = np.concatenate([c.astype(np.float64) for c in columns], axis=1)
    fmt = ["%d"] * columns[0].shape[1] + ["%.6g"] * (table.shape[1] - columns[0].shape[1])
    if model.output.name not in ("sigmoid", "softmax"):
        fmt = ["%.6g"] * table.shape[1]
    out = sys.stdout if args.out is None else open(args.out, "w", encoding="utf-8")
    try:
        np.savetxt(out, table, fmt=fmt, delimiter=",", header=",".join(header), comments="")
    finally:
        if args.out is not None:
            out.close()
            print(f"wrote {len(table)} predictions to {args.out}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    print(f"xpnet {__version__} (Python {platform.python_version()}, NumPy {np.__version__})")
    for name, problem, devices in inventory():
        if problem is not None:
            print(f"  {name:<17} unavailable: {problem}")
            continue
        print(f"  {name:<17} available; dtypes float32, float64; devices:")
        for device in devices:
            print(f"    {device}")
    mpi = distributed.mpi_info()
    print("  MPI: " + ("; ".join(mpi) if mpi else "mpi4py not installed (pip install 'xpnet[mpi]')"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xpnet`` console script and ``python -m xpnet``."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handler = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "info": cmd_info}[args.command]
    try:
        return handler(args)
    except BrokenPipeError:  # `xpnet predict ... | head`
        sys.stderr.close()
        return 0
    except (XpnetError, ValueError, TypeError, ImportError, OSError) as exc:
        if args.traceback:
            raise
        print(f"xpnet: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xpnet: interrupted", file=sys.stderr)
        return 130
