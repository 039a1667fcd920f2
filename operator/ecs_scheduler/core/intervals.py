"""Schedules that are not calendars: `@every <duration>`, `rate(...)` and one-time `at(...)`.

Intervals are anchored (at scheduleStart, else the Unix epoch) rather than at the moment the
operator saw the job, so every replica and every restart agrees on the same instants.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ecs_scheduler.core.errors import SpecError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION_PART = re.compile(r"(\d+)(h|m|s)")
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_AT = re.compile(r"^at\(\s*(.+?)\s*\)$")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class IntervalSchedule:
    """Fires every `period`, on the grid anchor + k * period."""

    period: timedelta
    anchor: datetime
    text: str

    def next_after(self, after: datetime) -> datetime | None:
        elapsed = after - self.anchor
        if elapsed < timedelta(0):
            return self.anchor
        periods = elapsed // self.period + 1
        return self.anchor + periods * self.period

    def resolved(self) -> str:
        return self.text


@dataclass(frozen=True)
class OneTimeSchedule:
    """Fires once, at `instant`."""

    instant: datetime
    text: str

    def next_after(self, after: datetime) -> datetime | None:
        return self.instant if self.instant > after else None

    def resolved(self) -> str:
        return self.text


def parse_duration(text: str, field: str) -> timedelta:
    """A Go-style duration in whole seconds: '2s', '90m', '1h30m'."""
    position, seconds = 0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        seconds += int(match[1]) * {"h": 3600, "m": 60, "s": 1}[match[2]]
        position = match.end()
    if position != len(text) or not text:
        raise SpecError(field, f"cannot read duration {text!r}; use forms like 30s, 5m, 1h30m")
    if seconds < 1:
        raise SpecError(field, "the interval must be at least 1s")
    return timedelta(seconds=seconds)


def parse_every(expression: str, *, anchor: datetime | None, field: str) -> IntervalSchedule:
    duration = parse_duration(expression.removeprefix("@every").strip(), field)
    return IntervalSchedule(duration, anchor or EPOCH, expression.strip())


def parse_rate(expression: str, *, anchor: datetime | None, field: str) -> IntervalSchedule:
    match = _RATE.match(expression.strip())
    if match is None:
        raise SpecError(field, f"cannot read {expression!r}; use rate(<n> minutes|hours|days)")
    count = int(match[1])
    if count < 1:
        raise SpecError(field, "the rate must be at least 1")
    unit = match[2].removesuffix("s")
    return IntervalSchedule(timedelta(seconds=count * _RATE_UNITS[unit]), anchor or EPOCH, expression.strip())


def parse_at(expression: str, *, zone: ZoneInfo, field: str) -> OneTimeSchedule:
    """`at(2026-12-01T09:00:00Z)`; without an offset the time is read in the job's time zone."""
    match = _AT.match(expression.strip())
    if match is None:
        raise SpecError(field, f"cannot read {expression!r}; use at(<RFC 3339 instant>)")
    try:
        instant = datetime.fromisoformat(match[1].replace("z", "Z"))
    except ValueError as error:
        raise SpecError(field, f"{match[1]!r} is not an RFC 3339 instant") from error
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=zone)
    return OneTimeSchedule(instant.astimezone(UTC), expression.strip())
