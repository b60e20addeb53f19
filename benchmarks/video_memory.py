"""Peak memory of the video loader against video length and count, side by side.

Seeded test videos (``video_decode.TestFrames``: H.264, 25 fps, a key frame every 2 s, 320x240
by default) are written once into a temporary folder: one of ``--short`` seconds, one ten times
longer, and ``--count`` videos of ``--short`` seconds. Each configuration is then read in its own
fresh interpreter, as a DataLoader worker reads it: every video's embedding clips
(``VideoClips.load``, ``embed_clips`` clips spread across it) and ``--training`` random training
clips per video (``load_training``), with the default ``decoder: pyav``. Printed: peak RSS of the
process while it decodes (Linux's VmHWM, reset after the imports and the listing), its RSS
before decoding, their difference (what decoding costs), the wall time, and each configuration's decoding cost over the short video's.
Goal (the video issue): memory does not grow with video length or count.

    python benchmarks/video_memory.py
    python benchmarks/video_memory.py --short 30 --count 16 --size 112
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

CHILD = r"""
import json, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from proxyml.modalities.video import VideoModality, VideoReaderParams

def status_mb(key):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(key)) / 1024

folder, size, training, embed_clips = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
clips = VideoModality().read(folder, VideoReaderParams(frames=8, stride=2, size=size, embed_clips=embed_clips))
before = status_mb("VmRSS")
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # resets the peak (VmHWM) to the current RSS: the imports' peak is not counted
start = time.perf_counter()
rng = np.random.default_rng(0)
frames = 0
for index in range(len(clips)):
    frames += clips.load(index).shape[1]
    for _ in range(training):
        frames += clips.load_training(index, rng).shape[1]
seconds = time.perf_counter() - start
peak = status_mb("VmHWM")
print(json.dumps({"videos": len(clips), "video_frames": int(sum(i.frames for i in clips.infos)),
                  "frames_read": frames, "before_mb": before, "peak_mb": peak, "seconds": seconds}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=float, default=60.0, help="the short videos' length in seconds (default 60)")
    parser.add_argument("--count", type=int, default=8, help="how many short videos in the many-videos case (default 8)")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--size", type=int, default=64, help="data.params.size (default 64)")
    parser.add_argument("--embed-clips", type=int, default=4, help="data.params.embed_clips (default 4)")
    parser.add_argument("--training", type=int, default=20, help="random training clips read per video (default 20)")
    parser.add_argument("--out", default="benchmarks/results/video_memory.txt", help="write the printed report here too ('' for none)")
    args = parser.parse_args()

    from video_decode import TestFrames, settings, write_test_video

    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    began = time.perf_counter()
    say("$ python benchmarks/video_memory.py " + " ".join(sys.argv[1:]))
    say(f"settings: {settings(1)}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cases = {"1 short": (1, args.short), "1 long (10x)": (1, 10 * args.short),
                 f"{args.count} short ({args.count}x)": (args.count, args.short)}
        folders = {}
        written = time.perf_counter()
        for name, (count, seconds) in cases.items():
            folder = root / f"case{len(folders)}"
            folder.mkdir()
            for k in range(count):
                write_test_video(folder / f"v{k}.mp4", TestFrames(seconds, width=args.width, height=args.height, seed=k))
            folders[name] = folder
        say(f"videos: H.264 {args.width}x{args.height}, 25 fps, a key frame every 2 s, written in "
            f"{time.perf_counter() - written:.0f} s; read as 8 frames every 2nd at {args.size}x{args.size}, "
            f"{args.embed_clips} embedding clips and {args.training} random training clips per video, "
            "decoder pyav, torch on 1 thread, one fresh process per case")
        say()
        say(f"{'case':<18}{'videos':>7}{'frames':>9}{'frames read':>13}{'RSS before':>12}{'peak RSS':>10}"
            f"{'decoding':>10}{'ratio':>7}{'wall s':>8}")
        results = {}
        for name, folder in folders.items():
            out = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(args.size), str(args.training),
                                  str(args.embed_clips)], capture_output=True, text=True, cwd=ROOT, check=False)
            if out.returncode != 0:
                raise SystemExit(f"{name}: the reader failed:\n{out.stderr}")
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row["decoding_mb"] = row["peak_mb"] - row["before_mb"]
            results[name] = row
            first = next(iter(results.values()))["decoding_mb"]
            say(f"{name:<18}{row['videos']:>7}{row['video_frames']:>9}{row['frames_read']:>13}"
                f"{row['before_mb']:>10.0f}MB{row['peak_mb']:>8.0f}MB{row['decoding_mb']:>8.0f}MB"
                f"{row['decoding_mb'] / max(first, 1e-9):>7.2f}{row['seconds']:>8.1f}")
        say()
        say("decoding = peak RSS - RSS before decoding; ratio = decoding over the first case's (goal: about 1 for a longer "
            "video; for more videos it grows up to io.MAX_OPEN_VIDEOS open decoders, then stops: try --count 16)")
        say(f"took {time.perf_counter() - began:.0f} s")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
