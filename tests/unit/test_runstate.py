"""The task state machine both sources (DescribeTasks, ECS events) go through."""

import pytest

from ecs_scheduler.core.runstate import Observation, TaskState, observe
from ecs_scheduler.core.tasks import ContainerReport, TaskReport

ARN = "arn:aws:ecs:us-east-1:123456789012:task/default/abc"


def report(status: str, exit_code: int | None = None) -> TaskReport:
    containers = (ContainerReport("app", exit_code),) if exit_code is not None else ()
    return TaskReport(ARN, status, containers=containers)


def state(status: str, version: int = 0, missing: int = 0) -> TaskState:
    return TaskState(report(status), version, missing)


@pytest.mark.parametrize(
    ("name", "current", "seen", "status", "version", "recorded", "ended", "stale"),
    [
        ("event moves forward", state("PENDING", 2), Observation(report("RUNNING"), 3), "RUNNING", 3, True, False, False),
        ("event ends the task", state("RUNNING", 3), Observation(report("STOPPED", 0), 5), "STOPPED", 5, True, True, False),
        ("repeat of the same event", state("RUNNING", 3), Observation(report("RUNNING"), 3), "RUNNING", 3, False, False, True),
        ("late event is dropped", state("RUNNING", 3), Observation(report("PENDING"), 2), "RUNNING", 3, False, False, True),
        ("version beats lifecycle order", state("STOPPING", 4), Observation(report("RUNNING"), 6), "RUNNING", 6, True, False, False),
        ("describe without version moves forward", state("PENDING", 2), Observation(report("RUNNING")), "RUNNING", 2, True, False, False),
        ("describe without version never goes back", state("RUNNING", 3), Observation(report("PENDING")), "RUNNING", 3, False, False, True),
        ("describe repeats what is known", state("RUNNING"), Observation(report("RUNNING")), "RUNNING", 0, False, False, True),
        ("stopped is final", state("STOPPED", 5), Observation(report("RUNNING"), 9), "STOPPED", 5, False, False, True),
        ("first miss is counted", state("RUNNING"), Observation(None), "RUNNING", 0, False, False, False),
        ("second miss: unknown", state("RUNNING", 0, 1), Observation(None), "UNKNOWN", 0, True, True, False),
        ("unknown is final", state("UNKNOWN"), Observation(report("STOPPED", 0), 7), "UNKNOWN", 0, False, False, True),
    ],
)  # fmt: skip
def test_observations(
    name: str,
    current: TaskState,
    seen: Observation,
    status: str,
    version: int,
    recorded: bool,
    ended: bool,
    stale: bool,
) -> None:
    step = observe(current, seen)
    assert (step.state.report.last_status, step.state.version) == (status, version), name
    assert (step.recorded, step.ended, step.stale) == (recorded, ended, stale), name


def test_a_sighting_resets_the_miss_count() -> None:
    step = observe(state("RUNNING", 0, 1), Observation(report("RUNNING")))
    assert step.state.missing == 0
