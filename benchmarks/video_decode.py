"""Clips per second of the proxyml video loader next to decord's ways of reading the same clips.

One video file: ``--video FILE``, or (the default) a seeded test video written with PyAV into a
temporary folder: ``--seconds`` (60) s at 25 fps, 320x240, H.264 (libx264 preset veryfast, crf 20,
yuv420p, no B-frames, no scene-cut I-frames: proxyml ``write_video``'s settings) with a key frame
every ``--gop`` (50) frames; ``write_video`` itself cannot set the key frame interval, and its
libx264 default of 250 frames (10 s) would make every random-access clip decode ~125 frames
before its first. The content is a smooth texture scrolling under a moving square, with film
grain (~1.3 Mbit/s), so it neither compresses to nothing nor is pure noise.

``--clips`` clip starts are drawn at random (seeded) for each clip shape (``--shapes``,
FRAMESxSTRIDE@SIZE), and every method reads exactly those clips, in the same order:

- ``decord_per_frame``: ``vr[i]`` for each frame of the clip (decord's ``seek_accurate`` + ``next``);
  decord seeks to a key frame only when the frame is behind the decoder or in another GOP, so
  this is one seek per clip plus a Python call per frame, not a real seek per frame;
- ``decord_unsorted``: one ``get_batch`` per clip with the clip's indices shuffled, as a naive loader
  might hand them over. decord does not sort them (``GetBatch`` walks the indices in the given
  order; each index behind the decoder is a seek back to its key frame and decoding forward again);
- ``decord_sorted``: one ``get_batch`` per clip with sorted indices (one seek, then decoding forward);
- ``decord_sorted+resize``: the same, then proxyml's own resize (``VideoClips._frames``: FFmpeg's
  scaler, area averaging, to ``size`` x ``size``, then float in [0, 1]), i.e. the loader's output;
- ``decord_sorted+open+resize``: the same with a new ``VideoReader`` opened for each clip, as the
  proxyml loader does (decord reads every packet of the file when it opens it, to index key frames);
- ``pyav_frames``: proxyml's PyAV reader (``io.pyav_frames``: seek, decode), no resize;
- ``proxyml``: the loader itself, ``VideoClips.load_training(0, rng)`` with an ``rng`` whose
  ``integers`` returns the drawn start, with the default ``decoder: pyav`` (seek, decode forward,
  convert and resize in one pass, float): a training sample as the trainer gets it. Both PyAV
  methods start each round with the file closed and keep it open from clip to clip, as a worker
  does (``io.MAX_OPEN_VIDEOS``): one open per round is timed. Across many videos every clip
  costs an open, about 5 ms: ``decord_sorted+open+resize`` shows what that does to decord;
  ``proxyml_decord``: the same with ``decoder: decord`` (open, sorted ``get_batch``, resize);
- ``sequential``: one pass with ``next()`` from the first frame up to the last clip frame, keeping
  the clip frames: the streaming bound (every frame is decoded and converted once; not a
  random-access reader, and its clips/s grows with ``--clips``, since one pass serves them all).

decord readers are opened with ``num_threads`` = ``--decord-threads`` (default 1, as proxyml opens
them); torch runs with 1 thread. The persistent-reader methods get a fresh reader per timed round,
opened outside the timing. frames/s counts clip frames delivered (clips x frames). Each figure is
the best (fastest) of ``--repeats`` rounds, the median round beside it; the methods take turns
within a round, so a noisy neighbour slows all of them alike. ``cpu/wall``: the process's CPU
time over wall time in all rounds (above 1: the method runs threads; decord decodes in a thread
of its own beside the caller's, even with ``num_threads=1``). The first round's frames are checked
against plain sequential decoding with PyAV (from frame 0, no seeking): a method that returns
other frames is named with how many clips it got wrong.

Each shape ends with the goal's line (the video issue: the loader at least as fast as the best
random-access reader): proxyml's clips/s over the fastest of decord's random-access readers,
which hand over uint8 frames without resizing them (stricter than like for like), over
``decord_sorted+resize`` (the same output), and over ``pyav_frames`` (proxyml's own reader
without the resize and the float: what those cost the loader).

With ``--consecutive`` (the default), the first shape is read once more with clips one after
another from frame 0, the order a ``per_clip: true`` embedding reads a video in: proxyml decodes
on from one clip to the next instead of seeking back to a key frame.

    python benchmarks/video_decode.py                         # the test video, default shapes (~2-3 min)
    python benchmarks/video_decode.py --seconds 600 --clips 16 --repeats 2 --shapes 8x2@64   # a long video
    python benchmarks/video_decode.py --video my.mp4 --clips 32 --json /tmp/video_decode.json
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

DEFAULT_SHAPES = "8x2@64,16x1@64,8x4@64,8x2@112"
RESIZED = ("decord_sorted+resize", "decord_sorted+open+resize", "proxyml", "proxyml_decord")
PERSISTENT = ("decord_per_frame", "decord_unsorted", "decord_sorted", "decord_sorted+resize", "sequential")


class TestFrames:
    """The test video's frames, uint8 ``(T, H, W, 3)``, made one at a time as they are iterated (so
    memory stays flat however long the video): a smooth colour texture (blurred noise plus a little
    fine detail) scrolling right and bobbing up and down, a red square moving across it, and grain."""

    def __init__(self, seconds: float = 60.0, fps: int = 25, width: int = 320, height: int = 240,
                 seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.shape = (int(round(seconds * fps)), height, width, 3)
        self.margin = margin = 96
        coarse = torch.from_numpy(rng.random((3, (height + margin) // 8 + 2, (width + margin) // 8 + 2),
                                             dtype=np.float32))
        smooth = F.avg_pool2d(F.interpolate(coarse[None], scale_factor=8, mode="nearest"), 9, stride=1, padding=4)[0]
        texture = smooth.permute(1, 2, 0).numpy()[: height + margin, : width + margin]
        self.texture = (0.75 * texture + 0.25 * rng.random(texture.shape[:2] + (1,), dtype=np.float32)) * 200 + 25
        self.grain = [rng.normal(0, 4, (height, width, 1)).astype(np.float32) for _ in range(7)]

    def __len__(self) -> int:
        return self.shape[0]

    def __iter__(self) -> Iterator[np.ndarray]:
        count, height, width, _ = self.shape
        margin = self.margin
        for t in range(count):
            dy, dx = int(margin / 2 * (1 + math.sin(t / 40))), (2 * t) % margin
            frame = self.texture[dy: dy + height, dx: dx + width] + self.grain[t % len(self.grain)]
            y = int((height - 40) * (0.5 + 0.5 * math.sin(t / 17)))
            x = int((width - 40) * (0.5 + 0.5 * math.cos(t / 23)))
            frame[y: y + 40, x: x + 40] = (235, 60, 60)
            yield np.clip(frame, 0, 255).astype(np.uint8)


def write_test_video(path: Path, frames: TestFrames, fps: int = 25, gop: int = 50) -> Path:
    """``frames`` as H.264 in mp4 with PyAV, with proxyml ``write_video``'s settings (libx264 preset
    veryfast, crf 20, yuv420p, one thread, no B-frames, no scene-cut I-frames, explicit pts) and a
    key frame every ``gop`` frames (``write_video`` leaves libx264's 250)."""
    from fractions import Fraction

    import av

    options = {"preset": "veryfast", "crf": "20", "threads": "1",
               "x264-params": f"bframes=0:scenecut=0:keyint={gop}:min-keyint={gop}"}
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options=options)
        stream.height, stream.width = frames.shape[1], frames.shape[2]
        stream.pix_fmt, stream.thread_count = "yuv420p", 1
        for number, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts, picture.time_base = number, Fraction(1, fps)
            for packet in stream.encode(picture):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


class FixedStart:
    """An ``rng`` for ``load_training`` whose ``integers`` gives the clip starts drawn here, in turn."""

    def __init__(self, starts: list[int]) -> None:
        self.starts, self.position = starts, 0

    def integers(self, low: int, high: int) -> int:
        start = self.starts[self.position]
        self.position += 1
        if not low <= start < high:
            raise ValueError(f"start {start} is outside [{low}, {high})")
        return start


def parse_shapes(text: str) -> list[tuple[int, int, int]]:
    shapes = []
    for part in text.split(","):
        clip, _, size = part.strip().partition("@")
        frames, _, stride = clip.partition("x")
        shapes.append((int(frames), int(stride or 1), int(size or 64)))
    return shapes


def settings(threads: int) -> str:
    import av
    import decord

    cpu = platform.processor() or "?"
    if Path("/proc/cpuinfo").exists():
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return (f"cpu {cpu}; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} at the start; "
            f"python {platform.python_version()}, decord {decord.__version__} (decord2), PyAV {av.__version__}, "
            f"torch {torch.__version__}, numpy {np.__version__}; os.cpu_count {os.cpu_count()}, usable cores "
            f"{len(os.sched_getaffinity(0))}; decord num_threads {threads}, torch threads {torch.get_num_threads()}")


def describe(path: Path, threads: int) -> tuple[str, Any]:
    """The file's codec, size, length and key frames, and decord's open time (best of 5)."""
    import av
    import decord

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec, pix = stream.codec_context.name, stream.codec_context.pix_fmt
    opens = []
    for _ in range(5):
        start = time.perf_counter()
        reader = decord.VideoReader(str(path), num_threads=threads)
        opens.append(time.perf_counter() - start)
    total, fps = len(reader), reader.get_avg_fps()
    height, width = reader[0].shape[:2]
    keys = reader.get_key_indices()
    digest = hashlib.md5(path.read_bytes()).hexdigest() if path.stat().st_size < 2**30 else "(large)"
    gop = total / max(1, len(keys))
    text = (f"{path.name}: {codec} {pix}, {width}x{height}, {total} frames at {fps:g} fps ({total / fps:.1f} s), "
            f"{path.stat().st_size / 1e6:.1f} MB (md5 {digest[:12]}), {len(keys)} key frames (one every "
            f"{gop:.0f} frames on average); decord VideoReader open {min(opens) * 1e3:.1f} ms (best of 5)")
    return text, {"frames": total, "fps": fps, "width": width, "height": height, "codec": codec,
                  "key_frames": len(keys), "open_ms": min(opens) * 1e3}


DECORD_READERS = ("decord_per_frame", "decord_unsorted", "decord_sorted")  # the goal's: decord's random access, uint8


def clip_methods(path: Path, clips: Any, clips_decord: Any, starts: list[int], rng: np.random.Generator,
                 threads: int) -> dict[str, Callable[[Any], list[Any]]]:
    """Each method, reading the clips from ``starts`` of ``clips`` (a one-video ``VideoClips``;
    ``clips_decord``: the same read with ``decoder: decord``, or None): each is called with a fresh
    decord reader (the methods in ``PERSISTENT``) or ``None``."""
    import decord

    from proxyml.modalities.video import io as video_io

    total = clips.infos[0].frames
    wanted = [video_io.clip_indices(s, clips.frames, clips.stride, total) for s in starts]
    shuffled = [rng.permutation(w) for w in wanted]
    needed = np.unique(np.concatenate(wanted))

    def per_frame(vr: Any) -> list[np.ndarray]:
        return [np.stack([vr[int(i)].asnumpy() for i in w]) for w in wanted]

    def unsorted(vr: Any) -> list[np.ndarray]:
        # back in clip order afterwards (for the check; a fancy index, negligible next to decoding)
        return [vr.get_batch(s.tolist()).asnumpy()[np.argsort(s, kind="stable")] for s in shuffled]

    def sorted_batch(vr: Any) -> list[np.ndarray]:
        return [vr.get_batch(w.tolist()).asnumpy() for w in wanted]

    def sorted_resize(vr: Any) -> list[torch.Tensor]:
        return [clips._frames(vr.get_batch(w.tolist()).asnumpy()) for w in wanted]

    def sorted_open_resize(_: Any) -> list[torch.Tensor]:
        out = []
        for w in wanted:
            reader = decord.VideoReader(str(path), num_threads=threads)
            out.append(clips._frames(reader.get_batch(w.tolist()).asnumpy()))
            del reader
        return out

    def pyav(_: Any) -> list[np.ndarray]:
        return [video_io.pyav_frames(path, w) for w in wanted]

    def proxyml(_: Any) -> list[torch.Tensor]:
        fixed = FixedStart(starts)
        return [clips.load_training(0, fixed) for _ in starts]

    def proxyml_decord(_: Any) -> list[torch.Tensor]:
        fixed = FixedStart(starts)
        return [clips_decord.load_training(0, fixed) for _ in starts]

    def sequential(vr: Any) -> list[np.ndarray]:
        keep: dict[int, np.ndarray] = {}
        position = 0
        for index in needed:  # every frame up to the last one needed is decoded; the needed ones are kept
            while position < index:
                vr.next()
                position += 1
            keep[int(index)] = vr.next().asnumpy()
            position += 1
        return [np.stack([keep[int(i)] for i in w]) for w in wanted]

    methods: dict[str, Callable[[Any], list[Any]]] = {
        "decord_per_frame": per_frame, "decord_unsorted": unsorted, "decord_sorted": sorted_batch,
        "decord_sorted+resize": sorted_resize, "decord_sorted+open+resize": sorted_open_resize,
        "pyav_frames": pyav, "proxyml": proxyml, "proxyml_decord": proxyml_decord, "sequential": sequential}
    if clips_decord is None:
        del methods["proxyml_decord"]
    return methods


def time_methods(path: Path, methods: dict[str, Callable[[Any], list[Any]]], repeats: int,
                 threads: int) -> tuple[dict[str, list[float]], dict[str, list[Any]]]:
    """Seconds of each method in each round (the methods take turns), and each method's clips
    from the first round."""
    import decord

    from proxyml.modalities.video import io as video_io

    def run(name: str) -> tuple[float, float, list[Any]]:
        reader = decord.VideoReader(str(path), num_threads=threads) if name in PERSISTENT else None
        video_io.close_videos()  # proxyml's readers start closed: their one open is timed
        start, cpu = time.perf_counter(), time.process_time()
        out = methods[name](reader)
        return time.perf_counter() - start, time.process_time() - cpu, out

    times: dict[str, list[float]] = {name: [] for name in methods}
    cpu_times: dict[str, list[float]] = {name: [] for name in methods}
    outputs: dict[str, list[Any]] = {}
    for round_ in range(repeats):
        for name in methods:
            seconds, cpu, out = run(name)
            times[name].append(seconds)
            cpu_times[name].append(cpu)
            if round_ == 0:
                outputs[name] = out
    return times, cpu_times, outputs


@contextlib.contextmanager
def decord_log(sink: list[str]) -> Iterator[None]:
    """Collect what is written to the process's stderr (decord logs there from C++) into ``sink``."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            sink.extend(capture.read().decode(errors="replace").splitlines())


def reference_clips(path: Path, wanted: list[np.ndarray], size: int | None = None) -> list[np.ndarray]:
    """The clips' frames by plain sequential decoding with PyAV from the first frame (no seek, no
    skip; frame ``i`` is the ``i``-th frame the decoder gives): what every method should return.
    With ``size``: converted and resized as the proxyml loader does (``io.convert_frame``)."""
    import av

    from proxyml.modalities.video.io import convert_frame

    needed = {int(i) for w in wanted for i in w}
    last, keep = max(needed), {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        for number, frame in enumerate(container.decode(stream)):
            if number in needed:
                keep[number] = convert_frame(frame, size)
            if number >= last:
                break
    return [np.stack([keep[int(i)] for i in w]) for w in wanted]


def check(outputs: dict[str, list[Any]], reference: list[np.ndarray],
          resize: Callable[[np.ndarray], torch.Tensor], own: list[np.ndarray]) -> str:
    """Which methods return other frames than ``reference`` (a clip is wrong when a pixel is more
    than 2 levels of 255 off: colour conversion may differ that little between decoders). The
    resized outputs are checked against ``reference`` resized by ``resize`` (the decord methods) or
    against ``own`` (the PyAV loader's: converted and resized in one pass from the decoded frame)."""
    resized: list[Any] = [resize(r) for r in reference]
    own_resized: list[Any] = [torch.from_numpy(np.ascontiguousarray(r.transpose(3, 0, 1, 2))).float() / 255.0
                              for r in own]
    wrong = []
    for name, out in outputs.items():
        target: list[Any] = (own_resized if name == "proxyml" else resized) if name in RESIZED else reference
        scale = 255.0 if name in RESIZED else 1.0
        errors = [float((torch.as_tensor(a).float() - torch.as_tensor(b).float()).abs().max()) * scale
                  if tuple(a.shape) == tuple(b.shape) else math.inf for a, b in zip(out, target, strict=True)]
        bad = sum(e > 2 for e in errors)
        if bad:
            wrong.append(f"{name} {bad}/{len(errors)} clips (up to {max(errors):.0f}/255)")
    if not wrong:
        return "every method returns the reference frames (PyAV, sequential from frame 0)"
    return "WRONG FRAMES against the reference (PyAV, sequential from frame 0): " + ", ".join(wrong)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, help="the video to read (default: write a 320x240 H.264 test video)")
    parser.add_argument("--seconds", type=float, default=60.0, help="the test video's length (default 60 s)")
    parser.add_argument("--gop", type=int, default=50,
                        help="the test video's key frame interval in frames (default 50: 2 s)")
    parser.add_argument("--clips", type=int, default=24, help="random clip starts per shape (default 24)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds; the best is reported (default 3)")
    parser.add_argument("--shapes", default=DEFAULT_SHAPES,
                        help=f"FRAMESxSTRIDE@SIZE, comma separated (default {DEFAULT_SHAPES})")
    parser.add_argument("--consecutive", action=argparse.BooleanOptionalAction, default=True,
                        help="also read the first shape's clips one after another from frame 0, as a per_clip "
                             "embedding does (default: yes)")
    parser.add_argument("--decord-threads", type=int, default=1, help="decord num_threads (default 1, as proxyml)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--out", default="benchmarks/results/video_decode.txt",
                        help="write the printed report here too ('' for none)")
    args = parser.parse_args()

    from proxyml.modalities.video import VideoModality, VideoReaderParams
    from proxyml.modalities.video import io as video_io
    from proxyml.modalities.video.io import VideoClips

    torch.set_num_threads(1)
    threads = args.decord_threads
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    began = time.perf_counter()
    say("$ python " + " ".join(shlex.quote(a) for a in ["benchmarks/video_decode.py", *sys.argv[1:]]))
    say(f"settings: {settings(threads)}")
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.video is None:
            start = time.perf_counter()
            path = write_test_video(folder / "test.mp4", TestFrames(args.seconds, seed=args.seed), gop=args.gop)
            say(f"video: a test video written with PyAV in {time.perf_counter() - start:.1f} s (libx264 preset "
                f"veryfast crf 20, yuv420p, no B-frames, no scene cuts, as proxyml write_video; a key frame every "
                f"{args.gop} frames): {args.seconds:g} s at 25 fps, 320x240, a blurred-noise texture scrolling under "
                f"a moving red square, with grain (seed {args.seed})")
        else:
            path = args.video.resolve()
            say(f"video: {path}")
        text, info = describe(path, threads)
        say(f"file: {text}")
        manifest = folder / "manifest.csv"
        manifest.write_text(f"id,file\nvideo,{path}\n")
        say(f"timing: {args.clips} random clip starts per shape (seed {args.seed}), the same for every method; "
            f"best of {args.repeats} rounds (median: the median round); clips/s = clips / wall time, frames/s = "
            "clip frames delivered / wall time; 'vs proxyml' = clips/s over proxyml's")
        say()

        rng = np.random.default_rng(args.seed)
        header = (f"{'method':<28}{'clips/s':>9}{'median':>9}{'frames/s':>10}{'ms/clip':>9}{'vs proxyml':>12}"
                  f"{'cpu/wall':>10}")

        def measure(frames: int, stride: int, size: int, consecutive: bool = False) -> dict[str, dict[str, Any]] | None:
            params = VideoReaderParams(frames=frames, stride=stride, size=size, embed_clips=4)
            clips = VideoModality().read(str(manifest), params)
            assert isinstance(clips, VideoClips)
            clips_decord = None
            if "decoder" in VideoReaderParams.model_fields:  # proxyml's decord decoder option
                clips_decord = VideoModality().read(str(manifest), params.model_copy(update={"decoder": "decord"}))
            total, span = clips.infos[0].frames, clips.span
            if total <= span:
                say(f"skipping {frames}x{stride}: the video ({total} frames) is not longer than a clip ({span})")
                return None
            if consecutive:  # the order a per_clip embedding reads one video in: clip after clip
                starts = [k * span for k in range(min(args.clips, total // span))]
            else:
                starts = [int(s) for s in rng.integers(0, total - span + 1, args.clips)]
            methods = clip_methods(path, clips, clips_decord, starts, rng, threads)
            log: list[str] = []
            video_io.close_videos()  # every method starts with the file closed (decord's readers are opened fresh)
            with decord_log(log):
                times, cpu_times, outputs = time_methods(path, methods, args.repeats, threads)
            skips = sum("Failed to skip frames" in line for line in log)
            other = [line for line in log if "Failed to skip frames" not in line]
            if other:
                print("\n".join(other), file=sys.stderr)
            wanted = [video_io.clip_indices(s, frames, stride, total) for s in starts]
            verdict = check(outputs, reference_clips(path, wanted), clips._frames, reference_clips(path, wanted, size))
            del outputs

            say(f"clip {frames} frames every {stride} (span {span} frames), resized to {size}x{size}; {len(starts)} "
                + ("consecutive clips from frame 0 (per_clip embedding order)" if consecutive else "clips")
                + f"; check: {verdict}" + (f"; decord logged 'Failed to skip frames effectively' {skips} times"
                                           if skips else ""))
            say(header)
            table: dict[str, dict[str, Any]] = {}
            for name in methods:
                best, median = min(times[name]), statistics.median(times[name])
                table[name] = {"clips_per_s": len(starts) / best, "frames_per_s": len(starts) * frames / best,
                               "clips_per_s_median": len(starts) / median, "seconds": times[name],
                               "cpu_per_wall": sum(cpu_times[name]) / sum(times[name])}
            own = table["proxyml"]["clips_per_s"]
            for name, row in table.items():
                say(f"{name:<28}{row['clips_per_s']:>9.1f}{row['clips_per_s_median']:>9.1f}{row['frames_per_s']:>10.0f}"
                    f"{1e3 / row['clips_per_s']:>9.2f}{row['clips_per_s'] / own:>11.2f}x{row['cpu_per_wall']:>10.2f}")
            fastest = max(DECORD_READERS, key=lambda n: table[n]["clips_per_s"])
            ratio = own / table[fastest]["clips_per_s"]
            fair = own / table["decord_sorted+resize"]["clips_per_s"]
            say(f"proxyml / fastest decord random-access reader ({fastest}, uint8, no resize): {ratio:.2f} "
                f"({'meets' if ratio >= 1 else 'misses'} the goal); proxyml / decord_sorted+resize (same output): "
                f"{fair:.2f}; proxyml / pyav_frames (its own reader, uint8, no resize): "
                f"{own / table['pyav_frames']['clips_per_s']:.2f}" + (
                    f"; proxyml_decord / {fastest}: {table['proxyml_decord']['clips_per_s'] / table[fastest]['clips_per_s']:.2f}"
                    if "proxyml_decord" in table else ""))
            table["proxyml"]["vs_fastest_decord"] = ratio
            say()
            return table

        shape_list = parse_shapes(args.shapes)
        for frames, stride, size in shape_list:
            table = measure(frames, stride, size)
            if table is not None:
                results[f"{frames}x{stride}@{size}"] = table
        consecutive = measure(*shape_list[0], consecutive=True) if args.consecutive and shape_list else None

        summary: dict[str, dict[str, float]] = {}
        if results:
            shapes = list(results)
            say(f"all shapes (geometric mean over {len(shapes)}):")
            for name in results[shapes[0]]:
                summary[name] = {key: math.exp(statistics.fmean(math.log(results[s][name][key]) for s in shapes))
                                 for key in ("clips_per_s", "frames_per_s")}
                say(f"  {name:<28}{summary[name]['clips_per_s']:>8.1f} clips/s{summary[name]['frames_per_s']:>9.0f} "
                    "frames/s")
        say(f"took {time.perf_counter() - began:.0f} s")

    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text("\n".join(lines) + "\n")
    if args.json:
        payload = {"methods": summary, "summary": "geometric mean over the shapes; each figure the best round",
                   "shapes": results, "video": info, "settings": settings(threads), "clips": args.clips,
                   "repeats": args.repeats, "decord_threads": threads, "torch_threads": torch.get_num_threads(),
                   "consecutive": consecutive}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
