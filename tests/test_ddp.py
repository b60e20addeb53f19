"""The multi-process path (DDP on CPU, gloo): one run folder, one report, rank 0 writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml
from conftest import tiny_recipe_dict

ROOT = Path(__file__).parents[1]


def test_a_ddp_run_on_two_cpu_processes_writes_one_report_twice_into_numbered_folders(tmp_path: Path) -> None:
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump(tiny_recipe_dict(tmp_path)))
    command = [sys.executable, "-m", "proxyml.cli", "-q", "run", str(recipe), "--set", "trainer.strategy=ddp",
               "--set", "trainer.accelerator=cpu", "--set", "trainer.devices=2", "--set", "trainer.max_epochs=2"]
    for folder, extra in (("run", []), ("run-2", ["--set", "evaluate.seeds=2"])):
        # the second run's child process must follow rank 0 to run-2, and train the extra seed with it
        result = subprocess.run(command + extra, capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.count("report: ") == 1 and f"{tmp_path / folder}/report.html" in result.stdout
        report = json.loads((tmp_path / folder / "report.json").read_text())
        assert report["training"]["epochs"] == 2 and report["labels"]["n_labelled"] == 20
        assert report["prediction"]["processes"] == 2  # each process embedded a shard, gathered by position
        embeddings = pd.read_parquet(tmp_path / folder / "embeddings.parquet")
        assert len(embeddings) == 60 and embeddings.drop(columns="id").notna().all().all()
        assert not (tmp_path / folder / "predict_shards").exists()
    assert report["seeds"] == 2 and len(report["probes"]["proxyml"]["4"]["aucs"]) == 6
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["run", "run-2"]
