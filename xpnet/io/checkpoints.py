"""Training checkpoints: the model, the optimizer's state and the run's and callbacks' state in one archive."""

from __future__ import annotations


import os
from typing import Any

import numpy as np  # host side by design: files hold NumPy arrays

from ..backend import to_numpy
from ..errors import InvalidArgumentError
from ..model import MLP
from .files import Archive, _DTYPES, write_archive
from .models import _check_savable, _checked_config, _host_params, _version, read_params
from .fields import CHECKPOINT_FIELDS, _NAME, _plain_json, _show, _table


# -- training checkpoints ------------------------------------------------------
class Checkpoint(dict):
    """What :func:`load_checkpoint` returns: a dict with host (NumPy) arrays.

    Keys: ``config`` (architecture), ``params`` (flat ``[W0, b0, ...]``),
    ``optimizer`` (name and hyperparameters), ``opt_state`` (the optimizer
    state with NumPy arrays, and the learning rate), ``train`` (epoch,
    random-generator state, history, the batch settings the run was started
    with, and ``callbacks``: each callback's state by name, its arrays as NumPy
    arrays) and ``best_params`` (early stopping's copy of the best weights, or None).
    """


def _flat(pairs: list) -> list:
    return [a for pair in pairs for a in pair]




def save_checkpoint(path: str | os.PathLike, model: MLP, params: list, optimizer: Any, opt_state: dict,
                    train_state: dict) -> None:
    """Write a training checkpoint atomically: model, optimizer state, the loop's and callbacks' state."""
    _check_savable(model)
    arrays = _host_params(list(zip(params[0::2], params[1::2])))
    state_layout: dict[str, Any] = {}
    for key, value in opt_state.items():
        if isinstance(value, list):
            state_layout[key] = {"arrays": len(value)}
            for i, a in enumerate(value):
                arrays[f"opt.{key}.{i}"] = to_numpy(a)
        elif value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            state_layout[key] = value  # the step count, the learning rate
        else:
            raise InvalidArgumentError(f"cannot save optimizer state entry {key!r} of type {type(value).__name__}")
    callbacks = {key: _stash_arrays(arrays, key, state) for key, state in train_state.get("callbacks", {}).items()}
    header = {
        "format": "xpnet-checkpoint",
        "version": _version(model.config()),
        "model": model.config(),
        "optimizer": {"name": optimizer.name, "hyperparams": _plain_json(optimizer.hyperparams)},
        "opt_state": state_layout,
        "train": _plain_json({**train_state, "callbacks": callbacks}),
    }
    write_archive(path, header, arrays)


def _stash_arrays(arrays: dict, key: str, state: dict) -> dict:
    """A callback's state for the JSON header: its lists of arrays go to ``arrays`` as ``cb.KEY.FIELD.i``."""
    if not _NAME.match(key) or not all(isinstance(f, str) and _NAME.match(f) for f in state):
        raise InvalidArgumentError(f"callback state {key!r}: names must be identifiers (letters, digits, _)")
    out = {}
    for field, value in state.items():
        if isinstance(value, list) and value and all(hasattr(v, "shape") for v in value):
            host = [np.asarray(to_numpy(v)) for v in value]
            for i, a in enumerate(host):
                arrays[f"cb.{key}.{field}.{i}"] = a
            out[field] = {"arrays": [list(a.shape) for a in host]}
        else:
            out[field] = value
    return out


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by ``train(..., checkpoint=path)``, validating it first.

    Every field of the header is checked (:data:`CHECKPOINT_FIELDS`) before
    any state array is read; every array is checked for its dtype, shape and
    finiteness. Checkpoints written before callbacks kept their state are read too.
    """
    with Archive(path, "xpnet-checkpoint") as archive:
        header = archive.header
        config = _checked_config(archive, header.get("model"))
        params = _flat(read_params(archive, config))
        if isinstance(header.get("train"), dict):
            header["train"] = _upgrade_layout(archive, header, header["train"], config)
        ctx = {"header": header, "n_params": len(params), "shapes": [list(p.shape) for p in params]}
        problem = _table(CHECKPOINT_FIELDS)(header, ctx)
        if problem:
            raise archive.fail(f"corrupt checkpoint header: {problem.lstrip('.')}")
        dtype = _DTYPES[config["dtype"]]
        opt_state = _read_opt_state(archive, header["opt_state"], params, dtype)
        callbacks = _read_callbacks(archive, header["train"].get("callbacks", {}), dtype)
        best = callbacks.get("EarlyStopping", {}).get("best_params")
        return Checkpoint(config=config, params=params, optimizer=header["optimizer"], opt_state=opt_state,
                          best_params=best, train={**header["train"], "callbacks": callbacks})


def _read_callbacks(archive: Archive, states: dict, dtype: np.dtype) -> dict:
    """Each callback's state with its arrays read back (their shapes were checked with the header), finite."""
    out: dict[str, dict] = {}
    for key, state in states.items():
        out[key] = {}
        for field, value in state.items():
            if isinstance(value, dict) and "arrays" in value:
                value = [archive.read_array(f"cb.{key}.{field}.{i}", dtype, tuple(shape))
                         for i, shape in enumerate(value["arrays"])]
                if not all(np.isfinite(a).all() for a in value):
                    raise archive.fail(f"callback state {key}.{field} holds NaN or infinity")
            out[key][field] = value
    return out


def _upgrade_layout(archive: Archive, header: dict, state: dict, config: dict) -> dict:
    """Checkpoints written before callbacks kept early stopping's state in the run's own fields."""
    if "callbacks" in state:
        return state
    state = dict(state)
    stopping = state.pop("early_stopping", None)
    best, wait = state.pop("best", None), state.pop("wait", 0)
    state["callbacks"] = {}
    if stopping is not None:
        if not (isinstance(stopping, list) and len(stopping) == 3):
            raise archive.fail("corrupt checkpoint header: train.early_stopping must be [patience, min_delta, "
                               f"monitor]; got {_show(stopping)}")
        best_params = None
        if header.get("has_best") is True:
            names = [f"{kind}{l}" for l in range(len(config["sizes"]) - 1) for kind in ("W", "b")]
            for i, name in enumerate(names):
                if f"best.{name}.npy" not in archive.members:
                    raise archive.fail(f"missing array 'best.{name}'")
                archive.members[f"cb.EarlyStopping.best_params.{i}.npy"] = archive.members[f"best.{name}.npy"]
            best_params = {"arrays": _param_shapes(config)}
        history = state.get("history") if isinstance(state.get("history"), dict) else {}
        state["callbacks"]["EarlyStopping"] = {
            "patience": stopping[0], "min_delta": stopping[1], "monitor": stopping[2], "best": best,
            "wait": wait, "best_epoch": history.get("best_epoch"), "best_params": best_params}
    return state


def _param_shapes(config: dict) -> list[list[int]]:
    sizes = config["sizes"]
    return [shape for i, o in zip(sizes[:-1], sizes[1:]) for shape in ([i, o], [o])]


#: Optimizer-state arrays that are sums of squares: a negative entry would make a NaN step.
_NON_NEGATIVE_STATE = frozenset({"sum", "square_avg", "exp_avg_sq", "max_exp_avg_sq"})


def _read_opt_state(archive: Archive, layout: dict, params: list, dtype: np.dtype) -> dict[str, Any]:
    """The optimizer state, its arrays read after the header check: each with a parameter's shape, finite."""
    state: dict[str, Any] = {}
    for key, entry in layout.items():
        if not isinstance(entry, dict):
            state[key] = entry
            continue
        arrays = [archive.read_array(f"opt.{key}.{i}", dtype, p.shape) for i, p in enumerate(params)]
        for i, a in enumerate(arrays):
            if not np.isfinite(a).all():
                raise archive.fail(f"optimizer state {key!r} (array {i}) holds NaN or infinity")
            if key in _NON_NEGATIVE_STATE and (a < 0).any():
                raise archive.fail(f"optimizer state {key!r} (array {i}) holds negative sums of squares")
        state[key] = arrays
    return state
