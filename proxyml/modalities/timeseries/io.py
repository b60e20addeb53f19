"""Read time series from sktime's bundled data sets and from files into a :class:`SeriesSampleSet`.

Sources:

- ``"sktime:<Name>"``: a UCR/UEA data set shipped inside sktime (never downloaded); ids are
  ``"train-0000"``, ``"test-0149"``, ...
- ``.ts`` (sktime's text format), ``.npz`` (key ``X`` of shape ``(n, C, L)`` or ``(n, L)``,
  optional string ``ids``), ``.npy`` (same shapes, memory-mapped); ids are row numbers unless
  the ``.npz`` holds ``ids``.
- ``.csv`` / ``.parquet`` tables, wide (an id column and one column per step) or long (id, time
  and one column per channel); long form is detected by the presence of the time column.

Every change made on the way in is stated in ``notes`` and every dropped series is listed in
``skipped`` (see :mod:`proxyml.modalities.timeseries.cleaning`).

Example:
    >>> data = read_series("sktime:GunPoint", split="train")
    >>> len(data), data.spec, data.ids[0]
    (50, {'channels': 1, 'length': 150}, 'train-0000')
"""

from __future__ import annotations

import importlib.util
import pickle
import zipfile
import zlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from proxyml.csvfile import delimiter_option, encoding_option
from proxyml.data import ArraySampleSet, SkippedSample, repeated_ids
from proxyml.errors import DataError
from proxyml.modalities.timeseries import cleaning
from proxyml.modalities.timeseries.tables import read_table
from proxyml.sources import resolve_path, scheme_of, without_scheme

SPLITS = ("all", "train", "test")
LENGTH_POLICIES = ("pad", "crop")
NORMALIZATIONS = ("dataset", "series", "none")
SUPPORTED_EXTENSIONS = (".ts", ".npz", ".npy", ".csv", ".parquet")
_LOAD_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, pickle.UnpicklingError, zlib.error,
                NotImplementedError)
"""What numpy and zipfile raise for a damaged, truncated or foreign ``.npz``/``.npy`` file."""
BUNDLED_SKTIME_DATASETS: tuple[str, ...] = (
    "ACSF1",
    "ArrowHead",
    "BasicMotions",
    "Covid3Month",
    "GunPoint",
    "ItalyPowerDemand",
    "JapaneseVowels",
    "OSULeaf",
    "PLAID",
    "Tecator",
    "UnitTest",
)
"""Data sets whose ``_TRAIN.ts`` and ``_TEST.ts`` files ship inside sktime 1.2 (read offline)."""


class SeriesSampleSet(ArraySampleSet):
    """Equal-length series ``(C, L)``; ``dataset[i]["x"]`` is a float32 tensor ``(C, L)``.

    ``array`` is ``(n, C, L)``: an in-memory float32 array holding normalised values, or a
    read-only ``numpy.memmap`` of raw values when ``normalize_on_load`` is set, in which case
    :meth:`load` and :meth:`raw` normalise each sample as it is read. Use those two methods
    rather than ``array`` to get model inputs.

    Attributes:
        preprocessing: the JSON-able values needed to read new data the same way:
            ``normalize``, ``mean``/``std`` (per channel, or ``None``), ``length``,
            ``length_policy`` and ``channels``. Pass it back to :func:`read_series`.
        normalize_on_load: whether normalisation is applied lazily in :meth:`load`/:meth:`raw`.
    """

    modality = "timeseries"

    def __init__(
        self,
        array: np.ndarray,
        ids: Sequence[str],
        *,
        source: str,
        preprocessing: dict[str, Any] | None = None,
        normalize_on_load: bool = False,
        metadata: pd.DataFrame | None = None,
        skipped: list[SkippedSample] | None = None,
        notes: list[str] | None = None,
    ) -> None:
        if array.ndim != 3:
            raise ValueError(f"{source}: expected an array (n, C, L), got shape {array.shape}")
        _, channels, length = array.shape
        super().__init__(
            array,
            ids,
            spec={"channels": int(channels), "length": int(length)},
            source=source,
            metadata=metadata,
            skipped=skipped,
            notes=notes,
        )
        self.preprocessing: dict[str, Any] = dict(
            preprocessing
            or {
                "normalize": "none",
                "mean": None,
                "std": None,
                "length": int(length),
                "length_policy": "pad",
                "channels": int(channels),
            }
        )
        self.normalize_on_load = normalize_on_load

    def load(self, index: int) -> torch.Tensor:
        """Sample ``index`` as a float32 tensor ``(C, L)``."""
        return torch.from_numpy(self.raw([index])[0])

    def raw(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Samples ``indices`` as a new float32 array ``(k, C, L)``."""
        # fancy indexing copies, so normalising in place never touches ``array``
        x = np.asarray(self.array[np.asarray(indices, dtype=np.int64)], dtype=np.float32)
        if self.normalize_on_load:
            cleaning.normalize_array(x, self.preprocessing, in_place=True)
        return x


def read_series(
    source: str,
    *,
    split: str = "all",
    length: int | None = None,
    length_policy: str = "pad",
    normalize: str = "dataset",
    id_column: str = "id",
    time_column: str = "time",
    value_columns: list[str] | None = None,
    format: str | None = None,
    base_dir: str | Path | None = None,
    preprocessing: dict[str, Any] | None = None,
    exclude_columns: list[str] | None = None,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> SeriesSampleSet:
    """Read, clean and normalise the series of ``source``.

    Args:
        source: ``"sktime:<Name>"`` (see :data:`BUNDLED_SKTIME_DATASETS`) or a file path
            (``.ts``, ``.npz``, ``.npy``, ``.csv``, ``.parquet``).
        split: for ``sktime:`` sources, ``"all"`` (train then test), ``"train"`` or ``"test"``.
        length: target length; default the longest (pad) or shortest (crop) series.
        length_policy: ``"pad"`` (repeat each channel's last value) or ``"crop"`` (keep the
            first ``length`` steps).
        normalize: ``"dataset"`` (per-channel mean/std of this data), ``"series"`` (z-normalise
            each series per channel) or ``"none"``.
        id_column: table column naming each series.
        time_column: table column ordering the steps of a long table.
        value_columns: long tables: the channel columns (default: the numeric columns other
            than id/time); wide tables: the step columns (default: all but the id).
        format: ``"wide"`` or ``"long"`` to override the detection for tables.
        base_dir: folder that relative paths are resolved against (the recipe's folder).
        preprocessing: the ``preprocessing`` of a previously read set; its length, length
            policy, normalisation and mean/std are reused instead of being fitted again.
        exclude_columns: table columns that hold labels; they are never read as input.
        encoding: the text encoding of a ``.csv`` table (e.g. ``"latin-1"``, ``"utf-8-sig"``).
        delimiter: what separates a ``.csv`` table's cells (``","``, ``";"``, ``"\\t"``, ...).

    Returns:
        A :class:`SeriesSampleSet` of ``(C, L)`` float32 series with ``notes`` and ``skipped``.

    Raises:
        FileNotFoundError: the file does not exist (the message names it and ``base_dir``).
        DataError: bad arguments, a folder instead of a file, an unreadable or damaged file, no
            usable series, too-short series or a channel count that does not match
            ``preprocessing``.
    """
    _check_choice("split", split, SPLITS)
    _check_choice("length_policy", length_policy, LENGTH_POLICIES)
    _check_choice("normalize", normalize, NORMALIZATIONS)
    encoding, delimiter = _csv_option("encoding", encoding_option, encoding), _csv_option(
        "delimiter", delimiter_option, delimiter)
    if length is not None and length < cleaning.MIN_LENGTH:
        raise DataError(
            f"The 'length' parameter of read_series must be at least {cleaning.MIN_LENGTH} "
            f"(the encoder and the MiniRocket baseline need it). Got {length} instead."
        )
    length, length_policy, normalize = _stored_choices(preprocessing, length, length_policy, normalize)
    if scheme_of(source) == "sktime":
        name = bundled_name(without_scheme(source, "sktime"))
        origin = f"sktime:{name}"
        series: np.ndarray | list[np.ndarray]
        series, ids = _read_bundled(name, split)
        skipped: list[SkippedSample] = []
        notes: list[str] = []
    else:
        if split != "all":
            raise DataError(f"{source}: split={split!r} only applies to sktime: sources.")
        path = _resolve(source, base_dir)
        origin = str(path)
        if format is not None and path.suffix.lower() not in (".csv", ".parquet"):
            raise DataError(f"{path}: format={format!r} only applies to .csv and .parquet tables.")
        if path.suffix.lower() == ".npy":
            lazy = _read_npy_lazy(path, length, length_policy, normalize, preprocessing)
            if lazy is not None:
                return lazy
        series, ids, skipped, notes = _read_file(
            path, id_column, time_column, value_columns, format, exclude_columns or [], encoding, delimiter
        )
    cleaned = cleaning.clean_series(series, ids, source=origin, length=length, length_policy=length_policy)
    fitted = cleaning.fit_preprocessing(
        cleaned.array, normalize=normalize, length_policy=length_policy, stored=preprocessing, source=origin
    )
    cleaning.normalize_array(cleaned.array, fitted, in_place=True)
    all_notes = notes + cleaned.notes + cleaning.normalization_notes(fitted, preprocessing)
    return SeriesSampleSet(
        cleaned.array,
        cleaned.ids,
        source=origin,
        preprocessing=fitted,
        skipped=skipped + cleaned.skipped,
        notes=all_notes,
    )


def read_sktime_labels(name: str, split: str = "all") -> pd.DataFrame:
    """The class labels of a bundled sktime data set.

    Args:
        name: a name in :data:`BUNDLED_SKTIME_DATASETS` (``"sktime:"`` prefix allowed).
        split: ``"all"``, ``"train"`` or ``"test"``.

    Returns:
        Columns ``id`` (the ids :func:`read_series` gives) and ``class`` (labels as strings;
        for the regression sets Covid3Month and Tecator, the target as a string).
    """
    _check_choice("split", split, SPLITS)
    name = bundled_name(without_scheme(name, "sktime"))
    frames = []
    for part in _parts(split):
        _, labels = _load_bundled_part(name, part)
        ids = [f"{part}-{i:04d}" for i in range(len(labels))]
        frames.append(pd.DataFrame({"id": ids, "class": [str(y) for y in labels]}))
    return pd.concat(frames, ignore_index=True)


def bundled_name(name: str) -> str:
    """The canonical spelling of a bundled data set name, or a :class:`DataError`.

    Example:
        >>> bundled_name("gunpoint")
        'GunPoint'
    """
    by_lower = {known.lower(): known for known in BUNDLED_SKTIME_DATASETS}
    if name.lower() not in by_lower:
        raise DataError(
            f"'sktime:{name}' is not a data set bundled with sktime, and proxyml does not "
            f"download data. Bundled: {', '.join(BUNDLED_SKTIME_DATASETS)}. For another "
            "UCR/UEA data set, download its .ts files and give their path instead."
        )
    return by_lower[name.lower()]


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise DataError(
            f"The {name!r} parameter of read_series must be one of {', '.join(allowed)}. "
            f"Got {value!r} instead."
        )


def _csv_option(name: str, check: Any, value: str) -> str:
    try:
        return str(check(value))
    except ValueError as exc:
        raise DataError(f"The {name!r} parameter of read_series: {exc}.") from None


def _stored_choices(
    preprocessing: dict[str, Any] | None, length: int | None, length_policy: str, normalize: str
) -> tuple[int | None, str, str]:
    """Length, length policy and normalisation to use: the stored ones when given."""
    if preprocessing is None:
        return length, length_policy, normalize
    missing = [k for k in ("normalize", "length", "length_policy") if k not in preprocessing]
    if preprocessing.get("normalize") == "dataset":
        missing += [k for k in ("mean", "std") if preprocessing.get(k) is None]
    if missing:
        raise DataError(f"The stored preprocessing lacks {missing}; got keys {sorted(preprocessing)}.")
    stored_length = int(preprocessing["length"])
    if length is not None and length != stored_length:
        raise DataError(
            f"length={length} conflicts with the stored preprocessing (length {stored_length}); "
            "new data must be read at the length the model was trained on."
        )
    _check_choice("length_policy", preprocessing["length_policy"], LENGTH_POLICIES)
    _check_choice("normalize", preprocessing["normalize"], NORMALIZATIONS)
    return stored_length, preprocessing["length_policy"], preprocessing["normalize"]


def _resolve(source: str, base_dir: str | Path | None) -> Path:
    path = resolve_path(source, base_dir)
    where = f" (relative paths are resolved against {base_dir})" if base_dir is not None else ""
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.suffix.lower() in SUPPORTED_EXTENSIONS)
        hint = f"; it holds e.g. {', '.join(inside[:5])}" if inside else ""
        raise DataError(
            f"{path} is a directory{where}, but a time-series source must be one file "
            f"({', '.join(SUPPORTED_EXTENSIONS)}) or 'sktime:<Name>'; name the file{hint}."
        )
    if not path.is_file():
        raise FileNotFoundError(f"Time-series file not found: {path}{where}")
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise DataError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; time series can be "
            f"read from {', '.join(SUPPORTED_EXTENSIONS)} files or 'sktime:<Name>'."
        )
    return path


def _read_file(
    path: Path,
    id_column: str,
    time_column: str,
    value_columns: list[str] | None,
    format: str | None,
    exclude_columns: list[str],
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> tuple[np.ndarray | list[np.ndarray], list[str], list[SkippedSample], list[str]]:
    """Raw series ``(n, C, L)`` or ``[(C, L_i)]``, ids, skipped rows and notes of a file."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet"):
        return read_table(path, id_column, time_column, value_columns, format, exclude_columns, encoding, delimiter)
    if suffix == ".ts":
        series, _ = _parse_ts(path)
        return series, [str(i) for i in range(len(series))], [], []
    if suffix == ".npz":
        array, ids = _read_npz(path)
        return array, ids, [], []
    array = _as_3d(_load_npy(path), path, "the array")
    return (
        array,
        [str(i) for i in range(len(array))],
        [],
        [
            f"Read {path.name} into memory (not memory-mapped) because it has missing, infinite or "
            "out-of-range values or needs padding."
        ],
    )


def _damaged(path: Path, exc: BaseException) -> DataError:
    """The error for a file numpy cannot read as the ``.npz``/``.npy`` its name says it is."""
    npz = path.suffix.lower() == ".npz"
    what, save = ("an .npz archive", "np.savez(path, X=x)") if npz else ("an .npy file", "np.save(path, x)")
    detail = str(exc)
    if "pickled" in detail:  # numpy's guess for a file that is neither a zip nor an .npy
        detail = "neither a zip archive nor an .npy array"
    return DataError(
        f"{path}: damaged or not {what} written by NumPy ({type(exc).__name__}: {detail}); "
        f"re-export it with {save}."
    )


def _holds_objects(exc: BaseException) -> bool:
    """Whether numpy refused an array of Python objects (rather than a damaged file)."""
    return isinstance(exc, ValueError) and ("Object arrays" in str(exc) or "Python objects" in str(exc))


def _load_npy(path: Path, mmap_mode: Any = None) -> np.ndarray:
    """The array of an ``.npy`` file, or a :class:`DataError` saying why it cannot be read."""
    try:
        loaded = np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except _LOAD_ERRORS as exc:
        if _holds_objects(exc):
            raise DataError(
                f"{path}: holds Python objects (dtype object), not numbers; save a numeric array, "
                "e.g. np.save(path, x.astype(np.float32))."
            ) from exc
        raise _damaged(path, exc) from exc
    if isinstance(loaded, np.lib.npyio.NpzFile):
        loaded.close()
        raise DataError(f"{path}: is an .npz archive, not an .npy file; rename it to .npz.")
    return loaded


def _read_npz(path: Path) -> tuple[np.ndarray, list[str]]:
    try:
        archive = np.load(path, allow_pickle=False)
    except _LOAD_ERRORS as exc:
        raise _damaged(path, exc) from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(
            f"{path}: holds a single array (an .npy file), not an .npz archive; rename it to .npy "
            "or save it with np.savez(path, X=x)."
        )
    with archive:
        if "X" not in archive.files:
            raise DataError(f"{path}: an .npz needs an array 'X' (n, C, L); found {archive.files}.")
        try:
            x = archive["X"]
            raw_ids = archive["ids"] if "ids" in archive.files else None
        except _LOAD_ERRORS as exc:
            if not _holds_objects(exc):
                raise _damaged(path, exc) from exc
            raise DataError(
                f"{path}: cannot read ({exc}); store numbers for 'X' and strings for 'ids', "
                "e.g. np.savez(path, X=x, ids=np.array(ids, dtype=str))."
            ) from exc
    array = _as_3d(x, path, "'X'")
    ids = None if raw_ids is None else [str(i) for i in raw_ids]
    if ids is None:
        return array, [str(i) for i in range(len(array))]
    if len(ids) != len(array):
        raise DataError(f"{path}: 'ids' has {len(ids)} entries but 'X' has {len(array)} series.")
    duplicates = sorted(repeated_ids(ids))
    if duplicates:
        raise DataError(f"{path}: 'ids' repeats {len(duplicates)} ids, e.g. {duplicates[:5]}.")
    return array, ids


def _as_3d(array: np.ndarray, path: Path, what: str) -> np.ndarray:
    """View ``(n, L)`` as ``(n, 1, L)``; check the shape and dtype of ``(n, C, L)``."""
    if array.dtype.kind not in "biuf":
        raise DataError(f"{path}: {what} must hold numbers, got dtype {array.dtype}.")
    if array.ndim == 2:
        return array[:, None, :]
    if array.ndim != 3:
        raise DataError(f"{path}: {what} must have shape (n, C, L) or (n, L), got {array.shape}.")
    return array


def _read_npy_lazy(
    path: Path,
    length: int | None,
    length_policy: str,
    normalize: str,
    preprocessing: dict[str, Any] | None,
) -> SeriesSampleSet | None:
    """Wrap an ``.npy`` memory-mapped, or return ``None`` when it needs an in-memory copy.

    A copy is needed when the kept steps have missing values, when a series holds an infinite
    or out-of-range value (the in-memory path skips it and names it; the file is scanned here a
    chunk at a time, never loaded whole) or when the series must be padded; otherwise cropping is
    a view and normalisation happens as samples are loaded.
    """
    array = _as_3d(_load_npy(path, mmap_mode="r"), path, "the array")
    lengths = np.full(len(array), array.shape[2], dtype=np.int64)
    if len(array) == 0 or (length is not None and length > array.shape[2]):
        return None
    target = cleaning.target_length(lengths, length, length_policy, str(path))
    view = array[:, :, :target]
    if cleaning.has_missing(view) or cleaning.out_of_range_rows(array).any():
        return None
    fitted = cleaning.fit_preprocessing(
        view, normalize=normalize, length_policy=length_policy, stored=preprocessing, source=str(path)
    )
    notes = cleaning.length_notes(lengths, target, length_policy)
    notes.append(f"Kept {path.name} memory-mapped; samples are read from disk as they are needed.")
    notes += cleaning.normalization_notes(fitted, preprocessing)
    ids = [str(i) for i in range(len(view))]
    return SeriesSampleSet(
        view, ids, source=str(path), preprocessing=fitted, normalize_on_load=normalize != "none", notes=notes
    )


def _parts(split: str) -> tuple[str, ...]:
    return ("train", "test") if split == "all" else (split,)


def _read_bundled(name: str, split: str) -> tuple[list[np.ndarray], list[str]]:
    series: list[np.ndarray] = []
    ids: list[str] = []
    for part in _parts(split):
        part_series, _ = _load_bundled_part(name, part)
        series += part_series
        ids += [f"{part}-{i:04d}" for i in range(len(part_series))]
    return series, ids


@lru_cache(maxsize=8)
def _load_bundled_part(name: str, part: str) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """Series ``[(C, L_i)]`` (read-only) and labels of ``<name>_<PART>.ts`` inside sktime."""
    spec = importlib.util.find_spec("sktime")
    if spec is None or spec.origin is None:
        raise DataError("sktime: sources need the sktime package, which is not installed.")
    path = Path(spec.origin).parent / "datasets" / "data" / name / f"{name}_{part.upper()}.ts"
    if not path.is_file():
        raise DataError(f"sktime:{name}: {path} is missing from the installed sktime package.")
    series, labels = _parse_ts(path)
    for x in series:
        x.flags.writeable = False
    return series, tuple(str(y) for y in labels)


def _parse_ts(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """Series ``[(C, L_i)]`` and labels (empty without class labels) of a ``.ts`` file."""
    from sktime.datasets import load_from_tsfile_to_dataframe

    try:
        loaded = load_from_tsfile_to_dataframe(str(path), return_separate_X_and_y=True)
    except (OSError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise DataError(f"{path}: cannot read as a .ts file: {exc}{_ts_where(path)}") from exc
    frame, labels = loaded if isinstance(loaded, tuple) else (loaded, [])
    if frame.shape[1] == 0:  # sktime reads lines without ':label' as labels with no values
        raise DataError(f"{path}: cannot read as a .ts file: no dimension holds values{_ts_where(path)}")
    series = [_channels_to_array(list(row)) for row in frame.itertuples(index=False)]
    return series, [str(y) for y in labels]


def _ts_where(path: Path) -> str:
    """``" (line N: 'text': why)"`` for the first bad data line of a ``.ts`` file, or ``""``."""
    try:
        found = first_bad_ts_line(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return ""
    if found is None:
        return ""
    number, text, why = found
    shown = text if len(text) <= 60 else text[:57] + "..."
    return f" (line {number}: {shown!r}: {why})"


def first_bad_ts_line(lines: Sequence[str]) -> tuple[int, str, str] | None:
    """The first data line of a ``.ts`` file that sktime's reader would choke on, or ``None``.

    A heuristic for the common mistakes (sktime's messages give no line number without
    timestamps): a value that is not a number (``?`` is a missing value), a line with another
    number of dimensions than ``@dimensions`` (or ``@univariate true``, or the first data line),
    and a line without a class label when ``@classLabel true``.

    Returns:
        The 1-based line number, the line and what is wrong with it.

    Example:
        >>> first_bad_ts_line(["@univariate true", "@classLabel true a", "@data", "1,2:a", "1,x:a"])
        (5, '1,x:a', "'x' is not a number")
    """
    labelled, timestamps, expected, in_data = False, False, None, False
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if not in_data:
            tokens = line.lower().split()
            if tokens[0] == "@data":
                in_data = True
            elif tokens[0] in ("@classlabel", "@targetlabel") and len(tokens) > 1:
                labelled = tokens[1] == "true"
            elif tokens[0] == "@timestamps" and len(tokens) > 1:
                timestamps = tokens[1] == "true"
            elif tokens[0] == "@univariate" and len(tokens) > 1 and tokens[1] == "true":
                expected = 1 if expected is None else expected
            elif tokens[0] == "@dimensions" and len(tokens) > 1 and tokens[1].isdigit():
                expected = int(tokens[1])
            continue
        if timestamps:
            return None  # sktime's messages name the line in this form
        fields = line.split(":")
        if labelled:
            if len(fields) < 2 or not fields[-1].strip():
                return number, line, "no class label after the last ':' although @classLabel is true"
            fields = fields[:-1]
        if expected is None:
            expected = len(fields)
        if len(fields) != expected:
            return number, line, f"has {len(fields)} dimension(s), expected {expected}"
        for field in fields:
            if not field.strip():
                continue  # an empty dimension is allowed
            for value in field.split(","):
                value = value.strip()
                if value == "?":
                    continue
                try:
                    float(value)
                except ValueError:
                    return number, line, f"{value!r} is not a number" if value else "has an empty value"
    return None


def _channels_to_array(cells: list[Any]) -> np.ndarray:
    """``(C, L)`` float64 from one series per channel; shorter channels end in NaN."""
    channels = [np.asarray(cell, dtype=np.float64) for cell in cells]
    steps = max(len(c) for c in channels)
    out = np.full((len(channels), steps), np.nan)
    for row, values in zip(out, channels, strict=True):
        row[: len(values)] = values
    return out
