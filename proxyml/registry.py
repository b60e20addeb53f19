"""Name -> class registries for pretext tasks, encoders, baselines and modalities.

Modalities register their components with decorators when their package is imported.
The core never imports a modality by name. A lookup imports only the modality that registers
the name: the built-in modalities' sources are read (not imported: that would cost torch's
import) for their ``@TASKS.register("...")``-style decorators, so ``proxyml tasks`` lists them
and ``get`` imports one package. Third-party plugins published under the entry point groups
``proxyml.tasks`` / ``proxyml.modalities`` are loaded on the first lookup; :func:`discover`
imports everything.

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

import ast
import difflib
import importlib
import logging
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
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
        if name not in self._items:
            self._import_declared(name)
        if name not in self._items:
            discover()  # a registration the sources' index cannot see
        if name not in self._items:
            raise KeyError(self.unknown_message(name))
        return self._items[name]

    def _declared(self) -> dict[str, Declared] | None:
        """The built-in names of this registry, from the sources (``None``: no index; import all)."""
        _load_plugins()
        index = builtin_index()
        key = next((k for k, r in _REGISTRIES.items() if r is self), None)
        if index is None or key is None:
            discover()
            return None
        return index.get(key, {})

    def _import_declared(self, name: str) -> None:
        declared = self._declared()
        if declared is not None and name in declared:
            importlib.import_module(declared[name].module)  # registers it (and its modality's others)

    def unknown_message(self, name: str) -> str:
        """``unknown <kind> 'name'``, the closest known name (case aside) and all known names."""
        known = self.names()
        by_lower = {k.lower(): k for k in known}
        same_suffix = [k for k in known if "." in k and k.split(".", 1)[1].lower() == str(name).lower()]
        close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1)
        if same_suffix:  # a name without its modality: every modality that has it
            hint = f"; did you mean {' or '.join(repr(k) for k in same_suffix)}?"
        else:
            hint = f"; did you mean {by_lower[close[0]]!r}?" if close else "."
        return f"unknown {self.kind} {name!r}{hint} Known: {', '.join(known) or '(none)'}"

    def names(self) -> list[str]:
        """Every registered name (imports nothing that only registers built-ins)."""
        declared = self._declared() or {}
        return sorted({*self._items, *declared})

    def summaries(self) -> dict[str, str]:
        """name -> the first paragraph of its docstring, on one line (the class's ``summary()`` once imported)."""
        declared = self._declared() or {}
        out = {}
        for name in self.names():
            obj = self._items.get(name)
            if obj is None:
                out[name] = declared[name].summary
            else:
                summary = getattr(obj, "summary", None)
                out[name] = summary() if callable(summary) else first_paragraph(obj.__doc__) or getattr(obj, "__name__", name)
        return out

    def __contains__(self, name: object) -> bool:
        if name in self._items:
            return True
        declared = self._declared()
        return name in (declared if declared is not None else self._items)

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

_REGISTRIES = {"TASKS": TASKS, "ENCODERS": ENCODERS, "BASELINES": BASELINES, "MODALITIES": MODALITIES,
               "DEMOS": DEMOS}

_discovered = False  # the plugins are loaded
_imported = False  # every built-in modality is imported


def discover() -> None:
    """Import every built-in modality package and load every installed plugin, once."""
    global _imported
    if not _imported:
        _imported = True  # set first: the imported modules may look things up while registering
        import proxyml.modalities as modalities_pkg

        try:
            for info in pkgutil.iter_modules(modalities_pkg.__path__, modalities_pkg.__name__ + "."):
                importlib.import_module(info.name)
        except BaseException:
            # a built-in that fails to import must fail again next time, not leave an empty registry
            _imported = False
            raise
    _load_plugins()


def _load_plugins() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for group in ENTRY_POINT_GROUPS:
        for entry_point in metadata.entry_points(group=group):
            try:
                entry_point.load()
            except Exception as exc:  # a broken plugin must not break the built-ins
                log.warning("could not load proxyml plugin %r: %s", entry_point.value, exc)


@dataclass(frozen=True)
class Declared:
    """Where a built-in component is registered: its module, and its docstring's first paragraph."""

    module: str
    summary: str


_index: dict[str, dict[str, Declared]] | None = None
_indexed = False


def builtin_index() -> dict[str, dict[str, Declared]] | None:
    """``{"TASKS": {name: Declared}, ...}`` for the built-in modalities, read from their sources
    with :mod:`ast` (about 20 ms) instead of importing them (seconds of torch). ``None`` when a
    source is missing or registers in a way the reader cannot follow (then lookups import all)."""
    global _index, _indexed
    if not _indexed:
        _indexed = True
        try:
            _index = _read_index()
        except (OSError, SyntaxError, ValueError) as exc:
            log.debug("no index of the built-in modalities (%s): importing them all", exc)
            _index = None
    return _index


def _read_index() -> dict[str, dict[str, Declared]]:
    import proxyml.modalities as modalities_pkg

    index: dict[str, dict[str, Declared]] = {key: {} for key in _REGISTRIES}
    for info in pkgutil.iter_modules(modalities_pkg.__path__):  # what discover() would import
        root = Path(getattr(info.module_finder, "path", ""))
        if not ((root / info.name / "__init__.py").is_file() or (root / f"{info.name}.py").is_file()):
            raise ValueError(f"no source for proxyml.modalities.{info.name} (compiled only?)")
    for root in map(Path, modalities_pkg.__path__):
        for path in sorted(root.rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            if ".register(" not in source:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            module = ".".join((modalities_pkg.__name__, *(parts[:-1] if parts[-1] == "__init__" else parts)))
            tree = ast.parse(source, filename=str(path))
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                     and n.func.attr == "register"]
            decorated = 0
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef | ast.FunctionDef):
                    for decorator in node.decorator_list:
                        if decorator in calls:
                            registry, name = _registration(decorator, module)
                            index[registry][name] = Declared(module, first_paragraph(ast.get_docstring(node)) or node.name)
                            decorated += 1
            if decorated != len(calls):
                raise ValueError(f"{module}: a register(...) call that is not a decorator")
    return index


def _registration(call: ast.Call, module: str) -> tuple[str, str]:
    """``("TASKS", "audio.noise_rank")`` for ``@TASKS.register("audio.noise_rank")``."""
    where = f"{module}, line {call.lineno}"
    registry = call.func.value if isinstance(call.func, ast.Attribute) else None
    if not (isinstance(registry, ast.Name) and registry.id in _REGISTRIES):
        raise ValueError(f"{where}: register on something other than {', '.join(_REGISTRIES)}")
    if not (len(call.args) == 1 and not call.keywords and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)):
        raise ValueError(f"{where}: a registered name that is not one string literal")
    return registry.id, call.args[0].value


def first_paragraph(text: str | None) -> str:
    r"""The first paragraph of a docstring, on one line (a sentence may run over several lines).

    Example:
        >>> first_paragraph("Rank the blur of two copies\n    (score: the blurrier).\n\n    More.")
        'Rank the blur of two copies (score: the blurrier).'
    """
    paragraph = (text or "").strip().split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def list_tasks() -> dict[str, str]:
    """Registered pretext tasks and their one-line descriptions.

    Example:
        >>> "timeseries.next_step" in list_tasks()
        True
    """
    return TASKS.summaries()
