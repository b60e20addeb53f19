"""How torch's thread count and DataLoader workers change the quick-start fit, on a quiet
machine and beside a busy neighbour, all in one run.

Trains the quick-start model (``recipes/quickstart.yaml``: GunPoint, ``timeseries.segment_order``
on ``timeseries.conv1d``) for ``--epochs`` epochs (early stopping off) with ``trainer.threads`` 1
and 2 and ``trainer.num_workers`` 0 and 1, each quiet and with a neighbour: a second process
spinning on one core (``while True: pass``), as anything else running on the machine would.
The configurations are interleaved over ``--repeats`` rounds and each cell is the median fit time
(``FitResult.seconds``: Lightning's fit, data already read) with the slowest in brackets.

    python benchmarks/threads.py                    # 5 epochs, 3 rounds
    python benchmarks/threads.py --epochs 2 --repeats 1   # a quicker look

Prints the settings it ran with (versions, cores, what ``threads: auto`` resolves to, the load
average before each round: on a shared machine "quiet" is only as quiet as the others let it be).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def settings_line() -> str:
    import lightning
    import torch

    from proxyml.trainer import auto_threads, usable_cores

    env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS") if k in os.environ}
    return (f"python {platform.python_version()}, torch {torch.__version__}, lightning {lightning.__version__}; "
            f"os.cpu_count {os.cpu_count()}, usable cores {usable_cores()}, torch default threads "
            f"{torch.get_num_threads()}, thread env {env or 'unset'}; threads: auto resolves to "
            f"{auto_threads(0)} without workers, {auto_threads(1)} with")


def spinner() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="rounds over every configuration (median)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()

    warnings.filterwarnings("ignore")
    logging.getLogger("proxyml").setLevel(logging.WARNING)
    from proxyml import pipeline
    from proxyml.recipe import load_recipe
    from proxyml.trainer import Trainer

    print(f"settings: {settings_line()}")
    configs = [(n, t, w) for n in ("quiet", "busy") for w in args.workers for t in args.threads]
    times: dict[tuple[str, int, int], list[float]] = {c: [] for c in configs}
    with tempfile.TemporaryDirectory() as folder:
        def recipe(threads: int, workers: int, epochs: int, name: str):
            return load_recipe(ROOT / "recipes" / "quickstart.yaml", [
                f"trainer.max_epochs={epochs}", "trainer.progress_bar=false",
                "trainer.early_stopping_patience=null", f"trainer.threads={threads}",
                f"trainer.num_workers={workers}", f"output.dir={folder}/{name}"])

        base = recipe(1, 0, args.epochs, "read")
        dataset = pipeline.prepare(base).dataset
        t = base.trainer
        print(f"fit: {base.task_entries[0].name} on {base.encoder_name}, {len(dataset)} series, {args.epochs} epochs, "
              f"batch_size {t.batch_size}, learning_rate {t.learning_rate}, val_fraction {t.val_fraction}, "
              f"accelerator {t.accelerator}, precision {t.precision}; neighbour: 1 process spinning "
              f"(`{sys.executable} -c 'while True: pass'`)")
        warm = recipe(1, 0, 1, "warm-up")  # one-time costs (imports, first kernels) out of the timings
        Trainer(warm.trainer, warm.output_dir, seed=warm.seed).fit(pipeline.build_module(warm, dataset), dataset)
        for round_ in range(args.repeats):
            print(f"round {round_ + 1}: load average before {', '.join(f'{v:.2f}' for v in os.getloadavg())}",
                  flush=True)
            for neighbour, threads, workers in configs:
                r = recipe(threads, workers, args.epochs, f"{neighbour}-{threads}-{workers}-{round_}")
                module = pipeline.build_module(r, dataset)
                trainer = Trainer(r.trainer, r.output_dir, seed=r.seed)
                busy = spinner() if neighbour == "busy" else None
                try:
                    if busy is not None:
                        time.sleep(0.5)  # let it get going
                    fit = trainer.fit(module, dataset)
                finally:
                    if busy is not None:
                        busy.kill()
                        busy.wait()
                assert fit.threads == threads and fit.num_workers == workers, (fit.threads, fit.num_workers)
                times[(neighbour, threads, workers)].append(fit.seconds)

    print()
    print(f"quick-start fit, {args.epochs} epochs: seconds, median of {args.repeats} (slowest)")
    header = f"{'':<26}" + "".join(f"{f'threads {t}':>18}" for t in args.threads)
    print(header)
    for neighbour in ("quiet", "busy"):
        for workers in args.workers:
            label = f"{neighbour}, num_workers {workers}"
            cells = []
            for threads in args.threads:
                values = times[(neighbour, threads, workers)]
                cells.append(f"{statistics.median(values):8.2f} ({max(values):6.2f})")
            print(f"{label:<26}" + "".join(f"{c:>18}" for c in cells))


if __name__ == "__main__":
    main()
