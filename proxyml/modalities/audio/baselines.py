"""The cheap audio baseline: MFCC statistics and a few spectral ones (librosa)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from proxyml.data import SampleSet
from proxyml.modality import Baseline
from proxyml.params import Params
from proxyml.registry import BASELINES


class MFCCParams(Params):
    n_mfcc: int = Field(20, ge=2, le=64, description="MFCC coefficients (their mean and standard deviation are features)")
    frame_ms: float = Field(32.0, gt=4, le=200, description="analysis window in milliseconds")
    hop_ms: float = Field(10.0, gt=1, le=100, description="step between frames in milliseconds")


@BASELINES.register("audio.mfcc")
class MFCCBaseline(Baseline[MFCCParams]):
    """MFCC mean and standard deviation, spectral centroid / bandwidth / roll-off / flatness,
    zero-crossing rate and RMS level (mean and spread each), and the call's log duration.

    Computed per labelled call on what embedding sees (up to ``embed_windows`` windows spread
    across the call), one call at a time, channels mixed: memory stays bounded.
    """

    Params = MFCCParams
    modality = "audio"

    def features(self, dataset: SampleSet, positions: np.ndarray, seed: int) -> np.ndarray:
        import librosa

        rate = int(dataset.spec["sample_rate"])
        n_fft = max(16, int(round(self.params.frame_ms / 1000 * rate)))
        hop = max(1, int(round(self.params.hop_ms / 1000 * rate)))
        durations = getattr(dataset, "durations", None)
        rows = []
        for position in positions:
            audio = dataset.load(int(position)).numpy().mean(axis=0).astype(np.float32)
            if audio.size < n_fft:
                audio = np.pad(audio, (0, n_fft - audio.size))
            spectrum = np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop, center=False)) ** 2
            mfcc = librosa.feature.mfcc(S=librosa.power_to_db(librosa.feature.melspectrogram(S=spectrum, sr=rate)),
                                        n_mfcc=self.params.n_mfcc)
            stats: list[Any] = [
                librosa.feature.spectral_centroid(S=np.sqrt(spectrum), sr=rate),
                librosa.feature.spectral_bandwidth(S=np.sqrt(spectrum), sr=rate),
                librosa.feature.spectral_rolloff(S=np.sqrt(spectrum), sr=rate),
                librosa.feature.spectral_flatness(S=np.sqrt(spectrum)),
                librosa.feature.zero_crossing_rate(audio, frame_length=n_fft, hop_length=hop, center=False),
                np.log(librosa.feature.rms(S=np.sqrt(spectrum), frame_length=n_fft) + 1e-6),
            ]
            row = [mfcc.mean(axis=1), mfcc.std(axis=1)]
            row += [np.array([s.mean(), s.std()]) for s in stats]
            duration = float(durations[int(position)]) if durations is not None else audio.size / rate
            row.append(np.array([np.log(duration + 1e-3)]))
            rows.append(np.concatenate(row))
        width = 2 * self.params.n_mfcc + 2 * 6 + 1
        return np.nan_to_num(np.asarray(rows, dtype=np.float64).reshape(len(positions), width))
