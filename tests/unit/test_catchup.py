"""Missed-schedule maths, named like the CronJob controller's cases, with an injected clock."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecs_scheduler.core.catchup import COUNT_CAP, catch_up, on_time
from ecs_scheduler.core.validation import validate_spec

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def schedule(expression: str):  # type: ignore[no-untyped-def]
    spec = {"taskDefinition": "t", "schedule": expression}
    if len(expression.split()) == 8:
        spec["scheduleSyntax"] = "EcsScheduler"
    return validate_spec(spec, identity="ns/job", now=T0).schedule


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("name", "expression", "due", "now", "deadline", "run", "missed", "next_due"),
    [
        ("on time", "*/5 * * * *", at(5), at(5) + timedelta(milliseconds=20), None, at(5), 0, at(10)),
        ("a little late, within deadline", "*/5 * * * *", at(5), at(5.5), 60, at(5), 0, at(10)),
        ("late past deadline", "*/5 * * * *", at(5), at(7), 60, None, 1, at(10)),
        ("down over 3 instants, no deadline: latest runs", "*/5 * * * *", at(5), at(16), None, at(15), 2, at(20)),
        ("down over 3 instants, latest within deadline", "*/5 * * * *", at(5), at(15.5), 60, at(15), 2, at(20)),
        ("down over 3 instants, latest past deadline", "*/5 * * * *", at(5), at(17), 60, None, 3, at(20)),
        ("down 8 hours: every instant counted", "0 * * * *", at(60), at(60 * 8 + 10), 3600, at(60 * 8), 7, at(60 * 9)),
        ("one-time schedule, late", "at(2026-11-22T10:05:00Z)", at(5), at(6), None, at(5), 0, None),
    ],
)  # fmt: skip
def test_catch_up(
    name: str,
    expression: str,
    due: datetime,
    now: datetime,
    deadline: int | None,
    run: datetime | None,
    missed: int,
    next_due: datetime | None,
) -> None:
    plan = catch_up(schedule(expression), due, now, deadline)
    assert (plan.run, plan.missed, plan.next_due, plan.capped) == (run, missed, next_due, False)


def test_a_year_of_seconds_is_counted_up_to_the_cap_and_still_finds_the_latest() -> None:
    every_second = schedule("@every 1s")
    now = T0 + timedelta(days=365, milliseconds=300)
    plan = catch_up(every_second, T0 + timedelta(seconds=1), now, 10)
    assert plan.capped and plan.missed >= COUNT_CAP
    assert plan.run == T0 + timedelta(days=365)
    assert plan.next_due == T0 + timedelta(days=365, seconds=1)


def test_a_day_of_hourly_instants_is_capped() -> None:
    plan = catch_up(schedule("0 * * * *"), at(60), at(60 * 24 + 10), 3600)
    assert plan.capped and plan.missed == COUNT_CAP and plan.run == at(60 * 24)


@pytest.mark.parametrize(
    ("name", "late", "deadline", "expected"),
    [
        ("to the microsecond", timedelta(0), None, True),
        ("a burst's last send", timedelta(milliseconds=300), None, True),
        ("just under a second", timedelta(microseconds=999_999), None, True),
        ("a second: the next instant of an every-second job may be due", timedelta(seconds=1), None, False),
        ("within a deadline", timedelta(milliseconds=500), 1, True),
        ("past a deadline of 0", timedelta(milliseconds=1), 0, False),
        ("exactly at a deadline of 0", timedelta(0), 0, True),
    ],
)  # fmt: skip
def test_on_time(name: str, late: timedelta, deadline: int | None, expected: bool) -> None:
    assert on_time(at(5), at(5) + late, deadline) is expected


SCHEDULES = ["@every 1s", "@every 7s", "* * * * * * * *", "*/2 * * * * * * *", "*/5 * * * *", "rate(1 minute)",
             "at(2026-11-22T10:05:00Z)", "0 30 2 * * * * *"]  # fmt: skip


@given(
    expression=st.sampled_from(SCHEDULES),
    start=st.integers(min_value=0, max_value=86_400 * 3),
    late_us=st.sampled_from([0, 999_999, 1_000_000, 1_500_000, 2_000_000]) | st.integers(0, 3_000_000),
    deadline=st.none() | st.integers(min_value=0, max_value=5),
)
def test_on_time_fires_exactly_what_catch_up_would(
    expression: str, start: int, late_us: int, deadline: int | None
) -> None:
    """The burst path sends at once whenever `on_time` says so: catch_up must agree that the due
    instant runs, alone, and that the next one is simply the following instant."""
    plan_of = schedule(expression)
    due = plan_of.next_after(T0 + timedelta(seconds=start))
    if due is None:
        return
    now = due + timedelta(microseconds=late_us)
    if on_time(due, now, deadline):
        plan = catch_up(plan_of, due, now, deadline)
        assert (plan.run, plan.missed, plan.next_due) == (due, 0, plan_of.next_after(due))
