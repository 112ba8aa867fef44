"""The ``xpnet`` command line: ``train``, ``evaluate``, ``predict``, ``export`` and ``info``.

``xpnet train`` alone trains the classic 2-4-1 tanh/sigmoid network on the
built-in planar flower data set and prints its progress and accuracy. Errors
print one line, ``xpnet: error: ...``, and exit with status 2 (``--traceback``
shows the full one).

One module per concern: :mod:`.parser` (the options and their defaults),
:mod:`.options` (their values), :mod:`.data` (data, task, split), and the
commands :mod:`.train`, :mod:`.predict`, :mod:`.commands` (evaluate, export, info).
"""

from __future__ import annotations

import sys
from typing import Sequence

from ..errors import XpnetError
from . import commands, predict, train
from .parser import DEFAULTS, FILE_DEFAULTS, GENERIC, build_parser

__all__ = ["main", "DEFAULTS", "GENERIC", "FILE_DEFAULTS"]

_COMMANDS = {
    "train": train.run,
    "evaluate": commands.evaluate,
    "predict": predict.run,
    "export": commands.export,
    "info": commands.info,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xpnet`` console script and ``python -m xpnet``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return _COMMANDS[args.command](args)
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
