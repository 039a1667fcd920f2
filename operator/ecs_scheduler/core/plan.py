"""Pure builders of ECS RunTask requests for one fire of a job."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ecs_scheduler.model import names
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.launch import RunTaskCall
from ecs_scheduler.model.limits import TAG_VALUE_CHARS
from ecs_scheduler.model.spec import MAX_TASKS_PER_FIRE, Overrides, ScheduledEcsJobSpec

MAX_TASKS_PER_CALL = 10
"""RunTask starts at most 10 tasks per call."""

MAX_OVERRIDES_CHARS = 8192
"""ECS limit on the JSON text of a task's overrides, formatting included."""

MAX_CLIENT_TOKEN_CHARS = 64
_TAG_HASH_CHARS = 32


@dataclass(frozen=True)
class JobIdentity:
    """Who a fire belongs to."""

    namespace: str
    name: str
    uid: str
    kind: str = names.KIND
    """What its Events are about: a job, or a run of one (ScheduledEcsJobRun)."""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


def split_counts(total: int, per_call: int = MAX_TASKS_PER_CALL) -> list[int]:
    """23 -> [10, 10, 3]: the task count of each RunTask call, capped at 50 tasks in all."""
    total = min(total, MAX_TASKS_PER_FIRE)
    return [min(per_call, total - start) for start in range(0, total, per_call)]


def client_token(
    uid: str,
    instant: datetime,
    call_index: int,
    *,
    run_now: str | None = None,
    attempt: int = 1,
    place: str | None = None,
) -> str:
    """Deterministic idempotency token: the same job, run and call always give the same one.

    A run is its scheduled instant, or for a manual run the run-now annotation value (its
    instant is only the moment it was seen, which a restart would change). Each retry attempt
    gets its own token, or ECS would answer it with the failed attempt's tasks. `place` (the
    target cluster as account:region:cluster, for jobs in another account) makes tokens unique
    per cluster ARN; jobs in the operator's own account keep the tokens they always had, so an
    upgrade never relaunches a run.
    """
    run = f"run-now:{run_now}" if run_now is not None else instant.astimezone(UTC).isoformat()
    material = f"{uid}|{run}|{call_index}" + (f"|attempt:{attempt}" if attempt > 1 else "")
    if place is not None:
        material += f"|at:{place}"
    token = "es-" + hashlib.sha256(material.encode()).hexdigest()[:48]
    assert len(token) <= MAX_CLIENT_TOKEN_CHARS
    return token


def given(**members: Any) -> dict[str, Any]:
    """The members that are set: ECS requests leave out what the spec leaves out."""
    return {name: value for name, value in members.items() if value is not None}


def ecs_overrides(overrides: Overrides) -> dict[str, Any]:
    """The `overrides` member of RunTask, in ECS's own shape."""
    result: dict[str, Any] = {}
    containers = []
    for container in overrides.container_overrides:
        entry: dict[str, Any] = {"name": container.name}
        if container.environment:
            entry["environment"] = [{"name": k, "value": v} for k, v in container.environment.items()]
        if container.command is not None:
            entry["command"] = list(container.command)
        if container.cpu is not None:
            entry["cpu"] = container.cpu
        if container.memory is not None:
            entry["memory"] = container.memory
        containers.append(entry)
    if containers:
        result["containerOverrides"] = containers
    result.update(
        given(
            cpu=overrides.cpu,
            memory=overrides.memory,
            taskRoleArn=overrides.task_role_arn,
            executionRoleArn=overrides.execution_role_arn,
        )
    )
    return result


def overrides_size(overrides: Overrides) -> int:
    """Characters ECS counts against its 8,192 overrides limit."""
    return len(json.dumps(ecs_overrides(overrides), separators=(",", ":")))


def job_tag_value(key: str) -> str:
    """The value of the job tag for `namespace/name`: the key itself when it fits ECS's 256
    characters (every name of up to 192 characters does), else its start, '@' and a hash of the
    whole: no two long names share a value, and none equals a plain key ('@' is in no Kubernetes
    name, and ECS's tag pattern allows it)."""
    if len(key) <= TAG_VALUE_CHARS:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:_TAG_HASH_CHARS]
    return f"{key[: TAG_VALUE_CHARS - _TAG_HASH_CHARS - 1]}@{digest}"


def _tags(spec: ScheduledEcsJobSpec, job: JobIdentity, instant: datetime) -> list[dict[str, str]]:
    tags = {k: v for k, v in spec.tags.items()}
    tags[names.JOB_TAG] = job_tag_value(job.key)
    tags[names.SCHEDULED_AT_TAG] = instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [{"key": k, "value": v} for k, v in tags.items()]


def _base_request(
    spec: ScheduledEcsJobSpec, *, cluster: str, started_by: str, task_definition: str
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "cluster": cluster,
        "taskDefinition": task_definition,
        "startedBy": started_by,
    }
    if spec.overrides is not None:
        request["overrides"] = ecs_overrides(spec.overrides)
    if spec.launch_type is not None:
        request["launchType"] = spec.launch_type
    if spec.capacity_provider_strategy is not None:
        request["capacityProviderStrategy"] = [
            item.model_dump(by_alias=True, exclude_none=True) for item in spec.capacity_provider_strategy
        ]
    for key, model_list in (
        ("placementConstraints", spec.placement_constraints),
        ("placementStrategy", spec.placement_strategy),
    ):
        if model_list is not None:
            request[key] = [item.model_dump(by_alias=True, exclude_none=True) for item in model_list]
    if spec.network_configuration is not None:
        request["networkConfiguration"] = spec.network_configuration.model_dump(
            by_alias=True, exclude_none=True
        )
    request.update(
        given(
            platformVersion=spec.platform_version,
            propagateTags=spec.propagate_tags,
            enableECSManagedTags=spec.enable_ecs_managed_tags,
            enableExecuteCommand=spec.enable_execute_command,
            group=spec.group,
        )
    )
    return request


def _later(instant: datetime, seconds: int) -> datetime | None:
    """`instant` plus `seconds`; None (no deadline) past the end of the calendar."""
    try:
        return instant + timedelta(seconds=seconds)
    except OverflowError:
        return None


def run_task_calls(
    spec: ScheduledEcsJobSpec,
    *,
    job: JobIdentity,
    instant: datetime,
    task_count: int,
    default_cluster: str,
    scope: AwsScope,
    started_by: str,
    run_now: str | None = None,
    attempt: int = 1,
    registered: str | None = None,
    behind: bool = False,
) -> list[RunTaskCall]:
    """The RunTask calls that start `task_count` tasks for the fire at `instant`, sent to `scope`.
    `registered` is the task definition the operator registered for a container job; `behind`
    marks a backfill's calls (they wait behind scheduled fires, and have no deadline)."""
    task_definition = registered or spec.task_definition
    assert task_definition is not None, "a container job launches its registered definition"
    cluster = spec.cluster or default_cluster
    base = _base_request(spec, cluster=cluster, started_by=started_by, task_definition=task_definition)
    base["tags"] = _tags(spec, job, instant)
    place = f"{scope.account}:{scope.region or ''}:{cluster}" if scope.role is not None else None
    # Only a scheduled first attempt can miss its start; a retry or a run-now waits its turn.
    deadline = (
        _later(instant, spec.starting_deadline_seconds)
        if spec.starting_deadline_seconds is not None and run_now is None and attempt == 1 and not behind
        else None
    )
    return [
        RunTaskCall(
            scope,
            {
                **base,
                "count": count,
                "clientToken": client_token(
                    job.uid, instant, index, run_now=run_now, attempt=attempt, place=place
                ),
            },
            namespace=job.namespace,
            scheduled=instant,
            deadline=deadline,
            behind=behind,
        )
        for index, count in enumerate(split_counts(task_count))
    ]
