"""The plugin contract as executable checks, in the spirit of scikit-learn's ``check_estimator``.

A third-party task passes when ``check_task(MyTask)`` raises nothing; the project's own test
suite runs every check on every registered task and encoder.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from proxyml.data import ArraySampleSet, SampleSet
from proxyml.encoders import Encoder
from proxyml.registry import ENCODERS, MODALITIES
from proxyml.tasks import PretextTask

BATCH = 16
M = TypeVar("M", bound=nn.Module)


@dataclass
class TaskFixture:
    task: PretextTask
    encoder: Encoder
    head: nn.Module
    batch: dict[str, Any]


def _default_encoder_cls(task_cls: type[PretextTask]) -> type[Encoder]:
    default = ENCODERS.get(MODALITIES.get(task_cls.modality).default_encoder)
    if compatible(task_cls, default):
        return default
    return next(ENCODERS.get(n) for n in ENCODERS.names() if compatible(task_cls, ENCODERS.get(n)))


def task_fixture(
    task_cls: type[PretextTask],
    params: dict[str, Any],
    encoder_cls: type[Encoder] | None = None,
    metadata: pd.DataFrame | None = None,
    *,
    test_metadata: bool = False,
) -> TaskFixture:
    """A task, a small encoder and head, and a seeded input batch, ready for the checks."""
    encoder_cls = encoder_cls or _default_encoder_cls(task_cls)
    spec = encoder_cls.test_spec()
    encoder = _seeded(lambda: encoder_cls(spec, encoder_cls.Params(**encoder_cls.test_params()[0])), 0)
    x = encoder_cls.test_input(spec, BATCH, torch.Generator().manual_seed(0))
    task = task_cls(**params)
    task.check_spec(spec)
    ids = [str(i) for i in range(BATCH)]
    if metadata is None and test_metadata:
        metadata = task_cls.test_metadata(ids, params)
    task.prepare(_Inputs(x, ids, spec=spec, source="conformance", metadata=metadata))
    head = _seeded(lambda: task.build_head(encoder.embed_dim, spec), 1)
    return TaskFixture(task, encoder, head, {"index": torch.arange(BATCH), "x": x})


class _Inputs(SampleSet):
    """A batch ``x`` (a tensor or a dict of tensors, already padded alike) as a sample set."""

    def __init__(self, x: Any, ids: list[str], **kwargs: Any) -> None:
        super().__init__(ids, **kwargs)
        self.x = x

    def load(self, index: int) -> Any:
        return _rows(self.x, index)

    def raw(self, indices: Any) -> np.ndarray:
        if isinstance(self.x, dict):
            raise NotImplementedError("variable-length test inputs have no stacked raw form")
        return self.x[np.asarray(indices)].numpy()


def _rows(x: Any, rows: Any) -> Any:
    """Rows of a batch ``x``: a tensor, or a dict of tensors sharing their first dimension."""
    if isinstance(x, dict):
        return {key: value[rows] for key, value in x.items()}
    return x[rows]


def _clone(x: Any) -> Any:
    if isinstance(x, dict):
        return {key: value.clone() for key, value in x.items()}
    return x.clone()


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _flatten(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flatten(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _flatten(v)]
    raise TypeError(f"make_batch returned an unsupported type {type(value).__name__}")


def _same(a: Any, b: Any) -> bool:
    left, right = _flatten(a), _flatten(b)
    return len(left) == len(right) and all(
        x.shape == y.shape and torch.equal(x, y) for x, y in zip(left, right, strict=True)
    )


def check_params_round_trip(f: TaskFixture) -> None:
    params = f.task.get_params()
    again = type(f.task)(**params).get_params()
    if again != params:
        raise AssertionError(f"get_params() does not round-trip: {params} -> {again}")


def check_shapes_and_dtypes(f: TaskFixture) -> None:
    inputs, targets = f.task.make_batch(f.batch, _generator(1))
    if targets.shape[0] != BATCH:
        raise AssertionError(f"targets have batch size {targets.shape[0]}, expected {BATCH}")
    outputs = f.task.forward(f.encoder, f.head, inputs)
    loss = f.task.loss(outputs, targets)
    if loss.ndim != 0 or not loss.dtype.is_floating_point:
        raise AssertionError(f"loss must be a floating scalar, got shape {tuple(loss.shape)} {loss.dtype}")
    f.encoder.eval()
    with torch.no_grad():
        scores = f.task.proxy_score(f.encoder, f.head, f.batch)
        embedding = f.encoder(f.task.embed_input(f.batch))
    f.encoder.train()
    if scores.shape != (BATCH,) or not scores.dtype.is_floating_point:
        raise AssertionError(f"proxy_score must be float (B,), got {tuple(scores.shape)} {scores.dtype}")
    if not torch.isfinite(scores).all():
        raise AssertionError("proxy_score has non-finite values")
    if embedding.shape != (BATCH, f.encoder.embed_dim):
        raise AssertionError(f"embedding shape {tuple(embedding.shape)} != (B, embed_dim)")


def check_seeded_reproducibility(f: TaskFixture) -> None:
    first = f.task.make_batch(f.batch, _generator(3))
    again = f.task.make_batch(f.batch, _generator(3))
    if not _same(first, again):
        raise AssertionError("make_batch with the same seed gave different results")
    state = torch.random.get_rng_state()
    f.task.make_batch(f.batch, _generator(4))
    if not torch.equal(state, torch.random.get_rng_state()):
        raise AssertionError("make_batch used the global random generator")


def check_seed_changes_batch(f: TaskFixture) -> None:
    if not f.task.uses_randomness():
        return
    batches = [f.task.make_batch(f.batch, _generator(seed)) for seed in range(5)]
    if all(_same(batches[0], b) for b in batches[1:]):
        raise AssertionError("make_batch ignores its generator: five seeds gave the same batch")


def check_input_not_mutated(f: TaskFixture) -> None:
    before = _clone(f.batch["x"])
    f.task.make_batch(f.batch, _generator(5))
    if not _same(before, f.batch["x"]):
        raise AssertionError("make_batch modified its input batch")


def check_targets_vary(f: TaskFixture) -> None:
    if f.task.family in {"reconstruction"}:
        return  # targets are data, they vary with the data
    targets = torch.cat([f.task.make_batch(f.batch, _generator(seed))[1] for seed in range(4)])
    if torch.unique(targets[targets != -100]).numel() < 2:
        raise AssertionError("synthetic targets are constant: the task cannot teach anything")


def check_picklable(f: TaskFixture) -> None:
    clone = pickle.loads(pickle.dumps(f.task))
    if clone.get_params() != f.task.get_params():
        raise AssertionError("a pickled task has different parameters")
    if not _same(clone.make_batch(f.batch, _generator(6)), f.task.make_batch(f.batch, _generator(6))):
        raise AssertionError("a pickled task makes different batches")


def check_training_step(f: TaskFixture) -> None:
    params = list(f.encoder.parameters()) + list(f.head.parameters())
    inputs, targets = f.task.make_batch(f.batch, _generator(7))
    loss = f.task.loss(f.task.forward(f.encoder, f.head, inputs), targets)
    if not torch.isfinite(loss):
        raise AssertionError(f"training loss is not finite: {loss}")
    loss.backward()
    grads = [p.grad for p in params if p.grad is not None]
    if not grads or not all(torch.isfinite(g).all() for g in grads):
        raise AssertionError("gradients are missing or not finite")
    if all(float(g.abs().sum()) == 0 for g in grads):
        raise AssertionError("all gradients are zero")
    for p in params:
        p.grad = None


TASK_CHECKS: list[Callable[[TaskFixture], None]] = [
    check_params_round_trip, check_shapes_and_dtypes, check_seeded_reproducibility,
    check_seed_changes_batch, check_input_not_mutated, check_targets_vary, check_picklable,
    check_training_step,
]


def check_task(task_cls: type[PretextTask], **fixture_kwargs: Any) -> None:
    """Run every task check with every ``task_cls.test_params()``."""
    for params in task_cls.test_params():
        for check in TASK_CHECKS:
            check(task_fixture(task_cls, params, **{"test_metadata": True, **fixture_kwargs}))


def _encoder_and_input(encoder_cls: type[Encoder], params: dict[str, Any]) -> tuple[Encoder, torch.Tensor]:
    spec = encoder_cls.test_spec()
    encoder = _seeded(lambda: encoder_cls(spec, encoder_cls.Params(**params)), 0)
    return encoder, encoder_cls.test_input(spec, BATCH, _generator(0))


def _seeded(build: Callable[[], M], seed: int) -> M:
    """``build()`` with seeded weight initialisation, leaving the caller's global RNG as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return build()


def check_encoder_output(encoder_cls: type[Encoder], params: dict[str, Any]) -> None:
    encoder, x = _encoder_and_input(encoder_cls, params)
    out = encoder(x)
    if out.shape != (BATCH, encoder.embed_dim) or not torch.isfinite(out).all():
        raise AssertionError(f"forward gave {tuple(out.shape)}, expected finite (B, {encoder.embed_dim})")
    out.sum().backward()
    if not any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in encoder.parameters()):
        raise AssertionError("no gradient reaches the encoder's parameters")


def check_encoder_deterministic(encoder_cls: type[Encoder], params: dict[str, Any]) -> None:
    encoder, x = _encoder_and_input(encoder_cls, params)
    encoder.eval()
    with torch.no_grad():
        if not torch.equal(encoder(x), encoder(x)):
            raise AssertionError("an encoder in eval mode gave two different outputs for one input")
        single = encoder(_rows(x, slice(0, 1)))
        if not torch.allclose(single, encoder(x)[:1], atol=1e-5):
            raise AssertionError("in eval mode a sample's embedding depends on the rest of the batch")


def check_encoder_state_round_trip(encoder_cls: type[Encoder], params: dict[str, Any]) -> None:
    encoder, x = _encoder_and_input(encoder_cls, params)
    other = _seeded(lambda: encoder_cls(encoder.spec, encoder_cls.Params(**params)), 1)
    other.load_state_dict(pickle.loads(pickle.dumps(encoder.state_dict())))
    encoder.eval(), other.eval()
    with torch.no_grad():
        if not np.allclose(encoder(x).numpy(), other(x).numpy()):
            raise AssertionError("an encoder restored from its state_dict gives different outputs")


def check_encoder_ignores_padding(encoder_cls: type[Encoder], params: dict[str, Any]) -> None:
    """A variable-length encoder gives a sample the same embedding however much padding follows it."""
    if not encoder_cls.variable_length:
        return
    encoder, x = _encoder_and_input(encoder_cls, params)
    if not isinstance(x, dict) or "mask" not in x:
        raise AssertionError("a variable_length encoder's test_input must be a padded batch {'values', 'mask', ...}")
    encoder.eval()
    length = int(x["mask"][0].sum())

    def axis(key: str, value: torch.Tensor) -> int:  # the mask runs along the last axis; values along mask_axis
        return value.ndim - 1 if key == "mask" or value.ndim == 2 else encoder_cls.mask_axis % value.ndim

    alone = {key: value[:1].narrow(axis(key, value), 0, length) for key, value in x.items()}
    padded = {}
    for key, value in alone.items():  # 9 more padded steps
        shape = list(value.shape)
        shape[axis(key, value)] = 9
        padded[key] = torch.cat([value, value.new_zeros(shape)], dim=axis(key, value))
    with torch.no_grad():
        if not torch.allclose(encoder(alone), encoder(padded), atol=1e-5):
            raise AssertionError("a sample's embedding changes with the padding after it: mask every layer's output")


ENCODER_CHECKS = [check_encoder_output, check_encoder_deterministic, check_encoder_state_round_trip,
                  check_encoder_ignores_padding]


class _Killed(RuntimeError):
    pass


def check_resume_matches(
    task_cls: type[PretextTask],
    params: dict[str, Any],
    encoder_cls: type[Encoder],
    encoder_params: dict[str, Any],
    folder: str | Path,
) -> None:
    """Training killed after its first epoch and resumed ends with the weights of training
    that was not interrupted (in ``folder``, two runs of two epochs on 48 test inputs).

    Run it with ``encoder_params`` that switch on any randomness the encoder has (dropout).
    """
    from lightning.pytorch import Callback

    from proxyml.recipe import TrainerSection
    from proxyml.trainer import PretextModule, Trainer

    class KillAfterFirstEpoch(Callback):
        """Stops a fit the way a kill does: after epoch 0 and its checkpoint are done."""

        def on_train_epoch_start(self, trainer: Any, module: Any) -> None:
            if trainer.current_epoch == 1:
                raise _Killed

    spec = encoder_cls.test_spec()
    x = encoder_cls.test_input(spec, 48, _generator(0))
    ids = [str(i) for i in range(48)]
    dataset: SampleSet = (_Inputs(x, ids, spec=spec, source="conformance",
                                  metadata=task_cls.test_metadata(ids, params))
                          if isinstance(x, dict) or task_cls.needs_metadata else
                          ArraySampleSet(x.numpy(), ids, spec=spec, source="conformance"))
    config = TrainerSection(max_epochs=2, batch_size=8, val_fraction=0.2, early_stopping_patience=None,
                            progress_bar=False, accelerator="cpu", devices=1)

    def module() -> PretextModule:
        task = task_cls(**params)
        task.prepare(dataset)
        return _seeded(lambda: PretextModule(task, encoder_cls(spec, encoder_cls.Params(**encoder_params)),
                                             seed=5), 0)

    saved: dict[str, dict[str, Any]] = {}
    for name in ("straight", "killed"):
        folder_k = Path(folder) / name
        trainer = Trainer(config, folder_k, seed=5, callbacks=[KillAfterFirstEpoch()] if name == "killed" else [])
        try:
            trainer.fit(module(), dataset)
        except _Killed:
            Trainer(config, folder_k, seed=5).fit(module(), dataset, resume=True)
        saved[name] = {f.name: torch.load(f, weights_only=False) for f in (folder_k / "checkpoints").glob("*.ckpt")}
    straight, killed = saved["straight"], saved["killed"]
    if set(straight) != set(killed) or "last.ckpt" not in straight:
        raise AssertionError(f"checkpoints differ: {sorted(straight)} uninterrupted, {sorted(killed)} resumed")
    if straight["last.ckpt"]["epoch"] != 1:
        raise AssertionError(f"last.ckpt is from epoch {straight['last.ckpt']['epoch']}, expected 1")
    for file in straight:
        if straight[file]["epoch"] != killed[file]["epoch"]:
            raise AssertionError(f"{file}: epoch {straight[file]['epoch']} uninterrupted, "
                                 f"{killed[file]['epoch']} resumed")
        for key, value in straight[file]["state_dict"].items():
            if not torch.equal(value, killed[file]["state_dict"][key]):
                raise AssertionError(f"{file}: a resumed run ends with other weights than an "
                                     f"uninterrupted one ({key})")


def compatible(task_cls: type[PretextTask], encoder_cls: type[Encoder]) -> bool:
    """Whether the conformance suite can train ``task_cls`` on ``encoder_cls``'s test inputs."""
    return task_cls.modality == encoder_cls.modality and task_cls.variable_length == encoder_cls.variable_length


def check_encoder(encoder_cls: type[Encoder]) -> None:
    for params in encoder_cls.test_params():
        for check in ENCODER_CHECKS:
            check(encoder_cls, params)


def check_sample_set(dataset: SampleSet, workers: int = 2) -> None:
    """The data path: unique ids, samples that match the spec, a set that pickles, and a real
    DataLoader with ``workers`` worker processes that batches it with the set's own collate."""
    from torch.utils.data import DataLoader

    from proxyml.data import batch_size

    if len(dataset.ids) != len(set(dataset.ids)) or len(dataset) != len(dataset.ids):
        raise AssertionError("sample ids must be unique, one per sample")
    if len(dataset) < 4:
        raise AssertionError("the test data must hold at least 4 samples")
    channels = dataset.spec.get("channels")
    for i in range(min(4, len(dataset))):
        sample = dataset.load(i)
        values = sample["values"] if isinstance(sample, dict) else sample
        if channels is not None and values.shape[0] != channels:
            raise AssertionError(f"sample {i} has {values.shape[0]} channels; the spec says {channels}")
        if not torch.isfinite(torch.as_tensor(values, dtype=torch.float32)).all():
            raise AssertionError(f"sample {i} holds values that are not finite")
    if not _same(dataset[(0, 7)]["x"], dataset[(0, 7)]["x"]):
        raise AssertionError("load_training with the same seed gave two different samples")
    clone = pickle.loads(pickle.dumps(dataset))
    if clone.ids != dataset.ids or not _same(clone.load(0), dataset.load(0)):
        raise AssertionError("a pickled sample set (as DataLoader workers get it) loads other samples")
    loader = DataLoader(dataset, batch_size=4, num_workers=workers, collate_fn=dataset.collate)
    batch = next(iter(loader))
    if batch["index"].tolist() != [0, 1, 2, 3] or batch_size(batch["x"]) != 4:
        raise AssertionError(f"a batch of 4 came back with index {batch['index'].tolist()}")
    if dataset.variable_length and not (isinstance(batch["x"], dict) and "mask" in batch["x"]):
        raise AssertionError("a variable-length set must batch its samples with a mask (pad_collate)")


def check_modality(modality_cls: Any, folder: str | Path) -> None:
    """Read the modality's test data (``write_test_data``), check the data path, and read it
    again with the fitted preprocessing: the same samples must come back."""
    source, params = modality_cls.write_test_data(Path(folder))
    modality = modality_cls()
    reader_params = modality.reader_params(params)
    dataset = modality.read(source, reader_params)
    if dataset.modality != modality_cls.registry_name:
        raise AssertionError(f"the reader made a {dataset.modality!r} set, not {modality_cls.registry_name!r}")
    if dataset.variable_length != modality_cls.variable_length:
        raise AssertionError("the sample set's variable_length differs from what the modality declares")
    check_sample_set(dataset)
    stored = getattr(dataset, "preprocessing", None)
    again = modality.read(source, reader_params, preprocessing=stored or None)
    if again.ids != dataset.ids or not _same(again.load(0), dataset.load(0)):
        raise AssertionError("reading with the stored preprocessing gives other samples")
