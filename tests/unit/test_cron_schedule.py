"""Table tests of the Cron syntax: fields, macros, H, intervals, at(), windows and DST."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.schedule import upcoming
from ecs_scheduler.core.validation import validate_spec

NOW = datetime(2026, 11, 22, 5, 0, 0, tzinfo=UTC)  # a Sunday


def fires(schedule: str, *, n: int = 3, start: datetime = NOW, tz: str = "UTC", **extra: object) -> list[str]:
    spec = {"taskDefinition": "t", "schedule": schedule, "timeZone": tz, **extra}
    job = validate_spec(spec, identity="ns/job", now=start)
    return [i.strftime("%Y-%m-%dT%H:%M:%SZ") for i in upcoming(job.schedule, start, n)]


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("*/15 * * * *", ["2026-11-22T05:15:00Z", "2026-11-22T05:30:00Z", "2026-11-22T05:45:00Z"]),
        ("0 9 * * mon-fri", ["2026-11-23T09:00:00Z", "2026-11-24T09:00:00Z", "2026-11-25T09:00:00Z"]),
        ("30 4 1,15 * *", ["2026-12-01T04:30:00Z", "2026-12-15T04:30:00Z", "2027-01-01T04:30:00Z"]),
        ("0 0 1 jan,jul *", ["2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z", "2028-01-01T00:00:00Z"]),
        ("5 5-6 * * *", ["2026-11-22T05:05:00Z", "2026-11-22T06:05:00Z", "2026-11-23T05:05:00Z"]),
        ("10/20 * * * *", ["2026-11-22T05:10:00Z", "2026-11-22T05:30:00Z", "2026-11-22T05:50:00Z"]),
        # day-of-month and day-of-week both restricted: OR (13th, or any Friday)
        ("0 0 13 * fri", ["2026-11-27T00:00:00Z", "2026-12-04T00:00:00Z", "2026-12-11T00:00:00Z"]),
        # a step makes day-of-month restricted too (robfig): OR again
        ("0 0 */10 * sun", ["2026-11-29T00:00:00Z", "2026-12-01T00:00:00Z", "2026-12-06T00:00:00Z"]),
        # a bare * in day-of-month: AND, so only Sundays
        ("0 0 * * sun", ["2026-11-29T00:00:00Z", "2026-12-06T00:00:00Z", "2026-12-13T00:00:00Z"]),
        ("0 0 29 2 *", ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"]),
        ("@hourly", ["2026-11-22T06:00:00Z", "2026-11-22T07:00:00Z", "2026-11-22T08:00:00Z"]),
        ("@daily", ["2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z"]),
        ("@weekly", ["2026-11-29T00:00:00Z", "2026-12-06T00:00:00Z", "2026-12-13T00:00:00Z"]),
        ("@monthly", ["2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"]),
        ("@yearly", ["2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z"]),
        ("@every 90s", ["2026-11-22T05:01:30Z", "2026-11-22T05:03:00Z", "2026-11-22T05:04:30Z"]),
        ("@every 1h30m", ["2026-11-22T06:00:00Z", "2026-11-22T07:30:00Z", "2026-11-22T09:00:00Z"]),
        ("rate(5 minutes)", ["2026-11-22T05:05:00Z", "2026-11-22T05:10:00Z", "2026-11-22T05:15:00Z"]),
        ("rate(1 day)", ["2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z"]),
        ("at(2026-12-01T09:00:00Z)", ["2026-12-01T09:00:00Z"]),
        ("at(2026-12-01T10:00:00+01:00)", ["2026-12-01T09:00:00Z"]),
    ],
)
def test_next_fires(schedule: str, expected: list[str]) -> None:
    assert fires(schedule) == expected


def test_at_in_the_past_has_no_fire() -> None:
    assert fires("at(2026-01-01T00:00:00Z)") == []


def test_at_without_offset_is_read_in_the_time_zone() -> None:
    assert fires("at(2026-12-01T09:00:00)", tz="Europe/Paris") == ["2026-12-01T08:00:00Z"]


@pytest.mark.parametrize(
    ("schedule", "tz", "start", "expected", "why"),
    [
        ("30 2 * * *", "America/New_York", datetime(2026, 3, 7, 12, tzinfo=UTC),
         ["2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"], "02:30 is skipped at spring-forward: run at 03:30 EDT"),
        ("30 1 * * *", "America/New_York", datetime(2026, 10, 31, 12, tzinfo=UTC),
         ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"], "01:30 happens twice at fall-back: run once"),
        ("30 * * * *", "America/New_York", datetime(2026, 11, 1, 4, 0, tzinfo=UTC),
         ["2026-11-01T04:30:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-01T07:30:00Z"],
         "hourly jobs run in both real 01:00 hours"),
        ("0 2 * * *", "Europe/Paris", datetime(2026, 3, 28, 12, tzinfo=UTC),
         ["2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"], "02:00 Paris does not exist on 29 March: 03:00 CEST"),
        ("0 9 * * *", "Europe/Paris", datetime(2026, 3, 28, 12, tzinfo=UTC),
         ["2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"], "09:00 local follows the offset change"),
        ("*/30 * * * *", "Australia/Lord_Howe", datetime(2026, 4, 4, 14, 0, tzinfo=UTC),
         ["2026-04-04T14:30:00Z", "2026-04-04T15:00:00Z", "2026-04-04T15:30:00Z", "2026-04-04T16:00:00Z"],
         "a 30-minute DST shift"),
    ],
)  # fmt: skip
def test_daylight_saving(schedule: str, tz: str, start: datetime, expected: list[str], why: str) -> None:
    assert fires(schedule, tz=tz, start=start, n=len(expected)) == expected, why


def test_no_double_fire_at_fall_back_over_a_whole_day() -> None:
    start = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    instants = fires("*/10 * * * *", tz="America/New_York", start=start, n=200)
    assert len(instants) == len(set(instants))
    steps = {datetime.fromisoformat(b) - datetime.fromisoformat(a) for a, b in itertools.pairwise(instants)}
    assert steps == {timedelta(minutes=10)}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"scheduleStart": "2026-11-22T05:40:00Z"}, ["2026-11-22T05:45:00Z", "2026-11-22T06:00:00Z"]),
        ({"scheduleStart": "2026-11-22T05:45:00Z"}, ["2026-11-22T05:45:00Z", "2026-11-22T06:00:00Z"]),
        ({"scheduleEnd": "2026-11-22T05:30:00Z"}, ["2026-11-22T05:15:00Z", "2026-11-22T05:30:00Z"]),
        ({"scheduleEnd": "2026-11-22T05:29:59Z"}, ["2026-11-22T05:15:00Z"]),
    ],
)
def test_schedule_window(extra: dict[str, str], expected: list[str]) -> None:
    assert fires("*/15 * * * *", n=2, **extra) == expected


def test_every_is_anchored_at_schedule_start() -> None:
    assert fires("@every 1h", n=2, scheduleStart="2026-11-22T05:20:00Z") == [
        "2026-11-22T05:20:00Z",
        "2026-11-22T06:20:00Z",
    ]


def test_h_is_stable_per_job_and_spread_across_jobs() -> None:
    def minute(identity: str) -> str:
        job = validate_spec({"taskDefinition": "t", "schedule": "H * * * *"}, identity=identity, now=NOW)
        return job.schedule.resolved()

    assert minute("ns/a") == minute("ns/a")
    assert len({minute(f"ns/job-{i}") for i in range(50)}) > 20


@pytest.mark.parametrize(
    ("schedule", "pattern"),
    [("H/15 * * * *", r"^\d+-59/15 \* \* \* \*$"), ("H(0-5) H(9-17) * * *", r"^[0-5] (9|1[0-7]) \* \* \*$")],
)
def test_h_forms(schedule: str, pattern: str) -> None:
    job = validate_spec({"taskDefinition": "t", "schedule": schedule}, identity="ns/x", now=NOW)
    assert __import__("re").match(pattern, job.schedule.resolved())


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ({"schedule": "61 * * * *"}, "spec.schedule", "outside 0-59"),
        ({"schedule": "* * * *"}, "spec.schedule", "expected 5 fields"),
        ({"schedule": "0 0 30 2 *"}, "spec.schedule", "never fires"),
        ({"schedule": "5-1 * * * *"}, "spec.schedule", "backwards"),
        ({"schedule": "*/0 * * * *"}, "spec.schedule", "step 0"),
        ({"schedule": "0 0 * * 7"}, "spec.schedule", "outside 0-6"),
        ({"schedule": "@every 0s"}, "spec.schedule", "at least 1s"),
        ({"schedule": "@every soon"}, "spec.schedule", "cannot read duration"),
        ({"schedule": "rate(5 weeks)"}, "spec.schedule", "rate("),
        ({"schedule": "at(tomorrow)"}, "spec.schedule", "RFC 3339"),
        ({"schedule": "* * * * *", "timeZone": "Mars/Olympus"}, "spec.timeZone", "unknown time zone"),
        ({"schedule": "* * * * *", "maxCount": 51}, "spec.maxCount", "less than or equal to 50"),
        ({"schedule": "* * * * *", "taskCount": 5, "maxCount": 2}, "spec", "maxCount must be greater"),
        ({"schedule": "* * * * *", "launchType": "FARGATE", "capacityProviderStrategy": [{"capacityProvider": "X"}]},
         "spec", "mutually exclusive"),
        ({"schedule": "* * * * *", "overrides": {"containerOverrides": [{"name": "c", "environment": {f"V{i}": "x" * 100 for i in range(90)}}]}},
         "spec.overrides", "limit is 8192"),
        ({"schedule": "* * * * *", "launchType": "LAMBDA"}, "spec.launchType", "EC2"),
        ({"schedule": "* * * * *", "surprise": 1}, "spec.surprise", "Extra inputs"),
        ({"schedule": "? * * * *", "scheduleSyntax": "EcsScheduler", "day": 1}, "spec.day", "Extra inputs"),
        ({"schedule": "* * * * *", ".": None}, 'spec["."]', "Extra inputs"),
        ({"schedule": "* * * * *", "": 1}, 'spec[""]', "Extra inputs"),
        ({"schedule": "0 0 0 ? *", "scheduleSyntax": "EcsScheduler"}, "spec.schedule", "'?' is only allowed"),
        ({"schedule": "0 0 0 * 54", "scheduleSyntax": "EcsScheduler"}, "spec.schedule", "outside 1-53"),
    ],
)  # fmt: skip
def test_invalid_specs_name_their_field(spec: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(SpecError) as caught:
        validate_spec({"taskDefinition": "t", **spec}, identity="ns/x", now=NOW)
    assert caught.value.field == field
    assert words in caught.value.message


def test_a_spec_that_is_not_an_object_is_rejected() -> None:
    with pytest.raises(SpecError, match="must be an object"):
        validate_spec(None, identity="ns/x", now=NOW)
