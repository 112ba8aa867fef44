"""``xpnet evaluate``, ``xpnet export`` and ``xpnet info``."""

from __future__ import annotations

import argparse
import platform

import numpy as np

from .. import __version__
from .. import distributed
from ..backend import inventory
from ..errors import XpnetError
from ..export import export_onnx
from ..io import load
from .data import load_data
from ..validation import check_output_path

__all__ = ["evaluate", "export", "info"]


def evaluate(args: argparse.Namespace) -> int:
    """The loss, and the accuracy (classifiers) or R^2 (regression), on labelled data."""
    model = load(args.model, backend=args.backend)
    if args.label_column is None:
        raise XpnetError(
            "evaluate needs labels: --label-column none leaves none (use predict for unlabelled data)"
        )
    data = load_data(args, args.label_column)
    loss = model.loss(data.X, data.y)
    line = f"{data.name}: loss {loss:.6f}"
    if model.output.name in ("sigmoid", "softmax"):
        line += f", accuracy {model.score(data.X, data.y):.2%}"
    else:
        line += f", R^2 {model.score(data.X, data.y):.4f}"
    print(f"{line} ({data.X.shape[0]} samples)")
    return 0


def export(args: argparse.Namespace) -> int:
    """``xpnet export MODEL.npz OUT.onnx [--opset N]``."""
    check_output_path("OUT.onnx", args.out)
    model = load(args.model)
    export_onnx(model, args.out, opset=args.opset)
    print(
        f"wrote {args.out}: ONNX computing the model's forward pass, X [batch, {model.sizes[0]}] -> "
        f"Y [batch, {model.sizes[-1]}], {model.config()['dtype']}"
    )
    return 0


def info(args: argparse.Namespace) -> int:
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
