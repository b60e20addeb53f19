"""Peak memory and wall time of `proxyml run` (1 epoch) on 20k and 200k `.npy` series, side by side.

Each size runs in its own process (a fresh interpreter, so peak RSS is that run's alone): seeded
synthetic series of 150 steps (two classes, sine vs. square, noisy) written as one `.npy`, labels
for 200 of them, the next-step task, 1 epoch, MiniRocket on the labelled series only. Printed: peak
RSS, the part of it that is the embedding matrix and the memory-mapped data file (both grow with
the pool by design), the rest, and the ratio of the rest between the two sizes (goal: <= 1.3).

    python benchmarks/memory_scaling.py            # 20k and 200k
    python benchmarks/memory_scaling.py --sizes 2000 20000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LENGTH = 150
EMBED_DIM = 64


def write_data(folder: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4 * np.pi, LENGTH, dtype=np.float32)
    x = np.lib.format.open_memmap(folder / "series.npy", mode="w+", dtype=np.float32, shape=(n, 1, LENGTH))
    for start in range(0, n, 10_000):  # written in chunks: the writer must not hold the pool either
        stop = min(n, start + 10_000)
        kind = np.arange(start, stop) % 2
        clean = np.where(kind[:, None] == 1, np.sign(np.sin(t))[None, :], np.sin(t)[None, :])
        x[start:stop, 0] = clean + 0.3 * rng.standard_normal((stop - start, LENGTH)).astype(np.float32)
    x.flush()
    labelled = np.arange(0, min(n, 400), 2)
    labels = folder / "labels.csv"
    labels.write_text("id,kind\n" + "".join(f"{i},{'square' if i % 2 else 'sine'}\n" for i in labelled)
                      + "".join(f"{i + 1},square\n" for i in labelled[:100]))
    return folder / "series.npy", labels


def child(n: int, folder: Path) -> None:
    """One run in this process; prints a JSON line with its peak RSS and times."""
    data, labels = write_data(folder, n)
    from proxyml import load_recipe, run

    recipe_file = folder / "recipe.yaml"
    recipe_file.write_text(
        f"name: scale\ndata: {{source: {data}}}\nlabels: {{source: {labels}, target: kind, positive: square}}\n"
        "task: {name: timeseries.next_step}\n"
        "trainer: {max_epochs: 1, batch_size: 64, progress_bar: false, val_fraction: 0.0}\n"
        "evaluate: {label_budgets: [10, 50], repeats: 3, bootstrap: 200, permutations: 200,\n"
        "           baselines: [{name: timeseries.minirocket, params: {num_kernels: 840}}]}\n"
        f"output: {{dir: {folder / 'run'}}}\n")
    start = time.perf_counter()
    report = run(load_recipe(recipe_file)).report
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes
    print(json.dumps({"n": n, "peak_rss": peak, "wall_s": wall, "timings": report["timings"],
                      "threads": report["training"].get("threads"), "num_workers": report["training"].get("num_workers"),
                      "data_bytes": os.path.getsize(data), "embedding_bytes": n * EMBED_DIM * 4}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "memory_scaling.txt"))
    args = parser.parse_args()
    if args.child:
        child(args.child, Path(args.folder))
        return
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            result = subprocess.run([sys.executable, __file__, "--child", str(n), "--folder", folder],
                                    capture_output=True, text=True, check=False)
            if result.returncode:
                sys.exit(f"the run on {n} series failed:\n{result.stderr[-3000:]}")
            rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    mib = 2**20
    lines = [f"proxyml run, 1 epoch of timeseries.next_step on N series of {LENGTH} steps (.npy, memory-mapped), "
             f"200 labels; trainer.threads auto (threads {rows[0].get('threads')}, workers {rows[0].get('num_workers')}), "
             f"{os.cpu_count()} cores; each size in a fresh process", "",
             f"{'N':>9} {'peak RSS MiB':>13} {'embeddings MiB':>15} {'data file MiB':>14} {'rest MiB':>9} "
             f"{'wall s':>8} {'train s':>8} {'embed s':>8}"]
    rests = []
    for row in rows:
        rest = row["peak_rss"] - row["embedding_bytes"] - row["data_bytes"]
        rests.append(rest)
        lines.append(f"{row['n']:>9} {row['peak_rss'] / mib:>13.0f} {row['embedding_bytes'] / mib:>15.0f} "
                     f"{row['data_bytes'] / mib:>14.0f} {rest / mib:>9.0f} {row['wall_s']:>8.1f} "
                     f"{row['timings']['train']:>8.1f} {row['timings']['embed_and_score']:>8.1f}")
    if len(rows) > 1:
        lines += ["", f"peak RSS ratio {rows[-1]['peak_rss'] / rows[0]['peak_rss']:.2f}; without the embeddings and "
                  f"the memory-mapped data file: {rests[-1] / rests[0]:.2f} (goal <= 1.3)"]
    text = "\n".join(lines)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
