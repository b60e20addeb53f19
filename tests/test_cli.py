"""The command line: `tasks`, `check`, and clear exit-code-2 messages for user errors."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from proxyml import cli
from proxyml.cli import main

ROOT = Path(__file__).parents[1]
QUICKSTART = ROOT / "recipes" / "quickstart.yaml"
VALID = "name: ok\ndata: {source: 'sktime:GunPoint'}\ntask: {name: timeseries.segment_order}\n"


@pytest.fixture(autouse=True)
def _restore_proxyml_logger():
    """`main` configures the "proxyml" logger for a process; give other tests theirs back."""
    logger = logging.getLogger("proxyml")
    saved = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


def write(folder: Path, text: str) -> Path:
    path = folder / "recipe.yaml"
    path.write_text(text)
    return path


def test_tasks_lists_both_timeseries_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    by_name = {line.split()[0]: line.split(None, 1)[1] for line in lines}
    assert by_name["timeseries.next_step"].startswith("Forecast the next `horizon` steps")
    assert by_name["timeseries.segment_order"].startswith("Cut into k segments")


def test_check_accepts_the_quickstart(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(QUICKSTART)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == (
        f"{QUICKSTART}: ok (timeseries.segment_order on sktime:GunPoint, encoder timeseries.conv1d)"
    )
    assert captured.err == ""


def test_check_applies_set_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, VALID)
    assert main(["check", str(path), "--set", "encoder.name=timeseries.conv1d", "--set", "task.name=timeseries.next_step"]) == 0
    assert "ok (timeseries.next_step on sktime:GunPoint" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        (VALID + "trainer: {max_epoch: 3}\n", [], "trainer.max_epoch: unknown key; did you mean max_epochs?"),
        (VALID.replace("segment_order", "segment_ordr"), [],
         "task.name: unknown task 'timeseries.segment_ordr'; did you mean 'timeseries.segment_order'?"),
        ("name: x\n  data: [\n", [], "not valid YAML"),
        (VALID, ["--set", "trainer.max_epochs=0"], "trainer.max_epochs: Input should be greater than or equal to 1"),
        (VALID, ["--set", "labels.positive={x"], "--set 'labels.positive={x': the value '{x' is not valid YAML"),
        (VALID, ["--set", "trainer"], "--set 'trainer': expected key.sub=value"),
    ],
    ids=["unknown-key", "unknown-task", "invalid-yaml", "bad-value", "bad-set-yaml", "set-without-value"],
)
def test_check_reports_a_broken_recipe_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, args: list[str], expected: str
) -> None:
    path = write(tmp_path, text)
    assert main(["check", str(path), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"proxyml check: error: {path}: ")
    assert expected in captured.err
    assert "Traceback" not in captured.err


def test_check_reports_a_missing_recipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().err == f"proxyml check: error: recipe not found: {tmp_path / 'nope.yaml'}\n"


def test_a_broken_recipe_exits_2_in_a_real_process(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "trainer: {max_epoch: 3}\n")
    result = subprocess.run([sys.executable, "-m", "proxyml.cli", "check", str(path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "trainer.max_epoch: unknown key; did you mean max_epochs?" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("argv", "expected"), [(["frobnicate"], "invalid choice: 'frobnicate'"),
                                                ([], "required"),
                                                (["check"], "the following arguments are required: recipe")])
def test_argparse_misuse_exits_2(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize(("verb", "resume_hint"), [("check", False), ("train", True)])
def test_interrupt_exits_130_and_suggests_resume_only_where_it_exists(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], verb: str, resume_hint: bool
) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_dispatch", interrupted)
    assert main([verb, "recipe.yaml"]) == 130
    err = capsys.readouterr().err
    assert err.startswith(f"proxyml {verb}: interrupted")
    assert ("--resume" in err) is resume_hint


def test_quiet_shows_only_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "tasks"]) == 0
    assert logging.getLogger("proxyml").level == logging.WARNING
    assert main(["tasks"]) == 0
    assert logging.getLogger("proxyml").level == logging.INFO


def test_run_then_embed_score_evaluate_from_the_command_line(tmp_path: Path, capsys) -> None:
    import yaml
    from conftest import tiny_recipe_dict

    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump(tiny_recipe_dict(tmp_path)))
    assert main(["run", str(recipe), "--set", "trainer.max_epochs=2"]) == 0
    out = capsys.readouterr().out
    assert "probe AUC proxyml" in out and "proxyml - random_init" in out and "report.html" in out
    run_dir = tmp_path / "run"
    assert main(["embed", str(run_dir), "--out", str(tmp_path / "e.parquet")]) == 0
    assert main(["score", str(run_dir), "--out", str(tmp_path / "s.csv")]) == 0
    assert pd.read_parquet(tmp_path / "e.parquet").shape == (60, 9)
    assert pd.read_csv(tmp_path / "s.csv").columns.tolist() == ["id", "proxy_score", "rank"]
    assert main(["evaluate", str(run_dir), "--set", "evaluate.repeats=2"]) == 0
    report = json.loads((run_dir / "report.json").read_text())
    assert len(report["probes"]["proxyml"]["all"]["aucs"]) == 2
    assert main(["train", str(recipe), "--resume", "--set", "trainer.max_epochs=3"]) == 0
    assert "trained 3 epochs" in capsys.readouterr().out


def test_tasks_verbose_lists_every_component_with_its_parameters(capsys) -> None:
    assert main(["tasks", "-v"]) == 0
    out = capsys.readouterr().out
    assert "horizon: int = 8" in out and "segments: int = 3" in out
    assert "encoders:" in out and "timeseries.conv1d" in out and "embed_dim: int = 64" in out
    assert "baselines:" in out and "num_kernels: int = 10000" in out


@pytest.mark.parametrize(("setting", "expected"), [
    ("trainer.accelerator=gpu", "trainer.accelerator: 'gpu', but torch sees no GPU on this machine"),
    ("trainer.accelerator=cuda", "trainer.accelerator: 'cuda', but torch sees no GPU on this machine"),
    ("trainer.accelerator=mps", "trainer.accelerator: 'mps', but Apple's MPS backend is not available"),
    ("trainer.devices=0", "trainer.devices: 0 asks for no device at all"),
    ("trainer.precision=bogus", "trainer: Lightning refuses these settings"),
])
@pytest.mark.parametrize("verb", ["check", "run"])
def test_a_device_this_machine_lacks_is_one_line_and_exit_2(verb: str, setting: str, expected: str, tmp_path,
                                                            capsys, monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)  # whatever machine the tests run on
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    path = write(tmp_path, VALID)
    assert main([verb, str(path), "--set", setting, "--set", f"output.dir={tmp_path / 'run'}"]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_embed_and_score_into_a_folder_and_evaluate_into_another(tmp_path: Path, capsys) -> None:
    import yaml
    from conftest import tiny_recipe_dict

    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump(tiny_recipe_dict(tmp_path)))
    assert main(["run", str(recipe), "--set", "trainer.max_epochs=1"]) == 0
    run_dir, out = tmp_path / "run", tmp_path / "out"
    out.mkdir()
    assert main(["embed", str(run_dir), "--out", str(out)]) == 0
    assert main(["score", str(run_dir), "--out", str(tmp_path / "new") + "/"]) == 0
    assert pd.read_parquet(out / "embeddings.parquet").shape == (60, 9)
    assert pd.read_csv(tmp_path / "new" / "proxy_scores.csv").shape == (60, 3)
    assert main(["embed", str(run_dir), "--out", str(tmp_path / "e.csv")]) == 2
    assert "--out" in capsys.readouterr().err
    before = (run_dir / "report.json").read_text()
    assert main(["evaluate", str(run_dir), "--set", "evaluate.repeats=2", "--out", str(tmp_path / "again")]) == 0
    assert f"report: {tmp_path / 'again'}/report.html" in capsys.readouterr().out
    assert (run_dir / "report.json").read_text() == before  # the run's own report is left alone
    again = json.loads((tmp_path / "again" / "report.json").read_text())
    assert len(again["probes"]["proxyml"]["all"]["aucs"]) == 2


def test_a_second_run_from_the_command_line_says_where_it_went(tmp_path: Path, capsys) -> None:
    import yaml
    from conftest import tiny_recipe_dict

    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump(tiny_recipe_dict(tmp_path)))
    assert main(["train", str(recipe), "--set", "trainer.max_epochs=1"]) == 0
    assert main(["run", str(recipe), "--set", "trainer.max_epochs=1"]) == 0
    assert f"report: {tmp_path / 'run-2'}/report.html" in capsys.readouterr().out
    assert main(["run", str(recipe), "--resume", "--overwrite"]) == 2
    assert "give one" in capsys.readouterr().err


def test_a_key_given_twice_in_a_recipe_is_refused(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, VALID + "trainer:\n  max_epochs: 3\n  max_epochs: 4\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"proxyml check: error: {path}: not valid YAML: line 6, column 3: the key 'max_epochs' is given "
                   "twice (lines 5 and 6); YAML would keep only the last, so say it once\n")


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
