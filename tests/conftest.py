"""The backend fixture that parametrizes the suite.

``backend`` (an :class:`xpnet.Backend`) and ``xp`` (its namespace) run each
test on every selected backend: by default all of numpy, array_api_strict,
torch, jax and cupy; with ``--backend NAME`` (repeatable) or
``XPNET_TEST_BACKENDS=numpy,torch`` only those. A selected backend that is not
usable here (not installed, or CuPy without a GPU) is skipped with the reason.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import xpnet
from xpnet.backend import BACKENDS

try:  # float64 tests on JAX need 64-bit mode, switched on before any array is made
    import jax

    jax.config.update("jax_enable_x64", True)
except ImportError:
    pass


def pytest_addoption(parser):
    parser.addoption(
        "--backend",
        action="append",
        default=None,
        choices=BACKENDS,
        help="array backend to test (repeatable; default: every backend, unavailable ones skipped)",
    )


def selected_backends(config) -> list[str]:
    chosen = config.getoption("--backend")
    if chosen:
        return chosen
    env = os.environ.get("XPNET_TEST_BACKENDS")
    if env:
        return [name.strip() for name in env.split(",") if name.strip()]
    return list(BACKENDS)


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", selected_backends(metafunc.config), indirect=True)


@pytest.fixture
def backend(request) -> xpnet.Backend:
    try:
        return xpnet.get_backend(request.param)
    except xpnet.BackendUnavailableError as exc:
        pytest.skip(f"backend {request.param!r} unavailable: {exc}")


@pytest.fixture
def xp(backend):
    return backend.xp


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
