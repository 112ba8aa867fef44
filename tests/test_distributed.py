"""Data-parallel training on MPI: real ``mpiexec -n 2`` and ``-n 3`` jobs on the loopback, no mocks.

Each job runs ``tests/mpi_worker.py`` on every rank; the reference is the same
call in this process without a communicator. The parameters and history of
every rank must equal the one-process run's to 1e-10 in float64, and be
identical on every rank. Skipped (with the reason) without mpi4py or
``mpiexec``: ``pip install ".[mpi]"`` brings both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import xpnet

pytest.importorskip("mpi4py", reason="mpi4py is not installed: pip install '.[mpi]' (mpi4py and mpich)")
import mpi_worker  # noqa: E402  (tests/ is on sys.path: pytest puts it there)

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "mpi_worker.py"
JOB_TIMEOUT = 600  # seconds: generous, the CI machine is slow and shared
FAILURE_BOUND = 60  # seconds: a job with a failed rank must end within this


def _mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"  # the mpich wheel puts it next to the interpreter
    return str(beside) if beside.exists() else shutil.which("mpiexec")


MPIEXEC = _mpiexec()
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec on PATH: pip install '.[mpi]' brings one")


def _env() -> dict:
    """The ranks import the xpnet this process tests (the installed one under nox, the checkout's with
    PYTHONPATH), with one BLAS thread each: the machine is small and shared."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    here = str(Path(xpnet.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([here, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def mpiexec(n: int, *args: str, timeout: float = JOB_TIMEOUT, cwd: Path | None = None
            ) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``mpiexec -n n python *args``; the finished process and its wall time. On timeout the whole
    job (its own process group) is killed and the test fails."""
    start = time.monotonic()
    proc = subprocess.Popen([MPIEXEC, "-n", str(n), sys.executable, *args], cwd=cwd, env=_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"mpiexec -n {n} {' '.join(args)} did not end within {timeout} s\n{out}\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), time.monotonic() - start


def _skip_unless_numpy(backend) -> None:
    if backend.name != "numpy":
        pytest.skip("backend-independent: runs once, with the numpy backend")


# -- the same numbers on 1, 2 or 3 processes ---------------------------------------------------
CASES = [
    {"name": "sgd-momentum", "sizes": [4, 6, 3], "n": 23,
     "train": {"epochs": 3, "batch_size": 8, "optimizer": "sgd", "momentum": 0.9, "lr": 0.1}},
    {"name": "adam-dropout-validation", "sizes": [4, 6, 5, 3], "n": 23, "n_val": 7,
     "train": {"epochs": 4, "batch_size": 5, "optimizer": "adam", "lr": 0.01, "dropout": 0.3}},
    {"name": "sample-weights-last-batch-of-one", "sizes": [4, 5, 3], "n": 21, "sample_weight": True,
     "train": {"epochs": 3, "batch_size": 10, "optimizer": "nesterov", "lr": 0.05}},
    {"name": "batches-smaller-than-the-ranks", "sizes": [3, 4, 2], "n": 9, "n_val": 2, "hidden": "relu",
     "train": {"epochs": 2, "batch_size": 2, "optimizer": "adam", "lr": 0.02}},
    {"name": "full-batch-schedule-plateau-decay", "sizes": [3, 5, 1], "n": 17, "n_val": 5,
     "output": "sigmoid", "step_lr": 0.05, "plateau": True,
     "train": {"epochs": 6, "batch_size": None, "optimizer": "rmsprop", "weight_decay": 0.01}},
    {"name": "early-stopping-adamw", "sizes": [4, 8, 3], "n": 30, "n_val": 9,
     "train": {"epochs": 40, "batch_size": 7, "optimizer": "adamw", "lr": 0.3, "early_stopping": 2}},
    {"name": "regression-adagrad-no-shuffle", "sizes": [3, 4, 2], "n": 19, "output": "identity",
     "train": {"epochs": 3, "batch_size": 6, "optimizer": "adagrad", "lr": 0.1, "shuffle": False}},
]
_JOBS: dict[tuple[str, int], Path] = {}


def _job(spec: str, n: int, tmp_path_factory) -> Path:
    """Run every case under ``mpiexec -n n`` on ``spec`` once per session; the directory of results."""
    if (spec, n) not in _JOBS:
        out = tmp_path_factory.mktemp(f"mpi-{spec.replace(':', '-')}-{n}")
        (out / "cases.json").write_text(json.dumps([dict(c, backend=spec) for c in CASES]))
        job, _ = mpiexec(n, str(WORKER), "cases", str(out / "cases.json"), str(out))
        assert job.returncode == 0, job.stderr
        _JOBS[spec, n] = out
    return _JOBS[spec, n]


def _ranks(out: Path, name: str, n: int) -> list:
    return [np.load(out / f"{name}.rank{r}.npz") for r in range(n)]


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_rank_ends_with_the_one_process_numbers(backend, case, n, tmp_path_factory):
    out = _job(backend.spec, n, tmp_path_factory)
    params, history = mpi_worker.run_case(dict(case, backend="numpy"), None)  # the reference: one process
    expected = mpi_worker.history_arrays(history)
    ranks = _ranks(out, case["name"], n)
    for got in ranks:
        assert int(got["epochs"]) == history.epochs
        for i, p in enumerate(params):
            np.testing.assert_allclose(got[f"p{i}"], p, rtol=1e-10, atol=1e-10)
        assert sorted(k for k in got.files if k.startswith("history_")) == sorted(expected)
        for key, value in expected.items():
            np.testing.assert_allclose(got[key], value, rtol=1e-10, atol=1e-10, err_msg=key)
    for other in ranks[1:]:  # one allreduce result: the ranks hold the very same bits
        for i in range(len(params)):
            assert np.array_equal(other[f"p{i}"], ranks[0][f"p{i}"])


def test_the_cases_cover_what_they_claim():
    """The short batches really leave ranks without rows, and early stopping really stops."""
    by_name = {c["name"]: c for c in CASES}
    one = by_name["sample-weights-last-batch-of-one"]
    assert one["n"] % one["train"]["batch_size"] == 1  # a last batch of 1 row: 1 or 2 ranks have none
    _, history = mpi_worker.run_case(by_name["early-stopping-adamw"], None)
    assert history.stopped_early and history.epochs < 40


def test_resume_on_another_number_of_ranks(backend, tmp_path):
    """Three epochs on 2 ranks, checkpointed by rank 0; the rest on 3 ranks from that file: the numbers of
    six epochs in one process."""
    _skip_unless_numpy(backend)
    case = dict(CASES[1], name="resume")
    path = str(tmp_path / "run.npz")
    first = dict(case, train=dict(case["train"], epochs=3, checkpoint=path))
    second = dict(case, train=dict(case["train"], epochs=6, checkpoint=path, resume=True))
    for n, part in ((2, first), (3, second)):
        (tmp_path / "cases.json").write_text(json.dumps([part]))
        job, _ = mpiexec(n, str(WORKER), "cases", str(tmp_path / "cases.json"), str(tmp_path))
        assert job.returncode == 0, job.stderr
    params, history = mpi_worker.run_case(dict(case, train=dict(case["train"], epochs=6)), None)
    for got in _ranks(tmp_path, "resume", 3):
        assert int(got["epochs"]) == 6
        for i, p in enumerate(params):
            np.testing.assert_allclose(got[f"p{i}"], p, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(got["history_loss"], history.loss, rtol=1e-10)


def test_a_step_on_a_device_crosses_to_the_host_once_each_way(backend, tmp_path):
    """On array-api-strict's simulated accelerator, each extra epoch of 5 steps moves 5 gradient buffers to
    the host and 5 back, plus the epoch's shuffle order: no per-batch traffic beyond the staged allreduce."""
    _skip_unless_numpy(backend)
    pytest.importorskip("array_api_strict")
    job, _ = mpiexec(2, str(WORKER), "transfers", str(tmp_path))
    assert job.returncode == 0, job.stderr
    steps = -(-mpi_worker.FAIL_CASE["n"] // 8)
    for r in range(2):
        one, three = json.loads((tmp_path / f"transfers.rank{r}.json").read_text())
        assert (three["to_host"] - one["to_host"]) == 2 * steps
        assert (three["to_device"] - one["to_device"]) == 2 * (steps + 1)


# -- memory-mapped data: each rank reads its rows ------------------------------------------------
def test_a_memory_mapped_data_set_is_read_in_shares(backend, tmp_path):
    """On 2 ranks, full batch in order, each rank maps in (reads) only its half of a 32 MiB .npy file
    (the page cache maps whole folios: up to 2 MiB more at the boundary), where one process reads it
    all; in shuffled batches no rank allocates a tenth of the data set. Same numbers."""
    _skip_unless_numpy(backend)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((65_536, 64))
    path = tmp_path / "X.npy"
    np.save(path, X)
    np.save(tmp_path / "X-y.npy", (X[:, 0] + X[:, 1] > 0).astype(np.int64))
    file_kib = path.stat().st_size / 1024
    del X
    one = subprocess.run([sys.executable, str(WORKER), "mmap", str(path), str(tmp_path), "full",
                          "one-process"], env=_env(), capture_output=True, text=True, timeout=JOB_TIMEOUT)
    assert one.returncode == 0, one.stderr
    (tmp_path / "mmap-full.rank0.npz").rename(tmp_path / "one.npz")
    reference = np.load(tmp_path / "one.npz")
    for batch in ("full", "512"):
        job, _ = mpiexec(2, str(WORKER), "mmap", str(path), str(tmp_path), batch)
        assert job.returncode == 0, job.stderr
    assert reference["mapped_kib"] >= 0.95 * file_kib
    for got in _ranks(tmp_path, "mmap-full", 2):
        half = file_kib / 2
        assert half - 64 <= got["mapped_kib"] <= half + 2048 + 64, (got["mapped_kib"], file_kib)
        for i in range(4):
            np.testing.assert_allclose(got[f"p{i}"], reference[f"p{i}"], rtol=1e-10, atol=1e-10)
    for got in _ranks(tmp_path, "mmap-512", 2):
        # what grows with the rows besides X: the one-hot targets (1 MiB) and the epoch's order (0.5 MiB)
        assert got["traced_peak"] < 0.1 * file_kib * 1024, (got["traced_peak"], file_kib)


# -- failures: no rank waits forever ------------------------------------------------------------
def test_a_rank_raising_in_a_callback_ends_the_job(backend):
    _skip_unless_numpy(backend)
    job, seconds = mpiexec(3, str(WORKER), "raise-callback", "1", timeout=FAILURE_BOUND)
    assert job.returncode != 0
    assert "xpnet: rank 1 of 3 failed (RuntimeError: a callback failed on purpose on rank 1)" in job.stderr
    assert "finished" not in job.stdout


def test_a_killed_rank_ends_the_job(backend):
    _skip_unless_numpy(backend)
    job, seconds = mpiexec(3, str(WORKER), "kill", "2", timeout=FAILURE_BOUND)
    assert job.returncode != 0
    assert "finished" not in job.stdout
    assert "signal 9" in job.stdout + job.stderr or "Killed" in job.stdout + job.stderr


@pytest.mark.parametrize("mode, message", [
    ("bad-data", "InvalidArgumentError: rank 1 of 2: X contains NaN or infinity"),
    ("other-call", "InvalidArgumentError: every rank must make the same train() call with the same data, "
                   "but batch_size=4 on rank 1, 8 on rank 0"),
    ("bad-argument", "InvalidArgumentError: epochs must be a positive int"),  # refused before communicating
])
def test_input_refused_on_one_rank_is_refused_on_every_rank(backend, mode, message, tmp_path):
    """Rank 1 alone sees the problem; every rank raises the same error before training (and can catch it)."""
    _skip_unless_numpy(backend)
    job, _ = mpiexec(2, str(WORKER), mode, "1", str(tmp_path), timeout=FAILURE_BOUND)
    assert job.returncode == 0, job.stderr
    caught = [(tmp_path / f"refused.rank{r}.txt").read_text() for r in range(2)]
    assert caught[0] == caught[1]
    assert caught[0].startswith(message), caught[0]


# -- the command line ----------------------------------------------------------------------------
def test_cli_under_mpiexec_trains_data_parallel_and_rank_0_alone_prints(backend, tmp_path):
    _skip_unless_numpy(backend)
    argv = ["-m", "xpnet", "train", "--dataset", "moons", "--epochs", "20", "--batch-size", "32",
            "--dtype", "float64", "--hidden-sizes", "8"]
    one = subprocess.run([sys.executable, *argv, "--save", "one.npz"], cwd=tmp_path, env=_env(),
                         capture_output=True, text=True, timeout=JOB_TIMEOUT)
    assert one.returncode == 0, one.stderr
    job, _ = mpiexec(3, *argv, "--save", "three.npz", cwd=tmp_path)
    assert job.returncode == 0, job.stderr
    timing = re.compile(r" in [0-9.]+ s ")
    assert timing.sub(" ", job.stdout).replace("three.npz", "one.npz") == timing.sub(" ", one.stdout)
    a, b = xpnet.load(tmp_path / "one.npz"), xpnet.load(tmp_path / "three.npz")
    for (Wa, ba), (Wb, bb) in zip(a.params, b.params):
        np.testing.assert_allclose(Wb, Wa, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(bb, ba, rtol=1e-10, atol=1e-10)


def test_the_readme_script_runs_as_written_on_2_ranks(backend, tmp_path):
    """The README's train.py, under mpiexec -n 2 and alone: rank 0 alone prints and writes, same model."""
    _skip_unless_numpy(backend)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    script = next(b for b in blocks if b.startswith("# train.py"))
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "train.py").write_text(script)
    alone = subprocess.run([sys.executable, "train.py"], cwd=tmp_path / "one", env=_env(),
                           capture_output=True, text=True, timeout=JOB_TIMEOUT)
    assert alone.returncode == 0, alone.stderr
    job, _ = mpiexec(2, "train.py", cwd=tmp_path / "two")
    assert job.returncode == 0, job.stderr
    assert job.stdout.count("epoch 20/20") == 1 and job.stdout == alone.stdout
    a, b = xpnet.load(tmp_path / "one" / "moons.npz"), xpnet.load(tmp_path / "two" / "moons.npz")
    for (Wa, ba), (Wb, bb) in zip(a.params, b.params):
        np.testing.assert_allclose(Wb, Wa, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(bb, ba, rtol=1e-10, atol=1e-10)
    assert (tmp_path / "two" / "moons-run.npz").exists()


def test_info_reports_mpi(capsys):
    from xpnet import cli

    assert cli.main(["info"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if "MPI:" in line)
    assert "mpi4py" in line and "mpiexec:" in line


# -- in this process ---------------------------------------------------------------------------
def test_a_communicator_of_one_rank_is_the_one_process_run(backend):
    from mpi4py import MPI

    X, y = xpnet.datasets.blobs(n_samples=40, seed=1)
    runs = []
    for comm in (None, MPI.COMM_SELF):
        model = xpnet.MLP([2, 5, int(y.max()) + 1], output="softmax", dtype="float64", backend=backend)
        history = xpnet.train(model, X, y, epochs=3, batch_size=16, optimizer="adam", lr=0.01, comm=comm)
        runs.append(([xpnet.to_numpy(a) for pair in model.params for a in pair], history.loss))
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][0], runs[1][0]))
    assert runs[0][1] == runs[1][1]


def test_the_cost_model_is_the_ring_formula(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # benchmarks/ is not installed with xpnet
    from benchmarks import distributed as bench

    assert bench.ring_allreduce_s(1, 1e9, 100.0, 5.0) == 0.0
    assert bench.ring_allreduce_s(8, 1e9, 100.0, 0.0) == pytest.approx(2 * 7 / 8 * 1e9 / 100e9)
    assert bench.ring_allreduce_s(4, 0.0, 100.0, 5.0) == pytest.approx(6 * 5e-6)
    rows = {1: {"strong_ms": 4.0, "weak_efficiency": 1.0}, 2: {"strong_ms": 3.0, "weak_efficiency": 0.7},
            4: {"strong_ms": 3.5, "weak_efficiency": 0.4}}
    assert bench.stops_scaling(rows) == ("N = 2", "N = 4")


def test_comm_must_be_an_mpi4py_intracommunicator():
    from mpi4py import MPI

    model = xpnet.MLP([2, 3, 1])
    with pytest.raises(xpnet.InvalidTypeError, match="comm must be an mpi4py intracommunicator"):
        xpnet.train(model, [[0.0, 1.0]], [1], comm="world")
    with pytest.raises(xpnet.InvalidArgumentError, match="COMM_NULL"):
        xpnet.train(model, [[0.0, 1.0]], [1], comm=MPI.COMM_NULL)


def test_get_backend_rank_spreads_gpus_and_leaves_host_specs_alone():
    for spec in ("numpy", "array_api_strict", "array_api_strict:device1"):
        assert xpnet.get_backend(spec, rank=5) is xpnet.get_backend(spec)
    with pytest.raises(xpnet.InvalidArgumentError, match="rank must be a non-negative int"):
        xpnet.get_backend("numpy", rank=-1)
    gpus = _gpu_specs()
    if not gpus:
        pytest.skip("no CUDA GPU here: the rank -> GPU mapping of cupy and torch:cuda was not run")
    for spec, count, index in gpus:
        for rank in range(2 * count + 1):
            assert index(xpnet.get_backend(spec, rank=rank)) == rank % count
        assert index(xpnet.get_backend(f"{spec}:0", rank=1)) == 0  # an explicit index wins


def _gpu_specs() -> list:
    found = []
    try:
        import cupy

        found.append(("cupy", cupy.cuda.runtime.getDeviceCount(), lambda be: be.device.id))
    except Exception:  # noqa: BLE001 - not installed, or no GPU
        pass
    try:
        import torch

        if torch.cuda.is_available():
            found.append(("torch:cuda", torch.cuda.device_count(), lambda be: be.device.index))
    except ImportError:
        pass
    return found
