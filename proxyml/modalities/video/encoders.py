"""A small 2-D frame CNN with a temporal convolution on top, for clips ``(B, 3, T, H, W)``."""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import nn

from proxyml.encoders import Encoder, masked_mean_max
from proxyml.params import Params
from proxyml.registry import ENCODERS

NAME = "video"


class FrameCNNParams(Params):
    embed_dim: int = Field(64, ge=2, le=4096, description="size of a video's embedding")
    width: int = Field(16, ge=4, le=256, description="channels of the first frame convolution (doubled per block)")
    blocks: int = Field(3, ge=1, le=6, description="stride-2 frame convolution blocks")
    temporal: int = Field(2, ge=0, le=6, description="1-D convolutions over the frame features (kernel 3)")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="dropout before the projection")


@ENCODERS.register("video.frame_cnn")
class FrameCNN(Encoder[FrameCNNParams]):
    """Each real frame through a 2-D CNN (stride-2 convolutions, GroupNorm, global average
    pooling), then masked 1-D convolutions over the frames and mean + max pooling over them.

    Takes padded batches ``{"values": (B, 3, T, H, W), "mask": (B, T)}``. Only the real frames
    go through the frame CNN (padding costs nothing and cannot leak), and the temporal layers are
    masked after each step, so a video's embedding does not depend on its batch.

    Example:
        >>> encoder = FrameCNN({"channels": 3}, FrameCNNParams(embed_dim=16, width=4))
        >>> x = {"values": torch.zeros(2, 3, 4, 32, 32), "mask": torch.ones(2, 4, dtype=torch.bool)}
        >>> encoder(x).shape
        torch.Size([2, 16])
    """

    Params = FrameCNNParams
    modality = NAME
    variable_length = True
    mask_axis = 2  # values (B, C, T, H, W), mask (B, T)

    def __init__(self, spec: dict[str, Any], params: FrameCNNParams) -> None:
        super().__init__(spec, params)
        channels, layers = int(spec.get("channels", 3)), []
        width = params.width
        for i in range(params.blocks):
            out = params.width * 2**i
            layers += [nn.Conv2d(channels if i == 0 else width, out, 3, stride=2, padding=1),
                       nn.GroupNorm(min(4, out), out), nn.ReLU()]
            width = out
        self.frames = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.temporal = nn.ModuleList([nn.Conv1d(width, width, 3, padding=1) for _ in range(params.temporal)])
        self.dropout = nn.Dropout(params.dropout)
        self.projection = nn.Linear(2 * width, params.embed_dim)
        self.width, self.embed_dim = width, params.embed_dim

    def frame_features(self, x: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-frame features ``(B, width, T)`` and the frame mask ``(B, T)``."""
        values, mask = x["values"], x["mask"]
        batch, channels, steps = values.shape[:3]
        frames = values.permute(0, 2, 1, 3, 4)[mask]  # (N real frames, C, H, W)
        features = values.new_zeros(batch, steps, self.width)
        if frames.shape[0]:
            features[mask] = self.frames(frames).to(features.dtype)
        h = features.transpose(1, 2)
        keep = mask[:, None, :].to(h.dtype)
        for conv in self.temporal:
            h = h + torch.relu(conv(h)) * keep  # residual; padded frames stay 0
        return h, mask

    def forward(self, x: dict[str, torch.Tensor]) -> torch.Tensor:
        h, mask = self.frame_features(x)
        return self.projection(self.dropout(masked_mean_max(h, mask)))

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"embed_dim": 8, "width": 4, "blocks": 2, "temporal": 1}]

    @classmethod
    def test_spec(cls) -> dict[str, Any]:
        return {"channels": 3, "frames": 6, "size": 16, "kind": "video"}

    @classmethod
    def test_input(cls, spec: dict[str, Any], batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        steps, size = int(spec["frames"]), int(spec["size"])
        lengths = torch.randint(max(2, steps // 2), steps + 1, (batch_size,), generator=generator)
        mask = torch.arange(steps)[None, :] < lengths[:, None]
        values = torch.rand(batch_size, spec["channels"], steps, size, size, generator=generator)
        return {"values": values * mask[:, None, :, None, None], "mask": mask}
