"""Time-series pretext tasks: next-step forecasting and segment reordering."""

from __future__ import annotations

import math
from typing import Any

import torch
from pydantic import Field, model_validator
from torch import nn

from proxyml.errors import DataError
from proxyml.params import Params
from proxyml.registry import TASKS
from proxyml.tasks import ClassificationTask, ReconstructionTask, fixed_orders

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


class SegmentOrderParams(Params):
    segments: int = Field(3, ge=2, le=8, description="number of equal segments the series is cut into")
    permutations: int | None = Field(
        None, ge=2,
        description="how many orderings to tell apart (the original is always one); "
        "default: all of them, up to 24",
    )

    @model_validator(mode="after")
    def _fits(self) -> SegmentOrderParams:
        total = math.factorial(self.segments)
        if self.permutations is not None and self.permutations > total:
            raise ValueError(
                f"permutations={self.permutations} but {self.segments} segments have only {total} orderings"
            )
        return self


@TASKS.register("timeseries.segment_order")
class SegmentOrderTask(ClassificationTask[SegmentOrderParams]):
    """Cut into k segments, shuffle by one of a fixed set of orders, predict which (score: P(original order))."""

    Params = SegmentOrderParams
    modality = "timeseries"
    proxy_score_meaning = "probability that the segments are in their original order"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.orders = fixed_orders(self.params.segments, self.params.permutations)

    @property
    def num_classes(self) -> int:
        return len(self.orders)

    def check_spec(self, spec: dict[str, Any]) -> None:
        k = self.params.segments
        if int(spec["length"]) < 2 * k:
            raise DataError(f"task.params.segments: {k} segments need series of at least {2 * k} steps")

    def _order_index(self, length: int, device: torch.device) -> torch.Tensor:
        """``(num_classes, length)`` time indices that put the segments in each order."""
        pieces = torch.tensor_split(torch.arange(length, device=device), self.params.segments)
        return torch.stack([torch.cat([pieces[j] for j in order]) for order in self.orders])

    def perturb(self, x: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """x: ``(B, C, L)``; returns reordered copies and their order class ``(B,)``."""
        classes = torch.randint(self.num_classes, (x.shape[0],), generator=generator, device=x.device)
        index = self._order_index(x.shape[-1], x.device)[classes]
        return x.gather(-1, index.unsqueeze(1).expand_as(x)), classes

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"segments": 3}, {"segments": 4, "permutations": 5}]
