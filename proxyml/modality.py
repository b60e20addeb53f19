"""The modality plugin contract.

A modality is one folder under ``proxyml/modalities`` (or a third-party package published under
the ``proxyml.modalities`` entry point group) that registers a :class:`Modality` subclass in
:data:`proxyml.registry.MODALITIES`, plus its encoders, tasks and baselines.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Generic, cast

import numpy as np
import pandas as pd

from proxyml.data import SampleSet
from proxyml.params import P, validate_params
from proxyml.params import Params as ParamsBase
from proxyml.registry import BASELINES, MODALITIES


class Modality(ABC, Generic[P]):
    """How a modality reads data and which encoder and baselines it uses by default.

    Attributes:
        ReaderParams: the parameter model of ``data.params`` in a recipe.
        default_encoder: registry name of the encoder used when a recipe names none.
        default_baselines: registry names of the cheap strong baselines evaluated by default.
        variable_length: the reader's samples vary in length (encoders and tasks must declare
            they take it; checked when a recipe is loaded).
        provides_metadata: the reader gives per-sample metadata (``SampleSet.metadata``) that
            metadata tasks can learn from.
    """

    ReaderParams: ClassVar[type[ParamsBase]] = ParamsBase
    variable_length: ClassVar[bool] = False
    provides_metadata: ClassVar[bool] = False
    default_encoder: ClassVar[str] = ""
    default_baselines: ClassVar[tuple[str, ...]] = ()
    path_params: ClassVar[tuple[str, ...]] = ()
    """``data.params`` keys that hold file paths (relative to the recipe): a run's saved recipe
    stores them absolute, so that ``embed``/``score``/``evaluate`` find them from anywhere."""
    registry_name: ClassVar[str] = ""

    def reader_params(self, params: dict[str, Any] | None) -> P:
        return cast(P, validate_params(self.ReaderParams, params, "data.params"))

    @abstractmethod
    def read(
        self,
        source: str,
        params: P,
        *,
        base_dir: Path | None = None,
        preprocessing: dict[str, Any] | None = None,
        label_columns: tuple[str, ...] = (),
    ) -> SampleSet:
        """Read ``source`` into a :class:`SampleSet`.

        ``preprocessing`` is the ``SampleSet.preprocessing`` of the data a model was trained on;
        when given, the reader applies it instead of fitting new statistics.
        ``label_columns`` are columns that hold the real labels (the recipe's ``labels.target``):
        a reader of tables must never feed them to the encoder.
        """

    @classmethod
    def write_test_data(cls, folder: Path) -> tuple[str, dict[str, Any]]:
        """Write a small data set into ``folder`` for the conformance suite; return the source
        and the ``data.params`` to read it with."""
        raise NotImplementedError(f"{cls.__name__} must define write_test_data() for the conformance suite")

    def read_label_source(
        self, source: str, params: P, base_dir: Path | None = None,
        data_source: str | None = None,
    ) -> pd.DataFrame | None:
        """Labels the generic CSV/Parquet reader cannot join by itself: a source that is not a
        file (e.g. ``sktime:GunPoint``), or the data file itself when the reader made up its ids
        (row numbers). ``data_source`` is the data's ``SampleSet.source``. Return a table with an
        ``id`` column, or ``None`` to use the generic reader.
        """
        return None


    def preview(self, dataset: SampleSet, position: int) -> str | None:
        """A small self-contained HTML view of sample ``position`` for the report (an audio
        player, a filmstrip), shown beside the highest- and lowest-scored samples; ``None``
        (the default) when the modality has none."""
        return None


class Baseline(ABC, Generic[P]):
    """A cheap, strong feature extractor to compare the proxy model's embeddings against."""

    Params: ClassVar[type[ParamsBase]] = ParamsBase
    modality: ClassVar[str] = ""
    registry_name: ClassVar[str] = ""

    params: P

    def __init__(self, **params: Any) -> None:
        self.params = cast(P, validate_params(self.Params, params, "evaluate.baselines"))

    @abstractmethod
    def features(self, dataset: SampleSet, positions: np.ndarray, seed: int) -> np.ndarray:
        """Features ``(len(positions), d)`` of the samples at ``positions``.

        May look at the whole unlabeled ``dataset`` (never at labels) to fit itself.
        """


def get_modality(name: str) -> Modality:
    return MODALITIES.get(name)()


def create_baseline(name: str, params: dict[str, Any] | None = None) -> Baseline:
    return BASELINES.get(name)(**(params or {}))
