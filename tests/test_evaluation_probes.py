"""Few-label probes on shared draws, and the paired differences between methods."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from proxyml.errors import LabelError
from proxyml.evaluation import Draw, budget_draws, evaluate_probes


@pytest.fixture(scope="module")
def problem() -> tuple[np.ndarray, dict[str, np.ndarray], list[Draw]]:
    """60 labels; an informative 5-d feature, pure noise, and a constant column."""
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(36, dtype=int), np.ones(24, dtype=int)]
    informative = rng.normal(size=(60, 5)) + 1.2 * y[:, None] * np.array([1.0, 0.5, 0, 0, 0])
    features = {
        "proxyml": informative,
        "noise": rng.normal(size=(60, 20)),
        "constant": np.ones((60, 3)),
    }
    draws = budget_draws(y, ["10", "20", "all"], repeats=6, seed=1)
    return y, features, draws


@pytest.fixture(scope="module")
def result(problem: tuple[np.ndarray, dict[str, np.ndarray], list[Draw]]) -> dict:
    y, features, draws = problem
    return evaluate_probes(features, y, draws, confidence=0.9, C=0.5)


def test_informative_features_beat_noise_and_constant_features_are_chance(result: dict) -> None:
    methods = result["methods"]
    assert set(methods) == {"proxyml", "noise", "constant"}
    for budget in ("10", "20", "all"):
        assert methods["proxyml"][budget]["auc_mean"] > methods["noise"][budget]["auc_mean"] + 0.1
        # constant features give every test sample the same score: AUC exactly 0.5
        assert methods["constant"][budget]["aucs"] == [0.5] * 6
    assert methods["proxyml"]["all"]["auc_mean"] > 0.8
    assert 0.3 < methods["noise"]["all"]["auc_mean"] < 0.7


def test_per_draw_aucs_match_a_manual_sklearn_fit(problem, result: dict) -> None:
    y, features, draws = problem
    for method in ("proxyml", "noise"):
        x = features[method]
        expected: dict[str, list[float]] = {}
        for draw in draws:
            with threadpool_limits(limits=1, user_api="blas"):  # only speed: small fits
                probe = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))
                probe.fit(x[draw.train], y[draw.train])
                auc = roc_auc_score(y[draw.test], probe.predict_proba(x[draw.test])[:, 1])
            expected.setdefault(draw.budget, []).append(auc)
        for budget, aucs in expected.items():
            summary = result["methods"][method][budget]
            np.testing.assert_allclose(summary["aucs"], aucs, atol=1e-12)
            assert summary["auc_mean"] == pytest.approx(np.mean(aucs))
            assert summary["auc_std"] == pytest.approx(np.std(aucs, ddof=1))
            assert summary["auc_interval"] == pytest.approx(list(np.percentile(aucs, [5, 95])))
            budget_draws_ = [d for d in draws if d.budget == budget]
            assert summary["n_train"] == budget_draws_[0].train.size
            assert summary["n_test_mean"] == pytest.approx(np.mean([d.test.size for d in budget_draws_]))
    assert result["methods"]["proxyml"]["all"]["n_train"] == 48


def test_paired_differences_are_computed_on_the_same_draws(result: dict) -> None:
    assert result["reference"] == "proxyml"
    assert set(result["differences"]) == {"noise", "constant"}
    for other in ("noise", "constant"):
        for budget, diff in result["differences"][other].items():
            reference = np.array(result["methods"]["proxyml"][budget]["aucs"])
            paired = reference - np.array(result["methods"][other][budget]["aucs"])
            assert diff["mean"] == pytest.approx(paired.mean())
            assert diff["win_rate"] == pytest.approx(np.mean(paired > 0))
            assert diff["n_draws"] == 6
            half = stats.t.ppf(0.95, df=5) * paired.std(ddof=1) / np.sqrt(6)
            assert diff["ci"] == pytest.approx([paired.mean() - half, paired.mean() + half])
    assert result["differences"]["noise"]["all"]["mean"] > 0.1


def test_identical_methods_have_zero_difference_and_a_point_interval(problem) -> None:
    y, features, draws = problem
    twin = evaluate_probes({"proxyml": features["proxyml"], "copy": features["proxyml"].copy()}, y, draws)
    for diff in twin["differences"]["copy"].values():
        assert diff == {"mean": 0.0, "ci": [0.0, 0.0], "win_rate": 0.0, "tie_rate": 1.0, "n_draws": 6}


def test_single_draw_has_no_interval_and_missing_reference_no_differences(problem) -> None:
    y, features, _ = problem
    one = budget_draws(y, ["20"], repeats=1, seed=0)
    result = evaluate_probes({"proxyml": features["proxyml"], "noise": features["noise"]}, y, one)
    assert result["differences"]["noise"]["20"]["ci"] == [None, None]
    assert result["methods"]["noise"]["20"]["auc_std"] == 0.0
    no_reference = evaluate_probes({"noise": features["noise"]}, y, one, reference="proxyml")
    assert no_reference["differences"] == {} and "noise" in no_reference["methods"]


def test_one_dimensional_features_are_a_single_column(problem) -> None:
    y, features, draws = problem
    column = features["proxyml"][:, 0]
    flat = evaluate_probes({"proxyml": column}, y, draws[:3])
    wide = evaluate_probes({"proxyml": column[:, None]}, y, draws[:3])
    assert flat["methods"] == wide["methods"]


def test_bad_features_name_the_method(problem) -> None:
    y, features, draws = problem
    with pytest.raises(LabelError, match="features of method 'noise' have 59 rows but there are 60 labels"):
        evaluate_probes({"noise": features["noise"][:-1]}, y, draws)
    broken = features["noise"].copy()
    broken[[4, 7], 0] = np.nan
    with pytest.raises(LabelError, match="method 'broken' contain 2 NaN or infinite values in 2 rows"):
        evaluate_probes({"broken": broken}, y, draws)


def test_draws_with_one_class_on_a_side_are_rejected(problem) -> None:
    y, features, _ = problem
    bad = Draw(budget="3", repeat=0, train=np.array([0, 1, 2]), test=np.arange(3, 60))  # train all class 0
    with pytest.raises(LabelError, match="draw 3/0: the train part holds one class only"):
        evaluate_probes(features, y, [bad])


def test_wide_features_match_sklearn_too() -> None:
    """More features than training rows (MiniRocket-like): same AUCs as the plain pipeline."""
    rng = np.random.default_rng(3)
    y = np.r_[np.zeros(30, dtype=int), np.ones(20, dtype=int)]
    x = rng.normal(size=(50, 3000)) + 0.8 * y[:, None] * (np.arange(3000) < 100)
    draws = budget_draws(y, ["10", "all"], repeats=2, seed=0)
    result = evaluate_probes({"minirocket": x}, y, draws)
    for draw, auc in zip(
        draws,
        result["methods"]["minirocket"]["10"]["aucs"] + result["methods"]["minirocket"]["all"]["aucs"],
        strict=True,
    ):
        with threadpool_limits(limits=1, user_api="blas"):
            probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(
                x[draw.train], y[draw.train]
            )
        assert auc == pytest.approx(
            roc_auc_score(y[draw.test], probe.predict_proba(x[draw.test])[:, 1]), abs=1e-12
        )
    assert result["methods"]["minirocket"]["all"]["auc_mean"] > 0.7
