"""The ``xpnet`` argument parser: every command, its options and their real defaults."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from .. import __version__, datasets
from ..activations import ACTIVATIONS
from ..backend import BACKENDS
from ..init import INITIALIZERS
from ..optim import OPTIMIZERS
from . import options
from .data import AUTO, MAX_AUTO_CLASSES

__all__ = ["DEFAULTS", "GENERIC", "FILE_DEFAULTS", "build_parser", "defaults_for"]

#: Per-data-set defaults of ``xpnet train``: hidden widths, hidden activation, init, optimizer, lr, epochs,
#: batch size. ``flower`` and ``xor`` are the classic programs; GENERIC the other built-in data sets;
#: FILE_DEFAULTS ``--data FILE``.
DEFAULTS = {
    "flower": dict(
        hidden_sizes=[4],
        hidden="tanh",
        init="normal",
        optimizer="sgd",
        lr=1.2,
        epochs=10_000,
        batch_size=None,
    ),
    "xor": dict(
        hidden_sizes=[3],
        hidden="sigmoid",
        init="xavier",
        optimizer="sgd",
        lr=5.0,
        epochs=5_000,
        batch_size=None,
    ),
}
GENERIC = dict(
    hidden_sizes=[32, 32], hidden="relu", init="he", optimizer="adam", lr=0.01, epochs=200, batch_size=None
)
FILE_DEFAULTS = dict(
    hidden_sizes=[64], hidden="relu", init="he", optimizer="adam", lr=1e-3, epochs=50, batch_size=64
)


def defaults_for(args: argparse.Namespace) -> dict:
    """The defaults of this run's data (before the options given on the command line)."""
    return dict(FILE_DEFAULTS if args.data is not None else DEFAULTS.get(args.dataset, GENERIC))


def _defaults_table() -> str:
    rows = [
        ("flower", DEFAULTS["flower"]),
        ("xor", DEFAULTS["xor"]),
        ("other --dataset", GENERIC),
        ("--data FILE", FILE_DEFAULTS),
    ]
    line = "  {:<16}{:<14}{:<9}{:<8}{:<11}{:<7}{:<8}{}".format
    out = [line("data", "hidden sizes", "hidden", "init", "optimizer", "lr", "epochs", "batch size")]
    for name, d in rows:
        out.append(
            line(
                name,
                ",".join(map(str, d["hidden_sizes"])),
                d["hidden"],
                d["init"],
                d["optimizer"],
                f"{d['lr']:g}",
                d["epochs"],
                d["batch_size"] or "full",
            )
        )
    return "\n".join(out)


TRAIN_EPILOG = (
    f"""\
defaults of the options marked (*), per data set:
{_defaults_table()}

--task auto: text labels are classes; whole-number labels are classes when
there are at most {MAX_AUTO_CLASSES} distinct values; anything else is a regression (an
identity output trained on squared error). 2 classes train one sigmoid unit,
more a softmax layer. Labels other than 0 .. k-1 (text, or numbers such as
3, 7, 9) are kept in the saved model, which predicts them.

--lr-schedule (LR is --lr, EPOCHS is --epochs):
"""
    + "\n".join(
        textwrap.fill(what, 79, initial_indent=f"  {form:<30}", subsequent_indent=" " * 32)
        for form, what in options.SCHEDULE_FORMS
    )
    + """

--seed seeds everything random: the generated data, the test and validation
split, the initial weights, the shuffles and the dropout masks."""
)


def _add_file_options(p: argparse.ArgumentParser, label_default: object, label_help: str) -> None:
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="FILE",
        help="a .csv/.tsv/.txt file (or .gz of one) with one sample per row, or an .npz file "
        "with arrays X and y",
    )
    p.add_argument(
        "--label-column", type=options.column, default=label_default, metavar="COL", help=label_help
    )
    p.add_argument(
        "--index-column",
        type=options.column,
        default=None,
        metavar="COL",
        help="a CSV column to ignore (an id or row index, as pandas' to_csv writes first): "
        "a position or a header name (default: none)",
    )
    p.add_argument(
        "--delimiter",
        type=options.delimiter,
        default=AUTO,
        metavar="CHAR",
        help="CSV cell separator: one character, tab or whitespace (default: , or tab for .tsv)",
    )
    p.add_argument(
        "--header",
        type=options.header,
        default="auto",
        metavar="yes|no|auto",
        help="whether the first CSV row names the columns (default: auto, a header when none of "
        "its cells is a number; a header of numbers, as pandas writes, needs yes)",
    )


def _add_common(p: argparse.ArgumentParser, default_dataset: str | None) -> None:
    shown = f" (default: {default_dataset})" if default_dataset else ""
    p.add_argument(
        "--dataset", default=default_dataset, choices=datasets.ALL_NAMES, help=f"a built-in data set{shown}"
    )
    p.add_argument(
        "--samples",
        type=int,
        default=None,
        metavar="N",
        help="number of generated samples (default: the data set's own)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the data and everything random (default: 0)")
    p.add_argument(
        "--backend",
        default="numpy",
        metavar="LIBRARY[:DEVICE]",
        help=f"where to compute: {', '.join(BACKENDS)}, optionally with a device such as cupy:1, "
        "torch:cuda:1, array_api_strict:device1 (default: numpy; `xpnet info` lists them)",
    )


def _add_train(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser(
        "train",
        help="train a network and report how well it does",
        description="Train a network on a built-in data set or a file and report its loss and "
        "accuracy (or R^2), on the training rows and on held-out ones.",
        epilog=TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(t, "flower")
    _add_file_options(
        t,
        -1,
        "the label column of a CSV file: a position (negative counts from the end) "
        "or a header name (default: -1, the last); for .npz files the key (default: y)",
    )
    _add_task_options(t.add_argument_group("task and held-out rows"))
    _add_network_options(t.add_argument_group("the network (*: per data set, see below)"))
    _add_training_options(t.add_argument_group("training (*: per data set, see below)"))
    _add_output_options(t.add_argument_group("output"))


def _add_task_options(a: argparse._ArgumentGroup) -> None:
    a.add_argument(
        "--task",
        default="auto",
        choices=["auto", "classify", "regress"],
        help="classes or regression (default: auto, see below)",
    )
    a.add_argument(
        "--test-size",
        type=options.size,
        default=0,
        metavar="SIZE",
        help="rows held out for the final test: a fraction such as 0.2 or a count (default: 0, "
        "none); stratified by class",
    )
    a.add_argument(
        "--validation-size",
        type=options.size,
        default=0,
        metavar="SIZE",
        help="rows held out to watch while training (validation loss, early stopping, plateau): "
        "a fraction of all rows or a count (default: 0, none); stratified by class",
    )


def _add_network_options(m: argparse._ArgumentGroup) -> None:
    m.add_argument(
        "--hidden-sizes",
        type=options.int_list,
        default=None,
        metavar="N,N",
        help="hidden widths, e.g. 32,32 (*)",
    )
    m.add_argument(
        "--hidden",
        type=options.name_list,
        default=None,
        metavar="NAME[,NAME]",
        help=f"hidden activation, one for all hidden layers or one per layer: {', '.join(ACTIVATIONS)} (*)",
    )
    m.add_argument("--init", default=None, help=f"initial weights: {', '.join(INITIALIZERS)} (*)")
    m.add_argument("--dtype", default="float32", choices=["float32", "float64"], help="(default: float32)")


def _add_training_options(o: argparse._ArgumentGroup) -> None:
    o.add_argument("--optimizer", default=None, help=f"{', '.join(OPTIMIZERS)} (*)")
    o.add_argument("--lr", type=float, default=None, help="learning rate (*)")
    o.add_argument(
        "--lr-schedule",
        type=options.lr_schedule,
        default=None,
        metavar="SPEC",
        help="change the rate while training: step:30:0.1, exp:0.95, cosine, plateau, ... (see "
        "below; default: constant)",
    )
    o.add_argument("--epochs", type=int, default=None, help="passes over the training rows (*)")
    o.add_argument(
        "--batch-size",
        type=options.batch_size,
        default=None,
        metavar="N|full",
        help="rows per step, or full (*)",
    )
    o.add_argument(
        "--momentum",
        type=float,
        default=0.0,
        help="SGD momentum, as torch.optim (default: 0; 0.9 for --optimizer momentum/nesterov)",
    )
    o.add_argument(
        "--weight-decay", type=float, default=0.0, help="L2 weight decay (default: 0; AdamW: 0.01)"
    )
    o.add_argument("--dropout", type=float, default=0.0, help="dropout on hidden layers (default: 0)")
    o.add_argument(
        "--early-stopping",
        type=int,
        default=None,
        metavar="PATIENCE",
        help="stop when the validation loss (the training loss without --validation-size) has "
        "not improved for PATIENCE epochs, and keep the best weights (default: off)",
    )
    o.add_argument(
        "--class-weight",
        default=None,
        choices=["balanced"],
        help="weigh each class by n / (classes * count), scikit-learn's rule (default: off)",
    )


def _add_output_options(w: argparse._ArgumentGroup) -> None:
    w.add_argument(
        "--save", type=Path, default=None, metavar="MODEL.npz", help="write the trained model here"
    )
    w.add_argument(
        "--plot",
        type=Path,
        default=None,
        metavar="FILE.png",
        help="write the loss/accuracy curves (needs matplotlib)",
    )
    w.add_argument(
        "--boundary",
        type=Path,
        default=None,
        metavar="FILE.png",
        help="write the decision boundary, for data with 2 features (needs matplotlib)",
    )
    w.add_argument("--quiet", action="store_true", help="print only the result lines")
    w.add_argument(
        "--no-progress",
        action="store_true",
        help="no live progress bar (it is drawn only when stderr is a terminal)",
    )


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser(
        "evaluate",
        help="loss and accuracy (or R^2) of a saved model on labelled data",
        description="Loss and accuracy (classifiers) or R^2 (regression) of a saved model.",
    )
    e.add_argument("model", type=Path, help="a model file written by `xpnet train --save`")
    _add_common(e, None)
    _add_file_options(
        e,
        -1,
        "the label column of a CSV file: a position or a header name (default: -1, "
        "the last); for .npz files the key (default: y)",
    )


def _add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="write a saved model's predictions as CSV",
        description="Write a saved model's predictions (and, with --proba, its class "
        "probabilities) as CSV, one row per input row.",
    )
    p.add_argument("model", type=Path, help="a model file written by `xpnet train --save`")
    _add_common(p, None)
    _add_file_options(
        p,
        AUTO,
        "a CSV column to leave out (the labels): a position or a header name, or none "
        "(default: none when the file has exactly the model's input width, the last "
        "column when it has one more)",
    )
    p.add_argument(
        "--no-labels", action="store_true", help="the file has no label column (as --label-column none)"
    )
    p.add_argument("--out", type=Path, default=None, help="CSV file to write (default: standard output)")
    p.add_argument(
        "--proba",
        action="store_true",
        help="also write the probability of each class, in columns p_CLASS (one sigmoid unit: "
        "one column, the probability of the second class)",
    )


def _add_export(sub: argparse._SubParsersAction) -> None:
    x = sub.add_parser(
        "export",
        help="write a saved model as ONNX (needs onnx)",
        description="Write a saved model as an ONNX file computing model.forward: input X "
        "[batch, n_in], output Y [batch, n_out] (pip install onnx).",
    )
    x.add_argument("model", type=Path, help="a model file written by `xpnet train --save`")
    x.add_argument("out", type=Path, metavar="OUT.onnx", help="the ONNX file to write")
    x.add_argument(
        "--opset", type=int, default=None, help="ONNX opset, 13 up to what onnx knows (default: 17)"
    )


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in xpnet's one-line form (and the exit status 2 it already uses)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"xpnet: error: {message} (`{self.prog} --help` lists the options)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="xpnet",
        description="The xpnet command line: train, evaluate, "
        "predict, export and info. `xpnet COMMAND --help` says more.",
    )
    parser.add_argument("--version", action="version", version=f"xpnet {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command")
    _add_train(sub)
    _add_evaluate(sub)
    _add_predict(sub)
    _add_export(sub)
    sub.add_parser("info", help="show the version, installed backends and devices")
    return parser
