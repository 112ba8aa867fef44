"""Files on disk: atomic writes with SIGINT/SIGTERM held, stale temporaries removed, and the guarded
reader of untrusted ``.npz`` archives (regular files only, stored/deflate members, bounded reads)."""

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

from ..errors import InvalidArgumentError, InvalidFileError, InvalidTypeError
from ..validation import check_output_path


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
