"""CSV files read fast, malformed lines skipped, and rows traced back to their file lines.

:func:`read_csv` reads with pandas' C engine; only when that fails on a line with more fields
than the header does it fall back to Python's :mod:`csv` tokenizer (the one pandas' python
engine uses), which drops such lines and says where each was. Lines are counted as an editor
counts them: the header is line 1, blank lines count, and a quoted cell spanning lines counts
every line it spans.

Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text('id,x\\na,1\\nb,2,3\\n\\nc,"multi\\nline"\\nd,4\\n')
    >>> frame, malformed = read_csv(path, dtype=str)
    >>> frame["id"].tolist(), malformed
    (['a', 'c', 'd'], [MalformedLine(line=3, reason='expected 2 fields, saw 3')])
    >>> row_names(path, [0, 2], len(frame))
    ['<line 2>', '<line 7>']
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from proxyml.errors import DataError


@dataclass(frozen=True)
class MalformedLine:
    """A record skipped because it has more fields than the header."""

    line: int  # the file line it starts on (header = line 1)
    reason: str


def read_csv(path: Path, **options: Any) -> tuple[pd.DataFrame, list[MalformedLine]]:
    """The table (``options`` go to :func:`pandas.read_csv`) and the lines skipped as malformed.

    Raises:
        DataError: every data line has more fields than the header. Otherwise what
        :func:`pandas.read_csv` raises (for instance a quote left open at the end of the file).
    """
    try:
        with warnings.catch_warnings():
            # a first row wider than the header: pandas would cut it silently (index_col=False)
            # or shift every column onto an index (the default); skip it like any other
            warnings.filterwarnings("error", "Length of header", pd.errors.ParserWarning)
            return pd.read_csv(path, index_col=False, **options), []
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        failure = exc
    try:
        header, rows, malformed = _split(path)
    except csv.Error:
        raise failure from None
    if not malformed:
        raise failure  # not a question of field counts: nothing the fallback can repair
    if not rows:
        raise DataError(f"{path}: every row has more fields than the header, e.g. line "
                        f"{malformed[0].line}: {malformed[0].reason}; check the delimiter and the header")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    buffer.seek(0)
    return pd.read_csv(buffer, index_col=False, **options), malformed


def row_names(path: str | Path, positions: Sequence[int], n_rows: int) -> list[str]:
    """Names a user can find rows by, from their 0-based positions among the ``n_rows`` read.

    A CSV row is ``<line N>``, the file line it starts on (header = line 1; needs the file
    scanned, so call this for the few rows to name, not for every row). Other rows (Parquet)
    are ``<row N>``, 1-based.
    """
    if not positions:
        return []
    if Path(path).suffix.lower() == ".csv":
        lines = data_row_lines(Path(path))
        if len(lines) == n_rows:  # else the file was not read the way it was scanned
            return [f"<line {lines[i]}>" for i in positions]
    return [f"<row {i + 1}>" for i in positions]


def data_row_lines(path: Path) -> list[int]:
    """Per data row :func:`read_csv` keeps, the file line it starts on (header = line 1)."""
    records = _records(path)
    try:
        _, header = next(records, (0, []))
        return [line for line, fields in records if len(fields) <= len(header)]
    except (csv.Error, OSError, UnicodeDecodeError):
        return []  # the caller falls back to row numbers
    finally:
        records.close()


def _split(path: Path) -> tuple[list[str], list[list[str]], list[MalformedLine]]:
    """The header, the rows no wider than it, and the lines of the rows that are wider."""
    records = _records(path)
    _, header = next(records, (0, []))
    rows: list[list[str]] = []
    malformed: list[MalformedLine] = []
    for line, fields in records:
        if len(fields) <= len(header):
            rows.append(fields)
        else:
            malformed.append(MalformedLine(line, f"expected {len(header)} fields, saw {len(fields)}"))
    return header, rows, malformed


def _records(path: Path) -> Generator[tuple[int, list[str]], None, None]:
    """``(first file line, fields)`` of each record pandas reads, header first: blank and
    whitespace-only lines are left out, as pandas leaves them out."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        end = 0
        for fields in reader:
            start, end = end + 1, reader.line_num
            if len(fields) > 1 or (fields and fields[0].strip()):
                yield start, fields
