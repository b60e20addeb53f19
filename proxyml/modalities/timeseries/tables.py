"""Wide and long CSV / Parquet tables of series: one row per series, or one row per step.

A row without an id is skipped and named by where it is: ``<line N>`` in a CSV (the file line,
header = line 1), ``<row N>`` in a Parquet file (1-based).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from proxyml.csvfile import MalformedLine, read_csv, row_names
from proxyml.data import SkippedSample
from proxyml.errors import DataError


def read_table(
    path: Path,
    id_column: str,
    time_column: str,
    value_columns: list[str] | None,
    format: str | None,
    exclude_columns: list[str],
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> tuple[np.ndarray | list[np.ndarray], list[str], list[SkippedSample], list[str]]:
    """Raw series of a wide or long ``.csv``/``.parquet`` table, its ids, skipped rows, notes.

    ``encoding`` and ``delimiter`` say how a ``.csv`` is written (Parquet stores its own).
    """
    if format not in (None, "wide", "long"):
        raise DataError(f"The 'format' parameter of read_series must be wide or long. Got {format!r}.")
    malformed: list[MalformedLine] = []
    try:
        if path.suffix.lower() == ".csv":
            # dtype=str keeps ids such as "007" intact
            frame, malformed = read_csv(path, dtype={id_column: str}, encoding=encoding, sep=delimiter,
                                        option_hint="data.params")
        else:
            frame = pd.read_parquet(path)
    except DataError:
        raise  # already names the file (and the line)
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: cannot read the table: {exc}") from exc
    long_form = format == "long" or (format is None and time_column in frame.columns)
    if malformed and long_form:
        # a dropped line is a missing step in some series: refuse rather than close the gap silently
        raise DataError(
            f"{path}: {len(malformed)} lines have more fields than the header, e.g. line "
            f"{malformed[0].line} ({malformed[0].reason}); in a long table each line is one step of a "
            "series, so fix those lines (or remove their series) and read again."
        )
    if id_column not in frame.columns:
        raise DataError(
            f"{path}: no id column {id_column!r}; the columns are {_names(frame.columns)}. "
            "Set id_column to the column that names each series."
        )
    label_columns = [c for c in exclude_columns if c in frame.columns and c not in (id_column, time_column)]
    frame = frame.drop(columns=label_columns)
    missing_id = frame[id_column].isna().to_numpy()
    skipped = [
        SkippedSample(name, str(path), f"empty {id_column!r} cell")
        for name in row_names(path, np.flatnonzero(missing_id).tolist(), len(frame), encoding=encoding,
                                  delimiter=delimiter)
    ]
    notes = [f"Skipped {len(skipped)} rows with an empty {id_column!r} cell."] if skipped else []
    if malformed:
        skipped += [SkippedSample(f"<line {m.line}>", str(path), m.reason) for m in malformed]
        notes.append(f"Skipped {len(malformed)} malformed lines (more fields than the header).")
    if label_columns:
        notes.append(f"Did not use the label column(s) {label_columns} as input.")
    frame = frame.loc[~missing_id].reset_index(drop=True)
    frame[id_column] = frame[id_column].astype(str)
    series: np.ndarray | list[np.ndarray]
    if long_form:
        series, ids, more_skipped, more_notes = _read_long(frame, path, id_column, time_column, value_columns)
    else:
        series, ids, more_skipped, more_notes = _read_wide(frame, path, id_column, time_column, value_columns)
    return series, ids, skipped + more_skipped, notes + more_notes


def _read_wide(
    frame: pd.DataFrame, path: Path, id_column: str, time_column: str, value_columns: list[str] | None
) -> tuple[np.ndarray, list[str], list[SkippedSample], list[str]]:
    """One row per series: ``(n, 1, L)`` from the step columns (all but the id, in file order)."""
    steps = value_columns or [c for c in frame.columns if c != id_column]
    _require_columns(frame, steps, path)
    if not steps:
        raise DataError(f"{path}: the wide table has no step columns besides {id_column!r}.")
    repeated = frame[id_column][frame[id_column].duplicated()].unique().tolist()
    if repeated:
        raise DataError(
            f"{path}: ids repeat in a wide table (one row per series), e.g. {repeated[:5]}. "
            f"If each row is one time step, add a {time_column!r} column or pass format='long'."
        )
    values, bad = _numeric_cells(frame[steps])
    ids = frame[id_column].tolist()
    bad_rows = np.flatnonzero(bad.any(axis=1)).tolist()
    skipped = [
        SkippedSample(ids[row], str(path), _bad_cell_reason(frame[steps], row, bad[row])) for row in bad_rows
    ]
    keep = ~bad.any(axis=1)
    return (
        values[keep][:, None, :],
        [ids[row] for row in np.flatnonzero(keep)],
        skipped,
        _bad_note(len(bad_rows)),
    )


def _read_long(
    frame: pd.DataFrame, path: Path, id_column: str, time_column: str, value_columns: list[str] | None
) -> tuple[list[np.ndarray], list[str], list[SkippedSample], list[str]]:
    """One row per (id, time) step: ``[(C, L_i)]`` with one channel per value column."""
    notes: list[str] = []
    channels = value_columns or _numeric_like_columns(frame, {id_column, time_column}, notes)
    _require_columns(frame, channels, path)
    if not channels:
        raise DataError(
            f"{path}: the long table has no numeric column besides {id_column!r} and "
            f"{time_column!r}; pass value_columns."
        )
    if time_column in frame.columns:
        time = _sortable_time(frame[time_column], path)
        if np.isnan(time).any():
            notes.append(f"Dropped {int(np.isnan(time).sum())} rows with an empty {time_column!r} cell.")
            frame, time = frame.loc[~np.isnan(time)].reset_index(drop=True), time[~np.isnan(time)]
    else:
        time = np.arange(len(frame), dtype=np.float64)
        notes.append(f"The table has no {time_column!r} column; steps follow the file order.")
    codes, uniques = pd.factorize(frame[id_column])
    order = np.lexsort((time, codes))  # by id (first appearance), then time
    codes, time = codes[order], time[order]
    _check_unique_steps(frame, order, codes, time, path, id_column, time_column)
    values, bad = _numeric_cells(frame[channels])
    values, bad = values[order], bad[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    series, ids, skipped = [], [], []
    for start, end in zip(starts, np.r_[starts[1:], len(codes)], strict=True):
        sample_id = str(uniques[codes[start]])
        bad_steps = np.flatnonzero(bad[start:end].any(axis=1))
        if len(bad_steps):
            row = start + bad_steps[0]
            reason = _bad_cell_reason(frame[channels], order[row], bad[row])
            skipped.append(SkippedSample(sample_id, str(path), reason))
        else:
            series.append(values[start:end].T)
            ids.append(sample_id)
    notes.insert(
        0,
        f"Read a long table: {len(starts)} series with channel(s) {list(channels)}, steps "
        f"ordered by {time_column!r} within each {id_column!r}.",
    )
    return series, ids, skipped, notes + _bad_note(len(skipped))


def _check_unique_steps(
    frame: pd.DataFrame,
    order: np.ndarray,
    codes: np.ndarray,
    time: np.ndarray,
    path: Path,
    id_column: str,
    time_column: str,
) -> None:
    repeated = np.flatnonzero((codes[1:] == codes[:-1]) & (time[1:] == time[:-1]))
    if len(repeated):
        first = frame.iloc[order[repeated[0]]]
        raise DataError(
            f"{path}: {len(repeated)} row(s) repeat an ({id_column}, {time_column}) pair, e.g. "
            f"id {first[id_column]!r} at {time_column} {str(first.get(time_column, '?'))!r}; each step "
            "of a series must appear once."
        )


def _numeric_like_columns(frame: pd.DataFrame, exclude: set[str], notes: list[str]) -> list[str]:
    """Columns whose non-empty cells are mostly numbers (a few bad cells skip their series)."""
    chosen: list[str] = []
    ignored: list[str] = []
    for name in frame.columns:
        if name in exclude:
            continue
        column = frame[name]
        present = int(column.notna().sum())
        parsed = int(np.isfinite(_finite_numbers(column)).sum())
        (chosen if present and parsed >= 0.5 * present else ignored).append(name)
    if ignored:
        notes.append(f"Ignored the non-numeric column(s) {ignored}; pass value_columns to choose channels.")
    return chosen


def _numeric_cells(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Cells as float64 ``(rows, columns)`` (NaN where empty or bad) and the bad-cell mask."""
    values = np.empty(frame.shape, dtype=np.float64)
    bad = np.zeros(frame.shape, dtype=bool)
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        numbers = _finite_numbers(column)
        values[:, position] = numbers
        bad[:, position] = column.notna().to_numpy() & np.isnan(numbers)
    return values, bad


def _finite_numbers(column: pd.Series) -> np.ndarray:
    """The column as float64, NaN where a cell is empty, not a number, or infinite."""
    numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isfinite(numbers), numbers, np.nan)


def _bad_cell_reason(frame: pd.DataFrame, row: int, bad_row: np.ndarray) -> str:
    position = int(np.flatnonzero(bad_row)[0])
    value = frame.iat[row, position]
    column = str(frame.columns[position])
    return f"non-numeric value {str(value)!r} in column {column!r} (not a finite number)"


def _bad_note(count: int) -> list[str]:
    if not count:
        return []
    return [
        f"Skipped {count} series with a non-numeric value (each is listed in skipped with the "
        "column and the value)."
    ]


def _sortable_time(column: pd.Series, path: Path) -> np.ndarray:
    """Times as float64 (numbers, or dates as nanoseconds), NaN where empty."""
    numbers = pd.to_numeric(column, errors="coerce")
    if int(numbers.notna().sum()) == int(column.notna().sum()):
        return numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        dates = pd.to_datetime(column, utc=True, format="mixed")
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"{path}: the time column {column.name!r} must hold numbers or dates ({exc})."
        ) from exc
    nanoseconds = dates.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    return np.where(np.isnat(nanoseconds), np.nan, nanoseconds.view(np.int64).astype(np.float64))


def _require_columns(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise DataError(f"{path}: no column(s) {absent}; the columns are {_names(frame.columns)}.")


def _names(columns: pd.Index) -> str:
    names = [str(c) for c in columns]
    return str(names[:12])[:-1] + (f", ... {len(names) - 12} more]" if len(names) > 12 else "]")
