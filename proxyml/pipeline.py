"""``run(recipe)``: read data -> train -> embed and score -> evaluate -> report.

Every step writes into the run folder (``recipe.output_dir``):

- ``recipe.yaml``: the resolved recipe (every default filled in);
- ``environment.json``: versions, platform, device;
- ``preprocessing.json``: what the reader fitted on the unlabeled pool (reused by embed/score);
- ``checkpoints/``: ``last.ckpt`` every epoch (for ``--resume``) and the best one;
- ``logs/version_N/metrics.csv``: Lightning's CSV log (a resumed run writes the next version);
- ``embeddings.parquet``: ``id`` + one column per embedding dimension;
- ``proxy_scores.csv``: ``id,proxy_score``;
- ``random_init_embeddings.parquet``, ``random_init_proxy_scores.csv``: the same model before
  training (a baseline);
- ``skipped.csv``: samples that could not be read, and why;
- ``report.json``, ``report.html``: the proxy-to-target report.
"""

from __future__ import annotations

import functools
import json
import logging
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import torch
import yaml
from lightning.pytorch.utilities import rank_zero_only

from proxyml import fingerprint, rundir
from proxyml.data import Labels, SampleSet, SubsetSampleSet, labelled_rows
from proxyml.encoders import create_encoder
from proxyml.errors import DataError, RecipeError
from proxyml.labels import load_labels
from proxyml.modality import create_baseline, get_modality
from proxyml.recipe import Component, EvaluateSection, Recipe, TaskEntry, TrainerSection
from proxyml.registry import TASKS
from proxyml.tasks import create_task
from proxyml.trainer import FitResult, PretextModule, Trainer

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


@dataclass
class RunResult:
    output_dir: Path
    report: dict[str, Any]
    fit: FitResult | None = None


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


RESUME_MUST_MATCH = ("seed", "data", "task", "tasks", "tasks_training", "encoder")
# trainer settings that change the weights a run ends with (max_epochs, devices, threads... may change)
RESUME_MUST_MATCH_TRAINER = ("batch_size", "learning_rate", "weight_decay", "val_fraction", "optimizer", "schedule",
                             "warmup_epochs", "gradient_clip_val", "lightning", "bucket_by_length")
FINGERPRINT_FILE = "data_fingerprint.json"


def preflight(recipe: Recipe, *, resume: bool) -> None:
    """Checks that need no data: Lightning accepts the trainer settings, and a resumed run
    continues the same model on the same data files."""
    Trainer(recipe.trainer, recipe.output_dir, seed=recipe.seed).check_settings()
    if not resume:
        return
    saved_file = recipe.output_dir / "recipe.yaml"
    if not saved_file.is_file():
        raise FileNotFoundError(f"--resume: no checkpoint to resume from in {recipe.output_dir} "
                                "(no run was started there)")
    saved, new = yaml.safe_load(saved_file.read_text()), recipe.resolved()
    defaults = {"tasks": None, "tasks_training": "separate"}  # what runs saved before these keys existed meant
    changed = [key for key in RESUME_MUST_MATCH if saved.get(key, defaults.get(key)) != new.get(key)]
    trainer_defaults = TrainerSection().model_dump(mode="json")
    saved_trainer = {**trainer_defaults, **(saved.get("trainer") or {})}
    changed += [f"trainer.{key}" for key in RESUME_MUST_MATCH_TRAINER if saved_trainer.get(key) != new["trainer"].get(key)]
    if changed:
        def value(key: str, data: dict[str, Any]) -> Any:
            if key.startswith("trainer."):
                return (saved_trainer if data is saved else data["trainer"]).get(key.split(".", 1)[1])
            return data.get(key, defaults.get(key))

        details = "; ".join(f"{key}: {value(key, saved)} -> {value(key, new)}" for key in changed)
        raise RecipeError(
            f"--resume: the recipe changed {', '.join(changed)} since the run was started ({details}); "
            "a resumed run must train the same model on the same data with the same training settings "
            "(trainer.max_epochs, devices and threads may change). "
            "Start a new run without --resume, or give it another output.dir."
        )
    stored = _stored_fingerprint(recipe.output_dir)
    if stored is not None:
        _refuse_changed_data(recipe, fingerprint.changes(stored["source"], fingerprint.source_fingerprint(
            new["data"]["source"])))


def _stored_fingerprint(folder: Path) -> dict[str, Any] | None:
    path = folder / FINGERPRINT_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def _refuse_changed_data(recipe: Recipe, differences: list[str]) -> None:
    if differences:
        raise DataError(
            f"--resume: the data changed since the run in {recipe.output_dir} was started "
            f"({recipe.data.source}: {'; '.join(differences)}); a resumed run must train on the same data. "
            "Start a new run without --resume (it goes to a new folder), or put the original data back."
        )


def check_resumed_data(recipe: Recipe, dataset: SampleSet) -> None:
    """After reading: the reader made the same samples of the data as when the run started."""
    stored = _stored_fingerprint(recipe.output_dir)
    if stored is not None:
        _refuse_changed_data(recipe, fingerprint.summary_changes(stored["summary"], dataset.summary()))


def build_module(recipe: Recipe, dataset: SampleSet, plan: ModelPlan | None = None) -> PretextModule:
    """The untrained model of ``plan`` (default: the recipe's first); the same seed always
    gives the same initial weights."""
    plan = plan or model_plans(recipe)[0]
    tasks = {}
    for key, entry in plan.entries.items():
        task = create_task(entry.name, entry.params)
        task.check_spec(dataset.spec)
        task.prepare(dataset)  # before the head is built: the head's size may depend on the data
        tasks[key] = task
    pl.seed_everything(recipe.seed, workers=True, verbose=False)
    return PretextModule(
        tasks,
        create_encoder(recipe.encoder_name, dataset.spec, recipe.encoder_params),
        learning_rate=recipe.trainer.learning_rate,
        weight_decay=recipe.trainer.weight_decay,
        seed=recipe.seed,
        preprocessing=getattr(dataset, "preprocessing", {}),
        weights={key: entry.weight for key, entry in plan.entries.items()},
        optimizer=recipe.trainer.optimizer,
        schedule=recipe.trainer.schedule,
        warmup_epochs=recipe.trainer.warmup_epochs,
    )


def write_run_header(recipe: Recipe, dataset: SampleSet | None = None, *, resume: bool = False) -> Path:
    out = recipe.output_dir
    out.mkdir(parents=True, exist_ok=True)
    resolved = recipe.resolved()
    (out / "recipe.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
    (out / "environment.json").write_text(json.dumps(environment(), indent=2))
    if dataset is not None:
        if not resume:  # the fingerprint of the data the run started on
            summary = {k: v for k, v in dataset.summary().items() if k in ("n_samples", "n_skipped", "spec")}
            (out / FINGERPRINT_FILE).write_text(json.dumps(
                {"source": fingerprint.source_fingerprint(resolved["data"]["source"]), "summary": summary},
                indent=2))
        (out / "preprocessing.json").write_text(
            json.dumps(getattr(dataset, "preprocessing", {}), indent=2, allow_nan=False))
        write_skipped(out, dataset)
    return out


def train(recipe: Recipe, *, resume: bool = False, overwrite: bool = False,
          callbacks: list[pl.Callback] | None = None) -> tuple[PretextModule, FitResult, Prepared]:
    """Train the recipe's pretext model; returns the best model by held-out loss (the last one
    when the pool is too small to hold some out). The run folder is chosen as
    :func:`proxyml.rundir.claim` says (``prepared.recipe.output_dir`` is the one used)."""
    preflight(recipe, resume=resume)
    with rundir.claim(recipe.output_dir, resume=resume, overwrite=overwrite) as folder:
        recipe = _in_folder(recipe, folder)
        return _train(recipe, prepare(recipe), resume=resume, callbacks=callbacks)


def _in_folder(recipe: Recipe, folder: Path) -> Recipe:
    """``recipe`` writing to ``folder`` (the one the run claimed)."""
    if folder == recipe.output_dir:
        return recipe
    moved = recipe.model_copy(deep=True)
    moved.output.dir = str(folder)
    return moved


def write_skipped(out: Path, dataset: SampleSet) -> None:
    pd.DataFrame([s.as_dict() for s in dataset.skipped], columns=["id", "source", "reason"]).to_csv(
        out / "skipped.csv", index=False)


def _train(recipe: Recipe, prepared: Prepared, *, resume: bool,
           callbacks: list[pl.Callback] | None) -> tuple[PretextModule, FitResult, Prepared]:
    models, fits = _train_all(recipe, prepared, resume=resume, callbacks=callbacks)
    return models[0][1], fits[0], prepared


def seed_recipe(recipe: Recipe, k: int) -> Recipe:
    """The recipe of the run's ``k``-th extra pretraining (``evaluate.seeds``): seed + ``k``,
    written to ``seeds/<k>/`` inside the run folder."""
    other = recipe.model_copy(deep=True)
    other.seed = recipe.seed + k
    other.output.dir = str(recipe.output_dir / "seeds" / str(k))
    return other


def _train_all(recipe: Recipe, prepared: Prepared, *, resume: bool, callbacks: list[pl.Callback] | None,
               fresh_if_missing: bool = False) -> tuple[list[tuple[ModelPlan, PretextModule]], list[FitResult]]:
    """Train every model of the recipe (see :func:`model_plans`); each comes back as its best
    checkpoint by held-out loss (the last one when the pool is too small to hold some out)."""
    started = (recipe.output_dir / FINGERPRINT_FILE).is_file()
    if resume and started:
        check_resumed_data(recipe, prepared.dataset)
    if getattr(rank_zero_only, "rank", 0) == 0:  # under multi-process strategies every rank runs this function
        write_run_header(recipe, prepared.dataset, resume=resume and started)
    models, fits = [], []
    for plan in model_plans(recipe):
        module = build_module(recipe, prepared.dataset, plan)
        trainer = Trainer(recipe.trainer, plan.folder, seed=recipe.seed, callbacks=callbacks or [])
        names = ", ".join(entry.name for entry in plan.entries.values())
        log.info("training %s on %d samples for up to %d epochs", names, len(prepared.dataset),
                 recipe.trainer.max_epochs)
        # a multi-model run killed before this model's first checkpoint starts it afresh
        again = resume and ((len(model_plans(recipe)) == 1 and not fresh_if_missing)
                            or (trainer.checkpoint_dir / "last.ckpt").is_file())
        fit = trainer.fit(module, prepared.dataset, resume=again)
        log.info("trained %d epochs in %.1f s; checkpoint %s", fit.epochs, fit.seconds, fit.checkpoint)
        if fit.checkpoint is not None and fit.checkpoint.exists():
            module = PretextModule.from_checkpoint(fit.checkpoint)
        models.append((plan, module))
        fits.append(fit)
    return models, fits


def save_embeddings(path: Path, ids: list[str], embeddings: np.ndarray, columns: list[str] | None = None) -> Path:
    """``id`` + one column per dimension (``e0, e1, ...`` unless ``columns``) as Parquet."""
    frame = pd.DataFrame(embeddings, columns=columns or [f"e{i}" for i in range(embeddings.shape[1])])
    frame.insert(0, "id", ids)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path


def save_scores(path: Path, ids: list[str], scores: np.ndarray, columns: Sequence[str] = ("proxy_score",)) -> Path:
    """``id,proxy_score`` as CSV (``id`` and one column per task for a multitask run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(np.asarray(scores).reshape(len(ids), -1), columns=list(columns))
    frame.insert(0, "id", ids)
    frame.to_csv(path, index=False)
    return path


def run(recipe: Recipe, *, resume: bool = False, overwrite: bool = False,
        callbacks: list[pl.Callback] | None = None) -> RunResult:
    """Train, embed, score, evaluate and write the report of ``recipe``.

    A new run goes to ``output.dir``, or to a numbered folder beside it when that holds an
    earlier run (``overwrite`` replaces the earlier run instead); ``resume`` continues the run in
    ``output.dir``. ``RunResult.output_dir`` is the folder used.
    """
    preflight(recipe, resume=resume)
    with rundir.claim(recipe.output_dir, resume=resume, overwrite=overwrite) as folder:
        return _run(_in_folder(recipe, folder), resume=resume, callbacks=callbacks)


def _run(recipe: Recipe, *, resume: bool, callbacks: list[pl.Callback] | None) -> RunResult:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    prepared = prepare(recipe)
    timings["read"] = time.perf_counter() - start
    models, fits = _train_all(recipe, prepared, resume=resume, callbacks=callbacks)
    timings["train"] = sum(fit.seconds for fit in fits)
    out = recipe.output_dir
    trainer = Trainer(recipe.trainer, out, seed=recipe.seed)
    tick = time.perf_counter()
    outputs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    failed: dict[int, str] = {}
    sharded = fits[0].world_size > 1  # every process embeds its shard; rank 0 gets them all
    for plan, module in models:
        predicted = trainer.predict(module, prepared.dataset, sharded=sharded)
        outputs[plan.method] = (predicted.embeddings, predicted.scores)
        failed.update(predicted.failed)
    timings["embed_and_score"] = time.perf_counter() - tick
    seed_outputs = []
    for k in range(1, recipe.evaluate.seeds):  # the same proxy, pretrained again with another seed (on every rank)
        tick = time.perf_counter()
        other = seed_recipe(recipe, k)
        models_k, _ = _train_all(other, prepared, resume=resume, callbacks=callbacks, fresh_if_missing=True)
        outputs_k = {}
        for plan, module in models_k:
            predicted = trainer.predict(module, prepared.dataset, sharded=sharded)
            outputs_k[plan.method] = (predicted.embeddings, predicted.scores)
            failed.update(predicted.failed)
        seed_outputs.append((other, outputs_k))
        timings[f"seed_{k}"] = time.perf_counter() - tick
    if fits[0].global_rank != 0:  # writing, evaluation and the report happen once, on rank 0
        return RunResult(out, {}, fits[0])
    if failed:  # files that broke after they were listed: skipped from here on, and said so
        prepared = prepared.without(failed)
        outputs = {method: _drop_rows(value, failed) for method, value in outputs.items()}
        seed_outputs = [(other, {m: _drop_rows(v, failed) for m, v in out_k.items()}) for other, out_k in seed_outputs]
        write_skipped(out, prepared.dataset)
    dataset = prepared.dataset
    combined = combine_outputs(recipe, outputs)
    write_outputs(recipe, out, dataset.ids, combined)
    features, scores = combined.features, combined.scores_by_key()
    seed_features = []
    for other, outputs_k in seed_outputs:
        combined_k = combine_outputs(other, outputs_k)
        write_outputs(other, other.output_dir, dataset.ids, combined_k)
        seed_features.append(combined_k.features)
    baseline_scores: dict[str, dict[str, np.ndarray]] = {}
    labelled_features: dict[str, np.ndarray] = {}
    if recipe.evaluate.random_init and prepared.labels is not None:
        tick = time.perf_counter()
        labelled_features["random_init"], baseline_scores["random_init"] = random_init_outputs(
            recipe, prepared, out, trainer)
        timings["random_init"] = time.perf_counter() - tick
    report = evaluate_run(recipe, prepared, features, scores, timings, baseline_scores, labelled_features,
                          seed_features)
    checkpoints = [(plan, fit.checkpoint) for (plan, _), fit in zip(models, fits, strict=True)]
    add_supervised(report, recipe, prepared, checkpoints, timings)
    report["training"] = fits[0].summary() if len(fits) == 1 else {
        plan.key: fit.summary() for (plan, _), fit in zip(models, fits, strict=True)}
    report["prediction"] = {"processes": predicted.processes, "batch_size": predicted.batch_size}
    finish_report(report, out, recipe.evaluate, timings, next(iter(scores.values())), dataset, prepared.labels)
    return RunResult(out, report, fits[0])


def finish_report(report: dict[str, Any], out: Path, ev: EvaluateSection, timings: dict[str, float],
                  scores: np.ndarray | None, dataset: SampleSet, labels: Labels | None) -> dict[str, Any]:
    """The last steps every report takes, wherever it was assembled (``run``, ``evaluate`` of a
    run folder or of files): the timings, the verdict, then ``report.json`` and ``report.html``
    in ``out`` (``scores``: the first proxy score over the data set, for the histogram)."""
    from proxyml.evaluation import build_verdict, write_report

    report["timings"] = {k: round(v, 3) for k, v in timings.items()}
    if labels is not None:
        report["verdict"] = build_verdict(report, confidence=ev.confidence, seeds=ev.seeds)
        add_supervised_statement(report)
    paths = write_report(report, out, scores=None if scores is None else labelled_rows(scores, dataset, labels),
                         y=labels.y if labels is not None else None)
    log.debug("report: %s", paths["html"])
    return report


def _drop_rows(value: tuple[np.ndarray, np.ndarray], failed: dict[int, str]) -> tuple[np.ndarray, np.ndarray]:
    keep = np.setdiff1d(np.arange(len(value[0])), np.fromiter(failed, dtype=np.int64))
    return value[0][keep], value[1][keep]


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


def write_outputs(recipe: Recipe, out: Path, ids: list[str], outputs: Outputs) -> None:
    """``embeddings.parquet`` and ``proxy_scores.csv`` (``id,proxy_score``, or a column per task);
    for separately trained tasks also ``embeddings_<key>.parquet`` each."""
    save_embeddings(out / "embeddings.parquet", ids, outputs.embeddings, outputs.embedding_columns)
    save_scores(out / "proxy_scores.csv", ids, outputs.scores, outputs.score_columns)
    if recipe.multi_task and recipe.tasks_training == "separate":
        for key in outputs.score_columns:
            save_embeddings(out / f"embeddings_{key}.parquet", ids, outputs.features[f"proxyml:{key}"])


def random_init_outputs(recipe: Recipe, prepared: Prepared, out: Path | None, trainer: Trainer,
                        ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The untrained models' embeddings and proxy scores of the labelled samples (all that the
    evaluation needs; rebuilt from the seed), saved as ``random_init_*`` files when ``out``."""
    assert prepared.labels is not None
    positions = prepared.dataset.positions(prepared.labels.ids)
    labelled = SubsetSampleSet(prepared.dataset, positions, [])
    scores: dict[str, np.ndarray] = {}
    embeddings = None
    for plan in model_plans(recipe, out):
        predicted = trainer.predict(build_module(recipe, prepared.dataset, plan), labelled)
        if predicted.failed:
            lost = [labelled.ids[i] for i in sorted(predicted.failed)]
            raise DataError(f"{len(lost)} labelled samples could be decoded when the run embedded them but not "
                            f"for the untrained baseline, e.g. {lost[:5]} ({next(iter(predicted.failed.values()))}); "
                            "were the files changed during the run? Run again, or set evaluate.random_init: false")
        embeddings = predicted.embeddings if embeddings is None else embeddings  # the same seed: the same encoder
        if predicted.scores.ndim == 1:
            scores[plan.key] = predicted.scores
        else:
            scores.update(zip(predicted.keys, predicted.scores.T, strict=True))
    assert embeddings is not None
    if out is not None:
        save_embeddings(out / "random_init_embeddings.parquet", labelled.ids, embeddings)
        save_scores(out / "random_init_proxy_scores.csv", labelled.ids, np.column_stack(list(scores.values())),
                    score_columns(recipe))
    return embeddings, scores


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
    models = [("" if not recipe.multi_task else f":{plan.key}", functools.partial(PretextModule.from_checkpoint, path))
              for plan, path in checkpoints if path]
    draws = budget_draws(labels.y, prepared.budgets, ev.repeats, recipe.seed)
    results = evaluate_supervised(prepared.dataset, prepared.dataset.positions(labels.ids), labels.y, draws, models,
                                  ev, recipe.trainer, seed=recipe.seed, encoder_name=recipe.encoder_name,
                                  encoder_params=recipe.encoder_params)
    report["supervised"] = supervised_report(results, draws, report.get("probes") or {}, report.get("reference"),
                                             ev.confidence)
    timings["supervised"] = time.perf_counter() - tick


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


def environment() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in ("proxyml", "torch", "lightning", "numpy", "pandas", "scikit-learn", "sktime", "pydantic"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
        "cuda_available": torch.cuda.is_available(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "cpu_threads": torch.get_num_threads(),
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
