"""A burst (many jobs due at one instant) sends every RunTask before any record of a launch.

The scheduler runs for real against recording fakes at the ECS and Kubernetes boundaries and a
fixed clock half a second past the instant, so every job is due at once and on time.
"""

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.model.launch import RunTaskCall, RunTaskOutcome
from ecs_scheduler.runtime.scheduler import Scheduler

INSTANT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


class Recorder:
    """ECS and Kubernetes at once: one log of what was called, in order."""

    def __init__(self, *, answer_later: bool = False) -> None:
        self.log: list[tuple[str, str]] = []
        self.answer_later = answer_later
        self.unanswered: list[tuple[str, asyncio.Future[RunTaskOutcome]]] = []

    def run_task(self, call: RunTaskCall) -> Awaitable[RunTaskOutcome]:
        job = {t["key"]: t["value"] for t in call.request["tags"]}["ecs-scheduler.dev/job"]
        self.log.append(("RunTask", job))
        answer: asyncio.Future[RunTaskOutcome] = asyncio.get_running_loop().create_future()
        if self.answer_later:
            self.unanswered.append((job, answer))
        else:
            self.answer(job, answer)
        return answer

    def answer(self, job: str, answer: asyncio.Future[RunTaskOutcome]) -> None:
        self.log.append(("answered", job))
        answer.set_result(
            RunTaskOutcome(task_arns=(f"arn:task/{len(self.log)}",), task_statuses=("PENDING",))
        )

    async def describe_tasks(self, **_: Any) -> list[dict[str, Any]]:
        return []

    async def stop_task(self, **_: Any) -> None:
        raise AssertionError("nothing is stopped here")

    async def list_tasks(self, **_: Any) -> list[str]:
        return []

    async def essential_containers(self, **_: Any) -> frozenset[str] | None:
        return None

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        if "lastRun" in status:
            self.log.append(("launch recorded", f"{namespace}/{name}"))

    async def create_event(self, namespace: str, event: dict[str, Any]) -> None:
        self.log.append((f"event {event['reason']}", f"{namespace}/{event['involvedObject']['name']}"))

    async def patch_event(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        raise AssertionError("no series lives long enough here to be counted")

    async def close(self) -> None:
        pass


def job(index: int, late: timedelta, **spec: Any) -> dict[str, Any]:
    created = INSTANT - timedelta(seconds=30)
    return {
        "metadata": {"namespace": "team", "name": f"job-{index}", "uid": f"uid-{index}", "generation": 1,
                     "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "spec": {"taskDefinition": "app", "schedule": "0 * * * * * * *", "scheduleSyntax": "EcsScheduler",
                 **spec},
    }  # fmt: skip


async def burst(
    bodies: list[dict[str, Any]], late: timedelta, *, answer_later: bool = False
) -> list[tuple[str, str]]:
    recorder = Recorder(answer_later=answer_later)
    scheduler = Scheduler(
        config=OperatorConfig(track_interval=3600), ecs=recorder, kube=recorder,
        clock=FixedClock(INSTANT + late), triggers={}, task_definitions=None,
    )  # fmt: skip
    scheduler.activate()
    for body in bodies:
        scheduler.observe(body)
    loop = asyncio.create_task(scheduler.run())
    for _ in range(200):
        await asyncio.sleep(0)
    for job_key, answer in reversed(recorder.unanswered):  # answers come back slowly, out of order
        recorder.answer(job_key, answer)
        for _ in range(20):
            await asyncio.sleep(0)
    for _ in range(200):
        await asyncio.sleep(0)
    await scheduler.close()
    loop.cancel()
    return recorder.log


@pytest.mark.parametrize(
    ("name", "late", "extra_spec"),
    [
        ("on time", timedelta(milliseconds=500), {}),
        ("on time, several RunTask calls per job", timedelta(milliseconds=500), {"taskCount": 25}),
        ("on time, Forbid with nothing running", timedelta(milliseconds=500), {"concurrencyPolicy": "Forbid"}),
        ("late: through catch-up, still launched", timedelta(seconds=5), {}),
    ],
)  # fmt: skip
def test_every_runtask_of_a_burst_goes_out_before_any_launch_is_recorded(
    name: str, late: timedelta, extra_spec: dict[str, Any]
) -> None:
    count = 100
    log = asyncio.run(burst([job(i, late, **extra_spec) for i in range(count)], late))
    sends = [i for i, (what, _) in enumerate(log) if what == "RunTask"]
    records = [i for i, (what, _) in enumerate(log) if what in ("launch recorded", "event Launched")]
    calls_per_job = -(-extra_spec.get("taskCount", 1) // 10)
    assert len(sends) == count * calls_per_job
    assert {key for what, key in log if what == "launch recorded"} == {f"team/job-{i}" for i in range(count)}
    if late < timedelta(seconds=1):
        assert max(sends) < min(records), "a launch was recorded before every RunTask had gone out"


def test_launches_of_one_instant_are_recorded_only_once_every_runtask_is_answered() -> None:
    # Records are status patches and Events, which run in threads of the same process: started
    # while later RunTasks of the burst await their answers, they would compete with them.
    count = 50
    log = asyncio.run(
        burst(
            [job(i, timedelta(milliseconds=500)) for i in range(count)],
            timedelta(milliseconds=500),
            answer_later=True,
        )
    )
    answers = [i for i, (what, _) in enumerate(log) if what == "answered"]
    records = [i for i, (what, _) in enumerate(log) if what in ("launch recorded", "event Launched")]
    assert len(answers) == count
    assert len({key for what, key in log if what == "launch recorded"}) == count
    assert max(answers) < min(records), "a launch was recorded while a RunTask of its instant was unanswered"
