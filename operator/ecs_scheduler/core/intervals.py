"""Schedules that are not calendars: `@every <duration>`, `rate(...)` and one-time `at(...)`.

Intervals are anchored (at scheduleStart, else the Unix epoch) rather than at the moment the
operator saw the job, so every replica and every restart agrees on the same instants.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.model.limits import FIRST_YEAR, LAST_YEAR, MAX_DURATION_DIGITS, MAX_INTERVAL_SECONDS

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# ASCII digits only (Arabic-Indic and full-width digits are digits to Python), and no more of them than a bounded
# interval can use, so no number here is ever too large for the calendar.
_NUMBER = rf"([0-9]{{1,{MAX_DURATION_DIGITS}}})"
_DURATION_PART = re.compile(rf"{_NUMBER}(h|m|s)", re.ASCII)
_RATE = re.compile(rf"^rate\(\s*{_NUMBER}\s+(minute|minutes|hour|hours|day|days)\s*\)$", re.ASCII)
_AT = re.compile(r"^at\(\s*(.+?)\s*\)$")
_TOO_LONG = f"the interval may be at most {MAX_INTERVAL_SECONDS // 86400} days"
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
        try:
            return self.anchor + periods * self.period
        except OverflowError:  # past the end of the calendar: no further instant
            return None

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
        raise SpecError(field, f"cannot read duration {text[:40]!r}; use forms like 30s, 5m, 1h30m")
    if seconds < 1:
        raise SpecError(field, "the interval must be at least 1s")
    if seconds > MAX_INTERVAL_SECONDS:
        raise SpecError(field, _TOO_LONG)
    return timedelta(seconds=seconds)


def parse_every(expression: str, *, anchor: datetime | None, field: str) -> IntervalSchedule:
    duration = parse_duration(expression.removeprefix("@every").strip(), field)
    return IntervalSchedule(duration, anchor or EPOCH, expression.strip())


def parse_rate(expression: str, *, anchor: datetime | None, field: str) -> IntervalSchedule:
    match = _RATE.match(expression.strip())
    if match is None:
        raise SpecError(field, f"cannot read {expression[:40]!r}; use rate(<n> minutes|hours|days)")
    count = int(match[1])
    if count < 1:
        raise SpecError(field, "the rate must be at least 1")
    seconds = count * _RATE_UNITS[match[2].removesuffix("s")]
    if seconds > MAX_INTERVAL_SECONDS:
        raise SpecError(field, _TOO_LONG)
    return IntervalSchedule(timedelta(seconds=seconds), anchor or EPOCH, expression.strip())


def parse_at(expression: str, *, zone: ZoneInfo, field: str) -> OneTimeSchedule:
    """`at(2026-12-01T09:00:00Z)`; without an offset the time is read in the job's time zone."""
    match = _AT.match(expression.strip())
    if match is None:
        raise SpecError(field, f"cannot read {expression[:40]!r}; use at(<RFC 3339 instant>)")
    text = match[1]
    try:
        if not text.isascii():
            raise ValueError("not ASCII")
        instant = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as error:
        raise SpecError(field, f"{text[:40]!r} is not an RFC 3339 instant") from error
    if not FIRST_YEAR <= instant.year <= LAST_YEAR:
        # The same horizon as the EcsScheduler year field: the calendar ends with LAST_YEAR.
        raise SpecError(field, f"the instant must be in the years {FIRST_YEAR}-{LAST_YEAR}")
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=zone)
    return OneTimeSchedule(instant.astimezone(UTC), expression.strip())
