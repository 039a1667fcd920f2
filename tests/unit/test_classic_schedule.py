"""The classic ECS Scheduler syntax, including every example of its README."""

from datetime import UTC, datetime

import pytest

from ecs_scheduler.core.schedule import upcoming
from ecs_scheduler.core.validation import validate_spec

NOW = datetime(2026, 11, 22, 5, 0, 0, tzinfo=UTC)  # a Sunday


def classic(schedule: str, *, n: int = 3, identity: str = "ns/job", tz: str = "UTC") -> tuple[str, list[str]]:
    spec = {"taskDefinition": "t", "schedule": schedule, "scheduleSyntax": "EcsScheduler", "timeZone": tz}
    job = validate_spec(spec, identity=identity, now=NOW)
    return job.schedule.resolved(), [i.strftime("%Y-%m-%dT%H:%M:%SZ") for i in upcoming(job.schedule, NOW, n)]


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        # README: "run every 15 minutes on the minute"
        ("0 */15", ["2026-11-22T05:15:00Z", "2026-11-22T05:30:00Z", "2026-11-22T05:45:00Z"]),
        # README: "midnight on the first of September"
        ("0 0 0 * * 1 9", ["2027-09-01T00:00:00Z", "2028-09-01T00:00:00Z", "2029-09-01T00:00:00Z"]),
        # README: '*' means every value: every second of every 5th minute
        ("* */5", ["2026-11-22T05:00:01Z", "2026-11-22T05:00:02Z", "2026-11-22T05:00:03Z"]),
        # day_of_week counts from mon=0; names work
        ("0 0 12 sat", ["2026-11-28T12:00:00Z", "2026-12-05T12:00:00Z", "2026-12-12T12:00:00Z"]),
        ("0 0 12 5", ["2026-11-28T12:00:00Z", "2026-12-05T12:00:00Z", "2026-12-12T12:00:00Z"]),
        ("0 30 8 mon-fri", ["2026-11-23T08:30:00Z", "2026-11-24T08:30:00Z", "2026-11-25T08:30:00Z"]),
        # xth_y with an underscore for APScheduler's space
        ("0 0 9 * * 2nd_fri", ["2026-12-11T09:00:00Z", "2027-01-08T09:00:00Z", "2027-02-12T09:00:00Z"]),
        ("0 0 9 * * last_mon", ["2026-11-30T09:00:00Z", "2026-12-28T09:00:00Z", "2027-01-25T09:00:00Z"]),
        ("0 0 0 * * last", ["2026-11-30T00:00:00Z", "2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z"]),
        ("0 0 0 * * 5th_sun", ["2026-11-29T00:00:00Z", "2027-01-31T00:00:00Z", "2027-05-30T00:00:00Z"]),
        # ISO week numbers, months by name, years
        ("0 0 0 mon 1", ["2027-01-04T00:00:00Z", "2028-01-03T00:00:00Z", "2029-01-01T00:00:00Z"]),
        ("0 0 0 * * 1 feb,aug", ["2027-02-01T00:00:00Z", "2027-08-01T00:00:00Z", "2028-02-01T00:00:00Z"]),
        ("0 0 0 * * 1 1 2028-2029", ["2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z"]),
        # Years far ahead are found, up to the syntax's last year (no 10-year horizon)
        ("0 0 0 * * 1 1 2037", ["2037-01-01T00:00:00Z"]),
        ("0 0 0 * * 29 2 2100-2104", ["2104-02-29T00:00:00Z"]),
        ("0 0 0 * * 31 12 9999", ["9999-12-31T00:00:00Z"]),
        (
            "0 0 0 fri 53 * * 2026-2100",
            ["2027-01-01T00:00:00Z", "2032-12-31T00:00:00Z", "2038-01-01T00:00:00Z"],
        ),
        ("15/20 0 6", ["2026-11-22T06:00:15Z", "2026-11-22T06:00:35Z", "2026-11-22T06:00:55Z"]),
        ("0 0 6,18", ["2026-11-22T06:00:00Z", "2026-11-22T18:00:00Z", "2026-11-23T06:00:00Z"]),
    ],
)
def test_classic_fires(schedule: str, expected: list[str]) -> None:
    assert classic(schedule)[1] == expected


def test_question_mark_picks_a_stable_second() -> None:
    resolved, fired = classic("? */5")
    second = int(resolved.split()[0])
    assert resolved == f"{second} */5 * * * * * *"
    assert all(f.endswith(f":{second:02d}Z") and int(f[14:16]) % 5 == 0 for f in fired)
    assert classic("? */5")[0] == resolved  # same job, same choice
    choices = {classic("? */5", identity=f"ns/job-{i}")[0] for i in range(40)}
    assert len(choices) > 15  # spread across jobs


def test_question_marks_in_second_minute_and_hour() -> None:
    resolved, fired = classic("? ? 4")
    second, minute, hour = resolved.split()[:3]
    assert hour == "4" and second.isdigit() and minute.isdigit()
    assert fired[0] == f"2026-11-23T04:{int(minute):02d}:{int(second):02d}Z"
    assert [f[:10] for f in fired] == ["2026-11-23", "2026-11-24", "2026-11-25"]


def test_classic_in_a_time_zone() -> None:
    assert classic("0 0 9", tz="Europe/Paris", n=1)[1] == ["2026-11-22T08:00:00Z"]


@pytest.mark.parametrize(
    "schedule",
    ["0 0 0 * * 1 1 2037", "0 0 0 * * 29 2 2100-2110", "0 0 0 fri 53 * * 2026-2100", "0 30 8 mon 1 * * 2030-2040",
     "0 0 12 * * last_fri 2 2050-2060", "0 0 0 sun 52 24-31 12"],
)  # fmt: skip
def test_far_years_agree_with_apscheduler(schedule: str) -> None:
    from apscheduler.triggers.cron import CronTrigger

    fields = schedule.split() + ["*"] * (8 - len(schedule.split()))
    second, minute, hour, day_of_week, week, day, month, year = (f.replace("_", " ") for f in fields)
    reference = CronTrigger(second=second, minute=minute, hour=hour, day_of_week=day_of_week, week=week,
                            day=day, month=month, year=year, timezone="UTC")  # fmt: skip
    expected, previous = [], None
    moment = NOW
    for _ in range(5):
        fire = reference.get_next_fire_time(previous, moment)
        if fire is None:
            break
        expected.append(fire.strftime("%Y-%m-%dT%H:%M:%SZ"))
        previous, moment = fire, fire
    assert classic(schedule, n=5)[1] == expected
