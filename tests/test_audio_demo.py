"""The synthetic call center of ``proxyml.modalities.audio.demo``: files, formats, determinism, errors."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from proxyml.modalities.audio.demo import write_call_center

sf = pytest.importorskip("soundfile")

SMALL = {"n_calls": 8, "n_labelled": 6, "min_seconds": 3.0, "max_seconds": 5.0}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def stereo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_call_center(tmp_path_factory.mktemp("cc") / "new" / "folder", seed=3, **SMALL)


def test_returns_the_paths_and_creates_the_folder(stereo: dict[str, Path]) -> None:
    folder = stereo["folder"]
    assert folder.is_dir() and folder.name == "folder"
    assert stereo["manifest"] == folder / "manifest.csv" and stereo["manifest"].is_file()
    assert stereo["labels"] == folder / "labels.csv" and stereo["labels"].is_file()
    assert stereo["calls"] == folder / "calls" and stereo["calls"].is_dir()
    assert (folder / "README.txt").is_file()


def test_same_seed_gives_identical_bytes_and_another_seed_differs(stereo: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    again = write_call_center(tmp_path / "again", seed=3, **SMALL)
    first, second = _files(stereo["folder"]), _files(again["folder"])
    assert len(first) == SMALL["n_calls"] + 3 and first == second
    other = _files(write_call_center(tmp_path / "other", seed=4, **SMALL)["folder"])
    assert other.keys() == first.keys()
    assert other["manifest.csv"] != first["manifest.csv"]
    assert all(other[name] != first[name] for name in first if name.endswith(".wav"))


def test_manifest_columns_and_values(stereo: dict[str, Path]) -> None:
    with stereo["manifest"].open(encoding="utf-8") as handle:
        assert handle.readline().strip() == "id,file,direction,queue,duration_s,hour"
    rows = _rows(stereo["manifest"])
    assert [r["id"] for r in rows] == [f"call{i:04d}" for i in range(1, SMALL["n_calls"] + 1)]
    for row in rows:
        assert row["file"] == f"calls/{row['id']}.wav"
        assert (stereo["folder"] / row["file"]).is_file()
        assert row["direction"] in {"inbound", "outbound"}
        assert row["queue"] in {"billing", "support", "sales"}
        assert 8 <= int(row["hour"]) <= 19
        assert SMALL["min_seconds"] - 1e-3 <= float(row["duration_s"]) <= SMALL["max_seconds"] + 1e-3
    assert len({r["duration_s"] for r in rows}) > 1


def test_labels_are_a_random_subset_with_both_classes(stereo: dict[str, Path]) -> None:
    with stereo["labels"].open(encoding="utf-8") as handle:
        assert handle.readline().strip() == "id,churn"
    labels = _rows(stereo["labels"])
    ids = [r["id"] for r in labels]
    assert len(ids) == len(set(ids)) == SMALL["n_labelled"]
    assert set(ids) <= {r["id"] for r in _rows(stereo["manifest"])}
    assert {r["churn"] for r in labels} == {"yes", "no"}


@pytest.mark.parametrize("seed", range(6))
def test_both_classes_even_with_two_labels(tmp_path: Path, seed: int) -> None:
    paths = write_call_center(tmp_path, n_calls=4, n_labelled=2, seed=seed, min_seconds=1.0, max_seconds=1.5)
    assert sorted(r["churn"] for r in _rows(paths["labels"])) == ["no", "yes"]


def test_stereo_wavs_match_the_manifest_and_do_not_clip(stereo: dict[str, Path]) -> None:
    for row in _rows(stereo["manifest"]):
        path = stereo["folder"] / row["file"]
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype, info.format) == (8000, 2, "PCM_16", "WAV")
        assert abs(info.frames / info.samplerate - float(row["duration_s"])) < 1.0 / info.samplerate
        audio, _ = sf.read(str(path), dtype="int16")
        assert np.abs(audio.astype(np.int32)).max() < 0.95 * 32768
        # both sides speak, and each channel is more than noise
        assert (np.abs(audio).max(axis=0) > 0.02 * 32768).all()


def test_who_speaks_first_follows_direction(stereo: dict[str, Path]) -> None:
    """Inbound: the customer (channel 1) is heard before the agent; outbound: the agent's side first."""
    for row in _rows(stereo["manifest"]):
        audio, rate = sf.read(str(stereo["folder"] / row["file"]))
        frames = (audio[: len(audio) // 80 * 80] ** 2).reshape(-1, 80, 2).mean(axis=1)  # 10 ms
        onset = [int(np.argmax(frames[:, ch] > 0.05 * frames[:, ch].max())) for ch in range(2)]
        if row["direction"] == "inbound":
            assert onset[1] < onset[0], row
        else:
            assert onset[0] < onset[1], row


def test_loud_audio_is_scaled_down_not_clipped() -> None:
    from proxyml.modalities.audio.demo import _pcm16

    pcm = _pcm16(np.array([[2.0, -0.5], [-1.0, 0.25]]))
    assert pcm.dtype == np.int16 and int(np.abs(pcm.astype(np.int32)).max()) == round(0.94 * 32767)
    assert pcm[0, 1] == round(-0.5 * 0.47 * 32767)  # everything scaled by the same factor


def test_mono_and_other_rate(tmp_path: Path) -> None:
    paths = write_call_center(tmp_path, seed=1, sample_rate=16000, stereo=False, **SMALL)
    for row in _rows(paths["manifest"]):
        info = sf.info(str(paths["folder"] / row["file"]))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert abs(info.frames / info.samplerate - float(row["duration_s"])) < 1.0 / info.samplerate
        audio, _ = sf.read(str(paths["folder"] / row["file"]), dtype="int16")
        assert audio.ndim == 1 and np.abs(audio.astype(np.int32)).max() < 0.95 * 32768


def test_readme_says_synthetic_and_its_direction_auc_is_right(stereo: dict[str, Path]) -> None:
    from sklearn.metrics import roc_auc_score

    text = (stereo["folder"] / "README.txt").read_text(encoding="utf-8")
    assert "SYNTHETIC" in text and "sigmoid(-2.0 + 1.0 * inbound + 3.0 * agitation)" in text
    direction = {r["id"]: r["direction"] == "inbound" for r in _rows(stereo["manifest"])}
    labels = _rows(stereo["labels"])
    expected = roc_auc_score([r["churn"] == "yes" for r in labels], [direction[r["id"]] for r in labels])
    stated = re.search(r"AUC of direction alone \(inbound = 1\): ([0-9.]+)", text)
    assert stated is not None and float(stated.group(1)) == pytest.approx(expected, abs=5e-4)
    agitation = re.search(r"AUC of agitation alone \(hidden value\): ([0-9.]+)", text)
    assert agitation is not None and 0.0 <= float(agitation.group(1)) <= 1.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_calls": 5, "n_labelled": 6}, "cannot exceed"),
    ({"n_calls": 3, "n_labelled": 2}, "at least 4"),
    ({"n_labelled": 1}, "at least 2"),
    ({"min_seconds": 5.0, "max_seconds": 3.0}, "must not be below"),
    ({"min_seconds": 0.0, "max_seconds": 3.0}, "at least 1 second"),
    ({"min_seconds": 3.0, "max_seconds": float("inf")}, "finite"),
    ({"sample_rate": 4000}, "at least 8000"),
])
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_call_center(tmp_path / "cc", **{**SMALL, **kwargs})
    assert not (tmp_path / "cc").exists()
