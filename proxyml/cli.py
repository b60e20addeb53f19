"""The ``proxyml`` command line.

Verbs: ``run`` (train + embed + score + evaluate + report), ``train``, ``embed``, ``score``, ``demo``,
``evaluate``, ``check`` (validate a recipe) and ``tasks``. Heavy libraries (torch, Lightning)
are imported only by the verbs that need them. A bad recipe or bad arguments print a clear
message, no traceback, and exit with code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from proxyml.errors import ProxymlError, RecipeError

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="proxyml",
        description="Train a self-supervised proxy model and find out whether it predicts your labels.",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    def recipe_verb(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("recipe", help="path to a YAML recipe")
        sub.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="override a recipe value, e.g. --set trainer.max_epochs=3 (repeatable)")
        return sub

    for name, help_text in (("run", "train, embed, score, evaluate and write the report"),
                            ("train", "train the pretext model only (checkpoints in the run folder)")):
        sub = recipe_verb(name, help_text)
        sub.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
        sub.add_argument("--overwrite", action="store_true",
                         help="replace an earlier run in output.dir (default: a new run goes to a numbered "
                              "folder beside it, e.g. runs/demo-2)")
    recipe_verb("check", "validate a recipe without running it")

    for name, help_text in (("embed", "write embeddings (Parquet, keyed by id) with a trained run"),
                            ("score", "write proxy scores (CSV, keyed by id) with a trained run")):
        sub = verbs.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("run_dir", help="a run folder written by `proxyml run` or `proxyml train`")
        sub.add_argument("--data", help="another data source to apply the model to (default: the run's)")
        sub.add_argument("--out", help="output file, or a folder to write the default file name into "
                                       "(default: inside the run folder)")

    sub = verbs.add_parser(
        "evaluate", help="evaluate a run's (or any) embeddings and proxy scores against labels",
        description="With RUN_DIR: recompute that run's report from its saved embeddings and scores, "
        "e.g. with new labels (--set labels.source=new.csv --set labels.target=churn). Without it: "
        "evaluate --embeddings and/or --scores files made anywhere against --labels.")
    sub.add_argument("run_dir", nargs="?", help="a run folder (omit to evaluate files)")
    sub.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a recipe value (without RUN_DIR: evaluate.* keys only)")
    sub.add_argument("--embeddings", help="id + one column per dimension (Parquet or CSV)")
    sub.add_argument("--scores", help="id,proxy_score (CSV or Parquet)")
    sub.add_argument("--labels", help="labels file (CSV or Parquet with an id column)")
    sub.add_argument("--target", default="class", help="label column (default: class)")
    sub.add_argument("--positive", help="the value counted as the positive class")
    sub.add_argument("--id-column", default="id", help="id column of the labels file (default: id)")
    sub.add_argument("--out", help="report folder (default: the run folder, or runs/evaluation for files)")

    sub = verbs.add_parser("demo", help="write a bundled synthetic data set (list them without NAME)",
                           description="Write a seeded synthetic data set with its labels and a README saying "
                           "how it was made, e.g. `proxyml demo call-center --out data/call_center`.")
    sub.add_argument("name", nargs="?", help="which demo (omit to list them)")
    sub.add_argument("--out", help="folder to write into (created; default: data/<name>)")
    sub.add_argument("--small", action="store_true", help="a few short samples, for a quick try")
    sub.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sub.add_argument("--overwrite", action="store_true",
                     help="write into --out even when it already holds files (the demo's own are replaced)")

    sub = verbs.add_parser("tasks", help="list registered pretext tasks (-v: with parameters, encoders, baselines)")
    sub.add_argument("-v", "--verbose", action="store_true",
                     help="also show each component's parameters with their defaults")
    return parser


def _configure_logging(quiet: bool) -> None:
    # through the root logger (no private handler), so repeated in-process calls and
    # pytest's caplog see the same records; libraries stay at WARNING
    logging.basicConfig(format="%(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("proxyml").setLevel(logging.WARNING if quiet else logging.INFO)


def _summarise(report: dict) -> str:
    from proxyml.reporting import learning_statements

    lines = [f"warning: {statement}" for statement in learning_statements(report)]
    proxies = [("", report.get("proxy_score"), report.get("proxy_score_baselines"))]
    proxies += [(key, value, (report.get("proxy_scores_baselines") or {}).get(key))
                for key, value in (report.get("proxy_scores") or {}).items()]
    for key, proxy, baselines in proxies:
        if not proxy:
            continue
        lines.append(f"proxy score{' of ' + key if key else ''}: {proxy['statement']}")
        for name, other in (baselines or {}).items():
            lines.append(f"  the untrained ({name}) model's proxy score: AUC {other['auc']:.3f} "
                         f"[{other['ci'][0]:.3f}, {other['ci'][1]:.3f}]")
    for method, budgets in (report.get("probes") or {}).items():
        cells = ", ".join(f"{b}: {r['auc_mean']:.3f}±{r['auc_std']:.3f}" for b, r in budgets.items())
        lines.append(f"  probe AUC {method:<32} {cells}")
    reference = report.get("reference") or "proxyml"
    for other, budgets in (report.get("differences") or {}).items():
        cells = ", ".join(f"{b}: {d['mean']:+.3f} (wins {d['win_rate']:.0%}, ties {d['tie_rate']:.0%})"
                          for b, d in budgets.items())
        lines.append(f"  {reference} - {other:<22} {cells}")
    supervised = report.get("supervised") or {}
    for method, budgets in (supervised.get("methods") or {}).items():
        cells = ", ".join(f"{b}: {r['auc_mean']:.3f}±{r['auc_std']:.3f}" for b, r in budgets.items())
        lines.append(f"  trained on labels {method:<24} {cells}  ({len(next(iter(budgets.values()))['aucs'])} draws)")
    verdict = report.get("verdict")
    if isinstance(verdict, dict):
        lines.append(f"verdict: {verdict.get('recommendation') or 'n/a'}")
        outcomes = {"proxyml": "proxyml wins", "baseline": "baseline wins", "undecided": "no difference shown"}
        for budget, v in (verdict.get("budgets") or {}).items():
            line = f"  {budget}: best {v.get('best')}"
            d = v.get("difference")
            if d:
                ci = d.get("ci") or [None, None]
                interval = "no interval" if None in ci else f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"
                line += (f"; {v.get('best_proxyml')} - {v.get('best_baseline')} {d['mean']:+.3f} {interval}, "
                         f"{outcomes.get(v.get('outcome'), v.get('outcome'))}")
            lines.append(line)
        if verdict.get("seeds_statement"):
            lines.append(f"  {verdict['seeds_statement']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging(args.quiet)
    try:
        return _dispatch(args)
    except (ProxymlError, FileNotFoundError) as exc:
        print(f"proxyml {args.verb}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        hint = (f"; `proxyml {args.verb} ... --resume` continues from the last checkpoint"
                if args.verb in {"run", "train"} else "")
        print(f"proxyml {args.verb}: interrupted{hint}", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.verb == "tasks":
        from proxyml.registry import BASELINES, ENCODERS, TASKS, first_paragraph, list_tasks

        if not args.verbose:
            for name, summary in list_tasks().items():
                print(f"{name:<32} {summary}")
            return 0
        for title, registry in (("tasks", TASKS), ("encoders", ENCODERS), ("baselines", BASELINES)):
            print(f"{title}:")
            for name, cls in registry.items():
                print(f"  {name}: {first_paragraph(cls.__doc__) or cls.__name__}")
                for line in _describe_params(cls.Params):
                    print(f"      {line}")
        return 0
    if args.verb == "demo":
        from proxyml.registry import DEMOS

        if args.name is None:
            for name, summary in DEMOS.summaries().items():
                print(f"{name:<20} {summary}")
            return 0
        from proxyml.demos import write_demo

        files = write_demo(args.name, args.out or Path("data") / args.name.replace("-", "_"), small=args.small,
                           seed=args.seed, overwrite=args.overwrite)
        for key, path in files.items():
            print(f"{key}: {path}")
        return 0
    if args.verb in {"run", "train", "check"}:
        from proxyml.recipe import load_recipe

        recipe = load_recipe(args.recipe, [*args.set, *(["trainer.progress_bar=false"] if args.quiet else [])])
        if args.verb == "check":
            from proxyml.devices import check_settings

            check_settings(recipe.trainer)  # imports Lightning only for settings it may refuse
            from proxyml.demos import ensure_demo_data

            demo_dir = ensure_demo_data(recipe, write=False)  # refuses what `run` would refuse
            if demo_dir is not None:
                print(f"note: {recipe.data.source} does not exist yet; `run` writes the synthetic "
                      f"{recipe.data.demo!r} demo there first (data.demo)")
            print(f"{args.recipe}: ok ({', '.join(e.name for e in recipe.task_entries)} on {recipe.data.source}, "
                  f"encoder {recipe.encoder_name})")
            return 0
        from proxyml import pipeline

        if args.resume and args.overwrite:
            raise RecipeError("--resume continues the run in output.dir and --overwrite replaces it: give one")
        if args.verb == "train":
            _, fit, _ = pipeline.train(recipe, resume=args.resume, overwrite=args.overwrite)
            print(f"trained {fit.epochs} epochs; checkpoint: {fit.checkpoint}")
            return 0
        result = pipeline.run(recipe, resume=args.resume, overwrite=args.overwrite)
        if result.fit is not None and result.fit.global_rank != 0:
            return 0  # under DDP the other processes leave the summary to rank 0
        summary = _summarise(result.report)
        if summary:
            print(summary)
        print(f"report: {result.output_dir / 'report.html'}")
        return 0
    from proxyml import runs

    if args.verb == "embed":
        print(f"embeddings: {runs.embed(args.run_dir, args.data, args.out, progress_bar=False if args.quiet else None)}")
    elif args.verb == "score":
        print(f"proxy scores: {runs.score(args.run_dir, args.data, args.out, progress_bar=False if args.quiet else None)}")
    elif args.verb == "evaluate":
        report, folder = _evaluate(args)
        print(_summarise(report))
        print(f"report: {folder}/report.html")
    return 0


def _describe_params(model: type) -> list[str]:
    """``name: type = default  description`` for each field of a parameter model."""
    lines = []
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        kind = getattr(field.annotation, "__name__", None) or str(field.annotation).replace("typing.", "")
        default = "required" if field.is_required() else f"= {field.get_default(call_default_factory=True)!r}"
        lines.append(f"{name}: {kind} {default}" + (f"  ({field.description})" if field.description else ""))
    return lines


def _evaluate(args: argparse.Namespace) -> tuple[dict, str]:
    from proxyml import runs

    files = args.embeddings or args.scores or args.labels
    if args.run_dir:
        if files:
            raise RecipeError("evaluate: give a run folder or --embeddings/--scores/--labels, not both")
        return runs.evaluate(args.run_dir, args.set, out=args.out), args.out or args.run_dir
    if not args.labels:
        raise RecipeError("evaluate: give a run folder, or --labels with --embeddings and/or --scores")
    from proxyml.params import validate_params
    from proxyml.recipe import EvaluateSection, LabelsSection, apply_overrides

    settings = apply_overrides({"evaluate": {}}, args.set)
    if set(settings) != {"evaluate"}:
        raise RecipeError(f"--set: without a run folder only evaluate.* keys apply; got {sorted(settings)}")
    labels = LabelsSection(source=args.labels, target=args.target, positive=args.positive,
                           id_column=args.id_column)
    out = args.out or "runs/evaluation"
    report = runs.evaluate_files(labels, embeddings=args.embeddings, scores=args.scores, out=out,
                                 evaluate=validate_params(EvaluateSection, settings["evaluate"], "evaluate"))
    return report, out


if __name__ == "__main__":
    sys.exit(main())
