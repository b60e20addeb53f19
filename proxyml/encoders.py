"""The encoder contract: ``forward(x) -> (B, embed_dim)``.

Each modality registers its encoders in :data:`proxyml.registry.ENCODERS`. An encoder is
built from the data's ``spec`` (what the reader learned about the input, e.g. the number of
channels) and its validated parameters.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic

import torch
from torch import nn

from proxyml.params import P, validate_params
from proxyml.params import Params as ParamsBase
from proxyml.registry import ENCODERS


class Encoder(nn.Module, Generic[P]):
    """Base class of encoders.

    Subclasses set ``Params`` (a :class:`proxyml.params.Params` model), ``modality`` and
    ``embed_dim``, and implement :meth:`forward`. Encoders with per-position outputs (time
    steps, tokens) also implement :meth:`forward_sequence`. An encoder that takes padded
    variable-length batches (``x = {"values": ..., "mask": ...}``) sets ``variable_length``,
    and ``mask_axis`` when the mask does not run along the last axis of ``values`` (the frames
    of ``(B, C, T, H, W)`` video: 2).
    """

    Params: ClassVar[type[ParamsBase]] = ParamsBase
    modality: ClassVar[str] = ""
    variable_length: ClassVar[bool] = False
    mask_axis: ClassVar[int] = -1
    registry_name: ClassVar[str] = ""
    embed_dim: int

    def __init__(self, spec: dict[str, Any], params: P) -> None:
        super().__init__()
        self.spec = dict(spec)
        self.params = params

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        """Small parameter sets the conformance suite builds this encoder with."""
        return [{}]

    @classmethod
    def test_spec(cls) -> dict[str, Any]:
        """A small input spec for the conformance suite."""
        raise NotImplementedError(f"{cls.__name__} must define test_spec() for the test suite")

    @classmethod
    def test_input(cls, spec: dict[str, Any], batch_size: int, generator: torch.Generator) -> Any:
        """A random input batch ``x`` matching ``spec`` (a tensor, or a dict of tensors), for the
        conformance suite."""
        raise NotImplementedError(f"{cls.__name__} must define test_input() for the test suite")

    def forward_sequence(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no per-position output")


def masked_mean_max(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per sample, the mean and the max of ``h`` ``(B, D, L)`` over the steps where ``mask``
    ``(B, L)`` is True, side by side: ``(B, 2 D)``; padded steps count in neither, and a sample
    with no real step pools to zeros."""
    weights = mask[:, None, :].to(h.dtype)
    mean = (h * weights).sum(-1) / weights.sum(-1).clamp_min(1.0)
    peak = h.masked_fill(~mask[:, None, :], float("-inf")).amax(-1)
    return torch.cat([mean, torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))], dim=-1)


def create_encoder(name: str, spec: dict[str, Any], params: dict[str, Any] | None = None) -> Encoder:
    """Build the encoder registered as ``name`` for inputs described by ``spec``."""
    cls = ENCODERS.get(name)
    return cls(spec, validate_params(cls.Params, params, "encoder.params"))
