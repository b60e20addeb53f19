"""The colposcopy-style run end to end on tiny videos: three proxies in one run with DataLoader
workers, the feature table, filmstrips in the report, a video broken after listing, and the
recipe that writes its own demo data."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from proxyml.modalities.video import ColposcopyDemo, write_test_videos
from proxyml.pipeline import run
from proxyml.recipe import load_recipe, recipe_from_dict

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exams(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exams")
    manifest = write_test_videos(folder / "videos", n=16, size=40)
    ids = pd.read_csv(manifest)["id"].tolist()
    rng = np.random.default_rng(0)
    pd.DataFrame({"id": ids, "biopsy": rng.permutation(["positive", "negative"] * 8)}).to_csv(
        folder / "labels.csv", index=False)
    return folder


def recipe_dict(folder: Path, out: Path, **changes) -> dict:
    recipe = {
        "name": "exams",
        "data": {"source": str(folder / "manifest.csv"), "params": {"frames": 4, "stride": 2, "size": 32,
                                                                   "embed_clips": 2}},
        "labels": {"source": str(folder / "labels.csv"), "target": "biopsy", "positive": "positive"},
        "tasks": [{"name": "video.frame_order", "params": {"segments": 2, "permutations": 2}},
                  {"name": "video.blur_rank"}, {"name": "video.vertical_flip"}],
        "encoder": {"name": "video.frame_cnn", "params": {"embed_dim": 8, "width": 4, "blocks": 2, "temporal": 1}},
        "trainer": {"max_epochs": 2, "batch_size": 4, "num_workers": 2, "progress_bar": False},
        "evaluate": {"label_budgets": [10], "repeats": 3, "examples": 2},
        "output": {"dir": str(out)},
    }
    recipe.update(changes)
    return recipe


def test_three_video_proxies_end_to_end_with_a_feature_table_and_filmstrips(exams, tmp_path) -> None:
    folder = tmp_path / "exams"
    shutil.copytree(exams, folder)
    recipe = recipe_from_dict(recipe_dict(folder, tmp_path / "run"))
    from proxyml.modalities import video as video_pkg

    original = video_pkg.read_videos

    def read_then_break(*args, **kwargs):  # a file that breaks after it was listed
        dataset = original(*args, **kwargs)
        (folder / "videos" / "clip05.mp4").write_bytes(b"\x00" * 64)
        return dataset

    video_pkg.read_videos = read_then_break
    try:
        result = run(recipe)
    finally:
        video_pkg.read_videos = original
    report = result.report
    assert set(report["probes"]) == {"proxyml:frame_order", "proxyml:blur_rank", "proxyml:vertical_flip",
                                     "proxyml:combined", "random_init", "video.frame_stats",
                                     "proxyml+video.frame_stats"}
    assert [s["id"] for s in report["skipped"]] == ["clip05"] and report["data"]["n_samples"] == 15
    features = pd.read_parquet(result.output_dir / "features.parquet")
    assert len(features) == 15 and features.columns[0] == "id"
    for key in ("frame_order", "blur_rank", "vertical_flip"):
        assert f"{key}_e0" in features.columns and f"{key}_e7" in features.columns
        assert f"{key}_score" in features.columns
        assert (result.output_dir / f"embeddings_{key}.parquet").is_file()
    scores = pd.read_csv(result.output_dir / "proxy_scores.csv")
    np.testing.assert_allclose(features["blur_rank_score"].to_numpy(), scores["blur_rank"].to_numpy(), rtol=1e-6)
    html = (result.output_dir / "report.html").read_text()
    assert html.count("frames from 0 to") == 3 * 4  # a filmstrip for the 2 highest and 2 lowest of each proxy
    assert report["examples"]["vertical_flip"][0]["which"] == "highest"


def test_shared_training_of_the_three_proxies(exams, tmp_path) -> None:
    recipe = recipe_from_dict(recipe_dict(exams, tmp_path / "run", tasks_training="shared",
                                          evaluate={"label_budgets": [10], "repeats": 2, "random_init": False,
                                                    "examples": 0}))
    report = run(recipe).report
    assert "proxyml:shared" in report["probes"] and set(report["proxy_scores"]) == {
        "frame_order", "blur_rank", "vertical_flip"}


def test_the_recipe_writes_its_demo_videos_when_missing(tmp_path, monkeypatch) -> None:
    writes = []
    real = ColposcopyDemo.write

    def small(folder, *, small=False, seed=0):
        writes.append(folder)
        return real(folder, small=True, seed=seed)

    monkeypatch.setattr(ColposcopyDemo, "write", staticmethod(small))
    (tmp_path / "recipes").mkdir()
    shutil.copy(ROOT / "recipes" / "colposcopy_features.yaml", tmp_path / "recipes" / "colposcopy_features.yaml")
    recipe = load_recipe(tmp_path / "recipes" / "colposcopy_features.yaml", [
        "trainer.max_epochs=1", "trainer.progress_bar=false", "evaluate.repeats=2", "evaluate.label_budgets=[10]",
        "data.params.size=32", "encoder.params.embed_dim=8", f"output.dir={tmp_path / 'runs' / 'c'}"])
    report = run(recipe).report
    assert len(writes) == 1 and report["data"]["notes"][0].startswith("The data is synthetic")
    assert set(report["proxy_scores"]) == {"frame_order", "blur_rank", "vertical_flip"}
