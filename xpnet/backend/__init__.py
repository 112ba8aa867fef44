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

Each library is described by one small ``_Library`` class; :class:`Backend`
asks it and never tests a library's name.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import platform
import re
import types
from typing import Any, Hashable

import array_api_compat
import numpy as np

from .. import hostmem
from ..errors import BackendMismatchError, BackendUnavailableError, InvalidArgumentError

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
BACKENDS = ("numpy", "cupy", "array_api_strict", "torch", "jax")

_INSTALL_HINTS = {
    "numpy": "pip install numpy",
    "cupy": "pip install 'xpnet[cuda12]' (CUDA 12) or 'xpnet[cuda13]' (CUDA 13)",
    "array_api_strict": "pip install array-api-strict",
    "torch": "pip install torch",
    "jax": "pip install jax",
}

_NO_CONTEXT = contextlib.nullcontext()
_DLPACK_ERRORS = (BufferError, RuntimeError, TypeError, ValueError, NotImplementedError, AttributeError)


def _import(module: str, backend: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"backend {backend!r} needs {module!r}, which is not installed "
            f"({exc}); install it with: {_INSTALL_HINTS[backend]}"
        ) from None


def _device_index(text: str, spec: str, platforms: tuple[str, ...]) -> int:
    """The index in ``"1"``, ``"cuda:1"``, ``"gpu"`` (0): a device of one of ``platforms``."""
    kind, _, index = text.rpartition(":") if ":" in text else ("", "", text)
    if text in platforms:
        kind, index = text, "0"
    if (kind and kind not in platforms) or not index.isdigit():
        raise InvalidArgumentError(
            f"backend {spec!r}: expected a device like {spec.split(':')[0]}:{platforms[0]}:1 or "
            f"{spec.split(':')[0]}:1; got device {text!r}"
        )
    return int(index)


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.1f} GiB"


# -- one class per library -------------------------------------------------------
class _Library:
    """What xpnet needs to know of one array library: its devices, transfers and syncs.

    ``parse`` and ``normalize`` turn a device spec or object into the
    library's concrete device (``"cuda"`` becomes the current CUDA device);
    ``key`` makes it comparable; the rest act on normalized devices.
    """

    name = ""
    numpy_based = False  #: computes with NumPy underneath (NumPy's overflow warnings apply)

    def namespace(self) -> Any:
        raise NotImplementedError

    def parse(self, text: str | None, spec: str) -> Any:
        """The device named by ``text`` (the part after ``library:``; None: the default)."""
        raise NotImplementedError

    def normalize(self, device: Any) -> Any:
        return device

    def key(self, device: Any) -> Hashable:
        return device

    def device_of(self, array: Any) -> Any:
        return self.normalize(array_api_compat.device(array))

    def devices(self) -> list:
        return [self.parse(None, self.name)]

    def device_for_rank(self, text: str | None, rank: int) -> Any:
        """The device of process ``rank`` on its node for a spec that names no device index (the
        ``rank % count``-th GPU); None where there is nothing to spread over (the host, an explicit index)."""
        return None

    def label(self, device: Any) -> str | None:
        """The device part of the backend's spec (None: the spec is the library name alone)."""
        return str(device)

    def describe(self, device: Any) -> str:
        return str(device)

    def is_host(self, device: Any) -> bool:
        return True

    def to_host(self, array: Any) -> np.ndarray:
        try:
            return np.asarray(array)
        except (TypeError, RuntimeError, ValueError):
            return np.from_dlpack(array)

    def synchronize(self, device: Any, arrays: tuple) -> None:
        """Wait for the queued work on ``device`` (and on ``arrays``); nothing for synchronous libraries."""

    def activate(self, device: Any) -> Any:
        """A context in which ``device`` is the library's current device."""
        return _NO_CONTEXT

    def training_plan(self, run: Any) -> Any:
        """This library's fast plan for a training run (see :meth:`Backend.training_plan`); None: the generic one."""
        return None


def _cpu_description() -> str:
    cpu = platform.processor() or platform.machine() or "CPU"
    return f"host CPU: {cpu}, {os.cpu_count()} logical cores"


class _NumPy(_Library):
    name, numpy_based = "numpy", True

    def namespace(self) -> Any:
        return _NUMPY_XP

    def parse(self, text: str | None, spec: str) -> Any:
        if text not in (None, "cpu", "cpu:0"):
            raise InvalidArgumentError(
                f"backend {spec!r}: NumPy computes on the host CPU only ('numpy' or 'numpy:cpu'); "
                "for a GPU use 'cupy', 'torch:cuda' or 'jax:gpu'"
            )
        return "cpu"

    def normalize(self, device: Any) -> Any:
        return self.parse(None if device is None else str(device), f"numpy:{device}")

    def device_of(self, array: Any) -> Any:
        return "cpu"

    def label(self, device: Any) -> str | None:
        return None

    def describe(self, device: Any) -> str:
        return _cpu_description()

    def to_host(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def training_plan(self, run: Any) -> Any:
        return numpy_plan.training_plan(run)


class _CuPy(_Library):
    name = "cupy"

    def namespace(self) -> Any:
        cupy = _import("cupy", "cupy")
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDARuntimeError, missing driver libraries, ...
            raise BackendUnavailableError(
                "backend 'cupy' needs a CUDA GPU, but CuPy found none "
                f"({type(exc).__name__}: {exc}); use backend='numpy' on this machine, "
                "or install the CuPy build matching your driver: " + _INSTALL_HINTS["cupy"]
            ) from None
        if count < 1:
            raise BackendUnavailableError(
                "backend 'cupy' needs a CUDA GPU, but no CUDA device is visible; "
                "use backend='numpy' on this machine"
            )
        return _import("array_api_compat.cupy", "cupy")

    def parse(self, text: str | None, spec: str) -> Any:
        import cupy

        current = text is None or text in ("cuda", "gpu")  # 'cupy' means the current device
        index = cupy.cuda.runtime.getDevice() if current else _device_index(text, spec, ("cuda", "gpu"))
        count = cupy.cuda.runtime.getDeviceCount()
        if index >= count:
            raise BackendUnavailableError(
                f"backend {spec!r}: this machine has {count} CUDA device(s), numbered 0 to {count - 1}"
            )
        return cupy.cuda.Device(index)

    def device_for_rank(self, text: str | None, rank: int) -> Any:
        import cupy

        if text is not None and text not in ("cuda", "gpu"):
            return None
        return cupy.cuda.Device(rank % cupy.cuda.runtime.getDeviceCount())

    def normalize(self, device: Any) -> Any:
        import cupy

        return cupy.cuda.Device(getattr(device, "id", device))

    def key(self, device: Any) -> Hashable:
        return device.id

    def device_of(self, array: Any) -> Any:
        return array.device

    def devices(self) -> list:
        import cupy

        return [cupy.cuda.Device(i) for i in range(cupy.cuda.runtime.getDeviceCount())]

    def label(self, device: Any) -> str | None:
        return str(device.id)

    def describe(self, device: Any) -> str:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(device.id)
        return f"GPU {device.id}: {props['name'].decode()}, {_gib(props['totalGlobalMem'])}"

    def is_host(self, device: Any) -> bool:
        return False

    def to_host(self, array: Any) -> np.ndarray:
        return array.get()

    def synchronize(self, device: Any, arrays: tuple) -> None:
        device.synchronize()

    def activate(self, device: Any) -> Any:
        import cupy

        return cupy.cuda.Device(device.id)


class _Torch(_Library):
    name = "torch"

    def namespace(self) -> Any:
        _import("torch", "torch")
        return importlib.import_module("array_api_compat.torch")

    def parse(self, text: str | None, spec: str) -> Any:
        import torch

        try:
            device = torch.device(text or "cpu")
        except (RuntimeError, TypeError) as exc:
            raise InvalidArgumentError(
                f"backend {spec!r}: not a PyTorch device ({exc}); use e.g. 'torch:cpu', "
                "'torch:cuda' or 'torch:cuda:1'"
            ) from None
        return self.normalize(device)

    def device_for_rank(self, text: str | None, rank: int) -> Any:
        import torch

        if text not in ("cuda", "gpu"):
            return None  # 'torch' is the CPU; 'torch:cuda:1' names its GPU
        self.normalize(torch.device("cuda"))  # no CUDA: BackendUnavailableError
        return torch.device("cuda", rank % torch.cuda.device_count())

    def normalize(self, device: Any) -> Any:
        import torch

        device = torch.device(device)
        if device.type == "cpu":
            return torch.device("cpu")  # 'cpu' and 'cpu:0' are one device
        if device.type != "cuda":
            return device
        if not torch.cuda.is_available():
            raise BackendUnavailableError(
                f"backend 'torch:{device}' needs a CUDA GPU visible to PyTorch, and none is; "
                "use backend='torch' (CPU) or install a CUDA build of PyTorch"
            )
        index = torch.cuda.current_device() if device.index is None else device.index
        if index >= torch.cuda.device_count():
            raise BackendUnavailableError(
                f"backend 'torch:{device}': PyTorch sees {torch.cuda.device_count()} CUDA device(s), "
                f"numbered 0 to {torch.cuda.device_count() - 1}"
            )
        return torch.device("cuda", index)

    def key(self, device: Any) -> Hashable:
        return (device.type, device.index)

    def device_of(self, array: Any) -> Any:
        device = array.device
        return self.normalize(device) if device.type == "cpu" or device.index is None else device

    def devices(self) -> list:
        import torch

        cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
        return [torch.device("cpu")] + [torch.device("cuda", i) for i in range(cuda)]

    def describe(self, device: Any) -> str:
        import torch

        if device.type != "cuda":
            return _cpu_description() if device.type == "cpu" else str(device)
        props = torch.cuda.get_device_properties(device.index)
        return f"GPU {device.index}: {props.name}, {_gib(props.total_memory)}"

    def is_host(self, device: Any) -> bool:
        return device.type == "cpu"

    def to_host(self, array: Any) -> np.ndarray:
        return array.detach().cpu().numpy()

    def synchronize(self, device: Any, arrays: tuple) -> None:
        import torch

        if device.type == "cuda":
            torch.cuda.synchronize(device)


class _Jax(_Library):
    name = "jax"

    def namespace(self) -> Any:
        _import("jax", "jax")
        return importlib.import_module("jax.numpy")

    def parse(self, text: str | None, spec: str) -> Any:
        import jax

        if text is None:
            return jax.devices()[0]
        kind, _, index = text.partition(":")
        platform_name = {"cuda": "gpu", "rocm": "gpu"}.get(kind, kind)
        if index and not index.isdigit():
            raise InvalidArgumentError(f"backend {spec!r}: expected a device like 'jax:cpu' or 'jax:gpu:1'")
        index = int(index or 0)
        try:
            devices = jax.devices(platform_name)
        except RuntimeError as exc:
            raise BackendUnavailableError(f"backend {spec!r}: JAX has no {platform_name!r} devices ({exc})") from None
        if index >= len(devices):
            raise BackendUnavailableError(
                f"backend {spec!r}: JAX has {len(devices)} {platform_name} device(s), numbered 0 to {len(devices) - 1}"
            )
        return devices[index]

    def device_for_rank(self, text: str | None, rank: int) -> Any:
        import jax

        if text is not None and (":" in text or text == "cpu"):
            return None
        platform_name = None if text is None else {"cuda": "gpu", "rocm": "gpu"}.get(text, text)
        try:
            devices = jax.local_devices(backend=platform_name)
        except RuntimeError as exc:
            raise BackendUnavailableError(f"backend 'jax:{text}': JAX has no such devices ({exc})") from None
        return devices[rank % len(devices)]

    def key(self, device: Any) -> Hashable:
        return (device.platform, device.id)

    def label(self, device: Any) -> str | None:
        import jax

        return f"{device.platform}:{jax.devices(device.platform).index(device)}"

    def devices(self) -> list:
        import jax

        found = []
        for name in ("cpu", "gpu", "tpu"):
            try:
                found += jax.devices(name)
            except RuntimeError:
                continue
        return found

    def describe(self, device: Any) -> str:
        stats = device.memory_stats() if hasattr(device, "memory_stats") else None
        memory = f", {_gib(stats['bytes_limit'])}" if stats and "bytes_limit" in stats else ""
        return _cpu_description() if device.platform == "cpu" else f"{device.device_kind}{memory}"

    def is_host(self, device: Any) -> bool:
        return device.platform == "cpu"

    def synchronize(self, device: Any, arrays: tuple) -> None:
        import jax

        if arrays:
            jax.block_until_ready(arrays)


class _Strict(_Library):
    """array-api-strict: its ``CPU_DEVICE`` is the host; ``device1``/``device2`` simulate accelerators
    (no implicit conversion to NumPy, no mixing with other devices), CI's stand-in for a GPU."""

    name, numpy_based = "array_api_strict", True

    def namespace(self) -> Any:
        return _import("array_api_strict", "array_api_strict")

    def parse(self, text: str | None, spec: str) -> Any:
        info = self.namespace().__array_namespace_info__()
        if text is None:
            return info.default_device()
        names = [self._name(d) for d in info.devices()]
        if text not in names:
            raise InvalidArgumentError(
                f"backend {spec!r}: array-api-strict has no device {text!r}; its devices are "
                + ", ".join(names)
            )
        return info.devices()[names.index(text)]

    @staticmethod
    def _name(device: Any) -> str:
        match = re.search(r"Device\('([^']*)'\)", repr(device))
        return match.group(1) if match else str(device)

    def label(self, device: Any) -> str | None:
        return None if self.is_host(device) else self._name(device)  # the host: plain "array_api_strict"

    def devices(self) -> list:
        return list(self.namespace().__array_namespace_info__().devices())

    def describe(self, device: Any) -> str:
        if self.is_host(device):
            return "the host: array-api-strict's CPU device"
        return f"simulated accelerator {self._name(device)!r}: no implicit conversion to NumPy, no device mixing"

    def is_host(self, device: Any) -> bool:
        return device == self.namespace().__array_namespace_info__().default_device()

    def to_host(self, array: Any) -> np.ndarray:
        if not self.is_host(array.device):
            array = array.to_device(self.namespace().__array_namespace_info__().default_device())
        return np.asarray(array)


class _Generic(_Library):
    """A conforming namespace xpnet has no special knowledge of."""

    def __init__(self, xp: Any) -> None:
        self.xp, self.name = xp, getattr(xp, "__name__", repr(xp))

    def namespace(self) -> Any:
        return self.xp

    def parse(self, text: str | None, spec: str) -> Any:
        info = getattr(self.xp, "__array_namespace_info__", None)
        return info().default_device() if info is not None else None

    def key(self, device: Any) -> Hashable:
        return repr(device)


_LIBRARIES: dict[str, _Library] = {lib.name: lib for lib in (_NumPy(), _CuPy(), _Strict(), _Torch(), _Jax())}
_NAMESPACE_CHECKS = (
    ("numpy", array_api_compat.is_numpy_namespace),
    ("cupy", array_api_compat.is_cupy_namespace),
    ("torch", array_api_compat.is_torch_namespace),
    ("jax", array_api_compat.is_jax_namespace),
    ("array_api_strict", array_api_compat.is_array_api_strict_namespace),
)


def _library_of_namespace(xp: Any) -> _Library:
    if xp is _NUMPY_XP:
        return _LIBRARIES["numpy"]
    for name, check in _NAMESPACE_CHECKS:
        if check(xp):
            return _LIBRARIES[name]
    return _Generic(xp)


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


# -- namespaces ----------------------------------------------------------------
def _fast_numpy_namespace() -> Any:
    """``array_api_compat.numpy`` with thinner ``sum``, ``astype`` and ``stack``.

    The compat wrappers check arguments on every call (a few microseconds),
    which is most of the cost of a reduction over a small array; these
    go straight to NumPy and give the same results. Everything else is the
    compat namespace itself.
    """
    compat = importlib.import_module("array_api_compat.numpy")
    fast = types.ModuleType(compat.__name__, compat.__doc__)
    fast.__dict__.update({k: v for k, v in vars(compat).items() if not k.startswith("__")})
    fast.__array_api_version__ = compat.__array_api_version__

    def sum(x, /, *, axis=None, dtype=None, keepdims=False):  # noqa: A001 - the standard's name
        if axis == 0 and x.ndim == 2 and dtype is None and not keepdims and column_sums_by_product(x):
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


def column_sums_by_product(x: np.ndarray) -> bool:
    """True when the column sums of the 2-D NumPy array ``x`` (the bias gradient) are taken as ``ones @ x``.

    NumPy reduces a C-ordered array over axis 0 one short row at a time (6.4 us for
    400x4, 790 us for 60000x4, against 2.8 and 40 us for the BLAS product, which
    also rounds less). The fast namespace's ``sum`` and the NumPy training step
    (:mod:`.numpy_step`) both follow this rule, so they give the same numbers.
    """
    return x.shape[0] >= 64 and x.shape[1] >= 2 and x.dtype in _FLOATS


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


from . import numpy_plan  # noqa: E402  (NumPy's training plan; it imports the helpers above)
