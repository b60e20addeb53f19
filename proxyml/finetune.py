"""The two use modes that train on the few labels: fine-tuning and multitask training.

On each of the first ``repeats`` label draws of every budget (the draws the probes use, so the
numbers are paired with theirs):

- ``finetune``: the pretrained encoder plus a new linear head, trained end to end on the draw's
  training labels;
- ``scratch``: the same encoder architecture, freshly initialised (seeded), trained the same way:
  the supervised baseline that tells whether pretraining helped;
- ``multitask``: the pretrained model trained further on its pretext loss (batches of the whole
  unlabeled pool) plus the supervised loss on the draw's training labels, jointly.

Each is scored by ROC AUC on the draw's held-out labels. Training goes through Lightning with the
recipe's accelerator and precision; randomness is seeded per (seed, budget, draw).
"""

from __future__ import annotations

import copy
import logging
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import CombinedLoader
from sklearn.metrics import roc_auc_score
from torch import nn
from torch.utils.data import DataLoader, Sampler, Subset

from proxyml.data import SampleSet
from proxyml.encoders import Encoder, create_encoder
from proxyml.evaluation.splits import Draw
from proxyml.trainer import PretextModule, Trainer, batch_seed, limited_threads, seeded_global_rng

log = logging.getLogger("proxyml")


class _Passes(Sampler[int]):
    """``passes`` seeded shuffles of ``positions`` one after the other: every epoch of training
    on a few labels in one Lightning epoch (its per-epoch overhead dominates such tiny epochs)."""

    def __init__(self, positions: Sequence[int] | np.ndarray, passes: int, seed: int) -> None:
        self.positions, self.passes, self.seed = np.asarray(positions, dtype=np.int64), passes, seed

    def __iter__(self) -> Iterator[int]:
        for k in range(self.passes):
            yield from self.positions[np.random.default_rng([self.seed, k]).permutation(len(self.positions))].tolist()

    def __len__(self) -> int:
        return self.passes * len(self.positions)


class _Cycle(Sampler[int]):
    """``count`` seeded draws from ``size`` positions (batches of the unlabeled pool)."""

    def __init__(self, size: int, count: int, seed: int) -> None:
        self.size, self.count, self.seed = size, count, seed

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, 11])
        return iter(rng.integers(0, self.size, self.count).tolist())

    def __len__(self) -> int:
        return self.count


class SupervisedModule(pl.LightningModule):
    """An encoder with a binary head, trained on labels (and, for multitask, a pretext loss).

    ``targets``: ``(n,)`` float labels over the data set's positions, NaN where a sample is not
    in the draw's training labels.
    """

    def __init__(self, encoder: Encoder, targets: torch.Tensor, *, learning_rate: float, weight_decay: float,
                 seed: int, pretext: PretextModule | None = None, pretext_weight: float = 1.0) -> None:
        super().__init__()
        self.encoder = encoder
        self.classifier = nn.Linear(encoder.embed_dim, 1)
        self.targets: torch.Tensor
        self.register_buffer("targets", targets)
        self.pretext = pretext
        self.learning_rate, self.weight_decay, self.seed = learning_rate, weight_decay, seed
        self.pretext_weight = pretext_weight

    def on_fit_start(self) -> None:
        self.train()  # a pretrained model comes back from its checkpoint in eval mode

    def logits(self, batch: dict[str, Any]) -> torch.Tensor:
        return self.classifier(self.encoder(batch["x"])).squeeze(-1)

    def training_step(self, batch: dict[str, Any], batch_index: int) -> torch.Tensor | None:
        labelled = batch.get("labelled", batch)
        if len(labelled["index"]) == 0:
            return None
        with seeded_global_rng(batch_seed(self.seed, "model", 0, batch_index), self.device):
            loss = F.binary_cross_entropy_with_logits(self.logits(labelled), self.targets[labelled["index"]])
            if self.pretext is not None and len(batch["pool"]["index"]):
                pool = batch["pool"]
                for stream, (key, task) in enumerate(self.pretext.tasks.items()):
                    generator = torch.Generator(device=self.device)
                    generator.manual_seed(batch_seed(self.seed, "train", 0, batch_index, 0, stream))
                    inputs, targets = task.make_batch(pool, generator)
                    outputs = task.forward(self.encoder, self.pretext.head_of(key), inputs)
                    loss = loss + self.pretext_weight * self.pretext.weights[key] * task.loss(outputs, targets)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)


def _loader(dataset: SampleSet, positions: Sequence[int] | np.ndarray | None, batch_size: int,
            sampler: Sampler[int] | None = None) -> DataLoader:
    """Batches of ``dataset`` at ``positions`` in order, or as ``sampler`` draws them (positions of the set)."""
    source: Any = dataset if positions is None else Subset(dataset, list(map(int, positions)))
    return DataLoader(source, batch_size=batch_size, sampler=sampler, collate_fn=dataset.collate, num_workers=0)


def _predict(module: SupervisedModule, dataset: SampleSet, positions: np.ndarray, batch_size: int) -> np.ndarray:
    """Logits at ``positions`` (NaN where a sample failed to decode), in that order."""
    module.eval()
    row = {int(p): i for i, p in enumerate(positions)}
    out = np.full(len(positions), np.nan)
    with torch.no_grad():
        for batch in _loader(dataset, positions, batch_size):
            if len(batch["index"]) == 0:
                continue
            batch = {k: v.to(module.device) if isinstance(v, torch.Tensor) else
                     ({kk: vv.to(module.device) for kk, vv in v.items()} if isinstance(v, dict) else v)
                     for k, v in batch.items()}
            rows = [row[int(i)] for i in batch["index"].tolist()]
            out[rows] = module.logits(batch).float().cpu().numpy()
    return out


def train_and_score(
    method: str,
    dataset: SampleSet,
    positions: np.ndarray,
    y: np.ndarray,
    draw: Draw,
    settings: Any,
    trainer_config: Any,
    *,
    seed: int,
    encoder: Encoder,
    pretext: PretextModule | None = None,
) -> float:
    """ROC AUC on ``draw.test`` of ``encoder`` (+ a new head) trained on ``draw.train``.

    ``positions`` are the labelled samples' positions in ``dataset``, aligned with ``y``.
    """
    targets = torch.full((len(dataset),), float("nan"))
    targets[torch.as_tensor(positions[draw.train])] = torch.as_tensor(y[draw.train], dtype=torch.float32)
    draw_seed = _draw_seed(seed, draw, method)
    with seeded_global_rng(draw_seed, torch.device("cpu")):
        module = SupervisedModule(encoder, targets, learning_rate=settings.learning_rate,
                                  weight_decay=settings.weight_decay, seed=draw_seed, pretext=pretext,
                                  pretext_weight=getattr(settings, "pretext_weight", 1.0))
    passes = _Passes(positions[draw.train], settings.max_epochs, draw_seed)  # max_epochs passes over the labels
    labelled = _loader(dataset, None, settings.batch_size, sampler=passes)
    loaders: Any = labelled
    if pretext is not None:
        steps = max(1, -(-len(passes) // settings.batch_size))
        pool = _loader(dataset, None, settings.batch_size,
                       sampler=_Cycle(len(dataset), steps * settings.batch_size, draw_seed))
        loaders = CombinedLoader({"labelled": labelled, "pool": pool}, mode="min_size")
    trainer = Trainer(trainer_config, ".", seed=seed)
    common = trainer._common() | {"devices": 1, "strategy": "auto", "num_nodes": 1, "enable_progress_bar": False}
    with limited_threads(trainer.threads(dataset)):
        pl.Trainer(**common, max_epochs=1, logger=False, enable_checkpointing=False,
                   num_sanity_val_steps=0, log_every_n_steps=1).fit(module, train_dataloaders=loaders)
        scores = _predict(module, dataset, positions[draw.test], 4 * settings.batch_size)
    decoded = ~np.isnan(scores)  # a file that broke since it was embedded: left out of this AUC
    test_y = y[draw.test][decoded]
    if np.unique(test_y).size < 2:
        return float("nan")
    return float(roc_auc_score(test_y, scores[decoded]))


def evaluate_supervised(
    dataset: SampleSet,
    positions: np.ndarray,
    y: np.ndarray,
    draws: list[Draw],
    models: Sequence[tuple[str, Callable[[], PretextModule]]],
    ev: Any,
    trainer_config: Any,
    *,
    seed: int,
    encoder_name: str,
    encoder_params: dict[str, Any],
) -> dict[str, dict[str, list[float]]]:
    """Per method and budget, the AUCs on the first ``repeats`` draws: ``finetune<suffix>`` (and
    ``multitask<suffix>``) of each pretrained model (``models``: suffix and a function that
    loads a fresh copy of it), and ``scratch`` once."""
    results: dict[str, dict[str, list[float]]] = {}
    for name, section in (("finetune", ev.finetune), ("multitask", ev.multitask)):
        if section is None:
            continue
        chosen = _first_draws(draws, section.repeats)
        tick = time.perf_counter()
        for suffix, load in models:
            method = f"{name}{suffix}"
            pretrained = load()  # once per model; each draw trains its own copy
            if name == "multitask":
                for task in pretrained.tasks.values():
                    task.prepare(dataset)  # e.g. a metadata task's targets
            for draw in chosen:
                model = copy.deepcopy(pretrained)
                auc = train_and_score(method, dataset, positions, y, draw, section, trainer_config, seed=seed,
                                      encoder=model.encoder, pretext=model if name == "multitask" else None)
                results.setdefault(method, {}).setdefault(draw.budget, []).append(auc)
        if name == "finetune":  # the supervised baseline: the same architecture, not pretrained
            for draw in chosen:
                with seeded_global_rng(_draw_seed(seed, draw, "scratch"), torch.device("cpu")):
                    fresh = create_encoder(encoder_name, dataset.spec, encoder_params)
                auc = train_and_score("scratch", dataset, positions, y, draw, section, trainer_config,
                                      seed=seed, encoder=fresh)
                results.setdefault("scratch", {}).setdefault(draw.budget, []).append(auc)
        log.info("%s: %d draws per budget in %.1f s", name, section.repeats, time.perf_counter() - tick)
    return results


def _draw_seed(seed: int, draw: Draw, method: str) -> int:
    """A seed per (run seed, method, budget, draw), stable across processes."""
    entropy = [seed, zlib.crc32(method.encode()), zlib.crc32(draw.budget.encode()), draw.repeat]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _first_draws(draws: list[Draw], repeats: int) -> list[Draw]:
    return [d for d in draws if d.repeat < repeats]


def supervised_report(results: dict[str, dict[str, list[float]]], draws: list[Draw], probes: dict[str, Any],
                      reference: str | None, confidence: float) -> dict[str, Any]:
    """The report's ``supervised`` section: per method and budget the AUC summary on the first
    draws, and paired differences (same draws) against ``scratch`` and the frozen-feature probe
    of ``reference``."""
    from proxyml.evaluation.probes import _paired_difference, _summary

    methods: dict[str, dict[str, Any]] = {}
    for method, per_budget in results.items():
        methods[method] = {}
        for budget, aucs in per_budget.items():
            used = [d for d in draws if d.budget == budget][: len(aucs)]
            methods[method][budget] = _summary(np.asarray(aucs), int(np.median([d.train.size for d in used])),
                                               [d.test.size for d in used], confidence)
    differences: dict[str, dict[str, Any]] = {}
    for method, per_budget in results.items():
        if method == "scratch":
            continue
        against: dict[str, Any] = {}
        frozen = f"proxyml:{method.split(':', 1)[1]}" if ":" in method else reference
        for other in ("scratch", frozen if frozen in probes else reference):
            for budget, aucs in per_budget.items():
                if other == "scratch":
                    theirs = results.get("scratch", {}).get(budget)
                else:
                    theirs = (probes.get(other) or {}).get(budget, {}).get("aucs") if other else None
                if theirs is None or len(theirs) < len(aucs):
                    continue
                against.setdefault(str(other), {})[budget] = _paired_difference(
                    np.asarray(aucs), np.asarray(theirs[: len(aucs)]), confidence)
        differences[method] = against
    repeats = max((len(a) for m in results.values() for a in m.values()), default=0)
    return {"methods": methods, "differences": differences,
            "note": f"trained on the first {repeats} label draws of each budget, the same draws as the probes' "
                    "first; differences are paired on those draws"}


def supervised_statement(supervised: dict[str, Any]) -> str | None:
    """One sentence: did pretraining help fine-tuning, against training from scratch? (Each
    ``finetune`` / ``finetune:<key>`` method, on the same draws.)"""
    sentences = []
    for method, against in (supervised.get("differences") or {}).items():
        if not method.startswith("finetune") or not against.get("scratch"):
            continue
        parts = []
        for budget, d in against["scratch"].items():
            low, high = d["ci"]
            if low is not None and low > 0:
                word = "helps"
            elif high is not None and high < 0:
                word = "hurts"
            else:
                word = "no difference shown"
            interval = "no interval" if low is None else f"{low:+.3f} to {high:+.3f}"
            parts.append(f"{budget}: {d['mean']:+.3f} ({interval}, {word})")
        which = "the pretrained encoder" if method == "finetune" else f"the pretrained encoder of {method.split(':', 1)[1]}"
        draws = next(iter(against["scratch"].values()))["n_draws"]
        sentences.append(f"fine-tuning {which} minus training it from scratch, on the same {draws} draws: "
                         + "; ".join(parts))
    return "; ".join(sentences) or None
