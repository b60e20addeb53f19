"""Bundled synthetic data sets: ``proxyml demo NAME --out DIR``, and a recipe's ``data.demo``.

A demo is registered by its modality in :data:`proxyml.registry.DEMOS` (``call-center`` by
audio). A recipe with ``data.demo: NAME`` runs as it is: when ``data.source`` does not exist,
the demo is written there first (once), and the run's notes say the data is synthetic. It is
written only when the labels are missing too (the demo writes both), so a recipe pointed at
your own labels never fills a mistyped data path with synthetic data.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from proxyml.errors import RecipeError
from proxyml.registry import DEMOS
from proxyml.sources import resolve_path, scheme_of

log = logging.getLogger("proxyml")


def write_demo(name: str, out: str | Path, *, small: bool = False, seed: int = 0,
               overwrite: bool = False) -> dict[str, Path]:
    """Write demo ``name`` into the folder ``out``; returns its files (``folder``, ``labels``, ...).
    A folder that already holds anything is refused unless ``overwrite`` (the demo's files are
    then written over whatever has their names)."""
    try:
        demo = DEMOS.get(name)
    except KeyError as exc:
        raise RecipeError(str(exc.args[0])) from None
    folder = Path(out)
    if not overwrite and folder.is_dir() and any(folder.iterdir()):
        held = sorted(p.name for p in folder.iterdir())
        raise RecipeError(f"{folder} already holds {len(held)} entries ({', '.join(held[:4])}"
                          f"{', ...' if len(held) > 4 else ''}): give another --out, or --overwrite to write "
                          f"the {name!r} demo over them")
    if folder.exists() and not folder.is_dir():
        raise RecipeError(f"{folder} is a file, not a folder: give another --out")
    return demo.write(folder, small=small, seed=seed)


def demo_folder(recipe: Any) -> Path | None:
    """The folder ``data.demo`` writes into (the folder of ``data.source``), or ``None``."""
    name = recipe.data.demo
    if name is None or scheme_of(recipe.data.source):
        return None
    demo = DEMOS.get(name)
    source = resolve_path(recipe.data.source, recipe.base_dir)
    return source.parent if source.name == demo.data_file else source


def ensure_demo_data(recipe: Any, *, write: bool = True) -> Path | None:
    """Write ``data.demo`` where the recipe expects it when its data is missing; return the
    folder written (with ``write=False``: the folder it would write, after the same checks, which
    raise as they would), or ``None`` when nothing had to be written."""
    folder = demo_folder(recipe)
    if folder is None:
        return None
    source = resolve_path(recipe.data.source, recipe.base_dir)
    if source.exists():
        return None
    demo = DEMOS.get(recipe.data.demo)
    if recipe.labels is not None and not scheme_of(recipe.labels.source):
        labels = resolve_path(recipe.labels.source, recipe.base_dir)
        if labels.exists():
            raise FileNotFoundError(
                f"data.source: {source} does not exist, and the labels ({labels}) are not the demo's; "
                f"data.demo: {recipe.data.demo} writes synthetic data only when both are missing. "
                "Fix data.source, or remove data.demo from the recipe")
        if labels != folder / demo.labels_file:
            raise RecipeError(f"data.demo: {recipe.data.demo} writes its labels to {folder / demo.labels_file}, "
                              f"but labels.source is {labels}")
    if not write:
        return folder
    log.warning("data.source %s does not exist: writing the synthetic %r demo there (data.demo)", source,
                recipe.data.demo)
    files = write_demo(recipe.data.demo, folder, seed=0, overwrite=True)  # e.g. what a killed write left
    log.info("demo data written to %s", files["folder"])
    return folder


def write_csv(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    """A small CSV (``\\n`` line ends, UTF-8), written the same on every platform: demo files are
    byte-identical for the same arguments."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def check_demo_sizes(count: int, n_labelled: int, *, samples: str, target: str, min_seconds: float,
                     max_seconds: float) -> None:
    """The argument checks every synthetic data set shares: at least 4 ``samples`` (e.g.
    ``"n_calls"``), 2 to ``count`` labelled (both classes of ``target``), finite durations of at
    least 1 s, in order. Raises :class:`ValueError` naming the argument."""
    if count < 4:
        raise ValueError(f"{samples} must be at least 4, got {count}")
    if n_labelled < 2:
        raise ValueError(f"n_labelled must be at least 2 (both {target} classes are labelled), got {n_labelled}")
    if n_labelled > count:
        raise ValueError(f"n_labelled ({n_labelled}) cannot exceed {samples} ({count})")
    if not (math.isfinite(min_seconds) and math.isfinite(max_seconds)):
        raise ValueError(f"min_seconds and max_seconds must be finite, got {min_seconds} and {max_seconds}")
    if min_seconds < 1.0:
        raise ValueError(f"min_seconds must be at least 1 second, got {min_seconds}")
    if max_seconds < min_seconds:
        raise ValueError(f"max_seconds ({max_seconds}) must not be below min_seconds ({min_seconds})")


def draw_labelled(rng: np.random.Generator, outcome: np.ndarray, probability: np.ndarray,
                  n_labelled: int) -> tuple[np.ndarray, np.ndarray]:
    """Which samples of a synthetic data set get labels: ``n_labelled`` drawn at random, with
    both classes of the 0/1 ``outcome`` among them (a labelled sample swapped for an unlabelled
    one of the other class; or, when every sample is in one class, the labelled one that
    ``probability`` makes likeliest to be in the other is flipped). Returns the outcome (a copy)
    and the sorted labelled indices."""
    outcome = outcome.copy()
    n = len(outcome)
    labelled = rng.choice(n, n_labelled, replace=False)
    if len(set(outcome[labelled].tolist())) == 1:
        present = bool(outcome[labelled[0]])
        others = np.setdiff1d(np.flatnonzero(outcome != present), labelled)
        if len(others):
            labelled[rng.integers(n_labelled)] = others[rng.integers(len(others))]
        else:
            score = probability[labelled] if not present else -probability[labelled]
            outcome[labelled[int(np.argmax(score))]] = not present
    return outcome, np.sort(labelled)


__all__ = ["check_demo_sizes", "write_csv", "demo_folder", "draw_labelled", "ensure_demo_data", "write_demo"]
