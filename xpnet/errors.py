"""The exceptions xpnet raises on purpose.

Every error xpnet raises for bad input or an unusable environment is one of
these, so callers can catch them precisely. Each subclasses the built-in
exception a Python user would expect (``ValueError``, ``TypeError``,
``RuntimeError``), so ``except ValueError`` keeps working too.
"""

__all__ = [
    "XpnetError",
    "InvalidArgumentError",
    "InvalidTypeError",
    "BackendUnavailableError",
    "BackendMismatchError",
    "TrainingDivergedError",
]


class XpnetError(Exception):
    """Base class of every exception raised on purpose by xpnet."""


class InvalidArgumentError(XpnetError, ValueError):
    """An argument has the wrong value or shape (names it, says what was expected)."""


class InvalidTypeError(XpnetError, TypeError):
    """An argument has the wrong type (names it, says what was expected)."""


class BackendUnavailableError(XpnetError, RuntimeError):
    """A requested array backend or device is not usable here; says what to install."""


class BackendMismatchError(XpnetError, ValueError):
    """Arrays of two different backends (or devices) were mixed in one call."""


class TrainingDivergedError(XpnetError, FloatingPointError):
    """The training loss (or the weights) became NaN or infinite; the model keeps its last finite weights."""
