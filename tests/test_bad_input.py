"""Bad inputs to the public API: one table, one check per row.

Every row calls ``xpnet.MLP``, ``model.forward/predict/loss/gradients``,
``xpnet.train``, ``xpnet.gradcheck`` or ``xpnet.save/load`` with one bad
argument and checks that

* the error is an ``xpnet.XpnetError`` subclass that is also a ``ValueError``
  or ``TypeError`` (and the specific class the row names);
* its message names the argument and says what was expected or what came
  (each row lists substrings the message must contain);
* it is raised *before any computation*: ``forward``, ``train_step`` and the
  epoch loop are replaced by a tripwire for the call, models built before the
  call keep their parameters, and a failed ``save`` leaves no file behind.

Rows with ``bug=`` are open, confirmed xpnet bugs, run as
``xfail(strict=True)`` (the reason says what goes wrong); they fail as XPASS
once the bug is fixed, and the ``bug=`` then becomes ``found=``. Rows with
``found=`` caught a bug that has been fixed since; they keep it from coming back.

``python tests/test_bad_input.py`` prints the table below (each bad input and
the exact message it gives) from a live run.

Observed messages (xpnet 0.1.0; ``<tmp>`` is the test's temporary directory)::

    MLP sizes=3
        InvalidTypeError: sizes must be a list of layer widths like [n_in, hidden, n_out]; got 3
    MLP sizes=[3]
        InvalidArgumentError: sizes needs at least an input and an output width, e.g. [2, 1]; got [3]
    MLP sizes=[3, 0, 1]
        InvalidArgumentError: sizes[1] must be a positive int; got 0
    MLP sizes=[3, -2, 1]
        InvalidArgumentError: sizes[1] must be a positive int; got -2
    MLP sizes=[3, 2.0, 1]
        InvalidTypeError: sizes[1] must be an int; got float 2.0
    MLP sizes=[3, True, 1]
        InvalidTypeError: sizes[1] must be an int; got bool True
    MLP sizes=[3, '4', 1]
        InvalidTypeError: sizes[1] must be an int; got str '4'
    MLP hidden=['relu', 'tanh'] for 1 hidden layer
        InvalidArgumentError: hidden lists 2 activations but sizes [3, 4, 1] has 1 hidden layers; pass one name, or one per hidden layer
    MLP hidden='swish'
        InvalidArgumentError: unknown hidden activation 'swish'; expected one of identity, sigmoid, tanh, relu, leaky_relu, softmax
    MLP hidden=7 [found a bug, since fixed]
        InvalidTypeError: hidden must be an activation name or a list of names, one per hidden layer; got 7
    MLP hidden=None [found a bug, since fixed]
        InvalidTypeError: hidden must be an activation name or a list of names, one per hidden layer; got None
    MLP output='gelu'
        InvalidArgumentError: unknown output activation 'gelu'; expected one of identity, sigmoid, tanh, relu, leaky_relu, softmax
    MLP output=None
        InvalidTypeError: output activation must be an activation name (identity, sigmoid, tanh, relu, leaky_relu, softmax); got NoneType None
    MLP loss='hinge'
        InvalidArgumentError: unknown loss 'hinge'; expected one of binary_cross_entropy, cross_entropy, mse or None (the loss matched to the output activation)
    MLP loss=3
        InvalidTypeError: loss must be a loss name or None; got int
    MLP loss='cross_entropy' with a sigmoid output
        InvalidArgumentError: loss 'cross_entropy' needs output activation 'softmax', but the model's output is 'sigmoid'; use output='softmax' or loss='mse'
    MLP init='uniform'
        InvalidArgumentError: unknown init 'uniform'; expected one of normal, xavier, glorot, he
    MLP init_scale=0
        InvalidArgumentError: init_scale must be a positive finite number; got 0
    MLP init_scale=-0.1
        InvalidArgumentError: init_scale must be a positive finite number; got -0.1
    MLP init_scale=nan
        InvalidArgumentError: init_scale must be a positive finite number; got nan
    MLP init_scale=inf [found a bug, since fixed]
        InvalidArgumentError: init_scale must be a positive finite number; got inf
    MLP dtype='int32'
        InvalidArgumentError: dtype must be a floating dtype, 'float32' or 'float64'; got 'int32'
    MLP dtype='float16'
        InvalidArgumentError: dtype must be a floating dtype, 'float32' or 'float64'; got 'float16'
    MLP dtype=numpy.int64
        InvalidArgumentError: dtype must be a floating dtype, 'float32' or 'float64'; got <class 'numpy.int64'>
    MLP backend='tpu'
        InvalidArgumentError: unknown backend 'tpu'; expected one of 'numpy', 'cupy', 'array_api_strict', 'torch', 'jax', an array-API namespace module, or None
    MLP backend=5
        InvalidArgumentError: backend must be a name (numpy, cupy, array_api_strict, torch, jax), an array-API namespace module or None; got int 5
    MLP seed=-1
        InvalidArgumentError: seed must be a non-negative int or None; got -1
    MLP seed=1.5
        InvalidArgumentError: seed must be a non-negative int or None; got 1.5
    forward X 1-D
        InvalidArgumentError: X must be 2-D (n_samples, n_features=3); got shape (3,) (for one sample use X.reshape(1, -1), for one feature X.reshape(-1, 1))
    forward X 3-D
        InvalidArgumentError: X must be 2-D (n_samples, n_features=3); got shape (1, 12, 3)
    forward X 0-D
        InvalidArgumentError: X must be 2-D (n_samples, n_features=3); got shape ()
    forward X with 2 columns for 3 inputs
        InvalidArgumentError: X has 2 features (columns) but the model's input layer has 3; got shape (12, 2)
    forward X with no rows
        InvalidArgumentError: X has no rows; pass at least one sample
    forward X with NaN
        InvalidArgumentError: X contains NaN or infinity (or values too large for float64); clean, impute or rescale it first
    forward X with -inf
        InvalidArgumentError: X contains NaN or infinity (or values too large for float64); clean, impute or rescale it first
    forward X=1e300 (overflows the float32 model) [found a bug, since fixed]
        InvalidArgumentError: X contains NaN or infinity (or values too large for float32); clean, impute or rescale it first
    forward X of strings
        InvalidTypeError: X must hold real numbers; got an array of dtype <U1
    forward X complex
        InvalidTypeError: X must hold real numbers; got an array of dtype complex128
    forward X ragged list
        InvalidTypeError: X must be an array of numbers; could not read it (setting an array element with a sequence. The requested array has an inhomogeneous shape after 1 dimensions. The detected shape was (2,) + inhomogeneous part.)
    forward X=None [found a bug, since fixed]
        InvalidTypeError: X must be an array of numbers; got None
    predict X with 4 columns
        InvalidArgumentError: X has 4 features (columns) but the model's input layer has 3; got shape (2, 4)
    gradients: y 3-D
        InvalidArgumentError: y must be 1-D labels/targets or 2-D (n_samples, 3); got shape (12, 1, 1)
    gradients: y 0-D
        InvalidArgumentError: y must be 1-D labels/targets or 2-D (n_samples, 3); got shape ()
    gradients: y empty
        InvalidArgumentError: X and y have different lengths: X has 12 rows, y has 0
    gradients: y with NaN
        InvalidArgumentError: y contains NaN or infinity; clean or impute the targets first
    gradients: y with inf
        InvalidArgumentError: y contains NaN or infinity; clean or impute the targets first
    gradients: softmax label 3 of 3 classes
        InvalidArgumentError: y has label 3, outside the output's range 0..2 (3 output units)
    gradients: softmax label -1
        InvalidArgumentError: y has label -1, outside the output's range 0..2 (3 output units)
    gradients: softmax label 0.5
        InvalidArgumentError: y holds class labels for a softmax output, so they must be integers; got non-integer values such as np.float64(0.5)
    gradients: softmax label 1e20 [found a bug, since fixed]
        InvalidArgumentError: y has label 1e+20, outside the output's range 0..2 (3 output units)
    gradients: y of strings
        InvalidTypeError: y must hold real numbers; got an array of dtype <U1
    gradients: one-hot y with 4 columns for 3 units
        InvalidArgumentError: y has shape (12, 4) but the output layer has 3 units; expected (12,) labels or (12, 3)
    gradients: softmax rows not summing to 1
        InvalidArgumentError: y rows for a softmax output must be one-hot or probabilities summing to 1; row 0 sums to 2.0; pass integer class labels or normalize the rows
    gradients: sigmoid label 2
        InvalidArgumentError: y must hold targets in [0, 1] for a sigmoid output (class labels or probabilities); got values from 0.0 to 2.0
    gradients: sigmoid label -1
        InvalidArgumentError: y must hold targets in [0, 1] for a sigmoid output (class labels or probabilities); got values from -1.0 to 0.0
    gradients: label column for a 2-unit sigmoid
        InvalidArgumentError: y is a single label column but the 'sigmoid' output has 2 units; pass y with shape (12, 2) (for class labels use output='softmax')
    gradients: label column for a 3-unit identity
        InvalidArgumentError: y is a single label column but the 'identity' output has 3 units; pass y with shape (12, 3)
    gradients X/y length mismatch
        InvalidArgumentError: X and y have different lengths: X has 12 rows, y has 4
    loss X/y length mismatch [found a bug, since fixed]
        InvalidArgumentError: X and y have different lengths: X has 12 rows, y has 4
    loss X with 2 columns
        InvalidArgumentError: X has 2 features (columns) but the model's input layer has 3; got shape (12, 2)
    loss y=-1e300 for a float32 regression model [found a bug, since fixed]
        InvalidArgumentError: y holds values too large for the model's float32 (up to 1e+300; float32 holds up to 3.4e+38); rescale the targets (e.g. standardize them) or use dtype='float64'
    gradients: 3-column y=1e39 for a float32 identity model [found a bug, since fixed]
        InvalidArgumentError: y holds values too large for the model's float32 (up to 1e+39; float32 holds up to 3.4e+38); rescale the targets (e.g. standardize them) or use dtype='float64'
    gradients X with NaN
        InvalidArgumentError: X contains NaN or infinity (or values too large for float64); clean, impute or rescale it first
    gradients label out of range
        InvalidArgumentError: y has label 4, outside the output's range 0..2 (3 output units)
    forward torch X, numpy model
        BackendMismatchError: X is a torch array but the model is on Backend('numpy'); pass backend='torch' to train on torch, move the model with model.to('torch'), or pass a NumPy array (xpnet.to_numpy(...))
    forward array_api_strict X, torch model
        BackendMismatchError: X is a array_api_strict array but the model is on Backend('torch', device=device(type='cpu')); pass backend='array_api_strict' to train on array_api_strict, move the model with model.to('array_api_strict'), or pass a NumPy array (xpnet.to_numpy(...))
    loss torch X and y, array_api_strict model
        BackendMismatchError: X is a torch array but the model is on Backend('array_api_strict'); pass backend='torch' to train on torch, move the model with model.to('torch'), or pass a NumPy array (xpnet.to_numpy(...))
    gradients array_api_strict X, torch y, array_api_strict model
        BackendMismatchError: y is a torch array but the model is on Backend('array_api_strict'); pass backend='torch' to train on torch, move the model with model.to('torch'), or pass a NumPy array (xpnet.to_numpy(...))
    predict numpy model, array_api_strict X
        BackendMismatchError: X is a array_api_strict array but the model is on Backend('numpy'); pass backend='array_api_strict' to train on array_api_strict, move the model with model.to('array_api_strict'), or pass a NumPy array (xpnet.to_numpy(...))
    train model='m'
        InvalidTypeError: model must be an xpnet.MLP; got str
    train epochs=0
        InvalidArgumentError: epochs must be a positive int; got 0
    train epochs=-5
        InvalidArgumentError: epochs must be a positive int; got -5
    train epochs=2.5
        InvalidArgumentError: epochs must be a positive int; got 2.5
    train epochs=None
        InvalidArgumentError: epochs must be a positive int; got None
    train batch_size=0
        InvalidArgumentError: batch_size must be a positive int or None; got 0
    train batch_size=-4
        InvalidArgumentError: batch_size must be a positive int or None; got -4
    train batch_size=2.5
        InvalidArgumentError: batch_size must be a positive int or None; got 2.5
    train lr=0
        InvalidArgumentError: lr must be in (0.0, inf); got 0
    train lr=-0.1
        InvalidArgumentError: lr must be in (0.0, inf); got -0.1
    train lr=nan
        InvalidArgumentError: lr must be in (0.0, inf); got nan
    train lr=inf
        InvalidArgumentError: lr must be in (0.0, inf); got inf
    train lr='0.1'
        InvalidTypeError: lr must be a number; got str '0.1'
    train optimizer='lbfgs'
        InvalidArgumentError: unknown optimizer 'lbfgs'; expected one of sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw
    train optimizer=None
        InvalidTypeError: optimizer must be a name (sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw) or an xpnet.optim.Optimizer; got NoneType
    train momentum=-0.5
        InvalidArgumentError: momentum must be in [0.0, 1.0); got -0.5
    train momentum=1.5
        InvalidArgumentError: momentum must be in [0.0, 1.0); got 1.5
    train weight_decay=-1
        InvalidArgumentError: weight_decay must be in [0.0, inf); got -1
    train nesterov=True without momentum
        InvalidArgumentError: nesterov=True needs momentum > 0 and dampening = 0
    train momentum with adam
        InvalidArgumentError: momentum/nesterov do not apply to optimizer 'adam'; use optimizer='momentum', 'nesterov' or 'rmsprop', or leave them at their defaults
    train dropout=1.0
        InvalidArgumentError: dropout must be in [0, 1); got 1.0
    train dropout=-0.1
        InvalidArgumentError: dropout must be in [0, 1); got -0.1
    train sync_every=0
        InvalidArgumentError: sync_every must be a positive int; got 0
    train checkpoint_every=0
        InvalidArgumentError: checkpoint_every must be a positive int; got 0
    train seed=-1
        InvalidArgumentError: seed must be a non-negative int or None; got -1
    train verbose=-1
        InvalidArgumentError: verbose must be a bool or a positive int; got -1
    train early_stopping=0
        InvalidArgumentError: patience must be a positive int; got 0
    train early_stopping='yes'
        InvalidTypeError: early_stopping must be None, a patience (int) or xpnet.EarlyStopping; got 'yes'
    train resume=True without checkpoint
        InvalidArgumentError: resume=True needs checkpoint=PATH (the file to continue from)
    train backend='tpu'
        InvalidArgumentError: unknown backend 'tpu'; expected one of 'numpy', 'cupy', 'array_api_strict', 'torch', 'jax', an array-API namespace module, or None
    train progress='yes'
        InvalidTypeError: progress must be None, a bool or an xpnet.progress.Progress; got 'yes'
    train X with no rows
        InvalidArgumentError: X has no rows; pass at least one sample
    train X 1-D
        InvalidArgumentError: X must be 2-D (n_samples, n_features=3); got shape (12,) (for one sample use X.reshape(1, -1), for one feature X.reshape(-1, 1))
    train X with 2 columns
        InvalidArgumentError: X has 2 features (columns) but the model's input layer has 3; got shape (12, 2)
    train X/y length mismatch
        InvalidArgumentError: X and y have different lengths: X has 12 rows, y has 7
    train y empty
        InvalidArgumentError: X and y have different lengths: X has 12 rows, y has 0
    train X with NaN
        InvalidArgumentError: X contains NaN or infinity (or values too large for float64); clean, impute or rescale it first
    train X with inf
        InvalidArgumentError: X contains NaN or infinity (or values too large for float64); clean, impute or rescale it first
    train y with NaN
        InvalidArgumentError: y contains NaN or infinity; clean or impute the targets first
    train softmax labels 3..5
        InvalidArgumentError: y has label 3, outside the output's range 0..2 (3 output units)
    train softmax labels 0.5..2.5
        InvalidArgumentError: y holds class labels for a softmax output, so they must be integers; got non-integer values such as np.float64(0.5)
    train label column for a 2-unit sigmoid
        InvalidArgumentError: y is a single label column but the 'sigmoid' output has 2 units; pass y with shape (12, 2) (for class labels use output='softmax')
    train sigmoid target 3
        InvalidArgumentError: y must hold targets in [0, 1] for a sigmoid output (class labels or probabilities); got values from 0.0 to 3.0
    train X of strings
        InvalidTypeError: X must hold real numbers; got an array of dtype <U32
    train X=1e300 into a float32 model [found a bug, since fixed]
        InvalidArgumentError: X contains NaN or infinity (or values too large for float32); clean, impute or rescale it first
    train y=1e300 into a float32 regression model [found a bug, since fixed]
        InvalidArgumentError: y holds values too large for the model's float32 (up to 1e+300; float32 holds up to 3.4e+38); rescale the targets (e.g. standardize them) or use dtype='float64'
    train y_val=1e300 into a float32 regression model [found a bug, since fixed]
        InvalidArgumentError: y_val holds values too large for the model's float32 (up to 1e+300; float32 holds up to 3.4e+38); rescale the targets (e.g. standardize them) or use dtype='float64'
    train validation_data=X (not a pair)
        InvalidArgumentError: validation_data must be a pair (X_val, y_val)
    train X_val with NaN
        InvalidArgumentError: X_val contains NaN or infinity (or values too large for float64); clean, impute or rescale it first
    train y_val with inf
        InvalidArgumentError: y_val contains NaN or infinity; clean or impute the targets first
    train X_val with 2 columns
        InvalidArgumentError: X_val has 2 features (columns) but the model's input layer has 3; got shape (2, 2)
    train X_val with no rows
        InvalidArgumentError: X_val has no rows; pass at least one sample
    train y_val label 7
        InvalidArgumentError: y_val has label 7, outside the output's range 0..2 (3 output units)
    train y_val label column for a 2-unit sigmoid
        InvalidArgumentError: y_val is a single label column but the 'sigmoid' output has 2 units; pass y_val with shape (2, 2) (for class labels use output='softmax')
    train X_val/y_val length mismatch [found a bug, since fixed]
        InvalidArgumentError: X_val and y_val have different lengths: X_val has 2 rows, y_val has 3
    train early stopping on val_loss without validation_data
        InvalidArgumentError: early stopping on 'val_loss' needs validation_data
    train X array_api_strict, y torch [found a bug, since fixed]
        BackendMismatchError: arrays from two backends were mixed: X is array_api_strict, y is torch; move both to one (xpnet.to_numpy(...) gives NumPy) or pass backend=...
    train X torch, y array_api_strict
        BackendMismatchError: arrays from two backends were mixed: X is torch, y is array_api_strict; move both to one (xpnet.to_numpy(...) gives NumPy) or pass backend=...
    train array_api_strict data with backend='torch'
        BackendMismatchError: X is a array_api_strict array but the model is on Backend('torch', device=device(type='cpu')); pass backend='array_api_strict' to train on array_api_strict, move the model with model.to('array_api_strict'), or pass a NumPy array (xpnet.to_numpy(...))
    train torch data on an array_api_strict model, backend='array_api_strict'
        BackendMismatchError: X is a torch array but the model is on Backend('array_api_strict'); pass backend='torch' to train on torch, move the model with model.to('torch'), or pass a NumPy array (xpnet.to_numpy(...))
    train numpy data, array_api_strict validation data
        BackendMismatchError: X_val is a array_api_strict array but the model is on Backend('numpy'); pass backend='array_api_strict' to train on array_api_strict, move the model with model.to('array_api_strict'), or pass a NumPy array (xpnet.to_numpy(...))
    train torch X complex on a torch model [found a bug, since fixed]
        InvalidTypeError: X must hold real numbers; got an array of dtype torch.complex128
    train checkpoint=123 [found a bug, since fixed]
        InvalidTypeError: checkpoint must be a file name (str or os.PathLike); got 123
    train checkpoint in a missing directory [found a bug, since fixed]
        InvalidArgumentError: cannot write checkpoint='<tmp>/no/such/ck.npz': the directory <tmp>/no/such does not exist
    gradcheck eps=0
        InvalidArgumentError: eps must be a positive finite number; got 0
    gradcheck eps=-1e-6
        InvalidArgumentError: eps must be a positive finite number; got -1e-06
    gradcheck eps=nan
        InvalidArgumentError: eps must be a positive finite number; got nan
    gradcheck eps=inf [found a bug, since fixed]
        InvalidArgumentError: eps must be a positive finite number; got inf
    gradcheck eps='small' [found a bug, since fixed]
        InvalidTypeError: eps must be a positive finite number; got str 'small'
    gradcheck max_entries=0
        InvalidArgumentError: max_entries must be a positive int or None; got 0
    gradcheck max_entries=1.5
        InvalidArgumentError: max_entries must be a positive int or None; got 1.5
    gradcheck model='m' [found a bug, since fixed]
        InvalidTypeError: model must be an xpnet.MLP; got str
    gradcheck X with NaN
        InvalidArgumentError: X contains NaN or infinity (or values too large for float64); clean, impute or rescale it first
    gradcheck X/y length mismatch
        InvalidArgumentError: X and y have different lengths: X has 12 rows, y has 2
    gradcheck label out of range
        InvalidArgumentError: y has label 3, outside the output's range 0..2 (3 output units)
    gradcheck torch X for a numpy model
        BackendMismatchError: X is a torch array but the model is on Backend('numpy'); pass backend='torch' to train on torch, move the model with model.to('torch'), or pass a NumPy array (xpnet.to_numpy(...))
    save model='m'
        InvalidArgumentError: model must be an xpnet.MLP; got str
    save a model with NaN weights
        InvalidArgumentError: refusing to save W0: it contains NaN or infinity (training diverged?)
    save path=None [found a bug, since fixed]
        InvalidTypeError: path must be a file name (str or os.PathLike); got None
    load a missing file
        InvalidFileError: <tmp>/missing.npz: no such file
    load a directory
        InvalidFileError: <tmp>: not an xpnet file: Is a directory; a model or checkpoint is a regular file
    load an empty file
        InvalidFileError: <tmp>/empty.npz: not an xpnet file (not a valid .npz archive: File is not a zip file)
    load a text file
        InvalidFileError: <tmp>/t.npz: not an xpnet file (not a valid .npz archive: File is not a zip file)
    load a plain .npz without the xpnet header
        InvalidFileError: <tmp>/plain.npz: missing array '__xpnet__'
    load_checkpoint of a model file
        InvalidFileError: <tmp>/good.npz: is a model file, not a training checkpoint
    load a file whose array member is bzip2-compressed [found a bug, since fixed]
        InvalidFileError: <tmp>/bzip2.npz: array 'W0' is compressed with bzip2 (zip method 12); xpnet files hold stored or deflate members only
    load a file whose deflate stream starts at the wrong byte [found a bug, since fixed]
        InvalidFileError: <tmp>/shifted.npz: array 'W0' is corrupt (zlib.error: Error -3 while decompressing data: invalid code lengths set)
    load_checkpoint with a step count t=10**20 [found a bug, since fixed]
        InvalidFileError: <tmp>/ck.npz: corrupt checkpoint header: opt_state: entry 't' must be in [1, 9007199254740992]; got int 100000000000000000000 (a step count: at least one step per epoch)
    load backend='tpu'
        InvalidArgumentError: unknown backend 'tpu'; expected one of 'numpy', 'cupy', 'array_api_strict', 'torch', 'jax', an array-API namespace module, or None
    load path=None (with a file named 'None' in the working directory) [found a bug, since fixed]
        InvalidTypeError: path must be a file name (str or os.PathLike); got None
"""

from __future__ import annotations

import importlib
import io
import math
import os
import sys
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import xpnet
from xpnet.activations import ACTIVATIONS
from xpnet.init import INITIALIZERS
from xpnet.losses import LOSSES
from xpnet.optim import OPTIMIZERS

MODEL = importlib.import_module("xpnet.model")
TRAINING = importlib.import_module("xpnet.loop")
GRADCHECK = importlib.import_module("xpnet.gradcheck")  # xpnet.gradcheck is the function

IAE, ITE = xpnet.InvalidArgumentError, xpnet.InvalidTypeError
BME, IFE = xpnet.BackendMismatchError, xpnet.InvalidFileError


class ComputationStarted(BaseException):
    """Raised by the tripwires: the call reached the math before refusing its input."""


# -- the context every row gets ----------------------------------------------------
class Ctx:
    """Data, lazily built models (parameters snapshotted), and a temporary directory."""

    def __init__(self, tmp: Path) -> None:
        rng = np.random.default_rng(7)
        self.tmp = tmp
        self.X = rng.standard_normal((12, 3))
        self.y = np.arange(12) % 3           # softmax labels 0..2
        self.y01 = np.arange(12) % 2         # binary labels
        self._models: dict[str, xpnet.MLP] = {}
        self._snapshots: dict[str, list[np.ndarray]] = {}

    def model(self, key: str = "softmax") -> xpnet.MLP:
        """A float64 model; ``key`` picks the kind: softmax [3, 4, 3], sigmoid1, sigmoid2, identity3,
        and ``@backend`` for another backend (e.g. ``softmax@torch``)."""
        if key not in self._models:
            kind, _, backend = key.partition("@")
            sizes, output = {"softmax": ([3, 4, 3], "softmax"), "sigmoid1": ([3, 4, 1], "sigmoid"),
                             "sigmoid2": ([3, 4, 2], "sigmoid"), "identity3": ([3, 4, 3], "identity")}[kind]
            if backend:
                _need(backend.partition(":")[0])
            m = xpnet.MLP(sizes, hidden="tanh", output=output, dtype="float64", seed=1,
                          backend=backend or "numpy")
            self._models[key] = m
            self._snapshots[key] = _host_params(m)
        return self._models[key]

    def assert_models_unchanged(self) -> None:
        for key, m in self._models.items():
            for got, want in zip(_host_params(m), self._snapshots[key]):
                np.testing.assert_array_equal(got, want, err_msg=f"model {key!r} changed")

    def strict(self, a):
        return _need("array_api_strict").asarray(a)

    def torch(self, a):
        return _need("torch").asarray(a)

    def saved(self) -> Path:
        path = self.tmp / "good.npz"
        if not path.exists():
            xpnet.save(xpnet.MLP([3, 4, 3], output="softmax"), path)
        return path


def _host_params(m: xpnet.MLP) -> list[np.ndarray]:
    return [xpnet.to_numpy(a).copy() for pair in m.params for a in pair]


def _need(name: str):
    try:
        xpnet.get_backend(name)
    except xpnet.BackendUnavailableError as exc:
        pytest.skip(f"backend {name!r} unavailable: {exc}")
    return importlib.import_module(name)


def _quiet(f: Callable[[], Any]) -> Any:
    """Run ``f`` with NumPy's RuntimeWarnings silenced (the suite turns them into errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return f()


# -- the table ----------------------------------------------------------------------
@dataclass
class Case:
    id: str
    call: Callable[[Ctx], Any]
    exc: type | tuple[type, ...]
    says: tuple[str, ...] = ()  # substrings the message must contain
    bug: str | None = None  # a confirmed, open xpnet bug: the row is xfail(strict=True)
    found: str | None = None  # a bug this row found that has been fixed since (kept for the record)
    after: Callable[[Ctx], None] | None = field(default=None, repr=False)  # extra check after the error


def C(id, call, exc, *says, bug=None, found=None, after=None):  # noqa: N802 - a table row
    return Case(id, call, exc, tuple(says), bug, found, after)


def mlp(*args, **kwargs):
    return lambda c: xpnet.MLP(*args, **kwargs)


def train(*, X=None, y=None, model="softmax", val=None, **kwargs):
    """A train() row: X, y and val (validation_data) are functions of the context when given."""
    kwargs.setdefault("epochs", 3)

    def call(c: Ctx):
        XX = c.X if X is None else X(c)
        yy = c.y if y is None else y(c)
        extra = {} if val is None else {"validation_data": val(c)}
        return xpnet.train(c.model(model), XX, yy, **kwargs, **extra)
    return call


def write(name: str, data: bytes):
    """A load() row on a file holding ``data``."""
    def call(c: Ctx):
        (c.tmp / name).write_bytes(data)
        return xpnet.load(c.tmp / name)
    return call


NAN_X = lambda c: np.where(c.X > 1, np.nan, c.X)  # noqa: E731
INF_X = lambda c: np.where(c.X > 1, -np.inf, c.X)  # noqa: E731
VALID_ACTS = ", ".join(ACTIVATIONS)
VALID_LOSSES = ", ".join(LOSSES)
VALID_OPTS = ", ".join(OPTIMIZERS)
VALID_INITS = ", ".join(INITIALIZERS)


def _no_file(name):
    def check(c: Ctx):
        assert not (c.tmp / name).exists()
        assert not [p for p in os.listdir(c.tmp) if p.endswith(".tmp")], "a temporary file was left behind"
    return check


CASES = [
    # ---- xpnet.MLP ------------------------------------------------------------------
    C("MLP sizes=3", mlp(3), ITE, "sizes", "list of layer widths", "got 3"),
    C("MLP sizes=[3]", mlp([3]), IAE, "sizes", "at least an input and an output", "[3]"),
    C("MLP sizes=[3, 0, 1]", mlp([3, 0, 1]), IAE, "sizes[1]", "positive int", "got 0"),
    C("MLP sizes=[3, -2, 1]", mlp([3, -2, 1]), IAE, "sizes[1]", "positive int", "got -2"),
    C("MLP sizes=[3, 2.0, 1]", mlp([3, 2.0, 1]), ITE, "sizes[1]", "must be a positive int", "float 2.0"),
    C("MLP sizes=[3, True, 1]", mlp([3, True, 1]), ITE, "sizes[1]", "must be a positive int", "bool True"),
    C("MLP sizes=[3, '4', 1]", mlp([3, "4", 1]), ITE, "sizes[1]", "must be a positive int", "str '4'"),
    C("MLP hidden=['relu', 'tanh'] for 1 hidden layer", mlp([3, 4, 1], hidden=["relu", "tanh"]), IAE,
      "hidden", "2 activations", "1 hidden layers"),
    C("MLP hidden='swish'", mlp([3, 4, 1], hidden="swish"), IAE, "hidden activation", "'swish'", VALID_ACTS),
    C("MLP hidden=7", mlp([3, 4, 1], hidden=7), ITE, "hidden", "7",
      found="MLP._configure (model.py:147) calls list(hidden) on a non-iterable: a bare TypeError ('int' object is not "
          "iterable) that is no XpnetError and does not name hidden"),
    C("MLP hidden=None", mlp([3, 4, 1], hidden=None), ITE, "hidden", "None",
      found="MLP._configure (model.py:147): list(None) raises a bare TypeError ('NoneType' object is not iterable)"),
    C("MLP output='mish'", mlp([3, 4, 1], output="mish"), IAE, "output activation", "'mish'", VALID_ACTS),
    C("MLP output=None", mlp([3, 4, 1], output=None), ITE, "output activation", "NoneType"),
    C("MLP loss='hinge'", mlp([3, 4, 1], loss="hinge"), IAE, "loss", "'hinge'", VALID_LOSSES),
    C("MLP loss=3", mlp([3, 4, 1], loss=3), ITE, "loss", "int"),
    C("MLP loss='cross_entropy' with a sigmoid output", mlp([3, 4, 1], loss="cross_entropy"), IAE,
      "loss 'cross_entropy'", "softmax", "'sigmoid'"),
    C("MLP init='uniform'", mlp([3, 4, 1], init="uniform"), IAE, "init", "'uniform'", VALID_INITS),
    C("MLP init_scale=0", mlp([3, 4, 1], init_scale=0), IAE, "init_scale", "positive", "got 0"),
    C("MLP init_scale=-0.1", mlp([3, 4, 1], init_scale=-0.1), IAE, "init_scale", "positive", "-0.1"),
    C("MLP init_scale=nan", mlp([3, 4, 1], init_scale=math.nan), IAE, "init_scale", "nan"),
    C("MLP init_scale=inf", mlp([3, 4, 1], init_scale=math.inf), IAE, "init_scale", "inf",
      found="MLP._configure (model.py:160) accepts init_scale=inf; xpnet.save then writes a file whose header "
          "xpnet.load refuses ('bad init_scale in the header')"),
    C("MLP dtype='int32'", mlp([3, 4, 1], dtype="int32"), IAE, "dtype", "float32", "float64", "int32"),
    C("MLP dtype='float16'", mlp([3, 4, 1], dtype="float16"), IAE, "dtype", "float32", "float16"),
    C("MLP dtype=numpy.int64", mlp([3, 4, 1], dtype=np.int64), IAE, "dtype", "floating", "int64"),
    C("MLP backend='tpu'", mlp([3, 4, 1], backend="tpu"), IAE, "backend", "'tpu'", "'numpy'", "'torch'"),
    C("MLP backend=5", mlp([3, 4, 1], backend=5), IAE, "backend", "got int 5"),
    C("MLP seed=-1", mlp([3, 4, 1], seed=-1), IAE, "seed", "non-negative int", "-1"),
    C("MLP seed=1.5", mlp([3, 4, 1], seed=1.5), IAE, "seed", "1.5"),

    # ---- model.forward / predict / loss / gradients ------------------------------------
    C("forward X 1-D", lambda c: c.model().forward(c.X[0]), IAE, "X must be 2-D", "n_features=3", "(3,)"),
    C("forward X 3-D", lambda c: c.model().forward(c.X[None]), IAE, "X must be 2-D", "(1, 12, 3)"),
    C("forward X 0-D", lambda c: c.model().forward(np.float64(1.0)), IAE, "X must be 2-D", "()"),
    C("forward X with 2 columns for 3 inputs", lambda c: c.model().forward(c.X[:, :2]), IAE,
      "X has 2 features", "input layer has 3"),
    C("forward X with no rows", lambda c: c.model().forward(c.X[:0]), IAE, "X has no rows"),
    C("forward X with NaN", lambda c: c.model().forward(NAN_X(c)), IAE, "X contains NaN or infinity"),
    C("forward X with -inf", lambda c: c.model().forward(INF_X(c)), IAE, "X contains NaN or infinity"),
    C("forward X=1e300 (overflows the float32 model)",
      lambda c: _quiet(lambda: xpnet.MLP([3, 4, 3], output="softmax").forward(np.full((2, 3), 1e300))),
      IAE, "X", "infinity",
      found="as_features (data.py:71) checks finiteness on the host in the input's dtype, then casts to float32, "
          "where 1e300 becomes inf: forward silently returns NaN (the array-API-strict path, which "
          "checks after the cast, refuses the same X)"),
    C("forward X of strings", lambda c: c.model().forward(np.array([["a", "b", "c"]])), ITE,
      "X must hold real numbers", "<U1"),
    C("forward X complex", lambda c: c.model().forward(c.X.astype(complex)), ITE,
      "X must hold real numbers", "complex128"),
    C("forward X ragged list", lambda c: c.model().forward([[1.0, 2.0, 3.0], [1.0, 2.0]]), ITE,
      "X must be an array of numbers", "inhomogeneous"),
    C("forward X=None", lambda c: c.model().forward(None), ITE, "X", "None",
      found="backend_of (backend.py:273, via data._same_backend) says 'expected an array, got NoneType' without naming X"),
    C("predict X with 4 columns", lambda c: c.model().predict(np.zeros((2, 4))), IAE,
      "X has 4 features", "input layer has 3"),
    C("gradients: y 3-D", lambda c: c.model().gradients(c.X, c.y[:, None, None]), IAE,
      "y must be 1-D", "(12, 1, 1)"),
    C("gradients: y 0-D", lambda c: c.model().gradients(c.X, np.int64(1)), IAE, "y must be 1-D", "()"),
    C("gradients: y empty", lambda c: c.model().gradients(c.X, c.y[:0]), IAE, "different lengths", "y has 0"),
    C("gradients: y with NaN", lambda c: c.model().gradients(c.X, np.where(c.y > 1, np.nan, c.y)), IAE,
      "y contains NaN or infinity"),
    C("gradients: y with inf", lambda c: c.model().gradients(c.X, np.where(c.y > 1, np.inf, c.y)), IAE,
      "y contains NaN or infinity"),
    C("gradients: softmax label 3 of 3 classes", lambda c: c.model().gradients(c.X, c.y + 1), IAE,
      "y has label 3", "range 0..2"),
    C("gradients: softmax label -1", lambda c: c.model().gradients(c.X, c.y - 1), IAE,
      "y has label -1", "range 0..2"),
    C("gradients: softmax label 0.5", lambda c: c.model().gradients(c.X, c.y + 0.5), IAE,
      "y holds class labels", "integers", "0.5"),
    C("gradients: softmax label 1e20",
      lambda c: _quiet(lambda: c.model().gradients(c.X, np.full(12, 1e20))), IAE,
      "y has label", "1e+20",
      found="as_targets (data.py:122) casts float labels to int64 before the range check: 1e20 is reported as "
          "'label -9223372036854775808'"),
    C("gradients: y of strings", lambda c: c.model().gradients(c.X, np.array(["a"] * 12)), ITE,
      "y must hold real numbers", "<U1"),
    C("gradients: one-hot y with 4 columns for 3 units",
      lambda c: c.model().gradients(c.X, np.eye(4)[c.y]), IAE,
      "y has shape (12, 4)", "3 units"),
    C("gradients: softmax rows not summing to 1", lambda c: c.model().gradients(c.X, 2 * np.eye(3)[c.y]), IAE,
      "y rows", "summing to 1", "sums to 2.0"),
    C("gradients: sigmoid label 2", lambda c: c.model("sigmoid1").gradients(c.X, c.y), IAE,
      "y must hold targets in [0, 1]", "sigmoid", "0.0 to 2.0"),
    C("gradients: sigmoid label -1", lambda c: c.model("sigmoid1").gradients(c.X, -c.y01), IAE,
      "y must hold targets in [0, 1]", "-1.0"),
    C("gradients: label column for a 2-unit sigmoid",
      lambda c: c.model("sigmoid2").gradients(c.X, c.y01), IAE,
      "y is a single label column", "2 units", "(12, 2)"),
    C("gradients: label column for a 3-unit identity",
      lambda c: c.model("identity3").gradients(c.X, c.y), IAE,
      "y is a single label column", "3 units"),
    C("gradients X/y length mismatch", lambda c: c.model().gradients(c.X, c.y[:4]), IAE,
      "X and y have different lengths", "12 rows", "y has 4"),
    C("loss X/y length mismatch", lambda c: c.model().loss(c.X, c.y[:4]), IAE, "different lengths", "y has 4",
      found="MLP.loss (model.py:280-282) runs the forward pass before it checks y (gradients checks y first)"),
    C("loss X with 2 columns", lambda c: c.model().loss(c.X[:, :2], c.y), IAE, "X has 2 features"),
    C("loss y=-1e300 for a float32 regression model",
      lambda c: xpnet.MLP([3, 4, 1], output="identity").loss(c.X, np.full(12, -1e300)), IAE,
      "y holds values too large", "float32", "rescale",
      found="as_targets (data.py:147) checks y for NaN/inf in float64, before the cast to the model's "
          "float32 (-1e300 -> -inf): MLP.loss returned inf"),
    C("gradients: 3-column y=1e39 for a float32 identity model",
      lambda c: xpnet.MLP([3, 4, 3], output="identity").gradients(c.X, np.full((12, 3), 1e39)), IAE,
      "y holds values too large", "float32",
      found="as_targets (data.py:147): 1e39 is finite in float64, infinite in float32; the loss was inf, the "
          "gradients NaN"),
    C("gradients X with NaN", lambda c: c.model().gradients(NAN_X(c), c.y), IAE, "X contains NaN"),
    C("gradients label out of range", lambda c: c.model().gradients(c.X, c.y * 2), IAE,
      "y has label 4", "range 0..2"),
    # mixed backends
    C("forward torch X, numpy model", lambda c: c.model().forward(c.torch(c.X)), BME,
      "X is a torch array on torch:cpu", "numpy", "model.to('torch:cpu')"),
    C("forward array_api_strict X, torch model", lambda c: c.model("softmax@torch").forward(c.strict(c.X)),
      BME, "X is a array_api_strict array", "torch"),
    C("loss torch X and y, array_api_strict model",
      lambda c: c.model("softmax@array_api_strict").loss(c.torch(c.X), c.torch(c.y)), BME,
      "X is a torch array", "array_api_strict"),
    C("gradients array_api_strict X, torch y, array_api_strict model",
      lambda c: c.model("softmax@array_api_strict").gradients(c.strict(c.X), c.torch(c.y)), BME,
      "y is a torch array", "array_api_strict"),
    C("predict numpy model, array_api_strict X", lambda c: c.model().predict(c.strict(c.X)), BME,
      "X is a array_api_strict array"),

    # ---- xpnet.train ---------------------------------------------------------------------
    C("train model='m'", lambda c: xpnet.train("m", c.X, c.y), ITE, "model", "xpnet.MLP", "str"),
    C("train epochs=0", train(epochs=0), IAE, "epochs", "positive int", "got 0"),
    C("train epochs=-5", train(epochs=-5), IAE, "epochs", "got -5"),
    C("train epochs=2.5", train(epochs=2.5), IAE, "epochs", "got float 2.5"),
    C("train epochs=None", train(epochs=None), ITE, "epochs", "None"),
    C("train batch_size=0", train(batch_size=0), IAE, "batch_size", "positive int or None", "got 0"),
    C("train batch_size=-4", train(batch_size=-4), IAE, "batch_size", "got -4"),
    C("train batch_size=2.5", train(batch_size=2.5), IAE, "batch_size", "got float 2.5"),
    C("train lr=0", train(lr=0), IAE, "lr", "(0.0, inf)", "got 0"),
    C("train lr=-0.1", train(lr=-0.1), IAE, "lr", "got -0.1"),
    C("train lr=nan", train(lr=math.nan), IAE, "lr", "nan"),
    C("train lr=inf", train(lr=math.inf), IAE, "lr", "inf"),
    C("train lr='0.1'", train(lr="0.1"), ITE, "lr must be a number", "str '0.1'"),
    C("train optimizer='lbfgs'", train(optimizer="lbfgs"), IAE, "optimizer", "'lbfgs'", VALID_OPTS),
    C("train optimizer=None", train(optimizer=None), ITE, "optimizer", VALID_OPTS, "NoneType"),
    C("train momentum=-0.5", train(momentum=-0.5), IAE, "momentum", "[0.0, 1.0)", "-0.5"),
    C("train momentum=1.5", train(momentum=1.5), IAE, "momentum", "1.5"),
    C("train weight_decay=-1", train(weight_decay=-1), IAE, "weight_decay", "got -1"),
    C("train nesterov=True without momentum", train(nesterov=True), IAE, "nesterov", "momentum > 0"),
    C("train momentum with adam", train(optimizer="adam", momentum=0.9), IAE, "momentum", "'adam'"),
    C("train dropout=1.0", train(dropout=1.0), IAE, "dropout", "[0.0, 1.0)", "1.0"),
    C("train dropout=-0.1", train(dropout=-0.1), IAE, "dropout", "-0.1"),
    C("train sync_every=0", train(sync_every=0), IAE, "sync_every", "positive int", "got 0"),
    C("train checkpoint_every=0", train(checkpoint_every=0), IAE, "checkpoint_every", "got 0"),
    C("train seed=-1", train(seed=-1), IAE, "seed", "non-negative", "-1"),
    C("train verbose=-1", train(verbose=-1), IAE, "verbose", "positive int", "-1"),
    C("train early_stopping=0", train(early_stopping=0), IAE, "patience", "positive int", "got 0"),
    C("train early_stopping='yes'", train(early_stopping="yes"), ITE, "early_stopping", "'yes'"),
    C("train resume=True without checkpoint", train(resume=True), IAE, "resume=True", "checkpoint=PATH"),
    C("train backend='tpu'", train(backend="tpu"), IAE, "backend", "'tpu'"),
    C("train progress='yes'", train(progress="yes"), ITE, "progress", "'yes'"),
    C("train X with no rows", train(X=lambda c: c.X[:0], y=lambda c: c.y[:0]), IAE, "X has no rows"),
    C("train X 1-D", train(X=lambda c: c.X[:, 0]), IAE, "X must be 2-D", "(12,)"),
    C("train X with 2 columns", train(X=lambda c: c.X[:, :2]), IAE, "X has 2 features", "input layer has 3"),
    C("train X/y length mismatch", train(y=lambda c: c.y[:7]), IAE, "X and y have different lengths",
      "12 rows", "y has 7"),
    C("train y empty", train(y=lambda c: c.y[:0]), IAE, "different lengths", "y has 0"),
    C("train X with NaN", train(X=NAN_X), IAE, "X contains NaN or infinity"),
    C("train X with inf", train(X=INF_X), IAE, "X contains NaN or infinity"),
    C("train y with NaN", train(y=lambda c: np.where(c.y > 1, np.nan, c.y)), IAE, "y contains NaN"),
    C("train softmax labels 3..5", train(y=lambda c: c.y + 3), IAE, "y has label", "range 0..2"),
    C("train softmax labels 0.5..2.5", train(y=lambda c: c.y + 0.5), IAE, "integers", "0.5"),
    C("train label column for a 2-unit sigmoid", train(model="sigmoid2", y=lambda c: c.y01), IAE,
      "y is a single label column", "2 units"),
    C("train sigmoid target 3", train(model="sigmoid1", y=lambda c: 3 * c.y01), IAE,
      "y must hold targets in [0, 1]", "3.0"),
    C("train X of strings", train(X=lambda c: c.X.astype(str)), ITE, "X must hold real numbers"),
    C("train X=1e300 into a float32 model",
      lambda c: _quiet(lambda: xpnet.train(xpnet.MLP([3, 4, 3], output="softmax"), np.full((12, 3), 1e300),
                                           c.y, epochs=2)),
      IAE, "X", "infinity",
      found="as_features (data.py:71): the finiteness check runs before the cast to float32 (1e300 -> inf); "
          "training starts and ends in TrainingDivergedError instead of refusing X"),
    C("train y=1e300 into a float32 regression model",
      lambda c: _quiet(lambda: xpnet.train(xpnet.MLP([3, 4, 1], output="identity"), c.X, np.full(12, 1e300),
                                           epochs=2)),
      IAE, "y holds values too large", "float32", "up to 1e+300",
      found="as_targets (data.py:147): y is checked before the cast to float32 (1e300 -> inf); training "
          "started and ended in TrainingDivergedError telling to lower the learning rate"),
    C("train y_val=1e300 into a float32 regression model",
      lambda c: _quiet(lambda: xpnet.train(xpnet.MLP([3, 4, 1], output="identity"), c.X, np.zeros(12),
                                           epochs=2, validation_data=(c.X[:2], [0.0, 1e300]))),
      IAE, "y_val holds values too large", "float32",
      found="as_targets (data.py:147) accepts y_val=1e300 for a float32 model: TrainingDivergedError blamed "
          "the learning rate"),
    C("train validation_data=X (not a pair)", train(validation_data=np.zeros((2, 3))), IAE,
      "validation_data", "pair (X_val, y_val)"),
    C("train X_val with NaN", train(validation_data=(np.full((2, 3), np.nan), [0, 1])), IAE,
      "X_val contains NaN or infinity"),
    C("train y_val with inf", train(validation_data=(np.zeros((2, 3)), [0.0, np.inf])), IAE,
      "y_val contains NaN or infinity"),
    C("train X_val with 2 columns", train(validation_data=(np.zeros((2, 2)), [0, 1])), IAE,
      "X_val has 2 features", "input layer has 3"),
    C("train X_val with no rows", train(validation_data=(np.zeros((0, 3)), [])), IAE, "X_val has no rows"),
    C("train y_val label 7", train(validation_data=(np.zeros((2, 3)), [0, 7])), IAE,
      "y_val has label 7", "range 0..2"),
    C("train y_val label column for a 2-unit sigmoid",
      train(model="sigmoid2", y=lambda c: np.eye(2)[c.y01], validation_data=(np.zeros((2, 3)), [0, 1])),
      IAE, "y_val is a single label column", "2 units"),
    C("train X_val/y_val length mismatch", train(validation_data=(np.zeros((2, 3)), [0, 1, 2])), IAE,
      "X_val and y_val", "2 rows", "y_val has 3",
      found="as_targets (data.py:110, called by train for validation_data) says 'X and y_val have different lengths: X has 2 "
          "rows': it names X for X_val"),
    C("train early stopping on val_loss without validation_data",
      train(early_stopping=xpnet.EarlyStopping(patience=2, monitor="val_loss")), IAE,
      "val_loss", "validation_data"),
    # mixed backends
    C("train X array_api_strict, y torch", train(X=lambda c: c.strict(c.X), y=lambda c: c.torch(c.y)), BME,
      "X is a array_api_strict array", "y is a torch array",
      found="get_backend (backend.py:318) says 'arrays from two backends were mixed: Backend(...) and Backend(...)' "
          "without saying which argument (X or y) is on which backend"),
    C("train X torch, y array_api_strict", train(X=lambda c: c.torch(c.X), y=lambda c: c.strict(c.y)), BME,
      "X is a torch array", "y is a array_api_strict array"),
    C("train array_api_strict data with backend='torch'",
      train(X=lambda c: (_need("torch"), c.strict(c.X))[1], y=lambda c: c.strict(c.y), backend="torch"), BME,
      "X is a array_api_strict array", "torch"),
    C("train torch data on an array_api_strict model, backend='array_api_strict'",
      train(model="softmax@array_api_strict", X=lambda c: c.torch(c.X), y=lambda c: c.torch(c.y),
            backend="array_api_strict"), BME, "X is a torch array", "array_api_strict"),
    C("train numpy data, array_api_strict validation data, backend='numpy'",
      train(val=lambda c: (c.strict(np.zeros((2, 3))), [0, 1]), backend="numpy"),
      BME, "X_val is a array_api_strict array", "numpy"),
    C("train torch X complex on a torch model",
      lambda c: _quiet(lambda: xpnet.train(c.model("softmax@torch"), c.torch(c.X.astype(np.complex128)), c.y,
                                           epochs=2)),
      ITE, "X must hold real numbers", "complex",
      found="as_features (data.py:64-65): on a non-NumPy backend a complex X is cast to the float dtype (the imaginary "
          "part dropped) instead of being refused like a complex NumPy X"),
    C("train checkpoint=123", train(checkpoint=123), ITE, "checkpoint", "123",
      found="train: checkpoint= was not checked up front; a bare TypeError came from the "
            "first save, after an epoch had been computed"),
    C("train checkpoint in a missing directory",
      lambda c: xpnet.train(c.model(), c.X, c.y, epochs=2, checkpoint=c.tmp / "no" / "such" / "ck.npz"),
      IAE, "cannot write", "ck.npz", "does not exist",
      found="train (training.py:309) / write_archive (io.py:79): a FileNotFoundError from the first save, after an epoch "
          "has been computed; the directory is not checked before training"),

    # ---- xpnet.gradcheck ---------------------------------------------------------------------
    C("gradcheck eps=0", lambda c: xpnet.gradcheck(c.model(), c.X, c.y, eps=0), IAE,
      "eps", "positive", "got 0"),
    C("gradcheck eps=-1e-6", lambda c: xpnet.gradcheck(c.model(), c.X, c.y, eps=-1e-6), IAE, "eps", "-1e-06"),
    C("gradcheck eps=nan", lambda c: xpnet.gradcheck(c.model(), c.X, c.y, eps=math.nan), IAE, "eps", "nan"),
    C("gradcheck eps=inf", lambda c: _quiet(lambda: xpnet.gradcheck(c.model(), c.X, c.y, eps=math.inf)), IAE,
      "eps", "inf", found="gradcheck (gradcheck.py:55) accepts eps=inf and returns NaN errors"),
    C("gradcheck eps='small'", lambda c: xpnet.gradcheck(c.model(), c.X, c.y, eps="small"), (ITE, IAE),
      "eps", "'small'", found="gradcheck (gradcheck.py:55) compares 'small' > 0: a bare TypeError, no XpnetError, eps not named"),
    C("gradcheck max_entries=0", lambda c: xpnet.gradcheck(c.model(), c.X, c.y, max_entries=0), IAE,
      "max_entries", "positive int or None", "got 0"),
    C("gradcheck max_entries=1.5", lambda c: xpnet.gradcheck(c.model(), c.X, c.y, max_entries=1.5), IAE,
      "max_entries", "1.5"),
    C("gradcheck model='m'", lambda c: xpnet.gradcheck("m", c.X, c.y), ITE, "model", "xpnet.MLP",
      found="gradcheck (gradcheck.py:60) calls model.astype: AttributeError ('str' object has no attribute 'astype')"),
    C("gradcheck X with NaN", lambda c: xpnet.gradcheck(c.model(), NAN_X(c), c.y), IAE, "X contains NaN"),
    C("gradcheck X/y length mismatch", lambda c: xpnet.gradcheck(c.model(), c.X, c.y[:2]), IAE,
      "different lengths", "y has 2"),
    C("gradcheck label out of range", lambda c: xpnet.gradcheck(c.model(), c.X, c.y + 3), IAE,
      "y has label", "range 0..2"),
    C("gradcheck torch X for a numpy model", lambda c: xpnet.gradcheck(c.model(), c.torch(c.X), c.y), BME,
      "X is a torch array", "numpy"),

    # ---- xpnet.save / xpnet.load ---------------------------------------------------------------
    C("save model='m'", lambda c: xpnet.save("m", c.tmp / "m.npz"), IAE, "model", "xpnet.MLP", "str",
      after=_no_file("m.npz")),
    C("save a model with NaN weights",
      lambda c: xpnet.save(xpnet.MLP([3, 2]).set_params([(np.full((3, 2), np.nan), np.zeros(2))]),
                           c.tmp / "nan.npz"),
      IAE, "W0", "NaN or infinity", after=_no_file("nan.npz")),
    C("save path=None", lambda c: xpnet.save(c.model(), None), ITE, "path", "None",
      found="write_archive (io.py:71) does not check path: a bare TypeError from pathlib, no XpnetError"),
    C("load a missing file", lambda c: xpnet.load(c.tmp / "missing.npz"), IFE, "missing.npz", "no such file"),
    C("load a directory", lambda c: xpnet.load(c.tmp), IFE, "not an xpnet file", "Is a directory"),
    C("load an empty file", write("empty.npz", b""), IFE, "empty.npz", "not a valid .npz archive"),
    C("load a text file", write("t.npz", b"hello"), IFE, "t.npz", "not an xpnet file"),
    C("load a plain .npz without the xpnet header",
      lambda c: (np.savez(c.tmp / "plain.npz", W0=np.zeros((3, 4))), xpnet.load(c.tmp / "plain.npz")),
      IFE, "plain.npz", "missing array '__xpnet__'"),
    C("load_checkpoint of a model file", lambda c: xpnet.io.load_checkpoint(c.saved()), IFE,
      "is a model file, not a training checkpoint"),
    C("load a file whose array member is bzip2-compressed", lambda c: xpnet.load(_bzip2_member(c)), IFE,
      "bzip2.npz", "compressed with bzip2", "stored or deflate",
      found="Archive.read_array (io.py:228) let zipfile decompress any method: a 1.5 KB file with a bzip2 "
          "member expanded to 600 MB in memory before it loaded"),
    C("load a file whose deflate stream starts at the wrong byte", lambda c: xpnet.load(_shifted_deflate(c)),
      IFE, "shifted.npz", "corrupt",
      found="Archive.read_array (io.py:252) does not catch zlib.error: a one-byte change in a local header "
          "escaped as zlib.error"),
    C("load_checkpoint with a step count t=10**20",
      lambda c: xpnet.io.load_checkpoint(_checkpoint_t(c, 10**20)), IFE, "ck.npz", "opt_state", "'t'",
      found="load_checkpoint (io.py:408) accepts any int >= 0: the resumed run crashed in Adam with "
          "OverflowError (int too large to convert to float)"),
    C("load backend='tpu'", lambda c: xpnet.load(c.saved(), backend="tpu"), IAE, "backend", "'tpu'"),
    C("load path=None (with a file named 'None' in the working directory)",
      lambda c: _in_dir_with_file_named_none(c), ITE, "path", "None",
      found="Archive.__init__ (io.py:122-124) turns path=None into str(None) and opens the file 'None' in the working directory"),
]


def _bzip2_member(c: Ctx) -> Path:
    """A copy of a good model file whose W0 member claims (and is) bzip2 compression."""
    out = c.tmp / "bzip2.npz"
    with zipfile.ZipFile(c.saved()) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name), zipfile.ZIP_BZIP2 if name == "W0.npy" else zipfile.ZIP_STORED)
    return out


def _shifted_deflate(c: Ctx) -> Path:
    """A deflate copy of a good model file with W0's extra-field length (local header) set to 1."""
    buf = io.BytesIO()
    with zipfile.ZipFile(c.saved()) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    data = bytearray(buf.getvalue())
    at = data.find(b"PK\x03\x04")
    while data[at + 30:at + 36] != b"W0.npy":
        at = data.find(b"PK\x03\x04", at + 4)
    data[at + 28] = 1
    out = c.tmp / "shifted.npz"
    out.write_bytes(bytes(data))
    return out


def _checkpoint_t(c: Ctx, t: int) -> Path:
    """A checkpoint (written by save_checkpoint, no training) whose Adam step count is ``t``."""
    model = xpnet.MLP([3, 4, 3], output="softmax")
    params = [a for pair in model.params for a in pair]
    opt = xpnet.optim.adam()
    state = {**opt.init(params), "t": t}
    rng = np.random.default_rng(0).bit_generator.state
    history = {"loss": [1.0], "accuracy": [0.5], "val_loss": [], "val_accuracy": []}
    train_state = {"epoch": 1, "rng": rng, "history": history}
    path = c.tmp / "ck.npz"
    xpnet.io.save_checkpoint(path, model, params, opt, state, train_state)
    return path


def _in_dir_with_file_named_none(c: Ctx):
    old = os.getcwd()
    os.chdir(c.tmp)
    try:
        xpnet.save(xpnet.MLP([3, 4, 3], output="softmax"), "None")
        return xpnet.load(None)
    finally:
        os.chdir(old)


# -- running a row ---------------------------------------------------------------------
def _tripwire(*args, **kwargs):
    raise ComputationStarted("the call reached forward/train_step before refusing its input")


@pytest.fixture
def tripwires(monkeypatch):
    """Replace every entry into the math with a tripwire for the duration of the test."""
    monkeypatch.setattr(MODEL, "forward", _tripwire)
    monkeypatch.setattr(TRAINING, "forward", _tripwire)
    monkeypatch.setattr(TRAINING, "train_step", _tripwire)
    monkeypatch.setattr(TRAINING, "_run_epoch", _tripwire)
    monkeypatch.setattr(GRADCHECK, "forward", _tripwire)


def check_case(case: Case, ctx: Ctx) -> BaseException:
    try:
        case.call(ctx)
    except ComputationStarted:
        pytest.fail(f"{case.id}: computation started before the bad input was refused")
    except Exception as exc:  # noqa: BLE001 - the checks below say what was wrong with it
        err = exc
    else:
        pytest.fail(f"{case.id}: no error was raised")
    message = str(err)
    assert isinstance(err, xpnet.XpnetError), f"{type(err).__name__} is not an XpnetError: {message}"
    assert isinstance(err, (ValueError, TypeError)), f"{type(err).__name__} is no ValueError/TypeError"
    wanted = " or ".join(e.__name__ for e in (case.exc if isinstance(case.exc, tuple) else (case.exc,)))
    assert isinstance(err, case.exc), f"expected {wanted}, got {type(err).__name__}: {message}"
    missing = [s for s in case.says if s not in message]
    assert not missing, f"message {message!r} lacks {missing}"
    ctx.assert_models_unchanged()
    if case.after is not None:
        case.after(ctx)
    return err


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input_is_refused_clearly_and_early(case, tmp_path, tripwires):
    check_case(case, Ctx(tmp_path))


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


# -- the same checks on arrays of each backend (the device path of xpnet.data) ------------
DEVICE_CASES = [
    # id, X(host) -> X, y, substrings
    ("X 1-D", lambda X, y: (X[:, 0], y), IAE, ("X must be 2-D",)),
    ("X with no rows", lambda X, y: (X[:0], y[:0]), IAE, ("X has no rows",)),
    ("X with 2 columns", lambda X, y: (X[:, :2], y), IAE, ("X has 2 features",)),
    ("X with NaN", lambda X, y: (np.where(X > 1, np.nan, X), y), IAE, ("X contains NaN",)),
    ("y shorter than X", lambda X, y: (X, y[:5]), IAE, ("different lengths", "y has 5")),
    ("y with inf", lambda X, y: (X, np.where(y > 1, np.inf, y)), IAE, ("y contains NaN or infinity",)),
    ("label out of range", lambda X, y: (X, y + 1), IAE, ("y has label 3", "range 0..2")),
    ("non-integer label", lambda X, y: (X, y + 0.25), IAE, ("integers",)),
]


@pytest.mark.parametrize("make, exc, says", [pytest.param(m, e, s, id=i) for i, m, e, s in DEVICE_CASES])
@pytest.mark.parametrize("entry", ["train", "gradients"])
def test_bad_arrays_of_the_models_backend(backend, tmp_path, tripwires, make, exc, says, entry):
    """Arrays already on the model's backend take another path through xpnet.data: same errors."""
    ctx = Ctx(tmp_path)
    model = ctx.model(f"softmax@{backend.spec}" if backend.name != "numpy" else "softmax")
    Xh, yh = make(ctx.X, ctx.y.astype(np.float64))
    X, y = backend.asarray(Xh), backend.asarray(yh)
    call = {"train": lambda c: xpnet.train(model, X, y, epochs=2),
            "gradients": lambda c: model.gradients(X, y)}[entry]
    check_case(Case(f"{entry}: {backend.name} arrays, {says[0]}", call, exc, says), ctx)


# -- documented non-errors next to the errors ------------------------------------------------
def test_model_and_data_on_two_non_numpy_backends_train_where_the_data_is(tmp_path):
    """README: backend=None trains where non-NumPy data lives (a copy of the model), then writes back."""
    _need("torch")
    ctx = Ctx(tmp_path)
    model = ctx.model("softmax@torch")
    before = _host_params(model)
    h = xpnet.train(model, ctx.strict(ctx.X), ctx.strict(ctx.y), epochs=2, lr=0.1)
    assert len(h.loss) == 2 and model.backend.name == "torch"
    assert any(not np.array_equal(a, b) for a, b in zip(before, _host_params(model)))


# -- printing the table -------------------------------------------------------------------------
def observed_table(tmp: Path) -> list[tuple[str, str, str]]:
    """Run every row outside pytest; return (id, exception type, message) rows."""
    rows = []
    for i, case in enumerate(CASES):
        d = tmp / f"case{i}"
        d.mkdir()
        ctx = Ctx(d)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                case.call(ctx)
        except BaseException as exc:  # noqa: BLE001
            rows.append((case.id, type(exc).__name__, str(exc).replace(str(d), "<tmp>")))
        else:
            rows.append((case.id, "(no error)", "-"))
    return rows


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for case_id, kind, message in observed_table(Path(tmp)):
            case = next(c for c in CASES if c.id == case_id)
            bug = " [OPEN BUG]" if case.bug else " [found a bug, since fixed]" if case.found else ""
            print(f"    {case_id}{bug}\n        {kind}: {message}")
    sys.exit(0)


def test_the_finiteness_check_is_exact_when_the_fast_sum_overflows(backend):
    """as_features checks X with one sum in X's dtype; finite data large enough to overflow that sum
    is checked exactly instead (accepted), and a NaN past the first block of rows is found."""
    from xpnet.data import as_features

    f64 = backend.dtype("float64")
    for name, value in (("float64", 1e307), ("float32", 1e37)):  # finite, but the sum is inf
        dtype = backend.dtype(name)
        big = np.full((50, 3), value, dtype=name)
        got = as_features(backend.asarray(big, dtype), 3, backend, dtype)
        np.testing.assert_array_equal(xpnet.to_numpy(got), big)
        np.testing.assert_array_equal(xpnet.to_numpy(as_features(big, 3, backend, dtype)), big)
    tall = np.zeros((3_000_000 // 2, 3))  # > one block of rows (2**22 entries)
    tall[-1, 2] = np.nan
    for X in (tall, backend.asarray(tall, f64)):
        with pytest.raises(xpnet.InvalidArgumentError, match="NaN or infinity"):
            as_features(X, 3, backend, f64)
