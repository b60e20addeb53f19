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
from proxyml.data import Labels, SampleSet
from proxyml.encoders import create_encoder
from proxyml.errors import DataError, RecipeError
from proxyml.labels import load_labels
from proxyml.modality import create_baseline, get_modality
from proxyml.recipe import Component, EvaluateSection, Recipe
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
    create_task(recipe.task.name, recipe.task.params).check_spec(dataset.spec)  # e.g. series too short
    return Prepared(recipe, dataset, labels, budgets, budget_notes)


RESUME_MUST_MATCH = ("seed", "data", "task", "encoder")
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
    changed = [key for key in RESUME_MUST_MATCH if saved.get(key) != new.get(key)]
    if changed:
        details = "; ".join(f"{key}: {saved.get(key)} -> {new.get(key)}" for key in changed)
        raise RecipeError(
            f"--resume: the recipe changed {', '.join(changed)} since the run was started ({details}); "
            "a resumed run must train the same model on the same data (trainer.max_epochs may change). "
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


def build_module(recipe: Recipe, dataset: SampleSet) -> PretextModule:
    """The untrained model; the same seed always gives the same initial weights."""
    task = create_task(recipe.task.name, recipe.task.params)
    task.check_spec(dataset.spec)
    task.prepare(dataset)  # before the head is built: the head's size may depend on the data
    pl.seed_everything(recipe.seed, workers=True, verbose=False)
    return PretextModule(
        task,
        create_encoder(recipe.encoder_name, dataset.spec, recipe.encoder_params),
        learning_rate=recipe.trainer.learning_rate,
        weight_decay=recipe.trainer.weight_decay,
        seed=recipe.seed,
        preprocessing=getattr(dataset, "preprocessing", {}),
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
        pd.DataFrame([s.as_dict() for s in dataset.skipped], columns=["id", "source", "reason"]).to_csv(
            out / "skipped.csv", index=False
        )
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


def _train(recipe: Recipe, prepared: Prepared, *, resume: bool,
           callbacks: list[pl.Callback] | None) -> tuple[PretextModule, FitResult, Prepared]:
    out = recipe.output_dir
    if resume:
        check_resumed_data(recipe, prepared.dataset)
    if getattr(rank_zero_only, "rank", 0) == 0:  # under multi-process strategies every rank runs this function
        write_run_header(recipe, prepared.dataset, resume=resume)
    module = build_module(recipe, prepared.dataset)
    trainer = Trainer(recipe.trainer, out, seed=recipe.seed, callbacks=callbacks or [])
    log.info("training %s on %d samples for up to %d epochs", recipe.task.name, len(prepared.dataset),
             recipe.trainer.max_epochs)
    fit = trainer.fit(module, prepared.dataset, resume=resume)
    log.info("trained %d epochs in %.1f s; checkpoint %s", fit.epochs, fit.seconds, fit.checkpoint)
    if fit.checkpoint is not None and fit.checkpoint.exists():
        module = PretextModule.from_checkpoint(fit.checkpoint)
    return module, fit, prepared


def save_embeddings(path: Path, ids: list[str], embeddings: np.ndarray) -> Path:
    """``id`` + one column per dimension (``e0, e1, ...``) as Parquet."""
    frame = pd.DataFrame(embeddings, columns=[f"e{i}" for i in range(embeddings.shape[1])])
    frame.insert(0, "id", ids)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path


def save_scores(path: Path, ids: list[str], scores: np.ndarray) -> Path:
    """``id,proxy_score`` as CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": ids, "proxy_score": scores}).to_csv(path, index=False)
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
    from proxyml.evaluation import write_report

    timings: dict[str, float] = {}
    start = time.perf_counter()
    prepared = prepare(recipe)
    timings["read"] = time.perf_counter() - start
    module, fit, prepared = _train(recipe, prepared, resume=resume, callbacks=callbacks)
    timings["train"] = fit.seconds
    out, dataset = recipe.output_dir, prepared.dataset
    if fit.global_rank != 0:  # embedding, evaluation and the report happen once, on rank 0
        return RunResult(out, {}, fit)
    trainer = Trainer(recipe.trainer, out, seed=recipe.seed)
    tick = time.perf_counter()
    embeddings, scores = trainer.predict(module, dataset)
    save_embeddings(out / "embeddings.parquet", dataset.ids, embeddings)
    save_scores(out / "proxy_scores.csv", dataset.ids, scores)
    timings["embed_and_score"] = time.perf_counter() - tick
    features: dict[str, np.ndarray] = {"proxyml": embeddings}
    baseline_scores: dict[str, np.ndarray] = {}
    if recipe.evaluate.random_init:
        tick = time.perf_counter()
        random_embeddings, random_scores = trainer.predict(build_module(recipe, dataset), dataset)
        save_embeddings(out / "random_init_embeddings.parquet", dataset.ids, random_embeddings)
        save_scores(out / "random_init_proxy_scores.csv", dataset.ids, random_scores)
        features["random_init"] = random_embeddings
        baseline_scores["random_init"] = random_scores
        timings["random_init"] = time.perf_counter() - tick
    report = evaluate_run(recipe, prepared, features, scores, timings, baseline_scores)
    report["training"] = fit.summary()
    report["timings"] = {k: round(v, 3) for k, v in timings.items()}
    paths = write_report(report, out, scores=_labelled(scores, dataset, prepared.labels),
                         y=prepared.labels.y if prepared.labels else None)
    log.debug("report: %s", paths["html"])
    return RunResult(out, report, fit)


def _labelled(values: np.ndarray, dataset: SampleSet, labels: Labels | None) -> np.ndarray | None:
    return None if labels is None else values[dataset.positions(labels.ids)]


def evaluate_run(recipe: Recipe, prepared: Prepared, features: dict[str, np.ndarray],
                 scores: np.ndarray | None, timings: dict[str, float],
                 baseline_scores: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """The report dict: proxy-score AUC, probes and baselines on the same draws.

    ``features`` maps a method name to an ``(n_samples, d)`` matrix over the whole data set;
    ``baseline_scores`` the proxy scores of untrained models (e.g. ``random_init``).
    """
    dataset, labels = prepared.dataset, prepared.labels
    report: dict[str, Any] = {
        "name": recipe.name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "task": recipe.task.name,
        "proxy_score_meaning": TASKS.get(recipe.task.name).proxy_score_meaning,
        "encoder": recipe.encoder_name,
        "data": dataset.summary(),
        "skipped": [s.as_dict() for s in dataset.skipped],
        "budgets_notes": prepared.budget_notes,
    }
    if labels is None:
        report["labels"] = None
        return report
    report.update(evaluate_labelled(dataset, labels, prepared.budgets, features, scores, recipe.evaluate,
                                    seed=recipe.seed, baselines=recipe.baselines, timings=timings,
                                    baseline_scores=baseline_scores))
    return report


def evaluate_labelled(dataset: SampleSet, labels: Labels, budgets: list[str], features: dict[str, np.ndarray],
                      scores: np.ndarray | None, ev: EvaluateSection, *, seed: int,
                      baselines: Sequence[Component] = (), timings: dict[str, float] | None = None,
                      baseline_scores: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """``labels``, ``proxy_score`` and ``probes`` sections of a report (baselines included)."""
    from proxyml.evaluation import budget_draws, evaluate_probes, evaluate_proxy_score, probe_report_sections

    timings = {} if timings is None else timings
    report: dict[str, Any] = {"labels": labels.summary()}
    positions = dataset.positions(labels.ids)
    if scores is not None:
        tick = time.perf_counter()
        report["proxy_score"] = evaluate_proxy_score(
            scores[positions], labels.y, n_bootstrap=ev.bootstrap, n_permutations=ev.permutations,
            confidence=ev.confidence, seed=seed)
        report["proxy_score_baselines"] = {
            name: evaluate_proxy_score(values[positions], labels.y, n_bootstrap=ev.bootstrap,
                                       n_permutations=ev.permutations, confidence=ev.confidence, seed=seed)
            for name, values in (baseline_scores or {}).items()
        }
        timings["proxy_score_eval"] = time.perf_counter() - tick
    labelled = {name: matrix[positions] for name, matrix in features.items()}
    for baseline in baselines:
        tick = time.perf_counter()
        log.info("baseline %s on %d labelled samples", baseline.name, len(positions))
        labelled[baseline.name] = create_baseline(baseline.name, baseline.params).features(
            dataset, positions, seed)
        timings[f"baseline:{baseline.name}"] = time.perf_counter() - tick
    if not labelled:
        return report
    tick = time.perf_counter()
    draws = budget_draws(labels.y, budgets, ev.repeats, seed)
    log.info("probes: %d methods x %d budgets x %d draws on %d labelled samples",
             len(labelled), len(budgets), ev.repeats, len(positions))
    report.update(probe_report_sections(evaluate_probes(labelled, labels.y, draws, reference="proxyml",
                                                        confidence=ev.confidence, C=ev.probe_C)))
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
