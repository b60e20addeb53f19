"""User-facing error types.

Every error a user can cause (a bad recipe, a missing file, labels that do not fit the data)
is one of these. The CLI prints their message without a traceback and exits with code 2.
"""

from __future__ import annotations


class ProxymlError(Exception):
    """Base class of the errors a user can fix by changing their recipe, files or arguments."""


class RecipeError(ProxymlError, ValueError):
    """A recipe (or a ``--set`` override) is invalid. The message names the dotted key."""


class DataError(ProxymlError, ValueError):
    """Input data cannot be used as given. The message names the file, row or id."""


class LabelError(ProxymlError, ValueError):
    """The labels cannot be evaluated against (one class, too few, ids that match nothing)."""


class MissingDependencyError(ProxymlError, ImportError):
    """An optional dependency is not installed. The message names the extra to install."""


def require(module: str, extra: str) -> object:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra.

    Example:
        >>> require("numpy", "core").__name__
        'numpy'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module!r} is needed for this feature but is not installed; "
            f"install it with: pip install 'proxyml[{extra}]'"
        ) from exc
