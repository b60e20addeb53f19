"""report.json round-trips; report.html is self-contained, escaped and complete."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proxyml.evaluation import (
    budget_draws,
    evaluate_probes,
    evaluate_proxy_score,
    probe_report_sections,
    render_html,
    write_report,
)
from proxyml.evaluation.report import MAX_SKIPPED_SHOWN


@pytest.fixture(scope="module")
def evaluated() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(24, dtype=int), np.ones(16, dtype=int)]
    scores = rng.normal(size=40) + 1.5 * y
    features = {
        "proxyml": scores[:, None] + rng.normal(size=(40, 2)),
        "random_init": rng.normal(size=(40, 4)),
    }
    draws = budget_draws(y, ["5", "10", "all"], repeats=4, seed=0)
    return {
        "scores": scores,
        "y": y,
        "proxy_score": evaluate_proxy_score(scores, y, n_bootstrap=200, n_permutations=200),
        **probe_report_sections(evaluate_probes(features, y, draws)),
    }


def make_report(evaluated: dict[str, Any], **changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "name": "calls-2024",
        "created": "2024-05-01T10:00:00+00:00",
        "task": "timeseries.segment_order",
        "data": {
            "source": "calls.npz",
            "n_samples": np.int64(340),
            "notes": ["3 series padded to 150 steps"],
        },
        "labels": {
            "target": "churn",
            "positive": "yes",
            "n_labelled": 40,
            "n_positive": np.int32(16),
            "n_unmatched": 2,
            "notes": ["2 label ids match no sample: x1, x2"],
        },
        "skipped": [{"id": f"bad-{i}", "source": "calls.npz", "reason": "NaN in series"} for i in range(3)],
        "proxy_score": evaluated["proxy_score"],
        "probes": evaluated["probes"],
        "differences": evaluated["differences"],
        "reference": evaluated["reference"],
        "budgets_notes": ["budget 50 dropped: only 40 labelled samples"],
        "timings": {"train": np.float32(12.5), "probes": 0.8},
        "training": {"epochs": 3, "final_loss": np.float64(0.41), "best_val": float("nan")},
    }
    report.update(changes)
    return report


def test_json_round_trips_with_plain_types(tmp_path: Path, evaluated: dict[str, Any]) -> None:
    report = make_report(evaluated, extra=np.arange(3), when=Path("/tmp/x"))
    paths = write_report(report, tmp_path / "run", scores=evaluated["scores"], y=evaluated["y"])
    assert set(paths) == {"json", "html"} and paths["json"] == tmp_path / "run" / "report.json"
    loaded = json.loads(paths["json"].read_text())
    assert loaded["data"]["n_samples"] == 340 and loaded["labels"]["n_positive"] == 16
    assert loaded["training"]["best_val"] is None  # NaN is not JSON
    assert loaded["extra"] == [0, 1, 2] and loaded["when"] == "/tmp/x"
    assert loaded["proxy_score"] == evaluated["proxy_score"]
    assert loaded["probes"] == json.loads(json.dumps(evaluated["probes"]))
    assert json.loads(json.dumps(loaded)) == loaded


def test_html_is_self_contained_with_embedded_figures(tmp_path: Path, evaluated: dict[str, Any]) -> None:
    paths = write_report(make_report(evaluated), tmp_path, scores=evaluated["scores"], y=evaluated["y"])
    page = paths["html"].read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 3  # ROC, score distribution, label efficiency
    assert all(len(i) > 1000 for i in images)
    assert not re.search(r'(src|href)="(http|//|[a-z]+\.(png|css|js))', page)
    without_scores = render_html(make_report(evaluated))
    assert without_scores.count("data:image/png;base64,") == 2  # no histogram without scores


def test_html_shows_the_numbers_and_the_statement(evaluated: dict[str, Any]) -> None:
    page = render_html(make_report(evaluated), scores=evaluated["scores"], y=evaluated["y"])
    proxy = evaluated["proxy_score"]
    assert f"{proxy['auc']:.3f}" in page and f"{proxy['ci'][0]:.3f} to {proxy['ci'][1]:.3f}" in page
    assert proxy["statement"].replace("'", "&#x27;") in page
    probe = evaluated["probes"]["random_init"]["10"]
    assert f"{probe['auc_mean']:.3f} ± {probe['auc_std']:.3f}" in page
    diff = evaluated["differences"]["random_init"]["all"]
    assert f"{diff['mean']:.3f}" in page and f"{diff['win_rate']:.0%}" in page
    for text in (
        "calls-2024",
        "timeseries.segment_order",
        "calls.npz",
        "3 series padded to 150 steps",
        "2 label ids match no sample",
        "budget 50 dropped",
        "Timings",
        "12.500",
        "final_loss",
    ):
        assert text in page


def test_user_strings_are_escaped(evaluated: dict[str, Any]) -> None:
    evil = "<script>alert(1)</script>"
    report = make_report(
        evaluated, name=evil, task="t&<b>", skipped=[{"id": evil, "source": "a.csv", "reason": "<img src=x>"}]
    )
    page = render_html(report)
    assert "<script>" not in page and "<img src=x>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "t&amp;&lt;b&gt;" in page


def test_skipped_ids_are_listed_up_to_the_limit(evaluated: dict[str, Any]) -> None:
    skipped = [{"id": f"sample-{i:04d}", "source": "s.csv", "reason": "empty"} for i in range(130)]
    page = render_html(make_report(evaluated, skipped=skipped))
    assert "Skipped samples (130)" in page
    assert "sample-0000" in page and f"sample-{MAX_SKIPPED_SHOWN - 1:04d}" in page
    assert f"sample-{MAX_SKIPPED_SHOWN:04d}" not in page and "and 30 more" in page


def test_minimal_report_without_labels_renders(tmp_path: Path) -> None:
    paths = write_report(
        {"name": "unlabelled", "labels": None, "data": {"source": "x.npz", "n_samples": 5}}, tmp_path
    )
    page = paths["html"].read_text()
    assert "none given" in page and "data:image/png" not in page
    assert json.loads(paths["json"].read_text())["labels"] is None


def test_probes_without_budgets_say_so(evaluated: dict[str, Any]) -> None:
    report = make_report(
        evaluated, probes={"proxyml": {}}, differences={}
    )
    assert "No label budget fits these labels" in render_html(report)
