"""Audio pretext tasks: call direction (metadata), segment order, noise ranking.

Every task takes padded batches ``{"values": (B, C, L), "mask": (B, L)}`` of waveforms, and
works within each recording's own length (``mask``), never on the padding.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch
from pydantic import Field

from proxyml.data import batch_size
from proxyml.errors import DataError
from proxyml.params import Params
from proxyml.registry import TASKS
from proxyml.tasks import Batch, MetadataParams, MetadataTask, OrderingTask, OrderParams, PairwiseRankingTask

NAME = "audio"


class CallDirectionParams(MetadataParams):
    column: str = Field("direction", description="the metadata column to predict (from the manifest)")
    positive: str | int | float | bool | None = Field(
        "inbound", description="the value whose probability is the proxy score")


@TASKS.register("audio.call_direction")
class CallDirectionTask(MetadataTask):
    """Predict a free metadata column of each call, by default its direction (score: P(inbound)).

    The label costs nothing (the phone system records it); the seed slides' proxy trained this
    way reached about 0.70 ROC AUC on churners without churn labels. A column that is the churn
    label in disguise is refused before training (the leakage guard).
    """

    Params = CallDirectionParams
    modality = NAME
    variable_length = True
    proxy_score_meaning = "probability that the call has the positive metadata value (default: inbound)"

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"column": "queue", "positive": "billing"}]

    @classmethod
    def test_metadata(cls, ids: list[str], params: dict[str, Any]) -> pd.DataFrame | None:
        column = params.get("column", "direction")
        values = ["inbound", "outbound"] if column == "direction" else ["billing", "support"]
        return pd.DataFrame({column: [values[i % 2] for i in range(len(ids))]}, index=pd.Index(ids, name="id"))


class SegmentOrderParams(OrderParams):
    segments: int = Field(3, ge=2, le=6, description="equal segments each training window is cut into")


@TASKS.register("audio.segment_order")
class SegmentOrderTask(OrderingTask[SegmentOrderParams]):
    """Cut a window of the call into k segments, shuffle them by one of a fixed set of orders,
    predict which (turn-taking structure; score: P(original order))."""

    Params = SegmentOrderParams
    modality = NAME
    variable_length = True
    proxy_score_meaning = "probability that the call's segments are in their recorded order"

    def check_spec(self, spec: dict[str, Any]) -> None:
        window, rate = int(spec.get("window", 0)), int(spec.get("sample_rate", 1))
        if window and window / rate / self.params.segments < 0.1:
            raise DataError(f"task.params.segments: {self.params.segments} segments of a {window / rate:g} s window "
                            "are shorter than 0.1 s; raise data.params.window_seconds or lower the segments")

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"segments": 3}, {"segments": 4, "permutations": 5}]


class NoiseRankParams(Params):
    max_noise: float = Field(1.0, gt=0.0, le=10.0,
                             description="the largest noise added, as a multiple of the call's RMS level (1 = 0 dB SNR)")


@TASKS.register("audio.noise_rank")
class NoiseRankTask(PairwiseRankingTask[NoiseRankParams]):
    """Siamese ranking of added noise: which of two noisy copies got more (a call-quality proxy;
    score: the branch's scalar, higher = noisier)."""

    Params = NoiseRankParams
    modality = NAME
    variable_length = True
    proxy_score_meaning = "how noisy the call sounds (the ranking branch's scalar; higher = noisier)"

    @property
    def magnitude_range(self) -> tuple[float, float]:
        return (0.0, self.params.max_noise)

    def _noisy(self, x: Any, magnitude: torch.Tensor, noise: torch.Tensor) -> Any:
        values, mask = x["values"], x["mask"]
        keep = mask[:, None, :].to(values.dtype)
        rms = ((values.pow(2) * keep).sum((1, 2)) / (keep.sum((1, 2)) * values.shape[1]).clamp_min(1.0)).sqrt()
        scale = (magnitude.to(values.device) * rms.clamp_min(1e-4))[:, None, None]
        return {"values": values + noise * scale * keep, "mask": mask}

    def apply(self, x: Any, magnitude: torch.Tensor) -> Any:
        """Noise of ``magnitude`` times each call's RMS, from a fixed generator (training draws
        its own noise in :meth:`make_batch`)."""
        generator = torch.Generator(device=x["values"].device).manual_seed(0)
        noise = torch.randn(x["values"].shape, generator=generator, device=x["values"].device)
        return self._noisy(x, magnitude, noise)

    def make_batch(self, batch: Batch, generator: torch.Generator) -> tuple[Any, torch.Tensor]:
        """Two copies of each call with the same noise at two drawn levels: they differ only in it."""
        x = batch["x"]
        low, high = self.magnitude_range
        draws = torch.rand((2, batch_size(x)), generator=generator, device=generator.device)
        first, second = low + (high - low) * draws
        noise = torch.randn(x["values"].shape, generator=generator, device=generator.device).to(x["values"].device)
        return (self._noisy(x, first, noise), self._noisy(x, second, noise)), (first > second).float().to(
            x["values"].device)

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"max_noise": 0.5}]
