"""CSV files read fast, malformed lines skipped, and rows traced back to their file lines.

:func:`read_csv` reads with pandas' C engine; only when that fails on a line with more fields
than the header does it fall back to Python's :mod:`csv` tokenizer (the one pandas' python
engine uses), which drops such lines and says where each was. Lines are counted as an editor
counts them: the header is line 1, blank lines count, and a quoted cell spanning lines counts
every line it spans.

Two common mistakes get a message that says what to change instead of pandas' own: a file
saved in another encoding (the file, the line of the first byte that does not decode, and the
``encoding`` option to set), and a file separated by ``;``, tabs or ``|`` that reads as one
column (:func:`check_delimiter`: the likely delimiter and the ``delimiter`` option to set).
``option_hint`` names the recipe key where the caller's user sets those options
(``"data.params"``, ``"labels"``); without it the messages are generic.

Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text('id,x\\na,1\\nb,2,3\\n\\nc,"multi\\nline"\\nd,4\\n')
    >>> frame, malformed = read_csv(path, dtype=str)
    >>> frame["id"].tolist(), malformed
    (['a', 'c', 'd'], [MalformedLine(line=3, reason='expected 2 fields, saw 3')])
    >>> row_names(path, [0, 2], len(frame))
    ['<line 2>', '<line 7>']
    >>> _ = path.write_text('id;x\\na;1\\n')
    >>> read_csv(path, option_hint="labels")
    Traceback (most recent call last):
    ...
    proxyml.errors.DataError: ...t.csv: read as a single column 'id;x' — the file looks ';'-separated; proxyml reads comma-separated files (set labels.delimiter: ';')
    >>> read_csv(path, sep=";")[0].columns.tolist()
    ['id', 'x']
    >>> _ = path.write_bytes('id,city\\na,Paris\\nb,Orléans\\n'.encode("latin-1"))
    >>> read_csv(path, option_hint="data.params")
    Traceback (most recent call last):
    ...
    proxyml.errors.DataError: ...t.csv: line 3 is not valid utf-8 text (byte 0xe9); set data.params.encoding: latin-1 (or cp1252) if that is how the file was saved
    >>> read_csv(path, encoding="latin-1")[0]["city"].tolist()
    ['Paris', 'Orléans']
"""

from __future__ import annotations

import codecs
import csv
import io
import warnings
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from proxyml.errors import DataError

DEFAULT_ENCODING = "utf-8"
#: what a file read as one column is most likely separated by instead (ties: this order)
LIKELY_DELIMITERS = (";", "\t", "|")


@dataclass(frozen=True)
class MalformedLine:
    """A record skipped because it has more fields than the header."""

    line: int  # the file line it starts on (header = line 1)
    reason: str


def read_csv(path: Path, *, option_hint: str | None = None,
             **options: Any) -> tuple[pd.DataFrame, list[MalformedLine]]:
    """The table (``options`` go to :func:`pandas.read_csv`) and the lines skipped as malformed.

    ``options`` may hold ``encoding`` (default utf-8) and ``sep`` or ``delimiter`` (default a
    comma); the fallback tokenizer honours both. ``option_hint`` is the recipe key under which
    the caller's user sets ``encoding`` and ``delimiter``: ``"data.params"`` makes the messages
    say ``set data.params.encoding: latin-1``; without it they stay generic.

    Raises:
        DataError: every data line has more fields than the header; the file does not decode
        with the encoding (the message names the line of the first byte that does not); the
        file reads as one column that looks separated by something else (see
        :func:`check_delimiter`); an unknown encoding. Otherwise what :func:`pandas.read_csv`
        raises (for instance a quote left open at the end of the file).
    """
    path = Path(path)
    encoding = options.get("encoding") or DEFAULT_ENCODING
    delimiter = _delimiter(options)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DataError(f"{path}: unknown encoding {encoding!r} (e.g. utf-8, latin-1, cp1252)") from None
    try:
        frame, malformed = _read(path, options, delimiter, option_hint)
    except UnicodeDecodeError as exc:
        raise DataError(encoding_message(path, encoding, exc, option_hint)) from None
    check_delimiter(path, frame, delimiter=delimiter, option_hint=option_hint)
    return frame, malformed


def delimiter_option(value: str) -> str:
    """A ``delimiter`` recipe value as the one character pandas wants (``tab`` and ``\\t`` are a tab).

    Example:
        >>> delimiter_option("tab"), delimiter_option(";")
        ('\\t', ';')
    """
    value = {"tab": "\t", "\\t": "\t"}.get(value.lower(), value)
    if len(value) != 1 or value in "\"\r\n":
        raise ValueError(f"expected one character such as ',', ';', '|' or \"\\t\" (tab), got {value!r}")
    return value


def encoding_option(value: str) -> str:
    """An ``encoding`` recipe value, checked against the codecs Python knows."""
    try:
        codecs.lookup(value)
    except (LookupError, TypeError):
        raise ValueError(f"unknown encoding {value!r}; e.g. utf-8, utf-8-sig, latin-1, cp1252") from None
    return value


def check_delimiter(path: str | Path, frame: pd.DataFrame, *, delimiter: str = ",",
                    option_hint: str | None = None) -> None:
    """Raise :class:`DataError` when ``frame``, read from ``path`` with ``delimiter``, is one
    column whose name holds ``;``, a tab or ``|`` (as do its first cells, if it has rows): the
    file is almost surely separated by that. :func:`read_csv` calls it on every table it reads.

    Example:
        >>> check_delimiter("x.csv", pd.DataFrame({"a;b;c": ["1;2;3"]}), option_hint="data.params")
        Traceback (most recent call last):
        ...
        proxyml.errors.DataError: x.csv: read as a single column 'a;b;c' — the file looks ';'-separated; proxyml reads comma-separated files (set data.params.delimiter: ';')
        >>> check_delimiter("x.csv", pd.DataFrame({"a\\tb": []}))
        Traceback (most recent call last):
        ...
        proxyml.errors.DataError: x.csv: read as a single column 'a\\tb' — the file looks tab-separated; proxyml reads comma-separated files (read it with the delimiter option set to "\\t", or save it comma-separated)
        >>> check_delimiter("x.csv", pd.DataFrame({"a": [1], "b;c": [2]}))  # two columns: fine
        >>> check_delimiter("x.csv", pd.DataFrame({"notes; misc": ["plain", "text"]}))  # cells without ';'
    """
    if len(frame.columns) != 1:
        return
    header = str(frame.columns[0])
    counts = {d: header.count(d) for d in LIKELY_DELIMITERS if d != delimiter and d in header}
    if not counts:
        return
    likely = max(counts, key=lambda d: counts[d])
    cells = frame.iloc[:, 0].dropna().astype(str).head(20)
    if len(cells) and not cells.str.contains(likely, regex=False).any():
        return  # a name that happens to hold the character, over cells that do not
    looks = "tab" if likely == "\t" else repr(likely)
    value = '"\\t"' if likely == "\t" else repr(likely)
    hint = (f"set {option_hint}.delimiter: {value}" if option_hint
            else f"read it with the delimiter option set to {value}, or save it comma-separated")
    reads = "comma" if delimiter == "," else "tab" if delimiter == "\t" else repr(delimiter)
    raise DataError(f"{path}: read as a single column {header!r} — the file looks {looks}-separated; "
                    f"proxyml reads {reads}-separated files ({hint})")


def encoding_message(path: str | Path, encoding: str, exc: UnicodeDecodeError,
                     option_hint: str | None = None) -> str:
    """What to tell a user whose file ``path`` does not decode with ``encoding``: the file, the
    line of the first byte that does not decode (header = line 1) and the option to set."""
    found = _undecodable(Path(path), encoding)
    where = (f"line {found[0]} is not valid {encoding} text (byte 0x{found[1]:02x})" if found
             else f"is not valid {encoding} text ({exc.reason})")
    utf8 = codecs.lookup(encoding).name == "utf-8"
    other = "latin-1 (or cp1252)" if utf8 else "utf-8 (or latin-1)"
    hint = (f"set {option_hint}.encoding: {other} if that is how the file was saved" if option_hint
            else f"read it with the encoding option set to {other} if that is how the file was "
                 "saved, or save it as UTF-8")
    return f"{path}: {where}; {hint}"


def _undecodable(path: Path, encoding: str) -> tuple[int, int] | None:
    """``(file line, byte)`` of the first byte of ``path`` that does not decode, or None."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
        newlines = 0
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(1 << 20)
                try:
                    decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    # exc.object: the bytes the decoder held back from the last chunk, then this one
                    at = exc.start - (len(exc.object) - len(chunk))
                    return 1 + newlines + chunk[:max(at, 0)].count(b"\n"), exc.object[exc.start]
                if not chunk:
                    return None
                newlines += chunk.count(b"\n")
    except (OSError, LookupError):
        return None


def _delimiter(options: dict[str, Any]) -> str:
    return str(options.get("sep") or options.get("delimiter") or ",")


def _read(path: Path, options: dict[str, Any], delimiter: str,
          option_hint: str | None) -> tuple[pd.DataFrame, list[MalformedLine]]:
    try:
        with warnings.catch_warnings():
            # a first row wider than the header: pandas would cut it silently (index_col=False)
            # or shift every column onto an index (the default); skip it like any other
            warnings.filterwarnings("error", "Length of header", pd.errors.ParserWarning)
            return pd.read_csv(path, index_col=False, **options), []
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        failure = exc
    try:
        header, rows, malformed = _split(path, options.get("encoding"), delimiter)
    except (csv.Error, TypeError):  # TypeError: a delimiter csv cannot use (a regex)
        raise failure from None
    if not malformed:
        raise failure  # not a question of field counts: nothing the fallback can repair
    if not rows:
        if len(header) == 1:  # e.g. "a;b" over "1,5;2": one column in the header, two below
            check_delimiter(path, pd.DataFrame(columns=header), delimiter=delimiter, option_hint=option_hint)
        raise DataError(f"{path}: every row has more fields than the header, e.g. line "
                        f"{malformed[0].line}: {malformed[0].reason}; check the delimiter and the header")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    buffer.seek(0)
    text_options = {k: v for k, v in options.items() if k != "encoding"}  # the buffer is decoded text
    return pd.read_csv(buffer, index_col=False, **text_options), malformed


def row_names(path: str | Path, positions: Sequence[int], n_rows: int, *, encoding: str | None = None,
              delimiter: str = ",") -> list[str]:
    """Names a user can find rows by, from their 0-based positions among the ``n_rows`` read.

    A CSV row is ``<line N>``, the file line it starts on (header = line 1; needs the file
    scanned, so call this for the few rows to name, not for every row). Other rows (Parquet)
    are ``<row N>``, 1-based. ``encoding`` and ``delimiter``: those the file was read with.
    """
    if not positions:
        return []
    if Path(path).suffix.lower() == ".csv":
        lines = data_row_lines(Path(path), encoding=encoding, delimiter=delimiter)
        if len(lines) == n_rows:  # else the file was not read the way it was scanned
            return [f"<line {lines[i]}>" for i in positions]
    return [f"<row {i + 1}>" for i in positions]


def data_row_lines(path: Path, *, encoding: str | None = None, delimiter: str = ",") -> list[int]:
    """Per data row :func:`read_csv` keeps, the file line it starts on (header = line 1)."""
    records = _records(path, encoding, delimiter)
    try:
        _, header = next(records, (0, []))
        return [line for line, fields in records if len(fields) <= len(header)]
    except (csv.Error, OSError, UnicodeDecodeError, LookupError, TypeError):
        return []  # the caller falls back to row numbers
    finally:
        records.close()


def _split(path: Path, encoding: str | None,
           delimiter: str) -> tuple[list[str], list[list[str]], list[MalformedLine]]:
    """The header, the rows no wider than it, and the lines of the rows that are wider."""
    records = _records(path, encoding, delimiter)
    _, header = next(records, (0, []))
    rows: list[list[str]] = []
    malformed: list[MalformedLine] = []
    for line, fields in records:
        if len(fields) <= len(header):
            rows.append(fields)
        else:
            malformed.append(MalformedLine(line, f"expected {len(header)} fields, saw {len(fields)}"))
    return header, rows, malformed


def _records(path: Path, encoding: str | None = None,
             delimiter: str = ",") -> Generator[tuple[int, list[str]], None, None]:
    """``(first file line, fields)`` of each record pandas reads, header first: blank and
    whitespace-only lines are left out, as pandas leaves them out. A UTF-8 byte-order mark is
    dropped, as pandas drops it."""
    name = codecs.lookup(encoding or DEFAULT_ENCODING).name
    with open(path, newline="", encoding="utf-8-sig" if name == "utf-8" else name) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        end = 0
        for fields in reader:
            start, end = end + 1, reader.line_num
            if len(fields) > 1 or (fields and fields[0].strip()):
                yield start, fields
