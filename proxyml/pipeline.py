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

import contextlib
import json
import logging
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
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
from proxyml.data import SampleSet, SubsetSampleSet
from proxyml.demos import ensure_demo_data
from proxyml.encoders import create_encoder
from proxyml.errors import DataError, RecipeError
from proxyml.recipe import Recipe, TrainerSection
from proxyml.reporting import (  # noqa: F401  (the names proxyml.pipeline has always had)
    ModelPlan,
    Outputs,
    Prepared,
    add_supervised,
    add_supervised_statement,
    build_examples,
    check_no_leakage,
    combine_outputs,
    evaluate_labelled,
    evaluate_run,
    finish_report,
    model_plans,
    prepare,
    pretext_learning,
    reference_method,
    save_examples,
    score_columns,
)
from proxyml.tasks import create_task
from proxyml.trainer import FitResult, PretextModule, Trainer

log = logging.getLogger("proxyml")


@dataclass
class RunResult:
    output_dir: Path
    report: dict[str, Any]
    fit: FitResult | None = None


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
    if isinstance(saved.get("data"), dict) and saved["data"].get("modality") == new["data"]["modality"]:
        # a run saved before the reader's defaults were filled in meant those defaults; saved params
        # that no longer validate stay as they are and are reported as changed below
        with contextlib.suppress(RecipeError):
            saved["data"]["params"] = recipe.filled_reader_params(saved["data"].get("params"))
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
    ensure_demo_data(recipe)
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


PARQUET_CHUNK = 65_536  # rows per row group: writing never copies the whole matrix


def save_embeddings(path: Path, ids: list[str], embeddings: np.ndarray, columns: list[str] | None = None) -> Path:
    """``id`` + one column per dimension (``e0, e1, ...`` unless ``columns``) as Parquet,
    written a row group of :data:`PARQUET_CHUNK` rows at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = columns or [f"e{i}" for i in range(embeddings.shape[1])]
    kind = pa.from_numpy_dtype(embeddings.dtype)
    schema = pa.schema([("id", pa.string()), *((name, kind) for name in names)])
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, max(len(ids), 1), PARQUET_CHUNK):
            rows = slice(start, start + PARQUET_CHUNK)
            chunk = np.ascontiguousarray(embeddings[rows])
            writer.write_table(pa.Table.from_arrays(
                [pa.array(ids[rows], pa.string()), *(pa.array(chunk[:, j]) for j in range(chunk.shape[1]))],
                schema=schema))
    return path


def save_scores(path: Path, ids: list[str], scores: np.ndarray, columns: Sequence[str] = ("proxy_score",),
                *, rank: bool = False) -> Path:
    """``id,proxy_score`` as CSV (``id`` and one column per task for a multitask run). With
    ``rank``, each score column gets its rank beside it (``rank``, or ``rank_<key>``; 1 = the
    highest score, ties share the best rank), for a list of whom to look at first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(np.asarray(scores).reshape(len(ids), -1), columns=list(columns))
    if rank:
        for column in list(columns):
            name = "rank" if list(columns) == ["proxy_score"] else f"rank_{column}"
            frame[name] = frame[column].rank(ascending=False, method="min", na_option="bottom").astype(np.int64)
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
    ensure_demo_data(recipe)
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
        outputs = {method: drop_rows(value, failed) for method, value in outputs.items()}
        seed_outputs = [(other, {m: drop_rows(v, failed) for m, v in out_k.items()}) for other, out_k in seed_outputs]
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
    summaries = [{**fit.summary(), "pretext": pretext_learning(module.tasks, module.weights, fit.history)}
                 for (_, module), fit in zip(models, fits, strict=True)]
    report["training"] = summaries[0] if len(fits) == 1 else {
        plan.key: summary for (plan, _), summary in zip(models, summaries, strict=True)}
    report["prediction"] = {"processes": predicted.processes, "batch_size": predicted.batch_size}
    tick = time.perf_counter()
    examples = build_examples(recipe, dataset, scores)
    save_examples(out, examples)
    if examples:
        timings["examples"] = time.perf_counter() - tick
    finish_report(report, out, recipe.evaluate, timings, next(iter(scores.values())), dataset, prepared.labels,
                  examples)
    return RunResult(out, report, fits[0])


def drop_rows(value: tuple[np.ndarray, np.ndarray], failed: dict[int, str]) -> tuple[np.ndarray, np.ndarray]:
    """A model's ``(embeddings, scores)`` less the rows at the positions of ``failed``."""
    keep = np.setdiff1d(np.arange(len(value[0])), np.fromiter(failed, dtype=np.int64))
    return value[0][keep], value[1][keep]


def write_outputs(recipe: Recipe, out: Path, ids: list[str], outputs: Outputs) -> None:
    """``embeddings.parquet`` and ``proxy_scores.csv`` (``id,proxy_score``, or a column per task);
    with several tasks ``features.parquet`` (``id``, every task's embedding ``<key>_e0, ...`` and
    score ``<key>_score``: one feature table); for separately trained tasks also
    ``embeddings_<key>.parquet`` each."""
    save_embeddings(out / "embeddings.parquet", ids, outputs.embeddings, outputs.embedding_columns)
    save_scores(out / "proxy_scores.csv", ids, outputs.scores, outputs.score_columns)
    if recipe.multi_task:  # one feature table: every proxy's embedding and score side by side
        scores = np.asarray(outputs.scores, dtype=outputs.embeddings.dtype).reshape(len(ids), -1)
        save_embeddings(out / "features.parquet", ids, np.concatenate([outputs.embeddings, scores], axis=1),
                        [*outputs.embedding_columns, *(f"{key}_score" for key in outputs.score_columns)])
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


def environment() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in ("proxyml", "torch", "lightning", "numpy", "pandas", "scikit-learn", "sktime", "pydantic",
                    "torchaudio", "soundfile", "librosa", "soxr", "decord2", "av"):
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
