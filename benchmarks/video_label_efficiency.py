"""Label efficiency on the synthetic colposcopy exams: the three video proxies, alone and combined,
vs the frame-statistics baseline vs the untrained encoder, in one ``proxyml run``.

``recipes/colposcopy_features.yaml`` as it is (its demo videos are written to
``data/colposcopy/`` first when they are missing), with ``evaluate.repeats`` label draws per
budget; every method is probed on the same draws (same seed), so the numbers are paired:

    python benchmarks/video_label_efficiency.py                        # the table in the README (~3-4 min)
    python benchmarks/video_label_efficiency.py --repeats 5 --epochs 5 # a quick look

Prints, for every method, the few-label probe ROC AUC (mean ± std over the draws) at each of the
recipe's budgets, each proxy score's own AUC (with the untrained model's beside it) and the wall
times. The output is also written to ``benchmarks/results/video_label_efficiency.txt``.
"""

from __future__ import annotations

import logging

from label_efficiency import ROOT, arguments, write_table


def main() -> None:
    args = arguments(__doc__.splitlines()[0], "colposcopy_features.yaml", "video_label_efficiency.txt")
    logging.basicConfig(level=logging.WARNING)
    from proxyml import load_recipe, run
    from proxyml.reporting import learning_statements

    overrides = [f"evaluate.repeats={args.repeats}", f"output.dir={ROOT / 'runs' / 'benchmark' / 'video'}",
                 "trainer.progress_bar=false"]
    if args.epochs:
        overrides.append(f"trainer.max_epochs={args.epochs}")
    report = run(load_recipe(args.recipe, overrides), overwrite=True).report
    timings, training = report["timings"], report["training"]
    rows = dict(report["probes"])
    seconds = {name.removeprefix("baseline:"): value for name, value in timings.items() if name.startswith("baseline:")}
    seconds["proxyml:combined"] = timings["train"] + timings["embed_and_score"]
    if "random_init" in timings:
        seconds["random_init"] = timings["random_init"]
    proxies = {key: (proxy, training[key]["epochs"], report["proxy_scores_baselines"][key]["random_init"])
               for key, proxy in report["proxy_scores"].items()}
    first = next(iter(training.values()))
    learning = [f"{key}: training loss {t['pretext']['recent_train_loss']:.3f} (last {t['pretext']['epochs_averaged']} "
                f"epochs), chance {t['pretext']['chance_loss']:.3f}: {'learned' if t['pretext']['learned'] else 'DID NOT LEARN'}"
                for key, t in training.items() if t.get("pretext")]
    write_table(args, rows, seconds, proxies, report["labels"], first, describe_data=lambda labels, repeats: (
        f"synthetic colposcopy exams (proxyml demo colposcopy: SYNTHETIC videos), {labels['n_labelled']} labelled "
        f"videos, positive class {labels['positive']!r}; {repeats} stratified draws per budget; probe = "
        "standardised logistic regression; ROC AUC on the labelled videos left out of each draw (mean ± std)."),
        footnote="wall s: proxyml:combined = training all three proxies + embedding and scoring; "
                 "random_init = building + embedding; video.frame_stats = its features. "
                 "proxyml:<key> = that proxy's embedding alone; proxyml:combined = the three side by side.\n"
                 + "pretext training (label-free): " + "; ".join(learning)
                 + "".join(f"\n  {statement}" for statement in learning_statements(report)))


if __name__ == "__main__":
    main()
