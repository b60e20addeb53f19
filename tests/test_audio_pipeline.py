"""The call-center scenario end to end: the demo data, a run of the three audio proxies with
DataLoader workers, the report's players, scoring new calls with ranks, the leakage guard and
the recipe that writes its own demo data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from proxyml.cli import main
from proxyml.errors import RecipeError
from proxyml.modalities.audio import CallCenterDemo
from proxyml.pipeline import run
from proxyml.recipe import load_recipe, recipe_from_dict

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_center(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("center") / "call_center"
    CallCenterDemo.write(folder, small=True)
    return folder


def recipe_dict(folder: Path, out: Path, **changes) -> dict:
    recipe = {
        "name": "calls",
        "data": {"source": str(folder / "manifest.csv"),
                 "params": {"channels": "stereo", "window_seconds": 2.0, "embed_windows": 3}},
        "labels": {"source": str(folder / "labels.csv"), "target": "churn", "positive": "yes"},
        "tasks": [{"name": "audio.call_direction"}, {"name": "audio.segment_order"}, {"name": "audio.noise_rank"}],
        "encoder": {"name": "audio.logmel_cnn", "params": {"embed_dim": 16, "hidden": 16, "depth": 2}},
        "trainer": {"max_epochs": 2, "batch_size": 8, "num_workers": 2, "progress_bar": False},
        "evaluate": {"label_budgets": [10], "repeats": 3, "examples": 2},
        "output": {"dir": str(out)},
    }
    recipe.update(changes)
    return recipe


def test_three_audio_proxies_run_end_to_end_with_workers_and_a_call_that_breaks(small_center, tmp_path) -> None:
    folder = tmp_path / "center"
    shutil.copytree(small_center, folder)
    recipe = recipe_from_dict(recipe_dict(folder, tmp_path / "run"))
    broken = folder / "calls" / "call0003.wav"
    listed = []

    from proxyml.modalities.audio import io as audio_io

    original = audio_io.read_calls

    def read_then_break(*args, **kwargs):  # the file breaks after it was listed, as on a flaky share
        dataset = original(*args, **kwargs)
        broken.write_bytes(broken.read_bytes()[:100])
        listed.append(len(dataset))
        return dataset

    audio_io.read_calls = read_then_break
    import proxyml.modalities.audio as audio_pkg

    audio_pkg.read_calls = read_then_break
    try:
        result = run(recipe)
    finally:
        audio_io.read_calls = original
        audio_pkg.read_calls = original
    report = result.report
    assert listed == [24]
    assert set(report["probes"]) == {"proxyml:call_direction", "proxyml:segment_order", "proxyml:noise_rank",
                                     "proxyml:combined", "random_init", "audio.mfcc", "proxyml+audio.mfcc"}
    assert report["data"]["n_samples"] == 23
    assert [s["id"] for s in report["skipped"]] == ["call0003"]
    assert "cannot be decoded" in report["skipped"][0]["reason"] and "call0003.wav" in report["skipped"][0]["reason"]
    assert set(report["proxy_scores"]) == {"call_direction", "segment_order", "noise_rank"}
    assert report["verdict"]["recommendation"]
    scores = pd.read_csv(result.output_dir / "proxy_scores.csv")
    assert scores.columns.tolist() == ["id", "call_direction", "segment_order", "noise_rank"] and len(scores) == 23
    # the report lets a user listen: the 2 highest and 2 lowest of each proxy, with a player and a picture
    html = (result.output_dir / "report.html").read_text()
    assert html.count("<audio controls") == 3 * 4 and html.count("data:image/png;base64") >= 3 * 4
    assert "Highest- and lowest-scored samples" in html
    examples = report["examples"]["call_direction"]
    assert [e["which"] for e in examples] == ["highest", "highest", "lowest", "lowest"]
    assert [e["rank"] for e in examples] == [1, 2, 22, 23]
    top = scores.sort_values("call_direction", ascending=False)["id"].tolist()
    assert [e["id"] for e in examples] == top[:2] + top[-2:]
    # evaluate re-renders the report with the same players
    assert main(["-q", "evaluate", str(result.output_dir)]) == 0
    assert (result.output_dir / "report.html").read_text().count("<audio controls") == 12


def test_score_writes_a_ranked_csv_for_new_calls(small_center, tmp_path) -> None:
    recipe = recipe_from_dict(recipe_dict(small_center, tmp_path / "run", tasks=None,
                                          task={"name": "audio.call_direction"},
                                          evaluate={"label_budgets": [10], "repeats": 2, "random_init": False,
                                                    "examples": 0}))
    result = run(recipe)
    assert "examples" not in result.report and not (result.output_dir / "report.html").read_text().count("<audio")
    new = tmp_path / "new"
    (new / "calls").mkdir(parents=True)
    manifest = pd.read_csv(small_center / "manifest.csv").head(5)
    for file in manifest["file"]:
        shutil.copy(small_center / file, new / file)
    manifest[["id", "file"]].to_csv(new / "manifest.csv", index=False)  # new calls: no direction known
    assert main(["-q", "score", str(result.output_dir), "--data", str(new / "manifest.csv"),
                 "--out", str(tmp_path / "risk.csv")]) == 0
    risk = pd.read_csv(tmp_path / "risk.csv")
    assert risk.columns.tolist() == ["id", "proxy_score", "rank"]
    assert sorted(risk["rank"]) == [1, 2, 3, 4, 5]
    assert risk.sort_values("rank")["proxy_score"].is_monotonic_decreasing
    trained = pd.read_csv(result.output_dir / "proxy_scores.csv").set_index("id")
    pd.testing.assert_series_equal(risk.set_index("id")["proxy_score"], trained["proxy_score"].loc[risk["id"]],
                                   check_names=False, atol=1e-5)  # the same model and settings as in training


def test_a_direction_column_that_is_the_churn_label_in_disguise_is_refused(small_center, tmp_path) -> None:
    folder = tmp_path / "center"
    shutil.copytree(small_center, folder)
    manifest = pd.read_csv(folder / "manifest.csv")
    labels = pd.read_csv(folder / "labels.csv")
    churn = dict(zip(labels["id"], labels["churn"], strict=True))
    manifest["direction"] = ["inbound" if churn.get(i, "no") == "yes" else "outbound" for i in manifest["id"]]
    manifest.to_csv(folder / "manifest.csv", index=False)
    recipe = recipe_from_dict(recipe_dict(folder, tmp_path / "run", tasks=None, task={"name": "audio.call_direction"}))
    with pytest.raises(RecipeError, match="equals the target 'churn'"):
        run(recipe)


def test_the_recipe_writes_its_demo_data_when_missing_and_only_then(tmp_path, monkeypatch) -> None:
    writes = []
    real = CallCenterDemo.write

    def small(folder, *, small=False, seed=0):
        writes.append(folder)
        return real(folder, small=True, seed=seed)

    monkeypatch.setattr(CallCenterDemo, "write", staticmethod(small))
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    shutil.copy(ROOT / "recipes" / "call_center_churn.yaml", recipes / "call_center_churn.yaml")
    quick = ["trainer.max_epochs=1", "trainer.progress_bar=false", "evaluate.repeats=2", "evaluate.label_budgets=[10]",
             "data.params.window_seconds=2.0", f"output.dir={tmp_path / 'runs' / 'cc'}"]
    recipe = load_recipe(recipes / "call_center_churn.yaml", quick)
    result = run(recipe)
    assert writes == [(tmp_path / "data" / "call_center").resolve()] or writes == [recipes / "../data/call_center"]
    assert result.report["data"]["notes"][0].startswith("The data is synthetic")
    assert "synthetic" in (tmp_path / "data" / "call_center" / "README.txt").read_text().lower()
    run(recipe)  # the data is there now: not written again
    assert len(writes) == 1
    # a recipe pointed at the user's own labels never fills a mistyped data path with synthetic data
    (tmp_path / "mine.csv").write_text("id,churn\na,yes\n")
    mistyped = load_recipe(recipes / "call_center_churn.yaml",
                           [*quick, f"data.source={tmp_path / 'typo' / 'manifest.csv'}", f"labels.source={tmp_path / 'mine.csv'}"])
    with pytest.raises(FileNotFoundError, match="writes synthetic data only when both are missing"):
        run(mistyped)
    assert len(writes) == 1


def test_demo_verb_lists_and_writes(tmp_path, capsys) -> None:
    assert main(["demo"]) == 0
    assert "call-center" in capsys.readouterr().out
    assert main(["demo", "call-center", "--out", str(tmp_path / "cc"), "--small"]) == 0
    out = capsys.readouterr().out
    assert "manifest" in out and (tmp_path / "cc" / "manifest.csv").is_file()
    assert len(pd.read_csv(tmp_path / "cc" / "manifest.csv")) == 24
    assert main(["demo", "call-centre", "--out", str(tmp_path / "x")]) == 2
    assert "did you mean 'call-center'" in capsys.readouterr().err
    # a folder that holds files is not written over unless asked
    (tmp_path / "cc" / "labels.csv").write_text("id,churn\nmine,1\n")
    assert main(["demo", "call-center", "--out", str(tmp_path / "cc"), "--small"]) == 2
    assert "already holds" in capsys.readouterr().err
    assert (tmp_path / "cc" / "labels.csv").read_text() == "id,churn\nmine,1\n"
    assert main(["demo", "call-center", "--out", str(tmp_path / "cc"), "--small", "--overwrite"]) == 0
    assert len(pd.read_csv(tmp_path / "cc" / "labels.csv")) > 1


def test_every_bundled_recipe_passes_check(capsys) -> None:
    for path in sorted((ROOT / "recipes").glob("*.yaml")):
        assert main(["check", str(path)]) == 0, path
        data = yaml.safe_load(path.read_text())
        assert data["name"] == path.stem, f"{path.name}: its run folder should be named after the file"
    assert "writes the synthetic 'call-center' demo" in capsys.readouterr().out or \
        (ROOT / "data" / "call_center").exists()


@pytest.mark.slow
def test_the_call_center_recipe_runs_as_it_is(tmp_path) -> None:
    recipe = load_recipe(ROOT / "recipes" / "call_center_churn.yaml", [f"output.dir={tmp_path / 'run'}"])
    report = run(recipe).report
    assert report["labels"]["n_labelled"] == 60 and report["data"]["n_samples"] == 160
    assert json.dumps(report["verdict"])


def test_a_folder_with_a_metadata_table_relative_to_the_recipe_scores_from_anywhere(small_center, tmp_path,
                                                                                    monkeypatch) -> None:
    project = tmp_path / "project"
    shutil.copytree(small_center / "calls", project / "calls")
    manifest = pd.read_csv(small_center / "manifest.csv")
    manifest[["id", "direction"]].to_csv(project / "meta.csv", index=False)
    shutil.copy(small_center / "labels.csv", project / "labels.csv")
    recipe = recipe_dict(project, tmp_path / "run", tasks=None, task={"name": "audio.call_direction"},
                         evaluate={"label_budgets": [10], "repeats": 2, "random_init": False, "examples": 0})
    recipe["data"] = {"source": "calls", "params": {"metadata": "meta.csv", "window_seconds": 2.0}}
    recipe["labels"]["source"] = "labels.csv"
    recipe["output"] = {"dir": str(tmp_path / "run")}
    (project / "r.yaml").write_text(yaml.safe_dump(recipe))
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "run", str(project / "r.yaml")]) == 0
    saved = yaml.safe_load((tmp_path / "run" / "recipe.yaml").read_text())
    assert saved["data"]["params"]["metadata"] == str((project / "meta.csv").resolve())
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["-q", "score", str(tmp_path / "run"), "--out", str(tmp_path / "s.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "s.csv")) == 24
