"""Regression tests for problems found in review: each failed before its fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from proxyml import pipeline
from proxyml.data import ArraySampleSet
from proxyml.errors import DataError, LabelError, RecipeError
from proxyml.recipe import recipe_from_dict
from proxyml.runs import read_matrix
from proxyml.tasks import MetadataTask
from proxyml.testing import task_fixture


class Device(MetadataTask):
    """Which of three devices recorded the series (test-only)."""

    modality = "timeseries"


def test_metadata_task_with_three_values_gets_a_three_way_head() -> None:
    from proxyml.modalities.timeseries.encoders import ConvEncoder1d

    metadata = pd.DataFrame({"device": ["a", "b", "c"] * 5 + ["a"]}, index=[str(i) for i in range(16)])
    fixture = task_fixture(Device, {"column": "device"}, encoder_cls=ConvEncoder1d, metadata=metadata)
    assert fixture.head.out_features == 3
    inputs, targets = fixture.task.make_batch(fixture.batch, torch.Generator())
    assert torch.isfinite(fixture.task.loss(fixture.task.forward(fixture.encoder, fixture.head, inputs), targets))
    with pytest.raises(DataError, match="task.params.positive: 'z' is not one of"):
        task_fixture(Device, {"column": "device", "positive": "z"}, encoder_cls=ConvEncoder1d, metadata=metadata)


def test_a_separate_labels_file_without_ids_is_not_joined_by_row_number(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.standard_normal((30, 3)), columns=list("abc")).to_csv(tmp_path / "data.csv", index=False)
    pd.DataFrame({"churn": [0, 1] * 3}).to_csv(tmp_path / "labels.csv", index=False)
    recipe = recipe_from_dict({
        "name": "t", "data": {"source": str(tmp_path / "data.csv")},
        "labels": {"source": str(tmp_path / "labels.csv"), "target": "churn"},
        "task": {"name": "tabular.imputation"}, "output": {"dir": str(tmp_path / "run")},
    })
    with pytest.raises(LabelError, match="labels.id_column: .* has no column 'id'"):
        pipeline.prepare(recipe)


def test_float_ids_in_parquet_join_their_labels(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0, 8.0],
                          "x": np.arange(8.0), "y": [1.0, 3, 2, 5, 4, 7, 6, 9], "churn": [0, 1] * 4})
    frame.to_parquet(tmp_path / "t.parquet")
    recipe = recipe_from_dict({
        "name": "t", "data": {"source": str(tmp_path / "t.parquet")},
        "labels": {"source": str(tmp_path / "t.parquet"), "target": "churn", "positive": 1},
        "task": {"name": "tabular.imputation"}, "evaluate": {"label_budgets": [2]},
        "output": {"dir": str(tmp_path / "run")},
    })
    prepared = pipeline.prepare(recipe)
    assert prepared.labels is not None and prepared.labels.ids[:2] == ["1", "2"]


def test_embedding_files_with_repeated_ids_or_text_columns_are_refused(tmp_path: Path) -> None:
    pd.DataFrame({"id": ["a", "b", "a"], "e0": [1.0, 2, 3]}).to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(DataError, match="ids must be unique; 1 repeat"):
        read_matrix(tmp_path / "dup.csv", ["a", "b"], "embeddings")
    pd.DataFrame({"id": ["a", "b"], "e0": ["x", "y"]}).to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(DataError, match="must be numeric; not numeric: \\['e0'\\]"):
        read_matrix(tmp_path / "text.csv", ["a", "b"], "embeddings")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="cannot read"):
        read_matrix(tmp_path / "empty.csv", ["a"], "embeddings")


def test_duplicate_sample_ids_are_a_data_error() -> None:
    with pytest.raises(DataError, match="sample ids must be unique"):
        ArraySampleSet(np.zeros((2, 1, 9)), ["a", "a"], spec={}, source="x")


@pytest.mark.parametrize(("key", "value", "message"), [
    ("seed", -1, "seed: Input should be greater than or equal to 0"),
    ("output", {"dir": "runs/{date}"}, "only placeholder allowed is {name}"),
])
def test_recipe_values_that_used_to_crash_later(key: str, value: object, message: str) -> None:
    recipe = {"name": "t", "data": {"source": "sktime:GunPoint"}, "task": {"name": "timeseries.next_step"}}
    with pytest.raises(RecipeError, match=message.replace("{", "\\{").replace("}", "\\}")):
        recipe_from_dict({**recipe, key: value})


def test_default_encoder_params_with_a_scalar_data_section_is_a_clear_error() -> None:
    with pytest.raises(RecipeError, match="data"):
        recipe_from_dict({"name": "t", "data": "a.csv", "task": {"name": "timeseries.next_step"},
                          "encoder": {"params": {"embed_dim": 8}}})


def test_series_too_short_for_the_task_fail_before_the_run_folder_is_written(tiny_recipe, tmp_path) -> None:
    with pytest.raises(DataError, match="task.params.horizon"):
        pipeline.run(tiny_recipe("task={name: timeseries.next_step, params: {horizon: 30}}"))
    assert not (tmp_path / "run").exists()


def test_numeric_labels_pick_the_larger_number_as_positive() -> None:
    from proxyml.labels import binarize

    y, positive, notes = binarize(pd.Series(["9", "10", "9", "10"]), None, "grade")
    assert positive == "10" and y.tolist() == [0, 1, 0, 1] and "'10'" in notes[0]


def test_conformance_checks_leave_the_global_rng_alone() -> None:
    from proxyml.registry import TASKS

    state = torch.random.get_rng_state()
    task_fixture(TASKS.get("timeseries.segment_order"), {})
    assert torch.equal(state, torch.random.get_rng_state())
