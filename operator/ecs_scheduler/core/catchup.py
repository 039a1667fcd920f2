"""Missed instants: after downtime or a stall, run only the latest one, within the deadline.

Like the CronJob controller: of all instants that came due while nobody fired them, only the
most recent may run, and only if it is no older than startingDeadlineSeconds. The rest are
counted (up to a small cap, like the CronJob controller's) and reported. Finding the latest
instant never walks the gap: it probes back from now with a doubling window, so a job that
was down for a year costs a few dozen steps, not millions (this runs for every job at resume).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from ecs_scheduler.core.schedule import Schedule

COUNT_CAP = 10
"""Instants counted one by one; beyond this the count is reported as 'more than'."""

MIN_SPACING = timedelta(seconds=1)
"""No schedule fires twice within a second: calendars fire on whole seconds and intervals are
at least 1 s long."""


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


def _latest_due(
    schedule: Schedule, due: datetime, now: datetime
) -> tuple[datetime, int, bool, datetime | None]:
    """(latest instant <= now, instants counted, whether counting stopped at the cap, the next one)."""
    latest, count = due, 1
    while count <= COUNT_CAP:
        following = schedule.next_after(latest)
        if following is None or following > now:
            return latest, count, False, following
        latest, count = following, count + 1
    # Too many to walk: look back from now with a doubling window for the latest instant.
    window = timedelta(seconds=1)
    while True:
        probe = max(due, now - window)
        candidate = schedule.next_after(probe)
        if candidate is not None and candidate <= now:
            while (following := schedule.next_after(candidate)) is not None and following <= now:
                candidate = following
            return candidate, count, True, following
        if probe == due:
            return latest, count, True, schedule.next_after(latest)
        window *= 2


def catch_up(schedule: Schedule, due: datetime, now: datetime, deadline_seconds: int | None) -> CatchUp:
    """What to do at `now` with the instant `due` (<= now) and any that followed it."""
    latest, count, capped, next_due = _latest_due(schedule, due, now)
    if deadline_seconds is not None and (now - latest).total_seconds() > deadline_seconds:
        return CatchUp(None, latest, count, capped, next_due)
    return CatchUp(latest, latest, count - 1, capped, next_due)


def on_time(due: datetime, now: datetime, deadline_seconds: int | None) -> bool:
    """True when `catch_up` would simply run `due`: no later instant can have come due yet and
    the deadline holds. Answered without computing the schedule, so the fires of a burst can
    send RunTask before any next instant is worked out."""
    late = now - due
    return late < MIN_SPACING and (deadline_seconds is None or late.total_seconds() <= deadline_seconds)
