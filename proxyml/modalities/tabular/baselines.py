"""Raw columns: the cheap, strong baseline for tables.

The reader's standardised numeric values and missing-value indicators, plus each categorical
column one-hot encoded (unknown/missing slot included). The evaluator fits the same
standardised logistic-regression probe on them as on every other method, on the same draws.
"""

from __future__ import annotations

import numpy as np

from proxyml.data import SampleSet
from proxyml.modalities.tabular.layout import TableLayout
from proxyml.modality import Baseline
from proxyml.registry import BASELINES


def raw_features(rows: np.ndarray, layout: TableLayout) -> np.ndarray:
    """rows: ``(n, width)`` in the reader's layout -> ``(n, N + (N + K) + sum(cardinalities))``.

    Example:
        >>> layout = TableLayout(n_numeric=1, cardinalities=(3,))
        >>> raw_features(np.array([[0.5, 0.0, 0.0, 2.0]]), layout).tolist()
        [[0.5, 0.0, 0.0, 0.0, 0.0, 1.0]]
    """
    codes = np.clip(np.rint(rows[:, layout.code_start :]).astype(np.int64), 0, None)
    one_hot = [np.eye(size)[np.minimum(codes[:, k], size - 1)] for k, size in enumerate(layout.cardinalities)]
    return np.concatenate([rows[:, : layout.code_start], *one_hot], axis=1).astype(np.float64)


@BASELINES.register("tabular.raw_features")
class RawFeaturesBaseline(Baseline):
    """Standardised numbers + missing indicators + one-hot categories, straight from the reader."""

    modality = "tabular"

    def features(self, dataset: SampleSet, positions: np.ndarray, seed: int) -> np.ndarray:
        return raw_features(dataset.raw(positions), TableLayout.from_spec(dataset.spec))
