"""Cleaning of raw time series: missing values, unequal lengths and normalisation.

A series is a float array ``(C, L)``: ``C`` channels, ``L`` steps. :func:`clean_series` turns
the raw series of one source into a single ``(n, C, L)`` float32 array and states every change
it made (``notes``) and every series it dropped (``skipped``), so that a reader never changes
data silently.

Example:
    >>> import numpy as np
    >>> raw = [np.arange(10.0)[None], np.array([[0.0, np.nan, 2.0] + [3.0] * 9])]
    >>> cleaned = clean_series(raw, ["a", "b"], source="demo", length=None, length_policy="pad")
    >>> cleaned.array.shape
    (2, 1, 12)
    >>> cleaned.array[0, 0, -3:].tolist()  # padded with the last observed value
    [9.0, 9.0, 9.0]
    >>> cleaned.array[1, 0, :3].tolist()  # interpolated
    [0.0, 1.0, 2.0]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from proxyml.data import SkippedSample
from proxyml.errors import DataError

MIN_LENGTH = 9
"""The shortest series the conv encoder and the MiniRocket baseline accept."""

VALUE_LIMIT = float(np.finfo(np.float32).max)
"""The largest magnitude a value may have (about 3.4e38): series are stored as float32, so a
larger value would become ``inf`` there. Statistics are computed in float64, where the squares of
values up to this bound (about 1.2e77) cannot overflow."""

STD_FLOOR = 1e-8
ALL_MISSING = "all values missing"
_CHUNK_VALUES = 1 << 22  # values per chunk when scanning a memory-mapped array


@dataclass
class CleanedSeries:
    """The outcome of :func:`clean_series`.

    Attributes:
        array: ``(n, C, L)`` float32, one row per kept series.
        ids: the kept ids, aligned with ``array``.
        skipped: dropped series with their reasons.
        notes: one sentence per kind of change made.
    """

    array: np.ndarray
    ids: list[str]
    skipped: list[SkippedSample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def clean_series(
    series: np.ndarray | Sequence[np.ndarray],
    ids: Sequence[str],
    *,
    source: str,
    length: int | None,
    length_policy: str,
) -> CleanedSeries:
    """Drop unusable series, fill missing values and bring every series to one length.

    Args:
        series: ``(n, C, L)`` array, or ``n`` arrays ``(C, L_i)`` of possibly different lengths.
            Inputs are never modified.
        ids: one id per series.
        source: the file path or ``"sktime:Name"``, used in skipped entries and errors.
        length: the target length; ``None`` picks the longest (pad) or shortest (crop) series.
        length_policy: ``"pad"`` (right-pad with each channel's last value; crop longer series
            when ``length`` is given) or ``"crop"`` (keep the first ``length`` steps; series
            shorter than an explicit ``length`` are skipped).

    Returns:
        The cleaned ``(n_kept, C, L)`` float32 array with ids, skipped series and notes.

    Raises:
        DataError: when no series survives, or when the target length is below ``MIN_LENGTH``.
    """
    skipped: list[SkippedSample] = []
    notes: list[str] = []
    series, ids = _drop_out_of_range(series, ids, source, skipped, notes)
    if isinstance(series, np.ndarray) and not np.isnan(series).any():
        # complete, equal-length input: no per-series work needed
        kept: np.ndarray | list[np.ndarray] = series
        kept_ids = [str(i) for i in ids]
    else:
        kept, kept_ids = _drop_and_fill(series, ids, source, skipped, notes)
    if len(kept_ids) == 0:
        raise DataError(_nothing_left_message(source, skipped))
    if isinstance(kept, np.ndarray):
        lengths = np.full(len(kept), kept.shape[-1], dtype=np.int64)
    else:
        lengths = np.array([x.shape[-1] for x in kept], dtype=np.int64)
    target = target_length(lengths, length, length_policy, source)
    keep = lengths >= target if length_policy == "crop" else np.ones(len(lengths), dtype=bool)
    for position in np.flatnonzero(~keep):
        reason = f"shorter ({lengths[position]} steps) than the target length {target}"
        skipped.append(SkippedSample(kept_ids[position], source, reason + " under length_policy='crop'"))
    if not keep.any():
        raise DataError(_nothing_left_message(source, skipped))
    notes.extend(length_notes(lengths, target, length_policy))
    array = _stack_to_length(kept, keep, target)
    return CleanedSeries(array, [i for i, k in zip(kept_ids, keep, strict=True) if k], skipped, notes)


def out_of_range(x: np.ndarray) -> np.ndarray:
    """Mask of the values of ``x`` that are infinite or beyond ``±VALUE_LIMIT`` (NaN is not).

    Example:
        >>> out_of_range(np.array([1.0, np.nan, -np.inf, 1e300])).tolist()
        [False, False, True, True]
    """
    if x.dtype.kind != "f":
        return np.zeros(x.shape, dtype=bool)
    return np.abs(x) > VALUE_LIMIT


def out_of_range_rows(array: np.ndarray) -> np.ndarray:
    """Which series of ``array: (n, C, L)`` hold an infinite or out-of-range value.

    Scans a memory-mapped array a chunk at a time, never the whole file at once.
    """
    bad = np.zeros(len(array), dtype=bool)
    if array.dtype.kind != "f":
        return bad
    rows = _chunk_rows(array)
    for start in range(0, len(array), rows):
        chunk = np.asarray(array[start : start + rows])
        bad[start : start + len(chunk)] = out_of_range(chunk).reshape(len(chunk), -1).any(axis=1)
    return bad


def out_of_range_reason(x: np.ndarray) -> str:
    """Why the series ``x: (C, L)`` is skipped: how many bad values, and the first one."""
    mask = out_of_range(np.asarray(x))
    channel, step = (int(i) for i in np.argwhere(mask)[0])
    count = int(mask.sum())
    return (
        f"has {count} infinite or out-of-range value{'s' if count > 1 else ''} (e.g. "
        f"{float(x[channel, step]):g} at channel {channel}, step {step})"
    )


def _drop_out_of_range(
    series: np.ndarray | Sequence[np.ndarray],
    ids: Sequence[str],
    source: str,
    skipped: list[SkippedSample],
    notes: list[str],
) -> tuple[np.ndarray | Sequence[np.ndarray], Sequence[str]]:
    """Skip the series with an infinite or out-of-range value, before any statistic sees them."""
    if isinstance(series, np.ndarray):
        bad = out_of_range_rows(series)
    else:
        bad = np.array([bool(out_of_range(np.asarray(x)).any()) for x in series], dtype=bool)
    if not bad.any():
        return series, ids
    for position in np.flatnonzero(bad).tolist():
        skipped.append(SkippedSample(str(ids[position]), source, out_of_range_reason(series[position])))
    notes.append(
        f"Skipped {int(bad.sum())} series with an infinite value or a value beyond ±{VALUE_LIMIT:.4g} "
        "(the float32 range series are stored in); channels and steps in their reasons count from 0."
    )
    kept_ids = [str(i) for i, b in zip(ids, bad, strict=True) if not b]
    if isinstance(series, np.ndarray):
        return series[~bad], kept_ids
    return [x for x, b in zip(series, bad, strict=True) if not b], kept_ids


def _chunk_rows(array: np.ndarray) -> int:
    """How many series of ``array: (n, ...)`` make one chunk of about ``_CHUNK_VALUES`` values."""
    return max(1, _CHUNK_VALUES // max(1, int(np.prod(array.shape[1:]))))


def _drop_and_fill(
    series: Iterable[np.ndarray],
    ids: Sequence[str],
    source: str,
    skipped: list[SkippedSample],
    notes: list[str],
) -> tuple[list[np.ndarray], list[str]]:
    """Skip series with a channel that has no observed value; trim and interpolate the rest."""
    kept: list[np.ndarray] = []
    kept_ids: list[str] = []
    n_all_missing = n_trimmed = n_filled_values = n_filled_series = 0
    for x, sample_id in zip(series, ids, strict=True):
        x = np.asarray(x, dtype=np.float64)
        observed = ~np.isnan(x)
        if x.shape[-1] == 0 or not observed.any(axis=1).all():
            skipped.append(SkippedSample(str(sample_id), source, ALL_MISSING))
            n_all_missing += 1
            continue
        last = int(np.flatnonzero(observed.any(axis=0))[-1])
        if last < x.shape[1] - 1:
            x, observed, n_trimmed = x[:, : last + 1], observed[:, : last + 1], n_trimmed + 1
        n_missing = int(x.size - observed.sum())
        if n_missing:
            x = fill_missing(x)
            n_filled_values += n_missing
            n_filled_series += 1
        kept.append(x)
        kept_ids.append(str(sample_id))
    if n_all_missing:
        notes.append(f"Skipped {n_all_missing} series whose values are all missing in at least one channel.")
    if n_trimmed:
        notes.append(
            f"Read the trailing steps missing in every channel of {n_trimmed} series as the end "
            "of a shorter series (the way wide tables and NaN-padded arrays store short series)."
        )
    if n_filled_values:
        notes.append(
            f"Filled {n_filled_values} missing values in {n_filled_series} series by linear "
            "interpolation within each channel (before the first or after the last observation, "
            "the nearest observed value is copied)."
        )
    return kept, kept_ids


def fill_missing(x: np.ndarray) -> np.ndarray:
    """Linearly interpolate the NaNs of each channel of ``x: (C, L)``; edges copy the nearest value.

    Every channel must have at least one observed value. Returns a new array.

    Example:
        >>> fill_missing(np.array([[np.nan, 1.0, np.nan, 3.0, np.nan]])).tolist()
        [[1.0, 1.0, 2.0, 3.0, 3.0]]
    """
    filled = np.array(x, dtype=np.float64)
    steps = np.arange(filled.shape[1])
    for channel in filled:
        missing = np.isnan(channel)
        if missing.any():
            channel[missing] = np.interp(steps[missing], steps[~missing], channel[~missing])
    return filled


def fit_length(x: np.ndarray, target: int) -> np.ndarray:
    """Crop or right-pad the last axis of ``x: (..., L)`` to ``target`` steps.

    Padding repeats each channel's last value.

    Example:
        >>> fit_length(np.array([[1.0, 2.0]]), 4).tolist()
        [[1.0, 2.0, 2.0, 2.0]]
    """
    steps = x.shape[-1]
    if steps >= target:
        return x[..., :target]
    padding = np.repeat(x[..., -1:], target - steps, axis=-1)
    return np.concatenate([x, padding], axis=-1)


def length_notes(lengths: np.ndarray, target: int, length_policy: str) -> list[str]:
    """The sentences describing how series of ``lengths`` were brought to ``target`` steps."""
    notes = []
    shorter = lengths < target
    if shorter.any() and length_policy == "pad":
        notes.append(
            f"Padded {int(shorter.sum())} series shorter than {target} steps (shortest "
            f"{int(lengths.min())}) to {target} steps by repeating each channel's last value."
        )
    elif shorter.any():
        notes.append(
            f"Skipped {int(shorter.sum())} series shorter than the target length {target} "
            "(length_policy='crop' does not pad)."
        )
    longer = lengths > target
    if longer.any():
        notes.append(
            f"Cropped {int(longer.sum())} series longer than {target} steps (longest "
            f"{int(lengths.max())}) to their first {target} steps."
        )
    return notes


def target_length(lengths: np.ndarray, length: int | None, length_policy: str, source: str) -> int:
    """The common length: ``length`` if given, else the longest (pad) or shortest (crop) series.

    Raises:
        DataError: when the chosen length is below ``MIN_LENGTH``.
    """
    if length is not None:
        return length
    if length_policy == "pad":
        target, why = int(lengths.max()), "the longest series"
    else:
        target, why = int(lengths.min()), "the shortest series (length_policy='crop' cuts to it)"
    if target < MIN_LENGTH:
        hint = "; try length_policy='pad'" if length_policy == "crop" else ""
        raise DataError(
            f"{source}: series need at least {MIN_LENGTH} steps (the encoder and the MiniRocket "
            f"baseline require it), but {why} has {target} steps after cleaning{hint}."
        )
    return target


def _stack_to_length(series: np.ndarray | Sequence[np.ndarray], keep: np.ndarray, target: int) -> np.ndarray:
    """Stack the kept series into a new ``(n_kept, C, target)`` float32 array."""
    if isinstance(series, np.ndarray):
        kept = series if keep.all() else series[keep]
        return np.array(fit_length(kept, target), dtype=np.float32)
    rows = [x for x, k in zip(series, keep, strict=True) if k]
    out = np.empty((len(rows), rows[0].shape[0], target), dtype=np.float32)
    for position, x in enumerate(rows):
        out[position] = fit_length(x, target)
    return out


def _nothing_left_message(source: str, skipped: list[SkippedSample]) -> str:
    if not skipped:
        return f"{source}: holds no series to read."
    reasons = Counter(s.reason for s in skipped)
    summary = "; ".join(f"{reason} ({count})" for reason, count in reasons.most_common(3))
    if len(reasons) > 3:
        summary += f"; and {len(reasons) - 3} other reasons"
    return f"{source}: no usable series; all {len(skipped)} were skipped: {summary}."


def channel_stats(array: np.ndarray, *, source: str = "the data") -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of ``array: (n, C, L)``, in chunks, in float64.

    Reads a memory-mapped array a chunk at a time; the std is floored at ``STD_FLOOR``.

    Returns:
        ``mean: (C,)`` and ``std: (C,)`` as float64, both finite.

    Raises:
        DataError: naming ``source``, when a statistic is not finite (the readers skip series
            with infinite or out-of-range values before this, so it means such a value got in).
    """
    n, channels, steps = array.shape
    rows = _chunk_rows(array)
    count, mean, m2 = 0, np.zeros(channels), np.zeros(channels)
    with np.errstate(invalid="ignore", over="ignore"):  # a non-finite result is raised below
        for start in range(0, n, rows):
            chunk = np.asarray(array[start : start + rows], dtype=np.float64)
            size = chunk.shape[0] * steps
            chunk_mean = chunk.mean(axis=(0, 2))
            chunk_m2 = ((chunk - chunk_mean[None, :, None]) ** 2).sum(axis=(0, 2))
            delta, total = chunk_mean - mean, count + size
            mean = mean + delta * size / total
            m2 = m2 + chunk_m2 + delta**2 * count * size / total
            count = total
    std = np.maximum(np.sqrt(m2 / max(count, 1)), STD_FLOOR)
    if not (np.isfinite(mean).all() and np.isfinite(std).all()):
        raise DataError(
            f"{source}: the per-channel mean/std are not finite (mean {_short(mean.tolist())}, std "
            f"{_short(std.tolist())}); the data holds infinite or out-of-range values. Remove them "
            "(values must be finite and within float32 range) or use normalize='series'."
        )
    return mean, std


def has_missing(array: np.ndarray) -> bool:
    """Whether ``array: (n, C, L)`` holds a NaN; scans a memory-mapped array in chunks."""
    if array.dtype.kind != "f":
        return False
    rows = _chunk_rows(array)
    return any(np.isnan(array[start : start + rows]).any() for start in range(0, len(array), rows))


def normalize_array(x: np.ndarray, preprocessing: dict[str, Any], *, in_place: bool = False) -> np.ndarray:
    """Apply the normalisation described by ``preprocessing`` to ``x: (n, C, L)`` float32.

    ``"dataset"`` uses the stored per-channel ``mean``/``std``; ``"series"`` z-normalises each
    series per channel; ``"none"`` returns ``x`` unchanged. The arithmetic is done in float64 a
    chunk of series at a time, so values near the float32 limit neither overflow in ``x - mean``
    nor in a series' sum of squares.
    """
    mode = preprocessing["normalize"]
    out = x if in_place else np.array(x, dtype=np.float32)
    if mode not in ("dataset", "series"):
        return out
    if mode == "dataset":
        mean = np.asarray(preprocessing["mean"], dtype=np.float64)[None, :, None]
        std = np.asarray(preprocessing["std"], dtype=np.float64)[None, :, None]
    rows = _chunk_rows(out)
    for start in range(0, len(out), rows):
        chunk = out[start : start + rows].astype(np.float64)
        if mode == "series":
            mean = chunk.mean(axis=2, keepdims=True)
            std = np.maximum(chunk.std(axis=2, keepdims=True), STD_FLOOR)
        out[start : start + rows] = (chunk - mean) / std
    return out


def fit_preprocessing(
    array: np.ndarray,
    *,
    normalize: str,
    length_policy: str,
    stored: dict[str, Any] | None,
    source: str,
) -> dict[str, Any]:
    """The JSON-able preprocessing record of ``array: (n, C, L)`` (raw, un-normalised values).

    With ``stored`` (the record of the training data) its mean/std are reused, and a different
    channel count is a :class:`DataError`; otherwise ``"dataset"`` fits per-channel mean/std.

    Returns:
        ``{"normalize", "mean", "std", "length", "length_policy", "channels"}``; mean and std
        are lists of floats for ``"dataset"`` and ``None`` otherwise.
    """
    _, channels, steps = array.shape
    mean: list[float] | None = None
    std: list[float] | None = None
    if stored is not None:
        expected = stored.get("channels")
        if expected is None and stored.get("mean") is not None:
            expected = len(stored["mean"])
        if expected is not None and int(expected) != channels:
            raise DataError(
                f"{source}: the data has {channels} channel(s) but the stored preprocessing was "
                f"fitted on {expected}; new data must have the channels of the training data."
            )
        if normalize == "dataset":
            mean, std = [float(v) for v in stored["mean"]], [float(v) for v in stored["std"]]
            if not all(np.isfinite(mean)) or not all(np.isfinite(std)) or min(std, default=1.0) <= 0:
                raise DataError(
                    f"{source}: the stored preprocessing has a non-finite mean or a std that is not "
                    f"a positive number (mean {_short(mean)}, std {_short(std)}); it cannot be applied."
                )
    elif normalize == "dataset":
        fitted_mean, fitted_std = channel_stats(array, source=source)
        mean, std = fitted_mean.tolist(), fitted_std.tolist()
    return {
        "normalize": normalize,
        "mean": mean,
        "std": std,
        "length": int(steps),
        "length_policy": length_policy,
        "channels": int(channels),
    }


def normalization_notes(fitted: dict[str, Any], stored: dict[str, Any] | None) -> list[str]:
    notes = []
    if stored is not None:
        notes.append(
            f"Applied the stored preprocessing (length {fitted['length']}, length_policy "
            f"{fitted['length_policy']!r}, normalize {fitted['normalize']!r}) instead of fitting "
            "new values."
        )
    if fitted["normalize"] == "dataset":
        which = "the stored" if stored is not None else "this data set's"
        notes.append(
            f"Normalised each channel with {which} mean and standard deviation "
            f"(mean {_short(fitted['mean'])}, std {_short(fitted['std'])})."
        )
    elif fitted["normalize"] == "series":
        notes.append("Z-normalised each series per channel with its own mean and standard deviation.")
    return notes


def _short(values: list[float]) -> str:
    shown = ", ".join(f"{v:.4g}" for v in values[:8])
    return f"[{shown}{', ...' if len(values) > 8 else ''}]"
