"""proxyml.Report / load_report: the report.json of a run as a notebook object."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_recipe_dict

from proxyml import Report, load_report, run
from proxyml.errors import DataError
from proxyml.evaluation.report_object import FRAME_COLUMNS
from proxyml.recipe import recipe_from_dict


def _entry(mean: float, n_train: int, low: float, high: float, aucs: list[float]) -> dict[str, Any]:
    return {"auc_mean": mean, "auc_std": 0.01, "auc_interval": [low, high], "n_train": n_train,
            "n_test_mean": 10.0, "aucs": aucs}


def synthetic() -> dict[str, Any]:
    """A one-task report in the shape the pipeline writes, with a <script> name to escape."""
    return {
        "name": "<script>x</script>", "data": {"source": "d.npz", "n_samples": 60}, "skipped": [],
        "labels": {"target": "kind", "positive": "square", "n_labelled": 20},
        "proxy_score": {"auc": 0.7, "ci": [0.6, 0.8], "p_value": 0.01, "direction": "positive"},
        "probes": {
            "proxyml": {"all": _entry(0.9, 16, 0.85, 0.95, [0.9, 0.9]), "4": _entry(0.7, 4, 0.6, 0.8, [0.6, 0.8])},
            "random_init": {"4": _entry(0.6, 4, 0.5, 0.7, [0.5, 0.7]), "all": _entry(0.8, 16, 0.7, 0.9, [0.8, 0.8])},
        },
        "differences": {"random_init": {"4": {"mean": 0.1, "ci": [0.0, 0.2], "win_rate": 1.0, "n_draws": 2},
                                        "all": {"mean": 0.1, "ci": [None, None], "n_draws": 2}}},
        "reference": "proxyml",
        "verdict": {"recommendation": "use proxyml & smile", "proxy_score": "the score works"},
    }


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    return run(recipe_from_dict(tiny_recipe_dict(folder))).output_dir


def test_synthetic_report_fields_and_frame() -> None:
    report = Report.from_dict(synthetic())
    assert report.methods == ["proxyml", "random_init"]
    assert report.budgets == ["4", "all"]  # report's order, all last
    assert report.recommendation == "use proxyml & smile"
    assert report.proxy_scores == {"": synthetic()["proxy_score"]}
    assert report.labels["target"] == "kind" and report.data["n_samples"] == 60
    assert list(report.skipped.columns) == ["id", "source", "reason"] and report.skipped.empty
    frame = report.to_frame()
    assert list(frame.columns) == FRAME_COLUMNS and len(frame) == 4
    assert frame[["method", "budget"]].values.tolist() == [
        ["proxyml", "4"], ["proxyml", "all"], ["random_init", "4"], ["random_init", "all"]]
    row = frame.iloc[2]
    assert (row.n_train, row.auc_mean, row.auc_low, row.auc_high, row.n_draws) == (4, 0.6, 0.5, 0.7, 2)
    assert not row.is_proxyml and frame.iloc[0].is_proxyml
    assert (row.difference_mean, row.difference_ci_low, row.difference_ci_high) == (0.1, 0.0, 0.2)
    assert math.isnan(frame.iloc[3].difference_ci_low)  # a single-draw interval is [None, None]
    assert frame.loc[frame.method == "proxyml", "difference_mean"].isna().all()  # the reference itself


def test_report_copies_its_dict() -> None:
    source = synthetic()
    report = Report.from_dict(source)
    source["probes"].clear()
    assert report.methods == ["proxyml", "random_init"] and report.raw is not source


def test_unlabelled_report_is_empty_not_an_error() -> None:
    report = Report.from_dict({"name": "u", "data": {}, "labels": None, "skipped": [
        {"id": "a", "source": "f.npz", "reason": "bad"}]})
    assert report.verdict == {} and report.recommendation is None and report.proxy_scores == {}
    assert report.to_frame().empty and list(report.to_frame().columns) == FRAME_COLUMNS
    assert report.skipped.to_dict("records") == [{"id": "a", "source": "f.npz", "reason": "bad"}]
    assert "No labels" in report._repr_html_()
    assert len(report.plot_label_efficiency().axes[0].lines) == 0


def test_multitask_proxy_scores_are_keyed_by_task() -> None:
    report = synthetic()
    report["proxy_scores"] = {"a": {"auc": 0.6}, "b": {"auc": 0.4}}
    del report["proxy_score"]
    assert list(Report.from_dict(report).proxy_scores) == ["a", "b"]


def test_plot_has_one_line_per_method_solid_for_proxyml() -> None:
    from matplotlib.figure import Figure

    report = Report.from_dict(synthetic())
    figure = report.plot_label_efficiency()
    assert isinstance(figure, Figure)
    lines = figure.axes[0].lines
    assert [line.get_label() for line in lines] == ["proxyml", "random_init"]
    assert [line.get_linestyle() for line in lines] == ["-", "--"]
    np.testing.assert_allclose(lines[0].get_ydata(), [0.7, 0.9])  # budget 4, then all
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["4", "all (16)"]
    assert len(figure.axes[0].collections) == 2  # one interval band per method
    figure.savefig(__import__("io").BytesIO(), format="png")  # renders without a display

    only = report.plot_label_efficiency(methods=["random_init"])
    assert [line.get_label() for line in only.axes[0].lines] == ["random_init"]
    with pytest.raises(KeyError, match="no method 'nope'"):
        report.plot_label_efficiency(methods=["nope"])


def test_plot_on_given_axes() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure()
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    assert Report.from_dict(synthetic()).plot_label_efficiency(ax=ax) is figure
    assert len(ax.lines) == 2


def test_repr_html_has_recommendation_escaped() -> None:
    text = Report.from_dict(synthetic())._repr_html_()
    assert "use proxyml &amp; smile" in text and "the score works" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "0.700 [0.600, 0.800]" in text and "all (16)" in text
    assert "use proxyml & smile" in repr(Report.from_dict(synthetic()))


def test_load_report_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no report.json"):
        load_report(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such run folder"):
        load_report(tmp_path / "missing")
    (tmp_path / "report.html").write_text("<html></html>")
    (tmp_path / "report.json").write_text(json.dumps(synthetic()))
    with pytest.raises(DataError, match="not JSON.*report.json is"):
        load_report(tmp_path / "report.html")
    (tmp_path / "other.json").write_text(json.dumps({"a": 1}))
    with pytest.raises(DataError, match="not a proxyml report.*'data'"):
        load_report(tmp_path / "other.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="not a proxyml report.*JSON object"):
        load_report(tmp_path / "list.json")
    with pytest.raises(DataError, match="not a proxyml report"):
        Report.from_dict({"name": "x"})
    assert load_report(tmp_path).path == tmp_path / "report.json"


def test_real_run_report(tiny_run: Path) -> None:
    raw = json.loads((tiny_run / "report.json").read_text())
    report = load_report(tiny_run)
    assert report.raw == raw and load_report(tiny_run / "report.json").raw == raw
    assert report.methods == list(raw["probes"]) and report.budgets == ["4", "all"]
    assert report.recommendation == raw["verdict"]["recommendation"]
    assert report.proxy_scores[""] == raw["proxy_score"]
    frame = report.to_frame()
    assert len(frame) == len(raw["probes"]) * 2
    for row in frame.itertuples():
        entry = raw["probes"][row.method][row.budget]
        assert (row.auc_mean, row.auc_std, row.n_train, row.n_draws) == (
            entry["auc_mean"], entry["auc_std"], entry["n_train"], len(entry["aucs"]))
        assert [row.auc_low, row.auc_high] == entry["auc_interval"]
        diff = raw["differences"].get(row.method, {}).get(row.budget)
        if diff is not None:
            assert row.difference_mean == diff["mean"]
        else:
            assert pd.isna(row.difference_mean)
    assert len(report.plot_label_efficiency().axes[0].lines) == len(raw["probes"])
    assert str(report.recommendation).split(":")[0] in report._repr_html_()


def test_load_report_takes_a_run_result(tiny_run: Path) -> None:
    class Result:
        output_dir = tiny_run

    assert load_report(Result()).raw == load_report(tiny_run).raw
