"""End to end: recipe -> run folder with embeddings, scores and an honest report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from proxyml import pipeline, runs
from proxyml.errors import DataError, LabelError
from proxyml.recipe import load_recipe, recipe_from_dict


def test_run_writes_every_artifact_and_a_consistent_report(tiny_recipe, tmp_path) -> None:
    result = pipeline.run(tiny_recipe())
    out = tmp_path / "run"
    for name in ("recipe.yaml", "environment.json", "preprocessing.json", "checkpoints/last.ckpt",
                 "embeddings.parquet", "random_init_embeddings.parquet", "proxy_scores.csv",
                 "random_init_proxy_scores.csv",
                 "skipped.csv", "report.json", "report.html"):
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text())
    assert report["labels"]["n_labelled"] == 20 and report["labels"]["positive"] == "square"
    assert set(report["probes"]) == {"proxyml", "random_init"}
    assert set(report["probes"]["proxyml"]) == {"4", "all"}

    # the proxy-score AUC in the report is the AUC of the saved scores against the labels
    scores = pd.read_csv(out / "proxy_scores.csv").set_index("id")["proxy_score"]
    labels = pd.read_csv(tmp_path / "labels.csv").set_index("id")["kind"].eq("square").astype(int)
    assert report["proxy_score"]["auc"] == pytest.approx(roc_auc_score(labels, scores[labels.index]))
    embeddings = pd.read_parquet(out / "embeddings.parquet")
    assert embeddings.shape == (60, 9) and embeddings["id"].tolist()[:2] == ["s000", "s001"]
    assert result.report["training"]["epochs"] == 3
    untrained = pd.read_csv(out / "random_init_proxy_scores.csv").set_index("id")["proxy_score"]
    assert report["proxy_score_baselines"]["random_init"]["auc"] == pytest.approx(
        roc_auc_score(labels, untrained[labels.index]))
    assert set(report["differences"]) == {"random_init"} and report["reference"] == "proxyml"
    assert "data:image/png;base64," in (out / "report.html").read_text()


def test_embed_score_and_evaluate_reuse_a_finished_run(tiny_recipe, tmp_path) -> None:
    pipeline.run(tiny_recipe())
    out = tmp_path / "run"
    before = pd.read_parquet(out / "embeddings.parquet")
    written = runs.embed(out, out=tmp_path / "again.parquet")
    np.testing.assert_allclose(pd.read_parquet(written).drop(columns="id"), before.drop(columns="id"), rtol=1e-5)
    scores = pd.read_csv(runs.score(out, out=tmp_path / "scores.csv"))
    np.testing.assert_allclose(scores["proxy_score"], pd.read_csv(out / "proxy_scores.csv")["proxy_score"], rtol=1e-5)

    # new labels, no retraining: the report is recomputed from the saved embeddings
    pd.DataFrame({"id": [f"s{i:03d}" for i in range(1, 60, 2)], "odd": 1}).assign(
        odd=lambda f: np.arange(len(f)) % 2).to_csv(tmp_path / "other.csv", index=False)
    report = runs.evaluate(out, [f"labels.source={tmp_path / 'other.csv'}", "labels.target=odd",
                                 "labels.positive=1"])
    assert report["labels"]["n_labelled"] == 30 and report["labels"]["target"] == "odd"
    assert json.loads((out / "report.json").read_text())["labels"]["target"] == "odd"


def test_new_data_is_read_with_the_training_preprocessing(tiny_recipe, tmp_path) -> None:
    pipeline.run(tiny_recipe())
    x = np.load(tmp_path / "series.npz")["X"][:5] * 10 + 3  # a shifted, rescaled batch of new series
    np.savez(tmp_path / "new.npz", X=x, ids=np.array([f"n{i}" for i in range(5)]))
    dataset, embeddings, scores = runs.predict_run(tmp_path / "run", str(tmp_path / "new.npz"))
    stored = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert dataset.ids == [f"n{i}" for i in range(5)] and embeddings.shape == (5, 8)
    expected = (x[0] - np.array(stored["mean"])[:, None]) / np.array(stored["std"])[:, None]
    np.testing.assert_allclose(dataset.load(0).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_unreadable_samples_are_skipped_and_reported(tiny_recipe, tmp_path) -> None:
    recipe = tiny_recipe()
    x = np.load(tmp_path / "series.npz")["X"].copy()
    ids = np.load(tmp_path / "series.npz")["ids"]
    x[7] = np.nan
    np.savez(tmp_path / "series.npz", X=x, ids=ids)
    report = pipeline.run(recipe).report
    assert [s["id"] for s in report["skipped"]] == ["s007"]
    assert report["data"]["n_samples"] == 59
    assert pd.read_csv(tmp_path / "run" / "skipped.csv")["id"].tolist() == ["s007"]
    assert "s007" in (tmp_path / "run" / "report.html").read_text()


def test_label_problems_fail_before_training(tiny_recipe, tmp_path) -> None:
    pd.DataFrame({"id": ["s000", "s003"], "kind": ["square", "square"]}).to_csv(tmp_path / "one.csv", index=False)
    recipe = tiny_recipe(f"labels.source={tmp_path / 'one.csv'}")
    with pytest.raises(LabelError):
        pipeline.run(recipe)
    assert not (tmp_path / "run" / "checkpoints").exists(), "no training on labels that cannot be evaluated"
    with pytest.raises(LabelError, match="evaluate.label_budgets"):
        pipeline.run(tiny_recipe("evaluate.label_budgets=[50]"))


def test_quickstart_recipe_runs_end_to_end(tmp_path) -> None:
    recipe = load_recipe("recipes/quickstart.yaml", [
        "trainer.max_epochs=2", "evaluate.repeats=3", "evaluate.bootstrap=200",
        "evaluate.permutations=200", "trainer.progress_bar=false", f"output.dir={tmp_path / 'q'}",
        "evaluate.baselines=[{name: timeseries.minirocket, params: {num_kernels: 840}}]",
    ])
    report = pipeline.run(recipe).report
    assert report["data"]["n_samples"] == 200 and report["labels"]["n_labelled"] == 200
    assert set(report["probes"]) == {"proxyml", "random_init", "timeseries.minirocket", "proxyml+timeseries.minirocket"}
    assert set(report["differences"]) == {"random_init", "timeseries.minirocket", "proxyml+timeseries.minirocket"}
    assert report["verdict"]["recommendation"]
    minirocket = report["probes"]["timeseries.minirocket"]["all"]["auc_mean"]
    assert minirocket > 0.9, "MiniRocket separates GunPoint's two gestures; a lower AUC means a broken join"
    assert 0.0 <= report["proxy_score"]["auc"] <= 1.0


def test_series_too_short_for_the_task_fail_before_the_run_folder_is_written(tiny_recipe, tmp_path) -> None:
    with pytest.raises(DataError, match="task.params.horizon"):
        pipeline.run(tiny_recipe("task={name: timeseries.next_step, params: {horizon: 30}}"))
    assert not (tmp_path / "run").exists()


def test_label_column_in_a_series_table_stays_out_when_embedding_again(tmp_path) -> None:
    rng = np.random.default_rng(0)
    steps = rng.standard_normal((40, 30)).cumsum(axis=1)
    frame = pd.DataFrame(steps, columns=[f"t{i}" for i in range(30)])
    frame.insert(0, "churned", np.arange(40) % 2)
    frame.insert(0, "id", [f"c{i}" for i in range(40)])
    frame.to_csv(tmp_path / "calls.csv", index=False)
    recipe = recipe_from_dict({
        "name": "calls", "data": {"source": str(tmp_path / "calls.csv")},
        "labels": {"source": str(tmp_path / "calls.csv"), "target": "churned", "positive": 1},
        "task": {"name": "timeseries.next_step", "params": {"horizon": 4}},
        "trainer": {"max_epochs": 1, "progress_bar": False},
        "evaluate": {"label_budgets": [6], "repeats": 2, "bootstrap": 100, "permutations": 100, "baselines": []},
        "output": {"dir": str(tmp_path / "run")},
    })
    report = pipeline.run(recipe).report
    assert report["data"]["spec"]["length"] == 30
    dataset, embeddings, _ = runs.predict_run(tmp_path / "run")
    assert dataset.spec["length"] == 30
    saved = pd.read_parquet(tmp_path / "run" / "embeddings.parquet").drop(columns="id").to_numpy()
    np.testing.assert_allclose(embeddings, saved, rtol=1e-5, atol=1e-6)


def test_embeddings_are_written_a_row_group_at_a_time(tmp_path, monkeypatch) -> None:
    import pyarrow.parquet as pq

    monkeypatch.setattr(pipeline, "PARQUET_CHUNK", 7)
    embeddings = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    path = pipeline.save_embeddings(tmp_path / "e.parquet", [f"s{i}" for i in range(20)], embeddings)
    assert pq.ParquetFile(path).num_row_groups == 3
    frame = pd.read_parquet(path)
    assert frame["id"].tolist() == [f"s{i}" for i in range(20)]
    np.testing.assert_array_equal(frame[["e0", "e1", "e2"]].to_numpy(), embeddings)
