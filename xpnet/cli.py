"""The ``xpnet`` command line: ``xpnet train`` and ``xpnet info``.

``xpnet train`` alone trains the classic 2-4-1 tanh/sigmoid network on the
built-in planar flower data set and prints its progress and accuracy. Errors
print one line and exit with status 2 (``--traceback`` shows the full one).
"""

from __future__ import annotations

import argparse
import platform
import sys
from typing import Sequence

import numpy as np

from . import __version__, datasets
from .backend import BACKENDS, get_backend, to_numpy
from .errors import BackendUnavailableError, XpnetError
from .model import MLP
from .training import train

#: Per-data-set defaults: hidden widths, hidden activation, optimizer, lr, epochs, init.
DEFAULTS = {
    "flower": dict(hidden_sizes=[4], hidden="tanh", optimizer="sgd", lr=1.2, epochs=10_000, init="normal"),
    "xor": dict(hidden_sizes=[3], hidden="sigmoid", optimizer="sgd", lr=5.0, epochs=5_000, init="xavier"),
}
GENERIC = dict(hidden_sizes=[32, 32], hidden="relu", optimizer="adam", lr=0.01, epochs=200, init="he")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xpnet", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"xpnet {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command")

    t = sub.add_parser("train", help="train a network on a built-in data set and report accuracy")
    t.add_argument("--dataset", default="flower", choices=datasets.NAMES, help="built-in data set (default: flower)")
    t.add_argument("--samples", type=int, default=None, help="number of generated samples")
    t.add_argument("--hidden-sizes", type=_int_list, default=None, help="hidden widths, e.g. 32,32")
    t.add_argument("--hidden", default=None, help="hidden activation (relu, tanh, sigmoid, leaky_relu, identity)")
    t.add_argument("--optimizer", default=None, help="sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw")
    t.add_argument("--lr", type=float, default=None, help="learning rate")
    t.add_argument("--epochs", type=int, default=None)
    t.add_argument("--batch-size", type=int, default=None, help="rows per step (default: full batch)")
    t.add_argument("--backend", default="numpy", help=f"one of {', '.join(BACKENDS)} (default: numpy)")
    t.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--quiet", action="store_true", help="print only the result line")

    sub.add_parser("info", help="show the version, installed backends and devices")
    return parser


def _int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 32,32; got {text!r}") from None


def cmd_train(args: argparse.Namespace) -> int:
    cfg = {**(DEFAULTS.get(args.dataset, GENERIC))}
    for key in ("hidden_sizes", "hidden", "optimizer", "lr", "epochs"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    kwargs = {} if args.samples is None else {"n_samples": args.samples}
    X, y = datasets.load(args.dataset, seed=args.seed, **kwargs)
    X, _, _ = datasets.standardize(X) if args.dataset != "xor" else (X, None, None)
    n_classes = int(y.max()) + 1
    output, n_out = ("sigmoid", 1) if n_classes == 2 else ("softmax", n_classes)
    sizes = [X.shape[1], *cfg["hidden_sizes"], n_out]
    model = MLP(sizes, hidden=cfg["hidden"], output=output, init=cfg["init"], seed=args.seed,
                dtype=args.dtype, backend=args.backend)
    if not args.quiet:
        print(f"training {model} on {args.dataset} ({X.shape[0]} samples), "
              f"{cfg['optimizer']} lr={cfg['lr']} for {cfg['epochs']} epochs")
    history = train(model, X, y, epochs=cfg["epochs"], batch_size=args.batch_size,
                    optimizer=cfg["optimizer"], lr=cfg["lr"], seed=args.seed, verbose=not args.quiet)
    accuracy = float(np.mean(to_numpy(model.predict(X)) == y))
    print(f"{args.dataset}: final loss {history.loss[-1]:.4f}, training accuracy {accuracy:.1%} "
          f"({history.epochs} epochs in {history.seconds:.2f} s on {model.backend.name})")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    print(f"xpnet {__version__} (Python {platform.python_version()}, NumPy {np.__version__})")
    for name in BACKENDS:
        try:
            be = get_backend(name)
        except BackendUnavailableError as exc:
            print(f"  {name:<17} unavailable: {exc}")
            continue
        print(f"  {name:<17} available{_device_line(be)}")
    return 0


def _device_line(be) -> str:
    if be.name == "cupy":
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        return f" ({cupy.cuda.runtime.getDeviceCount()} GPU(s), {props['name'].decode()})"
    if be.name == "torch":
        import torch

        return f" (torch {torch.__version__}, CUDA {'yes' if torch.cuda.is_available() else 'no'})"
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xpnet`` console script and ``python -m xpnet``."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handler = {"train": cmd_train, "info": cmd_info}[args.command]
    try:
        return handler(args)
    except (XpnetError, ValueError, TypeError) as exc:
        if args.traceback:
            raise
        print(f"xpnet: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xpnet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
