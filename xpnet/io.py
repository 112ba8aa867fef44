"""Model files and training checkpoints: NumPy ``.npz`` archives, loaded without pickle.

A file holds a JSON header (format name, format version, architecture,
dtype, and for checkpoints the optimizer, epoch, random-generator state and
history) stored as a byte array under ``__xpnet__``, and one plain ``.npy``
member per array.

Files are untrusted input. Loading opens only regular files (not a FIFO, a
device or a directory), never unpickles anything, refuses members compressed
with anything but the two methods a ``.npz`` file uses (stored, deflate) before
decompressing them, and checks the header, every member's declared dtype and
shape against the declared architecture, and the member sizes, *before*
reading array data; checkpoints have every field of their training state
checked (types, shapes, ranges, finiteness). A truncated, corrupt or hostile
file gets an :class:`~xpnet.errors.InvalidFileError` that names it, never an
error from the zip or zlib layer, a crash, a hang or a huge allocation.

Files are written to a temporary file ``.NAME.PID.XXXXXXXX.tmp`` in the same
directory, flushed to disk and renamed over the target, so the file at
``path`` is always either the old one or the complete new one. SIGINT
(Ctrl-C) and SIGTERM are held until the write is done, whichever thread
receives them. A write removes only its own target's temporaries, and only
those of writers that are provably gone.

Arrays are stored on the host in the model's dtype, so a file written from
one backend loads on any other.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import stat
import struct
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

import numpy as np  # host side by design: files hold NumPy arrays

from .activations import ACTIVATIONS
from .backend import to_numpy
from .errors import InvalidArgumentError, InvalidFileError, InvalidTypeError, XpnetError
from .model import MLP
from .validation import check_output_path
from .optim import OPTIMIZERS

__all__ = ["save", "load", "InvalidFileError", "FORMAT_VERSION", "CLASSES_VERSION", "MAX_LAYERS", "MAX_PARAMS"]

#: Version of the file layout written for a model without class labels (what every xpnet reads).
FORMAT_VERSION = 1
#: Version 2 adds the model's class labels (``model.classes``) to the header. Only a model that has
#: them is written as version 2, so an older xpnet refuses it ("upgrade xpnet") rather than loading
#: a model that would predict 0/1 instead of "cat"/"dog". Files of a newer version are refused.
CLASSES_VERSION = 2
#: Longest class label (text) a file may hold, in characters.
MAX_CLASS_CHARS = 10_000
#: Limits a file must respect before anything is allocated for it.
MAX_LAYERS = 1_000
MAX_PARAMS = 2**31  # scalars in all arrays of one file together
MAX_HEADER_BYTES = 16 * 2**20
_HEADER = "__xpnet__"
_MAX_DEFLATE_RATIO = 1100  # deflate cannot compress better than about 1032:1
_DTYPES = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}
#: The only compression methods a member may claim: what np.savez (stored) and
#: np.savez_compressed (deflate) write. zipfile bounds the output of these by the read size;
#: bzip2 and lzma it decompresses a whole input block at once (a 1.5 KB bzip2 member gives
#: 600 MB), and lzma's header may ask for a 4 GiB dictionary.
_COMPRESSION_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ZIP_FLAGS_REFUSED = 0x1 | 0x20 | 0x40  # encrypted, patched data, strong encryption
#: What the zip, zlib and .npy layers raise on a corrupt archive; read as InvalidFileError.
_ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, struct.error, ValueError,
                   NotImplementedError, RuntimeError, KeyError, IndexError, TypeError, SyntaxError,
                   OverflowError, MemoryError)
#: Signals held until a file write is done (where the platform has them).
_DEFERRED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))
#: A temporary file of a writer that is gone is removed once nobody has written to it for this long.
STALE_TEMPORARY_SECONDS = 60.0


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


def _check_path(path: Any, name: str = "path") -> None:
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise InvalidTypeError(f"{name} must be a file name (str or os.PathLike); got {path!r}")


def check_writable(path: Any, name: str = "path") -> None:
    """Raise a clear error now if ``path`` cannot be written later (see ``validation.check_output_path``)."""
    _check_path(path, name)
    check_output_path(name, path)


@contextlib.contextmanager
def _interrupts_deferred():
    """Hold SIGINT (Ctrl-C) and SIGTERM until the block is done, so a write is never left half made.

    The Python-level handlers of both signals are swapped for one that only
    records what arrives; afterwards the handlers are restored and each
    recorded signal is raised again, so a ``KeyboardInterrupt`` (or whatever
    the handler does; with SIGTERM's default action, termination) happens
    right after the block. This holds whichever thread the kernel delivers
    the signal to: CPython runs Python-level handlers in the main thread in
    any case. (Blocking the signals in the main thread with ``pthread_sigmask``
    does not: the kernel then hands them to another thread, a BLAS worker for
    instance, and the main thread's handler interrupts the write all the same.)

    Only the main thread may install handlers; in another thread this is a
    no-op (Ctrl-C then interrupts the main thread, not the write, but
    SIGTERM's default action still ends the process). An ignored signal stays
    ignored, and a handler not installed from Python is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    try:
        for sig in _DEFERRED_SIGNALS:
            handler = signal.getsignal(sig)
            if handler is not None and handler != signal.SIG_IGN:
                previous[sig] = signal.signal(sig, lambda signum, frame: received.append(signum))
    except ValueError:  # not the main interpreter: nothing is held
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(received):  # each signal once, in the order they came
            signal.raise_signal(sig)


def write_archive(path: str | os.PathLike, header: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``header`` and ``arrays`` to ``path`` atomically (temporary file, fsync, rename).

    SIGINT (Ctrl-C) and SIGTERM are held for the duration of the write, so they land after it.
    """
    check_writable(path)
    for name, a in arrays.items():
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise InvalidArgumentError(
                f"refusing to save {name}: it contains NaN or infinity (training diverged?)"
            )
    blob = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    write_file(path, lambda fh: np.savez(fh, **{_HEADER: blob, **arrays}))


def write_file(path: str | os.PathLike, write: Callable[[Any], Any]) -> None:
    """Write a file atomically: ``write(fh)`` fills a temporary file beside ``path``, which is
    fsynced and renamed over ``path``; SIGINT and SIGTERM are held until it is done."""
    check_writable(path)
    with _interrupts_deferred():
        _write_atomically(Path(path), write)


def _write_atomically(path: Path, write: Callable[[Any], Any]) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    _remove_stale_temporaries(directory, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _remove_stale_temporaries(directory: Path, name: str) -> None:
    """Remove the temporaries of target ``name`` left by writers that were killed.

    A temporary is ``.NAME.PID.XXXXXXXX.tmp``. It is removed only when process
    PID no longer exists here *and* nobody has written to it for
    :data:`STALE_TEMPORARY_SECONDS` (the age guards against a PID seen from
    another PID namespace or host sharing the folder). Temporaries of other
    targets, of running writers, and files named otherwise are never touched.
    """
    if os.name != "posix":  # os.kill(pid, 0) cannot probe a process elsewhere
        return
    own = re.compile(re.escape(f".{name}.") + r"(\d+)\.[a-z0-9_]+\.tmp")
    now = time.time()
    for candidate in directory.glob(f".{glob_escape(name)}.*.tmp"):
        match = own.fullmatch(candidate.name)
        if match is None or _process_exists(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            if now - candidate.lstat().st_mtime >= STALE_TEMPORARY_SECONDS:
                candidate.unlink()


def _process_exists(pid: int) -> bool:
    """True unless process ``pid`` provably does not exist (a PID out of range counts as existing)."""
    if pid == os.getpid() or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: it exists, owned by another user
        return True
    return True


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


# -- reading ---------------------------------------------------------------
_FILE_KINDS = ((stat.S_ISDIR, "Is a directory"), (stat.S_ISFIFO, "Is a named pipe (FIFO)"),
               (stat.S_ISCHR, "Is a character device"), (stat.S_ISBLK, "Is a block device"),
               (stat.S_ISSOCK, "Is a socket"))


def _not_regular(mode: int) -> str | None:
    """What a file of ``mode`` is when it is not a regular file (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _FILE_KINDS if test(mode)), "Is not a regular file")


def _open_regular(path: str) -> tuple[Any, int]:
    """Open ``path`` for reading if it is a regular file; return the file and its size.

    A FIFO, a device (a symlink to /dev/zero), a directory or a socket is
    refused before it is read: each would hang or read without end. The check
    is made on the path and again on the open file (the name may change in
    between); the open itself does not block, even on a FIFO.
    """
    def refuse(kind: str) -> InvalidFileError:
        return InvalidFileError(f"{path}: not an xpnet file: {kind}; a model or checkpoint is a regular file")

    try:
        kind = _not_regular(os.stat(path).st_mode)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = None if kind else os.open(path, flags)
    except FileNotFoundError:
        raise InvalidFileError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:  # permissions, a name too long, a NUL byte in the name
        raise InvalidFileError(f"{path}: cannot open it ({exc})") from None
    if fd is None:
        raise refuse(kind)
    try:
        info = os.fstat(fd)
        kind = _not_regular(info.st_mode)
        if kind is not None:
            raise refuse(kind)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), info.st_size
    except BaseException:
        os.close(fd)
        raise


class Archive:
    """A validated view of an xpnet ``.npz`` file: header first, arrays on request."""

    def __init__(self, path: str | os.PathLike, expect: str) -> None:
        _check_path(path)
        self.path = str(path)
        self.file, self.size = _open_regular(self.path)
        self.zip = None
        try:
            self.zip = zipfile.ZipFile(self.file)
            self.members = {info.filename: info for info in self.zip.infolist()}
            self.header = self._read_header(expect)
        except InvalidFileError:
            self.close()
            raise
        except _ARCHIVE_ERRORS as exc:
            self.close()
            raise self.fail(f"not an xpnet file (not a valid .npz archive: {exc})") from None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()
        self.file.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def fail(self, message: str) -> InvalidFileError:
        return InvalidFileError(f"{self.path}: {message}")

    def _read_header(self, expect: str) -> dict:
        raw = self.read_array(_HEADER, np.dtype(np.uint8), None, limit=MAX_HEADER_BYTES)
        try:
            header = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # incl. huge int literals
            raise self.fail(f"corrupt header ({exc})") from None
        if not isinstance(header, dict) or header.get("format") not in ("xpnet-model", "xpnet-checkpoint"):
            raise self.fail("not an xpnet file (unknown format)")
        version = header.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise self.fail(f"bad format version {version!r}")
        if version > CLASSES_VERSION:
            raise self.fail(
                f"written by a newer xpnet (format version {version}; this one reads up to "
                f"{CLASSES_VERSION}); upgrade xpnet"
            )
        if expect == "xpnet-checkpoint" and header["format"] != expect:
            raise self.fail("is a model file, not a training checkpoint")
        return header

    def _member(self, name: str) -> zipfile.ZipInfo:
        """The zip entry of array ``name``, once its sizes, method and flags promise a bounded read."""
        info = self.members.get(name + ".npy")
        if info is None:
            raise self.fail(f"missing array {name!r}")
        if info.compress_type not in _COMPRESSION_METHODS:
            method = zipfile.compressor_names.get(info.compress_type, "an unknown method")
            raise self.fail(f"array {name!r} is compressed with {method} (zip method {info.compress_type}); "
                            "xpnet files hold stored or deflate members only")
        if info.flag_bits & _ZIP_FLAGS_REFUSED:
            raise self.fail(f"array {name!r} is encrypted or patched, which xpnet files never are")
        if info.compress_size > self.size or (
                info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size):
            raise self.fail(f"array {name!r} is truncated (the archive is smaller than it declares)")
        if info.file_size > _MAX_DEFLATE_RATIO * max(info.compress_size, 1):
            raise self.fail(f"array {name!r} declares an impossible compression ratio (a zip bomb?)")
        return info

    def read_array(self, name: str, dtype: np.dtype, shape: tuple | None, limit: int | None = None) -> np.ndarray:
        """Read member ``name`` after checking its declared dtype, shape and byte size."""
        info = self._member(name)
        try:
            with self.zip.open(info) as fh:
                got_shape, nbytes = self._npy_header(fh, name, dtype, shape, limit)
                if info.file_size < fh.tell() + nbytes:
                    raise self.fail(f"array {name!r} is truncated")
                data = _read_exactly(fh, nbytes)  # grows only as real data arrives
        except InvalidFileError:
            raise
        except _ARCHIVE_ERRORS as exc:
            raise self.fail(f"array {name!r} is corrupt ({_error_name(exc)}: {exc})") from None
        if len(data) != nbytes:
            raise self.fail(f"array {name!r} is truncated")
        return np.frombuffer(data, dtype=dtype).reshape(got_shape).copy()

    def _npy_header(self, fh: Any, name: str, dtype: np.dtype, shape: tuple | None,
                    limit: int | None) -> tuple[tuple, int]:
        """Read and check a member's .npy header; return its shape and data size in bytes."""
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            got_shape, fortran, got_dtype = np.lib.format.read_array_header_1_0(fh, max_header_size=10_000)
        elif version == (2, 0):
            got_shape, fortran, got_dtype = np.lib.format.read_array_header_2_0(fh, max_header_size=10_000)
        else:
            raise self.fail(f"array {name!r} has an unsupported .npy version {version}")
        if got_dtype.hasobject or got_dtype != dtype:
            raise self.fail(f"array {name!r} has dtype {got_dtype}, expected {dtype}")
        if fortran or len(got_shape) > 2:
            raise self.fail(f"array {name!r} has an unexpected layout")
        if shape is not None and tuple(got_shape) != tuple(shape):
            raise self.fail(f"array {name!r} has shape {tuple(got_shape)}, but the declared "
                            f"architecture needs {tuple(shape)}")
        nbytes = math.prod(got_shape) * dtype.itemsize
        if limit is not None and nbytes > limit:
            raise self.fail(f"array {name!r} is larger than allowed ({nbytes} bytes)")
        return tuple(got_shape), nbytes


def _error_name(exc: BaseException) -> str:
    kind = type(exc)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _read_exactly(fh: Any, nbytes: int, chunk: int = 1 << 24) -> bytes:
    """Read ``nbytes`` in chunks, so a member that claims more data than it has costs no more memory."""
    parts, remaining = [], nbytes
    while remaining > 0:
        part = fh.read(min(remaining, chunk))
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


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


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


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


def _plain_json(value: Any) -> Any:
    """``value`` with tuples as lists and NumPy arrays and scalars as Python lists and numbers.

    (The state of an MT19937, Philox or SFC64 generator holds arrays.)
    """
    if isinstance(value, dict):
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    return value


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


# -- the checkpoint header, field by field ------------------------------------------
# A check takes a value and a context and returns None when the value is what ``train`` writes,
# else what is wrong with it. The context holds the whole header ("header") and the number of
# parameter arrays ("n_params"). A table maps each key of a dict to (required, check), checked in
# the table's order (so a later check may rely on an earlier field, e.g. train.epoch); ``_table``
# makes the check of such a dict. A new piece of state (a callback's own dict under one key) is one
# more row, with ``_table({...})`` of its own fields as its check. Keys no table names are ignored.
Check = Callable[[Any, dict], "str | None"]

#: Step and epoch counts: exact in float64 (the optimizers use them as floats), and beyond any run.
MAX_COUNT = 2**53


def _table(fields: dict[str, tuple[bool, Check]]) -> Check:
    """The check of a dict whose keys ``fields`` maps to ``(required, check)``.

    Its problems read ``.key: what is wrong`` (``.key.inner: ...`` for a nested table).
    """
    def check(value: Any, ctx: dict) -> str | None:
        if not isinstance(value, dict):
            return f"must be a dict; got {_show(value)}"
        for key, (required, field_check) in fields.items():
            problem = field_check(value[key], ctx) if key in value else "missing" if required else None
            if problem:
                return f".{key}{problem}" if problem.startswith(".") else f".{key}: {problem}"
        return None
    return check


def _show(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float range
        return False


def _epoch(ctx: dict) -> int:
    return ctx["header"]["train"]["epoch"]  # checked before any check that calls this


def _int_in(low: int, high: float | Callable[[dict], int] = MAX_COUNT) -> Check:
    def check(value: Any, ctx: dict) -> str | None:
        top = high(ctx) if callable(high) else high
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an int; got {_show(value)}"
        return None if low <= value <= top else f"must be in [{low}, {top}]; got {_show(value)}"
    return check


def _number_in(low: float = -math.inf, high: float = math.inf, high_open: bool = False) -> Check:
    def check(value: Any, ctx: dict) -> str | None:
        if not _finite(value):
            return f"must be a finite number; got {_show(value)}"
        inside = low <= value and (value < high if high_open else value <= high)
        return None if inside else f"must be in [{low}, {high}{')' if high_open else ']'}; got {value!r}"
    return check


def _optional(check: Check) -> Check:
    return lambda value, ctx: None if value is None else check(value, ctx)


def _boolean(value: Any, ctx: dict) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false; got {_show(value)}"


def _series(low: float = -math.inf, high: float = math.inf,
            length: Callable[[dict], tuple[int, int]] = lambda ctx: (_epoch(ctx), _epoch(ctx))) -> Check:
    """A list of finite floats (as ``History`` keeps them) in [low, high] whose length is in the
    range ``length(ctx)`` gives."""
    in_range = _number_in(low, high)

    def values(v: Any, ctx: dict) -> str | None:
        return in_range(v, ctx) if isinstance(v, float) else f"must be a float; got {_show(v)}"

    def check(value: Any, ctx: dict) -> str | None:
        if not isinstance(value, list):
            return f"must be a list of numbers; got {_show(value)}"
        shortest, longest = length(ctx)
        if not shortest <= len(value) <= longest:
            wanted = shortest if shortest == longest else f"{shortest} to {longest}"
            return f"has {len(value)} entries, not {wanted} (after {_epoch(ctx)} epochs)"
        bad = next((i for i, v in enumerate(value) if values(v, ctx)), None)
        return None if bad is None else f"entry {bad}: {values(value[bad], ctx)}"
    return check


def _classifier(ctx: dict) -> bool:
    return ctx["header"]["model"]["output"] in ("sigmoid", "softmax")  # accuracy is kept for these


def _accuracies(ctx: dict) -> tuple[int, int]:
    n = _epoch(ctx) if _classifier(ctx) else 0
    return n, n


def _validations(ctx: dict) -> tuple[int, int]:
    return 0, _epoch(ctx)  # validation data may join (or leave) a resumed run


def _val_accuracies(ctx: dict) -> tuple[int, int]:
    n = len(ctx["header"]["train"]["history"]["val_loss"]) if _classifier(ctx) else 0
    return n, n


def _early_stopping(value: Any, ctx: dict) -> str | None:
    """None, or [patience, min_delta, monitor] as train writes it."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3:
        return f"must be null or [patience, min_delta, monitor]; got {_show(value)}"
    patience, min_delta, monitor = value
    if monitor not in ("loss", "val_loss"):
        return f"monitor must be 'loss' or 'val_loss'; got {_show(monitor)}"
    return _int_in(1)(patience, ctx) or _number_in(0)(min_delta, ctx)


_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def _rng_state(value: Any, ctx: dict) -> str | None:
    """The state of a NumPy bit generator, exactly as NumPy writes it (read back to compare)."""
    if not isinstance(value, dict) or value.get("bit_generator") not in _BIT_GENERATORS:
        return f"must be the state of a NumPy bit generator ({', '.join(_BIT_GENERATORS)})"
    if not _words(value) or value.get("has_uint32", 0) not in (0, 1):
        return "holds a value that is no machine word"
    generator = getattr(np.random, value["bit_generator"])()
    try:
        generator.state = value
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        return f"is no {value['bit_generator']} state ({exc})"
    return None if _plain_json(generator.state) == value else f"is no {value['bit_generator']} state"


def _words(value: Any, depth: int = 0) -> bool:
    """True if ``value`` nests (shallowly) only strings and integers in [0, 2**128)."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return depth < 3 and len(value) <= 1024 and all(_words(v, depth + 1) for v in value)
    if isinstance(value, str):
        return True
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**128


def _optimizer(value: Any, ctx: dict) -> str | None:
    """{"name": str, "hyperparams": {str: number, bool, null or a short list of numbers}}."""
    name = value.get("name") if isinstance(value, dict) else None
    if not isinstance(name, str) or not 0 < len(name) <= 100:
        return f"must be {{'name': ..., 'hyperparams': {{...}}}}; got {_show(value)}"
    hyper = value.get("hyperparams")
    if not isinstance(hyper, dict):
        return f"hyperparams must be a dict; got {_show(hyper)}"
    for key, v in hyper.items():
        plain = v is None or isinstance(v, bool) or _finite(v)
        if not plain and not (isinstance(v, list) and len(v) <= 8 and all(_finite(x) for x in v)):
            return (f"hyperparameter {key!r} must be a finite number, a bool or a list of numbers; "
                    f"got {_show(v)}")
    return None


def _expected_opt_state(spec: dict) -> tuple[dict[str, str] | None, str | None]:
    """What a built-in optimizer keeps in its state, entry by entry: "count", "none" or "arrays".

    Asked of the optimizer itself (built from the saved hyperparameters, state
    made for a one-element stand-in). ``(None, None)`` for an optimizer that
    is not built in; ``(None, problem)`` when the hyperparameters do not build it.
    """
    factory = OPTIMIZERS.get(spec["name"])
    if factory is None:
        return None, None
    try:
        state = factory(**spec["hyperparams"]).init([np.zeros(1)])
    except (XpnetError, TypeError, ValueError) as exc:
        return None, f"its hyperparameters do not make a {spec['name']} optimizer ({exc})"
    return {k: "arrays" if isinstance(v, list) else "none" if v is None else "rate" if isinstance(v, float)
            else "count" for k, v in state.items()}, None


def _opt_state(value: Any, ctx: dict) -> str | None:
    """Each entry a count, null or {"arrays": one per parameter}; for a built-in optimizer
    exactly the entries it keeps, each of the right kind, and the step count ``t`` no less
    than the epochs (every epoch takes at least one step)."""
    if not isinstance(value, dict):
        return f"must be a dict; got {_show(value)}"
    expected, problem = _expected_opt_state(ctx["header"]["optimizer"])
    if problem:
        return problem
    if expected is not None and set(value) - {"lr"} == set(expected) - {"lr"}:
        expected = {k: v for k, v in expected.items() if k in value}  # written before the rate was kept
    if expected is not None and set(value) != set(expected):
        return f"has entries {sorted(value)}; the optimizer keeps {sorted(expected)}"
    for key, entry in value.items():
        kind = expected[key] if expected else ("arrays" if isinstance(entry, dict) else "none" if entry is None
                                               else "rate" if isinstance(entry, float) else "count")
        problem = _state_entry(kind, entry, ctx, low=_epoch(ctx) if expected and key == "t" else 0)
        if problem:
            return f"entry {key!r} {problem}"
    return None


def _state_entry(kind: str, entry: Any, ctx: dict, low: int) -> str | None:
    if kind == "arrays":
        if entry != {"arrays": ctx["n_params"]} or isinstance(entry["arrays"], bool):
            return f"must be {{'arrays': {ctx['n_params']}}} (one array per parameter); got {_show(entry)}"
        return None
    if kind == "none":
        return None if entry is None else f"must be null; got {_show(entry)}"
    if kind == "rate":
        return _positive(entry, ctx)
    problem = _int_in(low)(entry, ctx)
    return f"{problem} (a step count: at least one step per epoch)" if problem and low else problem


def _positive(value: Any, ctx: dict) -> str | None:
    return _number_in(0)(value, ctx) or (None if value > 0 else f"must be positive; got {value!r}")


def _arrays(value: Any, ctx: dict, exact: bool = False) -> str | None:
    """``{"arrays": [shape, ...]}``: a callback's list of arrays, bounded by the model's size (the
    parameters' own shapes when ``exact``, for a copy of the weights)."""
    shapes = value.get("arrays") if isinstance(value, dict) else None
    if not isinstance(shapes, list) or not 0 < len(shapes) <= 2 * MAX_LAYERS or not all(
            isinstance(sh, list) and len(sh) <= 2 and all(_int_in(0)(d, ctx) is None for d in sh) for sh in shapes):
        return f"must be {{'arrays': [shape, ...]}}; got {_show(value)}"
    if exact and shapes != ctx["shapes"]:
        return f"must hold arrays of the parameters' shapes {ctx['shapes']}; got {shapes}"
    if sum(math.prod(sh) for sh in shapes) > 4 * sum(math.prod(sh) for sh in ctx["shapes"]):
        return "declares more data than four copies of the model's parameters"
    return None


def _callback_value(value: Any, ctx: dict, depth: int = 0) -> str | None:
    """Any other callback's state value: JSON numbers (finite), strings, bools, null, short lists and
    dicts of those, or a list of arrays."""
    if isinstance(value, dict) and set(value) == {"arrays"}:
        return _arrays(value, ctx)
    if value is None or isinstance(value, (bool, str)) or _finite(value):
        return None
    if isinstance(value, (list, dict)) and depth < 4 and len(value) <= 10_000:
        items = value.values() if isinstance(value, dict) else value
        return next((p for v in items if (p := _callback_value(v, ctx, depth + 1))), None)
    return f"holds {_show(value)} (only finite numbers, strings, bools and lists of them are saved)"


def _callbacks(value: Any, ctx: dict) -> str | None:
    if not isinstance(value, dict) or len(value) > 100:
        return f"must be a dict of callback states; got {_show(value)}"
    for key, state in value.items():
        if not isinstance(key, str) or not _NAME.match(key) or not isinstance(state, dict) or not all(
                isinstance(f, str) and _NAME.match(f) for f in state):
            return f"{key!r} must be a callback's name and its state, a dict of named fields"
        table = CALLBACK_TABLES.get(key)
        problem = (_table(table)(state, ctx) if table else
                   next((f".{f}: {p}" for f, v in state.items() if (p := _callback_value(v, ctx))), None))
        if problem:
            return f".{key}{problem}" if problem.startswith(".") else f".{key}: {problem}"
    return None


#: ``History.as_dict()``: one loss per epoch; accuracies for classifiers; validation series for the
#: epochs that had validation data (val_loss before val_accuracy, whose length it sets).
HISTORY_FIELDS: dict[str, tuple[bool, Check]] = {
    "loss": (True, _series()),
    "accuracy": (True, _series(0, 1, _accuracies)),
    "val_loss": (True, _series(length=_validations)),
    "val_accuracy": (True, _series(0, 1, _val_accuracies)),
    "lr": (False, _series(0)),
    "best_epoch": (False, _optional(_int_in(0, lambda ctx: _epoch(ctx) - 1))),
    "stopped_early": (False, _boolean),
    "seconds": (False, _number_in(0)),
}

#: Early stopping's state (``EarlyStopping.state_dict``).
EARLY_STOPPING_FIELDS: dict[str, tuple[bool, Check]] = {
    "patience": (True, _int_in(1)),
    "min_delta": (True, _number_in(0)),
    "monitor": (True, lambda v, ctx: None if v in ("loss", "val_loss") else f"must be 'loss' or 'val_loss'; "
                                                                           f"got {_show(v)}"),
    "best": (False, _optional(_number_in())),
    "wait": (False, _int_in(0, _epoch)),
    "best_epoch": (False, _optional(_int_in(0, lambda ctx: _epoch(ctx) - 1))),
    "best_params": (False, _optional(lambda v, ctx: _arrays(v, ctx, exact=True))),
}

#: ``ReduceLROnPlateau.state_dict``.
PLATEAU_FIELDS: dict[str, tuple[bool, Check]] = {
    "best": (False, _optional(_number_in())),
    "wait": (True, _int_in(0, _epoch)),
    "cooling": (True, _int_in(0)),
}

#: The state of the built-in callbacks that keep any, checked field by field; others generically.
CALLBACK_TABLES = {"EarlyStopping": EARLY_STOPPING_FIELDS, "ReduceLROnPlateau": PLATEAU_FIELDS}


#: The training state ``train`` saves (``header["train"]``); epoch first, the others rely on it.
TRAIN_FIELDS: dict[str, tuple[bool, Check]] = {
    "epoch": (True, _int_in(0)),
    "history": (True, _table(HISTORY_FIELDS)),
    "rng": (True, _rng_state),
    "batch_size": (False, _optional(_int_in(1))),
    "shuffle": (False, _boolean),
    "dropout": (False, _number_in(0, 1, high_open=True)),
    "seed": (False, _optional(_int_in(0, math.inf))),  # any int NumPy seeds with; only compared
    "lr_schedule": (False, _optional(lambda v, ctx: None if isinstance(v, str) and len(v) < 1000
                                     else f"must be a schedule's description; got {_show(v)}")),
    "lr_factor": (False, lambda v, ctx: _positive(v, ctx)),
    "callbacks": (False, lambda v, ctx: _callbacks(v, ctx)),
}


#: A checkpoint's header beyond the model (checked by ``_checked_config``); train first.
CHECKPOINT_FIELDS: dict[str, tuple[bool, Check]] = {
    "train": (True, _table(TRAIN_FIELDS)),
    "optimizer": (True, _optimizer),
    "opt_state": (True, _opt_state),
    "has_best": (False, _boolean),
}
