"""SampleSet: the samples a reader gives, with unique ids."""

from __future__ import annotations

import numpy as np
import pytest

from proxyml.data import ArraySampleSet
from proxyml.errors import DataError


def test_duplicate_sample_ids_are_a_data_error() -> None:
    with pytest.raises(DataError, match="sample ids must be unique"):
        ArraySampleSet(np.zeros((2, 1, 9)), ["a", "a"], spec={}, source="x")


def test_a_reader_spec_is_typed_and_json_able() -> None:
    x = np.zeros((4, 2, 5), dtype=np.float32)
    ids = ["a", "b", "c", "d"]
    ok = ArraySampleSet(x, ids, spec={"channels": 2, "length": 5, "my_key": [1, 2]}, source="ok.npz")
    assert ok.spec == {"channels": 2, "length": 5, "my_key": [1, 2]}
    with pytest.raises(DataError, match=r"bad.npz: the reader's spec is not valid: channels: Input should be a valid integer"):
        ArraySampleSet(x, ids, spec={"channels": "two"}, source="bad.npz")
    with pytest.raises(DataError, match="must be JSON-able"):
        ArraySampleSet(x, ids, spec={"channels": 2, "scale": float("nan")}, source="nan.npz")
