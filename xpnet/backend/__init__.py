"""Array backends: the only module that knows NumPy, CuPy, PyTorch or JAX by name.

Everything else in xpnet receives a namespace ``xp`` (from
``array_api_compat.array_namespace``) and writes its math once against the
Python array API standard. This module

* turns a backend spec, ``library[:device]`` (``"cupy:1"``, ``"torch:cuda"``,
  ``"jax:gpu:0"``, ``"array_api_strict:device1"``), a namespace module, a
  device object or an array into a :class:`Backend`: a library and one
  concrete device, compared by identity;
* moves arrays, explicitly and once: host data to the device; between devices
  of one library with that library's own transfer; between libraries through
  DLPack where both support it, else through the host;
* synchronizes devices, lists them (``xpnet info``) and makes a CuPy device
  current while a model on it computes;
* hands out the host random generator every random draw comes from, so that
  one seed gives the same numbers on every backend;
* holds each library's fast paths: a thinner NumPy namespace, and NumPy's
  training plan (:mod:`.numpy_plan`, :mod:`.numpy_step`, :mod:`.numpy_metrics`,
  :mod:`.blas`), which trains plain-SGD runs with preallocated buffers.

Each library is described by one small ``_Library`` class (:mod:`.libraries`);
:class:`Backend` asks it and never tests a library's name. The NumPy namespace
the math gets is in :mod:`.numpy_namespace`.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from .. import hostmem
from ..errors import BackendMismatchError, BackendUnavailableError, InvalidArgumentError
from .libraries import (_DLPACK_ERRORS, _LIBRARIES, _NO_CONTEXT, BACKENDS, _Library,  # noqa: F401
                        _library_of_namespace)
from .numpy_namespace import _NUMPY_XP, array_namespace, column_sums_by_product  # noqa: F401

__all__ = [
    "BACKENDS",
    "Backend",
    "get_backend",
    "backend_of",
    "infer_backend",
    "require_backend",
    "available_backends",
    "inventory",
    "to_numpy",
    "is_library_array",
    "host_rng",
    "array_namespace",
]

#: Libraries accepted by ``backend=``, in the order xpnet prefers them.
# -- the Backend ------------------------------------------------------------------
class Backend:
    """An array library and one concrete device of it: where xpnet computes.

    Backends are unique: ``get_backend("torch:cpu") is get_backend("torch")``,
    and two backends are equal only when they are the same object (the same
    library and, after normalization, the same device).

    Attributes
    ----------
    name : str
        ``"numpy"``, ``"cupy"``, ``"array_api_strict"``, ``"torch"``, ``"jax"``,
        or the module name of another array-API namespace.
    xp : module
        The array-API namespace the math code uses.
    device : object
        The library's device object (``torch.device("cuda", 1)``,
        ``cupy.cuda.Device(1)``, array-api-strict's ``Device("device1")``,
        ``"cpu"`` for NumPy); new arrays are placed there.
    """

    __slots__ = ("name", "xp", "device", "_lib", "__weakref__")

    def __init__(self, lib: _Library, xp: Any, device: Any) -> None:  # use get_backend
        self.name, self.xp, self.device, self._lib = lib.name, xp, device, lib

    @property
    def spec(self) -> str:
        """The spec :func:`get_backend` turns back into this backend: ``"cupy:1"``, ``"torch:cpu"``."""
        label = self._lib.label(self.device)
        return self.name if label is None else f"{self.name}:{label}"

    @property
    def is_numpy(self) -> bool:
        """True when this backend's arrays are NumPy arrays (host data needs no transfer)."""
        return self.xp is _NUMPY_XP

    @property
    def is_host(self) -> bool:
        """True when the device's memory is the host's (NumPy, ``torch:cpu``, ``jax:cpu``, ...)."""
        return self._lib.is_host(self.device)

    def __repr__(self) -> str:
        return f"Backend({self.spec!r})"

    def __reduce__(self) -> tuple:
        return (get_backend, (self.spec if self.name in _LIBRARIES else self.xp,))

    def describe(self) -> str:
        """``"torch:cuda:1 (GPU 1: NVIDIA H200, 139.8 GiB)"``: the spec and what the device is."""
        return f"{self.spec} ({self._lib.describe(self.device)})"

    def activate(self) -> Any:
        """A context in which this backend's device is current (CuPy); free elsewhere."""
        return self._lib.activate(self.device)

    def synchronize(self, *arrays: Any) -> None:
        """Wait until the work queued on this device (and producing ``arrays``, for JAX) is done."""
        self._lib.synchronize(self.device, arrays)

    def training_plan(self, run: Any) -> Any:
        """The library's fast way to train ``run`` (an :class:`xpnet.loop.Run`), or None.

        A plan has ``run_epoch(run, hold)``, which does what the loop's generic
        epoch does (the same steps, random draws, interrupt holding and metrics)
        with the library's own means, and ``settle()``, which finishes any metric
        it computes late, before the loop reads them. NumPy has one for plain SGD
        (:mod:`xpnet.backend.numpy_plan`); the other libraries train generically.
        """
        return self._lib.training_plan(run)

    # -- moving data ------------------------------------------------------
    def asarray(self, x: Any, dtype: Any = None) -> Any:
        """Return ``x`` as an array of this backend and device (one explicit transfer).

        ``x`` may be host data (a NumPy array, a Python sequence or scalar), an
        array of this backend (returned as is, cast to ``dtype`` when given),
        an array on another device of this library (moved with the library's
        own ``to_device``, never through the host), or an array of another
        library (moved once: through DLPack where both support it, else the host).
        """
        if _is_array(x) and not _is_numpy_array(x):
            src = backend_of(x)
            if src is not self:
                x = self._move(x, src)
            want = None if dtype is None else getattr(self.xp, dtype_name(dtype))
            return x if want is None or x.dtype == want else self.xp.astype(x, want)
        host = np.asarray(x)
        if dtype is not None:
            host = host.astype(dtype_name(dtype), copy=False)
        if self.is_numpy:
            return host
        with self.activate():
            return self.xp.asarray(host, device=self.device)

    def _move(self, x: Any, src: "Backend") -> Any:
        with self.activate():
            if src._lib is self._lib:
                return array_api_compat.to_device(x, self.device)
            try:
                moved = self.xp.from_dlpack(x)
                if self._lib.key(self._lib.device_of(moved)) == self._lib.key(self.device):
                    return self.xp.asarray(moved, copy=True)  # DLPack shares memory: own a copy
            except _DLPACK_ERRORS:
                pass
        return self.asarray(src.to_numpy(x))

    def to_numpy(self, a: Any) -> np.ndarray:
        """Copy an array of this backend to a NumPy array (a device->host transfer)."""
        return self._lib.to_host(a)

    def quiet_overflow(self) -> Any:
        """A context in which NumPy-based backends do not warn on overflow/invalid values.

        Training checks the loss for NaN and infinity itself (once per sync) and
        raises a clear error, so NumPy's per-operation warnings would only be noise.
        """
        if self._lib.numpy_based:
            return np.errstate(over="ignore", invalid="ignore", divide="ignore")
        return _NO_CONTEXT

    def keep_host_memory(self) -> Any:
        """A context in which freed host memory stays with the process (see :mod:`xpnet.hostmem`);
        nothing for a device whose memory is not the host's."""
        return hostmem.keep_host_memory() if self.is_host else _NO_CONTEXT

    def dtype(self, dtype: Any) -> Any:
        """Resolve ``"float32"``/``"float64"`` (or a dtype object) to this backend's dtype."""
        return resolve_dtype(self.xp, dtype, backend_name=self.name)


_REGISTRY: dict[tuple, Backend] = {}


def _intern(lib: _Library, xp: Any, device: Any) -> Backend:
    """The one Backend for (library, normalized device)."""
    key = (lib.name if lib.name in _LIBRARIES else id(xp), lib.key(device))
    found = _REGISTRY.get(key)
    if found is None:
        found = _REGISTRY[key] = Backend(lib, xp, device)
    return found


# -- selecting a backend ---------------------------------------------------
def _backend_from_name(spec: str, device: Any = None, rank: int | None = None) -> Backend:
    name, _, text = spec.strip().partition(":")
    lib = _LIBRARIES.get(name.lower().replace("-", "_"))
    if lib is None:
        raise InvalidArgumentError(
            f"unknown backend {spec!r}; expected one of {', '.join(map(repr, BACKENDS))} with an "
            "optional ':device' ('cupy:1', 'torch:cuda', 'array_api_strict:device1'), "
            "an array-API namespace module, or None"
        )
    xp = lib.namespace()
    if device is not None and text:
        raise InvalidArgumentError(f"backend={spec!r} names a device already; leave out device={device!r}")
    if device is not None and not isinstance(device, str):
        return _intern(lib, xp, lib.normalize(device))
    chosen = None if rank is None else lib.device_for_rank(text or device or None, rank)
    if chosen is not None:
        return _intern(lib, xp, lib.normalize(chosen))
    return _intern(lib, xp, lib.parse(text or device or None, spec))


def backend_of(array: Any) -> Backend:
    """The :class:`Backend` (library and device) an array lives on."""
    if _is_numpy_array(array):
        return _intern(_LIBRARIES["numpy"], _NUMPY_XP, "cpu")
    if not array_api_compat.is_array_api_obj(array):
        raise InvalidArgumentError(
            f"expected an array, got {type(array).__name__}; pass a NumPy array "
            "or an array of an array-API library"
        )
    xp = array_namespace(array)
    lib = _library_of_namespace(xp)
    return _intern(lib, xp, lib.device_of(array))


def get_backend(spec: Any = None, *arrays: Any, device: Any = None, rank: int | None = None) -> Backend:
    """Resolve a backend spec to a :class:`Backend`.

    Parameters
    ----------
    spec : str, module, Backend or None
        ``"library[:device]"``: ``"numpy"``; ``"cupy"`` (the current CUDA
        device) or ``"cupy:1"``; ``"torch"`` (CPU), ``"torch:cuda"`` (the
        current CUDA device), ``"torch:cuda:1"``; ``"jax"`` (JAX's default
        device), ``"jax:cpu"``, ``"jax:gpu:1"``; ``"array_api_strict"`` or
        ``"array_api_strict:device1"`` (a simulated accelerator). Or an
        array-API namespace module, a :class:`Backend`, or ``None`` to infer it
        from ``arrays`` (NumPy when they are all NumPy or absent).
    *arrays
        Arrays used for inference when ``spec`` is ``None``.
    device : str or device object, optional
        The device, as the library's own object (``torch.device("cuda", 1)``,
        ``array_api_strict.Device("device1")``) or its name, with a spec or
        namespace that names only the library.
    rank : int, optional
        The process's rank among those on its node (data-parallel training):
        a spec string that names a GPU library but no device index
        (``"cupy"``, ``"torch:cuda"``, ``"jax:gpu"``) then means GPU
        ``rank % count``, so that N processes spread over the node's GPUs.
        Host devices, explicit indices and non-string specs ignore it.

    Raises
    ------
    BackendUnavailableError
        The library is not installed, or the device does not exist here (CuPy
        or ``torch:cuda`` without a GPU). The message says what to install.
    InvalidArgumentError
        An unknown library or a malformed device.
    BackendMismatchError
        ``spec`` is ``None`` and ``arrays`` live on different backends or devices.
    """
    if isinstance(spec, Backend):
        return spec if device is None else _backend_from_name(spec.name, device)
    if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int) or rank < 0):
        raise InvalidArgumentError(f"rank must be a non-negative int or None; got {rank!r}")
    if isinstance(spec, str):
        return _backend_from_name(spec, device, rank)
    if spec is None:
        if device is not None:
            raise InvalidArgumentError(f"device={device!r} needs a library: pass backend='torch', ...")
        return infer_backend(**{f"array {i}": a for i, a in enumerate(arrays)})
    if hasattr(spec, "asarray") and hasattr(spec, "matmul"):
        lib = _library_of_namespace(spec)
        if lib.name in _LIBRARIES:
            return _backend_from_name(lib.name, device)
        return _intern(lib, spec, lib.parse(None, lib.name) if device is None else lib.normalize(device))
    raise InvalidArgumentError(
        f"backend must be a name ({', '.join(BACKENDS)}, optionally with ':device'), an array-API "
        f"namespace module or None; got {type(spec).__name__} {spec!r}"
    )


def _placements(arrays: dict[str, Any]) -> dict[str, Backend]:
    """The backends of the named arrays that are not host (NumPy) data."""
    return {name: backend_of(a) for name, a in arrays.items()
            if a is not None and _is_array(a) and not _is_numpy_array(a)}


def _where(b: Backend) -> str:
    return f"a {b.name} array on {b.spec}"


def infer_backend(**arrays: Any) -> Backend:
    """The backend the named arrays live on, ignoring host (NumPy) data; NumPy if nothing else.

    Raises
    ------
    BackendMismatchError
        Two of them live on different libraries or devices; the message names each one and where.
    """
    found = _placements(arrays)
    if len(set(found.values())) > 1:
        raise BackendMismatchError(
            "arrays on two backends or devices were mixed: "
            + ", ".join(f"{name} is {_where(b)}" for name, b in found.items())
            + "; move them to one (xpnet.to_numpy(...), or the library's to_device) or pass backend=..."
        )
    return next(iter(found.values())) if found else _backend_from_name("numpy")


def require_backend(target: Backend, where: str, **arrays: Any) -> None:
    """Refuse arrays that are neither host data nor on ``target``, naming each one and its device.

    Raises
    ------
    BackendMismatchError
        With a message that says where each misplaced array is and how to fix it.
    """
    wrong = {name: b for name, b in _placements(arrays).items() if b is not target}
    if wrong:
        first = next(iter(wrong.values()))
        raise BackendMismatchError(
            ", ".join(f"{name} is {_where(b)}" for name, b in wrong.items())
            + f" but {where} is on {target.spec}; pass backend={first.spec!r} to compute there, "
            f"move the model with model.to({first.spec!r}), or pass NumPy arrays (xpnet.to_numpy(...))"
        )


def available_backends() -> list[str]:
    """Names of the libraries usable on this machine (CuPy only with a CUDA GPU)."""
    usable = []
    for name in BACKENDS:
        try:
            _LIBRARIES[name].namespace()
        except BackendUnavailableError:
            continue
        usable.append(name)
    return usable


def inventory() -> list[tuple[str, str | None, list[str]]]:
    """Every known library: ``(name, why it is unavailable or None, [each device described])``."""
    rows = []
    for name in BACKENDS:
        lib = _LIBRARIES[name]
        try:
            xp = lib.namespace()
            devices = [_intern(lib, xp, d).describe() for d in lib.devices()]
        except BackendUnavailableError as exc:
            rows.append((name, str(exc), []))
            continue
        rows.append((name, None, devices))
    return rows


# -- dtypes ------------------------------------------------------------------
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


def is_library_array(x: Any) -> bool:
    """True for an array of an array-API library other than NumPy (host data is everything else)."""
    return _is_array(x) and not _is_numpy_array(x)


def _is_array(x: Any) -> bool:
    return array_api_compat.is_array_api_obj(x) and not isinstance(x, (int, float, complex, bool))


def _is_numpy_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


# -- host side ---------------------------------------------------------------
def to_numpy(array: Any) -> np.ndarray:
    """Return any backend's array as a NumPy array (copying device memory to the host).

    Parameters
    ----------
    array : array
        A NumPy, CuPy, PyTorch, JAX or array-API-strict array (on any of its
        devices), or a Python scalar/sequence.
    """
    if _is_numpy_array(array) or not _is_array(array):
        return np.asarray(array)
    return backend_of(array).to_numpy(array)


def host_copies(arrays: Any, into: list | None = None) -> list[np.ndarray]:
    """NumPy copies of a list of backend arrays: snapshots that later in-place updates leave alone.

    ``into``: earlier copies, overwritten in place where shape and dtype match,
    so that refreshing a snapshot takes no second copy's worth of host memory.
    """
    if into is None:
        return [np.array(to_numpy(a), copy=True) for a in arrays]
    return [_copy_into(old, to_numpy(a)) for old, a in zip(into, arrays)]


def _copy_into(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    if old.shape != new.shape or old.dtype != new.dtype:
        return np.array(new, copy=True)
    np.copyto(old, new)
    return old


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

