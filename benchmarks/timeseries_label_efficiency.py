"""Label efficiency on GunPoint: proxyml (both time-series tasks) vs MiniRocket vs random-init.

Everything runs in one process on the same label draws (same seed), so the numbers are paired:

    python benchmarks/timeseries_label_efficiency.py            # the README's table
    python benchmarks/timeseries_label_efficiency.py --repeats 5 --epochs 5   # a quick look

Prints, for every method, the few-label probe ROC AUC (mean ± std over the draws) at 10, 20, 50
and all labels, each proxy score's own AUC, and the wall time of each method. The output is also
written to ``benchmarks/results/timeseries_label_efficiency.txt``.
"""

from __future__ import annotations

from label_efficiency import arguments, compare

if __name__ == "__main__":
    compare(
        arguments(__doc__.splitlines()[0], "quickstart.yaml", "timeseries_label_efficiency.txt"),
        ("timeseries.next_step", "timeseries.segment_order"),
        describe_data=lambda labels, repeats: (
            f"GunPoint (sktime), {labels['n_labelled']} labelled series, positive class {labels['positive']!r}; "
            f"{repeats} stratified draws per budget; probe = standardised logistic regression; "
            "ROC AUC on the labelled series left out of each draw (mean ± std)."),
        footnote="wall s: proxyml = training + embedding and scoring; random_init = building + embedding; "
                 "timeseries.minirocket = fit + transform (numba already compiled).",
        reset_task_params=True,
    )
