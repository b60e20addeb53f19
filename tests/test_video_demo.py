"""The synthetic colposcopy exams of ``proxyml.modalities.video.demo``: files, formats, determinism,
what the hidden variables look like on screen, errors."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from proxyml.modalities.video.demo import DECORD_MISREAD_SIZES, Exam, exam_plan, write_colposcopy

av = pytest.importorskip("av")
decord = pytest.importorskip("decord")

SEED = 6  # its six exams hold a strongly whitening lesion, bleeding without a lesion, and plain tissue
SMALL = {"n_videos": 6, "n_labelled": 4, "size": 64, "fps": 5, "min_seconds": 5.0, "max_seconds": 6.0}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _frames(path: Path) -> np.ndarray:
    """Every frame, uint8 ``(T, H, W, 3)``, decoded with decord."""
    reader = decord.VideoReader(str(path), num_threads=1)
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def _exam(plan: list[Exam], **wanted: bool) -> Exam:
    """The first exam of ``plan`` with the wanted ``lesion``/``bleeding``, and a clear whitening."""
    for exam in plan:
        if all(getattr(exam, k) == v for k, v in wanted.items()) and (not exam.lesion or exam.whitening > 0.6):
            return exam
    raise AssertionError(f"seed {SEED} has no exam with {wanted}; pick another SEED")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_colposcopy(tmp_path_factory.mktemp("colpo") / "new" / "folder", seed=SEED, **SMALL)


def test_returns_the_paths_and_creates_the_folder(small: dict[str, Path]) -> None:
    folder = small["folder"]
    assert folder.is_dir() and folder.name == "folder"
    assert small["manifest"] == folder / "manifest.csv" and small["manifest"].is_file()
    assert small["labels"] == folder / "labels.csv" and small["labels"].is_file()
    assert small["videos"] == folder / "videos" and small["videos"].is_dir()
    assert (folder / "README.txt").is_file()


def test_same_seed_gives_identical_bytes_and_another_seed_differs(small: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    again = write_colposcopy(tmp_path / "again", seed=SEED, **SMALL)
    first, second = _files(small["folder"]), _files(again["folder"])
    assert len(first) == SMALL["n_videos"] + 3 and first == second
    other = _files(write_colposcopy(tmp_path / "other", seed=SEED + 1, **SMALL)["folder"])
    assert other.keys() == first.keys()
    assert other["manifest.csv"] != first["manifest.csv"]
    assert all(other[name] != first[name] for name in first if name.endswith(".mp4"))


def test_manifest_columns_and_values(small: dict[str, Path]) -> None:
    with small["manifest"].open(encoding="utf-8") as handle:
        assert handle.readline().strip() == "id,file,site,duration_s"
    rows = _rows(small["manifest"])
    plan = exam_plan(SMALL["n_videos"], SEED)
    assert [r["id"] for r in rows] == [f"exam{i:03d}" for i in range(1, SMALL["n_videos"] + 1)]
    assert [r["site"] for r in rows] == [e.site for e in plan]
    for row in rows:
        assert row["file"] == f"videos/{row['id']}.mp4"
        assert (small["folder"] / row["file"]).is_file()
        assert row["site"] in {"ashford", "belmont", "carver", "dunmore"}
        seconds = float(row["duration_s"])
        assert SMALL["min_seconds"] - 0.5 / SMALL["fps"] <= seconds <= SMALL["max_seconds"] + 0.5 / SMALL["fps"]
        assert seconds * SMALL["fps"] == pytest.approx(round(seconds * SMALL["fps"]), abs=1e-6)
    assert len({r["duration_s"] for r in rows}) > 1


def test_labels_are_a_random_subset_with_both_classes(small: dict[str, Path]) -> None:
    with small["labels"].open(encoding="utf-8") as handle:
        assert handle.readline().strip() == "id,biopsy"
    labels = _rows(small["labels"])
    ids = [r["id"] for r in labels]
    assert len(ids) == len(set(ids)) == SMALL["n_labelled"]
    assert set(ids) <= {r["id"] for r in _rows(small["manifest"])}
    assert {r["biopsy"] for r in labels} == {"positive", "negative"}


@pytest.mark.parametrize("seed", range(4))
def test_both_classes_even_with_two_labels(tmp_path: Path, seed: int) -> None:
    paths = write_colposcopy(tmp_path, n_videos=4, n_labelled=2, seed=seed, size=20, fps=2,
                             min_seconds=1.0, max_seconds=1.0)
    assert sorted(r["biopsy"] for r in _rows(paths["labels"])) == ["negative", "positive"]


def test_videos_open_with_decord_and_pyav(small: dict[str, Path]) -> None:
    size, fps = SMALL["size"], SMALL["fps"]
    for row in _rows(small["manifest"]):
        path = small["folder"] / row["file"]
        n_frames = round(float(row["duration_s"]) * fps)
        reader = decord.VideoReader(str(path), num_threads=1)
        assert len(reader) == n_frames
        assert reader.get_avg_fps() == pytest.approx(fps)
        assert reader[0].shape == (size, size, 3)
        assert reader.get_batch([0, n_frames - 1]).shape == (2, size, size, 3)
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.name, stream.width, stream.height) == ("h264", size, size)
            assert stream.format.name == "yuv420p" and stream.average_rate == fps
            decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        assert len(decoded) == n_frames
        # both decoders see the same picture (up to their colour conversions)
        assert np.abs(decoded[-1].astype(int) - reader[n_frames - 1].asnumpy()).mean() < 3.0


def test_tissue_looks_pink_and_the_camera_moves(small: dict[str, Path]) -> None:
    frames = _frames(small["videos"] / f"{_exam(exam_plan(6, SEED), lesion=False, bleeding=False).id}.mp4")
    mean = frames.reshape(-1, 3).mean(axis=0)
    assert mean[0] > mean[2] > mean[1] and mean[0] > 120  # red above blue above green
    steps = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    assert steps.min() > 1.0  # noise and jitter: no two frames alike


def _disc(size: int, x: float, y: float, radius: float) -> np.ndarray:
    grid = (np.arange(size) + 0.5) / size
    return np.hypot(grid[None, :] - x, grid[:, None] - y) < radius


def test_a_lesion_turns_white_and_plain_tissue_does_not(small: dict[str, Path]) -> None:
    plan, size = exam_plan(SMALL["n_videos"], SEED), SMALL["size"]
    lesion = _exam(plan, lesion=True, bleeding=False)
    area = _disc(size, lesion.lesion_x, lesion.lesion_y, 0.4 * lesion.lesion_radius)
    frames = _frames(small["videos"] / f"{lesion.id}.mp4").astype(float)
    brightness = frames.mean(axis=3)[:, area].mean(axis=1)
    assert brightness[-3:].mean() - brightness[:2].mean() > 30
    assert np.all(np.diff(brightness[: len(brightness) // 2]) > -4)  # it rises (noise aside), then stays
    whiteness = frames.min(axis=3)[:, area].mean(axis=1)  # white: all three channels high
    assert whiteness[-1] - whiteness[0] > 40

    plain = _exam(plan, lesion=False, bleeding=False)
    frames = _frames(small["videos"] / f"{plain.id}.mp4").astype(float)
    brightness = frames.mean(axis=3)[:, area].mean(axis=1)
    assert abs(brightness[-3:].mean() - brightness[:2].mean()) < 12


def _red(frames: np.ndarray) -> np.ndarray:
    """Pixels that look like blood: bright enough, with hardly any green."""
    r, g = frames[..., 0].astype(float), frames[..., 1].astype(float)
    return (g < 0.2 * r) & (r > 50)


def test_bleeding_flows_down(small: dict[str, Path]) -> None:
    plan = exam_plan(SMALL["n_videos"], SEED)
    bleeding = _exam(plan, lesion=False, bleeding=True)
    frames = _frames(small["videos"] / f"{bleeding.id}.mp4")
    red = _red(frames)
    before = int(bleeding.bleeding_onset * len(frames))  # frames before the onset
    assert before >= 2
    # a few pixels at sharp dark/red edges look red all along (chroma subsampling): leave those out
    static = ndimage.binary_dilation(red[:before].any(axis=0), iterations=3)
    blood = red & ~static
    area = blood.sum(axis=(1, 2))
    assert area[:before].max() == 0
    seen = np.flatnonzero(area >= 3)
    assert len(seen) >= 6 and area[-1] > 20 and area[-1] > 3 * area[seen[0]]
    rows = np.arange(SMALL["size"])
    centroid = (blood.sum(axis=2) * rows).sum(axis=1)[seen] / area[seen]
    lowest = np.array([rows[blood[k].any(axis=1)].max() for k in seen])
    assert centroid[-1] - centroid[0] > 3 and lowest[-1] - lowest[0] > 6  # pixels, at size 64
    assert np.all(np.diff(lowest) >= -2)  # the tip never runs back up (jitter aside)
    # plain tissue: nothing new turns red
    plain = _red(_frames(small["videos"] / f"{_exam(plan, lesion=False, bleeding=False).id}.mp4"))
    new = plain & ~ndimage.binary_dilation(plain[:before].any(axis=0), iterations=3)
    assert new.sum(axis=(1, 2)).max() < 3


def test_plan_is_seeded_and_its_label_model_is_the_documented_one() -> None:
    plan = exam_plan(200, 3)
    assert plan == exam_plan(200, 3) and plan != exam_plan(200, 4)
    z = np.array([-2.5 + 2.5 * e.lesion * e.whitening + 1.5 * e.lesion * e.roughness + 0.3 * e.bleeding
                  for e in plan])
    assert np.allclose([e.probability for e in plan], 1.0 / (1.0 + np.exp(-z)))
    lesion = np.array([e.lesion for e in plan])
    biopsy = np.array([e.biopsy for e in plan])
    assert 0.3 < lesion.mean() < 0.7 and 0.15 < np.mean([e.bleeding for e in plan]) < 0.55
    assert biopsy[lesion].mean() > biopsy[~lesion].mean() + 0.15
    assert all(0.0 <= e.whitening <= 1.0 and 0.0 <= e.roughness <= 1.0 for e in plan)


def test_readme_says_synthetic_and_its_aucs_are_right(small: dict[str, Path]) -> None:
    from sklearn.metrics import roc_auc_score

    text = (small["folder"] / "README.txt").read_text(encoding="utf-8")
    assert "SYNTHETIC" in text
    assert ("sigmoid(-2.5 + 2.5 * lesion * whitening + 1.5 * lesion * roughness + 0.3 * bleeding)"
            in text)
    plan = {e.id: e for e in exam_plan(SMALL["n_videos"], SEED)}
    labels = _rows(small["labels"])
    y = [r["biopsy"] == "positive" for r in labels]
    for name, key in [("lesion alone", "lesion"), ("whitening alone", "whitening"),
                      ("roughness alone", "roughness"), ("bleeding alone", "bleeding")]:
        stated = re.search(rf"AUC of {name} \([^)]*\): ([0-9.]+)", text)
        expected = roc_auc_score(y, [float(getattr(plan[r["id"]], key)) for r in labels])
        assert stated is not None and float(stated.group(1)) == pytest.approx(expected, abs=5e-4), name


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_videos": 5, "n_labelled": 6}, "cannot exceed"),
    ({"n_videos": 3, "n_labelled": 2}, "at least 4"),
    ({"n_labelled": 1}, "at least 2"),
    ({"n_videos": 6.5}, "must be an integer"),
    ({"seed": -1}, "must not be negative"),
    ({"size": 41}, "even number"),
    ({"size": 8}, "even number"),
    ({"size": 96}, "decord2"),
    ({"fps": 0}, "between 1 and 120"),
    ({"min_seconds": 5.0, "max_seconds": 3.0}, "must not be below"),
    ({"min_seconds": 0.5, "max_seconds": 3.0}, "at least 1 second"),
    ({"min_seconds": 3.0, "max_seconds": float("nan")}, "finite"),
])
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_colposcopy(tmp_path / "colpo", **{**SMALL, **kwargs})
    assert not (tmp_path / "colpo").exists()


@pytest.mark.parametrize("size", [*DECORD_MISREAD_SIZES, 40, 64, 112])
def test_the_refused_sizes_are_the_ones_decord_misreads(tmp_path: Path, size: int) -> None:
    """decord2 3.4 gets frames of these widths wrong (shape ``(size, size, 4)`` or more); should a
    new decord read them right, drop the refusal."""
    from proxyml.modalities.video.demo import _encode

    picture = np.zeros((2, size, size, 3), dtype=np.uint8)
    picture[:, :, : size // 2] = 200
    _encode(tmp_path / "v.mp4", picture, 5)
    frame = decord.VideoReader(str(tmp_path / "v.mp4"), num_threads=1)[0].asnumpy()
    right = frame.shape == (size, size, 3) and np.abs(frame.astype(int) - picture[0]).mean() < 3
    assert right == (size not in DECORD_MISREAD_SIZES)
