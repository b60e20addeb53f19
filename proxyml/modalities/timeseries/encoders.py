"""A small 1-D convolutional encoder for series ``(B, C, L)``."""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import nn

from proxyml.encoders import Encoder
from proxyml.params import Params
from proxyml.registry import ENCODERS


class ConvEncoderParams(Params):
    embed_dim: int = Field(64, ge=2, le=4096)
    hidden_channels: int = Field(32, ge=1, le=1024)
    depth: int = Field(3, ge=1, le=10)
    kernel_size: int = Field(7, ge=1, le=63)


@ENCODERS.register("timeseries.conv1d")
class ConvEncoder1d(Encoder[ConvEncoderParams]):
    """Dilated 1-D convolutions, then mean and max pooling over time, then a linear layer.

    Each block doubles the dilation, so ``depth`` blocks see ``(kernel_size - 1) * (2**depth - 1) + 1``
    steps. Works for any length: pooling makes the output size independent of ``L``.

    Example:
        >>> encoder = ConvEncoder1d({"channels": 2}, ConvEncoderParams(embed_dim=16))
        >>> encoder(torch.zeros(4, 2, 50)).shape
        torch.Size([4, 16])
    """

    Params = ConvEncoderParams
    modality = "timeseries"

    def __init__(self, spec: dict[str, Any], params: ConvEncoderParams) -> None:
        super().__init__(spec, params)
        channels = int(spec["channels"])
        blocks: list[nn.Module] = []
        for i in range(params.depth):
            dilation = 2**i
            blocks += [
                nn.Conv1d(
                    channels if i == 0 else params.hidden_channels,
                    params.hidden_channels,
                    params.kernel_size,
                    padding=(params.kernel_size // 2) * dilation,
                    dilation=dilation,
                ),
                nn.BatchNorm1d(params.hidden_channels),
                nn.ReLU(),
            ]
        self.blocks = nn.Sequential(*blocks)
        self.projection = nn.Linear(2 * params.hidden_channels, params.embed_dim)
        self.embed_dim = params.embed_dim

    def forward_sequence(self, x: torch.Tensor) -> torch.Tensor:
        """Per-step features ``(B, hidden_channels, L')`` of x: ``(B, C, L)``."""
        return self.blocks(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(B, C, L)`` -> ``(B, embed_dim)``."""
        steps = self.forward_sequence(x)
        pooled = torch.cat([steps.mean(dim=-1), steps.amax(dim=-1)], dim=-1)
        return self.projection(pooled)

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"embed_dim": 8, "hidden_channels": 4, "depth": 2}]

    @classmethod
    def test_spec(cls) -> dict[str, Any]:
        return {"channels": 2, "length": 48}

    @classmethod
    def test_input(cls, spec: dict[str, Any], batch_size: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randn(batch_size, spec["channels"], spec["length"], generator=generator)
