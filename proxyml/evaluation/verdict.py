"""The verdict of a proxy-to-target report: is the proxy worth it, in plain words?

:func:`build_verdict` reads only what a report dict already holds (``probes``, ``proxy_score``
or ``proxy_scores``, and the untrained model's scores) and answers three questions:

* per label budget, which method is best, and does proxyml's best method beat the best baseline
  by a paired interval (same draws) that excludes 0?
* does the proxy score alone predict the target, and is that due to training?
* what should the user do: use the proxy, use the baseline, or collect more labels?

It also says whether the intervals include the variance from the pretraining seed: measured with
contrastive encoders on real tables and series, the probe AUC moved by about
±:data:`SEED_SPREAD` from one pretraining seed to the next, as much as many gains over a baseline.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from proxyml.evaluation.probes import _paired_difference

#: A paired interval wider than this, at a budget where nothing is decided, is "too wide to tell".
WIDE_INTERVAL = 0.2

#: How far the probe AUC moved from one pretraining seed to the next (contrastive encoders, real
#: tables and series): a gain whose interval starts below this may not survive another seed.
SEED_SPREAD = 0.02

#: Methods trained end to end from the proxy model, besides the ``proxyml`` / ``proxyml:*`` /
#: ``proxyml+*`` families.
_PROXYML_EXTRA = frozenset({"finetune", "multitask"})


def is_proxyml_method(name: str) -> bool:
    """True for the methods proxyml itself contributes; every other probed method is a baseline.

    ``proxyml``, ``proxyml:<task>`` (one per pretext task, ``proxyml:combined``),
    ``proxyml+<baseline>`` (proxy features stacked on a baseline's), ``finetune``, ``multitask``.

    Example:
        >>> [is_proxyml_method(m) for m in ("proxyml:blur", "proxyml+timeseries.minirocket",
        ...                                 "random_init", "scratch")]
        [True, True, False, False]
    """
    name = str(name)
    return (name == "proxyml" or name.startswith(("proxyml:", "proxyml+"))
            or name in _PROXYML_EXTRA)


def _number(value: Any) -> float | None:
    """A finite float, or ``None`` for anything else (missing, null, NaN, text)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _interval(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    low, high = _number(value[0]), _number(value[1])
    return None if low is None or high is None else (low, high)


def _aucs(entry: dict[str, Any]) -> np.ndarray | None:
    values = entry.get("aucs")
    if not isinstance(values, (list, tuple)) or not values:
        return None
    numbers = [_number(v) for v in values]
    if any(v is None for v in numbers):
        return None
    return np.asarray(numbers, dtype=float)


def _budget_phrase(budget: str) -> str:
    """``"20 labels"``, ``"all labels"``, ``"budget x"``."""
    return f"{budget} labels" if budget.isdigit() or budget == "all" else f"budget {budget}"


def _budgets_phrase(budgets: list[str]) -> str:
    """``"10, 20 and all labels"``: several budgets in one phrase."""
    plain = [b for b in budgets if b.isdigit() or b == "all"]
    other = [_budget_phrase(b) for b in budgets if b not in plain]
    parts = ([f"{plain[0]} labels"] if len(plain) == 1 else
             [f"{', '.join(plain[:-1])} and {plain[-1]} labels"] if plain else [])
    return ", ".join(parts + other)


def _level(confidence: float) -> str:
    return f"{confidence * 100:g}%"


def _ci_text(ci: tuple[float, float] | list[Any] | None) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "no interval"
    return f"{ci[0]:+.3f} to {ci[1]:+.3f}"


def _probe_budgets(probes: dict[str, Any]) -> list[str]:
    """Every budget any method was probed at, in the report's order."""
    budgets: list[str] = []
    for per_budget in probes.values():
        if isinstance(per_budget, dict):
            budgets += [str(b) for b in per_budget if str(b) not in budgets]
    return budgets


def _pair(proxy: np.ndarray, base: np.ndarray, seeds: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Align the per-draw AUCs of two methods; ``None`` if they cannot be paired.

    Equal lengths pair draw by draw. With ``seeds = K`` a method trained K times may hold K x R
    AUCs, seed-major (seed 0's R draws, then seed 1's, ...), against the other's R: the shorter
    array is repeated K times, so that each (seed, draw) is paired with the same draw.
    """
    if proxy.size == base.size:
        return proxy, base
    if seeds > 1 and proxy.size == seeds * base.size:
        return proxy, np.tile(base, seeds)
    if seeds > 1 and base.size == seeds * proxy.size:
        return np.tile(proxy, seeds), base
    return None


MIN_TEST_SAMPLES = 10
"""A budget whose draws test on fewer labelled samples names no winner."""


def _budget_verdict(budget: str, probes: dict[str, Any], confidence: float, seeds: int,
                    notes: list[str]) -> dict[str, Any] | None:
    candidates: dict[str, tuple[float, dict[str, Any]]] = {}
    for method, per_budget in probes.items():
        entry = per_budget.get(budget) if isinstance(per_budget, dict) else None
        if isinstance(entry, dict) and _number(entry.get("auc_mean")) is not None:
            candidates[str(method)] = (float(entry["auc_mean"]), entry)
    if not candidates:
        return None
    proxy_methods = [m for m in candidates if is_proxyml_method(m)]
    baselines = [m for m in candidates if not is_proxyml_method(m)]

    def best_of(names: list[str]) -> str | None:
        # ties go to the earlier method in the report's order
        return max(names, key=lambda m: candidates[m][0]) if names else None

    best_proxy, best_base = best_of(proxy_methods), best_of(baselines)
    # on a tie overall, name the baseline: it is the cheaper one
    best = max(candidates, key=lambda m: (candidates[m][0], not is_proxyml_method(m)))
    first = candidates[best][1]
    result: dict[str, Any] = {
        "n_train": first.get("n_train") if isinstance(first.get("n_train"), int) else None,
        "best": best,
        "best_auc": candidates[best][0],
        "best_proxyml": best_proxy,
        "best_proxyml_auc": candidates[best_proxy][0] if best_proxy else None,
        "best_baseline": best_base,
        "best_baseline_auc": candidates[best_base][0] if best_base else None,
        "proxyml_methods": proxy_methods,
        "baselines": baselines,
        "difference": None,
        "proxyml_wins": False,
        "baseline_wins": False,
        "outcome": "not compared",
        "note": None,
    }
    if best_proxy is None or best_base is None:
        return result
    proxy_aucs, base_aucs = _aucs(candidates[best_proxy][1]), _aucs(candidates[best_base][1])
    if proxy_aucs is None or base_aucs is None:
        notes.append(f"budget {budget}: no per-draw AUCs for {best_proxy} or {best_base}; "
                     f"their difference cannot be paired")
        return result
    paired = _pair(proxy_aucs, base_aucs, seeds)
    if paired is None:
        notes.append(f"budget {budget}: {best_proxy} has {proxy_aucs.size} draws and {best_base} "
                     f"{base_aucs.size}; they are not the same draws, so no paired difference")
        return result
    difference = _paired_difference(paired[0], paired[1], confidence)
    ci = _interval(difference["ci"])
    result["difference"] = difference
    tested = _number(first.get("n_test_mean"))
    if tested is not None and tested < MIN_TEST_SAMPLES:
        # a few held-out samples give each draw an AUC of a handful of values; the draws share them, so
        # their t-interval says little: name no winner (measured: +0.300 "won" on random labels, 3 tested)
        result["outcome"] = "too few tested"
        result["note"] = (f"only {tested:g} labelled samples are left to test each draw on at this budget, "
                          f"fewer than {MIN_TEST_SAMPLES}: no winner is named from so few")
        return result
    result["proxyml_wins"] = bool(ci is not None and ci[0] > 0)
    result["baseline_wins"] = bool(ci is not None and ci[1] < 0)
    result["outcome"] = ("proxyml" if result["proxyml_wins"] else
                         "baseline" if result["baseline_wins"] else "undecided")
    chosen = [f"the best of {len(names)} {kind}" for names, kind in
              ((proxy_methods, "proxyml methods"), (baselines, "baselines")) if len(names) > 1]
    if chosen:
        result["note"] = (f"{' and '.join(chosen)} {'were' if len(chosen) > 1 else 'was'} chosen on "
                          f"these same draws, so the interval of their difference is optimistic")
    return result


def _direction(score: dict[str, Any]) -> str:
    ci = _interval(score.get("ci"))
    if ci is not None:
        return "positive" if ci[0] > 0.5 else "inverse" if ci[1] < 0.5 else "unclear"
    direction = score.get("direction")
    return direction if direction in {"positive", "inverse"} else "unclear"


def _score_numbers(score: dict[str, Any], confidence: float | None = None) -> str:
    auc, ci = _number(score.get("auc")), _interval(score.get("ci"))
    level = _number(score.get("confidence")) or confidence
    text = f"AUC {auc:.3f}" if auc is not None else "AUC n/a"
    if ci is not None:
        text += f", {_level(level) + ' ' if level else ''}CI {ci[0]:.3f} to {ci[1]:.3f}"
    return text


def _proxy_sentence(score: dict[str, Any], untrained: dict[str, Any]) -> str:
    """One sentence: does this proxy score alone predict the target, and is it due to training?"""
    direction = _direction(score)
    numbers = _score_numbers(score)
    if direction == "positive":
        sentence = f"the proxy score alone predicts the target ({numbers}, above 0.5)"
    elif direction == "inverse":
        sentence = (f"the proxy score alone predicts the target in reverse ({numbers}, below 0.5): "
                    f"low scores go with the positive class")
    else:
        sentence = f"the proxy score alone is not shown to predict the target ({numbers} includes 0.5)"
    clauses = []
    for name, other in untrained.items():
        if not isinstance(other, dict):
            continue
        other_direction, other_numbers = _direction(other), _score_numbers(other)
        if direction == "unclear":
            if other_direction != "unclear":
                clauses.append(f"the untrained ({name}) model's score does ({other_numbers}), so "
                               f"training did not add a signal to it")
            continue
        if other_direction == direction:
            ci, other_auc = _interval(score.get("ci")), _number(other.get("auc"))
            beyond = ci is not None and other_auc is not None and (
                ci[0] > other_auc if direction == "positive" else ci[1] < other_auc)
            if beyond:
                clauses.append(f"so does the untrained ({name}) model's score, less strongly "
                               f"({other_numbers}): training strengthened the signal")
            else:
                clauses.append(f"but so does the untrained ({name}) model's score "
                               f"({other_numbers}): the signal is not due to training")
        elif other_direction == "unclear":
            clauses.append(f"the untrained ({name}) model's score does not ({other_numbers}): "
                           f"training made the signal")
        else:
            clauses.append(f"the untrained ({name}) model's score works the other way "
                           f"({other_numbers})")
    return "; ".join([sentence, *clauses])


def _proxy_scores(report: dict[str, Any]) -> tuple[str | None, dict[str, str] | None]:
    """The proxy-score sentence, and one per task for a multi-task report."""
    single = report.get("proxy_score")
    if isinstance(single, dict) and single:
        untrained = report.get("proxy_score_baselines")
        return _proxy_sentence(single, untrained if isinstance(untrained, dict) else {}), None
    multi = report.get("proxy_scores")
    if not isinstance(multi, dict) or not multi:
        return None, None
    all_untrained = report.get("proxy_scores_baselines")
    all_untrained = all_untrained if isinstance(all_untrained, dict) else {}
    sentences: dict[str, str] = {}
    for key, score in multi.items():
        if isinstance(score, dict) and score:
            untrained = all_untrained.get(key)
            sentences[str(key)] = _proxy_sentence(score, untrained if isinstance(untrained, dict) else {})
    if not sentences:
        return None, None
    return "; ".join(f"{key}: {text}" for key, text in sentences.items()), sentences


def _proxy_model_lead(report: dict[str, Any], budgets: dict[str, dict[str, Any]], confidence: float) -> str | None:
    """The proxy-model use mode first, when it earns it: a trained proxy score whose interval
    excludes 0.5 and whose AUC (read the way it predicts) is at least the best probe's at the
    smallest budget, and above the untrained model's score of the same task. ``None`` otherwise."""
    single, multi = report.get("proxy_score"), report.get("proxy_scores")
    scores = [("", single)] if isinstance(single, dict) and single else \
        [(str(k), v) for k, v in (multi.items() if isinstance(multi, dict) else []) if isinstance(v, dict)]
    untrained_all = report.get("proxy_score_baselines") if scores and scores[0][0] == "" else None
    candidates = []
    for key, score in scores:
        auc, ci = _finite(score.get("auc")), score.get("ci")
        if auc is None or not isinstance(ci, (list, tuple)) or len(ci) != 2 or None in ci:
            continue
        low, high = float(ci[0]), float(ci[1])
        if low > 0.5:
            effective, interval, reversed_ = auc, (low, high), False
        elif high < 0.5:
            effective, interval, reversed_ = 1 - auc, (1 - high, 1 - low), True
        else:
            continue
        if untrained_all is None:
            untrained_all = (report.get("proxy_scores_baselines") or {}).get(key)
        untrained = (untrained_all or {}).get("random_init") if isinstance(untrained_all, dict) else None
        other = _finite((untrained or {}).get("auc")) if isinstance(untrained, dict) else None
        if other is not None and max(other, 1 - other) >= effective:
            continue  # an untrained model's score does as well: the pretext training is not what works
        candidates.append((effective, key, interval, reversed_))
    if not candidates or not budgets:
        return None
    effective, key, interval, reversed_ = max(candidates)
    by_size = sorted((b for b in budgets if budgets[b]["outcome"] != "too few tested"),
                     key=lambda b: (budgets[b]["n_train"] is None, budgets[b]["n_train"] or 0))
    if not by_size:
        return None
    beaten = 0  # the smallest budgets, in order, at which no method trained on labels beats the score
    while beaten < len(by_size) and budgets[by_size[beaten]]["best_auc"] is not None \
            and effective >= budgets[by_size[beaten]]["best_auc"]:
        beaten += 1
    if not beaten:
        return None
    reach = by_size[beaten - 1]
    top = max(by_size[: by_size.index(reach) + 1], key=lambda b: budgets[b]["best_auc"])
    name = f"the proxy score of {key}" if key else "the proxy score"
    how = " read in reverse (low scores go with the positive class)" if reversed_ else ""
    upto = "every label budget" if reach == by_size[-1] else f"up to {_budget_phrase(reach)}"
    return (f"use {name} as the prediction (the proxy-model use): with no labels it reaches AUC {effective:.3f}"
            f"{how} ({_level(confidence)} interval {interval[0]:.3f} to {interval[1]:.3f}), as good as or better "
            f"than every method trained on the labels at {upto}, comparing point estimates (the best: {budgets[top]['best']}, "
            f"AUC {budgets[top]['best_auc']:.3f} at {_budget_phrase(top)})")


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and np.isfinite(value) else None


def _seeds_sentence(seeds: int, budgets: dict[str, dict[str, Any]]) -> str:
    if seeds > 1:
        return (f"The intervals include the variance from {seeds} pretraining seeds "
                f"(evaluate.seeds = {seeds}).")
    means = [abs(b["difference"]["mean"]) for b in budgets.values() if b["difference"]]
    size = ("as large as the differences here" if not means or min(means) <= 2 * SEED_SPREAD
            else "smaller than the differences here, but not zero")
    return (f"The intervals do not include the variance from the pretraining seed "
            f"(evaluate.seeds = 1): from one seed to the next the probe AUC moves by about "
            f"±{SEED_SPREAD:g}, {size}; set evaluate.seeds to 3 or more to include it.")


def _recommend(budgets: dict[str, dict[str, Any]], proxy_statement: str | None, confidence: float,
               seeds: int) -> str:
    level = _level(confidence)
    if not budgets:
        if proxy_statement is None:
            return "nothing to decide: the report has neither few-label probes nor a proxy score"
        return ("no few-label probes in this report, so no comparison with a baseline: judge by the "
                "proxy score alone (below)")
    by_size = sorted(budgets, key=lambda b: (budgets[b]["n_train"] is None, budgets[b]["n_train"] or 0))
    compared = [b for b in by_size if budgets[b]["difference"] is not None]
    phrase = {b: _budget_phrase(b) for b in budgets}
    if not compared:
        if not any(budgets[b]["baselines"] for b in by_size):
            first, last = by_size[0], by_size[-1]
            reach = f"AUC {budgets[first]['best_auc']:.3f} at {phrase[first]}"
            if last != first:
                reach += f" and {budgets[last]['best_auc']:.3f} at {phrase[last]}"
            return (f"no baseline was probed, so this report cannot say whether the proxy is worth "
                    f"it: {budgets[first]['best']} reaches {reach}; compare with a baseline first")
        if not any(budgets[b]["proxyml_methods"] for b in by_size):
            return (f"no proxyml method was probed: only baselines, the best being "
                    f"{budgets[by_size[0]]['best']} at {phrase[by_size[0]]}")
        return "no budget has paired draws of a proxyml method and a baseline: no comparison"
    few = [b for b in compared if budgets[b]["outcome"] == "too few tested"]
    compared = [b for b in compared if b not in few]
    if not compared:
        return (f"collect more labels: at {_budgets_phrase(few)} fewer than {MIN_TEST_SAMPLES} labelled samples "
                "are left to test on, too few to tell proxyml from the baseline")
    wins = [b for b in compared if budgets[b]["proxyml_wins"]]
    losses = [b for b in compared if budgets[b]["baseline_wins"]]
    no_interval = [b for b in compared if _interval(budgets[b]["difference"]["ci"]) is None]
    wide = [b for b in compared if b not in no_interval
            and np.diff(budgets[b]["difference"]["ci"])[0] > WIDE_INTERVAL]
    if wins:
        b = wins[0]
        v = budgets[b]
        d = v["difference"]
        text = (f"the proxy adds {d['mean']:+.3f} AUC at {phrase[b]}: {v['best_proxyml']} over "
                f"{v['best_baseline']} ({level} interval {_ci_text(d['ci'])})")
        if len(wins) > 1:
            text += f"; it also wins at {_budgets_phrase(wins[1:])}"
        if losses:
            text += "; but " + ", ".join(f"{budgets[w]['best_baseline']} is better at {phrase[w]}"
                                         for w in losses)
        if seeds == 1 and d["ci"][0] < SEED_SPREAD:
            text += (f"; with one pretraining seed a gain whose interval starts below "
                     f"{SEED_SPREAD:g} may not survive another seed")
        return text
    if len(no_interval) == len(compared):
        return ("no interval: each budget has a single draw; set evaluate.repeats to 5 or more "
                "before deciding")
    if not losses and (wide or no_interval):
        b = next(b for b in compared if b in wide or b in no_interval)
        v = budgets[b]
        spread = ("has no interval (a single draw)" if b in no_interval else
                  f"runs {_ci_text(v['difference']['ci'])}, too wide to tell")
        return (f"collect more labels: no budget shows a difference between proxyml and the "
                f"baseline, and at {phrase[b]} the {level} interval of {v['best_proxyml']} − "
                f"{v['best_baseline']} {spread}")
    names = sorted({budgets[b]["best_baseline"] for b in compared})
    ties = [b for b in compared if not budgets[b]["baseline_wins"]]
    details = []
    if len(names) == 1:
        who = names[0]
        if losses:
            details.append(f"better at {_budgets_phrase(losses)}")
    else:
        who = "the best baseline"
        details += [f"{budgets[b]['best_baseline']} better at {phrase[b]}" for b in losses]
    if ties:
        details.append(f"no difference shown at {_budgets_phrase(ties)}")
    text = f"use the baseline: {who} is as good or better at every budget ({'; '.join(details)})"
    if wide:
        text += (f"; at {phrase[wide[0]]} the interval is wide "
                 f"({_ci_text(budgets[wide[0]]['difference']['ci'])})")
    return text


def build_verdict(report: dict[str, Any], *, confidence: float = 0.95, seeds: int = 1) -> dict[str, Any]:
    """The verdict of a report: best method per budget, proxyml vs baseline, a recommendation.

    Args:
        report: a report dict as written to ``report.json`` (``probes.<method>.<budget>`` with
            ``auc_mean``, ``n_train`` and per-draw ``aucs`` on the same draws for every method;
            ``proxy_score`` + ``proxy_score_baselines``, or for several tasks ``proxy_scores``
            + ``proxy_scores_baselines``). Missing parts are left out, never an error.
        confidence: coverage of the paired difference interval.
        seeds: how many times the proxy was pretrained (``evaluate.seeds``). With K > 1 a
            proxyml method may hold K x R per-draw AUCs, seed-major, against a baseline's R: each
            (seed, draw) is paired with the same draw of the baseline.

    Methods named ``proxyml``, ``proxyml:*``, ``proxyml+*``, ``finetune`` or ``multitask`` are
    proxyml's; every other method is a baseline. Per budget the best proxyml method and the best
    baseline (by ``auc_mean``) are compared on the same draws with the t-interval of the mean
    paired difference (:func:`~proxyml.evaluation.probes._paired_difference`): proxyml wins if the
    interval lies above 0, the baseline if it lies below. Choosing the best of several methods on
    the same draws and then testing it is optimistic; the budget's ``note`` says so.

    Recommendation rules, in this order:

    1. no probes: say so and refer to the proxy-score sentence;
    2. no baseline (or no proxyml method) probed: say that nothing can be compared, with the
       best AUC reached;
    3. proxyml wins at some budget: "the proxy adds +d AUC at <smallest such budget>: <method>
       over <baseline> (95% interval lo to hi)", plus the other budgets it wins at, those the
       baseline wins at, and (``seeds == 1`` and the interval starts below
       :data:`SEED_SPREAD`) that such a gain may not survive another pretraining seed;
    4. a single draw per budget (no interval anywhere): raise ``evaluate.repeats``;
    5. nothing decided at any budget and an interval wider than :data:`WIDE_INTERVAL` (or
       missing): "collect more labels: ...", naming the smallest such budget and its interval;
    6. otherwise: "use the baseline: <name> is as good or better at every budget (...)".

    Returns:
        ``{"budgets": {budget: {"n_train", "best", "best_auc", "best_proxyml",
        "best_proxyml_auc", "best_baseline", "best_baseline_auc", "proxyml_methods",
        "baselines", "difference" ({"mean", "ci", "win_rate", "tie_rate", "n_draws"} of best
        proxyml - best baseline, or None), "proxyml_wins", "baseline_wins", "outcome"
        ("proxyml", "baseline", "undecided", "not compared" or "too few tested": fewer than
        :data:`MIN_TEST_SAMPLES` labelled samples left to test each draw on), "note"}}, "recommendation",
        "proxy_model" (the proxy-model sentence that leads the recommendation when a trained
        proxy score, with no labels, is at least as good as every method trained on the
        smallest budgets and better than the untrained model's score; else None),
        "proxy_score" (sentence or None), "proxy_scores" ({task: sentence}, multi-task reports
        only), "seeds", "seeds_statement", "confidence", "notes"}``; JSON-able.

    Example:
        >>> report = {"probes": {
        ...     "proxyml": {"20": {"auc_mean": 0.9, "n_train": 20, "aucs": [0.9, 0.91, 0.89]}},
        ...     "scratch": {"20": {"auc_mean": 0.8, "n_train": 20, "aucs": [0.8, 0.82, 0.78]}}}}
        >>> verdict = build_verdict(report)
        >>> verdict["budgets"]["20"]["proxyml_wins"], verdict["recommendation"][:35]
        (True, 'the proxy adds +0.100 AUC at 20 lab')
    """
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1; got {confidence!r}")
    if int(seeds) < 1:
        raise ValueError(f"seeds must be at least 1; got {seeds!r}")
    confidence, seeds = float(confidence), int(seeds)
    report = report if isinstance(report, dict) else {}
    notes: list[str] = []
    probes = report.get("probes")
    probes = probes if isinstance(probes, dict) else {}
    budgets: dict[str, dict[str, Any]] = {}
    for budget in _probe_budgets(probes):
        verdict = _budget_verdict(budget, probes, confidence, seeds, notes)
        if verdict is not None:
            budgets[budget] = verdict
    if not budgets:
        notes.append("the report has no few-label probes")
    elif not any(v["baselines"] for v in budgets.values()):
        notes.append("no baseline was probed: the proxy cannot be compared with anything")
    elif not any(v["proxyml_methods"] for v in budgets.values()):
        notes.append("no proxyml method was probed")
    if any(v["difference"] for v in budgets.values()):
        notes.append(f"intervals are {_level(confidence)} t-intervals of the mean paired difference "
                     f"over the draws; the draws share the labelled samples, so they are not "
                     f"independent and the intervals lean optimistic")
    selected = sorted({v["note"] for v in budgets.values() if v["note"]})
    notes += selected
    proxy_statement, per_task = _proxy_scores(report)
    if proxy_statement is None:
        notes.append("the report has no proxy score")
    recommendation = _recommend(budgets, proxy_statement, confidence, seeds)
    lead = _proxy_model_lead(report, budgets, confidence)
    if lead is not None:
        recommendation = f"{lead}. As features: {recommendation}"
    verdict_out: dict[str, Any] = {
        "budgets": budgets,
        "recommendation": recommendation,
        "proxy_model": lead,
        "proxy_score": proxy_statement,
        "seeds": seeds,
        "seeds_statement": _seeds_sentence(seeds, budgets),
        "confidence": confidence,
        "notes": notes,
    }
    if per_task is not None:
        verdict_out["proxy_scores"] = per_task
    return verdict_out
