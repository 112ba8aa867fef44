"""``xpnet predict``: a saved model's predictions (and class probabilities) as CSV."""

from __future__ import annotations

import argparse
import csv
import sys

import numpy as np

from ..backend import to_numpy
from ..errors import XpnetError
from ..io import load
from ..model import MLP
from .data import load_data, predict_labels
from .report import check_outputs

__all__ = ["run", "columns"]


def _numbers(values: np.ndarray, dtype: str) -> list[str]:
    """Values as text that reads back to the same float32/float64 numbers."""
    return list(np.char.mod("%.9g" if dtype == "float32" else "%.17g", values))


def columns(model: MLP, X: np.ndarray, proba: bool) -> tuple[list[str], list[list[str]]]:
    """``(header, columns)``: the predictions, then (``proba``) ``p_CLASS`` per class (one sigmoid unit:
    only the probability of the second class, ``p_1`` or ``p_NAME``)."""
    classifier = model.output.name in ("sigmoid", "softmax")
    if proba and not classifier:
        raise XpnetError(
            f"--proba needs a classifier; this model is a regression ({model.output.name} output): "
            "its predictions are the values"
        )
    dtype = model.config()["dtype"]
    predicted = np.asarray(to_numpy(model.predict(X)))
    if predicted.ndim == 2 and predicted.shape[1] == 1:
        predicted = predicted[:, 0]  # one regression output
    if predicted.ndim == 1:
        header, cols = (
            ["prediction"],
            [[str(v) for v in predicted.tolist()] if classifier else _numbers(predicted, dtype)],
        )
    else:
        header = [f"prediction_{j}" for j in range(predicted.shape[1])]
        cols = [
            [str(v) for v in predicted[:, j].tolist()] if classifier else _numbers(predicted[:, j], dtype)
            for j in range(predicted.shape[1])
        ]
    if proba:
        p = np.asarray(to_numpy(model.forward(X)))
        names = model.classes.tolist() if model.classes is not None else list(range(max(p.shape[1], 2)))
        if model.output.name == "sigmoid" and p.shape[1] == 1:
            names = names[1:]  # one unit: P(second class)
        header += [f"p_{name}" for name in names]
        cols += [list(np.char.mod("%.6g", p[:, j])) for j in range(p.shape[1])]
    return header, cols


def run(args: argparse.Namespace) -> int:
    check_outputs(args, "out")
    model = load(args.model, backend=args.backend)
    data = load_data(args, predict_labels(args, model.sizes[0]))
    header, cols = columns(model, data.X, args.proba)
    out = sys.stdout if args.out is None else open(args.out, "w", encoding="utf-8", newline="")
    try:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(*cols))
    finally:
        if args.out is not None:
            out.close()
            print(f"wrote {len(data.X)} predictions to {args.out}")
    return 0
