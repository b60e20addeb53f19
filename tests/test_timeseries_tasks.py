"""The time-series tasks do what they say, checked on known inputs."""

from __future__ import annotations

import pytest
import torch

from proxyml.errors import DataError, RecipeError
from proxyml.modalities.timeseries.encoders import ConvEncoder1d, ConvEncoderParams
from proxyml.tasks import create_task


def ramp(batch: int = 4, channels: int = 2, length: int = 12) -> torch.Tensor:
    return torch.arange(length, dtype=torch.float32).repeat(batch, channels, 1)


def test_segment_order_applies_the_permutation_of_its_class() -> None:
    task = create_task("timeseries.segment_order", {"segments": 3})
    assert task.num_classes == 6 and task.orders[0] == (0, 1, 2)
    x = ramp(batch=64)
    shuffled, classes = task.perturb(x, torch.Generator().manual_seed(0))
    for sample, cls in zip(shuffled, classes, strict=True):
        expected = torch.cat([torch.arange(12).view(3, 4)[j] for j in task.orders[cls]]).float()
        assert torch.equal(sample[0], expected) and torch.equal(sample[1], expected)
    assert set(classes.tolist()) == set(range(6))


def test_segment_order_subset_of_permutations_keeps_the_original_first() -> None:
    task = create_task("timeseries.segment_order", {"segments": 4, "permutations": 5})
    again = create_task("timeseries.segment_order", {"segments": 4, "permutations": 5})
    assert task.num_classes == 5 and task.orders[0] == (0, 1, 2, 3)
    assert task.orders == again.orders, "the same parameters must always mean the same classes"
    with pytest.raises(RecipeError, match="only 6 orderings"):
        create_task("timeseries.segment_order", {"segments": 3, "permutations": 7})


def test_segment_order_proxy_score_is_probability_of_original_order() -> None:
    task = create_task("timeseries.segment_order", {"segments": 3})
    encoder = ConvEncoder1d({"channels": 2, "length": 12}, ConvEncoderParams(embed_dim=8, hidden_channels=4))
    head = task.build_head(8, encoder.spec)
    batch = {"index": torch.arange(4), "x": torch.randn(4, 2, 12)}
    encoder.eval()
    expected = head(encoder(batch["x"])).softmax(-1)[:, 0]
    assert torch.allclose(task.proxy_score(encoder, head, batch), expected)


def test_next_step_hides_the_tail_and_scores_forecast_error() -> None:
    task = create_task("timeseries.next_step", {"horizon": 3})
    x = ramp(length=20)
    visible, hidden = task.hide(x, None)
    assert torch.equal(visible, x[..., :17]) and torch.equal(hidden, x[..., 17:])
    cuts = {task.hide(x, torch.Generator().manual_seed(s))[0].shape[-1] for s in range(40)}
    assert min(cuts) >= 9 and max(cuts) == 17 and len(cuts) > 3
    for seed in range(10):
        visible, hidden = task.hide(x, torch.Generator().manual_seed(seed))
        assert torch.equal(hidden, x[..., visible.shape[-1] : visible.shape[-1] + 3])

    encoder = ConvEncoder1d({"channels": 2, "length": 20}, ConvEncoderParams(embed_dim=8, hidden_channels=4))
    head = task.build_head(8, encoder.spec)
    encoder.eval()
    batch = {"index": torch.arange(4), "x": torch.randn(4, 2, 20)}
    forecast = head(encoder(batch["x"][..., :17]))
    expected = (forecast - batch["x"][..., 17:]).pow(2).mean(dim=(1, 2))
    assert torch.allclose(task.proxy_score(encoder, head, batch), expected)


def test_tasks_refuse_series_too_short_for_them() -> None:
    with pytest.raises(DataError, match="task.params.horizon"):
        create_task("timeseries.next_step", {"horizon": 10}).check_spec({"channels": 1, "length": 15})
    with pytest.raises(DataError, match="task.params.segments"):
        create_task("timeseries.segment_order", {"segments": 6}).check_spec({"channels": 1, "length": 10})
