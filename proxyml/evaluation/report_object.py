"""A run's report as a Python object, for notebooks: :class:`Report` and :func:`load_report`.

A :class:`Report` wraps the dict a run writes to ``report.json`` (``Report.raw``): its verdict,
proxy-score AUCs and probe results, a tidy :meth:`Report.to_frame`, a label-efficiency figure and
an HTML view that Jupyter shows by itself.

Example:
    >>> report = Report.from_dict({
    ...     "name": "demo", "data": {"n_samples": 40}, "labels": {"target": "y"}, "reference": "proxyml",
    ...     "probes": {"proxyml": {"all": {"auc_mean": 0.9, "auc_std": 0.05, "auc_interval": [0.8, 1.0],
    ...                                    "n_train": 32, "aucs": [0.85, 0.95]},
    ...                            "10": {"auc_mean": 0.7, "auc_std": 0.1, "auc_interval": [0.6, 0.8],
    ...                                   "n_train": 10, "aucs": [0.6, 0.8]}}},
    ...     "verdict": {"recommendation": "use proxyml"}})
    >>> report.budgets, report.methods, report.recommendation
    (['10', 'all'], ['proxyml'], 'use proxyml')
    >>> report.to_frame()[["method", "budget", "n_train", "auc_mean", "auc_low"]]
        method budget  n_train  auc_mean  auc_low
    0  proxyml     10       10       0.7      0.6
    1  proxyml    all       32       0.9      0.8
"""

from __future__ import annotations

import copy
import html
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from proxyml.errors import DataError
from proxyml.evaluation.verdict import is_proxyml_method

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

REPORT_FILE = "report.json"

#: The columns of :meth:`Report.to_frame`, in order.
FRAME_COLUMNS = ["method", "budget", "n_train", "auc_mean", "auc_std", "auc_low", "auc_high", "n_draws",
                 "is_proxyml", "difference_mean", "difference_ci_low", "difference_ci_high"]

_FLOAT_COLUMNS = ["auc_mean", "auc_std", "auc_low", "auc_high", "difference_mean", "difference_ci_low",
                  "difference_ci_high"]

#: Fields every report has (the pipeline, ``proxyml evaluate`` and the files-only evaluation).
_REQUIRED = ("data", "labels")


def _float(value: Any) -> float:
    """A finite float, or NaN for anything else (missing, null, text)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return math.nan
    value = float(value)
    return value if math.isfinite(value) else math.nan


def _pair(value: Any) -> tuple[float, float]:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return _float(value[0]), _float(value[1])
    return math.nan, math.nan


def _int(value: Any) -> int | None:
    number = _float(value)
    return None if math.isnan(number) else int(number)


def _fmt(value: Any, digits: int = 3) -> str:
    number = _float(value)
    return "–" if math.isnan(number) else f"{number:.{digits}f}"


class Report:
    """A proxyml report (the contents of a run's ``report.json``).

    Build one with :func:`load_report` (a run folder or a ``report.json``) or
    :meth:`Report.from_dict` (e.g. ``Report.from_dict(run(recipe).report)``). In Jupyter the
    object shows itself as the verdict and a table of probe AUCs.
    """

    def __init__(self, report: Mapping[str, Any], path: Path | None = None) -> None:
        _check_report(report, str(path) if path is not None else "report")
        self._report: dict[str, Any] = copy.deepcopy(dict(report))
        #: The ``report.json`` this report was read from (``None`` when built from a dict).
        self.path = path

    @classmethod
    def from_dict(cls, report: Mapping[str, Any]) -> Report:
        """Wrap a report dict (``RunResult.report``, or ``json.load`` of a ``report.json``);
        the dict is copied. :class:`~proxyml.errors.DataError` if it is not a proxyml report."""
        return cls(report)

    # -- the report's fields ------------------------------------------------------------------

    @property
    def raw(self) -> dict[str, Any]:
        """The report dict itself, every field (see the README's ``report.json`` table)."""
        return self._report

    @property
    def name(self) -> str | None:
        """The recipe's ``name``."""
        return self._report.get("name")

    @property
    def verdict(self) -> dict[str, Any]:
        """The verdict (``recommendation``, per-budget comparison, ``proxy_score`` sentence,
        ``notes``); empty for a run without labels."""
        return self._report.get("verdict") or {}

    @property
    def recommendation(self) -> str | None:
        """The verdict's one-sentence recommendation, ``None`` when there is no verdict."""
        return self.verdict.get("recommendation")

    @property
    def proxy_scores(self) -> dict[str, dict[str, Any]]:
        """Task key -> the proxy-score AUC dict (``auc``, ``ci``, ``p_value``, ``direction``,
        ``statement``, ...). A one-task report's ``proxy_score`` is under the key ``""``."""
        if isinstance(self._report.get("proxy_score"), Mapping):
            return {"": self._report["proxy_score"]}
        return dict(self._report.get("proxy_scores") or {})

    @property
    def probes(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``probes.<method>.<budget>`` as in the report."""
        return self._report.get("probes") or {}

    @property
    def methods(self) -> list[str]:
        """The probed methods, in the report's order (proxyml's and the baselines)."""
        return list(self.probes)

    @property
    def budgets(self) -> list[str]:
        """The label budgets, in the report's order with ``"all"`` last."""
        seen: dict[str, None] = {}
        for budgets in self.probes.values():
            seen.update(dict.fromkeys(str(b) for b in budgets))
        return [b for b in seen if b != "all"] + (["all"] if "all" in seen else [])

    @property
    def reference(self) -> str | None:
        """The proxyml method that ``differences`` are taken against (reference − method)."""
        return self._report.get("reference")

    @property
    def labels(self) -> dict[str, Any] | None:
        """What the labels were (target, positive class, counts); ``None`` for a run without labels."""
        return self._report.get("labels")

    @property
    def data(self) -> dict[str, Any]:
        """What was read: source, modality, number of samples, spec, notes."""
        return self._report.get("data") or {}

    @property
    def skipped(self) -> pd.DataFrame:
        """The samples that could not be used: one row each, columns ``id``, ``source``, ``reason``."""
        rows = self._report.get("skipped") or []
        frame = pd.DataFrame(list(rows))
        for column in ("id", "source", "reason"):
            if column not in frame.columns:
                frame[column] = pd.Series(dtype=object)
        return frame

    # -- views --------------------------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """The probe results as a tidy table: one row per (method, budget).

        Columns: ``method``, ``budget`` (text, as in the report: ``"10"``, ``"all"``),
        ``n_train`` (labels the probe was trained on), ``auc_mean``, ``auc_std``, ``auc_low`` /
        ``auc_high`` (the ``auc_interval`` over the draws), ``n_draws``, ``is_proxyml`` (a method
        proxyml contributes rather than a baseline), and ``difference_mean`` /
        ``difference_ci_low`` / ``difference_ci_high``: the paired difference
        :attr:`reference` − this method on the same draws (NaN for the reference itself and where
        the report has none). Rows follow the report's method order, then :attr:`budgets`.
        """
        differences = self._report.get("differences") or {}
        rows: list[dict[str, Any]] = []
        for method, by_budget in self.probes.items():
            by_budget = {str(b): r for b, r in by_budget.items()}
            for budget in self.budgets:
                if budget not in by_budget:
                    continue
                entry = by_budget[budget] or {}
                diff = (differences.get(method) or {}).get(budget) or {}
                aucs = entry.get("aucs")
                n_draws = len(aucs) if isinstance(aucs, list) else _int(diff.get("n_draws"))
                low, high = _pair(entry.get("auc_interval"))
                ci_low, ci_high = _pair(diff.get("ci"))
                rows.append({
                    "method": method, "budget": budget, "n_train": _int(entry.get("n_train")),
                    "auc_mean": _float(entry.get("auc_mean")), "auc_std": _float(entry.get("auc_std")),
                    "auc_low": low, "auc_high": high, "n_draws": n_draws,
                    "is_proxyml": is_proxyml_method(method),
                    "difference_mean": _float(diff.get("mean")),
                    "difference_ci_low": ci_low, "difference_ci_high": ci_high,
                })
        frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        for column in ("n_train", "n_draws"):
            frame[column] = frame[column].astype("Int64")
        frame["is_proxyml"] = frame["is_proxyml"].astype(bool)
        for column in _FLOAT_COLUMNS:
            frame[column] = frame[column].astype(float)
        frame[["method", "budget"]] = frame[["method", "budget"]].astype(object)
        return frame

    def plot_label_efficiency(self, ax: Axes | None = None, methods: list[str] | None = None) -> Figure:
        """Probe AUC per label budget: one line per method (its mean over the draws, with the
        ``auc_interval`` as a band); proxyml's methods solid, baselines dashed.

        Budgets are on the x axis in the report's order, ``all`` last (with its training size).
        Draws on ``ax`` when given, else on a new figure (no pyplot, no display needed); returns
        the figure. ``methods`` restricts the lines to those methods.
        """
        frame = self.to_frame()
        if methods is not None:
            unknown = [m for m in methods if m not in self.methods]
            if unknown:
                raise KeyError(f"no method {unknown[0]!r} in this report; it has {self.methods}")
            frame = frame[frame["method"].isin(methods)]
        budgets = self.budgets
        position = {b: i for i, b in enumerate(budgets)}
        if ax is None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            figure = Figure(figsize=(6.5, 4.2), dpi=100, layout="constrained")
            FigureCanvasAgg(figure)
            ax = figure.add_subplot()
        else:
            figure = ax.get_figure()  # type: ignore[assignment]
        for method in dict.fromkeys(frame["method"]):
            rows = frame[frame["method"] == method]
            x = [position[b] for b in rows["budget"]]
            line, = ax.plot(x, rows["auc_mean"].to_numpy(dtype=float), marker="o", label=method,
                            ls="-" if is_proxyml_method(method) else "--")
            ax.fill_between(x, rows["auc_low"].to_numpy(dtype=float), rows["auc_high"].to_numpy(dtype=float),
                            color=line.get_color(), alpha=0.15, lw=0)
        labels = list(budgets)
        if "all" in position:
            sizes = frame.loc[frame["budget"] == "all", "n_train"].dropna().unique()
            if len(sizes) == 1:
                labels[position["all"]] = f"all ({int(sizes[0])})"
        ax.set_xticks(range(len(budgets)), labels)
        ax.set(xlabel="labelled training samples", ylabel="probe ROC AUC on the held-out rest",
               title="Label efficiency (band: interval over draws)")
        if len(frame):
            ax.legend(fontsize="small")
        return figure  # type: ignore[return-value]

    def _repr_html_(self) -> str:
        """The verdict and the probe AUCs (``mean [low, high]`` per method and budget) as HTML."""
        esc = html.escape
        parts = [f"<div class='proxyml-report'><strong>proxyml report: {esc(str(self.name or ''))}</strong>"]
        verdict = self.verdict
        if self.recommendation:
            parts.append(f"<p><b>Recommendation:</b> {esc(str(self.recommendation))}</p>")
        elif self.labels is None:
            parts.append("<p>No labels: the proxy model was trained, nothing was evaluated.</p>")
        for key in ("proxy_score", "seeds_statement"):
            if verdict.get(key):
                parts.append(f"<p>{esc(str(verdict[key]))}</p>")
        frame = self.to_frame()
        if len(frame):
            budgets = self.budgets
            n_train = {r.budget: r.n_train for r in frame.itertuples() if not pd.isna(r.n_train)}
            head = "".join(f"<th>{esc(b)}" + (f" ({n_train[b]})" if b == "all" and b in n_train else "")
                           + "</th>" for b in budgets)
            body = []
            for method in dict.fromkeys(frame["method"]):
                rows = {r.budget: r for r in frame[frame["method"] == method].itertuples()}
                cells = "".join(
                    f"<td>{_fmt(rows[b].auc_mean)} [{_fmt(rows[b].auc_low)}, {_fmt(rows[b].auc_high)}]</td>"
                    if b in rows else "<td></td>" for b in budgets)
                mark = " (reference)" if method == self.reference else ""
                body.append(f"<tr><th style='text-align:left'>{esc(method)}{esc(mark)}</th>{cells}</tr>")
            parts.append("<table><thead><tr><th>probe ROC AUC, mean [interval]</th>"
                         f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        if self.path is not None:
            parts.append(f"<p><small>{esc(str(self.path))}</small></p>")
        parts.append("</div>")
        return "\n".join(parts)

    def __repr__(self) -> str:
        shape = f"{len(self.methods)} methods x {len(self.budgets)} budgets"
        text = self.recommendation
        if text and len(text) > 80:
            text = text[:77] + "..."
        return f"Report({self.name!r}, {shape}" + (f", recommendation: {text!r})" if text else ")")


def _check_report(report: Any, origin: str) -> None:
    if not isinstance(report, Mapping):
        raise DataError(f"{origin}: not a proxyml report (expected a JSON object, got {type(report).__name__})")
    missing = [key for key in _REQUIRED if key not in report]
    if missing:
        raise DataError(f"{origin}: not a proxyml report (no {' or '.join(repr(m) for m in missing)} field; "
                        f"has {sorted(map(str, report))[:10]})")
    probes = report.get("probes")
    if probes is not None and not (isinstance(probes, Mapping)
                                   and all(isinstance(v, Mapping) for v in probes.values())):
        raise DataError(f"{origin}: not a proxyml report ('probes' must map methods to budgets)")


def load_report(run: str | os.PathLike[str] | Any) -> Report:
    """The report of a run: ``run`` is a run folder, a ``report.json`` (or anything with an
    ``output_dir``, like the result of :func:`proxyml.run`).

    ``FileNotFoundError`` for a path that does not exist or a folder without ``report.json``;
    :class:`~proxyml.errors.DataError` for a file that is not a proxyml report.
    """
    if not isinstance(run, (str, os.PathLike)) and hasattr(run, "output_dir"):
        run = run.output_dir
    path = Path(run)
    if path.is_dir():
        if not (path / REPORT_FILE).is_file():
            hint = (" (it is a run folder whose report was not written: "
                    f"`proxyml evaluate {path}` writes one)") if (path / "recipe.yaml").is_file() else ""
            raise FileNotFoundError(f"{path}: no {REPORT_FILE} in this folder{hint}")
        path = path / REPORT_FILE
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no such run folder or report file")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        sibling = path.with_name(REPORT_FILE)
        hint = f"; its {REPORT_FILE} is {sibling}" if path.name != REPORT_FILE and sibling.is_file() else ""
        raise DataError(f"{path}: not a proxyml report (not JSON: {exc}){hint}") from None
    return Report(report, path=path)
