"""Run folders: a new run never destroys an earlier one, and a folder in use is locked."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys

import pytest

from proxyml import pipeline, runs
from proxyml.errors import RecipeError
from proxyml.rundir import LOCK, claim


def _lock(folder, pid: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": "earlier"}))


@pytest.fixture
def other_process():
    """A live process that is not this one (the holder of a lock)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def test_a_second_run_goes_to_a_numbered_folder_and_keeps_the_first(tiny_recipe, tmp_path, caplog) -> None:
    first = pipeline.run(tiny_recipe())
    report = (tmp_path / "run" / "report.json").read_text()
    with caplog.at_level(logging.WARNING, logger="proxyml"):
        second = pipeline.run(tiny_recipe("trainer.max_epochs=2"))
    assert first.output_dir == tmp_path / "run" and second.output_dir == tmp_path / "run-2"
    assert (tmp_path / "run" / "report.json").read_text() == report  # untouched
    assert (tmp_path / "run-2" / "report.json").is_file()
    assert "max_epochs: 2" in (tmp_path / "run-2" / "recipe.yaml").read_text()
    assert f"{tmp_path / 'run'} holds an earlier run; this run writes to {tmp_path / 'run-2'}" in caplog.text
    assert not (tmp_path / "run" / LOCK).exists() and not (tmp_path / "run-2" / LOCK).exists()


def test_overwrite_replaces_the_earlier_run(tiny_recipe, tmp_path) -> None:
    pipeline.run(tiny_recipe())
    (tmp_path / "run" / "notes.txt").write_text("mine")
    result = pipeline.run(tiny_recipe("trainer.max_epochs=2"), overwrite=True)
    assert result.output_dir == tmp_path / "run" and not (tmp_path / "run-2").exists()
    assert json.loads((tmp_path / "run" / "report.json").read_text())["training"]["epochs"] == 2
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"  # only the run's own files are replaced


def test_a_folder_in_use_is_not_written_by_a_second_run(tiny_recipe, tmp_path, other_process) -> None:
    _lock(tmp_path / "run", other_process.pid)
    result = pipeline.run(tiny_recipe())
    assert result.output_dir == tmp_path / "run-2"
    assert [p.name for p in (tmp_path / "run").iterdir()] == [LOCK]
    with pytest.raises(RecipeError, match=rf"is in use by a run \(process {other_process.pid} on"):
        pipeline.run(tiny_recipe(), overwrite=True)
    with pytest.raises(RecipeError, match="in use by a run"):
        runs.evaluate(tmp_path / "run")


def test_resume_refuses_a_folder_another_live_run_holds(tiny_recipe, tmp_path, other_process) -> None:
    pipeline.train(tiny_recipe(labels=None))
    _lock(tmp_path / "run", other_process.pid)
    with pytest.raises(RecipeError, match="wait for it to finish before you resume it"):
        pipeline.train(tiny_recipe("trainer.max_epochs=4", labels=None), resume=True)


def test_the_lock_of_a_killed_run_is_taken_over_on_resume(tiny_recipe, tmp_path, caplog) -> None:
    pipeline.train(tiny_recipe(labels=None))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    _lock(tmp_path / "run", int(dead.stdout))
    with caplog.at_level(logging.WARNING, logger="proxyml"):
        _, fit, _ = pipeline.train(tiny_recipe("trainer.max_epochs=4", labels=None), resume=True)
    assert fit.epochs == 4 and "taking over the lock of a run that is gone" in caplog.text
    assert not (tmp_path / "run" / LOCK).exists()


def test_a_lock_is_held_while_the_run_writes(tmp_path) -> None:
    with claim(tmp_path / "a") as folder:
        held = json.loads((folder / LOCK).read_text())
        with claim(tmp_path / "a") as other:  # a second run started meanwhile
            assert other == tmp_path / "a-2"
    assert held["host"] == socket.gethostname()
    assert not (tmp_path / "a").exists() and not (tmp_path / "a-2").exists()  # nothing written: nothing left


def test_a_run_that_fails_early_leaves_no_folder(tiny_recipe, tmp_path) -> None:
    with pytest.raises(Exception, match="labels"):
        pipeline.run(tiny_recipe("labels.target=nope"))
    assert not (tmp_path / "run").exists()


def test_evaluate_changes_only_labels_and_keeps_the_training_record(tiny_recipe, tmp_path) -> None:
    pipeline.run(tiny_recipe())
    with pytest.raises(RecipeError, match=r"only labels.\* and evaluate.\* can change.*\['trainer'\]"):
        runs.evaluate(tmp_path / "run", ["trainer.max_epochs=5"])
    report = runs.evaluate(tmp_path / "run", ["evaluate.repeats=2"])
    assert report["training"]["epochs"] == 3
    assert report["labels"]["source"].endswith("labels.csv")
