"""Missed-schedule maths, named like the CronJob controller's cases, with an injected clock."""

from datetime import UTC, datetime, timedelta

import pytest

from ecs_scheduler.core.catchup import COUNT_CAP, catch_up
from ecs_scheduler.core.validation import validate_spec

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def schedule(expression: str):  # type: ignore[no-untyped-def]
    return validate_spec({"taskDefinition": "t", "schedule": expression}, identity="ns/job", now=T0).schedule


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
