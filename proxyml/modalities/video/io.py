"""Read videos (a folder, or a manifest CSV/Parquet) into a :class:`VideoClips` set.

Listing opens each video's container with PyAV for its frame count, frame rate and frame size,
and decodes its first frame (:func:`video_info`; decord is imported only for ``decoder: decord``).
A sample is decoded when it is used, in
DataLoader workers, and only the clips that are used:

- training sees one clip of ``frames`` frames, every ``stride``-th frame, at a random place in
  the video (:meth:`VideoClips.load_training`, drawn from the trainer's seeded ``rng``);
- embeddings, proxy scores and the baseline see ``embed_clips`` clips spread evenly across the
  video, end to end (:meth:`VideoClips.load`);

so memory is bounded by ``embed_clips x frames`` frames, whatever the length of a video. Each
clip is decoded as one contiguous window, never with a seek per frame: by default with PyAV
(:func:`pyav_frames`: one seek to the key frame before the clip, then sequential decoding, each
frame known by its timestamp), or with ``decoder: decord``, one sorted ``VideoReader.get_batch``
per clip. Frames are resized to ``size`` x ``size`` by FFmpeg's scaler (area averaging; PyAV's
in the pass that converts them to RGB, :func:`convert_frame`; decord's after, :func:`resize_frames`)
and scaled to [0, 1]. A process keeps its last :data:`MAX_OPEN_VIDEOS` videos open for PyAV, and
decodes on instead of seeking when a clip starts just after the last one read. decord2 3.4.0, measured here: it mislays frames
16, 24, 32, 48, 96 or 144 pixels wide (``get_batch`` fails with "Check failed: from_size ==
to_size"; those files go to PyAV), and it returned wrong frames, silently, after seeks into
long videos (15000 frames) and into files whose key packets are not key frames: hence PyAV by
default.

A video that cannot be opened, is empty, has no frames or whose first frame does not decode is
skipped at listing; one shorter
than a clip is padded (its frames used, masked; ``short_videos: pad``, noted) or skipped
(``short_videos: skip``); one that breaks while it is decoded is skipped then. Every skip is
named with its file and reason.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from proxyml.data import SampleSet, SkippedSample, pad_collate
from proxyml.errors import DataError
from proxyml.media import list_media, probe_files, subset_metadata

NAME = "video"
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg")


def _decord() -> Any:
    try:
        import decord
    except ImportError as exc:  # pragma: no cover - the video extra is part of `make` installs
        raise DataError(f"video data needs the video extra: pip install 'proxyml[video]' (decord2): {exc}") from None
    return decord


@dataclass(frozen=True)
class VideoInfo:
    """What a video's container says."""

    frames: int
    fps: float
    height: int
    width: int

    @property
    def seconds(self) -> float:
        return self.frames / self.fps if self.fps > 0 else 0.0


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:160]


def _open(path: Path) -> Any:
    decord = _decord()
    try:
        return decord.VideoReader(str(path), num_threads=1)
    except Exception as exc:  # decord raises RuntimeError or its own DECORDError (an Exception)
        raise DataError(f"{path.name}: cannot be opened as a video ({_first_line(exc)})") from None


def video_info(path: Path) -> VideoInfo:
    """The container's frame count, rate and frame size, read with PyAV (decord is not imported
    for listing: importing it costs about 430 MB of memory); :class:`DataError` naming the file
    when it cannot be opened, holds no video stream or no frames, or its first frame cannot be
    decoded. The frame count is the stream's when the container states it (mp4, mov, avi), else
    its packets are counted (mkv, webm: the file is read, nothing is decoded); the size is that
    of the first decoded frame."""
    import av

    try:
        container = av.open(str(path))
    except Exception as exc:
        raise DataError(f"{path.name}: cannot be opened as a video ({_first_line(exc)})") from None
    try:
        if not container.streams.video:
            raise DataError(f"{path.name}: cannot be opened as a video (no video stream)")
        stream = container.streams.video[0]
        stream.thread_count = 1
        first = next(iter(container.decode(stream)), None)
        if first is None:
            raise DataError(f"{path.name} holds no frames")
        height, width = int(first.height), int(first.width)
        frames = int(stream.frames or 0)
        if frames <= 0:  # the container does not say: count the stream's packets
            container.seek(0, stream=stream, backward=True, any_frame=False)
            frames = sum(1 for packet in container.demux(stream) if packet.size)
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{path.name}: cannot be read as a video ({_first_line(exc)})") from None
    finally:
        container.close()
    if frames <= 0:
        raise DataError(f"{path.name} holds no frames")
    return VideoInfo(frames, fps if math.isfinite(fps) and fps > 0 else 25.0, height, width)


def clip_indices(start: int, frames: int, stride: int, total: int) -> np.ndarray:
    """The sorted frame indices of a clip from ``start``; past the end, the last frame repeats."""
    return np.minimum(start + stride * np.arange(frames), total - 1)


DECORD_LAYOUT_BUG = "from_size == to_size"


def get_batch(reader: Any, path: Path, indices: np.ndarray) -> np.ndarray:
    """Frames ``indices`` (sorted) of ``path`` as uint8 ``(n, H, W, 3)``: decord's ``get_batch``
    (one seek, then sequential decoding), or PyAV for the frame widths where decord2 3.4.0 copies
    frames with the wrong layout (it fails with "Check failed: from_size == to_size"; measured here
    for square frames 16, 24, 32, 48, 96 and 144 pixels wide). ``reader`` ``None``: PyAV."""
    if reader is None:
        return pyav_frames(path, indices)
    try:
        return reader.get_batch(indices.tolist()).asnumpy()
    except Exception as exc:
        if DECORD_LAYOUT_BUG not in str(exc):
            raise
    return pyav_frames(path, indices)


def pyav_frames(path: Path, indices: np.ndarray) -> np.ndarray:
    """Frames ``indices`` (sorted) of ``path`` decoded with PyAV, uint8 RGB ``(n, H, W, 3)``: one
    seek to the key frame before the first, then sequential decoding up to the last; each frame is
    known by its timestamp, so the frames are the right ones whatever the file's key packets say."""
    return pyav_clips(path, [indices])[0]


MAX_OPEN_VIDEOS = 4
"""Videos a process keeps open for PyAV (least recently used closed first): reading several
clips of one video, or the next clip of the one just read, skips the open (about 5 ms) and,
when the clip starts just after the last one read, the seek and the decoding from the key frame
before it. Each DataLoader worker has its own."""


def convert_frame(frame: Any, size: int | None, reformatter: Any = None) -> np.ndarray:
    """A decoded PyAV frame as uint8 RGB ``(H, W, 3)``, resized to ``size`` x ``size`` (area
    averaging) in the same pass as the colour conversion: FFmpeg's scaler scales each plane at its
    own resolution (the chroma of 4:2:0 video at half), so the pixels differ a little from
    :func:`resize_frames` on full-size RGB (a few levels; more at sharp colour detail).

    The scaler runs in this thread (``threads=1``): PyAV's default starts a pool of scaler threads
    for each frame's new scaler context, which cost about 1.2 ms a frame here (measured at 320x240
    to 64x64 on 2 cores, against 0.1 ms for the conversion itself) and would oversubscribe the
    cores beside DataLoader workers. A ``reformatter`` (``av.video.reformatter.VideoReformatter``)
    kept across frames keeps its scaler context too; the pixels are the same either way."""
    if reformatter is None:
        from av.video.reformatter import VideoReformatter

        reformatter = VideoReformatter()
    if size is not None and (frame.width, frame.height) != (size, size):
        converted = reformatter.reformat(frame, width=size, height=size, format="rgb24", interpolation="AREA", threads=1)
    else:
        converted = reformatter.reformat(frame, format="rgb24", threads=1)
    return converted.to_ndarray()


class _OpenVideo:
    """One open container, its video stream and where decoding stopped."""

    def __init__(self, path: Path) -> None:
        import av

        self.path = path
        self.container = av.open(str(path))
        try:
            self.stream = self.container.streams.video[0]
        except IndexError:
            self.container.close()
            raise DataError(f"{path.name}: no video stream") from None
        self.stream.thread_count = 1
        from av.video.reformatter import VideoReformatter

        self.reformatter: Any = VideoReformatter()  # one scaler context for the video's frames
        self.rate = float(self.stream.average_rate or self.stream.guessed_rate or 25)
        self.start = float(self.stream.start_time or 0) * float(self.stream.time_base or 0)
        self.decoding: Any = None  # the frame iterator, suspended after the last frame it gave
        self.position = -1  # the index of that frame
        self.count = 0  # frames given since the last seek (an index where frames have no timestamp)
        self.lead = 0.0  # mean frames decoded after a seek before the first wanted one

    def read(self, indices: np.ndarray, size: int | None) -> np.ndarray:
        """Frames ``indices`` (sorted), uint8 RGB; resized to ``size`` x ``size`` in the same
        pass as the colour conversion. One seek, unless the clip starts within ``lead`` frames
        after the last frame read (decoding on is then cheaper than a seek)."""
        wanted = sorted({int(i) for i in indices})
        gap = wanted[0] - self.position - 1
        seeked = self.decoding is None or not 0 <= gap <= self.lead
        if seeked:
            if self.stream.time_base is not None:
                self.container.seek(int((self.start + max(0.0, (wanted[0] - 1) / self.rate)) / float(self.stream.time_base)),
                                    stream=self.stream, backward=True, any_frame=False)
            self.decoding, self.count = self.container.decode(self.stream), 0
        found: dict[int, np.ndarray] = {}
        before = 0
        for frame in self.decoding:
            index = round((float(frame.time) - self.start) * self.rate) if frame.time is not None else self.count
            self.count += 1
            self.position = index
            if index < wanted[0]:
                before += 1
            elif index in wanted:
                found[index] = convert_frame(frame, size, self.reformatter)
            if index >= wanted[-1]:
                break
        else:
            self.decoding = None  # the end of the file: the next read seeks
        if seeked and found:
            self.lead = 0.8 * self.lead + 0.2 * before if self.lead else float(before)
        missing = [i for i in wanted if i not in found]
        if missing:
            raise DataError(f"{self.path.name}: frames {missing[:5]} could not be decoded")
        return np.stack([found[int(i)] for i in indices])

    def close(self) -> None:
        self.decoding = None
        self.reformatter = None
        self.container.close()


_open_videos: OrderedDict[tuple[str, int, int], _OpenVideo] = OrderedDict()


def _opened(path: Path) -> tuple[tuple[str, int, int], _OpenVideo]:
    """``path`` open for PyAV, from this process's :data:`MAX_OPEN_VIDEOS` (a rewritten file,
    known by its size and modification time, is opened again), with its key there."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    video = _open_videos.pop(key, None) or _OpenVideo(path)
    _open_videos[key] = video  # the most recently used last
    while len(_open_videos) > MAX_OPEN_VIDEOS:
        _open_videos.popitem(last=False)[1].close()
    return key, video


def close_videos() -> None:
    """Close every video this process keeps open."""
    while _open_videos:
        _open_videos.popitem()[1].close()


# Closed before every fork (a DataLoader worker): a child must not inherit them. They share the
# parent's file offsets, and any FFmpeg thread (the scaler ran threads before convert_frame asked
# for one) does not exist in the child, so freeing an inherited context there waits forever on it
# (measured: a worker hung in sws_freeContext).
os.register_at_fork(before=close_videos)


def pyav_clips(path: Path, clips: Sequence[np.ndarray], size: int | None = None) -> list[np.ndarray]:
    """Each clip's frames (sorted indices) of ``path``, uint8 RGB ``(n, H, W, 3)``: per clip one
    seek to the key frame before it and sequential decoding, each frame known by its timestamp
    (so the frames are the right ones whatever the file's key packets say). With ``size``, each
    wanted frame is converted and resized in one pass (:func:`convert_frame`). The file stays
    open for the next read (:data:`MAX_OPEN_VIDEOS`)."""
    key, video = _opened(path)
    try:
        return [video.read(indices, size) for indices in clips]
    except BaseException:
        _open_videos.pop(key, None)  # a broken reader is not kept
        video.close()
        raise


def resize_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """uint8 RGB frames ``(T, H, W, 3)`` resized to ``size`` x ``size`` by FFmpeg's scaler (area
    averaging, through PyAV, in this thread, one scaler context for all: see :func:`convert_frame`),
    whichever decoder made them: about 3x faster than torch's area interpolation on float frames,
    and the same for both decoders."""
    import av
    from av.video.reformatter import VideoReformatter

    reformatter = VideoReformatter()
    return np.stack([reformatter.reformat(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24"),
                                          width=size, height=size, interpolation="AREA", threads=1).to_ndarray()
                     for frame in frames])


class VideoClips(SampleSet):
    """One video a sample, decoded when loaded: float32 ``(3, T, size, size)`` in [0, 1] (see
    the module docstring for which frames); batched padded along ``T`` with a frame mask.

    Attributes:
        files: the video of each sample.
        infos: each video's container facts.
        durations: each video's length in seconds.
    """

    modality = NAME
    variable_length = True
    file_backed = True
    decode_errors = (DataError, OSError, ValueError, EOFError, RuntimeError)

    def __init__(self, files: list[Path], infos: list[VideoInfo], *, frames: int, stride: int, size: int,
                 embed_clips: int, decoder: str = "pyav", starts: list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.files, self.infos, self.decoder = files, infos, decoder
        self.starts = starts  # per-clip samples: the one clip each sample is (else None)
        self.frames, self.stride, self.size, self.embed_clips = frames, stride, size, embed_clips
        self.durations = np.array([info.seconds for info in infos], dtype=np.float64)
        span = (frames - 1) * stride + 1
        self.lengths = np.array([frames if info.frames >= span else 1 + (info.frames - 1) // stride
                                 for info in infos], dtype=np.int64)

    @property
    def span(self) -> int:
        """How many frames of the video one clip covers."""
        return (self.frames - 1) * self.stride + 1

    def sample_source(self, index: int) -> str:
        return str(self.files[index])

    def collate(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        """Padded along the frames: ``x = {"values": (B, 3, T_max, size, size), "mask": (B, T_max)}``."""
        return pad_collate(samples, axis=1)

    def clip_starts(self, index: int) -> list[int]:
        """The first frame of each clip :meth:`load` reads: evenly spread, first at 0 (a per-clip
        sample: its own clip)."""
        if self.starts is not None:
            return [self.starts[index]]
        total = self.infos[index].frames
        if total <= self.span:
            return [0]
        count = min(self.embed_clips, max(1, total // self.span))
        return [int(round(s)) for s in np.linspace(0, total - self.span, count)]

    def _decode(self, index: int, starts: Sequence[int]) -> np.ndarray:
        """Clips from ``starts``: uint8 ``(T, H, W, 3)``, each clip's frames decoded at once."""
        info, path = self.infos[index], self.files[index]
        clips = []
        for start in starts:
            wanted = clip_indices(start, self.frames, self.stride, info.frames)
            clips.append(np.unique(wanted) if info.frames < self.span else wanted)  # short: its own frames only
        if self.decoder == "pyav":
            try:
                return np.concatenate(pyav_clips(path, clips, self.size), axis=0)  # resized as decoded
            except DataError:
                raise
            except Exception as exc:
                raise DataError(f"{path.name}: cannot be decoded ({_first_line(exc)})") from None
        reader = _open(path)
        try:
            return np.concatenate([get_batch(reader, path, wanted) for wanted in clips], axis=0)
        except DataError:
            raise
        except Exception as exc:
            raise DataError(f"{path.name}: cannot be decoded ({_first_line(exc)})") from None
        finally:
            del reader

    def _frames(self, decoded: np.ndarray) -> torch.Tensor:
        """uint8 ``(T, H, W, 3)`` -> float32 ``(3, T, size, size)`` in [0, 1]."""
        if decoded.ndim != 4 or decoded.shape[0] == 0:
            raise DataError(f"decoded frames have shape {decoded.shape}")
        if decoded.shape[1:3] != (self.size, self.size):
            decoded = resize_frames(decoded, self.size)
        return torch.from_numpy(np.ascontiguousarray(decoded.transpose(3, 0, 1, 2))).float().div_(255.0)

    def load(self, index: int) -> torch.Tensor:
        return self._frames(self._decode(index, self.clip_starts(index)))

    def load_training(self, index: int, rng: np.random.Generator) -> torch.Tensor:
        """One clip at a random place (the whole video when it is shorter than a clip)."""
        total = self.infos[index].frames
        start = int(rng.integers(0, total - self.span + 1)) if total > self.span else 0
        return self._frames(self._decode(index, [start]))

    def raw(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """The videos at ``indices`` as an object array of ``(3, T, size, size)`` float32 arrays."""
        out = np.empty(len(indices), dtype=object)
        for slot, index in enumerate(indices):
            out[slot] = self.load(int(index)).numpy()
        return out

    def filmstrip(self, index: int, count: int = 5) -> np.ndarray:
        """``count`` frames spread across the whole video, uint8 ``(count, H, W, 3)`` at its own size."""
        total = self.infos[index].frames
        picks = sorted({int(round(v)) for v in np.linspace(0, total - 1, min(count, total))})
        reader = _open(self.files[index]) if self.decoder == "decord" else None
        try:
            return get_batch(reader, self.files[index], np.asarray(picks))
        except Exception as exc:
            raise DataError(f"{self.files[index].name}: cannot be decoded ({_first_line(exc)})") from None
        finally:
            del reader


def read_videos(source: str, *, base_dir: Path | None, frames: int, stride: int, size: int, embed_clips: int,
                short_videos: str, decoder: str = "pyav", per_clip: bool = False, id_column: str = "id", file_column: str = "file", metadata: str | None = None,
                encoding: str = "utf-8", delimiter: str = ",", label_columns: tuple[str, ...] = ()) -> VideoClips:
    """List ``source`` (a folder of videos or a manifest) and read each container's header."""
    listing = list_media(source, base_dir=base_dir, suffixes=VIDEO_SUFFIXES, what="videos", id_column=id_column,
                         file_column=file_column, metadata=metadata, encoding=encoding, delimiter=delimiter,
                         label_columns=label_columns)
    ids, files, infos, skipped = probe_files(listing, video_info, "videos")
    metadata_table = subset_metadata(listing, ids)
    span = (frames - 1) * stride + 1
    short = [i for i, info in enumerate(infos) if info.frames < span]
    notes = list(listing.notes)
    if short and short_videos == "skip":
        for i in short:
            skipped.append(SkippedSample(ids[i], str(files[i]), f"{files[i].name} has {infos[i].frames} frames, "
                                         f"fewer than one clip ({frames} frames every {stride}: {span}); "
                                         "data.params.short_videos: skip"))
        keep = [i for i in range(len(ids)) if i not in set(short)]
        if not keep:
            raise DataError(f"data.source: every video in {listing.source} is shorter than one clip ({span} frames); "
                            "lower data.params.frames or stride, or set short_videos: pad")
        ids, files, infos = [ids[i] for i in keep], [files[i] for i in keep], [infos[i] for i in keep]
    elif short:
        notes.append(f"{len(short)} videos are shorter than one clip ({span} frames) and are used with the frames "
                     f"they have, padded and masked (data.params.short_videos: pad), e.g. "
                     f"{[ids[i] for i in short[:3]]}")
    hours = sum(info.seconds for info in infos) / 3600
    notes.insert(0, f"Listed {len(ids)} videos ({hours:.2f} hours) from {Path(listing.source).name}; each is decoded "
                 f"when used, clips of {frames} frames every {stride}, resized to {size}x{size}.")
    sizes = {(info.width, info.height) for info in infos}
    if sizes != {(size, size)}:
        notes.append(f"frames resized to {size}x{size} from " + ", ".join(f"{w}x{h}" for w, h in sorted(sizes)[:5])
                     + (" ..." if len(sizes) > 5 else ""))
    settings: dict[str, Any] = {"frames": frames, "stride": stride, "size": size, "embed_clips": embed_clips,
                                "decoder": decoder}
    spec = {"channels": 3, "frames": frames, "size": size, "kind": "video"}
    videos = VideoClips(files, infos, **settings, ids=ids, spec=spec, source=listing.source,
                        metadata=None if metadata_table is None else metadata_table.reindex(ids), skipped=skipped,
                        notes=notes)
    if not per_clip:
        return videos
    clips = [(i, start) for i in range(len(ids)) for start in videos.clip_starts(i)]
    clip_ids = [f"{ids[i]}#{k}" for i in range(len(ids)) for k in range(len(videos.clip_starts(i)))]
    notes.append(f"one sample per clip (data.params.per_clip): {len(clip_ids)} clips of {len(ids)} videos, ids "
                 f"<video id>#<clip number> (e.g. {clip_ids[0]}); labels must be keyed by these ids")
    clip_metadata = None
    if metadata_table is not None:
        clip_metadata = metadata_table.reindex([ids[i] for i, _ in clips]).set_axis(pd.Index(clip_ids, name="id"))
    return VideoClips([files[i] for i, _ in clips], [infos[i] for i, _ in clips], **settings,
                      starts=[start for _, start in clips], ids=clip_ids, spec=spec, source=listing.source,
                      metadata=clip_metadata, skipped=skipped, notes=notes)
