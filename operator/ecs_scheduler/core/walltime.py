"""From local wall-clock times to instants, across daylight-saving transitions.

Rules, chosen so that no run is doubled or lost at a transition:
- a wall time skipped at spring-forward runs at the same distance after the gap (02:30 -> 03:30);
- a wall time that happens twice at fall-back runs once, at its first occurrence, unless the
  schedule runs every hour, in which case both real hours are runs of their own.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# No zone has moved its clocks by more than this at once; it bounds how far a wall time
# near a transition can map away from its naive position.
_MAX_SHIFT = timedelta(hours=3)

WallIterator = Callable[[datetime], Iterator[datetime]]
"""Given a naive wall time, yields the schedule's matching naive wall times strictly after it."""


def wall_to_instants(wall: datetime, zone: ZoneInfo, *, both_folds: bool) -> tuple[datetime, ...]:
    """The UTC instants at which a naive local wall time should fire."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return (first,)
    if first > second:  # a gap: fold=0 reads the wall with the offset before the jump
        return (first,)
    return (first, second) if both_folds else (first,)


def _in_gap(wall: datetime, zone: ZoneInfo) -> bool:
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC) > wall.replace(tzinfo=zone, fold=1).astimezone(
        UTC
    )


def next_instant(
    after: datetime, zone: ZoneInfo, walls: WallIterator, *, both_folds: bool
) -> datetime | None:
    """The first instant strictly after `after` at which one of the schedule's wall times fires."""
    local = after.astimezone(zone)
    start = local.replace(tzinfo=None)
    if (
        local.utcoffset() != (after - _MAX_SHIFT).astimezone(zone).utcoffset()
        or local.utcoffset() != (after + _MAX_SHIFT).astimezone(zone).utcoffset()
    ):
        start -= _MAX_SHIFT  # near a transition, earlier walls may fire later
    best: datetime | None = None
    for wall in walls(start):
        instants = wall_to_instants(wall, zone, both_folds=both_folds)
        for instant in instants:
            if instant > after and (best is None or instant < best):
                best = instant
        if best is not None and instants[0] > best and not _in_gap(wall, zone):
            break  # later walls can only map later than this one
    return best
