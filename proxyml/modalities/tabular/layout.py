"""How one table row is laid out in the float tensor the reader gives the encoder.

A row of ``N`` numeric and ``K`` categorical input columns is one float32 vector of width
``N + (N + K) + K``:

==========================  =====================================================================
``[0, N)``                  numeric values, standardised with the pool's mean and std; missing = 0
``[N, 2N + K)``             missing-value indicators (1 = missing), numeric columns then categorical
``[2N + K, 2N + 2K)``       category codes as floats: 0 = unknown or missing, ``1..`` = vocabulary
==========================  =====================================================================

Column ``c`` (numeric columns first, then categorical, as in ``spec["columns"]``) keeps its
value in slot ``value_index[c]`` and its missing flag in slot ``missing_index[c]``, so a task can
hide or swap whole cells without knowing the column's type.

Example:
    >>> layout = TableLayout(n_numeric=2, cardinalities=(4,))
    >>> layout.width, layout.value_index.tolist(), layout.missing_index.tolist()
    (6, [0, 1, 5], [2, 3, 4])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

LAYOUT_DESCRIPTION = (
    "numeric values (standardised, missing = 0) | missing indicators (numeric columns, then "
    "categorical) | category codes as floats (0 = unknown or missing, 1.. = vocabulary)"
)


@dataclass(frozen=True)
class TableLayout:
    """Where each column's value and missing flag sit in a row vector.

    Attributes:
        n_numeric: number of numeric input columns ``N``.
        cardinalities: per categorical column, its vocabulary size + 1 (the unknown slot).
    """

    n_numeric: int
    cardinalities: tuple[int, ...]

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> TableLayout:
        return cls(int(spec["n_numeric"]), tuple(int(c) for c in spec["cardinalities"]))

    @property
    def n_categorical(self) -> int:
        return len(self.cardinalities)

    @property
    def n_columns(self) -> int:
        return self.n_numeric + self.n_categorical

    @property
    def width(self) -> int:
        return 2 * self.n_columns

    @property
    def code_start(self) -> int:
        return self.n_numeric + self.n_columns

    @property
    def value_index(self) -> torch.Tensor:
        """``(n_columns,)`` slot of each column's value (numeric value or category code)."""
        numeric = torch.arange(self.n_numeric)
        codes = torch.arange(self.code_start, self.width)
        return torch.cat([numeric, codes])

    @property
    def missing_index(self) -> torch.Tensor:
        """``(n_columns,)`` slot of each column's missing indicator."""
        return torch.arange(self.n_numeric, self.code_start)

    def numeric(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(B, width)`` -> standardised numeric values ``(B, N)``."""
        return x[:, : self.n_numeric]

    def missing(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(B, width)`` -> missing flags ``(B, N + K)`` as booleans."""
        return x[:, self.n_numeric : self.code_start] > 0.5

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(B, width)`` -> category codes ``(B, K)`` as int64, clamped to each vocabulary."""
        codes = x[:, self.code_start :].round().long().clamp_min(0)
        if not self.cardinalities:
            return codes
        limit = torch.tensor(self.cardinalities, device=x.device) - 1
        return torch.minimum(codes, limit)

    def cells(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: ``(B, width)`` -> ``(values, missing)``, each ``(B, n_columns)`` (float)."""
        device = x.device
        return x[:, self.value_index.to(device)], x[:, self.missing_index.to(device)]

    def with_cells(self, x: torch.Tensor, values: torch.Tensor, missing: torch.Tensor) -> torch.Tensor:
        """A copy of ``x: (B, width)`` whose cells are ``values`` and ``missing``: ``(B, n_columns)``."""
        out = x.clone()
        out[:, self.value_index.to(x.device)] = values.to(x.dtype)
        out[:, self.missing_index.to(x.device)] = missing.to(x.dtype)
        return out


def spec_for(numeric: list[str], categorical: list[str], cardinalities: list[int]) -> dict[str, Any]:
    """The ``SampleSet.spec`` of a table with these input columns (JSON-able)."""
    layout = TableLayout(len(numeric), tuple(cardinalities))
    return {
        "n_numeric": len(numeric),
        "n_categorical": len(categorical),
        "cardinalities": list(cardinalities),
        "columns": list(numeric) + list(categorical),
        "width": layout.width,
        "layout": LAYOUT_DESCRIPTION,
    }
