"""Column types, and the transform fitted on the unlabeled pool that turns rows into tensors.

The transform is a plain JSON-able dict (saved with every trained model as
``preprocessing.json``), so rows read later by ``embed``/``score`` are encoded exactly as the
training rows were:

.. code-block:: text

    {"format": "proxyml.tabular/1",
     "id_column": "id" | None,                                  # None: ids are row numbers
     "numeric": [{"name": "age", "mean": 41.2, "std": 12.3}, ...],
     "categorical": [{"name": "city", "kind": "categorical" | "boolean",
                      "categories": ["paris", "lyon", ...]}, ...],
     "excluded": ["churned"]}                                   # label columns, never input

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": ["30", "50", None], "city": ["a", "b", "a"]})
    >>> prep = fit_preprocessing(frame, ["age"], {"city": "categorical"}, max_categories=10)
    >>> prep["numeric"], prep["categorical"][0]["categories"]
    ([{'name': 'age', 'mean': 40.0, 'std': 10.0}], ['a', 'b'])
    >>> encode_rows(frame, prep)[0].tolist()  # age, missing(age, city), code(city)
    [[-1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 2.0], [0.0, 1.0, 0.0, 1.0]]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from proxyml.errors import DataError

FORMAT = "proxyml.tabular/1"
#: the largest magnitude a numeric cell may have: the encoder works in float32, and a larger
#: value would overflow the column's standard deviation (wiping the column) or the tensor
LIMIT = float(np.finfo(np.float32).max)
KINDS = ("numeric", "categorical", "boolean")
BOOLEAN_CATEGORIES = ["false", "true"]
_BOOLEAN_TEXT = ("true", "false")


def category_text(column: pd.Series) -> pd.Series:
    """Cells as text (object dtype, NaN where missing), spelled the same whatever the file type.

    Whole numbers lose their ``.0`` (a column of codes with a gap reads as float) and booleans
    become ``"true"``/``"false"``, so a CSV and a Parquet copy of one table give one vocabulary.

    Example:
        >>> category_text(pd.Series([1.0, None, 2.5, True, " x "])).tolist()
        ['1', nan, '2.5', 'true', 'x']
        >>> category_text(pd.Series(["2.0", "007", "TRUE"])).tolist()
        ['2', '007', 'true']
    """

    missing = column.isna().to_numpy()
    if pd.api.types.is_string_dtype(column) and not pd.api.types.is_bool_dtype(column):
        # the common case (every CSV column): vectorised
        text = column.astype(object).where(~missing, "").astype(str).str.strip()
        text = text.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)  # "2.0" is the category "2"
        lowered = text.str.lower()
        text = text.where(~lowered.isin(_BOOLEAN_TEXT), lowered)
    else:
        text = pd.Series([_spell(v) for v in column.astype(object)], index=column.index, dtype=object)
    return text.astype(object).where(~missing, np.nan)


def _spell(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = re.sub(r"^(-?\d+)\.0+$", r"\1", str(value).strip())
    return text.lower() if text.lower() in _BOOLEAN_TEXT else text


def as_numbers(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(values, bad)``: float64 values (NaN where missing or not a usable number) and the mask
    of cells that hold something that is not a finite number within float32 range (text,
    ``inf``, ``-inf``, ``1e300``: beyond :data:`LIMIT`, about 3.4e38).

    Example:
        >>> values, bad = as_numbers(pd.Series(["1.5", None, "oops", "-inf", "1e300"]))
        >>> values.tolist(), bad.tolist()
        ([1.5, nan, nan, nan, nan], [False, False, True, True, True])
    """
    if pd.api.types.is_bool_dtype(column):
        column = column.astype(float)
    try:
        numbers = pd.to_numeric(column, errors="coerce")
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    except (OverflowError, TypeError, ValueError):  # e.g. Python ints beyond float64
        values = np.array([_number(v) for v in column.astype(object)], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        values = np.where(np.abs(values) <= LIMIT, values, np.nan)  # NaN, inf and beyond float32
    bad = column.notna().to_numpy() & np.isnan(values)
    return values, bad


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return float("inf") if isinstance(value, int) else float("nan")


def infer_kind(column: pd.Series,
               numbers: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None) -> str:
    """``"boolean"``, ``"numeric"`` or ``"categorical"`` from the column's non-empty cells.

    A column whose non-empty cells are mostly (at least half) finite numbers is numeric, the
    rule the time-series long-table reader uses to pick its channels; its other cells are then
    read as missing by :func:`encode_rows`, which counts them in a note.

    ``numbers``: gives ``as_numbers(column)`` (for instance :meth:`ParsedColumns.numbers`, so
    that the column is converted once per read); called only when the cells are neither all
    ``true``/``false`` nor mostly without a digit (text that is surely not numbers).

    Example:
        >>> columns = (["1", "2.5"], ["True", "false"], ["a", "b", "1"], ["1", "2", "oops", "inf"])
        >>> [infer_kind(pd.Series(v)) for v in columns]
        ['numeric', 'boolean', 'categorical', 'numeric']
    """
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_numeric_dtype(column):
        return "numeric"
    observed = column.notna().to_numpy()
    n_present = int(observed.sum())
    if not n_present:
        return "categorical"
    first = int(observed.argmax())
    present = column[observed]
    # all true/false? The first cell rules out most columns without a pass over the others
    if _all_boolean_text(column.iloc[first : first + 1]) and _all_boolean_text(present):
        return "boolean"
    if isinstance(column.dtype, pd.StringDtype):
        # a cell without a digit is never a finite number: when most are such, no need to parse
        without_digit = int((~present.str.contains("[0-9]", regex=True)).sum())
        if without_digit > 0.5 * n_present:
            return "categorical"
    # a missing cell is never bad, so the whole column's bad cells are those of its present ones
    _, bad = numbers() if numbers is not None else as_numbers(present)
    return "numeric" if bad.sum() <= 0.5 * n_present else "categorical"


def _all_boolean_text(cells: pd.Series) -> bool:
    return bool(cells.astype(str).str.strip().str.lower().isin(_BOOLEAN_TEXT).all())


class ParsedColumns:
    """The cells of ``frame``'s columns converted once for a whole read and then reused: as
    numbers (:func:`as_numbers`) and as category text (:func:`category_text`), each the first
    time a column is asked for. Kind inference, column choice, :func:`fit_preprocessing` and
    :func:`encode_rows` share one, so a column of a million cells is parsed once, not four times.
    The arrays it gives are shared: read them, never write to them.

    Example:
        >>> parsed = ParsedColumns(pd.DataFrame({"age": ["30", "oops", "50"]}))
        >>> values, bad = parsed.numbers("age")
        >>> parsed.numbers("age")[0] is values, bad.tolist()
        (True, [False, True, False])
        >>> rows = parsed.frame.iloc[[0, 2]].reset_index(drop=True)
        >>> parsed.rows(np.array([True, False, True]), rows).numbers("age")[0].tolist()
        [30.0, 50.0]
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._numbers: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._text: dict[str, pd.Series] = {}

    def numbers(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``as_numbers(frame[name])``, computed once."""
        if name not in self._numbers:
            self._numbers[name] = as_numbers(self.frame[name])
        return self._numbers[name]

    def text(self, name: str) -> pd.Series:
        """``category_text(frame[name])``, computed once."""
        if name not in self._text:
            self._text[name] = category_text(self.frame[name])
        return self._text[name]

    def rows(self, keep: np.ndarray, frame: pd.DataFrame) -> ParsedColumns:
        """The conversions for ``frame``: the rows of :attr:`frame` where ``keep`` is true, in
        order, with any of its columns. The numbers already converted are carried over when
        converting the kept cells alone would give the same values (see
        :func:`_parses_alike_alone`), else converted again, from the kept cells, when asked for.
        """
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (len(self.frame),) or int(keep.sum()) != len(frame):
            raise ValueError(f"rows: keep selects {int(keep.sum())} of {len(self.frame)} rows, "
                             f"frame has {len(frame)}")
        subset = ParsedColumns(frame)
        every_row = bool(keep.all())
        for name, (values, bad) in self._numbers.items():
            if name not in frame.columns:
                continue
            if every_row:
                subset._numbers[name] = (values, bad)
            elif _parses_alike_alone(frame[name], values[keep]):
                subset._numbers[name] = (values[keep], bad[keep])
        return subset


#: the longest text pandas' fast float parser always reads exactly as the integer it spells
_EXACT_TEXT_LENGTH = 15


def _parses_alike_alone(cells: pd.Series, values: np.ndarray) -> bool:
    """Whether ``as_numbers(cells)`` gives ``values``, the conversion of these cells within
    their whole column (a superset of rows).

    :func:`pandas.to_numeric` reads a column of text in one of two ways: when every cell
    spells an integer (no empty cell, no decimal point), each exactly as an integer; otherwise
    each with pandas' fast float parser, which can miss an integer of 16 or more digits by a
    unit in the last place (and reads ``0000000000000000000012`` as 0). Leaving rows out can
    switch a column from the second way to the first, so carrying the values over is safe when
    the kept cells still force the second way (a missing, unreadable or non-integer one) or
    are all short enough to read alike either way. Numeric and boolean columns convert cell by
    cell; other columns (Python objects) are converted again.
    """
    if pd.api.types.is_numeric_dtype(cells) or pd.api.types.is_bool_dtype(cells):
        return True
    if not isinstance(cells.dtype, pd.StringDtype):
        return False
    if cells.dtype.na_value is np.nan:
        # a NaN value (a missing, unreadable, infinite or too large cell) or a fraction: floats
        forced = bool((values != np.trunc(values)).any())  # NaN != NaN
    else:  # pd.NA: missing and unreadable cells are masked out; a fraction still forces floats
        finite = values[np.isfinite(values)]
        forced = bool((finite != np.trunc(finite)).any())
    if forced:
        return True
    longest = cells.str.len().max()
    return bool(pd.isna(longest) or longest <= _EXACT_TEXT_LENGTH)


def fit_preprocessing(
    frame: pd.DataFrame,
    numeric: list[str],
    categorical: Mapping[str, str],
    *,
    max_categories: int,
    id_column: str | None = None,
    excluded: list[str] | None = None,
    parsed: ParsedColumns | None = None,
) -> dict[str, Any]:
    """Fit the transform on ``frame`` (the unlabeled pool).

    Numeric statistics are computed in float64 over the cells :func:`as_numbers` accepts
    (bounded by :data:`LIMIT`), so they are always finite; :func:`check_preprocessing` makes
    sure of it before the transform is returned.

    Args:
        frame: the input columns (and possibly others, ignored).
        numeric: numeric columns, in order.
        categorical: categorical column -> ``"categorical"`` or ``"boolean"``, in order.
        max_categories: vocabulary size cap; rarer categories share the unknown slot.
        id_column: the id column of the source (``None``: row numbers).
        excluded: label columns, recorded so that new data never uses them either.
        parsed: ``frame``'s conversions, shared with :func:`encode_rows` (default: made here).
    """
    parsed = _parsed_for(frame, parsed)
    numeric_stats = []
    for name in numeric:
        values, _ = parsed.numbers(name)
        mean, std = _mean_std(values[~np.isnan(values)])
        numeric_stats.append({"name": name, "mean": mean, "std": std if std > 1e-12 else 1.0})
    vocabularies = []
    for name, kind in categorical.items():
        if kind == "boolean":
            categories = list(BOOLEAN_CATEGORIES)
        else:
            counts = parsed.text(name).value_counts()
            # most frequent first; ties by text so that the vocabulary is deterministic
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            categories = [value for value, _ in ranked[:max_categories]]
        vocabularies.append({"name": name, "kind": kind, "categories": categories})
    fitted = {
        "format": FORMAT,
        "id_column": id_column,
        "numeric": numeric_stats,
        "categorical": vocabularies,
        "excluded": list(excluded or []),
    }
    check_preprocessing(fitted, "the transform fitted on the unlabeled pool")
    return fitted


def _mean_std(observed: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation in float64; finite for any values within float64 range:
    they are scaled by the largest magnitude first when squaring them could overflow."""
    if not observed.size:
        return 0.0, 0.0
    observed = observed.astype(np.float64)
    scale = float(np.abs(observed).max())
    if scale <= 1e150:  # always so for cells within float32 range: squares stay far from overflow
        return float(observed.mean()), float(observed.std())
    scaled = observed / scale
    return float(scaled.mean() * scale), float(scaled.std() * scale)


def check_preprocessing(preprocessing: Mapping[str, Any], origin: str) -> None:
    """Raise :class:`DataError` unless every numeric column of ``preprocessing`` has a finite
    mean and a finite, positive std (what ``preprocessing.json`` may hold: no ``Infinity``,
    no ``NaN``, and nothing that would turn a column into zeros)."""
    for stats in preprocessing.get("numeric", []):
        for key in ("mean", "std"):
            value = stats.get(key)
            is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
            number = _number(value) if is_number else float("nan")
            if not np.isfinite(number) or (key == "std" and number <= 0):
                raise DataError(f"{origin}: numeric column {stats.get('name')!r} has {key} {value!r}; "
                                "a numeric column's mean must be a finite number and its std a finite "
                                "positive number (refit the transform on the data: train again)")


def input_columns(preprocessing: Mapping[str, Any]) -> list[str]:
    """The input columns of a fitted transform: numeric first, then categorical."""
    return [c["name"] for c in preprocessing["numeric"]] + [c["name"] for c in preprocessing["categorical"]]


def cardinalities(preprocessing: Mapping[str, Any]) -> list[int]:
    """Per categorical column, the vocabulary size + 1 (code 0 = unknown or missing)."""
    return [len(c["categories"]) + 1 for c in preprocessing["categorical"]]


def encode_rows(frame: pd.DataFrame, preprocessing: Mapping[str, Any],
                parsed: ParsedColumns | None = None) -> tuple[np.ndarray, list[str]]:
    """Rows of ``frame`` as a float32 ``(n, width)`` array (see :mod:`.layout`) and notes.

    The notes count, per column with a few example values, the cells that could not be used as
    their column's type (text, ``inf`` or a number beyond float32 range in a numeric column
    becomes missing, as does a new cell so far from the stored mean, in stored standard
    deviations, that the standardised value overflows float32) and the categories the
    vocabulary does not know (new ones, or rarer than those kept: the unknown slot).
    ``parsed``: ``frame``'s conversions, e.g. those :func:`fit_preprocessing` made (default:
    made here).

    Example:
        >>> stored = fit_preprocessing(pd.DataFrame({"age": [30, 50], "city": ["a", "b"]}),
        ...                            ["age"], {"city": "categorical"}, max_categories=10)
        >>> _, notes = encode_rows(pd.DataFrame({"age": ["40", "oops"], "city": ["c", "a"]}), stored)
        >>> for note in notes: print(note)
        Read 1 cell(s) that are not finite numbers within float32 range (about ±3.4e38) in numeric column(s) as missing: 'age': 1 (e.g. 'oops').
        Encoded 1 cell(s) whose category is not in the vocabulary fitted on the unlabeled pool (a new one, or one rarer than the max_categories kept) with the shared 'unknown' slot: 'city': 1 (e.g. 'c').
    """
    parsed = _parsed_for(frame, parsed)
    numeric, categorical = preprocessing["numeric"], preprocessing["categorical"]
    n_numeric, n_columns = len(numeric), len(numeric) + len(categorical)
    out = np.zeros((len(frame), 2 * n_columns), dtype=np.float32)
    bad_cells: dict[str, pd.Series] = {}
    too_far: dict[str, pd.Series] = {}
    unknown: dict[str, pd.Series] = {}
    for j, stats in enumerate(numeric):
        column = frame[stats["name"]]
        values, bad = parsed.numbers(stats["name"])
        with np.errstate(over="ignore", invalid="ignore"):
            standardised = (values - stats["mean"]) / stats["std"]
        far = ~np.isnan(values) & ~(np.abs(standardised) <= LIMIT)  # only with a stored transform
        missing = np.isnan(values) | far
        out[:, j] = np.where(missing, 0.0, standardised)
        out[:, n_numeric + j] = missing
        if bad.any():
            bad_cells[stats["name"]] = column[bad]
        if far.any():
            too_far[stats["name"]] = column[far]
    for k, vocabulary in enumerate(categorical):
        text = parsed.text(vocabulary["name"])
        lookup = {value: code for code, value in enumerate(vocabulary["categories"], start=1)}
        missing = text.isna().to_numpy()
        codes = text.map(lookup).to_numpy(dtype=np.float64, na_value=0.0)
        out[:, n_numeric + n_numeric + len(categorical) + k] = codes
        out[:, 2 * n_numeric + k] = missing
        outside = (codes == 0) & ~missing
        if outside.any():
            unknown[vocabulary["name"]] = text[outside]
    notes = []
    if bad_cells:
        notes.append(f"Read {sum(map(len, bad_cells.values()))} cell(s) that are not finite numbers within "
                     f"float32 range (about ±3.4e38) in numeric column(s) as missing: {_counted(bad_cells)}.")
    if too_far:
        notes.append(f"Read {sum(map(len, too_far.values()))} cell(s) as missing whose standardised value "
                     "(with the stored mean and std) is beyond float32 range: "
                     f"{_counted(too_far)}.")
    if unknown:
        notes.append(
            f"Encoded {sum(map(len, unknown.values()))} cell(s) whose category is not in the vocabulary "
            "fitted on the unlabeled pool (a new one, or one rarer than the max_categories kept) "
            f"with the shared 'unknown' slot: {_counted(unknown)}."
        )
    return out, notes


def _parsed_for(frame: pd.DataFrame, parsed: ParsedColumns | None) -> ParsedColumns:
    if parsed is None:
        return ParsedColumns(frame)
    if parsed.frame is not frame:
        raise ValueError("parsed holds the conversions of another frame than the one given")
    return parsed


def _counted(cells: Mapping[str, pd.Series], examples: int = 3) -> str:
    """``'col': count (e.g. 'v1', 'v2')`` per column, the most frequent values first."""
    parts = []
    for name, values in cells.items():
        common = values.astype(str).value_counts().index[:examples]
        parts.append(f"{name!r}: {len(values)} (e.g. {', '.join(repr(str(v)) for v in common)})")
    return ", ".join(parts)
