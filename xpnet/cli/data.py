"""The command line's data: built-in data sets and files, the task (classes or regression), the split."""

from __future__ import annotations

import argparse
import csv
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import datasets
from ..errors import InvalidArgumentError, XpnetError

__all__ = ["Data", "Task", "AUTO", "MAX_AUTO_CLASSES", "load_data", "decide_task", "split", "predict_labels"]

#: ``--task auto`` takes whole-number labels for classes when there are at most this many distinct values.
MAX_AUTO_CLASSES = 20
#: The default of ``--label-column`` in ``predict``: decided from the file's width.
AUTO = object()
_CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")


@dataclass
class Data:
    X: np.ndarray
    y: np.ndarray | None  # int64 or float64 numbers, or str class names; None without labels
    name: str  # the data set or the file name, as the report shows it


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return Path(name[:-3]).suffix if name.endswith(".gz") else path.suffix.lower()


def load_data(args: argparse.Namespace, label_column: object) -> Data:
    """``--data FILE`` (its labels from ``label_column``; None: none) or ``--dataset NAME`` (seeded by
    ``--seed``)."""
    if args.data is not None:
        if args.samples is not None:
            raise XpnetError("--samples sizes a generated --dataset; --data FILE is read whole")
        return _read_file(args, label_column)
    if args.dataset is None:
        raise XpnetError("no data: pass --dataset NAME or --data FILE")
    kwargs = {"seed": args.seed} if args.samples is None else {"seed": args.seed, "n_samples": args.samples}
    X, y = datasets.load(args.dataset, **kwargs)
    return Data(X, None if label_column is None else y, args.dataset)


def _read_file(args: argparse.Namespace, label_column: object) -> Data:
    path, suffix = args.data, _suffix(args.data)
    try:
        if suffix == ".npz":
            y_key = None if label_column is None else (label_column if isinstance(label_column, str) else "y")
            X, y = datasets.load_npz(path, y_key=y_key, target="labels")
        elif suffix in _CSV_SUFFIXES:
            _refuse_pandas_header(args)
            X, y = datasets.load_csv(
                path,
                label_column=label_column,
                delimiter=_delimiter(args),
                header=args.header,
                index_column=args.index_column,
                target="labels",
            )
        else:
            raise XpnetError(f"--data {path}: expected a .csv, .tsv, .txt (or .gz of one) or .npz file")
    except (datasets.DataFormatError, InvalidArgumentError) as exc:
        raise type(exc)(_in_option_words(str(exc))) from None
    return Data(X, y, path.name)


#: The readers' argument names as the command line spells them, for their messages.
_OPTION_WORDS = (
    ("header=True", "--header yes"),
    ("header=False", "--header no"),
    ("label_column=None", "--label-column none"),
    ("label_column", "--label-column"),
    ("index_column", "--index-column"),
    ("target='values'", "--task regress"),
    ("pass target='labels'", "use text labels as they are (the command line does)"),
    ("y_key", "--label-column"),
    ("x_key", "the X array"),
)


def _in_option_words(message: str) -> str:
    for api, option in _OPTION_WORDS:
        message = message.replace(api, option)
    return message


def _delimiter(args: argparse.Namespace) -> str | None:
    if args.delimiter is not AUTO:
        return args.delimiter
    return "\t" if _suffix(args.data) == ".tsv" else ","


def _first_row(path: Path, delimiter: str | None) -> list[str]:
    """The cells of the first non-blank line of a CSV file ([] when unreadable: the reader says why)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            for line in fh:
                if line.strip():
                    cells = (
                        line.split() if delimiter is None else next(csv.reader([line], delimiter=delimiter))
                    )
                    return [c.strip() for c in cells]
    except (OSError, UnicodeDecodeError, EOFError, csv.Error):
        return []
    return []


def _refuse_pandas_header(args: argparse.Namespace) -> None:
    """``--header auto`` on a first row ``0,1,2,...`` (or ``,0,1,...``): the column names pandas writes
    for unnamed columns, or data? Neither is assumed: the user says which."""
    if args.header != "auto":
        return
    cells = _first_row(args.data, _delimiter(args))
    names = cells[1:] if cells[:1] == [""] else cells
    try:
        numbers = [float(c) for c in names]
    except ValueError:
        return
    if len(numbers) > 1 and numbers == list(range(len(numbers))):
        raise XpnetError(
            f"--data {args.data}: its first row {','.join(cells)!r} looks like the column names pandas "
            "writes "
            "for unnamed columns: pass --header yes if it is (with --index-column 0 for pandas' index), "
            "--header no if it is data"
        )


def predict_labels(args: argparse.Namespace, n_in: int) -> object:
    """The label column ``predict`` reads and drops: ``--no-labels`` or ``--label-column`` when given;
    otherwise none when a CSV file has exactly the model's ``n_in`` columns (besides an index column),
    the last column when it has one more."""
    if args.no_labels:
        return None
    if args.label_column is not AUTO:
        return args.label_column
    if args.data is None or _suffix(args.data) == ".npz":
        return None  # generated data and .npz files: X alone is read
    width = len(_first_row(args.data, _delimiter(args))) - (args.index_column is not None)
    if width == n_in:
        return None
    if width == n_in + 1:
        return -1
    if width <= 0:
        return None  # unreadable: the reader reports it
    raise XpnetError(
        f"--data {args.data} has {width} columns"
        f"{' besides the index column' if args.index_column is not None else ''}"
        f" but the model takes {n_in} features: pass --label-column COL for the column to leave out (or "
        "--index-column COL for an id column)"
    )


# -- the task ----------------------------------------------------------------------------
@dataclass
class Task:
    kind: str  # "classify" or "regress"
    output: str  # the output activation: sigmoid (2 classes), softmax, identity
    n_out: int
    classes: np.ndarray | None  # for MLP(classes=...): None when the labels are 0 .. k-1

    def describe(self, labels: np.ndarray) -> str:
        if self.kind == "regress":
            return "regression (identity output, squared error)"
        names = np.unique(labels)
        shown = ", ".join(str(c) for c in names[:10]) + (", ..." if len(names) > 10 else "")
        return f"{len(names)} classes ({shown})"


def decide_task(choice: str, y: np.ndarray) -> Task:
    """``--task``: classes for text, or (``auto``) for whole numbers with at most
    :data:`MAX_AUTO_CLASSES` distinct values; regression otherwise."""
    text = y.dtype.kind == "U"
    whole = text or y.dtype.kind in "biu" or bool(np.all(y == np.round(y)))
    if choice == "auto":
        choice = "classify" if text or (whole and len(np.unique(y)) <= MAX_AUTO_CLASSES) else "regress"
    if choice == "regress":
        if text:
            raise XpnetError(
                f"--task regress needs numeric targets; the labels are text (such as {y[0].item()!r}): "
                "use --task classify"
            )
        return Task("regress", "identity", 1, None)
    if not whole:
        bad = y[y != np.round(y)][0].item()
        raise XpnetError(
            f"--task classify needs class labels (whole numbers or text); the labels hold {bad!r} "
            f"({len(np.unique(y))} distinct values): use --task regress"
        )
    return _classes(y)


def _classes(y: np.ndarray) -> Task:
    names = np.unique(y)
    if len(names) < 2:
        raise XpnetError(
            f"the labels hold one class only ({names[0].item()!r}); a classifier needs at least 2"
        )
    indices = names.dtype.kind in "iu" and np.array_equal(names, np.arange(len(names)))
    output, n_out = ("sigmoid", 1) if len(names) == 2 else ("softmax", len(names))
    return Task("classify", output, n_out, None if indices else names)


# -- held-out rows -------------------------------------------------------------------------
def _rows(size: float | int, n: int, option: str) -> int:
    rows = size if isinstance(size, int) else int(round(size * n))
    if size and rows < 1:
        raise XpnetError(f"{option} {size} is less than one of the {n} rows; pass a larger size")
    return rows


def split(
    X: np.ndarray,
    y: np.ndarray,
    test_size: float | int,
    validation_size: float | int,
    seed: int,
    stratify: bool,
) -> tuple[tuple, tuple | None, tuple | None]:
    """``(train, validation, test)`` pairs ``(X, y)`` (None when not asked for); sizes are fractions of all
    rows or row counts; classes keep their shares in every part when ``stratify``."""
    n = X.shape[0]
    n_test, n_val = _rows(test_size, n, "--test-size"), _rows(validation_size, n, "--validation-size")
    if n_test + n_val >= n:
        raise XpnetError(
            f"--test-size and --validation-size take {n_test + n_val} of {n} rows, leaving none to train on"
        )
    test = val = None
    if n_test:
        X, X_test, y, y_test = datasets.train_test_split(X, y, test_size=n_test, seed=seed, stratify=stratify)
        test = (X_test, y_test)
    if n_val:
        X, X_val, y, y_val = datasets.train_test_split(
            X, y, test_size=n_val, seed=seed + 1, stratify=stratify
        )
        val = (X_val, y_val)
    return (X, y), val, test
