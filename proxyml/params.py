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
import re
import types
from collections.abc import Mapping
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

from proxyml.errors import RecipeError

M = TypeVar("M", bound=BaseModel)


class Params(BaseModel):
    """Base of every component's parameter model: unknown keys are errors, values are checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=Params)
"""A component's own parameter model: ``PretextTask[P]``, ``Encoder[P]``, ``Baseline[P]`` and
``Modality[P]`` type their ``params`` by it."""


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _union_members(annotation: Any) -> list[Any] | None:
    """The members of a union with more than one non-None member (pydantic tags those), else None."""
    if get_origin(annotation) not in (Union, types.UnionType):
        return None
    members = [a for a in get_args(annotation) if a is not type(None)]
    return members if len(members) > 1 else None


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _walk(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any]:
    """``loc`` without pydantic's union-member tags, and the annotation that holds its last key.

    pydantic reports a value that fits no member of ``int | str`` once per member, at
    ``key.int`` and ``key.str``; users know only ``key``.
    """
    clean: list[Any] = []
    parent: Any = None
    current: Any = model
    for part in loc:
        current = _without_none(current)
        members = _union_members(current)
        if members is not None and isinstance(part, str):
            current = next((m for m in members if getattr(m, "__name__", None) == part), None)
            continue
        clean.append(part)
        parent = current
        if _is_model(current):
            field = current.model_fields.get(part)
            current = field.annotation if field is not None else None
        elif get_origin(current) in (list, tuple, set, frozenset) and get_args(current):
            current = get_args(current)[0]
        elif get_origin(current) is dict and get_args(current):
            current = get_args(current)[1]
        else:
            current = None
    return tuple(clean), parent


def _message(error: Any) -> str:
    message = str(error["msg"])
    if error["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    elif error["type"] == "model_type":
        message = "expected a section (a mapping of keys to values)"
    return message


def format_validation_error(exc: ValidationError, model: type[BaseModel], prefix: str = "") -> str:
    """One line per problem: ``dotted.key: what is wrong`` (+ a suggestion for typos).

    Errors that pydantic reports once per member of a union (``int | str``) are merged into
    one line for the key.
    """
    lines: dict[str, list[str]] = {}
    inputs: dict[str, Any] = {}
    for error in exc.errors():
        loc, parent = _walk(model, tuple(error["loc"]))
        path = ".".join(str(p) for p in ((prefix,) if prefix else ()) + loc)
        if error["type"] == "extra_forbidden":
            known = list(parent.model_fields) if _is_model(parent) else []
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            if close:
                hint = f"; did you mean {close[0]}?"
            else:
                hint = f"; known keys: {', '.join(known)}" if known else ""
            lines.setdefault(path, []).append(f"unknown key{hint}")
        elif error["type"] == "missing":
            lines.setdefault(path, []).append("required key is missing")
        elif not loc:  # a check of the whole section (a model validator): its message says it all
            lines.setdefault(path, []).append(_message(error))
        else:
            lines.setdefault(path, []).append(_message(error))
            inputs[path] = error.get("input")
    out = []
    for path, messages in lines.items():
        if len(messages) > 1 and path in inputs:
            # one value that fits none of a union's members: "should be A or B or C"
            first, *rest = (re.sub(r", unable to .*$", "", m) for m in messages)
            messages = [" or ".join([first, *(m.removeprefix("Input should be ") for m in rest)])]
        out += [(f"{path}: " if path else "") + m + (f" (got {inputs[path]!r})" if path in inputs else "")
                for m in messages]
    return "\n".join(out)


def validate_params(model: type[M], params: Mapping[str, Any] | None, where: str) -> M:
    """Build ``model`` from ``params`` or raise :class:`RecipeError` naming ``where``."""
    if params is not None and not isinstance(params, Mapping):
        raise RecipeError(f"{where}: expected a mapping of parameters, got {params!r}")
    try:
        return model(**dict(params or {}))
    except ValidationError as exc:
        raise RecipeError(format_validation_error(exc, model, where)) from None
