"""A small encoder for padded variable-length series: ``x = {"values": (B, C, L), "mask": (B, L)}``.

CHANGE: put your modality's network here. What the core needs: ``forward(x) -> (B, embed_dim)``,
``self.embed_dim`` set in ``__init__``, and the three ``test_*`` class methods the conformance
suite builds and feeds it with. Keep a sample's embedding independent of the other samples of
its batch and of how much padding the batch added (mask after every layer that mixes steps).
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import nn

from proxyml.encoders import Encoder
from proxyml.params import Params
from proxyml.registry import ENCODERS

from .io import NAME


class MaskedConvParams(Params):
    embed_dim: int = Field(32, ge=2, le=1024)
    hidden: int = Field(16, ge=1, le=512)
    depth: int = Field(2, ge=1, le=8)
    kernel_size: int = Field(5, ge=1, le=31, description="odd, so that the output keeps the input's length")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="before the last layer, in training only")


@ENCODERS.register(f"{NAME}.conv")
class MaskedConvEncoder(Encoder):
    """1-D convolutions over the real steps only, then mean and max pooling over them.

    Example:
        >>> encoder = MaskedConvEncoder({"channels": 1}, MaskedConvParams(embed_dim=8))
        >>> x = {"values": torch.zeros(3, 1, 20), "mask": torch.ones(3, 20, dtype=torch.bool)}
        >>> encoder(x).shape
        torch.Size([3, 8])
    """

    Params = MaskedConvParams
    modality = NAME
    variable_length = True  # takes pad_collate's {"values", "mask"}; checked when a recipe is loaded

    def __init__(self, spec: dict[str, Any], params: MaskedConvParams) -> None:
        super().__init__(spec, params)
        channels = int(spec["channels"])
        self.convs = nn.ModuleList(
            nn.Conv1d(channels if i == 0 else params.hidden, params.hidden, params.kernel_size,
                      padding=params.kernel_size // 2)
            for i in range(params.depth))
        self.dropout = nn.Dropout(params.dropout)  # its masks come from the trainer's seeded generators
        self.out = nn.Linear(2 * params.hidden, params.embed_dim)
        self.embed_dim = params.embed_dim

    def forward(self, x: dict[str, torch.Tensor]) -> torch.Tensor:
        values, mask = x["values"], x["mask"]
        keep = mask[:, None, :].to(values.dtype)
        h = values * keep
        for conv in self.convs:
            h = torch.relu(conv(h)) * keep  # padded steps stay 0, as if the series ended there
        mean = h.sum(-1) / keep.sum(-1).clamp_min(1.0)
        peak = h.amax(-1)  # h >= 0 and 0 on padding: the max over the real steps
        return self.out(self.dropout(torch.cat([mean, peak], dim=-1)))

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"embed_dim": 8, "hidden": 8}, {"embed_dim": 4, "hidden": 4, "depth": 1, "kernel_size": 3}]

    @classmethod
    def test_spec(cls) -> dict[str, Any]:
        return {"channels": 1, "min_length": 10}

    @classmethod
    def test_input(cls, spec: dict[str, Any], batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """A padded batch as ``pad_collate`` makes it: lengths ``min_length`` to 24."""
        lengths = torch.randint(int(spec["min_length"]), 25, (batch_size,), generator=generator)
        longest = int(lengths.max())
        mask = torch.arange(longest)[None, :] < lengths[:, None]
        values = torch.randn(batch_size, int(spec["channels"]), longest, generator=generator) * mask[:, None, :]
        return {"values": values, "mask": mask}
