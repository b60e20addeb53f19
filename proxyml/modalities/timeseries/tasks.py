"""Time-series pretext tasks: next-step forecasting and segment reordering."""

from __future__ import annotations

import math
from typing import Any

import torch
from pydantic import Field
from torch import nn

from proxyml.errors import DataError
from proxyml.params import Params
from proxyml.registry import TASKS
from proxyml.tasks import OrderingTask, OrderParams, ReconstructionTask

#: the shortest context the default encoder can use
MIN_CONTEXT = 8


class NextStepParams(Params):
    horizon: int = Field(8, ge=1, description="number of steps to forecast")
    min_context: float = Field(
        0.5, gt=0.0, le=1.0,
        description="training cuts the series at a random point; the context is at least this "
        "fraction of the longest possible context",
    )


@TASKS.register("timeseries.next_step")
class NextStepTask(ReconstructionTask[NextStepParams]):
    """Forecast the next `horizon` steps from the steps before them (score: forecast error)."""

    Params = NextStepParams
    modality = "timeseries"
    proxy_score_meaning = (
        "mean squared error of forecasting the last `horizon` steps: high = hard to predict"
    )

    def uses_randomness(self) -> bool:
        return self.params.min_context < 1.0

    def check_spec(self, spec: dict[str, Any]) -> None:
        length, horizon = int(spec["length"]), self.params.horizon
        if length - horizon < MIN_CONTEXT:
            raise DataError(
                f"task.params.horizon: {horizon} leaves {length - horizon} steps of context in "
                f"series of length {length}; at least {MIN_CONTEXT} are needed. "
                f"Use a horizon of at most {length - MIN_CONTEXT}."
            )

    def hide(self, x: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """x: ``(B, C, L)`` -> context ``(B, C, cut)``, target ``(B, C, horizon)``.

        One cut point per batch (so the batch stays rectangular); fixed at ``L - horizon``
        when ``generator`` is None.
        """
        horizon = self.params.horizon
        latest = x.shape[-1] - horizon
        if generator is None:
            cut = latest
        else:
            earliest = max(MIN_CONTEXT, math.ceil(self.params.min_context * latest))
            earliest = min(earliest, latest)
            cut = int(torch.randint(earliest, latest + 1, (1,), generator=generator, device=generator.device))
        return x[..., :cut], x[..., cut : cut + horizon]

    def build_head(self, embed_dim: int, spec: dict[str, Any]) -> nn.Module:
        channels, horizon = int(spec["channels"]), self.params.horizon
        return nn.Sequential(nn.Linear(embed_dim, channels * horizon), nn.Unflatten(-1, (channels, horizon)))

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"horizon": 4}, {"horizon": 1, "min_context": 1.0}]


class SegmentOrderParams(OrderParams):
    segments: int = Field(3, ge=2, le=8, description="number of equal segments the series is cut into")


@TASKS.register("timeseries.segment_order")
class SegmentOrderTask(OrderingTask[SegmentOrderParams]):
    """Cut into k segments, shuffle by one of a fixed set of orders, predict which (score: P(original order))."""

    Params = SegmentOrderParams
    modality = "timeseries"
    proxy_score_meaning = "probability that the segments are in their original order"

    def check_spec(self, spec: dict[str, Any]) -> None:
        k = self.params.segments
        if int(spec["length"]) < 2 * k:
            raise DataError(f"task.params.segments: {k} segments need series of at least {2 * k} steps")

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"segments": 3}, {"segments": 4, "permutations": 5}]
