"""One run on demand (ScheduledEcsJobRun) as the operator keeps it: what its status restores
after a restart, and the status patch that says where it is."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecs_scheduler.core.plan import JobIdentity
from ecs_scheduler.core.status import iso, iso_precise, parse_instant, ready_of
from ecs_scheduler.model import names
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.run_request import RECENT_INSTANTS, ScheduledEcsJobRunSpec
from ecs_scheduler.model.status import RunOutcome
from ecs_scheduler.runtime.jobs import JobState
from ecs_scheduler.runtime.runs import Run

Condition = tuple[str, str, str, str]
"""(type, status, reason, message)"""


@dataclass
class Request:
    """One ScheduledEcsJobRun as this process knows it."""

    key: JobKey
    """The run object's namespace and name."""
    uid: str
    spec: ScheduledEcsJobRunSpec | None
    created: datetime
    owned: bool
    phase: str | None = None
    planned: list[datetime] | None = None
    """The instants to run, in order (skipped ones left out); None until planned."""
    launched: int = 0
    in_progress: set[datetime] = field(default_factory=set)
    launching: set[datetime] = field(default_factory=set)
    """Instants whose launch this process has under way (not yet answered)."""
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    total: int = 0
    recent: list[dict[str, Any]] = field(default_factory=list)
    started: datetime | None = None
    completed: datetime | None = None
    waiting_for: str | None = None
    """Why it waits (said once), e.g. the job does not exist yet."""
    logs: dict[datetime, list[dict[str, str]]] = field(default_factory=dict)
    """Where the output of each instant's tasks is (status.instants[].logs)."""

    @property
    def job(self) -> JobKey:
        assert self.spec is not None
        return JobKey(self.key.namespace, self.spec.job_name)

    @property
    def identity(self) -> JobIdentity:
        return JobIdentity(self.key.namespace, self.key.name, self.uid, kind=names.RUN_KIND)

    @property
    def finished(self) -> bool:
        return self.phase in ("Succeeded", "Failed")


def restore(request: Request, status: Mapping[str, Any]) -> None:
    """What the run's status says was done, after a restart or a failover."""
    request.phase = status.get("phase")
    planned = status.get("planned")
    if isinstance(planned, list):
        request.planned = [instant for raw in planned if (instant := parse_instant(raw)) is not None]
    for name in ("launched", "succeeded", "failed", "skipped", "total"):
        value = status.get(name)
        if isinstance(value, int):
            setattr(request, name, value)
    request.in_progress = {
        i for raw in status.get("inProgress") or [] if (i := parse_instant(raw)) is not None
    }
    request.recent = [entry for entry in status.get("instants") or [] if isinstance(entry, dict)]
    request.started = parse_instant(status.get("startTime"))
    request.completed = parse_instant(status.get("completionTime"))


def keep(request: Request, entry: dict[str, Any]) -> None:
    """Keep the entry of each instant in progress and the latest finished ones."""
    request.recent = [e for e in request.recent if e.get("scheduledTime") != entry["scheduledTime"]] + [entry]
    finished = [e for e in request.recent if e.get("outcome")]
    if len(finished) > RECENT_INSTANTS:
        drop = {id(e) for e in finished[: len(finished) - RECENT_INSTANTS]}
        request.recent = [e for e in request.recent if id(e) not in drop]


def status_patch(
    request: Request,
    *,
    job_uid: str | None,
    now: datetime,
    planned: bool = False,
    condition: Condition | None = None,
) -> dict[str, Any]:
    """The run's status as it stands (`planned`: with the instants it runs, written once)."""
    patch: dict[str, Any] = {
        "phase": request.phase,
        "total": request.total,
        "succeeded": request.succeeded,
        "failed": request.failed,
        "skipped": request.skipped,
        "launched": request.launched,
        "inProgress": [iso_precise(i) for i in sorted(request.in_progress)],
        "instants": request.recent,
        "startTime": iso(request.started) if request.started else None,
        "completionTime": iso(request.completed) if request.completed else None,
    }
    if job_uid is not None:
        patch["jobUid"] = job_uid
    if planned and request.planned is not None:
        patch["planned"] = [iso_precise(i) for i in request.planned]
    if condition is not None:
        type_, status, reason, message = condition
        patch["conditions"] = [{"type": type_, "status": status, "reason": reason, "message": message[:1024],
                                "lastTransitionTime": iso(now)}]  # fmt: skip
    elif request.phase == "Running":
        patch["conditions"] = []
    return patch


def why_not_launched(state: JobState, instant: datetime, run: Run | None) -> tuple[RunOutcome, str]:
    """An instant whose launch started nothing: what the job's status says about it."""
    for entry in reversed(state.facts.history):
        if entry.get("scheduledTime") == iso_precise(instant):
            return entry.get("outcome", "Failed"), str(entry.get("reason", ""))
    if run is not None and run.launch_failures:
        return "Failed", "not started: " + ", ".join(run.launch_failures)
    message = ready_of(state.conditions).get("message") or "not launched"
    return "Failed", f"not launched: {message}"
