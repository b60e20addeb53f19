"""Name -> class registries for pretext tasks, encoders, baselines and modalities.

Modalities register their components with decorators when their package is imported.
The core never imports a modality by name: :func:`discover` imports every subpackage of
``proxyml.modalities`` and every third-party plugin published under the entry point groups
``proxyml.tasks`` / ``proxyml.modalities``.

Example:
    >>> from proxyml.registry import Registry
    >>> shapes = Registry("shape")
    >>> @shapes.register("square")
    ... class Square: ...
    >>> shapes.get("square").__name__
    'Square'
    >>> shapes.get("sqare")
    Traceback (most recent call last):
    ...
    KeyError: "unknown shape 'sqare'; did you mean 'square'? Known: square"
"""

from __future__ import annotations

import difflib
import importlib
import logging
import pkgutil
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any, Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

ENTRY_POINT_GROUPS = ("proxyml.modalities", "proxyml.tasks")


class Registry(Generic[T]):
    """A named collection of classes (or factories) of one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated object under ``name``; duplicates are rejected."""

        def decorator(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise ValueError(
                    f"{self.kind} {name!r} is already registered by {self._items[name]!r}; "
                    f"pick another name for {obj!r}"
                )
            self._items[name] = obj
            if hasattr(obj, "__dict__") and isinstance(obj, type):
                # the class knows its own registry key (used in messages and saved recipes)
                obj.registry_name = name  # type: ignore[attr-defined]
            return obj

        return decorator

    def get(self, name: str) -> T:
        """Return the object registered under ``name`` or raise ``KeyError`` with suggestions."""
        discover()
        if name not in self._items:
            raise KeyError(self.unknown_message(name))
        return self._items[name]

    def unknown_message(self, name: str) -> str:
        """``unknown <kind> 'name'``, the closest known name (case aside) and all known names."""
        discover()
        known = sorted(self._items)
        by_lower = {k.lower(): k for k in known}
        same_suffix = [k for k in known if "." in k and k.split(".", 1)[1].lower() == str(name).lower()]
        close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1)
        if same_suffix:  # a name without its modality: every modality that has it
            hint = f"; did you mean {' or '.join(repr(k) for k in same_suffix)}?"
        else:
            hint = f"; did you mean {by_lower[close[0]]!r}?" if close else "."
        return f"unknown {self.kind} {name!r}{hint} Known: {', '.join(known) or '(none)'}"

    def names(self) -> list[str]:
        discover()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        discover()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, T]]:
        discover()
        return sorted(self._items.items())


TASKS: Registry[Any] = Registry("task")
ENCODERS: Registry[Any] = Registry("encoder")
BASELINES: Registry[Any] = Registry("baseline")
MODALITIES: Registry[Any] = Registry("modality")
DEMOS: Registry[Any] = Registry("demo")
"""Bundled synthetic data sets (``proxyml demo NAME --out DIR``, a recipe's ``data.demo``): classes
with ``write(folder, *, small=False, seed=0) -> {"folder", ...paths}`` and ``data_file`` /
``labels_file``, the names of the data source and labels file they write in ``folder``."""

_discovered = False


def discover() -> None:
    """Import every built-in modality package and every installed plugin, once."""
    global _discovered
    if _discovered:
        return
    _discovered = True  # set first: the imported modules may look things up while registering
    import proxyml.modalities as modalities_pkg

    try:
        for info in pkgutil.iter_modules(modalities_pkg.__path__, modalities_pkg.__name__ + "."):
            importlib.import_module(info.name)
    except BaseException:
        # a built-in that fails to import must fail again next time, not leave an empty registry
        _discovered = False
        raise
    for group in ENTRY_POINT_GROUPS:
        for entry_point in metadata.entry_points(group=group):
            try:
                entry_point.load()
            except Exception as exc:  # a broken plugin must not break the built-ins
                log.warning("could not load proxyml plugin %r: %s", entry_point.value, exc)


def list_tasks() -> dict[str, str]:
    """Registered pretext tasks and their one-line descriptions.

    Example:
        >>> "timeseries.next_step" in list_tasks()
        True
    """
    return {name: TASKS.get(name).summary() for name in TASKS.names()}
