"""``python -m benchmarks.interleaved``: ratios of implementations measured in turns, for a noisy machine.

The main suite (``python -m benchmarks``) times every repeat of one
implementation before the next. On a machine that other processes share,
the load changes between those blocks and so do the ratios. Here every round
times each implementation once (after its warm-up), in the same order, and a
ratio is taken within each round; the medians over the rounds are printed::

    python -m benchmarks.interleaved --workloads tiny --impls xpnet,plain --rounds 7
    python -m benchmarks.interleaved --workloads mnist-mlp,wide --impls xpnet,ceiling --threads 1

``--impls`` takes the names of :mod:`benchmarks.impls` on NumPy (``xpnet``,
``ceiling``, ``plain``, ``torch``, ``sklearn``) and ``generic``: xpnet with
``XPNET_GENERIC=1``, its array-API path without NumPy's training plan. Ratios
are against ``--baseline`` (default: ``ceiling`` if listed, else the last one).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import replace

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.interleaved", description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", default="tiny,mnist-mlp,wide",
                   help="comma-separated workloads (tiny, mnist-mlp, wide, sweep)")
    p.add_argument("--impls", default="xpnet,generic,ceiling,plain",
                   help="comma-separated implementations on NumPy: xpnet, generic, ceiling, plain, torch, sklearn")
    p.add_argument("--baseline", default=None, help="the implementation ratios are taken against")
    p.add_argument("--rounds", type=int, default=5, help="rounds of one timed run per implementation (default 5)")
    p.add_argument("--sweep-batches", default=None, help="batch sizes of the sweep (default: the suite's)")
    p.add_argument("--threads", type=int, default=None, help="BLAS/OpenMP threads (sets the environment, re-executes)")
    p.add_argument("--quick", action="store_true", help="the suite's smoke-test sizes")
    p.add_argument("--json", default=None, help="also write every time and ratio to this file")
    args = p.parse_args(argv)
    args.impls = [s.strip() for s in args.impls.split(",") if s.strip()]
    if args.baseline is None:
        args.baseline = "ceiling" if "ceiling" in args.impls else args.impls[-1]
    if args.baseline not in args.impls:
        p.error(f"--baseline {args.baseline} is not among --impls")
    return args


def _threads_set(n: int | None) -> bool:
    """Re-execute with every thread variable at ``n`` unless it is already so (BLAS reads them at load)."""
    if n is None or all(os.environ.get(k) == str(n) for k in THREAD_ENV):
        return False
    env = {**os.environ, **{k: str(n) for k in THREAD_ENV}}
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks.interleaved", *sys.argv[1:]], env)
    return True  # not reached


def runners() -> dict:
    """Implementation name -> ``run(workload, X, y)`` on NumPy (see :mod:`benchmarks.impls`)."""
    from functools import partial

    from .impls import run_ceiling, run_plain, run_sklearn, run_torch, run_xpnet

    def generic(w, X, y):
        os.environ["XPNET_GENERIC"] = "1"
        try:
            return run_xpnet(w, X, y, backend="numpy")
        finally:
            del os.environ["XPNET_GENERIC"]

    return {"xpnet": partial(run_xpnet, backend="numpy"), "generic": generic,
            "ceiling": partial(run_ceiling, library="numpy", device="cpu"),
            "plain": partial(run_plain, library="numpy"), "torch": partial(run_torch, device="cpu"),
            "sklearn": run_sklearn}


def measure(w, impls: list[str], rounds: int, baseline: str) -> dict:
    """``{impl: [seconds per round]}`` and ``{impl: [ratio to baseline per round]}`` for workload ``w``."""
    from .workloads import load_data

    X, y = load_data(w.data, w.n_rows)
    run = runners()
    one = replace(w, repeats=1)
    times: dict[str, list[float]] = {name: [] for name in impls}
    for _ in range(rounds):
        for name in impls:
            times[name].append(run[name](one, X, y)[0][0])
    ratios = {name: [t / b for t, b in zip(times[name], times[baseline])] for name in impls}
    return {"times": times, "ratios": ratios}


def main(argv=None) -> int:
    args = parse_args(argv)
    if _threads_set(args.threads):
        return 0
    from .workloads import make_workloads

    sweep = None if args.sweep_batches is None else [int(b) for b in args.sweep_batches.split(",")]
    workloads = make_workloads(args.workloads.split(","), quick=args.quick, sweep_batches=sweep)
    report = []
    print(f"threads: {', '.join(f'{k}={os.environ.get(k)}' for k in THREAD_ENV)}; {args.rounds} rounds; "
          f"ratios to {args.baseline} within each round, medians", flush=True)
    for w in workloads:
        result = measure(w, args.impls, args.rounds, args.baseline)
        for name in args.impls:
            t, r = result["times"][name], result["ratios"][name]
            print(f"{w.label():<14} {name:<8} median {statistics.median(t):9.4f} s  "
                  f"{statistics.median(t) / w.steps * 1e6:10.1f} us/step  x{statistics.median(r):.3f} {args.baseline} "
                  f"(rounds {min(r):.3f}..{max(r):.3f})", flush=True)
        report.append({"workload": w.label(), "batch": w.batch, **result})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "threads": {k: os.environ.get(k) for k in THREAD_ENV},
                       "results": report}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
