"""Reading a folder of ``.csv`` files, one numeric series per file, into a :class:`SampleSet`.

CHANGE: this is the part of a modality that knows your file format. Keep its shape: list the
files when the data is read (cheap), decode each one in :meth:`CsvSeriesFolder.load` (called in
DataLoader workers), raise one of ``SampleSet.decode_errors`` for a file that cannot be decoded
(the sample is then skipped and named, never a crash), and say in ``notes`` what you changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from proxyml.data import SampleSet, SkippedSample
from proxyml.errors import DataError

NAME = "csvseries"
FLOAT32_MAX = float(np.finfo(np.float32).max)


def decode_series(path: Path, min_length: int) -> np.ndarray:
    """The numbers of one file, one per line, as float64 ``(L,)``; a first line that is not a
    number is a header and is ignored. Raises :class:`DataError` naming the file and the line.

    CHANGE: decode your own format here (an audio file, a video, a JSON document ...).

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "a.csv"
        >>> _ = path.write_text("value\\n1\\n2.5\\n-3\\n")
        >>> decode_series(path, min_length=2).tolist()
        [1.0, 2.5, -3.0]
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    values: list[float] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            if number == 1:
                continue  # a header
            raise DataError(f"{path.name} line {number}: {text[:40]!r} is not a number") from None
        if not np.isfinite(value) or abs(value) > FLOAT32_MAX:
            raise DataError(f"{path.name} line {number}: {text[:40]!r} is not a finite float32 number")
        values.append(value)
    if len(values) < min_length:
        raise DataError(f"{path.name} holds {len(values)} numbers; at least min_length={min_length} are needed")
    return np.asarray(values, dtype=np.float64)


class CsvSeriesFolder(SampleSet):
    """One ``.csv`` file a sample, decoded when loaded: ``load(i)`` is ``(1, L_i)`` float32,
    normalised with the data set's mean and standard deviation (``preprocessing``).

    CHANGE: ``variable_length = True`` because the files differ in length (batched by
    ``pad_collate``: ``x = {"values", "mask"}``); set it to False if every sample has one shape.
    ``file_backed = True`` because samples are decoded from files (worth DataLoader workers).
    """

    modality = NAME
    variable_length = True
    file_backed = True

    def __init__(self, files: Sequence[Path], *, mean: float, std: float, min_length: int, **kwargs: Any) -> None:
        super().__init__([f.stem for f in files], **kwargs)
        self.files = list(files)
        self.min_length = min_length
        self.preprocessing = {"mean": mean, "std": std}  # saved as preprocessing.json, reused by embed/score

    def _values(self, index: int) -> np.ndarray:
        values = decode_series(self.files[index], self.min_length)
        return ((values - self.preprocessing["mean"]) / self.preprocessing["std"]).astype(np.float32)

    def load(self, index: int) -> torch.Tensor:
        return torch.from_numpy(self._values(index))[None, :]

    def raw(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """The series at ``indices`` as an object array of 1-D float32 arrays (they differ in
        length, so the default, which stacks, cannot hold them)."""
        out = np.empty(len(indices), dtype=object)
        for row, index in enumerate(indices):
            out[row] = self._values(int(index))
        return out


def read_folder(source: str, *, min_length: int, fit_files: int, base_dir: Path | None = None,
                preprocessing: dict[str, Any] | None = None) -> CsvSeriesFolder:
    """List the ``.csv`` files of the folder ``source``; decode the first ``fit_files`` of them
    (in name order) to check them and, unless ``preprocessing`` is given, to fit the mean and
    standard deviation. The other files are decoded only when used."""
    folder = Path(source).expanduser()
    if base_dir is not None and not folder.is_absolute():
        folder = base_dir / folder
    if not folder.is_dir():
        raise DataError(f"data.source: {folder} is not a folder of .csv files")
    files, skipped = [], []
    for path in sorted(folder.glob("*.csv")):
        if path.stat().st_size == 0:
            skipped.append(SkippedSample(path.stem, str(path), "empty file"))
        else:
            files.append(path)
    fitted = []
    for path in files[:fit_files]:
        try:
            fitted.append(decode_series(path, min_length))
        except (DataError, OSError, ValueError) as exc:
            skipped.append(SkippedSample(path.stem, str(path), f"cannot be decoded ({exc})"))
    broken = {s.source for s in skipped}
    files = [f for f in files if str(f) not in broken]
    if not files:
        raise DataError(f"data.source: {folder} holds no readable .csv series ({len(skipped)} skipped)")
    notes = [f"Listed {len(files)} .csv files in {folder.name}; each is decoded when it is used."]
    if preprocessing:
        mean, std = float(preprocessing["mean"]), float(preprocessing["std"])
        notes.append(f"Normalised with the stored mean {mean:.4g} and standard deviation {std:.4g}.")
    else:
        values = np.concatenate(fitted) if fitted else np.zeros(1)
        mean, std = float(values.mean()), float(values.std())
        std = std if np.isfinite(std) and std > 0 else 1.0
        notes.append(f"Normalised with the mean {mean:.4g} and standard deviation {std:.4g} of the first "
                     f"{len(fitted)} files.")
    return CsvSeriesFolder(files, mean=mean, std=std, min_length=min_length,
                           spec={"channels": 1, "min_length": min_length}, source=str(folder),
                           skipped=skipped, notes=notes)


def write_series_folder(folder: Path, n: int = 16, seed: int = 0) -> list[str]:
    """``n`` series of 12 to 40 values as ``s00.csv``, ``s01.csv``, ... in ``folder``: even
    numbers a noisy sine wave ("wave"), odd numbers a random walk ("walk"). Returns the ids.

    CHANGE: write a few small files of your own format.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for i in range(n):
        length = int(rng.integers(12, 41))
        if i % 2:
            values = np.cumsum(rng.standard_normal(length)) * 0.5
        else:
            values = np.sin(np.linspace(0, 3 * np.pi, length)) + 0.2 * rng.standard_normal(length)
        pd.DataFrame({"value": values}).to_csv(folder / f"s{i:02d}.csv", index=False, float_format="%.6f")
        ids.append(f"s{i:02d}")
    return ids
