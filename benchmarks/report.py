"""Benchmark JSON -> markdown table (for the README) and a PNG chart.

``python -m benchmarks.report RESULT.json [MORE.json ...] [--out DIR]``
rewrites ``README-table.md`` and ``benchmarks.png`` from result files, for
example to put a CPU and a GPU run from two machines side by side.
matplotlib is optional: without it the chart is skipped with a message.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["chart", "load", "markdown", "write_report"]

NOISY = 0.10  # as benchmarks.__main__.NOISY
ORDER = {"ceiling": 0, "xpnet": 1, "plain": 2, "torch": 3, "sklearn": 4}
LIB_ORDER = {"numpy": 0, "cupy": 1, "torch": 2}
TITLES = {
    "tiny": "tiny: flower 400 x 2, 2-4-1 tanh/sigmoid, full batch, lr 1.2",
    "mnist-mlp": "mnist-mlp: teacher 60,000 x 784, 784-512-512-10 ReLU/softmax, batch 128, SGD lr 0.01, "
                 "one epoch",
    "wide": "wide: the same data, 784-2048-2048-10, batch 1024, one epoch",
}


def load(paths) -> list[dict]:
    """Read result files (one per device)."""
    return [json.loads(Path(p).read_text()) for p in paths]


def label(row: dict) -> str:
    """``xpnet (numpy)``, ``ceiling (torch)``, ``plain (cupy)``, ``torch eager``, ``sklearn``."""
    if row["impl"] == "torch":
        return "PyTorch eager"
    if row["impl"] == "sklearn":
        return "scikit-learn MLPClassifier"
    return f"{row['impl']} ({row['library']})"


def _sort_key(row: dict):
    return (row["device"] != "cpu", ORDER.get(row["impl"], 9), LIB_ORDER.get(row["library"], 9))


def _fmt(x, spec=".3g", none="–") -> str:
    return none if x is None else format(x, spec)


def _ratio(x) -> str:
    return "–" if x is None else f"{x:.2f}"


def _dagger(row: dict) -> str:
    share = row.get("others_cpu_share")
    return " †" if share is not None and share > NOISY else ""


def _loss(row: dict) -> str:
    if row.get("loss_first") is None:
        return "–"
    text = f"{row['loss_first']:.3f} → {row['loss_last']:.3f}"
    return text if row["loss_fell"] else f"**{text} DID NOT FALL**"


def _header(results: list[dict]) -> list[str]:
    lines = []
    for res in results:
        m, v, t = res["machine"], res["versions"], res["threads"]
        dev = res["device"]
        hw = f"{m['cpu']}, {m['cpu_count']} logical CPUs"
        if m.get("memory_gib"):
            hw += f", {m['memory_gib']} GiB RAM"
        if dev == "cuda":
            g = m.get("gpu") or {}
            mem = f" ({g['memory_gib']} GiB)" if g.get("memory_gib") else ""
            hw = f"{g.get('name', 'unknown GPU')}{mem}; host {hw}"
        libs = ", ".join(f"{k} {val}" for k, val in v.items()
                         if val and k not in ("python", "xpnet_commit", "xpnet_source_sha1", "threadpoolctl",
                                              "matplotlib"))
        if v.get("xpnet_commit"):
            libs = libs.replace(f"xpnet {v.get('xpnet')}", f"xpnet {v.get('xpnet')} ({v['xpnet_commit']})")
        pools = t.get("threadpools")
        if pools:
            seen = {f"{p.get('owner') or p['prefix']} {p['internal_api']} {p['num_threads']}" for p in pools}
            thr = ", ".join(sorted(seen))
        else:
            blas = t.get("numpy_blas_threads")
            thr = f"numpy BLAS {blas['num_threads']}" if blas else "numpy BLAS ?"
        if t.get("torch_num_threads") is not None:
            thr += f", torch {t['torch_num_threads']}"
        env = {k: val for k, val in (t.get("env") or {}).items() if val}
        thr += f" ({', '.join(f'{k}={val}' for k, val in env.items())})" if env else " (library defaults)"
        lines.append(f"- **{dev}**: {hw}; {m.get('platform', '')}")
        lines.append(f"  - libraries: {libs}; Python {v.get('python')}")
        lines.append(f"  - threads: {thr}; load average at start/end: {res.get('loadavg_start')} / "
                     f"{res.get('loadavg_end')}")
        end = res.get("finished") or "~"
        own = [r for r in res["rows"] if not r.get("measured") or r["measured"] <= end]
        waited = sum(r.get("waited_s") or 0 for r in own)
        again = sum(1 for r in own if r.get("retried"))
        lines.append(f"  - date: {res.get('started')}; run took {res.get('elapsed_s', 0):.0f} s"
                     + (f" (of which {waited:.0f} s waiting for other processes to leave the CPUs, and "
                        f"{again} disturbed measurement(s) repeated)" if waited or again else "")
                     + ("; **quick smoke-test sizes, not a benchmark**" if res.get("quick") else ""))
        if res.get("skipped"):
            lines.append(f"  - not run: {'; '.join(res['skipped'])}")
        for mg in res.get("merges", []):
            mv = mg.get("versions") or {}
            lines.append(f"  - re-measured {mg.get('started', '?')[:16].replace('T', ' ')} with `--merge` "
                         f"(xpnet {mv.get('xpnet_commit', '?')}): "
                         + ", ".join(f"`{k}`" for k in mg.get("rows", [])))
    return lines


def markdown(results: list[dict], chart_name: str | None = "benchmarks.png") -> str:
    """The README section: machine and versions, one table per workload, the sweep, the chart."""
    rows = [r for res in results for r in res["rows"]]
    out = ["## Benchmarks", "",
           "Same training work, same initial weights, same batches (no shuffle), float32; median of the "
           "timed repeats after a warm-up. **ceiling** = only the matrix multiplies those steps need "
           "(forward `X@W`, `dW = A.T@dZ`, `dA = dZ@W.T`) on the same library and device: nothing can "
           "train faster. **plain** = a from-scratch implementation in the classic tutorial style "
           "(dicts of `W`/`b`, `np.dot`). GFLOP/s counts those matmuls only. **× ceiling** = time / "
           "the same library's ceiling; **× torch** = time / PyTorch eager on the same device (lower is "
           "better). Loss: mean training loss of the initial → trained weights on the first 4,096 rows.",
           ""]
    out += _header(results)
    for name in ("tiny", "mnist-mlp", "wide"):
        sel = sorted((r for r in rows if r["workload"] == name), key=_sort_key)
        if not sel:
            continue
        r0 = sel[0]
        title = TITLES[name]
        if r0["rows"] != {"tiny": 400}.get(name, 60_000):
            title += f" (**{r0['rows']:,} rows**)"
        out += ["", f"### {title}, {r0['steps']:,} steps", "",
                "| implementation | device | median s | µs/step | GFLOP/s | × ceiling | × torch | loss |",
                "|---|---|---:|---:|---:|---:|---:|---|"]
        for r in sel:
            if r.get("error"):
                out.append(f"| {label(r)} | {r['device']} | failed: {r['error'][:80]} | | | | | |")
                continue
            us = f"{r['us_per_step']:.1f}" if r["us_per_step"] < 1000 else f"{r['us_per_step']:,.0f}"
            out.append(f"| {label(r)} | {r['device']} | {r['median_s']:.3f}{_dagger(r)} | {us} | "
                       f"{r['gflops']:.2f} | {_ratio(r['ratio_to_ceiling'])} | "
                       f"{_ratio(r['ratio_to_torch'])} | "
                       f"{_loss(r)} |")
    mem = [r for r in rows if r.get("memory")]
    if mem:
        out += ["", "### Peak memory of one training run (xpnet, NumPy: `tracemalloc`)", "",
                "Budget = parameters + optimizer state + gradients + one batch's layer outputs + the "
                "widest layer's `dZ` and `dA` + the one-hot targets (the data set itself is not "
                "counted). The host snapshot is the copy of the last finite weights `train` falls back "
                "to when the loss diverges; on a GPU it is in host memory.", "",
                "| workload | peak MB | budget MB | × budget | host snapshot MB | × budget without it |",
                "|---|---:|---:|---:|---:|---:|"]
        for r in mem:
            m = r["memory"]
            out.append(f"| {r['workload']} | {m['peak_bytes'] / 1e6:.1f} | {m['budget_bytes'] / 1e6:.1f} | "
                       f"{m['ratio']:.2f} | {m['host_snapshot_bytes'] / 1e6:.1f} | "
                       f"{m['ratio_without_snapshot']:.2f} |")
    sweep = [r for r in rows if r["workload"] == "sweep"]
    if sweep:
        batches = sorted({r["batch"] for r in sweep})
        keys = sorted({(r["device"], r["impl"], r["library"]) for r in sweep},
                      key=lambda k: _sort_key({"device": k[0], "impl": k[1], "library": k[2]}))
        out += ["", "### Batch-size sweep: GFLOP/s on mnist-mlp (784-512-512-10, one epoch of "
                f"{sweep[0]['rows']:,} rows); × ceiling in brackets", "",
                "| implementation | device | " + " | ".join(str(b) for b in batches) + " |",
                "|---|---|" + "---:|" * len(batches)]
        for dev, impl, lib in keys:
            cells = []
            for b in batches:
                r = next((x for x in sweep if (x["device"], x["impl"], x["library"], x["batch"])
                          == (dev, impl, lib, b)), None)
                if r is None or r.get("error"):
                    cells.append("–" if r is None else "failed")
                    continue
                cell = f"{r['gflops']:.1f}{_dagger(r)}"
                if impl != "ceiling" and r.get("ratio_to_ceiling"):
                    cell += f" ({r['ratio_to_ceiling']:.1f}×)"
                if r.get("loss_fell") is False:
                    cell += " **loss did not fall**"
                cells.append(cell)
            out.append(f"| {label({'impl': impl, 'library': lib})} | {dev} | " + " | ".join(cells) + " |")
    if any(_dagger(r) for r in rows):
        out += ["", f"† other processes used more than {NOISY:.0%} of the CPUs during this measurement "
                "(after one re-run): treat it with care."]
    bad = [r for r in rows if r.get("loss_fell") is False]
    if bad:
        out += ["", "**Loss did not fall** in: " + ", ".join(
            f"{r['workload']} b={r['batch']} {label(r)} ({r['device']})" for r in bad)]
    if chart_name:
        out += ["", f"![benchmark chart]({chart_name})"]
    cmd = results[0].get("args", {})
    out += ["", "Reproduce: `python -m benchmarks` (or `nox -s bench`); this run: "
            f"`--workloads {','.join(cmd.get('workloads') or [])}"
            + (f" --impls {','.join(cmd['impls'])}" if cmd.get("impls") else "")
            + (f" --repeats {cmd['repeats']}" if cmd.get("repeats") else "")
            + (" --quick" if cmd.get("quick") else "") + "`.", ""]
    return "\n".join(out)


def chart(results: list[dict], path: Path) -> Path | None:
    """Two panels: time relative to the device's fastest ceiling per workload; sweep GFLOP/s vs batch."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: chart skipped (pip install matplotlib)", file=sys.stderr)
        return None
    rows = [r for res in results for r in res["rows"] if r.get("median_s")]
    keys = sorted({(r["device"], r["impl"], r["library"]) for r in rows},
                  key=lambda k: _sort_key({"device": k[0], "impl": k[1], "library": k[2]}))
    cmap = plt.get_cmap("tab10")
    colors = {k: cmap(i % 10) for i, k in enumerate(keys)}

    def name(k):
        return label({"impl": k[1], "library": k[2]}) + (f" @{k[0]}" if len(results) > 1 else "")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.5))
    groups = [g for g in ("tiny", "mnist-mlp", "wide") if any(r["workload"] == g for r in rows)]
    width = 0.8 / max(1, len(keys))
    for j, k in enumerate(keys):
        xs, ys = [], []
        for i, g in enumerate(groups):
            r = next((x for x in rows
                      if x["workload"] == g and (x["device"], x["impl"], x["library"]) == k), None)
            if r and r.get("ratio_to_best_ceiling"):
                xs.append(i - 0.4 + (j + 0.5) * width)
                ys.append(r["ratio_to_best_ceiling"])
        if xs:
            ax1.bar(xs, ys, width, color=colors[k], label=name(k))
    ax1.set_xticks(range(len(groups)), groups)
    ax1.set_yscale("log")
    ax1.axhline(1.0, color="k", lw=0.8)
    ax1.set_ylabel("time / fastest ceiling on the device (log; lower is better)")
    ax1.set_title("Per workload")
    ax1.legend(fontsize=8)
    sweep = [r for r in rows if r["workload"] == "sweep"]
    for k in keys:
        pts = sorted((r["batch"], r["gflops"]) for r in sweep if (r["device"], r["impl"], r["library"]) == k)
        if pts:
            ax2.plot(*zip(*pts), marker="o", color=colors[k], label=name(k),
                     ls="--" if k[1] == "ceiling" else "-")
    if sweep:
        ax2.set_xscale("log", base=2)
        ax2.set_yscale("log")
        ax2.set_xlabel("batch size")
        ax2.set_ylabel("matmul GFLOP/s achieved (higher is better)")
        ax2.set_title("Batch-size sweep, mnist-mlp (784-512-512-10)")
        ax2.legend(fontsize=8)
    else:
        ax2.set_axis_off()
    def where(res):
        hw = res["machine"].get("gpu", {}).get("name") if res["device"] == "cuda" else res["machine"]["cpu"]
        return f"{res['device']}: {hw} ({res['started'][:10]})"

    devs = ", ".join(where(res) for res in results)
    fig.suptitle(f"xpnet benchmarks: {devs}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(paths, out_dir: Path, chart: bool = True) -> tuple[Path, Path | None]:
    """Write ``README-table.md`` and (with matplotlib) ``benchmarks.png`` into ``out_dir``."""
    results = load(paths)
    out_dir = Path(out_dir)
    png = globals()["chart"](results, out_dir / "benchmarks.png") if chart else None
    md = out_dir / "README-table.md"
    md.write_text(markdown(results, chart_name=png.name if png else None))
    return md, png


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="+", type=Path, help="result JSON files (cpu.json, cuda.json, ...)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for the table and chart (default: the first file's)")
    p.add_argument("--no-chart", action="store_true")
    args = p.parse_args(argv)
    md, png = write_report(args.files, args.out or args.files[0].parent, chart=not args.no_chart)
    print(f"wrote {md}" + (f" and {png}" if png else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
