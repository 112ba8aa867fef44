"""What the commands write besides their lines: checked output paths, plots."""

from __future__ import annotations

import argparse

from ..validation import check_output_path

__all__ = ["check_outputs", "require_matplotlib", "figures"]


def check_outputs(args: argparse.Namespace, *options: str) -> None:
    """Every output path is checked before any work: a long run is never lost to a bad --save."""
    for option in options:
        if getattr(args, option, None) is not None:
            check_output_path(f"--{option}", getattr(args, option))


def require_matplotlib() -> None:
    """Fail now, not after training, when the plots asked for cannot be drawn."""
    from ..plot import _matplotlib

    _matplotlib()


def figures(args: argparse.Namespace, model, history, X, y) -> None:
    """``--plot`` (the curves) and ``--boundary`` (the decision regions, 2 features)."""
    if args.plot is None and args.boundary is None:
        return
    from .. import plot

    if args.plot is not None:
        plot.plot_history(history, args.plot)
        print(f"wrote {args.plot}")
    if args.boundary is not None:
        plot.plot_decision_boundary(model, X, y, args.boundary)
        print(f"wrote {args.boundary}")
