"""Tabular pretext tasks, encoder and baseline: what they hide, swap, learn and return."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from proxyml.encoders import create_encoder
from proxyml.errors import DataError
from proxyml.modalities.tabular.baselines import RawFeaturesBaseline
from proxyml.modalities.tabular.io import TableSampleSet, read_table
from proxyml.modalities.tabular.layout import TableLayout
from proxyml.tasks import create_task


def correlated_table(folder: Path, n: int = 400, seed: int = 0) -> TableSampleSet:
    """Columns that are noisy copies of one hidden factor, with a few missing cells: a row whose
    cells disagree is unusual."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    frame = pd.DataFrame({
        "a": z + 0.1 * rng.standard_normal(n),
        "b": z + 0.1 * rng.standard_normal(n),
        "c": -z + 0.1 * rng.standard_normal(n),
        "level": np.where(z > 0, "high", "low"),
    })
    frame.loc[rng.choice(n, 20, replace=False), "b"] = np.nan
    frame.to_csv(folder / "correlated.csv", index=False)
    return read_table(str(folder / "correlated.csv"))


@pytest.fixture
def data(tmp_path) -> TableSampleSet:
    return correlated_table(tmp_path)


def prepared(name: str, data: TableSampleSet, **params):
    task = create_task(name, params)
    task.check_spec(data.spec)
    task.prepare(data)
    return task


def batch_of(data: TableSampleSet, rows: range | list[int]) -> dict:
    return {"index": torch.tensor(list(rows)), "x": torch.from_numpy(data.raw(list(rows)))}


def train(name: str, data: TableSampleSet, steps: int = 150):
    torch.manual_seed(0)
    task = prepared(name, data)
    encoder = create_encoder("tabular.mlp", data.spec, {"embed_dim": 16, "hidden_dim": 64, "dropout": 0.0})
    head = task.build_head(encoder.embed_dim, data.spec)
    optimizer = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    order = np.random.default_rng(0).permutation(len(data))
    for step in range(steps):
        rows = order[(step * 64) % len(data):][:64].tolist()
        inputs, targets = task.make_batch(batch_of(data, rows), generator)
        loss = task.loss(task.forward(encoder, head, inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return task, encoder.eval(), head.eval()


def scrambled(x: torch.Tensor, layout: TableLayout) -> torch.Tensor:
    """The same rows, but column 'a' takes the value of the row at the opposite rank (about -a),
    so it disagrees with b and c."""
    values, missing = layout.cells(x)
    order = values[:, 0].argsort()
    donor = torch.empty_like(order)
    donor[order] = order.flip(0)
    mixed = values.clone()
    mixed[:, 0] = values[donor, 0]
    return layout.with_cells(x, mixed, missing)


@pytest.fixture
def one_thread():
    """Tiny models train faster on one thread (and do not fight other processes for cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ------------------------------------------------------------------------------ imputation


def test_imputation_hides_only_observed_cells_and_shows_them_as_missing(data) -> None:
    task = prepared("tabular.imputation", data, fraction=0.5)
    layout, x = task.layout, batch_of(data, range(200))["x"]
    visible, targets = task.make_batch({"index": torch.arange(200), "x": x}, torch.Generator().manual_seed(1))
    values, missing = layout.cells(x)
    shown_values, shown_missing = layout.cells(visible)
    hidden = targets[:, 1][:, layout.value_index] > 0.5
    assert torch.equal(targets[:, 0], x)
    assert not (hidden & (missing > 0.5)).any(), "a cell missing in the input was hidden"
    observed = (missing < 0.5).sum(dim=1)
    assert torch.equal(hidden.sum(dim=1), (0.5 * observed).round().clamp_min(1).long())
    assert torch.all(shown_missing[hidden] == 1) and torch.all(shown_values[hidden] == 0)
    assert torch.equal(shown_values[~hidden], values[~hidden]) and torch.equal(shown_missing[~hidden], missing[~hidden])


def test_imputation_score_is_per_row_and_learns_what_rows_look_like(data, one_thread) -> None:
    task, encoder, head = train("tabular.imputation", data)
    rows = list(range(300, 400))
    batch = batch_of(data, rows)
    with torch.no_grad():
        scores = task.proxy_score(encoder, head, batch)
        alone = torch.cat([task.proxy_score(encoder, head, batch_of(data, [r])) for r in rows[:5]])
        odd = task.proxy_score(encoder, head, {"index": batch["index"], "x": scrambled(batch["x"], task.layout)})
    torch.testing.assert_close(alone, scores[:5])  # a row's score does not depend on its batch
    assert torch.isfinite(scores).all() and (scores >= 0).all()
    auc = roc_auc_score(np.r_[np.zeros(100), np.ones(100)], torch.cat([scores, odd]).numpy())
    assert auc > 0.85, f"rows whose cells disagree should reconstruct worse (AUC {auc:.2f})"


# ------------------------------------------------------------------------- corrupted cells


def test_corrupted_cells_come_from_the_same_column_of_other_rows(data) -> None:
    task = prepared("tabular.corrupted_cells", data, fraction=0.3)
    layout, x = task.layout, batch_of(data, range(64))["x"]
    corrupted, targets = task.make_batch({"index": torch.arange(64), "x": x}, torch.Generator().manual_seed(2))
    values, missing = layout.cells(x)
    new_values, new_missing = layout.cells(corrupted)
    changed = targets > 0.5
    assert torch.equal(new_values[~changed], values[~changed]) and torch.equal(new_missing[~changed], missing[~changed])
    for row, column in changed.nonzero().tolist():
        cell = (new_values[row, column], new_missing[row, column])
        assert cell != (values[row, column], missing[row, column]), "a 'corrupted' cell is unchanged"
        donors = [r for r in range(64) if r != row and (values[r, column], missing[r, column]) == cell]
        assert donors, f"cell ({row}, {column}) holds a value that is not in its column"
    numeric_rate = targets[:, :3].mean().item()  # continuous columns: swaps almost always change the cell
    assert 0.22 < numeric_rate < 0.38


def test_corrupted_cells_score_flags_rows_with_swapped_cells(data, one_thread) -> None:
    task, encoder, head = train("tabular.corrupted_cells", data, steps=200)
    batch = batch_of(data, range(300, 400))
    with torch.no_grad():
        clean = task.proxy_score(encoder, head, batch)
        odd = task.proxy_score(encoder, head, {"index": batch["index"], "x": scrambled(batch["x"], task.layout)})
    assert ((clean >= 0) & (clean <= 1)).all()
    auc = roc_auc_score(np.r_[np.zeros(100), np.ones(100)], torch.cat([clean, odd]).numpy())
    assert auc > 0.85, f"rows with a swapped-in cell should look corrupted (AUC {auc:.2f})"


# ----------------------------------------------------------------------- shared behaviour


@pytest.mark.parametrize("name", ["tabular.imputation", "tabular.corrupted_cells"])
def test_the_layout_is_task_state_and_one_column_is_refused(name, data) -> None:
    task = prepared(name, data)
    fresh = create_task(name, {})
    with pytest.raises(RuntimeError, match=r"prepare\(dataset\) must run"):
        fresh.make_batch(batch_of(data, range(8)), torch.Generator())
    fresh.set_state(task.get_state())  # what a checkpoint restores
    batch = batch_of(data, range(32))
    first = task.make_batch(batch, torch.Generator().manual_seed(5))
    second = fresh.make_batch(batch, torch.Generator().manual_seed(5))
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    one_column = {**data.spec, "n_numeric": 1, "n_categorical": 0, "cardinalities": []}
    with pytest.raises(DataError, match=rf"task.name: {name} needs at least 2 input columns"):
        task.check_spec(one_column)


def test_raw_features_are_numbers_indicators_and_one_hot_categories(data) -> None:
    positions = np.arange(0, 400, 7)
    features = RawFeaturesBaseline().features(data, positions, seed=0)
    rows = data.raw(positions)
    layout = TableLayout.from_spec(data.spec)
    assert features.shape == (len(positions), layout.code_start + sum(layout.cardinalities))
    np.testing.assert_array_equal(features[:, : layout.code_start], rows[:, : layout.code_start])
    one_hot = features[:, layout.code_start :]
    assert np.all(one_hot.sum(axis=1) == 1)
    np.testing.assert_array_equal(one_hot.argmax(axis=1), rows[:, layout.code_start])


def test_the_encoder_tolerates_codes_beyond_its_vocabulary(data) -> None:
    encoder = create_encoder("tabular.mlp", data.spec, {"embed_dim": 8}).eval()
    x = torch.from_numpy(data.raw([0, 1]))
    wild = x.clone()
    wild[:, TableLayout.from_spec(data.spec).code_start] = 99.0
    with torch.no_grad():
        assert torch.isfinite(encoder(wild)).all() and encoder(x).shape == (2, 8)
