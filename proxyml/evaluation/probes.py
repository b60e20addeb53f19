"""Few-label probes: a small logistic regression per method, on the same draws for every method.

For each label budget the probe is fitted on the draw's training rows of a method's feature
matrix (the proxy model's embeddings, or a baseline's features) and scored by ROC AUC on the
held-out rest. Because all methods see identical draws, the per-draw AUC differences between
the reference method and each other method are paired.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from proxyml.errors import LabelError
from proxyml.evaluation.splits import Draw, check_binary_labels


def make_probe(C: float = 1.0) -> Pipeline:
    """The probe every method is scored with: standardise, then L2 logistic regression."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))


def _probe_scores(probe: Pipeline, x: np.ndarray) -> np.ndarray:
    """(n,) decision values of a fitted probe for every row of ``x``: (n, d).

    The scaler folds into the logistic weights, so one matrix-vector product scores all rows
    without copying and rescaling the (wide) test rows. The values are the log-odds of
    ``probe.predict_proba(x)[:, 1]``: the same ranking, hence the same AUC, and no ties from
    probabilities that round to exactly 1.0.
    """
    scaler, logistic = probe[0], probe[-1]
    weights = logistic.coef_[0] / scaler.scale_
    return x @ weights + (logistic.intercept_[0] - scaler.mean_ @ weights)


def _check_features(features: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    checked: dict[str, np.ndarray] = {}
    for method, matrix in features.items():
        x = np.asarray(matrix, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2:
            raise LabelError(
                f"features of method {method!r} must be a (samples, features) matrix; got shape {x.shape}"
            )
        if x.shape[0] != n:
            raise LabelError(
                f"features of method {method!r} have {x.shape[0]} rows but there are {n} "
                f"labels; pass one row per labelled sample, in the order of the labels"
            )
        bad = ~np.isfinite(x)
        if bad.any():
            rows = np.flatnonzero(bad.any(axis=1))
            raise LabelError(
                f"features of method {method!r} contain {int(bad.sum())} NaN or infinite "
                f"values in {rows.size} rows (e.g. rows {rows[:5].tolist()}); fix the "
                f"embedding or feature step, or drop those samples"
            )
        checked[str(method)] = x
    return checked


def _check_draws(draws: list[Draw], y: np.ndarray) -> None:
    n = y.size
    for draw in draws:
        for part, name in ((draw.train, "train"), (draw.test, "test")):
            part = np.asarray(part)
            if part.size and (part.min() < 0 or part.max() >= n):
                raise LabelError(
                    f"draw {draw.budget}/{draw.repeat}: {name} positions must lie in "
                    f"[0, {n}); make the draws with budget_draws on these labels"
                )
            if np.unique(y[part]).size < 2:
                raise LabelError(
                    f"draw {draw.budget}/{draw.repeat}: the {name} part holds one class only; "
                    f"make the draws with budget_draws, which keeps both classes on each side"
                )


def _summary(aucs: np.ndarray, n_train: int, n_test: list[int], confidence: float) -> dict[str, Any]:
    alpha = 1.0 - confidence
    low, high = np.percentile(aucs, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return {
        "auc_mean": float(aucs.mean()),
        "auc_std": float(aucs.std(ddof=1)) if aucs.size > 1 else 0.0,
        "auc_interval": [float(low), float(high)],
        "n_train": int(n_train),
        "n_test_mean": float(np.mean(n_test)),
        "aucs": [float(a) for a in aucs],
    }


def _paired_difference(reference: np.ndarray, other: np.ndarray, confidence: float) -> dict[str, Any]:
    diffs = reference - other
    mean = float(diffs.mean())
    if diffs.size < 2:
        # One draw says nothing about the spread; an interval of zero width would overclaim.
        ci: list[float | None] = [None, None]
    elif np.ptp(diffs) == 0:
        ci = [mean, mean]
    else:
        half = stats.t.ppf((1 + confidence) / 2, df=diffs.size - 1) * stats.sem(diffs)
        ci = [mean - float(half), mean + float(half)]
    return {
        "mean": mean,
        "ci": ci,
        "win_rate": float((diffs > 0).mean()),
        "tie_rate": float((diffs == 0).mean()),
        "n_draws": int(diffs.size),
    }


def probe_report_sections(result: dict[str, Any]) -> dict[str, Any]:
    """The report's view of :func:`evaluate_probes`: ``probes.<method>.<budget>``,
    ``differences.<other>.<budget>`` and the ``reference`` method."""
    return {"probes": result["methods"], "differences": result["differences"], "reference": result["reference"]}


def evaluate_probes(
    features: dict[str, np.ndarray],
    y: np.ndarray,
    draws: list[Draw],
    *,
    reference: str | None = "proxyml",
    confidence: float = 0.95,
    C: float = 1.0,
) -> dict[str, Any]:
    """Score a logistic-regression probe per method and draw, and compare methods pairwise.

    Args:
        features: method name -> (n, d) feature matrix; row i belongs to labelled sample i.
        y: (n,) 0/1 labels.
        draws: the shared draws, from :func:`~proxyml.evaluation.splits.budget_draws`.
        reference: the method the others are compared with (differences are reference - other).
        confidence: coverage of the per-budget AUC interval and of the difference interval.
        C: inverse L2 regularisation strength of the logistic regression.

    Returns:
        ``{"methods": {method: {budget: {"auc_mean", "auc_std" (sample std over draws),
        "auc_interval" (percentiles of the draw AUCs), "n_train", "n_test_mean", "aucs"}}},
        "differences": {other: {budget: {"mean", "ci" (t-interval of the mean paired
        difference; [None, None] with a single draw), "win_rate", "n_draws"}}},
        "reference": reference}``. ``differences`` is empty if ``reference`` is not a method.

    Example:
        >>> from proxyml.evaluation.splits import budget_draws
        >>> y = np.array([0, 1] * 20)
        >>> draws = budget_draws(y, ["10"], repeats=3, seed=0)
        >>> result = evaluate_probes({"proxyml": y[:, None] + 0.0}, y, draws)
        >>> result["methods"]["proxyml"]["10"]["auc_mean"]
        1.0
    """
    check_binary_labels(y)
    y = np.asarray(y).astype(int)
    if not 0.0 < float(confidence) < 1.0:
        raise LabelError(f"confidence must lie strictly between 0 and 1; got {confidence!r}")
    if not float(C) > 0.0:
        raise LabelError(f"the probe's C (inverse regularisation) must be positive; got {C!r}")
    matrices = _check_features(features, y.size)
    _check_draws(draws, y)

    budgets: dict[str, list[Draw]] = {}
    for draw in draws:
        budgets.setdefault(draw.budget, []).append(draw)

    per_draw: dict[str, dict[str, np.ndarray]] = {}
    methods: dict[str, dict[str, Any]] = {}
    # Probe matrices are small: BLAS threads only add contention here (10x slower on 2 cores).
    with threadpool_limits(limits=1, user_api="blas"):
        for method, x in matrices.items():
            per_draw[method] = {}
            methods[method] = {}
            for budget, budget_draw_list in budgets.items():
                aucs = np.empty(len(budget_draw_list))
                for i, draw in enumerate(budget_draw_list):
                    probe = make_probe(C).fit(x[draw.train], y[draw.train])
                    scores = _probe_scores(probe, x)
                    aucs[i] = roc_auc_score(y[draw.test], scores[draw.test])
                per_draw[method][budget] = aucs
                methods[method][budget] = _summary(
                    aucs,
                    n_train=int(np.median([d.train.size for d in budget_draw_list])),
                    n_test=[d.test.size for d in budget_draw_list],
                    confidence=float(confidence),
                )

    differences: dict[str, dict[str, Any]] = {}
    if reference in per_draw:
        for method in per_draw:
            if method == reference:
                continue
            differences[method] = {
                budget: _paired_difference(
                    per_draw[reference][budget], per_draw[method][budget], float(confidence)
                )
                for budget in budgets
            }
    return {"methods": methods, "differences": differences, "reference": reference}
