"""Tabular modality: CSV/Parquet reader, an MLP encoder, imputation and corrupted-cell tasks,
and the raw-columns baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from proxyml.csvfile import delimiter_option, encoding_option
from proxyml.data import SampleSet
from proxyml.modalities.tabular import baselines, encoders, tasks
from proxyml.modalities.tabular.bundled import read_bundled_labels
from proxyml.modalities.tabular.io import read_row_numbered_labels, read_table
from proxyml.modality import Modality
from proxyml.params import Params
from proxyml.registry import MODALITIES
from proxyml.sources import scheme_of


class TableReaderParams(Params):
    id_column: str | None = Field(
        None, description="column of unique row ids (default: 'id' if the table has one, else row numbers)"
    )
    categorical: list[str] = Field(default_factory=list, description="columns read as categories")
    numeric: list[str] = Field(
        default_factory=list, description="columns read as numbers (cells that are not numbers: missing)"
    )
    drop: list[str] = Field(default_factory=list, description="columns never used as input")
    max_categories: int = Field(
        64, ge=1, description="per categorical column, the most frequent categories kept; "
        "the rest share the 'unknown' slot"
    )
    delimiter: str = Field(
        ",", description="what separates a CSV's cells: ',' (default), ';', '|', or a tab (\"\\t\" or 'tab')"
    )
    encoding: str = Field("utf-8", description="a CSV's text encoding, e.g. utf-8 (default), latin-1, cp1252")

    _delimiter = field_validator("delimiter")(lambda cls, value: delimiter_option(value))
    _encoding = field_validator("encoding")(lambda cls, value: encoding_option(value))

    @model_validator(mode="after")
    def _disjoint(self) -> TableReaderParams:
        for first, second in (("categorical", "numeric"), ("categorical", "drop"), ("numeric", "drop")):
            both = sorted(set(getattr(self, first)) & set(getattr(self, second)))
            if both:
                raise ValueError(f"column(s) {both} are listed in both {first} and {second}; pick one")
        return self


@MODALITIES.register("tabular")
class TabularModality(Modality[TableReaderParams]):
    """Rows of a table: numeric, categorical and boolean columns, missing values allowed."""

    ReaderParams = TableReaderParams
    default_encoder = "tabular.mlp"
    default_baselines = ("tabular.raw_features",)

    def read(
        self,
        source: str,
        params: TableReaderParams,
        *,
        base_dir: Path | None = None,
        preprocessing: dict[str, Any] | None = None,
        label_columns: tuple[str, ...] = (),
    ) -> SampleSet:
        return read_table(source, **params.model_dump(), base_dir=base_dir, preprocessing=preprocessing,
                          label_columns=label_columns)

    @classmethod
    def write_test_data(cls, folder: Path) -> tuple[str, dict[str, Any]]:
        """Twelve seeded rows: two numeric columns (one with a gap) and a categorical one."""
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        frame = pd.DataFrame({"id": [f"r{i}" for i in range(12)], "a": rng.standard_normal(12),
                              "b": rng.standard_normal(12), "c": rng.choice(["x", "y", "z"], 12)})
        frame.loc[3, "b"] = np.nan
        frame.to_csv(folder / "table.csv", index=False)
        return str(folder / "table.csv"), {}

    def read_label_source(
        self, source: str, params: TableReaderParams, base_dir: Path | None = None, data_source: str | None = None
    ) -> pd.DataFrame | None:
        if scheme_of(source) == "sklearn":
            return read_bundled_labels(source)
        return read_row_numbered_labels(source, params.id_column, base_dir, data_source,
                                        delimiter=params.delimiter, encoding=params.encoding)


__all__ = ["TabularModality", "TableReaderParams", "baselines", "encoders", "tasks"]
