"""`proxyml evaluate` on embeddings and scores made anywhere, with a labels file: no run folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from proxyml.cli import main
from proxyml.errors import DataError
from proxyml.recipe import EvaluateSection, LabelsSection
from proxyml.runs import evaluate_files, read_matrix


def write_inputs(folder: Path, n: int = 80) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    ids = [f"u{i}" for i in range(n)]
    embeddings = pd.DataFrame(rng.standard_normal((n, 4)) + y[:, None] * [3.0, 0, 0, 0], columns=list("abcd"))
    embeddings.insert(0, "id", ids)
    embeddings.to_parquet(folder / "emb.parquet", index=False)
    scores = pd.DataFrame({"id": ids, "proxy_score": y + rng.standard_normal(n)})
    scores.to_csv(folder / "scores.csv", index=False)
    labelled = rng.choice(n, 40, replace=False)
    pd.DataFrame({"id": [ids[i] for i in labelled], "churn": ["yes" if y[i] else "no" for i in labelled]}).to_csv(
        folder / "labels.csv", index=False)
    return folder / "emb.parquet", folder / "scores.csv", folder / "labels.csv"


def test_files_are_evaluated_like_a_run(tmp_path: Path) -> None:
    emb, scores, labels = write_inputs(tmp_path)
    report = evaluate_files(LabelsSection(source=str(labels), target="churn", positive="yes"),
                            embeddings=emb, scores=scores, out=tmp_path / "out",
                            evaluate=EvaluateSection(label_budgets=[10, "all"], repeats=4))
    table = pd.read_csv(labels).merge(pd.read_csv(scores), on="id")
    assert report["proxy_score"]["auc"] == pytest.approx(roc_auc_score(table["churn"] == "yes", table["proxy_score"]))
    assert set(report["probes"]) == {"proxyml"} and report["probes"]["proxyml"]["all"]["auc_mean"] > 0.8
    assert json.loads((tmp_path / "out" / "report.json").read_text())["labels"]["n_labelled"] == 40
    assert (tmp_path / "out" / "report.html").is_file()


def test_scores_alone_and_bad_inputs(tmp_path: Path) -> None:
    _, scores, labels = write_inputs(tmp_path)
    report = evaluate_files(LabelsSection(source=str(labels), target="churn", positive="yes"),
                            scores=scores, out=tmp_path / "out")
    assert "proxy_score" in report and "probes" not in report
    with pytest.raises(DataError, match="give --embeddings, --scores or both"):
        evaluate_files(LabelsSection(source=str(labels)), out=tmp_path / "x")
    pd.DataFrame({"key": ["u1"], "proxy_score": [0.3]}).to_csv(tmp_path / "noid.csv", index=False)
    with pytest.raises(DataError, match="needs an 'id' column"):
        evaluate_files(LabelsSection(source=str(labels), target="churn"), scores=tmp_path / "noid.csv",
                       out=tmp_path / "x")


def test_command_line_file_mode(tmp_path: Path, capsys) -> None:
    emb, scores, labels = write_inputs(tmp_path)
    assert main(["evaluate", "--embeddings", str(emb), "--scores", str(scores), "--labels", str(labels),
                 "--target", "churn", "--positive", "yes", "--out", str(tmp_path / "o"),
                 "--set", "evaluate.repeats=3"]) == 0
    assert "probe AUC proxyml" in capsys.readouterr().out
    assert len(json.loads((tmp_path / "o" / "report.json").read_text())["probes"]["proxyml"]["10"]["aucs"]) == 3
    assert main(["evaluate", "--scores", str(scores), "--labels", str(labels), "--target", "churn",
                 "--set", "trainer.max_epochs=3"]) == 2
    assert "only evaluate.* keys apply" in capsys.readouterr().err
    assert main(["evaluate", "--scores", str(scores)]) == 2


def test_embedding_files_with_repeated_ids_or_text_columns_are_refused(tmp_path: Path) -> None:
    pd.DataFrame({"id": ["a", "b", "a"], "e0": [1.0, 2, 3]}).to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(DataError, match="ids must be unique; 1 repeat"):
        read_matrix(tmp_path / "dup.csv", ["a", "b"], "embeddings")
    pd.DataFrame({"id": ["a", "b"], "e0": ["x", "y"]}).to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(DataError, match="must be numeric; not numeric: \\['e0'\\]"):
        read_matrix(tmp_path / "text.csv", ["a", "b"], "embeddings")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="cannot read"):
        read_matrix(tmp_path / "empty.csv", ["a"], "embeddings")
