"""Tabular pretext tasks: impute hidden cells, and spot cells swapped in from other rows.

Both work on whole cells of the reader's row layout (:mod:`proxyml.modalities.tabular.layout`):
a cell is a column's value slot together with its missing flag, so hiding a cell makes it look
exactly like a missing one, and a swapped cell carries its donor's missing flag along.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from proxyml.errors import DataError
from proxyml.modalities.tabular.layout import TableLayout
from proxyml.params import P, Params
from proxyml.registry import TASKS
from proxyml.tasks import Batch, PretextTask, ReconstructionTask


class CellTask(PretextTask[P]):
    """Shared by the tabular tasks: the row layout, learned from the data's spec in :meth:`prepare`
    and saved in checkpoints (``get_state``), so batches can be cut into cells."""

    modality = "tabular"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._layout: TableLayout | None = None

    @property
    def layout(self) -> TableLayout:
        if self._layout is None:
            raise RuntimeError(f"{type(self).__name__}.prepare(dataset) must run before its batches")
        return self._layout

    def check_spec(self, spec: dict[str, Any]) -> None:
        columns = int(spec["n_numeric"]) + int(spec["n_categorical"])
        if columns < 2:
            raise DataError(f"task.name: {self.registry_name} needs at least 2 input columns (it "
                            f"predicts cells from the rest of the row); the data has {columns}")

    def prepare(self, dataset: Any) -> None:
        self._layout = TableLayout.from_spec(dataset.spec)

    def get_state(self) -> dict[str, Any]:
        layout = self.layout
        return {"n_numeric": layout.n_numeric, "cardinalities": list(layout.cardinalities)}

    def set_state(self, state: dict[str, Any]) -> None:
        self._layout = TableLayout.from_spec(state)


class ImputationParams(Params):
    fraction: float = Field(0.15, gt=0.0, lt=1.0,
                            description="fraction of each row's observed cells hidden per training step")


@TASKS.register("tabular.imputation")
class ImputationTask(CellTask[ImputationParams], ReconstructionTask[ImputationParams]):
    """Hide random observed cells and reconstruct them (score: the row's reconstruction error)."""

    Params = ImputationParams
    proxy_score_meaning = (
        "mean reconstruction error of the row's observed cells, each hidden in turn (squared error "
        "in standard deviations for numbers, cross-entropy for categories): high = unusual row"
    )

    def build_head(self, embed_dim: int, spec: dict[str, Any]) -> nn.Module:
        layout = TableLayout.from_spec(spec)
        return nn.Linear(embed_dim, layout.n_numeric + sum(layout.cardinalities))

    def _hide_mask(self, observed: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """``(B, C)``: ``max(1, round(fraction * observed))`` random observed cells of each row."""
        keys = torch.rand(observed.shape, generator=generator, device=observed.device)
        keys = keys.masked_fill(~observed, 2.0)  # never pick a cell that is already missing
        ranks = keys.argsort(dim=1).argsort(dim=1)
        count = observed.sum(dim=1, keepdim=True)
        wanted = (self.params.fraction * count).round().clamp_min(1).minimum(count)
        return ranks < wanted

    def hide(self, x: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """x: ``(B, width)`` -> visible rows ``(B, width)`` and targets ``(B, 2, width)``.

        The targets stack the original rows and a flag per slot of the hidden cells' value slots.
        ``generator=None`` hides the first of the fixed column folds (see :meth:`proxy_score`).
        """
        layout = self.layout
        observed = layout.cells(x)[1] < 0.5
        if generator is None:
            hidden = observed & (self._folds(layout, x.device) == 0)
        else:
            hidden = self._hide_mask(observed, generator)
        return self._apply(layout, x, hidden)

    def _apply(self, layout: TableLayout, x: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        values, missing = layout.cells(x)
        visible = layout.with_cells(x, values.masked_fill(hidden, 0.0), missing.masked_fill(hidden, 1.0))
        flags = torch.zeros_like(x)
        flags[:, layout.value_index.to(x.device)] = hidden.to(x.dtype)
        return visible, torch.stack([x, flags], dim=1)

    def cell_errors(self, outputs: torch.Tensor, x: torch.Tensor, layout: TableLayout) -> torch.Tensor:
        """``(B, C)`` error of every cell: squared error (numbers), cross-entropy (categories)."""
        n = layout.n_numeric
        errors = [(outputs[:, :n] - layout.numeric(x)).pow(2)]
        codes, start = layout.codes(x), n
        for k, size in enumerate(layout.cardinalities):
            logits = outputs[:, start : start + size]
            errors.append(F.cross_entropy(logits, codes[:, k], reduction="none")[:, None])
            start += size
        return torch.cat(errors, dim=1)

    def reconstruction_error(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Per row, the mean error over its hidden cells ``(B,)`` (0 for a row with none)."""
        errors, hidden = self._hidden_errors(outputs, targets)
        return (errors * hidden).sum(dim=1) / hidden.sum(dim=1).clamp_min(1)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        errors, hidden = self._hidden_errors(outputs, targets)
        return (errors * hidden).sum() / hidden.sum().clamp_min(1)

    def _hidden_errors(self, outputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, flags = targets[:, 0], targets[:, 1]
        layout = self.layout
        hidden = flags[:, layout.value_index.to(x.device)]
        return self.cell_errors(outputs, x, layout), hidden

    def _folds(self, layout: TableLayout, device: torch.device) -> torch.Tensor:
        """``(C,)`` fold of each column: ``ceil(1 / fraction)`` folds, assigned round robin."""
        passes = min(layout.n_columns, math.ceil(1 / self.params.fraction))
        return torch.arange(layout.n_columns, device=device) % passes

    def proxy_score(self, encoder: nn.Module, head: nn.Module, batch: Batch) -> torch.Tensor:
        """Each fold of columns is hidden once; every observed cell's error counts once ``(B,)``.

        Independent of the batch and of any randomness: the same row always gets the same score.
        """
        x = batch["x"]
        layout = self.layout
        observed = layout.cells(x)[1] < 0.5
        folds = self._folds(layout, x.device)
        total = torch.zeros(x.shape[0], device=x.device)
        for fold in range(int(folds.max()) + 1):
            hidden = observed & (folds == fold)
            visible, _ = self._apply(layout, x, hidden)
            errors = self.cell_errors(self.forward(encoder, head, visible), x, layout)
            total = total + (errors * hidden).sum(dim=1)
        return total / observed.sum(dim=1).clamp_min(1)

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"fraction": 0.4}]


class CorruptedCellsParams(Params):
    fraction: float = Field(0.15, gt=0.0, lt=1.0,
                            description="probability that a cell is replaced by another row's cell")


@TASKS.register("tabular.corrupted_cells")
class CorruptedCellsTask(CellTask[CorruptedCellsParams]):
    """Replace random cells with the same column's cell from other rows; predict which (score: mean predicted corruption)."""

    Params = CorruptedCellsParams
    family = "classification"
    proxy_score_meaning = (
        "mean predicted probability that the row's cells were swapped in from other rows: "
        "high = the row's values do not fit together (a data-quality signal)"
    )

    def corrupt(self, x: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """x: ``(B, width)`` -> corrupted copy ``(B, width)`` and targets ``(B, C)`` (float 0/1).

        Each cell is replaced with probability ``fraction`` by the cell of the same column in
        another row of the batch (value and missing flag together). A replacement that happens to
        hold the same content as the original is not a corruption, so its target is 0.
        """
        layout, rows = self.layout, x.shape[0]
        values, missing = layout.cells(x)
        replace = torch.rand(values.shape, generator=generator, device=x.device) < self.params.fraction
        # donor row = own row + an offset in [1, B): always another row of the batch
        offsets = torch.randint(1, max(rows, 2), values.shape, generator=generator, device=x.device)
        donors = (torch.arange(rows, device=x.device)[:, None] + offsets) % rows
        donor_values, donor_missing = values.gather(0, donors), missing.gather(0, donors)
        changed = replace & ((donor_values != values) | (donor_missing != missing))
        corrupted = layout.with_cells(x, torch.where(changed, donor_values, values),
                                      torch.where(changed, donor_missing, missing))
        return corrupted, changed.to(x.dtype)

    def make_batch(self, batch: Batch, generator: torch.Generator) -> tuple[Any, torch.Tensor]:
        return self.corrupt(batch["x"], generator)

    def build_head(self, embed_dim: int, spec: dict[str, Any]) -> nn.Module:
        return nn.Linear(embed_dim, TableLayout.from_spec(spec).n_columns)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(outputs, targets)

    def proxy_score(self, encoder: nn.Module, head: nn.Module, batch: Batch) -> torch.Tensor:
        return self.forward(encoder, head, batch["x"]).sigmoid().mean(dim=1)

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"fraction": 0.5}]
