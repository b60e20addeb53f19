"""Label efficiency on breast cancer: proxyml (both tabular tasks) vs raw columns vs random-init.

Everything runs in one process on the same label draws (same seed), so the numbers are paired:

    python benchmarks/tabular_label_efficiency.py            # the table in the README
    python benchmarks/tabular_label_efficiency.py --repeats 5 --epochs 5   # a quick look

Prints, for every method, the few-label probe ROC AUC (mean ± std over the draws) at 10, 20, 50
and all labels, each proxy score's own AUC, and the wall time of each method. The output is also
written to ``benchmarks/results/tabular_label_efficiency.txt``.
"""

from __future__ import annotations

from label_efficiency import arguments, compare

if __name__ == "__main__":
    compare(
        arguments(__doc__.splitlines()[0], "tabular_breast_cancer.yaml", "tabular_label_efficiency.txt"),
        ("tabular.imputation", "tabular.corrupted_cells"),
        describe_data=lambda labels, repeats: (
            f"breast cancer (scikit-learn), {labels['n_labelled']} labelled rows, positive class "
            f"{labels['positive']!r} (malignant); {repeats} stratified draws per budget; probe = "
            "standardised logistic regression; ROC AUC on the labelled rows left out of each draw (mean ± std)."),
        footnote="wall s: proxyml = training + embedding and scoring; random_init = building + embedding; "
                 "tabular.raw_features = one-hot encoding the labelled rows (the reader's transform is shared).",
    )
