"""Write a run's report: ``report.json`` and a self-contained ``report.html``.

The HTML has no external assets: the figures (:mod:`proxyml.evaluation.figures`) are PNGs
embedded as ``data:`` URIs, so the file can be mailed or attached to a ticket as is. Every
string that comes from the user (names, ids, reasons, notes) is escaped.
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from proxyml.errors import LabelError
from proxyml.evaluation.figures import distribution_plot, efficiency_plot, roc_plot

#: How many skipped samples the HTML lists (all of them are in report.json).
MAX_SKIPPED_SHOWN = 100

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em}
th{background:#f3f3f3;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.statement{font-size:1.1em;padding:.6em 1em;border-left:4px solid #888;background:#fafafa}
.verdict{font-size:1.2em;border-color:#36c}.positive{border-color:#2a7}.inverse{border-color:#d80}.unclear{border-color:#999}
img{max-width:100%}figure{display:inline-block;margin:0 1em 1em 0}
"""


def _jsonable(value: Any) -> Any:
    """Plain JSON types only: numpy scalars/arrays unwrapped, NaN/inf become ``None``."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    return str(value)


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, (float, np.floating)):
        small_or_huge = value != 0 and not 10**-digits <= abs(value) < 1e6
        return f"{value:.{digits}g}" if small_or_huge else f"{value:.{digits}f}"
    return str(value)


def _table(headers: list[str] | None, rows: list[list[Any]]) -> str:
    head = "<tr>" + "".join(f"<th>{_esc(h)}</th>" for h in headers) + "</tr>" if headers else ""
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_esc(_fmt(c))}</td>'
            if isinstance(c, (int, float, np.number)) and not isinstance(c, bool)
            else f"<td>{_esc(_fmt(c))}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table>{head}{body}</table>"


def _summary_rows(report: dict[str, Any]) -> list[list[Any]]:
    data = report.get("data") or {}
    labels = report.get("labels") or {}
    rows: list[list[Any]] = [
        ["data source", data.get("source", "n/a")],
        ["samples", data.get("n_samples", "n/a")],
        ["skipped samples", len(report.get("skipped") or [])],
    ]
    for task in report.get("tasks") or []:
        rows.append([f"pretext task {task.get('key')}", f"{task.get('name')} {task.get('params') or ''}".strip()])
    if report.get("tasks_training"):
        rows.append(["tasks trained", "one shared encoder, a head per task" if report["tasks_training"] == "shared"
                     else "one encoder per task"])
    if report.get("encoder"):
        rows.append(["encoder", report["encoder"]])
    if labels:
        rows += [
            ["target", f"{labels.get('target', 'n/a')} (positive: {labels.get('positive', 'n/a')})"],
            ["labelled samples", labels.get("n_labelled", "n/a")],
            ["positive labels", labels.get("n_positive", "n/a")],
            ["label ids matching no sample", labels.get("n_unmatched", 0)],
        ]
        if labels.get("unmatched_examples"):
            rows.append(["e.g. unmatched ids", ", ".join(str(i) for i in labels["unmatched_examples"])])
    else:
        rows.append(["labels", "none given: no evaluation against a target"])
    return rows


def _proxy_section(proxy: dict[str, Any], meaning: str | None, plots: str,
                   baselines: dict[str, Any] | None = None, title: str = "Proxy score against the labels") -> str:
    level = f"{proxy['confidence'] * 100:g}%"
    rows = [
        ["ROC AUC", proxy["auc"]],
        [f"{level} bootstrap interval", f"{proxy['ci'][0]:.3f} to {proxy['ci'][1]:.3f}"],
        ["permutation p-value", f"{proxy['p_value']:.3g} ({proxy['n_permutations']} shuffles)"],
        ["labelled samples (positive)", f"{proxy['n']} ({proxy['n_positive']})"],
        ["direction", proxy["direction"]],
    ]
    for name, other in (baselines or {}).items():
        rows.append([f"{name} model's proxy score (untrained baseline)",
                     f"AUC {other['auc']:.3f}, interval {other['ci'][0]:.3f} to {other['ci'][1]:.3f}"])
    text = f"<p>A high proxy score means: {_esc(meaning)}.</p>" if meaning else ""
    return (
        f"<h2>{_esc(title)}</h2>{text}"
        f'<p class="statement {_esc(proxy["direction"])}">{_esc(proxy["statement"])}</p>'
        f"{_table(None, rows)}{plots}"
    )


def _probe_section(methods: dict[str, Any], differences: dict[str, Any], reference: str | None,
                   plot: str) -> str:
    budgets = list(next(iter(methods.values()), {}))
    if not budgets:
        return "<h2>Few-label probes</h2><p>No label budget fits these labels: no probes were run.</p>"
    first = next(iter(methods.values()))
    headers = ["method"] + [f"{b} (train {first[b]['n_train']})" for b in budgets]
    rows = [
        [m] + [f"{r[b]['auc_mean']:.3f} ± {r[b]['auc_std']:.3f}" for b in budgets] for m, r in methods.items()
    ]
    n_draws = len(first[budgets[0]]["aucs"])
    parts = [
        "<h2>Few-label probes</h2>",
        f"<p>Logistic regression on each method's features, {n_draws} stratified draws per "
        f"budget, the same draws for every method; ROC AUC on the held-out rest (mean ± std).</p>",
        plot,
        _table(headers, rows),
    ]
    if differences:
        diff_rows = [
            [
                other,
                b,
                d["mean"],
                f"{_fmt(d['ci'][0])} to {_fmt(d['ci'][1])}",
                f"{d['win_rate']:.0%}",
                f"{d.get('tie_rate', 0.0):.0%}",
                d["n_draws"],
            ]
            for other, per_budget in differences.items()
            for b, d in per_budget.items()
        ]
        parts += [
            f"<h3>Paired differences: {_esc(reference)} minus each other method</h3>",
            "<p>Positive means the reference is better on the same draws; the interval is a "
            "t-interval of the mean difference; win rate is the share of draws it wins, tie rate the "
            "share where both AUCs are equal.</p>",
            _table(["method", "budget", "mean AUC difference", "interval", "win rate", "tie rate", "draws"],
                   diff_rows),
        ]
    return "".join(parts)


def _supervised_section(supervised: dict[str, Any]) -> str:
    """Fine-tuning, training from scratch and multitask training on the first label draws."""
    methods = supervised.get("methods") or {}
    if not methods:
        return ""
    budgets = list(next(iter(methods.values())))
    rows = [[m] + [f"{r[b]['auc_mean']:.3f} ± {r[b]['auc_std']:.3f}" if b in r else "" for b in budgets]
            for m, r in methods.items()]
    diff_rows = [[method, other, b, d["mean"], f"{_fmt(d['ci'][0])} to {_fmt(d['ci'][1])}", f"{d['win_rate']:.0%}",
                  d["n_draws"]]
                 for method, against in (supervised.get("differences") or {}).items()
                 for other, per_budget in against.items() for b, d in per_budget.items()]
    parts = ["<h2>Fine-tuning and multitask training on the labels</h2>",
             f"<p>{_esc(supervised.get('note', ''))}. finetune: the pretrained encoder with a new head, trained "
             "end to end; scratch: the same encoder, not pretrained; multitask: the pretext loss and the "
             "supervised loss together. ROC AUC on each draw's held-out labels (mean ± std).</p>",
             _table(["method", *budgets], rows)]
    if diff_rows:
        parts += ["<h3>Paired differences: method minus scratch, and minus the frozen-feature probe</h3>",
                  _table(["method", "minus", "budget", "mean AUC difference", "interval", "win rate", "draws"],
                         diff_rows)]
    return "".join(parts)


_OUTCOMES = {"proxyml": "proxyml wins", "baseline": "baseline wins", "undecided": "no difference shown",
             "not compared": "not compared"}


def _verdict_section(verdict: dict[str, Any]) -> str:
    """The verdict (:func:`~proxyml.evaluation.verdict.build_verdict`): recommendation, a row per
    budget, the proxy-score and pretraining-seed sentences, the caveats."""
    parts = ["<h2>Verdict</h2>"]
    if verdict.get("recommendation"):
        parts.append(f'<p class="statement verdict"><strong>{_esc(verdict["recommendation"])}</strong></p>')

    def named(method: Any, auc: Any) -> str:
        return "n/a" if method is None else f"{method} ({_fmt(auc)})"

    rows = []
    for budget, v in (verdict.get("budgets") or {}).items():
        d = v.get("difference") or {}
        ci = d.get("ci") or [None, None]
        rows.append([
            budget,
            named(v.get("best"), v.get("best_auc")),
            named(v.get("best_proxyml"), v.get("best_proxyml_auc")),
            named(v.get("best_baseline"), v.get("best_baseline_auc")),
            f"{d['mean']:+.3f}" if isinstance(d.get("mean"), (int, float)) else "n/a",
            f"{ci[0]:+.3f} to {ci[1]:+.3f}" if d and None not in ci else "n/a",
            f"{d['win_rate']:.0%}" if isinstance(d.get("win_rate"), (int, float)) else "n/a",
            _OUTCOMES.get(v.get("outcome"), str(v.get("outcome", "n/a"))),
        ])
    if rows:
        level = f"{float(verdict.get('confidence') or 0.95) * 100:g}%"
        parts.append(_table(["budget", "best method (AUC)", "best proxyml (AUC)", "best baseline (AUC)",
                             "proxyml − baseline", f"{level} interval", "draws proxyml wins", "verdict"],
                            rows))
    per_task = verdict.get("proxy_scores")
    if isinstance(per_task, dict) and per_task:
        parts.append("<p>Proxy scores:</p><ul>"
                     + "".join(f"<li>{_esc(k)}: {_esc(t)}</li>" for k, t in per_task.items()) + "</ul>")
    elif verdict.get("proxy_score"):
        parts.append(f"<p>Proxy score: {_esc(verdict['proxy_score'])}.</p>")
    if verdict.get("seeds_statement"):
        parts.append(f"<p>{_esc(verdict['seeds_statement'])}</p>")
    notes = [str(n) for n in verdict.get("notes") or []]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{_esc(n)}</li>" for n in notes) + "</ul>")
    return "".join(parts)


def _list_section(title: str, items: list[str]) -> str:
    if not items:
        return ""
    return f"<h2>{_esc(title)}</h2><ul>" + "".join(f"<li>{_esc(i)}</li>" for i in items) + "</ul>"


def render_html(report: dict[str, Any], scores: np.ndarray | None = None, y: np.ndarray | None = None,
                examples: dict[str, list[dict[str, Any]]] | None = None) -> str:
    """The report as one self-contained HTML page.

    Args:
        report: the run's report dict (only ``name`` is required).
        scores: (n,) proxy scores of the labelled samples, for the per-class histogram.
        y: (n,) 0/1 labels aligned with ``scores``.
        examples: the highest- and lowest-scored samples with their HTML previews.
    """
    report = _jsonable(report)  # numpy scalars render like plain numbers
    name, task = report.get("name", "run"), report.get("task")
    title = f"proxyml report: {name}" + (f" ({task})" if task else "")
    parts = [f"<h1>{_esc(title)}</h1>"]
    if report.get("created"):
        parts.append(f"<p>created {_esc(report['created'])}</p>")
    if isinstance(report.get("verdict"), dict):
        parts.append(_verdict_section(report["verdict"]))
    parts += ["<h2>Summary</h2>", _table(None, _summary_rows(report))]
    proxy = report.get("proxy_score")
    # one section per proxy score: the run's one task, or each task of a tasks: list
    sections = [("", proxy, report.get("proxy_score_meaning"), report.get("proxy_score_baselines"))] if proxy else []
    meanings = {t.get("key"): t.get("proxy_score_meaning") for t in report.get("tasks") or []}
    for key, value in (report.get("proxy_scores") or {}).items():
        sections.append((key, value, meanings.get(key), (report.get("proxy_scores_baselines") or {}).get(key)))
    for i, (key, value, meaning, baselines) in enumerate(sections):
        plots = roc_plot(value)
        if i == 0 and scores is not None and y is not None:  # the histogram of the first score
            scores, y = np.asarray(scores, dtype=float), np.asarray(y)
            if scores.shape != y.shape:
                raise LabelError(f"render_html: {scores.size} scores but {y.size} labels")
            labels_info = report.get("labels") or {}
            plots += distribution_plot(scores, y, labels_info.get("target"), labels_info.get("positive"))
        title = f"Proxy score of {key} against the labels" if key else "Proxy score against the labels"
        parts.append(_proxy_section(value, meaning, plots, baselines, title))
    methods = report.get("probes")
    if methods:
        has_budgets = any(methods.values())
        parts.append(_probe_section(methods, report.get("differences") or {}, report.get("reference"),
                                    efficiency_plot(methods, proxy) if has_budgets else ""))
    if isinstance(report.get("supervised"), dict):
        parts.append(_supervised_section(report["supervised"]))
    if examples:
        parts.append(_examples_section(examples, {**meanings, None: report.get("proxy_score_meaning")}))
    data, labels = report.get("data") or {}, report.get("labels") or {}
    notes = [*(data.get("notes") or []), *(labels.get("notes") or []), *(report.get("budgets_notes") or [])]
    parts.append(_list_section("Notes", [str(n) for n in notes]))
    skipped = report.get("skipped") or []
    if skipped:
        shown = skipped[:MAX_SKIPPED_SHOWN]
        rows = [[s.get("id", ""), s.get("source", ""), s.get("reason", "")] for s in shown]
        more = len(skipped) - len(shown)
        parts += [f"<h2>Skipped samples ({len(skipped)})</h2>", _table(["id", "source", "reason"], rows)]
        if more:
            parts.append(f"<p>... and {more} more, listed in report.json.</p>")
    for key, heading in (("training", "Training"), ("timings", "Timings (seconds)")):
        if report.get(key):
            rows = [
                [k, v if isinstance(v, (int, float)) or v is None else str(v)] for k, v in report[key].items()
            ]
            parts += [f"<h2>{heading}</h2>", _table(None, rows)]
    body = "\n".join(p for p in parts if p)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
        f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def _examples_section(examples: dict[str, list[dict[str, Any]]], meanings: dict[Any, Any]) -> str:
    """The highest- and lowest-scored samples of each proxy, with the modality's previews."""
    parts = ["<h2>Highest- and lowest-scored samples</h2>",
             "<p>Over every sample of the run, labelled or not: what the proxy score ranks first and last. "
             "Listen or look for yourself whether it tracks what you care about.</p>"]
    for key, rows in examples.items():
        meaning = meanings.get(key or None) or meanings.get(key)
        parts.append(f"<h3>{_esc('Proxy score of ' + key if key else 'Proxy score')}</h3>"
                     + (f"<p>{_esc(meaning)}</p>" if meaning else ""))
        table = ["<table><tr><th></th><th>rank</th><th>id</th><th>score</th><th>preview</th></tr>"]
        for row in rows:
            table.append(f"<tr><td>{_esc(row.get('which', ''))}</td><td>{_esc(row.get('rank', ''))}</td>"
                         f"<td>{_esc(row.get('id', ''))}</td><td>{_fmt(row.get('score'))}</td>"
                         f"<td>{row.get('html', '')}</td></tr>")  # html: made by the modality, escaped there
        parts.append("".join(table) + "</table>")
    return "\n".join(parts)


def write_report(
    report: dict[str, Any],
    out_dir: str | Path,
    *,
    scores: np.ndarray | None = None,
    y: np.ndarray | None = None,
    examples: dict[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Path]:
    """Write ``report.json`` and ``report.html`` into ``out_dir`` (created if needed).

    Args:
        report: the run's report dict; numpy values are converted and NaN/inf become null.
        out_dir: folder of the run.
        scores: (n,) proxy scores of the labelled samples (optional, for the histogram).
        y: (n,) 0/1 labels aligned with ``scores``.

    Returns:
        ``{"json": path, "html": path}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plain = _jsonable(report)
    paths = {"json": out / "report.json", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(plain, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    paths["html"].write_text(render_html(plain, scores=scores, y=y, examples=examples), encoding="utf-8")
    return paths
