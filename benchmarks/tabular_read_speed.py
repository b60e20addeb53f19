"""How long the tabular reader takes on a large CSV, next to pandas parsing the same file.

Writes a seeded synthetic CSV (``--rows`` rows, default 1,000,000; 12 columns: an ``id``, 8
numeric columns with a few bad cells such as ``oops``, ``inf``, ``1e300`` and empty cells, and 3
categorical columns: two of words, one of codes with digits such as ``A17``) into a temporary folder, then times in one process:

(a) ``pandas.read_csv`` of the file alone: as the reader calls it (``dtype=str``) and with
    pandas' defaults;
(b) the proxyml tabular reader, called the way the pipeline calls it (the modality's ``read``
    with the recipe's default ``data.params``), which fits the transform and encodes the rows.

    python benchmarks/tabular_read_speed.py                 # 1M rows
    python benchmarks/tabular_read_speed.py --rows 200000   # a quicker look
    python benchmarks/tabular_read_speed.py --rows 200000 --profile 25   # + cProfile of the reader

Each timing is the best of ``--repeats`` runs (wall clock, ``time.perf_counter``).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

N_NUMERIC, N_CATEGORICAL = 8, 3
LETTERS = str.maketrans("0123456789", "abcdefghij")
BAD_TEXT = np.array(["oops", "inf", "-inf", "1e300", "n/a?"], dtype=object)


def write_table(path: Path, rows: int, seed: int = 0) -> None:
    """The synthetic CSV: ``id``, ``x0..x7`` (numbers; ~0.01% bad cells, ~1% empty), ``c0..c2``
    (5, 20 and 45 categories; ~1% empty)."""
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {"id": np.char.add("r", np.arange(rows).astype(str))}
    for j in range(N_NUMERIC):
        values = rng.normal(10.0 * j, 1.0 + j, rows)
        text = np.char.mod("%.6g", values).astype(object) if j % 2 else np.round(values).astype(np.int64).astype(str).astype(object)
        bad = rng.random(rows) < 1e-4
        text[bad] = rng.choice(BAD_TEXT, int(bad.sum()))
        text[rng.random(rows) < 0.01] = ""
        columns[f"x{j}"] = text
    for k in range(N_CATEGORICAL):
        words = [str(v).translate(LETTERS) for v in range(5 * (k + 1) ** 2)]
        vocabulary = np.array([f"A{v}" for v in range(len(words))] if k == 2 else [f"{'xyz'[k]}_{w}" for w in words],
                              dtype=object)
        text = rng.choice(vocabulary, rows)
        text[rng.random(rows) < 0.01] = ""
        columns[f"c{k}"] = text
    pd.DataFrame(columns).to_csv(path, index=False)


def best(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


def settings() -> str:
    import pyarrow
    import torch

    env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
           if k in os.environ}
    return (f"python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}, "
            f"pyarrow {pyarrow.__version__} (cpu_count {pyarrow.cpu_count()}); os.cpu_count {os.cpu_count()}, "
            f"usable cores {len(os.sched_getaffinity(0))}, torch threads {torch.get_num_threads()}, "
            f"thread env {env or 'unset'}; pandas future.infer_string {pd.get_option('future.infer_string')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the synthetic CSV (default 1M)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs per timing")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile one reader call (cProfile) and print its top N functions")
    args = parser.parse_args()

    from proxyml.modalities.tabular import io as tabular_io
    from proxyml.modality import get_modality

    modality = get_modality("tabular")
    params = modality.reader_params({})
    print(f"settings: {settings()}")
    print(f"reader: {tabular_io.__file__}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        start = time.perf_counter()
        write_table(path, args.rows, args.seed)
        print(f"wrote {args.rows} rows x {1 + N_NUMERIC + N_CATEGORICAL} columns "
              f"({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - start:.1f} s")

        text_s, frame = best(lambda: pd.read_csv(path, dtype=str, keep_default_na=True, index_col=False),
                             args.repeats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)  # the mixed columns: expected
            default_s, _ = best(lambda: pd.read_csv(path), args.repeats)
        del frame
        read_s, data = best(lambda: modality.read(str(path), params), args.repeats)
        print(f"(a) pandas.read_csv(dtype=str), as the reader parses: {text_s:7.2f} s")
        print(f"    pandas.read_csv(), pandas' defaults:               {default_s:7.2f} s")
        print(f"(b) proxyml tabular read (modality.read):              {read_s:7.2f} s "
              f"({len(data)} rows kept, {len(data.skipped)} skipped, {data.spec['n_numeric']} numeric + "
              f"{data.spec['n_categorical']} categorical columns)")
        print(f"ratio (b) / (a) dtype=str: {read_s / text_s:.2f}x; (b) / pandas defaults: {read_s / default_s:.2f}x")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(modality.read, str(path), params)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
