"""The rank program of tests/test_distributed.py, run by ``mpiexec -n N python tests/mpi_worker.py MODE ...``.

Every rank builds the same data and model from a case (a JSON-ready dict),
trains with ``comm=MPI.COMM_WORLD`` and writes what it got to
``OUT/<case>.rank<r>.npz``; the test runs the same cases in one process
(:func:`run_case` with ``comm=None``) and compares. Modes:

* ``cases CASES.json OUT``: train every case, write the results;
* ``raise-callback RANK``: a callback raises on rank ``RANK`` during training;
* ``bad-data RANK OUT``, ``other-call RANK OUT``, ``bad-argument RANK OUT``: rank ``RANK`` gets X with
  a NaN in its share of the rows, or another batch size, or every rank epochs=0; each rank writes the
  error it caught to ``OUT/refused.rank<r>.txt``;
* ``kill RANK``: rank ``RANK`` kills itself (SIGKILL) during training;
* ``transfers OUT``: count the host<->device crossings of a run on array-api-strict's simulated
  accelerator, for 1 and 3 epochs, into ``OUT/transfers.rank<r>.json``;
* ``mmap FILE OUT BATCH [one-process]``: one epoch on ``np.load(FILE, mmap_mode="r")`` (``BATCH``:
  ``full`` in order, or a batch size, shuffled), recording how much of the file each rank mapped in
  and its peak traced allocation (``one-process``: without MPI).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tracemalloc

import numpy as np

import xpnet
from xpnet import schedules


def data_for(case: dict) -> dict:
    """The case's arrays, the same on every rank and in the test process."""
    rng = np.random.default_rng(case.get("data_seed", 0))
    sizes, output, n = case["sizes"], case.get("output", "softmax"), case["n"]
    n_all = n + case.get("n_val", 0)
    X = rng.standard_normal((n_all, sizes[0]))
    if output == "softmax":
        y = np.argmax(X @ rng.standard_normal((sizes[0], sizes[-1])), axis=1)
    elif output == "sigmoid":
        y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    else:
        y = X @ rng.standard_normal((sizes[0], sizes[-1]))
    out = {"X": X[:n], "y": y[:n]}
    if case.get("n_val"):
        out["validation_data"] = (X[n:], y[n:])
    if case.get("sample_weight"):
        out["sample_weight"] = rng.uniform(0.2, 3.0, n)
    return out


def train_kwargs(case: dict) -> dict:
    kwargs = dict(case.get("train", {}))
    if "step_lr" in case:
        kwargs["lr"] = schedules.StepDecay(case["step_lr"], step_size=2, gamma=0.5)
    if case.get("plateau"):
        kwargs["callbacks"] = [xpnet.ReduceLROnPlateau(factor=0.5, patience=1)]
    return kwargs


def run_case(case: dict, comm, **extra) -> tuple[list, xpnet.History]:
    """Train the case's model; its parameters as NumPy arrays and the history."""
    if str(case.get("backend") or "").startswith("jax"):  # float64 on JAX, as tests/conftest.py sets it
        import jax

        jax.config.update("jax_enable_x64", True)
    data = data_for(case)
    model = xpnet.MLP(case["sizes"], hidden=case.get("hidden", "tanh"), output=case.get("output", "softmax"),
                      dtype=case.get("dtype", "float64"), seed=case.get("seed", 0))
    X, y = data.pop("X"), data.pop("y")
    history = xpnet.train(model, X, y, backend=case.get("backend"), comm=comm,
                          **data, **train_kwargs(case), **extra)
    return [xpnet.to_numpy(a) for pair in model.params for a in pair], history


def history_arrays(history: xpnet.History) -> dict:
    keys = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")
    return {f"history_{k}": np.asarray(getattr(history, k)) for k in keys if getattr(history, k, None)}


def _save(out: str, name: str, rank: int, params: list, history: xpnet.History, **more) -> None:
    arrays = {f"p{i}": p for i, p in enumerate(params)}
    np.savez(os.path.join(out, f"{name}.rank{rank}.npz"), **arrays, **history_arrays(history),
             epochs=history.epochs, **more)


def cases_mode(comm, path: str, out: str) -> None:
    with open(path) as f:
        cases = json.load(f)
    for case in cases:
        params, history = run_case(case, comm)
        _save(out, case["name"], comm.Get_rank(), params, history)


class RaiseAt(xpnet.Callback):
    """Raises on one rank at the end of epoch 2 (the others go on into the next step's allreduce)."""

    def __init__(self, rank: int, comm) -> None:
        self.rank, self.comm, self.every = rank, comm, 1

    def on_epoch_end(self, run, epoch, logs) -> None:
        if epoch == 2 and self.comm.Get_rank() == self.rank:
            raise RuntimeError(f"a callback failed on purpose on rank {self.rank}")


class KillAt(RaiseAt):
    def on_epoch_end(self, run, epoch, logs) -> None:
        if epoch == 2 and self.comm.Get_rank() == self.rank:
            os.kill(os.getpid(), signal.SIGKILL)


FAIL_CASE = {"name": "fail", "sizes": [3, 5, 3], "n": 40, "train": {"epochs": 1000, "batch_size": 8}}


def refused_mode(comm, mode: str, rank: int, out: str) -> None:
    """Rank ``rank`` gets a NaN in its share of X (``bad-data``) or another batch size (``other-call``), or
    every rank gets epochs=0 (``bad-argument``); every rank catches what train raises and writes it to
    ``OUT/refused.rank<r>.txt``."""
    data = data_for(FAIL_CASE)
    X, batch_size, epochs = data["X"].copy(), 8, 0 if mode == "bad-argument" else 5
    if comm.Get_rank() == rank and mode == "bad-data":
        X[rank * len(X) // comm.Get_size(), 1] = np.nan  # in the rows this rank alone checks
    if comm.Get_rank() == rank and mode == "other-call":
        batch_size = 4
    model = xpnet.MLP(FAIL_CASE["sizes"], output="softmax", dtype="float64")
    try:
        xpnet.train(model, X, data["y"], epochs=epochs, batch_size=batch_size, comm=comm)
    except xpnet.XpnetError as exc:
        with open(os.path.join(out, f"refused.rank{comm.Get_rank()}.txt"), "w") as f:
            f.write(f"{type(exc).__name__}: {exc}")


def failure_mode(comm, mode: str, rank: int, out: str | None) -> None:
    if mode in ("bad-data", "other-call", "bad-argument"):
        refused_mode(comm, mode, rank, out)
    else:
        watcher = (RaiseAt if mode == "raise-callback" else KillAt)(rank, comm)
        run_case(FAIL_CASE, comm, callbacks=[watcher])
    print(f"rank {comm.Get_rank()} finished", flush=True)


def transfers_mode(comm, out: str) -> None:
    """Train 1 and then 3 epochs on ``array_api_strict:device1`` counting the arrays that cross between
    the host and the device (as tests/test_devices.py counts them)."""
    import array_api_strict as strict

    cpu, Array = strict.Device("CPU_DEVICE"), type(strict.asarray(0.0))
    real_asarray, real_to_device = strict.asarray, Array.to_device
    counts = {"to_device": 0, "to_host": 0}

    def asarray(obj, *args, device=None, **kwargs):
        counts["to_device"] += device not in (None, cpu) and not isinstance(obj, Array)
        return real_asarray(obj, *args, device=device, **kwargs)

    def to_device(a, device, *args, **kwargs):
        counts["to_host"] += a.device != cpu and device == cpu
        return real_to_device(a, device, *args, **kwargs)

    strict.asarray, Array.to_device = asarray, to_device
    data, runs = data_for(FAIL_CASE), []
    for epochs in (1, 3):
        counts.update(to_device=0, to_host=0)
        model = xpnet.MLP(FAIL_CASE["sizes"], output="softmax", dtype="float64")
        xpnet.train(model, data["X"], data["y"], epochs=epochs, batch_size=8,
                    backend="array_api_strict:device1", comm=comm)
        runs.append(dict(counts))
    with open(os.path.join(out, f"transfers.rank{comm.Get_rank()}.json"), "w") as f:
        json.dump(runs, f)


def _mapped_kib(path: str) -> int:
    """KiB of ``path``'s mappings resident in this process (pages it touched), from /proc/self/smaps."""
    total, inside = 0, False
    real = os.path.realpath(path)
    with open("/proc/self/smaps") as f:
        for line in f:
            first = line.split(maxsplit=1)[0]
            if "-" in first and not first.endswith(":"):
                inside = line.rstrip().endswith(real)
            elif inside and first == "Rss:":
                total += int(line.split()[1])
    return total


def mmap_mode(comm, path: str, out: str, batch: str) -> None:
    """Train one epoch on ``X`` memory-mapped from ``path`` (labels in ``<path>-y.npy``): full batch in
    order (``batch="full"``: each rank's rows are one block) or shuffled batches of ``int(batch)`` rows."""
    X = np.load(path, mmap_mode="r")
    y = np.load(path.replace(".npy", "-y.npy"))
    model = xpnet.MLP([X.shape[1], 16, 2], output="softmax", dtype="float64", seed=0)
    tracemalloc.start()
    history = xpnet.train(model, X, y, epochs=1, batch_size=None if batch == "full" else int(batch),
                          shuffle=batch != "full", optimizer="sgd", lr=0.1, comm=comm)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rank = 0 if comm is None else comm.Get_rank()
    _save(out, f"mmap-{batch}", rank, [xpnet.to_numpy(a) for p in model.params for a in p], history,
          mapped_kib=_mapped_kib(path), traced_peak=peak)


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "mmap" and argv[4:] == ["one-process"]:
        mmap_mode(None, argv[1], argv[2], argv[3])
        return
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    if mode == "cases":
        cases_mode(comm, argv[1], argv[2])
    elif mode == "transfers":
        transfers_mode(comm, argv[1])
    elif mode == "mmap":
        mmap_mode(comm, argv[1], argv[2], argv[3])
    else:
        failure_mode(comm, mode, int(argv[1]), argv[2] if len(argv) > 2 else None)


if __name__ == "__main__":
    main(sys.argv[1:])
