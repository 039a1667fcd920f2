"""What ECS would refuse, found when a job is read instead of at its first launch.

The job's requests (RegisterTaskDefinition for a container job, then RunTask) are built exactly
as a launch builds them and handed to a check of ECS's model (injected: the core knows no
botocore). Limits that model does not carry are the rules in `RULES`. Either way the answer is
a SpecError naming the spec field the request member came from.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.plan import MAX_OVERRIDES_CHARS, JobIdentity, overrides_size, run_task_calls
from ecs_scheduler.core.taskdef import registration
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.launch import RequestProblem
from ecs_scheduler.model.spec import ScheduledEcsJobSpec

RequestCheck = Callable[[str, dict[str, Any]], list[RequestProblem]]
"""(operation, request) -> what ECS's model says is wrong with it."""

_LONGEST = JobIdentity("n" * 63, "n" * 253, "00000000-0000-0000-0000-000000000000")
"""The requests are built for the longest job name Kubernetes allows, so the operator's own tags
are checked at their longest, and every job with the same spec gets the same verdict."""
_SAMPLE_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)
_SAMPLE_DEFINITION = "arn:aws:ecs:us-east-1:000000000000:task-definition/sample:1"
MAX_TAGS = 50


def requests_of(
    spec: ScheduledEcsJobSpec, *, default_cluster: str, region: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """The requests a fire of `spec` sends, in order: (operation, request)."""
    built: list[tuple[str, dict[str, Any]]] = []
    if spec.container is not None:
        key = JobKey(_LONGEST.namespace, _LONGEST.name)
        built.append(("RegisterTaskDefinition", registration(spec.container, key=key, region=region)))
    call = run_task_calls(
        spec,
        job=_LONGEST,
        instant=_SAMPLE_INSTANT,
        task_count=spec.task_count,
        default_cluster=default_cluster,
        scope=AwsScope(region),
        started_by="ecs-scheduler",
        registered=_SAMPLE_DEFINITION if spec.container is not None else None,
    )[0]
    built.append(("RunTask", call.request))
    return built


def spec_field(operation: str, path: str) -> str:
    """The spec field a request member comes from."""
    if operation == "RegisterTaskDefinition":
        return "spec.container" + _container_member(path)
    if path.startswith("tags"):
        return "spec.tags"
    if path == "count":
        return "spec.taskCount"
    path = re.sub(r"\.environment\[.*$", ".environment", path)
    return f"spec.{path}" if path else "spec"


_TASK_LEVEL = {"cpu": "taskCpu", "memory": "taskMemory", "ephemeralStorage": "ephemeralStorageGib"}


def _container_member(path: str) -> str:
    container = re.match(r"containerDefinitions\[\d+\]\.?(?P<rest>.*)$", path)
    if container is None:
        head = path.split(".", 1)[0].split("[", 1)[0]
        if head in ("family", "tags"):
            return ""  # the operator's own members: the container as a whole
        return "." + (_TASK_LEVEL.get(head) or path)
    rest = container["rest"]
    head = rest.split(".", 1)[0].split("[", 1)[0]
    if head == "logConfiguration":
        return ".logGroup"
    if head in ("environment", "secrets"):
        return f".{head}"
    return f".{rest}" if rest else ""


# -- Limits ECS's model does not carry ------------------------------------------------------

_FARGATE_MEMORY: dict[int, range] = {
    256: range(512, 2049, 512),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
    8192: range(16384, 61441, 4096),
    16384: range(32768, 122881, 8192),
}
"""Fargate's task sizes: CPU units -> the memory (MiB) each allows."""


def _units(text: str | None, unit: str) -> int | None:
    """'1 vCPU' -> 1024, '2 GB' -> 2048, '512' -> 512; None when it is neither."""
    if text is None:
        return None
    match = re.fullmatch(
        rf"\s*([0-9]{{1,6}}(?:\.[0-9]{{1,3}})?)\s*({unit})?\s*", text, re.ASCII | re.IGNORECASE
    )
    if match is None:
        return None
    value = float(match[1]) * (1024 if match[2] else 1)
    return int(value) if value == int(value) else None


def _fargate_size(cpu_text: str | None, memory_text: str | None, fields: tuple[str, str]) -> SpecError | None:
    """(cpu field, memory field) name where the pair came from."""
    if cpu_text is None or memory_text is None:
        return None
    cpu, memory = _units(cpu_text, "vcpu"), _units(memory_text, "gb")
    if cpu is None or cpu not in _FARGATE_MEMORY:
        sizes = ", ".join(str(size) for size in _FARGATE_MEMORY)
        return SpecError(fields[0], f"{cpu_text!r} is not a Fargate CPU size ({sizes} units)")
    allowed = _FARGATE_MEMORY[cpu]
    if memory is None or memory not in allowed:
        return SpecError(
            fields[1],
            f"Fargate with {cpu} CPU units takes {allowed.start}-{allowed.stop - 1} MiB of memory in "
            f"steps of {allowed.step}, not {memory_text!r}",
        )
    return None


def _fargate_task_size(
    spec: ScheduledEcsJobSpec, operation: str, request: dict[str, Any]
) -> SpecError | None:
    if operation == "RegisterTaskDefinition" and "FARGATE" in request.get("requiresCompatibilities", []):
        fields = ("spec.container.taskCpu", "spec.container.taskMemory")
        return _fargate_size(request.get("cpu"), request.get("memory"), fields)
    overrides = request.get("overrides") or {}
    if operation == "RunTask" and spec.launch_type == "FARGATE":
        fields = ("spec.overrides.cpu", "spec.overrides.memory")
        return _fargate_size(overrides.get("cpu"), overrides.get("memory"), fields)
    return None


def _tag_count(spec: ScheduledEcsJobSpec, operation: str, request: dict[str, Any]) -> SpecError | None:
    tags = request.get("tags") or []
    if operation == "RunTask" and len(tags) > MAX_TAGS:
        own = len(tags) - len(spec.tags)
        return SpecError(
            "spec.tags",
            f"{len(spec.tags)} tags and the operator's own {own} make {len(tags)}; ECS allows {MAX_TAGS} per task",
        )
    return None


def _overrides_size(spec: ScheduledEcsJobSpec, operation: str, request: dict[str, Any]) -> SpecError | None:
    if operation != "RunTask" or spec.overrides is None:
        return None
    size = overrides_size(spec.overrides)
    if size > MAX_OVERRIDES_CHARS:
        return SpecError(
            "spec.overrides", f"is {size} characters as ECS counts them; the limit is {MAX_OVERRIDES_CHARS}"
        )
    return None


Rule = Callable[[ScheduledEcsJobSpec, str, dict[str, Any]], SpecError | None]
RULES: tuple[tuple[str, Rule], ...] = (
    ("tags on a task, the operator's two included, are at most 50", _tag_count),
    ("a task's overrides are at most 8,192 characters of JSON", _overrides_size),
    ("Fargate takes only its published CPU and memory pairs", _fargate_task_size),
)
"""ECS's limits that its service model does not state, one line each. (Tag keys starting with
aws: are refused by the spec model itself, before any request is built.)"""


def request_error(
    spec: ScheduledEcsJobSpec, *, check: RequestCheck | None, default_cluster: str, region: str | None
) -> SpecError | None:
    """The first thing ECS would refuse in the requests of `spec`, as a SpecError; None if none."""
    for operation, request in requests_of(spec, default_cluster=default_cluster, region=region):
        for _, rule in RULES:
            if (error := rule(spec, operation, request)) is not None:
                return error
        for problem in check(operation, request) if check is not None else []:
            where = f" ({operation} {problem.path})" if problem.path else f" ({operation})"
            return SpecError(spec_field(operation, problem.path), f"{problem.message}{where}")
    return None
