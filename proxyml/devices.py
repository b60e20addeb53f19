"""What this machine can run, checked without importing Lightning (seconds): ``proxyml check``
asks these first and builds a ``lightning.Trainer`` only for settings Lightning itself may refuse."""

from __future__ import annotations

from typing import Any

from proxyml.errors import RecipeError

SAFE_PRECISIONS = {"32", "32-true", "64", "64-true", "bf16-mixed", "bf16-true"}
"""Precisions Lightning accepts on any accelerator proxyml runs (16-bit float asks more of the device)."""


def lightning_may_refuse(config: Any) -> bool:
    """Whether ``lightning.Trainer`` could refuse these ``trainer:`` settings once
    :func:`device_problem` passed them: anything but the plain single-machine ones.

    Example:
        >>> from proxyml.recipe import TrainerSection
        >>> lightning_may_refuse(TrainerSection())
        False
        >>> lightning_may_refuse(TrainerSection(strategy="ddp"))
        True
    """
    return not (
        str(config.accelerator).strip().lower() in ("auto", "cpu")
        and str(config.strategy) == "auto"
        and str(config.precision) in SAFE_PRECISIONS
        and config.num_nodes == 1
        and not config.lightning
        and str(config.devices).strip().lower() in ("auto", "1")
    )


def check_settings(config: Any) -> None:
    """Raise :class:`RecipeError` if this machine or Lightning refuses the ``trainer:`` settings
    ``config`` (an accelerator that is not there, ``devices: 0``, an unknown precision or
    strategy, a ``trainer.lightning`` argument Lightning rejects), before any work. Lightning is
    imported, and a ``lightning.Trainer`` built, only when :func:`lightning_may_refuse`."""
    problem = device_problem(config.accelerator, config.devices)
    if problem:
        raise RecipeError(problem)
    if not lightning_may_refuse(config):
        return
    import lightning.pytorch as pl
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    extra = config.lightning
    try:
        pl.Trainer(**lightning_arguments(config), logger=False, enable_checkpointing=False, max_epochs=1, **extra)
    except (MisconfigurationException, ValueError, RuntimeError, TypeError) as exc:
        reason = " ".join(str(exc).split())  # Lightning's messages span lines: one line here
        raise RecipeError(
            f"trainer: Lightning refuses these settings (accelerator={config.accelerator!r}, "
            f"devices={config.devices!r}, strategy={config.strategy!r}, "
            f"precision={config.precision!r}{f', lightning={extra!r}' if extra else ''}): {reason}"
        ) from None


def lightning_arguments(config: Any) -> dict[str, Any]:
    """The ``lightning.Trainer`` arguments every proxyml trainer shares, from ``trainer:``
    (deterministic by default on the CPU)."""
    import torch

    accelerator = config.accelerator
    on_cpu = accelerator == "cpu" or (accelerator == "auto" and not torch.cuda.is_available())
    deterministic = config.deterministic if config.deterministic is not None else on_cpu
    return {
        "accelerator": accelerator,
        "devices": config.devices,
        "strategy": config.strategy,
        "num_nodes": config.num_nodes,
        "precision": config.precision,
        "deterministic": deterministic,
        "enable_progress_bar": config.progress_bar,
        "enable_model_summary": False,
    }


def _device_count(devices: int | str | list[int]) -> int | None:
    """How many devices ``devices`` asks for (``None``: auto or -1, as many as there are)."""
    if isinstance(devices, list):
        return len(devices)
    text = str(devices).strip().lower()
    if text in ("auto", "-1"):
        return None
    if "," in text:
        return len([d for d in text.split(",") if d.strip()])
    try:
        return int(text)
    except ValueError:
        return None  # Lightning's own check names what is wrong


def device_problem(accelerator: str, devices: int | str | list[int]) -> str | None:
    """Why this machine cannot run ``accelerator`` x ``devices``, in one line (``None``: it can).

    Example:
        >>> device_problem("cpu", 0)
        'trainer.devices: 0 asks for no device at all; use devices: 1 (or auto, or a list such as [0, 1])'
        >>> device_problem("cpu", "auto") is None
        True
    """
    wanted = _device_count(devices)
    if wanted == 0 or devices == []:
        return "trainer.devices: 0 asks for no device at all; use devices: 1 (or auto, or a list such as [0, 1])"
    name = str(accelerator).strip().lower()
    if name in ("gpu", "cuda", "mps"):
        import torch  # only here: `proxyml check` on a CPU recipe need not import it
    if name in ("gpu", "cuda"):
        have = torch.cuda.device_count()
        if have == 0 and not (name == "gpu" and torch.backends.mps.is_available()):
            build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
            return (f"trainer.accelerator: {accelerator!r}, but torch sees no GPU on this machine "
                    f"(torch {torch.__version__}, {build}); use accelerator: auto (a GPU when there is one) "
                    "or cpu")
        if have and wanted is not None and wanted > have:
            return (f"trainer.devices: {devices!r} asks for {wanted} GPUs, but this machine has {have}; "
                    f"use devices: {have} or auto")
    if name == "mps" and not torch.backends.mps.is_available():
        return (f"trainer.accelerator: {accelerator!r}, but Apple's MPS backend is not available on this machine; "
                "use accelerator: auto or cpu")
    if name == "tpu":
        return "trainer.accelerator: 'tpu' is not supported by proxyml; use auto, cpu or gpu"
    return None
