"""Label checks, label budgets and the shared stratified draws."""

from __future__ import annotations

import numpy as np
import pytest

from proxyml.errors import LabelError
from proxyml.evaluation import DEFAULT_BUDGETS, budget_draws, check_binary_labels, resolve_budgets


def labels(n_negative: int, n_positive: int, seed: int = 0) -> np.ndarray:
    y = np.r_[np.zeros(n_negative, dtype=int), np.ones(n_positive, dtype=int)]
    return np.random.default_rng(seed).permutation(y)


def test_check_binary_labels_accepts_bool_int_and_float_zero_one() -> None:
    for y in (np.array([0, 1, 0, 1]), np.array([False, True, True, False]), np.array([0.0, 1.0, 1.0, 0.0])):
        check_binary_labels(y)


def test_single_class_error_says_which_class_and_how_many() -> None:
    with pytest.raises(LabelError, match="all 25 labelled samples are class 1; the evaluator needs both"):
        check_binary_labels(np.ones(25, dtype=int))


def test_class_with_one_sample_is_an_error() -> None:
    with pytest.raises(LabelError, match="only 1 labelled sample is class 1 \\(of 10\\)"):
        check_binary_labels(np.r_[np.zeros(9), 1])


@pytest.mark.parametrize(
    "bad", [np.array([0, 1, 2, 1]), np.array(["a", "b", "a", "b"]), np.array([0, 1, np.nan, 1])]
)
def test_non_binary_labels_are_an_error(bad: np.ndarray) -> None:
    with pytest.raises(LabelError, match="must be 0 \\(negative\\) or 1 \\(positive\\)"):
        check_binary_labels(bad)


def test_default_budgets_that_do_not_fit_are_dropped_with_a_note() -> None:
    y = labels(25, 15)
    budgets, notes = resolve_budgets(y, None)
    assert budgets == ["10", "20", "all"]
    assert notes == ["budget 50 dropped: only 40 labelled samples"]
    assert DEFAULT_BUDGETS == (10, 20, 50, "all")


def test_explicit_budget_too_large_names_the_recipe_key_and_the_count() -> None:
    y = labels(25, 15)
    with pytest.raises(LabelError) as info:
        resolve_budgets(y, [10, 39])
    message = str(info.value)
    assert "evaluate.label_budgets" in message and "39" in message and "40 labelled samples" in message
    assert "at most 38" in message
    assert resolve_budgets(y, [10, 38]) == (["10", "38"], [])


def test_budget_strings_are_parsed_and_junk_is_rejected() -> None:
    y = labels(10, 10)
    assert resolve_budgets(y, ["5", " 10 ", "ALL", 5]) == (["5", "10", "all"], [])
    with pytest.raises(LabelError, match="'ten' is not understood"):
        resolve_budgets(y, ["ten"])
    with pytest.raises(LabelError, match="budget 1 is too small"):
        resolve_budgets(y, [1])


def test_all_budget_needs_five_samples() -> None:
    y = np.array([0, 0, 1, 1])
    budgets, notes = resolve_budgets(y, None)
    assert budgets == [] and any("'all' needs at least 5" in n for n in notes)
    with pytest.raises(LabelError, match="evaluate.label_budgets: budget all"):
        resolve_budgets(y, ["all"])
    assert resolve_budgets(y, [2]) == (["2"], [])


@pytest.mark.parametrize("n_negative, n_positive", [(30, 10), (6, 54), (2, 3), (50, 50)])
def test_draws_are_stratified_disjoint_and_cover_everything(n_negative: int, n_positive: int) -> None:
    y = labels(n_negative, n_positive, seed=n_negative)
    n = y.size
    budgets, _ = resolve_budgets(y, sorted({2, min(10, n - 2), n - 2}) + ["all"])
    draws = budget_draws(y, budgets, repeats=5, seed=7)
    assert [(d.budget, d.repeat) for d in draws] == [(b, r) for b in budgets for r in range(5)]
    for draw in draws:
        assert np.intersect1d(draw.train, draw.test).size == 0
        np.testing.assert_array_equal(np.sort(np.r_[draw.train, draw.test]), np.arange(n))
        assert draw.train.dtype.kind == "i" and np.all(np.diff(draw.train) > 0)
        expected = max(3, min(round(0.8 * n), n - 2)) if draw.budget == "all" else int(draw.budget)
        assert draw.train.size == expected
        for part in (draw.train, draw.test):
            assert set(y[part]) == {0, 1}
        # class shares are kept: rounding, plus at most one sample moved to keep a class on each side
        assert abs(y[draw.train].sum() - y.mean() * draw.train.size) <= 1.5


def test_draw_class_counts_follow_the_label_proportions() -> None:
    y = labels(30, 10)
    for draw in budget_draws(y, ["20", "all"], repeats=3, seed=0):
        assert y[draw.train].sum() == {"20": 5, "all": 8}[draw.budget]
    skewed = labels(3, 37)  # 10 * 3/40 rounds to 1 negative in train, and 2 stay for the test
    assert all(np.sum(y_d == 0) == 1 for y_d in (skewed[d.train] for d in budget_draws(skewed, ["10"], 3, 0)))


def test_draws_are_reproducible_and_depend_on_the_seed() -> None:
    y = labels(40, 20)
    first = budget_draws(y, ["10", "all"], repeats=4, seed=3)
    again = budget_draws(y, ["10", "all"], repeats=4, seed=3)
    other = budget_draws(y, ["10", "all"], repeats=4, seed=4)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.train, b.train)
    assert any(not np.array_equal(a.train, c.train) for a, c in zip(first, other, strict=True))
    # repeats differ from one another
    assert len({tuple(d.train) for d in first if d.budget == "10"}) == 4


def test_a_budgets_draws_do_not_depend_on_the_other_budgets() -> None:
    y = labels(40, 20)
    alone = budget_draws(y, ["20"], repeats=3, seed=1)
    together = [d for d in budget_draws(y, ["10", "20", "all"], repeats=3, seed=1) if d.budget == "20"]
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a.train, b.train)


def test_draws_reject_bad_repeats_seed_and_unfit_budgets() -> None:
    y = labels(10, 10)
    with pytest.raises(LabelError, match="evaluate.repeats"):
        budget_draws(y, ["5"], repeats=0, seed=0)
    with pytest.raises(LabelError, match="seed"):
        budget_draws(y, ["5"], repeats=1, seed=-1)
    with pytest.raises(LabelError, match="budget 19 does not fit 20"):
        budget_draws(y, ["19"], repeats=1, seed=0)
