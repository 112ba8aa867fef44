"""``python -m benchmarks.distributed``: data-parallel training on MPI, measured here and modelled beyond.

Measures the mnist-mlp step (784-512-512-10 ReLU/softmax, global batch 128,
float32, SGD, one epoch of 60,000 rows: 469 steps; :mod:`benchmarks.workloads`)
with ``xpnet.train(..., comm=MPI.COMM_WORLD)`` under ``mpiexec -n 1`` and
``-n 2``, one BLAS thread per rank, and splits the time per step into
compute and communication (the gradient allreduce, timed inside the step;
it includes waiting for the slower rank). It also times the allreduce alone
(after a barrier) for one number and for the gradient's bytes: the latency
and bandwidth of this machine's MPI.

A cost model then predicts the step beyond this machine: per-rank compute
of its share of the batch plus a ring allreduce of the gradient bytes ``G``
(``2 (N-1) latency + 2 (N-1)/N G / bandwidth``), plus, for GPUs on xpnet's
staged path, one device-to-host and one host-to-device copy of ``G`` per step.
The interconnect figures it assumes are listed in :data:`LINKS` and printed
with the results. Writes ``benchmarks/results/distributed.json`` and
``distributed.md``.

Examples::

    python -m benchmarks.distributed                 # 1 and 2 ranks, 3 repeats
    python -m benchmarks.distributed --ranks 1,2,4 --repeats 5
    python -m benchmarks.distributed --quick         # 2,000 rows, 1 repeat: a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results"
SIZES = (784, 512, 512, 10)
BATCH = 128
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: Interconnects of the model: (bandwidth per direction in GB/s, latency per message in µs, what it is).
#: Bandwidths are what a ring achieves, about 80% of the link's nominal rate.
LINKS = {
    "nvlink": (360.0, 10.0, "NVLink 4 (H100/H200 SXM): 450 GB/s per direction, NCCL ring ~80%"),
    "pcie": (20.0, 10.0, "PCIe Gen5 x16: 64 GB/s nominal; ~20 GB/s for copies from pageable host memory"),
    "host": (10.0, 2.0, "MPI allreduce through shared host memory on a GPU server (this VM measures less)"),
    "ib400": (40.0, 5.0, "InfiniBand NDR 400 Gb/s = 50 GB/s per direction, one NIC per node in the ring"),
    "eth100": (10.0, 20.0, "100 Gb/s Ethernet (RoCE) = 12.5 GB/s per direction"),
}
#: GPU step compute the model assumes (not measured: no GPU here): xpnet's mnist-mlp step is ~50 CuPy
#: kernel launches at ~8 µs of Python and launch overhead each; its 0.5 GFLOP take ~10 µs at 50 TFLOP/s.
GPU_STEP_MS = 0.4


# -- the worker: one per rank, under mpiexec ------------------------------------------------------
def _worker(args: argparse.Namespace) -> None:
    from mpi4py import MPI

    import xpnet
    from benchmarks.workloads import load_data

    comm = MPI.COMM_WORLD
    X, y = load_data("teacher", args.rows)
    _timed_epoch(xpnet, X, y, comm, warmup=True)
    runs = [_timed_epoch(xpnet, X, y, comm) for _ in range(args.repeats)]
    if comm.Get_size() == 1:  # half a batch's compute, without a second rank on the CPUs: the model's slope
        for run in runs:
            run["half_batch_step_s"] = _timed_epoch(xpnet, X, y, comm, batch=BATCH // 2)["step_s"]
    n_params = sum(a * b + b for a, b in zip(SIZES[:-1], SIZES[1:]))
    alone = {"latency_s": _allreduce_alone(comm, 1), "gradient_s": _allreduce_alone(comm, n_params)}
    gathered = comm.gather({"runs": runs, "alone": alone}, root=0)
    if comm.Get_rank() == 0:
        Path(args.json).write_text(json.dumps({"ranks": comm.Get_size(), "per_rank": gathered,
                                               "n_params": n_params, "rows": args.rows}))


def _timed_epoch(xpnet, X, y, comm, warmup: bool = False, batch: int = BATCH) -> dict:
    """One epoch (or a 20-step warm-up) of mnist-mlp; this rank's seconds per step and in the allreduce."""
    rows = 20 * batch if warmup else X.shape[0]
    timer = _Timer(xpnet)
    model = xpnet.MLP(list(SIZES), hidden="relu", output="softmax", init="he", seed=0, dtype="float32")
    history = xpnet.train(model, X[:rows], y[:rows], epochs=1, batch_size=batch, shuffle=False,
                          optimizer="sgd", lr=0.01, sync_every=1, comm=comm, callbacks=[timer.callback])
    steps = -(-rows // batch)
    return {"step_s": timer.seconds / steps, "allreduce_s": timer.allreduce / steps, "steps": steps,
            "loss": history.loss[-1]}


class _Timer:
    """A callback timing the loop (from before the first step to after the last sync) and its allreduces."""

    def __init__(self, xpnet) -> None:
        timer = self

        class Callback(xpnet.Callback):
            def on_train_begin(self, run) -> None:
                timer.seconds = time.perf_counter()
                timer.allreduce = getattr(run.parallel, "allreduce_seconds", 0.0)

            def on_train_end(self, run) -> None:
                timer.seconds = time.perf_counter() - timer.seconds
                timer.allreduce = getattr(run.parallel, "allreduce_seconds", 0.0) - timer.allreduce

        self.callback, self.seconds, self.allreduce = Callback(), 0.0, 0.0


def _allreduce_alone(comm, count: int, iterations: int = 50) -> float:
    """Seconds per in-place allreduce of ``count`` float32 (median of the ranks' means, after a barrier)."""
    import numpy as np
    from mpi4py import MPI

    buffer = np.ones(count, np.float32)
    for _ in range(5):
        comm.Allreduce(MPI.IN_PLACE, buffer)
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(iterations):
        comm.Allreduce(MPI.IN_PLACE, buffer)
    return (time.perf_counter() - start) / iterations


# -- the launcher ----------------------------------------------------------------------------------
def _mpiexec() -> str:
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        sys.exit("benchmarks.distributed: no mpiexec; pip install '.[mpi]' (mpi4py and mpich)")
    return found


def _measure(ranks: int, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        env = {**os.environ, **ONE_THREAD, "PYTHONPATH": os.pathsep.join(
            [str(HERE.parent), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        command = [_mpiexec(), "-n", str(ranks), sys.executable, "-m", "benchmarks.distributed", "--_worker",
                   "--json", str(out), "--rows", str(args.rows), "--repeats", str(args.repeats)]
        subprocess.run(command, env=env, check=True, timeout=3600)
        return json.loads(out.read_text())


def summarize(result: dict) -> dict:
    """Medians over the repeats: the slowest rank's step, the ranks' mean allreduce; compute is the rest."""
    per_rank = result["per_rank"]
    steps, allreduces, losses = [], [], []
    for i in range(len(per_rank[0]["runs"])):
        runs = [rank["runs"][i] for rank in per_rank]
        steps.append(max(r["step_s"] for r in runs))
        allreduces.append(statistics.mean(r["allreduce_s"] for r in runs))
        losses.append(runs[0]["loss"])
    step, allreduce = statistics.median(steps), statistics.median(allreduces)
    alone = {k: statistics.median(rank["alone"][k] for rank in per_rank) for k in ("latency_s", "gradient_s")}
    half = [run["half_batch_step_s"] for run in per_rank[0]["runs"] if "half_batch_step_s" in run]
    return {**({"half_batch_compute_ms": 1e3 * statistics.median(half)} if half else {}),
            "ranks": result["ranks"], "step_ms": 1e3 * step, "allreduce_ms": 1e3 * allreduce,
            "compute_ms": 1e3 * (step - allreduce), "rows_per_s": BATCH / step, "loss": losses[-1],
            "allreduce_alone_ms": 1e3 * alone["gradient_s"], "latency_us": 1e6 * alone["latency_s"],
            "gradient_mb": 4 * result["n_params"] / 1e6}


# -- the cost model ----------------------------------------------------------------------------------
def ring_allreduce_s(n: int, nbytes: float, gbps: float, latency_us: float) -> float:
    """A ring allreduce of ``nbytes`` over ``n`` ranks: reduce-scatter then allgather, ``2 (n-1)`` steps."""
    if n == 1:
        return 0.0
    return 2 * (n - 1) * latency_us * 1e-6 + 2 * (n - 1) / n * nbytes / (gbps * 1e9)


def _shm_link(measured: dict) -> tuple[float, float]:
    """This machine's MPI through shared memory, from the 2-rank allreduce alone: (GB/s, µs per message)."""
    two = measured.get(2)
    if two is None:
        return 5.0, 5.0
    latency = two["latency_us"] / 2  # 2 (n-1) = 2 messages for n = 2
    transfer = max(1e-9, two["allreduce_alone_ms"] / 1e3 - 2 * latency * 1e-6)
    return (2 * (2 - 1) / 2) * two["gradient_mb"] * 1e6 / transfer / 1e9, latency


def compute_model(measured: dict) -> tuple[float, float]:
    """CPU compute per step as ``a + c * rows`` (ms) through one rank's steps of 128 and of 64 rows."""
    full, half = measured[1]["compute_ms"], measured[1]["half_batch_compute_ms"]
    slope = max(0.0, (full - half) / (BATCH - BATCH / 2))
    return full - slope * BATCH, slope


def predict(measured: dict, gpu_step_ms: float = GPU_STEP_MS) -> dict:
    """Predicted ms per step for N = 1 ... 32 (8 ranks a node), global batch 128 (strong) and 128 per
    rank (weak), for CPU ranks (measured compute) and GPU ranks (assumed compute) on each interconnect."""
    nbytes, pcie = measured[1]["gradient_mb"] * 1e6, LINKS["pcie"][0]
    shm = _shm_link(measured)
    a, c = compute_model(measured)
    counts = (1, 2, 4, 8, 16, 32)
    scenarios = {
        "cpu ranks, this machine's compute and MPI / ib400": (
            lambda b: a + c * b, shm, LINKS["ib400"][:2], 0.0),
        "gpu ranks, xpnet staged (pcie + host memory) / ib400": (
            lambda b: gpu_step_ms, LINKS["host"][:2], LINKS["ib400"][:2], 2 * nbytes / (pcie * 1e9)),
        "gpu ranks, NCCL (not in xpnet) nvlink / ib400": (
            lambda b: gpu_step_ms, LINKS["nvlink"][:2], LINKS["ib400"][:2], 0.0),
        "gpu ranks, NCCL (not in xpnet) nvlink / eth100": (
            lambda b: gpu_step_ms, LINKS["nvlink"][:2], LINKS["eth100"][:2], 0.0),
    }
    table = {}
    for name, (compute, intra, inter, stage) in scenarios.items():
        rows = {}
        for n in counts:
            gbps = intra[0] if n <= 8 else min(intra[0], inter[0])  # the ring's slowest hop
            latency = intra[1] if n <= 8 else max(intra[1], inter[1])
            comm_ms = 1e3 * (ring_allreduce_s(n, nbytes, gbps, latency) + (stage if n > 1 else 0.0))
            strong, weak = compute(BATCH / n), compute(BATCH)
            rows[n] = {"strong_ms": strong + comm_ms, "weak_ms": weak + comm_ms, "comm_ms": comm_ms,
                       "strong_speedup": compute(BATCH) / (strong + comm_ms),
                       "weak_efficiency": weak / (weak + comm_ms)}
        table[name] = rows
    return {"scenarios": table, "shm_gbps": shm[0], "shm_latency_us": shm[1], "cpu_compute_ms": [a, c],
            "gpu_step_ms": gpu_step_ms, "links": LINKS}


def stops_scaling(rows: dict) -> tuple[str, str]:
    """Where scaling stops paying: strong, the rank count after which the step gets no faster; weak, the
    first rank count at which communication takes half the step or more."""
    counts = sorted(rows)
    slower = (n for n, m in zip(counts, counts[1:]) if rows[m]["strong_ms"] >= rows[n]["strong_ms"])
    strong = next((f"N = {n}" for n in slower), f"beyond N = {counts[-1]}")
    weak = next((f"N = {n}" for n in counts if rows[n]["weak_efficiency"] < 0.5), f"beyond N = {counts[-1]}")
    return strong, weak


def model_check(measured: dict, model: dict) -> str:
    """The model's step for this machine's 2 ranks against the measured one."""
    if 2 not in measured:
        return ""
    predicted = model["scenarios"]["cpu ranks, this machine's compute and MPI / ib400"][2]["strong_ms"]
    two = measured[2]
    return (f"Model check on this machine, 2 ranks: predicted {predicted:.2f} ms a step, measured "
            f"{two['step_ms']:.2f} ms. The ranks computed their 64 rows in {two['compute_ms']:.2f} ms, where "
            f"one rank alone takes {measured[1]['half_batch_compute_ms']:.2f} ms (two ranks share the CPUs' "
            f"caches and memory bandwidth, and the machine with other processes), and the allreduce took "
            f"{two['allreduce_ms']:.2f} ms in the step (waiting for the slower rank included) against "
            f"{two['allreduce_alone_ms']:.2f} ms alone.")


# -- the report ---------------------------------------------------------------------------------------
def markdown(measured: dict, model: dict, meta: dict) -> str:
    lines = [f"Measured on {meta['machine']} ({meta['date']}; `{meta['command']}`; one BLAS thread per rank; "
             f"load average at start {meta['load']}): mnist-mlp, 784-512-512-10, global batch 128, float32, "
             f"SGD, {meta['steps']} steps; median of {meta['repeats']} epochs. Allreduce = the gradient "
             "allreduce inside the step (it includes waiting for the slower rank); alone = the same "
             f"{measured[1]['gradient_mb']:.2f} MB allreduced back to back after a barrier.", "",
             "| ranks | ms/step | compute ms | allreduce ms | allreduce alone ms | rows/s | speedup "
             "| final loss |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    base = measured[1]["step_ms"]
    for n, m in sorted(measured.items()):
        lines.append(f"| {n} | {m['step_ms']:.2f} | {m['compute_ms']:.2f} | {m['allreduce_ms']:.2f} | "
                     f"{m['allreduce_alone_ms']:.2f} | {m['rows_per_s']:,.0f} | {base / m['step_ms']:.2f} | "
                     f"{m['loss']:.4f} |")
    a, c = model["cpu_compute_ms"]
    lines += ["", "Model: step = compute + 2(N-1)·latency + 2(N-1)/N·G/bandwidth (+ 2G/PCIe on xpnet's "
              f"staged GPU path); G = {measured[1]['gradient_mb']:.2f} MB; CPU compute = {a:.2f} ms + "
              f"{c * 1e3:.1f} µs "
              f"per row (through one rank's steps of 128 and 64 rows: {measured[1]['compute_ms']:.2f} and "
              f"{measured[1]['half_batch_compute_ms']:.2f} ms); GPU compute assumed "
              f"{model['gpu_step_ms']} ms a step "
              f"whatever the rows (launch-bound; not measured, no GPU here); this machine's MPI: "
              f"{model['shm_gbps']:.1f} GB/s, {model['shm_latency_us']:.0f} µs (from the 2-rank allreduce "
              "alone); "
              "8 ranks a node, N = 16, 32 is 2 and 4 nodes.", ""]
    lines += [f"- {name}: {bw:g} GB/s, {lat:g} µs: {what}"
              for name, (bw, lat, what) in model["links"].items()]
    counts = sorted(next(iter(model["scenarios"].values())))
    lines += ["", "| scenario | " + " | ".join(f"N={n}" for n in counts) + " | strong: no faster after | "
              "weak: below 50% at |", "|---|" + "---:|" * len(counts) + "---|---|"]
    for name, rows in model["scenarios"].items():
        cells = [f"{rows[n]['strong_ms']:.2f} ms ×{rows[n]['strong_speedup']:.2f} / "
                 f"{rows[n]['weak_efficiency']:.0%}" for n in counts]
        lines.append(f"| {name} | " + " | ".join(cells) + " | " + " | ".join(stops_scaling(rows)) + " |")
    lines += ["", "Each cell: ms per step at global batch 128, its speedup over one rank, and the "
              "weak-scaling efficiency with 128 rows per rank (compute / (compute + communication)).", "",
              model_check(measured, model)]
    return "\n".join(lines) + "\n"


def _meta(args: argparse.Namespace) -> dict:
    return {"machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs, {platform.platform()}",
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "load": list(os.getloadavg()),
            "command": "python -m benchmarks.distributed" + (" --quick" if args.quick else ""),
            "steps": -(-args.rows // BATCH), "repeats": args.repeats}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__.splitlines()[0])
    p.add_argument("--ranks", default="1,2", help="rank counts to measure (default 1,2; 1 is needed)")
    p.add_argument("--repeats", type=int, default=3, help="timed epochs per rank count (median reported)")
    p.add_argument("--rows", type=int, default=60_000, help="rows of the epoch (default 60,000: 469 steps)")
    p.add_argument("--quick", action="store_true", help="2,000 rows and 1 repeat: a smoke test")
    p.add_argument("--gpu-step-ms", type=float, default=GPU_STEP_MS,
                   help="GPU compute per step the model assumes")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write distributed.json/.md")
    p.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.rows, args.repeats = 2_000, 1
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args._worker:
        _worker(args)
        return
    started = _meta(args)
    counts = sorted({int(r) for r in args.ranks.split(",")} | {1})
    measured = {n: summarize(_measure(n, args)) for n in counts}
    model = predict(measured, args.gpu_step_ms)
    text = markdown(measured, model, started)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "distributed.json").write_text(json.dumps(
        {"meta": started, "measured": measured, "model": model}, indent=1, default=str))
    (args.out / "distributed.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
