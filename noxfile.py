"""Test sessions, one per backend spec: ``nox`` runs the default set, ``nox -s "tests(backend='numpy')"`` one.

``array_api_strict:device1`` runs the whole suite on array-api-strict's
simulated accelerator (no implicit conversion to NumPy, no device mixing):
CI's stand-in for a GPU. The cupy and ``torch:cuda`` sessions need an NVIDIA
GPU and skip cleanly without one (``torch:cuda`` installs the CUDA build of
PyTorch, several GB); the jax session is not run by default (it downloads
several hundred MB): ``nox -s "tests(backend='jax')"``. Every session installs the
``mpi`` extra (mpi4py and MPICH's wheel with ``mpiexec``) and so runs the
data-parallel tests, real ``mpiexec -n 2``/``-n 3`` jobs, on its backend.
"""

import os
import shutil
import subprocess

import nox

nox.options.error_on_missing_interpreters = False
nox.options.sessions = [
    "tests(backend='numpy')",
    "tests(backend='array_api_strict')",
    "tests(backend='array_api_strict:device1')",
    "tests(backend='torch')",
    "tests(backend='cupy')",
    "bench_quick",
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
@nox.parametrize("backend", ["numpy", "array_api_strict", "array_api_strict:device1", "torch", "torch:cuda",
                             "jax", "cupy", "cupy:0"])
def tests(session, backend):
    """Run the test suite on the backend spec ``backend`` (a library and optionally a device)."""
    library = backend.partition(":")[0]
    extras = ["test", "mpi"]  # mpi: tests/test_distributed.py runs real mpiexec jobs on this backend
    torch = TORCH
    if library == "cupy" or backend.startswith("torch:cuda"):
        major = _cuda_major()
        if major is None:
            session.skip(f"no NVIDIA GPU here (nvidia-smi not found or no CUDA driver): {backend} tests skipped")
        if library == "cupy":
            extras.append("cuda13" if major >= 13 else "cuda12")
        else:
            torch = os.environ.get("XPNET_TORCH", "torch")  # the package index's default build has CUDA
    if library == "jax":
        extras.append("jax")
    session.install(torch)
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


@nox.session
def bench_quick(session):
    """The benchmark suite's smoke run (``--quick``: small sizes, one repeat), so that it cannot rot.

    In the default set; its timings are not kept (they are written to the session's tmp folder).
    """
    session.install(".[plot,sklearn]", TORCH)
    session.run("python", "-m", "benchmarks", "--quick", "--wait-quiet", "0", "--out", session.create_tmp())
