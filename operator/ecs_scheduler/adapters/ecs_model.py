"""Check an ECS request against botocore's own model of ECS before it is ever sent.

botocore's ParamValidator checks required members, types and minimums only (it leaves maximums
to the service). ECS's model carries more: lengths, list sizes, ranges, enums, tag patterns and
32-bit integers. Both are checked here, so a request ECS would refuse at 3 a.m. is refused when
the job is read, by the model the operator's own boto3 ships.
"""

import json
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from ecs_scheduler.model.launch import RequestProblem

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_CHECKED = 4096
"""Distinct requests whose verdict is kept: jobs that differ only in schedule share one."""


def _unicode_class(pattern: str) -> Callable[[str], bool] | None:
    r"""A test for ECS's tag patterns, `([\p{L}\p{Z}\p{N}_.:/=+\-@]*)`, which Python's re cannot
    read (no \p classes): every character is in one of the Unicode categories or literals."""
    match = re.fullmatch(r"\^?\(?\[(?P<body>[^\]]*)\]\*\)?\$?", pattern)
    if match is None:
        return None
    body = match["body"]
    categories = re.findall(r"\\p\{(\w)\}", body)
    literals = set(re.sub(r"\\p\{\w\}", "", body).replace("\\", ""))
    return lambda text: all(char in literals or unicodedata.category(char)[0] in categories for char in text)


@lru_cache(maxsize=256)
def _pattern_test(pattern: str) -> Callable[[str], bool] | None:
    if "\\p{" in pattern:
        return _unicode_class(pattern)
    try:
        compiled = re.compile(pattern)
    except re.error:
        return None  # a dialect Python cannot read: the service checks it
    return lambda text: compiled.fullmatch(text) is not None


class EcsModel:
    """ECS's request shapes from botocore's bundled service model."""

    def __init__(self) -> None:
        self._model = botocore.session.get_session().get_service_model("ecs")
        self._validator = ParamValidator()
        self._problems = lru_cache(maxsize=_CHECKED)(self._problems_of)

    def problems(self, operation: str, request: dict[str, Any]) -> list[RequestProblem]:
        """What ECS's model says is wrong with `request` (empty: nothing)."""
        return list(self._problems(operation, json.dumps(request, sort_keys=True)))

    def _problems_of(self, operation: str, request_json: str) -> tuple[RequestProblem, ...]:
        request = json.loads(request_json)
        shape = self._model.operation_model(operation).input_shape
        found: list[RequestProblem] = []
        _walk(request, shape, "", found)
        if not found:
            report = self._validator.validate(request, shape)
            if report.has_errors():  # anything the walk above does not know, in botocore's words
                found.append(RequestProblem("", report.generate_report().replace("\n", "; ")))
        return tuple(found)


def _walk(value: Any, shape: Any, path: str, found: list[RequestProblem]) -> None:
    kind = shape.type_name
    limits = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            found.append(RequestProblem(path, "must be an object"))
            return
        for name in shape.required_members:
            if name not in value:
                found.append(RequestProblem(_join(path, name), "is required"))
        for name, member in value.items():
            if name not in shape.members:
                found.append(RequestProblem(_join(path, name), "is not a member ECS knows"))
            else:
                _walk(member, shape.members[name], _join(path, name), found)
    elif kind == "list":
        if not isinstance(value, list):
            found.append(RequestProblem(path, "must be a list"))
            return
        _size(len(value), limits, path, "items", found)
        for index, item in enumerate(value):
            _walk(item, shape.member, f"{path}[{index}]", found)
    elif kind == "map":
        if not isinstance(value, dict):
            found.append(RequestProblem(path, "must be a map"))
            return
        _size(len(value), limits, path, "entries", found)
        for key, item in value.items():
            _walk(key, shape.key, f"{path}[{key!r}]", found)
            _walk(item, shape.value, f"{path}[{key!r}]", found)
    elif kind == "string":
        _string(value, shape, path, found)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            found.append(RequestProblem(path, "must be a whole number"))
            return
        low, high = _INT32 if kind == "integer" else _INT64
        low, high = max(low, limits.get("min", low)), min(high, limits.get("max", high))
        if not low <= value <= high:
            found.append(RequestProblem(path, f"{value} is outside {low}-{high}"))
    elif kind == "boolean" and not isinstance(value, bool):
        found.append(RequestProblem(path, "must be true or false"))


def _string(value: Any, shape: Any, path: str, found: list[RequestProblem]) -> None:
    if not isinstance(value, str):
        found.append(RequestProblem(path, "must be a string"))
        return
    _size(len(value), shape.metadata, path, "characters", found)
    enum = getattr(shape, "enum", None)
    if enum and value not in enum:
        found.append(RequestProblem(path, f"{value[:64]!r} is not one of {', '.join(enum)}"))
    pattern = shape.metadata.get("pattern")
    test = _pattern_test(pattern) if pattern else None
    if test is not None and not test(value):
        found.append(RequestProblem(path, f"{value[:64]!r} has characters ECS does not allow"))


def _size(size: int, limits: dict[str, Any], path: str, unit: str, found: list[RequestProblem]) -> None:
    if "min" in limits and size < limits["min"]:
        found.append(RequestProblem(path, f"has {size} {unit}; at least {limits['min']}"))
    if "max" in limits and size > limits["max"]:
        found.append(RequestProblem(path, f"has {size} {unit}; at most {limits['max']}"))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
