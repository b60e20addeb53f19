"""The common Trainer: reproducible, resumable, checkpoints that rebuild the model."""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import pytest
import torch

from proxyml import pipeline
from proxyml.errors import DataError
from proxyml.trainer import EpochSeededSampler, PretextModule, Trainer, batch_seed, split_unlabeled


class KillAfterEpoch(pl.Callback):
    """Simulates a run killed after ``epoch`` finished (its checkpoint is already written)."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            raise RuntimeError("killed")


@pytest.fixture
def unlabeled(tiny_recipe):
    """Training needs no labels."""
    return lambda *overrides: tiny_recipe(*overrides, labels=None)


def last_weights(run_dir) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]


def test_interrupted_run_resumes_to_the_same_result(unlabeled, tmp_path) -> None:
    straight = unlabeled("trainer.max_epochs=4", f"output.dir={tmp_path / 'straight'}")
    _, fit_straight, _ = pipeline.train(straight)

    killed = unlabeled("trainer.max_epochs=4", f"output.dir={tmp_path / 'killed'}")
    with pytest.raises(RuntimeError, match="killed"):
        pipeline.train(killed, callbacks=[KillAfterEpoch(1)])
    _, fit_resumed, _ = pipeline.train(killed, resume=True)

    assert fit_resumed.epochs == fit_straight.epochs == 4
    a, b = last_weights(tmp_path / "straight"), last_weights(tmp_path / "killed")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=1e-6), key
    assert fit_resumed.history[-1]["val_loss"] == pytest.approx(fit_straight.history[-1]["val_loss"], abs=1e-6)


def test_resume_without_checkpoint_is_a_clear_error(unlabeled) -> None:
    with pytest.raises(FileNotFoundError, match="no checkpoint to resume from"):
        pipeline.train(unlabeled(), resume=True)


def test_same_seed_same_model_other_seed_other_model(unlabeled, tmp_path) -> None:
    runs = {}
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        module, _, _ = pipeline.train(unlabeled(f"seed={seed}", f"output.dir={tmp_path / name}"))
        runs[name] = torch.cat([p.detach().flatten() for p in module.parameters()])
    assert torch.equal(runs["a"], runs["b"])
    assert not torch.allclose(runs["a"], runs["c"])


def test_training_lowers_the_pretext_loss_and_logs_it(unlabeled, tmp_path) -> None:
    _, fit, _ = pipeline.train(unlabeled("trainer.max_epochs=12", "trainer.learning_rate=0.01"))
    assert fit.history[-1]["train_loss"] < fit.history[0]["train_loss"]
    log = pd.read_csv(tmp_path / "run" / "logs" / "version_0" / "metrics.csv")
    assert {"train_loss_epoch", "val_loss"} <= set(log.columns)
    assert log["val_loss"].notna().sum() == 12
    assert fit.n_train + fit.n_val == 60 and fit.n_val == 6


def test_early_stopping_stops_before_max_epochs(unlabeled) -> None:
    # a learning rate of 0 cannot improve the held-out loss, so patience 2 must stop at epoch 3
    _, fit, _ = pipeline.train(unlabeled("trainer.max_epochs=30", "trainer.early_stopping_patience=2",
                                           "trainer.learning_rate=1e-12", "trainer.weight_decay=0"))
    assert fit.stopped_early and fit.epochs < 30


def test_checkpoint_rebuilds_the_same_model(unlabeled, tmp_path) -> None:
    recipe = unlabeled()
    module, fit, prepared = pipeline.train(recipe)
    trainer = Trainer(recipe.trainer, tmp_path / "run", seed=recipe.seed)
    predicted = trainer.predict(module, prepared.dataset)
    embeddings, scores = predicted.embeddings, predicted.scores
    again = PretextModule.from_checkpoint(fit.checkpoint)
    predicted_again = trainer.predict(again, prepared.dataset)
    embeddings_again, scores_again = predicted_again.embeddings, predicted_again.scores
    assert predicted.failed == {}
    assert embeddings.shape == (60, 8) and scores.shape == (60,)
    np.testing.assert_allclose(embeddings, embeddings_again, rtol=1e-6)
    np.testing.assert_allclose(scores, scores_again, rtol=1e-6)
    assert np.all((scores >= 0) & (scores <= 1)), "segment_order scores are probabilities"


def test_batch_seeds_and_sampler_are_seeded_not_global() -> None:
    assert batch_seed(0, "train", 1, 2) == batch_seed(0, "train", 1, 2)
    assert len({batch_seed(0, "train", e, b) for e in range(5) for b in range(5)}) == 25
    sampler = EpochSeededSampler(10, seed=4)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    sampler.set_epoch(0)
    assert sorted(first) == list(range(10)) and first != second and list(sampler) == first


def test_held_out_split_is_seeded_and_disjoint() -> None:
    train, val = split_unlabeled(100, 0.1, seed=0)
    assert len(val) == 10 and not set(train) & set(val) and len(train) + len(val) == 100
    assert np.array_equal(val, split_unlabeled(100, 0.1, seed=0)[1])
    assert len(split_unlabeled(8, 0.1, seed=0)[1]) == 0, "too small a pool keeps everything for training"


def test_prediction_encodes_each_batch_once_when_the_score_uses_the_same_input(unlabeled, tmp_path) -> None:
    recipe = unlabeled()
    module, _, prepared = pipeline.train(recipe)
    calls = []
    handle = module.encoder.register_forward_hook(lambda *_: calls.append(1))
    scores = Trainer(recipe.trainer, tmp_path / "run", seed=recipe.seed).predict(module, prepared.dataset).scores
    handle.remove()
    batches = -(-len(prepared.dataset) // (4 * recipe.trainer.batch_size))  # the default predict batch size
    assert len(calls) == batches
    module.eval()
    with torch.no_grad():
        x = torch.stack([prepared.dataset.load(i) for i in range(len(prepared.dataset))])
        expected = module.task.proxy_score(module.encoder, module.head, {"x": x, "index": torch.arange(len(x))})
    np.testing.assert_allclose(scores, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_corrupt_or_foreign_checkpoints_are_clear_errors(tmp_path) -> None:
    (tmp_path / "garbage.ckpt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(DataError, match="cannot read the checkpoint"):
        PretextModule.from_checkpoint(tmp_path / "garbage.ckpt")
    torch.save({"state_dict": {}}, tmp_path / "foreign.ckpt")
    with pytest.raises(DataError, match="is not a proxyml checkpoint"):
        PretextModule.from_checkpoint(tmp_path / "foreign.ckpt")
