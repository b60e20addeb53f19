"""The core's real consumer: variable-length samples decoded from files in DataLoader workers,
several proxies in one run, a file that breaks at decode time, the metadata leakage guard."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from varlen_plugin import write_varlen_folder

from proxyml import pipeline, runs
from proxyml.errors import RecipeError
from proxyml.recipe import recipe_from_dict


@pytest.fixture
def calls(tmp_path: Path) -> tuple[Path, Path]:
    folder, labels = write_varlen_folder(tmp_path / "calls")
    (folder / "c998.npy").write_bytes(b"not numpy at all")  # found when the folder is listed
    data = np.load(folder / "c007.npy")
    np.save(folder / "c999.npy", data)
    raw = (folder / "c999.npy").read_bytes()
    (folder / "c999.npy").write_bytes(raw[: len(raw) - 40])  # a good header, a truncated body: found when decoded
    return folder, labels


def _recipe(calls: tuple[Path, Path], tmp_path: Path, **sections) -> dict:
    folder, labels = calls
    recipe = {
        "name": "varlen", "seed": 1,
        "data": {"source": str(folder)},
        "labels": {"source": str(labels), "target": "kind", "positive": "square"},
        "tasks": [{"name": "varlen.reverse"}, {"name": "varlen.amplitude_rank", "key": "damping"}],
        "trainer": {"max_epochs": 2, "batch_size": 8, "num_workers": 2, "progress_bar": False},
        "evaluate": {"label_budgets": [6, "all"], "repeats": 3, "bootstrap": 200, "permutations": 200},
        "output": {"dir": str(tmp_path / "run")},
    }
    recipe.update(sections)
    return recipe


def test_two_proxies_on_variable_length_files_with_workers_end_to_end(calls, tmp_path) -> None:
    result = pipeline.run(recipe_from_dict(_recipe(calls, tmp_path)))
    report, out = result.report, result.output_dir
    skipped = {s["id"]: s["reason"] for s in report["skipped"]}
    assert set(skipped) == {"c998", "c999"}
    assert "not a readable .npy" in skipped["c998"] and "cannot be decoded" in skipped["c999"]
    assert report["data"]["n_samples"] == 60 and report["labels"]["n_labelled"] == 45
    assert set(report["probes"]) == {"proxyml:reverse", "proxyml:damping", "proxyml:combined", "random_init",
                                     "varlen.stats", "proxyml+varlen.stats"}
    assert set(report["proxy_scores"]) == {"reverse", "damping"}
    assert set(report["proxy_scores_baselines"]["reverse"]) == {"random_init"}
    assert [t["key"] for t in report["tasks"]] == ["reverse", "damping"]
    assert report["verdict"]["recommendation"] and set(report["verdict"]["budgets"]) == {"6", "all"}
    scores = pd.read_csv(out / "proxy_scores.csv")
    assert scores.columns.tolist() == ["id", "reverse", "damping"] and len(scores) == 60
    combined = pd.read_parquet(out / "embeddings.parquet")
    assert combined.shape == (60, 1 + 16 + 16) and combined.columns[1] == "reverse_e0"
    assert pd.read_parquet(out / "embeddings_damping.parquet").shape == (60, 17)
    assert (out / "tasks" / "reverse" / "checkpoints" / "last.ckpt").is_file()
    assert pd.read_csv(out / "skipped.csv")["id"].tolist() == ["c998", "c999"]
    assert len(pd.read_parquet(out / "random_init_embeddings.parquet")) == 45  # the labelled samples only

    # the same run folder evaluated again, and applied to the files again
    again = runs.evaluate(out, ["evaluate.repeats=2"], out=tmp_path / "again")
    assert again["probes"]["proxyml:combined"]["all"]["auc_mean"] == pytest.approx(
        report["probes"]["proxyml:combined"]["all"]["auc_mean"], abs=0.2)
    assert len(again["probes"]["proxyml:combined"]["all"]["aucs"]) == 2
    dataset, embeddings, new_scores = runs.predict_run(out)
    assert len(dataset) == 60 and embeddings.shape == (60, 32) and new_scores.shape == (60, 2)
    assert "c999" in {s.id for s in dataset.skipped}
    np.testing.assert_allclose(new_scores, scores.set_index("id").loc[dataset.ids].to_numpy(), rtol=1e-4, atol=1e-5)


def test_a_shared_encoder_with_a_head_per_task(calls, tmp_path) -> None:
    recipe = _recipe(calls, tmp_path, tasks_training="shared",
                     tasks=[{"name": "varlen.reverse", "weight": 2.0}, {"name": "varlen.metadata", "key": "site",
                                                                         "params": {"column": "site"}}])
    report = pipeline.run(recipe_from_dict(recipe)).report
    assert {"proxyml:shared", "random_init"} <= set(report["probes"]) and set(report["proxy_scores"]) == {"reverse",
                                                                                                          "site"}
    log = pd.read_csv(tmp_path / "run" / "logs" / "version_0" / "metrics.csv")
    assert {"train_loss_reverse", "train_loss_site", "val_loss"} <= set(log.columns)


def test_a_metadata_task_on_the_target_in_disguise_is_refused_before_training(calls, tmp_path) -> None:
    recipe = _recipe(calls, tmp_path, tasks=None, task={"name": "varlen.metadata", "params": {"column": "copy"}})
    with pytest.raises(RecipeError, match=r"task.params.column: metadata column 'copy' equals the target 'kind'"):
        pipeline.run(recipe_from_dict(recipe))
    assert not (tmp_path / "run").exists()
    recipe["task"]["params"]["column"] = "kind"
    with pytest.raises(RecipeError, match="is the evaluation target"):
        pipeline.run(recipe_from_dict(recipe))


def test_a_fixed_length_encoder_on_variable_length_data_is_refused_at_load(calls, tmp_path) -> None:
    with pytest.raises(RecipeError, match=r"encoder.name: 'varlen.fixed_mlp' takes fixed-length input, but the "
                                          r"varlen reader gives samples of varying length"):
        recipe_from_dict(_recipe(calls, tmp_path, encoder={"name": "varlen.fixed_mlp"}))


def test_num_workers_auto_uses_workers_for_files_only(calls, tmp_path) -> None:
    from proxyml.trainer import Trainer

    recipe = recipe_from_dict(_recipe(calls, tmp_path, trainer={"num_workers": "auto"}))
    prepared = pipeline.prepare(recipe)
    trainer = Trainer(recipe.trainer, tmp_path, seed=0)
    assert trainer.num_workers(prepared.dataset) >= 1
    in_memory = pipeline.prepare(recipe_from_dict({"name": "g", "data": {"source": "sktime:GunPoint"},
                                                   "task": {"name": "timeseries.next_step"}}))
    assert trainer.num_workers(in_memory.dataset) == 0
    assert json.dumps(recipe.resolved()["trainer"]["num_workers"]) == '"auto"'


def test_length_buckets_cover_every_sample_once_and_cut_the_padding(calls, tmp_path) -> None:
    from proxyml.trainer import LengthBucketSampler

    recipe = recipe_from_dict(_recipe(calls, tmp_path))
    dataset = pipeline.prepare(recipe).dataset
    lengths = np.asarray(dataset.lengths)
    sampler = LengthBucketSampler(lengths, batch_size=8, seed=0)
    first = list(sampler)
    assert sorted(i for batch in first for i in batch) == list(range(len(dataset))) and len(first) == len(sampler)
    assert list(sampler) == first  # seeded per epoch
    sampler.set_epoch(1)
    assert list(sampler) != first

    def padding(batches: list[list[int]]) -> float:
        return sum(int(lengths[b].max()) * len(b) - int(lengths[b].sum()) for b in batches) / lengths.sum()

    shuffled = np.random.default_rng(0).permutation(len(dataset))
    plain = [shuffled[i:i + 8].tolist() for i in range(0, len(shuffled), 8)]
    assert padding(first) < 0.5 * padding(plain)


def test_bucketing_is_refused_for_data_that_does_not_know_its_lengths(tmp_path) -> None:
    from proxyml.trainer import Trainer

    recipe = recipe_from_dict({"name": "g", "data": {"source": "sktime:GunPoint"}, "task": {"name": "timeseries.next_step"},
                               "trainer": {"bucket_by_length": True}})
    dataset = pipeline.prepare(recipe).dataset
    with pytest.raises(RecipeError, match="trainer.bucket_by_length: true needs a variable-length data set"):
        Trainer(recipe.trainer, tmp_path, seed=0).bucketing(dataset)


def test_random_training_windows_in_workers_resume_to_the_same_weights(calls, tmp_path) -> None:
    import lightning.pytorch as pl
    import torch

    class Killed(RuntimeError):
        pass

    class KillAtEpoch2(pl.Callback):
        def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
            if trainer.current_epoch == 2:
                raise Killed

    def recipe(name: str):
        return recipe_from_dict(_recipe(calls, tmp_path, tasks=None, task={"name": "varlen.reverse"}, labels=None,
                                        data={"source": str(calls[0]), "params": {"window": 16}},
                                        trainer={"max_epochs": 3, "batch_size": 8, "num_workers": 2,
                                                 "progress_bar": False},
                                        output={"dir": str(tmp_path / name)}))

    dataset = pipeline.prepare(recipe("straight")).dataset
    windows = {tuple(dataset[(5, seed)]["x"].shape) for seed in range(4)}
    assert windows == {(1, 16)} and not torch.equal(dataset[(5, 0)]["x"], dataset[(5, 1)]["x"])
    pipeline.train(recipe("straight"))
    with pytest.raises(Killed):
        pipeline.train(recipe("killed"), callbacks=[KillAtEpoch2()])
    pipeline.train(recipe("killed"), resume=True)
    a, b = (torch.load(tmp_path / n / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
            for n in ("straight", "killed"))
    assert all(torch.equal(a[k], b[k]) for k in a)
