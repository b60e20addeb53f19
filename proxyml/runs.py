"""Verbs that work on a finished run folder: ``embed``, ``score`` and ``evaluate``."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
import yaml

from proxyml.data import SampleSet, id_text
from proxyml.errors import DataError, RecipeError
from proxyml.modality import get_modality
from proxyml.recipe import EvaluateSection, LabelsSection, Recipe, apply_overrides, recipe_from_dict
from proxyml.rundir import check_unlocked

if TYPE_CHECKING:
    from proxyml.reporting import Outputs

log = logging.getLogger("proxyml")


def load_run_recipe(run_dir: str | Path, overrides: Sequence[str] = ()) -> Recipe:
    """The resolved recipe saved in a run folder (its output dir is that folder)."""
    run_dir = Path(run_dir)
    path = run_dir / "recipe.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a proxyml run folder (no recipe.yaml in it)")
    data = apply_overrides(yaml.safe_load(path.read_text()), overrides)
    data.setdefault("output", {})["dir"] = str(run_dir)
    return recipe_from_dict(data, Path.cwd(), origin=str(path))


def run_checkpoint(run_dir: str | Path) -> Path:
    """The checkpoint a run's embeddings come from: the best one, else the last."""
    folder = Path(run_dir) / "checkpoints"
    for name in ("best.ckpt", "last.ckpt"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{folder}: no checkpoint (was the run trained? try `proxyml train`)")


def predict_run(run_dir: str | Path, source: str | None = None) -> tuple[SampleSet, np.ndarray, np.ndarray]:
    """Read ``source`` (default: the run's own data) with the run's preprocessing and apply
    its trained model: returns the data, embeddings ``(n, d)`` and proxy scores (``(n,)``;
    ``(n, n_tasks)`` for several tasks). See :func:`predict_outputs` for every method's."""
    dataset, outputs = predict_outputs(run_dir, source)
    scores = outputs.scores[:, 0] if outputs.score_columns == ["proxy_score"] else outputs.scores
    return dataset, outputs.embeddings, scores


def predict_outputs(run_dir: str | Path, source: str | None = None, *,
                    progress_bar: bool | None = None) -> tuple[SampleSet, Outputs]:
    """Read ``source`` (default: the run's own data) with the run's preprocessing and apply
    its trained models: returns the data (less any sample that failed to decode) and their
    :class:`proxyml.pipeline.Outputs` (embeddings and proxy scores). ``progress_bar`` overrides
    the run's ``trainer.progress_bar`` (``proxyml -q`` turns it off)."""
    from proxyml.pipeline import combine_outputs, drop_rows, model_plans
    from proxyml.trainer import PretextModule, Trainer

    run_dir = Path(run_dir)
    recipe = load_run_recipe(run_dir)
    models = [(plan, PretextModule.from_checkpoint(run_checkpoint(plan.folder)))
              for plan in model_plans(recipe, run_dir)]
    modality = get_modality(recipe.modality)
    dataset = modality.read(
        source or recipe.data.source,
        modality.reader_params(recipe.data.params),
        base_dir=Path.cwd(),
        preprocessing=models[0][1].preprocessing or None,
        label_columns=(recipe.labels.target,) if recipe.labels is not None else (),
    )
    for note in dataset.notes:
        log.info("data: %s", note)
    settings = recipe.trainer if progress_bar is None else recipe.trainer.model_copy(
        update={"progress_bar": progress_bar})
    trainer = Trainer(settings, run_dir, seed=recipe.seed)
    raw, failed = {}, {}
    for plan, module in models:
        predicted = trainer.predict(module, dataset)
        raw[plan.method] = (predicted.embeddings, predicted.scores)
        failed.update(predicted.failed)
    if failed:
        dataset = dataset.without(list(failed), list(failed.values()))
        raw = {method: drop_rows(value, failed) for method, value in raw.items()}
    return dataset, combine_outputs(recipe, raw)


def output_file(run_dir: str | Path, out: str | Path | None, default_name: str, suffixes: tuple[str, ...]) -> Path:
    """Where ``embed``/``score`` write: ``out`` as a file, ``out/<default_name>`` when ``out`` is
    a folder (one that exists, or a path with a trailing slash or no file suffix), the run
    folder's own file without ``out``.

    Example:
        >>> str(output_file("runs/a", None, "embeddings.parquet", (".parquet",)))
        'runs/a/embeddings.parquet'
        >>> str(output_file("runs/a", "new/", "embeddings.parquet", (".parquet",)))
        'new/embeddings.parquet'
    """
    if out is None:
        check_unlocked(Path(run_dir), "write into it")
        return Path(run_dir) / default_name
    path = Path(out)
    if path.is_dir() or str(out).endswith(("/", "\\")) or not path.suffix:
        return path / default_name
    if path.suffix.lower() not in suffixes:
        raise DataError(f"--out {out}: expected a {' or '.join(suffixes)} file or a folder "
                        f"(the file is then {default_name} inside it)")
    return path


def embed(run_dir: str | Path, source: str | None = None, out: str | Path | None = None, *,
          progress_bar: bool | None = None) -> Path:
    """Write ``id`` + embedding columns to Parquet; returns the file."""
    from proxyml.pipeline import save_embeddings

    target = output_file(run_dir, out, "embeddings.parquet", (".parquet",))
    dataset, outputs = predict_outputs(run_dir, source, progress_bar=progress_bar)
    save_embeddings(target, dataset.ids, outputs.embeddings, outputs.embedding_columns)
    _report_skipped(dataset)
    return target


def score(run_dir: str | Path, source: str | None = None, out: str | Path | None = None, *,
          progress_bar: bool | None = None) -> Path:
    """Write ``id,proxy_score,rank`` to CSV (``rank`` 1 = the highest score; a multitask run:
    a score column and a ``rank_<key>`` column per task); returns the file."""
    from proxyml.pipeline import save_scores

    target = output_file(run_dir, out, "proxy_scores.csv", (".csv",))
    dataset, outputs = predict_outputs(run_dir, source, progress_bar=progress_bar)
    save_scores(target, dataset.ids, outputs.scores, outputs.score_columns, rank=True)
    _report_skipped(dataset)
    return target


def _report_skipped(dataset: SampleSet) -> None:
    for skipped in dataset.skipped:
        log.warning("skipped %s (%s): %s", skipped.id, skipped.source, skipped.reason)


def _read_id_table(path: str | Path, what: str, *, ids_only: bool = False) -> pd.DataFrame:
    """An ``id`` + value-columns table (Parquet or CSV), indexed by the ids as text
    (``ids_only``: only the ids of a Parquet file are read)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what}: file not found: {path}")
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path, columns=["id"] if ids_only else None)
        else:
            frame = pd.read_csv(path, dtype={"id": str})
    except (ValueError, OSError, pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise DataError(f"{what}: cannot read {path} ({exc})") from None
    if "id" not in frame.columns:
        raise DataError(f"{path}: needs an 'id' column; has {list(frame.columns)[:10]}")
    frame = frame.set_index(frame["id"].map(id_text)).drop(columns="id")
    if not frame.index.is_unique:
        repeated = frame.index[frame.index.duplicated()].unique().tolist()
        raise DataError(f"{path}: ids must be unique; {len(repeated)} repeat, e.g. {repeated[:5]}")
    return frame


def read_matrix(path: str | Path, ids: Sequence[str], what: str, columns: Sequence[str] | None = None) -> np.ndarray:
    """Rows of an ``id`` + value-columns table (Parquet or CSV), in the order of ``ids``
    (only ``columns``, when given)."""
    frame = _read_id_table(path, what)
    if columns is not None:
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            raise DataError(f"{path}: needs the columns {list(columns)}; {absent} are missing")
        frame = frame[list(columns)]
    missing = [i for i in ids if i not in frame.index]
    if missing:
        raise DataError(f"{path}: {len(missing)} sample ids are missing, e.g. {missing[:5]}")
    try:
        return frame.loc[list(ids)].to_numpy(dtype=np.float64)
    except (ValueError, TypeError):
        text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        raise DataError(f"{path}: every column but 'id' must be numeric; not numeric: {text[:5]}") from None


def evaluate(run_dir: str | Path, overrides: Sequence[str] = (), out: str | Path | None = None) -> dict[str, Any]:
    """Recompute a run's report from its saved embeddings and proxy scores.

    ``overrides`` (``--set``) can point ``labels.*`` at a new labels file or change
    ``evaluate.*`` (budgets, repeats, baselines) without retraining. The report goes to ``out``
    (``report.json`` and ``report.html``), by default the run folder, replacing its report.
    """
    from proxyml.reporting import (
        add_supervised,
        evaluate_run,
        finish_report,
        load_examples,
        model_plans,
        prepare,
        score_columns,
    )

    run_dir = Path(run_dir)
    changed = sorted({o.partition("=")[0].split(".")[0] for o in overrides} - {"labels", "evaluate"})
    if changed:
        raise RecipeError(
            f"evaluate: only labels.* and evaluate.* can change without retraining; got {changed} "
            "(retrain with `proxyml run` to change the rest)")
    target = Path(out) if out is not None else run_dir
    if out is None:
        check_unlocked(run_dir, "evaluate it into its own folder (or give --out)")
    recipe = load_run_recipe(run_dir, overrides)
    if recipe.labels is None:
        raise DataError(f"{run_dir}: the recipe has no labels section; pass --set labels.source=FILE")
    preprocessing_file = run_dir / "preprocessing.json"
    preprocessing = json.loads(preprocessing_file.read_text()) if preprocessing_file.is_file() else None
    prepared = prepare(recipe, preprocessing=preprocessing or None)
    saved = _read_id_table(run_dir / "embeddings.parquet", "embeddings", ids_only=True).index
    lost = [i for i, sample_id in enumerate(prepared.dataset.ids) if sample_id not in saved]
    if lost:  # samples the run could not decode: it has no embedding for them
        prepared = prepared.without({i: "could not be decoded in the run (see its skipped.csv)" for i in lost})
    ids = prepared.dataset.ids
    features = _read_features(run_dir, recipe, ids)
    columns = score_columns(recipe)
    scores = read_matrix(run_dir / "proxy_scores.csv", ids, "proxy scores", columns)
    by_key = {"": scores[:, 0]} if columns == ["proxy_score"] else dict(zip(columns, scores.T, strict=True))
    timings: dict[str, float] = {}
    baseline_scores, labelled_features = {}, {}
    if recipe.evaluate.random_init and prepared.labels is not None:
        labelled_features["random_init"], baseline_scores["random_init"] = _random_init(run_dir, recipe, prepared)
    seed_features = []
    for k in range(1, recipe.evaluate.seeds):
        folder = run_dir / "seeds" / str(k)
        if not (folder / "embeddings.parquet").is_file():
            raise DataError(f"evaluate.seeds: {recipe.evaluate.seeds} asks for pretraining seed {k}, which {run_dir} "
                            f"has not trained ({folder} has no embeddings); run `proxyml run` with that setting")
        seed_features.append(_read_features(folder, recipe, ids))
    report = evaluate_run(recipe, prepared, features, by_key, timings, baseline_scores, labelled_features,
                          seed_features)
    if recipe.evaluate.finetune is not None or recipe.evaluate.multitask is not None:  # they need the models
        add_supervised(report, recipe, prepared,
                       [(plan, run_checkpoint(plan.folder)) for plan in model_plans(recipe, run_dir)], timings)
    previous = run_dir / "report.json"
    if previous.is_file():  # the training did not change: keep its record
        earlier = json.loads(previous.read_text())
        report.update({key: earlier[key] for key in ("training", "prediction") if key in earlier})
    return finish_report(report, target, recipe.evaluate, timings, next(iter(by_key.values())), prepared.dataset,
                         prepared.labels, load_examples(run_dir))


def _read_features(run_dir: Path, recipe: Recipe, ids: list[str]) -> dict[str, np.ndarray]:
    """The report methods' features, from the files :func:`proxyml.pipeline.write_outputs` wrote."""
    from proxyml.reporting import model_plans, score_columns

    if recipe.multi_task and recipe.tasks_training == "separate":
        features = {f"proxyml:{key}": read_matrix(run_dir / f"embeddings_{key}.parquet", ids, f"{key} embeddings")
                    for key in score_columns(recipe)}
        features["proxyml:combined"] = np.hstack(list(features.values()))
        return features
    return {model_plans(recipe, run_dir)[0].method: read_matrix(run_dir / "embeddings.parquet", ids, "embeddings")}


def _random_init(run_dir: Path, recipe: Recipe, prepared: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The untrained models' outputs on the labelled samples: from the run's files when they
    hold every labelled id, else rebuilt from the seed (new labels)."""
    from proxyml.reporting import score_columns

    ids = prepared.labels.ids
    embeddings_file, scores_file = run_dir / "random_init_embeddings.parquet", run_dir / "random_init_proxy_scores.csv"
    if embeddings_file.is_file() and scores_file.is_file():
        have = _read_id_table(embeddings_file, "random-init embeddings", ids_only=True).index
        if all(i in have for i in ids):
            columns = score_columns(recipe)
            scores = read_matrix(scores_file, ids, "random-init proxy scores", columns)
            keys = [""] if columns == ["proxy_score"] else columns
            return (read_matrix(embeddings_file, ids, "random-init embeddings"),
                    dict(zip(keys, scores.T, strict=True)))
    from proxyml.pipeline import random_init_outputs  # only here: it needs the training machinery
    from proxyml.trainer import Trainer

    log.info("rebuilding the untrained model from its seed for %d labelled samples", len(ids))
    return random_init_outputs(recipe, prepared, None, Trainer(recipe.trainer, run_dir, seed=recipe.seed))


class _IdsOnly(SampleSet):
    """The ids of precomputed embeddings/scores: enough to join labels, nothing to load."""

    def load(self, index: int) -> torch.Tensor:
        raise DataError(f"{self.source}: only ids and precomputed values are available")


def evaluate_files(
    labels: LabelsSection,
    *,
    embeddings: str | Path | None = None,
    scores: str | Path | None = None,
    out: str | Path,
    evaluate: EvaluateSection | None = None,
    seed: int = 0,
    name: str = "evaluation",
) -> dict[str, Any]:
    """Evaluate embeddings and/or proxy scores made anywhere against a labels file.

    No data and no model are needed: ``embeddings`` is an ``id`` + columns table (Parquet or
    CSV), ``scores`` an ``id,proxy_score`` table. Without the data there are no baselines, so the
    probes compare nothing but the embeddings themselves (``random_init`` and the modality's
    baseline need a run folder: use :func:`evaluate`).
    """
    from proxyml.evaluation import check_binary_labels, resolve_budgets
    from proxyml.labels import load_labels
    from proxyml.reporting import evaluate_labelled, finish_report

    if embeddings is None and scores is None:
        raise DataError("evaluate: give --embeddings, --scores or both (or a run folder)")
    ev = evaluate or EvaluateSection()
    first = Path(embeddings if embeddings is not None else scores)  # type: ignore[arg-type]
    ids = _table_ids(first)
    dataset = _IdsOnly(ids, spec={}, source=str(first))
    features = {"proxyml": read_matrix(embeddings, ids, "embeddings")} if embeddings is not None else {}
    score_values = read_matrix(scores, ids, "proxy scores")[:, 0] if scores is not None else None
    label_set = load_labels(labels, dataset, base_dir=Path.cwd())
    check_binary_labels(label_set.y)
    budgets, budget_notes = resolve_budgets(label_set.y, ev.label_budgets) if features else ([], [])
    report: dict[str, Any] = {"name": name, "data": dataset.summary(), "skipped": [],
                              "budgets_notes": budget_notes}
    timings: dict[str, float] = {}
    report.update(evaluate_labelled(dataset, label_set, budgets, features, score_values, ev, seed=seed,
                                    timings=timings))
    return finish_report(report, Path(out), ev, timings, score_values, dataset, label_set)


def _table_ids(path: Path) -> list[str]:
    return _read_id_table(path, "evaluate").index.tolist()
