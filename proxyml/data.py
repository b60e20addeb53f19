"""The unlabeled data contract shared by every modality.

A modality's reader turns the user's files into a :class:`SampleSet`: samples with a stable
string ``id``, optional per-sample metadata, and an honest account of what could not be read
(``skipped``) or was changed on the way in (``notes``). Labels are not part of it: they are a
separate, sparse table joined only at evaluation time.

**Batches.** A sample set says how its samples are batched (:meth:`SampleSet.collate`): a batch
is a dict with ``index`` ``(B,)`` (positions in the set) and ``x``, a tensor or a dict of
tensors whose first dimension is the batch (token ids + attention mask; padded values + mask).
Variable-length samples are padded by :func:`pad_collate`: ``x = {"values": (B, ..., L_max),
"mask": (B, L_max)}`` plus ``lengths`` ``(B,)``. A sample that cannot be decoded when it is
loaded (a file damaged after it was listed) is left out of its batch and reported in the batch's
``failed`` list, ``[(index, reason), ...]``, so one bad file never stops an epoch: the trainer
counts it and the run lists it in ``skipped``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from torch.utils.data import Dataset

from proxyml.errors import DataError

log = logging.getLogger(__name__)


class Spec(BaseModel):
    """The typed description of a set's input (:attr:`SampleSet.spec`), what encoders and tasks
    are built and checked against. The keys below are typed and checked when a set is made; a
    modality may add keys of its own (they must be JSON-able: the spec is stored in checkpoints).

    Example:
        >>> Spec.check({"channels": 2, "sample_rate": 8000, "kind": "audio"}, "calls")["channels"]
        2
        >>> Spec.check({"channels": 0}, "calls")
        Traceback (most recent call last):
        ...
        proxyml.errors.DataError: calls: the reader's spec is not valid: channels: Input should be greater than or equal to 1
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str | None = Field(None, description="what a sample is: series, table, audio, video, ...")
    channels: int | None = Field(None, ge=1, description="channels of a sample (its first axis)")
    length: int | None = Field(None, ge=1, description="steps of every sample (fixed-length data)")
    min_length: int | None = Field(None, ge=1, description="the fewest steps a sample has (variable-length data)")
    sample_rate: int | None = Field(None, ge=1, description="samples per second (audio)")
    window: int | None = Field(None, ge=1, description="steps of a training window (audio: samples)")
    frames: int | None = Field(None, ge=1, description="frames of a clip (video)")
    size: int | None = Field(None, ge=1, description="frame height and width in pixels (video, images)")
    n_numeric: int | None = Field(None, ge=0, description="numeric columns (tables)")
    n_categorical: int | None = Field(None, ge=0, description="categorical columns (tables)")

    @classmethod
    def check(cls, spec: dict[str, Any], source: str) -> dict[str, Any]:
        """``spec`` checked against the typed keys and for being JSON-able; raises
        :class:`DataError` naming the set and the key."""
        try:
            cls.model_validate(spec)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise DataError(f"{source}: the reader's spec is not valid: {problems}") from None
        try:
            json.dumps(spec, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{source}: the reader's spec must be JSON-able (it is stored in checkpoints): {exc}") from None
        return dict(spec)


@dataclass
class SkippedSample:
    """A sample (or file, or row) that could not be used, and why."""

    id: str
    source: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "source": self.source, "reason": self.reason}


class SampleSet(Dataset):
    """An unlabeled data set: ``dataset[i]`` is ``{"index": i, "x": tensor}``.

    Subclasses implement :meth:`load` (one sample as a tensor) and may override
    :meth:`raw` (one sample in the form a baseline wants, numpy by default).

    Attributes:
        ids: stable, unique string ids, one per usable sample, in order.
        modality: registry name of the modality that read it.
        spec: what an encoder must know about the input (e.g. ``{"channels": 1, "length": 150}``),
            checked against :class:`Spec` when the set is made.
        metadata: optional per-sample table indexed by id (free columns, e.g. call direction).
        skipped: samples that could not be read, each with its reason.
        notes: human-readable statements of every change made to the data on the way in.
        source: a description of where the data came from.
    """

    modality: str = ""
    variable_length: bool = False
    """Samples differ in length (batched by :func:`pad_collate`); encoders and tasks must accept it."""
    file_backed: bool = False
    """Samples are decoded from files when loaded: worth DataLoader worker processes."""
    decode_errors: tuple[type[BaseException], ...] = (DataError, OSError, ValueError, EOFError)
    """What :meth:`load` raises for a sample it cannot decode (the sample is skipped, not the run)."""
    lengths: np.ndarray | None = None
    """A variable-length set's sample lengths, when the reader knows them without decoding (file
    headers): training then batches samples of similar length (``trainer.bucket_by_length``)."""

    def __init__(
        self,
        ids: Sequence[str],
        *,
        spec: dict[str, Any],
        source: str,
        metadata: pd.DataFrame | None = None,
        skipped: list[SkippedSample] | None = None,
        notes: list[str] | None = None,
    ) -> None:
        ids = [str(i) for i in ids]
        dupes = repeated_ids(ids)
        if dupes:
            raise DataError(
                f"{source}: sample ids must be unique; {len(dupes)} repeat, e.g. {dupes[:5]}"
            )
        self.ids = ids
        self.spec = Spec.check(spec, source)
        self.source = source
        self.metadata = metadata
        self.skipped = list(skipped or [])
        self.notes = list(notes or [])
        self._position = {sample_id: i for i, sample_id in enumerate(ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        """``{"index", "x"}``; a ``(index, seed)`` key (training) asks for :meth:`load_training`."""
        index = key[0] if isinstance(key, tuple) else key
        try:
            if isinstance(key, tuple):
                return {"index": index, "x": self.load_training(index, np.random.default_rng(key[1]))}
            return {"index": index, "x": self.load(index)}
        except self.decode_errors as exc:
            reason = str(exc) or type(exc).__name__
            return {"index": index, "failed": f"cannot be decoded ({type(exc).__name__}: {reason})"}

    def load(self, index: int) -> Any:
        """Sample ``index``: a tensor (or a dict of tensors) in the shape :meth:`collate` batches."""
        raise NotImplementedError

    def load_training(self, index: int, rng: np.random.Generator) -> Any:
        """Sample ``index`` as training sees it (default: :meth:`load`). Override it to show
        training a random part of a long sample (a window of a call, a clip of a video), drawing
        only from ``rng``: it is seeded per (run seed, epoch, sample), in whichever DataLoader
        worker decodes the sample, so reruns and resumed runs see the same parts."""
        return self.load(index)

    def collate(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        """A batch of ``samples`` (from :meth:`__getitem__`): stacked, or padded with a mask
        when :attr:`variable_length`; samples that failed to decode are listed in ``failed``."""
        return pad_collate(samples) if self.variable_length else stack_collate(samples)

    def sample_source(self, index: int) -> str:
        """Where sample ``index`` comes from (its file, for file-backed sets), for skip lists."""
        return self.source

    def origin(self, index: int) -> tuple[SampleSet, int]:
        """The set that holds sample ``index`` itself and its position there: ``(self, index)``,
        or for a subset the underlying set's (a modality's own methods live there)."""
        return self, index

    def without(self, positions: Sequence[int], reasons: Sequence[str]) -> SampleSet:
        """This set less the samples at ``positions``, each listed in ``skipped`` with its reason."""
        drop = {int(p): r for p, r in zip(positions, reasons, strict=True)}
        if not drop:
            return self
        return SubsetSampleSet(self, [i for i in range(len(self)) if i not in drop],
                               [SkippedSample(self.ids[p], self.sample_source(p), r) for p, r in sorted(drop.items())])

    def raw(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Samples ``indices`` stacked as a numpy array (the input of cheap baselines)."""
        return np.stack([self.load(i).numpy() for i in indices])

    def positions(self, ids: Sequence[str]) -> np.ndarray:
        """Row positions of ``ids`` (which must all be present)."""
        return np.array([self._position[str(i)] for i in ids], dtype=np.int64)

    def has_id(self, sample_id: str) -> bool:
        return str(sample_id) in self._position

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "modality": self.modality,
            "n_samples": len(self),
            "spec": self.spec,
            "n_skipped": len(self.skipped),
            "notes": self.notes,
        }


def _split_failed(samples: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    good = [s for s in samples if "failed" not in s]
    return good, [(int(s["index"]), str(s["failed"])) for s in samples if "failed" in s]


def _stack(values: list[Any]) -> Any:
    if isinstance(values[0], dict):
        return {key: _stack([v[key] for v in values]) for key in values[0]}
    return torch.stack([torch.as_tensor(v) for v in values])


def _empty_batch(failed: list[tuple[int, str]]) -> dict[str, Any]:
    return {"index": torch.zeros(0, dtype=torch.long), "x": None, "failed": failed}


def stack_collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Equal-shape samples stacked: ``x`` ``(B, ...)`` (or a dict of such), ``index`` ``(B,)``.

    Example:
        >>> batch = stack_collate([{"index": 0, "x": torch.zeros(2, 3)}, {"index": 1, "failed": "bad"}])
        >>> batch["x"].shape, batch["index"].tolist(), batch["failed"]
        (torch.Size([1, 2, 3]), [0], [(1, 'bad')])
    """
    good, failed = _split_failed(samples)
    if not good:
        return _empty_batch(failed)
    shapes = {tuple(s["x"].shape) for s in good if isinstance(s["x"], torch.Tensor)}
    if len(shapes) > 1:
        raise DataError(f"samples of different shapes {sorted(shapes)[:3]} in one batch: a sample set of "
                        "variable-length samples must set variable_length = True (batched by pad_collate)")
    batch: dict[str, Any] = {"index": torch.as_tensor([s["index"] for s in good], dtype=torch.long),
                             "x": _stack([s["x"] for s in good])}
    if failed:
        batch["failed"] = failed
    return batch


def pad_collate(samples: list[dict[str, Any]], pad_value: float = 0.0, axis: int = -1) -> dict[str, Any]:
    """Samples ``(..., L_i)`` padded at the end of their last axis to the longest of the batch
    (``axis``: another axis of the samples, e.g. the frames of ``(C, T, H, W)`` videos).

    Returns ``{"index": (B,), "x": {"values": (B, ..., L_max), "mask": (B, L_max) bool},
    "lengths": (B,)}`` (``mask`` is True on real steps), plus ``failed`` when a sample failed.

    Example:
        >>> batch = pad_collate([{"index": 0, "x": torch.ones(1, 2)}, {"index": 1, "x": torch.ones(1, 3)}])
        >>> batch["x"]["values"].shape, batch["x"]["mask"].tolist(), batch["lengths"].tolist()
        (torch.Size([2, 1, 3]), [[True, True, False], [True, True, True]], [2, 3])
    """
    good, failed = _split_failed(samples)
    if not good:
        return _empty_batch(failed)
    values = [torch.as_tensor(s["x"]) for s in good]
    axis = axis % values[0].ndim
    lengths = torch.as_tensor([v.shape[axis] for v in values], dtype=torch.long)
    longest = int(lengths.max())
    shape = list(values[0].shape)
    shape[axis] = longest
    padded = values[0].new_full((len(values), *shape), pad_value)
    for row, v in zip(padded, values, strict=True):
        row.narrow(axis, 0, v.shape[axis]).copy_(v)
    mask = torch.arange(longest)[None, :] < lengths[:, None]
    batch: dict[str, Any] = {"index": torch.as_tensor([s["index"] for s in good], dtype=torch.long),
                             "x": {"values": padded, "mask": mask}, "lengths": lengths}
    if failed:
        batch["failed"] = failed
    return batch


def batch_size(x: Any) -> int:
    """The number of samples in a batch's ``x`` (a tensor or a dict of tensors)."""
    if isinstance(x, dict):
        return batch_size(next(iter(x.values())))
    return int(x.shape[0])


def concat_inputs(parts: Sequence[Any]) -> Any:
    """Inputs concatenated along the batch (tensors, or dicts of tensors, padded alike)."""
    if isinstance(parts[0], dict):
        return {key: concat_inputs([p[key] for p in parts]) for key in parts[0]}
    return torch.cat(list(parts))


class SubsetSampleSet(SampleSet):
    """Some samples of another set (the others skipped, e.g. files that failed to decode)."""

    def __init__(self, base: SampleSet, keep: Sequence[int] | np.ndarray, skipped: list[SkippedSample]) -> None:
        keep = list(keep)
        metadata = base.metadata
        ids = [base.ids[i] for i in keep]
        super().__init__(ids, spec=base.spec, source=base.source,
                         metadata=None if metadata is None else metadata.reindex(ids),
                         skipped=base.skipped + skipped, notes=base.notes)
        self.base, self.keep = base, np.asarray(keep, dtype=np.int64)
        self.modality, self.variable_length, self.file_backed = base.modality, base.variable_length, base.file_backed
        self.decode_errors = base.decode_errors
        if base.lengths is not None:
            self.lengths = np.asarray(base.lengths)[self.keep]
        if hasattr(base, "preprocessing"):
            self.preprocessing = base.preprocessing

    def load(self, index: int) -> Any:
        return self.base.load(int(self.keep[index]))

    def load_training(self, index: int, rng: np.random.Generator) -> Any:
        return self.base.load_training(int(self.keep[index]), rng)

    def sample_source(self, index: int) -> str:
        return self.base.sample_source(int(self.keep[index]))

    def origin(self, index: int) -> tuple[SampleSet, int]:
        return self.base.origin(int(self.keep[index]))

    def raw(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.base.raw(self.keep[np.asarray(indices, dtype=np.int64)])

    def collate(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        return self.base.collate(samples)


class ArraySampleSet(SampleSet):
    """A :class:`SampleSet` over one array-like of equal-shape samples ``(n, ...)``.

    The array may be a ``numpy.memmap`` so that large ``.npy`` files are read lazily.
    """

    def __init__(self, array: np.ndarray, ids: Sequence[str], **kwargs: Any) -> None:
        if len(array) != len(ids):
            raise ValueError(f"{len(array)} samples but {len(ids)} ids")
        super().__init__(ids, **kwargs)
        self.array = array

    def load(self, index: int) -> torch.Tensor:
        return torch.as_tensor(np.asarray(self.array[index], dtype=np.float32))

    def raw(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        return np.asarray(self.array[np.asarray(indices)], dtype=np.float32)


@dataclass
class Labels:
    """The few real labels, already binarised and joined to sample ids.

    Attributes:
        ids: ids of labelled samples that exist in the data, in data order.
        y: 0/1 targets aligned with ``ids``.
        positive: the value of the target column counted as the positive class.
        target: the name of the target column.
        unmatched: label ids that match no sample (reported, never silently dropped).
        source: where the labels came from (a file path or e.g. ``sktime:GunPoint``).
        notes: statements about how the labels were read.
    """

    ids: list[str]
    y: np.ndarray
    positive: Any
    target: str
    unmatched: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source: str = ""

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "positive": self.positive.item() if isinstance(self.positive, np.generic) else self.positive,
            "n_labelled": len(self.ids),
            "n_positive": int(self.y.sum()),
            "n_unmatched": len(self.unmatched),
            "unmatched_examples": self.unmatched[:10],
            "notes": self.notes,
        }


def repeated_ids(ids: Sequence[str]) -> list[str]:
    """The ids that occur more than once, in the order they first occur (empty when all are
    unique). Readers that can say more than :class:`SampleSet` (the column, the fix) check
    with it before building the set."""
    if len(set(ids)) == len(ids):
        return []  # the usual case, without a Python loop over the ids
    return [i for i, count in Counter(ids).items() if count > 1]


def labelled_rows(values: np.ndarray, dataset: SampleSet, labels: Labels | None) -> np.ndarray | None:
    """The rows of ``values`` (one per sample of ``dataset``) of the labelled samples, in the
    labels' order; ``None`` without labels."""
    return None if labels is None else values[dataset.positions(labels.ids)]


def id_text(value: Any) -> Any:
    """A sample id as text, the same way everywhere: ``7.0`` (a float id column with a gap)
    becomes ``"7"``; empty stays NaN.

    Example:
        >>> id_text(7.0), id_text("007"), id_text(12)
        ('7', '007', '12')
    """
    if pd.isna(value):
        return np.nan
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)
