"""Pretraining-seed variance in the probes: the proxy trained K times, every seed on the same draws.

With ``evaluate.seeds: K`` each proxyml method is probed once per pretraining seed, as
``<method>@<k>`` for seeds 1..K-1 beside ``<method>`` itself (seed 0). :func:`merge_seeds` folds
them into one entry whose ``aucs`` are seed-major (seed 0's draws, then seed 1's, ...), so that
its mean, spread and the paired differences with a baseline (whose draws are repeated per seed)
include how much the result moves from one pretraining to the next.

Example:
    >>> from proxyml.evaluation.probes import _summary
    >>> probes = {m: {"10": _summary(np.array(a), 10, [30] * len(a), 0.95)} for m, a in
    ...           {"proxyml": [0.8, 0.9], "proxyml@1": [0.7, 0.8], "raw": [0.75, 0.85]}.items()}
    >>> merged, differences = merge_seeds(probes, "proxyml", 2, 0.95)
    >>> merged["proxyml"]["10"]["aucs"], merged["proxyml"]["10"]["n_seeds"], sorted(merged)
    ([0.8, 0.9, 0.7, 0.8], 2, ['proxyml', 'raw'])
    >>> abs(round(differences["raw"]["10"]["mean"], 3)), differences["raw"]["10"]["n_draws"]
    (0.0, 4)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from proxyml.evaluation.probes import _paired_difference, _summary


def seed_name(method: str, k: int) -> str:
    """The probe name of ``method`` pretrained with the run's seed + ``k`` (``k = 0``: itself)."""
    return method if k == 0 else f"{method}@{k}"


def merge_seeds(probes: dict[str, dict[str, Any]], reference: str | None, seeds: int, confidence: float,
                ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Fold ``<method>@<k>`` entries into ``<method>``; recompute the paired differences of
    ``reference`` against every other method (seed by seed where both have seeds, the other's
    draws repeated per seed where it has none)."""
    merged: dict[str, dict[str, Any]] = {}
    per_draw: dict[str, dict[str, np.ndarray]] = {}
    for method, budgets in probes.items():
        if "@" in method and method.rsplit("@", 1)[0] in probes:
            continue
        names = [seed_name(method, k) for k in range(seeds)]
        with_seeds = all(name in probes for name in names)
        merged[method] = {}
        per_draw[method] = {}
        for budget, entry in budgets.items():
            if not with_seeds:
                merged[method][budget], per_draw[method][budget] = entry, np.asarray(entry["aucs"])
                continue
            aucs = np.concatenate([np.asarray(probes[name][budget]["aucs"]) for name in names])
            summary = _summary(aucs, entry["n_train"], [int(entry["n_test_mean"])] * aucs.size, confidence)
            summary["n_seeds"] = seeds
            merged[method][budget], per_draw[method][budget] = summary, aucs
    differences: dict[str, dict[str, Any]] = {}
    if reference in per_draw:
        for method in per_draw:
            if method == reference:
                continue
            differences[method] = {}
            for budget, ours in per_draw[reference].items():
                theirs = per_draw[method][budget]
                if theirs.size != ours.size:
                    theirs = np.tile(theirs, ours.size // max(theirs.size, 1))
                if theirs.size != ours.size:
                    ours = np.tile(ours, theirs.size // max(ours.size, 1))
                if theirs.size == ours.size:
                    differences[method][budget] = _paired_difference(ours, theirs, confidence)
    return merged, differences
