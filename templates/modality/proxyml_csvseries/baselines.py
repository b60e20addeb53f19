"""The cheap baseline the proxy must beat: a few quantiles of each labelled series.

CHANGE: use the strongest cheap features of your field (MFCC statistics for audio, TF-IDF for
text ...). ``features`` gets the positions of the labelled samples only; decode those, one at a
time or in bounded chunks, never the whole data set at once.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from proxyml.data import SampleSet
from proxyml.modality import Baseline
from proxyml.params import Params
from proxyml.registry import BASELINES

from .io import NAME


class QuantileParams(Params):
    quantiles: tuple[Annotated[float, Field(ge=0.0, le=1.0)], ...] = Field((0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0), min_length=1)


@BASELINES.register(f"{NAME}.quantiles")
class QuantileBaseline(Baseline):
    """Quantiles of the values, the mean absolute step and the log length of each series."""

    Params = QuantileParams
    modality = NAME

    def features(self, dataset: SampleSet, positions: np.ndarray, seed: int) -> np.ndarray:
        quantiles = list(self.params.quantiles)  # type: ignore[attr-defined]
        rows = [np.concatenate([np.quantile(series, quantiles), [np.abs(np.diff(series)).mean(), np.log(len(series))]])
                for series in dataset.raw(positions)]
        return np.asarray(rows, dtype=np.float64).reshape(len(positions), len(quantiles) + 2)
