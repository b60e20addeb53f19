"""Trainer settings: threads, Lightning pass-through arguments, optimizer and learning-rate schedule."""

from __future__ import annotations

import functools
import os

import lightning.pytorch as pl
import pandas as pd
import pytest
import torch

from proxyml import pipeline
from proxyml import recipe as recipe_module
from proxyml.errors import RecipeError
from proxyml.registry import ENCODERS, TASKS
from proxyml.testing import check_resume_matches
from proxyml.trainer import PretextModule, Trainer, auto_threads, limited_threads


@pytest.fixture
def unlabeled(tiny_recipe):
    return lambda *overrides: tiny_recipe(*overrides, labels=None)


class Record(pl.Callback):
    """What the fit looked like from inside: threads, learning rates, batches, optimizer steps."""

    def __init__(self) -> None:
        self.threads: list[int] = []
        self.lrs: list[float] = []
        self.batches = 0
        self.steps = 0
        self.optimizer: type | None = None

    def on_train_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self.threads.append(torch.get_num_threads())
        self.optimizer = type(trainer.optimizers[0])

    def on_train_batch_start(self, trainer: pl.Trainer, module: pl.LightningModule, batch, batch_idx) -> None:
        self.batches += 1
        self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])

    def on_train_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self.steps = trainer.global_step


# -- trainer.lightning ----------------------------------------------------------------------------
def test_an_unknown_lightning_argument_fails_at_load_with_a_suggestion(unlabeled) -> None:
    with pytest.raises(RecipeError, match=r"trainer\.lightning: accumulate_grad_batch is not an argument of "
                                          r"lightning\.pytorch\.Trainer; did you mean accumulate_grad_batches\?"):
        unlabeled("trainer.lightning.accumulate_grad_batch=2")


@pytest.mark.parametrize(("name", "points_to"), [("max_epochs", "trainer.max_epochs"),
                                                 ("callbacks", "trainer.early_stopping_patience"),
                                                 ("logger", "metrics.csv"),
                                                 ("enable_progress_bar", "trainer.progress_bar")])
def test_arguments_proxyml_sets_itself_are_refused_naming_the_recipe_key(unlabeled, name, points_to) -> None:
    with pytest.raises(RecipeError, match=rf"trainer\.lightning: {name} is set by proxyml: .*{points_to}"):
        unlabeled(f"trainer.lightning.{name}=1")


def test_lightning_arguments_take_effect(unlabeled) -> None:
    # 54 training series in batches of 16: 4 batches an epoch, unless limited
    limited, accumulated = Record(), Record()
    pipeline.train(unlabeled("trainer.max_epochs=2", "trainer.lightning.limit_train_batches=2"), callbacks=[limited])
    assert limited.batches == 4 and limited.steps == 4
    pipeline.train(unlabeled("trainer.max_epochs=2", "trainer.lightning.accumulate_grad_batches=2"),
                   callbacks=[accumulated])
    assert accumulated.batches == 8 and accumulated.steps == 4


def test_check_settings_builds_lightning_with_the_pass_through_arguments(unlabeled) -> None:
    recipe = unlabeled("trainer.lightning.limit_train_batches=-1")
    with pytest.raises(RecipeError, match=r"Lightning refuses these settings .*lightning=\{'limit_train_batches': -1\}"):
        Trainer(recipe.trainer, recipe.output_dir).check_settings()


# -- optimizer and schedule -----------------------------------------------------------------------
def test_cosine_schedule_warms_up_then_lowers_the_learning_rate_per_step(unlabeled, tmp_path) -> None:
    record = Record()
    pipeline.train(unlabeled("trainer.max_epochs=4", "trainer.learning_rate=0.01", "trainer.schedule=cosine",
                             "trainer.warmup_epochs=1"), callbacks=[record])
    lrs = record.lrs
    assert len(lrs) == 16  # 4 steps an epoch, one learning rate per step
    assert lrs[:4] == pytest.approx([0.0025, 0.005, 0.0075, 0.01])  # linear warm-up over the first epoch
    assert all(b < a for a, b in zip(lrs[4:], lrs[5:], strict=False))  # then strictly down, every step
    assert lrs[-1] < 0.001
    log = pd.read_csv(tmp_path / "run" / "logs" / "version_0" / "metrics.csv")
    logged = log["lr-AdamW"].dropna()  # the learning rate is logged too (every log_every_n_steps)
    assert len(logged) == 4 and logged.is_monotonic_decreasing and logged.iloc[-1] < 0.001


def test_constant_schedule_keeps_the_learning_rate(unlabeled) -> None:
    record = Record()
    pipeline.train(unlabeled("trainer.max_epochs=2", "trainer.learning_rate=0.004"), callbacks=[record])
    assert set(record.lrs) == {0.004}


@pytest.mark.parametrize(("name", "kind"), [("adamw", torch.optim.AdamW), ("adam", torch.optim.Adam),
                                            ("sgd", torch.optim.SGD)])
def test_the_optimizer_is_the_recipes_choice_and_recorded_in_the_checkpoint(unlabeled, tmp_path, name, kind) -> None:
    record = Record()
    _, fit, _ = pipeline.train(unlabeled("trainer.max_epochs=1", f"trainer.optimizer={name}",
                                         "trainer.schedule=cosine"), callbacks=[record])
    assert record.optimizer is kind and fit.checkpoint is not None
    restored = PretextModule.from_checkpoint(fit.checkpoint)
    assert (restored.optimizer_name, restored.schedule, restored.warmup_epochs) == (name, "cosine", 0)


def test_checkpoints_without_optimizer_settings_still_load(unlabeled, tmp_path) -> None:
    _, fit, _ = pipeline.train(unlabeled("trainer.max_epochs=1"))
    assert fit.checkpoint is not None
    checkpoint = torch.load(fit.checkpoint, weights_only=False)
    for key in ("optimizer", "schedule", "warmup_epochs"):
        del checkpoint["proxyml"][key]
    torch.save(checkpoint, tmp_path / "old.ckpt")
    module = PretextModule.from_checkpoint(tmp_path / "old.ckpt")
    assert (module.optimizer_name, module.schedule, module.warmup_epochs) == ("adamw", "constant", 0)


def test_a_killed_run_with_warm_up_and_cosine_resumes_to_the_same_weights(monkeypatch, tmp_path) -> None:
    # the conformance check with its trainer section switched to a scheduled one: killed after
    # epoch 0 (the warm-up), resumed into the cosine part
    scheduled = functools.partial(recipe_module.TrainerSection, schedule="cosine", warmup_epochs=1)
    monkeypatch.setattr(recipe_module, "TrainerSection", scheduled)
    encoder_cls = ENCODERS.get("tabular.mlp")
    params = dict(encoder_cls.test_params()[0], dropout=0.3)
    task_cls = TASKS.get("tabular.corrupted_cells")
    check_resume_matches(task_cls, task_cls.test_params()[0], encoder_cls, params, tmp_path)


# -- threads --------------------------------------------------------------------------------------
def test_threads_are_set_for_the_fit_and_the_prediction_and_restored_after(unlabeled) -> None:
    before, environ = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    torch.set_num_threads(3)
    try:
        record = Record()
        recipe = unlabeled("trainer.max_epochs=1", "trainer.threads=1")
        module, fit, prepared = pipeline.train(recipe, callbacks=[record])
        assert record.threads == [1] and fit.threads == 1 and fit.summary()["threads"] == 1
        assert torch.get_num_threads() == 3 and os.environ.get("OMP_NUM_THREADS") == environ

        seen, predict_step = [], module.predict_step

        def spy(*args, **kwargs):
            seen.append(torch.get_num_threads())
            return predict_step(*args, **kwargs)

        module.predict_step = spy  # type: ignore[method-assign]
        trainer = Trainer(recipe.trainer.model_copy(update={"threads": 2}), recipe.output_dir, seed=recipe.seed)
        trainer.predict(module, prepared.dataset)
        assert seen and set(seen) == {2} and torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_limited_threads_restores_torch_and_the_environment_after_an_error(monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), limited_threads(1):
        assert torch.get_num_threads() == 1 and os.environ["OMP_NUM_THREADS"] == "1"
        raise RuntimeError
    assert torch.get_num_threads() == before and os.environ["OMP_NUM_THREADS"] == "7"


def test_auto_threads_rule() -> None:
    assert [auto_threads(0, cores) for cores in (1, 2, 4, 6, 8, 16, 64)] == [1, 1, 1, 3, 4, 4, 4]
    assert auto_threads(1, cores=16) == 1  # DataLoader workers take the other cores


def test_threads_setting_is_validated(unlabeled) -> None:
    with pytest.raises(RecipeError, match=r"trainer\.threads: use a number of threads >= 1, or auto"):
        unlabeled("trainer.threads=0")
    with pytest.raises(RecipeError, match=r"trainer\.warmup_epochs: must be less than max_epochs \(3\)"):
        unlabeled("trainer.warmup_epochs=3")


def test_bad_trainer_settings_fail_before_reading_data(tiny_recipe, tmp_path) -> None:
    with pytest.raises(RecipeError, match="trainer: Lightning refuses these settings.*precision='bogus'"):
        pipeline.run(tiny_recipe("trainer.precision=bogus"))
    assert not (tmp_path / "run").exists()
