"""Run folders that keep earlier results, and a lock while a run writes to one.

A new run never writes over an earlier one: when ``output.dir`` already holds a run (or
anything else), the run goes to the first free numbered folder beside it (``runs/demo-2``,
``runs/demo-3``, ...) and says so. ``--overwrite`` replaces the earlier run's files instead;
``--resume`` continues the run in ``output.dir`` itself. While a run writes to a folder it
holds ``.proxyml.lock`` there (process id, host, start time); a second run, a resume or an
``evaluate`` of that folder is refused while the process that holds it is alive. A lock left by
a process that is gone (a killed run) is taken over with a warning.

Under a multi-process strategy (DDP) the processes Lightning starts run the whole command
again: they find the folder rank 0 chose in ``PROXYML_RUN_DIR`` and take no lock.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from proxyml.errors import RecipeError

log = logging.getLogger("proxyml")
LOCK = ".proxyml.lock"
ENV = "PROXYML_RUN_DIR"
# what a run writes; --overwrite removes these and nothing else
RUN_FILES = ("recipe.yaml", "environment.json", "preprocessing.json", "data_fingerprint.json", "skipped.csv",
             "embeddings.parquet", "proxy_scores.csv", "random_init_embeddings.parquet",
             "random_init_proxy_scores.csv", "report.json", "report.html")
RUN_FOLDERS = ("checkpoints", "logs", "tasks", "seeds", "predict_shards")


def _is_child_rank() -> bool:
    return any(os.environ.get(name, "0") not in ("", "0") for name in ("LOCAL_RANK", "NODE_RANK", "RANK"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def lock_holder(folder: Path) -> dict[str, Any] | None:
    """Who holds ``folder``'s lock, if a live process does (``None``: free, or stale)."""
    try:
        holder = json.loads((folder / LOCK).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"pid": None, "host": "?", "started": "?"}  # half-written: being taken right now
    if holder.get("host") == socket.gethostname() and not _alive(int(holder.get("pid", 0))):
        return None
    return holder


def _describe(holder: dict[str, Any]) -> str:
    return f"process {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}"


def check_unlocked(folder: Path, action: str) -> None:
    """Refuse ``action`` on ``folder`` while a live run writes to it."""
    holder = lock_holder(folder)
    if holder is not None and holder.get("pid") != os.getpid():
        raise RecipeError(
            f"{folder} is in use by a run ({_describe(holder)}); wait for it to finish before you {action}. "
            f"If no run is writing there, delete {folder / LOCK}."
        )


def _take(folder: Path) -> bool:
    """Create ``folder``'s lock atomically; ``False`` if another live process holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                         "started": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = lock_holder(folder)
            if holder is not None:
                return False
            log.warning("%s: taking over the lock of a run that is gone (%s)", folder,
                        (path.read_text(errors="replace") or "?").strip())
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(record)
        return True
    return False


def _is_free(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


def _numbered(base: Path, k: int) -> Path:
    return base.with_name(f"{base.name}-{k}")


def clear_run(folder: Path) -> None:
    """Remove what a run wrote to ``folder`` (and nothing else)."""
    keys = []
    try:  # one embeddings_<key>.parquet per task of the earlier run's tasks: list
        saved = yaml.safe_load((folder / "recipe.yaml").read_text()) or {}
        keys = [t.get("key") or str(t.get("name", "")).split(".", 1)[-1] for t in saved.get("tasks") or []]
    except (OSError, yaml.YAMLError, AttributeError):
        pass
    for name in RUN_FILES:
        (folder / name).unlink(missing_ok=True)
    for key in keys:
        (folder / f"embeddings_{key}.parquet").unlink(missing_ok=True)
    for name in RUN_FOLDERS:
        shutil.rmtree(folder / name, ignore_errors=True)


@contextlib.contextmanager
def claim(base: Path, *, resume: bool = False, overwrite: bool = False) -> Iterator[Path]:
    """The folder this run writes to, locked for the length of the ``with`` block."""
    if _is_child_rank():  # rank 0 holds the lock
        yield Path(os.environ.get(ENV, base))
        return
    existed = base.exists()
    if resume or overwrite:
        folder = base
        if not _take(folder):
            check_unlocked(folder, "resume it" if resume else "overwrite it")
            raise RecipeError(f"{folder} is in use by another run")
        if overwrite and not resume and (folder / "recipe.yaml").exists():
            log.warning("--overwrite: replacing the run in %s", folder)
            clear_run(folder)
    else:
        folder, k = base, 1
        while True:
            if (_is_free(folder) or _only_lock(folder)) and _take(folder):
                if _has_other_files(folder):  # another run got here first, between the two checks
                    _release(folder)
                else:
                    break
            k += 1
            folder = _numbered(base, k)
            existed = folder.exists()
        if folder != base:
            reason = "holds an earlier run" if (base / "recipe.yaml").exists() else "is not empty"
            log.warning("%s %s; this run writes to %s (--overwrite replaces the earlier run instead)",
                        base, reason, folder)
    previous = os.environ.get(ENV)
    os.environ[ENV] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        _release(folder)
        if not existed and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()  # the run stopped before writing anything: leave no empty folder


def _only_lock(folder: Path) -> bool:
    """A folder whose only content is the stale lock of a run that is gone."""
    return folder.is_dir() and [p.name for p in folder.iterdir()] == [LOCK] and lock_holder(folder) is None


def _has_other_files(folder: Path) -> bool:
    return any(p.name != LOCK for p in folder.iterdir())


def _release(folder: Path) -> None:
    path = folder / LOCK
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass
