"""Pretext tasks: a synthetic label made for free from unlabeled data.

A :class:`PretextTask` turns a batch of unlabeled samples into ``(inputs, targets)`` using only
the random generator it is given, builds its head on top of an encoder, computes its loss and
gives a per-sample **proxy score**. Most tasks belong to one of the families below; a modality
subclasses a family and writes only the perturbation.

=================  ==========================================  ===============================
family             synthetic label                             proxy score
=================  ==========================================  ===============================
classification     which perturbation was applied              probability of ``score_class``
pairwise_ranking   which of two copies got the larger magnitude the branch's scalar output
reconstruction     the hidden part itself                      reconstruction error
metadata           a free metadata column                      probability of ``positive``
=================  ==========================================  ===============================
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, cast

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import nn

from proxyml.data import batch_size, concat_inputs
from proxyml.errors import DataError
from proxyml.params import P, validate_params
from proxyml.params import Params as ParamsBase

Batch = dict[str, Any]


class PretextTask(ABC, Generic[P]):
    """Base class of every pretext task.

    Class attributes a task sets: ``Params`` (its parameter model), ``modality``, ``family``,
    ``proxy_score_meaning`` (what a high proxy score means, shown in reports), and what it can
    take: ``variable_length`` (batches padded with a mask, ``x = {"values", "mask"}``) and
    ``needs_metadata`` (learns from a metadata column); a recipe pairing it with data it cannot
    take fails when it is loaded. Instances are light (no tensors, no modules) and picklable;
    heads are built by :meth:`build_head`. ``batch["x"]`` is a tensor or a dict of tensors
    (see :mod:`proxyml.data`); the families below work with both.
    """

    Params: ClassVar[type[ParamsBase]] = ParamsBase
    modality: ClassVar[str] = ""
    family: ClassVar[str] = ""
    variable_length: ClassVar[bool] = False
    needs_metadata: ClassVar[bool] = False
    registry_name: ClassVar[str] = ""
    proxy_score_meaning: ClassVar[str] = ""

    params: P

    def __init__(self, **params: Any) -> None:
        self.params = cast(P, validate_params(self.Params, params, "task.params"))

    # -- description -------------------------------------------------------------------------
    @classmethod
    def summary(cls) -> str:
        """The first paragraph of the class docstring, on one line."""
        from proxyml.registry import first_paragraph

        return first_paragraph(cls.__doc__) or cls.__name__

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        """Small parameter sets the conformance suite runs this task with."""
        return [{}]

    @classmethod
    def test_metadata(cls, ids: list[str], params: dict[str, Any]) -> pd.DataFrame | None:
        """Per-sample metadata (indexed by ``ids``) for the conformance suite (default: none)."""
        return None

    def get_params(self) -> dict[str, Any]:
        return self.params.model_dump()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- the contract ------------------------------------------------------------------------
    def prepare(self, dataset: Any) -> None:
        """Learn what the task needs from the unlabeled pool before training (default: nothing)."""

    def get_state(self) -> dict[str, Any]:
        """What :meth:`prepare` learned, as plain JSON-able values (saved in checkpoints)."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned."""

    def uses_randomness(self) -> bool:
        """Whether :meth:`make_batch` depends on its generator (a check verifies it does)."""
        return True

    def check_spec(self, spec: dict[str, Any]) -> None:
        """Raise :class:`DataError` if data described by ``spec`` cannot be used by this task."""

    @abstractmethod
    def make_batch(self, batch: Batch, generator: torch.Generator) -> tuple[Any, torch.Tensor]:
        """Turn ``batch["x"]`` (and ``batch["index"]``) into ``(inputs, targets)``.

        Must draw all randomness from ``generator`` and must not modify ``batch``.
        """

    @abstractmethod
    def build_head(self, embed_dim: int, spec: dict[str, Any]) -> nn.Module:
        """The task-specific layers on top of an encoder with ``embed_dim`` outputs.

        ``spec`` describes the input (e.g. channels and length), as the reader gave it.
        """

    def forward(self, encoder: nn.Module, head: nn.Module, inputs: Any) -> torch.Tensor:
        return head(encoder(inputs))

    @abstractmethod
    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Scalar training loss."""

    @abstractmethod
    def proxy_score(self, encoder: nn.Module, head: nn.Module, batch: Batch) -> torch.Tensor:
        """One scalar per sample of ``batch`` for direct use as a proxy model: ``(B,)``."""

    @property
    def chance_loss(self) -> float | None:
        """The loss of guessing, with nothing learned from the input: a task whose training loss
        stays there taught its encoder nothing. ``None`` where it is not known (reconstruction:
        it depends on the data)."""
        return None

    def embed_input(self, batch: Batch) -> torch.Tensor:
        """What the encoder sees when the model is used as a feature extractor."""
        return batch["x"]


class ClassificationTask(PretextTask[P]):
    """Predict which of ``num_classes`` perturbations was applied (class 0 = unperturbed)."""

    family = "classification"
    score_class: ClassVar[int] = 0

    @property
    @abstractmethod
    def num_classes(self) -> int: ...

    @abstractmethod
    def perturb(self, x: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the perturbed batch and the class index of each sample ``(B,)``."""

    def make_batch(self, batch: Batch, generator: torch.Generator) -> tuple[Any, torch.Tensor]:
        return self.perturb(batch["x"], generator)

    def build_head(self, embed_dim: int, spec: dict[str, Any]) -> nn.Module:
        return nn.Linear(embed_dim, self.num_classes)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(outputs, targets)

    @property
    def chance_loss(self) -> float | None:
        """Cross-entropy of guessing among ``num_classes`` classes drawn equally often: ln(K)."""
        return math.log(self.num_classes)

    def proxy_score(self, encoder: nn.Module, head: nn.Module, batch: Batch) -> torch.Tensor:
        logits = self.forward(encoder, head, batch["x"])
        return logits.softmax(dim=-1)[:, self.score_class]


class PairwiseRankingTask(PretextTask[P]):
    """Siamese ranking: which of two copies got the larger perturbation magnitude.

    Both copies pass through the same encoder and head (shared weights) to a scalar; the loss is
    logistic on the difference, so the scalar learns to grow with the magnitude.
    """

    family = "pairwise_ranking"

    @property
    @abstractmethod
    def magnitude_range(self) -> tuple[float, float]: ...

    @abstractmethod
    def apply(self, x: torch.Tensor, magnitude: torch.Tensor) -> torch.Tensor:
        """Perturb each sample ``x[i]`` with ``magnitude[i]``; magnitude: ``(B,)``."""

    def make_batch(self, batch: Batch, generator: torch.Generator) -> tuple[Any, torch.Tensor]:
        x = batch["x"]
        low, high = self.magnitude_range
        draws = torch.rand((2, batch_size(x)), generator=generator, device=generator.device, dtype=torch.float32)
        first, second = low + (high - low) * draws
        targets = (first > second).float()
        return (self.apply(x, first), self.apply(x, second)), targets

    def build_head(self, embed_dim: int, spec: dict[str, Any]) -> nn.Module:
        return nn.Sequential(nn.Linear(embed_dim, embed_dim), nn.ReLU(), nn.Linear(embed_dim, 1))

    def forward(self, encoder: nn.Module, head: nn.Module, inputs: Any) -> torch.Tensor:
        first, second = inputs
        both = head(encoder(concat_inputs([first, second]))).squeeze(-1)
        size = batch_size(first)
        return both[:size] - both[size:]

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(outputs, targets)

    @property
    def chance_loss(self) -> float | None:
        """Logistic loss of guessing which copy got more: ln(2)."""
        return math.log(2.0)

    def proxy_score(self, encoder: nn.Module, head: nn.Module, batch: Batch) -> torch.Tensor:
        return head(encoder(batch["x"])).squeeze(-1)


class ReconstructionTask(PretextTask[P]):
    """Hide part of each sample and predict it; the proxy score is the reconstruction error."""

    family = "reconstruction"

    @abstractmethod
    def hide(self, x: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(visible_input, hidden_target)``. ``generator=None`` asks for the fixed,
        deterministic hiding used for proxy scores."""

    def make_batch(self, batch: Batch, generator: torch.Generator) -> tuple[Any, torch.Tensor]:
        return self.hide(batch["x"], generator)

    def reconstruction_error(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Per-sample error ``(B,)``; mean squared error by default."""
        return (outputs - targets).pow(2).flatten(1).mean(dim=1)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.reconstruction_error(outputs, targets).mean()

    def proxy_score(self, encoder: nn.Module, head: nn.Module, batch: Batch) -> torch.Tensor:
        visible, hidden = self.hide(batch["x"], None)
        return self.reconstruction_error(self.forward(encoder, head, visible), hidden)


class MetadataParams(ParamsBase):
    column: str
    positive: str | int | float | bool | None = None


class MetadataTask(PretextTask[MetadataParams]):
    """Predict a free metadata column (e.g. call direction) from the sample itself.

    :meth:`prepare` reads ``dataset.metadata[column]`` for every sample, so training batches
    carry their targets through ``batch["index"]``. Samples with a missing value are ignored by
    the loss. The proxy score is the probability of ``positive`` (default: the second of the
    sorted values of a two-valued column).
    """

    family = "metadata"
    Params = MetadataParams
    needs_metadata = True
    classes: list[Any]

    def uses_randomness(self) -> bool:
        return False  # the target is data

    @classmethod
    def test_metadata(cls, ids: list[str], params: dict[str, Any]) -> pd.DataFrame | None:
        """Two alternating values of ``params["column"]``."""
        return pd.DataFrame({params["column"]: ["a", "b"] * (len(ids) // 2) + ["a"] * (len(ids) % 2)},
                            index=pd.Index(ids, name="id"))

    def get_state(self) -> dict[str, Any]:
        return {"classes": list(self.classes)}

    def set_state(self, state: dict[str, Any]) -> None:
        self.classes = list(state.get("classes", []))

    proxy_score_meaning = "probability of the positive metadata value"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.classes = []
        self._targets: torch.Tensor | None = None

    def prepare(self, dataset: Any) -> None:
        column = self.params.column
        metadata = getattr(dataset, "metadata", None)
        if metadata is None or column not in metadata.columns:
            have = [] if metadata is None else list(metadata.columns)
            raise DataError(f"task.params.column: the data has no metadata column {column!r}; has {have}")
        if not metadata.index.is_unique:
            raise DataError(f"task.params.column: the metadata of {dataset.source} repeats ids, "
                            f"e.g. {metadata.index[metadata.index.duplicated()][:5].tolist()}")
        values = metadata[column].reindex(dataset.ids)
        self.classes = sorted(values.dropna().unique().tolist(), key=str)
        if len(self.classes) < 2:
            raise DataError(f"task.params.column: metadata column {column!r} has fewer than 2 values")
        lookup = {value: i for i, value in enumerate(self.classes)}
        codes = np.array([lookup.get(v, -100) if v == v else -100 for v in values], dtype=np.int64)
        self._targets = torch.from_numpy(codes)
        _ = self.score_class  # a `positive` that is not a value of the column fails now, not after training

    @property
    def chance_loss(self) -> float | None:
        """Cross-entropy of always predicting the metadata values' frequencies (their entropy);
        ``None`` before :meth:`prepare`."""
        if self._targets is None:
            return None
        known = self._targets[self._targets >= 0]
        if not len(known):
            return None
        shares = torch.bincount(known).double() / len(known)
        shares = shares[shares > 0]
        return float(-(shares * shares.log()).sum())

    @property
    def score_class(self) -> int:
        positive = self.params.positive
        if positive is None:
            return len(self.classes) - 1
        if positive not in self.classes:
            raise DataError(f"task.params.positive: {positive!r} is not one of {self.classes}")
        return self.classes.index(positive)

    def make_batch(self, batch: Batch, generator: torch.Generator) -> tuple[Any, torch.Tensor]:
        if self._targets is None:
            raise RuntimeError("MetadataTask.prepare(dataset) must run before training")
        return batch["x"], self._targets.to(batch["index"].device)[batch["index"]]

    def build_head(self, embed_dim: int, spec: dict[str, Any]) -> nn.Module:
        return nn.Linear(embed_dim, max(len(self.classes), 2))

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(outputs, targets, ignore_index=-100)

    def proxy_score(self, encoder: nn.Module, head: nn.Module, batch: Batch) -> torch.Tensor:
        return head(encoder(batch["x"])).softmax(dim=-1)[:, self.score_class]


def fixed_orders(k: int, wanted: int | None = None, limit: int = 24) -> list[tuple[int, ...]]:
    """``wanted`` orderings of ``k`` parts (default: all of them, up to ``limit``), the original
    order first: the classes of an ordering task. The choice is fixed by ``k`` (seeded), so the
    same task parameters always mean the same classes.

    Example:
        >>> fixed_orders(3)
        [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
        >>> len(fixed_orders(4, 5)), fixed_orders(4, 5)[0]
        (5, (0, 1, 2, 3))
    """
    import itertools

    wanted = wanted or min(math.factorial(k), limit)
    everything = list(itertools.permutations(range(k)))
    identity, others = everything[0], everything[1:]
    picks = np.random.default_rng(k).choice(len(others), size=wanted - 1, replace=False)
    return [identity] + [others[i] for i in sorted(picks)]


def reorder_segments(values: torch.Tensor, lengths: torch.Tensor, orders: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Each sample of ``values`` (batch first) with the first ``lengths[i]`` steps of ``axis``
    cut into ``k = orders.shape[1]`` segments as :func:`torch.tensor_split` cuts them (the first
    ``lengths[i] % k`` one step longer), put in the order ``orders[i]`` ``(B, k)``; the padding
    stays where it is. The masked form of an ordering task's perturbation (segments of a series
    or a call, frames of a clip).

    Example:
        >>> x = torch.arange(8.0)[None, None, :]
        >>> reorder_segments(x, torch.tensor([7]), torch.tensor([[2, 0, 1]]))[0, 0].tolist()
        [5.0, 6.0, 0.0, 1.0, 2.0, 3.0, 4.0, 7.0]
    """
    axis = axis % values.ndim
    k, steps_total = orders.shape[1], values.shape[axis]
    device = values.device
    lengths, orders = lengths.to(device).long(), orders.to(device).long()
    parts = torch.arange(k, device=device)[None, :]
    sizes = lengths[:, None] // k + (parts < (lengths[:, None] % k)).long()  # (B, k), as tensor_split
    bounds = torch.cat([torch.zeros_like(sizes[:, :1]), sizes.cumsum(1)], dim=1)  # where each segment starts
    placed = torch.cat([torch.zeros_like(sizes[:, :1]), sizes.gather(1, orders).cumsum(1)], dim=1)
    steps = torch.arange(steps_total, device=device)[None, :].expand(len(lengths), -1)  # (B, L)
    slot = (steps[:, :, None] >= placed[:, None, 1:]).sum(-1).clamp_max(k - 1)  # output segment of each step
    source = bounds.gather(1, orders.gather(1, slot)) + steps - placed.gather(1, slot)
    index = torch.where(steps < lengths[:, None], source, steps)
    shape = [values.shape[0]] + [1] * (values.ndim - 1)
    shape[axis] = steps_total
    return values.gather(axis, index.view(shape).expand_as(values))


class OrderParams(ParamsBase):
    """The parameters of an ordering task (:class:`OrderingTask`)."""

    segments: int = Field(3, ge=2, le=8, description="equal segments each sample is cut into")
    permutations: int | None = Field(
        None, ge=2, description="how many orderings to tell apart (the original is one); default: all, up to 24")

    @model_validator(mode="after")
    def _fits(self) -> OrderParams:
        total = math.factorial(self.segments)
        if self.permutations is not None and self.permutations > total:
            raise ValueError(f"permutations={self.permutations} but {self.segments} segments have only {total} orderings")
        return self


class OrderingTask(ClassificationTask[P]):
    """Cut each sample into ``segments`` equal parts along ``order_axis``, put them in one of a
    fixed set of orders (:func:`fixed_orders`; class 0 = as recorded) and predict which. Takes
    plain tensors (every sample its full length) or padded batches ``{"values", "mask"}`` (each
    sample within its own length, :func:`reorder_segments`). ``Params`` must have ``segments``
    and ``permutations`` (:class:`OrderParams`, whose defaults a subclass may change)."""

    order_axis: ClassVar[int] = -1

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        settings = cast(Any, self.params)
        self.orders = fixed_orders(settings.segments, settings.permutations)

    @property
    def num_classes(self) -> int:
        return len(self.orders)

    def perturb(self, x: Any, generator: torch.Generator) -> tuple[Any, torch.Tensor]:
        values, mask = (x["values"], x["mask"]) if isinstance(x, dict) else (x, None)
        batch = values.shape[0]
        classes = torch.randint(self.num_classes, (batch,), generator=generator,
                                device=generator.device).to(values.device)
        lengths = mask.sum(-1) if mask is not None else torch.full(
            (batch,), values.shape[self.order_axis], device=values.device, dtype=torch.long)
        reordered = reorder_segments(values, lengths, torch.tensor(self.orders, device=values.device)[classes],
                                     axis=self.order_axis)
        return ({**x, "values": reordered} if mask is not None else reordered), classes


def create_task(name: str, params: dict[str, Any] | None = None) -> PretextTask:
    """Build the task registered as ``name`` with validated ``params``.

    Example:
        >>> create_task("timeseries.segment_order", {"segments": 3}).num_classes
        6
    """
    from proxyml.registry import TASKS

    return TASKS.get(name)(**(params or {}))
