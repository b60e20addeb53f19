"""SampleSet: the samples a reader gives, with unique ids."""

from __future__ import annotations

import numpy as np
import pytest

from proxyml.data import ArraySampleSet
from proxyml.errors import DataError


def test_duplicate_sample_ids_are_a_data_error() -> None:
    with pytest.raises(DataError, match="sample ids must be unique"):
        ArraySampleSet(np.zeros((2, 1, 9)), ["a", "a"], spec={}, source="x")
