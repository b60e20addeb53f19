"""Shared runner of the label-efficiency benchmarks: every task of a modality, the baselines
and random-init, in one process on the same label draws (same seed), printed as one table.

Used by ``timeseries_label_efficiency.py``, ``tabular_label_efficiency.py`` (one run per task,
:func:`compare`) and ``video_label_efficiency.py`` (one run of a ``tasks:`` recipe,
:func:`write_table`).
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def arguments(description: str, recipe: str, out: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--recipe", default=str(ROOT / "recipes" / recipe))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's max_epochs")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / out))
    return parser.parse_args()


def compare(args: argparse.Namespace, tasks: tuple[str, ...], *, describe_data: Any, footnote: str,
            reset_task_params: bool = False) -> str:
    """Run ``tasks`` with the recipe at ``args.recipe``; print and save the table.

    ``describe_data(labels_summary, repeats)`` gives the table's first line.
    """
    logging.basicConfig(level=logging.WARNING)
    from proxyml import load_recipe, run

    rows: dict[str, dict] = {}
    seconds: dict[str, float] = {}
    proxies: dict[str, tuple[dict, int]] = {}
    labels: dict = {}
    for task in tasks:
        overrides = [f"task.name={task}", f"evaluate.repeats={args.repeats}",
                     f"output.dir={ROOT / 'runs' / 'benchmark' / task}", "trainer.progress_bar=false"]
        if reset_task_params:  # the recipe's params belong to its own task
            overrides.append("task.params={}")
        if args.epochs:
            overrides.append(f"trainer.max_epochs={args.epochs}")
        report = run(load_recipe(args.recipe, overrides), overwrite=True).report
        methods, timings, labels = report["probes"], report["timings"], report["labels"]
        rows[f"proxyml {task}"] = methods["proxyml"]
        seconds[f"proxyml {task}"] = timings["train"] + timings["embed_and_score"]
        for name in [m for m in methods if m.startswith("proxyml+")]:  # stacked on a baseline: per task
            rows[f"proxyml {task} + {name.removeprefix('proxyml+')}"] = methods.pop(name)
        untrained = report["proxy_score_baselines"]["random_init"]
        proxies[task] = (report["proxy_score"], report["training"]["epochs"], untrained)
        rows.update({name: results for name, results in methods.items() if name != "proxyml" and name not in rows})
        seconds.update({k.removeprefix("baseline:"): v for k, v in timings.items() if k.startswith("baseline:")})
        if "random_init" in timings:
            seconds["random_init"] = timings["random_init"]

    return write_table(args, rows, seconds, proxies, labels, report["training"], describe_data=describe_data,
                       footnote=footnote)


def write_table(args: argparse.Namespace, rows: dict[str, dict], seconds: dict[str, float],
                proxies: dict[str, tuple[dict, int, dict]], labels: dict, training: dict, *, describe_data: Any,
                footnote: str) -> str:
    """Print ``rows`` (method -> budget -> probe AUC mean and std) with each method's wall time
    and each proxy's score (``proxies``: key -> (proxy score, epochs, the untrained model's)),
    and save the table to ``args.out``."""
    budgets = list(next(iter(rows.values())))
    width = max(36, *(len(name) + 2 for name in rows))
    lines = [describe_data(labels, args.repeats), "",
             f"{'method':<{width}}" + "".join(f"{'n=' + b:>15}" for b in budgets) + f"{'wall s':>10}"]
    for name, results in rows.items():
        cells = "".join(f"{results[b]['auc_mean']:>9.3f}±{results[b]['auc_std']:.3f}" for b in budgets)
        wall = f"{seconds[name]:>10.1f}" if name in seconds else f"{'':>10}"
        lines.append(f"{name:<{width}}{cells}{wall}")
    lines.append("")
    for task, (proxy, epochs, untrained) in proxies.items():
        lines.append(f"proxy score of {task} ({epochs} epochs): AUC {proxy['auc']:.3f} "
                     f"[{proxy['ci'][0]:.3f}, {proxy['ci'][1]:.3f}], p={proxy['p_value']:.3g} — {proxy['statement']}")
        lines.append(f"  the same task's proxy score from the untrained (random-init) model: AUC {untrained['auc']:.3f} "
                     f"[{untrained['ci'][0]:.3f}, {untrained['ci'][1]:.3f}]")
    lines += ["", footnote, "<task> + <baseline>: that task's embeddings stacked on the baseline's features, one probe.",
              f"settings: trainer.threads auto -> {training.get('threads')} torch thread(s), "
              f"{training.get('num_workers')} DataLoader workers, {os.cpu_count()} cores"]
    text = "\n".join(lines)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")
    return text
