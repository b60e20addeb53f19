"""Video modality: videos (a folder or a manifest) read as clips with decord, a frame CNN with a
temporal layer, the frame-order, blur-ranking and vertical-flip tasks of the colposcopy seed, the
frame-statistics baseline, and the synthetic colposcopy demo (``proxyml demo colposcopy``).

decord (the decord2 distribution) lists the videos (frame counts, rates, sizes) and decodes
with ``data.params.decoder: decord``; PyAV decodes by default (decord2 3.4.0 was measured to
return wrong frames in some files, see docs/video.md), resizes, and writes the test and demo
videos. Both are the ``video`` extra and are imported when video is read or written, so the
other modalities work without them.
"""

from __future__ import annotations

import base64
import html
import io as _io
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from proxyml.data import SampleSet
from proxyml.media import MediaReaderParams
from proxyml.modalities.video import baselines, encoders, tasks
from proxyml.modalities.video.io import VideoClips, read_videos
from proxyml.modality import Modality
from proxyml.registry import DEMOS, MODALITIES


class VideoReaderParams(MediaReaderParams):
    frames: int = Field(8, ge=1, le=256, description="frames in a clip")
    stride: int = Field(2, ge=1, le=64, description="a clip takes every stride-th frame")
    size: int = Field(64, ge=8, le=1024, description="frames are resized to size x size pixels")
    embed_clips: int = Field(4, ge=1, le=256, description="embeddings, proxy scores and the baseline use this many "
                             "clips spread evenly across each video: memory does not grow with video length")
    decoder: Literal["pyav", "decord"] = Field(
        "pyav", description="pyav: PyAV, one seek per clip, frames known by their timestamps (right on every "
        "file checked); decord: decord2's get_batch per clip, which returned wrong frames on long videos and on "
        "files whose key packets are not key frames (docs/video.md)")
    per_clip: bool = Field(False, description="one sample per clip that embedding reads (ids <video id>#<k>): "
                           "embeddings and proxy scores per clip; labels must then be keyed by those ids")
    short_videos: Literal["pad", "skip"] = Field(
        "pad", description="a video shorter than one clip: pad (use its frames, masked; noted) or skip (named)")


@MODALITIES.register("video")
class VideoModality(Modality[VideoReaderParams]):
    """Videos of any length, as clips of frames at one size."""

    ReaderParams = VideoReaderParams
    default_encoder = "video.frame_cnn"
    default_baselines = ("video.frame_stats",)
    variable_length = True
    provides_metadata = True
    path_params = ("metadata",)

    def read(self, source: str, params: VideoReaderParams, *, base_dir: Path | None = None,
             preprocessing: dict[str, Any] | None = None, label_columns: tuple[str, ...] = ()) -> SampleSet:
        """Nothing is fitted on the data (``preprocessing`` is unused): every setting is in
        ``data.params``, which a trained run keeps in its recipe."""
        return read_videos(source, base_dir=base_dir, label_columns=label_columns, **params.model_dump())

    @classmethod
    def write_test_data(cls, folder: Path) -> tuple[str, dict[str, Any]]:
        """Six small videos (mp4/H.264 and avi/MJPEG, 3 to 20 frames) and a manifest."""
        manifest = write_test_videos(folder / "videos", n=6)
        return str(manifest), {"frames": 4, "stride": 2, "size": 16, "embed_clips": 2}  # 40 px read, 16 px used

    def preview(self, dataset: SampleSet, position: int) -> str | None:
        """A filmstrip: five frames spread across the whole video."""
        videos, index = dataset.origin(position)
        if not isinstance(videos, VideoClips):
            return None
        return filmstrip_html(videos, index)


def filmstrip_html(dataset: VideoClips, index: int, count: int = 5, height: int = 72) -> str:
    """An ``<img>`` of ``count`` frames side by side (PNG, embedded), with their times."""
    from PIL import Image

    frames = dataset.filmstrip(index, count)
    pictures = []
    for frame in frames:
        image = Image.fromarray(frame)
        width = max(1, round(image.width * height / max(1, image.height)))
        pictures.append(image.resize((width, height), Image.Resampling.BILINEAR))
    strip = Image.new("RGB", (sum(p.width for p in pictures) + 2 * (len(pictures) - 1), height), "white")
    x = 0
    for picture in pictures:
        strip.paste(picture, (x, 0))
        x += picture.width + 2
    buffer = _io.BytesIO()
    strip.save(buffer, format="PNG", optimize=True)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    seconds = dataset.durations[index]
    return (f'<img alt="{len(pictures)} frames of {html.escape(dataset.ids[index])}" '
            f'src="data:image/png;base64,{encoded}"><br><small>{len(pictures)} frames from 0 to {seconds:.0f} s</small>')


def write_video(path: Path, frames: np.ndarray, fps: int = 10, codec: str = "libx264") -> Path:
    """``frames`` uint8 ``(T, H, W, 3)`` as a video file with PyAV (H.264 in mp4 by default;
    ``mjpeg`` for .avi), one thread, so the same frames give the same bytes."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        options = {"preset": "veryfast", "crf": "20", "threads": "1", "x264-params": "bframes=0:scenecut=0"} \
            if codec == "libx264" else {}  # no B-frames: with them libx264 gives other bytes from run to run;
        # no scene-cut I-frames: this PyAV muxes them as key packets, which decord then seeks to wrongly
        stream = container.add_stream(codec, rate=fps, options=options)
        stream.height, stream.width = int(frames.shape[1]), int(frames.shape[2])
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.thread_count = 1
        for number, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            picture.pts, picture.time_base = number, Fraction(1, fps)  # explicit: frame i is shown i-th
            for packet in stream.encode(picture):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_test_videos(folder: Path, n: int = 6, size: int = 40, seed: int = 0) -> Path:
    """``n`` small videos in ``folder`` (mp4/H.264 and avi/MJPEG, 3 to 20 frames: one shorter
    than a 4-frame clip at stride 2) of a bright square moving down or up on noise, and
    ``manifest.csv`` (``id, file, motion``) beside them: the conformance suite's data."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        count = 3 if i == 2 else int(rng.integers(8, 21))
        motion = "down" if i % 2 else "up"
        frames = (rng.random((count, size, size, 3)) * 60).astype(np.uint8)
        for t in range(count):
            row = int((t / max(1, count - 1)) * (size - 8))
            row = row if motion == "down" else size - 8 - row
            frames[t, row:row + 8, size // 3: size // 3 + 8] = 230
        name = f"clip{i:02d}.{'avi' if i % 3 == 1 else 'mp4'}"
        write_video(folder / name, frames, codec="mjpeg" if name.endswith(".avi") else "libx264")
        rows.append({"id": f"clip{i:02d}", "file": f"{folder.name}/{name}", "motion": motion})
    manifest = folder.parent / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


@DEMOS.register("colposcopy")
class ColposcopyDemo:
    """Synthetic colposcopy-style exam videos (lesions that whiten, bleeding), biopsy labels."""

    data_file = "manifest.csv"
    labels_file = "labels.csv"

    @staticmethod
    def write(folder: Path, *, small: bool = False, seed: int = 0) -> dict[str, Path]:
        """Write the demo into ``folder`` (``small``: a few short, small videos, for tests)."""
        from proxyml.modalities.video.demo import write_colposcopy

        if small:
            return write_colposcopy(folder, n_videos=16, n_labelled=12, seed=seed, size=56, min_seconds=3.0,
                                    max_seconds=5.0)
        return write_colposcopy(folder, seed=seed)


__all__ = ["ColposcopyDemo", "VideoModality", "VideoReaderParams", "baselines", "encoders", "tasks"]
