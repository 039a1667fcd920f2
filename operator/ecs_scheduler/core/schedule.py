"""One interface over every schedule syntax, bounded by scheduleStart and scheduleEnd."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ecs_scheduler.core import intervals
from ecs_scheduler.core.classic import parse_classic
from ecs_scheduler.core.cron import parse_cron
from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.walltime import next_instant
from ecs_scheduler.model.spec import ScheduledEcsJobSpec


class Schedule(Protocol):
    """Answers one question: when is the first fire strictly after this instant?"""

    def next_after(self, after: datetime) -> datetime | None: ...

    def resolved(self) -> str: ...


class WallCalendar(Protocol):
    """A calendar of naive local wall times (cron or classic syntax)."""

    @property
    def every_hour(self) -> bool: ...

    def resolved(self) -> str: ...

    def walls_after(self, start: datetime) -> Iterator[datetime]: ...


@dataclass(frozen=True)
class CalendarSchedule:
    """A wall-clock calendar (cron or classic) evaluated in a time zone."""

    calendar: WallCalendar
    zone: ZoneInfo

    def next_after(self, after: datetime) -> datetime | None:
        return next_instant(after, self.zone, self.calendar.walls_after, both_folds=self.calendar.every_hour)

    def resolved(self) -> str:
        return self.calendar.resolved()


@dataclass(frozen=True)
class WindowedSchedule:
    """A schedule that never fires before `start` or after `end`."""

    inner: Schedule
    start: datetime | None
    end: datetime | None

    def next_after(self, after: datetime) -> datetime | None:
        if self.start is not None and after < self.start:
            # The start instant itself may be a fire.
            after = self.start - timedelta(microseconds=1)
        try:
            instant = self.inner.next_after(after)
        except OverflowError:
            # Within hours of the end of the calendar (the year 9999): there is no next instant,
            # and a spec must never make the arithmetic of one job an error for the scheduler.
            return None
        if instant is None or (self.end is not None and instant > self.end):
            return None
        return instant

    def resolved(self) -> str:
        return self.inner.resolved()


def upcoming(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    """The next `count` fires strictly after `after` (fewer if the schedule ends)."""
    instants: list[datetime] = []
    instant: datetime | None = after
    while instant is not None and len(instants) < count:
        instant = schedule.next_after(instant)
        if instant is not None:
            instants.append(instant)
    return instants


def load_zone(name: str, field: str = "spec.timeZone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SpecError(
            field, f"unknown time zone {name!r}; use an IANA name such as Europe/Paris"
        ) from error


def build_schedule(spec: ScheduledEcsJobSpec, *, identity: str) -> Schedule:
    """The schedule of a spec; `identity` (namespace/name) seeds H and `?`. Raises SpecError."""
    zone = load_zone(spec.time_zone)
    text = spec.schedule.strip()
    inner: Schedule
    if spec.schedule_syntax == "EcsScheduler":
        inner = CalendarSchedule(parse_classic(text, identity=identity), zone)
    elif text.startswith("@every"):
        inner = intervals.parse_every(text, anchor=spec.schedule_start, field="spec.schedule")
    elif text.startswith("rate("):
        inner = intervals.parse_rate(text, anchor=spec.schedule_start, field="spec.schedule")
    elif text.startswith("at("):
        inner = intervals.parse_at(text, zone=zone, field="spec.schedule")
    else:
        inner = CalendarSchedule(parse_cron(text, identity=identity), zone)
    return WindowedSchedule(inner, spec.schedule_start, spec.schedule_end)
