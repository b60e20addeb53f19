"""The notebook-facing verbs on a trained run: :func:`embed` and :func:`score` as DataFrames.

They apply a run's trained model (with its fitted preprocessing) to the run's own data or to new
data, like ``proxyml embed`` / ``proxyml score``, but return the values instead of writing files.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import numpy as np

    from proxyml.data import SampleSet
    from proxyml.pipeline import Outputs

log = logging.getLogger("proxyml")


def _predict(run_dir: str | os.PathLike[str], data: str | os.PathLike[str] | None) -> tuple[SampleSet, Outputs]:
    from proxyml.runs import predict_outputs

    dataset, outputs = predict_outputs(Path(run_dir), None if data is None else str(data))
    for skipped in dataset.skipped:
        log.warning("skipped %s (%s): %s", skipped.id, skipped.source, skipped.reason)
    return dataset, outputs


def _frame(ids: list[str], values: np.ndarray, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(values, columns=list(columns), index=pd.Index(list(ids), name="id", dtype=object))


def embed(run_dir: str | os.PathLike[str], data: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Embeddings from a trained run, one row per sample: index ``id``, columns ``e0, e1, ...``
    (``<task>_e0, ...`` for separately trained tasks), as in the run's ``embeddings.parquet``.

    ``data`` is a data source (a file, a folder, ``sktime:NAME``), read with the run's data
    settings and fitted preprocessing; by default the run's own data. Samples that cannot be read
    are left out, with a warning each.
    """
    dataset, outputs = _predict(run_dir, data)
    return _frame(dataset.ids, outputs.embeddings, outputs.embedding_columns)


def score(run_dir: str | os.PathLike[str], data: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Proxy scores from a trained run, one row per sample: index ``id``, column ``proxy_score``
    (one column per task key for several tasks), as in the run's ``proxy_scores.csv``.

    ``data`` as for :func:`embed`.
    """
    dataset, outputs = _predict(run_dir, data)
    return _frame(dataset.ids, outputs.scores.reshape(len(dataset.ids), -1), outputs.score_columns)
