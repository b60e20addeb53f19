"""Where a data or labels source points: a ``scheme:name`` (``sktime:GunPoint``,
``sklearn:iris``) or a file path, relative paths resolving against a base folder.

Every reader and the recipe resolve sources here, so that a new modality resolves them the
same way; each caller keeps its own error messages.

Example:
    >>> scheme_of("sktime:GunPoint"), scheme_of("C:/data/x.csv"), scheme_of("data/x.csv")
    ('sktime', None, None)
    >>> without_scheme("sklearn:iris", "sklearn")
    'iris'
    >>> resolve_path("x.csv", "/data").as_posix()
    '/data/x.csv'
"""

from __future__ import annotations

import re
from pathlib import Path

SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9_]+):")
"""A ``name:`` prefix of two characters or more (so a Windows drive letter is no scheme)."""


def scheme_of(source: str) -> str | None:
    """The scheme of ``source`` (``"sktime"`` for ``"sktime:GunPoint"``), ``None`` for a path."""
    match = SCHEME.match(source)
    return match.group(1) if match else None


def without_scheme(source: str, scheme: str) -> str:
    """``source`` less a leading ``scheme:`` (unchanged when it has none)."""
    return source.removeprefix(f"{scheme}:")


def resolve_path(source: str, base_dir: str | Path | None, *, resolve: bool = False) -> Path:
    """The file path ``source`` names (``~`` expanded), a relative one taken relative to
    ``base_dir`` when given (and with ``resolve``, made absolute with symlinks resolved)."""
    path = Path(source).expanduser()
    if path.is_absolute() or base_dir is None:
        return path
    joined = Path(base_dir).expanduser() / path
    return joined.resolve() if resolve else joined


__all__ = ["SCHEME", "resolve_path", "scheme_of", "without_scheme"]
