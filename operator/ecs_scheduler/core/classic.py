"""The classic ECS Scheduler syntax: `second minute hour day_of_week week day month year`.

Fields on the right may be omitted (they mean `*`). Each field follows APScheduler's cron
expressions, which the classic scheduler handed to APScheduler unchanged:
`*`, `*/step`, `a`, `a-b`, `a-b/step`, `a/step`, comma lists; in `day`, `last`, `xth y` and
`last y` (written `xth_y` because spaces separate fields); names mon-sun (mon=0) and jan-dec.
All fields are AND-ed. `?` in second, minute or hour stands for a value chosen for the job.
"""

import bisect
import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.hashing import stable_choice
from ecs_scheduler.model.limits import FIRST_YEAR, LAST_YEAR

FIELD_NAMES = ("second", "minute", "hour", "day_of_week", "week", "day", "month", "year")
_BOUNDS = {
    "second": (0, 59),
    "minute": (0, 59),
    "hour": (0, 23),
    "day_of_week": (0, 6),
    "week": (1, 53),
    "day": (1, 31),
    "month": (1, 12),
    "year": (FIRST_YEAR, LAST_YEAR),
}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_RANDOM_CHOICE_FIELDS = ("second", "minute", "hour")
_POSITIONS = ("1st", "2nd", "3rd", "4th", "5th", "last")
# ASCII only: Python's \w and \d also take Arabic-Indic, full-width and superscript digits.
_RANGE = re.compile(
    r"^(?:(?P<star>\*)|(?P<first>[A-Za-z0-9]+)(?:-(?P<last>[A-Za-z0-9]+))?)(?:/(?P<step>[0-9]{1,5}))?$",
    re.ASCII,
)
_POSITION = re.compile(r"^(?P<position>1st|2nd|3rd|4th|5th|last)[ _](?P<weekday>[a-z0-9]+)$", re.ASCII)
_CYCLE_YEARS = 400
"""The Gregorian calendar repeats every 400 years (146,097 days, exactly 20,871 weeks): a year
and the year 400 later have the same weekdays, ISO weeks and month lengths."""
_CYCLE_BASE = 2000


def _number(token: str, name: str, field: str) -> int:
    lowered = token.lower()
    if name == "day_of_week" and lowered in _WEEKDAYS:
        return _WEEKDAYS.index(lowered)
    if name == "month" and lowered in _MONTHS:
        return _MONTHS.index(lowered) + 1
    if not (token.isascii() and token.isdigit()) or len(token) > 4:
        raise SpecError(field, f"{token[:20]!r} is not a valid {name} value")
    low, high = _BOUNDS[name]
    value = int(token)
    if not low <= value <= high:
        raise SpecError(field, f"{name} value {value} is outside {low}-{high}")
    return value


@lru_cache(maxsize=4096)
def _range_values(part: str, name: str, field: str) -> frozenset[int]:
    # Cached: the value sets are immutable, so jobs share them. Without this, every job kept
    # its own set of all the years a `*` allows, and 10,000 jobs took gigabytes.
    match = _RANGE.match(part)
    if match is None:
        raise SpecError(field, f"cannot read {part[:40]!r} in the {name} field")
    low, high = _BOUNDS[name]
    step = int(match["step"]) if match["step"] else 1
    if step == 0:
        raise SpecError(field, f"step 0 in the {name} field")
    if not match["star"]:
        first = _number(match["first"], name, field)
        last = _number(match["last"], name, field) if match["last"] else (high if match["step"] else first)
        if last < first:
            raise SpecError(field, f"range {first}-{last} is backwards in the {name} field")
        low, high = first, last
    return frozenset(range(low, high + 1, step))


@dataclass(frozen=True)
class _DaySpec:
    """The `day` field: plain days plus month-relative expressions (last, xth weekday)."""

    days: frozenset[int]
    last_day: bool
    positions: tuple[tuple[str, int], ...]

    def matches(self, year: int, month: int) -> frozenset[int]:
        return _days_in(self, year, month)


@lru_cache(maxsize=4096)
def _days_in(spec: _DaySpec, year: int, month: int) -> frozenset[int]:
    first_weekday, length = calendar.monthrange(year, month)
    days = {d for d in spec.days if d <= length}
    if spec.last_day:
        days.add(length)
    for position, weekday in spec.positions:
        first = 1 + (weekday - first_weekday) % 7
        occurrences = list(range(first, length + 1, 7))
        if position == "last":
            days.add(occurrences[-1])
        else:
            index = _POSITIONS.index(position)
            if index < len(occurrences):
                days.add(occurrences[index])
    return frozenset(days)


def _parse_day(text: str, field: str) -> _DaySpec:
    days: set[int] = set()
    last_day = False
    positions: list[tuple[str, int]] = []
    for part in text.split(","):
        lowered = part.lower()
        position = _POSITION.match(lowered)
        if lowered == "last":
            last_day = True
        elif position:
            positions.append((position["position"], _number(position["weekday"], "day_of_week", field)))
        else:
            days |= _range_values(part, "day", field)
    return _DaySpec(frozenset(days), last_day, tuple(positions))


@dataclass(frozen=True)
class ClassicSchedule:
    """A parsed classic expression with every `?` resolved."""

    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    weekdays: frozenset[int]
    weeks: frozenset[int]
    day: _DaySpec
    months: frozenset[int]
    years: frozenset[int]
    resolved_text: str

    @property
    def every_hour(self) -> bool:
        return len(self.hours) == 24

    def resolved(self) -> str:
        return self.resolved_text

    def _day_matches(self, day: date) -> bool:
        return (
            day.weekday() in self.weekdays
            and day.isocalendar().week in self.weeks
            and day.day in self.day.matches(day.year, day.month)
        )

    def _times_from(self, earliest: time) -> Iterator[time]:
        """Times of day at or after `earliest`, skipping whole hours and minutes before it."""
        for hour in self.hours:
            if hour < earliest.hour:
                continue
            same_hour = hour == earliest.hour
            for minute in self.minutes:
                if same_hour and minute < earliest.minute:
                    continue
                same_minute = same_hour and minute == earliest.minute
                for second in self.seconds:
                    if same_minute and second < earliest.second:
                        continue
                    yield time(hour, minute, second)

    def walls_after(self, start: datetime) -> Iterator[datetime]:
        """Matching naive wall times strictly after `start`, in order, up to the year 9999.

        Years whose calendar cannot match are skipped whole (decided once per year of the
        400-year cycle), so a schedule that never fires is known after at most 400 years' worth
        of day checks, and one whose year is far ahead is found at once."""
        years = self.sorted_years
        for position in range(bisect.bisect_left(years, start.year), len(years)):
            year = years[position]
            if not _year_can_match(self.weekdays, self.weeks, self.day, self.months, year):
                continue
            day = start.date() if year == start.year else date(year, 1, 1)
            while day.year == year:
                if day.month not in self.months:
                    if day.month == 12:
                        break
                    day = date(year, day.month + 1, 1)
                    continue
                if self._day_matches(day):
                    earliest = start.time() if day == start.date() else time()
                    for moment in self._times_from(earliest):
                        wall = datetime.combine(day, moment)
                        if wall > start:
                            yield wall
                if day == date.max:
                    return
                day += timedelta(days=1)

    @property
    def sorted_years(self) -> tuple[int, ...]:
        return _sorted(self.years)


@lru_cache(maxsize=4096)
def _sorted(values: frozenset[int]) -> tuple[int, ...]:
    return tuple(sorted(values))


@lru_cache(maxsize=65536)
def _year_can_match(
    weekdays: frozenset[int], weeks: frozenset[int], day: _DaySpec, months: frozenset[int], year: int
) -> bool:
    """Whether any date of `year` matches the day fields; computed on the year of the cycle."""
    same = _CYCLE_BASE + (year - _CYCLE_BASE) % _CYCLE_YEARS
    if same != year:
        return _year_can_match(weekdays, weeks, day, months, same)
    for month in sorted(months):
        for number in sorted(day.matches(year, month)):
            candidate = date(year, month, number)
            if candidate.weekday() in weekdays and candidate.isocalendar().week in weeks:
                return True
    return False


def parse_classic(expression: str, *, identity: str, field: str = "spec.schedule") -> ClassicSchedule:
    """Parse the classic syntax; `identity` seeds the `?` choices."""
    parts = expression.split()
    if not parts or len(parts) > len(FIELD_NAMES):
        raise SpecError(field, f"expected 1 to 8 fields ({' '.join(FIELD_NAMES)}), got {len(parts)}")
    parts += ["*"] * (len(FIELD_NAMES) - len(parts))
    values: dict[str, frozenset[int]] = {}
    resolved: list[str] = []
    for name, text in zip(FIELD_NAMES, parts, strict=True):
        if text == "?":
            if name not in _RANDOM_CHOICE_FIELDS:
                raise SpecError(field, f"'?' is only allowed in second, minute and hour, not in {name}")
            low, high = _BOUNDS[name]
            text = str(stable_choice(identity, f"classic:{name}", low, high))
        resolved.append(text)
        if name != "day":
            sets = [_range_values(p, name, field) for p in text.split(",")]
            values[name] = sets[0] if len(sets) == 1 else frozenset().union(*sets)
    return ClassicSchedule(
        seconds=tuple(sorted(values["second"])),
        minutes=tuple(sorted(values["minute"])),
        hours=tuple(sorted(values["hour"])),
        weekdays=values["day_of_week"],
        weeks=values["week"],
        day=_parse_day(resolved[5], field),
        months=values["month"],
        years=values["year"],
        resolved_text=" ".join(resolved),
    )
