"""A failure on one job stays with that job: the loop, the other jobs and liveness go on.

The scheduler runs for real, on the system clock, against recording fakes at the ECS and
Kubernetes boundaries. One job fails at a chosen stage (its schedule or its trigger raises what
no spec may make it raise); a control job on `@every 1s` must keep firing, and the failed job
must be Ready=False/OperatorError with a Warning event and a counted fault.
"""

import asyncio
import dataclasses
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

import pytest

from ecs_scheduler.core import validation
from ecs_scheduler.core import verdict as verdict_module
from ecs_scheduler.core.validation import ValidJob
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.model.launch import RunTaskCall, RunTaskOutcome
from ecs_scheduler.runtime import scheduler as scheduler_module
from ecs_scheduler.runtime.clock import SystemClock
from ecs_scheduler.runtime.scheduler import Scheduler


class Boundary:
    """ECS and Kubernetes: records RunTasks per job, status patches and Events."""

    def __init__(self) -> None:
        self.run_tasks: dict[str, int] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.events: list[tuple[str, str]] = []

    def run_task(self, call: RunTaskCall) -> Awaitable[RunTaskOutcome]:
        job = {t["key"]: t["value"] for t in call.request["tags"]}["ecs-scheduler.dev/job"]
        self.run_tasks[job] = self.run_tasks.get(job, 0) + 1
        answer: asyncio.Future[RunTaskOutcome] = asyncio.get_running_loop().create_future()
        answer.set_result(RunTaskOutcome(task_arns=(f"arn:task/{job}/{self.run_tasks[job]}",),
                                         task_statuses=("PENDING",)))  # fmt: skip
        return answer

    async def describe_tasks(self, **_: Any) -> list[dict[str, Any]]:
        return []

    async def list_tasks(self, **_: Any) -> list[str]:
        return []

    async def essential_containers(self, **_: Any) -> frozenset[str] | None:
        return None

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.statuses.setdefault(f"{namespace}/{name}", {}).update(status)

    async def create_event(self, namespace: str, event: dict[str, Any]) -> None:
        self.events.append((event["reason"], f"{namespace}/{event['involvedObject']['name']}"))

    async def patch_event(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        pass

    async def close(self) -> None:
        pass

    def ready(self, key: str) -> dict[str, Any]:
        conditions = self.statuses.get(key, {}).get("conditions") or []
        return next((c for c in conditions if c["type"] == "Ready"), {})


@dataclasses.dataclass(frozen=True)
class FailingSchedule:
    """A schedule that answers `good` calls, then raises."""

    inner: Any
    good: int
    calls: list[int] = dataclasses.field(default_factory=lambda: [0])

    def next_after(self, after: datetime) -> datetime | None:
        self.calls[0] += 1
        if self.calls[0] > self.good:
            raise OverflowError("date value out of range")
        return self.inner.next_after(after)  # type: ignore[no-any-return]

    def resolved(self) -> str:
        return str(self.inner.resolved())


class BrokenTrigger:
    async def measure(self, trigger: Any, **_: Any) -> Any:
        raise RuntimeError("a bug in a trigger source")


def body(name: str, *, resume_now: bool = False, **spec: Any) -> dict[str, Any]:
    """A job created long ago: its first fire catches up (the late path), unless its status says
    it last ran now (the on-time path)."""
    status = {"lastScheduleTime": datetime.now(UTC).isoformat()} if resume_now else {}
    return {
        "metadata": {"namespace": "team", "name": name, "uid": f"uid-{name}", "generation": 1,
                     "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"taskDefinition": "app", "schedule": "@every 1s", **spec},
        "status": status,
    }  # fmt: skip


async def run_for(seconds: float, bodies: list[dict[str, Any]]) -> tuple[Boundary, Scheduler]:
    boundary = Boundary()
    scheduler = Scheduler(
        config=OperatorConfig(track_interval=3600), ecs=boundary, kube=boundary, clock=SystemClock(),
        triggers={"sqs": BrokenTrigger()}, task_definitions=None,
    )  # fmt: skip
    scheduler.activate()
    loop = asyncio.create_task(scheduler.run())
    for job in bodies:
        scheduler.observe(job)
    await asyncio.sleep(seconds)
    health = scheduler.health()
    assert health["loopIdleSeconds"] < 2, health
    await scheduler.close()
    loop.cancel()
    return boundary, scheduler


@pytest.mark.parametrize(
    ("case", "stage", "good_calls", "spec"),
    [
        ("planning fails", "observing", 0, {}),
        ("catching up fails", "firing", 1, {}),
        ("the next instant after an on-time send fails", "firing", 2, {"resume_now": True}),
        ("a trigger source raises", "launching", 10**6,
         {"trigger": {"type": "sqs", "queueName": "q", "messagesPerTask": 1}}),
    ],
)  # fmt: skip
def test_one_failing_job_stops_alone(
    monkeypatch: pytest.MonkeyPatch, case: str, stage: str, good_calls: int, spec: dict[str, Any]
) -> None:
    real = validation.validate_spec

    def validate(raw: Any, **kwargs: Any) -> ValidJob:
        job = real(raw, **kwargs)
        if kwargs["identity"] != "team/bad":
            return job
        return ValidJob(job.spec, FailingSchedule(job.schedule, good_calls))

    monkeypatch.setattr(verdict_module, "validate_spec", validate)
    boundary, scheduler = asyncio.run(run_for(3.5, [body("good"), body("bad", **spec)]))
    assert boundary.run_tasks.get("team/good", 0) >= 3, boundary.run_tasks
    ready = boundary.ready("team/bad")
    assert (ready.get("status"), ready.get("reason")) == ("False", "OperatorError"), boundary.statuses
    assert stage in ready["message"]
    assert ("OperatorError", "team/bad") in boundary.events
    assert scheduler.metrics.job_faults.labels(stage)._value.get() == 1
    assert boundary.ready("team/good").get("status") == "True"


def test_liveness_fails_once_the_loop_has_ended_or_stalled() -> None:
    async def scenario() -> list[str]:
        boundary = Boundary()
        scheduler = Scheduler(config=OperatorConfig(track_interval=3600), ecs=boundary, kube=boundary,
                              clock=SystemClock(), triggers={}, task_definitions=None)  # fmt: skip
        verdicts = []
        loop = asyncio.create_task(scheduler.run())
        await asyncio.sleep(0.05)
        verdicts.append("alive" if scheduler.health() else "?")
        scheduler._last_turn -= scheduler_module.STUCK_AFTER + 1  # as if it had not turned for that long
        loop.cancel()
        await asyncio.sleep(0.05)
        for _ in range(2):
            try:
                scheduler.health()
                verdicts.append("alive")
            except RuntimeError as error:
                verdicts.append(str(error))
            scheduler._loop_task = None  # the second look: a loop that has not ended but is stuck
        await scheduler.close()
        return verdicts

    assert asyncio.run(scenario()) == [
        "alive",
        "the scheduler loop has ended",
        f"the scheduler loop has not turned for {scheduler_module.STUCK_AFTER + 1:.0f} s",
    ]


def test_a_cluster_named_by_name_and_by_arn_is_listed_once_at_start() -> None:
    class Listing(Boundary):
        def __init__(self) -> None:
            super().__init__()
            self.listed: list[str] = []

        async def list_tasks(self, *, cluster: str, **_: Any) -> list[str]:
            self.listed.append(cluster)
            return []

    async def scenario() -> list[str]:
        boundary = Listing()
        config = OperatorConfig(track_interval=0.05, account_id="123456789012", default_region="us-east-1")
        scheduler = Scheduler(config=config, ecs=boundary, kube=boundary, clock=SystemClock(), triggers={},
                              task_definitions=None)  # fmt: skip
        scheduler.activate()
        loop = asyncio.create_task(scheduler.run())
        scheduler.observe(body("by-name", schedule="@every 1h", cluster="batch"))
        scheduler.observe(body("by-arn", schedule="@every 1h",
                               cluster="arn:aws:ecs:us-east-1:123456789012:cluster/batch"))  # fmt: skip
        scheduler.observe(body("elsewhere", schedule="@every 1h",
                               cluster="arn:aws:ecs:us-east-1:999999999999:cluster/batch"))  # fmt: skip
        await asyncio.sleep(0.4)
        await scheduler.close()
        loop.cancel()
        return boundary.listed

    listed = asyncio.run(scenario())
    assert sorted(listed) == ["arn:aws:ecs:us-east-1:999999999999:cluster/batch", "batch"], listed
