"""The report says when a pretext task learned nothing: its training loss stayed at chance."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from proxyml import run
from proxyml.reporting import LEARNED_MARGIN, learning_statements, pretext_learning
from proxyml.tasks import create_task


def test_chance_losses_of_the_task_families() -> None:
    assert create_task("video.frame_order").chance_loss == pytest.approx(math.log(6))
    assert create_task("video.vertical_flip").chance_loss == pytest.approx(math.log(2))
    assert create_task("video.blur_rank").chance_loss == pytest.approx(math.log(2))
    assert create_task("timeseries.next_step").chance_loss is None  # reconstruction: depends on the data


def test_a_metadata_task_guesses_with_its_values_frequencies() -> None:
    from proxyml.data import SampleSet

    task = create_task("audio.call_direction")
    assert task.chance_loss is None  # not prepared yet

    class Calls(SampleSet):
        def load(self, index: int):  # pragma: no cover - never decoded here
            raise AssertionError

    ids = [f"c{i}" for i in range(8)]
    metadata = pd.DataFrame({"direction": ["inbound"] * 6 + ["outbound", None]}, index=pd.Index(ids, name="id"))
    task.prepare(Calls(ids=ids, spec={}, source="calls", metadata=metadata))
    p = 6 / 7
    assert task.chance_loss == pytest.approx(-(p * math.log(p) + (1 - p) * math.log(1 - p)))


def test_learned_is_judged_on_the_recent_mean_training_loss() -> None:
    tasks = {"a": create_task("video.vertical_flip"), "b": create_task("video.frame_order")}
    weights = {"a": 1.0, "b": 0.5}
    chance = math.log(2) + 0.5 * math.log(6)
    flat = [{"train_loss": 0.1}] * 3 + [{"train_loss": chance}] * 5  # early epochs do not count
    check = pretext_learning(tasks, weights, flat)
    assert check == {"chance_loss": round(chance, 4), "recent_train_loss": round(chance, 4), "epochs_averaged": 5,
                     "learned": False}
    falling = [{"train_loss": chance * (1 - LEARNED_MARGIN) * 0.99}] * 5
    assert pretext_learning(tasks, weights, falling)["learned"] is True
    assert pretext_learning({"": create_task("timeseries.next_step")}, {}, falling) is None
    assert pretext_learning(tasks, weights, []) is None


def test_a_run_whose_task_learned_nothing_says_so(tiny_recipe) -> None:
    recipe = tiny_recipe("trainer.learning_rate=1e-12", "trainer.max_epochs=2")
    report = run(recipe, overwrite=True).report
    check = report["training"]["pretext"]
    assert check["chance_loss"] == pytest.approx(math.log(6), abs=1e-3) and check["learned"] is False
    notes = report["verdict"]["notes"]
    assert any("the pretext task did not learn" in note and "guessing gives 1.792" in note for note in notes)
    saved = json.loads((recipe.output_dir / "report.json").read_text())
    assert saved["training"]["pretext"]["learned"] is False
    assert "did not learn" in (recipe.output_dir / "report.html").read_text()
    assert learning_statements(saved) == [note for note in notes if "did not learn" in note]
    assert np.isfinite(check["recent_train_loss"])


def test_the_cli_warns_when_a_task_learned_nothing() -> None:
    from proxyml.cli import _summarise

    report = {"training": {"blur": {"epochs": 3, "pretext": {"chance_loss": 0.6931, "recent_train_loss": 0.7,
                                                              "epochs_averaged": 3, "learned": False}},
                           "flip": {"epochs": 3, "pretext": {"chance_loss": 0.6931, "recent_train_loss": 0.1,
                                                             "epochs_averaged": 3, "learned": True}}}}
    text = _summarise(report)
    assert text.startswith("warning: blur: the pretext task did not learn") and "flip" not in text
