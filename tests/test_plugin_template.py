"""The modality template (``templates/modality``) is a working plugin: it passes every
conformance check and runs end to end, as docs/plugins.md says.

Importing the package registers its components for the whole pytest process, as an installed
plugin's entry point would; tests/test_conformance.py then runs over them too, when it is
collected after this module.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "modality"
sys.path.insert(0, str(TEMPLATE))

import proxyml_csvseries  # noqa: E402  (registers csvseries.* at import)
from proxyml_csvseries import CsvSeriesModality  # noqa: E402
from proxyml_csvseries.encoders import MaskedConvEncoder  # noqa: E402
from proxyml_csvseries.tasks import ForecastTask  # noqa: E402

from proxyml import pipeline  # noqa: E402
from proxyml.errors import DataError, RecipeError  # noqa: E402
from proxyml.recipe import recipe_from_dict  # noqa: E402
from proxyml.registry import BASELINES, ENCODERS, MODALITIES, TASKS  # noqa: E402
from proxyml.testing import check_encoder, check_modality, check_resume_matches, check_task  # noqa: E402


def test_importing_the_package_registers_every_component() -> None:
    assert MODALITIES.get("csvseries") is CsvSeriesModality
    assert ENCODERS.get("csvseries.conv") is MaskedConvEncoder
    assert TASKS.get("csvseries.forecast") is ForecastTask
    assert BASELINES.get("csvseries.quantiles") is proxyml_csvseries.baselines.QuantileBaseline
    assert CsvSeriesModality.default_encoder in ENCODERS and set(CsvSeriesModality.default_baselines) <= set(BASELINES.names())


def test_the_pyproject_entry_point_names_the_package() -> None:
    tomllib = pytest.importorskip("tomllib")
    from importlib.metadata import EntryPoint

    project = tomllib.loads((TEMPLATE / "pyproject.toml").read_text())["project"]
    group = project["entry-points"]["proxyml.modalities"]
    entry_point = EntryPoint(name="csvseries", value=group["csvseries"], group="proxyml.modalities")
    assert entry_point.load() is proxyml_csvseries  # discover() loads it: the import registers


def test_the_modality_passes_the_data_path_checks(tmp_path: Path) -> None:
    check_modality(CsvSeriesModality, tmp_path)


def test_the_task_passes_every_task_check() -> None:
    check_task(ForecastTask)


def test_the_encoder_passes_every_encoder_check() -> None:
    check_encoder(MaskedConvEncoder)


def test_a_killed_run_resumes_to_the_same_weights_with_dropout_on(tmp_path: Path) -> None:
    check_resume_matches(ForecastTask, {}, MaskedConvEncoder, {"embed_dim": 8, "hidden": 8, "dropout": 0.3}, tmp_path)


def test_an_embedding_does_not_depend_on_the_padding_of_its_batch() -> None:
    encoder = MaskedConvEncoder({"channels": 1}, MaskedConvEncoder.Params(embed_dim=8, hidden=8)).eval()
    series = torch.randn(1, 1, 11, generator=torch.Generator().manual_seed(0))
    alone = encoder({"values": series, "mask": torch.ones(1, 11, dtype=torch.bool)})
    padded = encoder({"values": torch.cat([series, torch.zeros(1, 1, 13)], -1), "mask": torch.arange(24)[None] < 11})
    torch.testing.assert_close(alone, padded)


def _recipe(tmp_path: Path, **sections) -> dict:
    source, params = CsvSeriesModality.write_test_data(tmp_path / "data")
    folder = Path(source)
    (folder / "empty.csv").touch()  # found when the folder is listed
    (folder / "s99.csv").write_text("value\n1.0\n2.0\nnot a number\n" + "3.0\n" * 10)  # found when decoded
    ids = [f"s{i:02d}" for i in range(16)]
    labels = tmp_path / "labels.csv"  # beside the folder: a .csv in it would be read as a series
    pd.DataFrame({"id": ids, "kind": ["walk" if i % 2 else "wave" for i in range(16)]}).to_csv(labels, index=False)
    recipe = {
        "name": "template", "seed": 0,
        "data": {"source": source, "params": {**params, "fit_files": 8}},  # s99 is not among the 8 checked at read
        "labels": {"source": str(labels), "target": "kind", "positive": "walk"},
        "task": {"name": "csvseries.forecast"},
        "encoder": {"name": "csvseries.conv", "params": {"embed_dim": 8, "hidden": 8}},
        "trainer": {"max_epochs": 2, "batch_size": 8, "num_workers": 2, "progress_bar": False},
        "evaluate": {"label_budgets": [6, "all"], "repeats": 3, "bootstrap": 200, "permutations": 200},
        "output": {"dir": str(tmp_path / "run")},
    }
    recipe.update(sections)
    return recipe


def test_a_recipe_runs_end_to_end_with_workers_and_a_file_that_breaks_when_decoded(tmp_path: Path) -> None:
    result = pipeline.run(recipe_from_dict(_recipe(tmp_path)))
    report, out = result.report, result.output_dir
    assert report["task"] == "csvseries.forecast" and report["encoder"] == "csvseries.conv"
    assert report["proxy_score_meaning"] == ForecastTask.proxy_score_meaning
    assert report["data"]["modality"] == "csvseries" and report["data"]["n_samples"] == 16
    skipped = {s["id"]: s["reason"] for s in report["skipped"]}
    assert skipped.keys() == {"empty", "s99"}
    assert skipped["empty"] == "empty file"
    assert "cannot be decoded" in skipped["s99"] and "line 4" in skipped["s99"]
    assert report["labels"]["n_labelled"] == 16 and report["labels"]["n_positive"] == 8
    assert set(report["probes"]) == {"proxyml", "random_init", "csvseries.quantiles",
                                     "proxyml+csvseries.quantiles"}
    for method in report["probes"].values():
        assert set(method) == {"6", "all"} and all(np.isfinite(budget["auc_mean"]) for budget in method.values())
    assert set(report["differences"]) == {"random_init", "csvseries.quantiles", "proxyml+csvseries.quantiles"}
    assert 0.0 <= report["proxy_score"]["auc"] <= 1.0
    assert report["training"]["epochs"] == 2
    scores = pd.read_csv(out / "proxy_scores.csv")
    assert scores.columns.tolist() == ["id", "proxy_score"] and len(scores) == 16 and scores["proxy_score"].notna().all()
    assert pd.read_parquet(out / "embeddings.parquet").shape == (16, 1 + 8)
    assert sorted(pd.read_csv(out / "skipped.csv")["id"]) == ["empty", "s99"]
    assert set(pd.read_json(out / "preprocessing.json", typ="series").index) == {"mean", "std"}


def test_a_recipe_is_checked_against_what_the_components_declare(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=r"encoder.name: 'timeseries.conv1d' encodes timeseries data but the "
                                          r"data is csvseries"):
        recipe_from_dict(_recipe(tmp_path, encoder={"name": "timeseries.conv1d"}))
    recipe = recipe_from_dict(_recipe(tmp_path, task={"name": "csvseries.forecast", "params": {"horizon": 6}}))
    with pytest.raises(DataError, match=r"task.params.horizon: 6 steps after at least 4 of context need series of "
                                        r"10 steps; the reader guarantees 8"):
        pipeline.prepare(recipe)
