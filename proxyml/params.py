"""Parameter validation shared by recipes, tasks, encoders and baselines.

All of them describe their parameters with a pydantic model; this module turns pydantic's
errors into one uniform, user-facing message that names the dotted recipe key.

Example:
    >>> from pydantic import BaseModel, ConfigDict
    >>> class P(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     segments: int = 3
    >>> validate_params(P, {"segment": 4}, "task.params").segments
    Traceback (most recent call last):
    ...
    proxyml.errors.RecipeError: task.params.segment: unknown key; did you mean segments?
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from proxyml.errors import RecipeError

M = TypeVar("M", bound=BaseModel)


class Params(BaseModel):
    """Base of every component's parameter model: unknown keys are errors, values are checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (possibly nested) model that holds the key at ``loc``."""
    current: Any = model
    for part in loc[:-1]:
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        current = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def format_validation_error(exc: ValidationError, model: type[BaseModel], prefix: str = "") -> str:
    """One line per problem: ``dotted.key: what is wrong`` (+ a suggestion for typos)."""
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        path = ".".join(str(p) for p in ((prefix,) if prefix else ()) + loc)
        if error["type"] == "extra_forbidden":
            known = _known_fields(model, loc)
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; known keys: {', '.join(known)}"
            lines.append(f"{path}: unknown key{hint}")
        elif error["type"] == "missing":
            lines.append(f"{path}: required key is missing")
        else:
            got = error.get("input")
            lines.append(f"{path}: {error['msg']} (got {got!r})")
    return "\n".join(lines)


def validate_params(model: type[M], params: Mapping[str, Any] | None, where: str) -> M:
    """Build ``model`` from ``params`` or raise :class:`RecipeError` naming ``where``."""
    if params is not None and not isinstance(params, Mapping):
        raise RecipeError(f"{where}: expected a mapping of parameters, got {params!r}")
    try:
        return model(**dict(params or {}))
    except ValidationError as exc:
        raise RecipeError(format_validation_error(exc, model, where)) from None
