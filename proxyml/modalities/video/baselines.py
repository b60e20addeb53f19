"""The cheap video baseline: colour histograms, sharpness and motion energy per video."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from proxyml.data import SampleSet
from proxyml.modality import Baseline
from proxyml.params import Params
from proxyml.registry import BASELINES


class FrameStatsParams(Params):
    bins: int = Field(8, ge=2, le=64, description="histogram bins per colour channel")


def laplacian_variance(frames: np.ndarray) -> np.ndarray:
    """Per frame of ``frames`` ``(T, H, W)`` (grey), the variance of its 4-neighbour Laplacian:
    the usual sharpness measure (low = blurry)."""
    lap = (-4 * frames[:, 1:-1, 1:-1] + frames[:, :-2, 1:-1] + frames[:, 2:, 1:-1]
           + frames[:, 1:-1, :-2] + frames[:, 1:-1, 2:])
    return lap.reshape(lap.shape[0], -1).var(axis=1)


@BASELINES.register("video.frame_stats")
class FrameStatsBaseline(Baseline[FrameStatsParams]):
    """Per video: a colour histogram per channel, mean and spread of each channel, sharpness
    (variance of the Laplacian, mean and spread over frames), frame-difference energy (mean and
    spread), the vertical centre of mass of redness (first and last clip frames) and the log
    duration; computed on what embedding reads (clips spread across the video), one video at a
    time."""

    Params = FrameStatsParams
    modality = "video"

    def features(self, dataset: SampleSet, positions: np.ndarray, seed: int) -> np.ndarray:
        bins = self.params.bins
        durations = getattr(dataset, "durations", None)
        rows = []
        for position in positions:
            clip = dataset.load(int(position)).numpy()  # (3, T, H, W) in [0, 1]
            histograms = [np.histogram(clip[c], bins=bins, range=(0.0, 1.0))[0] / clip[c].size for c in range(3)]
            grey = clip.mean(axis=0)
            sharpness = laplacian_variance(grey) if min(grey.shape[1:]) > 2 else np.zeros(grey.shape[0])
            motion = np.abs(np.diff(grey, axis=0)).mean(axis=(1, 2)) if grey.shape[0] > 1 else np.zeros(1)
            redness = np.clip(clip[0] - clip[1:].mean(axis=0), 0.0, None)  # (T, H, W)
            rows_y = np.arange(redness.shape[1], dtype=np.float64)[None, :, None] / max(1, redness.shape[1] - 1)
            centre = (redness * rows_y).sum(axis=(1, 2)) / np.maximum(redness.sum(axis=(1, 2)), 1e-6)
            duration = float(durations[int(position)]) if durations is not None else float(grey.shape[0])
            rows.append(np.concatenate([
                *histograms, clip.mean(axis=(1, 2, 3)), clip.std(axis=(1, 2, 3)),
                [np.log(sharpness.mean() + 1e-8), np.log(sharpness.std() + 1e-8), motion.mean(), motion.std(),
                 centre[0], centre[-1], np.log(duration + 1e-3)]]))
        width = 3 * bins + 6 + 7
        return np.nan_to_num(np.asarray(rows, dtype=np.float64).reshape(len(positions), width))
