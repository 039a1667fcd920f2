"""What the scheduler holds per job, and the one way it reports on a job (status and Events)."""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecs_scheduler.adapters.kube import KubeWriter
from ecs_scheduler.core.plan import JobIdentity
from ecs_scheduler.core.status import Readiness, ready_condition, with_condition
from ecs_scheduler.core.validation import ValidJob
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.launch import RunTaskCall
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.status_sink import StatusSink

logger = logging.getLogger(__name__)


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
    key: JobKey = field(init=False)

    def __post_init__(self) -> None:
        self.key = JobKey(self.identity.namespace, self.identity.name)

    def carry_over(self, previous: "JobState") -> None:
        self.conditions = list(previous.conditions)
        self.facts = previous.facts


class Reporter:
    """Status merge patches (through the sink) and Events, for every part of the runtime."""

    def __init__(self, kube: KubeWriter, sink: StatusSink, clock: Clock, background: Background) -> None:
        self._kube = kube
        self._sink = sink
        self._clock = clock
        self._background = background

    def write(self, key: JobKey, patch: dict[str, Any]) -> None:
        self._sink.write(key, patch)

    def ready(self, state: JobState, readiness: Readiness, patch: dict[str, Any]) -> None:
        """Write `patch` together with the Ready condition `readiness` describes."""
        condition = ready_condition(
            readiness, generation=state.generation, previous=state.conditions, now=self._clock.now()
        )
        state.conditions = with_condition(state.conditions, condition)
        self._sink.write(state.key, {**patch, "conditions": state.conditions})

    def event(self, state: JobState, type_: str, reason: str, message: str) -> None:
        self._background.spawn(self._post(state.identity, type_, reason, message), name=f"event:{state.key}")

    async def _post(self, identity: JobIdentity, type_: str, reason: str, message: str) -> None:
        # Events are best effort, as with client-go's recorder: one that cannot be posted (API
        # server unreachable) is dropped with a warning; the status carries what matters.
        try:
            await self._kube.post_event(
                namespace=identity.namespace,
                name=identity.name,
                uid=identity.uid,
                type_=type_,
                reason=reason,
                message=message,
            )
        except Exception as error:
            logger.warning(
                "event %s for %s/%s not posted: %s", reason, identity.namespace, identity.name, error
            )
