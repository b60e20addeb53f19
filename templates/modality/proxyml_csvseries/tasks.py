"""One pretext task: forecast the next steps of each series from a prefix of its own length.

CHANGE: pick the family that fits your free label and write only what it asks for:
``ClassificationTask``: ``num_classes`` and ``perturb(x, generator)``; ``PairwiseRankingTask``:
``magnitude_range`` and ``apply(x, magnitude)``; ``ReconstructionTask`` (this one):
``hide(x, generator)`` and ``build_head``; ``MetadataTask``: nothing but its ``column`` param.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import nn

from proxyml.errors import DataError
from proxyml.params import Params
from proxyml.registry import TASKS
from proxyml.tasks import ReconstructionTask

from .io import NAME


class ForecastParams(Params):
    horizon: int = Field(4, ge=1, le=64, description="number of steps to forecast")
    min_context: int = Field(4, ge=1, description="training cuts each series at a random point at least this far in")


@TASKS.register(f"{NAME}.forecast")
class ForecastTask(ReconstructionTask):
    """Forecast the `horizon` steps after a prefix of each series (score: forecast error)."""

    Params = ForecastParams
    modality = NAME
    variable_length = True  # works on {"values", "mask"} batches; checked when a recipe is loaded
    proxy_score_meaning = "mean squared error of forecasting each series' last `horizon` steps: high = hard to predict"

    def check_spec(self, spec: dict[str, Any]) -> None:
        """Refuse data whose shortest series leaves no context (``min_length`` is the reader's guarantee)."""
        horizon, context = self.params.horizon, self.params.min_context  # type: ignore[attr-defined]
        shortest = int(spec.get("min_length", 0))
        if shortest < horizon + context:
            raise DataError(f"task.params.horizon: {horizon} steps after at least {context} of context need series "
                            f"of {horizon + context} steps; the reader guarantees {shortest} "
                            "(raise data.params.min_length or lower the horizon)")

    def hide(self, x: dict[str, torch.Tensor], generator: torch.Generator | None,
             ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """``x = {"values": (B, C, L), "mask": (B, L)}`` -> the prefix (masked) and the next
        ``horizon`` values ``(B, C, horizon)``. Each series is cut at a random point of its own
        length drawn from ``generator``; at its end (``length - horizon``) when ``generator`` is None."""
        values, mask = x["values"], x["mask"]
        horizon, context = self.params.horizon, self.params.min_context  # type: ignore[attr-defined]
        latest = mask.sum(-1) - horizon
        if generator is None:
            cut = latest
        else:  # all randomness from the generator, on its device; never the global one
            draw = torch.rand(latest.shape[0], generator=generator, device=generator.device).to(values.device)
            cut = context + (draw * (latest - context + 1).clamp_min(1)).long()
            cut = torch.minimum(cut, latest)
        cut = cut.clamp_min(1)
        steps = torch.arange(values.shape[-1], device=values.device)
        prefix = steps[None, :] < cut[:, None]
        index = (cut[:, None] + torch.arange(horizon, device=values.device)[None, :]).clamp_max(values.shape[-1] - 1)
        target = values.gather(-1, index[:, None, :].expand(-1, values.shape[1], -1))
        return {"values": values * prefix[:, None, :], "mask": prefix}, target  # new tensors: x is left as it was

    def build_head(self, embed_dim: int, spec: dict[str, Any]) -> nn.Module:
        channels, horizon = int(spec["channels"]), self.params.horizon  # type: ignore[attr-defined]
        return nn.Sequential(nn.Linear(embed_dim, channels * horizon), nn.Unflatten(-1, (channels, horizon)))

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"horizon": 2, "min_context": 6}]
