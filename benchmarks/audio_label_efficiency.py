"""Audio on the synthetic call center: label efficiency, decode throughput and peak memory.

Three parts, in one process (the memory part runs each ``proxyml run`` in a fresh subprocess):

1. label efficiency: each audio task (``audio.call_direction``, ``audio.segment_order``,
   ``audio.noise_rank``) vs the MFCC baseline vs random-init, with ``recipes/call_center_churn.yaml``
   on its synthetic call center (written to ``data/call_center/`` first if it is missing), on the
   same label draws (same seed): the few-label probe ROC AUC (mean ± std over the draws) at 10,
   20, 50 and all labels, each proxy score's own AUC and each method's wall time;
2. decode throughput of the audio reader on the demo's calls, through a torch DataLoader with the
   set's own ``collate`` and 0 or 2 workers: ``load`` (what embedding reads: up to
   ``embed_windows`` windows spread across each call) and ``load_training`` (one random window);
   calls per second and hours of audio per second (of the calls' full length, and of what was
   actually decoded); torch uses one thread in this part;
3. peak memory and wall time of ``proxyml run`` (1 epoch, call-center recipe) on three synthetic
   call centers written into a temporary folder: few short calls, 4x as many short calls, and
   as few calls 10x as long; each run in its own process, whose peak RSS is read inside it (VmHWM;
   its DataLoader workers' memory sampled every 0.1 s), printed side by side with the ratios.

    python benchmarks/audio_label_efficiency.py                          # everything (~4-5 min on 2 cores)
    python benchmarks/audio_label_efficiency.py --repeats 5 --epochs 5   # a quick look
    python benchmarks/audio_label_efficiency.py --parts 2 3              # throughput and memory only

The output is printed and written to ``benchmarks/results/audio_label_efficiency.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from label_efficiency import ROOT, compare

TASKS = ("audio.call_direction", "audio.segment_order", "audio.noise_rank")
CHILD = "--child-run"  # argv[1] of the wrapper that runs one `proxyml` command and records its peak RSS
MIB = 2**20


def arguments() -> argparse.Namespace:
    """The label-efficiency scripts' arguments (``--recipe``, ``--repeats``, ``--epochs``, ``--out``)
    and this script's own."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=str(ROOT / "recipes" / "call_center_churn.yaml"))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's max_epochs")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "audio_label_efficiency.txt"))
    parser.add_argument("--parts", type=int, nargs="+", choices=(1, 2, 3), default=[1, 2, 3])
    parser.add_argument("--passes", type=int, default=5, help="throughput: passes over the calls per setting")
    parser.add_argument("--laps", type=int, default=10, help="throughput: laps over the calls in the long pass")
    parser.add_argument("--few", type=int, default=40, help="memory: calls in the small call centers")
    parser.add_argument("--many", type=int, default=160, help="memory: calls in the large one")
    parser.add_argument("--short", type=float, nargs=2, default=[20.0, 30.0], help="memory: short calls' seconds")
    parser.add_argument("--long", type=float, nargs=2, default=[200.0, 300.0], help="memory: long calls' seconds")
    parser.add_argument("--labelled", type=int, default=30, help="memory: labelled calls in each call center")
    return parser.parse_args()


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def read_demo(recipe: Any) -> tuple[Any, Any]:
    """The recipe's call set, read the way the pipeline reads it (headers only: nothing decoded),
    and its validated ``data.params`` (the recipe's, defaults filled in)."""
    from proxyml.modalities.audio import AudioModality

    modality = AudioModality()
    params = modality.reader_params(recipe.data.params)
    return modality.read(recipe.data.source, params, base_dir=recipe.base_dir), params


# -- 1. label efficiency -------------------------------------------------------------------------

def label_efficiency(args: argparse.Namespace, recipe: Any, calls: Any, params: Any) -> str:
    from proxyml.modalities.audio.tasks import CallDirectionParams

    defaults = CallDirectionParams()
    own = recipe.task.params if recipe.task.name == "audio.call_direction" else {}
    if (defaults.column, defaults.positive) != ("direction", "inbound"):
        sys.exit(f"audio.call_direction's defaults are column={defaults.column!r}, positive={defaults.positive!r}, "
                 "not direction / inbound: task.params={} would not train the recipe's task")
    durations = calls.durations
    folder = Path(calls.source).resolve().parent
    where = folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder

    def describe(labels: dict, repeats: int) -> str:
        return (f"synthetic call center (proxyml demo {recipe.data.demo!r}, {where}/): "
                f"{len(calls)} calls of {durations.min():.0f}-{durations.max():.0f} s ({durations.sum() / 3600:.2f} h), "
                f"{labels['n_labelled']} labelled ({labels['n_positive']} positive, {labels['target']} = "
                f"{labels['positive']!r}); {params.channels} at {params.sample_rate / 1000:g} kHz, training on one "
                f"{params.window_seconds:g} s window per call and epoch, embeddings pooling up to "
                f"{params.embed_windows} windows spread across each call; {repeats} stratified draws per budget; "
                "probe = standardised logistic regression; ROC AUC on the labelled calls left out of each draw "
                "(mean ± std).")

    text = compare(args, TASKS, describe_data=describe, reset_task_params=True,
                   footnote="wall s: proxyml = training + embedding and scoring; random_init = building + embedding; "
                            "audio.mfcc = MFCC and spectral statistics of the labelled calls (what embedding reads).")
    extra = (f"task.params = {{}} for every task: audio.call_direction's defaults are column="
            f"{defaults.column!r}, positive={defaults.positive!r} (the recipe's own: {dict(own)})")
    print(extra, flush=True)
    return f"{text}\n{extra}"


# -- 2. decode throughput ------------------------------------------------------------------------

def one_pass(calls: Any, *, training: bool, workers: int, batch_size: int, seed: int,
             laps: int = 1) -> dict[str, float]:
    """One pass through a DataLoader over every call (``laps`` times over, in one iterator: the
    workers start once): seconds, calls, audio seconds (full and decoded)."""
    from torch.utils.data import DataLoader

    n = len(calls)
    # a (index, seed) key asks the set for load_training (one window drawn from that seed's rng)
    keys: list[Any] = [(i, (seed * laps + lap) * n + i) if training else i for lap in range(laps) for i in range(n)]
    loader = DataLoader(calls, batch_size=batch_size, sampler=keys, collate_fn=calls.collate,
                        num_workers=workers, persistent_workers=False)
    done, decoded, full, failed, first = 0, 0, 0.0, 0, None
    start = time.perf_counter()
    for batch in loader:
        index = batch["index"].numpy()
        if first is None:
            first = time.perf_counter() - start
        done += len(index)
        failed += len(batch.get("failed", []))
        if len(index):
            decoded += int(batch["lengths"].sum())
            full += float(calls.durations[index].sum())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "first_batch": first or 0.0, "calls": done, "failed": failed,
            "decoded_s": decoded / calls.sample_rate, "full_s": full}


def throughput(args: argparse.Namespace, recipe: Any, calls: Any) -> str:
    import torch

    torch.set_num_threads(1)
    batch_size = recipe.trainer.batch_size
    one_pass(calls, training=False, workers=0, batch_size=batch_size, seed=0)  # untimed: the files into the page cache
    lines = [f"Decode throughput of the audio reader on the demo's {len(calls)} calls "
             f"({calls.durations.sum() / 3600:.2f} h, {calls.channels} channel(s) at {calls.sample_rate} Hz, "
             f"{calls.window / calls.sample_rate:g} s windows, embed_windows {calls.embed_windows}); "
             f"DataLoader(batch_size={batch_size}, collate_fn=the set's collate, persistent_workers=False), "
             f"torch.set_num_threads(1); after one untimed pass, median of {args.passes} passes (fastest-slowest in "
             f"brackets); "
             f"{load_average()} at the start", "",
             f"{'what':<34}{'workers':>8}{'pass s':>18}{'1st batch s':>12}{'calls/s':>9}"
             f"{'full h/s':>10}{'decoded h/s':>12}{'decoded/call s':>15}"
             f"{f'{args.laps} laps: calls/s':>20}{'decoded h/s':>12}"]
    for training in (False, True):
        what = "load_training (one random window)" if training else "load (embed windows)"
        for workers in (0, 2):
            passes = [one_pass(calls, training=training, workers=workers, batch_size=batch_size, seed=p)
                      for p in range(args.passes)]
            seconds = [p["seconds"] for p in passes]
            median = statistics.median(seconds)
            last = passes[-1]
            lapped = one_pass(calls, training=training, workers=workers, batch_size=batch_size, seed=args.passes,
                              laps=args.laps)
            if any(p["failed"] for p in passes) or last["calls"] != len(calls):
                lines.append(f"  ({what}, {workers} workers: {last['failed']} calls failed to decode)")
            lines.append(f"{what:<34}{workers:>8}{median:>7.2f} [{min(seconds):.2f}-{max(seconds):.2f}]"
                         f"{statistics.median(p['first_batch'] for p in passes):>12.2f}"
                         f"{last['calls'] / median:>9.0f}{last['full_s'] / 3600 / median:>10.2f}"
                         f"{last['decoded_s'] / 3600 / median:>12.3f}{last['decoded_s'] / last['calls']:>15.1f}"
                         f"{lapped['calls'] / lapped['seconds']:>20.0f}"
                         f"{lapped['decoded_s'] / 3600 / lapped['seconds']:>12.3f}")
    lines += ["", "full h/s: hours of the calls' whole durations gone through per second (each call once a pass); "
              "decoded h/s: hours of audio actually decoded and returned per second (load: up to embed_windows x "
              "window_seconds per call, or the whole call when shorter; load_training: one window); "
              "1st batch s: from creating the iterator to the first batch (with workers: their start-up too); "
              "calls/s, full h/s and decoded h/s are per whole pass, start-up included; "
              f"{args.laps} laps: one more pass that goes over every call {args.laps} times in one iterator (the "
              "workers start once), closer to the steady rate. The untimed pass put the files in the page cache: "
              "this is decoding, not disk."]
    return "\n".join(lines)


# -- 3. peak memory ------------------------------------------------------------------------------

def high_water_mark() -> int:
    """This process's peak RSS in bytes: ``VmHWM`` of ``/proc/self/status``, the high-water mark of
    its own address space since it was exec'd. (Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux
    carries the parent's peak over ``exec``, and ``subprocess`` starts children with ``vfork``, so a
    child of a large process would report the parent's peak.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux: kilobytes on Linux only


def watch_children(peaks: dict[str, int], stop: threading.Event, every: float = 0.1) -> None:
    """Until ``stop``: sample this process's child processes (the DataLoader workers) every
    ``every`` seconds; keep the largest RSS and USS (private memory) of one child, and the largest
    PSS of this process and its children together (shared pages split between them)."""
    import psutil

    me = psutil.Process()
    while not stop.wait(every):
        try:
            total = me.memory_full_info().pss
            children = me.children(recursive=True)
        except psutil.Error:
            continue
        peaks["workers"] = max(peaks["workers"], len(children))
        for child in children:
            try:
                info = child.memory_full_info()
            except psutil.Error:
                continue
            peaks["worker_rss"] = max(peaks["worker_rss"], info.rss)
            peaks["worker_uss"] = max(peaks["worker_uss"], info.uss)
            total += info.pss
        peaks["total_pss"] = max(peaks["total_pss"], total)


def child_run(result_file: str, argv: list[str]) -> int:
    """Run ``proxyml <argv>`` in this process; write its exit code, wall time, peak RSS
    (:func:`high_water_mark`) and the sampled peaks of :func:`watch_children` to ``result_file``."""
    from proxyml.cli import main

    peaks = {"workers": 0, "worker_rss": 0, "worker_uss": 0, "total_pss": 0}
    stop = threading.Event()
    watcher = threading.Thread(target=watch_children, args=(peaks, stop), daemon=True)
    watcher.start()
    start = time.perf_counter()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    wall = time.perf_counter() - start
    stop.set()
    watcher.join()
    Path(result_file).write_text(json.dumps({"code": code, "wall_s": wall, "peak_rss": high_water_mark(), **peaks}))
    return int(code or 0)


def peak_of(argv: list[str], folder: Path) -> dict[str, Any]:
    """``proxyml <argv>`` in a fresh process under :func:`child_run`: its exit code, wall time, peak RSS."""
    result_file = folder / "peak.json"
    done = subprocess.run([sys.executable, __file__, CHILD, str(result_file), *argv],
                          capture_output=True, text=True, check=False)
    if done.returncode or not result_file.is_file():
        sys.exit(f"proxyml {' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(result_file.read_text())


def embed_batch_bytes(durations: pd.Series, *, batch_size: int, rate: int, channels: int, window_s: float,
                      windows: int) -> int:
    """The input tensor of the largest embedding batch (in order, ``batch_size`` calls, padded to the
    longest): a call is read whole up to ``windows x window_s`` seconds, else as that many windows."""
    read = np.where(durations <= windows * window_s, durations, windows * window_s)
    samples = np.round(read * rate)
    return int(max(len(chunk) * chunk.max() for chunk in np.array_split(samples, range(batch_size, len(samples),
                                                                                       batch_size))) * channels * 4)


def memory(args: argparse.Namespace) -> str:
    from proxyml import load_recipe
    from proxyml.modalities.audio.demo import write_call_center

    recipe = load_recipe(args.recipe)
    params = recipe.data.params
    sets = [("a", args.few, args.short), ("b", args.many, args.short), ("c", args.few, args.long)]
    rows = []
    threads = workers = batch = None
    with tempfile.TemporaryDirectory(prefix="proxyml-audio-imports-") as folder:
        imports = peak_of(["tasks", "-v"], Path(folder))
    for key, n_calls, (low, high) in sets:
        with tempfile.TemporaryDirectory(prefix=f"proxyml-audio-{key}-") as folder:
            tick = time.perf_counter()
            files = write_call_center(Path(folder) / "calls", n_calls=n_calls, n_labelled=min(args.labelled, n_calls),
                                      min_seconds=low, max_seconds=high, seed=0)
            written = time.perf_counter() - tick
            run_dir = Path(folder) / "run"
            overrides = [f"data.source={files['manifest']}", f"labels.source={files['labels']}", "data.demo=null",
                         "trainer.max_epochs=1", "evaluate.repeats=2", "evaluate.label_budgets=[10]",
                         f"output.dir={run_dir}", "trainer.progress_bar=false"]
            argv = ["run", args.recipe, *[part for o in overrides for part in ("--set", o)]]
            load = load_average()
            result = peak_of(argv, Path(folder))
            report = json.loads((run_dir / "report.json").read_text())
            threads, workers = report["training"].get("threads"), report["training"].get("num_workers")
            batch = report["prediction"]["batch_size"]
            durations = pd.read_csv(files["manifest"])["duration_s"].to_numpy(dtype=float)
            spec = report["data"]["spec"]
            largest = embed_batch_bytes(durations, batch_size=batch, rate=spec["sample_rate"],
                                        channels=spec["channels"], window_s=spec["window"] / spec["sample_rate"],
                                        windows=int(params.get("embed_windows", 8)))
            size = sum(f.stat().st_size for f in Path(files["calls"]).iterdir())
            rows.append({"key": key, "n": n_calls, "mean_s": durations.mean(), "hours": durations.sum() / 3600,
                         "bytes": size, "written_s": written, "embed_batch": largest, "load": load, **result,
                         "timings": report["timings"]})
    lines = [f"Peak memory of `proxyml run` ({Path(args.recipe).name}: audio.call_direction, trainer.max_epochs=1, "
             f"evaluate.repeats=2, label_budgets [10], {args.labelled} labelled calls) on synthetic call centers "
             "written by write_call_center (stereo 8 kHz, 16-bit WAV) into a temporary folder; each run in a fresh "
             f"process (proxyml.cli.main under a small wrapper that reads its own peak RSS and samples its workers' "
             f"memory every 0.1 s); trainer.threads "
             f"auto -> {threads} torch thread(s), {workers} DataLoader worker(s), {os.cpu_count()} cores", "",
             f"{'set':<4}{'calls':>6}{'mean s':>8}{'hours':>7}{'WAV MiB':>9}{'peak RSS MiB':>14}{'+workers PSS':>14}"
             f"{'worker RSS':>12}{'worker USS':>12}{'embed batch MiB':>17}{'wall s':>8}{'read s':>8}{'train s':>8}"
             f"{'embed s':>8}{'mfcc s':>8}",
             f"{'-':<4}{'':>6}{'':>8}{'':>7}{'':>9}{imports['peak_rss'] / MIB:>14.0f}{'':>14}{'':>12}{'':>12}{'':>17}"
             f"{imports['wall_s']:>8.1f}   (`proxyml tasks -v`: the imports alone, nothing read)"]
    for row in rows:
        t = row["timings"]
        lines.append(f"{row['key']:<4}{row['n']:>6}{row['mean_s']:>8.0f}{row['hours']:>7.2f}{row['bytes'] / MIB:>9.0f}"
                     f"{row['peak_rss'] / MIB:>14.0f}{row['total_pss'] / MIB:>14.0f}{row['worker_rss'] / MIB:>12.0f}"
                     f"{row['worker_uss'] / MIB:>12.0f}{row['embed_batch'] / MIB:>17.0f}{row['wall_s']:>8.1f}"
                     f"{t.get('read', float('nan')):>8.1f}{t.get('train', float('nan')):>8.1f}"
                     f"{t.get('embed_and_score', float('nan')):>8.1f}{t.get('baseline:audio.mfcc', float('nan')):>8.1f}")
    a, b, c = rows
    lines.append("")
    for other, what in ((b, f"b/a ({b['n'] / a['n']:.0f}x the calls)"),
                        (c, f"c/a ({c['mean_s'] / a['mean_s']:.0f}x as long)")):
        lines.append(f"{what:<22} audio {other['hours'] / a['hours']:>5.1f}x   peak RSS {other['peak_rss'] / a['peak_rss']:.2f}"
                     f"   +workers PSS {other['total_pss'] / max(a['total_pss'], 1):.2f}"
                     f"   worker USS {other['worker_uss'] / max(a['worker_uss'], 1):.2f}"
                     f"   wall {other['wall_s'] / a['wall_s']:.2f}   train {other['timings']['train'] / a['timings']['train']:.2f}"
                     f"   embed {other['timings']['embed_and_score'] / a['timings']['embed_and_score']:.2f}")
    lines += ["", "peak RSS: the run's own process, measured (VmHWM, its high-water mark); +workers PSS: the "
              "process and its DataLoader workers together, proportional set size (shared pages split), the largest "
              "of the 0.1 s samples; worker RSS / USS: the largest one worker reached in the samples (RSS counts the "
              "pages it shares with the process it was forked from; USS only its own); sampled values can miss a "
              "peak shorter than 0.1 s; "
              f"embed batch MiB: the float32 input of the largest embedding batch (trainer.predict_batch_size "
              f"default {batch} calls in order, padded; a call is read whole up to embed_windows x window_seconds "
              f"= {int(params.get('embed_windows', 8)) * float(params.get('window_seconds', 4.0)):g} s, else as "
              "that many windows), computed from the durations, not measured; "
              "wall s: the whole `proxyml run` in the wrapper (imports not included); read/train/embed/mfcc s: "
              "the report's timings. Writing the call centers (not measured): "
              + ", ".join(f"{r['key']} {r['written_s']:.0f} s" for r in rows) + ". "
              + "; ".join(f"{r['key']}: {r['load']}" for r in rows) + " before each run."]
    return "\n".join(lines)


def main() -> None:
    args = arguments()
    from proxyml import load_recipe
    from proxyml.demos import ensure_demo_data

    recipe = load_recipe(args.recipe)
    written = ensure_demo_data(recipe)
    if written:
        print(f"wrote the synthetic call center to {written}")
    calls, params = read_demo(recipe) if {1, 2} & set(args.parts) else (None, None)
    sections: list[str] = []
    started = time.perf_counter()

    def save(title: str, text: str, printed: bool = False) -> None:
        if not printed:
            print(f"\n{title}\n{text}", flush=True)
        sections.append(f"{title}\n{text}" if title else text)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text("\n\n".join(sections) + "\n")

    if 1 in args.parts:
        print(f"1. Label efficiency ({load_average()} at the start)", flush=True)
        tick = time.perf_counter()
        text = label_efficiency(args, recipe, calls, params)
        peak = (f"peak RSS of this process after the three runs: {high_water_mark() / MIB:.0f} MiB (VmHWM; "
                "training, embedding and evaluation in-process)")
        print(peak, flush=True)
        text = f"{text}\n{peak}"
        save(f"1. Label efficiency ({time.perf_counter() - tick:.0f} s)", text, printed=True)  # compare() printed it
    if 2 in args.parts:
        save("2. Decode throughput", throughput(args, recipe, calls))
    if 3 in args.parts:
        tick = time.perf_counter()
        text = memory(args)
        save(f"3. Peak memory against the number and the length of calls ({time.perf_counter() - tick:.0f} s)", text)
    save("", f"whole script: {time.perf_counter() - started:.0f} s; python {sys.version.split()[0]}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == CHILD:
        sys.exit(child_run(sys.argv[2], sys.argv[3:]))
    main()
