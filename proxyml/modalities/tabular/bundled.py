"""Tables bundled with scikit-learn, read offline as ``sklearn:<name>`` (demos and tests).

Each gets an ``id`` column (the row numbers as text) and keeps its label in ``target``.

Example:
    >>> frame = bundled_table("breast_cancer")
    >>> frame.shape, frame["id"].iloc[:2].tolist(), sorted(frame[BUNDLED_TARGET].unique().tolist())
    ((569, 32), ['0', '1'], [0, 1])
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd

from proxyml.errors import DataError
from proxyml.sources import without_scheme

BUNDLED_TABLES = ("breast_cancer", "wine", "iris")
"""Tables shipped inside scikit-learn, readable as ``sklearn:<name>``; the label is ``target``."""
BUNDLED_TARGET = "target"


def bundled_name(name: str) -> str:
    key = name.strip().lower()
    if key not in BUNDLED_TABLES:
        close = difflib.get_close_matches(key, BUNDLED_TABLES, n=1)
        hint = f"did you mean sklearn:{close[0]}? " if close else ""
        raise DataError(f"sklearn:{name}: not a bundled table; {hint}known: {', '.join(BUNDLED_TABLES)}")
    return key


def bundled_table(name: str) -> pd.DataFrame:
    """scikit-learn's bundled table ``name`` with an ``id`` column (row numbers) and ``target``."""
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{bundled_name(name)}")(as_frame=True)
    frame = bunch.frame.copy()
    frame.insert(0, "id", [str(i) for i in range(len(frame))])
    return frame


def read_bundled_labels(name: str) -> pd.DataFrame:
    """``id`` and ``target`` of a bundled table (breast_cancer: 0 = malignant, 1 = benign)."""
    frame = bundled_table(without_scheme(name, "sklearn"))
    return frame[["id", BUNDLED_TARGET]].reset_index(drop=True)


def write_bundled_table(name: str, path: str | Path) -> Path:
    """Export a bundled table (``id``, features, ``target``) to a CSV or Parquet file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = bundled_table(without_scheme(name, "sklearn"))
    if path.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path
