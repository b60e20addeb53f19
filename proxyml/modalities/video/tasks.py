"""Video pretext tasks from the colposcopy seed: frame order, blur ranking, vertical flip.

Every task takes padded batches ``{"values": (B, 3, T, H, W), "mask": (B, T)}`` of clips and
works within each clip's real frames. None of the maintained self-supervised libraries has them.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import Field

from proxyml.errors import DataError
from proxyml.params import Params
from proxyml.registry import TASKS
from proxyml.tasks import ClassificationTask, OrderingTask, OrderParams, PairwiseRankingTask

NAME = "video"


class FrameOrderParams(OrderParams):
    segments: int = Field(4, ge=2, le=8, description="equal groups of frames the clip is cut into")
    permutations: int | None = Field(
        6, ge=2, description="how many orderings to tell apart (the original is one); null: all, up to 24")


@TASKS.register("video.frame_order")
class FrameOrderTask(OrderingTask[FrameOrderParams]):
    """Shuffle the clip's frames (in `segments` groups) by one of a fixed set of orders, predict
    which (acetowhitening makes time visible; score: confidence that the order is the original)."""

    Params = FrameOrderParams
    modality = NAME
    variable_length = True
    order_axis = 2  # values (B, C, T, H, W)
    proxy_score_meaning = "probability that the frames are in their recorded order"

    def check_spec(self, spec: dict[str, Any]) -> None:
        frames = int(spec.get("frames", 0))
        if frames and frames < self.params.segments:
            raise DataError(f"task.params.segments: {self.params.segments} groups of frames need clips of at least "
                            f"{self.params.segments} frames; data.params.frames is {frames}")

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"segments": 3, "permutations": None}]


class BlurRankParams(Params):
    max_sigma: float = Field(2.5, gt=0.1, le=20.0, description="the strongest Gaussian blur, in pixels (standard deviation)")


def gaussian_blur(values: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Each sample of ``values`` ``(B, C, T, H, W)`` blurred with its own ``sigma`` ``(B,)`` (pixels),
    as two batched separable convolutions on the tensors' device."""
    batch, channels, steps, height, width = values.shape
    radius = max(1, int(math.ceil(3 * float(sigma.max()))))
    offsets = torch.arange(-radius, radius + 1, device=values.device, dtype=values.dtype)
    kernels = torch.exp(-0.5 * (offsets[None, :] / sigma.to(values.dtype).clamp_min(1e-3)[:, None]) ** 2)
    kernels = kernels / kernels.sum(-1, keepdim=True)  # sigma ~ 0: the identity
    planes = values.reshape(1, batch * channels * steps, height, width)
    weight = kernels.repeat_interleave(channels * steps, dim=0)  # (B*C*T, K)
    planes = F.pad(planes, (radius, radius, radius, radius), mode="replicate")
    planes = F.conv2d(planes, weight[:, None, None, :], groups=planes.shape[1])
    planes = F.conv2d(planes, weight[:, None, :, None], groups=planes.shape[1])
    return planes.reshape(batch, channels, steps, height, width)


@TASKS.register("video.blur_rank")
class BlurRankTask(PairwiseRankingTask[BlurRankParams]):
    """Siamese ranking of Gaussian blur on the clip's frames (rough lesion texture; score: the
    branch's scalar, higher = blurrier)."""

    Params = BlurRankParams
    modality = NAME
    variable_length = True
    proxy_score_meaning = "how blurred the video looks (the ranking branch's scalar; higher = blurrier, less fine texture)"

    @property
    def magnitude_range(self) -> tuple[float, float]:
        return (0.0, self.params.max_sigma)

    def apply(self, x: Any, magnitude: torch.Tensor) -> Any:
        return {"values": gaussian_blur(x["values"], magnitude.to(x["values"].device)), "mask": x["mask"]}

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"max_sigma": 1.0}]


@TASKS.register("video.vertical_flip")
class VerticalFlipTask(ClassificationTask):
    """Upside down or as recorded (bleeding flows down, lesions do not; score: P(as recorded))."""

    modality = NAME
    variable_length = True
    proxy_score_meaning = "probability that the video is the right way up, as recorded"

    @property
    def num_classes(self) -> int:
        return 2

    def perturb(self, x: Any, generator: torch.Generator) -> tuple[Any, torch.Tensor]:
        values = x["values"]
        flip = torch.rand(values.shape[0], generator=generator, device=generator.device).to(values.device) < 0.5
        flipped = torch.where(flip[:, None, None, None, None], values.flip(-2), values)
        return {"values": flipped, "mask": x["mask"]}, flip.long()
