"""The tracker against a fake ECS at the EcsApi boundary: batching and vanished tasks."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from ecs_scheduler.core.runstate import MISSING_SWEEPS
from ecs_scheduler.core.tasks import TaskReport
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.launch import RunTaskCall, RunTaskOutcome
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.tracker import Tracker


class FakeEcs:
    def __init__(self) -> None:
        self.statuses: dict[str, str] = {}
        self.calls: list[tuple[str | None, str, list[str]]] = []

    async def run_task(self, call: RunTaskCall) -> RunTaskOutcome:
        raise NotImplementedError

    async def describe_tasks(
        self, *, cluster: str, scope: AwsScope, arns: list[str], tags: bool = False
    ) -> list[dict[str, Any]]:
        self.calls.append((scope.region, cluster, list(arns)))
        return [{"taskArn": a, "lastStatus": self.statuses[a]} for a in arns if a in self.statuses]

    async def stop_task(self, *, cluster: str, scope: AwsScope, arn: str, reason: str) -> None:
        raise NotImplementedError

    async def list_tasks(self, *, cluster: str, scope: AwsScope, started_by: str) -> list[str]:
        return []

    async def essential_containers(
        self, *, scope: AwsScope, task_definition_arn: str
    ) -> frozenset[str] | None:
        return None


def run_of(job: str, arns: list[str], cluster: str = "default") -> Run:
    return Run(
        key=JobKey("ns", job),
        scheduled=datetime(2026, 11, 22, tzinfo=UTC),
        cluster=cluster,
        scope=AwsScope("us-east-1"),
        reports={a: TaskReport(a, "PROVISIONING") for a in arns},
    )


def test_one_call_per_cluster_for_every_job_and_stopped_tasks_are_not_polled_again() -> None:
    ecs = FakeEcs()
    tracker = Tracker(ecs, Metrics())
    runs = [run_of("a", ["t1", "t2"]), run_of("b", ["t3"]), run_of("c", ["t4"], cluster="other")]
    for run in runs:
        tracker.add(run)
    ecs.statuses = {"t1": "RUNNING", "t2": "STOPPED", "t3": "RUNNING", "t4": "RUNNING"}
    changed = asyncio.run(tracker.refresh(tracker.all_runs()))
    assert {r.key.name for r in changed} == {"a", "b", "c"}
    assert sorted((c[1], c[2]) for c in ecs.calls) == [("default", ["t1", "t2", "t3"]), ("other", ["t4"])]
    ecs.calls.clear()
    asyncio.run(tracker.refresh(tracker.all_runs()))
    assert sorted(c[2] for c in ecs.calls) == [["t1", "t3"], ["t4"]], "t2 stopped: never described again"


def test_a_vanished_task_becomes_unknown_after_consecutive_misses() -> None:
    ecs = FakeEcs()
    tracker = Tracker(ecs, Metrics())
    run = run_of("a", ["gone"])
    tracker.add(run)
    for sweep in range(1, MISSING_SWEEPS + 1):
        asyncio.run(tracker.refresh([run]))
        finished = run.finished
        assert finished == (sweep == MISSING_SWEEPS)
    assert run.reports["gone"].last_status == "UNKNOWN"
    (verdict,) = asyncio.run(tracker.verdicts(run))
    assert verdict.outcome == "Unknown"


def test_a_task_seen_again_resets_its_miss_count() -> None:
    ecs = FakeEcs()
    tracker = Tracker(ecs, Metrics())
    run = run_of("a", ["late"])
    tracker.add(run)
    asyncio.run(tracker.refresh([run]))  # not visible yet (eventual consistency)
    ecs.statuses["late"] = "RUNNING"
    asyncio.run(tracker.refresh([run]))
    del ecs.statuses["late"]
    asyncio.run(tracker.refresh([run]))
    assert run.reports["late"].last_status == "RUNNING", "one miss after a sighting is not enough"


def test_active_entries_read_back_as_the_status_model_says() -> None:
    from ecs_scheduler.model.status import ActiveRun

    run = run_of("a", ["t1"])
    run.attempt, run.retry_at, run.retry_tasks, run.launch_failures = (
        2,
        datetime(2026, 11, 22, 1, tzinfo=UTC),
        1,
        ["AGENT"],
    )
    entry = run.to_status()
    ActiveRun.model_validate(entry)  # the CRD's shape: no unknown fields
    back = Run.from_status(run.key, entry)
    assert (
        back.scheduled,
        back.attempt,
        back.retry_at,
        back.retry_tasks,
        back.arns,
        back.launch_failures,
    ) == (run.scheduled, 2, run.retry_at, 1, ["t1"], ["AGENT"])


@pytest.mark.parametrize(
    ("uncertain", "arns", "token_attempt", "expected"),
    [
        (True, [], 0, 1),  # a 5xx with nothing started: ask again with attempt 1's token
        (True, [], 2, 2),  # ... even across several uncertain retries
        (False, [], 0, 0),  # a definite refusal (failures[]): a fresh token
        (True, ["t1"], 0, 0),  # tasks ran and failed: ECS would answer the old token with them
    ],
)
def test_retry_token_rule(uncertain: bool, arns: list[str], token_attempt: int, expected: int) -> None:
    run = run_of("a", arns)
    run.uncertain, run.token_attempt = uncertain, token_attempt
    following = run.next_attempt(attempt=2, at=datetime(2026, 11, 22, 1, tzinfo=UTC), tasks=1)
    assert (following.attempt, following.token_attempt, following.retry_tasks) == (2, expected, 1)


def test_a_sweep_over_many_runs_lets_other_work_run_before_it_ends() -> None:
    """Thousands of runs in one sweep must not hold the event loop: a fire due meanwhile runs."""

    async def scenario() -> list[str]:
        ecs = FakeEcs()
        tracker = Tracker(ecs, Metrics())
        for index in range(250):
            tracker.add(run_of(f"job-{index}", [f"t{index}"]))
            ecs.statuses[f"t{index}"] = "RUNNING"
        order: list[str] = []

        async def fire() -> None:
            order.append("fire")

        async def sweep() -> None:
            await tracker.refresh(tracker.all_runs())
            order.append("sweep done")

        sweeping = asyncio.create_task(sweep())
        await asyncio.sleep(0)  # the sweep starts; the fire is only ready after that
        await asyncio.gather(sweeping, fire())
        return order

    assert asyncio.run(scenario()) == ["fire", "sweep done"]
