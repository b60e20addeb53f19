"""Read tables (CSV, Parquet, scikit-learn's bundled sets) into a :class:`TableSampleSet`.

Sources:

- ``.csv`` / ``.parquet`` files. Ids come from the ``id`` column (``data.params.id_column`` to
  name another); a file without one gets the row numbers (``"0"``, ``"1"``, ... in file order,
  stated in the notes).
- ``"sklearn:<name>"``: a table bundled with scikit-learn (see :mod:`.bundled`, read offline);
  ids are row numbers and its ``target`` column is never used as input.

Columns are numeric, categorical (text) or boolean, inferred from their cells and overridable
(``categorical``, ``numeric``, ``drop``): a column whose non-empty cells are mostly (at least
half) numbers is numeric, and its cells that are not finite numbers within float32 range
(``oops``, ``inf``, ``1e300``) are missing, counted per column in a note. Columns that are
entirely empty or constant are dropped; label columns (``labels.target``) are refused as input;
every such decision is a note.
Rows without an id or with every input cell missing, and CSV lines with more fields than the
header, are skipped and listed; a row without an id is named by where it is: ``<line N>`` in
a CSV (the file line, header = line 1), ``<row N>`` in a Parquet file (1-based). A CSV is
comma-separated UTF-8 unless ``data.params.delimiter`` / ``data.params.encoding`` say otherwise;
a file that reads as one column separated by ``;``, tabs or ``|``, or that does not decode, is
an error that names the option to set.

Example:
    >>> data = read_table("sklearn:breast_cancer")
    >>> len(data), data.spec["n_numeric"], data.ids[:2], "target" in data.spec["columns"]
    (569, 30, ['0', '1'], False)
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from proxyml.csvfile import MalformedLine, read_csv, row_names
from proxyml.data import ArraySampleSet, SkippedSample, id_text, repeated_ids
from proxyml.errors import DataError
from proxyml.modalities.tabular import preprocessing as prep
from proxyml.modalities.tabular.bundled import BUNDLED_TARGET, bundled_name, bundled_table
from proxyml.modalities.tabular.layout import spec_for
from proxyml.sources import resolve_path, scheme_of, without_scheme

SUPPORTED_EXTENSIONS = (".csv", ".parquet", ".pq")


class TableSampleSet(ArraySampleSet):
    """Rows of a table: ``dataset[i]["x"]`` is a float32 vector laid out as :mod:`.layout` says.

    Attributes:
        preprocessing: the transform fitted on the unlabeled pool (JSON-able); pass it back to
            :func:`read_table` to encode new rows the same way.
    """

    modality = "tabular"

    def __init__(self, array: np.ndarray, ids: Sequence[str], *, preprocessing: dict[str, Any],
                 **kwargs: Any) -> None:
        numeric = [c["name"] for c in preprocessing["numeric"]]
        categorical = [c["name"] for c in preprocessing["categorical"]]
        spec = spec_for(numeric, categorical, prep.cardinalities(preprocessing))
        super().__init__(array, ids, spec=spec, **kwargs)
        self.preprocessing = preprocessing


def _load(source: str, base_dir: str | Path | None, delimiter: str = ",",
          encoding: str = "utf-8") -> tuple[pd.DataFrame, str, list[str], list[MalformedLine]]:
    """The raw table, its printable origin, the label columns the source itself declares, and
    the CSV lines skipped as malformed."""
    if scheme_of(source) == "sklearn":
        name = bundled_name(without_scheme(source, "sklearn"))
        return bundled_table(name), f"sklearn:{name}", [BUNDLED_TARGET], []
    path = resolve_path(source, base_dir)
    if path.is_dir():
        raise DataError(f"data.source: {path} is a directory; the tabular reader expects one "
                        f"{' or '.join(SUPPORTED_EXTENSIONS)} file")
    if not path.is_file():
        where = f" (relative paths resolve against {base_dir})" if base_dir is not None else ""
        raise FileNotFoundError(f"data.source: file not found: {path}{where}")
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise DataError(f"{path}: tabular data must be one of {', '.join(SUPPORTED_EXTENSIONS)}")
    malformed: list[MalformedLine] = []
    try:
        if path.suffix.lower() == ".csv":
            # everything as text: ids such as "007" stay intact and types are inferred per column
            frame, malformed = read_csv(path, dtype=str, keep_default_na=True, sep=delimiter,
                                        encoding=encoding, option_hint="data.params")
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty (no header, no rows)") from None
    except DataError:
        raise
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the table ({exc})") from None
    frame.columns = [str(c) for c in frame.columns]
    return frame, str(path), [], malformed


def read_row_numbered_labels(source: str, id_column: str | None, base_dir: str | Path | None,
                             data_source: str | None, *, delimiter: str = ",",
                             encoding: str = "utf-8") -> pd.DataFrame | None:
    """Labels kept in the data file itself when it has no id column: the same row-number ids
    as :func:`read_table` gives its rows (``delimiter``, ``encoding``: the data's reader
    parameters). ``None`` (the generic label reader takes over) for any other file, or when
    the file has an id column."""
    path = resolve_path(source, base_dir)
    if data_source is None or not path.is_file() or path.resolve() != Path(data_source).resolve():
        return None
    if (id_column or "id") in _header(path, delimiter, encoding):
        return None  # the generic label reader joins by that column: no need to read the file here
    frame, _, _, _ = _load(str(path), None, delimiter, encoding)
    return frame.assign(id=[str(i) for i in range(len(frame))])


def _header(path: Path, delimiter: str = ",", encoding: str = "utf-8") -> list[str]:
    """The column names of a CSV or Parquet file, without reading its rows."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    try:
        return [str(c) for c in pd.read_csv(path, nrows=0, sep=delimiter, encoding=encoding).columns]
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, ValueError, LookupError):
        return []


def _names(columns: Sequence[str]) -> str:
    names = list(columns)
    return str(names[:15])[:-1] + (f", ... {len(names) - 15} more]" if len(names) > 15 else "]")


def _require(frame: pd.DataFrame, names: Sequence[str], key: str, origin: str) -> None:
    for name in names:
        if name not in frame.columns:
            close = difflib.get_close_matches(name, list(frame.columns), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise DataError(f"{key}: {origin} has no column {name!r}; {hint}the columns are "
                            f"{_names(frame.columns)}")


def _ids(frame: pd.DataFrame, id_column: str | None, explicit: bool, origin: str,
         notes: list[str]) -> tuple[pd.Series, str | None]:
    """Ids as text (NaN where empty) and the column they came from (None: row numbers)."""
    if id_column is not None and id_column in frame.columns:
        column = frame[id_column]
        if (isinstance(column.dtype, pd.StringDtype) and pd.get_option("future.infer_string")
                and column.notna().any()):
            # what id_text makes of text cells (the text; NaN where empty), without a call per row
            return column.astype("str"), id_column
        return column.astype(object).map(id_text), id_column
    if explicit:
        _require(frame, [id_column or ""], "data.params.id_column", origin)
    notes.append(f"{origin} has no {id_column or 'id'!r} column: the ids are the row numbers "
                 "('0', '1', ... in file order); a label table must use the same ids.")
    return pd.Series([str(i) for i in range(len(frame))], index=frame.index, dtype=object), None


def _choose_columns(frame: pd.DataFrame, categorical: list[str], numeric: list[str], drop: list[str],
                    notes: list[str], parsed: prep.ParsedColumns | None = None) -> tuple[list[str], dict[str, str]]:
    """Numeric and categorical input columns: overrides first, the rest inferred; empty and
    constant columns dropped. ``parsed``: ``frame``'s conversions, kept for the rest of the read."""
    parsed = parsed if parsed is not None else prep.ParsedColumns(frame)
    dropped = []
    numeric_columns: list[str] = []
    categorical_columns: dict[str, str] = {}
    for name in frame.columns:
        if name in drop:
            continue
        column = frame[name]
        if column.notna().sum() == 0:
            dropped.append(f"{name!r} (entirely empty)")
            continue
        if column.nunique(dropna=False) == 1:
            dropped.append(f"{name!r} (constant: every row is {column.iloc[0]!r})")
            continue
        kind = ("categorical" if name in categorical else "numeric" if name in numeric
                else prep.infer_kind(column, functools.partial(parsed.numbers, name)))
        if kind != "numeric":
            categorical_columns[name] = kind
            continue
        numeric_columns.append(name)
        _, bad = parsed.numbers(name)
        if bad.any() and name not in numeric:
            notes.append(f"Column {name!r} is read as numeric: most of its cells are numbers, and those "
                         f"that are not (such as {str(column[bad].iloc[0])!r}) are missing; list it in "
                         "data.params.categorical to read it as categories instead.")
    if drop:
        notes.append(f"Dropped the column(s) {drop} named in data.params.drop.")
    if dropped:
        notes.append(f"Dropped {len(dropped)} column(s) that carry no information: {', '.join(dropped)}.")
    return numeric_columns, categorical_columns


def read_table(
    source: str,
    *,
    id_column: str | None = None,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    drop: Sequence[str] = (),
    max_categories: int = 64,
    delimiter: str = ",",
    encoding: str = "utf-8",
    base_dir: str | Path | None = None,
    preprocessing: dict[str, Any] | None = None,
    label_columns: Sequence[str] = (),
) -> TableSampleSet:
    """Read the rows of ``source`` and encode them with a transform fitted on them (or reused).

    Args:
        source: a ``.csv`` / ``.parquet`` path or ``"sklearn:<name>"``.
        id_column: the column of unique row ids (default: ``id`` if present, else row numbers).
        categorical, numeric: columns whose type is forced (the rest is inferred).
        drop: columns never used as input.
        max_categories: per categorical column, the most frequent categories kept; the rest
            share the unknown slot.
        delimiter, encoding: how a CSV is separated and encoded (ignored for other sources).
        base_dir: the folder relative paths resolve against (the recipe's).
        preprocessing: a trained model's transform: reused as is (columns, statistics,
            vocabularies); ``categorical``/``numeric``/``drop`` are then already part of it.
        label_columns: the columns holding the real labels: never input, refused if named.

    Raises:
        FileNotFoundError: no such file. DataError: a directory, an empty or unreadable file (one
        that does not decode, or reads as one column separated by something else), a column named
        in the parameters that is not in the table, a label column named as input, repeated ids,
        no usable column or row, a stored transform with statistics that are not finite.
    """
    if preprocessing is not None:
        prep.check_preprocessing(preprocessing, "the trained model's preprocessing")
    frame, origin, declared_labels, malformed = _load(source, base_dir, delimiter, encoding)
    if frame.empty:
        raise DataError(f"{origin}: the table has a header but no rows")
    notes: list[str] = []
    wanted_id = id_column or (preprocessing["id_column"] if preprocessing else None) or "id"
    ids, used_id = _ids(frame, wanted_id, id_column is not None, origin, notes)
    notes[:0] = _malformed_note(malformed, row_numbered=used_id is None)
    stored = preprocessing["excluded"] if preprocessing else []
    labels = [c for c in dict.fromkeys([*label_columns, *declared_labels, *stored]) if c != used_id]
    _refuse_as_input(labels, used_id, categorical=categorical, numeric=numeric)
    present_labels = [c for c in labels if c in frame.columns]
    if present_labels:
        notes.append(f"Never used the label column(s) {present_labels} as input.")
    inputs = frame.drop(columns=[c for c in [used_id, *present_labels] if c is not None])
    parsed = prep.ParsedColumns(inputs)  # each column's text converted once for the whole read
    if preprocessing is None:
        for key, names in (("categorical", categorical), ("numeric", numeric), ("drop", drop)):
            _require(inputs, names, f"data.params.{key}", origin)
        numeric_columns, categorical_columns = _choose_columns(
            inputs, list(categorical), list(numeric), list(drop), notes, parsed)
        columns = numeric_columns + list(categorical_columns)
        if not columns:
            raise DataError(f"{origin}: no input column is left after dropping the id, label, "
                            f"listed, empty and constant columns; notes: {' '.join(notes)}")
    else:
        columns = prep.input_columns(preprocessing)
        _require(inputs, columns, "the trained model's input columns", origin)
        extra = [c for c in inputs.columns if c not in columns]
        if extra:
            notes.append(f"Ignored the column(s) {_names(extra)}: the model was not trained on them.")
    reasons = _skip_reasons(inputs[columns], ids, notes)
    keep = reasons == KEPT
    if not keep.any():
        raise DataError(f"{origin}: no row is left to read: all {len(ids)} rows were skipped "
                        "(no id, or every input cell empty)")
    rows = inputs.loc[keep, columns].reset_index(drop=True)
    parsed = parsed.rows(keep, rows)
    if preprocessing is None:
        preprocessing = prep.fit_preprocessing(rows, numeric_columns, categorical_columns,
                                               max_categories=max_categories, id_column=used_id,
                                               excluded=labels, parsed=parsed)
        notes.append(_column_summary(preprocessing, len(rows)))
    array, encode_notes = prep.encode_rows(rows, preprocessing, parsed)
    kept_ids = ids[keep].tolist()
    _check_unique(kept_ids, origin, used_id)
    skipped = [SkippedSample(f"<line {m.line}>", origin, m.reason) for m in malformed]
    unnamed = _skipped_list(reasons, ids, origin, delimiter=delimiter, encoding=encoding)
    return TableSampleSet(array, kept_ids, preprocessing=preprocessing, source=origin,
                          skipped=skipped + unnamed, notes=notes + encode_notes)


def _refuse_as_input(labels: list[str], id_column: str | None, **named: Sequence[str]) -> None:
    """A label or id column named as an input column is a recipe error."""
    for key, names in named.items():
        refused = [n for n in names if n in labels]
        if refused:
            raise DataError(f"data.params.{key}: {refused[0]!r} holds the labels (labels.target) and "
                            "is never used as input; remove it from this list")
        if id_column is not None and id_column in names:
            raise DataError(f"data.params.{key}: {id_column!r} is the id column, not an input column")


#: why a row is skipped, by the code :func:`_skip_reasons` gives it
SKIP_REASONS = ("", "empty id", "every input cell is missing")
KEPT, NO_ID, ALL_MISSING = range(len(SKIP_REASONS))


def _skip_reasons(inputs: pd.DataFrame, ids: pd.Series, notes: list[str]) -> np.ndarray:
    """Per row, the code of the reason it is skipped in :data:`SKIP_REASONS` (``KEPT``: it is
    kept); small integers, not a million strings."""
    no_id = ids.isna().to_numpy()
    all_missing = inputs.isna().all(axis=1).to_numpy()
    reasons = np.where(no_id, NO_ID, np.where(all_missing, ALL_MISSING, KEPT)).astype(np.int8)
    if no_id.any():
        notes.append(f"Skipped {int(no_id.sum())} row(s) with an empty id.")
    if (all_missing & ~no_id).any():
        notes.append(f"Skipped {int((all_missing & ~no_id).sum())} row(s) whose input cells are all missing.")
    return reasons


def _skipped_list(reasons: np.ndarray, ids: pd.Series, origin: str, *, delimiter: str = ",",
                  encoding: str = "utf-8") -> list[SkippedSample]:
    """The skipped rows (``reasons``: see :func:`_skip_reasons`), by id; a row without one by its
    file line (see :func:`row_names`)."""
    unnamed = np.flatnonzero(reasons == NO_ID).tolist()
    lines = row_names(origin, unnamed, len(reasons), encoding=encoding, delimiter=delimiter)
    names = dict(zip(unnamed, lines, strict=True))
    return [SkippedSample(names.get(i, str(ids.iloc[i])), origin, SKIP_REASONS[reasons[i]])
            for i in np.flatnonzero(reasons != KEPT).tolist()]


def _malformed_note(malformed: list[MalformedLine], *, row_numbered: bool) -> list[str]:
    if not malformed:
        return []
    first = malformed[0]
    ids = "; the row-number ids count only the rows read" if row_numbered else ""
    return [f"Skipped {len(malformed)} malformed line(s) with more fields than the header (each is "
            f"listed in skipped by its file line, e.g. line {first.line}: {first.reason}){ids}."]


def _check_unique(ids: list[str], origin: str, id_column: str | None) -> None:
    repeated = sorted(repeated_ids(ids))
    if repeated:
        raise DataError(f"{origin}: the id column {id_column!r} repeats {len(repeated)} id(s), e.g. "
                        f"{repeated[:5]}; each row needs a unique id (set data.params.id_column)")


def _column_summary(preprocessing: dict[str, Any], n_rows: int) -> str:
    kinds: dict[str, list[str]] = {"numeric": [c["name"] for c in preprocessing["numeric"]]}
    for column in preprocessing["categorical"]:
        kinds.setdefault(column["kind"], []).append(column["name"])
    parts = [f"{len(names)} {kind} {_names(names)}" for kind, names in kinds.items() if names]
    return f"Read {n_rows} rows with input columns: {'; '.join(parts)}."
