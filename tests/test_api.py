"""The top-level API: proxyml.embed / proxyml.score as DataFrames, and what ``proxyml`` exports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_recipe_dict

import proxyml
from proxyml.recipe import recipe_from_dict


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("api")
    return proxyml.run(recipe_from_dict(tiny_recipe_dict(folder))).output_dir


def test_embed_and_score_frames_match_the_run_files(tiny_run: Path) -> None:
    saved = pd.read_parquet(tiny_run / "embeddings.parquet").set_index("id")
    embeddings = proxyml.embed(tiny_run)
    assert embeddings.index.name == "id" and embeddings.index.tolist() == saved.index.tolist()
    assert list(embeddings.columns) == list(saved.columns) == [f"e{i}" for i in range(8)]
    np.testing.assert_allclose(embeddings.to_numpy(), saved.to_numpy(), rtol=1e-5, atol=1e-6)

    saved_scores = pd.read_csv(tiny_run / "proxy_scores.csv", dtype={"id": str}).set_index("id")
    scores = proxyml.score(str(tiny_run))
    assert scores.index.name == "id" and scores.index.tolist() == saved_scores.index.tolist()
    assert list(scores.columns) == ["proxy_score"]
    np.testing.assert_allclose(scores["proxy_score"], saved_scores["proxy_score"], rtol=1e-5, atol=1e-6)


def test_embed_new_data(tiny_run: Path, tmp_path: Path) -> None:
    x = np.load(tiny_run.parent / "series.npz")
    np.savez(tmp_path / "new.npz", X=x["X"][:5], ids=np.array([f"n{i}" for i in range(5)]))
    frame = proxyml.embed(tiny_run, data=tmp_path / "new.npz")
    assert frame.index.tolist() == [f"n{i}" for i in range(5)] and frame.shape == (5, 8)
    assert proxyml.score(tiny_run, tmp_path / "new.npz").shape == (5, 1)


def test_missing_run_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a proxyml run folder"):
        proxyml.embed(tmp_path)


def test_star_import_gives_the_plugin_bases() -> None:
    namespace: dict[str, object] = {}
    exec("from proxyml import *", namespace)
    names = set(namespace) - {"__builtins__"}
    assert names == set(proxyml.__all__)
    from proxyml.data import SampleSet
    from proxyml.encoders import Encoder
    from proxyml.modality import Baseline, Modality
    from proxyml.registry import TASKS
    from proxyml.tasks import (
        ClassificationTask,
        MetadataTask,
        PairwiseRankingTask,
        PretextTask,
        ReconstructionTask,
    )

    for obj in (SampleSet, Encoder, Baseline, Modality, TASKS, ClassificationTask, MetadataTask,
                PairwiseRankingTask, PretextTask, ReconstructionTask):
        assert any(value is obj for value in namespace.values()), obj
    assert all(not name.startswith("_") for name in proxyml.__all__)


def test_old_names_still_resolve_with_a_warning() -> None:
    from proxyml.trainer import Trainer

    with pytest.warns(DeprecationWarning, match="proxyml.trainer"):
        assert proxyml.Trainer is Trainer
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        proxyml.nope  # noqa: B018


def test_import_proxyml_does_not_import_lightning_or_torch() -> None:
    code = ("import sys, proxyml; proxyml.list_tasks; proxyml.load_report; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('lightning', 'torch')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
