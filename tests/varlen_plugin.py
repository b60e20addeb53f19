"""A small variable-length, file-backed modality that lives in the tests: the core's real consumer.

A folder of ``.npy`` files, one 1-D series of its own length each, is read by listing the files
and their headers (nothing is decoded then); each sample is decoded from its file when it is
loaded, in DataLoader workers, and batched padded with a mask. A ``metadata.csv`` beside them
(``id`` + columns) gives free metadata. Nothing in ``proxyml/`` knows this module: it registers
itself, as a third-party modality would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from pydantic import Field
from torch import nn

from proxyml.data import SampleSet, SkippedSample
from proxyml.encoders import Encoder
from proxyml.errors import DataError
from proxyml.modality import Baseline, Modality
from proxyml.params import Params
from proxyml.registry import BASELINES, ENCODERS, MODALITIES, TASKS
from proxyml.tasks import ClassificationTask, MetadataTask, PairwiseRankingTask

NAME = "varlen"


class NpyFiles(SampleSet):
    """One ``.npy`` file a sample, decoded when loaded: ``load(i)`` is ``(1, L_i)`` float32."""

    modality = NAME
    variable_length = True
    file_backed = True

    def __init__(self, files: list[Path], lengths: list[int] | None = None, window: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__([f.stem for f in files], **kwargs)
        self.files, self.window = files, window
        self.lengths = None if lengths is None else np.asarray(lengths)

    def load_training(self, index: int, rng: np.random.Generator) -> torch.Tensor:
        """With ``window``: a random window of that many steps (the whole series if shorter)."""
        values = self.load(index)
        if self.window is None or values.shape[-1] <= self.window:
            return values
        start = int(rng.integers(0, values.shape[-1] - self.window + 1))
        return values[..., start:start + self.window]

    def sample_source(self, index: int) -> str:
        return str(self.files[index])

    def load(self, index: int) -> torch.Tensor:
        values = np.load(self.files[index], allow_pickle=False).astype(np.float32)
        values = (values - values.mean()) / (values.std() + 1e-6)
        return torch.from_numpy(values)[None, :]


class VarLenReaderParams(Params):
    metadata: str = Field("metadata.csv", description="a CSV in the folder: id + metadata columns")
    window: int | None = Field(None, ge=4, description="training sees a random window of this many steps")


@MODALITIES.register(NAME)
class VarLenModality(Modality):
    ReaderParams = VarLenReaderParams
    default_encoder = "varlen.masked_conv"
    default_baselines = ("varlen.stats",)
    variable_length = True
    provides_metadata = True

    @classmethod
    def write_test_data(cls, folder: Path) -> tuple[str, dict[str, Any]]:
        return str(write_varlen_folder(folder / "calls", n=12)[0]), {}

    def read(self, source: str, params: Params, *, base_dir: Path | None = None,
             preprocessing: dict[str, Any] | None = None, label_columns: tuple[str, ...] = ()) -> SampleSet:
        folder = Path(source) if base_dir is None or Path(source).is_absolute() else base_dir / source
        if not folder.is_dir():
            raise DataError(f"data.source: {folder} is not a folder of .npy files")
        files, lengths, skipped = [], [], []
        for path in sorted(folder.glob("*.npy")):
            try:  # the header only: a damaged body is found when the sample is decoded
                with open(path, "rb") as handle:
                    major, _ = np.lib.format.read_magic(handle)
                    read_header = np.lib.format.read_array_header_1_0 if major == 1 else \
                        np.lib.format.read_array_header_2_0
                    shape, _, _ = read_header(handle)
                if len(shape) != 1 or shape[0] < 4:
                    raise ValueError(f"expected one series of at least 4 values, got shape {shape}")
                files.append(path)
                lengths.append(int(shape[0]))
            except (ValueError, OSError, EOFError) as exc:
                skipped.append(SkippedSample(path.stem, str(path), f"not a readable .npy ({exc})"))
        metadata_file = folder / params.metadata  # type: ignore[attr-defined]
        metadata = None
        if metadata_file.is_file():
            metadata = pd.read_csv(metadata_file, dtype={"id": str}).set_index("id")
            metadata = metadata.drop(columns=[c for c in label_columns if c in metadata.columns])
        window = params.window  # type: ignore[attr-defined]
        return NpyFiles(files, lengths, window, spec={"channels": 1}, source=str(folder), metadata=metadata,
                        skipped=skipped, notes=[f"Listed {len(files)} .npy files in {folder.name}; each is decoded when used."])


def _masked_mean(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask[:, None, :].to(h.dtype)
    return (h * weights).sum(-1) / weights.sum(-1).clamp_min(1.0)


class MaskedConvParams(Params):
    embed_dim: int = Field(16, ge=2)
    hidden: int = Field(16, ge=2)


@ENCODERS.register("varlen.masked_conv")
class MaskedConv(Encoder):
    """Two 1-D convolutions, then the mean over the real (unpadded) steps."""

    Params = MaskedConvParams
    modality = NAME
    variable_length = True

    def __init__(self, spec: dict[str, Any], params: MaskedConvParams) -> None:
        super().__init__(spec, params)
        self.layers = nn.ModuleList([nn.Conv1d(spec["channels"], params.hidden, 5, padding=2),
                                     nn.Conv1d(params.hidden, params.hidden, 5, padding=2)])
        self.out = nn.Linear(params.hidden, params.embed_dim)
        self.embed_dim = params.embed_dim

    def forward(self, x: dict[str, torch.Tensor]) -> torch.Tensor:
        values, mask = x["values"], x["mask"]
        keep = mask[:, None, :].to(values.dtype)
        h = values * keep
        for layer in self.layers:  # padding set back to 0 after each layer: it never leaks into real steps
            h = torch.relu(layer(h)) * keep
        return self.out(_masked_mean(h, mask))

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"embed_dim": 8, "hidden": 8}]

    @classmethod
    def test_spec(cls) -> dict[str, Any]:
        return {"channels": 1}

    @classmethod
    def test_input(cls, spec: dict[str, Any], batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        lengths = torch.randint(6, 24, (batch_size,), generator=generator)
        mask = torch.arange(24)[None, :] < lengths[:, None]
        values = torch.randn(batch_size, spec["channels"], 24, generator=generator) * mask[:, None, :]
        return {"values": values, "mask": mask}


@ENCODERS.register("varlen.fixed_mlp")
class FixedMLP(Encoder):
    """Takes fixed-length input only: a recipe pairing it with this modality must be refused."""

    Params = MaskedConvParams
    modality = NAME

    def __init__(self, spec: dict[str, Any], params: MaskedConvParams) -> None:
        super().__init__(spec, params)
        self.out = nn.Linear(spec.get("length", 12) * spec["channels"], params.embed_dim)
        self.embed_dim = params.embed_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(x.flatten(1))

    @classmethod
    def test_spec(cls) -> dict[str, Any]:
        return {"channels": 1, "length": 12}

    @classmethod
    def test_input(cls, spec: dict[str, Any], batch_size: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randn(batch_size, 1, 12, generator=generator)


def _reverse_valid(values: torch.Tensor, lengths: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Each row of ``values`` (B, C, L) with ``flip`` set reversed within its first ``lengths`` steps."""
    steps = torch.arange(values.shape[-1], device=values.device)[None, :]
    reversed_index = (lengths[:, None] - 1 - steps).clamp_min(0)
    index = torch.where(flip[:, None] & (steps < lengths[:, None]), reversed_index, steps)
    return values.gather(-1, index[:, None, :].expand_as(values))


@TASKS.register("varlen.reverse")
class ReverseTask(ClassificationTask):
    """Reversed in time or not, within each series' own length (score: probability it is as recorded)."""

    modality = NAME
    variable_length = True
    proxy_score_meaning = "probability that the series runs forwards, as recorded"

    @property
    def num_classes(self) -> int:
        return 2

    def perturb(self, x: Any, generator: torch.Generator) -> tuple[Any, torch.Tensor]:
        values, mask = x["values"], x["mask"]
        flip = torch.rand(values.shape[0], generator=generator, device=generator.device) < 0.5
        reversed_values = _reverse_valid(values, mask.sum(-1), flip.to(values.device))
        return {"values": reversed_values, "mask": mask}, flip.long().to(values.device)


@TASKS.register("varlen.amplitude_rank")
class AmplitudeRankTask(PairwiseRankingTask):
    """Which of two copies was damped more (siamese; score: the branch's scalar)."""

    modality = NAME
    variable_length = True
    proxy_score_meaning = "how damped the series looks"

    @property
    def magnitude_range(self) -> tuple[float, float]:
        return (0.0, 0.9)

    def apply(self, x: Any, magnitude: torch.Tensor) -> Any:
        return {"values": x["values"] * (1.0 - magnitude.to(x["values"].device))[:, None, None], "mask": x["mask"]}


@TASKS.register("varlen.metadata")
class VarLenMetadataTask(MetadataTask):
    """Predict a metadata column from the series (score: probability of the positive value)."""

    modality = NAME
    variable_length = True

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"column": "site"}]


@BASELINES.register("varlen.stats")
class SeriesStats(Baseline):
    """Mean, spread, extremes and length of each labelled series (decoded one at a time)."""

    modality = NAME
    uses: ClassVar[str] = "labelled samples only"

    def features(self, dataset: SampleSet, positions: np.ndarray, seed: int) -> np.ndarray:
        rows = []
        for position in positions:
            values = dataset.load(int(position))[0].numpy()
            rows.append([values.std(), values.min(), values.max(), np.abs(np.diff(values)).mean(), len(values)])
        return np.asarray(rows, dtype=np.float64)


def write_varlen_folder(folder: Path, n: int = 60, seed: int = 0) -> tuple[Path, Path]:
    """``n`` series of lengths 20 to 80 (sine or square waves, half each) as ``.npy`` files,
    ``metadata.csv`` (a free ``site`` column and ``copy``, a copy of the class) and a
    ``labels.csv`` for every other file. Returns the folder and the labels file."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids, kinds = [], []
    for i in range(n):
        length = int(rng.integers(20, 81))
        t = np.linspace(0, 4 * np.pi, length)
        kind = "square" if i % 2 else "sine"
        clean = np.sign(np.sin(t)) if kind == "square" else np.sin(t)
        np.save(folder / f"c{i:03d}.npy", (clean + 0.3 * rng.standard_normal(length)).astype(np.float32))
        ids.append(f"c{i:03d}")
        kinds.append(kind)
    pd.DataFrame({"id": ids, "site": rng.choice(["north", "south"], n), "copy": kinds}).to_csv(
        folder / "metadata.csv", index=False)
    labels = folder.parent / "labels.csv"
    pd.DataFrame({"id": ids[::2] + ids[1::4], "kind": kinds[::2] + kinds[1::4]}).to_csv(labels, index=False)
    return folder, labels
