"""Differential test: our cron engine (own parser + croniter) against an independent reference.

The reference below shares no code with the engine: it builds each field's values from the
*structure* the generator chose (never by parsing text), applies robfig/cron v3's rules as
Kubernetes CronJob does (day-of-month and day-of-week OR-ed unless either is a bare `*`/`?`;
`N/step` means `N-max/step`), walks local days itself, and maps wall times to instants by
probing UTC offsets rather than by `fold`. Only the documented DST policy is shared: a skipped
wall time runs shifted forward by the gap, a repeated one runs once unless every hour matches.
"""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ecs_scheduler.core.validation import validate_spec

SEED = 20261122
CASES = 2500
ZONES = [
    "UTC", "America/New_York", "Europe/London", "Europe/Paris", "Australia/Lord_Howe",
    "Asia/Kolkata", "America/Sao_Paulo", "Pacific/Chatham", "America/Santiago",
]  # fmt: skip
BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# Start instants near transitions of the zones above, so DST is exercised on purpose.
DST_STARTS = [
    datetime(2026, 3, 8, 5, 50, tzinfo=UTC), datetime(2026, 11, 1, 4, 50, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    datetime(2026, 4, 4, 14, 45, tzinfo=UTC), datetime(2026, 10, 3, 15, 10, tzinfo=UTC),
    datetime(2026, 4, 4, 13, 30, tzinfo=UTC), datetime(2026, 9, 26, 13, 30, tzinfo=UTC),
    datetime(2026, 4, 5, 2, 30, tzinfo=UTC), datetime(2026, 9, 6, 3, 30, tzinfo=UTC),
]  # fmt: skip


@dataclass(frozen=True)
class Part:
    kind: str  # "star", "value", "range"
    low: int = 0
    high: int = 0
    step: int = 1
    named: bool = False
    question: bool = False


def render(part: Part, field: int) -> str:
    def token(v: int) -> str:
        if part.named and field == 3:
            return MONTHS[v - 1]
        if part.named and field == 4:
            return DAYS[v]
        return str(v)

    if part.kind == "star":
        text = "?" if part.question else "*"
    elif part.kind == "value" or part.kind == "open":
        text = token(part.low)
    else:
        text = f"{token(part.low)}-{token(part.high)}"
    return text + (f"/{part.step}" if part.step != 1 or part.kind == "open" else "")


def reference_values(part: Part, field: int) -> tuple[set[int], bool]:
    low, high = BOUNDS[field]
    if part.kind == "star":
        return set(range(low, high + 1, part.step)), part.step == 1
    if part.kind == "value":
        return {part.low}, False
    if part.kind == "open":
        return set(range(part.low, high + 1, part.step)), False
    return set(range(part.low, part.high + 1, part.step)), False


def random_part(rng: random.Random, field: int) -> Part:
    low, high = BOUNDS[field]
    named = field in (3, 4) and rng.random() < 0.3
    roll = rng.random()
    if roll < 0.25:
        return Part(
            "star", step=rng.choice([1, 1, 2, 3, 5, 7, 15]), question=field in (2, 4) and rng.random() < 0.3
        )
    if roll < 0.55:
        return Part("value", rng.randint(low, high), named=named)
    if roll < 0.65:
        return Part(
            "open", rng.randint(low, high), step=rng.randint(1, max(1, (high - low) // 2)), named=named
        )
    a = rng.randint(low, high)
    b = a if rng.random() < 0.15 else rng.randint(a, high)  # single-value ranges too
    return Part("range", a, b, step=rng.choice([1, 1, 1, 2, 3]), named=named)


def random_field(rng: random.Random, field: int) -> list[Part]:
    if field in (2, 3, 4) and rng.random() < 0.5:
        return [Part("star")]
    return [random_part(rng, field) for _ in range(rng.choice([1, 1, 1, 2, 3]))]


class Reference:
    def __init__(self, fields: list[list[Part]], zone: ZoneInfo) -> None:
        self.sets: list[set[int]] = []
        self.stars: list[bool] = []
        for index, parts in enumerate(fields):
            values: set[int] = set()
            star = False
            for part in parts:
                v, s = reference_values(part, index)
                values |= v
                star |= s
            self.sets.append(values)
            self.stars.append(star)
        self.zone = zone
        self._steady: dict[date, timedelta | None] = {}
        self.every_hour = self.sets[1] == set(range(24))

    def day_matches(self, day: date) -> bool:
        if day.month not in self.sets[3]:
            return False
        dom = day.day in self.sets[2]
        dow = (day.weekday() + 1) % 7 in self.sets[4]
        if self.stars[2] or self.stars[4]:
            return dom and dow
        return dom or dow

    def instants(self, wall: datetime) -> list[datetime]:
        steady = self._steady_day(wall.date())
        if steady is not None:
            return [(wall - steady).replace(tzinfo=UTC)]
        guesses = {self.zone.utcoffset(wall + d) for d in (timedelta(days=-1), timedelta(days=1))}
        guesses |= {
            (wall - timedelta(hours=h)).replace(tzinfo=UTC).astimezone(self.zone).utcoffset()
            for h in range(-3, 4)
        }
        found = sorted(
            {
                (wall - offset).replace(tzinfo=UTC)
                for offset in guesses
                if offset is not None
                and (wall - offset).replace(tzinfo=UTC).astimezone(self.zone).replace(tzinfo=None) == wall
            }
        )
        if not found:  # skipped at spring-forward: shift forward by the gap, with the offset before it
            before = self.zone.utcoffset(wall - timedelta(days=1))
            assert before is not None
            return [(wall - before).replace(tzinfo=UTC)]
        return found if self.every_hour else found[:1]

    def _steady_day(self, day: date) -> timedelta | None:
        """The zone's offset if it does not change from a day before to a day after `day`."""
        if day not in self._steady:
            probe = datetime(day.year, day.month, day.day, tzinfo=UTC)
            offsets = {
                (probe + timedelta(minutes=m)).astimezone(self.zone).utcoffset()
                for m in range(-1440, 2881, 30)
            }
            self._steady[day] = offsets.pop() if len(offsets) == 1 else None
        return self._steady[day]

    def next_after(self, after: datetime) -> datetime | None:
        floor = after.astimezone(self.zone).replace(tzinfo=None) - timedelta(hours=4)
        day = after.astimezone(self.zone).date() - timedelta(days=1)
        best: datetime | None = None
        last_day = day + timedelta(days=366 * 10)
        while day <= last_day:
            if best is not None and datetime.combine(day, datetime.min.time()).replace(
                tzinfo=UTC
            ) > best + timedelta(days=2):
                return best
            if self.day_matches(day):
                for hour in sorted(self.sets[1]):
                    for minute in sorted(self.sets[0]):
                        wall = datetime(day.year, day.month, day.day, hour, minute)
                        if wall < floor or (
                            best is not None and wall.replace(tzinfo=UTC) > best + timedelta(days=1)
                        ):
                            continue  # cannot beat what we have: a wall is within a day of its instant
                        for instant in self.instants(wall):
                            if instant > after and (best is None or instant < best):
                                best = instant
            day += timedelta(days=1)
        return best


def corpus() -> list[tuple[str, Reference, datetime]]:
    rng = random.Random(SEED)
    cases = []
    for index in range(CASES):
        fields = [random_field(rng, f) for f in range(5)]
        expression = " ".join(",".join(render(p, f) for p in parts) for f, parts in enumerate(fields))
        zone = ZoneInfo(rng.choice(ZONES))
        if index % 3 == 0:
            start = rng.choice(DST_STARTS) + timedelta(minutes=rng.randint(-90, 90))
        else:
            start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 4 * 365 * 86400))
        cases.append((expression, Reference(fields, zone), start))
    return cases


def test_engine_agrees_with_the_reference() -> None:
    disagreements = []
    compared = 0
    for expression, reference, start in corpus():
        expected = []
        instant: datetime | None = start
        for _ in range(3):
            instant = reference.next_after(instant) if instant else None
            expected.append(instant)
        spec = {"taskDefinition": "t", "schedule": expression, "timeZone": reference.zone.key}
        try:
            job = validate_spec(spec, identity="ns/diff", now=start)
        except Exception as error:  # an expression the reference can fire must be accepted
            if expected[0] is not None:
                disagreements.append((expression, reference.zone.key, start, f"rejected: {error}"))
            continue
        actual = []
        instant = start
        for _ in range(3):
            instant = job.schedule.next_after(instant) if instant else None
            actual.append(instant)
        compared += 1
        if actual != expected:
            disagreements.append((expression, reference.zone.key, start, actual, expected))
    assert compared > CASES * 0.9
    assert disagreements == [], f"{len(disagreements)} disagreements, first: {disagreements[:3]}"


@pytest.mark.parametrize("expression", ["0 0 13 * fri", "*/5 * * * *", "0 12 */2 * mon", "? * * * ?"])
def test_reference_sanity(expression: str) -> None:
    """The reference itself is checked on hand-computed cases, so a shared mistake shows up."""
    fields = {
        "0 0 13 * fri": [[Part("value", 0)], [Part("value", 0)], [Part("value", 13)], [Part("star")], [Part("value", 5)]],
        "*/5 * * * *": [[Part("star", step=5)], [Part("star")], [Part("star")], [Part("star")], [Part("star")]],
        "0 12 */2 * mon": [[Part("value", 0)], [Part("value", 12)], [Part("star", step=2)], [Part("star")], [Part("value", 1)]],
        "? * * * ?": [[Part("star", question=True)], [Part("star")], [Part("star", question=True)], [Part("star")], [Part("star")]],
    }[expression]  # fmt: skip
    reference = Reference(fields, ZoneInfo("UTC"))
    start = datetime(2026, 11, 22, 5, 0, 30, tzinfo=UTC)  # Sunday
    expected = {
        "0 0 13 * fri": datetime(2026, 11, 27, tzinfo=UTC),
        "*/5 * * * *": datetime(2026, 11, 22, 5, 5, tzinfo=UTC),
        "0 12 */2 * mon": datetime(
            2026, 11, 23, 12, tzinfo=UTC
        ),  # Monday 23rd (odd days of month: 23 is one too)
        "? * * * ?": datetime(2026, 11, 22, 5, 1, tzinfo=UTC),
    }[expression]
    assert reference.next_after(start) == expected
