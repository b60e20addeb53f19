"""What a run prepares and reports, without the training machinery (no Lightning import here).

:func:`prepare` reads the data and labels and checks them; :func:`model_plans` says which models
a recipe trains; :func:`evaluate_run` / :func:`evaluate_labelled` assemble the report's sections
from embeddings and proxy scores (probes and baselines on the same draws, seeds folded in);
:func:`finish_report` adds the verdict and writes ``report.json`` / ``report.html``. ``proxyml
run`` (:mod:`proxyml.pipeline`) and ``proxyml evaluate`` (:mod:`proxyml.runs`) both use them, so
re-evaluating a run folder needs no Lightning unless it fine-tunes.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from proxyml.data import Labels, SampleSet, labelled_rows
from proxyml.errors import RecipeError
from proxyml.labels import load_labels
from proxyml.modality import Modality, create_baseline, get_modality
from proxyml.recipe import Component, EvaluateSection, Recipe, TaskEntry
from proxyml.registry import TASKS
from proxyml.tasks import create_task

log = logging.getLogger("proxyml")


@dataclass
class Prepared:
    """Data and labels read and checked, before any training."""

    recipe: Recipe
    dataset: SampleSet
    labels: Labels | None
    budgets: list[str]
    budget_notes: list[str]

    def without(self, failed: dict[int, str]) -> Prepared:
        """The same, less the samples at the positions of ``failed`` (which could not be decoded)."""
        dataset = self.dataset.without(list(failed), list(failed.values()))
        labels, budgets, notes = self.labels, self.budgets, list(self.budget_notes)
        if labels is not None:
            from proxyml.evaluation import resolve_budgets

            keep = np.array([dataset.has_id(i) for i in labels.ids], dtype=bool)
            if not keep.all():
                lost = [i for i, k in zip(labels.ids, keep, strict=True) if not k]
                labels = replace(labels, ids=[i for i, k in zip(labels.ids, keep, strict=True) if k], y=labels.y[keep],
                                 notes=[*labels.notes, f"{len(lost)} labelled samples could not be decoded and "
                                        f"were left out (see skipped), e.g. {lost[:5]}"])
                budgets, notes = resolve_budgets(labels.y, self.recipe.evaluate.label_budgets)
        log.warning("%d samples could not be decoded and were left out (see skipped.csv)", len(failed))
        return Prepared(self.recipe, dataset, labels, budgets, notes)


def prepare(recipe: Recipe, preprocessing: dict[str, Any] | None = None) -> Prepared:
    """Read the data and the labels, check the label budgets and that the task fits the data,
    so that user errors in the data or labels surface before training starts. ``preprocessing`` reuses a trained run's fitted statistics."""
    modality = get_modality(recipe.modality)
    reader_params = modality.reader_params(recipe.data.params)
    log.info("reading %s", recipe.data.source)
    label_columns = (recipe.labels.target,) if recipe.labels is not None else ()
    dataset = modality.read(recipe.data.source, reader_params, base_dir=recipe.base_dir,
                            preprocessing=preprocessing, label_columns=label_columns)
    log.info("read %d samples (%d skipped)", len(dataset), len(dataset.skipped))
    if is_demo_data(recipe):
        dataset.notes.insert(0, f"The data is synthetic: the bundled {recipe.data.demo!r} demo (data.demo), "
                             "written by proxyml; see the README.txt beside it for how it was made.")
    for note in dataset.notes:
        log.info("data: %s", note)
    labels: Labels | None = None
    budgets: list[str] = []
    budget_notes: list[str] = []
    if recipe.labels is not None:
        from proxyml.evaluation import resolve_budgets

        labels = load_labels(recipe.labels, dataset, modality, reader_params, recipe.base_dir)
        budgets, budget_notes = resolve_budgets(labels.y, recipe.evaluate.label_budgets)
        log.info("labels: %d labelled samples (%d positive)", len(labels.ids), int(labels.y.sum()))
        for note in labels.notes:
            log.info("labels: %s", note)
    for i, entry in enumerate(recipe.task_entries):
        task = create_task(entry.name, entry.params)
        task.check_spec(dataset.spec)  # e.g. series too short
        if labels is not None:
            check_no_leakage(task, dataset, labels, recipe.task_path(i))
    return Prepared(recipe, dataset, labels, budgets, budget_notes)


def is_demo_data(recipe: Recipe) -> bool:
    """Whether ``data.source`` is where ``data.demo`` writes, and holds the demo's README."""
    from proxyml.demos import demo_folder

    folder = demo_folder(recipe)
    return folder is not None and (folder / "README.txt").is_file()


def check_no_leakage(task: Any, dataset: SampleSet, labels: Labels, path: str) -> None:
    """Refuse a metadata task whose column is the evaluation target, or equals it (or its
    complement) on every labelled sample: its proxy score would be the label itself."""
    column = getattr(task.params, "column", None)
    if task.family != "metadata" or column is None:
        return
    if column == labels.target:
        raise RecipeError(f"{path}.params.column: {column!r} is the evaluation target (labels.target); a proxy "
                          "trained to predict it is not a proxy. Pick another metadata column.")
    metadata = dataset.metadata
    if metadata is None or column not in metadata.columns:
        return  # the task's own prepare() names what is missing
    values = metadata[column].reindex(labels.ids).astype(str).to_numpy()
    distinct = sorted(set(values))
    if len(distinct) == 2:
        coded = (values == distinct[1]).astype(np.int64)
        if np.array_equal(coded, labels.y) or np.array_equal(1 - coded, labels.y):
            raise RecipeError(
                f"{path}.params.column: metadata column {column!r} equals the target {labels.target!r} "
                f"(or its complement) on all {len(values)} labelled samples, so its proxy score would be the "
                "label itself; pick a metadata column that is not the target in disguise")


@dataclass
class ModelPlan:
    """One model a run trains: its tasks (``{key: entry}``, key ``""`` for a one-task model),
    the folder of its checkpoints and logs, and the report method its embeddings become."""

    key: str
    entries: dict[str, TaskEntry]
    folder: Path
    method: str


def model_plans(recipe: Recipe, out: Path | None = None) -> list[ModelPlan]:
    """The models of ``recipe``: one per task (``tasks_training: separate``, each in
    ``tasks/<key>/``), or one shared encoder with a head per task; one task: one model."""
    out = recipe.output_dir if out is None else out
    entries = recipe.task_entries
    if not recipe.multi_task:
        return [ModelPlan("", {"": entries[0]}, out, "proxyml")]
    if recipe.tasks_training == "shared":
        return [ModelPlan("shared", {e.resolved_key: e for e in entries}, out, "proxyml:shared")]
    return [ModelPlan(e.resolved_key, {"": e}, out / "tasks" / e.resolved_key, f"proxyml:{e.resolved_key}")
            for e in entries]


EXAMPLES_FILE = "examples.json"


def build_examples(recipe: Recipe, dataset: SampleSet, scores: dict[str, np.ndarray]) -> dict[str, list[dict[str, Any]]]:
    """For each proxy score (``""`` for a one-task run), the ``evaluate.examples`` highest- and
    lowest-scored samples with the modality's preview of each (an audio player, a filmstrip):
    ``{key: [{"id", "score", "rank", "which", "html"}]}``; empty when the modality has no preview."""
    count, modality = recipe.evaluate.examples, get_modality(recipe.modality)
    if count == 0 or len(dataset) == 0 or type(modality).preview is Modality.preview:
        return {}
    examples: dict[str, list[dict[str, Any]]] = {}
    for key, values in scores.items():
        values = np.asarray(values, dtype=np.float64)
        order = np.argsort(-np.nan_to_num(values, nan=-np.inf), kind="stable")
        shown = min(count, (len(order) + 1) // 2)
        picks = [("highest", int(p), r + 1) for r, p in enumerate(order[:shown])]
        picks += [("lowest", int(p), len(order) - shown + r + 1) for r, p in enumerate(order[len(order) - shown:])]
        rows = []
        for which, position, rank in picks:
            try:
                view = modality.preview(dataset, position)
            except dataset.decode_errors as exc:  # a file that broke since it was scored
                view = f"<em>cannot be shown ({type(exc).__name__}: {exc})</em>"
            rows.append({"id": dataset.ids[position], "score": float(values[position]), "rank": rank,
                         "which": which, "html": view or ""})
        examples[key] = rows
    return examples


def save_examples(out: Path, examples: dict[str, list[dict[str, Any]]]) -> None:
    """``examples.json`` in the run folder (``evaluate`` re-renders the report with it)."""
    import json

    if examples:
        (out / EXAMPLES_FILE).write_text(json.dumps(examples), encoding="utf-8")


def load_examples(folder: Path) -> dict[str, list[dict[str, Any]]] | None:
    import json

    path = folder / EXAMPLES_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def finish_report(report: dict[str, Any], out: Path, ev: EvaluateSection, timings: dict[str, float],
                  scores: np.ndarray | None, dataset: SampleSet, labels: Labels | None,
                  examples: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The last steps every report takes, wherever it was assembled (``run``, ``evaluate`` of a
    run folder or of files): the timings, the verdict, then ``report.json`` and ``report.html``
    in ``out`` (``scores``: the first proxy score over the data set, for the histogram;
    ``examples``: from :func:`build_examples`, shown in the HTML, listed without their media in
    the JSON)."""
    from proxyml.evaluation import build_verdict, write_report

    report["timings"] = {k: round(v, 3) for k, v in timings.items()}
    if labels is not None:
        report["verdict"] = build_verdict(report, confidence=ev.confidence, seeds=ev.seeds)
        add_supervised_statement(report)
        report["verdict"].setdefault("notes", []).extend(learning_statements(report))
    if examples:
        report["examples"] = {key: [{k: v for k, v in row.items() if k != "html"} for row in rows]
                              for key, rows in examples.items()}
    paths = write_report(report, out, scores=None if scores is None else labelled_rows(scores, dataset, labels),
                         y=labels.y if labels is not None else None, examples=examples)
    log.debug("report: %s", paths["html"])
    return report


def score_columns(recipe: Recipe) -> list[str]:
    """The columns of ``proxy_scores.csv``: ``proxy_score``, or one per task key."""
    return [e.resolved_key for e in recipe.task_entries] if recipe.multi_task else ["proxy_score"]


@dataclass
class Outputs:
    """A run's embeddings and proxy scores, as the report and the files need them.

    ``features``: per report method, ``(n, d)`` (``proxyml``; or ``proxyml:<key>`` per task and
    ``proxyml:combined``; or ``proxyml:shared``). ``embeddings`` with ``embedding_columns``: what
    ``embeddings.parquet`` holds. ``scores``: ``(n, n_columns)``, the ``proxy_scores.csv``
    columns ``score_columns``.
    """

    features: dict[str, np.ndarray]
    embeddings: np.ndarray
    embedding_columns: list[str]
    scores: np.ndarray
    score_columns: list[str]

    def scores_by_key(self) -> dict[str, np.ndarray]:
        """Proxy scores per task key (``""`` for a one-task run)."""
        if self.score_columns == ["proxy_score"]:
            return {"": self.scores[:, 0]}
        return dict(zip(self.score_columns, self.scores.T, strict=True))


def combine_outputs(recipe: Recipe, outputs: dict[str, tuple[np.ndarray, np.ndarray]]) -> Outputs:
    """``{model method: (embeddings, scores)}`` of the recipe's models (:func:`model_plans`) as
    :class:`Outputs`: several separately trained tasks side by side (columns ``<key>_e0``, ...)."""
    columns = score_columns(recipe)
    if not recipe.multi_task or recipe.tasks_training == "shared":
        method = "proxyml" if not recipe.multi_task else "proxyml:shared"
        embeddings, scores = outputs[method]
        return Outputs({method: embeddings}, embeddings, [f"e{i}" for i in range(embeddings.shape[1])],
                       np.asarray(scores).reshape(len(embeddings), -1), columns)
    features = {f"proxyml:{key}": outputs[f"proxyml:{key}"][0] for key in columns}
    combined = np.hstack(list(features.values()))
    names = [f"{key}_e{i}" for key in columns for i in range(features[f"proxyml:{key}"].shape[1])]
    features["proxyml:combined"] = combined
    scores = np.column_stack([outputs[f"proxyml:{key}"][1] for key in columns])
    return Outputs(features, combined, names, scores, columns)


def evaluate_run(recipe: Recipe, prepared: Prepared, features: dict[str, np.ndarray],
                 scores: dict[str, np.ndarray] | None, timings: dict[str, float],
                 baseline_scores: dict[str, dict[str, np.ndarray]] | None = None,
                 labelled_features: dict[str, np.ndarray] | None = None,
                 seed_features: Sequence[dict[str, np.ndarray]] = ()) -> dict[str, Any]:
    """The report dict: proxy-score AUC, probes and baselines on the same draws.

    ``features`` maps a method name to an ``(n_samples, d)`` matrix over the whole data set,
    ``labelled_features`` to one over the labelled samples only (in the labels' order);
    ``scores`` the proxy scores per task key (``""`` for a one-task run); ``baseline_scores``
    those of untrained models (``{"random_init": {key: scores of the labelled samples}}``).
    """
    dataset, labels = prepared.dataset, prepared.labels
    entries = recipe.task_entries
    report: dict[str, Any] = {"name": recipe.name,
                              "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if recipe.multi_task:
        report["tasks"] = [{"key": e.resolved_key, "name": e.name, "params": e.params,
                            "proxy_score_meaning": TASKS.get(e.name).proxy_score_meaning} for e in entries]
        report["tasks_training"] = recipe.tasks_training
    else:
        report["task"] = entries[0].name
        report["proxy_score_meaning"] = TASKS.get(entries[0].name).proxy_score_meaning
    report.update({
        "encoder": recipe.encoder_name,
        "data": dataset.summary(),
        "skipped": [s.as_dict() for s in dataset.skipped],
        "budgets_notes": prepared.budget_notes,
    })
    if labels is None:
        report["labels"] = None
        return report
    report.update(evaluate_labelled(dataset, labels, prepared.budgets, features, scores, recipe.evaluate,
                                    seed=recipe.seed, baselines=recipe.baselines, timings=timings,
                                    baseline_scores=baseline_scores, labelled_features=labelled_features,
                                    seed_features=seed_features))
    return report


def add_supervised(report: dict[str, Any], recipe: Recipe, prepared: Prepared,
                   checkpoints: list[tuple[ModelPlan, Path | None]], timings: dict[str, float]) -> None:
    """``report["supervised"]``: fine-tuning, training from scratch and multitask training on
    the first label draws, when ``evaluate.finetune`` / ``evaluate.multitask`` ask for them."""
    ev, labels = recipe.evaluate, prepared.labels
    if labels is None or (ev.finetune is None and ev.multitask is None) or not prepared.budgets:
        return
    from proxyml.evaluation import budget_draws
    from proxyml.finetune import evaluate_supervised, supervised_report

    tick = time.perf_counter()
    from proxyml.trainer import PretextModule

    models = [("" if not recipe.multi_task else f":{plan.key}", functools.partial(PretextModule.from_checkpoint, path))
              for plan, path in checkpoints if path]
    draws = budget_draws(labels.y, prepared.budgets, ev.repeats, recipe.seed)
    results = evaluate_supervised(prepared.dataset, prepared.dataset.positions(labels.ids), labels.y, draws, models,
                                  ev, recipe.trainer, seed=recipe.seed, encoder_name=recipe.encoder_name,
                                  encoder_params=recipe.encoder_params)
    report["supervised"] = supervised_report(results, draws, report.get("probes") or {}, report.get("reference"),
                                             ev.confidence)
    timings["supervised"] = time.perf_counter() - tick


LEARNED_MARGIN = 0.03
"""A pretext task learned when its recent training loss is at least this share below chance."""
RECENT_EPOCHS = 5
"""Epochs whose training loss is averaged for that (one epoch's is noisy on small data)."""


def pretext_learning(tasks: dict[str, Any], weights: dict[str, float],
                     history: list[dict[str, float]]) -> dict[str, Any] | None:
    """Did the pretext training learn anything? The mean training loss of the last
    :data:`RECENT_EPOCHS` epochs against the loss of guessing (each task's ``chance_loss``,
    weighted as the tasks are): ``{"chance_loss", "recent_train_loss", "epochs_averaged",
    "learned"}``, or ``None`` when a task does not know its chance loss.

    Example:
        >>> from proxyml.tasks import create_task
        >>> flat = [{"train_loss": 1.80}] * 6
        >>> pretext_learning({"": create_task("timeseries.segment_order")}, {"": 1.0}, flat)["learned"]
        False
    """
    chances = {key: task.chance_loss for key, task in tasks.items()}
    recent = [row["train_loss"] for row in history[-RECENT_EPOCHS:] if row.get("train_loss") is not None]
    if not recent or any(chance is None for chance in chances.values()):
        return None
    chance = sum(weights.get(key, 1.0) * float(value or 0.0) for key, value in chances.items())
    loss = float(np.mean(recent))
    return {"chance_loss": round(chance, 4), "recent_train_loss": round(loss, 4), "epochs_averaged": len(recent),
            "learned": bool(loss < (1.0 - LEARNED_MARGIN) * chance)}


def learning_statements(report: dict[str, Any]) -> list[str]:
    """One sentence for each model whose pretext training stayed at chance."""
    training = report.get("training") or {}
    entries = {"": training} if "epochs" in training else training
    statements = []
    for key, summary in entries.items():
        check = summary.get("pretext") if isinstance(summary, dict) else None
        if not check or check.get("learned", True):
            continue
        statements.append(
            f"{key or 'The proxy'}: the pretext task did not learn. Its training loss stayed at "
            f"{check['recent_train_loss']:.3f} (mean of the last {check['epochs_averaged']} epochs), where guessing gives "
            f"{check['chance_loss']:.3f}: the encoder was taught nothing, so its embeddings and proxy score are in effect "
            "those of an untrained model (compare random_init). More training (trainer.max_epochs), another learning "
            "rate, or a task this data can answer may help.")
    return statements


def add_supervised_statement(report: dict[str, Any]) -> None:
    """The verdict's notes say what fine-tuning did against training from scratch."""
    if isinstance(report.get("supervised"), dict):
        from proxyml.finetune import supervised_statement

        statement = supervised_statement(report["supervised"])
        if statement:
            report["verdict"].setdefault("notes", []).append(statement)


def reference_method(features: dict[str, Any]) -> str | None:
    """The proxyml method that differences are taken against: the one, or the combination."""
    for name in ("proxyml", "proxyml:combined", "proxyml:shared"):
        if name in features:
            return name
    return None


def evaluate_labelled(dataset: SampleSet, labels: Labels, budgets: list[str], features: dict[str, np.ndarray],
                      scores: dict[str, np.ndarray] | np.ndarray | None, ev: EvaluateSection, *, seed: int,
                      baselines: Sequence[Component] = (), timings: dict[str, float] | None = None,
                      baseline_scores: dict[str, dict[str, np.ndarray]] | None = None,
                      labelled_features: dict[str, np.ndarray] | None = None,
                      seed_features: Sequence[dict[str, np.ndarray]] = ()) -> dict[str, Any]:
    """``labels``, ``proxy_score`` (``proxy_scores`` per task for several), ``probes`` and
    ``differences`` sections of a report; baselines, and each proxyml embedding stacked on each
    baseline's features (``proxyml+<baseline>``), on the same draws. ``seed_features``: the
    proxyml features of the same models pretrained with seeds 1, 2, ... (``evaluate.seeds``),
    folded into each method's draws (:mod:`proxyml.evaluation.seeds`)."""
    from proxyml.evaluation import budget_draws, evaluate_probes, evaluate_proxy_score, probe_report_sections

    timings = {} if timings is None else timings
    report: dict[str, Any] = {"labels": labels.summary()}
    positions = dataset.positions(labels.ids)
    if isinstance(scores, np.ndarray):
        scores = {"": scores}
    if scores:
        tick = time.perf_counter()

        def auc(values: np.ndarray) -> dict[str, Any]:
            return evaluate_proxy_score(values, labels.y, n_bootstrap=ev.bootstrap, n_permutations=ev.permutations,
                                        confidence=ev.confidence, seed=seed)

        trained = {key: auc(values[positions]) for key, values in scores.items()}
        untrained = {key: {name: auc(by_key[key]) for name, by_key in (baseline_scores or {}).items() if key in by_key}
                     for key in scores}
        if list(scores) == [""]:
            report["proxy_score"], report["proxy_score_baselines"] = trained[""], untrained[""]
        else:
            report["proxy_scores"], report["proxy_scores_baselines"] = trained, untrained
        timings["proxy_score_eval"] = time.perf_counter() - tick
    from proxyml.evaluation.seeds import merge_seeds, seed_name

    labelled = {name: matrix[positions] for name, matrix in features.items()}
    for k, other in enumerate(seed_features, start=1):
        labelled.update({seed_name(name, k): matrix[positions] for name, matrix in other.items()})
    labelled.update(labelled_features or {})
    reference = reference_method(labelled)
    for baseline in baselines:
        tick = time.perf_counter()
        log.info("baseline %s on %d labelled samples", baseline.name, len(positions))
        labelled[baseline.name] = create_baseline(baseline.name, baseline.params).features(
            dataset, positions, seed)
        timings[f"baseline:{baseline.name}"] = time.perf_counter() - tick
        if ev.stacked and reference is not None:  # does the proxy add to what the baseline knows?
            for k in range(len(seed_features) + 1):
                if seed_name(reference, k) in labelled:
                    labelled[seed_name(f"proxyml+{baseline.name}", k)] = np.hstack(
                        [labelled[seed_name(reference, k)], labelled[baseline.name]])
    if not labelled:
        return report
    tick = time.perf_counter()
    draws = budget_draws(labels.y, budgets, ev.repeats, seed)
    log.info("probes: %d methods x %d budgets x %d draws on %d labelled samples",
             len(labelled), len(budgets), ev.repeats, len(positions))
    report.update(probe_report_sections(evaluate_probes(labelled, labels.y, draws, reference=reference,
                                                        confidence=ev.confidence, C=ev.probe_C)))
    if seed_features:
        report["probes"], report["differences"] = merge_seeds(report["probes"], reference, len(seed_features) + 1,
                                                              ev.confidence)
        report["seeds"] = len(seed_features) + 1
    timings["probes"] = time.perf_counter() - tick
    return report
