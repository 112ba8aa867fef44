"""``python -m benchmarks``: run the benchmark suite, one worker process per device.

Examples::

    python -m benchmarks                      # everything, every device present
    python -m benchmarks --quick              # smoke test, seconds
    python -m benchmarks --device cpu --workloads tiny,mnist-mlp --impls xpnet,ceiling,torch
    python -m benchmarks --device cpu --workloads mnist-mlp,wide --impls xpnet --merge   # re-time xpnet only
    python -m benchmarks.report benchmarks/results/cpu.json benchmarks/results/cuda.json

On a shared machine each measurement first waits (``--wait-quiet``) for other
processes to leave the CPUs, measures how much CPU they took meanwhile (from
``/proc/stat`` minus this process's own CPU time), repeats a disturbed
measurement once and flags it (``†``) in the table if it stays disturbed.

The parent process starts ``python -m benchmarks --_worker --device DEV`` for
each device in turn (never two at once, so the CPU and the GPU runs do not
disturb each other), each writes ``<out>/<device>.json`` (and the same file
as ``<device>-<machine id>.json``, the id a hash of the CPU/GPU model, not the
host name), and the parent writes the markdown table and the chart from them.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from . import report
from .workloads import SWEEP_BATCHES, WORKLOAD_GROUPS, make_workloads

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results"
#: Exit status of a worker whose device is not present (a skip, not a failure).
SKIP = 3
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: A measurement during which other processes used more than this share of the CPUs is re-run once
#: (with --wait-quiet) and flagged in the table if it stays disturbed.
NOISY = 0.10


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _portable(path: Path) -> str:
    """A path as recorded in results: relative to the working directory, never this machine's absolute one."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return Path(path).name


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time xpnet against the matmul ceiling, a classic from-scratch implementation, "
                    "PyTorch eager and scikit-learn on the same training work.")
    p.add_argument("--device", choices=("cpu", "cuda", "all"), default="all",
                   help="where to run (default: all; cuda is skipped with a message when absent)")
    p.add_argument("--workloads", type=_csv, default=list(WORKLOAD_GROUPS),
                   help=f"comma-separated subset of {','.join(WORKLOAD_GROUPS)} (default: all)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats of every workload and sweep point, after a warm-up (default 3; "
                        "1 with --quick)")
    p.add_argument("--sweep-batches", type=lambda s: [int(b) for b in _csv(s)], default=None,
                   help=f"batch sizes of the sweep (default {','.join(map(str, SWEEP_BATCHES))})")
    p.add_argument("--quick", action="store_true",
                   help="smoke test on small sizes (2,000 rows, 50 tiny steps, 2 sweep points, 1 repeat); "
                        "writes to <out>/quick unless --out is given")
    p.add_argument("--out", type=Path, default=None, help=f"results folder (default {DEFAULT_OUT})")
    p.add_argument("--impls", type=_csv, default=None,
                   help="comma-separated filter: names (xpnet, ceiling, plain, torch = PyTorch eager, "
                        "sklearn), name:library (xpnet:numpy, ceiling:torch) or :library "
                        "(:numpy, :torch, :cupy)")
    p.add_argument("--threads", type=int, default=None,
                   help="limit every library to N CPU threads (sets OMP/OPENBLAS/MKL_NUM_THREADS and "
                        "torch.set_num_threads); default: the libraries' own defaults, recorded in the JSON")
    p.add_argument("--wait-quiet", type=float, default=None,
                   help="before each measurement wait up to this many seconds for other processes to leave "
                        "the CPUs (to below 15%% of them), and re-run once a measurement during which others "
                        f"used more than {NOISY:.0%}% of them (default 60; 0 with --quick; 0 disables both)")
    p.add_argument("--wait-budget", type=float, default=300.0,
                   help="total seconds a worker may spend waiting for quiet CPUs and re-running disturbed "
                        "measurements (default 300); after that it measures on and flags what was disturbed")
    p.add_argument("--merge", action="store_true",
                   help="replace only the measured rows in the existing <out>/<device>.json and keep the "
                        "others (e.g. re-measure xpnet after a change: --impls xpnet --merge); ratios are "
                        "recomputed")
    p.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    p.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    bad = [w for w in args.workloads if w not in WORKLOAD_GROUPS]
    if bad:
        p.error(f"unknown workload(s) {', '.join(bad)}; choose from {', '.join(WORKLOAD_GROUPS)}")
    if args.repeats is not None and args.repeats < 1:
        p.error("--repeats must be >= 1")
    if args.wait_quiet is None:
        args.wait_quiet = 0.0 if args.quick else 60.0
    if args.out is None:
        args.out = DEFAULT_OUT / "quick" if args.quick else DEFAULT_OUT
    args.out = args.out.resolve()
    return args


# -- the parent ---------------------------------------------------------------------
def orchestrate(args: argparse.Namespace) -> int:
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    args.out.mkdir(parents=True, exist_ok=True)
    if args.quick and args.out == (DEFAULT_OUT / "quick").resolve():
        (args.out / ".gitignore").write_text("*\n")
    env = os.environ.copy()
    if args.threads:
        env.update({k: str(args.threads) for k in THREAD_ENV})
    produced, failed = [], []
    t0 = time.perf_counter()
    for dev in devices:
        cmd = [sys.executable, "-m", "benchmarks", "--_worker", "--device", dev,
               "--workloads", ",".join(args.workloads), "--out", str(args.out)]
        if args.repeats is not None:
            cmd += ["--repeats", str(args.repeats)]
        if args.quick:
            cmd.append("--quick")
        if args.impls:
            cmd += ["--impls", ",".join(args.impls)]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        if args.sweep_batches:
            cmd += ["--sweep-batches", ",".join(map(str, args.sweep_batches))]
        cmd += ["--wait-quiet", str(args.wait_quiet), "--wait-budget", str(args.wait_budget)]
        if args.merge:
            cmd.append("--merge")
        print(f"== {dev}: {' '.join(cmd[1:])}", flush=True)
        rc = subprocess.call(cmd, env=env, cwd=HERE.parent)
        if rc == 0:
            produced.append(args.out / f"{dev}.json")
        elif rc == SKIP:
            print(f"== {dev}: skipped (see the message above)", flush=True)
        else:
            failed.append(dev)
            print(f"== {dev}: worker failed with exit status {rc}", file=sys.stderr, flush=True)
    print(f"== all devices done in {time.perf_counter() - t0:.0f} s", flush=True)
    if produced:
        md, png = report.write_report(produced, args.out, chart=not args.no_chart)
        print(f"== wrote {md}" + (f" and {png}" if png else ""), flush=True)
        print(Path(md).read_text())
    return 1 if failed or not produced else 0


# -- the worker ---------------------------------------------------------------------
def worker(args: argparse.Namespace) -> int:
    device = args.device
    if args.threads:
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            pass
    import xpnet  # noqa: F401  (imported now, so the versions recorded are those of the code that runs)

    from .impls import implementations

    VERSIONS.update(versions())
    impls, skipped = implementations(device)
    for s in skipped:
        print(f"[{device}] skipped {s}", flush=True)
    if not impls:
        print(f"[{device}] nothing to run on {device}: no usable library/device", flush=True)
        return SKIP if device == "cuda" else 1
    impls = [i for i in impls if i.matches(args.impls)]
    if not impls:
        print(f"[{device}] --impls {','.join(args.impls or [])} selects nothing on {device}", flush=True)
        return SKIP
    workloads = make_workloads(args.workloads, quick=args.quick, sweep_batches=args.sweep_batches,
                               repeats=args.repeats)
    from .workloads import load_data

    info = {"device": device, "quick": args.quick, "started": _now(), "loadavg_start": _loadavg(),
            "args": {k: (_portable(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "skipped": skipped}
    rows: list[dict] = []
    old = _load_for_merge(args.out / f"{device}.json") if args.merge else None
    budget = {"left": args.wait_budget if args.wait_quiet else 0.0}
    t0 = time.perf_counter()
    for w in workloads:
        X, y = load_data(w.data, w.n_rows)
        group = []
        for impl in impls:
            row = _run_one(impl, w, X, y, args.wait_quiet, budget)
            group.append(row)
            rows.append(row)
        if old is None:
            _add_ratios(group)
        else:
            _merged(old, group)  # ratios against the kept rows of the same workload
        for row in group:
            print(_progress_line(row), flush=True)
        _write(args.out, device, info, _merged(old, rows), time.perf_counter() - t0, True, old)
    _add_peak_memory(rows, workloads)
    path = _write(args.out, device, info, _merged(old, rows), time.perf_counter() - t0, False, old)
    print(f"[{device}] wrote {path} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return 0


def _add_peak_memory(rows: list[dict], workloads) -> None:
    """Measure peak memory (see benchmarks.peak) for the xpnet/numpy rows of mnist-mlp and wide."""
    from .peak import measure
    from .workloads import load_data

    for w in workloads:
        row = next((r for r in rows if r["workload"] == w.name and r["impl"] == "xpnet"
                    and r["library"] == "numpy" and r["batch"] == w.batch and not r.get("error")), None)
        if w.name not in ("mnist-mlp", "wide") or row is None:
            continue
        X, y = load_data(w.data, w.n_rows)
        row["memory"] = mem = measure(w, X, y)
        print(f"[cpu] {w.label():<14} xpnet:numpy      peak memory {mem['peak_bytes'] / 1e6:.1f} MB = "
              f"{mem['ratio']:.2f} x the budget of {mem['budget_bytes'] / 1e6:.1f} MB "
              f"({mem['ratio_without_snapshot']:.2f} x without the host snapshot)", flush=True)


def _run_one(impl, w, X, y, wait_quiet: float = 0.0, budget: dict | None = None) -> dict:
    """Time one implementation on one workload; returns the JSON row.

    With ``wait_quiet``, first wait (at most that long, and within ``budget["left"]``
    seconds over the whole run) for other processes to leave the CPUs, and re-run
    once when they took more than :data:`NOISY` of the CPUs during the measurement,
    keeping the less disturbed of the two.
    """
    budget = budget if budget is not None else {"left": 0.0}

    def wait() -> float:
        if not wait_quiet or budget["left"] <= 0:
            return 0.0
        spent, _ = _wait_quiet(min(wait_quiet, budget["left"]))
        budget["left"] -= spent
        return spent

    row = {"workload": w.name, "impl": impl.name, "library": impl.library, "backend": impl.backend,
           "device": impl.device, "batch": w.batch, "rows": w.n_rows, "epochs": w.epochs, "steps": w.steps,
           "sizes": list(w.sizes), "lr": w.lr, "flops": w.flops(), "repeats": w.repeats,
           "measured": _now(), "xpnet_source_sha1": VERSIONS.get("xpnet_source_sha1")}
    print(f"[{impl.device}] {w.label():<14} {impl.key:<16} ...", end="", flush=True)
    t0 = time.perf_counter()
    try:
        waited = wait()
        before = _cpu_counters()
        times, first, last = impl.run(w, X, y)
        others = _others_share(before, _cpu_counters())
        if wait_quiet and others is not None and others > NOISY and budget["left"] > 0:
            print(f" other processes used {others:.0%} of the CPUs; again ...", end="", flush=True)
            waited += wait()
            before = _cpu_counters()
            t_again = time.perf_counter()
            again = impl.run(w, X, y)
            others_again = _others_share(before, _cpu_counters())
            budget["left"] -= time.perf_counter() - t_again
            row["retried"] = True
            if others_again is not None and others_again < others:
                (times, first, last), others = again, others_again
    except Exception as exc:  # record and go on: one broken implementation must not lose the others
        import traceback

        traceback.print_exc()
        row.update(error=f"{type(exc).__name__}: {exc}", median_s=None, times_s=[], loss_first=None,
                   loss_last=None, loss_fell=None, gflops=None, us_per_step=None)
        print(f" FAILED {row['error']}", flush=True)
        return row
    med = statistics.median(times)
    fell = None if first is None else bool(math.isfinite(last) and last < first)
    row.update(median_s=med, times_s=times, min_s=min(times), us_per_step=med / w.steps * 1e6,
               gflops=w.flops() / med / 1e9, loss_first=first, loss_last=last, loss_fell=fell,
               wall_s=time.perf_counter() - t0, loadavg=_loadavg(), others_cpu_share=others,
               waited_s=round(waited, 1))
    print(f" {med:.3f} s", flush=True)
    return row


def _cpu_counters():
    """(busy CPU seconds of the machine, CPU seconds of this process and all its threads, wall clock)."""
    busy = None
    try:
        with open("/proc/stat") as f:
            # user nice system idle iowait irq softirq steal
            vals = [int(v) for v in f.readline().split()[1:9]]
        busy = (sum(vals) - vals[3] - vals[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return busy, ru.ru_utime + ru.ru_stime, time.perf_counter()


def _others_share(before, after) -> float | None:
    """Share of the machine's CPU capacity that *other* processes used between two :func:`_cpu_counters`.

    Approximate (10 ms ticks; in a container /proc/stat may count the host's CPUs): a measurement is
    flagged as disturbed when this exceeds :data:`NOISY`.
    """
    if before[0] is None or after[0] is None:
        return None
    wall = after[2] - before[2]
    others = (after[0] - before[0]) - (after[1] - before[1])
    return round(max(0.0, others / (wall * (os.cpu_count() or 1))), 3) if wall > 0 else None


def _wait_quiet(max_wait: float, threshold: float = 0.15, probe: float = 0.5) -> tuple[float, float | None]:
    """Wait (at most ``max_wait`` s) until other processes use less than ``threshold`` of the CPUs."""
    t0 = time.perf_counter()
    while True:
        a = _cpu_counters()
        time.sleep(probe)
        share = _others_share(a, _cpu_counters())
        if share is None or share < threshold or time.perf_counter() - t0 >= max_wait:
            return time.perf_counter() - t0, share
        time.sleep(2.0)


def _row_key(r: dict) -> tuple:
    return r["workload"], r["batch"], r["impl"], r["library"], r["device"]


def _load_for_merge(path: Path) -> dict | None:
    if not path.exists():
        print(f"--merge: {path} does not exist yet; writing a new file", flush=True)
        return None
    old = json.loads(path.read_text())
    return old


def _merged(old: dict | None, rows: list[dict]) -> list[dict]:
    """``old``'s rows with those measured again replaced (in place; new ones appended), ratios redone."""
    if old is None:
        return rows
    new = {_row_key(r): r for r in rows}
    out = [new.pop(_row_key(r), r) for r in old["rows"]]
    out += [r for r in rows if _row_key(r) in new]
    groups: dict[tuple, list] = {}
    for r in out:
        groups.setdefault((r["workload"], r["batch"], r["device"]), []).append(r)
    for g in groups.values():
        _add_ratios(g)
    return out


def _add_ratios(group: list[dict]) -> None:
    """ratio_to_ceiling (same library's ceiling), ratio_to_best_ceiling, ratio_to_torch (PyTorch eager)."""
    ok = [r for r in group if r.get("median_s")]
    ceilings = {r["library"]: r["median_s"] for r in ok if r["impl"] == "ceiling"}
    best = min(ceilings.values()) if ceilings else None
    torch = next((r["median_s"] for r in ok if r["impl"] == "torch"), None)
    for r in group:
        m = r.get("median_s")
        c = ceilings.get(r["library"])
        r["ratio_to_ceiling"] = m / c if m and c else None
        r["ratio_to_best_ceiling"] = m / best if m and best else None
        r["ratio_to_torch"] = m / torch if m and torch else None


def _progress_line(r: dict) -> str:
    name = r["workload"] + (f" b={r['batch']}" if r["workload"] == "sweep" else "")
    head = f"[{r['device']}] {name:<14} {r['impl'] + ':' + r['library']:<16}"
    if r.get("error"):
        return f"{head} FAILED: {r['error']}"
    parts = [f"median {r['median_s']:8.3f} s", f"{r['us_per_step']:9.1f} us/step",
             f"{r['gflops']:7.2f} GFLOP/s"]
    if r.get("ratio_to_ceiling"):
        parts.append(f"x{r['ratio_to_ceiling']:.2f} ceiling")
    if r.get("ratio_to_torch"):
        parts.append(f"x{r['ratio_to_torch']:.2f} torch")
    if r.get("others_cpu_share") is not None and r["others_cpu_share"] > NOISY:
        parts.append(f"DISTURBED (others used {r['others_cpu_share']:.0%} of the CPUs)")
    if r["loss_first"] is not None:
        parts.append(f"loss {r['loss_first']:.4f} -> {r['loss_last']:.4f}"
                     + ("" if r["loss_fell"] else "  LOSS DID NOT FALL"))
    return head + "  " + "  ".join(parts)


def _write(out: Path, device: str, info: dict, rows: list, elapsed: float, partial: bool,
           old: dict | None = None) -> Path:
    """Write ``<out>/<device>.json`` (and, when done, ``<device>-<machine id>.json``).

    With ``old`` (``--merge``) the file keeps ``old``'s run-level fields (date, versions, ...)
    and lists this run under ``merges``; each row carries its own ``measured`` date and
    ``xpnet_source_sha1``.
    """
    doc = {"schema": 1, **info, "finished": None if partial else _now(), "elapsed_s": elapsed,
           "loadavg_end": _loadavg(), "machine": machine_info(device), "versions": VERSIONS or versions(),
           "threads": thread_info(), "rows": rows}
    if old is not None:
        this = {k: doc[k] for k in ("started", "finished", "elapsed_s", "args", "versions", "loadavg_start",
                                    "loadavg_end")}
        this["rows"] = sorted({" ".join(map(str, _row_key(r))) for r in rows
                               if r.get("measured") and r["measured"] >= info["started"]})
        doc = {**{k: v for k, v in old.items() if k not in ("rows", "merges")},
               "merges": [*old.get("merges", []), this], "rows": rows}
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{device}.json"
    text = json.dumps(doc, indent=1)
    path.write_text(text)
    if not partial:
        (out / f"{device}-{doc['machine']['id']}.json").write_text(text)
    return path


# -- what the JSON records about the machine ----------------------------------------------------
def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


_MACHINE: dict = {}
#: versions() taken when the worker imported xpnet (files may change while a long run goes on).
VERSIONS: dict = {}


def machine_info(device: str) -> dict:
    """CPU model, core counts, memory, OS, GPU (on the cuda worker); an id that is a hash of them."""
    if _MACHINE:
        return _MACHINE
    info = {"cpu": _cpu_model(), "cpu_count": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "platform": platform.platform(), "python": platform.python_version()}
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        info["memory_gib"] = round(pages * size / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    if device == "cuda":
        info["gpu"] = _gpu_info()
    gpu_name = (info.get("gpu") or {}).get("name", "")
    info["id"] = hashlib.sha1(f"{info['cpu']}|{info['cpu_count']}|{gpu_name}".encode()).hexdigest()[:8]
    _MACHINE.update(info)
    return info


def _gpu_info() -> dict:
    gpu: dict = {}
    try:
        import torch

        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            gpu.update(name=props.name, memory_gib=round(props.total_memory / 2**30, 1),
                       capability=f"{props.major}.{props.minor}", torch_cuda=torch.version.cuda)
    except Exception:
        pass
    try:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"]
        gpu.setdefault("name", name.decode() if isinstance(name, bytes) else name)
        gpu["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
        gpu["cuda_driver"] = cupy.cuda.runtime.driverGetVersion()
    except Exception:
        pass
    return gpu


def versions() -> dict:
    """Versions of xpnet (and its git commit) and of every library that could take part."""
    out: dict = {}
    for dist in ("numpy", "torch", "scikit-learn", "array-api-compat", "matplotlib", "threadpoolctl"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    cupy = [d.metadata["Name"] for d in importlib.metadata.distributions()
            if (d.metadata["Name"] or "").lower().startswith("cupy")]
    out["cupy"] = f"{cupy[0]} {importlib.metadata.version(cupy[0])}" if cupy else None
    try:
        import xpnet

        out["xpnet"] = xpnet.__version__
        src = hashlib.sha1()
        for f in sorted(Path(xpnet.__file__).parent.glob("*.py")):
            src.update(f.name.encode() + f.read_bytes())
        out["xpnet_source_sha1"] = src.hexdigest()[:12]
    except Exception as exc:
        out["xpnet"] = f"not importable: {exc}"
    try:
        root = HERE.parent
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "xpnet"], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        if commit:
            out["xpnet_commit"] = commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    out["python"] = platform.python_version()
    return out


def thread_info() -> dict:
    """os.cpu_count(), the thread environment variables, BLAS/OpenMP pools and torch's thread count."""
    info: dict = {"os_cpu_count": os.cpu_count(), "env": {k: os.environ.get(k) for k in THREAD_ENV}}
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [{"owner": _pool_owner(p.get("filepath", "")),
                                **{k: p.get(k) for k in ("user_api", "internal_api", "prefix", "num_threads",
                                                         "version", "threading_layer", "architecture")}}
                               for p in threadpool_info()]
    except ImportError:
        info["numpy_blas_threads"] = _openblas_threads()
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        info["torch_num_threads"] = torch.get_num_threads()
        info["torch_interop_threads"] = torch.get_num_interop_threads()
    return info


def _pool_owner(path: str) -> str:
    """The package a native thread pool ships with (numpy, scipy, torch, sklearn), from its path."""
    for part in reversed(Path(path).parts[:-1]):
        name = part.split(".")[0].split("-")[0].lower()
        if name in ("numpy", "scipy", "torch", "sklearn", "scikit_learn", "cupy", "mkl"):
            return "sklearn" if name == "scikit_learn" else name
    return Path(path).name.split(".")[0]


def _openblas_threads():
    """NumPy's OpenBLAS thread count through ctypes (when threadpoolctl is not installed)."""
    import ctypes
    import glob

    import numpy as np

    libdir = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in glob.glob(str(libdir / "*openblas*.so*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for sym in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                    "scipy_openblas_get_num_threads", "openblas_get_num_threads"):
            fn = getattr(lib, sym, None)
            if fn is not None:
                return {"library": Path(path).name, "num_threads": int(fn())}
    return None


def main(argv=None) -> int:
    args = parse_args(argv)
    if args._worker:
        return worker(args)
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
