"""Keeping freed host memory in the process while a CPU training run is inside.

A training step allocates and frees the same large arrays over and over.
With its default settings glibc's ``malloc`` hands big freed blocks back to
the operating system and takes them again at the next step, and every page
comes back as a page fault: about 6,700 faults (27 MB) a step on the ``wide``
benchmark, a tenth of its time. Inside :func:`keep_host_memory` blocks up to
32 MB come from the heap and up to 256 MB of free heap is kept; when the last
run leaves, the defaults are put back and the kept memory is returned
(``malloc_trim``). Where the C library is not glibc, nothing happens.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import platform
import threading
from typing import Any, Iterator

__all__ = ["keep_host_memory"]

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
def keep_host_memory() -> Iterator[None]:
    """Raise glibc's mmap and trim thresholds while any training run is inside (nests, thread-safe)."""
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
