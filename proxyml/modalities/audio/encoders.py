"""A small CNN over log-mel frames, computed inside the model (on the GPU when there is one)."""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import nn

from proxyml.encoders import Encoder, masked_mean_max
from proxyml.params import Params
from proxyml.registry import ENCODERS

NAME = "audio"


class LogMelCNNParams(Params):
    embed_dim: int = Field(64, ge=2, le=4096, description="size of a call's embedding")
    n_mels: int = Field(40, ge=8, le=256, description="mel bands of the log-mel spectrogram")
    frame_ms: float = Field(32.0, gt=4, le=200, description="STFT window length in milliseconds")
    hop_ms: float = Field(10.0, gt=1, le=100, description="step between frames in milliseconds")
    hidden: int = Field(64, ge=4, le=1024, description="channels of the convolutions")
    depth: int = Field(3, ge=1, le=8, description="convolution blocks; each after the first halves the frame rate")
    kernel_size: int = Field(5, ge=1, le=31, description="frames each convolution sees (odd)")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="dropout before the projection")


def _downsample(mask: torch.Tensor) -> torch.Tensor:
    """The mask of a stride-2 convolution's output (same padding): every other frame."""
    return mask[:, ::2]


class _FrameNorm(nn.Module):
    """LayerNorm over channels at each frame: no statistic mixes frames, so padding cannot leak."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.norm(h.transpose(1, 2)).transpose(1, 2)


@ENCODERS.register("audio.logmel_cnn")
class LogMelCNN(Encoder[LogMelCNNParams]):
    """Log-mel spectrogram (torchaudio), masked 1-D convolutions over frames, mean + max pooling.

    Takes padded batches ``{"values": (B, C, L), "mask": (B, L)}`` of waveforms at
    ``spec["sample_rate"]``. Frames are computed without centring, and a frame counts only if it
    lies wholly inside the recording, so an embedding does not depend on the padding of its
    batch; every convolution's output is masked again. The spectrogram is computed in float32
    even under mixed precision.

    Example:
        >>> encoder = LogMelCNN({"channels": 1, "sample_rate": 8000}, LogMelCNNParams(embed_dim=16))
        >>> x = {"values": torch.zeros(2, 1, 8000), "mask": torch.ones(2, 8000, dtype=torch.bool)}
        >>> encoder(x).shape
        torch.Size([2, 16])
    """

    Params = LogMelCNNParams
    modality = NAME
    variable_length = True

    def __init__(self, spec: dict[str, Any], params: LogMelCNNParams) -> None:
        super().__init__(spec, params)
        import torchaudio

        rate = int(spec["sample_rate"])
        self.channels = int(spec["channels"])
        self.n_fft = max(16, int(round(params.frame_ms / 1000 * rate)))
        self.hop = max(1, int(round(params.hop_ms / 1000 * rate)))
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=rate, n_fft=self.n_fft, hop_length=self.hop, n_mels=params.n_mels, center=False,
            power=2.0, f_min=20.0, f_max=rate / 2)
        kernel = params.kernel_size | 1
        layers: list[nn.Module] = []
        width = self.channels * params.n_mels
        for i in range(params.depth):
            layers.append(nn.Conv1d(width if i == 0 else params.hidden, params.hidden, kernel,
                                    stride=1 if i == 0 else 2, padding=kernel // 2))
        self.convs = nn.ModuleList(layers)
        self.norms = nn.ModuleList([_FrameNorm(params.hidden) for _ in layers])
        self.dropout = nn.Dropout(params.dropout)
        self.projection = nn.Linear(2 * params.hidden, params.embed_dim)
        self.embed_dim = params.embed_dim

    def frames(self, values: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-mel frames ``(B, C * n_mels, T)`` and their mask ``(B, T)``."""
        if values.shape[-1] < self.n_fft:  # shorter than one frame: pad, the mask keeps one frame
            values = nn.functional.pad(values, (0, self.n_fft - values.shape[-1]))
        with torch.autocast(device_type=values.device.type, enabled=False):
            power = self.mel(values.float())  # (B, C, n_mels, T)
        logmel = (torch.log(power + 1e-6) + 5.0) / 5.0
        batch, channels, mels, steps = logmel.shape
        valid = ((lengths - self.n_fft) // self.hop + 1).clamp_min(1)
        mask = torch.arange(steps, device=values.device)[None, :] < valid[:, None]
        return logmel.reshape(batch, channels * mels, steps), mask

    def frame_features(self, x: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-frame features ``(B, hidden, T')`` and their mask ``(B, T')``."""
        values, mask = x["values"], x["mask"]
        h, frame_mask = self.frames(values * mask[:, None, :].to(values.dtype), mask.sum(-1))
        h = h * frame_mask[:, None, :].to(h.dtype)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            if i > 0:
                frame_mask = _downsample(frame_mask)
            h = torch.relu(norm(conv(h)))
            h = h * frame_mask[:, None, : h.shape[-1]].to(h.dtype)  # padded frames stay 0
            frame_mask = frame_mask[:, : h.shape[-1]]
        return h, frame_mask

    def forward(self, x: dict[str, torch.Tensor]) -> torch.Tensor:
        h, mask = self.frame_features(x)
        return self.projection(self.dropout(masked_mean_max(h, mask)))

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"embed_dim": 8, "n_mels": 16, "hidden": 8, "depth": 2}]

    @classmethod
    def test_spec(cls) -> dict[str, Any]:
        return {"channels": 1, "sample_rate": 4000, "window": 2000, "kind": "audio"}

    @classmethod
    def test_input(cls, spec: dict[str, Any], batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        longest = int(spec["window"])
        lengths = torch.randint(longest // 2, longest + 1, (batch_size,), generator=generator)
        mask = torch.arange(longest)[None, :] < lengths[:, None]
        t = torch.arange(longest) / spec["sample_rate"]
        pitch = 100 + 300 * torch.rand(batch_size, 1, 1, generator=generator)
        values = 0.3 * torch.sin(2 * torch.pi * pitch * t) + 0.05 * torch.randn(
            batch_size, spec["channels"], longest, generator=generator)
        return {"values": values * mask[:, None, :], "mask": mask}
