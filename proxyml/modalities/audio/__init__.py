"""Audio modality: recordings (a folder or a manifest) read in windows, a log-mel CNN, the
call-direction, segment-order and noise-ranking tasks, the MFCC baseline, and the synthetic
call-center demo (``proxyml demo call-center``).

soundfile, librosa (and soxr through it) and torchaudio are the ``audio`` extra; they are
imported when audio is read or encoded, so the other modalities work without them.
"""

from __future__ import annotations

import base64
import html
import io as _io
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from proxyml.data import SampleSet
from proxyml.media import MediaReaderParams
from proxyml.modalities.audio import baselines, encoders, tasks
from proxyml.modalities.audio.io import AudioCalls, read_calls
from proxyml.modality import Modality
from proxyml.registry import DEMOS, MODALITIES


class AudioReaderParams(MediaReaderParams):
    sample_rate: int = Field(8000, ge=1000, le=192000,
                             description="every recording is resampled to this rate (Hz; soxr, never by dropping samples)")
    channels: Literal["mix", "stereo"] = Field(
        "mix", description="mix: one channel (mixed down); stereo: two (e.g. agent / customer; mono duplicated)")
    window_seconds: float = Field(4.0, gt=0.1, le=120.0, description="training sees one window this long at a time")
    embed_windows: int = Field(
        8, ge=1, le=512, description="embeddings, proxy scores and baselines use up to this many windows spread "
        "evenly across each call (the whole call when it is shorter): memory does not grow with call length")
    min_seconds: float = Field(0.5, ge=0.0, description="a shorter recording is skipped (named in skipped)")
    silence_dbfs: float = Field(-60.0, le=0.0,
                                description="a recording whose peak in what is read stays below this level is skipped as silent")


@MODALITIES.register("audio")
class AudioModality(Modality[AudioReaderParams]):
    """Recordings of any length (calls), as windows of waveform at one sample rate."""

    ReaderParams = AudioReaderParams
    default_encoder = "audio.logmel_cnn"
    default_baselines = ("audio.mfcc",)
    variable_length = True
    provides_metadata = True
    path_params = ("metadata",)

    def read(self, source: str, params: AudioReaderParams, *, base_dir: Path | None = None,
             preprocessing: dict[str, Any] | None = None, label_columns: tuple[str, ...] = ()) -> SampleSet:
        """Nothing is fitted on the data (``preprocessing`` is unused): every setting is in
        ``data.params``, which a trained run keeps in its recipe."""
        return read_calls(source, base_dir=base_dir, label_columns=label_columns, **params.model_dump())

    @classmethod
    def write_test_data(cls, folder: Path) -> tuple[str, dict[str, Any]]:
        """Eight short calls (tones and noise, 8 kHz and 16 kHz, mono and stereo, wav and flac)
        and a manifest with a ``direction`` column."""
        manifest = write_tone_calls(folder / "calls", n=8)
        return str(manifest), {"sample_rate": 8000, "window_seconds": 0.5, "embed_windows": 2}

    def preview(self, dataset: SampleSet, position: int) -> str | None:
        """An audio player with the first seconds of the call and its log-mel picture."""
        calls, index = dataset.origin(position)
        if not isinstance(calls, AudioCalls):
            return None
        return audio_preview(calls, index)


PREVIEW_SECONDS = 5.0


def audio_preview(dataset: AudioCalls, position: int, seconds: float = PREVIEW_SECONDS) -> str:
    """HTML for one call: an ``<audio>`` player (16-bit FLAC, embedded) and a log-mel PNG."""
    import librosa
    import soundfile
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    audio = dataset.excerpt(position, seconds)
    mono = audio.mean(axis=0)
    buffer = _io.BytesIO()
    soundfile.write(buffer, mono, dataset.sample_rate, format="FLAC", subtype="PCM_16")  # lossless, half of WAV
    sound = base64.b64encode(buffer.getvalue()).decode("ascii")
    rate = dataset.sample_rate
    mel = librosa.power_to_db(librosa.feature.melspectrogram(
        y=mono, sr=rate, n_fft=max(16, int(0.032 * rate)), hop_length=max(1, int(0.010 * rate)), n_mels=40),
        ref=1.0, top_db=80)
    figure = Figure(figsize=(3.2, 1.2), dpi=80)  # no pyplot: the caller's backend is left alone
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.imshow(mel, origin="lower", aspect="auto", cmap="magma",
                extent=(0.0, mono.size / rate, 0.0, float(mel.shape[0])))
    axes.set_yticks([])
    axes.tick_params(labelsize=6)
    axes.set_xlabel("seconds", fontsize=6)
    figure.tight_layout(pad=0.2)
    picture = _io.BytesIO()
    figure.savefig(picture, format="png")
    image = base64.b64encode(picture.getvalue()).decode("ascii")
    shown = mono.size / rate
    return (f'<audio controls preload="none" src="data:audio/flac;base64,{sound}"></audio>'
            f'<br><img alt="log-mel of the first {shown:.0f} s of {html.escape(dataset.ids[position])}" '
            f'src="data:image/png;base64,{image}"><br><small>first {shown:.0f} s of '
            f'{dataset.durations[position]:.0f} s</small>')


def write_tone_calls(folder: Path, n: int = 8, seed: int = 0) -> Path:
    """``n`` short recordings of tones and noise in ``folder`` (wav and flac, 8 and 16 kHz,
    mono and stereo, 0.8 to 2 s) and ``manifest.csv`` (``id, file, direction``) beside them:
    the conformance suite's and the reader tests' data. Outbound calls hold a higher tone."""
    import soundfile

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        rate = 8000 if i % 3 else 16000
        seconds = float(rng.uniform(0.8, 2.0))
        t = np.arange(int(seconds * rate)) / rate
        direction = "outbound" if i % 2 else "inbound"
        tone = 0.3 * np.sin(2 * np.pi * (600.0 if direction == "outbound" else 300.0) * t)
        audio = (tone + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
        if i % 4 == 1:
            audio = np.stack([audio, 0.5 * audio], axis=1)
        name = f"call{i:02d}.{'flac' if i % 4 == 3 else 'wav'}"
        soundfile.write(folder / name, audio, rate)
        rows.append({"id": f"call{i:02d}", "file": f"{folder.name}/{name}", "direction": direction})
    manifest = folder.parent / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


@DEMOS.register("call-center")
class CallCenterDemo:
    """A synthetic call center: recordings, a manifest with the call direction, churn labels."""

    data_file = "manifest.csv"
    labels_file = "labels.csv"

    @staticmethod
    def write(folder: Path, *, small: bool = False, seed: int = 0) -> dict[str, Path]:
        """Write the demo into ``folder`` (``small``: a few short calls, for tests)."""
        from proxyml.modalities.audio.demo import write_call_center

        if small:
            return write_call_center(folder, n_calls=24, n_labelled=16, seed=seed, min_seconds=6.0, max_seconds=10.0)
        return write_call_center(folder, seed=seed)


__all__ = ["AudioModality", "AudioReaderParams", "CallCenterDemo", "baselines", "encoders", "tasks"]
