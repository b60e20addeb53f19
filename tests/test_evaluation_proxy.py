"""Proxy-score AUC, its bootstrap interval and permutation p-value, and the plain statement."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from proxyml.errors import LabelError
from proxyml.evaluation import evaluate_proxy_score
from proxyml.evaluation.proxy import _bootstrap_aucs, _permutation_aucs


def scored(n: int, shift: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels (about 40 % positive) and a score shifted up by ``shift`` for the positives."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    y[:2], y[2:4] = 0, 1  # both classes, at least twice
    return rng.normal(size=n) + shift * y, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_and_roc_equal_sklearn_including_ties(seed: int) -> None:
    scores, y = scored(80, 0.7, seed)
    scores = np.round(scores, 1)  # many ties
    result = evaluate_proxy_score(scores, y, n_bootstrap=50, n_permutations=50, seed=seed)
    assert result["auc"] == roc_auc_score(y, scores)
    fpr, tpr, _ = roc_curve(y, scores)
    np.testing.assert_allclose(result["roc"]["fpr"], fpr)
    np.testing.assert_allclose(result["roc"]["tpr"], tpr)
    assert result["n"] == 80 and result["n_positive"] == int(y.sum())
    assert json.loads(json.dumps(result)) == result  # plain JSON types


def test_vectorised_resampled_aucs_equal_sklearn_on_the_same_resamples() -> None:
    scores, y = scored(40, 0.5, 3)
    scores = np.round(scores, 1)
    positive, negative = scores[y == 1], scores[y == 0]
    aucs = _bootstrap_aucs(positive, negative, 5, np.random.default_rng(9))
    rng = np.random.default_rng(9)  # replay the same draws by hand, one sklearn AUC per resample
    rows_p = rng.integers(0, positive.size, size=(5, positive.size))
    rows_q = rng.integers(0, negative.size, size=(5, negative.size))
    assert len(set(aucs)) > 1
    for auc, p, q in zip(aucs, positive[rows_p], negative[rows_q], strict=True):
        assert auc == pytest.approx(roc_auc_score(np.r_[np.ones(p.size), np.zeros(q.size)], np.r_[p, q]))
    permuted = _permutation_aucs(scores, int(y.sum()), 5, np.random.default_rng(4))
    order = np.random.default_rng(4).permuted(np.tile(np.arange(y.size), (5, 1)), axis=1)
    for auc, row in zip(permuted, order, strict=True):
        shuffled = np.zeros(y.size, dtype=int)
        shuffled[row[: y.sum()]] = 1
        assert auc == pytest.approx(roc_auc_score(shuffled, scores))


def test_interval_contains_the_auc_and_narrows_with_more_data() -> None:
    widths = []
    for n in (40, 400):
        scores, y = scored(n, 1.0, seed=5)
        result = evaluate_proxy_score(scores, y, n_bootstrap=500, n_permutations=100, seed=0)
        low, high = result["ci"]
        assert low < result["auc"] < high
        widths.append(high - low)
    assert widths[1] < 0.6 * widths[0]  # about 1/sqrt(10) in theory


def test_informative_score_is_significant_and_noise_is_not() -> None:
    scores, y = scored(100, 1.5, seed=11)
    strong = evaluate_proxy_score(scores, y, seed=0)
    assert strong["p_value"] < 0.01 and strong["direction"] == "positive"
    assert strong["ci"][0] > 0.5
    assert "predicts the target" in strong["statement"]

    noise = np.random.default_rng(12).normal(size=y.size)
    weak = evaluate_proxy_score(noise, y, seed=0)
    assert weak["p_value"] > 0.05 and weak["direction"] == "unclear"
    assert weak["ci"][0] < 0.5 < weak["ci"][1]
    assert "includes 0.5" in weak["statement"] and "not shown to predict" in weak["statement"]
    # the smallest p-value 1000 permutations can give, and a valid probability otherwise
    assert strong["p_value"] >= 1 / 1001 and 0 < weak["p_value"] <= 1


def test_inverted_score_is_called_inverse_and_reports_the_flipped_auc() -> None:
    scores, y = scored(100, 1.5, seed=11)
    result = evaluate_proxy_score(-scores, y, seed=0)
    assert result["direction"] == "inverse" and result["ci"][1] < 0.5
    assert "LOW proxy scores go with the positive class" in result["statement"]
    assert f"1 - AUC = {1 - result['auc']:.3f}" in result["statement"]
    assert result["p_value"] < 0.01  # two-sided: a strong inverse relation is significant too


def test_same_seed_same_result_other_seed_other_interval() -> None:
    scores, y = scored(60, 0.5, seed=2)
    a = evaluate_proxy_score(scores, y, n_bootstrap=200, n_permutations=200, seed=1)
    b = evaluate_proxy_score(scores, y, n_bootstrap=200, n_permutations=200, seed=1)
    c = evaluate_proxy_score(scores, y, n_bootstrap=200, n_permutations=200, seed=2)
    assert a == b and a["ci"] != c["ci"] and a["auc"] == c["auc"]


def test_nan_and_inf_scores_are_counted_in_the_error() -> None:
    scores, y = scored(30, 1.0, seed=0)
    scores[[3, 8, 9]] = [np.nan, np.inf, -np.inf]
    with pytest.raises(LabelError, match="3 of 30 proxy scores are NaN or infinite"):
        evaluate_proxy_score(scores, y)


def test_length_mismatch_and_bad_settings_are_errors() -> None:
    scores, y = scored(30, 1.0, seed=0)
    with pytest.raises(LabelError, match="got 29 proxy scores but 30 labels"):
        evaluate_proxy_score(scores[:-1], y)
    with pytest.raises(LabelError, match="all 30 labelled samples are class 0"):
        evaluate_proxy_score(scores, np.zeros(30, dtype=int))
    with pytest.raises(LabelError, match="n_bootstrap must be a positive integer"):
        evaluate_proxy_score(scores, y, n_bootstrap=0)
    with pytest.raises(LabelError, match="confidence must lie strictly between 0 and 1"):
        evaluate_proxy_score(scores, y, confidence=95)
