"""Several pretext tasks in one run (`tasks:`): each reported alone and combined, on the same draws."""

from __future__ import annotations

import json

import lightning.pytorch as pl
import pandas as pd
import pytest
import torch

from proxyml import pipeline, runs
from proxyml.cli import main
from proxyml.errors import RecipeError
from proxyml.recipe import load_recipe

TWO = "tasks=[{name: timeseries.next_step, params: {horizon: 4}}, {name: timeseries.segment_order}]"
QUICK = ["trainer.max_epochs=2", "evaluate.repeats=3", "evaluate.bootstrap=200", "evaluate.permutations=200",
         "trainer.progress_bar=false", "evaluate.label_budgets=[10, all]",
         "evaluate.baselines=[{name: timeseries.minirocket, params: {num_kernels: 840}}]"]


def test_two_tasks_on_gunpoint_report_each_and_the_combination(tmp_path) -> None:
    recipe = load_recipe("recipes/quickstart.yaml", [*QUICK, "task=null", TWO, f"output.dir={tmp_path / 'two'}"])
    report = pipeline.run(recipe).report
    methods = set(report["probes"])
    assert {"proxyml:next_step", "proxyml:segment_order", "proxyml:combined", "random_init",
            "timeseries.minirocket", "proxyml+timeseries.minirocket"} == methods
    assert report["reference"] == "proxyml:combined"
    draws = {m: len(report["probes"][m]["10"]["aucs"]) for m in methods}
    assert set(draws.values()) == {3}  # every method on the same three draws
    assert set(report["proxy_scores"]) == {"next_step", "segment_order"}
    assert set(report["training"]) == {"next_step", "segment_order"}
    html = (tmp_path / "two" / "report.html").read_text()
    assert "Proxy score of next_step against the labels" in html and "Proxy score of segment_order" in html
    combined = pd.read_parquet(tmp_path / "two" / "embeddings.parquet")
    assert combined.shape[1] == 1 + 2 * 64


def test_a_multitask_run_killed_in_its_second_task_resumes(tiny_recipe, tmp_path) -> None:
    class Killed(RuntimeError):
        pass

    class KillSecondTask(pl.Callback):
        def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
            if trainer.current_epoch == 1 and module.task.registry_name == "timeseries.segment_order":
                raise Killed

    two = ("task=null", "tasks=[{name: timeseries.next_step, params: {horizon: 4}}, "
           "{name: timeseries.segment_order}]", "trainer.max_epochs=3")
    straight = pipeline.run(tiny_recipe(*two, f"output.dir={tmp_path / 'straight'}")).report
    with pytest.raises(Killed):
        pipeline.run(tiny_recipe(*two, f"output.dir={tmp_path / 'killed'}"), callbacks=[KillSecondTask()])
    resumed = pipeline.run(tiny_recipe(*two, f"output.dir={tmp_path / 'killed'}"), resume=True).report
    assert resumed["probes"] == straight["probes"] and resumed["proxy_scores"] == straight["proxy_scores"]
    a = torch.load(tmp_path / "straight" / "tasks" / "segment_order" / "checkpoints" / "last.ckpt", weights_only=False)
    b = torch.load(tmp_path / "killed" / "tasks" / "segment_order" / "checkpoints" / "last.ckpt", weights_only=False)
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])


def test_two_tasks_need_two_keys(tiny_recipe) -> None:
    with pytest.raises(RecipeError, match="two tasks have the key 'next_step'; give each a key"):
        tiny_recipe("task=null", "tasks=[{name: timeseries.next_step}, {name: timeseries.next_step}]")
    with pytest.raises(RecipeError, match="not both"):
        tiny_recipe("tasks=[{name: timeseries.next_step}]")
    with pytest.raises(RecipeError, match=r"tasks.1.params.segmnts: unknown key"):
        tiny_recipe("task=null", "tasks=[{name: timeseries.next_step}, "
                    "{name: timeseries.segment_order, params: {segmnts: 2}}]")


def test_multitask_from_the_command_line_prints_each_proxy_and_the_verdict(tmp_path, capsys) -> None:
    import yaml
    from conftest import tiny_recipe_dict

    recipe = tiny_recipe_dict(tmp_path)
    recipe.pop("task")
    recipe["tasks"] = [{"name": "timeseries.next_step", "params": {"horizon": 4}, "key": "forecast"},
                       {"name": "timeseries.segment_order"}]
    recipe["tasks_training"] = "shared"
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(recipe))
    assert main(["run", str(path), "--set", "trainer.max_epochs=2"]) == 0
    out = capsys.readouterr().out
    assert "proxy score of forecast:" in out and "proxy score of segment_order:" in out
    assert out.strip().splitlines()[-1].startswith("report: ")
    assert "verdict: " in out
    assert main(["score", str(tmp_path / "run"), "--out", str(tmp_path / "s.csv")]) == 0
    assert pd.read_csv(tmp_path / "s.csv").columns.tolist() == ["id", "forecast", "segment_order", "rank_forecast",
                                                               "rank_segment_order"]
    assert main(["evaluate", str(tmp_path / "run"), "--set", "evaluate.repeats=2"]) == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert "proxyml:shared" in report["probes"]
    assert runs.load_run_recipe(tmp_path / "run").tasks_training == "shared"
