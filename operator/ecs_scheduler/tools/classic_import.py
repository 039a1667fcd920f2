"""`ecs-scheduler import`: a classic ECS Scheduler job as a ScheduledEcsJob that fires at the same instants.

The classic stores a job as JSON (its REST API and its job stores alike): `taskDefinition`, the
`schedule` with `?` already resolved, `timezone` as typed (pytz reads names case-insensitively),
`scheduleStart`/`scheduleEnd` (with the offset given, or naive local times from versions before
2017-07), `taskCount`, `maxCount`, `trigger` (sqs: `queueName`, `messagesPerTask`), `suspended`,
`overrides` (`containerName` + `environment`); the REST API adds `id` and the in-memory `lastRun`.
What the mapping cannot keep exactly is said in the job's notes, never silently dropped.
"""

import hashlib
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from ecs_scheduler.model import names
from ecs_scheduler.model.limits import INT32_MAX

KNOWN_FIELDS = {
    "id", "link", "taskDefinition", "schedule", "scheduleStart", "scheduleEnd", "timezone", "taskCount",
    "maxCount", "trigger", "suspended", "overrides", "lastRun", "lastRunTasks", "estimatedNextRun",
    "parsedSchedule",
}  # fmt: skip
OVERRIDE_TAG = "ECS_SCHEDULER_OVERRIDE_TAG"
"""The classic adds this variable (the job id) to every overridden container, to find its tasks."""
MAX_NAME = 253


@dataclass
class Imported:
    """One classic job: its manifest (None when it cannot come across) and what to know about it."""

    classic_id: str
    manifest: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)
    refused: str | None = None


@cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def canonical_zone(name: str) -> str | None:
    """The IANA spelling of a time zone the classic accepted (pytz matches names in any case)."""
    return _zones().get(name.strip().lower())


def kubernetes_name(classic_id: str, taken: set[str]) -> str:
    """A DNS-1123 name for a classic id (letters, digits, `_`, `-`), unique among `taken`."""
    name = re.sub(r"[^a-z0-9-]+", "-", classic_id.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name) or "job"
    if name in taken or len(name) > MAX_NAME:
        suffix = hashlib.sha256(classic_id.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9].rstrip('-')}-{suffix}"
    taken.add(name)
    return name


def _instant(value: str, zone: str, what: str, notes: list[str]) -> str:
    """An RFC 3339 instant; a naive classic time is local time in the job's zone, as APScheduler read it."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zoneinfo.ZoneInfo(zone))
        notes.append(f"{what} {value!r} had no offset: read as {zone} local time, as the classic did")
    return parsed.isoformat()


def _trigger(trigger: Mapping[str, Any], notes: list[str]) -> dict[str, Any] | str:
    """The trigger, or why it cannot come across."""
    if trigger.get("type") != "sqs":
        return f"trigger type {trigger.get('type')!r}: only sqs triggers exist here"
    mapped: dict[str, Any] = {"type": "sqs", "queueName": trigger["queueName"], "strategy": "Accurate"}
    per_task = trigger.get("messagesPerTask")
    if per_task:
        mapped["messagesPerTask"] = int(per_task)
    else:
        # Without it the classic starts taskCount tasks whenever the queue has messages.
        mapped["messagesPerTask"] = INT32_MAX
        notes.append("trigger without messagesPerTask: messagesPerTask set so that taskCount tasks start")
    return mapped


def _overrides(classic_id: str, overrides: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    containers = []
    for override in overrides:
        environment = {str(k): str(v) for k, v in (override.get("environment") or {}).items()}
        environment[OVERRIDE_TAG] = classic_id  # the classic always added it: tasks see the same variables
        containers.append({"name": override["containerName"], "environment": environment})
    return {"containerOverrides": containers}


def convert(
    job: Mapping[str, Any], *, taken: set[str], namespace: str | None = None, suspended: bool | None = None
) -> Imported:
    """One classic job as a ScheduledEcsJob manifest. `suspended` overrides the job's own flag
    (imports for a cut-over start suspended); `taken` collects the names given so far."""
    classic_id = str(job.get("id") or job.get("taskDefinition") or "")
    notes: list[str] = []
    result = Imported(classic_id, None, notes)
    if not classic_id or not job.get("schedule"):
        result.refused = "no id or no schedule"
        return result
    if "?" in str(job["schedule"]):
        notes.append(
            "the schedule still holds '?': resolved here from the job's name, not as the classic chose"
        )
    if unknown := sorted(set(job) - KNOWN_FIELDS):
        notes.append(f"fields not carried over: {', '.join(unknown)}")
    zone = "UTC"  # the classic's scheduler ran in UTC unless a job named its zone
    if job.get("timezone"):
        found = canonical_zone(str(job["timezone"]))
        if found is None:
            result.refused = f"time zone {job['timezone']!r} is not an IANA time zone"
            return result
        if found != job["timezone"]:
            notes.append(f"time zone {job['timezone']!r} written as {found!r}")
        zone = found
    spec: dict[str, Any] = {
        "taskDefinition": str(job.get("taskDefinition") or classic_id),
        "schedule": str(job["schedule"]),
        "scheduleSyntax": "EcsScheduler",
        "timeZone": zone,
        "taskCount": int(job.get("taskCount") or 1),
    }
    try:
        for key in ("scheduleStart", "scheduleEnd"):
            if job.get(key):
                spec[key] = _instant(str(job[key]), zone, key, notes)
    except ValueError as error:
        result.refused = f"a date that does not parse: {error}"
        return result
    if job.get("maxCount"):
        spec["maxCount"] = int(job["maxCount"])
    if job.get("trigger"):
        mapped = _trigger(job["trigger"], notes)
        if isinstance(mapped, str):
            result.refused = mapped
            return result
        spec["trigger"] = mapped
    else:
        # The classic starts only the tasks missing from taskCount (it counts the family's running
        # tasks); Forbid is the nearest: no new run while this job's tasks still run.
        spec["concurrencyPolicy"] = "Forbid"
    if job.get("overrides"):
        spec["overrides"] = _overrides(classic_id, job["overrides"])
    spec["suspended"] = bool(job.get("suspended")) if suspended is None else suspended
    name = kubernetes_name(classic_id, taken)
    if name != classic_id:
        notes.append(f"named {name!r} (Kubernetes names are lowercase DNS names)")
    annotations = {names.CLASSIC_ID_ANNOTATION: classic_id}
    if job.get("lastRun"):
        annotations[names.RESUME_AFTER_ANNOTATION] = _instant(str(job["lastRun"]), zone, "lastRun", notes)
    metadata: dict[str, Any] = {"name": name, "annotations": annotations}
    if namespace:
        metadata["namespace"] = namespace
    result.manifest = {"apiVersion": f"{names.GROUP}/{names.VERSION}", "kind": names.KIND,
                       "metadata": metadata, "spec": spec}  # fmt: skip
    return result
