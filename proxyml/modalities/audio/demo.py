"""A seeded synthetic call center: telephone calls, a manifest and a few churn labels (demos, tests).

Nothing is downloaded and nothing is real: every call is synthesised with numpy and
``scipy.signal`` and written with soundfile by :func:`write_call_center`. The same arguments give
byte-identical files.

A call is two synthetic voices taking turns, the agent on channel 0 and the customer on
channel 1 (mixed into one channel with ``stereo=False``). A voice is a glottal-pulse source
(Rosenberg pulses, differentiated) whose pitch follows a contour with slow drift, phrase
declination and per-syllable intonation, passed through three formant resonators
(``scipy.signal.lfilter``) whose formants move from vowel to vowel, syllable by syllable, and
shaped by a syllable-rate envelope (about 4-6 syllables a second, short pauses between
phrases). Each speaker has their own pitch, vocal-tract length and speaking rate. Low-level
background noise, a small random gain per call and a telephone band-pass (250-3400 Hz) finish it.

Direction is audible throughout a call:

- outbound: a ringback tone (440 + 480 Hz, 2 s on, 4 s off, once or twice) on the agent's side,
  then the agent speaks first and more (about 60-65 % of the speech time);
- inbound: the customer speaks first and more; about half of the inbound calls put the customer on
  hold somewhere in the middle (a few seconds of a simple tune of harmonic tones on the agent's
  side), after which the agent speaks first.

Each call has a hidden ``agitation`` in [0, 1], never written to the manifest: Beta(2.5, 2.5) for
inbound calls, Beta(1.3, 3.5) for outbound ones. An agitated customer speaks louder (up to
+8 dB), faster (syllable rate up to 1.5x) and with a wider pitch range (up to 2x). Churn depends
on direction and agitation only (queue and hour carry no signal)::

    P(churn = yes) = sigmoid(-2.0 + 1.0 * inbound + 3.0 * agitation)

with ``inbound`` 1 for inbound calls, 0 for outbound ones, and ``sigmoid(z) = 1 / (1 + exp(-z))``;
each call's churn is one Bernoulli draw from it. ``labels.csv`` holds the churn of ``n_labelled``
calls chosen at random; should those all fall in one class, one of them is swapped for an
unlabelled call of the other class (or, when every call is in one class, the labelled call most
likely to be in the other class is flipped), so both classes are always present.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal
from scipy.special import expit

from proxyml.demos import check_demo_sizes, draw_labelled, write_csv

CHURN_INTERCEPT = -2.0
CHURN_INBOUND = 1.0
CHURN_AGITATION = 3.0
CHURN_FORMULA = "P(churn = yes) = sigmoid(-2.0 + 1.0 * inbound + 3.0 * agitation)"
"""The exact churn model (``inbound`` is 1 for inbound calls, 0 for outbound ones)."""

MANIFEST_COLUMNS = ("id", "file", "direction", "queue", "duration_s", "hour")
LABEL_COLUMNS = ("id", "churn")
QUEUES = ("billing", "support", "sales")
DIRECTIONS = ("inbound", "outbound")

_P_INBOUND = 0.55
_AGITATION_BETA = {"inbound": (2.5, 2.5), "outbound": (1.3, 3.5)}
_QUEUE_P = {"inbound": (0.40, 0.45, 0.15), "outbound": (0.20, 0.20, 0.60)}
_HOUR_WEIGHTS = np.array([3, 6, 8, 8, 7, 5, 7, 8, 7, 5, 3, 2], dtype=float)  # hours 8..19
_MAX_LOUDER_DB = 8.0
_MAX_FASTER = 0.5  # syllable rate x (1 + 0.5 * agitation)
_MAX_WIDER = 1.0  # pitch range x (1 + 1.0 * agitation)
_PEAK = 0.94

# (F1, F2, F3) in Hz of five vowels for an adult male vocal tract, and the bandwidths
_VOWELS = np.array([[730.0, 1090.0, 2440.0],   # a
                    [530.0, 1840.0, 2480.0],   # e
                    [270.0, 2290.0, 3010.0],   # i
                    [570.0, 840.0, 2410.0],    # o
                    [300.0, 870.0, 2240.0]])   # u
_BANDWIDTHS = np.array([90.0, 110.0, 160.0])


@dataclass(frozen=True)
class _Call:
    """What is drawn for one call before its audio is made."""

    id: str
    inbound: bool
    queue: str
    hour: int
    n_samples: int
    agitation: float
    hold: bool


@dataclass(frozen=True)
class _Voice:
    """One speaker: mean pitch (Hz), formant scale, syllables a second, pitch range (semitones), level (dB)."""

    f0: float
    formant_scale: float
    rate: float
    range_st: float
    level_db: float


def churn_probability(inbound: np.ndarray, agitation: np.ndarray) -> np.ndarray:
    """``P(churn = yes)`` of calls with direction ``inbound`` (1/0) and hidden ``agitation`` in [0, 1]."""
    z = CHURN_INTERCEPT + CHURN_INBOUND * np.asarray(inbound, dtype=float) \
        + CHURN_AGITATION * np.asarray(agitation, dtype=float)
    return expit(z)


def _check_arguments(n_calls: int, n_labelled: int, sample_rate: int, min_seconds: float,
                     max_seconds: float) -> None:
    check_demo_sizes(n_calls, n_labelled, samples="n_calls", target="churn", min_seconds=min_seconds,
                     max_seconds=max_seconds)
    if sample_rate < 8000:
        raise ValueError(f"sample_rate must be at least 8000 Hz (telephone band up to 3400 Hz), got {sample_rate}")


def _draw_calls(rng: np.random.Generator, n_calls: int, sample_rate: int, min_seconds: float,
                max_seconds: float) -> list[_Call]:
    """Direction, queue, hour, length, hidden agitation and hold music of every call."""
    inbound = rng.random(n_calls) < _P_INBOUND
    agitation = np.where(inbound, rng.beta(*_AGITATION_BETA["inbound"], n_calls),
                         rng.beta(*_AGITATION_BETA["outbound"], n_calls))
    seconds = rng.uniform(min_seconds, max_seconds, n_calls)
    hold = inbound & (rng.random(n_calls) < 0.5)
    queue_in = rng.choice(len(QUEUES), n_calls, p=_QUEUE_P["inbound"])
    queue_out = rng.choice(len(QUEUES), n_calls, p=_QUEUE_P["outbound"])
    queue = np.where(inbound, queue_in, queue_out)
    hour = 8 + rng.choice(12, n_calls, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    width = max(4, len(str(n_calls)))
    return [_Call(id=f"call{i + 1:0{width}d}", inbound=bool(inbound[i]), queue=QUEUES[int(queue[i])],
                  hour=int(hour[i]), n_samples=max(1, int(round(seconds[i] * sample_rate))),
                  agitation=float(agitation[i]), hold=bool(hold[i]))
            for i in range(n_calls)]


def _draw_labels(rng: np.random.Generator, probability: np.ndarray, n_labelled: int) -> tuple[np.ndarray, np.ndarray]:
    """Churn of every call (one Bernoulli draw each) and the sorted indices of the labelled calls,
    with both classes among the labelled ones."""
    return draw_labelled(rng, rng.random(len(probability)) < probability, probability, n_labelled)


# ---------------------------------------------------------------------------------------- audio


def _one_pole(x: np.ndarray, seconds: float, sr: int) -> np.ndarray:
    """A one-pole low-pass with time constant ``seconds``."""
    a = math.exp(-1.0 / max(seconds * sr, 1e-9))
    return signal.lfilter([1.0 - a], [1.0, -a], x)


def _box(x: np.ndarray, width: int) -> np.ndarray:
    """A centred moving average over ``width // 2 * 2 + 1`` samples (the edges repeated)."""
    half = width // 2
    if half < 1 or len(x) == 0:
        return x
    c = np.cumsum(np.pad(x, (half + 1, half), mode="edge"))
    return (c[2 * half + 1:] - c[: -(2 * half + 1)]) / (2 * half + 1)


def _formant_filter(formants: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Three cascaded two-pole resonators as one all-pole filter, normalised to a peak gain of 1."""
    a = np.array([1.0])
    for f, bw in zip(formants, _BANDWIDTHS, strict=True):
        f = min(float(f), 0.45 * sr)
        r = math.exp(-math.pi * bw / sr)
        a = np.convolve(a, [1.0, -2.0 * r * math.cos(2.0 * math.pi * f / sr), r * r])
    _, h = signal.freqz([1.0], a, worN=1024)
    return np.array([1.0 / float(np.abs(h).max())]), a


def _turns(rng: np.random.Generator, start: float, end: float, first: int, major: int,
           scale: float) -> list[tuple[int, float, float]]:
    """Alternating turns ``(speaker, start, end)`` in seconds, speaker 0 = agent, 1 = customer;
    ``major`` holds the floor longer (about 63 % of the speech time)."""
    turns: list[tuple[int, float, float]] = []
    speaker, t = first, start
    while end - t > 0.3:
        mean = (3.2 if speaker == major else 2.0) * scale
        length = max(0.4, rng.gamma(3.0, mean / 3.0))
        stop = min(t + length, end)
        turns.append((speaker, t, stop))
        t = stop + rng.uniform(0.15, 0.6) * max(scale, 0.5)
        speaker = 1 - speaker
    return turns


def _syllables(rng: np.random.Generator, start: float, end: float, rate: float) -> tuple[np.ndarray, ...]:
    """Syllables ``(starts, ends, phrase_break_before)`` in seconds filling a turn, with short pauses
    between phrases (a phrase is about 5 syllables)."""
    n_max = int((end - start) * rate * 1.6) + 4
    dur = rng.gamma(8.0, 1.0 / (8.0 * rate), n_max)
    breaks = rng.random(n_max) < 0.2
    gap = np.where(breaks, rng.uniform(0.12, 0.35, n_max), rng.uniform(0.0, 0.03, n_max))
    starts = start + np.concatenate([[0.0], np.cumsum(dur + gap)[:-1]])
    ends = starts + dur
    keep = ends <= end
    if not keep.any():
        keep[0], ends[0] = True, end
    phrase_start = np.concatenate([[True], breaks[:-1]])
    return starts[keep], ends[keep], phrase_start[keep]


def _render_voice(rng: np.random.Generator, voice: _Voice, turns: list[tuple[float, float]],
                  n: int, sr: int) -> np.ndarray:
    """One speaker's track (``n`` samples), speaking in ``turns`` (seconds), at RMS level ``voice.level_db``
    over the time they speak."""
    out = np.zeros(n)
    if not turns:
        return out
    parts = [_syllables(rng, a, b, voice.rate) for a, b in turns]
    starts = np.concatenate([p[0] for p in parts])
    ends = np.concatenate([p[1] for p in parts])
    phrase_first = np.concatenate([p[2] for p in parts])
    for k in np.cumsum([0] + [len(p[0]) for p in parts[:-1]]):
        phrase_first[k] = True  # every turn starts a phrase
    n_syl = len(starts)
    s0 = np.clip(np.round(starts * sr).astype(np.int64), 0, n - 1)
    s1 = np.clip(np.round(ends * sr).astype(np.int64), s0 + 1, n)

    # work only on the samples of the turns (plus 60 ms for the filters to ring out): t holds them
    pad = int(0.06 * sr)
    bounds = np.array([(max(0, int(a * sr) - pad), min(n, int(math.ceil(b * sr)) + pad)) for a, b in turns])
    merged: list[list[int]] = []
    for a, b in bounds.tolist():
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    t = np.concatenate([np.arange(a, b) for a, b in merged])
    m = len(t)

    # per syllable: vowel, stress, intonation (random accent plus declination over the phrase)
    vowel = rng.integers(len(_VOWELS), size=n_syl)
    stress = rng.uniform(0.55, 1.0, n_syl)
    phrase = np.cumsum(phrase_first) - 1
    first_of_phrase = np.searchsorted(phrase, phrase, side="left")
    phrase_len = np.searchsorted(phrase, phrase, side="right") - first_of_phrase
    position = (np.arange(n_syl) - first_of_phrase) / np.maximum(phrase_len - 1, 1)
    accent = rng.normal(0.0, 0.6, n_syl) * voice.range_st + 0.8 * voice.range_st * (stress - 0.75)
    semitones = accent + voice.range_st * (0.8 - 1.6 * position)

    # per sample: which syllable, where in it
    idx = np.searchsorted(s0, t, side="right") - 1
    idx_c = np.maximum(idx, 0)
    active = (idx >= 0) & (t < s1[idx_c])
    pos = np.clip((t - s0[idx_c]) / (s1[idx_c] - s0[idx_c]), 0.0, 1.0)
    env = np.where(active, np.sin(np.pi * pos) ** 0.6 * stress[idx_c], 0.0)
    env = _box(env, int(0.004 * sr))

    # pitch: syllable targets with a fall inside the syllable, smoothed, plus slow drift and jitter
    st = semitones[idx_c] - 0.4 * voice.range_st * pos * active
    st = _one_pole(st, 0.03, sr)
    seconds = t / sr
    for _ in range(3):
        st += 0.6 * np.sin(2.0 * np.pi * rng.uniform(0.03, 0.25) * seconds + rng.uniform(0.0, 2.0 * np.pi))
    st += _one_pole(rng.standard_normal(m), 0.005, sr) * 1.5
    f0 = voice.f0 * 2.0 ** (st / 12.0)

    # glottal source: Rosenberg pulses following f0, differentiated, plus a little aspiration
    phase = np.cumsum(f0 / sr) % 1.0
    opening, closing = 0.40, 0.16
    pulse = np.where(phase < opening, 0.5 * (1.0 - np.cos(np.pi * phase / opening)),
                     np.where(phase < opening + closing,
                              np.cos(0.5 * np.pi * (phase - opening) / closing), 0.0))
    source = np.diff(pulse, prepend=pulse[0]) * (sr / voice.f0)
    source = (source + 0.04 * rng.standard_normal(m)) * env

    # formants: one filter per vowel, cross-faded syllable by syllable
    vowel_at = vowel[idx_c]
    voiced = np.zeros(m)
    for v, formants in enumerate(_VOWELS):
        if not np.any(vowel == v):
            continue
        b, a = _formant_filter(formants * voice.formant_scale, sr)
        weight = _box((vowel_at == v).astype(float), int(0.02 * sr))
        voiced += weight * signal.lfilter(b, a, source)

    # consonant-like noise bursts at syllable onsets
    onset = active & (pos < 0.12)
    burst = np.diff(rng.standard_normal(m), prepend=0.0) * onset * stress[idx_c] * 0.15

    speech = voiced + burst * np.sqrt(np.mean(voiced[active] ** 2) if active.any() else 0.0)
    rms = math.sqrt(float(np.mean(speech[active] ** 2))) if active.any() else 0.0
    if rms > 0:
        speech *= 10.0 ** (voice.level_db / 20.0) / rms
    out[t] = speech
    return out


def _ringback(n_samples: int, sr: int, level_db: float) -> np.ndarray:
    """``n_samples`` of the North American ringback tone (440 + 480 Hz) with 10 ms ramps."""
    t = np.arange(n_samples) / sr
    tone = 0.5 * (np.sin(2 * np.pi * 440.0 * t) + np.sin(2 * np.pi * 480.0 * t))
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01) if n_samples else t
    return tone * ramp * 10.0 ** (level_db / 20.0) * math.sqrt(2.0)


def _hold_music(rng: np.random.Generator, n_samples: int, sr: int, level_db: float) -> np.ndarray:
    """A simple repeating tune of plucked harmonic tones on a pentatonic scale."""
    scale = 220.0 * 2.0 ** (np.array([0, 2, 4, 7, 9, 12, 14, 16]) / 12.0)
    tune = rng.choice(scale, 8)
    note = rng.uniform(0.28, 0.4)
    t = np.arange(n_samples) / sr
    k = (t // note).astype(np.int64)
    local = t - k * note
    freq = tune[k % len(tune)]
    env = np.minimum(1.0, local / 0.01) * np.exp(-local / 0.22)
    music = sum(0.6 ** (h - 1) * np.sin(2 * np.pi * h * freq * local) for h in range(1, 5))
    music = music * env
    rms = math.sqrt(float(np.mean(music**2))) if n_samples else 0.0
    return music * (10.0 ** (level_db / 20.0) / rms if rms > 0 else 0.0)


def _speaker_voices(rng: np.random.Generator, agitation: float) -> tuple[_Voice, _Voice]:
    """Agent and customer voices; their mean pitches differ by at least 15 %."""

    def pitch_and_tract(female: bool) -> tuple[float, float]:
        if female:
            return rng.uniform(190.0, 230.0), 1.15 * rng.uniform(0.97, 1.03)
        return rng.uniform(110.0, 140.0), rng.uniform(0.97, 1.03)

    agent_f0, agent_tract = pitch_and_tract(bool(rng.random() < 0.5))
    customer_female = bool(rng.random() < 0.5)
    customer_f0, customer_tract = pitch_and_tract(customer_female)
    if abs(math.log(customer_f0 / agent_f0)) < math.log(1.15):
        customer_f0 = agent_f0 * (1.18 if customer_f0 >= agent_f0 else 1.0 / 1.18)
    agent = _Voice(f0=agent_f0, formant_scale=agent_tract, rate=rng.uniform(4.3, 5.3),
                   range_st=rng.uniform(1.6, 2.2), level_db=-24.0 + rng.uniform(-1.5, 1.5))
    customer = _Voice(f0=customer_f0, formant_scale=customer_tract,
                      rate=rng.uniform(4.0, 5.0) * (1.0 + _MAX_FASTER * agitation),
                      range_st=rng.uniform(1.6, 2.2) * (1.0 + _MAX_WIDER * agitation),
                      level_db=-26.0 + rng.uniform(-1.5, 1.5) + _MAX_LOUDER_DB * agitation)
    return agent, customer


def _render_call(rng: np.random.Generator, call: _Call, sr: int) -> np.ndarray:
    """The call as float ``(n, 2)``: channel 0 agent (plus ringback and hold music), 1 customer."""
    n = call.n_samples
    length = n / sr
    scale = float(np.clip(length / 20.0, 0.2, 1.0))  # short calls get shorter rings, holds and turns
    agent_voice, customer_voice = _speaker_voices(rng, call.agitation)
    system = np.zeros(n)

    t = rng.uniform(0.1, 0.5) * scale
    if not call.inbound:
        on, off = min(2.0, 0.12 * length), min(4.0, 0.2 * length)
        rings = 2 if rng.random() < 0.5 and 2 * on + off <= 0.4 * length else 1
        for _ in range(rings):
            a = int(round(t * sr))
            b = min(n, a + int(round(on * sr)))
            system[a:b] += _ringback(b - a, sr, -22.0)
            t += on + off
        t -= off
        t += rng.uniform(0.3, 0.8) * scale
    end = length - rng.uniform(0.1, 0.4) * scale
    spans = [(t, end)]
    if call.hold and end - t > 2.0:
        hold_len = min(rng.uniform(3.0, 7.0), 0.2 * length)
        h0 = t + (end - t - hold_len) * rng.uniform(0.35, 0.6)
        a, b = int(round(h0 * sr)), int(round((h0 + hold_len) * sr))
        system[a:b] += _hold_music(rng, b - a, sr, -24.0)
        spans = [(t, h0 - 0.3 * scale), (h0 + hold_len + 0.3 * scale, end)]

    major = 1 if call.inbound else 0
    turns: list[tuple[int, float, float]] = []
    for k, (start, stop) in enumerate(spans):
        first = major if k == 0 else 0  # after hold the agent comes back first
        turns += _turns(rng, start, stop, first, major, max(scale, 0.35))
    agent = _render_voice(rng, agent_voice, [(a, b) for s, a, b in turns if s == 0], n, sr)
    customer = _render_voice(rng, customer_voice, [(a, b) for s, a, b in turns if s == 1], n, sr)

    audio = np.stack([agent + system, customer], axis=1)
    noise_db = rng.uniform(-58.0, -44.0)
    white = rng.standard_normal((n, 2))
    noise = 0.6 * white + 3.0 * _one_pole(white.T, 0.0005, sr).T
    noise *= 10.0 ** (noise_db / 20.0) / max(float(np.sqrt(np.mean(noise**2))), 1e-12)
    band = signal.butter(4, [250.0, min(3400.0, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    audio = signal.sosfilt(band, audio + noise, axis=0)
    return audio * 10.0 ** (rng.uniform(-3.0, 3.0) / 20.0)


def _pcm16(audio: np.ndarray) -> np.ndarray:
    """Float audio as 16-bit integers, scaled down first where a peak would reach ``_PEAK``."""
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > _PEAK:
        audio = audio * (_PEAK / peak)
    return np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)


# --------------------------------------------------------------------------------------- writing


def _readme(*, n_calls: int, n_labelled: int, seed: int, sample_rate: int, min_seconds: float,
            max_seconds: float, stereo: bool, calls: list[_Call], churn: np.ndarray, labelled: np.ndarray,
            auc_direction: float, auc_agitation: float, auc_both: float) -> str:
    n_in = sum(c.inbound for c in calls)
    n_hold = sum(c.hold for c in calls)
    layout = ("stereo: channel 0 is the agent (with the ringback and hold music heard on the agent's side), "
              "channel 1 the customer" if stereo else "mono: agent and customer mixed into one channel")
    return f"""SYNTHETIC DATA - a made-up call center for demos and tests. No real calls, people or customers.

Made by proxyml.modalities.audio.demo.write_call_center(n_calls={n_calls}, n_labelled={n_labelled},
seed={seed}, sample_rate={sample_rate}, min_seconds={min_seconds}, max_seconds={max_seconds},
stereo={stereo}). The same arguments give byte-identical files.

Files
- calls/<id>.wav: {n_calls} calls, 16-bit PCM at {sample_rate} Hz, {layout};
  lengths uniform in [{min_seconds}, {max_seconds}] s.
- manifest.csv: id, file (relative to this folder), direction (inbound/outbound), queue
  (billing/support/sales), duration_s (the real length), hour (8..19).
- labels.csv: id, churn (yes/no) for {n_labelled} calls chosen at random.

How a call is made
Every sound is synthesised with numpy and scipy.signal. Two voices take turns: each is a
glottal-pulse source (Rosenberg pulses) following a pitch contour with slow drift, phrase
declination and per-syllable intonation, passed through three formant resonators whose formants
move between five vowels syllable by syllable, with a syllable-rate envelope (about 4-6
syllables a second, short pauses between phrases). Agent and customer have different pitches.
Low-level background noise (different per call), a small random gain per call and a telephone
band-pass (250-3400 Hz) are added; peaks stay below 0.95.

Direction ({n_in} inbound, {n_calls - n_in} outbound) is audible throughout a call:
- outbound: a ringback tone (440 + 480 Hz, 2 s on, 4 s off, once or twice; shorter in calls under
  20 s), then the agent speaks first and more (about 60-65 % of the speech time);
- inbound: the customer speaks first and more; {n_hold} of the inbound calls have a few seconds of
  hold music (a tune of harmonic tones) in the middle, after which the agent speaks first.
Queue and hour are drawn per direction / at random and carry no churn signal.

Agitation and churn
Each call has a hidden agitation in [0, 1] (not in the manifest): Beta(2.5, 2.5) for inbound
calls, Beta(1.3, 3.5) for outbound ones. An agitated customer speaks louder (+8 dB x agitation),
faster (syllable rate x (1 + 0.5 x agitation)) and with a wider pitch range (x (1 + agitation)).
Churn is one Bernoulli draw per call from

    {CHURN_FORMULA}

where inbound = 1 for inbound calls and 0 for outbound ones, sigmoid(z) = 1 / (1 + exp(-z)).
If the labelled calls all fell in one class, one is swapped for an unlabelled call of the other
class, so both classes are present.

On the {n_labelled} labelled calls ({int(churn[labelled].sum())} churn = yes):
AUC of direction alone (inbound = 1): {auc_direction:.3f}
AUC of agitation alone (hidden value): {auc_agitation:.3f}
AUC of the true P(churn) (direction and agitation together): {auc_both:.3f}
(sklearn.metrics.roc_auc_score at generation time). The last is what the true model scores;
churn is a random draw from P(churn), so in expectation no model of these calls does better.
"""


def write_call_center(out: str | Path, *, n_calls: int = 160, n_labelled: int = 60, seed: int = 0,
                      sample_rate: int = 8000, min_seconds: float = 20.0, max_seconds: float = 45.0,
                      stereo: bool = True) -> dict[str, Path]:
    """Write a seeded synthetic call center into ``out`` (created if missing) and return its paths.

    Writes ``out/calls/<id>.wav`` (ids ``call0001``...; 16-bit PCM; stereo with the agent on
    channel 0 and the customer on channel 1, or both mixed into one channel when ``stereo`` is
    False), ``out/manifest.csv`` (``id,file,direction,queue,duration_s,hour``; ``file`` relative to
    ``out``), ``out/labels.csv`` (``id,churn`` with ``yes``/``no``, for ``n_labelled`` calls chosen at
    random, both classes present) and ``out/README.txt`` (what the data is, how it was made, the churn
    model and the AUC of direction alone and of the hidden agitation alone on the labelled calls).
    Files of the same names are overwritten; the same arguments give byte-identical files.

    Returns ``{"folder": out, "manifest": out/"manifest.csv", "labels": out/"labels.csv",
    "calls": out/"calls"}``. Raises :class:`ValueError` when ``n_calls < 4``, ``n_labelled < 2``,
    ``n_labelled > n_calls``, ``sample_rate < 8000``, ``min_seconds < 1`` or
    ``max_seconds < min_seconds``.
    """
    import soundfile
    from sklearn.metrics import roc_auc_score

    n_calls, n_labelled, sample_rate = int(n_calls), int(n_labelled), int(sample_rate)
    min_seconds, max_seconds = float(min_seconds), float(max_seconds)
    _check_arguments(n_calls, n_labelled, sample_rate, min_seconds, max_seconds)

    rng = np.random.default_rng(seed)
    calls = _draw_calls(rng, n_calls, sample_rate, min_seconds, max_seconds)
    inbound = np.array([c.inbound for c in calls], dtype=float)
    agitation = np.array([c.agitation for c in calls])
    probability = churn_probability(inbound, agitation)
    churn, labelled = _draw_labels(rng, probability, n_labelled)

    folder = Path(out)
    calls_dir = folder / "calls"
    calls_dir.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    for i, call in enumerate(calls):
        audio = _render_call(np.random.default_rng([seed, 1, i]), call, sample_rate)
        if not stereo:
            audio = audio.sum(axis=1)
        soundfile.write(str(calls_dir / f"{call.id}.wav"), _pcm16(audio), sample_rate,
                        subtype="PCM_16", format="WAV")
        rows.append([call.id, f"calls/{call.id}.wav", "inbound" if call.inbound else "outbound", call.queue,
                     f"{call.n_samples / sample_rate:.6f}", str(call.hour)])

    manifest, labels = folder / "manifest.csv", folder / "labels.csv"
    write_csv(manifest, MANIFEST_COLUMNS, rows)
    write_csv(labels, LABEL_COLUMNS, [[calls[i].id, "yes" if churn[i] else "no"] for i in labelled])
    y = churn[labelled].astype(int)
    readme = _readme(n_calls=n_calls, n_labelled=n_labelled, seed=seed, sample_rate=sample_rate,
                     min_seconds=min_seconds, max_seconds=max_seconds, stereo=stereo, calls=calls,
                     churn=churn, labelled=labelled,
                     auc_direction=float(roc_auc_score(y, inbound[labelled])),
                     auc_agitation=float(roc_auc_score(y, agitation[labelled])),
                     auc_both=float(roc_auc_score(y, probability[labelled])))
    (folder / "README.txt").write_text(readme, encoding="utf-8")
    return {"folder": folder, "manifest": manifest, "labels": labels, "calls": calls_dir}
