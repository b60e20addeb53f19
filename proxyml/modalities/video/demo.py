"""Seeded synthetic colposcopy exams: short videos, a manifest and a few biopsy labels (demos, tests).

Nothing is downloaded and nothing is real: every frame is drawn with numpy and ``scipy.ndimage``
and encoded with PyAV (H.264, ``libx264``, one thread, no B-frames, fixed CRF and preset) by
:func:`write_colposcopy`. The same arguments give byte-identical files.

An exam is a camera looking at a synthetic cervix for ``n_frames = round(U(min_seconds,
max_seconds) * fps)`` frames. The scene (a little larger than the frame) is drawn once:

- tissue: pink/red base colour with smooth colour variation (Gaussian low-pass filtered noise),
  a redder zone around a dark slit-shaped os near the centre, darker thin vessels (the zero
  lines of a smooth noise field, in patches) and a few tiny specular glints;
- in exams with a lesion: a blob (a disc of radius ``lesion_radius`` perturbed by smooth noise)
  near the os, with a high-frequency texture (white noise filtered at 0.6 px, standardised and
  clipped at +-2.5);
- in exams with bleeding: one to three thin red rivulets running down from a source point, each
  with an arrival time per scene pixel, ``onset_k + (y - y_k) / speed_k``.

Each frame samples the scene through the camera (bilinear): a small smooth translation (three
slow sinusoids per axis plus a smoothed tremor, up to about 5 % of the frame) and a slow zoom
drift (a few percent). Then, per frame ``t`` (seconds):

- acetowhitening, lesion exams only: ``a(t) = 0.85 * whitening * (1 - exp(-t / tau))``, with a
  per-exam time constant ``tau`` in [1, 3] s; tissue colour ``c`` becomes
  ``c * (1 - a * m) + white * a * m`` over the lesion mask ``m``, and its brightness is
  modulated by ``1 + 0.2 * roughness * m * texture`` (the rough texture is there from the start,
  and blur removes it);
- bleeding: blood covers a rivulet pixel once ``t`` passes its arrival time (a 0.4 s fade in), so
  the tips of the streaks move down the frame at 0.06-0.15 frame heights a second from an onset
  in the first 5-35 % of the exam; lesions never move, blood only flows down;
- vignetting fixed to the camera (brightness ``1 - k * r^2``, its centre and the overall gain
  drifting slowly) and Gaussian sensor noise (a per-exam level) on every pixel.

Each exam has hidden variables, never written to the manifest (see :func:`exam_plan`):
``lesion`` (present with probability 0.5), ``whitening`` ~ U(0, 1), ``roughness`` ~ U(0, 1) (both
drawn for every exam, shown only where there is a lesion) and ``bleeding`` (probability 0.35,
independent of the lesion). The biopsy result depends on them only (site carries no signal)::

    P(biopsy = positive) = sigmoid(-2.5 + 2.5 * lesion * whitening + 1.5 * lesion * roughness + 0.3 * bleeding)

with ``lesion`` and ``bleeding`` 1 or 0 and ``sigmoid(z) = 1 / (1 + exp(-z))``; each exam's result
is one Bernoulli draw from it. ``labels.csv`` holds the result of ``n_labelled`` exams chosen at
random; should those all fall in one class, one of them is swapped for an unlabelled exam of the
other class (or, when every exam is in one class, the labelled exam most likely to be in the
other class is flipped), so both classes are always present.

Frames are converted to yuv420p here (BT.601, limited range) and encoded without B-frames: with
B-frames (and macroblock-tree rate control) this libx264 gave different bytes from run to run for
the same frames, even on one thread. decord2 3.4 (the ``video`` extra) decodes frames whose width
is 16, 24, 32, 48, 96 or 144 pixels with a wrong row stride (frames of shape ``(size, size, 4)``
and more, and ``get_batch`` fails), so those sizes are refused; the default size is 112.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.special import expit

from proxyml.demos import check_demo_sizes, draw_labelled, write_csv

BIOPSY_INTERCEPT = -2.5
BIOPSY_WHITENING = 2.5
BIOPSY_ROUGHNESS = 1.5
BIOPSY_BLEEDING = 0.3
BIOPSY_FORMULA = ("P(biopsy = positive) = sigmoid(-2.5 + 2.5 * lesion * whitening + 1.5 * lesion * roughness"
                  " + 0.3 * bleeding)")
"""The exact biopsy model (``lesion`` and ``bleeding`` are 1 or 0, ``whitening`` and ``roughness`` in [0, 1])."""

MANIFEST_COLUMNS = ("id", "file", "site", "duration_s")
LABEL_COLUMNS = ("id", "biopsy")
SITES = ("ashford", "belmont", "carver", "dunmore")
DECORD_MISREAD_SIZES = (16, 24, 32, 48, 96, 144)
"""Frame sizes that decord2 3.4 decodes with a wrong row stride (its buffers are 64-pixel aligned)."""

CRF = 20
PRESET = "veryfast"
X264_PARAMS = "bframes=0"
"""No B-frames: with them (and macroblock-tree rate control) this libx264 gave different bytes from run
to run for the same frames, even on one thread."""

_P_LESION = 0.5
_P_BLEEDING = 0.35
_MAX_WHITE = 0.85
_TEXTURE = 0.2
_WHITE = np.array([0.95, 0.93, 0.91], dtype=np.float32)
_BLOOD = np.array([0.55, 0.03, 0.05], dtype=np.float32)
_VESSEL = np.array([0.62, 0.20, 0.25], dtype=np.float32)
_OS = np.array([0.24, 0.11, 0.13], dtype=np.float32)
_ECTROPION = np.array([0.80, 0.30, 0.34], dtype=np.float32)
_NEVER = 1e4  # the arrival time (s) of blood where there is none


@dataclass(frozen=True)
class Exam:
    """What is drawn for one exam before its video is made; everything but ``id`` and ``site`` is hidden.

    Positions and lengths are fractions of the frame side, ``(0, 0)`` the top left corner;
    ``bleeding_onset`` is a fraction of the exam's length, ``bleeding_speed`` in frame heights a second.
    """

    id: str
    site: str
    lesion: bool
    whitening: float
    roughness: float
    bleeding: bool
    whitening_seconds: float
    lesion_x: float
    lesion_y: float
    lesion_radius: float
    bleeding_x: float
    bleeding_y: float
    bleeding_onset: float
    bleeding_speed: float
    probability: float
    biopsy: bool


def biopsy_probability(lesion: np.ndarray, whitening: np.ndarray, roughness: np.ndarray,
                       bleeding: np.ndarray) -> np.ndarray:
    """``P(biopsy = positive)`` of exams with the hidden variables given (see :data:`BIOPSY_FORMULA`)."""
    lesion = np.asarray(lesion, dtype=float)
    z = BIOPSY_INTERCEPT + BIOPSY_WHITENING * lesion * np.asarray(whitening, dtype=float) \
        + BIOPSY_ROUGHNESS * lesion * np.asarray(roughness, dtype=float) \
        + BIOPSY_BLEEDING * np.asarray(bleeding, dtype=float)
    return expit(z)


def _integer(name: str, value: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if isinstance(value, bool) or number != value:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return number


def _check_arguments(n_videos: int, n_labelled: int, seed: int, size: int, fps: int, min_seconds: float,
                     max_seconds: float) -> None:
    check_demo_sizes(n_videos, n_labelled, samples="n_videos", target="biopsy", min_seconds=min_seconds,
                     max_seconds=max_seconds)
    if seed < 0:
        raise ValueError(f"seed must not be negative, got {seed}")
    if size < 16 or size % 2:
        raise ValueError(f"size must be an even number of pixels, at least 16 (H.264 in yuv420p), got {size}")
    if size in DECORD_MISREAD_SIZES:
        raise ValueError(f"size {size} is refused: decord2 3.4 decodes frames {size} pixels wide with a wrong "
                         f"row stride; sizes {DECORD_MISREAD_SIZES} are refused, e.g. use {size + 8}")
    if not 1 <= fps <= 120:
        raise ValueError(f"fps must be between 1 and 120, got {fps}")


def exam_plan(n_videos: int, seed: int = 0) -> list[Exam]:
    """The hidden variables, site and biopsy result of every exam :func:`write_colposcopy` writes with
    these ``n_videos`` and ``seed`` (they do not depend on its other arguments).

    ``labels.csv`` agrees with ``biopsy`` except in one case: when every exam falls in one class, the
    labelled exam most likely to be in the other class is flipped there."""
    n = _integer("n_videos", n_videos)
    seed = _integer("seed", seed)
    if n < 1:
        raise ValueError(f"n_videos must be at least 1, got {n}")
    if seed < 0:
        raise ValueError(f"seed must not be negative, got {seed}")
    rng = np.random.default_rng([seed, 0])
    site = rng.integers(len(SITES), size=n)
    lesion = rng.random(n) < _P_LESION
    whitening = rng.random(n)
    roughness = rng.random(n)
    bleeding = rng.random(n) < _P_BLEEDING
    tau = rng.uniform(1.0, 3.0, n)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    distance = rng.uniform(0.06, 0.2, n)
    lesion_x = 0.5 + distance * np.cos(angle)
    lesion_y = 0.5 + distance * np.sin(angle)
    radius = rng.uniform(0.1, 0.2, n)
    bleeding_x = rng.uniform(0.2, 0.8, n)
    bleeding_y = rng.uniform(0.1, 0.45, n)
    onset = rng.uniform(0.05, 0.35, n)
    speed = rng.uniform(0.06, 0.15, n)
    probability = biopsy_probability(lesion, whitening, roughness, bleeding)
    biopsy = rng.random(n) < probability
    width = max(3, len(str(n)))
    return [Exam(id=f"exam{i + 1:0{width}d}", site=SITES[int(site[i])], lesion=bool(lesion[i]),
                 whitening=float(whitening[i]), roughness=float(roughness[i]), bleeding=bool(bleeding[i]),
                 whitening_seconds=float(tau[i]), lesion_x=float(lesion_x[i]), lesion_y=float(lesion_y[i]),
                 lesion_radius=float(radius[i]), bleeding_x=float(bleeding_x[i]),
                 bleeding_y=float(bleeding_y[i]), bleeding_onset=float(onset[i]),
                 bleeding_speed=float(speed[i]), probability=float(probability[i]), biopsy=bool(biopsy[i]))
            for i in range(n)]


# ---------------------------------------------------------------------------------------- frames


def _smooth(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian low-pass filtered white noise with standard deviation 1 (``sigma`` in pixels)."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), max(sigma, 0.3), mode="wrap")
    return field / max(float(field.std()), 1e-12)


def _scene(rng: np.random.Generator, exam: Exam, size: int, margin: int) -> np.ndarray:
    """The static scene, float32 ``(side, side, C)``: tissue RGB, then lesion mask and texture (with a
    lesion), then blood arrival time (s, after the bleeding onset) and coverage (with bleeding); only
    the layers an exam needs, as sampling them is most of the work. Scene pixel ``k`` lies at
    ``(k + 0.5 - margin) / size`` in frame fractions."""
    side = size + 2 * margin
    u = ((np.arange(side) + 0.5 - margin) / size)[None, :]  # x, frame fractions
    v = ((np.arange(side) + 0.5 - margin) / size)[:, None]  # y, growing downwards
    shape = (side, side)

    tint = rng.uniform(-0.04, 0.04, 3)
    base = np.array([0.86, 0.47, 0.52]) + tint
    tissue = base[None, None, :] + 0.045 * _smooth(rng, shape, 0.12 * size)[..., None] * np.array([1.0, 0.7, 0.7]) \
        + 0.03 * _smooth(rng, shape, 0.05 * size)[..., None] * np.array([0.3, 1.0, 0.9])

    # a redder zone (ectropion) around the os, and the os: a dark slit near the centre
    ox, oy = 0.5 + rng.uniform(-0.05, 0.05), 0.5 + rng.uniform(-0.05, 0.05)
    r_zone = np.hypot(u - ox, (v - oy) * 1.3) / rng.uniform(0.12, 0.2)
    zone = np.clip((1.0 - r_zone + 0.25 * _smooth(rng, shape, 0.05 * size)) / 0.25, 0.0, 1.0)
    grapes = 1.0 + 0.08 * _smooth(rng, shape, 0.012 * size)
    tissue = tissue * (1.0 - 0.7 * zone[..., None]) + (_ECTROPION * grapes[..., None]) * 0.7 * zone[..., None]
    slit = np.hypot((u - ox) / rng.uniform(0.05, 0.09), (v - oy) / rng.uniform(0.015, 0.03))
    os_mask = np.clip((1.0 - slit) / 0.5, 0.0, 1.0)[..., None]
    tissue = tissue * (1.0 - os_mask) + _OS * os_mask

    # vessels: thin dark lines along the zero level of a smooth field, in patches
    line = np.exp(-(_smooth(rng, shape, 0.045 * size) / 0.12) ** 2)
    patches = np.clip(_smooth(rng, shape, 0.2 * size), 0.0, 1.0)
    vessels = (0.55 * line * patches)[..., None]
    tissue = tissue * (1.0 - vessels) + _VESSEL * vessels
    glints = np.clip((_smooth(rng, shape, 0.012 * size) - 2.7) / 0.4, 0.0, 1.0)[..., None]
    tissue = tissue * (1.0 - 0.6 * glints) + 0.6 * glints

    layers = [tissue]
    if exam.lesion:
        r = np.hypot(u - exam.lesion_x, v - exam.lesion_y) / exam.lesion_radius
        wobble = np.clip(_smooth(rng, shape, 0.4 * exam.lesion_radius * size), -2.0, 2.0)
        mask = np.clip((1.0 - r**2 + 0.35 * wobble) / 0.3, 0.0, 1.0)
        texture = ndimage.gaussian_filter(rng.standard_normal(shape), 0.6)
        texture = np.clip(texture / max(float(texture.std()), 1e-12), -2.5, 2.5)
        layers += [mask[..., None], texture[..., None]]
    if exam.bleeding:
        arrival = np.full(shape, _NEVER)
        coverage = np.zeros(shape)
        for _ in range(int(rng.integers(1, 4))):
            x0 = exam.bleeding_x + rng.normal(0.0, 0.03)
            y0 = exam.bleeding_y + rng.uniform(0.0, 0.03)
            delay = rng.uniform(0.0, 0.6)
            speed = exam.bleeding_speed * rng.uniform(0.8, 1.2)
            half = max(rng.uniform(0.02, 0.035), 0.8 / size)
            path = x0 + rng.uniform(0.005, 0.02) * np.sin(2.0 * np.pi * (v - y0) / rng.uniform(0.15, 0.4)
                                                          + rng.uniform(0.0, 2.0 * np.pi))
            down = np.clip((v - y0) / half + 1.0, 0.0, 1.0)
            cover = np.clip(1.0 - ((u - path) / half) ** 2, 0.0, 1.0) * down
            cover = np.maximum(cover, np.clip(1.0 - np.hypot(u - x0, v - y0) / (1.6 * half), 0.0, 1.0))
            when = np.broadcast_to(delay + np.maximum(v - y0, 0.0) / speed, shape)
            arrival = np.where(cover > 0, np.minimum(arrival, when), arrival)
            coverage = np.maximum(coverage, cover)
        layers += [arrival[..., None], coverage[..., None]]
    return np.concatenate(layers, axis=2).astype(np.float32)


def _sinusoids(rng: np.random.Generator, t: np.ndarray, n: int, amplitude: tuple[float, float],
               frequency: tuple[float, float]) -> np.ndarray:
    out = np.zeros_like(t)
    for _ in range(n):
        out += rng.uniform(*amplitude) * np.sin(2.0 * np.pi * rng.uniform(*frequency) * t
                                                + rng.uniform(0.0, 2.0 * np.pi))
    return out


def _sample(scene: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear samples ``(T, S, S, C)`` of ``scene`` at rows ``ys`` ``(T, S)`` and columns ``xs`` ``(T, S)``
    (scene pixel coordinates; the sampling grid is separable)."""
    side = scene.shape[0]
    flat = scene.reshape(side * side, -1)
    y0 = np.clip(np.floor(ys).astype(np.int64), 0, side - 2)
    x0 = np.clip(np.floor(xs).astype(np.int64), 0, side - 2)
    fy = np.clip(ys - y0, 0.0, 1.0).astype(np.float32)[:, :, None, None]
    fx = np.clip(xs - x0, 0.0, 1.0).astype(np.float32)[:, None, :, None]
    index = y0[:, :, None] * side + x0[:, None, :]
    top = flat[index] * (1.0 - fx) + flat[index + 1] * fx
    bottom = flat[index + side] * (1.0 - fx) + flat[index + side + 1] * fx
    return top * (1.0 - fy) + bottom * fy


def _render(rng: np.random.Generator, exam: Exam, n_frames: int, size: int, fps: int) -> np.ndarray:
    """The exam's frames, uint8 RGB ``(n_frames, size, size, 3)``."""
    margin = int(math.ceil(0.12 * size)) + 2
    scene = _scene(rng, exam, size, margin)
    t = np.arange(n_frames) / fps
    seconds = n_frames / fps

    # camera: smooth translation (sinusoids plus a smoothed tremor) and a slow zoom drift
    def shift() -> np.ndarray:
        tremor = ndimage.gaussian_filter1d(rng.standard_normal(n_frames), max(0.2 * fps, 0.5), mode="nearest")
        return _sinusoids(rng, t, 3, (0.004, 0.012), (0.05, 0.6)) + 0.004 * tremor

    dx, dy = shift(), shift()
    zoom = np.exp(rng.uniform(-0.03, 0.03) + rng.uniform(-0.05, 0.05) * (t / seconds - 0.5)
                  + _sinusoids(rng, t, 1, (0.005, 0.02), (0.03, 0.2)))
    grid = (np.arange(size) + 0.5) / size - 0.5
    xs = margin + size * (0.5 + dx[:, None] + grid[None, :] / zoom[:, None]) - 0.5
    ys = margin + size * (0.5 + dy[:, None] + grid[None, :] / zoom[:, None]) - 0.5
    frames = _sample(scene, ys, xs)
    color = frames[..., :3]
    tt = t.astype(np.float32)[:, None, None, None]

    if exam.lesion:
        mask, texture = frames[..., 3:4], frames[..., 4:5]
        white = (_MAX_WHITE * exam.whitening * (1.0 - np.exp(-tt / exam.whitening_seconds))) * mask
        color = color * (1.0 - white) + _WHITE * white
        color = color * (1.0 + _TEXTURE * exam.roughness * mask * texture)
    if exam.bleeding:
        onset = exam.bleeding_onset * seconds
        arrival, coverage = frames[..., -2:-1], frames[..., -1:]
        blood = 0.9 * coverage * np.clip((tt - onset - arrival) / 0.4, 0.0, 1.0)
        color = color * (1.0 - blood) + _BLOOD * blood

    # light fixed to the camera: vignetting whose centre and gain drift slowly, a per-exam tint
    lx = 0.5 + _sinusoids(rng, t, 2, (0.01, 0.04), (0.02, 0.15))
    ly = 0.5 + _sinusoids(rng, t, 2, (0.01, 0.04), (0.02, 0.15))
    gain = rng.uniform(0.9, 1.05) * (1.0 + _sinusoids(rng, t, 2, (0.01, 0.025), (0.05, 0.3)))
    pos = (np.arange(size) + 0.5) / size
    r2 = (pos[None, None, :] - lx[:, None, None]) ** 2 + (pos[None, :, None] - ly[:, None, None]) ** 2
    light = gain[:, None, None] * np.clip(1.0 - rng.uniform(0.45, 0.65) * r2 / 0.5, 0.1, None)
    tint = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.92, 1.0)], dtype=np.float32)
    color = color * (light.astype(np.float32)[..., None] * tint)
    color = color + np.float32(rng.uniform(0.008, 0.025)) * rng.standard_normal(color.shape, dtype=np.float32)
    return np.clip(np.rint(color * 255.0), 0, 255).astype(np.uint8)


def _yuv420p(frames: np.ndarray) -> np.ndarray:
    """uint8 RGB ``(T, S, S, 3)`` as planar yuv420p ``(T, 3 * S // 2, S)`` (BT.601, limited range; chroma
    from the mean of each 2 x 2 block), computed here rather than by swscale inside PyAV's encoder,
    whose output varied from run to run."""
    rgb = frames.astype(np.float32) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16.0 + 65.481 * r + 128.553 * g + 24.966 * b
    n, size = frames.shape[0], frames.shape[1]
    half = rgb.reshape(n, size // 2, 2, size // 2, 2, 3).mean(axis=(2, 4))
    r, g, b = half[..., 0], half[..., 1], half[..., 2]
    cb = 128.0 - 37.797 * r - 74.203 * g + 112.0 * b
    cr = 128.0 + 112.0 * r - 93.786 * g - 18.214 * b
    chroma = np.concatenate([cb.reshape(n, size // 4, size), cr.reshape(n, size // 4, size)], axis=1)
    planes = np.concatenate([y, chroma], axis=1)
    return np.clip(np.rint(planes), 0, 255).astype(np.uint8)


def _encode(path: Path, frames: np.ndarray, fps: int) -> None:
    """Write ``frames`` (uint8 RGB, even side) as H.264 (yuv420p) in MP4: one thread, no B-frames, the
    colour conversion done here, so the bytes are reproducible."""
    import av

    planes = _yuv420p(frames)
    with av.open(str(path), mode="w", format="mp4") as container:
        options = {"crf": str(CRF), "preset": PRESET, "threads": "1", "x264-params": X264_PARAMS}
        stream = container.add_stream("libx264", rate=fps, options=options)
        stream.width = stream.height = frames.shape[1]
        stream.pix_fmt = "yuv420p"
        time_base = Fraction(1, fps)
        for i, image in enumerate(planes):
            frame = av.VideoFrame.from_ndarray(image, format="yuv420p")
            frame.pts, frame.time_base = i, time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


# --------------------------------------------------------------------------------------- writing


def _readme(*, n_videos: int, n_labelled: int, seed: int, size: int, fps: int, min_seconds: float,
            max_seconds: float, exams: list[Exam], biopsy: np.ndarray, labelled: np.ndarray,
            aucs: dict[str, float]) -> str:
    n_lesion = sum(e.lesion for e in exams)
    n_bleeding = sum(e.bleeding for e in exams)
    n_positive = int(biopsy[labelled].sum())
    auc_lines = "\n".join(f"AUC of {name}: {value:.3f}" for name, value in aucs.items())
    return f"""SYNTHETIC DATA - made-up colposcopy exams for demos and tests. No real patients, exams or biopsies.

Made by proxyml.modalities.video.demo.write_colposcopy(n_videos={n_videos}, n_labelled={n_labelled},
seed={seed}, size={size}, fps={fps}, min_seconds={min_seconds}, max_seconds={max_seconds}).
The same arguments give byte-identical files (the same PyAV / libx264 build assumed).

Files
- videos/<id>.mp4: {n_videos} exams, H.264 (libx264, crf {CRF}, preset {PRESET}, no B-frames, one
  thread), yuv420p (BT.601, limited range),
  {size}x{size} pixels, {fps} frames a second, lengths uniform in [{min_seconds}, {max_seconds}] s.
- manifest.csv: id, file (relative to this folder), site (one of {", ".join(SITES)};
  drawn at random, it carries no signal), duration_s (frames / fps).
- labels.csv: id, biopsy (positive/negative) for {n_labelled} exams chosen at random.

How an exam is made
Every frame is drawn with numpy and scipy.ndimage. A static scene, a little larger than the
frame, is drawn per exam: pink/red tissue with smooth colour variation (low-pass filtered
noise), a redder zone around a dark slit (the os) near the centre, darker thin vessels and a
few tiny glints. The camera moves over it: small smooth translations (up to about 5 % of the
frame) and a slow zoom drift of a few percent, frame by frame (bilinear sampling). The light is
fixed to the camera: vignetting whose centre and brightness drift slowly, a per-exam tint.
Gaussian sensor noise is added to every pixel of every frame.

Hidden variables (never in the manifest), drawn per exam:
- lesion ({n_lesion} of {n_videos} exams): a blob near the os, 10-20 % of the frame in radius, which
  turns white after the (implied) acetic acid: its whiteness a(t) = 0.85 * whitening *
  (1 - exp(-t / tau)) rises from 0 over the first seconds (tau 1-3 s per exam) to a plateau;
  whitening ~ U(0, 1). Its brightness carries a pixel-scale rough texture of amplitude
  0.2 * roughness, roughness ~ U(0, 1), present from the first frame (blur removes it).
  Whitening and roughness are drawn for every exam but shown only where there is a lesion.
- bleeding ({n_bleeding} of {n_videos} exams, independent of the lesion): one to three thin red
  rivulets from a random source point in the upper half; from an onset in the first 5-35 % of
  the exam their tips run down the frame at 0.06-0.15 frame heights a second. Blood flows
  down, lesions stay put: flipping frames upside down or playing them backwards changes it.

Biopsy
Each exam's result is one Bernoulli draw from

    {BIOPSY_FORMULA}

where lesion and bleeding are 1 or 0 and sigmoid(z) = 1 / (1 + exp(-z)); site plays no part.
If the labelled exams all fell in one class, one is swapped for an unlabelled exam of the other
class, so both classes are present.

On the {n_labelled} labelled exams ({n_positive} positive), each hidden variable alone
(sklearn.metrics.roc_auc_score at generation time):
{auc_lines}
The last is what the true model scores; the result is a random draw from P(biopsy), so in
expectation no model of these videos does better.

What these videos can and cannot show
They can show whether a model sees a slowly whitening region against moving, unevenly lit
tissue, fine texture (which blur or downscaling destroys), and downward flow over time (which
vertical flips or time reversal break), at a scale where training takes minutes on a CPU. They
cannot show anything clinical: the tissue, lesions, blood, optics and timings are crude
stand-ins (acetowhitening is compressed into seconds; there are no instruments, mucus, speculum,
green filter, Lugol's iodine, focus changes or cuts), and the biopsy label follows the formula
above, not pathology. Nothing learned here says how a model does on real colposcopy.
"""


def write_colposcopy(out: str | Path, *, n_videos: int = 80, n_labelled: int = 40, seed: int = 0,
                     size: int = 112, fps: int = 10, min_seconds: float = 8.0,
                     max_seconds: float = 14.0) -> dict[str, Path]:
    """Write seeded synthetic colposcopy exam videos into ``out`` (created if missing) and return its paths.

    Writes ``out/videos/<id>.mp4`` (ids ``exam001``...; H.264 in MP4, yuv420p, ``size`` x ``size``
    pixels at ``fps`` frames a second, lengths uniform in ``[min_seconds, max_seconds]``),
    ``out/manifest.csv`` (``id,file,site,duration_s``; ``file`` relative to ``out``, ``duration_s``
    the number of frames / ``fps``), ``out/labels.csv`` (``id,biopsy`` with ``positive``/``negative``
    for ``n_labelled`` exams chosen at random, both classes present) and ``out/README.txt`` (what the
    data is, how it was made, the biopsy model and the AUC of each hidden variable alone on the
    labelled exams). The hidden variables are those of :func:`exam_plan` ``(n_videos, seed)``. Files
    of the same names are overwritten; the same arguments give byte-identical files.

    Returns ``{"folder": out, "manifest": out/"manifest.csv", "labels": out/"labels.csv",
    "videos": out/"videos"}``. Raises :class:`ValueError` when ``n_videos < 4``, ``n_labelled < 2``,
    ``n_labelled > n_videos``, ``seed < 0``, ``size`` is odd, below 16 or one of
    :data:`DECORD_MISREAD_SIZES`, ``fps`` is outside [1, 120], ``min_seconds < 1``, ``max_seconds <
    min_seconds``, either is not finite, or a count is not an integer.
    """
    from sklearn.metrics import roc_auc_score

    n_videos, n_labelled = _integer("n_videos", n_videos), _integer("n_labelled", n_labelled)
    seed, size, fps = _integer("seed", seed), _integer("size", size), _integer("fps", fps)
    min_seconds, max_seconds = float(min_seconds), float(max_seconds)
    _check_arguments(n_videos, n_labelled, seed, size, fps, min_seconds, max_seconds)

    exams = exam_plan(n_videos, seed)
    seconds = np.random.default_rng([seed, 1]).uniform(min_seconds, max_seconds, n_videos)
    n_frames = np.maximum(1, np.rint(seconds * fps).astype(np.int64))
    probability = np.array([e.probability for e in exams])
    biopsy, labelled = draw_labelled(np.random.default_rng([seed, 2]), np.array([e.biopsy for e in exams]),
                                      probability, n_labelled)

    folder = Path(out)
    videos = folder / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    for i, exam in enumerate(exams):
        frames = _render(np.random.default_rng([seed, 3, i]), exam, int(n_frames[i]), size, fps)
        _encode(videos / f"{exam.id}.mp4", frames, fps)
        rows.append([exam.id, f"videos/{exam.id}.mp4", exam.site, f"{n_frames[i] / fps:.6f}"])

    manifest, labels = folder / "manifest.csv", folder / "labels.csv"
    write_csv(manifest, MANIFEST_COLUMNS, rows)
    write_csv(labels, LABEL_COLUMNS, [[exams[i].id, "positive" if biopsy[i] else "negative"] for i in labelled])

    y = biopsy[labelled].astype(int)
    chosen = [exams[i] for i in labelled]
    lesion = np.array([e.lesion for e in chosen], dtype=float)
    whitening = np.array([e.whitening for e in chosen])
    roughness = np.array([e.roughness for e in chosen])
    scores = {
        "lesion alone (1 = present)": lesion,
        "whitening alone (as drawn, shown only with a lesion)": whitening,
        "roughness alone (as drawn, shown only with a lesion)": roughness,
        "bleeding alone (1 = present)": np.array([e.bleeding for e in chosen], dtype=float),
        "visible whitening (lesion * whitening)": lesion * whitening,
        "visible roughness (lesion * roughness)": lesion * roughness,
        "the true P(biopsy) (all together)": probability[labelled],
    }
    aucs = {name: float(roc_auc_score(y, score)) for name, score in scores.items()}
    readme = _readme(n_videos=n_videos, n_labelled=n_labelled, seed=seed, size=size, fps=fps,
                     min_seconds=min_seconds, max_seconds=max_seconds, exams=exams, biopsy=biopsy,
                     labelled=labelled, aucs=aucs)
    (folder / "README.txt").write_text(readme, encoding="utf-8")
    return {"folder": folder, "manifest": manifest, "labels": labels, "videos": videos}
