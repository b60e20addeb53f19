"""An MLP over a table row: numeric values and missing flags, plus one embedding per category column."""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import nn

from proxyml.encoders import Encoder
from proxyml.modalities.tabular.layout import TableLayout, spec_for
from proxyml.params import Params
from proxyml.registry import ENCODERS


class TabularMLPParams(Params):
    embed_dim: int = Field(64, ge=2, le=4096)
    hidden_dim: int = Field(128, ge=2, le=8192)
    depth: int = Field(2, ge=1, le=8, description="number of hidden layers")
    category_dim: int = Field(8, ge=1, le=256, description="size of each category embedding")
    dropout: float = Field(0.1, ge=0.0, lt=1.0)


@ENCODERS.register("tabular.mlp")
class TabularMLP(Encoder[TabularMLPParams]):
    """Numeric values + missing flags + category embeddings -> ``depth`` x (Linear, LayerNorm, ReLU) -> Linear.

    The input is the reader's row vector ``(B, width)`` (see
    :mod:`proxyml.modalities.tabular.layout`). LayerNorm rather than BatchNorm, so a row's
    embedding never depends on the other rows of its batch.

    Example:
        >>> spec = spec_for(["a", "b"], ["c"], [4])
        >>> encoder = TabularMLP(spec, TabularMLPParams(embed_dim=16))
        >>> encoder(torch.zeros(3, spec["width"])).shape
        torch.Size([3, 16])
    """

    Params = TabularMLPParams
    modality = "tabular"

    def __init__(self, spec: dict[str, Any], params: TabularMLPParams) -> None:
        super().__init__(spec, params)
        self.layout = TableLayout.from_spec(spec)
        self.embeddings = nn.ModuleList(nn.Embedding(n, params.category_dim) for n in self.layout.cardinalities)
        width = self.layout.n_numeric + self.layout.n_columns + params.category_dim * self.layout.n_categorical
        layers: list[nn.Module] = []
        for i in range(params.depth):
            layers += [nn.Linear(width if i == 0 else params.hidden_dim, params.hidden_dim),
                       nn.LayerNorm(params.hidden_dim), nn.ReLU(), nn.Dropout(params.dropout)]
        self.body = nn.Sequential(*layers)
        self.projection = nn.Linear(params.hidden_dim, params.embed_dim)
        self.embed_dim = params.embed_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(B, width)`` -> ``(B, embed_dim)``."""
        layout = self.layout
        parts = [x[:, : layout.code_start]]  # numeric values and all missing flags
        codes = layout.codes(x)
        parts += [embedding(codes[:, k]) for k, embedding in enumerate(self.embeddings)]
        return self.projection(self.body(torch.cat(parts, dim=1)))

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"embed_dim": 8, "hidden_dim": 16, "depth": 2, "category_dim": 3}]

    @classmethod
    def test_spec(cls) -> dict[str, Any]:
        return spec_for(["n0", "n1", "n2"], ["c0", "c1"], [4, 3])

    @classmethod
    def test_input(cls, spec: dict[str, Any], batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """Rows with about 20% missing cells, laid out as the reader lays them out."""
        layout = TableLayout.from_spec(spec)
        numeric = torch.randn(batch_size, layout.n_numeric, generator=generator)
        codes = torch.stack([torch.randint(1, n, (batch_size,), generator=generator)
                             for n in layout.cardinalities], dim=1).float()
        missing = torch.rand(batch_size, layout.n_columns, generator=generator) < 0.2
        values = torch.cat([numeric, codes], dim=1).masked_fill(missing, 0.0)
        return layout.with_cells(torch.zeros(batch_size, layout.width), values, missing.float())
