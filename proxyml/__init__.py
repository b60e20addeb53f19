"""proxyml: self-supervised proxy models, evaluated honestly against a few real labels.

The public API, re-exported here lazily (``import proxyml`` stays fast, imports neither torch
nor Lightning, and the CLI can list tasks without them):

* run a recipe: :func:`load_recipe`, :func:`run` (returns a ``RunResult``: ``output_dir``,
  ``report``), :func:`list_tasks`;
* use a run: :func:`load_report` / :class:`Report` (``to_frame()``, ``plot_label_efficiency()``,
  ``verdict``), :func:`embed` and :func:`score` (DataFrames indexed by sample ``id``);
* write a plugin: the task families (:class:`PretextTask`, :class:`ClassificationTask`,
  :class:`PairwiseRankingTask`, :class:`ReconstructionTask`, :class:`MetadataTask`),
  :class:`Encoder`, :class:`Modality`, :class:`Baseline`, the data classes (:class:`SampleSet`,
  :class:`ArraySampleSet`, :class:`SkippedSample`, :func:`pad_collate`, :func:`stack_collate`)
  and the registries their ``register`` decorators live on (:data:`TASKS`, :data:`ENCODERS`,
  :data:`BASELINES`, :data:`MODALITIES`).

Everything else lives in its module (``proxyml.pipeline``, ``proxyml.runs``, ...).
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    # running and using runs
    "load_recipe": "proxyml.recipe",
    "write_demo": "proxyml.demos",
    "run": "proxyml.pipeline",
    "embed": "proxyml.api",
    "score": "proxyml.api",
    "load_report": "proxyml.evaluation.report_object",
    "Report": "proxyml.evaluation.report_object",
    "list_tasks": "proxyml.registry",
    # plugin bases
    "PretextTask": "proxyml.tasks",
    "ClassificationTask": "proxyml.tasks",
    "PairwiseRankingTask": "proxyml.tasks",
    "ReconstructionTask": "proxyml.tasks",
    "MetadataTask": "proxyml.tasks",
    "Encoder": "proxyml.encoders",
    "Modality": "proxyml.modality",
    "Baseline": "proxyml.modality",
    "SampleSet": "proxyml.data",
    "ArraySampleSet": "proxyml.data",
    "SkippedSample": "proxyml.data",
    "pad_collate": "proxyml.data",
    "stack_collate": "proxyml.data",
    "TASKS": "proxyml.registry",
    "ENCODERS": "proxyml.registry",
    "BASELINES": "proxyml.registry",
    "MODALITIES": "proxyml.registry",
}

#: Names ``proxyml`` exported before, still reachable (with a DeprecationWarning) from their modules.
_MOVED = {
    "recipe_from_dict": "proxyml.recipe",
    "Recipe": "proxyml.recipe",
    "train": "proxyml.pipeline",
    "prepare": "proxyml.pipeline",
    "Trainer": "proxyml.trainer",
    "PretextModule": "proxyml.trainer",
    "create_task": "proxyml.tasks",
    "create_encoder": "proxyml.encoders",
    "evaluate": "proxyml.runs",
    "evaluate_proxy_score": "proxyml.evaluation",
    "evaluate_probes": "proxyml.evaluation",
}

__all__ = [
    "ArraySampleSet",
    "BASELINES",
    "Baseline",
    "ClassificationTask",
    "ENCODERS",
    "Encoder",
    "MODALITIES",
    "MetadataTask",
    "Modality",
    "PairwiseRankingTask",
    "PretextTask",
    "ReconstructionTask",
    "Report",
    "SampleSet",
    "SkippedSample",
    "TASKS",
    "embed",
    "list_tasks",
    "load_recipe",
    "load_report",
    "pad_collate",
    "run",
    "score",
    "stack_collate",
    "write_demo",
]

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, __getattr__ imports on first use
    from proxyml.api import embed, score
    from proxyml.data import ArraySampleSet, SampleSet, SkippedSample, pad_collate, stack_collate
    from proxyml.demos import write_demo
    from proxyml.encoders import Encoder
    from proxyml.evaluation.report_object import Report, load_report
    from proxyml.modality import Baseline, Modality
    from proxyml.pipeline import run
    from proxyml.recipe import load_recipe
    from proxyml.registry import BASELINES, ENCODERS, MODALITIES, TASKS, list_tasks
    from proxyml.tasks import (
        ClassificationTask,
        MetadataTask,
        PairwiseRankingTask,
        PretextTask,
        ReconstructionTask,
    )


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # once imported, a plain attribute
        return value
    if name in _MOVED:
        warnings.warn(f"proxyml.{name} is deprecated; import it from {_MOVED[name]}",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'proxyml' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
