"""The task families work for any modality: tiny test-only tasks on a tiny encoder."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import torch
from torch import nn

from proxyml.encoders import Encoder
from proxyml.errors import DataError, RecipeError
from proxyml.params import Params
from proxyml.tasks import MetadataTask, PairwiseRankingTask
from proxyml.testing import TASK_CHECKS, check_task, task_fixture


class MeanEncoder(Encoder):
    """(B, C, L) -> (B, 4): a linear map of per-channel means and stds."""

    registry_name = ""

    def __init__(self, spec: dict[str, Any], params: Params) -> None:
        super().__init__(spec, params)
        self.embed_dim = 4
        self.linear = nn.Linear(2 * spec["channels"], 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.cat([x.mean(-1), x.std(-1)], dim=-1))

    @classmethod
    def test_spec(cls) -> dict[str, Any]:
        return {"channels": 1, "length": 32}

    @classmethod
    def test_input(cls, spec: dict[str, Any], batch_size: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randn(batch_size, spec["channels"], spec["length"], generator=generator)


class ScaleParams(Params):
    high: float = 3.0


class ScaleRanking(PairwiseRankingTask):
    """Which copy was scaled up more (test-only)."""

    Params = ScaleParams
    modality = "test"
    proxy_score_meaning = "scale"

    @property
    def magnitude_range(self) -> tuple[float, float]:
        return (1.0, self.params.high)

    def apply(self, x: torch.Tensor, magnitude: torch.Tensor) -> torch.Tensor:
        return x * magnitude.view(-1, 1, 1)


class Direction(MetadataTask):
    """Predict the metadata column (test-only)."""

    modality = "test"

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"column": "direction"}, {"column": "direction", "positive": "inbound"}]


def metadata_table() -> pd.DataFrame:
    values = ["inbound", "outbound"] * 8
    values[3] = None  # a sample without metadata is ignored by the loss
    return pd.DataFrame({"direction": values}, index=[str(i) for i in range(16)])


def test_pairwise_ranking_family_passes_conformance() -> None:
    check_task(ScaleRanking, encoder_cls=MeanEncoder)


@pytest.mark.parametrize("check", TASK_CHECKS, ids=lambda c: c.__name__)
def test_metadata_family_passes_conformance(check) -> None:
    for params in Direction.test_params():
        check(task_fixture(Direction, params, encoder_cls=MeanEncoder, metadata=metadata_table()))


def test_pairwise_targets_say_which_copy_is_larger() -> None:
    fixture = task_fixture(ScaleRanking, {}, encoder_cls=MeanEncoder)
    x = fixture.batch["x"]
    (first, second), targets = fixture.task.make_batch(fixture.batch, torch.Generator().manual_seed(0))
    ratio = first.flatten(1).norm(dim=1) / second.flatten(1).norm(dim=1)
    assert torch.equal(targets.bool(), ratio > 1)
    assert first.shape == x.shape and 0 < targets.mean() < 1


def test_metadata_targets_come_from_the_column() -> None:
    fixture = task_fixture(Direction, {"column": "direction"}, encoder_cls=MeanEncoder, metadata=metadata_table())
    _, targets = fixture.task.make_batch(fixture.batch, torch.Generator())
    assert fixture.task.classes == ["inbound", "outbound"]
    assert targets[:3].tolist() == [0, 1, 0] and targets[3] == -100


def test_metadata_task_errors_name_the_column() -> None:
    with pytest.raises(DataError, match="no metadata column 'direction'"):
        task_fixture(Direction, {"column": "direction"}, encoder_cls=MeanEncoder)
    table = metadata_table().assign(direction="inbound")
    with pytest.raises(DataError, match="fewer than 2 values"):
        task_fixture(Direction, {"column": "direction"}, encoder_cls=MeanEncoder, metadata=table)


def test_bad_task_params_name_the_recipe_key() -> None:
    with pytest.raises(RecipeError, match=r"task.params.hgh: unknown key; did you mean high\?"):
        ScaleRanking(hgh=2)


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
