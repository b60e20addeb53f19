"""Label checks, label budgets and the stratified train/test draws every method shares.

The few real labels are the scarce resource, so every method (the proxy model's embeddings and
each baseline) is scored on exactly the same draws: differences between methods are then paired
and not blurred by which samples happened to land in the training set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from proxyml.errors import LabelError

DEFAULT_BUDGETS: tuple[int | str, ...] = (10, 20, 50, "all")

#: Share of the labelled samples the ``"all"`` budget trains on; the rest is the test set.
ALL_TRAIN_FRACTION = 0.8


@dataclass
class Draw:
    """One stratified split of the labelled samples.

    Attributes:
        budget: budget label, e.g. ``"10"`` or ``"all"``.
        repeat: index of this draw among the repeats of its budget.
        train: (n_train,) sorted integer positions into ``y`` used for fitting.
        test: (n_test,) sorted integer positions into ``y`` held out for scoring; disjoint from
            ``train`` and together they cover every labelled sample.
    """

    budget: str
    repeat: int
    train: np.ndarray
    test: np.ndarray


def check_binary_labels(y: np.ndarray) -> None:
    """Raise :class:`LabelError` unless ``y`` is a 0/1 vector with at least 2 samples per class.

    Args:
        y: (n,) labels, 1 for the positive class and 0 for the negative one.

    Example:
        >>> check_binary_labels(np.array([0, 1, 0, 1]))
        >>> check_binary_labels(np.array([1, 1, 1]))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        proxyml.errors.LabelError: all 3 labelled samples are class 1; ...
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise LabelError(f"labels must be a 1-D vector of 0/1 values; got shape {y.shape}")
    if y.size == 0:
        raise LabelError("no labelled samples: the label table matched none of the samples")
    numeric = y.dtype.kind in "biuf"
    bad = ~np.isin(y, (0, 1)) if numeric else np.ones(y.shape, dtype=bool)
    if bad.any():
        examples = sorted({str(v) for v in y[bad][:50]})[:5]
        raise LabelError(
            f"labels must be 0 (negative) or 1 (positive); {int(bad.sum())} of {y.size} are not, "
            f"e.g. {examples}. Map your target to 0/1 (choose which value is positive) first."
        )
    n_positive = int((y == 1).sum())
    counts = {0: y.size - n_positive, 1: n_positive}
    for label, count in counts.items():
        if count == y.size:
            raise LabelError(
                f"all {y.size} labelled samples are class {label}; the evaluator needs both "
                f"classes (an AUC compares positives with negatives). Label at least 2 samples "
                f"of class {1 - label}."
            )
    for label, count in counts.items():
        if count < 2:
            raise LabelError(
                f"only {count} labelled sample is class {label} (of {y.size}); the evaluator "
                f"needs at least 2 per class so that both the training and the test part of a "
                f"split contain it. Label more samples of class {label}."
            )


def _parse_budget(budget: int | str, *, where: str) -> int | str:
    """Turn one budget (``10``, ``"10"`` or ``"all"``) into an int or ``"all"``."""
    if isinstance(budget, str):
        text = budget.strip().lower()
        if text == "all":
            return "all"
        if text.isdigit():
            budget = int(text)
    if isinstance(budget, (int, np.integer)) and not isinstance(budget, bool):
        if budget < 2:
            raise LabelError(
                f"{where}: budget {int(budget)} is too small; a training set needs at least one "
                f"sample of each class, so budgets start at 2."
            )
        return int(budget)
    raise LabelError(
        f"{where}: budget {budget!r} is not understood; use a number of labelled training "
        f"samples (e.g. 10) or 'all'."
    )


def _budget_label(budget: int | str) -> str:
    return str(budget)


def _all_train_size(n: int) -> int:
    # Two samples at least must stay out so the test part can hold both classes.
    return min(int(np.floor(ALL_TRAIN_FRACTION * n + 0.5)), n - 2)


def _fits(budget: int | str, n: int, counts: np.ndarray) -> bool:
    if budget == "all":
        return n >= 5 and bool((counts >= 2).all())
    return 2 <= int(budget) <= n - 2


def resolve_budgets(y: np.ndarray, budgets: Sequence[int | str] | None) -> tuple[list[str], list[str]]:
    """Keep the label budgets that the labels can support.

    A numeric budget ``b`` fits when ``2 <= b <= n - 2``: the training draw holds at least one
    sample of each class and leaves at least one of each for the test set. ``"all"`` (train on
    a stratified 80 %, test on the rest) fits when ``n >= 5``.

    Args:
        y: (n,) 0/1 labels.
        budgets: training-set sizes and/or ``"all"``; ``None`` means :data:`DEFAULT_BUDGETS`,
            whose misfits are dropped with a note. Explicit misfits raise :class:`LabelError`.

    Returns:
        ``(labels, notes)``: usable budget labels in the given order (``["10", "all"]``) and
        human-readable notes on what was dropped.

    Example:
        >>> y = np.array([0, 1] * 15)
        >>> resolve_budgets(y, None)
        (['10', '20', 'all'], ['budget 50 dropped: only 30 labelled samples'])
    """
    check_binary_labels(y)
    y = np.asarray(y)
    n = y.size
    counts = np.bincount(y.astype(int), minlength=2)
    explicit = budgets is not None
    where = "evaluate.label_budgets"
    parsed = [_parse_budget(b, where=where) for b in (DEFAULT_BUDGETS if budgets is None else budgets)]
    labels: list[str] = []
    notes: list[str] = []
    for budget in parsed:
        label = _budget_label(budget)
        if label in labels:
            continue
        if _fits(budget, n, counts):
            labels.append(label)
            continue
        if budget == "all":
            reason = f"only {n} labelled samples ({counts[1]} positive); 'all' needs at least 5"
        else:
            reason = f"only {n} labelled samples"
        if explicit:
            largest = n - 2
            raise LabelError(
                f"{where}: budget {label} does not fit the labels: {reason}. A numeric budget "
                f"must leave at least one sample of each class out for testing, so with these "
                f"labels it can be at most {largest}. Lower it, or remove it from {where}."
            )
        notes.append(f"budget {label} dropped: {reason}")
    if not labels:
        notes.append(
            f"no label budget fits {n} labelled samples, so no few-label probes are run; "
            f"set evaluate.label_budgets to sizes between 2 and {n - 2}"
        )
    return labels, notes


def _class_counts_in_train(size: int, counts: np.ndarray) -> np.ndarray:
    """Split a training size over the two classes in proportion, keeping 1 per class each side."""
    n = int(counts.sum())
    positive = int(np.floor(size * counts[1] / n + 0.5))
    low = max(1, size - (int(counts[0]) - 1))
    high = min(int(counts[1]) - 1, size - 1)
    positive = min(max(positive, low), high)
    return np.array([size - positive, positive])


def budget_draws(y: np.ndarray, budgets: list[str], repeats: int, seed: int) -> list[Draw]:
    """Draw ``repeats`` stratified train/test splits for every budget.

    Each draw takes, per class, a share of the training size proportional to the class (at
    least one), and keeps at least one sample of each class for the test set, which is the rest.
    The generator of a draw is seeded by ``(seed, budget, repeat)``, so a budget's draws do not
    change when other budgets are added or removed.

    Args:
        y: (n,) 0/1 labels.
        budgets: budget labels as returned by :func:`resolve_budgets`.
        repeats: number of draws per budget (>= 1).
        seed: non-negative integer seed.

    Returns:
        Draws ordered by budget, then repeat.

    Example:
        >>> y = np.array([0, 1] * 10)
        >>> draws = budget_draws(y, ["4"], repeats=2, seed=0)
        >>> [(d.budget, len(d.train), len(d.test)) for d in draws]
        [('4', 4, 16), ('4', 4, 16)]
    """
    check_binary_labels(y)
    y = np.asarray(y).astype(int)
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise LabelError(f"evaluate.repeats must be a positive integer; got {repeats!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise LabelError(f"the seed must be a non-negative integer; got {seed!r}")
    n = y.size
    counts = np.bincount(y, minlength=2)
    members = [np.flatnonzero(y == label) for label in (0, 1)]
    draws: list[Draw] = []
    for label in budgets:
        budget = _parse_budget(label, where="evaluate.label_budgets")
        if not _fits(budget, n, counts):
            raise LabelError(
                f"evaluate.label_budgets: budget {budget} does not fit {n} labelled samples; "
                f"pass the budgets through resolve_budgets first"
            )
        size = _all_train_size(n) if budget == "all" else int(budget)
        per_class = _class_counts_in_train(size, counts)
        budget_key = 0 if budget == "all" else int(budget)  # numeric budgets are >= 2
        for repeat in range(int(repeats)):
            rng = np.random.default_rng([int(seed), budget_key, repeat])
            train = np.concatenate([rng.permutation(members[c])[: per_class[c]] for c in (0, 1)])
            train.sort()
            test = np.setdiff1d(np.arange(n), train, assume_unique=True)
            draws.append(Draw(budget=_budget_label(budget), repeat=repeat, train=train, test=test))
    return draws
