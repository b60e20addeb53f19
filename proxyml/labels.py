"""Read the few real labels and join them to sample ids (at evaluation time only).

Example:
    >>> import pandas as pd
    >>> y, positive, notes = binarize(pd.Series(["cat", "dog", "dog"]), None, "animal")
    >>> y.tolist(), positive
    ([0, 1, 1], 'dog')
    >>> binarize(pd.Series(["0.0", "1.0"]), 1, "churn")[:2]  # 1 matches "1.0"
    (array([0, 1]), '1.0')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from proxyml.csvfile import read_csv
from proxyml.data import Labels, SampleSet, id_text
from proxyml.errors import DataError, LabelError
from proxyml.modality import Modality
from proxyml.params import Params
from proxyml.sources import resolve_path


def read_label_table(source: str, base_dir: Path | None = None, notes: list[str] | None = None, *,
                     delimiter: str = ",", encoding: str = "utf-8") -> pd.DataFrame:
    """A CSV or Parquet file of labels (relative paths resolve against ``base_dir``).

    Malformed CSV lines (more fields than the header) are left out and, when ``notes`` is
    given, listed there by file line.
    """
    path = resolve_path(source, base_dir)
    if path.is_dir():
        raise LabelError(f"labels.source: {path} is a folder; give the labels file in it "
                         "(a .csv or .parquet file with an id column and the target)")
    if not path.is_file():
        raise FileNotFoundError(f"labels.source: file not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".txt", ".parquet"}:
        raise LabelError(f"labels.source: {path}: expected a .csv, .txt or .parquet file")
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        frame, malformed = read_csv(path, dtype=str, keep_default_na=True, sep=delimiter, encoding=encoding,
                                    option_hint="labels")
        if malformed and notes is not None:
            lines = ", ".join(str(m.line) for m in malformed[:10]) + (" ..." if len(malformed) > 10 else "")
            notes.append(f"{len(malformed)} malformed lines of {path.name} (more fields than the header) "
                         f"were not used: line {lines}")
        return frame
    except pd.errors.EmptyDataError:
        raise LabelError(f"labels.source: {path} is empty") from None
    except DataError:
        raise  # names the file, the line and the option to set
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        # pyarrow's errors derive from these; a corrupt file must not surface as a traceback
        raise LabelError(f"labels.source: cannot read {path} ({exc})") from None


def _as_number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _number_set(values: list[str]) -> set[float] | None:
    numbers = {_as_number(v) for v in values}
    return None if None in numbers else numbers  # type: ignore[return-value]


YAML_TRUE, YAML_FALSE = ("yes", "y", "on"), ("no", "n", "off")  # unquoted, YAML 1.1 reads these as booleans


def _loose(value: Any) -> str:
    return str(value).strip().casefold()


def _matching_values(positive: Any, distinct: list[str]) -> tuple[list[str], list[str]]:
    """The values of the column that ``positive`` stands for, and those that match it only
    when case and surrounding spaces are ignored (``"YES"`` for ``"yes"``).

    ``1`` is ``"1"`` and ``"1.0"``; ``True`` is ``"True"``, ``"true"`` and ``"1"``.
    """
    if isinstance(positive, bool):
        spellings = {"true", "1", "1.0"} if positive else {"false", "0", "0.0"}
        return [v for v in distinct if v.strip().lower() in spellings], []
    number = _as_number(positive)
    if number is not None:
        return [v for v in distinct if v == str(positive) or _as_number(v) == number], []
    exact = [v for v in distinct if v == str(positive)]
    return exact, [v for v in distinct if v not in exact and _loose(v) == _loose(positive)]


def _yaml_boolean(positive: bool, distinct: list[str]) -> list[str]:
    """The values an unquoted ``yes``/``no``/``on``/``off`` in the recipe stood for."""
    words = YAML_TRUE if positive else YAML_FALSE
    return [v for v in distinct if _loose(v) in words]


def _counted(as_text: pd.Series, positive_values: list[str], limit: int = 8) -> str:
    """``'yes' (30), 'YES' (10) counted positive; 'no' (25) counted negative``."""
    counts = as_text.value_counts()
    parts = []
    for label, values in (("positive", [v for v in counts.index if v in positive_values]),
                          ("negative", [v for v in counts.index if v not in positive_values])):
        shown = ", ".join(f"{v!r} ({counts[v]})" for v in values[:limit]) + (" ..." if len(values) > limit else "")
        parts.append(f"{shown} counted {label}")
    return "; ".join(parts)


def _binary(as_text: pd.Series, positive: Any, found: list[str]) -> tuple[np.ndarray, str]:
    key = found[0] if len(found) == 1 else str(positive)
    return as_text.isin(found).to_numpy(dtype=np.int64), key


def binarize(values: pd.Series, positive: Any, target: str) -> tuple[np.ndarray, Any, list[str]]:
    """0/1 targets from a column, and the value counted as positive (chosen if not given).

    Without ``positive``: a 0/1 (or True/False) column counts 1 as positive, a column with two
    other values counts the larger one (numerically if both are numbers; with a note); anything
    else is an error. A ``positive`` that matches values only when case and spaces are ignored
    counts them too, with a note; a column with more than two values gets a note saying how
    each was counted.

    Example:
        >>> y, positive, notes = binarize(pd.Series(["yes", "YES", "no"]), "yes", "churn")
        >>> y.tolist(), notes[0]
        ([1, 1, 0], "labels.positive 'yes' also matched 'YES' (case and surrounding spaces ignored): 'yes' (1), 'YES' (1) counted positive; 'no' (1) counted negative")
    """
    notes: list[str] = []
    as_text = values.astype(str)
    distinct = sorted(as_text.unique())
    if _number_set(distinct) is not None:  # 9 before 10, not "10" before "9"
        distinct = sorted(distinct, key=float)
    shown = ", ".join(map(repr, distinct[:10])) + (" ..." if len(distinct) > 10 else "")
    if positive is None:
        numbers = _number_set(distinct)
        if numbers is not None and numbers <= {0.0, 1.0}:
            # all zeros is allowed here: the one-class check comes with the evaluation
            return (*_binary(as_text, 1, _matching_values(1, distinct)[0]), notes)
        if {v.lower() for v in distinct} <= {"true", "false"}:
            return (*_binary(as_text, True, _matching_values(True, distinct)[0]), notes)
        if len(distinct) == 1:
            raise LabelError(
                f"labels.target: every labelled sample has {target!r} = {distinct[0]!r}; "
                "the labels need two classes to evaluate against"
            )
        if len(distinct) > 2:
            raise LabelError(
                f"labels.positive: target {target!r} has {len(distinct)} values ({shown}); "
                "set labels.positive to the value that counts as the positive class"
            )
        positive = distinct[-1]
        notes.append(
            f"labels.positive is not set: counting {positive!r} as the positive class "
            f"(values: {shown}); set labels.positive to choose"
        )
    found, loose = _matching_values(positive, distinct)
    if not found and isinstance(positive, bool):
        words = _yaml_boolean(positive, distinct)
        if len({_loose(w) for w in words}) == 1:
            found = words
            notes.append(
                f"labels.positive was read as the YAML boolean {positive} (YAML reads an unquoted "
                f"{words[0].lower()} as {positive}); counting {', '.join(map(repr, words))} as positive. "
                f"Quote it (positive: \"{words[0]}\") to say so exactly"
            )
        else:
            raise LabelError(
                f"labels.positive: {positive} was read as a YAML boolean (YAML reads an unquoted yes, no, "
                f"on, off, true or false as one), and column {target!r} holds no true/false values; values "
                f"are {shown}. Quote the value you mean, e.g. positive: \"{distinct[-1]}\""
            )
    if loose:
        found = found + loose
        notes.append(
            f"labels.positive {positive!r} also matched {', '.join(map(repr, loose))} (case and surrounding "
            f"spaces ignored): {_counted(as_text, found)}"
        )
    if not found:
        raise LabelError(
            f"labels.positive: {positive!r} does not occur in column {target!r} of the labelled "
            f"samples; values are {shown}"
        )
    if len(distinct) > 2 and not loose:
        notes.append(f"column {target!r} has {len(distinct)} values: {_counted(as_text, found)}")
    return (*_binary(as_text, positive, found), notes)


def load_labels(
    section: Any,
    dataset: SampleSet,
    modality: Modality | None = None,
    reader_params: Params | None = None,
    base_dir: Path | None = None,
) -> Labels:
    """Read ``section`` (a :class:`proxyml.recipe.LabelsSection`) and join it to ``dataset``.

    Labels come back in the data's order; label ids that match no sample are counted and
    listed in ``unmatched``, and every row left out is stated in ``notes``. Without a
    ``modality`` only CSV/Parquet label files are read.
    """
    read_notes: list[str] = []
    table = None
    if modality is not None and reader_params is not None:
        table = modality.read_label_source(section.source, reader_params, base_dir, dataset.source)
    if table is None:
        table = read_label_table(section.source, base_dir, read_notes, delimiter=getattr(section, "delimiter", ","),
                                 encoding=getattr(section, "encoding", "utf-8"))
    where = f"labels ({section.source})"
    id_column, target = section.id_column, section.target
    for column, key in ((id_column, "labels.id_column"), (target, "labels.target")):
        if column not in table.columns:
            raise LabelError(f"{key}: {where} has no column {column!r}; columns are {list(table.columns)}")
    if id_column == target:
        raise LabelError(f"labels.target: {target!r} is also labels.id_column; the target must be another column")
    table = table[[id_column, target]].copy()
    notes: list[str] = read_notes
    for column, what in ((id_column, "id"), (target, f"{target!r} value")):
        missing = table[column].isna()
        if missing.any():
            notes.append(f"{int(missing.sum())} label rows have no {what} and were not used")
            table = table[~missing]
    if table.empty:
        raise LabelError(f"{where}: no label row has both an id and a {target!r} value")
    table[id_column] = table[id_column].map(id_text)  # the same text as the readers give ids
    table = _deduplicate(table, id_column, target, where, notes)
    found = table[id_column].map(dataset.has_id).to_numpy(dtype=bool)
    matched = table[found]
    unmatched = table.loc[~found, id_column].tolist()
    if matched.empty:
        raise LabelError(
            f"{where}: none of the {len(table)} label ids match a sample id "
            f"(label ids look like {table[id_column].head(3).tolist()}, "
            f"sample ids look like {dataset.ids[:3]}); check labels.id_column and the data's ids"
        )
    unreadable = {s.id for s in dataset.skipped}
    lost = [i for i in unmatched if i in unreadable]
    if lost:
        notes.append(f"{len(lost)} label ids belong to samples that could not be read (see skipped), "
                     f"e.g. {lost[:5]}")
    others = [i for i in unmatched if i not in unreadable]
    if others:
        notes.append(f"{len(others)} of {len(table)} label ids match no sample and were not used, "
                     f"e.g. {others[:5]}")
    order = np.argsort(dataset.positions(matched[id_column].tolist()), kind="stable")
    matched = matched.iloc[order]
    y, positive, binarize_notes = binarize(matched[target], section.positive, target)
    if y.min() == y.max():
        kind, other = ("positive", "negative") if y[0] else ("negative", "positive")
        values = sorted(matched[target].astype(str).unique())[:5]
        raise LabelError(
            f"{where}: all {len(y)} labelled samples found in the data are {kind} "
            f"(positive = {target!r} is {positive!r}; values present: {values}); "
            f"the evaluator needs both classes: label at least 2 {other} samples too"
        )
    return Labels(
        ids=matched[id_column].tolist(),
        y=y,
        positive=positive,
        target=target,
        unmatched=unmatched,
        notes=notes + binarize_notes,
        source=section.source,
    )


def _deduplicate(table: pd.DataFrame, id_column: str, target: str, where: str, notes: list[str]) -> pd.DataFrame:
    repeated = table[table.duplicated(id_column, keep=False)]
    if repeated.empty:
        return table
    values = repeated.groupby(id_column)[target].agg(lambda v: sorted(set(map(str, v))))
    conflicting = values[values.map(len) > 1]
    if len(conflicting):
        examples = "; ".join(f"{i!r}: {', '.join(map(repr, v))}" for i, v in conflicting.head(5).items())
        raise LabelError(
            f"{where}: {len(conflicting)} ids are listed more than once with different labels "
            f"(e.g. {examples}); keep one label per id"
        )
    notes.append(f"{len(values)} ids were listed more than once with the same label; each is used once")
    return table.drop_duplicates(id_column)
