"""Five-field cron with Kubernetes CronJob's rules (robfig/cron v3), evaluated by croniter.

The expression is parsed here, not by croniter, so that the rules users of CronJob rely on
hold exactly and every error names its field:
- day-of-month and day-of-week are OR-ed when both are restricted, AND-ed when either is a
  bare `*` or `?` (a step such as `*/2` makes a field restricted);
- `N/step` means `N-max/step`; names (jan-dec, sun-sat) in month and day-of-week;
- `H`, `H/step`, `H(a-b)` and `H(a-b)/step` pick a stable per-job value (as in Jenkins).
croniter then walks naive wall-clock times from the expanded lists; `walltime` maps them to
instants across DST.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from croniter import CroniterBadDateError, croniter

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.hashing import stable_choice

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True)
class _Bounds:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_start: int = 0
    # Jenkins keeps hashed days of month within 1-28 so that every month has them.
    hash_high: int | None = None


_FIELDS = (
    _Bounds("minute", 0, 59),
    _Bounds("hour", 0, 23),
    _Bounds("day of month", 1, 31, hash_high=28),
    _Bounds("month", 1, 12, _MONTHS, 1),
    _Bounds("day of week", 0, 6, _DAYS, 0),
)

# ASCII only, like robfig/cron: Python's \w and \d also take Arabic-Indic, full-width and
# superscript digits.
_PART = re.compile(
    r"^(?:(?P<star>[*?])|(?P<hash>H)(?:\((?P<hlow>[A-Za-z0-9]+)-(?P<hhigh>[A-Za-z0-9]+)\))?"
    r"|(?P<low>[A-Za-z0-9]+)(?:-(?P<high>[A-Za-z0-9]+))?)(?:/(?P<step>[0-9]{1,4}))?$",
    re.ASCII,
)

# croniter gives up after this many years without a match. Five-field cron has no year and no
# week number, so a date that matches at all matches within 8 years (29 February, across a
# century that is not a leap year): the search is complete, not a horizon.
_SEARCH_YEARS = 10


@dataclass(frozen=True)
class CronField:
    """The values one field matches, and whether it was a bare wildcard (robfig's star bit)."""

    values: frozenset[int]
    star: bool

    def expanded(self, bounds: _Bounds) -> str:
        if self.star or self.values == frozenset(range(bounds.low, bounds.high + 1)):
            return "*"
        return ",".join(str(v) for v in sorted(self.values))


def _value(token: str, bounds: _Bounds, field: str) -> int:
    lowered = token.lower()
    if lowered in bounds.names:
        return bounds.names.index(lowered) + bounds.names_start
    if not (token.isascii() and token.isdigit()) or len(token) > 4:
        raise SpecError(field, f"{token[:20]!r} is not a valid {bounds.name} value")
    number = int(token)
    if not bounds.low <= number <= bounds.high:
        raise SpecError(field, f"{bounds.name} value {number} is outside {bounds.low}-{bounds.high}")
    return number


def _parse_part(part: str, bounds: _Bounds, identity: str, field: str, index: int) -> tuple[CronField, str]:
    """The values of one comma-separated part, and the part as written with H resolved."""
    match = _PART.match(part)
    if match is None:
        raise SpecError(field, f"cannot read {part[:40]!r} in the {bounds.name} field")
    step = int(match["step"]) if match["step"] else 1
    if step == 0:
        raise SpecError(field, f"step 0 in the {bounds.name} field")
    star = False
    if match["star"]:
        low, high, star = bounds.low, bounds.high, step == 1
    elif match["hash"]:
        if match["hlow"]:
            low, high = _value(match["hlow"], bounds, field), _value(match["hhigh"], bounds, field)
        else:
            low, high = bounds.low, bounds.hash_high or bounds.high
        if high < low:
            raise SpecError(field, f"range {low}-{high} is backwards in the {bounds.name} field")
        span = min(step, high - low + 1) if match["step"] else high - low + 1
        start = stable_choice(identity, f"cron:{index}:{part}", low, low + span - 1)
        if not match["step"]:
            return CronField(frozenset({start}), star=False), str(start)
        low = start
        part = f"{start}-{high}/{step}"
    else:
        low = _value(match["low"], bounds, field)
        if match["high"]:
            high = _value(match["high"], bounds, field)
        elif match["step"]:
            high = bounds.high  # robfig: "N/step" means "N-max/step"
        else:
            high = low
        if high < low:
            raise SpecError(field, f"range {low}-{high} is backwards in the {bounds.name} field")
    return CronField(frozenset(range(low, high + 1, step)), star=star), part


@dataclass(frozen=True)
class CronExpression:
    """A parsed five-field expression with every H resolved."""

    fields: tuple[CronField, ...]
    resolved_text: str

    @property
    def days_or(self) -> bool:
        """robfig: day-of-month and day-of-week are OR-ed only when both are restricted."""
        return not (self.fields[2].star or self.fields[4].star)

    @property
    def every_hour(self) -> bool:
        return self.fields[1].values == frozenset(range(24))

    def resolved(self) -> str:
        return self.resolved_text

    def _croniter_expression(self) -> str:
        parts = [f.expanded(b) for f, b in zip(self.fields, _FIELDS, strict=True)]
        if self.days_or and "*" in (parts[2], parts[4]):
            parts[2] = parts[4] = "*"  # OR with a full field matches every day
        return " ".join(parts)

    def walls_after(self, start: datetime) -> Iterator[datetime]:
        """Matching naive wall times strictly after `start`, in order."""
        walker = croniter(
            self._croniter_expression(),
            start,
            day_or=self.days_or,
            max_years_between_matches=_SEARCH_YEARS,
        )
        while True:
            try:
                yield walker.get_next(datetime)
            except CroniterBadDateError:
                return


def parse_cron(expression: str, *, identity: str, field: str = "spec.schedule") -> CronExpression:
    """Parse a five-field expression or macro; `identity` seeds H."""
    text = MACROS.get(expression.strip().lower(), expression.strip())
    parts = text.split()
    if len(parts) != 5:
        raise SpecError(
            field, f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}"
        )
    fields: list[CronField] = []
    resolved: list[str] = []
    for index, (text_field, bounds) in enumerate(zip(parts, _FIELDS, strict=True)):
        pieces = [_parse_part(p, bounds, identity, field, index) for p in text_field.split(",")]
        values = frozenset().union(*(piece.values for piece, _ in pieces))
        fields.append(CronField(values, star=any(piece.star for piece, _ in pieces)))
        resolved.append(",".join(text for _, text in pieces))
    return CronExpression(tuple(fields), " ".join(resolved))
