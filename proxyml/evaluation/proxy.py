"""Does the proxy score itself predict the target? ROC AUC, bootstrap interval, permutation test.

The proxy score needs no training labels at all, so every labelled sample is test data. The AUC
comes from :func:`sklearn.metrics.roc_auc_score`; the interval and the p-value come from
resampling it many times, which is done on ranks (Mann-Whitney form of the AUC, ties count
one half) so that thousands of resamples take milliseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score, roc_curve

from proxyml.errors import LabelError
from proxyml.evaluation.splits import check_binary_labels

# Resampled matrices are processed in row chunks of about this many elements (memory bound).
_CHUNK_ELEMENTS = 2_000_000


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise LabelError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _check_confidence(confidence: float) -> float:
    if not 0.0 < float(confidence) < 1.0:
        raise LabelError(f"confidence must lie strictly between 0 and 1 (e.g. 0.95); got {confidence!r}")
    return float(confidence)


def _auc_from_positive_ranks(rank_sums: np.ndarray, n_positive: int, n_negative: int) -> np.ndarray:
    """Mann-Whitney AUC from the summed (average) ranks of the positives among all samples."""
    return (rank_sums - n_positive * (n_positive + 1) / 2.0) / (n_positive * n_negative)


def _bootstrap_aucs(
    positive: np.ndarray, negative: np.ndarray, n_bootstrap: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_bootstrap,) AUCs of stratified resamples: each class resampled with replacement."""
    n_pos, n_neg = positive.size, negative.size
    chunk = max(1, _CHUNK_ELEMENTS // (n_pos + n_neg))
    aucs = np.empty(n_bootstrap)
    for start in range(0, n_bootstrap, chunk):
        rows = min(chunk, n_bootstrap - start)
        sample = np.concatenate(
            [
                positive[rng.integers(0, n_pos, size=(rows, n_pos))],
                negative[rng.integers(0, n_neg, size=(rows, n_neg))],
            ],
            axis=1,
        )
        ranks = rankdata(sample, axis=1)
        aucs[start : start + rows] = _auc_from_positive_ranks(ranks[:, :n_pos].sum(axis=1), n_pos, n_neg)
    return aucs


def _permutation_aucs(
    scores: np.ndarray, n_positive: int, n_permutations: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_permutations,) AUCs with the labels shuffled (ranks of the scores do not change)."""
    n = scores.size
    ranks = rankdata(scores)
    chunk = max(1, _CHUNK_ELEMENTS // n)
    aucs = np.empty(n_permutations)
    for start in range(0, n_permutations, chunk):
        rows = min(chunk, n_permutations - start)
        order = rng.permuted(np.tile(np.arange(n), (rows, 1)), axis=1)
        aucs[start : start + rows] = _auc_from_positive_ranks(
            ranks[order[:, :n_positive]].sum(axis=1), n_positive, n - n_positive
        )
    return aucs


def _statement(
    auc: float, low: float, high: float, p_value: float, confidence: float, n_permutations: int
) -> tuple[str, str]:
    level = f"{confidence * 100:g}% CI"
    p_text = f"permutation p = {p_value:.3g}"
    if p_value <= 1.0 / (1 + n_permutations):
        p_text += f", the smallest {n_permutations} label shuffles can give"
    numbers = f"AUC = {auc:.3f} ({level} {low:.3f} to {high:.3f}; {p_text})"
    if high < 0.5:
        return "inverse", (
            f"{numbers}. The score works in reverse: LOW proxy scores go with the positive "
            f"class. Flipped (rank samples from low to high score), it reaches 1 - AUC = "
            f"{1 - auc:.3f} ({level} {1 - high:.3f} to {1 - low:.3f})."
        )
    if low > 0.5:
        return "positive", (
            f"{numbers}. High proxy scores go with the positive class, and the interval lies "
            f"above 0.5, so with these labels the proxy score predicts the target."
        )
    return "unclear", (
        f"{numbers}. The interval includes 0.5, so with these labels the proxy score is not "
        f"shown to predict the target (neither directly nor in reverse); more labels would "
        f"narrow the interval."
    )


def evaluate_proxy_score(
    scores: np.ndarray,
    y: np.ndarray,
    *,
    n_bootstrap: int = 1000,
    n_permutations: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """ROC AUC of a proxy score against the real labels, with an interval and a p-value.

    Args:
        scores: (n,) proxy score per labelled sample (higher = more positive, if it works).
        y: (n,) 0/1 labels aligned with ``scores``.
        n_bootstrap: stratified bootstrap resamples for the percentile interval.
        n_permutations: label shuffles for the two-sided permutation test of AUC = 0.5.
        confidence: coverage of the interval.
        seed: seed of the generator used for resampling.

    Returns:
        A JSON-able dict: ``auc``, ``ci`` ([low, high]), ``p_value``, ``n``, ``n_positive``,
        ``n_negative``, ``confidence``, ``n_bootstrap``, ``n_permutations``, ``direction``
        (``"positive"``, ``"inverse"`` or ``"unclear"``), ``statement`` (plain words) and
        ``roc`` (``{"fpr": [...], "tpr": [...]}``).

    Example:
        >>> y = np.array([0, 0, 0, 1, 1, 1] * 5)
        >>> result = evaluate_proxy_score(y + np.linspace(0, 0.5, 30), y, seed=0)
        >>> result["auc"], result["direction"]
        (1.0, 'positive')
    """
    check_binary_labels(y)
    y = np.asarray(y).astype(int)
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.ndim != 1:
        raise LabelError(f"proxy scores must be one number per sample, shape (n,); got {scores.shape}")
    if scores.size != y.size:
        raise LabelError(
            f"got {scores.size} proxy scores but {y.size} labels; pass one score per labelled "
            f"sample, in the order of the labels"
        )
    bad = ~np.isfinite(scores)
    if bad.any():
        raise LabelError(
            f"{int(bad.sum())} of {scores.size} proxy scores are NaN or infinite (positions "
            f"{np.flatnonzero(bad)[:5].tolist()}...); drop those samples or fix the scorer"
        )
    n_bootstrap = _check_count(n_bootstrap, "n_bootstrap")
    n_permutations = _check_count(n_permutations, "n_permutations")
    confidence = _check_confidence(confidence)

    auc = float(roc_auc_score(y, scores))
    rng = np.random.default_rng(seed)
    boot = _bootstrap_aucs(scores[y == 1], scores[y == 0], n_bootstrap, rng)
    alpha = 1.0 - confidence
    low, high = (float(v) for v in np.quantile(boot, [alpha / 2, 1 - alpha / 2]))

    n_positive = int(y.sum())
    perm = _permutation_aucs(scores, n_positive, n_permutations, rng)
    # Tolerance: the permuted AUCs are rank sums, the observed one is sklearn's; equal values
    # must count as "at least as extreme".
    extreme = np.abs(perm - 0.5) >= abs(auc - 0.5) - 1e-12
    p_value = float((1 + extreme.sum()) / (1 + n_permutations))

    direction, statement = _statement(auc, low, high, p_value, confidence, n_permutations)
    fpr, tpr, _ = roc_curve(y, scores)
    return {
        "auc": auc,
        "ci": [low, high],
        "p_value": p_value,
        "n": int(y.size),
        "n_positive": n_positive,
        "n_negative": int(y.size - n_positive),
        "confidence": confidence,
        "n_bootstrap": n_bootstrap,
        "n_permutations": n_permutations,
        "direction": direction,
        "statement": statement,
        "roc": {"fpr": [float(v) for v in fpr], "tpr": [float(v) for v in tpr]},
    }
