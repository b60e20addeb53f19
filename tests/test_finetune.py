"""Fine-tuning, training from scratch and multitask training on the same label draws as the probes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from proxyml import pipeline, runs
from proxyml.recipe import load_recipe

QUICK = ["trainer.max_epochs=2", "evaluate.repeats=4", "evaluate.bootstrap=200", "evaluate.permutations=200",
         "trainer.progress_bar=false", "evaluate.label_budgets=[10, all]", "evaluate.baselines=[]"]


def test_finetune_scratch_and_multitask_on_the_probes_first_draws(tmp_path) -> None:
    recipe = load_recipe("recipes/quickstart.yaml", [
        *QUICK, f"output.dir={tmp_path / 'run'}", "evaluate.finetune={repeats: 2, max_epochs: 3}",
        "evaluate.multitask={repeats: 2, max_epochs: 2}"])
    report = pipeline.run(recipe).report
    supervised = report["supervised"]
    assert set(supervised["methods"]) == {"finetune", "scratch", "multitask"}
    for method in supervised["methods"].values():
        assert set(method) == {"10", "all"} and all(len(m["aucs"]) == 2 for m in method.values())
        assert all(0.0 <= a <= 1.0 for m in method.values() for a in m["aucs"])
    assert supervised["methods"]["finetune"]["10"]["n_train"] == report["probes"]["proxyml"]["10"]["n_train"]
    diff = supervised["differences"]["finetune"]["scratch"]["10"]
    fine, scratch = (np.asarray(supervised["methods"][m]["10"]["aucs"]) for m in ("finetune", "scratch"))
    assert diff["mean"] == pytest.approx(float((fine - scratch).mean())) and diff["n_draws"] == 2
    probe = np.asarray(report["probes"]["proxyml"]["10"]["aucs"][:2])
    assert supervised["differences"]["finetune"]["proxyml"]["10"]["mean"] == pytest.approx(float((fine - probe).mean()))
    assert any("fine-tuning the pretrained encoder minus training it from scratch" in n
               for n in report["verdict"]["notes"])
    html = (tmp_path / "run" / "report.html").read_text()
    assert "Fine-tuning and multitask training on the labels" in html

    # the same numbers again when the run folder is evaluated anew (seeded per draw)
    again = runs.evaluate(tmp_path / "run", out=tmp_path / "again")
    assert again["supervised"]["methods"] == supervised["methods"]
    assert json.loads((tmp_path / "again" / "report.json").read_text())["supervised"]["methods"]["scratch"]


def test_seeds_fold_every_pretraining_into_the_proxy_draws(tmp_path) -> None:
    recipe = load_recipe("recipes/quickstart.yaml", [*QUICK, f"output.dir={tmp_path / 'run'}", "evaluate.seeds=2"])
    report = pipeline.run(recipe).report
    proxy, random_init = report["probes"]["proxyml"]["10"], report["probes"]["random_init"]["10"]
    assert proxy["n_seeds"] == 2 and len(proxy["aucs"]) == 8 and len(random_init["aucs"]) == 4
    assert not any("@" in method for method in report["probes"])
    difference = report["differences"]["random_init"]["10"]
    expected = np.asarray(proxy["aucs"]) - np.tile(random_init["aucs"], 2)
    assert difference["n_draws"] == 8 and difference["mean"] == pytest.approx(float(expected.mean()))
    assert (tmp_path / "run" / "seeds" / "1" / "checkpoints" / "last.ckpt").is_file()
    assert "include the variance from 2 pretraining seeds" in report["verdict"]["seeds_statement"]
    again = runs.evaluate(tmp_path / "run", out=tmp_path / "again")
    assert again["probes"]["proxyml"]["10"]["aucs"] == proxy["aucs"]
    with pytest.raises(Exception, match="asks for pretraining seed 2"):
        runs.evaluate(tmp_path / "run", ["evaluate.seeds=3"], out=tmp_path / "three")


def test_each_tasks_fine_tuning_is_paired_with_its_own_frozen_probe(tmp_path) -> None:
    recipe = load_recipe("recipes/gunpoint_two_proxies.yaml", [
        *QUICK, f"output.dir={tmp_path / 'run'}", "evaluate.finetune={repeats: 2, max_epochs: 2}"])
    report = pipeline.run(recipe).report
    differences = report["supervised"]["differences"]
    assert set(differences) == {"finetune:forecast", "finetune:order"}
    assert set(differences["finetune:forecast"]) == {"scratch", "proxyml:forecast"}
    notes = " ".join(report["verdict"]["notes"])
    assert "fine-tuning the pretrained encoder of forecast minus training it from scratch" in notes
    assert "fine-tuning the pretrained encoder of order" in notes
