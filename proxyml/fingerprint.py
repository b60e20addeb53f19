"""Fingerprints of a data source, so that ``--resume`` can refuse data that changed.

A file's fingerprint is its size, its modification time and a SHA-256 of a bounded sample of
its bytes (the first and last 64 KiB and 30 evenly spaced 4 KiB blocks between them), so it
costs the same for a 1 KB table and a 50 GB archive. A folder's is the list of its files
(relative path, size, modification time) with the sampled hash of each of the first 200 of
them. Sources that are not files (``sktime:GunPoint``, ``sklearn:iris``) are fingerprinted by
the version of the package that ships them. The reader's own summary (samples read, their
shape) is compared after the data is read.

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.csv").write_text("id,x\\n1,2\\n")
    >>> saved = source_fingerprint(str(folder / "a.csv"))
    >>> changes(saved, source_fingerprint(str(folder / "a.csv")))
    []
    >>> _ = (folder / "a.csv").write_text("id,x\\n1,2\\n3,4\\n")
    >>> changes(saved, source_fingerprint(str(folder / "a.csv")))[0]
    'size 9 -> 13 bytes'
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from proxyml.sources import scheme_of

EDGE = 64 * 1024
BLOCK = 4 * 1024
BLOCKS = 30
HASHED_FILES = 200
SCHEME_PACKAGES = {"sktime": "sktime", "sklearn": "scikit-learn"}


def sampled_hash(path: Path, size: int) -> str:
    """SHA-256 of the first and last :data:`EDGE` bytes and :data:`BLOCKS` blocks between."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        if size <= 2 * EDGE + BLOCKS * BLOCK:
            digest.update(handle.read())
        else:
            digest.update(handle.read(EDGE))
            step = (size - 2 * EDGE) // (BLOCKS + 1)
            for k in range(1, BLOCKS + 1):
                handle.seek(EDGE + k * step)
                digest.update(handle.read(BLOCK))
            handle.seek(size - EDGE)
            digest.update(handle.read(EDGE))
    return digest.hexdigest()


def _file_entry(path: Path, *, hashed: bool = True) -> dict[str, Any]:
    stat = path.stat()
    entry: dict[str, Any] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if hashed:
        entry["sha256_sample"] = sampled_hash(path, stat.st_size)
    return entry


def source_fingerprint(source: str) -> dict[str, Any]:
    """The fingerprint of a resolved data source (an absolute path, or ``scheme:name``)."""
    scheme = scheme_of(source)
    path = Path(source)
    if scheme and not path.exists():
        package = SCHEME_PACKAGES.get(scheme, scheme)
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = None
        return {"source": source, "kind": "bundled", "package": package, "version": version}
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        listing = {str(p.relative_to(path)): _file_entry(p, hashed=i < HASHED_FILES) for i, p in enumerate(files)}
        return {"source": source, "kind": "folder", "files": listing}
    if path.is_file():
        return {"source": source, "kind": "file", **_file_entry(path)}
    return {"source": source, "kind": "missing"}


def _when(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9, timezone.utc).isoformat(timespec="seconds")


def _file_changes(saved: dict[str, Any], new: dict[str, Any], name: str = "") -> list[str]:
    where = f"{name}: " if name else ""
    if saved.get("size") != new.get("size"):
        return [f"{where}size {saved.get('size')} -> {new.get('size')} bytes"]
    if saved.get("sha256_sample") and new.get("sha256_sample") and saved["sha256_sample"] != new["sha256_sample"]:
        return [f"{where}content changed (same size; modified {_when(new['mtime_ns'])})"]
    return []


def changes(saved: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two fingerprints, in words (empty: the same data).

    A file whose modification time alone changed (touched, copied) while its size and sampled
    content are the same counts as unchanged.
    """
    if saved.get("kind") != new.get("kind"):
        return [f"was a {saved.get('kind')}, now a {new.get('kind')}"]
    kind = saved.get("kind")
    if kind == "bundled":
        if saved.get("version") != new.get("version"):
            return [f"{saved.get('package')} {saved.get('version')} -> {new.get('version')}"]
        return []
    if kind == "file":
        return _file_changes(saved, new)
    if kind == "folder":
        old_files, new_files = saved.get("files", {}), new.get("files", {})
        found = []
        removed = sorted(set(old_files) - set(new_files))
        added = sorted(set(new_files) - set(old_files))
        if removed:
            found.append(f"{len(removed)} files removed, e.g. {removed[:3]}")
        if added:
            found.append(f"{len(added)} files added, e.g. {added[:3]}")
        for name in sorted(set(old_files) & set(new_files)):
            found += _file_changes(old_files[name], new_files[name], name)
            if len(found) >= 5:
                break
        return found
    return []


def summary_changes(saved: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Differences in what the reader made of the data: samples read, skipped, their shape."""
    found = []
    for key, label in (("n_samples", "samples read"), ("n_skipped", "samples skipped"), ("spec", "input shape")):
        if key in saved and saved[key] != new.get(key):
            found.append(f"{label} {saved[key]} -> {new.get(key)}")
    return found
