"""The report's figures, each returned as an HTML ``<figure>`` with the PNG inlined.

Figures are drawn on :class:`matplotlib.figure.Figure` with the Agg canvas, not through
``pyplot``, so no global figure registry fills up and nothing needs closing.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _figure(width: float = 5.0, height: float = 4.0) -> Figure:
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)  # Agg, without pyplot's global figure registry
    return figure


def _img(figure: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}"></figure>'


def roc_plot(proxy: dict[str, Any]) -> str:
    """ROC curve of the proxy score (``proxy["roc"]`` from ``evaluate_proxy_score``) and the diagonal."""
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(proxy["roc"]["fpr"], proxy["roc"]["tpr"], lw=2, label=f"proxy score (AUC {proxy['auc']:.3f})")
    axes.plot([0, 1], [0, 1], ls="--", color="grey", label="chance (AUC 0.5)")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC of the proxy score")
    axes.legend(loc="lower right")
    return _img(figure, "ROC curve of the proxy score")


def distribution_plot(scores: np.ndarray, y: np.ndarray, target: str | None = None,
                      positive: Any = None) -> str:
    """Overlaid histograms of ``scores``: (n,) split by the 0/1 labels ``y``: (n,).

    With ``target`` and ``positive`` the legend names the classes (``churn = yes``).
    """
    figure = _figure()
    axes = figure.add_subplot()
    bins = np.histogram_bin_edges(scores, bins=min(30, max(5, scores.size // 3))).tolist()
    names = ("negative", "positive")
    if target is not None and positive is not None:
        names = (f"{target} \u2260 {positive}", f"{target} = {positive}")
    for label, name, color in ((0, names[0], "tab:blue"), (1, names[1], "tab:orange")):
        part = scores[y == label]
        axes.hist(part, bins=bins, alpha=0.55, color=color, label=f"{name} (n={part.size})")
    axes.set(xlabel="proxy score", ylabel="labelled samples", title="Proxy score by class")
    axes.legend()
    return _img(figure, "Histogram of the proxy score per class")


def efficiency_plot(methods: dict[str, Any], proxy: dict[str, Any] | None) -> str:
    """Probe AUC against training-set size, one line per method with its spread over draws.

    ``"all"`` is placed at its training-set size. The proxy score, which uses no training
    labels, is drawn as a horizontal line when given.
    """
    figure = _figure(6.5, 4.2)
    axes = figure.add_subplot()
    ticks: dict[int, str] = {}
    for method, budgets in methods.items():
        points = sorted((r["n_train"], b, r) for b, r in budgets.items())
        x = [p[0] for p in points]
        axes.plot(x, [p[2]["auc_mean"] for p in points], marker="o", label=method)
        axes.fill_between(
            x,
            [p[2]["auc_interval"][0] for p in points],
            [p[2]["auc_interval"][1] for p in points],
            alpha=0.15,
        )
        ticks.update({n: (b if b != "all" else f"all ({n})") for n, b, _ in points})
    if proxy is not None:
        axes.axhline(proxy["auc"], color="black", ls=":", label="proxy score (no training labels)")
    axes.axhline(0.5, color="grey", ls="--", lw=1, label="chance")
    axes.set_xscale("log")
    axes.set_xticks(list(ticks), list(ticks.values()))
    axes.minorticks_off()
    axes.set(
        xlabel="labelled training samples",
        ylabel="probe ROC AUC on the held-out rest",
        title="Label efficiency (band: spread over draws)",
    )
    axes.legend(fontsize="small")
    return _img(figure, "Label-efficiency curves")
