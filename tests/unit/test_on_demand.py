"""Runs on demand: the spec a run launches with, a backfill's instants, which it skips."""

from datetime import UTC, datetime
from typing import Any

import pytest

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.on_demand import already_run, backfill_instants, run_spec, run_token_name
from ecs_scheduler.core.schedule import build_schedule
from ecs_scheduler.model.run_request import MAX_BACKFILL_INSTANTS, Backfill, ScheduledEcsJobRunSpec
from ecs_scheduler.model.spec import ScheduledEcsJobSpec

BASE = {"taskDefinition": "etl:3", "schedule": "0 * * * *"}
WITH_ONE_OVERRIDE = {
    **BASE,
    "overrides": {"containerOverrides": [{"name": "app", "environment": {"A": "1", "B": "2"}}]},
}
CONTAINER_JOB = {
    "container": {"image": "busybox:1.36", "name": "main", "memory": 64, "environment": {"A": "1"}},
    "schedule": "@hourly",
}


def job(raw: dict[str, Any]) -> ScheduledEcsJobSpec:
    return ScheduledEcsJobSpec.model_validate(raw)


def run(raw: dict[str, Any]) -> ScheduledEcsJobRunSpec:
    return ScheduledEcsJobRunSpec.model_validate({"jobName": "etl", **raw})


def overrides_of(spec: ScheduledEcsJobSpec) -> list[dict[str, Any]]:
    assert spec.overrides is not None
    return [
        o.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
        for o in spec.overrides.container_overrides
    ]


@pytest.mark.parametrize(
    ("job_raw", "run_raw", "expected"),
    [
        # The run's environment wins over the job's, key by key; the job's other keys stay.
        (WITH_ONE_OVERRIDE, {"overrides": {"environment": {"B": "run", "DATE": "2026-11-28"}}},
         [{"name": "app", "environment": {"A": "1", "B": "run", "DATE": "2026-11-28"}}]),
        (WITH_ONE_OVERRIDE, {"overrides": {"command": ["etl", "--full"]}},
         [{"name": "app", "environment": {"A": "1", "B": "2"}, "command": ["etl", "--full"]}]),
        # A container the job does not override gets an entry of its own.
        (WITH_ONE_OVERRIDE, {"overrides": {"container": "sidecar", "environment": {"X": "1"}}},
         [{"name": "app", "environment": {"A": "1", "B": "2"}}, {"name": "sidecar", "environment": {"X": "1"}}]),
        # A container job: its one container, by the name it has.
        (CONTAINER_JOB, {"overrides": {"environment": {"DATE": "d"}}}, [{"name": "main", "environment": {"DATE": "d"}}]),
        (BASE, {"overrides": {"container": "app", "environment": {"DATE": "d"}}}, [{"name": "app", "environment": {"DATE": "d"}}]),
    ],
)  # fmt: skip
def test_a_runs_overrides_go_on_top_of_the_jobs(
    job_raw: dict[str, Any], run_raw: dict[str, Any], expected: list[dict[str, Any]]
) -> None:
    original = job(job_raw)
    effective = run_spec(original, run(run_raw))
    assert overrides_of(effective) == expected
    assert original == job(job_raw), "the job's own spec is not changed"


def test_a_run_without_changes_launches_the_jobs_spec_itself() -> None:
    original = job(BASE)
    assert run_spec(original, run({})) is original
    assert run_spec(original, run({"taskCount": 7})).task_count == 7


@pytest.mark.parametrize(
    ("job_raw", "run_raw", "field"),
    [
        (BASE, {"overrides": {"environment": {"DATE": "d"}}}, "spec.overrides.container"),
        ({**BASE, "overrides": {"containerOverrides": [{"name": "a"}, {"name": "b"}]}},
         {"overrides": {"command": ["x"]}}, "spec.overrides.container"),
        ({**BASE, "trigger": {"type": "sqs", "queueName": "q", "messagesPerTask": 10}}, {"taskCount": 3}, "spec.taskCount"),
    ],
)  # fmt: skip
def test_a_run_that_cannot_be_applied_names_its_field(
    job_raw: dict[str, Any], run_raw: dict[str, Any], field: str
) -> None:
    with pytest.raises(SpecError) as error:
        run_spec(job(job_raw), run(run_raw))
    assert error.value.field == field


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def backfill(start: str, end: str) -> Backfill:
    return Backfill.model_validate({"from": f"{start}Z", "to": f"{end}Z"})


@pytest.mark.parametrize(
    ("schedule", "start", "end", "first", "last", "count"),
    [
        ("0 * * * *", "2026-11-28T01:00:00", "2026-11-28T04:00:00", "2026-11-28T01:00:00", "2026-11-28T04:00:00", 4),
        ("0 * * * *", "2026-11-28T00:30:00", "2026-11-28T03:59:59", "2026-11-28T01:00:00", "2026-11-28T03:00:00", 3),
        ("0 * * * *", "2026-11-01T00:00:00", "2026-11-02T23:00:00", "2026-11-01T00:00:00", "2026-11-02T23:00:00", 48),
        ("0 0 12 * * * * *", "2026-11-28T00:00:00", "2026-11-30T23:59:59", "2026-11-28T12:00:00", "2026-11-30T12:00:00", 3),
    ],
)  # fmt: skip
def test_a_backfill_covers_the_schedules_instants_in_its_range_both_ends_included(
    schedule: str, start: str, end: str, first: str, last: str, count: int
) -> None:
    syntax = {"scheduleSyntax": "EcsScheduler"} if len(schedule.split()) == 8 else {}
    built = build_schedule(job({**BASE, "schedule": schedule, **syntax}), identity="team/etl")
    instants = backfill_instants(built, backfill(start, end))
    assert (instants[0], instants[-1], len(instants)) == (at(first), at(last), count)


def test_a_backfill_over_the_limit_is_refused_saying_why() -> None:
    every_minute = build_schedule(job({**BASE, "schedule": "* * * * *"}), identity="team/etl")
    limit_end = (
        f"2026-11-28T{(MAX_BACKFILL_INSTANTS - 1) // 60:02d}:{(MAX_BACKFILL_INSTANTS - 1) % 60:02d}:00"
    )
    assert (
        len(backfill_instants(every_minute, backfill("2026-11-28T00:00:00", limit_end)))
        == MAX_BACKFILL_INSTANTS
    )
    with pytest.raises(SpecError) as error:
        backfill_instants(every_minute, backfill("2026-11-28T00:00:00", "2026-12-28T00:00:00"))
    assert error.value.field == "spec.backfill" and "more than 1000 instants" in str(error.value)
    assert "split it" in str(error.value)


def test_a_backfill_with_no_instant_in_range_is_refused() -> None:
    daily = build_schedule(job({**BASE, "schedule": "0 12 * * *"}), identity="team/etl")
    with pytest.raises(SpecError, match="no instant in this range"):
        backfill_instants(daily, backfill("2026-11-28T13:00:00", "2026-11-29T11:00:00"))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"from": "2026-11-28T04:00:00Z", "to": "2026-11-28T01:00:00Z"}, "to is before from"),
        ({"from": "2026-11-28T01:00:00", "to": "2026-11-28T04:00:00Z"}, "need an offset"),
        ({"from": "2026-11-28T01:00:00Z", "to": "2026-11-28T04:00:00Z", "parallelism": 51}, "less than or equal to 50"),
    ],
)  # fmt: skip
def test_a_backfill_range_is_checked_when_read(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Backfill.model_validate(raw)


def test_instants_the_job_has_already_run_are_found() -> None:
    instants = [at("2026-11-28T01:00:00"), at("2026-11-28T02:00:00"), at("2026-11-28T03:00:00")]
    assert already_run(instants, [at("2026-11-28T02:00:00"), at("2026-11-27T02:00:00")]) == {instants[1]}


def test_a_runs_token_name_is_its_own_and_stable() -> None:
    assert run_token_name("etl-manual", "0123456789abcdef") == "etl-manual.01234567"
    assert run_token_name("etl-manual", "0123456789abcdef") != run_token_name(
        "etl-manual", "fedcba9876543210"
    )


def test_the_readmes_runs_are_valid_runs() -> None:
    import re
    from pathlib import Path

    import yaml

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = [
        yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "ScheduledEcsJobRun" in b
    ]
    assert len(blocks) == 2
    for block in blocks:
        ScheduledEcsJobRunSpec.model_validate(block["spec"])
