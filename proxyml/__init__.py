"""proxyml: self-supervised proxy models, evaluated honestly against a few real labels.

The public API is re-exported here lazily, so ``import proxyml`` stays fast and the CLI can
list tasks without importing Lightning.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_recipe": "proxyml.recipe",
    "recipe_from_dict": "proxyml.recipe",
    "Recipe": "proxyml.recipe",
    "run": "proxyml.pipeline",
    "train": "proxyml.pipeline",
    "prepare": "proxyml.pipeline",
    "Trainer": "proxyml.trainer",
    "PretextModule": "proxyml.trainer",
    "list_tasks": "proxyml.registry",
    "create_task": "proxyml.tasks",
    "create_encoder": "proxyml.encoders",
    "PretextTask": "proxyml.tasks",
    "embed": "proxyml.runs",
    "score": "proxyml.runs",
    "evaluate": "proxyml.runs",
    "evaluate_proxy_score": "proxyml.evaluation",
    "evaluate_probes": "proxyml.evaluation",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'proxyml' has no attribute {name!r}")
