"""Honest evaluation against the few real labels: proxy-score AUC, few-label probes, report."""

from __future__ import annotations

from proxyml.evaluation.probes import evaluate_probes, probe_report_sections
from proxyml.evaluation.proxy import evaluate_proxy_score
from proxyml.evaluation.report import render_html, write_report
from proxyml.evaluation.report_object import Report, load_report
from proxyml.evaluation.splits import (
    DEFAULT_BUDGETS,
    Draw,
    budget_draws,
    check_binary_labels,
    resolve_budgets,
)
from proxyml.evaluation.verdict import build_verdict, is_proxyml_method

__all__ = [
    "DEFAULT_BUDGETS",
    "Draw",
    "Report",
    "budget_draws",
    "build_verdict",
    "check_binary_labels",
    "evaluate_probes",
    "probe_report_sections",
    "evaluate_proxy_score",
    "is_proxyml_method",
    "load_report",
    "render_html",
    "resolve_budgets",
    "write_report",
]
