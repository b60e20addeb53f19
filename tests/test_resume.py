"""`--resume`: the same result as a run never interrupted (dropout included), and no resume on changed data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import lightning.pytorch as pl
import pandas as pd
import pytest
import torch

from proxyml import pipeline
from proxyml.errors import DataError, RecipeError
from proxyml.modalities.tabular.bundled import bundled_table
from proxyml.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[1]
TABULAR = ROOT / "recipes" / "tabular_breast_cancer.yaml"
QUICK = ("trainer.max_epochs=3", "evaluate.repeats=3", "trainer.progress_bar=false", "evaluate.bootstrap=200",
         "evaluate.permutations=200", "evaluate.label_budgets=[10, all]")


class Killed(RuntimeError):
    pass


class KillAtEpoch(pl.Callback):
    """A run killed when ``epoch`` starts: epoch ``epoch - 1`` and its checkpoint are done."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            raise Killed


def _numbers(report: dict) -> dict:
    """Every number of a report that training can change."""
    keep = {key: report[key] for key in ("proxy_score", "probes", "differences")}
    keep["losses"] = (report["training"]["final_train_loss"], report["training"]["final_val_loss"])
    return keep


def test_a_killed_tabular_run_with_dropout_resumes_to_the_same_report(tmp_path) -> None:
    def recipe(name: str):
        return load_recipe(TABULAR, [*QUICK, f"output.dir={tmp_path / name}", "encoder.params.dropout=0.3"])

    straight = pipeline.run(recipe("straight")).report
    with pytest.raises(Killed):
        pipeline.run(recipe("killed"), callbacks=[KillAtEpoch(1)])
    resumed = pipeline.run(recipe("killed"), resume=True).report
    assert resumed["training"]["epochs"] == straight["training"]["epochs"] == 3
    assert _numbers(resumed) == _numbers(straight)
    a = pd.read_parquet(tmp_path / "straight" / "embeddings.parquet")
    b = pd.read_parquet(tmp_path / "killed" / "embeddings.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_resume_starts_from_the_last_epoch_even_when_the_held_out_loss_got_worse(tiny_recipe, tmp_path) -> None:
    # a learning rate this large makes the held-out loss jump about: last.ckpt must still be the last epoch
    recipe = tiny_recipe("trainer.max_epochs=4", "trainer.learning_rate=0.5", labels=None)
    with pytest.raises(Killed):
        pipeline.train(recipe, callbacks=[KillAtEpoch(2)])
    last = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=False)
    assert last["epoch"] == 1
    val_losses = pd.read_csv(tmp_path / "run" / "logs" / "version_0" / "metrics.csv")["val_loss"].dropna().tolist()
    assert val_losses[1] > val_losses[0]  # the case that lost epochs before: no new best in epoch 1


@pytest.fixture
def table_file(tmp_path: Path) -> Path:
    path = tmp_path / "patients.csv"
    bundled_table("breast_cancer").drop(columns="target").to_csv(path, index_label="id")
    return path


def _table_recipe(table: Path, folder: Path, *extra: str):
    return load_recipe(TABULAR, [*QUICK, "trainer.max_epochs=2", f"data.source={table}", "labels=null",
                                 f"output.dir={folder}", *extra])


def test_resume_refuses_a_data_file_changed_in_place(table_file, tmp_path) -> None:
    with pytest.raises(Killed):
        pipeline.train(_table_recipe(table_file, tmp_path / "run"), callbacks=[KillAtEpoch(1)])
    frame = pd.read_csv(table_file)
    frame.iloc[: len(frame) // 2].to_csv(table_file, index=False)  # half the rows, same name
    with pytest.raises(DataError, match=r"--resume: the data changed since the run .* size \d+ -> \d+ bytes"):
        pipeline.train(_table_recipe(table_file, tmp_path / "run"), resume=True)


def test_resume_refuses_the_same_size_with_other_content(table_file, tmp_path) -> None:
    with pytest.raises(Killed):
        pipeline.train(_table_recipe(table_file, tmp_path / "run"), callbacks=[KillAtEpoch(1)])
    text = table_file.read_text()
    table_file.write_text(text.replace("17.99", "18.99", 1))
    with pytest.raises(DataError, match="content changed"):
        pipeline.train(_table_recipe(table_file, tmp_path / "run"), resume=True)


def test_resume_accepts_a_file_that_was_only_touched(table_file, tmp_path) -> None:
    with pytest.raises(Killed):
        pipeline.train(_table_recipe(table_file, tmp_path / "run"), callbacks=[KillAtEpoch(1)])
    os.utime(table_file, (1e9, 1e9))
    _, fit, _ = pipeline.train(_table_recipe(table_file, tmp_path / "run"), resume=True)
    assert fit.epochs == 2
    saved = json.loads((tmp_path / "run" / "data_fingerprint.json").read_text())
    assert saved["source"]["kind"] == "file" and saved["summary"]["n_samples"] == 569


def test_resume_refuses_data_the_reader_makes_other_samples_of(tiny_recipe, tmp_path) -> None:
    """A change the sampled fingerprint cannot see is still caught by what the reader made of it."""
    recipe = tiny_recipe("trainer.max_epochs=3", labels=None)
    with pytest.raises(Killed):
        pipeline.train(recipe, callbacks=[KillAtEpoch(1)])
    saved = json.loads((tmp_path / "run" / "data_fingerprint.json").read_text())
    saved["summary"]["n_samples"] = 61  # as if the file had held one more series
    (tmp_path / "run" / "data_fingerprint.json").write_text(json.dumps(saved))
    with pytest.raises(DataError, match="samples read 61 -> 60"):
        pipeline.train(recipe, resume=True)


class CtrlC(pl.Callback):
    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.current_epoch == 1:
            raise KeyboardInterrupt


def test_ctrl_c_during_training_is_a_keyboard_interrupt_and_the_run_resumes(tiny_recipe, tmp_path) -> None:
    recipe = tiny_recipe("trainer.max_epochs=4")
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(recipe, callbacks=[CtrlC()])
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()
    _, fit, _ = pipeline.train(recipe, resume=True)
    assert fit.epochs == 4


def test_resume_refuses_a_changed_model_and_leaves_the_run_alone(tiny_recipe, tmp_path) -> None:
    pipeline.train(tiny_recipe())
    saved = (tmp_path / "run" / "recipe.yaml").read_text()
    with pytest.raises(RecipeError, match=r"--resume: the recipe changed task .*segments"):
        pipeline.train(tiny_recipe("task.params.segments=4"), resume=True)
    assert (tmp_path / "run" / "recipe.yaml").read_text() == saved
    _, fit, _ = pipeline.train(tiny_recipe("trainer.max_epochs=4"), resume=True)  # more epochs is fine
    assert fit.epochs == 4


def test_resume_refuses_training_settings_that_change_the_weights(tiny_recipe, tmp_path) -> None:
    from proxyml.errors import RecipeError

    recipe = tiny_recipe("trainer.max_epochs=3", labels=None)
    with pytest.raises(Killed):
        pipeline.train(recipe, callbacks=[KillAtEpoch(1)])
    with pytest.raises(RecipeError, match=r"changed trainer.learning_rate .*0.001 -> 0.01"):
        pipeline.train(tiny_recipe("trainer.max_epochs=3", "trainer.learning_rate=0.01", labels=None), resume=True)
    _, fit, _ = pipeline.train(tiny_recipe("trainer.max_epochs=4", "trainer.threads=1", labels=None), resume=True)
    assert fit.epochs == 4


def test_the_saved_recipe_fills_the_readers_defaults_and_an_older_run_still_resumes(tiny_recipe, tmp_path) -> None:
    """A run's recipe.yaml holds every data.params default (so new data is later read as the run
    read its own, whatever a newer default says); a run saved before that, with only the params
    it was given, still resumes, and a changed reader setting is still refused."""
    import yaml

    pipeline.train(tiny_recipe())
    path = tmp_path / "run" / "recipe.yaml"
    saved = yaml.safe_load(path.read_text())
    params = saved["data"]["params"]
    assert params["normalize"] == "dataset" and params["length_policy"] == "pad" and "delimiter" in params
    saved["data"]["params"] = {}  # as runs saved them before
    path.write_text(yaml.safe_dump(saved, sort_keys=False))
    _, fit, _ = pipeline.train(tiny_recipe("trainer.max_epochs=4"), resume=True)
    assert fit.epochs == 4
    with pytest.raises(RecipeError, match=r"--resume: the recipe changed data"):
        pipeline.train(tiny_recipe("trainer.max_epochs=5", "data.params.normalize=none"), resume=True)
