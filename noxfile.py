"""Test sessions, one per array backend: ``nox`` runs them all, ``nox -s "tests(backend='numpy')"`` one.

The cupy session needs an NVIDIA GPU and skips cleanly without one; the jax
session is not run by default (it downloads several hundred MB): ``nox -s
"tests(backend='jax')"``.
"""

import os
import shutil
import subprocess

import nox

nox.options.error_on_missing_interpreters = False
nox.options.sessions = [
    "tests(backend='numpy')",
    "tests(backend='array_api_strict')",
    "tests(backend='torch')",
    "tests(backend='cupy')",
]

# PyTorch is the independent oracle of the gradient and optimizer tests. 2.13.0 is
# pinned because it is the release with a CPU-only build at hand on our CI machines;
# an unpinned "torch" resolves to the newest CUDA build (several GB). Override with
# XPNET_TORCH="torch" (or any requirement) elsewhere.
TORCH = os.environ.get("XPNET_TORCH", "torch==2.13.0")


def _cuda_major():
    """CUDA major version the driver supports, or None without an NVIDIA GPU."""
    if not shutil.which("nvidia-smi"):
        return None
    try:
        out = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for token in out.split("CUDA Version:")[1:2]:
        return int(token.split()[0].split(".")[0])
    return None


@nox.session
@nox.parametrize("backend", ["numpy", "array_api_strict", "torch", "jax", "cupy"])
def tests(session, backend):
    """Run the test suite with the array backend ``backend``."""
    extras = ["test"]
    if backend == "cupy":
        major = _cuda_major()
        if major is None:
            session.skip("no NVIDIA GPU here (nvidia-smi not found or no CUDA driver): cupy tests skipped")
        extras.append("cuda13" if major >= 13 else "cuda12")
    if backend == "jax":
        extras.append("jax")
    session.install(TORCH)
    session.install(f".[{','.join(extras)}]")
    session.run("pytest", "--backend", backend, *session.posargs)


@nox.session
def bench(session):
    """Benchmarks: xpnet vs the matmul ceiling, a classic implementation, PyTorch and scikit-learn.

    ``nox -s bench`` runs everything on every device present; arguments after
    ``--`` go to ``python -m benchmarks`` (``nox -s bench -- --quick``,
    ``nox -s bench -- --device cpu --workloads tiny,mnist-mlp``). Results:
    benchmarks/results/ (JSON per device, README-table.md, benchmarks.png).
    """
    session.install(".[plot,sklearn]", TORCH)
    session.run("python", "-m", "benchmarks", *session.posargs)
