"""Tabular end to end: the breast cancer recipe, labels kept in the data file, new rows scored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from proxyml import pipeline, runs
from proxyml.errors import DataError
from proxyml.modalities.tabular.bundled import bundled_table
from proxyml.recipe import load_recipe

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "tabular_breast_cancer.yaml"
QUICK = ("trainer.max_epochs=2", "evaluate.repeats=3", "trainer.progress_bar=false",
         "evaluate.bootstrap=200", "evaluate.permutations=200")


def test_breast_cancer_recipe_runs_and_compares_every_method(tmp_path) -> None:
    recipe = load_recipe(RECIPE, [*QUICK, f"output.dir={tmp_path / 'run'}"])
    report = pipeline.run(recipe).report
    assert report["task"] == "tabular.imputation" and report["encoder"] == "tabular.mlp"
    assert report["labels"]["n_labelled"] == 569 and report["labels"]["n_positive"] == 212  # malignant
    assert "target" not in report["data"]["spec"]["columns"]
    assert any("['target']" in note for note in report["data"]["notes"])
    methods = report["probes"]
    assert set(methods) == {"proxyml", "random_init", "tabular.raw_features", "proxyml+tabular.raw_features"}
    assert set(methods["proxyml"]) == {"10", "20", "50", "all"}
    # raw columns are known to separate these tumours well: a sanity bound on the whole chain
    assert methods["tabular.raw_features"]["all"]["auc_mean"] > 0.95
    assert 0.0 <= report["proxy_score"]["auc"] <= 1.0


def test_labels_in_the_data_file_and_new_rows_scored_with_the_stored_transform(tmp_path) -> None:
    frame = bundled_table("breast_cancer")
    rng = np.random.default_rng(0)
    frame = frame.assign(site=rng.choice(["north", "south"], len(frame)), id=[f"p{i}" for i in range(len(frame))])
    frame.loc[rng.choice(len(frame), 30, replace=False), "mean texture"] = np.nan
    frame.to_csv(tmp_path / "patients.csv", index=False)
    recipe = load_recipe(RECIPE, [
        *QUICK, f"output.dir={tmp_path / 'run'}", "task.name=tabular.corrupted_cells",
        f"data.source={tmp_path / 'patients.csv'}", f"labels.source={tmp_path / 'patients.csv'}",
        "evaluate.random_init=false",
    ])
    report = pipeline.run(recipe).report
    assert report["data"]["spec"]["columns"][-1] == "site" and report["data"]["spec"]["cardinalities"] == [3]
    assert "target" not in report["data"]["spec"]["columns"]
    assert report["labels"]["n_labelled"] == 569

    # new rows (no target column, shuffled, new ids) get exactly the embeddings of the same rows
    new = frame.drop(columns="target").iloc[[40, 7, 300]].assign(id=["x1", "x2", "x3"])
    new.to_csv(tmp_path / "new.csv", index=False)
    dataset, embeddings, scores = runs.predict_run(tmp_path / "run", str(tmp_path / "new.csv"))
    saved = pd.read_parquet(tmp_path / "run" / "embeddings.parquet").set_index("id")
    saved_scores = pd.read_csv(tmp_path / "run" / "proxy_scores.csv").set_index("id")["proxy_score"]
    assert dataset.ids == ["x1", "x2", "x3"]
    np.testing.assert_allclose(embeddings, saved.loc[["p40", "p7", "p300"]].to_numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores, saved_scores.loc[["p40", "p7", "p300"]].to_numpy(), rtol=1e-5, atol=1e-6)

    with pytest.raises(DataError, match=r"has no column 'site'"):
        runs.predict_run(tmp_path / "run", str(_without(new, "site", tmp_path)))


def _without(frame: pd.DataFrame, column: str, folder: Path) -> Path:
    frame.drop(columns=column).to_csv(folder / "partial.csv", index=False)
    return folder / "partial.csv"


def test_a_recipe_naming_an_unknown_column_fails_before_training(tmp_path) -> None:
    recipe = load_recipe(RECIPE, [*QUICK, f"output.dir={tmp_path / 'run'}", "data.params.drop=[mean radios]"])
    with pytest.raises(DataError, match=r"data.params.drop: sklearn:breast_cancer has no column 'mean radios'; "
                                        r"did you mean 'mean radius'"):
        pipeline.prepare(recipe)
    assert not (tmp_path / "run").exists()


def test_labels_in_a_data_file_without_ids_join_by_row_number(tmp_path) -> None:
    from proxyml.pipeline import prepare

    frame = bundled_table("breast_cancer").iloc[:120]
    frame.to_csv(tmp_path / "no_ids.csv", index=False)
    recipe = load_recipe(RECIPE, [*QUICK, f"output.dir={tmp_path / 'run'}",
                                  f"data.source={tmp_path / 'no_ids.csv'}",
                                  f"labels.source={tmp_path / 'no_ids.csv'}"])
    prepared = prepare(recipe)
    assert prepared.labels is not None and prepared.labels.ids == [str(i) for i in range(120)]
    np.testing.assert_array_equal(prepared.labels.y, (frame["target"].astype(int) == 0).astype(int))
    assert "target" not in prepared.dataset.spec["columns"]
