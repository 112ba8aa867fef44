"""The backend fixture that parametrizes the suite.

``backend`` (an :class:`xpnet.Backend`: a library and a device) and ``xp``
(its namespace) run each test on every selected backend spec: by default
every entry of ``TEST_BACKENDS``, host devices and accelerators alike; with
``--backend SPEC`` (repeatable) or ``XPNET_TEST_BACKENDS=numpy,torch`` only
those. ``array_api_strict:device1`` is array-api-strict's simulated
accelerator: there an implicit conversion to NumPy and any device mix raise,
as on a GPU, so the whole suite runs off the host device in CI. A selected
backend that is not usable here (not installed, no GPU) is skipped with the reason.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import xpnet
from xpnet.backend import BACKENDS

#: Every spec the suite knows, host devices first; unusable ones skip.
TEST_BACKENDS = ("numpy", "array_api_strict", "array_api_strict:device1", "torch", "torch:cuda", "jax",
                 "cupy", "cupy:0")

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
        type=_spec,
        help="backend spec to test, library[:device] such as numpy, torch:cuda, array_api_strict:device1 "
             "(repeatable; default: every spec in conftest.TEST_BACKENDS, unavailable ones skipped)",
    )


def _spec(text: str) -> str:
    if text.partition(":")[0] not in BACKENDS:
        raise ValueError(f"{text!r}: the library must be one of {', '.join(BACKENDS)}")
    return text


def selected_backends(config) -> list[str]:
    chosen = config.getoption("--backend")
    if chosen:
        return chosen
    env = os.environ.get("XPNET_TEST_BACKENDS")
    if env:
        return [name.strip() for name in env.split(",") if name.strip()]
    return list(TEST_BACKENDS)


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


@pytest.fixture(autouse=True)
def _keep_array_api_strict_flags():
    """Put array-api-strict's global flags back after each test (scikit-learn's array API mode sets them)."""
    try:
        import array_api_strict
    except ImportError:
        yield
        return
    flags = array_api_strict.get_array_api_strict_flags()
    yield
    array_api_strict.set_array_api_strict_flags(**flags)
