"""Model files: the architecture (and class labels) in a JSON header, one array per parameter."""

from __future__ import annotations


import math
import os
from typing import Any

import numpy as np  # host side by design: files hold NumPy arrays

from ..activations import ACTIVATIONS
from ..backend import to_numpy
from ..errors import InvalidArgumentError, XpnetError
from ..model import MLP
from .files import Archive, CLASSES_VERSION, FORMAT_VERSION, MAX_CLASS_CHARS, MAX_LAYERS, MAX_PARAMS, _DTYPES, write_archive


# -- writing ---------------------------------------------------------------
def check_builtin_activations(model: MLP, what: str = "saved by name") -> None:
    """Refuse a model with a custom activation function: only the built-in ones have a name a file can hold."""
    for act in model.activations:
        if ACTIVATIONS.get(act.name) is not act:
            raise InvalidArgumentError(
                f"activation {act.name!r} is a custom function; only the built-in activations "
                f"({', '.join(ACTIVATIONS)}) can be {what}"
            )


def _check_savable(model: MLP) -> None:
    check_builtin_activations(model)


def _host_params(params: list) -> dict[str, np.ndarray]:
    arrays = {}
    for l, (W, b) in enumerate(params):
        arrays[f"W{l}"] = to_numpy(W)
        arrays[f"b{l}"] = to_numpy(b)
    return arrays



def save(model: MLP, path: str | os.PathLike) -> None:
    """Save a model's architecture, dtype and parameters to ``path`` (an ``.npz`` file).

    Raises
    ------
    InvalidArgumentError
        The parameters hold NaN or infinity, or an activation is a custom function.
    """
    if not isinstance(model, MLP):
        raise InvalidArgumentError(f"model must be an xpnet.MLP; got {type(model).__name__}")
    _check_savable(model)
    config = model.config()
    header = {"format": "xpnet-model", "version": _version(config), "model": config}
    write_archive(path, header, _host_params(model.params))



def _checked_config(archive: Archive, config: Any) -> dict:
    """Validate the architecture from a header before anything is allocated for it."""
    if not isinstance(config, dict):
        raise archive.fail("header has no model architecture")
    sizes = config.get("sizes")
    if (not isinstance(sizes, list) or not 2 <= len(sizes) <= MAX_LAYERS + 1
            or not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_PARAMS for s in sizes)):
        raise archive.fail(f"bad layer sizes {str(sizes)[:80]!r}")
    n_params = sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMS:
        raise archive.fail(f"declares {n_params} parameters, more than the limit of {MAX_PARAMS}")
    if not isinstance(config.get("dtype"), str) or config["dtype"] not in _DTYPES:
        raise archive.fail(f"bad dtype {config.get('dtype')!r}; expected float32 or float64")
    hidden = config.get("hidden")
    if not isinstance(hidden, list) or len(hidden) != len(sizes) - 2:
        raise archive.fail("hidden activations do not match the layer sizes")
    for key in ("output", "loss", "init"):
        if not isinstance(config.get(key), str):
            raise archive.fail(f"bad {key!r} in the header")
    if not all(isinstance(h, str) for h in hidden):
        raise archive.fail("bad hidden activation names")
    scale = config.get("init_scale")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (0 < scale < math.inf):
        raise archive.fail("bad init_scale in the header")
    seed = config.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise archive.fail("bad seed in the header")
    if "classes" in config:
        _check_classes_field(archive, config["classes"], sizes[-1])
    return config


def _version(config: dict) -> int:
    return CLASSES_VERSION if "classes" in config else FORMAT_VERSION


def _check_classes_field(archive: Archive, classes: Any, n_out: int) -> None:
    """``classes`` in a header: a version-2 list of at most ``max(n_out, 2)`` labels, all text of bounded
    length, all int64 integers, all finite floats or all bools (the model then checks the count,
    the order and that they are distinct)."""
    if archive.header.get("version", 0) < CLASSES_VERSION:
        raise archive.fail(f"holds class labels but says format version {archive.header.get('version')!r} "
                           f"(class labels came with version {CLASSES_VERSION})")
    if not isinstance(classes, list) or not 1 <= len(classes) <= max(n_out, 2):
        raise archive.fail(f"bad classes in the header (a list of up to {max(n_out, 2)} labels expected)")
    kinds = {type(c) for c in classes}
    ok = len(kinds) == 1 and (
        (str in kinds and all(len(c) <= MAX_CLASS_CHARS for c in classes))
        or (int in kinds and all(-2**63 <= c < 2**63 for c in classes))
        or (float in kinds and all(math.isfinite(c) for c in classes))
        or bool in kinds)
    if not ok:
        raise archive.fail("bad classes in the header (labels must be all text, all integers, all finite "
                           "numbers or all booleans)")


def read_params(archive: Archive, config: dict, prefix: str = "") -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(W, b)`` arrays of ``config``'s architecture, each checked before it is read."""
    dtype = _DTYPES[config["dtype"]]
    sizes = config["sizes"]
    params = []
    for l, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = archive.read_array(f"{prefix}W{l}", dtype, (i, o))
        b = archive.read_array(f"{prefix}b{l}", dtype, (o,))
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise archive.fail(f"layer {l} holds NaN or infinity")
        params.append((W, b))
    return params


def build_model(archive: Archive, config: Any, params: list, backend: Any) -> MLP:
    try:
        return MLP.from_config(config, params, backend=backend)
    except (InvalidArgumentError, TypeError, KeyError) as exc:
        if isinstance(exc, XpnetError) and "backend" in str(exc):
            raise
        raise archive.fail(f"invalid architecture in the header ({exc})") from None


def load(path: str | os.PathLike, backend: Any = "numpy") -> MLP:
    """Load a model saved by :func:`save` (or the model inside a checkpoint) onto ``backend``.

    Raises
    ------
    InvalidFileError
        Missing, truncated, corrupt, hostile or non-xpnet file; a newer format version.
    """
    with Archive(path, "xpnet-model") as archive:
        config = _checked_config(archive, archive.header.get("model"))
        params = read_params(archive, config)
        return build_model(archive, config, params, backend)
