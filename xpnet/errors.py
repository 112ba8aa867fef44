"""The exceptions xpnet raises on purpose.

Every error xpnet raises for bad input or an unusable environment is one of
these, so callers can catch them precisely. Each subclasses the built-in
exception a Python user would expect (``ValueError``, ``TypeError``,
``RuntimeError``, ``FileNotFoundError``, ``ImportError``), so
``except ValueError`` keeps working too.
"""

__all__ = [
    "XpnetError",
    "InvalidArgumentError",
    "InvalidTypeError",
    "InvalidKindError",
    "BackendUnavailableError",
    "BackendMismatchError",
    "TrainingDivergedError",
    "InvalidFileError",
    "DataFormatError",
    "ChecksumError",
    "DataNotFoundError",
    "DownloadError",
    "MissingDependencyError",
    "RankFailedError",
]


class XpnetError(Exception):
    """Base class of every exception raised on purpose by xpnet."""


# -- arguments ------------------------------------------------------------------
class InvalidArgumentError(XpnetError, ValueError):
    """An argument has the wrong value or shape (names it, says what was expected)."""


class InvalidTypeError(XpnetError, TypeError):
    """An argument has the wrong type (names it, says what was expected)."""


class InvalidKindError(InvalidTypeError, InvalidArgumentError):
    """A near miss: a bool or a float where an int is needed, a bool where a number is, or
    anything but True/False for a flag.

    It is both an :class:`InvalidTypeError` and an :class:`InvalidArgumentError`
    (so both a ``TypeError`` and a ``ValueError``): either reading is fair, and
    xpnet reported such values both ways before, so ``except`` with either class
    keeps catching them.
    """


# -- backends -------------------------------------------------------------------
class BackendUnavailableError(XpnetError, RuntimeError):
    """A requested array backend or device is not usable here; says what to install."""


class BackendMismatchError(XpnetError, ValueError):
    """Arrays of two different backends (or devices) were mixed in one call."""


class TrainingDivergedError(XpnetError, FloatingPointError):
    """The training loss (or the weights) became NaN or infinite; the model keeps its last finite weights."""


class InvalidFileError(XpnetError, ValueError):
    """A model or checkpoint file is missing, truncated, corrupt, hostile, or not an xpnet file (names it)."""


# -- data files, downloads and optional packages -----------------------------------
class DataFormatError(XpnetError, ValueError):
    """A data file's contents are not what its format requires (names the file and the place)."""


class ChecksumError(DataFormatError):
    """A downloaded (or cached) file does not have its published checksum."""


class DataNotFoundError(XpnetError, FileNotFoundError):
    """A data file is not where it was looked for (says where and what to do)."""


class DownloadError(XpnetError, OSError):
    """No mirror could deliver a file (lists what each one answered)."""


class MissingDependencyError(XpnetError, ImportError):
    """An optional dependency is not installed; the message says what to install."""


# -- data-parallel runs ------------------------------------------------------------
class RankFailedError(XpnetError, RuntimeError):
    """Another process of a data-parallel run failed before training started; names its rank and error."""
