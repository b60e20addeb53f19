"""Shared fixtures: small, seeded data sets and recipes that train in seconds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import varlen_plugin  # noqa: F401  (registers the variable-length test modality, as a plugin would)

from proxyml.recipe import Recipe, apply_overrides, recipe_from_dict

# the plugin template in templates/ registers itself too: every conformance check runs over it
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "templates" / "modality"))
import proxyml_csvseries  # noqa: E402, F401


def make_series_files(folder: Path, n: int = 60, length: int = 32, seed: int = 0) -> tuple[Path, Path]:
    """Two classes of noisy series (sine vs. square-ish) as ``series.npz`` plus ``labels.csv``.

    Only every third sample is labelled, as in real use.
    """
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4 * np.pi, length)
    y = np.arange(n) % 2
    clean = np.where(y[:, None] == 1, np.sign(np.sin(t))[None, :], np.sin(t)[None, :])
    x = (clean + 0.3 * rng.standard_normal((n, length))).astype(np.float32)[:, None, :]
    ids = np.array([f"s{i:03d}" for i in range(n)])
    np.savez(folder / "series.npz", X=x, ids=ids)
    labelled = np.arange(0, n, 3)
    pd.DataFrame({"id": ids[labelled], "kind": np.where(y[labelled] == 1, "square", "sine")}).to_csv(
        folder / "labels.csv", index=False
    )
    return folder / "series.npz", folder / "labels.csv"


def tiny_recipe_dict(folder: Path, **sections: Any) -> dict[str, Any]:
    data_file, labels_file = make_series_files(folder)
    recipe: dict[str, Any] = {
        "name": "tiny",
        "seed": 3,
        "data": {"source": str(data_file)},
        "labels": {"source": str(labels_file), "target": "kind", "positive": "square"},
        "task": {"name": "timeseries.segment_order", "params": {"segments": 3}},
        "encoder": {"name": "timeseries.conv1d", "params": {"embed_dim": 8, "hidden_channels": 8, "depth": 2}},
        "trainer": {"max_epochs": 3, "batch_size": 16, "progress_bar": False, "early_stopping_patience": 50},
        "evaluate": {"label_budgets": [4, "all"], "repeats": 3, "bootstrap": 200, "permutations": 200,
                     "baselines": []},
        "output": {"dir": str(folder / "run")},
    }
    for key, value in sections.items():
        recipe[key] = {**recipe.get(key, {}), **value} if isinstance(value, dict) else value
    return recipe


@pytest.fixture
def tiny_recipe(tmp_path: Path):
    """``tiny_recipe(*overrides, **sections)`` -> a validated :class:`Recipe` writing into tmp_path."""

    def build(*overrides: str, **sections: Any) -> Recipe:
        return recipe_from_dict(apply_overrides(tiny_recipe_dict(tmp_path, **sections), overrides))

    return build
