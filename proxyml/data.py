"""The unlabeled data contract shared by every modality.

A modality's reader turns the user's files into a :class:`SampleSet`: samples with a stable
string ``id``, optional per-sample metadata, and an honest account of what could not be read
(``skipped``) or was changed on the way in (``notes``). Labels are not part of it: they are a
separate, sparse table joined only at evaluation time.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from proxyml.errors import DataError

log = logging.getLogger(__name__)


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
        spec: what an encoder must know about the input (e.g. ``{"channels": 1, "length": 150}``).
        metadata: optional per-sample table indexed by id (free columns, e.g. call direction).
        skipped: samples that could not be read, each with its reason.
        notes: human-readable statements of every change made to the data on the way in.
        source: a description of where the data came from.
    """

    modality: str = ""

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
        if len(set(ids)) != len(ids):
            dupes = [i for i, count in Counter(ids).items() if count > 1]
            raise DataError(
                f"{source}: sample ids must be unique; {len(dupes)} repeat, e.g. {dupes[:5]}"
            )
        self.ids = ids
        self.spec = dict(spec)
        self.source = source
        self.metadata = metadata
        self.skipped = list(skipped or [])
        self.notes = list(notes or [])
        self._position = {sample_id: i for i, sample_id in enumerate(ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"index": index, "x": self.load(index)}

    def load(self, index: int) -> torch.Tensor:
        raise NotImplementedError

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
