"""MiniRocket features from sktime: the cheap, strong baseline for series classification."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from proxyml.data import SampleSet
from proxyml.modality import Baseline
from proxyml.params import Params
from proxyml.registry import BASELINES


class MiniRocketParams(Params):
    num_kernels: int = Field(10_000, ge=84, description="number of random convolution kernels")
    max_fit_samples: int = Field(
        2_000, ge=1, description="MiniRocket's biases are fitted on at most this many unlabeled series"
    )


@BASELINES.register("timeseries.minirocket")
class MiniRocketBaseline(Baseline[MiniRocketParams]):
    """MiniRocket (Dempster et al., 2021) fitted on the unlabeled pool, via sktime."""

    Params = MiniRocketParams
    modality = "timeseries"

    def features(self, dataset: SampleSet, positions: np.ndarray, seed: int) -> np.ndarray:
        from sktime.transformations.rocket import MiniRocketMultivariate

        params = self.params
        rng = np.random.default_rng(seed)
        fit_size = min(len(dataset), params.max_fit_samples)
        fit_positions = np.sort(rng.choice(len(dataset), size=fit_size, replace=False))
        transform = MiniRocketMultivariate(num_kernels=params.num_kernels, random_state=seed)
        transform.fit(dataset.raw(fit_positions).astype(np.float64))
        return np.asarray(transform.transform(dataset.raw(positions).astype(np.float64)), dtype=np.float64)
