"""One class per array library: its namespace, its devices (parsed, normalized, listed, described),
transfers to the host, syncs and device contexts. The :class:`~xpnet.backend.Backend` asks these and
never tests a library's name."""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import re
from typing import Any, Hashable

import array_api_compat
import numpy as np

from ..errors import BackendUnavailableError, InvalidArgumentError
from .numpy_namespace import _NUMPY_XP

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
        from . import numpy_plan  # NumPy's training plan, imported with its first run

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
