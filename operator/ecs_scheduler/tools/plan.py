"""`ecs-scheduler plan`: what a job would do, for a reviewer: its next fires and the exact requests.

The requests are built by the launch path's own functions (core.plan, core.taskdef) and
serialized by botocore's ECS serializer, so the body printed is the one botocore would send.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import botocore.serialize
import botocore.session

from ecs_scheduler.core.plan import JobIdentity, run_task_calls
from ecs_scheduler.core.schedule import upcoming
from ecs_scheduler.core.taskdef import registration
from ecs_scheduler.core.tenancy import scope_of
from ecs_scheduler.core.verdict import Judge
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.tools.manifests import Document

PLACEHOLDER_UID = "00000000-0000-0000-0000-000000000000"
REGISTERED_PLACEHOLDER = "<the task definition the operator registers for this job>"


@dataclass(frozen=True)
class PlanSettings:
    judge: Judge
    namespace: str
    now: datetime
    count: int = 5
    started_by: str = "ecs-scheduler"
    raw: bool = False
    """Print each body exactly as botocore sends it (one line) instead of indented."""


def _serialized(operation: str, request: dict[str, Any]) -> tuple[str, str]:
    """(X-Amz-Target, body) as botocore's ECS client would send `request`."""
    model = botocore.session.get_session().get_service_model("ecs").operation_model(operation)
    sent = botocore.serialize.create_serializer("json").serialize_to_request(request, model)
    return str(sent["headers"]["X-Amz-Target"]), bytes(sent["body"]).decode()


def _show(operation: str, request: dict[str, Any], raw: bool) -> list[str]:
    target, body = _serialized(operation, request)
    shown = body if raw else json.dumps(json.loads(body), indent=2)
    return [f"{operation} (POST /, X-Amz-Target: {target}):", shown]


def plan_lines(document: Document, settings: PlanSettings) -> list[str]:
    """The plan of one ScheduledEcsJob document, or its error, as lines to print."""
    body = document.body
    metadata = body.get("metadata") or {}
    namespace = str(metadata.get("namespace") or settings.namespace)
    name = str(metadata.get("name") or metadata.get("generateName") or "")
    judge = settings.judge
    verdict = judge(body.get("spec"), namespace=namespace, name=name, now=settings.now)
    if verdict.job is None or verdict.error is not None:
        return [f"{document.where}: {verdict.message}"]
    job, spec = verdict.job, verdict.job.spec
    lines = [f"# {namespace}/{name}: {spec.schedule!r} ({spec.schedule_syntax}, {spec.time_zone})"]
    if job.schedule.resolved() != spec.schedule:
        lines.append(f"resolved schedule: {job.schedule.resolved()}")
    fires = upcoming(job.schedule, settings.now, settings.count)
    if spec.suspended:
        lines.append("suspended: no fire until spec.suspended is false; once resumed, it would fire at")
    lines.append(f"next {len(fires)} fire(s) after {settings.now.isoformat()}:" if fires else "no more fires")
    zone = ZoneInfo(spec.time_zone)
    lines += [f"  {instant.astimezone(zone).isoformat()}" for instant in fires]
    uid = str(metadata.get("uid") or PLACEHOLDER_UID)
    if uid == PLACEHOLDER_UID:
        lines.append(f"clientToken below: computed with uid {uid} (the API server assigns the real one)")
    if spec.trigger is not None:
        lines.append(
            f"each fire first reads queue {spec.trigger.queue_name or spec.trigger.queue_url}: the count is "
            f"one task per {spec.trigger.messages_per_task} message(s), up to maxCount; shown for taskCount"
        )
    region = spec.region or judge.default_region
    if spec.container is not None:
        lines += _show("RegisterTaskDefinition", registration(spec.container, key=JobKey(namespace, name),
                                                                region=region), settings.raw)  # fmt: skip
    scope = scope_of(judge.policy, namespace=namespace, spec=spec, default_region=judge.default_region)
    calls = run_task_calls(spec, job=JobIdentity(namespace, name, uid), instant=fires[0] if fires else settings.now,
                           task_count=spec.task_count, default_cluster=judge.default_cluster, scope=scope,
                           started_by=settings.started_by,
                           registered=REGISTERED_PLACEHOLDER if spec.container is not None else None)  # fmt: skip
    for call in calls:
        lines += _show("RunTask", call.request, settings.raw)
    return lines
