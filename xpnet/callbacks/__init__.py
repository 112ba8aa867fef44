"""Callbacks: everything optional in a training run, each concern in one object that owns its state.

``xpnet.train(..., callbacks=[...])`` takes any :class:`Callback`; the
keywords of :func:`xpnet.train` build the matching built-in ones
(``early_stopping=`` an :class:`EarlyStopping`, ``checkpoint=`` a
:class:`Checkpoint`, ``verbose=`` :class:`ProgressLines`, ``progress=`` a
:class:`ProgressBar`), and every run has a :class:`DivergenceGuard`. See
:mod:`xpnet.callbacks.base` for the hooks and how often they are called.
"""

from .base import Callback, CallbackList, RecordHistory
from .checkpoint import Checkpoint
from .divergence import DivergenceGuard
from .early_stopping import EarlyStopping
from .plateau import ReduceLROnPlateau
from .progress import ProgressBar, ProgressLines

__all__ = ["Callback", "CallbackList", "Checkpoint", "DivergenceGuard", "EarlyStopping", "ProgressBar",
           "ProgressLines", "RecordHistory", "ReduceLROnPlateau"]
