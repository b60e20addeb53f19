"""Label efficiency on breast cancer: proxyml (both tabular tasks) vs raw columns vs random-init.

Everything runs in one process on the same label draws (same seed), so the numbers are paired:

    python benchmarks/tabular_label_efficiency.py            # the table in docs/tabular.md
    python benchmarks/tabular_label_efficiency.py --repeats 5 --epochs 5   # a quick look

Prints, for every method, the few-label probe ROC AUC (mean ± std over the draws) at 10, 20, 50
and all labels, each proxy score's own AUC, and the wall time of each method. The output is also
written to ``benchmarks/results/tabular_label_efficiency.txt``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = ("tabular.imputation", "tabular.corrupted_cells")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=str(ROOT / "recipes" / "tabular_breast_cancer.yaml"))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's max_epochs")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "tabular_label_efficiency.txt"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from proxyml import load_recipe, run

    rows: dict[str, dict] = {}
    seconds: dict[str, float] = {}
    proxy_auc: dict[str, dict] = {}
    epochs: dict[str, int] = {}
    for i, task in enumerate(TASKS):
        overrides = [f"task.name={task}", f"evaluate.repeats={args.repeats}",
                     f"output.dir={ROOT / 'runs' / 'benchmark' / task}", "trainer.progress_bar=false"]
        if args.epochs:
            overrides.append(f"trainer.max_epochs={args.epochs}")
        if i > 0:  # the baselines' features do not depend on the task: compute them once
            overrides += ["evaluate.baselines=[]", "evaluate.random_init=false"]
        report = run(load_recipe(args.recipe, overrides)).report
        methods = report["probes"]["methods"]
        rows[f"proxyml {task}"] = methods["proxyml"]
        timings = report["timings"]
        seconds[f"proxyml {task}"] = timings["train"] + timings["embed_and_score"]
        epochs[task] = report["training"]["epochs"]
        proxy_auc[task] = report["proxy_score"]
        for name, results in methods.items():
            if name != "proxyml":
                rows[name] = results
        for key, value in timings.items():
            if key.startswith("baseline:"):
                seconds[key.removeprefix("baseline:")] = value
        if "random_init" in timings:
            seconds["random_init"] = timings["random_init"]
        labels = report["labels"]

    budgets = list(next(iter(rows.values())))
    lines = [
        f"breast cancer (scikit-learn), {labels['n_labelled']} labelled rows, positive class "
        f"{labels['positive']!r} (malignant); {args.repeats} stratified draws per budget; probe = "
        "standardised logistic regression; ROC AUC on the labelled rows left out of each draw (mean ± std).",
        "",
        f"{'method':<36}" + "".join(f"{'n=' + b:>15}" for b in budgets) + f"{'wall s':>10}",
    ]
    for name, results in rows.items():
        cells = "".join(f"{results[b]['auc_mean']:>9.3f}±{results[b]['auc_std']:.3f}" for b in budgets)
        lines.append(f"{name:<36}{cells}{seconds.get(name, float('nan')):>10.1f}")
    lines.append("")
    for task, proxy in proxy_auc.items():
        lines.append(f"proxy score of {task} ({epochs[task]} epochs): AUC {proxy['auc']:.3f} "
                     f"[{proxy['ci'][0]:.3f}, {proxy['ci'][1]:.3f}], p={proxy['p_value']:.3g} — {proxy['statement']}")
    lines.append("")
    lines.append("wall s: proxyml = training + embedding and scoring; random_init = building + embedding; "
                 "tabular.raw_features = one-hot encoding the labelled rows (the reader's transform is shared).")
    text = "\n".join(lines)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
