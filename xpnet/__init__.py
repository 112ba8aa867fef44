"""xpnet: multilayer perceptrons trained by hand-written backpropagation on any array-API backend.

The same forward, backward and update code runs on NumPy (CPU), CuPy (CUDA
GPUs), PyTorch, JAX and array-api-strict. Quick start::

    import xpnet
    from xpnet import datasets

    X, y = datasets.flower()
    model = xpnet.MLP([2, 4, 1], hidden="tanh", output="sigmoid", init="normal")
    history = xpnet.train(model, X, y, epochs=10_000, lr=1.2)
    accuracy = (xpnet.to_numpy(model.predict(X)) == y).mean()
"""

from . import activations, backend, callbacks, datasets, init, io, losses, optim, schedules
from .backend import Backend, available_backends, get_backend, to_numpy
from .errors import (
    BackendMismatchError,
    BackendUnavailableError,
    InvalidArgumentError,
    InvalidTypeError,
    XpnetError,
)
from .export import export_onnx
from .gradcheck import gradcheck
from .io import InvalidFileError, load, save
from .model import MLP
from .callbacks import Callback, EarlyStopping, ReduceLROnPlateau
from .errors import TrainingDivergedError
from .history import History
from .training import train, train_step

__version__ = "0.1.0"

__all__ = [
    "MLP",
    "train",
    "train_step",
    "gradcheck",
    "export_onnx",
    "save",
    "load",
    "InvalidFileError",
    "to_numpy",
    "get_backend",
    "available_backends",
    "Backend",
    "History",
    "EarlyStopping",
    "Callback",
    "ReduceLROnPlateau",
    "XpnetError",
    "InvalidArgumentError",
    "InvalidTypeError",
    "BackendUnavailableError",
    "BackendMismatchError",
    "TrainingDivergedError",
    "activations",
    "backend",
    "callbacks",
    "datasets",
    "init",
    "io",
    "losses",
    "optim",
    "schedules",
    "__version__",
]
