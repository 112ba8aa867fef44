"""Array backends: the only module that knows NumPy, CuPy, PyTorch or JAX by name.

Everything else in xpnet receives a namespace ``xp`` (from
``array_api_compat.array_namespace``) and writes its math once against the
Python array API standard. This module

* turns a backend spec (a name such as ``"cupy"``, a namespace module, or
  ``None`` to infer it from arrays) into a :class:`Backend`,
* moves arrays between the host and the backend, explicitly and once,
* synchronizes a device (for timing),
* and hands out the host random generator every random draw comes from, so
  that one seed gives the same numbers on every backend.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib
import platform
import threading
import types
from dataclasses import dataclass
from typing import Any, Iterator

import array_api_compat
import numpy as np

from .errors import BackendMismatchError, BackendUnavailableError, InvalidArgumentError

__all__ = [
    "BACKENDS",
    "Backend",
    "get_backend",
    "backend_of",
    "available_backends",
    "to_numpy",
    "host_rng",
    "array_namespace",
]

#: Names accepted by ``backend=``, in the order xpnet prefers them.
BACKENDS = ("numpy", "cupy", "array_api_strict", "torch", "jax")

_INSTALL_HINTS = {
    "numpy": "pip install numpy",
    "cupy": "pip install 'xpnet[cuda12]' (CUDA 12) or 'xpnet[cuda13]' (CUDA 13)",
    "array_api_strict": "pip install array-api-strict",
    "torch": "pip install torch",
    "jax": "pip install jax",
}


@dataclass(frozen=True, eq=False)
class Backend:
    """An array library (and device) that xpnet computes on.

    Attributes
    ----------
    name : str
        ``"numpy"``, ``"cupy"``, ``"array_api_strict"``, ``"torch"``, ``"jax"``,
        or the module name of another array-API namespace.
    xp : module
        The array-API namespace used by the math code.
    device : object or None
        Where new arrays are placed (``None``: the library's default).
    """

    name: str
    xp: Any
    device: Any = None

    def __repr__(self) -> str:
        dev = "" if self.device is None else f", device={self.device!r}"
        return f"Backend({self.name!r}{dev})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Backend):
            return NotImplemented
        return self.name == other.name and str(self.device) == str(other.device)

    def __hash__(self) -> int:
        return hash((self.name, str(self.device)))

    # -- moving data ------------------------------------------------------
    def asarray(self, x: Any, dtype: Any = None) -> Any:
        """Return ``x`` as an array of this backend (one explicit transfer).

        ``x`` may be a NumPy array, a Python sequence or scalar, an array of
        this backend (returned as is, cast to ``dtype`` when given) or an
        array of another backend, which is moved through the host once.
        """
        if _is_array(x) and not _is_numpy_array(x):
            src = backend_of(x)
            if src != self:
                x = to_numpy(x)
            elif dtype is None or x.dtype == dtype:
                return x
            else:
                return self.xp.astype(x, dtype)
        host = np.asarray(x)
        if dtype is not None:
            host = host.astype(dtype_name(dtype), copy=False)
        if self.name == "numpy":
            return host
        if self.device is None:
            return self.xp.asarray(host)
        return self.xp.asarray(host, device=self.device)

    def to_numpy(self, a: Any) -> np.ndarray:
        """Copy a backend array to a NumPy array (a device->host transfer)."""
        return to_numpy(a)

    def synchronize(self) -> None:
        """Wait until all queued work on this backend's device is done."""
        if self.name == "cupy":
            import cupy

            cupy.cuda.get_current_stream().synchronize()
        elif self.name == "torch":
            import torch

            dev = torch.device(self.device) if self.device is not None else None
            if dev is not None and dev.type == "cuda":
                torch.cuda.synchronize(dev)

    def quiet_overflow(self) -> Any:
        """A context in which NumPy-based backends do not warn on overflow/invalid values.

        Training checks the loss for NaN and infinity itself (once per sync) and
        raises a clear error, so NumPy's per-operation warnings would only be noise.
        """
        if self.name in ("numpy", "array_api_strict"):
            return np.errstate(over="ignore", invalid="ignore", divide="ignore")
        return contextlib.nullcontext()

    def keep_host_memory(self) -> Any:
        """A context in which freed host memory stays with the process, for training on the CPU.

        A training step allocates and frees the same large arrays over and
        over. With its default settings glibc's ``malloc`` hands big freed
        blocks back to the operating system and takes them again at the next
        step, and every page comes back as a page fault: about 6,700 faults
        (27 MB) a step on the ``wide`` benchmark, a tenth of its time. Inside
        this context blocks up to 32 MB come from the heap and up to 256 MB of
        free heap is kept; on leaving it the defaults are put back and the
        kept memory is returned (``malloc_trim``). Nothing happens for
        libraries whose arrays live on a GPU, or where the C library is not glibc.
        """
        if self.name in ("numpy", "array_api_strict") or self.name == "torch" and not _on_gpu(self.device):
            return _glibc_keep_memory()
        return contextlib.nullcontext()

    def dtype(self, dtype: Any) -> Any:
        """Resolve ``"float32"``/``"float64"`` (or a dtype object) to this backend's dtype."""
        return resolve_dtype(self.xp, dtype, backend_name=self.name)


def _on_gpu(device: Any) -> bool:
    return device is not None and getattr(device, "type", str(device).split(":")[0]) != "cpu"


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)
_GLIBC_DEFAULT_THRESHOLD = 128 * 1024
_malloc_lock = threading.Lock()
_malloc_users = 0


@functools.lru_cache(maxsize=1)
def _glibc() -> Any:
    """glibc through ctypes, or None (another C library, or no ``mallopt``)."""
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


@contextlib.contextmanager
def _glibc_keep_memory() -> Iterator[None]:
    """Raise glibc's mmap and trim thresholds while any training run is inside (see keep_host_memory)."""
    global _malloc_users
    libc = _glibc()
    if libc is None:
        yield
        return
    with _malloc_lock:
        _malloc_users += 1
        if _malloc_users == 1:
            libc.mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)  # glibc's largest allowed value
            libc.mallopt(_M_TRIM_THRESHOLD, 256 * 1024 * 1024)
    try:
        yield
    finally:
        with _malloc_lock:
            _malloc_users -= 1
            if _malloc_users == 0:
                libc.mallopt(_M_MMAP_THRESHOLD, _GLIBC_DEFAULT_THRESHOLD)
                libc.mallopt(_M_TRIM_THRESHOLD, _GLIBC_DEFAULT_THRESHOLD)
                libc.malloc_trim(0)


def _is_array(x: Any) -> bool:
    return array_api_compat.is_array_api_obj(x) and not isinstance(x, (int, float, complex, bool))


def _is_numpy_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


def dtype_name(dtype: Any) -> str:
    """The standard name (``"float32"``, ``"int64"``, ...) of any library's dtype object or name."""
    try:
        return np.dtype(dtype).name
    except TypeError:
        pass
    text = str(dtype)
    for name in ("bfloat16", "float16", "float32", "float64", "complex64", "complex128",
                 "int8", "int16", "int32", "int64", "uint8", "bool"):
        if text.endswith(name) or f"{name}'" in text or f".{name}" in text:
            return name
    return text


def resolve_dtype(xp: Any, dtype: Any, backend_name: str = "") -> Any:
    """Map a dtype spec (``"float32"``, ``"float64"``, or a dtype object) to ``xp``'s dtype.

    Raises
    ------
    InvalidArgumentError
        If the dtype is not ``float32`` or ``float64``.
    """
    name = dtype_name(dtype) if dtype is not None else "None"
    if name not in ("float32", "float64"):
        raise InvalidArgumentError(
            f"dtype must be a floating dtype, 'float32' or 'float64'; got {dtype!r}"
        )
    if backend_name == "jax" and name == "float64":
        import jax

        if not jax.config.jax_enable_x64:
            raise InvalidArgumentError(
                "dtype='float64' on the jax backend needs 64-bit mode: call "
                "jax.config.update('jax_enable_x64', True) first, or use dtype='float32'"
            )
    return getattr(xp, name)


# -- selecting a backend ---------------------------------------------------
def _import(module: str, backend: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"backend {backend!r} needs {module!r}, which is not installed "
            f"({exc}); install it with: {_INSTALL_HINTS[backend]}"
        ) from None


def _cupy_backend() -> Backend:
    cupy = _import("cupy", "cupy")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError, missing driver libraries, ...
        raise BackendUnavailableError(
            "backend 'cupy' needs a CUDA GPU, but CuPy found none "
            f"({type(exc).__name__}: {exc}); use backend='numpy' on this machine, "
            "or install the CuPy build matching your driver: "
            + _INSTALL_HINTS["cupy"]
        ) from None
    if count < 1:
        raise BackendUnavailableError(
            "backend 'cupy' needs a CUDA GPU, but no CUDA device is visible; "
            "use backend='numpy' on this machine"
        )
    xp = _import("array_api_compat.cupy", "cupy")
    return Backend("cupy", xp, None)


def _torch_backend(device: str | None) -> Backend:
    torch = _import("torch", "torch")
    xp = importlib.import_module("array_api_compat.torch")
    dev = torch.device(device if device else "cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BackendUnavailableError(
            "backend 'torch:cuda' needs a CUDA GPU visible to PyTorch, and none is; "
            "use backend='torch' (CPU) or install a CUDA build of PyTorch"
        )
    return Backend("torch", xp, dev)


def _backend_from_name(spec: str) -> Backend:
    name, _, device = spec.strip().partition(":")
    name = name.lower().replace("-", "_")
    if name == "torch":
        return _torch_backend(device or None)
    if device:
        raise InvalidArgumentError(
            f"backend={spec!r}: a ':device' suffix is only understood for 'torch' "
            "(e.g. 'torch:cuda'); CuPy uses the current CUDA device"
        )
    if name == "numpy":
        return Backend("numpy", _NUMPY_XP, None)
    if name == "cupy":
        return _cupy_backend()
    if name == "array_api_strict":
        return Backend("array_api_strict", _import("array_api_strict", "array_api_strict"), None)
    if name == "jax":
        _import("jax", "jax")
        return Backend("jax", importlib.import_module("jax.numpy"), None)
    raise InvalidArgumentError(
        f"unknown backend {spec!r}; expected one of {', '.join(map(repr, BACKENDS))}, "
        "an array-API namespace module, or None"
    )


def _name_of_namespace(xp: Any) -> str | None:
    checks = (
        ("numpy", array_api_compat.is_numpy_namespace),
        ("cupy", array_api_compat.is_cupy_namespace),
        ("torch", array_api_compat.is_torch_namespace),
        ("jax", array_api_compat.is_jax_namespace),
        ("array_api_strict", array_api_compat.is_array_api_strict_namespace),
    )
    for name, check in checks:
        if check(xp):
            return name
    return None


def backend_of(array: Any) -> Backend:
    """The :class:`Backend` (library and device) an array lives on."""
    if _is_numpy_array(array):
        return get_backend("numpy")
    if not array_api_compat.is_array_api_obj(array):
        raise InvalidArgumentError(
            f"expected an array, got {type(array).__name__}; pass a NumPy array "
            "or an array of an array-API library"
        )
    xp = array_api_compat.array_namespace(array)
    name = _name_of_namespace(xp) or getattr(xp, "__name__", type(array).__module__)
    device = array_api_compat.device(array)
    if name in ("array_api_strict", "jax", "cupy"):
        device = None  # one device per process for our purposes; keep equality simple
    return Backend(name, xp, device)


def get_backend(spec: Any = None, *arrays: Any) -> Backend:
    """Resolve a backend spec to a :class:`Backend`.

    Parameters
    ----------
    spec : str, module, Backend or None
        ``"numpy"``, ``"cupy"``, ``"array_api_strict"``, ``"torch"`` (optionally
        ``"torch:cuda"``), ``"jax"``; an array-API namespace module such as
        ``numpy`` or ``array_api_strict``; a :class:`Backend`; or ``None`` to
        infer it from ``arrays`` (NumPy when they are all NumPy or absent).
    *arrays
        Arrays used for inference when ``spec`` is ``None``.

    Raises
    ------
    BackendUnavailableError
        The library is not installed, or (CuPy) no CUDA device is present.
        The message says what to install.
    BackendMismatchError
        ``spec`` is ``None`` and ``arrays`` come from two different backends.
    """
    if isinstance(spec, Backend):
        return spec
    if isinstance(spec, str):
        return _backend_from_name(spec)
    if spec is None:
        return infer_backend(**{f"array {i}": a for i, a in enumerate(arrays)})
    if hasattr(spec, "asarray") and hasattr(spec, "matmul"):
        name = _name_of_namespace(spec)
        if name is not None and name != "torch":
            return _backend_from_name(name)
        if name == "torch":
            return _torch_backend(None)
        # A conforming namespace we have no special knowledge of.
        return Backend(getattr(spec, "__name__", repr(spec)), spec, None)
    raise InvalidArgumentError(
        f"backend must be a name ({', '.join(BACKENDS)}), an array-API namespace "
        f"module or None; got {type(spec).__name__} {spec!r}"
    )


def infer_backend(**arrays: Any) -> Backend:
    """The backend of the named arrays that are not host (NumPy) data; NumPy if there are none.

    Raises
    ------
    BackendMismatchError
        Two of them live on different backends; the message says which is where.
    """
    found = {name: backend_of(a) for name, a in arrays.items() if a is not None and _is_array(a)}
    found = {name: b for name, b in found.items() if b.name != "numpy"}
    if not found:
        return _backend_from_name("numpy")
    if len(set(found.values())) > 1:
        raise BackendMismatchError(
            "arrays from two backends were mixed: "
            + ", ".join(f"{name} is {b.name} ({b})" for name, b in found.items())
            + "; move them to one with xpnet.to_numpy(...) or pass backend=..."
        )
    return next(iter(found.values()))


def available_backends() -> list[str]:
    """Names of the backends usable on this machine (CuPy only with a CUDA GPU)."""
    usable = []
    for name in BACKENDS:
        try:
            get_backend(name)
        except BackendUnavailableError:
            continue
        usable.append(name)
    return usable


# -- namespaces ----------------------------------------------------------------
def _fast_numpy_namespace() -> Any:
    """``array_api_compat.numpy`` with thinner ``sum``, ``astype`` and ``stack``.

    The compat wrappers check arguments on every call (a few microseconds),
    which is most of the cost of a reduction over a small array; these two
    go straight to NumPy and give the same results. Everything else is the
    compat namespace itself.
    """
    compat = importlib.import_module("array_api_compat.numpy")
    fast = types.ModuleType(compat.__name__, compat.__doc__)
    fast.__dict__.update({k: v for k, v in vars(compat).items() if not k.startswith("__")})
    fast.__array_api_version__ = compat.__array_api_version__

    def sum(x, /, *, axis=None, dtype=None, keepdims=False):  # noqa: A001 - the standard's name
        if (axis == 0 and x.ndim == 2 and dtype is None and not keepdims and x.shape[0] >= 64
                and x.shape[1] >= 2 and x.dtype in _FLOATS):
            # column sums (the bias gradient) as ones @ x: NumPy reduces a C-ordered array over
            # axis 0 one short row at a time (6.4 us for 400x4, 790 us for 60000x4, against
            # 2.8 and 40 us for the BLAS product, which also rounds less)
            return _ones(x.shape[0], x.dtype) @ x
        return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)

    def astype(x, dtype, /, *, copy=True, device=None):
        return x.astype(dtype, copy=copy)

    def stack(arrays, /, *, axis=0):
        if axis == 0 and len(arrays) > 0 and all(a.ndim == 0 for a in arrays):
            # training's per-epoch metrics: np.stack takes ~2 us per 0-D array, np.array ~0.1
            return np.array(arrays)
        return compat.stack(arrays, axis=axis)

    fast.sum, fast.astype, fast.stack = sum, astype, stack
    return fast


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


@functools.lru_cache(maxsize=16)
def _ones(n: int, dtype: Any) -> np.ndarray:
    """A read-only vector of ``n`` ones (a few batch sizes are in use at a time)."""
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


_NUMPY_XP = _fast_numpy_namespace()
_NAMESPACES: dict[type, Any] = {np.ndarray: _NUMPY_XP}


def array_namespace(*arrays: Any) -> Any:
    """``array_api_compat.array_namespace``, memoized on the type of a single array.

    The math code asks for the namespace of its arguments several times per
    step; for one array the answer depends only on its type, and the cache turns
    a few microseconds of inspection into a dictionary lookup.
    """
    if len(arrays) == 1:
        kind = type(arrays[0])
        xp = _NAMESPACES.get(kind)
        if xp is None:
            xp = _NAMESPACES[kind] = array_api_compat.array_namespace(arrays[0])
        return xp
    return array_api_compat.array_namespace(*arrays)


# -- host side ---------------------------------------------------------------
def to_numpy(array: Any) -> np.ndarray:
    """Return any backend's array as a NumPy array (copying device memory to the host).

    Parameters
    ----------
    array : array
        A NumPy, CuPy, PyTorch, JAX or array-API-strict array, or a Python
        scalar/sequence.
    """
    if _is_numpy_array(array):
        return np.asarray(array)
    if array_api_compat.is_cupy_array(array):
        return array.get()
    if array_api_compat.is_torch_array(array):
        return array.detach().cpu().numpy()
    if _is_array(array):
        try:
            return np.asarray(array)
        except (TypeError, RuntimeError, ValueError):
            return np.from_dlpack(array)
    return np.asarray(array)


def host_copies(arrays: Any) -> list[np.ndarray]:
    """NumPy copies of a list of backend arrays: snapshots that later in-place updates leave alone."""
    return [np.array(to_numpy(a), copy=True) for a in arrays]


def host_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """The host random generator for ``seed``.

    The array API has no random module, so every random draw in xpnet
    (initial weights, shuffles, dropout masks) is made on the host with this
    generator and transferred once: the same seed gives the same numbers on
    every backend.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0):
        raise InvalidArgumentError(f"seed must be a non-negative int or None; got {seed!r}")
    return np.random.default_rng(seed)
