"""What a user hits when things go wrong: interrupted runs, changed recipes on resume, bad
trainer settings, corrupt checkpoints, label columns in the data file, single-class labels."""

from __future__ import annotations

import json

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from proxyml import pipeline, runs
from proxyml.cli import main
from proxyml.errors import DataError, LabelError, RecipeError
from proxyml.recipe import recipe_from_dict
from proxyml.trainer import PretextModule


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


def test_bad_trainer_settings_fail_before_reading_data(tiny_recipe, tmp_path) -> None:
    with pytest.raises(RecipeError, match="trainer: Lightning refuses these settings.*precision='bogus'"):
        pipeline.run(tiny_recipe("trainer.precision=bogus"))
    assert not (tmp_path / "run").exists()


def test_corrupt_or_foreign_checkpoints_are_clear_errors(tmp_path) -> None:
    (tmp_path / "garbage.ckpt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(DataError, match="cannot read the checkpoint"):
        PretextModule.from_checkpoint(tmp_path / "garbage.ckpt")
    torch.save({"state_dict": {}}, tmp_path / "foreign.ckpt")
    with pytest.raises(DataError, match="is not a proxyml checkpoint"):
        PretextModule.from_checkpoint(tmp_path / "foreign.ckpt")


def test_label_column_in_a_series_table_stays_out_when_embedding_again(tmp_path) -> None:
    rng = np.random.default_rng(0)
    steps = rng.standard_normal((40, 30)).cumsum(axis=1)
    frame = pd.DataFrame(steps, columns=[f"t{i}" for i in range(30)])
    frame.insert(0, "churned", np.arange(40) % 2)
    frame.insert(0, "id", [f"c{i}" for i in range(40)])
    frame.to_csv(tmp_path / "calls.csv", index=False)
    recipe = recipe_from_dict({
        "name": "calls", "data": {"source": str(tmp_path / "calls.csv")},
        "labels": {"source": str(tmp_path / "calls.csv"), "target": "churned", "positive": 1},
        "task": {"name": "timeseries.next_step", "params": {"horizon": 4}},
        "trainer": {"max_epochs": 1, "progress_bar": False},
        "evaluate": {"label_budgets": [6], "repeats": 2, "bootstrap": 100, "permutations": 100, "baselines": []},
        "output": {"dir": str(tmp_path / "run")},
    })
    report = pipeline.run(recipe).report
    assert report["data"]["spec"]["length"] == 30
    dataset, embeddings, _ = runs.predict_run(tmp_path / "run")
    assert dataset.spec["length"] == 30
    saved = pd.read_parquet(tmp_path / "run" / "embeddings.parquet").drop(columns="id").to_numpy()
    np.testing.assert_allclose(embeddings, saved, rtol=1e-5, atol=1e-6)


def test_single_class_labels_name_the_values(tiny_recipe, tmp_path) -> None:
    pd.DataFrame({"id": ["s001", "s003", "s005"], "kind": ["square"] * 3}).to_csv(tmp_path / "one.csv", index=False)
    with pytest.raises(LabelError, match=r"all 3 labelled samples found in the data are positive.*'square'.*"
                                         r"label at least 2 negative samples"):
        pipeline.prepare(tiny_recipe(f"labels.source={tmp_path / 'one.csv'}"))


def test_evaluate_changes_only_labels_and_keeps_the_training_record(tiny_recipe, tmp_path) -> None:
    pipeline.run(tiny_recipe())
    with pytest.raises(RecipeError, match=r"only labels.\* and evaluate.\* can change.*\['trainer'\]"):
        runs.evaluate(tmp_path / "run", ["trainer.max_epochs=5"])
    report = runs.evaluate(tmp_path / "run", ["evaluate.repeats=2"])
    assert report["training"]["epochs"] == 3
    assert report["labels"]["source"].endswith("labels.csv")


def test_encoder_of_another_modality_is_refused_when_the_recipe_loads(tiny_recipe) -> None:
    with pytest.raises(RecipeError, match="encoder.name: 'tabular.mlp' encodes tabular data but the data is timeseries"):
        tiny_recipe("encoder={name: tabular.mlp}")


def test_setting_a_parameter_of_the_default_encoder(tmp_path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"name": "r", "data": {"source": "sktime:GunPoint"},
                                      "task": {"name": "timeseries.segment_order"}}))
    assert main(["check", str(recipe), "--set", "encoder.params.embed_dim=16"]) == 0
    assert main(["check", str(recipe), "--set", "encoder.params.embed_dim=-1"]) == 2


def test_quiet_run_prints_no_progress_bar(tiny_recipe, tmp_path, capsys) -> None:
    from conftest import tiny_recipe_dict

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_recipe_dict(tmp_path, trainer={"progress_bar": True})))
    assert main(["-q", "train", str(path)]) == 0
    captured = capsys.readouterr()
    assert "Epoch" not in captured.err + captured.out
    assert json.loads((tmp_path / "run" / "environment.json").read_text())["python"]
