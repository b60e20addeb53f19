"""The common Trainer: one Lightning loop for every task and modality.

:class:`PretextModule` is a generic LightningModule (an encoder + a task head); :class:`Trainer`
maps a recipe's ``trainer:`` section onto :class:`lightning.pytorch.Trainer`, so checkpoints,
resume, early stopping, progress bars, CSV logs, mixed precision and multi-GPU / multi-node
strategies come from Lightning. Nothing here knows about a modality.

Reproducibility: every batch's perturbation uses a generator seeded from
``(seed, stage, epoch, batch index, rank)``, the model's own randomness in training (dropout) draws
from the global generators reseeded the same way for the length of the step and restored after it,
and the shuffling order is seeded per epoch, so a run that is killed and resumed from its last
checkpoint ends with the same weights as one that was not.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import shutil
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler, Subset

from proxyml.data import SampleSet
from proxyml.devices import check_settings, lightning_arguments
from proxyml.encoders import Encoder, create_encoder
from proxyml.errors import DataError, RecipeError
from proxyml.recipe import TrainerSection
from proxyml.tasks import PretextTask, create_task

log = logging.getLogger(__name__)
STAGES = {"train": 0, "val": 1, "model": 2}  # "model": the module's own randomness (dropout)


def batch_seed(seed: int, stage: str, epoch: int, batch_index: int, rank: int = 0, stream: int = 0) -> int:
    """A 63-bit seed for one batch's perturbations, independent of anything global; ``stream``
    tells the tasks of a multitask module apart (0, the first, draws as a one-task module does)."""
    entropy = [seed, STAGES[stage], epoch, batch_index, rank] + ([stream] if stream else [])
    state = np.random.SeedSequence(entropy).generate_state(2)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


@contextmanager
def seeded_global_rng(seed: int, device: torch.device) -> Iterator[None]:
    """Run a block with torch's global generator (and ``device``'s, on CUDA) seeded with
    ``seed``, restoring the previous states afterwards.

    Modules draw their own randomness (dropout) from the global generators; seeding them per
    step is what makes a resumed run draw what an uninterrupted one draws.
    """
    cuda = device.type == "cuda"
    with torch.random.fork_rng(devices=[device] if cuda else [], device_type="cuda"):
        torch.random.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(device):
                torch.cuda.manual_seed(seed)
        elif device.type == "mps":  # not forked by fork_rng: seeded, not restored
            torch.mps.manual_seed(seed)
        yield


# lightning.Trainer arguments that proxyml sets itself, and what a recipe says instead
RESERVED_LIGHTNING_ARGUMENTS = {
    **{name: f"use trainer.{name}" for name in ("accelerator", "strategy", "devices", "num_nodes", "precision",
                                                 "deterministic", "max_epochs", "gradient_clip_val",
                                                 "log_every_n_steps")},
    "enable_progress_bar": "use trainer.progress_bar",
    "callbacks": "proxyml sets them (checkpoints; early stopping: trainer.early_stopping_patience)",
    "logger": "proxyml logs to <run>/logs/version_N/metrics.csv",
    "enable_checkpointing": "proxyml writes <run>/checkpoints/last.ckpt and best.ckpt",
    "default_root_dir": "use output.dir",
    "num_sanity_val_steps": "proxyml runs no sanity check (0)",
}
# of the trainer.lightning arguments, those also given to the Trainer that embeds and scores
PREDICT_LIGHTNING_ARGUMENTS = frozenset({"benchmark", "inference_mode", "plugins", "profiler"})


@functools.lru_cache(maxsize=1)
def lightning_trainer_arguments() -> frozenset[str]:
    """The argument names of :class:`lightning.pytorch.Trainer` (read once)."""
    import inspect

    return frozenset(name for name in inspect.signature(pl.Trainer.__init__).parameters if name != "self")


def lightning_argument_problem(arguments: dict[str, Any]) -> str | None:
    """Why ``trainer.lightning`` cannot have these names, in one line (``None``: it can).

    Example:
        >>> lightning_argument_problem({"accumulate_grad_batch": 2})
        'accumulate_grad_batch is not an argument of lightning.pytorch.Trainer; did you mean accumulate_grad_batches?'
        >>> lightning_argument_problem({"max_epochs": 3})
        'max_epochs is set by proxyml: use trainer.max_epochs'
        >>> lightning_argument_problem({"limit_train_batches": 2}) is None
        True
    """
    import difflib

    known = lightning_trainer_arguments()
    for name in arguments:
        if name in RESERVED_LIGHTNING_ARGUMENTS:
            return f"{name} is set by proxyml: {RESERVED_LIGHTNING_ARGUMENTS[name]}"
        if name not in known:
            close = difflib.get_close_matches(str(name), sorted(known - set(RESERVED_LIGHTNING_ARGUMENTS)), n=1)
            hint = f"; did you mean {close[0]}?" if close else f" (Lightning {pl.__version__})"
            return f"{name} is not an argument of lightning.pytorch.Trainer{hint}"
    return None


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity; ``os.cpu_count()`` where unknown)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def auto_threads(workers: int, cores: int | None = None) -> int:
    """``trainer.threads: auto``: 1 when DataLoader workers are used or there are at most 4
    usable cores, else ``min(4, cores // 2)``. One thread holds up when anything else wants the
    CPU (see benchmarks/threads.py); more gain little on small models.

    Example:
        >>> auto_threads(0, cores=2), auto_threads(2, cores=16), auto_threads(0, cores=6), auto_threads(0, cores=16)
        (1, 1, 3, 4)
    """
    cores = usable_cores() if cores is None else cores
    if workers > 0 or cores <= 4:
        return 1
    return min(4, cores // 2)


@contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """Run a block with ``threads`` torch intra-op threads, BLAS threads (threadpoolctl) and
    ``OMP_NUM_THREADS`` (which Lightning's DDP launchers honour instead of choosing their own),
    restoring the previous values afterwards."""
    from threadpoolctl import threadpool_limits

    previous, environ = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(previous)
        if environ is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = environ


class EpochSeededSampler(Sampler[Any]):
    """Shuffles with a fresh, seeded order each epoch (Lightning calls :meth:`set_epoch`);
    ``keyed``: yields ``(position, epoch)`` keys for a :class:`_KeyedSubset`."""

    def __init__(self, size: int, seed: int, *, keyed: bool = False) -> None:
        self.size, self.seed, self.epoch, self.keyed = size, seed, 0, keyed

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[Any]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.size).tolist()
        return iter([(i, self.epoch) for i in order] if self.keyed else order)

    def __len__(self) -> int:
        return self.size


class _InOrder(Sampler[tuple[int, int]]):
    """``(position, 0)`` keys in order: the held-out batches, the same every epoch."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter([(i, 0) for i in range(self.size)])

    def __len__(self) -> int:
        return self.size


class _KeyedSubset(torch.utils.data.Dataset):
    """Positions ``indices`` of a sample set, fetched with a seed per (run seed, stage, epoch,
    sample) so that :meth:`SampleSet.load_training` draws the same in any worker, on resume too."""

    def __init__(self, dataset: SampleSet, indices: np.ndarray, seed: int, stage: str) -> None:
        self.dataset, self.indices, self.seed, self.stage = dataset, np.asarray(indices, dtype=np.int64), seed, stage

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        position, epoch = key
        index = int(self.indices[position])
        return self.dataset[(index, batch_seed(self.seed, self.stage, epoch, index, 0, 1))]


class LengthBucketSampler(Sampler[list[Any]]):
    """Batches of samples of similar length, so that little of a padded batch is padding.

    Each epoch (seeded, like :class:`EpochSeededSampler`): a fresh permutation, cut into pools
    of ``pool`` batches; within a pool the samples are sorted by length and cut into batches;
    the batches of all pools are then shuffled. Every sample appears once per epoch.
    """

    def __init__(self, lengths: Sequence[int] | np.ndarray, batch_size: int, seed: int, pool: int = 50, *,
                 keyed: bool = False) -> None:
        self.lengths, self.batch_size, self.seed, self.pool = np.asarray(lengths), batch_size, seed, pool
        self.epoch, self.keyed = 0, keyed

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[list[Any]]:
        rng = np.random.default_rng([self.seed, self.epoch, 3])
        order = rng.permutation(len(self.lengths))
        span = self.batch_size * self.pool
        batches = []
        for start in range(0, len(order), span):
            chunk = order[start:start + span]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[i:i + self.batch_size].tolist() for i in range(0, len(chunk), self.batch_size)]
        for i in rng.permutation(len(batches)):
            yield [(j, self.epoch) for j in batches[i]] if self.keyed else batches[i]  # keys for a _KeyedSubset

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)


class PretextModule(pl.LightningModule):
    """An encoder and one head per pretext task, trained on the tasks' weighted summed loss.

    ``task`` is one :class:`PretextTask` or a ``{key: task}`` dict (multitask pretext training:
    one shared encoder, ``weights`` per key). Predicting gives the embedding and one proxy score
    per task ``(B, n_tasks)``.
    """

    def __init__(
        self,
        task: PretextTask | dict[str, PretextTask],
        encoder: Encoder,
        *,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        seed: int = 0,
        preprocessing: dict[str, Any] | None = None,
        weights: dict[str, float] | None = None,
        optimizer: str = "adamw",
        schedule: str = "constant",
        warmup_epochs: int = 0,
    ) -> None:
        super().__init__()
        self.tasks = dict(task) if isinstance(task, dict) else {"": task}
        self.weights = {key: float((weights or {}).get(key, 1.0)) for key in self.tasks}
        self.encoder = encoder
        heads = {key: t.build_head(encoder.embed_dim, encoder.spec) for key, t in self.tasks.items()}
        if list(heads) == [""]:
            self.head = heads[""]  # one task: the state dict keys stay "head.*"
        else:
            self.heads = nn.ModuleDict(heads)
        self.learning_rate, self.weight_decay, self.seed = learning_rate, weight_decay, seed
        self.optimizer_name, self.schedule, self.warmup_epochs = optimizer, schedule, warmup_epochs
        self.preprocessing = preprocessing or {}
        self.decode_failures: dict[int, str] = {}  # position -> why the sample could not be decoded
        self.sample_ids: list[str] | None = None  # the ids of the set being trained or predicted on

    @property
    def task(self) -> PretextTask:
        """The task of a one-task module."""
        if len(self.tasks) != 1:
            raise AttributeError(f"this module trains {len(self.tasks)} tasks: use .tasks")
        return next(iter(self.tasks.values()))

    def head_of(self, key: str) -> nn.Module:
        return self.head if key == "" else self.heads[key]

    # -- building and restoring ------------------------------------------------------------
    def description(self) -> dict[str, Any]:
        """Everything needed to rebuild this module, stored in every checkpoint."""
        tasks = [{"key": key, "name": t.registry_name, "params": t.get_params(), "state": t.get_state(),
                  "weight": self.weights[key]} for key, t in self.tasks.items()]
        return {
            "tasks": tasks,
            "encoder": {"name": self.encoder.registry_name, "params": self.encoder.params.model_dump()},
            "spec": self.encoder.spec,
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "optimizer": self.optimizer_name,
            "schedule": self.schedule,
            "warmup_epochs": self.warmup_epochs,
            "seed": self.seed,
            "preprocessing": self.preprocessing,
        }

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["proxyml"] = self.description()

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> PretextModule:
        """Rebuild a trained module from a checkpoint written by :class:`Trainer`."""
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:  # truncated, corrupt or foreign files fail in many ways
            raise DataError(f"{path}: cannot read the checkpoint ({type(exc).__name__}: {exc})") from None
        if not isinstance(checkpoint, dict) or "proxyml" not in checkpoint:
            raise DataError(f"{path} is not a proxyml checkpoint (written by `proxyml train` or `run`)")
        info = checkpoint["proxyml"]
        entries = info.get("tasks") or [{"key": "", "name": info["task"]["name"], "params": info["task"]["params"],
                                          "state": info.get("task_state", {}), "weight": 1.0}]  # before tasks lists
        tasks = {}
        for entry in entries:
            tasks[entry["key"]] = create_task(entry["name"], entry["params"])
            tasks[entry["key"]].set_state(entry["state"])
        module = cls(
            tasks,
            create_encoder(info["encoder"]["name"], info["spec"], info["encoder"]["params"]),
            learning_rate=info["learning_rate"],
            weight_decay=info["weight_decay"],
            optimizer=info.get("optimizer", "adamw"),  # checkpoints from before these settings: the defaults
            schedule=info.get("schedule", "constant"),
            warmup_epochs=info.get("warmup_epochs", 0),
            seed=info["seed"],
            preprocessing=info["preprocessing"],
            weights={e["key"]: e["weight"] for e in entries},
        )
        module.load_state_dict(checkpoint["state_dict"])
        return module.eval()

    # -- Lightning hooks -------------------------------------------------------------------
    def _generator(self, stage: str, batch_index: int, stream: int = 0) -> torch.Generator:
        epoch = self.current_epoch if stage == "train" else 0  # the same val batches every epoch
        generator = torch.Generator(device=self.device)
        generator.manual_seed(batch_seed(self.seed, stage, epoch, batch_index, self.global_rank, stream))
        return generator

    def _sample_name(self, index: int) -> str:
        """``'call07' (position 3)`` when the module knows the data set's ids, else the position."""
        ids = self.sample_ids
        return f"{ids[index]!r} (position {index})" if ids is not None and 0 <= index < len(ids) else \
            f"at position {index}"

    def _note_failures(self, batch: dict[str, Any]) -> None:
        for index, reason in batch.get("failed", ()):
            if index not in self.decode_failures:
                log.warning("sample %s %s; left out", self._sample_name(index), reason)
            self.decode_failures[index] = reason

    def _step(self, batch: dict[str, Any], batch_index: int, stage: str) -> torch.Tensor | None:
        self._note_failures(batch)
        if len(batch["index"]) == 0:
            return None  # every sample of the batch failed to decode: Lightning skips the step
        epoch = self.current_epoch if stage == "train" else 0
        size = len(batch["index"])
        total = None
        for stream, (key, task) in enumerate(self.tasks.items()):
            inputs, targets = task.make_batch(batch, self._generator(stage, batch_index, stream))
            # dropout masks are drawn here, in the forward pass (backward draws nothing)
            seed = batch_seed(self.seed, "model", epoch, batch_index, self.global_rank, stream)
            with seeded_global_rng(seed, self.device):
                loss = task.loss(task.forward(self.encoder, self.head_of(key), inputs), targets)
            if key:
                self.log(f"{stage}_loss_{key}", loss, on_step=False, on_epoch=True, batch_size=size,
                         sync_dist=stage == "val")
            total = self.weights[key] * loss if total is None else total + self.weights[key] * loss
        self.log(f"{stage}_loss", total, prog_bar=True, on_step=stage == "train", on_epoch=True,  # type: ignore[arg-type]
                 batch_size=size, sync_dist=stage == "val")  # early stopping sees every rank's loss
        return total

    def training_step(self, batch: dict[str, Any], batch_index: int) -> torch.Tensor | None:
        return self._step(batch, batch_index, "train")

    def validation_step(self, batch: dict[str, Any], batch_index: int) -> torch.Tensor | None:
        return self._step(batch, batch_index, "val")

    def predict_step(self, batch: dict[str, Any], batch_index: int) -> dict[str, torch.Tensor]:
        self._note_failures(batch)
        if len(batch["index"]) == 0:
            return {"index": batch["index"].cpu(), "embedding": torch.zeros(0, self.encoder.embed_dim),
                    "proxy_score": torch.zeros(0, len(self.tasks))}
        first = next(iter(self.tasks.values()))
        inputs = first.embed_input(batch)
        embedding = self.encoder(inputs)
        # most proxy scores encode the same input again: hand them the embedding just computed
        encoder = _ReuseOutput(self.encoder, inputs, embedding)
        scores = [task.proxy_score(encoder, self.head_of(key), batch).float()  # type: ignore[arg-type]
                  for key, task in self.tasks.items()]
        return {"index": batch["index"].cpu(), "embedding": embedding.float().cpu(),
                "proxy_score": torch.stack(scores, dim=1).cpu()}

    def configure_optimizers(self) -> Any:
        """``optimizer`` (adamw, adam, or sgd with momentum 0.9) and, with a ``schedule`` or a
        warm-up, a per-step :class:`~torch.optim.lr_scheduler.LambdaLR`: linear warm-up over
        ``warmup_epochs``, then constant or cosine decay to 0 at the Trainer's ``max_epochs``.
        Lightning saves the scheduler's state in every checkpoint, so a resumed run continues
        the schedule where it stopped."""
        lr, decay = self.learning_rate, self.weight_decay
        if self.optimizer_name == "sgd":
            optimizer: torch.optim.Optimizer = torch.optim.SGD(self.parameters(), lr=lr, momentum=0.9,
                                                               weight_decay=decay)
        elif self.optimizer_name == "adam":
            optimizer = torch.optim.Adam(self.parameters(), lr=lr, weight_decay=decay)
        elif self.optimizer_name == "adamw":
            optimizer = torch.optim.AdamW(self.parameters(), lr=lr, weight_decay=decay)
        else:
            raise RecipeError(f"trainer.optimizer: unknown optimizer {self.optimizer_name!r}; use adamw, adam or sgd")
        if self.schedule == "constant" and not self.warmup_epochs:
            return optimizer
        if self.schedule not in ("constant", "cosine"):
            raise RecipeError(f"trainer.schedule: unknown schedule {self.schedule!r}; use constant or cosine")
        total = max(1, int(self.trainer.estimated_stepping_batches))
        warmup = min(total, round(self.warmup_epochs * total / max(1, self.trainer.max_epochs or 1)))
        cosine = self.schedule == "cosine"

        def factor(step: int) -> float:  # a plain function: LambdaLR saves no state for it
            if step < warmup:
                return (step + 1) / warmup
            if not cosine:
                return 1.0
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return 0.5 * (1.0 + math.cos(math.pi * progress))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step", "frequency": 1}}


class _ReuseOutput:
    """Calls an encoder, except on one given input object, for which it returns a known output."""

    def __init__(self, encoder: nn.Module, inputs: torch.Tensor, output: torch.Tensor) -> None:
        self._encoder, self._inputs, self._output = encoder, inputs, output

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._output if x is self._inputs else self._encoder(x)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._encoder, name)


@dataclass
class FitResult:
    """What :meth:`Trainer.fit` did."""

    checkpoint: Path | None
    epochs: int
    seconds: float
    n_train: int
    n_val: int
    history: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    global_rank: int = 0
    world_size: int = 1
    threads: int | None = None  # torch threads used while training
    num_workers: int | None = None  # DataLoader worker processes

    def summary(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "seconds": round(self.seconds, 3),
            "n_train": self.n_train,
            "n_val": self.n_val,
            "stopped_early": self.stopped_early,
            "threads": self.threads,
            "num_workers": self.num_workers,
            "checkpoint": str(self.checkpoint) if self.checkpoint else None,
            "final_train_loss": self.history[-1].get("train_loss") if self.history else None,
            "final_val_loss": self.history[-1].get("val_loss") if self.history else None,
        }


class _History(pl.Callback):
    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.endswith("_epoch") or k == "val_loss"}
        row = {"epoch": float(trainer.current_epoch)}
        row.update({k.removesuffix("_epoch"): v for k, v in metrics.items()})
        self.rows.append(row)


def split_unlabeled(size: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded held-out slice of the unlabeled pool for early stopping (none if too small)."""
    n_val = int(round(size * val_fraction))
    n_val = max(n_val, 2) if val_fraction > 0 and size >= 10 else 0
    order = np.random.default_rng([seed, 7]).permutation(size)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def default_predict_batch_size(batch_size: int, dataset: SampleSet) -> int:
    """``trainer.predict_batch_size`` when the recipe sets none: 4 x ``batch_size`` for data in
    memory (small samples), ``batch_size`` for file-backed variable-length data (calls, videos:
    a sample embeds several windows or clips, so a batch of 4 x 32 calls held about 3.4 GB in the
    audio benchmark's spectrograms and activations)."""
    return batch_size if dataset.file_backed and dataset.variable_length else 4 * batch_size


class Trainer:
    """Train and apply pretext models as the recipe's ``trainer:`` section says.

    Args:
        config: the recipe's trainer section.
        output_dir: where checkpoints (``checkpoints/``) and logs (``logs/version_N/metrics.csv``) go.
        seed: the recipe's seed.
        callbacks: extra Lightning callbacks.
    """

    def __init__(
        self,
        config: TrainerSection,
        output_dir: str | Path,
        seed: int = 0,
        callbacks: Sequence[pl.Callback] = (),
    ) -> None:
        self.config, self.output_dir, self.seed = config, Path(output_dir), seed
        self.callbacks = list(callbacks)
        _quiet_lightning()

    def check_settings(self) -> None:
        """Raise :class:`RecipeError` if this machine or Lightning refuses the ``trainer:``
        settings (:func:`proxyml.devices.check_settings`), before any work."""
        check_settings(self.config)

    @property
    def checkpoint_dir(self) -> Path:
        return self.output_dir / "checkpoints"

    def _common(self) -> dict[str, Any]:
        return lightning_arguments(self.config)

    def num_workers(self, dataset: SampleSet) -> int:
        """``trainer.num_workers``; ``auto``: none for in-memory data, else one per spare core (at most 4)."""
        workers = self.config.num_workers
        if workers != "auto":
            return int(workers)
        if not dataset.file_backed:
            return 0
        return max(1, min(4, (os.cpu_count() or 1) - 1))

    def bucketing(self, dataset: SampleSet) -> bool:
        """``trainer.bucket_by_length``; ``auto``: on for a variable-length set that knows its
        samples' lengths (``dataset.lengths``), when one process trains."""
        setting = self.config.bucket_by_length
        knows = dataset.variable_length and getattr(dataset, "lengths", None) is not None
        if setting is True and not knows:
            raise RecipeError("trainer.bucket_by_length: true needs a variable-length data set that knows its "
                              "samples' lengths when it is read; this one does not (use auto or false)")
        one_process = self.config.strategy == "auto" and self.config.devices in ("auto", 1, "1") \
            and self.config.num_nodes == 1
        return bool(knows and (setting is True or (setting == "auto" and one_process)))

    def threads(self, dataset: SampleSet) -> int:
        """``trainer.threads``; ``auto``: see :func:`auto_threads` (chosen with :meth:`num_workers`)."""
        threads = self.config.threads
        return int(threads) if threads != "auto" else auto_threads(self.num_workers(dataset))

    def _loader(self, dataset: SampleSet, indices: np.ndarray, *, shuffle: bool,
                batch_size: int | None = None, stage: str | None = None) -> DataLoader:
        """Batches of ``dataset`` at ``indices``: shuffled per epoch for training; with a
        ``stage`` (train/val) each sample is fetched with its own seed (:class:`_KeyedSubset`)."""
        workers = self.num_workers(dataset)
        subset: Any = Subset(dataset, indices.tolist())
        batching: dict[str, Any] = {"batch_size": batch_size or self.config.batch_size,
                                    "sampler": EpochSeededSampler(len(indices), self.seed) if shuffle else None}
        if stage is not None:
            subset = _KeyedSubset(dataset, indices, self.seed, stage)
            batching["sampler"] = EpochSeededSampler(len(indices), self.seed, keyed=True) if shuffle else \
                _InOrder(len(indices))
            if shuffle and self.bucketing(dataset):
                lengths = np.asarray(dataset.lengths)[indices]
                batching = {"batch_sampler": LengthBucketSampler(lengths, self.config.batch_size, self.seed, keyed=True)}
        return DataLoader(
            subset,
            **batching,
            collate_fn=dataset.collate,
            num_workers=workers,
            persistent_workers=workers > 0,
            worker_init_fn=functools.partial(_seed_worker, self.seed) if workers else None,
        )

    def fit(self, module: PretextModule, dataset: SampleSet, *, resume: bool = False) -> FitResult:
        """Train ``module`` on ``dataset``; ``resume`` continues from ``checkpoints/last.ckpt``.

        The optimizer, schedule and warm-up that the trainer section names (``trainer.optimizer``,
        ``schedule``, ``warmup_epochs``) are set on ``module`` (its checkpoints record them); those
        it leaves out stay the module's own. Torch and BLAS use ``trainer.threads`` threads for
        the length of the fit."""
        from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
        from lightning.pytorch.loggers import CSVLogger

        c = self.config
        for key, attribute in (("optimizer", "optimizer_name"), ("schedule", "schedule"),
                               ("warmup_epochs", "warmup_epochs")):
            if key in c.model_fields_set:
                setattr(module, attribute, getattr(c, key))
        module.sample_ids = dataset.ids  # names the samples that fail to decode
        train_idx, val_idx = split_unlabeled(len(dataset), c.val_fraction, self.seed)
        has_val = len(val_idx) > 0
        # last.ckpt after every epoch, whatever the held-out loss did (ModelCheckpoint's own
        # save_last only writes when a top-k checkpoint is written), and best.ckpt by that loss
        latest = ModelCheckpoint(dirpath=self.checkpoint_dir, filename="last", monitor=None, save_top_k=1,
                                 enable_version_counter=False)
        checkpoints = [latest]
        best = None
        if has_val:  # first, so that last.ckpt holds its updated record of the best epoch
            best = ModelCheckpoint(dirpath=self.checkpoint_dir, filename="best", monitor="val_loss", mode="min",
                                   save_top_k=1, enable_version_counter=False)
            checkpoints.insert(0, best)
        history = _History()
        callbacks: list[pl.Callback] = [*checkpoints, history, *self.callbacks]
        early = None
        if has_val and c.early_stopping_patience:
            early = EarlyStopping(monitor="val_loss", patience=c.early_stopping_patience, mode="min")
            callbacks.append(early)
        if module.schedule != "constant" or module.warmup_epochs:
            callbacks.append(LearningRateMonitor(logging_interval="step"))  # the lr in metrics.csv
        ckpt_path = None
        last = self.checkpoint_dir / "last.ckpt"
        if resume:
            if not last.is_file():
                raise FileNotFoundError(f"--resume: no checkpoint to resume from at {last}")
            ckpt_path = str(last)
        elif last.exists():
            log.warning("%s exists and will be overwritten (use --resume to continue it)", self.checkpoint_dir)
            for old in self.checkpoint_dir.glob("*.ckpt"):
                old.unlink()
        if not resume:
            shutil.rmtree(self.output_dir / "logs", ignore_errors=True)
        trainer = pl.Trainer(
            **self._common(),
            max_epochs=c.max_epochs,
            callbacks=callbacks,
            logger=CSVLogger(self.output_dir, name="logs"),  # a resumed run logs to the next version_N
            gradient_clip_val=c.gradient_clip_val,
            # at most once an epoch on tiny data sets, so the CSV log always has training rows
            log_every_n_steps=min(c.log_every_n_steps, max(1, math.ceil(len(train_idx) / c.batch_size))),
            num_sanity_val_steps=0,
            **c.lightning,
        )
        threads = self.threads(dataset)
        start = time.perf_counter()
        try:
            with limited_threads(threads):
                trainer.fit(
                    module,
                    train_dataloaders=self._loader(dataset, train_idx, shuffle=True, stage="train"),
                    val_dataloaders=self._loader(dataset, val_idx, shuffle=False, stage="val") if has_val else None,
                    ckpt_path=ckpt_path,
                )
        except SystemExit:
            # Lightning turns Ctrl-C into exit(1) after a graceful shutdown; say what happened
            if trainer.interrupted:
                raise KeyboardInterrupt from None
            raise
        best_path = Path(best.best_model_path) if best is not None and best.best_model_path else None
        return FitResult(
            checkpoint=best_path or (last if last.exists() else None),
            epochs=trainer.current_epoch,
            seconds=time.perf_counter() - start,
            n_train=len(train_idx),
            n_val=len(val_idx),
            history=history.rows,
            stopped_early=bool(early is not None and early.stopped_epoch > 0),
            global_rank=trainer.global_rank,
            world_size=trainer.world_size,
            threads=threads,
            num_workers=self.num_workers(dataset),
        )

    def predict(self, module: PretextModule, dataset: SampleSet, *, sharded: bool = False) -> Prediction:
        """Embeddings ``(n, embed_dim)`` and proxy scores ``(n,)`` of every sample, in order.

        ``sharded`` (called on every process of a multi-process strategy, after training):
        each process predicts its shard (Lightning's distributed sampler) under the configured
        strategy, writes it to the run folder, and every process returns the whole, gathered by
        sample position. Otherwise it runs Lightning's predict loop on one device of the
        configured accelerator. Either way it uses
        ``trainer.predict_batch_size``; each batch's outputs go straight into preallocated
        arrays (nothing is gathered in a list). A sample that fails to decode gets NaN and is
        listed in ``Prediction.failed``. Torch and BLAS use ``trainer.threads`` threads; of
        ``trainer.lightning``, only the arguments in :data:`PREDICT_LIGHTNING_ARGUMENTS` apply.
        """
        devices = self.config.devices
        one = [devices[0]] if isinstance(devices, list) and devices else 1  # the device the user picked
        common = self._common() if sharded else self._common() | {"devices": one, "strategy": "auto", "num_nodes": 1}
        common |= {k: v for k, v in self.config.lightning.items() if k in PREDICT_LIGHTNING_ARGUMENTS}
        writer = _ArrayWriter(len(dataset), module.encoder.embed_dim, len(module.tasks))
        trainer = pl.Trainer(**common, logger=False, enable_checkpointing=False, callbacks=[writer])
        module.decode_failures = {}
        module.sample_ids = dataset.ids
        batch_size = self.config.predict_batch_size or default_predict_batch_size(self.config.batch_size, dataset)
        with limited_threads(self.threads(dataset)):
            trainer.predict(module, self._loader(dataset, np.arange(len(dataset)), shuffle=False,
                                                 batch_size=batch_size), return_predictions=False)
        if sharded and trainer.world_size > 1:
            self._gather(trainer, writer, module)
        missing = np.flatnonzero(~writer.filled)
        failed = {int(i): module.decode_failures.get(int(i), "produced no output") for i in missing}
        scores = writer.scores[:, 0] if list(module.tasks) == [""] else writer.scores
        return Prediction(writer.embeddings, scores, failed, [k for k in module.tasks if k],
                          processes=trainer.world_size, batch_size=batch_size)


    def _gather(self, trainer: pl.Trainer, writer: _ArrayWriter, module: PretextModule) -> None:
        """Every process's shard into ``writer``, through files in the run folder."""
        folder = self.output_dir / "predict_shards"
        folder.mkdir(parents=True, exist_ok=True)
        mine = folder / f"rank{trainer.global_rank}.npz"
        failures = np.array(list(module.decode_failures.items()), dtype=object).reshape(-1, 2)
        np.savez(mine, embeddings=writer.embeddings, scores=writer.scores, filled=writer.filled,
                 failed_index=failures[:, 0].astype(np.int64), failed_reason=failures[:, 1].astype(str))
        trainer.strategy.barrier("proxyml_predict_written")
        for rank in range(trainer.world_size):
            with np.load(folder / f"rank{rank}.npz", allow_pickle=False) as shard:
                rows = shard["filled"] & ~writer.filled
                writer.embeddings[rows], writer.scores[rows] = shard["embeddings"][rows], shard["scores"][rows]
                writer.filled |= shard["filled"]
                module.decode_failures.update(zip(shard["failed_index"].tolist(), shard["failed_reason"].tolist(),
                                                  strict=True))
        trainer.strategy.barrier("proxyml_predict_read")
        if trainer.global_rank == 0:  # one process removes them, and the others wait for it: a next
            shutil.rmtree(folder, ignore_errors=True)  # prediction's shards must not meet this one's
        trainer.strategy.barrier("proxyml_predict_removed")


@dataclass
class Prediction:
    """What :meth:`Trainer.predict` made: rows in the data set's order, NaN where a sample failed."""

    embeddings: np.ndarray
    scores: np.ndarray  # (n,) for one task, (n, n_tasks) for a multitask module
    failed: dict[int, str] = field(default_factory=dict)  # position -> reason
    keys: list[str] = field(default_factory=list)  # a multitask module's task keys, the columns of scores
    processes: int = 1  # how many processes predicted a shard each
    batch_size: int = 0


class _ArrayWriter(pl.callbacks.BasePredictionWriter):
    """Writes each predicted batch into preallocated arrays as it is made."""

    def __init__(self, size: int, embed_dim: int, n_scores: int) -> None:
        super().__init__(write_interval="batch")
        self.embeddings = np.full((size, embed_dim), np.nan, dtype=np.float32)
        self.scores = np.full((size, n_scores), np.nan, dtype=np.float64)
        self.filled = np.zeros(size, dtype=bool)

    def write_on_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, prediction: Any,
                           batch_indices: Sequence[int] | None, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        index = prediction["index"].numpy()
        self.embeddings[index] = prediction["embedding"].numpy()
        self.scores[index] = prediction["proxy_score"].double().numpy()
        self.filled[index] = True


def _seed_worker(seed: int, worker_id: int) -> None:
    """A DataLoader worker's global generators seeded from the run's seed and the worker's id
    (not from torch's per-iterator base seed), so reruns and resumed runs draw alike."""
    import random

    worker_seed = int(np.random.SeedSequence([seed, worker_id]).generate_state(1)[0])
    np.random.seed(worker_seed)
    random.seed(worker_seed)
    torch.manual_seed(worker_seed)


def _quiet_lightning() -> None:
    """Keep Lightning's start-up chatter (device lists, tips) out of the user's terminal."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    # only seen with --resume: the folder holds the checkpoint being resumed
    warnings.filterwarnings("ignore", message="Checkpoint directory .* exists and is not empty")
