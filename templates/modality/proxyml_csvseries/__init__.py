"""``csvseries``: a folder of ``.csv`` files, each holding one numeric series of any length.

A template for a proxyml modality plugin: a real, working modality that passes every
conformance check. Copy this folder, rename the package and the ``csvseries`` prefix of every
registered name, and change what the ``CHANGE:`` notes in each module say.

Importing the package registers everything (the decorators run at import), which is all an
entry point in the group ``proxyml.modalities`` has to do (see ``../pyproject.toml``):

- modality ``csvseries`` (this module): the reader and the defaults;
- encoder ``csvseries.conv`` (:mod:`.encoders`);
- task ``csvseries.forecast`` (:mod:`.tasks`);
- baseline ``csvseries.quantiles`` (:mod:`.baselines`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from proxyml.data import SampleSet
from proxyml.modality import Modality
from proxyml.params import Params
from proxyml.registry import MODALITIES

from . import baselines, encoders, tasks
from .io import NAME, CsvSeriesFolder, read_folder, write_series_folder


class CsvSeriesReaderParams(Params):
    """``data.params`` of a recipe. CHANGE: the options your reader takes."""

    min_length: int = Field(8, ge=2, description="a file with fewer numbers is skipped (named in skipped)")
    fit_files: int = Field(100, ge=1, description="the normalisation is fitted on the first this many files")


@MODALITIES.register(NAME)
class CsvSeriesModality(Modality):
    """Numeric series, one ``.csv`` file each (one number per line, an optional header line)."""

    ReaderParams = CsvSeriesReaderParams
    default_encoder = f"{NAME}.conv"
    default_baselines = (f"{NAME}.quantiles",)
    variable_length = True  # every encoder and task of a recipe must declare it too
    provides_metadata = False  # CHANGE: True if read() fills SampleSet.metadata (for metadata tasks)

    def read(
        self,
        source: str,
        params: Params,
        *,
        base_dir: Path | None = None,
        preprocessing: dict[str, Any] | None = None,
        label_columns: tuple[str, ...] = (),
    ) -> SampleSet:
        """The folder ``source`` as a :class:`CsvSeriesFolder`. ``label_columns`` cannot occur
        here (a file holds only its series; labels live in their own file), so it is unused.
        CHANGE: a reader of tables must drop ``label_columns`` from what the encoder sees."""
        settings: CsvSeriesReaderParams = params  # type: ignore[assignment]
        return read_folder(source, min_length=settings.min_length, fit_files=settings.fit_files,
                           base_dir=base_dir, preprocessing=preprocessing)

    @classmethod
    def write_test_data(cls, folder: Path) -> tuple[str, dict[str, Any]]:
        """Sixteen series (``s00`` ... ``s15``, 12 to 40 values; even numbers waves, odd numbers
        random walks) in ``folder/series``, read with the default ``data.params``."""
        write_series_folder(folder / "series", n=16)
        return str(folder / "series"), {}

    # read_label_source: the default (None) is right here. Labels are a CSV/Parquet file with an
    # ``id`` column holding the file names without ``.csv``, which the generic reader joins.


__all__ = ["CsvSeriesFolder", "CsvSeriesModality", "CsvSeriesReaderParams", "baselines", "encoders", "tasks"]
