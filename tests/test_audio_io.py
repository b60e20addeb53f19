"""The audio reader on generated files: every format, every broken kind, mono and stereo,
8 kHz and 44.1 kHz, folders and manifests."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile
import torch

from proxyml.errors import DataError
from proxyml.modalities.audio import AudioModality, AudioReaderParams
from proxyml.modalities.audio.io import AudioCalls

RATE = 8000


def tone(seconds: float, rate: int, frequency: float = 440.0, channels: int = 1, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    mono = (level * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    return mono if channels == 1 else np.stack([mono, 0.5 * mono], axis=1)


def read(source: Path | str, **params) -> AudioCalls:
    settings = AudioReaderParams(**{"window_seconds": 0.5, "embed_windows": 3, **params})
    dataset = AudioModality().read(str(source), settings)
    assert isinstance(dataset, AudioCalls)
    return dataset


FORMATS = [("wav", "WAV", "PCM_16", 8000), ("flac", "FLAC", "PCM_16", 44100), ("ogg", "OGG", "VORBIS", 44100),
           ("opus", "OGG", "OPUS", 48000), ("mp3", "MP3", "MPEG_LAYER_III", 44100)]


@pytest.mark.parametrize(("suffix", "fmt", "subtype", "rate"), FORMATS, ids=[f[0] for f in FORMATS])
def test_each_format_is_read_and_resampled_to_the_recipe_rate(tmp_path, suffix, fmt, subtype, rate) -> None:
    soundfile.write(tmp_path / f"a.{suffix}", tone(1.5, rate, 1000.0), rate, format=fmt, subtype=subtype)
    dataset = read(tmp_path, sample_rate=RATE)
    assert dataset.ids == ["a"] and dataset.spec["sample_rate"] == RATE
    audio = dataset.load(0).numpy()[0]
    assert abs(audio.size - 1.5 * RATE) <= 0.02 * RATE  # the call's length, at the new rate
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    peak = np.fft.rfftfreq(audio.size, 1 / RATE)[spectrum.argmax()]
    assert abs(peak - 1000.0) < 15.0  # resampled properly: the tone keeps its pitch
    if rate != RATE:
        assert any(f"files at {rate} Hz" in note for note in dataset.notes)


def test_resampling_keeps_a_tone_below_the_new_nyquist_and_removes_one_above(tmp_path) -> None:
    rate = 44100
    t = np.arange(rate) / rate
    mixture = 0.3 * np.sin(2 * np.pi * 1000 * t) + 0.3 * np.sin(2 * np.pi * 6000 * t)  # 6 kHz: above 4 kHz
    soundfile.write(tmp_path / "mix.wav", mixture.astype(np.float32), rate)
    audio = read(tmp_path, sample_rate=RATE).load(0).numpy()[0]
    spectrum = np.abs(np.fft.rfft(audio))
    freqs = np.fft.rfftfreq(audio.size, 1 / RATE)
    kept = spectrum[np.abs(freqs - 1000) < 20].max()
    aliased = spectrum[np.abs(freqs - 2000) < 20].max()  # where 6 kHz would fold if samples were dropped
    assert aliased < 0.01 * kept


def test_mono_and_stereo_by_recipe(tmp_path) -> None:
    soundfile.write(tmp_path / "mono.wav", tone(1.0, RATE), RATE)
    soundfile.write(tmp_path / "stereo.wav", tone(1.0, RATE, channels=2), RATE)
    mixed = read(tmp_path)
    assert mixed.spec["channels"] == 1 and [mixed.load(i).shape[0] for i in range(2)] == [1, 1]
    assert any("mixed down to one channel: 1 files of 2 channels" in note for note in mixed.notes)
    stereo = read(tmp_path, channels="stereo")
    assert stereo.spec["channels"] == 2
    mono_as_two = stereo.load(stereo.ids.index("mono")).numpy()
    np.testing.assert_array_equal(mono_as_two[0], mono_as_two[1])  # duplicated
    kept = stereo.load(stereo.ids.index("stereo")).numpy()
    np.testing.assert_allclose(kept[1], 0.5 * kept[0], atol=1e-4)  # the two channels kept apart
    assert any("1 files of 1 channel" in note for note in stereo.notes)


def test_broken_files_are_skipped_and_named_with_their_reason(tmp_path) -> None:
    soundfile.write(tmp_path / "good.wav", tone(1.0, RATE), RATE)
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "garbage.mp3").write_bytes(b"this is not audio at all" * 40)
    soundfile.write(tmp_path / "noframes.wav", np.zeros(0, dtype=np.float32), RATE)
    soundfile.write(tmp_path / "short.wav", tone(0.1, RATE), RATE)
    dataset = read(tmp_path, min_seconds=0.5)
    assert dataset.ids == ["good"]
    reasons = {s.id: s.reason for s in dataset.skipped}
    assert set(reasons) == {"empty", "garbage", "noframes", "short"}
    assert "empty (0 bytes)" in reasons["empty"]
    assert "garbage.mp3: cannot be opened as audio" in reasons["garbage"]
    assert "no audio (0 frames)" in reasons["noframes"]
    assert "lasts 0.10 s, less than data.params.min_seconds" in reasons["short"]
    assert all(s.source.endswith(f"{s.id}.wav") or s.id == "garbage" for s in dataset.skipped)


def test_a_file_truncated_after_listing_fails_to_decode_as_a_skippable_sample(tmp_path) -> None:
    soundfile.write(tmp_path / "cut.wav", tone(3.0, RATE), RATE)
    dataset = read(tmp_path, window_seconds=0.5, embed_windows=4)
    (tmp_path / "cut.wav").write_bytes((tmp_path / "cut.wav").read_bytes()[:200])  # the header and a few frames
    sample = dataset[0]
    assert "failed" in sample and "cut.wav" in sample["failed"]


def test_silence_is_skipped_when_decoded_with_its_level(tmp_path) -> None:
    soundfile.write(tmp_path / "quiet.wav", np.zeros(RATE, dtype=np.float32), RATE)
    soundfile.write(tmp_path / "hum.wav", tone(1.0, RATE, level=0.0001), RATE)  # -80 dBFS
    dataset = read(tmp_path)
    for i in range(2):
        failed = dataset[i]["failed"]
        assert "holds only silence" in failed and "data.params.silence_dbfs" in failed
    assert "failed" not in read(tmp_path, silence_dbfs=-90.0)[dataset.ids.index("hum")]


def test_long_calls_are_read_as_bounded_windows_spread_across_them(tmp_path) -> None:
    seconds = 600.0  # a ten-minute call: only 3 windows of 0.5 s are decoded for its embedding
    t = np.arange(int(seconds * RATE)) / RATE
    ramp = (0.5 * t / seconds).astype(np.float32)  # the value tells where in the call a sample is from
    soundfile.write(tmp_path / "long.wav", ramp, RATE, subtype="FLOAT")
    dataset = read(tmp_path, window_seconds=0.5, embed_windows=3)
    audio = dataset.load(0).numpy()[0]
    assert audio.size == 3 * RATE // 2
    windows = audio.reshape(3, -1)
    np.testing.assert_allclose(windows[:, 0], [0.0, 0.5 * (seconds - 0.5) / 2 / seconds, 0.5 * (seconds - 0.5) / seconds],
                               atol=1e-3)
    assert dataset.window_starts(0) == [0.0, (seconds - 0.5) / 2, seconds - 0.5]
    training = dataset.load_training(0, np.random.default_rng(7)).numpy()
    assert training.shape == (1, RATE // 2)
    again = dataset.load_training(0, np.random.default_rng(7)).numpy()
    np.testing.assert_array_equal(training, again)  # the trainer's seed decides the window
    other = dataset.load_training(0, np.random.default_rng(8)).numpy()
    assert not np.array_equal(training, other)
    assert dataset.lengths.tolist() == [RATE // 2]  # what one training window holds, for length bucketing


def test_a_short_call_is_read_whole(tmp_path) -> None:
    soundfile.write(tmp_path / "s.wav", tone(0.3, RATE), RATE)
    dataset = read(tmp_path, window_seconds=0.5, min_seconds=0.1)
    assert dataset.load(0).shape == (1, int(0.3 * RATE))
    assert dataset.load_training(0, np.random.default_rng(0)).shape == (1, int(0.3 * RATE))


def test_a_manifest_gives_ids_files_relative_to_it_and_metadata_without_the_label_column(tmp_path) -> None:
    (tmp_path / "rec" / "q1").mkdir(parents=True)
    for name in ("a", "b"):
        soundfile.write(tmp_path / "rec" / "q1" / f"{name}.wav", tone(1.0, RATE), RATE)
    pd.DataFrame({"id": ["A", "B", "C"], "file": ["rec/q1/a.wav", "rec/q1/b.wav", "rec/missing.wav"],
                  "direction": ["inbound", "outbound", "inbound"], "churn": ["yes", "no", "no"]}).to_csv(
        tmp_path / "manifest.csv", index=False)
    dataset = AudioModality().read(str(tmp_path / "manifest.csv"), AudioReaderParams(), label_columns=("churn",))
    assert dataset.ids == ["A", "B"]
    assert list(dataset.metadata.columns) == ["direction"] and dataset.metadata.loc["B", "direction"] == "outbound"
    assert [s.id for s in dataset.skipped] == ["C"] and "does not exist" in dataset.skipped[0].reason
    assert any("['churn'] are labels" in note for note in dataset.notes)


def test_a_folder_is_listed_recursively_with_relative_ids_and_an_optional_metadata_table(tmp_path) -> None:
    (tmp_path / "calls" / "east").mkdir(parents=True)
    soundfile.write(tmp_path / "calls" / "east" / "c1.wav", tone(1.0, RATE), RATE)
    soundfile.write(tmp_path / "calls" / "c2.flac", tone(1.0, RATE), RATE)
    pd.DataFrame({"id": ["east/c1", "c2"], "direction": ["inbound", "outbound"]}).to_csv(tmp_path / "meta.csv", index=False)
    dataset = AudioModality().read("calls", AudioReaderParams(metadata="meta.csv"), base_dir=tmp_path)
    assert dataset.ids == ["c2", "east/c1"]
    assert dataset.metadata["direction"].tolist() == ["outbound", "inbound"]


@pytest.mark.parametrize(("content", "message"), [
    ("id,path\nA,a.wav\n", "needs a 'file' column (data.params.file_column)"),
    ("id,file\nA,a.wav\nA,b.wav\n", "repeats ids"),
    ("id,file\n,a.wav\n", "have no 'id'"),
])
def test_a_bad_manifest_is_refused_naming_what_to_fix(tmp_path, content, message) -> None:
    (tmp_path / "m.csv").write_text(content)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read(tmp_path / "m.csv")


def test_a_source_that_is_neither_folder_nor_manifest_is_named(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no folder or manifest"):
        read(tmp_path / "nowhere")
    (tmp_path / "x.wav").write_bytes(b"")
    with pytest.raises(DataError, match="neither a folder of recordings nor a manifest"):
        read(tmp_path / "x.wav")
    (tmp_path / "sub").mkdir()
    with pytest.raises(DataError, match="holds no recordings"):
        read(tmp_path / "sub")


def test_the_set_pickles_and_decodes_in_workers(tmp_path) -> None:
    for i in range(4):
        soundfile.write(tmp_path / f"c{i}.wav", tone(0.6 + 0.2 * i, RATE), RATE)
    dataset = pickle.loads(pickle.dumps(read(tmp_path)))
    loader = torch.utils.data.DataLoader(dataset, batch_size=4, num_workers=2, collate_fn=dataset.collate)
    batch = next(iter(loader))
    assert batch["x"]["values"].shape[0] == 4 and batch["lengths"].tolist() == [int((0.6 + 0.2 * i) * RATE)
                                                                                 for i in range(4)]
