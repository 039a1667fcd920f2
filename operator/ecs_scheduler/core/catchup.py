"""Missed instants: after downtime or a stall, run only the latest one, within the deadline.

Like the CronJob controller: of all instants that came due while nobody fired them, only the
most recent may run, and only if it is no older than startingDeadlineSeconds. The rest are
counted (up to a cap, so a year of 1-second instants costs nothing) and reported.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from ecs_scheduler.core.schedule import Schedule

COUNT_CAP = 1000
"""Instants counted one by one; beyond this the count is reported as 'more than'."""


@dataclass(frozen=True)
class CatchUp:
    run: datetime | None
    """The instant to launch now, or None when the latest one is past its deadline."""
    latest: datetime
    """The latest instant that came due: the one run, or the one given up."""
    missed: int
    """Instants that came due and will never run."""
    capped: bool
    """True when `missed` stopped counting at COUNT_CAP."""
    next_due: datetime | None
    """The first instant after now."""


def _latest_due(schedule: Schedule, due: datetime, now: datetime) -> tuple[datetime, int, bool]:
    latest, count = due, 1
    while count <= COUNT_CAP:
        following = schedule.next_after(latest)
        if following is None or following > now:
            return latest, count, False
        latest, count = following, count + 1
    # Too many to walk: look back from now with a doubling window for the latest instant.
    window = timedelta(seconds=1)
    while True:
        probe = max(due, now - window)
        candidate = schedule.next_after(probe)
        if candidate is not None and candidate <= now:
            while (following := schedule.next_after(candidate)) is not None and following <= now:
                candidate = following
            return candidate, count, True
        if probe == due:
            return latest, count, True
        window *= 2


def catch_up(schedule: Schedule, due: datetime, now: datetime, deadline_seconds: int | None) -> CatchUp:
    """What to do at `now` with the instant `due` (<= now) and any that followed it."""
    latest, count, capped = _latest_due(schedule, due, now)
    next_due = schedule.next_after(latest)
    if deadline_seconds is not None and (now - latest).total_seconds() > deadline_seconds:
        return CatchUp(None, latest, count, capped, next_due)
    return CatchUp(latest, latest, count - 1, capped, next_due)
