"""What the scheduler holds per job, and the one way it reports on a job (status and Events)."""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecs_scheduler.core.events import EventType
from ecs_scheduler.core.plan import JobIdentity
from ecs_scheduler.core.status import Readiness, ready_condition, with_condition
from ecs_scheduler.core.taskdef import Registered
from ecs_scheduler.core.validation import ValidJob
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.launch import RunTaskCall
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.events import EventRecorder
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.status_sink import StatusSink


@dataclass
class RunFacts:
    """What a job's runs left behind. Shared by every JobState of one resource, so a launch
    that finishes after a spec change still records into the current state."""

    history: list[dict[str, Any]] = field(default_factory=list)
    last_successful_run: str | None = None
    last_schedule_time: datetime | None = None
    run_now_handled: str | None = None
    resumed_after: datetime | None = None
    """lastScheduleTime as the status said when this process first saw the job."""
    latest_run: Run | None = None
    registered: Registered | None = None
    """A container job's latest registered revision (status.taskDefinitionArn)."""
    owed: list[dict[str, Any]] = field(default_factory=list)
    """Notifications not yet delivered (status.owedNotifications entries)."""
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    """The latest delivery per target (status.notifications entries)."""
    stale_revisions: bool = False
    """Older revisions of the job's family may still be ACTIVE: deregister them once no run uses them."""


@dataclass(frozen=True)
class PreparedCalls:
    """The RunTask calls of a job's next scheduled run, built before it is due so that a burst
    only has to send them."""

    instant: datetime
    task_count: int
    calls: list[RunTaskCall]


@dataclass
class JobState:
    """One resource as the scheduler knows it, replaced on every spec change."""

    identity: JobIdentity
    fingerprint: str
    generation: int | None
    job: ValidJob | None
    conditions: list[dict[str, Any]] = field(default_factory=list)
    facts: RunFacts = field(default_factory=RunFacts)
    prepared: PreparedCalls | None = None
    scope: AwsScope = field(default_factory=lambda: AwsScope(None))
    """Where the job's AWS calls go: its region, and the role assumed for it."""
    registered: str | None = None
    """A container job's task definition for this spec, once resolved."""
    key: JobKey = field(init=False)

    def __post_init__(self) -> None:
        self.key = JobKey(self.identity.namespace, self.identity.name)

    def carry_over(self, previous: "JobState") -> None:
        self.conditions = list(previous.conditions)
        self.facts = previous.facts


class Reporter:
    """Status merge patches (through the sink) and Events (through the recorder), for every part
    of the runtime."""

    def __init__(self, sink: StatusSink, events: EventRecorder, clock: Clock) -> None:
        self._sink = sink
        self._events = events
        self._clock = clock

    def write(self, key: JobKey, patch: dict[str, Any], *, within: float = 0.0) -> None:
        """Merge `patch` into the job's status, written within `within` seconds (0: now)."""
        self._sink.write(key, patch, within=within)

    def landed(self, key: JobKey) -> "asyncio.Future[None]":
        """Done once what was written for the job so far is in its status."""
        return self._sink.landed(key)

    def ready(
        self, state: JobState, readiness: Readiness, patch: dict[str, Any], *, within: float = 0.0
    ) -> None:
        """Write `patch` together with the Ready condition `readiness` describes."""
        condition = ready_condition(
            readiness, generation=state.generation, previous=state.conditions, now=self._clock.now()
        )
        state.conditions = with_condition(state.conditions, condition)
        self._sink.write(state.key, {**patch, "conditions": state.conditions}, within=within)

    def event(self, state: JobState, type_: EventType, reason: str, message: str) -> None:
        self._events.record(state.identity, type_, reason, message)
