"""Read the few real labels and join them to sample ids (at evaluation time only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from proxyml.data import Labels, SampleSet
from proxyml.errors import LabelError
from proxyml.modality import Modality
from proxyml.params import Params


def read_label_table(source: str, base_dir: Path | None = None) -> pd.DataFrame:
    """A CSV or Parquet file of labels (relative paths resolve against ``base_dir``)."""
    path = Path(source)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise FileNotFoundError(f"labels.source: file not found: {path}")
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    if path.suffix.lower() in {".csv", ".txt"}:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=True)
        except pd.errors.EmptyDataError:
            raise LabelError(f"labels.source: {path} is empty") from None
    raise LabelError(f"labels.source: {path}: expected a .csv or .parquet file")


def binarize(values: pd.Series, positive: Any, target: str) -> tuple[np.ndarray, Any, list[str]]:
    """0/1 targets from a column, and the value counted as positive (chosen if not given)."""
    notes: list[str] = []
    as_text = values.astype(str)
    distinct = sorted(as_text.unique())
    if positive is None:
        if set(distinct) <= {"0", "1"} or set(distinct) <= {"False", "True"}:
            positive = "1" if "1" in distinct or "0" in distinct else "True"
        elif len(distinct) == 2:
            positive = distinct[-1]
            notes.append(
                f"labels.positive is not set: counting {positive!r} as the positive class "
                f"(values: {', '.join(map(repr, distinct))}); set labels.positive to choose"
            )
        else:
            shown = ", ".join(map(repr, distinct[:10])) + (" ..." if len(distinct) > 10 else "")
            raise LabelError(
                f"labels.positive: target {target!r} has {len(distinct)} values ({shown}); "
                "set labels.positive to the value that counts as the positive class"
            )
    key = str(positive)
    if key.endswith(".0") and key not in distinct and key[:-2] in distinct:
        key = key[:-2]
    if key not in distinct:
        raise LabelError(
            f"labels.positive: {positive!r} does not occur in column {target!r}; "
            f"values are {', '.join(map(repr, distinct[:10]))}"
        )
    return (as_text == key).to_numpy(dtype=np.int64), key, notes


def load_labels(
    section: Any,
    dataset: SampleSet,
    modality: Modality,
    reader_params: Params,
    base_dir: Path | None = None,
) -> Labels:
    """Read ``section`` (a :class:`proxyml.recipe.LabelsSection`) and join it to ``dataset``."""
    table = modality.read_label_source(section.source, reader_params)
    if table is None:
        table = read_label_table(section.source, base_dir)
    where = f"labels ({section.source})"
    for column, key in ((section.id_column, "labels.id_column"), (section.target, "labels.target")):
        if column not in table.columns:
            raise LabelError(f"{key}: {where} has no column {column!r}; columns are {list(table.columns)}")
    table = table[[section.id_column, section.target]].copy()
    table[section.id_column] = table[section.id_column].astype(str)
    notes: list[str] = []
    missing = table[section.target].isna()
    if missing.any():
        notes.append(f"{int(missing.sum())} label rows have no {section.target!r} value and were not used")
        table = table[~missing]
    table = _deduplicate(table, section.id_column, section.target, where, notes)
    matched = table[table[section.id_column].map(dataset.has_id)]
    unmatched = table.loc[~table[section.id_column].map(dataset.has_id), section.id_column].tolist()
    if matched.empty:
        raise LabelError(
            f"{where}: none of the {len(table)} label ids match a sample id "
            f"(label ids look like {table[section.id_column].head(3).tolist()}, "
            f"sample ids look like {dataset.ids[:3]}); check labels.id_column and the data's ids"
        )
    if unmatched:
        notes.append(f"{len(unmatched)} label ids match no sample, e.g. {unmatched[:5]}")
    order = np.argsort(dataset.positions(matched[section.id_column].tolist()), kind="stable")
    matched = matched.iloc[order]
    y, positive, binarize_notes = binarize(matched[section.target], section.positive, section.target)
    return Labels(
        ids=matched[section.id_column].tolist(),
        y=y,
        positive=positive,
        target=section.target,
        unmatched=unmatched,
        notes=notes + binarize_notes,
    )


def _deduplicate(table: pd.DataFrame, id_column: str, target: str, where: str, notes: list[str]) -> pd.DataFrame:
    repeated = table[table.duplicated(id_column, keep=False)]
    if repeated.empty:
        return table
    conflicting = repeated.groupby(id_column)[target].nunique()
    conflicting = conflicting[conflicting > 1]
    if len(conflicting):
        raise LabelError(
            f"{where}: {len(conflicting)} ids have conflicting labels, e.g. {conflicting.index[:5].tolist()}"
        )
    notes.append(f"{repeated[id_column].nunique()} ids were listed more than once with the same label")
    return table.drop_duplicates(id_column)
