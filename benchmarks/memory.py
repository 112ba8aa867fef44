"""Is xpnet's memory flat over a long training run?  (A standalone measurement script.)

Trains one MLP with a single ``xpnet.train`` call for many epochs on a large
synthetic data set and records, while it runs,

* the process's resident set size (RSS, from ``/proc/self/statm``; peak RSS
  from ``resource.getrusage`` as a cross-check), and
* the Python-level heap that ``tracemalloc`` sees (NumPy registers its array
  buffers with tracemalloc, so this includes array data on the numpy backend),

in two ways:

* a background thread samples both every ``--interval`` seconds (0.2 s), which
  needs nothing from xpnet; and
* an *epoch hook*: the script wraps the epoch function the loop picks (the
  private ``xpnet.loop._epoch_runner``: the generic epoch or a backend's
  training plan; measurement only, the math is untouched) to take one sample
  at the end of every epoch, without the host sync per epoch a callback with
  ``every = 1`` would add. ``--no-epoch-hook`` turns it off (then epoch
  numbers are estimated from the sampling times).

It prints the first/last/max RSS, the slope of RSS per epoch (least squares
over the epochs after a 10 % warm-up) and the same for tracemalloc, and writes
everything (settings, summary, every sample) to ``--out``
(``benchmarks/results/memory.json`` by default).

``xpnet.train`` reads its metrics on the host once every ``sync_every``
epochs and then replaces its host copy of the last finite parameters (what it
restores if the loss diverges); until then it keeps each epoch's metrics, a
few bytes each, on the device. Memory should therefore not climb within a sync
cycle either. The script reports each sync cycle (RSS and
tracemalloc at its first epoch and its maximum) and calls memory flat when the
cycles do not climb (the maxima of the first full cycle, the second when there
are three or more, and of the last differ by less than max(8 MB, 2 %) of growth); with
cycles shorter than 5 epochs or fewer than two, the slope over the run
(times its epochs) must stay within that tolerance instead.

Usage (from the repository root)::

    python benchmarks/memory.py                          # 200 epochs, 200,000 x 64, batch 512
    python benchmarks/memory.py --epochs 20 --n 20000    # a quick look
    python benchmarks/memory.py --sizes 64,2048,2048,10 --n 128 --batch 0 --epochs 100 \
        --sync-every 100 --out /tmp/mem-sync100.json    # retention between host syncs

``--batch 0`` means full batch. ``--sync-every`` is passed to ``xpnet.train``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import threading
import time
import tracemalloc
from array import array
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

import xpnet  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MB = 2**20


def rss_bytes() -> int:
    """Current resident set size of this process (Linux /proc; else the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


class Sampler(threading.Thread):
    """Samples (seconds since start, RSS, tracemalloc current) every ``interval`` seconds.

    Samples go to compact ``array.array`` buffers (24 bytes each), so the
    measurement itself adds little to what tracemalloc sees (about 0.1 MB per
    4,000 samples, versus ~0.6 MB with a list of tuples).
    """

    def __init__(self, interval: float, use_tracemalloc: bool) -> None:
        super().__init__(daemon=True)
        self.interval, self.use_tracemalloc = interval, use_tracemalloc
        self.t, self.rss, self.traced = array("d"), array("d"), array("d")
        self.t0 = time.perf_counter()
        self._stop_event = threading.Event()

    def sample(self) -> tuple[float, int, float]:
        traced = tracemalloc.get_traced_memory()[0] if self.use_tracemalloc else math.nan
        return (time.perf_counter() - self.t0, rss_bytes(), traced)

    def record(self) -> None:
        t, r, tm = self.sample()
        self.t.append(t)
        self.rss.append(r)
        self.traced.append(tm)

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.record()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self.record()

    @property
    def samples(self) -> list[tuple[float, float, float | None]]:
        return [(t, r, None if math.isnan(tm) else tm) for t, r, tm in zip(self.t, self.rss, self.traced)]


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of ys against xs (None with fewer than 3 points)."""
    if len(xs) < 3:
        return None
    x, yv = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    x = x - x.mean()
    denom = float((x * x).sum())
    return None if denom == 0 else float((x * (yv - yv.mean())).sum() / denom)


def synthetic(n: int, d: int, k: int, seed: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal features; labels from a random linear teacher (learnable, not trivial)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32).astype(dtype, copy=False)
    teacher = rng.standard_normal((d, k)).astype(dtype)
    y = np.argmax(X @ teacher, axis=1).astype(np.int64)
    return X, y


def summarize(epochs: list[int], rss: list[int], traced: list[int | None], warmup: float) -> dict:
    skip = int(len(epochs) * warmup)
    e, r = epochs[skip:], rss[skip:]
    out = {
        "rss_first_mb": rss[0] / MB,
        "rss_last_mb": rss[-1] / MB,
        "rss_max_mb": max(rss) / MB,
        "rss_min_after_warmup_mb": min(r) / MB if r else None,
        "rss_slope_mb_per_epoch": None if slope(e, r) is None else slope(e, r) / MB,
    }
    if traced and traced[0] is not None:
        t = traced[skip:]
        out.update({
            "traced_first_mb": traced[0] / MB,
            "traced_last_mb": traced[-1] / MB,
            "traced_max_mb": max(traced) / MB,
            "traced_slope_mb_per_epoch": None if slope(e, t) is None else slope(e, t) / MB,
        })
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200_000, help="rows of synthetic data (200000)")
    p.add_argument("--features", type=int, default=None, help="columns (default: the first of --sizes)")
    p.add_argument("--sizes", default="64,128,64,10", help="layer widths, input first (64,128,64,10)")
    p.add_argument("--batch", type=int, default=512, help="batch size, 0 for full batch (512)")
    p.add_argument("--epochs", type=int, default=200, help="epochs in the one train() call (200)")
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--dtype", default="float32")
    p.add_argument("--backend", default="numpy")
    p.add_argument("--sync-every", type=int, default=100, help="passed to xpnet.train (100, its default)")
    p.add_argument("--interval", type=float, default=0.2, help="sampling interval in seconds (0.2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-tracemalloc", action="store_true", help="do not trace Python allocations")
    p.add_argument("--no-epoch-hook", action="store_true",
                   help="do not wrap the loop's epoch function for per-epoch samples")
    p.add_argument("--out", default=str(HERE / "results" / "memory.json"))
    args = p.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",")]
    d = args.features or sizes[0]
    if d != sizes[0]:
        p.error(f"--features {d} differs from the input width {sizes[0]} of --sizes")
    use_tm = not args.no_tracemalloc

    rss_start = rss_bytes()
    X, y = synthetic(args.n, d, sizes[-1], args.seed, args.dtype)
    model = xpnet.MLP(sizes, hidden="relu", output="softmax", dtype=args.dtype,
                      backend=args.backend, seed=args.seed)
    rss_data = rss_bytes()
    print(f"xpnet {xpnet.__version__} on {args.backend}; data {X.shape} {X.dtype} "
          f"({X.nbytes / MB:.1f} MB); model {sizes} ({model.n_params} params, "
          f"{model.n_params * np.dtype(args.dtype).itemsize / MB:.2f} MB); batch {args.batch or 'full'}; "
          f"{args.epochs} epochs; {args.optimizer} lr {args.lr}; sync_every {args.sync_every}", flush=True)
    print(f"RSS at start {rss_start / MB:.1f} MB, after data and model {rss_data / MB:.1f} MB", flush=True)

    if use_tm:
        tracemalloc.start()
    sampler = Sampler(args.interval, use_tm)
    epoch_buf = array("d")  # (epoch, t, rss, traced) per epoch, flat

    import xpnet.loop as loop

    real_runner = getattr(loop, "_epoch_runner", None)
    hooked = not args.no_epoch_hook and real_runner is not None
    if hooked:
        def runner_with_samples(run):
            run_epoch = real_runner(run)

            def run_epoch_and_sample(*a, **k):
                out = run_epoch(*a, **k)
                epoch_buf.extend((len(epoch_buf) // 4 + 1, *sampler.sample()))
                return out

            return run_epoch_and_sample

        loop._epoch_runner = runner_with_samples
    sampler.start()
    try:
        history = xpnet.train(model, X, y, epochs=args.epochs, batch_size=args.batch or None,
                              optimizer=args.optimizer, lr=args.lr, dropout=args.dropout,
                              seed=args.seed, sync_every=args.sync_every)
    finally:
        sampler.stop()
        if hooked:
            loop._epoch_runner = real_runner
        if use_tm:
            traced_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        else:
            traced_peak = None
    seconds = sampler.t[-1]
    peak = peak_rss_bytes()
    epoch_samples = [(int(epoch_buf[i]), epoch_buf[i + 1], epoch_buf[i + 2],
                      None if math.isnan(epoch_buf[i + 3]) else epoch_buf[i + 3])
                     for i in range(0, len(epoch_buf), 4)]

    if hooked and epoch_samples:
        epochs = [e for e, _, _, _ in epoch_samples]
        rss = [r for _, _, r, _ in epoch_samples]
        traced = [tm for _, _, _, tm in epoch_samples]
        basis = "per-epoch hook"
    else:  # estimate the epoch of each sample from the elapsed time
        per_epoch = seconds / args.epochs
        epochs = [t / per_epoch for t, _, _ in sampler.samples]
        rss = [r for _, r, _ in sampler.samples]
        traced = [tm for _, _, tm in sampler.samples]
        basis = "sampler (epoch estimated from time)"
    summary = summarize(epochs, rss, traced, warmup=0.1)
    sampled = summarize([t / (seconds / args.epochs) for t, _, _ in sampler.samples],
                        [r for _, r, _ in sampler.samples],
                        [tm for _, _, tm in sampler.samples], warmup=0.1)
    summary.update({
        "basis": basis,
        "rss_before_data_mb": rss_start / MB,
        "rss_after_data_and_model_mb": rss_data / MB,
        "peak_rss_getrusage_mb": peak / MB,
        "sampler_rss_max_mb": sampled["rss_max_mb"],
        "sampler_rss_slope_mb_per_epoch": sampled["rss_slope_mb_per_epoch"],
        "traced_peak_mb": None if traced_peak is None else traced_peak / MB,
        "seconds": seconds,
        "seconds_per_epoch": seconds / args.epochs,
        "final_loss": history.loss[-1],
        "final_accuracy": history.accuracy[-1] if history.accuracy else None,
    })
    if hooked and epoch_samples:
        # xpnet.train syncs metrics to the host every sync_every epochs; compare whole sync cycles.
        S = args.sync_every
        cycles = []
        for start in range(0, args.epochs, S):
            part = epoch_samples[start:start + S]
            if not part:
                break
            cycles.append({"epochs": [part[0][0], part[-1][0]],
                           "rss_at_start_mb": part[0][2] / MB,
                           "rss_max_mb": max(r for _, _, r, _ in part) / MB,
                           "traced_at_start_mb": None if part[0][3] is None else part[0][3] / MB,
                           "traced_max_mb": None if part[0][3] is None else max(tm for *_, tm in part) / MB})
        summary["sync_cycles"] = cycles
        if use_tm and cycles:
            summary["traced_sawtooth_mb"] = cycles[0]["traced_max_mb"] - cycles[0]["traced_at_start_mb"]
            summary["traced_growth_between_cycle_starts_mb"] = (cycles[-1]["traced_at_start_mb"]
                                                               - cycles[0]["traced_at_start_mb"])
        summary["param_bytes_mb"] = model.n_params * np.dtype(args.dtype).itemsize / MB
    growth = (summary["rss_slope_mb_per_epoch"] or 0.0) * args.epochs
    summary["rss_growth_over_run_mb"] = growth
    tolerance = max(8.0, 0.02 * summary["rss_max_mb"])
    cycles = summary.get("sync_cycles", [])
    full = [c for c in cycles if c["epochs"][1] - c["epochs"][0] + 1 == args.sync_every]
    if args.sync_every >= 5 and len(full) >= 2:
        # A sawtooth inside each sync cycle is expected; the cycles must not climb. With three or
        # more cycles the first is left out as warm-up.
        base = full[1] if len(full) >= 3 else full[0]
        summary["rss_growth_between_cycle_maxima_mb"] = full[-1]["rss_max_mb"] - base["rss_max_mb"]
        summary["flat"] = summary["rss_growth_between_cycle_maxima_mb"] < tolerance  # shrinking is fine
    else:  # short or single cycles: the least-squares slope after the warm-up decides
        summary["flat"] = growth < tolerance

    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    print(f"trained {args.epochs} epochs in {seconds:.1f} s ({seconds / args.epochs:.3f} s/epoch); "
          f"final loss {history.loss[-1]:.4f}", flush=True)
    print(f"RSS ({basis}): first {summary['rss_first_mb']:.1f} MB, last {summary['rss_last_mb']:.1f} MB, "
          f"max {summary['rss_max_mb']:.1f} MB (sampler max {summary['sampler_rss_max_mb']:.1f} MB, "
          f"getrusage peak {summary['peak_rss_getrusage_mb']:.1f} MB); slope "
          f"{fmt(summary['rss_slope_mb_per_epoch'])} MB/epoch after warm-up "
          f"(= {growth:+.1f} MB over the run)")
    if use_tm:
        print(f"tracemalloc: first {summary['traced_first_mb']:.1f} MB, "
              f"last {summary['traced_last_mb']:.1f} MB, "
              f"max sampled {summary['traced_max_mb']:.1f} MB, peak {summary['traced_peak_mb']:.1f} MB; "
              f"slope {fmt(summary['traced_slope_mb_per_epoch'])} MB/epoch")
    shown = cycles if len(cycles) <= 6 else [*cycles[:3], *cycles[-2:]]
    for i, c in enumerate(shown):
        if len(shown) < len(cycles) and i == 3:
            print(f"  ... {len(cycles) - 5} more sync cycles ...")
        traced = "" if c["traced_at_start_mb"] is None else (
            f"; traced {c['traced_at_start_mb']:.2f} MB at start, max {c['traced_max_mb']:.2f} MB")
        print(f"  sync cycle epochs {c['epochs'][0]}-{c['epochs'][1]}: "
              f"RSS {c['rss_at_start_mb']:.1f} MB at start, "
              f"max {c['rss_max_mb']:.1f} MB{traced}")
    if "traced_sawtooth_mb" in summary:
        print(f"tracemalloc sawtooth within a sync cycle: {summary['traced_sawtooth_mb']:.2f} MB "
              f"(parameters: {summary['param_bytes_mb']:.3f} MB x {args.sync_every} epochs = "
              f"{summary['param_bytes_mb'] * args.sync_every:.2f} MB); growth between cycle starts "
              f"{summary['traced_growth_between_cycle_starts_mb']:+.2f} MB")
    if "rss_growth_between_cycle_maxima_mb" in summary:
        print("RSS growth between the maxima of the first (second if >= 3) and the last full sync cycles: "
              f"{summary['rss_growth_between_cycle_maxima_mb']:+.1f} MB")
    print("memory is flat" if summary["flat"] else "memory is NOT flat", flush=True)

    result = {
        "settings": {**vars(args), "out": Path(args.out).name, "sizes": sizes, "features": d},
        "environment": {"python": platform.python_version(), "numpy": np.__version__,
                        "xpnet": xpnet.__version__, "machine": platform.machine(),
                        "platform": platform.platform()},
        "summary": summary,
        "epoch_samples": [{"epoch": e, "t": t, "rss_mb": r / MB, "traced_mb": None if tm is None else tm / MB}
                          for e, t, r, tm in epoch_samples],
        "samples": [{"t": t, "rss_mb": r / MB, "traced_mb": None if tm is None else tm / MB}
                    for t, r, tm in sampler.samples],
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
