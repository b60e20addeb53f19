"""The verdict: best method per budget, proxyml's best vs the best baseline, one recommendation."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from proxyml.cli import _summarise
from proxyml.evaluation import (
    budget_draws,
    build_verdict,
    evaluate_probes,
    is_proxyml_method,
    probe_report_sections,
    render_html,
)
from proxyml.evaluation.probes import _paired_difference

N_TRAIN = {"10": 10, "20": 20, "50": 50, "all": 160}


def entry(aucs: list[float] | np.ndarray, budget: str) -> dict[str, Any]:
    aucs = [float(a) for a in aucs]
    return {"auc_mean": float(np.mean(aucs)), "auc_std": float(np.std(aucs, ddof=1)) if len(aucs) > 1 else 0.0,
            "auc_interval": [min(aucs), max(aucs)], "n_train": N_TRAIN[budget],
            "n_test_mean": 100.0, "aucs": aucs}


def probes(levels: dict[str, dict[str, float]], noise: dict[str, float] | None = None,
           repeats: int = 8, seed: int = 0) -> dict[str, Any]:
    """``{method: {budget: mean AUC}}`` -> probes with per-draw AUCs on shared draws."""
    rng = np.random.default_rng(seed)
    budgets = sorted({b for per in levels.values() for b in per}, key=lambda b: N_TRAIN[b])
    shared = {b: rng.normal(0, 0.01, repeats) for b in budgets}  # draw effects every method shares
    out: dict[str, Any] = {}
    for method, per in levels.items():
        out[method] = {}
        for b in budgets:
            own = rng.normal(0, (noise or {}).get(b, 0.005), repeats)
            out[method][b] = entry(per[b] + shared[b] + own, b)
    return out


def score(auc: float, low: float, high: float) -> dict[str, Any]:
    direction = "positive" if low > 0.5 else "inverse" if high < 0.5 else "unclear"
    return {"auc": auc, "ci": [low, high], "p_value": 0.01, "n": 100, "n_positive": 50,
            "n_negative": 50, "confidence": 0.95, "n_bootstrap": 200, "n_permutations": 200,
            "direction": direction, "statement": f"AUC = {auc:.3f}", "roc": {"fpr": [0, 1], "tpr": [0, 1]}}


def test_method_families() -> None:
    assert all(map(is_proxyml_method, ["proxyml", "proxyml:blur", "proxyml:combined",
                                       "proxyml+timeseries.minirocket", "finetune", "multitask"]))
    assert not any(map(is_proxyml_method, ["random_init", "timeseries.minirocket", "scratch",
                                           "proxymlish", "my_proxyml"]))


def test_proxyml_clearly_wins() -> None:
    report = {"probes": probes({
        "proxyml:blur": {"10": 0.90, "20": 0.93},
        "proxyml": {"10": 0.85, "20": 0.90},
        "random_init": {"10": 0.70, "20": 0.72},
        "timeseries.minirocket": {"10": 0.80, "20": 0.88},
    })}
    verdict = build_verdict(report)
    v10 = verdict["budgets"]["10"]
    assert v10["best"] == v10["best_proxyml"] == "proxyml:blur"
    assert v10["best_baseline"] == "timeseries.minirocket"
    assert v10["proxyml_wins"] and not v10["baseline_wins"] and v10["outcome"] == "proxyml"
    expected = _paired_difference(np.array(report["probes"]["proxyml:blur"]["10"]["aucs"]),
                                  np.array(report["probes"]["timeseries.minirocket"]["10"]["aucs"]), 0.95)
    assert v10["difference"] == expected
    assert v10["difference"]["ci"][0] > 0
    assert "best of 2 proxyml methods and the best of 2 baselines" in v10["note"]
    text = verdict["recommendation"]
    assert text.startswith(f"the proxy adds {expected['mean']:+.3f} AUC at 10 labels")
    assert "proxyml:blur over timeseries.minirocket" in text
    assert f"{expected['ci'][0]:+.3f} to {expected['ci'][1]:+.3f}" in text
    assert "also wins at 20 labels" in text
    assert any("optimistic" in n for n in verdict["notes"])
    json.dumps(verdict, allow_nan=False)


def test_a_small_win_with_one_seed_carries_the_seed_caveat() -> None:
    base = np.linspace(0.80, 0.86, 8)
    report = {"probes": {"proxyml": {"10": entry(base + 0.012 + np.linspace(-0.001, 0.001, 8), "10")},
                         "scratch": {"10": entry(base, "10")}}}
    one = build_verdict(report)
    assert one["budgets"]["10"]["proxyml_wins"]
    assert "may not survive another seed" in one["recommendation"]
    assert "evaluate.seeds = 1" in one["seeds_statement"]
    assert "do not include" in one["seeds_statement"]


def test_baseline_clearly_wins() -> None:
    report = {"probes": probes({
        "proxyml": {"10": 0.80, "20": 0.85},
        "timeseries.minirocket": {"10": 0.95, "20": 0.97},
    })}
    verdict = build_verdict(report)
    for budget in ("10", "20"):
        v = verdict["budgets"][budget]
        assert v["best"] == v["best_baseline"] == "timeseries.minirocket"
        assert v["baseline_wins"] and not v["proxyml_wins"] and v["outcome"] == "baseline"
        assert v["difference"]["ci"][1] < 0 and v["note"] is None
    assert verdict["recommendation"] == (
        "use the baseline: timeseries.minirocket is as good or better at every budget "
        "(better at 10 and 20 labels)")


def test_tie_with_wide_intervals_asks_for_more_labels() -> None:
    report = {"probes": probes({"proxyml": {"10": 0.75, "20": 0.80}, "scratch": {"10": 0.75, "20": 0.80}},
                               noise={"10": 0.15, "20": 0.01}, repeats=6, seed=3)}
    verdict = build_verdict(report)
    v10 = verdict["budgets"]["10"]
    assert not v10["proxyml_wins"] and not v10["baseline_wins"] and v10["outcome"] == "undecided"
    low, high = v10["difference"]["ci"]
    assert high - low > 0.2
    text = verdict["recommendation"]
    assert text.startswith("collect more labels")
    assert "at 10 labels" in text and f"{low:+.3f} to {high:+.3f}" in text


def test_tie_with_narrow_intervals_is_use_the_baseline() -> None:
    aucs = np.linspace(0.85, 0.9, 8)
    report = {"probes": {"proxyml": {"20": entry(aucs, "20")}, "random_init": {"20": entry(aucs, "20")}}}
    verdict = build_verdict(report)
    v = verdict["budgets"]["20"]
    assert v["difference"]["ci"] == [0.0, 0.0] and v["difference"]["tie_rate"] == 1.0
    assert v["best"] == "random_init"  # on a tie the cheaper baseline is named
    assert not v["proxyml_wins"] and not v["baseline_wins"]
    assert verdict["recommendation"].startswith("use the baseline: random_init is as good or better")
    assert "no difference shown at 20 labels" in verdict["recommendation"]


def test_single_draw_has_no_interval() -> None:
    report = {"probes": {"proxyml": {"10": entry([0.9], "10")}, "scratch": {"10": entry([0.7], "10")}}}
    verdict = build_verdict(report)
    assert verdict["budgets"]["10"]["difference"]["ci"] == [None, None]
    assert not verdict["budgets"]["10"]["proxyml_wins"]
    assert "evaluate.repeats" in verdict["recommendation"]


def test_no_baseline_and_no_probes_never_crash() -> None:
    only = {"probes": probes({"proxyml": {"10": 0.8, "all": 0.9}}),
            "proxy_score": score(0.7, 0.6, 0.8)}
    verdict = build_verdict(only)
    v = verdict["budgets"]["10"]
    assert v["best"] == "proxyml" and v["best_baseline"] is None and v["difference"] is None
    assert v["outcome"] == "not compared" and not v["proxyml_wins"]
    assert verdict["recommendation"].startswith("no baseline was probed")
    assert "at 10 labels" in verdict["recommendation"] and "at all labels" in verdict["recommendation"]
    assert verdict["proxy_score"].startswith("the proxy score alone predicts the target")

    for report in ({}, {"probes": {}}, {"probes": {"proxyml": {}}}, {"probes": None, "proxy_score": None}):
        empty = build_verdict(report)
        assert empty["budgets"] == {} and empty["proxy_score"] is None
        assert empty["recommendation"].startswith("nothing to decide")
        json.dumps(empty, allow_nan=False)
    scored = build_verdict({"proxy_score": score(0.5, 0.4, 0.6)})
    assert "no few-label probes" in scored["recommendation"]
    assert "not shown to predict" in scored["proxy_score"]


def test_broken_entries_are_skipped_not_fatal() -> None:
    report = {"probes": {"proxyml": {"10": {"auc_mean": None, "aucs": [None]}, "20": entry([0.8, 0.9], "20")},
                         "scratch": {"10": entry([0.7, 0.8], "10"), "20": {"auc_mean": 0.7}}}}
    verdict = build_verdict(report)
    assert verdict["budgets"]["10"]["best_proxyml"] is None
    assert verdict["budgets"]["20"]["difference"] is None
    assert any("per-draw AUCs" in n for n in verdict["notes"])
    json.dumps(verdict, allow_nan=False)


def test_draws_that_do_not_match_are_not_paired_unless_seeds_explain_them() -> None:
    base = np.linspace(0.7, 0.8, 4)
    per_seed = np.r_[base + 0.10, base + 0.12, base + 0.08]  # 3 seeds x 4 draws, seed-major
    report = {"probes": {"proxyml": {"10": entry(per_seed, "10")}, "scratch": {"10": entry(base, "10")}}}
    unpaired = build_verdict(report)
    assert unpaired["budgets"]["10"]["difference"] is None
    assert any("not the same draws" in n for n in unpaired["notes"])
    three = build_verdict(report, seeds=3)
    d = three["budgets"]["10"]["difference"]
    assert d["n_draws"] == 12 and d["mean"] == pytest.approx(0.10)
    assert three["budgets"]["10"]["proxyml_wins"]
    assert three["seeds"] == 3 and "include the variance from 3 pretraining seeds" in three["seeds_statement"]
    with pytest.raises(ValueError):
        build_verdict(report, seeds=0)
    with pytest.raises(ValueError):
        build_verdict(report, confidence=1.0)


def test_proxy_score_sentence_and_training() -> None:
    made = build_verdict({"proxy_score": score(0.7, 0.62, 0.78),
                          "proxy_score_baselines": {"random_init": score(0.52, 0.43, 0.6)}})
    assert "predicts the target" in made["proxy_score"] and "training made the signal" in made["proxy_score"]
    inherited = build_verdict({"proxy_score": score(0.405, 0.328, 0.484),
                               "proxy_score_baselines": {"random_init": score(0.371, 0.297, 0.449)}})
    assert "in reverse" in inherited["proxy_score"]
    assert "the signal is not due to training" in inherited["proxy_score"]
    assert "0.405" in inherited["proxy_score"] and "0.371" in inherited["proxy_score"]
    stronger = build_verdict({"proxy_score": score(0.9, 0.85, 0.95),
                              "proxy_score_baselines": {"random_init": score(0.62, 0.53, 0.7)}})
    assert "training strengthened the signal" in stronger["proxy_score"]


def test_multi_task_proxy_scores() -> None:
    report = {
        "proxy_scores": {"blur": score(0.7, 0.6, 0.8), "shuffle": score(0.5, 0.41, 0.59)},
        "proxy_scores_baselines": {"blur": {"random_init": score(0.68, 0.58, 0.78)}},
    }
    verdict = build_verdict(report)
    assert set(verdict["proxy_scores"]) == {"blur", "shuffle"}
    assert "not due to training" in verdict["proxy_scores"]["blur"]
    assert "not shown to predict" in verdict["proxy_scores"]["shuffle"]
    assert verdict["proxy_score"].startswith("blur: the proxy score alone predicts")
    assert "shuffle: " in verdict["proxy_score"]
    assert "proxy_scores" not in build_verdict({"proxy_score": score(0.7, 0.6, 0.8)})


def test_on_evaluate_probes_output() -> None:
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(40, dtype=int), np.ones(40, dtype=int)]
    features = {"proxyml": y[:, None] + rng.normal(0, 0.3, (80, 3)),
                "random_init": rng.normal(size=(80, 3))}
    draws = budget_draws(y, ["10", "all"], repeats=5, seed=0)
    report = probe_report_sections(evaluate_probes(features, y, draws))
    verdict = build_verdict(report)
    assert verdict["budgets"]["10"]["best"] == "proxyml"
    assert verdict["budgets"]["10"]["proxyml_wins"]
    assert verdict["budgets"]["10"]["difference"] == report["differences"]["random_init"]["10"]
    assert verdict["recommendation"].startswith("the proxy adds")


def clear_win_report() -> dict[str, Any]:
    report: dict[str, Any] = {
        "name": "demo", "task": "timeseries.segment_order",
        "proxy_score": score(0.7, 0.6, 0.8),
        "probes": probes({"proxyml": {"10": 0.9, "20": 0.92}, "<b>base</b>": {"10": 0.8, "20": 0.9}}),
    }
    report["verdict"] = build_verdict(report)
    return report


def test_html_opens_with_the_verdict() -> None:
    report = clear_win_report()
    page = render_html(report)
    start = page.index("<h2>Verdict</h2>")
    assert start < page.index("<h2>Summary</h2>") < page.index("Few-label probes")
    assert start > page.index("<h1>")
    section = page[start:page.index("<h2>Summary</h2>")]
    assert "<strong>the proxy adds" in section
    assert "proxyml wins" in section and "&lt;b&gt;base&lt;/b&gt;" in section and "<b>base" not in section
    assert "Proxy score: the proxy score alone predicts" in section
    assert "evaluate.seeds = 1" in section
    del report["verdict"]
    assert "<h2>Verdict</h2>" not in render_html(report)


def test_summarise_ends_with_the_verdict() -> None:
    report = clear_win_report()
    lines = _summarise(report).splitlines()
    budgets = report["verdict"]["budgets"]
    tail = lines[-(len(budgets) + 2):]
    assert tail[0] == f"verdict: {report['verdict']['recommendation']}"
    assert tail[1].startswith("  10: best proxyml; proxyml - <b>base</b> +0.")
    assert tail[1].endswith("proxyml wins")
    assert tail[2].startswith("  20: best proxyml")
    assert "evaluate.seeds = 1" in tail[-1]
    del report["verdict"]
    assert "verdict:" not in _summarise(report)


def test_a_budget_that_tests_on_too_few_samples_names_no_winner() -> None:
    """Measured on 14 random labels: 3 tested per draw, and the paired interval excluded 0."""
    report = {"probes": probes({"proxyml": {"20": 0.85, "all": 0.90}, "random_init": {"20": 0.60, "all": 0.60}})}
    for method in report["probes"].values():
        method["all"]["n_test_mean"] = 3.0
    verdict = build_verdict(report)
    assert verdict["budgets"]["20"]["proxyml_wins"]  # 100 tested: a win
    assert verdict["budgets"]["all"]["outcome"] == "too few tested"
    assert not verdict["budgets"]["all"]["proxyml_wins"] and verdict["budgets"]["all"]["difference"]["ci"][0] > 0
    assert "fewer than 10" in verdict["budgets"]["all"]["note"]
    for method in report["probes"].values():
        method["20"]["n_test_mean"] = 4.0
    assert build_verdict(report)["recommendation"].startswith("collect more labels: at 20 and all labels fewer than 10")


def test_the_proxy_model_lead_ignores_budgets_tested_on_too_few_samples() -> None:
    report = {"probes": probes({"proxyml": {"20": 0.60, "all": 0.62}, "random_init": {"20": 0.55, "all": 0.56}}),
              "proxy_score": score(0.80, 0.70, 0.90)}
    assert build_verdict(report)["proxy_model"].startswith("use the proxy score as the prediction")
    for method in report["probes"].values():
        for budget in ("20", "all"):
            method[budget]["n_test_mean"] = 3.0
    verdict = build_verdict(report)
    assert verdict["proxy_model"] is None and verdict["recommendation"].startswith("collect more labels")
