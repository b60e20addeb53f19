"""Time-series modality: readers, a 1-D conv encoder, two pretext tasks, MiniRocket baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from proxyml.csvfile import delimiter_option, encoding_option
from proxyml.data import SampleSet
from proxyml.modalities.timeseries import baselines, encoders, tasks
from proxyml.modalities.timeseries.io import read_series, read_sktime_labels
from proxyml.modality import Modality
from proxyml.params import Params
from proxyml.registry import MODALITIES
from proxyml.sources import scheme_of, without_scheme


class SeriesReaderParams(Params):
    split: Literal["all", "train", "test"] = Field(
        "all", description="for sktime: sources, which part of the bundled data set to read"
    )
    length: int | None = Field(None, ge=9, description="target length (default: longest / shortest series)")
    length_policy: Literal["pad", "crop"] = "pad"
    normalize: Literal["dataset", "series", "none"] = "dataset"
    id_column: str = "id"
    time_column: str = "time"
    value_columns: list[str] | None = None
    format: Literal["wide", "long"] | None = None
    encoding: str = Field("utf-8", description="text encoding of a .csv table, e.g. latin-1 or utf-8-sig")
    delimiter: str = Field(",", description="what separates a .csv table's cells: ',', ';', '|' or a tab ('tab')")

    _delimiter = field_validator("delimiter")(lambda cls, value: delimiter_option(value))
    _encoding = field_validator("encoding")(lambda cls, value: encoding_option(value))


@MODALITIES.register("timeseries")
class TimeSeriesModality(Modality[SeriesReaderParams]):
    """Univariate or multivariate series ``(C, L)``."""

    ReaderParams = SeriesReaderParams
    default_encoder = "timeseries.conv1d"
    default_baselines = ("timeseries.minirocket",)

    def read(
        self,
        source: str,
        params: SeriesReaderParams,
        *,
        base_dir: Path | None = None,
        preprocessing: dict[str, Any] | None = None,
        label_columns: tuple[str, ...] = (),
    ) -> SampleSet:
        settings = params.model_dump()
        if label_columns and settings["value_columns"] is None:
            settings["exclude_columns"] = list(label_columns)
        return read_series(source, **settings, base_dir=base_dir, preprocessing=preprocessing)

    @classmethod
    def write_test_data(cls, folder: Path) -> tuple[str, dict[str, Any]]:
        """Twelve seeded series of 3 channels and 20 steps as an ``.npz``."""
        folder.mkdir(parents=True, exist_ok=True)
        x = np.random.default_rng(0).standard_normal((12, 3, 20)).astype(np.float32)
        np.savez(folder / "series.npz", X=x, ids=np.array([f"s{i}" for i in range(12)]))
        return str(folder / "series.npz"), {}

    def read_label_source(
        self, source: str, params: SeriesReaderParams, base_dir: Path | None = None, data_source: str | None = None
    ) -> pd.DataFrame | None:
        if scheme_of(source) != "sktime":
            return None
        return read_sktime_labels(without_scheme(source, "sktime"), split=params.split)


__all__ = ["TimeSeriesModality", "SeriesReaderParams", "baselines", "encoders", "tasks"]
