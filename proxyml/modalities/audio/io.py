"""Read recordings (a folder, or a manifest CSV/Parquet) into an :class:`AudioCalls` set.

Listing reads only the files' headers (``soundfile.info``; librosa for what libsndfile cannot
open), so a call center's thousands of calls are listed in seconds and nothing is decoded then.
A sample is decoded when it is used, in DataLoader workers, and only the part that is used:

- training sees one window of ``window_seconds`` at a random place in the call
  (:meth:`AudioCalls.load_training`, drawn from the trainer's per-(seed, epoch, sample) ``rng``);
- embeddings, proxy scores and baselines see up to ``embed_windows`` windows spread evenly
  across the call, end to end (:meth:`AudioCalls.load`), or the whole call when it is shorter;

so memory is bounded by ``embed_windows x window_seconds`` whatever the length of a call.
Every window is read at the file's own rate and resampled to ``sample_rate`` with soxr (the
resampler librosa uses; never by dropping samples), then mixed down (``channels: mix``) or kept
as two channels (``channels: stereo``, e.g. agent / customer; a mono file is duplicated).

Files that cannot be opened, are empty or shorter than ``min_seconds`` are skipped at listing,
named with their reason; a file that breaks when it is decoded, or whose windows are all
silent (peak below ``silence_dbfs``), is skipped then. Files at another rate or with another
channel count are converted, and the notes say how many.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from proxyml.data import SampleSet
from proxyml.errors import DataError
from proxyml.media import count_note, list_media, probe_files, subset_metadata

NAME = "audio"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff", ".aif")


def _soundfile() -> Any:
    try:
        import soundfile
    except ImportError as exc:  # pragma: no cover - the audio extra is part of `make` installs
        raise DataError("audio data needs the audio extra: pip install 'proxyml[audio]' "
                        f"(soundfile, librosa, torchaudio): {exc}") from None
    return soundfile


@dataclass(frozen=True)
class FileInfo:
    """What a file's header says: frames at its own rate, the rate, the channels."""

    frames: int
    sample_rate: int
    channels: int
    reader: str  # "soundfile" or "librosa"

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def file_info(path: Path) -> FileInfo:
    """The header of ``path``; raises :class:`DataError` naming the file when neither
    soundfile nor librosa can open it."""
    sf = _soundfile()
    try:
        info = sf.info(str(path))
        return FileInfo(int(info.frames), int(info.samplerate), int(info.channels), "soundfile")
    except (RuntimeError, OSError, ValueError, EOFError) as first:
        try:  # what libsndfile cannot open (e.g. .m4a through audioread), librosa may
            import warnings

            import librosa

            warnings.filterwarnings("ignore", message="PySoundFile failed", category=FutureWarning)
            rate = int(librosa.get_samplerate(str(path)))
            seconds = float(librosa.get_duration(path=str(path)))
            audio, _ = librosa.load(str(path), sr=None, mono=False, duration=0.1)
            channels = 1 if audio.ndim == 1 else int(audio.shape[0])
            return FileInfo(int(round(seconds * rate)), rate, channels, "librosa")
        except Exception:  # librosa raises many kinds here; the first error says most
            raise DataError(f"{path.name}: cannot be opened as audio ({first})") from None


def read_frames(path: Path, info: FileInfo, start: int, count: int) -> np.ndarray:
    """``count`` frames of ``path`` from frame ``start`` (at the file's own rate), as
    float32 ``(channels, count')``; only those frames are decoded."""
    sf = _soundfile()
    try:
        if info.reader == "soundfile":
            with sf.SoundFile(str(path)) as handle:
                if start:
                    handle.seek(start)
                data = handle.read(count, dtype="float32", always_2d=True)
            return np.ascontiguousarray(data.T)
        import librosa

        data, _ = librosa.load(str(path), sr=None, mono=False, offset=start / info.sample_rate,
                               duration=count / info.sample_rate)
        return np.atleast_2d(data).astype(np.float32)
    except (RuntimeError, OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path.name}: cannot be decoded at {start / max(info.sample_rate, 1):.1f} s ({exc})") from None


def resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``audio`` ``(channels, n)`` from ``rate`` to ``target`` Hz with soxr (high quality)."""
    if rate == target:
        return audio
    import soxr

    return np.ascontiguousarray(soxr.resample(audio.T, rate, target, quality="HQ").T.astype(np.float32))


def shape_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """Mix down to one channel, or give two (a mono file duplicated, extra channels dropped)."""
    if channels == 1:
        return audio.mean(axis=0, keepdims=True) if audio.shape[0] > 1 else audio
    if audio.shape[0] == 1:
        return np.repeat(audio, 2, axis=0)
    return audio[:2]


class AudioCalls(SampleSet):
    """One recording a sample, decoded when loaded: ``load(i)`` is float32 ``(channels, n_i)``
    at ``spec["sample_rate"]`` (see the module docstring for which part of the call).

    Attributes:
        files: the recording of each sample.
        infos: each file's header.
        durations: each call's length in seconds.
    """

    modality = NAME
    variable_length = True
    file_backed = True

    def __init__(self, files: list[Path], infos: list[FileInfo], *, sample_rate: int, channels: int,
                 window_seconds: float, embed_windows: int, silence_dbfs: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.files, self.infos = files, infos
        self.sample_rate, self.channels = sample_rate, channels
        self.window = max(1, int(round(window_seconds * sample_rate)))
        self.embed_windows, self.silence_dbfs = embed_windows, silence_dbfs
        self.durations = np.array([info.seconds for info in infos], dtype=np.float64)
        samples = np.round(self.durations * sample_rate).astype(np.int64)
        self.lengths = np.minimum(samples, self.window)  # what one training window holds

    def sample_source(self, index: int) -> str:
        return str(self.files[index])

    def _read(self, index: int, start_seconds: float, seconds: float) -> np.ndarray:
        """``seconds`` of call ``index`` from ``start_seconds``, at the target rate and channels."""
        info = self.infos[index]
        start = int(round(start_seconds * info.sample_rate))
        count = max(1, int(round(seconds * info.sample_rate)))
        audio = read_frames(self.files[index], info, start, count)
        if audio.shape[1] == 0:
            raise DataError(f"{self.files[index].name}: no audio at {start_seconds:.1f} s (truncated file?)")
        audio = shape_channels(resample(audio, info.sample_rate, self.sample_rate), self.channels)
        if not np.isfinite(audio).all():
            raise DataError(f"{self.files[index].name}: holds non-finite samples")
        return audio

    def window_starts(self, index: int) -> list[float]:
        """Where (in seconds) the windows of :meth:`load` start: evenly spread, first at 0."""
        duration, window = float(self.durations[index]), self.window / self.sample_rate
        if duration <= window * self.embed_windows:
            return [0.0]
        return [float(s) for s in np.linspace(0.0, duration - window, self.embed_windows)]

    def load(self, index: int) -> torch.Tensor:
        duration, window = float(self.durations[index]), self.window / self.sample_rate
        starts = self.window_starts(index)
        if len(starts) == 1:
            audio = self._read(index, 0.0, duration)
        else:
            audio = np.concatenate([self._read(index, start, window)[:, : self.window] for start in starts], axis=1)
        peak = float(np.abs(audio).max()) if audio.size else 0.0
        level = 20 * math.log10(peak) if peak > 0 else -math.inf
        if level < self.silence_dbfs:
            raise DataError(f"{self.files[index].name}: holds only silence (peak {level:.0f} dBFS in what was read, "
                            f"below data.params.silence_dbfs = {self.silence_dbfs:g})")
        return torch.from_numpy(np.ascontiguousarray(audio))

    def load_training(self, index: int, rng: np.random.Generator) -> torch.Tensor:
        """One window of ``window_seconds`` at a random place (the whole call if shorter)."""
        duration, window = float(self.durations[index]), self.window / self.sample_rate
        if duration <= window:
            return torch.from_numpy(self._read(index, 0.0, duration))
        start = float(rng.uniform(0.0, duration - window))
        return torch.from_numpy(np.ascontiguousarray(self._read(index, start, window)[:, : self.window]))

    def raw(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """The calls at ``indices`` as an object array of ``(channels, n)`` float32 arrays."""
        out = np.empty(len(indices), dtype=object)
        for slot, index in enumerate(indices):
            out[slot] = self.load(int(index)).numpy()
        return out

    def excerpt(self, index: int, seconds: float) -> np.ndarray:
        """The first ``seconds`` of call ``index`` (at the target rate), for listening."""
        return self._read(index, 0.0, min(seconds, float(self.durations[index])))


def read_calls(source: str, *, base_dir: Path | None, sample_rate: int, channels: str, window_seconds: float,
               embed_windows: int, min_seconds: float, silence_dbfs: float, id_column: str = "id",
               file_column: str = "file", metadata: str | None = None, encoding: str = "utf-8",
               delimiter: str = ",", label_columns: tuple[str, ...] = ()) -> AudioCalls:
    """List ``source`` (a folder of recordings or a manifest) and check each file's header."""
    listing = list_media(source, base_dir=base_dir, suffixes=AUDIO_SUFFIXES, what="recordings",
                         id_column=id_column, file_column=file_column, metadata=metadata, encoding=encoding,
                         delimiter=delimiter, label_columns=label_columns)

    def probe(file: Path) -> FileInfo:
        info = file_info(file)
        if info.frames <= 0:
            raise DataError(f"{file.name} holds no audio (0 frames)")
        if info.seconds < min_seconds:
            raise DataError(f"{file.name} lasts {info.seconds:.2f} s, less than data.params.min_seconds = "
                            f"{min_seconds:g}")
        return info

    ids, files, infos, skipped = probe_files(listing, probe, "recordings")
    target_channels = 1 if channels == "mix" else 2
    notes = [*listing.notes, f"Listed {len(ids)} recordings ({sum(i.seconds for i in infos) / 3600:.2f} hours) "
             f"from {Path(listing.source).name}; each is decoded when used, {window_seconds:g} s windows at "
             f"{sample_rate} Hz."]
    rates = Counter(i.sample_rate for i in infos if i.sample_rate != sample_rate)
    if rates:
        notes.append(f"resampled to {sample_rate} Hz with soxr: " + count_note(rates, lambda r: f"at {r} Hz"))
    layouts = Counter(i.channels for i in infos if i.channels != target_channels)
    if layouts:
        how = "mixed down to one channel" if target_channels == 1 else \
            "given two channels (mono duplicated, channels after the second dropped)"
        notes.append(f"{how}: " + count_note(layouts, lambda c: f"of {c} channel{'s' * (c > 1)}"))
    return AudioCalls(files, infos, sample_rate=sample_rate, channels=target_channels,
                      window_seconds=window_seconds, embed_windows=embed_windows, silence_dbfs=silence_dbfs,
                      ids=ids, spec={"channels": target_channels, "sample_rate": sample_rate,
                                     "window": int(round(window_seconds * sample_rate)), "kind": "audio"},
                      source=listing.source, metadata=subset_metadata(listing, ids), skipped=skipped, notes=notes)
